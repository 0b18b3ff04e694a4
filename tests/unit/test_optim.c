/* Optimizers, schedules, mini-batches, the divergence rule and the stability formulas. torch's
 * bits are held by tests/diff/diff_torch.py; these check the properties each part must have. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

static struct tu_file *vectors;

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ---- stability: closed forms against numpy.roots ---- */

/* One test per optimizer over all its vectors: a forked test per record is slow under ASan. */
static const char *const rho_kinds[] = {"gd", "momentum", "nesterov"};

START_TEST(rho_matches_numpy_roots)
{
    size_t seen = 0;
    for (size_t i = 0; i < tu_count(vectors, "rho"); i++) {
        const struct tu_record *r = &vectors->rec[tu_find(vectors, "rho", i)];
        if (strcmp(r->field[0], rho_kinds[_i]) != 0)
            continue;
        enum gd_optimizer kind;
        ck_assert_int_eq(gd_optimizer_parse(r->field[0], &kind), GD_OK);
        double lr = tu_double(r->field[1]), beta = tu_double(r->field[2]);
        double lambda = tu_double(r->field[3]), want = tu_double(r->field[4]);
        /* a double root moves by sqrt(eps) under a last-bit change: numpy.roots is no better */
        double rel = tu_u64(r->field[5]) ? 1e-7 : 1e-12;
        double got = gd_stability_rho1(kind, lr, beta, lambda);
        ck_assert_msg(tu_close(got, want, rel, 1e-15), "rho record %zu: %a (%.17g), numpy %a", i,
                      got, got, want);
        seen++;
    }
    ck_assert_uint_gt(seen, 100);
}
END_TEST

/* Just below each critical rate rho < 1, just above it rho > 1. */
static const struct crit_case {
    enum gd_optimizer kind;
    double beta, lambda_max;
} crit_cases[] = {
    {GD_OPT_GD, 0, 5.05},          {GD_OPT_MOMENTUM, 0.9, 5.05}, {GD_OPT_MOMENTUM, 0.0, 2.0},
    {GD_OPT_MOMENTUM, 0.99, 0.3},  {GD_OPT_NESTEROV, 0.9, 5.05}, {GD_OPT_NESTEROV, 0.5, 400.0},
    {GD_OPT_NESTEROV, 0.99, 1e-2},
};

START_TEST(critical_rate_is_the_edge)
{
    const struct crit_case *c = &crit_cases[_i];
    double lmin = c->lambda_max / 50.0;
    double crit = gd_stability_lr_critical(c->kind, c->beta, c->lambda_max);
    ck_assert(gd_stability_rho(c->kind, crit * (1 - 1e-9), c->beta, lmin, c->lambda_max) < 1.0);
    ck_assert(gd_stability_rho(c->kind, crit * (1 + 1e-9), c->beta, lmin, c->lambda_max) > 1.0);
    TU_ASSERT_CLOSE(gd_stability_rho1(c->kind, crit, c->beta, c->lambda_max), 1.0, 1e-12, 0);
    if (c->kind == GD_OPT_GD)
        TU_ASSERT_CLOSE(crit, 2.0 / c->lambda_max, 1e-15, 0);
    ck_assert(isnan(gd_stability_lr_critical(GD_OPT_ADAM, c->beta, c->lambda_max)));
}
END_TEST

/* Polyak's heavy ball: both eigen-directions contract at sqrt(beta*) = the rate, no other
 * (lr, beta) does better, and the tutorial's condition number gives the textbook numbers. */
START_TEST(polyak_optimum)
{
    struct fixture f;
    fixture_make(&f, 42, 100, 1.0, GD_SCALER_NONE);
    double lmin, lmax;
    gd_stability_eigen(&f.problem->train, &lmin, &lmax);
    struct gd_analysis a;
    ck_assert_int_eq(gd_analyze(&f.problem->train, &a), GD_OK);
    TU_ASSERT_BITS(lmin, a.lambda_min);
    TU_ASSERT_BITS(lmax, a.lambda_max);
    struct gd_polyak pk;
    gd_stability_polyak(lmin, lmax, &pk);
    double sk = sqrt(a.condition);
    TU_ASSERT_CLOSE(pk.rate, (sk - 1) / (sk + 1), 1e-14, 0);
    TU_ASSERT_CLOSE(pk.beta, pk.rate * pk.rate, 1e-15, 0);
    TU_ASSERT_CLOSE(pk.lr, 4.0 / pow(sqrt(lmax) + sqrt(lmin), 2), 1e-15, 0);
    TU_ASSERT_CLOSE(gd_stability_rho(GD_OPT_MOMENTUM, pk.lr, pk.beta, lmin, lmax), pk.rate, 1e-7,
                    0);
    for (double dl = -0.05; dl <= 0.05; dl += 0.01)
        for (double db = -0.05; db <= 0.05; db += 0.01)
            ck_assert(gd_stability_rho(GD_OPT_MOMENTUM, pk.lr * (1 + dl), pk.beta + db * pk.beta,
                                       lmin, lmax) >= pk.rate * (1 - 1e-7));
    /* better than the best gd rate (k - 1)/(k + 1) */
    ck_assert(pk.rate < (a.condition - 1) / (a.condition + 1));
    gd_stability_polyak(0.0, 1.0, &pk);
    ck_assert(isnan(pk.lr) && isnan(pk.beta) && isnan(pk.rate));
    fixture_free(&f);
}
END_TEST

/* The fixed point with weight decay zeroes grad L + wd p. */
START_TEST(fixed_point_with_weight_decay)
{
    struct fixture f;
    fixture_make(&f, 42, 100, 10.0, GD_SCALER_NONE);
    const double wds[] = {0.0, 1e-3, 0.1, 3.0};
    for (int k = 0; k < COUNT(wds); k++) {
        double b, w, gb, gw;
        gd_stability_fixed_point(&f.problem->train, wds[k], &b, &w);
        gd_gradient(&f.problem->train, b, w, &gb, &gw);
        ck_assert(fabs(gb + wds[k] * b) < 1e-13 && fabs(gw + wds[k] * w) < 1e-12);
    }
    fixture_free(&f);
}
END_TEST

/* ---- runs ---- */

static void tutorial_start(double *b0, double *w0)
{
    gd_initial_params(42, b0, w0);
}

/* gd at a constant rate on the full batch is gd_train: the same bits, history included. */
static const struct gd_case {
    double m, lr, tol;
    uint64_t epochs;
    size_t cap;
} gd_cases[] = {
    {1.0, 0.1, 0, 1000, 11}, {1.0, 0.8, 0, 100001, 7},    {1.0, 0.81, 0, 300, 50},
    {10.0, 0.1, 0, 2000, 9}, {1.0, 0.5, 1e-8, 100000, 5}, {1.0, 8.0, 0, 100000, 4},
};

START_TEST(gd_is_gd_train)
{
    const struct gd_case *c = &gd_cases[_i];
    struct fixture f;
    fixture_make(&f, 42, 100, c->m, GD_SCALER_NONE);
    struct gd_optim_data d;
    gd_optim_data_from_problem(f.problem, &d);
    struct gd_optim_config cfg;
    gd_optim_config_default(&cfg, GD_OPT_GD, c->lr);
    tutorial_start(&cfg.b0, &cfg.w0);
    cfg.epochs = c->epochs;
    cfg.tol = c->tol;
    struct gd_history *h1 = gd_history_new(c->cap), *h2 = gd_history_new(c->cap);
    ck_assert_ptr_nonnull(h1);
    ck_assert_ptr_nonnull(h2);
    struct gd_optim_result r;
    ck_assert_int_eq(gd_optim_run(&d, &cfg, h1, &r), GD_OK);
    struct gd_train_config tc = {
        .lr = c->lr, .b0 = cfg.b0, .w0 = cfg.w0, .epochs = c->epochs, .tol = c->tol};
    struct gd_run_result t;
    ck_assert_int_eq(gd_train(&f.problem->train, &f.problem->val, &tc, h2, &t), GD_OK);
    ck_assert_int_eq(r.run.status, t.status);
    ck_assert_uint_eq(r.run.epochs_run, t.epochs_run);
    ck_assert_uint_eq(r.steps_run, t.epochs_run);
    ck_assert_int_eq(r.run.diverged_at, t.diverged_at);
    TU_ASSERT_BITS(r.run.b, t.b);
    TU_ASSERT_BITS(r.run.w, t.w);
    TU_ASSERT_BITS(r.run.train_loss, t.train_loss);
    TU_ASSERT_BITS(r.run.val_loss, t.val_loss);
    TU_ASSERT_BITS(r.lr, c->lr);
    ck_assert_uint_eq(h1->count, h2->count);
    for (size_t k = 0; k < h1->count; k++) {
        ck_assert_uint_eq(h1->epoch[k], h2->epoch[k]);
        TU_ASSERT_BITS(h1->b[k], h2->b[k]);
        TU_ASSERT_BITS(h1->w[k], h2->w[k]);
        TU_ASSERT_BITS(h1->train_loss[k], h2->train_loss[k]);
        TU_ASSERT_BITS(h1->lr[k], c->lr);
    }
    ck_assert(r.has_rate);
    gd_history_free(h1);
    gd_history_free(h2);
    fixture_free(&f);
}
END_TEST

/* The divergence rule (optim.h) on runs whose fate is known: heavy ball overshooting the start
 * and converging, runs past their critical rate, adaptive runs with bounded steps. */
static const struct diverge_case {
    const char *what;
    enum gd_optimizer kind;
    double lr;    /* absolute, or a multiple of the critical rate when crit is set */
    bool crit;    /* lr is a multiple of the optimizer's critical rate */
    double wd;    /* -1: the default */
    size_t batch; /* 0 full */
    enum gd_schedule_kind sched;
    uint64_t epochs;
    enum gd_run_status want;
    double overshoot;  /* the history's largest loss must exceed overshoot x the start */
    int64_t caught_by; /* diverged_at must be in [1, caught_by] */
} diverge_cases[] = {
    {"heavy ball 0.5", GD_OPT_MOMENTUM, 0.5, false, -1, 0, GD_SCHED_CONSTANT, 300,
     GD_RUN_MAX_EPOCHS, 1.05, 0},
    {"heavy ball 1.0", GD_OPT_MOMENTUM, 1.0, false, -1, 0, GD_SCHED_CONSTANT, 300,
     GD_RUN_MAX_EPOCHS, 2.0, 0},
    {"heavy ball 1.4", GD_OPT_MOMENTUM, 1.4, false, -1, 0, GD_SCHED_CONSTANT, 300,
     GD_RUN_MAX_EPOCHS, 8.0, 0},
    {"heavy ball 0.999 crit", GD_OPT_MOMENTUM, 0.999, true, -1, 0, GD_SCHED_CONSTANT, 3000,
     GD_RUN_MAX_EPOCHS, 1.0, 0},
    {"heavy ball 1.01 crit", GD_OPT_MOMENTUM, 1.01, true, -1, 0, GD_SCHED_CONSTANT, 3000,
     GD_RUN_DIVERGED, 1.0, 40},
    {"nesterov 0.99 crit", GD_OPT_NESTEROV, 0.99, true, -1, 0, GD_SCHED_CONSTANT, 3000,
     GD_RUN_MAX_EPOCHS, 0, 0},
    {"nesterov 1.01 crit", GD_OPT_NESTEROV, 1.01, true, -1, 0, GD_SCHED_CONSTANT, 3000,
     GD_RUN_DIVERGED, 1.0, 40},
    {"adam lr 5", GD_OPT_ADAM, 5.0, false, -1, 0, GD_SCHED_CONSTANT, 2000, GD_RUN_MAX_EPOCHS, 1.0,
     0},
    {"rmsprop lr 3", GD_OPT_RMSPROP, 3.0, false, -1, 0, GD_SCHED_CONSTANT, 2000, GD_RUN_MAX_EPOCHS,
     1.0, 0},
    {"adagrad lr 50", GD_OPT_ADAGRAD, 50.0, false, -1, 0, GD_SCHED_CONSTANT, 2000,
     GD_RUN_MAX_EPOCHS, 1.0, 0},
    {"adamw lr*wd 3", GD_OPT_ADAMW, 30.0, false, 0.1, 0, GD_SCHED_CONSTANT, 2000, GD_RUN_DIVERGED,
     1.0, 60},
    {"mini-batch gd past its rate", GD_OPT_GD, 1.5, false, -1, 16, GD_SCHED_CONSTANT, 2000,
     GD_RUN_DIVERGED, 1.0, 100},
    {"mini-batch momentum batch 1", GD_OPT_MOMENTUM, 0.05, false, -1, 1, GD_SCHED_CONSTANT, 200,
     GD_RUN_MAX_EPOCHS, 0, 0},
    {"gd 1.2 crit, cosine to 0", GD_OPT_GD, 1.2, true, -1, 0, GD_SCHED_COSINE, 400,
     GD_RUN_MAX_EPOCHS, 1e8, 0},
    {"gd 1.2 crit, exponential 0.9999", GD_OPT_GD, 1.2, true, -1, 0, GD_SCHED_EXPONENTIAL, 400,
     GD_RUN_DIVERGED, 1e8, 120},
};

START_TEST(divergence_rule)
{
    const struct diverge_case *c = &diverge_cases[_i];
    struct fixture f;
    fixture_make(&f, 42, 100, 1.0, GD_SCALER_NONE);
    struct gd_optim_data d;
    gd_optim_data_from_problem(f.problem, &d);
    struct gd_optim_config cfg;
    double lmin, lmax;
    gd_stability_eigen(&f.problem->train, &lmin, &lmax);
    double lr = c->crit ? c->lr * gd_stability_lr_critical(c->kind, 0.9, lmax) : c->lr;
    gd_optim_config_default(&cfg, c->kind, lr);
    if (c->wd >= 0)
        cfg.opt.weight_decay = c->wd;
    tutorial_start(&cfg.b0, &cfg.w0);
    cfg.epochs = c->epochs;
    cfg.batch_size = c->batch;
    gd_schedule_default(&cfg.schedule, c->sched);
    if (c->sched == GD_SCHED_EXPONENTIAL)
        cfg.schedule.gamma = 0.9999; /* stays past the critical rate */
    struct gd_history *h = gd_history_new(100000);
    ck_assert_ptr_nonnull(h);
    struct gd_optim_result r;
    ck_assert_int_eq(gd_optim_run(&d, &cfg, h, &r), GD_OK);
    ck_assert_msg(r.run.status == c->want, "%s: %s (diverged_at %lld)", c->what,
                  gd_run_status_name(r.run.status), (long long)r.run.diverged_at);
    double top = 0;
    for (size_t k = 0; k < h->count; k++)
        top = isfinite(h->train_loss[k]) ? fmax(top, h->train_loss[k]) : INFINITY;
    ck_assert_msg(top > c->overshoot * h->train_loss[0], "%s: largest loss %g, start %g", c->what,
                  top, h->train_loss[0]);
    if (c->want == GD_RUN_DIVERGED) {
        ck_assert_msg(r.run.diverged_at >= 1 && r.run.diverged_at <= c->caught_by,
                      "%s: caught at %lld", c->what, (long long)r.run.diverged_at);
    } else {
        ck_assert_int_eq(r.run.diverged_at, -1);
        ck_assert(isfinite(r.run.train_loss));
    }
    gd_history_free(h);
    fixture_free(&f);
}
END_TEST

/* Measured against predicted rate on long full-batch runs. */
static const struct rate_case {
    enum gd_optimizer kind;
    double m, lr, beta;
} rate_cases[] = {
    {GD_OPT_GD, 1.0, 0.1, 0},           {GD_OPT_GD, 1.0, 0.7, 0},
    {GD_OPT_GD, 10.0, 0.01, 0},         {GD_OPT_MOMENTUM, 1.0, 0.1, 0.9},
    {GD_OPT_MOMENTUM, 1.0, 1.4, 0.9},   {GD_OPT_MOMENTUM, 1.0, 0.3, 0.5},
    {GD_OPT_NESTEROV, 1.0, 0.1, 0.9},   {GD_OPT_NESTEROV, 1.0, 0.5, 0.9},
    {GD_OPT_MOMENTUM, 10.0, 0.01, 0.9},
};

START_TEST(measured_rate_is_predicted)
{
    const struct rate_case *c = &rate_cases[_i];
    struct fixture f;
    fixture_make(&f, 42, 100, c->m, GD_SCALER_NONE);
    struct gd_optim_data d;
    gd_optim_data_from_problem(f.problem, &d);
    struct gd_optim_config cfg;
    gd_optim_config_default(&cfg, c->kind, c->lr);
    cfg.opt.momentum = c->beta;
    tutorial_start(&cfg.b0, &cfg.w0);
    cfg.epochs = 100000;
    struct gd_optim_result r;
    ck_assert_int_eq(gd_optim_run(&d, &cfg, NULL, &r), GD_OK);
    ck_assert(r.has_rate);
    double lmin, lmax;
    gd_stability_eigen(&f.problem->train, &lmin, &lmax);
    TU_ASSERT_BITS(r.rate_predicted, gd_stability_rho(c->kind, c->lr, c->beta, lmin, lmax));
    /* in e-folds per epoch, within 3 %: the fit of an oscillating ln d(t) has a small bias */
    ck_assert_msg(fabs(log(r.rate_measured) - log(r.rate_predicted)) <=
                      0.03 * fabs(log(r.rate_predicted)),
                  "measured %.6f predicted %.6f", r.rate_measured, r.rate_predicted);
    /* none where there is no closed form */
    cfg.opt.kind = GD_OPT_ADAM;
    cfg.epochs = 100;
    ck_assert_int_eq(gd_optim_run(&d, &cfg, NULL, &r), GD_OK);
    ck_assert(!r.has_rate && isnan(r.rate_predicted) && isnan(r.rate_measured));
    fixture_free(&f);
}
END_TEST

/* ---- schedules: the recursive forms against the closed ones ---- */

START_TEST(schedules_follow_their_closed_forms)
{
    struct gd_schedule s;
    struct gd_schedule_state st;
    const double lr = 0.3;
    gd_schedule_default(&s, GD_SCHED_STEP);
    s.step_size = 3;
    s.gamma = 0.5;
    ck_assert_int_eq(gd_schedule_start(&s, lr, 20, 1, &st), GD_OK);
    for (int e = 1; e <= 20; e++) {
        ck_assert(gd_schedule_after_epoch(&s, &st));
        ck_assert(!gd_schedule_after_step(&s, &st));
        TU_ASSERT_CLOSE(st.lr, lr * pow(0.5, e / 3), 1e-15, 0);
    }
    gd_schedule_default(&s, GD_SCHED_EXPONENTIAL);
    ck_assert_int_eq(gd_schedule_start(&s, lr, 50, 1, &st), GD_OK);
    for (int e = 1; e <= 50; e++) {
        gd_schedule_after_epoch(&s, &st);
        TU_ASSERT_CLOSE(st.lr, lr * pow(0.95, e), 1e-13, 0);
    }
    /* cosine, past t_max and back up: eta_min + (lr - eta_min)(1 + cos(pi e / T))/2 */
    gd_schedule_default(&s, GD_SCHED_COSINE);
    s.t_max = 7;
    s.eta_min = 0.01;
    ck_assert_int_eq(gd_schedule_start(&s, lr, 30, 1, &st), GD_OK);
    for (int e = 1; e <= 30; e++) {
        gd_schedule_after_epoch(&s, &st);
        double want = 0.01 + (lr - 0.01) * (1 + cos(3.141592653589793 * e / 7.0)) / 2;
        TU_ASSERT_CLOSE(st.lr, want, 1e-12, 1e-15);
    }
    /* onecycle: max_lr/25 at step 0, max_lr at the end of the warm-up, max_lr/25/1e4 at the end */
    gd_schedule_default(&s, GD_SCHED_ONECYCLE);
    ck_assert_int_eq(gd_schedule_start(&s, lr, 10, 10, &st), GD_OK);
    TU_ASSERT_CLOSE(st.lr, lr / 25, 1e-15, 0);
    double top = st.lr;
    for (int k = 1; k < 100; k++) {
        ck_assert(gd_schedule_after_step(&s, &st));
        ck_assert(!gd_schedule_after_epoch(&s, &st));
        if (k == 29)
            TU_ASSERT_CLOSE(st.lr, lr, 1e-15, 0);
        top = fmax(top, st.lr);
    }
    TU_ASSERT_CLOSE(st.lr, lr / 25 / 1e4, 1e-12, 0);
    TU_ASSERT_BITS(top, lr);
    ck_assert_int_eq(gd_schedule_start(&s, lr, 0, 10, &st), GD_EINVAL);
}
END_TEST

/* ---- mini-batches ---- */

START_TEST(permutation_matches_numpy)
{
    const struct tu_record *r = &vectors->rec[tu_find(vectors, "perm", (size_t)_i)];
    uint32_t seed = (uint32_t)tu_u64(r->field[0]);
    size_t n = tu_u64(r->field[1]);
    size_t *rows = malloc(n * sizeof(*rows));
    ck_assert_ptr_nonnull(rows);
    for (size_t k = 0; k < n; k++)
        rows[k] = 3 * k + 1; /* the split's rows: the batcher maps perm through them */
    size_t bs = n > 7 ? 7 : n;
    struct gd_batcher *bt = gd_batcher_new(rows, n, bs, true, seed);
    ck_assert_ptr_nonnull(bt);
    ck_assert_uint_eq(gd_batches_per_epoch(n, bs), (n + bs - 1) / bs);
    size_t seen = 0;
    for (size_t b = 0; b < gd_batches_per_epoch(n, bs); b++) {
        const size_t *batch;
        bool start;
        size_t count = gd_batcher_next(bt, &batch, &start);
        ck_assert(start == (b == 0));
        ck_assert_uint_eq(count, b + 1 < gd_batches_per_epoch(n, bs) ? bs : n - seen);
        for (size_t k = 0; k < count; k++, seen++)
            ck_assert_uint_eq(batch[k], rows[tu_u64(r->field[2 + seen])]);
    }
    /* the next epoch draws a new permutation, in split order without shuffle */
    const size_t *batch;
    bool start;
    gd_batcher_next(bt, &batch, &start);
    ck_assert(start);
    gd_batcher_free(bt);
    bt = gd_batcher_new(rows, n, bs, false, seed);
    ck_assert_ptr_nonnull(bt);
    for (int epoch = 0; epoch < 2; epoch++)
        for (size_t b = 0, at = 0; b < gd_batches_per_epoch(n, bs); b++) {
            size_t count = gd_batcher_next(bt, &batch, &start);
            for (size_t k = 0; k < count; k++)
                ck_assert_uint_eq(batch[k], rows[at++]);
        }
    gd_batcher_free(bt);
    ck_assert_ptr_null(gd_batcher_new(rows, n, n + 1, true, seed));
    ck_assert_ptr_null(gd_batcher_new(rows, n, 0, true, seed));
    gd_batcher_free(NULL);
    free(rows);
}
END_TEST

/* One full-size batch in split order is the per-sample gradient; history by step counts every
 * step, and the losses it reports are the full split's. */
START_TEST(mini_batch_steps_and_history)
{
    struct fixture f;
    fixture_make(&f, 42, 100, 1.0, GD_SCALER_NONE);
    struct gd_optim_data d;
    gd_optim_data_from_problem(f.problem, &d);
    size_t n = f.problem->train.n;
    double loss, gb, gw, rb, rw;
    gd_batch_eval(d.x, d.y, d.rows, n, 0.3, -0.2, &loss, &gb, &gw);
    gd_gradient_direct(d.x, d.y, d.rows, n, 0.3, -0.2, &rb, &rw);
    TU_ASSERT_BITS(gb, rb);
    TU_ASSERT_BITS(gw, rw);
    TU_ASSERT_BITS(loss, gd_loss_direct(d.x, d.y, d.rows, n, 0.3, -0.2));

    struct gd_optim_config cfg;
    gd_optim_config_default(&cfg, GD_OPT_ADAM, 0.05);
    cfg.batch_size = 16;
    cfg.epochs = 7;
    cfg.history_unit = GD_HISTORY_STEP;
    cfg.schedule.kind = GD_SCHED_ONECYCLE;
    struct gd_history *h = gd_history_new(1000);
    ck_assert_ptr_nonnull(h);
    struct gd_optim_result r;
    ck_assert_int_eq(gd_optim_run(&d, &cfg, h, &r), GD_OK);
    ck_assert_uint_eq(r.steps_run, 7 * 5);
    ck_assert_uint_eq(r.run.epochs_run, 7);
    ck_assert_uint_eq(h->count, 36);
    for (size_t k = 0; k < h->count; k++) {
        ck_assert_uint_eq(h->epoch[k], k);
        TU_ASSERT_BITS(h->train_loss[k], gd_loss(&f.problem->train, h->b[k], h->w[k]));
        TU_ASSERT_BITS(h->val_loss[k], gd_loss(&f.problem->val, h->b[k], h->w[k]));
    }
    TU_ASSERT_BITS(h->lr[h->count - 1], r.lr);
    ck_assert(!r.has_rate);
    /* tol stops a run at an epoch end */
    cfg.history_unit = GD_HISTORY_EPOCH;
    cfg.schedule.kind = GD_SCHED_CONSTANT;
    cfg.opt.kind = GD_OPT_MOMENTUM;
    cfg.opt.lr = 0.05;
    cfg.epochs = 100000;
    cfg.tol = 1e-2;
    cfg.batch_size = 0;
    ck_assert_int_eq(gd_optim_run(&d, &cfg, h, &r), GD_OK);
    ck_assert_int_eq(r.run.status, GD_RUN_CONVERGED);
    ck_assert(hypot(r.run.grad_b, r.run.grad_w) <= 1e-2);
    ck_assert_uint_lt(r.run.epochs_run, 1000);
    ck_assert_uint_eq(h->epoch[h->count - 1], r.run.epochs_run);
    gd_history_free(h);
    fixture_free(&f);
}
END_TEST

/* ---- input ---- */

struct bad_case {
    const char *want;
    void (*set)(struct gd_optim_config *c);
};

#define BAD(name, expr)                                                                            \
    static void set_##name(struct gd_optim_config *c)                                              \
    {                                                                                              \
        expr;                                                                                      \
    }
BAD(lr0, c->opt.lr = 0)
BAD(lrnan, c->opt.lr = NAN)
BAD(mom1, c->opt.momentum = 1.0)
BAD(nest0, (c->opt.kind = GD_OPT_NESTEROV, c->opt.momentum = 0))
BAD(beta2, (c->opt.kind = GD_OPT_ADAM, c->opt.beta2 = -0.1))
BAD(alpha, (c->opt.kind = GD_OPT_RMSPROP, c->opt.alpha = 1.0))
BAD(eps, (c->opt.kind = GD_OPT_ADAGRAD, c->opt.eps = 0))
BAD(wd, c->opt.weight_decay = -1e-3)
BAD(kind, c->opt.kind = GD_OPT_COUNT)
BAD(batch, c->batch_size = 81)
BAD(gamma, (c->schedule.kind = GD_SCHED_EXPONENTIAL, c->schedule.gamma = 0))
BAD(step_size, (c->schedule.kind = GD_SCHED_STEP, c->schedule.step_size = 0))
BAD(eta_min, (c->schedule.kind = GD_SCHED_COSINE, c->schedule.eta_min = -1))
BAD(onecycle0, (c->schedule.kind = GD_SCHED_ONECYCLE, c->epochs = 0))
BAD(b0, c->b0 = INFINITY)
BAD(tol, c->tol = NAN)
BAD(epochs, c->epochs = UINT64_MAX / 2)

static const struct bad_case bad_cases[] = {
    {"lr", set_lr0},           {"lr", set_lrnan},         {"momentum", set_mom1},
    {"momentum", set_nest0},   {"beta2", set_beta2},      {"alpha", set_alpha},
    {"eps", set_eps},          {"weight_decay", set_wd},  {"optimizer", set_kind},
    {"batch_size", set_batch}, {"gamma", set_gamma},      {"step_size", set_step_size},
    {"eta_min", set_eta_min},  {"epochs", set_onecycle0}, {"b0", set_b0},
    {"tol", set_tol},          {"epochs", set_epochs},
};

START_TEST(bad_config_names_the_parameter)
{
    struct fixture f;
    fixture_make(&f, 42, 100, 1.0, GD_SCALER_NONE);
    struct gd_optim_data d;
    gd_optim_data_from_problem(f.problem, &d);
    struct gd_optim_config cfg;
    gd_optim_config_default(&cfg, GD_OPT_MOMENTUM, 0.1);
    ck_assert_ptr_null(gd_optim_config_invalid(&cfg, 80));
    cfg.batch_size = 80; /* the whole split is a valid batch */
    ck_assert_ptr_null(gd_optim_config_invalid(&cfg, 80));
    cfg.batch_size = 0;
    bad_cases[_i].set(&cfg);
    const char *bad = gd_optim_config_invalid(&cfg, 80);
    ck_assert_ptr_nonnull(bad);
    ck_assert_str_eq(bad, bad_cases[_i].want);
    struct gd_optim_result r;
    ck_assert_int_eq(gd_optim_run(&d, &cfg, NULL, &r), GD_EINVAL);
    fixture_free(&f);
}
END_TEST

START_TEST(names_and_uses)
{
    for (int k = 0; k < GD_OPT_COUNT; k++) {
        enum gd_optimizer kind;
        ck_assert_int_eq(gd_optimizer_parse(gd_optimizer_name(k), &kind), GD_OK);
        ck_assert_int_eq(kind, k);
        struct gd_optim_params p;
        gd_optim_params_default(&p, k, 0.1);
        ck_assert_ptr_null(gd_optim_params_invalid(&p));
        ck_assert(gd_optimizer_uses(k) & GD_HYPER_WEIGHT_DECAY);
    }
    for (int k = 0; k < GD_SCHED_COUNT; k++) {
        enum gd_schedule_kind kind;
        ck_assert_int_eq(gd_schedule_parse(gd_schedule_name(k), &kind), GD_OK);
        ck_assert_int_eq(kind, k);
    }
    enum gd_optimizer kind;
    ck_assert_int_eq(gd_optimizer_parse("sgd", &kind), GD_EINVAL);
    ck_assert_str_eq(gd_optimizer_name(GD_OPT_COUNT), "unknown");
    ck_assert_str_eq(gd_hyper_name(GD_HYPER_BETA2), "beta2");
    ck_assert_ptr_null(gd_hyper_name(3));
    ck_assert_uint_eq(gd_optimizer_uses(GD_OPT_GD) & GD_HYPER_MOMENTUM, 0);
    ck_assert(gd_optimizer_uses(GD_OPT_ADAM) & GD_HYPER_BETA1);
    struct gd_optim_params p;
    gd_optim_params_default(&p, GD_OPT_ADAGRAD, 0.1);
    TU_ASSERT_BITS(p.eps, 1e-10);
    gd_optim_params_default(&p, GD_OPT_ADAMW, 0.1);
    TU_ASSERT_BITS(p.weight_decay, 0.01);
}
END_TEST

static Suite *optim_suite(void)
{
    Suite *s = suite_create("optim");
    TCase *st = tcase_create("stability");
    tcase_add_loop_test(st, rho_matches_numpy_roots, 0, COUNT(rho_kinds));
    tcase_add_loop_test(st, critical_rate_is_the_edge, 0, COUNT(crit_cases));
    tcase_add_test(st, polyak_optimum);
    tcase_add_test(st, fixed_point_with_weight_decay);
    suite_add_tcase(s, st);
    TCase *runs = tcase_create("runs");
    tcase_set_timeout(runs, 60);
    tcase_add_loop_test(runs, gd_is_gd_train, 0, COUNT(gd_cases));
    tcase_add_loop_test(runs, divergence_rule, 0, COUNT(diverge_cases));
    tcase_add_loop_test(runs, measured_rate_is_predicted, 0, COUNT(rate_cases));
    tcase_add_test(runs, schedules_follow_their_closed_forms);
    tcase_add_loop_test(runs, permutation_matches_numpy, 0, (int)tu_count(vectors, "perm"));
    tcase_add_test(runs, mini_batch_steps_and_history);
    suite_add_tcase(s, runs);
    TCase *input = tcase_create("input");
    tcase_add_loop_test(input, bad_config_names_the_parameter, 0, COUNT(bad_cases));
    tcase_add_test(input, names_and_uses);
    suite_add_tcase(s, input);
    return s;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        tu_data_dir = argv[1];
    vectors = tu_load("optim.txt");
    int rc = tu_run(optim_suite());
    tu_free(vectors);
    return rc;
}
