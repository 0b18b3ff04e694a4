/*
 * Dragonbox gives the shortest decimal significand d and exponent e with d * 10^e == v after
 * rounding back; this file only lays the digits out. With k digits and p = k + e (the position of
 * the decimal point), it writes the way JavaScript's Number#toString does, except that integral
 * values keep a ".0" so that typed JSON readers see a real:
 *
 *     0 < p <= 21, e >= 0:  ddd000.0        0 < p <= 21, e < 0:  dd.ddd
 *     -6 < p <= 0:          0.000ddd        otherwise:           d.ddde+-x
 */
#include "fmt_double.h"

#include <cmath>
#include <cstdint>
#include <cstring>

#include <dragonbox/dragonbox.h>

namespace
{

const char digit_pairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536"
    "37383940414243444546474849505152535455565758596061626364656667686970717273"
    "7475767778798081828384858687888990919293949596979899";

/* Decimal digits of u (at most 20) written at the end of a 24-byte scratch; returns the count. */
int write_digits(std::uint64_t u, char *end)
{
    char *p = end;
    while (u >= 100) {
        unsigned pair = static_cast<unsigned>(u % 100);
        u /= 100;
        p -= 2;
        std::memcpy(p, digit_pairs + 2 * pair, 2);
    }
    if (u >= 10) {
        p -= 2;
        std::memcpy(p, digit_pairs + 2 * u, 2);
    } else {
        *--p = static_cast<char>('0' + u);
    }
    return static_cast<int>(end - p);
}

} // namespace

extern "C" size_t gd_fmt_double(double v, char *out)
{
    if (!std::isfinite(v)) {
        std::memcpy(out, "null", 4);
        return 4;
    }
    char *o = out;
    if (std::signbit(v))
        *o++ = '-';
    if (v == 0.0) {
        std::memcpy(o, "0.0", 3);
        return static_cast<size_t>(o + 3 - out);
    }
    auto dec = jkj::dragonbox::to_decimal(v, jkj::dragonbox::policy::sign::ignore,
                                          jkj::dragonbox::policy::trailing_zero::remove);
    char scratch[24];
    char *end = scratch + sizeof(scratch);
    int k = write_digits(dec.significand, end);
    const char *d = end - k;
    int p = k + dec.exponent;

    if (p > 0 && p <= 21) {
        if (dec.exponent >= 0) {
            std::memcpy(o, d, static_cast<size_t>(k));
            o += k;
            std::memset(o, '0', static_cast<size_t>(dec.exponent));
            o += dec.exponent;
            std::memcpy(o, ".0", 2);
            o += 2;
        } else {
            std::memcpy(o, d, static_cast<size_t>(p));
            o += p;
            *o++ = '.';
            std::memcpy(o, d + p, static_cast<size_t>(k - p));
            o += k - p;
        }
    } else if (p > -6 && p <= 0) {
        *o++ = '0';
        *o++ = '.';
        std::memset(o, '0', static_cast<size_t>(-p));
        o += -p;
        std::memcpy(o, d, static_cast<size_t>(k));
        o += k;
    } else {
        *o++ = d[0];
        if (k > 1) {
            *o++ = '.';
            std::memcpy(o, d + 1, static_cast<size_t>(k - 1));
            o += k - 1;
        }
        *o++ = 'e';
        int x = p - 1;
        if (x < 0) {
            *o++ = '-';
            x = -x;
        }
        int n = write_digits(static_cast<std::uint64_t>(x), end);
        std::memcpy(o, end - n, static_cast<size_t>(n));
        o += n;
    }
    return static_cast<size_t>(o - out);
}
