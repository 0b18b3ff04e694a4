/* Loss surfaces over (b, w) grids and the tutorial's cross-sections through them. */
#ifndef GDLAB_SURFACE_H
#define GDLAB_SURFACE_H

#include <stdbool.h>
#include <stddef.h>

#include "gdlab/moments.h"

/* The smallest loss on a grid and where it lies. */
struct gd_grid_min {
    size_t b_index;
    size_t w_index;
    double b;
    double w;
    double loss;
};

/* np.linspace(lo, hi, steps): out[i] = i*step + lo with step = (hi - lo)/(steps - 1), last = hi. */
void gd_linspace(double lo, double hi, size_t steps, double *out);

/* argmin |grid[i] - v|, the first index on ties (np.argmin). */
size_t gd_nearest_index(const double *grid, size_t n, double v);

/* The tutorial's default range around an optimum: round(v, 1) -+ 3, or -+ 1e-9*|round(v, 1)| when
 * that is wider (past 3e9, where +-3 would vanish in rounding). */
void gd_default_range(double optimum, double *lo, double *hi);

/* loss[i*nb + j] = L(b[j], w[i]): rows are w, columns b, like np.meshgrid; min may be NULL. */
void gd_surface(const struct gd_moments *m, const double *b, size_t nb, const double *w, size_t nw,
                double *loss, struct gd_grid_min *min);

/* The geometric gradient: a finite difference between two grid values of one parameter. */
struct gd_geometric {
    double from;        /* the (snapped) parameter value */
    double to;          /* the grid value nearest from + delta */
    double delta_param; /* to - from */
    double delta_loss;  /* L(to) - L(from), the other parameter fixed */
    double gradient;    /* delta_loss / delta_param */
};

/* One cross-section's point, gradients and finite differences. */
struct gd_cross_section {
    size_t b_index; /* nearest grid index of b */
    size_t w_index; /* nearest grid index of w */
    double b;       /* the point: snapped to the grid when asked, else as given */
    double w;
    double loss;               /* L(b, w) at that point */
    double grad_b;             /* analytic dL/db at the point as given */
    double grad_w;             /* analytic dL/dw at the point as given */
    struct gd_geometric geo_b; /* along b, w fixed */
    struct gd_geometric geo_w; /* along w, b fixed */
};

/* Cross-sections at (b, w): loss_w[i] = L(b, wg[i]) (b fixed) and loss_b[j] = L(bg[j], w) (w
 * fixed), both at the snapped point when snap is set. Either curve may be NULL. GD_EINVAL when a
 * step of delta reaches no other value, GD_ENONFINITE when it overflows a double. */
int gd_cross_section(const struct gd_moments *m, const double *bg, size_t nb, const double *wg,
                     size_t nw, double b, double w, bool snap, double delta, double *loss_w,
                     double *loss_b, struct gd_cross_section *out);

#endif
