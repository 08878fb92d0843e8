/*
 * check_manifest.c: unit tests for cdp_manifest (the manifest object of a
 * store in a bucket).
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cdp_manifest.h"

#define GOOD \
	"cdp-manifest 1\n" \
	"stream 00112233-4455-6677-8899-aabbccddeeff\n" \
	"durable_seq 300\n" \
	"time_ns 1764000000000000000\n" \
	"base 100 4096\n" \
	"segment 101 200 1000 1764000000000000001\n" \
	"segment 201 300 2000 1764000000000000002\n" \
	"retired 00000000000000000050.base.cdpj 1764000000000000003\n" \
	"end\n"

static void
expect_bad(const char *text, const char *want)
{
	struct cdp_manifest m;
	char why[256] = "";
	int rc;

	errno = 0;
	rc = cdp_manifest_parse(&m, text, strlen(text), why, sizeof(why));
	ck_assert_msg(rc == -1, "accepted:\n%s", text);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_msg(strstr(why, want) != NULL, "why \"%s\", want \"%s\"",
	    why, want);
	ck_assert_ptr_null(m.segs);
}

START_TEST(test_manifest_roundtrip)
{
	struct cdp_manifest m;
	char why[256];
	char *text;
	size_t len;

	ck_assert_int_eq(cdp_manifest_parse(&m, GOOD, strlen(GOOD), why,
	    sizeof(why)), 0);
	ck_assert_int_eq(m.have_uuid, 1);
	ck_assert_uint_eq(m.uuid[15], 0xff);
	ck_assert_uint_eq(m.durable_seq, 300);
	ck_assert_int_eq(m.time_ns, 1764000000000000000LL);
	ck_assert_uint_eq(m.base_last, 100);
	ck_assert_uint_eq(m.nsegs, 2);
	ck_assert_uint_eq(m.segs[1].first, 201);
	ck_assert_uint_eq(m.segs[1].size, 2000);
	ck_assert_int_eq(m.segs[1].time_ns, 1764000000000000002LL);
	ck_assert_uint_eq(m.nretired, 1);
	ck_assert_str_eq(m.retired[0].name, "00000000000000000050.base.cdpj");
	ck_assert_uint_eq(cdp_manifest_bytes(&m), 7096);
	ck_assert_ptr_nonnull(cdp_manifest_find(&m, 101));
	ck_assert_ptr_null(cdp_manifest_find(&m, 102));
	text = cdp_manifest_format(&m, &len);
	ck_assert_ptr_nonnull(text);
	ck_assert_str_eq(text, GOOD);
	ck_assert_uint_eq(len, strlen(GOOD));
	free(text);
	cdp_manifest_free(&m);
}
END_TEST

START_TEST(test_manifest_empty)
{
	static const char empty[] = "cdp-manifest 1\ndurable_seq 0\n"
	    "time_ns 0\nend\n";
	struct cdp_manifest m;
	char why[256];

	ck_assert_int_eq(cdp_manifest_parse(&m, empty, strlen(empty), why,
	    sizeof(why)), 0);
	ck_assert_int_eq(m.have_uuid, 0);
	ck_assert_uint_eq(m.nsegs, 0);
	cdp_manifest_free(&m);
}
END_TEST

START_TEST(test_manifest_add)
{
	struct cdp_manifest m;

	memset(&m, 0, sizeof(m));
	/* Not without the stream's uuid. */
	ck_assert_int_eq(cdp_manifest_add(&m, 1, 10, 100, 1), -1);
	m.have_uuid = 1;
	ck_assert_int_eq(cdp_manifest_add(&m, 1, 10, 100, 1), 0);
	ck_assert_int_eq(cdp_manifest_add(&m, 11, 20, 100, 2), 0);
	/* The last one uploaded again with more in it: replaced. */
	ck_assert_int_eq(cdp_manifest_add(&m, 11, 25, 150, 3), 0);
	ck_assert_int_eq(m.segs[1].time_ns, 3);
	ck_assert_uint_eq(m.nsegs, 2);
	ck_assert_uint_eq(m.durable_seq, 25);
	/* A segment with no numbered record: last is first - 1. */
	ck_assert_int_eq(cdp_manifest_add(&m, 26, 25, 80, 4), 0);
	ck_assert_uint_eq(m.durable_seq, 25);
	/* A gap, going backwards, an earlier one replaced: refused. */
	errno = 0;
	ck_assert_int_eq(cdp_manifest_add(&m, 28, 30, 10, 5), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(cdp_manifest_add(&m, 20, 30, 10, 5), -1);
	ck_assert_int_eq(cdp_manifest_add(&m, 11, 30, 10, 5), -1);
	ck_assert_int_eq(cdp_manifest_add(&m, 26, 24, 10, 5), -1);
	/* Retired names are a store's names, nothing else. */
	ck_assert_int_eq(cdp_manifest_retire(&m, "../x", 1), -1);
	ck_assert_int_eq(cdp_manifest_retire(&m, "", 1), -1);
	ck_assert_int_eq(cdp_manifest_retire(&m, "a/b", 1), -1);
	ck_assert_int_eq(cdp_manifest_retire(&m, "manifest", 1), -1);
	ck_assert_int_eq(cdp_manifest_retire(&m, "lease", 1), -1);
	ck_assert_int_eq(cdp_manifest_add(&m, 9223372036854775808ULL,
	    9223372036854775808ULL, 1, 1), -1);
	ck_assert_int_eq(cdp_manifest_retire(&m, "00000000000000000001.cdpj",
	    7), 0);
	{
		struct cdp_manifest c;

		ck_assert_int_eq(cdp_manifest_copy(&c, &m), 0);
		ck_assert_uint_eq(c.nsegs, 3);
		ck_assert_uint_eq(c.nretired, 1);
		ck_assert_ptr_ne(c.segs, m.segs);
		cdp_manifest_free(&c);
	}
	ck_assert_uint_eq(m.nsegs, 3);
	cdp_manifest_free(&m);
}
END_TEST

START_TEST(test_manifest_bad)
{
	expect_bad("", "cut short");
	expect_bad("cdp-manifest 2\nend\n", "not a manifest");
	expect_bad("cdp-manifest 1\ndurable_seq 0\n", "cut short");
	expect_bad("cdp-manifest 1\ndurable_seq 0\nend", "cut short");
	expect_bad("cdp-manifest 1\nend\nend\n", "after \"end\"");
	expect_bad("cdp-manifest 1\nfoo 1\nend\n", "line 2: not understood");
	expect_bad("cdp-manifest 1\ndurable_seq 1\ndurable_seq 1\nend\n",
	    "line 3: not understood");
	expect_bad("cdp-manifest 1\ndurable_seq -1\nend\n", "not a number");
	expect_bad("cdp-manifest 1\ndurable_seq 99999999999999999999\nend\n",
	    "not a number");
	expect_bad("cdp-manifest 1\ndurable_seq 12x\nend\n", "not a number");
	expect_bad("cdp-manifest 1\nstream nope\nend\n", "not a stream uuid");
	expect_bad("cdp-manifest 1\nstream 00112233-4455-6677-8899-"
	    "aabbccddeeff\ndurable_seq 20\nsegment 1 10 5 0\nsegment 12 20 5 0\n"
	    "end\n", "line 5: segment 12-20 does not follow");
	/* Two entries for one object (an empty segment, then its name). */
	expect_bad("cdp-manifest 1\nstream 00112233-4455-6677-8899-"
	    "aabbccddeeff\ndurable_seq 9\nsegment 1 0 5 0\nsegment 1 9 5 0\n"
	    "end\n", "line 5: segment 1-9 does not follow");
	expect_bad("cdp-manifest 1\nstream 00112233-4455-6677-8899-"
	    "aabbccddeeff\ndurable_seq 10\nsegment 1 10\nend\n",
	    "want \"segment FIRST LAST BYTES TIME_NS\"");
	expect_bad("cdp-manifest 1\nstream 00112233-4455-6677-8899-"
	    "aabbccddeeff\ndurable_seq 9\nsegment 1 10 5 0\nend\n",
	    "durable_seq 9 but the objects end at seq 10");
	expect_bad("cdp-manifest 1\ndurable_seq 10\nsegment 1 10 5 0\nend\n",
	    "without a stream line");
	expect_bad("cdp-manifest 1\nstream 00112233-4455-6677-8899-"
	    "aabbccddeeff\ndurable_seq 10\nsegment 1 10 5 0\nbase 5 5\nend\n",
	    "line 5: not understood");
	expect_bad("cdp-manifest 1\ndurable_seq 0\x00\nend\n", "cut short");
	expect_bad("cdp-manifest 1\ndurable_seq 0\nretired ../../x 5\nend\n",
	    "want \"retired NAME TIME_NS\"");
	expect_bad("cdp-manifest 1\ndurable_seq 0\nretired a 5 6\nend\n",
	    "want \"retired NAME TIME_NS\"");
	expect_bad("cdp-manifest 1\ndurable_seq 0\nretired manifest 5\nend\n",
	    "want \"retired NAME TIME_NS\"");
	expect_bad("cdp-manifest 1\ndurable_seq 18446744073709551615\nend\n",
	    "not a number");
	expect_bad("cdp-manifest 1\nstream 00112233-4455-6677-8899-"
	    "aabbccddeeff\ndurable_seq 0\nbase 18446744073709551615 5\nend\n",
	    "want \"base LAST BYTES\"");
}
END_TEST

START_TEST(test_manifest_nul)
{
	static const char t[] = "cdp-manifest 1\ndurable_seq 0\n\0end\n";
	struct cdp_manifest m;
	char why[256];

	ck_assert_int_eq(cdp_manifest_parse(&m, t, sizeof(t) - 1, why,
	    sizeof(why)), -1);
	ck_assert_msg(strstr(why, "NUL") != NULL, "why \"%s\"", why);
}
END_TEST

static Suite *
manifest_suite(void)
{
	Suite *s = suite_create("manifest");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_manifest_roundtrip);
	tcase_add_test(tc, test_manifest_empty);
	tcase_add_test(tc, test_manifest_add);
	tcase_add_test(tc, test_manifest_bad);
	tcase_add_test(tc, test_manifest_nul);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(manifest_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
