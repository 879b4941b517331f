/*
 * tamwil region, programme, enrol and revoke; see cli_admin.h.
 */
#include "cli_admin.h"

#include <errno.h>
#include <getopt.h>
#include <string.h>

#include "argparse.h"
#include "cli_args.h"
#include "cli_ops.h"
#include "cli_opts.h"
#include "cli_out.h"
#include "cli_query.h"
#include "cli_session.h"
#include "cli_util.h"
#include "role.h"

#define WHAT_MAX 512
/* More categories than the protocol has is a mistake. */
#define CATEGORIES_MAX 16

/* True for "--help", "-h" and "help" as a command's first argument. */
static int asks_help(const char *arg)
{
	return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0 ||
	       strcmp(arg, "help") == 0;
}

/*
 * Reads the options of a command that takes only --help and the output
 * flags, then its n positional arguments into out. -1 or an exit status.
 */
static int parse_simple(const char *cmd, void (*usage)(FILE *out),
			const struct cli_globals *g, int argc, char **argv,
			size_t n, const char *const *names, const char **out,
			enum cli_format *f)
{
	static const struct option opts[] = {{"help", no_argument, NULL, 'h'},
					     CLI_OUTPUT_OPTIONS,
					     {NULL, 0, NULL, 0}};
	const struct cli_opts p = {cmd, usage, opts, NULL, NULL};
	struct cli_output o;
	int rc;

	if ((rc = cli_opts_read(&p, g, argc, argv, &o)) >= 0 ||
	    (rc = cli_output_format(cmd, &o, f)) >= 0)
		return rc;
	return cli_arg_positionals(cmd, argc, argv, n, names, out);
}

/* ---- region ------------------------------------------------------------- */

void cli_region_usage(FILE *out)
{
	fputs("Usage: tamwil region add CODE NAME\n"
	      "       tamwil region list\n"
	      "\n"
	      "add: creates a region (admins). Its code, 2 to 8 capital\n"
	      "letters, starts the references of its applications\n"
	      "(LAG-2026-000123).\n"
	      "list: the regions head office knows.\n"
	      "\n"
	      "Options:\n"
	      "  --json, --csv   print the result for scripts\n"
	      "  -h, --help      show this help\n"
	      "\n"
	      "Examples:\n"
	      "  tamwil region add LAG \"Laâyoune-Sakia El Hamra\"\n"
	      "  tamwil region list\n",
	      out);
}

struct region_add {
	enum cli_format format;
	const char *args[2]; /* CODE, NAME */
};

static int region_add_run(tamwil_client *c, void *arg)
{
	struct region_add *r = arg;
	Tamwil__V1__Operation op = TAMWIL__V1__OPERATION__INIT;
	Tamwil__V1__CreateRegion body = TAMWIL__V1__CREATE_REGION__INIT;
	char what[WHAT_MAX];
	struct cli_op_print p = {what, NULL, 0};

	body.code = (char *)r->args[0];
	body.name = (char *)r->args[1];
	op.body_case = TAMWIL__V1__OPERATION__BODY_CREATE_REGION;
	op.create_region = &body;
	snprintf(what, sizeof(what), "created region %s (%s)", r->args[0],
		 r->args[1]);
	return cli_ops_apply(c, &op, r->format, &p);
}

static int region_list_run(tamwil_client *c, void *arg)
{
	return cli_regions_print(c, *(enum cli_format *)arg);
}

int cli_region_main(const struct cli_globals *g, int argc, char **argv)
{
	static const char *const names[] = {"a region CODE", "its NAME"};
	struct region_add r;
	int rc;

	if (argc < 2)
		return cli_usage_error("region", "say what to do: tamwil "
						 "region add|list");
	if (asks_help(argv[1]))
		return cli_show_usage(cli_region_usage);
	if (strcmp(argv[1], "list") == 0) {
		rc = parse_simple("region", cli_region_usage, g, argc - 1,
				  argv + 1, 0, names, r.args, &r.format);
		return rc >= 0 ? rc
			       : cli_session_run(g, region_list_run, &r.format);
	}
	if (strcmp(argv[1], "add") != 0)
		return cli_usage_error("region",
				       "unknown region command '%s' (known: "
				       "add, list)",
				       argv[1]);
	rc = parse_simple("region", cli_region_usage, g, argc - 1, argv + 1, 2,
			  names, r.args, &r.format);
	if (rc >= 0 ||
	    (rc = cli_arg_text("region", "the code", r.args[0])) >= 0 ||
	    (rc = cli_arg_text("region", "the name", r.args[1])) >= 0)
		return rc;
	return cli_session_run(g, region_add_run, &r);
}

/* ---- programme ---------------------------------------------------------- */

void cli_programme_usage(FILE *out)
{
	fputs(
	    "Usage: tamwil programme add CODE --name NAME --currency CODE\n"
	    "                        --envelope AMOUNT --ceiling AMOUNT "
	    "[OPTIONS]\n"
	    "       tamwil programme list\n"
	    "\n"
	    "add: creates a programme (admins): its budget envelope, the\n"
	    "largest grant per project, and whom and when it finances. Its\n"
	    "code is 2 to 16 capital letters, digits or '-'.\n"
	    "list: the programmes and their budget use (as tamwil budget).\n"
	    "\n"
	    "Options of add:\n"
	    "  --name NAME          the programme's name (required)\n"
	    "  --currency CODE      MAD, DZD, ... (required): every amount of\n"
	    "                       the programme is in it\n"
	    "  --envelope AMOUNT    the budget (required): \"13 500 000,00\"\n"
	    "  --ceiling AMOUNT     the largest grant per project (required)\n"
	    "  --start DATE         first day applications are taken\n"
	    "  --end DATE           last day (YYYY-MM-DD)\n"
	    "  --target N           beneficiaries aimed at\n"
	    "  --category CATEGORY  a category it finances; repeat it for\n"
	    "                       several (default: every category):\n"
	    "                       former_detainee, rural_woman,\n"
	    "                       woman_at_home, youth,\n"
	    "                       person_with_disability, other\n"
	    "  --json, --csv        print the result for scripts\n"
	    "  -h, --help           show this help\n"
	    "\n"
	    "Examples:\n"
	    "  tamwil programme add INDH-2026 --name \"Activités génératrices "
	    "de revenus\" \\\n"
	    "      --currency MAD --envelope \"13 500 000,00\" --ceiling "
	    "\"50 000,00\" \\\n"
	    "      --target 478 --start 2026-01-01 --end 2026-12-31\n"
	    "  tamwil programme add FEMMES --name \"Femmes rurales\" "
	    "--currency MAD \\\n"
	    "      --envelope 2000000 --ceiling 50000 --category rural_woman "
	    "\\\n"
	    "      --category woman_at_home\n"
	    "  tamwil programme list\n",
	    out);
}

struct programme_add {
	enum cli_format format;
	const char *code, *name, *start, *end;
	char currency[4];
	int64_t envelope, ceiling;
	unsigned long target;
	size_t n_categories;
	Tamwil__V1__Category categories[CATEGORIES_MAX];
};

/* The raw values of the options that need reading. */
struct programme_raw {
	const char *currency, *envelope, *ceiling, *target;
};

/* Reads one --category into p; -1 or an exit status. */
static int add_category(struct programme_add *p, const char *text)
{
	int v, rc;

	if ((rc = cli_arg_enum("programme", "--category", text,
			       &tamwil__v1__category__descriptor, "CATEGORY_",
			       &v)) >= 0)
		return rc;
	if (p->n_categories == CATEGORIES_MAX)
		return cli_usage_error("programme",
				       "--category: at most %d of them",
				       CATEGORIES_MAX);
	p->categories[p->n_categories++] = (Tamwil__V1__Category)v;
	return -1;
}

/* Checks and reads what programme_parse() gathered; -1 or exit status. */
static int programme_check(struct programme_add *p,
			   const struct programme_raw *r)
{
	const struct cli_required req[] = {{p->name, "--name NAME"},
					   {r->currency, "--currency CODE"},
					   {r->envelope, "--envelope AMOUNT"},
					   {r->ceiling, "--ceiling AMOUNT"}};
	const char *cmd = "programme";
	int rc;

	if ((rc = cli_arg_required(cmd, req, 4)) >= 0 ||
	    (rc = cli_arg_text(cmd, "the code", p->code)) >= 0 ||
	    (rc = cli_arg_text(cmd, "--name", p->name)) >= 0 ||
	    (rc = cli_arg_currency(cmd, "--currency", r->currency,
				   p->currency)) >= 0 ||
	    (rc = cli_arg_amount(cmd, "--envelope", r->envelope, 0,
				 &p->envelope)) >= 0 ||
	    (rc = cli_arg_amount(cmd, "--ceiling", r->ceiling, 0,
				 &p->ceiling)) >= 0)
		return rc;
	if ((p->start != NULL &&
	     (rc = cli_arg_date(cmd, "--start", p->start, NULL)) >= 0) ||
	    (p->end != NULL &&
	     (rc = cli_arg_date(cmd, "--end", p->end, NULL)) >= 0) ||
	    (r->target != NULL &&
	     (rc = cli_arg_count(cmd, "--target", r->target, 0, 100000000,
				 &p->target)) >= 0))
		return rc;
	return -1;
}

enum {
	OPT_NAME = 256,
	OPT_CURRENCY,
	OPT_ENVELOPE,
	OPT_CEILING,
	OPT_START,
	OPT_END,
	OPT_TARGET,
	OPT_CATEGORY,
	OPT_ROLE,
	OPT_REGION
};

/* What programme_parse() reads: the programme and the raw values. */
struct programme_args {
	struct programme_add *p;
	struct programme_raw r;
};

/* Takes one option of programme add; -1 or an exit status. */
static int programme_take(void *arg, int c, const char *v)
{
	struct programme_args *a = arg;

	switch (c) {
	case OPT_NAME:
		a->p->name = v;
		break;
	case OPT_CURRENCY:
		a->r.currency = v;
		break;
	case OPT_ENVELOPE:
		a->r.envelope = v;
		break;
	case OPT_CEILING:
		a->r.ceiling = v;
		break;
	case OPT_START:
		a->p->start = v;
		break;
	case OPT_END:
		a->p->end = v;
		break;
	case OPT_TARGET:
		a->r.target = v;
		break;
	case OPT_CATEGORY:
		return add_category(a->p, v);
	default:
		break;
	}
	return -1;
}

/* Parses "add CODE [OPTIONS]" (argv[0] is "add"); -1 or an exit status. */
static int programme_parse(const struct cli_globals *g, int argc, char **argv,
			   struct programme_add *p)
{
	static const struct option opts[] = {
	    {"name", required_argument, NULL, OPT_NAME},
	    {"currency", required_argument, NULL, OPT_CURRENCY},
	    {"envelope", required_argument, NULL, OPT_ENVELOPE},
	    {"ceiling", required_argument, NULL, OPT_CEILING},
	    {"start", required_argument, NULL, OPT_START},
	    {"end", required_argument, NULL, OPT_END},
	    {"target", required_argument, NULL, OPT_TARGET},
	    {"category", required_argument, NULL, OPT_CATEGORY},
	    {"help", no_argument, NULL, 'h'},
	    CLI_OUTPUT_OPTIONS,
	    {NULL, 0, NULL, 0}};
	static const char *const names[] = {"a programme CODE"};
	struct programme_args a = {p, {0}};
	const struct cli_opts o = {"programme", cli_programme_usage, opts,
				   programme_take, &a};
	struct cli_output out;
	int rc;

	if ((rc = cli_opts_read(&o, g, argc, argv, &out)) >= 0 ||
	    (rc = cli_output_format("programme", &out, &p->format)) >= 0 ||
	    (rc = cli_arg_positionals("programme", argc, argv, 1, names,
				      &p->code)) >= 0)
		return rc;
	return programme_check(p, &a.r);
}

static int programme_add_run(tamwil_client *c, void *arg)
{
	struct programme_add *p = arg;
	Tamwil__V1__Operation op = TAMWIL__V1__OPERATION__INIT;
	Tamwil__V1__CreateProgramme body = TAMWIL__V1__CREATE_PROGRAMME__INIT;
	Tamwil__V1__Money envelope = TAMWIL__V1__MONEY__INIT;
	Tamwil__V1__Money ceiling = TAMWIL__V1__MONEY__INIT;
	char what[WHAT_MAX], money[MONEY_TEXT_MAX];
	struct cli_op_print pr = {what, NULL, 0};

	envelope.minor = p->envelope;
	envelope.currency = p->currency;
	ceiling.minor = p->ceiling;
	ceiling.currency = p->currency;
	body.code = (char *)p->code;
	body.name = (char *)p->name;
	body.envelope = &envelope;
	body.ceiling = &ceiling;
	body.period_start = (char *)(p->start != NULL ? p->start : "");
	body.period_end = (char *)(p->end != NULL ? p->end : "");
	body.target_beneficiaries = (uint32_t)p->target;
	body.n_eligible_categories = p->n_categories;
	body.eligible_categories = p->categories;
	op.body_case = TAMWIL__V1__OPERATION__BODY_CREATE_PROGRAMME;
	op.create_programme = &body;
	snprintf(
	    what, sizeof(what), "created programme %s, envelope %s", p->code,
	    cli_money_text(p->envelope, p->currency, money, sizeof(money)));
	return cli_ops_apply(c, &op, p->format, &pr);
}

int cli_programme_main(const struct cli_globals *g, int argc, char **argv)
{
	struct programme_add p;
	int rc;

	if (argc < 2)
		return cli_usage_error("programme", "say what to do: tamwil "
						    "programme add|list");
	if (asks_help(argv[1]))
		return cli_show_usage(cli_programme_usage);
	if (strcmp(argv[1], "list") == 0)
		return cli_budget_main(g, argc - 1, argv + 1);
	if (strcmp(argv[1], "add") != 0)
		return cli_usage_error("programme",
				       "unknown programme command '%s' "
				       "(known: add, list)",
				       argv[1]);
	memset(&p, 0, sizeof(p));
	rc = programme_parse(g, argc - 1, argv + 1, &p);
	return rc >= 0 ? rc : cli_session_run(g, programme_add_run, &p);
}

/* ---- enrol and revoke --------------------------------------------------- */

/* Reads a principal's public key file; -1, or an exit status (printed). */
static int read_pub(const char *path, keyfile_public *pub, char *fp)
{
	int rc;

	errno = 0;
	rc = keyfile_read_public(path, pub);
	if (rc != KEYFILE_OK) {
		char text[128];

		if (rc == KEYFILE_ERR_IO && errno != 0)
			return cli_fail(
			    "cannot read the public key file %s: "
			    "%s",
			    path, cli_strerror(errno, text, sizeof(text)));
		return cli_fail("cannot read the public key file %s: %s", path,
				keyfile_strerror(rc));
	}
	keyfile_fingerprint(pub->noise_pk, pub->sign_pk, fp);
	return -1;
}

void cli_enrol_usage(FILE *out)
{
	fputs(
	    "Usage: tamwil enrol PUBFILE --name NAME --role ROLE "
	    "[--region CODE]\n"
	    "\n"
	    "Enrols the principal whose public key file (made with `tamwil\n"
	    "key public`) is PUBFILE (admins), and prints its fingerprint:\n"
	    "check it with the person before they rely on it. One key, one\n"
	    "role; coordinators are bound to a region.\n"
	    "\n"
	    "Options:\n"
	    "  --name NAME     the person's name (required)\n"
	    "  --role ROLE     coordinator, approver, treasurer, auditor or\n"
	    "                  admin (required)\n"
	    "  --region CODE   the coordinator's region (coordinators only)\n"
	    "  --json, --csv   print the result for scripts\n"
	    "  -h, --help      show this help\n"
	    "\n"
	    "Examples:\n"
	    "  tamwil enrol fatima.pub --name \"Fatima Zahra Bennani\" "
	    "--role coordinator \\\n"
	    "      --region LAG\n"
	    "  tamwil enrol said.pub --name \"Saïd Ouahbi\" --role approver\n",
	    out);
}

struct enrol {
	enum cli_format format;
	const char *path, *name, *region;
	int role;
	keyfile_public pub;
	char fingerprint[KEYFILE_FINGERPRINT_LEN];
};

/* Checks the role and the region go together; -1 or an exit status. */
static int enrol_check(struct enrol *e, const char *role)
{
	int rc;

	if (role == NULL || e->name == NULL)
		return cli_usage_error("enrol", "enrol needs %s",
				       e->name == NULL ? "--name NAME"
						       : "--role ROLE");
	e->role = role_from_name(role);
	if (e->role == 0)
		return cli_usage_error("enrol",
				       "--role: unknown role '%s' (known: "
				       "coordinator, approver, treasurer, "
				       "auditor, admin)",
				       role);
	if (e->role == TAMWIL__V1__ROLE__ROLE_COORDINATOR && e->region == NULL)
		return cli_usage_error("enrol", "a coordinator needs --region "
						"CODE");
	if (e->role != TAMWIL__V1__ROLE__ROLE_COORDINATOR && e->region != NULL)
		return cli_usage_error("enrol",
				       "--region: only coordinators have a "
				       "region (the role here is %s)",
				       role);
	if ((rc = cli_arg_text("enrol", "--name", e->name)) >= 0 ||
	    (rc = cli_arg_text("enrol", "--region", e->region)) >= 0)
		return rc;
	return -1;
}

static int enrol_run(tamwil_client *c, void *arg)
{
	struct enrol *e = arg;
	Tamwil__V1__Operation op = TAMWIL__V1__OPERATION__INIT;
	Tamwil__V1__EnrolPrincipal body = TAMWIL__V1__ENROL_PRINCIPAL__INIT;
	char what[WHAT_MAX];
	struct cli_op_print p = {what, e->fingerprint, 0};

	body.name = (char *)e->name;
	body.role = (Tamwil__V1__Role)e->role;
	body.region = (char *)(e->region != NULL ? e->region : "");
	body.noise_key.data = e->pub.noise_pk;
	body.noise_key.len = sizeof(e->pub.noise_pk);
	body.sign_key.data = e->pub.sign_pk;
	body.sign_key.len = sizeof(e->pub.sign_pk);
	op.body_case = TAMWIL__V1__OPERATION__BODY_ENROL_PRINCIPAL;
	op.enrol_principal = &body;
	snprintf(what, sizeof(what), "enrolled %s as %s%s%s", e->name,
		 role_name(e->role), e->region != NULL ? " of " : "",
		 e->region != NULL ? e->region : "");
	return cli_ops_apply(c, &op, e->format, &p);
}

/* What cli_enrol_main() reads: the principal and the raw role. */
struct enrol_args {
	struct enrol *e;
	const char *role;
};

/* Takes one option of enrol; -1. */
static int enrol_take(void *arg, int c, const char *v)
{
	struct enrol_args *a = arg;

	if (c == OPT_NAME)
		a->e->name = v;
	else if (c == OPT_ROLE)
		a->role = v;
	else if (c == OPT_REGION)
		a->e->region = v;
	return -1;
}

int cli_enrol_main(const struct cli_globals *g, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"name", required_argument, NULL, OPT_NAME},
	    {"role", required_argument, NULL, OPT_ROLE},
	    {"region", required_argument, NULL, OPT_REGION},
	    {"help", no_argument, NULL, 'h'},
	    CLI_OUTPUT_OPTIONS,
	    {NULL, 0, NULL, 0}};
	static const char *const names[] = {"a public key file PUBFILE"};
	struct cli_output out;
	struct enrol e;
	struct enrol_args a = {&e, NULL};
	const struct cli_opts o = {"enrol", cli_enrol_usage, opts, enrol_take,
				   &a};
	int rc;

	memset(&e, 0, sizeof(e));
	if ((rc = cli_opts_read(&o, g, argc, argv, &out)) >= 0 ||
	    (rc = cli_output_format("enrol", &out, &e.format)) >= 0 ||
	    (rc = cli_arg_positionals("enrol", argc, argv, 1, names,
				      &e.path)) >= 0 ||
	    (rc = enrol_check(&e, a.role)) >= 0 ||
	    (rc = read_pub(e.path, &e.pub, e.fingerprint)) >= 0)
		return rc;
	return cli_session_run(g, enrol_run, &e);
}

void cli_revoke_usage(FILE *out)
{
	fputs("Usage: tamwil revoke PUBFILE\n"
	      "\n"
	      "Revokes the principal whose public key file is PUBFILE\n"
	      "(admins). It takes effect at once, on connections already open\n"
	      "too. Nobody revokes their own key, and the last admin stays.\n"
	      "\n"
	      "Options:\n"
	      "  --json, --csv   print the result for scripts\n"
	      "  -h, --help      show this help\n"
	      "\n"
	      "Examples:\n"
	      "  tamwil revoke hind.pub\n",
	      out);
}

struct revoke {
	enum cli_format format;
	const char *path;
	keyfile_public pub;
	char fingerprint[KEYFILE_FINGERPRINT_LEN];
};

static int revoke_run(tamwil_client *c, void *arg)
{
	struct revoke *r = arg;
	Tamwil__V1__Operation op = TAMWIL__V1__OPERATION__INIT;
	Tamwil__V1__RevokePrincipal body = TAMWIL__V1__REVOKE_PRINCIPAL__INIT;
	char what[WHAT_MAX];
	struct cli_op_print p = {what, r->fingerprint, 0};

	body.noise_key.data = r->pub.noise_pk;
	body.noise_key.len = sizeof(r->pub.noise_pk);
	op.body_case = TAMWIL__V1__OPERATION__BODY_REVOKE_PRINCIPAL;
	op.revoke_principal = &body;
	snprintf(what, sizeof(what), "revoked the key of %s", r->path);
	return cli_ops_apply(c, &op, r->format, &p);
}

int cli_revoke_main(const struct cli_globals *g, int argc, char **argv)
{
	static const char *const names[] = {"a public key file PUBFILE"};
	struct revoke r;
	int rc;

	memset(&r, 0, sizeof(r));
	if ((rc = parse_simple("revoke", cli_revoke_usage, g, argc, argv, 1,
			       names, &r.path, &r.format)) >= 0 ||
	    (rc = read_pub(r.path, &r.pub, r.fingerprint)) >= 0)
		return rc;
	return cli_session_run(g, revoke_run, &r);
}
