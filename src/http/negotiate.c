#include "http/negotiate.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Optional white space (RFC 9110 section 5.6.3): spaces and tabs. */
static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

double http_accept_q(const char *accept, const char *type, const char *subtype)
{
    double best_q = 0.0;
    int best_spec = 0;
    const char *p = accept;
    while (*p) {
        while (is_ows(*p) || *p == ',')
            p++;
        const char *end = p + strcspn(p, ",");
        const char *semi = memchr(p, ';', (size_t)(end - p));
        const char *range_end = semi ? semi : end;
        while (range_end > p && is_ows(range_end[-1]))
            range_end--;
        const char *slash = memchr(p, '/', (size_t)(range_end - p));
        if (slash) {
            size_t tl = (size_t)(slash - p), sl = (size_t)(range_end - slash - 1);
            bool any_type = tl == 1 && *p == '*', any_sub = sl == 1 && slash[1] == '*';
            bool type_ok = any_type || (tl == strlen(type) && strncasecmp(p, type, tl) == 0);
            bool sub_ok =
                any_sub || (sl == strlen(subtype) && strncasecmp(slash + 1, subtype, sl) == 0);
            int spec = any_type ? 1 : any_sub ? 2 : 3;
            if (type_ok && sub_ok && spec > best_spec) {
                double q = 1.0;
                for (const char *a = semi; a && a < end;
                     a = memchr(a + 1, ';', (size_t)(end - a - 1))) {
                    const char *v = a + 1;
                    while (is_ows(*v))
                        v++;
                    if ((v[0] == 'q' || v[0] == 'Q') && v[1] == '=')
                        q = strtod(v + 2, NULL);
                }
                best_spec = spec;
                best_q = q;
            }
        }
        p = *end ? end + 1 : end;
    }
    return best_q;
}

bool http_accept_prefers_csv(const char *accept)
{
    return accept &&
           http_accept_q(accept, "text", "csv") > http_accept_q(accept, "application", "json");
}

bool http_accept_prefers_npz(const char *accept)
{
    if (!accept)
        return false;
    double q = http_accept_q(accept, "application", "x-npz");
    return q > http_accept_q(accept, "application", "json") &&
           q > http_accept_q(accept, "text", "csv");
}

bool http_accept_prefers_html(const char *accept)
{
    return accept &&
           http_accept_q(accept, "text", "html") > http_accept_q(accept, "application", "json");
}

/* The q value of a coding's parameters (";q=0.5"); 1 when absent. */
static double coding_q(const char *params, const char *end)
{
    for (const char *p = params; p && p < end; p = memchr(p + 1, ';', (size_t)(end - p - 1))) {
        const char *v = p + 1;
        while (v < end && (*v == ' ' || *v == '\t'))
            v++;
        if (end - v >= 2 && (v[0] == 'q' || v[0] == 'Q') && v[1] == '=')
            return strtod(v + 2, NULL);
    }
    return 1.0;
}

bool http_gzip_accepted(const char *accept_encoding)
{
    if (!accept_encoding)
        return false;
    double gzip_q = -1.0, star_q = -1.0;
    const char *p = accept_encoding;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        const char *end = p + strcspn(p, ",");
        const char *semi = memchr(p, ';', (size_t)(end - p));
        const char *name_end = semi ? semi : end;
        while (name_end > p && (name_end[-1] == ' ' || name_end[-1] == '\t'))
            name_end--;
        size_t n = (size_t)(name_end - p);
        double q = coding_q(semi, end);
        if ((n == 4 && strncasecmp(p, "gzip", 4) == 0) ||
            (n == 6 && strncasecmp(p, "x-gzip", 6) == 0))
            gzip_q = q;
        else if (n == 1 && *p == '*')
            star_q = q;
        p = end;
    }
    return gzip_q > 0.0 || (gzip_q < 0.0 && star_q > 0.0);
}

bool http_is_npz_media_type(const char *ct)
{
    if (!ct)
        return false;
    while (is_ows(*ct))
        ct++;
    size_t len = strcspn(ct, ";");
    while (len > 0 && is_ows(ct[len - 1]))
        len--;
    return len == 17 && strncasecmp(ct, "application/x-npz", 17) == 0;
}

bool http_is_json_media_type(const char *ct)
{
    if (!ct)
        return false;
    while (is_ows(*ct))
        ct++;
    size_t len = strcspn(ct, ";");
    while (len > 0 && is_ows(ct[len - 1]))
        len--;
    if (len == 16 && strncasecmp(ct, "application/json", 16) == 0)
        return true;
    return len > 17 && strncasecmp(ct, "application/", 12) == 0 &&
           strncasecmp(ct + len - 5, "+json", 5) == 0;
}
