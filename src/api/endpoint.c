/*
 * The computing endpoints. A row: the path, the bit that the parameter table's rows name, the
 * scaler it defaults to, the function that computes it, a cost model and the summary the index
 * shows. The cost decides whether a request is computed on the connection's thread or on a
 * compute pool: data generation and moments, the epochs, and writing the numbers of the answer.
 */
#include "api/endpoint.h"

#include <string.h>

#include "api/endpoints/prepare.h"
#include "gdlab/scale.h"

/* Nanoseconds per point to generate the data and its moments, per point to write it, per grid
 * value, per epoch and per history point written. */
#define COST_PER_POINT 60.0
#define COST_PER_POINT_WRITTEN 120.0
#define COST_PER_GRID_VALUE 40.0
#define COST_PER_EPOCH 10.0
#define COST_PER_HISTORY_POINT 200.0
/* An epoch of another optimizer (a rate measured by a second pass included), and a sample of a
 * mini-batch epoch (its share of the shuffle, the batch's sums and the step). */
#define COST_PER_OPTIM_EPOCH 60.0
#define COST_PER_BATCH_SAMPLE 15.0

static double data_cost(const struct api_params *p)
{
    return COST_PER_POINT * (double)p->data.n;
}

static double dataset_cost(const struct api_params *p)
{
    return data_cost(p) + COST_PER_POINT_WRITTEN * (double)p->data.n;
}

static double surface_cost(const struct api_params *p)
{
    return data_cost(p) + COST_PER_GRID_VALUE * (double)p->b_steps * (double)p->w_steps;
}

static double stability_cost(const struct api_params *p)
{
    return data_cost(p) + COST_PER_GRID_VALUE * (double)p->lr_steps * (double)p->momentum_steps;
}

static double lr_finder_cost(const struct api_params *p)
{
    double step =
        p->batch_size ? COST_PER_BATCH_SAMPLE * (double)p->batch_size : COST_PER_OPTIM_EPOCH;
    return data_cost(p) + (double)p->num_iter * (step + COST_PER_HISTORY_POINT);
}

static double train_cost(const struct api_params *p)
{
    double n_train = (double)p->data.n * p->data.train_fraction;
    double epoch = !p->optim_report ? COST_PER_EPOCH
                   : p->batch_size  ? COST_PER_BATCH_SAMPLE * n_train
                                    : COST_PER_OPTIM_EPOCH;
    double runs = (double)p->optimizer.n * (double)p->lr.n;
    return data_cost(p) +
           runs * (epoch * (double)p->epochs + COST_PER_HISTORY_POINT * (double)p->history);
}

const struct api_endpoint api_endpoints[] = {
    {"/dataset", EP_DATASET, GD_SCALER_NONE, api_dataset, dataset_cost,
     "the synthetic dataset, its split, scaler, statistics and optimum (JSON or CSV)"},
    {"/surface", EP_SURFACE, GD_SCALER_NONE, api_surface, surface_cost,
     "the MSE loss over a (b, w) grid: rows are w, columns b"},
    {"/cross-section", EP_CROSS_SECTION, GD_SCALER_NONE, api_cross_section, data_cost,
     "loss curves through a point with b or w fixed; analytic and geometric gradients"},
    {"/train", EP_TRAIN, GD_SCALER_NONE, api_train, train_cost,
     "batch gradient descent for one or several learning rates, and why (JSON, or CSV histories)"},
    {"/scale", EP_SCALE, GD_SCALER_STANDARD, api_scale, data_cost,
     "feature scaling and its effect on conditioning and learning rates"},
    {"/stability", EP_STABILITY, GD_SCALER_NONE, api_stability, stability_cost,
     "how big is too big: the spectral radius over learning rate x momentum, the critical rates "
     "and Polyak's optimum"},
    {"/lr-finder", EP_LR_FINDER, GD_SCALER_NONE, api_lr_finder, lr_finder_cost,
     "the learning-rate range test (torch_lr_finder's range_test) beside the exact critical rate"},
};
const size_t api_endpoint_count = sizeof(api_endpoints) / sizeof(api_endpoints[0]);

const struct api_endpoint *api_endpoint_find(const char *path)
{
    for (size_t i = 0; i < api_endpoint_count; i++)
        if (strcmp(api_endpoints[i].path, path) == 0)
            return &api_endpoints[i];
    return NULL;
}

bool api_endpoint_has_csv(const struct api_endpoint *e)
{
    return (e->bit & EP_CSV) != 0;
}
