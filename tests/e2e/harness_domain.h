/*
 * More support for the end-to-end tests of the domain (applications,
 * budgets, reports), on top of harness.h: command lines built with their
 * own storage (so that many can run at once), output captured without a
 * size limit worth the name, batches of commands run a few at a time,
 * signed operations sent over the raw Noise client, and small readers of
 * the client's JSON and CSV output.
 *
 * Like harness.h: every wait is bounded, every address is 127.0.0.1, and
 * failures come back as return values; nothing here asserts or exits.
 */
#ifndef TAMWIL_E2E_HARNESS_DOMAIN_H
#define TAMWIL_E2E_HARNESS_DOMAIN_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "harness.h"
#include "keyfile.h"
#include "tamwil.pb-c.h"

/* Arguments of one command line, the program included. */
#define HD_ARGS_MAX 64
/* Bytes of argument text one command line can hold. */
#define HD_CMD_TEXT 8192
/* Output beyond this many bytes per stream is read and dropped. */
#define HD_OUTPUT_MAX (8u << 20)

/* ---- command lines ------------------------------------------------------ */

/* A command line that owns copies of its arguments. */
typedef struct hd_cmd {
	const char *argv[HD_ARGS_MAX + 1]; /* NULL-terminated */
	int argc;
	int overflow; /* 1 once an argument did not fit */
	size_t used;
	char text[HD_CMD_TEXT];
} hd_cmd;

/* Starts a command line with the program's path. */
void hd_cmd_init(hd_cmd *c, const char *program);

/* Appends a copy of arg (NULL is ignored); sets overflow if it cannot. */
void hd_cmd_add(hd_cmd *c, const char *arg);

/*
 * Appends a copy of each argument of ap up to the first NULL (the rest of
 * a NULL-terminated list of const char *).
 */
void hd_cmd_add_va(hd_cmd *c, va_list ap);

/* Appends a formatted argument. */
void hd_cmd_addf(hd_cmd *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Writes the command line, quoted for a shell, into out (for messages). */
void hd_cmd_text(const hd_cmd *c, char *out, size_t cap);

/* ---- running commands --------------------------------------------------- */

/* What a finished command did; out and err are NUL-terminated. */
typedef struct hd_result {
	int exited;    /* 1: it exited; 0: a signal ended it */
	int status;    /* exit status, or the number of the signal */
	int timed_out; /* 1: killed at the deadline */
	int64_t elapsed_ms;
	char *out;
	size_t out_len;
	char *err;
	size_t err_len;
	size_t out_cap, err_cap; /* allocated sizes */
} hd_result;

/* Releases the buffers of r (safe on a zeroed or released result). */
void hd_result_free(hd_result *r);

/* 1 if r is an exit with status 0 before the deadline. */
int hd_ok(const hd_result *r);

/* Prints r (status, time, both streams) to stderr under a heading. */
void hd_result_print(const hd_result *r, const char *what);

/*
 * Like h_collect, into r's growing buffers (kept between calls): reads the
 * child's output until both pipes close and reaps it, or kills it at
 * deadline_ms. Returns 0 when reaped, -1 on a local failure.
 */
int hd_collect(h_proc *p, int64_t deadline_ms, hd_result *r);

/* Runs c with the environment changes env (see h_spawn) into r. */
int hd_run(hd_result *r, int timeout_ms, const char *const env[],
	   const hd_cmd *c);

/*
 * Called for each finished command of a batch, in the order of cmds, with
 * its index; a non-zero return is counted as a failure.
 */
typedef int (*hd_batch_fn)(void *arg, size_t i, const hd_result *r);

/*
 * Runs the n commands of cmds, at most parallel at a time (parallel >= n:
 * all at once), each with its own deadline timeout_ms after its start, and
 * hands each result to fn. Returns the number of commands that could not
 * be run or for which fn returned non-zero (0: all went well).
 */
size_t hd_batch(const hd_cmd *cmds, size_t n, size_t parallel, int timeout_ms,
		const char *const env[], hd_batch_fn fn, void *arg);

/* ---- raw requests -------------------------------------------------------- */

/*
 * Connects as the principal of key_path, sends req as the first request
 * (in handshake message 3), reads the answer into *resp (free it with
 * tamwil__v1__response__free_unpacked) and closes. Returns an h_io value;
 * H_IO_ERROR also when the handshake fails.
 */
int hd_request(int port, const char *key_path, const char *server_pub,
	       const Tamwil__V1__Request *req, Tamwil__V1__Response **resp,
	       int timeout_ms);

/* The same over an established raw client (after h_noise_finish). */
int hd_request_on(h_noise *c, const Tamwil__V1__Request *req,
		  Tamwil__V1__Response **resp, int timeout_ms);

/*
 * Packs op into a fresh buffer (*bytes, free()), and signs those bytes
 * with key into sig. Returns 0 or -1.
 */
int hd_op_sign(const Tamwil__V1__Operation *op, const keyfile_secret *key,
	       uint8_t **bytes, size_t *len, uint8_t sig[64]);

/*
 * Makes req (storage sop) a SignedOperation request with request_id id
 * carrying the operation bytes, the signer's public key and signature as
 * given (none is copied: they must outlive req).
 */
void hd_signed_request(Tamwil__V1__Request *req,
		       Tamwil__V1__SignedOperation *sop, uint64_t id,
		       const uint8_t *bytes, size_t len, const uint8_t *signer,
		       const uint8_t *sig);

/* Fills m with minor units of currency (borrowed). */
void hd_money(Tamwil__V1__Money *m, int64_t minor, const char *currency);

/* ---- reading JSON and CSV ------------------------------------------------ */

/*
 * Parses text as one JSON value, or a stream of values (as an array of
 * them); NULL (and a message on stderr) if it is neither.
 */
json_t *hd_json_parse(const char *text);

/*
 * The first object, depth first, holding key with the string value value;
 * borrowed from root, or NULL.
 */
json_t *hd_json_find(json_t *root, const char *key, const char *value);

/* How many objects under root (root included) hold key. */
size_t hd_json_count(json_t *root, const char *key);

/* How many objects under root hold key with the string value value. */
size_t hd_json_count_value(json_t *root, const char *key, const char *value);

/* 1 if some string under root equals value. */
int hd_json_has_string(json_t *root, const char *value);

/*
 * The integer value of key in object obj into *v: 0, or -1 when key is
 * absent or not a JSON integer.
 */
int hd_json_int(json_t *obj, const char *key, int64_t *v);

/* A parsed CSV text: rows of cells, the header first. */
typedef struct hd_csv {
	size_t rows, cols;
	char **cells; /* rows * cols, row-major */
} hd_csv;

/*
 * Parses RFC 4180 text (quoted fields with "" inside, CRLF or LF line
 * ends, a last line end optional) into csv. Every row must have as many
 * fields as the first. Returns 0, or -1 (with a message into why) for an
 * unterminated quote, a stray quote, a row of another width, or no rows.
 */
int hd_csv_parse(const char *text, hd_csv *csv, char *why, size_t why_cap);

/* The cell of row (0: the header) and column col, or NULL. */
const char *hd_csv_cell(const hd_csv *csv, size_t row, size_t col);

/* The column whose header is name, or -1. */
long hd_csv_column(const hd_csv *csv, const char *name);

void hd_csv_free(hd_csv *csv);

/* ---- a group's home and its worlds -----------------------------------------
 */

/*
 * The home of a group of tests: a fresh temporary folder, and the
 * environment changes that make it the clients' HOME (TAMWIL_CONFIG and
 * XDG_STATE_HOME removed, so the clients' state is under it).
 */
typedef struct hd_home {
	char dir[H_PATH_MAX];
	char home[H_PATH_MAX + 8];
	const char *env[4];
} hd_home;

/*
 * Checks TAMWILD and TAMWIL are set and creates the folder. 0, or -1
 * (printing what failed).
 */
int hd_home_create(hd_home *h);

/* Removes the folder unless TAMWIL_E2E_KEEP is set; safe to repeat. */
void hd_home_remove(hd_home *h);

/* A world: a head office of its own, in a folder of its own. */
typedef struct hd_world {
	char dir[H_PATH_MAX];	     /* HOME/world-NN */
	char state[H_PATH_MAX];	     /* the daemon's state folder */
	char server_pub[H_PATH_MAX]; /* head office's public key file */
	char log[H_PATH_MAX];	     /* the daemon's log */
} hd_world;

/*
 * Creates h->dir/world-NN (NN: n), runs "tamwild init" there with the
 * admin's public key file and name, and saves "tamwild pubkey" as
 * server.pub. 0, or -1 (printing what failed).
 */
int hd_world_create(hd_world *w, const hd_home *h, int n, const char *admin_pub,
		    const char *admin_name);

/*
 * Head office with an admin and a coordinator to be: creates the home h,
 * key pairs "admin" and "coord" in it (their files' paths into the four
 * buffers, each of H_PATH_MAX), and world-01 with the admin enrolled as
 * admin_name. 0, or -1 (printing what failed).
 */
int hd_head_office(hd_home *h, hd_world *w, char *admin_key, char *admin_pub,
		   char *coord_key, char *coord_pub, const char *admin_name);

/* Removes the world's folder unless TAMWIL_E2E_KEEP is set. */
void hd_world_remove(hd_world *w);

#endif
