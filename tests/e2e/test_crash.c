/*
 * Crash safety of tamwild. Offices keep submitting on their own
 * connections, resending each signed operation after every failure (as
 * the real client's outbox does), while the daemon is killed with SIGKILL
 * at random moments and started again. Afterwards every operation an
 * office saw acknowledged is in the database exactly once, nothing else
 * is, the log verifies and replays to the database (tamwild check), and
 * no office ever saw head office's history go back (every connection
 * checks the office's saved checkpoint).
 *
 * Bounded: WORKERS x PER_WORKER operations and KILLS kills, each wait
 * with a deadline. TAMWIL_E2E_KEEP=1 keeps the temporary folder.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "harness.h"
#include "harness_domain.h"
#include "keyfile.h"
#include "tamwil-client.h"

#define WORKERS	   4
#define PER_WORKER 75
#define KILLS	   12
/* The longest an office keeps retrying one operation. */
#define RETRY_MS 60000
#define RUN_MS	 30000

/* What the offices share with the test, under mu. */
struct world {
	pthread_mutex_t mu;
	int port; /* where the daemon listens now */
	hd_home home;
	hd_world h;
	char admin_key[H_PATH_MAX], admin_pub[H_PATH_MAX];
	char coord_key[H_PATH_MAX], coord_pub[H_PATH_MAX];
	keyfile_public server;
	keyfile_secret coord;
	h_daemon d;
	hd_result r;
};

/* One office: its operations and what became of them. */
struct office {
	struct world *w;
	int id;
	char state_dir[H_PATH_MAX + 16]; /* its saved checkpoint */
	char refs[PER_WORKER][32];	 /* acknowledged references */
	int acked, retries;
	char failure[TAMWIL_ERROR_MAX + 64]; /* "" while all is well */
};

static int world_port(struct world *w)
{
	int port;

	pthread_mutex_lock(&w->mu);
	port = w->port;
	pthread_mutex_unlock(&w->mu);
	return port;
}

/* Connects to wherever the daemon listens now; NULL with err. */
static tamwil_client *office_connect(struct office *o, tamwil_error *err)
{
	struct world *w = o->w;
	tamwil_client_options opt = {0};
	tamwil_client *c = NULL;
	char server[64];

	snprintf(server, sizeof(server), "127.0.0.1:%d", world_port(w));
	opt.server = server;
	opt.server_noise_pk = w->server.noise_pk;
	opt.server_data_pk = w->server.data_pk;
	opt.server_sign_pk = w->server.sign_pk;
	opt.state_dir = o->state_dir;
	opt.key = &w->coord;
	opt.connect_timeout_ms = 2000;
	opt.io_timeout_ms = 5000;
	if (tamwil_client_connect(&opt, &c, err) != TAMWIL_OK)
		return NULL;
	return c;
}

/* Builds, seals and signs submission i of office o on c; 0 or -1. */
static int office_sign(struct office *o, tamwil_client *c, int i,
		       uint8_t **bytes, size_t *len, uint8_t sig[64],
		       tamwil_error *err)
{
	Tamwil__V1__Operation op = TAMWIL__V1__OPERATION__INIT;
	Tamwil__V1__SubmitApplication sub =
	    TAMWIL__V1__SUBMIT_APPLICATION__INIT;
	Tamwil__V1__Identity id = TAMWIL__V1__IDENTITY__INIT;
	Tamwil__V1__Money amount = TAMWIL__V1__MONEY__INIT;
	Tamwil__V1__Money own = TAMWIL__V1__MONEY__INIT;
	char nid[32];
	uint8_t *box = NULL;
	size_t box_len;
	int rc;

	snprintf(nid, sizeof(nid), "KC%02d%04d", o->id, i);
	id.national_id = nid;
	id.first_name = "Meriem";
	id.last_name = "Ait Lahcen";
	id.birth_date = "1995-07-14";
	if (tamwil_client_seal_identity(c, &id, &box, &box_len, err) !=
	    TAMWIL_OK)
		return -1;
	amount.minor = 1500000 + i;
	amount.currency = "MAD";
	sub.programme = "CRASH-2026";
	sub.region = "SOU";
	sub.identity_box.data = box;
	sub.identity_box.len = box_len;
	sub.sex = TAMWIL__V1__SEX__SEX_FEMALE;
	sub.birth_year = 1995;
	sub.category = TAMWIL__V1__CATEGORY__CATEGORY_YOUTH;
	sub.sector = "services";
	sub.activity = "Atelier de couture";
	sub.amount_requested = &amount;
	own.currency = "MAD";
	sub.own_contribution = &own;
	op.body_case = TAMWIL__V1__OPERATION__BODY_SUBMIT_APPLICATION;
	op.submit_application = &sub;
	rc = tamwil_client_sign(c, &op, bytes, len, sig, err);
	free(box);
	return rc == TAMWIL_OK ? 0 : -1;
}

/* Is st a failure that a resend may cure (head office away or killed)? */
static int office_transient(int st)
{
	return st == TAMWIL_ERR_UNREACHABLE || st == TAMWIL_ERR_TIMEOUT ||
	       st == TAMWIL_ERR_CLOSED || st == TAMWIL_ERR_NOT_ENROLLED;
}

/*
 * Sends operation i until head office acknowledges it, over *c
 * (reconnecting as needed). 0, or -1 with o->failure set.
 */
static int office_submit(struct office *o, tamwil_client **c, int i)
{
	int64_t deadline = h_now_ms() + RETRY_MS;
	uint8_t *bytes = NULL, sig[64];
	size_t len = 0;
	tamwil_error err;
	int rc = -1;

	while (h_now_ms() < deadline) {
		Tamwil__V1__OperationResult *res = NULL;
		int st;

		if (*c == NULL && (*c = office_connect(o, &err)) == NULL) {
			o->retries++;
			h_sleep_ms(30);
			continue;
		}
		/* Signed once: every resend is byte for byte the same. */
		if (bytes == NULL &&
		    office_sign(o, *c, i, &bytes, &len, sig, &err) != 0) {
			st = err.status;
			goto failed;
		}
		st = tamwil_client_send_signed(*c, bytes, len, sig, &res, &err);
		if (st == TAMWIL_OK) {
			snprintf(o->refs[i], sizeof(o->refs[i]), "%s",
				 res->reference);
			tamwil__v1__operation_result__free_unpacked(res, NULL);
			o->acked++;
			rc = 0;
			goto out;
		}
	failed:
		tamwil_client_close(*c);
		*c = NULL;
		if (!office_transient(st)) {
			snprintf(o->failure, sizeof(o->failure),
				 "operation %d: %s", i, err.message);
			goto out;
		}
		o->retries++;
		h_sleep_ms(20);
	}
	snprintf(o->failure, sizeof(o->failure),
		 "operation %d: not acknowledged within %d s", i,
		 RETRY_MS / 1000);
out:
	free(bytes);
	return rc;
}

static void *office_main(void *arg)
{
	struct office *o = arg;
	tamwil_client *c = NULL;

	for (int i = 0; i < PER_WORKER; i++)
		if (office_submit(o, &c, i) != 0)
			break;
	tamwil_client_close(c);
	return NULL;
}

/* ---- the world ----------------------------------------------------------- */

/*
 * Runs program with the NULL-terminated arguments; fails the test unless
 * it succeeds.
 */
static void must_run(struct world *w, const char *program, ...)
{
	const char *arg;
	char text[4096];
	va_list ap;
	hd_cmd c;

	hd_cmd_init(&c, program);
	va_start(ap, program);
	while ((arg = va_arg(ap, const char *)) != NULL)
		hd_cmd_add(&c, arg);
	va_end(ap);
	hd_cmd_text(&c, text, sizeof(text));
	if (hd_run(&w->r, RUN_MS, w->home.env, &c) != 0 || !hd_ok(&w->r)) {
		hd_result_print(&w->r, text);
		H_FAIL("command failed: %s", text);
	}
}

/* Runs tamwil as the admin with the NULL-terminated arguments. */
#define ADMIN(w, ...)                                                          \
	do {                                                                   \
		char server_[64];                                              \
		snprintf(server_, sizeof(server_), "127.0.0.1:%d",             \
			 world_port(w));                                       \
		must_run((w), h_tamwil_path(), "--server", server_,            \
			 "--server-key", (w)->h.server_pub, "--key",           \
			 (w)->admin_key, __VA_ARGS__, (char *)NULL);           \
	} while (0)

/* Starts the daemon and publishes its port. */
static void world_start(struct world *w)
{
	if (h_daemon_start(&w->d, w->h.state, w->h.log, NULL, w->home.env) != 0)
		H_FAIL("tamwild did not start");
	pthread_mutex_lock(&w->mu);
	w->port = w->d.port;
	pthread_mutex_unlock(&w->mu);
}

static void world_make(struct world *w)
{
	if (hd_home_create(&w->home) != 0 ||
	    h_keygen(w->home.dir, "admin", w->home.env, w->admin_key,
		     w->admin_pub) != 0 ||
	    h_keygen(w->home.dir, "coord", w->home.env, w->coord_key,
		     w->coord_pub) != 0 ||
	    hd_world_create(&w->h, &w->home, 1, w->admin_pub,
			    "Amina El Idrissi") != 0)
		H_FAIL("cannot make head office's state");
	assert_int_equal(keyfile_read_public(w->h.server_pub, &w->server),
			 KEYFILE_OK);
	assert_int_equal(keyfile_read_secret(w->coord_key, NULL, &w->coord),
			 KEYFILE_OK);
	world_start(w);
	ADMIN(w, "region", "add", "SOU", "Souss-Massa");
	ADMIN(w, "enrol", w->coord_pub, "--name", "Hafsa Ouchen", "--role",
	      "coordinator", "--region", "SOU");
	ADMIN(w, "programme", "add", "CRASH-2026", "--name",
	      "Programme d'essai", "--currency", "MAD", "--envelope",
	      "100 000 000,00", "--ceiling", "50 000,00");
}

/* ---- the test ------------------------------------------------------------ */

static void test_kill_under_load(void **state)
{
	struct world *w = calloc(1, sizeof(*w));
	struct office *o = calloc(WORKERS, sizeof(*o));
	pthread_t t[WORKERS];
	json_t *list;
	size_t listed, found = 0;
	int ws, kills = 0, retries = 0;

	(void)state;
	assert_non_null(w);
	assert_non_null(o);
	assert_int_equal(pthread_mutex_init(&w->mu, NULL), 0);
	world_make(w);

	for (int i = 0; i < WORKERS; i++) {
		o[i].w = w;
		o[i].id = i;
		snprintf(o[i].state_dir, sizeof(o[i].state_dir), "%s/office-%d",
			 w->home.dir, i);
		assert_int_equal(
		    pthread_create(&t[i], NULL, office_main, &o[i]), 0);
	}
	/* Kills at random moments while the offices work. */
	for (; kills < KILLS; kills++) {
		h_sleep_ms(100 + (int)randombytes_uniform(300));
		h_daemon_kill(&w->d);
		h_sleep_ms((int)randombytes_uniform(100));
		world_start(w);
	}
	for (int i = 0; i < WORKERS; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	for (int i = 0; i < WORKERS; i++) {
		if (o[i].failure[0] != '\0')
			H_FAIL("office %d: %s", i, o[i].failure);
		assert_int_equal(o[i].acked, PER_WORKER);
		retries += o[i].retries;
	}
	fprintf(stderr, "%d kills, %d operations acknowledged, %d resends\n",
		kills, WORKERS * PER_WORKER, retries);

	/* The state on disk: sound, its log verified and replayed. */
	assert_int_equal(h_daemon_stop(&w->d, 10000, &ws), 0);
	must_run(w, h_tamwild_path(), "check", "--state", w->h.state,
		 (char *)NULL);
	if (strstr(w->r.out, "all checks passed") == NULL)
		H_FAIL("tamwild check: %s", w->r.out);

	/* Exactly the acknowledged applications, each once. */
	world_start(w);
	ADMIN(w, "--json", "list", "--all");
	list = hd_json_parse(w->r.out);
	assert_non_null(list);
	listed = hd_json_count(list, "reference");
	assert_int_equal(listed, WORKERS * PER_WORKER);
	for (int i = 0; i < WORKERS; i++)
		for (int k = 0; k < PER_WORKER; k++)
			found += hd_json_count_value(list, "reference",
						     o[i].refs[k]) == 1;
	assert_int_equal(found, WORKERS * PER_WORKER);
	json_decref(list);

	h_daemon_kill(&w->d);
	hd_home_remove(&w->home);
	hd_result_free(&w->r);
	sodium_memzero(&w->coord, sizeof(w->coord));
	pthread_mutex_destroy(&w->mu);
	free(o);
	free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_kill_under_load),
	};

	if (sodium_init() < 0 || h_tamwild_path() == NULL ||
	    h_tamwil_path() == NULL)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
