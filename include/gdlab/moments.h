/* The MSE of a linear model as a quadratic in (b, w), from centered moments of one split. */
#ifndef GDLAB_MOMENTS_H
#define GDLAB_MOMENTS_H

#include <stddef.h>

/* Population moments of (x, y) over one split, cxx = mean((x - x_mean)^2) and so on, plus the
 * least-squares slope and residual so that the loss can be written without cancellation. */
struct gd_moments {
    size_t n;
    double x_mean;
    double y_mean;
    double cxx;
    double cxy;
    double cyy;
    double w_opt;    /* w* = cxy / cxx (0 when cxx is 0) */
    double loss_opt; /* L* = mean((dy - w* dx)^2), the smallest loss, from a residual pass */
};

/* Moments of x[idx[k]], y[idx[k]] for k < n (idx NULL: the first n); three compensated passes. */
int gd_moments_compute(struct gd_moments *m, const double *x, const double *y, const size_t *idx,
                       size_t n);

/* L(b, w) = mean((b + w*x - y)^2) = L* + cxx*(w - w*)^2 + r0^2 with r0 = y_mean - w*x_mean - b:
 * cyy - 2w*cxy + w^2*cxx + r0^2 with the square completed, a sum of non-negative terms. */
double gd_loss(const struct gd_moments *m, double b, double w);

/* dL/db = -2*r0 and dL/dw = 2*cxx*(w - w*) - 2*x_mean*r0; either out-pointer may be NULL. */
void gd_gradient(const struct gd_moments *m, double b, double w, double *grad_b, double *grad_w);

/* The per-sample definition mean((b + w*x - y)^2), O(n): the reference the tests hold gd_loss to.
 */
double gd_loss_direct(const double *x, const double *y, const size_t *idx, size_t n, double b,
                      double w);

/* The per-sample gradient 2*mean(e), 2*mean(x*e) with e = b + w*x - y; the tests' reference. */
void gd_gradient_direct(const double *x, const double *y, const size_t *idx, size_t n, double b,
                        double w, double *grad_b, double *grad_w);

#endif
