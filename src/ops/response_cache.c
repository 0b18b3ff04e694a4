/*
 * Direct-mapped: the key's FNV-1a hash picks one slot, and a new answer replaces the old one
 * there. One mutex guards the table; it is held for a lookup and a copy of a few kilobytes, far
 * less than computing an answer, so the pool's threads hardly ever wait on it.
 */
#include "ops/response_cache.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct slot {
    uint64_t hash;
    char *key;
    size_t key_len;
    char *body;
    size_t len;
};

struct response_cache {
    pthread_mutex_t lock;
    size_t mask; /* slots - 1 */
    struct slot *slots;
};

static uint64_t fnv1a(const char *s, size_t n)
{
    uint64_t h = 14695981039346656037u;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211u;
    }
    return h;
}

struct response_cache *response_cache_new(size_t slots)
{
    if (slots == 0)
        return NULL;
    size_t n = 1;
    while (n < slots && n < ((size_t)1 << 20))
        n *= 2;
    struct response_cache *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->slots = calloc(n, sizeof(*c->slots));
    if (!c->slots || pthread_mutex_init(&c->lock, NULL) != 0) {
        free(c->slots);
        free(c);
        return NULL;
    }
    c->mask = n - 1;
    return c;
}

static void slot_clear(struct slot *s)
{
    free(s->key);
    free(s->body);
    memset(s, 0, sizeof(*s));
}

void response_cache_free(struct response_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i <= c->mask; i++)
        slot_clear(&c->slots[i]);
    pthread_mutex_destroy(&c->lock);
    free(c->slots);
    free(c);
}

char *response_cache_get(struct response_cache *c, const char *key, size_t key_len, size_t *len)
{
    if (!c)
        return NULL;
    uint64_t h = fnv1a(key, key_len);
    char *copy = NULL;
    pthread_mutex_lock(&c->lock);
    struct slot *s = &c->slots[h & c->mask];
    if (s->body && s->hash == h && s->key_len == key_len && memcmp(s->key, key, key_len) == 0) {
        copy = malloc(s->len ? s->len : 1);
        if (copy) {
            memcpy(copy, s->body, s->len);
            *len = s->len;
        }
    }
    pthread_mutex_unlock(&c->lock);
    return copy;
}

void response_cache_put_new(struct response_cache *c, const char *key, size_t key_len, char *body,
                            size_t len)
{
    if (!c || !body || len > RESPONSE_CACHE_MAX_BODY) {
        free(body);
        return;
    }
    uint64_t h = fnv1a(key, key_len);
    /* the key's copy made outside the lock; a failed allocation just leaves the slot as it was */
    char *k = malloc(key_len ? key_len : 1);
    if (!k) {
        free(body);
        return;
    }
    memcpy(k, key, key_len);
    struct slot old;
    pthread_mutex_lock(&c->lock);
    struct slot *s = &c->slots[h & c->mask];
    old = *s;
    *s = (struct slot){h, k, key_len, body, len};
    pthread_mutex_unlock(&c->lock);
    slot_clear(&old);
}
