/*
 * Key files: the private key file, head office's data key file and the
 * public key file. keyfile.h is the contract; docs/KEYS.md gives the
 * layouts. Every file is a small INI text read with libinih.
 *
 * Secrets (decoded key bytes, the passphrase-derived key, the file text and
 * the parsed values of a private file) live in sodium_malloc() memory:
 * guarded, locked where the system allows it, and wiped when freed.
 * (libinih copies each line into a stack buffer of its own while parsing;
 * that copy is out of our reach.)
 */
#include "keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <limits.h>
#include <stdio.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

/* Largest key file read; real ones are well under 1 KiB. */
#define FILE_MAX 65536
/* Longest line accepted: libinih cuts lines longer than its buffer. */
#define TEXT_LINE_MAX 190
/* Most keys any one kind of file has. */
#define MAX_FIELDS 11
/* X25519 secret key || Ed25519 seed. */
#define PRIVATE_SECRET_LEN (KEYFILE_KEYLEN + KEYFILE_KEYLEN)
#define DATA_SECRET_LEN	   KEYFILE_KEYLEN
#define SECRET_MAX	   PRIVATE_SECRET_LEN
#define SEALED_MAX	   (SECRET_MAX + crypto_secretbox_MACBYTES)
/* Room for a private key or data key file's text. */
#define SECRET_TEXT_CAP 1024
/* Room for the base64 of anything stored (NUL included). */
#define B64_CAP	    sodium_base64_ENCODED_LEN(SEALED_MAX, B64_VARIANT)
#define B64_VARIANT sodium_base64_VARIANT_ORIGINAL
/* Bytes of the BLAKE2b output shown in a fingerprint. */
#define FINGERPRINT_BYTES 10

#define FORMAT_VERSION	    "1"
#define PROTECTION_NONE	    "none"
#define PROTECTION_ARGON2ID "argon2id"

/* Bounds on Argon2id parameters read from a file. */
#define OPSLIMIT_LOW  crypto_pwhash_argon2id_OPSLIMIT_MIN
#define OPSLIMIT_HIGH crypto_pwhash_argon2id_OPSLIMIT_SENSITIVE
#define MEMLIMIT_LOW  crypto_pwhash_argon2id_MEMLIMIT_MIN
#define MEMLIMIT_HIGH crypto_pwhash_argon2id_MEMLIMIT_SENSITIVE

_Static_assert(crypto_box_PUBLICKEYBYTES == KEYFILE_KEYLEN, "X25519 pk");
_Static_assert(crypto_box_SECRETKEYBYTES == KEYFILE_KEYLEN, "X25519 sk");
_Static_assert(crypto_scalarmult_BYTES == KEYFILE_KEYLEN, "X25519 point");
_Static_assert(crypto_scalarmult_SCALARBYTES == KEYFILE_KEYLEN, "scalar");
_Static_assert(crypto_sign_PUBLICKEYBYTES == KEYFILE_KEYLEN, "Ed25519 pk");
_Static_assert(crypto_sign_SECRETKEYBYTES == KEYFILE_SIGN_SKLEN, "Ed25519");
_Static_assert(crypto_sign_SEEDBYTES == KEYFILE_KEYLEN, "Ed25519 seed");
_Static_assert(crypto_generichash_BYTES_MIN >= FINGERPRINT_BYTES, "hash");
_Static_assert(KEYFILE_FINGERPRINT_LEN ==
		   FINGERPRINT_BYTES * 2 + FINGERPRINT_BYTES / 2 - 1 + 1,
	       "hex digits, a space between groups of four, NUL");
_Static_assert(KEYFILE_COMMENT_MAX + 2 < TEXT_LINE_MAX, "comment line");

static const char fingerprint_domain[] = "tamwil-fingerprint-v1";

/* What one kind of file looks like: its section and the keys it may hold. */
struct kind {
	const char *section;
	const char *const *fields;
	size_t nfields;
};

/* Keys shared by the private key file and the data key file. */
enum {
	F_VERSION,
	F_PROTECTION,
	F_SECRET,
	F_SALT,
	F_OPSLIMIT,
	F_MEMLIMIT,
	F_NONCE,
	F_SEALED,
	F_SEALED_COUNT
};
/* Keys of the private key file only. */
enum { FP_NOISE = F_SEALED_COUNT, FP_SIGN, FP_FINGERPRINT, FP_COUNT };
/* Keys of the data key file only. */
enum { FD_PUBLIC = F_SEALED_COUNT, FD_COUNT };
/* Keys of the public key file. */
enum { PUB_VERSION, PUB_NOISE, PUB_SIGN, PUB_DATA, PUB_FINGERPRINT, PUB_COUNT };

_Static_assert(FP_COUNT <= MAX_FIELDS && FD_COUNT <= MAX_FIELDS &&
		   PUB_COUNT <= MAX_FIELDS,
	       "MAX_FIELDS");

static const char *const private_fields[FP_COUNT] = {
    [F_VERSION] = "version",
    [F_PROTECTION] = "protection",
    [F_SECRET] = "secret",
    [F_SALT] = "salt",
    [F_OPSLIMIT] = "opslimit",
    [F_MEMLIMIT] = "memlimit",
    [F_NONCE] = "nonce",
    [F_SEALED] = "sealed",
    [FP_NOISE] = "noise-public",
    [FP_SIGN] = "sign-public",
    [FP_FINGERPRINT] = "fingerprint",
};

static const char *const data_fields[FD_COUNT] = {
    [F_VERSION] = "version",   [F_PROTECTION] = "protection",
    [F_SECRET] = "secret",     [F_SALT] = "salt",
    [F_OPSLIMIT] = "opslimit", [F_MEMLIMIT] = "memlimit",
    [F_NONCE] = "nonce",       [F_SEALED] = "sealed",
    [FD_PUBLIC] = "public",
};

static const char *const public_fields[PUB_COUNT] = {
    [PUB_VERSION] = "version",
    [PUB_NOISE] = "noise",
    [PUB_SIGN] = "sign",
    [PUB_DATA] = "data",
    [PUB_FINGERPRINT] = "fingerprint",
};

static const struct kind kind_private = {"tamwil-private-key", private_fields,
					 FP_COUNT};
static const struct kind kind_data = {"tamwil-data-key", data_fields, FD_COUNT};
static const struct kind kind_public = {"tamwil-public-key", public_fields,
					PUB_COUNT};

/* One parsed file: the value of each key of its kind, if seen. */
struct ini_doc {
	const struct kind *kind;
	int err;
	unsigned char seen[MAX_FIELDS];
	char value[MAX_FIELDS][TEXT_LINE_MAX + 1];
};

/* Scratch space for reading or writing a private or data key file. */
struct secret_scratch {
	struct ini_doc doc;
	char text[SECRET_TEXT_CAP];
	char b64[B64_CAP];
	uint8_t secret[SECRET_MAX];
	uint8_t key[crypto_secretbox_KEYBYTES];
	uint8_t sealed[SEALED_MAX];
};

/* Text being built in a fixed buffer; overflow is sticky. */
struct textbuf {
	char *p;
	size_t cap;
	size_t len;
	int overflow;
};

/* A key and its value, for the public lines of a private file. */
struct kv {
	const char *key;
	const char *value;
};

const char *keyfile_strerror(int err)
{
	switch (err) {
	case KEYFILE_OK:
		return "success";
	case KEYFILE_ERR_IO:
		return "the key file could not be read or written";
	case KEYFILE_ERR_FORMAT:
		return "the file is not a well-formed Tamwil key file of the "
		       "expected kind";
	case KEYFILE_ERR_PASSPHRASE:
		return "the key file is protected by a passphrase, and none or "
		       "a wrong one was given";
	case KEYFILE_ERR_EXISTS:
		return "the key file already exists; refusing to overwrite it";
	case KEYFILE_ERR_CRYPTO:
		return "a cryptographic operation failed (out of memory, or "
		       "libsodium could not be initialised)";
	case KEYFILE_ERR_MISMATCH:
		return "the key file is inconsistent: a stored public key or "
		       "fingerprint does not match the keys";
	case KEYFILE_ERR_PERMISSIONS:
		return "the key file is readable or writable by other users; "
		       "run chmod 600 on it";
	default:
		return "unknown key file error";
	}
}

/*
 * Starts an empty text in buf (capacity cap > 0), NUL-terminated at all
 * times.
 */
static void text_init(struct textbuf *t, char *buf, size_t cap)
{
	t->p = buf;
	t->cap = cap;
	t->len = 0;
	t->overflow = 0;
	buf[0] = '\0';
}

/* Appends s; on lack of room marks the text overflowed and leaves it. */
static void text_add(struct textbuf *t, const char *s)
{
	size_t n = strlen(s);

	if (t->overflow || n >= t->cap - t->len) {
		t->overflow = 1;
		return;
	}
	memcpy(t->p + t->len, s, n + 1);
	t->len += n;
}

/* Appends a "key = value" line. */
static void text_kv(struct textbuf *t, const char *key, const char *value)
{
	text_add(t, key);
	text_add(t, " = ");
	text_add(t, value);
	text_add(t, "\n");
}

/* Appends a "key = number" line. */
static void text_kv_num(struct textbuf *t, const char *key,
			unsigned long long value)
{
	char num[24];
	char *p = num + sizeof num;

	*--p = '\0';
	do {
		*--p = (char)('0' + value % 10);
		value /= 10;
	} while (value != 0);
	text_kv(t, key, p);
}

/*
 * Base64 (original alphabet, padded) of len bytes into out (capacity cap).
 * Returns 0, or -1 if out is too small.
 */
static int b64_encode(char *out, size_t cap, const uint8_t *bin, size_t len)
{
	if (cap < sodium_base64_ENCODED_LEN(len, B64_VARIANT))
		return -1;
	sodium_bin2base64(out, cap, bin, len, B64_VARIANT);
	return 0;
}

/*
 * Decodes b64 into exactly len bytes at out. Anything else (bad characters,
 * missing padding, another length, trailing text) is KEYFILE_ERR_FORMAT, and
 * out is wiped.
 */
static int b64_decode(uint8_t *out, size_t len, const char *b64)
{
	size_t b64_len = strlen(b64);
	size_t bin_len = 0;
	const char *end = NULL;

	if (sodium_base642bin(out, len, b64, b64_len, NULL, &bin_len, &end,
			      B64_VARIANT) != 0 ||
	    end != b64 + b64_len || bin_len != len) {
		sodium_memzero(out, len);
		return KEYFILE_ERR_FORMAT;
	}
	return 0;
}

/*
 * Parses a decimal number of at most 20 digits (no sign, no spaces) within
 * [low, high] into *out. Returns 0 or KEYFILE_ERR_FORMAT.
 */
static int parse_number(const char *s, unsigned long long low,
			unsigned long long high, unsigned long long *out)
{
	unsigned long long v = 0;
	size_t i;

	if (s[0] == '\0' || strlen(s) > 20)
		return KEYFILE_ERR_FORMAT;
	for (i = 0; s[i] != '\0'; i++) {
		unsigned d;

		if (s[i] < '0' || s[i] > '9')
			return KEYFILE_ERR_FORMAT;
		d = (unsigned)(s[i] - '0');
		if (v > (ULLONG_MAX - d) / 10)
			return KEYFILE_ERR_FORMAT;
		v = v * 10 + d;
	}
	if (v < low || v > high)
		return KEYFILE_ERR_FORMAT;
	*out = v;
	return 0;
}

/*
 * 1 if pk is an X25519 public key worth using: not all-zero, not of small
 * order. Every clamped scalar is a multiple of the cofactor, so its product
 * with a small-order point is zero, which crypto_scalarmult() reports as
 * -1; the scalar's value does not matter otherwise.
 */
static int x25519_public_ok(const uint8_t pk[KEYFILE_KEYLEN])
{
	uint8_t scalar[crypto_scalarmult_SCALARBYTES];
	uint8_t q[crypto_scalarmult_BYTES];
	int ok;

	if (sodium_is_zero(pk, KEYFILE_KEYLEN))
		return 0;
	memset(scalar, 0x5a, sizeof scalar);
	ok = crypto_scalarmult(q, scalar, pk) == 0;
	sodium_memzero(q, sizeof q);
	return ok;
}

/* 1 if pk is a canonical Ed25519 point of the main subgroup, not small. */
static int ed25519_public_ok(const uint8_t pk[KEYFILE_KEYLEN])
{
	return crypto_core_ed25519_is_valid_point(pk) == 1;
}

void keyfile_fingerprint(const uint8_t *noise_pk, const uint8_t *sign_pk,
			 char out[KEYFILE_FINGERPRINT_LEN])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t msg[sizeof fingerprint_domain - 1 + KEYFILE_KEYLEN +
		    KEYFILE_KEYLEN];
	uint8_t hash[crypto_generichash_BYTES_MIN];
	size_t i;
	size_t o = 0;

	out[0] = '\0';
	if (sodium_init() < 0)
		return;
	memcpy(msg, fingerprint_domain, sizeof fingerprint_domain - 1);
	memcpy(msg + sizeof fingerprint_domain - 1, noise_pk, KEYFILE_KEYLEN);
	memcpy(msg + sizeof fingerprint_domain - 1 + KEYFILE_KEYLEN, sign_pk,
	       KEYFILE_KEYLEN);
	if (crypto_generichash(hash, sizeof hash, msg, sizeof msg, NULL, 0) !=
	    0)
		return;
	for (i = 0; i < FINGERPRINT_BYTES; i++) {
		if (i > 0 && i % 2 == 0)
			out[o++] = ' ';
		out[o++] = hex[hash[i] >> 4];
		out[o++] = hex[hash[i] & 0x0f];
	}
	out[o] = '\0';
}

/*
 * libinih callback: records value under name if name is a key of the
 * document's kind, in its section, not seen before and not too long.
 * Anything else sets doc->err to KEYFILE_ERR_FORMAT. Continuation lines
 * repeat the name, so they count as a repeated key.
 */
static int doc_on_key(void *user, const char *section, const char *name,
		      const char *value)
{
	struct ini_doc *doc = user;
	size_t i;
	size_t len;

	if (doc->err != 0)
		return 0;
	if (strcmp(section, doc->kind->section) != 0)
		goto bad;
	for (i = 0; i < doc->kind->nfields; i++)
		if (strcmp(name, doc->kind->fields[i]) == 0)
			break;
	if (i == doc->kind->nfields || doc->seen[i])
		goto bad;
	len = strlen(value);
	if (len > TEXT_LINE_MAX)
		goto bad;
	memcpy(doc->value[i], value, len + 1);
	doc->seen[i] = 1;
	return 1;
bad:
	doc->err = KEYFILE_ERR_FORMAT;
	return 0;
}

/*
 * 0 if text (len bytes) holds no NUL byte and no line longer than
 * TEXT_LINE_MAX, so libinih never sees a line it would cut in two;
 * KEYFILE_ERR_FORMAT if not.
 */
static int text_lines_ok(const char *text, size_t len)
{
	size_t i;
	size_t col = 0;

	if (memchr(text, '\0', len) != NULL)
		return KEYFILE_ERR_FORMAT;
	for (i = 0; i < len; i++) {
		if (text[i] == '\n')
			col = 0;
		else if (++col > TEXT_LINE_MAX)
			return KEYFILE_ERR_FORMAT;
	}
	return 0;
}

/*
 * Parses text (len bytes, text[len] == '\0') as a file of the given kind
 * into doc, after text_lines_ok(). Returns 0 or KEYFILE_ERR_FORMAT.
 */
static int parse_doc(const char *text, size_t len, const struct kind *kind,
		     struct ini_doc *doc)
{
	int line;

	memset(doc, 0, sizeof *doc);
	doc->kind = kind;
	if (text_lines_ok(text, len) != 0)
		return KEYFILE_ERR_FORMAT;
	line = ini_parse_string(text, doc_on_key, doc);
	if (doc->err != 0)
		return doc->err;
	if (line != 0)
		return KEYFILE_ERR_FORMAT;
	return 0;
}

/* The value of key number field in doc, or NULL if absent. */
static const char *doc_get(const struct ini_doc *doc, int field)
{
	return doc->seen[field] ? doc->value[field] : NULL;
}

/* 0 if doc's version key (index 0 in every kind) is present and 1. */
static int check_version(const struct ini_doc *doc)
{
	const char *v = doc_get(doc, 0);

	if (v == NULL || strcmp(v, FORMAT_VERSION) != 0)
		return KEYFILE_ERR_FORMAT;
	return 0;
}

/*
 * Checks the protection keys of a private or data key file: "none" with a
 * secret and nothing sealed, or "argon2id" with salt, limits, nonce and
 * sealed box and no secret. Returns 0 (none), 1 (argon2id) or
 * KEYFILE_ERR_FORMAT.
 */
static int check_protection(const struct ini_doc *doc)
{
	const char *p = doc_get(doc, F_PROTECTION);
	int field;

	if (p == NULL)
		return KEYFILE_ERR_FORMAT;
	if (strcmp(p, PROTECTION_NONE) == 0) {
		if (!doc->seen[F_SECRET])
			return KEYFILE_ERR_FORMAT;
		for (field = F_SALT; field <= F_SEALED; field++)
			if (doc->seen[field])
				return KEYFILE_ERR_FORMAT;
		return 0;
	}
	if (strcmp(p, PROTECTION_ARGON2ID) == 0) {
		if (doc->seen[F_SECRET])
			return KEYFILE_ERR_FORMAT;
		for (field = F_SALT; field <= F_SEALED; field++)
			if (!doc->seen[field])
				return KEYFILE_ERR_FORMAT;
		return 1;
	}
	return KEYFILE_ERR_FORMAT;
}

/*
 * Derives the secretbox key from passphrase with Argon2id. Returns 0 or
 * KEYFILE_ERR_CRYPTO (typically: memlimit bytes could not be had).
 */
static int derive_key(uint8_t key[crypto_secretbox_KEYBYTES],
		      const char *passphrase, const uint8_t *salt,
		      unsigned long long opslimit, size_t memlimit)
{
	if (crypto_pwhash(key, crypto_secretbox_KEYBYTES, passphrase,
			  strlen(passphrase), salt, opslimit, memlimit,
			  crypto_pwhash_ALG_ARGON2ID13) != 0)
		return KEYFILE_ERR_CRYPTO;
	return 0;
}

/*
 * Recovers the secret_len secret bytes of a parsed private or data key
 * file into s->secret, opening the sealed box with passphrase if the file
 * is protected. Argon2id limits outside [MIN, SENSITIVE] are refused
 * before any work. Returns 0, KEYFILE_ERR_FORMAT, KEYFILE_ERR_PASSPHRASE or
 * KEYFILE_ERR_CRYPTO.
 */
static int unseal(struct secret_scratch *s, size_t secret_len,
		  const char *passphrase)
{
	const struct ini_doc *doc = &s->doc;
	uint8_t salt[crypto_pwhash_SALTBYTES];
	uint8_t nonce[crypto_secretbox_NONCEBYTES];
	unsigned long long opslimit;
	unsigned long long memlimit;
	int ret;

	ret = check_protection(doc);
	if (ret < 0)
		return ret;
	if (ret == 0)
		return b64_decode(s->secret, secret_len,
				  doc_get(doc, F_SECRET));
	if (b64_decode(salt, sizeof salt, doc_get(doc, F_SALT)) != 0 ||
	    b64_decode(nonce, sizeof nonce, doc_get(doc, F_NONCE)) != 0 ||
	    b64_decode(s->sealed, secret_len + crypto_secretbox_MACBYTES,
		       doc_get(doc, F_SEALED)) != 0 ||
	    parse_number(doc_get(doc, F_OPSLIMIT), OPSLIMIT_LOW, OPSLIMIT_HIGH,
			 &opslimit) != 0 ||
	    parse_number(doc_get(doc, F_MEMLIMIT), MEMLIMIT_LOW, MEMLIMIT_HIGH,
			 &memlimit) != 0)
		return KEYFILE_ERR_FORMAT;
	if (passphrase == NULL || passphrase[0] == '\0')
		return KEYFILE_ERR_PASSPHRASE;
	ret = derive_key(s->key, passphrase, salt, opslimit, (size_t)memlimit);
	if (ret != 0)
		return ret;
	if (crypto_secretbox_open_easy(s->secret, s->sealed,
				       secret_len + crypto_secretbox_MACBYTES,
				       nonce, s->key) != 0)
		return KEYFILE_ERR_PASSPHRASE;
	return 0;
}

/*
 * Reads the regular file at path into a fresh sodium_malloc() buffer,
 * NUL-terminated, its length in *len. With secret set, refuses a file that
 * group or others may access (KEYFILE_ERR_PERMISSIONS) before reading it.
 * A file that is not regular, is over FILE_MAX bytes or grows while read is
 * KEYFILE_ERR_FORMAT. On success the caller sodium_free()s *out, which
 * wipes it; on error errno is kept for KEYFILE_ERR_IO.
 */
static int read_text_file(const char *path, int secret, char **out, size_t *len)
{
	struct stat st;
	char *buf = NULL;
	size_t size;
	size_t n = 0;
	int fd;
	int ret;
	int saved_errno;

	*out = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return KEYFILE_ERR_IO;
	if (fstat(fd, &st) != 0) {
		ret = KEYFILE_ERR_IO;
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size < 0 || st.st_size > FILE_MAX) {
		ret = KEYFILE_ERR_FORMAT;
		goto out;
	}
	if (secret && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		ret = KEYFILE_ERR_PERMISSIONS;
		goto out;
	}
	/* One spare byte to notice growth, one for the NUL. */
	size = (size_t)st.st_size;
	buf = sodium_malloc(size + 2);
	if (buf == NULL) {
		ret = KEYFILE_ERR_CRYPTO;
		goto out;
	}
	while (n < size + 1) {
		ssize_t r = read(fd, buf + n, size + 1 - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			ret = KEYFILE_ERR_IO;
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > size) {
		ret = KEYFILE_ERR_FORMAT;
		goto out;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	buf = NULL;
	ret = 0;
out:
	saved_errno = errno;
	if (buf != NULL)
		sodium_free(buf);
	(void)close(fd);
	errno = saved_errno;
	return ret;
}

/*
 * Reads the file at path and parses it as a private key file or, failing
 * that and with also_data set, as a data key file, into doc. The file must
 * be closed to group and others. Returns 0 or a negative keyfile_error.
 */
static int load_secret_doc(const char *path, const struct kind *kind,
			   int also_data, struct ini_doc *doc)
{
	char *text = NULL;
	size_t len;
	int ret;
	int saved_errno;

	ret = read_text_file(path, 1, &text, &len);
	if (ret != 0)
		return ret;
	ret = parse_doc(text, len, kind, doc);
	if (ret == KEYFILE_ERR_FORMAT && also_data)
		ret = parse_doc(text, len, &kind_data, doc);
	saved_errno = errno;
	sodium_free(text);
	errno = saved_errno;
	return ret;
}

/*
 * Unlinks the file just created at path, keeping errno: a key file that
 * could not be written completely must not be left behind.
 */
static void discard_new_file(const char *path)
{
	int saved_errno = errno;

	(void)unlink(path);
	errno = saved_errno;
}

/*
 * Creates path with O_EXCL and mode 0600 whatever the umask. Returns the
 * descriptor, KEYFILE_ERR_EXISTS if something (even a dangling symbolic
 * link) is at path, or KEYFILE_ERR_IO.
 */
static int create_exclusive(const char *path)
{
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY,
		  S_IRUSR | S_IWUSR);
	if (fd < 0)
		return errno == EEXIST ? KEYFILE_ERR_EXISTS : KEYFILE_ERR_IO;
	if (fchmod(fd, S_IRUSR | S_IWUSR) != 0) {
		int saved_errno = errno;

		(void)close(fd);
		errno = saved_errno;
		discard_new_file(path);
		return KEYFILE_ERR_IO;
	}
	return fd;
}

/*
 * fsyncs the directory holding path so the new name is durable too. Best
 * effort: the file's own data is already synced, and some file systems
 * refuse to sync a directory.
 */
static void sync_parent_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int fd;
	int saved_errno = errno;

	if (slash == NULL)
		dir = strdup(".");
	else if (slash == path)
		dir = strdup("/");
	else
		dir = strndup(path, (size_t)(slash - path));
	if (dir == NULL)
		goto out;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (fd < 0)
		goto out;
	(void)fsync(fd);
	(void)close(fd);
out:
	errno = saved_errno;
}

/*
 * Writes len bytes of text to fd, fsyncs and closes it (always closed).
 * Returns 0 or KEYFILE_ERR_IO with errno set.
 */
static int write_all_close(int fd, const char *text, size_t len)
{
	size_t done = 0;
	int saved_errno;

	while (done < len) {
		ssize_t w = write(fd, text + done, len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			goto fail;
		}
		done += (size_t)w;
	}
	if (fsync(fd) != 0)
		goto fail;
	if (close(fd) != 0)
		return KEYFILE_ERR_IO;
	return 0;
fail:
	saved_errno = errno;
	(void)close(fd);
	errno = saved_errno;
	return KEYFILE_ERR_IO;
}

/*
 * Writes a private or data key file of the given kind at path: a banner
 * comment, the section, the version, the public lines pubs, then the
 * secret_len bytes in s->secret, in clear or sealed under passphrase with
 * Argon2id (interactive limits) and secretbox. The file is created first,
 * so an existing one is refused before any costly work, and removed again
 * if anything fails. Returns 0 or a negative keyfile_error.
 */
static int write_secret_file(const char *path, const struct kind *kind,
			     const char *banner, const struct kv *pubs,
			     size_t npubs, struct secret_scratch *s,
			     size_t secret_len, const char *passphrase)
{
	uint8_t salt[crypto_pwhash_SALTBYTES];
	uint8_t nonce[crypto_secretbox_NONCEBYTES];
	char salt_b64[sodium_base64_ENCODED_LEN(sizeof salt, B64_VARIANT)];
	char nonce_b64[sodium_base64_ENCODED_LEN(sizeof nonce, B64_VARIANT)];
	struct textbuf t;
	size_t i;
	int fd;
	int ret;

	fd = create_exclusive(path);
	if (fd < 0)
		return fd;
	text_init(&t, s->text, sizeof s->text);
	text_add(&t, banner);
	text_add(&t, "\n[");
	text_add(&t, kind->section);
	text_add(&t, "]\n");
	text_kv(&t, "version", FORMAT_VERSION);
	for (i = 0; i < npubs; i++)
		text_kv(&t, pubs[i].key, pubs[i].value);
	if (passphrase == NULL || passphrase[0] == '\0') {
		if (b64_encode(s->b64, sizeof s->b64, s->secret, secret_len) !=
		    0) {
			ret = KEYFILE_ERR_FORMAT;
			goto fail;
		}
		text_kv(&t, "protection", PROTECTION_NONE);
		text_kv(&t, "secret", s->b64);
	} else {
		randombytes_buf(salt, sizeof salt);
		randombytes_buf(nonce, sizeof nonce);
		ret = derive_key(s->key, passphrase, salt,
				 crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE,
				 crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE);
		if (ret != 0)
			goto fail;
		if (crypto_secretbox_easy(s->sealed, s->secret, secret_len,
					  nonce, s->key) != 0) {
			ret = KEYFILE_ERR_CRYPTO;
			goto fail;
		}
		if (b64_encode(salt_b64, sizeof salt_b64, salt, sizeof salt) !=
			0 ||
		    b64_encode(nonce_b64, sizeof nonce_b64, nonce,
			       sizeof nonce) != 0 ||
		    b64_encode(s->b64, sizeof s->b64, s->sealed,
			       secret_len + crypto_secretbox_MACBYTES) != 0) {
			ret = KEYFILE_ERR_FORMAT;
			goto fail;
		}
		text_kv(&t, "protection", PROTECTION_ARGON2ID);
		text_kv(&t, "salt", salt_b64);
		text_kv_num(&t, "opslimit",
			    crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE);
		text_kv_num(&t, "memlimit",
			    crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE);
		text_kv(&t, "nonce", nonce_b64);
		text_kv(&t, "sealed", s->b64);
	}
	/* The sizes above are fixed: overflow would be a bug here. */
	if (t.overflow) {
		ret = KEYFILE_ERR_FORMAT;
		goto fail;
	}
	ret = write_all_close(fd, s->text, t.len);
	fd = -1;
	if (ret != 0)
		goto fail;
	sync_parent_dir(path);
	return 0;
fail:
	if (fd >= 0)
		(void)close(fd);
	discard_new_file(path);
	return ret;
}

int keyfile_generate(keyfile_secret *k)
{
	if (k == NULL)
		return KEYFILE_ERR_CRYPTO;
	memset(k, 0, sizeof *k);
	if (sodium_init() < 0)
		return KEYFILE_ERR_CRYPTO;
	if (crypto_box_keypair(k->noise_pk, k->noise_sk) != 0 ||
	    crypto_sign_keypair(k->sign_pk, k->sign_sk) != 0) {
		sodium_memzero(k, sizeof *k);
		return KEYFILE_ERR_CRYPTO;
	}
	return 0;
}

int keyfile_data_generate(keyfile_data *d)
{
	if (d == NULL)
		return KEYFILE_ERR_CRYPTO;
	memset(d, 0, sizeof *d);
	if (sodium_init() < 0)
		return KEYFILE_ERR_CRYPTO;
	if (crypto_box_keypair(d->pk, d->sk) != 0) {
		sodium_memzero(d, sizeof *d);
		return KEYFILE_ERR_CRYPTO;
	}
	return 0;
}

void keyfile_public_of(const keyfile_secret *k, keyfile_public *pub)
{
	if (pub == NULL)
		return;
	memset(pub, 0, sizeof *pub);
	if (k == NULL)
		return;
	memcpy(pub->noise_pk, k->noise_pk, KEYFILE_KEYLEN);
	memcpy(pub->sign_pk, k->sign_pk, KEYFILE_KEYLEN);
}

/*
 * Rebuilds, from the 64 secret bytes (X25519 secret key || Ed25519 seed),
 * the full keyfile_secret into *k. Returns 0 or KEYFILE_ERR_CRYPTO.
 */
static int secret_expand(const uint8_t secret[PRIVATE_SECRET_LEN],
			 keyfile_secret *k)
{
	memcpy(k->noise_sk, secret, KEYFILE_KEYLEN);
	if (crypto_scalarmult_base(k->noise_pk, k->noise_sk) != 0 ||
	    crypto_sign_seed_keypair(k->sign_pk, k->sign_sk,
				     secret + KEYFILE_KEYLEN) != 0)
		return KEYFILE_ERR_CRYPTO;
	return 0;
}

/*
 * Packs k's secrets as X25519 secret key || Ed25519 seed into secret,
 * checking that k's four keys belong together. Returns 0,
 * KEYFILE_ERR_MISMATCH or KEYFILE_ERR_CRYPTO.
 */
static int secret_pack(const keyfile_secret *k,
		       uint8_t secret[PRIVATE_SECRET_LEN],
		       keyfile_secret *check)
{
	memcpy(secret, k->noise_sk, KEYFILE_KEYLEN);
	if (crypto_sign_ed25519_sk_to_seed(secret + KEYFILE_KEYLEN,
					   k->sign_sk) != 0 ||
	    secret_expand(secret, check) != 0)
		return KEYFILE_ERR_CRYPTO;
	if (sodium_memcmp(check->noise_pk, k->noise_pk, KEYFILE_KEYLEN) != 0 ||
	    sodium_memcmp(check->sign_pk, k->sign_pk, KEYFILE_KEYLEN) != 0 ||
	    sodium_memcmp(check->sign_sk, k->sign_sk, KEYFILE_SIGN_SKLEN) != 0)
		return KEYFILE_ERR_MISMATCH;
	return 0;
}

int keyfile_write_secret(const char *path, const keyfile_secret *k,
			 const char *passphrase)
{
	static const char banner[] = "# Tamwil private key. Keep it secret: "
				     "anyone holding it acts as you.";
	struct secret_scratch *s = NULL;
	keyfile_secret *check = NULL;
	char noise_b64[sodium_base64_ENCODED_LEN(KEYFILE_KEYLEN, B64_VARIANT)];
	char sign_b64[sizeof noise_b64];
	char fingerprint[KEYFILE_FINGERPRINT_LEN];
	struct kv pubs[3];
	int ret;
	int saved_errno;

	if (path == NULL || k == NULL) {
		errno = EINVAL;
		return KEYFILE_ERR_IO;
	}
	if (sodium_init() < 0)
		return KEYFILE_ERR_CRYPTO;
	s = sodium_malloc(sizeof *s);
	check = sodium_malloc(sizeof *check);
	if (s == NULL || check == NULL) {
		ret = KEYFILE_ERR_CRYPTO;
		goto out;
	}
	ret = secret_pack(k, s->secret, check);
	if (ret != 0)
		goto out;
	if (b64_encode(noise_b64, sizeof noise_b64, k->noise_pk,
		       KEYFILE_KEYLEN) != 0 ||
	    b64_encode(sign_b64, sizeof sign_b64, k->sign_pk, KEYFILE_KEYLEN) !=
		0) {
		ret = KEYFILE_ERR_FORMAT;
		goto out;
	}
	keyfile_fingerprint(k->noise_pk, k->sign_pk, fingerprint);
	pubs[0] = (struct kv){"noise-public", noise_b64};
	pubs[1] = (struct kv){"sign-public", sign_b64};
	pubs[2] = (struct kv){"fingerprint", fingerprint};
	ret = write_secret_file(path, &kind_private, banner, pubs, 3, s,
				PRIVATE_SECRET_LEN, passphrase);
out:
	saved_errno = errno;
	if (s != NULL)
		sodium_free(s);
	if (check != NULL)
		sodium_free(check);
	errno = saved_errno;
	return ret;
}

int keyfile_read_secret(const char *path, const char *passphrase,
			keyfile_secret *k)
{
	struct secret_scratch *s = NULL;
	const struct ini_doc *doc;
	uint8_t noise_pk[KEYFILE_KEYLEN];
	uint8_t sign_pk[KEYFILE_KEYLEN];
	char fingerprint[KEYFILE_FINGERPRINT_LEN];
	const char *stored_fp;
	int ret;
	int saved_errno;

	if (k == NULL)
		return KEYFILE_ERR_FORMAT;
	memset(k, 0, sizeof *k);
	if (path == NULL) {
		errno = EINVAL;
		return KEYFILE_ERR_IO;
	}
	if (sodium_init() < 0)
		return KEYFILE_ERR_CRYPTO;
	s = sodium_malloc(sizeof *s);
	if (s == NULL) {
		ret = KEYFILE_ERR_CRYPTO;
		goto out;
	}
	doc = &s->doc;
	ret = load_secret_doc(path, &kind_private, 0, &s->doc);
	if (ret != 0)
		goto out;
	ret = check_version(doc);
	if (ret != 0)
		goto out;
	if (!doc->seen[FP_NOISE] || !doc->seen[FP_SIGN] ||
	    b64_decode(noise_pk, sizeof noise_pk, doc_get(doc, FP_NOISE)) !=
		0 ||
	    b64_decode(sign_pk, sizeof sign_pk, doc_get(doc, FP_SIGN)) != 0) {
		ret = KEYFILE_ERR_FORMAT;
		goto out;
	}
	ret = unseal(s, PRIVATE_SECRET_LEN, passphrase);
	if (ret != 0)
		goto out;
	ret = secret_expand(s->secret, k);
	if (ret != 0)
		goto out;
	if (sodium_memcmp(k->noise_pk, noise_pk, KEYFILE_KEYLEN) != 0 ||
	    sodium_memcmp(k->sign_pk, sign_pk, KEYFILE_KEYLEN) != 0) {
		ret = KEYFILE_ERR_MISMATCH;
		goto out;
	}
	stored_fp = doc_get(doc, FP_FINGERPRINT);
	if (stored_fp != NULL) {
		keyfile_fingerprint(k->noise_pk, k->sign_pk, fingerprint);
		if (strcmp(stored_fp, fingerprint) != 0) {
			ret = KEYFILE_ERR_MISMATCH;
			goto out;
		}
	}
	ret = 0;
out:
	saved_errno = errno;
	if (ret != 0)
		sodium_memzero(k, sizeof *k);
	if (s != NULL)
		sodium_free(s);
	errno = saved_errno;
	return ret;
}

int keyfile_is_protected(const char *path)
{
	struct ini_doc *doc = NULL;
	int ret;
	int saved_errno;

	if (path == NULL) {
		errno = EINVAL;
		return KEYFILE_ERR_IO;
	}
	if (sodium_init() < 0)
		return KEYFILE_ERR_CRYPTO;
	doc = sodium_malloc(sizeof *doc);
	if (doc == NULL)
		return KEYFILE_ERR_CRYPTO;
	ret = load_secret_doc(path, &kind_private, 1, doc);
	if (ret == 0)
		ret = check_version(doc);
	if (ret == 0)
		ret = check_protection(doc);
	saved_errno = errno;
	sodium_free(doc);
	errno = saved_errno;
	return ret;
}

int keyfile_write_data(const char *path, const keyfile_data *d,
		       const char *passphrase)
{
	static const char banner[] =
	    "# Tamwil head-office data key. Keep it secret: it opens the "
	    "personal data of every beneficiary.";
	struct secret_scratch *s = NULL;
	uint8_t pk[KEYFILE_KEYLEN];
	char pk_b64[sodium_base64_ENCODED_LEN(KEYFILE_KEYLEN, B64_VARIANT)];
	struct kv pubs[1];
	int ret;
	int saved_errno;

	if (path == NULL || d == NULL) {
		errno = EINVAL;
		return KEYFILE_ERR_IO;
	}
	if (sodium_init() < 0)
		return KEYFILE_ERR_CRYPTO;
	if (crypto_scalarmult_base(pk, d->sk) != 0)
		return KEYFILE_ERR_CRYPTO;
	if (sodium_memcmp(pk, d->pk, sizeof pk) != 0)
		return KEYFILE_ERR_MISMATCH;
	if (b64_encode(pk_b64, sizeof pk_b64, d->pk, KEYFILE_KEYLEN) != 0)
		return KEYFILE_ERR_FORMAT;
	s = sodium_malloc(sizeof *s);
	if (s == NULL)
		return KEYFILE_ERR_CRYPTO;
	memcpy(s->secret, d->sk, DATA_SECRET_LEN);
	pubs[0] = (struct kv){"public", pk_b64};
	ret = write_secret_file(path, &kind_data, banner, pubs, 1, s,
				DATA_SECRET_LEN, passphrase);
	saved_errno = errno;
	sodium_free(s);
	errno = saved_errno;
	return ret;
}

int keyfile_read_data(const char *path, const char *passphrase, keyfile_data *d)
{
	struct secret_scratch *s = NULL;
	uint8_t stored_pk[KEYFILE_KEYLEN];
	int ret;
	int saved_errno;

	if (d == NULL)
		return KEYFILE_ERR_FORMAT;
	memset(d, 0, sizeof *d);
	if (path == NULL) {
		errno = EINVAL;
		return KEYFILE_ERR_IO;
	}
	if (sodium_init() < 0)
		return KEYFILE_ERR_CRYPTO;
	s = sodium_malloc(sizeof *s);
	if (s == NULL)
		return KEYFILE_ERR_CRYPTO;
	ret = load_secret_doc(path, &kind_data, 0, &s->doc);
	if (ret != 0)
		goto out;
	ret = check_version(&s->doc);
	if (ret != 0)
		goto out;
	if (!s->doc.seen[FD_PUBLIC] ||
	    b64_decode(stored_pk, sizeof stored_pk,
		       doc_get(&s->doc, FD_PUBLIC)) != 0) {
		ret = KEYFILE_ERR_FORMAT;
		goto out;
	}
	ret = unseal(s, DATA_SECRET_LEN, passphrase);
	if (ret != 0)
		goto out;
	memcpy(d->sk, s->secret, DATA_SECRET_LEN);
	if (crypto_scalarmult_base(d->pk, d->sk) != 0) {
		ret = KEYFILE_ERR_CRYPTO;
		goto out;
	}
	if (sodium_memcmp(d->pk, stored_pk, KEYFILE_KEYLEN) != 0) {
		ret = KEYFILE_ERR_MISMATCH;
		goto out;
	}
	ret = 0;
out:
	saved_errno = errno;
	if (ret != 0)
		sodium_memzero(d, sizeof *d);
	sodium_free(s);
	errno = saved_errno;
	return ret;
}

/* ---------------------------------------------------------------------
 * The at-rest key file: "key-N = base64" for N from 1 to the count.
 */

#define REST_SECTION	"tamwil-rest-keys"
#define REST_KEY_PREFIX "key-"
#define REST_RETIRED	"retired"
/* Room for the file's text: banner, section, version, 63 key lines. */
#define REST_TEXT_CAP 8192

/* An at-rest key file being parsed into r. */
struct rest_doc {
	keyfile_rest *r;
	int err;
	int seen_version;
	unsigned char seen[KEYFILE_REST_MAX];
};

/*
 * libinih callback of the at-rest key file: "version = 1" once, and
 * "key-N = base64" once for each N in [1, KEYFILE_REST_MAX], in its
 * section. Anything else sets doc->err to KEYFILE_ERR_FORMAT.
 */
static int rest_on_key(void *user, const char *section, const char *name,
		       const char *value)
{
	struct rest_doc *doc = user;
	unsigned long long n;

	if (doc->err != 0)
		return 0;
	if (strcmp(section, REST_SECTION) != 0)
		goto bad;
	if (strcmp(name, "version") == 0) {
		if (doc->seen_version || strcmp(value, FORMAT_VERSION) != 0)
			goto bad;
		doc->seen_version = 1;
		return 1;
	}
	if (strncmp(name, REST_KEY_PREFIX, sizeof REST_KEY_PREFIX - 1) != 0 ||
	    parse_number(name + sizeof REST_KEY_PREFIX - 1, 1, KEYFILE_REST_MAX,
			 &n) != 0 ||
	    doc->seen[n - 1])
		goto bad;
	if (strcmp(value, REST_RETIRED) == 0)
		doc->r->retired[n - 1] = 1;
	else if (b64_decode(doc->r->key[n - 1], KEYFILE_KEYLEN, value) != 0)
		goto bad;
	doc->seen[n - 1] = 1;
	return 1;
bad:
	doc->err = KEYFILE_ERR_FORMAT;
	return 0;
}

int keyfile_read_rest(const char *path, keyfile_rest *r)
{
	struct rest_doc doc;
	char *text = NULL;
	size_t len;
	unsigned i;
	int ret;
	int saved_errno;

	if (r == NULL)
		return KEYFILE_ERR_FORMAT;
	sodium_memzero(r, sizeof *r);
	if (path == NULL) {
		errno = EINVAL;
		return KEYFILE_ERR_IO;
	}
	if (sodium_init() < 0)
		return KEYFILE_ERR_CRYPTO;
	ret = read_text_file(path, 1, &text, &len);
	if (ret != 0)
		return ret;
	memset(&doc, 0, sizeof doc);
	doc.r = r;
	ret = text_lines_ok(text, len);
	if (ret == 0 && (ini_parse_string(text, rest_on_key, &doc) != 0 ||
			 doc.err != 0 || !doc.seen_version))
		ret = KEYFILE_ERR_FORMAT;
	/* Versions 1 to count, none missing: the numbering is the order. */
	for (i = 0; ret == 0 && i < KEYFILE_REST_MAX && doc.seen[i]; i++)
		r->count = i + 1;
	for (; ret == 0 && i < KEYFILE_REST_MAX; i++)
		if (doc.seen[i])
			ret = KEYFILE_ERR_FORMAT;
	if (ret == 0 && (r->count == 0 || r->retired[r->count - 1]))
		ret = KEYFILE_ERR_FORMAT;
	saved_errno = errno;
	sodium_free(text);
	if (ret != 0)
		sodium_memzero(r, sizeof *r);
	errno = saved_errno;
	return ret;
}

int keyfile_rest_add(keyfile_rest *r)
{
	if (r == NULL || r->count >= KEYFILE_REST_MAX)
		return KEYFILE_ERR_FORMAT;
	if (sodium_init() < 0)
		return KEYFILE_ERR_CRYPTO;
	randombytes_buf(r->key[r->count], KEYFILE_KEYLEN);
	r->count++;
	return 0;
}

/*
 * Formats *r as an at-rest key file into buf (capacity cap). Returns the
 * length, or -1 if r holds no key or more than KEYFILE_REST_MAX, or the
 * text does not fit.
 */
static int rest_format(const keyfile_rest *r, char *buf, size_t cap)
{
	static const char banner[] =
	    "# Tamwil at-rest keys. Keep them secret, and keep every version "
	    "a backup may still need.";
	char b64[sodium_base64_ENCODED_LEN(KEYFILE_KEYLEN, B64_VARIANT)];
	char name[16];
	struct textbuf t;
	unsigned i;

	if (r->count == 0 || r->count > KEYFILE_REST_MAX ||
	    r->retired[r->count - 1])
		return -1;
	text_init(&t, buf, cap);
	text_add(&t, banner);
	text_add(&t, "\n[" REST_SECTION "]\n");
	text_kv(&t, "version", FORMAT_VERSION);
	for (i = 0; i < r->count; i++) {
		snprintf(name, sizeof name, REST_KEY_PREFIX "%u", i + 1);
		if (r->retired[i]) {
			text_kv(&t, name, REST_RETIRED);
			continue;
		}
		if (b64_encode(b64, sizeof b64, r->key[i], KEYFILE_KEYLEN) != 0)
			return -1;
		text_kv(&t, name, b64);
	}
	sodium_memzero(b64, sizeof b64);
	return t.overflow ? -1 : (int)t.len;
}

int keyfile_write_rest(const char *path, const keyfile_rest *r)
{
	char *text = NULL;
	char *tmp = NULL;
	int fd;
	int len;
	int ret;
	int saved_errno;

	if (path == NULL || r == NULL) {
		errno = EINVAL;
		return KEYFILE_ERR_IO;
	}
	if (sodium_init() < 0)
		return KEYFILE_ERR_CRYPTO;
	text = sodium_malloc(REST_TEXT_CAP);
	tmp = malloc(strlen(path) + sizeof ".tmp");
	if (text == NULL || tmp == NULL) {
		ret = KEYFILE_ERR_CRYPTO;
		goto out;
	}
	len = rest_format(r, text, REST_TEXT_CAP);
	if (len < 0) {
		ret = KEYFILE_ERR_FORMAT;
		goto out;
	}
	memcpy(tmp, path, strlen(path));
	memcpy(tmp + strlen(path), ".tmp", sizeof ".tmp");
	/* What an interrupted write left is never the file itself. */
	if (unlink(tmp) != 0 && errno != ENOENT) {
		ret = KEYFILE_ERR_IO;
		goto out;
	}
	fd = create_exclusive(tmp);
	if (fd < 0) {
		ret = fd;
		goto out;
	}
	ret = write_all_close(fd, text, (size_t)len);
	if (ret == 0 && rename(tmp, path) != 0)
		ret = KEYFILE_ERR_IO;
	if (ret != 0) {
		discard_new_file(tmp);
		goto out;
	}
	sync_parent_dir(path);
out:
	saved_errno = errno;
	if (text != NULL)
		sodium_free(text);
	free(tmp);
	errno = saved_errno;
	return ret;
}

/*
 * 1 if comment may go on a "# " line: at most KEYFILE_COMMENT_MAX bytes,
 * no control character (so no line break). UTF-8 text passes unchanged.
 */
static int comment_ok(const char *comment)
{
	size_t i;

	for (i = 0; comment[i] != '\0'; i++) {
		unsigned char c = (unsigned char)comment[i];

		if (i >= KEYFILE_COMMENT_MAX || c < 0x20 || c == 0x7f)
			return 0;
	}
	return 1;
}

int keyfile_format_public(const keyfile_public *pub, const char *comment,
			  char *buf, size_t cap)
{
	char b64[sodium_base64_ENCODED_LEN(KEYFILE_KEYLEN, B64_VARIANT)];
	char fingerprint[KEYFILE_FINGERPRINT_LEN];
	struct textbuf t;

	if (pub == NULL || buf == NULL || cap == 0 || cap > INT_MAX)
		return -1;
	buf[0] = '\0';
	if (comment != NULL && !comment_ok(comment))
		return -1;
	keyfile_fingerprint(pub->noise_pk, pub->sign_pk, fingerprint);
	if (fingerprint[0] == '\0')
		return -1;
	text_init(&t, buf, cap);
	if (comment != NULL && comment[0] != '\0') {
		text_add(&t, "# ");
		text_add(&t, comment);
		text_add(&t, "\n");
	}
	text_add(&t, "[");
	text_add(&t, kind_public.section);
	text_add(&t, "]\n");
	text_kv(&t, "version", FORMAT_VERSION);
	if (b64_encode(b64, sizeof b64, pub->noise_pk, KEYFILE_KEYLEN) != 0)
		return -1;
	text_kv(&t, "noise", b64);
	if (b64_encode(b64, sizeof b64, pub->sign_pk, KEYFILE_KEYLEN) != 0)
		return -1;
	text_kv(&t, "sign", b64);
	if (pub->has_data) {
		if (b64_encode(b64, sizeof b64, pub->data_pk, KEYFILE_KEYLEN) !=
		    0)
			return -1;
		text_kv(&t, "data", b64);
	}
	text_kv(&t, "fingerprint", fingerprint);
	if (t.overflow) {
		buf[0] = '\0';
		return -1;
	}
	return (int)t.len;
}

/*
 * keyfile_parse_public() on text already NUL-terminated at text[len].
 * On error *pub is zeroed.
 */
static int parse_public_text(const char *text, size_t len, keyfile_public *pub)
{
	struct ini_doc doc;
	char fingerprint[KEYFILE_FINGERPRINT_LEN];
	const char *stored_fp;
	int ret;

	memset(pub, 0, sizeof *pub);
	ret = parse_doc(text, len, &kind_public, &doc);
	if (ret == 0)
		ret = check_version(&doc);
	if (ret != 0)
		goto out;
	if (!doc.seen[PUB_NOISE] || !doc.seen[PUB_SIGN] ||
	    b64_decode(pub->noise_pk, KEYFILE_KEYLEN,
		       doc_get(&doc, PUB_NOISE)) != 0 ||
	    b64_decode(pub->sign_pk, KEYFILE_KEYLEN, doc_get(&doc, PUB_SIGN)) !=
		0 ||
	    !x25519_public_ok(pub->noise_pk) ||
	    !ed25519_public_ok(pub->sign_pk)) {
		ret = KEYFILE_ERR_FORMAT;
		goto out;
	}
	if (doc.seen[PUB_DATA]) {
		if (b64_decode(pub->data_pk, KEYFILE_KEYLEN,
			       doc_get(&doc, PUB_DATA)) != 0 ||
		    !x25519_public_ok(pub->data_pk)) {
			ret = KEYFILE_ERR_FORMAT;
			goto out;
		}
		pub->has_data = 1;
	}
	stored_fp = doc_get(&doc, PUB_FINGERPRINT);
	if (stored_fp != NULL) {
		keyfile_fingerprint(pub->noise_pk, pub->sign_pk, fingerprint);
		if (strcmp(stored_fp, fingerprint) != 0) {
			ret = KEYFILE_ERR_MISMATCH;
			goto out;
		}
	}
	ret = 0;
out:
	if (ret != 0)
		memset(pub, 0, sizeof *pub);
	return ret;
}

int keyfile_parse_public(const char *text, size_t len, keyfile_public *pub)
{
	char *copy;
	int ret;

	if (pub == NULL)
		return KEYFILE_ERR_FORMAT;
	memset(pub, 0, sizeof *pub);
	if (text == NULL || len > FILE_MAX)
		return KEYFILE_ERR_FORMAT;
	if (sodium_init() < 0)
		return KEYFILE_ERR_CRYPTO;
	copy = malloc(len + 1);
	if (copy == NULL)
		return KEYFILE_ERR_IO;
	memcpy(copy, text, len);
	copy[len] = '\0';
	ret = parse_public_text(copy, len, pub);
	free(copy);
	return ret;
}

int keyfile_read_public(const char *path, keyfile_public *pub)
{
	char *text = NULL;
	size_t len;
	int ret;
	int saved_errno;

	if (pub == NULL)
		return KEYFILE_ERR_FORMAT;
	memset(pub, 0, sizeof *pub);
	if (path == NULL) {
		errno = EINVAL;
		return KEYFILE_ERR_IO;
	}
	if (sodium_init() < 0)
		return KEYFILE_ERR_CRYPTO;
	ret = read_text_file(path, 0, &text, &len);
	if (ret != 0)
		return ret;
	ret = parse_public_text(text, len, pub);
	saved_errno = errno;
	sodium_free(text);
	errno = saved_errno;
	return ret;
}
