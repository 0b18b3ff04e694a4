/* Closed-form answers for linear regression: the optimum and how big a learning rate may be. */
#ifndef GDLAB_ANALYSIS_H
#define GDLAB_ANALYSIS_H

#include "gdlab/moments.h"

/* The least-squares fit and the curvature of the loss around it. */
struct gd_analysis {
    double b_opt;         /* b* = y_mean - w* x_mean */
    double w_opt;         /* w* = cxy / cxx */
    double loss_opt;      /* L(b*, w*) = cyy - w* cxy */
    double hessian[2][2]; /* 2 [[1, x_mean], [x_mean, cxx + x_mean^2]], constant for the MSE */
    double lambda_min;    /* eigenvalues of the Hessian, lambda_min <= lambda_max */
    double lambda_max;
    double condition;   /* lambda_max / lambda_min */
    double lr_critical; /* 2 / lambda_max: any larger learning rate diverges */
    double lr_optimal;  /* 2 / (lambda_min + lambda_max): fastest worst-case contraction */
};

/* Analyse one split; GD_EDEGENERATE when cxx is 0 (no unique optimum, lambda_min 0). */
int gd_analyze(const struct gd_moments *m, struct gd_analysis *out);

#endif
