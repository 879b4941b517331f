/*
 * Key files. A principal's private key file holds two key pairs: X25519 for
 * the Noise channel and Ed25519 for signing operations; it is written with
 * mode 0600 and may be sealed under a passphrase (Argon2id, then
 * secretbox). A public key file carries the public halves (and, for the
 * server, head office's data key) in a form an admin can mail around. Head
 * office's data key pair lives in a file of its own. All files are small
 * INI texts; docs/KEYS.md gives their layout.
 */
#ifndef TAMWIL_KEYFILE_H
#define TAMWIL_KEYFILE_H

#include <stddef.h>
#include <stdint.h>

#define KEYFILE_KEYLEN	   32
#define KEYFILE_SIGN_SKLEN 64
/* "ab12 cd34 ef56 7890 1a2b" + NUL: 10 bytes of BLAKE2b in hex groups. */
#define KEYFILE_FINGERPRINT_LEN 25
/* A public key file's text is always shorter than this. */
#define KEYFILE_PUBLIC_TEXT_MAX 1024
/* Longest comment keyfile_format_public() accepts, in bytes. */
#define KEYFILE_COMMENT_MAX 160

/* Error codes; keyfile_strerror() turns them into sentences. */
enum keyfile_error {
	KEYFILE_OK = 0,
	KEYFILE_ERR_IO = -1,	 /* errno says more */
	KEYFILE_ERR_FORMAT = -2, /* not a Tamwil key file of this kind */
	KEYFILE_ERR_PASSPHRASE =
	    -3,			 /* protected and no or a wrong passphrase */
	KEYFILE_ERR_EXISTS = -4, /* refusing to overwrite */
	KEYFILE_ERR_CRYPTO = -5, /* a libsodium call failed */
	KEYFILE_ERR_MISMATCH =
	    -6, /* stored public key or fingerprint disagrees */
	KEYFILE_ERR_PERMISSIONS = -7 /* private file open to group or others */
};

typedef struct keyfile_secret {
	uint8_t noise_pk[KEYFILE_KEYLEN];
	uint8_t noise_sk[KEYFILE_KEYLEN];
	uint8_t sign_pk[KEYFILE_KEYLEN];
	uint8_t sign_sk[KEYFILE_SIGN_SKLEN];
} keyfile_secret;

typedef struct keyfile_public {
	uint8_t noise_pk[KEYFILE_KEYLEN];
	uint8_t sign_pk[KEYFILE_KEYLEN];
	int has_data;			 /* only in the server's file */
	uint8_t data_pk[KEYFILE_KEYLEN]; /* head office's data key */
} keyfile_public;

typedef struct keyfile_data {
	uint8_t pk[KEYFILE_KEYLEN];
	uint8_t sk[KEYFILE_KEYLEN];
} keyfile_data;

const char *keyfile_strerror(int err);

/* Fresh random key pairs. Returns 0 or KEYFILE_ERR_CRYPTO. */
int keyfile_generate(keyfile_secret *k);
int keyfile_data_generate(keyfile_data *d);

/* The public halves of a private key. */
void keyfile_public_of(const keyfile_secret *k, keyfile_public *pub);

/*
 * Writes a private key file, created with O_EXCL and mode 0600 (never
 * overwrites: KEYFILE_ERR_EXISTS). passphrase NULL or "" leaves it
 * unprotected. The file is fsynced before returning 0; on failure no file
 * is left behind. Key pairs that do not belong together are refused with
 * KEYFILE_ERR_MISMATCH.
 */
int keyfile_write_secret(const char *path, const keyfile_secret *k,
			 const char *passphrase);

/*
 * Reads a private key file. For a protected file without passphrase, or
 * with a wrong one, returns KEYFILE_ERR_PASSPHRASE; the passphrase is
 * ignored for an unprotected file. Checks that the stored public keys (and
 * the fingerprint) match the secret ones: KEYFILE_ERR_MISMATCH. A file that
 * group or others may access (mode & 077) is refused with
 * KEYFILE_ERR_PERMISSIONS, before its contents are looked at. On any error
 * *k is zeroed.
 */
int keyfile_read_secret(const char *path, const char *passphrase,
			keyfile_secret *k);

/*
 * 1 if the private key file (or data key file) at path is
 * passphrase-protected, 0 if not, <0 error (including
 * KEYFILE_ERR_PERMISSIONS, so a caller learns of that before prompting).
 */
int keyfile_is_protected(const char *path);

/*
 * Head office's data key file: the same rules as keyfile_write_secret()
 * and keyfile_read_secret(), for one X25519 key pair.
 */
int keyfile_write_data(const char *path, const keyfile_data *d,
		       const char *passphrase);
int keyfile_read_data(const char *path, const char *passphrase,
		      keyfile_data *d);

/*
 * Head office's at-rest key file (rest.keys): the random master keys of
 * at-rest key versions 1 to count, key[v - 1] being version v's, unless
 * retired[v - 1] is set: then the version was retired, its key erased
 * (all zero) and only its number kept. The newest version is never
 * retired. Version 0 is derived from the data key and is not in the file.
 */
#define KEYFILE_REST_MAX 63
typedef struct keyfile_rest {
	unsigned count;
	uint8_t key[KEYFILE_REST_MAX][KEYFILE_KEYLEN];
	uint8_t retired[KEYFILE_REST_MAX];
} keyfile_rest;

/*
 * Reads an at-rest key file into *r (which the caller should keep in
 * sodium_malloc() or locked memory). Refused like a private key file: a
 * file group or others may access (KEYFILE_ERR_PERMISSIONS, before its
 * contents are looked at); another section, an unknown or repeated key, a
 * version other than 1, a key that is neither 32 bytes of base64 nor
 * "retired", no key at all, a gap in the numbering or a retired newest
 * version (KEYFILE_ERR_FORMAT). A missing file is
 * KEYFILE_ERR_IO with errno ENOENT. On any error *r is zeroed.
 */
int keyfile_read_rest(const char *path, keyfile_rest *r);

/*
 * Appends a fresh random master key to *r as version count + 1. Returns 0,
 * KEYFILE_ERR_FORMAT when r already holds KEYFILE_REST_MAX keys, or
 * KEYFILE_ERR_CRYPTO.
 */
int keyfile_rest_add(keyfile_rest *r);

/*
 * Writes *r (at least one key, the newest not retired) at path in place
 * of what is there, never
 * leaving a half-written file: the text goes to path.tmp (mode 0600), is
 * fsynced and renamed over path, and the folder is fsynced. Returns 0 or a
 * negative keyfile_error (errno kept for KEYFILE_ERR_IO).
 */
int keyfile_write_rest(const char *path, const keyfile_rest *r);

/*
 * Formats a public key file into buf (capacity cap, at least
 * KEYFILE_PUBLIC_TEXT_MAX); comment (may be NULL or "") becomes a leading
 * "# ..." line. Returns the text length, or -1 if the text does not fit or
 * the comment is longer than KEYFILE_COMMENT_MAX bytes or holds a control
 * character (a line break, say).
 */
int keyfile_format_public(const keyfile_public *pub, const char *comment,
			  char *buf, size_t cap);

/*
 * Parses public key file text (len bytes, NUL-terminated or not); checks
 * the fingerprint line if present (KEYFILE_ERR_MISMATCH). Anything else out
 * of place is KEYFILE_ERR_FORMAT: another section, an unknown or repeated
 * key, a version other than 1, a key that is not 32 bytes of base64 or not
 * a usable curve point (all-zero or small-order). On any error *pub is
 * zeroed.
 */
int keyfile_parse_public(const char *text, size_t len, keyfile_public *pub);

/* Reads and parses a public key file. */
int keyfile_read_public(const char *path, keyfile_public *pub);

/*
 * The short fingerprint shown to people: the first 10 bytes of
 * BLAKE2b("tamwil-fingerprint-v1" || noise_pk || sign_pk), computed with a
 * 16-byte output length (crypto_generichash, no key), as lower-case hex in
 * five groups of four, e.g. "3f9a 0c17 b2d4 e85e 6a01".
 */
void keyfile_fingerprint(const uint8_t *noise_pk, const uint8_t *sign_pk,
			 char out[KEYFILE_FINGERPRINT_LEN]);

#endif
