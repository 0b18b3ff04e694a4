/* numpy's legacy RandomState, bit for bit: raw MT19937, rand, randn, shuffle, bounded integers. */
#include <stdlib.h>
#include <string.h>

#include "gdlab/rng.h"
#include "test_util.h"

static struct tu_file *vectors;

static const struct tu_record *record(const char *kind, int i)
{
    size_t at = tu_find(vectors, kind, (size_t)i);
    ck_assert_msg(at < vectors->count, "no record %d of kind %s", i, kind);
    return &vectors->rec[at];
}

START_TEST(raw_u32_matches_numpy)
{
    const struct tu_record *r = record("u32", _i);
    struct gd_rng rng;
    gd_rng_seed(&rng, (uint32_t)tu_u64(r->field[0]));
    size_t count = tu_u64(r->field[1]);
    for (size_t k = 0; k < count; k++)
        ck_assert_uint_eq(gd_rng_next_u32(&rng), tu_u64(r->field[2 + k]));
}
END_TEST

/* The first outputs of MT19937 for the default seed 5489, from Matsumoto and Nishimura's
 * reference implementation, and its 10000th output (C++ std::mt19937, [rand.predef]). */
START_TEST(mt19937_reference_outputs)
{
    static const uint32_t first[] = {3499211612U, 581869302U, 3890346734U, 3586334585U, 545404204U};
    struct gd_rng rng;
    gd_rng_seed(&rng, 5489);
    for (size_t k = 0; k < sizeof(first) / sizeof(first[0]); k++)
        ck_assert_uint_eq(gd_rng_next_u32(&rng), first[k]);
    gd_rng_seed(&rng, 5489);
    uint32_t v = 0;
    for (int k = 0; k < 10000; k++)
        v = gd_rng_next_u32(&rng);
    ck_assert_uint_eq(v, 4123659995U);
    const struct tu_record *r = record("u32_at", 0);
    ck_assert_uint_eq(v, tu_u64(r->field[2]));
}
END_TEST

START_TEST(uniform_matches_numpy)
{
    const struct tu_record *r = record("uniform", _i);
    struct gd_rng rng;
    gd_rng_seed(&rng, (uint32_t)tu_u64(r->field[0]));
    size_t count = tu_u64(r->field[1]);
    double got[16];
    ck_assert_uint_le(count, 16);
    /* one at a time for the first half, then the fill function: the stream is one stream */
    size_t half = count / 2;
    for (size_t k = 0; k < half; k++)
        got[k] = gd_rng_uniform(&rng);
    gd_rng_fill_uniform(&rng, got + half, count - half);
    for (size_t k = 0; k < count; k++) {
        TU_ASSERT_BITS(got[k], tu_double(r->field[2 + k]));
        ck_assert(got[k] >= 0.0 && got[k] < 1.0);
    }
}
END_TEST

START_TEST(gauss_matches_numpy)
{
    const struct tu_record *r = record("gauss", _i);
    struct gd_rng rng;
    gd_rng_seed(&rng, (uint32_t)tu_u64(r->field[0]));
    size_t count = tu_u64(r->field[1]);
    double got[16];
    ck_assert_uint_le(count, 16);
    /* an odd split leaves a cached value between the single draws and the fill */
    got[0] = gd_rng_gauss(&rng);
    ck_assert(rng.has_gauss);
    gd_rng_fill_gauss(&rng, got + 1, count - 1);
    for (size_t k = 0; k < count; k++)
        TU_ASSERT_BITS(got[k], tu_double(r->field[2 + k]));
}
END_TEST

/* rand() between randn() draws leaves the cached Gaussian in place, as in numpy. */
START_TEST(cached_gauss_survives_uniform_draws)
{
    const struct tu_record *r = record("mixed", _i);
    struct gd_rng rng;
    gd_rng_seed(&rng, (uint32_t)tu_u64(r->field[0]));
    const char *pattern = r->field[1];
    for (size_t k = 0; pattern[k]; k++) {
        double v = pattern[k] == 'g' ? gd_rng_gauss(&rng) : gd_rng_uniform(&rng);
        TU_ASSERT_BITS(v, tu_double(r->field[2 + k]));
    }
}
END_TEST

/* Seeding drops the cached value: seed, randn, seed, randn gives the same number twice. */
START_TEST(seed_resets_cached_gauss)
{
    struct gd_rng rng;
    gd_rng_seed(&rng, 42);
    double first = gd_rng_gauss(&rng);
    ck_assert(rng.has_gauss);
    gd_rng_seed(&rng, 42);
    ck_assert(!rng.has_gauss);
    TU_ASSERT_BITS(gd_rng_gauss(&rng), first);
    /* the cached second value comes next, without drawing from the generator */
    int pos = rng.pos;
    double second = gd_rng_gauss(&rng);
    ck_assert_int_eq(rng.pos, pos);
    ck_assert(!rng.has_gauss);
    ck_assert(second != first);
}
END_TEST

START_TEST(shuffle_matches_numpy)
{
    const struct tu_record *r = record("shuffle", _i);
    struct gd_rng rng;
    gd_rng_seed(&rng, (uint32_t)tu_u64(r->field[0]));
    size_t n = tu_u64(r->field[1]);
    size_t *idx = malloc(n * sizeof(*idx));
    ck_assert_ptr_nonnull(idx);
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    gd_rng_shuffle_index(&rng, idx, n);
    for (size_t i = 0; i < n; i++)
        ck_assert_uint_eq(idx[i], tu_u64(r->field[3 + i]));
    free(idx);
    /* and the stream continues where numpy's does */
    TU_ASSERT_BITS(gd_rng_uniform(&rng), tu_double(r->field[2]));
}
END_TEST

/* n = 1 draws nothing; n = 2 draws one masked bit, a permutation either way. */
START_TEST(shuffle_of_one_draws_nothing)
{
    struct gd_rng a, b;
    gd_rng_seed(&a, 7);
    gd_rng_seed(&b, 7);
    size_t idx[1] = {0};
    gd_rng_shuffle_index(&a, idx, 1);
    ck_assert_uint_eq(idx[0], 0);
    ck_assert_uint_eq(gd_rng_next_u32(&a), gd_rng_next_u32(&b));
    gd_rng_shuffle_index(&a, idx, 0);
    ck_assert_uint_eq(gd_rng_next_u32(&a), gd_rng_next_u32(&b));
}
END_TEST

START_TEST(shuffle_of_two_uses_the_low_bit)
{
    for (uint32_t seed = 0; seed < 64; seed++) {
        struct gd_rng a, b;
        gd_rng_seed(&a, seed);
        gd_rng_seed(&b, seed);
        size_t idx[2] = {0, 1};
        gd_rng_shuffle_index(&a, idx, 2);
        uint32_t bit = gd_rng_next_u32(&b) & 1U;
        /* j = bit: swap(idx[1], idx[j]) */
        ck_assert_uint_eq(idx[0], bit ? 0 : 1);
        ck_assert_uint_eq(idx[1], bit ? 1 : 0);
    }
}
END_TEST

START_TEST(interval_matches_numpy_randint)
{
    const struct tu_record *r = record("interval", _i);
    struct gd_rng rng;
    gd_rng_seed(&rng, (uint32_t)tu_u64(r->field[0]));
    uint64_t max = tu_u64(r->field[1]);
    size_t count = tu_u64(r->field[2]);
    for (size_t k = 0; k < count; k++) {
        uint64_t v = gd_rng_interval(&rng, max);
        ck_assert_uint_le(v, max);
        ck_assert_uint_eq(v, tu_u64(r->field[3 + k]));
    }
}
END_TEST

START_TEST(interval_zero_draws_nothing)
{
    struct gd_rng a, b;
    gd_rng_seed(&a, 1);
    gd_rng_seed(&b, 1);
    ck_assert_uint_eq(gd_rng_interval(&a, 0), 0);
    ck_assert_uint_eq(gd_rng_next_u32(&a), gd_rng_next_u32(&b));
}
END_TEST

/* Seeds 0 and 2^32 - 1 are legal and distinct; init_genrand keeps key[0] = seed. */
START_TEST(boundary_seeds)
{
    struct gd_rng lo, hi;
    gd_rng_seed(&lo, 0);
    gd_rng_seed(&hi, 4294967295U);
    ck_assert_uint_eq(lo.key[0], 0);
    ck_assert_uint_eq(hi.key[0], 4294967295U);
    ck_assert_int_eq(lo.pos, GD_MT_N);
    ck_assert_uint_ne(gd_rng_next_u32(&lo), gd_rng_next_u32(&hi));
}
END_TEST

/* Draws continue across the 624-word regeneration without a seam: 2000 draws in one go equal
 * 2000 draws interleaved with a second generator's. */
START_TEST(stream_crosses_regeneration)
{
    struct gd_rng a, b, other;
    gd_rng_seed(&a, 99);
    gd_rng_seed(&b, 99);
    gd_rng_seed(&other, 100);
    for (int k = 0; k < 2000; k++) {
        (void)gd_rng_next_u32(&other);
        ck_assert_uint_eq(gd_rng_next_u32(&a), gd_rng_next_u32(&b));
    }
}
END_TEST

static Suite *rng_suite(void)
{
    Suite *s = suite_create("rng");
    TCase *tc = tcase_create("numpy");
    tcase_add_loop_test(tc, raw_u32_matches_numpy, 0, (int)tu_count(vectors, "u32"));
    tcase_add_test(tc, mt19937_reference_outputs);
    tcase_add_loop_test(tc, uniform_matches_numpy, 0, (int)tu_count(vectors, "uniform"));
    tcase_add_loop_test(tc, gauss_matches_numpy, 0, (int)tu_count(vectors, "gauss"));
    tcase_add_loop_test(tc, cached_gauss_survives_uniform_draws, 0,
                        (int)tu_count(vectors, "mixed"));
    tcase_add_loop_test(tc, shuffle_matches_numpy, 0, (int)tu_count(vectors, "shuffle"));
    tcase_add_loop_test(tc, interval_matches_numpy_randint, 0, (int)tu_count(vectors, "interval"));
    suite_add_tcase(s, tc);

    TCase *edge = tcase_create("edges");
    tcase_add_test(edge, seed_resets_cached_gauss);
    tcase_add_test(edge, shuffle_of_one_draws_nothing);
    tcase_add_test(edge, shuffle_of_two_uses_the_low_bit);
    tcase_add_test(edge, interval_zero_draws_nothing);
    tcase_add_test(edge, boundary_seeds);
    tcase_add_test(edge, stream_crosses_regeneration);
    suite_add_tcase(s, edge);
    return s;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        tu_data_dir = argv[1];
    vectors = tu_load("rng.txt");
    int rc = tu_run(rng_suite());
    tu_free(vectors);
    return rc;
}
