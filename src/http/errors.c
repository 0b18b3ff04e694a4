#include "errors.h"

#include <stdio.h>
#include <string.h>

#include "fmt_double.h"

static const struct {
    int status;
    const char *slug;
    const char *title;
    const char *description;
} error_table[HTTP_E_COUNT] = {
#define HTTP_ERROR_ROW(name, status, slug, title, description)                                     \
    [HTTP_E_##name] = {status, slug, title, description},
    HTTP_ERROR_MAP(HTTP_ERROR_ROW)
#undef HTTP_ERROR_ROW
};

static enum http_error clamp(enum http_error code)
{
    return (unsigned)code < HTTP_E_COUNT ? code : HTTP_E_INTERNAL;
}

int http_error_status(enum http_error code)
{
    return error_table[clamp(code)].status;
}

const char *http_error_slug(enum http_error code)
{
    return error_table[clamp(code)].slug;
}

const char *http_error_title(enum http_error code)
{
    return error_table[clamp(code)].title;
}

const char *http_error_description(enum http_error code)
{
    return error_table[clamp(code)].description;
}

bool http_error_find(const char *slug, enum http_error *code)
{
    for (int i = 0; i < HTTP_E_COUNT; i++) {
        if (strcmp(error_table[i].slug, slug) == 0) {
            *code = (enum http_error)i;
            return true;
        }
    }
    return false;
}

const char *num_text(double v, char *buf)
{
    buf[gd_fmt_double(v, buf)] = '\0';
    return buf;
}

int problem_set(struct http_problem *p, enum http_error code, const char *param, const char *fmt,
                ...)
{
    p->code = code;
    snprintf(p->param, sizeof(p->param), "%s", param ? param : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->detail, sizeof(p->detail), fmt, ap);
    va_end(ap);
    return -1;
}
