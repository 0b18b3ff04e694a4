/*
 * A fixed pool of threads around one FIFO queue, each thread at the pool's nice value.
 */
#define _GNU_SOURCE
#include "ops/offload.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

struct offload {
    pthread_mutex_t lock;
    pthread_cond_t ready;
    struct offload_job *head, *tail;
    bool stopping;
    int nice;
    unsigned n_threads;
    pthread_t *threads;
};

static void *worker(void *arg)
{
    struct offload *o = arg;
    /* per-thread on Linux: PRIO_PROCESS with a thread id sets that thread's nice value */
    if (o->nice)
        (void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), o->nice);
    for (;;) {
        pthread_mutex_lock(&o->lock);
        while (!o->head && !o->stopping)
            pthread_cond_wait(&o->ready, &o->lock);
        struct offload_job *job = o->head;
        if (job) {
            o->head = job->next;
            if (!o->head)
                o->tail = NULL;
        }
        pthread_mutex_unlock(&o->lock);
        if (!job)
            return NULL; /* stopping, and the queue is empty */
        job->run(job);
    }
}

struct offload *offload_new(unsigned threads, int nice)
{
    if (threads == 0)
        return NULL;
    struct offload *o = calloc(1, sizeof(*o));
    if (!o)
        return NULL;
    o->nice = nice;
    o->threads = calloc(threads, sizeof(*o->threads));
    if (!o->threads)
        goto out_free_pool;
    if (pthread_mutex_init(&o->lock, NULL) != 0)
        goto out_free_threads;
    if (pthread_cond_init(&o->ready, NULL) != 0)
        goto out_destroy_lock;
    for (; o->n_threads < threads; o->n_threads++)
        if (pthread_create(&o->threads[o->n_threads], NULL, worker, o) != 0)
            break;
    if (o->n_threads == 0) {
        pthread_cond_destroy(&o->ready);
        goto out_destroy_lock;
    }
    return o;

out_destroy_lock:
    pthread_mutex_destroy(&o->lock);
out_free_threads:
    free(o->threads);
out_free_pool:
    free(o);
    return NULL;
}

bool offload_submit(struct offload *o, struct offload_job *job)
{
    pthread_mutex_lock(&o->lock);
    bool ok = !o->stopping;
    if (ok) {
        job->next = NULL;
        if (o->tail)
            o->tail->next = job;
        else
            o->head = job;
        o->tail = job;
        pthread_cond_signal(&o->ready);
    }
    pthread_mutex_unlock(&o->lock);
    return ok;
}

void offload_free(struct offload *o)
{
    if (!o)
        return;
    pthread_mutex_lock(&o->lock);
    o->stopping = true;
    pthread_cond_broadcast(&o->ready);
    pthread_mutex_unlock(&o->lock);
    for (unsigned i = 0; i < o->n_threads; i++)
        pthread_join(o->threads[i], NULL);
    pthread_cond_destroy(&o->ready);
    pthread_mutex_destroy(&o->lock);
    free(o->threads);
    free(o);
}
