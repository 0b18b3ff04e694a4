/*
 * A computing endpoint's request, on one screen (http_serve_api), and its steps below it. Every
 * step either answers (r filled) or hands on to the next; what a step leaves for the next lives
 * in req->api, which the completion callback frees with the rest of the request.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encode/csv.h"
#include "encode/npz.h"
#include "gdlab/gdlab.h"
#include "http/internal.h"
#include "http/negotiate.h"
#include "ops/clock.h"
#include "ops/response_cache.h"

/* Answers are functions of their parameters and the server version (both in the ETag), so shared
 * caches may keep them; an hour bounds how long an upgraded server's old answers live on. */
#define API_CACHE_CONTROL "public, max-age=3600"
/* A request estimated to take longer than this (ns) is computed on a compute pool. */
#define OFFLOAD_MIN_COST 1e6
/* Long requests go to the low-priority pool while the server is busy with others: busy means at
 * least BUSY_REQUESTS requests began on this thread within the last BUSY_WINDOW_NS. */
#define BUSY_REQUESTS 4
#define BUSY_WINDOW_NS 50000000u

/* The query string's pairs, as libmicrohttpd decoded them: they live as long as the request, but
 * are needed only until the parameters are parsed, so they stay on the stack of the path. */
struct query {
    struct api_query_arg args[HTTP_MAX_QUERY_ARGS];
    size_t n_args;
};

static bool read_request(struct http_request *req, struct query *q, struct http_reply *r);
static bool answer_from_cache_by_query(struct http_server *s, struct http_request *req,
                                       const struct query *q, struct http_reply *r);
static bool parse_params(struct http_server *s, struct http_request *req, const struct query *q,
                         struct http_reply *r);
static bool answer_not_modified(struct http_request *req, struct http_reply *r);
static bool answer_from_cache_by_params(struct http_server *s, struct http_request *req,
                                        struct http_reply *r);
static bool schedule_on_pool(struct http_server *s, struct http_request *req, struct http_reply *r);
static void compute(struct http_server *s, struct http_request *req, struct http_reply *r);

void http_serve_api(struct http_server *s, struct http_request *req, struct http_reply *r)
{
    struct query q;
    /* read: the query's pairs and what Accept and Accept-Encoding ask for */
    if (read_request(req, &q, r))
        return;
    /* cache: a GET's query as it came, answered without parsing */
    if (answer_from_cache_by_query(s, req, &q, r))
        return;
    /* parse: the parameters from the query or the JSON body, or a 400 problem */
    if (parse_params(s, req, &q, r))
        return;
    /* conditional: 304 when If-None-Match names the answer's ETag */
    if (answer_not_modified(req, r))
        return;
    /* cache: the canonical parameters (a POST, or another spelling of a GET) */
    if (answer_from_cache_by_params(s, req, r))
        return;
    /* schedule: a long request goes to a compute pool, or gets 503 when they are full */
    if (schedule_on_pool(s, req, r))
        return;
    /* compute and encode; the access handler sends */
    compute(s, req, r);
}

/* ---- read: the query string and the headers that choose the answer --------------------------- */

static enum MHD_Result collect_query_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                         const char *value)
{
    (void)kind;
    struct query *q = cls;
    if (q->n_args == HTTP_MAX_QUERY_ARGS) {
        q->n_args++; /* one past the limit: too many */
        return MHD_NO;
    }
    q->args[q->n_args++] = (struct api_query_arg){key, value};
    return MHD_YES;
}

static bool read_request(struct http_request *req, struct query *q, struct http_reply *r)
{
    struct http_api_state *a = &req->api;
    q->n_args = 0;
    MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, collect_query_arg, q);
    if (q->n_args > HTTP_MAX_QUERY_ARGS) {
        http_reply_problem_text(r, API_PROBLEM_INVALID_PARAMETER,
                                "too many query parameters (more than 64)", req->url);
        return true;
    }
    a->accept_csv = api_endpoint_has_csv(req->route->endpoint) &&
                    http_accept_prefers_csv(http_header(req, "Accept"));
    a->accept_npz = http_accept_prefers_npz(http_header(req, "Accept"));
    a->npz_body = req->method == M_POST &&
                  http_is_npz_media_type(http_header(req, MHD_HTTP_HEADER_CONTENT_TYPE));
    a->inm = req->method == M_POST ? NULL : http_header(req, "If-None-Match");
    req->gzip_ok = http_gzip_accepted(http_header(req, "Accept-Encoding"));
    return false;
}

/* ---- cache ---------------------------------------------------------------------------------- */

/* A cache entry: the answer's ETag (HTTP_ETAG_MAX bytes, NUL-padded), one byte for its format
 * (enum api_format) and one saying gzip, then the body as sent. */
#define CACHE_HEAD (HTTP_ETAG_MAX + 2)

/* The headers of every computing answer: it may be cached, and it varies with Accept (npz, and
 * CSV where the endpoint has it). */
static void api_headers(struct http_reply *r)
{
    r->cache_control = API_CACHE_CONTROL;
    r->vary = "Accept";
}

/* The media type of a 200 answer in format (and, for npz, a file name: "surface.npz"). */
static void format_headers(struct http_reply *r, const struct http_request *req, int format)
{
    if (format == API_FORMAT_NPZ) {
        r->content_type = NPZ_CONTENT_TYPE;
        snprintf(r->disposition, sizeof(r->disposition), "attachment; filename=\"%.40s.npz\"",
                 req->route->path + 1);
    } else {
        r->content_type = format == API_FORMAT_CSV ? CSV_CONTENT_TYPE : "application/json";
    }
}

/* If-None-Match names etag or its gzip variant: *matched is the one it named. */
static bool etag_or_gzip_matches(const char *inm, const char *etag, char *matched)
{
    char gz[HTTP_ETAG_MAX];
    snprintf(gz, sizeof(gz), "%s", etag);
    http_etag_add_suffix(gz, "-gz");
    if (http_etag_matches(inm, gz)) {
        memcpy(matched, gz, sizeof(gz));
        return true;
    }
    if (!http_etag_matches(inm, etag))
        return false;
    memmove(matched, etag, strlen(etag) + 1); /* matched may be etag itself */
    return true;
}

/* A cached answer for the request's key into r (304 when inm names it); false when none. */
static bool answer_cached(struct http_server *s, struct http_request *req, const char *inm,
                          struct http_reply *r)
{
    size_t len;
    char *v = response_cache_get(s->cache, req->api.key.buf, req->api.key.len, &len);
    if (!v)
        return false;
    if (len < CACHE_HEAD) {
        free(v);
        return false;
    }
    api_headers(r);
    memcpy(r->etag, v, HTTP_ETAG_MAX);
    r->etag[HTTP_ETAG_MAX - 1] = '\0';
    if (inm && etag_or_gzip_matches(inm, r->etag, r->etag)) {
        free(v);
        http_reply_not_modified(r);
        return true;
    }
    format_headers(r, req, v[HTTP_ETAG_MAX]);
    r->gzipped = v[HTTP_ETAG_MAX + 1];
    r->gzip_decided = true; /* the entry holds the body as it was sent */
    memmove(v, v + CACHE_HEAD, len - CACHE_HEAD);
    r->body = v;
    r->len = len - CACHE_HEAD;
    r->status = 200;
    return true;
}

/* Keep a computed answer under the request's key. */
static void cache_put(struct http_server *s, const struct http_request *req,
                      const struct http_reply *r)
{
    if (!req->api.keyed || CACHE_HEAD + r->len > RESPONSE_CACHE_MAX_BODY)
        return;
    char *v = malloc(CACHE_HEAD + r->len);
    if (!v)
        return;
    memset(v, 0, CACHE_HEAD);
    memcpy(v, r->etag, strlen(r->etag));
    v[HTTP_ETAG_MAX] = (char)req->api.params.format;
    v[HTTP_ETAG_MAX + 1] = r->gzipped;
    memcpy(v + CACHE_HEAD, r->body, r->len);
    response_cache_put_new(s->cache, req->api.key.buf, req->api.key.len, v, CACHE_HEAD + r->len);
}

/* A GET is looked up by its query as it came: the endpoint, the representation Accept asked for,
 * whether the client takes gzip (the entry holds the body as sent), and the pairs in order. A
 * repeated query is answered without even parsing its parameters; another spelling of the same
 * parameters computes once more and is kept under its own key. */
static bool answer_from_cache_by_query(struct http_server *s, struct http_request *req,
                                       const struct query *q, struct http_reply *r)
{
    struct http_api_state *a = &req->api;
    if (!s->cache || req->method == M_POST)
        return false;
    jw_init(&a->key, 256);
    jw_array_begin(&a->key);
    jw_string(&a->key, req->route->path);
    jw_bool(&a->key, a->accept_csv);
    jw_bool(&a->key, a->accept_npz);
    jw_bool(&a->key, req->gzip_ok);
    for (size_t i = 0; i < q->n_args; i++) {
        jw_string(&a->key, q->args[i].key);
        if (q->args[i].value)
            jw_string(&a->key, q->args[i].value);
        else
            jw_null(&a->key);
    }
    jw_array_end(&a->key);
    a->keyed = !a->key.oom;
    return a->keyed && answer_cached(s, req, a->inm, r);
}

/* A POST (without inline data, whose key would be as large as the data) by its parsed, canonical
 * parameters, which a GET's key has already covered. */
static bool answer_from_cache_by_params(struct http_server *s, struct http_request *req,
                                        struct http_reply *r)
{
    struct http_api_state *a = &req->api;
    if (a->keyed || !s->cache || a->params.x.v)
        return false;
    jw_free(&a->key); /* a GET's key that ran out of memory */
    jw_init(&a->key, 1024);
    jw_object_begin(&a->key);
    jw_key_string(&a->key, "path", req->route->path);
    jw_key_uint(&a->key, "given", a->params.given);
    api_params_write(&a->key, &a->params);
    jw_key_uint(&a->key, "format", (uint64_t)a->params.format);
    jw_key_bool(&a->key, "gzip", req->gzip_ok);
    jw_object_end(&a->key);
    a->keyed = !a->key.oom;
    return a->keyed && answer_cached(s, req, NULL, r);
}

/* ---- parse and conditional --------------------------------------------------------------- */

static bool parse_params(struct http_server *s, struct http_request *req, const struct query *q,
                         struct http_reply *r)
{
    struct http_api_state *a = &req->api;
    const struct api_endpoint *e = req->route->endpoint;
    const struct api_limits *lim = &s->cfg->limits;
    struct api_problem prob;
    int rc;
    if (req->method == M_POST && !a->npz_body && q->n_args > 0) {
        api_problem_set(&prob, API_PROBLEM_INVALID_PARAMETER, q->args[0].key,
                        "a POST takes its parameters in the JSON body, not the query string "
                        "(found '%.64s')",
                        q->args[0].key);
        http_reply_problem(r, &prob, req->url);
        return true;
    }
    a->params_live = true;
    if (a->npz_body)
        rc = api_params_from_npz(&a->params, e->bit, e->default_scaler, q->args, q->n_args,
                                 req->body ? req->body : "", req->body_len, lim, &prob);
    else if (req->method == M_POST)
        rc = api_params_from_json(&a->params, e->bit, e->default_scaler, req->body ? req->body : "",
                                  req->body_len, lim, &prob);
    else
        rc = api_params_from_query(&a->params, e->bit, e->default_scaler, q->args, q->n_args, lim,
                                   &prob);
    /* the body is parsed: release it before the answer is computed */
    free(req->body);
    req->body = NULL;
    if (rc != 0) {
        http_reply_problem(r, &prob, req->url);
        return true;
    }
    if (!api_param_given(&a->params, P_FORMAT) && a->accept_npz)
        a->params.format = API_FORMAT_NPZ;
    else if (!api_param_given(&a->params, P_FORMAT) && a->accept_csv)
        a->params.format = API_FORMAT_CSV;
    return false;
}

/* The strong ETag of a computing answer, from the server version, the endpoint, the
 * representation and the canonical parameters (the typed values as "params" echoes them, plus
 * which data-dependent defaults were left to the server): the same parameters however spelled, by
 * GET or by POST, share it, and it is known before anything is computed. */
static bool api_etag(const struct http_request *req, const struct api_params *p, char *out)
{
    struct jw w;
    jw_init(&w, 1024);
    jw_object_begin(&w);
    api_params_write(&w, p);
    jw_object_end(&w);
    if (w.oom) {
        jw_free(&w);
        out[0] = '\0';
        return false;
    }
    static const char *const formats[] = {"json", "csv", "npz"};
    const char *format = formats[p->format];
    uint64_t defaults = api_params_data_defaults_given(p);
    struct http_etag_hasher h;
    http_etag_init(&h);
    http_etag_update_str(&h, GDLAB_VERSION);
    http_etag_update_str(&h, req->route->path);
    http_etag_update(&h, &defaults, sizeof(defaults));
    http_etag_update(&h, format, strlen(format));
    http_etag_update(&h, w.buf, w.len);
    http_etag_final(&h, "", out);
    jw_free(&w);
    return true;
}

static bool answer_not_modified(struct http_request *req, struct http_reply *r)
{
    struct http_api_state *a = &req->api;
    if (!api_etag(req, &a->params, a->etag) || !a->inm ||
        !etag_or_gzip_matches(a->inm, a->etag, r->etag))
        return false;
    api_headers(r);
    http_reply_not_modified(r);
    return true;
}

/* ---- schedule ---------------------------------------------------------------------------------
 */

/* This thread's count of requests begun since window_start_ns: per thread, so that counting
 * writes no memory shared between cores; each libmicrohttpd thread judges its own load. */
static _Thread_local uint64_t window_start_ns;
static _Thread_local uint32_t window_requests;

void http_count_request(uint64_t now)
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

/* On a pool thread: compute, then hand the connection back to libmicrohttpd, which calls the
 * access handler again to send job_reply. req is not touched after the resume. */
static void run_job(struct offload_job *job)
{
    struct http_request *req =
        (struct http_request *)((char *)job - offsetof(struct http_request, job));
    struct http_server *s = req->server;
    compute(s, req, &req->job_reply);
    atomic_fetch_sub(&s->long_requests, 1);
    req->job_done = true;
    MHD_resume_connection(req->conn);
}

/* A long request goes to a compute pool (true: suspended until it is done), unless the pools
 * and their queue are full (true: a 503 problem). A short one is computed here (false). */
static bool schedule_on_pool(struct http_server *s, struct http_request *req, struct http_reply *r)
{
    if (!s->pool || req->route->endpoint->cost(&req->api.params) < OFFLOAD_MIN_COST)
        return false;
    /* Past the running threads and the queue, refuse at once: a client told to come back is
     * better off than one whose request would wait behind an unbounded queue. */
    unsigned most = s->cfg->threads + s->cfg->queue;
    if (atomic_fetch_add(&s->long_requests, 1) >= most) {
        atomic_fetch_sub(&s->long_requests, 1);
        struct api_problem prob;
        api_problem_set(&prob, API_PROBLEM_OVERLOADED, NULL,
                        "%u long requests are computing or queued, the most this server takes "
                        "(--threads %u plus --queue %u); retry shortly",
                        most, s->cfg->threads, s->cfg->queue);
        http_reply_problem(r, &prob, req->url);
        return true;
    }
    req->job.run = run_job;
    req->deferred = true;
    MHD_suspend_connection(req->conn);
    /* While other requests keep coming, a long one runs at a lower priority, so that on a machine
     * whose cores it fills the short ones still get a core at once. Otherwise it runs at full
     * priority, as fast as the machine's other load lets it. */
    struct offload *pool = server_busy() && s->busy_pool ? s->busy_pool : s->pool;
    if (offload_submit(pool, &req->job))
        return true;
    /* the pool is stopping: compute here after all */
    atomic_fetch_sub(&s->long_requests, 1);
    MHD_resume_connection(req->conn);
    req->deferred = false;
    return false;
}

/* ---- compute and encode ---------------------------------------------------------------------- */

static bool deadline_expired(void *ctx)
{
    const struct http_deadline *d = ctx;
    return atomic_load_explicit(d->abandon, memory_order_relaxed) || now_ns() >= d->at_ns;
}

/* The detail of a request ended by its deadline: which limit, or the shutdown. */
static void deadline_problem(const struct http_server *s, struct api_problem *prob, bool queued)
{
    if (atomic_load(&s->abandon))
        api_problem_set(prob, API_PROBLEM_DEADLINE_EXCEEDED, NULL,
                        "the server is shutting down, and this request would not have finished "
                        "within its grace period (--shutdown-grace %u s)",
                        s->cfg->shutdown_grace);
    else
        api_problem_set(prob, API_PROBLEM_DEADLINE_EXCEEDED, NULL,
                        "the server's compute deadline of %s s (--deadline) passed %s; smaller "
                        "sizes, fewer epochs or fewer learning rates finish sooner",
                        NUM(s->cfg->deadline),
                        queued ? "before the computation started" : "during the computation");
}

/* Compute the answer into r, gzip it when the client takes gzip (here, so that a long answer is
 * compressed on the compute pool), and keep it in the cache. */
static void compute(struct http_server *s, struct http_request *req, struct http_reply *r)
{
    struct http_api_state *a = &req->api;
    struct api_problem prob;
    struct gd_cancel cancel = {deadline_expired, &req->deadline};
    if (deadline_expired(&req->deadline)) {
        deadline_problem(s, &prob, true);
        http_reply_problem(r, &prob, req->url);
        return;
    }
    struct jw w;
    jw_init(&w, 0);
    if (a->params.format == API_FORMAT_NPZ)
        jw_npz_begin(&w); /* the same calls write an archive of arrays */
    if (req->route->endpoint->compute(&a->params, &cancel, &w, &prob) != 0) {
        jw_free(&w);
        bool late = prob.type == API_PROBLEM_DEADLINE_EXCEEDED;
        if (late)
            deadline_problem(s, &prob, false);
        http_reply_problem(r, &prob, req->url);
        /* the same request would run out of time again: no Retry-After */
        if (late && !atomic_load(&s->abandon))
            r->retry_after = 0;
        return;
    }
    jw_npz_finish(&w);
    http_reply_json_take(r, &w);
    if (r->status != 200)
        return;
    format_headers(r, req, a->params.format);
    api_headers(r);
    snprintf(r->etag, sizeof(r->etag), "%s", a->etag);
    if (req->gzip_ok)
        http_reply_gzip(r);
    r->gzip_decided = true;
    cache_put(s, req, r);
}

void http_api_state_free(struct http_api_state *a)
{
    if (a->params_live)
        api_params_free(&a->params);
    jw_free(&a->key);
}
