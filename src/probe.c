/*
 * `gdlab --probe PATH`. The request is written by hand rather than with a client library so that
 * the binary, and so the distroless image, carries nothing more; only the status line of the
 * answer is read. One deadline covers connecting, sending and reading, so that a server that
 * accepts but never answers still fails the probe in time.
 */
#define _GNU_SOURCE
#include "probe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PROBE_MAX_PATH 1024

int probe_take_arg(int argc, char **argv, int *a, const char **path)
{
    const char *arg = argv[*a];
    if (strncmp(arg, "--probe", 7) != 0 || (arg[7] != '\0' && arg[7] != '='))
        return 0;
    if (arg[7] == '=') {
        *path = arg + 8;
        return 1;
    }
    if (*a + 1 >= argc) {
        fprintf(stderr, "gdlab: --probe needs a value (PATH)\n");
        return -1;
    }
    *path = argv[++*a];
    return 1;
}

void probe_usage(FILE *f)
{
    fprintf(f, "  %-26s %s\n", "--probe PATH",
            "GET PATH from the server at --bind/--port, exit 0 on 2xx (a health check)");
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until fd is ready for events or the deadline passes: 0 when ready, -1 otherwise. */
static int wait_fd(int fd, short events, long deadline)
{
    for (;;) {
        long left = deadline - now_ms();
        if (left <= 0)
            return -1;
        struct pollfd p = {.fd = fd, .events = events};
        int n = poll(&p, 1, (int)left);
        if (n > 0)
            return 0;
        if (n < 0 && errno != EINTR)
            return -1;
    }
}

/* The address to ask: the bind address itself, or loopback for a wildcard bind. */
static int probe_address(const char *bind, uint16_t port, struct sockaddr_storage *ss,
                         socklen_t *len, char *host, size_t host_cap)
{
    memset(ss, 0, sizeof(*ss));
    struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, bind, &in4->sin_addr) == 1) {
        if (in4->sin_addr.s_addr == htonl(INADDR_ANY))
            in4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        in4->sin_family = AF_INET;
        in4->sin_port = htons(port);
        *len = sizeof(*in4);
        inet_ntop(AF_INET, &in4->sin_addr, host, (socklen_t)host_cap);
        return 0;
    }
    if (inet_pton(AF_INET6, bind, &in6->sin6_addr) == 1) {
        if (IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr))
            in6->sin6_addr = in6addr_loopback;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        *len = sizeof(*in6);
        host[0] = '[';
        inet_ntop(AF_INET6, &in6->sin6_addr, host + 1, (socklen_t)host_cap - 2);
        strcat(host, "]");
        return 0;
    }
    return -1;
}

/* A path fit for a request line: absolute, printable, no spaces. */
static bool path_ok(const char *path)
{
    size_t n = strlen(path);
    if (n == 0 || n > PROBE_MAX_PATH || path[0] != '/')
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)path[i] <= ' ' || (unsigned char)path[i] >= 0x7f)
            return false;
    return true;
}

static int fail(const char *path, const char *why)
{
    fprintf(stderr, "gdlab --probe %s: %s\n", path, why);
    return 1;
}

int probe_run(const char *bind, uint16_t port, const char *path)
{
    if (!path_ok(path)) {
        fprintf(stderr,
                "gdlab: --probe: '%s' must be an absolute path of at most %d printable "
                "characters without spaces\n",
                path, PROBE_MAX_PATH);
        return 2;
    }
    struct sockaddr_storage ss;
    socklen_t ss_len;
    char host[INET6_ADDRSTRLEN + 2];
    if (probe_address(bind, port, &ss, &ss_len, host, sizeof(host)) != 0) {
        fprintf(stderr, "gdlab: --probe: --bind '%s' is not an IPv4 or IPv6 address\n", bind);
        return 2;
    }
    long deadline = now_ms() + PROBE_TIMEOUT_MS;
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return fail(path, strerror(errno));

    int rc = 1;
    const char *why = "timed out";
    if (connect(fd, (struct sockaddr *)&ss, ss_len) != 0) {
        if (errno != EINPROGRESS) {
            why = strerror(errno);
            goto out_close;
        }
        if (wait_fd(fd, POLLOUT, deadline) != 0)
            goto out_close;
        int err = 0;
        socklen_t err_len = sizeof(err);
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &err_len) != 0 || err != 0) {
            why = strerror(err ? err : errno);
            goto out_close;
        }
    }

    char req[PROBE_MAX_PATH + 128];
    int req_len = snprintf(req, sizeof(req),
                           "GET %s HTTP/1.1\r\nHost: %s:%u\r\nUser-Agent: gdlab-probe\r\n"
                           "Connection: close\r\n\r\n",
                           path, host, (unsigned)port);
    for (int sent = 0; sent < req_len;) {
        if (wait_fd(fd, POLLOUT, deadline) != 0)
            goto out_close;
        ssize_t n = send(fd, req + sent, (size_t)(req_len - sent), MSG_NOSIGNAL);
        if (n < 0 && errno != EAGAIN && errno != EINTR) {
            why = strerror(errno);
            goto out_close;
        }
        if (n > 0)
            sent += (int)n;
    }

    /* "HTTP/1.1 200 OK\r\n": the status line is all that is needed. */
    char line[64];
    size_t got = 0;
    while (got < sizeof(line) - 1 && !memchr(line, '\n', got)) {
        if (wait_fd(fd, POLLIN, deadline) != 0)
            goto out_close;
        ssize_t n = recv(fd, line + got, sizeof(line) - 1 - got, 0);
        if (n == 0)
            break;
        if (n < 0 && errno != EAGAIN && errno != EINTR) {
            why = strerror(errno);
            goto out_close;
        }
        if (n > 0)
            got += (size_t)n;
    }
    line[got] = '\0';
    line[strcspn(line, "\r\n")] = '\0';
    why = got ? line : "connection closed without an answer";
    if (strncmp(line, "HTTP/1.", 7) == 0 && line[8] == ' ' && line[9] == '2' && line[10] >= '0' &&
        line[10] <= '9' && line[11] >= '0' && line[11] <= '9' &&
        (line[12] == ' ' || line[12] == '\0'))
        rc = 0;

out_close:
    close(fd);
    if (rc != 0)
        return fail(path, why);
    return 0;
}
