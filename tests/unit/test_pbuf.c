/*
 * Unit tests of bounded decoding: a message within the budget unpacks and
 * gives every byte back when freed; one that would need more is refused
 * without leaking, however its elements are shaped; no message type of
 * the schema contains itself.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "pbuf.h"
#include "tamwil.pb-c.h"

/* A disbursement with n empty equipment items: 2 bytes each on the wire. */
static uint8_t *many_items(size_t n, size_t *len)
{
	Tamwil__V1__RecordDisbursement d =
	    TAMWIL__V1__RECORD_DISBURSEMENT__INIT;
	Tamwil__V1__EquipmentItem item = TAMWIL__V1__EQUIPMENT_ITEM__INIT;
	Tamwil__V1__EquipmentItem **items =
	    calloc(n, sizeof(Tamwil__V1__EquipmentItem *));
	uint8_t *buf;

	assert_non_null(items);
	for (size_t i = 0; i < n; i++)
		items[i] = &item;
	d.reference = "LAG-2026-000001";
	d.n_items = n;
	d.items = items;
	*len = tamwil__v1__record_disbursement__get_packed_size(&d);
	buf = malloc(*len);
	assert_non_null(buf);
	tamwil__v1__record_disbursement__pack(&d, buf);
	free(items);
	return buf;
}

static void test_within_budget(void **state)
{
	Tamwil__V1__RecordDisbursement *d;
	pbuf_budget b;
	size_t len;
	uint8_t *buf = many_items(10, &len);

	(void)state;
	pbuf_budget_init(&b, PBUF_BUDGET_DEFAULT);
	d = tamwil__v1__record_disbursement__unpack(&b.alloc, len, buf);
	assert_non_null(d);
	assert_int_equal(d->n_items, 10);
	assert_string_equal(d->reference, "LAG-2026-000001");
	assert_true(b.used > 0);
	tamwil__v1__record_disbursement__free_unpacked(d, &b.alloc);
	assert_int_equal(b.used, 0);
	assert_false(b.exhausted);
	free(buf);
}

static void test_amplification_refused(void **state)
{
	Tamwil__V1__RecordDisbursement *d;
	pbuf_budget b;
	size_t len;
	/* 32 000 items fit one frame (64 KB) but expand to megabytes. */
	uint8_t *buf = many_items(32000, &len);

	(void)state;
	assert_true(len < 65535);
	pbuf_budget_init(&b, PBUF_BUDGET_DEFAULT);
	d = tamwil__v1__record_disbursement__unpack(&b.alloc, len, buf);
	assert_null(d);
	assert_true(b.exhausted);
	/* A refused unpack gives back everything it had taken. */
	assert_int_equal(b.used, 0);
	free(buf);
}

static void test_tiny_budget(void **state)
{
	Tamwil__V1__RecordDisbursement *d;
	pbuf_budget b;
	size_t len;
	uint8_t *buf = many_items(1, &len);

	(void)state;
	pbuf_budget_init(&b, 8);
	d = tamwil__v1__record_disbursement__unpack(&b.alloc, len, buf);
	assert_null(d);
	assert_int_equal(b.used, 0);
	free(buf);
}

static void test_unpack_outlives_budget(void **state)
{
	Tamwil__V1__RecordDisbursement *d;
	size_t len;
	uint8_t *small = many_items(10, &len), *big;

	(void)state;
	/* Within its budget: freed later with the default allocator. */
	d = (Tamwil__V1__RecordDisbursement *)pbuf_unpack(
	    &tamwil__v1__record_disbursement__descriptor, len, small,
	    PBUF_BUDGET_DEFAULT);
	assert_non_null(d);
	assert_int_equal(d->n_items, 10);
	tamwil__v1__record_disbursement__free_unpacked(d, NULL);
	/* The frame that expands to megabytes is refused, nothing leaks. */
	big = many_items(32000, &len);
	assert_null(pbuf_unpack(&tamwil__v1__record_disbursement__descriptor,
				len, big, PBUF_BUDGET_DEFAULT));
	/* So is a message that does not parse at all. */
	assert_null(pbuf_unpack(&tamwil__v1__record_disbursement__descriptor, 3,
				(const uint8_t *)"\x0a\x05a",
				PBUF_BUDGET_DEFAULT));
	free(small);
	free(big);
}

/*
 * 1 if a message type reachable from d is reached again while its own
 * fields are walked: a recursive type, which would let nesting alone
 * exhaust the stack. on_path holds the types of the current path.
 */
static int recursive(const ProtobufCMessageDescriptor *d,
		     const ProtobufCMessageDescriptor **on_path, size_t depth)
{
	for (size_t i = 0; i < depth; i++)
		if (on_path[i] == d)
			return 1;
	assert_true(depth < 64);
	on_path[depth] = d;
	for (unsigned i = 0; i < d->n_fields; i++)
		if (d->fields[i].type == PROTOBUF_C_TYPE_MESSAGE &&
		    recursive(d->fields[i].descriptor, on_path, depth + 1))
			return 1;
	return 0;
}

static void test_schema_not_recursive(void **state)
{
	const ProtobufCMessageDescriptor *roots[] = {
	    &tamwil__v1__client_hello__descriptor,
	    &tamwil__v1__server_hello__descriptor,
	    &tamwil__v1__request__descriptor,
	    &tamwil__v1__response__descriptor,
	    &tamwil__v1__operation__descriptor,
	    &tamwil__v1__log_entry__descriptor,
	    &tamwil__v1__identity__descriptor,
	    &tamwil__v1__export_record__descriptor,
	};
	const ProtobufCMessageDescriptor *path[64];

	(void)state;
	for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++)
		if (recursive(roots[i], path, 0))
			fail_msg("%s reaches itself", roots[i]->name);
	/* The walk does find a cycle when there is one. */
	path[0] = &tamwil__v1__money__descriptor;
	assert_true(recursive(&tamwil__v1__money__descriptor, path, 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_within_budget),
	    cmocka_unit_test(test_amplification_refused),
	    cmocka_unit_test(test_tiny_budget),
	    cmocka_unit_test(test_unpack_outlives_budget),
	    cmocka_unit_test(test_schema_not_recursive),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
