/*
 * /stability: how big is too big, as a map. For every (learning rate, momentum) cell the spectral
 * radius rho of the full-batch iteration on the training split's Hessian, in closed form from its
 * two eigenvalues (gd_stability_rho: the largest |root| of each eigen-direction's characteristic
 * polynomial); rho < 1 converges, and -1/ln(rho) is the number of steps per e-fold. Beside it the
 * critical learning rate of each momentum row and Polyak's optimal heavy ball.
 */
#include <math.h>
#include <stdlib.h>

#include "api/endpoints/prepare.h"
#include "gdlab/gdlab.h"
#include "gdlab/stability.h"

/* numpy.geomspace(lo, hi, n): 10**linspace(log10 lo, log10 hi), its ends set to lo and hi.
 * Rounding in log10 and pow can carry a value just past an end, and beside DBL_MAX past it to
 * infinity (numpy's too): each is held within [lo, hi], where the exact one lies. */
static void geomspace(double lo, double hi, size_t n, double *out)
{
    double least = fmin(lo, hi), most = fmax(lo, hi);
    gd_linspace(log10(lo), log10(hi), n, out);
    for (size_t i = 0; i < n; i++)
        out[i] = fmin(fmax(pow(10.0, out[i]), least), most);
    out[0] = lo;
    if (n > 1)
        out[n - 1] = hi;
}

/* The learning rates by default: from a thousandth of gd's critical rate to twice the largest
 * critical rate of the map's momenta, so that the boundary crosses the whole map. The critical
 * rate is monotone in beta (rising for heavy ball, falling for Nesterov): the largest is at one
 * end of the momentum axis. */
static int lr_range(struct api_params *p, const struct gd_analysis *a, struct api_problem *prob)
{
    enum gd_optimizer kind = (enum gd_optimizer)p->optimizer.v[0];
    double top = gd_stability_lr_critical(kind, p->momentum_min, a->lambda_max);
    if (p->momentum_steps > 1)
        top = fmax(top, gd_stability_lr_critical(kind, p->momentum_max, a->lambda_max));
    if (!api_param_given(p, P_LR_MIN))
        p->lr_min = 1e-3 * a->lr_critical;
    if (!api_param_given(p, P_LR_MAX))
        p->lr_max = 2.0 * top;
    if (!(p->lr_min < p->lr_max) || !isfinite(p->lr_max))
        return api_problem_set(
            prob, API_PROBLEM_OUT_OF_RANGE, api_param_given(p, P_LR_MAX) ? "lr_max" : "lr_min",
            "lr_min must be below lr_max; got %s and %s%s", NUM(p->lr_min), NUM(p->lr_max),
            api_param_given(p, P_LR_MIN) && api_param_given(p, P_LR_MAX)
                ? ""
                : " (a missing end defaults to 1e-3 x gd's critical rate, or "
                  "twice the map's largest critical rate)");
    return 0;
}

int api_stability(struct api_params *p, const struct gd_cancel *cancel, struct jw *w,
                  struct api_problem *prob)
{
    struct api_prepared pr;
    int rc = -1;
    if (api_prepare(p, p->scaler, cancel, &pr, prob))
        return -1;
    const struct gd_analysis *a = &pr.analysis;
    if (pr.analysis_status == GD_EDEGENERATE) {
        api_problem_set(prob, API_PROBLEM_OUT_OF_RANGE, "x",
                        "the training feature's variance is 0 in double precision (a constant "
                        "feature, or a spread so small that its square underflows): its Hessian is "
                        "singular and the map has no closed form");
        goto out_free_prepared;
    }
    if (lr_range(p, a, prob))
        goto out_free_prepared;
    enum gd_optimizer kind = (enum gd_optimizer)p->optimizer.v[0];
    size_t nl = p->lr_steps, nm = p->momentum_steps;
    double *lr = malloc(nl * sizeof(*lr)), *beta = malloc(nm * sizeof(*beta));
    double *rho = malloc(nl * nm * sizeof(*rho)), *critical = malloc(nm * sizeof(*critical));
    if (!lr || !beta || !rho || !critical) {
        api_out_of_memory(prob);
        goto out_free_grids;
    }
    if (p->lr_spacing == API_SPACING_LOG)
        geomspace(p->lr_min, p->lr_max, nl, lr);
    else
        gd_linspace(p->lr_min, p->lr_max, nl, lr);
    gd_linspace(p->momentum_min, p->momentum_max, nm, beta);
    for (size_t i = 0; i < nm; i++) {
        critical[i] = gd_stability_lr_critical(kind, beta[i], a->lambda_max);
        for (size_t j = 0; j < nl; j++)
            rho[i * nl + j] = gd_stability_rho(kind, lr[j], beta[i], a->lambda_min, a->lambda_max);
    }
    struct gd_polyak polyak;
    gd_stability_polyak(a->lambda_min, a->lambda_max, &polyak);

    jw_reserve(w, nl * nm * 20 + 4096);
    jw_object_begin(w);
    api_params_write(w, p);
    jw_key(w, "lr");
    jw_double_array(w, lr, nl);
    jw_key(w, "momentum");
    jw_double_array(w, beta, nm);
    jw_key(w, "rho");
    jw_double_matrix(w, rho, nm, nl);
    jw_key(w, "lr_critical");
    jw_double_array(w, critical, nm);
    jw_key(w, "polyak");
    jw_object_begin(w);
    jw_key_double(w, "lr", polyak.lr);
    jw_key_double(w, "momentum", polyak.beta);
    jw_key_double(w, "rate", polyak.rate);
    jw_object_end(w);
    api_write_analysis(w, "analysis", a);
    jw_object_end(w);
    rc = 0;

out_free_grids:
    free(lr);
    free(beta);
    free(rho);
    free(critical);
out_free_prepared:
    api_prepared_free(&pr);
    return rc;
}
