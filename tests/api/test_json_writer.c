/*
 * The number formatter and the JSON writer: every double must come back from strtod bit for bit,
 * with no more digits than the shortest such decimal, in plain JSON number syntax; the writer's
 * output must parse (jansson) into the values written.
 */
#include <check.h>
#include <float.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encode/fmt_double.h"
#include "encode/json_writer.h"

/* splitmix64: a fixed, portable stream of test inputs. */
static uint64_t next_u64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static double from_bits(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof(d));
    return d;
}

static uint64_t to_bits(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof(u));
    return u;
}

/* JSON's number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool is_json_number(const char *s)
{
    if (*s == '-')
        s++;
    if (*s == '0')
        s++;
    else if (*s >= '1' && *s <= '9')
        while (*s >= '0' && *s <= '9')
            s++;
    else
        return false;
    if (*s == '.') {
        s++;
        if (!(*s >= '0' && *s <= '9'))
            return false;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-')
            s++;
        if (!(*s >= '0' && *s <= '9'))
            return false;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    return *s == '\0';
}

/* Significant digits in a formatted number (leading zeros and the exponent excluded). */
static int significant_digits(const char *s)
{
    int count = 0, pending_zeros = 0;
    bool started = false;
    for (; *s && *s != 'e'; s++) {
        if (*s < '0' || *s > '9')
            continue;
        if (*s == '0') {
            if (started)
                pending_zeros++;
            continue;
        }
        started = true;
        count += pending_zeros + 1;
        pending_zeros = 0;
    }
    return count ? count : 1;
}

/* The fewest significant digits with which %.*e reads back as v. */
static int shortest_digits(double v)
{
    char buf[64];
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, sizeof(buf), "%.*e", p - 1, v);
        if (strtod(buf, NULL) == v)
            return p;
    }
    return 17;
}

static void format(double v, char *out)
{
    size_t n = jw_fmt_double(v, out);
    ck_assert_uint_le(n, JW_FMT_DOUBLE_MAX);
    out[n] = '\0';
}

/* The first failure of a loop, reported once: Check's assertions cost a message to the parent
 * process each, too much for millions of values. */
static char first_failure[256];
static size_t failures;

static void check_round_trip(double v)
{
    char buf[JW_FMT_DOUBLE_ROOM];
    if (!isfinite(v))
        return; /* the neighbours of +-DBL_MAX; "null" is tested in test_exact_strings */
    size_t n = jw_fmt_double(v, buf);
    buf[n] = '\0';
    double back = strtod(buf, NULL);
    if (n <= JW_FMT_DOUBLE_MAX && is_json_number(buf) && to_bits(back) == to_bits(v))
        return;
    if (failures++ == 0)
        snprintf(first_failure, sizeof(first_failure), "%a formatted as %s reads back as %a", v,
                 buf, back);
}

static void expect_no_failures(void)
{
    ck_assert_msg(failures == 0, "%zu failures, the first: %s", failures, first_failure);
}

START_TEST(test_exact_strings)
{
    static const struct {
        double v;
        const char *text;
    } cases[] = {
        {0.0, "0.0"},
        {-0.0, "-0.0"},
        {0.1, "0.1"},
        {-0.1, "-0.1"},
        {2.0, "2.0"},
        {100.0, "100.0"},
        {1e-7, "1e-7"},
        {1.5e-7, "1.5e-7"},
        {1e-6, "0.000001"},
        {1.25e-5, "0.0000125"},
        {1e20, "100000000000000000000.0"},
        {1e21, "1e21"},
        {1.5e300, "1.5e300"},
        {123.456, "123.456"},
        {0.30000000000000004, "0.30000000000000004"},
        {DBL_MAX, "1.7976931348623157e308"},
        {-DBL_MAX, "-1.7976931348623157e308"},
        {DBL_MIN, "2.2250738585072014e-308"},
        {DBL_TRUE_MIN, "5e-324"},
        {9007199254740993.0, "9007199254740992.0"},
        {0.4967141530112327, "0.4967141530112327"},
        /* digit blocks of eight with zeros at either end of a block */
        {1.0000000000000002, "1.0000000000000002"},
        {100000001.0, "100000001.0"},
        {10000000000000001e-16, "1.0"},
        {1.0000000100000002, "1.0000000100000002"},
        {12345678.000000002, "12345678.000000002"},
        {-0.13826430117118466, "-0.13826430117118466"},
        {NAN, "null"},
        {INFINITY, "null"},
        {-INFINITY, "null"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char buf[JW_FMT_DOUBLE_ROOM];
        format(cases[i].v, buf);
        ck_assert_str_eq(buf, cases[i].text);
    }
}
END_TEST

START_TEST(test_edge_round_trip)
{
    const double edges[] = {0.0,
                            -0.0,
                            DBL_MAX,
                            -DBL_MAX,
                            DBL_MIN,
                            -DBL_MIN,
                            DBL_TRUE_MIN,
                            -DBL_TRUE_MIN,
                            DBL_EPSILON,
                            1.0 - 1e-16,
                            1.0 + DBL_EPSILON,
                            0x1p-1022 - 0x1p-1074,
                            0x1p53,
                            0x1p53 + 2.0,
                            0x1p-1060,
                            1e23,
                            5e-324 * 3,
                            1e-5,
                            9.999999999999999e-7,
                            1e21 - 65536.0,
                            1e22,
                            0.1 + 0.2,
                            2.0 / 3.0,
                            1.0 / 3.0};
    for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
        check_round_trip(edges[i]);
        check_round_trip(nextafter(edges[i], INFINITY));
        check_round_trip(nextafter(edges[i], -INFINITY));
    }
    /* every power of two and of ten in range, and their neighbours */
    for (int e = -1074; e <= 1023; e++) {
        double v = ldexp(1.0, e);
        check_round_trip(v);
        check_round_trip(nextafter(v, 0.0));
    }
    for (int e = -323; e <= 308; e++) {
        double v = pow(10.0, e);
        check_round_trip(v);
        check_round_trip(nextafter(v, INFINITY));
    }
    expect_no_failures();
}
END_TEST

/* Two million random bit patterns (every finite double equally likely per exponent) and a million
 * values in the ranges the API writes. */
START_TEST(test_random_round_trip)
{
    uint64_t state = 42;
    size_t checked = 0;
    while (checked < 2000000) {
        double v = from_bits(next_u64(&state));
        if (!isfinite(v))
            continue;
        check_round_trip(v);
        checked++;
    }
    for (int i = 0; i < 1000000; i++) {
        double unit = (double)(next_u64(&state) >> 11) * 0x1p-53;
        double scale = pow(10.0, (double)(int)(next_u64(&state) % 24) - 12.0);
        check_round_trip((unit - 0.5) * scale);
    }
    ck_assert_uint_eq(checked, 2000000);
    expect_no_failures();
}
END_TEST

START_TEST(test_shortest)
{
    uint64_t state = 7;
    for (int i = 0; i < 100000; i++) {
        double v = i % 2 ? from_bits(next_u64(&state))
                         : (double)(next_u64(&state) >> 11) * 0x1p-53 * 100.0;
        if (!isfinite(v) || v == 0.0)
            continue;
        char buf[JW_FMT_DOUBLE_ROOM];
        buf[jw_fmt_double(v, buf)] = '\0';
        int got = significant_digits(buf), want = shortest_digits(v);
        if (got != want && failures++ == 0)
            snprintf(first_failure, sizeof(first_failure),
                     "%s has %d significant digits; %d suffice", buf, got, want);
    }
    expect_no_failures();
}
END_TEST

/* Every integer below 10^8 (each value of one digit block, counted alongside in decimal), then
 * the powers of ten, their neighbours and random 64-bit values against printf. */
START_TEST(test_uint_exhaustive)
{
    char want[24] = "0", got[24];
    size_t want_len = 1;
    for (uint64_t v = 0; v < 100000000u; v++) {
        size_t n = jw_fmt_uint(v, got);
        if ((n != want_len || memcmp(got, want, n) != 0) && failures++ == 0)
            snprintf(first_failure, sizeof(first_failure), "%" PRIu64 " came out as %.*s", v,
                     (int)n, got);
        size_t i = want_len; /* want += 1, in decimal */
        while (i > 0 && want[i - 1] == '9')
            want[--i] = '0';
        if (i > 0) {
            want[i - 1]++;
        } else {
            memmove(want + 1, want, want_len++);
            want[0] = '1';
        }
    }
    /* Past 10^8, sixteen digits go four 4-digit groups at a time (one per SIMD lane): every
     * group value in every group, with the other groups empty, full or mixed, and with 0 to 4
     * digits more in front. */
    static const uint64_t others[] = {0, 9999999999999999u, 1234567890123456u};
    static const uint64_t fronts[] = {0, 1, 9, 10, 1843}; /* 1843 * 10^16 + 10^16 - 1 < 2^64 */
    uint64_t lane_scale[4] = {1, 10000, 100000000, 1000000000000u};
    for (uint64_t g = 0; g < 10000; g++)
        for (int lane = 0; lane < 4; lane++)
            for (size_t o = 0; o < sizeof(others) / sizeof(others[0]); o++)
                for (size_t f = 0; f < sizeof(fronts) / sizeof(fronts[0]); f++) {
                    uint64_t low =
                        others[o] - (others[o] / lane_scale[lane] % 10000) * lane_scale[lane];
                    uint64_t v = fronts[f] * 10000000000000000u + low + g * lane_scale[lane];
                    char ref[24];
                    int rn = snprintf(ref, sizeof(ref), "%" PRIu64, v);
                    size_t n = jw_fmt_uint(v, got);
                    if ((n != (size_t)rn || memcmp(got, ref, n) != 0) && failures++ == 0)
                        snprintf(first_failure, sizeof(first_failure), "%s came out as %.*s", ref,
                                 (int)n, got);
                }
    uint64_t state = 11;
    for (int i = 0; i < 1000000; i++) {
        uint64_t v = next_u64(&state) >> (i % 64);
        if (i < 60) { /* 10^k - 1, 10^k, 10^k + 1 for k = 0..19 */
            uint64_t p = 1;
            for (int k = 0; k < i / 3; k++)
                p *= 10;
            v = p - 1 + (uint64_t)(i % 3);
        } else if (i == 60) {
            v = UINT64_MAX;
        }
        char ref[24];
        int rn = snprintf(ref, sizeof(ref), "%" PRIu64, v);
        size_t n = jw_fmt_uint(v, got);
        if ((n != (size_t)rn || memcmp(got, ref, n) != 0) && failures++ == 0)
            snprintf(first_failure, sizeof(first_failure), "%s came out as %.*s", ref, (int)n, got);
    }
    expect_no_failures();
}
END_TEST

static json_t *parse_writer(struct jw *w)
{
    size_t len;
    char *buf = jw_take(w, &len);
    ck_assert_ptr_nonnull(buf);
    json_error_t err;
    json_t *root = json_loadb(buf, len, JSON_ALLOW_NUL, &err);
    ck_assert_msg(root != NULL, "writer output is not JSON (%s): %.*s", err.text, (int)len, buf);
    free(buf);
    return root;
}

START_TEST(test_writer_structure)
{
    struct jw w;
    jw_init(&w, 1); /* tiny, so that every write grows the buffer */
    const double values[] = {0.1, -2.0, NAN, 1e-300};
    const size_t idx[] = {3, 0};
    const size_t sizes[] = {0, 7, (size_t)INT64_MAX};
    jw_object_begin(&w);
    jw_key_string(&w, "name", "gd\"lab\\\n\x01");
    jw_key_double(&w, "pi", 3.141592653589793);
    jw_key(&w, "empty");
    jw_double_array(&w, NULL, 0);
    jw_key(&w, "values");
    jw_double_array(&w, values, 4);
    jw_key(&w, "picked");
    jw_double_array_indexed(&w, values, idx, 2);
    jw_key(&w, "sizes");
    jw_size_array(&w, sizes, 3);
    jw_key(&w, "nested");
    jw_array_begin(&w);
    jw_object_begin(&w);
    jw_object_end(&w);
    jw_int(&w, INT64_MIN);
    jw_bool(&w, true);
    jw_null(&w);
    jw_array_end(&w);
    jw_object_end(&w);

    json_t *root = parse_writer(&w);
    ck_assert_str_eq(json_string_value(json_object_get(root, "name")), "gd\"lab\\\n\x01");
    ck_assert(json_real_value(json_object_get(root, "pi")) == 3.141592653589793);
    ck_assert_uint_eq(json_array_size(json_object_get(root, "empty")), 0);
    json_t *vals = json_object_get(root, "values");
    ck_assert(json_real_value(json_array_get(vals, 0)) == 0.1);
    ck_assert(json_real_value(json_array_get(vals, 1)) == -2.0);
    ck_assert(json_is_null(json_array_get(vals, 2)));
    ck_assert(json_real_value(json_array_get(vals, 3)) == 1e-300);
    json_t *picked = json_object_get(root, "picked");
    ck_assert(json_real_value(json_array_get(picked, 0)) == 1e-300);
    ck_assert(json_real_value(json_array_get(picked, 1)) == 0.1);
    json_t *nested = json_object_get(root, "nested");
    ck_assert_uint_eq(json_array_size(nested), 4);
    ck_assert(json_integer_value(json_array_get(nested, 1)) == INT64_MIN);
    ck_assert(json_is_true(json_array_get(nested, 2)));
    json_decref(root);
}
END_TEST

START_TEST(test_writer_invalid_utf8)
{
    struct jw w;
    jw_init(&w, 0);
    jw_array_begin(&w);
    jw_string(&w, "ok \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    jw_string(&w, "bad \xff \xc3 \xed\xa0\x80 \xc0\xaf end");
    jw_string_n(&w, "nul\0byte", 8);
    jw_array_end(&w);
    json_t *root = parse_writer(&w);
    ck_assert_str_eq(json_string_value(json_array_get(root, 0)),
                     "ok \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    const char *bad = json_string_value(json_array_get(root, 1));
    ck_assert_ptr_nonnull(strstr(bad, "\xef\xbf\xbd"));
    ck_assert_ptr_nonnull(strstr(bad, " end"));
    ck_assert_uint_eq(json_string_length(json_array_get(root, 2)), 8);
    json_decref(root);
}
END_TEST

/* A matrix is the same bytes as its rows written one by one, below and above the size at which it
 * is formatted by two threads, for even and odd row counts and after other values. */
START_TEST(test_writer_matrix)
{
    static const size_t shapes[][2] = {{0, 0},     {1, 0},     {1, 1},     {2, 3},    {3, 1},
                                       {400, 400}, {401, 333}, {2, 70000}, {70001, 2}};
    size_t shape = (size_t)_i;
    size_t rows = shapes[shape][0], cols = shapes[shape][1];
    double *v = malloc((rows * cols + 1) * sizeof(*v));
    ck_assert_ptr_nonnull(v);
    uint64_t state = 0x5eed0000u + shape;
    for (size_t i = 0; i < rows * cols; i++) {
        uint64_t u = next_u64(&state);
        v[i] = u % 97 == 0 ? NAN : from_bits(u >> 2) * (u & 1 ? 1 : -1);
    }
    struct jw expected, actual;
    jw_init(&expected, 0);
    jw_init(&actual, 0);
    jw_array_begin(&expected);
    jw_array_begin(&actual);
    jw_double(&expected, 0.5);
    jw_double(&actual, 0.5);
    jw_array_begin(&expected);
    for (size_t r = 0; r < rows; r++)
        jw_double_array(&expected, v + r * cols, cols);
    jw_array_end(&expected);
    jw_double_matrix(&actual, v, rows, cols);
    jw_bool(&expected, true);
    jw_bool(&actual, true);
    jw_array_end(&expected);
    jw_array_end(&actual);
    size_t len_expected, len_actual;
    char *a = jw_take(&expected, &len_expected), *b = jw_take(&actual, &len_actual);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(len_actual, len_expected);
    ck_assert_msg(memcmp(a, b, len_expected) == 0, "matrix %zux%zu differs from its rows", rows,
                  cols);
    free(a);
    free(b);
    free(v);
}
END_TEST

static Suite *writer_suite(void)
{
    Suite *s = suite_create("json_writer");
    TCase *fmt = tcase_create("fmt_double");
    tcase_set_timeout(fmt, 300);
    tcase_add_test(fmt, test_exact_strings);
    tcase_add_test(fmt, test_edge_round_trip);
    tcase_add_test(fmt, test_random_round_trip);
    tcase_add_test(fmt, test_shortest);
    tcase_add_test(fmt, test_uint_exhaustive);
    suite_add_tcase(s, fmt);
    TCase *writer = tcase_create("writer");
    tcase_add_test(writer, test_writer_structure);
    tcase_add_test(writer, test_writer_invalid_utf8);
    tcase_add_loop_test(writer, test_writer_matrix, 0, 9);
    suite_add_tcase(s, writer);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(writer_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
