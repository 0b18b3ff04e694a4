/* NIST StRD Norris: the certified least-squares fit, also with x shifted by 10^6 (no raw sums).
 * The CSV (tests/data/nist-norris.csv) is read at run time from the path given as argv[1]. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gdlab/gdlab.h"
#include "test_util.h"

/* Certified values, NIST StRD (Norris, lower difficulty). */
#define NORRIS_B0 -0.262323073774029
#define NORRIS_B1 1.00211681802045
#define NORRIS_RSS 26.6173985294224
#define NORRIS_N 36

static const char *csv_path = "nist-norris.csv";
static double norris_x[NORRIS_N], norris_y[NORRIS_N];

static void load_csv(void)
{
    FILE *fp = fopen(csv_path, "r");
    if (!fp) {
        perror(csv_path);
        exit(2);
    }
    char line[256];
    int n = 0;
    while (fgets(line, sizeof(line), fp)) {
        if (line[0] == '#' || strncmp(line, "x,", 2) == 0)
            continue;
        char *end;
        double x = strtod(line, &end);
        if (*end != ',' || n >= NORRIS_N) {
            fprintf(stderr, "%s: bad line '%s'\n", csv_path, line);
            exit(2);
        }
        norris_x[n] = x;
        norris_y[n] = strtod(end + 1, NULL);
        n++;
    }
    fclose(fp);
    if (n != NORRIS_N) {
        fprintf(stderr, "%s: %d observations, want %d\n", csv_path, n, NORRIS_N);
        exit(2);
    }
}

/* Significant digits of agreement: -log10(relative error), 17 for an exact match. */
static double digits(double got, double want)
{
    double rel = fabs(got - want) / fabs(want);
    return rel == 0.0 ? 17.0 : -log10(rel);
}

/* Shifted x is rounded to the doubles near x + shift, which moves the certified fit a little
 * (the RSS by 2e-11 at 1e6); the exact least-squares fit of those very doubles, computed in
 * rational arithmetic (Python's fractions), tells the algorithm's error apart from the data's. */
static const struct shift_case {
    double shift;
    double min_digits_coef; /* b0 and b1 against the certified values */
    double min_digits_rss;
    double exact_b0, exact_b1, exact_rss; /* the shifted doubles' own fit */
} shifts[] = {
    {0.0, 12, 10, -0x1.0c9e6b7b61ef8p-2, 0x1.008aba502b602p+0, 0x1.a9e0dd47c7845p+4},
    {1e6, 12, 10, -0x1.e950a2922c8ffp+19, 0x1.008aba502b5c4p+0, 0x1.a9e0dd47a225ap+4},
    {-1e6, 12, 10, 0x1.e95091c845d84p+19, 0x1.008aba502b5c4p+0, 0x1.a9e0dd47a225ap+4},
    {1e3, 12, 10, -0x1.f53087b20423fp+9, 0x1.008aba502b602p+0, 0x1.a9e0dd47c77f4p+4},
};

START_TEST(certified_fit)
{
    const struct shift_case *c = &shifts[_i];
    double x[NORRIS_N];
    for (int i = 0; i < NORRIS_N; i++)
        x[i] = norris_x[i] + c->shift;
    struct gd_moments m;
    struct gd_analysis a;
    ck_assert_int_eq(gd_moments_compute(&m, x, norris_y, NULL, NORRIS_N), GD_OK);
    ck_assert_int_eq(gd_analyze(&m, &a), GD_OK);
    /* shifting x by s moves the intercept to b0 - b1*s */
    double want_b0 = NORRIS_B0 - NORRIS_B1 * c->shift;
    double d_b0 = digits(a.b_opt, want_b0), d_b1 = digits(a.w_opt, NORRIS_B1);
    double d_rss = digits(NORRIS_N * a.loss_opt, NORRIS_RSS);
    printf("norris shift %g: b0 %.17g (%.1f digits), b1 %.17g (%.1f digits), rss %.17g (%.1f "
           "digits); of the shifted doubles' exact fit: %.1f, %.1f, %.1f digits\n",
           c->shift, a.b_opt, d_b0, a.w_opt, d_b1, NORRIS_N * a.loss_opt, d_rss,
           digits(a.b_opt, c->exact_b0), digits(a.w_opt, c->exact_b1),
           digits(NORRIS_N * a.loss_opt, c->exact_rss));
    ck_assert_msg(d_b0 >= c->min_digits_coef, "b0 = %.17g, %.1f digits", a.b_opt, d_b0);
    ck_assert_msg(d_b1 >= c->min_digits_coef, "b1 = %.17g, %.1f digits", a.w_opt, d_b1);
    ck_assert_msg(d_rss >= c->min_digits_rss, "rss = %.17g, %.1f digits", NORRIS_N * a.loss_opt,
                  d_rss);
    /* against the exact fit of the same doubles: 13 digits and more whatever the shift */
    ck_assert_msg(digits(a.b_opt, c->exact_b0) >= 13, "b0 %.1f digits of the exact fit",
                  digits(a.b_opt, c->exact_b0));
    ck_assert_msg(digits(a.w_opt, c->exact_b1) >= 13, "b1 %.1f digits of the exact fit",
                  digits(a.w_opt, c->exact_b1));
    ck_assert_msg(digits(NORRIS_N * a.loss_opt, c->exact_rss) >= 13,
                  "rss %.1f digits of the exact fit", digits(NORRIS_N * a.loss_opt, c->exact_rss));
    /* and the per-sample loss at the fit agrees with L* */
    TU_ASSERT_CLOSE(gd_loss_direct(x, norris_y, NULL, NORRIS_N, a.b_opt, a.w_opt), a.loss_opt,
                    c->shift == 0.0 ? 1e-12 : 1e-6, 0);
}
END_TEST

int main(int argc, char **argv)
{
    if (argc > 1)
        csv_path = argv[1];
    load_csv();
    Suite *s = suite_create("norris");
    TCase *tc = tcase_create("nist");
    tcase_add_loop_test(tc, certified_fit, 0, (int)(sizeof(shifts) / sizeof(shifts[0])));
    suite_add_tcase(s, tc);
    return tu_run(s);
}
