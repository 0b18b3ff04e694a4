/* What every computing endpoint does first (build the dataset, the scaled feature and the moments
 * of both splits, and the training split's analysis), and the pieces of answer they share. */
#ifndef GDLAB_API_ENDPOINTS_PREPARE_H
#define GDLAB_API_ENDPOINTS_PREPARE_H

#include <stdbool.h>

#include "api/endpoint.h"
#include "gdlab/gdlab.h"
#include "gdlab/optim.h"

/* The endpoints, as the table in endpoint.c names them (api_compute_fn). */
int api_dataset(struct api_params *p, const struct gd_cancel *cancel, struct jw *w,
                struct api_problem *prob);
int api_surface(struct api_params *p, const struct gd_cancel *cancel, struct jw *w,
                struct api_problem *prob);
int api_cross_section(struct api_params *p, const struct gd_cancel *cancel, struct jw *w,
                      struct api_problem *prob);
int api_train(struct api_params *p, const struct gd_cancel *cancel, struct jw *w,
              struct api_problem *prob);
int api_scale(struct api_params *p, const struct gd_cancel *cancel, struct jw *w,
              struct api_problem *prob);
int api_stability(struct api_params *p, const struct gd_cancel *cancel, struct jw *w,
                  struct api_problem *prob);
int api_lr_finder(struct api_params *p, const struct gd_cancel *cancel, struct jw *w,
                  struct api_problem *prob);

/* A dataset made ready for the loss, with the training split's analysis. */
struct api_prepared {
    struct gd_dataset *data;
    struct gd_problem *scaled; /* the feature as the model sees it, and each split's moments */
    struct gd_analysis analysis;
    int analysis_status; /* GD_EDEGENERATE when the training feature is constant */
};

/* Build the data for p with the scaler kind; -1 with *prob (overflow, memory, deadline). */
int api_prepare(const struct api_params *p, int kind, const struct gd_cancel *cancel,
                struct api_prepared *pr, struct api_problem *prob);

/* Release what api_prepare built. */
void api_prepared_free(struct api_prepared *pr);

/* The start (b0, w0) that was not given: the tutorial's random pair of the seed. */
void api_resolve_start(struct api_params *p);

/* The request's hyperparameters onto an optimizer at torch's defaults (gd_optim_params_default):
 * eps and weight_decay only when given, since their defaults differ by optimizer. */
void api_set_hyperparameters(const struct api_params *p, struct gd_optim_params *o);

/* The out-of-memory problem; returns -1. */
int api_out_of_memory(struct api_problem *prob);

/* Data whose moments overflow: the detail blames x or y, whichever is larger; returns -1. */
int api_too_big_for_analysis(const struct api_params *p, const struct gd_dataset *d,
                             struct api_problem *prob);

/* The deadline problem (the server words its detail); returns -1. */
int api_deadline_exceeded(struct api_problem *prob);

/* -1 with the deadline problem when cancel says the request's time is up; else 0. */
int api_past_deadline(const struct gd_cancel *cancel, struct api_problem *prob);

/* "scaler": {"kind", and its fitted values}. */
void api_write_scaler(struct jw *w, const struct gd_scaler *s);

/* "optimum": {b, w, loss}; b and w are null when the feature is constant (no unique fit). */
void api_write_optimum(struct jw *w, const struct gd_analysis *a);

/* key: {hessian, its eigenvalues, condition number, critical and optimal rates, optimum}. */
void api_write_analysis(struct jw *w, const char *key, const struct gd_analysis *a);

/* The same members without the enclosing object, for an answer that adds its own. */
void api_write_analysis_fields(struct jw *w, const struct gd_analysis *a);

/* The indices of the training (or validation) split's rows, and how many. */
const size_t *api_split_index(const struct gd_dataset *d, bool val, size_t *n);

#endif
