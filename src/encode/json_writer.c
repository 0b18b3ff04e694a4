/*
 * The writer appends straight into one buffer. Array helpers reserve the worst case for all their
 * elements once (JW_FMT_DOUBLE_MAX + 1 bytes per double, plus the formatter's scratch room past
 * the end) and then write without further checks,
 * which is what makes a 4-million-point surface cheap to serialise.
 *
 * npz mode (jw_npz_begin) lives in json_writer_npz.c: the calls below hand their values to it
 * while w->npz is set.
 */
#include "encode/json_writer.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "encode/fmt_double.h"
#include "encode/json_writer_npz.h"
#include "gdlab/alloc.h"

#define JW_DEFAULT_CAP 1024
#define JW_UINT_MAX_CHARS 20
/* Matrices with at least this many values are formatted by two threads; below it the thread costs
 * more than it saves. */
#define JW_PARALLEL_MIN_VALUES (1u << 17)

void jw_init(struct jw *w, size_t hint)
{
    memset(w, 0, sizeof(*w));
    w->cap = hint ? hint : JW_DEFAULT_CAP;
    w->buf = malloc(w->cap);
    if (!w->buf) {
        w->cap = 0;
        w->oom = true;
    }
}

void jw_free(struct jw *w)
{
    jw_npz_state_free(w);
    free(w->buf);
    w->buf = NULL;
    w->len = w->cap = 0;
}

char *jw_take(struct jw *w, size_t *len)
{
    if (w->oom) {
        jw_free(w);
        return NULL;
    }
    char *buf = w->buf;
    *len = w->len;
    w->buf = NULL;
    w->len = w->cap = 0;
    return buf;
}

bool jw_reserve(struct jw *w, size_t n)
{
    if (w->oom)
        return false;
    if (w->cap - w->len >= n)
        return true;
    size_t cap = w->cap ? w->cap : JW_DEFAULT_CAP;
    while (cap - w->len < n) {
        if (cap > SIZE_MAX / 2) {
            w->oom = true;
            return false;
        }
        cap *= 2;
    }
    char *buf;
    if (cap >= GD_HUGE_PAGE_MIN) {
        /* A multi-megabyte buffer moves to a new block on huge pages, copying what it holds.
         * realloc would copy too: the huge-page advice splits the old mapping, which mremap
         * cannot move, and glibc then copies into fresh 4 KiB pages, a page fault each. */
        buf = gd_alloc_large(cap);
        if (buf) {
            memcpy(buf, w->buf, w->len);
            free(w->buf);
        }
    } else {
        buf = realloc(w->buf, cap);
    }
    if (!buf) {
        w->oom = true;
        return false;
    }
    w->buf = buf;
    w->cap = cap;
    return true;
}

static inline void put_raw(struct jw *w, const char *s, size_t n)
{
    if (!jw_reserve(w, n))
        return;
    memcpy(w->buf + w->len, s, n);
    w->len += n;
}

static inline void put_char(struct jw *w, char c)
{
    if (!jw_reserve(w, 1))
        return;
    w->buf[w->len++] = c;
}

/* The comma (or nothing) that goes before a value or key at the current depth. */
static inline void separate(struct jw *w)
{
    if (w->npz)
        jw_npz_before_value(w);
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (w->has_items[w->depth])
        put_char(w, ',');
    w->has_items[w->depth] = true;
}

/* npz mode, while the value of "params" is written: the call goes to that member's own writer d_,
 * and the mode ends with the value. */
#define DIVERT(w, call)                                                                            \
    do {                                                                                           \
        if ((w)->npz && jw_npz_diverting(w)) {                                                     \
            struct jw *d_ = jw_npz_params(w);                                                      \
            call;                                                                                  \
            jw_npz_divert_check(w);                                                                \
            return;                                                                                \
        }                                                                                          \
    } while (0)

static void open_container(struct jw *w, char c)
{
    separate(w);
    put_char(w, c);
    if (w->depth + 1 >= JW_MAX_DEPTH) {
        w->oom = true; /* a programming error, reported like any other failure */
        return;
    }
    w->depth++;
    w->has_items[w->depth] = false;
    if (w->npz)
        jw_npz_opened(w, c == '[');
}

static void close_container(struct jw *w, char c)
{
    put_char(w, c);
    if (w->depth > 0)
        w->depth--;
}

void jw_object_begin(struct jw *w)
{
    DIVERT(w, jw_object_begin(d_));
    open_container(w, '{');
}

void jw_object_end(struct jw *w)
{
    DIVERT(w, jw_object_end(d_));
    close_container(w, '}');
}

void jw_array_begin(struct jw *w)
{
    DIVERT(w, jw_array_begin(d_));
    open_container(w, '[');
}

void jw_array_end(struct jw *w)
{
    DIVERT(w, jw_array_end(d_));
    close_container(w, ']');
}

void jw_write_key(struct jw *w, const char *key)
{
    separate(w);
    size_t n = strlen(key);
    if (!jw_reserve(w, n + 3))
        return;
    char *o = w->buf + w->len;
    *o++ = '"';
    memcpy(o, key, n);
    o += n;
    *o++ = '"';
    *o++ = ':';
    w->len += n + 3;
    w->after_key = true;
}

void jw_key(struct jw *w, const char *key)
{
    DIVERT(w, jw_key(d_, key));
    if (w->npz && jw_npz_key(w, key))
        return;
    jw_write_key(w, key);
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 when it is not valid. */
static size_t utf8_sequence(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    unsigned long cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    /* overlong forms, UTF-16 surrogates and code points past U+10FFFF */
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

void jw_string_n(struct jw *w, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    DIVERT(w, jw_string_n(d_, s, n));
    separate(w);
    /* worst case: every byte becomes \u00XX (6) or U+FFFD (3) */
    if (n > (SIZE_MAX - 2) / 6 || !jw_reserve(w, 6 * n + 2))
        return;
    char *o = w->buf + w->len;
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    *o++ = '"';
    while (p < end) {
        unsigned char c = *p;
        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x7f) {
            *o++ = (char)c;
            p++;
        } else if (c == '"' || c == '\\') {
            *o++ = '\\';
            *o++ = (char)c;
            p++;
        } else if (c < 0x20 || c == 0x7f) {
            const char *esc = c == '\n' ? "\\n" : c == '\t' ? "\\t" : c == '\r' ? "\\r" : NULL;
            if (esc) {
                memcpy(o, esc, 2);
                o += 2;
            } else {
                memcpy(o, "\\u00", 4);
                o[4] = hex[c >> 4];
                o[5] = hex[c & 15];
                o += 6;
            }
            p++;
        } else {
            size_t len = utf8_sequence(p, (size_t)(end - p));
            if (len) {
                memcpy(o, p, len);
                o += len;
                p += len;
            } else {
                memcpy(o, "\xef\xbf\xbd", 3);
                o += 3;
                p++;
            }
        }
    }
    *o++ = '"';
    w->len = (size_t)(o - w->buf);
}

void jw_string(struct jw *w, const char *s)
{
    jw_string_n(w, s, strlen(s));
}

void jw_double(struct jw *w, double v)
{
    DIVERT(w, jw_double(d_, v));
    separate(w);
    if (!jw_reserve(w, JW_FMT_DOUBLE_ROOM))
        return;
    w->len += jw_fmt_double(v, w->buf + w->len);
}

void jw_uint(struct jw *w, uint64_t v)
{
    DIVERT(w, jw_uint(d_, v));
    separate(w);
    if (!jw_reserve(w, JW_UINT_MAX_CHARS))
        return;
    w->len += jw_fmt_uint(v, w->buf + w->len);
}

void jw_int(struct jw *w, int64_t v)
{
    DIVERT(w, jw_int(d_, v));
    separate(w);
    if (!jw_reserve(w, JW_UINT_MAX_CHARS + 1))
        return;
    uint64_t mag = (uint64_t)v;
    if (v < 0) {
        w->buf[w->len++] = '-';
        mag = 0 - mag;
    }
    w->len += jw_fmt_uint(mag, w->buf + w->len);
}

void jw_bool(struct jw *w, bool v)
{
    DIVERT(w, jw_bool(d_, v));
    separate(w);
    put_raw(w, v ? "true" : "false", v ? 4 : 5);
}

void jw_null(struct jw *w)
{
    DIVERT(w, jw_null(d_));
    separate(w);
    put_raw(w, "null", 4);
}

/* Room for n elements of at most each bytes plus a comma each, the brackets, and the number
 * formatter's room past the last element. */
static char *array_start(struct jw *w, size_t n, size_t each)
{
    separate(w);
    if (n > (SIZE_MAX - 2 - JW_FMT_DOUBLE_ROOM) / (each + 1) ||
        !jw_reserve(w, n * (each + 1) + 2 + JW_FMT_DOUBLE_ROOM))
        return NULL;
    char *o = w->buf + w->len;
    *o++ = '[';
    return o;
}

/* Close an array of n elements written each with a trailing comma; returns the end. */
static char *close_array(char *o, size_t n)
{
    if (n)
        o--; /* the last comma */
    *o++ = ']';
    return o;
}

static void array_finish(struct jw *w, char *o, size_t n)
{
    w->len = (size_t)(close_array(o, n) - w->buf);
}

/* v[0 .. n) at o as "a,b,c," (room reserved by the caller); returns the end. */
static char *write_doubles(char *o, const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        o += jw_fmt_double(v[i], o);
        *o++ = ',';
    }
    return o;
}

void jw_double_array(struct jw *w, const double *v, size_t n)
{
    DIVERT(w, jw_double_array(d_, v, n));
    if (w->npz) {
        jw_npz_doubles(w, v, NULL, n, n, 0);
        return;
    }
    char *o = array_start(w, n, JW_FMT_DOUBLE_MAX);
    if (!o)
        return;
    array_finish(w, write_doubles(o, v, n), n);
}

void jw_double_array_indexed(struct jw *w, const double *v, const size_t *idx, size_t n)
{
    DIVERT(w, jw_double_array_indexed(d_, v, idx, n));
    if (w->npz) {
        jw_npz_doubles(w, v, idx, n, n, 0);
        return;
    }
    char *o = array_start(w, n, JW_FMT_DOUBLE_MAX);
    if (!o)
        return;
    for (size_t k = 0; k < n; k++) {
        /* idx is a shuffle: unprefetched, nearly every v[idx[k]] of a large array is a cache miss,
         * which cost more than writing the number */
        if (k + JW_PREFETCH_AHEAD < n)
            __builtin_prefetch(&v[idx[k + JW_PREFETCH_AHEAD]]);
        o += jw_fmt_double(v[idx[k]], o);
        *o++ = ',';
    }
    array_finish(w, o, n);
}

void jw_size_array(struct jw *w, const size_t *v, size_t n)
{
    DIVERT(w, jw_size_array(d_, v, n));
    if (w->npz) {
        _Static_assert(sizeof(size_t) == sizeof(uint64_t), "size_t is written as '<u8'");
        jw_npz_uint64s(w, (const uint64_t *)(const void *)v, n);
        return;
    }
    char *o = array_start(w, n, JW_UINT_MAX_CHARS);
    if (!o)
        return;
    for (size_t i = 0; i < n; i++) {
        o += jw_fmt_uint(v[i], o);
        *o++ = ',';
    }
    array_finish(w, o, n);
}

void jw_uint64_array(struct jw *w, const uint64_t *v, size_t n)
{
    DIVERT(w, jw_uint64_array(d_, v, n));
    if (w->npz) {
        jw_npz_uint64s(w, v, n);
        return;
    }
    char *o = array_start(w, n, JW_UINT_MAX_CHARS);
    if (!o)
        return;
    for (size_t i = 0; i < n; i++) {
        o += jw_fmt_uint(v[i], o);
        *o++ = ',';
    }
    array_finish(w, o, n);
}

void jw_key_double(struct jw *w, const char *key, double v)
{
    jw_key(w, key);
    jw_double(w, v);
}

void jw_key_uint(struct jw *w, const char *key, uint64_t v)
{
    jw_key(w, key);
    jw_uint(w, v);
}

void jw_key_string(struct jw *w, const char *key, const char *s)
{
    jw_key(w, key);
    jw_string(w, s);
}

void jw_key_bool(struct jw *w, const char *key, bool v)
{
    jw_key(w, key);
    jw_bool(w, v);
}

/* Worst case of rows of cols doubles, each row "[...]," */
static size_t rows_room(size_t rows, size_t cols)
{
    return rows * (cols * (JW_FMT_DOUBLE_MAX + 1) + 3);
}

/* Write rows [r0, r1) of v at o as "[a,b],[c,d]," and return the end. */
static char *write_rows(char *o, const double *v, size_t r0, size_t r1, size_t cols)
{
    for (size_t r = r0; r < r1; r++) {
        *o++ = '[';
        o = close_array(write_doubles(o, v + r * cols, cols), cols);
        *o++ = ',';
    }
    return o;
}

/* The second half of a matrix, written by a thread of its own into its own part of the buffer. */
struct rows_job {
    const double *v;
    size_t r0, r1, cols;
    char *out;
    char *end;
};

static void *rows_job_run(void *arg)
{
    struct rows_job *job = arg;
    job->end = write_rows(job->out, job->v, job->r0, job->r1, job->cols);
    return NULL;
}

void jw_double_matrix(struct jw *w, const double *v, size_t rows, size_t cols)
{
    DIVERT(w, jw_double_matrix(d_, v, rows, cols));
    if (w->npz) {
        jw_npz_doubles(w, v, NULL, rows * cols, rows, cols);
        return;
    }
    separate(w);
    if (cols > (SIZE_MAX / 4) / (JW_FMT_DOUBLE_MAX + 1) ||
        rows > (SIZE_MAX / 4) / (cols * (JW_FMT_DOUBLE_MAX + 1) + 3)) {
        w->oom = true;
        return;
    }
    /* Two regions, each with the formatter's scratch room after it: the first half's rows are
     * written in place, the second half's at the end of the first's worst case, then moved down.
     * The gap is reserved but never touched, so it costs address space, not memory. */
    size_t half = rows >= 2 && rows * cols >= JW_PARALLEL_MIN_VALUES ? rows / 2 : rows;
    size_t first_room = rows_room(half, cols) + JW_FMT_DOUBLE_ROOM;
    if (!jw_reserve(w, 2 + first_room + rows_room(rows - half, cols) + JW_FMT_DOUBLE_ROOM))
        return;
    char *o = w->buf + w->len;
    *o++ = '[';
    struct rows_job job = {v, half, rows, cols, o + first_room, NULL};
    pthread_t thread;
    bool threaded = half < rows && pthread_create(&thread, NULL, rows_job_run, &job) == 0;
    o = write_rows(o, v, 0, half, cols);
    if (half < rows) {
        if (threaded)
            pthread_join(thread, NULL);
        else
            rows_job_run(&job);
        size_t n = (size_t)(job.end - job.out);
        memmove(o, job.out, n);
        o += n;
    }
    array_finish(w, o, rows);
}
