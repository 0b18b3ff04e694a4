/*
 * Stability of gd, heavy-ball momentum and Nesterov on the MSE, in closed form. The loss is a
 * quadratic, so each method is a linear iteration per eigenvector of the Hessian, and its
 * characteristic polynomial mu^2 - t*mu + d gives everything (see stability.h):
 *   rho = (|t| + sqrt(t^2 - 4d)) / 2   when t^2 >= 4d (real roots; no cancellation for the larger)
 *   rho = sqrt(d)                      otherwise (a complex pair, |mu|^2 = d)
 */
#include "gdlab/stability.h"

#include <math.h>

#include "gdlab/analysis.h"

bool gd_stability_char_poly(enum gd_optimizer kind, double lr, double beta, double lambda,
                            double *t, double *d)
{
    switch (kind) {
    case GD_OPT_GD:
        *t = 1.0 - lr * lambda;
        *d = 0.0;
        return true;
    case GD_OPT_MOMENTUM:
        /* e' = (1 + beta - lr*lambda) e - beta e_prev */
        *t = 1.0 + beta - lr * lambda;
        *d = beta;
        return true;
    case GD_OPT_NESTEROV: {
        /* state (e, buf_prev): e' = (1 - lr*lambda*(1+beta)) e - lr*beta^2 buf_prev,
         * buf = lambda e + beta buf_prev; trace (1+beta)(1-lr*lambda), det beta(1-lr*lambda) */
        double a = 1.0 - lr * lambda;
        *t = (1.0 + beta) * a;
        *d = beta * a;
        return true;
    }
    default:
        return false;
    }
}

double gd_stability_rho1(enum gd_optimizer kind, double lr, double beta, double lambda)
{
    double t, d;
    if (!gd_stability_char_poly(kind, lr, beta, lambda, &t, &d))
        return NAN;
    if (kind == GD_OPT_GD)
        return fabs(t);
    double disc = t * t - 4.0 * d;
    return disc >= 0.0 ? 0.5 * (fabs(t) + sqrt(disc)) : sqrt(d);
}

double gd_stability_rho(enum gd_optimizer kind, double lr, double beta, double lambda_min,
                        double lambda_max)
{
    double lo = gd_stability_rho1(kind, lr, beta, lambda_min);
    double hi = gd_stability_rho1(kind, lr, beta, lambda_max);
    return isnan(lo) || isnan(hi) ? NAN : fmax(lo, hi);
}

double gd_stability_lr_critical(enum gd_optimizer kind, double beta, double lambda_max)
{
    switch (kind) {
    case GD_OPT_GD:
        return 2.0 / lambda_max;
    case GD_OPT_MOMENTUM:
        /* |1 + beta - lr*lambda| < 1 + beta */
        return 2.0 * (1.0 + beta) / lambda_max;
    case GD_OPT_NESTEROV:
        /* Jury: 1 + (1+beta)a + beta*a > 0 with a = 1 - lr*lambda */
        return 2.0 * (1.0 + beta) / ((1.0 + 2.0 * beta) * lambda_max);
    default:
        return NAN;
    }
}

void gd_stability_polyak(double lambda_min, double lambda_max, struct gd_polyak *out)
{
    if (!(lambda_min > 0.0) || !(lambda_max >= lambda_min) || !isfinite(lambda_max)) {
        *out = (struct gd_polyak){NAN, NAN, NAN};
        return;
    }
    double sl = sqrt(lambda_min), su = sqrt(lambda_max), s = su + sl;
    /* (sqrt(k) - 1)/(sqrt(k) + 1) = (su - sl)/(su + sl) */
    out->rate = (su - sl) / s;
    out->beta = out->rate * out->rate;
    out->lr = 4.0 / (s * s);
}

void gd_stability_eigen(const struct gd_moments *m, double *lambda_min, double *lambda_max)
{
    struct gd_analysis a;
    gd_analyze(m, &a);
    *lambda_min = a.lambda_min;
    *lambda_max = a.lambda_max;
}

void gd_stability_fixed_point(const struct gd_moments *m, double wd, double *b, double *w)
{
    if (wd == 0.0) {
        *w = m->w_opt;
        *b = m->y_mean - m->w_opt * m->x_mean;
        return;
    }
    /* (H + wd I) p = H p* = -grad L(0, 0) = (2 y_mean, 2 (cxy + x_mean y_mean)), by Cramer */
    double a11 = 2.0 + wd, a12 = 2.0 * m->x_mean;
    double a22 = 2.0 * (m->cxx + m->x_mean * m->x_mean) + wd;
    double r1 = 2.0 * m->y_mean, r2 = 2.0 * (m->cxy + m->x_mean * m->y_mean);
    double det = a11 * a22 - a12 * a12;
    *b = (r1 * a22 - a12 * r2) / det;
    *w = (a11 * r2 - a12 * r1) / det;
}

/* Everything the measured rate depends on: the LTI runs only. */
static bool measurable(const struct gd_optim_config *cfg)
{
    enum gd_optimizer k = cfg->opt.kind;
    return (k == GD_OPT_GD || k == GD_OPT_MOMENTUM || k == GD_OPT_NESTEROV) &&
           cfg->batch_size == 0 && cfg->schedule.kind == GD_SCHED_CONSTANT;
}

/* How often (in epochs) the measuring pass asks whether its deadline has passed. */
#define RATE_CANCEL_INTERVAL 65536u

double gd_rate_measure(const struct gd_moments *train, const struct gd_optim_config *cfg)
{
    if (!measurable(cfg) || gd_optim_params_invalid(&cfg->opt))
        return NAN;
    double bh, wh;
    gd_stability_fixed_point(train, cfg->opt.weight_decay, &bh, &wh);
    const bool plain = cfg->opt.kind == GD_OPT_GD && cfg->opt.weight_decay == 0.0;
    const double lr = cfg->opt.lr;
    double p[2] = {cfg->b0, cfg->w0}, g[2];
    struct gd_optim_state st;
    gd_optim_state_init(&st);
    double prev2 = (p[0] - bh) * (p[0] - bh) + (p[1] - wh) * (p[1] - wh);
    const double d0 = sqrt(2.0 * prev2);
    if (!(d0 > 0.0) || !isfinite(d0))
        return NAN;
    const double floor = GD_RATE_FLOOR * (d0 + fabs(bh) + fabs(wh));
    static const size_t ring_size = GD_RATE_WINDOW + 1;
    double ring[GD_RATE_WINDOW + 1];
    uint64_t t2 = 0;
    ring[0] = log(d0);
    for (uint64_t t = 1; t <= cfg->epochs; t++) {
        if (t % RATE_CANCEL_INTERVAL == 0 && cfg->cancel.expired &&
            cfg->cancel.expired(cfg->cancel.ctx))
            return NAN;
        gd_gradient(train, p[0], p[1], &g[0], &g[1]);
        if (plain) {
            p[0] = p[0] - lr * g[0]; /* gd_train's update */
            p[1] = p[1] - lr * g[1];
        } else {
            gd_optim_step(&cfg->opt, lr, &st, p, g);
        }
        double cur2 = (p[0] - bh) * (p[0] - bh) + (p[1] - wh) * (p[1] - wh);
        double dt = sqrt(cur2 + prev2);
        prev2 = cur2;
        if (!(dt > floor) || !isfinite(dt) || dt > 1e150 * d0)
            break;
        ring[t % ring_size] = log(dt);
        t2 = t;
    }
    uint64_t len = t2 / 2 < GD_RATE_WINDOW ? t2 / 2 : GD_RATE_WINDOW;
    if (len < GD_RATE_MIN_WINDOW)
        return NAN;
    /* least-squares slope of ln d(t) over t = t2 - len .. t2, centred on the window's middle */
    double mid = 0.5 * (double)len, sy = 0.0, sty = 0.0, stt = 0.0;
    for (uint64_t i = 0; i <= len; i++)
        sy += ring[(t2 - len + i) % ring_size];
    double ybar = sy / (double)(len + 1);
    for (uint64_t i = 0; i <= len; i++) {
        double dt = (double)i - mid;
        sty += dt * (ring[(t2 - len + i) % ring_size] - ybar);
        stt += dt * dt;
    }
    return exp(sty / stt);
}
