/* The five computing endpoints: validated parameters in, a JSON document out. */
#ifndef GDLAB_HTTP_ENDPOINTS_H
#define GDLAB_HTTP_ENDPOINTS_H

#include "errors.h"
#include "gdlab/train.h"
#include "json_writer.h"
#include "params.h"

/* Compute with the core and write the whole response object; -1 with *err on a client error
 * found only now (a grid range that is empty once defaults are resolved, a delta that reaches no
 * other grid value, data that overflows), when memory runs out, or when cancel says the request's
 * deadline passed (HTTP_E_DEADLINE_EXCEEDED; asked between the phases of the work and every few
 * thousand epochs). */
typedef int (*endpoint_fn)(struct api_params *p, const struct gd_cancel *cancel, struct jw *w,
                           struct http_problem *err);

int endpoint_dataset(struct api_params *p, const struct gd_cancel *cancel, struct jw *w,
                     struct http_problem *err);
int endpoint_surface(struct api_params *p, const struct gd_cancel *cancel, struct jw *w,
                     struct http_problem *err);
int endpoint_cross_section(struct api_params *p, const struct gd_cancel *cancel, struct jw *w,
                           struct http_problem *err);
int endpoint_train(struct api_params *p, const struct gd_cancel *cancel, struct jw *w,
                   struct http_problem *err);
int endpoint_scale(struct api_params *p, const struct gd_cancel *cancel, struct jw *w,
                   struct http_problem *err);

#endif
