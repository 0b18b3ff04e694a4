/*
 * Each endpoint: build the dataset and the problem (scaled feature, moments of both splits),
 * resolve the defaults that depend on the data, call the core, and write the answer. The response
 * starts with "params" so that a client sees, first, exactly what was computed.
 */
#include "endpoints.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "gdlab/gdlab.h"

/* A dataset made ready for the loss, with the training split's analysis. */
struct prepared {
    struct gd_dataset *data;
    struct gd_problem *prob;
    struct gd_analysis analysis;
    int analysis_status; /* GD_EDEGENERATE when the training feature is constant */
};

static int out_of_memory(struct http_problem *err)
{
    return problem_set(err, HTTP_E_OUT_OF_MEMORY, NULL,
                       "the server ran out of memory for this request; try smaller sizes");
}

static const char *y_culprit(const struct api_params *p);

/* Data that overflows although every parameter is finite: x * x_multiplier for inline data, else
 * the generated y. */
static int overflow_problem(const struct api_params *p, struct http_problem *err)
{
    if (p->x)
        return problem_set(err, HTTP_E_OUT_OF_RANGE, "x_multiplier",
                           "x * x_multiplier overflows; keep the data within the range of a "
                           "double");
    return problem_set(err, HTTP_E_OUT_OF_RANGE, y_culprit(p),
                       "the generated y overflows; keep true_b, true_w / x_multiplier and noise "
                       "within the range of a double");
}

/* The parameter behind y's magnitude, for generated data: the largest term of
 * y = true_b + true_w*rand + noise*randn. */
static const char *y_culprit(const struct api_params *p)
{
    if (p->x)
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
static int too_big_for_analysis(const struct api_params *p, const struct gd_dataset *d,
                                struct http_problem *err)
{
    double x_max = 0.0, y_max = 0.0;
    for (size_t i = 0; i < d->n; i++) {
        x_max = fmax(x_max, fabs(d->x[i]));
        y_max = fmax(y_max, fabs(d->y[i]));
    }
    const char *name = x_max >= y_max ? (p->x ? "x" : "x_multiplier") : y_culprit(p);
    return problem_set(err, HTTP_E_OUT_OF_RANGE, name,
                       "the data is too large in magnitude (|x| up to %s, |y| up to %s): the "
                       "moments of the loss overflow; keep |x| and |y| below about 1e154",
                       NUM(x_max), NUM(y_max));
}

static int deadline_exceeded(struct http_problem *err)
{
    /* the server, which knows the limit and whether it is shutting down, words the detail */
    return problem_set(err, HTTP_E_DEADLINE_EXCEEDED, NULL, "the request's deadline passed");
}

/* Whether the request's deadline has passed; -1 with *err then. */
static int past_deadline(const struct gd_cancel *cancel, struct http_problem *err)
{
    if (cancel && cancel->expired && cancel->expired(cancel->ctx))
        return deadline_exceeded(err);
    return 0;
}

static void prepared_free(struct prepared *pr)
{
    gd_problem_free(pr->prob);
    gd_dataset_free(pr->data);
}

static int prepare(const struct api_params *p, enum gd_scaler_kind kind,
                   const struct gd_cancel *cancel, struct prepared *pr, struct http_problem *err)
{
    int status;
    *pr = (struct prepared){0};
    pr->data = gd_dataset_new(p->data.n);
    if (!pr->data)
        return out_of_memory(err);
    if (p->x)
        status = gd_dataset_load(pr->data, p->x, p->y, p->data.x_multiplier, p->data.seed,
                                 p->data.train_fraction);
    else
        status = gd_dataset_generate(pr->data, &p->data);
    if (status == GD_ENONFINITE) {
        overflow_problem(p, err);
        goto out_free;
    }
    if (status != GD_OK) {
        problem_set(err, HTTP_E_INVALID_PARAMETER, NULL, "the dataset cannot be built: %s",
                    gd_strerror(status));
        goto out_free;
    }
    /* generating 10^6 points takes a few tens of ms: a request may run out of time here */
    if (past_deadline(cancel, err))
        goto out_free;
    pr->prob = gd_problem_new(pr->data, kind, &status);
    if (!pr->prob) {
        if (status == GD_ENOMEM)
            out_of_memory(err);
        else if (status == GD_ENONFINITE)
            too_big_for_analysis(p, pr->data, err);
        else
            problem_set(err, HTTP_E_OUT_OF_RANGE, "scaler",
                        "the %s scaler cannot be fitted to this data: %s", gd_scaler_name(kind),
                        gd_strerror(status));
        goto out_free;
    }
    pr->analysis_status = gd_analyze(&pr->prob->train, &pr->analysis);
    if (pr->analysis_status == GD_ENONFINITE) {
        too_big_for_analysis(p, pr->data, err);
        goto out_free;
    }
    return 0;

out_free:
    prepared_free(pr);
    return -1;
}

/* ---- shared pieces of the answers ---------------------------------------------------------- */

static void write_scaler(struct jw *w, const struct gd_scaler *s)
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
static void write_optimum(struct jw *w, const struct gd_analysis *a)
{
    jw_key(w, "optimum");
    jw_object_begin(w);
    jw_key_double(w, "b", a->b_opt);
    jw_key_double(w, "w", a->w_opt);
    jw_key_double(w, "loss", a->loss_opt);
    jw_object_end(w);
}

static void write_analysis(struct jw *w, const char *key, const struct gd_analysis *a)
{
    jw_key(w, key);
    jw_object_begin(w);
    jw_key(w, "hessian");
    jw_array_begin(w);
    jw_double_array(w, a->hessian[0], 2);
    jw_double_array(w, a->hessian[1], 2);
    jw_array_end(w);
    jw_key(w, "hessian_eigenvalues");
    double eig[2] = {a->lambda_min, a->lambda_max};
    jw_double_array(w, eig, 2);
    jw_key_double(w, "condition_number", a->condition);
    jw_key_double(w, "lr_critical", a->lr_critical);
    jw_key_double(w, "lr_optimal", a->lr_optimal);
    write_optimum(w, a);
    jw_object_end(w);
}

static void write_stats(struct jw *w, const char *key, const struct gd_moments *m)
{
    jw_key(w, key);
    jw_object_begin(w);
    jw_key_uint(w, "n", m->n);
    jw_key_double(w, "x_mean", m->x_mean);
    jw_key_double(w, "x_std", sqrt(m->cxx));
    jw_key_double(w, "y_mean", m->y_mean);
    jw_key_double(w, "y_std", sqrt(m->cyy));
    jw_object_end(w);
}

static const size_t *split_index(const struct gd_dataset *d, bool val, size_t *n)
{
    *n = val ? d->n - d->n_train : d->n_train;
    return val ? d->idx + d->n_train : d->idx;
}

/* ---- /dataset ----------------------------------------------------------------------------- */

static void write_split(struct jw *w, const char *key, const struct prepared *pr, bool val)
{
    size_t n;
    const size_t *idx = split_index(pr->data, val, &n);
    jw_key(w, key);
    jw_object_begin(w);
    jw_key(w, "idx");
    jw_size_array(w, idx, n);
    jw_key(w, "x");
    jw_double_array_indexed(w, pr->prob->x, idx, n);
    jw_key(w, "y");
    jw_double_array_indexed(w, pr->data->y, idx, n);
    if (pr->prob->scaler.kind != GD_SCALER_NONE) {
        jw_key(w, "x_raw");
        jw_double_array_indexed(w, pr->data->x, idx, n);
    }
    jw_object_end(w);
}

/* format=csv: "split,idx,x,y[,x_raw]", one row per point, the training split first. */
static void write_dataset_csv(struct jw *w, const struct prepared *pr)
{
    bool raw = pr->prob->scaler.kind != GD_SCALER_NONE;
    const char *header = raw ? "split,idx,x,y,x_raw\n" : "split,idx,x,y\n";
    csv_raw(w, header, strlen(header));
    for (int val = 0; val <= 1; val++) {
        size_t n;
        const size_t *idx = split_index(pr->data, val, &n);
        for (size_t k = 0; k < n; k++) {
            csv_raw(w, val ? "val," : "train,", val ? 4 : 6);
            csv_uint(w, idx[k]);
            csv_raw(w, ",", 1);
            csv_double(w, pr->prob->x[idx[k]]);
            csv_raw(w, ",", 1);
            csv_double(w, pr->data->y[idx[k]]);
            if (raw) {
                csv_raw(w, ",", 1);
                csv_double(w, pr->data->x[idx[k]]);
            }
            csv_raw(w, "\n", 1);
        }
    }
}

int endpoint_dataset(struct api_params *p, const struct gd_cancel *cancel, struct jw *w,
                     struct http_problem *err)
{
    struct prepared pr;
    if (prepare(p, p->scaler, cancel, &pr, err))
        return -1;
    if (p->csv) {
        write_dataset_csv(w, &pr);
        prepared_free(&pr);
        return 0;
    }
    jw_object_begin(w);
    params_write(w, p);
    write_scaler(w, &pr.prob->scaler);
    write_split(w, "train", &pr, false);
    write_split(w, "val", &pr, true);
    jw_key(w, "stats");
    jw_object_begin(w);
    write_stats(w, "train", &pr.prob->train);
    write_stats(w, "val", &pr.prob->val);
    jw_object_end(w);
    write_optimum(w, &pr.analysis);
    jw_object_end(w);
    prepared_free(&pr);
    return 0;
}

/* ---- grids: /surface and /cross-section ------------------------------------------------ */

/* The least-squares optimum of some moments; for a constant feature, the flat fit w = 0. */
static void optimum_of(const struct gd_moments *m, double *b, double *w)
{
    *w = m->w_opt;
    *b = m->y_mean - m->w_opt * m->x_mean;
}

static int check_range(struct api_params *p, enum param_id lo_id, enum param_id hi_id, double lo,
                       double hi, struct http_problem *err)
{
    enum param_id culprit = param_given(p, lo_id) && !param_given(p, hi_id) ? lo_id : hi_id;
    if (!isfinite(lo) || !isfinite(hi) || !isfinite(hi - lo))
        return problem_set(err, HTTP_E_OUT_OF_RANGE, param_name(culprit),
                           "the grid range %s..%s and its width must be finite; got %s..%s",
                           param_name(lo_id), param_name(hi_id), NUM(lo), NUM(hi));
    if (!(lo < hi))
        return problem_set(err, HTTP_E_OUT_OF_RANGE, param_name(culprit),
                           "%s must be below %s; got %s = %s and %s = %s%s", param_name(lo_id),
                           param_name(hi_id), param_name(lo_id), NUM(lo), param_name(hi_id),
                           NUM(hi),
                           param_given(p, lo_id) && param_given(p, hi_id)
                               ? ""
                               : " (the missing bound defaults to the optimum rounded to one "
                                 "decimal +- 3)");
    return 0;
}

/* Fill in the grid's default ranges around the chosen split's optimum, check them, and build the
 * two linspaces. */
static int make_grid(struct api_params *p, const struct gd_moments *m, double **bg, double **wg,
                     struct http_problem *err)
{
    double b_opt, w_opt, lo, hi;
    optimum_of(m, &b_opt, &w_opt);
    gd_default_range(b_opt, &lo, &hi);
    if (!param_given(p, P_B_MIN))
        p->b_min = lo;
    if (!param_given(p, P_B_MAX))
        p->b_max = hi;
    gd_default_range(w_opt, &lo, &hi);
    if (!param_given(p, P_W_MIN))
        p->w_min = lo;
    if (!param_given(p, P_W_MAX))
        p->w_max = hi;
    if (check_range(p, P_B_MIN, P_B_MAX, p->b_min, p->b_max, err) ||
        check_range(p, P_W_MIN, P_W_MAX, p->w_min, p->w_max, err))
        return -1;
    *bg = malloc(p->b_steps * sizeof(**bg));
    *wg = malloc(p->w_steps * sizeof(**wg));
    if (!*bg || !*wg) {
        free(*bg);
        free(*wg);
        *bg = *wg = NULL;
        return out_of_memory(err);
    }
    gd_linspace(p->b_min, p->b_max, p->b_steps, *bg);
    gd_linspace(p->w_min, p->w_max, p->w_steps, *wg);
    return 0;
}

static const struct gd_moments *grid_moments(const struct api_params *p, const struct prepared *pr)
{
    return p->split_val ? &pr->prob->val : &pr->prob->train;
}

static void write_split_optimum(struct jw *w, const struct gd_moments *m)
{
    struct gd_analysis a;
    gd_analyze(m, &a);
    write_optimum(w, &a);
}

int endpoint_surface(struct api_params *p, const struct gd_cancel *cancel, struct jw *w,
                     struct http_problem *err)
{
    struct prepared pr;
    double *bg, *wg, *loss;
    int rc = -1;
    if (prepare(p, p->scaler, cancel, &pr, err))
        return -1;
    /* From here on only the moments are needed: the data (24 bytes a point) is released before
     * the grid and the answer are allocated, which keeps the peak memory of a large surface
     * within a few times its answer. */
    const struct gd_moments moments = *grid_moments(p, &pr), *m = &moments;
    prepared_free(&pr);
    if (make_grid(p, m, &bg, &wg, err))
        return -1;
    loss = malloc(p->b_steps * p->w_steps * sizeof(*loss));
    if (!loss) {
        out_of_memory(err);
        goto out_free_grid;
    }
    struct gd_grid_min min;
    gd_surface(m, bg, p->b_steps, wg, p->w_steps, loss, &min);
    if (past_deadline(cancel, err))
        goto out_free_loss;

    /* the grid dominates: about 20 bytes per loss value */
    jw_reserve(w, p->b_steps * p->w_steps * 20 + 4096);
    jw_object_begin(w);
    params_write(w, p);
    jw_key(w, "b");
    jw_double_array(w, bg, p->b_steps);
    jw_key(w, "w");
    jw_double_array(w, wg, p->w_steps);
    jw_key(w, "loss");
    jw_double_matrix(w, loss, p->w_steps, p->b_steps);
    jw_key(w, "grid_min");
    jw_object_begin(w);
    jw_key_double(w, "b", min.b);
    jw_key_double(w, "w", min.w);
    jw_key_double(w, "loss", min.loss);
    jw_key_uint(w, "b_index", min.b_index);
    jw_key_uint(w, "w_index", min.w_index);
    jw_object_end(w);
    write_split_optimum(w, m);
    jw_object_end(w);
    rc = 0;

out_free_loss:
    free(loss);
out_free_grid:
    free(bg);
    free(wg);
    return rc;
}

static void write_geometric(struct jw *w, const struct gd_geometric *g)
{
    jw_key(w, "geometric");
    jw_object_begin(w);
    jw_key_double(w, "from", g->from);
    jw_key_double(w, "to", g->to);
    jw_key_double(w, "delta_param", g->delta_param);
    jw_key_double(w, "delta_loss", g->delta_loss);
    jw_key_double(w, "gradient", g->gradient);
    jw_object_end(w);
}

static void write_section(struct jw *w, const char *fixed, const char *varying, double fixed_value,
                          const double *values, const double *loss, size_t n, double gradient,
                          const struct gd_geometric *g)
{
    jw_object_begin(w);
    jw_key_string(w, "fixed", fixed);
    jw_key_string(w, "varying", varying);
    jw_key_double(w, "fixed_value", fixed_value);
    jw_key(w, "values");
    jw_double_array(w, values, n);
    jw_key(w, "loss");
    jw_double_array(w, loss, n);
    jw_key_double(w, "gradient", gradient);
    write_geometric(w, g);
    jw_object_end(w);
}

int endpoint_cross_section(struct api_params *p, const struct gd_cancel *cancel, struct jw *w,
                           struct http_problem *err)
{
    struct prepared pr;
    double *bg, *wg, *loss_w = NULL, *loss_b = NULL;
    int rc = -1;
    if (prepare(p, p->scaler, cancel, &pr, err))
        return -1;
    const struct gd_moments *m = grid_moments(p, &pr);
    if (make_grid(p, m, &bg, &wg, err))
        goto out_free_prepared;
    double b0, w0;
    gd_initial_params(p->data.seed, &b0, &w0);
    if (!param_given(p, P_B))
        p->b = b0;
    if (!param_given(p, P_W))
        p->w = w0;
    loss_w = malloc(p->w_steps * sizeof(*loss_w));
    loss_b = malloc(p->b_steps * sizeof(*loss_b));
    if (!loss_w || !loss_b) {
        out_of_memory(err);
        goto out_free_curves;
    }
    struct gd_cross_section cs;
    if (gd_cross_section(m, bg, p->b_steps, wg, p->w_steps, p->b, p->w, p->snap, p->delta, loss_w,
                         loss_b, &cs) != GD_OK) {
        problem_set(err, HTTP_E_OUT_OF_RANGE, "delta",
                    "delta %s does not reach another grid value from the point (grid steps: b "
                    "%s, w %s); use a larger delta or snap=false",
                    NUM(p->delta), NUM((p->b_max - p->b_min) / (double)(p->b_steps - 1)),
                    NUM((p->w_max - p->w_min) / (double)(p->w_steps - 1)));
        goto out_free_curves;
    }

    jw_object_begin(w);
    params_write(w, p);
    jw_key(w, "point");
    jw_object_begin(w);
    jw_key_double(w, "b", cs.b);
    jw_key_double(w, "w", cs.w);
    jw_key_uint(w, "b_index", cs.b_index);
    jw_key_uint(w, "w_index", cs.w_index);
    jw_key_double(w, "loss", cs.loss);
    jw_object_end(w);
    jw_key(w, "sections");
    jw_array_begin(w);
    write_section(w, "b", "w", cs.b, wg, loss_w, p->w_steps, cs.grad_w, &cs.geo_w);
    write_section(w, "w", "b", cs.w, bg, loss_b, p->b_steps, cs.grad_b, &cs.geo_b);
    jw_array_end(w);
    write_split_optimum(w, m);
    jw_object_end(w);
    rc = 0;

out_free_curves:
    free(loss_w);
    free(loss_b);
    free(bg);
    free(wg);
out_free_prepared:
    prepared_free(&pr);
    return rc;
}

/* ---- /train ------------------------------------------------------------------------------- */

static void write_history(struct jw *w, const struct gd_history *h)
{
    size_t n = h ? h->count : 0;
    jw_key(w, "history");
    jw_object_begin(w);
    jw_key(w, "epoch");
    jw_uint64_array(w, h ? h->epoch : NULL, n);
    jw_key(w, "b");
    jw_double_array(w, h ? h->b : NULL, n);
    jw_key(w, "w");
    jw_double_array(w, h ? h->w : NULL, n);
    jw_key(w, "train_loss");
    jw_double_array(w, h ? h->train_loss : NULL, n);
    jw_key(w, "val_loss");
    jw_double_array(w, h ? h->val_loss : NULL, n);
    jw_object_end(w);
}

/* format=csv: one row per recorded state, "lr,epoch,b,w,train_loss,val_loss". */
static void write_history_csv(struct jw *w, double lr, const struct gd_history *h)
{
    for (size_t k = 0; h && k < h->count; k++) {
        csv_double(w, lr);
        csv_raw(w, ",", 1);
        csv_uint(w, h->epoch[k]);
        csv_raw(w, ",", 1);
        csv_double(w, h->b[k]);
        csv_raw(w, ",", 1);
        csv_double(w, h->w[k]);
        csv_raw(w, ",", 1);
        csv_double(w, h->train_loss[k]);
        csv_raw(w, ",", 1);
        csv_double(w, h->val_loss[k]);
        csv_raw(w, "\n", 1);
    }
}

static void write_run(struct jw *w, double lr, const struct gd_run_result *r,
                      const struct gd_history *h)
{
    jw_object_begin(w);
    jw_key_double(w, "lr", lr);
    jw_key_string(w, "status", gd_run_status_name(r->status));
    jw_key_uint(w, "epochs_run", r->epochs_run);
    jw_key(w, "diverged_at");
    if (r->diverged_at < 0)
        jw_null(w);
    else
        jw_int(w, r->diverged_at);
    jw_key(w, "final");
    jw_object_begin(w);
    jw_key_double(w, "b", r->b);
    jw_key_double(w, "w", r->w);
    jw_key_double(w, "train_loss", r->train_loss);
    jw_key_double(w, "val_loss", r->val_loss);
    jw_key_double(w, "grad_b", r->grad_b);
    jw_key_double(w, "grad_w", r->grad_w);
    jw_object_end(w);
    write_history(w, h);
    jw_object_end(w);
}

int endpoint_train(struct api_params *p, const struct gd_cancel *cancel, struct jw *w,
                   struct http_problem *err)
{
    struct prepared pr;
    int rc = -1;
    if (prepare(p, p->scaler, cancel, &pr, err))
        return -1;
    double b0, w0;
    gd_initial_params(p->data.seed, &b0, &w0);
    if (!param_given(p, P_B0))
        p->b0 = b0;
    if (!param_given(p, P_W0))
        p->w0 = w0;
    size_t cap = gd_history_size(p->epochs, p->history);
    struct gd_history *h = NULL;
    if (cap) {
        h = gd_history_new(cap);
        if (!h) {
            out_of_memory(err);
            goto out_free_prepared;
        }
    }

    static const char csv_header[] = "lr,epoch,b,w,train_loss,val_loss\n";
    if (p->csv) {
        csv_raw(w, csv_header, sizeof(csv_header) - 1);
    } else {
        jw_object_begin(w);
        params_write(w, p);
        jw_key(w, "runs");
        jw_array_begin(w);
    }
    for (size_t k = 0; k < p->n_lr; k++) {
        struct gd_train_config cfg = {
            .lr = p->lr[k], .b0 = p->b0, .w0 = p->w0, .epochs = p->epochs, .tol = p->tol};
        if (cancel)
            cfg.cancel = *cancel;
        struct gd_run_result res;
        int status = gd_train(&pr.prob->train, &pr.prob->val, &cfg, h, &res);
        if (status == GD_ECANCELED) {
            deadline_exceeded(err);
            goto out_free_history;
        }
        if (status != GD_OK) {
            problem_set(err, HTTP_E_OUT_OF_RANGE, "lr", "run with lr = %s failed: %s",
                        NUM(p->lr[k]), gd_strerror(status));
            goto out_free_history;
        }
        if (p->csv)
            write_history_csv(w, p->lr[k], h);
        else
            write_run(w, p->lr[k], &res, h);
    }
    if (!p->csv) {
        jw_array_end(w);
        write_analysis(w, "analysis", &pr.analysis);
        jw_object_end(w);
    }
    rc = 0;

out_free_history:
    gd_history_free(h);
out_free_prepared:
    prepared_free(&pr);
    return rc;
}

/* ---- /scale ------------------------------------------------------------------------------- */

static void write_scaled_split(struct jw *w, const char *key, const struct prepared *pr, bool val)
{
    size_t n;
    const size_t *idx = split_index(pr->data, val, &n);
    jw_key(w, key);
    jw_object_begin(w);
    jw_key(w, "x_raw");
    jw_double_array_indexed(w, pr->data->x, idx, n);
    jw_key(w, "x");
    jw_double_array_indexed(w, pr->prob->x, idx, n);
    jw_object_end(w);
}

int endpoint_scale(struct api_params *p, const struct gd_cancel *cancel, struct jw *w,
                   struct http_problem *err)
{
    struct prepared pr;
    if (prepare(p, p->scaler, cancel, &pr, err))
        return -1;
    int status;
    struct gd_problem *raw = gd_problem_new(pr.data, GD_SCALER_NONE, &status);
    if (!raw) {
        /* the raw (multiplied) feature can overflow where the scaled one did not */
        int rc =
            status == GD_ENONFINITE ? too_big_for_analysis(p, pr.data, err) : out_of_memory(err);
        prepared_free(&pr);
        return rc;
    }
    struct gd_analysis before;
    if (gd_analyze(&raw->train, &before) == GD_ENONFINITE) {
        gd_problem_free(raw);
        int rc = too_big_for_analysis(p, pr.data, err);
        prepared_free(&pr);
        return rc;
    }

    jw_object_begin(w);
    params_write(w, p);
    write_scaler(w, &pr.prob->scaler);
    write_scaled_split(w, "train", &pr, false);
    write_scaled_split(w, "val", &pr, true);
    write_analysis(w, "before", &before);
    write_analysis(w, "after", &pr.analysis);
    jw_object_end(w);

    gd_problem_free(raw);
    prepared_free(&pr);
    return 0;
}
