/*
 * libtamwil-client: the outbox, a small SQLite file of signed operations
 * waiting for head office and of what head office answered; see
 * tamwil-outbox.h. All of the outbox's SQL is here.
 */
#include "tamwil-outbox.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "client_private.h"
#include "client_text.h"
#include "money.h"
#include "pbuf.h"

/* Another process holding the file waits this long for it at most. */
#define OUTBOX_BUSY_MS 30000
#define LOCK_SUFFIX    ".lock"

struct tamwil_outbox {
	sqlite3 *db;
	char *path;
};

/* Version 1 of the file, created in one transaction. */
static const char schema[] =
    "BEGIN IMMEDIATE;"
    "CREATE TABLE IF NOT EXISTS entry ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " idempotency_key BLOB NOT NULL UNIQUE,"
    " operation BLOB NOT NULL,"
    " signature BLOB NOT NULL,"
    " kind TEXT NOT NULL,"
    " label TEXT NOT NULL,"
    " queued_at INTEGER NOT NULL,"
    " status INTEGER NOT NULL DEFAULT 0,"
    " done_at INTEGER NOT NULL DEFAULT 0,"
    " sequence INTEGER NOT NULL DEFAULT 0,"
    " reference TEXT NOT NULL DEFAULT '',"
    " state INTEGER NOT NULL DEFAULT 0,"
    " principal_id INTEGER NOT NULL DEFAULT 0,"
    " replayed INTEGER NOT NULL DEFAULT 0,"
    " receipt BLOB,"
    " code INTEGER NOT NULL DEFAULT 0,"
    " reason TEXT NOT NULL DEFAULT '');"
    "CREATE INDEX IF NOT EXISTS entry_status ON entry(status, id);"
    "CREATE TABLE IF NOT EXISTS learnt ("
    " topic TEXT NOT NULL,"
    " key TEXT NOT NULL,"
    " value TEXT NOT NULL,"
    " learnt_at INTEGER NOT NULL,"
    " PRIMARY KEY (topic, key));"
    "PRAGMA user_version = 1;"
    "COMMIT;";

#define ENTRY_COLUMNS                                                          \
	"id, idempotency_key, kind, label, queued_at, done_at, status, "       \
	"sequence, reference, state, principal_id, replayed, code, reason"

/* Fills err with a failure of the file's database, naming what failed. */
static int db_failure(const tamwil_outbox *ob, const char *what,
		      tamwil_error *err)
{
	return SET_ERROR(err, TAMWIL_ERR_LOCAL, "the outbox %s: cannot %s: %s",
			 ob->path, what, sqlite3_errmsg(ob->db));
}

int tamwil_outbox_path(const char *state_dir, const char *server_fp,
		       const char *principal_fp, char *buf, size_t cap)
{
	char s[KEYFILE_FINGERPRINT_LEN], p[KEYFILE_FINGERPRINT_LEN];
	size_t i, n;
	int len;

	/* Fingerprints are hex in groups: the file name takes the digits. */
	for (i = 0, n = 0; server_fp[i] != '\0' && n + 1 < sizeof(s); i++)
		if (server_fp[i] != ' ')
			s[n++] = server_fp[i];
	s[n] = '\0';
	for (i = 0, n = 0; principal_fp[i] != '\0' && n + 1 < sizeof(p); i++)
		if (principal_fp[i] != ' ')
			p[n++] = principal_fp[i];
	p[n] = '\0';
	len = snprintf(buf, cap, "%s/outbox-%s-%s.db", state_dir, s, p);
	return len < 0 || (size_t)len >= cap ? -1 : 0;
}

/* Creates path with mode 0600 unless it exists; refuses a wider one. */
static int create_private(const char *path, tamwil_error *err)
{
	struct stat st;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0)
		return SET_ERROR(err, TAMWIL_ERR_LOCAL,
				 "cannot open the outbox %s: %s", path,
				 strerror(errno));
	if (fstat(fd, &st) != 0 || (st.st_mode & 077) != 0) {
		close(fd);
		return SET_ERROR(err, TAMWIL_ERR_LOCAL,
				 "the outbox %s may be read by others: make "
				 "it private (chmod 600)",
				 path);
	}
	close(fd);
	return TAMWIL_OK;
}

/*
 * Creates the tables of a new file; an existing one is only read (its
 * version), so opening costs no write. TAMWIL_OK or TAMWIL_ERR_LOCAL,
 * also for a file of a later version than this tamwil knows.
 */
static int create_schema(tamwil_outbox *ob, tamwil_error *err)
{
	sqlite3_stmt *st = NULL;
	int version = -1;

	if (sqlite3_prepare_v2(ob->db, "PRAGMA user_version", -1, &st, NULL) ==
		SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (version < 0)
		return db_failure(ob, "read its version", err);
	if (version > 1)
		return SET_ERROR(err, TAMWIL_ERR_LOCAL,
				 "the outbox %s was written by a newer "
				 "tamwil (version %d): use that one",
				 ob->path, version);
	if (version == 1)
		return TAMWIL_OK;
	if (sqlite3_exec(ob->db, schema, NULL, NULL, NULL) != SQLITE_OK) {
		int rc = db_failure(ob, "create its tables", err);

		sqlite3_exec(ob->db, "ROLLBACK", NULL, NULL, NULL);
		return rc;
	}
	return TAMWIL_OK;
}

/*
 * Puts the file in WAL mode (which stays with the file) and synchronous
 * FULL. Switching a new file to WAL takes an exclusive lock, and SQLite
 * answers a switch that meets another process's open with SQLITE_BUSY
 * without waiting: a file already in WAL is not switched again, and a
 * busy switch is tried again for a while. 0 or -1.
 */
static int set_wal(tamwil_outbox *ob)
{
	sqlite3_stmt *st = NULL;
	int wal = 0, rc;

	if (sqlite3_prepare_v2(ob->db, "PRAGMA journal_mode", -1, &st, NULL) ==
		SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		wal = sqlite3_stricmp((const char *)sqlite3_column_text(st, 0),
				      "wal") == 0;
	sqlite3_finalize(st);
	for (int tries = 0; !wal && tries < OUTBOX_BUSY_MS / 10; tries++) {
		rc = sqlite3_exec(ob->db, "PRAGMA journal_mode=WAL", NULL, NULL,
				  NULL);
		if (rc == SQLITE_OK)
			wal = 1;
		else if ((rc & 0xff) != SQLITE_BUSY &&
			 (rc & 0xff) != SQLITE_LOCKED)
			return -1;
		else
			sqlite3_sleep(10);
	}
	if (!wal)
		return -1;
	/* Queued is durable: the operation survives a crash or power loss. */
	return sqlite3_exec(ob->db, "PRAGMA synchronous=FULL", NULL, NULL,
			    NULL) == SQLITE_OK
		   ? 0
		   : -1;
}

int tamwil_outbox_open(const char *path, tamwil_outbox **out, tamwil_error *err)
{
	tamwil_outbox *ob;
	int rc;

	if (out != NULL)
		*out = NULL;
	if (path == NULL || out == NULL)
		return SET_ERROR(err, TAMWIL_ERR_LOCAL,
				 "tamwil_outbox_open: missing argument");
	rc = create_private(path, err);
	if (rc != TAMWIL_OK)
		return rc;
	ob = calloc(1, sizeof(*ob));
	if (ob == NULL || (ob->path = strdup(path)) == NULL) {
		free(ob);
		return SET_ERROR(err, TAMWIL_ERR_LOCAL, "out of memory");
	}
	if (sqlite3_open_v2(path, &ob->db, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK) {
		rc = db_failure(ob, "open it", err);
		goto fail;
	}
	sqlite3_busy_timeout(ob->db, OUTBOX_BUSY_MS);
	if (set_wal(ob) != 0) {
		rc = db_failure(ob, "set it up", err);
		goto fail;
	}
	rc = create_schema(ob, err);
	if (rc != TAMWIL_OK)
		goto fail;
	*out = ob;
	return TAMWIL_OK;
fail:
	tamwil_outbox_close(ob);
	return rc;
}

void tamwil_outbox_close(tamwil_outbox *ob)
{
	if (ob == NULL)
		return;
	sqlite3_close(ob->db);
	free(ob->path);
	free(ob);
}

/* Prepares sql; NULL with err filled in on failure. */
static sqlite3_stmt *prepare(tamwil_outbox *ob, const char *sql,
			     tamwil_error *err)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(ob->db, sql, -1, &st, NULL) != SQLITE_OK) {
		db_failure(ob, "read or write it", err);
		return NULL;
	}
	return st;
}

/* Copies column col of st as text into buf (capacity cap). */
static void column_text(sqlite3_stmt *st, int col, char *buf, size_t cap)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	client_text_copy(buf, cap, t != NULL ? (const char *)t : "");
}

/* Reads a row of ENTRY_COLUMNS into e. */
static void read_entry(sqlite3_stmt *st, tamwil_outbox_entry *e)
{
	const void *key = sqlite3_column_blob(st, 1);

	memset(e, 0, sizeof(*e));
	e->id = sqlite3_column_int64(st, 0);
	if (key != NULL &&
	    sqlite3_column_bytes(st, 1) == (int)sizeof(e->idempotency_key))
		memcpy(e->idempotency_key, key, sizeof(e->idempotency_key));
	column_text(st, 2, e->kind, sizeof(e->kind));
	column_text(st, 3, e->label, sizeof(e->label));
	e->queued_at = sqlite3_column_int64(st, 4);
	e->done_at = sqlite3_column_int64(st, 5);
	e->status = sqlite3_column_int(st, 6);
	e->sequence = (uint64_t)sqlite3_column_int64(st, 7);
	column_text(st, 8, e->reference, sizeof(e->reference));
	e->state = sqlite3_column_int(st, 9);
	e->principal_id = (uint64_t)sqlite3_column_int64(st, 10);
	e->replayed = sqlite3_column_int(st, 11);
	e->code = sqlite3_column_int(st, 12);
	column_text(st, 13, e->reason, sizeof(e->reason));
}

/* "label" for people of a submission: where and what, never who. */
static void submit_label(const Tamwil__V1__SubmitApplication *s, char *buf,
			 size_t cap)
{
	char money[MONEY_TEXT_MAX] = "";
	const Tamwil__V1__Money *m = s->amount_requested;

	if (m != NULL &&
	    money_format(m->minor, m->currency, money, sizeof(money)) < 0)
		money[0] = '\0';
	snprintf(buf, cap, "%s, %s, %s%s%s", s->programme, s->region, s->sector,
		 money[0] != '\0' ? ", " : "", money);
}

/* The kind and label of op, for people. */
static void describe(const Tamwil__V1__Operation *op, char *kind,
		     size_t kind_cap, char *label, size_t cap)
{
	const char *k = "operation", *ref = "";
	char text[TAMWIL_OUTBOX_LABEL_MAX] = "";

	switch (op->body_case) {
	case TAMWIL__V1__OPERATION__BODY_CREATE_REGION:
		k = "region add";
		snprintf(text, sizeof(text), "%s %s", op->create_region->code,
			 op->create_region->name);
		break;
	case TAMWIL__V1__OPERATION__BODY_CREATE_PROGRAMME:
		k = "programme add";
		snprintf(text, sizeof(text), "%s %s",
			 op->create_programme->code,
			 op->create_programme->name);
		break;
	case TAMWIL__V1__OPERATION__BODY_ENROL_PRINCIPAL:
		k = "enrol";
		snprintf(text, sizeof(text), "%s, %s",
			 op->enrol_principal->name,
			 tamwil_role_name((int)op->enrol_principal->role));
		break;
	case TAMWIL__V1__OPERATION__BODY_REVOKE_PRINCIPAL:
		k = "revoke";
		ref = "a principal's key";
		break;
	case TAMWIL__V1__OPERATION__BODY_SUBMIT_APPLICATION:
		k = "submit";
		submit_label(op->submit_application, text, sizeof(text));
		break;
	case TAMWIL__V1__OPERATION__BODY_WITHDRAW_APPLICATION:
		k = "withdraw";
		ref = op->withdraw_application->reference;
		break;
	case TAMWIL__V1__OPERATION__BODY_APPROVE_APPLICATION:
		k = "approve";
		ref = op->approve_application->reference;
		break;
	case TAMWIL__V1__OPERATION__BODY_REJECT_APPLICATION:
		k = "reject";
		ref = op->reject_application->reference;
		break;
	case TAMWIL__V1__OPERATION__BODY_RECORD_DISBURSEMENT:
		k = "disburse";
		ref = op->record_disbursement->reference;
		break;
	case TAMWIL__V1__OPERATION__BODY_RECORD_REPAYMENT:
		k = "repay";
		ref = op->record_repayment->reference;
		break;
	default:
		break;
	}
	client_text_copy(kind, kind_cap, k);
	client_text_copy(label, cap, text[0] != '\0' ? text : ref);
}

int tamwil_outbox_add(tamwil_outbox *ob, const uint8_t *op, size_t len,
		      const uint8_t sig[SIGNOP_SIGLEN], int64_t *id,
		      tamwil_error *err)
{
	char kind[TAMWIL_OUTBOX_KIND_MAX], label[TAMWIL_OUTBOX_LABEL_MAX];
	Tamwil__V1__Operation *o = NULL;
	sqlite3_stmt *st = NULL;
	int rc;

	if (ob == NULL || op == NULL || len == 0 || sig == NULL)
		return SET_ERROR(err, TAMWIL_ERR_LOCAL,
				 "tamwil_outbox_add: missing argument");
	o = (Tamwil__V1__Operation *)pbuf_unpack(
	    &tamwil__v1__operation__descriptor, len, op, PBUF_BUDGET_DEFAULT);
	if (o == NULL || o->idempotency_key.len != SIGNOP_IDEMPOTENCY_LEN) {
		rc = SET_ERROR(err, TAMWIL_ERR_LOCAL,
			       "the outbox takes only operations with a "
			       "%d-byte idempotency key",
			       SIGNOP_IDEMPOTENCY_LEN);
		goto out;
	}
	describe(o, kind, sizeof(kind), label, sizeof(label));
	st = prepare(ob,
		     "INSERT INTO entry (idempotency_key, operation, "
		     "signature, kind, label, queued_at) "
		     "VALUES (?, ?, ?, ?, ?, ?)",
		     err);
	if (st == NULL) {
		rc = TAMWIL_ERR_LOCAL;
		goto out;
	}
	sqlite3_bind_blob(st, 1, o->idempotency_key.data,
			  SIGNOP_IDEMPOTENCY_LEN, SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, 2, op, (int)len, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, sig, SIGNOP_SIGLEN, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, label, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)time(NULL));
	rc = sqlite3_step(st);
	if (rc == SQLITE_CONSTRAINT) {
		rc = SET_ERROR(err, TAMWIL_ERR_LOCAL,
			       "this operation is already in the outbox "
			       "(its idempotency key is queued)");
		goto out;
	}
	if (rc != SQLITE_DONE) {
		rc = db_failure(ob, "queue the operation", err);
		goto out;
	}
	if (id != NULL)
		*id = sqlite3_last_insert_rowid(ob->db);
	rc = TAMWIL_OK;
out:
	sqlite3_finalize(st);
	if (o != NULL)
		tamwil__v1__operation__free_unpacked(o, NULL);
	return rc;
}

int tamwil_outbox_get(tamwil_outbox *ob, int64_t id, tamwil_outbox_entry *e,
		      tamwil_error *err)
{
	sqlite3_stmt *st;
	int rc;

	if (ob == NULL || e == NULL)
		return SET_ERROR(err, TAMWIL_ERR_LOCAL,
				 "tamwil_outbox_get: missing argument");
	st = prepare(ob, "SELECT " ENTRY_COLUMNS " FROM entry WHERE id = ?",
		     err);
	if (st == NULL)
		return TAMWIL_ERR_LOCAL;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		read_entry(st, e);
		rc = TAMWIL_OK;
	} else if (rc == SQLITE_DONE) {
		rc = SET_ERROR(err, TAMWIL_ERR_LOCAL,
			       "the outbox has no entry %lld", (long long)id);
	} else {
		rc = db_failure(ob, "read an entry", err);
	}
	sqlite3_finalize(st);
	return rc;
}

/*
 * Copies blob column col of entry id into *out (malloc'd) and *len; a
 * NULL column gives *out NULL. TAMWIL_OK or TAMWIL_ERR_LOCAL.
 */
static int read_blob(tamwil_outbox *ob, int64_t id, const char *sql,
		     uint8_t **out, size_t *len, uint8_t sig[SIGNOP_SIGLEN],
		     tamwil_error *err)
{
	sqlite3_stmt *st = prepare(ob, sql, err);
	const void *b;
	int rc, n;

	*out = NULL;
	*len = 0;
	if (st == NULL)
		return TAMWIL_ERR_LOCAL;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		rc = rc == SQLITE_DONE
			 ? SET_ERROR(err, TAMWIL_ERR_LOCAL,
				     "the outbox has no entry %lld",
				     (long long)id)
			 : db_failure(ob, "read an entry", err);
		goto out;
	}
	if (sig != NULL) {
		if (sqlite3_column_bytes(st, 1) != SIGNOP_SIGLEN) {
			rc = SET_ERROR(err, TAMWIL_ERR_LOCAL,
				       "the outbox %s is damaged: entry %lld "
				       "has no signature",
				       ob->path, (long long)id);
			goto out;
		}
		memcpy(sig, sqlite3_column_blob(st, 1), SIGNOP_SIGLEN);
	}
	b = sqlite3_column_blob(st, 0);
	n = sqlite3_column_bytes(st, 0);
	rc = TAMWIL_OK;
	if (b == NULL || n <= 0)
		goto out;
	*out = malloc((size_t)n);
	if (*out == NULL) {
		rc = SET_ERROR(err, TAMWIL_ERR_LOCAL, "out of memory");
		goto out;
	}
	memcpy(*out, b, (size_t)n);
	*len = (size_t)n;
out:
	sqlite3_finalize(st);
	return rc;
}

int tamwil_outbox_bytes(tamwil_outbox *ob, int64_t id, uint8_t **op,
			size_t *len, uint8_t sig[SIGNOP_SIGLEN],
			tamwil_error *err)
{
	int rc;

	if (ob == NULL || op == NULL || len == NULL || sig == NULL)
		return SET_ERROR(err, TAMWIL_ERR_LOCAL,
				 "tamwil_outbox_bytes: missing argument");
	rc = read_blob(ob, id,
		       "SELECT operation, signature FROM entry WHERE id = ?",
		       op, len, sig, err);
	if (rc == TAMWIL_OK && *op == NULL)
		return SET_ERROR(err, TAMWIL_ERR_LOCAL,
				 "the outbox %s is damaged: entry %lld has no "
				 "operation",
				 ob->path, (long long)id);
	return rc;
}

int tamwil_outbox_receipt(tamwil_outbox *ob, int64_t id,
			  Tamwil__V1__Receipt **r, tamwil_error *err)
{
	uint8_t *b = NULL;
	size_t n = 0;
	int rc;

	if (ob == NULL || r == NULL)
		return SET_ERROR(err, TAMWIL_ERR_LOCAL,
				 "tamwil_outbox_receipt: missing argument");
	*r = NULL;
	rc = read_blob(ob, id, "SELECT receipt FROM entry WHERE id = ?", &b, &n,
		       NULL, err);
	if (rc != TAMWIL_OK || b == NULL)
		return rc;
	*r = (Tamwil__V1__Receipt *)pbuf_unpack(
	    &tamwil__v1__receipt__descriptor, n, b, PBUF_BUDGET_DEFAULT);
	free(b);
	if (*r == NULL)
		return SET_ERROR(err, TAMWIL_ERR_LOCAL,
				 "the outbox %s is damaged: entry %lld's "
				 "receipt does not parse",
				 ob->path, (long long)id);
	return TAMWIL_OK;
}

int tamwil_outbox_list(tamwil_outbox *ob, int all, tamwil_outbox_entry **list,
		       size_t *n, tamwil_error *err)
{
	tamwil_outbox_entry *v = NULL, *bigger;
	size_t cap = 0, count = 0;
	sqlite3_stmt *st;
	int rc;

	if (ob == NULL || list == NULL || n == NULL)
		return SET_ERROR(err, TAMWIL_ERR_LOCAL,
				 "tamwil_outbox_list: missing argument");
	*list = NULL;
	*n = 0;
	st = prepare(ob,
		     all ? "SELECT " ENTRY_COLUMNS " FROM entry ORDER BY id"
			 : "SELECT " ENTRY_COLUMNS
			   " FROM entry WHERE status = 0 ORDER BY id",
		     err);
	if (st == NULL)
		return TAMWIL_ERR_LOCAL;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (count == cap) {
			cap = cap == 0 ? 16 : 2 * cap;
			bigger = realloc(v, cap * sizeof(*v));
			if (bigger == NULL) {
				rc = SET_ERROR(err, TAMWIL_ERR_LOCAL,
					       "out of memory");
				goto out;
			}
			v = bigger;
		}
		read_entry(st, &v[count++]);
	}
	if (rc != SQLITE_DONE) {
		rc = db_failure(ob, "list the entries", err);
		goto out;
	}
	*list = v;
	*n = count;
	v = NULL;
	rc = TAMWIL_OK;
out:
	sqlite3_finalize(st);
	free(v);
	return rc;
}

int tamwil_outbox_count(tamwil_outbox *ob, int status, size_t *n,
			tamwil_error *err)
{
	sqlite3_stmt *st;
	int rc;

	if (ob == NULL || n == NULL)
		return SET_ERROR(err, TAMWIL_ERR_LOCAL,
				 "tamwil_outbox_count: missing argument");
	*n = 0;
	st = prepare(ob, "SELECT count(*) FROM entry WHERE status = ?", err);
	if (st == NULL)
		return TAMWIL_ERR_LOCAL;
	sqlite3_bind_int(st, 1, status);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*n = (size_t)sqlite3_column_int64(st, 0);
		rc = TAMWIL_OK;
	} else {
		rc = db_failure(ob, "count the entries", err);
	}
	sqlite3_finalize(st);
	return rc;
}

/*
 * Runs an UPDATE of a waiting entry (its last parameter the id, bound
 * here). An entry already answered is left alone; a missing one is an
 * error. TAMWIL_OK or TAMWIL_ERR_LOCAL.
 */
static int finish_update(tamwil_outbox *ob, sqlite3_stmt *st, int id_param,
			 int64_t id, tamwil_error *err)
{
	tamwil_outbox_entry e;
	int rc;

	sqlite3_bind_int64(st, id_param, id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_failure(ob, "record head office's answer", err);
	if (sqlite3_changes(ob->db) == 0)
		return tamwil_outbox_get(ob, id, &e, err);
	return TAMWIL_OK;
}

int tamwil_outbox_mark_accepted(tamwil_outbox *ob, int64_t id,
				const Tamwil__V1__OperationResult *res,
				tamwil_error *err)
{
	uint8_t *receipt = NULL;
	size_t n = 0;
	sqlite3_stmt *st;
	int rc;

	if (ob == NULL || res == NULL)
		return SET_ERROR(err, TAMWIL_ERR_LOCAL,
				 "tamwil_outbox_mark_accepted: missing "
				 "argument");
	if (res->receipt != NULL) {
		n = tamwil__v1__receipt__get_packed_size(res->receipt);
		receipt = malloc(n > 0 ? n : 1);
		if (receipt == NULL)
			return SET_ERROR(err, TAMWIL_ERR_LOCAL,
					 "out of memory");
		tamwil__v1__receipt__pack(res->receipt, receipt);
	}
	st = prepare(ob,
		     "UPDATE entry SET status = 1, done_at = ?, sequence = ?, "
		     "reference = ?, state = ?, principal_id = ?, "
		     "replayed = ?, receipt = ? WHERE id = ? AND status = 0",
		     err);
	if (st == NULL) {
		free(receipt);
		return TAMWIL_ERR_LOCAL;
	}
	sqlite3_bind_int64(st, 1, (sqlite3_int64)time(NULL));
	sqlite3_bind_int64(st, 2, (sqlite3_int64)res->sequence);
	sqlite3_bind_text(st, 3, res->reference != NULL ? res->reference : "",
			  -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, (int)res->state);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)res->principal_id);
	sqlite3_bind_int(st, 6, res->replayed ? 1 : 0);
	if (receipt != NULL)
		sqlite3_bind_blob(st, 7, receipt, (int)n, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 7);
	rc = finish_update(ob, st, 8, id, err);
	free(receipt);
	return rc;
}

int tamwil_outbox_mark_refused(tamwil_outbox *ob, int64_t id, int code,
			       const char *reason, tamwil_error *err)
{
	sqlite3_stmt *st;

	if (ob == NULL)
		return SET_ERROR(err, TAMWIL_ERR_LOCAL,
				 "tamwil_outbox_mark_refused: no outbox");
	st = prepare(ob,
		     "UPDATE entry SET status = 2, done_at = ?, code = ?, "
		     "reason = ? WHERE id = ? AND status = 0",
		     err);
	if (st == NULL)
		return TAMWIL_ERR_LOCAL;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)time(NULL));
	sqlite3_bind_int(st, 2, code);
	sqlite3_bind_text(st, 3, reason != NULL ? reason : "", -1,
			  SQLITE_STATIC);
	return finish_update(ob, st, 4, id, err);
}

int tamwil_outbox_remember(tamwil_outbox *ob, const char *topic,
			   const char *key, const char *value,
			   tamwil_error *err)
{
	sqlite3_stmt *st;
	int rc;

	if (ob == NULL || topic == NULL || key == NULL || value == NULL)
		return SET_ERROR(err, TAMWIL_ERR_LOCAL,
				 "tamwil_outbox_remember: missing argument");
	st = prepare(ob,
		     "INSERT OR REPLACE INTO learnt (topic, key, value, "
		     "learnt_at) VALUES (?, ?, ?, ?)",
		     err);
	if (st == NULL)
		return TAMWIL_ERR_LOCAL;
	sqlite3_bind_text(st, 1, topic, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, value, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)time(NULL));
	rc = sqlite3_step(st) == SQLITE_DONE
		 ? TAMWIL_OK
		 : db_failure(ob, "remember what head office said", err);
	sqlite3_finalize(st);
	return rc;
}

int tamwil_outbox_recall(tamwil_outbox *ob, const char *topic, const char *key,
			 char *buf, size_t cap, tamwil_error *err)
{
	sqlite3_stmt *st;
	int rc;

	if (ob == NULL || topic == NULL || key == NULL || buf == NULL ||
	    cap == 0)
		return SET_ERROR(err, TAMWIL_ERR_LOCAL,
				 "tamwil_outbox_recall: missing argument");
	buf[0] = '\0';
	st = prepare(ob, "SELECT value FROM learnt WHERE topic = ? AND key = ?",
		     err);
	if (st == NULL)
		return TAMWIL_ERR_LOCAL;
	sqlite3_bind_text(st, 1, topic, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		column_text(st, 0, buf, cap);
		rc = TAMWIL_OK;
	} else if (rc == SQLITE_DONE) {
		rc = 1;
	} else {
		rc = db_failure(ob, "read what head office said", err);
	}
	sqlite3_finalize(st);
	return rc;
}

/*
 * Learns from an accepted operation what later commands may need
 * offline: the currency of the application it created, or of the
 * programme. Best effort: a failure only means asking head office later.
 */
static void learn(tamwil_outbox *ob, const uint8_t *bytes, size_t len,
		  const Tamwil__V1__OperationResult *res)
{
	Tamwil__V1__Operation *op = (Tamwil__V1__Operation *)pbuf_unpack(
	    &tamwil__v1__operation__descriptor, len, bytes,
	    PBUF_BUDGET_DEFAULT);
	const Tamwil__V1__Money *m = NULL;
	const char *topic = NULL, *key = NULL;

	if (op == NULL)
		return;
	if (op->body_case == TAMWIL__V1__OPERATION__BODY_SUBMIT_APPLICATION) {
		topic = "application";
		key = res->reference;
		m = op->submit_application->amount_requested;
	} else if (op->body_case ==
		   TAMWIL__V1__OPERATION__BODY_CREATE_PROGRAMME) {
		topic = "programme";
		key = op->create_programme->code;
		m = op->create_programme->envelope;
	}
	if (topic != NULL && key != NULL && key[0] != '\0' && m != NULL &&
	    money_currency_valid(m->currency))
		(void)tamwil_outbox_remember(ob, topic, key, m->currency, NULL);
	tamwil__v1__operation__free_unpacked(op, NULL);
}

int tamwil_outbox_link_down(int status)
{
	return status == TAMWIL_ERR_UNREACHABLE ||
	       status == TAMWIL_ERR_TIMEOUT || status == TAMWIL_ERR_CLOSED;
}

const char *tamwil_outbox_status_name(int status)
{
	switch (status) {
	case TAMWIL_OUTBOX_WAITING:
		return "waiting";
	case TAMWIL_OUTBOX_ACCEPTED:
		return "accepted";
	case TAMWIL_OUTBOX_REFUSED:
		return "refused";
	default:
		return "unknown";
	}
}

/* The oldest waiting entry into *id: 1, 0 when none, or -1. */
static int next_waiting(tamwil_outbox *ob, int64_t *id, tamwil_error *err)
{
	sqlite3_stmt *st = prepare(
	    ob, "SELECT id FROM entry WHERE status = 0 ORDER BY id LIMIT 1",
	    err);
	int rc;

	if (st == NULL)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		rc = 1;
	} else if (rc == SQLITE_DONE) {
		rc = 0;
	} else {
		db_failure(ob, "find what waits", err);
		rc = -1;
	}
	sqlite3_finalize(st);
	return rc;
}

/* 1 for refusals that say head office is failing, not the operation. */
static int refusal_is_transient(int code)
{
	return code == TAMWIL__V1__ERROR_CODE__ERROR_INTERNAL ||
	       code == TAMWIL__V1__ERROR_CODE__ERROR_UNAVAILABLE;
}

/*
 * Records entry id as accepted with res, and what its bytes teach, in
 * one transaction (one sync to disk). TAMWIL_OK or TAMWIL_ERR_LOCAL.
 */
static int record_accepted(tamwil_outbox *ob, int64_t id, const uint8_t *bytes,
			   size_t len, const Tamwil__V1__OperationResult *res,
			   tamwil_error *err)
{
	int rc;

	if (sqlite3_exec(ob->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK)
		return db_failure(ob, "record head office's answer", err);
	rc = tamwil_outbox_mark_accepted(ob, id, res, err);
	if (rc == TAMWIL_OK)
		learn(ob, bytes, len, res);
	if (rc == TAMWIL_OK &&
	    sqlite3_exec(ob->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		rc = db_failure(ob, "record head office's answer", err);
	if (rc != TAMWIL_OK)
		sqlite3_exec(ob->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

/*
 * Sends entry id and records the answer into *e. TAMWIL_OK when it was
 * answered (accepted or refused), else the status that left it waiting.
 */
static int send_one(tamwil_outbox *ob, tamwil_client *c, int64_t id,
		    tamwil_outbox_entry *e, tamwil_error *err)
{
	Tamwil__V1__OperationResult *res = NULL;
	uint8_t sig[SIGNOP_SIGLEN];
	uint8_t *bytes = NULL;
	size_t len = 0;
	int rc;

	rc = tamwil_outbox_bytes(ob, id, &bytes, &len, sig, err);
	if (rc != TAMWIL_OK)
		return rc;
	rc = tamwil_client_send_signed(c, bytes, len, sig, &res, err);
	if (rc == TAMWIL_OK) {
		rc = record_accepted(ob, id, bytes, len, res, err);
		tamwil__v1__operation_result__free_unpacked(res, NULL);
	} else if (rc == TAMWIL_ERR_REFUSED && err != NULL &&
		   !refusal_is_transient(err->code)) {
		rc = tamwil_outbox_mark_refused(ob, id, err->code, err->message,
						err);
	}
	free(bytes);
	if (rc == TAMWIL_OK)
		rc = tamwil_outbox_get(ob, id, e, err);
	return rc;
}

/*
 * Takes the lock file next to the outbox for c's sync; its descriptor, or
 * -1 with err (never NULL) filled in. While another run holds it, c's
 * handshake is finished first (one whoami): head office drops a
 * handshake left unfinished for a few seconds, not an established
 * channel. A link down then is left for the sync to meet.
 */
static int lock_outbox(const tamwil_outbox *ob, tamwil_client *c,
		       tamwil_error *err)
{
	size_t n = strlen(ob->path) + sizeof(LOCK_SUFFIX);
	char *path = malloc(n);
	tamwil_whoami me;
	int fd = -1, how = LOCK_EX | LOCK_NB;

	if (path == NULL) {
		client_describe(err, TAMWIL_ERR_LOCAL, "out of memory");
		return -1;
	}
	snprintf(path, n, "%s" LOCK_SUFFIX, ob->path);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	while (fd >= 0 && flock(fd, how) != 0) {
		if (errno == EWOULDBLOCK && how != LOCK_EX) {
			if (tamwil_client_online(c) && !c->hello_sent &&
			    tamwil_client_whoami(c, &me, err) != TAMWIL_OK &&
			    !tamwil_outbox_link_down(err->status)) {
				close(fd); /* a forked log, a revoked key */
				free(path);
				return -1;
			}
			how = LOCK_EX;
			continue;
		}
		if (errno == EINTR)
			continue;
		close(fd);
		fd = -1;
	}
	if (fd < 0)
		client_describe(err, TAMWIL_ERR_LOCAL,
				"cannot lock the outbox %s: %s", path,
				strerror(errno));
	free(path);
	return fd;
}

int tamwil_outbox_sync(tamwil_outbox *ob, tamwil_client *c, tamwil_outbox_fn fn,
		       void *arg, tamwil_outbox_summary *sum, tamwil_error *err)
{
	tamwil_outbox_summary local = {0, 0, 0};
	tamwil_outbox_entry *e = NULL;
	tamwil_error mine;
	size_t total = 0, done = 0;
	int64_t id = 0;
	int fd, rc, more;

	if (err == NULL)
		err = &mine;
	if (sum == NULL)
		sum = &local;
	memset(sum, 0, sizeof(*sum));
	if (ob == NULL || c == NULL)
		return SET_ERROR(err, TAMWIL_ERR_LOCAL,
				 "tamwil_outbox_sync: missing argument");
	e = malloc(sizeof(*e));
	if (e == NULL)
		return SET_ERROR(err, TAMWIL_ERR_LOCAL, "out of memory");
	fd = lock_outbox(ob, c, err);
	if (fd < 0) {
		free(e);
		return err->status;
	}
	rc = tamwil_outbox_count(ob, TAMWIL_OUTBOX_WAITING, &total, err);
	while (rc == TAMWIL_OK) {
		more = next_waiting(ob, &id, err);
		if (more <= 0) {
			rc = more == 0 ? TAMWIL_OK : TAMWIL_ERR_LOCAL;
			break;
		}
		rc = send_one(ob, c, id, e, err);
		if (rc != TAMWIL_OK)
			break;
		if (e->status == TAMWIL_OUTBOX_ACCEPTED)
			sum->accepted++;
		else
			sum->refused++;
		/* Others may queue while this runs: they go too. */
		if (++done > total)
			total = done;
		if (fn != NULL && fn(arg, e, done, total) != 0)
			break;
	}
	close(fd); /* releases the lock */
	free(e);
	if (tamwil_outbox_count(ob, TAMWIL_OUTBOX_WAITING, &sum->waiting,
				rc == TAMWIL_OK ? err : NULL) != TAMWIL_OK &&
	    rc == TAMWIL_OK)
		rc = TAMWIL_ERR_LOCAL;
	return rc;
}

int tamwil_client_outbox(tamwil_client *c, tamwil_outbox **out,
			 tamwil_error *err)
{
	char server_fp[KEYFILE_FINGERPRINT_LEN];
	char *path = NULL;
	size_t cap;
	int rc;

	if (out != NULL)
		*out = NULL;
	if (c == NULL || out == NULL)
		return SET_ERROR(err, TAMWIL_ERR_LOCAL,
				 "tamwil_client_outbox: missing argument");
	if (c->outbox != NULL) {
		*out = c->outbox;
		return TAMWIL_OK;
	}
	if (c->state_dir == NULL || !c->has_sign_pk)
		return SET_ERROR(err, TAMWIL_ERR_LOCAL,
				 "no state folder to keep the outbox in: set "
				 "HOME or XDG_STATE_HOME");
	keyfile_fingerprint(c->server_noise_pk, c->sign_pk, server_fp);
	cap = strlen(c->state_dir) + 3 * (size_t)KEYFILE_FINGERPRINT_LEN + 32;
	path = malloc(cap);
	if (path == NULL)
		return SET_ERROR(err, TAMWIL_ERR_LOCAL, "out of memory");
	if (tamwil_outbox_path(c->state_dir, server_fp, c->fingerprint, path,
			       cap) != 0) {
		free(path);
		return SET_ERROR(err, TAMWIL_ERR_LOCAL,
				 "the outbox's path is too long");
	}
	rc = tamwil_outbox_open(path, &c->outbox, err);
	free(path);
	if (rc == TAMWIL_OK)
		*out = c->outbox;
	return rc;
}
