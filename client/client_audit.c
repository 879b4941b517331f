/*
 * libtamwil-client: the audit log seen from a regional office. Checks the
 * receipt of every operation, keeps the newest checkpoint verified (one
 * file per server, written atomically) and, at each connection, checks
 * that head office's log extends it; see tamwil-client.h and
 * docs/AUDIT.md ("Receipts", "Consistency", "Client state").
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "client_private.h"
#include "pbuf.h"

#define FORKED_ADVICE                                                          \
	"it may have been rolled back or altered; do not continue, and tell "  \
	"the auditors"
#define RECEIPT_LEAD                                                           \
	"head office's answer does not prove the operation is in its log"
#define STATE_PATH_MAX 4096

/* Copies a bytes field of exactly len bytes into out. 0 or -1. */
static int take_bytes(const ProtobufCBinaryData *b, uint8_t *out, size_t len)
{
	if (b->len != len || b->data == NULL)
		return -1;
	memcpy(out, b->data, len);
	return 0;
}

int tamwil_checkpoint_from_message(const Tamwil__V1__Checkpoint *m,
				   checkpoint *cp)
{
	if (m == NULL || cp == NULL)
		return -1;
	memset(cp, 0, sizeof(*cp));
	cp->size = m->tree_size;
	cp->time = m->time;
	if (take_bytes(&m->root, cp->root, MERKLE_HASHLEN) != 0 ||
	    take_bytes(&m->signature, cp->sig, CHECKPOINT_SIGLEN) != 0)
		return -1;
	return 0;
}

/* 1 if two bytes fields hold the same bytes. */
static int same_bytes(const ProtobufCBinaryData *a,
		      const ProtobufCBinaryData *b)
{
	return a->len == b->len &&
	       (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

/* Whether entry e records exactly `sent`; 0 or -1 with why. */
static int entry_matches(const Tamwil__V1__LogEntry *e, uint64_t sequence,
			 const Tamwil__V1__SignedOperation *sent, char *why,
			 size_t cap)
{
	const Tamwil__V1__SignedOperation *got = e->operation;

	if (e->sequence != sequence) {
		snprintf(why, cap,
			 "its entry is number %" PRIu64 ", not %" PRIu64,
			 e->sequence, sequence);
		return -1;
	}
	if (sent == NULL)
		return 0;
	if (got == NULL || !same_bytes(&got->operation, &sent->operation) ||
	    !same_bytes(&got->signer_key, &sent->signer_key) ||
	    !same_bytes(&got->signature, &sent->signature)) {
		snprintf(why, cap,
			 "its entry does not hold the operation this office "
			 "signed and sent");
		return -1;
	}
	return 0;
}

/* The proof's hashes into out (capacity MERKLE_MAX_PROOF). 0 or -1. */
static int take_proof(const ProtobufCBinaryData *p, size_t n, merkle_hash *out)
{
	if (n > MERKLE_MAX_PROOF)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (take_bytes(&p[i], out[i], MERKLE_HASHLEN) != 0)
			return -1;
	return 0;
}

/* The signature, size and inclusion checks of a receipt; 0 or -1. */
static int receipt_proves(const uint8_t *sign_pk, const Tamwil__V1__Receipt *r,
			  uint64_t sequence, checkpoint *cp, char *why,
			  size_t cap)
{
	merkle_hash proof[MERKLE_MAX_PROOF];
	merkle_hash leaf;

	if (tamwil_checkpoint_from_message(r->checkpoint, cp) != 0) {
		snprintf(why, cap, "its checkpoint is missing or malformed");
		return -1;
	}
	if (checkpoint_verify(cp, sign_pk) != 0) {
		snprintf(why, cap,
			 "the checkpoint's signature does not verify under "
			 "head office's signing key");
		return -1;
	}
	if (take_proof(r->inclusion_proof, r->n_inclusion_proof, proof) != 0 ||
	    merkle_leaf_hash(r->entry.data, r->entry.len, leaf) != 0 ||
	    merkle_verify_inclusion(sequence, cp->size, leaf, proof,
				    r->n_inclusion_proof, cp->root) != 0) {
		snprintf(why, cap,
			 "the inclusion proof does not lead from entry "
			 "%" PRIu64 " to the root of the checkpoint of size "
			 "%" PRIu64,
			 sequence, cp->size);
		return -1;
	}
	return 0;
}

int tamwil_receipt_verify(const uint8_t *sign_pk, const Tamwil__V1__Receipt *r,
			  uint64_t sequence,
			  const Tamwil__V1__SignedOperation *sent,
			  checkpoint *cp, char *why, size_t cap)
{
	Tamwil__V1__LogEntry *e;
	checkpoint tmp;
	int rc;

	if (why == NULL || cap == 0)
		return -1;
	if (sign_pk == NULL || r == NULL || r->entry.len == 0) {
		snprintf(why, cap, "there is no receipt");
		return -1;
	}
	e = (Tamwil__V1__LogEntry *)pbuf_unpack(
	    &tamwil__v1__log_entry__descriptor, r->entry.len, r->entry.data,
	    PBUF_BUDGET_DEFAULT);
	if (e == NULL) {
		snprintf(why, cap, "its entry does not parse as a log entry");
		return -1;
	}
	rc = entry_matches(e, sequence, sent, why, cap);
	tamwil__v1__log_entry__free_unpacked(e, NULL);
	if (rc == 0)
		rc = receipt_proves(sign_pk, r, sequence,
				    cp != NULL ? cp : &tmp, why, cap);
	return rc;
}

int tamwil_checkpoint_extends(const uint8_t *sign_pk, const checkpoint *saved,
			      const checkpoint *now, const merkle_hash *proof,
			      size_t n, char *why, size_t cap)
{
	if (checkpoint_verify(now, sign_pk) != 0) {
		snprintf(why, cap,
			 "its newest checkpoint's signature does "
			 "not verify");
		return -1;
	}
	if (saved == NULL || saved->size == 0)
		return 0;
	if (now->size < saved->size) {
		snprintf(why, cap, "it now has %" PRIu64 " entries", now->size);
		return -1;
	}
	if (merkle_verify_consistency(saved->size, now->size, saved->root,
				      now->root, proof, n) != 0) {
		snprintf(why, cap,
			 now->size == saved->size
			     ? "it has another root at the same size"
			     : "its consistency proof from size %" PRIu64
			       " to %" PRIu64 " fails",
			 saved->size, now->size);
		return -1;
	}
	return 0;
}

int tamwil_state_dir(char *buf, size_t cap)
{
	const char *xdg = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");
	int n;

	if (xdg != NULL && xdg[0] == '/')
		n = snprintf(buf, cap, "%s/tamwil", xdg);
	else if (home != NULL && home[0] != '\0')
		n = snprintf(buf, cap, "%s/.local/state/tamwil", home);
	else
		return -1;
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* Lower-case hex of len bytes into out (capacity 2 * len + 1). */
static void to_hex(const uint8_t *b, size_t len, char *out)
{
	sodium_bin2hex(out, 2 * len + 1, b, len);
}

/* Parses exactly len bytes of hex; 0 or -1. */
static int from_hex(const char *hex, uint8_t *out, size_t len)
{
	size_t got = 0;

	if (strlen(hex) != 2 * len ||
	    sodium_hex2bin(out, len, hex, 2 * len, NULL, &got, NULL) != 0 ||
	    got != len)
		return -1;
	return 0;
}

/* Parses the text of a checkpoint file; 0 or -1. */
static int parse_checkpoint(FILE *f, checkpoint *cp)
{
	char root[2 * MERKLE_HASHLEN + 2], sig[2 * CHECKPOINT_SIGLEN + 2];
	unsigned long long size;
	long long t;

	if (fscanf(f,
		   "tamwil-checkpoint/1\nsize %llu\nroot %65s\ntime %lld\n"
		   "signature %129s\n",
		   &size, root, &t, sig) != 4)
		return -1;
	cp->size = size;
	cp->time = t;
	if (from_hex(root, cp->root, MERKLE_HASHLEN) != 0 ||
	    from_hex(sig, cp->sig, CHECKPOINT_SIGLEN) != 0)
		return -1;
	return 0;
}

int tamwil_checkpoint_load(const char *path, checkpoint *cp)
{
	FILE *f;
	int rc;

	memset(cp, 0, sizeof(*cp));
	f = fopen(path, "r");
	if (f == NULL)
		return errno == ENOENT ? 1 : -1;
	rc = parse_checkpoint(f, cp);
	fclose(f);
	return rc;
}

/* Writes all of buf to fd; 0 or -1. */
static int write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* fsyncs the folder holding path, so a rename survives a crash. */
static int sync_parent(const char *path)
{
	char dir[STATE_PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd, rc;

	if (slash == NULL)
		return 0;
	if ((size_t)(slash - path) >= sizeof(dir))
		return -1;
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	fd = open(slash == path ? "/" : dir, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

int tamwil_checkpoint_save(const char *path, const checkpoint *cp)
{
	char tmp[STATE_PATH_MAX], text[512], root[2 * MERKLE_HASHLEN + 1],
	    sig[2 * CHECKPOINT_SIGLEN + 1];
	int fd, n, rc = -1;

	to_hex(cp->root, MERKLE_HASHLEN, root);
	to_hex(cp->sig, CHECKPOINT_SIGLEN, sig);
	n = snprintf(text, sizeof(text),
		     "tamwil-checkpoint/1\nsize %" PRIu64 "\nroot %s\ntime "
		     "%" PRId64 "\nsignature %s\n",
		     cp->size, root, cp->time, sig);
	if (n < 0 || (size_t)n >= sizeof(text) ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path,
			     (long)getpid()) >= sizeof(tmp))
		return -1;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (write_all(fd, text, (size_t)n) == 0 && fsync(fd) == 0)
		rc = 0;
	if (close(fd) != 0)
		rc = -1;
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -1;
	if (rc != 0)
		unlink(tmp);
	else
		rc = sync_parent(path);
	return rc;
}

int tamwil_receipt_append(const char *path, const Tamwil__V1__Receipt *r)
{
	size_t len = tamwil__v1__receipt__get_packed_size(r);
	uint8_t *buf = malloc(len + 4);
	int fd, rc = -1;

	if (buf == NULL)
		return -1;
	buf[0] = (uint8_t)(len >> 24);
	buf[1] = (uint8_t)(len >> 16);
	buf[2] = (uint8_t)(len >> 8);
	buf[3] = (uint8_t)len;
	tamwil__v1__receipt__pack(r, buf + 4);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd >= 0) {
		if (write_all(fd, buf, len + 4) == 0 && fsync(fd) == 0)
			rc = 0;
		if (close(fd) != 0)
			rc = -1;
	}
	free(buf);
	return rc;
}

/* mkdir -p with mode 0700 for what it creates; 0 or -1. */
static int make_dirs(const char *dir)
{
	char buf[STATE_PATH_MAX];
	size_t len = strlen(dir);

	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, dir, len + 1);
	for (char *p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(buf, 0700) != 0 && errno != EEXIST)
		return -1;
	return 0;
}

/* The path of this server's checkpoint file into buf; 0 or -1. */
static int checkpoint_path(const tamwil_client *c, char *buf, size_t cap)
{
	char hex[2 * 10 + 1];
	uint8_t fp[16];
	int n;

	crypto_generichash(fp, sizeof(fp), c->sign_pk, sizeof(c->sign_pk), NULL,
			   0);
	to_hex(fp, 10, hex);
	n = snprintf(buf, cap, "%s/checkpoint-%s", c->state_dir, hex);
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

int client_audit_setup(tamwil_client *c, const tamwil_client_options *opt,
		       tamwil_error *err)
{
	char path[STATE_PATH_MAX];
	int rc;

	if (opt->server_sign_pk == NULL)
		return TAMWIL_OK;
	memcpy(c->sign_pk, opt->server_sign_pk, sizeof(c->sign_pk));
	c->has_sign_pk = 1;
	if (opt->state_dir == NULL)
		return TAMWIL_OK;
	c->state_dir = strdup(opt->state_dir);
	if (c->state_dir == NULL)
		return SET_ERROR(err, TAMWIL_ERR_LOCAL, "out of memory");
	if (make_dirs(c->state_dir) != 0 ||
	    checkpoint_path(c, path, sizeof(path)) != 0)
		return SET_ERROR(err, TAMWIL_ERR_LOCAL,
				 "cannot use the state folder %s: %s",
				 c->state_dir, strerror(errno));
	rc = tamwil_checkpoint_load(path, &c->saved);
	if (rc < 0 || (rc == 0 && checkpoint_verify(&c->saved, c->sign_pk)))
		return SET_ERROR(err, TAMWIL_ERR_LOCAL,
				 "the saved checkpoint %s is unreadable or "
				 "not signed by this head office",
				 path);
	c->has_saved = rc == 0;
	c->consistency_pending = 1;
	return TAMWIL_OK;
}

void client_audit_clear(tamwil_client *c)
{
	free(c->state_dir);
	c->state_dir = NULL;
}

/* The loud refusal of a log that does not extend the saved checkpoint. */
static int forked(tamwil_client *c, const char *why, tamwil_error *err)
{
	char root[2 * MERKLE_HASHLEN + 1];

	to_hex(c->saved.root, MERKLE_HASHLEN, root);
	c->broken = 1;
	return SET_ERROR(err, TAMWIL_ERR_FORKED,
			 "head office's log does not extend the one this "
			 "office saw (size %" PRIu64 ", root %.16s...): %s; "
			 "%s",
			 c->saved.size, root, why, FORKED_ADVICE);
}

/*
 * Saves cp as this server's newest checkpoint, in memory and on disk,
 * unless another run of this office saved a larger one meanwhile.
 */
static int keep_checkpoint(tamwil_client *c, const checkpoint *cp,
			   tamwil_error *err)
{
	char path[STATE_PATH_MAX];
	checkpoint other;

	c->saved = *cp;
	c->has_saved = 1;
	if (c->state_dir == NULL)
		return TAMWIL_OK;
	if (checkpoint_path(c, path, sizeof(path)) != 0)
		return SET_ERROR(err, TAMWIL_ERR_LOCAL,
				 "the state folder's name is too long");
	if (tamwil_checkpoint_load(path, &other) == 0 &&
	    other.size > cp->size && checkpoint_verify(&other, c->sign_pk) == 0)
		return TAMWIL_OK;
	if (tamwil_checkpoint_save(path, cp) != 0)
		return SET_ERROR(err, TAMWIL_ERR_LOCAL,
				 "cannot save the checkpoint in %s: %s",
				 c->state_dir, strerror(errno));
	return TAMWIL_OK;
}

/* Judges a CheckpointResponse against the saved checkpoint. */
static int judge_checkpoint(tamwil_client *c,
			    const Tamwil__V1__CheckpointResponse *m,
			    tamwil_error *err)
{
	merkle_hash proof[MERKLE_MAX_PROOF];
	char why[256];
	checkpoint now;

	if (m == NULL || tamwil_checkpoint_from_message(m->checkpoint, &now) ||
	    take_proof(m->consistency_proof, m->n_consistency_proof, proof))
		return forked(c, "its checkpoint answer is malformed", err);
	if (tamwil_checkpoint_extends(
		c->sign_pk, c->has_saved ? &c->saved : NULL, &now, proof,
		m->n_consistency_proof, why, sizeof(why)) != 0)
		return forked(c, why, err);
	if (c->has_saved && now.size == c->saved.size)
		return TAMWIL_OK;
	return keep_checkpoint(c, &now, err);
}

/* Asks for the newest checkpoint since the saved size and judges it. */
static int check_consistency(tamwil_client *c, tamwil_error *err)
{
	Tamwil__V1__Request req = TAMWIL__V1__REQUEST__INIT;
	Tamwil__V1__CheckpointRequest body =
	    TAMWIL__V1__CHECKPOINT_REQUEST__INIT;
	Tamwil__V1__Response *resp = NULL;
	int rc;

	body.since_size = c->has_saved ? c->saved.size : 0;
	req.body_case = TAMWIL__V1__REQUEST__BODY_CHECKPOINT;
	req.checkpoint = &body;
	rc = client_call(c, &req, TAMWIL__V1__RESPONSE__BODY_CHECKPOINT, &resp,
			 err);
	if (rc == TAMWIL_ERR_REFUSED && err != NULL &&
	    (err->code == TAMWIL__V1__ERROR_CODE__ERROR_NOT_FOUND ||
	     err->code == TAMWIL__V1__ERROR_CODE__ERROR_INVALID_ARGUMENT))
		return c->has_saved && c->saved.size > 0
			   ? forked(c, "it says it has fewer entries", err)
			   : TAMWIL_OK;
	if (rc != TAMWIL_OK)
		return rc;
	rc = judge_checkpoint(c, resp->checkpoint, err);
	tamwil__v1__response__free_unpacked(resp, NULL);
	return rc;
}

int client_audit_consistency(tamwil_client *c, tamwil_error *err)
{
	if (!c->consistency_pending)
		return TAMWIL_OK;
	c->consistency_pending = 0;
	return check_consistency(c, err);
}

int client_audit_result(tamwil_client *c,
			const Tamwil__V1__SignedOperation *sent,
			const Tamwil__V1__OperationResult *res,
			tamwil_error *err)
{
	char why[256], path[STATE_PATH_MAX];
	checkpoint cp;

	if (!c->has_sign_pk)
		return TAMWIL_OK;
	if (tamwil_receipt_verify(c->sign_pk, res->receipt, res->sequence, sent,
				  &cp, why, sizeof(why)) != 0)
		return SET_ERROR(err, TAMWIL_ERR_RECEIPT, RECEIPT_LEAD ": %s",
				 why);
	if (c->state_dir == NULL)
		return TAMWIL_OK;
	if ((size_t)snprintf(path, sizeof(path), "%s/receipts", c->state_dir) >=
		sizeof(path) ||
	    tamwil_receipt_append(path, res->receipt) != 0)
		return SET_ERROR(err, TAMWIL_ERR_LOCAL,
				 "the operation is in head office's log (entry "
				 "%" PRIu64 ") but its receipt could not be "
				 "saved in %s: %s",
				 res->sequence, c->state_dir, strerror(errno));
	/* A newer checkpoint must extend the saved one before it is kept. */
	if (c->has_saved && cp.size > c->saved.size)
		return check_consistency(c, err);
	if (c->has_saved && cp.size == c->saved.size &&
	    sodium_memcmp(cp.root, c->saved.root, MERKLE_HASHLEN) != 0)
		return forked(c, "a receipt has another root at the same size",
			      err);
	return c->has_saved ? TAMWIL_OK : keep_checkpoint(c, &cp, err);
}
