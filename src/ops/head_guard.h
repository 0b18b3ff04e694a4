/* Drops connections that take too long to send a request head (slowloris). */
#ifndef GDLAB_OPS_HEAD_GUARD_H
#define GDLAB_OPS_HEAD_GUARD_H

#include <microhttpd.h>
#include <stdint.h>

struct head_guard;

/* Start the guard's sweeper: a connection gets timeout_s seconds, from its start or from its
 * previous response, to deliver a complete request head; NULL when the thread cannot start. */
struct head_guard *head_guard_new(unsigned timeout_s);

/* Stop the sweeper; call after the daemon has stopped. NULL is fine. */
void head_guard_free(struct head_guard *g);

/* MHD_OPTION_NOTIFY_CONNECTION callback (cls: the guard): tracks each connection's socket. */
void head_guard_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                       enum MHD_ConnectionNotificationCode code);

/* A request head arrived on conn: its clock stops while the request is served. */
void head_guard_request_started(struct MHD_Connection *conn);

/* conn's response is done at now (now_ns): the clock runs again until the next request head. */
void head_guard_request_done(struct MHD_Connection *conn, uint64_t now);

#endif
