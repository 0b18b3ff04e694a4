#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api/endpoints/prepare.h"
#include "encode/csv.h"
#include "gdlab/gdlab.h"

/* /dataset: the data, split and scaled, with the statistics of each split and the optimum. */

static void write_stats(struct jw *w, const char *key, const struct gd_moments *m)
{
    jw_key(w, key);
    jw_object_begin(w);
    jw_key_uint(w, "n", m->n);
    jw_key_double(w, "x_mean", m->x_mean);
    jw_key_double(w, "x_std", sqrt(m->cxx));
    jw_key_double(w, "y_mean", m->y_mean);
    jw_key_double(w, "y_std", sqrt(m->cyy));
    jw_object_end(w);
}

static void write_split(struct jw *w, const char *key, const struct api_prepared *pr, bool val)
{
    size_t n;
    const size_t *idx = api_split_index(pr->data, val, &n);
    jw_key(w, key);
    jw_object_begin(w);
    jw_key(w, "idx");
    jw_size_array(w, idx, n);
    jw_key(w, "x");
    jw_double_array_indexed(w, pr->scaled->x, idx, n);
    jw_key(w, "y");
    jw_double_array_indexed(w, pr->data->y, idx, n);
    if (pr->scaled->scaler.kind != GD_SCALER_NONE) {
        jw_key(w, "x_raw");
        jw_double_array_indexed(w, pr->data->x, idx, n);
    }
    jw_object_end(w);
}

/* format=csv: "split,idx,x,y[,x_raw]", one row per point, the training split first. */
static void write_dataset_csv(struct jw *w, const struct api_prepared *pr)
{
    bool raw = pr->scaled->scaler.kind != GD_SCALER_NONE;
    const char *header = raw ? "split,idx,x,y,x_raw\n" : "split,idx,x,y\n";
    csv_raw(w, header, strlen(header));
    for (int val = 0; val <= 1; val++) {
        size_t n;
        const size_t *idx = api_split_index(pr->data, val, &n);
        for (size_t k = 0; k < n; k++) {
            csv_raw(w, val ? "val," : "train,", val ? 4 : 6);
            csv_uint(w, idx[k]);
            csv_raw(w, ",", 1);
            csv_double(w, pr->scaled->x[idx[k]]);
            csv_raw(w, ",", 1);
            csv_double(w, pr->data->y[idx[k]]);
            if (raw) {
                csv_raw(w, ",", 1);
                csv_double(w, pr->data->x[idx[k]]);
            }
            csv_raw(w, "\n", 1);
        }
    }
}

int api_dataset(struct api_params *p, const struct gd_cancel *cancel, struct jw *w,
                struct api_problem *prob)
{
    struct api_prepared pr;
    if (api_prepare(p, p->scaler, cancel, &pr, prob))
        return -1;
    if (p->format == API_FORMAT_CSV) {
        write_dataset_csv(w, &pr);
        api_prepared_free(&pr);
        return 0;
    }
    jw_object_begin(w);
    api_params_write(w, p);
    api_write_scaler(w, &pr.scaled->scaler);
    write_split(w, "train", &pr, false);
    write_split(w, "val", &pr, true);
    jw_key(w, "stats");
    jw_object_begin(w);
    write_stats(w, "train", &pr.scaled->train);
    write_stats(w, "val", &pr.scaled->val);
    jw_object_end(w);
    api_write_optimum(w, &pr.analysis);
    jw_object_end(w);
    api_prepared_free(&pr);
    return 0;
}
