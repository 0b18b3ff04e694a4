/* A periodic wake-up for libmicrohttpd's epoll threads, which can otherwise sleep on ready work. */
#ifndef GDLAB_OPS_EPOLL_TICK_H
#define GDLAB_OPS_EPOLL_TICK_H

struct epoll_tick;

/* The period gdlab uses: the longest a stuck epoll round can last. */
#define EPOLL_TICK_MS 20

/* Wake every epoll set of this process (libmicrohttpd's, which must be running) every period_ms
 * (at most 999); NULL when none was found or the thread cannot start. */
struct epoll_tick *epoll_tick_start(unsigned period_ms);

/* Stop the ticks; call after the daemon has stopped. NULL is fine. */
void epoll_tick_free(struct epoll_tick *t);

#endif
