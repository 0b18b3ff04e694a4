#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api/endpoints/prepare.h"
#include "encode/csv.h"
#include "gdlab/gdlab.h"

/* /train: gradient descent for one or several learning rates, and the analysis that says why each
 * run converged or diverged. */

static void write_history(struct jw *w, const struct gd_history *h)
{
    size_t n = h ? h->count : 0;
    jw_key(w, "history");
    jw_object_begin(w);
    jw_key(w, "epoch");
    jw_uint64_array(w, h ? h->epoch : NULL, n);
    jw_key(w, "b");
    jw_double_array(w, h ? h->b : NULL, n);
    jw_key(w, "w");
    jw_double_array(w, h ? h->w : NULL, n);
    jw_key(w, "train_loss");
    jw_double_array(w, h ? h->train_loss : NULL, n);
    jw_key(w, "val_loss");
    jw_double_array(w, h ? h->val_loss : NULL, n);
    jw_object_end(w);
}

/* format=csv: one row per recorded state, "lr,epoch,b,w,train_loss,val_loss". */
static void write_history_csv(struct jw *w, double lr, const struct gd_history *h)
{
    for (size_t k = 0; h && k < h->count; k++) {
        csv_double(w, lr);
        csv_raw(w, ",", 1);
        csv_uint(w, h->epoch[k]);
        csv_raw(w, ",", 1);
        csv_double(w, h->b[k]);
        csv_raw(w, ",", 1);
        csv_double(w, h->w[k]);
        csv_raw(w, ",", 1);
        csv_double(w, h->train_loss[k]);
        csv_raw(w, ",", 1);
        csv_double(w, h->val_loss[k]);
        csv_raw(w, "\n", 1);
    }
}

static void write_run(struct jw *w, double lr, const struct gd_run_result *r,
                      const struct gd_history *h)
{
    jw_object_begin(w);
    jw_key_double(w, "lr", lr);
    jw_key_string(w, "status", gd_run_status_name(r->status));
    jw_key_uint(w, "epochs_run", r->epochs_run);
    jw_key(w, "diverged_at");
    if (r->diverged_at < 0)
        jw_null(w);
    else
        jw_int(w, r->diverged_at);
    jw_key(w, "final");
    jw_object_begin(w);
    jw_key_double(w, "b", r->b);
    jw_key_double(w, "w", r->w);
    jw_key_double(w, "train_loss", r->train_loss);
    jw_key_double(w, "val_loss", r->val_loss);
    jw_key_double(w, "grad_b", r->grad_b);
    jw_key_double(w, "grad_w", r->grad_w);
    jw_object_end(w);
    write_history(w, h);
    jw_object_end(w);
}

int api_train(struct api_params *p, const struct gd_cancel *cancel, struct jw *w,
              struct api_problem *prob)
{
    struct api_prepared pr;
    int rc = -1;
    if (api_prepare(p, p->scaler, cancel, &pr, prob))
        return -1;
    double b0, w0;
    gd_initial_params(p->data.seed, &b0, &w0);
    if (!api_param_given(p, P_B0))
        p->b0 = b0;
    if (!api_param_given(p, P_W0))
        p->w0 = w0;
    size_t cap = gd_history_size(p->epochs, p->history);
    struct gd_history *h = NULL;
    if (cap) {
        h = gd_history_new(cap);
        if (!h) {
            api_out_of_memory(prob);
            goto out_free_prepared;
        }
    }

    static const char csv_header[] = "lr,epoch,b,w,train_loss,val_loss\n";
    if (p->format == API_FORMAT_CSV) {
        csv_raw(w, csv_header, sizeof(csv_header) - 1);
    } else {
        jw_object_begin(w);
        api_params_write(w, p);
        jw_key(w, "runs");
        jw_array_begin(w);
    }
    for (size_t k = 0; k < p->lr.n; k++) {
        struct gd_train_config cfg = {
            .lr = p->lr.v[k], .b0 = p->b0, .w0 = p->w0, .epochs = p->epochs, .tol = p->tol};
        if (cancel)
            cfg.cancel = *cancel;
        struct gd_run_result res;
        int status = gd_train(&pr.scaled->train, &pr.scaled->val, &cfg, h, &res);
        if (status == GD_ECANCELED) {
            api_deadline_exceeded(prob);
            goto out_free_history;
        }
        if (status != GD_OK) {
            api_problem_from_status(prob, status, "lr", "run with lr = %s failed: %s",
                                    NUM(p->lr.v[k]), gd_strerror(status));
            goto out_free_history;
        }
        if (p->format == API_FORMAT_CSV)
            write_history_csv(w, p->lr.v[k], h);
        else
            write_run(w, p->lr.v[k], &res, h);
    }
    if (p->format != API_FORMAT_CSV) {
        jw_array_end(w);
        api_write_analysis(w, "analysis", &pr.analysis);
        jw_object_end(w);
    }
    rc = 0;

out_free_history:
    gd_history_free(h);
out_free_prepared:
    api_prepared_free(&pr);
    return rc;
}
