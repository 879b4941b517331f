/*
 * noise_vectors FILE: runs the Noise test vectors of a cacophony-format JSON
 * file ({"vectors": [...]}) against common/noise.c.
 *
 * For each vector whose protocol noise_protocol_supported() accepts, an
 * initiator and a responder are set up from the vector's keys, prologues
 * and ephemerals. Handshake messages alternate starting with the
 * initiator; transport messages keep alternating by message index for
 * interactive patterns and all go from initiator to responder for one-way
 * patterns. Every ciphertext written must equal the vector's, the other
 * side must read back the payload, and handshake_hash, when given, must
 * match both sides. Vectors with psks, fallback or another suite are
 * skipped and not counted.
 *
 * Output: one line per failure naming the vector and message index, then,
 * as last line, "N passed, N failed". Exit status 0 only when nothing
 * failed and at least one vector passed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "noise.h"

/* A hex field decoded: data is NULL when the field is absent. */
struct bytes {
	uint8_t *data;
	size_t len;
};

/* The two sides of one vector. */
struct run {
	const char *name;
	noise_handshake hs[2]; /* indexed by enum noise_role */
	noise_cipher send[2];
	noise_cipher recv[2];
	int one_way;
	int split; /* both sides have split */
};

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Decodes the hex string field key of obj into out (allocated, possibly
 * empty). An absent or null field gives out->data == NULL and returns 0;
 * a field that is not an even-length hex string returns -1.
 */
static int get_hex(const json_t *obj, const char *key, struct bytes *out)
{
	const json_t *v = json_object_get(obj, key);
	const char *s;
	size_t len;
	size_t i;

	out->data = NULL;
	out->len = 0;
	if (v == NULL || json_is_null(v))
		return 0;
	s = json_string_value(v);
	if (s == NULL || (len = strlen(s)) % 2 != 0)
		return -1;
	out->data = malloc(len / 2 + 1);
	if (out->data == NULL)
		return -1;
	for (i = 0; i < len / 2; i++) {
		int hi = hex_digit(s[2 * i]);
		int lo = hex_digit(s[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			free(out->data);
			out->data = NULL;
			return -1;
		}
		out->data[i] = (uint8_t)(hi << 4 | lo);
	}
	out->len = len / 2;
	return 0;
}

/* Decodes a key field: absent is fine, present must be 32 bytes. */
static int get_key(const json_t *obj, const char *key, struct bytes *out)
{
	if (get_hex(obj, key, out) != 0)
		return -1;
	if (out->data != NULL && out->len != NOISE_DHLEN) {
		free(out->data);
		out->data = NULL;
		return -1;
	}
	return 0;
}

/*
 * The protocol name of a vector: "protocol_name", else "name", else one
 * built from pattern/dh/cipher/hash. Writes into buf; returns buf or NULL.
 */
static const char *protocol_of(const json_t *v, char *buf, size_t cap)
{
	const char *fields[] = {"protocol_name", "name"};
	const char *pattern, *dh, *cipher, *hash;
	size_t i;
	int n;

	for (i = 0; i < sizeof fields / sizeof fields[0]; i++) {
		const char *s =
		    json_string_value(json_object_get(v, fields[i]));

		if (s != NULL && strncmp(s, "Noise_", 6) == 0) {
			n = snprintf(buf, cap, "%s", s);
			return n > 0 && (size_t)n < cap ? buf : NULL;
		}
	}
	pattern = json_string_value(json_object_get(v, "pattern"));
	dh = json_string_value(json_object_get(v, "dh"));
	cipher = json_string_value(json_object_get(v, "cipher"));
	hash = json_string_value(json_object_get(v, "hash"));
	if (!pattern || !dh || !cipher || !hash)
		return NULL;
	n = snprintf(buf, cap, "Noise_%s_%s_%s_%s", pattern, dh, cipher, hash);
	return n > 0 && (size_t)n < cap ? buf : NULL;
}

/* True when the vector uses a feature outside the base patterns. */
static int uses_modifiers(const json_t *v)
{
	static const char *const fields[] = {
	    "psks",	 "init_psk", "resp_psk", "init_psks",
	    "resp_psks", "fallback", "hybrid",	 "fallback_pattern"};
	size_t i;

	for (i = 0; i < sizeof fields / sizeof fields[0]; i++) {
		const json_t *f = json_object_get(v, fields[i]);

		if (f == NULL || json_is_null(f) || json_is_false(f))
			continue;
		if (json_is_array(f) && json_array_size(f) == 0)
			continue;
		return 1;
	}
	return 0;
}

/*
 * Which keys the pattern letters call for (section 7.4): the first letter
 * names the initiator's static key (N none, K known to the responder in
 * advance, X or I transmitted), the second the responder's; a one-way
 * pattern's responder static key is always known in advance. Vector files
 * may carry keys a pattern does not use; noise_handshake_init() refuses
 * those, so they are dropped here.
 */
static void wanted_keys(const char *protocol, int want[4])
{
	const char *pat = protocol + strlen("Noise_");
	size_t len = strcspn(pat, "_");
	char first = pat[0];
	char second = 'K';

	if (len > 1)
		second = pat[1];

	want[0] = first != 'N';	 /* init_static */
	want[1] = second == 'K'; /* init_remote_static */
	want[2] = second != 'N'; /* resp_static */
	want[3] = first == 'K';	 /* resp_remote_static */
}

/* One side's inputs from a vector: prefix "init" or "resp". */
struct side {
	struct bytes s, rs, e, prologue;
};

static void side_free(struct side *sd)
{
	free(sd->s.data);
	free(sd->rs.data);
	free(sd->e.data);
	free(sd->prologue.data);
	memset(sd, 0, sizeof *sd);
}

/*
 * Decodes <prefix>_static, _remote_static, _ephemeral and _prologue of v
 * into sd. Returns 0, or -1 after printing which field is malformed.
 */
static int side_load(struct side *sd, const json_t *v, const char *prefix,
		     const char *name)
{
	char f[4][32];
	struct bytes *dst[4] = {&sd->s, &sd->rs, &sd->e, &sd->prologue};
	static const char *const suffix[4] = {"static", "remote_static",
					      "ephemeral", "prologue"};
	size_t i;

	memset(sd, 0, sizeof *sd);
	for (i = 0; i < 4; i++) {
		int bad;

		snprintf(f[i], sizeof f[i], "%s_%s", prefix, suffix[i]);
		bad =
		    i < 3 ? get_key(v, f[i], dst[i]) : get_hex(v, f[i], dst[i]);
		if (bad) {
			printf("%s: bad field %s\n", name, f[i]);
			side_free(sd);
			return -1;
		}
	}
	return 0;
}

/*
 * Starts side role of r from its inputs; want_s and want_rs say whether the
 * pattern uses the static and remote static keys. Returns 0 or -1 after
 * printing why.
 */
static int side_start(struct run *r, enum noise_role role, const char *protocol,
		      const struct side *sd, int want_s, int want_rs)
{
	const char *who = role == NOISE_INITIATOR ? "initiator" : "responder";
	noise_handshake *hs = &r->hs[role];

	if (noise_handshake_init(hs, protocol, role, sd->prologue.data,
				 sd->prologue.len, want_s ? sd->s.data : NULL,
				 want_rs ? sd->rs.data : NULL) != 0) {
		printf("%s: %s init failed\n", r->name, who);
		return -1;
	}
	if (sd->e.data != NULL &&
	    noise_handshake_set_ephemeral(hs, sd->e.data) != 0) {
		printf("%s: %s ephemeral refused\n", r->name, who);
		return -1;
	}
	return 0;
}

/* Initialises both sides of r from vector v; returns 0 or -1. */
static int setup(struct run *r, const json_t *v, const char *protocol)
{
	struct side init, resp;
	int want[4];
	int rc = -1;

	wanted_keys(protocol, want);
	if (side_load(&init, v, "init", r->name) != 0)
		return -1;
	if (side_load(&resp, v, "resp", r->name) != 0)
		goto out;
	if (side_start(r, NOISE_INITIATOR, protocol, &init, want[0], want[1]) ==
		0 &&
	    side_start(r, NOISE_RESPONDER, protocol, &resp, want[2], want[3]) ==
		0)
		rc = 0;
	side_free(&resp);
out:
	side_free(&init);
	return rc;
}

/* Checks that produced bytes equal the expected ones. */
static int same(const uint8_t *got, size_t got_len, const struct bytes *want)
{
	return got_len == want->len &&
	       (got_len == 0 || memcmp(got, want->data, got_len) == 0);
}

/*
 * Runs message i (payload pt, expected ciphertext ct) through the
 * handshake or the transport, sender to receiver. Returns 0 or -1 after
 * printing the failure.
 */
static int run_message(struct run *r, size_t i, const struct bytes *pt,
		       const struct bytes *ct)
{
	uint8_t buf[NOISE_MAX_MSGLEN], back[NOISE_MAX_MSGLEN];
	int from = r->one_way ? NOISE_INITIATOR : (int)(i % 2);
	int to = !from;
	size_t n = 0, m = 0;
	int hs = noise_handshake_action(&r->hs[from]) == NOISE_ACTION_WRITE;

	if (hs ? noise_handshake_write(&r->hs[from], pt->data, pt->len, buf,
				       sizeof buf, &n)
	       : noise_cipher_encrypt(&r->send[from], NULL, 0, pt->data,
				      pt->len, buf, &n)) {
		printf("%s: message %zu: write failed\n", r->name, i);
		return -1;
	}
	if (!same(buf, n, ct)) {
		printf("%s: message %zu: ciphertext mismatch\n", r->name, i);
		return -1;
	}
	if (hs ? noise_handshake_read(&r->hs[to], buf, n, back, sizeof back, &m)
	       : noise_cipher_decrypt(&r->recv[to], NULL, 0, buf, n, back,
				      &m)) {
		printf("%s: message %zu: read failed\n", r->name, i);
		return -1;
	}
	if (!same(back, m, pt)) {
		printf("%s: message %zu: payload mismatch\n", r->name, i);
		return -1;
	}
	return 0;
}

/*
 * Splits both sides once both report NOISE_ACTION_SPLIT, and checks the
 * handshake hash against the vector's when it has one.
 */
static int maybe_split(struct run *r, const json_t *v, size_t i)
{
	struct bytes want = {0};
	uint8_t h[2][NOISE_HASHLEN];
	int role;
	int rc = -1;

	if (r->split ||
	    noise_handshake_action(&r->hs[0]) != NOISE_ACTION_SPLIT ||
	    noise_handshake_action(&r->hs[1]) != NOISE_ACTION_SPLIT)
		return 0;
	for (role = 0; role < 2; role++) {
		noise_handshake_hash(&r->hs[role], h[role]);
		if (noise_handshake_split(&r->hs[role], &r->send[role],
					  &r->recv[role]) != 0) {
			printf("%s: message %zu: split failed\n", r->name, i);
			return -1;
		}
	}
	r->split = 1;
	if (get_hex(v, "handshake_hash", &want) != 0) {
		printf("%s: bad field handshake_hash\n", r->name);
		return -1;
	}
	if (want.data != NULL && (!same(h[0], sizeof h[0], &want) ||
				  !same(h[1], sizeof h[1], &want)))
		printf("%s: message %zu: handshake hash mismatch\n", r->name,
		       i);
	else
		rc = 0;
	free(want.data);
	return rc;
}

/* Runs every message of vector v; returns 0 when all of it checks out. */
static int run_messages(struct run *r, const json_t *v)
{
	const json_t *msgs = json_object_get(v, "messages");
	size_t i;

	if (!json_is_array(msgs) || json_array_size(msgs) == 0) {
		printf("%s: no messages\n", r->name);
		return -1;
	}
	for (i = 0; i < json_array_size(msgs); i++) {
		const json_t *msg = json_array_get(msgs, i);
		struct bytes pt = {0}, ct = {0};
		int rc = -1;

		if (get_hex(msg, "payload", &pt) || !pt.data ||
		    get_hex(msg, "ciphertext", &ct) || !ct.data)
			printf("%s: message %zu: bad payload or ciphertext\n",
			       r->name, i);
		else
			rc = run_message(r, i, &pt, &ct);
		free(pt.data);
		free(ct.data);
		if (rc != 0 || maybe_split(r, v, i) != 0)
			return -1;
	}
	if (!r->split) {
		printf("%s: message %zu: handshake incomplete\n", r->name, i);
		return -1;
	}
	return 0;
}

/*
 * Runs vector number idx. Returns 1 if it passed, 0 if it failed, -1 if it
 * was skipped.
 */
static int run_vector(const json_t *v, size_t idx)
{
	char protocol[128];
	char label[160];
	struct run r;
	int ok = 0;
	int i;

	memset(&r, 0, sizeof r);
	if (!json_is_object(v) || uses_modifiers(v) ||
	    protocol_of(v, protocol, sizeof protocol) == NULL ||
	    noise_protocol_supported(protocol) != 0)
		return -1;
	snprintf(label, sizeof label, "vector %zu (%s)", idx, protocol);
	r.name = label;
	r.one_way = strcspn(protocol + strlen("Noise_"), "_") == 1;
	if (setup(&r, v, protocol) == 0 && run_messages(&r, v) == 0)
		ok = 1;
	noise_handshake_clear(&r.hs[0]);
	noise_handshake_clear(&r.hs[1]);
	for (i = 0; i < 2; i++) {
		noise_cipher_clear(&r.send[i]);
		noise_cipher_clear(&r.recv[i]);
	}
	return ok;
}

int main(int argc, char **argv)
{
	json_error_t err;
	json_t *root;
	const json_t *vectors;
	size_t i, passed = 0, failed = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s VECTORS.json\n", argv[0]);
		return 2;
	}
	root = json_load_file(argv[1], 0, &err);
	if (root == NULL) {
		fprintf(stderr, "%s: %s:%d: %s\n", argv[0], argv[1], err.line,
			err.text);
		return 2;
	}
	vectors = json_object_get(root, "vectors");
	if (!json_is_array(vectors)) {
		fprintf(stderr, "%s: %s: no \"vectors\" array\n", argv[0],
			argv[1]);
		json_decref(root);
		return 2;
	}
	for (i = 0; i < json_array_size(vectors); i++) {
		int rc = run_vector(json_array_get(vectors, i), i);

		passed += rc == 1;
		failed += rc == 0;
	}
	json_decref(root);
	printf("%zu passed, %zu failed\n", passed, failed);
	return failed == 0 && passed >= 1 ? 0 : 1;
}
