/*
 * End-to-end tests of `tamwil import`, `tamwil setup` and the help texts,
 * through a real tamwild on 127.0.0.1 and real tamwil processes: a
 * spreadsheet of 1 000 rows (byte order mark, ';', Arabic names) of which
 * 10 are bad, checked, refused as a whole, sent with --continue; head
 * office's refusal of one row leaving the others; head office stopped
 * before or during an import, the rows waiting in the outbox until
 * tamwil sync applies each once; the import killed, or without an
 * outbox; setup writing the file whoami then reads; and `tamwil CMD
 * --help` for every command.
 *
 * TAMWIL_E2E_KEEP=1 keeps the temporary folder (state, logs) for a look.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wchar.h>
#include <locale.h>

#include <cmocka.h>
#include <sodium.h>

#include "harness.h"
#include "harness_domain.h"
#include "keyfile.h"
#include "tamwil-outbox.h"

#define RUN_MS	  30000
#define IMPORT_MS 240000
#define ROWS	  1000
#define N_BAD	  10
/* The sheet head office is stopped in, or the import killed, part-way. */
#define CUT_ROWS    200
#define CUT_GOOD    (CUT_ROWS - 3) /* the bad rows of lines 17, 58 and 120 */
#define EXIT_QUEUED 75

struct fixture {
	char dir[H_PATH_MAX];
	char home[H_PATH_MAX + 8];
	/* HOME in the temp dir, no TAMWIL_CONFIG nor XDG_STATE_HOME */
	const char *env[4];
	char admin_key[H_PATH_MAX], admin_pub[H_PATH_MAX];
	char coord_key[H_PATH_MAX], coord_pub[H_PATH_MAX];
	char state[H_PATH_MAX], server_pub[H_PATH_MAX], log[H_PATH_MAX];
	char server[64];
	h_daemon d;
	hd_result r;
	char last[4096];
};

/* ---- running tamwil ------------------------------------------------------ */

/* Runs c into f->r with the environment env, remembering its text. */
static hd_result *run_env(struct fixture *f, const hd_cmd *c,
			  const char *const env[], int timeout_ms)
{
	hd_cmd_text(c, f->last, sizeof(f->last));
	if (c->overflow)
		H_FAIL("command line too long: %s", f->last);
	if (hd_run(&f->r, timeout_ms, env, c) != 0)
		H_FAIL("cannot run: %s", f->last);
	return &f->r;
}

static void fail_last(struct fixture *f, const char *msg)
{
	fprintf(stderr, "---- command: %s\n", f->last);
	hd_result_print(&f->r, "tamwil");
	H_FAIL("%s", msg);
}

static void expect_status(struct fixture *f, int status)
{
	char msg[64];

	if (!f->r.exited || f->r.timed_out || f->r.status != status) {
		snprintf(msg, sizeof(msg), "expected exit status %d", status);
		fail_last(f, msg);
	}
}

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

/* Starts "tamwil --server ... --server-key ... --key KEY" in c. */
static void base_cmd(const struct fixture *f, hd_cmd *c, const char *key)
{
	hd_cmd_init(c, h_tamwil_path());
	hd_cmd_add(c, "--server");
	hd_cmd_add(c, f->server);
	hd_cmd_add(c, "--server-key");
	hd_cmd_add(c, f->server_pub);
	hd_cmd_add(c, "--key");
	hd_cmd_add(c, key);
}

/* "tamwil --server ... --key KEY [--json] ARGS..." into f->r. */
__attribute__((sentinel)) static hd_result *
tamwil(struct fixture *f, const char *key, int json, ...)
{
	hd_cmd c;
	va_list ap;

	base_cmd(f, &c, key);
	if (json)
		hd_cmd_add(&c, "--json");
	va_start(ap, json);
	hd_cmd_add_va(&c, ap);
	va_end(ap);
	return run_env(f, &c, f->env, IMPORT_MS);
}
#define TAMWIL(f, key, json, ...)                                              \
	tamwil(f, key, json, __VA_ARGS__, (char *)NULL)

/* The applications head office has, from the admin's --json list --all. */
static size_t applications(struct fixture *f, json_t **out)
{
	json_t *j;
	size_t n;

	TAMWIL(f, f->admin_key, 1, "list", "--all");
	expect_status(f, 0);
	j = hd_json_parse(f->r.out);
	if (j == NULL)
		fail_last(f, "list --json is not JSON");
	n = hd_json_count(j, "reference");
	if (out != NULL)
		*out = j;
	else
		json_decref(j);
	return n;
}

/* ---- the world ----------------------------------------------------------- */

static void run_tamwild(struct fixture *f, const char *const args[])
{
	hd_cmd c;

	hd_cmd_init(&c, h_tamwild_path());
	for (int i = 0; args[i] != NULL; i++)
		hd_cmd_add(&c, args[i]);
	run_env(f, &c, f->env, RUN_MS);
	expect_status(f, 0);
}

/* Starts head office on its state (again), on a fresh port; 0 or -1. */
static int start_daemon(struct fixture *f)
{
	if (h_daemon_start(&f->d, f->state, f->log, NULL, f->env) != 0)
		return -1;
	snprintf(f->server, sizeof(f->server), "127.0.0.1:%d", f->d.port);
	return 0;
}

/*
 * A fresh head office: region LAG, a coordinator of it, and programme
 * INDH in MAD (ceiling 50 000,00).
 */
static int world_setup(void **state)
{
	struct fixture *f = *state;
	const char *init[] = {
	    "init",	  "--state",	  f->state,	      "--admin",
	    f->admin_pub, "--admin-name", "Amina El Idrissi", NULL};
	const char *pubkey[] = {"pubkey", "--state", f->state, NULL};

	if (f == NULL)
		return -1;
	h_daemon_kill(&f->d);
	h_tmpdir_remove(f->state);
	run_tamwild(f, init);
	run_tamwild(f, pubkey);
	if (h_write_file(f->server_pub, f->r.out) != 0 || start_daemon(f) != 0)
		return -1;
	TAMWIL(f, f->admin_key, 0, "region", "add", "LAG",
	       "Laâyoune-Sakia El Hamra");
	expect_status(f, 0);
	TAMWIL(f, f->admin_key, 0, "enrol", f->coord_pub, "--name",
	       "Fatima Zahra Bennani", "--role", "coordinator", "--region",
	       "LAG");
	expect_status(f, 0);
	TAMWIL(f, f->admin_key, 0, "programme", "add", "INDH", "--name",
	       "Initiative nationale", "--currency", "MAD", "--envelope",
	       "100 000 000,00", "--ceiling", "50 000,00");
	expect_status(f, 0);
	return 0;
}

static int world_teardown(void **state)
{
	struct fixture *f = *state;

	h_daemon_kill(&f->d);
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
	/* The table's widths are counted as a UTF-8 terminal shows them. */
	if (setlocale(LC_CTYPE, "C.UTF-8") == NULL)
		return -1;
	if (h_tamwild_path() == NULL || h_tamwil_path() == NULL) {
		fprintf(stderr, "set TAMWILD and TAMWIL to the binaries\n");
		return -1;
	}
	if (h_tmpdir_create(f->dir, sizeof(f->dir)) != 0 ||
	    h_path(f->state, sizeof(f->state), f->dir, "state") != 0 ||
	    h_path(f->server_pub, sizeof(f->server_pub), f->dir,
		   "server.pub") != 0 ||
	    h_path(f->log, sizeof(f->log), f->dir, "tamwild.log") != 0)
		return -1;
	snprintf(f->home, sizeof(f->home), "HOME=%s", f->dir);
	f->env[0] = f->home;
	f->env[1] = "TAMWIL_CONFIG";
	f->env[2] = "XDG_STATE_HOME";
	f->env[3] = NULL;
	if (h_keygen(f->dir, "admin", f->env, f->admin_key, f->admin_pub) !=
		0 ||
	    h_keygen(f->dir, "coord", f->env, f->coord_key, f->coord_pub) != 0)
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

/* ---- the spreadsheet ----------------------------------------------------- */

/* A bad row: its line in the file, the row, and what must be said. */
struct bad_row {
	int line;
	const char *row;
	const char *said; /* "line N: " is put in front */
};

/* The bad rows, at the lines they take (the header is line 1). */
static const struct bad_row BAD[N_BAD] = {
    {17,
     "INDH;BAD17;Said Ouahbi;M;31/02/1990;youth;commerce;Kiosque;"
     "\"20 000,00\";0",
     "birth_date: 31/02/1990 is not a date"},
    {58, "INDH;BAD58;Said Ouahbi;X;1990-01-01;youth;commerce;Kiosque;20000;0",
     "sex: 'X' is not F or M"},
    {120, "INDH;BAD120;Said Ouahbi;M;1990-01-01;pilot;commerce;Kiosque;20000;0",
     "category: 'pilot' is not a category"},
    {233, "INDH;BAD233;Said Ouahbi;M;1990-01-01;youth;commerce;Kiosque;abc;0",
     "amount: \"abc\": not an amount"},
    {301, "INDH;;Said Ouahbi;M;1990-01-01;youth;commerce;Kiosque;20000;0",
     "national_id: empty"},
    {402,
     "INDH;ID000003;Said Ouahbi;M;1990-01-01;youth;commerce;Kiosque;20000;"
     "0",
     "national_id: ID000003 is already on line 5 for programme INDH"},
    {555, "INDH;BAD555;Said;M;1990-01-01;youth;commerce;Kiosque;20000;0",
     "name: 'Said' is one word"},
    {678, "INDH;BAD678;Said Ouahbi;M;1990-01-01;youth;commerce;20000;0",
     "9 fields where the header has 10 columns"},
    {801,
     "INDH;BAD801;Said Ouahbi;M;1990-01-01;youth;commerce;Kiosque;20000;"
     "12,345",
     "contribution: \"12,345\" is ambiguous"},
    {999, "INDH;BAD999;Said Ouahbi;M;1990-01-01;youth;commerce;;20000;0",
     "activity: empty"},
};

/* Arabic first and last names, taken in turn. */
static const char *const AR_FIRST[] = {"\xd8\xae\xd8\xaf\xd9\x8a\xd8\xac\xd8"
				       "\xa9",
				       "\xd9\x81\xd8\xa7\xd8\xb7\xd9\x85\xd8"
				       "\xa9",
				       "\xd9\x8a\xd9\x88\xd8\xb3\xd9\x81"};
static const char *const AR_LAST[] = {"\xd8\xa7\xd9\x84\xd8\xb9\xd9\x84\xd9"
				      "\x88\xd9\x8a",
				      "\xd8\xa8\xd9\x86\xd8\xa7\xd9\x86\xd9"
				      "\x8a"};

/*
 * Writes a file of rows rows (1 000: the whole list of bad rows), with a
 * byte order mark, ';', CRLF, Arabic names, French amounts and a quoted
 * activity holding a ';', to path.
 */
static void write_sheet(const char *path, int rows)
{
	FILE *out = fopen(path, "wb");
	int b = 0;

	if (out == NULL)
		H_FAIL("cannot write %s", path);
	fputs("\xEF\xBB\xBFprogramme;CIN;Nom complet;Sexe;Date de naissance;"
	      "Catégorie;Secteur;Activité;Montant;Apport\r\n",
	      out);
	for (int line = 2; line <= rows + 1; line++) {
		int i = line - 2;

		if (b < N_BAD && BAD[b].line == line) {
			fprintf(out, "%s\r\n", BAD[b++].row);
			continue;
		}
		fprintf(out,
			"INDH;ID%06d;%s %s;%s;%02d/%02d/%d;rural_woman;crafts;"
			"\"Tissage; tapis n°%d\";\"%d %03d,%02d\";%d\r\n",
			i, AR_FIRST[i % 3], AR_LAST[i % 2], i % 2 ? "F" : "M",
			1 + i % 28, 1 + i % 12, 1960 + i % 40, i, 10 + i % 30,
			i % 1000, i % 100, i % 500);
	}
	if (fclose(out) != 0)
		H_FAIL("cannot write %s", path);
}

/* Every bad row is reported on stderr, with its line. */
static void expect_bad_rows(struct fixture *f)
{
	char want[256];

	for (int b = 0; b < N_BAD; b++) {
		snprintf(want, sizeof(want), "line %d: %s", BAD[b].line,
			 BAD[b].said);
		expect_contains(f, f->r.err, want);
	}
}

/* The display columns of the line [s, s+len) (a wide character 2). */
static size_t columns(const char *s, size_t len)
{
	wchar_t wide[1024];
	char line[4096];
	size_t n;
	int w;

	if (len >= sizeof(line))
		return (size_t)-1;
	memcpy(line, s, len);
	line[len] = '\0';
	n = mbstowcs(wide, line, sizeof(wide) / sizeof(wide[0]));
	if (n == (size_t)-1)
		return (size_t)-1;
	w = wcswidth(wide, n);
	return w < 0 ? (size_t)-1 : (size_t)w;
}

/*
 * The admin's table of applications (names in Arabic) fits $COLUMNS,
 * counted in display columns, and shows amounts the French way.
 */
static void expect_table_fits(struct fixture *f, int width)
{
	char cols[32], home_env[H_PATH_MAX + 8];
	const char *env[] = {home_env, "TAMWIL_CONFIG", cols, NULL};
	const char *p, *nl;
	hd_cmd c;

	snprintf(cols, sizeof(cols), "COLUMNS=%d", width);
	snprintf(home_env, sizeof(home_env), "HOME=%s", f->dir);
	base_cmd(f, &c, f->admin_key);
	hd_cmd_add(&c, "list");
	hd_cmd_add(&c, "--all");
	run_env(f, &c, env, RUN_MS);
	expect_status(f, 0);
	expect_contains(f, f->r.out, ",");
	expect_contains(f, f->r.out, "\xd8"); /* Arabic, cut or not */
	for (p = f->r.out; *p != '\0'; p = nl + 1) {
		nl = strchr(p, '\n');
		if (nl == NULL)
			break;
		if (columns(p, (size_t)(nl - p)) > (size_t)width)
			fail_last(f, "a line of the table is wider than "
				     "$COLUMNS");
	}
}

static void test_import_thousand_rows(void **state)
{
	struct fixture *f = *state;
	char sheet[H_PATH_MAX];
	json_t *j, *applied, *listed;
	size_t n;

	/*
	 * The bad rows lie across the thousand lines, so the sheet cannot
	 * shrink: under a checker (TAMWIL_E2E_WRAP) its thousand operations
	 * would take most of an hour, and the 200-row sheets of
	 * the tests below go through the same code.
	 */
	if (h_slow())
		skip();
	if (h_path(sheet, sizeof(sheet), f->dir, "beneficiaires.csv") != 0)
		H_FAIL("path too long");
	write_sheet(sheet, ROWS);

	/* --dry-run: every bad row said, nothing sent. */
	TAMWIL(f, f->coord_key, 0, "import", "--dry-run", sheet);
	expect_status(f, 1);
	expect_bad_rows(f);
	expect_contains(f, f->r.out, "1000 rows, 990 good, 10 bad");
	expect_contains(f, f->r.out, "nothing sent (--dry-run)");
	assert_int_equal(applications(f, NULL), 0);

	/* The default: a bad row, and nothing is sent at all. */
	TAMWIL(f, f->coord_key, 0, "import", sheet);
	expect_status(f, 1);
	expect_bad_rows(f);
	expect_contains(f, f->r.out,
			"nothing sent: correct the lines above, "
			"or pass --continue");
	assert_int_equal(applications(f, NULL), 0);

	/* --continue: exactly the 990 good rows, each with its reference. */
	TAMWIL(f, f->coord_key, 1, "import", "--continue", sheet);
	expect_status(f, 1); /* not every row went in */
	j = hd_json_parse(f->r.out);
	if (j == NULL)
		fail_last(f, "import --json is not JSON");
	applied = json_object_get(j, "applied");
	assert_int_equal(json_array_size(applied), ROWS - N_BAD);
	assert_int_equal(json_array_size(json_object_get(j, "refused")), 0);
	assert_int_equal(json_array_size(json_object_get(j, "queued")), 0);
	assert_int_equal(json_array_size(json_object_get(j, "problems")),
			 N_BAD);
	n = applications(f, &listed);
	assert_int_equal(n, ROWS - N_BAD);
	for (size_t i = 0; i < json_array_size(applied); i += 97) {
		json_t *a = json_array_get(applied, i);
		const char *ref =
		    json_string_value(json_object_get(a, "reference"));

		int64_t entry = 0;

		assert_non_null(ref);
		assert_non_null(hd_json_find(listed, "reference", ref));
		/* Each went through the outbox. */
		assert_int_equal(hd_json_int(a, "outbox_entry", &entry), 0);
		assert_true(entry > 0);
	}
	json_decref(listed);
	json_decref(j);
	expect_table_fits(f, 140);
	expect_table_fits(f, 110);
	expect_contains(f, f->r.out, "\xe2\x80\xa6"); /* cut to fit */
}

/* ---- head office out of reach ------------------------------------------- */

/*
 * The coordinator's tamwil --json sync: every waiting row accepted, none
 * refused, nothing left. Returns how many were accepted.
 */
static int64_t sync_all(struct fixture *f)
{
	int64_t accepted = -1, refused = -1, waiting = -1;
	json_t *j;

	TAMWIL(f, f->coord_key, 1, "sync");
	expect_status(f, 0);
	j = hd_json_parse(f->r.out);
	if (j == NULL || hd_json_int(j, "accepted", &accepted) != 0 ||
	    hd_json_int(j, "refused", &refused) != 0 ||
	    hd_json_int(j, "waiting", &waiting) != 0 || refused != 0 ||
	    waiting != 0)
		fail_last(f, "expected every waiting row accepted by sync");
	json_decref(j);
	return accepted;
}

/*
 * tamwil outbox lists exactly the entries of the import's "queued" list,
 * each a waiting submission.
 */
static void expect_waiting(struct fixture *f, json_t *queued)
{
	json_t *j, *entries;

	TAMWIL(f, f->coord_key, 1, "outbox");
	expect_status(f, 0);
	j = hd_json_parse(f->r.out);
	entries = json_object_get(j, "entries");
	if (json_array_size(entries) != json_array_size(queued))
		fail_last(f, "the outbox does not list every queued row");
	for (size_t i = 0; i < json_array_size(queued); i++) {
		int64_t want = 0, id = -1;
		json_t *e = NULL;

		if (hd_json_int(json_array_get(queued, i), "outbox_entry",
				&want) != 0 ||
		    want <= 0)
			fail_last(f, "a queued row has no outbox entry");
		for (size_t k = 0; k < json_array_size(entries); k++) {
			e = json_array_get(entries, k);
			if (hd_json_int(e, "id", &id) == 0 && id == want)
				break;
			e = NULL;
		}
		if (e == NULL ||
		    strcmp(json_string_value(json_object_get(e, "status")),
			   "waiting") != 0 ||
		    strcmp(json_string_value(json_object_get(e, "kind")),
			   "submit") != 0)
			fail_last(f, "a queued row is not a waiting submission "
				     "in the outbox");
	}
	json_decref(j);
}

/*
 * Writes a sheet of n rows without a region column (national IDs
 * PREFIX000 on) to path.
 */
static void write_small_sheet(const char *path, const char *prefix, int n)
{
	FILE *out = fopen(path, "w");

	if (out == NULL)
		H_FAIL("cannot write %s", path);
	fputs("programme,national_id,name,sex,birth_date,category,sector,"
	      "activity,amount\n",
	      out);
	for (int i = 0; i < n; i++)
		fprintf(out,
			"INDH,%s%03d,Nadia Berrada,F,1985-05-05,youth,"
			"services,Salon,\"%d 000,00\"\n",
			prefix, i, 10 + i);
	if (fclose(out) != 0)
		H_FAIL("cannot write %s", path);
}

/* The CSV summary holds n "queued" records, each with its outbox entry. */
static void expect_csv_queued(struct fixture *f, size_t n)
{
	char why[256];
	size_t seen = 0;
	long status, entry;
	hd_csv t;

	if (hd_csv_parse(f->r.out, &t, why, sizeof(why)) != 0)
		fail_last(f, why);
	status = hd_csv_column(&t, "status");
	entry = hd_csv_column(&t, "outbox_entry");
	if (status < 0 || entry < 0)
		fail_last(f, "the CSV summary lacks status or outbox_entry");
	for (size_t r = 1; r < t.rows; r++) {
		if (strcmp(hd_csv_cell(&t, r, (size_t)status), "queued") != 0)
			continue;
		if (atoll(hd_csv_cell(&t, r, (size_t)entry)) <= 0)
			fail_last(f, "a queued record has no outbox entry");
		seen++;
	}
	hd_csv_free(&t);
	if (seen != n)
		fail_last(f, "not every row is queued in the CSV summary");
}

/*
 * Head office stopped before the import: without the programme's
 * currency (never learnt) nothing is queued and the import says what to
 * do; with --currency and --region every row waits in the outbox (75),
 * and tamwil sync applies each once head office is back. Once the office
 * has imported online, it knows the currency and its region, and an
 * offline import needs neither.
 */
static void test_import_offline(void **state)
{
	struct fixture *f = *state;
	char sheet[H_PATH_MAX];
	json_t *j, *queued;

	if (h_path(sheet, sizeof(sheet), f->dir, "hors-ligne.csv") != 0)
		H_FAIL("path too long");
	write_small_sheet(sheet, "OFF", 20);
	h_daemon_kill(&f->d);

	TAMWIL(f, f->coord_key, 0, "import", sheet);
	expect_status(f, 1);
	expect_contains(f, f->r.err, "cannot reach");
	expect_contains(f, f->r.err,
			"has not learnt the currency of programme INDH (20 "
			"rows): give it with --currency CODE");
	expect_contains(f, f->r.err,
			"or run the import once head office can be reached");
	TAMWIL(f, f->coord_key, 0, "outbox");
	expect_status(f, 0);
	expect_contains(f, f->r.out, "nothing waits for head office");

	TAMWIL(f, f->coord_key, 0, "import", "--currency", "XYZ", sheet);
	expect_status(f, 2);
	expect_contains(f, f->r.err,
			"--currency: 'XYZ' is not a currency Tamwil keeps");

	TAMWIL(f, f->coord_key, 0, "import", "--currency", "MAD", sheet);
	expect_status(f, 1);
	expect_contains(f, f->r.err,
			"line 2: region: empty, and this office has not "
			"learnt your region (head office cannot be reached): "
			"fill it in, or pass --region CODE");
	expect_contains(f, f->r.out, "nothing sent");

	TAMWIL(f, f->coord_key, 1, "import", "--currency", "MAD", "--region",
	       "LAG", sheet);
	expect_status(f, EXIT_QUEUED);
	expect_contains(f, f->r.err,
			"queued: 20 operations waiting for head office "
			"(tamwil sync sends them)");
	j = hd_json_parse(f->r.out);
	if (j == NULL)
		fail_last(f, "import --json is not JSON");
	queued = json_object_get(j, "queued");
	if (json_array_size(queued) != 20 ||
	    json_array_size(json_object_get(j, "applied")) != 0 ||
	    json_array_size(json_object_get(j, "not_sent")) != 0 ||
	    strstr(json_string_value(json_object_get(j, "stopped")),
		   "cannot reach") == NULL)
		fail_last(f, "expected the 20 rows queued, and why");
	expect_waiting(f, queued);
	json_decref(j);

	if (start_daemon(f) != 0)
		H_FAIL("tamwild did not start again");
	assert_int_equal(sync_all(f), 20);
	assert_int_equal(applications(f, NULL), 20);

	/* Online once: the programme's currency and the region are learnt. */
	write_small_sheet(sheet, "ONL", 1);
	TAMWIL(f, f->coord_key, 0, "import", sheet);
	expect_status(f, 0);
	expect_contains(f, f->r.out, "applied 1 application");
	h_daemon_kill(&f->d);

	write_small_sheet(sheet, "LRN", 3);
	TAMWIL(f, f->coord_key, 0, "import", sheet);
	expect_status(f, EXIT_QUEUED);
	expect_contains(f, f->r.out, "applied 0 applications");
	expect_contains(f, f->r.out,
			"queued 3 rows in the outbox: cannot reach");
	expect_contains(f, f->r.out,
			"tamwil sync sends them once head office can be "
			"reached");

	/* A --currency other than the programme's is a bad row. */
	write_small_sheet(sheet, "CSV", 2);
	TAMWIL(f, f->coord_key, 0, "import", "--currency", "DZD", sheet);
	expect_status(f, 1);
	expect_contains(f, f->r.err,
			"line 2: programme: programme INDH is in MAD, not DZD "
			"as --currency says");
	TAMWIL(f, f->coord_key, 0, "--csv", "import", sheet);
	expect_status(f, EXIT_QUEUED);
	expect_csv_queued(f, 2);

	if (start_daemon(f) != 0)
		H_FAIL("tamwild did not start again");
	assert_int_equal(sync_all(f), 5);
	assert_int_equal(applications(f, NULL), 20 + 1 + 3 + 2);
}

/*
 * Writes a sheet of CUT_ROWS rows to DIR/name, starts the coordinator's
 * "tamwil --json import --continue" of it in p, and returns once head
 * office has applied its 50th row.
 */
static void import_until_50th(struct fixture *f, const char *name, h_proc *p)
{
	const char *const needles[] = {"applied submit_application", "-000050",
				       NULL};
	char sheet[H_PATH_MAX];
	long from = h_file_size(f->log);
	hd_cmd c;

	if (h_path(sheet, sizeof(sheet), f->dir, name) != 0)
		H_FAIL("path too long");
	write_sheet(sheet, CUT_ROWS);
	base_cmd(f, &c, f->coord_key);
	hd_cmd_add(&c, "--json");
	hd_cmd_add(&c, "import");
	hd_cmd_add(&c, "--continue");
	hd_cmd_add(&c, sheet);
	hd_cmd_text(&c, f->last, sizeof(f->last));
	if (h_spawn(p, c.argv, f->env) != 0)
		H_FAIL("cannot run: %s", f->last);
	if (h_log_wait(f->log, from < 0 ? 0 : from, needles, IMPORT_MS) != 0) {
		hd_collect(p, h_now_ms() + IMPORT_MS, &f->r);
		fail_last(f, "head office never applied the 50th row");
	}
}

/*
 * Head office stops in the middle of an import: the rows it acknowledged
 * are all there once it is back (the one in flight may be too), the rest
 * wait in the outbox (75), and tamwil sync brings head office to exactly
 * the good rows, none twice.
 */
static void test_import_connection_lost(void **state)
{
	struct fixture *f = *state;
	json_t *j, *applied, *queued, *listed;
	size_t n_applied, n_queued, n;
	h_proc p;

	import_until_50th(f, "coupure.csv", &p);
	h_daemon_kill(&f->d);
	if (hd_collect(&p, h_now_ms() + IMPORT_MS, &f->r) != 0)
		H_FAIL("cannot collect: %s", f->last);
	expect_status(f, EXIT_QUEUED);
	expect_contains(f, f->r.err, "queued: ");
	j = hd_json_parse(f->r.out);
	if (j == NULL)
		fail_last(f, "import --json is not JSON");
	applied = json_object_get(j, "applied");
	queued = json_object_get(j, "queued");
	n_applied = json_array_size(applied);
	n_queued = json_array_size(queued);
	if (n_applied < 49 || n_queued == 0 ||
	    json_array_size(json_object_get(j, "not_sent")) != 0 ||
	    n_applied + n_queued != CUT_GOOD ||
	    json_string_value(json_object_get(j, "stopped")) == NULL)
		fail_last(f, "expected the rows before the stop applied, the "
			     "others queued, and why it stopped");
	expect_waiting(f, queued);

	if (start_daemon(f) != 0)
		H_FAIL("tamwild did not start again");
	n = applications(f, &listed);
	if (n < n_applied || n > n_applied + 1)
		fail_last(f, "head office does not have exactly the rows it "
			     "acknowledged (and at most the one in flight)");
	for (size_t i = 0; i < n_applied; i++) {
		const char *ref = json_string_value(
		    json_object_get(json_array_get(applied, i), "reference"));

		assert_non_null(ref);
		assert_non_null(hd_json_find(listed, "reference", ref));
	}
	json_decref(listed);
	json_decref(j);

	/* The one in flight, if applied, is answered as applied before. */
	assert_int_equal(sync_all(f), n_queued);
	assert_int_equal(applications(f, NULL), CUT_GOOD);
}

/*
 * The import itself is killed (SIGKILL) mid-way: whatever reached the
 * outbox is at head office once tamwil sync has run, each row once.
 */
static void test_import_killed(void **state)
{
	struct fixture *f = *state;
	size_t accepted = 0, waiting = 0;
	json_t *j, *entries;
	h_proc p;

	import_until_50th(f, "tue.csv", &p);
	kill(p.pid, SIGKILL);
	if (hd_collect(&p, h_now_ms() + IMPORT_MS, &f->r) != 0)
		H_FAIL("cannot collect: %s", f->last);

	TAMWIL(f, f->coord_key, 1, "outbox", "--all");
	expect_status(f, 0);
	j = hd_json_parse(f->r.out);
	entries = json_object_get(j, "entries");
	for (size_t i = 0; i < json_array_size(entries); i++) {
		const char *st = json_string_value(
		    json_object_get(json_array_get(entries, i), "status"));

		accepted += st != NULL && strcmp(st, "accepted") == 0;
		waiting += st != NULL && strcmp(st, "waiting") == 0;
	}
	json_decref(j);
	if (accepted < 49 || accepted + waiting >= CUT_GOOD)
		fail_last(f, "expected the rows sent before the kill in the "
			     "outbox, and not the others");
	assert_int_equal(sync_all(f), waiting);
	assert_int_equal(applications(f, NULL), accepted + waiting);
}

/*
 * The coordinator's outbox cannot be opened (a folder stands where its
 * file goes): no row can be queued, so none is sent, and the summary says
 * which and from which line to import again.
 */
static void test_import_outbox_broken(void **state)
{
	struct fixture *f = *state;
	char sheet[H_PATH_MAX], dir[H_PATH_MAX + 32], path[2 * H_PATH_MAX];
	char sfp[KEYFILE_FINGERPRINT_LEN], pfp[KEYFILE_FINGERPRINT_LEN];
	keyfile_public server;
	keyfile_secret key;

	if (keyfile_read_public(f->server_pub, &server) != 0 ||
	    keyfile_read_secret(f->coord_key, NULL, &key) != 0)
		H_FAIL("cannot read the keys");
	keyfile_fingerprint(server.noise_pk, server.sign_pk, sfp);
	keyfile_fingerprint(key.noise_pk, key.sign_pk, pfp);
	sodium_memzero(&key, sizeof(key));
	snprintf(dir, sizeof(dir), "%s/.local/state/tamwil", f->dir);
	if (tamwil_outbox_path(dir, sfp, pfp, path, sizeof(path)) != 0 ||
	    h_path(sheet, sizeof(sheet), f->dir, "sans-outbox.csv") != 0)
		H_FAIL("path too long");
	TAMWIL(f, f->coord_key, 0, "whoami"); /* makes the state folder */
	expect_status(f, 0);
	if (mkdir(path, 0700) != 0)
		H_FAIL("cannot make a folder at %s", path);
	write_small_sheet(sheet, "BRK", 3);

	TAMWIL(f, f->coord_key, 0, "import", sheet);
	expect_status(f, 1);
	expect_contains(f, f->r.out, "applied 0 applications");
	expect_contains(f, f->r.out, "3 good rows not sent: ");
	expect_contains(f, f->r.out,
			"; import again a file of the rows from line 2 on");
	if (strstr(f->r.out, "queued") != NULL)
		fail_last(f, "nothing can be queued without an outbox");
	assert_int_equal(applications(f, NULL), 0);
	if (rmdir(path) != 0)
		H_FAIL("cannot remove %s", path);
}

/* Head office refuses a row (over the ceiling): the others go in. */
static void test_import_refusal_per_row(void **state)
{
	struct fixture *f = *state;
	char sheet[H_PATH_MAX];

	if (h_path(sheet, sizeof(sheet), f->dir, "refus.csv") != 0 ||
	    h_write_file(
		sheet,
		"programme,national_id,first_name,last_name,sex,birth_date,"
		"category,sector,activity,amount\n"
		"INDH,R1,Nadia,Berrada,F,1985-05-05,youth,services,Salon,"
		"\"40000,00\"\n"
		"INDH,R2,Karim,Tazi,M,1985-05-05,youth,services,Garage,"
		"\"90 000,00\"\n"
		"INDH,R3,Leila,Chraibi,F,1985-05-05,youth,services,Traiteur,"
		"35000.50\n") != 0)
		H_FAIL("cannot write the sheet");
	TAMWIL(f, f->coord_key, 0, "import", sheet);
	expect_status(f, 1);
	expect_contains(f, f->r.out, "applied 2 applications");
	expect_contains(f, f->r.out, "line 3: refused (ceiling_exceeded):");
	assert_int_equal(applications(f, NULL), 2);

	/* A programme head office lacks is a bad row, found before sending. */
	if (h_write_file(sheet,
			 "programme,national_id,name,sex,birth_date,category,"
			 "sector,activity,amount\n"
			 "INDH,R4,Nadia Berrada,F,1985-05-05,youth,services,"
			 "Salon,1000\n"
			 "NOPE,R5,Karim Tazi,M,1985-05-05,youth,services,"
			 "Garage,1000\n") != 0)
		H_FAIL("cannot write the sheet");
	TAMWIL(f, f->coord_key, 0, "import", sheet);
	expect_status(f, 1);
	expect_contains(f, f->r.err,
			"line 3: programme: head office has no programme "
			"'NOPE'");
	assert_int_equal(applications(f, NULL), 2);
}

/* Every command that prints a list or a report has --json and --csv. */
static void test_lists_for_scripts(void **state)
{
	static const char *const cmds[][3] = {{"list", "--all"},
					      {"budget"},
					      {"report", "--by", "sex"},
					      {"region", "list"},
					      {"programme", "list"},
					      {"audit", "events"},
					      {NULL}};
	struct fixture *f = *state;
	char why[256];

	for (size_t i = 0; cmds[i][0] != NULL; i++) {
		for (int csv = 0; csv < 2; csv++) {
			hd_cmd c;
			hd_csv t;
			json_t *j;

			base_cmd(f, &c, f->admin_key);
			for (int k = 0; k < 3 && cmds[i][k] != NULL; k++)
				hd_cmd_add(&c, cmds[i][k]);
			hd_cmd_add(&c, csv ? "--csv" : "--json");
			run_env(f, &c, f->env, RUN_MS);
			expect_status(f, 0);
			if (csv) {
				if (hd_csv_parse(f->r.out, &t, why,
						 sizeof(why)) != 0)
					fail_last(f, why);
				hd_csv_free(&t);
				continue;
			}
			j = hd_json_parse(f->r.out);
			if (j == NULL)
				fail_last(f, "not JSON");
			json_decref(j);
		}
	}
	/* Amounts in minor units next to their currency. */
	TAMWIL(f, f->admin_key, 1, "programme", "list");
	expect_status(f, 0);
	expect_contains(f, f->r.out, "10000000000");
	expect_contains(f, f->r.out, "\"MAD\"");
	TAMWIL(f, f->admin_key, 0, "budget");
	expect_status(f, 0);
	expect_contains(f, f->r.out, "100 000 000,00");
}

/* ---- setup --------------------------------------------------------------- */

/* "tamwil ARGS..." with HOME at home and no other settings. */
__attribute__((sentinel)) static hd_result *at_home(struct fixture *f,
						    const char *home, ...)
{
	char home_env[H_PATH_MAX + 8];
	const char *env[4] = {home_env, "TAMWIL_CONFIG", "XDG_CONFIG_HOME",
			      NULL};
	hd_cmd c;
	va_list ap;

	snprintf(home_env, sizeof(home_env), "HOME=%s", home);
	hd_cmd_init(&c, h_tamwil_path());
	va_start(ap, home);
	hd_cmd_add_va(&c, ap);
	va_end(ap);
	return run_env(f, &c, env, RUN_MS);
}
#define AT_HOME(f, home, ...) at_home(f, home, __VA_ARGS__, (char *)NULL)

static void test_setup(void **state)
{
	struct fixture *f = *state;
	char home[H_PATH_MAX], conf[H_PATH_MAX + 32], newkey[H_PATH_MAX];
	struct stat st;

	if (h_path(home, sizeof(home), f->dir, "home-setup") != 0 ||
	    mkdir(home, 0700) != 0 ||
	    h_path(newkey, sizeof(newkey), home, "new.key") != 0)
		H_FAIL("cannot make the home folder");
	snprintf(conf, sizeof(conf), "%s/.config/tamwil/client.conf", home);

	/* Nothing set up: the error says what to run. */
	AT_HOME(f, home, "whoami");
	expect_status(f, 1);
	expect_contains(f, f->r.err, "run `tamwil setup`");

	AT_HOME(f, home, "setup", "--server", f->server, "--server-key",
		f->server_pub, "--key", f->coord_key);
	expect_status(f, 0);
	expect_contains(f, f->r.out, "wrote ");
	expect_contains(f, f->r.out, "[tamwil-public-key]");
	expect_contains(f, f->r.out, "tamwil whoami");
	if (stat(conf, &st) != 0 || (st.st_mode & 0777) != 0600)
		fail_last(f, "the configuration file is not there with mode "
			     "0600");
	conf[strlen(conf) - strlen("/client.conf")] = '\0';
	if (stat(conf, &st) != 0 || (st.st_mode & 0777) != 0700)
		fail_last(f, "its folder is not private (0700)");

	/* whoami reads it, from another folder. */
	AT_HOME(f, home, "--json", "whoami");
	expect_status(f, 0);
	expect_contains(f, f->r.out, "Fatima Zahra Bennani");
	expect_contains(f, f->r.out, "coordinator");

	/* Never over an existing file without --force. */
	AT_HOME(f, home, "setup", "--server", "127.0.0.1:1", "--server-key",
		f->server_pub, "--key", newkey);
	expect_status(f, 1);
	expect_contains(f, f->r.err, "already exists");
	expect_contains(f, f->r.err, "--force");
	if (access(newkey, F_OK) == 0)
		fail_last(f, "a refused setup made a key");
	AT_HOME(f, home, "whoami");
	expect_status(f, 0);

	/* --force replaces it, and a missing key file is made. */
	AT_HOME(f, home, "setup", "--force", "--server", f->server,
		"--server-key", f->server_pub, "--key", newkey);
	expect_status(f, 0);
	expect_contains(f, f->r.out, "wrote private key");
	expect_contains(f, f->r.out, "fingerprint");
	if (stat(newkey, &st) != 0 || (st.st_mode & 0777) != 0600)
		fail_last(f, "the new key file is missing or not 0600");
	/* That key is not enrolled: head office says so. */
	AT_HOME(f, home, "whoami");
	expect_status(f, 1);
	expect_contains(f, f->r.err, "not enrolled");

	/* Without a terminal, the server is not guessed. */
	AT_HOME(f, home, "setup", "--force", "--server-key", f->server_pub);
	expect_status(f, 2);
	expect_contains(f, f->r.err, "setup needs --server");
}

/* ---- help ---------------------------------------------------------------- */

static void test_help_has_examples(void **state)
{
	static const char *const cmds[][3] = {{"whoami"},
					      {"keygen"},
					      {"key"},
					      {"key", "public"},
					      {"setup"},
					      {"submit"},
					      {"import"},
					      {"withdraw"},
					      {"approve"},
					      {"reject"},
					      {"disburse"},
					      {"repay"},
					      {"show"},
					      {"list"},
					      {"budget"},
					      {"report"},
					      {"audit"},
					      {"audit", "export"},
					      {"audit", "verify"},
					      {"audit", "proof"},
					      {"audit", "events"},
					      {"region"},
					      {"region", "add"},
					      {"region", "list"},
					      {"programme"},
					      {"programme", "add"},
					      {"programme", "list"},
					      {"enrol"},
					      {"revoke"},
					      {NULL}};
	struct fixture *f = *state;

	for (size_t i = 0; cmds[i][0] != NULL; i++) {
		if (cmds[i][1] != NULL)
			AT_HOME(f, f->dir, cmds[i][0], cmds[i][1], "--help");
		else
			AT_HOME(f, f->dir, cmds[i][0], "--help");
		expect_status(f, 0);
		expect_contains(f, f->r.out, "Usage: tamwil ");
		expect_contains(f, f->r.out, "Example");
	}
	AT_HOME(f, f->dir, "--help");
	expect_status(f, 0);
	expect_contains(f, f->r.out, "Example");
	expect_contains(f, f->r.out, "import FILE.csv");
	expect_contains(f, f->r.out, "setup");
	AT_HOME(f, f->dir, "help", "import");
	expect_status(f, 0);
	expect_contains(f, f->r.out, "tamwil import --dry-run");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, world_setup, world_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_help_has_examples),
	    T(test_import_thousand_rows),
	    T(test_import_refusal_per_row),
	    T(test_import_connection_lost),
	    T(test_import_offline),
	    T(test_import_killed),
	    T(test_import_outbox_broken),
	    T(test_setup),
	    T(test_lists_for_scripts),
	};

	return cmocka_run_group_tests_name("import", tests, group_setup,
					   group_teardown);
}
