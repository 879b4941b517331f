/*
 * Reading what people type on the command line into protocol values:
 * amounts, full names, equipment items, enum names, dates and counts.
 * Each parser says what is wrong in one sentence (without the option's
 * name, which the caller puts in front), so that a usage error reads
 * `tamwil: --amount: "12,345" is ambiguous: write 12345 or 12345,00`.
 * Part of libtamwil-client so that it can be tested; it never prints.
 */
#ifndef TAMWIL_ARGPARSE_H
#define TAMWIL_ARGPARSE_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

/* Room for a sentence of these parsers. */
#define ARGPARSE_WHY_MAX 256

/*
 * Parses an amount as money_parse() does ("250000", "250000.00",
 * "250 000,00") into minor units. Zero is refused unless zero_ok. A
 * single '.' or ',' before exactly three digits ("12,345") is refused as
 * ambiguous. Returns 0, or -1 with the sentence in why (capacity cap).
 */
int argparse_amount(const char *text, int zero_ok, int64_t *minor, char *why,
		    size_t cap);

/*
 * Splits a full name at its last space: the first names before it, the
 * last name after ("Fatima Zahra Bennani": "Fatima Zahra", "Bennani").
 * Surrounding spaces are ignored. A name of one word is refused: it does
 * not say which part it is. Returns 0, or -1 with why.
 */
int argparse_name(const char *full, char *first, size_t first_cap, char *last,
		  size_t last_cap, char *why, size_t cap);

/* Largest quantity of one equipment item. */
#define ARGPARSE_QUANTITY_MAX 1000000u

/*
 * Parses an equipment item "DESCRIPTION:QUANTITY:UNIT_VALUE", e.g.
 * "Machine à coudre:2:12 500,00". The last two ':' end the description,
 * which may hold ':' itself and must not be empty; the quantity is 1 to
 * ARGPARSE_QUANTITY_MAX; the unit value an amount (zero allowed).
 * Returns 0, or -1 with why.
 */
int argparse_item(const char *text, char *desc, size_t desc_cap,
		  uint32_t *quantity, int64_t *unit_value, char *why,
		  size_t cap);

/*
 * The value of a protocol enum from its name on the command line: the
 * enum value's name without prefix, in any case, '-' read as '_'
 * ("rural_woman" for CATEGORY_RURAL_WOMAN with prefix "CATEGORY_").
 * Returns the value, or 0 (the UNSPECIFIED value) for an unknown name.
 */
int argparse_enum(const ProtobufCEnumDescriptor *d, const char *prefix,
		  const char *name);

/*
 * The command-line name of value ("written_off"), in buf (capacity cap);
 * "unknown" for a value the descriptor does not know or the 0 value.
 * Returns buf.
 */
const char *argparse_enum_name(const ProtobufCEnumDescriptor *d,
			       const char *prefix, int value, char *buf,
			       size_t cap);

/*
 * The accepted names of an enum, "former_detainee, rural_woman, ...",
 * into buf (capacity cap), for messages. Returns buf.
 */
const char *argparse_enum_list(const ProtobufCEnumDescriptor *d,
			       const char *prefix, char *buf, size_t cap);

/* Sex: "F" or "M" (either case) as the Sex values 1 and 2; else 0. */
int argparse_sex(const char *text);

/* "F", "M", or "" for another value. */
const char *argparse_sex_name(int sex);

/*
 * A date "YYYY-MM-DD" (1900 to 2199) as the Unix time of its start, UTC.
 * Returns 0, or -1 with why.
 */
int argparse_day(const char *text, int64_t *start, char *why, size_t cap);

/*
 * A whole number of plain digits from min to max. Returns 0, or -1 with
 * why.
 */
int argparse_count(const char *text, unsigned long min, unsigned long max,
		   unsigned long *value, char *why, size_t cap);

/*
 * 1 if text is valid UTF-8 without control characters (what the server
 * stores); otherwise 0 with why saying so.
 */
int argparse_text(const char *text, char *why, size_t cap);

#endif
