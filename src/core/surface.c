/*
 * Loss surfaces and cross-sections. Every loss value is gd_loss on the moments, so the surface, the
 * cross-section curves and the points on them agree to the bit; each costs O(1), whatever n is.
 */
#include "gdlab/surface.h"

#include <math.h>

#include "gdlab/status.h"

void gd_linspace(double lo, double hi, size_t steps, double *out)
{
    if (steps == 0)
        return;
    if (steps == 1) {
        out[0] = lo;
        return;
    }
    /* numpy: step = (hi - lo) / (steps - 1); y = arange(steps) * step + lo; y[-1] = hi. When the
     * step underflows to 0 (a subnormal width), numpy scales (i / (steps - 1)) * delta instead. */
    double delta = hi - lo, div = (double)(steps - 1);
    double step = delta / div;
    if (step == 0.0) {
        for (size_t i = 0; i < steps; i++)
            out[i] = ((double)i / div) * delta + lo;
    } else {
        for (size_t i = 0; i < steps; i++)
            out[i] = (double)i * step + lo;
    }
    out[steps - 1] = hi;
}

size_t gd_nearest_index(const double *grid, size_t n, double v)
{
    if (n == 0) /* nothing to read; 0 like any other answer the caller has to range-check */
        return 0;
    size_t best = 0;
    double best_dist = fabs(grid[0] - v);
    for (size_t i = 1; i < n; i++) {
        double dist = fabs(grid[i] - v);
        if (dist < best_dist) {
            best = i;
            best_dist = dist;
        }
    }
    return best;
}

void gd_default_range(double optimum, double *lo, double *hi)
{
    /* np.round(v, 1) is rint(v*10)/10: ties go to even (0.25 -> 0.2), where C's round() would
     * go away from zero (0.3). nearbyint rounds in the default mode, to nearest even. */
    double center = nearbyint(optimum * 10.0) / 10.0;
    /* +-3 as the tutorial has it; a nearly constant feature can put the optimum so far out
     * (w* ~ 1e17) that +-3 is below its ulp and lo == hi, so the width grows with |center|. */
    double half = fmax(3.0, fabs(center) * 1e-9);
    *lo = center - half;
    *hi = center + half;
}

void gd_surface(const struct gd_moments *m, const double *b, size_t nb, const double *w, size_t nw,
                double *loss, struct gd_grid_min *min)
{
    if (nb == 0 || nw == 0) { /* an empty grid has no minimum, and b[0], w[0] do not exist */
        if (min)
            *min = (struct gd_grid_min){0, 0, NAN, NAN, NAN};
        return;
    }
    struct gd_grid_min best = {0, 0, b[0], w[0], INFINITY};
    for (size_t i = 0; i < nw; i++) {
        /* quad_loss with the w-only terms hoisted: L = (L* + cxx*dw^2) + r0^2, same rounding. */
        double dw = w[i] - m->w_opt;
        double row = m->loss_opt + m->cxx * dw * dw;
        double r0_w = m->y_mean - w[i] * m->x_mean; /* quad_r0 = r0_w - b */
        double *out = loss + i * nb;
        for (size_t j = 0; j < nb; j++) {
            double r0 = r0_w - b[j];
            out[j] = row + r0 * r0;
        }
        if (min) {
            for (size_t j = 0; j < nb; j++) {
                if (out[j] < best.loss) {
                    best.loss = out[j];
                    best.w_index = i;
                    best.b_index = j;
                }
            }
        }
    }
    if (min) {
        best.b = b[best.b_index];
        best.w = w[best.w_index];
        *min = best;
    }
}

/* The finite difference along one parameter from its (snapped) value to the value nearest +delta.
 */
static int geometric(const struct gd_moments *m, const double *grid, size_t n, double from,
                     double delta, bool snap, bool along_b, double fixed, struct gd_geometric *out)
{
    double to = snap ? grid[gd_nearest_index(grid, n, from + delta)] : from + delta;
    if (!isfinite(to)) /* from + delta past the largest double */
        return GD_ENONFINITE;
    if (to == from)
        return GD_EINVAL;
    double loss_from = along_b ? gd_loss(m, from, fixed) : gd_loss(m, fixed, from);
    double loss_to = along_b ? gd_loss(m, to, fixed) : gd_loss(m, fixed, to);
    out->from = from;
    out->to = to;
    out->delta_param = to - from;
    out->delta_loss = loss_to - loss_from;
    out->gradient = out->delta_loss / out->delta_param;
    return GD_OK;
}

int gd_cross_section(const struct gd_moments *m, const double *bg, size_t nb, const double *wg,
                     size_t nw, double b, double w, bool snap, double delta, double *loss_w,
                     double *loss_b, struct gd_cross_section *out)
{
    if (!m || !bg || !wg || nb == 0 || nw == 0 || !out || !isfinite(b) || !isfinite(w) ||
        !isfinite(delta) || delta == 0.0)
        return GD_EINVAL;
    out->b_index = gd_nearest_index(bg, nb, b);
    out->w_index = gd_nearest_index(wg, nw, w);
    out->b = snap ? bg[out->b_index] : b;
    out->w = snap ? wg[out->w_index] : w;
    out->loss = gd_loss(m, out->b, out->w);
    gd_gradient(m, b, w, &out->grad_b, &out->grad_w);

    int status = geometric(m, bg, nb, out->b, delta, snap, true, out->w, &out->geo_b);
    if (status == GD_OK)
        status = geometric(m, wg, nw, out->w, delta, snap, false, out->b, &out->geo_w);
    if (status != GD_OK)
        return status;

    if (loss_w)
        for (size_t i = 0; i < nw; i++)
            loss_w[i] = gd_loss(m, out->b, wg[i]);
    if (loss_b)
        for (size_t j = 0; j < nb; j++)
            loss_b[j] = gd_loss(m, bg[j], out->w);
    return GD_OK;
}
