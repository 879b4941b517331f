/*
 * Export files of the audit log (proto/tamwil.proto, "Export files";
 * docs/AUDIT.md, "Export file"): writing records, reading them back with
 * strict bounds, and verifying a whole file offline with the replay of
 * common/replay.h, optionally against a copy of head office's database.
 * Part of libtamwil-client; never prints, no global state.
 */
#ifndef TAMWIL_EXPORT_H
#define TAMWIL_EXPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tamwil.pb-c.h"

#define TAMWIL_EXPORT_MAGIC	"TAMWILX1"
#define TAMWIL_EXPORT_MAGIC_LEN 8
#define TAMWIL_EXPORT_FORMAT	"tamwil-log-export/1"
/* No record of a valid export is longer. */
#define TAMWIL_EXPORT_RECORD_MAX ((size_t)1 << 20)

/*
 * Writes one record (4-byte big-endian length, then r serialized) to f.
 * 0 or -1 (a write failed, or r is larger than TAMWIL_EXPORT_RECORD_MAX).
 */
int tamwil_export_write(FILE *f, const Tamwil__V1__ExportRecord *r);

/* Reads an export file record by record. */
typedef struct tamwil_export_reader {
	FILE *f;
	uint64_t offset; /* of the next record's length */
	uint8_t *buf;	 /* TAMWIL_EXPORT_RECORD_MAX bytes */
} tamwil_export_reader;

/*
 * Opens path and checks its magic. 0, or -1 with the reason in why
 * (capacity cap); close the reader in both cases.
 */
int tamwil_export_open(tamwil_export_reader *rd, const char *path, char *why,
		       size_t cap);

/*
 * The next record: 1 with *rec (free with
 * tamwil__v1__export_record__free_unpacked()) and *offset its byte
 * offset, 0 at the clean end of the file, -1 with "record at byte N: ..."
 * in why for a length above TAMWIL_EXPORT_RECORD_MAX, a truncated record
 * or one that does not parse.
 */
int tamwil_export_next(tamwil_export_reader *rd, Tamwil__V1__ExportRecord **rec,
		       uint64_t *offset, char *why, size_t cap);

void tamwil_export_close(tamwil_export_reader *rd);

/* What a verification went through. */
typedef struct tamwil_export_summary {
	uint64_t entries, checkpoints, applications, programmes;
	uint64_t identities; /* sealed identities opened, with a data key */
	int db_checked;	     /* a database copy was compared too */
} tamwil_export_summary;

/* Called after each entry verified, with the count and the total. */
typedef void (*tamwil_export_progress)(void *arg, uint64_t done,
				       uint64_t total);

/*
 * Verifies the export at path offline: its framing; a header naming
 * sign_pk (head office's 32-byte Ed25519 key); every entry and every
 * checkpoint through the replay; the stated applications and programmes
 * against the replay, and none missing; the end record's counts. With
 * db_path (NULL: none) the database copy's applications and programmes
 * are compared with the stated, verified ones, and counted. With data_sk
 * (head office's 32-byte data secret key; NULL: none) every submission's
 * sealed identity is opened and checked too. 0 with *sum,
 * or -1 with the first failure in why ("entry 1234: the signature does
 * not verify"); progress may be NULL.
 */
int tamwil_export_verify(const char *path, const uint8_t *sign_pk,
			 const char *db_path, const uint8_t *data_sk,
			 tamwil_export_progress progress, void *arg,
			 tamwil_export_summary *sum, char *why, size_t cap);

/*
 * A database copy of head office, opened read-only (tamwil_dbcheck.c):
 * the one place the client reads SQL.
 */
typedef struct tamwil_dbcheck tamwil_dbcheck;

/* NULL with why when it cannot be opened or is not a Tamwil database. */
tamwil_dbcheck *tamwil_dbcheck_open(const char *path, char *why, size_t cap);

void tamwil_dbcheck_close(tamwil_dbcheck *d);

/* 0 if the database's row agrees with a; -1 with why ("application X: ..."). */
int tamwil_dbcheck_application(tamwil_dbcheck *d,
			       const Tamwil__V1__ExportApplication *a,
			       char *why, size_t cap);

int tamwil_dbcheck_programme(tamwil_dbcheck *d,
			     const Tamwil__V1__ExportProgramme *p, char *why,
			     size_t cap);

/* 0 if the database holds exactly that many of each; -1 with why. */
int tamwil_dbcheck_counts(tamwil_dbcheck *d, uint64_t applications,
			  uint64_t programmes, char *why, size_t cap);

#endif
