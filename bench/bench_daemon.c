/*
 * The benchmark's own tamwild; see bench_daemon.h. The daemon runs with
 * the settings of a real head office except the per-source limits, which
 * exist to stop one abusive address and would stop the load generator.
 */
#include "bench_daemon.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#define BENCH_START_TIMEOUT_MS 20000
#define BENCH_STOP_TIMEOUT_MS  10000

static const char bench_conf[] =
    "; Written by tamwil-bench: a load generator on one loopback address\n"
    "; must not be throttled like an abusive client.\n"
    "[tamwild]\n"
    "max_connections = 30000\n"
    "max_per_source = 1000000\n"
    "handshake_rate = 1000000\n"
    "handshake_burst = 1000000\n";

int bench_raise_nofile(long *now)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return -1;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			return -1;
	}
	*now = rl.rlim_cur == RLIM_INFINITY ? LONG_MAX : (long)rl.rlim_cur;
	return 0;
}

int bench_find_tamwild(char *out, size_t cap)
{
	char self[BENCH_PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n <= 0)
		return -1;
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (slash == NULL)
		return -1;
	*slash = '\0';
	if (snprintf(out, cap, "%s/../server/tamwild", self) >= (int)cap)
		return -1;
	return access(out, X_OK) == 0 ? 0 : -1;
}

/* Milliseconds of the monotonic clock. */
static long long bench_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleeps ms milliseconds, also when a signal interrupts. */
static void bench_sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/*
 * Forks and runs argv with stdin from /dev/null and stdout and stderr
 * appended to log, and no signal blocked. The child gets SIGTERM when the
 * benchmark dies, so even a killed run leaves no daemon behind. Returns
 * the child's pid, or -1.
 */
static pid_t bench_spawn(const char *const argv[], const char *log)
{
	int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	pid_t parent = getpid(), pid;

	if (fd < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		int in = open("/dev/null", O_RDONLY);
		sigset_t none;

		/* The benchmark blocks the signals the daemon stops on. */
		sigemptyset(&none);
		if (sigprocmask(SIG_SETMASK, &none, NULL) != 0 ||
		    prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 ||
		    getppid() != parent)
			_exit(127);
		if (in < 0 || dup2(in, 0) < 0 || dup2(fd, 1) < 0 ||
		    dup2(fd, 2) < 0)
			_exit(127);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(fd);
	return pid;
}

/* Waits for pid until deadline (bench_ms()); 0 with *status, or -1. */
static int bench_wait(pid_t pid, long long deadline, int *status)
{
	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);

		if (r == pid)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
		if (bench_ms() >= deadline)
			return -1;
		bench_sleep_ms(20);
	}
}

/* Runs argv to its end (at most 60 s); 0 when it exited with 0. */
static int bench_run_cmd(const char *const argv[], const char *log)
{
	pid_t pid = bench_spawn(argv, log);
	int status;

	if (pid < 0)
		return -1;
	if (bench_wait(pid, bench_ms() + 60000, &status) != 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		return -1;
	}
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* Writes text to path (created mode 0600, truncated); 0 or -1. */
static int bench_write(const char *path, const char *text, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, text, len);
	if (close(fd) != 0 || n != (ssize_t)len)
		return -1;
	return 0;
}

/* Creates a new state folder in d->state with a fresh admin key. */
static int bench_init_state(bench_daemon *d, keyfile_secret *admin, char *err,
			    size_t cap)
{
	char key[BENCH_PATH_MAX + 32], pub[BENCH_PATH_MAX + 32];
	char text[KEYFILE_PUBLIC_TEXT_MAX];
	const char *argv[9];
	keyfile_public p;
	int len, rc = -1;

	if (keyfile_generate(admin) != 0) {
		snprintf(err, cap, "cannot generate the admin key");
		return -1;
	}
	keyfile_public_of(admin, &p);
	len =
	    keyfile_format_public(&p, "tamwil-bench admin", text, sizeof(text));
	snprintf(pub, sizeof(pub), "%s.admin.pub", d->state);
	if (len < 0 || bench_write(pub, text, (size_t)len) != 0) {
		snprintf(err, cap, "cannot write %s: %s", pub, strerror(errno));
		return -1;
	}
	argv[0] = d->tamwild;
	argv[1] = "init";
	argv[2] = "--state";
	argv[3] = d->state;
	argv[4] = "--admin";
	argv[5] = pub;
	argv[6] = "--admin-name";
	argv[7] = "tamwil-bench admin";
	argv[8] = NULL;
	if (bench_run_cmd(argv, d->log) != 0) {
		snprintf(err, cap, "tamwild init --state %s failed (see %s)",
			 d->state, d->log);
		goto out;
	}
	snprintf(key, sizeof(key), "%s/%s", d->state, BENCH_ADMIN_KEY);
	if (keyfile_write_secret(key, admin, NULL) != 0) {
		snprintf(err, cap, "cannot write %s", key);
		goto out;
	}
	rc = 0;
out:
	unlink(pub);
	return rc;
}

const char *bench_tmpdir(void)
{
	const char *t = getenv("TMPDIR");

	return t != NULL && t[0] == '/' ? t : "/tmp";
}

int bench_daemon_prepare(bench_daemon *d, const char *state,
			 keyfile_secret *admin, char *err, size_t cap)
{
	char db[BENCH_PATH_MAX + 32], key[BENCH_PATH_MAX + 32];
	char conf[BENCH_PATH_MAX + 32];
	int e;

	d->tmp[0] = '\0';
	if (state == NULL) {
		snprintf(d->tmp, sizeof(d->tmp), "%s/tamwil-bench.XXXXXX",
			 bench_tmpdir());
		if (mkdtemp(d->tmp) == NULL) {
			snprintf(err, cap, "cannot create a folder in %s: %s",
				 bench_tmpdir(), strerror(errno));
			d->tmp[0] = '\0';
			return -1;
		}
		snprintf(d->state, sizeof(d->state), "%s/state", d->tmp);
		snprintf(d->log, sizeof(d->log), "%s/tamwild.log", d->tmp);
	} else {
		if (snprintf(d->state, sizeof(d->state), "%s", state) >=
		    (int)sizeof(d->state)) {
			snprintf(err, cap, "--state: the path is too long");
			return -1;
		}
		snprintf(d->log, sizeof(d->log), "%s.log", state);
	}
	snprintf(db, sizeof(db), "%s/tamwil.db", d->state);
	snprintf(key, sizeof(key), "%s/%s", d->state, BENCH_ADMIN_KEY);
	if (access(db, F_OK) != 0) {
		if (bench_init_state(d, admin, err, cap) != 0)
			return -1;
	} else if ((e = keyfile_read_secret(key, NULL, admin)) != 0) {
		snprintf(err, cap,
			 "%s: %s (a reused --state folder must be one "
			 "tamwil-bench made)",
			 key, keyfile_strerror(e));
		return -1;
	}
	snprintf(conf, sizeof(conf), "%s/tamwild.conf", d->state);
	if (bench_write(conf, bench_conf, sizeof(bench_conf) - 1) != 0) {
		snprintf(err, cap, "cannot write %s: %s", conf,
			 strerror(errno));
		return -1;
	}
	return 0;
}

/* Finds "listening on 127.0.0.1:PORT" in the log from offset from. */
static int bench_find_port(const char *log, long from, int *port)
{
	char buf[65536];
	const char *p;
	FILE *f = fopen(log, "r");
	size_t n;

	if (f == NULL)
		return -1;
	if (fseek(f, from, SEEK_SET) != 0) {
		fclose(f);
		return -1;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strstr(buf, "listening on 127.0.0.1:");
	if (p == NULL)
		return -1;
	*port = atoi(p + strlen("listening on 127.0.0.1:"));
	return *port > 0 ? 0 : -1;
}

int bench_daemon_start(bench_daemon *d, char *err, size_t cap)
{
	const char *argv[] = {d->tamwild, "--state",	 d->state,
			      "--listen", "127.0.0.1:0", NULL};
	long long deadline = bench_ms() + BENCH_START_TIMEOUT_MS;
	struct stat st;
	long from = stat(d->log, &st) == 0 ? (long)st.st_size : 0;
	int status;

	d->pid = bench_spawn(argv, d->log);
	if (d->pid < 0) {
		d->pid = 0;
		snprintf(err, cap, "cannot start %s: %s", d->tamwild,
			 strerror(errno));
		return -1;
	}
	while (bench_find_port(d->log, from, &d->port) != 0) {
		if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
			d->pid = 0;
			snprintf(err, cap, "tamwild exited at start (see %s)",
				 d->log);
			return -1;
		}
		if (bench_ms() >= deadline) {
			bench_daemon_stop(d);
			snprintf(err, cap,
				 "tamwild did not say it listens within %d s "
				 "(see %s)",
				 BENCH_START_TIMEOUT_MS / 1000, d->log);
			return -1;
		}
		bench_sleep_ms(20);
	}
	return 0;
}

/* nftw callback: removes one entry, children first. */
static int bench_rm(const char *path, const struct stat *sb, int flag,
		    struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return (flag == FTW_DP ? rmdir(path) : unlink(path)) == 0 ? 0 : -1;
}

void bench_daemon_stop(bench_daemon *d)
{
	int status;

	if (d->pid > 0) {
		kill(d->pid, SIGTERM);
		if (bench_wait(d->pid, bench_ms() + BENCH_STOP_TIMEOUT_MS,
			       &status) != 0) {
			kill(d->pid, SIGKILL);
			waitpid(d->pid, &status, 0);
		}
		d->pid = 0;
	}
	if (d->tmp[0] != '\0') {
		nftw(d->tmp, bench_rm, 16, FTW_DEPTH | FTW_PHYS);
		d->tmp[0] = '\0';
	}
}

int bench_rss(pid_t pid, long long *bytes)
{
	char path[64], line[256];
	FILE *f;
	int rc = -1;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		long long kib;

		if (sscanf(line, "VmRSS: %lld kB", &kib) == 1) {
			*bytes = kib * 1024;
			rc = 0;
			break;
		}
	}
	fclose(f);
	return rc;
}

/* utime + stime of a /proc stat file, in seconds, into *seconds: 0 or -1. */
static int bench_cpu_file(const char *path, double *seconds)
{
	char line[1024], *p;
	unsigned long long utime, stime;
	long tick = sysconf(_SC_CLK_TCK);
	FILE *f = fopen(path, "r");
	int rc = -1;

	if (f == NULL)
		return -1;
	/* The command name may hold spaces: fields count from its ')'. */
	if (tick > 0 && fgets(line, sizeof(line), f) != NULL &&
	    (p = strrchr(line, ')')) != NULL &&
	    sscanf(p + 1,
		   " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
		   &utime, &stime) == 2) {
		*seconds = (double)(utime + stime) / (double)tick;
		rc = 0;
	}
	fclose(f);
	return rc;
}

int bench_cpu(pid_t pid, double *seconds)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	return bench_cpu_file(path, seconds);
}

/* /proc/PID/task/ and a directory entry's name. */
#define BENCH_TASK_PATH (64 + 256)

/* 1 when the task at dir (/proc/PID/task/TID) is named name, else 0. */
static int bench_task_named(const char *dir, const char *name)
{
	char path[BENCH_TASK_PATH + 8], comm[64];
	FILE *f;
	int yes = 0;

	snprintf(path, sizeof(path), "%s/comm", dir);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	if (fgets(comm, sizeof(comm), f) != NULL) {
		comm[strcspn(comm, "\n")] = '\0';
		yes = strcmp(comm, name) == 0;
	}
	fclose(f);
	return yes;
}

int bench_cpu_threads(pid_t pid, const char *name, double *seconds)
{
	char dir[64], task[BENCH_TASK_PATH], path[BENCH_TASK_PATH + 8];
	struct dirent *e;
	double sum = 0, one;
	int found = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%ld/task", (long)pid);
	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(task, sizeof(task), "%s/%s", dir, e->d_name);
		if (!bench_task_named(task, name))
			continue;
		snprintf(path, sizeof(path), "%s/stat", task);
		if (bench_cpu_file(path, &one) == 0) {
			sum += one;
			found = 1;
		}
	}
	closedir(d);
	if (!found)
		return -1;
	*seconds = sum;
	return 0;
}
