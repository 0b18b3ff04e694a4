/*
 * gd_optim_driver: runs gd_optim_run on configurations read one per line from stdin and prints
 * the run, its history and the data it trained on as C99 hex floats, for diff_torch.py to hold
 * against torch.optim. A configuration is space-separated key=value fields, the dataset's as in
 * gd_diff_driver (seed n tb tw noise m frac data scaler) and one run's:
 *
 *   id=7 opt=adam lr=0x1p-4 epochs=200 batch=16 shuffle=1 sseed=42 sched=cosine step_size=10
 *   gamma=0.5 t_max=0 eta_min=0 mom=0.9 beta1=0.9 beta2=0.999 alpha=0.99 eps=1e-8 wd=0
 *   hmax=50 unit=step b0=0x1p-1 w0=-0x1p-3 tol=0
 *
 * Hyperparameters left out take torch's defaults for the optimizer. Output per configuration:
 * "cfg ID", the data ("x", "y", "idx", "n_train", "moments_train"), "status", "run ...", the
 * history ("hist_t", "hist_b", "hist_w", "hist_train", "hist_lr"), "end".
 *
 * task=lrfinder runs gd_lrfinder_run instead (for diff_lrfinder.py), with the optimizer, batch,
 * shuffle, b0 and w0 fields above (lr, epochs, sched, hmax, unit and tol unread) and
 *
 *   start_lr=1e-4 end_lr=10 num_iter=100 mode=exp smooth_f=0.05 diverge_th=5 skip_start=10
 *   skip_end=5
 *
 * (left out: the library's defaults). Its output replaces "run" and the history with
 * "analysis lr_critical lr_optimal", "lrf_status", "lrf_invalid", "lrf_result stopped_at count
 * best_index best_lr best_loss suggestion_index suggestion_lr b w", "lrf_lr", "lrf_loss",
 * "lrf_raw".
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gdlab/gdlab.h"

struct config {
    long id;
    struct gd_dataset_params params;
    const char *data_path;
    enum gd_scaler_kind scaler;
    struct gd_optim_config run;
    bool lrfinder; /* task=lrfinder */
    struct gd_lrfinder_config lrf;
    size_t hmax;
    /* hyperparameters given on the line, applied over the optimizer's defaults */
    double mom, beta1, beta2, alpha, eps, wd;
    unsigned given;
};

static void print_array(const char *kind, const double *v, size_t n)
{
    fputs(kind, stdout);
    for (size_t i = 0; i < n; i++)
        printf(" %a", v[i]);
    putchar('\n');
}

static bool parse_config(char *line, struct config *c)
{
    gd_dataset_params_default(&c->params);
    gd_optim_config_default(&c->run, GD_OPT_GD, 0.1);
    c->hmax = 100;
    gd_lrfinder_config_default(&c->lrf, GD_OPT_GD);
    char *save = NULL;
    enum gd_optimizer kind = GD_OPT_GD;
    double lr = 0.1;
    struct gd_schedule sched;
    gd_schedule_default(&sched, GD_SCHED_CONSTANT);
    bool sched_set[4] = {false, false, false, false};
    struct gd_schedule given_sched = sched;
    for (char *tok = strtok_r(line, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq)
            return false;
        *eq = '\0';
        const char *key = tok, *val = eq + 1;
        double v = strtod(val, NULL);
        if (strcmp(key, "id") == 0)
            c->id = strtol(val, NULL, 10);
        else if (strcmp(key, "seed") == 0)
            c->params.seed = (uint32_t)strtoul(val, NULL, 10);
        else if (strcmp(key, "n") == 0)
            c->params.n = (size_t)strtoull(val, NULL, 10);
        else if (strcmp(key, "tb") == 0)
            c->params.true_b = v;
        else if (strcmp(key, "tw") == 0)
            c->params.true_w = v;
        else if (strcmp(key, "noise") == 0)
            c->params.noise = v;
        else if (strcmp(key, "m") == 0)
            c->params.x_multiplier = v;
        else if (strcmp(key, "frac") == 0)
            c->params.train_fraction = v;
        else if (strcmp(key, "data") == 0)
            c->data_path = val;
        else if (strcmp(key, "scaler") == 0)
            c->scaler = strcmp(val, "standard") == 0 ? GD_SCALER_STANDARD
                        : strcmp(val, "minmax") == 0 ? GD_SCALER_MINMAX
                                                     : GD_SCALER_NONE;
        else if (strcmp(key, "opt") == 0) {
            if (gd_optimizer_parse(val, &kind) != GD_OK)
                return false;
        } else if (strcmp(key, "lr") == 0)
            lr = v;
        else if (strcmp(key, "epochs") == 0)
            c->run.epochs = strtoull(val, NULL, 10);
        else if (strcmp(key, "batch") == 0)
            c->run.batch_size = (size_t)strtoull(val, NULL, 10);
        else if (strcmp(key, "shuffle") == 0)
            c->run.shuffle = v != 0.0;
        else if (strcmp(key, "sseed") == 0)
            c->run.shuffle_seed = (uint32_t)strtoul(val, NULL, 10);
        else if (strcmp(key, "sched") == 0) {
            if (gd_schedule_parse(val, &sched.kind) != GD_OK)
                return false;
        } else if (strcmp(key, "step_size") == 0) {
            given_sched.step_size = strtoull(val, NULL, 10);
            sched_set[0] = true;
        } else if (strcmp(key, "gamma") == 0) {
            given_sched.gamma = v;
            sched_set[1] = true;
        } else if (strcmp(key, "t_max") == 0) {
            given_sched.t_max = strtoull(val, NULL, 10);
            sched_set[2] = true;
        } else if (strcmp(key, "eta_min") == 0) {
            given_sched.eta_min = v;
            sched_set[3] = true;
        } else if (strcmp(key, "mom") == 0) {
            c->mom = v;
            c->given |= GD_HYPER_MOMENTUM;
        } else if (strcmp(key, "beta1") == 0) {
            c->beta1 = v;
            c->given |= GD_HYPER_BETA1;
        } else if (strcmp(key, "beta2") == 0) {
            c->beta2 = v;
            c->given |= GD_HYPER_BETA2;
        } else if (strcmp(key, "alpha") == 0) {
            c->alpha = v;
            c->given |= GD_HYPER_ALPHA;
        } else if (strcmp(key, "eps") == 0) {
            c->eps = v;
            c->given |= GD_HYPER_EPS;
        } else if (strcmp(key, "wd") == 0) {
            c->wd = v;
            c->given |= GD_HYPER_WEIGHT_DECAY;
        } else if (strcmp(key, "hmax") == 0)
            c->hmax = (size_t)strtoull(val, NULL, 10);
        else if (strcmp(key, "unit") == 0)
            c->run.history_unit = strcmp(val, "step") == 0 ? GD_HISTORY_STEP : GD_HISTORY_EPOCH;
        else if (strcmp(key, "b0") == 0)
            c->run.b0 = v;
        else if (strcmp(key, "w0") == 0)
            c->run.w0 = v;
        else if (strcmp(key, "tol") == 0)
            c->run.tol = v;
        else if (strcmp(key, "task") == 0)
            c->lrfinder = strcmp(val, "lrfinder") == 0;
        else if (strcmp(key, "start_lr") == 0)
            c->lrf.start_lr = v;
        else if (strcmp(key, "end_lr") == 0)
            c->lrf.end_lr = v;
        else if (strcmp(key, "num_iter") == 0)
            c->lrf.num_iter = strtoull(val, NULL, 10);
        else if (strcmp(key, "mode") == 0) {
            if (gd_lrfinder_mode_parse(val, &c->lrf.mode) != GD_OK)
                return false;
        } else if (strcmp(key, "smooth_f") == 0)
            c->lrf.smooth_f = v;
        else if (strcmp(key, "diverge_th") == 0)
            c->lrf.diverge_th = v;
        else if (strcmp(key, "skip_start") == 0)
            c->lrf.skip_start = (size_t)strtoull(val, NULL, 10);
        else if (strcmp(key, "skip_end") == 0)
            c->lrf.skip_end = (size_t)strtoull(val, NULL, 10);
        else
            return false;
    }
    gd_optim_params_default(&c->run.opt, kind, lr);
    struct gd_optim_params *o = &c->run.opt;
    if (c->given & GD_HYPER_MOMENTUM)
        o->momentum = c->mom;
    if (c->given & GD_HYPER_BETA1)
        o->beta1 = c->beta1;
    if (c->given & GD_HYPER_BETA2)
        o->beta2 = c->beta2;
    if (c->given & GD_HYPER_ALPHA)
        o->alpha = c->alpha;
    if (c->given & GD_HYPER_EPS)
        o->eps = c->eps;
    if (c->given & GD_HYPER_WEIGHT_DECAY)
        o->weight_decay = c->wd;
    gd_schedule_default(&c->run.schedule, sched.kind);
    if (sched_set[0])
        c->run.schedule.step_size = given_sched.step_size;
    if (sched_set[1])
        c->run.schedule.gamma = given_sched.gamma;
    if (sched_set[2])
        c->run.schedule.t_max = given_sched.t_max;
    if (sched_set[3])
        c->run.schedule.eta_min = given_sched.eta_min;
    c->lrf.opt = c->run.opt;
    c->lrf.batch_size = c->run.batch_size;
    c->lrf.shuffle = c->run.shuffle;
    c->lrf.shuffle_seed = c->run.shuffle_seed;
    c->lrf.b0 = c->run.b0;
    c->lrf.w0 = c->run.w0;
    return true;
}

/* Inline data: n lines of "x y"; a short or unreadable file leaves the config in error. */
static int load_inline(struct gd_dataset *d, const struct config *c)
{
    FILE *fp = fopen(c->data_path, "r");
    if (!fp)
        return GD_EINVAL;
    int status = GD_ENOMEM;
    double *x = malloc(d->n * sizeof(*x)), *y = malloc(d->n * sizeof(*y));
    if (!x || !y)
        goto out_free;
    status = GD_EINVAL;
    char line[256];
    for (size_t i = 0; i < d->n; i++) {
        char *end;
        if (!fgets(line, sizeof(line), fp))
            goto out_free;
        x[i] = strtod(line, &end);
        y[i] = strtod(end, NULL);
    }
    status =
        gd_dataset_load(d, x, y, c->params.x_multiplier, c->params.seed, c->params.train_fraction);
out_free:
    free(x);
    free(y);
    fclose(fp);
    return status;
}

/* The range test of one configuration on a prepared problem. */
static void run_lrfinder(const struct config *c, const struct gd_problem *p)
{
    struct gd_analysis a;
    gd_analyze(&p->train, &a);
    printf("analysis %a %a\n", a.lr_critical, a.lr_optimal);
    const char *bad = gd_lrfinder_config_invalid(&c->lrf, p->data->n_train);
    printf("lrf_invalid %s\n", bad ? bad : "-");
    struct gd_optim_data od;
    gd_optim_data_from_problem(p, &od);
    struct gd_lrfinder_result *r = gd_lrfinder_result_new(c->lrf.num_iter);
    int status = r ? gd_lrfinder_run(&od, &c->lrf, r) : GD_ENOMEM;
    printf("lrf_status %s\n", gd_status_name(status));
    if (status == GD_OK) {
        printf("lrf_result %" PRId64 " %zu %" PRId64 " %a %a %" PRId64 " %a %a %a\n", r->stopped_at,
               r->count, r->best_index, r->best_lr, r->best_loss, r->suggestion_index,
               r->suggestion_lr, r->b, r->w);
        print_array("lrf_lr", r->lr, r->count);
        print_array("lrf_loss", r->loss, r->count);
        print_array("lrf_raw", r->raw_loss, r->count);
    }
    gd_lrfinder_result_free(r);
}

static void run_config(const struct config *c)
{
    printf("cfg %ld\n", c->id);
    struct gd_dataset *d = gd_dataset_new(c->params.n);
    struct gd_problem *p = NULL;
    struct gd_history *h = NULL;
    int status = d ? GD_OK : GD_EINVAL;
    if (status == GD_OK)
        status = c->data_path ? load_inline(d, c) : gd_dataset_generate(d, &c->params);
    if (status == GD_OK)
        p = gd_problem_new(d, c->scaler, &status);
    printf("status %s\n", gd_status_name(status));
    if (!p)
        goto out_free;
    print_array("x", p->x, d->n);
    print_array("y", d->y, d->n);
    printf("idx");
    for (size_t i = 0; i < d->n; i++)
        printf(" %zu", d->idx[i]);
    printf("\nn_train %zu\n", d->n_train);
    const struct gd_moments *m = &p->train;
    printf("moments_train %a %a %a %a %a %a %a\n", m->x_mean, m->y_mean, m->cxx, m->cxy, m->cyy,
           m->w_opt, m->loss_opt);
    m = &p->val;
    printf("moments_val %a %a %a %a %a %a %a\n", m->x_mean, m->y_mean, m->cxx, m->cxy, m->cyy,
           m->w_opt, m->loss_opt);
    if (c->lrfinder) {
        run_lrfinder(c, p);
        goto out_free;
    }
    const char *bad = gd_optim_config_invalid(&c->run, d->n_train);
    printf("invalid %s\n", bad ? bad : "-");
    h = gd_history_new(c->hmax);
    struct gd_optim_data od;
    gd_optim_data_from_problem(p, &od);
    struct gd_optim_result r;
    status = h ? gd_optim_run(&od, &c->run, h, &r) : GD_ENOMEM;
    printf("run_status %s\n", gd_status_name(status));
    if (status != GD_OK)
        goto out_free;
    double lmin, lmax;
    gd_stability_eigen(&p->train, &lmin, &lmax);
    printf("run %s %" PRIu64 " %" PRIu64 " %" PRId64 " %a %a %a %a %a %a %a %d %a %a %a %a\n",
           gd_run_status_name(r.run.status), r.run.epochs_run, r.steps_run, r.run.diverged_at,
           r.run.b, r.run.w, r.run.train_loss, r.run.val_loss, r.run.grad_b, r.run.grad_w, r.lr,
           r.has_rate, r.rate_predicted, r.rate_measured, lmin, lmax);
    printf("hist_t");
    for (size_t i = 0; i < h->count; i++)
        printf(" %" PRIu64, h->epoch[i]);
    putchar('\n');
    print_array("hist_b", h->b, h->count);
    print_array("hist_w", h->w, h->count);
    print_array("hist_train", h->train_loss, h->count);
    print_array("hist_val", h->val_loss, h->count);
    print_array("hist_lr", h->lr, h->count);
out_free:
    gd_history_free(h);
    gd_problem_free(p);
    gd_dataset_free(d);
    printf("end\n");
}

int main(void)
{
    char *line = NULL;
    size_t cap = 0;
    int bad = 0;
    while (getline(&line, &cap, stdin) > 0) {
        if (line[0] == '\n' || line[0] == '#')
            continue;
        struct config c = {0};
        if (!parse_config(line, &c)) {
            fprintf(stderr, "gd_optim_driver: bad configuration line\n");
            bad = 1;
            continue;
        }
        run_config(&c);
        fflush(stdout);
    }
    free(line);
    return bad ? EXIT_FAILURE : EXIT_SUCCESS;
}
