#include "http/framing.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

void http_framing_add(struct http_framing *f, const char *name, const char *value)
{
    if (strcasecmp(name, "Content-Length") == 0) {
        f->content_length++;
    } else if (strcasecmp(name, "Transfer-Encoding") == 0) {
        f->transfer_encoding++;
        f->te = value ? value : "";
    } else if (strcasecmp(name, "Host") == 0) {
        f->host = true;
    }
}

const char *http_framing_problem(const struct http_framing *f, char *buf, size_t cap)
{
    if (f->content_length > 1)
        return "more than one Content-Length header: the body's length is ambiguous";
    if (f->transfer_encoding > 1)
        return "more than one Transfer-Encoding header";
    if (f->transfer_encoding && f->content_length)
        return "both Content-Length and Transfer-Encoding: the body's length is ambiguous";
    if (f->transfer_encoding) {
        if (!f->http11)
            return "Transfer-Encoding is not defined before HTTP/1.1";
        const char *te = f->te;
        size_t len = strlen(te);
        while (len > 0 && (*te == ' ' || *te == '\t'))
            te++, len--;
        while (len > 0 && (te[len - 1] == ' ' || te[len - 1] == '\t'))
            len--;
        if (len != 7 || strncasecmp(te, "chunked", 7) != 0) {
            snprintf(buf, cap, "Transfer-Encoding '%.64s' is not supported; only chunked is",
                     f->te);
            return buf;
        }
        if (!f->post)
            return "a body (Transfer-Encoding) on a request whose method takes none";
    }
    if (f->http11 && !f->host)
        return "an HTTP/1.1 request must carry a Host header";
    return NULL;
}
