/* The access log: one line per request on a file descriptor (stderr), written in batches. */
#ifndef GDLAB_OPS_ACCESS_LOG_H
#define GDLAB_OPS_ACCESS_LOG_H

#include <stddef.h>

struct access_log;

/* A log writing to fd; NULL when out of memory or its flusher thread cannot start. */
struct access_log *access_log_new(int fd);

/* Append one line (with its newline). Safe from any thread; written within LOG_FLUSH_MS. */
void access_log_line(struct access_log *log, const char *line, size_t n);

/* Write what is buffered, stop the flusher and release the log; NULL is fine. */
void access_log_free(struct access_log *log);

#endif
