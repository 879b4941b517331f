/*
 * The state folder. init writes the keys before the database, and the
 * database last of all, so an interrupted init leaves no database that
 * looks ready but lacks its keys.
 */
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store.h"

_Static_assert(KEYFILE_REST_MAX + 1 == SEAL_VERSIONS_MAX,
	       "rest.keys holds every version but 0");

int state_path(char *buf, size_t cap, const char *dir, const char *name)
{
	int n = snprintf(buf, cap, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* Creates dir with mode 0700, or accepts an existing empty-enough one. */
static int state_mkdir(const char *dir, char *err, size_t err_len)
{
	char path[4096];

	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		snprintf(err, err_len, "cannot create %s: %s", dir,
			 strerror(errno));
		return -1;
	}
	if (state_path(path, sizeof(path), dir, STATE_DB) != 0 ||
	    access(path, F_OK) == 0) {
		snprintf(err, err_len,
			 "%s already holds a Tamwil database: refusing to "
			 "initialise it again",
			 dir);
		return -1;
	}
	return 0;
}

/* Writes the public key file that clients are given. */
static int state_write_pub(const char *path, const keyfile_public *pub,
			   char *err, size_t err_len)
{
	char text[KEYFILE_PUBLIC_TEXT_MAX];
	int len, fd, rc = -1;

	len = keyfile_format_public(pub, "Tamwil head office (tamwild)", text,
				    sizeof(text));
	if (len < 0) {
		snprintf(err, err_len, "cannot format the server public key");
		return -1;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, text, (size_t)len) != len || fsync(fd) != 0) {
		snprintf(err, err_len, "cannot write %s: %s", path,
			 strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

/* Creates the server and data keys and the public file; 0 or -1. */
static int state_make_keys(const char *dir, keyfile_public *pub, char *err,
			   size_t err_len)
{
	char path[4096];
	keyfile_secret key;
	keyfile_data data;
	int rc = -1, e = KEYFILE_ERR_IO;

	if (keyfile_generate(&key) != 0 || keyfile_data_generate(&data) != 0) {
		snprintf(err, err_len, "cannot generate keys");
		goto out;
	}
	if (state_path(path, sizeof(path), dir, STATE_SERVER_KEY) != 0 ||
	    (e = keyfile_write_secret(path, &key, NULL)) != 0) {
		snprintf(err, err_len, "%s: %s", path, keyfile_strerror(e));
		goto out;
	}
	if (state_path(path, sizeof(path), dir, STATE_DATA_KEY) != 0 ||
	    (e = keyfile_write_data(path, &data, NULL)) != 0) {
		snprintf(err, err_len, "%s: %s", path, keyfile_strerror(e));
		goto out;
	}
	keyfile_public_of(&key, pub);
	pub->has_data = 1;
	memcpy(pub->data_pk, data.pk, sizeof(pub->data_pk));
	if (state_path(path, sizeof(path), dir, STATE_SERVER_PUB) != 0 ||
	    state_write_pub(path, pub, err, err_len) != 0)
		goto out;
	rc = 0;
out:
	sodium_memzero(&key, sizeof(key));
	sodium_memzero(&data, sizeof(data));
	return rc;
}

int state_init(const char *dir, char *err, size_t err_len)
{
	char path[4096];
	keyfile_public pub;
	store *st = NULL;

	if (state_mkdir(dir, err, err_len) != 0 ||
	    state_make_keys(dir, &pub, err, err_len) != 0)
		return -1;
	if (state_path(path, sizeof(path), dir, STATE_DB) != 0 ||
	    store_open(path, 1, &st, err, err_len) != 0)
		return -1;
	store_close(st);
	return 0;
}

int state_load_keys(const char *dir, keyfile_secret *key, keyfile_public *pub,
		    keyfile_data *data_out, char *err, size_t err_len)
{
	char path[4096];
	keyfile_data data;
	int rc = -1, e = KEYFILE_ERR_IO;

	if (state_path(path, sizeof(path), dir, STATE_SERVER_KEY) != 0 ||
	    (e = keyfile_read_secret(path, NULL, key)) != 0) {
		snprintf(err, err_len, "%s: %s", path, keyfile_strerror(e));
		goto out;
	}
	if (state_path(path, sizeof(path), dir, STATE_DATA_KEY) != 0 ||
	    (e = keyfile_read_data(path, NULL, &data)) != 0) {
		snprintf(err, err_len, "%s: %s", path, keyfile_strerror(e));
		goto out;
	}
	keyfile_public_of(key, pub);
	pub->has_data = 1;
	memcpy(pub->data_pk, data.pk, sizeof(pub->data_pk));
	if (data_out != NULL)
		*data_out = data;
	rc = 0;
out:
	sodium_memzero(&data, sizeof(data));
	return rc;
}

/*
 * Takes an flock on dir/name, created if need be: 0 with *fd, 1 when
 * another process holds it (busy in err), or -1 with a sentence in err.
 */
static int state_flock(const char *dir, const char *name, const char *busy,
		       int *fd, char *err, size_t err_len)
{
	char path[4096];
	int f;

	*fd = -1;
	if (state_path(path, sizeof(path), dir, name) != 0) {
		snprintf(err, err_len, "state folder path too long");
		return -1;
	}
	f = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (f < 0) {
		snprintf(err, err_len, "cannot open %s: %s", path,
			 strerror(errno));
		return -1;
	}
	if (flock(f, LOCK_EX | LOCK_NB) != 0) {
		int held = errno == EWOULDBLOCK;

		snprintf(err, err_len, "%s%s", held ? "" : "cannot lock ",
			 held ? busy : strerror(errno));
		close(f);
		return held ? 1 : -1;
	}
	*fd = f;
	return 0;
}

int state_lock_rekey(const char *dir, int *fd, char *err, size_t err_len)
{
	return state_flock(dir, STATE_REKEY_LOCK,
			   "another tamwild rekey is running on this state "
			   "folder",
			   fd, err, err_len);
}

int state_lock(const char *dir, int *fd, char *err, size_t err_len)
{
	int f, rc;

	rc = state_flock(dir, STATE_LOCK,
			 "tamwild is running on this state folder", &f, err,
			 err_len);
	if (rc != 0) {
		*fd = -1;
		return rc;
	}
	if (ftruncate(f, 0) != 0) {
		char path[4096];

		(void)state_path(path, sizeof(path), dir, STATE_LOCK);
		snprintf(err, err_len, "cannot clear %s: %s", path,
			 strerror(errno));
		close(f);
		return -1;
	}
	*fd = f;
	return 0;
}

/* The lock file's note: the daemon's pid and how many versions it holds. */
#define STATE_NOTE_FMT "%ld %u\n"
#define STATE_NOTE_MAX 48

int state_note_versions(int fd, long pid, unsigned versions)
{
	char note[STATE_NOTE_MAX];
	int n = snprintf(note, sizeof(note), STATE_NOTE_FMT, pid, versions);

	/* Numbers only grow, so the note never needs shortening. */
	if (n < 0 || (size_t)n >= sizeof(note) ||
	    pwrite(fd, note, (size_t)n, 0) != n)
		return -1;
	return 0;
}

int state_read_versions(const char *dir, long *pid, unsigned *versions,
			char *err, size_t err_len)
{
	char path[4096], note[STATE_NOTE_MAX];
	ssize_t n;
	int fd;

	if (state_path(path, sizeof(path), dir, STATE_LOCK) != 0) {
		snprintf(err, err_len, "state folder path too long");
		return -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, err_len, "cannot open %s: %s", path,
			 strerror(errno));
		return -1;
	}
	n = pread(fd, note, sizeof(note) - 1, 0);
	close(fd);
	if (n < 0) {
		snprintf(err, err_len, "cannot read %s: %s", path,
			 strerror(errno));
		return -1;
	}
	note[n] = '\0';
	/* A note half written reads as none yet: the caller asks again. */
	if (n == 0 || note[n - 1] != '\n' ||
	    sscanf(note, "%ld %u", pid, versions) != 2 || *pid <= 0)
		return 1;
	return 0;
}

/*
 * Derives rest key version v (1 or later) from r and adds it to ring, or
 * adds its place alone when r says it is retired.
 */
static int state_add_version(seal_ring *ring, const keyfile_rest *r, unsigned v,
			     seal_keys *k)
{
	if (r->retired[v - 1])
		return seal_ring_add(ring, NULL);
	if (seal_derive_version(k, r->key[v - 1]) != 0 ||
	    seal_ring_add(ring, k) != 0)
		return -1;
	return 0;
}

int state_load_rest(const char *dir, const uint8_t *data_sk, seal_ring *ring,
		    char *err, size_t err_len)
{
	char path[4096];
	keyfile_rest *r = NULL;
	seal_keys *k = NULL;
	unsigned held;
	int rc = -1, e;

	r = sodium_malloc(sizeof(*r));
	k = sodium_malloc(sizeof(*k));
	if (r == NULL || k == NULL) {
		snprintf(err, err_len, "out of memory for the at-rest keys");
		goto out;
	}
	if (seal_ring_count(ring) == 0 &&
	    (seal_derive(k, data_sk) != 0 || seal_ring_add(ring, k) != 0)) {
		snprintf(err, err_len, "cannot derive the at-rest keys");
		goto out;
	}
	if (state_path(path, sizeof(path), dir, STATE_REST_KEYS) != 0) {
		snprintf(err, err_len, "state folder path too long");
		goto out;
	}
	e = keyfile_read_rest(path, r);
	if (e == KEYFILE_ERR_IO && errno == ENOENT)
		r->count = 0;
	else if (e != 0) {
		snprintf(err, err_len, "%s: %s", path, keyfile_strerror(e));
		goto out;
	}
	held = seal_ring_count(ring);
	if (r->count + 1 < held) {
		snprintf(err, err_len,
			 "%s holds versions up to %u, but version %u is in "
			 "use: the file was replaced by an older one",
			 path, r->count, held - 1);
		goto out;
	}
	/*
	 * A version retired since it was loaded stays in memory until the
	 * process ends: a reader may hold its keys at this very moment.
	 */
	for (unsigned v = 1; v < held; v++) {
		if (r->retired[v - 1])
			continue;
		if (seal_ring_get(ring, v) == NULL ||
		    seal_derive_version(k, r->key[v - 1]) != 0 ||
		    sodium_memcmp(k, seal_ring_get(ring, v), sizeof(*k)) != 0) {
			snprintf(err, err_len,
				 "%s: version %u is not the key in use", path,
				 v);
			goto out;
		}
	}
	for (unsigned v = held; v <= r->count; v++) {
		if (state_add_version(ring, r, v, k) != 0) {
			snprintf(err, err_len,
				 "cannot derive at-rest key version %u", v);
			goto out;
		}
	}
	rc = 0;
out:
	if (r != NULL)
		sodium_free(r);
	if (k != NULL)
		sodium_free(k);
	return rc;
}

int state_announce(int fd, char *err, size_t err_len)
{
	struct flock lk = {.l_type = F_WRLCK, .l_whence = SEEK_SET};

	/*
	 * The flock() of state_lock() keeps other daemons and restores out;
	 * this lock only names its holder, which flock() cannot.
	 */
	if (fcntl(fd, F_SETLK, &lk) != 0) {
		snprintf(err, err_len, "cannot lock %s: %s", STATE_LOCK,
			 strerror(errno));
		return -1;
	}
	return 0;
}

int state_daemon_pid(const char *dir, long *pid, char *err, size_t err_len)
{
	struct flock lk = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	char path[4096];
	int fd, rc = -1;

	if (state_path(path, sizeof(path), dir, STATE_LOCK) != 0) {
		snprintf(err, err_len, "state folder path too long");
		return -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 1; /* no daemon ever served it */
	if (fd < 0 || fcntl(fd, F_GETLK, &lk) != 0) {
		snprintf(err, err_len, "cannot read %s: %s", path,
			 strerror(errno));
		goto out;
	}
	rc = lk.l_type == F_UNLCK ? 1 : 0;
	*pid = (long)lk.l_pid;
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

/* Renames from to to when from exists; 0, or -1 with errno. */
static int state_rename_if(const char *from, const char *to)
{
	if (rename(from, to) == 0 || errno == ENOENT)
		return 0;
	return -1;
}

int state_replace_db(const char *dir, const char *fresh, char *saved,
		     size_t saved_cap, char *err, size_t err_len)
{
	char db[4096], aside[4096];
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	int fd;

	saved[0] = '\0';
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	if (state_path(db, sizeof(db), dir, STATE_DB) != 0 ||
	    snprintf(aside, sizeof(aside), "%s.before-restore-%s", db, stamp) >=
		(int)sizeof(aside)) {
		snprintf(err, err_len, "state folder path too long");
		return -1;
	}
	if (access(db, F_OK) == 0) {
		char from[4200], to[4200];

		/* The log beside it may hold committed work: it goes too. */
		snprintf(from, sizeof(from), "%s-wal", db);
		snprintf(to, sizeof(to), "%s-wal", aside);
		if (rename(db, aside) != 0 || state_rename_if(from, to) != 0) {
			snprintf(err, err_len, "cannot move %s aside: %s", db,
				 strerror(errno));
			return -1;
		}
		snprintf(from, sizeof(from), "%s-shm", db);
		unlink(from);
		snprintf(saved, saved_cap, "%s", aside);
	}
	if (rename(fresh, db) != 0) {
		snprintf(err, err_len, "cannot put %s in place: %s", db,
			 strerror(errno));
		return -1;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) != 0) {
		snprintf(err, err_len, "cannot flush %s: %s", dir,
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}
