/*
 * The checks across parameters that the table's rows name (.check, run after their row) and the
 * predicates that decide whether a parameter is echoed (.echo_if): inline data and the split,
 * the grid's size, the learning rates, and what the optimizers, batches and schedules use.
 */
#include <math.h>
#include <stdio.h>

#include "api/param_row.h"
#include "encode/sha256.h"
#include "gdlab/dataset.h"
#include "gdlab/optim.h"

#define GIVEN(raw, id) (((raw)->given >> (id)) & 1u)

/* ---- checks across parameters ------------------------------------------------------------- */

/* Inline data (x and y together, as long as each other and within --max-n, finite), then the
 * split: int(n * train_fraction) must leave both splits non-empty. */
int api_check_data(struct raw_params *raw, struct api_params *p, const struct api_limits *lim,
                   struct api_problem *prob)
{
    if (GIVEN(raw, P_X) != GIVEN(raw, P_Y)) {
        const char *missing = GIVEN(raw, P_X) ? "y" : "x";
        return api_problem_set(prob, API_PROBLEM_INVALID_PARAMETER, missing,
                               "inline data needs both x and y; %s is missing", missing);
    }
    if (GIVEN(raw, P_X)) {
        size_t nx = p->x.n, ny = p->y.n;
        if (nx < 2 || nx > lim->max_n)
            return api_problem_set(prob, API_PROBLEM_OUT_OF_RANGE, "x",
                                   "x must hold between 2 and %zu values (the server's --max-n); "
                                   "got %zu",
                                   lim->max_n, nx);
        if (ny != nx)
            return api_problem_set(prob, API_PROBLEM_INVALID_PARAMETER, "y",
                                   "y must have as many values as x (%zu); got %zu", nx, ny);
        if (GIVEN(raw, P_N) && p->data.n != nx)
            return api_problem_set(prob, API_PROBLEM_INVALID_PARAMETER, "n",
                                   "n (%zu) does not match the length of the inline data (%zu); "
                                   "leave it out",
                                   p->data.n, nx);
        const struct api_list *lists[] = {&p->x, &p->y};
        for (int i = 0; i < 2; i++)
            for (size_t k = 0; k < lists[i]->n; k++)
                if (!isfinite(lists[i]->v[k]))
                    return api_problem_set(prob, API_PROBLEM_OUT_OF_RANGE, i ? "y" : "x",
                                           "%s[%zu] must be finite", i ? "y" : "x", k);
        p->data.n = nx;
        /* the echo of long data: the SHA-256 of its float64 little-endian bytes, as numpy's
         * hashlib.sha256(x.astype('<f8').tobytes()) gives it */
        for (int i = 0; i < 2 && nx > API_ECHO_INLINE_MAX; i++) {
            struct api_list *l = i ? &p->y : &p->x;
            sha256_hex(l->v, l->n * sizeof(*l->v), l->sha256);
        }
    }
    size_t n_train;
    double f = p->data.train_fraction;
    if (!(f > 0.0 && f < 1.0))
        return api_problem_set(prob, API_PROBLEM_OUT_OF_RANGE, "train_fraction",
                               "train_fraction must be between 0 and 1 (exclusive); got %s",
                               NUM(f));
    if (gd_split_size(p->data.n, f, &n_train) != 0)
        return api_problem_set(prob, API_PROBLEM_OUT_OF_RANGE, "train_fraction",
                               "train_fraction %s with n = %zu leaves a split empty "
                               "(floor(n * train_fraction) = %.0f); both splits need at least one "
                               "point",
                               NUM(f), p->data.n, floor((double)p->data.n * f));
    return 0;
}

int api_check_grid_points(struct raw_params *raw, struct api_params *p,
                          const struct api_limits *lim, struct api_problem *prob)
{
    if (p->b_steps <= lim->max_grid_points / p->w_steps)
        return 0;
    const char *name = GIVEN(raw, P_W_STEPS) ? "w_steps" : "b_steps";
    return api_problem_set(prob, API_PROBLEM_OUT_OF_RANGE, name,
                           "b_steps * w_steps must be at most %zu (the server's "
                           "--max-grid-points); got %zu * %zu = %.0f",
                           lim->max_grid_points, p->b_steps, p->w_steps,
                           (double)p->b_steps * (double)p->w_steps);
}

int api_check_lr(struct raw_params *raw, struct api_params *p, const struct api_limits *lim,
                 struct api_problem *prob)
{
    if (!GIVEN(raw, P_LR))
        return 0;
    if (p->lr.n < 1 || p->lr.n > lim->max_lrs)
        return api_problem_set(prob, API_PROBLEM_OUT_OF_RANGE, "lr",
                               "lr takes between 1 and %zu learning rates (the server's "
                               "--max-lrs); got %zu",
                               lim->max_lrs, p->lr.n);
    for (size_t k = 0; k < p->lr.n; k++)
        if (!(p->lr.v[k] > 0.0) || !isfinite(p->lr.v[k]))
            return api_problem_set(prob, API_PROBLEM_OUT_OF_RANGE, "lr",
                                   "every learning rate must be finite and > 0; lr[%zu] is %s", k,
                                   NUM(p->lr.v[k]));
    return 0;
}

/* ---- beyond plain gradient descent ---------------------------------------------------------- */

/* Whether any of the requested optimizers reads a hyperparameter (a bit of enum gd_hyper). */
static bool any_optimizer_uses(const struct api_params *p, unsigned hyper)
{
    for (size_t k = 0; k < p->optimizer.n; k++)
        if (gd_optimizer_uses((enum gd_optimizer)p->optimizer.v[k]) & hyper)
            return true;
    return false;
}

bool api_uses_momentum(const struct api_params *p)
{
    return any_optimizer_uses(p, GD_HYPER_MOMENTUM);
}

bool api_uses_betas(const struct api_params *p)
{
    return any_optimizer_uses(p, GD_HYPER_BETA1);
}

bool api_uses_alpha(const struct api_params *p)
{
    return any_optimizer_uses(p, GD_HYPER_ALPHA);
}

bool api_uses_batches(const struct api_params *p)
{
    return p->batch_size > 0;
}

bool api_uses_step_size(const struct api_params *p)
{
    return p->schedule == GD_SCHED_STEP;
}

bool api_uses_gamma(const struct api_params *p)
{
    return p->schedule == GD_SCHED_STEP || p->schedule == GD_SCHED_EXPONENTIAL;
}

bool api_uses_cosine(const struct api_params *p)
{
    return p->schedule == GD_SCHED_COSINE;
}

/* A given parameter that the request's optimizers, batches or schedule would ignore: an error
 * rather than a silently unused value. */
static int check_used(struct raw_params *raw, struct api_params *p, struct api_problem *prob)
{
    static const struct {
        enum api_param_id id;
        bool (*used)(const struct api_params *p);
        const char *by;
    } rules[] = {
        {P_MOMENTUM, api_uses_momentum, "optimizer momentum or nesterov"},
        {P_BETA1, api_uses_betas, "optimizer adam or adamw"},
        {P_BETA2, api_uses_betas, "optimizer adam or adamw"},
        {P_ALPHA, api_uses_alpha, "optimizer rmsprop"},
        {P_SHUFFLE, api_uses_batches, "mini-batches (batch_size >= 1)"},
        {P_SHUFFLE_SEED, api_uses_batches, "mini-batches (batch_size >= 1)"},
        {P_STEP_SIZE, api_uses_step_size, "schedule=step"},
        {P_GAMMA, api_uses_gamma, "schedule=step or schedule=exponential"},
        {P_T_MAX, api_uses_cosine, "schedule=cosine"},
        {P_ETA_MIN, api_uses_cosine, "schedule=cosine"},
    };
    for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
        if (GIVEN(raw, rules[i].id) && !rules[i].used(p))
            return api_problem_set(prob, API_PROBLEM_INVALID_PARAMETER, api_param_name(rules[i].id),
                                   "%s is used only by %s, which this request does not ask for; "
                                   "leave it out",
                                   api_param_name(rules[i].id), rules[i].by);
    if (GIVEN(raw, P_EPS) && !any_optimizer_uses(p, GD_HYPER_EPS))
        return api_problem_set(prob, API_PROBLEM_INVALID_PARAMETER, "eps",
                               "eps is used only by optimizer adagrad, rmsprop, adam or adamw, "
                               "which this request does not ask for; leave it out");
    return 0;
}

/* What /train and /lr-finder check alike once their optimizer parameters are known: what is used,
 * nesterov's momentum, the batch against the training split, and shuffle_seed's default. */
static int check_optimizer_params(struct raw_params *raw, struct api_params *p,
                                  struct api_problem *prob)
{
    if (check_used(raw, p, prob))
        return -1;
    for (size_t k = 0; k < p->optimizer.n; k++)
        if (p->optimizer.v[k] == GD_OPT_NESTEROV && p->momentum == 0.0)
            return api_problem_set(prob, API_PROBLEM_OUT_OF_RANGE, "momentum",
                                   "nesterov needs momentum > 0 (torch refuses 0); got 0");
    size_t n_train = 0;
    gd_split_size(p->data.n, p->data.train_fraction, &n_train);
    if (p->batch_size > n_train)
        return api_problem_set(prob, API_PROBLEM_OUT_OF_RANGE, "batch_size",
                               "batch_size must be at most the training split's %zu points "
                               "(floor(n * train_fraction)); got %zu",
                               n_train, p->batch_size);
    if (!GIVEN(raw, P_SHUFFLE_SEED))
        p->shuffle_seed = p->data.seed;
    return 0;
}

/* /train, after the last of its rows: whether the answer reports more than plain gd, the common
 * checks, the runs' count, and the schedule's defaults that depend on other parameters. */
int api_check_optimization(struct raw_params *raw, struct api_params *p,
                           const struct api_limits *lim, struct api_problem *prob)
{
    /* anything beyond plain gradient descent; optimizer=gd alone asks for nothing new */
    p->optim_report = p->optimizer.n != 1 || p->optimizer.v[0] != GD_OPT_GD;
    for (int id = P_MOMENTUM; id <= P_HISTORY_UNIT; id++)
        p->optim_report |= GIVEN(raw, id);
    if (check_optimizer_params(raw, p, prob))
        return -1;
    size_t runs = p->optimizer.n * p->lr.n;
    if (runs > lim->max_runs) {
        const char *name = p->optimizer.n > 1 ? "optimizer" : "lr";
        return api_problem_set(prob, API_PROBLEM_OUT_OF_RANGE, name,
                               "%zu optimizers x %zu learning rates make %zu runs; the most is %zu "
                               "(the server's --max-runs)",
                               p->optimizer.n, p->lr.n, runs, lim->max_runs);
    }
    if (!GIVEN(raw, P_GAMMA))
        p->gamma = p->schedule == GD_SCHED_STEP ? 0.1 : 0.95;
    if (!GIVEN(raw, P_T_MAX))
        p->t_max = p->epochs;
    return 0;
}

/* /lr-finder, after the last of its rows: one optimizer, the common checks, a rising range. */
int api_check_lr_finder(struct raw_params *raw, struct api_params *p, const struct api_limits *lim,
                        struct api_problem *prob)
{
    (void)lim;
    if (p->optimizer.n != 1)
        return api_problem_set(prob, API_PROBLEM_INVALID_PARAMETER, "optimizer",
                               "the range test runs one optimizer; got %zu", p->optimizer.n);
    if (check_optimizer_params(raw, p, prob))
        return -1;
    if (!(p->start_lr < p->end_lr))
        return api_problem_set(
            prob, API_PROBLEM_OUT_OF_RANGE, GIVEN(raw, P_END_LR) ? "end_lr" : "start_lr",
            "start_lr must be below end_lr; got %s and %s", NUM(p->start_lr), NUM(p->end_lr));
    if (!isfinite(p->end_lr / p->start_lr))
        return api_problem_set(prob, API_PROBLEM_OUT_OF_RANGE,
                               GIVEN(raw, P_END_LR) ? "end_lr" : "start_lr",
                               "end_lr / start_lr must be a finite number (the exponential sweep "
                               "raises it to a power); got %s / %s",
                               NUM(p->end_lr), NUM(p->start_lr));
    return 0;
}

/* /stability: one optimizer with a closed form (gd, momentum, nesterov); the momentum axis only
 * where it means something; the grid within --max-grid-points. */
int api_check_stability(struct raw_params *raw, struct api_params *p, const struct api_limits *lim,
                        struct api_problem *prob)
{
    int kind = p->optimizer.v[0];
    if (p->optimizer.n != 1 || kind > GD_OPT_NESTEROV)
        return api_problem_set(prob, API_PROBLEM_INVALID_PARAMETER, "optimizer",
                               "optimizer must be one of gd, momentum or nesterov here (the "
                               "stability map has a closed form for those); got %s%s%s",
                               p->optimizer.n != 1 ? "a list" : "'",
                               p->optimizer.n != 1 ? "" : api_param_rows[P_OPTIMIZER].words[kind],
                               p->optimizer.n != 1 ? "" : "'");
    for (int id = P_MOMENTUM_MIN; id <= P_MOMENTUM_STEPS; id++)
        if (GIVEN(raw, id) && kind == GD_OPT_GD)
            return api_problem_set(prob, API_PROBLEM_INVALID_PARAMETER, api_param_name(id),
                                   "%s is used only by optimizer momentum or nesterov (gd's map "
                                   "has one row); leave it out",
                                   api_param_name(id));
    if (kind == GD_OPT_GD) {
        p->momentum_min = p->momentum_max = 0.0;
        p->momentum_steps = 1;
    } else if (p->momentum_steps > 1 ? !(p->momentum_min < p->momentum_max)
                                     : p->momentum_min > p->momentum_max) {
        return api_problem_set(prob, API_PROBLEM_OUT_OF_RANGE, "momentum_max",
                               "momentum_max must be above momentum_min; got %s and %s",
                               NUM(p->momentum_max), NUM(p->momentum_min));
    }
    if (p->lr_steps > lim->max_grid_points / p->momentum_steps) {
        const char *name = GIVEN(raw, P_MOMENTUM_STEPS) ? "momentum_steps" : "lr_steps";
        return api_problem_set(prob, API_PROBLEM_OUT_OF_RANGE, name,
                               "lr_steps * momentum_steps must be at most %zu (the server's "
                               "--max-grid-points); got %zu * %zu = %.0f",
                               lim->max_grid_points, p->lr_steps, p->momentum_steps,
                               (double)p->lr_steps * (double)p->momentum_steps);
    }
    return 0;
}

/* format=csv only where the endpoint has a CSV form. */
int api_check_format(struct raw_params *raw, struct api_params *p, const struct api_limits *lim,
                     struct api_problem *prob)
{
    (void)raw;
    (void)lim;
    if (p->format == API_FORMAT_CSV && !(p->endpoint & EP_CSV))
        return api_problem_set(prob, API_PROBLEM_INVALID_PARAMETER, "format",
                               "format must be json or npz here (csv is for /dataset and "
                               "/train); got 'csv'");
    return 0;
}
