/* Reading typed values off the front of a fuzzer's input, so one harness can drive every
 * parameter of an entry point; once the input runs out every value reads as zero. */
#ifndef GDLAB_FUZZ_INPUT_H
#define GDLAB_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct fuzz_input {
    const uint8_t *data;
    size_t size;
};

/* The next n bytes into out, zero-filled past the end of the input. */
static inline void fuzz_take(struct fuzz_input *in, void *out, size_t n)
{
    size_t k = n < in->size ? n : in->size;
    memset(out, 0, n);
    memcpy(out, in->data, k);
    in->data += k;
    in->size -= k;
}

static inline uint8_t fuzz_u8(struct fuzz_input *in)
{
    uint8_t v;
    fuzz_take(in, &v, sizeof(v));
    return v;
}

static inline uint32_t fuzz_u32(struct fuzz_input *in)
{
    uint32_t v;
    fuzz_take(in, &v, sizeof(v));
    return v;
}

static inline uint64_t fuzz_u64(struct fuzz_input *in)
{
    uint64_t v;
    fuzz_take(in, &v, sizeof(v));
    return v;
}

/* Any double at all, NaN, infinities and subnormals included: the raw bits. */
static inline double fuzz_double(struct fuzz_input *in)
{
    double v;
    fuzz_take(in, &v, sizeof(v));
    return v;
}

/* An integer in [lo, hi]. */
static inline uint64_t fuzz_range(struct fuzz_input *in, uint64_t lo, uint64_t hi)
{
    uint64_t span = hi - lo;
    uint64_t v = fuzz_u64(in);
    return span == UINT64_MAX ? v : lo + v % (span + 1);
}

#endif
