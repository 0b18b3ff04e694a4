/*
 * numpy's legacy RandomState, reproduced bit for bit: MT19937 seeded by init_genrand, rand() as
 * 53-bit doubles, randn() by the polar Box-Muller method with its cached second value, and
 * shuffle() by Fisher-Yates with masked-rejection bounded integers. Each function mirrors its
 * counterpart in numpy/random/src (mt19937.c, legacy-distributions.c, distributions.c).
 */
#include "gdlab/rng.h"

#include <math.h>

#define MT_M 397
#define MT_MATRIX_A 0x9908b0dfU
#define MT_UPPER_MASK 0x80000000U
#define MT_LOWER_MASK 0x7fffffffU

void gd_rng_seed(struct gd_rng *rng, uint32_t seed)
{
    /* Knuth TAOCP vol. 2, 3rd ed., p. 106: key[i] = 1812433253 * (key[i-1] ^ (key[i-1] >> 30)) + i
     */
    rng->key[0] = seed;
    for (int i = 1; i < GD_MT_N; i++) {
        uint32_t prev = rng->key[i - 1];
        rng->key[i] = 1812433253U * (prev ^ (prev >> 30)) + (uint32_t)i;
    }
    rng->pos = GD_MT_N;
    rng->has_gauss = 0;
    rng->gauss = 0.0;
}

static void mt_generate(struct gd_rng *rng)
{
    uint32_t *k = rng->key;
    int i = 0;
    for (; i < GD_MT_N - MT_M; i++) {
        uint32_t y = (k[i] & MT_UPPER_MASK) | (k[i + 1] & MT_LOWER_MASK);
        k[i] = k[i + MT_M] ^ (y >> 1) ^ (-(y & 1U) & MT_MATRIX_A);
    }
    for (; i < GD_MT_N - 1; i++) {
        uint32_t y = (k[i] & MT_UPPER_MASK) | (k[i + 1] & MT_LOWER_MASK);
        k[i] = k[i + (MT_M - GD_MT_N)] ^ (y >> 1) ^ (-(y & 1U) & MT_MATRIX_A);
    }
    uint32_t y = (k[GD_MT_N - 1] & MT_UPPER_MASK) | (k[0] & MT_LOWER_MASK);
    k[GD_MT_N - 1] = k[MT_M - 1] ^ (y >> 1) ^ (-(y & 1U) & MT_MATRIX_A);
    rng->pos = 0;
}

/* Inlined into every draw below: a call per 32 bits was a fifth of generating a dataset. */
static inline uint32_t mt_next(struct gd_rng *rng)
{
    if (__builtin_expect(rng->pos == GD_MT_N, 0))
        mt_generate(rng);
    uint32_t y = rng->key[rng->pos++];
    /* Tempering */
    y ^= (y >> 11);
    y ^= (y << 7) & 0x9d2c5680U;
    y ^= (y << 15) & 0xefc60000U;
    y ^= (y >> 18);
    return y;
}

uint32_t gd_rng_next_u32(struct gd_rng *rng)
{
    return mt_next(rng);
}

static inline double uniform(struct gd_rng *rng)
{
    /* (a * 2^26 + b) / 2^53 with a the top 27 bits of one draw and b the top 26 of the next */
    int32_t a = (int32_t)(mt_next(rng) >> 5);
    int32_t b = (int32_t)(mt_next(rng) >> 6);
    return (a * 67108864.0 + b) / 9007199254740992.0;
}

double gd_rng_uniform(struct gd_rng *rng)
{
    return uniform(rng);
}

static inline double gauss(struct gd_rng *rng)
{
    if (rng->has_gauss) {
        double cached = rng->gauss;
        rng->has_gauss = 0;
        rng->gauss = 0.0;
        return cached;
    }
    double x1, x2, r2;
    do {
        x1 = 2.0 * uniform(rng) - 1.0;
        x2 = 2.0 * uniform(rng) - 1.0;
        r2 = x1 * x1 + x2 * x2;
    } while (r2 >= 1.0 || r2 == 0.0);
    /* Polar method: f = sqrt(-2 ln(r2) / r2); f*x1 is kept for the next call, f*x2 returned. */
    double f = sqrt(-2.0 * log(r2) / r2);
    rng->gauss = f * x1;
    rng->has_gauss = 1;
    return f * x2;
}

double gd_rng_gauss(struct gd_rng *rng)
{
    return gauss(rng);
}

static inline uint64_t interval(struct gd_rng *rng, uint64_t max)
{
    if (max == 0)
        return 0;
    /* The smallest all-ones mask covering max; draws above max are rejected. */
    uint64_t mask = max;
    mask |= mask >> 1;
    mask |= mask >> 2;
    mask |= mask >> 4;
    mask |= mask >> 8;
    mask |= mask >> 16;
    mask |= mask >> 32;
    uint64_t value;
    if (max <= 0xffffffffU) {
        while ((value = (mt_next(rng) & mask)) > max)
            ;
    } else {
        /* numpy's next_uint64 for MT19937: high word first */
        do {
            uint64_t hi = mt_next(rng);
            uint64_t lo = mt_next(rng);
            value = ((hi << 32) | lo) & mask;
        } while (value > max);
    }
    return value;
}

uint64_t gd_rng_interval(struct gd_rng *rng, uint64_t max)
{
    return interval(rng, max);
}

void gd_rng_fill_uniform(struct gd_rng *rng, double *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = uniform(rng);
}

void gd_rng_fill_gauss(struct gd_rng *rng, double *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = gauss(rng);
}

/* How many swaps of a shuffle draw their partner ahead, so that its cache line is on the way. */
#define SHUFFLE_AHEAD 32

void gd_rng_shuffle_index(struct gd_rng *rng, size_t *idx, size_t n)
{
    /* for i in reversed(range(1, n)): j = random_interval(i); swap(idx[i], idx[j])
     * The draws do not depend on the swaps, so a batch of partners j is drawn first and their
     * cache lines prefetched; the swaps then run in the same order on the same pairs. */
    size_t partner[SHUFFLE_AHEAD];
    for (size_t i = n; i > 1;) {
        size_t batch = i - 1 < SHUFFLE_AHEAD ? i - 1 : SHUFFLE_AHEAD;
        for (size_t t = 0; t < batch; t++) {
            partner[t] = (size_t)interval(rng, (uint64_t)(i - 1 - t));
            __builtin_prefetch(&idx[partner[t]], 1);
        }
        for (size_t t = 0; t < batch; t++) {
            size_t a = i - 1 - t, j = partner[t];
            size_t tmp = idx[a];
            idx[a] = idx[j];
            idx[j] = tmp;
        }
        i -= batch;
    }
}
