/*
 * libmicrohttpd 0.9.75's epoll loop (MHD_epoll in daemon.c) drains the kernel's ready list in
 * rounds of MAX_EVENTS (128) events: while a round comes back full it calls epoll_wait again, with
 * the same timeout as the first, before it serves any of the connections it has collected. When
 * exactly 128, 256, ... connections are ready and nothing else happens, the next epoll_wait sleeps
 * until the first connection timeout (up to --timeout seconds) while every one of those requests
 * waits unanswered: their clients wait for answers, so they send nothing that would wake it. At
 * the connection limit this is the rule, not the exception: each thread holds exactly its share of
 * the limit (512 of 1024 on 2 threads, 4 x 128), the listen socket is out of its epoll set, and
 * synchronous clients such as wrk get ready all at once. The whole server then goes deaf.
 *
 * The workaround: one eventfd, registered edge-triggered in each of libmicrohttpd's epoll sets
 * with a NULL data pointer, which libmicrohttpd's loop skips ("shutdown signal"), and a thread that
 * writes to it every period. Edge-triggered, every write is a new event in every set, so a stuck
 * round ends within one period; nobody reads the counter (it would take 10^10 years to fill). A
 * timerfd would need reading to fire again. libmicrohttpd does not expose the epoll descriptors of
 * its pool threads, so they are found in /proc/self/fd; gdlab itself creates no epoll set.
 */
#define _GNU_SOURCE /* O_DIRECTORY, readlinkat */

#include "ops/epoll_tick.h"

#include "ops/clock.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct epoll_tick {
    int event_fd;
    long period_ms;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stopping;
    pthread_t thread;
};

static void *ticker(void *arg)
{
    struct epoll_tick *t = arg;
    pthread_mutex_lock(&t->lock);
    while (!t->stopping) {
        struct timespec until = realtime_after_ms(t->period_ms);
        pthread_cond_timedwait(&t->wake, &t->lock, &until);
        uint64_t one = 1;
        if (write(t->event_fd, &one, sizeof(one)) < 0) {
            /* cannot fail short of a full counter; the next period tries again */
        }
    }
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

/* Registers fd in every epoll set of the process; the number of sets. */
static unsigned add_to_epoll_sets(int event_fd)
{
    DIR *dir = opendir("/proc/self/fd");
    if (!dir)
        return 0;
    unsigned added = 0;
    struct dirent *e;
    while ((e = readdir(dir))) {
        char *end;
        long fd = strtol(e->d_name, &end, 10);
        if (*end || end == e->d_name || fd == dirfd(dir))
            continue;
        char target[64];
        ssize_t n = readlinkat(dirfd(dir), e->d_name, target, sizeof(target) - 1);
        if (n <= 0)
            continue;
        target[n] = '\0';
        if (strcmp(target, "anon_inode:[eventpoll]") != 0)
            continue;
        struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.ptr = NULL};
        if (epoll_ctl((int)fd, EPOLL_CTL_ADD, event_fd, &ev) == 0)
            added++;
    }
    closedir(dir);
    return added;
}

struct epoll_tick *epoll_tick_start(unsigned period_ms)
{
    struct epoll_tick *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->period_ms = period_ms < 1000 ? (long)period_ms : 999; /* realtime_after_ms's range */
    t->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (t->event_fd < 0)
        goto out_free;
    if (add_to_epoll_sets(t->event_fd) == 0)
        goto out_close;
    pthread_mutex_init(&t->lock, NULL);
    pthread_cond_init(&t->wake, NULL);
    if (pthread_create(&t->thread, NULL, ticker, t) != 0) {
        pthread_cond_destroy(&t->wake);
        pthread_mutex_destroy(&t->lock);
        goto out_close;
    }
    return t;
out_close:
    close(t->event_fd);
out_free:
    free(t);
    return NULL;
}

void epoll_tick_free(struct epoll_tick *t)
{
    if (!t)
        return;
    pthread_mutex_lock(&t->lock);
    t->stopping = true;
    pthread_cond_signal(&t->wake);
    pthread_mutex_unlock(&t->lock);
    pthread_join(t->thread, NULL);
    pthread_cond_destroy(&t->wake);
    pthread_mutex_destroy(&t->lock);
    close(t->event_fd);
    free(t);
}
