/*
 * JSON output, built with jansson: the protocol's answers as objects
 * whose amounts are integers in minor units next to a "currency" key
 * ({"amount_granted": 112121507, "currency": "MAD"}), whose enums are
 * their command-line names ("rural_woman", "written_off") and whose times
 * are ISO 8601 in UTC.
 */
#ifndef TAMWIL_CLI_JSON_H
#define TAMWIL_CLI_JSON_H

#include <stdint.h>

#include <jansson.h>

#include "tamwil.pb-c.h"

/* An object under construction; any failure makes it fail as a whole. */
struct cli_json {
	json_t *o;
	int bad;
};

void cli_json_begin(struct cli_json *b);

/* Sets key to the text v (NULL reads as ""). */
void cli_json_text(struct cli_json *b, const char *key, const char *v);

/* Sets key to the text v, or to null when v is NULL or "". */
void cli_json_text_or_null(struct cli_json *b, const char *key, const char *v);

void cli_json_int(struct cli_json *b, const char *key, int64_t v);
void cli_json_bool(struct cli_json *b, const char *key, int v);

/* Sets key to v, taking the reference (NULL makes the object fail). */
void cli_json_value(struct cli_json *b, const char *key, json_t *v);

/* The object, or NULL (and nothing to free) if anything failed. */
json_t *cli_json_end(struct cli_json *b);

/* A JSON string of s, with invalid UTF-8 shown as '?'; NULL on failure. */
json_t *cli_json_string(const char *s);

/*
 * Prints v (indented) and a newline on stdout and releases it. Returns
 * an exit status; NULL v says the JSON could not be built.
 */
int cli_json_print(json_t *v);

json_t *cli_json_application(const Tamwil__V1__Application *a);
json_t *cli_json_event(const Tamwil__V1__ApplicationEvent *e);
json_t *cli_json_programme(const Tamwil__V1__Programme *p);
json_t *cli_json_report_row(const Tamwil__V1__ReportRow *r);
json_t *cli_json_region(const Tamwil__V1__Region *r);

/* An operation's result: reference, state, replayed, log sequence. */
json_t *cli_json_result(const Tamwil__V1__OperationResult *r);

/* The minor units of m, 0 when absent. */
int64_t cli_money_minor(const Tamwil__V1__Money *m);

/* The currency of m, "" when absent. */
const char *cli_money_currency(const Tamwil__V1__Money *m);

#endif
