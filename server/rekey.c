/*
 * tamwild rekey. The daemon must hold a version before any row is sealed
 * under it, or its readers would meet identities they cannot open: the
 * command writes the version to rest.keys, signals the daemon (SIGUSR1)
 * and waits for the daemon's note in the lock file saying it holds it.
 * Rows are then sealed anew a batch at a time, each batch one short
 * write transaction, so the daemon's writer waits at most one batch and
 * its readers (WAL) never wait.
 */
#include "rekey.h"

#include <errno.h>
#include <signal.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "keyfile.h"
#include "pbuf.h"
#include "seal.h"
#include "state.h"

/* Rows sealed anew per transaction: the longest a daemon write waits. */
#define REKEY_BATCH 256
/* How long a running daemon has to take a new version. */
#define REKEY_WAIT_MS 30000
#define REKEY_POLL_MS 50
/* How often the daemon is signalled again while it has not answered. */
#define REKEY_SIGNAL_EVERY_MS 2000
/* How often progress is reported. */
#define REKEY_REPORT_MS 1000

/* A row of the batch being sealed anew, copied out of the store. */
typedef struct rekey_row {
	store_sealed b;
	uint8_t identity[REKEY_SEALED_MAX];
} rekey_row;

typedef struct rekey_batch {
	rekey_row *rows; /* REKEY_BATCH of them */
	size_t n;
	int too_long; /* a row's identity did not fit */
	int64_t too_long_id;
} rekey_batch;

int rekey_open_identity(const seal_ring *ring, const store_sealed *b,
			uint8_t plain[REKEY_SEALED_MAX],
			Tamwil__V1__Identity **id, char *err, size_t err_len)
{
	const seal_keys *k = seal_ring_get(ring, b->key_version);
	uint8_t index[SEAL_INDEX_LEN];
	size_t n = b->identity_len;

	*id = NULL;
	if (k == NULL) {
		snprintf(err, err_len,
			 "beneficiary %lld is sealed under at-rest key version "
			 "%u, which is not held",
			 (long long)b->id, b->key_version);
		return -1;
	}
	if (n <= SEAL_REST_OVERHEAD || n > REKEY_SEALED_MAX ||
	    seal_rest_open(k, b->identity, n, b->blind_index, SEAL_INDEX_LEN,
			   plain) != 0) {
		snprintf(err, err_len,
			 "beneficiary %lld: the identity does not open under "
			 "at-rest key version %u",
			 (long long)b->id, b->key_version);
		return -1;
	}
	*id = (Tamwil__V1__Identity *)pbuf_unpack(
	    &tamwil__v1__identity__descriptor, n - SEAL_REST_OVERHEAD, plain,
	    PBUF_BUDGET_DEFAULT);
	if (*id == NULL) {
		snprintf(err, err_len,
			 "beneficiary %lld: the identity is not a well-formed "
			 "Identity",
			 (long long)b->id);
		return -1;
	}
	if (seal_index(k, (*id)->national_id, index) != 0 ||
	    sodium_memcmp(index, b->blind_index, SEAL_INDEX_LEN) != 0) {
		snprintf(err, err_len,
			 "beneficiary %lld: the blind index is not its "
			 "national ID's under at-rest key version %u",
			 (long long)b->id, b->key_version);
		tamwil__v1__identity__free_unpacked(*id, NULL);
		*id = NULL;
		return -1;
	}
	return 0;
}

/* Sleeps ms milliseconds. */
static void rekey_sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Milliseconds of a monotonic clock. */
static int64_t rekey_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Adds a fresh version to dir's rest.keys and to srv's ring. 0 or 1
 * after saying why not.
 */
static int rekey_add_version(server *srv, const char *dir, FILE *out)
{
	char path[4096], err[STATE_ERR_MAX];
	keyfile_rest *r = sodium_malloc(sizeof(*r));
	int rc = 1, e;

	if (r == NULL) {
		fprintf(out, "out of memory for the at-rest keys\n");
		return 1;
	}
	if (state_path(path, sizeof(path), dir, STATE_REST_KEYS) != 0) {
		fprintf(out, "state folder path too long\n");
		goto out;
	}
	e = keyfile_read_rest(path, r);
	if (e == KEYFILE_ERR_IO && errno == ENOENT)
		r->count = 0;
	else if (e != 0) {
		fprintf(out, "%s: %s\n", path, keyfile_strerror(e));
		goto out;
	}
	if (r->count + 1 != seal_ring_count(&srv->seal)) {
		fprintf(out, "%s changed while it was read; run again\n", path);
		goto out;
	}
	if (keyfile_rest_add(r) != 0) {
		fprintf(out,
			"%s holds %d versions already, the most there may be\n",
			path, KEYFILE_REST_MAX);
		goto out;
	}
	e = keyfile_write_rest(path, r);
	if (e != 0) {
		fprintf(out, "%s: %s%s%s\n", path, keyfile_strerror(e),
			e == KEYFILE_ERR_IO ? ": " : "",
			e == KEYFILE_ERR_IO ? strerror(errno) : "");
		goto out;
	}
	if (state_load_rest(dir, srv->data.sk, &srv->seal, err, sizeof(err)) !=
	    0) {
		fprintf(out, "%s\n", err);
		goto out;
	}
	fprintf(out, "rekey: at-rest key version %u added to %s\n", r->count,
		path);
	rc = 0;
out:
	sodium_free(r);
	return rc;
}

/*
 * Returns once no daemon serves dir, or the one serving it holds
 * versions at-rest key versions: signals it (SIGUSR1) and waits for its
 * note. 0, or 1 after saying why not.
 */
static int rekey_wait_daemon(const char *dir, unsigned versions, FILE *out)
{
	char err[STATE_ERR_MAX];
	int64_t deadline = rekey_now_ms() + REKEY_WAIT_MS, signalled = 0;
	long pid = 0, last_pid = 0;
	unsigned held = 0;
	int fd, rc;

	for (;;) {
		rc = state_lock(dir, &fd, err, sizeof(err));
		if (rc == 0) {
			/* A daemon started later reads rest.keys as it is. */
			close(fd);
			fprintf(out,
				"rekey: tamwild is not running on %s; "
				"going on alone\n",
				dir);
			return 0;
		}
		if (rc < 0) {
			fprintf(out, "%s\n", err);
			return 1;
		}
		rc = state_read_versions(dir, &pid, &held, err, sizeof(err));
		if (rc < 0) {
			fprintf(out, "%s\n", err);
			return 1;
		}
		if (rc == 0 && held >= versions) {
			fprintf(out,
				"rekey: tamwild (pid %ld) holds at-rest key "
				"version %u\n",
				pid, versions - 1);
			return 0;
		}
		if (rekey_now_ms() >= deadline)
			break;
		/*
		 * A daemon with no note yet is starting and reads the file
		 * itself; one that has noted is signalled, and again now and
		 * then in case it was reloading already.
		 */
		if (rc == 0 && (pid != last_pid || rekey_now_ms() - signalled >=
						       REKEY_SIGNAL_EVERY_MS)) {
			if (kill((pid_t)pid, SIGUSR1) != 0 && errno != ESRCH) {
				fprintf(out,
					"cannot signal tamwild (pid %ld): %s\n",
					pid, strerror(errno));
				return 1;
			}
			last_pid = pid;
			signalled = rekey_now_ms();
		}
		rekey_sleep_ms(REKEY_POLL_MS);
	}
	fprintf(out,
		"tamwild (pid %ld) did not take at-rest key version %u within "
		"%d s (its log says why); no identity was sealed under it\n",
		pid, versions - 1, REKEY_WAIT_MS / 1000);
	return 1;
}

/* Copies a row of the store's walk into the batch. */
static int rekey_on_row(void *arg, const store_sealed *b)
{
	rekey_batch *batch = arg;
	rekey_row *r = &batch->rows[batch->n];

	if (b->identity_len > sizeof(r->identity)) {
		batch->too_long = 1;
		batch->too_long_id = b->id;
		return 1;
	}
	r->b = *b;
	memcpy(r->identity, b->identity, b->identity_len);
	r->b.identity = r->identity;
	batch->n++;
	return 0;
}

/*
 * Seals row anew under version newest, unless the store says it changed
 * meanwhile. 0, or -1 with why in err.
 */
static int rekey_row_seal(server *srv, const rekey_row *row, unsigned newest,
			  char *err, size_t err_len)
{
	const seal_keys *k = seal_ring_get(&srv->seal, newest);
	uint8_t plain[REKEY_SEALED_MAX], sealed[REKEY_SEALED_MAX];
	uint8_t index[SEAL_INDEX_LEN];
	Tamwil__V1__Identity *id = NULL;
	size_t len = row->b.identity_len - SEAL_REST_OVERHEAD;
	int rc = -1;

	if (rekey_open_identity(&srv->seal, &row->b, plain, &id, err,
				err_len) != 0)
		goto out;
	/* The very bytes that were sealed, sealed again. */
	if (seal_index(k, id->national_id, index) != 0 ||
	    seal_rest(k, plain, len, index, sizeof(index), sealed) != 0) {
		snprintf(err, err_len,
			 "beneficiary %lld: the identity could not be sealed "
			 "under at-rest key version %u",
			 (long long)row->b.id, newest);
		goto out;
	}
	rc = store_beneficiary_reseal(srv->st, row->b.id, row->b.key_version,
				      index, sealed, row->b.identity_len,
				      newest);
	if (rc == STORE_NOT_FOUND)
		rc = 0;
	if (rc != 0)
		snprintf(err, err_len, "%s", store_errmsg(srv->st));
out:
	sodium_memzero(plain, sizeof(plain));
	if (id != NULL)
		tamwil__v1__identity__free_unpacked(id, NULL);
	return rc == 0 ? 0 : -1;
}

/*
 * Seals anew, in one transaction, the next batch of rows below newest
 * after *after_id. 0 with *done rows (0: none were left), or -1 with why
 * in err (the batch rolled back).
 */
static int rekey_batch_run(server *srv, rekey_batch *batch, unsigned newest,
			   int64_t *after_id, size_t *done, char *err,
			   size_t err_len)
{
	batch->n = 0;
	batch->too_long = 0;
	if (store_begin(srv->st) != 0) {
		snprintf(err, err_len, "%s", store_errmsg(srv->st));
		return -1;
	}
	if (store_beneficiaries_sealed(srv->st, (long)newest, *after_id,
				       REKEY_BATCH, rekey_on_row, batch) != 0) {
		snprintf(err, err_len, "%s", store_errmsg(srv->st));
		goto fail;
	}
	if (batch->too_long) {
		snprintf(err, err_len,
			 "beneficiary %lld: the sealed identity is longer "
			 "than %d bytes",
			 (long long)batch->too_long_id, REKEY_SEALED_MAX);
		goto fail;
	}
	for (size_t i = 0; i < batch->n; i++)
		if (rekey_row_seal(srv, &batch->rows[i], newest, err,
				   err_len) != 0)
			goto fail;
	if (store_commit(srv->st) != 0) {
		snprintf(err, err_len, "%s", store_errmsg(srv->st));
		goto fail;
	}
	if (batch->n > 0)
		*after_id = batch->rows[batch->n - 1].b.id;
	*done = batch->n;
	return 0;
fail:
	store_rollback(srv->st);
	return -1;
}

/*
 * Counts the identities under a version below newest into *left and
 * those under newest into *current. 0, or -1 after saying why on out.
 */
static int rekey_count(server *srv, unsigned newest, uint64_t *left,
		       uint64_t *current, FILE *out)
{
	uint64_t counts[SEAL_VERSIONS_MAX];
	long max;

	if (store_key_versions(srv->st, counts, SEAL_VERSIONS_MAX, &max) != 0) {
		fprintf(out, "%s\n", store_errmsg(srv->st));
		return -1;
	}
	*left = 0;
	for (unsigned v = 0; v < newest; v++)
		*left += counts[v];
	*current = counts[newest];
	return 0;
}

/* Seals every row below newest anew, reporting progress. 0 or 1. */
static int rekey_rows(server *srv, unsigned newest, uint64_t total, FILE *out)
{
	char err[STATE_ERR_MAX];
	rekey_batch batch = {0};
	int64_t after_id = 0, reported = rekey_now_ms();
	uint64_t sealed = 0;
	size_t done;
	int rc = 1;

	batch.rows = calloc(REKEY_BATCH, sizeof(*batch.rows));
	if (batch.rows == NULL) {
		fprintf(out, "out of memory\n");
		return 1;
	}
	do {
		if (rekey_batch_run(srv, &batch, newest, &after_id, &done, err,
				    sizeof(err)) != 0) {
			fprintf(out,
				"rekey stopped after %llu identities: %s; run "
				"it again to carry on\n",
				(unsigned long long)sealed, err);
			goto out;
		}
		sealed += done;
		if (done > 0 && rekey_now_ms() - reported >= REKEY_REPORT_MS) {
			fprintf(out, "rekey: %llu of %llu identities sealed\n",
				(unsigned long long)sealed,
				(unsigned long long)total);
			fflush(out);
			reported = rekey_now_ms();
		}
	} while (done > 0);
	rc = 0;
out:
	sodium_memzero(batch.rows, REKEY_BATCH * sizeof(*batch.rows));
	free(batch.rows);
	return rc;
}

int rekey_run(server *srv, const char *dir, FILE *out)
{
	char err[STATE_ERR_MAX];
	uint64_t left, current;
	unsigned newest = seal_ring_count(&srv->seal) - 1;
	int lock, rc = 1;

	if (state_lock_rekey(dir, &lock, err, sizeof(err)) != 0) {
		fprintf(out, "%s\n", err);
		return 1;
	}
	if (rekey_count(srv, newest, &left, &current, out) != 0)
		goto out;
	if (left > 0) {
		fprintf(out,
			"rekey: %llu identities are left under an older "
			"version: carrying on to version %u\n",
			(unsigned long long)left, newest);
	} else {
		if (rekey_add_version(srv, dir, out) != 0)
			goto out;
		newest++;
	}
	fflush(out);
	if (rekey_wait_daemon(dir, newest + 1, out) != 0)
		goto out;
	if (rekey_count(srv, newest, &left, &current, out) != 0)
		goto out;
	fprintf(out, "rekey: %llu identities to seal under version %u\n",
		(unsigned long long)left, newest);
	fflush(out);
	if (rekey_rows(srv, newest, left, out) != 0)
		goto out;
	if (rekey_count(srv, newest, &left, &current, out) != 0)
		goto out;
	if (left > 0) {
		fprintf(out,
			"rekey: %llu identities are still under an older "
			"version; run it again\n",
			(unsigned long long)left);
		goto out;
	}
	fprintf(out,
		"rekey done: all %llu identities are sealed under at-rest key "
		"version %u\n",
		(unsigned long long)current, newest);
	rc = 0;
out:
	close(lock);
	return rc;
}

/*
 * Checks that version may be retired from srv's keys: not 0, not the
 * newest, one there is, and no identity under it. 0, or 1 after saying
 * why not.
 */
static int rekey_retirable(server *srv, unsigned version, FILE *out)
{
	unsigned newest = seal_ring_count(&srv->seal) - 1;
	uint64_t counts[SEAL_VERSIONS_MAX];
	long max;

	if (version == 0) {
		fprintf(out, "version 0 is derived from the data key and "
			     "cannot be retired\n");
		return 1;
	}
	if (version > newest) {
		fprintf(out,
			"there is no at-rest key version %u (the newest is "
			"%u)\n",
			version, newest);
		return 1;
	}
	if (version == newest) {
		fprintf(out,
			"version %u is the newest: run tamwild rekey first, "
			"then retire it\n",
			version);
		return 1;
	}
	if (store_key_versions(srv->st, counts, SEAL_VERSIONS_MAX, &max) != 0) {
		fprintf(out, "%s\n", store_errmsg(srv->st));
		return 1;
	}
	if (counts[version] > 0) {
		fprintf(out,
			"%llu identities are still sealed under version %u: "
			"run tamwild rekey first\n",
			(unsigned long long)counts[version], version);
		return 1;
	}
	return 0;
}

int rekey_retire(server *srv, const char *dir, unsigned version, FILE *out)
{
	char path[4096], err[STATE_ERR_MAX];
	keyfile_rest *r = NULL;
	int lock, rc = 1, e;

	if (state_lock_rekey(dir, &lock, err, sizeof(err)) != 0) {
		fprintf(out, "%s\n", err);
		return 1;
	}
	if (rekey_retirable(srv, version, out) != 0)
		goto out;
	r = sodium_malloc(sizeof(*r));
	if (r == NULL ||
	    state_path(path, sizeof(path), dir, STATE_REST_KEYS) != 0) {
		fprintf(out, "out of memory, or state folder path too long\n");
		goto out;
	}
	e = keyfile_read_rest(path, r);
	if (e != 0 || r->count + 1 != seal_ring_count(&srv->seal)) {
		fprintf(out, "%s: %s\n", path,
			e != 0 ? keyfile_strerror(e)
			       : "changed while it was read; run again");
		goto out;
	}
	if (r->retired[version - 1]) {
		fprintf(out, "version %u is retired already\n", version);
		goto out;
	}
	sodium_memzero(r->key[version - 1], sizeof(r->key[version - 1]));
	r->retired[version - 1] = 1;
	e = keyfile_write_rest(path, r);
	if (e != 0) {
		fprintf(out, "%s: %s\n", path, keyfile_strerror(e));
		goto out;
	}
	fprintf(out,
		"rekey: at-rest key version %u retired from %s; a backup with "
		"identities under it no longer restores\n",
		version, path);
	rc = 0;
out:
	if (r != NULL)
		sodium_free(r);
	close(lock);
	return rc;
}
