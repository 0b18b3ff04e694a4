/*
 * Closed-form analysis of the MSE of y ~ b + w*x. The Hessian is constant,
 *
 *     H = 2 [[1, x_mean], [x_mean, cxx + x_mean^2]],
 *
 * and gradient descent with learning rate lr multiplies the error along each eigenvector by
 * (1 - lr*lambda): it converges iff lr < 2/lambda_max, and the worst factor max|1 - lr*lambda| is
 * smallest at lr = 2/(lambda_min + lambda_max). The eigenvalues come from the trace and
 * determinant: lambda_max = tr/2 + sqrt((h11 - h22)^2/4 + h12^2), lambda_min = det/lambda_max with
 * det = 4*cxx, which avoids the cancellation of tr/2 - sqrt(...).
 */
#include "gdlab/analysis.h"

#include <math.h>

#include "gdlab/status.h"

int gd_analyze(const struct gd_moments *m, struct gd_analysis *out)
{
    if (!m || !out)
        return GD_EINVAL;
    double h11 = 2.0, h12 = 2.0 * m->x_mean, h22 = 2.0 * (m->cxx + m->x_mean * m->x_mean);
    out->hessian[0][0] = h11;
    out->hessian[0][1] = h12;
    out->hessian[1][0] = h12;
    out->hessian[1][1] = h22;
    double half_diff = 0.5 * (h11 - h22);
    out->lambda_max = 0.5 * (h11 + h22) + hypot(half_diff, h12);
    out->lambda_min = 4.0 * m->cxx / out->lambda_max;
    out->lr_critical = 2.0 / out->lambda_max;
    out->lr_optimal = 2.0 / (out->lambda_min + out->lambda_max);
    if (!isfinite(out->lambda_max)) {
        /* x_mean^2 overflowed (|x| beyond ~1e154): no learning rate or condition to speak of */
        out->w_opt = NAN;
        out->b_opt = NAN;
        out->loss_opt = m->loss_opt;
        out->condition = NAN;
        return GD_ENONFINITE;
    }
    if (!(m->cxx > 0.0)) {
        out->w_opt = NAN;
        out->b_opt = NAN;
        out->loss_opt = m->loss_opt;
        out->condition = INFINITY;
        return GD_EDEGENERATE;
    }
    out->condition = out->lambda_max / out->lambda_min;
    out->w_opt = m->w_opt;
    out->b_opt = m->y_mean - m->w_opt * m->x_mean;
    out->loss_opt = m->loss_opt;
    return GD_OK;
}
