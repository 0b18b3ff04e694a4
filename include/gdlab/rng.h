/* numpy's legacy RandomState (MT19937), reproduced bit for bit. */
#ifndef GDLAB_RNG_H
#define GDLAB_RNG_H

#include <stddef.h>
#include <stdint.h>

#define GD_MT_N 624

/* Generator state: the Mersenne Twister key plus the cached second Gaussian of the polar method. */
struct gd_rng {
    uint32_t key[GD_MT_N];
    int pos;
    int has_gauss;
    double gauss;
};

/* Seed like np.random.seed(seed) for an integer seed (init_genrand, Knuth's multiplier). */
void gd_rng_seed(struct gd_rng *rng, uint32_t seed);

/* Next raw 32-bit output of MT19937. */
uint32_t gd_rng_next_u32(struct gd_rng *rng);

/* One np.random.rand() draw: 53 random bits from two 32-bit outputs, in [0, 1). */
double gd_rng_uniform(struct gd_rng *rng);

/* One np.random.randn() draw: legacy polar Box-Muller, caching its second value. */
double gd_rng_gauss(struct gd_rng *rng);

/* Uniform integer in [0, max] by masked rejection, as numpy's legacy random_interval. */
uint64_t gd_rng_interval(struct gd_rng *rng, uint64_t max);

/* np.random.rand(n) into out. */
void gd_rng_fill_uniform(struct gd_rng *rng, double *out, size_t n);

/* np.random.randn(n) into out. */
void gd_rng_fill_gauss(struct gd_rng *rng, double *out, size_t n);

/* np.random.shuffle(idx) for a 1-d array: Fisher-Yates from the last element down. */
void gd_rng_shuffle_index(struct gd_rng *rng, size_t *idx, size_t n);

#endif
