/* npz mode of the JSON writer (json_writer_npz.c): its state and the hooks json_writer.c calls
 * while w->npz is set. Internal to src/encode; users see only jw_npz_begin and jw_npz_finish. */
#ifndef GDLAB_ENCODE_JSON_WRITER_NPZ_H
#define GDLAB_ENCODE_JSON_WRITER_NPZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "encode/json_writer.h"
#include "encode/npz.h"

/* How many elements ahead an indexed array prefetches its values. */
#define JW_PREFETCH_AHEAD 16

/* The longest key or index kept for a member's name. */
#define JW_NPZ_SEG_MAX 64

struct jw_npz {
    struct npz_writer zip;
    struct jw params; /* the value of "params", as JSON */
    bool diverting;   /* the calls go to params */
    bool params_seen;
    bool key_pending;                       /* a key waits for its value (arrays drop it) */
    bool is_array[JW_MAX_DEPTH];            /* the container at each depth is an array */
    size_t count[JW_MAX_DEPTH];             /* the elements an array at each depth has begun */
    char seg[JW_MAX_DEPTH][JW_NPZ_SEG_MAX]; /* the key or index being written at each depth */
};

/* While the value of "params" is written, every call goes to that member's own writer. */
static inline bool jw_npz_diverting(const struct jw *w)
{
    return w->npz->diverting;
}

/* The writer of the member params.json. */
static inline struct jw *jw_npz_params(struct jw *w)
{
    return &w->npz->params;
}

/* After a diverted call: the diversion ends with the value of "params". */
static inline void jw_npz_divert_check(struct jw *w)
{
    if (w->npz->params.depth == 0)
        w->npz->diverting = false; /* the value of "params" is complete */
}

/* Release npz mode's state, if any. */
void jw_npz_state_free(struct jw *w);

/* A key in npz mode; true when it is taken care of (it always is). */
bool jw_npz_key(struct jw *w, const char *key);

/* Before a value that answer.json keeps: its pending key, or its index in an array. */
void jw_npz_before_value(struct jw *w);

/* A container was opened at w->depth; array tells which kind. */
void jw_npz_opened(struct jw *w, bool array);

/* An array of doubles as an .npy member: v[0..n) or v[idx[k]], shape (rows,) when cols is 0, else
 * (rows, cols). */
void jw_npz_doubles(struct jw *w, const double *v, const size_t *idx, size_t n, size_t rows,
                    size_t cols);

/* An array of unsigned 64-bit integers as an .npy member of shape (n,). */
void jw_npz_uint64s(struct jw *w, const uint64_t *v, size_t n);

/* json_writer.c's "key": with the separator before it, for the key npz mode held back. */
void jw_write_key(struct jw *w, const char *key);

#endif
