/* What every endpoint does first: build the dataset and the scaled problem with its moments and
 * analysis; and the pieces of answer they share. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api/endpoints/prepare.h"
#include "gdlab/gdlab.h"

int api_out_of_memory(struct api_problem *prob)
{
    return api_problem_set(prob, API_PROBLEM_OUT_OF_MEMORY, NULL,
                           "the server ran out of memory for this request; try smaller sizes");
}

static const char *y_culprit(const struct api_params *p);

/* Data that overflows although every parameter is finite: x * x_multiplier for inline data, else
 * the generated y. */
static int overflow_problem(const struct api_params *p, struct api_problem *prob)
{
    if (p->x.v)
        return api_problem_set(prob, API_PROBLEM_OUT_OF_RANGE, "x_multiplier",
                               "x * x_multiplier overflows; keep the data within the range of a "
                               "double");
    return api_problem_set(
        prob, API_PROBLEM_OUT_OF_RANGE, y_culprit(p),
        "the generated y overflows; keep true_b, true_w / x_multiplier and noise "
        "within the range of a double");
}

/* The parameter behind y's magnitude, for generated data: the largest term of
 * y = true_b + true_w*rand + noise*randn. */
static const char *y_culprit(const struct api_params *p)
{
    if (p->x.v)
        return "y";
    const char *name = "true_b";
    double biggest = fabs(p->data.true_b);
    if (!isfinite(p->data.true_w / p->data.x_multiplier) || fabs(p->data.true_w) > biggest) {
        name = "true_w";
        biggest = fabs(p->data.true_w);
    }
    return 5.0 * p->data.noise > biggest ? "noise" : name;
}

/* Data so large in magnitude (beyond ~1e154) that its moments or the loss's curvature overflow:
 * blame x or y, whichever is larger. */
int api_too_big_for_analysis(const struct api_params *p, const struct gd_dataset *d,
                             struct api_problem *prob)
{
    double x_max = 0.0, y_max = 0.0;
    for (size_t i = 0; i < d->n; i++) {
        x_max = fmax(x_max, fabs(d->x[i]));
        y_max = fmax(y_max, fabs(d->y[i]));
    }
    const char *name = x_max >= y_max ? (p->x.v ? "x" : "x_multiplier") : y_culprit(p);
    return api_problem_set(prob, API_PROBLEM_OUT_OF_RANGE, name,
                           "the data is too large in magnitude (|x| up to %s, |y| up to %s): the "
                           "moments of the loss overflow; keep |x| and |y| below about 1e154",
                           NUM(x_max), NUM(y_max));
}

int api_deadline_exceeded(struct api_problem *prob)
{
    /* the server, which knows the limit and whether it is shutting down, words the detail */
    return api_problem_from_status(prob, GD_ECANCELED, NULL, "the request's deadline passed");
}

/* Whether the request's deadline has passed; -1 with *prob then. */
int api_past_deadline(const struct gd_cancel *cancel, struct api_problem *prob)
{
    if (cancel && cancel->expired && cancel->expired(cancel->ctx))
        return api_deadline_exceeded(prob);
    return 0;
}

void api_prepared_free(struct api_prepared *pr)
{
    gd_problem_free(pr->scaled);
    gd_dataset_free(pr->data);
}

int api_prepare(const struct api_params *p, int kind, const struct gd_cancel *cancel,
                struct api_prepared *pr, struct api_problem *prob)
{
    int status;
    *pr = (struct api_prepared){0};
    pr->data = gd_dataset_new(p->data.n);
    if (!pr->data)
        return api_out_of_memory(prob);
    if (p->x.v)
        status = gd_dataset_load(pr->data, p->x.v, p->y.v, p->data.x_multiplier, p->data.seed,
                                 p->data.train_fraction);
    else
        status = gd_dataset_generate(pr->data, &p->data);
    if (status == GD_ENONFINITE) {
        overflow_problem(p, prob);
        goto out_free;
    }
    if (status != GD_OK) {
        api_problem_from_status(prob, status, NULL, "the dataset cannot be built: %s",
                                gd_strerror(status));
        goto out_free;
    }
    /* generating 10^6 points takes a few tens of ms: a request may run out of time here */
    if (api_past_deadline(cancel, prob))
        goto out_free;
    pr->scaled = gd_problem_new(pr->data, kind, &status);
    if (!pr->scaled) {
        if (status == GD_ENOMEM)
            api_out_of_memory(prob);
        else if (status == GD_ENONFINITE)
            api_too_big_for_analysis(p, pr->data, prob);
        else
            api_problem_from_status(prob, status, "scaler",
                                    "the %s scaler cannot be fitted to this data: %s",
                                    gd_scaler_name(kind), gd_strerror(status));
        goto out_free;
    }
    pr->analysis_status = gd_analyze(&pr->scaled->train, &pr->analysis);
    if (pr->analysis_status == GD_ENONFINITE) {
        api_too_big_for_analysis(p, pr->data, prob);
        goto out_free;
    }
    return 0;

out_free:
    api_prepared_free(pr);
    return -1;
}

/* ---- shared pieces of the answers ---------------------------------------------------------- */

void api_write_scaler(struct jw *w, const struct gd_scaler *s)
{
    jw_key(w, "scaler");
    jw_object_begin(w);
    jw_key_string(w, "kind", gd_scaler_name(s->kind));
    if (s->kind == GD_SCALER_STANDARD) {
        jw_key_double(w, "mean", s->mean);
        jw_key_double(w, "std", s->std);
    } else if (s->kind == GD_SCALER_MINMAX) {
        jw_key_double(w, "min", s->min);
        jw_key_double(w, "max", s->max);
    }
    jw_object_end(w);
}

/* The least-squares optimum; b and w are null when the feature is constant (no unique fit). */
void api_write_optimum(struct jw *w, const struct gd_analysis *a)
{
    jw_key(w, "optimum");
    jw_object_begin(w);
    jw_key_double(w, "b", a->b_opt);
    jw_key_double(w, "w", a->w_opt);
    jw_key_double(w, "loss", a->loss_opt);
    jw_object_end(w);
}

void api_write_analysis(struct jw *w, const char *key, const struct gd_analysis *a)
{
    jw_key(w, key);
    jw_object_begin(w);
    api_write_analysis_fields(w, a);
    jw_object_end(w);
}

void api_write_analysis_fields(struct jw *w, const struct gd_analysis *a)
{
    jw_key(w, "hessian");
    jw_double_matrix(w, &a->hessian[0][0], 2, 2);
    jw_key(w, "hessian_eigenvalues");
    double eig[2] = {a->lambda_min, a->lambda_max};
    jw_double_array(w, eig, 2);
    jw_key_double(w, "condition_number", a->condition);
    jw_key_double(w, "lr_critical", a->lr_critical);
    jw_key_double(w, "lr_optimal", a->lr_optimal);
    api_write_optimum(w, a);
}

const size_t *api_split_index(const struct gd_dataset *d, bool val, size_t *n)
{
    *n = val ? d->n - d->n_train : d->n_train;
    return val ? d->idx + d->n_train : d->idx;
}

void api_resolve_start(struct api_params *p)
{
    double b0, w0;
    gd_initial_params(p->data.seed, &b0, &w0);
    if (!api_param_given(p, P_B0))
        p->b0 = b0;
    if (!api_param_given(p, P_W0))
        p->w0 = w0;
}

void api_set_hyperparameters(const struct api_params *p, struct gd_optim_params *o)
{
    o->momentum = p->momentum;
    o->beta1 = p->beta1;
    o->beta2 = p->beta2;
    o->alpha = p->alpha;
    if (api_param_given(p, P_EPS))
        o->eps = p->eps;
    if (api_param_given(p, P_WEIGHT_DECAY))
        o->weight_decay = p->weight_decay;
}
