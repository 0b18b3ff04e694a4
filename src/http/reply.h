/* What a route answers, before the server turns it into a libmicrohttpd response. */
#ifndef GDLAB_HTTP_REPLY_H
#define GDLAB_HTTP_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "errors.h"

struct MHD_Response;

/* A body from memory (body, len; freed with free()) or from a file (fd >= 0, fd_size bytes), or a
 * response prepared once and shared by many requests (prepared; len is its body's length). */
struct reply {
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
    char etag[48];             /* "": none */
    char last_modified[40];    /* "": none */
    bool gzipped;              /* body is gzip-encoded (Content-Encoding: gzip) */
    bool gzip_decided;         /* the encoding is final: do not try to compress again */
    bool close;                /* close the connection after it (a request whose framing is bad) */
    unsigned retry_after;      /* seconds for a Retry-After header; 0: none */
};

/* An empty reply: status 0, no body, fd -1. */
void reply_init(struct reply *r);

/* Release a reply's body and file that were not handed over. */
void reply_discard(struct reply *r);

/* Fill r with an RFC 9457 problem document for p; instance is the request path. A 503 asks the
 * client to come back in a second (Retry-After: 1): the overload or the memory shortage is
 * usually over by then. */
void reply_problem(struct reply *r, const struct http_problem *p, const char *instance);

#endif
