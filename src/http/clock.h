/* The monotonic clock in nanoseconds, for request timings and deadlines. */
#ifndef GDLAB_HTTP_CLOCK_H
#define GDLAB_HTTP_CLOCK_H

#include <stdint.h>
#include <time.h>

/* CLOCK_MONOTONIC now, in ns; includers define _POSIX_C_SOURCE (or _GNU_SOURCE) first. */
static inline uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#endif
