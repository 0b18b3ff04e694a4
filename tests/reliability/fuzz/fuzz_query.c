/*
 * libFuzzer harness for the query-string parser: the input is a raw query string, split and
 * unescaped the way libmicrohttpd does it ('&' between pairs, the first '=' between key and value,
 * '+' to space, %XX decoded; a key without '=' has a NULL value), then parsed and validated for
 * the endpoint picked by the first byte. A request that validates is also computed. A parse that
 * fails must say which problem; one that succeeds must leave every size within the limits.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_endpoints.h"

#define MAX_ARGS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* In place: '+' to ' ', %XX to its byte (an invalid escape stays as it is), as MHD does. */
static void unescape(char *s)
{
    char *out = s;
    for (; *s; s++) {
        int hi, lo;
        if (*s == '+') {
            *out++ = ' ';
        } else if (*s == '%' && (hi = hex_digit(s[1])) >= 0 && (lo = hex_digit(s[2])) >= 0) {
            *out++ = (char)(hi * 16 + lo);
            s += 2;
        } else {
            *out++ = *s;
        }
    }
    *out = '\0';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const struct fuzz_endpoint *e = &fuzz_endpoints[(data[0] & 0x7f) % FUZZ_N_ENDPOINTS];
    bool compute = data[0] & 0x80;
    /* A C string as MHD hands it over: a NUL byte ends the query. */
    char *query = malloc(size);
    if (!query)
        return 0;
    memcpy(query, data + 1, size - 1);
    query[size - 1] = '\0';

    struct query_arg args[MAX_ARGS];
    size_t n_args = 0;
    for (char *pair = query; pair && *pair && n_args < MAX_ARGS;) {
        char *next = strchr(pair, '&');
        if (next)
            *next++ = '\0';
        char *eq = strchr(pair, '=');
        if (eq)
            *eq++ = '\0';
        unescape(pair);
        if (eq)
            unescape(eq);
        args[n_args++] = (struct query_arg){pair, eq};
        pair = next;
    }

    struct api_limits lim;
    fuzz_limits(&lim);
    struct api_params p;
    struct http_problem err = {0};
    memset(&p, 0, sizeof(p));
    if (params_from_query(&p, e->groups, e->default_scaler, args, n_args, &lim, &err) != 0) {
        if ((unsigned)err.code >= HTTP_E_COUNT || http_error_status(err.code) >= 500 ||
            memchr(err.detail, '\0', sizeof(err.detail)) == NULL)
            abort();
    } else {
        if (p.data.n < 2 || p.data.n > lim.max_n)
            abort();
        if ((e->groups & PG_TRAIN) && (p.n_lr < 1 || p.n_lr > lim.max_lrs || p.epochs < 1 ||
                                       p.epochs > lim.max_epochs || p.history > lim.max_history))
            abort();
        if ((e->groups & PG_GRID) &&
            (p.b_steps < 2 || p.w_steps < 2 || p.b_steps > lim.max_grid_points / p.w_steps))
            abort();
        if (compute)
            fuzz_run_endpoint(e, &p);
        params_free(&p);
    }
    free(query);
    return 0;
}
