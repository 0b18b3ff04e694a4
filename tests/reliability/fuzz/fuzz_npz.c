/*
 * libFuzzer harness for the .npz body reader and validator: the input after its first byte is an
 * application/x-npz POST body (x.npy and y.npy), parsed for the endpoint that byte picks with no
 * query string, then validated like any inline data. A body that validates is also computed and
 * serialized, as JSON or (every other time) as npz.
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
    int rc = api_params_from_npz(&p, e->bit, e->default_scaler, NULL, 0, body, len, &lim, &prob);
    if (rc == 0 && (data[0] & 1))
        p.format = API_FORMAT_NPZ;
    fuzz_check_parse(e, rc, &p, &prob, &lim, compute);
    free(body);
    return 0;
}
