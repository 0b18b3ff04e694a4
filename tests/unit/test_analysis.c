/* The closed-form analysis: exact eigenvalues, the tutorial's numbers, and what they promise
 * about gradient descent. */
#include <math.h>

#include "fixture.h"

static struct tu_file *vectors;

/* Against 60-digit eigenvalues of the exact Hessian (data/gen_vectors.py). */
START_TEST(analysis_matches_exact)
{
    size_t at = tu_find(vectors, "analysis", (size_t)_i);
    ck_assert_uint_lt(at, vectors->count);
    const struct tu_record *r = &vectors->rec[at];
    const struct tu_record *mo = &vectors->rec[tu_find(vectors, "moments", (size_t)_i)];
    struct fixture f;
    fixture_make(&f, (uint32_t)tu_u64(r->field[0]), tu_u64(r->field[1]), tu_double(r->field[2]),
                 fixture_scaler(r->field[3]));
    struct gd_analysis a;
    ck_assert_int_eq(gd_analyze(&f.problem->train, &a), GD_OK);
    TU_ASSERT_CLOSE(a.lambda_min, tu_double(r->field[4]), 1e-14, 0);
    TU_ASSERT_CLOSE(a.lambda_max, tu_double(r->field[5]), 1e-14, 0);
    TU_ASSERT_CLOSE(a.condition, tu_double(r->field[6]), 1e-14, 0);
    TU_ASSERT_CLOSE(a.lr_critical, tu_double(r->field[7]), 1e-14, 0);
    TU_ASSERT_CLOSE(a.lr_optimal, tu_double(r->field[8]), 1e-14, 0);
    TU_ASSERT_CLOSE(a.w_opt, tu_double(mo->field[9]), 1e-14, 0);
    TU_ASSERT_CLOSE(a.b_opt, tu_double(mo->field[10]), 1e-14, 1e-16);
    TU_ASSERT_CLOSE(a.loss_opt, tu_double(mo->field[11]), 1e-13, 1e-15 * f.problem->train.cyy);
    /* the Hessian as documented, symmetric */
    const struct gd_moments *m = &f.problem->train;
    TU_ASSERT_BITS(a.hessian[0][0], 2.0);
    TU_ASSERT_BITS(a.hessian[0][1], 2.0 * m->x_mean);
    TU_ASSERT_BITS(a.hessian[1][0], a.hessian[0][1]);
    TU_ASSERT_BITS(a.hessian[1][1], 2.0 * (m->cxx + m->x_mean * m->x_mean));
    fixture_free(&f);
}
END_TEST

/* The tutorial's numbers (seed 42): original, the bad feature, and both standardized. */
static const struct tutorial_case {
    double m;
    enum gd_scaler_kind kind;
    double lambda_min, lambda_max, condition, lr_critical;
    double rel; /* the digits the numbers are given to */
} tutorial_cases[] = {
    {1.0, GD_SCALER_NONE, 0.151071, 2.48291, 16.4354, 0.805506, 5e-6},
    {10.0, GD_SCALER_NONE, 0, 0, 112.014, 0.0308549, 5e-6},
    {1.0, GD_SCALER_STANDARD, 2, 2, 1, 1, 1e-14},
    {10.0, GD_SCALER_STANDARD, 2, 2, 1, 1, 1e-14},
};

START_TEST(tutorial_numbers)
{
    const struct tutorial_case *c = &tutorial_cases[_i];
    struct fixture f;
    fixture_make(&f, 42, 100, c->m, c->kind);
    struct gd_analysis a;
    ck_assert_int_eq(gd_analyze(&f.problem->train, &a), GD_OK);
    if (c->lambda_max > 0) {
        TU_ASSERT_CLOSE(a.lambda_min, c->lambda_min, c->rel, 0);
        TU_ASSERT_CLOSE(a.lambda_max, c->lambda_max, c->rel, 0);
    }
    TU_ASSERT_CLOSE(a.condition, c->condition, c->rel, 0);
    TU_ASSERT_CLOSE(a.lr_critical, c->lr_critical, c->rel, 0);
    /* b*, w* near the true (1, 2) in the model's units */
    TU_ASSERT_CLOSE(a.lr_optimal, 2.0 / (a.lambda_min + a.lambda_max), 1e-15, 0);
    TU_ASSERT_CLOSE(a.condition * a.lambda_min, a.lambda_max, 1e-15, 0);
    TU_ASSERT_CLOSE(a.lambda_min * a.lambda_max, 4.0 * f.problem->train.cxx, 1e-15, 0);
    fixture_free(&f);
}
END_TEST

/* 2/lambda_max is the edge: 0.999 of it converges toward the optimum, 1.001 of it diverges. */
static const struct edge_case {
    double m;
    enum gd_scaler_kind kind;
} edge_cases[] = {
    {1.0, GD_SCALER_NONE},     {10.0, GD_SCALER_NONE},    {-3.0, GD_SCALER_NONE},
    {1.0, GD_SCALER_STANDARD}, {0.001, GD_SCALER_MINMAX},
};

START_TEST(critical_rate_is_the_edge)
{
    const struct edge_case *c = &edge_cases[_i];
    struct fixture f;
    fixture_make(&f, 42, 100, c->m, c->kind);
    struct gd_analysis a;
    ck_assert_int_eq(gd_analyze(&f.problem->train, &a), GD_OK);
    struct gd_train_config cfg = {.lr = 0.98 * a.lr_critical, .b0 = 3, .w0 = -3, .epochs = 3000};
    struct gd_run_result below, above;
    ck_assert_int_eq(gd_train(&f.problem->train, NULL, &cfg, NULL, &below), GD_OK);
    cfg.lr = 1.02 * a.lr_critical;
    ck_assert_int_eq(gd_train(&f.problem->train, NULL, &cfg, NULL, &above), GD_OK);
    ck_assert_int_eq(below.status, GD_RUN_MAX_EPOCHS);
    ck_assert_int_eq(above.status, GD_RUN_DIVERGED);
    /* along lambda_max the error shrinks below the edge: the loss ends under its start */
    ck_assert(below.train_loss < gd_loss(&f.problem->train, 3, -3));
    /* At the optimal rate the iteration matrix I - lr*H is symmetric with spectral radius
     * rho = (condition - 1)/(condition + 1): the distance to the optimum shrinks at least that
     * fast from any start. */
    cfg.lr = a.lr_optimal;
    cfg.epochs = 200;
    struct gd_run_result opt;
    ck_assert_int_eq(gd_train(&f.problem->train, NULL, &cfg, NULL, &opt), GD_OK);
    double rho = (a.condition - 1.0) / (a.condition + 1.0);
    double d0 = hypot(3 - a.b_opt, -3 - a.w_opt), d = hypot(opt.b - a.b_opt, opt.w - a.w_opt);
    ck_assert_msg(d <= pow(rho, 200) * d0 * (1 + 1e-9) + 1e-12, "distance %g, bound %g", d,
                  pow(rho, 200) * d0);
    fixture_free(&f);
}
END_TEST

/* A constant feature has no unique optimum: GD_EDEGENERATE, lambda_min 0, condition infinite. */
START_TEST(degenerate_feature)
{
    struct gd_moments m = {.n = 4,
                           .x_mean = 3,
                           .y_mean = 1,
                           .cxx = 0,
                           .cxy = 0,
                           .cyy = 0.5,
                           .w_opt = 0,
                           .loss_opt = 0.5};
    struct gd_analysis a;
    ck_assert_int_eq(gd_analyze(&m, &a), GD_EDEGENERATE);
    TU_ASSERT_BITS(a.lambda_min, 0.0);
    TU_ASSERT_CLOSE(a.lambda_max, 20.0, 1e-15, 0); /* 2*(1 + 9) */
    ck_assert(isinf(a.condition));
    ck_assert(isnan(a.b_opt) && isnan(a.w_opt));
    TU_ASSERT_CLOSE(a.lr_critical, 0.1, 1e-15, 0);
    ck_assert_int_eq(gd_analyze(NULL, &a), GD_EINVAL);
    ck_assert_int_eq(gd_analyze(&m, NULL), GD_EINVAL);
}
END_TEST

/* Well separated eigenvalues without cancellation: lambda_min of x far from 0 stays accurate. */
START_TEST(small_eigenvalue_keeps_its_digits)
{
    struct gd_moments m = {.n = 10,
                           .x_mean = 1e6,
                           .y_mean = 0,
                           .cxx = 1.0,
                           .cxy = 0,
                           .cyy = 1,
                           .w_opt = 0,
                           .loss_opt = 1};
    struct gd_analysis a;
    ck_assert_int_eq(gd_analyze(&m, &a), GD_OK);
    /* lambda_min * lambda_max = det = 4 cxx, exactly as math demands */
    TU_ASSERT_CLOSE(a.lambda_min * a.lambda_max, 4.0, 1e-15, 0);
    /* lambda_max = 1 + q + sqrt((1 - q)^2 + 4e12) with q = 1 + 1e12 */
    TU_ASSERT_CLOSE(a.lambda_max, 2e12 + 4.0, 1e-15, 0);
    TU_ASSERT_CLOSE(a.lambda_min, 4.0 / (2e12 + 4.0), 1e-15, 0);
}
END_TEST

/* Data far out (|x| ~ 1e160) has finite moments but a Hessian entry x_mean^2 that overflows:
 * an error, not a critical learning rate of 0 with an infinite condition number. */
START_TEST(overflowing_hessian_is_enonfinite)
{
    double x[4] = {1e160, 1.000000000001e160, 1.000000000002e160, 1.000000000004e160};
    double y[4] = {1, 2, 3, 4};
    struct gd_moments m;
    ck_assert_int_eq(gd_moments_compute(&m, x, y, NULL, 4), GD_OK);
    struct gd_analysis a;
    ck_assert_int_eq(gd_analyze(&m, &a), GD_ENONFINITE);
    /* just inside the range it is fine */
    for (int i = 0; i < 4; i++)
        x[i] *= 1e-20;
    ck_assert_int_eq(gd_moments_compute(&m, x, y, NULL, 4), GD_OK);
    ck_assert_int_eq(gd_analyze(&m, &a), GD_OK);
    ck_assert(isfinite(a.condition) && a.lr_critical > 0);
}
END_TEST

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

int main(int argc, char **argv)
{
    if (argc > 1)
        tu_data_dir = argv[1];
    vectors = tu_load("moments.txt");
    Suite *s = suite_create("analysis");
    TCase *tc = tcase_create("analysis");
    tcase_add_loop_test(tc, analysis_matches_exact, 0, (int)tu_count(vectors, "analysis"));
    tcase_add_loop_test(tc, tutorial_numbers, 0, COUNT(tutorial_cases));
    tcase_add_loop_test(tc, critical_rate_is_the_edge, 0, COUNT(edge_cases));
    tcase_add_test(tc, degenerate_feature);
    tcase_add_test(tc, small_eigenvalue_keeps_its_digits);
    tcase_add_test(tc, overflowing_hessian_is_enonfinite);
    suite_add_tcase(s, tc);
    int rc = tu_run(s);
    tu_free(vectors);
    return rc;
}
