#include "http/docs.h"

#include <string.h>

/* Relative URLs, so that the page also works behind a proxy that mounts gdlab under a prefix. */
const char http_docs_page_html[] =
    "<!doctype html>\n"
    "<html lang=\"en\">\n"
    "<head>\n"
    "<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<title>gdlab API</title>\n"
    "<link rel=\"stylesheet\" href=\"docs/swagger-ui.css\">\n"
    "<link rel=\"icon\" type=\"image/png\" href=\"docs/favicon-32x32.png\">\n"
    "</head>\n"
    "<body>\n"
    "<div id=\"swagger-ui\"></div>\n"
    "<script src=\"docs/swagger-ui-bundle.js\"></script>\n"
    "<script>\n"
    "window.ui = SwaggerUIBundle({\n"
    "  url: \"openapi.json\",\n"
    "  dom_id: \"#swagger-ui\",\n"
    "  deepLinking: true,\n"
    "  validatorUrl: null,\n"
    "  presets: [SwaggerUIBundle.presets.apis],\n"
    "  layout: \"BaseLayout\"\n"
    "});\n"
    "</script>\n"
    "</body>\n"
    "</html>\n";
const size_t http_docs_page_html_len = sizeof(http_docs_page_html) - 1;

static const char *const assets[] = {
    "swagger-ui.css",    "swagger-ui-bundle.js", "favicon-16x16.png",
    "favicon-32x32.png", "oauth2-redirect.html", "oauth2-redirect.js",
};

bool http_docs_asset_allowed(const char *name)
{
    for (size_t i = 0; i < sizeof(assets) / sizeof(assets[0]); i++)
        if (strcmp(name, assets[i]) == 0)
            return true;
    return false;
}
