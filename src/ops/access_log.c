/*
 * A write(2) per request cost about as much as answering /health itself. Each thread appends its
 * lines to a buffer of its own and writes the buffer out when it fills, or when its last write
 * is LOG_FLUSH_MS old: a request after a quiet spell is written at once, and under load a thread
 * writes about a hundred times a second instead of once per request. A flusher thread writes what
 * a thread left behind when it went quiet, so no line waits longer than about LOG_FLUSH_MS.
 */
#define _GNU_SOURCE
#include "ops/access_log.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ops/clock.h"

#define LOG_FLUSH_MS 10
#define LOG_BUFFER_BYTES 16384

struct log_buffer {
    pthread_mutex_t lock;
    struct log_buffer *next;
    uint64_t last_write_ms;
    size_t len;
    char data[LOG_BUFFER_BYTES];
};

struct access_log {
    uint64_t id; /* unique per log, so that a thread never takes a dead log's buffer for its own */
    int fd;
    pthread_mutex_t lock; /* buffers, stopping */
    pthread_cond_t wake;
    struct log_buffer *buffers;
    bool stopping;
    pthread_t flusher;
};

/* This thread's buffer and the id of its log; one thread serves one log at a time. */
static _Thread_local struct log_buffer *thread_buffer;
static _Thread_local uint64_t thread_log_id;
static atomic_uint_fast64_t next_log_id = 1;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return; /* a log that cannot be written is dropped, never waited on */
        p += w;
        n -= (size_t)w;
    }
}

static void flush_locked(const struct access_log *log, struct log_buffer *b, uint64_t now)
{
    write_all(log->fd, b->data, b->len);
    b->len = 0;
    b->last_write_ms = now;
}

static void *flusher(void *arg)
{
    struct access_log *log = arg;
    pthread_mutex_lock(&log->lock);
    while (!log->stopping) {
        struct timespec until = realtime_after_ms(LOG_FLUSH_MS);
        pthread_cond_timedwait(&log->wake, &log->lock, &until);
        uint64_t now = now_ms();
        for (struct log_buffer *b = log->buffers; b; b = b->next) {
            pthread_mutex_lock(&b->lock);
            if (b->len && now - b->last_write_ms >= LOG_FLUSH_MS)
                flush_locked(log, b, now);
            pthread_mutex_unlock(&b->lock);
        }
    }
    pthread_mutex_unlock(&log->lock);
    return NULL;
}

struct access_log *access_log_new(int fd)
{
    struct access_log *log = calloc(1, sizeof(*log));
    if (!log)
        return NULL;
    log->fd = fd;
    log->id = atomic_fetch_add(&next_log_id, 1);
    if (pthread_mutex_init(&log->lock, NULL) != 0)
        goto out_free_log;
    if (pthread_cond_init(&log->wake, NULL) != 0)
        goto out_destroy_lock;
    if (pthread_create(&log->flusher, NULL, flusher, log) != 0)
        goto out_destroy_cond;
    return log;

out_destroy_cond:
    pthread_cond_destroy(&log->wake);
out_destroy_lock:
    pthread_mutex_destroy(&log->lock);
out_free_log:
    free(log);
    return NULL;
}

/* This thread's buffer for log, made and registered on its first line; NULL without memory. */
static struct log_buffer *buffer_of(struct access_log *log)
{
    if (thread_buffer && thread_log_id == log->id)
        return thread_buffer;
    struct log_buffer *b = calloc(1, sizeof(*b));
    if (!b)
        return NULL;
    if (pthread_mutex_init(&b->lock, NULL) != 0) {
        free(b);
        return NULL;
    }
    pthread_mutex_lock(&log->lock);
    b->next = log->buffers;
    log->buffers = b;
    pthread_mutex_unlock(&log->lock);
    thread_buffer = b;
    thread_log_id = log->id;
    return b;
}

void access_log_line(struct access_log *log, const char *line, size_t n)
{
    struct log_buffer *b = buffer_of(log);
    if (!b || n > sizeof(b->data)) {
        write_all(log->fd, line, n);
        return;
    }
    uint64_t now = now_ms();
    pthread_mutex_lock(&b->lock);
    if (b->len + n > sizeof(b->data))
        flush_locked(log, b, now);
    memcpy(b->data + b->len, line, n);
    b->len += n;
    if (now - b->last_write_ms >= LOG_FLUSH_MS)
        flush_locked(log, b, now);
    pthread_mutex_unlock(&b->lock);
}

void access_log_free(struct access_log *log)
{
    if (!log)
        return;
    pthread_mutex_lock(&log->lock);
    log->stopping = true;
    pthread_cond_signal(&log->wake);
    pthread_mutex_unlock(&log->lock);
    pthread_join(log->flusher, NULL);
    struct log_buffer *b = log->buffers;
    while (b) {
        struct log_buffer *next = b->next;
        write_all(log->fd, b->data, b->len);
        pthread_mutex_destroy(&b->lock);
        free(b);
        b = next;
    }
    pthread_cond_destroy(&log->wake);
    pthread_mutex_destroy(&log->lock);
    free(log);
}
