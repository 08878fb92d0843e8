/*
 * check_path.c: unit tests for cdp_path (journal path validation).
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdp_format.h"
#include "cdp_path.h"

/* Expect path (len bytes) to be accepted. */
static void
expect_ok(const char *path, size_t len)
{
	const char *why = NULL;
	int rc;

	errno = 0;
	rc = cdp_path_check(path, len, &why);
	ck_assert_msg(rc == 0, "path of %zu bytes \"%.40s\" rejected: %s",
	    len, path, why ? why : "(no reason)");
}

/* Expect path (len bytes) to be refused with errno err and a reason. */
static void
expect_bad(const char *path, size_t len, int err)
{
	const char *why = NULL;
	int rc;

	errno = 0;
	rc = cdp_path_check(path, len, &why);
	ck_assert_msg(rc == -1, "path of %zu bytes \"%.40s\" accepted",
	    len, path);
	ck_assert_msg(errno == err, "path \"%.40s\": errno %d (%s), want "
	    "%d (%s)", path, errno, strerror(errno), err, strerror(err));
	ck_assert_msg(why != NULL, "path \"%.40s\": no reason given", path);
	ck_assert_msg(why[0] != '\0', "path \"%.40s\": empty reason", path);
}

static void
expect_ok_str(const char *path)
{
	expect_ok(path, strlen(path));
}

static void
expect_bad_str(const char *path, int err)
{
	expect_bad(path, strlen(path), err);
}

/*
 * A path of exactly len bytes made of components of at most comp bytes
 * ('a'..'z' repeated) joined by '/', never ending in '/'.  Caller frees.
 */
static char *
make_path(size_t len, size_t comp)
{
	char *p;
	size_t i, run;

	p = malloc(len + 1);
	ck_assert_ptr_nonnull(p);
	for (i = 0, run = 0; i < len; i++) {
		/* Never put a '/' first, last, or next to another. */
		if (run == comp && i + 1 < len) {
			p[i] = '/';
			run = 0;
		} else {
			p[i] = 'a' + (char)(i % 26);
			run++;
		}
	}
	p[len] = '\0';
	return p;
}

START_TEST(test_path_valid_simple)
{
	expect_ok_str("a");
	expect_ok_str("a/b");
	expect_ok_str("dir/sub/file.txt");
	expect_ok_str("...");		/* only "." and ".." are special */
	expect_ok_str("a/.hidden/..b/b..");
	expect_ok_str("-x");
}
END_TEST

START_TEST(test_path_valid_spaces_utf8)
{
	expect_ok_str("name with spaces");
	expect_ok_str(" leading and trailing ");
	expect_ok_str("dir with space/file name");
	expect_ok_str("\xc3\xa9t\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
	expect_ok_str("emoji \xf0\x9f\x98\x80/x");
	expect_ok_str("back\\slash:colon*star?");
}
END_TEST

START_TEST(test_path_valid_len_ignores_trailing_bytes)
{
	/* Only len bytes count: what follows them is not looked at. */
	expect_ok("a/b//../", 3);
	expect_ok("abc\0def", 3);
}
END_TEST

START_TEST(test_path_valid_component_255)
{
	char *comp = make_path(CDP_NAME_MAX, CDP_NAME_MAX);
	char buf[2 * CDP_NAME_MAX + 8];

	ck_assert_uint_eq(strlen(comp), 255);
	ck_assert_ptr_null(strchr(comp, '/'));
	expect_ok_str(comp);
	snprintf(buf, sizeof buf, "x/%s/y", comp);
	expect_ok_str(buf);
	free(comp);
}
END_TEST

START_TEST(test_path_valid_path_4095)
{
	char *p = make_path(CDP_PATH_MAX, 200);

	ck_assert_uint_eq(strlen(p), 4095);
	expect_ok(p, CDP_PATH_MAX);
	free(p);
}
END_TEST

START_TEST(test_path_invalid_empty)
{
	expect_bad("", 0, EINVAL);
	expect_bad("abc", 0, EINVAL);	/* len 0 whatever follows */
}
END_TEST

START_TEST(test_path_invalid_slashes)
{
	expect_bad_str("/", EINVAL);
	expect_bad_str("/a", EINVAL);
	expect_bad_str("a/", EINVAL);
	expect_bad_str("a//b", EINVAL);
	expect_bad_str("//", EINVAL);
	expect_bad_str("a/b/", EINVAL);
}
END_TEST

START_TEST(test_path_invalid_dot_components)
{
	expect_bad_str(".", EINVAL);
	expect_bad_str("..", EINVAL);
	expect_bad_str("a/./b", EINVAL);
	expect_bad_str("a/../b", EINVAL);
	expect_bad_str("../a", EINVAL);
	expect_bad_str("./a", EINVAL);
	expect_bad_str("a/.", EINVAL);
	expect_bad_str("a/..", EINVAL);
}
END_TEST

START_TEST(test_path_invalid_nul_inside)
{
	expect_bad("a\0b", 3, EINVAL);
	expect_bad("\0", 1, EINVAL);
	expect_bad("ab\0", 3, EINVAL);
}
END_TEST

START_TEST(test_path_invalid_component_256)
{
	char *comp = make_path(CDP_NAME_MAX + 1, CDP_NAME_MAX + 1);
	char buf[2 * CDP_NAME_MAX + 16];

	ck_assert_uint_eq(strlen(comp), 256);
	/*
	 * The header says ENAMETOOLONG "for length"; a component over
	 * CDP_NAME_MAX is a length problem, as in POSIX.
	 */
	expect_bad_str(comp, ENAMETOOLONG);
	snprintf(buf, sizeof buf, "x/%s/y", comp);
	expect_bad_str(buf, ENAMETOOLONG);
	free(comp);
}
END_TEST

START_TEST(test_path_invalid_path_4096)
{
	char *p = make_path(CDP_PATH_MAX + 1, 200);

	ck_assert_uint_eq(strlen(p), 4096);
	expect_bad(p, CDP_PATH_MAX + 1, ENAMETOOLONG);
	free(p);
}
END_TEST

static Suite *
path_suite(void)
{
	Suite *s = suite_create("path");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_path_valid_simple);
	tcase_add_test(tc, test_path_valid_spaces_utf8);
	tcase_add_test(tc, test_path_valid_len_ignores_trailing_bytes);
	tcase_add_test(tc, test_path_valid_component_255);
	tcase_add_test(tc, test_path_valid_path_4095);
	tcase_add_test(tc, test_path_invalid_empty);
	tcase_add_test(tc, test_path_invalid_slashes);
	tcase_add_test(tc, test_path_invalid_dot_components);
	tcase_add_test(tc, test_path_invalid_nul_inside);
	tcase_add_test(tc, test_path_invalid_component_256);
	tcase_add_test(tc, test_path_invalid_path_4096);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(path_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
