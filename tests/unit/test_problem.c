/* A problem: the scaler fitted on the training split only, both splits scaled, their moments. */
#include <math.h>
#include <stdlib.h>

#include "fixture.h"

static const struct problem_case {
    uint32_t seed;
    size_t n;
    double m;
    enum gd_scaler_kind kind;
} cases[] = {
    {42, 100, 1.0, GD_SCALER_NONE},
    {42, 100, 10.0, GD_SCALER_STANDARD},
    {42, 100, 10.0, GD_SCALER_MINMAX},
    {0, 2, -1.0, GD_SCALER_NONE},
    {4294967295U, 3, 0.001, GD_SCALER_STANDARD},
    {7, 10000, 3.0, GD_SCALER_MINMAX},
};

static void assert_same_moments(const struct gd_moments *a, const struct gd_moments *b)
{
    ck_assert_uint_eq(a->n, b->n);
    TU_ASSERT_BITS(a->x_mean, b->x_mean);
    TU_ASSERT_BITS(a->y_mean, b->y_mean);
    TU_ASSERT_BITS(a->cxx, b->cxx);
    TU_ASSERT_BITS(a->cxy, b->cxy);
    TU_ASSERT_BITS(a->cyy, b->cyy);
    TU_ASSERT_BITS(a->loss_opt, b->loss_opt);
}

START_TEST(problem_is_scaler_then_moments)
{
    const struct problem_case *c = &cases[_i];
    struct fixture f;
    fixture_make(&f, c->seed, c->n, c->m, c->kind);
    const struct gd_dataset *d = f.data;
    const struct gd_problem *p = f.problem;
    ck_assert_ptr_eq(p->data, d);
    struct gd_scaler s;
    ck_assert_int_eq(gd_scaler_fit(&s, c->kind, d->x, d->idx, d->n_train), GD_OK);
    ck_assert_int_eq(p->scaler.kind, c->kind);
    TU_ASSERT_BITS(p->scaler.mean, s.mean);
    TU_ASSERT_BITS(p->scaler.std, s.std);
    TU_ASSERT_BITS(p->scaler.scale, s.scale);
    if (c->kind == GD_SCALER_NONE)
        ck_assert_ptr_eq(p->x, d->x); /* no copy when nothing is scaled */
    else
        ck_assert_ptr_ne(p->x, d->x);
    double *x = malloc(d->n * sizeof(*x));
    ck_assert_ptr_nonnull(x);
    gd_scaler_apply(&s, d->x, x, d->n);
    for (size_t i = 0; i < d->n; i++)
        TU_ASSERT_BITS(p->x[i], x[i]);
    struct gd_moments tr, va;
    ck_assert_int_eq(gd_moments_compute(&tr, x, d->y, d->idx, d->n_train), GD_OK);
    ck_assert_int_eq(gd_moments_compute(&va, x, d->y, d->idx + d->n_train, d->n - d->n_train),
                     GD_OK);
    assert_same_moments(&p->train, &tr);
    assert_same_moments(&p->val, &va);
    if (c->kind == GD_SCALER_STANDARD && d->n_train > 1) {
        /* the training split comes out centred and of unit variance; validation need not */
        TU_ASSERT_CLOSE(p->train.x_mean, 0.0, 0, 1e-15);
        TU_ASSERT_CLOSE(p->train.cxx, 1.0, 1e-14, 0);
    }
    if (c->kind == GD_SCALER_MINMAX)
        for (size_t k = 0; k < d->n_train; k++) {
            double v = p->x[d->idx[k]];
            ck_assert(v >= 0.0 && v <= 1.0);
        }
    free(x);
    fixture_free(&f);
}
END_TEST

START_TEST(bad_datasets_are_reported)
{
    struct gd_dataset *d = gd_dataset_new(4);
    ck_assert_ptr_nonnull(d);
    double x[4] = {0, 1, 2, 3}, y[4] = {1, 2, 3, 4};
    ck_assert_int_eq(gd_dataset_load(d, x, y, 1.0, 42, 0.5), GD_OK);
    int status = -1;

    ck_assert_ptr_null(gd_problem_new(NULL, GD_SCALER_NONE, &status));
    ck_assert_int_eq(status, GD_EINVAL);
    d->n_train = 0; /* an empty training split */
    ck_assert_ptr_null(gd_problem_new(d, GD_SCALER_STANDARD, &status));
    ck_assert_int_eq(status, GD_EINVAL);
    d->n_train = 4; /* an empty validation split */
    ck_assert_ptr_null(gd_problem_new(d, GD_SCALER_NONE, &status));
    ck_assert_int_eq(status, GD_EINVAL);
    d->n_train = 2;
    d->y[d->idx[3]] = NAN; /* a non-finite label in validation */
    ck_assert_ptr_null(gd_problem_new(d, GD_SCALER_MINMAX, &status));
    ck_assert_int_eq(status, GD_ENONFINITE);
    d->y[d->idx[3]] = 1.0;
    d->x[d->idx[0]] = INFINITY; /* and a non-finite feature in training */
    ck_assert_ptr_null(gd_problem_new(d, GD_SCALER_STANDARD, &status));
    ck_assert_int_eq(status, GD_ENONFINITE);
    ck_assert_ptr_null(gd_problem_new(d, GD_SCALER_NONE, NULL)); /* status may be NULL */
    gd_problem_free(NULL);
    gd_dataset_free(d);
}
END_TEST

/* A constant training feature: the problem is fine, the analysis says degenerate. */
START_TEST(constant_training_feature)
{
    struct gd_dataset *d = gd_dataset_new(5);
    ck_assert_ptr_nonnull(d);
    double x[5] = {2, 2, 2, 2, 2}, y[5] = {1, 2, 3, 4, 5};
    ck_assert_int_eq(gd_dataset_load(d, x, y, 1.0, 42, 0.6), GD_OK);
    for (int kind = GD_SCALER_NONE; kind <= GD_SCALER_MINMAX; kind++) {
        int status = -1;
        struct gd_problem *p = gd_problem_new(d, (enum gd_scaler_kind)kind, &status);
        ck_assert_int_eq(status, GD_OK);
        ck_assert_ptr_nonnull(p);
        struct gd_analysis a;
        ck_assert_int_eq(gd_analyze(&p->train, &a), GD_EDEGENERATE);
        if (kind != GD_SCALER_NONE)
            TU_ASSERT_BITS(p->x[0], 0.0); /* scale 1: the constant maps to 0 */
        gd_problem_free(p);
    }
    gd_dataset_free(d);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("problem");
    TCase *tc = tcase_create("problem");
    tcase_add_loop_test(tc, problem_is_scaler_then_moments, 0,
                        (int)(sizeof(cases) / sizeof(cases[0])));
    tcase_add_test(tc, bad_datasets_are_reported);
    tcase_add_test(tc, constant_training_feature);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
