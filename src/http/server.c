/*
 * The server's lifecycle: libmicrohttpd started with epoll and a thread pool, the compute pools,
 * the cache, the log and the guard around it; then a wait for SIGINT or SIGTERM, and a drain of
 * the requests in flight within the shutdown grace.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gdlab/gdlab.h"
#include "http/docs.h"
#include "http/internal.h"
#include "ops/access_log.h"
#include "ops/clock.h"
#include "ops/conn_limit.h"
#include "ops/epoll_tick.h"
#include "ops/head_guard.h"
#include "ops/response_cache.h"

/* The nice value of the pool for long requests while the server is busy with others. */
#define OFFLOAD_BUSY_NICE 10
/* Allocations from this size on are mmap'd and go back to the system when freed; glibc's default
 * threshold starts at 128 KiB but rises to the largest block freed (up to 32 MiB), after which
 * multi-megabyte answers come from the heaps and leave them fragmented. */
#define MMAP_THRESHOLD (128 * 1024)
/* How much further than asked a heap grows, and what it keeps free at its top. glibc's default
 * (128 KiB) leaves no room for an answer past the mmap threshold, so a 200 KB surface became a
 * fresh mmap per request: page faults, munmap and TLB shootdowns across the threads, costing more
 * than formatting its 10,201 numbers. With room at the top, answers up to this size reuse the same
 * heap pages; bigger ones are still mmap'd, and the periodic malloc_trim hands the pad back. */
#define TOP_PAD (4 * 1024 * 1024)
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
/* The statuses a request can get besides the problems' own. */
static const unsigned success_statuses[] = {200, 204, 304};

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

/* Label the metrics with the routes and with every status a request can get. */
static void metrics_start(struct http_server *s)
{
    const char *route_names[HTTP_MAX_ROUTES];
    unsigned statuses[API_PROBLEM_COUNT + 3];
    size_t n_statuses = sizeof(success_statuses) / sizeof(success_statuses[0]);
    memcpy(statuses, success_statuses, sizeof(success_statuses));
    n_statuses += api_problem_statuses(statuses + n_statuses);
    for (size_t i = 0; i < s->n_routes; i++)
        route_names[i] = s->routes[i].path;
    metrics_init(&s->metrics, route_names, s->n_routes, statuses, n_statuses);
}

int http_server_run(const struct http_config *cfg)
{
    struct http_server s = {.cfg = cfg};
    for (size_t i = 0; i < HTTP_IN_FLIGHT_SHARDS; i++)
        atomic_init(&s.in_flight[i].n, 0);
    atomic_init(&s.stopping, false);
    atomic_init(&s.abandon, false);
    atomic_init(&s.long_requests, 0);
    s.deadline_ns = (uint64_t)(cfg->deadline * 1e9);
    http_routes_init(&s);
    metrics_start(&s);
    struct http_etag_hasher h;
    http_etag_init(&h);
    http_etag_update_str(&h, GDLAB_VERSION);
    http_etag_update(&h, http_docs_page_html, http_docs_page_html_len);
    http_etag_final(&h, "", s.docs_etag);
    struct sockaddr_storage addr;
    if (make_address(cfg->bind, cfg->port, &addr) != 0) {
        fprintf(stderr, "gdlab: --bind %s is not an IPv4 or IPv6 address\n", cfg->bind);
        return 2;
    }
    if (http_static_root_open(&s.web, cfg->web_root) != 0)
        fprintf(stderr, "gdlab: web root %s is not a directory; / answers JSON only\n",
                cfg->web_root);
    if (http_static_root_open(&s.docs, cfg->docs_root) != 0)
        fprintf(stderr, "gdlab: docs root %s is not a directory; /docs has no explorer files\n",
                cfg->docs_root);

    api_params_global_init();
    mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD);
    mallopt(M_TOP_PAD, TOP_PAD);

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
    struct epoll_tick *ticker = NULL; /* libmicrohttpd's epoll stall: ops/epoll_tick.c */
    struct conn_limit *limit = NULL;  /* idle connections make room: ops/conn_limit.c */
    unsigned flags =
        MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
    if (addr.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    struct MHD_OptionItem options[] = {
        {MHD_OPTION_SOCK_ADDR, 0, &addr},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)http_request_completed, &s},
        {MHD_OPTION_UNESCAPE_CALLBACK, (intptr_t)http_unescape, NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, cfg->timeout, NULL},
        {MHD_OPTION_CONNECTION_LIMIT, cfg->max_connections, NULL},
        {guard ? MHD_OPTION_NOTIFY_CONNECTION : MHD_OPTION_END, (intptr_t)head_guard_notify, guard},
        /* a request line marks its connection busy, so that it is never closed to make room */
        {guard ? MHD_OPTION_URI_LOG_CALLBACK : MHD_OPTION_END, (intptr_t)head_guard_uri_log, guard},
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
    struct http_reply health;
    http_reply_init(&health);
    if (http_health_reply_copy(&health))
        s.health = http_response_new(&s, M_GET, &health, false);
    if (cfg->access_log && !(s.log = access_log_new(STDERR_FILENO)))
        fprintf(stderr, "gdlab: cannot start the access log; requests go unlogged\n");
    struct MHD_Daemon *d = MHD_start_daemon(flags, cfg->port, NULL, NULL, http_access_handler, &s,
                                            MHD_OPTION_ARRAY, options, MHD_OPTION_END);
    long left = 0; /* requests still in flight when the grace ran out */
    if (!d) {
        fprintf(stderr, "gdlab: cannot listen on %s port %u: %s\n", cfg->bind, cfg->port,
                strerror(errno));
        goto out_release;
    }
    ticker = epoll_tick_start(EPOLL_TICK_MS);
    limit = conn_limit_start(d, guard, cfg->max_connections);
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    unsigned port = info ? info->port : cfg->port;
    fprintf(stderr, "gdlab %s listening on http://%s%s%s:%u/ (%u threads, web root %s)\n",
            GDLAB_VERSION, addr.ss_family == AF_INET6 ? "[" : "", cfg->bind,
            addr.ss_family == AF_INET6 ? "]" : "", port, cfg->threads,
            s.web.usable ? s.web.path : "none");

    /* Wait for a stop signal, trimming the heaps on the way: without it, freed pages stay scattered
     * in the threads' arenas and a long run's RSS creeps up (the soak test watches it). */
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
    conn_limit_free(limit); /* before the listen socket it watches closes */
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
        if (http_in_flight_total(&s) == 0 || now >= end)
            break;
        struct timespec tick = {0, 10 * 1000 * 1000};
        nanosleep(&tick, NULL);
    }
    left = http_in_flight_total(&s);
    atomic_store(&s.abandon, true);

out_release:
    /* the pools first: their jobs resume their connections, which must still exist */
    offload_free(s.pool);
    offload_free(s.busy_pool);
    if (d)
        MHD_stop_daemon(d);
    epoll_tick_free(ticker); /* after the daemon, whose epoll sets hold its descriptor */
    if (s.health)
        MHD_destroy_response(s.health);
    head_guard_free(guard); /* after the daemon: every connection it tracked is closed */
    access_log_free(s.log); /* after the daemon: its threads write the last lines */
    response_cache_free(s.cache);
    http_static_root_close(&s.web);
    http_static_root_close(&s.docs);
    if (!d)
        return 1;
    if (left > 0)
        fprintf(stderr, "gdlab: stopped with %ld requests unfinished after %u s\n", left,
                cfg->shutdown_grace);
    else
        fprintf(stderr, "gdlab: stopped\n");
    return 0;
}
