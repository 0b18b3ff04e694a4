#include "reply.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json_writer.h"

void reply_init(struct reply *r)
{
    memset(r, 0, sizeof(*r));
    r->fd = -1;
}

void reply_discard(struct reply *r)
{
    free(r->body);
    r->body = NULL;
    if (r->fd >= 0)
        close(r->fd);
    r->fd = -1;
}

void reply_problem(struct reply *r, const struct http_problem *p, const char *instance)
{
    char type[64];
    struct jw w;
    reply_discard(r);
    r->status = (unsigned)http_error_status(p->code);
    r->content_type = "application/problem+json";
    r->cache_control = "no-store";
    r->retry_after = r->status == 503 ? 1 : 0;
    jw_init(&w, 512);
    jw_object_begin(&w);
    strcpy(type, "/problems/");
    strcat(type, http_error_slug(p->code));
    jw_key_string(&w, "type", type);
    jw_key_string(&w, "title", http_error_title(p->code));
    jw_key_uint(&w, "status", r->status);
    jw_key_string(&w, "detail", p->detail);
    jw_key_string(&w, "instance", instance);
    if (p->param[0])
        jw_key_string(&w, "param", p->param);
    jw_object_end(&w);
    r->body = jw_take(&w, &r->len);
    if (!r->body) {
        r->len = 0;
        r->status = 503;
        r->retry_after = 1;
    }
}
