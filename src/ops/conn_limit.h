/* At the connection limit, room for a waiting client is made by closing idle keep-alive
 * connections, the longest idle first, as nginx does. */
#ifndef GDLAB_OPS_CONN_LIMIT_H
#define GDLAB_OPS_CONN_LIMIT_H

#include <microhttpd.h>
#include <stddef.h>
#include <stdint.h>

struct head_guard;
struct conn_limit;

/* What a connection costs in memory, for the default limit: libmicrohttpd's pool (server.c's
 * CONNECTION_MEMORY, 16 KiB) and gdlab's records of it, and the kernel's socket and whatever its
 * buffers carry; rounded up to leave room. */
#define CONN_LIMIT_COST_BYTES (32u * 1024u)

/* Descriptors kept apart from connections: listen socket, epoll sets, logs, the web roots. */
#define CONN_LIMIT_RESERVED_FDS 64u

/* A connection idle this long may be closed to make room; a shorter pause is part of a client's
 * stream of requests, which keeps its connection. A busy client on a loaded machine pauses for
 * longer than its own request rate suggests, and closing its connection costs it a reconnection:
 * the threshold leaves such pauses alone (bench/run --only connlimit measures the choice). */
#define CONN_LIMIT_MIN_IDLE_MS 500u

/* Raise the soft RLIMIT_NOFILE to the hard one (gdlab polls no descriptor with select()); then
 * the default connection limit: the descriptors less CONN_LIMIT_RESERVED_FDS, halved (one sending
 * a static file holds two), and no more than a quarter of the memory available (the cgroup's
 * limit, else MemAvailable) at CONN_LIMIT_COST_BYTES each; from 16 to 1000000. *nofile and
 * *mem_bytes, when not NULL, get the figures it used (mem_bytes 0: unknown). */
unsigned conn_limit_default(uint64_t *nofile, uint64_t *mem_bytes);

/* --max-connections' line of --help into buf: what the limit does and this machine's default
 * with its arithmetic. */
void conn_limit_help(char *buf, size_t cap, uint64_t limit, uint64_t nofile, uint64_t mem_bytes);

/* Watch the daemon's listen socket while the guard counts limit connections: when clients wait
 * in its backlog, close as many idle connections. NULL when g is NULL or the thread cannot
 * start (libmicrohttpd's behaviour remains: the excess waits for a connection to end). */
struct conn_limit *conn_limit_start(struct MHD_Daemon *d, struct head_guard *g, unsigned limit);

/* Stop watching; call before the listen socket is closed (MHD_quiesce_daemon). NULL is fine. */
void conn_limit_free(struct conn_limit *l);

#endif
