/* Every error the API answers, as one table: HTTP status, RFC 9457 problem type and title. */
#ifndef GDLAB_HTTP_ERRORS_H
#define GDLAB_HTTP_ERRORS_H

#include <stdarg.h>

#include "fmt_double.h"

/* X(name, HTTP status, type slug, title); the type URI is "/problems/<slug>". */
#define HTTP_ERROR_MAP(X)                                                                          \
    X(UNKNOWN_PARAMETER, 400, "unknown-parameter", "Unknown parameter")                            \
    X(INVALID_PARAMETER, 400, "invalid-parameter", "Malformed parameter value")                    \
    X(OUT_OF_RANGE, 400, "out-of-range", "Parameter value out of range")                           \
    X(MALFORMED_JSON, 400, "malformed-json", "Malformed JSON body")                                \
    X(BODY_NOT_OBJECT, 400, "body-not-object", "JSON body is not an object")                       \
    X(NOT_FOUND, 404, "not-found", "Not found")                                                    \
    X(METHOD_NOT_ALLOWED, 405, "method-not-allowed", "Method not allowed")                         \
    X(BODY_TOO_LARGE, 413, "body-too-large", "Request body too large")                             \
    X(UNSUPPORTED_MEDIA_TYPE, 415, "unsupported-media-type", "Unsupported media type")             \
    X(OUT_OF_MEMORY, 503, "out-of-memory", "Server out of memory")                                 \
    X(INTERNAL, 500, "internal", "Internal error")

enum http_error {
#define HTTP_ERROR_ENUM(name, status, slug, title) HTTP_E_##name,
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

/* v as the shortest decimal that reads back as v ("0.1", "2.0"), written into buf. */
const char *num_text(double v, char *buf);

/* num_text into a temporary that lives to the end of the enclosing block, for details. */
#define NUM(v) num_text((v), (char[GD_FMT_DOUBLE_ROOM]){0})

/* Fill p; param may be NULL. Returns -1 so that validators can `return problem_set(...)`. */
int problem_set(struct http_problem *p, enum http_error code, const char *param, const char *fmt,
                ...) __attribute__((format(printf, 4, 5)));

#endif
