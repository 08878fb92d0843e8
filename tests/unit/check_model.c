/*
 * check_model.c: unit tests for cdp_model (the journal's tree in memory)
 * and cdp_extents (a file's content as its writes).
 *
 * The model must agree with the apply engine: the differential test runs
 * random records through both, and wherever the model does not give up,
 * comparing it with the engine's tree must find no difference; wherever
 * the engine fails, the model must have given up.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "cdp_apply.h"
#include "cdp_extents.h"
#include "cdp_model.h"
#include "cdp_tree.h"

static char dir[256];
static const uint8_t uuid[16] = { 0x0c, 0xd9, 7 };
static uint8_t pattern[1 << 16];

#define NREC	24	/* records per round of the differential test */

static void
setup(void)
{
	size_t i;

	ck_assert_int_eq(cdp_tree_tmpdir("check", dir, sizeof(dir)), 0);
	for (i = 0; i < sizeof(pattern); i++)
		pattern[i] = (uint8_t)(i * 7 + (i >> 8) + 1);
}

static void
teardown(void)
{
	cdp_tree_remove(dir);
}

/* Differences, counted and remembered by kind. */
struct seen {
	int		 n;
	int		 kinds;		/* bit per enum cdp_tree_diff */
	char		 path[256];
};

static void
note(void *ctx, const char *path, enum cdp_tree_diff kind, const char *a,
    const char *b)
{
	struct seen *s = ctx;

	(void)a;
	(void)b;
	s->n++;
	s->kinds |= 1 << kind;
	snprintf(s->path, sizeof(s->path), "%s", path);
}

/* A model whose input is not a file: WRITE data is copied. */
static struct cdp_model *
model(void)
{
	struct cdp_model *m = cdp_model_new(1 << 24);
	int fd = open("/dev/null", O_RDONLY);
	struct cdp_source *src = cdp_source_fd(fd, "null");

	ck_assert_ptr_nonnull(m);
	ck_assert_ptr_nonnull(src);
	ck_assert_int_eq(cdp_model_input(m, src, "/dev/null"), 0);
	cdp_source_close(src);
	close(fd);
	return m;
}

static void
hdr(struct cdp_record *r)
{
	memset(r, 0, sizeof(*r));
	r->type = CDP_T_STREAM_HDR;
	memcpy(r->uuid, uuid, 16);
}

static int
compare(struct cdp_model *m, struct seen *s)
{
	char where[512];

	memset(s, 0, sizeof(*s));
	return cdp_model_compare(m, dir, note, s, where, sizeof(where));
}

START_TEST(test_extents_random)
{
	static uint8_t ref[8192], got[8192];
	unsigned seed = 5;
	int round;

	for (round = 0; round < 300; round++) {
		struct cdp_extents *x = cdp_extents_new();
		struct cdp_extent *v;
		uint64_t size = 0, pos = 0;
		long n, i;
		int op;

		memset(ref, 0, sizeof(ref));
		for (op = 0; op < 1 + round % 40; op++) {
			uint64_t off = (uint64_t)rand_r(&seed) % 4000;
			uint64_t len = 1 + (uint64_t)rand_r(&seed) % 600;
			int what = rand_r(&seed) % 6;

			if (what <= 2) {
				struct cdp_extent e = { off, len,
				    CDP_EXTENT_MEM, 0, pattern + off * 3 };

				ck_assert_int_eq(cdp_extents_write(x, &e), 0);
				memcpy(ref + off, pattern + off * 3, len);
				if (off + len > size)
					size = off + len;
			} else if (what == 3) {
				ck_assert_int_eq(cdp_extents_zero(x, off,
				    off + len), 0);
				if (off < size)
					memset(ref + off, 0, (off + len <
					    size ? off + len : size) - off);
			} else {
				ck_assert_int_eq(cdp_extents_truncate(x,
				    off), 0);
				if (off < size)
					memset(ref + off, 0, size - off);
				size = off;
			}
		}
		ck_assert_uint_eq(cdp_extents_size(x), size);
		n = cdp_extents_resolve(x, &v);
		ck_assert_int_ge(n, 0);
		memset(got, 0xee, sizeof(got));
		for (i = 0; i < n; i++) {
			ck_assert_uint_eq(v[i].off, pos);
			ck_assert_uint_gt(v[i].len, 0);
			if (v[i].input == CDP_EXTENT_ZERO)
				memset(got + pos, 0, v[i].len);
			else {
				ck_assert_int_eq(v[i].input, CDP_EXTENT_MEM);
				memcpy(got + pos, v[i].mem, v[i].len);
			}
			pos += v[i].len;
		}
		ck_assert_uint_eq(pos, size);
		ck_assert_mem_eq(got, ref, size);
		free(v);
		cdp_extents_free(x);
	}
}
END_TEST

START_TEST(test_extents_append_merges)
{
	struct cdp_extents *x = cdp_extents_new();
	struct cdp_extent *v;
	int i;

	for (i = 0; i < 100; i++) {
		struct cdp_extent e = { (uint64_t)i * 10, 10, 0,
		    1000 + (uint64_t)i * 10, NULL };

		ck_assert_int_eq(cdp_extents_write(x, &e), 0);
	}
	ck_assert_int_eq(cdp_extents_resolve(x, &v), 1);
	ck_assert_uint_eq(v[0].at, 1000);
	ck_assert_uint_eq(v[0].len, 1000);
	free(v);
	cdp_extents_free(x);
}
END_TEST

/* One random record on a small namespace; data from pattern. */
static void
random_record(struct cdp_record *r, unsigned *seed, uint64_t seq)
{
	static const char *paths[] = { "a", "b", "c", "d", "d/x", "d/y",
	    "e", "e/z", "d/e", "d/e/w" };
	static const uint32_t fmodes[] = { 0, 1, 3, 0x10, 0x11, 0x40 };
	const char *p = paths[rand_r(seed) % 10];
	const char *q = paths[rand_r(seed) % 10];

	int what = rand_r(seed) % 14;

	/* Content changes mostly to files that are likely to exist. */
	if (what >= 8 && rand_r(seed) % 3 != 0)
		p = rand_r(seed) % 2 ? "a" : "d/x";
	memset(r, 0, sizeof(*r));
	r->seq = seq;
	snprintf(r->path, sizeof(r->path), "%s", p);
	switch (what) {
	case 0:
	case 1:
		r->type = CDP_T_CREATE;
		r->mode = (rand_r(seed) % 5 == 0 ? S_IFIFO : S_IFREG) |
		    (rand_r(seed) % 2 ? 0644 : 0600);
		break;
	case 2:
		r->type = CDP_T_MKDIR;
		r->mode = rand_r(seed) % 2 ? 0755 : 0700;
		break;
	case 3:
		r->type = CDP_T_SYMLINK;
		snprintf(r->path2, sizeof(r->path2), "%s", q);
		break;
	case 4:
		r->type = CDP_T_LINK;
		snprintf(r->path2, sizeof(r->path2), "%s", q);
		break;
	case 5:
		r->type = CDP_T_RENAME;
		r->rflags = rand_r(seed) % 4 == 0 ? CDP_RENAME_EXCHANGE : 0;
		snprintf(r->path2, sizeof(r->path2), "%s", q);
		break;
	case 6:
		r->type = CDP_T_UNLINK;
		break;
	case 7:
		r->type = CDP_T_RMDIR;
		break;
	case 8:
		r->type = CDP_T_SETATTR;
		r->rflags = CDP_ATTR_MODE;
		r->mode = rand_r(seed) % 2 ? 0640 : 0751;
		break;
	case 9:
		r->type = CDP_T_TRUNCATE;
		r->off = (uint64_t)rand_r(seed) % 5000;
		break;
	case 10:
		r->type = CDP_T_FALLOCATE;
		r->mode = fmodes[rand_r(seed) % 6];
		r->off = (uint64_t)rand_r(seed) % 5000;
		r->len = 1 + (uint64_t)rand_r(seed) % 3000;
		break;
	default:
		r->type = CDP_T_WRITE;
		r->off = (uint64_t)rand_r(seed) % 6000;
		r->data_len = 1 + (size_t)rand_r(seed) % 3000;
		r->data = pattern + rand_r(seed) % 30000;
		break;
	}
}

/* Something to work on: d/, e/, a with data, d/x. */
static void
prologue(struct cdp_record *r, uint64_t seq)
{
	memset(r, 0, sizeof(*r));
	r->seq = seq;
	r->type = seq <= 2 ? CDP_T_MKDIR : CDP_T_CREATE;
	r->mode = seq <= 2 ? 0755 : S_IFREG | 0644;
	strcpy(r->path, seq == 1 ? "d" : seq == 2 ? "e" : seq == 3 ? "a" :
	    "d/x");
}

START_TEST(test_model_agrees_with_engine)
{
	unsigned seed = 11;
	int round, records = 0, gave_up = 0;

	for (round = 0; round < 300; round++) {
		struct cdp_record *r = calloc(NREC + 1, sizeof(*r));
		struct cdp_model *m = model();
		struct cdp_apply *a;
		struct seen s;
		size_t i, n;

		/* The model takes records until it gives up ... */
		hdr(&r[0]);
		ck_assert_int_eq(cdp_model_record(m, &r[0]), 0);
		for (n = 1; n <= NREC; n++) {
			if (n <= 4)
				prologue(&r[n], n);
			else
				random_record(&r[n], &seed, n);
			if (cdp_model_record(m, &r[n]) == -1) {
				ck_assert_int_eq(errno, ENOTSUP);
				if (getenv("CHECK_MODEL_DEBUG"))
					fprintf(stderr, "%s\n",
					    cdp_model_why(m));
				gave_up++;
				break;
			}
		}
		/* ... and the engine must apply them all and agree. */
		cdp_tree_remove(dir);
		ck_assert_int_eq(mkdir(dir, 0700), 0);
		a = cdp_apply_open(dir, CDP_APPLY_NOSTATE);
		ck_assert_ptr_nonnull(a);
		for (i = 0; i < n; i++)
			ck_assert_msg(cdp_apply_record(a, &r[i]) != -1,
			    "engine failed where the model did not: %s",
			    cdp_apply_error(a));
		cdp_apply_close(a);
		records += (int)n - 5;
		ck_assert_msg(compare(m, &s) == 0, "round %d: %d "
		    "difference(s), last %s", round, s.n, s.path);
		cdp_model_free(m);
		free(r);
	}
	/* Random records must really have been modelled, and refused. */
	ck_assert_int_gt(records, 400);
	ck_assert_int_gt(gave_up, 40);
}
END_TEST

static void
feed(struct cdp_model *m, struct cdp_apply *a, struct cdp_record *r)
{
	ck_assert_int_ge(cdp_model_record(m, r), 0);
	ck_assert_int_ge(cdp_apply_record(a, r), 0);
}

START_TEST(test_model_finds_each_difference)
{
	struct cdp_record *r = calloc(1, sizeof(*r));
	struct cdp_model *m = model();
	struct cdp_apply *a = cdp_apply_open(dir, CDP_APPLY_NOSTATE);
	char p[1100];
	struct seen s;
	int fd;

	hdr(r);
	feed(m, a, r);
	memset(r, 0, sizeof(*r));
	r->seq = 1;
	r->type = CDP_T_CREATE;
	r->mode = S_IFREG | 0644;
	strcpy(r->path, "f");
	feed(m, a, r);
	r->seq = 2;
	r->type = CDP_T_WRITE;
	r->off = 100;
	r->data = pattern;
	r->data_len = 5000;
	feed(m, a, r);
	r->seq = 3;
	r->type = CDP_T_LINK;
	strcpy(r->path2, "g");
	feed(m, a, r);
	cdp_apply_close(a);
	ck_assert_int_eq(compare(m, &s), 0);

	/* Content: one byte in the hole. */
	snprintf(p, sizeof(p), "%s/f", dir);
	fd = open(p, O_WRONLY);
	ck_assert_int_eq(pwrite(fd, "x", 1, 50), 1);
	ck_assert_int_eq(compare(m, &s), 1);
	ck_assert_int_eq(s.kinds, 1 << CDP_TREE_CONTENT);
	ck_assert_int_eq(pwrite(fd, "\0", 1, 50), 1);
	ck_assert_int_eq(compare(m, &s), 0);
	/* Size. */
	ck_assert_int_eq(ftruncate(fd, 5101), 0);
	ck_assert_int_eq(compare(m, &s), 1);
	ck_assert_int_eq(s.kinds, 1 << CDP_TREE_SIZE);
	ck_assert_int_eq(ftruncate(fd, 5100), 0);
	close(fd);
	/* Hard links: g becomes a copy. */
	snprintf(p, sizeof(p), "cp %s/f %s/g.new && mv %s/g.new %s/g", dir,
	    dir, dir, dir);
	ck_assert_int_eq(system(p), 0);
	ck_assert_int_eq(compare(m, &s), 1);
	ck_assert_int_eq(s.kinds, 1 << CDP_TREE_LINK);
	ck_assert_str_eq(s.path, "g");
	cdp_model_free(m);
	free(r);
}
END_TEST

START_TEST(test_model_gives_up)
{
	static const struct {
		uint16_t type;
		uint32_t mode;
		const char *path, *path2;
	} cases[] = {
		{ CDP_T_FALLOCATE, 0x08, "f", "" },	/* COLLAPSE_RANGE */
		{ CDP_T_FALLOCATE, 0x20, "f", "" },	/* INSERT_RANGE */
		{ CDP_T_CREATE, S_IFREG | 04755, "s", "" },
		{ CDP_T_RENAME, 0, "d", "e" },		/* e not empty */
		{ CDP_T_RENAME, 0, "d", "d/x" },	/* into itself */
		{ CDP_T_WRITE, 0, "d", "" },		/* not a file */
		{ CDP_T_UNLINK, 0, "d", "" },		/* a directory */
		{ CDP_T_MKDIR, 0755, "f/x", "" },	/* parent a file */
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cdp_record *r = calloc(1, sizeof(*r));
		struct cdp_model *m = model();

		hdr(r);
		ck_assert_int_eq(cdp_model_record(m, r), 0);
		memset(r, 0, sizeof(*r));
		r->seq = 1;
		r->type = CDP_T_CREATE;
		r->mode = S_IFREG | 0644;
		strcpy(r->path, "f");
		ck_assert_int_eq(cdp_model_record(m, r), 1);
		r->seq = 2;
		r->type = CDP_T_WRITE;
		r->data = pattern;
		r->data_len = 10;
		ck_assert_int_eq(cdp_model_record(m, r), 1);
		r->seq = 3;
		r->type = CDP_T_MKDIR;
		r->mode = 0755;
		strcpy(r->path, "d");
		ck_assert_int_eq(cdp_model_record(m, r), 1);
		r->seq = 4;
		strcpy(r->path, "e");
		ck_assert_int_eq(cdp_model_record(m, r), 1);
		r->seq = 5;
		strcpy(r->path, "e/y");
		ck_assert_int_eq(cdp_model_record(m, r), 1);

		memset(r, 0, sizeof(*r));
		r->seq = 6;
		r->type = cases[i].type;
		r->mode = cases[i].mode;
		r->off = 0;
		r->len = 4;
		r->data = pattern;
		r->data_len = 4;
		strcpy(r->path, cases[i].path);
		strcpy(r->path2, cases[i].path2);
		errno = 0;
		ck_assert_msg(cdp_model_record(m, r) == -1, "case %zu", i);
		ck_assert_int_eq(errno, ENOTSUP);
		ck_assert_str_ne(cdp_model_why(m), "");
		cdp_model_free(m);
		free(r);
	}
}
END_TEST

START_TEST(test_model_memory_budget)
{
	struct cdp_record *r = calloc(1, sizeof(*r));
	struct cdp_model *m = cdp_model_new(100);
	int fd = open("/dev/null", O_RDONLY);
	struct cdp_source *src = cdp_source_fd(fd, "null");

	ck_assert_int_eq(cdp_model_input(m, src, "/dev/null"), 0);
	hdr(r);
	cdp_model_record(m, r);
	memset(r, 0, sizeof(*r));
	r->seq = 1;
	r->type = CDP_T_CREATE;
	r->mode = S_IFREG | 0644;
	strcpy(r->path, "f");
	ck_assert_int_eq(cdp_model_record(m, r), 1);
	r->seq = 2;
	r->type = CDP_T_WRITE;
	r->data = pattern;
	r->data_len = 100;
	ck_assert_int_eq(cdp_model_record(m, r), 1);
	r->seq = 3;
	r->data_len = 1;
	ck_assert_int_eq(cdp_model_record(m, r), -1);
	ck_assert_int_eq(errno, ENOTSUP);
	cdp_model_free(m);
	cdp_source_close(src);
	close(fd);
	free(r);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("model");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_extents_random);
	tcase_add_test(tc, test_extents_append_merges);
	tcase_add_test(tc, test_model_agrees_with_engine);
	tcase_add_test(tc, test_model_finds_each_difference);
	tcase_add_test(tc, test_model_gives_up);
	tcase_add_test(tc, test_model_memory_budget);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
