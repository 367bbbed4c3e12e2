/*
 * shakedown — a small worker pool for the pipelines that run many
 * independent jobs (probe --targets): `jobs` threads take indices 0..n-1
 * from a shared counter. Threads are an OS facility, so they live here
 * (src/env may use OS headers); callers see only sdi_pool_run.
 */
#include <pthread.h>
#include <stdlib.h>
#include "internal.h"

typedef struct pool {
	pthread_mutex_t lock;
	size_t          next, n;
	sdi_pool_fn     fn;
	void           *ctx;
} pool;

static void *worker(void *arg)
{
	pool *p = arg;
	for (;;) {
		pthread_mutex_lock(&p->lock);
		size_t i = p->next < p->n ? p->next++ : p->n;
		pthread_mutex_unlock(&p->lock);
		if (i >= p->n)
			return NULL;
		p->fn(p->ctx, i);
	}
}

int sdi_pool_run(unsigned jobs, size_t n, sdi_pool_fn fn, void *ctx)
{
	if (!fn || jobs == 0)
		return SD_ERR_ARG;
	if (n == 0)
		return SD_OK;
	if (jobs > n)
		jobs = (unsigned)n;
	pool p = { .next = 0, .n = n, .fn = fn, .ctx = ctx };
	if (pthread_mutex_init(&p.lock, NULL) != 0)
		return SD_ERR_IO;
	pthread_t *th = calloc(jobs, sizeof *th);
	if (!th) {
		pthread_mutex_destroy(&p.lock);
		return SD_ERR_NOMEM;
	}
	unsigned started = 0;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	/* a probe keeps its buffers on the heap: 256 KiB is plenty, and 256
	 * workers stay far below the default 8 MiB each */
	pthread_attr_setstacksize(&attr, 512u * 1024u);
	for (; started < jobs; started++)
		if (pthread_create(&th[started], &attr, worker, &p) != 0)
			break;
	pthread_attr_destroy(&attr);
	int r = SD_OK;
	if (started == 0) {
		r = SD_ERR_IO; /* nothing ran: the caller may run the jobs itself */
	}
	for (unsigned i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	free(th);
	pthread_mutex_destroy(&p.lock);
	return r;
}

/* A lock for callers that must serialise a callback (one per process). */
static pthread_mutex_t cb_lock = PTHREAD_MUTEX_INITIALIZER;

void sdi_pool_lock(void)
{
	pthread_mutex_lock(&cb_lock);
}

void sdi_pool_unlock(void)
{
	pthread_mutex_unlock(&cb_lock);
}
