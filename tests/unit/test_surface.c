/* Grids, loss surfaces and cross-sections: numpy's linspace and argmin, gd_loss to the bit, the
 * per-sample loss to 1e-12, and the tutorial's figures. */
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "fixture.h"

static struct tu_file *vectors;

START_TEST(linspace_matches_numpy)
{
    size_t at = tu_find(vectors, "linspace", (size_t)_i);
    ck_assert_uint_lt(at, vectors->count);
    const struct tu_record *r = &vectors->rec[at];
    double lo = tu_double(r->field[0]), hi = tu_double(r->field[1]);
    size_t steps = tu_u64(r->field[2]);
    double *got = malloc(steps * sizeof(*got));
    ck_assert_ptr_nonnull(got);
    gd_linspace(lo, hi, steps, got);
    for (size_t i = 0; i < steps; i++)
        ck_assert_msg(tu_same_bits(got[i], tu_double(r->field[3 + i])),
                      "linspace(%a, %a, %zu)[%zu] = %a, numpy %s", lo, hi, steps, i, got[i],
                      r->field[3 + i]);
    free(got);
}
END_TEST

START_TEST(linspace_of_nothing_writes_nothing)
{
    double sentinel = 42.0;
    gd_linspace(0.0, 1.0, 0, &sentinel);
    TU_ASSERT_BITS(sentinel, 42.0);
}
END_TEST

/* np.argmin(np.abs(grid - v)): the first index on ties. */
static const struct nearest_case {
    double grid[5];
    size_t n;
    double v;
    size_t want;
} nearest_cases[] = {
    {{0, 1, 2}, 3, 0.5, 0},     /* tie between 0 and 1 */
    {{0, 1, 2}, 3, 1.5, 1},     /* tie between 1 and 2 */
    {{0, 1, 2}, 3, 1.5001, 2},  /* just past the tie */
    {{0, 1, 2}, 3, -100, 0},    /* below the grid */
    {{0, 1, 2}, 3, 100, 2},     /* above the grid */
    {{1, 1, 1}, 3, 1, 0},       /* all equal */
    {{2, 1, 0, 1, 2}, 5, 1, 1}, /* unsorted, two exact hits */
    {{0.25}, 1, -7, 0},
    {{0, 1, 2}, 3, NAN, 0},      /* every distance NaN: numpy's argmin gives the first */
    {{0, 1, 2}, 3, INFINITY, 0}, /* every distance infinite: the first */
    {{-0.0, 0.0}, 2, 0.0, 0},
};

START_TEST(nearest_index_cases)
{
    const struct nearest_case *c = &nearest_cases[_i];
    ck_assert_uint_eq(gd_nearest_index(c->grid, c->n, c->v), c->want);
}
END_TEST

/* Empty grids are not read: the caller's NULL stays untouched, the minimum is NaN. */
START_TEST(empty_grids_are_not_read)
{
    ck_assert_uint_eq(gd_nearest_index(NULL, 0, 1.0), 0);
    struct gd_moments m = {.n = 1, .loss_opt = 1};
    double w[2] = {0, 1}, loss[1] = {42};
    struct gd_grid_min min;
    gd_surface(&m, NULL, 0, w, 2, loss, &min);
    ck_assert(isnan(min.loss) && isnan(min.b) && isnan(min.w));
    gd_surface(&m, w, 2, NULL, 0, loss, &min);
    ck_assert(isnan(min.loss));
    TU_ASSERT_BITS(loss[0], 42.0);
}
END_TEST

/* The tutorial's snapping on its 101-point grids: 0.4967 -> 0.52, -0.1383 -> -0.16. */
START_TEST(tutorial_snapping)
{
    double bg[101], wg[101];
    gd_linspace(-2, 4, 101, bg);
    gd_linspace(-1, 5, 101, wg);
    size_t bi = gd_nearest_index(bg, 101, 0.49671415301123267);
    size_t wi = gd_nearest_index(wg, 101, -0.13826430117118466);
    ck_assert_uint_eq(bi, 42);
    ck_assert_uint_eq(wi, 14);
    TU_ASSERT_CLOSE(bg[bi], 0.52, 1e-15, 0);
    TU_ASSERT_CLOSE(wg[wi], -0.16, 1e-15, 1e-16);
}
END_TEST

/* The three figures' ranges: the optimum rounded to one decimal, +-3. */
static const struct range_case {
    double m;
    enum gd_scaler_kind kind;
    double b_lo, b_hi, w_lo, w_hi;
} range_cases[] = {
    {1.0, GD_SCALER_NONE, -2, 4, -1, 5},
    {10.0, GD_SCALER_NONE, -2, 4, -2.8, 3.2},
    {1.0, GD_SCALER_STANDARD, -1, 5, -2.4, 3.6},
    {10.0, GD_SCALER_STANDARD, -1, 5, -2.4, 3.6}, /* standardizing undoes the bad feature */
};

START_TEST(tutorial_default_ranges)
{
    const struct range_case *c = &range_cases[_i];
    struct fixture f;
    fixture_make(&f, 42, 100, c->m, c->kind);
    struct gd_analysis a;
    ck_assert_int_eq(gd_analyze(&f.problem->train, &a), GD_OK);
    double lo, hi;
    gd_default_range(a.b_opt, &lo, &hi);
    TU_ASSERT_CLOSE(lo, c->b_lo, 1e-15, 0);
    TU_ASSERT_CLOSE(hi, c->b_hi, 1e-15, 0);
    gd_default_range(a.w_opt, &lo, &hi);
    TU_ASSERT_CLOSE(lo, c->w_lo, 1e-15, 0);
    TU_ASSERT_CLOSE(hi, c->w_hi, 1e-15, 0);
    fixture_free(&f);
}
END_TEST

/* np.round(v, 1) +- 3: rint(v*10)/10, ties to even (values from numpy). */
static const struct round_case {
    double optimum, center;
} round_cases[] = {
    {0.25, 0x1.999999999999ap-3},   {-0.25, -0x1.999999999999ap-3},
    {0.35, 0x1.999999999999ap-2},   {0.05, 0.0},
    {0.15, 0x1.999999999999ap-3},   {1.0235, 1.0},
    {0.45, 0x1.999999999999ap-2},   {2.5, 2.5},
    {-0.75, -0x1.999999999999ap-1},
};

START_TEST(default_range_rounds_like_numpy)
{
    const struct round_case *c = &round_cases[_i];
    double lo, hi;
    gd_default_range(c->optimum, &lo, &hi);
    TU_ASSERT_BITS(lo, c->center - 3.0);
    TU_ASSERT_BITS(hi, c->center + 3.0);
}
END_TEST

/* An optimum far out (a nearly constant feature: w* ~ 7.2e16) still gets a range of distinct,
 * increasing grid values. */
START_TEST(default_range_far_from_zero)
{
    static const double optima[] = {3e9, -3.1e9, 72057594037927936.0, -1e300};
    double lo, hi, grid[101];
    gd_default_range(optima[_i], &lo, &hi);
    ck_assert(lo < optima[_i] && optima[_i] < hi);
    gd_linspace(lo, hi, 101, grid);
    for (size_t i = 1; i < 101; i++)
        ck_assert(grid[i - 1] < grid[i]);
}
END_TEST

static const struct surface_case {
    uint32_t seed;
    size_t n;
    double m;
    enum gd_scaler_kind kind;
    double b_lo, b_hi, w_lo, w_hi;
    size_t nb, nw;
} surface_cases[] = {
    {42, 100, 1.0, GD_SCALER_NONE, -2, 4, -1, 5, 101, 101},
    {42, 100, 10.0, GD_SCALER_NONE, -2, 4, -2.8, 3.2, 101, 101},
    {42, 100, 1.0, GD_SCALER_STANDARD, -1, 5, -2.4, 3.6, 101, 101},
    {42, 100, 1.0, GD_SCALER_MINMAX, -3, 3, -3, 3, 31, 17},
    {0, 2, -1.0, GD_SCALER_NONE, -10, 10, -10, 10, 1, 7},
    {4294967295U, 5000, 0.001, GD_SCALER_NONE, 0.9, 1.1, 1990, 2010, 9, 40},
};

/* Every surface value is gd_loss at its grid point, bit for bit, and the per-sample mean to
 * 1e-12; the minimum is the first smallest value in row-major order. */
START_TEST(surface_agrees_with_loss)
{
    const struct surface_case *c = &surface_cases[_i];
    struct fixture f;
    fixture_make(&f, c->seed, c->n, c->m, c->kind);
    const struct gd_moments *m = &f.problem->train;
    double *bg = malloc(c->nb * sizeof(*bg)), *wg = malloc(c->nw * sizeof(*wg));
    double *loss = malloc(c->nb * c->nw * sizeof(*loss));
    ck_assert(bg && wg && loss);
    gd_linspace(c->b_lo, c->b_hi, c->nb, bg);
    gd_linspace(c->w_lo, c->w_hi, c->nw, wg);
    struct gd_grid_min min;
    gd_surface(m, bg, c->nb, wg, c->nw, loss, &min);
    size_t best = 0;
    for (size_t i = 0; i < c->nw; i++) {
        for (size_t j = 0; j < c->nb; j++) {
            double v = loss[i * c->nb + j];
            TU_ASSERT_BITS(v, gd_loss(m, bg[j], wg[i]));
            double direct =
                gd_loss_direct(f.problem->x, f.data->y, f.data->idx, m->n, bg[j], wg[i]);
            ck_assert_msg(tu_close(v, direct, 1e-12, 0), "L(%a, %a) = %a, per-sample %a", bg[j],
                          wg[i], v, direct);
            if (v < loss[best])
                best = i * c->nb + j;
        }
    }
    ck_assert_uint_eq(min.w_index, best / c->nb);
    ck_assert_uint_eq(min.b_index, best % c->nb);
    TU_ASSERT_BITS(min.loss, loss[best]);
    TU_ASSERT_BITS(min.b, bg[min.b_index]);
    TU_ASSERT_BITS(min.w, wg[min.w_index]);
    /* without a min the values are the same */
    gd_surface(m, bg, c->nb, wg, c->nw, loss, NULL);
    TU_ASSERT_BITS(loss[best], min.loss);
    free(bg);
    free(wg);
    free(loss);
    fixture_free(&f);
}
END_TEST

/* A flat surface (zero loss everywhere is impossible, so: equal values) keeps the first index. */
START_TEST(surface_min_ties_keep_the_first)
{
    struct gd_moments m = {.n = 1, .x_mean = 0, .y_mean = 0, .cxx = 0, .w_opt = 0, .loss_opt = 1};
    double bg[3] = {-1, 0, 1}, wg[2] = {5, -5}, loss[6];
    struct gd_grid_min min;
    gd_surface(&m, bg, 3, wg, 2, loss, &min);
    ck_assert_uint_eq(min.w_index, 0);
    ck_assert_uint_eq(min.b_index, 1);
    TU_ASSERT_BITS(min.loss, 1.0);
}
END_TEST

/* The tutorial's cross-sections at its random start (seed 42, 101-point grids). */
START_TEST(tutorial_cross_section)
{
    struct fixture f;
    fixture_make(&f, 42, 100, 1.0, GD_SCALER_NONE);
    const struct gd_moments *m = &f.problem->train;
    double bg[101], wg[101], loss_w[101], loss_b[101];
    gd_linspace(-2, 4, 101, bg);
    gd_linspace(-1, 5, 101, wg);
    double b0, w0;
    gd_initial_params(42, &b0, &w0);
    struct gd_cross_section cs;
    ck_assert_int_eq(gd_cross_section(m, bg, 101, wg, 101, b0, w0, true, 0.12, loss_w, loss_b, &cs),
                     GD_OK);
    ck_assert_uint_eq(cs.b_index, 42);
    ck_assert_uint_eq(cs.w_index, 14);
    TU_ASSERT_BITS(cs.b, bg[42]);
    TU_ASSERT_BITS(cs.w, wg[14]);
    /* the tutorial's printed numbers */
    TU_ASSERT_CLOSE(gd_loss(m, b0, w0), 2.7421577700550976, 1e-14, 0);
    TU_ASSERT_CLOSE(cs.grad_b, -3.0448, 0, 5e-5);
    TU_ASSERT_CLOSE(cs.grad_w, -1.8338, 0, 5e-5);
    TU_ASSERT_CLOSE(cs.geo_b.gradient, -2.8988, 0, 5e-5);
    TU_ASSERT_CLOSE(cs.geo_w.gradient, -1.7875, 0, 5e-5);
    TU_ASSERT_CLOSE(-cs.geo_w.delta_loss, 0.21, 0, 5e-3); /* "a loss reduction of 0.21" */
    TU_ASSERT_CLOSE(-cs.geo_b.delta_loss, 0.35, 0, 5e-3);
    /* the analytic gradient is at the point as given, against the per-sample mean */
    double gb, gw;
    gd_gradient_direct(f.data->x, f.data->y, f.data->idx, m->n, b0, w0, &gb, &gw);
    TU_ASSERT_CLOSE(cs.grad_b, gb, 1e-13, 0);
    TU_ASSERT_CLOSE(cs.grad_w, gw, 1e-13, 0);
    /* the geometric step goes to the grid value nearest +0.12: 6 steps of 0.06 ... 2 of 0.06 */
    TU_ASSERT_BITS(cs.geo_b.to, bg[44]);
    TU_ASSERT_BITS(cs.geo_w.to, wg[16]);
    TU_ASSERT_BITS(cs.geo_b.delta_param, bg[44] - bg[42]);
    TU_ASSERT_BITS(cs.geo_b.delta_loss, gd_loss(m, bg[44], cs.w) - gd_loss(m, bg[42], cs.w));
    TU_ASSERT_BITS(cs.geo_b.gradient, cs.geo_b.delta_loss / cs.geo_b.delta_param);
    TU_ASSERT_BITS(cs.geo_w.delta_loss, gd_loss(m, cs.b, wg[16]) - gd_loss(m, cs.b, wg[14]));
    /* the curves: loss along w with b fixed, along b with w fixed, both at the snapped point */
    for (size_t i = 0; i < 101; i++) {
        TU_ASSERT_BITS(loss_w[i], gd_loss(m, cs.b, wg[i]));
        TU_ASSERT_BITS(loss_b[i], gd_loss(m, bg[i], cs.w));
    }
    TU_ASSERT_BITS(loss_w[14], cs.loss);
    TU_ASSERT_BITS(loss_b[42], cs.loss);
    fixture_free(&f);
}
END_TEST

/* Without snapping, the point is as given and the step exactly +delta. */
START_TEST(cross_section_without_snap)
{
    struct fixture f;
    fixture_make(&f, 42, 100, 10.0, GD_SCALER_NONE);
    const struct gd_moments *m = &f.problem->train;
    double bg[11], wg[11];
    gd_linspace(-2, 4, 11, bg);
    gd_linspace(-2.8, 3.2, 11, wg);
    struct gd_cross_section cs;
    ck_assert_int_eq(gd_cross_section(m, bg, 11, wg, 11, 0.3, -0.7, false, -0.01, NULL, NULL, &cs),
                     GD_OK);
    TU_ASSERT_BITS(cs.b, 0.3);
    TU_ASSERT_BITS(cs.w, -0.7);
    TU_ASSERT_BITS(cs.geo_b.to, 0.3 - 0.01);
    TU_ASSERT_BITS(cs.geo_w.to, -0.7 - 0.01);
    TU_ASSERT_BITS(cs.loss, gd_loss(m, 0.3, -0.7));
    /* a small step approaches the analytic gradient: error ~ curvature * delta / 2 */
    TU_ASSERT_CLOSE(cs.geo_b.gradient, cs.grad_b, 0, 0.01 + 1e-9);
    TU_ASSERT_CLOSE(cs.geo_w.gradient, cs.grad_w, 0,
                    0.01 * (m->cxx + m->x_mean * m->x_mean) + 1e-9);
    fixture_free(&f);
}
END_TEST

static const struct bad_cs_case {
    const char *what;
    double b, w, delta;
    size_t nb;
    bool snap;
} bad_cs_cases[] = {
    {"NaN b", NAN, 0, 0.12, 11, true},
    {"infinite w", 0, INFINITY, 0.12, 11, true},
    {"zero delta", 0, 0, 0.0, 11, true},
    {"NaN delta", 0, 0, NAN, 11, true},
    {"empty grid", 0, 0, 0.12, 0, true},
    {"step snaps back onto the point", 0, 0, 0.01, 11, true},
    {"step off the top of the grid", 4, 0, 0.5, 11, true},
};

START_TEST(cross_section_rejects_bad_input)
{
    const struct bad_cs_case *c = &bad_cs_cases[_i];
    struct gd_moments m = tu_small_moments();
    double bg[11], wg[11];
    gd_linspace(-2, 4, 11, bg);
    gd_linspace(-1, 5, 11, wg);
    struct gd_cross_section cs;
    int status =
        gd_cross_section(&m, bg, c->nb, wg, 11, c->b, c->w, c->snap, c->delta, NULL, NULL, &cs);
    ck_assert_msg(status == GD_EINVAL, "%s: status %s", c->what, gd_status_name(status));
}
END_TEST

/* A step past the largest double has no finite end: GD_ENONFINITE, along w or along b. */
START_TEST(cross_section_step_overflows)
{
    struct gd_moments m = tu_small_moments();
    double bg[11], wg[11];
    gd_linspace(-2, 4, 11, bg);
    gd_linspace(-DBL_MAX, 0, 11, wg);
    struct gd_cross_section cs;
    ck_assert_int_eq(
        gd_cross_section(&m, bg, 11, wg, 11, 0, -DBL_MAX, false, -5e292, NULL, NULL, &cs),
        GD_ENONFINITE);
    ck_assert_int_eq(
        gd_cross_section(&m, bg, 11, wg, 11, DBL_MAX, 0, false, 1e300, NULL, NULL, &cs),
        GD_ENONFINITE);
}
END_TEST

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

int main(int argc, char **argv)
{
    if (argc > 1)
        tu_data_dir = argv[1];
    vectors = tu_load("surface.txt");
    Suite *s = suite_create("surface");
    TCase *grid = tcase_create("grid");
    tcase_add_loop_test(grid, linspace_matches_numpy, 0, (int)tu_count(vectors, "linspace"));
    tcase_add_test(grid, linspace_of_nothing_writes_nothing);
    tcase_add_loop_test(grid, nearest_index_cases, 0, COUNT(nearest_cases));
    tcase_add_test(grid, tutorial_snapping);
    tcase_add_test(grid, cross_section_step_overflows);
    tcase_add_test(grid, empty_grids_are_not_read);
    tcase_add_loop_test(grid, tutorial_default_ranges, 0, COUNT(range_cases));
    tcase_add_loop_test(grid, default_range_rounds_like_numpy, 0, COUNT(round_cases));
    tcase_add_loop_test(grid, default_range_far_from_zero, 0, 4);
    suite_add_tcase(s, grid);
    TCase *surface = tcase_create("surface");
    tcase_add_loop_test(surface, surface_agrees_with_loss, 0, COUNT(surface_cases));
    tcase_add_test(surface, surface_min_ties_keep_the_first);
    suite_add_tcase(s, surface);
    TCase *cross = tcase_create("cross-section");
    tcase_add_test(cross, tutorial_cross_section);
    tcase_add_test(cross, cross_section_without_snap);
    tcase_add_loop_test(cross, cross_section_rejects_bad_input, 0, COUNT(bad_cs_cases));
    suite_add_tcase(s, cross);
    int rc = tu_run(s);
    tu_free(vectors);
    return rc;
}
