/*
 * libmicrohttpd calls the access handler several times per request. The first call only sees the
 * headers: it sets up the request's state and returns, because in 0.9.75 a response queued then
 * marks the connection to be closed afterwards (no keep-alive). Later calls deliver the body in
 * pieces, and the last one (no upload data left) dispatches through the route table and queues the
 * answer. The only answers given on the first call are the ones that refuse a body unread (413
 * from Content-Length, 415) or a request whose framing is ambiguous, where closing the connection
 * is what we want anyway. The completion callback logs, counts and frees the request: it is the
 * one place where a request's memory is released.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "encode/gzip.h"
#include "http/framing.h"
#include "http/internal.h"
#include "http/negotiate.h"
#include "ops/access_log.h"
#include "ops/clock.h"
#include "ops/head_guard.h"

#define CORS_ALLOW_HEADERS "Content-Type, If-None-Match"
#define CORS_EXPOSE_HEADERS "ETag, Content-Encoding"
#define INITIAL_BODY_CAP 4096

const char *http_header(const struct http_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

/* This thread's in-flight shard: dealt in turn on its first request, then kept. */
static atomic_long *my_in_flight(struct http_server *s)
{
    static atomic_uint next_shard;
    static _Thread_local int shard = -1;
    if (shard < 0)
        shard = (int)(atomic_fetch_add_explicit(&next_shard, 1, memory_order_relaxed) %
                      HTTP_IN_FLIGHT_SHARDS);
    return &s->in_flight[shard].n;
}

long http_in_flight_total(struct http_server *s)
{
    long total = 0;
    for (size_t i = 0; i < HTTP_IN_FLIGHT_SHARDS; i++)
        total += atomic_load_explicit(&s->in_flight[i].n, memory_order_relaxed);
    return total;
}

/* ---- responses --------------------------------------------------------------------------- */

struct MHD_Response *http_response_new(const struct http_server *s, unsigned method,
                                       struct http_reply *r, bool close)
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
        http_reply_discard(r);
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
    if (r->disposition[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_DISPOSITION, r->disposition);
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
static enum MHD_Result send_reply(struct http_server *s, struct http_request *req,
                                  struct http_reply *r)
{
    /* a cached or small answer not compressed yet (long ones were, on the compute pool) */
    if (!r->prepared && r->status == 200 && !r->gzip_decided && r->fd < 0 &&
        r->len >= GZIP_MIN_BYTES && http_gzip_accepted(http_header(req, "Accept-Encoding")))
        http_reply_gzip(r);
    req->bytes = r->fd >= 0 ? r->fd_size : r->len;
    req->status = r->status;
    req->answered = true;
    if (r->prepared)
        return MHD_queue_response(req->conn, r->status, r->prepared);
    /* while draining, keep-alive clients are sent away so that the connections can close */
    bool close = r->close || atomic_load_explicit(&s->stopping, memory_order_relaxed);
    struct MHD_Response *resp = http_response_new(s, req->method, r, close);
    if (!resp)
        return MHD_NO;
    enum MHD_Result ret = MHD_queue_response(req->conn, r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* ---- the first call: what the headers alone decide ------------------------------------------ */

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

static enum MHD_Result count_framing(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    (void)kind;
    http_framing_add(cls, key, value);
    return MHD_YES;
}

/* True when a reply was made: the request is refused before its body is read. */
static bool check_headers(struct http_server *s, struct http_request *req, const char *version,
                          struct http_reply *r)
{
    struct http_framing f = {.http11 = version && strcmp(version, MHD_HTTP_VERSION_1_1) == 0,
                             .post = req->method == M_POST};
    char why_buf[160];
    MHD_get_connection_values(req->conn, MHD_HEADER_KIND, count_framing, &f);
    const char *why = http_framing_problem(&f, why_buf, sizeof(why_buf));
    if (why) {
        http_reply_problem_text(r, API_PROBLEM_MALFORMED_REQUEST, why, req->url);
        r->close = true;
        return true;
    }
    if (!req->route || req->method != M_POST)
        return false;
    struct api_problem prob;
    const char *cl = http_header(req, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl) {
        char *end;
        errno = 0;
        unsigned long long len = strtoull(cl, &end, 10);
        if (errno == 0 && end != cl && len > s->cfg->limits.max_body) {
            api_problem_set(&prob, API_PROBLEM_BODY_TOO_LARGE, NULL,
                            "the body is %llu bytes; the limit is %zu bytes (the server's "
                            "--max-body)",
                            len, s->cfg->limits.max_body);
            http_reply_problem(r, &prob, req->url);
            return true;
        }
    }
    if (!(req->route->methods & M_POST))
        return false;
    const char *ct = http_header(req, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (!http_is_json_media_type(ct) && !http_is_npz_media_type(ct)) {
        api_problem_set(&prob, API_PROBLEM_UNSUPPORTED_MEDIA_TYPE, NULL,
                        "a POST body must be JSON (Content-Type: application/json); got %s%.64s%s",
                        ct ? "'" : "", ct ? ct : "no Content-Type", ct ? "'" : "");
        http_reply_problem(r, &prob, req->url);
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

static struct http_request *request_new(struct http_server *s, struct MHD_Connection *conn,
                                        const char *url, const char *method)
{
    struct http_request *req = calloc(1, sizeof(*req));
    if (!req)
        return NULL;
    atomic_fetch_add_explicit(my_in_flight(s), 1, memory_order_relaxed);
    req->server = s;
    http_reply_init(&req->job_reply);
    req->start_ns = now_ns();
    http_count_request(req->start_ns);
    head_guard_request_started(conn);
    req->deadline.at_ns = s->deadline_ns ? req->start_ns + s->deadline_ns : UINT64_MAX;
    req->deadline.abandon = &s->abandon;
    req->conn = conn;
    req->url = url;
    req->method = parse_method(method);
    req->route = http_route_find(s, url);
    copy_for_log(req->method_name, sizeof(req->method_name), method);
    copy_for_log(req->log_path, sizeof(req->log_path), url);
    return req;
}

void http_request_free(struct http_request *req)
{
    http_api_state_free(&req->api);
    http_reply_discard(&req->job_reply);
    free(req->body);
    free(req);
}

/* ---- later calls: the body, then the answer --------------------------------------------- */

/* Append a piece of a POST body; past --max-body (a body without a declared length) or when
 * memory runs out, the body is dropped and the request answered 413 at its end. */
static void body_append(struct http_server *s, struct http_request *req, const char *data, size_t n)
{
    bool wants_body = req->method == M_POST && req->route && (req->route->methods & M_POST);
    if (!wants_body || req->body_overflow)
        return; /* read and dropped */
    if (n > s->cfg->limits.max_body - req->body_len)
        goto out_overflow;
    if (req->body_len + n > req->body_cap) {
        size_t cap = req->body_cap ? req->body_cap : INITIAL_BODY_CAP;
        while (cap < req->body_len + n)
            cap *= 2;
        char *body = realloc(req->body, cap);
        if (!body)
            goto out_overflow;
        req->body = body;
        req->body_cap = cap;
    }
    memcpy(req->body + req->body_len, data, n);
    req->body_len += n;
    return;

out_overflow:
    req->body_overflow = true;
    free(req->body);
    req->body = NULL;
}

/* Route the complete request: 404, OPTIONS, 405, 413, or the route's handler. */
static void dispatch(struct http_server *s, struct http_request *req, struct http_reply *r)
{
    char detail[160];
    if (!req->route) {
        http_reply_problem_text(r, API_PROBLEM_NOT_FOUND, "no such endpoint; GET / lists them",
                                req->url);
    } else if (req->method == M_OPTIONS) {
        /* and a CORS preflight: the response adds the Access-Control-Allow-* headers */
        r->status = 204;
        r->allow = req->route->allow;
    } else if (!(req->route->methods & req->method)) {
        snprintf(detail, sizeof(detail), "%.16s is not allowed here; allowed: %s", req->method_name,
                 req->route->allow);
        http_reply_problem_text(r, API_PROBLEM_METHOD_NOT_ALLOWED, detail, req->url);
        r->allow = req->route->allow;
    } else if (req->body_overflow) {
        snprintf(detail, sizeof(detail),
                 "the body exceeds the limit of %zu bytes (the server's --max-body)",
                 s->cfg->limits.max_body);
        http_reply_problem_text(r, API_PROBLEM_BODY_TOO_LARGE, detail, req->url);
    } else {
        req->route->handle(s, req, r);
    }
}

enum MHD_Result http_access_handler(void *cls, struct MHD_Connection *conn, const char *url,
                                    const char *method, const char *version,
                                    const char *upload_data, size_t *upload_data_size,
                                    void **con_cls)
{
    struct http_server *s = cls;
    struct http_request *req = *con_cls;
    struct http_reply r;
    http_reply_init(&r);

    if (!req) {
        req = request_new(s, conn, url, method);
        if (!req)
            return MHD_NO;
        *con_cls = req;
        if (check_headers(s, req, version, &r))
            return send_reply(s, req, &r);
        return MHD_YES;
    }
    if (*upload_data_size) {
        body_append(s, req, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (req->job_done) {
        req->job_done = false;
        return send_reply(s, req, &req->job_reply);
    }
    if (req->answered || req->deferred)
        return MHD_YES;
    dispatch(s, req, &r);
    if (req->deferred)
        return MHD_YES; /* suspended until a compute pool has the answer */
    return send_reply(s, req, &r);
}

/* ---- completion ---------------------------------------------------------------------------- */

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

/* "GET /train 200 2254 212us", written by hand: snprintf is the costlier way on this hot path. */
static void log_request(struct http_server *s, const struct http_request *req, unsigned status,
                        uint64_t now, enum MHD_RequestTerminationCode toe)
{
    char line[sizeof(req->method_name) + HTTP_LOG_PATH_MAX + 96];
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

void http_request_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                            enum MHD_RequestTerminationCode toe)
{
    struct http_server *s = cls;
    struct http_request *req = *con_cls;
    uint64_t now = now_ns();
    head_guard_request_done(conn, now);
    if (!req)
        return;
    *con_cls = NULL;
    unsigned status = req->answered ? req->status : 0;
    if (s->log)
        log_request(s, req, status, now, toe);
    metrics_observe(&s->metrics, req->route ? (size_t)(req->route - s->routes) : s->n_routes,
                    status, req->bytes, now - req->start_ns);
    http_request_free(req);
    atomic_fetch_sub_explicit(my_in_flight(s), 1, memory_order_relaxed);
}

/* The value of a hexadecimal digit; -1 for anything else (strtoul would skip white space). */
static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* %HH decoding as libmicrohttpd's own, except that %00 becomes DEL (0x7f): a NUL would cut a
 * string short where the code after cannot see it, while DEL is refused everywhere it matters. */
size_t http_unescape(void *cls, struct MHD_Connection *conn, char *s)
{
    (void)cls;
    (void)conn;
    char *out = s;
    const char *in = s;
    while (*in) {
        int hi, lo;
        if (in[0] == '%' && (hi = hex_digit(in[1])) >= 0 && (lo = hex_digit(in[2])) >= 0) {
            int v = hi * 16 + lo;
            *out++ = v == 0 ? (char)0x7f : (char)v;
            in += 3;
            continue;
        }
        *out++ = *in++;
    }
    *out = '\0';
    return (size_t)(out - s);
}
