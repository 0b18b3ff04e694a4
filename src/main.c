/*
 * gdlab's command line. Every option has an environment variable; a flag beats the variable,
 * which beats the default. Numbers are checked here, so that a bad value stops the server at
 * start-up with a message instead of surprising a client later.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gdlab/gdlab.h"
#include "http/server.h"
#include "ops/conn_limit.h"
#include "probe.h"

#ifndef GDLAB_SOURCE_WEB_ROOT
#define GDLAB_SOURCE_WEB_ROOT "web"
#endif
#ifndef GDLAB_SOURCE_DOCS_ROOT
#define GDLAB_SOURCE_DOCS_ROOT "openapi/node_modules/swagger-ui-dist"
#endif

enum option_kind { OPT_STRING, OPT_SIZE, OPT_SECONDS, OPT_FLAG };

struct option_row {
    const char *flag;
    const char *env;
    enum option_kind kind;
    const char *arg;
    const char *help;
    uint64_t min;
    uint64_t max;
    void *target; /* const char **, uint64_t *, double * (OPT_SECONDS) or bool * */
};

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* A data directory when none is given: the source tree's (web/, swagger-ui-dist) for a build tree,
 * else the installed share/gdlab/<name> next to the binary's bin/. */
static const char *default_root(const char *source, const char *name, char *buf, size_t cap)
{
    if (is_dir(source))
        return source;
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            snprintf(buf, cap, "%s/../share/gdlab/%s", exe, name);
            if (is_dir(buf))
                return buf;
        }
    }
    snprintf(buf, cap, "/usr/share/gdlab/%s", name);
    return buf;
}

static unsigned available_cpus(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
        return (unsigned)CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1;
}

/* A byte count or count: digits, optionally followed by k, m or g (powers of 1024). */
static int parse_size(const char *s, uint64_t *out)
{
    char *end;
    if (!*s || *s == '-' || *s == '+' || *s == ' ')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s)
        return -1;
    unsigned shift = 0;
    if (*end == 'k' || *end == 'K')
        shift = 10;
    else if (*end == 'm' || *end == 'M')
        shift = 20;
    else if (*end == 'g' || *end == 'G')
        shift = 30;
    if (shift) {
        end++;
        if (*end == 'i' && end[1] == 'B')
            end += 2;
        else if (*end == 'B')
            end++;
    }
    if (*end || v > (UINT64_MAX >> shift))
        return -1;
    *out = (uint64_t)v << shift;
    return 0;
}

static int set_option(const struct option_row *o, const char *value, const char *source)
{
    switch (o->kind) {
    case OPT_STRING:
        *(const char **)o->target = value;
        return 0;
    case OPT_FLAG:
        if (strcmp(value, "1") == 0 || strcmp(value, "true") == 0 || strcmp(value, "on") == 0)
            *(bool *)o->target = true;
        else if (strcmp(value, "0") == 0 || strcmp(value, "false") == 0 ||
                 strcmp(value, "off") == 0)
            *(bool *)o->target = false;
        else
            goto out_bad;
        return 0;
    case OPT_SIZE: {
        uint64_t v;
        if (parse_size(value, &v) != 0 || v < o->min || v > o->max)
            goto out_bad;
        *(uint64_t *)o->target = v;
        return 0;
    }
    case OPT_SECONDS: {
        char *end;
        errno = 0;
        double v = strtod(value, &end);
        /* decimal only: strtod would also take "inf", "nan" and hexadecimal */
        if (errno || end == value || *end || strpbrk(value, "iInNxX") ||
            !(v >= (double)o->min && v <= (double)o->max))
            goto out_bad;
        *(double *)o->target = v;
        return 0;
    }
    }
out_bad:
    if (o->kind == OPT_SIZE)
        fprintf(stderr, "gdlab: %s: '%s' must be an integer from %llu to %llu\n", source, value,
                (unsigned long long)o->min, (unsigned long long)o->max);
    else if (o->kind == OPT_SECONDS)
        fprintf(stderr, "gdlab: %s: '%s' must be a number of seconds from %llu to %llu\n", source,
                value, (unsigned long long)o->min, (unsigned long long)o->max);
    else
        fprintf(stderr, "gdlab: %s: '%s' must be on or off\n", source, value);
    return -1;
}

static void usage(FILE *f, const struct option_row *rows, size_t n)
{
    fprintf(f, "usage: gdlab [OPTION]...\n"
               "Serve gdlab's gradient-descent lab as an HTTP JSON API.\n\n");
    for (size_t i = 0; i < n; i++) {
        char left[64];
        snprintf(left, sizeof(left), "--%s%s%s", rows[i].flag, rows[i].arg ? " " : "",
                 rows[i].arg ? rows[i].arg : "");
        fprintf(f, "  %-26s %s [%s]\n", left, rows[i].help, rows[i].env);
    }
    probe_usage(f);
    fprintf(f, "  %-26s %s\n  %-26s %s\n", "--help", "show this help and exit", "--version",
            "show the version and exit");
}

int main(int argc, char **argv)
{
    char web_buf[PATH_MAX + 32], docs_buf[PATH_MAX + 32];
    const char *bind = "127.0.0.1", *cors = "*", *web_root = NULL, *docs_root = NULL;
    uint64_t port = 8080, threads = available_cpus(), grace = 30, cache = 64, timeout = 15,
             queue = 64;
    uint64_t nofile, mem; /* the default limit, from the machine */
    uint64_t max_connections = conn_limit_default(&nofile, &mem);
    char max_connections_help[256];
    conn_limit_help(max_connections_help, sizeof(max_connections_help), max_connections, nofile,
                    mem);
    double deadline = 10.0;
    bool access_log = true;
    const char *probe = NULL; /* --probe PATH: ask the running server instead of serving */
    struct api_limits lim;
    api_limits_default(&lim);
    uint64_t max_n = lim.max_n, max_grid = lim.max_grid_points, max_epochs = lim.max_epochs,
             max_history = lim.max_history, max_lrs = lim.max_lrs, max_runs = lim.max_runs,
             max_body = lim.max_body;

    const struct option_row rows[] = {
        {"bind", "GDLAB_BIND", OPT_STRING, "ADDR", "address to listen on (127.0.0.1)", 0, 0, &bind},
        {"port", "GDLAB_PORT", OPT_SIZE, "N", "TCP port, 0 for any free one (8080)", 0, 65535,
         &port},
        {"threads", "GDLAB_THREADS", OPT_SIZE, "N", "worker threads (the available CPUs)", 1, 1024,
         &threads},
        {"response-cache", "GDLAB_RESPONSE_CACHE", OPT_SIZE, "N",
         "small answers kept for repeated requests, 0 for none (64)", 0, 1u << 20, &cache},
        {"max-body", "GDLAB_MAX_BODY", OPT_SIZE, "BYTES", "largest POST body, e.g. 64M (64 MiB)", 1,
         SIZE_MAX, &max_body},
        {"cors-origin", "GDLAB_CORS_ORIGIN", OPT_STRING, "ORIGIN",
         "Access-Control-Allow-Origin for browser pages; off for none (*)", 0, 0, &cors},
        {"web-root", "GDLAB_WEB_ROOT", OPT_STRING, "DIR",
         "directory of the web front-end (the source tree's web/, or share/gdlab/web)", 0, 0,
         &web_root},
        {"docs-root", "GDLAB_DOCS_ROOT", OPT_STRING, "DIR",
         "swagger-ui-dist for /docs (openapi/node_modules/swagger-ui-dist, or share/gdlab/docs)", 0,
         0, &docs_root},
        {"max-n", "GDLAB_MAX_N", OPT_SIZE, "N", "most points in a dataset (1000000)", 2,
         SIZE_MAX / 64, &max_n},
        {"max-grid-points", "GDLAB_MAX_GRID_POINTS", OPT_SIZE, "N",
         "most b_steps * w_steps (4000000)", 4, SIZE_MAX / 64, &max_grid},
        {"max-epochs", "GDLAB_MAX_EPOCHS", OPT_SIZE, "N", "most epochs of one run (10000000)", 1,
         UINT64_C(1) << 52, &max_epochs},
        {"max-history", "GDLAB_MAX_HISTORY", OPT_SIZE, "N", "most history points per run (100000)",
         0, SIZE_MAX / 64, &max_history},
        {"max-lrs", "GDLAB_MAX_LRS", OPT_SIZE, "N", "most learning rates per request (16)", 1, 4096,
         &max_lrs},
        {"max-runs", "GDLAB_MAX_RUNS", OPT_SIZE, "N",
         "most runs (optimizers x learning rates) per request (16)", 1, 4096, &max_runs},
        {"shutdown-grace", "GDLAB_SHUTDOWN_GRACE", OPT_SIZE, "SECONDS",
         "time requests in flight get to finish on SIGINT/SIGTERM (30)", 0, 3600, &grace},
        {"timeout", "GDLAB_TIMEOUT", OPT_SIZE, "SECONDS",
         "idle or silent connections are closed after this long (15)", 1, 3600, &timeout},
        {"max-connections", "GDLAB_MAX_CONNECTIONS", OPT_SIZE, "N", max_connections_help, 1,
         1000000, &max_connections},
        {"queue", "GDLAB_QUEUE", OPT_SIZE, "N",
         "long requests that may wait for a compute thread; more get 503 (64)", 0, 1000000, &queue},
        {"deadline", "GDLAB_DEADLINE", OPT_SECONDS, "SECONDS",
         "a request still computing this long after it arrived gets 503; 0 for none (10)", 0, 86400,
         &deadline},
        {"access-log", "GDLAB_ACCESS_LOG", OPT_FLAG, "on|off",
         "one line per request on stderr (on)", 0, 0, &access_log},
    };
    const size_t n_rows = sizeof(rows) / sizeof(rows[0]);

    for (size_t i = 0; i < n_rows; i++) {
        const char *v = getenv(rows[i].env);
        if (v && *v && set_option(&rows[i], v, rows[i].env) != 0)
            return 2;
    }
    for (int a = 1; a < argc; a++) {
        const char *arg = argv[a];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            usage(stdout, rows, n_rows);
            return 0;
        }
        if (strcmp(arg, "--version") == 0) {
            printf("gdlab %s\n", GDLAB_VERSION);
            return 0;
        }
        int probe_arg = probe_take_arg(argc, argv, &a, &probe);
        if (probe_arg != 0) {
            if (probe_arg < 0)
                return 2;
            continue;
        }
        const struct option_row *o = NULL;
        const char *value = NULL;
        for (size_t i = 0; i < n_rows && arg[0] == '-' && arg[1] == '-'; i++) {
            size_t len = strlen(rows[i].flag);
            if (strncmp(arg + 2, rows[i].flag, len) == 0 &&
                (arg[2 + len] == '\0' || arg[2 + len] == '=')) {
                o = &rows[i];
                value = arg[2 + len] == '=' ? arg + 3 + len : NULL;
            }
        }
        if (!o) {
            fprintf(stderr, "gdlab: unknown option '%s'\n", arg);
            usage(stderr, rows, n_rows);
            return 2;
        }
        if (!value) {
            if (a + 1 >= argc) {
                fprintf(stderr, "gdlab: --%s needs a value (%s)\n", o->flag, o->arg);
                return 2;
            }
            value = argv[++a];
        }
        char source[64];
        snprintf(source, sizeof(source), "--%s", o->flag);
        if (set_option(o, value, source) != 0)
            return 2;
    }

    if (probe)
        return probe_run(bind, (uint16_t)port, probe);

    struct http_config cfg = {
        .bind = bind,
        .port = (uint16_t)port,
        .threads = (unsigned)threads,
        .cors_origin = cors && *cors && strcmp(cors, "off") != 0 ? cors : NULL,
        .web_root = web_root && *web_root
                        ? web_root
                        : default_root(GDLAB_SOURCE_WEB_ROOT, "web", web_buf, sizeof(web_buf)),
        .docs_root = docs_root && *docs_root
                         ? docs_root
                         : default_root(GDLAB_SOURCE_DOCS_ROOT, "docs", docs_buf, sizeof(docs_buf)),
        .access_log = access_log,
        .shutdown_grace = (unsigned)grace,
        .timeout = (unsigned)timeout,
        .max_connections = (unsigned)max_connections,
        .queue = (unsigned)queue,
        .deadline = deadline,
        .response_cache = (size_t)cache,
        .limits = {.max_n = (size_t)max_n,
                   .max_grid_points = (size_t)max_grid,
                   .max_epochs = max_epochs,
                   .max_history = (size_t)max_history,
                   .max_lrs = (size_t)max_lrs,
                   .max_runs = (size_t)max_runs,
                   .max_body = (size_t)max_body},
    };
    return http_server_run(&cfg);
}
