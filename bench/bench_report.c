/*
 * tamwil-bench's output; see bench_report.h. The words about signing and
 * receipts are part of every report, so no figure travels without them.
 */
#include "bench_report.h"

#include <jansson.h>

#include "bench_daemon.h"

static const char bench_signing_note[] =
    "\"before\": operations are signed and their identities sealed before "
    "the clock starts, as regional offices do on their own machines; "
    "\"inline\": signed and sealed inside the timed loop";
static const char bench_receipt_note[] =
    "every operation's receipt is verified against head office's signing "
    "key, as the tamwil client does";
static const char bench_cpu_note[] =
    "CPU time per operation over the timed run, user and system, all "
    "threads: the server's (/proc/PID/stat) and the load generator's "
    "(this program), which share the machine; \"writer\": the share of "
    "a CPU the server's writer thread (" BENCH_WRITER_THREAD ") used, the "
    "one thread that applies and commits";

/* "before", "inline", or "-" for workloads that sign nothing. */
static const char *bench_signing(const bench_spec *s)
{
	if (s->kind != BENCH_SUBMIT && s->kind != BENCH_MIX)
		return "-";
	return s->sign_inline ? "inline" : "before";
}

void bench_report_heading(FILE *out, const bench_report *r)
{
	fprintf(out, "tamwil-bench: %s at %s (%s), %ld CPUs\n",
		r->server_version, r->server,
		r->started ? "started by the benchmark" : "given", r->cpus);
	if (r->started)
		fprintf(out, "state folder: %s\n",
			r->state[0] ? r->state
				    : "temporary, removed at the "
				      "end");
	if (r->prefilled > 0 || r->prefill_errors > 0)
		fprintf(out,
			"prefill: %ld submissions in %.1f s (%.0f/s), %ld "
			"errors\n",
			r->prefilled, r->prefill_seconds,
			r->prefill_seconds > 0
			    ? (double)r->prefilled / r->prefill_seconds
			    : 0.0,
			r->prefill_errors);
	fprintf(out,
		"applications in the database before the workloads: %llu\n",
		(unsigned long long)r->applications);
	fprintf(out, "signing: %s\n", bench_signing_note);
	fprintf(out, "receipts: %s\n", bench_receipt_note);
	fprintf(out, "cpu: %s\n", bench_cpu_note);
	fprintf(out,
		"libsodium Ed25519 verify (crypto_sign_verify_detached): "
		"%.1f us each, %ld timed before the workloads\n",
		r->verify_us, r->verify_count);
	fprintf(out,
		"disk: a 4 KiB write and fdatasync() in %s: %.0f us "
		"(median of %ld), the floor under one durable commit\n\n",
		r->sync_dir, r->sync_us, r->sync_count);
}

void bench_report_row(FILE *out, const bench_report *r, int i)
{
	const bench_row *w = &r->rows[i];

	char server_cpu[32], writer[16];

	if (i == 0)
		fprintf(out,
			"%-10s %-7s %7s %9s %7s %8s %10s %9s %9s %9s %10s "
			"%10s %7s\n",
			"workload", "signing", "clients", "ops", "errors",
			"seconds", "ops/s", "p50 ms", "p99 ms", "max ms",
			"srv us/op", "gen us/op", "writer");
	if (w->res.server_cpu_us < 0)
		snprintf(server_cpu, sizeof(server_cpu), "-");
	else
		snprintf(server_cpu, sizeof(server_cpu), "%.1f",
			 w->res.server_cpu_us);
	if (w->res.writer_share < 0)
		snprintf(writer, sizeof(writer), "-");
	else
		snprintf(writer, sizeof(writer), "%.0f%%",
			 w->res.writer_share * 100);
	fprintf(out,
		"%-10s %-7s %7d %9ld %7ld %8.2f %10.1f %9.2f %9.2f %9.2f "
		"%10s %10.1f %7s%s\n",
		bench_kind_name(w->spec.kind), bench_signing(&w->spec),
		w->spec.clients, w->res.ops, w->res.errors, w->res.seconds,
		w->res.rate, w->res.p50 / 1000.0, w->res.p99 / 1000.0,
		w->res.max / 1000.0, server_cpu, w->res.client_cpu_us, writer,
		w->res.exhausted ? "  (pre-signed pool used up)" : "");
	fflush(out);
}

void bench_report_tail(FILE *out, const bench_report *r)
{
	for (int i = 0; i < r->nrows; i++) {
		const bench_row *w = &r->rows[i];

		if (w->spec.kind == BENCH_MIX)
			fprintf(out,
				"mix, %d clients, %s: %ld submissions, %ld "
				"decisions, %ld disbursements\n",
				w->spec.clients, bench_signing(&w->spec),
				w->res.by_kind[0], w->res.by_kind[1],
				w->res.by_kind[2]);
	}
	for (int i = 0; i < r->nrows; i++) {
		const bench_row *w = &r->rows[i];

		if (w->res.first_error[0] != '\0')
			fprintf(out, "%s, %d clients: first error: %s\n",
				bench_kind_name(w->spec.kind), w->spec.clients,
				w->res.first_error);
	}
	if (r->idle_skipped[0] != '\0')
		fprintf(out, "idle: not measured: %s\n", r->idle_skipped);
	for (int i = 0; i < r->nidle; i++) {
		const bench_idle *d = &r->idle[i];

		fprintf(out,
			"idle: %ld channels: server RSS %.1f MiB -> %.1f MiB, "
			"%.0f bytes per channel\n",
			d->connections, (double)d->rss_before / 1048576.0,
			(double)d->rss_after / 1048576.0, d->per_connection);
	}
}

/* One row as a JSON object, or NULL. */
static json_t *bench_row_json(const bench_row *w)
{
	const bench_result *s = &w->res;
	json_t *o = json_pack(
	    "{s:s, s:s, s:i, s:I, s:I, s:f, s:f, s:{s:f, s:f, s:f}, s:b}",
	    "workload", bench_kind_name(w->spec.kind), "signing",
	    bench_signing(&w->spec), "clients", w->spec.clients, "ops",
	    (json_int_t)s->ops, "errors", (json_int_t)s->errors, "seconds",
	    s->seconds, "ops_per_s", s->rate, "latency_ms", "p50",
	    s->p50 / 1000.0, "p99", s->p99 / 1000.0, "max", s->max / 1000.0,
	    "pool_exhausted", s->exhausted);

	if (o == NULL)
		return NULL;
	if (w->spec.kind == BENCH_MIX &&
	    json_object_set_new(
		o, "by_kind",
		json_pack("{s:I, s:I, s:I}", "submissions",
			  (json_int_t)s->by_kind[0], "decisions",
			  (json_int_t)s->by_kind[1], "disbursements",
			  (json_int_t)s->by_kind[2])) != 0)
		goto fail;
	if (json_object_set_new(o, "first_error",
				s->first_error[0] ? json_string(s->first_error)
						  : json_null()) != 0 ||
	    json_object_set_new(o, "server_cpu_us_per_op",
				s->server_cpu_us < 0
				    ? json_null()
				    : json_real(s->server_cpu_us)) != 0 ||
	    json_object_set_new(o, "client_cpu_us_per_op",
				json_real(s->client_cpu_us)) != 0 ||
	    json_object_set_new(o, "writer_cpu_share",
				s->writer_share < 0
				    ? json_null()
				    : json_real(s->writer_share)) != 0)
		goto fail;
	return o;
fail:
	json_decref(o);
	return NULL;
}

int bench_report_json(FILE *out, const bench_report *r)
{
	json_t *root, *rows = json_array(), *idle = json_array();
	int rc = -1;

	root = json_pack("{s:s, s:s, s:b, s:I, s:I, s:s, s:s, s:s, s:{s:I, "
			 "s:f}, s:{s:s, s:I, s:f}}",
			 "server", r->server, "server_version",
			 r->server_version, "started_daemon", r->started,
			 "cpus", (json_int_t)r->cpus, "applications_at_start",
			 (json_int_t)r->applications, "signing",
			 bench_signing_note, "receipts", bench_receipt_note,
			 "cpu", bench_cpu_note, "ed25519_verify", "count",
			 (json_int_t)r->verify_count, "us_each", r->verify_us,
			 "fdatasync", "dir", r->sync_dir, "count",
			 (json_int_t)r->sync_count, "us_median", r->sync_us);
	if (root == NULL || rows == NULL || idle == NULL)
		goto out;
	if (r->prefilled > 0 || r->prefill_errors > 0) {
		if (json_object_set_new(
			root, "prefill",
			json_pack("{s:I, s:f, s:I}", "submissions",
				  (json_int_t)r->prefilled, "seconds",
				  r->prefill_seconds, "errors",
				  (json_int_t)r->prefill_errors)) != 0)
			goto out;
	}
	for (int i = 0; i < r->nrows; i++)
		if (json_array_append_new(rows, bench_row_json(&r->rows[i])) !=
		    0)
			goto out;
	for (int i = 0; i < r->nidle; i++) {
		const bench_idle *d = &r->idle[i];

		if (json_array_append_new(
			idle, json_pack("{s:I, s:I, s:I, s:f}", "connections",
					(json_int_t)d->connections,
					"rss_before", (json_int_t)d->rss_before,
					"rss_after", (json_int_t)d->rss_after,
					"bytes_per_connection",
					d->per_connection)) != 0)
			goto out;
	}
	if (json_object_set(root, "results", rows) != 0 ||
	    json_object_set(root, "idle", idle) != 0 ||
	    json_object_set_new(root, "idle_skipped",
				r->idle_skipped[0]
				    ? json_string(r->idle_skipped)
				    : json_null()) != 0)
		goto out;
	if (json_dumpf(root, out, JSON_INDENT(2)) != 0 || fputc('\n', out) < 0)
		goto out;
	rc = 0;
out:
	json_decref(rows);
	json_decref(idle);
	json_decref(root);
	return rc;
}
