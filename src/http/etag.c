#include "http/etag.h"

#include <stdio.h>
#include <string.h>

#define FNV_OFFSET 0xcbf29ce484222325u
#define FNV_PRIME 0x100000001b3u
#define MIX_SEED 0x9e3779b97f4a7c15u
#define MIX_MUL 0xbf58476d1ce4e5b9u

void http_etag_init(struct http_etag_hasher *h)
{
    h->fnv = FNV_OFFSET;
    h->mix = MIX_SEED;
}

void http_etag_update(struct http_etag_hasher *h, const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t fnv = h->fnv, mix = h->mix;
    for (size_t i = 0; i < len; i++) {
        fnv = (fnv ^ p[i]) * FNV_PRIME;
        mix = (mix ^ p[i]) * MIX_MUL;
        mix ^= mix >> 31;
    }
    h->fnv = fnv;
    h->mix = mix;
}

void http_etag_update_str(struct http_etag_hasher *h, const char *s)
{
    http_etag_update(h, s, strlen(s) + 1);
}

void http_etag_final(const struct http_etag_hasher *h, const char *suffix, char *out)
{
    /* a last avalanche, so that nearby inputs give unrelated digits */
    uint64_t a = h->fnv ^ (h->mix >> 29), b = h->mix ^ (h->fnv >> 31);
    a *= MIX_MUL;
    a ^= a >> 32;
    b *= FNV_PRIME;
    b ^= b >> 29;
    snprintf(out, HTTP_ETAG_MAX, "\"%016llx%016llx%.8s\"", (unsigned long long)a,
             (unsigned long long)b, suffix);
}

void http_etag_add_suffix(char *etag, const char *suffix)
{
    size_t len = strlen(etag), n = strlen(suffix);
    if (len < 2 || etag[len - 1] != '"' || len + n >= HTTP_ETAG_MAX)
        return;
    memcpy(etag + len - 1, suffix, n);
    etag[len - 1 + n] = '"';
    etag[len + n] = '\0';
}

/* The opaque part of a tag: without W/ and quotes. */
static void opaque(const char *tag, size_t len, const char **start, size_t *n)
{
    if (len >= 2 && tag[0] == 'W' && tag[1] == '/') {
        tag += 2;
        len -= 2;
    }
    if (len >= 2 && tag[0] == '"' && tag[len - 1] == '"') {
        tag++;
        len -= 2;
    }
    *start = tag;
    *n = len;
}

bool http_etag_matches(const char *if_none_match, const char *etag)
{
    if (!if_none_match || !etag || !etag[0])
        return false;
    const char *want;
    size_t want_len;
    opaque(etag, strlen(etag), &want, &want_len);
    const char *p = if_none_match;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (!*p)
            break;
        const char *end = p + strcspn(p, ",");
        const char *last = end;
        while (last > p && (last[-1] == ' ' || last[-1] == '\t'))
            last--;
        if (last - p == 1 && *p == '*')
            return true;
        const char *got;
        size_t got_len;
        opaque(p, (size_t)(last - p), &got, &got_len);
        if (got_len == want_len && memcmp(got, want, want_len) == 0)
            return true;
        p = end;
    }
    return false;
}
