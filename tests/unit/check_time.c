/*
 * check_time.c: unit tests for cdp_time (RFC 3339 timestamps).
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cdp_time.h"

#define TIME0	1764081524000000000LL	/* 2025-11-25T14:38:44Z */

static void
expect_format(int64_t ns, const char *want)
{
	char buf[CDP_TIME_STRLEN];

	memset(buf, 'x', sizeof buf);
	cdp_time_format(ns, buf, sizeof buf);
	ck_assert_msg(strcmp(buf, want) == 0, "format %lld: \"%s\", want "
	    "\"%s\"", (long long)ns, buf, want);
}

static void
expect_parse(const char *s, int64_t want)
{
	int64_t ns = 0;

	errno = 0;
	ck_assert_msg(cdp_time_parse(s, &ns) == 0, "parse \"%s\": -1, "
	    "errno %d", s, errno);
	ck_assert_msg(ns == want, "parse \"%s\": %lld, want %lld", s,
	    (long long)ns, (long long)want);
}

static void
expect_bad(const char *s)
{
	int64_t ns = 0;
	int rc;

	errno = 0;
	rc = cdp_time_parse(s, &ns);
	ck_assert_msg(rc == -1, "parse \"%s\": accepted as %lld", s,
	    (long long)ns);
	ck_assert_msg(errno == EINVAL, "parse \"%s\": errno %d, want EINVAL",
	    s, errno);
}

START_TEST(test_time_now)
{
	struct timespec a, b;
	int64_t t, lo, hi;

	clock_gettime(CLOCK_REALTIME, &a);
	t = cdp_time_now();
	clock_gettime(CLOCK_REALTIME, &b);
	lo = (int64_t)a.tv_sec * 1000000000LL + a.tv_nsec;
	hi = (int64_t)b.tv_sec * 1000000000LL + b.tv_nsec;
	ck_assert_int_ge(t, lo);
	ck_assert_int_le(t, hi);
}
END_TEST

START_TEST(test_time_format)
{
	expect_format(0, "1970-01-01T00:00:00.000000000Z");
	expect_format(TIME0, "2025-11-25T14:38:44.000000000Z");
	expect_format(1764081524123456789LL, "2025-11-25T14:38:44.123456789Z");
	expect_format(1, "1970-01-01T00:00:00.000000001Z");
	expect_format(951782400LL * 1000000000LL,
	    "2000-02-29T00:00:00.000000000Z");
	expect_format(-1, "1969-12-31T23:59:59.999999999Z");
	expect_format(INT64_MAX, "2262-04-11T23:47:16.854775807Z");
	expect_format(INT64_MIN, "1677-09-21T00:12:43.145224192Z");
}
END_TEST

START_TEST(test_time_format_parse_roundtrip)
{
	static const int64_t v[] = {
		0, 1, 999999999, 1000000000, TIME0, 1764081524123456789LL,
		-1, -1000000000LL, -1500000000LL, 951782400LL * 1000000000LL,
		INT64_MAX, INT64_MIN,
	};
	char buf[CDP_TIME_STRLEN];
	size_t i;

	for (i = 0; i < sizeof v / sizeof v[0]; i++) {
		cdp_time_format(v[i], buf, sizeof buf);
		expect_parse(buf, v[i]);
	}
}
END_TEST

START_TEST(test_time_parse_rfc3339)
{
	expect_parse("2025-11-25T14:38:44Z", TIME0);
	expect_parse("2025-11-25 14:38:44Z", TIME0);
	expect_parse("1970-01-01T00:00:00Z", 0);
	expect_parse("2024-02-29T12:00:00Z", 1709208000LL * 1000000000LL);
	expect_parse("1969-12-31T23:59:59Z", -1000000000LL);
}
END_TEST

START_TEST(test_time_parse_offsets)
{
	expect_parse("2025-11-25T15:38:44+01:00", TIME0);
	expect_parse("2025-11-25T13:38:44-01:00", TIME0);
	expect_parse("2025-11-25T20:08:44+05:30", TIME0);
	expect_parse("2025-11-25T14:38:44+00:00", TIME0);
	expect_parse("2025-11-25T14:38:44-00:00", TIME0);
	/* An offset that crosses midnight and the year. */
	expect_parse("2026-01-01T00:30:00+01:00",
	    (1767225600LL - 1800) * 1000000000LL);
	expect_parse("2025-11-25 15:38:44.25+01:00", TIME0 + 250000000);
}
END_TEST

START_TEST(test_time_parse_fractions)
{
	expect_parse("2025-11-25T14:38:44.5Z", TIME0 + 500000000);
	expect_parse("2025-11-25T14:38:44.123Z", TIME0 + 123000000);
	expect_parse("2025-11-25T14:38:44.123456Z", TIME0 + 123456000);
	expect_parse("2025-11-25T14:38:44.123456789Z", TIME0 + 123456789);
	expect_parse("2025-11-25T14:38:44.000000001Z", TIME0 + 1);
	expect_parse("2025-11-25T14:38:44.000000000Z", TIME0);
}
END_TEST

START_TEST(test_time_parse_epoch)
{
	expect_parse("@0", 0);
	expect_parse("@1764081524", TIME0);
	expect_parse("@1764081524.5", TIME0 + 500000000);
	expect_parse("@1764081524.123456789", TIME0 + 123456789);
	expect_parse("@1764081524.000000001", TIME0 + 1);
}
END_TEST

START_TEST(test_time_parse_invalid)
{
	static const char *bad[] = {
		"", " ", "now", "2025", "2025-11-25",
		"2025-11-25T14:38:44",		/* no zone */
		"2025-11-25T14:38Z",		/* no seconds */
		"2025-11-25T14:38:44.Z",	/* empty fraction */
		"2025-11-25T14:38:44ZZ",
		"2025-11-25T14:38:44Z junk",
		"2025-11-25T14:38:44+0100",	/* offset without ':' */
		"2025-11-25T14:38:44+01",
		"2025-11-25T14:38:44+24:00",
		"2025-11-25T14:38:44+01:60",
		"2025-13-01T00:00:00Z",
		"2025-00-01T00:00:00Z",
		"2025-11-00T00:00:00Z",
		"2025-11-31T00:00:00Z",
		"2023-02-29T00:00:00Z",		/* not a leap year */
		"1900-02-29T00:00:00Z",
		"2025-11-25T24:00:00Z",
		"2025-11-25T14:60:00Z",
		"2025-11-25T14:38:61Z",
		"25-11-25T14:38:44Z",
		"2025-1-25T14:38:44Z",
		"2025-11-25X14:38:44Z",
		"2025/11/25T14:38:44Z",
		"+2025-11-25T14:38:44Z",
		"2300-01-01T00:00:00Z",		/* past what int64 ns holds */
		"1600-01-01T00:00:00Z",
		"@", "@abc", "@12x", "@1.", "@.5", "@1764081524 ",
		"@99999999999999999999",
		"1764081524",			/* an epoch needs '@' */
	};
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		expect_bad(bad[i]);
}
END_TEST

static Suite *
time_suite(void)
{
	Suite *s = suite_create("time");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_time_now);
	tcase_add_test(tc, test_time_format);
	tcase_add_test(tc, test_time_format_parse_roundtrip);
	tcase_add_test(tc, test_time_parse_rfc3339);
	tcase_add_test(tc, test_time_parse_offsets);
	tcase_add_test(tc, test_time_parse_fractions);
	tcase_add_test(tc, test_time_parse_epoch);
	tcase_add_test(tc, test_time_parse_invalid);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(time_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
