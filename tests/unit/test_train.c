/* Batch gradient descent: the trajectory against a per-sample loop, statuses, tolerance, history
 * sampling, early stop, and cancellation. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>

#include "fixture.h"

/* gd_history_size(epochs, max): epochs + 1 states, at most max, at least 1 when max > 0. */
static const struct size_case {
    uint64_t epochs;
    size_t max, want;
} size_cases[] = {
    {0, 10, 1},
    {1, 10, 2},
    {9, 10, 10},
    {10, 10, 10},
    {1000, 10, 10},
    {1000, 1, 1},
    {1000, 0, 0},
    {0, 0, 0},
    {1, 2, 2},
    {UINT64_MAX / 2, 501, 501},
    {5, 1000, 6},
    {UINT64_MAX, 10, 10},
    {UINT64_MAX - 1, 2, 2},
    {UINT64_MAX, 1, 1},
};

START_TEST(history_size_cases)
{
    const struct size_case *c = &size_cases[_i];
    ck_assert_uint_eq(gd_history_size(c->epochs, c->max), c->want);
}
END_TEST

/* The reference does the product in 128 bits, where nothing can overflow. */
__extension__ typedef unsigned __int128 u128;

/* gd_history_epoch: floor(k*epochs/(count-1)), evenly spaced, first 0 and last epochs. */
static const struct epoch_case {
    uint64_t epochs;
    size_t count;
} epoch_cases[] = {
    {10, 11}, {10, 4}, {1000, 7}, {999, 500}, {1, 2}, {0, 1}, {7, 1}, {(1ULL << 52) + 3, 1000},
};

START_TEST(history_epochs_are_even)
{
    const struct epoch_case *c = &epoch_cases[_i];
    if (c->count == 1) {
        ck_assert_uint_eq(gd_history_epoch(c->epochs, 1, 0), c->epochs);
        return;
    }
    uint64_t prev = 0;
    for (size_t k = 0; k < c->count; k++) {
        uint64_t e = gd_history_epoch(c->epochs, c->count, k);
        /* floor(k*E/(c-1)) in exact 128-bit arithmetic */
        u128 want = (u128)k * c->epochs / (c->count - 1);
        ck_assert_uint_eq(e, (uint64_t)want);
        if (k > 0)
            ck_assert_uint_gt(e, prev); /* strictly increasing when count <= epochs + 1 */
        prev = e;
    }
    ck_assert_uint_eq(gd_history_epoch(c->epochs, c->count, 0), 0);
    ck_assert_uint_eq(gd_history_epoch(c->epochs, c->count, c->count - 1), c->epochs);
}
END_TEST

/* A per-sample loop the tutorial's way: the reference the O(1) epochs are held to. */
static void per_sample_descent(const struct fixture *f, double lr, uint64_t epochs, double *b,
                               double *w)
{
    const size_t n = f->data->n_train;
    for (uint64_t e = 0; e < epochs; e++) {
        double gb, gw;
        gd_gradient_direct(f->problem->x, f->data->y, f->data->idx, n, *b, *w, &gb, &gw);
        *b -= lr * gb;
        *w -= lr * gw;
    }
}

static const struct run_case {
    double m;
    enum gd_scaler_kind kind;
    double lr;
    uint64_t epochs;
    enum gd_run_status status;
} run_cases[] = {
    {1.0, GD_SCALER_NONE, 0.1, 1000, GD_RUN_MAX_EPOCHS},     /* the tutorial's lr */
    {1.0, GD_SCALER_NONE, 0.2, 1, GD_RUN_MAX_EPOCHS},        /* "small-ish" */
    {1.0, GD_SCALER_NONE, 0.8, 200, GD_RUN_MAX_EPOCHS},      /* just under 2/lambda_max */
    {1.0, GD_SCALER_NONE, 0.81, 200, GD_RUN_DIVERGED},       /* just over */
    {10.0, GD_SCALER_NONE, 0.03, 500, GD_RUN_MAX_EPOCHS},    /* the bad feature */
    {10.0, GD_SCALER_NONE, 0.1, 50, GD_RUN_DIVERGED},        /* too big for it */
    {10.0, GD_SCALER_STANDARD, 0.9, 100, GD_RUN_MAX_EPOCHS}, /* standardizing restores it */
    {1.0, GD_SCALER_MINMAX, 0.5, 300, GD_RUN_MAX_EPOCHS},
};

START_TEST(trajectory_matches_per_sample_loop)
{
    const struct run_case *c = &run_cases[_i];
    struct fixture f;
    fixture_make(&f, 42, 100, c->m, c->kind);
    double b0, w0;
    gd_initial_params(42, &b0, &w0);
    struct gd_train_config cfg = {.lr = c->lr, .b0 = b0, .w0 = w0, .epochs = c->epochs};
    struct gd_run_result res;
    ck_assert_int_eq(gd_train(&f.problem->train, &f.problem->val, &cfg, NULL, &res), GD_OK);
    ck_assert_str_eq(gd_run_status_name(res.status), gd_run_status_name(c->status));
    ck_assert_uint_eq(res.epochs_run, c->epochs);
    double b = b0, w = w0;
    per_sample_descent(&f, c->lr, c->epochs, &b, &w);
    double scale = 1e-13 * (1.0 + fabs(b) + fabs(w));
    TU_ASSERT_CLOSE(res.b, b, 1e-12, scale);
    TU_ASSERT_CLOSE(res.w, w, 1e-12, scale);
    const struct gd_moments *tr = &f.problem->train, *va = &f.problem->val;
    TU_ASSERT_CLOSE(res.train_loss,
                    gd_loss_direct(f.problem->x, f.data->y, f.data->idx, tr->n, res.b, res.w),
                    1e-12, 0);
    TU_ASSERT_CLOSE(
        res.val_loss,
        gd_loss_direct(f.problem->x, f.data->y, f.data->idx + tr->n, va->n, res.b, res.w), 1e-12,
        0);
    double gb, gw;
    gd_gradient(tr, res.b, res.w, &gb, &gw);
    TU_ASSERT_BITS(res.grad_b, gb);
    TU_ASSERT_BITS(res.grad_w, gw);
    if (c->status == GD_RUN_DIVERGED) {
        ck_assert_int_ge(res.diverged_at, 1);
        ck_assert(res.train_loss > gd_loss(tr, b0, w0));
        ck_assert(gd_loss(tr, b0, w0) >= 0);
    } else {
        ck_assert_int_eq(res.diverged_at, -1);
    }
    fixture_free(&f);
}
END_TEST

/* Every history point is the state a shorter run ends in, bit for bit; first and last are kept,
 * the count is at most the cap, the epochs are evenly spaced. */
static const struct history_case {
    uint64_t epochs;
    size_t cap;
} history_cases[] = {{100, 11}, {100, 7}, {100, 1000}, {5, 2}, {0, 5}, {1000, 1}, {37, 37}};

START_TEST(history_is_the_trajectory)
{
    const struct history_case *c = &history_cases[_i];
    struct fixture f;
    fixture_make(&f, 42, 100, 1.0, GD_SCALER_NONE);
    struct gd_history *h = gd_history_new(c->cap);
    ck_assert_ptr_nonnull(h);
    struct gd_train_config cfg = {.lr = 0.1, .b0 = 0.5, .w0 = -0.1, .epochs = c->epochs};
    struct gd_run_result res;
    ck_assert_int_eq(gd_train(&f.problem->train, &f.problem->val, &cfg, h, &res), GD_OK);
    size_t want = gd_history_size(c->epochs, c->cap);
    ck_assert_uint_eq(h->count, want);
    ck_assert_uint_le(h->count, c->cap);
    ck_assert_uint_eq(h->epoch[h->count - 1], c->epochs);
    if (h->count > 1)
        ck_assert_uint_eq(h->epoch[0], 0);
    for (size_t k = 0; k < h->count; k++) {
        if (h->count > 1)
            ck_assert_uint_eq(h->epoch[k], gd_history_epoch(c->epochs, h->count, k));
        struct gd_train_config part = cfg;
        part.epochs = h->epoch[k];
        struct gd_run_result r;
        ck_assert_int_eq(gd_train(&f.problem->train, &f.problem->val, &part, NULL, &r), GD_OK);
        TU_ASSERT_BITS(h->b[k], r.b);
        TU_ASSERT_BITS(h->w[k], r.w);
        TU_ASSERT_BITS(h->train_loss[k], r.train_loss);
        TU_ASSERT_BITS(h->val_loss[k], r.val_loss);
    }
    TU_ASSERT_BITS(h->b[h->count - 1], res.b);
    TU_ASSERT_BITS(h->train_loss[h->count - 1], res.train_loss);
    gd_history_free(h);
    fixture_free(&f);
}
END_TEST

/* Long runs settle into a fixed point or a two-cycle of the last bits; however the core gets
 * there, every sample and the end state must be those of the plain loop, epoch by epoch. */
static const struct long_case {
    double m, lr;
    uint64_t epochs;
    size_t cap;
} long_cases[] = {
    {1.0, 0.5, 200000, 9},    {1.0, 0.8, 100001, 10},  {1.0, 0.1, 1000000, 7},
    {10.0, 0.03, 300000, 11}, {1.0, 0.805, 250000, 6}, {-1.0, 0.4, 99999, 1000},
};

START_TEST(long_run_matches_plain_loop)
{
    const struct long_case *c = &long_cases[_i];
    struct fixture f;
    fixture_make(&f, 42, 100, c->m, GD_SCALER_NONE);
    const struct gd_moments *tr = &f.problem->train, *va = &f.problem->val;
    struct gd_history *h = gd_history_new(c->cap);
    ck_assert_ptr_nonnull(h);
    struct gd_train_config cfg = {.lr = c->lr, .b0 = 0.5, .w0 = -0.1, .epochs = c->epochs};
    struct gd_run_result res;
    ck_assert_int_eq(gd_train(tr, va, &cfg, h, &res), GD_OK);
    size_t count = gd_history_size(c->epochs, c->cap);
    ck_assert_uint_eq(h->count, count);
    double b = cfg.b0, w = cfg.w0, loss0 = gd_loss(tr, b, w);
    size_t k = 0;
    for (uint64_t e = 0;; e++) {
        if (k < count && e == gd_history_epoch(c->epochs, count, k)) {
            ck_assert_uint_eq(h->epoch[k], e);
            ck_assert_msg(tu_same_bits(h->b[k], b) && tu_same_bits(h->w[k], w),
                          "sample %zu (epoch %" PRIu64 "): (%a, %a), plain loop (%a, %a)", k, e,
                          h->b[k], h->w[k], b, w);
            TU_ASSERT_BITS(h->train_loss[k], gd_loss(tr, b, w));
            TU_ASSERT_BITS(h->val_loss[k], gd_loss(va, b, w));
            k++;
        }
        if (e == c->epochs)
            break;
        double gb, gw;
        gd_gradient(tr, b, w, &gb, &gw);
        b = b - c->lr * gb;
        w = w - c->lr * gw;
    }
    ck_assert_uint_eq(k, count);
    TU_ASSERT_BITS(res.b, b);
    TU_ASSERT_BITS(res.w, w);
    TU_ASSERT_BITS(res.train_loss, gd_loss(tr, b, w));
    ck_assert_uint_eq(res.epochs_run, c->epochs);
    ck_assert_int_eq(res.status, gd_loss(tr, b, w) > loss0 ? GD_RUN_DIVERGED : GD_RUN_MAX_EPOCHS);
    gd_history_free(h);
    fixture_free(&f);
}
END_TEST

/* tol: converged at the first epoch whose gradient norm is <= tol; one epoch fewer is not. */
static const double tols[] = {1e-3, 1e-8, 1e-12, 0.5};

START_TEST(tolerance_stops_at_the_first_small_gradient)
{
    struct fixture f;
    fixture_make(&f, 42, 100, 1.0, GD_SCALER_NONE);
    struct gd_history *h = gd_history_new(5);
    ck_assert_ptr_nonnull(h);
    struct gd_train_config cfg = {
        .lr = 0.5, .b0 = 0.5, .w0 = -0.1, .epochs = 1000000, .tol = tols[_i]};
    struct gd_run_result res;
    ck_assert_int_eq(gd_train(&f.problem->train, &f.problem->val, &cfg, h, &res), GD_OK);
    ck_assert_int_eq(res.status, GD_RUN_CONVERGED);
    ck_assert_str_eq(gd_run_status_name(res.status), "converged");
    ck_assert_int_eq(res.diverged_at, -1);
    ck_assert_uint_lt(res.epochs_run, cfg.epochs);
    ck_assert(hypot(res.grad_b, res.grad_w) <= tols[_i] * (1 + 1e-15));
    if (res.epochs_run > 0) {
        struct gd_train_config before = cfg;
        before.epochs = res.epochs_run - 1;
        struct gd_run_result r;
        ck_assert_int_eq(gd_train(&f.problem->train, NULL, &before, NULL, &r), GD_OK);
        ck_assert_int_eq(r.status, GD_RUN_MAX_EPOCHS);
        ck_assert(r.grad_b * r.grad_b + r.grad_w * r.grad_w > tols[_i] * tols[_i]);
    }
    /* early stop: the planned samples were 0, 250000, ...; the stopping state is appended */
    ck_assert_uint_eq(h->count, 2);
    ck_assert_uint_eq(h->epoch[0], 0);
    ck_assert_uint_eq(h->epoch[1], res.epochs_run);
    TU_ASSERT_BITS(h->b[1], res.b);
    TU_ASSERT_BITS(h->w[1], res.w);
    gd_history_free(h);
    fixture_free(&f);
}
END_TEST

/* Far too big a learning rate: stops at the first non-finite loss, long before its epochs. */
START_TEST(overflow_stops_the_run)
{
    struct fixture f;
    fixture_make(&f, 42, 100, 1.0, GD_SCALER_NONE);
    struct gd_history *h = gd_history_new(4);
    ck_assert_ptr_nonnull(h);
    struct gd_train_config cfg = {.lr = 8.0, .b0 = 0.5, .w0 = -0.1, .epochs = 100000};
    struct gd_run_result res;
    ck_assert_int_eq(gd_train(&f.problem->train, &f.problem->val, &cfg, h, &res), GD_OK);
    ck_assert_int_eq(res.status, GD_RUN_DIVERGED);
    ck_assert_uint_lt(res.epochs_run, 1000);
    ck_assert(!isfinite(res.train_loss));
    ck_assert_int_eq(res.diverged_at, 1); /* the loss rose at once */
    ck_assert_uint_eq(h->count, 2);       /* epoch 0, then the stopping state */
    ck_assert_uint_eq(h->epoch[1], res.epochs_run);
    ck_assert(!isfinite(h->train_loss[1]));
    gd_history_free(h);
    fixture_free(&f);
}
END_TEST

struct cancel_count {
    int calls;
    bool give_up;
};

static bool expired(void *ctx)
{
    struct cancel_count *c = ctx;
    c->calls++;
    return c->give_up;
}

START_TEST(cancel_callback)
{
    struct gd_moments m = tu_small_moments();
    struct cancel_count count = {0, true};
    struct gd_train_config cfg = {
        .lr = 1e-9, .b0 = 0, .w0 = 0, .epochs = 200000, .cancel = {expired, &count}};
    struct gd_run_result res;
    ck_assert_int_eq(gd_train(&m, NULL, &cfg, NULL, &res), GD_ECANCELED);
    ck_assert_int_eq(count.calls, 1);
    ck_assert_uint_lt(res.epochs_run, cfg.epochs);
    ck_assert_uint_gt(res.epochs_run, 0);
    ck_assert(isnan(res.val_loss));
    /* a callback that never gives up is asked a few times and the run completes */
    count = (struct cancel_count){0, false};
    ck_assert_int_eq(gd_train(&m, NULL, &cfg, NULL, &res), GD_OK);
    ck_assert_uint_eq(res.epochs_run, cfg.epochs);
    ck_assert_int_ge(count.calls, 1);
    ck_assert_int_le(count.calls, 4);
}
END_TEST

static const struct bad_config {
    const char *what;
    double lr, b0, w0, tol;
} bad_configs[] = {
    {"zero lr", 0.0, 0, 0, 0},          {"negative lr", -0.1, 0, 0, 0},
    {"NaN lr", NAN, 0, 0, 0},           {"infinite lr", INFINITY, 0, 0, 0},
    {"NaN b0", 0.1, NAN, 0, 0},         {"infinite w0", 0.1, 0, -INFINITY, 0},
    {"negative tol", 0.1, 0, 0, -1e-6}, {"NaN tol", 0.1, 0, 0, NAN},
};

START_TEST(bad_config_is_einval)
{
    const struct bad_config *c = &bad_configs[_i];
    struct gd_moments m = tu_small_moments();
    struct gd_train_config cfg = {
        .lr = c->lr, .b0 = c->b0, .w0 = c->w0, .epochs = 10, .tol = c->tol};
    struct gd_run_result res;
    int status = gd_train(&m, NULL, &cfg, NULL, &res);
    ck_assert_msg(status == GD_EINVAL, "%s: status %s", c->what, gd_status_name(status));
}
END_TEST

START_TEST(zero_epochs_and_empty_history)
{
    struct gd_moments m = tu_small_moments();
    struct gd_history *h = gd_history_new(0);
    ck_assert_ptr_nonnull(h);
    struct gd_train_config cfg = {.lr = 0.1, .b0 = 1, .w0 = 1, .epochs = 0};
    struct gd_run_result res;
    ck_assert_int_eq(gd_train(&m, NULL, &cfg, h, &res), GD_OK);
    ck_assert_int_eq(res.status, GD_RUN_MAX_EPOCHS);
    ck_assert_uint_eq(res.epochs_run, 0);
    ck_assert_uint_eq(h->count, 0);
    TU_ASSERT_BITS(res.b, 1.0);
    TU_ASSERT_BITS(res.train_loss, gd_loss(&m, 1, 1));
    ck_assert_int_eq(gd_train(NULL, NULL, &cfg, NULL, &res), GD_EINVAL);
    ck_assert_int_eq(gd_train(&m, NULL, NULL, NULL, &res), GD_EINVAL);
    ck_assert_int_eq(gd_train(&m, NULL, &cfg, NULL, NULL), GD_EINVAL);
    gd_history_free(h);
    gd_history_free(NULL);
}
END_TEST

START_TEST(status_names)
{
    ck_assert_str_eq(gd_run_status_name(GD_RUN_MAX_EPOCHS), "max_epochs");
    ck_assert_str_eq(gd_run_status_name(GD_RUN_CONVERGED), "converged");
    ck_assert_str_eq(gd_run_status_name(GD_RUN_DIVERGED), "diverged");
    ck_assert_str_eq(gd_run_status_name((enum gd_run_status)9), "unknown");
}
END_TEST

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

int main(void)
{
    Suite *s = suite_create("train");
    TCase *hist = tcase_create("history");
    tcase_add_loop_test(hist, history_size_cases, 0, COUNT(size_cases));
    tcase_add_loop_test(hist, history_epochs_are_even, 0, COUNT(epoch_cases));
    tcase_add_loop_test(hist, history_is_the_trajectory, 0, COUNT(history_cases));
    suite_add_tcase(s, hist);
    TCase *runs = tcase_create("runs");
    tcase_set_timeout(runs, 60);
    tcase_add_loop_test(runs, trajectory_matches_per_sample_loop, 0, COUNT(run_cases));
    tcase_add_loop_test(runs, long_run_matches_plain_loop, 0, COUNT(long_cases));
    tcase_add_loop_test(runs, tolerance_stops_at_the_first_small_gradient, 0, COUNT(tols));
    tcase_add_test(runs, overflow_stops_the_run);
    tcase_add_test(runs, cancel_callback);
    suite_add_tcase(s, runs);
    TCase *input = tcase_create("input");
    tcase_add_loop_test(input, bad_config_is_einval, 0, COUNT(bad_configs));
    tcase_add_test(input, zero_epochs_and_empty_history);
    tcase_add_test(input, status_names);
    suite_add_tcase(s, input);
    return tu_run(s);
}
