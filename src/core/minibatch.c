/*
 * The mini-batches of gdlab/optim.h: the reference loop's permutations and slices, and one batch's
 * loss and gradient summed in row order, as the differential test's reference sums them.
 */
#include "gdlab/optim.h"

#include <stdlib.h>

#include "gdlab/rng.h"

size_t gd_batches_per_epoch(size_t n, size_t batch_size)
{
    return batch_size ? n / batch_size + (n % batch_size != 0) : 0;
}

struct gd_batcher *gd_batcher_new(const size_t *rows, size_t n, size_t batch_size, bool shuffle,
                                  uint32_t seed)
{
    if (!rows || batch_size == 0 || batch_size > n)
        return NULL;
    struct gd_batcher *bt = calloc(1, sizeof(*bt));
    if (!bt)
        return NULL;
    bt->rows = rows;
    bt->n = n;
    bt->batch_size = batch_size;
    bt->shuffle = shuffle;
    bt->pos = n;
    gd_rng_seed(&bt->rng, seed);
    bt->perm = malloc(n * sizeof(*bt->perm));
    bt->batch = malloc(batch_size * sizeof(*bt->batch));
    if (!bt->perm || !bt->batch) {
        gd_batcher_free(bt);
        return NULL;
    }
    return bt;
}

void gd_batcher_free(struct gd_batcher *bt)
{
    if (!bt)
        return;
    free(bt->perm);
    free(bt->batch);
    free(bt);
}

size_t gd_batcher_next(struct gd_batcher *bt, const size_t **rows, bool *epoch_start)
{
    bool start = bt->pos >= bt->n;
    if (start) {
        /* perm = rs.permutation(n): shuffle(arange(n)) */
        for (size_t k = 0; k < bt->n; k++)
            bt->perm[k] = k;
        if (bt->shuffle)
            gd_rng_shuffle_index(&bt->rng, bt->perm, bt->n);
        bt->pos = 0;
    }
    size_t count = bt->n - bt->pos < bt->batch_size ? bt->n - bt->pos : bt->batch_size;
    for (size_t k = 0; k < count; k++)
        bt->batch[k] = bt->rows[bt->perm[bt->pos + k]];
    bt->pos += count;
    *rows = bt->batch;
    if (epoch_start)
        *epoch_start = start;
    return count;
}

void gd_batch_eval(const double *x, const double *y, const size_t *rows, size_t n, double b,
                   double w, double *loss, double *grad_b, double *grad_w)
{
    double se = 0.0, sxe = 0.0, see = 0.0;
    for (size_t k = 0; k < n; k++) {
        double xi = x[rows[k]];
        double e = b + w * xi - y[rows[k]];
        se += e;
        sxe += xi * e;
        see += e * e;
    }
    if (loss)
        *loss = see / (double)n;
    if (grad_b)
        *grad_b = 2.0 * se / (double)n;
    if (grad_w)
        *grad_w = 2.0 * sxe / (double)n;
}
