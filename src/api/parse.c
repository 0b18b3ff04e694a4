/*
 * The syntax of parameters: every pair the client sent is matched to its row of the table and
 * converted by the row's type into a raw value, the same way for both sources except for the
 * source's own syntax (a query string's "0.2,0.8" is a JSON body's [0.2, 0.8]); a JSON value of
 * the wrong type is an error, never coerced. param.c then checks the raw values and lands them.
 */
#define _POSIX_C_SOURCE 200809L /* strndup */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/param_row.h"
#include "encode/npz.h"

#define WORD_SHOW_MAX 40
/* A parameter body nests two levels ({"lr": [...]}); jansson's own limit is 2048, each level a
 * recursive call, so deeper bodies are refused before jansson sees them. */
#define JSON_DEPTH_MAX 32

/* Comma-separated names of the parameters an endpoint takes, for "unknown parameter" details. */
static void accepted_names(unsigned endpoint, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int id = 0; id < P_COUNT; id++) {
        if (!(api_param_rows[id].endpoints & endpoint))
            continue;
        int n = snprintf(buf + len, cap - len, "%s%s", len ? ", " : "", api_param_rows[id].name);
        if (n < 0 || (size_t)n >= cap - len)
            return;
        len += (size_t)n;
    }
}

static int find_param(const char *key, unsigned endpoint, enum api_param_id *id,
                      struct api_problem *prob)
{
    for (int i = 0; i < P_COUNT; i++) {
        if (strcmp(api_param_rows[i].name, key) == 0 && (api_param_rows[i].endpoints & endpoint)) {
            *id = (enum api_param_id)i;
            return 0;
        }
    }
    char names[512];
    accepted_names(endpoint, names, sizeof(names));
    return api_problem_set(prob, API_PROBLEM_UNKNOWN_PARAMETER, key,
                           "unknown parameter '%.*s'; this endpoint accepts: %s", API_PARAM_MAX,
                           key, names);
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
                              struct api_problem *prob)
{
    char buf[64];
    if (len == 0)
        return api_problem_set(prob, API_PROBLEM_INVALID_PARAMETER, name,
                               "%s is empty; expected a number", name);
    if (len >= sizeof(buf) || !is_decimal(s, len))
        return api_problem_set(prob, API_PROBLEM_INVALID_PARAMETER, name,
                               "%s must be a finite decimal number; got '%.*s'", name,
                               WORD_SHOW_MAX, s);
    memcpy(buf, s, len);
    buf[len] = '\0';
    double v = strtod(buf, NULL);
    if (!isfinite(v))
        return api_problem_set(prob, API_PROBLEM_OUT_OF_RANGE, name,
                               "%s must be a finite number; got '%s'", name, buf);
    *out = v;
    return 0;
}

/* Append a copy of word[0..len) to a raw word list (its length is checked with the rest). */
static int words_append(struct raw_value *v, const char *word, size_t len, struct api_problem *prob)
{
    char **words = realloc(v->words, (v->n_words + 1) * sizeof(*words));
    if (!words)
        return api_problem_set(prob, API_PROBLEM_OUT_OF_MEMORY, NULL, "out of memory");
    v->words = words;
    v->words[v->n_words] = strndup(word, len);
    if (!v->words[v->n_words])
        return api_problem_set(prob, API_PROBLEM_OUT_OF_MEMORY, NULL, "out of memory");
    v->n_words++;
    return 0;
}

static int parse_query_value(enum api_param_id id, const char *s, struct raw_value *v,
                             struct api_problem *prob)
{
    const char *name = api_param_rows[id].name;
    if (!s)
        return api_problem_set(prob, API_PROBLEM_INVALID_PARAMETER, name,
                               "%s needs a value (%s=...)", name, name);
    switch (api_param_rows[id].type) {
    case PT_NUM:
    case PT_U32:
    case PT_SIZE:
    case PT_U64:
        return number_from_string(name, s, strlen(s), &v->num, prob);
    case PT_BOOL:
        if (strcmp(s, "true") == 0 || strcmp(s, "1") == 0)
            v->flag = true;
        else if (strcmp(s, "false") == 0 || strcmp(s, "0") == 0)
            v->flag = false;
        else
            return api_problem_set(prob, API_PROBLEM_INVALID_PARAMETER, name,
                                   "%s must be true or false; got '%.*s'", name, WORD_SHOW_MAX, s);
        return 0;
    case PT_WORD:
        v->word = s;
        return 0;
    case PT_WORDS:
        for (const char *item = s;; item++) {
            size_t len = strcspn(item, ",");
            if (words_append(v, item, len, prob))
                return -1;
            item += len;
            if (!*item)
                return 0;
        }
    case PT_LIST: {
        size_t count = 1;
        for (const char *c = s; *c; c++)
            count += *c == ',';
        v->list = malloc(count * sizeof(*v->list));
        if (!v->list)
            return api_problem_set(prob, API_PROBLEM_OUT_OF_MEMORY, NULL, "out of memory");
        v->list_len = count;
        const char *item = s;
        for (size_t k = 0; k < count; k++) {
            const char *comma = strchr(item, ',');
            size_t len = comma ? (size_t)(comma - item) : strlen(item);
            if (number_from_string(name, item, len, &v->list[k], prob) != 0)
                return -1;
            item += len + 1;
        }
        return 0;
    }
    case PT_DATA:
        return api_problem_set(prob, API_PROBLEM_INVALID_PARAMETER, name,
                               "%s is inline data and is accepted only in a POST JSON body", name);
    }
    return api_problem_set(prob, API_PROBLEM_INTERNAL, name, "unhandled parameter kind");
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
                        struct api_problem *prob)
{
    size_t n = json_array_size(j);
    v->list = malloc((n ? n : 1) * sizeof(*v->list));
    if (!v->list)
        return api_problem_set(prob, API_PROBLEM_OUT_OF_MEMORY, NULL, "out of memory");
    v->list_len = n;
    for (size_t k = 0; k < n; k++) {
        const json_t *item = json_array_get(j, k);
        if (!json_is_number(item))
            return api_problem_set(prob, API_PROBLEM_INVALID_PARAMETER, name,
                                   "%s[%zu] must be a number; got %s", name, k,
                                   json_type_name(item));
        v->list[k] = json_number_value(item);
    }
    return 0;
}

static int parse_json_value(enum api_param_id id, const json_t *j, struct raw_value *v,
                            struct api_problem *prob)
{
    const char *name = api_param_rows[id].name;
    switch (api_param_rows[id].type) {
    case PT_NUM:
    case PT_U32:
    case PT_SIZE:
    case PT_U64:
        if (!json_is_number(j))
            return api_problem_set(prob, API_PROBLEM_INVALID_PARAMETER, name,
                                   "%s must be a number; got %s", name, json_type_name(j));
        v->num = json_number_value(j);
        return 0;
    case PT_BOOL:
        if (!json_is_boolean(j))
            return api_problem_set(prob, API_PROBLEM_INVALID_PARAMETER, name,
                                   "%s must be true or false; got %s", name, json_type_name(j));
        v->flag = json_is_true(j);
        return 0;
    case PT_WORDS:
        if (json_is_string(j))
            return words_append(v, json_string_value(j), json_string_length(j), prob);
        if (!json_is_array(j))
            return api_problem_set(prob, API_PROBLEM_INVALID_PARAMETER, name,
                                   "%s must be a string or an array of strings; got %s", name,
                                   json_type_name(j));
        for (size_t k = 0; k < json_array_size(j); k++) {
            const json_t *item = json_array_get(j, k);
            if (!json_is_string(item))
                return api_problem_set(prob, API_PROBLEM_INVALID_PARAMETER, name,
                                       "%s[%zu] must be a string; got %s", name, k,
                                       json_type_name(item));
            if (words_append(v, json_string_value(item), json_string_length(item), prob))
                return -1;
        }
        return 0;
    case PT_WORD:
        if (!json_is_string(j))
            return api_problem_set(prob, API_PROBLEM_INVALID_PARAMETER, name,
                                   "%s must be a string; got %s", name, json_type_name(j));
        v->word = json_string_value(j);
        return 0;
    case PT_LIST:
        if (json_is_number(j)) {
            v->list = malloc(sizeof(*v->list));
            if (!v->list)
                return api_problem_set(prob, API_PROBLEM_OUT_OF_MEMORY, NULL, "out of memory");
            v->list[0] = json_number_value(j);
            v->list_len = 1;
            return 0;
        }
        if (!json_is_array(j))
            return api_problem_set(prob, API_PROBLEM_INVALID_PARAMETER, name,
                                   "%s must be a number or an array of numbers; got %s", name,
                                   json_type_name(j));
        return json_numbers(name, j, v, prob);
    case PT_DATA:
        if (!json_is_array(j))
            return api_problem_set(prob, API_PROBLEM_INVALID_PARAMETER, name,
                                   "%s must be an array of numbers; got %s", name,
                                   json_type_name(j));
        return json_numbers(name, j, v, prob);
    }
    return api_problem_set(prob, API_PROBLEM_INTERNAL, name, "unhandled parameter kind");
}

static int note_given(struct raw_params *raw, enum api_param_id id, struct api_problem *prob)
{
    if ((raw->given >> id) & 1u)
        return api_problem_set(prob, API_PROBLEM_INVALID_PARAMETER, api_param_rows[id].name,
                               "%s is given more than once", api_param_rows[id].name);
    raw->given |= UINT64_C(1) << id;
    return 0;
}

/* A query string's pairs into raw values. */
static int query_to_raw(unsigned endpoint, const struct api_query_arg *args, size_t n_args,
                        struct raw_params *raw, struct api_problem *prob)
{
    int rc = 0;
    for (size_t k = 0; rc == 0 && k < n_args; k++) {
        enum api_param_id id = P_COUNT;
        rc = find_param(args[k].key, endpoint, &id, prob);
        if (rc == 0)
            rc = note_given(raw, id, prob);
        if (rc == 0)
            rc = parse_query_value(id, args[k].value, &raw->v[id], prob);
    }
    return rc;
}

int api_params_from_query(struct api_params *out, unsigned endpoint, int default_scaler,
                          const struct api_query_arg *args, size_t n_args,
                          const struct api_limits *lim, struct api_problem *prob)
{
    struct raw_params raw = {0};
    int rc = api_params_init(out, endpoint, default_scaler, prob);
    if (rc == 0)
        rc = query_to_raw(endpoint, args, n_args, &raw, prob);
    if (rc == 0)
        rc = api_params_validate(&raw, out, lim, prob);
    api_raw_free(&raw);
    if (rc != 0)
        api_params_free(out);
    return rc;
}

/* ---- from an .npz body ----------------------------------------------------------------- */

/* x.npy and y.npy of an archive into the raw values of x and y; their lengths, finiteness and
 * --max-n are checked with the table's rows like a JSON body's. */
static int npz_to_raw(const char *body, size_t len, struct raw_params *raw,
                      struct api_problem *prob)
{
    static const char *const names[] = {"x", "y"};
    static const enum api_param_id ids[] = {P_X, P_Y};
    double *v[2];
    size_t n[2];
    char err[256];
    int which = -1;
    int rc = npz_read_f8(body, len, names, 2, v, n, err, sizeof(err), &which);
    if (rc == -2)
        return api_problem_set(prob, API_PROBLEM_OUT_OF_MEMORY, NULL,
                               "out of memory reading the npz body");
    if (rc != 0)
        return api_problem_set(prob, API_PROBLEM_MALFORMED_NPZ, which >= 0 ? names[which] : NULL,
                               "%s", err);
    for (int i = 0; i < 2; i++) {
        raw->v[ids[i]].list = v[i];
        raw->v[ids[i]].list_len = n[i];
        raw->given |= UINT64_C(1) << ids[i];
    }
    return 0;
}

int api_params_from_npz(struct api_params *out, unsigned endpoint, int default_scaler,
                        const struct api_query_arg *args, size_t n_args, const char *body,
                        size_t len, const struct api_limits *lim, struct api_problem *prob)
{
    struct raw_params raw = {0};
    int rc = api_params_init(out, endpoint, default_scaler, prob);
    if (rc == 0)
        rc = query_to_raw(endpoint, args, n_args, &raw, prob);
    if (rc == 0)
        rc = npz_to_raw(body, len, &raw, prob);
    if (rc == 0)
        rc = api_params_validate(&raw, out, lim, prob);
    api_raw_free(&raw);
    if (rc != 0)
        api_params_free(out);
    return rc;
}

void api_params_global_init(void)
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

int api_params_from_json(struct api_params *out, unsigned endpoint, int default_scaler,
                         const char *body, size_t len, const struct api_limits *lim,
                         struct api_problem *prob)
{
    struct raw_params raw = {0};
    json_error_t jerr;
    int rc = api_params_init(out, endpoint, default_scaler, prob);
    if (rc != 0)
        return rc;
    if (json_depth(body, len, JSON_DEPTH_MAX) > JSON_DEPTH_MAX) {
        rc = api_problem_set(
            prob, API_PROBLEM_MALFORMED_JSON, NULL,
            "the body nests arrays and objects more than %d levels deep (the limit; "
            "parameters need two)",
            JSON_DEPTH_MAX);
        goto out_free_params;
    }
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (!root) {
        rc = api_problem_set(prob, API_PROBLEM_MALFORMED_JSON, NULL,
                             "the body is not valid JSON: %s (line %d, column %d)", jerr.text,
                             jerr.line, jerr.column);
        goto out_free_params;
    }
    if (!json_is_object(root)) {
        rc = api_problem_set(prob, API_PROBLEM_BODY_NOT_OBJECT, NULL,
                             "the body must be a JSON object of parameters; got %s",
                             json_type_name(root));
        goto out_free_root;
    }
    const char *key;
    json_t *value;
    json_object_foreach(root, key, value)
    {
        enum api_param_id id = P_COUNT;
        rc = find_param(key, endpoint, &id, prob);
        if (rc == 0)
            rc = note_given(&raw, id, prob);
        if (rc == 0)
            rc = parse_json_value(id, value, &raw.v[id], prob);
        if (rc != 0)
            goto out_free_root;
    }
    rc = api_params_validate(&raw, out, lim, prob);

out_free_root:
    api_raw_free(&raw);
    json_decref(root);
out_free_params:
    if (rc != 0)
        api_params_free(out);
    return rc;
}
