/* Feature scaling fitted on the training split only, as scikit-learn's scalers do it. */
#ifndef GDLAB_SCALE_H
#define GDLAB_SCALE_H

#include <stddef.h>

enum gd_scaler_kind {
    GD_SCALER_NONE,
    GD_SCALER_STANDARD, /* (x - mean) / std, population std, like StandardScaler */
    GD_SCALER_MINMAX    /* x*scale + offset onto [0, 1], like MinMaxScaler */
};

/* A fitted scaler. A constant feature gets std 1 (standard) or range 1 (min-max), as sklearn does.
 */
struct gd_scaler {
    enum gd_scaler_kind kind;
    double mean;  /* standard: the training mean */
    double std;   /* standard: the population standard deviation, or 1 for a constant feature */
    double min;   /* min-max: the training minimum */
    double max;   /* min-max: the training maximum */
    double scale; /* min-max: 1 / (max - min), or 1 for a zero range */
};

/* Fit on x[idx[k]] for k < n (idx NULL: the first n). */
int gd_scaler_fit(struct gd_scaler *s, enum gd_scaler_kind kind, const double *x, const size_t *idx,
                  size_t n);

/* out[i] = the scaled in[i]; in and out may be the same array. */
void gd_scaler_apply(const struct gd_scaler *s, const double *in, double *out, size_t n);

/* "none", "standard" or "minmax". */
const char *gd_scaler_name(enum gd_scaler_kind kind);

#endif
