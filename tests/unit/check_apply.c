/*
 * check_apply.c: unit tests for cdp_apply (the apply engine) and
 * cdp_pathmap (the dry run's model).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include "cdp_apply.h"
#include "cdp_falloc.h"
#include "cdp_pathmap.h"
#include "cdp_tree.h"

static char dir[256];
static const uint8_t uuid[16] = { 0x0c, 0xd9, 1 };

static void
setup(void)
{
	ck_assert_int_eq(cdp_tree_tmpdir("check", dir, sizeof(dir)), 0);
}

static void
teardown(void)
{
	cdp_tree_remove(dir);
}

static struct cdp_record *
rec(uint16_t type, uint64_t seq, const char *path, const char *path2)
{
	static struct cdp_record r;

	memset(&r, 0, sizeof(r));
	r.type = type;
	r.seq = seq;
	r.offset = 48 * seq;
	snprintf(r.path, sizeof(r.path), "%s", path);
	snprintf(r.path2, sizeof(r.path2), "%s", path2);
	return &r;
}

static void
hdr(struct cdp_apply *a)
{
	struct cdp_record *r = rec(CDP_T_STREAM_HDR, 0, "", "");

	memcpy(r->uuid, uuid, 16);
	ck_assert_int_eq(cdp_apply_record(a, r), 0);
}

static int
at(const char *name, struct stat *st)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return lstat(p, st);
}

START_TEST(test_apply_open_not_a_directory)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/file", dir);
	close(open(p, O_CREAT | O_WRONLY, 0644));
	errno = 0;
	ck_assert_ptr_null(cdp_apply_open(p, 0));
	ck_assert_int_eq(errno, ENOTDIR);
	errno = 0;
	ck_assert_ptr_null(cdp_apply_open(dir, CDP_APPLY_FRESH));
	ck_assert_int_eq(errno, ENOTEMPTY);
}
END_TEST

START_TEST(test_apply_symlink_never_followed)
{
	struct cdp_apply *a = cdp_apply_open(dir, CDP_APPLY_NOSTATE);
	struct stat st;

	ck_assert_ptr_nonnull(a);
	hdr(a);
	ck_assert_int_eq(cdp_apply_record(a, rec(CDP_T_SYMLINK, 1, "l", "/etc")), 1);
	errno = 0;
	ck_assert_int_eq(cdp_apply_record(a, rec(CDP_T_CREATE, 2, "l/pwn", "")), -1);
	ck_assert_int_eq(errno, ELOOP);
	ck_assert_str_eq(cdp_apply_error(a),
	    "seq 2, offset 96: l/pwn: path goes through a symbolic link");
	errno = 0;
	ck_assert_int_eq(cdp_apply_record(a, rec(CDP_T_WRITE, 3, "l", "")), -1);
	ck_assert_int_eq(errno, ELOOP);
	ck_assert_int_eq(at("l", &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
	ck_assert_int_eq(cdp_apply_close(a), 0);
}
END_TEST

START_TEST(test_apply_idempotent_rules)
{
	struct cdp_apply *a = cdp_apply_open(dir, CDP_APPLY_NOSTATE);
	struct cdp_record *r;
	struct stat st;

	hdr(a);
	/* UNLINK and RMDIR of missing names are not errors. */
	ck_assert_int_eq(cdp_apply_record(a, rec(CDP_T_UNLINK, 1, "x", "")), 0);
	ck_assert_int_eq(cdp_apply_record(a, rec(CDP_T_RMDIR, 2, "a/b", "")), 0);
	r = rec(CDP_T_MKDIR, 3, "d", "");
	r->mode = 0700;
	ck_assert_int_eq(cdp_apply_record(a, r), 1);
	r = rec(CDP_T_MKDIR, 4, "d", "");
	r->mode = 0751;
	ck_assert_int_eq(cdp_apply_record(a, r), 1);
	ck_assert_int_eq(at("d", &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0751);
	/* CREATE replaces a file, never a directory. */
	r = rec(CDP_T_CREATE, 5, "d/f", "");
	r->mode = 04711;
	ck_assert_int_eq(cdp_apply_record(a, r), 1);
	r->seq = 6;
	ck_assert_int_eq(cdp_apply_record(a, r), 1);
	ck_assert_int_eq(at("d/f", &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 04711);
	errno = 0;
	ck_assert_int_eq(cdp_apply_record(a, rec(CDP_T_CREATE, 7, "d", "")), -1);
	ck_assert_int_eq(errno, EISDIR);
	/* A rename done already. */
	ck_assert_int_eq(cdp_apply_record(a, rec(CDP_T_RENAME, 8, "d/f", "d/g")), 1);
	ck_assert_int_eq(cdp_apply_record(a, rec(CDP_T_RENAME, 9, "d/f", "d/g")), 0);
	cdp_apply_close(a);
}
END_TEST

START_TEST(test_apply_state_skips_applied)
{
	struct cdp_apply *a = cdp_apply_open(dir, 0);
	struct cdp_record *r;
	char v[128];
	ssize_t n;

	hdr(a);
	r = rec(CDP_T_CREATE, 1, "f", "");
	r->mode = 0644;
	ck_assert_int_eq(cdp_apply_record(a, r), 1);
	ck_assert_int_eq(cdp_apply_close(a), 0);
	n = getxattr(dir, "user.cdp.applied", v, sizeof(v) - 1);
	if (n == -1 && errno == ENOTSUP)
		return;		/* no state on this filesystem */
	ck_assert_int_gt(n, 0);
	v[n] = '\0';
	ck_assert_str_eq(v, "0cd90100-0000-0000-0000-000000000000 1\n");

	a = cdp_apply_open(dir, 0);
	hdr(a);
	ck_assert_uint_eq(cdp_apply_applied_seq(a, uuid), 1);
	ck_assert_int_eq(cdp_apply_record(a, rec(CDP_T_CREATE, 1, "f", "")), 0);
	ck_assert_uint_eq(cdp_apply_count_already(a), 1);
	/* A gap after the saved state: records are missing. */
	errno = 0;
	ck_assert_int_eq(cdp_apply_record(a, rec(CDP_T_UNLINK, 5, "f", "")), -1);
	ck_assert_int_eq(errno, ERANGE);
	cdp_apply_close(a);
}
END_TEST

START_TEST(test_apply_dryrun_writes_nothing)
{
	struct cdp_apply *a = cdp_apply_open(dir, CDP_APPLY_DRYRUN);
	struct cdp_record *r;
	struct stat st;

	hdr(a);
	r = rec(CDP_T_MKDIR, 1, "d", "");
	ck_assert_int_eq(cdp_apply_record(a, r), 1);
	ck_assert_int_eq(cdp_apply_record(a, rec(CDP_T_CREATE, 2, "d/f", "")), 1);
	ck_assert_int_eq(cdp_apply_record(a, rec(CDP_T_SYMLINK, 3, "s", "d")), 1);
	errno = 0;
	ck_assert_int_eq(cdp_apply_record(a, rec(CDP_T_WRITE, 4, "s/f", "")), -1);
	ck_assert_int_eq(errno, ELOOP);
	ck_assert_int_eq(cdp_apply_record(a, rec(CDP_T_RENAME, 5, "d", "e")), 1);
	ck_assert_int_eq(cdp_apply_record(a, rec(CDP_T_WRITE, 6, "e/f", "")), 1);
	errno = 0;
	ck_assert_int_eq(cdp_apply_record(a, rec(CDP_T_WRITE, 7, "d/f", "")), -1);
	ck_assert_int_eq(errno, ENOENT);
	cdp_apply_close(a);
	ck_assert_int_eq(at("d", &st), -1);
	ck_assert_int_eq(getxattr(dir, "user.cdp.applied", NULL, 0), -1);
}
END_TEST

START_TEST(test_apply_pathmap_move)
{
	struct cdp_pathmap *m = cdp_pathmap_new();

	ck_assert_int_eq(cdp_pathmap_set(m, "a/x", 3, 1), 0);
	ck_assert_int_eq(cdp_pathmap_set(m, "a/y/z", 5, 2), 0);
	ck_assert_int_eq(cdp_pathmap_set(m, "b/w", 3, 3), 0);
	ck_assert_int_eq(cdp_pathmap_move(m, "a", "b", 0), 0);
	ck_assert_int_eq(cdp_pathmap_get(m, "b/x", 3), 1);
	ck_assert_int_eq(cdp_pathmap_get(m, "b/y/z", 5), 2);
	ck_assert_int_eq(cdp_pathmap_get(m, "b/w", 3), -1);
	ck_assert_int_eq(cdp_pathmap_get(m, "a/x", 3), -1);
	ck_assert_int_eq(cdp_pathmap_set(m, "c/q", 3, 4), 0);
	ck_assert_int_eq(cdp_pathmap_move(m, "b", "c", 1), 0);
	ck_assert_int_eq(cdp_pathmap_get(m, "c/x", 3), 1);
	ck_assert_int_eq(cdp_pathmap_get(m, "b/q", 3), 4);
	cdp_pathmap_free(m);
}
END_TEST

/* fd's size is size, and at most blocks 512-byte sectors hold it. */
static void
check_size(int fd, uint32_t mode, off_t size, blkcnt_t blocks)
{
	struct stat st;

	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_msg(st.st_size == size, "mode 0x%x: size %jd", mode,
	    (intmax_t)st.st_size);
	ck_assert_msg(st.st_blocks <= blocks, "mode 0x%x: %jd blocks", mode,
	    (intmax_t)st.st_blocks);
}

/* The content each emulated fallocate mode leaves, on "abcdefgh". */
START_TEST(test_apply_falloc_emulate)
{
	static const struct {
		uint32_t mode;
		off_t off, end;
		const char *want;
		size_t len;
	} t[] = {
		{ 0x00, 6, 10, "abcdefgh\0\0", 10 },
		{ 0x01, 6, 10, "abcdefgh", 8 },
		{ 0x03, 2, 100, "ab\0\0\0\0\0\0", 8 },
		{ 0x10, 6, 9, "abcdef\0\0\0", 9 },
		{ 0x08, 2, 4, "abefgh", 6 },
		{ 0x20, 2, 4, "ab\0\0cdefgh", 10 },
	};
	char p[512], got[32];
	size_t i;
	int fd;

	snprintf(p, sizeof(p), "%s/f", dir);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0644);
		ck_assert_int_eq(write(fd, "abcdefgh", 8), 8);
		ck_assert_int_eq(cdp_falloc_emulate(fd, t[i].mode, t[i].off,
		    t[i].end), 0);
		ck_assert_int_eq(pread(fd, got, sizeof(got), 0),
		    (ssize_t)t[i].len);
		ck_assert_msg(memcmp(got, t[i].want, t[i].len) == 0,
		    "mode 0x%x", t[i].mode);
		close(fd);
	}
	fd = open(p, O_RDWR | O_TRUNC);
	errno = 0;
	ck_assert_int_eq(cdp_falloc_emulate(fd, 0x08, 0, 4), -1);
	ck_assert_int_eq(errno, EINVAL);
	close(fd);
}
END_TEST

/*
 * A hostile journal makes a file huge and sparse for nothing, then
 * collapses or inserts a range the file system cannot move at that
 * alignment: the emulation moves the data, not the holes (it once wrote
 * the whole size out, a disk filled from a journal of 100 bytes).
 */
START_TEST(test_apply_falloc_sparse)
{
	static const struct {
		uint32_t mode;
		off_t off, end, size, xyz;
	} t[] = {
		{ 0x08, 4099, 4100, (2LL << 30) - 1, (1LL << 30) - 1 },
		{ 0x20, 4099, 8196, (2LL << 30) + 4097, (1LL << 30) + 4097 },
	};
	char p[512], got[4];
	size_t i;
	int fd;

	snprintf(p, sizeof(p), "%s/f", dir);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0644);
		ck_assert_int_eq(write(fd, "abc", 3), 3);
		ck_assert_int_eq(pwrite(fd, "xyz", 3, 1LL << 30), 3);
		ck_assert_int_eq(ftruncate(fd, 2LL << 30), 0);
		ck_assert_int_eq(cdp_falloc_emulate(fd, t[i].mode, t[i].off,
		    t[i].end), 0);
		check_size(fd, t[i].mode, t[i].size, 256);
		ck_assert_int_eq(pread(fd, got, 3, 0), 3);
		ck_assert(memcmp(got, "abc", 3) == 0);
		ck_assert_int_eq(pread(fd, got, 4, t[i].xyz - 1), 4);
		ck_assert_msg(memcmp(got, "\0xyz", 4) == 0, "mode 0x%x: "
		    "xyz moved wrong", t[i].mode);
		close(fd);
	}
}
END_TEST

/* A gap is a gap also when no state was loaded; skipped seqs are none. */
START_TEST(test_apply_gap_in_run)
{
	struct cdp_apply *a = cdp_apply_open(dir, CDP_APPLY_NOSTATE);
	struct cdp_record *r;

	hdr(a);
	r = rec(CDP_T_CREATE, 1, "f", "");
	r->mode = 0644;
	ck_assert_int_eq(cdp_apply_record(a, r), 1);
	ck_assert_int_eq(cdp_apply_skip(a, rec(CDP_T_CREATE, 2, "g", "")), 0);
	ck_assert_int_eq(cdp_apply_record(a, rec(CDP_T_WRITE, 3, "f", "")), 1);
	errno = 0;
	ck_assert_int_eq(cdp_apply_record(a, rec(CDP_T_WRITE, 7, "f", "")), -1);
	ck_assert_int_eq(errno, ERANGE);
	ck_assert_str_eq(cdp_apply_error(a),
	    "seq 7, offset 336: records 4 to 6 are missing");
	errno = 0;
	ck_assert_int_eq(cdp_apply_skip(a, rec(CDP_T_WRITE, 9, "f", "")), -1);
	ck_assert_int_eq(errno, ERANGE);
	/* After a failure the next seq follows it: one report. */
	ck_assert_int_eq(cdp_apply_record(a, rec(CDP_T_WRITE, 10, "f", "")), 1);
	ck_assert_uint_eq(cdp_apply_applied_seq(a, uuid), 10);
	cdp_apply_close(a);
}
END_TEST

/* One applier per directory; a dry run takes no lock. */
START_TEST(test_apply_one_applier)
{
	struct cdp_apply *a = cdp_apply_open(dir, 0), *b, *d;
	int fd;

	ck_assert_ptr_nonnull(a);
	errno = 0;
	ck_assert_ptr_null(cdp_apply_open(dir, CDP_APPLY_NOSTATE));
	ck_assert_int_eq(errno, EWOULDBLOCK);
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	ck_assert_int_eq(flock(fd, LOCK_EX | LOCK_NB), -1);
	d = cdp_apply_open(dir, CDP_APPLY_DRYRUN);
	ck_assert_ptr_nonnull(d);
	cdp_apply_close(d);
	cdp_apply_close(a);
	b = cdp_apply_open(dir, 0);
	ck_assert_ptr_nonnull(b);
	cdp_apply_close(b);
	ck_assert_int_eq(flock(fd, LOCK_EX | LOCK_NB), 0);
	close(fd);
}
END_TEST

/*
 * What the engine does for each mode: content only, with no space
 * beyond it, whatever the range.
 */
START_TEST(test_apply_falloc_apply_no_space)
{
	static const struct {
		uint32_t mode;
		off_t off, end, size;
	} t[] = {
		{ 0x00, 0, 64 << 20, 64 << 20 },
		{ 0x01, 0, 64 << 20, 3 },
		{ 0x10, 1, 64 << 20, 64 << 20 },
		{ 0x11, 1, 64 << 20, 3 },
		{ 0x20, 1, (64 << 20) + 1, (64 << 20) + 3 },
		{ 0x40, 0, 64 << 20, 64 << 20 },
		{ 0x41, 0, 64 << 20, 3 },
	};
	char p[512], got[4];
	size_t i;
	int fd;

	snprintf(p, sizeof(p), "%s/f", dir);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0644);
		ck_assert_int_eq(write(fd, "abc", 3), 3);
		ck_assert_int_eq(cdp_falloc_apply(fd, t[i].mode, t[i].off,
		    t[i].end), 0);
		check_size(fd, t[i].mode, t[i].size, 64);
		ck_assert_int_eq(pread(fd, got, 3, 0), 3);
		if (t[i].mode & 0x30)
			ck_assert_msg(memcmp(got, "a\0\0", 3) == 0,
			    "mode 0x%x", t[i].mode);
		else
			ck_assert_msg(memcmp(got, "abc", 3) == 0,
			    "mode 0x%x", t[i].mode);
		close(fd);
	}
}
END_TEST

/* Moves of names with nothing below them, and what they leave alone. */
START_TEST(test_apply_pathmap_move_leaf)
{
	struct cdp_pathmap *m = cdp_pathmap_new();

	ck_assert_int_eq(cdp_pathmap_set(m, "d/f", 3, 1), 0);
	ck_assert_int_eq(cdp_pathmap_set(m, "d/g/h", 5, 2), 0);
	ck_assert_int_eq(cdp_pathmap_move(m, "d/f", "d/x", 0), 0);
	ck_assert_int_eq(cdp_pathmap_get(m, "d/f", 3), 1);	/* by caller */
	ck_assert_int_eq(cdp_pathmap_get(m, "d/g/h", 5), 2);
	/* Below d/g until it moves away; then nothing is below it. */
	ck_assert_int_eq(cdp_pathmap_move(m, "d/g", "e", 0), 0);
	ck_assert_int_eq(cdp_pathmap_get(m, "e/h", 3), 2);
	ck_assert_int_eq(cdp_pathmap_get(m, "d/g/h", 5), -1);
	ck_assert_int_eq(cdp_pathmap_set(m, "d/g", 3, 3), 0);
	ck_assert_int_eq(cdp_pathmap_move(m, "d/g", "e", 0), 0);
	ck_assert_int_eq(cdp_pathmap_get(m, "e/h", 3), -1);
	/* Back again, by exchange with a name that has nothing below. */
	ck_assert_int_eq(cdp_pathmap_set(m, "e/h", 3, 4), 0);
	ck_assert_int_eq(cdp_pathmap_move(m, "q", "e", 1), 0);
	ck_assert_int_eq(cdp_pathmap_get(m, "q/h", 3), 4);
	ck_assert_int_eq(cdp_pathmap_get(m, "e/h", 3), -1);
	cdp_pathmap_free(m);
}
END_TEST

static Suite *
apply_suite(void)
{
	Suite *s = suite_create("apply");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_apply_open_not_a_directory);
	tcase_add_test(tc, test_apply_symlink_never_followed);
	tcase_add_test(tc, test_apply_idempotent_rules);
	tcase_add_test(tc, test_apply_state_skips_applied);
	tcase_add_test(tc, test_apply_dryrun_writes_nothing);
	tcase_add_test(tc, test_apply_pathmap_move);
	tcase_add_test(tc, test_apply_falloc_emulate);
	tcase_add_test(tc, test_apply_falloc_sparse);
	tcase_add_test(tc, test_apply_gap_in_run);
	tcase_add_test(tc, test_apply_one_applier);
	tcase_add_test(tc, test_apply_falloc_apply_no_space);
	tcase_add_test(tc, test_apply_pathmap_move_leaf);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(apply_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
