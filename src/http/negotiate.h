/* Content negotiation from request headers, as pure functions of their values: which media type
 * an Accept header prefers, whether gzip is accepted, and whether a body is JSON. */
#ifndef GDLAB_HTTP_NEGOTIATE_H
#define GDLAB_HTTP_NEGOTIATE_H

#include <stdbool.h>

/* The q of the most specific range in an Accept header that matches type/subtype (0: none). */
double http_accept_q(const char *accept, const char *type, const char *subtype);

/* True when Accept (may be NULL) ranks text/csv above application/json. */
bool http_accept_prefers_csv(const char *accept);

/* True when Accept (may be NULL) ranks application/x-npz above both application/json and text/csv.
 */
bool http_accept_prefers_npz(const char *accept);

/* True when Accept (may be NULL) ranks text/html above application/json: a browser. */
bool http_accept_prefers_html(const char *accept);

/* True when an Accept-Encoding value (may be NULL) allows gzip: "gzip" or "x-gzip" with q > 0,
 * or "*" with q > 0 and gzip not refused. */
bool http_gzip_accepted(const char *accept_encoding);

/* True for application/json or application/<something>+json, parameters ignored. */
bool http_is_json_media_type(const char *content_type);

/* True for application/x-npz, parameters ignored: a body of arrays. */
bool http_is_npz_media_type(const char *content_type);

#endif
