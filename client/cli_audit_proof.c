/*
 * tamwil audit proof and tamwil audit events; see cli_audit.h.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "cli_audit.h"
#include "cli_json.h"
#include "cli_out.h"
#include "cli_session.h"
#include "cli_table.h"
#include "cli_util.h"
#include "pbuf.h"
#include "replay.h"

/* A principal's two keys, learnt from its enrolment in the log. */
struct principal_keys {
	uint8_t sign[KEYFILE_KEYLEN];
	uint8_t noise[KEYFILE_KEYLEN];
};

/* One entry naming the application. */
struct match {
	uint64_t sequence;
	int64_t time;
	char action[32];
	uint8_t signer[KEYFILE_KEYLEN];
	uint8_t *entry; /* its bytes */
	size_t len;
};

/* What proof collects while scanning the log. */
struct proof_run {
	const char *ref;
	uint8_t sign_pk[KEYFILE_KEYLEN];
	struct principal_keys *keys;
	size_t n_keys;
	struct match *m;
	size_t n;
	int failed;
};

/* What an operation on an application did, as the proof lists it. */
static const char *op_action(Tamwil__V1__Operation__BodyCase body)
{
	switch (body) {
	case TAMWIL__V1__OPERATION__BODY_SUBMIT_APPLICATION:
		return "submitted";
	case TAMWIL__V1__OPERATION__BODY_WITHDRAW_APPLICATION:
		return "withdrawn";
	case TAMWIL__V1__OPERATION__BODY_APPROVE_APPLICATION:
		return "approved";
	case TAMWIL__V1__OPERATION__BODY_REJECT_APPLICATION:
		return "rejected";
	case TAMWIL__V1__OPERATION__BODY_RECORD_DISBURSEMENT:
		return "disbursement";
	case TAMWIL__V1__OPERATION__BODY_RECORD_REPAYMENT:
		return "repayment";
	default:
		return "operation";
	}
}

/* Remembers an enrolment's keys; 0 or -1 (out of memory). */
static int learn_keys(struct proof_run *p, const Tamwil__V1__EnrolPrincipal *e)
{
	struct principal_keys *k;

	if (e->sign_key.len != KEYFILE_KEYLEN ||
	    e->noise_key.len != KEYFILE_KEYLEN)
		return 0;
	k = realloc(p->keys, (p->n_keys + 1) * sizeof(*k));
	if (k == NULL)
		return -1;
	p->keys = k;
	memcpy(k[p->n_keys].sign, e->sign_key.data, KEYFILE_KEYLEN);
	memcpy(k[p->n_keys].noise, e->noise_key.data, KEYFILE_KEYLEN);
	p->n_keys++;
	return 0;
}

/* Keeps entry e (bytes, len) as a match; 0 or -1. */
static int keep_match(struct proof_run *p, const Tamwil__V1__LogEntry *e,
		      const char *action, const ProtobufCBinaryData *bytes)
{
	struct match *m = realloc(p->m, (p->n + 1) * sizeof(*m));

	if (m == NULL)
		return -1;
	p->m = m;
	m += p->n;
	memset(m, 0, sizeof(*m));
	m->sequence = e->sequence;
	m->time = e->time;
	snprintf(m->action, sizeof(m->action), "%s", action);
	if (e->operation->signer_key.len == KEYFILE_KEYLEN)
		memcpy(m->signer, e->operation->signer_key.data,
		       KEYFILE_KEYLEN);
	m->entry = malloc(bytes->len);
	if (m->entry == NULL)
		return -1;
	memcpy(m->entry, bytes->data, bytes->len);
	m->len = bytes->len;
	p->n++;
	return 0;
}

/* Looks at one entry of the log; 0 or -1 (out of memory). */
static int scan_entry(struct proof_run *p, const ProtobufCBinaryData *bytes)
{
	Tamwil__V1__LogEntry *e;
	Tamwil__V1__Operation *op = NULL;
	const char *action, *ref;
	int rc = 0;

	e = (Tamwil__V1__LogEntry *)pbuf_unpack(
	    &tamwil__v1__log_entry__descriptor, bytes->len, bytes->data,
	    PBUF_BUDGET_DEFAULT);
	if (e != NULL && e->operation != NULL)
		op = (Tamwil__V1__Operation *)pbuf_unpack(
		    &tamwil__v1__operation__descriptor,
		    e->operation->operation.len, e->operation->operation.data,
		    PBUF_BUDGET_DEFAULT);
	if (op != NULL) {
		if (op->body_case ==
		    TAMWIL__V1__OPERATION__BODY_ENROL_PRINCIPAL)
			rc = learn_keys(p, op->enrol_principal);
		ref = replay_op_reference(op, e->outcome);
		action = op_action(op->body_case);
		if (rc == 0 && ref != NULL && strcmp(ref, p->ref) == 0)
			rc = keep_match(p, e, action, bytes);
	}
	tamwil__v1__operation__free_unpacked(op, NULL);
	tamwil__v1__log_entry__free_unpacked(e, NULL);
	return rc;
}

/* Scans the whole log; -1, or an exit status. */
static int scan_log(struct proof_run *p, tamwil_client *c)
{
	Tamwil__V1__Response *resp = NULL;
	uint64_t next = 0, size = 0;
	int rc = -1;

	do {
		const Tamwil__V1__LogEntriesPage *pg;

		if ((rc = cli_audit_page(c, next, &resp)) >= 0)
			return rc;
		pg = resp->log_entries;
		size = pg->tree_size;
		for (size_t i = 0; rc < 0 && i < pg->n_entries; i++, next++)
			if (scan_entry(p, &pg->entries[i]) != 0)
				rc = cli_fail("out of memory");
		tamwil__v1__response__free_unpacked(resp, NULL);
	} while (rc < 0 && next < size);
	return rc;
}

/* The signer's fingerprint as people know it, into buf. */
static const char *signer_text(const struct proof_run *p, const uint8_t *key,
			       char *buf, size_t cap)
{
	if (sodium_memcmp(key, p->sign_pk, KEYFILE_KEYLEN) == 0) {
		snprintf(buf, cap, "head office");
		return buf;
	}
	for (size_t i = p->n_keys; i-- > 0;) {
		if (memcmp(p->keys[i].sign, key, KEYFILE_KEYLEN) != 0)
			continue;
		if (cap >= KEYFILE_FINGERPRINT_LEN)
			keyfile_fingerprint(p->keys[i].noise, key, buf);
		return buf;
	}
	snprintf(buf, cap, "unknown key");
	return buf;
}

/* Asks for m's receipt and verifies it; prints its line. 0 or -1. */
static int prove_one(struct proof_run *p, tamwil_client *c,
		     const struct match *m)
{
	Tamwil__V1__Request req = TAMWIL__V1__REQUEST__INIT;
	Tamwil__V1__InclusionRequest body = TAMWIL__V1__INCLUSION_REQUEST__INIT;
	Tamwil__V1__Response *resp = NULL;
	char why[256], who[64], when[CLI_TIME_MAX];
	const Tamwil__V1__Receipt *r;
	tamwil_error err;
	checkpoint cp;
	int rc = -1;

	body.sequence = m->sequence;
	req.body_case = TAMWIL__V1__REQUEST__BODY_INCLUSION;
	req.inclusion = &body;
	if (tamwil_client_call(c, &req, &resp, &err) != TAMWIL_OK) {
		cli_fail_status(&err);
		return -1;
	}
	r = resp->inclusion != NULL ? resp->inclusion->receipt : NULL;
	if (r == NULL || r->entry.len != m->len ||
	    memcmp(r->entry.data, m->entry, m->len) != 0)
		snprintf(why, sizeof(why),
			 "the receipt's entry is not the one in the log");
	else if (tamwil_receipt_verify(p->sign_pk, r, m->sequence, NULL, &cp,
				       why, sizeof(why)) == 0)
		rc = 0;
	if (rc == 0)
		printf("%" PRIu64 "  %s  %-12s  %s  included in checkpoint "
		       "of size %" PRIu64 ": verified\n",
		       m->sequence, cli_time_text(m->time, when, sizeof(when)),
		       m->action, signer_text(p, m->signer, who, sizeof(who)),
		       cp.size);
	else
		cli_fail("entry %" PRIu64 ": %s", m->sequence, why);
	tamwil__v1__response__free_unpacked(resp, NULL);
	return rc;
}

/* Scans, then proves every match; an exit status. */
static int proof_run(struct proof_run *p, tamwil_client *c)
{
	int rc = scan_log(p, c);

	if (rc >= 0)
		return rc;
	if (p->n == 0)
		return cli_fail("no log entry names %s", p->ref);
	for (size_t i = 0; i < p->n; i++)
		if (prove_one(p, c, &p->m[i]) != 0)
			p->failed = 1;
	return p->failed ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

int cli_audit_proof(const struct cli_globals *g, int argc, char **argv)
{
	struct proof_run p;
	tamwil_client *c = NULL;
	keyfile_public pub;
	int rc;

	if (argc == 2 &&
	    (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0))
		return cli_show_usage(cli_audit_usage);
	if (argc != 2)
		return cli_usage_error("audit", "audit proof needs one "
						"application reference");
	memset(&p, 0, sizeof(p));
	p.ref = argv[1];
	if (cli_audit_server_key(g, &pub) != 0 || cli_session_open(g, &c) != 0)
		return CLI_EXIT_FAIL;
	memcpy(p.sign_pk, pub.sign_pk, sizeof(p.sign_pk));
	rc = proof_run(&p, c);
	tamwil_client_close(c);
	for (size_t i = 0; i < p.n; i++)
		free(p.m[i].entry);
	free(p.m);
	free(p.keys);
	return rc;
}

/* ---- events ------------------------------------------------------------ */

static const struct cli_column event_cols[] = {{"time", "Time", 0, 0},
					       {"principal", "Principal", 0, 1},
					       {"peer", "Peer", 0, 0},
					       {"kind", "Kind", 0, 0},
					       {"reason", "Reason", 0, 1}};

/* The events as a table or CSV; an exit status. */
static int events_table(const Tamwil__V1__SecurityEventList *l, int csv)
{
	cli_table *t = cli_table_new(event_cols, 5);
	int ok = t != NULL, rc;

	for (size_t i = 0; ok && i < l->n_events; i++) {
		const Tamwil__V1__SecurityEvent *e = l->events[i];
		char when[CLI_TIME_MAX];
		const char *cells[5];

		cells[0] = csv ? cli_time_iso(e->time, when, sizeof(when))
			       : cli_time_text(e->time, when, sizeof(when));
		cells[1] = e->principal;
		cells[2] = e->peer;
		cells[3] = e->kind;
		cells[4] = e->reason;
		ok = cli_table_add(t, cells) == 0;
	}
	rc = ok && cli_table_print(t, csv, stdout) == 0
		 ? CLI_EXIT_OK
		 : cli_fail("cannot print the events");
	cli_table_free(t);
	return rc;
}

/* The events as {"events": [...]}; an exit status. */
static int events_json(const Tamwil__V1__SecurityEventList *l)
{
	json_t *a = json_array();
	struct cli_json b;
	int ok = a != NULL;

	for (size_t i = 0; ok && i < l->n_events; i++) {
		const Tamwil__V1__SecurityEvent *e = l->events[i];
		char when[CLI_TIME_MAX];

		cli_json_begin(&b);
		cli_json_text(&b, "time",
			      cli_time_iso(e->time, when, sizeof(when)));
		cli_json_text_or_null(&b, "principal", e->principal);
		cli_json_text(&b, "peer", e->peer);
		cli_json_text(&b, "kind", e->kind);
		cli_json_text(&b, "reason", e->reason);
		ok = json_array_append_new(a, cli_json_end(&b)) == 0;
	}
	if (!ok) {
		json_decref(a);
		return cli_json_print(NULL);
	}
	cli_json_begin(&b);
	cli_json_value(&b, "events", a);
	return cli_json_print(cli_json_end(&b));
}

/* What events was asked. */
struct events_args {
	Tamwil__V1__SecurityEventsRequest req;
	struct cli_output out;
	enum cli_format f;
};

/* Reads a whole non-negative number; 0 or -1. */
static int parse_number(const char *s, uint64_t max, uint64_t *v)
{
	char *end;
	unsigned long long n;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	n = strtoull(s, &end, 10);
	if (*end != '\0' || n > max)
		return -1;
	*v = n;
	return 0;
}

/* Reads events' options; -1 to go on, or an exit status. */
static int events_options(struct events_args *a, const struct cli_globals *g,
			  int argc, char **argv)
{
	static const struct option opts[] = {
	    {"since", required_argument, NULL, 's'},
	    {"limit", required_argument, NULL, 'l'},
	    {"help", no_argument, NULL, 'h'},
	    CLI_OUTPUT_OPTIONS,
	    {NULL, 0, NULL, 0}};
	uint64_t v;
	int c;

	cli_output_init(&a->out, g);
	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (cli_output_option(&a->out, c))
			continue;
		if (c == 'h')
			return cli_show_usage(cli_audit_usage);
		if ((c != 's' && c != 'l') ||
		    parse_number(optarg, c == 's' ? INT64_MAX : 1000, &v) != 0)
			return c == 's' || c == 'l'
				   ? cli_usage_error("audit", "bad number '%s'",
						     optarg)
				   : cli_bad_option("audit events", c, argv);
		if (c == 's')
			a->req.since = (int64_t)v;
		else
			a->req.limit = (uint32_t)v;
	}
	if (optind < argc)
		return cli_usage_error("audit", "unexpected argument '%s'",
				       argv[optind]);
	return cli_output_format("audit events", &a->out, &a->f);
}

/* Runs the query and prints; an exit status. */
static int events_run(tamwil_client *c, void *arg)
{
	struct events_args *a = arg;
	Tamwil__V1__Request req = TAMWIL__V1__REQUEST__INIT;
	Tamwil__V1__Response *resp = NULL;
	tamwil_error err;
	int rc;

	req.body_case = TAMWIL__V1__REQUEST__BODY_SECURITY_EVENTS;
	req.security_events = &a->req;
	if (tamwil_client_call(c, &req, &resp, &err) != TAMWIL_OK)
		return cli_fail_status(&err);
	if (resp->security_events == NULL)
		rc = cli_fail("head office sent an empty list");
	else if (a->f == CLI_JSON)
		rc = events_json(resp->security_events);
	else if (a->f == CLI_TEXT && resp->security_events->n_events == 0)
		rc = puts("no security events") >= 0 ? CLI_EXIT_OK
						     : CLI_EXIT_FAIL;
	else
		rc = events_table(resp->security_events, a->f == CLI_CSV);
	tamwil__v1__response__free_unpacked(resp, NULL);
	return rc;
}

int cli_audit_events(const struct cli_globals *g, int argc, char **argv)
{
	struct events_args a;
	int rc;

	memset(&a, 0, sizeof(a));
	tamwil__v1__security_events_request__init(&a.req);
	if ((rc = events_options(&a, g, argc, argv)) >= 0)
		return rc;
	return cli_session_run(g, events_run, &a);
}
