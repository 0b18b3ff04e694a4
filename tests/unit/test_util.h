/* Shared helpers of the Check suites: reference-vector files and floating-point assertions. */
#ifndef GDLAB_TEST_UTIL_H
#define GDLAB_TEST_UTIL_H

#include <check.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gdlab/moments.h"

/* One line of a vector file: a kind, then whitespace-separated fields. */
struct tu_record {
    const char *kind;
    size_t nfield;
    char **field;
};

/* All records of one file under the data directory, in file order; '#' lines are skipped. */
struct tu_file {
    size_t count;
    struct tu_record *rec;
    char *text;
};

/* The data directory, given to every suite as argv[1] by CMake. */
extern const char *tu_data_dir;

/* Load data_dir/name; aborts the suite (exit 2) when the file is missing or unreadable. */
struct tu_file *tu_load(const char *name);

/* Release a loaded file; NULL is fine. */
void tu_free(struct tu_file *f);

/* Number of records of a kind. */
size_t tu_count(const struct tu_file *f, const char *kind);

/* Position in f->rec of the k-th record of a kind; f->count when there is none. */
size_t tu_find(const struct tu_file *f, const char *kind, size_t k);

/* Fields parsed as a hex (or decimal) double, an unsigned integer, or an array of either. */
double tu_double(const char *s);
uint64_t tu_u64(const char *s);
void tu_doubles(const struct tu_record *r, size_t first, double *out, size_t n);

/* |got - want| <= rel*|want| + abs: the comparison every accuracy assertion goes through. */
bool tu_close(double got, double want, double rel, double abs);

/* The same bits (so 0.0 and -0.0 differ, and NaN equals the same NaN). */
bool tu_same_bits(double a, double b);

/* Small, well-conditioned moments for the edge cases: two points on y = 1 + 2x (x = 0 and 1)
 * with a residual loss of 0.01 at the optimum w = 2. */
struct gd_moments tu_small_moments(void);

/* Run one suite with CK_NORMAL output; the exit status of a test program. */
int tu_run(Suite *s);

#define TU_ASSERT_CLOSE(got, want, rel, abs)                                                       \
    do {                                                                                           \
        double tu_g_ = (got), tu_w_ = (want);                                                      \
        ck_assert_msg(tu_close(tu_g_, tu_w_, (rel), (abs)), "%s = %a (%.17g), want %a (%.17g)",    \
                      #got, tu_g_, tu_g_, tu_w_, tu_w_);                                           \
    } while (0)

#define TU_ASSERT_BITS(got, want)                                                                  \
    do {                                                                                           \
        double tu_g_ = (got), tu_w_ = (want);                                                      \
        ck_assert_msg(tu_same_bits(tu_g_, tu_w_), "%s = %a (%.17g), want exactly %a (%.17g)",      \
                      #got, tu_g_, tu_g_, tu_w_, tu_w_);                                           \
    } while (0)

#endif
