/*
 * tamwil submit; see cli_submit.h. What a report groups by (sex, birth
 * year, category, region) travels in clear; the national ID, names, birth
 * date, phone and address only inside the sealed identity.
 */
#include "cli_submit.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "argparse.h"
#include "cli_args.h"
#include "cli_ops.h"
#include "cli_opts.h"
#include "cli_out.h"
#include "cli_session.h"
#include "cli_util.h"
#include "tamwil-outbox.h"
#include "text.h"

#define CMD "submit"
/* Names longer than head office keeps are left for it to refuse. */
#define NAME_MAX_BYTES 1024

struct submit {
	enum cli_format format;
	const char *programme, *region, *national_id, *birth_date;
	const char *sector, *activity, *formula, *phone, *address;
	const char *name, *first_name, *last_name; /* as typed */
	char first[NAME_MAX_BYTES], last[NAME_MAX_BYTES];
	int sex, category, birth_year;
	int64_t amount, contribution;
	char currency[4];    /* "" until known */
	char own_region[64]; /* the coordinator's, from whoami */
};

void cli_submit_usage(FILE *out)
{
	fputs(
	    "Usage: tamwil submit --programme CODE --national-id ID\n"
	    "                     --name \"FIRST LAST\" --sex F|M "
	    "--birth-date YYYY-MM-DD\n"
	    "                     --category CATEGORY --sector SECTOR\n"
	    "                     --activity TEXT --amount AMOUNT [OPTIONS]\n"
	    "\n"
	    "Submits a beneficiary's application to head office and prints\n"
	    "its reference alone on the last line (LAG-2026-000123).\n"
	    "The national ID, names, birth date, phone and address are sealed\n"
	    "to head office's data key before they leave: only head office\n"
	    "can read them. Sex, birth year, category and region travel in\n"
	    "clear, for the reports.\n"
	    "\n"
	    "Options:\n"
	    "  --programme CODE       the programme applied to (required)\n"
	    "  --national-id ID       national identity number (required)\n"
	    "  --name \"FIRST LAST\"    the full name: the last name is the "
	    "last\n"
	    "                         word, the first names the words before\n"
	    "  --first-name TEXT      instead of --name, with --last-name, "
	    "when\n"
	    "  --last-name TEXT       the last name has several words\n"
	    "  --sex F|M              (required)\n"
	    "  --birth-date DATE      YYYY-MM-DD (required)\n"
	    "  --category CATEGORY    former_detainee, rural_woman, "
	    "woman_at_home,\n"
	    "                         youth, person_with_disability or other\n"
	    "                         (required)\n"
	    "  --sector SECTOR        commerce, industry, services, crafts, "
	    "...\n"
	    "                         (required)\n"
	    "  --activity TEXT        the micro-project (required)\n"
	    "  --amount AMOUNT        the amount requested, in the "
	    "programme's\n"
	    "                         currency: 50000, 50000.00 or "
	    "\"50 000,00\"\n"
	    "  --contribution AMOUNT  the beneficiary's own contribution\n"
	    "  --formula TEXT         the financing formula\n"
	    "  --phone TEXT, --address TEXT   contact (sealed)\n"
	    "  --region CODE          default: your own region (coordinators)\n"
	    "  --currency CODE        the programme's currency, when known "
	    "(else\n"
	    "                         it is asked of head office)\n"
	    "  --json, --csv          print the result for scripts\n"
	    "  -h, --help             show this help\n"
	    "\n"
	    "Examples:\n"
	    "  tamwil submit --programme INDH-2026 --national-id JB123456 \\\n"
	    "      --name \"Khadija Alaoui\" --sex F --birth-date 1988-03-21 "
	    "\\\n"
	    "      --category rural_woman --sector crafts \\\n"
	    "      --activity \"Atelier de tissage de tapis\" --amount "
	    "\"45 000,00\"\n"
	    "  tamwil submit ... --first-name Khadija --last-name \"Ait "
	    "Benhaddou\" ...\n",
	    out);
}

/* Works out the first and last names; -1 or an exit status. */
static int check_names(struct submit *s)
{
	char why[ARGPARSE_WHY_MAX];

	if (s->name != NULL && (s->first_name != NULL || s->last_name != NULL))
		return cli_usage_error(CMD, "give --name, or --first-name and "
					    "--last-name, not both");
	if (s->name != NULL) {
		if (argparse_name(s->name, s->first, sizeof(s->first), s->last,
				  sizeof(s->last), why, sizeof(why)) != 0)
			return cli_usage_error(CMD, "--name: %s", why);
		return -1;
	}
	if (s->first_name == NULL && s->last_name == NULL)
		return cli_usage_error(CMD, "submit needs --name \"FIRST "
					    "LAST\"");
	if (s->first_name == NULL || s->last_name == NULL)
		return cli_usage_error(CMD, "--first-name and --last-name go "
					    "together");
	if (strlen(s->first_name) >= sizeof(s->first) ||
	    strlen(s->last_name) >= sizeof(s->last))
		return cli_usage_error(CMD, "the name is too long");
	memcpy(s->first, s->first_name, strlen(s->first_name) + 1);
	memcpy(s->last, s->last_name, strlen(s->last_name) + 1);
	return -1;
}

/* Checks every text option is UTF-8 without control characters. */
static int check_texts(const struct submit *s)
{
	const struct {
		const char *option, *value;
	} texts[] = {
	    {"--programme", s->programme},     {"--region", s->region},
	    {"--national-id", s->national_id}, {"--name", s->name},
	    {"--first-name", s->first_name},   {"--last-name", s->last_name},
	    {"--sector", s->sector},	       {"--activity", s->activity},
	    {"--formula", s->formula},	       {"--phone", s->phone},
	    {"--address", s->address}};
	int rc;

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		if ((rc = cli_arg_text(CMD, texts[i].option, texts[i].value)) >=
		    0)
			return rc;
	}
	return -1;
}

/* The raw values of the options that need reading. */
struct raw {
	const char *sex, *category, *amount, *contribution, *currency;
};

/* Checks and reads everything parse() gathered; -1 or an exit status. */
static int check(struct submit *s, const struct raw *r)
{
	const struct cli_required req[] = {
	    {s->programme, "--programme CODE"},
	    {s->national_id, "--national-id ID"},
	    {s->name != NULL ? s->name
			     : (s->first_name ? s->first_name : s->last_name),
	     "--name \"FIRST LAST\""},
	    {r->sex, "--sex F|M"},
	    {s->birth_date, "--birth-date YYYY-MM-DD"},
	    {r->category, "--category CATEGORY"},
	    {s->sector, "--sector SECTOR"},
	    {s->activity, "--activity TEXT"},
	    {r->amount, "--amount AMOUNT"}};
	int rc;

	if ((rc = cli_arg_required(CMD, req, sizeof(req) / sizeof(req[0]))) >=
		0 ||
	    (rc = check_texts(s)) >= 0 || (rc = check_names(s)) >= 0)
		return rc;
	s->sex = argparse_sex(r->sex);
	if (s->sex == 0)
		return cli_usage_error(CMD, "--sex: '%s' is not F or M",
				       r->sex);
	if (!text_valid_date(s->birth_date, &s->birth_year))
		return cli_usage_error(CMD,
				       "--birth-date: '%s' is not a date "
				       "written YYYY-MM-DD",
				       s->birth_date);
	if ((rc = cli_arg_enum(CMD, "--category", r->category,
			       &tamwil__v1__category__descriptor, "CATEGORY_",
			       &s->category)) >= 0 ||
	    (rc = cli_arg_amount(CMD, "--amount", r->amount, 0, &s->amount)) >=
		0)
		return rc;
	if (r->contribution != NULL &&
	    (rc = cli_arg_amount(CMD, "--contribution", r->contribution, 1,
				 &s->contribution)) >= 0)
		return rc;
	if (r->currency != NULL &&
	    (rc = cli_arg_currency(CMD, "--currency", r->currency,
				   s->currency)) >= 0)
		return rc;
	return -1;
}

enum {
	OPT_PROGRAMME = 256,
	OPT_REGION,
	OPT_NATIONAL_ID,
	OPT_NAME,
	OPT_FIRST_NAME,
	OPT_LAST_NAME,
	OPT_SEX,
	OPT_BIRTH_DATE,
	OPT_CATEGORY,
	OPT_SECTOR,
	OPT_ACTIVITY,
	OPT_AMOUNT,
	OPT_CONTRIBUTION,
	OPT_FORMULA,
	OPT_PHONE,
	OPT_ADDRESS,
	OPT_CURRENCY
};

/* What parse() reads: the application and the raw values. */
struct submit_args {
	struct submit *s;
	struct raw r;
};

/* Stores the value of option c (one of this list); -1. */
static int store(void *arg, int c, const char *v)
{
	struct submit_args *a = arg;
	struct submit *s = a->s;
	struct raw *r = &a->r;
	const char **slots[] = {
	    [OPT_PROGRAMME - OPT_PROGRAMME] = &s->programme,
	    [OPT_REGION - OPT_PROGRAMME] = &s->region,
	    [OPT_NATIONAL_ID - OPT_PROGRAMME] = &s->national_id,
	    [OPT_NAME - OPT_PROGRAMME] = &s->name,
	    [OPT_FIRST_NAME - OPT_PROGRAMME] = &s->first_name,
	    [OPT_LAST_NAME - OPT_PROGRAMME] = &s->last_name,
	    [OPT_SEX - OPT_PROGRAMME] = &r->sex,
	    [OPT_BIRTH_DATE - OPT_PROGRAMME] = &s->birth_date,
	    [OPT_CATEGORY - OPT_PROGRAMME] = &r->category,
	    [OPT_SECTOR - OPT_PROGRAMME] = &s->sector,
	    [OPT_ACTIVITY - OPT_PROGRAMME] = &s->activity,
	    [OPT_AMOUNT - OPT_PROGRAMME] = &r->amount,
	    [OPT_CONTRIBUTION - OPT_PROGRAMME] = &r->contribution,
	    [OPT_FORMULA - OPT_PROGRAMME] = &s->formula,
	    [OPT_PHONE - OPT_PROGRAMME] = &s->phone,
	    [OPT_ADDRESS - OPT_PROGRAMME] = &s->address,
	    [OPT_CURRENCY - OPT_PROGRAMME] = &r->currency};

	if (c >= OPT_PROGRAMME && c <= OPT_CURRENCY)
		*slots[c - OPT_PROGRAMME] = v;
	return -1;
}

/* Parses the command line into s; -1 or an exit status. */
static int parse(const struct cli_globals *g, int argc, char **argv,
		 struct submit *s)
{
	static const struct option opts[] = {
	    {"programme", required_argument, NULL, OPT_PROGRAMME},
	    {"region", required_argument, NULL, OPT_REGION},
	    {"national-id", required_argument, NULL, OPT_NATIONAL_ID},
	    {"name", required_argument, NULL, OPT_NAME},
	    {"first-name", required_argument, NULL, OPT_FIRST_NAME},
	    {"last-name", required_argument, NULL, OPT_LAST_NAME},
	    {"sex", required_argument, NULL, OPT_SEX},
	    {"birth-date", required_argument, NULL, OPT_BIRTH_DATE},
	    {"category", required_argument, NULL, OPT_CATEGORY},
	    {"sector", required_argument, NULL, OPT_SECTOR},
	    {"activity", required_argument, NULL, OPT_ACTIVITY},
	    {"amount", required_argument, NULL, OPT_AMOUNT},
	    {"contribution", required_argument, NULL, OPT_CONTRIBUTION},
	    {"formula", required_argument, NULL, OPT_FORMULA},
	    {"phone", required_argument, NULL, OPT_PHONE},
	    {"address", required_argument, NULL, OPT_ADDRESS},
	    {"currency", required_argument, NULL, OPT_CURRENCY},
	    {"help", no_argument, NULL, 'h'},
	    CLI_OUTPUT_OPTIONS,
	    {NULL, 0, NULL, 0}};
	struct submit_args a = {s, {0}};
	const struct cli_opts o = {CMD, cli_submit_usage, opts, store, &a};
	struct cli_output out;
	int rc;

	if ((rc = cli_opts_read(&o, g, argc, argv, &out)) >= 0 ||
	    (rc = cli_output_format(CMD, &out, &s->format)) >= 0 ||
	    (rc = cli_arg_positionals(CMD, argc, argv, 0, NULL, NULL)) >= 0)
		return rc;
	return check(s, &a.r);
}

/*
 * The region to submit in: --region, else the coordinator's own (asked
 * of head office, and learnt for when it cannot be reached). -1 or an
 * exit status.
 */
static int pick_region(tamwil_client *c, struct submit *s)
{
	tamwil_whoami me;
	tamwil_error err;

	if (s->region != NULL)
		return -1;
	/* Offline, this fails at once with the reason it is offline. */
	if (tamwil_client_whoami(c, &me, &err) != TAMWIL_OK) {
		if (!tamwil_outbox_link_down(err.status))
			return cli_fail_status(&err);
		if (cli_ops_recall(c, "whoami", "region", s->own_region,
				   sizeof(s->own_region)) != 0 ||
		    s->own_region[0] == '\0')
			return cli_usage_error(
			    CMD, "head office cannot be reached, and this "
				 "office does not know your region yet: say "
				 "where with --region CODE");
		s->region = s->own_region;
		return -1;
	}
	if (me.region[0] == '\0')
		return cli_usage_error(CMD,
				       "say where with --region CODE: you are "
				       "%s, and only coordinators have a "
				       "region of their own",
				       me.role);
	snprintf(s->own_region, sizeof(s->own_region), "%s", me.region);
	cli_ops_learn(c, "whoami", "region", me.region);
	s->region = s->own_region;
	return -1;
}

/* Seals the identity into *box; -1 or an exit status. */
static int seal(tamwil_client *c, struct submit *s, uint8_t **box, size_t *len)
{
	Tamwil__V1__Identity id = TAMWIL__V1__IDENTITY__INIT;
	tamwil_error err;

	id.national_id = (char *)s->national_id;
	id.first_name = s->first;
	id.last_name = s->last;
	id.birth_date = (char *)s->birth_date;
	id.phone = (char *)(s->phone != NULL ? s->phone : "");
	id.address = (char *)(s->address != NULL ? s->address : "");
	if (tamwil_client_seal_identity(c, &id, box, len, &err) != TAMWIL_OK)
		return cli_fail_status(&err);
	return -1;
}

/* Builds the submission around the sealed box and sends it. */
static int send_submission(tamwil_client *c, struct submit *s, uint8_t *box,
			   size_t len)
{
	Tamwil__V1__Operation op = TAMWIL__V1__OPERATION__INIT;
	Tamwil__V1__SubmitApplication body =
	    TAMWIL__V1__SUBMIT_APPLICATION__INIT;
	Tamwil__V1__Money requested = TAMWIL__V1__MONEY__INIT;
	Tamwil__V1__Money contribution = TAMWIL__V1__MONEY__INIT;
	struct cli_op_print p = {"submitted", NULL, 1};

	requested.minor = s->amount;
	requested.currency = s->currency;
	contribution.minor = s->contribution;
	contribution.currency = s->currency;
	body.programme = (char *)s->programme;
	body.region = (char *)s->region;
	body.identity_box.data = box;
	body.identity_box.len = len;
	body.sex = (Tamwil__V1__Sex)s->sex;
	body.birth_year = (uint32_t)s->birth_year;
	body.category = (Tamwil__V1__Category)s->category;
	body.sector = (char *)s->sector;
	body.activity = (char *)s->activity;
	body.amount_requested = &requested;
	body.own_contribution = &contribution;
	body.financing_formula = (char *)(s->formula != NULL ? s->formula : "");
	op.body_case = TAMWIL__V1__OPERATION__BODY_SUBMIT_APPLICATION;
	op.submit_application = &body;
	return cli_ops_apply(c, &op, s->format, &p);
}

static int submit_run(tamwil_client *c, void *arg)
{
	struct submit *s = arg;
	uint8_t *box = NULL;
	size_t len = 0;
	int rc;

	if ((rc = pick_region(c, s)) >= 0)
		return rc;
	if (s->currency[0] == '\0' && (rc = cli_ops_programme_currency(
					   c, s->programme, s->currency)) >= 0)
		return rc;
	if ((rc = seal(c, s, &box, &len)) >= 0)
		return rc;
	rc = send_submission(c, s, box, len);
	free(box);
	return rc;
}

int cli_submit_main(const struct cli_globals *g, int argc, char **argv)
{
	struct submit *s = calloc(1, sizeof(*s));
	int rc;

	if (s == NULL)
		return cli_fail("out of memory");
	rc = parse(g, argc, argv, s);
	if (rc < 0)
		rc = cli_session_run(g, submit_run, s);
	sodium_memzero(s, sizeof(*s)); /* the names typed */
	free(s);
	return rc;
}
