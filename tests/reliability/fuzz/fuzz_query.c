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
    const struct api_endpoint *e = &api_endpoints[(data[0] & 0x7f) % FUZZ_N_ENDPOINTS];
    bool compute = data[0] & 0x80;
    /* A C string as MHD hands it over: a NUL byte ends the query. */
    char *query = malloc(size);
    if (!query)
        return 0;
    memcpy(query, data + 1, size - 1);
    query[size - 1] = '\0';

    struct api_query_arg args[MAX_ARGS];
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
        args[n_args++] = (struct api_query_arg){pair, eq};
        pair = next;
    }

    struct api_limits lim;
    fuzz_limits(&lim);
    struct api_params p;
    struct api_problem prob = {0};
    memset(&p, 0, sizeof(p));
    int rc = api_params_from_query(&p, e->bit, e->default_scaler, args, n_args, &lim, &prob);
    fuzz_check_parse(e, rc, &p, &prob, &lim, compute);
    free(query);
    return 0;
}
