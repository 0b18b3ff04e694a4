/* Every error the API answers, as one table: HTTP status, RFC 9457 problem type and title. */
#ifndef GDLAB_HTTP_ERRORS_H
#define GDLAB_HTTP_ERRORS_H

#include <stdarg.h>
#include <stdbool.h>

#include "fmt_double.h"

/* X(name, HTTP status, type slug, title, description); the type URI is "/problems/<slug>", and
 * GET of it answers the description. */
#define HTTP_ERROR_MAP(X)                                                                          \
    X(UNKNOWN_PARAMETER, 400, "unknown-parameter", "Unknown parameter",                            \
      "The request names a parameter this endpoint does not take; the detail lists those it "      \
      "does.")                                                                                     \
    X(INVALID_PARAMETER, 400, "invalid-parameter", "Malformed parameter value",                    \
      "A value is not of its parameter's type (a string where a number belongs, a number that is " \
      "not decimal, a word outside its choices), a parameter is given twice, or inline data is "   \
      "incomplete.")                                                                               \
    X(OUT_OF_RANGE, 400, "out-of-range", "Parameter value out of range",                           \
      "A value is well formed but outside its range; the detail names the limit and, for the "     \
      "server's limits, the flag that sets it.")                                                   \
    X(MALFORMED_JSON, 400, "malformed-json", "Malformed JSON body",                                \
      "The POST body is not valid JSON (or repeats a key).")                                       \
    X(BODY_NOT_OBJECT, 400, "body-not-object", "JSON body is not an object",                       \
      "The POST body is valid JSON but not an object of parameters.")                              \
    X(MALFORMED_REQUEST, 400, "malformed-request", "Malformed request framing",                    \
      "The headers that delimit the body are ambiguous (Content-Length twice, or with "            \
      "Transfer-Encoding), a Transfer-Encoding other than chunked, or an HTTP/1.1 request "        \
      "without Host; the connection is closed.")                                                   \
    X(NOT_FOUND, 404, "not-found", "Not found",                                                    \
      "No endpoint or file has this path; GET / lists the endpoints.")                             \
    X(METHOD_NOT_ALLOWED, 405, "method-not-allowed", "Method not allowed",                         \
      "The path exists but not for this method; the Allow header lists the methods it takes.")     \
    X(BODY_TOO_LARGE, 413, "body-too-large", "Request body too large",                             \
      "The body is larger than the server's --max-body; a declared length is refused before the "  \
      "body is read.")                                                                             \
    X(UNSUPPORTED_MEDIA_TYPE, 415, "unsupported-media-type", "Unsupported media type",             \
      "A POST body must be sent as application/json.")                                             \
    X(OUT_OF_MEMORY, 503, "out-of-memory", "Server out of memory",                                 \
      "The server could not allocate memory for this request; smaller sizes may succeed.")         \
    X(OVERLOADED, 503, "overloaded", "Server overloaded",                                          \
      "Every compute thread is busy and the queue of long requests (--queue) is full; retry "      \
      "after the Retry-After header's seconds.")                                                   \
    X(DEADLINE_EXCEEDED, 503, "deadline-exceeded", "Compute deadline exceeded",                    \
      "The request was still waiting or computing when its deadline (--deadline seconds from "     \
      "its arrival) passed, or the server stopped while it waited; smaller sizes finish sooner.")  \
    X(INTERNAL, 500, "internal", "Internal error", "A bug in gdlab; please report it.")

enum http_error {
#define HTTP_ERROR_ENUM(name, status, slug, title, description) HTTP_E_##name,
    HTTP_ERROR_MAP(HTTP_ERROR_ENUM)
#undef HTTP_ERROR_ENUM
        HTTP_E_COUNT
};

/* The longest detail message kept; longer ones are cut. */
#define HTTP_DETAIL_MAX 1024
#define HTTP_PARAM_MAX 128

/* An error on its way to the client: which one, the parameter at fault (may be ""), and why. */
struct http_problem {
    enum http_error code;
    char param[HTTP_PARAM_MAX];
    char detail[HTTP_DETAIL_MAX];
};

/* The HTTP status of an error. */
int http_error_status(enum http_error code);

/* The problem type slug ("out-of-range") and title of an error. */
const char *http_error_slug(enum http_error code);
const char *http_error_title(enum http_error code);
const char *http_error_description(enum http_error code);

/* The error whose slug is slug; false when there is none. */
bool http_error_find(const char *slug, enum http_error *code);

/* v as the shortest decimal that reads back as v ("0.1", "2.0"), written into buf. */
const char *num_text(double v, char *buf);

/* num_text into a temporary that lives to the end of the enclosing block, for details. */
#define NUM(v) num_text((v), (char[GD_FMT_DOUBLE_ROOM]){0})

/* Fill p; param may be NULL. Returns -1 so that validators can `return problem_set(...)`. */
int problem_set(struct http_problem *p, enum http_error code, const char *param, const char *fmt,
                ...) __attribute__((format(printf, 4, 5)));

#endif
