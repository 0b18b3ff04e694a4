/* The five endpoints as the server's route table sees them, with small limits so that a fuzzed
 * request that passes validation is also computed and serialized within an execution's time. */
#ifndef GDLAB_FUZZ_ENDPOINTS_H
#define GDLAB_FUZZ_ENDPOINTS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "endpoints.h"
#include "params.h"

struct fuzz_endpoint {
    unsigned groups;
    enum gd_scaler_kind default_scaler;
    endpoint_fn run;
};

static const struct fuzz_endpoint fuzz_endpoints[] = {
    {PG_DATA, GD_SCALER_NONE, endpoint_dataset},
    {PG_DATA | PG_GRID, GD_SCALER_NONE, endpoint_surface},
    {PG_DATA | PG_GRID | PG_POINT, GD_SCALER_NONE, endpoint_cross_section},
    {PG_DATA | PG_TRAIN, GD_SCALER_NONE, endpoint_train},
    {PG_DATA, GD_SCALER_STANDARD, endpoint_scale},
};

#define FUZZ_N_ENDPOINTS (sizeof(fuzz_endpoints) / sizeof(fuzz_endpoints[0]))

/* The server's limits scaled down: the checks are the same code, the work per input is small. */
static inline void fuzz_limits(struct api_limits *lim)
{
    api_limits_default(lim);
    lim->max_n = 2000;
    lim->max_grid_points = 10000;
    lim->max_epochs = 200000;
    lim->max_history = 1001; /* the default history, which validation does not clamp */
}

/* Compute and serialize a validated request (no deadline); an error must name a known problem. */
static inline void fuzz_run_endpoint(const struct fuzz_endpoint *e, struct api_params *p)
{
    struct jw w;
    struct http_problem err = {0};
    jw_init(&w, 0);
    if (e->run(p, NULL, &w, &err) != 0 && (unsigned)err.code >= HTTP_E_COUNT)
        abort();
    jw_free(&w);
}

/* What a parse (rc its result) must leave: a refusal names a known 4xx problem with a terminated
 * detail; an acceptance holds values within the limits, and is computed when compute is set.
 * Any breach aborts, which libFuzzer reports as a crash. p is released. */
static inline void fuzz_check_parse(const struct fuzz_endpoint *e, int rc, struct api_params *p,
                                    const struct http_problem *err, const struct api_limits *lim,
                                    bool compute)
{
    if (rc != 0) {
        if ((unsigned)err->code >= HTTP_E_COUNT || http_error_status(err->code) >= 500 ||
            memchr(err->detail, '\0', sizeof(err->detail)) == NULL)
            abort();
        return;
    }
    if (p->data.n < 2 || p->data.n > lim->max_n)
        abort();
    if ((e->groups & PG_TRAIN) && (p->n_lr < 1 || p->n_lr > lim->max_lrs || p->epochs < 1 ||
                                   p->epochs > lim->max_epochs || p->history > lim->max_history))
        abort();
    if ((e->groups & PG_GRID) &&
        (p->b_steps < 2 || p->w_steps < 2 || p->b_steps > lim->max_grid_points / p->w_steps))
        abort();
    if (p->x && !p->y)
        abort();
    if (compute)
        fuzz_run_endpoint(e, p);
    params_free(p);
}

#endif
