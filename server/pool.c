/*
 * Workers and the writer. One mutex guards the four queues (work and
 * answer for the workers, write for the writer, done for the loop) and the
 * writer's counters; jobs move between them whole, so a job is only ever
 * touched by the thread that took it off a queue. The loop is woken by
 * event_active(), which libevent makes safe across threads once
 * evthread_use_pthreads() has run.
 */
#include "pool.h"

#include <event2/event.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "store.h"

#define POOL_WORKERS_MAX 64
/*
 * A batch of at most this many operations, with nothing else waiting for
 * the writer, is answered by the writer itself: waking a worker for it
 * would cost more than its receipts.
 */
#define POOL_SELF_ANSWER_MAX 2

/* A refused handshake waiting to be recorded. */
struct pool_event {
	STAILQ_ENTRY(pool_event) link;
	int64_t time, principal_id;
	char peer[96];
	char kind[32];
	char reason[STORE_NAME_MAX];
};

STAILQ_HEAD(pool_jobs, pool_job);

struct pool_worker {
	struct pool *pool;
	pthread_t thread;
	store *rd; /* this worker's read-only connection */
	int started;
};

struct pool {
	server *srv;
	pool_done_fn deliver;
	struct event *wake; /* activated when done gets a job */

	/* Everything below is guarded by mu. */
	pthread_mutex_t mu;
	pthread_cond_t work_cv;	 /* work or answer has a job, or writer_done */
	pthread_cond_t write_cv; /* write or events has some, or stopping */
	/*
	 * answer: operations whose batch is durable (or lost), to be answered
	 * with their receipts by the workers, before any new work.
	 */
	struct pool_jobs work, answer, write, done;
	STAILQ_HEAD(, pool_event) events;
	int stopping;	 /* no new work will come: drain, then stop */
	int busy;	 /* workers inside dispatch_begin() */
	int writer_done; /* the writer has committed its last batch */
	pool_stats stats;

	pthread_t writer;
	int writer_started;
	int nworkers;
	struct pool_worker workers[POOL_WORKERS_MAX];
};

/* Hands a job back to the loop. */
static void pool_finish(struct pool *p, pool_job *j)
{
	pthread_mutex_lock(&p->mu);
	STAILQ_INSERT_TAIL(&p->done, j, link);
	pthread_mutex_unlock(&p->mu);
	event_active(p->wake, EV_READ, 0);
}

/* Answers n committed (or lost) jobs through rd and hands them back. */
static void pool_answer(struct pool *p, store *rd, pool_job **jobs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		dispatch_finish(p->srv, rd, &jobs[i]->d);
		dispatch_job_clear(&jobs[i]->d);
		pool_finish(p, jobs[i]);
	}
}

/*
 * Reads the handshake message of j (see pool_job). Returns 1 when j is
 * done (message 2 written, or the handshake refused), 0 when message 3's
 * ClientHello is to be dispatched.
 */
static int pool_handshake(pool_job *j)
{
	dispatch_job *d = &j->d;
	uint8_t hello[256], *plain;
	size_t hello_len, len;

	d->status = DISPATCH_CLOSE;
	if (!d->hello) {
		/* Message 1 carries no payload worth keeping. */
		if (channel_handshake_read(j->noise, d->in, d->in_len, d->out,
					   d->out_cap, &len) != 0) {
			d->why = "bad handshake message 1 (decryption failed: "
				 "the client may hold another server key)";
			return 1;
		}
		if (dispatch_server_hello(hello, sizeof(hello), &hello_len) !=
			0 ||
		    channel_handshake_write(j->noise, hello, hello_len, d->out,
					    d->out_cap, &d->out_len) != 0) {
			d->why = "cannot write handshake message 2";
			return 1;
		}
		d->status = DISPATCH_ANSWER;
		return 1;
	}
	plain = malloc(d->in_len > 0 ? d->in_len : 1);
	if (plain == NULL) {
		d->why = "out of memory";
		return 1;
	}
	if (channel_handshake_read(j->noise, d->in, d->in_len, plain, d->in_len,
				   &len) != 0) {
		free(plain);
		d->why = "bad handshake message 3 (decryption failed)";
		return 1;
	}
	if (channel_remote_static(j->noise, d->peer_key) != 0) {
		free(plain);
		d->why = "no static key after message 3";
		return 1;
	}
	free((uint8_t *)d->in);
	d->in = plain;
	d->in_len = len;
	return 0;
}

/*
 * A worker: answers committed operations first (the receipt is read
 * through its own connection, which sees the batch once COMMIT returned),
 * then parses and prepares new requests. It stops once the writer is
 * done and both of its queues are empty.
 */
static void *pool_worker_main(void *arg)
{
	struct pool_worker *w = arg;
	struct pool *p = w->pool;
	pool_job *j;

	for (;;) {
		pthread_mutex_lock(&p->mu);
		while (STAILQ_EMPTY(&p->answer) && STAILQ_EMPTY(&p->work) &&
		       !p->writer_done)
			pthread_cond_wait(&p->work_cv, &p->mu);
		if ((j = STAILQ_FIRST(&p->answer)) != NULL) {
			STAILQ_REMOVE_HEAD(&p->answer, link);
			pthread_mutex_unlock(&p->mu);
			pool_answer(p, w->rd, &j, 1);
			continue;
		}
		if ((j = STAILQ_FIRST(&p->work)) != NULL) {
			STAILQ_REMOVE_HEAD(&p->work, link);
			p->busy++;
		}
		pthread_mutex_unlock(&p->mu);
		if (j == NULL)
			return NULL; /* the writer is done, nothing left */
		if (j->noise != NULL && pool_handshake(j)) {
			pool_finish(p, j);
			j = NULL;
		} else if (dispatch_begin(p->srv, w->rd, &j->d) !=
			   DISPATCH_WRITE) {
			dispatch_job_clear(&j->d);
			pool_finish(p, j);
			j = NULL;
		}
		pthread_mutex_lock(&p->mu);
		if (j != NULL)
			STAILQ_INSERT_TAIL(&p->write, j, link);
		p->busy--;
		/* The writer may be waiting for the last job to stop. */
		if (j != NULL || p->stopping)
			pthread_cond_signal(&p->write_cv);
		pthread_mutex_unlock(&p->mu);
	}
}

/* Records the queued security events in one transaction; best effort. */
static void pool_write_events(struct pool *p, struct pool_event *e)
{
	store *st = p->srv->st;
	int ok = store_begin(st) == 0;

	for (struct pool_event *next; e != NULL; e = next) {
		next = STAILQ_NEXT(e, link);
		if (ok &&
		    store_security_event(st, e->time, e->principal_id, e->peer,
					 e->kind, e->reason) != 0)
			ok = 0;
		free(e);
	}
	if (ok && store_commit(st) == 0)
		return;
	log_error("security events not recorded: %s", store_errmsg(st));
	store_rollback(st);
}

/*
 * Takes the next batch off the write queue: every job waiting, up to
 * POOL_BATCH_MAX of them and POOL_BATCH_BYTES_MAX bytes of requests. The
 * caller holds mu. Returns the number taken into v.
 */
static size_t pool_take_batch(struct pool *p, pool_job **v)
{
	size_t n = 0, bytes = 0;
	pool_job *j;

	while (n < POOL_BATCH_MAX && (j = STAILQ_FIRST(&p->write)) != NULL) {
		if (n > 0 && bytes + j->d.in_len > POOL_BATCH_BYTES_MAX)
			break;
		bytes += j->d.in_len;
		STAILQ_REMOVE_HEAD(&p->write, link);
		v[n++] = j;
	}
	return n;
}

/*
 * 1 when the writer may stop: told to, and no job is queued for the
 * workers or inside one, so nothing more can reach the write queue. The
 * caller holds mu.
 */
static int pool_writer_may_stop(const struct pool *p)
{
	return p->stopping && STAILQ_EMPTY(&p->work) && p->busy == 0;
}

/*
 * 1 when the writer may answer its batch of n itself: a small one, and no
 * operation or event waits for it. The caller holds mu.
 */
static int pool_writer_idle(const struct pool *p, size_t n)
{
	return n <= POOL_SELF_ANSWER_MAX && STAILQ_EMPTY(&p->write) &&
	       STAILQ_EMPTY(&p->events);
}

/*
 * The writer: no timer, no waiting for company. It commits as soon as it
 * has work; what arrives during a commit forms the next batch, so batches
 * grow exactly when the disk is the bottleneck.
 */
static void *pool_writer_main(void *arg)
{
	struct pool *p = arg;
	pool_job *jobs[POOL_BATCH_MAX];
	ops_pending *ops[POOL_BATCH_MAX];
	struct pool_event *events;
	size_t n;
	int rc;

	for (;;) {
		pthread_mutex_lock(&p->mu);
		while (STAILQ_EMPTY(&p->write) && STAILQ_EMPTY(&p->events) &&
		       !pool_writer_may_stop(p))
			pthread_cond_wait(&p->write_cv, &p->mu);
		events = STAILQ_FIRST(&p->events);
		STAILQ_INIT(&p->events);
		n = pool_take_batch(p, jobs);
		if (events == NULL && n == 0) {
			/* Stopping, and no worker can queue anything more. */
			p->writer_done = 1;
			pthread_cond_broadcast(&p->work_cv);
			pthread_mutex_unlock(&p->mu);
			return NULL;
		}
		pthread_mutex_unlock(&p->mu);
		if (events != NULL)
			pool_write_events(p, events);
		if (n == 0)
			continue;
		for (size_t i = 0; i < n; i++)
			ops[i] = &jobs[i]->d.op;
		rc = ops_apply_batch(p->srv, ops, n);
		log_debug("batch of %zu operations %s", n,
			  rc == 0 ? "committed" : "lost");
		/*
		 * Only now, with the batch durable, are answers built: by the
		 * workers, so that receipts cost the writer nothing, unless
		 * the writer has nothing better to do.
		 */
		pthread_mutex_lock(&p->mu);
		p->stats.batches++;
		p->stats.operations += n;
		if (n > p->stats.largest)
			p->stats.largest = n;
		if (rc != 0)
			p->stats.lost++;
		if (pool_writer_idle(p, n)) {
			pthread_mutex_unlock(&p->mu);
			pool_answer(p, p->srv->st, jobs, n);
			continue;
		}
		for (size_t i = 0; i < n; i++) {
			STAILQ_INSERT_TAIL(&p->answer, jobs[i], link);
			pthread_cond_signal(&p->work_cv);
		}
		pthread_mutex_unlock(&p->mu);
	}
}

/* Loop thread: delivers every job that is done. */
static void pool_on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct pool *p = arg;
	struct pool_jobs ready;
	pool_job *j;

	(void)fd;
	(void)what;
	pthread_mutex_lock(&p->mu);
	STAILQ_INIT(&ready);
	STAILQ_CONCAT(&ready, &p->done);
	pthread_mutex_unlock(&p->mu);
	while ((j = STAILQ_FIRST(&ready)) != NULL) {
		STAILQ_REMOVE_HEAD(&ready, link);
		p->deliver(p->srv, j);
	}
}

/* The number of workers: the setting, or one per online core. */
static int pool_size(const server *srv)
{
	long n = srv->cfg.workers;

	if (n <= 0)
		n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		n = 1;
	return n > POOL_WORKERS_MAX ? POOL_WORKERS_MAX : (int)n;
}

/*
 * Names a thread for ps, top -H and the benchmark, which reads each
 * thread's CPU time by name. A name is a convenience: failing to set one
 * is logged and otherwise ignored.
 */
static void pool_name(pthread_t t, const char *name)
{
	if (pthread_setname_np(t, name) != 0)
		log_debug("cannot name the thread %s", name);
}

/* Frees what pool_start() made, the threads being stopped or never run. */
static void pool_free(struct pool *p)
{
	for (int i = 0; i < p->nworkers; i++)
		store_close(p->workers[i].rd);
	if (p->wake != NULL)
		event_free(p->wake);
	pthread_cond_destroy(&p->work_cv);
	pthread_cond_destroy(&p->write_cv);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

int pool_start(server *srv, const char *db_path, pool_done_fn done)
{
	char err[300];
	struct pool *p = calloc(1, sizeof(*p));

	if (p == NULL) {
		log_error("cannot start the workers: out of memory");
		return -1;
	}
	p->srv = srv;
	p->deliver = done;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work_cv, NULL);
	pthread_cond_init(&p->write_cv, NULL);
	STAILQ_INIT(&p->work);
	STAILQ_INIT(&p->answer);
	STAILQ_INIT(&p->write);
	STAILQ_INIT(&p->done);
	STAILQ_INIT(&p->events);
	p->nworkers = pool_size(srv);
	p->wake = event_new(srv->base, -1, 0, pool_on_wake, p);
	if (p->wake == NULL) {
		log_error("cannot start the workers: no event");
		pool_free(p);
		return -1;
	}
	for (int i = 0; i < p->nworkers; i++) {
		p->workers[i].pool = p;
		if (store_open_reader(db_path, &p->workers[i].rd, err,
				      sizeof(err)) != 0) {
			log_error("cannot open a read connection: %s", err);
			pool_free(p);
			return -1;
		}
	}
	srv->pool = p;
	for (int i = 0; i < p->nworkers; i++) {
		if (pthread_create(&p->workers[i].thread, NULL,
				   pool_worker_main, &p->workers[i]) != 0)
			goto fail;
		p->workers[i].started = 1;
		pool_name(p->workers[i].thread, POOL_WORKER_NAME);
	}
	if (pthread_create(&p->writer, NULL, pool_writer_main, p) != 0)
		goto fail;
	p->writer_started = 1;
	pool_name(p->writer, POOL_WRITER_NAME);
	log_info("%d workers and one writer started", p->nworkers);
	return 0;
fail:
	log_error("cannot start a thread");
	pool_stop(srv);
	return -1;
}

void pool_submit(server *srv, pool_job *j)
{
	struct pool *p = srv->pool;

	pthread_mutex_lock(&p->mu);
	STAILQ_INSERT_TAIL(&p->work, j, link);
	pthread_cond_signal(&p->work_cv);
	pthread_mutex_unlock(&p->mu);
}

void pool_security_event(server *srv, int64_t principal_id, const char *peer,
			 const char *kind, const char *reason)
{
	struct pool *p = srv->pool;
	struct pool_event *e = calloc(1, sizeof(*e));

	if (e == NULL) {
		log_error("security event lost: out of memory");
		return;
	}
	e->time = (int64_t)time(NULL);
	e->principal_id = principal_id;
	snprintf(e->peer, sizeof(e->peer), "%s", peer);
	snprintf(e->kind, sizeof(e->kind), "%s", kind);
	snprintf(e->reason, sizeof(e->reason), "%s", reason);
	pthread_mutex_lock(&p->mu);
	STAILQ_INSERT_TAIL(&p->events, e, link);
	pthread_cond_signal(&p->write_cv);
	pthread_mutex_unlock(&p->mu);
}

void pool_stats_get(server *srv, pool_stats *out)
{
	struct pool *p = srv->pool;

	pthread_mutex_lock(&p->mu);
	*out = p->stats;
	pthread_mutex_unlock(&p->mu);
}

void pool_stop(server *srv)
{
	struct pool *p = srv->pool;
	pool_job *j;

	if (p == NULL)
		return;
	/*
	 * The workers pass what they finish on to the writer, the writer
	 * stops once they can pass nothing more, and they stop once they
	 * have answered its last batch.
	 */
	pthread_mutex_lock(&p->mu);
	p->stopping = 1;
	if (!p->writer_started)
		p->writer_done = 1;
	pthread_cond_broadcast(&p->work_cv);
	pthread_cond_signal(&p->write_cv);
	pthread_mutex_unlock(&p->mu);
	if (p->writer_started)
		pthread_join(p->writer, NULL);
	for (int i = 0; i < p->nworkers; i++) {
		if (p->workers[i].started)
			pthread_join(p->workers[i].thread, NULL);
	}
	log_info("group commit: %llu operations in %llu batches (largest "
		 "%llu, %llu lost)",
		 (unsigned long long)p->stats.operations,
		 (unsigned long long)p->stats.batches,
		 (unsigned long long)p->stats.largest,
		 (unsigned long long)p->stats.lost);
	/* Threads that never started leave their jobs on the queues. */
	STAILQ_FOREACH(j, &p->work, link)
	j->d.status = DISPATCH_CLOSE;
	STAILQ_FOREACH(j, &p->write, link)
	{
		dispatch_job_clear(&j->d);
		j->d.status = DISPATCH_CLOSE;
	}
	/* Durable or lost all the same: answered through srv->st. */
	STAILQ_FOREACH(j, &p->answer, link)
	{
		dispatch_finish(srv, srv->st, &j->d);
		dispatch_job_clear(&j->d);
	}
	STAILQ_CONCAT(&p->done, &p->work);
	STAILQ_CONCAT(&p->done, &p->write);
	STAILQ_CONCAT(&p->done, &p->answer);
	while ((j = STAILQ_FIRST(&p->done)) != NULL) {
		STAILQ_REMOVE_HEAD(&p->done, link);
		p->deliver(srv, j);
	}
	while (!STAILQ_EMPTY(&p->events)) {
		struct pool_event *e = STAILQ_FIRST(&p->events);
		STAILQ_REMOVE_HEAD(&p->events, link);
		free(e);
	}
	srv->pool = NULL;
	pool_free(p);
}
