/*
 * check_uuid.c: unit tests for cdp_uuid (random RFC 4122 uuids).
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cdp_uuid.h"

static const uint8_t known[16] = {
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
	0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
};
#define KNOWN_STR	"00112233-4455-6677-8899-aabbccddeeff"

static void
expect_bad(const char *s)
{
	uint8_t u[16];
	int rc;

	errno = 0;
	rc = cdp_uuid_parse(s, u);
	ck_assert_msg(rc == -1, "parse \"%s\": accepted", s);
	ck_assert_msg(errno == EINVAL, "parse \"%s\": errno %d, want EINVAL",
	    s, errno);
}

START_TEST(test_uuid_generate_version_and_variant)
{
	uint8_t u[16];
	int i;

	for (i = 0; i < 100; i++) {
		ck_assert_int_eq(cdp_uuid_generate(u), 0);
		ck_assert_msg((u[6] & 0xf0) == 0x40, "version nibble 0x%x",
		    u[6] >> 4);
		ck_assert_msg((u[8] & 0xc0) == 0x80, "variant bits 0x%x",
		    u[8] >> 6);
	}
}
END_TEST

START_TEST(test_uuid_generate_distinct)
{
	uint8_t u[64][16];
	int i, j;

	for (i = 0; i < 64; i++)
		ck_assert_int_eq(cdp_uuid_generate(u[i]), 0);
	for (i = 0; i < 64; i++)
		for (j = i + 1; j < 64; j++)
			ck_assert_msg(memcmp(u[i], u[j], 16) != 0,
			    "uuids %d and %d are equal", i, j);
}
END_TEST

START_TEST(test_uuid_format_known)
{
	char buf[CDP_UUID_STRLEN];

	memset(buf, 'x', sizeof buf);
	cdp_uuid_format(known, buf);
	ck_assert_str_eq(buf, KNOWN_STR);
	ck_assert_uint_eq(strlen(buf), CDP_UUID_STRLEN - 1);
}
END_TEST

START_TEST(test_uuid_format_generated)
{
	char buf[CDP_UUID_STRLEN];
	uint8_t u[16];
	size_t i;

	ck_assert_int_eq(cdp_uuid_generate(u), 0);
	cdp_uuid_format(u, buf);
	ck_assert_uint_eq(strlen(buf), 36);
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23)
			ck_assert_int_eq(buf[i], '-');
		else
			ck_assert_msg(strchr("0123456789abcdef", buf[i]) &&
			    buf[i] != '\0', "char %zu is '%c'", i, buf[i]);
	}
	ck_assert_int_eq(buf[14], '4');
	ck_assert_ptr_nonnull(strchr("89ab", buf[19]));
}
END_TEST

START_TEST(test_uuid_parse_format_roundtrip)
{
	char buf[CDP_UUID_STRLEN];
	uint8_t u[16], v[16];
	int i;

	ck_assert_int_eq(cdp_uuid_parse(KNOWN_STR, v), 0);
	ck_assert_mem_eq(v, known, 16);
	for (i = 0; i < 20; i++) {
		ck_assert_int_eq(cdp_uuid_generate(u), 0);
		cdp_uuid_format(u, buf);
		memset(v, 0, sizeof v);
		ck_assert_int_eq(cdp_uuid_parse(buf, v), 0);
		ck_assert_mem_eq(u, v, 16);
	}
	/* Any version: readers do not check it. */
	memset(u, 0xff, 16);
	cdp_uuid_format(u, buf);
	ck_assert_str_eq(buf, "ffffffff-ffff-ffff-ffff-ffffffffffff");
	ck_assert_int_eq(cdp_uuid_parse(buf, v), 0);
	ck_assert_mem_eq(u, v, 16);
	ck_assert_int_eq(cdp_uuid_parse("00000000-0000-0000-0000-000000000000",
	    v), 0);
	memset(u, 0, 16);
	ck_assert_mem_eq(u, v, 16);
}
END_TEST

START_TEST(test_uuid_parse_invalid)
{
	static const char *bad[] = {
		"",
		"00112233-4455-6677-8899-aabbccddeef",	/* one short */
		"00112233-4455-6677-8899-aabbccddeeff0",	/* one long */
		"00112233-4455-6677-8899-aabbccddeeff ",
		" 00112233-4455-6677-8899-aabbccddeeff",
		"001122334455-6677-8899-aabbccddeeff00", /* hyphen moved */
		"00112233-44556677-8899-aabbccddeeff-",
		"00112233+4455-6677-8899-aabbccddeeff",
		"0011223344556677889900aabbccddeeff",
		"00112233445566778899aabbccddeeff",	/* no hyphens */
		"{00112233-4455-6677-8899-aabbccddeeff}",
		"urn:uuid:00112233-4455-6677-8899-aabbccddeeff",
		"g0112233-4455-6677-8899-aabbccddeeff",
		"00112233-4455-6677-8899-aabbccddeefz",
		"00112233-4455-6677-8899-aabbccdd eff",
		"0x112233-4455-6677-8899-aabbccddeeff",
		"--------------------------------------",
	};
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		expect_bad(bad[i]);
}
END_TEST

static Suite *
uuid_suite(void)
{
	Suite *s = suite_create("uuid");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_uuid_generate_version_and_variant);
	tcase_add_test(tc, test_uuid_generate_distinct);
	tcase_add_test(tc, test_uuid_format_known);
	tcase_add_test(tc, test_uuid_format_generated);
	tcase_add_test(tc, test_uuid_parse_format_roundtrip);
	tcase_add_test(tc, test_uuid_parse_invalid);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(uuid_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
