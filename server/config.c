/*
 * tamwild's settings. The file uses the same names as the long flags, with
 * '_' for '-', so a person moves a setting between the two without a table.
 */
#include "config.h"

#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct config_load {
	config *cfg;
	char *err;
	size_t err_len;
	int failed;
};

void config_defaults(config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->state_dir, sizeof(cfg->state_dir), "/var/lib/tamwil");
	snprintf(cfg->listen, sizeof(cfg->listen), "%s", CONFIG_DEFAULT_LISTEN);
	cfg->handshake_timeout_ms = 5000;
	cfg->idle_timeout_s = 600;
	cfg->max_connections = 4096;
	cfg->max_frame = 65535;
	cfg->max_output = 1 << 20;
	cfg->max_per_source = 512;
	cfg->handshake_rate = 100;
	cfg->handshake_burst = 500;
	cfg->log_level = LOG_LEVEL_INFO;
}

/* Parses a whole decimal number within [min, max]; 0 or -1. */
static int config_int(const char *value, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(value, &end, 10);
	if (errno != 0 || end == value || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* Parses seconds, with up to three decimals, into milliseconds. */
static int config_seconds_ms(const char *value, long max_s, int *ms)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(value, &end);
	if (errno != 0 || end == value || *end != '\0' || !(v > 0) ||
	    v > (double)max_s)
		return -1;
	*ms = (int)(v * 1000.0 + 0.5);
	return *ms > 0 ? 0 : -1;
}

int config_split_hostport(const char *text, char *host, size_t host_cap,
			  int *port, int default_port)
{
	const char *colon, *hend, *hstart = text;
	long p = default_port;

	if (text[0] == '[') {
		hstart = text + 1;
		hend = strchr(hstart, ']');
		if (hend == NULL)
			return -1;
		colon = hend[1] == ':' ? hend + 1 : NULL;
		if (hend[1] != '\0' && colon == NULL)
			return -1;
	} else {
		colon = strrchr(text, ':');
		if (colon != NULL && strchr(text, ':') != colon)
			return -1; /* a bare IPv6 address needs brackets */
		hend = colon ? colon : text + strlen(text);
	}
	if (hend == hstart || (size_t)(hend - hstart) >= host_cap)
		return -1;
	if (colon != NULL && config_int(colon + 1, 0, 65535, &p) != 0)
		return -1;
	memcpy(host, hstart, (size_t)(hend - hstart));
	host[hend - hstart] = '\0';
	*port = (int)p;
	return 0;
}

int config_set(config *cfg, const char *name, const char *value, char *err,
	       size_t err_len)
{
	char host[256];
	long v;
	int port;

	if (strcmp(name, "state") == 0) {
		if (value[0] == '\0' || strlen(value) >= sizeof(cfg->state_dir))
			goto bad;
		snprintf(cfg->state_dir, sizeof(cfg->state_dir), "%s", value);
	} else if (strcmp(name, "listen") == 0) {
		if (strlen(value) >= sizeof(cfg->listen) ||
		    config_split_hostport(value, host, sizeof(host), &port,
					  7405) != 0)
			goto bad;
		snprintf(cfg->listen, sizeof(cfg->listen), "%s", value);
	} else if (strcmp(name, "handshake_timeout") == 0) {
		if (config_seconds_ms(value, 300, &cfg->handshake_timeout_ms))
			goto bad;
	} else if (strcmp(name, "idle_timeout") == 0) {
		if (config_int(value, 1, 86400, &v) != 0)
			goto bad;
		cfg->idle_timeout_s = (int)v;
	} else if (strcmp(name, "max_connections") == 0) {
		if (config_int(value, 1, 1000000, &v) != 0)
			goto bad;
		cfg->max_connections = (int)v;
	} else if (strcmp(name, "max_frame") == 0) {
		if (config_int(value, 1024, 65535, &v) != 0)
			goto bad;
		cfg->max_frame = (int)v;
	} else if (strcmp(name, "max_output") == 0) {
		if (config_int(value, 65536, 1L << 30, &v) != 0)
			goto bad;
		cfg->max_output = (int)v;
	} else if (strcmp(name, "max_per_source") == 0) {
		if (config_int(value, 1, 1000000, &v) != 0)
			goto bad;
		cfg->max_per_source = (int)v;
	} else if (strcmp(name, "handshake_rate") == 0) {
		if (config_int(value, 1, 1000000, &v) != 0)
			goto bad;
		cfg->handshake_rate = (int)v;
	} else if (strcmp(name, "handshake_burst") == 0) {
		if (config_int(value, 1, 1000000, &v) != 0)
			goto bad;
		cfg->handshake_burst = (int)v;
	} else if (strcmp(name, "workers") == 0) {
		if (config_int(value, 0, 64, &v) != 0)
			goto bad;
		cfg->workers = (int)v;
	} else if (strcmp(name, "log_level") == 0) {
		if (log_level_parse(value, &cfg->log_level) != 0)
			goto bad;
	} else {
		snprintf(err, err_len, "unknown setting '%s'", name);
		return -1;
	}
	return 0;
bad:
	snprintf(err, err_len,
		 "bad value '%s' for %s (state: a folder; listen: HOST:PORT; "
		 "handshake_timeout: seconds up to 300; idle_timeout: seconds "
		 "1-86400; max_connections: 1-1000000; max_frame: 1024-65535; "
		 "max_output: 65536-1073741824; max_per_source, "
		 "handshake_rate, handshake_burst: 1-1000000; workers: 0-64, "
		 "0 for one per core; log_level: error, warn, info or debug)",
		 value, name);
	return -1;
}

/* inih callback: one key of the file. Returns 1 to go on, 0 to stop. */
static int config_on_key(void *user, const char *section, const char *name,
			 const char *value)
{
	struct config_load *ld = user;
	char why[CONFIG_ERR_MAX];

	if (ld->failed)
		return 0; /* inih reports the first bad line; keep its reason */
	if (section[0] != '\0' && strcmp(section, "tamwild") != 0) {
		snprintf(ld->err, ld->err_len, "unknown section [%s]", section);
		ld->failed = 1;
		return 0;
	}
	if (config_set(ld->cfg, name, value, why, sizeof(why)) != 0) {
		snprintf(ld->err, ld->err_len, "%s", why);
		ld->failed = 1;
		return 0;
	}
	return 1;
}

int config_load_file(config *cfg, const char *path, int must_exist, char *err,
		     size_t err_len)
{
	struct config_load ld = {cfg, NULL, 0, 0};
	char why[CONFIG_ERR_MAX] = "syntax error";
	FILE *f;
	int line;

	f = fopen(path, "r");
	if (f == NULL) {
		if (errno == ENOENT && !must_exist)
			return 0;
		snprintf(err, err_len, "%s: %s", path, strerror(errno));
		return -1;
	}
	ld.err = why;
	ld.err_len = sizeof(why);
	line = ini_parse_file(f, config_on_key, &ld);
	fclose(f);
	if (line != 0) {
		snprintf(err, err_len, "%s:%d: %s", path, line, why);
		return -1;
	}
	return 0;
}
