/*
 * The HTML report. The figures come from the same queries as `tamwil
 * report` and `tamwil budget`; the page is written to a temporary file
 * beside the target and renamed over it, so a reader never sees half a
 * report. Charts are plain SVG drawn here: nothing is fetched when the
 * page is opened, so it can be mailed or archived as it is.
 */
#include "cli_html.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli_json.h"
#include "cli_out.h"
#include "cli_util.h"

enum { BY_REGION, BY_SEX, BY_CATEGORY, BY_MONTH, N_BY };

static const Tamwil__V1__ReportGroup html_groups[N_BY] = {
    TAMWIL__V1__REPORT_GROUP__GROUP_REGION, TAMWIL__V1__REPORT_GROUP__GROUP_SEX,
    TAMWIL__V1__REPORT_GROUP__GROUP_CATEGORY,
    TAMWIL__V1__REPORT_GROUP__GROUP_MONTH};

/* What the page shows: four reports and the programme list. */
struct html_figures {
	Tamwil__V1__Response *by[N_BY];
	Tamwil__V1__Response *programmes;
	const char *programme, *region; /* the filters, "" for all */
	const char *server;		/* the server's version */
};

/* A series of a chart: its name in the legend and its colour. */
struct html_series {
	const char *name, *color;
};

/* Chart geometry, in SVG user units. */
#define HTML_WIDTH  760
#define HTML_LABEL  190
#define HTML_BAR    500
#define HTML_ROW    26
#define HTML_LEGEND 30
/* The most rows or columns one chart draws. */
#define HTML_MAX_ROWS ((size_t)400)

/* ---- asking head office -------------------------------------------------- */

/* Sends req; on failure prints why and returns an exit status, else -1. */
static int html_ask(tamwil_client *c, const Tamwil__V1__Request *req,
		    Tamwil__V1__Response **resp)
{
	tamwil_error err;

	if (tamwil_client_call(c, req, resp, &err) != TAMWIL_OK)
		return cli_fail_status(&err);
	return -1;
}

/* Fetches every figure of the page into f; -1, or an exit status. */
static int html_fetch(tamwil_client *c, struct html_figures *f)
{
	Tamwil__V1__Request req = TAMWIL__V1__REQUEST__INIT;
	Tamwil__V1__ReportRequest rep = TAMWIL__V1__REPORT_REQUEST__INIT;
	Tamwil__V1__ListProgrammesRequest lp =
	    TAMWIL__V1__LIST_PROGRAMMES_REQUEST__INIT;
	int rc;

	req.body_case = TAMWIL__V1__REQUEST__BODY_REPORT;
	req.report = &rep;
	rep.programme = (char *)f->programme;
	rep.region = (char *)f->region;
	for (int i = 0; i < N_BY; i++) {
		rep.group_by = html_groups[i];
		if ((rc = html_ask(c, &req, &f->by[i])) >= 0)
			return rc;
		if (f->by[i]->report == NULL)
			return cli_fail("head office sent an empty report");
	}
	req.body_case = TAMWIL__V1__REQUEST__BODY_LIST_PROGRAMMES;
	req.list_programmes = &lp;
	if ((rc = html_ask(c, &req, &f->programmes)) >= 0)
		return rc;
	if (f->programmes->programmes == NULL)
		return cli_fail("head office sent an empty programme list");
	return -1;
}

static void html_figures_free(struct html_figures *f)
{
	for (int i = 0; i < N_BY; i++)
		tamwil__v1__response__free_unpacked(f->by[i], NULL);
	tamwil__v1__response__free_unpacked(f->programmes, NULL);
}

/* ---- writing ------------------------------------------------------------- */

/* Writes s with the characters HTML gives a meaning escaped. */
static void html_text(FILE *out, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", out);
			break;
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		case '\'':
			fputs("&#39;", out);
			break;
		default:
			fputc(*s, out);
		}
	}
}

/* An amount as people read it, "1 121 215,07 MAD", escaped. */
static void html_money(FILE *out, int64_t minor, const char *currency)
{
	char buf[MONEY_TEXT_MAX];

	html_text(out, cli_money_text(minor, currency, buf, sizeof(buf)));
}

/* A table cell holding a count, tagged for the page's readers. */
static void html_count_cell(FILE *out, const char *key, uint64_t n)
{
	fprintf(out,
		"<td class=\"n\" data-key=\"%s\" data-value=\"%llu\">%llu</td>",
		key, (unsigned long long)n, (unsigned long long)n);
}

/* A table cell holding an amount, with its minor units and currency. */
static void html_money_cell(FILE *out, const char *key, int64_t minor,
			    const char *currency)
{
	fprintf(out,
		"<td class=\"n\" data-key=\"%s\" data-currency=\"%s\" "
		"data-minor=\"%lld\">",
		key, currency, (long long)minor);
	html_money(out, minor, currency);
	fputs("</td>", out);
}

/* The legend of a chart's series, at the top of its SVG. */
static void html_legend(FILE *out, const struct html_series *s, size_t n)
{
	size_t x = HTML_LABEL;

	for (size_t i = 0; i < n; i++) {
		fprintf(out,
			"<rect x=\"%zu\" y=\"6\" width=\"14\" height=\"14\" "
			"fill=\"%s\"/><text x=\"%zu\" y=\"18\">",
			x, s[i].color, x + 20);
		html_text(out, s[i].name);
		fputs("</text>", out);
		/* About 7 units a character at the chart's font size. */
		x += 40 + 7 * strlen(s[i].name);
	}
}

/*
 * A horizontal bar chart: one bar a row, its nseries segments stacked
 * (values row-major). With share set every bar fills the width (parts of
 * a whole); otherwise the longest bar does.
 */
static void html_hbars(FILE *out, const char *title, const char *const *labels,
		       size_t rows, const struct html_series *s, size_t nseries,
		       const double *values, int share)
{
	double max = 0;

	for (size_t r = 0; r < rows; r++) {
		double sum = 0;

		for (size_t k = 0; k < nseries; k++)
			sum += values[r * nseries + k];
		if (sum > max)
			max = sum;
	}
	fprintf(out,
		"<figure><svg role=\"img\" viewBox=\"0 0 %d %zu\" "
		"width=\"%d\" height=\"%zu\"><title>",
		HTML_WIDTH, HTML_LEGEND + rows * HTML_ROW + 4, HTML_WIDTH,
		HTML_LEGEND + rows * HTML_ROW + 4);
	html_text(out, title);
	fputs("</title>", out);
	html_legend(out, s, nseries);
	for (size_t r = 0; r < rows; r++) {
		double sum = 0, x = HTML_LABEL;
		size_t y = HTML_LEGEND + r * HTML_ROW;

		for (size_t k = 0; k < nseries; k++)
			sum += values[r * nseries + k];
		fprintf(out, "<text x=\"%d\" y=\"%zu\" text-anchor=\"end\">",
			HTML_LABEL - 8, y + 17);
		html_text(out, labels[r]);
		fputs("</text>", out);
		for (size_t k = 0; k < nseries; k++) {
			double v = values[r * nseries + k];
			double scale = share ? sum : max;
			double w = scale > 0 ? v / scale * HTML_BAR : 0;

			if (w <= 0)
				continue;
			fprintf(out,
				"<rect x=\"%.1f\" y=\"%zu\" width=\"%.1f\" "
				"height=\"%d\" fill=\"%s\"><title>",
				x, y + 3, w, HTML_ROW - 6, s[k].color);
			html_text(out, labels[r]);
			fprintf(out, ", %s: %.0f", s[k].name, v);
			if (sum > 0)
				fprintf(out, " (%.1f %%)", 100.0 * v / sum);
			fputs("</title></rect>", out);
			x += w;
		}
	}
	fputs("</svg><figcaption>", out);
	html_text(out, title);
	fputs("</figcaption></figure>\n", out);
}

/* ---- sections ------------------------------------------------------------ */

/* The rows of a report merged across currencies: counts only. */
struct html_group {
	const char *name;
	uint64_t submitted, women, approved, rejected, withdrawn, disbursed;
};

/* Merges the rows of rep with the same group; returns how many groups. */
static size_t html_merge(const Tamwil__V1__ReportResponse *rep,
			 struct html_group *g, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; i < rep->n_rows; i++) {
		const Tamwil__V1__ReportRow *r = rep->rows[i];
		size_t k = 0;

		while (k < n && strcmp(g[k].name, r->group) != 0)
			k++;
		if (k == n) {
			if (n == cap)
				break;
			memset(&g[n], 0, sizeof(g[n]));
			g[n++].name = r->group;
		}
		g[k].submitted += r->submitted;
		g[k].women += r->women;
		g[k].approved += r->approved;
		g[k].rejected += r->rejected;
		g[k].withdrawn += r->withdrawn;
		g[k].disbursed += r->disbursed;
	}
	return n;
}

/* Totals over every region: counts, then amounts per currency. */
static void html_totals(FILE *out, const Tamwil__V1__ReportResponse *rep)
{
	static const char *const heads[] = {
	    "Currency", "Submitted",   "Women",	    "Approved",
	    "Rejected", "Withdrawn",   "Disbursed", "Requested",
	    "Granted",	"Handed over", "Repaid"};
	Tamwil__V1__ReportRow sum[8];
	size_t n = 0;

	for (size_t i = 0; i < rep->n_rows; i++) {
		const Tamwil__V1__ReportRow *r = rep->rows[i];
		size_t k = 0;

		while (k < n && strcmp(sum[k].currency, r->currency) != 0)
			k++;
		if (k == n) {
			if (n == sizeof(sum) / sizeof(sum[0]))
				continue;
			tamwil__v1__report_row__init(&sum[n]);
			sum[n++].currency = r->currency;
		}
		sum[k].submitted += r->submitted;
		sum[k].women += r->women;
		sum[k].approved += r->approved;
		sum[k].rejected += r->rejected;
		sum[k].withdrawn += r->withdrawn;
		sum[k].disbursed += r->disbursed;
		sum[k].amount_requested += r->amount_requested;
		sum[k].amount_granted += r->amount_granted;
		sum[k].amount_disbursed += r->amount_disbursed;
		sum[k].amount_repaid += r->amount_repaid;
	}
	fputs("<section id=\"totals\"><h2>Totals</h2>\n<table><tr>", out);
	for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++)
		fprintf(out, "<th>%s</th>", heads[i]);
	fputs("</tr>\n", out);
	for (size_t k = 0; k < n; k++) {
		const Tamwil__V1__ReportRow *t = &sum[k];

		fprintf(out, "<tr class=\"total\"><td>%s</td>", t->currency);
		html_count_cell(out, "submitted", t->submitted);
		html_count_cell(out, "women", t->women);
		html_count_cell(out, "approved", t->approved);
		html_count_cell(out, "rejected", t->rejected);
		html_count_cell(out, "withdrawn", t->withdrawn);
		html_count_cell(out, "disbursed", t->disbursed);
		html_money_cell(out, "amount_requested", t->amount_requested,
				t->currency);
		html_money_cell(out, "amount_granted", t->amount_granted,
				t->currency);
		html_money_cell(out, "amount_disbursed", t->amount_disbursed,
				t->currency);
		html_money_cell(out, "amount_repaid", t->amount_repaid,
				t->currency);
		fputs("</tr>\n", out);
	}
	if (n == 0)
		fputs("<tr><td colspan=\"11\">No applications yet.</td></tr>\n",
		      out);
	fputs("</table></section>\n", out);
}

/* Applications by region, in a table and stacked by stage. */
static int html_regions(FILE *out, const Tamwil__V1__ReportResponse *rep)
{
	static const struct html_series s[] = {{"Approved", "#2e7d32"},
					       {"Waiting", "#f9a825"},
					       {"Rejected", "#c62828"},
					       {"Withdrawn", "#9e9e9e"}};
	struct html_group *g = calloc(HTML_MAX_ROWS, sizeof(*g));
	const char **labels = calloc(HTML_MAX_ROWS, sizeof(*labels));
	double *v = calloc(HTML_MAX_ROWS * 4, sizeof(*v));
	size_t n;

	if (g == NULL || labels == NULL || v == NULL) {
		free(g);
		free(labels);
		free(v);
		return -1;
	}
	n = html_merge(rep, g, HTML_MAX_ROWS);
	fputs("<section id=\"regions\"><h2>Applications by region and "
	      "stage</h2>\n",
	      out);
	for (size_t i = 0; i < n; i++) {
		uint64_t decided =
		    g[i].approved + g[i].rejected + g[i].withdrawn;

		labels[i] = g[i].name;
		v[i * 4] = (double)g[i].approved;
		v[i * 4 + 1] = g[i].submitted > decided
				   ? (double)(g[i].submitted - decided)
				   : 0;
		v[i * 4 + 2] = (double)g[i].rejected;
		v[i * 4 + 3] = (double)g[i].withdrawn;
	}
	if (n > 0)
		html_hbars(out, "Applications by region and stage", labels, n,
			   s, 4, v, 0);
	fputs("<table><tr><th>Region</th><th>Currency</th><th>Submitted</th>"
	      "<th>Approved</th><th>Rejected</th><th>Withdrawn</th>"
	      "<th>Disbursed</th><th>Requested</th><th>Granted</th>"
	      "<th>Handed over</th></tr>\n",
	      out);
	for (size_t i = 0; i < rep->n_rows; i++) {
		const Tamwil__V1__ReportRow *r = rep->rows[i];

		fputs("<tr><td dir=\"auto\">", out);
		html_text(out, r->group);
		fprintf(out, "</td><td>%s</td>", r->currency);
		html_count_cell(out, "submitted", r->submitted);
		html_count_cell(out, "approved", r->approved);
		html_count_cell(out, "rejected", r->rejected);
		html_count_cell(out, "withdrawn", r->withdrawn);
		html_count_cell(out, "disbursed", r->disbursed);
		html_money_cell(out, "amount_requested", r->amount_requested,
				r->currency);
		html_money_cell(out, "amount_granted", r->amount_granted,
				r->currency);
		html_money_cell(out, "amount_disbursed", r->amount_disbursed,
				r->currency);
		fputs("</tr>\n", out);
	}
	fputs("</table></section>\n", out);
	free(g);
	free(labels);
	free(v);
	return 0;
}

/* Budget use of each programme: granted and handed over, of the envelope. */
static int html_budget(FILE *out, const Tamwil__V1__ProgrammeList *l,
		       const char *only)
{
	static const struct html_series s[] = {
	    {"Handed over", "#1565c0"},
	    {"Granted, not yet handed over", "#90caf9"},
	    {"Left", "#eeeeee"}};
	const char **labels = calloc(HTML_MAX_ROWS, sizeof(*labels));
	double *v = calloc(HTML_MAX_ROWS * 3, sizeof(*v));
	size_t n = 0;

	if (labels == NULL || v == NULL) {
		free(labels);
		free(v);
		return -1;
	}
	fputs("<section id=\"budget\"><h2>Budget use per programme</h2>\n",
	      out);
	for (size_t i = 0; i < l->n_programmes && n < HTML_MAX_ROWS; i++) {
		const Tamwil__V1__Programme *p = l->programmes[i];
		int64_t granted = cli_money_minor(p->granted);
		int64_t handed = cli_money_minor(p->disbursed);

		if (only[0] != '\0' && strcmp(only, p->code) != 0)
			continue;
		labels[n] = p->code;
		v[n * 3] = (double)handed;
		v[n * 3 + 1] =
		    granted > handed ? (double)(granted - handed) : 0;
		v[n * 3 + 2] = (double)cli_money_minor(p->remaining);
		n++;
	}
	if (n > 0)
		html_hbars(out,
			   "Budget use per programme (share of the "
			   "envelope)",
			   labels, n, s, 3, v, 1);
	fputs("<table><tr><th>Programme</th><th>Name</th><th>Envelope</th>"
	      "<th>Granted</th><th>Handed over</th><th>Left</th>"
	      "<th>Beneficiaries</th></tr>\n",
	      out);
	for (size_t i = 0; i < l->n_programmes; i++) {
		const Tamwil__V1__Programme *p = l->programmes[i];
		const char *cur = cli_money_currency(p->envelope);

		if (only[0] != '\0' && strcmp(only, p->code) != 0)
			continue;
		fputs("<tr><td>", out);
		html_text(out, p->code);
		fputs("</td><td dir=\"auto\">", out);
		html_text(out, p->name);
		fputs("</td>", out);
		html_money_cell(out, "envelope", cli_money_minor(p->envelope),
				cur);
		html_money_cell(out, "granted", cli_money_minor(p->granted),
				cur);
		html_money_cell(out, "disbursed", cli_money_minor(p->disbursed),
				cur);
		html_money_cell(out, "remaining", cli_money_minor(p->remaining),
				cur);
		html_count_cell(out, "beneficiaries", p->beneficiaries);
		fputs("</tr>\n", out);
	}
	fputs("</table></section>\n", out);
	free(labels);
	free(v);
	return 0;
}

/*
 * A group of the sex or category reports as people say it: "Women" for
 * F, "rural woman" for rural_woman; into buf (capacity cap).
 */
static const char *html_group_label(const char *group, char *buf, size_t cap)
{
	if (strcmp(group, "F") == 0)
		return "Women";
	if (strcmp(group, "M") == 0)
		return "Men";
	snprintf(buf, cap, "%s", group);
	for (char *p = buf; *p != '\0'; p++)
		if (*p == '_')
			*p = ' ';
	return buf;
}

/* Shares of a whole: one bar, a segment per group. */
static int html_shares(FILE *out, const char *id, const char *title,
		       const Tamwil__V1__ReportResponse *rep)
{
	static const char *const palette[] = {"#6a1b9a", "#00838f", "#ef6c00",
					      "#2e7d32", "#ad1457", "#4e342e",
					      "#1565c0", "#9e9d24"};
	struct html_group g[16];
	struct html_series s[16];
	char names[16][64];
	double v[16];
	const char *label = "Applications";
	uint64_t all = 0;
	size_t n = html_merge(rep, g, 16);

	for (size_t i = 0; i < n; i++)
		all += g[i].submitted;
	fprintf(out, "<section id=\"%s\"><h2>", id);
	html_text(out, title);
	fputs("</h2>\n", out);
	for (size_t i = 0; i < n; i++) {
		s[i].name =
		    html_group_label(g[i].name, names[i], sizeof(names[i]));
		s[i].color =
		    palette[i % (sizeof(palette) / sizeof(palette[0]))];
		v[i] = (double)g[i].submitted;
	}
	if (n > 0)
		html_hbars(out, title, &label, 1, s, n, v, 1);
	fputs("<table><tr><th>Group</th><th>Applications</th><th>Share</th>"
	      "<th>Approved</th></tr>\n",
	      out);
	for (size_t i = 0; i < n; i++) {
		fputs("<tr><td>", out);
		html_text(out, s[i].name);
		fputs("</td>", out);
		html_count_cell(out, "submitted", g[i].submitted);
		fprintf(out, "<td class=\"n\">%.1f %%</td>",
			all > 0 ? 100.0 * (double)g[i].submitted / (double)all
				: 0.0);
		html_count_cell(out, "approved", g[i].approved);
		fputs("</tr>\n", out);
	}
	fputs("</table></section>\n", out);
	return 0;
}

/* Disbursements over time: a column a month, one chart per currency. */
static int html_months(FILE *out, const Tamwil__V1__ReportResponse *rep)
{
	const char *done[8];
	size_t ndone = 0;

	fputs("<section id=\"months\"><h2>Disbursements over time</h2>\n", out);
	for (size_t i = 0; i < rep->n_rows && ndone < 8; i++) {
		const char *cur = rep->rows[i]->currency;
		double max = 0;
		size_t n = 0, col;
		int seen = 0;

		for (size_t k = 0; k < ndone; k++)
			seen |= strcmp(done[k], cur) == 0;
		if (seen)
			continue;
		done[ndone++] = cur;
		for (size_t k = i; k < rep->n_rows; k++) {
			if (strcmp(rep->rows[k]->currency, cur) != 0)
				continue;
			n++;
			if ((double)rep->rows[k]->amount_disbursed > max)
				max = (double)rep->rows[k]->amount_disbursed;
		}
		if (n > HTML_MAX_ROWS)
			n = HTML_MAX_ROWS;
		col = (HTML_WIDTH - 40) / (n > 0 ? n : 1);
		if (col > 80)
			col = 80;
		fprintf(out,
			"<figure><svg role=\"img\" viewBox=\"0 0 %d 240\" "
			"width=\"%d\" height=\"240\"><title>Tranches handed "
			"over each month (%s)</title>",
			HTML_WIDTH, HTML_WIDTH, cur);
		n = 0;
		for (size_t k = i; k < rep->n_rows && n < HTML_MAX_ROWS; k++) {
			const Tamwil__V1__ReportRow *r = rep->rows[k];
			double h;

			if (strcmp(r->currency, cur) != 0)
				continue;
			h = max > 0 ? (double)r->amount_disbursed / max * 180
				    : 0;
			fprintf(out,
				"<rect x=\"%zu\" y=\"%.1f\" width=\"%zu\" "
				"height=\"%.1f\" fill=\"#1565c0\"><title>",
				20 + n * col + 2, 200 - h,
				col > 4 ? col - 4 : 1, h);
			html_text(out, r->group);
			fputs(": ", out);
			html_money(out, r->amount_disbursed, cur);
			fprintf(out,
				"</title></rect><text x=\"%zu\" y=\"220\" "
				"text-anchor=\"middle\">",
				20 + n * col + col / 2);
			html_text(out, r->group);
			fputs("</text>", out);
			n++;
		}
		fprintf(out,
			"</svg><figcaption>Tranches handed over each month "
			"(%s)</figcaption></figure>\n",
			cur);
	}
	fputs("<table><tr><th>Month</th><th>Currency</th><th>Submitted</th>"
	      "<th>Approved</th><th>Granted</th><th>Handed over</th>"
	      "<th>Repaid</th></tr>\n",
	      out);
	for (size_t i = 0; i < rep->n_rows; i++) {
		const Tamwil__V1__ReportRow *r = rep->rows[i];

		fprintf(out, "<tr><td>");
		html_text(out, r->group);
		fprintf(out, "</td><td>%s</td>", r->currency);
		html_count_cell(out, "submitted", r->submitted);
		html_count_cell(out, "approved", r->approved);
		html_money_cell(out, "amount_granted", r->amount_granted,
				r->currency);
		html_money_cell(out, "amount_disbursed", r->amount_disbursed,
				r->currency);
		html_money_cell(out, "amount_repaid", r->amount_repaid,
				r->currency);
		fputs("</tr>\n", out);
	}
	fputs("</table></section>\n", out);
	return 0;
}

static const char html_style[] =
    "body{font-family:system-ui,'Noto Sans','Noto Sans Arabic',sans-serif;"
    "margin:2em auto;max-width:80em;padding:0 1em;color:#212121}"
    "h1{font-size:1.6em}h2{font-size:1.2em;margin-top:2em;"
    "border-bottom:1px solid #ccc}"
    "table{border-collapse:collapse;margin:1em 0;font-size:.9em}"
    "th,td{padding:.25em .6em;border-bottom:1px solid #e0e0e0}"
    "th{text-align:left;background:#f5f5f5}"
    "td.n{text-align:right;font-variant-numeric:tabular-nums;"
    "white-space:nowrap}"
    "svg{max-width:100%;height:auto;font-size:12px}"
    "figcaption{font-size:.85em;color:#616161}"
    "@media print{body{margin:0}}";

/* Writes the whole page; 0, or -1 when something could not be drawn. */
static int html_page(FILE *out, const struct html_figures *f)
{
	char when[CLI_TIME_MAX];
	int rc = 0;

	fputs("<!DOCTYPE html>\n<html lang=\"fr\">\n<head>\n"
	      "<meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width\">\n"
	      "<title>Tamwil report</title>\n<style>",
	      out);
	fputs(html_style, out);
	fputs("</style>\n</head>\n<body>\n<h1>Tamwil report</h1>\n<p>", out);
	fprintf(out, "Made on %s from ",
		cli_time_text((int64_t)time(NULL), when, sizeof(when)));
	html_text(out, f->server);
	if (f->programme[0] != '\0') {
		fputs(", programme ", out);
		html_text(out, f->programme);
	}
	if (f->region[0] != '\0') {
		fputs(", region ", out);
		html_text(out, f->region);
	}
	fputs(".</p>\n", out);
	html_totals(out, f->by[BY_REGION]->report);
	if (html_regions(out, f->by[BY_REGION]->report) != 0 ||
	    html_budget(out, f->programmes->programmes, f->programme) != 0 ||
	    html_shares(out, "sex", "Share of women", f->by[BY_SEX]->report) !=
		0 ||
	    html_shares(out, "category", "Share of each category",
			f->by[BY_CATEGORY]->report) != 0 ||
	    html_months(out, f->by[BY_MONTH]->report) != 0)
		rc = -1;
	fputs("</body>\n</html>\n", out);
	return rc;
}

/* Writes the page to path.tmp.PID, flushes it and renames it over path. */
static int html_write(const char *path, const struct html_figures *f)
{
	char tmp[4096];
	FILE *out;
	int rc;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >=
	    (int)sizeof(tmp))
		return cli_fail("%s: path too long", path);
	out = fopen(tmp, "wx");
	if (out == NULL)
		return cli_fail("cannot write %s: %s", tmp, strerror(errno));
	rc = html_page(out, f);
	if (rc != 0 || fflush(out) != 0 || ferror(out) ||
	    fsync(fileno(out)) != 0) {
		int e = rc != 0 ? ENOMEM : errno;

		fclose(out);
		unlink(tmp);
		return cli_fail("cannot write %s: %s", path, strerror(e));
	}
	if (fclose(out) != 0 || rename(tmp, path) != 0) {
		int e = errno;

		unlink(tmp);
		return cli_fail("cannot write %s: %s", path, strerror(e));
	}
	return CLI_EXIT_OK;
}

int cli_html_report(tamwil_client *c, const char *programme, const char *region,
		    const char *path)
{
	struct html_figures f;
	int rc;

	memset(&f, 0, sizeof(f));
	f.programme = programme != NULL ? programme : "";
	f.region = region != NULL ? region : "";
	f.server = tamwil_client_server_version(c);
	rc = html_fetch(c, &f);
	if (rc < 0) {
		rc = html_write(path, &f);
		if (rc == CLI_EXIT_OK)
			printf("report written to %s\n", path);
	}
	html_figures_free(&f);
	return rc;
}
