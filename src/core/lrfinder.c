/*
 * The learning-rate range test, operation for operation as torch_lr_finder runs it in float64:
 * the rates are its schedulers' Python expressions (libm's pow for **, an int / int division for
 * r, exact for any num_iter below 2^53), the smoothing and the stop rule its Python float
 * arithmetic (no fused multiply-add: this file, like the whole core, is built with
 * -ffp-contract=off), each step one gd_optim_step (torch's kernels). The batch loss and gradient
 * are the core's: from the moments in O(1) on the full batch (quadratic.h), a sequential sum over
 * the rows of a mini-batch (gd_batch_eval), as gd_optim_run computes them.
 */
#include "gdlab/lrfinder.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gdlab/status.h"
#include "quadratic.h"

/* How much work (rows summed, or 1 per full-batch iteration) passes between two looks at the
 * deadline. */
#define CANCEL_CHECK_WORK 65536u

static const char *const mode_names[GD_LRFINDER_MODE_COUNT] = {"exp", "linear"};

const char *gd_lrfinder_mode_name(enum gd_lrfinder_mode mode)
{
    return (unsigned)mode < GD_LRFINDER_MODE_COUNT ? mode_names[mode] : "unknown";
}

int gd_lrfinder_mode_parse(const char *name, enum gd_lrfinder_mode *mode)
{
    for (int k = 0; name && k < GD_LRFINDER_MODE_COUNT; k++) {
        if (strcmp(name, mode_names[k]) == 0) {
            *mode = (enum gd_lrfinder_mode)k;
            return GD_OK;
        }
    }
    return GD_EINVAL;
}

void gd_lrfinder_config_default(struct gd_lrfinder_config *c, enum gd_optimizer kind)
{
    *c = (struct gd_lrfinder_config){
        .batch_size = 0,
        .shuffle = true,
        .shuffle_seed = 42,
        .b0 = 0.0,
        .w0 = 0.0,
        .start_lr = GD_LRFINDER_START_LR,
        .end_lr = GD_LRFINDER_END_LR,
        .num_iter = GD_LRFINDER_NUM_ITER,
        .mode = GD_LRFINDER_EXP,
        .smooth_f = GD_LRFINDER_SMOOTH_F,
        .diverge_th = GD_LRFINDER_DIVERGE_TH,
        .skip_start = GD_LRFINDER_SKIP_START,
        .skip_end = GD_LRFINDER_SKIP_END,
    };
    gd_optim_params_default(&c->opt, kind, GD_LRFINDER_START_LR);
}

const char *gd_lrfinder_config_invalid(const struct gd_lrfinder_config *c, size_t n_train)
{
    if (!(isfinite(c->start_lr) && c->start_lr > 0.0))
        return "start_lr";
    /* end_lr / start_lr is the exponential schedule's base: it must not overflow either */
    if (!(isfinite(c->end_lr) && c->end_lr > c->start_lr && isfinite(c->end_lr / c->start_lr)))
        return "end_lr";
    /* the hyperparameters, with the schedule's first rate in place of the unread lr */
    struct gd_optim_params opt = c->opt;
    opt.lr = c->start_lr;
    const char *bad = gd_optim_params_invalid(&opt);
    if (bad)
        return bad;
    if (c->num_iter < 2 || c->num_iter > GD_LRFINDER_MAX_ITER)
        return "num_iter";
    if ((unsigned)c->mode >= GD_LRFINDER_MODE_COUNT)
        return "step_mode";
    if (!(c->smooth_f >= 0.0 && c->smooth_f < 1.0))
        return "smooth_f";
    if (!(isfinite(c->diverge_th) && c->diverge_th >= 1.0))
        return "diverge_th";
    if (c->batch_size > n_train)
        return "batch_size";
    if (!isfinite(c->b0))
        return "b0";
    if (!isfinite(c->w0))
        return "w0";
    return NULL;
}

double gd_lrfinder_lr(enum gd_lrfinder_mode mode, double start_lr, double end_lr, uint64_t num_iter,
                      uint64_t i)
{
    /* r = self.last_epoch / (self.num_iter - 1): Python's int / int, correctly rounded */
    double r = (double)i / (double)(num_iter - 1);
    if (mode == GD_LRFINDER_LINEAR)
        return start_lr + r * (end_lr - start_lr); /* base_lr + r * (end_lr - base_lr) */
    return start_lr * pow(end_lr / start_lr, r);   /* base_lr * (end_lr / base_lr) ** r */
}

/* numpy.gradient's value at j of f[0..n), n >= 2 (np.gradient with the default unit spacing:
 * out[1:-1] = (f[2:] - f[:-2]) / (2. * 1.0), out[0] = (f[1] - f[0]) / 1.0, out[-1] likewise). */
static double numpy_gradient_at(const double *f, size_t n, size_t j)
{
    if (j == 0)
        return (f[1] - f[0]) / 1.0;
    if (j == n - 1)
        return (f[n - 1] - f[n - 2]) / 1.0;
    return (f[j + 1] - f[j - 1]) / 2.0;
}

int gd_lrfinder_gradient(const double *f, size_t n, double *out)
{
    if (!f || !out || n < 2)
        return GD_EINVAL;
    for (size_t j = 0; j < n; j++)
        out[j] = numpy_gradient_at(f, n, j);
    return GD_OK;
}

int64_t gd_lrfinder_steepest(const double *loss, size_t count, size_t skip_start, size_t skip_end)
{
    /* losses[skip_start:-skip_end] (losses[skip_start:] for skip_end 0); numpy raises below 2 */
    if (!loss || skip_start > count || skip_end > count - skip_start ||
        count - skip_start - skip_end < 2)
        return -1;
    const double *f = loss + skip_start;
    const size_t n = count - skip_start - skip_end;
    /* ndarray.argmin: the first minimum; a NaN is smaller than everything, the first one wins */
    size_t best = 0;
    double min = numpy_gradient_at(f, n, 0);
    for (size_t j = 1; j < n && !isnan(min); j++) {
        double g = numpy_gradient_at(f, n, j);
        if (g < min || isnan(g)) {
            min = g;
            best = j;
        }
    }
    return (int64_t)(skip_start + best);
}

struct gd_lrfinder_result *gd_lrfinder_result_new(size_t cap)
{
    struct gd_lrfinder_result *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->cap = cap;
    size_t m = cap ? cap : 1;
    r->lr = malloc(m * sizeof(*r->lr));
    r->loss = malloc(m * sizeof(*r->loss));
    r->raw_loss = malloc(m * sizeof(*r->raw_loss));
    if (!r->lr || !r->loss || !r->raw_loss) {
        gd_lrfinder_result_free(r);
        return NULL;
    }
    return r;
}

void gd_lrfinder_result_free(struct gd_lrfinder_result *r)
{
    if (!r)
        return;
    free(r->lr);
    free(r->loss);
    free(r->raw_loss);
    free(r);
}

void gd_lrfinder_result_clear(struct gd_lrfinder_result *r)
{
    r->count = 0;
    r->stopped_at = -1;
    r->best_index = -1;
    r->best_lr = NAN;
    r->best_loss = NAN;
    r->suggestion_index = -1;
    r->suggestion_lr = NAN;
    r->b = NAN;
    r->w = NAN;
}

bool gd_lrfinder_record(struct gd_lrfinder_result *r, double smooth_f, double diverge_th, double lr,
                        double raw)
{
    const size_t i = r->count;
    /* iteration 0: best_loss = loss; then loss = smooth_f * loss + (1 - smooth_f) * previous
     * (only if smooth_f > 0) and best_loss = loss if loss < best_loss */
    double loss = raw;
    if (i == 0) {
        r->best_loss = loss;
        r->best_index = isfinite(loss) ? 0 : -1; /* and a non-finite loss[0] stops it here */
    } else {
        if (smooth_f > 0.0)
            loss = smooth_f * raw + (1.0 - smooth_f) * r->loss[i - 1];
        if (loss < r->best_loss) {
            r->best_loss = loss;
            r->best_index = (int64_t)i;
        }
    }
    r->lr[i] = lr;
    r->loss[i] = loss;
    r->raw_loss[i] = raw;
    r->count = i + 1;
    /* history["loss"].append(loss); if loss > diverge_th * best_loss: break (and gdlab's rule) */
    if (loss > diverge_th * r->best_loss || !isfinite(loss)) {
        r->stopped_at = (int64_t)i;
        return true;
    }
    return false;
}

void gd_lrfinder_finish(struct gd_lrfinder_result *r, size_t skip_start, size_t skip_end)
{
    r->suggestion_index = gd_lrfinder_steepest(r->loss, r->count, skip_start, skip_end);
    r->suggestion_lr = r->suggestion_index >= 0 ? r->lr[r->suggestion_index] : NAN;
    r->best_lr = r->best_index >= 0 ? r->lr[r->best_index] : NAN;
    r->best_loss = r->best_index >= 0 ? r->loss[r->best_index] : NAN;
}

int gd_lrfinder_run(const struct gd_optim_data *d, const struct gd_lrfinder_config *cfg,
                    struct gd_lrfinder_result *out)
{
    if (!d || !d->train || !cfg || !out || gd_lrfinder_config_invalid(cfg, d->train->n) ||
        out->cap < cfg->num_iter)
        return GD_EINVAL;
    const bool full = cfg->batch_size == 0;
    if (!full && (!d->x || !d->y || !d->rows))
        return GD_EINVAL;
    struct gd_batcher *bt = NULL;
    if (!full) {
        bt = gd_batcher_new(d->rows, d->train->n, cfg->batch_size, cfg->shuffle, cfg->shuffle_seed);
        if (!bt)
            return GD_ENOMEM;
    }
    gd_lrfinder_result_clear(out);

    struct gd_optim_state st;
    gd_optim_state_init(&st);
    double p[2] = {cfg->b0, cfg->w0}, g[2];
    uint64_t work = 0;
    int rc = GD_OK;
    for (uint64_t i = 0; i < cfg->num_iter; i++) {
        /* _train_batch: the loss and gradient at p on the next batch, then optimizer.step() */
        double raw;
        if (full) {
            double r0 = quad_r0(d->train, p[0], p[1]);
            raw = quad_loss(d->train, r0, p[1]);
            g[0] = -2.0 * r0;
            g[1] = quad_grad_w(d->train, r0, p[1]);
            work++;
        } else {
            const size_t *rows;
            size_t count = gd_batcher_next(bt, &rows, NULL);
            gd_batch_eval(d->x, d->y, rows, count, p[0], p[1], &raw, &g[0], &g[1]);
            work += count;
        }
        const double lr = gd_lrfinder_lr(cfg->mode, cfg->start_lr, cfg->end_lr, cfg->num_iter, i);
        gd_optim_step(&cfg->opt, lr, &st, p, g);
        /* history["lr"].append(lr_schedule.get_lr()[0]), the same rate */
        if (gd_lrfinder_record(out, cfg->smooth_f, cfg->diverge_th, lr, raw))
            break;
        if (work >= CANCEL_CHECK_WORK) {
            work = 0;
            if (cfg->cancel.expired && cfg->cancel.expired(cfg->cancel.ctx)) {
                rc = GD_ECANCELED;
                break;
            }
        }
    }
    gd_batcher_free(bt);
    out->b = p[0];
    out->w = p[1];
    gd_lrfinder_finish(out, cfg->skip_start, cfg->skip_end);
    return rc;
}
