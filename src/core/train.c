/*
 * Full-batch gradient descent on the MSE. Each epoch costs O(1): the gradient comes from the
 * moments (gd_gradient), not from a pass over the data, and is the same number the per-sample mean
 * gives.
 *
 *     b <- b - lr * dL/db,   w <- w - lr * dL/dw
 */
#include "gdlab/train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gdlab/status.h"
#include "quadratic.h"

/* How often (in epochs) a long run asks whether its deadline has passed. */
#define CANCEL_CHECK_INTERVAL 65536u

struct gd_history *gd_history_new(size_t cap)
{
    struct gd_history *h = calloc(1, sizeof(*h));
    if (!h)
        return NULL;
    h->cap = cap;
    if (cap == 0)
        return h;
    h->epoch = malloc(cap * sizeof(*h->epoch));
    h->b = malloc(cap * sizeof(*h->b));
    h->w = malloc(cap * sizeof(*h->w));
    h->train_loss = malloc(cap * sizeof(*h->train_loss));
    h->val_loss = malloc(cap * sizeof(*h->val_loss));
    h->lr = malloc(cap * sizeof(*h->lr));
    if (!h->epoch || !h->b || !h->w || !h->train_loss || !h->val_loss || !h->lr) {
        gd_history_free(h);
        return NULL;
    }
    return h;
}

void gd_history_free(struct gd_history *h)
{
    if (!h)
        return;
    free(h->epoch);
    free(h->b);
    free(h->w);
    free(h->train_loss);
    free(h->val_loss);
    free(h->lr);
    free(h);
}

size_t gd_history_size(uint64_t epochs, size_t max)
{
    if (max == 0)
        return 0;
    if (max == 1 || epochs == 0)
        return 1;
    /* epochs + 1 < max, written so that epochs = UINT64_MAX does not wrap to 0 */
    return epochs < (uint64_t)max - 1 ? (size_t)(epochs + 1) : max;
}

uint64_t gd_history_epoch(uint64_t epochs, size_t count, size_t k)
{
    if (count <= 1)
        return epochs;
    /* floor(k * epochs / (count - 1)) without overflow: epochs < 2^53, k < count <= 2^32 */
    uint64_t den = (uint64_t)(count - 1);
    return (epochs / den) * k + ((epochs % den) * k) / den;
}

/* Bit-for-bit equality: +0 and -0 are different states of a run, NaN is one state. */
static inline bool same_bits(double a, double b)
{
    uint64_t ua, ub;
    memcpy(&ua, &a, sizeof(ua));
    memcpy(&ub, &b, sizeof(ub));
    return ua == ub;
}

static void record(struct gd_history *h, const struct gd_moments *val, uint64_t epoch, double b,
                   double w, double loss, double lr)
{
    size_t k = h->count++;
    h->lr[k] = lr;
    h->epoch[k] = epoch;
    h->b[k] = b;
    h->w[k] = w;
    h->train_loss[k] = loss;
    h->val_loss[k] = val ? gd_loss(val, b, w) : NAN;
}

int gd_train(const struct gd_moments *train, const struct gd_moments *val,
             const struct gd_train_config *cfg, struct gd_history *history,
             struct gd_run_result *out)
{
    if (!train || !cfg || !out || !isfinite(cfg->lr) || !(cfg->lr > 0.0) || !isfinite(cfg->b0) ||
        !isfinite(cfg->w0) || !(cfg->tol >= 0.0))
        return GD_EINVAL;

    size_t planned = 0;
    if (history) {
        history->count = 0;
        planned = gd_history_size(cfg->epochs, history->cap);
    }
    size_t next_sample = 0;
    uint64_t next_epoch = planned ? gd_history_epoch(cfg->epochs, planned, 0) : UINT64_MAX;

    double lr = cfg->lr, tol2 = cfg->tol * cfg->tol;
    double b = cfg->b0, w = cfg->w0;
    double loss0 = gd_loss(train, b, w);
    int64_t above_start = -1;
    enum gd_run_status status = GD_RUN_MAX_EPOCHS;
    int rc = GD_OK;
    uint64_t e = 0;
    double loss, gb, gw;
    /* The states of the two epochs before e. An epoch is a function of (b, w) alone, so once a
     * state repeats one of them the run has entered a cycle of period 1 or 2 (where descent at a
     * fixed rate ends up once its updates round to nothing, or to a last-bit oscillation), and
     * every later epoch repeats a state already checked. The cycle's remaining samples are then
     * written down, and the loop resumes at the last epoch: the same numbers, without the
     * iterations between. */
    double b1 = NAN, w1 = NAN, b2 = NAN, w2 = NAN;
    for (;; e++) {
        if (e < cfg->epochs) {
            bool fixed = same_bits(b, b1) && same_bits(w, w1);
            if (fixed || (same_bits(b, b2) && same_bits(w, w2))) {
                /* state(t) is (b, w) for a fixed point or an even t - e, else (b1, w1) */
                for (; next_sample < planned && next_epoch < cfg->epochs; next_sample++) {
                    bool odd = !fixed && (next_epoch - e) % 2;
                    double bt = odd ? b1 : b, wt = odd ? w1 : w;
                    record(history, val, next_epoch, bt, wt, gd_loss(train, bt, wt), lr);
                    next_epoch = next_sample + 1 < planned
                                     ? gd_history_epoch(cfg->epochs, planned, next_sample + 1)
                                     : UINT64_MAX;
                }
                if (!fixed && (cfg->epochs - e) % 2) {
                    b = b1;
                    w = w1;
                }
                e = cfg->epochs;
            }
        }
        double r0 = quad_r0(train, b, w);
        loss = quad_loss(train, r0, w);
        gb = -2.0 * r0;
        gw = quad_grad_w(train, r0, w);
        if (!isfinite(loss)) {
            status = GD_RUN_DIVERGED;
            above_start = above_start < 0 ? (int64_t)e : above_start;
            break;
        }
        if (e == next_epoch) {
            record(history, val, e, b, w, loss, lr);
            next_sample++;
            next_epoch = next_sample < planned ? gd_history_epoch(cfg->epochs, planned, next_sample)
                                               : UINT64_MAX;
        }
        if (above_start < 0 && loss > loss0)
            above_start = (int64_t)e;
        if (tol2 > 0.0 && gb * gb + gw * gw <= tol2) {
            status = GD_RUN_CONVERGED;
            break;
        }
        if (e == cfg->epochs)
            break;
        if ((e + 1) % CANCEL_CHECK_INTERVAL == 0 && cfg->cancel.expired &&
            cfg->cancel.expired(cfg->cancel.ctx)) {
            rc = GD_ECANCELED;
            break;
        }
        b2 = b1;
        w2 = w1;
        b1 = b;
        w1 = w;
        b = b - lr * gb;
        w = w - lr * gw;
    }

    /* The state where the run stopped is always the last point of its history. */
    if (history && planned && (history->count == 0 || history->epoch[history->count - 1] != e))
        record(history, val, e, b, w, loss, lr);

    if (status == GD_RUN_MAX_EPOCHS && loss > loss0)
        status = GD_RUN_DIVERGED;
    out->status = status;
    out->epochs_run = e;
    out->diverged_at = status == GD_RUN_DIVERGED ? above_start : -1;
    out->b = b;
    out->w = w;
    out->train_loss = loss;
    out->val_loss = val ? gd_loss(val, b, w) : NAN;
    out->grad_b = gb;
    out->grad_w = gw;
    return rc;
}

const char *gd_run_status_name(enum gd_run_status status)
{
    switch (status) {
    case GD_RUN_MAX_EPOCHS:
        return "max_epochs";
    case GD_RUN_CONVERGED:
        return "converged";
    case GD_RUN_DIVERGED:
        return "diverged";
    }
    return "unknown";
}
