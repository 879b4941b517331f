/*
 * Copies of the database, with SQLite's online backup API: a consistent
 * snapshot taken in one read transaction, so the daemon keeps serving
 * (WAL readers never block the writer) and the copy is never half old,
 * half new.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store.h"

/* How long a copy waits for a lock before giving up. */
#define STORE_BACKUP_BUSY_MS 10000

/* fsyncs path (a file or a folder); 0 or -1 with errno. */
static int store_fsync_path(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC), rc, saved;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

/* fsyncs the folder holding path, so that a new name in it is durable. */
static int store_fsync_parent(const char *path)
{
	char copy[4096];

	if (snprintf(copy, sizeof(copy), "%s", path) >= (int)sizeof(copy)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return store_fsync_path(dirname(copy), O_RDONLY | O_DIRECTORY);
}

/* Copies every page of src into dst in one step (one read snapshot). */
static int store_backup_pages(sqlite3 *src, sqlite3 *dst, char *err,
			      size_t err_len)
{
	sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
	int rc;

	if (b == NULL) {
		snprintf(err, err_len, "cannot start the copy: %s",
			 sqlite3_errmsg(dst));
		return -1;
	}
	do {
		rc = sqlite3_backup_step(b, -1);
		if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
			sqlite3_sleep(20);
	} while (rc == SQLITE_BUSY || rc == SQLITE_LOCKED || rc == SQLITE_OK);
	sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE) {
		snprintf(err, err_len, "the copy failed: %s",
			 sqlite3_errstr(rc));
		return -1;
	}
	return 0;
}

int store_copy(const char *src_path, const char *dst_path, char *err,
	       size_t err_len)
{
	sqlite3 *src = NULL, *dst = NULL;
	int fd, rc = -1, created = 0;

	/* The destination is created here, private, and never replaced. */
	fd = open(dst_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, err_len, "cannot create %s: %s", dst_path,
			 errno == EEXIST ? "it already exists"
					 : strerror(errno));
		return -1;
	}
	close(fd);
	created = 1;
	if (sqlite3_open_v2(src_path, &src, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK) {
		snprintf(err, err_len, "cannot open %s: %s", src_path,
			 src != NULL ? sqlite3_errmsg(src) : "out of memory");
		goto out;
	}
	sqlite3_busy_timeout(src, STORE_BACKUP_BUSY_MS);
	if (sqlite3_open_v2(dst_path, &dst, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK) {
		snprintf(err, err_len, "cannot open %s: %s", dst_path,
			 dst != NULL ? sqlite3_errmsg(dst) : "out of memory");
		goto out;
	}
	if (store_backup_pages(src, dst, err, err_len) != 0)
		goto out;
	/* One self-contained file: no -wal beside it to forget. */
	if (sqlite3_exec(dst, "PRAGMA journal_mode = DELETE", NULL, NULL,
			 NULL) != SQLITE_OK) {
		snprintf(err, err_len, "cannot finish %s: %s", dst_path,
			 sqlite3_errmsg(dst));
		goto out;
	}
	if (sqlite3_close(dst) != SQLITE_OK) {
		snprintf(err, err_len, "cannot close %s", dst_path);
		goto out;
	}
	dst = NULL;
	if (store_fsync_path(dst_path, O_RDONLY) != 0 ||
	    store_fsync_parent(dst_path) != 0) {
		snprintf(err, err_len, "cannot flush %s: %s", dst_path,
			 strerror(errno));
		goto out;
	}
	rc = 0;
out:
	sqlite3_close(dst);
	sqlite3_close(src);
	if (rc != 0 && created)
		unlink(dst_path);
	return rc;
}
