/*
 * The client configuration file and server addresses: finding the file,
 * parsing it with libinih, and resolving what it names. The whole file is
 * read into memory first and fed to libinih line by line, so that every
 * complaint can name the line it is about.
 */
#include "tamwil-config.h"

#include "client_text.h"

#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What the line reader and the handler share during one parse. */
struct parse_state {
	const char *path; /* for messages */
	const char *text; /* the rest of the text to feed */
	int line;	  /* number of the line last fed */
	int error_line;	  /* line of the first complaint of ours, or 0 */
	char dir[TAMWIL_CONFIG_PATH_MAX]; /* folder of the file */
	tamwil_config *cfg;
	tamwil_error *err;
};

__attribute__((format(printf, 2, 3))) static void
config_error(tamwil_error *err, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return;
	err->status = TAMWIL_ERR_LOCAL;
	err->code = 0;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
}

/* Copies src into dst (capacity cap); returns 0, or -1 if it does not fit. */
static int copy_str(char *dst, size_t cap, const char *src)
{
	size_t len = strlen(src);

	if (len >= cap)
		return -1;
	memcpy(dst, src, len + 1);
	return 0;
}

/* Joins a and b with one '/' into dst; returns 0, or -1 if too long. */
static int join_path(char *dst, size_t cap, const char *a, const char *b)
{
	int n = snprintf(dst, cap, "%s/%s", a, b);

	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

int tamwil_config_path(const char *env_config, const char *xdg_config_home,
		       const char *home, char *buf, size_t cap)
{
	if (env_config != NULL && env_config[0] != '\0')
		return copy_str(buf, cap, env_config);
	if (xdg_config_home != NULL && xdg_config_home[0] == '/')
		return join_path(buf, cap, xdg_config_home,
				 "tamwil/client.conf");
	if (home != NULL && home[0] != '\0')
		return join_path(buf, cap, home, ".config/tamwil/client.conf");
	return -1;
}

int tamwil_config_default_path(char *buf, size_t cap)
{
	return tamwil_config_path(getenv("TAMWIL_CONFIG"),
				  getenv("XDG_CONFIG_HOME"), getenv("HOME"),
				  buf, cap);
}

/* Writes the folder part of path ("." when it has none) into dir. */
static int dir_of(const char *path, char *dir, size_t cap)
{
	const char *slash = strrchr(path, '/');
	size_t len;

	if (slash == NULL)
		return copy_str(dir, cap, ".");
	len = slash == path ? 1 : (size_t)(slash - path);
	if (len >= cap)
		return -1;
	memcpy(dir, path, len);
	dir[len] = '\0';
	return 0;
}

/*
 * The ini_reader: hands libinih the next line of st->text, counting lines.
 * A line longer than libinih's buffer stops the parse with a complaint.
 */
static char *next_line(char *str, int num, void *stream)
{
	struct parse_state *st = stream;
	const char *nl;
	size_t len;

	if (st->text[0] == '\0' || st->error_line != 0 || num < 2)
		return NULL;
	nl = strchr(st->text, '\n');
	len = nl != NULL ? (size_t)(nl - st->text) + 1 : strlen(st->text);
	st->line++;
	if (len > (size_t)num - 1) {
		st->error_line = st->line;
		config_error(st->err,
			     "%s:%d: line too long (at most %d "
			     "characters)",
			     st->path, st->line, num - 3);
		return NULL;
	}
	memcpy(str, st->text, len);
	str[len] = '\0';
	st->text += len;
	return str;
}

/* Removes one pair of surrounding double quotes from value, in place. */
static void unquote(char *value)
{
	size_t len = strlen(value);

	if (len >= 2 && value[0] == '"' && value[len - 1] == '"') {
		memmove(value, value + 1, len - 2);
		value[len - 2] = '\0';
	}
}

/*
 * Turns a path setting into one usable from the current folder: "~/..."
 * goes under $HOME, a relative path under the configuration file's folder.
 */
static int resolve_path(const struct parse_state *st, const char *value,
			char *dst, size_t cap)
{
	const char *home = getenv("HOME");

	if (value[0] == '/')
		return copy_str(dst, cap, value);
	if (value[0] == '~' && value[1] == '/' && home != NULL &&
	    home[0] != '\0')
		return join_path(dst, cap, home, value + 2);
	return join_path(dst, cap, st->dir, value);
}

/* Records the handler's first complaint, about the line being parsed. */
__attribute__((format(printf, 2, 3))) static int
complain(struct parse_state *st, const char *fmt, ...)
{
	char what[TAMWIL_ERROR_MAX];
	va_list ap;

	if (st->error_line != 0)
		return 0;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	st->error_line = st->line;
	config_error(st->err, "%s:%d: %s", st->path, st->line, what);
	return 0;
}

/* Stores one setting; the ini_handler. Returns 1, or 0 on a complaint. */
static int on_setting(void *user, const char *section, const char *name,
		      const char *raw)
{
	struct parse_state *st = user;
	char value[TAMWIL_CONFIG_PATH_MAX];
	char *dst;
	size_t cap;

	if (section[0] != '\0' && strcmp(section, "tamwil") != 0)
		return complain(st,
				"unknown section [%s] (settings go before "
				"any section or in [tamwil])",
				section);
	if (copy_str(value, sizeof(value), raw) != 0)
		return complain(st, "value of %s is too long", name);
	unquote(value);
	if (value[0] == '\0')
		return complain(st, "%s has no value", name);
	if (strcmp(name, "server") == 0) {
		if (copy_str(st->cfg->server, sizeof(st->cfg->server), value))
			return complain(st, "value of server is too long");
		return 1;
	}
	if (strcmp(name, "server_key") == 0) {
		dst = st->cfg->server_key;
		cap = sizeof(st->cfg->server_key);
	} else if (strcmp(name, "key") == 0) {
		dst = st->cfg->key;
		cap = sizeof(st->cfg->key);
	} else {
		return complain(st,
				"unknown setting \"%s\" (known: server, "
				"server_key, key)",
				name);
	}
	if (resolve_path(st, value, dst, cap) != 0)
		return complain(st, "value of %s is too long", name);
	return 1;
}

int tamwil_config_parse(const char *text, const char *path, tamwil_config *cfg,
			tamwil_error *err)
{
	struct parse_state st;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	memset(&st, 0, sizeof(st));
	st.path = path;
	st.text = text;
	st.cfg = cfg;
	st.err = err;
	if (copy_str(cfg->path, sizeof(cfg->path), path) != 0 ||
	    dir_of(path, st.dir, sizeof(st.dir)) != 0) {
		config_error(err, "configuration path too long: %s", path);
		return -1;
	}
	rc = ini_parse_stream(next_line, &st, on_setting, &st);
	if (rc == 0 && st.error_line == 0)
		return 0;
	if (rc > 0 && (st.error_line == 0 || rc < st.error_line))
		config_error(err,
			     "%s:%d: cannot parse this line (expected "
			     "name = value, [section] or a # comment)",
			     path, rc);
	else if (rc < 0)
		config_error(err, "%s: out of memory while parsing", path);
	return -1;
}

/*
 * Reads the whole file at path into a NUL-terminated buffer the caller
 * frees. Returns 0, or -1 with errno set (EFBIG for an oversize file).
 */
static int slurp(const char *path, char **text)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len;
	int rc = -1, saved;

	if (f == NULL)
		return -1;
	buf = malloc(TAMWIL_CONFIG_FILE_MAX + 1);
	if (buf == NULL)
		goto out;
	errno = 0;
	len = fread(buf, 1, TAMWIL_CONFIG_FILE_MAX + 1, f);
	if (ferror(f)) {
		if (errno == 0)
			errno = EIO;
		goto out;
	}
	if (len > TAMWIL_CONFIG_FILE_MAX) {
		errno = EFBIG;
		goto out;
	}
	buf[len] = '\0';
	*text = buf;
	buf = NULL;
	rc = 0;
out:
	saved = errno;
	free(buf);
	fclose(f);
	errno = saved;
	return rc;
}

int tamwil_config_load(const char *path, int required, tamwil_config *cfg,
		       tamwil_error *err)
{
	char *text = NULL;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	if (slurp(path, &text) != 0) {
		char why[128];

		if (errno == ENOENT && !required)
			return 0;
		config_error(err, "cannot read %s: %s", path,
			     errno == EFBIG
				 ? "larger than 64 KiB, not a "
				   "configuration file"
				 : client_text_errno(errno, why, sizeof(why)));
		return -1;
	}
	rc = tamwil_config_parse(text, path, cfg, err);
	free(text);
	return rc;
}

/* Checks port digits: returns 0, or -1 unless they say 1..65535. */
static int parse_port(const char *s)
{
	long v = 0;

	if (*s == '\0' || strlen(s) > 5)
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v >= 1 && v <= 65535 ? 0 : -1;
}

/* Splits server into host text (start, length) and port text. */
static int split_server(const char *server, const char **host, size_t *host_len,
			const char **port)
{
	const char *colon = strrchr(server, ':');
	const char *close;

	*port = NULL;
	if (server[0] == '[') {
		close = strchr(server, ']');
		if (close == NULL || close == server + 1)
			return -1;
		if (close[1] == ':')
			*port = close + 2;
		else if (close[1] != '\0')
			return -1;
		*host = server + 1;
		*host_len = (size_t)(close - server - 1);
		return 0;
	}
	*host = server;
	if (colon == NULL || strchr(server, ':') != colon) {
		*host_len = strlen(server); /* no port, or a bare IPv6 */
		return 0;
	}
	*host_len = (size_t)(colon - server);
	*port = colon + 1;
	return 0;
}

int tamwil_server_parse(const char *server, char *host, size_t host_cap,
			char *port, size_t port_cap, tamwil_error *err)
{
	const char *h, *p;
	size_t hlen;
	int n;

	if (server == NULL || server[0] == '\0' ||
	    split_server(server, &h, &hlen, &p) != 0 || hlen == 0) {
		config_error(err,
			     "invalid server address \"%s\": expected "
			     "HOST or HOST:PORT",
			     server != NULL ? server : "");
		return -1;
	}
	if (p != NULL && parse_port(p) != 0) {
		config_error(err,
			     "invalid port in server address \"%s\": "
			     "expected a number from 1 to 65535",
			     server);
		return -1;
	}
	if (hlen >= host_cap) {
		config_error(err, "server address too long: %s", server);
		return -1;
	}
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	if (p != NULL)
		n = snprintf(port, port_cap, "%s", p);
	else
		n = snprintf(port, port_cap, "%d", TAMWIL_DEFAULT_PORT);
	if (n < 0 || (size_t)n >= port_cap) {
		config_error(err, "no room for the port of %s", server);
		return -1;
	}
	return 0;
}
