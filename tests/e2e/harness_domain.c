/*
 * Domain end-to-end support: command lines, growing output capture,
 * batches, signed operations over the raw client, JSON and CSV readers.
 */
#include "harness_domain.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "signop.h"

/* ---- command lines ------------------------------------------------------ */

void hd_cmd_init(hd_cmd *c, const char *program)
{
	c->argc = 0;
	c->overflow = 0;
	c->used = 0;
	c->argv[0] = NULL;
	hd_cmd_add(c, program);
}

void hd_cmd_add(hd_cmd *c, const char *arg)
{
	size_t len;

	if (arg == NULL)
		return;
	len = strlen(arg) + 1;
	if (c->argc >= HD_ARGS_MAX || c->used + len > sizeof(c->text)) {
		c->overflow = 1;
		return;
	}
	memcpy(c->text + c->used, arg, len);
	c->argv[c->argc++] = c->text + c->used;
	c->argv[c->argc] = NULL;
	c->used += len;
}

void hd_cmd_add_va(hd_cmd *c, va_list ap)
{
	const char *arg;

	while ((arg = va_arg(ap, const char *)) != NULL)
		hd_cmd_add(c, arg);
}

void hd_cmd_addf(hd_cmd *c, const char *fmt, ...)
{
	char buf[HD_CMD_TEXT];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf)) {
		c->overflow = 1;
		return;
	}
	hd_cmd_add(c, buf);
}

/* Appends src to out (capacity cap, length *k), cutting at the end. */
static void hd_append(char *out, size_t cap, size_t *k, const char *src)
{
	while (*src != '\0' && *k + 1 < cap)
		out[(*k)++] = *src++;
	out[*k] = '\0';
}

void hd_cmd_text(const hd_cmd *c, char *out, size_t cap)
{
	size_t k = 0;

	if (cap == 0)
		return;
	out[0] = '\0';
	for (int i = 0; i < c->argc; i++) {
		const char *a = c->argv[i];
		int plain =
		    a[0] != '\0' &&
		    strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklm"
			      "nopqrstuvwxyz0123456789-_./:=,+@") == strlen(a);

		if (i > 0)
			hd_append(out, cap, &k, " ");
		if (plain) {
			hd_append(out, cap, &k, a);
			continue;
		}
		hd_append(out, cap, &k, "'");
		for (const char *p = a; *p != '\0'; p++) {
			char one[2] = {*p, '\0'};

			hd_append(out, cap, &k, *p == '\'' ? "'\\''" : one);
		}
		hd_append(out, cap, &k, "'");
	}
}

/* ---- running commands --------------------------------------------------- */

void hd_result_free(hd_result *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
	r->out_len = r->err_len = r->out_cap = r->err_cap = 0;
}

int hd_ok(const hd_result *r)
{
	return r->exited && r->status == 0 && !r->timed_out;
}

void hd_result_print(const hd_result *r, const char *what)
{
	fprintf(stderr,
		"---- %s: %s %d%s after %lld ms\n---- stdout:\n%s\n"
		"---- stderr:\n%s\n----\n",
		what, r->exited ? "exit status" : "signal", r->status,
		r->timed_out ? " (killed at the deadline)" : "",
		(long long)r->elapsed_ms, r->out ? r->out : "",
		r->err ? r->err : "");
}

/* Makes sure *buf holds at least need bytes; 0 or -1. */
static int hd_reserve(char **buf, size_t *cap, size_t need)
{
	size_t n = *cap ? *cap : 4096;
	char *p;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	p = realloc(*buf, n);
	if (p == NULL)
		return -1;
	*buf = p;
	*cap = n;
	return 0;
}

/*
 * Reads what is available on *fd, appending to *buf (keeping at most
 * HD_OUTPUT_MAX bytes); closes *fd and sets it to -1 at end of stream.
 */
static void hd_drain(int *fd, char **buf, size_t *len, size_t *cap)
{
	char tmp[16384];
	ssize_t n = read(*fd, tmp, sizeof(tmp));
	size_t keep;

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		close(*fd);
		*fd = -1;
		return;
	}
	keep = (size_t)n;
	if (*len + keep > HD_OUTPUT_MAX)
		keep = HD_OUTPUT_MAX - *len;
	if (keep == 0 || hd_reserve(buf, cap, *len + keep + 1) != 0)
		return;
	memcpy(*buf + *len, tmp, keep);
	*len += keep;
	(*buf)[*len] = '\0';
}

/* An h_drain_fn into an hd_result's growing buffers. */
static void hd_drain_result(void *arg, int stream, int *fd)
{
	hd_result *r = arg;

	if (stream == 1)
		hd_drain(fd, &r->out, &r->out_len, &r->out_cap);
	else
		hd_drain(fd, &r->err, &r->err_len, &r->err_cap);
}

int hd_collect(h_proc *p, int64_t deadline_ms, hd_result *r)
{
	int reaped;

	r->out_len = r->err_len = 0;
	if (hd_reserve(&r->out, &r->out_cap, 1) != 0 ||
	    hd_reserve(&r->err, &r->err_cap, 1) != 0)
		return -1;
	r->out[0] = r->err[0] = '\0';
	r->exited = 0;
	r->status = -1;
	r->timed_out = 0;
	h_proc_read(p, deadline_ms, hd_drain_result, r);
	reaped =
	    h_proc_end(p, deadline_ms, &r->exited, &r->status, &r->elapsed_ms);
	if (reaped < 0)
		return -1;
	r->timed_out = reaped == 1;
	return 0;
}

int hd_run(hd_result *r, int timeout_ms, const char *const env[],
	   const hd_cmd *c)
{
	h_proc p;

	r->exited = 0;
	r->status = -1;
	r->timed_out = 0;
	if (c->overflow || h_spawn(&p, c->argv, env) != 0)
		return -1;
	return hd_collect(&p, h_now_ms() + h_wait_ms(timeout_ms), r);
}

size_t hd_batch(const hd_cmd *cmds, size_t n, size_t parallel, int timeout_ms,
		const char *const env[], hd_batch_fn fn, void *arg)
{
	h_proc *procs = calloc(n ? n : 1, sizeof(*procs));
	hd_result r = {0};
	size_t started = 0, failures = 0;

	if (procs == NULL)
		return n;
	if (parallel == 0)
		parallel = 1;
	for (size_t done = 0; done < n; done++) {
		while (started < n && started < done + parallel) {
			if (cmds[started].overflow ||
			    h_spawn(&procs[started], cmds[started].argv, env) !=
				0)
				procs[started].pid = -1;
			started++;
		}
		if (procs[done].pid < 0 ||
		    hd_collect(&procs[done],
			       procs[done].started_ms + h_wait_ms(timeout_ms),
			       &r) != 0) {
			failures++;
			continue;
		}
		if (fn != NULL && fn(arg, done, &r) != 0)
			failures++;
	}
	hd_result_free(&r);
	free(procs);
	return failures;
}

/* ---- raw requests -------------------------------------------------------- */

int hd_request_on(h_noise *c, const Tamwil__V1__Request *req,
		  Tamwil__V1__Response **resp, int timeout_ms)
{
	int rc = h_noise_send(c, req, timeout_ms);

	*resp = NULL;
	if (rc != H_IO_OK)
		return rc;
	return h_noise_recv(c, resp, timeout_ms);
}

int hd_request(int port, const char *key_path, const char *server_pub,
	       const Tamwil__V1__Request *req, Tamwil__V1__Response **resp,
	       int timeout_ms)
{
	int64_t deadline = h_now_ms() + timeout_ms;
	h_noise c;
	int rc;

	*resp = NULL;
	if (h_noise_start(&c, port, key_path, server_pub, timeout_ms) != 0)
		return H_IO_ERROR;
	rc = h_noise_finish(&c, req, h_left_ms(deadline));
	if (rc == H_IO_OK)
		rc = h_noise_recv(&c, resp, h_left_ms(deadline));
	h_noise_close(&c);
	return rc;
}

int hd_op_sign(const Tamwil__V1__Operation *op, const keyfile_secret *key,
	       uint8_t **bytes, size_t *len, uint8_t sig[64])
{
	size_t n = tamwil__v1__operation__get_packed_size(op);
	uint8_t *buf = malloc(n ? n : 1);

	*bytes = NULL;
	*len = 0;
	if (buf == NULL)
		return -1;
	tamwil__v1__operation__pack(op, buf);
	if (signop_sign(buf, n, key, sig) != 0) {
		free(buf);
		return -1;
	}
	*bytes = buf;
	*len = n;
	return 0;
}

void hd_signed_request(Tamwil__V1__Request *req,
		       Tamwil__V1__SignedOperation *sop, uint64_t id,
		       const uint8_t *bytes, size_t len, const uint8_t *signer,
		       const uint8_t *sig)
{
	tamwil__v1__request__init(req);
	tamwil__v1__signed_operation__init(sop);
	sop->operation.data = (uint8_t *)bytes;
	sop->operation.len = len;
	sop->signer_key.data = (uint8_t *)signer;
	sop->signer_key.len = KEYFILE_KEYLEN;
	sop->signature.data = (uint8_t *)sig;
	sop->signature.len = SIGNOP_SIGLEN;
	req->request_id = id;
	req->body_case = TAMWIL__V1__REQUEST__BODY_OPERATION;
	req->operation = sop;
}

void hd_money(Tamwil__V1__Money *m, int64_t minor, const char *currency)
{
	tamwil__v1__money__init(m);
	m->minor = minor;
	m->currency = (char *)currency;
}

/* ---- reading JSON -------------------------------------------------------- */

json_t *hd_json_parse(const char *text)
{
	json_error_t first, e;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &first), *all;
	size_t off = 0;

	if (v != NULL)
		return v;
	/* A stream of values (one a line, say) is read as an array. */
	all = json_array();
	while (all != NULL) {
		size_t used;

		off += strspn(text + off, " \t\r\n");
		if (text[off] == '\0')
			break;
		v = json_loads(text + off,
			       JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK, &e);
		used = (size_t)e.position;
		if (v == NULL || used == 0 || json_array_append_new(all, v)) {
			json_decref(all);
			all = NULL;
			break;
		}
		off += used;
	}
	if (all == NULL || json_array_size(all) == 0) {
		json_decref(all);
		fprintf(stderr, "not JSON (line %d, column %d: %s):\n%s\n",
			first.line, first.column, first.text, text);
		return NULL;
	}
	return all;
}

json_t *hd_json_find(json_t *root, const char *key, const char *value)
{
	const char *k;
	json_t *v, *found;
	size_t i;

	if (json_is_object(root)) {
		v = json_object_get(root, key);
		if (json_is_string(v) &&
		    strcmp(json_string_value(v), value) == 0)
			return root;
		json_object_foreach(root, k, v)
		{
			found = hd_json_find(v, key, value);
			if (found != NULL)
				return found;
		}
	} else if (json_is_array(root)) {
		json_array_foreach(root, i, v)
		{
			found = hd_json_find(v, key, value);
			if (found != NULL)
				return found;
		}
	}
	return NULL;
}

/* Counts objects holding key (with the string value value unless NULL). */
static size_t hd_json_count_any(json_t *root, const char *key,
				const char *value)
{
	const char *k;
	json_t *v;
	size_t i, n = 0;

	if (json_is_object(root)) {
		v = json_object_get(root, key);
		if (v != NULL && (value == NULL ||
				  (json_is_string(v) &&
				   strcmp(json_string_value(v), value) == 0)))
			n++;
		json_object_foreach(root, k, v) n +=
		    hd_json_count_any(v, key, value);
	} else if (json_is_array(root)) {
		json_array_foreach(root, i, v) n +=
		    hd_json_count_any(v, key, value);
	}
	return n;
}

size_t hd_json_count(json_t *root, const char *key)
{
	return hd_json_count_any(root, key, NULL);
}

size_t hd_json_count_value(json_t *root, const char *key, const char *value)
{
	return hd_json_count_any(root, key, value);
}

int hd_json_has_string(json_t *root, const char *value)
{
	const char *k;
	json_t *v;
	size_t i;

	if (json_is_string(root))
		return strcmp(json_string_value(root), value) == 0;
	if (json_is_object(root)) {
		json_object_foreach(
		    root, k, v) if (hd_json_has_string(v, value)) return 1;
	} else if (json_is_array(root)) {
		json_array_foreach(
		    root, i, v) if (hd_json_has_string(v, value)) return 1;
	}
	return 0;
}

int hd_json_int(json_t *obj, const char *key, int64_t *v)
{
	json_t *j = json_object_get(obj, key);

	if (!json_is_integer(j))
		return -1;
	*v = (int64_t)json_integer_value(j);
	return 0;
}

/* ---- reading CSV --------------------------------------------------------- */

/* A growing list of cells and the width of each row. */
typedef struct hd_cells {
	char **v;
	size_t n, cap;
} hd_cells;

static int hd_cells_push(hd_cells *c, const char *s, size_t len)
{
	char *copy;

	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		char **v = realloc(c->v, cap * sizeof(*v));

		if (v == NULL)
			return -1;
		c->v = v;
		c->cap = cap;
	}
	copy = malloc(len + 1);
	if (copy == NULL)
		return -1;
	memcpy(copy, s, len);
	copy[len] = '\0';
	c->v[c->n++] = copy;
	return 0;
}

/*
 * Reads one field at *p into buf (capacity cap) and moves *p past it.
 * Returns its length, or -1 with why filled in.
 */
static long hd_csv_field(const char **p, char *buf, size_t cap, char *why,
			 size_t why_cap)
{
	const char *s = *p;
	size_t k = 0;

	if (*s != '"') {
		while (*s != '\0' && *s != ',' && *s != '\n' && *s != '\r') {
			if (*s == '"') {
				snprintf(why, why_cap,
					 "a quote inside an "
					 "unquoted field");
				return -1;
			}
			if (k + 1 < cap)
				buf[k++] = *s;
			s++;
		}
		*p = s;
		return (long)k;
	}
	for (s++;; s++) {
		if (*s == '\0') {
			snprintf(why, why_cap, "an unterminated quoted field");
			return -1;
		}
		if (*s == '"' && s[1] == '"') {
			s++;
		} else if (*s == '"') {
			s++;
			break;
		}
		if (k + 1 < cap)
			buf[k++] = *s;
	}
	if (*s != '\0' && *s != ',' && *s != '\n' && *s != '\r') {
		snprintf(why, why_cap, "text after a closing quote");
		return -1;
	}
	*p = s;
	return (long)k;
}

int hd_csv_parse(const char *text, hd_csv *csv, char *why, size_t why_cap)
{
	hd_cells cells = {0};
	size_t width = 0, in_row = 0, rows = 0;
	size_t cap = strlen(text) + 1;
	char *buf = malloc(cap);
	const char *p = text;

	memset(csv, 0, sizeof(*csv));
	why[0] = '\0';
	if (buf == NULL)
		return -1;
	while (*p != '\0') {
		long len = hd_csv_field(&p, buf, cap, why, why_cap);

		if (len < 0 || hd_cells_push(&cells, buf, (size_t)len) != 0)
			goto fail;
		in_row++;
		if (*p == ',') {
			p++;
			if (*p == '\0' || *p == '\n' || *p == '\r') {
				/* a trailing comma: one more empty field */
				if (hd_cells_push(&cells, "", 0) != 0)
					goto fail;
				in_row++;
			} else {
				continue;
			}
		}
		if (*p == '\r')
			p++;
		if (*p == '\n')
			p++;
		if (rows == 0)
			width = in_row;
		if (in_row != width) {
			snprintf(why, why_cap,
				 "row %zu has %zu fields, the header %zu", rows,
				 in_row, width);
			goto fail;
		}
		rows++;
		in_row = 0;
	}
	if (rows == 0) {
		snprintf(why, why_cap, "no rows at all");
		goto fail;
	}
	free(buf);
	csv->rows = rows;
	csv->cols = width;
	csv->cells = cells.v;
	return 0;
fail:
	free(buf);
	for (size_t i = 0; i < cells.n; i++)
		free(cells.v[i]);
	free(cells.v);
	return -1;
}

const char *hd_csv_cell(const hd_csv *csv, size_t row, size_t col)
{
	if (row >= csv->rows || col >= csv->cols)
		return NULL;
	return csv->cells[row * csv->cols + col];
}

long hd_csv_column(const hd_csv *csv, const char *name)
{
	for (size_t c = 0; c < csv->cols; c++)
		if (strcmp(csv->cells[c], name) == 0)
			return (long)c;
	return -1;
}

void hd_csv_free(hd_csv *csv)
{
	for (size_t i = 0; i < csv->rows * csv->cols; i++)
		free(csv->cells[i]);
	free(csv->cells);
	memset(csv, 0, sizeof(*csv));
}

/* ---- a group's home and its worlds -----------------------------------------
 */

int hd_home_create(hd_home *h)
{
	memset(h, 0, sizeof(*h));
	if (h_tamwild_path() == NULL || h_tamwil_path() == NULL) {
		fprintf(stderr, "set TAMWILD and TAMWIL to the binaries\n");
		return -1;
	}
	if (h_tmpdir_create(h->dir, sizeof(h->dir)) != 0)
		return -1;
	snprintf(h->home, sizeof(h->home), "HOME=%s", h->dir);
	h->env[0] = h->home;
	h->env[1] = "TAMWIL_CONFIG";
	h->env[2] = "XDG_STATE_HOME";
	h->env[3] = NULL;
	return 0;
}

void hd_home_remove(hd_home *h)
{
	if (h->dir[0] != '\0' && getenv("TAMWIL_E2E_KEEP") == NULL)
		h_tmpdir_remove(h->dir);
	h->dir[0] = '\0';
}

/* Runs tamwild with args (NULL-terminated) into r; 0 if it succeeded. */
static int run_tamwild(hd_result *r, const hd_home *h, const char *const args[])
{
	hd_cmd c;

	hd_cmd_init(&c, h_tamwild_path());
	for (int i = 0; args[i] != NULL; i++)
		hd_cmd_add(&c, args[i]);
	if (hd_run(r, H_RUN_TIMEOUT_MS, h->env, &c) == 0 && hd_ok(r))
		return 0;
	hd_result_print(r, args[0]);
	return -1;
}

int hd_world_create(hd_world *w, const hd_home *h, int n, const char *admin_pub,
		    const char *admin_name)
{
	const char *init[] = {"init",	 "--state",	 w->state,   "--admin",
			      admin_pub, "--admin-name", admin_name, NULL};
	const char *pubkey[] = {"pubkey", "--state", w->state, NULL};
	hd_result r = {0};
	char name[32];
	int rc = -1;

	snprintf(name, sizeof(name), "world-%02d", n);
	if (h_path(w->dir, sizeof(w->dir), h->dir, name) != 0 ||
	    mkdir(w->dir, 0700) != 0 ||
	    h_path(w->state, sizeof(w->state), w->dir, "state") != 0 ||
	    h_path(w->server_pub, sizeof(w->server_pub), w->dir,
		   "server.pub") != 0 ||
	    h_path(w->log, sizeof(w->log), w->dir, "tamwild.log") != 0)
		goto out;
	if (run_tamwild(&r, h, init) == 0 && run_tamwild(&r, h, pubkey) == 0 &&
	    h_write_file(w->server_pub, r.out) == 0)
		rc = 0;
out:
	hd_result_free(&r);
	return rc;
}

int hd_head_office(hd_home *h, hd_world *w, char *admin_key, char *admin_pub,
		   char *coord_key, char *coord_pub, const char *admin_name)
{
	if (hd_home_create(h) != 0 ||
	    h_keygen(h->dir, "admin", h->env, admin_key, admin_pub) != 0 ||
	    h_keygen(h->dir, "coord", h->env, coord_key, coord_pub) != 0)
		return -1;
	return hd_world_create(w, h, 1, admin_pub, admin_name);
}

void hd_world_remove(hd_world *w)
{
	if (w->dir[0] != '\0' && getenv("TAMWIL_E2E_KEEP") == NULL)
		h_tmpdir_remove(w->dir);
	w->dir[0] = '\0';
}
