/* The loss and gradient formulas, inline, so every caller in the core rounds exactly alike. */
#ifndef GDLAB_CORE_QUADRATIC_H
#define GDLAB_CORE_QUADRATIC_H

#include "gdlab/moments.h"

/* r0 = y_mean - w*x_mean - b: the mean residual y - (b + w*x), negated error of the intercept. */
static inline double quad_r0(const struct gd_moments *m, double b, double w)
{
    return m->y_mean - w * m->x_mean - b;
}

/* L = L* + cxx*(w - w*)^2 + r0^2 */
static inline double quad_loss(const struct gd_moments *m, double r0, double w)
{
    double dw = w - m->w_opt;
    return m->loss_opt + m->cxx * dw * dw + r0 * r0;
}

/* dL/dw = 2*cxx*(w - w*) - 2*x_mean*r0  (dL/db is simply -2*r0) */
static inline double quad_grad_w(const struct gd_moments *m, double r0, double w)
{
    return 2.0 * m->cxx * (w - m->w_opt) - 2.0 * m->x_mean * r0;
}

#endif
