/*
 * The HTTP ceiling: libmicrohttpd with gdlab's threading set-up (epoll, an internal thread pool of
 * one thread per available CPU) answering every request with a fixed 16-byte JSON body. Whatever
 * gdlab's /health does beyond this is the cost of gdlab itself.
 *
 * The response is queued on the second call of the access handler: libmicrohttpd 0.9.75 closes the
 * connection after a response queued on the first (headers-only) call, which would cost keep-alive.
 *
 *     bare_server [--port N] [--pool-kib K] [--limit N] [--body-bytes N]
 *
 * binds 127.0.0.1 (port 0 picks a free one, printed on stdout). --pool-kib sets libmicrohttpd's
 * per-connection memory pool (MHD_OPTION_CONNECTION_MEMORY_LIMIT; default its own 32 KiB), which
 * it zeroes after every request: gdlab uses 16, and bench/run measures the bare server as
 * libmicrohttpd ships, so that its ceiling is the library's, not one tuned like gdlab. --limit sets
 * MHD_OPTION_CONNECTION_LIMIT (default 4096), which libmicrohttpd divides among its threads: the
 * connection-limit bench compares gdlab with the bare library at the same limit. --body-bytes N
 * answers a fixed JSON body of N bytes instead (a string of digits), built once: the ceiling for a
 * large answer such as /surface's, which costs the library only the copy to the socket.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <microhttpd.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

static const char body[] = "{\"status\":\"ok\"}\n";

/* One shared, never-freed response: the body is static and the headers never change. */
static struct MHD_Response *ok_response;

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *connection, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_data_size, void **con_cls)
{
    (void)cls;
    (void)url;
    (void)method;
    (void)version;
    (void)upload_data;
    static int first_call_marker;
    if (*con_cls == NULL) {
        *con_cls = &first_call_marker;
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        *upload_data_size = 0; /* a body is read and ignored */
        return MHD_YES;
    }
    return MHD_queue_response(connection, MHD_HTTP_OK, ok_response);
}

/* The CPUs this process may run on, as gdlab counts them for its thread pool. */
static unsigned available_cpus(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
        return (unsigned)CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1u;
}

int main(int argc, char **argv)
{
    unsigned long port = 0, pool_kib = 0, limit = 4096, body_bytes = 0;
    static const struct {
        const char *flag;
        unsigned long max;
    } flags[] = {{"--port", 65535u},
                 {"--pool-kib", 1024u * 1024u},
                 {"--limit", 1000000u},
                 {"--body-bytes", 1024ul * 1024u * 1024u}};
    enum { n_flags = sizeof(flags) / sizeof(flags[0]) };
    unsigned long *targets[] = {&port, &pool_kib, &limit, &body_bytes};
    for (int i = 1; i < argc; i++) {
        size_t f = 0;
        while (f < n_flags && strcmp(argv[i], flags[f].flag) != 0)
            f++;
        if (f == n_flags || i + 1 >= argc) {
            fprintf(stderr,
                    "usage: bare_server [--port N] [--pool-kib K] [--limit N] [--body-bytes N]\n");
            return 2;
        }
        char *end;
        errno = 0;
        unsigned long v = strtoul(argv[++i], &end, 10);
        if (errno || *end || v > flags[f].max || (f == 2 && v == 0) || (f == 3 && v > 0 && v < 4)) {
            fprintf(stderr, "bare_server: bad %s '%s'\n", flags[f].flag, argv[i]);
            return 2;
        }
        *targets[f] = v;
    }

    char *big = NULL;
    if (body_bytes >= 4) { /* "ddd...d\n": a JSON string as long as asked */
        big = malloc(body_bytes);
        if (!big) {
            fprintf(stderr, "bare_server: no memory for a %lu-byte body\n", body_bytes);
            return 1;
        }
        memset(big, '7', body_bytes);
        big[0] = '"';
        big[body_bytes - 2] = '"';
        big[body_bytes - 1] = '\n';
    }
    ok_response = big ? MHD_create_response_from_buffer(body_bytes, big, MHD_RESPMEM_PERSISTENT)
                      : MHD_create_response_from_buffer(sizeof(body) - 1, (void *)body,
                                                        MHD_RESPMEM_PERSISTENT);
    if (!ok_response || MHD_add_response_header(ok_response, MHD_HTTP_HEADER_CONTENT_TYPE,
                                                "application/json") == MHD_NO) {
        fprintf(stderr, "bare_server: cannot create the response\n");
        return 1;
    }

    struct sockaddr_in addr;
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    unsigned threads = available_cpus();
    struct MHD_Daemon *daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL, answer,
        NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_THREAD_POOL_SIZE, threads,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)limit, MHD_OPTION_CONNECTION_TIMEOUT, 30u,
        pool_kib ? MHD_OPTION_CONNECTION_MEMORY_LIMIT : MHD_OPTION_END, (size_t)pool_kib * 1024u,
        MHD_OPTION_END);
    if (!daemon) {
        fprintf(stderr, "bare_server: cannot listen on 127.0.0.1:%lu\n", port);
        return 1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
    printf("listening on 127.0.0.1:%u with %u threads\n", info ? info->port : 0u, threads);
    fflush(stdout);

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    while (!stop)
        pause();

    MHD_stop_daemon(daemon);
    MHD_destroy_response(ok_response);
    free(big);
    return 0;
}
