/*
 * tamwild check. It reads the log through the store one entry at a time,
 * so its memory does not grow with the log; the replay keeps the state
 * the log decides, which is what the database must equal.
 */
#include "check.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "money.h"
#include "rekey.h"
#include "replay.h"
#include "store.h"

typedef struct check_ctx {
	replay *r;
	FILE *out;
	char err[REPLAY_ERR_MAX];
	int failed;
	uint64_t applications;
} check_ctx;

/*
 * Feeds every entry to the replay, and each checkpoint after the entry
 * that completed it (one per transaction, the log's last entry always
 * among them). 0, 1 or -1.
 */
static int check_log(server *srv, check_ctx *c)
{
	uint8_t *buf = malloc(AUDIT_ENTRY_MAX);
	store_checkpoint row;
	checkpoint cp;
	uint64_t size, ncp = 0;
	size_t len;
	int rc = -1, found;

	if (buf == NULL || store_log_size(srv->st, &size) != 0)
		goto out;
	for (uint64_t seq = 0; seq < size; seq++) {
		if (store_log_entry(srv->st, seq, buf, AUDIT_ENTRY_MAX, &len)) {
			snprintf(c->err, sizeof(c->err),
				 "entry %llu is missing",
				 (unsigned long long)seq);
			rc = 1;
			goto out;
		}
		if (replay_entry(c->r, buf, len, c->err, sizeof(c->err)) != 0) {
			rc = 1;
			goto out;
		}
		found = store_checkpoint_at(srv->st, seq + 1, &row);
		if (found != 0 && found != STORE_NOT_FOUND)
			goto out;
		if (found == STORE_NOT_FOUND && seq + 1 == size) {
			snprintf(c->err, sizeof(c->err),
				 "entry %llu, the last, has no checkpoint",
				 (unsigned long long)seq);
			rc = 1;
			goto out;
		}
		if (found == STORE_NOT_FOUND)
			continue;
		cp.size = row.size;
		memcpy(cp.root, row.root, sizeof(cp.root));
		cp.time = row.time;
		memcpy(cp.sig, row.sig, sizeof(cp.sig));
		if (replay_checkpoint(c->r, &cp, c->err, sizeof(c->err)) != 0) {
			rc = 1;
			goto out;
		}
		ncp++;
	}
	fprintf(c->out, "log: %llu entries and their %llu checkpoints verify\n",
		(unsigned long long)size, (unsigned long long)ncp);
	rc = 0;
out:
	free(buf);
	return rc;
}

static int check_on_application(void *arg, const store_application *a)
{
	Tamwil__V1__ExportApplication m = TAMWIL__V1__EXPORT_APPLICATION__INIT;
	check_ctx *c = arg;

	m.reference = (char *)a->reference;
	m.state = (Tamwil__V1__ApplicationState)a->state;
	m.programme = (char *)a->programme;
	m.region = (char *)a->region;
	m.currency = (char *)a->currency;
	m.requested = a->requested;
	m.granted = a->granted;
	m.disbursed = a->disbursed;
	m.repaid = a->repaid;
	c->applications++;
	if (replay_check_application(c->r, &m, c->err, sizeof(c->err)) != 0) {
		c->failed = 1;
		return 1;
	}
	return 0;
}

static int check_on_programme(void *arg, const store_programme *p)
{
	Tamwil__V1__ExportProgramme m = TAMWIL__V1__EXPORT_PROGRAMME__INIT;
	char env[MONEY_TEXT_MAX], gr[MONEY_TEXT_MAX], dis[MONEY_TEXT_MAX];
	check_ctx *c = arg;

	m.code = (char *)p->code;
	m.currency = (char *)p->currency;
	m.envelope = p->envelope;
	m.granted = p->granted;
	m.disbursed = p->disbursed;
	if (replay_check_programme(c->r, &m, c->err, sizeof(c->err)) != 0) {
		c->failed = 1;
		return 1;
	}
	money_format(p->envelope, p->currency, env, sizeof(env));
	money_format(p->granted, p->currency, gr, sizeof(gr));
	money_format(p->disbursed, p->currency, dis, sizeof(dis));
	fprintf(c->out,
		"programme %s: envelope %s, granted %s, disbursed %s, "
		"%llu beneficiaries\n",
		p->code, env, gr, dis, (unsigned long long)p->beneficiaries);
	return 0;
}

/* What the walk over the sealed identities has seen so far. */
typedef struct check_ids {
	check_ctx *c;
	const seal_ring *ring;
	uint64_t per_version[SEAL_VERSIONS_MAX];
	uint64_t total;
	int64_t last_id;
	int failed;
} check_ids;

/* Opens one identity under its key version and checks its blind index. */
static int check_on_identity(void *arg, const store_sealed *b)
{
	check_ids *w = arg;
	uint8_t plain[REKEY_SEALED_MAX];
	Tamwil__V1__Identity *id;
	int rc;

	w->last_id = b->id;
	rc = rekey_open_identity(w->ring, b, plain, &id, w->c->err,
				 sizeof(w->c->err));
	sodium_memzero(plain, sizeof(plain));
	if (rc != 0) {
		w->failed = 1;
		return 1;
	}
	tamwil__v1__identity__free_unpacked(id, NULL);
	w->per_version[b->key_version]++;
	w->total++;
	return 0;
}

/*
 * Opens every beneficiary's sealed identity under the at-rest key version
 * its row names. 0, 1 or -1.
 */
static int check_identities(server *srv, check_ctx *c)
{
	check_ids *w = calloc(1, sizeof(*w));
	uint64_t before;
	int rc = -1;

	if (w == NULL)
		return -1;
	w->c = c;
	w->ring = &srv->seal;
	do {
		before = w->total;
		if (store_beneficiaries_sealed(srv->st, -1, w->last_id, 1000,
					       check_on_identity, w) != 0)
			goto out;
		if (w->failed) {
			rc = 1;
			goto out;
		}
	} while (w->total > before);
	fprintf(c->out, "identities: %llu open under their at-rest keys",
		(unsigned long long)w->total);
	for (unsigned v = 0, first = 1; v < SEAL_VERSIONS_MAX; v++) {
		if (w->per_version[v] == 0)
			continue;
		fprintf(c->out, "%sversion %u: %llu", first ? " (" : ", ", v,
			(unsigned long long)w->per_version[v]);
		first = 0;
	}
	fprintf(c->out, "%s\n", w->total > 0 ? ")" : "");
	rc = 0;
out:
	free(w);
	return rc;
}

/* Compares the database's state with the replay's. 0, 1 or -1. */
static int check_tables(server *srv, check_ctx *c)
{
	store_filter f = {0};
	uint64_t total;
	int rc;

	f.limit = UINT32_MAX;
	rc = store_programmes(srv->st, check_on_programme, c);
	if (rc == 0)
		rc = store_applications(srv->st, &f, check_on_application, c,
					&total);
	if (c->failed)
		return 1;
	if (rc != 0)
		return -1;
	if (replay_finish(c->r, c->err, sizeof(c->err)) != 0)
		return 1;
	fprintf(c->out,
		"database: %llu applications and their programmes equal the "
		"log's replay\n",
		(unsigned long long)c->applications);
	return 0;
}

int check_state(server *srv, FILE *out)
{
	check_ctx c = {0};
	char msg[256];
	int rc;

	c.out = out;
	rc = store_integrity(srv->st, msg, sizeof(msg));
	if (rc != 0) {
		fprintf(out, "database: integrity check failed: %s\n",
			rc < 0 ? store_errmsg(srv->st) : msg);
		return rc < 0 ? -1 : 1;
	}
	fprintf(out, "database: integrity check ok\n");
	c.r = replay_new(srv->key.sign_pk);
	if (c.r == NULL)
		return -1;
	rc = check_log(srv, &c);
	if (rc == 0)
		rc = check_tables(srv, &c);
	if (rc == 0)
		rc = check_identities(srv, &c);
	if (rc > 0)
		fprintf(out, "FAILED: %s\n", c.err);
	else if (rc < 0)
		fprintf(out, "FAILED: %s\n", store_errmsg(srv->st));
	else
		fprintf(out, "all checks passed\n");
	replay_free(c.r);
	return rc;
}
