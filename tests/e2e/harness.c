/*
 * End-to-end test support. Children are started with fork/exec so that
 * their output can be captured through close-on-exec pipes and their life
 * tied to the test process (PR_SET_PDEATHSIG); sockets are non-blocking
 * and every wait goes through poll() with a deadline.
 */
/* nftw() is an X/Open extension. */
#define _XOPEN_SOURCE 700 // NOLINT(bugprone-reserved-identifier)

#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "frame.h"

extern char **environ;

#define H_CLIENT_VERSION "tamwil-e2e " TAMWIL_VERSION
#define H_POLL_STEP_MS	 10

/* ---- time, paths, files ---------------------------------------------- */

int64_t h_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void h_sleep_ms(int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000,
			      .tv_nsec = (long)(ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

int h_left_ms(int64_t deadline)
{
	int64_t left = deadline - h_now_ms();

	if (left < 0)
		return 0;
	return left > 0x7fffffff ? 0x7fffffff : (int)left;
}

const char *h_tamwild_path(void)
{
	return getenv("TAMWILD");
}

const char *h_tamwil_path(void)
{
	return getenv("TAMWIL");
}

int h_slow(void)
{
	const char *wrap = getenv(H_WRAP_ENV);

	return wrap != NULL && wrap[0] != '\0';
}

int h_count(int n, int slow)
{
	return h_slow() ? slow : n;
}

int h_wait_ms(int ms)
{
	return h_slow() ? ms * H_SLOW_FACTOR : ms;
}

int h_tmpdir_create(char *dir, size_t cap)
{
	const char *base = getenv("TMPDIR");
	int n;

	if (base == NULL || base[0] == '\0')
		base = "/tmp";
	n = snprintf(dir, cap, "%s/tamwil-e2e.XXXXXX", base);
	if (n < 0 || (size_t)n >= cap)
		return -1;
	return mkdtemp(dir) == NULL ? -1 : 0;
}

/* nftw callback: removes one entry (children come first, FTW_DEPTH). */
static int h_remove_entry(const char *path, const struct stat *st, int flag,
			  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) == 0 ? 0 : -1;
}

int h_tmpdir_remove(const char *dir)
{
	if (dir == NULL || dir[0] == '\0')
		return 0;
	return nftw(dir, h_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int h_path(char *out, size_t cap, const char *dir, const char *name)
{
	int n = snprintf(out, cap, "%s/%s", dir, name);

	return (n < 0 || (size_t)n >= cap) ? -1 : 0;
}

int h_write_file(const char *path, const char *text)
{
	size_t len = strlen(text);
	int rc = -1;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	for (size_t done = 0; done < len;) {
		ssize_t n = write(fd, text + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto out;
		done += (size_t)n;
	}
	rc = 0;
out:
	if (close(fd) != 0)
		rc = -1;
	return rc;
}

int h_read_file(const char *path, long offset, char *buf, size_t cap,
		size_t *len)
{
	int rc = -1;
	size_t got = 0;
	int fd;

	*len = 0;
	buf[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (lseek(fd, offset, SEEK_SET) < 0)
		goto out;
	while (got + 1 < cap) {
		ssize_t n = read(fd, buf + got, cap - 1 - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto out;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	*len = got;
	rc = 0;
out:
	close(fd);
	return rc;
}

long h_file_size(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return -1;
	return (long)st.st_size;
}

/* ---- child processes ---------------------------------------------------- */

/* 1 if entry ("NAME=value" or "NAME") names the variable of var. */
static int h_env_same_name(const char *entry, const char *var)
{
	size_t n = strcspn(entry, "=");

	return strncmp(entry, var, n) == 0 && (var[n] == '=' || var[n] == '\0');
}

/* 1 if some entry of changes names the variable of var. */
static int h_env_changed(const char *const changes[], const char *var)
{
	for (size_t i = 0; changes != NULL && changes[i] != NULL; i++)
		if (h_env_same_name(changes[i], var))
			return 1;
	return 0;
}

/*
 * Builds the child's environment: environ minus every variable named in
 * changes, plus the "NAME=value" entries of changes. The strings are
 * borrowed; free() releases the array. Returns NULL when out of memory.
 */
static char **h_env_build(const char *const changes[])
{
	size_t n_env = 0, n_chg = 0, k = 0;
	char **envp;

	while (environ[n_env] != NULL)
		n_env++;
	while (changes != NULL && changes[n_chg] != NULL)
		n_chg++;
	envp = calloc(n_env + n_chg + 1, sizeof(*envp));
	if (envp == NULL)
		return NULL;
	for (size_t i = 0; i < n_env; i++)
		if (!h_env_changed(changes, environ[i]))
			envp[k++] = environ[i];
	for (size_t i = 0; i < n_chg; i++)
		if (strchr(changes[i], '=') != NULL)
			envp[k++] = (char *)changes[i];
	envp[k] = NULL;
	return envp;
}

/* Makes a pipe whose two ends are close-on-exec; returns 0 or -1. */
static int h_pipe(int fds[2])
{
	if (pipe(fds) != 0)
		return -1;
	if (fcntl(fds[0], F_SETFD, FD_CLOEXEC) != 0 ||
	    fcntl(fds[1], F_SETFD, FD_CLOEXEC) != 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	return 0;
}

/*
 * In the child: stdin from /dev/null, stdout and stderr onto out_fd and
 * err_fd, death with the parent, then exec. Never returns.
 */
static void h_child_exec(const char *const argv[], char **envp, int out_fd,
			 int err_fd, pid_t parent)
{
	int null_fd = open("/dev/null", O_RDONLY);

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
		_exit(126);
	if (null_fd < 0 || dup2(null_fd, 0) < 0 || dup2(out_fd, 1) < 0 ||
	    dup2(err_fd, 2) < 0)
		_exit(126);
	execve(argv[0], (char *const *)argv, envp);
	dprintf(2, "harness: cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/*
 * The prefix for program path: TAMWIL_E2E_WRAP for tamwild,
 * TAMWIL_E2E_WRAP_CLIENT for tamwil, NULL for anything else or when the
 * variable is unset or empty.
 */
static const char *h_wrap_of(const char *path)
{
	const char *d = h_tamwild_path(), *c = h_tamwil_path();
	const char *wrap = NULL;

	if (d != NULL && strcmp(path, d) == 0)
		wrap = getenv(H_WRAP_ENV);
	else if (c != NULL && strcmp(path, c) == 0)
		wrap = getenv(H_WRAP_CLIENT_ENV);
	return wrap != NULL && wrap[0] != '\0' ? wrap : NULL;
}

/*
 * The command line to run for argv: argv itself, or argv behind the words
 * of its prefix (h_wrap_of(): a checker such as valgrind, whose first
 * word is a path). *text holds the words; free() both. NULL when out of
 * memory.
 */
static const char **h_wrap(const char *const argv[], char **text)
{
	const char *wrap = h_wrap_of(argv[0]);
	size_t n = 0, k = 0;
	const char **out;
	char *save = NULL;

	*text = NULL;
	while (argv[n] != NULL)
		n++;
	if (wrap != NULL) {
		*text = strdup(wrap);
		if (*text == NULL)
			return NULL;
	}
	/* At most one word per two bytes of the wrapper's text. */
	out = calloc(n + 1 + (*text ? strlen(*text) / 2 + 1 : 0), sizeof(*out));
	if (out == NULL) {
		free(*text);
		*text = NULL;
		return NULL;
	}
	for (char *w = *text ? strtok_r(*text, " ", &save) : NULL; w != NULL;
	     w = strtok_r(NULL, " ", &save))
		out[k++] = w;
	for (size_t i = 0; i < n; i++)
		out[k++] = argv[i];
	out[k] = NULL;
	return out;
}

/*
 * Forks and execs argv (behind TAMWIL_E2E_WRAP, see h_wrap()) with stdout
 * on out_fd and stderr on err_fd (both stay open in the parent). Returns
 * the child's pid, or -1.
 */
static pid_t h_fork_exec(const char *const argv[], const char *const env[],
			 int out_fd, int err_fd)
{
	pid_t parent = getpid();
	const char **run;
	char **envp, *words;
	pid_t pid = -1;

	if (argv[0] == NULL)
		return -1;
	envp = h_env_build(env);
	run = h_wrap(argv, &words);
	if (envp == NULL || run == NULL)
		goto out;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0)
		h_child_exec(run, envp, out_fd, err_fd, parent);
out:
	free(envp);
	free(run);
	free(words);
	return pid;
}

int h_spawn(h_proc *p, const char *const argv[], const char *const env[])
{
	int out[2] = {-1, -1}, err[2] = {-1, -1};
	int rc = -1;

	p->pid = -1;
	p->out_fd = -1;
	p->err_fd = -1;
	p->started_ms = h_now_ms();
	if (h_pipe(out) != 0 || h_pipe(err) != 0)
		goto out;
	p->pid = h_fork_exec(argv, env, out[1], err[1]);
	if (p->pid < 0)
		goto out;
	p->out_fd = out[0];
	p->err_fd = err[0];
	out[0] = err[0] = -1;
	rc = 0;
out:
	for (int i = 0; i < 2; i++) {
		if (out[i] >= 0)
			close(out[i]);
		if (err[i] >= 0)
			close(err[i]);
	}
	return rc;
}

/*
 * Reads what is available on *fd into buf (keeping at most cap - 1 bytes,
 * dropping the rest); closes *fd and sets it to -1 at end of stream.
 */
static void h_drain(int *fd, char *buf, size_t cap, size_t *len)
{
	char tmp[4096];
	ssize_t n = read(*fd, tmp, sizeof(tmp));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		close(*fd);
		*fd = -1;
		return;
	}
	for (ssize_t i = 0; i < n && *len + 1 < cap; i++)
		buf[(*len)++] = tmp[i];
	buf[*len] = '\0';
}

/* An h_drain_fn into an h_result's fixed buffers. */
static void h_drain_result(void *arg, int stream, int *fd)
{
	h_result *r = arg;

	if (stream == 1)
		h_drain(fd, r->out, sizeof(r->out), &r->out_len);
	else
		h_drain(fd, r->err, sizeof(r->err), &r->err_len);
}

void h_proc_read(h_proc *p, int64_t deadline_ms, h_drain_fn drain, void *arg)
{
	while (p->out_fd >= 0 || p->err_fd >= 0) {
		struct pollfd pfd[2] = {{.fd = p->out_fd, .events = POLLIN},
					{.fd = p->err_fd, .events = POLLIN}};
		int n = poll(pfd, 2, h_left_ms(deadline_ms));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		if (pfd[0].revents != 0)
			drain(arg, 1, &p->out_fd);
		if (pfd[1].revents != 0)
			drain(arg, 2, &p->err_fd);
	}
}

/*
 * Reaps pid, polling until deadline, then kills it. Stores the wait status
 * in *wstatus; returns 0 if it ended by itself, 1 if it was killed, -1 on
 * a waitpid failure.
 */
static int h_reap(pid_t pid, int64_t deadline, int *wstatus)
{
	for (;;) {
		pid_t got = waitpid(pid, wstatus, WNOHANG);

		if (got == pid)
			return 0;
		if (got < 0 && errno != EINTR)
			return -1;
		if (h_now_ms() >= deadline)
			break;
		h_sleep_ms(H_POLL_STEP_MS / 2);
	}
	kill(pid, SIGKILL);
	while (waitpid(pid, wstatus, 0) < 0)
		if (errno != EINTR)
			return -1;
	return 1;
}

int h_proc_end(h_proc *p, int64_t deadline_ms, int *exited, int *status,
	       int64_t *elapsed_ms)
{
	int wstatus = 0;
	int reaped = h_reap(p->pid, deadline_ms, &wstatus);

	*elapsed_ms = h_now_ms() - p->started_ms;
	if (p->out_fd >= 0)
		close(p->out_fd);
	if (p->err_fd >= 0)
		close(p->err_fd);
	p->out_fd = p->err_fd = -1;
	p->pid = -1;
	if (reaped < 0)
		return -1;
	*exited = WIFEXITED(wstatus);
	*status = *exited ? WEXITSTATUS(wstatus) : WTERMSIG(wstatus);
	return reaped;
}

int h_collect(h_proc *p, int64_t deadline_ms, h_result *r)
{
	int reaped;

	r->out_len = r->err_len = 0;
	r->out[0] = r->err[0] = '\0';
	r->exited = 0;
	r->status = -1;
	r->timed_out = 0;
	h_proc_read(p, deadline_ms, h_drain_result, r);
	reaped =
	    h_proc_end(p, deadline_ms, &r->exited, &r->status, &r->elapsed_ms);
	if (reaped < 0)
		return -1;
	r->timed_out = reaped == 1;
	return 0;
}

int h_run(h_result *r, int timeout_ms, const char *const env[],
	  const char *const argv[])
{
	h_proc p;

	memset(r, 0, sizeof(*r));
	r->status = -1;
	if (h_spawn(&p, argv, env) != 0)
		return -1;
	return h_collect(&p, h_now_ms() + h_wait_ms(timeout_ms), r);
}

int h_ok(const h_result *r)
{
	return r->exited && r->status == 0 && !r->timed_out;
}

void h_result_print(const h_result *r, const char *what)
{
	fprintf(stderr,
		"---- %s: %s %d%s after %lld ms\n---- stdout:\n%s\n"
		"---- stderr:\n%s\n----\n",
		what, r->exited ? "exit status" : "signal", r->status,
		r->timed_out ? " (killed at the deadline)" : "",
		(long long)r->elapsed_ms, r->out, r->err);
}

int h_one_line(const char *text)
{
	const char *nl = strchr(text, '\n');

	return nl != NULL && nl != text && nl[1] == '\0';
}

/* Copies the JSON string body starting at s (after its quote) into out. */
static int h_json_unescape(const char *s, char *out, size_t cap)
{
	size_t k = 0;

	for (; *s != '\0' && *s != '"'; s++) {
		char c = *s;

		if (c == '\\' && s[1] != '\0') {
			s++;
			c = (char)(*s == 'n' ? '\n' : *s == 't' ? '\t' : *s);
			if (strchr("\"\\/nt", *s) == NULL && k + 1 < cap)
				out[k++] = '\\';
		}
		if (k + 1 >= cap)
			return -1;
		out[k++] = c;
	}
	out[k] = '\0';
	return *s == '"' ? 0 : -1;
}

/* The value of "key" in a JSON object's text (after the colon), or NULL. */
static const char *h_json_value(const char *json, const char *key)
{
	size_t klen = strlen(key);
	const char *p = json;

	while ((p = strchr(p, '"')) != NULL) {
		const char *v = p + 1 + klen;

		p++;
		if (strncmp(p, key, klen) != 0 || *v != '"')
			continue;
		v++;
		v += strspn(v, " \t\r\n");
		if (*v != ':')
			continue;
		v++;
		return v + strspn(v, " \t\r\n");
	}
	return NULL;
}

int h_json_string(const char *json, const char *key, char *out, size_t cap)
{
	const char *v = h_json_value(json, key);

	if (v == NULL || *v != '"')
		return -1;
	return h_json_unescape(v + 1, out, cap);
}

int h_json_null(const char *json, const char *key)
{
	const char *v = h_json_value(json, key);

	return v != NULL && strncmp(v, "null", 4) == 0;
}

/* ---- the client and the daemon ----------------------------------------- */

int h_keygen(const char *dir, const char *name, const char *const env[],
	     char *key, char *pub)
{
	const char *gen[] = {h_tamwil_path(), "keygen", "--out", key, NULL};
	const char *show[] = {h_tamwil_path(), "key", "public", key, NULL};
	char file[H_PATH_MAX];
	h_result *r = calloc(1, sizeof(*r));
	int rc = -1;

	if (r == NULL)
		return -1;
	if (snprintf(file, sizeof(file), "%s.key", name) >= (int)sizeof(file) ||
	    h_path(key, H_PATH_MAX, dir, file) != 0 ||
	    snprintf(file, sizeof(file), "%s.pub", name) >= (int)sizeof(file) ||
	    h_path(pub, H_PATH_MAX, dir, file) != 0)
		goto out;
	if (h_run(r, H_RUN_TIMEOUT_MS, env, gen) != 0 || !h_ok(r)) {
		h_result_print(r, "tamwil keygen");
		goto out;
	}
	if (h_run(r, H_RUN_TIMEOUT_MS, env, show) != 0 || !h_ok(r)) {
		h_result_print(r, "tamwil key public");
		goto out;
	}
	rc = h_write_file(pub, r->out);
out:
	free(r);
	return rc;
}

int h_whoami(h_result *r, int port, const char *server_pub, const char *key,
	     int json, const char *const env[])
{
	char server[64];
	const char *argv[10];
	int n = 0;

	snprintf(server, sizeof(server), "127.0.0.1:%d", port);
	argv[n++] = h_tamwil_path();
	argv[n++] = "--server";
	argv[n++] = server;
	argv[n++] = "--server-key";
	argv[n++] = server_pub;
	argv[n++] = "--key";
	argv[n++] = key;
	if (json)
		argv[n++] = "--json";
	argv[n++] = "whoami";
	argv[n] = NULL;
	return h_run(r, H_RUN_TIMEOUT_MS, env, argv);
}

/* Parses the port of the "listening on 127.0.0.1:PORT" line in text. */
static int h_listening_port(const char *text)
{
	static const char mark[] = "listening on 127.0.0.1:";
	const char *p = strstr(text, mark);
	char *end;
	long port;

	if (p == NULL)
		return -1;
	p += sizeof(mark) - 1;
	port = strtol(p, &end, 10);
	if (end == p || port <= 0 || port > 65535)
		return -1;
	return (int)port;
}

/* Polls the log until it shows the listening line or the daemon exits. */
static int h_daemon_wait_port(h_daemon *d, long from)
{
	int64_t deadline = h_now_ms() + h_wait_ms(H_START_TIMEOUT_MS);
	char text[H_OUTPUT_MAX];

	for (;;) {
		size_t len;

		if (h_read_file(d->log, from, text, sizeof(text), &len) == 0) {
			d->port = h_listening_port(text);
			if (d->port > 0)
				return 0;
		}
		if (!h_daemon_alive(d) || h_now_ms() >= deadline)
			return -1;
		h_sleep_ms(H_POLL_STEP_MS);
	}
}

int h_daemon_start(h_daemon *d, const char *state, const char *log,
		   const char *const extra[], const char *const env[])
{
	const char *argv[H_MAX_ARGS + 8];
	long from;
	int n = 0;
	int fd;

	d->pid = 0;
	d->port = -1;
	if (snprintf(d->log, sizeof(d->log), "%s", log) >= (int)sizeof(d->log))
		return -1;
	argv[n++] = h_tamwild_path();
	argv[n++] = "--state";
	argv[n++] = state;
	argv[n++] = "--listen";
	argv[n++] = "127.0.0.1:0";
	/* Under a checker a handshake is slow at both ends; extra may say. */
	if (h_slow()) {
		argv[n++] = "--handshake-timeout";
		argv[n++] = H_SLOW_HANDSHAKE_S;
	}
	for (int i = 0; extra != NULL && extra[i] != NULL && i < H_MAX_ARGS;
	     i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	from = h_file_size(log);
	d->pid = h_fork_exec(argv, env, fd, fd);
	close(fd);
	if (d->pid <= 0) {
		d->pid = 0;
		return -1;
	}
	if (h_daemon_wait_port(d, from) == 0)
		return 0;
	fprintf(stderr, "harness: tamwild did not report its port\n");
	h_daemon_kill(d);
	h_log_dump(log, from);
	return -1;
}

int h_disk_env(h_disk *k, const char *shim, const char *state, const char *dir,
	       const char *flag_name, const char *const base[])
{
	const char *asan = getenv("ASAN_OPTIONS");
	size_t n = 0;

	if (h_path(k->flag, sizeof(k->flag), dir, flag_name) != 0)
		return -1;
	snprintf(k->preload, sizeof(k->preload), "LD_PRELOAD=%s", shim);
	snprintf(k->dir, sizeof(k->dir), "TAMWIL_ENOSPC_DIR=%s", state);
	snprintf(k->flag_var, sizeof(k->flag_var), "TAMWIL_ENOSPC_FLAG=%s",
		 k->flag);
	snprintf(k->asan, sizeof(k->asan),
		 "ASAN_OPTIONS=%s%sverify_asan_link_order=0",
		 asan != NULL ? asan : "", asan != NULL ? ":" : "");
	for (; base[n] != NULL; n++) {
		if (n + 5 > H_DISK_ENV_MAX)
			return -1;
		k->env[n] = base[n];
	}
	k->env[n++] = k->preload;
	k->env[n++] = k->dir;
	k->env[n++] = k->flag_var;
	k->env[n++] = k->asan;
	k->env[n] = NULL;
	return 0;
}

int h_daemon_alive(h_daemon *d)
{
	int wstatus;

	if (d->pid <= 0)
		return 0;
	if (waitpid(d->pid, &wstatus, WNOHANG) == d->pid) {
		d->pid = 0;
		return 0;
	}
	return 1;
}

int h_daemon_stop(h_daemon *d, int timeout_ms, int *wstatus)
{
	int killed;

	*wstatus = -1;
	if (d->pid <= 0)
		return -1;
	kill(d->pid, SIGTERM);
	killed = h_reap(d->pid, h_now_ms() + h_wait_ms(timeout_ms), wstatus);
	d->pid = 0;
	return killed == 0 ? 0 : -1;
}

void h_daemon_kill(h_daemon *d)
{
	int wstatus;

	if (d->pid <= 0)
		return;
	kill(d->pid, SIGKILL);
	while (waitpid(d->pid, &wstatus, 0) < 0 && errno == EINTR)
		;
	d->pid = 0;
}

/* 1 if the line [line, end) contains every needle. */
static int h_line_matches(const char *line, const char *end,
			  const char *const needles[])
{
	for (size_t i = 0; needles[i] != NULL; i++) {
		size_t nlen = strlen(needles[i]);
		const char *p = line;
		int found = 0;

		for (; p + nlen <= end && !found; p++)
			found = memcmp(p, needles[i], nlen) == 0;
		if (!found)
			return 0;
	}
	return 1;
}

/* 1 if some line of text contains every needle. */
static int h_text_has_line(const char *text, const char *const needles[])
{
	while (*text != '\0') {
		const char *end = strchr(text, '\n');

		if (end == NULL)
			end = text + strlen(text);
		if (h_line_matches(text, end, needles))
			return 1;
		text = *end == '\n' ? end + 1 : end;
	}
	return 0;
}

int h_log_wait(const char *path, long from, const char *const needles[],
	       int timeout_ms)
{
	int64_t deadline = h_now_ms() + h_wait_ms(timeout_ms);
	char *text = malloc(1 << 20);
	int rc = -1;

	if (text == NULL)
		return -1;
	for (;;) {
		size_t len;

		if (h_read_file(path, from, text, 1 << 20, &len) == 0 &&
		    h_text_has_line(text, needles)) {
			rc = 0;
			break;
		}
		if (h_now_ms() >= deadline)
			break;
		h_sleep_ms(H_POLL_STEP_MS);
	}
	free(text);
	return rc;
}

void h_log_dump(const char *path, long from)
{
	char text[H_OUTPUT_MAX];
	size_t len;
	long size = h_file_size(path);

	if (size > from + (long)sizeof(text) - 1)
		from = size - (long)sizeof(text) + 1;
	if (h_read_file(path, from, text, sizeof(text), &len) != 0)
		fprintf(stderr, "---- %s: unreadable\n", path);
	else
		fprintf(stderr, "---- %s:\n%s----\n", path, text);
}

/* ---- raw TCP and frames ------------------------------------------------ */

/* Waits for events on fd until deadline: 1 ready, 0 timeout, -1 error. */
static int h_poll_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = events};
		int n = poll(&pfd, 1, h_left_ms(deadline));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		return n;
	}
}

int h_tcp_connect(int port, int timeout_ms)
{
	int64_t deadline = h_now_ms() + timeout_ms;
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int err = 0;
	socklen_t elen = sizeof(err);
	int fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return fd;
	if (errno != EINPROGRESS || h_poll_fd(fd, POLLOUT, deadline) != 1 ||
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0 ||
	    err != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* 1 if errno says the peer has gone. */
static int h_errno_closed(void)
{
	return errno == ECONNRESET || errno == EPIPE || errno == ECONNABORTED;
}

int h_send_all(int fd, const void *buf, size_t len, int timeout_ms)
{
	int64_t deadline = h_now_ms() + timeout_ms;
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && h_errno_closed())
			return H_IO_CLOSED;
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return H_IO_ERROR;
		if (h_poll_fd(fd, POLLOUT, deadline) != 1)
			return H_IO_TIMEOUT;
	}
	return H_IO_OK;
}

/* h_recv_all against an absolute deadline. */
static int h_recv_until(int fd, void *buf, size_t len, int64_t deadline)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = recv(fd, p, len, 0);

		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n == 0 || h_errno_closed())
			return H_IO_CLOSED;
		if (errno != EAGAIN && errno != EINTR)
			return H_IO_ERROR;
		if (h_poll_fd(fd, POLLIN, deadline) != 1)
			return H_IO_TIMEOUT;
	}
	return H_IO_OK;
}

int h_recv_all(int fd, void *buf, size_t len, int timeout_ms)
{
	return h_recv_until(fd, buf, len, h_now_ms() + timeout_ms);
}

int h_frame_send(int fd, const uint8_t *body, size_t len, int timeout_ms)
{
	uint8_t *buf = malloc(FRAME_HEADER_LEN + len);
	int rc = H_IO_ERROR;

	if (buf == NULL || frame_put_header(buf, len) != 0)
		goto out;
	memcpy(buf + FRAME_HEADER_LEN, body, len);
	rc = h_send_all(fd, buf, FRAME_HEADER_LEN + len, timeout_ms);
out:
	free(buf);
	return rc;
}

int h_frame_recv(int fd, uint8_t *body, size_t cap, size_t *len, int timeout_ms)
{
	int64_t deadline = h_now_ms() + timeout_ms;
	uint8_t hdr[FRAME_HEADER_LEN];
	int rc;

	*len = 0;
	rc = h_recv_until(fd, hdr, sizeof(hdr), deadline);
	if (rc != H_IO_OK)
		return rc;
	if (frame_check(hdr, sizeof(hdr), cap, len) == FRAME_BAD)
		return H_IO_ERROR;
	return h_recv_until(fd, body, *len, deadline);
}

int h_wait_closed(int fd, int timeout_ms)
{
	int64_t deadline = h_now_ms() + timeout_ms;
	uint8_t byte;

	for (;;) {
		ssize_t n = recv(fd, &byte, 1, 0);

		if (n > 0)
			return H_CLOSE_DATA;
		if (n == 0 || h_errno_closed())
			return H_CLOSE_CLOSED;
		if (errno != EAGAIN && errno != EINTR)
			return H_CLOSE_ERROR;
		if (h_poll_fd(fd, POLLIN, deadline) == 0)
			return H_CLOSE_OPEN;
	}
}

/* ---- a raw Noise_XK client --------------------------------------------- */

/* Loads the client's key and the server's public key into c. */
static int h_noise_keys(h_noise *c, const char *key_path,
			const char *server_pub_path)
{
	keyfile_public server;
	int err;

	err = keyfile_read_secret(key_path, NULL, &c->key);
	if (err != KEYFILE_OK) {
		fprintf(stderr, "harness: %s: %s\n", key_path,
			keyfile_strerror(err));
		return -1;
	}
	err = keyfile_read_public(server_pub_path, &server);
	if (err != KEYFILE_OK) {
		fprintf(stderr, "harness: %s: %s\n", server_pub_path,
			keyfile_strerror(err));
		return -1;
	}
	memcpy(c->server_pk, server.noise_pk, sizeof(c->server_pk));
	keyfile_fingerprint(c->key.noise_pk, c->key.sign_pk, c->fingerprint);
	return 0;
}

/* Reads message 2 and keeps what its ServerHello says. */
static int h_noise_read_msg2(h_noise *c, int64_t deadline)
{
	uint8_t msg[FRAME_MAX_BODY], payload[FRAME_MAX_BODY];
	Tamwil__V1__ServerHello *hello;
	size_t len, plen;

	if (h_frame_recv(c->fd, msg, sizeof(msg), &len, h_left_ms(deadline)) !=
		H_IO_OK ||
	    channel_handshake_read(&c->ch, msg, len, payload, sizeof(payload),
				   &plen) != 0)
		return -1;
	hello = tamwil__v1__server_hello__unpack(NULL, plen, payload);
	if (hello == NULL)
		return -1;
	snprintf(c->server_version, sizeof(c->server_version), "%s",
		 hello->server_version);
	c->protocol_version = hello->protocol_version;
	tamwil__v1__server_hello__free_unpacked(hello, NULL);
	return 0;
}

int h_noise_start(h_noise *c, int port, const char *key_path,
		  const char *server_pub_path, int timeout_ms)
{
	int64_t deadline = h_now_ms() + timeout_ms;
	uint8_t msg1[CHANNEL_MSG1_LEN + 16];
	size_t len;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	if (sodium_init() < 0 || h_noise_keys(c, key_path, server_pub_path))
		goto fail;
	if (channel_init_initiator(&c->ch, c->key.noise_sk, c->server_pk) ||
	    channel_handshake_write(&c->ch, NULL, 0, msg1, sizeof(msg1), &len))
		goto fail;
	c->fd = h_tcp_connect(port, h_left_ms(deadline));
	if (c->fd < 0 ||
	    h_frame_send(c->fd, msg1, len, h_left_ms(deadline)) != H_IO_OK ||
	    h_noise_read_msg2(c, deadline) != 0)
		goto fail;
	return 0;
fail:
	h_noise_close(c);
	return -1;
}

int h_noise_msg3(h_noise *c, const Tamwil__V1__Request *first, uint8_t *out,
		 size_t cap, size_t *len)
{
	Tamwil__V1__ClientHello hello = TAMWIL__V1__CLIENT_HELLO__INIT;
	uint8_t *payload = NULL;
	size_t plen;
	int rc = -1;

	hello.client_version = H_CLIENT_VERSION;
	hello.first_request = (Tamwil__V1__Request *)first;
	plen = tamwil__v1__client_hello__get_packed_size(&hello);
	payload = malloc(plen + 1);
	if (payload == NULL)
		goto out;
	tamwil__v1__client_hello__pack(&hello, payload);
	rc = channel_handshake_write(&c->ch, payload, plen, out, cap, len);
out:
	free(payload);
	return rc;
}

int h_noise_finish(h_noise *c, const Tamwil__V1__Request *first, int timeout_ms)
{
	uint8_t msg[FRAME_MAX_BODY];
	size_t len;

	if (h_noise_msg3(c, first, msg, sizeof(msg), &len) != 0)
		return H_IO_ERROR;
	return h_frame_send(c->fd, msg, len, timeout_ms);
}

int h_noise_seal(h_noise *c, const Tamwil__V1__Request *req, uint8_t *out,
		 size_t cap, size_t *len)
{
	size_t plen = tamwil__v1__request__get_packed_size(req);
	uint8_t *pt;
	int rc = -1;

	if (plen > CHANNEL_MAX_PLAINTEXT || plen + NOISE_TAGLEN > cap)
		return -1;
	pt = malloc(plen + 1);
	if (pt == NULL)
		return -1;
	tamwil__v1__request__pack(req, pt);
	rc = channel_seal(&c->ch, pt, plen, out, len);
	free(pt);
	return rc;
}

int h_noise_send(h_noise *c, const Tamwil__V1__Request *req, int timeout_ms)
{
	uint8_t msg[FRAME_MAX_BODY];
	size_t len;

	if (h_noise_seal(c, req, msg, sizeof(msg), &len) != 0)
		return H_IO_ERROR;
	return h_frame_send(c->fd, msg, len, timeout_ms);
}

int h_noise_recv(h_noise *c, Tamwil__V1__Response **resp, int timeout_ms)
{
	uint8_t msg[FRAME_MAX_BODY], pt[FRAME_MAX_BODY];
	size_t len, plen;
	int rc;

	*resp = NULL;
	rc = h_frame_recv(c->fd, msg, sizeof(msg), &len, timeout_ms);
	if (rc != H_IO_OK)
		return rc;
	if (len < NOISE_TAGLEN ||
	    channel_open(&c->ch, msg, len, pt, &plen) != 0)
		return H_IO_ERROR;
	*resp = tamwil__v1__response__unpack(NULL, plen, pt);
	return *resp == NULL ? H_IO_ERROR : H_IO_OK;
}

void h_noise_close(h_noise *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	channel_clear(&c->ch);
	sodium_memzero(&c->key, sizeof(c->key));
}

void h_whoami_request(Tamwil__V1__Request *req, Tamwil__V1__WhoamiRequest *body,
		      uint64_t id)
{
	tamwil__v1__request__init(req);
	tamwil__v1__whoami_request__init(body);
	req->request_id = id;
	req->body_case = TAMWIL__V1__REQUEST__BODY_WHOAMI;
	req->whoami = body;
}
