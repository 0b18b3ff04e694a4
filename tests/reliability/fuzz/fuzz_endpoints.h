/* The computing endpoints from the API's own table, with small limits so that a fuzzed
 * request that passes validation is also computed and serialized within an execution's time. */
#ifndef GDLAB_FUZZ_ENDPOINTS_H
#define GDLAB_FUZZ_ENDPOINTS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/endpoint.h"
#include "api/param.h"

/* The computing endpoints, exactly as the server's table has them. */
#define FUZZ_N_ENDPOINTS api_endpoint_count

/* The server's limits scaled down: the checks are the same code, the work per input is small. */
static inline void fuzz_limits(struct api_limits *lim)
{
    api_limits_default(lim);
    lim->max_n = 2000;
    lim->max_grid_points = 10000;
    lim->max_epochs = 200000;
    lim->max_history = 1001; /* the default history, which validation does not clamp */
}

/* Compute and serialize a validated request (no deadline; as npz when format=npz, as the server
 * does); an error must name a known problem. */
static inline void fuzz_run_endpoint(const struct api_endpoint *e, struct api_params *p)
{
    struct jw w;
    struct api_problem prob = {0};
    jw_init(&w, 0);
    if (p->format == API_FORMAT_NPZ)
        jw_npz_begin(&w); /* the same calls, written as an .npz archive */
    if (e->compute(p, NULL, &w, &prob) != 0 && (unsigned)prob.type >= API_PROBLEM_COUNT)
        abort();
    jw_npz_finish(&w);
    jw_free(&w);
}

/* What a parse (rc its result) must leave: a refusal names a known 4xx problem with a terminated
 * detail; an acceptance holds values within the limits, and is computed when compute is set.
 * Any breach aborts, which libFuzzer reports as a crash. p is released. */
static inline void fuzz_check_parse(const struct api_endpoint *e, int rc, struct api_params *p,
                                    const struct api_problem *prob, const struct api_limits *lim,
                                    bool compute)
{
    if (rc != 0) {
        if ((unsigned)prob->type >= API_PROBLEM_COUNT || api_problem_status(prob->type) >= 500 ||
            memchr(prob->detail, '\0', sizeof(prob->detail)) == NULL)
            abort();
        return;
    }
    if (p->data.n < 2 || p->data.n > lim->max_n)
        abort();
    if ((e->bit & EP_TRAIN) && (p->lr.n < 1 || p->lr.n > lim->max_lrs || p->epochs < 1 ||
                                p->epochs > lim->max_epochs || p->history > lim->max_history))
        abort();
    if ((e->bit & EP_GRID) &&
        (p->b_steps < 2 || p->w_steps < 2 || p->b_steps > lim->max_grid_points / p->w_steps))
        abort();
    if (p->x.v && !p->y.v)
        abort();
    if (compute)
        fuzz_run_endpoint(e, p);
    api_params_free(p);
}

#endif
