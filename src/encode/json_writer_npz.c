/*
 * npz mode of the JSON writer (jw_npz_begin): the same calls write a .npz archive. The path of keys
 * and array indices names each array's .npy member, the value of "params" is diverted to a writer
 * of its own (params.json), and the rest goes to the JSON writer's buffer (answer.json).
 */
#include "encode/json_writer_npz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encode/npz.h"

bool jw_npz_begin(struct jw *w)
{
    struct jw_npz *z = calloc(1, sizeof(*z));
    if (!z) {
        w->oom = true;
        return false;
    }
    npz_writer_init(&z->zip);
    jw_init(&z->params, 0);
    w->npz = z;
    if (z->zip.failed || z->params.oom)
        w->oom = true;
    return !w->oom;
}

void jw_npz_state_free(struct jw *w)
{
    if (!w->npz)
        return;
    npz_writer_free(&w->npz->zip);
    jw_free(&w->npz->params);
    free(w->npz);
    w->npz = NULL;
}

/* A key: "params" at the top starts the diversion; any other waits for its value, which writes
 * it to answer.json unless the value is an array. True when the key is taken care of. */
bool jw_npz_key(struct jw *w, const char *key)
{
    struct jw_npz *z = w->npz;
    if (w->depth == 1 && !z->params_seen && strcmp(key, "params") == 0) {
        z->params_seen = z->diverting = true;
        return true;
    }
    snprintf(z->seg[w->depth], JW_NPZ_SEG_MAX, "%s", key);
    z->key_pending = true;
    return true;
}

/* Before a value that answer.json keeps: its pending key, or its index in an array. */
void jw_npz_before_value(struct jw *w)
{
    struct jw_npz *z = w->npz;
    if (z->key_pending) {
        z->key_pending = false;
        jw_write_key(w, z->seg[w->depth]);
    } else if (!w->after_key && z->is_array[w->depth]) {
        snprintf(z->seg[w->depth], JW_NPZ_SEG_MAX, "%zu", z->count[w->depth]++);
    }
}

void jw_npz_opened(struct jw *w, bool array)
{
    w->npz->is_array[w->depth] = array;
    w->npz->count[w->depth] = 0;
}

/* Room for an array's member: the name from the path (its own key dropped from answer.json). */
static void *npz_member(struct jw *w, const char *descr, int ndim, size_t rows, size_t cols,
                        size_t bytes)
{
    struct jw_npz *z = w->npz;
    char name[NPZ_NAME_MAX];
    size_t len = 0;
    if (z->key_pending)
        z->key_pending = false;
    else if (z->is_array[w->depth])
        snprintf(z->seg[w->depth], JW_NPZ_SEG_MAX, "%zu", z->count[w->depth]++);
    else
        snprintf(z->seg[w->depth], JW_NPZ_SEG_MAX, "value"); /* an array at the top */
    name[0] = '\0';
    for (unsigned d = w->depth ? 1 : 0; d <= w->depth && len < sizeof(name); d++)
        len += (size_t)snprintf(name + len, sizeof(name) - len, "%s%s", len ? "." : "", z->seg[d]);
    size_t shape[2] = {rows, cols};
    void *o = w->oom ? NULL : npz_array_begin(&z->zip, name, descr, ndim, shape, bytes);
    if (!o)
        w->oom = true;
    return o;
}

void jw_npz_doubles(struct jw *w, const double *v, const size_t *idx, size_t n, size_t rows,
                    size_t cols)
{
    if (n > SIZE_MAX / sizeof(double)) {
        w->oom = true;
        return;
    }
    double *o = npz_member(w, "<f8", cols ? 2 : 1, rows, cols, n * sizeof(double));
    if (!o)
        return;
    if (idx) {
        for (size_t k = 0; k < n; k++) {
            if (k + JW_PREFETCH_AHEAD < n)
                __builtin_prefetch(&v[idx[k + JW_PREFETCH_AHEAD]]);
            memcpy(o + k, &v[idx[k]], sizeof(double)); /* o need not be aligned */
        }
    } else if (n) {
        memcpy(o, v, n * sizeof(double));
    }
    npz_member_end(&w->npz->zip);
}

void jw_npz_uint64s(struct jw *w, const uint64_t *v, size_t n)
{
    if (n > SIZE_MAX / sizeof(uint64_t)) {
        w->oom = true;
        return;
    }
    void *o = npz_member(w, "<u8", 1, n, 0, n * sizeof(uint64_t));
    if (!o)
        return;
    if (n)
        memcpy(o, v, n * sizeof(uint64_t));
    npz_member_end(&w->npz->zip);
}

bool jw_npz_finish(struct jw *w)
{
    struct jw_npz *z = w->npz;
    if (!z)
        return !w->oom;
    if (!w->oom && !z->params.oom) {
        if (z->params_seen)
            npz_add_file(&z->zip, "params.json", z->params.buf, z->params.len);
        npz_add_file(&z->zip, "answer.json", w->buf, w->len);
    }
    size_t len = 0;
    char *zip = w->oom || z->params.oom ? NULL : npz_writer_take(&z->zip, &len);
    jw_npz_state_free(w);
    free(w->buf);
    w->buf = zip;
    w->len = w->cap = zip ? len : 0;
    w->oom = !zip;
    return zip != NULL;
}
