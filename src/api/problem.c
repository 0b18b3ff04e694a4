#include "api/problem.h"

#include <stdio.h>
#include <string.h>

#include "gdlab/status.h"

static const struct {
    int status;
    const char *slug;
    const char *title;
    const char *description;
} problem_table[API_PROBLEM_COUNT] = {
#define API_PROBLEM_ROW(name, status, slug, title, description)                                    \
    [API_PROBLEM_##name] = {status, slug, title, description},
    API_PROBLEM_TABLE(API_PROBLEM_ROW)
#undef API_PROBLEM_ROW
};

/* The problem each core status becomes; GD_OK has none (it is never asked for). */
static const enum api_problem_type status_problem[GD_STATUS_COUNT] = {
    [GD_OK] = API_PROBLEM_INTERNAL,
    [GD_EINVAL] = API_PROBLEM_INVALID_PARAMETER,
    [GD_ENOMEM] = API_PROBLEM_OUT_OF_MEMORY,
    [GD_ESPLIT] = API_PROBLEM_OUT_OF_RANGE,
    [GD_EDEGENERATE] = API_PROBLEM_OUT_OF_RANGE,
    [GD_ENONFINITE] = API_PROBLEM_OUT_OF_RANGE,
    [GD_ECANCELED] = API_PROBLEM_DEADLINE_EXCEEDED,
};

static enum api_problem_type clamp(enum api_problem_type type)
{
    return (unsigned)type < API_PROBLEM_COUNT ? type : API_PROBLEM_INTERNAL;
}

int api_problem_status(enum api_problem_type type)
{
    return problem_table[clamp(type)].status;
}

const char *api_problem_slug(enum api_problem_type type)
{
    return problem_table[clamp(type)].slug;
}

const char *api_problem_title(enum api_problem_type type)
{
    return problem_table[clamp(type)].title;
}

const char *api_problem_description(enum api_problem_type type)
{
    return problem_table[clamp(type)].description;
}

bool api_problem_find(const char *slug, enum api_problem_type *type)
{
    for (int i = 0; i < API_PROBLEM_COUNT; i++) {
        if (strcmp(problem_table[i].slug, slug) == 0) {
            *type = (enum api_problem_type)i;
            return true;
        }
    }
    return false;
}

size_t api_problem_statuses(unsigned *out)
{
    size_t n = 0;
    for (int i = 0; i < API_PROBLEM_COUNT; i++) {
        unsigned status = (unsigned)problem_table[i].status;
        size_t k = 0;
        while (k < n && out[k] < status)
            k++;
        if (k < n && out[k] == status)
            continue;
        memmove(out + k + 1, out + k, (n - k) * sizeof(*out));
        out[k] = status;
        n++;
    }
    return n;
}

const char *api_num_text(double v, char *buf)
{
    buf[jw_fmt_double(v, buf)] = '\0';
    return buf;
}

static int problem_vset(struct api_problem *prob, enum api_problem_type type, const char *param,
                        const char *fmt, va_list ap)
{
    prob->type = type;
    snprintf(prob->param, sizeof(prob->param), "%s", param ? param : "");
    vsnprintf(prob->detail, sizeof(prob->detail), fmt, ap);
    return -1;
}

int api_problem_set(struct api_problem *prob, enum api_problem_type type, const char *param,
                    const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    problem_vset(prob, type, param, fmt, ap);
    va_end(ap);
    return -1;
}

int api_problem_from_status(struct api_problem *prob, int status, const char *param,
                            const char *fmt, ...)
{
    enum api_problem_type type =
        status >= 0 && status < GD_STATUS_COUNT ? status_problem[status] : API_PROBLEM_INTERNAL;
    va_list ap;
    va_start(ap, fmt);
    problem_vset(prob, type, param, fmt, ap);
    va_end(ap);
    return -1;
}

void api_problem_write(struct jw *w, const struct api_problem *prob, const char *instance)
{
    char type[64];
    snprintf(type, sizeof(type), "/problems/%s", api_problem_slug(prob->type));
    jw_object_begin(w);
    jw_key_string(w, "type", type);
    jw_key_string(w, "title", api_problem_title(prob->type));
    jw_key_uint(w, "status", (uint64_t)api_problem_status(prob->type));
    jw_key_string(w, "detail", prob->detail);
    jw_key_string(w, "instance", instance);
    if (prob->param[0])
        jw_key_string(w, "param", prob->param);
    jw_object_end(w);
}
