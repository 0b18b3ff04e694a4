/*
 * The tutorial's data, generated the way its numpy code does from one RandomState stream:
 *
 *     np.random.seed(seed)
 *     x = np.random.rand(n) * m
 *     eps = noise * np.random.randn(n)
 *     y = true_b + (true_w / m) * x + eps
 *     idx = np.arange(n); np.random.shuffle(idx)
 *     train, val = idx[:int(n * fraction)], idx[int(n * fraction):]
 */
#include "gdlab/dataset.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

#include "gdlab/alloc.h"
#include "gdlab/rng.h"
#include "gdlab/status.h"

void gd_dataset_params_default(struct gd_dataset_params *p)
{
    p->seed = 42;
    p->n = 100;
    p->true_b = 1.0;
    p->true_w = 2.0;
    p->noise = 0.1;
    p->x_multiplier = 1.0;
    p->train_fraction = 0.8;
}

struct gd_dataset *gd_dataset_new(size_t n)
{
    if (n == 0)
        return NULL;
    struct gd_dataset *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->n = n;
    d->x = gd_alloc_large(n * sizeof(*d->x));
    d->y = gd_alloc_large(n * sizeof(*d->y));
    d->idx = gd_alloc_large(n * sizeof(*d->idx));
    if (!d->x || !d->y || !d->idx) {
        gd_dataset_free(d);
        return NULL;
    }
    return d;
}

void gd_dataset_free(struct gd_dataset *d)
{
    if (!d)
        return;
    free(d->x);
    free(d->y);
    free(d->idx);
    free(d);
}

int gd_split_size(size_t n, double train_fraction, size_t *n_train)
{
    if (!(train_fraction > 0.0 && train_fraction < 1.0))
        return GD_ESPLIT;
    /* int(n * fraction) in Python: the product rounded once, then truncated */
    double k = floor((double)n * train_fraction);
    if (k < 1.0 || k >= (double)n)
        return GD_ESPLIT;
    *n_train = (size_t)k;
    return GD_OK;
}

static void shuffled_index(struct gd_rng *rng, size_t *idx, size_t n)
{
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    gd_rng_shuffle_index(rng, idx, n);
}

int gd_dataset_generate(struct gd_dataset *d, const struct gd_dataset_params *p)
{
    if (!d || !p || p->n != d->n || p->n < 2)
        return GD_EINVAL;
    if (!isfinite(p->true_b) || !isfinite(p->true_w) || !isfinite(p->noise) ||
        !isfinite(p->x_multiplier) || p->noise < 0.0 || p->x_multiplier == 0.0)
        return GD_EINVAL;
    size_t n_train;
    int status = gd_split_size(p->n, p->train_fraction, &n_train);
    if (status != GD_OK)
        return status;

    struct gd_rng rng;
    gd_rng_seed(&rng, p->seed);
    gd_rng_fill_uniform(&rng, d->x, p->n);
    gd_rng_fill_gauss(&rng, d->y, p->n); /* eps, turned into y below */
    double slope = p->true_w / p->x_multiplier;
    bool finite = true;
    for (size_t i = 0; i < p->n; i++) {
        d->x[i] = d->x[i] * p->x_multiplier;
        double eps = p->noise * d->y[i];
        d->y[i] = p->true_b + slope * d->x[i] + eps;
        finite = finite && isfinite(d->y[i]);
    }
    /* Finite parameters can still overflow y (true_b and true_w near DBL_MAX, or huge noise). */
    if (!finite)
        return GD_ENONFINITE;
    shuffled_index(&rng, d->idx, p->n);
    d->n_train = n_train;
    return GD_OK;
}

int gd_dataset_load(struct gd_dataset *d, const double *x, const double *y, double x_multiplier,
                    uint32_t seed, double train_fraction)
{
    if (!d || !x || !y || d->n < 2 || !isfinite(x_multiplier) || x_multiplier == 0.0)
        return GD_EINVAL;
    size_t n_train;
    int status = gd_split_size(d->n, train_fraction, &n_train);
    if (status != GD_OK)
        return status;
    for (size_t i = 0; i < d->n; i++) {
        if (!isfinite(x[i]) || !isfinite(y[i]))
            return GD_ENONFINITE;
        d->x[i] = x[i] * x_multiplier;
        d->y[i] = y[i];
        if (!isfinite(d->x[i])) /* the multiplier pushed x past DBL_MAX */
            return GD_ENONFINITE;
    }
    struct gd_rng rng;
    gd_rng_seed(&rng, seed);
    shuffled_index(&rng, d->idx, d->n);
    d->n_train = n_train;
    return GD_OK;
}

void gd_initial_params(uint32_t seed, double *b0, double *w0)
{
    /* np.random.seed(seed); b = np.random.randn(1); w = np.random.randn(1) */
    struct gd_rng rng;
    gd_rng_seed(&rng, seed);
    *b0 = gd_rng_gauss(&rng);
    *w0 = gd_rng_gauss(&rng);
}
