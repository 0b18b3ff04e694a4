/* Request parameters, driven by one table: a row per parameter gives its name, type, default (or
 * "from the data"), range, the server flag that caps it, the endpoints that take it and the field
 * of struct api_params it lands in. Parsing (query string or JSON body), range checks, defaults,
 * the "params" echo and the canonical form hashed into the ETag all come from the table; adding a
 * parameter is a row here plus its use. */
#ifndef GDLAB_API_PARAM_H
#define GDLAB_API_PARAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/problem.h"
#include "encode/json_writer.h"
#include "gdlab/dataset.h"

/* The computing endpoints as bits: a row names the endpoints that take its parameter. */
enum api_endpoint_bit {
    EP_DATASET = 1u << 0,
    EP_SURFACE = 1u << 1,
    EP_CROSS_SECTION = 1u << 2,
    EP_TRAIN = 1u << 3,
    EP_SCALE = 1u << 4,
    EP_STABILITY = 1u << 5,
    EP_LR_FINDER = 1u << 6
};
#define EP_ALL                                                                                     \
    (EP_DATASET | EP_SURFACE | EP_CROSS_SECTION | EP_TRAIN | EP_SCALE | EP_STABILITY | EP_LR_FINDER)
#define EP_GRID (EP_SURFACE | EP_CROSS_SECTION)
/* The endpoints that run an optimizer from a start: /train and /lr-finder. */
#define EP_OPTIM (EP_TRAIN | EP_LR_FINDER)
/* The endpoints that also answer CSV; every endpoint answers JSON and npz. */
#define EP_CSV (EP_DATASET | EP_TRAIN)

/* Inline data longer than this is echoed in "params" by its length and SHA-256, not in full. */
#define API_ECHO_INLINE_MAX 1000

/* A list of numbers the request owns: lr, or inline data. */
struct api_list {
    double *v;
    size_t n;
    char sha256[65]; /* inline data over API_ECHO_INLINE_MAX: of v's little-endian bytes, in hex */
};

/* The most words a list parameter (optimizer) takes. */
#define API_WORDS_MAX 32

/* A list of words, as indices into the parameter's word list: optimizer. */
struct api_words {
    int v[API_WORDS_MAX];
    size_t n;
};

/* The choices of the word parameters, as indices into their word lists (param.c); optimizer,
 * schedule and history_unit are the core's enum gd_optimizer, gd_schedule_kind and
 * gd_history_unit. */
enum api_split { API_SPLIT_TRAIN, API_SPLIT_VAL };
enum api_spacing { API_SPACING_LOG, API_SPACING_LINEAR };
enum api_step_mode { API_STEP_EXP, API_STEP_LINEAR };
enum api_format { API_FORMAT_JSON, API_FORMAT_CSV, API_FORMAT_NPZ };

/* Validated parameters, defaults filled in; those that depend on the data are resolved by the
 * endpoint (api_param_given tells which ones the client set). */
struct api_params {
    unsigned endpoint; /* the EP_x bit of the endpoint they were parsed for */
    uint64_t given;    /* bit P_x set when the client gave parameter x */
    struct gd_dataset_params data;
    int scaler; /* enum gd_scaler_kind */
    struct api_list x, y;
    double b_min, b_max, w_min, w_max;
    size_t b_steps, w_steps;
    int split; /* enum api_split */
    double b, w;
    bool snap;
    double delta;
    struct api_list lr;
    uint64_t epochs;
    double b0, w0;
    struct api_words optimizer; /* enum gd_optimizer each */
    size_t history;
    double tol;
    /* beyond plain gradient descent: torch.optim's hyperparameters (eps and weight_decay at 0
     * when not given: each run takes its optimizer's default), mini-batches and schedules */
    double momentum, beta1, beta2, alpha, eps, weight_decay;
    size_t batch_size; /* 0: the whole training split */
    bool shuffle;
    uint32_t shuffle_seed; /* resolved: seed when not given */
    int schedule;          /* enum gd_schedule_kind */
    uint64_t step_size;
    double gamma;   /* resolved: 0.1 for step, 0.95 for exponential when not given */
    uint64_t t_max; /* resolved: epochs when not given */
    double eta_min;
    int history_unit; /* enum gd_history_unit */
    /* /stability's map: learning rates (resolved from the data when not given) x momenta */
    double lr_min, lr_max;
    size_t lr_steps;
    int lr_spacing; /* enum api_spacing */
    double momentum_min, momentum_max;
    size_t momentum_steps;
    /* /lr-finder's range test, as torch_lr_finder's range_test takes it */
    double start_lr, end_lr;
    size_t num_iter;
    int step_mode; /* enum api_step_mode */
    double smooth_f, diverge_th;
    /* the request asks for more than plain gd (another optimizer, several, or one of the
     * parameters above): each run reports its optimizer, hyperparameters, steps, final rate and
     * convergence rates (a plain gd request is answered exactly as before them) */
    bool optim_report;
    int format; /* enum api_format: the representation, not echoed (Accept may also choose it) */
};

/* The server's limits on request sizes; every one is named, with its flag, in the error that
 * enforces it. */
struct api_limits {
    size_t max_n;           /* points in a dataset (--max-n) */
    size_t max_grid_points; /* b_steps * w_steps (--max-grid-points) */
    uint64_t max_epochs;    /* epochs of one run (--max-epochs) */
    size_t max_history;     /* history points per run (--max-history) */
    size_t max_lrs;         /* learning rates in one /train request (--max-lrs) */
    size_t max_runs;        /* optimizers x learning rates in one /train request (--max-runs) */
    size_t max_body;        /* bytes of a POST body (--max-body) */
};

/* Which server limit caps a parameter (none, or a field of struct api_limits). */
enum api_limit {
    API_LIMIT_NONE,
    API_LIMIT_N,
    API_LIMIT_GRID_STEPS,
    API_LIMIT_MAP_STEPS,
    API_LIMIT_EPOCHS,
    API_LIMIT_HISTORY,
    API_LIMIT_LRS,
    API_LIMIT_RUNS
};

/*
 * The table. ROW(id, name, type, endpoints, field, further columns as designated initializers):
 *   type     U32, SIZE, U64 (integers), NUM (finite double), BOOL, WORD (one of .words),
 *            WORDS (one word or several: "adam,gd" in a query, a string or an array in JSON),
 *            LIST (one number or several: "0.2,0.8" in a query, a number or an array in JSON),
 *            DATA (an array of numbers, POST body only)
 *   .def     the default; .from_data: the endpoint resolves it from the data when not given
 *   .min, .max, .range (R_NONNEG: >= 0, R_POSITIVE: > 0, R_NONZERO, R_UNIT: in [0, 1),
 *            R_AT_LEAST: >= .min) and
 *            .limit (the server flag that caps it); .clamp: a default above the limit yields to it
 *   .echo    ECHO_GIVEN: echoed only when given; ECHO_NEVER: not part of "params";
 *            ECHO_IF: when given or when .echo_if says the answer depends on it
 *   .check   a check across parameters, run after this row (in table order, given or not)
 * The row order is the order of the echo, of the names listed in errors, and of the checks, so
 * that the first offending parameter is the one named.
 */
#define API_PARAM_TABLE(ROW)                                                                       \
    ROW(SEED, "seed", U32, EP_ALL, data.seed, .def = 42, .max = 4294967295.0)                      \
    ROW(N, "n", SIZE, EP_ALL, data.n, .def = 100, .min = 2, .limit = API_LIMIT_N, .clamp = true)   \
    ROW(TRUE_B, "true_b", NUM, EP_ALL, data.true_b, .def = 1)                                      \
    ROW(TRUE_W, "true_w", NUM, EP_ALL, data.true_w, .def = 2)                                      \
    ROW(NOISE, "noise", NUM, EP_ALL, data.noise, .def = 0.1, .range = R_NONNEG)                    \
    ROW(X_MULTIPLIER, "x_multiplier", NUM, EP_ALL, data.x_multiplier, .def = 1,                    \
        .range = R_NONZERO)                                                                        \
    ROW(TRAIN_FRACTION, "train_fraction", NUM, EP_ALL, data.train_fraction, .def = 0.8)            \
    ROW(SCALER, "scaler", WORD, EP_ALL, scaler, .words = scaler_words)                             \
    ROW(X, "x", DATA, EP_ALL, x, .echo = ECHO_GIVEN)                                               \
    ROW(Y, "y", DATA, EP_ALL, y, .echo = ECHO_GIVEN, .check = api_check_data)                      \
    ROW(B_MIN, "b_min", NUM, EP_GRID, b_min, .from_data = true)                                    \
    ROW(B_MAX, "b_max", NUM, EP_GRID, b_max, .from_data = true)                                    \
    ROW(W_MIN, "w_min", NUM, EP_GRID, w_min, .from_data = true)                                    \
    ROW(W_MAX, "w_max", NUM, EP_GRID, w_max, .from_data = true)                                    \
    ROW(B_STEPS, "b_steps", SIZE, EP_GRID, b_steps, .def = 101, .min = 2,                          \
        .limit = API_LIMIT_GRID_STEPS)                                                             \
    ROW(W_STEPS, "w_steps", SIZE, EP_GRID, w_steps, .def = 101, .min = 2,                          \
        .limit = API_LIMIT_GRID_STEPS, .check = api_check_grid_points)                             \
    ROW(SPLIT, "split", WORD, EP_GRID, split, .words = split_words)                                \
    ROW(B, "b", NUM, EP_CROSS_SECTION, b, .from_data = true)                                       \
    ROW(W, "w", NUM, EP_CROSS_SECTION, w, .from_data = true)                                       \
    ROW(SNAP, "snap", BOOL, EP_CROSS_SECTION, snap, .def = 1)                                      \
    ROW(DELTA, "delta", NUM, EP_CROSS_SECTION, delta, .def = 0.12, .range = R_NONZERO)             \
    ROW(LR, "lr", LIST, EP_TRAIN, lr, .def = 0.1, .limit = API_LIMIT_LRS, .check = api_check_lr)   \
    ROW(EPOCHS, "epochs", U64, EP_TRAIN, epochs, .def = 1000, .min = 1, .limit = API_LIMIT_EPOCHS, \
        .clamp = true)                                                                             \
    ROW(B0, "b0", NUM, EP_OPTIM, b0, .from_data = true)                                            \
    ROW(W0, "w0", NUM, EP_OPTIM, w0, .from_data = true)                                            \
    ROW(OPTIMIZER, "optimizer", WORDS, EP_OPTIM | EP_STABILITY, optimizer,                         \
        .words = optimizer_words)                                                                  \
    ROW(HISTORY, "history", SIZE, EP_TRAIN, history, .def = 1001, .limit = API_LIMIT_HISTORY,      \
        .clamp = true)                                                                             \
    ROW(TOL, "tol", NUM, EP_TRAIN, tol, .range = R_NONNEG)                                         \
    ROW(MOMENTUM, "momentum", NUM, EP_OPTIM, momentum, .def = 0.9, .range = R_UNIT,                \
        .echo = ECHO_IF, .echo_if = api_uses_momentum)                                             \
    ROW(BETA1, "beta1", NUM, EP_OPTIM, beta1, .def = 0.9, .range = R_UNIT, .echo = ECHO_IF,        \
        .echo_if = api_uses_betas)                                                                 \
    ROW(BETA2, "beta2", NUM, EP_OPTIM, beta2, .def = 0.999, .range = R_UNIT, .echo = ECHO_IF,      \
        .echo_if = api_uses_betas)                                                                 \
    ROW(ALPHA, "alpha", NUM, EP_OPTIM, alpha, .def = 0.99, .range = R_UNIT, .echo = ECHO_IF,       \
        .echo_if = api_uses_alpha)                                                                 \
    ROW(EPS, "eps", NUM, EP_OPTIM, eps, .range = R_POSITIVE, .echo = ECHO_GIVEN)                   \
    ROW(WEIGHT_DECAY, "weight_decay", NUM, EP_OPTIM, weight_decay, .range = R_NONNEG,              \
        .echo = ECHO_GIVEN)                                                                        \
    ROW(BATCH_SIZE, "batch_size", SIZE, EP_OPTIM, batch_size, .limit = API_LIMIT_N,                \
        .echo = ECHO_GIVEN)                                                                        \
    ROW(SHUFFLE, "shuffle", BOOL, EP_OPTIM, shuffle, .def = 1, .echo = ECHO_IF,                    \
        .echo_if = api_uses_batches)                                                               \
    ROW(SHUFFLE_SEED, "shuffle_seed", U32, EP_OPTIM, shuffle_seed, .max = 4294967295.0,            \
        .echo = ECHO_IF, .echo_if = api_uses_batches)                                              \
    ROW(SCHEDULE, "schedule", WORD, EP_TRAIN, schedule, .words = schedule_words,                   \
        .echo = ECHO_GIVEN)                                                                        \
    ROW(STEP_SIZE, "step_size", U64, EP_TRAIN, step_size, .def = 10, .min = 1,                     \
        .max = 4503599627370496.0, .echo = ECHO_IF, .echo_if = api_uses_step_size)                 \
    ROW(GAMMA, "gamma", NUM, EP_TRAIN, gamma, .range = R_POSITIVE, .echo = ECHO_IF,                \
        .echo_if = api_uses_gamma)                                                                 \
    ROW(T_MAX, "t_max", U64, EP_TRAIN, t_max, .min = 1, .max = 4503599627370496.0,                 \
        .echo = ECHO_IF, .echo_if = api_uses_cosine)                                               \
    ROW(ETA_MIN, "eta_min", NUM, EP_TRAIN, eta_min, .range = R_NONNEG, .echo = ECHO_IF,            \
        .echo_if = api_uses_cosine)                                                                \
    ROW(HISTORY_UNIT, "history_unit", WORD, EP_TRAIN, history_unit, .words = history_unit_words,   \
        .echo = ECHO_GIVEN, .check = api_check_optimization)                                       \
    ROW(LR_MIN, "lr_min", NUM, EP_STABILITY, lr_min, .range = R_POSITIVE, .from_data = true)       \
    ROW(LR_MAX, "lr_max", NUM, EP_STABILITY, lr_max, .range = R_POSITIVE, .from_data = true)       \
    ROW(LR_STEPS, "lr_steps", SIZE, EP_STABILITY, lr_steps, .def = 200, .min = 2,                  \
        .limit = API_LIMIT_MAP_STEPS)                                                              \
    ROW(LR_SPACING, "lr_spacing", WORD, EP_STABILITY, lr_spacing, .words = spacing_words)          \
    ROW(MOMENTUM_MIN, "momentum_min", NUM, EP_STABILITY, momentum_min, .range = R_UNIT,            \
        .echo = ECHO_IF, .echo_if = api_uses_momentum)                                             \
    ROW(MOMENTUM_MAX, "momentum_max", NUM, EP_STABILITY, momentum_max, .def = 0.99,                \
        .range = R_UNIT, .echo = ECHO_IF, .echo_if = api_uses_momentum)                            \
    ROW(MOMENTUM_STEPS, "momentum_steps", SIZE, EP_STABILITY, momentum_steps, .def = 100,          \
        .min = 1, .limit = API_LIMIT_MAP_STEPS, .echo = ECHO_IF, .echo_if = api_uses_momentum,     \
        .check = api_check_stability)                                                              \
    ROW(START_LR, "start_lr", NUM, EP_LR_FINDER, start_lr, .def = 1e-4, .range = R_POSITIVE)       \
    ROW(END_LR, "end_lr", NUM, EP_LR_FINDER, end_lr, .def = 10, .range = R_POSITIVE)               \
    ROW(NUM_ITER, "num_iter", SIZE, EP_LR_FINDER, num_iter, .def = 100, .min = 2, .max = 100000)   \
    ROW(STEP_MODE, "step_mode", WORD, EP_LR_FINDER, step_mode, .words = step_mode_words)           \
    ROW(SMOOTH_F, "smooth_f", NUM, EP_LR_FINDER, smooth_f, .def = 0.05, .range = R_UNIT)           \
    ROW(DIVERGE_TH, "diverge_th", NUM, EP_LR_FINDER, diverge_th, .def = 5, .min = 1,               \
        .range = R_AT_LEAST, .check = api_check_lr_finder)                                         \
    ROW(FORMAT, "format", WORD, EP_ALL, format, .words = format_words, .echo = ECHO_NEVER,         \
        .check = api_check_format)

enum api_param_id {
#define API_PARAM_ENUM(id, ...) P_##id,
    API_PARAM_TABLE(API_PARAM_ENUM)
#undef API_PARAM_ENUM
        P_COUNT
};

/* One key=value pair of a query string, as the server decoded it; value may be NULL. */
struct api_query_arg {
    const char *key;
    const char *value;
};

/* The defaults: n 1e6, grid 4e6, epochs 1e7, history 1e5, 16 learning rates, body 64 MiB. */
void api_limits_default(struct api_limits *lim);

/* True when the client gave parameter id. */
static inline bool api_param_given(const struct api_params *p, enum api_param_id id)
{
    return (p->given >> id) & 1u;
}

/* The name of a parameter ("b_steps"). */
const char *api_param_name(enum api_param_id id);

/* True when the endpoint (an EP_x bit) takes parameter id. */
bool api_param_taken(enum api_param_id id, unsigned endpoint);

/* Every parameter at its default for an endpoint; default_scaler is the endpoint's. -1 with
 * *prob filled when memory runs out. */
int api_params_init(struct api_params *p, unsigned endpoint, int default_scaler,
                    struct api_problem *prob);

/* Parse and validate a query string's pairs into p; -1 with *prob filled on a client error. */
int api_params_from_query(struct api_params *p, unsigned endpoint, int default_scaler,
                          const struct api_query_arg *args, size_t n_args,
                          const struct api_limits *lim, struct api_problem *prob);

/* Parse and validate a query string's pairs and an .npz body holding x.npy and y.npy (float64,
 * 1-D), the inline data; -1 with *prob filled (API_PROBLEM_MALFORMED_NPZ for the archive). */
int api_params_from_npz(struct api_params *p, unsigned endpoint, int default_scaler,
                        const struct api_query_arg *args, size_t n_args, const char *body,
                        size_t len, const struct api_limits *lim, struct api_problem *prob);

/* Parse and validate a JSON body, which must be an object; -1 with *prob filled. */
int api_params_from_json(struct api_params *p, unsigned endpoint, int default_scaler,
                         const char *body, size_t len, const struct api_limits *lim,
                         struct api_problem *prob);

/* Seed the JSON parser's hash function from the system's randomness, once, before any thread
 * parses a body: jansson would otherwise seed itself lazily on the first parse, racing threads. */
void api_params_global_init(void);

/* Release what a parse allocated; safe on a zeroed, failed or already released struct. */
void api_params_free(struct api_params *p);

/* Write "params": {...} with every parameter of the endpoint, defaults resolved. */
void api_params_write(struct jw *w, const struct api_params *p);

/* The parameters whose defaults depend on the data that the client gave, as bits P_x: with the
 * echo and the representation, the canonical form of a request that its ETag hashes. */
uint64_t api_params_data_defaults_given(const struct api_params *p);

/* The names of the parameters an endpoint takes, as a JSON array. */
void api_params_write_names(struct jw *w, unsigned endpoint);

#endif
