/* How big is too big, per optimizer: exact stability bounds and rates on a quadratic loss. */
#ifndef GDLAB_STABILITY_H
#define GDLAB_STABILITY_H

#include <stdbool.h>

#include "gdlab/moments.h"
#include "gdlab/optim.h"

/*
 * On a quadratic with Hessian eigenvalue lambda, the error along that eigenvector evolves as
 *   gd:        e' = (1 - lr*lambda) e                          characteristic mu - (1 - lr*lambda)
 *   momentum:  e' = (1 + beta - lr*lambda) e - beta e_prev     mu^2 - (1 + beta - lr*lambda) mu +
 * beta nesterov:  mu^2 - (1 + beta)(1 - lr*lambda) mu + beta (1 - lr*lambda) (torch's SGD forms;
 * buf = g at the first step is the same as buf = 0 before it). The run converges iff every root has
 * |mu| < 1, and the largest |mu| over the Hessian's two eigenvalues, rho, is its asymptotic
 * contraction per step. weight_decay wd adds wd to every eigenvalue.
 */

/* The spectral radius of one eigen-direction: the largest |root| of its characteristic
 * polynomial mu^2 - t*mu + d, in closed form: (|t| + sqrt(t^2 - 4d))/2 for real roots, sqrt(d)
 * for a complex pair (gd: |1 - lr*lambda|). beta is ignored by gd; NaN for adaptive optimizers.
 */
double gd_stability_rho1(enum gd_optimizer kind, double lr, double beta, double lambda);

/* max(rho1(lambda_min), rho1(lambda_max)): the whole iteration's rate per step. rho1 falls and then
 * rises with lambda, so on an interval of eigenvalues it is largest at an end. */
double gd_stability_rho(enum gd_optimizer kind, double lr, double beta, double lambda_min,
                        double lambda_max);

/* The coefficients (t, d) of mu^2 - t*mu + d for one eigen-direction (gd: t = 1 - lr*lambda,
 * d = 0); false for adaptive optimizers. */
bool gd_stability_char_poly(enum gd_optimizer kind, double lr, double beta, double lambda,
                            double *t, double *d);

/* The largest stable learning rate: gd 2/lambda_max, momentum 2(1+beta)/lambda_max, nesterov
 * 2(1+beta)/((1+2beta) lambda_max); NaN for adaptive optimizers. Any larger rate diverges. */
double gd_stability_lr_critical(enum gd_optimizer kind, double beta, double lambda_max);

/* Polyak's optimal heavy ball: lr* = 4/(sqrt(lmax)+sqrt(lmin))^2,
 * beta* = ((sqrt(k)-1)/(sqrt(k)+1))^2, rate (sqrt(k)-1)/(sqrt(k)+1) with k = lmax/lmin. */
struct gd_polyak {
    double lr;
    double beta;
    double rate;
};

/* Polyak's optimum for eigenvalues 0 < lambda_min <= lambda_max; NaN fields otherwise. */
void gd_stability_polyak(double lambda_min, double lambda_max, struct gd_polyak *out);

/* The eigenvalues of the MSE's Hessian 2[[1, x_mean], [x_mean, cxx + x_mean^2]] (as gd_analyze). */
void gd_stability_eigen(const struct gd_moments *m, double *lambda_min, double *lambda_max);

/* The point a run with weight decay wd converges to: grad L(p) + wd*p = 0, i.e.
 * (H + wd I) p = H p* with p* the least-squares optimum; (b*, w*) when wd is 0. */
void gd_stability_fixed_point(const struct gd_moments *m, double wd, double *b, double *w);

/*
 * The measured rate of a full-batch run: with the state distance
 *   d(t) = sqrt(|p(t) - p^|^2 + |p(t-1) - p^|^2)     (p(-1) = p(0), p^ = the fixed point)
 * (two consecutive iterates: the state of the momentum iteration, which does not vanish when one
 * iterate passes the fixed point), the measured rate is exp(slope) of the least-squares line of
 * ln d(t) against t over t in [t2 - L, t2], where t2 is the last epoch of the run before d(t) first
 * falls to 1e-10 (d(0) + |p^|) (below it rounding, not the iteration, sets d), and
 * L = min(floor(t2/2), 1024).
 * NaN when L < 8 (too few epochs to measure) or d(0) = 0. The run is repeated without history
 * to take it, so it costs a second pass over at most the run's epochs.
 */
#define GD_RATE_FLOOR 1e-10
#define GD_RATE_WINDOW 1024
#define GD_RATE_MIN_WINDOW 8

/* The measured rate of cfg's run (gd, momentum, nesterov; full batch; constant rate); NaN for any
 * other. */
double gd_rate_measure(const struct gd_moments *train, const struct gd_optim_config *cfg);

#endif
