/* torch.optim's optimizers, mini-batches and learning-rate schedules on the MSE, bit for bit. */
#ifndef GDLAB_OPTIM_H
#define GDLAB_OPTIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gdlab/moments.h"
#include "gdlab/problem.h"
#include "gdlab/rng.h"
#include "gdlab/train.h"

/* Each optimizer is one torch.optim class (torch 1.13, single-tensor path, float64):
 *   gd        SGD(lr)                           p -= lr*g
 *   momentum  SGD(lr, momentum=beta)            buf = beta*buf + g (buf = g at step 1); p -= lr*buf
 *   nesterov  SGD(lr, momentum=beta, nesterov)  as momentum, then p -= lr*(g + beta*buf)
 *   adagrad   Adagrad(lr)                       s += g*g; p -= lr*g/(sqrt(s) + eps)
 *   rmsprop   RMSprop(lr, alpha)                v = alpha*v + (1-alpha)*g*g; p -= lr*g/(sqrt(v) +
 * eps) adam      Adam(lr, betas)                   m, v as torch; p -=
 * (lr/bc1)*m/(sqrt(v)/sqrt(bc2) + eps) adamw     AdamW(lr, betas, weight_decay)    p *= 1 - lr*wd
 * first, then as adam (without wd in g) weight_decay for all but adamw is torch's g += wd*p before
 * the update. */
enum gd_optimizer {
    GD_OPT_GD,
    GD_OPT_MOMENTUM,
    GD_OPT_NESTEROV,
    GD_OPT_ADAGRAD,
    GD_OPT_RMSPROP,
    GD_OPT_ADAM,
    GD_OPT_ADAMW,
    GD_OPT_COUNT
};

/* The hyperparameters an optimizer reads, as bits of gd_optimizer_uses(). */
enum gd_hyper {
    GD_HYPER_MOMENTUM = 1u << 0,
    GD_HYPER_BETA1 = 1u << 1,
    GD_HYPER_BETA2 = 1u << 2,
    GD_HYPER_ALPHA = 1u << 3,
    GD_HYPER_EPS = 1u << 4,
    GD_HYPER_WEIGHT_DECAY = 1u << 5
};

/* One optimizer with its hyperparameters (those it does not use are ignored). */
struct gd_optim_params {
    enum gd_optimizer kind;
    double lr;           /* > 0, finite */
    double momentum;     /* beta of momentum and nesterov, [0, 1); 0.9 */
    double beta1;        /* adam, adamw: [0, 1); 0.9 */
    double beta2;        /* adam, adamw: [0, 1); 0.999 */
    double alpha;        /* rmsprop's smoothing constant, [0, 1); 0.99 */
    double eps;          /* > 0; 1e-10 for adagrad, 1e-8 for the others */
    double weight_decay; /* >= 0; 0.01 for adamw, 0 for the others */
};

/* "gd", "momentum", ... ; "unknown" out of range. */
const char *gd_optimizer_name(enum gd_optimizer kind);

/* The optimizer of a name; GD_EINVAL when there is none. */
int gd_optimizer_parse(const char *name, enum gd_optimizer *kind);

/* Bits of enum gd_hyper the optimizer reads (gd reads only weight_decay). */
unsigned gd_optimizer_uses(enum gd_optimizer kind);

/* The name of one hyperparameter bit ("momentum", "beta1", ...); NULL for anything else. */
const char *gd_hyper_name(unsigned bit);

/* torch's defaults for kind, with the given lr. */
void gd_optim_params_default(struct gd_optim_params *p, enum gd_optimizer kind, double lr);

/* NULL when valid, else the name of the first parameter out of range ("lr", "momentum", ...). */
const char *gd_optim_params_invalid(const struct gd_optim_params *p);

/* Optimizer state for the two parameters (b, w); start from gd_optim_state_init. */
struct gd_optim_state {
    uint64_t step; /* updates applied */
    double buf[2]; /* momentum buffer, or adam's exp_avg */
    double sq[2];  /* adagrad's sum, rmsprop's square_avg, adam's exp_avg_sq */
};

/* Zero state: no step taken, empty buffers (torch's lazily created state). */
void gd_optim_state_init(struct gd_optim_state *s);

/* One optimizer.step() at learning rate lr on p = {b, w} with gradient g, in place. Each line is
 * one torch kernel: a + alpha*b and a + v*t1*t2 are one fused multiply-add each (torch's CPU
 * kernels fuse them), a + v*t1/t2 is (v*t1)/t2 rounded then added. */
void gd_optim_step(const struct gd_optim_params *p, double lr, struct gd_optim_state *s,
                   double param[2], const double grad[2]);

/* torch.optim.lr_scheduler, stepped as the tutorial's loop would step it. */
enum gd_schedule_kind {
    GD_SCHED_CONSTANT,    /* no scheduler */
    GD_SCHED_STEP,        /* StepLR(step_size, gamma), after every epoch */
    GD_SCHED_EXPONENTIAL, /* ExponentialLR(gamma), after every epoch */
    GD_SCHED_COSINE,      /* CosineAnnealingLR(t_max, eta_min), after every epoch */
    GD_SCHED_ONECYCLE,    /* OneCycleLR(max_lr = lr, total_steps), after every optimizer step */
    GD_SCHED_COUNT
};

/* A schedule's parameters; a field its kind does not read is ignored. */
struct gd_schedule {
    enum gd_schedule_kind kind;
    uint64_t step_size; /* step: epochs between decays, >= 1; default 10 (torch has none) */
    double gamma;       /* step, exponential: > 0 (< 1 decays); default 0.1 (step), 0.95 (exp.) */
    uint64_t t_max;     /* cosine: half-period in epochs, >= 1; 0 means the run's epochs */
    double eta_min;     /* cosine: the lowest rate, >= 0; default 0 */
};

/* Where a schedule stands: torch's last_epoch (scheduler steps so far) and the current rate. */
struct gd_schedule_state {
    uint64_t last_epoch;
    double lr;
    double base_lr;
    uint64_t t_max;       /* cosine: resolved */
    uint64_t total_steps; /* onecycle */
    double initial_lr;    /* onecycle: max_lr / 25 */
    double min_lr;        /* onecycle: initial_lr / 1e4 */
    double phase_end;     /* onecycle: float(0.3*total_steps) - 1 */
};

/* "constant", "step", "exponential", "cosine", "onecycle"; "unknown" out of range. */
const char *gd_schedule_name(enum gd_schedule_kind kind);

/* The schedule of a name; GD_EINVAL when there is none. */
int gd_schedule_parse(const char *name, enum gd_schedule_kind *kind);

/* The defaults of kind: step_size 10, gamma 0.1 (step) or 0.95 (exponential), t_max 0, eta_min 0.
 */
void gd_schedule_default(struct gd_schedule *s, enum gd_schedule_kind kind);

/* NULL when valid, else the name of the offending field ("step_size", "gamma", "eta_min"). */
const char *gd_schedule_invalid(const struct gd_schedule *s);

/* Construct the scheduler for a run at base rate lr of epochs x steps_per_epoch steps, as torch's
 * constructor does (its first step(): last_epoch 0; onecycle sets the rate of step 0);
 * GD_EINVAL for onecycle with no step, which torch refuses too. */
int gd_schedule_start(const struct gd_schedule *s, double lr, uint64_t epochs,
                      uint64_t steps_per_epoch, struct gd_schedule_state *st);

/* scheduler.step() after an optimizer step (onecycle) or after an epoch (the others): true when
 * this kind steps at that point; st->lr is then the new rate. */
bool gd_schedule_after_step(const struct gd_schedule *s, struct gd_schedule_state *st);
bool gd_schedule_after_epoch(const struct gd_schedule *s, struct gd_schedule_state *st);

/* Mini-batches of a training split, as the reference loop draws them: each epoch starts with
 * perm = RandomState(seed).permutation(n) (one stream for the whole run), and the batches are
 * consecutive slices of perm, the last one shorter (DataLoader, drop_last=False). */
struct gd_batcher {
    const size_t *rows; /* the split's rows in split order */
    size_t n;           /* rows in the split */
    size_t batch_size;  /* 1..n */
    bool shuffle;       /* false: the split's order every epoch */
    size_t pos;         /* next slice start in perm; n = the epoch is over */
    struct gd_rng rng;
    size_t *perm;  /* the epoch's permutation of 0..n-1 */
    size_t *batch; /* the current batch as rows of the dataset */
};

/* A batcher over rows[0..n) (caller-owned, must outlive it); NULL when out of memory or when
 * batch_size is 0 or above n. */
struct gd_batcher *gd_batcher_new(const size_t *rows, size_t n, size_t batch_size, bool shuffle,
                                  uint32_t seed);

/* Release a batcher; NULL is fine. */
void gd_batcher_free(struct gd_batcher *bt);

/* Steps in one epoch: ceil(n / batch_size). */
size_t gd_batches_per_epoch(size_t n, size_t batch_size);

/* The next batch (dataset rows) in *rows, its size returned; a new epoch, with a new permutation,
 * starts whenever the previous one is used up. *epoch_start tells whether this batch begins one. */
size_t gd_batcher_next(struct gd_batcher *bt, const size_t **rows, bool *epoch_start);

/* Loss and gradient of one mini-batch: e = b + w*x - y, summed in row order (the reference's
 * explicit loop): loss = sum(e^2)/n, db = 2*sum(e)/n, dw = 2*sum(x*e)/n. Any out may be NULL. */
void gd_batch_eval(const double *x, const double *y, const size_t *rows, size_t n, double b,
                   double w, double *loss, double *grad_b, double *grad_w);

/* What a run sees of a problem: full-split moments for O(1) losses and gradients, the per-sample
 * data for mini-batches. */
struct gd_optim_data {
    const struct gd_moments *train;
    const struct gd_moments *val; /* may be NULL: val_loss NaN */
    const double *x;              /* feature the model sees, generation order */
    const double *y;
    const size_t *rows; /* the training split's rows in split order, train->n of them */
};

/* A problem's training data as a gd_optim_data (borrowed pointers). */
void gd_optim_data_from_problem(const struct gd_problem *p, struct gd_optim_data *d);

/* What a history point counts: epochs (state after each epoch, 0 = start) or optimizer steps. */
enum gd_history_unit { GD_HISTORY_EPOCH, GD_HISTORY_STEP };

/* One run. */
struct gd_optim_config {
    struct gd_optim_params opt;
    struct gd_schedule schedule;
    double b0;
    double w0;
    uint64_t epochs;
    size_t batch_size;     /* 0 = the whole training split, one step per epoch */
    bool shuffle;          /* mini-batches only */
    uint32_t shuffle_seed; /* numpy RandomState seed of the run's permutations */
    double tol;            /* stop once the full training gradient norm <= tol at an epoch end */
    enum gd_history_unit history_unit;
    bool measure_rate; /* compute rate_measured where a closed form exists (a second pass) */
    struct gd_cancel cancel;
};

/* Fill a config with the defaults: gd at lr, constant schedule, full batch, shuffle on with seed
 * 42, epoch history, tol 0, rate measured. */
void gd_optim_config_default(struct gd_optim_config *c, enum gd_optimizer kind, double lr);

/* NULL when valid for a training split of n_train rows, else the offending parameter's name
 * ("batch_size", "b0", "tol", or one of gd_optim_params_invalid / gd_schedule_invalid). */
const char *gd_optim_config_invalid(const struct gd_optim_config *c, size_t n_train);

/* How a run ended. run.epochs_run counts whole epochs; run.diverged_at is the epoch the
 * divergence rule (below) fired, -1 if it did not. */
struct gd_optim_result {
    struct gd_run_result run;
    uint64_t steps_run; /* optimizer steps applied */
    double lr;          /* the rate after the run's last scheduler step (torch's get_last_lr()) */
    bool has_rate;      /* gd, momentum, nesterov with full batch and constant rate */
    double rate_predicted; /* spectral radius per epoch (gd_stability_rho); NaN unless has_rate */
    double rate_measured;  /* gd_rate_measure's contraction per epoch; NaN if not measurable */
};

/*
 * Divergence. Every optimizer: a non-finite loss or parameter stops the run as diverged.
 *
 * gd, full batch, constant rate: gd_train's rule, unchanged (exact for gd: every eigen-direction
 * shrinks or grows monotonically): diverged at the first epoch whose loss exceeds the start, and
 * the run is diverged if its final loss does.
 *
 * momentum and nesterov, full batch, constant rate: the iteration is linear and time-invariant,
 * and it converges iff its spectral radius rho (weight decay included) is below 1. With rho < 1 a
 * run is never called diverged, however far it overshoots (heavy ball 0.9 at lr 1.4 on the
 * tutorial's data climbs to 8.3x its start, then converges). With rho >= 1 it is diverged from the
 * first epoch whose loss exceeds the start (as soon as the growth shows); until then it is not.
 *
 * Everything else (adaptive optimizers, mini-batches, schedules) has no closed form. It is
 * diverged while its full training loss L at an epoch end t >= W satisfies
 *     L(t) > K * L(0)   and   L(t) > G * L(t - W),      K = 1e8, G = 2, W = 10 epochs
 * (far above the start and still growing geometrically). Adaptive steps are bounded by about lr
 * (adam, rmsprop) or shrink (adagrad), so their overshoots stay bounded and are never flagged;
 * a run whose state grows without bound (mini-batch SGD past its stable rate, adamw with
 * lr*weight_decay > 2) reaches K within log(K)/log(rho) epochs and is caught there. The flag
 * clears, and diverged_at returns to -1, when the loss falls back to K * L(0) or below: a
 * schedule may take a run past its stable rate and back (onecycle's warm-up), and a run that
 * recovers converged. The status is diverged if the flag is set at the end.
 */
#define GD_DIVERGE_FACTOR 1e8
#define GD_DIVERGE_GROWTH 2.0
#define GD_DIVERGE_WINDOW 10

/* Run one configuration. history may be NULL; else it gets up to history->cap evenly spaced
 * states in cfg->history_unit (history->epoch holds epochs or steps), with the full training and
 * validation losses and the rate in force there (history->lr). gd with a constant rate and full
 * batch is gd_train itself, bit for bit. GD_EINVAL for an invalid config (gd_optim_config_invalid
 * names the parameter), GD_ENOMEM, GD_ECANCELED when cancel expired (out holds the state then). */
int gd_optim_run(const struct gd_optim_data *d, const struct gd_optim_config *cfg,
                 struct gd_history *history, struct gd_optim_result *out);

#endif
