/* Batch gradient descent on the MSE, one learning rate per run. */
#ifndef GDLAB_TRAIN_H
#define GDLAB_TRAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gdlab/moments.h"

/* Asked every few thousand epochs whether to give up (a request deadline); NULL never gives up. */
struct gd_cancel {
    bool (*expired)(void *ctx);
    void *ctx;
};

/* One run: b <- b - lr*dL/db, w <- w - lr*dL/dw, for up to epochs updates. */
struct gd_train_config {
    double lr;
    double b0;
    double w0;
    uint64_t epochs;
    double tol; /* stop once |grad| <= tol; 0 never stops early */
    struct gd_cancel cancel;
};

enum gd_run_status {
    GD_RUN_MAX_EPOCHS, /* ran every epoch */
    GD_RUN_CONVERGED,  /* the gradient norm fell to tol */
    GD_RUN_DIVERGED    /* a value became non-finite, or the final loss exceeds the starting loss */
};

/* Evenly sampled states (epoch 0 and the last always kept), as parallel arrays of capacity cap. */
struct gd_history {
    size_t cap;
    size_t count;
    uint64_t *epoch; /* epoch of each state (gd_optim_run with GD_HISTORY_STEP: optimizer step) */
    double *b;
    double *w;
    double *train_loss;
    double *val_loss;
    double *lr; /* the learning rate in force at each state, the one its next step uses */
};

/* How a run ended and where it stood. */
struct gd_run_result {
    enum gd_run_status status;
    uint64_t epochs_run; /* updates applied */
    int64_t diverged_at; /* first epoch whose loss was non-finite or above the start; -1 if none */
    double b;
    double w;
    double train_loss;
    double val_loss;
    double grad_b;
    double grad_w;
};

/* A history with room for cap points; NULL when out of memory. */
struct gd_history *gd_history_new(size_t cap);

/* Release a history; NULL is fine. */
void gd_history_free(struct gd_history *h);

/* Number of points a history keeps for a run of epochs updates (epochs + 1 states), at most max. */
size_t gd_history_size(uint64_t epochs, size_t max);

/* The k-th sampled epoch out of count: floor(k*epochs/(count-1)), so 0 and epochs are both kept. */
uint64_t gd_history_epoch(uint64_t epochs, size_t count, size_t k);

/* Run gradient descent; val may be NULL (val_loss NaN); history may be NULL, else it is filled with
 * up to history->cap samples planned for the full run and cut short where the run stops. */
int gd_train(const struct gd_moments *train, const struct gd_moments *val,
             const struct gd_train_config *cfg, struct gd_history *history,
             struct gd_run_result *out);

/* "max_epochs", "converged" or "diverged". */
const char *gd_run_status_name(enum gd_run_status status);

#endif
