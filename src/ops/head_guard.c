/*
 * libmicrohttpd's connection timeout is an idle timeout: a client that sends one header byte every
 * few seconds is never idle, and 500 of them hold 500 connections for ever. The guard gives every
 * request head a deadline instead. Each connection is tracked from libmicrohttpd's connection
 * notifications; a sweeper thread shuts down (shutdown(2), not close: the socket stays
 * libmicrohttpd's) the ones whose head is overdue, and libmicrohttpd then closes them as it would
 * any connection the peer dropped. The list is under one mutex, which the CLOSED notification also
 * takes, so a socket is never shut down after libmicrohttpd has closed it.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, shutdown */

#include "ops/head_guard.h"

#include "ops/clock.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

/* How often the sweeper looks, in milliseconds. */
#define SWEEP_INTERVAL_MS 250

struct head_clock {
    struct head_clock *prev;
    struct head_clock *next;
    int fd;
    _Atomic uint64_t waiting_since_ns; /* 0: a request is being served, or already shut down */
};

struct head_guard {
    uint64_t timeout_ns;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stopping;
    struct head_clock head; /* sentinel of a circular list */
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
        atomic_init(&c->waiting_since_ns, now_ns());
        pthread_mutex_lock(&g->lock);
        c->next = g->head.next;
        c->prev = &g->head;
        g->head.next->prev = c;
        g->head.next = c;
        pthread_mutex_unlock(&g->lock);
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        struct head_clock *c = *socket_context;
        if (!c)
            return;
        pthread_mutex_lock(&g->lock);
        c->prev->next = c->next;
        c->next->prev = c->prev;
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

void head_guard_request_started(struct MHD_Connection *conn)
{
    struct head_clock *c = clock_of(conn);
    if (c)
        atomic_store_explicit(&c->waiting_since_ns, 0, memory_order_relaxed);
}

void head_guard_request_done(struct MHD_Connection *conn, uint64_t now)
{
    struct head_clock *c = clock_of(conn);
    if (c)
        atomic_store_explicit(&c->waiting_since_ns, now, memory_order_relaxed);
}
