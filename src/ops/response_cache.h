/* A memo of the computing endpoints' recent small answers. Each answer is a pure function of its
 * endpoint and parameters, so a repeated request (the book's defaults, a page loaded again) is
 * answered from memory with the bytes that computing it again would write. */
#ifndef GDLAB_OPS_RESPONSE_CACHE_H
#define GDLAB_OPS_RESPONSE_CACHE_H

#include <stddef.h>

/* Answers larger than this are not kept: they cost more to hold than small ones cost to make. */
#define RESPONSE_CACHE_MAX_BODY (128 * 1024)

struct response_cache;

/* A cache of at most slots answers (rounded up to a power of two); NULL when slots is 0 (no
 * cache) or memory runs out. Safe to use from several threads. */
struct response_cache *response_cache_new(size_t slots);

/* Release a cache and everything it holds; NULL is fine. */
void response_cache_free(struct response_cache *c);

/* A malloc'd copy of the answer kept under key, its length in *len; NULL when there is none. */
char *response_cache_get(struct response_cache *c, const char *key, size_t key_len, size_t *len);

/* Keep body (malloc'd; the cache takes it, and frees it when it is too large or not kept) under
 * key, in place of whatever held its slot. */
void response_cache_put_new(struct response_cache *c, const char *key, size_t key_len, char *body,
                            size_t len);

#endif
