/* .npz archives as numpy.savez writes them (a zip of stored .npy members): the writer behind
 * format=npz answers and the strict reader of an uploaded body. */
#ifndef GDLAB_ENCODE_NPZ_H
#define GDLAB_ENCODE_NPZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "encode/json_writer.h"

/* The media type of an archive. */
#define NPZ_CONTENT_TYPE "application/x-npz"

/* Longest member name, ".npy" included. */
#define NPZ_NAME_MAX 240

/* A member already written, for the central directory. */
struct npz_entry {
    char *name; /* owned */
    uint32_t crc;
    uint32_t size;
    uint32_t offset; /* of its local header */
};

/* An archive in the making; after an allocation failure every call is a no-op and failed stays
 * set. */
struct npz_writer {
    struct jw out; /* the archive's bytes so far, used as a byte buffer */
    struct npz_entry *entries;
    size_t n, cap;
    size_t open_data; /* where the data of the member being written begins; 0: none open */
    bool failed;
};

void npz_writer_init(struct npz_writer *z);

/* Release everything; the writer may be initialised again. */
void npz_writer_free(struct npz_writer *z);

/* Begin member name + ".npy": an npy 1.0 header (numpy's bytes, padded to 64) for dtype descr
 * ("<f8", "<u8"), C order, shape (shape[0],) or (shape[0], shape[1]) by ndim (1 or 2), then room
 * for data_len bytes, returned for the caller to fill before npz_member_end; NULL on failure. */
void *npz_array_begin(struct npz_writer *z, const char *name, const char *descr, int ndim,
                      const size_t *shape, size_t data_len);

/* End the open member: its CRC-32 into its local header and the central directory. */
void npz_member_end(struct npz_writer *z);

/* A whole member of raw bytes under name (as it is: "params.json"). */
void npz_add_file(struct npz_writer *z, const char *name, const void *data, size_t len);

/* Close the archive (central directory, end record) and hand its bytes to the caller, who frees
 * them with free(); NULL when anything failed. The writer is empty after. */
char *npz_writer_take(struct npz_writer *z, size_t *len);

/* Read the 1-D float64 arrays names[0 .. count) (member "<name>.npy" each) from an uploaded .npz,
 * strictly: a zip whose every member is one of them, once, stored (not compressed), with a correct
 * CRC-32, and an npy header (version 1, 2 or 3) of dtype '<f8', shape (n,) and exactly n * 8 bytes
 * of data. out[i] gets a malloc'd copy (free()) and lens[i] its length. 0 on success; -1 with a
 * sentence naming the problem in err, and in *which the index of the array at fault (-1: the
 * archive as a whole). No field of the input is trusted: every offset and length is checked
 * against the body before it is read. */
int npz_read_f8(const char *body, size_t len, const char *const *names, size_t count, double **out,
                size_t *lens, char *err, size_t err_cap, int *which);

#endif
