/*
 * End-to-end tests of the domain: programmes, applications, approvals,
 * disbursements, repayments, budgets and reports, through a real tamwild
 * on 127.0.0.1 and real tamwil processes, one key per principal:
 *
 *   admin, the coordinators of LAG and TTA, two approvers, two treasurers
 *   and an auditor (and, for revocation, a second coordinator of LAG).
 *
 * The keys are made once for the group. Each test gets a world of its own:
 * a fresh state folder ("tamwild init"), a daemon, the two regions and the
 * principals enrolled through "tamwil enrol", so that the figures a test
 * reads are its own. The teardown kills the daemon whatever happened.
 *
 * Every refusal is checked for its exact code ("tamwil: refused (CODE):"
 * on stderr, non-zero exit) and for leaving everything as it was: the
 * admin's --json budget, --json report and --json show of the applications
 * concerned are the same text before and after.
 *
 * TAMWIL_E2E_KEEP=1 keeps the temporary folder (state, logs) for a look.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "harness.h"
#include "harness_domain.h"
#include "signop.h"

#define ADMIN_NAME "Amina El Idrissi"
#define REF_MAX	   64
#define IO_MS	   10000
#define RUN_MS	   30000
/* Processes run at once for bulk work (submissions, approvals). */
#define PARALLEL 8

enum mode { TABLE, JSON, CSV };

/* The principals, by index. */
enum who {
	ADMIN,
	COORD_LAG,
	COORD_TTA,
	APPROVER1,
	APPROVER2,
	TREASURER1,
	TREASURER2,
	AUDITOR,
	COORD_LAG2, /* enrolled by the revocation test only */
	STRANGER,   /* never enrolled */
	N_WHO
};

struct principal {
	const char *file;
	const char *name;
	const char *role;
	const char *region;
	int enrol; /* enrolled in every world */
};

static const struct principal P[N_WHO] = {
    [ADMIN] = {"admin", ADMIN_NAME, "admin", NULL, 0},
    [COORD_LAG] = {"coord-lag", "Fatima Zahra Bennani", "coordinator", "LAG",
		   1},
    [COORD_TTA] = {"coord-tta", "Youssef Amrani", "coordinator", "TTA", 1},
    [APPROVER1] = {"approver1", "Saïd Ouahbi", "approver", NULL, 1},
    [APPROVER2] = {"approver2", "Nadia Berrada", "approver", NULL, 1},
    [TREASURER1] = {"treasurer1", "Karim Tazi", "treasurer", NULL, 1},
    [TREASURER2] = {"treasurer2", "Leïla Chraïbi", "treasurer", NULL, 1},
    [AUDITOR] = {"auditor", "Omar Benjelloun", "auditor", NULL, 1},
    [COORD_LAG2] = {"coord-lag2", "Hind Alaoui", "coordinator", "LAG", 0},
    [STRANGER] = {"stranger", "Nobody", "auditor", NULL, 0},
};

struct fixture {
	char dir[H_PATH_MAX];
	char home[H_PATH_MAX + 8];
	const char *env[3]; /* HOME in the temp dir, no TAMWIL_CONFIG */
	char key[N_WHO][H_PATH_MAX];
	char pub[N_WHO][H_PATH_MAX];
	/* the world of the running test */
	int n_world;
	char wdir[H_PATH_MAX];
	char state[H_PATH_MAX];
	char server_pub[H_PATH_MAX];
	char log[H_PATH_MAX];
	char server[64];
	h_daemon d;
	hd_result r;	   /* the last command's result */
	char last[4096];   /* the last command, for messages */
	int n_ids;	   /* national IDs handed out */
	uint64_t next_rid; /* raw request ids */
};

/* ---- running tamwil ------------------------------------------------------ */

/* Starts a tamwil command line as who, with the output mode. */
static void base_cmd(struct fixture *f, hd_cmd *c, int who, int mode)
{
	hd_cmd_init(c, h_tamwil_path());
	hd_cmd_add(c, "--server");
	hd_cmd_add(c, f->server);
	hd_cmd_add(c, "--server-key");
	hd_cmd_add(c, f->server_pub);
	hd_cmd_add(c, "--key");
	hd_cmd_add(c, f->key[who]);
	if (mode == JSON)
		hd_cmd_add(c, "--json");
	else if (mode == CSV)
		hd_cmd_add(c, "--csv");
}

/* Runs c into f->r, remembering its text. */
static hd_result *run_cmd(struct fixture *f, const hd_cmd *c)
{
	hd_cmd_text(c, f->last, sizeof(f->last));
	if (c->overflow)
		H_FAIL("command line too long: %s", f->last);
	if (hd_run(&f->r, RUN_MS, f->env, c) != 0)
		H_FAIL("cannot run: %s", f->last);
	return &f->r;
}

static hd_result *cli_va(struct fixture *f, int who, int mode, va_list ap)
{
	hd_cmd c;

	base_cmd(f, &c, who, mode);
	hd_cmd_add_va(&c, ap);
	return run_cmd(f, &c);
}

/* Prints the last command and its result, then fails with msg. */
static void fail_last(struct fixture *f, const char *msg)
{
	fprintf(stderr, "---- command: %s\n", f->last);
	hd_result_print(&f->r, "tamwil");
	H_FAIL("%s", msg);
}

static void expect_ok(struct fixture *f)
{
	if (!hd_ok(&f->r))
		fail_last(f, "expected success");
}

/* "tamwil ARGS..." as who must succeed; returns its result. */
__attribute__((sentinel)) static hd_result *ok_(struct fixture *f, int who,
						int mode, ...)
{
	va_list ap;

	va_start(ap, mode);
	cli_va(f, who, mode, ap);
	va_end(ap);
	expect_ok(f);
	return &f->r;
}
#define OK(f, who, mode, ...) ok_(f, who, mode, __VA_ARGS__, (char *)NULL)

/* "tamwil ARGS..." as who, whatever happens. */
__attribute__((sentinel)) static hd_result *run_(struct fixture *f, int who,
						 int mode, ...)
{
	va_list ap;

	va_start(ap, mode);
	cli_va(f, who, mode, ap);
	va_end(ap);
	return &f->r;
}
#define RUN(f, who, mode, ...) run_(f, who, mode, __VA_ARGS__, (char *)NULL)

/* 1 if the last result is the server's refusal with code. */
static int is_refused(const hd_result *r, const char *code)
{
	char want[128];

	snprintf(want, sizeof(want), "tamwil: refused (%s): ", code);
	return r->exited && !r->timed_out && r->status != 0 &&
	       strstr(r->err, want) != NULL;
}

/* The last command must have been refused by the server with code. */
static void expect_refused(struct fixture *f, const char *code)
{
	char msg[256];

	if (!is_refused(&f->r, code)) {
		snprintf(msg, sizeof(msg),
			 "expected a non-zero exit and \"tamwil: refused "
			 "(%s): ...\" on stderr",
			 code);
		fail_last(f, msg);
	}
}

/* 1 if the client itself refused (exit 2), not the server. */
static int is_usage(const hd_result *r)
{
	return r->exited && !r->timed_out && r->status == 2 && r->err_len > 0 &&
	       strstr(r->err, "refused (") == NULL;
}

/*
 * The client itself must have refused (exit 2) with a message on stderr
 * that mentions word (case-insensitive; NULL: any).
 */
static void expect_usage(struct fixture *f, const char *word)
{
	char msg[256];
	size_t wl = word ? strlen(word) : 0;
	int found = word == NULL;

	for (const char *p = f->r.err; !found && *p != '\0'; p++)
		found = strncasecmp(p, word, wl) == 0;
	if (!is_usage(&f->r) || !found) {
		snprintf(msg, sizeof(msg),
			 "expected the client to refuse it itself: exit 2 "
			 "and a message about \"%s\" on stderr",
			 word ? word : "");
		fail_last(f, msg);
	}
}

/* Refused either by the client (exit 2) or by the server with code. */
static void expect_refused_anywhere(struct fixture *f, const char *code)
{
	char msg[256];

	if (!is_usage(&f->r) && !is_refused(&f->r, code)) {
		snprintf(msg, sizeof(msg),
			 "expected a refusal: by the client (exit 2) or by "
			 "the server (\"refused (%s)\")",
			 code);
		fail_last(f, msg);
	}
}

#define REFUSED(f, code, who, ...)                                             \
	do {                                                                   \
		RUN(f, who, TABLE, __VA_ARGS__);                               \
		expect_refused(f, code);                                       \
	} while (0)

/* Fails unless hay contains needle. */
static void expect_contains(struct fixture *f, const char *hay,
			    const char *needle)
{
	char msg[512];

	if (strstr(hay, needle) == NULL) {
		snprintf(msg, sizeof(msg), "expected \"%s\" in the output",
			 needle);
		fail_last(f, msg);
	}
}

/* Parses the last command's stdout as JSON (free with json_decref). */
static json_t *last_json(struct fixture *f)
{
	json_t *j = hd_json_parse(f->r.out);

	if (j == NULL)
		fail_last(f, "stdout is not JSON");
	return j;
}

/* ---- the world: a state folder, a daemon, regions and principals -------- */

static void run_tamwild(struct fixture *f, const char *const args[])
{
	hd_cmd c;

	hd_cmd_init(&c, h_tamwild_path());
	for (int i = 0; args[i] != NULL; i++)
		hd_cmd_add(&c, args[i]);
	run_cmd(f, &c);
	expect_ok(f);
}

/* Enrols who through "tamwil enrol" as the admin. */
static void enrol(struct fixture *f, int who)
{
	if (P[who].region != NULL)
		OK(f, ADMIN, TABLE, "enrol", f->pub[who], "--name", P[who].name,
		   "--role", P[who].role, "--region", P[who].region);
	else
		OK(f, ADMIN, TABLE, "enrol", f->pub[who], "--name", P[who].name,
		   "--role", P[who].role);
}

static int world_setup(void **state)
{
	struct fixture *f = *state;
	char name[32];

	/* A world whose setup failed had no teardown. */
	h_daemon_kill(&f->d);
	snprintf(name, sizeof(name), "world-%02d", ++f->n_world);
	if (h_path(f->wdir, sizeof(f->wdir), f->dir, name) != 0 ||
	    mkdir(f->wdir, 0700) != 0 ||
	    h_path(f->state, sizeof(f->state), f->wdir, "state") != 0 ||
	    h_path(f->server_pub, sizeof(f->server_pub), f->wdir,
		   "server.pub") != 0 ||
	    h_path(f->log, sizeof(f->log), f->wdir, "tamwild.log") != 0)
		return -1;
	const char *init[] = {"init",	  "--state",	 f->state,
			      "--admin",  f->pub[ADMIN], "--admin-name",
			      ADMIN_NAME, NULL};
	run_tamwild(f, init);
	const char *pubkey[] = {"pubkey", "--state", f->state, NULL};
	run_tamwild(f, pubkey);
	if (h_write_file(f->server_pub, f->r.out) != 0)
		return -1;
	if (h_daemon_start(&f->d, f->state, f->log, NULL, f->env) != 0) {
		fprintf(stderr, "tamwild did not start\n");
		return -1;
	}
	snprintf(f->server, sizeof(f->server), "127.0.0.1:%d", f->d.port);
	OK(f, ADMIN, TABLE, "region", "add", "LAG", "Laâyoune-Sakia El Hamra");
	OK(f, ADMIN, TABLE, "region", "add", "TTA",
	   "Tanger-Tétouan-Al Hoceïma");
	for (int w = 0; w < N_WHO; w++)
		if (P[w].enrol)
			enrol(f, w);
	return 0;
}

static int world_teardown(void **state)
{
	struct fixture *f = *state;

	h_daemon_kill(&f->d);
	if (f->wdir[0] != '\0' && getenv("TAMWIL_E2E_KEEP") == NULL)
		h_tmpdir_remove(f->wdir);
	f->wdir[0] = '\0';
	return 0;
}

static int group_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL || sodium_init() < 0) {
		free(f);
		return -1;
	}
	*state = f;
	if (h_tamwild_path() == NULL || h_tamwil_path() == NULL) {
		fprintf(stderr, "set TAMWILD and TAMWIL to the binaries\n");
		return -1;
	}
	if (h_tmpdir_create(f->dir, sizeof(f->dir)) != 0)
		return -1;
	snprintf(f->home, sizeof(f->home), "HOME=%s", f->dir);
	f->env[0] = f->home;
	f->env[1] = "TAMWIL_CONFIG";
	f->env[2] = NULL;
	f->next_rid = 1;
	for (int w = 0; w < N_WHO; w++)
		if (h_keygen(f->dir, P[w].file, f->env, f->key[w], f->pub[w]) !=
		    0)
			return -1;
	return 0;
}

static int group_teardown(void **state)
{
	struct fixture *f = *state;

	if (f == NULL)
		return 0;
	h_daemon_kill(&f->d);
	if (f->dir[0] != '\0' && getenv("TAMWIL_E2E_KEEP") == NULL)
		h_tmpdir_remove(f->dir);
	hd_result_free(&f->r);
	free(f);
	*state = NULL;
	return 0;
}

/* ---- programmes and applications ---------------------------------------- */

/* "programme add CODE" in MAD with an envelope and a ceiling. */
static void programme(struct fixture *f, const char *code, const char *envelope,
		      const char *ceiling)
{
	OK(f, ADMIN, TABLE, "programme", "add", code, "--name",
	   "Programme d'appui aux micro-projets", "--currency", "MAD",
	   "--envelope", envelope, "--ceiling", ceiling);
}

/* What goes into "tamwil submit"; NULL fields are left out. */
struct app {
	const char *programme;
	const char *region;
	const char *national_id;
	const char *name;
	const char *sex;
	const char *birth_date;
	const char *category;
	const char *sector;
	const char *activity;
	const char *amount;
	const char *contribution;
	char id_buf[32];
};

/* A plausible application with a national ID never used before. */
static void app_init(struct fixture *f, struct app *a, const char *prog,
		     const char *amount)
{
	memset(a, 0, sizeof(*a));
	snprintf(a->id_buf, sizeof(a->id_buf), "JB%06d", ++f->n_ids);
	a->programme = prog;
	a->national_id = a->id_buf;
	a->name = "Khadija Alaoui";
	a->sex = "F";
	a->birth_date = "1988-03-21";
	a->category = "rural_woman";
	a->sector = "crafts";
	a->activity = "Atelier de tissage de tapis";
	a->amount = amount;
}

static void submit_cmd(struct fixture *f, hd_cmd *c, int who,
		       const struct app *a)
{
	base_cmd(f, c, who, TABLE);
	hd_cmd_add(c, "submit");
#define FIELD(flag, v)                                                         \
	do {                                                                   \
		if ((v) != NULL) {                                             \
			hd_cmd_add(c, flag);                                   \
			hd_cmd_add(c, v);                                      \
		}                                                              \
	} while (0)
	FIELD("--programme", a->programme);
	FIELD("--national-id", a->national_id);
	FIELD("--name", a->name);
	FIELD("--sex", a->sex);
	FIELD("--birth-date", a->birth_date);
	FIELD("--category", a->category);
	FIELD("--sector", a->sector);
	FIELD("--activity", a->activity);
	FIELD("--amount", a->amount);
	FIELD("--region", a->region);
	FIELD("--contribution", a->contribution);
#undef FIELD
}

/* The last non-empty line of text into out; 0 or -1. */
static int last_line(const char *text, char *out, size_t cap)
{
	const char *end = text + strlen(text), *start;
	size_t len;

	while (end > text && (end[-1] == '\n' || end[-1] == '\r'))
		end--;
	start = end;
	while (start > text && start[-1] != '\n')
		start--;
	len = (size_t)(end - start);
	if (len == 0 || len >= cap)
		return -1;
	memcpy(out, start, len);
	out[len] = '\0';
	return 0;
}

/* 1 if ref reads REGION-YYYY-NNNNNN for region. */
static int ref_valid(const char *ref, const char *region)
{
	size_t rl = strlen(region);

	if (strncmp(ref, region, rl) != 0 || ref[rl] != '-' ||
	    strlen(ref) != rl + 12 || ref[rl + 5] != '-')
		return 0;
	for (size_t i = rl + 1; ref[i] != '\0'; i++)
		if (i != rl + 5 && (ref[i] < '0' || ref[i] > '9'))
			return 0;
	return 1;
}

/* Reads the reference printed by a successful submit into ref. */
static int submit_ref(const hd_result *r, const char *region, char *ref)
{
	return hd_ok(r) && last_line(r->out, ref, REF_MAX) == 0 &&
		       ref_valid(ref, region)
		   ? 0
		   : -1;
}

/* Submits a as who; ref receives the new application's reference. */
static void submit(struct fixture *f, int who, const struct app *a, char *ref)
{
	const char *region = a->region ? a->region : P[who].region;
	hd_cmd c;

	submit_cmd(f, &c, who, a);
	run_cmd(f, &c);
	expect_ok(f);
	if (submit_ref(&f->r, region, ref) != 0)
		fail_last(f, "the last line of stdout is not the reference "
			     "REGION-YYYY-NNNNNN");
}

/* Submits a as who and expects the refusal code. */
static void submit_refused(struct fixture *f, int who, const struct app *a,
			   const char *code)
{
	hd_cmd c;

	submit_cmd(f, &c, who, a);
	run_cmd(f, &c);
	expect_refused(f, code);
}

/* ---- what must not change ----------------------------------------------- */

/*
 * The admin's view of everything a refusal could touch: --json budget,
 * --json report --by region and --json show of ref1 and ref2 (either may
 * be NULL). Returns a string to free.
 */
static char *snapshot(struct fixture *f, const char *ref1, const char *ref2)
{
	const char *refs[2] = {ref1, ref2};
	size_t cap = 1 << 16, len = 0;
	char *s = malloc(cap);
	hd_result *r;

	assert_non_null(s);
	s[0] = '\0';
	for (int i = -2; i < 2; i++) {
		size_t n;

		if (i == -2)
			r = OK(f, ADMIN, JSON, "budget");
		else if (i == -1)
			r = OK(f, ADMIN, JSON, "report", "--by", "region");
		else if (refs[i] != NULL)
			r = OK(f, ADMIN, JSON, "show", refs[i]);
		else
			continue;
		n = strlen(r->out);
		if (len + n + 64 > cap) {
			char *t;

			cap = 2 * (len + n + 64);
			t = realloc(s, cap);
			assert_non_null(t);
			s = t;
		}
		len += (size_t)snprintf(s + len, cap - len, "==== %d\n%s\n", i,
					r->out);
	}
	return s;
}

/* Fails if the snapshot differs from before; frees before. */
static void expect_unchanged(struct fixture *f, char *before, const char *ref1,
			     const char *ref2)
{
	char *after = snapshot(f, ref1, ref2);

	if (strcmp(before, after) != 0) {
		fprintf(stderr, "---- before:\n%s\n---- after:\n%s\n", before,
			after);
		free(before);
		free(after);
		H_FAIL("a refused command changed the state (last command: "
		       "%s)",
		       f->last);
	}
	free(before);
	free(after);
}

/*
 * Submits a as who, expecting the refusal code and no change to ref1,
 * ref2 (either may be NULL), the budgets and the reports.
 */
static void submit_refused_nochange(struct fixture *f, int who,
				    const struct app *a, const char *code,
				    const char *ref1, const char *ref2)
{
	char *snap = snapshot(f, ref1, ref2);

	submit_refused(f, who, a, code);
	expect_unchanged(f, snap, ref1, ref2);
}

/*
 * Runs a command that must be refused with code and change nothing of
 * ref1, ref2, the budgets and the reports.
 */
#define REFUSED_NOCHANGE(f, code, r1, r2, who, ...)                            \
	do {                                                                   \
		char *snap_ = snapshot(f, r1, r2);                             \
		RUN(f, who, TABLE, __VA_ARGS__);                               \
		expect_refused(f, code);                                       \
		expect_unchanged(f, snap_, r1, r2);                            \
	} while (0)

/* The integer key of programme prog in the admin's --json budget. */
static int64_t budget_value(struct fixture *f, const char *prog,
			    const char *key)
{
	json_t *j, *p;
	int64_t v;
	char msg[256];

	OK(f, ADMIN, JSON, "budget");
	j = last_json(f);
	p = hd_json_find(j, "code", prog);
	if (p == NULL || hd_json_int(p, key, &v) != 0) {
		json_decref(j);
		snprintf(msg, sizeof(msg),
			 "no programme \"code\": \"%s\" with an integer \"%s\"",
			 prog, key);
		fail_last(f, msg);
	}
	json_decref(j);
	return v;
}

/* ---- raw operations ------------------------------------------------------ */

static void op_init(Tamwil__V1__Operation *op, uint8_t key[16])
{
	tamwil__v1__operation__init(op);
	signop_new_idempotency_key(key);
	op->idempotency_key.data = key;
	op->idempotency_key.len = SIGNOP_IDEMPOTENCY_LEN;
	op->client_time = (int64_t)time(NULL);
}

static void read_secret(struct fixture *f, int who, keyfile_secret *k)
{
	assert_int_equal(keyfile_read_secret(f->key[who], NULL, k), KEYFILE_OK);
}

/* Signs op as who, sends it on a connection of its own, returns the answer. */
static Tamwil__V1__Response *raw_op(struct fixture *f, int who,
				    const Tamwil__V1__Operation *op)
{
	Tamwil__V1__SignedOperation sop;
	Tamwil__V1__Request req;
	Tamwil__V1__Response *resp = NULL;
	keyfile_secret k;
	uint8_t *bytes, sig[SIGNOP_SIGLEN];
	size_t len;
	int rc;

	read_secret(f, who, &k);
	assert_int_equal(hd_op_sign(op, &k, &bytes, &len, sig), 0);
	hd_signed_request(&req, &sop, f->next_rid++, bytes, len, k.sign_pk,
			  sig);
	rc = hd_request(f->d.port, f->key[who], f->server_pub, &req, &resp,
			IO_MS);
	free(bytes);
	sodium_memzero(&k, sizeof(k));
	if (rc != H_IO_OK)
		H_FAIL("raw operation as %s: no answer (%d)", P[who].file, rc);
	return resp;
}

static const char *code_name(int code)
{
	const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
	    &tamwil__v1__error_code__descriptor, code);

	return v ? v->name : "?";
}

/* resp must be an Error with code; frees resp. */
static void expect_error(Tamwil__V1__Response *resp, Tamwil__V1__ErrorCode code,
			 const char *what)
{
	if (resp->body_case != TAMWIL__V1__RESPONSE__BODY_ERROR) {
		tamwil__v1__response__free_unpacked(resp, NULL);
		H_FAIL("%s: accepted; expected %s", what, code_name(code));
	}
	if (resp->error->code != code) {
		fprintf(stderr, "%s: %s: %s\n", what,
			code_name(resp->error->code), resp->error->message);
		tamwil__v1__response__free_unpacked(resp, NULL);
		H_FAIL("%s: expected %s", what, code_name(code));
	}
	tamwil__v1__response__free_unpacked(resp, NULL);
}

/* A raw operation of who that must be refused with code, changing nothing. */
static void raw_refused(struct fixture *f, int who,
			const Tamwil__V1__Operation *op,
			Tamwil__V1__ErrorCode code, const char *ref,
			const char *what)
{
	char *snap = snapshot(f, ref, NULL);

	expect_error(raw_op(f, who, op), code, what);
	expect_unchanged(f, snap, ref, NULL);
}

#define E(x) TAMWIL__V1__ERROR_CODE__ERROR_##x

/* ---- 1. the published figures -------------------------------------------- */

#define SC_N	    453
#define SC_WOMEN    87
#define SC_APPROVED 32
#define SC_PROG	    "INDH-2026"
#define SC_TOTAL    INT64_C(112121507)

static const char *const sectors[] = {"commerce", "industry", "services",
				      "crafts",	  "catering", "agriculture",
				      "building"};
static const char *const first_names[] = {
    "Khadija", "Mohamed", "خديجة", "Rachid", "Fatima", "يوسف",
    "Hassan",  "Zineb",	  "مريم",  "Brahim", "Salma",  "عبد الله"};
static const char *const last_names[] = {
    "Alaoui",	"Ouazzani", "العلوي", "Tahiri", "Ait Benhaddou",
    "الإدريسي", "Lahlou",   "Bennis", "الفاسي", "Sebti"};

/* The scenario's applicant i. */
struct sc_app {
	int region; /* COORD_LAG or COORD_TTA */
	int woman;  /* 1: F */
	int k;	    /* index among the approved, or -1 */
	int64_t requested, granted;
	char ref[REF_MAX];
};

/* Which applicants are approved: the k-th is 14 k + (k odd). */
static int sc_approved_index(int i)
{
	for (int k = 0; k < SC_APPROVED; k++)
		if (14 * k + (k % 2) == i)
			return k;
	return -1;
}

static void sc_plan(struct sc_app *a, int i)
{
	static const int64_t others[] = {2500000, 3000000, 4500000, 1875050};

	a->region = i % 2 ? COORD_TTA : COORD_LAG;
	a->woman = i % 5 == 0 && i < 435;
	a->k = sc_approved_index(i);
	a->requested = a->k >= 0 ? 4000000 : others[i % 4];
	a->granted =
	    a->k < 0 ? 0 : (a->k == SC_APPROVED - 1 ? 3621507 : 3500000);
	a->ref[0] = '\0';
}

/* Writes minor units the way staff type them, in one of three shapes. */
static void sc_amount_text(int64_t minor, int shape, char *out, size_t cap)
{
	long long units = (long long)(minor / 100), cents = minor % 100;

	if (shape == 0 && cents == 0)
		snprintf(out, cap, "%lld", units);
	else if (shape == 1)
		snprintf(out, cap, "%lld.%02lld", units, (long long)cents);
	else if (units >= 1000)
		snprintf(out, cap, "%lld %03lld,%02lld", units / 1000,
			 units % 1000, (long long)cents);
	else
		snprintf(out, cap, "%lld,%02lld", units, (long long)cents);
}

static void sc_submit_cmd(struct fixture *f, hd_cmd *c, const struct sc_app *a,
			  int i)
{
	char amount[64], name[256], date[16], activity[128];
	struct app ap;

	memset(&ap, 0, sizeof(ap));
	snprintf(ap.id_buf, sizeof(ap.id_buf), "SC%06d", i + 1);
	snprintf(
	    name, sizeof(name), "%s %s",
	    first_names[i % (int)(sizeof(first_names) / sizeof(*first_names))],
	    last_names[i % (int)(sizeof(last_names) / sizeof(*last_names))]);
	snprintf(date, sizeof(date), "%04d-%02d-%02d", 1970 + i % 36,
		 1 + i % 12, 1 + i % 28);
	snprintf(activity, sizeof(activity), "Micro-projet n° %d", i + 1);
	sc_amount_text(a->requested, i % 3, amount, sizeof(amount));
	ap.programme = SC_PROG;
	ap.national_id = ap.id_buf;
	ap.name = name;
	ap.sex = a->woman ? "F" : "M";
	ap.birth_date = date;
	ap.category = a->woman ? (i % 2 ? "rural_woman" : "woman_at_home")
			       : (i % 3 == 0 ? "former_detainee" : "youth");
	ap.sector = sectors[i % 7];
	ap.activity = activity;
	ap.amount = amount;
	submit_cmd(f, c, a->region, &ap);
}

struct sc_ctx {
	struct sc_app *apps;
	const int *index; /* batch position -> applicant */
};

static int sc_on_submit(void *arg, size_t i, const hd_result *r)
{
	struct sc_ctx *x = arg;
	struct sc_app *a = &x->apps[x->index[i]];

	if (submit_ref(r, P[a->region].region, a->ref) == 0)
		return 0;
	hd_result_print(r, "a scenario submission");
	return 1;
}

static int sc_on_ok(void *arg, size_t i, const hd_result *r)
{
	(void)arg;
	if (hd_ok(r))
		return 0;
	fprintf(stderr, "command %zu of the batch:\n", i);
	hd_result_print(r, "a scenario command");
	return 1;
}

/* Expected figures of one report group. */
struct sc_sum {
	int64_t submitted, women, approved, disbursed;
	int64_t requested, granted, amount_disbursed;
};

static void sc_add(struct sc_sum *s, const struct sc_app *a)
{
	s->submitted++;
	s->women += a->woman;
	s->requested += a->requested;
	if (a->k >= 0) {
		s->approved++;
		s->disbursed++;
		s->granted += a->granted;
		s->amount_disbursed += a->granted;
	}
}

/* The row of group in a --json report must hold exactly the sums s. */
static void sc_expect_row(struct fixture *f, json_t *j, const char *group,
			  const struct sc_sum *s)
{
	static const char *const keys[] = {"submitted",	       "women",
					   "approved",	       "disbursed",
					   "amount_requested", "amount_granted",
					   "amount_disbursed", "rejected",
					   "withdrawn",	       "amount_repaid"};
	const int64_t want[] = {s->submitted,
				s->women,
				s->approved,
				s->disbursed,
				s->requested,
				s->granted,
				s->amount_disbursed,
				0,
				0,
				0};
	json_t *row = hd_json_find(j, "group", group);
	json_t *cur;
	char msg[256];
	int64_t v;

	if (row == NULL) {
		snprintf(msg, sizeof(msg), "no row with \"group\": \"%s\"",
			 group);
		fail_last(f, msg);
	}
	cur = json_object_get(row, "currency");
	if (!json_is_string(cur) || strcmp(json_string_value(cur), "MAD") != 0)
		fail_last(f, "a row's \"currency\" is not \"MAD\"");
	for (size_t i = 0; i < sizeof(keys) / sizeof(*keys); i++) {
		if (hd_json_int(row, keys[i], &v) != 0) {
			snprintf(msg, sizeof(msg), "row %s: no integer \"%s\"",
				 group, keys[i]);
			fail_last(f, msg);
		}
		if (v != want[i]) {
			snprintf(msg, sizeof(msg),
				 "row %s: \"%s\" is %lld, expected %lld", group,
				 keys[i], (long long)v, (long long)want[i]);
			fail_last(f, msg);
		}
	}
}

/*
 * The month's report counts the month's work: every submission, approval
 * and tranche of the scenario happened this month.
 */
static void sc_expect_month(struct fixture *f, const struct sc_sum *all)
{
	char month[8];
	time_t now = time(NULL);
	struct tm tm;
	json_t *j;

	gmtime_r(&now, &tm);
	strftime(month, sizeof(month), "%Y-%m", &tm);
	OK(f, AUDITOR, JSON, "report", "--by", "month");
	j = last_json(f);
	/* A scenario that straddles midnight at the end of a month. */
	if (hd_json_count(j, "group") == 1)
		sc_expect_row(f, j, month, all);
	json_decref(j);
}

/* The count or amount key has in the page's totals, or -1. */
static int64_t html_total(const char *totals, const char *key, const char *attr)
{
	char needle[96];
	const char *p;

	snprintf(needle, sizeof(needle), "data-key=\"%s\"", key);
	p = strstr(totals, needle);
	if (p == NULL || (p = strstr(p, attr)) == NULL)
		return -1;
	return strtoll(p + strlen(attr), NULL, 10);
}

/*
 * tamwil report --html writes a page that headless Chromium renders with
 * no console message, whose totals are the JSON report's.
 */
static void sc_expect_html(struct fixture *f, const struct sc_sum *all)
{
	char page[H_PATH_MAX], profile[H_PATH_MAX], url[H_PATH_MAX + 16];
	const char *chromium = "/usr/bin/chromium";
	const char *totals, *end;
	hd_result r = {0};
	hd_cmd c;

	assert_int_equal(h_path(page, sizeof(page), f->wdir, "report.html"), 0);
	assert_int_equal(h_path(profile, sizeof(profile), f->wdir, "chromium"),
			 0);
	OK(f, AUDITOR, TABLE, "report", "--html", page);
	expect_contains(f, f->r.out, "report written to");
	if (access(chromium, X_OK) != 0)
		H_FAIL("%s is missing: scripts/deps installs it", chromium);
	snprintf(url, sizeof(url), "file://%s", page);
	hd_cmd_init(&c, chromium);
	hd_cmd_add(&c, "--headless");
	hd_cmd_add(&c, "--no-sandbox");
	hd_cmd_add(&c, "--disable-gpu");
	hd_cmd_add(&c, "--no-first-run");
	hd_cmd_addf(&c, "--user-data-dir=%s", profile);
	hd_cmd_add(&c, "--enable-logging=stderr");
	hd_cmd_add(&c, "--v=0");
	hd_cmd_add(&c, "--dump-dom");
	hd_cmd_add(&c, url);
	if (hd_run(&r, 60000, f->env, &c) != 0 || !hd_ok(&r)) {
		hd_result_print(&r, "chromium --dump-dom");
		H_FAIL("headless chromium did not render the report");
	}
	if (strstr(r.err, "CONSOLE") != NULL) {
		hd_result_print(&r, "chromium --dump-dom");
		H_FAIL("the report logs to the browser's console");
	}
	totals = strstr(r.out, "<section id=\"totals\">");
	end = totals != NULL ? strstr(totals, "</section>") : NULL;
	if (end == NULL)
		H_FAIL("the rendered page has no totals");
	assert_int_equal(html_total(totals, "submitted", "data-value=\""),
			 all->submitted);
	assert_int_equal(html_total(totals, "women", "data-value=\""),
			 all->women);
	assert_int_equal(html_total(totals, "approved", "data-value=\""),
			 all->approved);
	assert_int_equal(
	    html_total(totals, "amount_requested", "data-minor=\""),
	    all->requested);
	assert_int_equal(html_total(totals, "amount_granted", "data-minor=\""),
			 all->granted);
	assert_int_equal(
	    html_total(totals, "amount_disbursed", "data-minor=\""),
	    all->amount_disbursed);
	/* The page holds the charts, drawn without any outside resource. */
	assert_non_null(strstr(r.out, "<svg"));
	assert_null(strstr(r.out, "src=\"http"));
	assert_null(strstr(r.out, "href=\"http"));
	hd_result_free(&r);
}

/*
 * 453 applications (87 of women) in two regions; 32 approved and equipped
 * for exactly 1 121 215,07 MAD; the reports give those figures to the
 * centime, as JSON in minor units and as tables in MAD.
 */
static void test_published_figures(void **state)
{
	struct fixture *f = *state;
	struct sc_app *apps;
	hd_cmd *cmds;
	int *index;
	struct sc_sum by_sex[2] = {{0}}, by_region[2] = {{0}}, all = {0};
	struct sc_ctx x;
	int64_t t0 = h_now_ms(), sum = 0;
	size_t n = 0, women = 0;
	json_t *j;

	/*
	 * The figures are the published ones, so the count cannot shrink:
	 * under a checker (TAMWIL_E2E_WRAP) its thousand client runs would
	 * take most of an hour, and the other tests cover the same code.
	 */
	if (h_slow())
		skip();
	apps = calloc(SC_N, sizeof(*apps));
	cmds = calloc(SC_N, sizeof(*cmds));
	index = calloc(SC_N, sizeof(*index));
	x.apps = apps;
	x.index = index;

	assert_non_null(apps);
	assert_non_null(cmds);
	assert_non_null(index);
	OK(f, ADMIN, TABLE, "programme", "add", SC_PROG, "--name",
	   "Initiative nationale — activités génératrices de revenus",
	   "--currency", "MAD", "--envelope", "13 500 000,00", "--ceiling",
	   "50 000,00", "--target", "478", "--start", "2020-01-01", "--end",
	   "2099-12-31");
	for (int i = 0; i < SC_N; i++) {
		sc_plan(&apps[i], i);
		women += (size_t)apps[i].woman;
		sc_add(&by_sex[apps[i].woman ? 0 : 1], &apps[i]);
		sc_add(&by_region[apps[i].region == COORD_LAG ? 0 : 1],
		       &apps[i]);
		sc_add(&all, &apps[i]);
		sum += apps[i].granted;
		sc_submit_cmd(f, &cmds[i], &apps[i], i);
		index[i] = i;
	}
	assert_int_equal(women, SC_WOMEN);
	assert_true(sum == SC_TOTAL);
	if (hd_batch(cmds, SC_N, PARALLEL, RUN_MS, f->env, sc_on_submit, &x))
		H_FAIL("some submissions failed");

	/* 32 approvals (two approvers, amounts typed three ways). */
	for (int i = 0; i < SC_N; i++) {
		struct sc_app *a = &apps[i];
		char amount[64];

		if (a->k < 0)
			continue;
		sc_amount_text(a->granted, a->k % 3, amount, sizeof(amount));
		base_cmd(f, &cmds[n], a->k % 2 ? APPROVER2 : APPROVER1, TABLE);
		hd_cmd_add(&cmds[n], "approve");
		hd_cmd_add(&cmds[n], a->ref);
		hd_cmd_add(&cmds[n], "--amount");
		hd_cmd_add(&cmds[n], amount);
		n++;
	}
	assert_int_equal(n, SC_APPROVED);
	if (hd_batch(cmds, n, PARALLEL, RUN_MS, f->env, sc_on_ok, NULL))
		H_FAIL("some approvals failed");

	/* Each equipped in one tranche of two items. */
	n = 0;
	for (int i = 0; i < SC_N; i++) {
		struct sc_app *a = &apps[i];
		hd_cmd *c = &cmds[n];
		int last = a->k == SC_APPROVED - 1;

		if (a->k < 0)
			continue;
		base_cmd(f, c, a->k % 2 ? TREASURER2 : TREASURER1, TABLE);
		hd_cmd_add(c, "disburse");
		hd_cmd_add(c, a->ref);
		hd_cmd_add(c, "--amount");
		hd_cmd_add(c, last ? "36 215,07" : "35 000,00");
		hd_cmd_add(c, "--method");
		hd_cmd_add(c, "equipment");
		hd_cmd_add(c, "--reference");
		hd_cmd_addf(c, "PV-2026-%02d", a->k + 1);
		hd_cmd_add(c, "--item");
		hd_cmd_add(c, last ? "Four professionnel:1:30 000,00"
				   : "Machine à coudre:2:12 500,00");
		hd_cmd_add(c, "--item");
		hd_cmd_add(c, last ? "Ustensiles de cuisine:3:2 071,69"
				   : "Table de coupe:1:10 000,00");
		n++;
	}
	if (hd_batch(cmds, n, PARALLEL, RUN_MS, f->env, sc_on_ok, NULL))
		H_FAIL("some disbursements failed");

	/* The figures, by sex, region and programme, to the centime. */
	OK(f, AUDITOR, JSON, "report", "--by", "sex");
	j = last_json(f);
	sc_expect_row(f, j, "F", &by_sex[0]);
	sc_expect_row(f, j, "M", &by_sex[1]);
	json_decref(j);
	assert_int_equal(by_sex[0].submitted, SC_WOMEN);
	OK(f, AUDITOR, JSON, "report", "--by", "region");
	j = last_json(f);
	sc_expect_row(f, j, "LAG", &by_region[0]);
	sc_expect_row(f, j, "TTA", &by_region[1]);
	json_decref(j);
	OK(f, ADMIN, JSON, "report", "--by", "programme");
	j = last_json(f);
	assert_int_equal(all.submitted, SC_N);
	assert_int_equal(all.women, SC_WOMEN);
	assert_int_equal(all.approved, SC_APPROVED);
	assert_true(all.amount_disbursed == SC_TOTAL);
	sc_expect_row(f, j, SC_PROG, &all);
	json_decref(j);
	/* A coordinator's report is its own region's figures. */
	OK(f, COORD_TTA, JSON, "report", "--by", "region");
	j = last_json(f);
	sc_expect_row(f, j, "TTA", &by_region[1]);
	if (hd_json_find(j, "group", "LAG") != NULL)
		fail_last(f, "TTA's coordinator sees LAG's figures");
	json_decref(j);
	/* Budget in minor units; tables in MAD. */
	assert_true(budget_value(f, SC_PROG, "envelope") == 1350000000);
	assert_true(budget_value(f, SC_PROG, "granted") == SC_TOTAL);
	assert_true(budget_value(f, SC_PROG, "disbursed") == SC_TOTAL);
	assert_true(budget_value(f, SC_PROG, "remaining") ==
		    1350000000 - SC_TOTAL);
	OK(f, AUDITOR, TABLE, "report", "--by", "programme");
	expect_contains(f, f->r.out, "1 121 215,07 MAD");
	OK(f, AUDITOR, TABLE, "report", "--by", "sex");
	expect_contains(f, f->r.out, "F");
	expect_contains(f, f->r.out, "87");
	expect_contains(f, f->r.out, "366");
	OK(f, ADMIN, TABLE, "budget");
	expect_contains(f, f->r.out, "13 500 000,00 MAD");
	expect_contains(f, f->r.out, "1 121 215,07 MAD");
	sc_expect_month(f, &all);
	sc_expect_html(f, &all);
	fprintf(stderr, "published figures: %d applications in %lld ms\n", SC_N,
		(long long)(h_now_ms() - t0));
	free(apps);
	free(cmds);
	free(index);
}

/* ---- 2. refusals --------------------------------------------------------- */

/* A coordinator outside its region: not its region, or not there at all. */
static void test_refuse_other_region(void **state)
{
	struct fixture *f = *state;
	char lag[REF_MAX], tta[REF_MAX];
	struct app a;

	programme(f, "RULES", "1 000 000,00", "100 000,00");
	app_init(f, &a, "RULES", "50 000,00");
	submit(f, COORD_LAG, &a, lag);
	app_init(f, &a, "RULES", "40 000,00");
	submit(f, COORD_TTA, &a, tta);
	app_init(f, &a, "RULES", "40 000,00");
	a.region = "TTA";
	submit_refused_nochange(f, COORD_LAG, &a, "not_your_region", lag, tta);
	/* Another region's application is as unknown as a missing one. */
	REFUSED(f, "unknown_application", COORD_LAG, "show", tta);
	RUN(f, COORD_LAG, JSON, "show", tta);
	expect_refused(f, "unknown_application");
	REFUSED_NOCHANGE(f, "not_your_region", lag, tta, COORD_LAG, "withdraw",
			 tta, "--reason", "pas chez nous");
	REFUSED(f, "not_your_region", COORD_LAG, "list", "--region", "TTA");
	REFUSED(f, "not_your_region", COORD_LAG, "report", "--by", "sex",
		"--region", "TTA");
	/* Its own region is served. */
	OK(f, COORD_LAG, TABLE, "show", lag);
	OK(f, COORD_TTA, TABLE, "show", tta);
}

/* Each role does its own work only. */
static void test_refuse_wrong_role(void **state)
{
	struct fixture *f = *state;
	char sub[REF_MAX], appr[REF_MAX];
	struct app a;

	programme(f, "RULES", "1 000 000,00", "100 000,00");
	app_init(f, &a, "RULES", "50 000,00");
	submit(f, COORD_LAG, &a, sub);
	app_init(f, &a, "RULES", "30 000,00");
	submit(f, COORD_LAG, &a, appr);
	OK(f, APPROVER1, TABLE, "approve", appr);

	REFUSED_NOCHANGE(f, "permission_denied", sub, appr, COORD_LAG,
			 "approve", sub);
	REFUSED_NOCHANGE(f, "permission_denied", sub, appr, APPROVER1,
			 "disburse", appr, "--amount", "1 000,00", "--method",
			 "cash", "--reference", "REC-1");
	REFUSED_NOCHANGE(f, "permission_denied", sub, appr, TREASURER1,
			 "approve", sub);
	REFUSED_NOCHANGE(f, "permission_denied", sub, appr, AUDITOR, "reject",
			 sub, "--reason", "audit");
	REFUSED_NOCHANGE(f, "permission_denied", sub, appr, COORD_LAG,
			 "disburse", appr, "--amount", "1 000,00", "--method",
			 "cash", "--reference", "REC-2");
	REFUSED_NOCHANGE(f, "permission_denied", sub, appr, APPROVER2, "repay",
			 appr, "--amount", "100");
	REFUSED_NOCHANGE(f, "permission_denied", sub, appr, COORD_LAG, "region",
			 "add", "ORI", "Oriental");
	REFUSED_NOCHANGE(f, "permission_denied", sub, appr, TREASURER2,
			 "programme", "add", "NEW", "--name", "Nouveau",
			 "--currency", "MAD", "--envelope", "1000", "--ceiling",
			 "100");
	REFUSED_NOCHANGE(f, "permission_denied", sub, appr, APPROVER1, "enrol",
			 f->pub[STRANGER], "--name", "Intrus", "--role",
			 "admin");
	REFUSED_NOCHANGE(f, "permission_denied", sub, appr, AUDITOR, "revoke",
			 f->pub[APPROVER1]);
	app_init(f, &a, "RULES", "10 000,00");
	a.region = "LAG";
	{
		char *snap = snapshot(f, sub, appr);

		submit_refused(f, APPROVER1, &a, "permission_denied");
		submit_refused(f, AUDITOR, &a, "permission_denied");
		submit_refused(f, TREASURER1, &a, "permission_denied");
		expect_unchanged(f, snap, sub, appr);
	}
	/* The auditor reads everything. */
	OK(f, AUDITOR, TABLE, "show", sub);
	OK(f, AUDITOR, TABLE, "list");
}

/*
 * Maker-checker. The model gives each principal one role: approvers do
 * not submit and treasurers do not approve, so the server's own
 * ERROR_MAKER_CHECKER refusals (approving what one submitted, disbursing
 * what one approved) cannot be reached by any enrolled principal. What is
 * reachable is checked: the roles that would make someone both maker and
 * checker are refused, a key cannot be enrolled a second time under
 * another role, and work made by one principal is checked by another.
 */
static void test_maker_checker(void **state)
{
	struct fixture *f = *state;
	char ref[REF_MAX], other[REF_MAX];
	struct app a;

	programme(f, "RULES", "1 000 000,00", "100 000,00");
	app_init(f, &a, "RULES", "20 000,00");
	submit(f, COORD_LAG, &a, other);
	app_init(f, &a, "RULES", "20 000,00");
	a.region = "LAG";
	submit_refused_nochange(f, APPROVER1, &a, "permission_denied", other,
				NULL);
	REFUSED_NOCHANGE(f, "permission_denied", other, NULL, TREASURER1,
			 "approve", other);
	/* One principal, one role: the approver cannot become a treasurer. */
	REFUSED_NOCHANGE(f, "already_exists", other, NULL, ADMIN, "enrol",
			 f->pub[APPROVER1], "--name", P[APPROVER1].name,
			 "--role", "treasurer");
	REFUSED_NOCHANGE(f, "already_exists", other, NULL, ADMIN, "enrol",
			 f->pub[COORD_LAG], "--name", P[COORD_LAG].name,
			 "--role", "approver");
	/* The admin makes, an approver checks, a treasurer hands over. */
	submit(f, ADMIN, &a, ref);
	OK(f, APPROVER2, TABLE, "approve", ref);
	OK(f, TREASURER1, TABLE, "disburse", ref, "--amount", "20 000,00",
	   "--method", "transfer", "--reference", "VIR-778812");
	OK(f, ADMIN, JSON, "show", ref);
	{
		json_t *j = last_json(f);
		size_t sub = hd_json_count_value(j, "action", "submitted");
		size_t app = hd_json_count_value(j, "action", "approved");

		json_decref(j);
		if (sub != 1 || app != 1)
			fail_last(f, "expected one \"submitted\" and one "
				     "\"approved\" event");
	}
	OK(f, ADMIN, TABLE, "show", ref);
	expect_contains(f, f->r.out, ADMIN_NAME);
	expect_contains(f, f->r.out, P[APPROVER2].name);
	/*
	 * Nor can a key change roles by revocation and a new enrolment: the
	 * approver of "other", revoked, is not enrolled again as a treasurer
	 * who could then hand it over.
	 */
	OK(f, APPROVER1, TABLE, "approve", other);
	OK(f, ADMIN, TABLE, "revoke", f->pub[APPROVER1]);
	REFUSED_NOCHANGE(f, "already_exists", other, NULL, ADMIN, "enrol",
			 f->pub[APPROVER1], "--name", P[APPROVER1].name,
			 "--role", "treasurer");
	RUN(f, APPROVER1, TABLE, "disburse", other, "--amount", "20 000,00",
	    "--method", "cash", "--reference", "REC-5");
	if (f->r.status == 0 || strstr(f->r.err, "not enrolled") == NULL)
		fail_last(f, "a revoked approver's key should not be served");
}

/* The state machine refuses what the state does not allow. */
static void test_refuse_bad_state(void **state)
{
	struct fixture *f = *state;
	char a1[REF_MAX], b[REF_MAX], c[REF_MAX], d[REF_MAX];
	struct app a;

	programme(f, "RULES", "1 000 000,00", "100 000,00");
	app_init(f, &a, "RULES", "50 000,00");
	submit(f, COORD_LAG, &a, a1);
	app_init(f, &a, "RULES", "50 000,00");
	submit(f, COORD_LAG, &a, b);
	app_init(f, &a, "RULES", "50 000,00");
	submit(f, COORD_LAG, &a, c);
	app_init(f, &a, "RULES", "50 000,00");
	submit(f, COORD_LAG, &a, d);

	OK(f, APPROVER1, TABLE, "approve", a1);
	REFUSED_NOCHANGE(f, "bad_state", a1, NULL, APPROVER2, "approve", a1);
	REFUSED_NOCHANGE(f, "bad_state", a1, NULL, APPROVER1, "approve", a1,
			 "--amount", "10 000,00");
	REFUSED_NOCHANGE(f, "bad_state", b, NULL, TREASURER1, "disburse", b,
			 "--amount", "10 000,00", "--method", "cash",
			 "--reference", "REC-9");
	REFUSED_NOCHANGE(f, "bad_state", a1, NULL, COORD_LAG, "withdraw", a1,
			 "--reason", "trop tard");
	REFUSED_NOCHANGE(f, "bad_state", a1, NULL, TREASURER1, "repay", a1,
			 "--amount", "100");
	REFUSED_NOCHANGE(f, "bad_state", a1, NULL, APPROVER2, "reject", a1,
			 "--reason", "changement d'avis");
	REFUSED_NOCHANGE(f, "bad_state", b, NULL, TREASURER2, "repay", b,
			 "--amount", "100");
	/* withdrawn: final */
	OK(f, COORD_LAG, TABLE, "withdraw", c, "--reason", "projet abandonné");
	REFUSED_NOCHANGE(f, "bad_state", c, NULL, APPROVER1, "approve", c);
	REFUSED_NOCHANGE(f, "bad_state", c, NULL, COORD_LAG, "withdraw", c);
	REFUSED_NOCHANGE(f, "bad_state", c, NULL, APPROVER1, "reject", c,
			 "--reason", "déjà retiré");
	/* rejected: final */
	OK(f, APPROVER2, TABLE, "reject", d, "--reason", "dossier incomplet");
	REFUSED_NOCHANGE(f, "bad_state", d, NULL, APPROVER1, "approve", d);
	REFUSED_NOCHANGE(f, "bad_state", d, NULL, TREASURER1, "disburse", d,
			 "--amount", "100", "--method", "cash", "--reference",
			 "REC-10");
	REFUSED_NOCHANGE(f, "bad_state", d, NULL, COORD_LAG, "withdraw", d);
	/* disbursing: repayments wait until the grant is handed over */
	OK(f, TREASURER1, TABLE, "disburse", a1, "--amount", "20 000,00",
	   "--method", "cash", "--reference", "REC-12");
	REFUSED_NOCHANGE(f, "bad_state", a1, NULL, TREASURER2, "repay", a1,
			 "--amount", "100");
	/* disbursed in full: no more tranches; closed: no more repayments */
	OK(f, TREASURER1, TABLE, "disburse", a1, "--amount", "30 000,00",
	   "--method", "cheque", "--reference", "CHQ-0042");
	REFUSED_NOCHANGE(f, "bad_state", a1, NULL, TREASURER2, "disburse", a1,
			 "--amount", "1", "--method", "cash", "--reference",
			 "REC-11");
	OK(f, TREASURER2, TABLE, "repay", a1, "--amount", "50 000,00");
	REFUSED_NOCHANGE(f, "bad_state", a1, NULL, TREASURER2, "repay", a1,
			 "--amount", "1");
}

/* Grants, ceilings, the envelope, tranches and repayments have limits. */
static void test_refuse_amount_limits(void **state)
{
	struct fixture *f = *state;
	char a1[REF_MAX], b[REF_MAX], c[REF_MAX];
	struct app a;

	programme(f, "LIM", "100 000,00", "60 000,00");
	app_init(f, &a, "LIM", "60 000,01");
	submit_refused_nochange(f, COORD_LAG, &a, "ceiling_exceeded", NULL,
				NULL);
	app_init(f, &a, "LIM", "60 000,00");
	submit(f, COORD_LAG, &a, a1);
	app_init(f, &a, "LIM", "50 000,00");
	submit(f, COORD_TTA, &a, b);
	app_init(f, &a, "LIM", "10");
	submit(f, COORD_TTA, &a, c);

	REFUSED_NOCHANGE(f, "grant_above_request", b, NULL, APPROVER1,
			 "approve", b, "--amount", "50 000,01");
	/*
	 * Above the ceiling and so above the request too (submissions are
	 * capped at the ceiling): the server names the first rule broken.
	 */
	REFUSED_NOCHANGE(f, "grant_above_request", a1, NULL, APPROVER1,
			 "approve", a1, "--amount", "60 000,01");
	OK(f, APPROVER1, TABLE, "approve", a1);
	assert_true(budget_value(f, "LIM", "remaining") == 4000000);
	REFUSED_NOCHANGE(f, "budget_exceeded", b, NULL, APPROVER2, "approve",
			 b);
	REFUSED_NOCHANGE(f, "budget_exceeded", b, NULL, APPROVER2, "approve", b,
			 "--amount", "40 000,01");
	OK(f, APPROVER2, TABLE, "approve", b, "--amount", "40 000,00");
	assert_true(budget_value(f, "LIM", "granted") == 10000000);
	assert_true(budget_value(f, "LIM", "remaining") == 0);
	REFUSED_NOCHANGE(f, "budget_exceeded", c, NULL, APPROVER1, "approve",
			 c);

	OK(f, TREASURER1, TABLE, "disburse", a1, "--amount", "30 000,00",
	   "--method", "cash", "--reference", "REC-1");
	REFUSED_NOCHANGE(f, "tranche_above_grant", a1, NULL, TREASURER2,
			 "disburse", a1, "--amount", "30 000,01", "--method",
			 "cash", "--reference", "REC-2");
	REFUSED_NOCHANGE(f, "tranche_above_grant", b, NULL, TREASURER2,
			 "disburse", b, "--amount", "40 000,01", "--method",
			 "transfer", "--reference", "VIR-1");
	OK(f, TREASURER2, TABLE, "disburse", a1, "--amount", "30 000,00",
	   "--method", "cash", "--reference", "REC-3");
	assert_true(budget_value(f, "LIM", "disbursed") == 6000000);
	OK(f, TREASURER1, TABLE, "repay", a1, "--amount", "10 000,00");
	REFUSED_NOCHANGE(f, "repayment_above_due", a1, NULL, TREASURER1,
			 "repay", a1, "--amount", "50 000,01");
}

/* One open application per beneficiary and programme. */
static void test_refuse_duplicate(void **state)
{
	struct fixture *f = *state;
	char first[REF_MAX], again[REF_MAX], third[REF_MAX], other[REF_MAX];
	struct app a;

	programme(f, "DUP", "1 000 000,00", "100 000,00");
	programme(f, "DUP2", "1 000 000,00", "100 000,00");
	app_init(f, &a, "DUP", "20 000,00");
	a.national_id = "DU123456";
	submit(f, COORD_LAG, &a, first);
	{
		char *snap = snapshot(f, first, NULL);

		submit_refused(f, COORD_LAG, &a, "duplicate_application");
		/* the same person, written another way, another office */
		a.national_id = "DU 123-456";
		a.name = "Khadija Alaoui Mrani";
		a.region = "TTA";
		submit_refused(f, COORD_TTA, &a, "duplicate_application");
		expect_unchanged(f, snap, first, NULL);
	}
	app_init(f, &a, "DUP2", "20 000,00");
	a.national_id = "DU123456";
	submit(f, COORD_LAG, &a, other);
	/* Rejected: may apply again. */
	OK(f, APPROVER1, TABLE, "reject", first, "--reason",
	   "activité non viable");
	app_init(f, &a, "DUP", "25 000,00");
	a.national_id = "DU123456";
	submit(f, COORD_LAG, &a, again);
	assert_string_not_equal(again, first);
	/* Withdrawn: again. */
	OK(f, COORD_LAG, TABLE, "withdraw", again);
	submit(f, COORD_LAG, &a, third);
	assert_string_not_equal(third, again);
	/* Approved is open. */
	OK(f, APPROVER2, TABLE, "approve", third);
	submit_refused_nochange(f, COORD_LAG, &a, "duplicate_application",
				third, NULL);
}

/* Zero, negative and ambiguous amounts never pass. */
static void test_refuse_bad_amounts(void **state)
{
	struct fixture *f = *state;
	static const char *const bad[] = {"0", "-5", "12,345", "0,00",
					  "-1 000,00"};
	char sub[REF_MAX], appr[REF_MAX];
	Tamwil__V1__Operation op;
	Tamwil__V1__ApproveApplication approve;
	Tamwil__V1__RecordDisbursement disb;
	Tamwil__V1__RecordRepayment repay;
	Tamwil__V1__CreateProgramme prog;
	Tamwil__V1__Money m1, m2;
	uint8_t key[16];
	struct app a;
	char *snap;

	programme(f, "AMT", "1 000 000,00", "100 000,00");
	app_init(f, &a, "AMT", "50 000,00");
	submit(f, COORD_LAG, &a, sub);
	app_init(f, &a, "AMT", "50 000,00");
	submit(f, COORD_LAG, &a, appr);
	OK(f, APPROVER1, TABLE, "approve", appr);

	/* The client refuses them itself. */
	snap = snapshot(f, sub, appr);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		hd_cmd c;

		app_init(f, &a, "AMT", bad[i]);
		submit_cmd(f, &c, COORD_LAG, &a);
		run_cmd(f, &c);
		expect_usage(f, "amount");
		RUN(f, APPROVER2, TABLE, "approve", sub, "--amount", bad[i]);
		expect_usage(f, "amount");
		RUN(f, TREASURER1, TABLE, "disburse", appr, "--amount", bad[i],
		    "--method", "cash", "--reference", "REC-1");
		expect_usage(f, "amount");
		RUN(f, TREASURER1, TABLE, "repay", appr, "--amount", bad[i]);
		expect_usage(f, "amount");
		RUN(f, ADMIN, TABLE, "programme", "add", "AMT2", "--name",
		    "Montants", "--currency", "MAD", "--envelope", bad[i],
		    "--ceiling", "100");
		expect_usage(f, "envelope");
	}
	expect_unchanged(f, snap, sub, appr);

	/* Sent anyway, past the client: the server refuses them. */
	op_init(&op, key);
	tamwil__v1__approve_application__init(&approve);
	approve.reference = sub;
	approve.amount = &m1;
	op.body_case = TAMWIL__V1__OPERATION__BODY_APPROVE_APPLICATION;
	op.approve_application = &approve;
	hd_money(&m1, -500, "MAD");
	raw_refused(f, APPROVER2, &op, E(INVALID_ARGUMENT), sub,
		    "a negative grant");
	op_init(&op, key);
	op.body_case = TAMWIL__V1__OPERATION__BODY_APPROVE_APPLICATION;
	op.approve_application = &approve;
	hd_money(&m1, 0, "MAD");
	raw_refused(f, APPROVER2, &op, E(INVALID_ARGUMENT), sub,
		    "a zero grant");

	op_init(&op, key);
	tamwil__v1__record_disbursement__init(&disb);
	disb.reference = appr;
	disb.amount = &m1;
	disb.method = TAMWIL__V1__DISBURSEMENT_METHOD__METHOD_CASH;
	disb.payment_reference = "REC-2";
	op.body_case = TAMWIL__V1__OPERATION__BODY_RECORD_DISBURSEMENT;
	op.record_disbursement = &disb;
	hd_money(&m1, 0, "MAD");
	raw_refused(f, TREASURER1, &op, E(INVALID_ARGUMENT), appr,
		    "a zero tranche");
	op_init(&op, key);
	op.body_case = TAMWIL__V1__OPERATION__BODY_RECORD_DISBURSEMENT;
	op.record_disbursement = &disb;
	hd_money(&m1, -100000, "MAD");
	raw_refused(f, TREASURER1, &op, E(INVALID_ARGUMENT), appr,
		    "a negative tranche");

	OK(f, TREASURER1, TABLE, "disburse", appr, "--amount", "10 000,00",
	   "--method", "cash", "--reference", "REC-3");
	op_init(&op, key);
	tamwil__v1__record_repayment__init(&repay);
	repay.reference = appr;
	repay.amount = &m1;
	op.body_case = TAMWIL__V1__OPERATION__BODY_RECORD_REPAYMENT;
	op.record_repayment = &repay;
	hd_money(&m1, -5, "MAD");
	raw_refused(f, TREASURER2, &op, E(INVALID_ARGUMENT), appr,
		    "a negative repayment");
	op_init(&op, key);
	op.body_case = TAMWIL__V1__OPERATION__BODY_RECORD_REPAYMENT;
	op.record_repayment = &repay;
	hd_money(&m1, 0, "MAD");
	raw_refused(f, TREASURER2, &op, E(INVALID_ARGUMENT), appr,
		    "a zero repayment");

	op_init(&op, key);
	tamwil__v1__create_programme__init(&prog);
	prog.code = "NEG";
	prog.name = "Enveloppe négative";
	prog.envelope = &m1;
	prog.ceiling = &m2;
	hd_money(&m1, -100000000, "MAD");
	hd_money(&m2, 100000, "MAD");
	op.body_case = TAMWIL__V1__OPERATION__BODY_CREATE_PROGRAMME;
	op.create_programme = &prog;
	raw_refused(f, ADMIN, &op, E(INVALID_ARGUMENT), NULL,
		    "a negative envelope");
}

/* 250 bytes of a letter, twice, as "FIRST LAST". */
static void long_name(char *out, size_t cap)
{
	size_t k = 0;

	for (int w = 0; w < 2; w++) {
		for (int i = 0; i < 250 && k + 2 < cap; i++)
			out[k++] = w ? 'b' : 'a';
		if (w == 0)
			out[k++] = ' ';
	}
	out[k] = '\0';
}

/* Text must be UTF-8 of a sensible length. */
static void test_refuse_bad_text(void **state)
{
	struct fixture *f = *state;
	static const char bad_utf8[] = "Atelier \xC3\x28 de couture \xFF";
	char name[600], activity[1100], region_name[300];
	Tamwil__V1__Operation op;
	Tamwil__V1__CreateRegion cr;
	uint8_t key[16];
	struct app a;
	char *snap;

	programme(f, "TXT", "1 000 000,00", "100 000,00");
	snap = snapshot(f, NULL, NULL);
	app_init(f, &a, "TXT", "20 000,00");
	a.activity = bad_utf8;
	{
		hd_cmd c;

		submit_cmd(f, &c, COORD_LAG, &a);
		run_cmd(f, &c);
		expect_refused_anywhere(f, "invalid_argument");
		long_name(name, sizeof(name));
		app_init(f, &a, "TXT", "20 000,00");
		a.name = name;
		submit_cmd(f, &c, COORD_LAG, &a);
		run_cmd(f, &c);
		expect_refused_anywhere(f, "invalid_argument");
		memset(activity, 'x', 1001);
		activity[1001] = '\0';
		app_init(f, &a, "TXT", "20 000,00");
		a.activity = activity;
		submit_cmd(f, &c, COORD_LAG, &a);
		run_cmd(f, &c);
		expect_refused_anywhere(f, "invalid_argument");
	}
	RUN(f, ADMIN, TABLE, "region", "add", "BAD", bad_utf8);
	expect_refused_anywhere(f, "invalid_argument");
	memset(region_name, 'r', 250);
	region_name[250] = '\0';
	RUN(f, ADMIN, TABLE, "region", "add", "LONG", region_name);
	expect_refused_anywhere(f, "invalid_argument");
	expect_unchanged(f, snap, NULL, NULL);

	/* Past the client, the server checks too. */
	op_init(&op, key);
	tamwil__v1__create_region__init(&cr);
	cr.code = "BAD";
	cr.name = (char *)bad_utf8;
	op.body_case = TAMWIL__V1__OPERATION__BODY_CREATE_REGION;
	op.create_region = &cr;
	raw_refused(f, ADMIN, &op, E(INVALID_ARGUMENT), NULL,
		    "a region name of invalid UTF-8");
	op_init(&op, key);
	op.body_case = TAMWIL__V1__OPERATION__BODY_CREATE_REGION;
	op.create_region = &cr;
	cr.code = "LONG";
	cr.name = region_name;
	raw_refused(f, ADMIN, &op, E(INVALID_ARGUMENT), NULL,
		    "a region name of 250 bytes");
	OK(f, ADMIN, JSON, "region", "list");
	{
		json_t *j = last_json(f);
		size_t n = hd_json_count(j, "code");

		json_decref(j);
		if (n != 2)
			fail_last(f, "expected the two regions only");
	}
}

/* Unknown programmes, applications, regions. */
static void test_refuse_unknown(void **state)
{
	struct fixture *f = *state;
	const char *missing = "LAG-2026-999999";
	char ref[REF_MAX];
	struct app a;

	programme(f, "KNOWN", "1 000 000,00", "100 000,00");
	app_init(f, &a, "KNOWN", "20 000,00");
	submit(f, COORD_LAG, &a, ref);
	app_init(f, &a, "NOPE", "20 000,00");
	{
		char *snap = snapshot(f, ref, NULL);

		submit_refused(f, COORD_LAG, &a, "unknown_programme");
		app_init(f, &a, "KNOWN", "20 000,00");
		a.region = "ZZZ";
		submit_refused(f, ADMIN, &a, "unknown_region");
		expect_unchanged(f, snap, ref, NULL);
	}
	REFUSED_NOCHANGE(f, "unknown_application", ref, NULL, APPROVER1,
			 "approve", missing);
	REFUSED_NOCHANGE(f, "unknown_application", ref, NULL, APPROVER1,
			 "reject", missing, "--reason", "inconnu");
	REFUSED_NOCHANGE(f, "unknown_application", ref, NULL, TREASURER1,
			 "disburse", missing, "--amount", "100", "--method",
			 "cash", "--reference", "REC-1");
	REFUSED_NOCHANGE(f, "unknown_application", ref, NULL, TREASURER1,
			 "repay", missing, "--amount", "100");
	REFUSED_NOCHANGE(f, "unknown_application", ref, NULL, COORD_LAG,
			 "withdraw", missing);
	REFUSED(f, "unknown_application", ADMIN, "show", missing);
	REFUSED(f, "unknown_application", AUDITOR, "show", missing);
	REFUSED_NOCHANGE(f, "unknown_region", ref, NULL, ADMIN, "enrol",
			 f->pub[STRANGER], "--name", "Coordinateur fantôme",
			 "--role", "coordinator", "--region", "ZZZ");
	REFUSED_NOCHANGE(f, "unknown_principal", ref, NULL, ADMIN, "revoke",
			 f->pub[STRANGER]);
}

/* An amount in another currency than the programme's. */
static void test_refuse_currency(void **state)
{
	struct fixture *f = *state;
	char ref[REF_MAX];
	Tamwil__V1__Operation op;
	Tamwil__V1__ApproveApplication approve;
	Tamwil__V1__RecordDisbursement disb;
	Tamwil__V1__RecordRepayment repay;
	Tamwil__V1__Money m;
	uint8_t key[16];
	struct app a;
	json_t *j, *p, *cur;

	OK(f, ADMIN, TABLE, "programme", "add", "DZ-EMPLOI", "--name",
	   "Dispositif d'aide à l'insertion", "--currency", "DZD", "--envelope",
	   "5 000 000,00", "--ceiling", "500 000,00");
	OK(f, ADMIN, JSON, "budget");
	j = last_json(f);
	p = hd_json_find(j, "code", "DZ-EMPLOI");
	cur = p ? json_object_get(p, "currency") : NULL;
	if (!json_is_string(cur) || strcmp(json_string_value(cur), "DZD") != 0)
		fail_last(f, "DZ-EMPLOI has no \"currency\": \"DZD\"");
	json_decref(j);
	app_init(f, &a, "DZ-EMPLOI", "200 000,00");
	submit(f, COORD_LAG, &a, ref);

	op_init(&op, key);
	tamwil__v1__approve_application__init(&approve);
	approve.reference = ref;
	approve.amount = &m;
	hd_money(&m, 10000000, "MAD");
	op.body_case = TAMWIL__V1__OPERATION__BODY_APPROVE_APPLICATION;
	op.approve_application = &approve;
	raw_refused(f, APPROVER1, &op, E(CURRENCY_MISMATCH), ref,
		    "a grant in MAD for a DZD programme");
	OK(f, APPROVER1, TABLE, "approve", ref, "--amount", "150 000,00");

	op_init(&op, key);
	tamwil__v1__record_disbursement__init(&disb);
	disb.reference = ref;
	disb.amount = &m;
	disb.method = TAMWIL__V1__DISBURSEMENT_METHOD__METHOD_TRANSFER;
	disb.payment_reference = "VIR-1";
	op.body_case = TAMWIL__V1__OPERATION__BODY_RECORD_DISBURSEMENT;
	op.record_disbursement = &disb;
	raw_refused(f, TREASURER1, &op, E(CURRENCY_MISMATCH), ref,
		    "a tranche in MAD for a DZD programme");
	OK(f, TREASURER1, TABLE, "disburse", ref, "--amount", "100 000,00",
	   "--method", "transfer", "--reference", "VIR-2");

	op_init(&op, key);
	tamwil__v1__record_repayment__init(&repay);
	repay.reference = ref;
	repay.amount = &m;
	hd_money(&m, 100000, "MAD");
	op.body_case = TAMWIL__V1__OPERATION__BODY_RECORD_REPAYMENT;
	op.record_repayment = &repay;
	raw_refused(f, TREASURER2, &op, E(CURRENCY_MISMATCH), ref,
		    "a repayment in MAD for a DZD programme");
	OK(f, ADMIN, TABLE, "show", ref);
	expect_contains(f, f->r.out, "DZD");
	assert_true(budget_value(f, "DZ-EMPLOI", "granted") == 15000000);
	assert_true(budget_value(f, "DZ-EMPLOI", "disbursed") == 10000000);
}

/* Categories the programme does not finance, and outside its period. */
static void test_refuse_not_eligible(void **state)
{
	struct fixture *f = *state;
	char ref[REF_MAX];
	struct app a;
	char *snap;

	OK(f, ADMIN, TABLE, "programme", "add", "FEMMES", "--name",
	   "Femmes rurales et au foyer", "--currency", "MAD", "--envelope",
	   "2 000 000,00", "--ceiling", "50 000,00", "--category",
	   "rural_woman", "--category", "woman_at_home");
	OK(f, ADMIN, TABLE, "programme", "add", "ANCIEN", "--name",
	   "Programme 2020", "--currency", "MAD", "--envelope", "1 000 000,00",
	   "--ceiling", "50 000,00", "--start", "2020-01-01", "--end",
	   "2020-12-31");
	OK(f, ADMIN, TABLE, "programme", "add", "FUTUR", "--name",
	   "Programme 2099", "--currency", "MAD", "--envelope", "1 000 000,00",
	   "--ceiling", "50 000,00", "--start", "2099-01-01");
	snap = snapshot(f, NULL, NULL);
	app_init(f, &a, "FEMMES", "20 000,00");
	a.sex = "M";
	a.name = "Mehdi Kabbaj";
	a.category = "youth";
	submit_refused(f, COORD_LAG, &a, "not_eligible");
	a.category = "former_detainee";
	submit_refused(f, COORD_LAG, &a, "not_eligible");
	app_init(f, &a, "ANCIEN", "20 000,00");
	submit_refused(f, COORD_LAG, &a, "not_eligible");
	app_init(f, &a, "FUTUR", "20 000,00");
	submit_refused(f, COORD_TTA, &a, "not_eligible");
	expect_unchanged(f, snap, NULL, NULL);
	app_init(f, &a, "FEMMES", "20 000,00");
	a.category = "woman_at_home";
	submit(f, COORD_LAG, &a, ref);
}

/* ---- 3. concurrency ------------------------------------------------------ */

#define RACE_N 10

struct race_ctx {
	int ok, budget, other;
};

static int race_on_approve(void *arg, size_t i, const hd_result *r)
{
	struct race_ctx *x = arg;

	if (hd_ok(r)) {
		x->ok++;
	} else if (is_refused(r, "budget_exceeded")) {
		x->budget++;
	} else {
		x->other++;
		fprintf(stderr, "approval %zu:\n", i);
		hd_result_print(r, "an approval of the race");
	}
	return 0;
}

/*
 * An envelope that holds N of 2N equal requests; the 2N approvals raced
 * at once by two approvers: N succeed, N are budget_exceeded, and the
 * budget is exactly N grants.
 */
static void test_concurrent_approvals(void **state)
{
	struct fixture *f = *state;
	hd_cmd *cmds = calloc((size_t)2 * RACE_N, sizeof(*cmds));
	char(*refs)[REF_MAX] = calloc((size_t)2 * RACE_N, REF_MAX);
	struct race_ctx x = {0, 0, 0};
	json_t *j;
	int64_t v;

	assert_non_null(cmds);
	assert_non_null(refs);
	programme(f, "RACE", "200 000,00", "20 000,00");
	for (int i = 0; i < 2 * RACE_N; i++) {
		struct app a;

		app_init(f, &a, "RACE", "20 000,00");
		submit(f, i % 2 ? COORD_TTA : COORD_LAG, &a, refs[i]);
	}
	for (int i = 0; i < 2 * RACE_N; i++) {
		base_cmd(f, &cmds[i], i % 2 ? APPROVER2 : APPROVER1, TABLE);
		hd_cmd_add(&cmds[i], "approve");
		hd_cmd_add(&cmds[i], refs[i]);
	}
	assert_int_equal(hd_batch(cmds, (size_t)2 * RACE_N, (size_t)2 * RACE_N,
				  RUN_MS, f->env, race_on_approve, &x),
			 0);
	if (x.ok != RACE_N || x.budget != RACE_N || x.other != 0)
		H_FAIL("%d approved, %d budget_exceeded, %d other; expected "
		       "%d and %d",
		       x.ok, x.budget, x.other, RACE_N, RACE_N);
	assert_true(budget_value(f, "RACE", "granted") ==
		    (int64_t)RACE_N * 2000000);
	assert_true(budget_value(f, "RACE", "remaining") == 0);
	assert_true(budget_value(f, "RACE", "envelope") == 20000000);
	OK(f, AUDITOR, JSON, "report", "--by", "programme");
	j = last_json(f);
	if (hd_json_int(hd_json_find(j, "group", "RACE"), "approved", &v) !=
		0 ||
	    v != RACE_N) {
		json_decref(j);
		fail_last(f, "the report does not count N approvals");
	}
	json_decref(j);
	free(cmds);
	free(refs);
}

/* ---- 4. retries and signatures ------------------------------------------- */

/* Sends the same signed bytes as req over a fresh connection of who. */
static Tamwil__V1__Response *send_once(struct fixture *f, int who,
				       const Tamwil__V1__Request *req)
{
	Tamwil__V1__Response *resp = NULL;

	if (hd_request(f->d.port, f->key[who], f->server_pub, req, &resp,
		       IO_MS) != H_IO_OK)
		H_FAIL("no answer to a raw operation");
	return resp;
}

static void expect_result(Tamwil__V1__Response *resp, int replayed,
			  const char *reference, const char *what)
{
	if (resp->body_case != TAMWIL__V1__RESPONSE__BODY_OPERATION) {
		if (resp->body_case == TAMWIL__V1__RESPONSE__BODY_ERROR)
			fprintf(stderr, "%s: %s\n",
				code_name(resp->error->code),
				resp->error->message);
		tamwil__v1__response__free_unpacked(resp, NULL);
		H_FAIL("%s: not an OperationResult", what);
	}
	if (resp->operation->replayed != replayed ||
	    strcmp(resp->operation->reference, reference) != 0) {
		fprintf(stderr, "%s: replayed=%d reference=%s\n", what,
			resp->operation->replayed, resp->operation->reference);
		tamwil__v1__response__free_unpacked(resp, NULL);
		H_FAIL("%s: expected replayed=%d reference=%s", what, replayed,
		       reference);
	}
	tamwil__v1__response__free_unpacked(resp, NULL);
}

/* How many regions "tamwil --json region list" shows with code. */
static size_t regions_with_code(struct fixture *f, const char *code)
{
	json_t *j;
	size_t n;

	OK(f, AUDITOR, JSON, "region", "list");
	j = last_json(f);
	n = hd_json_count_value(j, "code", code);
	json_decref(j);
	return n;
}

/*
 * The same signed operation over three connections is applied once; other
 * bytes under its key conflict; a foreign or broken signature is refused.
 */
static void test_retry_applies_once(void **state)
{
	struct fixture *f = *state;
	Tamwil__V1__Operation op;
	Tamwil__V1__CreateRegion cr;
	Tamwil__V1__SignedOperation sop;
	Tamwil__V1__Request req;
	keyfile_secret admin, approver;
	uint8_t key[16], sig[SIGNOP_SIGLEN], sig2[SIGNOP_SIGLEN];
	uint8_t *bytes, *bytes2;
	size_t len, len2;
	char *snap;

	read_secret(f, ADMIN, &admin);
	read_secret(f, APPROVER1, &approver);
	op_init(&op, key);
	tamwil__v1__create_region__init(&cr);
	cr.code = "SOU";
	cr.name = "Souss-Massa";
	op.body_case = TAMWIL__V1__OPERATION__BODY_CREATE_REGION;
	op.create_region = &cr;
	assert_int_equal(hd_op_sign(&op, &admin, &bytes, &len, sig), 0);
	hd_signed_request(&req, &sop, 1, bytes, len, admin.sign_pk, sig);
	expect_result(send_once(f, ADMIN, &req), 0, "SOU", "first sending");
	expect_result(send_once(f, ADMIN, &req), 1, "SOU", "second sending");
	expect_result(send_once(f, ADMIN, &req), 1, "SOU", "third sending");
	if (regions_with_code(f, "SOU") != 1)
		fail_last(f, "expected region SOU exactly once");
	OK(f, ADMIN, TABLE, "region", "list");
	expect_contains(f, f->r.out, "Souss-Massa");

	snap = snapshot(f, NULL, NULL);
	/* The same idempotency key, other bytes. */
	cr.code = "DRA";
	cr.name = "Drâa-Tafilalet";
	assert_int_equal(hd_op_sign(&op, &admin, &bytes2, &len2, sig2), 0);
	hd_signed_request(&req, &sop, 2, bytes2, len2, admin.sign_pk, sig2);
	expect_error(send_once(f, ADMIN, &req), E(IDEMPOTENCY_CONFLICT),
		     "other bytes under a used key");
	free(bytes2);
	/* A fresh operation signed by the approver, sent on the admin's
	 * channel. */
	op_init(&op, key);
	op.body_case = TAMWIL__V1__OPERATION__BODY_CREATE_REGION;
	op.create_region = &cr;
	assert_int_equal(hd_op_sign(&op, &approver, &bytes2, &len2, sig2), 0);
	hd_signed_request(&req, &sop, 3, bytes2, len2, approver.sign_pk, sig2);
	expect_error(send_once(f, ADMIN, &req), E(WRONG_SIGNER),
		     "signed by another key than the channel's");
	/* The approver's signature under the admin's key. */
	hd_signed_request(&req, &sop, 4, bytes2, len2, admin.sign_pk, sig2);
	expect_error(send_once(f, ADMIN, &req), E(BAD_SIGNATURE),
		     "another key's signature");
	free(bytes2);
	/* The admin's own signature, one bit of the bytes flipped. */
	assert_int_equal(hd_op_sign(&op, &admin, &bytes2, &len2, sig2), 0);
	bytes2[len2 - 1] ^= 0x01;
	hd_signed_request(&req, &sop, 5, bytes2, len2, admin.sign_pk, sig2);
	expect_error(send_once(f, ADMIN, &req), E(BAD_SIGNATURE),
		     "a flipped bit in the signed bytes");
	bytes2[len2 - 1] ^= 0x01;
	sig2[7] ^= 0x80;
	hd_signed_request(&req, &sop, 6, bytes2, len2, admin.sign_pk, sig2);
	expect_error(send_once(f, ADMIN, &req), E(BAD_SIGNATURE),
		     "a flipped bit in the signature");
	free(bytes2);
	expect_unchanged(f, snap, NULL, NULL);
	if (regions_with_code(f, "DRA") != 0)
		fail_last(f, "region DRA was created");
	/* The original bytes are still a replay, even now. */
	hd_signed_request(&req, &sop, 7, bytes, len, admin.sign_pk, sig);
	expect_result(send_once(f, ADMIN, &req), 1, "SOU", "fourth sending");
	free(bytes);
	sodium_memzero(&admin, sizeof(admin));
	sodium_memzero(&approver, sizeof(approver));
	if (regions_with_code(f, "SOU") != 1)
		fail_last(f, "expected region SOU exactly once");
}

/* ---- 5. reads ------------------------------------------------------------ */

#define READS_N 25

/* The reads world: 25 applications, 15 in LAG, 9 of women, 7 approved. */
struct reads {
	char refs[READS_N][REF_MAX];
};

static void reads_seed(struct fixture *f, struct reads *rd)
{
	hd_cmd *cmds = calloc(READS_N, sizeof(*cmds));
	struct sc_app apps[READS_N];
	int index[READS_N];
	struct sc_ctx x = {apps, index};
	size_t n = 0;

	assert_non_null(cmds);
	programme(f, "READS", "5 000 000,00", "100 000,00");
	for (int i = 0; i < READS_N; i++) {
		struct app a;

		app_init(f, &a, "READS", "30 000,00");
		a.sex = i % 3 == 0 ? "F" : "M";
		a.name = i % 3 == 0 ? "Zineb Tazi" : "Rachid Ouazzani";
		a.category = i % 3 == 0 ? "woman_at_home" : "youth";
		a.sector = sectors[i % 7];
		a.activity = "Couture, broderie \"fine\" et vente";
		memset(&apps[i], 0, sizeof(apps[i]));
		apps[i].region = i < 15 ? COORD_LAG : COORD_TTA;
		submit_cmd(f, &cmds[i], apps[i].region, &a);
		index[i] = i;
	}
	if (hd_batch(cmds, READS_N, PARALLEL, RUN_MS, f->env, sc_on_submit, &x))
		H_FAIL("some submissions failed");
	for (int i = 0; i < READS_N; i++) {
		snprintf(rd->refs[i], REF_MAX, "%s", apps[i].ref);
		if (i % 4 != 0)
			continue;
		base_cmd(f, &cmds[n], APPROVER1, TABLE);
		hd_cmd_add(&cmds[n], "approve");
		hd_cmd_add(&cmds[n], apps[i].ref);
		n++;
	}
	if (hd_batch(cmds, n, PARALLEL, RUN_MS, f->env, sc_on_ok, NULL))
		H_FAIL("some approvals failed");
	free(cmds);
}

/* The number of applications a --json list printed. */
static size_t listed(struct fixture *f, json_t **keep)
{
	json_t *j = last_json(f);
	size_t n = hd_json_count(j, "reference");

	if (keep != NULL)
		*keep = j;
	else
		json_decref(j);
	return n;
}

static void expect_listed(struct fixture *f, size_t want)
{
	size_t n = listed(f, NULL);
	char msg[128];

	if (n != want) {
		snprintf(msg, sizeof(msg),
			 "listed %zu applications, expected %zu", n, want);
		fail_last(f, msg);
	}
}

/* show gives the history; list filters, pages and keeps to one's region. */
static void test_reads(void **state)
{
	struct fixture *f = *state;
	struct reads *rd = calloc(1, sizeof(*rd));
	const char *ref;
	json_t *j;
	hd_csv csv;
	char why[256];
	long col;

	assert_non_null(rd);
	reads_seed(f, rd);
	ref = rd->refs[0];
	OK(f, TREASURER2, TABLE, "disburse", ref, "--amount", "10 000,00",
	   "--method", "cheque", "--reference", "CHQ-7731");
	OK(f, ADMIN, TABLE, "show", ref);
	expect_contains(f, f->r.out, ref);
	expect_contains(f, f->r.out, "submitted");
	expect_contains(f, f->r.out, "approved");
	expect_contains(f, f->r.out, "disbursement");
	expect_contains(f, f->r.out, "CHQ-7731");
	expect_contains(f, f->r.out, "10 000,00 MAD");
	OK(f, ADMIN, JSON, "show", ref);
	j = last_json(f);
	if (hd_json_count_value(j, "action", "submitted") != 1 ||
	    hd_json_count_value(j, "action", "approved") != 1 ||
	    hd_json_count_value(j, "action", "disbursement") != 1) {
		json_decref(j);
		fail_last(f, "expected the events submitted, approved and "
			     "disbursement once each");
	}
	json_decref(j);

	OK(f, ADMIN, JSON, "list", "--all");
	expect_listed(f, READS_N);
	/* 7 approved, one of which has had a tranche since. */
	OK(f, ADMIN, JSON, "list", "--state", "approved", "--all");
	expect_listed(f, 6);
	OK(f, ADMIN, JSON, "list", "--state", "disbursing", "--all");
	expect_listed(f, 1);
	OK(f, ADMIN, JSON, "list", "--state", "submitted", "--all");
	expect_listed(f, READS_N - 7);
	OK(f, ADMIN, JSON, "list", "--sex", "F", "--all");
	expect_listed(f, 9);
	OK(f, ADMIN, JSON, "list", "--region", "TTA", "--all");
	expect_listed(f, 10);
	OK(f, AUDITOR, JSON, "list", "--region", "LAG", "--sex", "F", "--all");
	expect_listed(f, 5);
	OK(f, ADMIN, JSON, "list", "--page-size", "10", "--all");
	expect_listed(f, READS_N);
	OK(f, ADMIN, JSON, "list", "--page-size", "10");
	expect_listed(f, 10);
	/* A coordinator sees its own region only. */
	OK(f, COORD_LAG, JSON, "list", "--all");
	if (listed(f, &j) != 15 ||
	    hd_json_count_value(j, "region", "LAG") != 15) {
		json_decref(j);
		fail_last(f, "LAG's coordinator should see its 15 applications "
			     "and no other");
	}
	json_decref(j);
	OK(f, COORD_TTA, JSON, "list", "--page-size", "3", "--all");
	expect_listed(f, 10);

	/* CSV: a header and one row per application, quotes and all. */
	OK(f, ADMIN, CSV, "list", "--all");
	if (hd_csv_parse(f->r.out, &csv, why, sizeof(why)) != 0)
		fail_last(f, why);
	col = hd_csv_column(&csv, "reference");
	if (csv.rows != READS_N + 1 || col < 0) {
		hd_csv_free(&csv);
		fail_last(f,
			  "expected a header with \"reference\" and 25 rows");
	}
	for (int i = 0; i < READS_N; i++) {
		int found = 0;

		for (size_t r = 1; r < csv.rows; r++)
			found |= strcmp(hd_csv_cell(&csv, r, (size_t)col),
					rd->refs[i]) == 0;
		if (!found) {
			hd_csv_free(&csv);
			fail_last(f, "an application is missing from the CSV");
		}
	}
	col = hd_csv_column(&csv, "activity");
	if (col >= 0 && strcmp(hd_csv_cell(&csv, 1, (size_t)col),
			       "Couture, broderie \"fine\" et vente") != 0) {
		hd_csv_free(&csv);
		fail_last(f, "the activity did not survive CSV quoting");
	}
	hd_csv_free(&csv);
	free(rd);
}

#define AR_NAME	    "خديجة العلوي"
#define AR_ACTIVITY "خياطة تقليدية وتطريز"

/* Arabic names and activities come back as they were typed. */
static void test_reads_arabic(void **state)
{
	struct fixture *f = *state;
	char ref[REF_MAX];
	struct app a;
	json_t *j;

	programme(f, "ARABE", "1 000 000,00", "100 000,00");
	app_init(f, &a, "ARABE", "45 000,00");
	a.name = AR_NAME;
	a.activity = AR_ACTIVITY;
	a.sector = "crafts";
	submit(f, COORD_LAG, &a, ref);
	OK(f, ADMIN, TABLE, "show", ref);
	expect_contains(f, f->r.out, AR_NAME);
	expect_contains(f, f->r.out, AR_ACTIVITY);
	OK(f, AUDITOR, JSON, "show", ref);
	j = last_json(f);
	if (!hd_json_has_string(j, AR_NAME) ||
	    !hd_json_has_string(j, AR_ACTIVITY)) {
		json_decref(j);
		fail_last(f, "the Arabic name or activity is not in the JSON");
	}
	json_decref(j);
	OK(f, APPROVER1, TABLE, "show", ref);
	expect_contains(f, f->r.out, AR_NAME);
	OK(f, ADMIN, CSV, "list", "--all");
	expect_contains(f, f->r.out, AR_ACTIVITY);
}

/*
 * The beneficiary's name goes to head office roles only (the schema:
 * "Given to head office roles only; empty for others").
 */
static void test_reads_name_head_office_only(void **state)
{
	struct fixture *f = *state;
	char ref[REF_MAX];
	struct app a;
	json_t *j;

	programme(f, "ARABE", "1 000 000,00", "100 000,00");
	app_init(f, &a, "ARABE", "45 000,00");
	a.name = AR_NAME;
	submit(f, COORD_LAG, &a, ref);
	OK(f, ADMIN, JSON, "show", ref);
	j = last_json(f);
	if (!hd_json_has_string(j, AR_NAME)) {
		json_decref(j);
		fail_last(f, "head office does not see the name");
	}
	json_decref(j);
	OK(f, COORD_LAG, JSON, "show", ref);
	j = last_json(f);
	if (hd_json_has_string(j, AR_NAME)) {
		json_decref(j);
		fail_last(f, "a coordinator is given the beneficiary's name");
	}
	json_decref(j);
}

/* ---- 6. revocation ------------------------------------------------------- */

/*
 * "tamwil revoke" takes effect at once: a channel the coordinator opened
 * before is closed, and its next whoami is refused as not enrolled.
 */
static void test_revoke(void **state)
{
	struct fixture *f = *state;
	Tamwil__V1__WhoamiRequest wbody;
	Tamwil__V1__Request req;
	Tamwil__V1__Response *resp;
	char ref[REF_MAX];
	struct app a;
	h_noise c;

	programme(f, "REV", "1 000 000,00", "100 000,00");
	enrol(f, COORD_LAG2);
	OK(f, COORD_LAG2, TABLE, "whoami");
	expect_contains(f, f->r.out, P[COORD_LAG2].name);
	app_init(f, &a, "REV", "20 000,00");
	submit(f, COORD_LAG2, &a, ref);

	/* A channel opened before the revocation. */
	assert_int_equal(h_noise_start(&c, f->d.port, f->key[COORD_LAG2],
				       f->server_pub, IO_MS),
			 0);
	h_whoami_request(&req, &wbody, 1);
	assert_int_equal(h_noise_finish(&c, &req, IO_MS), H_IO_OK);
	assert_int_equal(h_noise_recv(&c, &resp, IO_MS), H_IO_OK);
	assert_int_equal(resp->body_case, TAMWIL__V1__RESPONSE__BODY_WHOAMI);
	tamwil__v1__response__free_unpacked(resp, NULL);

	REFUSED_NOCHANGE(f, "invalid_argument", ref, NULL, ADMIN, "revoke",
			 f->pub[ADMIN]);
	OK(f, ADMIN, TABLE, "revoke", f->pub[COORD_LAG2]);
	/* The channel it opened before is closed at once, unasked. */
	if (h_wait_closed(c.fd, IO_MS) != H_CLOSE_CLOSED) {
		h_noise_close(&c);
		H_FAIL("the revoked key's open channel was not closed");
	}
	h_noise_close(&c);
	RUN(f, COORD_LAG2, TABLE, "whoami");
	if (f->r.status == 0 || strstr(f->r.err, "not enrolled") == NULL)
		fail_last(f, "the revoked coordinator's whoami should fail "
			     "with \"not enrolled\"");
	app_init(f, &a, "REV", "20 000,00");
	{
		hd_cmd cmd;

		submit_cmd(f, &cmd, COORD_LAG2, &a);
		run_cmd(f, &cmd);
		if (f->r.status == 0 ||
		    strstr(f->r.err, "not enrolled") == NULL)
			fail_last(f, "the revoked coordinator's submit should "
				     "fail with \"not enrolled\"");
	}

	REFUSED_NOCHANGE(f, "unknown_principal", ref, NULL, ADMIN, "revoke",
			 f->pub[COORD_LAG2]);
	/* The other coordinator of LAG is still served. */
	OK(f, COORD_LAG, TABLE, "whoami");
	OK(f, COORD_LAG, TABLE, "withdraw", ref, "--reason", "reprise");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, world_setup, world_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_published_figures),
	    T(test_refuse_other_region),
	    T(test_refuse_wrong_role),
	    T(test_maker_checker),
	    T(test_refuse_bad_state),
	    T(test_refuse_amount_limits),
	    T(test_refuse_duplicate),
	    T(test_refuse_bad_amounts),
	    T(test_refuse_bad_text),
	    T(test_refuse_unknown),
	    T(test_refuse_currency),
	    T(test_refuse_not_eligible),
	    T(test_concurrent_approvals),
	    T(test_retry_applies_once),
	    T(test_reads),
	    T(test_reads_arabic),
	    T(test_reads_name_head_office_only),
	    T(test_revoke),
	};

	return cmocka_run_group_tests_name("domain", tests, group_setup,
					   group_teardown);
}
