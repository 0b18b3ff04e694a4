/* The learning-rate range test (Leslie Smith), as torch_lr_finder's LRFinder.range_test runs it. */
#ifndef GDLAB_LRFINDER_H
#define GDLAB_LRFINDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gdlab/optim.h"
#include "gdlab/train.h"

/*
 * The test (torch_lr_finder/lr_finder.py, LRFinder.range_test with val_loader None and
 * accumulation_steps 1; its ExponentialLR/LinearLR; plot()'s "steepest" suggestion):
 *
 * One optimizer (its state kept for the whole test) starts at p = (b0, w0). Iteration
 * i = 0 .. num_iter-1 takes the next batch (cycling through epochs), computes the batch loss
 * raw[i] at p and its gradient, takes one optimizer step at the rate
 *     exp:     lr[i] = start_lr * (end_lr / start_lr) ** r      r = i / (num_iter - 1)
 *     linear:  lr[i] = start_lr + r * (end_lr - start_lr)
 * (the library's scheduler has last_epoch = i during iteration i: its constructor's step sets
 * last_epoch 0, so iteration 0 runs at start_lr exactly; lr[i] is recorded, then the scheduler
 * steps), and records the smoothed loss
 *     loss[0] = raw[0],  loss[i] = smooth_f * raw[i] + (1 - smooth_f) * loss[i-1]
 * (smooth_f = 0: loss[i] = raw[i], the library skips the formula). best = loss[0], then
 * best = loss[i] whenever loss[i] < best. The test stops after recording point i when
 *     loss[i] > diverge_th * best.
 * Where gdlab departs from the library: a non-finite loss[i] also stops the test at i. (The
 * library's comparison stops on +inf after a finite best, which is the same; a NaN, or +inf at
 * iteration 0, never compares true there, and it would run on to num_iter recording NaN.)
 *
 * The suggestion: the point of steepest descent of the smoothed curve, plot()'s
 *     k = argmin(numpy.gradient(loss[skip_start : count - skip_end]))
 * numpy.gradient with unit spacing and edge_order 1 on f[0..m): (f[1] - f[0]) / 1 at 0,
 * (f[j+1] - f[j-1]) / 2 inside, (f[m-1] - f[m-2]) / 1 at m-1; it needs m >= 2 (numpy raises,
 * plot() suggests nothing). argmin is the first minimum, or the first NaN if there is one.
 */

enum gd_lrfinder_mode { GD_LRFINDER_EXP, GD_LRFINDER_LINEAR, GD_LRFINDER_MODE_COUNT };

/* The library's defaults and gdlab's limits. */
#define GD_LRFINDER_START_LR 1e-4
#define GD_LRFINDER_END_LR 10.0
#define GD_LRFINDER_NUM_ITER 100
#define GD_LRFINDER_SMOOTH_F 0.05
#define GD_LRFINDER_DIVERGE_TH 5.0
#define GD_LRFINDER_SKIP_START 10
#define GD_LRFINDER_SKIP_END 5
#define GD_LRFINDER_MAX_ITER 100000 /* num_iter's upper limit: result arrays of 3 x 800 kB */

/* One range test. opt.lr is not read: the rate is the schedule's. */
struct gd_lrfinder_config {
    struct gd_optim_params opt; /* the optimizer and its hyperparameters */
    size_t batch_size;          /* 0 = the whole training split every iteration; 1..n_train */
    bool shuffle;               /* mini-batches only: a new permutation every epoch */
    uint32_t shuffle_seed;      /* numpy RandomState seed of the permutations */
    double b0;                  /* finite */
    double w0;                  /* finite */
    double start_lr;            /* > 0, finite; 1e-4 */
    double end_lr;              /* > start_lr, finite, and end_lr / start_lr finite; 10 */
    uint64_t num_iter;          /* 2 .. GD_LRFINDER_MAX_ITER (the library refuses < 2); 100 */
    enum gd_lrfinder_mode mode; /* exp */
    double smooth_f;            /* [0, 1); 0.05 */
    double diverge_th;          /* >= 1, finite (below 1 the first point would stop it); 5 */
    size_t skip_start;          /* plot()'s trim of the suggestion's range (any); 10 */
    size_t skip_end;            /* 5 */
    struct gd_cancel cancel;
};

/* The curve and what the library reads off it. Arrays of cap points (cap >= num_iter). */
struct gd_lrfinder_result {
    size_t cap;
    size_t count;       /* points recorded: num_iter, or stopped_at + 1 */
    double *lr;         /* the rate of iteration i's step */
    double *loss;       /* smoothed loss */
    double *raw_loss;   /* batch loss at the parameters before iteration i's step */
    int64_t stopped_at; /* the iteration whose point stopped the test; -1 if it ran num_iter */
    int64_t best_index; /* first index of the smallest smoothed loss (the library's best_loss);
                           -1 when loss[0] is not finite */
    double best_lr;     /* lr[best_index]; NaN if none */
    double best_loss;   /* loss[best_index]; NaN if none */
    int64_t suggestion_index; /* skip_start + the argmin above, into the whole arrays; -1 when
                                 fewer than skip_start + skip_end + 2 points */
    double suggestion_lr;     /* lr[suggestion_index]; NaN if none */
    double b;                 /* parameters after the last step taken */
    double w;
};

/* "exp" or "linear"; "unknown" out of range. */
const char *gd_lrfinder_mode_name(enum gd_lrfinder_mode mode);

/* The mode of a name; GD_EINVAL when there is none. */
int gd_lrfinder_mode_parse(const char *name, enum gd_lrfinder_mode *mode);

/* The library's defaults (above) with torch's hyperparameters for kind, full batch, shuffle on
 * with seed 42, start (0, 0). */
void gd_lrfinder_config_default(struct gd_lrfinder_config *c, enum gd_optimizer kind);

/* NULL when valid for a training split of n_train rows, else the offending parameter's name
 * ("start_lr", "end_lr", "num_iter", "step_mode", "smooth_f", "diverge_th", "batch_size", "b0",
 * "w0", or one of gd_optim_params_invalid's but "lr"). */
const char *gd_lrfinder_config_invalid(const struct gd_lrfinder_config *c, size_t n_train);

/* The rate of iteration i (formulas above, the library's rounding). */
double gd_lrfinder_lr(enum gd_lrfinder_mode mode, double start_lr, double end_lr, uint64_t num_iter,
                      uint64_t i);

/* numpy.gradient(f) for n >= 2 points into out[0..n) (formula above); GD_EINVAL when n < 2. */
int gd_lrfinder_gradient(const double *f, size_t n, double *out);

/* plot()'s suggestion: skip_start + argmin(numpy.gradient(loss[skip_start : count - skip_end])),
 * -1 when that slice has fewer than 2 points. */
int64_t gd_lrfinder_steepest(const double *loss, size_t count, size_t skip_start, size_t skip_end);

/* A result with room for cap points; NULL when out of memory. */
struct gd_lrfinder_result *gd_lrfinder_result_new(size_t cap);

/* Release a result; NULL is fine. */
void gd_lrfinder_result_free(struct gd_lrfinder_result *r);

/* An empty curve: count 0, stopped_at, best_index and suggestion_index -1, the rest NaN. */
void gd_lrfinder_result_clear(struct gd_lrfinder_result *r);

/* Append iteration r->count (< r->cap) with its rate and batch loss: smooth, track the best
 * (best_loss holds the running best until gd_lrfinder_finish), and return true when the test
 * stops at this point (stopped_at set). The library's loop body; gd_lrfinder_run calls it. */
bool gd_lrfinder_record(struct gd_lrfinder_result *r, double smooth_f, double diverge_th, double lr,
                        double raw);

/* best_lr, best_loss and the suggestion of the points recorded. */
void gd_lrfinder_finish(struct gd_lrfinder_result *r, size_t skip_start, size_t skip_end);

/* Run the test on d's training split (d->val is not read). GD_EINVAL for an invalid config
 * (gd_lrfinder_config_invalid names the parameter), for out->cap < num_iter, or for mini-batches
 * without per-sample data; GD_ENOMEM; GD_ECANCELED when cancel expired (out then holds the points
 * recorded so far, their best and suggestion). */
int gd_lrfinder_run(const struct gd_optim_data *d, const struct gd_lrfinder_config *cfg,
                    struct gd_lrfinder_result *out);

#endif
