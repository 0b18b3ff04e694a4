/*
 * Every request adds to a handful of atomic counters (relaxed: the counts need no ordering with
 * anything else), so observing costs a few uncontended increments and no lock. A histogram bucket
 * holds only its own observations; rendering adds them up into Prometheus's cumulative "le"
 * buckets. Only non-zero status series are written, so the output stays short.
 */
#include "ops/metrics.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STATUS_OTHER METRICS_MAX_STATUS
#define STATUS_NONE (METRICS_MAX_STATUS + 1)

static const uint64_t bucket_ns[METRICS_N_BUCKETS] = {
    100000,   250000,   500000,    1000000,   2500000,    5000000,     10000000,
    25000000, 50000000, 100000000, 250000000, 1000000000, 2500000000u, 10000000000u};
static const char *const bucket_le[METRICS_N_BUCKETS] = {
    "0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01",
    "0.025",  "0.05",    "0.1",    "0.25",  "1",      "2.5",   "10"};

void metrics_init(struct metrics *m, const char *const *names, size_t n, const unsigned *statuses,
                  size_t n_statuses)
{
    memset(m, 0, sizeof(*m));
    if (n_statuses > METRICS_MAX_STATUS)
        n_statuses = METRICS_MAX_STATUS;
    memcpy(m->statuses, statuses, n_statuses * sizeof(*statuses));
    m->n_statuses = n_statuses;
    if (n > METRICS_MAX_ROUTES)
        n = METRICS_MAX_ROUTES;
    for (size_t i = 0; i < n; i++)
        m->names[i] = names[i];
    m->names[n] = "other";
    m->n_routes = n;
    for (size_t sh = 0; sh < METRICS_SHARDS; sh++) {
        for (size_t i = 0; i <= n; i++) {
            struct metrics_route *r = &m->shards[sh].routes[i];
            for (size_t k = 0; k < METRICS_N_STATUS; k++)
                atomic_init(&r->requests[k], 0);
            for (size_t k = 0; k < METRICS_N_BUCKETS; k++)
                atomic_init(&r->buckets[k], 0);
            atomic_init(&r->count, 0);
            atomic_init(&r->sum_ns, 0);
            atomic_init(&r->bytes, 0);
        }
    }
}

/* This thread's shard: dealt in turn on its first request, then kept. */
static size_t my_shard(void)
{
    static atomic_uint next_shard;
    static _Thread_local bool dealt;
    static _Thread_local size_t shard;
    if (!dealt) {
        shard = atomic_fetch_add_explicit(&next_shard, 1, memory_order_relaxed) % METRICS_SHARDS;
        dealt = true;
    }
    return shard;
}

static size_t status_slot(const struct metrics *m, unsigned status)
{
    if (status == 0)
        return STATUS_NONE;
    for (size_t k = 0; k < m->n_statuses; k++)
        if (m->statuses[k] == status)
            return k;
    return STATUS_OTHER;
}

void metrics_observe(struct metrics *m, size_t route, unsigned status, uint64_t bytes, uint64_t ns)
{
    struct metrics_route *r =
        &m->shards[my_shard()].routes[route < m->n_routes ? route : m->n_routes];
    atomic_fetch_add_explicit(&r->requests[status_slot(m, status)], 1, memory_order_relaxed);
    size_t b = 0;
    while (b < METRICS_N_BUCKETS && ns > bucket_ns[b])
        b++;
    if (b < METRICS_N_BUCKETS)
        atomic_fetch_add_explicit(&r->buckets[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&r->count, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&r->sum_ns, ns, memory_order_relaxed);
    atomic_fetch_add_explicit(&r->bytes, bytes, memory_order_relaxed);
}

/* A growing text buffer; after a failed allocation every append is a no-op. */
struct text {
    char *buf;
    size_t len;
    size_t cap;
    int failed;
};

static void text_printf(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void text_printf(struct text *t, const char *fmt, ...)
{
    if (t->failed)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->failed = 1;
            return;
        }
        if ((size_t)n < t->cap - t->len) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = t->cap * 2 + (size_t)n;
        char *buf = realloc(t->buf, cap);
        if (!buf) {
            t->failed = 1;
            return;
        }
        t->buf = buf;
        t->cap = cap;
    }
}

/* The sum over the shards of one counter, given by its offset in struct metrics_route. */
static uint64_t total(const struct metrics *m, size_t route, size_t offset)
{
    uint64_t sum = 0;
    for (size_t sh = 0; sh < METRICS_SHARDS; sh++) {
        const char *row = (const char *)&m->shards[sh].routes[route];
        sum += atomic_load_explicit((atomic_uint_fast64_t *)(row + offset), memory_order_relaxed);
    }
    return sum;
}

#define TOTAL(m, route, field) total((m), (route), offsetof(struct metrics_route, field))
/* The same for element k of an array field (offsetof takes only constant indices). */
#define TOTAL_AT(m, route, field, k)                                                               \
    total((m), (route), offsetof(struct metrics_route, field) + (k) * sizeof(atomic_uint_fast64_t))

char *metrics_render(struct metrics *m, const struct metrics_gauges *g, const char *version,
                     size_t *len)
{
    struct text t = {.cap = 16384};
    t.buf = malloc(t.cap);
    if (!t.buf)
        return NULL;
    text_printf(&t,
                "# HELP gdlab_build_info The running gdlab version.\n"
                "# TYPE gdlab_build_info gauge\n"
                "gdlab_build_info{version=\"%s\"} 1\n",
                version);
    text_printf(&t,
                "# HELP gdlab_http_requests_in_flight Requests being answered now.\n"
                "# TYPE gdlab_http_requests_in_flight gauge\n"
                "gdlab_http_requests_in_flight %ld\n",
                g->in_flight);
    text_printf(&t,
                "# HELP gdlab_long_requests Long requests computing or waiting for a compute "
                "thread.\n"
                "# TYPE gdlab_long_requests gauge\n"
                "gdlab_long_requests %u\n"
                "# HELP gdlab_long_requests_capacity The most long requests admitted at once "
                "(--threads + --queue); more get 503.\n"
                "# TYPE gdlab_long_requests_capacity gauge\n"
                "gdlab_long_requests_capacity %u\n",
                g->long_requests, g->long_capacity);
    text_printf(&t, "# HELP gdlab_http_requests_total HTTP requests answered, by route and status "
                    "(status 0: the client went away first).\n"
                    "# TYPE gdlab_http_requests_total counter\n");
    for (size_t i = 0; i <= m->n_routes; i++) {
        for (size_t k = 0; k < METRICS_N_STATUS; k++) {
            uint64_t v = TOTAL_AT(m, i, requests, k);
            if (v == 0)
                continue;
            if (k < STATUS_OTHER)
                text_printf(&t, "gdlab_http_requests_total{route=\"%s\",status=\"%u\"} %llu\n",
                            m->names[i], m->statuses[k], (unsigned long long)v);
            else
                text_printf(&t, "gdlab_http_requests_total{route=\"%s\",status=\"%s\"} %llu\n",
                            m->names[i], k == STATUS_OTHER ? "other" : "0", (unsigned long long)v);
        }
    }
    text_printf(&t, "# HELP gdlab_http_request_duration_seconds Time from the request's headers "
                    "to its last byte queued, by route.\n"
                    "# TYPE gdlab_http_request_duration_seconds histogram\n");
    for (size_t i = 0; i <= m->n_routes; i++) {
        uint64_t count = TOTAL(m, i, count);
        if (count == 0)
            continue;
        uint64_t cumulative = 0;
        for (size_t b = 0; b < METRICS_N_BUCKETS; b++) {
            cumulative += TOTAL_AT(m, i, buckets, b);
            text_printf(&t,
                        "gdlab_http_request_duration_seconds_bucket{route=\"%s\",le=\"%s\"} %llu\n",
                        m->names[i], bucket_le[b], (unsigned long long)cumulative);
        }
        /* counters are read one by one: never let +Inf fall below a finite bucket */
        if (count < cumulative)
            count = cumulative;
        text_printf(&t,
                    "gdlab_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n"
                    "gdlab_http_request_duration_seconds_sum{route=\"%s\"} %.9f\n"
                    "gdlab_http_request_duration_seconds_count{route=\"%s\"} %llu\n",
                    m->names[i], (unsigned long long)count, m->names[i],
                    (double)TOTAL(m, i, sum_ns) / 1e9, m->names[i], (unsigned long long)count);
    }
    text_printf(&t, "# HELP gdlab_http_response_bytes_total Body bytes sent (after compression), "
                    "by route.\n"
                    "# TYPE gdlab_http_response_bytes_total counter\n");
    for (size_t i = 0; i <= m->n_routes; i++) {
        uint64_t v = TOTAL(m, i, bytes);
        if (v || TOTAL(m, i, count))
            text_printf(&t, "gdlab_http_response_bytes_total{route=\"%s\"} %llu\n", m->names[i],
                        (unsigned long long)v);
    }
    if (t.failed) {
        free(t.buf);
        return NULL;
    }
    *len = t.len;
    return t.buf;
}
