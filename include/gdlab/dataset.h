/* The tutorial's synthetic dataset y = b + w*x + noise and its train/validation split. */
#ifndef GDLAB_DATASET_H
#define GDLAB_DATASET_H

#include <stddef.h>
#include <stdint.h>

/* Everything that determines a generated dataset; defaults are the tutorial's. */
struct gd_dataset_params {
    uint32_t seed;         /* np.random.seed; 42 */
    size_t n;              /* number of points; 100 */
    double true_b;         /* 1 */
    double true_w;         /* 2 */
    double noise;          /* standard deviation of the Gaussian noise; 0.1 */
    double x_multiplier;   /* m: x = rand(n)*m and y uses true_w/m, so y does not change; 1 */
    double train_fraction; /* the first floor(n*fraction) shuffled indices train; 0.8 */
};

/* Points in generation order and the shuffled index that splits them. */
struct gd_dataset {
    size_t n;       /* number of points */
    size_t n_train; /* idx[0 .. n_train) index the training split, idx[n_train .. n) validation */
    double *x;      /* feature as the multiplier left it, in generation order */
    double *y;      /* label, in generation order */
    size_t *idx;    /* np.random.shuffle(np.arange(n)) */
};

/* Fill p with the tutorial's defaults (seed 42, n 100, b 1, w 2, noise 0.1, m 1, fraction 0.8). */
void gd_dataset_params_default(struct gd_dataset_params *p);

/* A dataset with room for n points; NULL when out of memory or n is 0. */
struct gd_dataset *gd_dataset_new(size_t n);

/* Release a dataset; NULL is fine. */
void gd_dataset_free(struct gd_dataset *d);

/* Generate like the tutorial from one stream: rand(n)*m, noise*randn(n), then shuffle(arange(n)).
 */
int gd_dataset_generate(struct gd_dataset *d, const struct gd_dataset_params *p);

/* Take caller's data instead (x scaled by multiplier); split by shuffling with a fresh seeded
 * stream. */
int gd_dataset_load(struct gd_dataset *d, const double *x, const double *y, double x_multiplier,
                    uint32_t seed, double train_fraction);

/* Training-split size floor(n*fraction); GD_ESPLIT when either split would be empty. */
int gd_split_size(size_t n, double train_fraction, size_t *n_train);

/* The tutorial's random start: the first two randn draws of a fresh stream of the seed. */
void gd_initial_params(uint32_t seed, double *b0, double *w0);

#endif
