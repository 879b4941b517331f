/*
 * tamwil setup; see cli_setup.h. The file written is the one
 * tamwil-config.h reads, with absolute paths, so that it works from any
 * folder; it replaces an old one only with --force, and atomically.
 */
#include "cli_setup.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_keys.h"
#include "cli_util.h"
#include "tamwil-config.h"

#define CMD "setup"
/* libinih reads lines of up to 200 bytes; keep well under it. */
#define LINE_MAX_BYTES 190
#define ANSWER_MAX     (TAMWIL_CONFIG_PATH_MAX + 16)

struct setup {
	const char *server, *server_key, *key;
	int force, protect;
	char path[TAMWIL_CONFIG_PATH_MAX]; /* the configuration file */
	char dir[TAMWIL_CONFIG_PATH_MAX];  /* its folder */
	/* answers typed, and the absolute paths written */
	char server_buf[ANSWER_MAX], server_key_buf[ANSWER_MAX];
	char key_buf[ANSWER_MAX];
	char server_key_abs[PATH_MAX], key_abs[PATH_MAX];
};

void cli_setup_usage(FILE *out)
{
	fputs(
	    "Usage: tamwil setup [--server HOST[:PORT]] [--server-key "
	    "PUBFILE]\n"
	    "                    [--key FILE] [--protect] [--force]\n"
	    "\n"
	    "Writes the configuration file every other command reads\n"
	    "($TAMWIL_CONFIG, else $XDG_CONFIG_HOME/tamwil/client.conf, else\n"
	    "~/.config/tamwil/client.conf; mode 0600, its folder 0700), so\n"
	    "that they need no --server, --server-key or --key. On a terminal\n"
	    "it asks for what the options leave out, with the default in\n"
	    "brackets. It makes the private key file if there is none yet,\n"
	    "and prints its public key: send that to head office to be\n"
	    "enrolled.\n"
	    "\n"
	    "Options:\n"
	    "  --server HOST[:PORT]   head office's address (port 7405 by\n"
	    "                         default)\n"
	    "  --server-key PUBFILE   head office's public key file, as head\n"
	    "                         office sent it\n"
	    "  --key FILE             your private key file (default: "
	    "tamwil.key\n"
	    "                         in the configuration's folder); made "
	    "if\n"
	    "                         missing\n"
	    "  --protect              seal a new key under a passphrase\n"
	    "  --force                replace an existing configuration file\n"
	    "  -h, --help             show this help\n"
	    "\n"
	    "Examples:\n"
	    "  tamwil setup\n"
	    "  tamwil setup --server tamwil.example.org --server-key "
	    "server.pub \\\n"
	    "      --key ~/.config/tamwil/fatima.key --protect\n",
	    out);
}

/* ---- options and questions ---------------------------------------------- */

enum { OPT_SERVER = 256, OPT_SERVER_KEY, OPT_KEY, OPT_FORCE, OPT_PROTECT };

static int parse(const struct cli_globals *g, int argc, char **argv,
		 struct setup *s)
{
	static const struct option opts[] = {
	    {"server", required_argument, NULL, OPT_SERVER},
	    {"server-key", required_argument, NULL, OPT_SERVER_KEY},
	    {"key", required_argument, NULL, OPT_KEY},
	    {"force", no_argument, NULL, OPT_FORCE},
	    {"protect", no_argument, NULL, OPT_PROTECT},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	int c;

	s->server = g->server;
	s->server_key = g->server_key;
	s->key = g->key;
	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c == OPT_SERVER)
			s->server = optarg;
		else if (c == OPT_SERVER_KEY)
			s->server_key = optarg;
		else if (c == OPT_KEY)
			s->key = optarg;
		else if (c == OPT_FORCE)
			s->force = 1;
		else if (c == OPT_PROTECT)
			s->protect = 1;
		else if (c == 'h')
			return cli_show_usage(cli_setup_usage);
		else
			return cli_bad_option(CMD, c, argv);
	}
	if (optind < argc)
		return cli_usage_error(CMD, "unexpected argument '%s'",
				       argv[optind]);
	return -1;
}

/*
 * Asks question on the terminal with def (may be NULL) in brackets and
 * reads the answer into buf; an empty answer takes def. Returns the
 * answer, or NULL at end of input or when nothing was given.
 */
static const char *ask(const char *question, const char *def, char *buf,
		       size_t cap)
{
	size_t n;

	if (def != NULL)
		fprintf(stderr, "%s [%s]: ", question, def);
	else
		fprintf(stderr, "%s: ", question);
	fflush(stderr);
	if (fgets(buf, (int)cap, stdin) == NULL)
		return NULL;
	n = strcspn(buf, "\r\n");
	buf[n] = '\0';
	while (n > 0 && buf[n - 1] == ' ')
		buf[--n] = '\0';
	if (n == 0 && def != NULL)
		snprintf(buf, cap, "%s", def);
	return buf[0] != '\0' ? buf : NULL;
}

/*
 * Fills in what the options left out: asked on a terminal, else the
 * default key file; the server and its key have no default. Returns -1
 * to go on, or an exit status.
 */
static int complete(struct setup *s)
{
	char def_pub[TAMWIL_CONFIG_PATH_MAX + 16];
	char def_key[TAMWIL_CONFIG_PATH_MAX + 16];
	int tty = isatty(STDIN_FILENO);

	snprintf(def_pub, sizeof(def_pub), "%s/server.pub", s->dir);
	snprintf(def_key, sizeof(def_key), "%s/tamwil.key", s->dir);
	if (tty && s->server == NULL)
		s->server = ask("Head office's address (HOST or HOST:PORT)",
				NULL, s->server_buf, sizeof(s->server_buf));
	if (tty && s->server_key == NULL)
		s->server_key =
		    ask("Head office's public key file", def_pub,
			s->server_key_buf, sizeof(s->server_key_buf));
	if (tty && s->key == NULL)
		s->key = ask("Your private key file (made if missing)", def_key,
			     s->key_buf, sizeof(s->key_buf));
	if (s->key == NULL) {
		snprintf(s->key_buf, sizeof(s->key_buf), "%s", def_key);
		s->key = s->key_buf;
	}
	if (s->server == NULL)
		return cli_usage_error(CMD, "setup needs --server HOST[:PORT], "
					    "head office's address (or run it "
					    "on a terminal to be asked)");
	if (s->server_key == NULL)
		return cli_usage_error(CMD, "setup needs --server-key PUBFILE, "
					    "the public key file head office "
					    "sent (or run it on a terminal to "
					    "be asked)");
	return -1;
}

/* ---- files -------------------------------------------------------------- */

/* "~/x" as $HOME/x, else path relative to the current folder, into out. */
static int absolute(const char *path, char *out, size_t cap)
{
	const char *home = getenv("HOME");
	char cwd[PATH_MAX];
	int n;

	if (strncmp(path, "~/", 2) == 0 && home != NULL && home[0] == '/')
		n = snprintf(out, cap, "%s/%s", home, path + 2);
	else if (path[0] == '/')
		n = snprintf(out, cap, "%s", path);
	else if (getcwd(cwd, sizeof(cwd)) != NULL)
		n = snprintf(out, cap, "%s/%s", cwd, path);
	else
		return -1;
	return n > 0 && (size_t)n < cap ? 0 : -1;
}

/* Makes dir and its parents; the last one made 0700. 0 or -1 (printed). */
static int make_dirs(const char *dir)
{
	char p[TAMWIL_CONFIG_PATH_MAX], why[128];
	size_t n = strlen(dir);

	if (n >= sizeof(p))
		return cli_fail("the folder %s is too long", dir), -1;
	memcpy(p, dir, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		p[i] = '\0';
		if (mkdir(p, i == n ? 0700 : 0755) != 0 && errno != EEXIST) {
			cli_fail("cannot make the folder %s: %s", p,
				 cli_strerror(errno, why, sizeof(why)));
			return -1;
		}
		p[i] = i == n ? '\0' : '/';
	}
	if (chmod(dir, 0700) != 0) {
		cli_fail("cannot make %s private (mode 0700): %s", dir,
			 cli_strerror(errno, why, sizeof(why)));
		return -1;
	}
	return 0;
}

/* Appends "name = "value"" to text; -1 (printed) if it cannot be read. */
static int add_setting(char *text, size_t cap, const char *name,
		       const char *value)
{
	size_t used = strlen(text);
	int n;

	if (strpbrk(value, "\"\r\n;#") != NULL)
		return cli_fail("%s '%s' holds a character the configuration "
				"file cannot keep (\" ; # or a line break): "
				"move the file",
				name, value),
		       -1;
	n = snprintf(text + used, cap - used, "%s = \"%s\"\n", name, value);
	if (n < 0 || (size_t)n >= cap - used || n > LINE_MAX_BYTES)
		return cli_fail("%s '%s' is too long for the configuration "
				"file (lines of %d bytes at most): use a "
				"shorter path",
				name, value, LINE_MAX_BYTES),
		       -1;
	return 0;
}

/* Writes all of text to fd; 0 or -1 with errno. */
static int write_all(int fd, const char *text, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, text, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		text += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Writes text as the file path, atomically: a temporary file (mode 0600)
 * in the same folder, flushed to disk, renamed over path, and the folder
 * flushed. 0, or -1 (printed).
 */
static int write_atomic(const char *path, const char *dir, const char *text)
{
	char tmp[TAMWIL_CONFIG_PATH_MAX + 16], why[128];
	int fd, dfd, rc = -1;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >=
	    sizeof(tmp))
		return cli_fail("the path %s is too long", path), -1;
	fd = mkstemp(tmp); /* mode 0600 */
	if (fd < 0)
		goto fail;
	if (fchmod(fd, 0600) != 0 || write_all(fd, text, strlen(text)) != 0 ||
	    fsync(fd) != 0) {
		close(fd);
		unlink(tmp);
		goto fail;
	}
	if (close(fd) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		goto fail;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		(void)fsync(dfd); /* best effort: the file itself is synced */
		close(dfd);
	}
	return 0;
fail:
	cli_fail("cannot write %s: %s", path,
		 cli_strerror(errno, why, sizeof(why)));
	return rc;
}

/* ---- setup -------------------------------------------------------------- */

/* Finds the configuration file and refuses an existing one. */
static int locate(const struct cli_globals *g, struct setup *s)
{
	char *slash;

	if (g->config != NULL) {
		if (absolute(g->config, s->path, sizeof(s->path)) != 0)
			return cli_fail("the path %s is too long", g->config);
	} else if (tamwil_config_default_path(s->path, sizeof(s->path)) != 0) {
		return cli_fail("cannot tell where the configuration goes: "
				"set $HOME, or pass --config FILE");
	}
	snprintf(s->dir, sizeof(s->dir), "%s", s->path);
	slash = strrchr(s->dir, '/');
	if (slash == NULL)
		snprintf(s->dir, sizeof(s->dir), ".");
	else if (slash == s->dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	if (!s->force && access(s->path, F_OK) == 0)
		return cli_fail("%s already exists: run `tamwil setup --force "
				"...` to replace it, or edit it",
				s->path);
	return -1;
}

/* Checks the settings and makes the paths absolute. */
static int check(struct setup *s)
{
	char host[TAMWIL_CONFIG_SERVER_MAX], port[8];
	keyfile_public pub;
	tamwil_error err;

	if (tamwil_server_parse(s->server, host, sizeof(host), port,
				sizeof(port), &err) != 0)
		return cli_usage_error(CMD, "--server: %s", err.message);
	if (absolute(s->server_key, s->server_key_abs,
		     sizeof(s->server_key_abs)) != 0 ||
	    absolute(s->key, s->key_abs, sizeof(s->key_abs)) != 0)
		return cli_fail("a path is too long");
	if (cli_load_public(s->server_key_abs, &pub) != 0)
		return CLI_EXIT_FAIL;
	return -1;
}

/* The configuration's text into text (capacity cap). */
static int config_text(const struct setup *s, char *text, size_t cap)
{
	snprintf(text, cap,
		 "# Tamwil client configuration (tamwil setup).\n"
		 "[tamwil]\n");
	if (add_setting(text, cap, "server", s->server) != 0 ||
	    add_setting(text, cap, "server_key", s->server_key_abs) != 0 ||
	    add_setting(text, cap, "key", s->key_abs) != 0)
		return CLI_EXIT_FAIL;
	return -1;
}

/* Makes the private key file unless there is one; an exit status. */
static int make_key(const struct setup *s)
{
	if (access(s->key_abs, F_OK) != 0)
		return cli_keygen_write(s->key_abs, s->protect);
	printf("using the existing private key %s%s\n", s->key_abs,
	       s->protect ? " (--protect applies to new keys only)" : "");
	return CLI_EXIT_OK;
}

int cli_setup_main(const struct cli_globals *g, int argc, char **argv)
{
	struct setup *s = calloc(1, sizeof(*s));
	char text[4 * LINE_MAX_BYTES];
	int rc;

	if (s == NULL)
		return cli_fail("out of memory");
	if ((rc = parse(g, argc, argv, s)) >= 0 || (rc = locate(g, s)) >= 0 ||
	    (rc = complete(s)) >= 0 || (rc = check(s)) >= 0 ||
	    (rc = config_text(s, text, sizeof(text))) >= 0)
		goto out;
	rc = CLI_EXIT_FAIL;
	if (make_dirs(s->dir) != 0 || (rc = make_key(s)) != CLI_EXIT_OK)
		goto out;
	rc = CLI_EXIT_FAIL;
	if (write_atomic(s->path, s->dir, text) != 0)
		goto out;
	printf("wrote %s\n", s->path);
	puts("\nYour public key, to send to head office (it holds no "
	     "secret):\n");
	fflush(stdout);
	if ((rc = cli_key_public_write(s->key_abs, NULL)) != CLI_EXIT_OK)
		goto out;
	printf("\nNext: send it to head office (or save it with `tamwil key "
	       "public --out NAME.pub`);\n"
	       "once they have enrolled it, `tamwil whoami` shows who you "
	       "are to them.\n");
out:
	free(s);
	return rc;
}
