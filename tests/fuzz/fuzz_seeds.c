/*
 * Writes the seed corpora of the fuzz targets into DIR/<target>/:
 *
 *   fuzz_seeds DIR
 *
 * frame: framed streams, whole and cut into pieces; handshake: a real
 * Noise_XK transcript made with the deterministic random source (the
 * harness replays it to the end); dispatch: every request the head office
 * of fuzz_world.c was built with (one of each operation) and one of each
 * query, plus a ClientHello; export: that head office's log as an export
 * file; money: amounts in every accepted shape; import: the documented
 * example spreadsheet and files of each shape a reader must take (a byte
 * order mark, ',' or ';' or tabs, quotes, CRLF). Run it again after a
 * change to the protocol and commit what changed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "channel.h"
#include "frame.h"
#include "fuzz_handshake.h"
#include "fuzz_rng.h"
#include "fuzz_world.h"
#include "tamwil-export.h"

static const char *root;

/* Writes DIR/target/name; exits on failure (a generator, not a library). */
static void put(const char *target, const char *name, const void *data,
		size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, target);
	if (mkdir(path, 0755) != 0 && errno != EEXIST) {
		perror(path);
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/%s/%s", root, target, name);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

/* Appends a frame (header and body) to a stream buffer. */
static size_t frame_append(uint8_t *stream, size_t at, const uint8_t *body,
			   size_t len)
{
	if (frame_put_header(stream + at, len) != 0)
		exit(1);
	memcpy(stream + at + FRAME_HEADER_LEN, body, len);
	return at + FRAME_HEADER_LEN + len;
}

/* The name of field number `number` of a message: the oneof's case. */
static const char *case_name(const ProtobufCMessageDescriptor *d,
			     unsigned number)
{
	const ProtobufCFieldDescriptor *f =
	    protobuf_c_message_descriptor_get_field(d, number);

	return f != NULL ? f->name : "none";
}

/* Keeps each request the world sends as a dispatch seed. */
static void record(void *arg, int who, int signed_op, const uint8_t *req,
		   size_t len)
{
	static uint8_t seed[FRAME_MAX_BODY + 1];
	Tamwil__V1__Request *r = tamwil__v1__request__unpack(NULL, len, req);
	const char *kind = "unparsed";
	Tamwil__V1__Operation *op = NULL;
	unsigned *n = arg;
	char name[128];

	if (r != NULL && r->body_case == TAMWIL__V1__REQUEST__BODY_OPERATION)
		op = tamwil__v1__operation__unpack(
		    NULL, r->operation->operation.len,
		    r->operation->operation.data);
	if (op != NULL)
		kind = case_name(&tamwil__v1__operation__descriptor,
				 op->body_case);
	else if (r != NULL)
		kind =
		    case_name(&tamwil__v1__request__descriptor, r->body_case);
	snprintf(name, sizeof(name), "%02u-%s", (*n)++, kind);
	seed[0] = (uint8_t)(who | (signed_op ? 0x80 : 0));
	memcpy(seed + 1, req, len);
	put("dispatch", name, seed, len + 1);
	if (op != NULL)
		tamwil__v1__operation__free_unpacked(op, NULL);
	if (r != NULL)
		tamwil__v1__request__free_unpacked(r, NULL);
}

/* Sends req as who (recorded as a seed); exits unless it is answered. */
static Tamwil__V1__Response *ask(fuzz_world *w, int who,
				 Tamwil__V1__Request *req)
{
	Tamwil__V1__Response *resp;

	if (fuzz_world_send(w, who, req, &resp) != 0) {
		fprintf(stderr, "fuzz_seeds: request %d unanswered\n",
			req->body_case);
		exit(1);
	}
	if (resp->body_case == TAMWIL__V1__RESPONSE__BODY_ERROR) {
		fprintf(stderr, "fuzz_seeds: request %d refused: %s\n",
			req->body_case, resp->error->message);
		exit(1);
	}
	return resp;
}

/* One of each query, each from a principal allowed to make it. */
static void queries(fuzz_world *w)
{
	Tamwil__V1__Request req = TAMWIL__V1__REQUEST__INIT;
	Tamwil__V1__WhoamiRequest whoami = TAMWIL__V1__WHOAMI_REQUEST__INIT;
	Tamwil__V1__PingRequest ping = TAMWIL__V1__PING_REQUEST__INIT;
	Tamwil__V1__GetApplicationRequest get =
	    TAMWIL__V1__GET_APPLICATION_REQUEST__INIT;
	Tamwil__V1__ListApplicationsRequest list =
	    TAMWIL__V1__LIST_APPLICATIONS_REQUEST__INIT;
	Tamwil__V1__ListProgrammesRequest progs =
	    TAMWIL__V1__LIST_PROGRAMMES_REQUEST__INIT;
	Tamwil__V1__ReportRequest report = TAMWIL__V1__REPORT_REQUEST__INIT;
	Tamwil__V1__ListRegionsRequest regions =
	    TAMWIL__V1__LIST_REGIONS_REQUEST__INIT;
	Tamwil__V1__CheckpointRequest cp = TAMWIL__V1__CHECKPOINT_REQUEST__INIT;
	Tamwil__V1__InclusionRequest incl = TAMWIL__V1__INCLUSION_REQUEST__INIT;
	Tamwil__V1__LogEntriesRequest log =
	    TAMWIL__V1__LOG_ENTRIES_REQUEST__INIT;
	Tamwil__V1__SecurityEventsRequest sec =
	    TAMWIL__V1__SECURITY_EVENTS_REQUEST__INIT;
	struct {
		int who;
		Tamwil__V1__Request__BodyCase kind;
		void *body;
	} asks[] = {
	    {FUZZ_COORD_CAS, TAMWIL__V1__REQUEST__BODY_WHOAMI, &whoami},
	    {FUZZ_TREASURER, TAMWIL__V1__REQUEST__BODY_PING, &ping},
	    {FUZZ_COORD_LAG, TAMWIL__V1__REQUEST__BODY_GET_APPLICATION, &get},
	    {FUZZ_APPROVER, TAMWIL__V1__REQUEST__BODY_LIST_APPLICATIONS, &list},
	    {FUZZ_AUDITOR, TAMWIL__V1__REQUEST__BODY_LIST_PROGRAMMES, &progs},
	    {FUZZ_ADMIN, TAMWIL__V1__REQUEST__BODY_REPORT, &report},
	    {FUZZ_COORD_LAG, TAMWIL__V1__REQUEST__BODY_LIST_REGIONS, &regions},
	    {FUZZ_COORD_LAG, TAMWIL__V1__REQUEST__BODY_CHECKPOINT, &cp},
	    {FUZZ_AUDITOR, TAMWIL__V1__REQUEST__BODY_INCLUSION, &incl},
	    {FUZZ_AUDITOR, TAMWIL__V1__REQUEST__BODY_LOG_ENTRIES, &log},
	    {FUZZ_ADMIN, TAMWIL__V1__REQUEST__BODY_SECURITY_EVENTS, &sec},
	};

	ping.data.data = (uint8_t *)"salam";
	ping.data.len = 5;
	get.reference = w->refs[0];
	list.region = "LAG";
	list.programme = "FEM-2026";
	list.state = TAMWIL__V1__APPLICATION_STATE__STATE_APPROVED;
	list.page_size = 2;
	report.group_by = TAMWIL__V1__REPORT_GROUP__GROUP_REGION;
	report.programme = "FEM-2026";
	cp.since_size = 3;
	incl.sequence = 5;
	log.start = 1;
	log.max = 4;
	sec.limit = 10;
	for (size_t i = 0; i < sizeof(asks) / sizeof(asks[0]); i++) {
		Tamwil__V1__Response *resp;

		tamwil__v1__request__init(&req);
		req.body_case = asks[i].kind;
		/* Every body of the oneof shares one pointer slot. */
		req.whoami = asks[i].body;
		resp = ask(w, asks[i].who, &req);
		tamwil__v1__response__free_unpacked(resp, NULL);
	}
}

/* A ClientHello carrying a first request, as message 3 does. */
static void client_hello(void)
{
	static uint8_t seed[256];
	Tamwil__V1__ClientHello hello = TAMWIL__V1__CLIENT_HELLO__INIT;
	Tamwil__V1__Request req = TAMWIL__V1__REQUEST__INIT;
	Tamwil__V1__WhoamiRequest whoami = TAMWIL__V1__WHOAMI_REQUEST__INIT;
	size_t n;

	req.request_id = 1;
	req.body_case = TAMWIL__V1__REQUEST__BODY_WHOAMI;
	req.whoami = &whoami;
	hello.client_version = "tamwil 0.1.0";
	hello.first_request = &req;
	seed[0] = 0x40 | FUZZ_COORD_LAG;
	n = tamwil__v1__client_hello__pack(&hello, seed + 1);
	put("dispatch", "hello-whoami", seed, n + 1);
	hello.first_request = NULL;
	n = tamwil__v1__client_hello__pack(&hello, seed + 1);
	put("dispatch", "hello-alone", seed, n + 1);
}

/* Writes one export record; exits on failure. */
static void export_put(FILE *f, Tamwil__V1__ExportRecord *rec)
{
	if (tamwil_export_write(f, rec) != 0)
		exit(1);
}

/* The export seed must verify, or its mutations start from a refusal. */
static void export_check(const fuzz_world *w)
{
	tamwil_export_summary sum;
	char path[4096], why[512];

	snprintf(path, sizeof(path), "%s/export/head-office", root);
	if (tamwil_export_verify(path, w->srv->key.sign_pk, NULL,
				 w->srv->data.sk, NULL, NULL, &sum, why,
				 sizeof(why)) != 0) {
		fprintf(stderr, "fuzz_seeds: the export does not verify: %s\n",
			why);
		exit(1);
	}
}

/* The world's whole log, its applications and programme: an export. */
static void export_file(fuzz_world *w)
{
	Tamwil__V1__Request req = TAMWIL__V1__REQUEST__INIT;
	Tamwil__V1__LogEntriesRequest log =
	    TAMWIL__V1__LOG_ENTRIES_REQUEST__INIT;
	Tamwil__V1__ListApplicationsRequest list =
	    TAMWIL__V1__LIST_APPLICATIONS_REQUEST__INIT;
	Tamwil__V1__ListProgrammesRequest progs =
	    TAMWIL__V1__LIST_PROGRAMMES_REQUEST__INIT;
	Tamwil__V1__ExportRecord rec = TAMWIL__V1__EXPORT_RECORD__INIT;
	Tamwil__V1__ExportHeader h = TAMWIL__V1__EXPORT_HEADER__INIT;
	Tamwil__V1__ExportApplication ea = TAMWIL__V1__EXPORT_APPLICATION__INIT;
	Tamwil__V1__ExportProgramme ep = TAMWIL__V1__EXPORT_PROGRAMME__INIT;
	Tamwil__V1__ExportEnd end = TAMWIL__V1__EXPORT_END__INIT;
	Tamwil__V1__Response *page, *apps, *pl;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		exit(1);
	req.body_case = TAMWIL__V1__REQUEST__BODY_LOG_ENTRIES;
	req.log_entries = &log;
	w->record = NULL;
	page = ask(w, FUZZ_AUDITOR, &req);
	fwrite(TAMWIL_EXPORT_MAGIC, 1, TAMWIL_EXPORT_MAGIC_LEN, f);
	h.format = TAMWIL_EXPORT_FORMAT;
	h.server_sign_key.data = w->srv->key.sign_pk;
	h.server_sign_key.len = sizeof(w->srv->key.sign_pk);
	h.tree_size = page->log_entries->tree_size;
	h.exported_at = 1767225600;
	h.server_version = "tamwild " TAMWIL_VERSION;
	h.exported_by = "Omar El Fassi";
	rec.body_case = TAMWIL__V1__EXPORT_RECORD__BODY_HEADER;
	rec.header = &h;
	export_put(f, &rec);
	/* The small log fits one page; its batches of one each signed one. */
	if (page->log_entries->n_entries != h.tree_size ||
	    page->log_entries->n_checkpoints != h.tree_size)
		exit(1);
	for (size_t i = 0; i < page->log_entries->n_entries; i++) {
		rec.body_case = TAMWIL__V1__EXPORT_RECORD__BODY_ENTRY;
		rec.entry = page->log_entries->entries[i];
		export_put(f, &rec);
		rec.body_case = TAMWIL__V1__EXPORT_RECORD__BODY_CHECKPOINT;
		rec.checkpoint = page->log_entries->checkpoints[i];
		export_put(f, &rec);
		end.entries++;
		end.checkpoints++;
	}
	req.body_case = TAMWIL__V1__REQUEST__BODY_LIST_APPLICATIONS;
	req.list_applications = &list;
	apps = ask(w, FUZZ_AUDITOR, &req);
	rec.body_case = TAMWIL__V1__EXPORT_RECORD__BODY_APPLICATION;
	rec.application = &ea;
	for (size_t i = 0; i < apps->applications->n_applications; i++) {
		const Tamwil__V1__Application *a =
		    apps->applications->applications[i];

		ea.reference = a->reference;
		ea.state = a->state;
		ea.programme = a->programme;
		ea.region = a->region;
		ea.currency = a->amount_requested->currency;
		ea.requested = a->amount_requested->minor;
		ea.granted = a->amount_granted ? a->amount_granted->minor : 0;
		ea.disbursed =
		    a->amount_disbursed ? a->amount_disbursed->minor : 0;
		ea.repaid = a->amount_repaid ? a->amount_repaid->minor : 0;
		export_put(f, &rec);
		end.applications++;
	}
	req.body_case = TAMWIL__V1__REQUEST__BODY_LIST_PROGRAMMES;
	req.list_programmes = &progs;
	pl = ask(w, FUZZ_AUDITOR, &req);
	rec.body_case = TAMWIL__V1__EXPORT_RECORD__BODY_PROGRAMME;
	rec.programme = &ep;
	for (size_t i = 0; i < pl->programmes->n_programmes; i++) {
		const Tamwil__V1__Programme *p = pl->programmes->programmes[i];

		ep.code = p->code;
		ep.currency = p->envelope->currency;
		ep.envelope = p->envelope->minor;
		ep.granted = p->granted ? p->granted->minor : 0;
		ep.disbursed = p->disbursed ? p->disbursed->minor : 0;
		export_put(f, &rec);
		end.programmes++;
	}
	rec.body_case = TAMWIL__V1__EXPORT_RECORD__BODY_END;
	rec.end = &end;
	export_put(f, &rec);
	if (fclose(f) != 0)
		exit(1);
	put("export", "head-office", buf, len);
	free(buf);
	export_check(w);
	tamwil__v1__response__free_unpacked(page, NULL);
	tamwil__v1__response__free_unpacked(apps, NULL);
	tamwil__v1__response__free_unpacked(pl, NULL);
}

/*
 * A whole session as the client sends it: message 1, message 3 with a
 * ClientHello, two transport messages. Written as the handshake seeds
 * (cut after each message) and as frame seeds.
 */
static void handshake(void)
{
	static uint8_t stream[4 * FRAME_MAX_BODY],
	    frame_seed[64 + sizeof(stream)];
	static uint8_t msg[FRAME_MAX_BODY], payload[FRAME_MAX_BODY];
	uint8_t server_sk[NOISE_DHLEN], server_pk[NOISE_DHLEN];
	uint8_t client_sk[NOISE_DHLEN], client_pk[NOISE_DHLEN];
	const char *pt[2] = {"\x08\x02\x5a\x00",
			     "\x08\x03\x5a\x07\x0a\x05salam"};
	size_t pt_len[2] = {4, 11};
	channel initiator, responder;
	size_t at = 0, n, plen, cuts[4];

	if (fuzz_static_key(FUZZ_RNG_SERVER_STATIC, server_sk, server_pk) ||
	    fuzz_static_key(FUZZ_RNG_CLIENT_STATIC, client_sk, client_pk) ||
	    channel_init_initiator(&initiator, client_sk, server_pk) ||
	    channel_init_responder(&responder, server_sk))
		exit(1);
	/* The client's ephemeral, then the server's, as the harness draws. */
	fuzz_rng_reset(FUZZ_RNG_INITIATOR);
	if (channel_handshake_write(&initiator, NULL, 0, msg, sizeof(msg), &n))
		exit(1);
	at = frame_append(stream, at, msg, n);
	cuts[0] = at;
	fuzz_rng_reset(FUZZ_RNG_RESPONDER);
	if (channel_handshake_read(&responder, msg, n, payload, sizeof(payload),
				   &plen) ||
	    channel_handshake_write(
		&responder, (const uint8_t *)FUZZ_MSG2_PAYLOAD,
		sizeof FUZZ_MSG2_PAYLOAD - 1, msg, sizeof(msg), &n) ||
	    channel_handshake_read(&initiator, msg, n, payload, sizeof(payload),
				   &plen))
		exit(1);
	{
		/* Message 3: a ClientHello whose first request is whoami. */
		Tamwil__V1__ClientHello hello = TAMWIL__V1__CLIENT_HELLO__INIT;
		Tamwil__V1__Request req = TAMWIL__V1__REQUEST__INIT;
		Tamwil__V1__WhoamiRequest who =
		    TAMWIL__V1__WHOAMI_REQUEST__INIT;

		req.request_id = 1;
		req.body_case = TAMWIL__V1__REQUEST__BODY_WHOAMI;
		req.whoami = &who;
		hello.client_version = "tamwil 0.1.0";
		hello.first_request = &req;
		plen = tamwil__v1__client_hello__pack(&hello, payload);
	}
	if (channel_handshake_write(&initiator, payload, plen, msg, sizeof(msg),
				    &n) ||
	    !initiator.established)
		exit(1);
	at = frame_append(stream, at, msg, n);
	cuts[1] = at;
	/* The responder, as the harness runs it, must accept it all. */
	if (channel_handshake_read(&responder, msg, n, payload, sizeof(payload),
				   &plen) ||
	    !responder.established)
		exit(1);
	for (int i = 0; i < 2; i++) {
		if (channel_seal(&initiator, (const uint8_t *)pt[i], pt_len[i],
				 msg, &n) ||
		    channel_open(&responder, msg, n, payload, &plen))
			exit(1);
		at = frame_append(stream, at, msg, n);
		cuts[2 + i] = at;
	}
	put("handshake", "msg1", stream, cuts[0]);
	put("handshake", "msg1-msg3", stream, cuts[1]);
	put("handshake", "session", stream, cuts[3]);
	/* Frame seeds: one chunk size byte 0x00 (1 byte at a time), ... */
	frame_seed[0] = 0;
	frame_seed[1] = 0;
	frame_seed[2] = 0;
	frame_seed[3] = 0;
	memcpy(frame_seed + 4, stream, cuts[3]);
	put("frame", "session-bytewise", frame_seed, 4 + cuts[3]);
	/* ... three sizes (2, 47, 200 bytes) and max_frame 1024 ... */
	frame_seed[0] = 2;
	frame_seed[1] = 1;
	frame_seed[2] = 46;
	frame_seed[3] = 199;
	frame_seed[4] = 0x04;
	frame_seed[5] = 0x00;
	memcpy(frame_seed + 6, stream, cuts[3]);
	put("frame", "session-chunks", frame_seed, 6 + cuts[3]);
	channel_clear(&initiator);
	channel_clear(&responder);
}

/* Frame seeds the daemon must refuse: empty, oversize, message 1 too long. */
static void bad_frames(void)
{
	static const uint8_t empty[] = {0, 0, 0, 0, 0, 0};
	static const uint8_t over[] = {0, 0x80, 0x00, 0x00, 0x00, 0x31, 0x01};
	static const uint8_t limit[] = {1,    3,    4,	  0x00, 0x10, 0x00,
					0x02, 0xaa, 0xbb, 0x00, 0x02, 0xcc,
					0xdd, 0x00, 0x11, 0xee};

	put("frame", "empty-frame", empty, sizeof(empty));
	put("frame", "msg1-too-long", over, sizeof(over));
	put("frame", "above-max-frame", limit, sizeof(limit));
}

/* Amounts in every shape money_parse() reads, and refusals. */
static void amounts(void)
{
	static const char *const texts[] = {
	    "250000",
	    "250000.00",
	    "250000,5",
	    "250 000,00",
	    "1 121 215,07",
	    "1.121.215,07",
	    "1,121,215.07",
	    "1 121 215",
	    ("1\xc2\xa0"
	     "121\xc2\xa0"
	     "215,07"),
	    ("1\xe2\x80\xaf"
	     "000,50"),
	    " \t13 500 000 ",
	    "92233720368547758,07",
	    "0,01",
	    "12 34",
	    "1.234",
	    "1,2,3",
	    "-5",
	    "+5",
	    "1,234",
	    "0,001",
	    "92233720368547758,08",
	};
	char name[32];

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		snprintf(name, sizeof(name), "amount-%02zu", i);
		put("money", name, texts[i], strlen(texts[i]));
	}
}

/* The documented example and the shapes of CSV offices send. */
static void imports(void)
{
	static const char *const files[][2] = {
	    {"comma-lf",
	     "programme,region,national_id,first_name,last_name,sex,"
	     "birth_date,category,sector,activity,amount\n"
	     "INDH-2026,LAG,JB123456,Khadija,Alaoui,F,1988-03-21,"
	     "rural_woman,crafts,tissage,45000\n"},
	    {"bom-semicolon-crlf",
	     "\xEF\xBB\xBFprogramme;r\xC3\xA9gion;CIN;Nom complet;Sexe;"
	     "Date de naissance;Cat\xC3\xA9gorie;Secteur;Activit\xC3\xA9;"
	     "Montant;Apport\r\n"
	     "INDH-2026;LAG;JB123456;Khadija Alaoui;F;21/03/1988;"
	     "femme_rurale;crafts;\"tissage; tapis\";\"45 000,00\";0\r\n"
	     "\r\n"
	     "INDH-2026;CAS;JB654321;Salma Idrissi;F;1992-11-02;"
	     "rural_woman;commerce;\"\xC3\xA9picerie \"\"du coin\"\"\";"
	     "35000,50;\r\n"},
	    {"quotes-multiline",
	     "programme;region;national_id;name;sex;birth_date;category;"
	     "sector;activity;amount\n"
	     "INDH-2026;LAG;AB998877;Youssef Amrani;M;05/07/1999;jeune;"
	     "services;\"R\xC3\xA9paration\nde t\xC3\xA9l\xC3\xA9phones\";"
	     "30000.00\n"
	     "INDH-2026;LAG;AB998877;Youssef Amrani;M;05/07/1999;jeune;"
	     "services;doublon;30000\n"},
	    {"tabs-problems",
	     "programme\tregion\tnational_id\tname\tsex\tbirth_date\t"
	     "category\tsector\tactivity\tamount\n"
	     "INDH-2026\tLAG\tX1\tA B\tQ\t31/02/1990\tnone\ts\ta\t-5\n"
	     "INDH-2026\tLAG\tX2\tA B\tF\t1990-01-01\n"},
	    {"unpaired-quote",
	     "programme;region;national_id;name;sex;birth_date;category;"
	     "sector;activity;amount\n"
	     "INDH-2026;LAG;\"X1;A B;F;1990-01-01;youth;s;a;100\n"},
	    {"header-only", "programme;region;national_id;name\r\n"},
	};
	char *example = NULL;
	size_t len = 0;
	FILE *f = fopen(TAMWIL_IMPORT_EXAMPLE, "rb");

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 ||
	    (len = (size_t)ftell(f)) == 0 || fseek(f, 0, SEEK_SET) != 0 ||
	    (example = malloc(len)) == NULL ||
	    fread(example, 1, len, f) != len) {
		perror(TAMWIL_IMPORT_EXAMPLE);
		exit(1);
	}
	fclose(f);
	put("import", "example", example, len);
	free(example);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		put("import", files[i][0], files[i][1], strlen(files[i][1]));
}

int main(int argc, char **argv)
{
	fuzz_world *w;
	unsigned n = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: fuzz_seeds DIR\n");
		return 2;
	}
	root = argv[1];
	/* The world first: the export harness rebuilds it from this stream. */
	if (fuzz_rng_install() != 0)
		return 1;
	w = fuzz_world_open(record, &n);
	if (w == NULL)
		return 1;
	queries(w);
	client_hello();
	export_file(w);
	fuzz_world_close(w);
	handshake();
	bad_frames();
	amounts();
	imports();
	return 0;
}
