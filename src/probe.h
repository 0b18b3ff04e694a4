/*
 * `gdlab --probe PATH`: a health check that needs nothing but the gdlab binary. It asks the server
 * listening at --bind/--port for PATH over one HTTP/1.1 connection, so that a container image
 * without a shell or curl can still run its HEALTHCHECK, compose health check or Kubernetes exec
 * probe.
 */
#ifndef GDLAB_PROBE_H
#define GDLAB_PROBE_H

#include <stdint.h>
#include <stdio.h>

/* Whole-request budget of a probe: connect, send and the status line, in milliseconds. */
#define PROBE_TIMEOUT_MS 2000

/* Takes `--probe PATH` or `--probe=PATH` at argv[*a] into *path (advancing *a past a separate
 * value): 1 if taken, 0 if argv[*a] is another option, -1 (message printed) if PATH is missing. */
int probe_take_arg(int argc, char **argv, int *a, const char **path);

/* Writes --probe's line of the usage text to f. */
void probe_usage(FILE *f);

/* GET path from the server at bind:port (a wildcard bind is asked on loopback); the exit status:
 * 0 on a 2xx answer, 1 on any other answer, refusal or timeout, 2 on a malformed path. */
int probe_run(const char *bind, uint16_t port, const char *path);

#endif
