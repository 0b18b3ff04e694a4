/* A dataset made ready for the loss: scaled as asked, with the moments of both splits. */
#ifndef GDLAB_PROBLEM_H
#define GDLAB_PROBLEM_H

#include "gdlab/dataset.h"
#include "gdlab/moments.h"
#include "gdlab/scale.h"

/* Borrows its dataset; owns the scaled feature. */
struct gd_problem {
    const struct gd_dataset *data;
    struct gd_scaler scaler;
    double *x; /* the feature the model sees, generation order (data->x if unscaled) */
    struct gd_moments train; /* moments of (x, y) over the training split */
    struct gd_moments val;   /* and over the validation split */
};

/* Fit the scaler on the training split, scale both splits, and take the moments; NULL on error
 * with *status set (GD_ENOMEM, GD_EINVAL). */
struct gd_problem *gd_problem_new(const struct gd_dataset *data, enum gd_scaler_kind kind,
                                  int *status);

/* Release a problem (not its dataset); NULL is fine. */
void gd_problem_free(struct gd_problem *p);

#endif
