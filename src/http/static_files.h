/* Files of the web front-end, served from one root directory without escaping it. */
#ifndef GDLAB_HTTP_STATIC_FILES_H
#define GDLAB_HTTP_STATIC_FILES_H

#include <stdbool.h>

#include "http/reply.h"

/* The canonical (realpath) web root; usable is false when the directory does not exist. */
struct http_static_root {
    char *path;
    bool usable;
};

/* Resolve dir once at start-up; a missing directory only makes every file 404. */
int http_static_root_open(struct http_static_root *root, const char *dir);
void http_static_root_close(struct http_static_root *root);

/* Answer GET of relpath under the root into r: 200 with the file, 304 when if_none_match
 * matches its ETag, or a 404 problem for anything missing, hidden, outside the root (.., absolute
 * paths, symlinks leading out, control characters) or not a regular file. */
void http_static_serve(const struct http_static_root *root, const char *relpath,
                       const char *if_none_match, const char *cache_control, const char *instance,
                       struct http_reply *r);

/* True when every segment of a relative path is a plain, visible name: no "", ".", "..", no
 * leading dot, no control bytes or backslashes, not absolute. */
bool http_static_path_safe(const char *relpath);

/* The MIME type for a file name, by extension; application/octet-stream when unknown. */
const char *http_static_mime_type(const char *name);

#endif
