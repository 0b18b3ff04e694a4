/*
 * A request path is accepted only when each of its segments is a plain name (no "", ".", "..",
 * no leading dot, no control bytes); the joined path is then resolved with realpath, which
 * follows symlinks, and must still lie under the root's own realpath.
 */
#define _GNU_SOURCE
#include "http/static_files.h"

#include "http/etag.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int http_static_root_open(struct http_static_root *root, const char *dir)
{
    root->path = realpath(dir, NULL);
    struct stat st;
    root->usable = root->path && stat(root->path, &st) == 0 && S_ISDIR(st.st_mode);
    return root->usable ? 0 : -1;
}

void http_static_root_close(struct http_static_root *root)
{
    free(root->path);
    root->path = NULL;
    root->usable = false;
}

static const struct {
    const char *ext;
    const char *type;
} mime_table[] = {
    {"html", "text/html; charset=utf-8"},
    {"htm", "text/html; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"json", "application/json"},
    {"map", "application/json"},
    {"webmanifest", "application/manifest+json"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"webp", "image/webp"},
    {"avif", "image/avif"},
    {"ico", "image/x-icon"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"ttf", "font/ttf"},
    {"otf", "font/otf"},
    {"txt", "text/plain; charset=utf-8"},
    {"md", "text/markdown; charset=utf-8"},
    {"csv", "text/csv; charset=utf-8"},
    {"xml", "application/xml"},
    {"yaml", "application/yaml"},
    {"yml", "application/yaml"},
    {"wasm", "application/wasm"},
    {"pdf", "application/pdf"},
};

const char *http_static_mime_type(const char *name)
{
    const char *slash = strrchr(name, '/');
    const char *dot = strrchr(slash ? slash : name, '.');
    if (dot)
        for (size_t i = 0; i < sizeof(mime_table) / sizeof(mime_table[0]); i++)
            if (strcasecmp(dot + 1, mime_table[i].ext) == 0)
                return mime_table[i].type;
    return "application/octet-stream";
}

bool http_static_path_safe(const char *rel)
{
    if (rel[0] == '\0' || rel[0] == '/')
        return false;
    const char *seg = rel;
    for (;;) {
        const char *end = strchr(seg, '/');
        size_t len = end ? (size_t)(end - seg) : strlen(seg);
        if (len == 0 || seg[0] == '.')
            return false;
        for (size_t i = 0; i < len; i++) {
            unsigned char c = (unsigned char)seg[i];
            if (c < 0x20 || c == 0x7f || c == '\\')
                return false;
        }
        if (!end)
            return true;
        seg = end + 1;
    }
}

static void not_found(struct http_reply *r, const char *instance, const char *why)
{
    http_reply_problem_text(r, API_PROBLEM_NOT_FOUND, why, instance);
}

void http_static_serve(const struct http_static_root *root, const char *relpath,
                       const char *if_none_match, const char *cache_control, const char *instance,
                       struct http_reply *r)
{
    char joined[PATH_MAX];
    if (!root->usable) {
        not_found(r, instance, "this server has no web root (see --web-root)");
        return;
    }
    if (!http_static_path_safe(relpath)) {
        not_found(r, instance, "no such file");
        return;
    }
    int n = snprintf(joined, sizeof(joined), "%s/%s", root->path, relpath);
    if (n < 0 || (size_t)n >= sizeof(joined)) {
        not_found(r, instance, "no such file");
        return;
    }
    char *real = realpath(joined, NULL);
    size_t root_len = strlen(root->path);
    if (!real || strncmp(real, root->path, root_len) != 0 || real[root_len] != '/') {
        free(real);
        not_found(r, instance, "no such file");
        return;
    }
    int fd = open(real, O_RDONLY | O_CLOEXEC);
    free(real);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        not_found(r, instance, "no such file");
        return;
    }
    http_reply_discard(r);
    snprintf(r->etag, sizeof(r->etag), "\"%llx-%llx\"", (unsigned long long)st.st_size,
             (unsigned long long)st.st_mtim.tv_sec * 1000000000ull +
                 (unsigned long long)st.st_mtim.tv_nsec);
    struct tm tm;
    gmtime_r(&st.st_mtim.tv_sec, &tm);
    strftime(r->last_modified, sizeof(r->last_modified), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    r->cache_control = cache_control;
    r->content_type = http_static_mime_type(relpath);
    if (http_etag_matches(if_none_match, r->etag)) {
        close(fd);
        http_reply_not_modified(r);
        return;
    }
    r->status = 200;
    r->fd = fd;
    r->fd_size = (uint64_t)st.st_size;
}
