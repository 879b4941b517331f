/*
 * Export files of the audit log: framing, reading and offline
 * verification; see tamwil-export.h.
 */
#include "tamwil-export.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "checkpoint.h"
#include "pbuf.h"
#include "replay.h"
#include "tamwil-client.h"

int tamwil_export_write(FILE *f, const Tamwil__V1__ExportRecord *r)
{
	size_t len = tamwil__v1__export_record__get_packed_size(r);
	uint8_t head[4], *buf;
	int rc = -1;

	if (len > TAMWIL_EXPORT_RECORD_MAX)
		return -1;
	buf = malloc(len > 0 ? len : 1);
	if (buf == NULL)
		return -1;
	head[0] = (uint8_t)(len >> 24);
	head[1] = (uint8_t)(len >> 16);
	head[2] = (uint8_t)(len >> 8);
	head[3] = (uint8_t)len;
	tamwil__v1__export_record__pack(r, buf);
	if (fwrite(head, 1, 4, f) == 4 && fwrite(buf, 1, len, f) == len)
		rc = 0;
	free(buf);
	return rc;
}

int tamwil_export_open(tamwil_export_reader *rd, const char *path, char *why,
		       size_t cap)
{
	char magic[TAMWIL_EXPORT_MAGIC_LEN];

	memset(rd, 0, sizeof(*rd));
	rd->f = fopen(path, "rb");
	if (rd->f == NULL) {
		snprintf(why, cap, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	rd->buf = malloc(TAMWIL_EXPORT_RECORD_MAX);
	if (rd->buf == NULL) {
		snprintf(why, cap, "out of memory");
		return -1;
	}
	if (fread(magic, 1, sizeof(magic), rd->f) != sizeof(magic) ||
	    memcmp(magic, TAMWIL_EXPORT_MAGIC, sizeof(magic)) != 0) {
		snprintf(
		    why, cap,
		    "%s is not a Tamwil log export (no " TAMWIL_EXPORT_MAGIC
		    " at its start)",
		    path);
		return -1;
	}
	rd->offset = sizeof(magic);
	return 0;
}

int tamwil_export_next(tamwil_export_reader *rd, Tamwil__V1__ExportRecord **rec,
		       uint64_t *offset, char *why, size_t cap)
{
	uint8_t head[4];
	size_t got = fread(head, 1, sizeof(head), rd->f);
	uint32_t len;

	*rec = NULL;
	*offset = rd->offset;
	if (got == 0 && feof(rd->f))
		return 0;
	if (got != sizeof(head)) {
		snprintf(why, cap,
			 "record at byte %" PRIu64 ": its length is truncated",
			 rd->offset);
		return -1;
	}
	len = (uint32_t)head[0] << 24 | (uint32_t)head[1] << 16 |
	      (uint32_t)head[2] << 8 | head[3];
	if (len > TAMWIL_EXPORT_RECORD_MAX) {
		snprintf(why, cap,
			 "record at byte %" PRIu64 ": its length %" PRIu32
			 " is above the limit of 1 MiB",
			 rd->offset, len);
		return -1;
	}
	if (fread(rd->buf, 1, len, rd->f) != len) {
		snprintf(why, cap,
			 "record at byte %" PRIu64 ": truncated (%" PRIu32
			 " bytes announced)",
			 rd->offset, len);
		return -1;
	}
	*rec = (Tamwil__V1__ExportRecord *)pbuf_unpack(
	    &tamwil__v1__export_record__descriptor, len, rd->buf,
	    2 * TAMWIL_EXPORT_RECORD_MAX);
	if (*rec == NULL ||
	    (*rec)->body_case == TAMWIL__V1__EXPORT_RECORD__BODY__NOT_SET) {
		if (*rec != NULL)
			tamwil__v1__export_record__free_unpacked(*rec, NULL);
		*rec = NULL;
		snprintf(why, cap,
			 "record at byte %" PRIu64 ": does not parse as an "
			 "export record",
			 rd->offset);
		return -1;
	}
	rd->offset += 4 + (uint64_t)len;
	return 1;
}

void tamwil_export_close(tamwil_export_reader *rd)
{
	if (rd->f != NULL)
		fclose(rd->f);
	free(rd->buf);
	memset(rd, 0, sizeof(*rd));
}

/* The state of one verification. */
struct verify {
	tamwil_export_reader rd;
	replay *r;
	tamwil_dbcheck *db;
	const uint8_t *sign_pk;
	uint64_t total; /* the header's tree size */
	tamwil_export_progress progress;
	void *arg;
	tamwil_export_summary *sum;
	int entry_open; /* entries since the last checkpoint */
	int ended;	/* the end record was read */
	char *why;
	size_t cap;
};

/* Checks the header record. 0 or -1. */
static int verify_header(struct verify *v, const Tamwil__V1__ExportRecord *rec)
{
	const Tamwil__V1__ExportHeader *h = rec->header;

	if (rec->body_case != TAMWIL__V1__EXPORT_RECORD__BODY_HEADER ||
	    h == NULL) {
		snprintf(v->why, v->cap,
			 "the file does not start with a header");
		return -1;
	}
	if (h->format == NULL || strcmp(h->format, TAMWIL_EXPORT_FORMAT) != 0) {
		snprintf(v->why, v->cap, "unknown export format \"%s\"",
			 h->format != NULL ? h->format : "");
		return -1;
	}
	if (h->server_sign_key.len != 32 ||
	    sodium_memcmp(h->server_sign_key.data, v->sign_pk, 32) != 0) {
		snprintf(v->why, v->cap,
			 "the export names another head office signing key "
			 "than the server key file given");
		return -1;
	}
	v->total = h->tree_size;
	return 0;
}

/*
 * An entry record, replayed. Head office signs one checkpoint per
 * transaction, so a checkpoint follows the last entry of each; the
 * entries before it are covered by its root, and the log must end with
 * one (verify_record()).
 */
static int verify_entry(struct verify *v, const Tamwil__V1__ExportRecord *rec)
{
	if (replay_entry(v->r, rec->entry.data, rec->entry.len, v->why,
			 v->cap) != 0)
		return -1;
	v->sum->entries++;
	v->entry_open = 1;
	return 0;
}

/* A checkpoint record: the one the last entry completed. */
static int verify_checkpoint(struct verify *v,
			     const Tamwil__V1__ExportRecord *rec)
{
	char reason[REPLAY_ERR_MAX];
	uint64_t seq = v->sum->entries - 1;
	checkpoint cp;

	if (!v->entry_open) {
		snprintf(v->why, v->cap,
			 "a checkpoint follows no entry (after %" PRIu64
			 " entries)",
			 v->sum->entries);
		return -1;
	}
	if (tamwil_checkpoint_from_message(rec->checkpoint, &cp) != 0) {
		snprintf(v->why, v->cap,
			 "entry %" PRIu64 ": its checkpoint "
			 "is malformed",
			 seq);
		return -1;
	}
	if (cp.size != v->sum->entries) {
		snprintf(v->why, v->cap,
			 "entry %" PRIu64 ": followed by a checkpoint of size "
			 "%" PRIu64 ", not %" PRIu64,
			 seq, cp.size, v->sum->entries);
		return -1;
	}
	/* The replay's reason names the entry already. */
	if (replay_checkpoint(v->r, &cp, reason, sizeof(reason)) != 0) {
		snprintf(v->why, v->cap, "%s", reason);
		return -1;
	}
	v->sum->checkpoints++;
	v->entry_open = 0;
	if (v->progress != NULL)
		v->progress(v->arg, v->sum->entries, v->total);
	return 0;
}

/* A stated application or programme: against the replay and the db. */
static int verify_stated(struct verify *v, const Tamwil__V1__ExportRecord *rec)
{
	int app = rec->body_case == TAMWIL__V1__EXPORT_RECORD__BODY_APPLICATION;

	if (app && rec->application == NULL)
		return -1;
	if (!app && rec->programme == NULL)
		return -1;
	if (app ? replay_check_application(v->r, rec->application, v->why,
					   v->cap)
		: replay_check_programme(v->r, rec->programme, v->why, v->cap))
		return -1;
	if (v->db != NULL && (app ? tamwil_dbcheck_application(
					v->db, rec->application, v->why, v->cap)
				  : tamwil_dbcheck_programme(
					v->db, rec->programme, v->why, v->cap)))
		return -1;
	if (app)
		v->sum->applications++;
	else
		v->sum->programmes++;
	return 0;
}

/* The end record: the replay holds nothing more, the counts agree. */
static int verify_end(struct verify *v, const Tamwil__V1__ExportRecord *rec)
{
	const Tamwil__V1__ExportEnd *e = rec->end;
	tamwil_export_summary *s = v->sum;

	if (replay_finish(v->r, v->why, v->cap) != 0)
		return -1;
	if (e == NULL || e->entries != s->entries ||
	    e->checkpoints != s->checkpoints ||
	    e->applications != s->applications ||
	    e->programmes != s->programmes) {
		snprintf(v->why, v->cap,
			 "the end record's counts do not match the file's");
		return -1;
	}
	if (s->entries != v->total) {
		snprintf(v->why, v->cap,
			 "the header announces %" PRIu64 " entries, the file "
			 "holds %" PRIu64,
			 v->total, s->entries);
		return -1;
	}
	v->ended = 1;
	if (v->db != NULL)
		return tamwil_dbcheck_counts(v->db, s->applications,
					     s->programmes, v->why, v->cap);
	return 0;
}

/* One record after the header, dispatched by kind. */
static int verify_record(struct verify *v, const Tamwil__V1__ExportRecord *rec,
			 uint64_t offset)
{
	if (v->ended) {
		snprintf(v->why, v->cap,
			 "record at byte %" PRIu64 ": after the end record",
			 offset);
		return -1;
	}
	switch (rec->body_case) {
	case TAMWIL__V1__EXPORT_RECORD__BODY_ENTRY:
		return verify_entry(v, rec);
	case TAMWIL__V1__EXPORT_RECORD__BODY_CHECKPOINT:
		return verify_checkpoint(v, rec);
	default:
		break;
	}
	if (v->entry_open) {
		snprintf(v->why, v->cap,
			 "entry %" PRIu64 ": the log's last entry is not "
			 "followed by a checkpoint",
			 v->sum->entries - 1);
		return -1;
	}
	if (rec->body_case == TAMWIL__V1__EXPORT_RECORD__BODY_END)
		return verify_end(v, rec);
	if (rec->body_case == TAMWIL__V1__EXPORT_RECORD__BODY_HEADER) {
		snprintf(v->why, v->cap,
			 "record at byte %" PRIu64 ": a second header", offset);
		return -1;
	}
	if (verify_stated(v, rec) == 0)
		return 0;
	if (v->why[0] == '\0')
		snprintf(v->why, v->cap, "record at byte %" PRIu64 ": empty",
			 offset);
	return -1;
}

/* Reads and checks every record; 0 or -1 with v->why. */
static int verify_records(struct verify *v)
{
	Tamwil__V1__ExportRecord *rec = NULL;
	uint64_t offset;
	int rc, first = 1;

	while ((rc = tamwil_export_next(&v->rd, &rec, &offset, v->why,
					v->cap)) == 1) {
		rc = first ? verify_header(v, rec)
			   : verify_record(v, rec, offset);
		tamwil__v1__export_record__free_unpacked(rec, NULL);
		first = 0;
		if (rc != 0)
			return -1;
	}
	if (rc < 0)
		return -1;
	if (!v->ended) {
		snprintf(v->why, v->cap,
			 "the file ends at byte %" PRIu64 " without its end "
			 "record: it is truncated",
			 offset);
		return -1;
	}
	return 0;
}

int tamwil_export_verify(const char *path, const uint8_t *sign_pk,
			 const char *db_path, const uint8_t *data_sk,
			 tamwil_export_progress progress, void *arg,
			 tamwil_export_summary *sum, char *why, size_t cap)
{
	struct verify v;
	int rc = -1;

	memset(&v, 0, sizeof(v));
	memset(sum, 0, sizeof(*sum));
	why[0] = '\0';
	v.sign_pk = sign_pk;
	v.progress = progress;
	v.arg = arg;
	v.sum = sum;
	v.why = why;
	v.cap = cap;
	if (tamwil_export_open(&v.rd, path, why, cap) != 0)
		goto out;
	v.r = replay_new(sign_pk);
	if (v.r == NULL) {
		snprintf(why, cap, "out of memory");
		goto out;
	}
	if (data_sk != NULL)
		replay_set_data_key(v.r, data_sk);
	if (db_path != NULL) {
		v.db = tamwil_dbcheck_open(db_path, why, cap);
		if (v.db == NULL)
			goto out;
		sum->db_checked = 1;
	}
	rc = verify_records(&v);
	sum->identities = replay_identities(v.r);
out:
	tamwil_dbcheck_close(v.db);
	replay_free(v.r);
	tamwil_export_close(&v.rd);
	return rc;
}
