/* The OpenAPI document, embedded at build time by openapi/embed.py. */
#ifndef GDLAB_HTTP_OPENAPI_DOC_H
#define GDLAB_HTTP_OPENAPI_DOC_H

#include <stddef.h>

/* openapi/openapi.yaml as written. */
extern const unsigned char http_openapi_yaml[];
extern const size_t http_openapi_yaml_len;
/* The same document as compact JSON (YAML anchors expanded). */
extern const unsigned char http_openapi_json[];
extern const size_t http_openapi_json_len;
/* Strong ETags of the two, from their bytes. */
extern const char http_openapi_yaml_etag[];
extern const char http_openapi_json_etag[];

#endif
