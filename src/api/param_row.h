/* The parameter table's rows and the raw values a parse collects, shared by param.c (the table,
 * checks, defaults, echo) and parse.c (the query string and JSON syntax). Internal to src/api. */
#ifndef GDLAB_API_PARAM_ROW_H
#define GDLAB_API_PARAM_ROW_H

#include "api/param.h"

/* How a value is stored and written. */
enum param_type { PT_U32, PT_SIZE, PT_U64, PT_NUM, PT_BOOL, PT_WORD, PT_WORDS, PT_LIST, PT_DATA };

/* A range beyond finiteness (and beyond .min/.max for integers). */
enum param_range { R_ANY, R_NONNEG, R_POSITIVE, R_NONZERO, R_UNIT, R_AT_LEAST };

/* Whether a value is part of the "params" echo. */
enum param_echo { ECHO_ALWAYS, ECHO_GIVEN, ECHO_NEVER, ECHO_IF };

struct raw_params;

/* A check across parameters, run after its row; -1 with *prob filled. */
typedef int (*param_check_fn)(struct raw_params *raw, struct api_params *p,
                              const struct api_limits *lim, struct api_problem *prob);

struct param_row {
    const char *name;
    enum param_type type;
    unsigned endpoints;
    size_t at; /* offsetof(struct api_params, field) */
    double def;
    bool from_data;
    double min, max;
    enum param_range range;
    enum api_limit limit;
    bool clamp;
    const char *const *words; /* NULL-terminated */
    enum param_echo echo;
    bool (*echo_if)(const struct api_params *p); /* ECHO_IF: the answer depends on it */
    param_check_fn check;
};

extern const struct param_row api_param_rows[P_COUNT];

/* A parameter as the client sent it, before range checks. */
struct raw_value {
    double num;
    bool flag;
    const char *word; /* borrowed from the query or the JSON document */
    double *list;     /* PT_LIST and PT_DATA, owned until landed in api_params */
    size_t list_len;
    char **words; /* PT_WORDS: each word a copy, owned */
    size_t n_words;
};

struct raw_params {
    uint64_t given;
    struct raw_value v[P_COUNT];
};

/* Check the raw values against their rows in table order and land them in p (already at its
 * defaults); -1 with *prob filled on the first offence. */
int api_params_validate(struct raw_params *raw, struct api_params *p, const struct api_limits *lim,
                        struct api_problem *prob);

/* Release the lists a raw parse still owns. */
void api_raw_free(struct raw_params *raw);

/* The checks across parameters (checks.c), named by the table's .check column. */
int api_check_data(struct raw_params *raw, struct api_params *p, const struct api_limits *lim,
                   struct api_problem *prob);
int api_check_grid_points(struct raw_params *raw, struct api_params *p,
                          const struct api_limits *lim, struct api_problem *prob);
int api_check_lr(struct raw_params *raw, struct api_params *p, const struct api_limits *lim,
                 struct api_problem *prob);
int api_check_optimization(struct raw_params *raw, struct api_params *p,
                           const struct api_limits *lim, struct api_problem *prob);
int api_check_stability(struct raw_params *raw, struct api_params *p, const struct api_limits *lim,
                        struct api_problem *prob);
int api_check_lr_finder(struct raw_params *raw, struct api_params *p, const struct api_limits *lim,
                        struct api_problem *prob);
int api_check_format(struct raw_params *raw, struct api_params *p, const struct api_limits *lim,
                     struct api_problem *prob);

/* Whether the answer depends on a parameter (the table's .echo_if column): a requested optimizer
 * reads momentum, the betas or alpha; mini-batches; the schedule's own parameters. */
bool api_uses_momentum(const struct api_params *p);
bool api_uses_betas(const struct api_params *p);
bool api_uses_alpha(const struct api_params *p);
bool api_uses_batches(const struct api_params *p);
bool api_uses_step_size(const struct api_params *p);
bool api_uses_gamma(const struct api_params *p);
bool api_uses_cosine(const struct api_params *p);

#endif
