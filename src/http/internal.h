/* The adapter's own state, shared by its modules: the server, one request from its first byte to
 * its completion, and the route table. Nothing outside src/http includes this. */
#ifndef GDLAB_HTTP_INTERNAL_H
#define GDLAB_HTTP_INTERNAL_H

#include <microhttpd.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "api/endpoint.h"
#include "api/param.h"
#include "encode/json_writer.h"
#include "http/etag.h"
#include "http/reply.h"
#include "http/server.h"
#include "http/static_files.h"
#include "ops/metrics.h"
#include "ops/offload.h"

/* Methods as bits, so that a route lists those it takes. */
enum http_method { M_GET = 1u << 0, M_HEAD = 1u << 1, M_POST = 1u << 2, M_OPTIONS = 1u << 3 };

/* The most routes: the fixed ones and one per computing endpoint. */
#define HTTP_MAX_ROUTES 24
#define HTTP_MAX_QUERY_ARGS 64
#define HTTP_LOG_PATH_MAX 256

struct http_server;
struct http_request;
typedef void (*http_route_fn)(struct http_server *s, struct http_request *req,
                              struct http_reply *r);

/* One row per path; prefix routes match everything below their path. */
struct http_route {
    const char *path;
    bool prefix;
    unsigned methods;
    const char *allow; /* the Allow header for methods */
    http_route_fn handle;
    const struct api_endpoint *endpoint; /* computing routes only */
    const char *summary;
};

/* Requests begun and not yet completed, counted per thread (a request begins and completes on
 * the same libmicrohttpd thread) so that the threads never write the same cache line. */
#define HTTP_IN_FLIGHT_SHARDS 8
struct http_in_flight_shard {
    _Alignas(64) atomic_long n;
};

struct http_server {
    const struct http_config *cfg;
    struct http_route routes[HTTP_MAX_ROUTES];
    size_t n_routes;
    struct http_static_root web;
    struct http_static_root docs;  /* swagger-ui-dist for /docs/ */
    char docs_etag[HTTP_ETAG_MAX]; /* of the explorer page, which changes only with the server */
    struct http_in_flight_shard in_flight[HTTP_IN_FLIGHT_SHARDS];
    struct offload *pool;         /* long requests; NULL: all on their connection's thread */
    struct offload *busy_pool;    /* long requests while others are in flight, at lower priority */
    struct response_cache *cache; /* NULL: none */
    struct access_log *log;       /* NULL: no access log */
    struct metrics metrics;
    atomic_bool stopping;        /* SIGINT/SIGTERM came: /ready answers 503 */
    struct MHD_Response *health; /* /health's answer, built once; NULL: built per request */
    atomic_bool abandon;         /* the shutdown grace ran out: long requests give up at once */
    uint64_t deadline_ns;        /* --deadline; 0: none */
    atomic_uint long_requests;   /* admitted to the pools and not finished: <= threads + queue */
};

/* When a request's computation gives up: --deadline after its arrival, or at once when the server
 * abandons requests at the end of its shutdown grace. */
struct http_deadline {
    uint64_t at_ns; /* UINT64_MAX: never */
    const atomic_bool *abandon;
};

/* A computing request's state between the steps of its path (serve_api.c). */
struct http_api_state {
    bool accept_csv;  /* Accept prefers CSV (and the endpoint has it) */
    bool accept_npz;  /* Accept prefers npz */
    bool npz_body;    /* a POST whose body is an .npz archive (parameters in the query) */
    const char *inm;  /* If-None-Match of a GET; NULL: none */
    bool params_live; /* params hold a parse's allocations */
    struct api_params params;
    struct jw key;            /* its cache key, when keyed */
    bool keyed;               /* key is complete and names the answer in the cache */
    char etag[HTTP_ETAG_MAX]; /* of the answer, known before it is computed */
};

/* Per request, from the first call of the access handler to the completion callback, which
 * alone frees it and everything it owns (http_request_free). */
struct http_request {
    struct http_server *server;
    struct MHD_Connection *conn;
    const struct http_route *route;
    unsigned method;
    uint64_t start_ns;
    const char *url; /* valid for the request's lifetime */
    char method_name[16];
    char log_path[HTTP_LOG_PATH_MAX];
    char *body; /* a POST body as it arrives; owned */
    size_t body_len;
    size_t body_cap;
    bool body_overflow;
    bool gzip_ok; /* the client accepts gzip */
    bool answered;
    unsigned status;
    uint64_t bytes;
    struct http_deadline deadline;
    struct http_api_state api;
    /* a long request: suspended while a compute pool fills job_reply */
    struct offload_job job;
    bool deferred;
    bool job_done;
    struct http_reply job_reply;
};

/* A request header's value; NULL when absent. */
const char *http_header(const struct http_request *req, const char *name);

/* Fill the route table: the fixed routes around one row per computing endpoint. */
void http_routes_init(struct http_server *s);

/* The route of a path; NULL when none matches. */
const struct http_route *http_route_find(const struct http_server *s, const char *url);

/* A computing endpoint's request, from its query or body to its answer (serve_api.c). */
void http_serve_api(struct http_server *s, struct http_request *req, struct http_reply *r);

/* Count a request begun at now into this thread's window of recent requests, which tells whether
 * the server is busy when a long request is scheduled. */
void http_count_request(uint64_t now);

/* Release what a computing request's steps left: its parameters and its cache key. */
void http_api_state_free(struct http_api_state *a);

/* Release what a request owns, and the request; called from the completion callback only. */
void http_request_free(struct http_request *req);

/* /health's fixed answer into r with a body of its own; false when out of memory. */
bool http_health_reply_copy(struct http_reply *r);

/* A libmicrohttpd response for r with the headers every answer carries; r's body or file becomes
 * the response's (r is emptied). NULL when memory runs out. */
struct MHD_Response *http_response_new(const struct http_server *s, unsigned method,
                                       struct http_reply *r, bool close);

/* The access handler and completion callback that libmicrohttpd calls (handler.c). */
enum MHD_Result http_access_handler(void *cls, struct MHD_Connection *conn, const char *url,
                                    const char *method, const char *version,
                                    const char *upload_data, size_t *upload_data_size,
                                    void **con_cls);
void http_request_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                            enum MHD_RequestTerminationCode toe);
size_t http_unescape(void *cls, struct MHD_Connection *conn, char *s);

/* Requests in flight now, over all threads. */
long http_in_flight_total(struct http_server *s);

#endif
