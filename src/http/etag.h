/* Strong entity tags from the bytes that determine a response, and If-None-Match matching. */
#ifndef GDLAB_HTTP_ETAG_H
#define GDLAB_HTTP_ETAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Room for a tag: quotes, 32 hex digits, a "-gz" suffix and the NUL. */
#define HTTP_ETAG_MAX 48

/* Two independent 64-bit hashes (FNV-1a and a multiply-xorshift), 128 bits together. */
struct http_etag_hasher {
    uint64_t fnv;
    uint64_t mix;
};

void http_etag_init(struct http_etag_hasher *h);

/* Add len bytes. */
void http_etag_update(struct http_etag_hasher *h, const void *data, size_t len);

/* Add a string and its terminating NUL, so that ("ab", "c") and ("a", "bc") differ. */
void http_etag_update_str(struct http_etag_hasher *h, const char *s);

/* Write "\"<32 hex digits><suffix>\"" to out (HTTP_ETAG_MAX bytes); suffix may be "". */
void http_etag_final(const struct http_etag_hasher *h, const char *suffix, char *out);

/* Append suffix inside the closing quote ("\"abc\"" -> "\"abc-gz\""): the tag of another content
 * coding of the same resource, which a strong tag must tell apart. */
void http_etag_add_suffix(char *etag, const char *suffix);

/* RFC 9110 If-None-Match: true when the list is "*" or names etag (weak comparison: a W/ prefix
 * on either side is ignored). */
bool http_etag_matches(const char *if_none_match, const char *etag);

#endif
