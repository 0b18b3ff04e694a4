/* Moments, loss and gradients: against exact rational references and the per-sample definition.
 */
#include <math.h>
#include <stdlib.h>

#include "fixture.h"

static struct tu_file *vectors;

static const struct tu_record *record(const char *kind, int i)
{
    size_t at = tu_find(vectors, kind, (size_t)i);
    ck_assert_msg(at < vectors->count, "no record %d of kind %s", i, kind);
    return &vectors->rec[at];
}

static void fixture_of(struct fixture *f, const struct tu_record *r)
{
    fixture_make(f, (uint32_t)tu_u64(r->field[0]), tu_u64(r->field[1]), tu_double(r->field[2]),
                 fixture_scaler(r->field[3]));
}

/* Every moment within a few ulps of the exactly rounded value (the core's sums are compensated). */
START_TEST(moments_match_exact)
{
    const struct tu_record *r = record("moments", _i);
    struct fixture f;
    fixture_of(&f, r);
    const struct gd_moments *m = &f.problem->train;
    double scale_x = sqrt(m->cxx), scale_y = sqrt(m->cyy);
    TU_ASSERT_CLOSE(m->x_mean, tu_double(r->field[4]), 1e-15, 1e-16 * scale_x);
    TU_ASSERT_CLOSE(m->y_mean, tu_double(r->field[5]), 1e-15, 1e-16 * scale_y);
    TU_ASSERT_CLOSE(m->cxx, tu_double(r->field[6]), 1e-14, 0);
    TU_ASSERT_CLOSE(m->cxy, tu_double(r->field[7]), 1e-14, 0);
    TU_ASSERT_CLOSE(m->cyy, tu_double(r->field[8]), 1e-14, 0);
    TU_ASSERT_CLOSE(m->w_opt, tu_double(r->field[9]), 1e-14, 0);
    TU_ASSERT_CLOSE(m->loss_opt, tu_double(r->field[11]), 1e-13, 0);
    ck_assert_uint_eq(m->n, f.data->n_train);
    fixture_free(&f);
}
END_TEST

/* gd_loss and gd_gradient from the moments, and the per-sample functions, against exact values. */
START_TEST(loss_and_gradient_match_exact)
{
    const struct tu_record *r = record("loss", _i);
    struct fixture f;
    fixture_of(&f, r);
    const struct gd_moments *m = &f.problem->train;
    double b = tu_double(r->field[4]), w = tu_double(r->field[5]);
    double loss = tu_double(r->field[6]), gb = tu_double(r->field[7]), gw = tu_double(r->field[8]);
    /* gradients vanish at the optimum: absolute error relative to the size of the residuals */
    double abs_g = 1e-14 * (1.0 + sqrt(loss)) * (1.0 + fabs(m->x_mean) + sqrt(m->cxx));
    /* an exact fit (two points) has L* = 0: there only the absolute error is meaningful */
    TU_ASSERT_CLOSE(gd_loss(m, b, w), loss, 1e-14, 1e-15 * m->cyy);
    double got_b = NAN, got_w = NAN;
    gd_gradient(m, b, w, &got_b, &got_w);
    TU_ASSERT_CLOSE(got_b, gb, 1e-13, abs_g);
    TU_ASSERT_CLOSE(got_w, gw, 1e-13, abs_g);

    const double *x = f.problem->x, *y = f.data->y;
    const size_t *idx = f.data->idx;
    size_t n = f.data->n_train;
    TU_ASSERT_CLOSE(gd_loss_direct(x, y, idx, n, b, w), loss, 1e-12, 1e-15 * m->cyy);
    gd_gradient_direct(x, y, idx, n, b, w, &got_b, &got_w);
    TU_ASSERT_CLOSE(got_b, gb, 1e-12, abs_g);
    TU_ASSERT_CLOSE(got_w, gw, 1e-12, abs_g);

    /* either out-pointer may be NULL */
    double only_w = NAN;
    gd_gradient(m, b, w, NULL, &only_w);
    gd_gradient(m, b, w, NULL, NULL);
    TU_ASSERT_CLOSE(only_w, gw, 1e-13, abs_g);
    fixture_free(&f);
}
END_TEST

/* Shifting x by a power of two is exact, so the centred moments must not move at all, however far
 * the shift: raw sums of x^2 would lose every digit at 2^40. */
static const double shifts[] = {0.0, 1024.0, 0x1p30, 0x1p40, -0x1p40};

START_TEST(shift_leaves_centred_moments)
{
    enum { n = 257 };
    double x[n], xs[n], y[n];
    for (int k = 0; k < n; k++) {
        x[k] = (k % 17) * 0.125 + k * 0.0078125;
        y[k] = 3.0 + 0.5 * x[k] + ((k * 7919) % 13 - 6) * 0.03125;
        xs[k] = x[k] + shifts[_i];
    }
    struct gd_moments a, b;
    ck_assert_int_eq(gd_moments_compute(&a, x, y, NULL, n), GD_OK);
    ck_assert_int_eq(gd_moments_compute(&b, xs, y, NULL, n), GD_OK);
    TU_ASSERT_CLOSE(b.x_mean, a.x_mean + shifts[_i], 1e-16, 0);
    TU_ASSERT_CLOSE(b.cxx, a.cxx, 1e-15, 0);
    TU_ASSERT_CLOSE(b.cxy, a.cxy, 1e-15, 0);
    TU_ASSERT_BITS(b.cyy, a.cyy);
    TU_ASSERT_CLOSE(b.w_opt, a.w_opt, 1e-15, 0);
    TU_ASSERT_CLOSE(b.loss_opt, a.loss_opt, 1e-14, 0);
    /* The loss at the same model, moved with the shift, stays the same up to the conditioning of
     * b + w*x_mean: the stored mean is rounded to an ulp of the shift, as w*x would be per sample.
     */
    double loss = gd_loss(&a, 1.5, 0.25);
    double cond = 8 * 0x1p-52 * fabs(0.25 * shifts[_i]) * sqrt(loss);
    TU_ASSERT_CLOSE(gd_loss(&b, 1.5 - 0.25 * shifts[_i], 0.25), loss, 1e-14, cond);
}
END_TEST

/* A constant feature: cxx 0, w_opt 0 by convention, and the loss still exact. */
START_TEST(constant_feature)
{
    double x[5] = {2, 2, 2, 2, 2}, y[5] = {1, 2, 3, 4, 5};
    struct gd_moments m;
    ck_assert_int_eq(gd_moments_compute(&m, x, y, NULL, 5), GD_OK);
    TU_ASSERT_BITS(m.cxx, 0.0);
    TU_ASSERT_BITS(m.cxy, 0.0);
    TU_ASSERT_BITS(m.w_opt, 0.0);
    TU_ASSERT_BITS(m.loss_opt, 2.0);
    for (double w = -2; w <= 2; w += 0.5)
        TU_ASSERT_CLOSE(gd_loss(&m, 0.5, w), gd_loss_direct(x, y, NULL, 5, 0.5, w), 1e-15, 0);
}
END_TEST

/* One point: every centred moment 0, the loss the squared residual. */
START_TEST(single_point)
{
    double x = 3.0, y = -1.0;
    struct gd_moments m;
    ck_assert_int_eq(gd_moments_compute(&m, &x, &y, NULL, 1), GD_OK);
    TU_ASSERT_BITS(m.cxx, 0.0);
    TU_ASSERT_BITS(gd_loss(&m, 1.0, 2.0), 64.0);
}
END_TEST

/* Points (x0, 1), (2, y1), (x2, 3), of which the first n are used. */
static const struct bad_case {
    const char *what;
    double x0, x2, y1;
    size_t n;
    int status;
} bad_cases[] = {
    {"no points", 1, 2, 1, 0, GD_EINVAL},
    {"NaN x", NAN, 2, 1, 3, GD_ENONFINITE},
    {"infinite x", 1, INFINITY, 1, 3, GD_ENONFINITE},
    {"NaN y", 1, 2, NAN, 3, GD_ENONFINITE},
    {"-infinite y", 1, 2, -INFINITY, 3, GD_ENONFINITE},
    {"x whose square overflows", 1e200, 2, 1, 3, GD_ENONFINITE},
    {"y whose square overflows", 1, 2, -1e200, 3, GD_ENONFINITE},
    {"sum overflows", 1.7e308, 1.7e308, 1, 3, GD_ENONFINITE},
    {"large but fine", 1e150, 2, 1e150, 3, GD_OK},
    {"a bad point beyond n is not read", 1, NAN, 1, 2, GD_OK},
};

START_TEST(bad_input_is_reported)
{
    const struct bad_case *c = &bad_cases[_i];
    double x[3] = {c->x0, 2.0, c->x2};
    double y[3] = {1.0, c->y1, 3.0};
    struct gd_moments m;
    int status = gd_moments_compute(&m, x, y, NULL, c->n);
    ck_assert_msg(status == c->status, "%s: status %s, want %s", c->what, gd_status_name(status),
                  gd_status_name(c->status));
    ck_assert_int_eq(gd_moments_compute(NULL, x, y, NULL, 3), GD_EINVAL);
    ck_assert_int_eq(gd_moments_compute(&m, NULL, y, NULL, 3), GD_EINVAL);
    ck_assert_int_eq(gd_moments_compute(&m, x, NULL, NULL, 3), GD_EINVAL);
}
END_TEST

/* The moments of an index subset equal the moments of the gathered copy, bit for bit. */
START_TEST(index_equals_gathered_copy)
{
    struct fixture f;
    fixture_make(&f, 3, 500, 1.0, GD_SCALER_NONE);
    size_t n = f.data->n_train;
    double *x = malloc(n * sizeof(*x)), *y = malloc(n * sizeof(*y));
    ck_assert(x && y);
    for (size_t k = 0; k < n; k++) {
        x[k] = f.data->x[f.data->idx[k]];
        y[k] = f.data->y[f.data->idx[k]];
    }
    struct gd_moments a, b;
    ck_assert_int_eq(gd_moments_compute(&a, f.data->x, f.data->y, f.data->idx, n), GD_OK);
    ck_assert_int_eq(gd_moments_compute(&b, x, y, NULL, n), GD_OK);
    TU_ASSERT_BITS(a.x_mean, b.x_mean);
    TU_ASSERT_BITS(a.cxx, b.cxx);
    TU_ASSERT_BITS(a.cxy, b.cxy);
    TU_ASSERT_BITS(a.loss_opt, b.loss_opt);
    TU_ASSERT_BITS(gd_loss_direct(f.data->x, f.data->y, f.data->idx, n, 0.3, 0.7),
                   gd_loss_direct(x, y, NULL, n, 0.3, 0.7));
    free(x);
    free(y);
    fixture_free(&f);
}
END_TEST

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

static Suite *moments_suite(void)
{
    Suite *s = suite_create("moments");
    TCase *tc = tcase_create("exact");
    tcase_add_loop_test(tc, moments_match_exact, 0, (int)tu_count(vectors, "moments"));
    tcase_add_loop_test(tc, loss_and_gradient_match_exact, 0, (int)tu_count(vectors, "loss"));
    tcase_add_loop_test(tc, shift_leaves_centred_moments, 0, COUNT(shifts));
    suite_add_tcase(s, tc);

    TCase *edge = tcase_create("edges");
    tcase_add_test(edge, constant_feature);
    tcase_add_test(edge, single_point);
    tcase_add_loop_test(edge, bad_input_is_reported, 0, COUNT(bad_cases));
    tcase_add_test(edge, index_equals_gathered_copy);
    suite_add_tcase(s, edge);
    return s;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        tu_data_dir = argv[1];
    vectors = tu_load("moments.txt");
    int rc = tu_run(moments_suite());
    tu_free(vectors);
    return rc;
}
