/*
 * check_dl.c: cdp_dl_load() fills a table from a library, and says which
 * package to install when the library or a function is missing.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "cdp_dl.h"

struct table {
	__typeof__(strlen)	*len;
	__typeof__(strcmp)	*cmp;
};

START_TEST(test_dl_loads)
{
	static const struct cdp_dl_sym syms[] = {
		CDP_DL_SYM(struct table, "strlen", len),
		CDP_DL_SYM(struct table, "strcmp", cmp),
	};
	struct table t = { NULL, NULL };
	char err[256] = "";

	ck_assert_int_eq(cdp_dl_load("libc.so.6", "libc6", syms, 2, &t, err,
	    sizeof(err)), 0);
	ck_assert_ptr_nonnull(t.len);
	ck_assert_uint_eq(t.len("four"), 4);
	ck_assert_int_eq(t.cmp("a", "a"), 0);
}
END_TEST

START_TEST(test_dl_missing_library)
{
	static const struct cdp_dl_sym syms[] = {
		CDP_DL_SYM(struct table, "strlen", len),
	};
	struct table t = { NULL, NULL };
	char err[256] = "";

	ck_assert_int_eq(cdp_dl_load("libcdp-none.so.9", "cdp-none", syms, 1,
	    &t, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "libcdp-none.so.9"));
	ck_assert_ptr_nonnull(strstr(err, "; install cdp-none"));
	ck_assert_ptr_null(t.len);
}
END_TEST

START_TEST(test_dl_missing_function)
{
	static const struct cdp_dl_sym syms[] = {
		CDP_DL_SYM(struct table, "strlen", len),
		CDP_DL_SYM(struct table, "cdp_no_such_function", cmp),
	};
	struct table t = { NULL, NULL };
	char err[256] = "";

	ck_assert_int_eq(cdp_dl_load("libc.so.6", "libc6", syms, 2, &t, err,
	    sizeof(err)), -1);
	ck_assert_str_eq(err,
	    "libc.so.6: no cdp_no_such_function; install libc6");
}
END_TEST

static Suite *
dl_suite(void)
{
	Suite *s = suite_create("dl");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_dl_loads);
	tcase_add_test(tc, test_dl_missing_library);
	tcase_add_test(tc, test_dl_missing_function);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(dl_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
