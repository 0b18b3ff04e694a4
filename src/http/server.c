/*
 * libmicrohttpd calls the access handler several times per request. The first call only sees the
 * headers: it sets up the request's state and returns, because in 0.9.75 a response queued then
 * marks the connection to be closed afterwards (no keep-alive). Later calls deliver the body in
 * pieces, and the last one (no upload data left) dispatches through the route table and queues the
 * answer. The only answers given on the first call are the ones that refuse a body unread (413
 * from Content-Length, 415), where closing the connection is what we want anyway.
 */
#define _GNU_SOURCE
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "access_log.h"
#include "clock.h"
#include "compress.h"
#include "conn_limit.h" /* connlimit hook */
#include "csv.h"
#include "docs.h"
#include "endpoints.h"
#include "epoll_tick.h" /* connlimit hook */
#include "etag.h"
#include "gdlab/gdlab.h"
#include "head_guard.h"
#include "json_writer.h"
#include "metrics.h"
#include "offload.h"
#include "openapi_doc.h"
#include "reply.h"
#include "response_cache.h"
#include "static_files.h"

#define MAX_QUERY_ARGS 64
#define LOG_PATH_MAX 256
#define STATIC_CACHE_CONTROL "public, max-age=300"
#define INDEX_CACHE_CONTROL "no-cache"
/* Answers are functions of their parameters and the server version (both in the ETag), so shared
 * caches may keep them; an hour bounds how long an upgraded server's old answers live on. */
#define API_CACHE_CONTROL "public, max-age=3600"
/* The document and the explorer page change with the server: always revalidate (ETag). */
#define DOC_CACHE_CONTROL "public, no-cache"
#define DOCS_ASSET_CACHE_CONTROL "public, max-age=86400"
#define CORS_ALLOW_HEADERS "Content-Type, If-None-Match"
#define CORS_EXPOSE_HEADERS "ETag, Content-Encoding"
/* A request estimated to take longer than this (ns) is computed on an offload pool. */
#define OFFLOAD_MIN_COST 1e6
/* The nice value of the pool for long requests while the server is busy with others: busy means
 * at least BUSY_REQUESTS requests started within the last BUSY_WINDOW_NS. */
#define OFFLOAD_BUSY_NICE 10
#define BUSY_REQUESTS 4
#define BUSY_WINDOW_NS 50000000u
/* Allocations from this size on are mmap'd and go back to the system when freed; glibc's default
 * threshold starts at 128 KiB but rises to the largest block freed (up to 32 MiB), after which
 * multi-megabyte answers come from the heaps and leave them fragmented. */
#define MMAP_THRESHOLD (128 * 1024)
/* How often freed heap memory is handed back to the system (malloc_trim). */
#define TRIM_INTERVAL_S 2
/* Each connection's libmicrohttpd memory pool, which holds a request's head and the response's
 * headers, and which libmicrohttpd zeroes after every request: 16 KiB instead of its default 32
 * halves that memset, the largest user-space cost of a small request. Request heads past it get
 * 414 or 431; gdlab's parameters need well under 2 KiB. */
#define CONNECTION_MEMORY (16 * 1024)
/* How long before the end of the shutdown grace long requests are abandoned (at most a quarter of
 * the grace): time to send their 503 answers. */
#define ABANDON_LEAD_NS 250000000u

enum method { M_GET = 1u << 0, M_HEAD = 1u << 1, M_POST = 1u << 2, M_OPTIONS = 1u << 3 };

struct server;
struct request;
typedef void (*route_fn)(struct server *s, struct request *req, struct reply *r);

/* One row per path; prefix routes match everything below their path. */
struct route {
    const char *path;
    bool prefix;
    unsigned methods;
    const char *allow; /* the Allow header for methods */
    route_fn handle;
    endpoint_fn endpoint; /* computing routes only */
    unsigned groups;
    enum gd_scaler_kind default_scaler;
    const char *summary;
};

/* Requests begun and not yet completed, counted per thread (a request begins and completes on
 * the same libmicrohttpd thread) so that the threads never write the same cache line; the total
 * is the sum over the shards. */
#define IN_FLIGHT_SHARDS 8
struct in_flight_shard {
    _Alignas(64) atomic_long n;
};

struct server {
    const struct server_config *cfg;
    struct static_root web;
    struct in_flight_shard in_flight[IN_FLIGHT_SHARDS];
    struct offload *pool;         /* long requests; NULL: all on their connection's thread */
    struct offload *busy_pool;    /* long requests while others are in flight, at lower priority */
    struct response_cache *cache; /* NULL: none */
    struct access_log *log;       /* NULL: no access log */
    struct static_root docs;      /* swagger-ui-dist for /docs/ */
    char docs_etag[ETAG_MAX];     /* of the explorer page, which changes only with the server */
    struct metrics metrics;
    atomic_bool stopping;        /* SIGINT/SIGTERM came: /ready answers 503 */
    struct MHD_Response *health; /* /health's answer, built once; NULL: built per request */
    atomic_bool abandon;         /* the shutdown grace ran out: long requests give up at once */
    uint64_t deadline_ns;        /* --deadline; 0: none */
    /* long requests admitted to the pools and not finished; at most threads + --queue */
    atomic_uint long_requests;
};

/* This thread's in-flight shard: dealt in turn on its first request, then kept. */
static atomic_long *my_in_flight(struct server *s)
{
    static atomic_uint next_shard;
    static _Thread_local int shard = -1;
    if (shard < 0)
        shard = (int)(atomic_fetch_add_explicit(&next_shard, 1, memory_order_relaxed) %
                      IN_FLIGHT_SHARDS);
    return &s->in_flight[shard].n;
}

static long in_flight_total(struct server *s)
{
    long total = 0;
    for (size_t i = 0; i < IN_FLIGHT_SHARDS; i++)
        total += atomic_load_explicit(&s->in_flight[i].n, memory_order_relaxed);
    return total;
}

/* When a request's computation gives up: --deadline after its arrival, or at once when the server
 * abandons requests at the end of its shutdown grace. */
struct request_deadline {
    uint64_t at_ns; /* UINT64_MAX: never */
    const atomic_bool *abandon;
};

/* Per-request state, from the first call of the access handler to the completion callback. */
struct request {
    struct MHD_Connection *conn;
    const struct route *route;
    unsigned method;
    uint64_t start_ns;
    const char *url; /* valid for the request's lifetime */
    char method_name[16];
    char log_path[LOG_PATH_MAX];
    char *body;
    size_t body_len;
    size_t body_cap;
    bool body_overflow;
    bool answered;
    unsigned status;
    uint64_t bytes;
    /* a long request: suspended while the offload pool computes job_reply */
    struct offload_job job;
    struct server *server;
    struct api_params params;
    struct jw key; /* its cache key, when keyed */
    bool keyed;
    bool gzip_ok;        /* the client accepts gzip */
    char etag[ETAG_MAX]; /* of a computing request's answer */
    bool deferred;
    bool job_done;
    struct reply job_reply;
    struct request_deadline deadline;
};

/* ---- routes ------------------------------------------------------------------------------ */

static void handle_index(struct server *s, struct request *req, struct reply *r);
static void handle_health(struct server *s, struct request *req, struct reply *r);
static void handle_api(struct server *s, struct request *req, struct reply *r);
static void handle_static(struct server *s, struct request *req, struct reply *r);
static void handle_problem_type(struct server *s, struct request *req, struct reply *r);
static void handle_ready(struct server *s, struct request *req, struct reply *r);
static void handle_metrics(struct server *s, struct request *req, struct reply *r);
static void handle_openapi(struct server *s, struct request *req, struct reply *r);
static void handle_docs(struct server *s, struct request *req, struct reply *r);
static void handle_docs_asset(struct server *s, struct request *req, struct reply *r);

#define GET_ONLY (M_GET | M_HEAD | M_OPTIONS)
#define GET_POST (M_GET | M_HEAD | M_POST | M_OPTIONS)
#define ALLOW_GET "GET, HEAD, OPTIONS"
#define ALLOW_GET_POST "GET, HEAD, POST, OPTIONS"

static const struct route routes[] = {
    {"/", false, GET_ONLY, ALLOW_GET, handle_index, NULL, 0, GD_SCALER_NONE,
     "this index (JSON), or the web page for browsers"},
    {"/health", false, GET_ONLY, ALLOW_GET, handle_health, NULL, 0, GD_SCALER_NONE,
     "liveness: {\"status\": \"ok\"}"},
    {"/ready", false, GET_ONLY, ALLOW_GET, handle_ready, NULL, 0, GD_SCALER_NONE,
     "readiness: 503 once the server is shutting down"},
    {"/metrics", false, GET_ONLY, ALLOW_GET, handle_metrics, NULL, 0, GD_SCALER_NONE,
     "Prometheus metrics: requests by route and status, latency, in flight, bytes sent"},
    {"/openapi.json", false, GET_ONLY, ALLOW_GET, handle_openapi, NULL, 0, GD_SCALER_NONE,
     "this API's OpenAPI 3.1 document, as JSON"},
    {"/openapi.yaml", false, GET_ONLY, ALLOW_GET, handle_openapi, NULL, 0, GD_SCALER_NONE,
     "this API's OpenAPI 3.1 document, as YAML"},
    {"/docs", false, GET_ONLY, ALLOW_GET, handle_docs, NULL, 0, GD_SCALER_NONE,
     "the interactive API explorer (Swagger UI)"},
    {"/docs/", true, GET_ONLY, ALLOW_GET, handle_docs_asset, NULL, 0, GD_SCALER_NONE,
     "files of the API explorer"},
    {"/dataset", false, GET_POST, ALLOW_GET_POST, handle_api, endpoint_dataset, PG_DATA | PG_FORMAT,
     GD_SCALER_NONE,
     "the synthetic dataset, its split, scaler, statistics and optimum (JSON or CSV)"},
    {"/surface", false, GET_POST, ALLOW_GET_POST, handle_api, endpoint_surface, PG_DATA | PG_GRID,
     GD_SCALER_NONE, "the MSE loss over a (b, w) grid: rows are w, columns b"},
    {"/cross-section", false, GET_POST, ALLOW_GET_POST, handle_api, endpoint_cross_section,
     PG_DATA | PG_GRID | PG_POINT, GD_SCALER_NONE,
     "loss curves through a point with b or w fixed; analytic and geometric gradients"},
    {"/train", false, GET_POST, ALLOW_GET_POST, handle_api, endpoint_train,
     PG_DATA | PG_TRAIN | PG_FORMAT, GD_SCALER_NONE,
     "batch gradient descent for one or several learning rates, and why (JSON, or CSV histories)"},
    {"/scale", false, GET_POST, ALLOW_GET_POST, handle_api, endpoint_scale, PG_DATA,
     GD_SCALER_STANDARD, "feature scaling and its effect on conditioning and learning rates"},
    {"/static/", true, GET_ONLY, ALLOW_GET, handle_static, NULL, 0, GD_SCALER_NONE,
     "files of the web front-end"},
    {"/problems/", true, GET_ONLY, ALLOW_GET, handle_problem_type, NULL, 0, GD_SCALER_NONE,
     "what each error type means (the type URIs of problem documents)"},
};
#define N_ROUTES (sizeof(routes) / sizeof(routes[0]))
_Static_assert(N_ROUTES <= METRICS_MAX_ROUTES, "every route gets its own metrics row");

static const struct route *find_route(const char *url)
{
    for (size_t i = 0; i < N_ROUTES; i++) {
        const struct route *rt = &routes[i];
        if (rt->prefix ? strncmp(url, rt->path, strlen(rt->path)) == 0 : strcmp(url, rt->path) == 0)
            return rt;
    }
    return NULL;
}

static unsigned parse_method(const char *m)
{
    if (strcmp(m, "GET") == 0)
        return M_GET;
    if (strcmp(m, "HEAD") == 0)
        return M_HEAD;
    if (strcmp(m, "POST") == 0)
        return M_POST;
    if (strcmp(m, "OPTIONS") == 0)
        return M_OPTIONS;
    return 0;
}

static void reply_error(struct reply *r, const struct request *req, enum http_error code,
                        const char *param, const char *detail)
{
    struct http_problem p;
    problem_set(&p, code, param, "%s", detail);
    reply_problem(r, &p, req->url);
}

static void reply_json(struct reply *r, struct jw *w)
{
    r->body = jw_take(w, &r->len);
    if (!r->body) {
        struct http_problem p;
        problem_set(&p, HTTP_E_OUT_OF_MEMORY, NULL, "out of memory writing the response");
        reply_problem(r, &p, "");
        return;
    }
    r->status = 200;
    r->content_type = "application/json";
}

/* ---- "/" and /health --------------------------------------------------------------------- */

/* The q of the most specific range in an Accept header that matches type/subtype (0: none). */
static double accept_q(const char *accept, const char *type, const char *subtype)
{
    double best_q = 0.0;
    int best_spec = 0;
    const char *p = accept;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *end = p + strcspn(p, ",");
        const char *semi = memchr(p, ';', (size_t)(end - p));
        const char *range_end = semi ? semi : end;
        while (range_end > p && range_end[-1] == ' ')
            range_end--;
        const char *slash = memchr(p, '/', (size_t)(range_end - p));
        if (slash) {
            size_t tl = (size_t)(slash - p), sl = (size_t)(range_end - slash - 1);
            bool any_type = tl == 1 && *p == '*', any_sub = sl == 1 && slash[1] == '*';
            bool type_ok = any_type || (tl == strlen(type) && strncasecmp(p, type, tl) == 0);
            bool sub_ok =
                any_sub || (sl == strlen(subtype) && strncasecmp(slash + 1, subtype, sl) == 0);
            int spec = any_type ? 1 : any_sub ? 2 : 3;
            if (type_ok && sub_ok && spec > best_spec) {
                double q = 1.0;
                for (const char *a = semi; a && a < end;
                     a = memchr(a + 1, ';', (size_t)(end - a - 1))) {
                    const char *v = a + 1;
                    while (*v == ' ')
                        v++;
                    if ((v[0] == 'q' || v[0] == 'Q') && v[1] == '=')
                        q = strtod(v + 2, NULL);
                }
                best_spec = spec;
                best_q = q;
            }
        }
        p = *end ? end + 1 : end;
    }
    return best_q;
}

static const char *if_none_match(const struct request *req)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "If-None-Match");
}

static void handle_index(struct server *s, struct request *req, struct reply *r)
{
    const char *accept = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Accept");
    r->vary = "Accept";
    if (accept && s->web.usable &&
        accept_q(accept, "text", "html") > accept_q(accept, "application", "json")) {
        static_serve(&s->web, "index.html", if_none_match(req), INDEX_CACHE_CONTROL, req->url, r);
        if (r->status != 404) {
            r->vary = "Accept";
            return;
        }
        reply_discard(r);
        reply_init(r);
        r->vary = "Accept";
    }
    struct jw w;
    jw_init(&w, 4096);
    jw_object_begin(&w);
    jw_key_string(&w, "name", "gdlab");
    jw_key_string(&w, "version", GDLAB_VERSION);
    jw_key_string(&w, "description",
                  "Gradient descent, the learning rate and feature scaling, computed live");
    jw_key(&w, "endpoints");
    jw_array_begin(&w);
    for (size_t i = 0; i < N_ROUTES; i++) {
        const struct route *rt = &routes[i];
        jw_object_begin(&w);
        jw_key_string(&w, "path", rt->path);
        jw_key(&w, "methods");
        jw_array_begin(&w);
        if (rt->methods & M_GET)
            jw_string(&w, "GET");
        if (rt->methods & M_POST)
            jw_string(&w, "POST");
        jw_array_end(&w);
        jw_key_string(&w, "summary", rt->summary);
        if (rt->endpoint) {
            jw_key(&w, "params");
            params_write_names(&w, rt->groups);
        }
        jw_object_end(&w);
    }
    jw_array_end(&w);
    jw_object_end(&w);
    reply_json(r, &w);
    if (r->status != 200)
        return;
    /* the index changes only with the server: a tag of its bytes lets clients revalidate */
    struct etag_hasher h;
    etag_init(&h);
    etag_update(&h, r->body, r->len);
    etag_final(&h, "", r->etag);
    r->cache_control = INDEX_CACHE_CONTROL;
    if (etag_matches(if_none_match(req), r->etag)) {
        free(r->body);
        r->body = NULL;
        r->len = 0;
        r->status = 304;
    }
}

/* /health's answer, the same every time. */
static const char health_body[] = "{\"status\":\"ok\"}";

static void health_reply(struct reply *r)
{
    r->len = sizeof(health_body) - 1;
    r->status = 200;
    r->content_type = "application/json";
    r->cache_control = "no-store";
}

/* /health's answer with a copy of the body of its own; false when out of memory. */
static bool health_reply_copy(struct reply *r)
{
    r->body = malloc(sizeof(health_body) - 1);
    if (!r->body)
        return false;
    memcpy(r->body, health_body, sizeof(health_body) - 1);
    health_reply(r);
    return true;
}

static void handle_health(struct server *s, struct request *req, struct reply *r)
{
    /* Probes and load balancers ask this most: answered with one response built at start-up
     * (a fresh one costs a dozen allocations for its headers), except while draining, when
     * answers carry Connection: close. */
    if (s->health && !atomic_load_explicit(&s->stopping, memory_order_relaxed)) {
        health_reply(r);
        r->prepared = s->health;
        return;
    }
    if (!health_reply_copy(r))
        reply_error(r, req, HTTP_E_OUT_OF_MEMORY, NULL, "out of memory");
}

static void handle_static(struct server *s, struct request *req, struct reply *r)
{
    static_serve(&s->web, req->url + strlen("/static/"), if_none_match(req), STATIC_CACHE_CONTROL,
                 req->url, r);
}

/* The documentation a problem document's type URI points at. */
static void handle_problem_type(struct server *s, struct request *req, struct reply *r)
{
    (void)s;
    enum http_error code;
    if (!http_error_find(req->url + strlen("/problems/"), &code)) {
        reply_error(r, req, HTTP_E_NOT_FOUND, NULL, "no such problem type");
        return;
    }
    struct jw w;
    jw_init(&w, 512);
    jw_object_begin(&w);
    jw_key_string(&w, "type", req->url);
    jw_key_string(&w, "title", http_error_title(code));
    jw_key_uint(&w, "status", (uint64_t)http_error_status(code));
    jw_key_string(&w, "description", http_error_description(code));
    jw_object_end(&w);
    reply_json(r, &w);
}

/* ---- readiness, metrics, the OpenAPI document and its explorer ----------------------------- */

/* A copy of bytes that never change while the server runs, with their ETag: 304 when the client
 * has them already. */
static void reply_bytes(struct reply *r, const struct request *req, const void *data, size_t len,
                        const char *content_type, const char *etag, const char *cache_control)
{
    snprintf(r->etag, sizeof(r->etag), "%s", etag);
    r->cache_control = cache_control;
    r->content_type = content_type;
    if (etag_matches(if_none_match(req), r->etag)) {
        r->status = 304;
        return;
    }
    r->body = malloc(len ? len : 1);
    if (!r->body) {
        reply_error(r, req, HTTP_E_OUT_OF_MEMORY, NULL, "out of memory");
        return;
    }
    memcpy(r->body, data, len);
    r->len = len;
    r->status = 200;
}

static void handle_ready(struct server *s, struct request *req, struct reply *r)
{
    bool stopping = atomic_load(&s->stopping);
    const char *body = stopping ? "{\"status\":\"shutting_down\"}" : "{\"status\":\"ready\"}";
    r->body = strdup(body);
    if (!r->body) {
        reply_error(r, req, HTTP_E_OUT_OF_MEMORY, NULL, "out of memory");
        return;
    }
    r->len = strlen(body);
    r->status = stopping ? 503 : 200;
    r->content_type = "application/json";
    r->cache_control = "no-store";
}

static void handle_metrics(struct server *s, struct request *req, struct reply *r)
{
    struct metrics_gauges g = {in_flight_total(s), atomic_load(&s->long_requests),
                               s->cfg->threads + s->cfg->queue};
    r->body = metrics_render(&s->metrics, &g, GDLAB_VERSION, &r->len);
    if (!r->body) {
        reply_error(r, req, HTTP_E_OUT_OF_MEMORY, NULL, "out of memory writing the metrics");
        return;
    }
    r->status = 200;
    r->content_type = "text/plain; version=0.0.4; charset=utf-8";
    r->cache_control = "no-store";
}

static void handle_openapi(struct server *s, struct request *req, struct reply *r)
{
    (void)s;
    if (strcmp(req->url, "/openapi.yaml") == 0)
        reply_bytes(r, req, gd_openapi_yaml, gd_openapi_yaml_len, "application/yaml",
                    gd_openapi_yaml_etag, DOC_CACHE_CONTROL);
    else
        reply_bytes(r, req, gd_openapi_json, gd_openapi_json_len, "application/json",
                    gd_openapi_json_etag, DOC_CACHE_CONTROL);
}

static void handle_docs(struct server *s, struct request *req, struct reply *r)
{
    reply_bytes(r, req, docs_page_html, docs_page_html_len, "text/html; charset=utf-8",
                s->docs_etag, DOC_CACHE_CONTROL);
}

static void handle_docs_asset(struct server *s, struct request *req, struct reply *r)
{
    const char *name = req->url + strlen("/docs/");
    if (!docs_asset_allowed(name)) {
        reply_error(r, req, HTTP_E_NOT_FOUND, NULL,
                    "no such file of the API explorer; the explorer is at /docs");
        return;
    }
    static_serve(&s->docs, name, if_none_match(req), DOCS_ASSET_CACHE_CONTROL, req->url, r);
}

/* ---- the computing endpoints ------------------------------------------------------------ */

struct query_args {
    struct query_arg args[MAX_QUERY_ARGS];
    size_t count;
    bool overflow;
};

static enum MHD_Result collect_query_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                         const char *value)
{
    (void)kind;
    struct query_args *q = cls;
    if (q->count == MAX_QUERY_ARGS) {
        q->overflow = true;
        return MHD_NO;
    }
    q->args[q->count++] = (struct query_arg){key, value};
    return MHD_YES;
}

/* The cache key of a request: the endpoint, which parameters were given, and all their values. */
static bool api_cache_key(struct jw *key, const struct route *rt, const struct api_params *p,
                          bool gzip_ok)
{
    jw_init(key, 1024);
    jw_object_begin(key);
    jw_key_string(key, "path", rt->path);
    jw_key_uint(key, "given", p->given);
    params_write(key, p);
    jw_key_bool(key, "csv", p->csv);
    jw_key_bool(key, "gzip", gzip_ok);
    jw_object_end(key);
    if (!key->oom)
        return true;
    jw_free(key);
    return false;
}

/* The cache key of a GET as it came: the endpoint, the representation Accept asked for, whether
 * the client takes gzip (the entry holds the body as sent), and the query's pairs in order. A
 * repeated query is answered without even parsing its parameters; a different spelling of the same
 * parameters computes once more and is kept under its own key. */
static bool query_cache_key(struct jw *key, const struct route *rt, bool accept_csv, bool gzip_ok,
                            const struct query_args *q)
{
    jw_init(key, 256);
    jw_array_begin(key);
    jw_string(key, rt->path);
    jw_bool(key, accept_csv);
    jw_bool(key, gzip_ok);
    for (size_t i = 0; i < q->count; i++) {
        jw_string(key, q->args[i].key);
        if (q->args[i].value)
            jw_string(key, q->args[i].value);
        else
            jw_null(key);
    }
    jw_array_end(key);
    if (!key->oom)
        return true;
    jw_free(key);
    return false;
}

/* Parameters whose defaults depend on the data: whether they were given is part of the state. */
#define DATA_DEFAULTS                                                                              \
    ((UINT64_C(1) << P_B_MIN) | (UINT64_C(1) << P_B_MAX) | (UINT64_C(1) << P_W_MIN) |              \
     (UINT64_C(1) << P_W_MAX) | (UINT64_C(1) << P_B) | (UINT64_C(1) << P_W) |                      \
     (UINT64_C(1) << P_B0) | (UINT64_C(1) << P_W0))

/* The strong ETag of a computing answer, from the server version, the endpoint, the
 * representation and the canonical parameters (the typed values as "params" echoes them, plus
 * which data-dependent defaults were left to the server): the same parameters however spelled, by
 * GET or by POST, share it, and it is known before anything is computed. */
static bool api_etag(const struct route *rt, const struct api_params *p, char *out)
{
    struct jw w;
    jw_init(&w, 1024);
    jw_object_begin(&w);
    params_write(&w, p);
    jw_object_end(&w);
    if (w.oom) {
        jw_free(&w);
        out[0] = '\0';
        return false;
    }
    struct etag_hasher h;
    uint64_t defaults = p->given & DATA_DEFAULTS;
    etag_init(&h);
    etag_update_str(&h, GDLAB_VERSION);
    etag_update_str(&h, rt->path);
    etag_update(&h, &defaults, sizeof(defaults));
    etag_update(&h, p->csv ? "csv" : "json", p->csv ? 3 : 4);
    etag_update(&h, w.buf, w.len);
    etag_final(&h, "", out);
    jw_free(&w);
    return true;
}

/* If-None-Match names etag or its gzip variant: *matched is the one it named. */
static bool etag_or_gzip_matches(const char *inm, const char *etag, char *matched)
{
    char gz[ETAG_MAX];
    snprintf(gz, sizeof(gz), "%s", etag);
    etag_add_suffix(gz, "-gz");
    if (etag_matches(inm, gz)) {
        memcpy(matched, gz, sizeof(gz));
        return true;
    }
    if (!etag_matches(inm, etag))
        return false;
    memmove(matched, etag, strlen(etag) + 1); /* matched may be etag itself */
    return true;
}

/* The headers of every computing answer: it may be cached, and /dataset and /train vary with
 * Accept (JSON or CSV). */
static void api_headers(struct reply *r, const struct route *rt)
{
    r->cache_control = API_CACHE_CONTROL;
    r->vary = (rt->groups & PG_FORMAT) ? "Accept" : NULL;
}

/* gzip a body in memory when it gains; a strong ETag then names the gzip variant. */
static void reply_gzip(struct reply *r)
{
    if (r->gzip_decided || r->fd >= 0 || !r->body || r->len < GZIP_MIN_BYTES ||
        !gzip_compressible(r->content_type))
        return;
    r->gzip_decided = true;
    size_t len;
    char *z = gzip_compress(r->body, r->len, &len);
    if (!z)
        return;
    free(r->body);
    r->body = z;
    r->len = len;
    r->gzipped = true;
    if (r->etag[0])
        etag_add_suffix(r->etag, "-gz");
}

/* A cache entry: the answer's ETag (ETAG_MAX bytes, NUL-padded), one byte saying CSV and one
 * saying gzip, then the body as sent. */
#define CACHE_HEAD (ETAG_MAX + 2)

static void cache_put(struct server *s, const struct jw *key, const struct reply *r, bool csv)
{
    if (CACHE_HEAD + r->len > RESPONSE_CACHE_MAX_BODY)
        return;
    char *v = calloc(1, CACHE_HEAD + r->len);
    if (!v)
        return;
    memcpy(v, r->etag, strlen(r->etag));
    v[ETAG_MAX] = csv;
    v[ETAG_MAX + 1] = r->gzipped;
    memcpy(v + CACHE_HEAD, r->body, r->len);
    response_cache_put(s->cache, key->buf, key->len, v, CACHE_HEAD + r->len);
    free(v);
}

/* A cached answer for key into r (304 when If-None-Match names it); false when there is none. */
static bool reply_cached(struct server *s, const struct route *rt, const struct jw *key,
                         const char *inm, struct reply *r)
{
    size_t len;
    char *v = response_cache_get(s->cache, key->buf, key->len, &len);
    if (!v)
        return false;
    if (len < CACHE_HEAD) {
        free(v);
        return false;
    }
    api_headers(r, rt);
    memcpy(r->etag, v, ETAG_MAX);
    r->etag[ETAG_MAX - 1] = '\0';
    if (inm && etag_or_gzip_matches(inm, r->etag, r->etag)) {
        free(v);
        r->status = 304;
        return true;
    }
    r->content_type = v[ETAG_MAX] ? CSV_CONTENT_TYPE : "application/json";
    r->gzipped = v[ETAG_MAX + 1];
    r->gzip_decided = true; /* the entry holds the body as it was sent */
    memmove(v, v + CACHE_HEAD, len - CACHE_HEAD);
    r->body = v;
    r->len = len - CACHE_HEAD;
    r->status = 200;
    return true;
}

/* Roughly how long a request takes, in nanoseconds of a current core: generating the data and its
 * moments, the epochs, and writing the numbers of the answer. */
static double api_cost(const struct route *rt, const struct api_params *p)
{
    double n = (double)p->data.n, cost = 60.0 * n;
    if (rt->endpoint == endpoint_dataset)
        cost += 120.0 * n;
    if (rt->endpoint == endpoint_surface)
        cost += 40.0 * (double)p->b_steps * (double)p->w_steps;
    if (rt->endpoint == endpoint_train)
        cost += (double)p->n_lr * (10.0 * (double)p->epochs + 200.0 * (double)p->history);
    return cost;
}

static bool deadline_expired(void *ctx)
{
    const struct request_deadline *d = ctx;
    return atomic_load_explicit(d->abandon, memory_order_relaxed) || now_ns() >= d->at_ns;
}

/* The detail of a request ended by its deadline: which limit, or the shutdown. */
static void deadline_problem(const struct server *s, struct http_problem *err, bool queued)
{
    if (atomic_load(&s->abandon))
        problem_set(err, HTTP_E_DEADLINE_EXCEEDED, NULL,
                    "the server is shutting down, and this request would not have finished "
                    "within its grace period (--shutdown-grace %u s)",
                    s->cfg->shutdown_grace);
    else
        problem_set(err, HTTP_E_DEADLINE_EXCEEDED, NULL,
                    "the server's compute deadline of %s s (--deadline) passed %s; smaller "
                    "sizes, fewer epochs or fewer learning rates finish sooner",
                    NUM(s->cfg->deadline),
                    queued ? "before the computation started" : "during the computation");
}

/* Compute an answer into r, keep it in the cache under key (when given), gzip it when the client
 * takes gzip (here, so that a long answer is compressed on the offload pool), and release both. */
static void compute_api(struct server *s, const struct route *rt, struct api_params *params,
                        struct request_deadline *deadline, struct jw *key, const char *etag,
                        bool gzip_ok, const char *url, struct reply *r)
{
    struct http_problem err;
    struct jw w;
    struct gd_cancel cancel = {deadline_expired, deadline};
    if (deadline_expired(deadline)) {
        deadline_problem(s, &err, true);
        reply_problem(r, &err, url);
        goto out_free_params;
    }
    jw_init(&w, 0);
    if (rt->endpoint(params, &cancel, &w, &err) != 0) {
        jw_free(&w);
        bool late = err.code == HTTP_E_DEADLINE_EXCEEDED;
        if (late)
            deadline_problem(s, &err, false);
        reply_problem(r, &err, url);
        /* the same request would run out of time again: no Retry-After */
        if (late && !atomic_load(&s->abandon))
            r->retry_after = 0;
    } else {
        reply_json(r, &w);
        if (r->status == 200) {
            if (params->csv)
                r->content_type = CSV_CONTENT_TYPE;
            api_headers(r, rt);
            snprintf(r->etag, sizeof(r->etag), "%s", etag);
            if (gzip_ok)
                reply_gzip(r);
            r->gzip_decided = true;
            if (key)
                cache_put(s, key, r, params->csv);
        }
    }
out_free_params:
    if (key)
        jw_free(key);
    params_free(params);
}

/* On a pool thread: compute, then hand the connection back to libmicrohttpd, which calls the
 * access handler again to send job_reply. req is not touched after the resume. */
static void run_api_job(struct offload_job *job)
{
    struct request *req = (struct request *)((char *)job - offsetof(struct request, job));
    reply_init(&req->job_reply);
    compute_api(req->server, req->route, &req->params, &req->deadline,
                req->keyed ? &req->key : NULL, req->etag, req->gzip_ok, req->url, &req->job_reply);
    atomic_fetch_sub(&req->server->long_requests, 1);
    req->job_done = true;
    MHD_resume_connection(req->conn);
}

/* This thread's count of requests begun since window_start_ns: per thread, so that counting
 * writes no memory shared between cores; each libmicrohttpd thread judges its own load. */
static _Thread_local uint64_t window_start_ns;
static _Thread_local uint32_t window_requests;

/* Count a request begun at now into this thread's window of BUSY_WINDOW_NS. */
static void count_request(uint64_t now)
{
    if (now - window_start_ns > BUSY_WINDOW_NS) {
        window_start_ns = now;
        window_requests = 0;
    }
    window_requests++;
}

/* At least BUSY_REQUESTS requests began on this thread within the last window or two. */
static bool server_busy(void)
{
    return window_requests >= BUSY_REQUESTS && now_ns() - window_start_ns <= 2 * BUSY_WINDOW_NS;
}

static void handle_api(struct server *s, struct request *req, struct reply *r)
{
    const struct route *rt = req->route;
    const struct api_limits *lim = &s->cfg->limits;
    struct http_problem err;
    struct api_params params;
    struct query_args q = {.count = 0};
    MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, collect_query_arg, &q);
    int rc;
    if (q.overflow) {
        reply_error(r, req, HTTP_E_INVALID_PARAMETER, NULL,
                    "too many query parameters (more than 64)");
        return;
    }
    const char *accept = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Accept");
    bool accept_csv = (rt->groups & PG_FORMAT) && accept &&
                      accept_q(accept, "text", "csv") > accept_q(accept, "application", "json");
    const char *inm = req->method == M_POST ? NULL : if_none_match(req);
    req->gzip_ok =
        gzip_accepted(MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Accept-Encoding"));
    /* A GET is looked up by its query as given; a POST (without inline data, whose key would be
     * as large as the data) by its parsed, canonical parameters. */
    struct jw key;
    bool keyed = s->cache && req->method != M_POST &&
                 query_cache_key(&key, rt, accept_csv, req->gzip_ok, &q);
    if (keyed && reply_cached(s, rt, &key, inm, r)) {
        jw_free(&key);
        return;
    }
    if (req->method == M_POST) {
        if (q.count > 0) {
            problem_set(&err, HTTP_E_INVALID_PARAMETER, q.args[0].key,
                        "a POST takes its parameters in the JSON body, not the query string "
                        "(found '%.64s')",
                        q.args[0].key);
            reply_problem(r, &err, req->url);
            return;
        }
        rc = params_from_json(&params, rt->groups, rt->default_scaler, req->body ? req->body : "",
                              req->body_len, lim, &err);
    } else {
        rc = params_from_query(&params, rt->groups, rt->default_scaler, q.args, q.count, lim, &err);
    }
    if (rc != 0) {
        reply_problem(r, &err, req->url);
        goto out_free_params; /* a failed parse leaves params safe to free */
    }
    /* the body is parsed; drop it before the answer is computed */
    free(req->body);
    req->body = NULL;
    if (!param_given(&params, P_FORMAT))
        params.csv = accept_csv;
    /* the client's copy is current: nothing to compute */
    if (api_etag(rt, &params, req->etag) && inm && etag_or_gzip_matches(inm, req->etag, r->etag)) {
        api_headers(r, rt);
        r->status = 304;
        goto out_free_params;
    }

    if (!keyed && s->cache && !params.x) {
        keyed = api_cache_key(&key, rt, &params, req->gzip_ok);
        if (keyed && reply_cached(s, rt, &key, NULL, r))
            goto out_free_params;
    }
    if (s->pool && api_cost(rt, &params) >= OFFLOAD_MIN_COST) {
        /* Past the running threads and the queue, refuse at once: a client told to come back
         * is better off than one whose request would wait behind an unbounded queue. */
        unsigned most = s->cfg->threads + s->cfg->queue;
        if (atomic_fetch_add(&s->long_requests, 1) >= most) {
            atomic_fetch_sub(&s->long_requests, 1);
            problem_set(&err, HTTP_E_OVERLOADED, NULL,
                        "%u long requests are computing or queued, the most this server takes "
                        "(--threads %u plus --queue %u); retry shortly",
                        most, s->cfg->threads, s->cfg->queue);
            reply_problem(r, &err, req->url);
            goto out_free_params;
        }
        req->server = s;
        req->params = params;
        req->keyed = keyed;
        if (keyed)
            req->key = key;
        req->job.run = run_api_job;
        req->deferred = true;
        MHD_suspend_connection(req->conn);
        /* While other requests keep coming, a long one runs at a lower priority, so that on a
         * machine whose cores it fills the short ones still get a core at once (/health p99
         * ~6 ms beside back-to-back 1001x1001 surfaces, 14-500 ms at nice 5). Otherwise it
         * runs at full priority, as fast as the machine's other load lets it. */
        struct offload *pool = server_busy() && s->busy_pool ? s->busy_pool : s->pool;
        if (offload_submit(pool, &req->job))
            return;
        /* the pool is stopping: compute here after all */
        atomic_fetch_sub(&s->long_requests, 1);
        MHD_resume_connection(req->conn);
        req->deferred = false;
    }
    /* compute_api releases the key and the parameters */
    compute_api(s, rt, &params, &req->deadline, keyed ? &key : NULL, req->etag, req->gzip_ok,
                req->url, r);
    return;

out_free_params:
    if (keyed)
        jw_free(&key);
    params_free(&params);
}

/* ---- libmicrohttpd glue --------------------------------------------------------------- */

/* A libmicrohttpd response for a reply to a request of method, with the headers every answer
 * carries; the reply's body or file becomes the response's. NULL when memory runs out. */
static struct MHD_Response *build_response(const struct server *s, unsigned method, struct reply *r,
                                           bool close)
{
    struct MHD_Response *resp;
    /* the body (or, for 304, the one the client holds) could differ with Accept-Encoding; a body
     * too short to compress never does */
    bool varies = r->fd < 0 && ((r->status == 200 && gzip_compressible(r->content_type) &&
                                 (r->gzipped || r->len >= GZIP_MIN_BYTES)) ||
                                (r->status == 304 && r->etag[0]));
    if (r->fd >= 0)
        resp = MHD_create_response_from_fd64(r->fd_size, r->fd);
    else
        resp = MHD_create_response_from_buffer(r->len, r->body, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        reply_discard(r);
        return NULL;
    }
    r->fd = -1;
    r->body = NULL; /* now the response's */
    if (r->content_type)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type);
    if (r->allow)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->allow);
    if (r->cache_control)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, r->cache_control);
    if (r->vary)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, r->vary);
    if (varies)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
    if (r->gzipped)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
    if (close)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    if (r->retry_after) {
        char seconds[24];
        snprintf(seconds, sizeof(seconds), "%u", r->retry_after);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, seconds);
    }
    if (r->etag[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, r->etag);
    if (r->last_modified[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_LAST_MODIFIED, r->last_modified);
    if (s->cfg->cors_origin) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCESS_CONTROL_ALLOW_ORIGIN,
                                s->cfg->cors_origin);
        if (strcmp(s->cfg->cors_origin, "*") != 0)
            MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, "Origin");
        if (method == M_OPTIONS && r->allow) {
            MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCESS_CONTROL_ALLOW_METHODS, r->allow);
            MHD_add_response_header(resp, "Access-Control-Allow-Headers", CORS_ALLOW_HEADERS);
            MHD_add_response_header(resp, "Access-Control-Max-Age", "86400");
        } else if (r->etag[0] || r->gzipped) {
            /* a page's script may read these; an answer without them has nothing to expose */
            MHD_add_response_header(resp, "Access-Control-Expose-Headers", CORS_EXPOSE_HEADERS);
        }
    }
    return resp;
}

/* Queue a reply: its prepared response when it has one, else one built for it. */
static enum MHD_Result send_reply(struct server *s, struct request *req, struct reply *r)
{
    /* a cached or small answer not compressed yet (long ones were, on the offload pool) */
    if (!r->prepared && r->status == 200 && !r->gzip_decided && r->fd < 0 &&
        r->len >= GZIP_MIN_BYTES &&
        gzip_accepted(MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Accept-Encoding")))
        reply_gzip(r);
    req->bytes = r->fd >= 0 ? r->fd_size : r->len;
    req->status = r->status;
    req->answered = true;
    if (r->prepared)
        return MHD_queue_response(req->conn, r->status, r->prepared);
    /* while draining, keep-alive clients are sent away so that the connections can close */
    bool close = r->close || atomic_load_explicit(&s->stopping, memory_order_relaxed);
    struct MHD_Response *resp = build_response(s, req->method, r, close);
    if (!resp)
        return MHD_NO;
    enum MHD_Result ret = MHD_queue_response(req->conn, r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* OPTIONS, and a CORS preflight: send_reply adds the Access-Control-Allow-* headers. */
static void handle_options(struct request *req, struct reply *r)
{
    r->status = 204;
    r->allow = req->route->allow;
}

/* A media type of application/json or application/<something>+json, parameters ignored. */
static bool is_json_media_type(const char *ct)
{
    if (!ct)
        return false;
    while (*ct == ' ')
        ct++;
    size_t len = strcspn(ct, ";");
    while (len > 0 && ct[len - 1] == ' ')
        len--;
    if (len == 16 && strncasecmp(ct, "application/json", 16) == 0)
        return true;
    return len > 17 && strncasecmp(ct, "application/", 12) == 0 &&
           strncasecmp(ct + len - 5, "+json", 5) == 0;
}

/* The headers that say where a request's body ends, and Host. */
struct framing {
    unsigned content_length;
    unsigned transfer_encoding;
    const char *te;
    bool host;
};

static enum MHD_Result count_framing(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    (void)kind;
    struct framing *f = cls;
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
        f->content_length++;
    } else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
        f->transfer_encoding++;
        f->te = value ? value : "";
    } else if (strcasecmp(key, MHD_HTTP_HEADER_HOST) == 0) {
        f->host = true;
    }
    return MHD_YES;
}

/* Framing that a proxy in front of us might read differently (request smuggling; RFC 9112
 * sections 6.1-6.3) is refused and the connection closed, before any body is read. Returns the
 * reason, or NULL when the framing is unambiguous. */
static const char *framing_problem(struct MHD_Connection *conn, const char *version,
                                   unsigned method, char *buf, size_t cap)
{
    struct framing f = {0, 0, NULL, false};
    MHD_get_connection_values(conn, MHD_HEADER_KIND, count_framing, &f);
    bool http11 = version && strcmp(version, MHD_HTTP_VERSION_1_1) == 0;
    if (f.content_length > 1)
        return "more than one Content-Length header: the body's length is ambiguous";
    if (f.transfer_encoding > 1)
        return "more than one Transfer-Encoding header";
    if (f.transfer_encoding && f.content_length)
        return "both Content-Length and Transfer-Encoding: the body's length is ambiguous";
    if (f.transfer_encoding) {
        if (!http11)
            return "Transfer-Encoding is not defined before HTTP/1.1";
        const char *te = f.te;
        size_t len = strlen(te);
        while (len > 0 && (*te == ' ' || *te == '\t'))
            te++, len--;
        while (len > 0 && (te[len - 1] == ' ' || te[len - 1] == '\t'))
            len--;
        if (len != 7 || strncasecmp(te, "chunked", 7) != 0) {
            snprintf(buf, cap, "Transfer-Encoding '%.64s' is not supported; only chunked is", f.te);
            return buf;
        }
        if (method != M_POST)
            return "a body (Transfer-Encoding) on a request whose method takes none";
    }
    if (http11 && !f.host)
        return "an HTTP/1.1 request must carry a Host header";
    return NULL;
}

/* The first call: decide what can be decided from the headers alone. Returns true when a reply
 * was made (the request is refused before its body is read). */
static bool check_headers(struct server *s, struct request *req, const char *version,
                          struct reply *r)
{
    char why_buf[160];
    const char *why = framing_problem(req->conn, version, req->method, why_buf, sizeof(why_buf));
    if (why) {
        struct http_problem p;
        problem_set(&p, HTTP_E_MALFORMED_REQUEST, NULL, "%s", why);
        reply_problem(r, &p, req->url);
        r->close = true;
        return true;
    }
    if (!req->route || req->method != M_POST)
        return false;
    const char *cl =
        MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl) {
        char *end;
        errno = 0;
        unsigned long long len = strtoull(cl, &end, 10);
        if (errno == 0 && end != cl && len > s->cfg->limits.max_body) {
            struct http_problem p;
            problem_set(&p, HTTP_E_BODY_TOO_LARGE, NULL,
                        "the body is %llu bytes; the limit is %zu bytes (the server's "
                        "--max-body)",
                        len, s->cfg->limits.max_body);
            reply_problem(r, &p, req->url);
            return true;
        }
    }
    if (!(req->route->methods & M_POST))
        return false;
    const char *ct =
        MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (!is_json_media_type(ct)) {
        struct http_problem p;
        problem_set(&p, HTTP_E_UNSUPPORTED_MEDIA_TYPE, NULL,
                    "a POST body must be JSON (Content-Type: application/json); got %s%.64s%s",
                    ct ? "'" : "", ct ? ct : "no Content-Type", ct ? "'" : "");
        reply_problem(r, &p, req->url);
        return true;
    }
    return false;
}

static void copy_for_log(char *dst, size_t cap, const char *src)
{
    size_t i = 0;
    for (; src[i] && i + 1 < cap; i++) {
        unsigned char c = (unsigned char)src[i];
        dst[i] = c < 0x21 || c == 0x7f ? '?' : (char)c;
    }
    dst[i] = '\0';
}

static enum MHD_Result access_handler(void *cls, struct MHD_Connection *conn, const char *url,
                                      const char *method, const char *version,
                                      const char *upload_data, size_t *upload_data_size,
                                      void **con_cls)
{
    struct server *s = cls;
    struct request *req = *con_cls;
    struct reply r;
    reply_init(&r);

    if (!req) {
        req = calloc(1, sizeof(*req));
        if (!req)
            return MHD_NO;
        atomic_fetch_add_explicit(my_in_flight(s), 1, memory_order_relaxed);
        req->start_ns = now_ns();
        count_request(req->start_ns);
        *con_cls = req;
        head_guard_request_started(conn);
        req->deadline.at_ns = s->deadline_ns ? req->start_ns + s->deadline_ns : UINT64_MAX;
        req->deadline.abandon = &s->abandon;
        req->conn = conn;
        req->url = url;
        req->method = parse_method(method);
        req->route = find_route(url);
        copy_for_log(req->method_name, sizeof(req->method_name), method);
        copy_for_log(req->log_path, sizeof(req->log_path), url);
        if (check_headers(s, req, version, &r))
            return send_reply(s, req, &r);
        reply_discard(&r);
        return MHD_YES;
    }

    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        bool wants_body = req->method == M_POST && req->route && (req->route->methods & M_POST);
        if (!wants_body || req->body_overflow)
            return MHD_YES; /* read and dropped */
        if (n > s->cfg->limits.max_body - req->body_len) {
            /* a body without a declared length that grew past the limit */
            req->body_overflow = true;
            free(req->body);
            req->body = NULL;
            return MHD_YES;
        }
        if (req->body_len + n > req->body_cap) {
            size_t cap = req->body_cap ? req->body_cap : 4096;
            while (cap < req->body_len + n)
                cap *= 2;
            char *body = realloc(req->body, cap);
            if (!body) {
                req->body_overflow = true;
                free(req->body);
                req->body = NULL;
                return MHD_YES;
            }
            req->body = body;
            req->body_cap = cap;
        }
        memcpy(req->body + req->body_len, upload_data, n);
        req->body_len += n;
        return MHD_YES;
    }

    if (req->job_done) {
        req->job_done = false;
        return send_reply(s, req, &req->job_reply);
    }
    if (req->answered || req->deferred)
        return MHD_YES;
    if (!req->route) {
        reply_error(&r, req, HTTP_E_NOT_FOUND, NULL, "no such endpoint; GET / lists them");
    } else if (req->method == M_OPTIONS) {
        handle_options(req, &r);
    } else if (!(req->route->methods & req->method)) {
        char detail[128];
        snprintf(detail, sizeof(detail), "%.16s is not allowed here; allowed: %s", req->method_name,
                 req->route->allow);
        reply_error(&r, req, HTTP_E_METHOD_NOT_ALLOWED, NULL, detail);
        r.allow = req->route->allow;
    } else if (req->body_overflow) {
        char detail[160];
        snprintf(detail, sizeof(detail),
                 "the body exceeds the limit of %zu bytes (the server's --max-body)",
                 s->cfg->limits.max_body);
        reply_error(&r, req, HTTP_E_BODY_TOO_LARGE, NULL, detail);
    } else {
        req->route->handle(s, req, &r);
        if (req->deferred)
            return MHD_YES; /* suspended until the pool has computed the answer */
    }
    return send_reply(s, req, &r);
}

/* v in decimal at p; returns the end. */
static char *put_uint(char *p, uint64_t v)
{
    char digits[20];
    size_t n = 0;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *p++ = digits[--n];
    return p;
}

static void request_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                              enum MHD_RequestTerminationCode toe)
{
    struct server *s = cls;
    struct request *req = *con_cls;
    uint64_t now = now_ns();
    head_guard_request_done(conn, now);
    if (!req)
        return;
    *con_cls = NULL;
    unsigned status = req->answered ? req->status : 0;
    if (s->log) {
        /* "GET /train 200 2254 212us": written by hand, a fifth of what snprintf costs here */
        char line[sizeof(req->method_name) + LOG_PATH_MAX + 96];
        char *p = line;
        p = stpcpy(p, req->method_name);
        *p++ = ' ';
        p = stpcpy(p, req->log_path);
        *p++ = ' ';
        p = put_uint(p, status);
        *p++ = ' ';
        p = put_uint(p, req->bytes);
        *p++ = ' ';
        p = put_uint(p, (now - req->start_ns) / 1000u);
        p = stpcpy(p, toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "us\n" : "us (aborted)\n");
        access_log_line(s->log, line, (size_t)(p - line));
    }
    metrics_observe(&s->metrics, req->route ? (size_t)(req->route - routes) : N_ROUTES, status,
                    req->bytes, now - req->start_ns);
    free(req->body);
    free(req);
    atomic_fetch_sub_explicit(my_in_flight(s), 1, memory_order_relaxed);
}

/* %HH decoding as libmicrohttpd's own, except that %00 becomes DEL (0x7f): a NUL would cut a
 * string short where the code after cannot see it, while DEL is refused everywhere it matters. */
static size_t unescape(void *cls, struct MHD_Connection *conn, char *s)
{
    (void)cls;
    (void)conn;
    char *out = s;
    const char *in = s;
    while (*in) {
        if (in[0] == '%' && in[1] && in[2]) {
            char hex[3] = {in[1], in[2], '\0'};
            char *end;
            unsigned long v = strtoul(hex, &end, 16);
            if (*end == '\0' && hex[0] != '+' && hex[0] != '-' && hex[0] != ' ') {
                *out++ = v == 0 ? (char)0x7f : (char)v;
                in += 3;
                continue;
            }
        }
        *out++ = *in++;
    }
    *out = '\0';
    return (size_t)(out - s);
}

/* ---- start and stop ---------------------------------------------------------------------- */

static int make_address(const char *bind, uint16_t port, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof(*ss));
    struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, bind, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons(port);
        return 0;
    }
    if (inet_pton(AF_INET6, bind, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        return 0;
    }
    return -1;
}

int server_run(const struct server_config *cfg)
{
    struct server s = {.cfg = cfg};
    for (size_t i = 0; i < IN_FLIGHT_SHARDS; i++)
        atomic_init(&s.in_flight[i].n, 0);
    atomic_init(&s.stopping, false);
    atomic_init(&s.abandon, false);
    atomic_init(&s.long_requests, 0);
    s.deadline_ns = (uint64_t)(cfg->deadline * 1e9);
    const char *route_names[N_ROUTES];
    for (size_t i = 0; i < N_ROUTES; i++)
        route_names[i] = routes[i].path;
    metrics_init(&s.metrics, route_names, N_ROUTES);
    struct etag_hasher h;
    etag_init(&h);
    etag_update_str(&h, GDLAB_VERSION);
    etag_update(&h, docs_page_html, docs_page_html_len);
    etag_final(&h, "", s.docs_etag);
    struct sockaddr_storage addr;
    if (make_address(cfg->bind, cfg->port, &addr) != 0) {
        fprintf(stderr, "gdlab: --bind %s is not an IPv4 or IPv6 address\n", cfg->bind);
        return 2;
    }
    if (static_root_open(&s.web, cfg->web_root) != 0)
        fprintf(stderr, "gdlab: web root %s is not a directory; / answers JSON only\n",
                cfg->web_root);
    if (static_root_open(&s.docs, cfg->docs_root) != 0)
        fprintf(stderr, "gdlab: docs root %s is not a directory; /docs has no explorer files\n",
                cfg->docs_root);

    params_global_init();
    mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD);

    /* SIGINT and SIGTERM are taken by sigwait below, so every thread started from here on must
     * leave them blocked. */
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    signal(SIGPIPE, SIG_IGN);

    /* idle connections time out in libmicrohttpd; slow request heads are the guard's */
    struct head_guard *guard = head_guard_new(cfg->timeout);
    struct epoll_tick *tick = NULL;  /* connlimit hook: libmicrohttpd's epoll stall, epoll_tick.c */
    struct conn_limit *limit = NULL; /* connlimit hook: idle connections make room, conn_limit.c */
    unsigned flags =
        MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
    if (addr.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    struct MHD_OptionItem options[] = {
        {MHD_OPTION_SOCK_ADDR, 0, &addr},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)request_completed, &s},
        {MHD_OPTION_UNESCAPE_CALLBACK, (intptr_t)unescape, NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, cfg->timeout, NULL},
        {MHD_OPTION_CONNECTION_LIMIT, cfg->max_connections, NULL},
        {guard ? MHD_OPTION_NOTIFY_CONNECTION : MHD_OPTION_END, (intptr_t)head_guard_notify, guard},
        {guard ? MHD_OPTION_URI_LOG_CALLBACK : MHD_OPTION_END, (intptr_t)head_guard_uri_log,
         guard}, /* connlimit hook: a request line marks its connection busy */
        {MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024, NULL},
        {MHD_OPTION_CONNECTION_MEMORY_LIMIT, CONNECTION_MEMORY, NULL},
        {cfg->threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, cfg->threads, NULL},
        {MHD_OPTION_END, 0, NULL},
    };
    /* Long requests run on a pool as large as libmicrohttpd's, so that they never hold up the
     * other connections of a libmicrohttpd thread; without the pool they run in place. */
    s.pool = offload_new(cfg->threads, 0);
    s.busy_pool = offload_new(cfg->threads, OFFLOAD_BUSY_NICE);
    s.cache = response_cache_new(cfg->response_cache);
    struct reply health;
    reply_init(&health);
    if (health_reply_copy(&health))
        s.health = build_response(&s, M_GET, &health, false);
    if (cfg->access_log && !(s.log = access_log_new(STDERR_FILENO)))
        fprintf(stderr, "gdlab: cannot start the access log; requests go unlogged\n");
    struct MHD_Daemon *d = MHD_start_daemon(flags, cfg->port, NULL, NULL, access_handler, &s,
                                            MHD_OPTION_ARRAY, options, MHD_OPTION_END);
    long left = 0; /* requests still in flight when the grace ran out */
    if (!d) {
        fprintf(stderr, "gdlab: cannot listen on %s port %u: %s\n", cfg->bind, cfg->port,
                strerror(errno));
        goto out_release;
    }
    tick = epoll_tick_start(EPOLL_TICK_MS);                   /* connlimit hook */
    limit = conn_limit_start(d, guard, cfg->max_connections); /* connlimit hook */
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    unsigned port = info ? info->port : cfg->port;
    fprintf(stderr, "gdlab %s listening on http://%s%s%s:%u/ (%u threads, web root %s)\n",
            GDLAB_VERSION, addr.ss_family == AF_INET6 ? "[" : "", cfg->bind,
            addr.ss_family == AF_INET6 ? "]" : "", port, cfg->threads,
            s.web.usable ? s.web.path : "none");

    /* Wait for a stop signal, trimming the heaps on the way: without it, a soak of mixed requests
     * left RSS 7-13% above its level after warm-up (free pages scattered in the threads' arenas);
     * with it, within a percent. */
    int sig;
    for (;;) {
        struct timespec tick = {TRIM_INTERVAL_S, 0};
        sig = sigtimedwait(&stop_signals, NULL, &tick);
        if (sig > 0)
            break;
        malloc_trim(0);
    }
    atomic_store(&s.stopping, true);
    fprintf(stderr, "gdlab: %s: no new connections; finishing requests in flight\n",
            strsignal(sig));
    conn_limit_free(limit); /* connlimit hook: before the listen socket closes */
    MHD_socket listen_fd = MHD_quiesce_daemon(d);
    if (listen_fd != MHD_INVALID_SOCKET)
        close(listen_fd);
    /* Requests still computing or queued when the grace is nearly over are abandoned: they give
     * up at their next check (within a millisecond) and answer 503, which leaves the last part of
     * the grace to send those answers, so that the pools stop before it ends rather than after
     * their whole queue. */
    uint64_t grace_ns = (uint64_t)cfg->shutdown_grace * 1000000000u;
    uint64_t end = now_ns() + grace_ns;
    uint64_t abandon_at = end - (grace_ns / 4 < ABANDON_LEAD_NS ? grace_ns / 4 : ABANDON_LEAD_NS);
    for (;;) {
        uint64_t now = now_ns();
        if (now >= abandon_at)
            atomic_store(&s.abandon, true);
        if (in_flight_total(&s) == 0 || now >= end)
            break;
        struct timespec tick = {0, 10 * 1000 * 1000};
        nanosleep(&tick, NULL);
    }
    left = in_flight_total(&s);
    atomic_store(&s.abandon, true);

out_release:
    /* the pools first: their jobs resume their connections, which must still exist */
    offload_free(s.pool);
    offload_free(s.busy_pool);
    if (d)
        MHD_stop_daemon(d);
    epoll_tick_free(tick); /* connlimit hook: after the daemon, whose epoll sets hold it */
    if (s.health)
        MHD_destroy_response(s.health);
    head_guard_free(guard); /* after the daemon: every connection it tracked is closed */
    access_log_free(s.log); /* after the daemon: its threads write the last lines */
    response_cache_free(s.cache);
    static_root_close(&s.web);
    static_root_close(&s.docs);
    if (!d)
        return 1;
    if (left > 0)
        fprintf(stderr, "gdlab: stopped with %ld requests unfinished after %u s\n", left,
                cfg->shutdown_grace);
    else
        fprintf(stderr, "gdlab: stopped\n");
    return 0;
}
