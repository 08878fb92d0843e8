/*
 * check_store.c: unit tests for cdp_store (the store directory) and
 * cdp_spool (cdp-send's spool, built on it).
 */
#include <sys/stat.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cdp_reader.h"
#include "cdp_source.h"
#include "cdp_spool.h"
#include "cdp_store.h"
#include "cdp_uuid.h"
#include "cdp_writer.h"

#define NREC	40

/* Records of one stream, framed: [0] is the STREAM_HDR. */
static struct cdp_record recs[NREC + 2];
static uint8_t *raws[NREC + 2];
static char dir[64];

/* A journal of a STREAM_HDR, NREC WRITEs and a STREAM_END, read back. */
static void
make_records(const uint8_t uuid[16])
{
	char path[80];
	struct cdp_writer *w;
	struct cdp_source *src;
	struct cdp_reader *r;
	struct cdp_record rec;
	static uint8_t data[1000];
	int fd, i;

	snprintf(path, sizeof(path), "%s.journal", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_ne(fd, -1);
	w = cdp_writer_open(fd, -1);
	ck_assert_int_eq(cdp_writer_begin(w, uuid, "test", 1), 0);
	for (i = 0; i < NREC; i++) {
		memset(&rec, 0, sizeof(rec));
		rec.type = CDP_T_WRITE;
		strcpy(rec.path, "f");
		rec.off = (uint64_t)i * sizeof(data);
		memset(data, 'a' + i % 26, sizeof(data));
		rec.data = data;
		rec.data_len = sizeof(data);
		ck_assert_int_eq(cdp_writer_put(w, &rec), 0);
	}
	ck_assert_int_eq(cdp_writer_end(w), 0);
	cdp_writer_close(w);
	close(fd);

	src = cdp_source_open(path);
	ck_assert_ptr_nonnull(src);
	r = cdp_reader_open(src, 0);
	for (i = 0; i < NREC + 2; i++) {
		ck_assert_int_eq(cdp_reader_next(r, &recs[i]), 1);
		free(raws[i]);
		raws[i] = malloc(recs[i].raw_size);
		memcpy(raws[i], recs[i].raw, recs[i].raw_size);
		recs[i].raw = raws[i];
	}
	cdp_reader_close(r);
	cdp_source_close(src);
	unlink(path);
}

static void
setup(void)
{
	static const uint8_t uuid[16] = { 1, 2, 3, 4, 5, 6, 0x40, 8, 0x80 };

	strcpy(dir, "/tmp/check_store.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	strcat(dir, "/s");
	make_records(uuid);
}

static void
teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%.*s'", (int)(strlen(dir) - 2),
	    dir);
	(void)!system(cmd);
}

/* Open, take the stream, append records [from, to), commit. */
static struct cdp_store *
fill(int from, int to)
{
	const char *why;
	struct cdp_store *s = cdp_store_open(dir, CDP_STORE_CREATE, &why);
	int i;

	ck_assert_msg(s != NULL, "open: %s", why);
	ck_assert_int_eq(cdp_store_begin(s, &recs[0]), 0);
	for (i = from; i < to; i++)
		ck_assert_msg(cdp_store_append(s, &recs[i], NULL) == 0,
		    "append %d: %s", i, cdp_store_error(s));
	ck_assert_int_eq(cdp_store_commit(s, 1), 0);
	return s;
}

START_TEST(test_store_reopen)
{
	struct cdp_store *s = fill(1, 11);
	uint8_t uuid[16];
	uint64_t seq;
	int64_t t;

	ck_assert_uint_eq(cdp_store_next_seq(s), 11);
	ck_assert_uint_eq(cdp_store_durable_seq(s), 10);
	ck_assert_int_eq(cdp_store_close(s), 0);

	s = cdp_store_open(dir, 0, NULL);
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(cdp_store_uuid(s, uuid), 1);
	ck_assert_mem_eq(uuid, recs[0].uuid, 16);
	ck_assert_uint_eq(cdp_store_next_seq(s), 11);
	ck_assert_str_eq(cdp_store_notice(s), "");
	ck_assert_int_eq(cdp_store_close(s), 0);

	ck_assert_int_eq(cdp_store_read_state(dir, uuid, &seq, &t), 0);
	ck_assert_uint_eq(seq, 10);
	ck_assert_int_eq(t, recs[10].time_ns);
}
END_TEST

START_TEST(test_store_torn_tail)
{
	char seg[128];
	struct stat st;
	struct cdp_store *s = fill(1, 11);

	cdp_store_close(s);
	snprintf(seg, sizeof(seg), "%s/00000000000000000001.cdpj", dir);
	ck_assert_int_eq(stat(seg, &st), 0);
	ck_assert_int_eq(truncate(seg, st.st_size - 5), 0);

	s = cdp_store_open(dir, 0, NULL);
	ck_assert_ptr_nonnull(s);
	ck_assert_msg(strstr(cdp_store_notice(s), "cut off") != NULL,
	    "notice: %s", cdp_store_notice(s));
	ck_assert_uint_eq(cdp_store_next_seq(s), 10);
	ck_assert_int_eq(stat(seg, &st), 0);
	ck_assert_int_eq(st.st_size, (off_t)(recs[0].raw_size +
	    9 * recs[1].raw_size));
	/* It takes seq 10 again, and goes on. */
	ck_assert_int_eq(cdp_store_begin(s, &recs[0]), 0);
	ck_assert_int_eq(cdp_store_append(s, &recs[10], NULL), 0);
	ck_assert_int_eq(cdp_store_close(s), 0);
}
END_TEST

START_TEST(test_store_lock)
{
	struct cdp_store *s = fill(1, 2), *t;
	const char *why;

	errno = 0;
	t = cdp_store_open(dir, 0, &why);
	ck_assert_ptr_null(t);
	ck_assert_int_eq(errno, EWOULDBLOCK);
	ck_assert_msg(strstr(why, "in use") != NULL, "why: %s", why);
	cdp_store_close(s);
	t = cdp_store_open(dir, 0, &why);
	ck_assert_ptr_nonnull(t);
	cdp_store_close(t);
}
END_TEST

START_TEST(test_store_order)
{
	struct cdp_store *s = fill(1, 5);
	struct cdp_record other = recs[0];

	errno = 0;
	ck_assert_int_eq(cdp_store_append(s, &recs[6], NULL), -1);
	ck_assert_int_eq(errno, EINVAL);
	other.uuid[0] ^= 1;
	errno = 0;
	ck_assert_int_eq(cdp_store_begin(s, &other), -1);
	ck_assert_int_eq(errno, EEXIST);
	/* STREAM_END must name the last seq; a repeated one is dropped. */
	errno = 0;
	ck_assert_int_eq(cdp_store_append(s, &recs[NREC + 1], NULL), -1);
	ck_assert_int_eq(errno, EINVAL);
	cdp_store_close(s);
}
END_TEST

START_TEST(test_store_segments)
{
	const char *why;
	struct cdp_store *s = cdp_store_open(dir, CDP_STORE_CREATE, &why);
	uint64_t *first;
	size_t n;
	int i;

	cdp_store_set_segment_size(s, 4096);
	ck_assert_int_eq(cdp_store_begin(s, &recs[0]), 0);
	for (i = 1; i < NREC + 2; i++)
		ck_assert_int_eq(cdp_store_append(s, &recs[i], NULL), 0);
	ck_assert_int_eq(cdp_store_append(s, &recs[NREC + 1], NULL), 0);
	ck_assert_int_eq(cdp_store_commit(s, 1), 0);
	ck_assert_int_eq(cdp_store_ended(s), 1);
	ck_assert_int_eq(cdp_store_segments(s, &first, &n), 0);
	ck_assert_uint_gt(n, 5);
	ck_assert_uint_eq(first[0], 1);
	free(first);

	ck_assert_int_eq(cdp_store_drop_through(s, 20), 0);
	ck_assert_int_eq(cdp_store_segments(s, &first, &n), 0);
	ck_assert_uint_le(first[0], 21);
	ck_assert_uint_gt(first[0], 1);
	free(first);
	ck_assert_int_eq(cdp_store_drop_through(s, 1000), 0);
	ck_assert_int_eq(cdp_store_segments(s, &first, &n), 0);
	ck_assert_uint_eq(n, 1);	/* never the last */
	free(first);
	cdp_store_close(s);
}
END_TEST

/* Flip one byte of the store's first segment. */
static void
flip(off_t off)
{
	char seg[128];
	uint8_t b;
	int fd;

	snprintf(seg, sizeof(seg), "%s/00000000000000000001.cdpj", dir);
	ck_assert_int_ne(fd = open(seg, O_RDWR), -1);
	ck_assert_int_eq(pread(fd, &b, 1, off), 1);
	b ^= 0x40;
	ck_assert_int_eq(pwrite(fd, &b, 1, off), 1);
	close(fd);
}

START_TEST(test_store_damaged)
{
	off_t offs[2] = { 10, 0 }, before;
	char seg[128];
	struct stat st;
	const char *why;
	int i;

	/* A byte in the STREAM_HDR, then one in the payload of record 5. */
	offs[1] = (off_t)(recs[0].raw_size + 4 * recs[1].raw_size + 100);
	snprintf(seg, sizeof(seg), "%s/00000000000000000001.cdpj", dir);
	for (i = 0; i < 2; i++) {
		cdp_store_close(fill(1, 11));
		ck_assert_int_eq(stat(seg, &st), 0);
		before = st.st_size;
		flip(offs[i]);
		errno = 0;
		ck_assert_ptr_null(cdp_store_open(dir, 0, &why));
		ck_assert_int_eq(errno, EBADMSG);
		ck_assert_msg(strstr(why, "damaged") != NULL &&
		    strstr(why, "00000000000000000001.cdpj") != NULL,
		    "why: %s", why);
		/* Nothing cut off, nothing removed. */
		ck_assert_int_eq(stat(seg, &st), 0);
		ck_assert_int_eq(st.st_size, before);
		flip(offs[i]);
		cdp_store_close(cdp_store_open(dir, 0, NULL));
		ck_assert_int_eq(stat(seg, &st), 0);
		ck_assert_int_eq(st.st_size, before);
		ck_assert_int_eq(unlink(seg), 0);
	}
}
END_TEST

START_TEST(test_store_unnumbered_first)
{
	const char *why;
	struct cdp_store *s = cdp_store_open(dir, CDP_STORE_CREATE, &why);
	uint64_t *first;
	size_t n;

	/* A STREAM_END first, then a stream that starts at seq 5. */
	ck_assert_int_eq(cdp_store_begin(s, &recs[0]), 0);
	ck_assert_int_eq(cdp_store_append(s, &recs[NREC + 1], NULL), 0);
	ck_assert_int_eq(cdp_store_append(s, &recs[5], NULL), 0);
	ck_assert_int_eq(cdp_store_last_put(s), CDP_STORE_PUT_RECORD);
	ck_assert_int_eq(cdp_store_append(s, &recs[6], NULL), 0);
	ck_assert_int_eq(cdp_store_last_put(s), CDP_STORE_PUT_RECORD);
	ck_assert_int_eq(cdp_store_commit(s, 1), 0);
	/* The segment holding seq 5 is named 5, not 1. */
	ck_assert_int_eq(cdp_store_segments(s, &first, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(first[0], 1);
	ck_assert_uint_eq(first[1], 5);
	free(first);
	ck_assert_int_eq(cdp_store_drop_through(s, 5), 0);
	ck_assert_int_eq(cdp_store_segments(s, &first, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(first[0], 5);
	free(first);
	ck_assert_int_eq(cdp_store_close(s), 0);
	s = cdp_store_open(dir, 0, &why);
	ck_assert_msg(s != NULL, "open: %s", why);
	ck_assert_uint_eq(cdp_store_next_seq(s), 7);
	cdp_store_close(s);
}
END_TEST

/*
 * Append, after the stream's STREAM_END, a record numbered seq.  Its raw
 * bytes say seq 1: only what the store reports is looked at, not what a
 * reader would make of the store.  Returns cdp_store_last_put().
 */
static int
append_more(struct cdp_store *s, uint64_t seq)
{
	struct cdp_record more = recs[1];

	more.seq = seq;
	ck_assert_int_eq(cdp_store_append(s, &more, NULL), 0);
	return cdp_store_last_put(s);
}

START_TEST(test_store_last_put)
{
	struct cdp_store *s = fill(1, NREC + 2);

	ck_assert_int_eq(cdp_store_last_put(s), CDP_STORE_PUT_RECORD);
	ck_assert_int_eq(cdp_store_ended(s), 1);
	/* Dropped after STREAM_END: a second STREAM_END. */
	ck_assert_int_eq(cdp_store_append(s, &recs[NREC + 1], NULL), 0);
	ck_assert_int_eq(cdp_store_last_put(s), CDP_STORE_PUT_NOTHING);
	/* A resumed section: the header goes first. */
	ck_assert_int_eq(append_more(s, NREC + 1),
	    CDP_STORE_PUT_HDR | CDP_STORE_PUT_RECORD);
	ck_assert_int_eq(cdp_store_ended(s), 0);
	ck_assert_int_eq(append_more(s, NREC + 2), CDP_STORE_PUT_RECORD);
	cdp_store_close(s);
}
END_TEST

START_TEST(test_store_end_then_new_segment)
{
	const char *why;
	struct cdp_store *s = cdp_store_open(dir, CDP_STORE_CREATE, &why);
	int i;

	cdp_store_set_segment_size(s, 4096);
	ck_assert_int_eq(cdp_store_begin(s, &recs[0]), 0);
	for (i = 1; i < NREC + 2; i++)
		ck_assert_int_eq(cdp_store_append(s, &recs[i], NULL), 0);
	ck_assert_int_eq(cdp_store_ended(s), 1);
	/*
	 * The next record starts a segment, whose header starts a section:
	 * the stream is no longer ended, and no second header follows.
	 */
	ck_assert_int_eq(append_more(s, NREC + 1), CDP_STORE_PUT_RECORD);
	ck_assert_int_eq(cdp_store_ended(s), 0);
	ck_assert_int_eq(append_more(s, NREC + 2), CDP_STORE_PUT_RECORD);
	cdp_store_close(s);
}
END_TEST

START_TEST(test_spool_bounded)
{
	struct cdp_spool_rec info;
	struct cdp_spool *sp;
	const char *why;
	uint64_t pos;
	uint8_t *buf = NULL;
	size_t cap = 0;
	int i;

	sp = cdp_spool_open(dir, 8 * 1024, &why);
	ck_assert_msg(sp != NULL, "open: %s", why);
	ck_assert_int_eq(cdp_spool_begin(sp, &recs[0]), 0);
	for (i = 1; i < NREC + 1; i++)
		if (cdp_spool_put(sp, &recs[i]) == -1)
			break;
	ck_assert_int_lt(i, NREC + 1);
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_gt(i, 2);

	/* What the receiver wants next is found, and reads back as put. */
	ck_assert_int_eq(cdp_spool_find(sp, 2, &pos), 0);
	ck_assert_int_eq(cdp_spool_read(sp, pos, &buf, &cap, &info), 1);
	ck_assert_uint_eq(info.seq, 2);
	ck_assert_mem_eq(buf, recs[2].raw, recs[2].raw_size);

	/* Acknowledged records make room. */
	ck_assert_int_eq(cdp_spool_ack(sp, (uint64_t)i - 1, NULL, NULL), 0);
	ck_assert_int_eq(cdp_spool_put(sp, &recs[i]), 0);
	errno = 0;
	ck_assert_int_eq(cdp_spool_find(sp, 2, &pos), -1);
	ck_assert_int_eq(errno, ERANGE);
	free(buf);
	cdp_spool_close(sp);

	/* Reopened, it still holds the stream and knows what was acked. */
	sp = cdp_spool_open(dir, 8 * 1024, &why);
	ck_assert_ptr_nonnull(sp);
	ck_assert_uint_eq(cdp_spool_next_seq(sp), (uint64_t)i + 1);
	ck_assert_uint_eq(cdp_spool_acked(sp), (uint64_t)i - 1);
	ck_assert_int_eq(cdp_spool_find(sp, (uint64_t)i, &pos), 0);
	ck_assert_int_eq(cdp_spool_read(sp, pos, NULL, NULL, &info), 1);
	ck_assert_uint_eq(info.seq, (uint64_t)i);
	cdp_spool_close(sp);
}
END_TEST

static Suite *
store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_store_reopen);
	tcase_add_test(tc, test_store_torn_tail);
	tcase_add_test(tc, test_store_lock);
	tcase_add_test(tc, test_store_order);
	tcase_add_test(tc, test_store_segments);
	tcase_add_test(tc, test_store_damaged);
	tcase_add_test(tc, test_store_unnumbered_first);
	tcase_add_test(tc, test_store_last_put);
	tcase_add_test(tc, test_store_end_then_new_segment);
	tcase_add_test(tc, test_spool_bounded);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(store_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
