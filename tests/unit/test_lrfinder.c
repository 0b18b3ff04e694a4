/* The learning-rate range test: the schedules, smoothing, stop rule and suggestion against
 * vectors from the library's Python expressions and numpy (data/lrfinder.txt, gen_vectors.py),
 * and the runs' edge cases. tests/diff/diff_lrfinder.py holds whole runs against torch. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

static struct tu_file *vectors;

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ---- the pieces, against the vectors ---- */

START_TEST(rates_match_the_library)
{
    size_t n = tu_count(vectors, "lr");
    ck_assert_uint_gt(n, 300);
    for (size_t k = 0; k < n; k++) {
        const struct tu_record *r = &vectors->rec[tu_find(vectors, "lr", k)];
        enum gd_lrfinder_mode mode;
        ck_assert_int_eq(gd_lrfinder_mode_parse(r->field[0], &mode), GD_OK);
        double start = tu_double(r->field[1]), end = tu_double(r->field[2]);
        uint64_t num_iter = tu_u64(r->field[3]), i = tu_u64(r->field[4]);
        double got = gd_lrfinder_lr(mode, start, end, num_iter, i);
        ck_assert_msg(tu_same_bits(got, tu_double(r->field[5])), "lr record %zu: %a, python %s", k,
                      got, r->field[5]);
    }
}
END_TEST

/* Iteration 0 runs at start_lr exactly (the scheduler's constructor step, last_epoch 0); linear
 * ends at start + (end - start); both rise strictly. */
START_TEST(rates_start_at_start_lr)
{
    const double starts[] = {1e-4, 3e-7, 0.1, 1.0 / 3.0};
    for (int k = 0; k < COUNT(starts); k++) {
        double s = starts[k], e = s * 1e5;
        for (int m = 0; m < GD_LRFINDER_MODE_COUNT; m++) {
            TU_ASSERT_BITS(gd_lrfinder_lr((enum gd_lrfinder_mode)m, s, e, 100, 0), s);
            double prev = 0;
            for (uint64_t i = 0; i < 100; i++) {
                double lr = gd_lrfinder_lr((enum gd_lrfinder_mode)m, s, e, 100, i);
                ck_assert(lr > prev);
                prev = lr;
            }
            TU_ASSERT_CLOSE(prev, e, 1e-14, 0);
        }
        TU_ASSERT_BITS(gd_lrfinder_lr(GD_LRFINDER_LINEAR, s, e, 7, 6), s + (e - s));
    }
}
END_TEST

START_TEST(gradient_matches_numpy)
{
    size_t n = tu_count(vectors, "gradient");
    ck_assert_uint_ge(n, 8);
    for (size_t k = 0; k < n; k++) {
        const struct tu_record *r = &vectors->rec[tu_find(vectors, "gradient", k)];
        size_t m = tu_u64(r->field[0]);
        double *f = malloc(m * sizeof(*f)), *want = malloc(m * sizeof(*want));
        double *got = malloc(m * sizeof(*got));
        ck_assert(f && want && got);
        tu_doubles(r, 1, f, m);
        tu_doubles(r, 1 + m, want, m);
        ck_assert_int_eq(gd_lrfinder_gradient(f, m, got), GD_OK);
        for (size_t j = 0; j < m; j++)
            ck_assert_msg(tu_same_bits(got[j], want[j]), "gradient record %zu [%zu]: %a, numpy %a",
                          k, j, got[j], want[j]);
        free(f);
        free(want);
        free(got);
    }
    double one = 1.0, out;
    ck_assert_int_eq(gd_lrfinder_gradient(&one, 1, &out), GD_EINVAL); /* numpy raises */
    ck_assert_int_eq(gd_lrfinder_gradient(NULL, 0, &out), GD_EINVAL);
}
END_TEST

START_TEST(steepest_matches_plot)
{
    size_t n = tu_count(vectors, "steepest");
    ck_assert_uint_ge(n, 60);
    size_t none = 0;
    for (size_t k = 0; k < n; k++) {
        const struct tu_record *r = &vectors->rec[tu_find(vectors, "steepest", k)];
        size_t count = tu_u64(r->field[0]);
        size_t skip_start = tu_u64(r->field[1]), skip_end = tu_u64(r->field[2]);
        int64_t want = strtoll(r->field[3], NULL, 10);
        double *f = malloc((count ? count : 1) * sizeof(*f));
        ck_assert_ptr_nonnull(f);
        tu_doubles(r, 4, f, count);
        int64_t got = gd_lrfinder_steepest(f, count, skip_start, skip_end);
        ck_assert_msg(got == want,
                      "steepest record %zu (%zu points, skip %zu %zu): %lld, plot %lld", k, count,
                      skip_start, skip_end, (long long)got, (long long)want);
        none += want < 0;
        free(f);
    }
    ck_assert_uint_gt(none, 10); /* the vectors include slices too short for numpy */
}
END_TEST

/* The loop body over given batch losses: smoothing, best, stop, NaN and inf. */
START_TEST(curve_matches_the_library)
{
    size_t n = tu_count(vectors, "curve");
    ck_assert_uint_gt(n, 200);
    size_t stopped = 0;
    for (size_t k = 0; k < n; k++) {
        const struct tu_record *r = &vectors->rec[tu_find(vectors, "curve", k)];
        double sf = tu_double(r->field[0]), th = tu_double(r->field[1]);
        size_t m = tu_u64(r->field[2]);
        int64_t want_stop = strtoll(r->field[3 + m], NULL, 10);
        int64_t want_best = strtoll(r->field[4 + m], NULL, 10);
        size_t want_count = tu_u64(r->field[5 + m]);
        struct gd_lrfinder_result *res = gd_lrfinder_result_new(m);
        ck_assert_ptr_nonnull(res);
        gd_lrfinder_result_clear(res);
        bool stop = false;
        for (size_t i = 0; i < m && !stop; i++)
            stop = gd_lrfinder_record(res, sf, th, 0.5 + (double)i, tu_double(r->field[3 + i]));
        gd_lrfinder_finish(res, 10, 5);
        ck_assert_msg(res->count == want_count && res->stopped_at == want_stop &&
                          res->best_index == want_best,
                      "curve record %zu: %zu points, stopped at %lld, best %lld; library %zu %lld "
                      "%lld",
                      k, res->count, (long long)res->stopped_at, (long long)res->best_index,
                      want_count, (long long)want_stop, (long long)want_best);
        ck_assert(stop == (want_stop >= 0));
        for (size_t i = 0; i < want_count; i++) {
            ck_assert_msg(tu_same_bits(res->loss[i], tu_double(r->field[6 + m + i])),
                          "curve record %zu loss[%zu]: %a, library %s", k, i, res->loss[i],
                          r->field[6 + m + i]);
            TU_ASSERT_BITS(res->raw_loss[i], tu_double(r->field[3 + i]));
            TU_ASSERT_BITS(res->lr[i], 0.5 + (double)i);
        }
        if (want_best >= 0) {
            TU_ASSERT_BITS(res->best_lr, res->lr[want_best]);
            TU_ASSERT_BITS(res->best_loss, res->loss[want_best]);
        } else {
            ck_assert(isnan(res->best_lr) && isnan(res->best_loss));
        }
        stopped += want_stop >= 0;
        gd_lrfinder_result_free(res);
    }
    ck_assert_uint_gt(stopped, 50);
}
END_TEST

/* ---- runs ---- */

static void tutorial_config(struct gd_lrfinder_config *c, enum gd_optimizer kind)
{
    gd_lrfinder_config_default(c, kind);
    gd_initial_params(42, &c->b0, &c->w0);
}

/* The run is the loop: its rates are gd_lrfinder_lr's, its first loss the start's, every step
 * one gd_optim_step on the next batch with the state kept (replayed here by hand). */
static const struct replay_case {
    enum gd_optimizer kind;
    size_t batch;
    enum gd_lrfinder_mode mode;
    double smooth_f;
} replay_cases[] = {
    {GD_OPT_GD, 0, GD_LRFINDER_EXP, 0.05},        {GD_OPT_MOMENTUM, 0, GD_LRFINDER_LINEAR, 0.0},
    {GD_OPT_ADAM, 7, GD_LRFINDER_EXP, 0.5},       {GD_OPT_RMSPROP, 1, GD_LRFINDER_EXP, 0.05},
    {GD_OPT_NESTEROV, 16, GD_LRFINDER_LINEAR, 0}, {GD_OPT_ADAGRAD, 80, GD_LRFINDER_EXP, 0.05},
};

START_TEST(run_replays_the_loop)
{
    const struct replay_case *c = &replay_cases[_i];
    struct fixture f;
    fixture_make(&f, 42, 100, 1.0, GD_SCALER_NONE);
    struct gd_optim_data d;
    gd_optim_data_from_problem(f.problem, &d);
    struct gd_lrfinder_config cfg;
    tutorial_config(&cfg, c->kind);
    cfg.batch_size = c->batch;
    cfg.mode = c->mode;
    cfg.smooth_f = c->smooth_f;
    cfg.diverge_th = 1e9;
    cfg.num_iter = 300;
    cfg.end_lr = 0.05; /* stays stable: all 300 points */
    struct gd_lrfinder_result *r = gd_lrfinder_result_new(cfg.num_iter);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(gd_lrfinder_run(&d, &cfg, r), GD_OK);
    ck_assert_uint_eq(r->count, 300);
    ck_assert_int_eq(r->stopped_at, -1);
    ck_assert_int_ge(r->suggestion_index, 10);
    ck_assert_int_lt(r->suggestion_index, 295);

    struct gd_batcher *bt =
        c->batch ? gd_batcher_new(d.rows, d.train->n, c->batch, true, 42) : NULL;
    struct gd_optim_state st;
    gd_optim_state_init(&st);
    double p[2] = {cfg.b0, cfg.w0}, g[2], raw;
    for (size_t i = 0; i < r->count; i++) {
        if (bt) {
            const size_t *rows;
            size_t m = gd_batcher_next(bt, &rows, NULL);
            gd_batch_eval(d.x, d.y, rows, m, p[0], p[1], &raw, &g[0], &g[1]);
        } else {
            raw = gd_loss(d.train, p[0], p[1]);
            gd_gradient(d.train, p[0], p[1], &g[0], &g[1]);
        }
        double lr = gd_lrfinder_lr(cfg.mode, cfg.start_lr, cfg.end_lr, cfg.num_iter, i);
        TU_ASSERT_BITS(r->lr[i], lr);
        TU_ASSERT_BITS(r->raw_loss[i], raw);
        gd_optim_step(&cfg.opt, lr, &st, p, g);
    }
    TU_ASSERT_BITS(r->b, p[0]);
    TU_ASSERT_BITS(r->w, p[1]);
    TU_ASSERT_BITS(r->loss[0], r->raw_loss[0]);
    if (c->smooth_f == 0.0)
        for (size_t i = 0; i < r->count; i++)
            TU_ASSERT_BITS(r->loss[i], r->raw_loss[i]);
    gd_batcher_free(bt);
    gd_lrfinder_result_free(r);
    fixture_free(&f);
}
END_TEST

/* Where the test stops and what it can read off. */
static const struct edge_case {
    const char *what;
    double b0, start_lr, end_lr, smooth_f, diverge_th;
    uint64_t num_iter;
    int64_t want_stop;    /* -1: ran num_iter */
    int64_t want_best;    /* -2: not checked */
    bool want_suggestion; /* a suggestion exists */
} edge_cases[] = {
    /* a start whose loss overflows: stopped at its first point, nothing to read off */
    {"overflowing start", 1e200, 1e-4, 10, 0.05, 5, 100, 0, -1, false},
    /* from 20x the critical rate without smoothing: the second loss jumps past 5x the first */
    {"stop at iteration 1", 0, 20, 40, 0, 5, 100, 1, 0, false},
    /* the defaults: it stops on the rise, with a suggestion */
    {"defaults", 0, 1e-4, 10, 0.05, 5, 100, 94, 92, true},
    /* diverge_th 1 stops at the first rise of the smoothed loss */
    {"diverge_th 1", 0, 1e-4, 10, 0.05, 1, 100, -2, -2, true},
    /* the fewest points: 16 has no suggestion, 17 has one */
    {"16 points", 0, 1e-4, 0.01, 0.05, 1e9, 16, -1, 15, false},
    {"17 points", 0, 1e-4, 0.01, 0.05, 1e9, 17, -1, 16, true},
    {"2 points", 0, 1e-4, 0.01, 0.05, 5, 2, -1, 1, false},
};

START_TEST(edge_cases_stop_where_they_should)
{
    const struct edge_case *c = &edge_cases[_i];
    struct fixture f;
    fixture_make(&f, 42, 100, 1.0, GD_SCALER_NONE);
    struct gd_optim_data d;
    gd_optim_data_from_problem(f.problem, &d);
    struct gd_lrfinder_config cfg;
    tutorial_config(&cfg, GD_OPT_GD);
    if (c->b0 != 0)
        cfg.b0 = c->b0;
    cfg.start_lr = c->start_lr;
    cfg.end_lr = c->end_lr;
    cfg.smooth_f = c->smooth_f;
    cfg.diverge_th = c->diverge_th;
    cfg.num_iter = c->num_iter;
    ck_assert_ptr_null(gd_lrfinder_config_invalid(&cfg, f.data->n_train));
    struct gd_lrfinder_result *r = gd_lrfinder_result_new(cfg.num_iter);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(gd_lrfinder_run(&d, &cfg, r), GD_OK);
    if (c->want_stop != -2)
        ck_assert_msg(r->stopped_at == c->want_stop, "%s: stopped at %lld", c->what,
                      (long long)r->stopped_at);
    if (c->want_best != -2)
        ck_assert_msg(r->best_index == c->want_best, "%s: best %lld", c->what,
                      (long long)r->best_index);
    ck_assert_uint_eq(r->count, r->stopped_at >= 0 ? (size_t)r->stopped_at + 1 : cfg.num_iter);
    if (r->stopped_at >= 0) {
        double last = r->loss[r->count - 1];
        ck_assert(!isfinite(last) || last > cfg.diverge_th * r->best_loss);
        for (size_t i = 0; i + 1 < r->count; i++) /* and no earlier point did */
            ck_assert(isfinite(r->loss[i]));
    }
    ck_assert_msg((r->suggestion_index >= 0) == c->want_suggestion, "%s: suggestion %lld", c->what,
                  (long long)r->suggestion_index);
    if (r->suggestion_index >= 0) {
        ck_assert_int_ge(r->suggestion_index, 10);
        ck_assert_int_lt(r->suggestion_index, (int64_t)r->count - 5);
        TU_ASSERT_BITS(r->suggestion_lr, r->lr[r->suggestion_index]);
    } else {
        ck_assert(isnan(r->suggestion_lr));
    }
    if (r->best_index >= 0) {
        for (size_t i = 0; i < r->count; i++) /* the first of the smallest */
            ck_assert(r->loss[i] > r->best_loss ||
                      (r->loss[i] == r->best_loss && (int64_t)i >= r->best_index));
        TU_ASSERT_BITS(r->best_lr, r->lr[r->best_index]);
    } else {
        ck_assert(isnan(r->best_lr) && isnan(r->best_loss));
    }
    gd_lrfinder_result_free(r);
    fixture_free(&f);
}
END_TEST

/* On the tutorial's data the range test brackets the exact answer: its steepest descent lies
 * below the critical rate 2/lambda_max, and it stops above it. */
START_TEST(suggestion_brackets_the_critical_rate)
{
    struct fixture f;
    fixture_make(&f, 42, 100, 1.0, GD_SCALER_NONE);
    struct gd_optim_data d;
    gd_optim_data_from_problem(f.problem, &d);
    struct gd_analysis a;
    ck_assert_int_eq(gd_analyze(&f.problem->train, &a), GD_OK);
    struct gd_lrfinder_config cfg;
    tutorial_config(&cfg, GD_OPT_GD);
    struct gd_lrfinder_result *r = gd_lrfinder_result_new(cfg.num_iter);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(gd_lrfinder_run(&d, &cfg, r), GD_OK);
    ck_assert(r->suggestion_lr < a.lr_critical);
    ck_assert(r->lr[r->stopped_at] > a.lr_critical);
    gd_lrfinder_result_free(r);
    fixture_free(&f);
}
END_TEST

static bool always_expired(void *ctx)
{
    (*(int *)ctx)++;
    return true;
}

START_TEST(cancel_keeps_the_points_so_far)
{
    struct fixture f;
    fixture_make(&f, 42, 100, 1.0, GD_SCALER_NONE);
    struct gd_optim_data d;
    gd_optim_data_from_problem(f.problem, &d);
    struct gd_lrfinder_config cfg;
    tutorial_config(&cfg, GD_OPT_GD);
    cfg.batch_size = f.data->n_train;
    cfg.num_iter = 5000;
    cfg.end_lr = 1e-3;
    int calls = 0;
    cfg.cancel = (struct gd_cancel){.expired = always_expired, .ctx = &calls};
    struct gd_lrfinder_result *r = gd_lrfinder_result_new(cfg.num_iter);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(gd_lrfinder_run(&d, &cfg, r), GD_ECANCELED);
    ck_assert_int_eq(calls, 1);
    ck_assert_uint_gt(r->count, 100);
    ck_assert_uint_lt(r->count, cfg.num_iter);
    ck_assert_int_eq(r->stopped_at, -1);
    ck_assert_int_ge(r->suggestion_index, 10); /* read off the points so far */
    gd_lrfinder_result_free(r);
    fixture_free(&f);
}
END_TEST

/* ---- input ---- */

static const struct bad_case {
    const char *field;
    double value;
    const char *want;
} bad_cases[] = {
    {"start_lr", 0, "start_lr"},
    {"start_lr", -1e-4, "start_lr"},
    {"start_lr", NAN, "start_lr"},
    {"start_lr", INFINITY, "start_lr"},
    {"end_lr", 1e-4, "end_lr"}, /* = start_lr */
    {"end_lr", 1e-5, "end_lr"},
    {"end_lr", INFINITY, "end_lr"},
    {"end_lr", 1e305, "end_lr"}, /* end / start overflows */
    {"num_iter", 1, "num_iter"},
    {"num_iter", 0, "num_iter"},
    {"num_iter", GD_LRFINDER_MAX_ITER + 1, "num_iter"},
    {"mode", 2, "step_mode"},
    {"smooth_f", 1, "smooth_f"},
    {"smooth_f", -0.01, "smooth_f"},
    {"smooth_f", NAN, "smooth_f"},
    {"diverge_th", 0.99, "diverge_th"},
    {"diverge_th", INFINITY, "diverge_th"},
    {"diverge_th", NAN, "diverge_th"},
    {"batch_size", 81, "batch_size"},
    {"b0", INFINITY, "b0"},
    {"w0", NAN, "w0"},
    {"momentum", 1, "momentum"},
    {"eps", 0, "eps"},
    {"weight_decay", -1, "weight_decay"},
};

START_TEST(bad_config_names_the_parameter)
{
    const struct bad_case *c = &bad_cases[_i];
    struct gd_lrfinder_config cfg;
    gd_lrfinder_config_default(&cfg, GD_OPT_MOMENTUM);
    ck_assert_ptr_null(gd_lrfinder_config_invalid(&cfg, 80));
    if (strcmp(c->field, "start_lr") == 0)
        cfg.start_lr = c->value;
    else if (strcmp(c->field, "end_lr") == 0)
        cfg.end_lr = c->value;
    else if (strcmp(c->field, "num_iter") == 0)
        cfg.num_iter = (uint64_t)c->value;
    else if (strcmp(c->field, "mode") == 0)
        cfg.mode = (enum gd_lrfinder_mode)(int)c->value;
    else if (strcmp(c->field, "smooth_f") == 0)
        cfg.smooth_f = c->value;
    else if (strcmp(c->field, "diverge_th") == 0)
        cfg.diverge_th = c->value;
    else if (strcmp(c->field, "batch_size") == 0)
        cfg.batch_size = (size_t)c->value;
    else if (strcmp(c->field, "b0") == 0)
        cfg.b0 = c->value;
    else if (strcmp(c->field, "w0") == 0)
        cfg.w0 = c->value;
    else if (strcmp(c->field, "momentum") == 0)
        cfg.opt.momentum = c->value;
    else if (strcmp(c->field, "eps") == 0) {
        cfg.opt.kind = GD_OPT_ADAM;
        cfg.opt.eps = c->value;
    } else if (strcmp(c->field, "weight_decay") == 0)
        cfg.opt.weight_decay = c->value;
    const char *got = gd_lrfinder_config_invalid(&cfg, 80);
    ck_assert_msg(got && strcmp(got, c->want) == 0, "%s = %g: %s, want %s", c->field, c->value,
                  got ? got : "valid", c->want);

    /* and the run refuses it */
    struct fixture f;
    fixture_make(&f, 42, 100, 1.0, GD_SCALER_NONE);
    struct gd_optim_data d;
    gd_optim_data_from_problem(f.problem, &d);
    struct gd_lrfinder_result *r = gd_lrfinder_result_new(GD_LRFINDER_MAX_ITER + 1);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(gd_lrfinder_run(&d, &cfg, r), GD_EINVAL);
    gd_lrfinder_result_free(r);
    fixture_free(&f);
}
END_TEST

START_TEST(limits_and_names)
{
    struct gd_lrfinder_config cfg;
    gd_lrfinder_config_default(&cfg, GD_OPT_ADAM);
    /* the library's defaults; opt.lr is not read (any value passes) */
    TU_ASSERT_BITS(cfg.start_lr, 1e-4);
    TU_ASSERT_BITS(cfg.end_lr, 10.0);
    ck_assert_uint_eq(cfg.num_iter, 100);
    ck_assert_int_eq(cfg.mode, GD_LRFINDER_EXP);
    TU_ASSERT_BITS(cfg.smooth_f, 0.05);
    TU_ASSERT_BITS(cfg.diverge_th, 5.0);
    ck_assert_uint_eq(cfg.skip_start, 10);
    ck_assert_uint_eq(cfg.skip_end, 5);
    cfg.opt.lr = -1;
    ck_assert_ptr_null(gd_lrfinder_config_invalid(&cfg, 80));
    /* the edges that are allowed */
    cfg.num_iter = 2;
    cfg.smooth_f = 0.0;
    cfg.diverge_th = 1.0;
    cfg.batch_size = 80;
    cfg.end_lr = nextafter(cfg.start_lr, INFINITY);
    ck_assert_ptr_null(gd_lrfinder_config_invalid(&cfg, 80));
    cfg.num_iter = GD_LRFINDER_MAX_ITER;
    cfg.smooth_f = nextafter(1.0, 0.0);
    ck_assert_ptr_null(gd_lrfinder_config_invalid(&cfg, 80));

    struct fixture f;
    fixture_make(&f, 42, 100, 1.0, GD_SCALER_NONE);
    struct gd_optim_data d;
    gd_optim_data_from_problem(f.problem, &d);
    gd_lrfinder_config_default(&cfg, GD_OPT_GD);
    struct gd_lrfinder_result *r = gd_lrfinder_result_new(99); /* one short */
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(gd_lrfinder_run(&d, &cfg, r), GD_EINVAL);
    cfg.batch_size = 8;
    d.x = NULL; /* mini-batches need the rows */
    cfg.num_iter = 99;
    ck_assert_int_eq(gd_lrfinder_run(&d, &cfg, r), GD_EINVAL);
    gd_lrfinder_result_free(r);
    gd_lrfinder_result_free(NULL);
    fixture_free(&f);

    enum gd_lrfinder_mode m;
    ck_assert_int_eq(gd_lrfinder_mode_parse("exp", &m), GD_OK);
    ck_assert_int_eq(m, GD_LRFINDER_EXP);
    ck_assert_int_eq(gd_lrfinder_mode_parse("linear", &m), GD_OK);
    ck_assert_int_eq(m, GD_LRFINDER_LINEAR);
    ck_assert_int_eq(gd_lrfinder_mode_parse("exponential", &m), GD_EINVAL);
    ck_assert_int_eq(gd_lrfinder_mode_parse(NULL, &m), GD_EINVAL);
    ck_assert_str_eq(gd_lrfinder_mode_name(GD_LRFINDER_LINEAR), "linear");
    ck_assert_str_eq(gd_lrfinder_mode_name(GD_LRFINDER_MODE_COUNT), "unknown");
}
END_TEST

static Suite *lrfinder_suite(void)
{
    Suite *s = suite_create("lrfinder");
    TCase *pieces = tcase_create("pieces");
    tcase_add_test(pieces, rates_match_the_library);
    tcase_add_test(pieces, rates_start_at_start_lr);
    tcase_add_test(pieces, gradient_matches_numpy);
    tcase_add_test(pieces, steepest_matches_plot);
    tcase_add_test(pieces, curve_matches_the_library);
    suite_add_tcase(s, pieces);
    TCase *runs = tcase_create("runs");
    tcase_set_timeout(runs, 60);
    tcase_add_loop_test(runs, run_replays_the_loop, 0, COUNT(replay_cases));
    tcase_add_loop_test(runs, edge_cases_stop_where_they_should, 0, COUNT(edge_cases));
    tcase_add_test(runs, suggestion_brackets_the_critical_rate);
    tcase_add_test(runs, cancel_keeps_the_points_so_far);
    suite_add_tcase(s, runs);
    TCase *input = tcase_create("input");
    tcase_add_loop_test(input, bad_config_names_the_parameter, 0, COUNT(bad_cases));
    tcase_add_test(input, limits_and_names);
    suite_add_tcase(s, input);
    return s;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        tu_data_dir = argv[1];
    vectors = tu_load("lrfinder.txt");
    int rc = tu_run(lrfinder_suite());
    tu_free(vectors);
    return rc;
}
