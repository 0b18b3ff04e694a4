/*
 * /lr-finder: Leslie Smith's learning-rate range test as torch_lr_finder's range_test runs it
 * (gd_lrfinder_run): one optimizer step per iteration at a rate rising exponentially or linearly
 * from start_lr to end_lr, each on the next batch, the batch loss before the step smoothed
 * exponentially, stopped once it exceeds diverge_th times the best. Beside the empirical answer
 * (the library plot's suggestion: the steepest descent of the smoothed loss) the exact one: the
 * training split's critical and optimal rates.
 */
#include <math.h>

#include "api/endpoints/prepare.h"
#include "gdlab/gdlab.h"
#include "gdlab/lrfinder.h"
#include "gdlab/stability.h"

static void lr_finder_config(const struct api_params *p, const struct gd_cancel *cancel,
                             struct gd_lrfinder_config *c)
{
    gd_lrfinder_config_default(c, (enum gd_optimizer)p->optimizer.v[0]);
    api_set_hyperparameters(p, &c->opt);
    c->batch_size = p->batch_size;
    c->shuffle = p->shuffle;
    c->shuffle_seed = p->shuffle_seed;
    c->b0 = p->b0;
    c->w0 = p->w0;
    c->start_lr = p->start_lr;
    c->end_lr = p->end_lr;
    c->num_iter = p->num_iter;
    c->mode = p->step_mode == API_STEP_LINEAR ? GD_LRFINDER_LINEAR : GD_LRFINDER_EXP;
    c->smooth_f = p->smooth_f;
    c->diverge_th = p->diverge_th;
    if (cancel)
        c->cancel = *cancel;
}

/* key: {"index", "lr", ... (both null when index is -1), left open for the caller to add members
 * and close. */
static void write_point_begin(struct jw *w, const char *key, int64_t index, double lr)
{
    jw_key(w, key);
    jw_object_begin(w);
    jw_key(w, "index");
    if (index < 0)
        jw_null(w);
    else
        jw_int(w, index);
    jw_key_double(w, "lr", index < 0 ? NAN : lr);
}

int api_lr_finder(struct api_params *p, const struct gd_cancel *cancel, struct jw *w,
                  struct api_problem *prob)
{
    struct api_prepared pr;
    int rc = -1;
    if (api_prepare(p, p->scaler, cancel, &pr, prob))
        return -1;
    api_resolve_start(p);
    struct gd_lrfinder_config cfg;
    lr_finder_config(p, cancel, &cfg);
    struct gd_lrfinder_result *res = gd_lrfinder_result_new(p->num_iter);
    if (!res) {
        api_out_of_memory(prob);
        goto out_free_prepared;
    }
    struct gd_optim_data data;
    gd_optim_data_from_problem(pr.scaled, &data);
    int status = gd_lrfinder_run(&data, &cfg, res);
    if (status == GD_ECANCELED) {
        api_deadline_exceeded(prob);
        goto out_free_result;
    }
    if (status != GD_OK) {
        const char *bad = gd_lrfinder_config_invalid(&cfg, pr.scaled->train.n);
        api_problem_from_status(prob, status, bad, "the range test cannot run: %s%s%s",
                                gd_strerror(status), bad ? "; check " : "", bad ? bad : "");
        goto out_free_result;
    }

    enum gd_optimizer kind = cfg.opt.kind;
    jw_object_begin(w);
    api_params_write(w, p);
    jw_key(w, "lr");
    jw_double_array(w, res->lr, res->count);
    jw_key(w, "loss");
    jw_double_array(w, res->loss, res->count);
    jw_key(w, "raw_loss");
    jw_double_array(w, res->raw_loss, res->count);
    jw_key(w, "stopped_at");
    if (res->stopped_at < 0)
        jw_null(w);
    else
        jw_int(w, res->stopped_at);
    write_point_begin(w, "suggestion", res->suggestion_index, res->suggestion_lr);
    jw_object_end(w);
    write_point_begin(w, "min_loss", res->best_index, res->best_lr);
    jw_key_double(w, "loss", res->best_index < 0 ? NAN : res->best_loss);
    jw_object_end(w);
    /* the exact answers on the training split: gd's, and the optimizer's own where one exists */
    jw_key_double(w, "lr_critical", pr.analysis.lr_critical);
    jw_key_double(w, "lr_optimal", pr.analysis.lr_optimal);
    jw_key_double(w, "lr_critical_optimizer",
                  cfg.batch_size == 0 && cfg.opt.weight_decay == 0.0
                      ? gd_stability_lr_critical(kind, cfg.opt.momentum, pr.analysis.lambda_max)
                      : NAN);
    api_write_analysis(w, "analysis", &pr.analysis);
    jw_object_end(w);
    rc = 0;

out_free_result:
    gd_lrfinder_result_free(res);
out_free_prepared:
    api_prepared_free(&pr);
    return rc;
}
