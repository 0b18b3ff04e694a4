/* The five endpoints as the server's route table sees them, with small limits so that a fuzzed
 * request that passes validation is also computed and serialized within an execution's time. */
#ifndef GDLAB_FUZZ_ENDPOINTS_H
#define GDLAB_FUZZ_ENDPOINTS_H

#include <stdint.h>
#include <stdlib.h>

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

#endif
