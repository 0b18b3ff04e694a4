/* A streaming JSON writer into one growing buffer: fast for big numeric arrays, exact numbers. */
#ifndef GDLAB_ENCODE_JSON_WRITER_H
#define GDLAB_ENCODE_JSON_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Deepest nesting of objects and arrays a writer tracks. */
#define JW_MAX_DEPTH 32

struct jw_npz;

/* Output so far; after an allocation failure every call is a no-op and oom stays set. */
struct jw {
    char *buf;
    size_t len;
    size_t cap;
    bool oom;
    unsigned depth;
    bool after_key;               /* the next value follows "key": and needs no comma */
    bool has_items[JW_MAX_DEPTH]; /* the container at each depth already holds a value */
    struct jw_npz *npz;           /* NULL: JSON; else the state of npz mode (jw_npz_begin) */
};

/* Start an empty writer with room for hint bytes (0: a small default). */
void jw_init(struct jw *w, size_t hint);

/* Switch a fresh writer to npz mode, in which the same calls write a .npz archive: each array
 * (jw_double_array, jw_double_array_indexed, jw_size_array, jw_uint64_array, jw_double_matrix)
 * becomes an .npy member ('<f8' or '<u8', shape (n,) or (rows, cols)) named by its path of keys
 * and array indices joined by '.' ("runs.0.history.b"), the value of the top-level key "params"
 * becomes the member params.json as JSON would write it, and what is left (the structure, scalars
 * and strings, without the arrays) becomes answer.json. No number is formatted for an array.
 * false when memory runs out. */
bool jw_npz_begin(struct jw *w);

/* End npz mode: the buffer becomes the archive's bytes, for jw_take; false (and oom set) when
 * anything failed. */
bool jw_npz_finish(struct jw *w);

/* Release the buffer (and npz mode's state); the writer may be initialised again. */
void jw_free(struct jw *w);

/* Hand the buffer (not NUL-terminated) to the caller, who frees it with free(); NULL after oom. */
char *jw_take(struct jw *w, size_t *len);

/* Make room for n more bytes; false (and oom set) when memory runs out. */
bool jw_reserve(struct jw *w, size_t n);

void jw_object_begin(struct jw *w);
void jw_object_end(struct jw *w);
void jw_array_begin(struct jw *w);
void jw_array_end(struct jw *w);

/* An object key; key is a trusted ASCII literal and is written without escaping. */
void jw_key(struct jw *w, const char *key);

/* A string value, escaped; invalid UTF-8 becomes U+FFFD so the output is always valid JSON. */
void jw_string(struct jw *w, const char *s);
void jw_string_n(struct jw *w, const char *s, size_t n);

/* A number that parses back to exactly v; non-finite values are written null. */
void jw_double(struct jw *w, double v);
void jw_int(struct jw *w, int64_t v);
void jw_uint(struct jw *w, uint64_t v);
void jw_bool(struct jw *w, bool v);
void jw_null(struct jw *w);

/* Arrays written in one pass: v[0..n), v[idx[k]] for k < n, and unsigned integers. */
void jw_double_array(struct jw *w, const double *v, size_t n);
void jw_double_array_indexed(struct jw *w, const double *v, const size_t *idx, size_t n);
void jw_size_array(struct jw *w, const size_t *v, size_t n);
void jw_uint64_array(struct jw *w, const uint64_t *v, size_t n);

/* v[0 .. rows*cols) as an array of rows; a large matrix is formatted by two threads at once. */
void jw_double_matrix(struct jw *w, const double *v, size_t rows, size_t cols);

/* Shorthands for "key": value. */
void jw_key_double(struct jw *w, const char *key, double v);
void jw_key_uint(struct jw *w, const char *key, uint64_t v);
void jw_key_string(struct jw *w, const char *key, const char *s);
void jw_key_bool(struct jw *w, const char *key, bool v);

#endif
