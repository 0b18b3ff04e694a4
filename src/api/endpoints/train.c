#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api/endpoints/prepare.h"
#include "encode/csv.h"
#include "gdlab/gdlab.h"
#include "gdlab/optim.h"
#include "gdlab/stability.h"

/* /train: gradient descent for one or several learning rates, and the analysis that says why each
 * run converged or diverged. Beyond plain gradient descent: every (optimizer, learning rate) pair,
 * with mini-batches and schedules, as torch.optim runs them (gd_optim_run); a request that names
 * none of those parameters is answered exactly as before them (write_run), one that does gets the
 * report of each run (write_optim_run) and the exact stability bounds in its analysis. */

/* "history": the recorded states under unit ("epoch" or "step"), and the rate in force at each
 * when with_lr (a schedule is on). */
static void write_history(struct jw *w, const struct gd_history *h, const char *unit, bool with_lr)
{
    size_t n = h ? h->count : 0;
    jw_key(w, "history");
    jw_object_begin(w);
    jw_key(w, unit);
    jw_uint64_array(w, h ? h->epoch : NULL, n);
    jw_key(w, "b");
    jw_double_array(w, h ? h->b : NULL, n);
    jw_key(w, "w");
    jw_double_array(w, h ? h->w : NULL, n);
    jw_key(w, "train_loss");
    jw_double_array(w, h ? h->train_loss : NULL, n);
    jw_key(w, "val_loss");
    jw_double_array(w, h ? h->val_loss : NULL, n);
    if (with_lr) {
        jw_key(w, "lr");
        jw_double_array(w, h ? h->lr : NULL, n);
    }
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
    write_history(w, h, "epoch", false);
    jw_object_end(w);
}

/* ---- the optimizer report ---------------------------------------------------------------- */

/* The configuration of one run: torch's defaults for the optimizer (eps, weight_decay), then what
 * the request set. */
static void optim_config(const struct api_params *p, enum gd_optimizer kind, double lr,
                         const struct gd_cancel *cancel, struct gd_optim_config *cfg)
{
    gd_optim_config_default(cfg, kind, lr);
    api_set_hyperparameters(p, &cfg->opt);
    gd_schedule_default(&cfg->schedule, (enum gd_schedule_kind)p->schedule);
    cfg->schedule.step_size = p->step_size;
    cfg->schedule.gamma = p->gamma;
    cfg->schedule.t_max = p->t_max;
    cfg->schedule.eta_min = p->eta_min;
    cfg->b0 = p->b0;
    cfg->w0 = p->w0;
    cfg->epochs = p->epochs;
    cfg->batch_size = p->batch_size;
    cfg->shuffle = p->shuffle;
    cfg->shuffle_seed = p->shuffle_seed;
    cfg->tol = p->tol;
    cfg->history_unit = (enum gd_history_unit)p->history_unit;
    cfg->measure_rate = true;
    if (cancel)
        cfg->cancel = *cancel;
}

/* The history's states: epochs or optimizer steps over the whole run. */
static uint64_t history_units(const struct api_params *p, size_t n_train)
{
    if (p->history_unit != GD_HISTORY_STEP)
        return p->epochs;
    size_t per_epoch = p->batch_size ? gd_batches_per_epoch(n_train, p->batch_size) : 1;
    return p->epochs > UINT64_MAX / per_epoch ? UINT64_MAX : p->epochs * per_epoch;
}

/* The hyperparameters the optimizer reads, with the values it used. */
static void write_hyperparameters(struct jw *w, const struct gd_optim_params *o)
{
    const double values[] = {o->momentum, o->beta1, o->beta2, o->alpha, o->eps, o->weight_decay};
    unsigned uses = gd_optimizer_uses(o->kind);
    jw_key(w, "hyperparameters");
    jw_object_begin(w);
    for (unsigned k = 0; k < sizeof(values) / sizeof(values[0]); k++)
        if (uses & (1u << k))
            jw_key_double(w, gd_hyper_name(1u << k), values[k]);
    jw_object_end(w);
}

static void write_optim_run(struct jw *w, const struct api_params *p,
                            const struct gd_optim_config *cfg, const struct gd_optim_result *r,
                            const struct gd_history *h)
{
    jw_object_begin(w);
    jw_key_string(w, "optimizer", gd_optimizer_name(cfg->opt.kind));
    jw_key_double(w, "lr", cfg->opt.lr);
    write_hyperparameters(w, &cfg->opt);
    jw_key_string(w, "status", gd_run_status_name(r->run.status));
    jw_key_uint(w, "epochs_run", r->run.epochs_run);
    jw_key_uint(w, "steps_run", r->steps_run);
    jw_key(w, "diverged_at");
    if (r->run.diverged_at < 0)
        jw_null(w);
    else
        jw_int(w, r->run.diverged_at);
    jw_key_double(w, "lr_final", r->lr);
    /* per epoch; null where no closed form exists (adaptive rates, mini-batches, schedules) */
    jw_key(w, "rate");
    jw_object_begin(w);
    jw_key_double(w, "predicted", r->has_rate ? r->rate_predicted : NAN);
    jw_key_double(w, "measured", r->has_rate ? r->rate_measured : NAN);
    jw_object_end(w);
    jw_key(w, "final");
    jw_object_begin(w);
    jw_key_double(w, "b", r->run.b);
    jw_key_double(w, "w", r->run.w);
    jw_key_double(w, "train_loss", r->run.train_loss);
    jw_key_double(w, "val_loss", r->run.val_loss);
    jw_key_double(w, "grad_b", r->run.grad_b);
    jw_key_double(w, "grad_w", r->run.grad_w);
    jw_object_end(w);
    write_history(w, h, p->history_unit == GD_HISTORY_STEP ? "step" : "epoch",
                  p->schedule != GD_SCHED_CONSTANT);
    jw_object_end(w);
}

/* format=csv with the report: "optimizer,lr,epoch|step,b,w,train_loss,val_loss,lr_now". */
static void write_optim_history_csv(struct jw *w, const struct gd_optim_config *cfg,
                                    const struct gd_history *h)
{
    const char *name = gd_optimizer_name(cfg->opt.kind);
    for (size_t k = 0; h && k < h->count; k++) {
        csv_raw(w, name, strlen(name));
        csv_raw(w, ",", 1);
        csv_double(w, cfg->opt.lr);
        csv_raw(w, ",", 1);
        csv_uint(w, h->epoch[k]);
        const double values[] = {h->b[k], h->w[k], h->train_loss[k], h->val_loss[k], h->lr[k]};
        for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
            csv_raw(w, ",", 1);
            csv_double(w, values[i]);
        }
        csv_raw(w, "\n", 1);
    }
}

/* How big is too big, per optimizer, on the training split's Hessian (no weight decay): the
 * critical rates of gd, heavy-ball momentum and Nesterov at the request's momentum, and Polyak's
 * optimal heavy ball. */
static void write_stability(struct jw *w, const struct api_params *p, const struct gd_analysis *a)
{
    static const enum gd_optimizer kinds[] = {GD_OPT_GD, GD_OPT_MOMENTUM, GD_OPT_NESTEROV};
    struct gd_polyak polyak;
    gd_stability_polyak(a->lambda_min, a->lambda_max, &polyak);
    jw_key(w, "stability");
    jw_object_begin(w);
    jw_key_double(w, "momentum", p->momentum);
    jw_key(w, "lr_critical");
    jw_object_begin(w);
    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
        jw_key_double(w, gd_optimizer_name(kinds[k]),
                      gd_stability_lr_critical(kinds[k], p->momentum, a->lambda_max));
    jw_object_end(w);
    jw_key(w, "polyak");
    jw_object_begin(w);
    jw_key_double(w, "lr", polyak.lr);
    jw_key_double(w, "momentum", polyak.beta);
    jw_key_double(w, "rate", polyak.rate);
    jw_object_end(w);
    jw_object_end(w);
}

/* Every (optimizer, lr) run of a request with the report, in the order asked. */
static int run_optimizers(struct api_params *p, const struct api_prepared *pr,
                          const struct gd_cancel *cancel, struct gd_history *h, struct jw *w,
                          struct api_problem *prob)
{
    struct gd_optim_data data;
    gd_optim_data_from_problem(pr->scaled, &data);
    for (size_t i = 0; i < p->optimizer.n; i++) {
        for (size_t k = 0; k < p->lr.n; k++) {
            struct gd_optim_config cfg;
            struct gd_optim_result res;
            optim_config(p, (enum gd_optimizer)p->optimizer.v[i], p->lr.v[k], cancel, &cfg);
            int status = gd_optim_run(&data, &cfg, h, &res);
            if (status == GD_ECANCELED)
                return api_deadline_exceeded(prob);
            if (status != GD_OK) {
                const char *bad = gd_optim_config_invalid(&cfg, pr->scaled->train.n);
                return api_problem_from_status(
                    prob, status, bad ? bad : "lr", "the %s run with lr = %s failed: %s%s%s",
                    gd_optimizer_name(cfg.opt.kind), NUM(p->lr.v[k]), gd_strerror(status),
                    bad ? "; check " : "", bad ? bad : "");
            }
            if (p->format == API_FORMAT_CSV)
                write_optim_history_csv(w, &cfg, h);
            else
                write_optim_run(w, p, &cfg, &res, h);
        }
    }
    return 0;
}

/* Every lr of a request without the report: gd_train, as before the optimizers came. */
static int run_gd(struct api_params *p, const struct api_prepared *pr,
                  const struct gd_cancel *cancel, struct gd_history *h, struct jw *w,
                  struct api_problem *prob)
{
    for (size_t k = 0; k < p->lr.n; k++) {
        struct gd_train_config cfg = {
            .lr = p->lr.v[k], .b0 = p->b0, .w0 = p->w0, .epochs = p->epochs, .tol = p->tol};
        if (cancel)
            cfg.cancel = *cancel;
        struct gd_run_result res;
        int status = gd_train(&pr->scaled->train, &pr->scaled->val, &cfg, h, &res);
        if (status == GD_ECANCELED)
            return api_deadline_exceeded(prob);
        if (status != GD_OK)
            return api_problem_from_status(prob, status, "lr", "run with lr = %s failed: %s",
                                           NUM(p->lr.v[k]), gd_strerror(status));
        if (p->format == API_FORMAT_CSV)
            write_history_csv(w, p->lr.v[k], h);
        else
            write_run(w, p->lr.v[k], &res, h);
    }
    return 0;
}

int api_train(struct api_params *p, const struct gd_cancel *cancel, struct jw *w,
              struct api_problem *prob)
{
    struct api_prepared pr;
    int rc = -1;
    if (api_prepare(p, p->scaler, cancel, &pr, prob))
        return -1;
    api_resolve_start(p);
    size_t cap = gd_history_size(history_units(p, pr.scaled->train.n), p->history);
    struct gd_history *h = NULL;
    if (cap) {
        h = gd_history_new(cap);
        if (!h) {
            api_out_of_memory(prob);
            goto out_free_prepared;
        }
    }

    static const char csv_header[] = "lr,epoch,b,w,train_loss,val_loss\n";
    if (p->format == API_FORMAT_CSV && !p->optim_report) {
        csv_raw(w, csv_header, sizeof(csv_header) - 1);
    } else if (p->format == API_FORMAT_CSV) {
        const char *unit = p->history_unit == GD_HISTORY_STEP ? "step" : "epoch";
        csv_raw(w, "optimizer,lr,", 13);
        csv_raw(w, unit, strlen(unit));
        csv_raw(w, ",b,w,train_loss,val_loss,lr_now\n", 32);
    } else {
        jw_object_begin(w);
        api_params_write(w, p);
        jw_key(w, "runs");
        jw_array_begin(w);
    }
    if (p->optim_report ? run_optimizers(p, &pr, cancel, h, w, prob)
                        : run_gd(p, &pr, cancel, h, w, prob))
        goto out_free_history;
    if (p->format != API_FORMAT_CSV) {
        jw_array_end(w);
        jw_key(w, "analysis");
        jw_object_begin(w);
        api_write_analysis_fields(w, &pr.analysis);
        if (p->optim_report)
            write_stability(w, p, &pr.analysis);
        jw_object_end(w);
        jw_object_end(w);
    }
    rc = 0;

out_free_history:
    gd_history_free(h);
out_free_prepared:
    api_prepared_free(&pr);
    return rc;
}
