/* Every problem the API answers (RFC 9457 problem details), as one table: HTTP status, type and
 * title; and the one mapping from the core's status codes to these problems. */
#ifndef GDLAB_API_PROBLEM_H
#define GDLAB_API_PROBLEM_H

#include <stdarg.h>
#include <stdbool.h>

#include "encode/fmt_double.h"
#include "encode/json_writer.h"

/* X(name, HTTP status, type slug, title, description); the type URI is "/problems/<slug>", and
 * GET of it answers the description. */
#define API_PROBLEM_TABLE(X)                                                                       \
    X(UNKNOWN_PARAMETER, 400, "unknown-parameter", "Unknown parameter",                            \
      "The request names a parameter this endpoint does not take; the detail lists those it "      \
      "does.")                                                                                     \
    X(INVALID_PARAMETER, 400, "invalid-parameter", "Malformed parameter value",                    \
      "A value is not of its parameter's type (a string where a number belongs, a number that is " \
      "not decimal, a word outside its choices), a parameter is given twice, inline data is "      \
      "incomplete, or a parameter is given that the request's optimizer, batches or schedule "     \
      "would not use.")                                                                            \
    X(OUT_OF_RANGE, 400, "out-of-range", "Parameter value out of range",                           \
      "A value is well formed but outside its range; the detail names the limit and, for the "     \
      "server's limits, the flag that sets it.")                                                   \
    X(MALFORMED_JSON, 400, "malformed-json", "Malformed JSON body",                                \
      "The POST body is not valid JSON (or repeats a key).")                                       \
    X(MALFORMED_NPZ, 400, "malformed-npz", "Malformed npz body",                                   \
      "The application/x-npz body is not an archive numpy.savez writes holding x.npy and y.npy "   \
      "(1-D float64, stored): the detail names what is wrong.")                                    \
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

enum api_problem_type {
#define API_PROBLEM_ENUM(name, status, slug, title, description) API_PROBLEM_##name,
    API_PROBLEM_TABLE(API_PROBLEM_ENUM)
#undef API_PROBLEM_ENUM
        API_PROBLEM_COUNT
};

/* The longest detail kept (longer ones are cut), and the longest parameter name. */
#define API_DETAIL_MAX 1024
#define API_PARAM_MAX 128

/* A problem on its way to the client: its type, the parameter at fault ("" for none), and why. */
struct api_problem {
    enum api_problem_type type;
    char param[API_PARAM_MAX];
    char detail[API_DETAIL_MAX];
};

/* The HTTP status of a problem type. */
int api_problem_status(enum api_problem_type type);

/* The type's slug ("out-of-range"), title and the description that /problems/<slug> answers. */
const char *api_problem_slug(enum api_problem_type type);
const char *api_problem_title(enum api_problem_type type);
const char *api_problem_description(enum api_problem_type type);

/* The type whose slug is slug; false when there is none. */
bool api_problem_find(const char *slug, enum api_problem_type *type);

/* The distinct HTTP statuses of the table, ascending, into out (room for API_PROBLEM_COUNT);
 * returns how many. Metrics label their series with these. */
size_t api_problem_statuses(unsigned *out);

/* Fill prob; param may be NULL. Returns -1 so that checks can `return api_problem_set(...)`. */
int api_problem_set(struct api_problem *prob, enum api_problem_type type, const char *param,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* api_problem_set with the type the core's status maps to (the one table of that mapping: out of
 * memory is 503, a cancelled computation a deadline, bad input 400). */
int api_problem_from_status(struct api_problem *prob, int status, const char *param,
                            const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The problem document: {"type", "title", "status", "detail", "instance"[, "param"]}. */
void api_problem_write(struct jw *w, const struct api_problem *prob, const char *instance);

/* v as the shortest decimal that reads back as v ("0.1", "2.0"), written into buf. */
const char *api_num_text(double v, char *buf);

/* api_num_text into a temporary that lives to the end of the enclosing block, for details. */
#define NUM(v) api_num_text((v), (char[JW_FMT_DOUBLE_ROOM]){0})

#endif
