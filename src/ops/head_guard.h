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

/* MHD_OPTION_URI_LOG_CALLBACK (cls: the guard): conn's request line arrived, so conn is no longer
 * idle and is never closed to make room; returns NULL, the access handler's first *con_cls. */
void *head_guard_uri_log(void *cls, const char *uri, struct MHD_Connection *conn);

/* A request head arrived on conn: its clock stops while the request is served. */
void head_guard_request_started(struct MHD_Connection *conn);

/* conn's response is done at now (now_ns): the clock runs again until the next request head. */
void head_guard_request_done(struct MHD_Connection *conn, uint64_t now);

/* The connections open now. */
unsigned head_guard_connections(struct head_guard *g);

/* Of them, those head_guard_close_idle() shut down that libmicrohttpd has not yet closed. */
unsigned head_guard_closing(struct head_guard *g);

/* Shut down up to n connections idle for at least min_idle_ns, the longest idle first, none with a
 * request in progress or bytes of one waiting; libmicrohttpd then closes them. The number shut. */
unsigned head_guard_close_idle(struct head_guard *g, unsigned n, uint64_t min_idle_ns);

#endif
