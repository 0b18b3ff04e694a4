/* Status codes: one table of names and messages, total over every int. */
#include <string.h>

#include "gdlab/status.h"
#include "test_util.h"

static const struct status_case {
    int code;
    const char *name;
    const char *message;
} cases[] = {
    {GD_OK, "OK", "ok"},
    {GD_EINVAL, "EINVAL", "invalid argument"},
    {GD_ENOMEM, "ENOMEM", "out of memory"},
    {GD_ESPLIT, "ESPLIT", "train/validation split leaves a split empty"},
    {GD_EDEGENERATE, "EDEGENERATE", "feature has zero variance in the training split"},
    {GD_ENONFINITE, "ENONFINITE", "input contains a non-finite number"},
    {GD_ECANCELED, "ECANCELED", "computation stopped by its deadline"},
    {-1, "EUNKNOWN", "unknown status"},
    {GD_STATUS_COUNT, "EUNKNOWN", "unknown status"},
    {1 << 30, "EUNKNOWN", "unknown status"},
};

START_TEST(names_and_messages)
{
    const struct status_case *c = &cases[_i];
    ck_assert_str_eq(gd_status_name(c->code), c->name);
    ck_assert_str_eq(gd_strerror(c->code), c->message);
}
END_TEST

START_TEST(codes_are_dense_and_distinct)
{
    ck_assert_int_eq(GD_OK, 0);
    ck_assert_int_eq(GD_STATUS_COUNT, 7);
    for (int a = 0; a < GD_STATUS_COUNT; a++)
        for (int b = a + 1; b < GD_STATUS_COUNT; b++) {
            ck_assert_str_ne(gd_status_name(a), gd_status_name(b));
            ck_assert_str_ne(gd_strerror(a), gd_strerror(b));
        }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("status");
    TCase *tc = tcase_create("table");
    tcase_add_loop_test(tc, names_and_messages, 0, (int)(sizeof(cases) / sizeof(cases[0])));
    tcase_add_test(tc, codes_are_dense_and_distinct);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
