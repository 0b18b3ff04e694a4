/*
 * Level 6 (zlib's default) for ordinary bodies; level 1 past 256 KiB, where big numeric arrays
 * (surfaces, histories) would otherwise cost more CPU than the transfer they save on a fast link.
 */
#include "compress.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#define GZIP_FAST_BYTES (256u << 10)

/* The q value of a coding's parameters (";q=0.5"); 1 when absent. */
static double coding_q(const char *params, const char *end)
{
    for (const char *p = params; p && p < end; p = memchr(p + 1, ';', (size_t)(end - p - 1))) {
        const char *v = p + 1;
        while (v < end && (*v == ' ' || *v == '\t'))
            v++;
        if (end - v >= 2 && (v[0] == 'q' || v[0] == 'Q') && v[1] == '=')
            return strtod(v + 2, NULL);
    }
    return 1.0;
}

bool gzip_accepted(const char *accept_encoding)
{
    if (!accept_encoding)
        return false;
    double gzip_q = -1.0, star_q = -1.0;
    const char *p = accept_encoding;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        const char *end = p + strcspn(p, ",");
        const char *semi = memchr(p, ';', (size_t)(end - p));
        const char *name_end = semi ? semi : end;
        while (name_end > p && (name_end[-1] == ' ' || name_end[-1] == '\t'))
            name_end--;
        size_t n = (size_t)(name_end - p);
        double q = coding_q(semi, end);
        if ((n == 4 && strncasecmp(p, "gzip", 4) == 0) ||
            (n == 6 && strncasecmp(p, "x-gzip", 6) == 0))
            gzip_q = q;
        else if (n == 1 && *p == '*')
            star_q = q;
        p = end;
    }
    return gzip_q > 0.0 || (gzip_q < 0.0 && star_q > 0.0);
}

bool gzip_compressible(const char *ct)
{
    if (!ct)
        return false;
    size_t len = strcspn(ct, ";");
    if (len >= 5 && strncasecmp(ct, "text/", 5) == 0)
        return true;
    static const char *const types[] = {"application/json", "application/problem+json",
                                        "application/yaml", "application/javascript"};
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (len == strlen(types[i]) && strncasecmp(ct, types[i], len) == 0)
            return true;
    return false;
}

char *gzip_compress(const char *in, size_t len, size_t *out_len)
{
    if (len > UINT32_MAX) /* zlib counts in 32 bits; no response comes near */
        return NULL;
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    int level = len > GZIP_FAST_BYTES ? 1 : 6;
    /* windowBits 15 + 16: a gzip header and trailer rather than zlib's */
    if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return NULL;
    uLong bound = deflateBound(&zs, (uLong)len);
    char *out = bound < len ? malloc(bound) : malloc(len);
    if (!out)
        goto out_end;
    /* Only a smaller result is of use: give deflate no more room than the input. */
    zs.next_in = (Bytef *)(uintptr_t)in;
    zs.avail_in = (uInt)len;
    zs.next_out = (Bytef *)out;
    zs.avail_out = (uInt)(bound < len ? bound : len);
    if (deflate(&zs, Z_FINISH) != Z_STREAM_END) {
        free(out);
        out = NULL;
        goto out_end;
    }
    *out_len = (size_t)zs.total_out;
out_end:
    deflateEnd(&zs);
    return out;
}
