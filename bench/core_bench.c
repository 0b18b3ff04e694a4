/*
 * The core's hot paths timed alone, without HTTP: dataset generation, the moments of both splits,
 * a loss surface and a long training run at the sizes of issue 5's large responses. Tells whether a
 * slow endpoint is slow in the core or in serving.
 *
 *     core_bench [n] [grid_steps] [epochs]     (defaults 1000000 1001 10000000)
 *     core_bench optim [steps]                 (default 1000000)
 *
 * The second form times one optimizer step of each optimizer on the tutorial's data (n = 100):
 * full batch (O(1) from the moments) and mini-batches of 16, and prints one JSON object,
 * {"gd": {"full_ns": ..., "batch16_ns": ...}, ...}, for bench.py to set beside bench/torch_ref.py.
 */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gdlab/gdlab.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The fastest of a few runs of one step, in CPU time: the least disturbed by whatever else runs
 * on a shared machine. */
#define BEST_OF(reps, best, stmt)                                                                  \
    do {                                                                                           \
        best = 1e30;                                                                               \
        for (int rep_ = 0; rep_ < (reps); rep_++) {                                                \
            double t0_ = now();                                                                    \
            stmt;                                                                                  \
            double t_ = now() - t0_;                                                               \
            if (t_ < best)                                                                         \
                best = t_;                                                                         \
        }                                                                                          \
    } while (0)

/* ns per optimizer step of one run; lr 1e-7 keeps every run far from its fixed point */
static double optim_step_ns(const struct gd_optim_data *d, enum gd_optimizer kind, size_t batch,
                            unsigned long long steps)
{
    struct gd_optim_config cfg;
    gd_optim_config_default(&cfg, kind, 1e-7);
    cfg.b0 = 0.5;
    cfg.w0 = -0.1;
    cfg.batch_size = batch;
    cfg.measure_rate = false;
    uint64_t spe = batch ? gd_batches_per_epoch(d->train->n, batch) : 1;
    cfg.epochs = steps / spe;
    struct gd_optim_result r;
    double best;
    BEST_OF(3, best, gd_optim_run(d, &cfg, NULL, &r));
    return best * 1e9 / (double)r.steps_run;
}

static int bench_optim(unsigned long long steps)
{
    struct gd_dataset_params params;
    gd_dataset_params_default(&params);
    struct gd_dataset *data = gd_dataset_new(params.n);
    struct gd_problem *p = NULL;
    if (!data || gd_dataset_generate(data, &params) != GD_OK ||
        !(p = gd_problem_new(data, GD_SCALER_NONE, NULL))) {
        gd_dataset_free(data);
        return 1;
    }
    struct gd_optim_data d;
    gd_optim_data_from_problem(p, &d);
    printf("{");
    for (int k = 0; k < GD_OPT_COUNT; k++) {
        double full = optim_step_ns(&d, (enum gd_optimizer)k, 0, steps);
        double mini = optim_step_ns(&d, (enum gd_optimizer)k, 16, steps / 4);
        printf("%s\"%s\": {\"full_ns\": %.3f, \"batch16_ns\": %.3f}", k ? ", " : "",
               gd_optimizer_name((enum gd_optimizer)k), full, mini);
    }
    printf("}\n");
    gd_problem_free(p);
    gd_dataset_free(data);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "optim") == 0)
        return bench_optim(argc > 2 ? strtoull(argv[2], NULL, 10) : 1000000ULL);
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
    size_t steps = argc > 2 ? strtoul(argv[2], NULL, 10) : 1001;
    unsigned long long epochs = argc > 3 ? strtoull(argv[3], NULL, 10) : 10000000ULL;
    int status = 1;

    struct gd_dataset_params params;
    gd_dataset_params_default(&params);
    params.n = n;
    struct gd_dataset *data = gd_dataset_new(n);
    double *b = malloc(steps * sizeof(*b)), *w = malloc(steps * sizeof(*w));
    double *loss = malloc(steps * steps * sizeof(*loss));
    if (!data || !b || !w || !loss)
        goto out_free;

    double t_gen, t_mom, t_surf, t_train;
    BEST_OF(5, t_gen, gd_dataset_generate(data, &params));
    struct gd_problem *problem = NULL;
    BEST_OF(5, t_mom, gd_problem_free(problem);
            problem = gd_problem_new(data, GD_SCALER_NONE, NULL));
    if (!problem)
        goto out_free;
    gd_linspace(-2, 4, steps, b);
    gd_linspace(-1, 5, steps, w);
    struct gd_grid_min min;
    BEST_OF(5, t_surf, gd_surface(&problem->train, b, steps, w, steps, loss, &min));

    /* lr 0.1 settles on a fixed point after a few thousand epochs; lr 1e-7 is nowhere near one
     * after 10^7, so it shows what each epoch costs. */
    struct gd_train_config cfg = {.lr = 0.1, .b0 = 0.5, .w0 = -0.1, .epochs = epochs};
    struct gd_run_result run, slow_run;
    BEST_OF(5, t_train, gd_train(&problem->train, &problem->val, &cfg, NULL, &run));
    struct gd_train_config slow = cfg;
    slow.lr = 1e-7;
    double t_slow;
    BEST_OF(3, t_slow, gd_train(&problem->train, &problem->val, &slow, NULL, &slow_run));

    printf("dataset n=%zu                  %8.2f ms\n", n, t_gen * 1e3);
    printf("moments of both splits          %8.2f ms\n", t_mom * 1e3);
    printf("surface %zux%zu               %8.2f ms  (min %.6g)\n", steps, steps, t_surf * 1e3,
           min.loss);
    printf("train %llu epochs, lr 0.1  %8.2f ms  (w %.17g)\n", epochs, t_train * 1e3, run.w);
    printf("train %llu epochs, lr 1e-7 %8.2f ms  (%.2f ns/epoch, w %.17g)\n", epochs, t_slow * 1e3,
           t_slow * 1e9 / (double)epochs, slow_run.w);
    gd_problem_free(problem);
    status = 0;
out_free:
    free(loss);
    free(w);
    free(b);
    gd_dataset_free(data);
    return status;
}
