/*
 * The parameter table and everything that reads it but the syntax: defaults, range checks, the
 * checks across parameters, and the echo. A parse (parse.c) first turns every pair the client sent
 * into a raw value by the row's type; api_params_validate then walks the table in order, checks
 * and lands each given value, lets a default above its server limit yield to it, and runs a row's
 * cross-check after it, so that the first offending parameter in table order is the one named.
 */
#include "api/param_row.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encode/sha256.h"
#include "gdlab/optim.h"
#include "gdlab/scale.h"

/* The words of the WORD parameters; a value lands as its index. */
static const char *const scaler_words[] = {"none", "standard", "minmax", NULL};
static const char *const split_words[] = {"train", "val", NULL};
/* in the order of the core's enum gd_optimizer, enum gd_schedule_kind, enum gd_history_unit */
static const char *const optimizer_words[] = {"gd",      "momentum", "nesterov", "adagrad",
                                              "rmsprop", "adam",     "adamw",    NULL};
static const char *const schedule_words[] = {"constant", "step",     "exponential",
                                             "cosine",   "onecycle", NULL};
static const char *const history_unit_words[] = {"epoch", "step", NULL};
static const char *const spacing_words[] = {"log", "linear", NULL};
static const char *const step_mode_words[] = {"exp", "linear", NULL};
static const char *const format_words[] = {"json", "csv", "npz", NULL};
_Static_assert(GD_OPT_COUNT == 7 && GD_OPT_ADAMW == 6 && GD_SCHED_ONECYCLE == 4 &&
                   GD_HISTORY_STEP == 1,
               "word lists in the order of the core's enums");
_Static_assert(GD_SCALER_NONE == 0 && GD_SCALER_STANDARD == 1 && GD_SCALER_MINMAX == 2,
               "scaler words are in the order of enum gd_scaler_kind");

const struct param_row api_param_rows[P_COUNT] = {
#define API_PARAM_ROW(id, name_, type_, endpoints_, field, ...)                                    \
    [P_##id] = {.name = name_,                                                                     \
                .type = PT_##type_,                                                                \
                .endpoints = endpoints_,                                                           \
                .at = offsetof(struct api_params, field),                                          \
                __VA_ARGS__},
    API_PARAM_TABLE(API_PARAM_ROW)
#undef API_PARAM_ROW
};
_Static_assert(P_COUNT <= 64, "the given bits fit a uint64_t");

#define GIVEN(raw, id) (((raw)->given >> (id)) & 1u)
#define WORD_SHOW_MAX 40

void api_limits_default(struct api_limits *lim)
{
    lim->max_n = 1000000;
    lim->max_grid_points = 4000000;
    lim->max_epochs = 10000000;
    lim->max_history = 100000;
    lim->max_lrs = 16;
    lim->max_runs = 16;
    lim->max_body = 64u << 20;
}

const char *api_param_name(enum api_param_id id)
{
    return (unsigned)id < P_COUNT ? api_param_rows[id].name : "?";
}

bool api_param_taken(enum api_param_id id, unsigned endpoint)
{
    return (unsigned)id < P_COUNT && (api_param_rows[id].endpoints & endpoint);
}

/* ---- limits ------------------------------------------------------------------------------- */

/* The largest value a limit allows. */
static double limit_max(enum api_limit limit, const struct api_limits *lim)
{
    switch (limit) {
    case API_LIMIT_N:
        return (double)lim->max_n;
    case API_LIMIT_MAP_STEPS:
        return (double)lim->max_grid_points; /* gd's map has one row */
    case API_LIMIT_GRID_STEPS:
        return (double)(lim->max_grid_points / 2); /* the other axis takes at least 2 */
    case API_LIMIT_EPOCHS:
        return (double)lim->max_epochs;
    case API_LIMIT_HISTORY:
        return (double)lim->max_history;
    case API_LIMIT_LRS:
        return (double)lim->max_lrs;
    case API_LIMIT_RUNS:
        return (double)lim->max_runs;
    case API_LIMIT_NONE:
        break;
    }
    return INFINITY;
}

/* What a range error says of the limit: the flag that sets it. */
static void limit_note(enum api_limit limit, const struct api_limits *lim, char *buf, size_t cap)
{
    static const char *const flags[] = {[API_LIMIT_N] = "--max-n",
                                        [API_LIMIT_EPOCHS] = "--max-epochs",
                                        [API_LIMIT_HISTORY] = "--max-history",
                                        [API_LIMIT_LRS] = "--max-lrs",
                                        [API_LIMIT_RUNS] = "--max-runs"};
    if (limit == API_LIMIT_NONE)
        buf[0] = '\0';
    else if (limit == API_LIMIT_MAP_STEPS)
        snprintf(buf, cap, " (lr_steps * momentum_steps <= %zu, the server's --max-grid-points)",
                 lim->max_grid_points);
    else if (limit == API_LIMIT_GRID_STEPS)
        snprintf(buf, cap, " (b_steps * w_steps <= %zu, the server's --max-grid-points)",
                 lim->max_grid_points);
    else
        snprintf(buf, cap, " (the server's %s)", flags[limit]);
}

/* ---- landing values in their fields --------------------------------------------------------- */

static void *field(struct api_params *p, enum api_param_id id)
{
    return (char *)p + api_param_rows[id].at;
}

static const void *cfield(const struct api_params *p, enum api_param_id id)
{
    return (const char *)p + api_param_rows[id].at;
}

/* A number into an integer, double or bool field. */
static void land_number(struct api_params *p, enum api_param_id id, double v)
{
    void *f = field(p, id);
    switch (api_param_rows[id].type) {
    case PT_U32:
        *(uint32_t *)f = (uint32_t)v;
        break;
    case PT_SIZE:
        *(size_t *)f = (size_t)v;
        break;
    case PT_U64:
        *(uint64_t *)f = (uint64_t)v;
        break;
    case PT_NUM:
        *(double *)f = v;
        break;
    case PT_BOOL:
        *(bool *)f = v != 0.0;
        break;
    case PT_WORD:
        *(int *)f = (int)v;
        break;
    case PT_WORDS:
        ((struct api_words *)f)->v[0] = (int)v;
        ((struct api_words *)f)->n = 1;
        break;
    case PT_LIST:
    case PT_DATA:
        break;
    }
}

/* The value of an integer field. */
static uint64_t integer_of(const struct api_params *p, enum api_param_id id)
{
    const void *f = cfield(p, id);
    switch (api_param_rows[id].type) {
    case PT_U32:
        return *(const uint32_t *)f;
    case PT_SIZE:
        return *(const size_t *)f;
    default:
        return *(const uint64_t *)f;
    }
}

/* Hand a raw list to its field, releasing what the field held. */
static void land_list_take(struct api_params *p, enum api_param_id id, struct raw_value *v)
{
    struct api_list *l = field(p, id);
    free(l->v);
    l->v = v->list;
    l->n = v->list_len;
    v->list = NULL;
    v->list_len = 0;
}

int api_params_init(struct api_params *p, unsigned endpoint, int default_scaler,
                    struct api_problem *prob)
{
    memset(p, 0, sizeof(*p));
    p->endpoint = endpoint;
    for (int id = 0; id < P_COUNT; id++) {
        const struct param_row *row = &api_param_rows[id];
        if (row->type == PT_LIST) {
            struct api_list *l = field(p, id);
            l->v = malloc(sizeof(*l->v));
            if (!l->v)
                return api_problem_set(prob, API_PROBLEM_OUT_OF_MEMORY, NULL, "out of memory");
            l->v[0] = row->def;
            l->n = 1;
        } else if (row->type != PT_DATA) {
            land_number(p, id, row->def);
        }
    }
    p->scaler = default_scaler;
    return 0;
}

void api_params_free(struct api_params *p)
{
    for (int id = 0; id < P_COUNT; id++) {
        if (api_param_rows[id].type == PT_LIST || api_param_rows[id].type == PT_DATA) {
            struct api_list *l = field(p, id);
            free(l->v);
            l->v = NULL;
            l->n = 0;
        }
    }
}

void api_raw_free(struct raw_params *raw)
{
    for (int id = 0; id < P_COUNT; id++) {
        free(raw->v[id].list);
        for (size_t k = 0; k < raw->v[id].n_words; k++)
            free(raw->v[id].words[k]);
        free(raw->v[id].words);
    }
}

/* ---- checks of one value ------------------------------------------------------------------ */

static int check_integer(enum api_param_id id, double v, const struct api_limits *lim,
                         struct api_problem *prob)
{
    const struct param_row *row = &api_param_rows[id];
    char note[96];
    double hi = row->limit != API_LIMIT_NONE ? limit_max(row->limit, lim) : row->max;
    if (v != floor(v))
        return api_problem_set(prob, API_PROBLEM_INVALID_PARAMETER, row->name,
                               "%s must be an integer; got %s", row->name, NUM(v));
    if (v < row->min || v > hi) {
        limit_note(row->limit, lim, note, sizeof(note));
        return api_problem_set(prob, API_PROBLEM_OUT_OF_RANGE, row->name,
                               "%s must be between %.0f and %.0f%s; got %.0f", row->name, row->min,
                               hi, note, v);
    }
    return 0;
}

static int check_number(enum api_param_id id, double v, struct api_problem *prob)
{
    const char *name = api_param_rows[id].name;
    switch (api_param_rows[id].range) {
    case R_NONNEG:
        if (!(v >= 0.0))
            return api_problem_set(prob, API_PROBLEM_OUT_OF_RANGE, name, "%s must be >= 0; got %s",
                                   name, NUM(v));
        break;
    case R_POSITIVE:
        if (!(v > 0.0))
            return api_problem_set(prob, API_PROBLEM_OUT_OF_RANGE, name, "%s must be > 0; got %s",
                                   name, NUM(v));
        break;
    case R_NONZERO:
        if (v == 0.0)
            return api_problem_set(prob, API_PROBLEM_OUT_OF_RANGE, name, "%s must be non-zero",
                                   name);
        break;
    case R_AT_LEAST:
        if (!(v >= api_param_rows[id].min))
            return api_problem_set(prob, API_PROBLEM_OUT_OF_RANGE, name, "%s must be >= %s; got %s",
                                   name, NUM(api_param_rows[id].min), NUM(v));
        break;
    case R_UNIT:
        if (!(v >= 0.0 && v < 1.0))
            return api_problem_set(prob, API_PROBLEM_OUT_OF_RANGE, name,
                                   "%s must be in [0, 1); got %s", name, NUM(v));
        break;
    case R_ANY:
        break;
    }
    return 0;
}

/* The index of word among the row's words. */
static int check_word(enum api_param_id id, const char *word, int *index, struct api_problem *prob)
{
    const struct param_row *row = &api_param_rows[id];
    char choices[256];
    size_t len = 0;
    choices[0] = '\0';
    for (int k = 0; row->words[k]; k++) {
        if (strcmp(word, row->words[k]) == 0) {
            *index = k;
            return 0;
        }
        len += (size_t)snprintf(choices + len, sizeof(choices) - len, "%s%s", k ? ", " : "",
                                row->words[k]);
    }
    return api_problem_set(prob, API_PROBLEM_INVALID_PARAMETER, row->name,
                           "%s must be one of %s; got '%.*s'", row->name, choices, WORD_SHOW_MAX,
                           word);
}

/* Check a given value against its row and land it. */
static int check_and_land(struct raw_params *raw, struct api_params *p, enum api_param_id id,
                          const struct api_limits *lim, struct api_problem *prob)
{
    struct raw_value *v = &raw->v[id];
    int index = 0;
    switch (api_param_rows[id].type) {
    case PT_U32:
    case PT_SIZE:
    case PT_U64:
        if (check_integer(id, v->num, lim, prob))
            return -1;
        land_number(p, id, v->num);
        return 0;
    case PT_NUM:
        if (check_number(id, v->num, prob))
            return -1;
        land_number(p, id, v->num);
        return 0;
    case PT_BOOL:
        land_number(p, id, v->flag);
        return 0;
    case PT_WORD:
        if (check_word(id, v->word, &index, prob))
            return -1;
        land_number(p, id, index);
        return 0;
    case PT_WORDS: {
        struct api_words *words = field(p, id);
        if (v->n_words < 1 || v->n_words > API_WORDS_MAX)
            return api_problem_set(prob, API_PROBLEM_OUT_OF_RANGE, api_param_rows[id].name,
                                   "%s takes between 1 and %d names; got %zu",
                                   api_param_rows[id].name, API_WORDS_MAX, v->n_words);
        for (size_t k = 0; k < v->n_words; k++)
            if (check_word(id, v->words[k], &words->v[k], prob))
                return -1;
        words->n = v->n_words;
        return 0;
    }
    case PT_LIST:
    case PT_DATA:
        land_list_take(p, id, v);
        return 0;
    }
    return api_problem_set(prob, API_PROBLEM_INTERNAL, api_param_rows[id].name,
                           "unhandled parameter type");
}

int api_params_validate(struct raw_params *raw, struct api_params *p, const struct api_limits *lim,
                        struct api_problem *prob)
{
    p->given = raw->given;
    for (int i = 0; i < P_COUNT; i++) {
        enum api_param_id id = (enum api_param_id)i;
        const struct param_row *row = &api_param_rows[id];
        if (!(row->endpoints & p->endpoint))
            continue;
        if (GIVEN(raw, id)) {
            if (check_and_land(raw, p, id, lim, prob))
                return -1;
        } else if (row->clamp && (double)integer_of(p, id) > limit_max(row->limit, lim)) {
            land_number(p, id, limit_max(row->limit, lim)); /* a default yields to the limit */
        }
        if (row->check && row->check(raw, p, lim, prob))
            return -1;
    }
    return 0;
}

/* ---- the echo ------------------------------------------------------------------------------ */

static bool echoed(const struct api_params *p, enum api_param_id id)
{
    const struct param_row *row = &api_param_rows[id];
    if (!(row->endpoints & p->endpoint) || row->echo == ECHO_NEVER)
        return false;
    if (row->echo == ECHO_IF && row->echo_if(p))
        return true;
    return row->echo == ECHO_ALWAYS || api_param_given(p, id);
}

void api_params_write(struct jw *w, const struct api_params *p)
{
    jw_key(w, "params");
    jw_object_begin(w);
    for (int id = 0; id < P_COUNT; id++) {
        if (!echoed(p, id))
            continue;
        const struct param_row *row = &api_param_rows[id];
        const void *f = cfield(p, id);
        switch (row->type) {
        case PT_U32:
        case PT_SIZE:
        case PT_U64:
            jw_key_uint(w, row->name, integer_of(p, id));
            break;
        case PT_NUM:
            jw_key_double(w, row->name, *(const double *)f);
            break;
        case PT_BOOL:
            jw_key_bool(w, row->name, *(const bool *)f);
            break;
        case PT_WORD:
            jw_key_string(w, row->name, row->words[*(const int *)f]);
            break;
        case PT_WORDS: {
            /* one word as a string (the echo of a request that named one), several as an array */
            const struct api_words *words = f;
            jw_key(w, row->name);
            if (words->n == 1) {
                jw_string(w, row->words[words->v[0]]);
                break;
            }
            jw_array_begin(w);
            for (size_t k = 0; k < words->n; k++)
                jw_string(w, row->words[words->v[k]]);
            jw_array_end(w);
            break;
        }
        case PT_LIST:
        case PT_DATA: {
            const struct api_list *l = f;
            jw_key(w, row->name);
            if (row->type == PT_DATA && l->n > API_ECHO_INLINE_MAX) {
                jw_object_begin(w);
                jw_key_uint(w, "length", l->n);
                jw_key_string(w, "sha256", l->sha256);
                jw_object_end(w);
                break;
            }
            jw_double_array(w, l->v, l->n);
            break;
        }
        }
    }
    jw_object_end(w);
}

uint64_t api_params_data_defaults_given(const struct api_params *p)
{
    uint64_t mask = 0;
    for (int id = 0; id < P_COUNT; id++)
        if (api_param_rows[id].from_data)
            mask |= UINT64_C(1) << id;
    return p->given & mask;
}

void api_params_write_names(struct jw *w, unsigned endpoint)
{
    jw_array_begin(w);
    for (int id = 0; id < P_COUNT; id++)
        if (api_param_rows[id].endpoints & endpoint)
            jw_string(w, api_param_rows[id].name);
    jw_array_end(w);
}
