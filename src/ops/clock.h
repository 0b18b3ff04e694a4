/* The monotonic clock in nanoseconds, for request timings and deadlines, and the real-time clock
 * as condition-variable waits need it. */
#ifndef GDLAB_OPS_CLOCK_H
#define GDLAB_OPS_CLOCK_H

#include <stdint.h>
#include <time.h>

/* CLOCK_MONOTONIC now, in ns; includers define _POSIX_C_SOURCE (or _GNU_SOURCE) first. */
static inline uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* CLOCK_REALTIME ms milliseconds from now (ms < 1000): the absolute time that
 * pthread_cond_timedwait takes. */
static inline struct timespec realtime_after_ms(long ms)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_nsec += ms * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

#endif
