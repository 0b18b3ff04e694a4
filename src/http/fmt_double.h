/* Shortest round-trip formatting of doubles as JSON numbers. */
#ifndef GDLAB_HTTP_FMT_DOUBLE_H
#define GDLAB_HTTP_FMT_DOUBLE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The most bytes gd_fmt_double writes for one value. */
#define GD_FMT_DOUBLE_MAX 32

/* Write v into out (no NUL) as the shortest JSON number that strtod reads back as exactly v:
 * "0.1", "2.0", "1e-7", "-0.0"; NaN and +-Inf become "null". Returns the number of bytes. */
size_t gd_fmt_double(double v, char *out);

#ifdef __cplusplus
}
#endif

#endif
