/*
 * The store's side of at-rest key rotation: walking the sealed identities
 * (all of them, or those under an older key version), sealing one anew,
 * and counting the rows of each key version.
 */
#include "store.h"

#include <sqlite3.h>
#include <stdio.h>

#include "store_private.h"

// NOLINTBEGIN(bugprone-suspicious-missing-comma)
static const char *const rekey_sql[STMT_COUNT] = {
    [STMT_SEALED_ALL] =
	"SELECT id, key_version, blind_index, identity FROM beneficiaries"
	" WHERE id > ?2 ORDER BY id LIMIT ?3",
    /*
     * Walks the rows in id order through the table itself: a rotation
     * resumes after the last id it did, and the rows it already sealed
     * anew are skipped in passing rather than sorted again each batch.
     */
    [STMT_SEALED_BELOW] =
	"SELECT id, key_version, blind_index, identity"
	" FROM beneficiaries NOT INDEXED"
	" WHERE id > ?2 AND key_version < ?1 ORDER BY id LIMIT ?3",
    [STMT_RESEAL] = "UPDATE beneficiaries SET blind_index = ?2,"
		    " identity = ?3, key_version = ?4"
		    " WHERE id = ?1 AND key_version = ?5",
    [STMT_KEY_VERSIONS] = "SELECT key_version, count(*) FROM beneficiaries"
			  " GROUP BY key_version ORDER BY key_version",
};
// NOLINTEND(bugprone-suspicious-missing-comma)

static sqlite3_stmt *rekey_stmt(store *st, enum store_stmt id)
{
	return store_stmt(st, id, rekey_sql[id]);
}

int store_beneficiaries_sealed(store *st, long below_version, int64_t after_id,
			       uint32_t limit, store_sealed_fn fn, void *arg)
{
	sqlite3_stmt *s = rekey_stmt(st, below_version < 0 ? STMT_SEALED_ALL
							   : STMT_SEALED_BELOW);
	store_sealed b;
	int rc;

	if (s == NULL)
		return -1;
	if ((below_version >= 0 &&
	     sqlite3_bind_int64(s, 1, below_version) != SQLITE_OK) ||
	    sqlite3_bind_int64(s, 2, after_id) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 3, limit) != SQLITE_OK) {
		rc = store_fail(st, "read sealed identities");
		goto out;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		b.id = sqlite3_column_int64(s, 0);
		b.key_version = (unsigned)sqlite3_column_int64(s, 1);
		b.identity = sqlite3_column_blob(s, 3);
		b.identity_len = (size_t)sqlite3_column_bytes(s, 3);
		if (store_column_key(s, 2, b.blind_index) != 0) {
			snprintf(st->err, sizeof(st->err),
				 "beneficiary %lld: blind index of unexpected "
				 "size",
				 (long long)b.id);
			rc = -1;
			goto out;
		}
		if (fn(arg, &b) != 0)
			break;
	}
	rc = rc == SQLITE_ROW || rc == SQLITE_DONE
		 ? 0
		 : store_fail(st, "read sealed identities");
out:
	store_done(s);
	return rc;
}

int store_beneficiary_reseal(store *st, int64_t id, unsigned from_version,
			     const uint8_t *blind_index, const uint8_t *sealed,
			     size_t sealed_len, unsigned key_version)
{
	sqlite3_stmt *s = rekey_stmt(st, STMT_RESEAL);
	int rc;

	if (s == NULL)
		return -1;
	if (sqlite3_bind_int64(s, 1, id) != SQLITE_OK ||
	    sqlite3_bind_blob(s, 2, blind_index, STORE_KEYLEN, SQLITE_STATIC) !=
		SQLITE_OK ||
	    sqlite3_bind_blob64(s, 3, sealed, sealed_len, SQLITE_STATIC) !=
		SQLITE_OK ||
	    sqlite3_bind_int64(s, 4, key_version) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 5, from_version) != SQLITE_OK) {
		rc = store_fail(st, "seal the identity anew");
		goto out;
	}
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE)
		rc = sqlite3_changes(st->db) == 1 ? 0 : STORE_NOT_FOUND;
	else if (rc == SQLITE_CONSTRAINT_UNIQUE) {
		snprintf(st->err, sizeof(st->err),
			 "beneficiary %lld: its new blind index is another's",
			 (long long)id);
		rc = STORE_CONFLICT;
	} else
		rc = store_fail(st, "seal the identity anew");
out:
	store_done(s);
	return rc;
}

int store_key_versions(store *st, uint64_t *counts, unsigned n,
		       long *max_version)
{
	sqlite3_stmt *s = rekey_stmt(st, STMT_KEY_VERSIONS);
	int rc;

	*max_version = -1;
	for (unsigned v = 0; v < n; v++)
		counts[v] = 0;
	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int64_t v = sqlite3_column_int64(s, 0);

		if (v >= 0 && v < (int64_t)n)
			counts[v] = (uint64_t)sqlite3_column_int64(s, 1);
		*max_version = (long)v;
	}
	rc = rc == SQLITE_DONE ? 0 : store_fail(st, "count the key versions");
	store_done(s);
	return rc;
}
