/*
 * End-to-end tests of `tamwil import`, `tamwil setup` and the help texts,
 * through a real tamwild on 127.0.0.1 and real tamwil processes: a
 * spreadsheet of 1 000 rows (byte order mark, ';', Arabic names) of which
 * 10 are bad, checked, refused as a whole, sent with --continue; head
 * office's refusal of one row leaving the others; setup writing the file
 * whoami then reads; and `tamwil CMD --help` for every command.
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
#include <sys/stat.h>
#include <unistd.h>
#include <wchar.h>
#include <locale.h>

#include <cmocka.h>
#include <sodium.h>

#include "harness.h"
#include "harness_domain.h"

#define RUN_MS	  30000
#define IMPORT_MS 240000
#define ROWS	  1000
#define N_BAD	  10

struct fixture {
	char dir[H_PATH_MAX];
	char home[H_PATH_MAX + 8];
	const char *env[3]; /* HOME in the temp dir, no TAMWIL_CONFIG */
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
	const char *a;

	base_cmd(f, &c, key);
	if (json)
		hd_cmd_add(&c, "--json");
	va_start(ap, json);
	while ((a = va_arg(ap, const char *)) != NULL)
		hd_cmd_add(&c, a);
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
	if (h_write_file(f->server_pub, f->r.out) != 0 ||
	    h_daemon_start(&f->d, f->state, f->log, NULL, f->env) != 0)
		return -1;
	snprintf(f->server, sizeof(f->server), "127.0.0.1:%d", f->d.port);
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
	f->env[2] = NULL;
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
 * Writes the 1 000-row file (with a byte order mark, ';', CRLF, Arabic
 * names, French amounts and a quoted activity holding a ';') to path.
 */
static void write_sheet(struct fixture *f, const char *path)
{
	FILE *out = fopen(path, "wb");
	int b = 0;

	if (out == NULL)
		H_FAIL("cannot write %s", path);
	fputs("\xEF\xBB\xBFprogramme;CIN;Nom complet;Sexe;Date de naissance;"
	      "Catégorie;Secteur;Activité;Montant;Apport\r\n",
	      out);
	for (int line = 2; line <= ROWS + 1; line++) {
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
	(void)f;
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

	if (h_path(sheet, sizeof(sheet), f->dir, "beneficiaires.csv") != 0)
		H_FAIL("path too long");
	write_sheet(f, sheet);

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
	assert_int_equal(json_array_size(json_object_get(j, "problems")),
			 N_BAD);
	n = applications(f, &listed);
	assert_int_equal(n, ROWS - N_BAD);
	for (size_t i = 0; i < json_array_size(applied); i += 97) {
		json_t *a = json_array_get(applied, i);
		const char *ref =
		    json_string_value(json_object_get(a, "reference"));

		assert_non_null(ref);
		assert_non_null(hd_json_find(listed, "reference", ref));
	}
	json_decref(listed);
	json_decref(j);
	expect_table_fits(f, 140);
	expect_table_fits(f, 110);
	expect_contains(f, f->r.out, "\xe2\x80\xa6"); /* cut to fit */
}

/*
 * Head office stops in the middle of an import: the rows it acknowledged
 * are all there once it is back (the one in flight may be too), the rest
 * are reported as not sent, and the import says so.
 */
static void test_import_connection_lost(void **state)
{
	struct fixture *f = *state;
	const char *const needles[] = {"applied submit_application", "-000050",
				       NULL};
	char sheet[H_PATH_MAX];
	json_t *j, *applied, *listed;
	size_t n_applied, n_unsent, n;
	long from = h_file_size(f->log);
	h_proc p;
	hd_cmd c;

	if (h_path(sheet, sizeof(sheet), f->dir, "coupure.csv") != 0)
		H_FAIL("path too long");
	write_sheet(f, sheet);
	base_cmd(f, &c, f->coord_key);
	hd_cmd_add(&c, "--json");
	hd_cmd_add(&c, "import");
	hd_cmd_add(&c, "--continue");
	hd_cmd_add(&c, sheet);
	hd_cmd_text(&c, f->last, sizeof(f->last));
	if (h_spawn(&p, c.argv, f->env) != 0)
		H_FAIL("cannot run: %s", f->last);
	if (h_log_wait(f->log, from < 0 ? 0 : from, needles, IMPORT_MS) != 0) {
		hd_collect(&p, h_now_ms() + IMPORT_MS, &f->r);
		fail_last(f, "head office never applied the 50th row");
	}
	h_daemon_kill(&f->d);
	if (hd_collect(&p, h_now_ms() + IMPORT_MS, &f->r) != 0)
		H_FAIL("cannot collect: %s", f->last);
	expect_status(f, 1);
	j = hd_json_parse(f->r.out);
	if (j == NULL)
		fail_last(f, "import --json is not JSON");
	applied = json_object_get(j, "applied");
	n_applied = json_array_size(applied);
	n_unsent = json_array_size(json_object_get(j, "not_sent"));
	if (n_applied < 49 || n_unsent == 0 ||
	    n_applied + n_unsent != ROWS - N_BAD ||
	    json_string_value(json_object_get(j, "stopped")) == NULL)
		fail_last(f, "expected the rows before the stop applied, the "
			     "others not sent, and why it stopped");

	if (h_daemon_start(&f->d, f->state, f->log, NULL, f->env) != 0)
		H_FAIL("tamwild did not start again");
	snprintf(f->server, sizeof(f->server), "127.0.0.1:%d", f->d.port);
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
	const char *a;

	snprintf(home_env, sizeof(home_env), "HOME=%s", home);
	hd_cmd_init(&c, h_tamwil_path());
	va_start(ap, home);
	while ((a = va_arg(ap, const char *)) != NULL)
		hd_cmd_add(&c, a);
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
	    T(test_setup),
	    T(test_lists_for_scripts),
	};

	return cmocka_run_group_tests_name("import", tests, group_setup,
					   group_teardown);
}
