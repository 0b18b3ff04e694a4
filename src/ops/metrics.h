/* Prometheus metrics: counters bumped with relaxed atomics when a request completes, rendered in
 * the text exposition format only when /metrics is asked for. Each thread counts into a shard of
 * its own, so that threads on different cores never write the same cache line. */
#ifndef GDLAB_OPS_METRICS_H
#define GDLAB_OPS_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* Labelled routes; one more row counts everything else ("other"). */
#define METRICS_MAX_ROUTES 24
/* Statuses with a series of their own (the server names them at init), then any other status and
 * none (the client went away). */
#define METRICS_MAX_STATUS 16
#define METRICS_N_STATUS (METRICS_MAX_STATUS + 2)
/* Latency bucket upper bounds, 100 us to 10 s; +Inf is the count. */
#define METRICS_N_BUCKETS 14
/* Shards of counters; threads are dealt to them in turn. */
#define METRICS_SHARDS 8

/* One route's counters. */
struct metrics_route {
    atomic_uint_fast64_t requests[METRICS_N_STATUS];
    atomic_uint_fast64_t buckets[METRICS_N_BUCKETS]; /* per bucket; summed when rendered */
    atomic_uint_fast64_t count;
    atomic_uint_fast64_t sum_ns;
    atomic_uint_fast64_t bytes;
};

/* One shard's counters, aligned to its own cache lines. */
struct metrics_shard {
    _Alignas(64) struct metrics_route routes[METRICS_MAX_ROUTES + 1];
};

/* All counters of a server. */
struct metrics {
    const char *names[METRICS_MAX_ROUTES + 1];
    size_t n_routes; /* the "other" row is names[n_routes] */
    unsigned statuses[METRICS_MAX_STATUS];
    size_t n_statuses;
    struct metrics_shard shards[METRICS_SHARDS];
};

/* Zero the counters, label the first n (at most METRICS_MAX_ROUTES) routes (names are kept) and
 * the first n_statuses (at most METRICS_MAX_STATUS) statuses, listed ascending. */
void metrics_init(struct metrics *m, const char *const *names, size_t n, const unsigned *statuses,
                  size_t n_statuses);

/* Count one finished request of route (n_routes or more: "other"); status 0 when none was sent. */
void metrics_observe(struct metrics *m, size_t route, unsigned status, uint64_t bytes, uint64_t ns);

/* The server's state at the moment of a scrape, rendered as gauges. */
struct metrics_gauges {
    long in_flight;         /* requests begun and not completed */
    unsigned long_requests; /* long requests computing or queued */
    unsigned long_capacity; /* the most admitted at once: --threads + --queue */
};

/* The text exposition (malloc'd, *len bytes), or NULL when out of memory. */
char *metrics_render(struct metrics *m, const struct metrics_gauges *g, const char *version,
                     size_t *len);

#endif
