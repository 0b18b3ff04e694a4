/* A few threads for long requests, so that libmicrohttpd's own threads, each of which serves many
 * connections, stay free for the short ones. */
#ifndef GDLAB_OPS_OFFLOAD_H
#define GDLAB_OPS_OFFLOAD_H

#include <stdbool.h>

/* One unit of work, embedded in whatever it works on; run is called once on a pool thread. */
struct offload_job {
    void (*run)(struct offload_job *job);
    struct offload_job *next;
};

struct offload;

/* Start a pool of threads at a nice value (0: the process's own); NULL when threads is 0 or
 * they cannot be started. */
struct offload *offload_new(unsigned threads, int nice);

/* Queue a job; false when the pool is stopping (the job is not run). */
bool offload_submit(struct offload *o, struct offload_job *job);

/* Stop the pool: jobs already queued still run, then the threads are joined. NULL is fine. */
void offload_free(struct offload *o);

#endif
