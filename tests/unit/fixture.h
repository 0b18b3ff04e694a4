/* The tutorial's datasets as test fixtures: generated, optionally scaled, with train moments. */
#ifndef GDLAB_TEST_FIXTURE_H
#define GDLAB_TEST_FIXTURE_H

#include <string.h>

#include "gdlab/gdlab.h"
#include "test_util.h"

/* A generated dataset (tutorial defaults but seed, n, multiplier) and its problem. */
struct fixture {
    struct gd_dataset *data;
    struct gd_problem *problem;
};

static inline enum gd_scaler_kind fixture_scaler(const char *name)
{
    if (strcmp(name, "standard") == 0)
        return GD_SCALER_STANDARD;
    if (strcmp(name, "minmax") == 0)
        return GD_SCALER_MINMAX;
    return GD_SCALER_NONE;
}

static inline void fixture_make(struct fixture *f, uint32_t seed, size_t n, double m,
                                enum gd_scaler_kind kind)
{
    struct gd_dataset_params p;
    gd_dataset_params_default(&p);
    p.seed = seed;
    p.n = n;
    p.x_multiplier = m;
    f->data = gd_dataset_new(n);
    ck_assert_ptr_nonnull(f->data);
    ck_assert_int_eq(gd_dataset_generate(f->data, &p), GD_OK);
    int status = -1;
    f->problem = gd_problem_new(f->data, kind, &status);
    ck_assert_int_eq(status, GD_OK);
    ck_assert_ptr_nonnull(f->problem);
}

static inline void fixture_free(struct fixture *f)
{
    gd_problem_free(f->problem);
    gd_dataset_free(f->data);
}

#endif
