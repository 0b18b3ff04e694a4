/*
 * Dragonbox gives the shortest decimal significand d and exponent e with d * 10^e == v after
 * rounding back; this file only lays the digits out. With k digits and p = k + e (the position of
 * the decimal point), it writes the way JavaScript's Number#toString does, except that integral
 * values keep a ".0" so that typed JSON readers see a real:
 *
 *     0 < p <= 21, e >= 0:  ddd000.0        0 < p <= 21, e < 0:  dd.ddd
 *     -6 < p <= 0:          0.000ddd        otherwise:           d.ddde+-x
 *
 * Digits are copied in fixed-size blocks (the caller leaves JW_FMT_DOUBLE_ROOM bytes), which
 * compile to a few register moves instead of variable-length memcpy calls.
 */
#include "encode/fmt_double.h"

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

const std::uint64_t powers_of_ten[] = {1ull,
                                       10ull,
                                       100ull,
                                       1000ull,
                                       10000ull,
                                       100000ull,
                                       1000000ull,
                                       10000000ull,
                                       100000000ull,
                                       1000000000ull,
                                       10000000000ull,
                                       100000000000ull,
                                       1000000000000ull,
                                       10000000000000ull,
                                       100000000000000ull,
                                       1000000000000000ull,
                                       10000000000000000ull,
                                       100000000000000000ull,
                                       1000000000000000000ull,
                                       10000000000000000000ull};

/* Decimal digits in u > 0: log10 from the bit length (1233/4096 ~ log10(2)), then one correction.
 */
int digit_count(std::uint64_t u)
{
    int bits = 64 - __builtin_clzll(u);
    int guess = (bits * 1233) >> 12;
    return guess + (u >= powers_of_ten[guess] ? 1 : 0);
}

/* Write the digits of u < 10^8 ending at end, two at a time, in 32-bit arithmetic. */
char *write_digits32(std::uint32_t u, char *end)
{
    while (u >= 100) {
        std::uint32_t q = u / 100;
        std::uint32_t pair = u - q * 100;
        u = q;
        end -= 2;
        std::memcpy(end, digit_pairs + 2 * pair, 2);
    }
    if (u >= 10) {
        end -= 2;
        std::memcpy(end, digit_pairs + 2 * u, 2);
    } else {
        *--end = static_cast<char>('0' + u);
    }
    return end;
}

/* Write the k digits of u at out[0..k): the low eight (zero-padded) apart from the rest, so
 * that every division is a 32-bit one. */
void write_digits(std::uint64_t u, int k, char *out)
{
    char *end = out + k;
    while (u >= 100000000u) {
        std::uint64_t q = u / 100000000u;
        std::uint32_t low = static_cast<std::uint32_t>(u - q * 100000000u);
        u = q;
        for (int i = 0; i < 4; i++) {
            std::uint32_t pair = low % 100;
            low /= 100;
            end -= 2;
            std::memcpy(end, digit_pairs + 2 * pair, 2);
        }
    }
    write_digits32(static_cast<std::uint32_t>(u), end);
}

} // namespace

extern "C" size_t jw_fmt_double(double v, char *out)
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
    char d[32] = {};
    int k = digit_count(dec.significand);
    write_digits(dec.significand, k, d);
    int p = k + dec.exponent;

    if (p > 0 && p <= 21) {
        if (dec.exponent >= 0) {
            std::memcpy(o, d, 24);
            o += k;
            std::memset(o, '0', static_cast<size_t>(dec.exponent));
            o += dec.exponent;
            std::memcpy(o, ".0", 2);
            o += 2;
        } else {
            /* p < k <= 17: the integer part, the point, then the fraction */
            std::memcpy(o, d, 16);
            o[p] = '.';
            std::memcpy(o + p + 1, d + p, 16);
            o += k + 1;
        }
    } else if (p > -6 && p <= 0) {
        std::memcpy(o, "0.000000", 8);
        std::memcpy(o + 2 - p, d, 24);
        o += 2 - p + k;
    } else {
        o[0] = d[0];
        o[1] = '.';
        std::memcpy(o + 2, d + 1, 16);
        o += k > 1 ? k + 1 : 1;
        *o++ = 'e';
        int x = p - 1;
        if (x < 0) {
            *o++ = '-';
            x = -x;
        }
        int n = x >= 100 ? 3 : x >= 10 ? 2 : 1;
        write_digits(static_cast<std::uint64_t>(x), n, o);
        o += n;
    }
    return static_cast<size_t>(o - out);
}
