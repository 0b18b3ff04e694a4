/* The computing endpoints as one table: a path, the parameters it takes (a bit of the parameter
 * table's endpoints column), how to compute its answer and roughly what that costs. */
#ifndef GDLAB_API_ENDPOINT_H
#define GDLAB_API_ENDPOINT_H

#include "api/param.h"
#include "api/problem.h"
#include "encode/json_writer.h"
#include "gdlab/train.h"

/* Compute with the core and write the whole answer (JSON, or CSV when p->format asks for it);
 * -1 with *prob on a client error found only now (a grid range that is empty once defaults are
 * resolved, a delta that reaches no other grid value, data that overflows), when memory runs
 * out, or when cancel says the request's deadline passed (API_PROBLEM_DEADLINE_EXCEEDED; asked
 * between the phases of the work and every few thousand epochs). */
typedef int (*api_compute_fn)(struct api_params *p, const struct gd_cancel *cancel, struct jw *w,
                              struct api_problem *prob);

/* Roughly how long computing and writing an answer takes, in nanoseconds of a current core. */
typedef double (*api_cost_fn)(const struct api_params *p);

struct api_endpoint {
    const char *path;
    unsigned bit; /* EP_x: the parameter table's rows that name it are its parameters */
    int default_scaler;
    api_compute_fn compute;
    api_cost_fn cost;
    const char *summary;
};

/* The table, in the order the index lists them. */
extern const struct api_endpoint api_endpoints[];
extern const size_t api_endpoint_count;

/* The endpoint at path; NULL when there is none. */
const struct api_endpoint *api_endpoint_find(const char *path);

/* True when the endpoint can answer CSV (format=csv; every endpoint answers JSON and npz). */
bool api_endpoint_has_csv(const struct api_endpoint *e);

#endif
