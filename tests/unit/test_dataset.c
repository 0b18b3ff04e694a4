/* The tutorial's dataset: numpy's data bit for bit, the split, inline data, and bad input. */
#include <math.h>
#include <stdlib.h>

#include "gdlab/dataset.h"
#include "gdlab/status.h"
#include "test_util.h"

static struct tu_file *vectors;

static const struct tu_record *record(const char *kind, int i, size_t *at)
{
    *at = tu_find(vectors, kind, (size_t)i);
    ck_assert_msg(*at < vectors->count, "no record %d of kind %s", i, kind);
    return &vectors->rec[*at];
}

static void assert_doubles(const struct tu_record *r, const char *kind, const double *got, size_t n)
{
    ck_assert_str_eq(r->kind, kind);
    ck_assert_uint_eq(r->nfield, n);
    for (size_t i = 0; i < n; i++)
        TU_ASSERT_BITS(got[i], tu_double(r->field[i]));
}

static void assert_index(const struct tu_record *r, const size_t *got, size_t n)
{
    ck_assert_str_eq(r->kind, "idx");
    ck_assert_uint_eq(r->nfield, n);
    for (size_t i = 0; i < n; i++)
        ck_assert_uint_eq(got[i], tu_u64(r->field[i]));
}

START_TEST(generate_matches_numpy)
{
    size_t at;
    const struct tu_record *r = record("dataset", _i, &at);
    struct gd_dataset_params p = {
        .seed = (uint32_t)tu_u64(r->field[0]),
        .n = tu_u64(r->field[1]),
        .true_b = tu_double(r->field[2]),
        .true_w = tu_double(r->field[3]),
        .noise = tu_double(r->field[4]),
        .x_multiplier = tu_double(r->field[5]),
        .train_fraction = tu_double(r->field[6]),
    };
    struct gd_dataset *d = gd_dataset_new(p.n);
    ck_assert_ptr_nonnull(d);
    ck_assert_int_eq(gd_dataset_generate(d, &p), GD_OK);
    ck_assert_uint_eq(d->n_train, tu_u64(r->field[7]));
    assert_doubles(&vectors->rec[at + 1], "x", d->x, p.n);
    assert_doubles(&vectors->rec[at + 2], "y", d->y, p.n);
    assert_index(&vectors->rec[at + 3], d->idx, p.n);
    gd_dataset_free(d);
}
END_TEST

START_TEST(initial_params_match_numpy)
{
    size_t at;
    const struct tu_record *r = record("init", _i, &at);
    double b, w;
    gd_initial_params((uint32_t)tu_u64(r->field[0]), &b, &w);
    TU_ASSERT_BITS(b, tu_double(r->field[1]));
    TU_ASSERT_BITS(w, tu_double(r->field[2]));
}
END_TEST

/* The tutorial's own start: b = 0.49671415301123267, w = -0.13826430117118466. */
START_TEST(tutorial_initial_params)
{
    double b, w;
    gd_initial_params(42, &b, &w);
    TU_ASSERT_BITS(b, 0x1.fca2a28a9307cp-2);
    TU_ASSERT_BITS(w, -0x1.1b2a505de052ap-3);
    TU_ASSERT_CLOSE(b, 0.49671415301123267, 0, 0);
    TU_ASSERT_CLOSE(w, -0.13826430117118466, 0, 0);
}
END_TEST

START_TEST(load_matches_numpy)
{
    size_t at;
    const struct tu_record *r = record("load", _i, &at);
    uint32_t seed = (uint32_t)tu_u64(r->field[0]);
    size_t n = tu_u64(r->field[1]);
    double m = tu_double(r->field[2]), frac = tu_double(r->field[3]);
    double *xin = malloc(n * sizeof(*xin)), *yin = malloc(n * sizeof(*yin));
    ck_assert(xin && yin);
    tu_doubles(&vectors->rec[at + 1], 0, xin, n);
    tu_doubles(&vectors->rec[at + 2], 0, yin, n);
    struct gd_dataset *d = gd_dataset_new(n);
    ck_assert_ptr_nonnull(d);
    ck_assert_int_eq(gd_dataset_load(d, xin, yin, m, seed, frac), GD_OK);
    ck_assert_uint_eq(d->n_train, tu_u64(r->field[4]));
    assert_doubles(&vectors->rec[at + 3], "x", d->x, n);
    for (size_t i = 0; i < n; i++)
        TU_ASSERT_BITS(d->y[i], yin[i]);
    assert_index(&vectors->rec[at + 4], d->idx, n);
    gd_dataset_free(d);
    free(xin);
    free(yin);
}
END_TEST

/* floor(n*fraction) as Python's int(n * fraction): the product is rounded first. */
static const struct split_case {
    size_t n;
    double fraction;
    int status;
    size_t n_train;
} split_cases[] = {
    {100, 0.8, GD_OK, 80},      {100, 0.29, GD_OK, 28}, /* 100*0.29 = 28.999999999999996 */
    {10, 0.3, GD_OK, 3},                                /* 10*0.3 = 3.0000000000000004 */
    {3, 0.7, GD_OK, 2},         {2, 0.5, GD_OK, 1},
    {2, 0.99, GD_OK, 1},        {2, 0.49, GD_ESPLIT, 0}, /* no training point */
    {2, 1.0, GD_ESPLIT, 0},     {10, 0.0, GD_ESPLIT, 0},
    {10, 1.0, GD_ESPLIT, 0},    {10, 0.05, GD_ESPLIT, 0},
    {10, 0.95, GD_OK, 9},       {10, 0.999, GD_OK, 9},
    {1000, 0.9999, GD_OK, 999}, {1, 0.5, GD_ESPLIT, 0},
    {10, -0.5, GD_ESPLIT, 0},   {10, 1.5, GD_ESPLIT, 0},
    {10, NAN, GD_ESPLIT, 0},    {10, INFINITY, GD_ESPLIT, 0},
    {100000, 1e-5, GD_OK, 1},   {100000, 1.0 - 1e-5, GD_OK, 99999},
};

START_TEST(split_size_cases)
{
    const struct split_case *c = &split_cases[_i];
    size_t n_train = 12345;
    int status = gd_split_size(c->n, c->fraction, &n_train);
    ck_assert_msg(status == c->status, "n %zu fraction %a: status %s, want %s", c->n, c->fraction,
                  gd_status_name(status), gd_status_name(c->status));
    if (status == GD_OK)
        ck_assert_uint_eq(n_train, c->n_train);
    else
        ck_assert_uint_eq(n_train, 12345); /* untouched on error */
}
END_TEST

/* Each case spoils one parameter of the tutorial's defaults. */
static const struct bad_case {
    const char *what;
    size_t n;
    double true_b, true_w, noise, m, fraction;
    int status;
} bad_cases[] = {
    {"NaN true_b", 100, NAN, 2, 0.1, 1, 0.8, GD_EINVAL},
    {"infinite true_w", 100, 1, INFINITY, 0.1, 1, 0.8, GD_EINVAL},
    {"negative noise", 100, 1, 2, -0.1, 1, 0.8, GD_EINVAL},
    {"NaN noise", 100, 1, 2, NAN, 1, 0.8, GD_EINVAL},
    {"zero multiplier", 100, 1, 2, 0.1, 0.0, 0.8, GD_EINVAL},
    {"negative zero multiplier", 100, 1, 2, 0.1, -0.0, 0.8, GD_EINVAL},
    {"NaN multiplier", 100, 1, 2, 0.1, NAN, 0.8, GD_EINVAL},
    {"infinite multiplier", 100, 1, 2, 0.1, -INFINITY, 0.8, GD_EINVAL},
    {"one point", 1, 1, 2, 0.1, 1, 0.8, GD_EINVAL},
    {"fraction 0", 100, 1, 2, 0.1, 1, 0.0, GD_ESPLIT},
    {"fraction 1", 100, 1, 2, 0.1, 1, 1.0, GD_ESPLIT},
    {"empty training split", 4, 1, 2, 0.1, 1, 0.2, GD_ESPLIT},
    {"fraction near 1 keeps one validation point", 4, 1, 2, 0.1, 1, 0.99, GD_OK},
    {"n = 2, one each", 2, 1, 2, 0.1, 1, 0.5, GD_OK},
    {"zero noise", 10, 1, 2, 0.0, 1, 0.5, GD_OK},
    {"negative multiplier", 10, 1, 2, 0.1, -10, 0.5, GD_OK},
    {"y overflows", 100, 1e308, 1e308, 0.1, 1, 0.8, GD_ENONFINITE},
    {"noise overflows y", 100, 1, 2, 1e308, 1, 0.8, GD_ENONFINITE},
    {"huge but finite", 100, 1e307, 1e307, 1e306, 1, 0.8, GD_OK},
};

START_TEST(generate_rejects_bad_input)
{
    const struct bad_case *c = &bad_cases[_i];
    struct gd_dataset_params p;
    gd_dataset_params_default(&p);
    p.n = c->n;
    p.true_b = c->true_b;
    p.true_w = c->true_w;
    p.noise = c->noise;
    p.x_multiplier = c->m;
    p.train_fraction = c->fraction;
    struct gd_dataset *d = gd_dataset_new(c->n);
    ck_assert_ptr_nonnull(d);
    int status = gd_dataset_generate(d, &p);
    ck_assert_msg(status == c->status, "%s: status %s, want %s", c->what, gd_status_name(status),
                  gd_status_name(c->status));
    if (status == GD_OK)
        ck_assert(d->n_train >= 1 && d->n_train < d->n);
    gd_dataset_free(d);
}
END_TEST

START_TEST(defaults_are_the_tutorials)
{
    struct gd_dataset_params p;
    gd_dataset_params_default(&p);
    ck_assert_uint_eq(p.seed, 42);
    ck_assert_uint_eq(p.n, 100);
    TU_ASSERT_BITS(p.true_b, 1.0);
    TU_ASSERT_BITS(p.true_w, 2.0);
    TU_ASSERT_BITS(p.noise, 0.1);
    TU_ASSERT_BITS(p.x_multiplier, 1.0);
    TU_ASSERT_BITS(p.train_fraction, 0.8);
}
END_TEST

START_TEST(size_mismatch_and_null_are_einval)
{
    struct gd_dataset_params p;
    gd_dataset_params_default(&p);
    struct gd_dataset *d = gd_dataset_new(50);
    ck_assert_ptr_nonnull(d);
    ck_assert_int_eq(gd_dataset_generate(d, &p), GD_EINVAL); /* room for 50, asked for 100 */
    ck_assert_int_eq(gd_dataset_generate(NULL, &p), GD_EINVAL);
    ck_assert_int_eq(gd_dataset_generate(d, NULL), GD_EINVAL);
    gd_dataset_free(d);
    ck_assert_ptr_null(gd_dataset_new(0));
    gd_dataset_free(NULL);
}
END_TEST

/* Zero noise puts every point on the line: y = true_b + (true_w/m)*x exactly as numpy rounds it. */
START_TEST(zero_noise_is_on_the_line)
{
    struct gd_dataset_params p;
    gd_dataset_params_default(&p);
    p.noise = 0.0;
    p.x_multiplier = -3.0;
    struct gd_dataset *d = gd_dataset_new(p.n);
    ck_assert_ptr_nonnull(d);
    ck_assert_int_eq(gd_dataset_generate(d, &p), GD_OK);
    for (size_t i = 0; i < p.n; i++) {
        TU_ASSERT_BITS(d->y[i], p.true_b + (p.true_w / p.x_multiplier) * d->x[i] + 0.0);
        ck_assert(d->x[i] <= 0.0 && d->x[i] > -3.0);
    }
    gd_dataset_free(d);
}
END_TEST

/* The bad feature: x*10 with w/10 leaves y the same, up to the rounding of (w/10)*(10x). */
START_TEST(multiplier_keeps_labels)
{
    struct gd_dataset_params p;
    gd_dataset_params_default(&p);
    struct gd_dataset *a = gd_dataset_new(p.n), *b = gd_dataset_new(p.n);
    ck_assert(a && b);
    ck_assert_int_eq(gd_dataset_generate(a, &p), GD_OK);
    p.x_multiplier = 10.0;
    ck_assert_int_eq(gd_dataset_generate(b, &p), GD_OK);
    for (size_t i = 0; i < p.n; i++) {
        TU_ASSERT_BITS(b->x[i], a->x[i] * 10.0);
        TU_ASSERT_CLOSE(b->y[i], a->y[i], 4e-16, 0);
        ck_assert_uint_eq(b->idx[i], a->idx[i]);
    }
    gd_dataset_free(a);
    gd_dataset_free(b);
}
END_TEST

static const struct load_bad_case {
    const char *what;
    double x0, y0, m, fraction;
    int status;
} load_bad_cases[] = {
    {"NaN x", NAN, 1, 1, 0.5, GD_ENONFINITE},
    {"infinite y", 1, INFINITY, 1, 0.5, GD_ENONFINITE},
    {"NaN y", 1, -NAN, 1, 0.5, GD_ENONFINITE},
    {"zero multiplier", 1, 1, 0.0, 0.5, GD_EINVAL},
    {"NaN multiplier", 1, 1, NAN, 0.5, GD_EINVAL},
    {"fraction 0", 1, 1, 1, 0.0, GD_ESPLIT},
    {"fraction 1", 1, 1, 1, 1.0, GD_ESPLIT},
    {"multiplier overflows x", 1e300, 1, 1e10, 0.5, GD_ENONFINITE},
    {"fine", 1, 1, 1, 0.5, GD_OK},
};

START_TEST(load_rejects_bad_input)
{
    const struct load_bad_case *c = &load_bad_cases[_i];
    double x[4] = {0.5, 1.5, 2.5, c->x0}, y[4] = {1, 2, c->y0, 3};
    struct gd_dataset *d = gd_dataset_new(4);
    ck_assert_ptr_nonnull(d);
    int status = gd_dataset_load(d, x, y, c->m, 42, c->fraction);
    ck_assert_msg(status == c->status, "%s: status %s, want %s", c->what, gd_status_name(status),
                  gd_status_name(c->status));
    gd_dataset_free(d);
}
END_TEST

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

static Suite *dataset_suite(void)
{
    Suite *s = suite_create("dataset");
    TCase *tc = tcase_create("numpy");
    tcase_add_loop_test(tc, generate_matches_numpy, 0, (int)tu_count(vectors, "dataset"));
    tcase_add_loop_test(tc, initial_params_match_numpy, 0, (int)tu_count(vectors, "init"));
    tcase_add_test(tc, tutorial_initial_params);
    tcase_add_loop_test(tc, load_matches_numpy, 0, (int)tu_count(vectors, "load"));
    suite_add_tcase(s, tc);

    TCase *split = tcase_create("split");
    tcase_add_loop_test(split, split_size_cases, 0, COUNT(split_cases));
    suite_add_tcase(s, split);

    TCase *input = tcase_create("input");
    tcase_add_loop_test(input, generate_rejects_bad_input, 0, COUNT(bad_cases));
    tcase_add_loop_test(input, load_rejects_bad_input, 0, COUNT(load_bad_cases));
    tcase_add_test(input, defaults_are_the_tutorials);
    tcase_add_test(input, size_mismatch_and_null_are_einval);
    tcase_add_test(input, zero_noise_is_on_the_line);
    tcase_add_test(input, multiplier_keeps_labels);
    suite_add_tcase(s, input);
    return s;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        tu_data_dir = argv[1];
    vectors = tu_load("dataset.txt");
    int rc = tu_run(dataset_suite());
    tu_free(vectors);
    return rc;
}
