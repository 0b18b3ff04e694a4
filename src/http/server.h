/* The HTTP server: libmicrohttpd with epoll and a thread pool, serving the route table. */
#ifndef GDLAB_HTTP_SERVER_H
#define GDLAB_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/param.h"

/* Everything the command line and the environment set. */
struct http_config {
    const char *bind;         /* IPv4 or IPv6 address; 127.0.0.1 */
    uint16_t port;            /* 8080; 0 lets the system choose (the chosen port is logged) */
    unsigned threads;         /* worker threads; the CPUs this process may run on */
    const char *cors_origin;  /* Access-Control-Allow-Origin ("*" by default), NULL for none */
    const char *web_root;     /* directory of the web front-end */
    const char *docs_root;    /* directory of swagger-ui-dist, for /docs */
    bool access_log;          /* one line per request on stderr */
    unsigned shutdown_grace;  /* seconds in-flight requests get after SIGINT/SIGTERM */
    unsigned timeout;         /* seconds a connection may stay idle or send nothing; slowloris */
    unsigned max_connections; /* connections served at once; more wait in the listen backlog */
    unsigned queue;           /* long requests that may wait for a compute thread; more get 503 */
    double deadline;          /* seconds from arrival a request may take to compute; 0: none */
    size_t response_cache;    /* small answers kept for repeated requests; 0: none */
    struct api_limits limits;
};

/* Serve until SIGINT or SIGTERM, then drain requests in flight; 0 on a clean stop. */
int http_server_run(const struct http_config *cfg);

#endif
