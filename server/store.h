/*
 * The store: the only module that speaks SQL. It owns the SQLite database
 * (WAL, synchronous=FULL, foreign keys on), applies the versioned schema
 * migrations when it opens one, and offers narrow typed calls so that the
 * rest of the daemon never sees a statement. Keeping it narrow is what lets
 * the store move to dqlite later.
 */
#ifndef TAMWIL_STORE_H
#define TAMWIL_STORE_H

#include <stddef.h>
#include <stdint.h>

#define STORE_NAME_MAX 256
#define STORE_CODE_MAX 64
#define STORE_KEYLEN   32

/* Results besides 0 (done) and -1 (failure: store_errmsg() says why). */
#define STORE_NOT_FOUND 1
#define STORE_CONFLICT	2

typedef struct store store;

typedef struct store_principal {
	int64_t id;
	char name[STORE_NAME_MAX];
	char role[16];		     /* "coordinator", "approver", ... */
	char region[STORE_CODE_MAX]; /* region code, "" if none */
	uint8_t noise_pk[STORE_KEYLEN];
	uint8_t sign_pk[STORE_KEYLEN];
	int revoked;
} store_principal;

/* The schema version this build writes; store_open() upgrades to it. */
int store_schema_version(void);

/*
 * Opens (creating it when create is set) the database at path and brings
 * its schema up to date, each migration in its own transaction. Refuses a
 * database written by a newer version. On failure returns -1 and, when
 * err is not NULL, a sentence in err (capacity err_len).
 */
int store_open(const char *path, int create, store **out, char *err,
	       size_t err_len);

/* Closes the database; NULL is fine. */
void store_close(store *st);

/* The last error's sentence. */
const char *store_errmsg(const store *st);

/*
 * Enrols a principal. role must be a known role name; region is a region
 * code for coordinators and NULL or "" otherwise; enrolled_by is a principal
 * id or 0 for the first admin. Returns 0 with *id set, STORE_CONFLICT when
 * either key is already enrolled, STORE_NOT_FOUND for an unknown region, or
 * -1.
 */
int store_principal_add(store *st, const char *name, const char *role,
			const char *region, const uint8_t *noise_pk,
			const uint8_t *sign_pk, int64_t enrolled_by,
			int64_t *id);

/* Finds a principal (active or revoked) by its Noise key: 0, STORE_NOT_FOUND or
 * -1. */
int store_principal_by_noise(store *st, const uint8_t *noise_pk,
			     store_principal *out);

/* Marks the principal with this Noise key revoked: 0, STORE_NOT_FOUND or -1. */
int store_principal_revoke(store *st, const uint8_t *noise_pk);

/* Number of principals, for start-up checks: 0 or -1. */
int store_principal_count(store *st, int64_t *count);

#endif
