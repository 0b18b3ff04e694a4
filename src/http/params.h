/* Request parameters: one table of names and types, parsed alike from a query string or a JSON
 * body, validated against the server's limits, and echoed back with defaults filled in. */
#ifndef GDLAB_HTTP_PARAMS_H
#define GDLAB_HTTP_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "errors.h"
#include "gdlab/dataset.h"
#include "gdlab/scale.h"
#include "json_writer.h"

/* Which endpoint takes which parameters: groups, combined per endpoint. */
enum param_group {
    PG_DATA = 1u << 0,  /* the dataset: every endpoint */
    PG_GRID = 1u << 1,  /* a (b, w) grid: /surface, /cross-section */
    PG_POINT = 1u << 2, /* a point on the grid: /cross-section */
    PG_TRAIN = 1u << 3, /* gradient descent: /train */
    PG_FORMAT = 1u << 4 /* a choice of JSON or CSV: /dataset, /train */
};

/* ROW(id, name, kind, group): kinds are NUM (finite double), INT (integral number), BOOL, WORD
 * (one of a few strings), LIST (one number or several: comma-separated in a query) and ARRAY
 * (a JSON array of numbers, POST body only). */
#define PARAM_MAP(ROW)                                                                             \
    ROW(SEED, "seed", INT, PG_DATA)                                                                \
    ROW(N, "n", INT, PG_DATA)                                                                      \
    ROW(TRUE_B, "true_b", NUM, PG_DATA)                                                            \
    ROW(TRUE_W, "true_w", NUM, PG_DATA)                                                            \
    ROW(NOISE, "noise", NUM, PG_DATA)                                                              \
    ROW(X_MULTIPLIER, "x_multiplier", NUM, PG_DATA)                                                \
    ROW(TRAIN_FRACTION, "train_fraction", NUM, PG_DATA)                                            \
    ROW(SCALER, "scaler", WORD, PG_DATA)                                                           \
    ROW(X, "x", ARRAY, PG_DATA)                                                                    \
    ROW(Y, "y", ARRAY, PG_DATA)                                                                    \
    ROW(B_MIN, "b_min", NUM, PG_GRID)                                                              \
    ROW(B_MAX, "b_max", NUM, PG_GRID)                                                              \
    ROW(W_MIN, "w_min", NUM, PG_GRID)                                                              \
    ROW(W_MAX, "w_max", NUM, PG_GRID)                                                              \
    ROW(B_STEPS, "b_steps", INT, PG_GRID)                                                          \
    ROW(W_STEPS, "w_steps", INT, PG_GRID)                                                          \
    ROW(SPLIT, "split", WORD, PG_GRID)                                                             \
    ROW(B, "b", NUM, PG_POINT)                                                                     \
    ROW(W, "w", NUM, PG_POINT)                                                                     \
    ROW(SNAP, "snap", BOOL, PG_POINT)                                                              \
    ROW(DELTA, "delta", NUM, PG_POINT)                                                             \
    ROW(LR, "lr", LIST, PG_TRAIN)                                                                  \
    ROW(EPOCHS, "epochs", INT, PG_TRAIN)                                                           \
    ROW(B0, "b0", NUM, PG_TRAIN)                                                                   \
    ROW(W0, "w0", NUM, PG_TRAIN)                                                                   \
    ROW(OPTIMIZER, "optimizer", WORD, PG_TRAIN)                                                    \
    ROW(HISTORY, "history", INT, PG_TRAIN)                                                         \
    ROW(TOL, "tol", NUM, PG_TRAIN)                                                                 \
    ROW(FORMAT, "format", WORD, PG_FORMAT)

enum param_id {
#define PARAM_ENUM(id, name, kind, group) P_##id,
    PARAM_MAP(PARAM_ENUM)
#undef PARAM_ENUM
        P_COUNT
};

/* The server's limits on request sizes; every one is named in the error that enforces it. */
struct api_limits {
    size_t max_n;           /* points in a dataset (--max-n) */
    size_t max_grid_points; /* b_steps * w_steps (--max-grid-points) */
    uint64_t max_epochs;    /* epochs of one run (--max-epochs) */
    size_t max_history;     /* history points per run (--max-history) */
    size_t max_lrs;         /* learning rates in one /train request (--max-lrs) */
    size_t max_body;        /* bytes of a POST body (--max-body) */
};

/* The defaults: n 1e6, grid 4e6, epochs 1e7, history 1e5, 16 learning rates, body 64 MiB. */
void api_limits_default(struct api_limits *lim);

/* The tutorial's dataset and a grid around an optimum; data-dependent defaults are resolved by
 * the endpoint (given tells which parameters the client set). */
struct api_params {
    unsigned groups;
    uint64_t given; /* bit P_x set when the client gave parameter x */
    struct gd_dataset_params data;
    enum gd_scaler_kind scaler;
    double *x; /* inline data (owned), NULL when generated */
    double *y;
    double b_min, b_max, w_min, w_max;
    size_t b_steps, w_steps;
    bool split_val; /* the grid's loss on the validation split rather than the training one */
    double b, w;
    bool snap;
    double delta;
    double *lr; /* owned, n_lr values */
    size_t n_lr;
    uint64_t epochs;
    double b0, w0;
    size_t history;
    double tol;
    bool csv; /* format=csv: the representation, not a parameter of the answer (not echoed) */
};

/* One key=value pair of a query string, as the server decoded it; value may be NULL. */
struct query_arg {
    const char *key;
    const char *value;
};

/* True when the client gave parameter id. */
static inline bool param_given(const struct api_params *p, enum param_id id)
{
    return (p->given >> id) & 1u;
}

/* The name of a parameter ("b_steps"). */
const char *param_name(enum param_id id);

/* Parse and validate a query string's pairs; -1 with *err filled on a client error. */
int params_from_query(struct api_params *out, unsigned groups, enum gd_scaler_kind default_scaler,
                      const struct query_arg *args, size_t n_args, const struct api_limits *lim,
                      struct http_problem *err);

/* Parse and validate a JSON body, which must be an object; -1 with *err filled. */
int params_from_json(struct api_params *out, unsigned groups, enum gd_scaler_kind default_scaler,
                     const char *body, size_t len, const struct api_limits *lim,
                     struct http_problem *err);

/* Seed the JSON parser's hash function from the system's randomness, once, before any thread
 * parses a body: jansson would otherwise seed itself lazily on the first parse, racing threads. */
void params_global_init(void);

/* Release what a parse allocated; safe on a zeroed or failed struct. */
void params_free(struct api_params *p);

/* Write "params": {...} with every parameter of the endpoint, defaults resolved. */
void params_write(struct jw *w, const struct api_params *p);

/* Write the accepted parameter names of some groups as a JSON array. */
void params_write_names(struct jw *w, unsigned groups);

#endif
