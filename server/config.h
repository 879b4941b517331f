/*
 * tamwild's settings: built-in defaults, then the configuration file
 * (INI, read with libinih), then command-line flags, each overriding the
 * one before. Every value is checked here so the rest of the daemon can
 * trust it.
 */
#ifndef TAMWIL_CONFIG_H
#define TAMWIL_CONFIG_H

#include <limits.h>
#include <stddef.h>

#include "log.h"

#define CONFIG_DEFAULT_LISTEN "127.0.0.1:7405"
#define CONFIG_ERR_MAX	      512

typedef struct config {
	char state_dir[PATH_MAX];
	char listen[256];	  /* "host:port"; port 0 picks a free one */
	int handshake_timeout_ms; /* from accept to the end of message 3 */
	int idle_timeout_s;	  /* an established channel with no frame */
	int max_connections;
	int max_frame;	/* largest transport frame body accepted */
	int max_output; /* bytes queued to a slow reader before reading stops */
	int max_per_source;  /* connections one address may hold */
	int handshake_rate;  /* handshakes per second per address */
	int handshake_burst; /* handshakes an address may start at once */
	int workers; /* threads verifying and querying; 0: one per core */
	enum log_level log_level;
} config;

void config_defaults(config *cfg);

/*
 * Reads an INI file into cfg (keys of the [tamwild] section or of no
 * section). Unknown keys and bad values are errors: returns -1 with
 * "FILE:LINE: ..." in err. A missing file is an error only when
 * must_exist is set; otherwise returns 0 and leaves cfg alone.
 */
int config_load_file(config *cfg, const char *path, int must_exist, char *err,
		     size_t err_len);

/*
 * Sets one setting by its file name ("listen", "handshake_timeout", ...)
 * from text, as the file and the flags both do. Returns 0, or -1 with a
 * sentence in err naming the setting and what it accepts.
 */
int config_set(config *cfg, const char *name, const char *value, char *err,
	       size_t err_len);

/*
 * Splits "host:port" or "[v6]:port" into host and port (capacity
 * host_cap); a missing port means default_port. Returns 0 or -1.
 */
int config_split_hostport(const char *text, char *host, size_t host_cap,
			  int *port, int default_port);

#endif
