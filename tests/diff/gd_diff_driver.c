/*
 * gd_diff_driver: runs the core on configurations read one per line from stdin and prints every
 * array and derived number as C99 hex floats, for diff_numpy.py to hold against numpy and
 * scikit-learn. A configuration is space-separated key=value fields:
 *
 *   id=7 seed=42 n=100 tb=0x1p+0 tw=0x1p+1 noise=0x1.999999999999ap-4 m=0x1p+0 frac=0x1.99...p-1
 *   data=PATH             inline data instead: PATH holds n lines "x y" (hex floats)
 *   scaler=standard       none | standard | minmax
 *   pt=B,W                a point for loss and gradients (repeatable)
 *   grid=BLO,BHI,NB,WLO,WHI,NW
 *   cs=B,W,DELTA,SNAP     a cross-section (SNAP 0 or 1)
 *   run=LR,EPOCHS,TOL,HMAX,B0,W0   a training run (repeatable)
 *
 * Output, per configuration: "cfg ID", then one record per line (kind, fields), then "end".
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gdlab/gdlab.h"

#define MAX_POINTS 16
#define MAX_RUNS 16

struct run_spec {
    double lr, tol, b0, w0;
    uint64_t epochs;
    size_t hmax;
};

struct config {
    long id;
    struct gd_dataset_params params;
    const char *data_path;
    enum gd_scaler_kind scaler;
    size_t npoints;
    double points[MAX_POINTS][2];
    bool has_grid;
    double b_lo, b_hi, w_lo, w_hi;
    size_t nb, nw;
    bool has_cs;
    double cs_b, cs_w, cs_delta;
    bool cs_snap;
    size_t nruns;
    struct run_spec runs[MAX_RUNS];
};

static void print_array(const char *kind, const double *v, size_t n)
{
    fputs(kind, stdout);
    for (size_t i = 0; i < n; i++)
        printf(" %a", v[i]);
    putchar('\n');
}

/* Split "a,b,c" into doubles (hex or decimal); false when the count is wrong. */
static bool parse_list(char *s, double *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char *end;
        out[i] = strtod(s, &end);
        if (end == s || (i + 1 < n ? *end != ',' : *end != '\0'))
            return false;
        s = end + 1;
    }
    return true;
}

static bool parse_config(char *line, struct config *c)
{
    gd_dataset_params_default(&c->params);
    char *save = NULL;
    for (char *tok = strtok_r(line, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq)
            return false;
        *eq = '\0';
        char *key = tok, *val = eq + 1;
        double v[6];
        if (strcmp(key, "id") == 0)
            c->id = strtol(val, NULL, 10);
        else if (strcmp(key, "seed") == 0)
            c->params.seed = (uint32_t)strtoul(val, NULL, 10);
        else if (strcmp(key, "n") == 0)
            c->params.n = (size_t)strtoull(val, NULL, 10);
        else if (strcmp(key, "tb") == 0)
            c->params.true_b = strtod(val, NULL);
        else if (strcmp(key, "tw") == 0)
            c->params.true_w = strtod(val, NULL);
        else if (strcmp(key, "noise") == 0)
            c->params.noise = strtod(val, NULL);
        else if (strcmp(key, "m") == 0)
            c->params.x_multiplier = strtod(val, NULL);
        else if (strcmp(key, "frac") == 0)
            c->params.train_fraction = strtod(val, NULL);
        else if (strcmp(key, "data") == 0)
            c->data_path = val;
        else if (strcmp(key, "scaler") == 0)
            c->scaler = strcmp(val, "standard") == 0 ? GD_SCALER_STANDARD
                        : strcmp(val, "minmax") == 0 ? GD_SCALER_MINMAX
                                                     : GD_SCALER_NONE;
        else if (strcmp(key, "pt") == 0 && c->npoints < MAX_POINTS && parse_list(val, v, 2)) {
            c->points[c->npoints][0] = v[0];
            c->points[c->npoints++][1] = v[1];
        } else if (strcmp(key, "grid") == 0 && parse_list(val, v, 6)) {
            c->has_grid = true;
            c->b_lo = v[0];
            c->b_hi = v[1];
            c->nb = (size_t)v[2];
            c->w_lo = v[3];
            c->w_hi = v[4];
            c->nw = (size_t)v[5];
        } else if (strcmp(key, "cs") == 0 && parse_list(val, v, 4)) {
            c->has_cs = true;
            c->cs_b = v[0];
            c->cs_w = v[1];
            c->cs_delta = v[2];
            c->cs_snap = v[3] != 0.0;
        } else if (strcmp(key, "run") == 0 && c->nruns < MAX_RUNS && parse_list(val, v, 6)) {
            c->runs[c->nruns++] = (struct run_spec){.lr = v[0],
                                                    .epochs = (uint64_t)v[1],
                                                    .tol = v[2],
                                                    .hmax = (size_t)v[3],
                                                    .b0 = v[4],
                                                    .w0 = v[5]};
        } else {
            return false;
        }
    }
    return true;
}

/* Inline data: n lines of "x y"; a short or unreadable file leaves the config in error. */
static int load_inline(struct gd_dataset *d, const struct config *c)
{
    FILE *fp = fopen(c->data_path, "r");
    if (!fp)
        return GD_EINVAL;
    int status = GD_ENOMEM;
    double *x = malloc(d->n * sizeof(*x)), *y = malloc(d->n * sizeof(*y));
    if (!x || !y)
        goto out_free;
    status = GD_EINVAL;
    char line[256];
    for (size_t i = 0; i < d->n; i++) {
        char *end;
        if (!fgets(line, sizeof(line), fp))
            goto out_free;
        x[i] = strtod(line, &end);
        y[i] = strtod(end, NULL);
    }
    status =
        gd_dataset_load(d, x, y, c->params.x_multiplier, c->params.seed, c->params.train_fraction);
out_free:
    free(x);
    free(y);
    fclose(fp);
    return status;
}

static void print_moments(const char *kind, const struct gd_moments *m)
{
    printf("%s %a %a %a %a %a %a %a\n", kind, m->x_mean, m->y_mean, m->cxx, m->cxy, m->cyy,
           m->w_opt, m->loss_opt);
}

static void surface_and_cross_section(const struct config *c, const struct gd_problem *p)
{
    double *bg = malloc(c->nb * sizeof(*bg)), *wg = malloc(c->nw * sizeof(*wg));
    double *loss = malloc(c->nb * c->nw * sizeof(*loss));
    double *loss_w = malloc(c->nw * sizeof(*loss_w)), *loss_b = malloc(c->nb * sizeof(*loss_b));
    if (!bg || !wg || !loss || !loss_w || !loss_b) {
        printf("surface_status ENOMEM\n");
        goto out_free;
    }
    gd_linspace(c->b_lo, c->b_hi, c->nb, bg);
    gd_linspace(c->w_lo, c->w_hi, c->nw, wg);
    print_array("grid_b", bg, c->nb);
    print_array("grid_w", wg, c->nw);
    struct gd_grid_min min;
    gd_surface(&p->train, bg, c->nb, wg, c->nw, loss, &min);
    print_array("surface", loss, c->nb * c->nw);
    printf("surface_min %zu %zu %a %a %a\n", min.b_index, min.w_index, min.b, min.w, min.loss);
    if (!c->has_cs)
        goto out_free;
    struct gd_cross_section cs;
    int status = gd_cross_section(&p->train, bg, c->nb, wg, c->nw, c->cs_b, c->cs_w, c->cs_snap,
                                  c->cs_delta, loss_w, loss_b, &cs);
    printf("cross_status %s\n", gd_status_name(status));
    if (status != GD_OK)
        goto out_free;
    printf("cross %zu %zu %a %a %a %a %a\n", cs.b_index, cs.w_index, cs.b, cs.w, cs.loss, cs.grad_b,
           cs.grad_w);
    printf("geo_b %a %a %a %a %a\n", cs.geo_b.from, cs.geo_b.to, cs.geo_b.delta_param,
           cs.geo_b.delta_loss, cs.geo_b.gradient);
    printf("geo_w %a %a %a %a %a\n", cs.geo_w.from, cs.geo_w.to, cs.geo_w.delta_param,
           cs.geo_w.delta_loss, cs.geo_w.gradient);
    print_array("cross_w", loss_w, c->nw);
    print_array("cross_b", loss_b, c->nb);
out_free:
    free(bg);
    free(wg);
    free(loss);
    free(loss_w);
    free(loss_b);
}

static void train_runs(const struct config *c, const struct gd_problem *p)
{
    for (size_t k = 0; k < c->nruns; k++) {
        const struct run_spec *r = &c->runs[k];
        struct gd_history *h = gd_history_new(r->hmax);
        if (!h) {
            printf("run %zu ENOMEM\n", k);
            continue;
        }
        struct gd_train_config cfg = {
            .lr = r->lr, .b0 = r->b0, .w0 = r->w0, .epochs = r->epochs, .tol = r->tol};
        struct gd_run_result res;
        int status = gd_train(&p->train, &p->val, &cfg, h, &res);
        if (status != GD_OK) {
            printf("run %zu %s\n", k, gd_status_name(status));
            gd_history_free(h);
            continue;
        }
        printf("run %zu OK %s %" PRIu64 " %" PRId64 " %a %a %a %a %a %a\n", k,
               gd_run_status_name(res.status), res.epochs_run, res.diverged_at, res.b, res.w,
               res.train_loss, res.val_loss, res.grad_b, res.grad_w);
        printf("hist_epoch");
        for (size_t i = 0; i < h->count; i++)
            printf(" %" PRIu64, h->epoch[i]);
        putchar('\n');
        print_array("hist_b", h->b, h->count);
        print_array("hist_w", h->w, h->count);
        print_array("hist_train", h->train_loss, h->count);
        print_array("hist_val", h->val_loss, h->count);
        gd_history_free(h);
    }
}

static void run_config(const struct config *c)
{
    printf("cfg %ld\n", c->id);
    struct gd_dataset *d = gd_dataset_new(c->params.n);
    struct gd_problem *p = NULL;
    int status = d ? GD_OK : GD_EINVAL;
    if (status == GD_OK)
        status = c->data_path ? load_inline(d, c) : gd_dataset_generate(d, &c->params);
    printf("status %s\n", gd_status_name(status));
    if (status != GD_OK)
        goto out_free;
    print_array("x", d->x, d->n);
    print_array("y", d->y, d->n);
    printf("idx");
    for (size_t i = 0; i < d->n; i++)
        printf(" %zu", d->idx[i]);
    printf("\nn_train %zu\n", d->n_train);
    double b0, w0;
    gd_initial_params(c->params.seed, &b0, &w0);
    printf("init %a %a\n", b0, w0);

    p = gd_problem_new(d, c->scaler, &status);
    printf("problem_status %s\n", gd_status_name(status));
    if (!p)
        goto out_free;
    const struct gd_scaler *s = &p->scaler;
    printf("scaler %s %a %a %a %a %a\n", gd_scaler_name(s->kind), s->mean, s->std, s->min, s->max,
           s->scale);
    if (c->scaler != GD_SCALER_NONE)
        print_array("xs", p->x, d->n);
    print_moments("moments_train", &p->train);
    print_moments("moments_val", &p->val);

    struct gd_analysis a;
    status = gd_analyze(&p->train, &a);
    printf("analysis %s %a %a %a %a %a %a %a %a\n", gd_status_name(status), a.b_opt, a.w_opt,
           a.loss_opt, a.lambda_min, a.lambda_max, a.condition, a.lr_critical, a.lr_optimal);
    if (status == GD_OK) {
        double blo, bhi, wlo, whi;
        gd_default_range(a.b_opt, &blo, &bhi);
        gd_default_range(a.w_opt, &wlo, &whi);
        printf("range %a %a %a %a\n", blo, bhi, wlo, whi);
    }
    for (size_t k = 0; k < c->npoints; k++) {
        double b = c->points[k][0], w = c->points[k][1], gb, gw;
        gd_gradient(&p->train, b, w, &gb, &gw);
        printf("point %a %a %a %a %a %a\n", b, w, gd_loss(&p->train, b, w), gb, gw,
               gd_loss(&p->val, b, w));
    }
    if (c->has_grid)
        surface_and_cross_section(c, p);
    train_runs(c, p);
out_free:
    gd_problem_free(p);
    gd_dataset_free(d);
    printf("end\n");
}

int main(void)
{
    char *line = NULL;
    size_t cap = 0;
    int bad = 0;
    while (getline(&line, &cap, stdin) > 0) {
        if (line[0] == '\n' || line[0] == '#')
            continue;
        struct config c = {0};
        if (!parse_config(line, &c)) {
            fprintf(stderr, "gd_diff_driver: bad configuration line\n");
            bad = 1;
            continue;
        }
        run_config(&c);
    }
    free(line);
    return bad ? EXIT_FAILURE : EXIT_SUCCESS;
}
