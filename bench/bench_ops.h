/*
 * The operations the benchmark's tools sign (tamwil-bench over the
 * network, tamwil-prefill offline): regions, principals, programmes,
 * submissions, decisions and tranches, with the same values in both so
 * that a prefilled database looks like one the benchmark filled.
 */
#ifndef TAMWIL_BENCH_OPS_H
#define TAMWIL_BENCH_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "keyfile.h"
#include "tamwil.pb-c.h"

#define BENCH_CURRENCY	"MAD"
#define BENCH_ENVELOPE	1000000000000000LL /* minor units */
#define BENCH_CEILING	10000000LL
#define BENCH_REQUESTED 4500000LL

/*
 * An operation and everything it points to but the caller's strings and
 * keys, which must outlive it: fill it with one bench_op_*() call, then
 * sign b->op. The body may be changed in between.
 */
typedef struct bench_opbuf {
	Tamwil__V1__Operation op;
	union {
		Tamwil__V1__CreateRegion region;
		Tamwil__V1__EnrolPrincipal enrol;
		Tamwil__V1__CreateProgramme programme;
		Tamwil__V1__SubmitApplication submit;
		Tamwil__V1__ApproveApplication approve;
		Tamwil__V1__RejectApplication reject;
		Tamwil__V1__RecordDisbursement disburse;
	} body;
	Tamwil__V1__Money money[2];
	char name[64];
} bench_opbuf;

/* Creates region code, named "Bench region CODE". */
void bench_op_region(bench_opbuf *b, const char *code);

/* Enrols the public keys of key as name with role (and region, or ""). */
void bench_op_enrol(bench_opbuf *b, const keyfile_secret *key, const char *name,
		    Tamwil__V1__Role role, const char *region);

/* Creates programme code in MAD, envelope BENCH_ENVELOPE, ceiling
 * BENCH_CEILING. */
void bench_op_programme(bench_opbuf *b, const char *code);

/*
 * Submits to programme in region the identity sealed in box (len
 * bytes): a rural woman born in 1990, a weaving workshop in crafts,
 * BENCH_REQUESTED asked, no contribution.
 */
void bench_op_submit(bench_opbuf *b, const char *programme, const char *region,
		     uint8_t *box, size_t len);

/* Approves (reject 0) reference ref for the amount asked, or rejects it. */
void bench_op_decision(bench_opbuf *b, const char *ref, int reject);

/* Records the one tranche, in cash, of BENCH_REQUESTED on ref. */
void bench_op_disbursement(bench_opbuf *b, const char *ref);

#endif
