/*
 * Feature scaling as scikit-learn 1.2 does it, fitted on the training split only:
 *
 *   StandardScaler: mean = sum(x)/n, var = (sum((x - mean)^2) - sum(x - mean)^2/n) / n (population,
 *                   corrected two-pass), std = sqrt(var), or 1 when the feature is constant, i.e.
 *                   var <= n*eps*var + (n*mean*eps)^2; transform (x - mean) / std.
 *   MinMaxScaler:   scale = 1 / (max - min), or 1 when max - min < 10*eps; transform x*scale +
 * offset with offset = 0 - min*scale.
 */
#include "gdlab/scale.h"

#include <float.h>
#include <math.h>
#include <stdbool.h>

#include "gdlab/status.h"

static inline size_t at(const size_t *idx, size_t k)
{
    return idx ? idx[k] : k;
}

/* Compensated (TwoSum) accumulation, so scaling statistics are accurate to the last bits. */
static double comp_sum_indexed(const double *x, const size_t *idx, size_t n, double shift,
                               bool square)
{
    double sum = 0.0, err = 0.0;
    for (size_t k = 0; k < n; k++) {
        double v = x[at(idx, k)] - shift;
        if (square)
            v *= v;
        double t = sum + v;
        double bp = t - sum;
        err += (sum - (t - bp)) + (v - bp);
        sum = t;
    }
    return sum + err;
}

static int fit_standard(struct gd_scaler *s, const double *x, const size_t *idx, size_t n)
{
    double dn = (double)n;
    double mean = comp_sum_indexed(x, idx, n, 0.0, false) / dn;
    double correction = comp_sum_indexed(x, idx, n, mean, false);
    double var = (comp_sum_indexed(x, idx, n, mean, true) - correction * correction / dn) / dn;
    if (!isfinite(mean) || !isfinite(var))
        return GD_ENONFINITE;
    double upper_bound =
        dn * DBL_EPSILON * var + (dn * mean * DBL_EPSILON) * (dn * mean * DBL_EPSILON);
    s->mean = mean;
    s->std = var <= upper_bound ? 1.0 : sqrt(var);
    return GD_OK;
}

static int fit_minmax(struct gd_scaler *s, const double *x, const size_t *idx, size_t n)
{
    double lo = x[at(idx, 0)], hi = lo;
    for (size_t k = 1; k < n; k++) {
        double v = x[at(idx, k)];
        if (!isfinite(v)) /* a NaN would slip through both comparisons below */
            return GD_ENONFINITE;
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
    }
    double range = hi - lo;
    if (!isfinite(lo) || !isfinite(hi) || !isfinite(range))
        return GD_ENONFINITE;
    s->min = lo;
    s->max = hi;
    s->scale = 1.0 / (range < 10.0 * DBL_EPSILON ? 1.0 : range);
    return GD_OK;
}

int gd_scaler_fit(struct gd_scaler *s, enum gd_scaler_kind kind, const double *x, const size_t *idx,
                  size_t n)
{
    if (!s || (kind != GD_SCALER_NONE && (!x || n == 0)))
        return GD_EINVAL;
    *s = (struct gd_scaler){
        .kind = kind, .mean = 0.0, .std = 1.0, .min = 0.0, .max = 1.0, .scale = 1.0};
    switch (kind) {
    case GD_SCALER_NONE:
        return GD_OK;
    case GD_SCALER_STANDARD:
        return fit_standard(s, x, idx, n);
    case GD_SCALER_MINMAX:
        return fit_minmax(s, x, idx, n);
    }
    return GD_EINVAL;
}

void gd_scaler_apply(const struct gd_scaler *s, const double *in, double *out, size_t n)
{
    switch (s->kind) {
    case GD_SCALER_NONE:
        if (in != out)
            for (size_t i = 0; i < n; i++)
                out[i] = in[i];
        break;
    case GD_SCALER_STANDARD:
        for (size_t i = 0; i < n; i++)
            out[i] = (in[i] - s->mean) / s->std;
        break;
    case GD_SCALER_MINMAX: {
        double offset = 0.0 - s->min * s->scale;
        for (size_t i = 0; i < n; i++)
            out[i] = in[i] * s->scale + offset;
        break;
    }
    }
}

const char *gd_scaler_name(enum gd_scaler_kind kind)
{
    switch (kind) {
    case GD_SCALER_NONE:
        return "none";
    case GD_SCALER_STANDARD:
        return "standard";
    case GD_SCALER_MINMAX:
        return "minmax";
    }
    return "unknown";
}
