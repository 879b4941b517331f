/*
 * What tamwil-bench reports: one row per workload, client count and way
 * of signing, the idle-memory figures and the run's circumstances, as a
 * table for people or as JSON (jansson) for scripts.
 */
#ifndef TAMWIL_BENCH_REPORT_H
#define TAMWIL_BENCH_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "bench_work.h"

#define BENCH_MAX_ROWS 256
#define BENCH_MAX_IDLE 16

typedef struct bench_row {
	bench_spec spec;
	bench_result res;
} bench_row;

typedef struct bench_report {
	char server[300];
	char server_version[64];
	int started;	  /* the benchmark started the daemon itself */
	char state[1024]; /* its state folder, "" when temporary */
	long cpus;
	uint64_t applications; /* in the database before the workloads */
	long prefilled;	       /* added by --prefill */
	double prefill_seconds;
	long prefill_errors;
	bench_row rows[BENCH_MAX_ROWS];
	int nrows;
	bench_idle idle[BENCH_MAX_IDLE];
	int nidle;
	char idle_skipped[256]; /* why idle was not measured; "" */
	/* libsodium's Ed25519 verification, timed before the workloads. */
	long verify_count;
	double verify_us; /* microseconds each */
	/* A 4 KiB write and fdatasync() in sync_dir: the median of count. */
	char sync_dir[1024];
	long sync_count;
	double sync_us;
} bench_report;

/* Prints the heading of the table: the circumstances of the run. */
void bench_report_heading(FILE *out, const bench_report *r);

/* Prints row i as a line of the table (the column titles before row 0). */
void bench_report_row(FILE *out, const bench_report *r, int i);

/* Prints the idle figures and the first error of each row that had any. */
void bench_report_tail(FILE *out, const bench_report *r);

/* Writes the whole report as one JSON object. 0 or -1. */
int bench_report_json(FILE *out, const bench_report *r);

#endif
