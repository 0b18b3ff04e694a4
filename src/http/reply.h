/* What a route answers, before the adapter turns it into a libmicrohttpd response. */
#ifndef GDLAB_HTTP_REPLY_H
#define GDLAB_HTTP_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/problem.h"
#include "encode/json_writer.h"
#include "http/etag.h"

struct MHD_Response;

/* A body from memory (body, len; owned, freed with free()) or from a file (fd >= 0, fd_size
 * bytes, owned), or a response prepared once and shared by many requests (prepared; len is its
 * body's length). */
struct http_reply {
    struct MHD_Response *prepared; /* owned elsewhere; NULL: build one from the fields below */
    unsigned status;
    const char *content_type;
    char *body;
    size_t len;
    int fd;
    uint64_t fd_size;
    const char *allow;         /* for 405 and OPTIONS */
    const char *cache_control; /* NULL: none */
    const char *vary;          /* NULL: none */
    char etag[HTTP_ETAG_MAX];  /* "": none */
    char last_modified[40];    /* "": none */
    char disposition[80];      /* Content-Disposition; "": none */
    bool gzipped;              /* body is gzip-encoded (Content-Encoding: gzip) */
    bool gzip_decided;         /* the encoding is final: do not try to compress again */
    bool close;                /* close the connection after it (a request whose framing is bad) */
    unsigned retry_after;      /* seconds for a Retry-After header; 0: none */
};

/* An empty reply: status 0, no body, fd -1. */
void http_reply_init(struct http_reply *r);

/* Release a reply's body and file that were not handed over; the reply is empty again. */
void http_reply_discard(struct http_reply *r);

/* Fill r with an RFC 9457 problem document for prob; instance is the request path. A 503 asks
 * the client to come back in a second (Retry-After: 1): the overload or the memory shortage is
 * usually over by then. */
void http_reply_problem(struct http_reply *r, const struct api_problem *prob, const char *instance);

/* A problem reply from its parts (detail taken as it is). */
void http_reply_problem_text(struct http_reply *r, enum api_problem_type type, const char *detail,
                             const char *instance);

/* A 200 application/json reply that takes the writer's buffer (the writer is empty after); a 503
 * problem when the writer ran out of memory. */
void http_reply_json_take(struct http_reply *r, struct jw *w);

/* A 304 Not Modified: no body and, as RFC 9110 section 15.4.5 asks, no Content-Type. */
void http_reply_not_modified(struct http_reply *r);

/* gzip the body in memory when it gains (the ETag then names the gzip variant); final either way.
 */
void http_reply_gzip(struct http_reply *r);

#endif
