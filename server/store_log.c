/*
 * The store's part of the audit log: entries, perfect-subtree hashes and
 * checkpoints, and the table of security events. Every call is one
 * prepared statement; the Merkle arithmetic lives in common/merkle.c.
 */
#include "store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "store_private.h"

/* Adjacent literals below are one statement each, not a missing comma. */
// NOLINTBEGIN(bugprone-suspicious-missing-comma)
static const char *const log_sql[STMT_COUNT] = {
    [STMT_LOG_SIZE] = "SELECT coalesce(max(seq) + 1, 0) FROM log_entries",
    [STMT_LOG_ADD] =
	"INSERT INTO log_entries(seq, time, entry) VALUES (?1, ?2, ?3)",
    [STMT_LOG_ENTRY] = "SELECT entry FROM log_entries WHERE seq = ?1",
    [STMT_LOG_NODE_GET] =
	"SELECT hash FROM log_nodes WHERE level = ?1 AND idx = ?2",
    [STMT_LOG_NODE_PUT] =
	"INSERT INTO log_nodes(level, idx, hash) VALUES (?1, ?2, ?3)",
    [STMT_CHECKPOINT_ADD] = "INSERT INTO checkpoints(tree_size, root, time,"
			    " signature) VALUES (?1, ?2, ?3, ?4)",
    [STMT_CHECKPOINT_LATEST] = "SELECT tree_size, root, time, signature"
			       " FROM checkpoints"
			       " ORDER BY tree_size DESC LIMIT 1",
    [STMT_CHECKPOINT_AT] = "SELECT tree_size, root, time, signature"
			   " FROM checkpoints WHERE tree_size = ?1",
    [STMT_SECURITY_ADD] =
	"INSERT INTO security_events(time, principal_id, peer, kind,"
	" reason) VALUES (?1, ?2, ?3, ?4, ?5)",
    [STMT_SECURITY_LIST] =
	"SELECT e.time, coalesce(p.name, ''), e.peer, e.kind, e.reason"
	" FROM security_events e LEFT JOIN principals p"
	" ON p.id = e.principal_id WHERE e.time >= ?1"
	" ORDER BY e.id DESC LIMIT ?2",
    [STMT_INTEGRITY] = "PRAGMA integrity_check(1)",
};
// NOLINTEND(bugprone-suspicious-missing-comma)

static sqlite3_stmt *log_stmt(store *st, enum store_stmt id)
{
	return store_stmt(st, id, log_sql[id]);
}

/* Steps a write statement to its end: 0 or -1. Resets it. */
static int log_write(store *st, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s) == SQLITE_DONE ? 0 : store_fail(st, what);

	store_done(s);
	return rc;
}

/*
 * Copies the blob of column 0 of a one-row read into buf (exactly len
 * bytes when exact, else at most cap): 0 with *got, STORE_NOT_FOUND or
 * -1. Resets s.
 */
static int log_read_blob(store *st, sqlite3_stmt *s, const char *what,
			 uint8_t *buf, size_t cap, int exact, size_t *got)
{
	int rc = sqlite3_step(s);
	size_t n;

	if (rc == SQLITE_DONE) {
		rc = STORE_NOT_FOUND;
	} else if (rc != SQLITE_ROW) {
		rc = store_fail(st, what);
	} else {
		n = (size_t)sqlite3_column_bytes(s, 0);
		rc = 0;
		if (n > cap || (exact && n != cap)) {
			snprintf(st->err, sizeof(st->err),
				 "%s: stored value of unexpected size", what);
			rc = -1;
		} else if (n > 0) {
			memcpy(buf, sqlite3_column_blob(s, 0), n);
		}
		if (got != NULL)
			*got = n;
	}
	store_done(s);
	return rc;
}

int store_log_size(store *st, uint64_t *size)
{
	sqlite3_stmt *s = log_stmt(st, STMT_LOG_SIZE);
	int rc = -1;

	if (s == NULL)
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW) {
		*size = (uint64_t)sqlite3_column_int64(s, 0);
		rc = 0;
	} else {
		store_fail(st, "log size");
	}
	store_done(s);
	return rc;
}

int store_log_add(store *st, uint64_t seq, int64_t time, const uint8_t *entry,
		  size_t len)
{
	sqlite3_stmt *s = log_stmt(st, STMT_LOG_ADD);

	if (s == NULL)
		return -1;
	if (sqlite3_bind_int64(s, 1, (int64_t)seq) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 2, time) != SQLITE_OK ||
	    sqlite3_bind_blob64(s, 3, entry, len, SQLITE_STATIC) != SQLITE_OK) {
		store_done(s);
		return store_fail(st, "append log entry");
	}
	return log_write(st, s, "append log entry");
}

int store_log_entry(store *st, uint64_t seq, uint8_t *buf, size_t cap,
		    size_t *len)
{
	sqlite3_stmt *s = log_stmt(st, STMT_LOG_ENTRY);

	if (s == NULL)
		return -1;
	if (sqlite3_bind_int64(s, 1, (int64_t)seq) != SQLITE_OK) {
		store_done(s);
		return store_fail(st, "read log entry");
	}
	return log_read_blob(st, s, "read log entry", buf, cap, 0, len);
}

int store_log_node(store *st, unsigned level, uint64_t index, uint8_t *hash)
{
	sqlite3_stmt *s = log_stmt(st, STMT_LOG_NODE_GET);

	if (s == NULL)
		return -1;
	if (sqlite3_bind_int(s, 1, (int)level) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 2, (int64_t)index) != SQLITE_OK) {
		store_done(s);
		return store_fail(st, "read log node");
	}
	return log_read_blob(st, s, "read log node", hash, STORE_HASHLEN, 1,
			     NULL);
}

int store_log_node_put(store *st, unsigned level, uint64_t index,
		       const uint8_t *hash)
{
	sqlite3_stmt *s = log_stmt(st, STMT_LOG_NODE_PUT);

	if (s == NULL)
		return -1;
	if (sqlite3_bind_int(s, 1, (int)level) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 2, (int64_t)index) != SQLITE_OK ||
	    sqlite3_bind_blob(s, 3, hash, STORE_HASHLEN, SQLITE_STATIC) !=
		SQLITE_OK) {
		store_done(s);
		return store_fail(st, "store log node");
	}
	return log_write(st, s, "store log node");
}

int store_checkpoint_add(store *st, const store_checkpoint *cp)
{
	sqlite3_stmt *s = log_stmt(st, STMT_CHECKPOINT_ADD);

	if (s == NULL)
		return -1;
	if (sqlite3_bind_int64(s, 1, (int64_t)cp->size) != SQLITE_OK ||
	    sqlite3_bind_blob(s, 2, cp->root, STORE_HASHLEN, SQLITE_STATIC) !=
		SQLITE_OK ||
	    sqlite3_bind_int64(s, 3, cp->time) != SQLITE_OK ||
	    sqlite3_bind_blob(s, 4, cp->sig, STORE_SIGLEN, SQLITE_STATIC) !=
		SQLITE_OK) {
		store_done(s);
		return store_fail(st, "record checkpoint");
	}
	return log_write(st, s, "record checkpoint");
}

/* Reads a checkpoint row (tree_size, root, time, signature): 0/NOT_FOUND/-1. */
static int log_checkpoint_row(store *st, sqlite3_stmt *s, store_checkpoint *cp)
{
	int rc = sqlite3_step(s);

	if (rc == SQLITE_DONE) {
		rc = STORE_NOT_FOUND;
	} else if (rc != SQLITE_ROW) {
		rc = store_fail(st, "read checkpoint");
	} else if (sqlite3_column_bytes(s, 1) != STORE_HASHLEN ||
		   sqlite3_column_bytes(s, 3) != STORE_SIGLEN) {
		snprintf(st->err, sizeof(st->err), "malformed checkpoint");
		rc = -1;
	} else {
		cp->size = (uint64_t)sqlite3_column_int64(s, 0);
		memcpy(cp->root, sqlite3_column_blob(s, 1), STORE_HASHLEN);
		cp->time = sqlite3_column_int64(s, 2);
		memcpy(cp->sig, sqlite3_column_blob(s, 3), STORE_SIGLEN);
		rc = 0;
	}
	store_done(s);
	return rc;
}

int store_checkpoint_latest(store *st, store_checkpoint *cp)
{
	sqlite3_stmt *s = log_stmt(st, STMT_CHECKPOINT_LATEST);

	if (s == NULL)
		return -1;
	return log_checkpoint_row(st, s, cp);
}

int store_checkpoint_at(store *st, uint64_t size, store_checkpoint *cp)
{
	sqlite3_stmt *s = log_stmt(st, STMT_CHECKPOINT_AT);

	if (s == NULL)
		return -1;
	if (sqlite3_bind_int64(s, 1, (int64_t)size) != SQLITE_OK) {
		store_done(s);
		return store_fail(st, "read checkpoint");
	}
	return log_checkpoint_row(st, s, cp);
}

int store_security_event(store *st, int64_t time, int64_t principal_id,
			 const char *peer, const char *kind, const char *reason)
{
	sqlite3_stmt *s = log_stmt(st, STMT_SECURITY_ADD);

	if (s == NULL)
		return -1;
	if (sqlite3_bind_int64(s, 1, time) != SQLITE_OK ||
	    store_bind_int64_or_null(s, 2, principal_id) != SQLITE_OK ||
	    sqlite3_bind_text(s, 3, peer, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(s, 4, kind, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(s, 5, reason, -1, SQLITE_STATIC) != SQLITE_OK) {
		store_done(s);
		return store_fail(st, "record security event");
	}
	return log_write(st, s, "record security event");
}

int store_security_events(store *st, int64_t since, uint32_t limit,
			  store_security_fn fn, void *arg)
{
	sqlite3_stmt *s = log_stmt(st, STMT_SECURITY_LIST);
	int rc;

	if (s == NULL)
		return -1;
	if (sqlite3_bind_int64(s, 1, since) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 2, limit) != SQLITE_OK) {
		store_done(s);
		return store_fail(st, "list security events");
	}
	for (;;) {
		int step = sqlite3_step(s);

		if (step == SQLITE_DONE) {
			rc = 0;
			break;
		}
		if (step != SQLITE_ROW) {
			rc = store_fail(st, "list security events");
			break;
		}
		rc = fn(arg, sqlite3_column_int64(s, 0),
			(const char *)sqlite3_column_text(s, 1),
			(const char *)sqlite3_column_text(s, 2),
			(const char *)sqlite3_column_text(s, 3),
			(const char *)sqlite3_column_text(s, 4));
		if (rc != 0)
			break;
	}
	store_done(s);
	return rc;
}

int store_integrity(store *st, char *msg, size_t cap)
{
	sqlite3_stmt *s = log_stmt(st, STMT_INTEGRITY);
	const unsigned char *t;
	int rc = -1;

	if (s == NULL)
		return -1;
	if (sqlite3_step(s) != SQLITE_ROW) {
		store_fail(st, "integrity check");
		goto out;
	}
	t = sqlite3_column_text(s, 0);
	snprintf(msg, cap, "%s", t != NULL ? (const char *)t : "?");
	rc = strcmp(msg, "ok") == 0 ? 0 : 1;
out:
	store_done(s);
	return rc;
}
