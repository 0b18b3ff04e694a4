/*
 * Level 6 (zlib's default) for ordinary bodies; level 1 past 256 KiB, where big numeric arrays
 * (surfaces, histories) would otherwise cost more CPU than the transfer they save on a fast link.
 */
#include "encode/gzip.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#define GZIP_FAST_BYTES (256u << 10)

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
