/*
 * The MSE of y ~ b + w*x is a quadratic in (b, w) whose coefficients are a few moments of the data.
 * With dx = x - x_mean, dy = y - y_mean and e = b + w*x - y = -r0 + w*dx - dy, r0 = y_mean -
 * w*x_mean - b:
 *
 *     L(b, w) = mean(e^2) = cyy - 2w*cxy + w^2*cxx + r0^2
 *             = L* + cxx*(w - w*)^2 + r0^2,        w* = cxy/cxx,  L* = mean((dy - w* dx)^2)
 *
 * The second form has no cancellation: every term is non-negative and L* comes from a pass over the
 * residuals rather than from cyy - cxy^2/cxx, which loses digits when x and y are well correlated.
 * Sums are compensated (Knuth's TwoSum), and centering uses the corrected two-pass algorithm, so
 * the moments stay accurate for large n and for x far from 0.
 */
#include "gdlab/moments.h"

#include <math.h>
#include <stdlib.h>

#include "gdlab/alloc.h"
#include "gdlab/status.h"
#include "quadratic.h"

/* A running sum with its rounding error carried alongside (TwoSum, branch-free). */
struct comp_sum {
    double sum;
    double err;
};

static inline void comp_add(struct comp_sum *s, double v)
{
    double t = s->sum + v;
    double bp = t - s->sum;
    s->err += (s->sum - (t - bp)) + (v - bp);
    s->sum = t;
}

static inline double comp_value(const struct comp_sum *s)
{
    return s->sum + s->err;
}

static inline size_t at(const size_t *idx, size_t k)
{
    return idx ? idx[k] : k;
}

static int moments_of(struct gd_moments *m, const double *x, const double *y, const size_t *idx,
                      size_t n)
{
    double dn = (double)n;

    struct comp_sum sx = {0, 0}, sy = {0, 0};
    for (size_t k = 0; k < n; k++) {
        comp_add(&sx, x[at(idx, k)]);
        comp_add(&sy, y[at(idx, k)]);
    }
    double x_mean = comp_value(&sx) / dn;
    double y_mean = comp_value(&sy) / dn;
    if (!isfinite(x_mean) || !isfinite(y_mean))
        return GD_ENONFINITE;

    /* Corrected two-pass: sum(dx) is ~0 but not exactly; cxx = (sum(dx^2) - sum(dx)^2/n) / n. */
    struct comp_sum sdx = {0, 0}, sdy = {0, 0}, sxx = {0, 0}, sxy = {0, 0}, syy = {0, 0};
    for (size_t k = 0; k < n; k++) {
        double dx = x[at(idx, k)] - x_mean;
        double dy = y[at(idx, k)] - y_mean;
        comp_add(&sdx, dx);
        comp_add(&sdy, dy);
        comp_add(&sxx, dx * dx);
        comp_add(&sxy, dx * dy);
        comp_add(&syy, dy * dy);
    }
    double cdx = comp_value(&sdx), cdy = comp_value(&sdy);
    m->n = n;
    m->x_mean = x_mean + cdx / dn;
    m->y_mean = y_mean + cdy / dn;
    m->cxx = (comp_value(&sxx) - cdx * cdx / dn) / dn;
    m->cxy = (comp_value(&sxy) - cdx * cdy / dn) / dn;
    m->cyy = (comp_value(&syy) - cdy * cdy / dn) / dn;
    if (m->cxx < 0.0)
        m->cxx = 0.0;
    if (m->cyy < 0.0)
        m->cyy = 0.0;
    if (!isfinite(m->cxx) || !isfinite(m->cxy) || !isfinite(m->cyy))
        return GD_ENONFINITE;

    /* Residual pass: L* = mean((dy - w* dx)^2). The stored means are rounded, and far from 0 (x
     * near 2^40, say) that rounding shifts every residual by the same w*(x_mean error): corrected
     * like the moments above, L* = (sum(r^2) - sum(r)^2/n) / n, since exact residuals sum to 0. */
    m->w_opt = m->cxx > 0.0 ? m->cxy / m->cxx : 0.0;
    struct comp_sum sr = {0, 0}, srr = {0, 0};
    for (size_t k = 0; k < n; k++) {
        double r = (y[at(idx, k)] - m->y_mean) - m->w_opt * (x[at(idx, k)] - m->x_mean);
        comp_add(&sr, r);
        comp_add(&srr, r * r);
    }
    double cr = comp_value(&sr);
    m->loss_opt = (comp_value(&srr) - cr * cr / dn) / dn;
    if (m->loss_opt < 0.0)
        m->loss_opt = 0.0;
    return GD_OK;
}

int gd_moments_compute(struct gd_moments *m, const double *x, const double *y, const size_t *idx,
                       size_t n)
{
    if (!m || !x || !y || n == 0)
        return GD_EINVAL;
    /* A split's indices are shuffled, so each of the three passes would read x and y at random: a
     * cache miss per value once the data outgrows the cache. Gathered once into order, the passes
     * stream; the values and their order are the same, and so is every bit of the result. Without
     * the memory for the copy, the passes read through the index instead. */
    double *xy = idx && n > 1024 ? gd_alloc_large(2 * n * sizeof(*xy)) : NULL;
    if (!xy)
        return moments_of(m, x, y, idx, n);
    double *xs = xy, *ys = xy + n;
    for (size_t k = 0; k < n; k++) {
        xs[k] = x[idx[k]];
        ys[k] = y[idx[k]];
    }
    int status = moments_of(m, xs, ys, NULL, n);
    free(xy);
    return status;
}

double gd_loss(const struct gd_moments *m, double b, double w)
{
    return quad_loss(m, quad_r0(m, b, w), w);
}

void gd_gradient(const struct gd_moments *m, double b, double w, double *grad_b, double *grad_w)
{
    double r0 = quad_r0(m, b, w);
    if (grad_b)
        *grad_b = -2.0 * r0;
    if (grad_w)
        *grad_w = quad_grad_w(m, r0, w);
}

double gd_loss_direct(const double *x, const double *y, const size_t *idx, size_t n, double b,
                      double w)
{
    double sum = 0.0;
    for (size_t k = 0; k < n; k++) {
        double e = b + w * x[at(idx, k)] - y[at(idx, k)];
        sum += e * e;
    }
    return sum / (double)n;
}

void gd_gradient_direct(const double *x, const double *y, const size_t *idx, size_t n, double b,
                        double w, double *grad_b, double *grad_w)
{
    double se = 0.0, sxe = 0.0;
    for (size_t k = 0; k < n; k++) {
        double xi = x[at(idx, k)];
        double e = b + w * xi - y[at(idx, k)];
        se += e;
        sxe += xi * e;
    }
    *grad_b = 2.0 * se / (double)n;
    *grad_w = 2.0 * sxe / (double)n;
}
