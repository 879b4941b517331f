/*
 * The state folder of tamwild: its database, its private keys and the
 * public key file clients are provisioned with. Creating one (init) and
 * finding its parts live here, so the layout is written down once.
 */
#ifndef TAMWIL_STATE_H
#define TAMWIL_STATE_H

#include <stddef.h>

#include "keyfile.h"
#include "seal.h"

#define STATE_DB	 "tamwil.db"
#define STATE_SERVER_KEY "server.key"
#define STATE_DATA_KEY	 "data.key"
#define STATE_SERVER_PUB "server.pub"
#define STATE_LOCK	 "tamwild.lock"
#define STATE_REST_KEYS	 "rest.keys"
#define STATE_REKEY_LOCK "rekey.lock"
#define STATE_ERR_MAX	 512

/* Joins dir and name into buf; returns 0 or -1 when it does not fit. */
int state_path(char *buf, size_t cap, const char *dir, const char *name);

/*
 * Creates a state folder (mode 0700) with fresh server and data keys, the
 * public key file and an empty database. Refuses a folder that already
 * holds a database. The caller then enrols the first admin through the
 * log. Returns 0, or -1 with a sentence in err.
 */
int state_init(const char *dir, char *err, size_t err_len);

/*
 * Loads the server's private key and builds its public key file (with the
 * data key's public half); the data key pair goes to data unless it is
 * NULL. Returns 0, or -1 with a sentence in err.
 */
int state_load_keys(const char *dir, keyfile_secret *key, keyfile_public *pub,
		    keyfile_data *data, char *err, size_t err_len);

/*
 * Adds to ring the at-rest key versions it lacks: version 0 derived from
 * data_sk when ring is empty, then those of the state folder's rest.keys
 * (none when it does not exist), so a daemon that reads the file again
 * after a rotation adds the new version. Versions already held are kept
 * as they are; a file holding fewer versions than ring, or one that does
 * not derive the same keys for them (or gives back a retired one's key),
 * is refused; a version the file retires is kept while the process runs.
 * Returns 0, or -1 with a sentence in err (ring unchanged but for versions
 * fully added).
 */
int state_load_rest(const char *dir, const uint8_t *data_sk, seal_ring *ring,
		    char *err, size_t err_len);

/*
 * Writes into the lock file fd (held by a serving daemon) that process pid
 * holds at-rest key versions 0 to versions - 1, for tamwild rekey to read.
 * 0 or -1 with errno.
 */
int state_note_versions(int fd, long pid, unsigned versions);

/*
 * Reads what the daemon noted in dir's lock file: 0 with *pid and
 * *versions, 1 when nothing is noted yet, -1 with a sentence in err.
 */
int state_read_versions(const char *dir, long *pid, unsigned *versions,
			char *err, size_t err_len);

/*
 * Takes the state folder's lock (an flock on its tamwild.lock file), held
 * by a serving daemon for as long as it runs, and by a restore. What a
 * previous holder noted in it is cleared. Returns 0 with *fd to keep open
 * (closing it releases the lock), 1 when another process holds it ("tamwild is
 * running on this state folder" in err), or -1 with a sentence in err.
 */
int state_lock(const char *dir, int *fd, char *err, size_t err_len);

/*
 * Takes the lock a rotation holds for as long as it runs (an flock on
 * rekey.lock), so two never run at once: 0 with *fd to close when done, 1
 * when another holds it, or -1; a sentence in err either way.
 */
int state_lock_rekey(const char *dir, int *fd, char *err, size_t err_len);

/*
 * Makes the process holding the state lock (fd, from state_lock()) known
 * as the daemon serving the folder: a POSIX record lock on the lock file,
 * whose holder the kernel names to other processes (state_daemon_pid());
 * the file's text, the note of state_note_versions(), names it to people.
 * Only the serving daemon calls it. Returns 0, or -1 with a sentence in
 * err.
 */
int state_announce(int fd, char *err, size_t err_len);

/*
 * Finds the daemon serving dir (see state_announce()). Returns 0 with its
 * process id in *pid, 1 when none serves it, or -1 with a sentence in err.
 */
int state_daemon_pid(const char *dir, long *pid, char *err, size_t err_len);

/*
 * Puts the database file fresh (in dir, on the same file system) in place
 * of the state's database. The database it replaces, with its write-ahead
 * log, is kept beside it as tamwil.db.before-restore-TIMESTAMP, whose path
 * goes to saved ("" when there was none). The caller holds the lock.
 * Returns 0, or -1 with a sentence in err.
 */
int state_replace_db(const char *dir, const char *fresh, char *saved,
		     size_t saved_cap, char *err, size_t err_len);

#endif
