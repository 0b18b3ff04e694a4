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
#ifdef __SSE2__
#include <emmintrin.h>
#endif

namespace
{

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

/* The eight decimal digits of u < 10^8, zero-padded, as the ASCII bytes of a little-endian word
 * (most significant digit first in memory). The lanes split as 4+4 digits, then 2+2 in each half,
 * then 1+1, all in one register: x*10486 >> 20 is x/100 for x < 10^4 and x*103 >> 10 is x/10 for
 * x < 100 (the exhaustive check in test_json_writer.c covers every u). Division by 100 and by 10
 * becomes a multiply and a shift per step instead of a loop of divisions per digit pair. */
std::uint64_t eight_digits(std::uint32_t u)
{
    std::uint64_t merged = (u / 10000u) | (static_cast<std::uint64_t>(u % 10000u) << 32);
    std::uint64_t hundreds_hi = ((merged * 10486u) >> 20) & ((0x7Full << 32) | 0x7Full);
    std::uint64_t hundreds_lo = merged - 100u * hundreds_hi;
    std::uint64_t pairs = (hundreds_lo << 16) | hundreds_hi;
    std::uint64_t tens = ((pairs * 103u) >> 10) & 0x000F000F000F000Full;
    std::uint64_t digits = tens | ((pairs - 10u * tens) << 8);
    return digits + 0x3030303030303030ull;
}

void store8(char *out, std::uint64_t word)
{
    std::memcpy(out, &word, 8);
}

#ifdef __SSE2__
/* The sixteen decimal digits of u < 10^16, zero-padded, stored at out[0..16): the steps of
 * eight_digits on four 4-digit groups at once, one per 32-bit lane of an SSE2 register (baseline
 * on x86-64). x*5243 >> 19 is x/100 for x < 10^4 and y*6554 >> 16 is y/10 for y < 100 (the
 * exhaustive per-lane check is in test_json_writer.c). */
void store_sixteen_digits(std::uint64_t u, char *out)
{
    std::uint32_t hi = static_cast<std::uint32_t>(u / 100000000u);
    std::uint32_t lo = static_cast<std::uint32_t>(u - static_cast<std::uint64_t>(hi) * 100000000u);
    __m128i groups = _mm_set_epi32(static_cast<int>(lo % 10000u), static_cast<int>(lo / 10000u),
                                   static_cast<int>(hi % 10000u), static_cast<int>(hi / 10000u));
    __m128i hundreds = _mm_srli_epi16(_mm_mulhi_epu16(groups, _mm_set1_epi32(5243)), 3);
    __m128i rest = _mm_sub_epi16(groups, _mm_mullo_epi16(hundreds, _mm_set1_epi32(100)));
    __m128i pairs = _mm_or_si128(hundreds, _mm_slli_epi32(rest, 16));
    __m128i tens = _mm_mulhi_epu16(pairs, _mm_set1_epi16(6554));
    __m128i ones = _mm_sub_epi16(pairs, _mm_mullo_epi16(tens, _mm_set1_epi16(10)));
    __m128i digits = _mm_or_si128(tens, _mm_slli_epi16(ones, 8));
    _mm_storeu_si128(reinterpret_cast<__m128i *>(out), _mm_add_epi8(digits, _mm_set1_epi8('0')));
}
#else
void store_sixteen_digits(std::uint64_t u, char *out)
{
    std::uint64_t hi = u / 100000000u;
    store8(out, eight_digits(static_cast<std::uint32_t>(hi)));
    store8(out + 8, eight_digits(static_cast<std::uint32_t>(u - hi * 100000000u)));
}
#endif

/* Write the k digits of u at out[0..k) in zero-padded blocks of sixteen and eight: up to 15
 * bytes before out are overwritten (the caller leaves them). */
void write_digits(std::uint64_t u, int k, char *out)
{
    char *end = out + k;
    if (u < 100000000u) {
        store8(end - 8, eight_digits(static_cast<std::uint32_t>(u)));
        return;
    }
    std::uint64_t top = u / 10000000000000000u; /* digits past the sixteenth: at most 4 */
    if (top)
        store8(end - 24, eight_digits(static_cast<std::uint32_t>(top)));
    store_sixteen_digits(u - top * 10000000000000000u, end - 16);
}

} // namespace

extern "C" size_t jw_fmt_uint(std::uint64_t v, char *out)
{
    if (v == 0) {
        out[0] = '0';
        return 1;
    }
    char room[16 + 24];
    int k = digit_count(v);
    write_digits(v, k, room + 16);
    std::memcpy(out, room + 16, static_cast<size_t>(k));
    return static_cast<size_t>(k);
}

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
    char room[16 + 32] = {}; /* write_digits pads its leading block to the left, into room[0..16) */
    char *d = room + 16;
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
        store8(o, eight_digits(static_cast<std::uint32_t>(x)) >> (8 * (8 - n))); /* room past o */
        o += n;
    }
    return static_cast<size_t>(o - out);
}
