#include "http/reply.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "encode/gzip.h"

void http_reply_init(struct http_reply *r)
{
    memset(r, 0, sizeof(*r));
    r->fd = -1;
}

void http_reply_discard(struct http_reply *r)
{
    free(r->body);
    r->body = NULL;
    r->len = 0;
    if (r->fd >= 0)
        close(r->fd);
    r->fd = -1;
}

void http_reply_problem(struct http_reply *r, const struct api_problem *prob, const char *instance)
{
    struct jw w;
    http_reply_discard(r);
    r->status = (unsigned)api_problem_status(prob->type);
    r->content_type = "application/problem+json";
    r->cache_control = "no-store";
    r->retry_after = r->status == 503 ? 1 : 0;
    jw_init(&w, 512);
    api_problem_write(&w, prob, instance);
    r->body = jw_take(&w, &r->len);
    if (!r->body) {
        r->len = 0;
        r->status = 503;
        r->retry_after = 1;
    }
}

void http_reply_problem_text(struct http_reply *r, enum api_problem_type type, const char *detail,
                             const char *instance)
{
    struct api_problem prob;
    api_problem_set(&prob, type, NULL, "%s", detail);
    http_reply_problem(r, &prob, instance);
}

void http_reply_json_take(struct http_reply *r, struct jw *w)
{
    r->body = jw_take(w, &r->len);
    if (!r->body) {
        http_reply_problem_text(r, API_PROBLEM_OUT_OF_MEMORY, "out of memory writing the response",
                                "");
        return;
    }
    r->status = 200;
    r->content_type = "application/json";
}

void http_reply_not_modified(struct http_reply *r)
{
    http_reply_discard(r);
    r->status = 304;
    r->content_type = NULL;
}

void http_reply_gzip(struct http_reply *r)
{
    if (r->gzip_decided || r->fd >= 0 || !r->body || r->len < GZIP_MIN_BYTES ||
        !gzip_compressible(r->content_type))
        return;
    r->gzip_decided = true;
    size_t len;
    char *z = gzip_compress(r->body, r->len, &len);
    if (!z)
        return;
    free(r->body);
    r->body = z;
    r->len = len;
    r->gzipped = true;
    if (r->etag[0])
        http_etag_add_suffix(r->etag, "-gz");
}
