/*
 * A full disk for the end-to-end tests, without mount rights: preloaded
 * into tamwild (LD_PRELOAD), it makes writes to the files of one folder
 * fail with ENOSPC while a flag file exists, as a full file system does.
 * Built only for the tests; it changes nothing while the flag is absent.
 *
 *   TAMWIL_ENOSPC_DIR   the folder whose files fill up (the state folder)
 *   TAMWIL_ENOSPC_FLAG  the flag file, outside that folder
 *
 * The flag file holds "WHAT [BYTES]": WHAT is "all" (every file of the
 * folder) or "db" (the database file tamwil.db alone, which only a WAL
 * checkpoint writes); BYTES (default 0) may still be written after the
 * flag appears before writes fail, the last of them cut short, so a disk
 * can fill in the middle of a commit. A new flag file (another inode or
 * modification time) starts a new count.
 *
 * A flag holding "slow MS" fills nothing: each fsync() or fdatasync() of
 * the folder's files first waits MS milliseconds, as a slow disk does, so
 * that a test can hold a commit open; the file FLAG.held exists while a
 * sync waits.
 */
#define _GNU_SOURCE // NOLINT(bugprone-reserved-identifier)

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define ENOSPC_DB "tamwil.db"

/* The functions interposed, as the C library has them. */
static struct {
	ssize_t (*write)(int, const void *, size_t);
	ssize_t (*pwrite)(int, const void *, size_t, off_t);
	ssize_t (*pwrite64)(int, const void *, size_t, off64_t);
	ssize_t (*writev)(int, const struct iovec *, int);
	int (*ftruncate)(int, off_t);
	int (*ftruncate64)(int, off64_t);
	int (*fallocate)(int, int, off_t, off_t);
	int (*posix_fallocate)(int, off_t, off_t);
	int (*fsync)(int);
	int (*fdatasync)(int);
} enospc_real;

static pthread_once_t enospc_once = PTHREAD_ONCE_INIT;

/* The count of bytes written since the current flag file appeared. */
static pthread_mutex_t enospc_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
	dev_t dev;
	ino_t ino;
	struct timespec mtime;
	unsigned long long budget, used;
} enospc_flag;

static void enospc_resolve(void)
{
	*(void **)&enospc_real.write = dlsym(RTLD_NEXT, "write");
	*(void **)&enospc_real.pwrite = dlsym(RTLD_NEXT, "pwrite");
	*(void **)&enospc_real.pwrite64 = dlsym(RTLD_NEXT, "pwrite64");
	*(void **)&enospc_real.writev = dlsym(RTLD_NEXT, "writev");
	*(void **)&enospc_real.ftruncate = dlsym(RTLD_NEXT, "ftruncate");
	*(void **)&enospc_real.ftruncate64 = dlsym(RTLD_NEXT, "ftruncate64");
	*(void **)&enospc_real.fallocate = dlsym(RTLD_NEXT, "fallocate");
	*(void **)&enospc_real.posix_fallocate =
	    dlsym(RTLD_NEXT, "posix_fallocate");
	*(void **)&enospc_real.fsync = dlsym(RTLD_NEXT, "fsync");
	*(void **)&enospc_real.fdatasync = dlsym(RTLD_NEXT, "fdatasync");
}

/*
 * 1 if fd is a regular file of the folder TAMWIL_ENOSPC_DIR that the flag
 * (what) covers: "all" its files, "db" the database alone.
 */
static int enospc_covered(int fd, const char *what)
{
	const char *dir = getenv("TAMWIL_ENOSPC_DIR");
	char link[64], path[PATH_MAX];
	struct stat st;
	size_t dlen;
	ssize_t n;

	if (dir == NULL || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		return 0;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n <= 0)
		return 0;
	path[n] = '\0';
	dlen = strlen(dir);
	if (strncmp(path, dir, dlen) != 0 || path[dlen] != '/')
		return 0;
	if (strcmp(what, "db") == 0)
		return strcmp(path + dlen + 1, ENOSPC_DB) == 0;
	return strcmp(what, "all") == 0;
}

/*
 * Reads the flag file into text (capacity 64) and its status into *st:
 * text is its first word, followed after its NUL by the rest. 0, or -1
 * when there is no flag.
 */
static int enospc_flag_read(char *text, struct stat *st)
{
	const char *flag = getenv("TAMWIL_ENOSPC_FLAG");
	ssize_t n;
	int f;

	memset(text, 0, 64);
	if (flag == NULL || stat(flag, st) != 0)
		return -1;
	f = open(flag, O_RDONLY | O_CLOEXEC);
	if (f < 0)
		return -1;
	n = read(f, text, 63);
	close(f);
	text[n > 0 ? n : 0] = '\0';
	text[strcspn(text, " \n")] = '\0';
	return 0;
}

/*
 * How many of the len bytes about to be written on fd may be written: len
 * while the flag file is absent or fd is not covered, else what is left
 * of the flag's budget (0: the disk is full).
 */
static size_t enospc_allow(int fd, size_t len)
{
	char text[64];
	unsigned long long left;
	struct stat st;

	pthread_once(&enospc_once, enospc_resolve);
	if (len == 0 || enospc_flag_read(text, &st) != 0 ||
	    !enospc_covered(fd, text))
		return len;
	pthread_mutex_lock(&enospc_mu);
	if (st.st_dev != enospc_flag.dev || st.st_ino != enospc_flag.ino ||
	    st.st_mtim.tv_sec != enospc_flag.mtime.tv_sec ||
	    st.st_mtim.tv_nsec != enospc_flag.mtime.tv_nsec) {
		enospc_flag.dev = st.st_dev;
		enospc_flag.ino = st.st_ino;
		enospc_flag.mtime = st.st_mtim;
		enospc_flag.used = 0;
		enospc_flag.budget =
		    strtoull(text + strlen(text) + 1, NULL, 10);
	}
	left = enospc_flag.budget - enospc_flag.used;
	if (len > left)
		len = (size_t)left;
	enospc_flag.used += len;
	pthread_mutex_unlock(&enospc_mu);
	return len;
}

/* The size of fd's file, or -1. */
static off_t enospc_size(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 ? st.st_size : -1;
}

/* 0 when fd may grow by len bytes; else -1 with errno ENOSPC. */
static int enospc_grow(int fd, off_t len)
{
	pthread_once(&enospc_once, enospc_resolve);
	if (len <= 0 || enospc_allow(fd, (size_t)len) == (size_t)len)
		return 0;
	errno = ENOSPC;
	return -1;
}

/*
 * Cuts *len to what may be written on fd: 0, or -1 with errno ENOSPC when
 * nothing may (a write that would write part gets a short count instead).
 */
static int enospc_cut(int fd, size_t *len)
{
	size_t want = *len;

	*len = enospc_allow(fd, want);
	if (*len > 0 || want == 0)
		return 0;
	errno = ENOSPC;
	return -1;
}

ssize_t write(int fd, const void *buf, size_t len)
{
	if (enospc_cut(fd, &len) != 0)
		return -1;
	return enospc_real.write(fd, buf, len);
}

ssize_t pwrite(int fd, const void *buf, size_t len, off_t at)
{
	if (enospc_cut(fd, &len) != 0)
		return -1;
	return enospc_real.pwrite(fd, buf, len, at);
}

ssize_t pwrite64(int fd, const void *buf, size_t len, off64_t at)
{
	if (enospc_cut(fd, &len) != 0)
		return -1;
	return enospc_real.pwrite64(fd, buf, len, at);
}

/* A gathered write is allowed whole or refused (no partial vector). */
ssize_t writev(int fd, const struct iovec *iov, int n)
{
	size_t len = 0;

	for (int i = 0; i < n; i++)
		len += iov[i].iov_len;
	if (enospc_grow(fd, (off_t)len) != 0)
		return -1;
	return enospc_real.writev(fd, iov, n);
}

int ftruncate(int fd, off_t len)
{
	if (enospc_grow(fd, len - enospc_size(fd)) != 0)
		return -1;
	return enospc_real.ftruncate(fd, len);
}

int ftruncate64(int fd, off64_t len)
{
	if (enospc_grow(fd, len - enospc_size(fd)) != 0)
		return -1;
	return enospc_real.ftruncate64(fd, len);
}

int fallocate(int fd, int mode, off_t at, off_t len)
{
	if (enospc_grow(fd, len) != 0)
		return -1;
	return enospc_real.fallocate(fd, mode, at, len);
}

/* posix_fallocate() reports its error as its value, not in errno. */
int posix_fallocate(int fd, off_t at, off_t len)
{
	if (enospc_grow(fd, len) != 0)
		return ENOSPC;
	return enospc_real.posix_fallocate(fd, at, len);
}

/* With the flag "slow MS", waits MS milliseconds before a sync of fd. */
static void enospc_stall(int fd)
{
	char text[64];
	struct stat st;
	long ms;

	pthread_once(&enospc_once, enospc_resolve);
	if (enospc_flag_read(text, &st) != 0 || strcmp(text, "slow") != 0 ||
	    !enospc_covered(fd, "all"))
		return;
	ms = strtol(text + strlen(text) + 1, NULL, 10);
	if (ms > 0) {
		struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
		char held[PATH_MAX];
		int f;

		snprintf(held, sizeof(held), "%s.held",
			 getenv("TAMWIL_ENOSPC_FLAG"));
		f = open(held, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (f >= 0)
			close(f);
		nanosleep(&ts, NULL);
		unlink(held);
	}
}

int fsync(int fd)
{
	enospc_stall(fd);
	return enospc_real.fsync(fd);
}

int fdatasync(int fd)
{
	enospc_stall(fd);
	return enospc_real.fdatasync(fd);
}
