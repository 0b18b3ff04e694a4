#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api/endpoints/prepare.h"
#include "gdlab/gdlab.h"

/* The grid endpoints: /surface (the loss over a (b, w) grid) and /cross-section (curves through a
 * point with b or w fixed, with analytic and geometric gradients). */

/* The least-squares optimum of some moments; for a constant feature, the flat fit w = 0. */
static void optimum_of(const struct gd_moments *m, double *b, double *w)
{
    *w = m->w_opt;
    *b = m->y_mean - m->w_opt * m->x_mean;
}

static int check_range(struct api_params *p, enum api_param_id lo_id, enum api_param_id hi_id,
                       double lo, double hi, struct api_problem *prob)
{
    enum api_param_id culprit =
        api_param_given(p, lo_id) && !api_param_given(p, hi_id) ? lo_id : hi_id;
    if (!isfinite(lo) || !isfinite(hi) || !isfinite(hi - lo))
        return api_problem_set(prob, API_PROBLEM_OUT_OF_RANGE, api_param_name(culprit),
                               "the grid range %s..%s and its width must be finite; got %s..%s",
                               api_param_name(lo_id), api_param_name(hi_id), NUM(lo), NUM(hi));
    if (!(lo < hi))
        return api_problem_set(prob, API_PROBLEM_OUT_OF_RANGE, api_param_name(culprit),
                               "%s must be below %s; got %s = %s and %s = %s%s",
                               api_param_name(lo_id), api_param_name(hi_id), api_param_name(lo_id),
                               NUM(lo), api_param_name(hi_id), NUM(hi),
                               api_param_given(p, lo_id) && api_param_given(p, hi_id)
                                   ? ""
                                   : " (the missing bound defaults to the optimum rounded to one "
                                     "decimal +- 3)");
    return 0;
}

/* Fill in the grid's default ranges around the chosen split's optimum, check them, and build the
 * two linspaces. */
static int make_grid(struct api_params *p, const struct gd_moments *m, double **bg, double **wg,
                     struct api_problem *prob)
{
    double b_opt, w_opt, lo, hi;
    optimum_of(m, &b_opt, &w_opt);
    gd_default_range(b_opt, &lo, &hi);
    if (!api_param_given(p, P_B_MIN))
        p->b_min = lo;
    if (!api_param_given(p, P_B_MAX))
        p->b_max = hi;
    gd_default_range(w_opt, &lo, &hi);
    if (!api_param_given(p, P_W_MIN))
        p->w_min = lo;
    if (!api_param_given(p, P_W_MAX))
        p->w_max = hi;
    if (check_range(p, P_B_MIN, P_B_MAX, p->b_min, p->b_max, prob) ||
        check_range(p, P_W_MIN, P_W_MAX, p->w_min, p->w_max, prob))
        return -1;
    *bg = malloc(p->b_steps * sizeof(**bg));
    *wg = malloc(p->w_steps * sizeof(**wg));
    if (!*bg || !*wg) {
        free(*bg);
        free(*wg);
        *bg = *wg = NULL;
        return api_out_of_memory(prob);
    }
    gd_linspace(p->b_min, p->b_max, p->b_steps, *bg);
    gd_linspace(p->w_min, p->w_max, p->w_steps, *wg);
    return 0;
}

static const struct gd_moments *grid_moments(const struct api_params *p,
                                             const struct api_prepared *pr)
{
    return p->split == API_SPLIT_VAL ? &pr->scaled->val : &pr->scaled->train;
}

static void write_split_optimum(struct jw *w, const struct gd_moments *m)
{
    struct gd_analysis a;
    gd_analyze(m, &a);
    api_write_optimum(w, &a);
}

int api_surface(struct api_params *p, const struct gd_cancel *cancel, struct jw *w,
                struct api_problem *prob)
{
    struct api_prepared pr;
    double *bg, *wg, *loss;
    int rc = -1;
    if (api_prepare(p, p->scaler, cancel, &pr, prob))
        return -1;
    /* From here on only the moments are needed: the data (24 bytes a point) is released before
     * the grid and the answer are allocated, which keeps the peak memory of a large surface
     * within a few times its answer. */
    const struct gd_moments moments = *grid_moments(p, &pr), *m = &moments;
    api_prepared_free(&pr);
    if (make_grid(p, m, &bg, &wg, prob))
        return -1;
    loss = gd_alloc_large(p->b_steps * p->w_steps * sizeof(*loss));
    if (!loss) {
        api_out_of_memory(prob);
        goto out_free_grid;
    }
    struct gd_grid_min min;
    gd_surface(m, bg, p->b_steps, wg, p->w_steps, loss, &min);
    if (api_past_deadline(cancel, prob))
        goto out_free_loss;

    /* the grid dominates: about 20 bytes per loss value */
    jw_reserve(w, p->b_steps * p->w_steps * 20 + 4096);
    jw_object_begin(w);
    api_params_write(w, p);
    jw_key(w, "b");
    jw_double_array(w, bg, p->b_steps);
    jw_key(w, "w");
    jw_double_array(w, wg, p->w_steps);
    jw_key(w, "loss");
    jw_double_matrix(w, loss, p->w_steps, p->b_steps);
    jw_key(w, "grid_min");
    jw_object_begin(w);
    jw_key_double(w, "b", min.b);
    jw_key_double(w, "w", min.w);
    jw_key_double(w, "loss", min.loss);
    jw_key_uint(w, "b_index", min.b_index);
    jw_key_uint(w, "w_index", min.w_index);
    jw_object_end(w);
    write_split_optimum(w, m);
    jw_object_end(w);
    rc = 0;

out_free_loss:
    free(loss);
out_free_grid:
    free(bg);
    free(wg);
    return rc;
}

static void write_geometric(struct jw *w, const struct gd_geometric *g)
{
    jw_key(w, "geometric");
    jw_object_begin(w);
    jw_key_double(w, "from", g->from);
    jw_key_double(w, "to", g->to);
    jw_key_double(w, "delta_param", g->delta_param);
    jw_key_double(w, "delta_loss", g->delta_loss);
    jw_key_double(w, "gradient", g->gradient);
    jw_object_end(w);
}

static void write_section(struct jw *w, const char *fixed, const char *varying, double fixed_value,
                          const double *values, const double *loss, size_t n, double gradient,
                          const struct gd_geometric *g)
{
    jw_object_begin(w);
    jw_key_string(w, "fixed", fixed);
    jw_key_string(w, "varying", varying);
    jw_key_double(w, "fixed_value", fixed_value);
    jw_key(w, "values");
    jw_double_array(w, values, n);
    jw_key(w, "loss");
    jw_double_array(w, loss, n);
    jw_key_double(w, "gradient", gradient);
    write_geometric(w, g);
    jw_object_end(w);
}

int api_cross_section(struct api_params *p, const struct gd_cancel *cancel, struct jw *w,
                      struct api_problem *prob)
{
    struct api_prepared pr;
    double *bg, *wg, *loss_w = NULL, *loss_b = NULL;
    int rc = -1;
    if (api_prepare(p, p->scaler, cancel, &pr, prob))
        return -1;
    const struct gd_moments *m = grid_moments(p, &pr);
    if (make_grid(p, m, &bg, &wg, prob))
        goto out_free_prepared;
    double b0, w0;
    gd_initial_params(p->data.seed, &b0, &w0);
    if (!api_param_given(p, P_B))
        p->b = b0;
    if (!api_param_given(p, P_W))
        p->w = w0;
    loss_w = malloc(p->w_steps * sizeof(*loss_w));
    loss_b = malloc(p->b_steps * sizeof(*loss_b));
    if (!loss_w || !loss_b) {
        api_out_of_memory(prob);
        goto out_free_curves;
    }
    struct gd_cross_section cs;
    int status = gd_cross_section(m, bg, p->b_steps, wg, p->w_steps, p->b, p->w, p->snap, p->delta,
                                  loss_w, loss_b, &cs);
    if (status == GD_ENONFINITE) {
        api_problem_set(prob, API_PROBLEM_OUT_OF_RANGE, "delta",
                        "the point (b %s, w %s) moved by delta %s leaves the range of a double "
                        "(about 1.8e308); use a smaller delta",
                        NUM(p->b), NUM(p->w), NUM(p->delta));
        goto out_free_curves;
    }
    if (status != GD_OK) {
        api_problem_set(prob, API_PROBLEM_OUT_OF_RANGE, "delta",
                        "delta %s does not reach another grid value from the point (grid steps: b "
                        "%s, w %s); use a larger delta or snap=false",
                        NUM(p->delta), NUM((p->b_max - p->b_min) / (double)(p->b_steps - 1)),
                        NUM((p->w_max - p->w_min) / (double)(p->w_steps - 1)));
        goto out_free_curves;
    }

    jw_object_begin(w);
    api_params_write(w, p);
    jw_key(w, "point");
    jw_object_begin(w);
    jw_key_double(w, "b", cs.b);
    jw_key_double(w, "w", cs.w);
    jw_key_uint(w, "b_index", cs.b_index);
    jw_key_uint(w, "w_index", cs.w_index);
    jw_key_double(w, "loss", cs.loss);
    jw_object_end(w);
    jw_key(w, "sections");
    jw_array_begin(w);
    write_section(w, "b", "w", cs.b, wg, loss_w, p->w_steps, cs.grad_w, &cs.geo_w);
    write_section(w, "w", "b", cs.w, bg, loss_b, p->b_steps, cs.grad_b, &cs.geo_b);
    jw_array_end(w);
    write_split_optimum(w, m);
    jw_object_end(w);
    rc = 0;

out_free_curves:
    free(loss_w);
    free(loss_b);
    free(bg);
    free(wg);
out_free_prepared:
    api_prepared_free(&pr);
    return rc;
}
