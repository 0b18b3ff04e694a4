#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api/endpoints/prepare.h"
#include "gdlab/gdlab.h"

/* /scale: feature scaling and its effect on conditioning and learning rates. */

static void write_scaled_split(struct jw *w, const char *key, const struct api_prepared *pr,
                               bool val)
{
    size_t n;
    const size_t *idx = api_split_index(pr->data, val, &n);
    jw_key(w, key);
    jw_object_begin(w);
    jw_key(w, "x_raw");
    jw_double_array_indexed(w, pr->data->x, idx, n);
    jw_key(w, "x");
    jw_double_array_indexed(w, pr->scaled->x, idx, n);
    jw_object_end(w);
}

int api_scale(struct api_params *p, const struct gd_cancel *cancel, struct jw *w,
              struct api_problem *prob)
{
    struct api_prepared pr;
    if (api_prepare(p, p->scaler, cancel, &pr, prob))
        return -1;
    int status;
    struct gd_problem *raw = gd_problem_new(pr.data, GD_SCALER_NONE, &status);
    if (!raw) {
        /* the raw (multiplied) feature can overflow where the scaled one did not */
        int rc = status == GD_ENONFINITE ? api_too_big_for_analysis(p, pr.data, prob)
                                         : api_out_of_memory(prob);
        api_prepared_free(&pr);
        return rc;
    }
    struct gd_analysis before;
    if (gd_analyze(&raw->train, &before) == GD_ENONFINITE) {
        gd_problem_free(raw);
        int rc = api_too_big_for_analysis(p, pr.data, prob);
        api_prepared_free(&pr);
        return rc;
    }

    jw_object_begin(w);
    api_params_write(w, p);
    api_write_scaler(w, &pr.scaled->scaler);
    write_scaled_split(w, "train", &pr, false);
    write_scaled_split(w, "val", &pr, true);
    api_write_analysis(w, "before", &before);
    api_write_analysis(w, "after", &pr.analysis);
    jw_object_end(w);

    gd_problem_free(raw);
    api_prepared_free(&pr);
    return 0;
}
