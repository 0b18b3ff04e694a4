/*
 * .npz writing and reading. The archive is a plain zip (PKWARE APPNOTE 4.3): for each member a
 * local header, then its bytes stored as they are (method 0); then the central directory, one
 * entry per member, and the end record. Sizes and offsets are 32-bit (no zip64: an answer is far
 * below 4 GiB), every member is written in one piece, so its CRC-32 (zlib's) is known before the
 * central directory and patched into the local header. An .npy member is numpy's format 1.0: the
 * magic "\x93NUMPY", version 1.0, a 16-bit header length, a Python dict literal padded with
 * spaces and a newline to a multiple of 64 bytes, then the data in C order.
 */
#include "encode/npz.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
               "npy members are written and read as the machine's little-endian bytes");

#define ZIP_LOCAL_SIG 0x04034b50u
#define ZIP_CENTRAL_SIG 0x02014b50u
#define ZIP_END_SIG 0x06054b50u
#define ZIP_LOCAL_SIZE 30
#define ZIP_CENTRAL_SIZE 46
#define ZIP_END_SIZE 22
#define ZIP_VERSION 20   /* 2.0: what a stored member needs */
#define ZIP_DOS_DATE 33u /* 1980-01-01: answers carry no time, so equal answers are equal bytes */
/* numpy's npy layout: the header grows to a multiple of ARRAY_ALIGN, with room for the first
 * axis to grow to GROWTH_AXIS_MAX_DIGITS digits in place */
#define NPY_ALIGN 64
#define NPY_GROWTH_DIGITS 21
#define NPY_MAGIC "\x93NUMPY"
#define NPY_MAGIC_LEN 6
#define NPY_HEADER_MAX 4096

static void put16(unsigned char *p, unsigned v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static unsigned get16(const unsigned char *p)
{
    return (unsigned)p[0] | (unsigned)p[1] << 8;
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint32_t crc_of(const void *data, size_t len)
{
    /* zlib's crc32 takes a uInt length: feed it in pieces */
    uLong crc = crc32(0L, Z_NULL, 0);
    const unsigned char *p = data;
    while (len) {
        uInt piece = len > (1u << 30) ? 1u << 30 : (uInt)len;
        crc = crc32(crc, p, piece);
        p += piece;
        len -= piece;
    }
    return (uint32_t)crc;
}

/* ---- writing ------------------------------------------------------------------------------ */

void npz_writer_init(struct npz_writer *z)
{
    memset(z, 0, sizeof(*z));
    jw_init(&z->out, 0);
    z->failed = z->out.oom;
}

void npz_writer_free(struct npz_writer *z)
{
    for (size_t i = 0; i < z->n; i++)
        free(z->entries[i].name);
    free(z->entries);
    jw_free(&z->out);
    memset(z, 0, sizeof(*z));
}

/* The local header of a member of size bytes named name (CRC patched later); false on failure. */
static bool begin_member(struct npz_writer *z, const char *name, size_t size)
{
    size_t name_len = strlen(name);
    if (z->failed || z->open_data || name_len > NPZ_NAME_MAX || size > UINT32_MAX ||
        z->out.len > UINT32_MAX || z->n >= 0xffff)
        goto out_fail;
    if (z->n == z->cap) {
        size_t cap = z->cap ? 2 * z->cap : 16;
        struct npz_entry *e = realloc(z->entries, cap * sizeof(*e));
        if (!e)
            goto out_fail;
        z->entries = e;
        z->cap = cap;
    }
    struct npz_entry *e = &z->entries[z->n];
    e->name = malloc(name_len + 1);
    if (!e->name || !jw_reserve(&z->out, ZIP_LOCAL_SIZE + name_len + size)) {
        free(e->name);
        goto out_fail;
    }
    memcpy(e->name, name, name_len + 1);
    e->crc = 0;
    e->size = (uint32_t)size;
    e->offset = (uint32_t)z->out.len;
    z->n++;
    unsigned char *h = (unsigned char *)z->out.buf + z->out.len;
    memset(h, 0, ZIP_LOCAL_SIZE);
    put32(h, ZIP_LOCAL_SIG);
    put16(h + 4, ZIP_VERSION);
    put16(h + 12, ZIP_DOS_DATE);
    put32(h + 18, (uint32_t)size);
    put32(h + 22, (uint32_t)size);
    put16(h + 26, (unsigned)name_len);
    memcpy(h + ZIP_LOCAL_SIZE, name, name_len);
    z->out.len += ZIP_LOCAL_SIZE + name_len;
    z->open_data = z->out.len;
    return true;

out_fail:
    z->failed = true;
    return false;
}

void npz_member_end(struct npz_writer *z)
{
    if (z->failed || !z->open_data)
        return;
    struct npz_entry *e = &z->entries[z->n - 1];
    z->out.len = z->open_data + e->size;
    e->crc = crc_of(z->out.buf + z->open_data, e->size);
    put32((unsigned char *)z->out.buf + e->offset + 14, e->crc);
    z->open_data = 0;
}

void npz_add_file(struct npz_writer *z, const char *name, const void *data, size_t len)
{
    if (!begin_member(z, name, len))
        return;
    if (len)
        memcpy(z->out.buf + z->open_data, data, len);
    npz_member_end(z);
}

/* numpy's header for descr and shape, exactly as numpy.lib.format writes version 1.0. */
static size_t npy_header(char *out, size_t cap, const char *descr, int ndim, const size_t *shape)
{
    char dict[256];
    int n = ndim == 1 ? snprintf(dict, sizeof(dict),
                                 "{'descr': '%s', 'fortran_order': False, 'shape': (%zu,), }",
                                 descr, shape[0])
                      : snprintf(dict, sizeof(dict),
                                 "{'descr': '%s', 'fortran_order': False, 'shape': (%zu, %zu), }",
                                 descr, shape[0], shape[1]);
    char digits[24];
    int first = snprintf(digits, sizeof(digits), "%zu", shape[0]);
    size_t len = (size_t)n;
    for (int k = first; k < NPY_GROWTH_DIGITS; k++)
        dict[len++] = ' ';
    /* numpy pads with ARRAY_ALIGN - (10 + len + 1) % ARRAY_ALIGN spaces: 64 when already aligned */
    size_t hlen = len + 1;
    size_t pad = NPY_ALIGN - (NPY_MAGIC_LEN + 4 + hlen) % NPY_ALIGN;
    size_t total = NPY_MAGIC_LEN + 4 + hlen + pad;
    if (total > cap)
        return 0;
    memcpy(out, NPY_MAGIC, NPY_MAGIC_LEN);
    out[6] = 1;
    out[7] = 0;
    put16((unsigned char *)out + 8, (unsigned)(hlen + pad));
    memcpy(out + 10, dict, len);
    memset(out + 10 + len, ' ', pad);
    out[total - 1] = '\n';
    return total;
}

void *npz_array_begin(struct npz_writer *z, const char *name, const char *descr, int ndim,
                      const size_t *shape, size_t data_len)
{
    char header[NPY_ALIGN * 4];
    char member[NPZ_NAME_MAX + 8];
    size_t hlen = npy_header(header, sizeof(header), descr, ndim, shape);
    if (!hlen || strlen(name) + 4 > NPZ_NAME_MAX || data_len > SIZE_MAX - hlen) {
        z->failed = true;
        return NULL;
    }
    snprintf(member, sizeof(member), "%s.npy", name);
    if (!begin_member(z, member, hlen + data_len))
        return NULL;
    memcpy(z->out.buf + z->open_data, header, hlen);
    return z->out.buf + z->open_data + hlen;
}

char *npz_writer_take(struct npz_writer *z, size_t *len)
{
    size_t names = 0;
    for (size_t i = 0; i < z->n; i++)
        names += strlen(z->entries[i].name);
    size_t cd_offset = z->out.len;
    if (z->failed || z->open_data || cd_offset > UINT32_MAX ||
        !jw_reserve(&z->out, z->n * ZIP_CENTRAL_SIZE + names + ZIP_END_SIZE)) {
        npz_writer_free(z);
        return NULL;
    }
    unsigned char *o = (unsigned char *)z->out.buf + z->out.len;
    for (size_t i = 0; i < z->n; i++) {
        const struct npz_entry *e = &z->entries[i];
        size_t name_len = strlen(e->name);
        memset(o, 0, ZIP_CENTRAL_SIZE);
        put32(o, ZIP_CENTRAL_SIG);
        put16(o + 4, ZIP_VERSION);
        put16(o + 6, ZIP_VERSION);
        put16(o + 14, ZIP_DOS_DATE);
        put32(o + 16, e->crc);
        put32(o + 20, e->size);
        put32(o + 24, e->size);
        put16(o + 28, (unsigned)name_len);
        put32(o + 42, e->offset);
        memcpy(o + ZIP_CENTRAL_SIZE, e->name, name_len);
        o += ZIP_CENTRAL_SIZE + name_len;
    }
    size_t cd_size = (size_t)(o - ((unsigned char *)z->out.buf + cd_offset));
    memset(o, 0, ZIP_END_SIZE);
    put32(o, ZIP_END_SIG);
    put16(o + 8, (unsigned)z->n);
    put16(o + 10, (unsigned)z->n);
    put32(o + 12, (uint32_t)cd_size);
    put32(o + 16, (uint32_t)cd_offset);
    z->out.len = cd_offset + cd_size + ZIP_END_SIZE;
    char *buf = jw_take(&z->out, len);
    npz_writer_free(z);
    return buf;
}

/* ---- reading ------------------------------------------------------------------------------ */

/* A failure: the sentence into err, the array at fault into *which. */
static int fail(char *err, size_t cap, int *which, int at, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int fail(char *err, size_t cap, int *which, int at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
    *which = at;
    return -1;
}

/* A name for messages: printable ASCII only, cut at 40 characters. */
static void show_name(const unsigned char *s, size_t n, char out[48])
{
    size_t k = 0;
    for (; k < n && k < 40; k++)
        out[k] = s[k] >= 0x20 && s[k] < 0x7f ? (char)s[k] : '?';
    if (n > 40)
        memcpy(out + k, "...", 3), k += 3;
    out[k] = '\0';
}

/* The npy dict literal: {'descr': '<f8', 'fortran_order': False, 'shape': (n,), } with its keys
 * in any order and Python's spacing, or an error naming what is wrong. */
struct npy_header {
    char descr[16];
    bool has_descr, has_order, has_shape;
    int ndim;
    size_t dims[4];
};

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

/* A quoted Python string at p into out (at most cap - 1 characters); NULL when malformed. */
static const char *parse_quoted(const char *p, const char *end, char *out, size_t cap)
{
    if (p >= end || (*p != '\'' && *p != '"'))
        return NULL;
    char q = *p++;
    size_t n = 0;
    while (p < end && *p != q) {
        if (*p == '\\' || n + 1 >= cap)
            return NULL;
        out[n++] = *p++;
    }
    if (p >= end)
        return NULL;
    out[n] = '\0';
    return p + 1;
}

/* A shape tuple: "()", "(n,)", "(a, b)", ... of at most 4 decimal integers. */
static const char *parse_shape(const char *p, const char *end, struct npy_header *h)
{
    if (p >= end || *p != '(')
        return NULL;
    p = skip_ws(p + 1, end);
    h->ndim = 0;
    while (p < end && *p != ')') {
        if (h->ndim == 4 || *p < '0' || *p > '9')
            return NULL;
        size_t v = 0;
        for (; p < end && *p >= '0' && *p <= '9'; p++) {
            if (v > (SIZE_MAX - 9) / 10)
                return NULL;
            v = v * 10 + (size_t)(*p - '0');
        }
        h->dims[h->ndim++] = v;
        p = skip_ws(p, end);
        if (p < end && *p == ',')
            p = skip_ws(p + 1, end);
        else if (p < end && *p != ')')
            return NULL;
    }
    return p < end ? p + 1 : NULL;
}

static bool parse_npy_dict(const char *p, const char *end, struct npy_header *h)
{
    memset(h, 0, sizeof(*h));
    p = skip_ws(p, end);
    if (p >= end || *p++ != '{')
        return false;
    for (;;) {
        char key[32];
        p = skip_ws(p, end);
        if (p < end && *p == '}')
            break;
        if (!(p = parse_quoted(p, end, key, sizeof(key))))
            return false;
        p = skip_ws(p, end);
        if (p >= end || *p++ != ':')
            return false;
        p = skip_ws(p, end);
        if (strcmp(key, "descr") == 0 && !h->has_descr) {
            p = parse_quoted(p, end, h->descr, sizeof(h->descr));
            h->has_descr = true;
        } else if (strcmp(key, "fortran_order") == 0 && !h->has_order) {
            size_t left = (size_t)(end - p);
            if (left >= 5 && memcmp(p, "False", 5) == 0)
                p += 5;
            else if (left >= 4 && memcmp(p, "True", 4) == 0)
                p += 4; /* the same bytes for a 1-D array */
            else
                return false;
            h->has_order = true;
        } else if (strcmp(key, "shape") == 0 && !h->has_shape) {
            p = parse_shape(p, end, h);
            h->has_shape = true;
        } else {
            return false;
        }
        if (!p)
            return false;
        p = skip_ws(p, end);
        if (p < end && *p == ',')
            p++;
        else if (p >= end || *p != '}')
            return false;
    }
    for (p++; p < end; p++)
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
            return false;
    return h->has_descr && h->has_order && h->has_shape;
}

/* One member's bytes as an npy float64 vector; out gets a malloc'd copy. */
static int read_npy_f8(const unsigned char *m, size_t size, const char *name, int at, double **out,
                       size_t *n_out, char *err, size_t cap, int *which)
{
    if (size < NPY_MAGIC_LEN + 4 || memcmp(m, NPY_MAGIC, NPY_MAGIC_LEN) != 0)
        return fail(err, cap, which, at, "%s.npy is not an npy array (no \\x93NUMPY magic)", name);
    unsigned major = m[6];
    size_t prefix, hlen;
    if (major == 1) {
        prefix = 10;
        hlen = get16(m + 8);
    } else if (major == 2 || major == 3) {
        if (size < 12)
            return fail(err, cap, which, at, "%s.npy ends inside its header", name);
        prefix = 12;
        hlen = get32(m + 8);
    } else {
        return fail(err, cap, which, at, "%s.npy has npy format version %u.%u; 1.0 to 3.0 are read",
                    name, major, m[7]);
    }
    if (hlen > NPY_HEADER_MAX || hlen > size - prefix)
        return fail(err, cap, which, at, "%s.npy's header length (%zu) runs past the member", name,
                    hlen);
    struct npy_header h;
    const char *text = (const char *)m + prefix;
    if (!parse_npy_dict(text, text + hlen, &h))
        return fail(err, cap, which, at,
                    "%s.npy's header is not a dict of descr, fortran_order and shape", name);
    if (strcmp(h.descr, "<f8") != 0)
        return fail(err, cap, which, at,
                    "%s.npy holds dtype '%s'; send float64 ('<f8', numpy.float64)", name, h.descr);
    if (h.ndim != 1)
        return fail(err, cap, which, at, "%s.npy has %d dimensions; send a 1-D array", name,
                    h.ndim);
    size_t n = h.dims[0], data = size - prefix - hlen;
    if (n > data / 8 || data != n * 8)
        return fail(err, cap, which, at,
                    "%s.npy's shape (%zu,) does not match its %zu bytes of data (8 a value)", name,
                    n, data);
    double *v = malloc(n ? n * sizeof(*v) : 1);
    if (!v)
        return -2;
    if (n)
        memcpy(v, m + prefix + hlen, n * sizeof(*v));
    *out = v;
    *n_out = n;
    return 0;
}

int npz_read_f8(const char *body, size_t len, const char *const *names, size_t count, double **out,
                size_t *lens, char *err, size_t err_cap, int *which)
{
    const unsigned char *b = (const unsigned char *)body;
    for (size_t i = 0; i < count; i++)
        out[i] = NULL;
    if (len < 4 || get32(b) != ZIP_LOCAL_SIG)
        return fail(err, err_cap, which, -1,
                    "the body is not a zip archive (an npz starts with PK\\3\\4, as numpy.savez "
                    "writes it)");
    /* the end record: the last 22 bytes, or earlier by the length of an archive comment */
    size_t end_at = SIZE_MAX;
    if (len >= ZIP_END_SIZE) {
        size_t lowest = len - ZIP_END_SIZE > 0xffff ? len - ZIP_END_SIZE - 0xffff : 0;
        for (size_t at = len - ZIP_END_SIZE + 1; at-- > lowest;)
            if (get32(b + at) == ZIP_END_SIG && get16(b + at + 20) == len - at - ZIP_END_SIZE) {
                end_at = at;
                break;
            }
    }
    if (end_at == SIZE_MAX)
        return fail(err, err_cap, which, -1,
                    "the zip archive has no end record (truncated, or not a zip)");
    const unsigned char *e = b + end_at;
    size_t entries = get16(e + 10), cd_size = get32(e + 12), cd_offset = get32(e + 16);
    if (get16(e + 4) != 0 || get16(e + 6) != 0 || get16(e + 8) != entries)
        return fail(err, err_cap, which, -1, "multi-disk zip archives are not read");
    if (entries == 0xffff || cd_offset == 0xffffffffu || cd_size == 0xffffffffu)
        return fail(err, err_cap, which, -1, "zip64 archives are not read (an upload fits 4 GiB)");
    if (cd_offset > end_at || cd_size != end_at - cd_offset)
        return fail(err, err_cap, which, -1,
                    "the zip's central directory (offset %zu, %zu bytes) does not end where its "
                    "end record begins (%zu)",
                    cd_offset, cd_size, end_at);
    int rc = 0;
    size_t at = cd_offset;
    for (size_t k = 0; k < entries && rc == 0; k++) {
        if (end_at - at < ZIP_CENTRAL_SIZE || get32(b + at) != ZIP_CENTRAL_SIG) {
            rc = fail(err, err_cap, which, -1, "the zip's central directory entry %zu is malformed",
                      k);
            break;
        }
        const unsigned char *c = b + at;
        unsigned flags = get16(c + 8), method = get16(c + 10);
        uint32_t crc = get32(c + 16);
        size_t csize = get32(c + 20), usize = get32(c + 24), name_len = get16(c + 28),
               extra_len = get16(c + 30), comment_len = get16(c + 32), local = get32(c + 42);
        size_t entry_len = ZIP_CENTRAL_SIZE + name_len + extra_len + comment_len;
        if (entry_len > end_at - at) {
            rc = fail(err, err_cap, which, -1, "the zip's central directory entry %zu runs past it",
                      k);
            break;
        }
        char shown[48];
        show_name(c + ZIP_CENTRAL_SIZE, name_len, shown);
        int idx = -1;
        for (size_t i = 0; i < count; i++)
            if (name_len == strlen(names[i]) + 4 &&
                memcmp(c + ZIP_CENTRAL_SIZE, names[i], name_len - 4) == 0 &&
                memcmp(c + ZIP_CENTRAL_SIZE + name_len - 4, ".npy", 4) == 0)
                idx = (int)i;
        at += entry_len;
        if (idx < 0) {
            rc = fail(err, err_cap, which, -1,
                      "unexpected member '%s'; an npz body holds x.npy and y.npy only", shown);
        } else if (out[idx]) {
            rc = fail(err, err_cap, which, idx, "member %s appears twice", shown);
        } else if (flags & 1u) {
            rc = fail(err, err_cap, which, idx, "member %s is encrypted", shown);
        } else if (method != 0) {
            rc = fail(err, err_cap, which, idx,
                      "member %s is compressed (zip method %u); send numpy.savez's stored "
                      "members, not numpy.savez_compressed",
                      shown, method);
        } else if (csize != usize || csize == 0xffffffffu) {
            rc = fail(err, err_cap, which, idx,
                      "member %s's sizes (%zu stored, %zu uncompressed) disagree", shown, csize,
                      usize);
        } else if (local > cd_offset || cd_offset - local < ZIP_LOCAL_SIZE ||
                   get32(b + local) != ZIP_LOCAL_SIG) {
            rc = fail(err, err_cap, which, idx, "member %s's local header offset %zu is wrong",
                      shown, local);
        } else {
            const unsigned char *l = b + local;
            size_t data_at = ZIP_LOCAL_SIZE + get16(l + 26) + (size_t)get16(l + 28);
            if (get16(l + 26) != name_len || cd_offset - local < data_at ||
                memcmp(l + ZIP_LOCAL_SIZE, c + ZIP_CENTRAL_SIZE, name_len) != 0 ||
                cd_offset - local - data_at < csize) {
                rc = fail(err, err_cap, which, idx,
                          "member %s's local header disagrees with the central directory or runs "
                          "past it",
                          shown);
            } else if (crc_of(l + data_at, csize) != crc) {
                rc = fail(err, err_cap, which, idx, "member %s fails its CRC-32 check", shown);
            } else {
                rc = read_npy_f8(l + data_at, csize, names[idx], idx, &out[idx], &lens[idx], err,
                                 err_cap, which);
            }
        }
    }
    for (size_t i = 0; rc == 0 && i < count; i++)
        if (!out[i])
            rc = fail(err, err_cap, which, (int)i, "the npz body has no member %s.npy", names[i]);
    if (rc != 0)
        for (size_t i = 0; i < count; i++) {
            free(out[i]);
            out[i] = NULL;
        }
    return rc;
}
