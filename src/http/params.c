/*
 * Parsing is two steps. First every pair the client sent is matched to the table and converted by
 * its kind into a raw value, the same way for both sources except for the source's own syntax
 * (a query string's "0.2,0.8" is a JSON body's [0.2, 0.8]); a JSON value of the wrong type is an
 * error, never coerced. Then the raw values are checked against their ranges, in table order, so
 * that the first offending parameter is the one named.
 */
#include "params.h"

#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gdlab/dataset.h"

enum param_kind { K_NUM, K_INT, K_BOOL, K_WORD, K_LIST, K_ARRAY };

static const struct {
    const char *name;
    enum param_kind kind;
    unsigned group;
} param_table[P_COUNT] = {
#define PARAM_ROW(id, name, kind, group) [P_##id] = {name, K_##kind, group},
    PARAM_MAP(PARAM_ROW)
#undef PARAM_ROW
};

/* A parameter as the client sent it, before range checks. */
struct raw_value {
    double num;
    bool flag;
    const char *word; /* borrowed from the query or the JSON document */
    double *list;     /* K_LIST and K_ARRAY, owned until handed to api_params */
    size_t list_len;
};

struct raw_params {
    uint64_t given;
    struct raw_value v[P_COUNT];
};

#define SEED_MAX 4294967295.0
#define WORD_SHOW_MAX 40
/* A parameter body nests two levels ({"lr": [...]}); jansson's own limit is 2048, each level a
 * recursive call, so deeper bodies are refused before jansson sees them. */
#define JSON_DEPTH_MAX 32

void api_limits_default(struct api_limits *lim)
{
    lim->max_n = 1000000;
    lim->max_grid_points = 4000000;
    lim->max_epochs = 10000000;
    lim->max_history = 100000;
    lim->max_lrs = 16;
    lim->max_body = 64u << 20;
}

const char *param_name(enum param_id id)
{
    return (unsigned)id < P_COUNT ? param_table[id].name : "?";
}

/* Comma-separated names of the parameters in groups, for "unknown parameter" details. */
static void accepted_names(unsigned groups, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int id = 0; id < P_COUNT; id++) {
        if (!(param_table[id].group & groups))
            continue;
        int n = snprintf(buf + len, cap - len, "%s%s", len ? ", " : "", param_table[id].name);
        if (n < 0 || (size_t)n >= cap - len)
            return;
        len += (size_t)n;
    }
}

static int find_param(const char *key, unsigned groups, enum param_id *id, struct http_problem *err)
{
    for (int i = 0; i < P_COUNT; i++) {
        if (strcmp(param_table[i].name, key) == 0 && (param_table[i].group & groups)) {
            *id = (enum param_id)i;
            return 0;
        }
    }
    char names[512];
    accepted_names(groups, names, sizeof(names));
    return problem_set(err, HTTP_E_UNKNOWN_PARAMETER, key,
                       "unknown parameter '%.*s'; this endpoint accepts: %s", HTTP_PARAM_MAX, key,
                       names);
}

/* ---- from a query string --------------------------------------------------------------- */

/* Decimal notation only: [+-] digits [. digits] [e [+-] digits], or a leading "."; no blanks,
 * hexadecimal, "inf" or "nan", which strtod alone would take. */
static bool is_decimal(const char *s, size_t len)
{
    const char *end = s + len;
    size_t digits = 0;
    if (s < end && (*s == '+' || *s == '-'))
        s++;
    for (; s < end && *s >= '0' && *s <= '9'; s++)
        digits++;
    if (s < end && *s == '.')
        for (s++; s < end && *s >= '0' && *s <= '9'; s++)
            digits++;
    if (digits == 0)
        return false;
    if (s < end && (*s == 'e' || *s == 'E')) {
        s++;
        if (s < end && (*s == '+' || *s == '-'))
            s++;
        if (s == end || !(*s >= '0' && *s <= '9'))
            return false;
        while (s < end && *s >= '0' && *s <= '9')
            s++;
    }
    return s == end;
}

/* A whole string as a double in decimal notation; values that overflow are out of range. */
static int number_from_string(const char *name, const char *s, size_t len, double *out,
                              struct http_problem *err)
{
    char buf[64];
    if (len == 0)
        return problem_set(err, HTTP_E_INVALID_PARAMETER, name, "%s is empty; expected a number",
                           name);
    if (len >= sizeof(buf) || !is_decimal(s, len))
        return problem_set(err, HTTP_E_INVALID_PARAMETER, name,
                           "%s must be a finite decimal number; got '%.*s'", name, WORD_SHOW_MAX,
                           s);
    memcpy(buf, s, len);
    buf[len] = '\0';
    double v = strtod(buf, NULL);
    if (!isfinite(v))
        return problem_set(err, HTTP_E_OUT_OF_RANGE, name, "%s must be a finite number; got '%s'",
                           name, buf);
    *out = v;
    return 0;
}

static int parse_query_value(enum param_id id, const char *s, struct raw_value *v,
                             struct http_problem *err)
{
    const char *name = param_table[id].name;
    if (!s)
        return problem_set(err, HTTP_E_INVALID_PARAMETER, name, "%s needs a value (%s=...)", name,
                           name);
    switch (param_table[id].kind) {
    case K_NUM:
    case K_INT:
        return number_from_string(name, s, strlen(s), &v->num, err);
    case K_BOOL:
        if (strcmp(s, "true") == 0 || strcmp(s, "1") == 0)
            v->flag = true;
        else if (strcmp(s, "false") == 0 || strcmp(s, "0") == 0)
            v->flag = false;
        else
            return problem_set(err, HTTP_E_INVALID_PARAMETER, name,
                               "%s must be true or false; got '%.*s'", name, WORD_SHOW_MAX, s);
        return 0;
    case K_WORD:
        v->word = s;
        return 0;
    case K_LIST: {
        size_t count = 1;
        for (const char *c = s; *c; c++)
            count += *c == ',';
        v->list = malloc(count * sizeof(*v->list));
        if (!v->list)
            return problem_set(err, HTTP_E_OUT_OF_MEMORY, NULL, "out of memory");
        v->list_len = count;
        const char *item = s;
        for (size_t k = 0; k < count; k++) {
            const char *comma = strchr(item, ',');
            size_t len = comma ? (size_t)(comma - item) : strlen(item);
            if (number_from_string(name, item, len, &v->list[k], err) != 0)
                return -1;
            item += len + 1;
        }
        return 0;
    }
    case K_ARRAY:
        return problem_set(err, HTTP_E_INVALID_PARAMETER, name,
                           "%s is inline data and is accepted only in a POST JSON body", name);
    }
    return problem_set(err, HTTP_E_INTERNAL, name, "unhandled parameter kind");
}

/* ---- from a JSON body ------------------------------------------------------------------- */

static const char *json_type_name(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        return "null";
    }
    return "something else";
}

static int json_numbers(const char *name, const json_t *j, struct raw_value *v,
                        struct http_problem *err)
{
    size_t n = json_array_size(j);
    v->list = malloc((n ? n : 1) * sizeof(*v->list));
    if (!v->list)
        return problem_set(err, HTTP_E_OUT_OF_MEMORY, NULL, "out of memory");
    v->list_len = n;
    for (size_t k = 0; k < n; k++) {
        const json_t *item = json_array_get(j, k);
        if (!json_is_number(item))
            return problem_set(err, HTTP_E_INVALID_PARAMETER, name,
                               "%s[%zu] must be a number; got %s", name, k, json_type_name(item));
        v->list[k] = json_number_value(item);
    }
    return 0;
}

static int parse_json_value(enum param_id id, const json_t *j, struct raw_value *v,
                            struct http_problem *err)
{
    const char *name = param_table[id].name;
    switch (param_table[id].kind) {
    case K_NUM:
    case K_INT:
        if (!json_is_number(j))
            return problem_set(err, HTTP_E_INVALID_PARAMETER, name, "%s must be a number; got %s",
                               name, json_type_name(j));
        v->num = json_number_value(j);
        return 0;
    case K_BOOL:
        if (!json_is_boolean(j))
            return problem_set(err, HTTP_E_INVALID_PARAMETER, name,
                               "%s must be true or false; got %s", name, json_type_name(j));
        v->flag = json_is_true(j);
        return 0;
    case K_WORD:
        if (!json_is_string(j))
            return problem_set(err, HTTP_E_INVALID_PARAMETER, name, "%s must be a string; got %s",
                               name, json_type_name(j));
        v->word = json_string_value(j);
        return 0;
    case K_LIST:
        if (json_is_number(j)) {
            v->list = malloc(sizeof(*v->list));
            if (!v->list)
                return problem_set(err, HTTP_E_OUT_OF_MEMORY, NULL, "out of memory");
            v->list[0] = json_number_value(j);
            v->list_len = 1;
            return 0;
        }
        if (!json_is_array(j))
            return problem_set(err, HTTP_E_INVALID_PARAMETER, name,
                               "%s must be a number or an array of numbers; got %s", name,
                               json_type_name(j));
        return json_numbers(name, j, v, err);
    case K_ARRAY:
        if (!json_is_array(j))
            return problem_set(err, HTTP_E_INVALID_PARAMETER, name,
                               "%s must be an array of numbers; got %s", name, json_type_name(j));
        return json_numbers(name, j, v, err);
    }
    return problem_set(err, HTTP_E_INTERNAL, name, "unhandled parameter kind");
}

/* ---- validation -------------------------------------------------------------------------- */

static int check_int(enum param_id id, double v, double lo, double hi, const char *limit,
                     struct http_problem *err)
{
    const char *name = param_table[id].name;
    if (v != floor(v))
        return problem_set(err, HTTP_E_INVALID_PARAMETER, name, "%s must be an integer; got %s",
                           name, NUM(v));
    if (v < lo || v > hi)
        return problem_set(err, HTTP_E_OUT_OF_RANGE, name,
                           "%s must be between %.0f and %.0f%s; got %.0f", name, lo, hi, limit, v);
    return 0;
}

static int check_word(enum param_id id, const char *word, const char *const *choices,
                      size_t n_choices, const char *list, int *out, struct http_problem *err)
{
    for (size_t k = 0; k < n_choices; k++) {
        if (strcmp(word, choices[k]) == 0) {
            *out = (int)k;
            return 0;
        }
    }
    return problem_set(err, HTTP_E_INVALID_PARAMETER, param_table[id].name,
                       "%s must be one of %s; got '%.*s'", param_table[id].name, list,
                       WORD_SHOW_MAX, word);
}

static void take_list(struct raw_value *v, double **list, size_t *len)
{
    *list = v->list;
    *len = v->list_len;
    v->list = NULL;
    v->list_len = 0;
}

static int validate_data(struct raw_params *raw, struct api_params *p, const struct api_limits *lim,
                         struct http_problem *err)
{
    struct raw_value *v = raw->v;
    uint64_t given = raw->given;
    char limit[64];
#define GIVEN(id) ((given >> P_##id) & 1u)

    if (GIVEN(SEED)) {
        if (check_int(P_SEED, v[P_SEED].num, 0, SEED_MAX, "", err))
            return -1;
        p->data.seed = (uint32_t)v[P_SEED].num;
    }
    if (GIVEN(N)) {
        snprintf(limit, sizeof(limit), " (the server's --max-n)");
        if (check_int(P_N, v[P_N].num, 2, (double)lim->max_n, limit, err))
            return -1;
        p->data.n = (size_t)v[P_N].num;
    } else if (p->data.n > lim->max_n) {
        p->data.n = lim->max_n; /* defaults yield to a lower server limit */
    }
    if (GIVEN(TRUE_B))
        p->data.true_b = v[P_TRUE_B].num;
    if (GIVEN(TRUE_W))
        p->data.true_w = v[P_TRUE_W].num;
    if (GIVEN(NOISE)) {
        if (!(v[P_NOISE].num >= 0.0))
            return problem_set(err, HTTP_E_OUT_OF_RANGE, "noise", "noise must be >= 0; got %s",
                               NUM(v[P_NOISE].num));
        p->data.noise = v[P_NOISE].num;
    }
    if (GIVEN(X_MULTIPLIER)) {
        if (v[P_X_MULTIPLIER].num == 0.0)
            return problem_set(err, HTTP_E_OUT_OF_RANGE, "x_multiplier",
                               "x_multiplier must be non-zero");
        p->data.x_multiplier = v[P_X_MULTIPLIER].num;
    }
    if (GIVEN(TRAIN_FRACTION))
        p->data.train_fraction = v[P_TRAIN_FRACTION].num;
    if (GIVEN(SCALER)) {
        static const char *const names[] = {"none", "standard", "minmax"};
        static const enum gd_scaler_kind kinds[] = {GD_SCALER_NONE, GD_SCALER_STANDARD,
                                                    GD_SCALER_MINMAX};
        int k = 0;
        if (check_word(P_SCALER, v[P_SCALER].word, names, 3, "none, standard, minmax", &k, err))
            return -1;
        p->scaler = kinds[k];
    }
    if (GIVEN(X) != GIVEN(Y)) {
        const char *missing = GIVEN(X) ? "y" : "x";
        return problem_set(err, HTTP_E_INVALID_PARAMETER, missing,
                           "inline data needs both x and y; %s is missing", missing);
    }
    if (GIVEN(X)) {
        size_t nx = v[P_X].list_len, ny = v[P_Y].list_len;
        if (nx < 2 || nx > lim->max_n)
            return problem_set(err, HTTP_E_OUT_OF_RANGE, "x",
                               "x must hold between 2 and %zu values (the server's --max-n); got "
                               "%zu",
                               lim->max_n, nx);
        if (ny != nx)
            return problem_set(err, HTTP_E_INVALID_PARAMETER, "y",
                               "y must have as many values as x (%zu); got %zu", nx, ny);
        if (GIVEN(N) && p->data.n != nx)
            return problem_set(err, HTTP_E_INVALID_PARAMETER, "n",
                               "n (%zu) does not match the length of the inline data (%zu); leave "
                               "it out",
                               p->data.n, nx);
        for (int id = P_X; id <= P_Y; id++)
            for (size_t k = 0; k < nx; k++)
                if (!isfinite(v[id].list[k]))
                    return problem_set(err, HTTP_E_OUT_OF_RANGE, param_table[id].name,
                                       "%s[%zu] must be finite", param_table[id].name, k);
        size_t len;
        take_list(&v[P_X], &p->x, &len);
        take_list(&v[P_Y], &p->y, &len);
        p->data.n = len;
    }
    /* After n is known: int(n * train_fraction) must leave both splits non-empty. */
    size_t n_train;
    double f = p->data.train_fraction;
    if (!(f > 0.0 && f < 1.0))
        return problem_set(err, HTTP_E_OUT_OF_RANGE, "train_fraction",
                           "train_fraction must be between 0 and 1 (exclusive); got %s", NUM(f));
    if (gd_split_size(p->data.n, f, &n_train) != 0)
        return problem_set(err, HTTP_E_OUT_OF_RANGE, "train_fraction",
                           "train_fraction %s with n = %zu leaves a split empty "
                           "(floor(n * train_fraction) = %.0f); both splits need at least one "
                           "point",
                           NUM(f), p->data.n, floor((double)p->data.n * f));
    return 0;
}

static int validate_grid(struct raw_params *raw, struct api_params *p, const struct api_limits *lim,
                         struct http_problem *err)
{
    struct raw_value *v = raw->v;
    uint64_t given = raw->given;
    double max_steps = (double)(lim->max_grid_points / 2);
    char limit[96];
    snprintf(limit, sizeof(limit), " (b_steps * w_steps <= %zu, the server's --max-grid-points)",
             lim->max_grid_points);

    if (GIVEN(B_MIN))
        p->b_min = v[P_B_MIN].num;
    if (GIVEN(B_MAX))
        p->b_max = v[P_B_MAX].num;
    if (GIVEN(W_MIN))
        p->w_min = v[P_W_MIN].num;
    if (GIVEN(W_MAX))
        p->w_max = v[P_W_MAX].num;
    if (GIVEN(B_STEPS)) {
        if (check_int(P_B_STEPS, v[P_B_STEPS].num, 2, max_steps, limit, err))
            return -1;
        p->b_steps = (size_t)v[P_B_STEPS].num;
    }
    if (GIVEN(W_STEPS)) {
        if (check_int(P_W_STEPS, v[P_W_STEPS].num, 2, max_steps, limit, err))
            return -1;
        p->w_steps = (size_t)v[P_W_STEPS].num;
    }
    if (p->b_steps > lim->max_grid_points / p->w_steps) {
        const char *name = GIVEN(W_STEPS) ? "w_steps" : "b_steps";
        return problem_set(err, HTTP_E_OUT_OF_RANGE, name,
                           "b_steps * w_steps must be at most %zu (the server's "
                           "--max-grid-points); got %zu * %zu = %.0f",
                           lim->max_grid_points, p->b_steps, p->w_steps,
                           (double)p->b_steps * (double)p->w_steps);
    }
    if (GIVEN(SPLIT)) {
        static const char *const names[] = {"train", "val"};
        int k = 0;
        if (check_word(P_SPLIT, v[P_SPLIT].word, names, 2, "train, val", &k, err))
            return -1;
        p->split_val = k == 1;
    }
    return 0;
}

static int validate_point(struct raw_params *raw, struct api_params *p, struct http_problem *err)
{
    struct raw_value *v = raw->v;
    uint64_t given = raw->given;
    if (GIVEN(B))
        p->b = v[P_B].num;
    if (GIVEN(W))
        p->w = v[P_W].num;
    if (GIVEN(SNAP))
        p->snap = v[P_SNAP].flag;
    if (GIVEN(DELTA)) {
        if (v[P_DELTA].num == 0.0)
            return problem_set(err, HTTP_E_OUT_OF_RANGE, "delta", "delta must be non-zero");
        p->delta = v[P_DELTA].num;
    }
    return 0;
}

static int validate_train(struct raw_params *raw, struct api_params *p,
                          const struct api_limits *lim, struct http_problem *err)
{
    struct raw_value *v = raw->v;
    uint64_t given = raw->given;
    char limit[64];
    if (GIVEN(LR)) {
        size_t n = v[P_LR].list_len;
        if (n < 1 || n > lim->max_lrs)
            return problem_set(err, HTTP_E_OUT_OF_RANGE, "lr",
                               "lr takes between 1 and %zu learning rates (the server's "
                               "--max-lrs); got %zu",
                               lim->max_lrs, n);
        for (size_t k = 0; k < n; k++)
            if (!(v[P_LR].list[k] > 0.0) || !isfinite(v[P_LR].list[k]))
                return problem_set(err, HTTP_E_OUT_OF_RANGE, "lr",
                                   "every learning rate must be finite and > 0; lr[%zu] is %s", k,
                                   NUM(v[P_LR].list[k]));
        free(p->lr);
        take_list(&v[P_LR], &p->lr, &p->n_lr);
    }
    if (GIVEN(EPOCHS)) {
        snprintf(limit, sizeof(limit), " (the server's --max-epochs)");
        if (check_int(P_EPOCHS, v[P_EPOCHS].num, 1, (double)lim->max_epochs, limit, err))
            return -1;
        p->epochs = (uint64_t)v[P_EPOCHS].num;
    } else if (p->epochs > lim->max_epochs) {
        p->epochs = lim->max_epochs;
    }
    if (GIVEN(B0))
        p->b0 = v[P_B0].num;
    if (GIVEN(W0))
        p->w0 = v[P_W0].num;
    if (GIVEN(OPTIMIZER)) {
        static const char *const names[] = {"gd"};
        int k = 0;
        if (check_word(P_OPTIMIZER, v[P_OPTIMIZER].word, names, 1, "gd", &k, err))
            return -1;
    }
    if (GIVEN(HISTORY)) {
        snprintf(limit, sizeof(limit), " (the server's --max-history)");
        if (check_int(P_HISTORY, v[P_HISTORY].num, 0, (double)lim->max_history, limit, err))
            return -1;
        p->history = (size_t)v[P_HISTORY].num;
    } else if (p->history > lim->max_history) {
        p->history = lim->max_history; /* the default (1001) yields to a lower --max-history */
    }
    if (GIVEN(TOL)) {
        if (!(v[P_TOL].num >= 0.0))
            return problem_set(err, HTTP_E_OUT_OF_RANGE, "tol", "tol must be >= 0; got %s",
                               NUM(v[P_TOL].num));
        p->tol = v[P_TOL].num;
    }
    return 0;
#undef GIVEN
}

static int set_defaults(struct api_params *p, unsigned groups, enum gd_scaler_kind default_scaler,
                        struct http_problem *err)
{
    memset(p, 0, sizeof(*p));
    p->groups = groups;
    gd_dataset_params_default(&p->data);
    p->scaler = default_scaler;
    p->b_steps = 101;
    p->w_steps = 101;
    p->snap = true;
    p->delta = 0.12;
    p->epochs = 1000;
    p->history = 1001;
    p->tol = 0.0;
    p->n_lr = 1;
    p->lr = malloc(sizeof(*p->lr));
    if (!p->lr)
        return problem_set(err, HTTP_E_OUT_OF_MEMORY, NULL, "out of memory");
    p->lr[0] = 0.1;
    return 0;
}

static void raw_free(struct raw_params *raw)
{
    for (int id = 0; id < P_COUNT; id++)
        free(raw->v[id].list);
}

static int validate_format(struct raw_params *raw, struct api_params *p, struct http_problem *err)
{
    if (!((raw->given >> P_FORMAT) & 1u))
        return 0;
    static const char *const names[] = {"json", "csv"};
    int k = 0;
    if (check_word(P_FORMAT, raw->v[P_FORMAT].word, names, 2, "json, csv", &k, err))
        return -1;
    p->csv = k == 1;
    return 0;
}

static int validate(struct raw_params *raw, struct api_params *p, const struct api_limits *lim,
                    struct http_problem *err)
{
    p->given = raw->given;
    if (validate_data(raw, p, lim, err))
        return -1;
    if ((p->groups & PG_GRID) && validate_grid(raw, p, lim, err))
        return -1;
    if ((p->groups & PG_POINT) && validate_point(raw, p, err))
        return -1;
    if ((p->groups & PG_TRAIN) && validate_train(raw, p, lim, err))
        return -1;
    if ((p->groups & PG_FORMAT) && validate_format(raw, p, err))
        return -1;
    return 0;
}

static int note_given(struct raw_params *raw, enum param_id id, struct http_problem *err)
{
    if ((raw->given >> id) & 1u)
        return problem_set(err, HTTP_E_INVALID_PARAMETER, param_table[id].name,
                           "%s is given more than once", param_table[id].name);
    raw->given |= UINT64_C(1) << id;
    return 0;
}

int params_from_query(struct api_params *out, unsigned groups, enum gd_scaler_kind default_scaler,
                      const struct query_arg *args, size_t n_args, const struct api_limits *lim,
                      struct http_problem *err)
{
    struct raw_params raw = {0};
    int rc = set_defaults(out, groups, default_scaler, err);
    for (size_t k = 0; rc == 0 && k < n_args; k++) {
        enum param_id id = P_COUNT;
        rc = find_param(args[k].key, groups, &id, err);
        if (rc == 0)
            rc = note_given(&raw, id, err);
        if (rc == 0)
            rc = parse_query_value(id, args[k].value, &raw.v[id], err);
    }
    if (rc == 0)
        rc = validate(&raw, out, lim, err);
    raw_free(&raw);
    if (rc != 0)
        params_free(out);
    return rc;
}

void params_global_init(void)
{
    json_object_seed(0); /* 0: from /dev/urandom, else the time and pid */
}

/* The deepest nesting of arrays and objects in a JSON text, counting no further than past max;
 * brackets inside strings do not count. The text need not be valid: the parser judges that. */
static size_t json_depth(const char *text, size_t len, size_t max)
{
    size_t depth = 0, deepest = 0;
    bool in_string = false;
    for (size_t i = 0; i < len && deepest <= max; i++) {
        char c = text[i];
        if (in_string) {
            if (c == '\\')
                i++; /* the escaped character, whatever it is */
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > deepest)
                deepest = depth;
        } else if ((c == ']' || c == '}') && depth > 0) {
            depth--;
        }
    }
    return deepest;
}

int params_from_json(struct api_params *out, unsigned groups, enum gd_scaler_kind default_scaler,
                     const char *body, size_t len, const struct api_limits *lim,
                     struct http_problem *err)
{
    struct raw_params raw = {0};
    json_error_t jerr;
    int rc = set_defaults(out, groups, default_scaler, err);
    if (rc != 0)
        return rc;
    if (json_depth(body, len, JSON_DEPTH_MAX) > JSON_DEPTH_MAX) {
        rc = problem_set(err, HTTP_E_MALFORMED_JSON, NULL,
                         "the body nests arrays and objects more than %d levels deep (the limit; "
                         "parameters need two)",
                         JSON_DEPTH_MAX);
        goto out_free_params;
    }
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (!root) {
        rc = problem_set(err, HTTP_E_MALFORMED_JSON, NULL,
                         "the body is not valid JSON: %s (line %d, column %d)", jerr.text,
                         jerr.line, jerr.column);
        goto out_free_params;
    }
    if (!json_is_object(root)) {
        rc = problem_set(err, HTTP_E_BODY_NOT_OBJECT, NULL,
                         "the body must be a JSON object of parameters; got %s",
                         json_type_name(root));
        goto out_free_root;
    }
    const char *key;
    json_t *value;
    json_object_foreach(root, key, value)
    {
        enum param_id id = P_COUNT;
        rc = find_param(key, groups, &id, err);
        if (rc == 0)
            rc = note_given(&raw, id, err);
        if (rc == 0)
            rc = parse_json_value(id, value, &raw.v[id], err);
        if (rc != 0)
            goto out_free_root;
    }
    rc = validate(&raw, out, lim, err);

out_free_root:
    raw_free(&raw);
    json_decref(root);
out_free_params:
    if (rc != 0)
        params_free(out);
    return rc;
}

void params_free(struct api_params *p)
{
    free(p->x);
    free(p->y);
    free(p->lr);
    p->x = p->y = p->lr = NULL;
}

void params_write(struct jw *w, const struct api_params *p)
{
    jw_key(w, "params");
    jw_object_begin(w);
    jw_key_uint(w, "seed", p->data.seed);
    jw_key_uint(w, "n", p->data.n);
    jw_key_double(w, "true_b", p->data.true_b);
    jw_key_double(w, "true_w", p->data.true_w);
    jw_key_double(w, "noise", p->data.noise);
    jw_key_double(w, "x_multiplier", p->data.x_multiplier);
    jw_key_double(w, "train_fraction", p->data.train_fraction);
    jw_key_string(w, "scaler", gd_scaler_name(p->scaler));
    if (p->x) {
        jw_key(w, "x");
        jw_double_array(w, p->x, p->data.n);
        jw_key(w, "y");
        jw_double_array(w, p->y, p->data.n);
    }
    if (p->groups & PG_GRID) {
        jw_key_double(w, "b_min", p->b_min);
        jw_key_double(w, "b_max", p->b_max);
        jw_key_double(w, "w_min", p->w_min);
        jw_key_double(w, "w_max", p->w_max);
        jw_key_uint(w, "b_steps", p->b_steps);
        jw_key_uint(w, "w_steps", p->w_steps);
        jw_key_string(w, "split", p->split_val ? "val" : "train");
    }
    if (p->groups & PG_POINT) {
        jw_key_double(w, "b", p->b);
        jw_key_double(w, "w", p->w);
        jw_key_bool(w, "snap", p->snap);
        jw_key_double(w, "delta", p->delta);
    }
    if (p->groups & PG_TRAIN) {
        jw_key(w, "lr");
        jw_double_array(w, p->lr, p->n_lr);
        jw_key_uint(w, "epochs", p->epochs);
        jw_key_double(w, "b0", p->b0);
        jw_key_double(w, "w0", p->w0);
        jw_key_string(w, "optimizer", "gd");
        jw_key_uint(w, "history", p->history);
        jw_key_double(w, "tol", p->tol);
    }
    jw_object_end(w);
}

void params_write_names(struct jw *w, unsigned groups)
{
    jw_array_begin(w);
    for (int id = 0; id < P_COUNT; id++)
        if (param_table[id].group & groups)
            jw_string(w, param_table[id].name);
    jw_array_end(w);
}
