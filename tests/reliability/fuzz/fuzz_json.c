/*
 * libFuzzer harness for the JSON body parser and validator: the input after its first byte is a
 * POST body, parsed for the endpoint that byte picks (jansson with JSON_REJECT_DUPLICATES, then
 * the same validation as a query). A body that validates is also computed and serialized.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_endpoints.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const struct api_endpoint *e = &api_endpoints[(data[0] & 0x7f) % FUZZ_N_ENDPOINTS];
    bool compute = data[0] & 0x80;
    /* A copy of exactly the body's bytes, so that ASan sees any read past its end. */
    size_t len = size - 1;
    char *body = malloc(len ? len : 1);
    if (!body)
        return 0;
    memcpy(body, data + 1, len);

    struct api_limits lim;
    fuzz_limits(&lim);
    struct api_params p;
    struct api_problem prob = {0};
    memset(&p, 0, sizeof(p));
    int rc = api_params_from_json(&p, e->bit, e->default_scaler, body, len, &lim, &prob);
    fuzz_check_parse(e, rc, &p, &prob, &lim, compute);
    free(body);
    return 0;
}
