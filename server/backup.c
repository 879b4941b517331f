/*
 * Backups: the copy itself is SQLite's online backup API (store_copy);
 * a restore checks its copy with the offline verifier of `tamwild check`
 * before it touches the state, so a bad backup can never replace a good
 * database.
 */
#include "backup.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "check.h"
#include "server.h"
#include "state.h"
#include "store.h"

/* The copy being checked, in the state folder until it is put in place. */
#define BACKUP_RESTORING STATE_DB ".restoring"

int backup_take(const char *dir, const char *out_path, FILE *report)
{
	char db[4096], err[STATE_ERR_MAX];
	struct stat sb;

	if (state_path(db, sizeof(db), dir, STATE_DB) != 0) {
		fprintf(report, "state folder path too long\n");
		return 1;
	}
	if (access(db, R_OK) != 0) {
		fprintf(report, "%s has no database to back up\n", dir);
		return 1;
	}
	if (store_copy(db, out_path, err, sizeof(err)) != 0) {
		fprintf(report, "backup failed: %s\n", err);
		return 1;
	}
	if (stat(out_path, &sb) != 0)
		sb.st_size = 0;
	fprintf(report,
		"backup of %s written to %s (%lld bytes)\n"
		"the keys are not in it: keep a copy of %s/%s, %s/%s and "
		"%s/%s apart\n",
		db, out_path, (long long)sb.st_size, dir, STATE_SERVER_KEY, dir,
		STATE_DATA_KEY, dir, STATE_REST_KEYS);
	return 0;
}

/*
 * Checks the database copy at path against the state's server key, as
 * `tamwild check` does. 0 when it holds, 1 when not (reported).
 */
static int backup_verify(const char *dir, const char *path, FILE *report)
{
	char err[STATE_ERR_MAX];
	server *srv = calloc(1, sizeof(*srv));
	int rc = 1;

	if (srv == NULL) {
		fprintf(report, "out of memory\n");
		return 1;
	}
	/* The identities it holds must open with this folder's keys. */
	if (state_load_keys(dir, &srv->key, &srv->pub, &srv->data, err,
			    sizeof(err)) != 0 ||
	    state_load_rest(dir, srv->data.sk, &srv->seal, err, sizeof(err)) !=
		0) {
		fprintf(report, "%s\n", err);
		goto out;
	}
	if (store_open(path, 0, &srv->st, err, sizeof(err)) != 0) {
		fprintf(report, "the backup does not open: %s\n", err);
		goto out;
	}
	fprintf(report, "checking the backup against %s/%s:\n", dir,
		STATE_SERVER_PUB);
	rc = check_state(srv, report) == 0 ? 0 : 1;
out:
	store_close(srv->st);
	sodium_memzero(srv, sizeof(*srv));
	free(srv);
	return rc;
}

int backup_restore(const char *dir, const char *from, FILE *report)
{
	char tmp[4096], err[STATE_ERR_MAX], saved[4200];
	int lock = -1, rc;

	rc = state_lock(dir, &lock, err, sizeof(err));
	if (rc != 0) {
		fprintf(report, "cannot restore: %s%s\n", err,
			rc == 1 ? "; stop it first" : "");
		return 1;
	}
	rc = 1;
	if (state_path(tmp, sizeof(tmp), dir, BACKUP_RESTORING) != 0) {
		fprintf(report, "state folder path too long\n");
		goto out;
	}
	/* A copy left by a restore that was interrupted: ours to redo. */
	unlink(tmp);
	if (store_copy(from, tmp, err, sizeof(err)) != 0) {
		fprintf(report, "cannot restore: %s\n", err);
		goto out;
	}
	if (backup_verify(dir, tmp, report) != 0) {
		fprintf(report,
			"refusing %s: it does not verify; the state "
			"is unchanged\n",
			from);
		unlink(tmp);
		goto out;
	}
	if (state_replace_db(dir, tmp, saved, sizeof(saved), err,
			     sizeof(err)) != 0) {
		fprintf(report, "cannot restore: %s\n", err);
		unlink(tmp);
		goto out;
	}
	fprintf(report, "restored %s into %s\n", from, dir);
	if (saved[0] != '\0')
		fprintf(report, "the database it replaced is kept as %s\n",
			saved);
	rc = 0;
out:
	if (lock >= 0)
		close(lock);
	return rc;
}
