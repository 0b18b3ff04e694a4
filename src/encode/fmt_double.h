/* Number formatting for JSON: shortest round-trip doubles, and unsigned integers. */
#ifndef GDLAB_ENCODE_FMT_DOUBLE_H
#define GDLAB_ENCODE_FMT_DOUBLE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The most bytes one formatted value takes ("-0.0000012345678901234567" is 25). */
#define JW_FMT_DOUBLE_MAX 25

/* The room jw_fmt_double needs at out: it stores whole words past the end of the number, and
 * only the first (returned) bytes are meaningful. */
#define JW_FMT_DOUBLE_ROOM 48

/* Write v at out (no NUL) as the shortest JSON number that strtod reads back as exactly v:
 * "0.1", "2.0", "1e-7", "-0.0"; NaN and +-Inf become "null". Returns the number of bytes. */
size_t jw_fmt_double(double v, char *out);

/* Write v at out (no NUL) in decimal, at most 20 bytes; returns the number of bytes. */
size_t jw_fmt_uint(uint64_t v, char *out);

#ifdef __cplusplus
}
#endif

#endif
