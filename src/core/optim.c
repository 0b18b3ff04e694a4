/*
 * torch.optim on the MSE of y ~ b + w*x, operation for operation.
 *
 * torch 1.13's single-tensor optimizers run one CPU kernel per line of their Python source, each
 * rounding once per element. Its CPU kernels fuse two of them: add(other, alpha) computes
 * fma(alpha, other, self), and addcmul(t1, t2, value) computes fma(value*t1, t2, self) (value*t1
 * rounded first). addcdiv(t1, t2, value) is self + (value*t1)/t2 with each operation rounded.
 * The Python-side scalars (1 - beta1, lr / bias_correction1, beta1 ** step) are plain double
 * arithmetic and libm's pow and sqrt, as here. So each update below is the torch line above it.
 *
 * Full-batch runs take the gradient from the moments in O(1) (quadratic.h); mini-batches sum their
 * rows in order (gd_batch_eval), which the differential test's reference does the same way.
 * The schedules are in schedule.c, the mini-batches in minibatch.c.
 */
#include "gdlab/optim.h"

#include <math.h>
#include <string.h>

#include "gdlab/stability.h"
#include "gdlab/status.h"
#include "quadratic.h"

/* How often (in optimizer steps) a long run asks whether its deadline has passed. */
#define CANCEL_CHECK_INTERVAL 65536u

static const char *const optimizer_names[GD_OPT_COUNT] = {
    "gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw",
};

const char *gd_optimizer_name(enum gd_optimizer kind)
{
    return (unsigned)kind < GD_OPT_COUNT ? optimizer_names[kind] : "unknown";
}

int gd_optimizer_parse(const char *name, enum gd_optimizer *kind)
{
    for (int k = 0; name && k < GD_OPT_COUNT; k++) {
        if (strcmp(name, optimizer_names[k]) == 0) {
            *kind = (enum gd_optimizer)k;
            return GD_OK;
        }
    }
    return GD_EINVAL;
}

unsigned gd_optimizer_uses(enum gd_optimizer kind)
{
    switch (kind) {
    case GD_OPT_GD:
        return GD_HYPER_WEIGHT_DECAY;
    case GD_OPT_MOMENTUM:
    case GD_OPT_NESTEROV:
        return GD_HYPER_MOMENTUM | GD_HYPER_WEIGHT_DECAY;
    case GD_OPT_ADAGRAD:
        return GD_HYPER_EPS | GD_HYPER_WEIGHT_DECAY;
    case GD_OPT_RMSPROP:
        return GD_HYPER_ALPHA | GD_HYPER_EPS | GD_HYPER_WEIGHT_DECAY;
    case GD_OPT_ADAM:
    case GD_OPT_ADAMW:
        return GD_HYPER_BETA1 | GD_HYPER_BETA2 | GD_HYPER_EPS | GD_HYPER_WEIGHT_DECAY;
    case GD_OPT_COUNT:
        break;
    }
    return 0;
}

const char *gd_hyper_name(unsigned bit)
{
    switch (bit) {
    case GD_HYPER_MOMENTUM:
        return "momentum";
    case GD_HYPER_BETA1:
        return "beta1";
    case GD_HYPER_BETA2:
        return "beta2";
    case GD_HYPER_ALPHA:
        return "alpha";
    case GD_HYPER_EPS:
        return "eps";
    case GD_HYPER_WEIGHT_DECAY:
        return "weight_decay";
    }
    return NULL;
}

void gd_optim_params_default(struct gd_optim_params *p, enum gd_optimizer kind, double lr)
{
    *p = (struct gd_optim_params){
        .kind = kind,
        .lr = lr,
        .momentum = 0.9,
        .beta1 = 0.9,
        .beta2 = 0.999,
        .alpha = 0.99,
        .eps = kind == GD_OPT_ADAGRAD ? 1e-10 : 1e-8,
        .weight_decay = kind == GD_OPT_ADAMW ? 0.01 : 0.0,
    };
}

static bool unit_interval(double v)
{
    return v >= 0.0 && v < 1.0;
}

const char *gd_optim_params_invalid(const struct gd_optim_params *p)
{
    if ((unsigned)p->kind >= GD_OPT_COUNT)
        return "optimizer";
    if (!isfinite(p->lr) || !(p->lr > 0.0))
        return "lr";
    unsigned uses = gd_optimizer_uses(p->kind);
    /* torch refuses nesterov without momentum */
    if ((uses & GD_HYPER_MOMENTUM) &&
        !(unit_interval(p->momentum) && (p->kind != GD_OPT_NESTEROV || p->momentum > 0.0)))
        return "momentum";
    if ((uses & GD_HYPER_BETA1) && !unit_interval(p->beta1))
        return "beta1";
    if ((uses & GD_HYPER_BETA2) && !unit_interval(p->beta2))
        return "beta2";
    if ((uses & GD_HYPER_ALPHA) && !unit_interval(p->alpha))
        return "alpha";
    if ((uses & GD_HYPER_EPS) && !(isfinite(p->eps) && p->eps > 0.0))
        return "eps";
    if (!(isfinite(p->weight_decay) && p->weight_decay >= 0.0))
        return "weight_decay";
    return NULL;
}

void gd_optim_state_init(struct gd_optim_state *s)
{
    *s = (struct gd_optim_state){0};
}

void gd_optim_step(const struct gd_optim_params *p, double lr, struct gd_optim_state *s,
                   double param[2], const double grad[2])
{
    const double wd = p->weight_decay;
    s->step++;
    /* adam's Python scalars, once per step: bias_correction = 1 - beta ** step (step a float) */
    double step_size = 0.0, bc2_sqrt = 1.0;
    if (p->kind == GD_OPT_ADAM || p->kind == GD_OPT_ADAMW) {
        double step = (double)s->step;
        double bc1 = 1.0 - pow(p->beta1, step);
        double bc2 = 1.0 - pow(p->beta2, step);
        step_size = lr / bc1;
        bc2_sqrt = sqrt(bc2);
    }
    for (int i = 0; i < 2; i++) {
        double g = grad[i];
        switch (p->kind) {
        case GD_OPT_GD:
        case GD_OPT_MOMENTUM:
        case GD_OPT_NESTEROV:
            if (wd != 0.0)
                g = fma(wd, param[i], g); /* d_p = d_p.add(param, alpha=weight_decay) */
            if (p->kind != GD_OPT_GD && p->momentum != 0.0) {
                /* buf = clone(d_p) at the first step, then buf.mul_(momentum).add_(d_p) */
                s->buf[i] = s->step == 1 ? g : s->buf[i] * p->momentum + g;
                /* nesterov: d_p = d_p.add(buf, alpha=momentum); else d_p = buf */
                g = p->kind == GD_OPT_NESTEROV ? fma(p->momentum, s->buf[i], g) : s->buf[i];
            }
            param[i] = fma(-lr, g, param[i]); /* param.add_(d_p, alpha=-lr) */
            break;
        case GD_OPT_ADAGRAD: {
            if (wd != 0.0)
                g = fma(wd, param[i], g);
            /* clr = lr / (1 + (step - 1) * lr_decay) = lr with lr_decay 0 */
            s->sq[i] = fma(g, g, s->sq[i]);        /* state_sum.addcmul_(grad, grad, value=1) */
            double std = sqrt(s->sq[i]) + p->eps;  /* state_sum.sqrt().add_(eps) */
            param[i] = param[i] + (-lr * g) / std; /* param.addcdiv_(grad, std, value=-clr) */
            break;
        }
        case GD_OPT_RMSPROP: {
            if (wd != 0.0)
                g = fma(wd, param[i], g);
            /* square_avg.mul_(alpha).addcmul_(grad, grad, value=1 - alpha) */
            s->sq[i] = fma((1.0 - p->alpha) * g, g, s->sq[i] * p->alpha);
            double avg = sqrt(s->sq[i]) + p->eps;  /* square_avg.sqrt().add_(eps) */
            param[i] = param[i] + (-lr * g) / avg; /* param.addcdiv_(grad, avg, value=-lr) */
            break;
        }
        case GD_OPT_ADAM:
        case GD_OPT_ADAMW:
            if (p->kind == GD_OPT_ADAMW)
                param[i] = param[i] * (1.0 - lr * wd); /* param.mul_(1 - lr * weight_decay) */
            else if (wd != 0.0)
                g = fma(wd, param[i], g); /* grad = grad.add(param, alpha=weight_decay) */
            /* exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1) */
            s->buf[i] = fma(1.0 - p->beta1, g, s->buf[i] * p->beta1);
            /* exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2) */
            s->sq[i] = fma((1.0 - p->beta2) * g, g, s->sq[i] * p->beta2);
            /* denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps) */
            double denom = sqrt(s->sq[i]) / bc2_sqrt + p->eps;
            /* param.addcdiv_(exp_avg, denom, value=-step_size) */
            param[i] = param[i] + (-step_size * s->buf[i]) / denom;
            break;
        case GD_OPT_COUNT:
            break;
        }
    }
}

/* ---------------------------------------------------------------------------------------------
 * Runs */

void gd_optim_data_from_problem(const struct gd_problem *p, struct gd_optim_data *d)
{
    *d = (struct gd_optim_data){
        .train = &p->train,
        .val = &p->val,
        .x = p->x,
        .y = p->data->y,
        .rows = p->data->idx,
    };
}

void gd_optim_config_default(struct gd_optim_config *c, enum gd_optimizer kind, double lr)
{
    *c = (struct gd_optim_config){
        .b0 = 0.0,
        .w0 = 0.0,
        .epochs = 1000,
        .batch_size = 0,
        .shuffle = true,
        .shuffle_seed = 42,
        .tol = 0.0,
        .history_unit = GD_HISTORY_EPOCH,
        .measure_rate = true,
    };
    gd_optim_params_default(&c->opt, kind, lr);
    gd_schedule_default(&c->schedule, GD_SCHED_CONSTANT);
}

const char *gd_optim_config_invalid(const struct gd_optim_config *c, size_t n_train)
{
    const char *bad = gd_optim_params_invalid(&c->opt);
    if (bad)
        return bad;
    if ((unsigned)c->schedule.kind >= GD_SCHED_COUNT)
        return "schedule";
    if ((bad = gd_schedule_invalid(&c->schedule)))
        return bad;
    if (c->batch_size > n_train)
        return "batch_size";
    if (!isfinite(c->b0))
        return "b0";
    if (!isfinite(c->w0))
        return "w0";
    if (!(c->tol >= 0.0))
        return "tol";
    if (c->history_unit != GD_HISTORY_EPOCH && c->history_unit != GD_HISTORY_STEP)
        return "history_unit";
    /* epochs * steps per epoch must count in 53 bits (history steps, onecycle's float steps) */
    size_t spe = c->batch_size ? gd_batches_per_epoch(n_train, c->batch_size) : 1;
    if (c->epochs > (UINT64_MAX >> 11) / (spe ? spe : 1))
        return "epochs";
    if (c->schedule.kind == GD_SCHED_ONECYCLE && c->epochs == 0)
        return "epochs";
    return NULL;
}

/* The history's planned sample times and where the next one is. */
struct sampler {
    struct gd_history *h;
    const struct gd_moments *train, *val;
    uint64_t units; /* epochs or steps of the whole run */
    size_t planned;
    size_t next; /* index of the next sample */
    uint64_t at; /* its time; UINT64_MAX when none is left */
};

static void sampler_init(struct sampler *s, struct gd_history *h, const struct gd_optim_data *d,
                         uint64_t units)
{
    *s = (struct sampler){.h = h, .train = d->train, .val = d->val, .units = units};
    if (h) {
        h->count = 0;
        s->planned = gd_history_size(units, h->cap);
    }
    s->at = s->planned ? gd_history_epoch(units, s->planned, 0) : UINT64_MAX;
}

static void sampler_record(struct sampler *s, uint64_t t, double b, double w, double lr)
{
    struct gd_history *h = s->h;
    size_t k = h->count++;
    h->epoch[k] = t;
    h->b[k] = b;
    h->w[k] = w;
    h->train_loss[k] = gd_loss(s->train, b, w);
    h->val_loss[k] = s->val ? gd_loss(s->val, b, w) : NAN;
    h->lr[k] = lr;
}

/* Record the state at time t if a sample is planned there. */
static void sampler_offer(struct sampler *s, uint64_t t, double b, double w, double lr)
{
    if (t != s->at)
        return;
    sampler_record(s, t, b, w, lr);
    s->next++;
    s->at = s->next < s->planned ? gd_history_epoch(s->units, s->planned, s->next) : UINT64_MAX;
}

/* The run's stopping state is always its last point. */
static void sampler_finish(struct sampler *s, uint64_t t, double b, double w, double lr)
{
    if (s->h && s->planned && (s->h->count == 0 || s->h->epoch[s->h->count - 1] != t))
        sampler_record(s, t, b, w, lr);
}

static bool lti_kind(enum gd_optimizer kind)
{
    return kind == GD_OPT_GD || kind == GD_OPT_MOMENTUM || kind == GD_OPT_NESTEROV;
}

/* gd at a constant rate on the full batch without weight decay is gd_train, the tutorial's loop. */
static int run_gd_train(const struct gd_optim_data *d, const struct gd_optim_config *cfg,
                        struct gd_history *history, struct gd_optim_result *out)
{
    struct gd_train_config tc = {.lr = cfg->opt.lr,
                                 .b0 = cfg->b0,
                                 .w0 = cfg->w0,
                                 .epochs = cfg->epochs,
                                 .tol = cfg->tol,
                                 .cancel = cfg->cancel};
    int rc = gd_train(d->train, d->val, &tc, history, &out->run);
    out->steps_run = out->run.epochs_run;
    out->lr = cfg->opt.lr;
    return rc;
}

int gd_optim_run(const struct gd_optim_data *d, const struct gd_optim_config *cfg,
                 struct gd_history *history, struct gd_optim_result *out)
{
    if (!d || !d->train || !cfg || !out || gd_optim_config_invalid(cfg, d->train->n))
        return GD_EINVAL;
    const struct gd_moments *train = d->train;
    const bool full = cfg->batch_size == 0;
    const bool constant = cfg->schedule.kind == GD_SCHED_CONSTANT;
    const enum gd_optimizer kind = cfg->opt.kind;
    if (!full && (!d->x || !d->y || !d->rows))
        return GD_EINVAL;

    out->has_rate = full && constant && lti_kind(kind);
    out->rate_predicted = NAN;
    out->rate_measured = NAN;
    double rho = NAN;
    if (out->has_rate) {
        double lmin, lmax, wd = cfg->opt.weight_decay;
        gd_stability_eigen(train, &lmin, &lmax);
        rho = gd_stability_rho(kind, cfg->opt.lr, cfg->opt.momentum, lmin + wd, lmax + wd);
        out->rate_predicted = rho;
        if (cfg->measure_rate)
            out->rate_measured = gd_rate_measure(train, cfg);
    }
    if (kind == GD_OPT_GD && full && constant && cfg->opt.weight_decay == 0.0)
        return run_gd_train(d, cfg, history, out);

    const size_t n = train->n;
    const uint64_t spe = full ? 1 : gd_batches_per_epoch(n, cfg->batch_size);
    const uint64_t total = cfg->epochs * spe;
    struct gd_schedule_state sched;
    if (gd_schedule_start(&cfg->schedule, cfg->opt.lr, cfg->epochs, spe, &sched) != GD_OK)
        return GD_EINVAL;
    struct gd_batcher *bt = NULL;
    if (!full) {
        bt = gd_batcher_new(d->rows, n, cfg->batch_size, cfg->shuffle, cfg->shuffle_seed);
        if (!bt)
            return GD_ENOMEM;
    }

    const bool by_step = cfg->history_unit == GD_HISTORY_STEP;
    struct sampler smp;
    sampler_init(&smp, history, d, by_step ? total : cfg->epochs);

    struct gd_optim_state st;
    gd_optim_state_init(&st);
    double p[2] = {cfg->b0, cfg->w0}, g[2];
    const double loss0 = gd_loss(train, p[0], p[1]);
    /* the general rule's scale: the starting loss, or, for a start on an exact fit (loss 0), the
     * loss at the origin, so that rounding-sized losses are not "10^8 times the start" */
    double ref = loss0 > 0.0 ? loss0 : gd_loss(train, 0.0, 0.0);
    if (!(ref > 0.0))
        ref = 1.0;
    const double tol2 = cfg->tol * cfg->tol;
    /* the general rule's window of epoch-end losses, L(t) at [t % (W + 1)] */
    double window[GD_DIVERGE_WINDOW + 1];
    window[0] = loss0;
    const bool exact_rule = out->has_rate; /* rho decides; see optim.h */
    int64_t diverged_at = -1;
    bool nonfinite = false;
    enum gd_run_status status = GD_RUN_MAX_EPOCHS;
    int rc = GD_OK;
    uint64_t e = 0, steps = 0;
    double loss = loss0, gb, gw;
    gd_gradient(train, p[0], p[1], &gb, &gw);
    if (smp.planned)
        sampler_offer(&smp, 0, p[0], p[1], sched.lr);
    if (tol2 > 0.0 && gb * gb + gw * gw <= tol2)
        status = GD_RUN_CONVERGED;

    while (status == GD_RUN_MAX_EPOCHS && e < cfg->epochs) {
        for (uint64_t k = 0; k < spe; k++) {
            if (full) {
                /* the full-batch gradient from the moments, as gd_train */
                double r0 = quad_r0(train, p[0], p[1]);
                g[0] = -2.0 * r0;
                g[1] = quad_grad_w(train, r0, p[1]);
            } else {
                const size_t *rows;
                size_t count = gd_batcher_next(bt, &rows, NULL);
                gd_batch_eval(d->x, d->y, rows, count, p[0], p[1], NULL, &g[0], &g[1]);
            }
            gd_optim_step(&cfg->opt, sched.lr, &st, p, g);
            steps++;
            gd_schedule_after_step(&cfg->schedule, &sched);
            if (!isfinite(p[0]) || !isfinite(p[1])) {
                nonfinite = true;
                break;
            }
            /* the last step of an epoch is recorded after the epoch's scheduler step */
            if (by_step && k + 1 < spe)
                sampler_offer(&smp, steps, p[0], p[1], sched.lr);
            if (steps % CANCEL_CHECK_INTERVAL == 0 && cfg->cancel.expired &&
                cfg->cancel.expired(cfg->cancel.ctx)) {
                rc = GD_ECANCELED;
                break;
            }
        }
        if (nonfinite || rc != GD_OK) {
            if (nonfinite)
                e++; /* the epoch in progress is the one that diverged */
            break;
        }
        e++;
        gd_schedule_after_epoch(&cfg->schedule, &sched);
        double r0 = quad_r0(train, p[0], p[1]);
        loss = quad_loss(train, r0, p[1]);
        gb = -2.0 * r0;
        gw = quad_grad_w(train, r0, p[1]);
        if (!isfinite(loss)) {
            nonfinite = true;
            break;
        }
        sampler_offer(&smp, by_step ? steps : e, p[0], p[1], sched.lr);

        if (exact_rule) {
            if (rho >= 1.0 && diverged_at < 0 && loss > loss0)
                diverged_at = (int64_t)e;
        } else {
            double before = window[(e - (e >= GD_DIVERGE_WINDOW ? GD_DIVERGE_WINDOW : e)) %
                                   (GD_DIVERGE_WINDOW + 1)];
            window[e % (GD_DIVERGE_WINDOW + 1)] = loss;
            if (loss <= GD_DIVERGE_FACTOR * ref)
                diverged_at = -1;
            else if (diverged_at < 0 && e >= GD_DIVERGE_WINDOW && loss > GD_DIVERGE_GROWTH * before)
                diverged_at = (int64_t)e;
        }
        if (tol2 > 0.0 && gb * gb + gw * gw <= tol2)
            status = GD_RUN_CONVERGED;
    }
    if (nonfinite) {
        status = GD_RUN_DIVERGED;
        if (diverged_at < 0) /* caught earlier, by the rule, or now */
            diverged_at = (int64_t)e;
        loss = gd_loss(train, p[0], p[1]);
        gd_gradient(train, p[0], p[1], &gb, &gw);
    } else if (diverged_at >= 0 && status != GD_RUN_CONVERGED) {
        status = GD_RUN_DIVERGED;
    } else if (status == GD_RUN_CONVERGED) {
        diverged_at = -1;
    }
    sampler_finish(&smp, by_step ? steps : e, p[0], p[1], sched.lr);
    gd_batcher_free(bt);

    out->run.status = status;
    out->run.epochs_run = e;
    out->run.diverged_at = diverged_at;
    out->run.b = p[0];
    out->run.w = p[1];
    out->run.train_loss = loss;
    out->run.val_loss = d->val ? gd_loss(d->val, p[0], p[1]) : NAN;
    out->run.grad_b = gb;
    out->run.grad_w = gw;
    out->steps_run = steps;
    out->lr = sched.lr;
    return rc;
}
