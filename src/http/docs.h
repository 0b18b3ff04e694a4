/* The API explorer at /docs: Swagger UI from the swagger-ui-dist package, pointed at
 * /openapi.json, and the OpenAPI document embedded at build time (openapi/embed.py). */
#ifndef GDLAB_HTTP_DOCS_H
#define GDLAB_HTTP_DOCS_H

#include <stdbool.h>
#include <stddef.h>

/* The explorer's page: loads only its own assets from /docs/ and the document from
 * /openapi.json, and turns off the online validator badge, so no request leaves this server. */
extern const char http_docs_page_html[];
extern const size_t http_docs_page_html_len;

/* True for the swagger-ui-dist files /docs/<name> serves; everything else there is 404. */
bool http_docs_asset_allowed(const char *name);

#endif
