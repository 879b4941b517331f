/*
 * tamwild: the head-office daemon of Tamwil, and the few local commands
 * that prepare and tend its state folder (init, pubkey, enrol, revoke,
 * check, rekey, backup, restore).
 * Messages for people go to stderr as "tamwild: ..."; the daemon logs.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup.h"
#include "check.h"
#include "config.h"
#include "keyfile.h"
#include "log.h"
#include "ops.h"
#include "rekey.h"
#include "reply.h"
#include "role.h"
#include "server.h"
#include "state.h"
#include "store.h"
#include "text.h"

/* Free memory kept by the allocator rather than given back at once. */
#define MAIN_TRIM_THRESHOLD (16 << 20)

#define MAIN_MAX_FLAGS 32
#define MAIN_NAME_MAX  200

static const char main_usage[] =
    "usage: tamwild [--state DIR] [--listen HOST:PORT] [--config FILE]\n"
    "               [--handshake-timeout SECONDS] [--idle-timeout SECONDS]\n"
    "               [--max-connections N] [--max-frame BYTES]\n"
    "               [--max-output BYTES] [--max-per-source N]\n"
    "               [--handshake-rate N] [--handshake-burst N]\n"
    "               [--workers N] [--log-level LEVEL]\n"
    "       tamwild init --state DIR [--admin PUBFILE --admin-name NAME]\n"
    "       tamwild pubkey --state DIR\n"
    "       tamwild enrol --state DIR PUBFILE --name NAME --role ROLE "
    "[--region CODE]\n"
    "       tamwild revoke --state DIR PUBFILE\n"
    "       tamwild check --state DIR\n"
    "       tamwild rekey --state DIR [--retire VERSION]\n"
    "       tamwild backup --state DIR --out FILE\n"
    "       tamwild restore --state DIR --from FILE\n"
    "\n"
    "Runs the Tamwil head-office daemon in the foreground, or tends its\n"
    "state folder. Settings come from the flags, then from FILE (default\n"
    "DIR/tamwild.conf when it exists), then from built-in defaults.\n"
    "\n"
    "examples:\n"
    "  tamwil keygen --out admin.key && tamwil key public admin.key > "
    "admin.pub\n"
    "  tamwild init --state /var/lib/tamwil --admin admin.pub "
    "--admin-name 'Amina Benali'\n"
    "  tamwild pubkey --state /var/lib/tamwil > server.pub\n"
    "  tamwild --state /var/lib/tamwil --listen 0.0.0.0:7405\n"
    "  tamwild rekey --state /var/lib/tamwil\n"
    "  tamwild backup --state /var/lib/tamwil --out "
    "/srv/backup/tamwil-$(date +%F).db\n"
    "  tamwild restore --state /var/lib/tamwil --from "
    "/srv/backup/tamwil-2026-03-31.db\n";

/* One flag given on the command line, applied after the config file. */
struct main_flag {
	const char *name;
	const char *value;
};

static void main_usage_exit(int status)
{
	fputs(main_usage, status == 0 ? stdout : stderr);
	exit(status);
}

/* Reads a public key file or exits with a clear line. */
static void main_read_pub(const char *path, keyfile_public *pub)
{
	int e = keyfile_read_public(path, pub);

	if (e != 0)
		errx(1, "%s: %s", path, keyfile_strerror(e));
}

/*
 * Loads the state folder as the daemon would, without listening, or
 * exits. The caller frees with main_unload().
 */
static server *main_load(const char *dir)
{
	char err[CONFIG_ERR_MAX];
	server *srv = calloc(1, sizeof(*srv));
	config cfg;

	if (srv == NULL)
		errx(1, "out of memory");
	config_defaults(&cfg);
	if (config_set(&cfg, "state", dir, err, sizeof(err)) != 0)
		errx(2, "--state: %s", err);
	if (server_load(srv, &cfg) != 0) {
		server_close(srv);
		free(srv);
		exit(1);
	}
	return srv;
}

static void main_unload(server *srv)
{
	server_close(srv);
	free(srv);
}

/*
 * Enrols a principal by an operation the server signs itself, so that it
 * is an entry of the audit log. Returns 0, or 1 after saying why.
 */
static int main_enrol_signed(server *srv, const keyfile_public *pub,
			     const char *name, const char *role,
			     const char *region, uint64_t *seq)
{
	Tamwil__V1__Operation op = TAMWIL__V1__OPERATION__INIT;
	Tamwil__V1__EnrolPrincipal body = TAMWIL__V1__ENROL_PRINCIPAL__INIT;
	char err[REPLY_MESSAGE_MAX];

	body.name = (char *)name;
	body.role = (Tamwil__V1__Role)role_from_name(role);
	body.region = (char *)(region != NULL ? region : "");
	body.noise_key.data = (uint8_t *)pub->noise_pk;
	body.noise_key.len = sizeof(pub->noise_pk);
	body.sign_key.data = (uint8_t *)pub->sign_pk;
	body.sign_key.len = sizeof(pub->sign_pk);
	op.body_case = TAMWIL__V1__OPERATION__BODY_ENROL_PRINCIPAL;
	op.enrol_principal = &body;
	if (ops_apply_local(srv, &op, seq, err, sizeof(err)) != 0) {
		warnx("cannot enrol %s: %s", name, err);
		return 1;
	}
	return 0;
}

/*
 * Creates a state folder. The first admin is normally enrolled at once;
 * without --admin and --admin-name the folder starts with none, so that a
 * package can create it on install and head office's administrator
 * enrols the first admin later with `tamwild enrol`.
 */
static int main_init(const char *dir, const char *admin, const char *name)
{
	char err[STATE_ERR_MAX], fp[KEYFILE_FINGERPRINT_LEN];
	keyfile_public pub;
	server *srv;
	uint64_t seq;
	int rc;

	if (dir == NULL || (admin == NULL) != (name == NULL))
		errx(2, "init needs --state DIR, and --admin PUBFILE with "
			"--admin-name NAME");
	if (name != NULL && !text_valid_name(name, MAIN_NAME_MAX))
		errx(2,
		     "--admin-name: give a name of 1 to %d bytes of UTF-8 "
		     "text",
		     MAIN_NAME_MAX);
	if (admin != NULL)
		main_read_pub(admin, &pub);
	if (state_init(dir, err, sizeof(err)) != 0)
		errx(1, "%s", err);
	if (admin == NULL) {
		printf("initialised %s, with no admin yet: enrol the first "
		       "with\n  tamwild enrol --state %s PUBFILE --name NAME "
		       "--role admin\nserver public key: %s/%s (give it to "
		       "every client)\n",
		       dir, dir, dir, STATE_SERVER_PUB);
		return 0;
	}
	srv = main_load(dir);
	rc = main_enrol_signed(srv, &pub, name, "admin", NULL, &seq);
	main_unload(srv);
	if (rc != 0)
		return rc;
	keyfile_fingerprint(pub.noise_pk, pub.sign_pk, fp);
	printf("initialised %s\nfirst admin: %s (%s), log entry %llu\n"
	       "server public key: %s/%s (give it to every client)\n",
	       dir, name, fp, (unsigned long long)seq, dir, STATE_SERVER_PUB);
	return 0;
}

static int main_pubkey(const char *dir)
{
	char err[STATE_ERR_MAX], text[KEYFILE_PUBLIC_TEXT_MAX];
	keyfile_secret key;
	keyfile_public pub;
	int len;

	if (dir == NULL)
		errx(2, "pubkey needs --state DIR");
	if (state_load_keys(dir, &key, &pub, NULL, err, sizeof(err)) != 0)
		errx(1, "%s", err);
	sodium_memzero(&key, sizeof(key));
	len = keyfile_format_public(&pub, "Tamwil head office (tamwild)", text,
				    sizeof(text));
	if (len < 0)
		errx(1, "cannot format the public key");
	fwrite(text, 1, (size_t)len, stdout);
	return fflush(stdout) == 0 ? 0 : 1;
}

static int main_enrol(const char *dir, const char *pubfile, const char *name,
		      const char *role, const char *region)
{
	char fp[KEYFILE_FINGERPRINT_LEN];
	keyfile_public pub;
	server *srv;
	uint64_t seq;
	int rc;

	if (dir == NULL || pubfile == NULL || name == NULL || role == NULL)
		errx(2, "enrol needs --state DIR PUBFILE --name NAME --role "
			"ROLE");
	if (role_from_name(role) == 0)
		errx(2,
		     "--role: %s is not a role (coordinator, approver, "
		     "treasurer, auditor or admin)",
		     role);
	if ((strcmp(role, "coordinator") == 0) != (region != NULL))
		errx(2, "--region: a coordinator needs a region, other roles "
			"have none");
	if (!text_valid_name(name, MAIN_NAME_MAX))
		errx(2, "--name: give a name of 1 to %d bytes of UTF-8 text",
		     MAIN_NAME_MAX);
	main_read_pub(pubfile, &pub);
	srv = main_load(dir);
	rc = main_enrol_signed(srv, &pub, name, role, region, &seq);
	main_unload(srv);
	if (rc != 0)
		return rc;
	keyfile_fingerprint(pub.noise_pk, pub.sign_pk, fp);
	printf("enrolled %s as %s (%s), log entry %llu\n", name, role, fp,
	       (unsigned long long)seq);
	return 0;
}

/*
 * Tells the daemon serving dir, if one does, to read the principals
 * again (SIGUSR1), so that it closes the channels of a key just revoked.
 * Returns 0 (told, or none serves dir), or 1 after saying why it could
 * not be told.
 */
static int main_tell_daemon(const char *dir)
{
	char err[STATE_ERR_MAX];
	long pid = 0;
	int rc = state_daemon_pid(dir, &pid, err, sizeof(err));

	if (rc == 1)
		return 0;
	if (rc == 0 && pid > 0) {
		if (kill((pid_t)pid, SIGUSR1) == 0) {
			printf("told tamwild (pid %ld) to close the key's "
			       "channels\n",
			       pid);
			return 0;
		}
		snprintf(err, sizeof(err), "pid %ld: %s", pid, strerror(errno));
	} else if (rc == 0) {
		snprintf(err, sizeof(err),
			 "its process is out of this one's sight");
	}
	warnx("the running tamwild was not told (%s): its channels of this "
	      "key stay open until they end or it is sent SIGUSR1",
	      err);
	return 1;
}

static int main_revoke(const char *dir, const char *pubfile)
{
	Tamwil__V1__Operation op = TAMWIL__V1__OPERATION__INIT;
	Tamwil__V1__RevokePrincipal body = TAMWIL__V1__REVOKE_PRINCIPAL__INIT;
	char err[REPLY_MESSAGE_MAX];
	keyfile_public pub;
	server *srv;
	uint64_t seq;
	int rc;

	if (dir == NULL || pubfile == NULL)
		errx(2, "revoke needs --state DIR PUBFILE");
	main_read_pub(pubfile, &pub);
	body.noise_key.data = pub.noise_pk;
	body.noise_key.len = sizeof(pub.noise_pk);
	op.body_case = TAMWIL__V1__OPERATION__BODY_REVOKE_PRINCIPAL;
	op.revoke_principal = &body;
	srv = main_load(dir);
	rc = ops_apply_local(srv, &op, &seq, err, sizeof(err));
	main_unload(srv);
	if (rc != 0) {
		warnx("cannot revoke the key in %s: %s", pubfile, err);
		return 1;
	}
	printf("revoked the key in %s, log entry %llu\n", pubfile,
	       (unsigned long long)seq);
	return main_tell_daemon(dir);
}

/* Verifies a state folder; exit status 0 when sound, 1 when not. */
static int main_check(const char *dir)
{
	server *srv;
	int rc;

	if (dir == NULL)
		errx(2, "check needs --state DIR");
	srv = main_load(dir);
	rc = check_state(srv, stdout);
	main_unload(srv);
	return rc == 0 ? 0 : 1;
}

/*
 * Rotates the at-rest keys, or retires version retire (NULL: rotate);
 * exit status 0 when done, 1 when not.
 */
static int main_rekey(const char *dir, const char *retire)
{
	char path[4096], *end = NULL;
	unsigned long version = 0;
	server *srv;
	int rc;

	if (dir == NULL)
		errx(2, "rekey needs --state DIR");
	if (retire != NULL) {
		errno = 0;
		version = strtoul(retire, &end, 10);
		if (retire[0] < '0' || retire[0] > '9' || *end != '\0' ||
		    errno != 0 || version >= SEAL_VERSIONS_MAX)
			errx(2,
			     "--retire: '%s' is not an at-rest key version "
			     "(0 to %d)",
			     retire, SEAL_VERSIONS_MAX - 1);
	}
	if (state_path(path, sizeof(path), dir, STATE_DB) != 0 ||
	    access(path, F_OK) != 0)
		errx(1, "%s is not a Tamwil state folder: it has no %s", dir,
		     STATE_DB);
	srv = main_load(dir);
	rc = retire != NULL ? rekey_retire(srv, dir, (unsigned)version, stdout)
			    : rekey_run(srv, dir, stdout);
	main_unload(srv);
	return rc == 0 ? 0 : 1;
}

/* What the settings are made of: the file named, and the flags given. */
struct main_sources {
	const char *config_file; /* NULL: DIR/tamwild.conf if it exists */
	const struct main_flag *flags;
	int nflags;
};

/*
 * Defaults, then the config file, then the flags, into cfg. Returns 0, or
 * -1 with what is wrong in err.
 */
static int main_settings_read(config *cfg, const struct main_sources *src,
			      char *err, size_t err_len)
{
	char why[CONFIG_ERR_MAX], path[4096];

	config_defaults(cfg);
	for (int i = 0; i < src->nflags; i++) {
		if (strcmp(src->flags[i].name, "state") == 0 &&
		    config_set(cfg, "state", src->flags[i].value, why,
			       sizeof(why)) != 0) {
			snprintf(err, err_len, "--state: %s", why);
			return -1;
		}
	}
	if (src->config_file != NULL) {
		if (config_load_file(cfg, src->config_file, 1, err, err_len))
			return -1;
	} else if (state_path(path, sizeof(path), cfg->state_dir,
			      "tamwild.conf") == 0 &&
		   config_load_file(cfg, path, 0, err, err_len) != 0) {
		return -1;
	}
	for (int i = 0; i < src->nflags; i++) {
		char name[32];

		/* The file spells "--max-frame" as "max_frame". */
		snprintf(name, sizeof(name), "%s", src->flags[i].name);
		for (char *p = name; *p; p++) {
			if (*p == '-')
				*p = '_';
		}
		if (config_set(cfg, name, src->flags[i].value, why,
			       sizeof(why))) {
			snprintf(err, err_len, "--%s: %s", src->flags[i].name,
				 why);
			return -1;
		}
	}
	return 0;
}

/* main_settings_read(), exiting on bad input. */
static void main_settings(config *cfg, const struct main_sources *src)
{
	char err[CONFIG_ERR_MAX + 64];

	if (main_settings_read(cfg, src, err, sizeof(err)) != 0)
		errx(2, "%s", err);
}

/* The daemon's reload (SIGHUP): the settings read again. */
static int main_reload(config *cfg, char *err, size_t err_len, void *arg)
{
	return main_settings_read(cfg, arg, err, err_len);
}

static int main_serve(const config *cfg, struct main_sources *src)
{
	char err[STATE_ERR_MAX];
	server *srv;
	int rc = 1, lock = -1;

	log_set_level(cfg->log_level);
	log_set_journal(getenv("JOURNAL_STREAM"));
#ifdef M_TRIM_THRESHOLD
	/*
	 * Every operation frees blocks of tens of KiB (log entries, SQLite's
	 * temporary tables) on threads of their own arenas; with glibc's
	 * default threshold each free gave the top of the arena back to the
	 * kernel (madvise), and the next operation faulted it in again.
	 */
	if (mallopt(M_TRIM_THRESHOLD, MAIN_TRIM_THRESHOLD) != 1)
		log_info("the memory trim threshold could not be set");
#endif
	/*
	 * tamwild revoke and rekey may send SIGUSR1 at any moment, an
	 * administrator SIGHUP: before the loop handles them and after,
	 * they must not end the daemon.
	 */
	signal(SIGHUP, SIG_IGN);
	signal(SIGUSR1, SIG_IGN);
	srv = calloc(1, sizeof(*srv));
	if (srv == NULL)
		errx(1, "out of memory");
	/*
	 * Held until exit: a restore must not swap the database under us.
	 * Taken before the keys are read, so that a rotation that finds no
	 * daemon has written its new key before any daemon reads them.
	 */
	if (state_lock(cfg->state_dir, &lock, err, sizeof(err)) != 0) {
		if (access(cfg->state_dir, F_OK) != 0)
			log_error("%s (is %s initialised? run: tamwild init "
				  "--state %s --admin PUBFILE --admin-name "
				  "NAME)",
				  err, cfg->state_dir, cfg->state_dir);
		else
			log_error("%s", err);
		goto out;
	}
	if (server_open(srv, cfg) != 0 || server_hold_lock(srv, lock) != 0)
		goto out;
	srv->reload = main_reload;
	srv->reload_arg = src;
	if (state_announce(lock, err, sizeof(err)) != 0)
		log_warn("%s: tamwild revoke cannot find this daemon; send it "
			 "SIGUSR1 after revoking a key",
			 err);
	log_info("tamwild %s serving %s (max %d connections)", TAMWIL_VERSION,
		 cfg->state_dir, cfg->max_connections);
	rc = server_run(srv) == 0 ? 0 : 1;
out:
	server_close(srv);
	free(srv);
	log_info(rc == 0 ? "stopped" : "stopped after an error");
	if (lock >= 0)
		close(lock);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"state", required_argument, NULL, 's'},
	    {"listen", required_argument, NULL, 'l'},
	    {"config", required_argument, NULL, 'c'},
	    {"handshake-timeout", required_argument, NULL, 'H'},
	    {"idle-timeout", required_argument, NULL, 'I'},
	    {"max-connections", required_argument, NULL, 'C'},
	    {"max-frame", required_argument, NULL, 'F'},
	    {"max-output", required_argument, NULL, 'O'},
	    {"log-level", required_argument, NULL, 'L'},
	    {"max-per-source", required_argument, NULL, 'P'},
	    {"handshake-rate", required_argument, NULL, 'T'},
	    {"handshake-burst", required_argument, NULL, 'B'},
	    {"workers", required_argument, NULL, 'W'},
	    {"admin", required_argument, NULL, 'a'},
	    {"admin-name", required_argument, NULL, 'n'},
	    {"name", required_argument, NULL, 'N'},
	    {"role", required_argument, NULL, 'r'},
	    {"region", required_argument, NULL, 'R'},
	    {"out", required_argument, NULL, 'o'},
	    {"from", required_argument, NULL, 'f'},
	    {"retire", required_argument, NULL, 'X'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0}};
	struct main_flag flags[MAIN_MAX_FLAGS];
	const char *state = NULL, *config_file = NULL, *admin = NULL;
	const char *admin_name = NULL, *name = NULL, *role = NULL;
	const char *region = NULL, *cmd = NULL, *arg = NULL;
	const char *out = NULL, *from = NULL, *retire = NULL;
	config cfg;
	int ch, nflags = 0, idx;

	/* The database and keys hold personal data: nobody else reads them. */
	umask(077);
	if (sodium_init() < 0)
		errx(1, "libsodium cannot start");
	if (store_library_init() != 0)
		errx(1, "SQLite cannot start");
	while ((ch = getopt_long(argc, argv, "h", opts, &idx)) != -1) {
		switch (ch) {
		case 's':
			state = optarg;
			/* FALLTHROUGH */
		case 'l':
		case 'H':
		case 'I':
		case 'C':
		case 'F':
		case 'O':
		case 'L':
		case 'P':
		case 'T':
		case 'B':
		case 'W':
			if (nflags == MAIN_MAX_FLAGS)
				errx(2, "too many flags");
			flags[nflags].name = opts[idx].name;
			flags[nflags++].value = optarg;
			break;
		case 'c':
			config_file = optarg;
			break;
		case 'a':
			admin = optarg;
			break;
		case 'n':
			admin_name = optarg;
			break;
		case 'N':
			name = optarg;
			break;
		case 'r':
			role = optarg;
			break;
		case 'R':
			region = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'f':
			from = optarg;
			break;
		case 'X':
			retire = optarg;
			break;
		case 'h':
			main_usage_exit(0);
			break;
		case 'V':
			printf("tamwild %s\n", TAMWIL_VERSION);
			return 0;
		default:
			main_usage_exit(2);
		}
	}
	if (optind < argc)
		cmd = argv[optind++];
	if (optind < argc)
		arg = argv[optind++];
	if (optind < argc)
		errx(2, "unexpected argument '%s' (see tamwild --help)",
		     argv[optind]);
	if (cmd == NULL) {
		struct main_sources src = {config_file, flags, nflags};

		main_settings(&cfg, &src);
		return main_serve(&cfg, &src);
	}
	if (strcmp(cmd, "init") == 0 && arg == NULL)
		return main_init(state, admin, admin_name);
	if (strcmp(cmd, "pubkey") == 0 && arg == NULL)
		return main_pubkey(state);
	if (strcmp(cmd, "enrol") == 0)
		return main_enrol(state, arg, name, role, region);
	if (strcmp(cmd, "revoke") == 0)
		return main_revoke(state, arg);
	if (strcmp(cmd, "check") == 0 && arg == NULL)
		return main_check(state);
	if (strcmp(cmd, "rekey") == 0 && arg == NULL)
		return main_rekey(state, retire);
	if (strcmp(cmd, "backup") == 0 && arg == NULL) {
		if (state == NULL || out == NULL)
			errx(2, "backup needs --state DIR --out FILE");
		return backup_take(state, out, stdout);
	}
	if (strcmp(cmd, "restore") == 0 && arg == NULL) {
		if (state == NULL || from == NULL)
			errx(2, "restore needs --state DIR --from FILE");
		return backup_restore(state, from, stdout);
	}
	errx(2, "unknown command '%s' (see tamwild --help)", cmd);
}
