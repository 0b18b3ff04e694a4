/*
 * libFuzzer harness for the numerical core's entry points with fuzzed parameters: dataset
 * generation or loading, the problem (scaler fit and moments), the analysis, a surface, a
 * cross-section and a training run with history. Sizes are bounded the way the server's limits
 * bound them (smaller, so that an execution stays fast); every double is arbitrary bits, NaN and
 * infinities included, because the core must answer a status for those rather than misbehave.
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_input.h"
#include "gdlab/gdlab.h"

#define MAX_POINTS 512
#define MAX_STEPS 64
#define MAX_EPOCHS 200000
#define MAX_HISTORY 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A deadline that passes after a fuzzed number of checks, to drive the cancel path too. */
static bool countdown_expired(void *ctx)
{
    unsigned *left = ctx;
    if (*left == 0)
        return true;
    --*left;
    return false;
}

static void exercise_grid(const struct gd_moments *m, struct fuzz_input *in)
{
    size_t nb = fuzz_range(in, 2, MAX_STEPS), nw = fuzz_range(in, 2, MAX_STEPS);
    double b_lo = fuzz_double(in), b_hi = fuzz_double(in);
    double w_lo = fuzz_double(in), w_hi = fuzz_double(in);
    if (fuzz_u8(in) & 1) {
        gd_default_range(m->y_mean, &b_lo, &b_hi);
        gd_default_range(m->w_opt, &w_lo, &w_hi);
    }
    double *bg = malloc(nb * sizeof(*bg)), *wg = malloc(nw * sizeof(*wg));
    double *loss = malloc(nb * nw * sizeof(*loss));
    double *loss_w = malloc(nw * sizeof(*loss_w)), *loss_b = malloc(nb * sizeof(*loss_b));
    if (!bg || !wg || !loss || !loss_w || !loss_b)
        goto out_free;
    gd_linspace(b_lo, b_hi, nb, bg);
    gd_linspace(w_lo, w_hi, nw, wg);
    struct gd_grid_min min;
    gd_surface(m, bg, nb, wg, nw, loss, &min);
    if (min.b_index >= nb || min.w_index >= nw)
        abort();

    double b = fuzz_double(in), w = fuzz_double(in), delta = fuzz_double(in);
    bool snap = fuzz_u8(in) & 1;
    struct gd_cross_section cs;
    if (gd_cross_section(m, bg, nb, wg, nw, b, w, snap, delta, loss_w, loss_b, &cs) == GD_OK &&
        (cs.b_index >= nb || cs.w_index >= nw))
        abort();
    (void)gd_nearest_index(bg, nb, fuzz_double(in));

out_free:
    free(loss_b);
    free(loss_w);
    free(loss);
    free(wg);
    free(bg);
}

static void exercise_train(const struct gd_problem *prob, struct fuzz_input *in)
{
    unsigned checks_left = fuzz_u8(in);
    struct gd_train_config cfg = {
        .lr = fuzz_double(in),
        .b0 = fuzz_double(in),
        .w0 = fuzz_double(in),
        .epochs = fuzz_range(in, 0, MAX_EPOCHS),
        .tol = fuzz_double(in),
        .cancel = {countdown_expired, &checks_left},
    };
    if (fuzz_u8(in) & 1)
        gd_initial_params(fuzz_u32(in), &cfg.b0, &cfg.w0);
    size_t cap = gd_history_size(cfg.epochs, fuzz_range(in, 0, MAX_HISTORY));
    struct gd_history *h = fuzz_u8(in) & 1 ? gd_history_new(cap) : NULL;
    struct gd_run_result res;
    int rc = gd_train(&prob->train, fuzz_u8(in) & 1 ? &prob->val : NULL, &cfg, h, &res);
    if (rc == GD_OK && res.epochs_run > cfg.epochs)
        abort();
    if (h && h->count > h->cap)
        abort();
    (void)gd_run_status_name(res.status);
    gd_history_free(h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = {data, size};
    struct gd_dataset_params p;
    gd_dataset_params_default(&p);
    uint8_t mode = fuzz_u8(&in);
    p.seed = fuzz_u32(&in);
    p.n = fuzz_range(&in, 1, MAX_POINTS);
    if (mode & 1) {
        p.true_b = fuzz_double(&in);
        p.true_w = fuzz_double(&in);
        p.noise = fuzz_double(&in);
        p.x_multiplier = fuzz_double(&in);
        p.train_fraction = fuzz_double(&in);
    }
    enum gd_scaler_kind kind = (enum gd_scaler_kind)(fuzz_u8(&in) % 3);

    struct gd_dataset *d = gd_dataset_new(p.n);
    if (!d)
        return 0;
    int rc;
    if (mode & 2) {
        /* Inline data: the client's x and y, arbitrary doubles. */
        double *x = malloc(p.n * sizeof(*x)), *y = malloc(p.n * sizeof(*y));
        if (!x || !y) {
            free(x);
            free(y);
            goto out_free_dataset;
        }
        for (size_t i = 0; i < p.n; i++) {
            x[i] = fuzz_double(&in);
            y[i] = fuzz_double(&in);
        }
        rc = gd_dataset_load(d, x, y, p.x_multiplier, p.seed, p.train_fraction);
        free(x);
        free(y);
    } else {
        rc = gd_dataset_generate(d, &p);
    }
    if (rc != GD_OK)
        goto out_free_dataset;
    if (d->n_train == 0 || d->n_train >= d->n)
        abort();
    for (size_t i = 0; i < d->n; i++)
        if (d->idx[i] >= d->n)
            abort();

    struct gd_problem *prob = gd_problem_new(d, kind, &rc);
    if (!prob)
        goto out_free_dataset;
    struct gd_analysis an;
    (void)gd_analyze(&prob->train, &an);
    (void)gd_analyze(&prob->val, &an);
    double b = fuzz_double(&in), w = fuzz_double(&in), gb, gw;
    double loss = gd_loss(&prob->train, b, w);
    gd_gradient(&prob->train, b, w, &gb, &gw);
    if (loss < 0.0)
        abort(); /* a sum of squares: negative only through cancellation */
    (void)gd_loss_direct(prob->x, d->y, d->idx, d->n_train, b, w);
    gd_gradient_direct(prob->x, d->y, d->idx, d->n_train, b, w, &gb, &gw);

    struct gd_scaler s;
    if (gd_scaler_fit(&s, kind, d->x, d->idx, d->n_train) == GD_OK) {
        double v[4] = {fuzz_double(&in), fuzz_double(&in), 0.0, 1.0};
        gd_scaler_apply(&s, v, v, 4);
        (void)gd_scaler_name(s.kind);
    }

    exercise_grid(&prob->train, &in);
    exercise_train(prob, &in);
    gd_problem_free(prob);
out_free_dataset:
    gd_dataset_free(d);
    return 0;
}
