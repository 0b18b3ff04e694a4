/* Large arrays: usable memory, aligned to 2 MiB, and the kernel's huge-page advice on all of a
 * multi-megabyte block (its mapping's VmFlags carry "hg" in /proc/self/smaps). */
#define _DEFAULT_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gdlab/alloc.h"
#include "test_util.h"

/* The VmFlags of the mapping that holds addr: 1 when it has "hg", 0 when not, -1 when unknown. */
static int advised_huge(const void *addr)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    if (!f)
        return -1;
    char line[512];
    int inside = 0, found = -1;
    while (fgets(line, sizeof(line), f)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' ')) {
            inside = (uintptr_t)addr >= lo && (uintptr_t)addr < hi;
        } else if (inside && strncmp(line, "VmFlags:", 8) == 0) {
            found = strstr(line, " hg") != NULL;
            break;
        }
    }
    fclose(f);
    return found;
}

static int kernel_has_thp(void)
{
    return access("/sys/kernel/mm/transparent_hugepage/enabled", R_OK) == 0;
}

START_TEST(large_block_is_usable_and_advised)
{
    size_t bytes = 3 * GD_HUGE_PAGE_MIN;
    unsigned char *p = gd_alloc_large(bytes);
    ck_assert_ptr_nonnull(p);
    for (size_t i = 0; i < bytes; i += 4096)
        p[i] = (unsigned char)(i >> 12);
    for (size_t i = 0; i < bytes; i += 4096)
        ck_assert_uint_eq(p[i], (unsigned char)(i >> 12));
    /* aligned to a huge page, and advised from its first byte to its last */
    ck_assert_uint_eq((uintptr_t)p % ((uintptr_t)2 << 20), 0);
    if (kernel_has_thp()) {
        ck_assert_int_eq(advised_huge(p), 1);
        ck_assert_int_eq(advised_huge(p + bytes - 1), 1);
    }
    free(p);
}
END_TEST

START_TEST(small_and_null_blocks)
{
    char *p = gd_alloc_large(100);
    ck_assert_ptr_nonnull(p);
    memset(p, 7, 100);
    ck_assert_int_eq(p[99], 7);
    free(p);
    free(gd_alloc_large(0));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("alloc");
    TCase *tc = tcase_create("large");
    tcase_add_test(tc, large_block_is_usable_and_advised);
    tcase_add_test(tc, small_and_null_blocks);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
