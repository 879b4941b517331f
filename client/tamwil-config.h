/*
 * Part of libtamwil-client: where a front end's settings come from and what
 * they mean. The client configuration file is an INI text:
 *
 *     # ~/.config/tamwil/client.conf
 *     [tamwil]
 *     server = tamwil.example.org:7405
 *     server_key = server.pub      ; relative to this file's folder
 *     key = /home/fatima/.config/tamwil/fatima.key
 *
 * The keys may also stand before any section. A value may be quoted with
 * double quotes; "~/" at its start means the home folder. Unknown keys and
 * sections are errors, so a typo never goes unnoticed. Lines are limited to
 * what libinih accepts (about 200 characters). Nothing here prints.
 */
#ifndef TAMWIL_CONFIG_H
#define TAMWIL_CONFIG_H

#include <stddef.h>

#include "tamwil-client.h"

#define TAMWIL_CONFIG_PATH_MAX	 4096
#define TAMWIL_CONFIG_SERVER_MAX 300
/* A configuration file is never larger than this. */
#define TAMWIL_CONFIG_FILE_MAX 65536

typedef struct tamwil_config {
	char path[TAMWIL_CONFIG_PATH_MAX]; /* the file read; "" if none was */
	char server[TAMWIL_CONFIG_SERVER_MAX];	 /* "" when not set */
	char server_key[TAMWIL_CONFIG_PATH_MAX]; /* paths: "" when not set */
	char key[TAMWIL_CONFIG_PATH_MAX];
} tamwil_config;

/*
 * Chooses the configuration file from the given environment values (each
 * may be NULL or empty): env_config ($TAMWIL_CONFIG) as is, else
 * xdg_config_home/tamwil/client.conf when that is an absolute path, else
 * home/.config/tamwil/client.conf. Returns 0, or -1 when none is given or
 * the result does not fit in cap bytes.
 */
int tamwil_config_path(const char *env_config, const char *xdg_config_home,
		       const char *home, char *buf, size_t cap);

/* tamwil_config_path() with $TAMWIL_CONFIG, $XDG_CONFIG_HOME and $HOME. */
int tamwil_config_default_path(char *buf, size_t cap);

/*
 * Reads the configuration file at path into cfg. A missing file is fine
 * when required is 0: cfg is then empty and cfg->path "". Relative paths
 * in the file are resolved against the file's folder. Returns 0, or -1
 * with err (TAMWIL_ERR_LOCAL) saying "PATH:LINE: ..." or "cannot read
 * PATH: ...".
 */
int tamwil_config_load(const char *path, int required, tamwil_config *cfg,
		       tamwil_error *err);

/*
 * Parses configuration text as if read from the file at path (used for
 * messages and to resolve relative paths). Same result as
 * tamwil_config_load().
 */
int tamwil_config_parse(const char *text, const char *path, tamwil_config *cfg,
			tamwil_error *err);

/*
 * Splits a server address: "host", "host:port", "[v6addr]:port",
 * "[v6addr]" or a bare IPv6 address; the port defaults to
 * TAMWIL_DEFAULT_PORT and must be 1..65535. Writes the host (without
 * brackets) and the port digits. Returns 0, or -1 with err saying what is
 * wrong.
 */
int tamwil_server_parse(const char *server, char *host, size_t host_cap,
			char *port, size_t port_cap, tamwil_error *err);

#endif
