/* gzip (libdeflate) for response bodies, when the client accepts it and the body is big enough to
 * gain.
 */
#ifndef GDLAB_ENCODE_GZIP_H
#define GDLAB_ENCODE_GZIP_H

#include <stdbool.h>
#include <stddef.h>

/* Bodies shorter than this go out as they are: below it gzip's header and the CPU cost outweigh
 * the bytes saved. */
#define GZIP_MIN_BYTES 1024

/* True for media types worth compressing: text, JSON, YAML, JavaScript. */
bool gzip_compressible(const char *content_type);

/* in[0..len) as a gzip member in a new malloc'd buffer of *out_len bytes; NULL when the result
 * would not be smaller or memory runs out. */
char *gzip_compress(const char *in, size_t len, size_t *out_len);

#endif
