/*
 * The parameter parser in-process, driven by the same data as the live error-table test
 * (error_cases.json, which test_errors.py sends to a real server): every case that the API layer
 * decides without a socket is parsed here as the adapter would hand it over (a GET's decoded
 * query pairs, a POST's body bytes), computed when parsing accepts it, and must end in the
 * problem the live test expects: status, type, param and the detail's fragment. Cases only the
 * adapter can decide (routing, methods, media types, body sizes, framing, deadlines) are skipped
 * by a named reason and counted. param_cases.json adds valid inputs and the exact bytes of their
 * "params" echo.
 *
 * argv[1] is the directory holding error_cases.json, param_cases.json and test_errors.py.
 */
#include <check.h>
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/endpoint.h"
#include "api/param.h"
#include "api/problem.h"
#include "encode/json_writer.h"

#ifndef GDLAB_API_TEST_DIR
#define GDLAB_API_TEST_DIR "."
#endif

/* Fewer checked error cases than this means the classification went wrong, not that the file
 * shrank: the file holds well over a hundred. */
#define MIN_CHECKED 70
/* The adapter refuses a query with more pairs than this (src/http/internal.h). */
#define ADAPTER_MAX_QUERY_ARGS 64

static const char *data_dir = GDLAB_API_TEST_DIR;

/* ---- the servers the cases name ---------------------------------------------------------------
 */

/* The "small" server's flags, as test_errors.py's SMALL_LIMITS passes them; small_limits_match
 * checks that the two lists still agree. */
static const struct small_flag {
    const char *flag;
    const char *value;
    size_t offset;
} small_flags[] = {
    {"--max-n", "50", offsetof(struct api_limits, max_n)},
    {"--max-grid-points", "100", offsetof(struct api_limits, max_grid_points)},
    {"--max-epochs", "10", offsetof(struct api_limits, max_epochs)},
    {"--max-history", "5", offsetof(struct api_limits, max_history)},
    {"--max-lrs", "2", offsetof(struct api_limits, max_lrs)},
    {"--max-runs", "3", offsetof(struct api_limits, max_runs)},
    {"--max-body", "1000", offsetof(struct api_limits, max_body)},
};
#define N_SMALL_FLAGS (sizeof(small_flags) / sizeof(small_flags[0]))

static struct api_limits default_limits, small_limits;

static void limits_init(void)
{
    api_limits_default(&default_limits);
    small_limits = default_limits;
    for (size_t i = 0; i < N_SMALL_FLAGS; i++) {
        unsigned long long v = strtoull(small_flags[i].value, NULL, 10);
        char *field = (char *)&small_limits + small_flags[i].offset;
        if (small_flags[i].offset == offsetof(struct api_limits, max_epochs))
            *(uint64_t *)field = v;
        else
            *(size_t *)field = (size_t)v;
    }
}

/* The limits of a case's server; NULL for "late" (a deadline needs a clock) or an unknown name. */
static const struct api_limits *server_limits(const json_t *c)
{
    const char *server = json_string_value(json_object_get(c, "server"));
    if (!server || strcmp(server, "default") == 0)
        return &default_limits;
    if (strcmp(server, "small") == 0)
        return &small_limits;
    return NULL;
}

static char *read_text(const char *name)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", data_dir, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *text = NULL;
    size_t len = 0, cap = 0, n;
    char chunk[4096];
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (len + n + 1 > cap) {
            cap = 2 * (len + n + 1);
            char *grown = realloc(text, cap);
            if (!grown) {
                free(text);
                fclose(f);
                return NULL;
            }
            text = grown;
        }
        memcpy(text + len, chunk, n);
        len += n;
    }
    fclose(f);
    if (text)
        text[len] = '\0';
    return text;
}

/* test_errors.py's SMALL_LIMITS = [...] holds exactly the flag/value pairs of small_flags. */
START_TEST(small_limits_match)
{
    char *py = read_text("test_errors.py");
    ck_assert_msg(py != NULL, "cannot read %s/test_errors.py", data_dir);
    const char *list = strstr(py, "SMALL_LIMITS = [");
    ck_assert_msg(list != NULL, "test_errors.py has no SMALL_LIMITS = [");
    const char *end = strchr(list, ']');
    ck_assert_ptr_nonnull(end);
    /* the quoted strings of the list, in order: flag, value, flag, value, ... */
    const char *words[2 * N_SMALL_FLAGS + 1];
    size_t lens[2 * N_SMALL_FLAGS + 1], n = 0;
    for (const char *q = strchr(list, '"'); q && q < end; q = strchr(q, '"')) {
        const char *close = strchr(q + 1, '"');
        ck_assert_msg(close && close < end, "unbalanced quote in SMALL_LIMITS");
        ck_assert_msg(n < 2 * N_SMALL_FLAGS + 1, "SMALL_LIMITS has more flags than this test");
        words[n] = q + 1;
        lens[n++] = (size_t)(close - q - 1);
        q = close + 1;
    }
    ck_assert_msg(n == 2 * N_SMALL_FLAGS, "SMALL_LIMITS has %zu strings, this test mirrors %zu", n,
                  2 * N_SMALL_FLAGS);
    for (size_t i = 0; i < N_SMALL_FLAGS; i++) {
        bool found = false;
        for (size_t k = 0; k + 1 < n; k += 2)
            if (lens[k] == strlen(small_flags[i].flag) &&
                memcmp(words[k], small_flags[i].flag, lens[k]) == 0) {
                found = true;
                ck_assert_msg(lens[k + 1] == strlen(small_flags[i].value) &&
                                  memcmp(words[k + 1], small_flags[i].value, lens[k + 1]) == 0,
                              "SMALL_LIMITS gives %s '%.*s', this test mirrors '%s'",
                              small_flags[i].flag, (int)lens[k + 1], words[k + 1],
                              small_flags[i].value);
            }
        ck_assert_msg(found, "SMALL_LIMITS lacks %s", small_flags[i].flag);
    }
    free(py);
}
END_TEST

/* ---- a request as the adapter hands it to the API layer ---------------------------------------
 */

struct request {
    char label[160];
    bool post;
    const char *method;
    const struct api_endpoint *endpoint; /* NULL: not a computing endpoint */
    bool has_query;
    struct api_query_arg args[ADAPTER_MAX_QUERY_ARGS + 1];
    size_t n_args; /* up to ADAPTER_MAX_QUERY_ARGS + 1: one past means too many */
    char *query;   /* the decoded pairs point into it */
    char *body;    /* exactly body_len bytes, not NUL-terminated, as the adapter buffers it */
    size_t body_len;
    bool has_body;
    bool npz; /* a POST of an .npz body (Content-Type: application/x-npz), the rest in the query */
    char path[256];
};

/* A data file or memory fault outside any assertion (cases are also read before the tests run):
 * say what and stop, with the exit status of a suite that could not run. */
static void need(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "test_params: %s\n", what);
        exit(2);
    }
}

static int hex_digit(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* libmicrohttpd's decoding of a query key or value, in place: '+' is a space, then %XX is a byte
 * (%00 becomes 0x7f, as http_unescape makes it, so that no value is cut short). */
static void unescape(char *s)
{
    char *out = s;
    for (const char *in = s; *in;) {
        int hi, lo;
        if (in[0] == '%' && (hi = hex_digit(in[1])) >= 0 && (lo = hex_digit(in[2])) >= 0) {
            int v = hi * 16 + lo;
            *out++ = v == 0 ? (char)0x7f : (char)v;
            in += 3;
        } else {
            *out++ = *in == '+' ? ' ' : *in;
            in++;
        }
    }
    *out = '\0';
}

/* Split a query at '&' and each pair at its first '='; a key without '=' has a NULL value. */
static void split_query(struct request *rq, const char *query)
{
    size_t len = strlen(query);
    rq->query = malloc(len + 1);
    need(rq->query != NULL, "out of memory");
    memcpy(rq->query, query, len + 1);
    if (!*rq->query)
        return;
    for (char *pair = rq->query; pair;) {
        char *amp = strchr(pair, '&');
        if (amp)
            *amp = '\0';
        char *eq = strchr(pair, '=');
        if (eq)
            *eq = '\0';
        unescape(pair);
        if (eq)
            unescape(eq + 1);
        if (rq->n_args <= ADAPTER_MAX_QUERY_ARGS)
            rq->args[rq->n_args++] = (struct api_query_arg){pair, eq ? eq + 1 : NULL};
        pair = amp ? amp + 1 : NULL;
    }
}

static void set_body(struct request *rq, const char *text, size_t len)
{
    rq->has_body = true;
    rq->body_len = len;
    rq->body = malloc(len ? len : 1);
    need(rq->body != NULL, "out of memory");
    memcpy(rq->body, text, len);
}

/* The request a case describes, as test_errors.py sends it. */
static void request_from_case(struct request *rq, const json_t *c)
{
    memset(rq, 0, sizeof(*rq));
    const char *target = json_string_value(json_object_get(c, "get"));
    rq->method = "GET";
    if (!target) {
        rq->method = json_string_value(json_object_get(c, "method"));
        target = json_string_value(json_object_get(c, "path"));
    }
    need(rq->method && target, "a case needs 'get', or 'method' and 'path'");
    rq->post = strcmp(rq->method, "POST") == 0;
    const char *ct = json_string_value(json_object_get(c, "content_type"));
    rq->npz = rq->post && ct && strcmp(ct, "application/x-npz") == 0;
    const char *q = strchr(target, '?');
    size_t path_len = q ? (size_t)(q - target) : strlen(target);
    need(path_len < sizeof(rq->path), "a case's path is too long");
    memcpy(rq->path, target, path_len);
    rq->path[path_len] = '\0';
    rq->endpoint = api_endpoint_find(rq->path);
    rq->has_query = q != NULL;
    split_query(rq, q ? q + 1 : "");

    const json_t *body = json_object_get(c, "body");
    const json_t *raw = json_object_get(c, "raw");
    const json_t *pad = json_object_get(c, "pad");
    if (body) {
        char *text = json_dumps(body, JSON_ENCODE_ANY);
        need(text != NULL, "out of memory");
        set_body(rq, text, strlen(text));
        free(text);
    } else if (raw) {
        set_body(rq, json_string_value(raw), json_string_length(raw));
    } else if (pad) {
        size_t n = (size_t)json_integer_value(pad);
        char *text = malloc(n + 12);
        need(text != NULL, "out of memory");
        memcpy(text, "{\"seed\": 1", 10);
        memset(text + 10, ' ', n);
        text[10 + n] = '}';
        set_body(rq, text, n + 11);
        free(text);
    } else if (rq->post) {
        set_body(rq, "", 0); /* the adapter hands an empty body as "" */
    }
    snprintf(rq->label, sizeof(rq->label), "%s %s%s%.*s", rq->method, target,
             rq->has_body ? " " : "",
             rq->has_body ? (int)(rq->body_len < 80 ? rq->body_len : 80) : 0,
             rq->has_body ? rq->body : "");
}

static void request_free(struct request *rq)
{
    free(rq->query);
    free(rq->body);
}

/* Parse as the adapter's parse step does; 0 or -1 with *prob. */
static int parse(const struct request *rq, const struct api_limits *lim, struct api_params *p,
                 struct api_problem *prob)
{
    const struct api_endpoint *e = rq->endpoint;
    if (rq->npz)
        return api_params_from_npz(p, e->bit, e->default_scaler, rq->args, rq->n_args, rq->body,
                                   rq->body_len, lim, prob);
    if (rq->post)
        return api_params_from_json(p, e->bit, e->default_scaler, rq->body, rq->body_len, lim,
                                    prob);
    return api_params_from_query(p, e->bit, e->default_scaler, rq->args, rq->n_args, lim, prob);
}

/* ---- which cases the API layer decides ------------------------------------------------------ */

enum skip_reason {
    CHECKED,
    SKIP_LATE,
    SKIP_CHUNKED,
    SKIP_METHOD,
    SKIP_NOT_ENDPOINT,
    SKIP_POST_QUERY,
    SKIP_MEDIA_TYPE,
    SKIP_BODY_SIZE,
    SKIP_QUERY_ARGS,
    SKIP_FRAMING,
    N_REASONS
};

static const char *const reason_text[N_REASONS] = {
    [CHECKED] = "checked in-process",
    [SKIP_LATE] = "skipped: 'late' server (a deadline needs a clock)",
    [SKIP_CHUNKED] = "skipped: chunked body (adapter)",
    [SKIP_METHOD] = "skipped: method other than GET/POST, 405 (adapter)",
    [SKIP_NOT_ENDPOINT] = "skipped: not a computing endpoint, 404/405 (adapter)",
    [SKIP_POST_QUERY] = "skipped: POST with a query string (adapter)",
    [SKIP_MEDIA_TYPE] = "skipped: Content-Type not application/json, 415 (adapter)",
    [SKIP_BODY_SIZE] = "skipped: body over --max-body, 413 (adapter)",
    [SKIP_QUERY_ARGS] = "skipped: too many query parameters (adapter)",
    [SKIP_FRAMING] = "skipped: malformed request framing (adapter)",
};

/* Why the API layer cannot decide a case alone, or CHECKED; by what the request is, not by the
 * answer expected, so that a case the layer should decide is never skipped for its answer. */
static enum skip_reason classify(const json_t *c, const struct request *rq)
{
    const char *server = json_string_value(json_object_get(c, "server"));
    if (server && strcmp(server, "late") == 0)
        return SKIP_LATE;
    if (json_is_true(json_object_get(c, "chunked")))
        return SKIP_CHUNKED;
    const char *type = json_string_value(json_object_get(c, "type"));
    if (json_object_get(c, "headers") || (type && strcmp(type, "malformed-request") == 0))
        return SKIP_FRAMING;
    if (strcmp(rq->method, "GET") != 0 && !rq->post)
        return SKIP_METHOD;
    if (!rq->endpoint)
        return SKIP_NOT_ENDPOINT;
    if (rq->post && rq->has_query && !rq->npz)
        return SKIP_POST_QUERY;
    const json_t *ct = json_object_get(c, "content_type");
    if (rq->post && ct && !rq->npz &&
        (!json_is_string(ct) || strcmp(json_string_value(ct), "application/json") != 0))
        return SKIP_MEDIA_TYPE;
    const struct api_limits *lim = server_limits(c);
    if (rq->post && lim && rq->body_len > lim->max_body)
        return SKIP_BODY_SIZE;
    if (rq->n_args > ADAPTER_MAX_QUERY_ARGS)
        return SKIP_QUERY_ARGS;
    return CHECKED;
}

/* ---- the error cases ------------------------------------------------------------------------ */

static json_t *error_cases, *param_cases;
static size_t *checked; /* indices into error_cases of the cases checked here */
static size_t n_checked;

START_TEST(enough_cases_checked)
{
    ck_assert_msg(n_checked >= MIN_CHECKED, "only %zu error cases checked in-process (want >= %d)",
                  n_checked, MIN_CHECKED);
}
END_TEST

START_TEST(error_case)
{
    const json_t *c = json_array_get(error_cases, checked[_i]);
    struct request rq;
    request_from_case(&rq, c);
    const struct api_limits *lim = server_limits(c);
    ck_assert_msg(lim != NULL, "case %zu names an unknown server", checked[_i]);

    struct api_params p;
    struct api_problem prob;
    memset(&p, 0, sizeof(p));
    memset(&prob, 0, sizeof(prob));
    const char *stage = "parse";
    int rc = parse(&rq, lim, &p, &prob);
    if (rc == 0) {
        /* accepted: the error must be one found at compute time */
        stage = "compute";
        struct jw w;
        jw_init(&w, 0);
        rc = rq.endpoint->compute(&p, NULL, &w, &prob);
        jw_free(&w);
    }
    api_params_free(&p);

    long want_status = (long)json_integer_value(json_object_get(c, "status"));
    const char *want_type = json_string_value(json_object_get(c, "type"));
    const json_t *want_param = json_object_get(c, "param");
    const char *want_detail = json_string_value(json_object_get(c, "detail"));
    ck_assert_msg(rc != 0, "%s: accepted by parse and compute, want %ld %s", rq.label, want_status,
                  want_type);
    ck_assert_msg(api_problem_status(prob.type) == want_status && want_type &&
                      strcmp(api_problem_slug(prob.type), want_type) == 0,
                  "%s: %s gave %d %s (%s), want %ld %s", rq.label, stage,
                  api_problem_status(prob.type), api_problem_slug(prob.type), prob.detail,
                  want_status, want_type);
    if (json_is_null(want_param))
        ck_assert_msg(prob.param[0] == '\0', "%s: param '%s', want none (%s)", rq.label, prob.param,
                      prob.detail);
    else
        ck_assert_msg(strcmp(prob.param, json_string_value(want_param)) == 0,
                      "%s: param '%s', want '%s' (%s)", rq.label, prob.param,
                      json_string_value(want_param), prob.detail);
    ck_assert_msg(prob.detail[0] != '\0', "%s: empty detail", rq.label);
    if (want_detail)
        ck_assert_msg(strstr(prob.detail, want_detail) != NULL, "%s: detail '%s' lacks '%s'",
                      rq.label, prob.detail, want_detail);
    request_free(&rq);
}
END_TEST

/* ---- valid inputs and their echo ------------------------------------------------------------ */

/* Parse, compute (which resolves the defaults that come from the data), then the echo written
 * alone must be the expected bytes, and the answer must carry the same echo. */
START_TEST(valid_case)
{
    const json_t *c = json_array_get(json_object_get(param_cases, "cases"), _i);
    struct request rq;
    request_from_case(&rq, c);
    const struct api_limits *lim = server_limits(c);
    const char *want = json_string_value(json_object_get(c, "params"));
    ck_assert_msg(lim && want && rq.endpoint,
                  "valid case %d: needs a known server, a computing "
                  "endpoint and its \"params\" text",
                  _i);

    struct api_params p;
    struct api_problem prob;
    memset(&p, 0, sizeof(p));
    ck_assert_msg(parse(&rq, lim, &p, &prob) == 0, "%s: parse refused it: %s %s (%s)", rq.label,
                  api_problem_slug(prob.type), prob.param, prob.detail);
    struct jw answer;
    jw_init(&answer, 0);
    ck_assert_msg(rq.endpoint->compute(&p, NULL, &answer, &prob) == 0,
                  "%s: compute refused it: %s %s (%s)", rq.label, api_problem_slug(prob.type),
                  prob.param, prob.detail);

    struct jw echo;
    jw_init(&echo, 0);
    jw_object_begin(&echo);
    api_params_write(&echo, &p);
    jw_object_end(&echo);
    ck_assert(!echo.oom && !answer.oom);
    /* {"params":<want>} */
    size_t want_len = strlen(want), key_len = strlen("{\"params\":");
    ck_assert_msg(
        echo.len == key_len + want_len + 1 && memcmp(echo.buf + key_len, want, want_len) == 0,
        "%s: echo\n  %.*s\nwant\n  {\"params\":%s}", rq.label, (int)echo.len, echo.buf, want);
    if (p.format == API_FORMAT_JSON) {
        /* the answer's own echo, as the client sees it */
        const char *key = "\"params\":";
        bool found = false;
        for (size_t i = 0; !found && i + strlen(key) + want_len <= answer.len; i++)
            found = memcmp(answer.buf + i, key, strlen(key)) == 0 &&
                    memcmp(answer.buf + i + strlen(key), want, want_len) == 0;
        ck_assert_msg(found, "%s: the answer does not carry the echo", rq.label);
    }
    jw_free(&echo);
    jw_free(&answer);
    api_params_free(&p);
    request_free(&rq);
}
END_TEST

/* ---- the suite ------------------------------------------------------------------------------ */

static json_t *load(const char *name)
{
    char path[4096];
    json_error_t err;
    snprintf(path, sizeof(path), "%s/%s", data_dir, name);
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
    if (!root) {
        fprintf(stderr, "%s: %s (line %d)\n", path, err.text, err.line);
        exit(2);
    }
    if (!json_is_array(json_object_get(root, "cases"))) {
        fprintf(stderr, "%s: no \"cases\" array\n", path);
        exit(2);
    }
    return root;
}

/* Sort the error cases into checked and skipped, and say how many of each. */
static void classify_all(json_t *root)
{
    error_cases = json_object_get(root, "cases");
    size_t n = json_array_size(error_cases);
    size_t count[N_REASONS] = {0};
    checked = calloc(n ? n : 1, sizeof(*checked));
    if (!checked)
        exit(2);
    for (size_t i = 0; i < n; i++) {
        struct request rq;
        request_from_case(&rq, json_array_get(error_cases, i));
        enum skip_reason r = classify(json_array_get(error_cases, i), &rq);
        request_free(&rq);
        count[r]++;
        if (r == CHECKED)
            checked[n_checked++] = i;
    }
    printf("error_cases.json: %zu cases\n", n);
    for (int r = 0; r < N_REASONS; r++)
        if (count[r])
            printf("  %3zu %s\n", count[r], reason_text[r]);
    printf("param_cases.json: %zu valid cases\n",
           json_array_size(json_object_get(param_cases, "cases")));
    fflush(stdout);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        data_dir = argv[1];
    api_params_global_init();
    limits_init();
    json_t *errors = load("error_cases.json");
    param_cases = load("param_cases.json");
    classify_all(errors);

    Suite *s = suite_create("api_params");
    TCase *tc = tcase_create("error_cases");
    tcase_add_test(tc, small_limits_match);
    tcase_add_test(tc, enough_cases_checked);
    tcase_add_loop_test(tc, error_case, 0, (int)n_checked);
    suite_add_tcase(s, tc);
    TCase *valid = tcase_create("valid_cases");
    tcase_add_loop_test(valid, valid_case, 0,
                        (int)json_array_size(json_object_get(param_cases, "cases")));
    suite_add_tcase(s, valid);

    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    free(checked);
    json_decref(errors);
    json_decref(param_cases);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
