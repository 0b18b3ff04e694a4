/*
 * The learning-rate schedules of gdlab/optim.h: torch.optim.lr_scheduler's get_lr(), the recursive
 * forms that step() uses.
 */
#include "gdlab/optim.h"

#include <math.h>
#include <string.h>

#include "gdlab/status.h"

/* math.pi */
#define PI 3.141592653589793

static const char *const schedule_names[GD_SCHED_COUNT] = {
    "constant", "step", "exponential", "cosine", "onecycle",
};

const char *gd_schedule_name(enum gd_schedule_kind kind)
{
    return (unsigned)kind < GD_SCHED_COUNT ? schedule_names[kind] : "unknown";
}

int gd_schedule_parse(const char *name, enum gd_schedule_kind *kind)
{
    for (int k = 0; name && k < GD_SCHED_COUNT; k++) {
        if (strcmp(name, schedule_names[k]) == 0) {
            *kind = (enum gd_schedule_kind)k;
            return GD_OK;
        }
    }
    return GD_EINVAL;
}

void gd_schedule_default(struct gd_schedule *s, enum gd_schedule_kind kind)
{
    *s = (struct gd_schedule){
        .kind = kind,
        .step_size = 10,
        .gamma = kind == GD_SCHED_EXPONENTIAL ? 0.95 : 0.1,
        .t_max = 0,
        .eta_min = 0.0,
    };
}

const char *gd_schedule_invalid(const struct gd_schedule *s)
{
    switch (s->kind) {
    case GD_SCHED_CONSTANT:
    case GD_SCHED_ONECYCLE:
        return NULL;
    case GD_SCHED_STEP:
        if (s->step_size == 0)
            return "step_size";
        /* fall through */
    case GD_SCHED_EXPONENTIAL:
        return isfinite(s->gamma) && s->gamma > 0.0 ? NULL : "gamma";
    case GD_SCHED_COSINE:
        return isfinite(s->eta_min) && s->eta_min >= 0.0 ? NULL : "eta_min";
    case GD_SCHED_COUNT:
        break;
    }
    return "schedule";
}

/* OneCycleLR._annealing_cos: end + (start - end) / 2.0 * (cos(pi * pct) + 1) */
static double annealing_cos(double start, double end, double pct)
{
    double cos_out = cos(PI * pct) + 1.0;
    return end + (start - end) / 2.0 * cos_out;
}

/* OneCycleLR.get_lr() at step_num, two phases (three_phase False, pct_start 0.3):
 * [0, 0.3*total - 1] from initial_lr up to max_lr, then down to min_lr at total - 1. */
static double onecycle_lr(const struct gd_schedule_state *st, uint64_t step_num)
{
    double t = (double)step_num;
    if (t <= st->phase_end)
        return annealing_cos(st->initial_lr, st->base_lr, t / st->phase_end);
    double end = (double)(st->total_steps - 1);
    return annealing_cos(st->base_lr, st->min_lr, (t - st->phase_end) / (end - st->phase_end));
}

int gd_schedule_start(const struct gd_schedule *s, double lr, uint64_t epochs,
                      uint64_t steps_per_epoch, struct gd_schedule_state *st)
{
    *st = (struct gd_schedule_state){.last_epoch = 0, .lr = lr, .base_lr = lr};
    if (s->kind == GD_SCHED_COSINE)
        st->t_max = s->t_max ? s->t_max : epochs;
    if (s->kind != GD_SCHED_ONECYCLE)
        return GD_OK;
    if (epochs == 0 || steps_per_epoch == 0 || epochs > (UINT64_MAX >> 11) / steps_per_epoch)
        return GD_EINVAL; /* torch: total_steps must be positive */
    st->total_steps = epochs * steps_per_epoch;
    st->initial_lr = lr / 25.0;                          /* max_lr / div_factor */
    st->min_lr = st->initial_lr / 1e4;                   /* initial_lr / final_div_factor */
    st->phase_end = 0.3 * (double)st->total_steps - 1.0; /* float(pct_start * total_steps) - 1 */
    st->lr = onecycle_lr(st, 0);
    return GD_OK;
}

bool gd_schedule_after_step(const struct gd_schedule *s, struct gd_schedule_state *st)
{
    if (s->kind != GD_SCHED_ONECYCLE)
        return false;
    st->lr = onecycle_lr(st, ++st->last_epoch);
    return true;
}

bool gd_schedule_after_epoch(const struct gd_schedule *s, struct gd_schedule_state *st)
{
    switch (s->kind) {
    case GD_SCHED_STEP:
        /* StepLR: lr * gamma when last_epoch is a multiple of step_size */
        if (++st->last_epoch % s->step_size == 0)
            st->lr = st->lr * s->gamma;
        return true;
    case GD_SCHED_EXPONENTIAL:
        st->last_epoch++;
        st->lr = st->lr * s->gamma;
        return true;
    case GD_SCHED_COSINE: {
        /* CosineAnnealingLR.get_lr(), recursive:
         *   (e - 1 - T) % 2T == 0:  lr + (base - eta_min) * (1 - cos(pi / T)) / 2
         *   otherwise:              (1 + cos(pi e / T)) / (1 + cos(pi (e - 1) / T))
         *                             * (lr - eta_min) + eta_min */
        uint64_t e = ++st->last_epoch, T = st->t_max;
        double em = s->eta_min;
        if (T == 0)
            return true; /* torch divides by T_max = 0; no epoch can reach here with it */
        if ((e - 1 + T) % (2 * T) == 0) /* (e - 1 - T) mod 2T, kept non-negative */
            st->lr = st->lr + (st->base_lr - em) * (1.0 - cos(PI / (double)T)) / 2.0;
        else
            st->lr = (1.0 + cos(PI * (double)e / (double)T)) /
                         (1.0 + cos(PI * (double)(e - 1) / (double)T)) * (st->lr - em) +
                     em;
        return true;
    }
    case GD_SCHED_CONSTANT:
    case GD_SCHED_ONECYCLE:
    case GD_SCHED_COUNT:
        break;
    }
    return false;
}
