/*
 * Unit tests of common/keyfile: private, data and public key files, the
 * fingerprint, and the refusals that keep a damaged or hostile file out.
 * Each test works in a fresh directory under /tmp, removed afterwards.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keyfile.h"

#define PASSPHRASE "tamwil: l'envelope du programme"
#define TEXT_CAP   4096

struct fixture {
	char dir[64];
};

/* Makes a fresh directory for one test. */
static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof f->dir, "/tmp/tamwil-keyfile-XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

/* Removes the test's directory and every file left in it. */
static int teardown(void **state)
{
	struct fixture *f = *state;
	DIR *d = opendir(f->dir);

	if (d != NULL) {
		struct dirent *e;

		while ((e = readdir(d)) != NULL) {
			char path[sizeof f->dir + sizeof e->d_name + 1];

			if (strcmp(e->d_name, ".") == 0 ||
			    strcmp(e->d_name, "..") == 0)
				continue;
			snprintf(path, sizeof path, "%s/%s", f->dir, e->d_name);
			(void)unlink(path);
		}
		closedir(d);
	}
	(void)rmdir(f->dir);
	free(f);
	return 0;
}

/* path := the test directory's file called name. */
static void path_in(void **state, const char *name, char *path, size_t cap)
{
	const struct fixture *f = *state;
	int n = snprintf(path, cap, "%s/%s", f->dir, name);

	assert_true(n > 0 && (size_t)n < cap);
}

/* Reads a whole (small) file as text. */
static void read_text(const char *path, char *buf, size_t cap)
{
	FILE *fp = fopen(path, "r");
	size_t n;

	assert_non_null(fp);
	n = fread(buf, 1, cap - 1, fp);
	assert_true(n < cap - 1);
	buf[n] = '\0';
	fclose(fp);
}

/* Replaces the contents of path by text, then sets mode. */
static void write_text(const char *path, const char *text, mode_t mode)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(chmod(path, mode), 0);
}

/*
 * out := text with the one line that starts with prefix replaced by
 * replacement (a whole line, without its line break), or removed if
 * replacement is NULL.
 */
static void replace_line(char *out, size_t cap, const char *text,
			 const char *prefix, const char *replacement)
{
	const char *p = text;
	size_t o = 0;
	int hits = 0;

	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t len = nl != NULL ? (size_t)(nl - p) + 1 : strlen(p);

		if (strncmp(p, prefix, strlen(prefix)) == 0) {
			hits++;
			if (replacement != NULL) {
				size_t r = strlen(replacement);

				assert_true(o + r + 1 < cap);
				memcpy(out + o, replacement, r);
				o += r;
				out[o++] = '\n';
			}
		} else {
			assert_true(o + len < cap);
			memcpy(out + o, p, len);
			o += len;
		}
		p += len;
	}
	out[o] = '\0';
	assert_int_equal(hits, 1);
}

/* Rewrites the file at path with one line replaced, keeping mode 0600. */
static void tamper_file(const char *path, const char *prefix,
			const char *replacement)
{
	char text[TEXT_CAP];
	char changed[TEXT_CAP];

	read_text(path, text, sizeof text);
	replace_line(changed, sizeof changed, text, prefix, replacement);
	write_text(path, changed, 0600);
}

/* "key = <base64 of len bytes of bin>" into line. */
static void b64_line(char *line, size_t cap, const char *key,
		     const uint8_t *bin, size_t len)
{
	char b64[128];
	int n;

	sodium_bin2base64(b64, sizeof b64, bin, len,
			  sodium_base64_VARIANT_ORIGINAL);
	n = snprintf(line, cap, "%s = %s", key, b64);
	assert_true(n > 0 && (size_t)n < cap);
}

static mode_t file_mode(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_mode & 07777;
}

static int file_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static void assert_secret_equal(const keyfile_secret *a,
				const keyfile_secret *b)
{
	assert_memory_equal(a->noise_pk, b->noise_pk, KEYFILE_KEYLEN);
	assert_memory_equal(a->noise_sk, b->noise_sk, KEYFILE_KEYLEN);
	assert_memory_equal(a->sign_pk, b->sign_pk, KEYFILE_KEYLEN);
	assert_memory_equal(a->sign_sk, b->sign_sk, KEYFILE_SIGN_SKLEN);
}

/* "hhhh hhhh hhhh hhhh hhhh", lower-case hex. */
static void assert_fingerprint_shape(const char *fp)
{
	size_t i;

	assert_int_equal(strlen(fp), KEYFILE_FINGERPRINT_LEN - 1);
	for (i = 0; fp[i] != '\0'; i++) {
		if (i % 5 == 4)
			assert_int_equal(fp[i], ' ');
		else
			assert_non_null(strchr("0123456789abcdef", fp[i]));
	}
}

static void test_generate(void **state)
{
	keyfile_secret a, b;
	keyfile_data d;
	uint8_t pk[KEYFILE_KEYLEN];

	(void)state;
	assert_int_equal(keyfile_generate(&a), 0);
	assert_int_equal(keyfile_generate(&b), 0);
	assert_memory_not_equal(a.noise_sk, b.noise_sk, KEYFILE_KEYLEN);
	assert_memory_not_equal(a.sign_pk, b.sign_pk, KEYFILE_KEYLEN);
	assert_int_equal(crypto_scalarmult_base(pk, a.noise_sk), 0);
	assert_memory_equal(pk, a.noise_pk, KEYFILE_KEYLEN);
	assert_int_equal(keyfile_data_generate(&d), 0);
	assert_int_equal(crypto_scalarmult_base(pk, d.sk), 0);
	assert_memory_equal(pk, d.pk, KEYFILE_KEYLEN);
}

static void test_secret_round_trip(void **state)
{
	char path[256];
	char text[TEXT_CAP];
	keyfile_secret k, back;

	path_in(state, "me.key", path, sizeof path);
	assert_int_equal(keyfile_generate(&k), 0);
	assert_int_equal(keyfile_write_secret(path, &k, NULL), 0);
	assert_int_equal(keyfile_read_secret(path, NULL, &back), 0);
	assert_secret_equal(&k, &back);
	/* A passphrase given for an unprotected file is not needed. */
	assert_int_equal(keyfile_read_secret(path, "unused", &back), 0);
	assert_secret_equal(&k, &back);
	assert_int_equal(keyfile_is_protected(path), 0);
	read_text(path, text, sizeof text);
	assert_non_null(strstr(text, "[tamwil-private-key]\n"));
	assert_non_null(strstr(text, "protection = none\n"));
	assert_null(strstr(text, "sealed"));
}

static void test_secret_file_mode(void **state)
{
	char path[256];
	keyfile_secret k;
	mode_t old = umask(0);

	path_in(state, "open-umask.key", path, sizeof path);
	assert_int_equal(keyfile_generate(&k), 0);
	assert_int_equal(keyfile_write_secret(path, &k, NULL), 0);
	assert_int_equal(file_mode(path), 0600);
	/* A umask that takes the owner's write bit does not change it. */
	umask(0277);
	path_in(state, "odd-umask.key", path, sizeof path);
	assert_int_equal(keyfile_write_secret(path, &k, NULL), 0);
	umask(old);
	assert_int_equal(file_mode(path), 0600);
}

static void test_refuses_overwrite(void **state)
{
	char path[256];
	char link[256];
	char target[256];
	keyfile_secret a, b, back;

	path_in(state, "me.key", path, sizeof path);
	assert_int_equal(keyfile_generate(&a), 0);
	assert_int_equal(keyfile_generate(&b), 0);
	assert_int_equal(keyfile_write_secret(path, &a, NULL), 0);
	assert_int_equal(keyfile_write_secret(path, &b, NULL),
			 KEYFILE_ERR_EXISTS);
	assert_int_equal(keyfile_read_secret(path, NULL, &back), 0);
	assert_secret_equal(&a, &back);

	/* Nor through a dangling symbolic link. */
	path_in(state, "link.key", link, sizeof link);
	path_in(state, "target.key", target, sizeof target);
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(keyfile_write_secret(link, &a, NULL),
			 KEYFILE_ERR_EXISTS);
	assert_false(file_exists(target));
}

static void test_passphrase(void **state)
{
	char path[256];
	char text[TEXT_CAP];
	keyfile_secret k, back;

	path_in(state, "sealed.key", path, sizeof path);
	assert_int_equal(keyfile_generate(&k), 0);
	assert_int_equal(keyfile_write_secret(path, &k, PASSPHRASE), 0);
	assert_int_equal(file_mode(path), 0600);
	assert_int_equal(keyfile_is_protected(path), 1);
	read_text(path, text, sizeof text);
	assert_non_null(strstr(text, "protection = argon2id\n"));
	assert_null(strstr(text, "secret ="));

	assert_int_equal(keyfile_read_secret(path, PASSPHRASE, &back), 0);
	assert_secret_equal(&k, &back);

	assert_int_equal(keyfile_read_secret(path, "wrong", &back),
			 KEYFILE_ERR_PASSPHRASE);
	assert_true(sodium_is_zero((const uint8_t *)&back, sizeof back));
	assert_int_equal(keyfile_read_secret(path, NULL, &back),
			 KEYFILE_ERR_PASSPHRASE);
	assert_int_equal(keyfile_read_secret(path, "", &back),
			 KEYFILE_ERR_PASSPHRASE);
}

static void test_empty_passphrase_means_none(void **state)
{
	char path[256];
	keyfile_secret k, back;

	path_in(state, "plain.key", path, sizeof path);
	assert_int_equal(keyfile_generate(&k), 0);
	assert_int_equal(keyfile_write_secret(path, &k, ""), 0);
	assert_int_equal(keyfile_is_protected(path), 0);
	assert_int_equal(keyfile_read_secret(path, NULL, &back), 0);
	assert_secret_equal(&k, &back);
}

static void test_tampered_private_file(void **state)
{
	char path[256];
	char line[256];
	keyfile_secret k, other, back;

	assert_int_equal(keyfile_generate(&k), 0);
	assert_int_equal(keyfile_generate(&other), 0);

	path_in(state, "noise.key", path, sizeof path);
	assert_int_equal(keyfile_write_secret(path, &k, NULL), 0);
	b64_line(line, sizeof line, "noise-public", other.noise_pk,
		 KEYFILE_KEYLEN);
	tamper_file(path, "noise-public =", line);
	assert_int_equal(keyfile_read_secret(path, NULL, &back),
			 KEYFILE_ERR_MISMATCH);
	assert_true(sodium_is_zero((const uint8_t *)&back, sizeof back));

	path_in(state, "sign.key", path, sizeof path);
	assert_int_equal(keyfile_write_secret(path, &k, NULL), 0);
	b64_line(line, sizeof line, "sign-public", other.sign_pk,
		 KEYFILE_KEYLEN);
	tamper_file(path, "sign-public =", line);
	assert_int_equal(keyfile_read_secret(path, NULL, &back),
			 KEYFILE_ERR_MISMATCH);

	path_in(state, "fp.key", path, sizeof path);
	assert_int_equal(keyfile_write_secret(path, &k, NULL), 0);
	tamper_file(path,
		    "fingerprint =", "fingerprint = 0000 0000 0000 0000 0000");
	assert_int_equal(keyfile_read_secret(path, NULL, &back),
			 KEYFILE_ERR_MISMATCH);

	/* The fingerprint line is optional; the public keys are not. */
	path_in(state, "nofp.key", path, sizeof path);
	assert_int_equal(keyfile_write_secret(path, &k, NULL), 0);
	tamper_file(path, "fingerprint =", NULL);
	assert_int_equal(keyfile_read_secret(path, NULL, &back), 0);
	assert_secret_equal(&k, &back);
	tamper_file(path, "sign-public =", NULL);
	assert_int_equal(keyfile_read_secret(path, NULL, &back),
			 KEYFILE_ERR_FORMAT);

	/* Sealed: the right passphrase opens it, the stored key is wrong. */
	path_in(state, "sealed.key", path, sizeof path);
	assert_int_equal(keyfile_write_secret(path, &k, PASSPHRASE), 0);
	b64_line(line, sizeof line, "noise-public", other.noise_pk,
		 KEYFILE_KEYLEN);
	tamper_file(path, "noise-public =", line);
	assert_int_equal(keyfile_read_secret(path, PASSPHRASE, &back),
			 KEYFILE_ERR_MISMATCH);
}

static void test_sealed_box_tampered(void **state)
{
	char path[256];
	char text[TEXT_CAP];
	char *p;
	keyfile_secret k, back;

	path_in(state, "sealed.key", path, sizeof path);
	assert_int_equal(keyfile_generate(&k), 0);
	assert_int_equal(keyfile_write_secret(path, &k, PASSPHRASE), 0);
	read_text(path, text, sizeof text);
	p = strstr(text, "sealed = ");
	assert_non_null(p);
	p += strlen("sealed = ");
	*p = *p == 'A' ? 'B' : 'A';
	write_text(path, text, 0600);
	assert_int_equal(keyfile_read_secret(path, PASSPHRASE, &back),
			 KEYFILE_ERR_PASSPHRASE);
}

static void test_permissions(void **state)
{
	static const mode_t open_modes[] = {0640, 0604, 0620, 0602, 0660, 0644};
	char path[256];
	keyfile_secret k, back;
	size_t i;

	path_in(state, "me.key", path, sizeof path);
	assert_int_equal(keyfile_generate(&k), 0);
	assert_int_equal(keyfile_write_secret(path, &k, NULL), 0);
	for (i = 0; i < sizeof open_modes / sizeof open_modes[0]; i++) {
		assert_int_equal(chmod(path, open_modes[i]), 0);
		assert_int_equal(keyfile_read_secret(path, NULL, &back),
				 KEYFILE_ERR_PERMISSIONS);
		assert_true(
		    sodium_is_zero((const uint8_t *)&back, sizeof back));
		assert_int_equal(keyfile_is_protected(path),
				 KEYFILE_ERR_PERMISSIONS);
	}
	assert_int_equal(chmod(path, 0400), 0);
	assert_int_equal(keyfile_read_secret(path, NULL, &back), 0);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(keyfile_read_secret(path, NULL, &back), 0);
	assert_secret_equal(&k, &back);
}

static void test_hostile_argon2_limits(void **state)
{
	static const char *const bad[][2] = {
	    {"opslimit =", "opslimit = 0"},
	    {"opslimit =", "opslimit = 1000"},
	    {"opslimit =", "opslimit = -2"},
	    {"opslimit =", "opslimit = 2x"},
	    {"opslimit =", "opslimit = 99999999999999999999999"},
	    {"memlimit =", "memlimit = 1"},
	    {"memlimit =", "memlimit = 4398046511104"},
	    {"memlimit =", "memlimit = "},
	    {"salt =", "salt = AAAA"},
	    {"nonce =", "nonce = AAAA"},
	    {"sealed =", NULL},
	    {"protection =", "protection = none"},
	    {"protection =", "protection = scrypt"},
	};
	char path[256];
	char orig[TEXT_CAP];
	char changed[TEXT_CAP];
	keyfile_secret k, back;
	size_t i;

	path_in(state, "sealed.key", path, sizeof path);
	assert_int_equal(keyfile_generate(&k), 0);
	assert_int_equal(keyfile_write_secret(path, &k, PASSPHRASE), 0);
	read_text(path, orig, sizeof orig);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		replace_line(changed, sizeof changed, orig, bad[i][0],
			     bad[i][1]);
		write_text(path, changed, 0600);
		assert_int_equal(keyfile_read_secret(path, PASSPHRASE, &back),
				 KEYFILE_ERR_FORMAT);
	}
}

static void test_secret_format_errors(void **state)
{
	char path[256];
	char text[TEXT_CAP];
	char changed[TEXT_CAP];
	char pubtext[KEYFILE_PUBLIC_TEXT_MAX];
	keyfile_secret k, back;
	keyfile_public pub;

	path_in(state, "absent.key", path, sizeof path);
	errno = 0;
	assert_int_equal(keyfile_read_secret(path, NULL, &back),
			 KEYFILE_ERR_IO);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(keyfile_is_protected(path), KEYFILE_ERR_IO);

	/* A directory, and a public key file, are not private key files. */
	{
		const struct fixture *f = *state;

		assert_int_equal(keyfile_read_secret(f->dir, NULL, &back),
				 KEYFILE_ERR_FORMAT);
	}
	assert_int_equal(keyfile_generate(&k), 0);
	keyfile_public_of(&k, &pub);
	assert_true(keyfile_format_public(&pub, NULL, pubtext, sizeof pubtext) >
		    0);
	path_in(state, "pub.key", path, sizeof path);
	write_text(path, pubtext, 0600);
	assert_int_equal(keyfile_read_secret(path, NULL, &back),
			 KEYFILE_ERR_FORMAT);
	assert_int_equal(keyfile_is_protected(path), KEYFILE_ERR_FORMAT);

	path_in(state, "me.key", path, sizeof path);
	assert_int_equal(keyfile_write_secret(path, &k, NULL), 0);
	read_text(path, text, sizeof text);

	replace_line(changed, sizeof changed, text, "version =", "version = 2");
	write_text(path, changed, 0600);
	assert_int_equal(keyfile_read_secret(path, NULL, &back),
			 KEYFILE_ERR_FORMAT);
	assert_int_equal(keyfile_is_protected(path), KEYFILE_ERR_FORMAT);

	replace_line(changed, sizeof changed, text, "protection =",
		     "protection = none\nsalt = AAAAAAAAAAAAAAAAAAAAAA==");
	write_text(path, changed, 0600);
	assert_int_equal(keyfile_read_secret(path, NULL, &back),
			 KEYFILE_ERR_FORMAT);

	replace_line(changed, sizeof changed, text, "secret =", "secret = AA");
	write_text(path, changed, 0600);
	assert_int_equal(keyfile_read_secret(path, NULL, &back),
			 KEYFILE_ERR_FORMAT);

	replace_line(changed, sizeof changed, text,
		     "protection =", "protection = none\nprotection = none");
	write_text(path, changed, 0600);
	assert_int_equal(keyfile_read_secret(path, NULL, &back),
			 KEYFILE_ERR_FORMAT);

	replace_line(changed, sizeof changed, text,
		     "protection =", "protection = none\ncomment = mine");
	write_text(path, changed, 0600);
	assert_int_equal(keyfile_read_secret(path, NULL, &back),
			 KEYFILE_ERR_FORMAT);

	write_text(path, text, 0600);
	assert_int_equal(keyfile_read_secret(path, NULL, &back), 0);
	assert_secret_equal(&k, &back);
}

static void test_write_refuses_mismatched_keys(void **state)
{
	char path[256];
	keyfile_secret k;
	keyfile_data d;

	path_in(state, "bad.key", path, sizeof path);
	assert_int_equal(keyfile_generate(&k), 0);
	k.noise_pk[0] ^= 1;
	assert_int_equal(keyfile_write_secret(path, &k, NULL),
			 KEYFILE_ERR_MISMATCH);
	assert_false(file_exists(path));
	k.noise_pk[0] ^= 1;
	k.sign_pk[5] ^= 1;
	assert_int_equal(keyfile_write_secret(path, &k, NULL),
			 KEYFILE_ERR_MISMATCH);
	assert_false(file_exists(path));

	assert_int_equal(keyfile_data_generate(&d), 0);
	d.pk[31] ^= 1;
	assert_int_equal(keyfile_write_data(path, &d, NULL),
			 KEYFILE_ERR_MISMATCH);
	assert_false(file_exists(path));
}

static void test_public_round_trip(void **state)
{
	char text[KEYFILE_PUBLIC_TEXT_MAX];
	char fp[KEYFILE_FINGERPRINT_LEN];
	keyfile_secret k;
	keyfile_data d;
	keyfile_public pub, back;
	int len;

	(void)state;
	assert_int_equal(keyfile_generate(&k), 0);
	keyfile_public_of(&k, &pub);
	assert_int_equal(pub.has_data, 0);
	assert_memory_equal(pub.noise_pk, k.noise_pk, KEYFILE_KEYLEN);
	assert_memory_equal(pub.sign_pk, k.sign_pk, KEYFILE_KEYLEN);

	len = keyfile_format_public(&pub, "Fatima Zahra, Souss-Massa", text,
				    sizeof text);
	assert_true(len > 0 && len < KEYFILE_PUBLIC_TEXT_MAX);
	assert_int_equal((size_t)len, strlen(text));
	assert_true(strncmp(text, "# Fatima Zahra, Souss-Massa\n", 28) == 0);
	assert_null(strstr(text, "data ="));
	keyfile_fingerprint(pub.noise_pk, pub.sign_pk, fp);
	assert_non_null(strstr(text, fp));
	assert_int_equal(keyfile_parse_public(text, (size_t)len, &back), 0);
	assert_int_equal(back.has_data, 0);
	assert_memory_equal(back.noise_pk, pub.noise_pk, KEYFILE_KEYLEN);
	assert_memory_equal(back.sign_pk, pub.sign_pk, KEYFILE_KEYLEN);

	/* The server's file, with head office's data key, no comment. */
	assert_int_equal(keyfile_data_generate(&d), 0);
	memcpy(pub.data_pk, d.pk, KEYFILE_KEYLEN);
	pub.has_data = 1;
	len = keyfile_format_public(&pub, NULL, text, sizeof text);
	assert_true(len > 0);
	assert_true(strncmp(text, "[tamwil-public-key]\n", 20) == 0);
	assert_int_equal(keyfile_parse_public(text, (size_t)len, &back), 0);
	assert_int_equal(back.has_data, 1);
	assert_memory_equal(back.data_pk, d.pk, KEYFILE_KEYLEN);
	assert_memory_equal(back.noise_pk, pub.noise_pk, KEYFILE_KEYLEN);
	assert_memory_equal(back.sign_pk, pub.sign_pk, KEYFILE_KEYLEN);

	/* Arabic (UTF-8) comment. */
	len = keyfile_format_public(&pub,
				    "\xd9\x81\xd8\xa7\xd8\xb7\xd9\x85\xd8\xa9",
				    text, sizeof text);
	assert_true(len > 0);
	assert_int_equal(keyfile_parse_public(text, (size_t)len, &back), 0);
}

static void test_public_file(void **state)
{
	char path[256];
	char text[KEYFILE_PUBLIC_TEXT_MAX];
	keyfile_secret k;
	keyfile_public pub, back;

	assert_int_equal(keyfile_generate(&k), 0);
	keyfile_public_of(&k, &pub);
	assert_true(keyfile_format_public(&pub, "x", text, sizeof text) > 0);
	/* Public key files may be world-readable. */
	path_in(state, "me.pub", path, sizeof path);
	write_text(path, text, 0644);
	assert_int_equal(keyfile_read_public(path, &back), 0);
	assert_memory_equal(back.noise_pk, pub.noise_pk, KEYFILE_KEYLEN);
	assert_memory_equal(back.sign_pk, pub.sign_pk, KEYFILE_KEYLEN);

	path_in(state, "absent.pub", path, sizeof path);
	errno = 0;
	assert_int_equal(keyfile_read_public(path, &back), KEYFILE_ERR_IO);
	assert_int_equal(errno, ENOENT);

	/* A private key file is not a public one. */
	path_in(state, "me.key", path, sizeof path);
	assert_int_equal(keyfile_write_secret(path, &k, NULL), 0);
	assert_int_equal(keyfile_read_public(path, &back), KEYFILE_ERR_FORMAT);
}

static void test_format_public_refusals(void **state)
{
	char text[KEYFILE_PUBLIC_TEXT_MAX];
	char comment[KEYFILE_COMMENT_MAX + 2];
	keyfile_secret k;
	keyfile_public pub, back;
	int len;

	(void)state;
	assert_int_equal(keyfile_generate(&k), 0);
	keyfile_public_of(&k, &pub);
	pub.has_data = 1;
	memcpy(pub.data_pk, k.noise_pk, KEYFILE_KEYLEN);

	assert_int_equal(
	    keyfile_format_public(&pub, "two\nlines", text, sizeof text), -1);
	assert_int_equal(
	    keyfile_format_public(&pub, "tab\there", text, sizeof text), -1);
	assert_int_equal(keyfile_format_public(&pub, NULL, text, 100), -1);
	assert_int_equal(keyfile_format_public(NULL, NULL, text, sizeof text),
			 -1);

	memset(comment, 'c', sizeof comment - 1);
	comment[sizeof comment - 1] = '\0';
	assert_int_equal(
	    keyfile_format_public(&pub, comment, text, sizeof text), -1);
	/* The longest comment still fits the promised bound. */
	comment[KEYFILE_COMMENT_MAX] = '\0';
	len = keyfile_format_public(&pub, comment, text, sizeof text);
	assert_true(len > 0 && len < KEYFILE_PUBLIC_TEXT_MAX);
	assert_int_equal(keyfile_parse_public(text, (size_t)len, &back), 0);
}

static void test_fingerprint(void **state)
{
	uint8_t noise[KEYFILE_KEYLEN], sign[KEYFILE_KEYLEN];
	char fp[KEYFILE_FINGERPRINT_LEN], again[KEYFILE_FINGERPRINT_LEN];
	char other[KEYFILE_FINGERPRINT_LEN];
	keyfile_secret a, b;
	size_t i;

	(void)state;
	/* Known answers, computed independently with Python's hashlib:
	 * blake2b(b"tamwil-fingerprint-v1" + noise + sign,
	 *         digest_size=16).digest()[:10] */
	for (i = 0; i < KEYFILE_KEYLEN; i++) {
		noise[i] = (uint8_t)i;
		sign[i] = (uint8_t)(32 + i);
	}
	keyfile_fingerprint(noise, sign, fp);
	assert_string_equal(fp, "9af3 1bfc 0dd9 29d1 f00a");
	memset(noise, 9, sizeof noise);
	memset(sign, 0x42, sizeof sign);
	keyfile_fingerprint(noise, sign, fp);
	assert_string_equal(fp, "9f61 ecca 8db2 bcc0 e01e");

	assert_int_equal(keyfile_generate(&a), 0);
	assert_int_equal(keyfile_generate(&b), 0);
	keyfile_fingerprint(a.noise_pk, a.sign_pk, fp);
	assert_fingerprint_shape(fp);
	keyfile_fingerprint(a.noise_pk, a.sign_pk, again);
	assert_string_equal(fp, again);
	keyfile_fingerprint(b.noise_pk, b.sign_pk, other);
	assert_fingerprint_shape(other);
	assert_string_not_equal(fp, other);
	/* Both keys count, and their order. */
	keyfile_fingerprint(a.noise_pk, b.sign_pk, other);
	assert_string_not_equal(fp, other);
	keyfile_fingerprint(b.noise_pk, a.sign_pk, other);
	assert_string_not_equal(fp, other);
	keyfile_fingerprint(a.sign_pk, a.noise_pk, other);
	assert_string_not_equal(fp, other);
}

/* Expects keyfile_parse_public(text) to fail with want. */
static void expect_parse(const char *text, int want)
{
	keyfile_public pub;

	memset(&pub, 0xa5, sizeof pub);
	assert_int_equal(keyfile_parse_public(text, strlen(text), &pub), want);
	if (want != 0)
		assert_true(sodium_is_zero((const uint8_t *)&pub, sizeof pub));
}

static void test_parse_public_refusals(void **state)
{
	uint8_t zero[KEYFILE_KEYLEN] = {0};
	uint8_t order4[KEYFILE_KEYLEN] = {1}; /* u = 1: order 4 */
	uint8_t short_key[KEYFILE_KEYLEN - 1];
	uint8_t long_key[KEYFILE_KEYLEN + 1];
	char text[KEYFILE_PUBLIC_TEXT_MAX];
	char changed[TEXT_CAP];
	char line[512];
	char noise_line[128];
	keyfile_secret k, other;
	keyfile_public pub;
	int len;

	(void)state;
	assert_int_equal(keyfile_generate(&k), 0);
	assert_int_equal(keyfile_generate(&other), 0);
	keyfile_public_of(&k, &pub);
	pub.has_data = 1;
	assert_int_equal(crypto_scalarmult_base(pub.data_pk, other.noise_sk),
			 0);
	len = keyfile_format_public(&pub, "admin", text, sizeof text);
	assert_true(len > 0);
	expect_parse(text, 0);
	memset(short_key, 7, sizeof short_key);
	memset(long_key, 7, sizeof long_key);
	b64_line(noise_line, sizeof noise_line, "noise", k.noise_pk,
		 KEYFILE_KEYLEN);

	/* Sections. */
	replace_line(changed, sizeof changed, text, "[tamwil-public-key]",
		     NULL);
	expect_parse(changed, KEYFILE_ERR_FORMAT);
	replace_line(changed, sizeof changed, text, "[tamwil-public-key]",
		     "[tamwil-private-key]");
	expect_parse(changed, KEYFILE_ERR_FORMAT);
	replace_line(changed, sizeof changed, text,
		     "fingerprint =", "[extra]\nfingerprint = x");
	expect_parse(changed, KEYFILE_ERR_FORMAT);

	/* Version. */
	replace_line(changed, sizeof changed, text, "version =", "version = 2");
	expect_parse(changed, KEYFILE_ERR_FORMAT);
	replace_line(changed, sizeof changed, text,
		     "version =", "version = 1.0");
	expect_parse(changed, KEYFILE_ERR_FORMAT);
	replace_line(changed, sizeof changed, text, "version =", NULL);
	expect_parse(changed, KEYFILE_ERR_FORMAT);

	/* Keys missing, unknown, repeated, continued. */
	replace_line(changed, sizeof changed, text, "noise =", NULL);
	expect_parse(changed, KEYFILE_ERR_FORMAT);
	replace_line(changed, sizeof changed, text, "sign =", NULL);
	expect_parse(changed, KEYFILE_ERR_FORMAT);
	snprintf(line, sizeof line, "%s\nnosie = x", noise_line);
	replace_line(changed, sizeof changed, text, "noise =", line);
	expect_parse(changed, KEYFILE_ERR_FORMAT);
	snprintf(line, sizeof line, "%s\n%s", noise_line, noise_line);
	replace_line(changed, sizeof changed, text, "noise =", line);
	expect_parse(changed, KEYFILE_ERR_FORMAT);
	snprintf(line, sizeof line, "%s\n  more", noise_line);
	replace_line(changed, sizeof changed, text, "noise =", line);
	expect_parse(changed, KEYFILE_ERR_FORMAT);
	replace_line(changed, sizeof changed, text,
		     "noise =", "a line without an equals sign");
	expect_parse(changed, KEYFILE_ERR_FORMAT);

	/* Bad base64, wrong lengths. */
	replace_line(changed, sizeof changed, text,
		     "noise =", "noise = !!!!not base64!!!!");
	expect_parse(changed, KEYFILE_ERR_FORMAT);
	b64_line(line, sizeof line, "noise", short_key, sizeof short_key);
	replace_line(changed, sizeof changed, text, "noise =", line);
	expect_parse(changed, KEYFILE_ERR_FORMAT);
	b64_line(line, sizeof line, "sign", long_key, sizeof long_key);
	replace_line(changed, sizeof changed, text, "sign =", line);
	expect_parse(changed, KEYFILE_ERR_FORMAT);
	snprintf(line, sizeof line, "%s", noise_line);
	line[strlen(line) - 1] = '\0'; /* drop the padding */
	replace_line(changed, sizeof changed, text, "noise =", line);
	expect_parse(changed, KEYFILE_ERR_FORMAT);
	replace_line(changed, sizeof changed, text, "noise =", "noise =");
	expect_parse(changed, KEYFILE_ERR_FORMAT);

	/* Unusable points. */
	b64_line(line, sizeof line, "noise", zero, sizeof zero);
	replace_line(changed, sizeof changed, text, "noise =", line);
	expect_parse(changed, KEYFILE_ERR_FORMAT);
	b64_line(line, sizeof line, "noise", order4, sizeof order4);
	replace_line(changed, sizeof changed, text, "noise =", line);
	expect_parse(changed, KEYFILE_ERR_FORMAT);
	b64_line(line, sizeof line, "data", zero, sizeof zero);
	replace_line(changed, sizeof changed, text, "data =", line);
	expect_parse(changed, KEYFILE_ERR_FORMAT);
	b64_line(line, sizeof line, "sign", zero, sizeof zero);
	replace_line(changed, sizeof changed, text, "sign =", line);
	expect_parse(changed, KEYFILE_ERR_FORMAT);

	/* Fingerprint that does not match, or a key swapped under it. */
	replace_line(changed, sizeof changed, text,
		     "fingerprint =", "fingerprint = 0000 0000 0000 0000 0000");
	expect_parse(changed, KEYFILE_ERR_MISMATCH);
	b64_line(line, sizeof line, "noise", other.noise_pk, KEYFILE_KEYLEN);
	replace_line(changed, sizeof changed, text, "noise =", line);
	expect_parse(changed, KEYFILE_ERR_MISMATCH);

	/* Over-long line, empty text, NUL inside, NULL. */
	memset(line, 'x', 300);
	line[0] = '#';
	line[300] = '\0';
	replace_line(changed, sizeof changed, text, "# admin", line);
	expect_parse(changed, KEYFILE_ERR_FORMAT);
	/* libinih cuts long lines (after 198 bytes here): a key hidden
	 * past the cut of a comment must not be read as a key, wherever the
	 * cut falls. */
	{
		char hidden[TEXT_CAP];
		size_t cut;

		replace_line(hidden, sizeof hidden, text, "noise =", NULL);
		for (cut = 180; cut < 260; cut++) {
			memset(line, 'x', cut);
			line[0] = '#';
			snprintf(line + cut, sizeof line - cut,
				 "%s\nversion = 1", noise_line);
			replace_line(changed, sizeof changed, hidden,
				     "version =", line);
			expect_parse(changed, KEYFILE_ERR_FORMAT);
		}
	}
	expect_parse("", KEYFILE_ERR_FORMAT);
	memcpy(changed, text, (size_t)len + 1);
	changed[len - 5] = '\0';
	assert_int_equal(keyfile_parse_public(changed, (size_t)len, &pub),
			 KEYFILE_ERR_FORMAT);
	assert_int_equal(keyfile_parse_public(NULL, 0, &pub),
			 KEYFILE_ERR_FORMAT);
}

static void test_parse_public_tolerates(void **state)
{
	char text[KEYFILE_PUBLIC_TEXT_MAX];
	char changed[TEXT_CAP];
	char crlf[TEXT_CAP];
	keyfile_secret k;
	keyfile_public pub, back;
	size_t i, o = 0;
	int len;

	(void)state;
	assert_int_equal(keyfile_generate(&k), 0);
	keyfile_public_of(&k, &pub);
	len = keyfile_format_public(&pub, "admin", text, sizeof text);
	assert_true(len > 0);

	/* No fingerprint line. */
	replace_line(changed, sizeof changed, text, "fingerprint =", NULL);
	expect_parse(changed, 0);

	/* Comments and blank lines anywhere, CRLF line ends. */
	replace_line(changed, sizeof changed, text,
		     "version =", "\n; mailed by the admin\nversion = 1\n");
	for (i = 0; changed[i] != '\0'; i++) {
		if (changed[i] == '\n')
			crlf[o++] = '\r';
		crlf[o++] = changed[i];
	}
	crlf[o] = '\0';
	assert_int_equal(keyfile_parse_public(crlf, o, &back), 0);
	assert_memory_equal(back.noise_pk, pub.noise_pk, KEYFILE_KEYLEN);

	/* Not NUL-terminated: only len bytes are looked at. */
	memcpy(changed, text, (size_t)len);
	memset(changed + len, 'Z', 16);
	assert_int_equal(keyfile_parse_public(changed, (size_t)len, &back), 0);
}

static void test_data_key(void **state)
{
	char path[256];
	char text[TEXT_CAP];
	keyfile_data d, back;
	keyfile_secret k;

	assert_int_equal(keyfile_data_generate(&d), 0);

	path_in(state, "data.key", path, sizeof path);
	assert_int_equal(keyfile_write_data(path, &d, NULL), 0);
	assert_int_equal(file_mode(path), 0600);
	assert_int_equal(keyfile_is_protected(path), 0);
	read_text(path, text, sizeof text);
	assert_non_null(strstr(text, "[tamwil-data-key]\n"));
	assert_int_equal(keyfile_read_data(path, NULL, &back), 0);
	assert_memory_equal(back.pk, d.pk, KEYFILE_KEYLEN);
	assert_memory_equal(back.sk, d.sk, KEYFILE_KEYLEN);
	assert_int_equal(keyfile_write_data(path, &d, NULL),
			 KEYFILE_ERR_EXISTS);
	/* Not a private key file, nor the other way round. */
	assert_int_equal(keyfile_read_secret(path, NULL, &k),
			 KEYFILE_ERR_FORMAT);
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(keyfile_read_data(path, NULL, &back),
			 KEYFILE_ERR_PERMISSIONS);

	path_in(state, "sealed-data.key", path, sizeof path);
	assert_int_equal(keyfile_write_data(path, &d, PASSPHRASE), 0);
	assert_int_equal(keyfile_is_protected(path), 1);
	assert_int_equal(keyfile_read_data(path, PASSPHRASE, &back), 0);
	assert_memory_equal(back.pk, d.pk, KEYFILE_KEYLEN);
	assert_memory_equal(back.sk, d.sk, KEYFILE_KEYLEN);
	assert_int_equal(keyfile_read_data(path, "wrong", &back),
			 KEYFILE_ERR_PASSPHRASE);
	assert_true(sodium_is_zero((const uint8_t *)&back, sizeof back));
	assert_int_equal(keyfile_read_data(path, NULL, &back),
			 KEYFILE_ERR_PASSPHRASE);

	path_in(state, "me.key", path, sizeof path);
	assert_int_equal(keyfile_generate(&k), 0);
	assert_int_equal(keyfile_write_secret(path, &k, NULL), 0);
	assert_int_equal(keyfile_read_data(path, NULL, &back),
			 KEYFILE_ERR_FORMAT);

	/* A data key file whose public key is not its secret key's. */
	path_in(state, "swapped-data.key", path, sizeof path);
	assert_int_equal(keyfile_write_data(path, &d, NULL), 0);
	{
		char line[128];

		b64_line(line, sizeof line, "public", k.noise_pk,
			 KEYFILE_KEYLEN);
		tamper_file(path, "public =", line);
	}
	assert_int_equal(keyfile_read_data(path, NULL, &back),
			 KEYFILE_ERR_MISMATCH);
}

/* Reads the at-rest key file at path, expecting err. */
static void expect_rest(const char *path, int err)
{
	keyfile_rest back;

	memset(&back, 0x77, sizeof back);
	assert_int_equal(keyfile_read_rest(path, &back), err);
	if (err != 0)
		assert_true(
		    sodium_is_zero((const uint8_t *)&back, sizeof back));
}

static void test_rest_round_trip(void **state)
{
	char path[256], tmp[272], text[TEXT_CAP];
	keyfile_rest r, back;
	struct stat st;

	path_in(state, "rest.keys", path, sizeof path);
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	memset(&r, 0, sizeof r);
	/* A missing file is told apart: no version beyond 0 yet. */
	errno = 0;
	expect_rest(path, KEYFILE_ERR_IO);
	assert_int_equal(errno, ENOENT);
	/* Nothing to write is refused. */
	assert_int_equal(keyfile_write_rest(path, &r), KEYFILE_ERR_FORMAT);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(keyfile_rest_add(&r), 0);
	assert_int_equal(r.count, 1);
	assert_int_equal(keyfile_write_rest(path, &r), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(access(tmp, F_OK), -1);
	assert_int_equal(keyfile_read_rest(path, &back), 0);
	assert_int_equal(back.count, 1);
	assert_memory_equal(back.key[0], r.key[0], KEYFILE_KEYLEN);
	/* A second version: the first is kept, the new one differs. */
	assert_int_equal(keyfile_rest_add(&r), 0);
	assert_memory_not_equal(r.key[0], r.key[1], KEYFILE_KEYLEN);
	/* A temporary file left by an interrupted write is no obstacle. */
	write_text(tmp, "half written", 0600);
	assert_int_equal(keyfile_write_rest(path, &r), 0);
	assert_int_equal(access(tmp, F_OK), -1);
	assert_int_equal(keyfile_read_rest(path, &back), 0);
	assert_int_equal(back.count, 2);
	assert_memory_equal(back.key, r.key, 2 * sizeof r.key[0]);
	read_text(path, text, sizeof text);
	assert_non_null(strstr(text, "[tamwil-rest-keys]\nversion = 1\n"));
	assert_non_null(strstr(text, "\nkey-1 = "));
	assert_non_null(strstr(text, "\nkey-2 = "));
	/* A version retired: its number kept, its key gone from the file. */
	r.retired[0] = 1;
	memset(r.key[0], 0, KEYFILE_KEYLEN);
	assert_int_equal(keyfile_write_rest(path, &r), 0);
	read_text(path, text, sizeof text);
	assert_non_null(strstr(text, "\nkey-1 = retired\n"));
	assert_int_equal(keyfile_read_rest(path, &back), 0);
	assert_int_equal(back.count, 2);
	assert_int_equal(back.retired[0], 1);
	assert_int_equal(back.retired[1], 0);
	assert_memory_equal(&back, &r, sizeof r);
	/* Never the newest. */
	r.retired[1] = 1;
	assert_int_equal(keyfile_write_rest(path, &r), KEYFILE_ERR_FORMAT);
	r.retired[1] = 0;
	/* Filled to the last version, and no further. */
	while (r.count < KEYFILE_REST_MAX)
		assert_int_equal(keyfile_rest_add(&r), 0);
	assert_int_equal(keyfile_rest_add(&r), KEYFILE_ERR_FORMAT);
	assert_int_equal(keyfile_write_rest(path, &r), 0);
	assert_int_equal(keyfile_read_rest(path, &back), 0);
	assert_int_equal(back.count, KEYFILE_REST_MAX);
	assert_memory_equal(&back, &r, sizeof r);
}

static void test_rest_permissions(void **state)
{
	static const mode_t open_modes[] = {0640, 0604, 0620, 0602, 0644};
	char path[256];
	keyfile_rest r;

	path_in(state, "rest.keys", path, sizeof path);
	memset(&r, 0, sizeof r);
	assert_int_equal(keyfile_rest_add(&r), 0);
	assert_int_equal(keyfile_write_rest(path, &r), 0);
	for (size_t i = 0; i < sizeof open_modes / sizeof open_modes[0]; i++) {
		assert_int_equal(chmod(path, open_modes[i]), 0);
		expect_rest(path, KEYFILE_ERR_PERMISSIONS);
	}
	assert_int_equal(chmod(path, 0400), 0);
	expect_rest(path, 0);
}

/* out := tmpl with every '@' replaced by key. */
static void with_key(char *out, size_t cap, const char *tmpl, const char *key)
{
	size_t o = 0;

	for (const char *p = tmpl; *p != '\0'; p++) {
		const char *add = *p == '@' ? key : p;
		size_t n = *p == '@' ? strlen(key) : 1;

		assert_true(o + n < cap);
		memcpy(out + o, add, n);
		o += n;
	}
	out[o] = '\0';
}

static void test_rest_corrupt(void **state)
{
	static const char key[] =
	    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
	/* Each is refused as a whole: nothing of it is used. */
	static const char *const bad[] = {
	    "",
	    "[tamwil-rest-keys]\nversion = 1\n",
	    "[tamwil-rest-keys]\nkey-1 = @\n",
	    "[tamwil-rest-keys]\nversion = 2\nkey-1 = @\n",
	    "[tamwil-data-key]\nversion = 1\nkey-1 = @\n",
	    "[tamwil-rest-keys]\nversion = 1\nkey-2 = @\n",
	    "[tamwil-rest-keys]\nversion = 1\nkey-1 = @\nkey-3 = @\n",
	    "[tamwil-rest-keys]\nversion = 1\nkey-1 = @\nkey-1 = @\n",
	    "[tamwil-rest-keys]\nversion = 1\nversion = 1\nkey-1 = @\n",
	    "[tamwil-rest-keys]\nversion = 1\nkey-0 = @\n",
	    "[tamwil-rest-keys]\nversion = 1\nkey-64 = @\n",
	    "[tamwil-rest-keys]\nversion = 1\nkey-x = @\n",
	    "[tamwil-rest-keys]\nversion = 1\nkey-1 = AAAA\n",
	    "[tamwil-rest-keys]\nversion = 1\nkey-1 = retired\n",
	    "[tamwil-rest-keys]\nversion = 1\nkey-1 = @\nkey-2 = retired\n",
	    "[tamwil-rest-keys]\nversion = 1\nkey-1 = Retired\n",
	    "[tamwil-rest-keys]\nversion = 1\nkey-1 = @=\n",
	    "[tamwil-rest-keys]\nversion = 1\nkey-1 = @\nsecret = x\n",
	    "[tamwil-rest-keys]\nversion = 1\nkey-1 = @\n[more]\nkey-2 = @\n",
	    "garbage\n",
	};
	char path[256], text[512];
	keyfile_rest back;

	path_in(state, "rest.keys", path, sizeof path);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		with_key(text, sizeof text, bad[i], key);
		write_text(path, text, 0600);
		expect_rest(path, KEYFILE_ERR_FORMAT);
	}
	/* The good one among them reads, its bytes as written. */
	with_key(text, sizeof text,
		 "# kept apart\n[tamwil-rest-keys]\nversion = 1\nkey-2 = @\n"
		 "key-1 = @\n",
		 key);
	write_text(path, text, 0600);
	assert_int_equal(keyfile_read_rest(path, &back), 0);
	assert_int_equal(back.count, 2);
	for (int i = 0; i < KEYFILE_KEYLEN; i++)
		assert_int_equal(back.key[1][i], i);
}

static void test_strerror(void **state)
{
	static const int codes[] = {
	    KEYFILE_OK,		  KEYFILE_ERR_IO,
	    KEYFILE_ERR_FORMAT,	  KEYFILE_ERR_PASSPHRASE,
	    KEYFILE_ERR_EXISTS,	  KEYFILE_ERR_CRYPTO,
	    KEYFILE_ERR_MISMATCH, KEYFILE_ERR_PERMISSIONS,
	};
	size_t n = sizeof codes / sizeof codes[0];
	size_t i, j;

	(void)state;
	for (i = 0; i < n; i++) {
		const char *s = keyfile_strerror(codes[i]);

		assert_non_null(s);
		assert_true(strlen(s) > 5);
		for (j = 0; j < i; j++)
			assert_string_not_equal(s, keyfile_strerror(codes[j]));
	}
	assert_non_null(
	    strstr(keyfile_strerror(KEYFILE_ERR_PERMISSIONS), "chmod 600"));
	assert_non_null(
	    strstr(keyfile_strerror(KEYFILE_ERR_PASSPHRASE), "passphrase"));
	assert_non_null(keyfile_strerror(-99));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_generate),
	    cmocka_unit_test_setup_teardown(test_secret_round_trip, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_secret_file_mode, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_refuses_overwrite, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_passphrase, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_empty_passphrase_means_none,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tampered_private_file, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_sealed_box_tampered, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_permissions, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hostile_argon2_limits, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_secret_format_errors, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_write_refuses_mismatched_keys,
					    setup, teardown),
	    cmocka_unit_test(test_public_round_trip),
	    cmocka_unit_test_setup_teardown(test_public_file, setup, teardown),
	    cmocka_unit_test(test_format_public_refusals),
	    cmocka_unit_test(test_fingerprint),
	    cmocka_unit_test(test_parse_public_refusals),
	    cmocka_unit_test(test_parse_public_tolerates),
	    cmocka_unit_test_setup_teardown(test_data_key, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rest_round_trip, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_rest_permissions, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_rest_corrupt, setup, teardown),
	    cmocka_unit_test(test_strerror),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
