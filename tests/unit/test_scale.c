/* Scalers against scikit-learn's StandardScaler and MinMaxScaler, fitted on the training split. */
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "gdlab/scale.h"
#include "gdlab/status.h"
#include "test_util.h"

static struct tu_file *vectors;

/* Record i of kind "scaler", followed by its x, idx and z (sklearn's transform) lines. */
START_TEST(scaler_matches_sklearn)
{
    size_t at = tu_find(vectors, "scaler", (size_t)_i);
    ck_assert_uint_lt(at, vectors->count);
    const struct tu_record *r = &vectors->rec[at];
    const char *name = r->field[0], *kind_name = r->field[1];
    size_t n = tu_u64(r->field[2]), n_train = tu_u64(r->field[3]);
    enum gd_scaler_kind kind = kind_name[0] == 's' ? GD_SCALER_STANDARD : GD_SCALER_MINMAX;
    ck_assert_str_eq(gd_scaler_name(kind), kind_name);
    double *x = malloc(n * sizeof(*x)), *z = malloc(n * sizeof(*z)),
           *got = malloc(n * sizeof(*got));
    size_t *idx = malloc(n * sizeof(*idx));
    ck_assert(x && z && got && idx);
    tu_doubles(&vectors->rec[at + 1], 0, x, n);
    for (size_t i = 0; i < n; i++)
        idx[i] = tu_u64(vectors->rec[at + 2].field[i]);
    tu_doubles(&vectors->rec[at + 3], 0, z, n);

    struct gd_scaler s;
    ck_assert_int_eq(gd_scaler_fit(&s, kind, x, idx, n_train), GD_OK);
    ck_assert_int_eq(s.kind, kind);
    gd_scaler_apply(&s, x, got, n);
    if (kind == GD_SCALER_STANDARD) {
        double mean = tu_double(r->field[4]), std = tu_double(r->field[5]);
        /* sklearn's mean is a plain float sum; allow an ulp or two of it */
        TU_ASSERT_CLOSE(s.mean, mean, 4 * DBL_EPSILON, 0);
        TU_ASSERT_CLOSE(s.std, std, 1e-14, 0);
        for (size_t i = 0; i < n; i++) {
            /* (x - mean)/std: an ulp of the mean is (|x| + |mean|)*eps/std in the result */
            double cond = (fabs(x[i]) + fabs(mean)) / std;
            ck_assert_msg(tu_close(got[i], z[i], 1e-14, 4 * DBL_EPSILON * cond),
                          "%s: z[%zu] = %a, sklearn %a", name, i, got[i], z[i]);
        }
    } else {
        /* min-max is the same few roundings as sklearn's: bit for bit */
        TU_ASSERT_BITS(s.min, tu_double(r->field[4]));
        TU_ASSERT_BITS(s.max, tu_double(r->field[5]));
        TU_ASSERT_BITS(s.scale, tu_double(r->field[6]));
        for (size_t i = 0; i < n; i++)
            ck_assert_msg(tu_same_bits(got[i], z[i]), "%s: z[%zu] = %a, sklearn %a", name, i,
                          got[i], z[i]);
    }
    /* in place gives the same numbers */
    gd_scaler_apply(&s, x, x, n);
    for (size_t i = 0; i < n; i++)
        TU_ASSERT_BITS(x[i], got[i]);
    free(x);
    free(z);
    free(got);
    free(idx);
}
END_TEST

/* A constant feature gets scale 1 (standard: std 1; min-max: range 1), so it maps to 0. */
static const double constants[] = {0.0, 2.5, -1e300, 1e-300, 123456789.123};

START_TEST(constant_feature_gets_scale_one)
{
    double x[4];
    for (int i = 0; i < 4; i++)
        x[i] = constants[_i];
    struct gd_scaler s;
    ck_assert_int_eq(gd_scaler_fit(&s, GD_SCALER_STANDARD, x, NULL, 4), GD_OK);
    TU_ASSERT_BITS(s.std, 1.0);
    TU_ASSERT_BITS(s.mean, constants[_i]);
    double z[4];
    gd_scaler_apply(&s, x, z, 4);
    for (int i = 0; i < 4; i++)
        TU_ASSERT_BITS(z[i], 0.0);
    ck_assert_int_eq(gd_scaler_fit(&s, GD_SCALER_MINMAX, x, NULL, 4), GD_OK);
    TU_ASSERT_BITS(s.scale, 1.0);
    gd_scaler_apply(&s, x, z, 4);
    for (int i = 0; i < 4; i++)
        TU_ASSERT_CLOSE(z[i], 0.0, 0, 0);
}
END_TEST

/* Fitting uses only the indexed (training) points: the rest may be anything finite. */
START_TEST(fit_sees_only_the_training_split)
{
    double x[6] = {1, 1e9, 3, -1e9, 5, 42};
    size_t idx[6] = {0, 2, 4, 1, 3, 5};
    struct gd_scaler s;
    ck_assert_int_eq(gd_scaler_fit(&s, GD_SCALER_STANDARD, x, idx, 3), GD_OK);
    TU_ASSERT_BITS(s.mean, 3.0);
    TU_ASSERT_CLOSE(s.std, sqrt(8.0 / 3.0), 2 * DBL_EPSILON, 0);
    ck_assert_int_eq(gd_scaler_fit(&s, GD_SCALER_MINMAX, x, idx, 3), GD_OK);
    TU_ASSERT_BITS(s.min, 1.0);
    TU_ASSERT_BITS(s.max, 5.0);
    TU_ASSERT_BITS(s.scale, 0.25);
}
END_TEST

static const struct bad_case {
    const char *what;
    enum gd_scaler_kind kind;
    double bad;
    size_t n;
    int status;
} bad_cases[] = {
    {"standard, NaN", GD_SCALER_STANDARD, NAN, 3, GD_ENONFINITE},
    {"standard, infinity", GD_SCALER_STANDARD, INFINITY, 3, GD_ENONFINITE},
    {"standard, overflowing square", GD_SCALER_STANDARD, 1e300, 3, GD_ENONFINITE},
    {"minmax, NaN", GD_SCALER_MINMAX, NAN, 3, GD_ENONFINITE},
    {"minmax, -infinity", GD_SCALER_MINMAX, -INFINITY, 3, GD_ENONFINITE},
    {"minmax, overflowing range", GD_SCALER_MINMAX, -1.7e308, 3, GD_ENONFINITE},
    {"standard, no points", GD_SCALER_STANDARD, 1, 0, GD_EINVAL},
    {"minmax, no points", GD_SCALER_MINMAX, 1, 0, GD_EINVAL},
    {"unknown kind", (enum gd_scaler_kind)7, 1, 3, GD_EINVAL},
    {"none ignores values", GD_SCALER_NONE, NAN, 3, GD_OK},
};

START_TEST(bad_input_is_reported)
{
    const struct bad_case *c = &bad_cases[_i];
    double x[3] = {1.7e308, c->bad, 2.0};
    struct gd_scaler s;
    int status = gd_scaler_fit(&s, c->kind, x, NULL, c->n);
    ck_assert_msg(status == c->status, "%s: status %s, want %s", c->what, gd_status_name(status),
                  gd_status_name(c->status));
    ck_assert_int_eq(gd_scaler_fit(NULL, GD_SCALER_STANDARD, x, NULL, 3), GD_EINVAL);
    ck_assert_int_eq(gd_scaler_fit(&s, GD_SCALER_MINMAX, NULL, NULL, 3), GD_EINVAL);
}
END_TEST

START_TEST(none_copies)
{
    double x[3] = {1.5, -2.5, 1e300}, z[3];
    struct gd_scaler s;
    ck_assert_int_eq(gd_scaler_fit(&s, GD_SCALER_NONE, NULL, NULL, 0), GD_OK);
    gd_scaler_apply(&s, x, z, 3);
    for (int i = 0; i < 3; i++)
        TU_ASSERT_BITS(z[i], x[i]);
    ck_assert_str_eq(gd_scaler_name(GD_SCALER_NONE), "none");
    ck_assert_str_eq(gd_scaler_name((enum gd_scaler_kind)42), "unknown");
}
END_TEST

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

int main(int argc, char **argv)
{
    if (argc > 1)
        tu_data_dir = argv[1];
    vectors = tu_load("scale.txt");
    Suite *s = suite_create("scale");
    TCase *tc = tcase_create("sklearn");
    tcase_add_loop_test(tc, scaler_matches_sklearn, 0, (int)tu_count(vectors, "scaler"));
    suite_add_tcase(s, tc);
    TCase *edge = tcase_create("edges");
    tcase_add_loop_test(edge, constant_feature_gets_scale_one, 0, COUNT(constants));
    tcase_add_test(edge, fit_sees_only_the_training_split);
    tcase_add_loop_test(edge, bad_input_is_reported, 0, COUNT(bad_cases));
    tcase_add_test(edge, none_copies);
    suite_add_tcase(s, edge);
    int rc = tu_run(s);
    tu_free(vectors);
    return rc;
}
