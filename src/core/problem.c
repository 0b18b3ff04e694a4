#include "gdlab/problem.h"

#include <stdlib.h>

#include "gdlab/alloc.h"
#include "gdlab/status.h"

struct gd_problem *gd_problem_new(const struct gd_dataset *data, enum gd_scaler_kind kind,
                                  int *status)
{
    int rc = GD_EINVAL;
    struct gd_problem *p = NULL;
    if (!data || data->n_train == 0 || data->n_train >= data->n)
        goto out_fail;
    rc = GD_ENOMEM;
    p = calloc(1, sizeof(*p));
    if (!p)
        goto out_fail;
    p->data = data;
    p->x = data->x;

    const size_t *train_idx = data->idx, *val_idx = data->idx + data->n_train;
    size_t n_val = data->n - data->n_train;
    rc = gd_scaler_fit(&p->scaler, kind, data->x, train_idx, data->n_train);
    if (rc != GD_OK)
        goto out_free_problem;
    if (kind != GD_SCALER_NONE) {
        rc = GD_ENOMEM;
        p->x = gd_alloc_large(data->n * sizeof(*p->x));
        if (!p->x)
            goto out_free_problem;
        gd_scaler_apply(&p->scaler, data->x, p->x, data->n);
    }
    rc = gd_moments_compute(&p->train, p->x, data->y, train_idx, data->n_train);
    if (rc == GD_OK)
        rc = gd_moments_compute(&p->val, p->x, data->y, val_idx, n_val);
    if (rc != GD_OK)
        goto out_free_problem;
    if (status)
        *status = GD_OK;
    return p;

out_free_problem:
    gd_problem_free(p);
out_fail:
    if (status)
        *status = rc;
    return NULL;
}

void gd_problem_free(struct gd_problem *p)
{
    if (!p)
        return;
    if (p->data && p->x != p->data->x)
        free(p->x);
    free(p);
}
