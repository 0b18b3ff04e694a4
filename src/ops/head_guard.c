/*
 * libmicrohttpd's connection timeout is an idle timeout: a client that sends one header byte every
 * few seconds is never idle, and 500 of them hold 500 connections for ever. The guard gives every
 * request head a deadline instead. Each connection is tracked from libmicrohttpd's connection
 * notifications; a sweeper thread shuts down (shutdown(2), not close: the socket stays
 * libmicrohttpd's) the ones whose head is overdue, and libmicrohttpd then closes them as it would
 * any connection the peer dropped. The list is under one mutex, which the CLOSED notification also
 * takes, so a socket is never shut down after libmicrohttpd has closed it.
 *
 * The same list serves the connection limit (conn_limit.c): each connection also records since
 * when it has been idle (no request in progress: from its start or its previous response until
 * its next request line), and head_guard_close_idle() shuts down the longest idle ones to make
 * room, as nginx closes its "reusable" keep-alive connections when it runs out.
 */
#define _DEFAULT_SOURCE /* clock_gettime, shutdown, FIONREAD */

#include "ops/head_guard.h"

#include "ops/clock.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>

/* How often the sweeper looks, in milliseconds. */
#define SWEEP_INTERVAL_MS 250

struct head_clock {
    struct head_clock *prev;
    struct head_clock *next;
    int fd;
    _Atomic uint64_t waiting_since_ns; /* 0: a request is being served, or already shut down */
    _Atomic uint64_t idle_since_ns;    /* 0: a request line has arrived and is not yet answered */
    bool made_room;                    /* shut down by head_guard_close_idle; under the lock */
};

struct head_guard {
    uint64_t timeout_ns;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stopping;
    struct head_clock head;   /* sentinel of a circular list */
    _Atomic unsigned count;   /* connections in the list; written under lock */
    _Atomic unsigned closing; /* of them, shut down to make room and not yet closed */
    pthread_t thread;
};

static void *sweep(void *arg)
{
    struct head_guard *g = arg;
    pthread_mutex_lock(&g->lock);
    while (!g->stopping) {
        struct timespec until = realtime_after_ms(SWEEP_INTERVAL_MS);
        pthread_cond_timedwait(&g->wake, &g->lock, &until);
        uint64_t now = now_ns();
        for (struct head_clock *c = g->head.next; c != &g->head; c = c->next) {
            uint64_t since = atomic_load_explicit(&c->waiting_since_ns, memory_order_relaxed);
            /* since may be later than now: a response finished after now was read */
            if (since && since < now && now - since > g->timeout_ns) {
                atomic_store_explicit(&c->waiting_since_ns, 0, memory_order_relaxed);
                shutdown(c->fd, SHUT_RDWR);
            }
        }
    }
    pthread_mutex_unlock(&g->lock);
    return NULL;
}

struct head_guard *head_guard_new(unsigned timeout_s)
{
    struct head_guard *g = calloc(1, sizeof(*g));
    if (!g)
        return NULL;
    g->timeout_ns = (uint64_t)timeout_s * 1000000000u;
    g->head.next = g->head.prev = &g->head;
    pthread_mutex_init(&g->lock, NULL);
    pthread_cond_init(&g->wake, NULL);
    if (pthread_create(&g->thread, NULL, sweep, g) != 0) {
        pthread_cond_destroy(&g->wake);
        pthread_mutex_destroy(&g->lock);
        free(g);
        return NULL;
    }
    return g;
}

void head_guard_free(struct head_guard *g)
{
    if (!g)
        return;
    pthread_mutex_lock(&g->lock);
    g->stopping = true;
    pthread_cond_signal(&g->wake);
    pthread_mutex_unlock(&g->lock);
    pthread_join(g->thread, NULL);
    /* the daemon has stopped, so every connection was closed and removed */
    pthread_cond_destroy(&g->wake);
    pthread_mutex_destroy(&g->lock);
    free(g);
}

void head_guard_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                       enum MHD_ConnectionNotificationCode code)
{
    struct head_guard *g = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *info =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        struct head_clock *c = info ? calloc(1, sizeof(*c)) : NULL;
        *socket_context = c;
        if (!c)
            return; /* untracked: only the idle timeout applies */
        c->fd = info->connect_fd;
        uint64_t now = now_ns();
        atomic_init(&c->waiting_since_ns, now);
        atomic_init(&c->idle_since_ns, now);
        pthread_mutex_lock(&g->lock);
        c->next = g->head.next;
        c->prev = &g->head;
        g->head.next->prev = c;
        g->head.next = c;
        atomic_fetch_add_explicit(&g->count, 1, memory_order_relaxed);
        pthread_mutex_unlock(&g->lock);
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        struct head_clock *c = *socket_context;
        if (!c)
            return;
        pthread_mutex_lock(&g->lock);
        c->prev->next = c->next;
        c->next->prev = c->prev;
        atomic_fetch_sub_explicit(&g->count, 1, memory_order_relaxed);
        if (c->made_room)
            atomic_fetch_sub_explicit(&g->closing, 1, memory_order_relaxed);
        pthread_mutex_unlock(&g->lock);
        free(c);
        *socket_context = NULL;
    }
}

static struct head_clock *clock_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info ? info->socket_context : NULL;
}

void *head_guard_uri_log(void *cls, const char *uri, struct MHD_Connection *conn)
{
    (void)cls;
    (void)uri;
    struct head_clock *c = clock_of(conn);
    if (c)
        atomic_store_explicit(&c->idle_since_ns, 0, memory_order_relaxed);
    return NULL; /* the access handler's *con_cls stays NULL until its first call */
}

void head_guard_request_started(struct MHD_Connection *conn)
{
    struct head_clock *c = clock_of(conn);
    if (c) {
        atomic_store_explicit(&c->waiting_since_ns, 0, memory_order_relaxed);
        atomic_store_explicit(&c->idle_since_ns, 0, memory_order_relaxed);
    }
}

void head_guard_request_done(struct MHD_Connection *conn, uint64_t now)
{
    struct head_clock *c = clock_of(conn);
    if (c) {
        atomic_store_explicit(&c->waiting_since_ns, now, memory_order_relaxed);
        atomic_store_explicit(&c->idle_since_ns, now, memory_order_relaxed);
    }
}

unsigned head_guard_connections(struct head_guard *g)
{
    return atomic_load_explicit(&g->count, memory_order_relaxed);
}

unsigned head_guard_closing(struct head_guard *g)
{
    return atomic_load_explicit(&g->closing, memory_order_relaxed);
}

/* Orders candidates by idle_since_ns, oldest first. */
static int older_first(const void *a, const void *b)
{
    uint64_t x = atomic_load_explicit(&(*(struct head_clock *const *)a)->idle_since_ns,
                                      memory_order_relaxed);
    uint64_t y = atomic_load_explicit(&(*(struct head_clock *const *)b)->idle_since_ns,
                                      memory_order_relaxed);
    return x < y ? -1 : x > y;
}

/* No byte of a next request is waiting in c's socket. */
static bool nothing_to_read(const struct head_clock *c)
{
    int pending = 0;
    return ioctl(c->fd, FIONREAD, &pending) == 0 && pending == 0;
}

unsigned head_guard_close_idle(struct head_guard *g, unsigned n, uint64_t min_idle_ns)
{
    if (n == 0)
        return 0;
    unsigned closed = 0;
    pthread_mutex_lock(&g->lock);
    uint64_t now = now_ns();
    size_t cap = atomic_load_explicit(&g->count, memory_order_relaxed), k = 0;
    struct head_clock **idle = cap ? malloc(cap * sizeof(*idle)) : NULL;
    for (struct head_clock *c = g->head.next; idle && c != &g->head && k < cap; c = c->next) {
        uint64_t since = atomic_load_explicit(&c->idle_since_ns, memory_order_relaxed);
        if (since && since < now && now - since >= min_idle_ns)
            idle[k++] = c;
    }
    if (k > n)
        qsort(idle, k, sizeof(*idle), older_first);
    for (size_t i = 0; i < k && closed < n; i++) {
        struct head_clock *c = idle[i];
        /* Between the load in the scan and this exchange a request line may have arrived: the
         * exchange then fails and the connection is left alone. Bytes already in the socket but
         * not yet read by libmicrohttpd are a request too. What remains is nginx's race: a request
         * sent while the shutdown is under way meets a closed connection (a client retries an
         * idempotent request on a kept-alive connection that closes, RFC 9112 9.3.1). */
        uint64_t since = atomic_load_explicit(&c->idle_since_ns, memory_order_relaxed);
        if (!since || !nothing_to_read(c) ||
            !atomic_compare_exchange_strong(&c->idle_since_ns, &since, 0))
            continue;
        atomic_store_explicit(&c->waiting_since_ns, 0, memory_order_relaxed);
        shutdown(c->fd, SHUT_RDWR);
        c->made_room = true;
        atomic_fetch_add_explicit(&g->closing, 1, memory_order_relaxed);
        closed++;
    }
    pthread_mutex_unlock(&g->lock);
    free(idle);
    return closed;
}
