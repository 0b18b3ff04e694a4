/*
 * The route table: the fixed routes (the index, probes, metrics, the OpenAPI document and its
 * explorer, static files, problem types) with one row per computing endpoint of the API's table
 * between them, and the handlers of the fixed routes. A new computing endpoint is a row of
 * api_endpoints, not of this file.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gdlab/gdlab.h"
#include "http/docs.h"
#include "http/internal.h"
#include "http/negotiate.h"
#include "http/openapi_doc.h"
#include "ops/metrics.h"

#define STATIC_CACHE_CONTROL "public, max-age=300"
#define INDEX_CACHE_CONTROL "no-cache"
/* The document and the explorer page change with the server: always revalidate (ETag). */
#define DOC_CACHE_CONTROL "public, no-cache"
#define DOCS_ASSET_CACHE_CONTROL "public, max-age=86400"

#define GET_ONLY (M_GET | M_HEAD | M_OPTIONS)
#define GET_POST (M_GET | M_HEAD | M_POST | M_OPTIONS)
#define ALLOW_GET "GET, HEAD, OPTIONS"
#define ALLOW_GET_POST "GET, HEAD, POST, OPTIONS"

static void handle_index(struct http_server *s, struct http_request *req, struct http_reply *r);
static void handle_health(struct http_server *s, struct http_request *req, struct http_reply *r);
static void handle_ready(struct http_server *s, struct http_request *req, struct http_reply *r);
static void handle_metrics(struct http_server *s, struct http_request *req, struct http_reply *r);
static void handle_openapi(struct http_server *s, struct http_request *req, struct http_reply *r);
static void handle_docs(struct http_server *s, struct http_request *req, struct http_reply *r);
static void handle_docs_asset(struct http_server *s, struct http_request *req,
                              struct http_reply *r);
static void handle_static(struct http_server *s, struct http_request *req, struct http_reply *r);
static void handle_problem_type(struct http_server *s, struct http_request *req,
                                struct http_reply *r);

/* Before the computing endpoints in the index. */
static const struct http_route routes_before[] = {
    {"/", false, GET_ONLY, ALLOW_GET, handle_index, NULL,
     "this index (JSON), or the web page for browsers"},
    {"/health", false, GET_ONLY, ALLOW_GET, handle_health, NULL, "liveness: {\"status\": \"ok\"}"},
    {"/ready", false, GET_ONLY, ALLOW_GET, handle_ready, NULL,
     "readiness: 503 once the server is shutting down"},
    {"/metrics", false, GET_ONLY, ALLOW_GET, handle_metrics, NULL,
     "Prometheus metrics: requests by route and status, latency, in flight, bytes sent"},
    {"/openapi.json", false, GET_ONLY, ALLOW_GET, handle_openapi, NULL,
     "this API's OpenAPI 3.1 document, as JSON"},
    {"/openapi.yaml", false, GET_ONLY, ALLOW_GET, handle_openapi, NULL,
     "this API's OpenAPI 3.1 document, as YAML"},
    {"/docs", false, GET_ONLY, ALLOW_GET, handle_docs, NULL,
     "the interactive API explorer (Swagger UI)"},
    {"/docs/", true, GET_ONLY, ALLOW_GET, handle_docs_asset, NULL, "files of the API explorer"},
};

/* After them. */
static const struct http_route routes_after[] = {
    {"/static/", true, GET_ONLY, ALLOW_GET, handle_static, NULL, "files of the web front-end"},
    {"/problems/", true, GET_ONLY, ALLOW_GET, handle_problem_type, NULL,
     "what each error type means (the type URIs of problem documents)"},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
_Static_assert(HTTP_MAX_ROUTES <= METRICS_MAX_ROUTES, "every route gets its own metrics row");

void http_routes_init(struct http_server *s)
{
    size_t n = 0;
    for (size_t i = 0; i < COUNT(routes_before); i++)
        s->routes[n++] = routes_before[i];
    for (size_t i = 0; i < api_endpoint_count && n < HTTP_MAX_ROUTES - COUNT(routes_after); i++) {
        const struct api_endpoint *e = &api_endpoints[i];
        s->routes[n++] = (struct http_route){e->path,        false, GET_POST,  ALLOW_GET_POST,
                                             http_serve_api, e,     e->summary};
    }
    for (size_t i = 0; i < COUNT(routes_after); i++)
        s->routes[n++] = routes_after[i];
    s->n_routes = n;
}

const struct http_route *http_route_find(const struct http_server *s, const char *url)
{
    for (size_t i = 0; i < s->n_routes; i++) {
        const struct http_route *rt = &s->routes[i];
        if (rt->prefix ? strncmp(url, rt->path, strlen(rt->path)) == 0 : strcmp(url, rt->path) == 0)
            return rt;
    }
    return NULL;
}

static const char *if_none_match(const struct http_request *req)
{
    return http_header(req, "If-None-Match");
}

/* ---- "/" and /health ----------------------------------------------------------------------- */

/* The index: the routes, their methods and summaries, and each computing endpoint's parameters. */
static void write_index(const struct http_server *s, struct jw *w)
{
    jw_object_begin(w);
    jw_key_string(w, "name", "gdlab");
    jw_key_string(w, "version", GDLAB_VERSION);
    jw_key_string(w, "description",
                  "Gradient descent, the learning rate and feature scaling, computed live");
    jw_key(w, "endpoints");
    jw_array_begin(w);
    for (size_t i = 0; i < s->n_routes; i++) {
        const struct http_route *rt = &s->routes[i];
        jw_object_begin(w);
        jw_key_string(w, "path", rt->path);
        jw_key(w, "methods");
        jw_array_begin(w);
        if (rt->methods & M_GET)
            jw_string(w, "GET");
        if (rt->methods & M_POST)
            jw_string(w, "POST");
        jw_array_end(w);
        jw_key_string(w, "summary", rt->summary);
        if (rt->endpoint) {
            jw_key(w, "params");
            api_params_write_names(w, rt->endpoint->bit);
        }
        jw_object_end(w);
    }
    jw_array_end(w);
    jw_object_end(w);
}

static void handle_index(struct http_server *s, struct http_request *req, struct http_reply *r)
{
    r->vary = "Accept";
    if (s->web.usable && http_accept_prefers_html(http_header(req, "Accept"))) {
        http_static_serve(&s->web, "index.html", if_none_match(req), INDEX_CACHE_CONTROL, req->url,
                          r);
        if (r->status != 404) {
            r->vary = "Accept";
            return;
        }
        http_reply_discard(r);
        http_reply_init(r);
        r->vary = "Accept";
    }
    struct jw w;
    jw_init(&w, 4096);
    write_index(s, &w);
    http_reply_json_take(r, &w);
    if (r->status != 200)
        return;
    /* the index changes only with the server: a tag of its bytes lets clients revalidate */
    struct http_etag_hasher h;
    http_etag_init(&h);
    http_etag_update(&h, r->body, r->len);
    http_etag_final(&h, "", r->etag);
    r->cache_control = INDEX_CACHE_CONTROL;
    if (http_etag_matches(if_none_match(req), r->etag))
        http_reply_not_modified(r);
}

/* /health's answer, the same every time. */
static const char health_body[] = "{\"status\":\"ok\"}";

bool http_health_reply_copy(struct http_reply *r)
{
    r->body = malloc(sizeof(health_body) - 1);
    if (!r->body)
        return false;
    memcpy(r->body, health_body, sizeof(health_body) - 1);
    r->len = sizeof(health_body) - 1;
    r->status = 200;
    r->content_type = "application/json";
    r->cache_control = "no-store";
    return true;
}

static void handle_health(struct http_server *s, struct http_request *req, struct http_reply *r)
{
    /* Probes and load balancers ask this most: answered with one response built at start-up
     * (a fresh one costs a dozen allocations for its headers), except while draining, when
     * answers carry Connection: close. */
    if (s->health && !atomic_load_explicit(&s->stopping, memory_order_relaxed)) {
        r->status = 200;
        r->len = sizeof(health_body) - 1;
        r->prepared = s->health;
        return;
    }
    if (!http_health_reply_copy(r))
        http_reply_problem_text(r, API_PROBLEM_OUT_OF_MEMORY, "out of memory", req->url);
}

static void handle_ready(struct http_server *s, struct http_request *req, struct http_reply *r)
{
    bool stopping = atomic_load(&s->stopping);
    const char *body = stopping ? "{\"status\":\"shutting_down\"}" : "{\"status\":\"ready\"}";
    r->body = strdup(body);
    if (!r->body) {
        http_reply_problem_text(r, API_PROBLEM_OUT_OF_MEMORY, "out of memory", req->url);
        return;
    }
    r->len = strlen(body);
    r->status = stopping ? 503 : 200;
    r->content_type = "application/json";
    r->cache_control = "no-store";
}

static void handle_metrics(struct http_server *s, struct http_request *req, struct http_reply *r)
{
    struct metrics_gauges g = {http_in_flight_total(s), atomic_load(&s->long_requests),
                               s->cfg->threads + s->cfg->queue};
    r->body = metrics_render(&s->metrics, &g, GDLAB_VERSION, &r->len);
    if (!r->body) {
        http_reply_problem_text(r, API_PROBLEM_OUT_OF_MEMORY, "out of memory writing the metrics",
                                req->url);
        return;
    }
    r->status = 200;
    r->content_type = "text/plain; version=0.0.4; charset=utf-8";
    r->cache_control = "no-store";
}

/* ---- the OpenAPI document and its explorer -------------------------------------------------- */

/* A copy of bytes that never change while the server runs, with their ETag: 304 when the client
 * has them already. */
static void reply_bytes(struct http_reply *r, const struct http_request *req, const void *data,
                        size_t len, const char *content_type, const char *etag,
                        const char *cache_control)
{
    snprintf(r->etag, sizeof(r->etag), "%s", etag);
    r->cache_control = cache_control;
    r->content_type = content_type;
    if (http_etag_matches(if_none_match(req), r->etag)) {
        http_reply_not_modified(r);
        return;
    }
    r->body = malloc(len ? len : 1);
    if (!r->body) {
        http_reply_problem_text(r, API_PROBLEM_OUT_OF_MEMORY, "out of memory", req->url);
        return;
    }
    memcpy(r->body, data, len);
    r->len = len;
    r->status = 200;
}

static void handle_openapi(struct http_server *s, struct http_request *req, struct http_reply *r)
{
    (void)s;
    if (strcmp(req->url, "/openapi.yaml") == 0)
        reply_bytes(r, req, http_openapi_yaml, http_openapi_yaml_len, "application/yaml",
                    http_openapi_yaml_etag, DOC_CACHE_CONTROL);
    else
        reply_bytes(r, req, http_openapi_json, http_openapi_json_len, "application/json",
                    http_openapi_json_etag, DOC_CACHE_CONTROL);
}

static void handle_docs(struct http_server *s, struct http_request *req, struct http_reply *r)
{
    reply_bytes(r, req, http_docs_page_html, http_docs_page_html_len, "text/html; charset=utf-8",
                s->docs_etag, DOC_CACHE_CONTROL);
}

static void handle_docs_asset(struct http_server *s, struct http_request *req, struct http_reply *r)
{
    const char *name = req->url + strlen("/docs/");
    if (!http_docs_asset_allowed(name)) {
        http_reply_problem_text(r, API_PROBLEM_NOT_FOUND,
                                "no such file of the API explorer; the explorer is at /docs",
                                req->url);
        return;
    }
    http_static_serve(&s->docs, name, if_none_match(req), DOCS_ASSET_CACHE_CONTROL, req->url, r);
}

/* ---- static files and problem types ---------------------------------------------------------- */

static void handle_static(struct http_server *s, struct http_request *req, struct http_reply *r)
{
    http_static_serve(&s->web, req->url + strlen("/static/"), if_none_match(req),
                      STATIC_CACHE_CONTROL, req->url, r);
}

/* The documentation a problem document's type URI points at. */
static void handle_problem_type(struct http_server *s, struct http_request *req,
                                struct http_reply *r)
{
    (void)s;
    enum api_problem_type type;
    if (!api_problem_find(req->url + strlen("/problems/"), &type)) {
        http_reply_problem_text(r, API_PROBLEM_NOT_FOUND, "no such problem type", req->url);
        return;
    }
    struct jw w;
    jw_init(&w, 512);
    jw_object_begin(&w);
    jw_key_string(&w, "type", req->url);
    jw_key_string(&w, "title", api_problem_title(type));
    jw_key_uint(&w, "status", (uint64_t)api_problem_status(type));
    jw_key_string(&w, "description", api_problem_description(type));
    jw_object_end(&w);
    http_reply_json_take(r, &w);
}
