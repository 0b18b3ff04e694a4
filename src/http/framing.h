/* The headers that say where a request's body ends, judged as RFC 9112 sections 6.1-6.3 ask:
 * framing that a proxy in front of us might read differently (request smuggling) is refused. */
#ifndef GDLAB_HTTP_FRAMING_H
#define GDLAB_HTTP_FRAMING_H

#include <stdbool.h>
#include <stddef.h>

/* What a request head says of its framing: how often each header came, and its last value. */
struct http_framing {
    unsigned content_length;
    unsigned transfer_encoding;
    const char *te; /* the Transfer-Encoding value; NULL when absent */
    bool host;
    bool http11; /* the request is HTTP/1.1 */
    bool post;   /* the method takes a body */
};

/* Count one header into f (name compared without case). */
void http_framing_add(struct http_framing *f, const char *name, const char *value);

/* The reason the framing is refused (buf holds it when it quotes the request), or NULL when it is
 * unambiguous. */
const char *http_framing_problem(const struct http_framing *f, char *buf, size_t cap);

#endif
