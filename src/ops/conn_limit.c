/*
 * libmicrohttpd divides MHD_OPTION_CONNECTION_LIMIT among its pool threads (512 each of 1024 on
 * two), and a thread at its share takes the listen socket out of its epoll set: a client beyond
 * the limit stays in the kernel's listen backlog, unanswered, until some connection ends. Idle
 * keep-alive connections end only at --timeout, so 1,024 clients that each keep an idle
 * connection (browsers, HTTP client pools) locked everyone else out for up to 15 s.
 *
 * nginx, out of connections, closes its idle keep-alive ones to admit new clients. The watcher
 * here does the same from outside libmicrohttpd: while the guard counts `limit` connections (both
 * threads full), it reads the listen socket's backlog length (TCP_INFO's tcpi_unacked of a
 * listening socket), and shuts down that many idle connections, the longest idle first
 * (head_guard_close_idle). libmicrohttpd sees the peer gone, closes them in its own threads,
 * puts the listen socket back in that thread's epoll set and accepts the waiting clients.
 * A connection with a request in progress (from its request line to the end of its response,
 * including bodies being uploaded and long requests computing) is never chosen, and neither is
 * one paused for less than CONN_LIMIT_MIN_IDLE_MS, so that a burst of busy clients past the limit
 * keeps the admitted ones at full speed while the excess waits in the backlog.
 */
#define _GNU_SOURCE /* sysinfo, TCP_INFO */

#include "ops/conn_limit.h"

#include "ops/clock.h"
#include "ops/head_guard.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/sysinfo.h>

/* How often the watcher looks at the backlog while at the limit, in milliseconds. */
#define WATCH_INTERVAL_MS 10

struct conn_limit {
    struct head_guard *guard;
    int listen_fd;
    unsigned limit;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stopping;
    pthread_t thread;
};

/* Clients waiting in the listen backlog of fd; 0 when unknown. */
static unsigned backlog_of(int fd)
{
    struct tcp_info ti;
    socklen_t len = sizeof(ti);
    memset(&ti, 0, sizeof(ti));
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0 || ti.tcpi_state != TCP_LISTEN)
        return 0;
    return ti.tcpi_unacked; /* for a listening socket: the accept queue's length */
}

static void *watch(void *arg)
{
    struct conn_limit *l = arg;
    pthread_mutex_lock(&l->lock);
    while (!l->stopping) {
        struct timespec until = realtime_after_ms(WATCH_INTERVAL_MS);
        pthread_cond_timedwait(&l->wake, &l->lock, &until);
        if (l->stopping || head_guard_connections(l->guard) < l->limit)
            continue;
        /* connections already shut down make room as soon as libmicrohttpd closes them */
        unsigned waiting = backlog_of(l->listen_fd), closing = head_guard_closing(l->guard);
        if (waiting > closing)
            head_guard_close_idle(l->guard, waiting - closing,
                                  CONN_LIMIT_MIN_IDLE_MS * UINT64_C(1000000));
    }
    pthread_mutex_unlock(&l->lock);
    return NULL;
}

struct conn_limit *conn_limit_start(struct MHD_Daemon *d, struct head_guard *g, unsigned limit)
{
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_LISTEN_FD);
    if (!g || !info || info->listen_fd == MHD_INVALID_SOCKET)
        return NULL;
    struct conn_limit *l = calloc(1, sizeof(*l));
    if (!l)
        return NULL;
    l->guard = g;
    l->listen_fd = info->listen_fd;
    l->limit = limit;
    pthread_mutex_init(&l->lock, NULL);
    pthread_cond_init(&l->wake, NULL);
    if (pthread_create(&l->thread, NULL, watch, l) != 0) {
        pthread_cond_destroy(&l->wake);
        pthread_mutex_destroy(&l->lock);
        free(l);
        return NULL;
    }
    return l;
}

void conn_limit_free(struct conn_limit *l)
{
    if (!l)
        return;
    pthread_mutex_lock(&l->lock);
    l->stopping = true;
    pthread_cond_signal(&l->wake);
    pthread_mutex_unlock(&l->lock);
    pthread_join(l->thread, NULL);
    pthread_cond_destroy(&l->wake);
    pthread_mutex_destroy(&l->lock);
    free(l);
}

/* The memory this process may use: its cgroup's limit (containers) or else MemAvailable; 0 when
 * neither can be read. */
static uint64_t available_memory(void)
{
    uint64_t avail = 0;
    FILE *f = fopen("/proc/meminfo", "r");
    if (f) {
        char line[128];
        unsigned long long kib;
        while (fgets(line, sizeof(line), f))
            if (sscanf(line, "MemAvailable: %llu kB", &kib) == 1)
                avail = (uint64_t)kib * 1024u;
        fclose(f);
    }
    struct sysinfo si;
    if (!avail && sysinfo(&si) == 0)
        avail = (uint64_t)si.freeram * si.mem_unit;
    /* cgroup v2, then v1; "max" or a huge v1 value means no limit */
    static const char *const cgroup_limits[] = {"/sys/fs/cgroup/memory.max",
                                                "/sys/fs/cgroup/memory/memory.limit_in_bytes"};
    for (size_t i = 0; i < 2; i++) {
        f = fopen(cgroup_limits[i], "r");
        if (!f)
            continue;
        unsigned long long v;
        if (fscanf(f, "%llu", &v) == 1 && v > 0 && (!avail || v < avail))
            avail = v;
        fclose(f);
        break;
    }
    return avail;
}

unsigned conn_limit_default(uint64_t *nofile, uint64_t *mem_bytes)
{
    struct rlimit rl;
    uint64_t fds = 1024;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        if (rl.rlim_cur < rl.rlim_max) {
            struct rlimit raised = {rl.rlim_max, rl.rlim_max};
            if (setrlimit(RLIMIT_NOFILE, &raised) == 0)
                rl.rlim_cur = rl.rlim_max;
        }
        fds = rl.rlim_cur == RLIM_INFINITY ? UINT64_C(1) << 20 : (uint64_t)rl.rlim_cur;
    }
    uint64_t by_fds = fds > CONN_LIMIT_RESERVED_FDS ? (fds - CONN_LIMIT_RESERVED_FDS) / 2 : 0;
    uint64_t mem = available_memory();
    uint64_t by_mem = mem ? mem / 4 / CONN_LIMIT_COST_BYTES : by_fds;
    uint64_t n = by_fds < by_mem ? by_fds : by_mem;
    if (n < 16)
        n = 16;
    if (n > 1000000)
        n = 1000000;
    if (nofile)
        *nofile = fds;
    if (mem_bytes)
        *mem_bytes = mem;
    return (unsigned)n;
}

void conn_limit_help(char *buf, size_t cap, uint64_t limit, uint64_t nofile, uint64_t mem_bytes)
{
    snprintf(buf, cap,
             "connections served at once; past them idle keep-alive ones are closed to make room, "
             "else new ones wait to be accepted (%llu here: min((RLIMIT_NOFILE %llu - %u) / 2, "
             "1/4 of %llu MiB / %u KiB))",
             (unsigned long long)limit, (unsigned long long)nofile, CONN_LIMIT_RESERVED_FDS,
             (unsigned long long)(mem_bytes >> 20), CONN_LIMIT_COST_BYTES / 1024u);
}
