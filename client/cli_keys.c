/*
 * tamwil keygen, tamwil key public, and loading private key files; see
 * cli_keys.h.
 */
#include "cli_keys.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "cli_passphrase.h"
#include "cli_util.h"

#define PUBLIC_COMMENT	 "Tamwil public key: send this file to head office"
#define PASSPHRASE_TRIES 3

void cli_keygen_usage(FILE *out)
{
	fputs("Usage: tamwil keygen --out FILE [--protect]\n"
	      "\n"
	      "Makes a new private key file (mode 0600; an existing file is\n"
	      "never overwritten) and prints its fingerprint. Head office\n"
	      "enrols the public half, printed by `tamwil key public FILE`.\n"
	      "\n"
	      "Options:\n"
	      "  -o, --out FILE   where to write the private key file\n"
	      "  -p, --protect    seal it under a passphrase, asked twice on\n"
	      "                   the terminal or taken from "
	      "$TAMWIL_PASSPHRASE\n"
	      "  -h, --help       show this help\n"
	      "\n"
	      "Examples:\n"
	      "  tamwil keygen --out ~/.config/tamwil/fatima.key --protect\n"
	      "  tamwil key public ~/.config/tamwil/fatima.key > fatima.pub\n",
	      out);
}

void cli_key_usage(FILE *out)
{
	fputs("Usage: tamwil key public [FILE] [--out PUBFILE]\n"
	      "\n"
	      "Prints the public key file of the private key FILE (by default\n"
	      "the key of --key or of the configuration file). Send it to\n"
	      "head office to be enrolled; it holds no secret.\n"
	      "\n"
	      "Options:\n"
	      "  -o, --out PUBFILE   write it to PUBFILE instead (never\n"
	      "                      overwrites)\n"
	      "  -h, --help          show this help\n"
	      "\n"
	      "A protected FILE takes its passphrase from $TAMWIL_PASSPHRASE,\n"
	      "else from a prompt on the terminal.\n"
	      "\n"
	      "Examples:\n"
	      "  tamwil key public fatima.key > fatima.pub\n"
	      "  tamwil key public --out fatima.pub\n",
	      out);
}

/* Says why a key file operation on path failed; returns -1. */
static int key_failure(const char *what, const char *path, int rc)
{
	if (rc == KEYFILE_ERR_IO && errno != 0) {
		char text[128];

		cli_fail("cannot %s %s: %s", what, path,
			 cli_strerror(errno, text, sizeof(text)));
	} else if (rc == KEYFILE_ERR_EXISTS)
		cli_fail("%s already exists: refusing to overwrite it", path);
	else
		cli_fail("cannot %s %s: %s", what, path, keyfile_strerror(rc));
	return -1;
}

/* Tries passphrases typed at the terminal; same contract as the caller. */
static int load_prompted(const char *path, keyfile_secret *k)
{
	char pass[CLI_PASSPHRASE_MAX], prompt[256];
	int rc = KEYFILE_ERR_PASSPHRASE, i;

	snprintf(prompt, sizeof(prompt), "Passphrase for %s: ", path);
	for (i = 0; i < PASSPHRASE_TRIES && rc == KEYFILE_ERR_PASSPHRASE; i++) {
		if (i > 0)
			fputs("Wrong passphrase; try again.\n", stderr);
		if (cli_passphrase_prompt(prompt, pass, sizeof(pass)) != 0)
			break;
		rc = keyfile_read_secret(path, pass, k);
	}
	sodium_memzero(pass, sizeof(pass));
	if (rc == KEYFILE_ERR_PASSPHRASE) {
		cli_fail("wrong passphrase for %s", path);
		return -1;
	}
	return rc == KEYFILE_OK ? 0 : key_failure("read", path, rc);
}

int cli_load_secret(const char *path, keyfile_secret *k)
{
	char pass[CLI_PASSPHRASE_MAX];
	int rc;

	errno = 0;
	rc = keyfile_is_protected(path);
	if (rc < 0)
		return key_failure("read", path, rc);
	if (rc == 0) {
		rc = keyfile_read_secret(path, NULL, k);
		return rc == KEYFILE_OK ? 0 : key_failure("read", path, rc);
	}
	if (cli_passphrase_from_env(pass, sizeof(pass)) == 0) {
		rc = keyfile_read_secret(path, pass, k);
		sodium_memzero(pass, sizeof(pass));
		if (rc == KEYFILE_ERR_PASSPHRASE) {
			cli_fail("wrong passphrase for %s (from %s)", path,
				 CLI_PASSPHRASE_ENV);
			return -1;
		}
		return rc == KEYFILE_OK ? 0 : key_failure("read", path, rc);
	}
	if (cli_passphrase_can_prompt())
		return load_prompted(path, k);
	cli_fail("%s is protected by a passphrase: set %s or run on a "
		 "terminal",
		 path, CLI_PASSPHRASE_ENV);
	return -1;
}

int cli_keygen_write(const char *path, int protect)
{
	char pass[CLI_PASSPHRASE_MAX] = "";
	char fp[KEYFILE_FINGERPRINT_LEN];
	keyfile_secret k;
	int rc, status = CLI_EXIT_FAIL;

	if (protect && cli_passphrase_new(path, pass, sizeof(pass)) != 0)
		return CLI_EXIT_FAIL;
	rc = keyfile_generate(&k);
	if (rc != KEYFILE_OK) {
		cli_fail("cannot make a key: %s", keyfile_strerror(rc));
		goto out;
	}
	errno = 0;
	rc = keyfile_write_secret(path, &k, protect ? pass : NULL);
	if (rc != KEYFILE_OK) {
		key_failure("write", path, rc);
		goto out;
	}
	keyfile_fingerprint(k.noise_pk, k.sign_pk, fp);
	printf("wrote private key %s%s\n", path,
	       protect ? ", protected by a passphrase" : "");
	printf("fingerprint %s\n", fp);
	printf("send the output of `tamwil key public %s` to head office\n",
	       path);
	status = CLI_EXIT_OK;
out:
	sodium_memzero(&k, sizeof(k));
	sodium_memzero(pass, sizeof(pass));
	return status;
}

int cli_keygen_main(const struct cli_globals *g, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"out", required_argument, NULL, 'o'},
	    {"protect", no_argument, NULL, 'p'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	const char *out = NULL;
	int protect = 0, c;

	(void)g;
	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":o:ph", opts, NULL)) != -1) {
		if (c == 'o')
			out = optarg;
		else if (c == 'p')
			protect = 1;
		else if (c == 'h')
			return cli_show_usage(cli_keygen_usage);
		else
			return cli_bad_option("keygen", c, argv);
	}
	if (out == NULL && optind < argc)
		out = argv[optind++];
	if (optind < argc)
		return cli_usage_error("keygen", "unexpected argument '%s'",
				       argv[optind]);
	if (out == NULL)
		return cli_usage_error("keygen", "say where to write the key: "
						 "tamwil keygen --out FILE");
	return cli_keygen_write(out, protect);
}

/*
 * Writes text to path, created new with mode 0644. Returns 0, or -1
 * (printed).
 */
static int write_new_file(const char *path, const char *text, size_t len)
{
	char msg[128];
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	ssize_t n;

	if (fd < 0 && errno == EEXIST) {
		cli_fail("%s already exists: refusing to overwrite it", path);
		return -1;
	}
	if (fd < 0)
		goto fail;
	while (len > 0) {
		n = write(fd, text, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(fd);
			goto fail;
		}
		text += n;
		len -= (size_t)n;
	}
	if (close(fd) == 0)
		return 0;
fail:
	cli_fail("cannot write %s: %s", path,
		 cli_strerror(errno, msg, sizeof(msg)));
	return -1;
}

int cli_key_public_write(const char *path, const char *out)
{
	char text[KEYFILE_PUBLIC_TEXT_MAX];
	keyfile_secret k;
	keyfile_public pub;
	int len;

	if (cli_load_secret(path, &k) != 0)
		return CLI_EXIT_FAIL;
	keyfile_public_of(&k, &pub);
	sodium_memzero(&k, sizeof(k));
	len = keyfile_format_public(&pub, PUBLIC_COMMENT, text, sizeof(text));
	if (len < 0)
		return cli_fail("cannot format the public key of %s", path);
	if (out != NULL)
		return write_new_file(out, text, (size_t)len) == 0
			   ? CLI_EXIT_OK
			   : CLI_EXIT_FAIL;
	fwrite(text, 1, (size_t)len, stdout);
	return CLI_EXIT_OK;
}

/* tamwil key public [FILE] [--out PUBFILE] */
static int key_public_main(const struct cli_globals *g, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"out", required_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	struct cli_settings s;
	const char *out = NULL, *path = NULL;
	int c;

	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":o:h", opts, NULL)) != -1) {
		if (c == 'o')
			out = optarg;
		else if (c == 'h')
			return cli_show_usage(cli_key_usage);
		else
			return cli_bad_option("key", c, argv);
	}
	if (optind < argc)
		path = argv[optind++];
	if (optind < argc)
		return cli_usage_error("key", "unexpected argument '%s'",
				       argv[optind]);
	if (path == NULL) {
		if (cli_settings_resolve(g, CLI_NEED_KEY, &s) != 0)
			return CLI_EXIT_FAIL;
		path = s.key;
	}
	return cli_key_public_write(path, out);
}

int cli_key_main(const struct cli_globals *g, int argc, char **argv)
{
	if (argc < 2)
		return cli_usage_error("key", "say what to do: tamwil key "
					      "public [FILE]");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0)
		return cli_show_usage(cli_key_usage);
	if (strcmp(argv[1], "public") == 0)
		return key_public_main(g, argc - 1, argv + 1);
	return cli_usage_error("key",
			       "unknown key command '%s' (known: "
			       "public)",
			       argv[1]);
}

int cli_load_public(const char *path, keyfile_public *pub)
{
	int rc;

	errno = 0;
	rc = keyfile_read_public(path, pub);
	if (rc == KEYFILE_OK)
		return 0;
	if (rc == KEYFILE_ERR_IO && errno != 0) {
		char text[128];

		cli_fail("cannot read the server key %s: %s", path,
			 cli_strerror(errno, text, sizeof(text)));
	} else {
		cli_fail("cannot read the server key %s: %s", path,
			 keyfile_strerror(rc));
	}
	return -1;
}
