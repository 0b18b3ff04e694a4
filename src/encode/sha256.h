/* SHA-256 (FIPS 180-4), for the content hash that stands for large inline data in an echo. */
#ifndef GDLAB_ENCODE_SHA256_H
#define GDLAB_ENCODE_SHA256_H

#include <stddef.h>
#include <stdint.h>

/* The digest's bytes and its lowercase hex form with the NUL. */
#define SHA256_BYTES 32
#define SHA256_HEX 65

/* A hash in progress. */
struct sha256 {
    uint32_t h[8];
    uint64_t total; /* bytes hashed so far */
    unsigned char block[64];
    size_t fill; /* bytes of block in use */
};

void sha256_init(struct sha256 *s);

/* Add len bytes. */
void sha256_update(struct sha256 *s, const void *data, size_t len);

/* The digest into out; s is spent. */
void sha256_final(struct sha256 *s, unsigned char out[SHA256_BYTES]);

/* The digest of data[0 .. len) as 64 lowercase hex digits and a NUL. */
void sha256_hex(const void *data, size_t len, char out[SHA256_HEX]);

#endif
