/*
 * check_writer.c: unit tests for cdp_writer (numbering, framing,
 * compression, splitting, forwarding).
 *
 * Journals are written into a memfd and read back with cdp_source_fd() and
 * cdp_reader, which tests the writer against the reader's checks of
 * cdp-journal(5); the bytes are also inspected directly where the format
 * fixes them.
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "cdp_format.h"
#include "cdp_reader.h"
#include "cdp_record.h"
#include "cdp_source.h"
#include "cdp_writer.h"
#include "unit_record.h"

#define TIME0	1764081524000000000LL	/* 2025-11-25T14:38:44Z */

static const uint8_t uuid_a[16] = {
	0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0x46, 0xa7,
	0x88, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf,
};

static const int levels[] = { -1, 0, 1, 9 };
#define NLEVELS	(sizeof levels / sizeof levels[0])

/* ---- helpers ---- */

static int
new_memfd(void)
{
	int fd = memfd_create("journal", MFD_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	return fd;
}

/* The whole content of fd; *n gets its size.  Caller frees. */
static uint8_t *
slurp(int fd, size_t *n)
{
	struct stat st;
	uint8_t *b;
	size_t done = 0;

	ck_assert_int_eq(fstat(fd, &st), 0);
	b = malloc((size_t)st.st_size + 1);
	ck_assert_ptr_nonnull(b);
	while (done < (size_t)st.st_size) {
		ssize_t r = pread(fd, b + done, (size_t)st.st_size - done,
		    (off_t)done);

		ck_assert_int_gt(r, 0);
		done += (size_t)r;
	}
	*n = done;
	return b;
}

static uint64_t
get_le(const uint8_t *p, int bytes)
{
	uint64_t v = 0;
	int i;

	for (i = bytes - 1; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Length of a framed record with a payload of plen bytes. */
static size_t
framed(size_t plen)
{
	return CDP_HDR_LEN + plen + (CDP_ALIGN - plen % CDP_ALIGN) % CDP_ALIGN;
}

struct rd {
	struct cdp_source	*src;
	struct cdp_reader	*r;
	struct cdp_record	 rec;
};

/* A reader over fd from its start. */
static void
rd_open(struct rd *d, int fd, int flags)
{
	ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
	d->src = cdp_source_fd(fd, "journal");
	ck_assert_ptr_nonnull(d->src);
	d->r = cdp_reader_open(d->src, flags);
	ck_assert_ptr_nonnull(d->r);
}

static void
rd_close(struct rd *d)
{
	cdp_reader_close(d->r);
	cdp_source_close(d->src);
}

/* The next record, which must be of type and seq. */
static struct cdp_record *
next(struct rd *d, uint16_t type, uint64_t seq)
{
	int rc = cdp_reader_next(d->r, &d->rec);

	ck_assert_msg(rc == 1, "want %s seq %llu, got %d: %s",
	    cdp_record_type_name(type), (unsigned long long)seq, rc,
	    rc < 0 ? cdp_reader_error(d->r) : "end");
	ck_assert_msg(d->rec.type == type && d->rec.seq == seq,
	    "want %s seq %llu, got 0x%04x seq %llu",
	    cdp_record_type_name(type), (unsigned long long)seq,
	    d->rec.type, (unsigned long long)d->rec.seq);
	return &d->rec;
}

static void
expect_eof(struct rd *d)
{
	int rc = cdp_reader_next(d->r, &d->rec);

	ck_assert_msg(rc == 0, "want end, got %d: %s", rc,
	    rc < 0 ? cdp_reader_error(d->r) : "a record");
}

/* Whether writers set MUST_UNDERSTAND on type (cdp-journal(5) table). */
static int
must_understand(uint16_t t)
{
	switch (t) {
	case CDP_T_STREAM_HDR:
	case CDP_T_ACK:
	case CDP_T_RESUME:
		return 1;
	case CDP_T_FSYNC:
		return 0;
	default:
		return (t & 0xff00) == 0x0100 || (t & 0xff00) == 0x0200;
	}
}

/* Every type a journal carries, after STREAM_HDR and before STREAM_END. */
static const uint16_t journal_types[] = {
	CDP_T_BASELINE_BEGIN, CDP_T_MKDIR, CDP_T_CREATE, CDP_T_WRITE,
	CDP_T_BASELINE_END, CDP_T_HEARTBEAT, CDP_T_MARK, CDP_T_SYMLINK,
	CDP_T_LINK, CDP_T_RENAME, CDP_T_SETATTR, CDP_T_SETXATTR,
	CDP_T_REMOVEXATTR, CDP_T_TRUNCATE, CDP_T_FALLOCATE, CDP_T_FSYNC,
	CDP_T_UNLINK, CDP_T_RMDIR,
};
#define NJTYPES	(sizeof journal_types / sizeof journal_types[0])

/* Deterministic pseudo-random bytes (incompressible). */
static void
fill_random(uint8_t *p, size_t n, uint32_t seed)
{
	size_t i;

	for (i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (uint8_t)(seed >> 16);
	}
}

static uint8_t small_data[] = "hello\0world\n";

/* A representative record of type t, time TIME0 + i. */
static void
make_rec(struct cdp_record *r, uint16_t t, int i)
{
	memset(r, 0, sizeof *r);
	r->type = t;
	r->time_ns = TIME0 + i;
	switch (t) {
	case CDP_T_ACK:
	case CDP_T_RESUME:
		memcpy(r->uuid, uuid_a, 16);
		r->u64 = 77;
		break;
	case CDP_T_MARK:
		strcpy(r->name, "before upgrade");
		break;
	case CDP_T_CREATE:
		r->mode = 0640;
		strcpy(r->path, "d/f");
		break;
	case CDP_T_MKDIR:
		r->mode = 0755;
		strcpy(r->path, "d");
		break;
	case CDP_T_SYMLINK:
		strcpy(r->path, "d/link");
		strcpy(r->path2, "../elsewhere/x");
		break;
	case CDP_T_LINK:
		strcpy(r->path, "d/f");
		strcpy(r->path2, "d/hard");
		break;
	case CDP_T_RENAME:
		r->rflags = CDP_RENAME_NOREPLACE;
		strcpy(r->path, "d/hard");
		strcpy(r->path2, "d/moved");
		break;
	case CDP_T_UNLINK:
		strcpy(r->path, "d/moved");
		break;
	case CDP_T_RMDIR:
		strcpy(r->path, "e");
		break;
	case CDP_T_SETATTR:
		r->rflags = CDP_ATTR_ALL;
		r->mode = 0600;
		r->uid = 1000;
		r->gid = 1000;
		r->atime_ns = TIME0 - 5;
		r->mtime_ns = TIME0 - 7;
		strcpy(r->path, "d/f");
		break;
	case CDP_T_SETXATTR:
		strcpy(r->path, "d/f");
		strcpy(r->name, "user.note");
		r->data = small_data;
		r->data_len = sizeof small_data;
		break;
	case CDP_T_REMOVEXATTR:
		strcpy(r->path, "");
		strcpy(r->name, "user.note");
		break;
	case CDP_T_WRITE:
		strcpy(r->path, "d/f");
		r->off = 3;
		r->data = small_data;
		r->data_len = sizeof small_data;
		break;
	case CDP_T_TRUNCATE:
		strcpy(r->path, "d/f");
		r->off = 1;
		break;
	case CDP_T_FALLOCATE:
		strcpy(r->path, "d/f");
		r->mode = 0x03;
		r->off = 0;
		r->len = 4096;
		break;
	case CDP_T_FSYNC:
		r->rflags = CDP_FSYNC_DATASYNC;
		break;
	}
}

/* ---- framing ---- */

START_TEST(test_writer_frame_layout)
{
	uint8_t h[CDP_HDR_LEN];

	memset(h, 0xee, sizeof h);
	cdp_writer_frame(h, CDP_T_WRITE, CDP_F_MUST_UNDERSTAND |
	    CDP_F_COMPRESSED, 0x0102030405060708ULL, -2, 0x11223344,
	    0x55667788, 0x99aabbcc);
	ck_assert_mem_eq(h, "CDPJ", 4);
	ck_assert_uint_eq(get_le(h + 4, 2), CDP_T_WRITE);
	ck_assert_uint_eq(get_le(h + 6, 2), 3);
	ck_assert_uint_eq(get_le(h + 8, 4), CDP_HDR_LEN);
	ck_assert_uint_eq(get_le(h + 12, 4), 0x11223344);
	ck_assert_uint_eq(get_le(h + 16, 8), 0x0102030405060708ULL);
	ck_assert_uint_eq(get_le(h + 24, 8), (uint64_t)-2);
	ck_assert_uint_eq(get_le(h + 32, 4), 0x55667788);
	ck_assert_uint_eq(get_le(h + 36, 4), 0x99aabbcc);
	ck_assert_uint_eq(get_le(h + 40, 4), 0);
	ck_assert_uint_eq(get_le(h + 44, 4), crc32(0, h, 44));
}
END_TEST

/* The example of cdp-journal(5): record 2, MKDIR "d" 0755, seq 1. */
START_TEST(test_writer_frame_man_page_example)
{
	static const uint8_t want[] = {
		0x43, 0x44, 0x50, 0x4a, 0x02, 0x01, 0x01, 0x00,
		0x30, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00,
		0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x40, 0xca, 0xe8, 0xb0, 0xcc, 0x46, 0x7b, 0x18,
		0x07, 0x00, 0x00, 0x00, 0x7a, 0x04, 0x5a, 0x7f,
		0x00, 0x00, 0x00, 0x00, 0xe6, 0xcd, 0x7b, 0xe4,
	};
	static const uint8_t payload[] = {
		0xed, 0x01, 0x00, 0x00, 0x01, 0x00, 0x64,
	};
	uint8_t h[CDP_HDR_LEN];

	ck_assert_uint_eq(crc32(0, payload, sizeof payload), 0x7f5a047a);
	cdp_writer_frame(h, CDP_T_MKDIR, CDP_F_MUST_UNDERSTAND, 1,
	    1764081524001000000LL, sizeof payload, sizeof payload,
	    0x7f5a047a);
	ck_assert_mem_eq(h, want, sizeof want);
}
END_TEST

/* ---- round trips ---- */

START_TEST(test_writer_roundtrip_every_type)
{
	struct cdp_record want[NJTYPES];
	struct cdp_writer *w;
	struct rd d;
	struct cdp_record *r;
	size_t i, l;
	uint64_t seq;
	int fd;

	for (l = 0; l < NLEVELS; l++) {
		fd = new_memfd();
		w = cdp_writer_open(fd, levels[l]);
		ck_assert_ptr_nonnull(w);
		ck_assert_int_eq(cdp_writer_begin(w, uuid_a, "host:/src", 1),
		    0);
		for (i = 0; i < NJTYPES; i++) {
			make_rec(&want[i], journal_types[i], (int)i);
			ck_assert_msg(cdp_writer_put(w, &want[i]) == 0,
			    "put %s: %s", cdp_record_type_name(
			    journal_types[i]), strerror(errno));
		}
		ck_assert_int_eq(cdp_writer_end(w), 0);
		cdp_writer_close(w);

		rd_open(&d, fd, 0);
		r = next(&d, CDP_T_STREAM_HDR, 0);
		ck_assert_uint_eq(r->version, CDP_VERSION);
		ck_assert_uint_eq(r->features, 0);
		ck_assert_mem_eq(r->uuid, uuid_a, 16);
		ck_assert_str_eq(r->path2, "host:/src");
		ck_assert_uint_eq(r->flags & CDP_F_MUST_UNDERSTAND,
		    CDP_F_MUST_UNDERSTAND);
		for (i = 0, seq = 0; i < NJTYPES; i++) {
			uint16_t t = journal_types[i];
			int numbered = cdp_record_type_numbered(t);

			r = next(&d, t, numbered ? ++seq : 0);
			rec_compare(&want[i], r);
			ck_assert_int_eq(r->time_ns, want[i].time_ns);
			ck_assert_msg(!!(r->flags & CDP_F_MUST_UNDERSTAND) ==
			    must_understand(t), "%s: flags 0x%x",
			    cdp_record_type_name(t), r->flags);
			ck_assert_uint_eq(r->flags & ~CDP_F_KNOWN, 0);
			if (levels[l] <= 0)
				ck_assert_uint_eq(r->flags & CDP_F_COMPRESSED,
				    0);
		}
		r = next(&d, CDP_T_STREAM_END, 0);
		ck_assert_uint_eq(r->u64, seq);
		ck_assert_uint_eq(r->flags & CDP_F_MUST_UNDERSTAND, 0);
		expect_eof(&d);
		rd_close(&d);
		close(fd);
	}
}
END_TEST

START_TEST(test_writer_roundtrip_return_channel)
{
	struct cdp_record ack, resume;
	struct cdp_writer *w;
	struct rd d;
	int fd = new_memfd();

	/* ACK and RESUME go on the return channel, without STREAM_HDR. */
	make_rec(&resume, CDP_T_RESUME, 0);
	resume.u64 = 1;
	make_rec(&ack, CDP_T_ACK, 1);
	ack.u64 = UINT64_MAX;
	w = cdp_writer_open(fd, -1);
	ck_assert_ptr_nonnull(w);
	ck_assert_int_eq(cdp_writer_put(w, &resume), 0);
	ck_assert_int_eq(cdp_writer_put(w, &ack), 0);
	ck_assert_uint_eq(cdp_writer_next_seq(w), 1);
	ck_assert_int_eq(cdp_writer_flush(w), 0);
	cdp_writer_close(w);

	rd_open(&d, fd, CDP_READER_RETURN);
	rec_compare(&resume, next(&d, CDP_T_RESUME, 0));
	ck_assert_uint_eq(d.rec.flags, CDP_F_MUST_UNDERSTAND);
	rec_compare(&ack, next(&d, CDP_T_ACK, 0));
	ck_assert_uint_eq(d.rec.flags, CDP_F_MUST_UNDERSTAND);
	expect_eof(&d);
	rd_close(&d);
	close(fd);
}
END_TEST

/* ---- numbering and time ---- */

START_TEST(test_writer_seq_numbering)
{
	struct cdp_writer *w;
	struct cdp_record rec;
	struct rd d;
	int fd = new_memfd(), i;

	w = cdp_writer_open(fd, -1);
	ck_assert_ptr_nonnull(w);
	ck_assert_int_eq(cdp_writer_begin(w, uuid_a, "", 1), 0);
	ck_assert_uint_eq(cdp_writer_next_seq(w), 1);
	for (i = 0; i < 10; i++) {
		/* rec->seq is ignored: the writer numbers. */
		make_rec(&rec, i % 3 == 2 ? CDP_T_HEARTBEAT : CDP_T_UNLINK,
		    i);
		rec.seq = 999;
		ck_assert_int_eq(cdp_writer_put(w, &rec), 0);
	}
	ck_assert_uint_eq(cdp_writer_next_seq(w), 8);
	ck_assert_int_eq(cdp_writer_end(w), 0);
	ck_assert_uint_eq(cdp_writer_next_seq(w), 8);
	cdp_writer_close(w);

	rd_open(&d, fd, 0);
	next(&d, CDP_T_STREAM_HDR, 0);
	ck_assert_str_eq(d.rec.path2, "");
	next(&d, CDP_T_UNLINK, 1);
	next(&d, CDP_T_UNLINK, 2);
	next(&d, CDP_T_HEARTBEAT, 0);
	next(&d, CDP_T_UNLINK, 3);
	next(&d, CDP_T_UNLINK, 4);
	next(&d, CDP_T_HEARTBEAT, 0);
	next(&d, CDP_T_UNLINK, 5);
	next(&d, CDP_T_UNLINK, 6);
	next(&d, CDP_T_HEARTBEAT, 0);
	next(&d, CDP_T_UNLINK, 7);
	ck_assert_uint_eq(next(&d, CDP_T_STREAM_END, 0)->u64, 7);
	expect_eof(&d);
	rd_close(&d);
	close(fd);
}
END_TEST

START_TEST(test_writer_begin_resumed_1001)
{
	struct cdp_writer *w;
	struct cdp_record rec;
	struct rd d;
	int fd = new_memfd();

	w = cdp_writer_open(fd, 1);
	ck_assert_ptr_nonnull(w);
	ck_assert_int_eq(cdp_writer_begin(w, uuid_a, "host:/src", 1001), 0);
	ck_assert_uint_eq(cdp_writer_next_seq(w), 1001);
	make_rec(&rec, CDP_T_MKDIR, 0);
	ck_assert_int_eq(cdp_writer_put(w, &rec), 0);
	make_rec(&rec, CDP_T_CREATE, 1);
	ck_assert_int_eq(cdp_writer_put(w, &rec), 0);
	ck_assert_uint_eq(cdp_writer_next_seq(w), 1003);
	/* A reconnect: a resumed section of the same stream. */
	ck_assert_int_eq(cdp_writer_begin(w, uuid_a, "host:/src", 1003), 0);
	make_rec(&rec, CDP_T_WRITE, 2);
	ck_assert_int_eq(cdp_writer_put(w, &rec), 0);
	ck_assert_int_eq(cdp_writer_end(w), 0);
	cdp_writer_close(w);

	rd_open(&d, fd, 0);
	next(&d, CDP_T_STREAM_HDR, 0);
	next(&d, CDP_T_MKDIR, 1001);
	next(&d, CDP_T_CREATE, 1002);
	next(&d, CDP_T_STREAM_HDR, 0);
	ck_assert_mem_eq(d.rec.uuid, uuid_a, 16);
	next(&d, CDP_T_WRITE, 1003);
	ck_assert_uint_eq(next(&d, CDP_T_STREAM_END, 0)->u64, 1003);
	expect_eof(&d);
	ck_assert_uint_eq(cdp_reader_last_seq(d.r), 1003);
	rd_close(&d);
	close(fd);
}
END_TEST

START_TEST(test_writer_stream_end_without_records)
{
	struct cdp_writer *w;
	struct rd d;
	int fd = new_memfd();

	/* No numbered record: last_seq 0. */
	w = cdp_writer_open(fd, -1);
	ck_assert_ptr_nonnull(w);
	ck_assert_int_eq(cdp_writer_begin(w, uuid_a, "x", 1), 0);
	ck_assert_int_eq(cdp_writer_end(w), 0);
	cdp_writer_close(w);
	rd_open(&d, fd, 0);
	next(&d, CDP_T_STREAM_HDR, 0);
	ck_assert_uint_eq(next(&d, CDP_T_STREAM_END, 0)->u64, 0);
	expect_eof(&d);
	rd_close(&d);
	close(fd);

	/* Resumed at 1001 with nothing new: the stream's last is 1000. */
	fd = new_memfd();
	w = cdp_writer_open(fd, -1);
	ck_assert_ptr_nonnull(w);
	ck_assert_int_eq(cdp_writer_begin(w, uuid_a, "x", 1001), 0);
	ck_assert_int_eq(cdp_writer_end(w), 0);
	cdp_writer_close(w);
	rd_open(&d, fd, 0);
	next(&d, CDP_T_STREAM_HDR, 0);
	ck_assert_uint_eq(next(&d, CDP_T_STREAM_END, 0)->u64, 1000);
	expect_eof(&d);
	rd_close(&d);
	close(fd);
}
END_TEST

START_TEST(test_writer_time_stamps)
{
	struct cdp_writer *w;
	struct cdp_record rec;
	struct rd d;
	int64_t before, after;
	int fd = new_memfd();

	before = now_ns();
	w = cdp_writer_open(fd, -1);
	ck_assert_ptr_nonnull(w);
	ck_assert_int_eq(cdp_writer_begin(w, uuid_a, "x", 1), 0);
	make_rec(&rec, CDP_T_UNLINK, 0);
	rec.time_ns = 0;			/* now */
	ck_assert_int_eq(cdp_writer_put(w, &rec), 0);
	rec.time_ns = 12345;			/* as given */
	ck_assert_int_eq(cdp_writer_put(w, &rec), 0);
	rec.time_ns = -1000000000LL;		/* before the epoch */
	ck_assert_int_eq(cdp_writer_put(w, &rec), 0);
	ck_assert_int_eq(cdp_writer_end(w), 0);
	cdp_writer_close(w);
	after = now_ns();

	rd_open(&d, fd, 0);
	next(&d, CDP_T_STREAM_HDR, 0);
	ck_assert_int_ge(d.rec.time_ns, before);
	ck_assert_int_le(d.rec.time_ns, after);
	next(&d, CDP_T_UNLINK, 1);
	ck_assert_int_ge(d.rec.time_ns, before);
	ck_assert_int_le(d.rec.time_ns, after);
	ck_assert_int_eq(next(&d, CDP_T_UNLINK, 2)->time_ns, 12345);
	ck_assert_int_eq(next(&d, CDP_T_UNLINK, 3)->time_ns, -1000000000LL);
	next(&d, CDP_T_STREAM_END, 0);
	ck_assert_int_ge(d.rec.time_ns, before);
	ck_assert_int_le(d.rec.time_ns, after);
	expect_eof(&d);
	rd_close(&d);
	close(fd);
}
END_TEST

/* ---- compression ---- */

START_TEST(test_writer_compresses_only_when_smaller)
{
	static const int clevels[] = { 1, 9 };
	uint8_t *text, *noise;
	struct cdp_writer *w;
	struct cdp_record rec;
	struct rd d;
	size_t i, head;
	int fd;

	text = malloc(65536);
	noise = malloc(65536);
	ck_assert_ptr_nonnull(text);
	ck_assert_ptr_nonnull(noise);
	for (i = 0; i < 65536; i++)
		text[i] = (uint8_t)"the quick brown fox jumps over the lazy "
		    "dog\n"[i % 44];
	fill_random(noise, 65536, 1);

	for (i = 0; i < sizeof clevels / sizeof clevels[0]; i++) {
		fd = new_memfd();
		w = cdp_writer_open(fd, clevels[i]);
		ck_assert_ptr_nonnull(w);
		ck_assert_int_eq(cdp_writer_begin(w, uuid_a, "x", 1), 0);
		make_rec(&rec, CDP_T_WRITE, 0);
		rec.data = text;
		rec.data_len = 65536;
		ck_assert_int_eq(cdp_writer_put(w, &rec), 0);
		rec.data = noise;
		ck_assert_int_eq(cdp_writer_put(w, &rec), 0);
		make_rec(&rec, CDP_T_SETXATTR, 0);
		rec.data = text;
		rec.data_len = CDP_XATTR_VALUE_MAX;
		ck_assert_int_eq(cdp_writer_put(w, &rec), 0);
		make_rec(&rec, CDP_T_UNLINK, 0);	/* tiny */
		ck_assert_int_eq(cdp_writer_put(w, &rec), 0);
		ck_assert_int_eq(cdp_writer_end(w), 0);
		cdp_writer_close(w);

		rd_open(&d, fd, 0);
		next(&d, CDP_T_STREAM_HDR, 0);
		head = 8 + 2 + strlen("d/f");

		next(&d, CDP_T_WRITE, 1);
		ck_assert_uint_eq(d.rec.flags & CDP_F_COMPRESSED,
		    CDP_F_COMPRESSED);
		ck_assert_uint_eq(d.rec.raw_len, head + 65536);
		ck_assert_uint_lt(d.rec.stored_len, d.rec.raw_len / 4);
		ck_assert_uint_eq(d.rec.raw_size, framed(d.rec.stored_len));
		ck_assert_uint_eq(d.rec.data_len, 65536);
		ck_assert_int_eq(memcmp(d.rec.data, text, 65536), 0);

		next(&d, CDP_T_WRITE, 2);
		ck_assert_uint_eq(d.rec.flags & CDP_F_COMPRESSED, 0);
		ck_assert_uint_eq(d.rec.stored_len, head + 65536);
		ck_assert_uint_eq(d.rec.raw_len, head + 65536);
		ck_assert_uint_eq(d.rec.data_len, 65536);
		ck_assert_int_eq(memcmp(d.rec.data, noise, 65536), 0);

		next(&d, CDP_T_SETXATTR, 3);
		ck_assert_uint_eq(d.rec.flags & CDP_F_COMPRESSED,
		    CDP_F_COMPRESSED);
		ck_assert_uint_eq(d.rec.data_len, CDP_XATTR_VALUE_MAX);
		ck_assert_int_eq(memcmp(d.rec.data, text,
		    CDP_XATTR_VALUE_MAX), 0);

		next(&d, CDP_T_UNLINK, 4);
		ck_assert_uint_eq(d.rec.flags & CDP_F_COMPRESSED, 0);
		ck_assert_uint_eq(d.rec.stored_len, d.rec.raw_len);
		next(&d, CDP_T_STREAM_END, 0);
		expect_eof(&d);
		rd_close(&d);
		close(fd);
	}
	free(text);
	free(noise);
}
END_TEST

START_TEST(test_writer_no_compression_levels)
{
	static const int plain[] = { -1, 0 };
	uint8_t *zeros = calloc(1, 65536);
	struct cdp_writer *w;
	struct cdp_record rec;
	struct rd d;
	size_t i;
	int fd;

	ck_assert_ptr_nonnull(zeros);
	for (i = 0; i < sizeof plain / sizeof plain[0]; i++) {
		fd = new_memfd();
		w = cdp_writer_open(fd, plain[i]);
		ck_assert_ptr_nonnull(w);
		ck_assert_int_eq(cdp_writer_begin(w, uuid_a, "x", 1), 0);
		make_rec(&rec, CDP_T_WRITE, 0);
		rec.data = zeros;
		rec.data_len = 65536;
		ck_assert_int_eq(cdp_writer_put(w, &rec), 0);
		ck_assert_int_eq(cdp_writer_end(w), 0);
		cdp_writer_close(w);
		rd_open(&d, fd, 0);
		next(&d, CDP_T_STREAM_HDR, 0);
		next(&d, CDP_T_WRITE, 1);
		ck_assert_uint_eq(d.rec.flags & CDP_F_COMPRESSED, 0);
		ck_assert_uint_eq(d.rec.stored_len, d.rec.raw_len);
		ck_assert_uint_eq(d.rec.data_len, 65536);
		rd_close(&d);
		close(fd);
	}
	free(zeros);
}
END_TEST

/* ---- splitting ---- */

/* Write len bytes at off as one put, read back, check the split. */
static void
check_split(size_t len, const char *path, int level, size_t want_records)
{
	uint8_t *data = malloc(len);
	struct cdp_writer *w;
	struct cdp_record rec;
	struct rd d;
	size_t done = 0, nrec = 0;
	uint64_t seq = 1;
	int fd = new_memfd();

	ck_assert_ptr_nonnull(data);
	if (level > 0)
		memset(data, 'z', len);
	else
		fill_random(data, len, (uint32_t)len);
	memset(&rec, 0, sizeof rec);
	rec.type = CDP_T_WRITE;
	strcpy(rec.path, path);
	rec.off = 100;
	rec.data = data;
	rec.data_len = len;
	w = cdp_writer_open(fd, level);
	ck_assert_ptr_nonnull(w);
	ck_assert_int_eq(cdp_writer_begin(w, uuid_a, "x", 1), 0);
	ck_assert_int_eq(cdp_writer_put(w, &rec), 0);
	ck_assert_uint_eq(cdp_writer_next_seq(w), 1 + want_records);
	ck_assert_int_eq(cdp_writer_end(w), 0);
	cdp_writer_close(w);

	rd_open(&d, fd, 0);
	next(&d, CDP_T_STREAM_HDR, 0);
	while (done < len) {
		next(&d, CDP_T_WRITE, seq++);
		nrec++;
		ck_assert_str_eq(d.rec.path, path);
		ck_assert_uint_eq(d.rec.off, 100 + done);
		ck_assert_uint_gt(d.rec.data_len, 0);
		ck_assert_uint_le(d.rec.data_len, CDP_WRITE_DATA_MAX);
		ck_assert_uint_le(d.rec.data_len, len - done);
		ck_assert_uint_le(d.rec.raw_len, CDP_PAYLOAD_MAX);
		ck_assert_uint_le(d.rec.stored_len, CDP_PAYLOAD_MAX);
		ck_assert_int_eq(memcmp(d.rec.data, data + done,
		    d.rec.data_len), 0);
		done += d.rec.data_len;
	}
	ck_assert_uint_eq(done, len);
	ck_assert_uint_eq(nrec, want_records);
	ck_assert_uint_eq(next(&d, CDP_T_STREAM_END, 0)->u64, nrec);
	expect_eof(&d);
	rd_close(&d);
	close(fd);
	free(data);
}

START_TEST(test_writer_splits_large_write)
{
	check_split(2 * (size_t)CDP_WRITE_DATA_MAX + 1000, "big/file", -1, 3);
}
END_TEST

START_TEST(test_writer_split_boundaries_longest_path)
{
	char path[CDP_PATH_MAX + 1];
	size_t i;

	/* With the longest path a full chunk is exactly CDP_PAYLOAD_MAX. */
	for (i = 0; i < CDP_PATH_MAX; i++)
		path[i] = (i % 100 == 99) ? '/' : 'p';
	path[CDP_PATH_MAX] = '\0';
	check_split(CDP_WRITE_DATA_MAX, path, -1, 1);
	check_split(CDP_WRITE_DATA_MAX + 1, path, -1, 2);
}
END_TEST

START_TEST(test_writer_split_compressed)
{
	check_split(CDP_WRITE_DATA_MAX + 4096, "z", 1, 2);
}
END_TEST

/* ---- accounting ---- */

START_TEST(test_writer_bytes_and_next_seq)
{
	struct cdp_writer *w;
	struct cdp_record rec;
	uint64_t bytes;
	uint8_t *buf;
	size_t n;
	int fd = new_memfd(), i;

	w = cdp_writer_open(fd, -1);
	ck_assert_ptr_nonnull(w);
	ck_assert_uint_eq(cdp_writer_bytes(w), 0);
	ck_assert_int_eq(cdp_writer_begin(w, uuid_a, "host:/src", 1), 0);
	/* STREAM_HDR: 24 fixed bytes + str "host:/src". */
	bytes = framed(24 + 2 + 9);
	ck_assert_uint_eq(cdp_writer_bytes(w), bytes);
	for (i = 0; i < 5; i++) {
		make_rec(&rec, CDP_T_UNLINK, i);	/* "d/moved" */
		ck_assert_int_eq(cdp_writer_put(w, &rec), 0);
		bytes += framed(2 + 7);
		ck_assert_uint_eq(cdp_writer_bytes(w), bytes);
		ck_assert_uint_eq(cdp_writer_next_seq(w), (uint64_t)i + 2);
		make_rec(&rec, CDP_T_HEARTBEAT, i);
		ck_assert_int_eq(cdp_writer_put(w, &rec), 0);
		bytes += framed(0);
		ck_assert_uint_eq(cdp_writer_bytes(w), bytes);
		ck_assert_uint_eq(cdp_writer_next_seq(w), (uint64_t)i + 2);
	}
	ck_assert_int_eq(cdp_writer_end(w), 0);
	bytes += framed(8);
	ck_assert_uint_eq(cdp_writer_bytes(w), bytes);
	cdp_writer_close(w);
	buf = slurp(fd, &n);
	ck_assert_uint_eq(n, bytes);
	free(buf);
	close(fd);
}
END_TEST

START_TEST(test_writer_buffer_overflow_flushes)
{
	struct cdp_writer *w;
	struct cdp_record rec;
	struct rd d;
	uint8_t chunk[3000];
	uint8_t *buf;
	size_t n, i, count = 3 * CDP_WRITER_BUFSIZE / sizeof chunk;
	int fd = new_memfd();

	/* Much more than the buffer holds, in records that don't divide it. */
	fill_random(chunk, sizeof chunk, 3);
	w = cdp_writer_open(fd, -1);
	ck_assert_ptr_nonnull(w);
	ck_assert_int_eq(cdp_writer_begin(w, uuid_a, "x", 1), 0);
	for (i = 0; i < count; i++) {
		make_rec(&rec, CDP_T_WRITE, (int)i);
		rec.off = i * sizeof chunk;
		rec.data = chunk;
		rec.data_len = sizeof chunk - i % 7;
		ck_assert_int_eq(cdp_writer_put(w, &rec), 0);
	}
	ck_assert_int_eq(cdp_writer_end(w), 0);
	buf = slurp(fd, &n);
	ck_assert_uint_eq(n, cdp_writer_bytes(w));
	free(buf);
	cdp_writer_close(w);

	rd_open(&d, fd, 0);
	next(&d, CDP_T_STREAM_HDR, 0);
	for (i = 0; i < count; i++) {
		next(&d, CDP_T_WRITE, i + 1);
		ck_assert_uint_eq(d.rec.off, i * sizeof chunk);
		ck_assert_uint_eq(d.rec.data_len, sizeof chunk - i % 7);
		ck_assert_int_eq(memcmp(d.rec.data, chunk, d.rec.data_len), 0);
	}
	ck_assert_uint_eq(next(&d, CDP_T_STREAM_END, 0)->u64, count);
	expect_eof(&d);
	rd_close(&d);
	close(fd);
}
END_TEST

/* ---- forwarding ---- */

START_TEST(test_writer_put_raw_forwards_identical_bytes)
{
	struct cdp_writer *w, *f;
	struct cdp_record rec;
	struct rd d;
	uint8_t *text, *a, *b;
	size_t na, nb, i;
	int fa = new_memfd(), fb = new_memfd(), rc;

	/* A stream with compressed and plain records, control ones too. */
	text = malloc(65536);
	ck_assert_ptr_nonnull(text);
	for (i = 0; i < 65536; i++)
		text[i] = (uint8_t)"abcabcabd"[i % 9];
	w = cdp_writer_open(fa, 6);
	ck_assert_ptr_nonnull(w);
	ck_assert_int_eq(cdp_writer_begin(w, uuid_a, "host:/src", 1), 0);
	for (i = 0; i < NJTYPES; i++) {
		make_rec(&rec, journal_types[i], (int)i);
		if (rec.type == CDP_T_WRITE) {
			rec.data = text;
			rec.data_len = 65536;
		}
		ck_assert_int_eq(cdp_writer_put(w, &rec), 0);
	}
	ck_assert_int_eq(cdp_writer_end(w), 0);
	cdp_writer_close(w);
	a = slurp(fa, &na);

	/* Read it and forward every record as is. */
	f = cdp_writer_open(fb, 9);
	ck_assert_ptr_nonnull(f);
	rd_open(&d, fa, 0);
	while ((rc = cdp_reader_next(d.r, &d.rec)) == 1)
		ck_assert_int_eq(cdp_writer_put_raw(f, &d.rec), 0);
	ck_assert_msg(rc == 0, "%s", cdp_reader_error(d.r));
	ck_assert_uint_eq(cdp_writer_next_seq(f),
	    cdp_reader_last_seq(d.r) + 1);
	rd_close(&d);
	ck_assert_int_eq(cdp_writer_flush(f), 0);
	ck_assert_uint_eq(cdp_writer_bytes(f), na);
	cdp_writer_close(f);
	b = slurp(fb, &nb);
	ck_assert_uint_eq(nb, na);
	ck_assert_int_eq(memcmp(a, b, na), 0);
	free(a);
	free(b);
	free(text);
	close(fa);
	close(fb);
}
END_TEST

START_TEST(test_writer_put_raw_then_put_continues_numbering)
{
	struct cdp_writer *w, *f;
	struct cdp_record rec;
	struct rd d;
	int fa = new_memfd(), fb = new_memfd(), rc, i;

	w = cdp_writer_open(fa, -1);
	ck_assert_ptr_nonnull(w);
	ck_assert_int_eq(cdp_writer_begin(w, uuid_a, "x", 41), 0);
	for (i = 0; i < 3; i++) {
		make_rec(&rec, CDP_T_UNLINK, i);
		ck_assert_int_eq(cdp_writer_put(w, &rec), 0);
	}
	ck_assert_int_eq(cdp_writer_flush(w), 0);
	cdp_writer_close(w);

	/* Forward 41..43, then add a record of our own: 44. */
	f = cdp_writer_open(fb, -1);
	ck_assert_ptr_nonnull(f);
	rd_open(&d, fa, 0);
	while ((rc = cdp_reader_next(d.r, &d.rec)) == 1)
		ck_assert_int_eq(cdp_writer_put_raw(f, &d.rec), 0);
	ck_assert_int_eq(rc, 0);
	rd_close(&d);
	ck_assert_uint_eq(cdp_writer_next_seq(f), 44);
	make_rec(&rec, CDP_T_RMDIR, 9);
	ck_assert_int_eq(cdp_writer_put(f, &rec), 0);
	ck_assert_int_eq(cdp_writer_end(f), 0);
	cdp_writer_close(f);

	rd_open(&d, fb, 0);
	next(&d, CDP_T_STREAM_HDR, 0);
	next(&d, CDP_T_UNLINK, 41);
	next(&d, CDP_T_UNLINK, 42);
	next(&d, CDP_T_UNLINK, 43);
	next(&d, CDP_T_RMDIR, 44);
	ck_assert_uint_eq(next(&d, CDP_T_STREAM_END, 0)->u64, 44);
	expect_eof(&d);
	rd_close(&d);
	close(fa);
	close(fb);
}
END_TEST

/* ---- errors ---- */

/* put(rec) must fail with EINVAL and write nothing. */
static void
expect_put_einval(struct cdp_writer *w, const struct cdp_record *rec,
    const char *what)
{
	uint64_t bytes = cdp_writer_bytes(w), seq = cdp_writer_next_seq(w);
	int rc;

	errno = 0;
	rc = cdp_writer_put(w, rec);
	ck_assert_msg(rc == -1, "put %s: accepted", what);
	ck_assert_msg(errno == EINVAL, "put %s: errno %d (%s)", what, errno,
	    strerror(errno));
	ck_assert_uint_eq(cdp_writer_bytes(w), bytes);
	ck_assert_uint_eq(cdp_writer_next_seq(w), seq);
}

START_TEST(test_writer_rejects_what_the_format_cannot_carry)
{
	struct cdp_writer *w;
	struct cdp_record rec;
	struct rd d;
	uint8_t *big = calloc(1, CDP_XATTR_VALUE_MAX + 1);
	int fd = new_memfd();

	ck_assert_ptr_nonnull(big);
	w = cdp_writer_open(fd, -1);
	ck_assert_ptr_nonnull(w);
	ck_assert_int_eq(cdp_writer_begin(w, uuid_a, "x", 1), 0);

	make_rec(&rec, CDP_T_UNLINK, 0);
	strcpy(rec.path, "a/../b");
	expect_put_einval(w, &rec, "UNLINK a/../b");
	strcpy(rec.path, "/etc/passwd");
	expect_put_einval(w, &rec, "UNLINK /etc/passwd");
	make_rec(&rec, CDP_T_CREATE, 0);
	strcpy(rec.path, "");
	expect_put_einval(w, &rec, "CREATE of the root");
	make_rec(&rec, CDP_T_MARK, 0);
	strcpy(rec.name, "@123");
	expect_put_einval(w, &rec, "MARK @123");
	strcpy(rec.name, "");
	expect_put_einval(w, &rec, "MARK with no name");
	make_rec(&rec, CDP_T_SETXATTR, 0);
	rec.data = big;
	rec.data_len = CDP_XATTR_VALUE_MAX + 1;
	expect_put_einval(w, &rec, "SETXATTR value 65537 bytes");
	make_rec(&rec, CDP_T_SETATTR, 0);
	rec.rflags = 0x20;
	expect_put_einval(w, &rec, "SETATTR valid 0x20");
	make_rec(&rec, CDP_T_RENAME, 0);
	rec.rflags = CDP_RENAME_NOREPLACE | CDP_RENAME_EXCHANGE;
	expect_put_einval(w, &rec, "RENAME both flags");
	make_rec(&rec, CDP_T_WRITE, 0);
	rec.off = (uint64_t)INT64_MAX;
	expect_put_einval(w, &rec, "WRITE past 2^63-1");
	make_rec(&rec, 0x0999, 0);
	expect_put_einval(w, &rec, "unknown type 0x0999");

	/* What was written is still a good journal. */
	make_rec(&rec, CDP_T_UNLINK, 0);
	ck_assert_int_eq(cdp_writer_put(w, &rec), 0);
	ck_assert_int_eq(cdp_writer_end(w), 0);
	cdp_writer_close(w);
	rd_open(&d, fd, 0);
	next(&d, CDP_T_STREAM_HDR, 0);
	next(&d, CDP_T_UNLINK, 1);
	next(&d, CDP_T_STREAM_END, 0);
	expect_eof(&d);
	rd_close(&d);
	close(fd);
	free(big);
}
END_TEST

START_TEST(test_writer_flush_error_reported)
{
	struct cdp_writer *w;
	struct cdp_record rec;
	int p[2], fd;

	/* A descriptor open for reading only: EBADF at the flush. */
	fd = open("/dev/null", O_RDONLY);
	ck_assert_int_ge(fd, 0);
	w = cdp_writer_open(fd, -1);
	ck_assert_ptr_nonnull(w);
	ck_assert_int_eq(cdp_writer_begin(w, uuid_a, "x", 1), 0);
	errno = 0;
	ck_assert_int_eq(cdp_writer_flush(w), -1);
	ck_assert_int_eq(errno, EBADF);
	cdp_writer_close(w);
	close(fd);

	/* A pipe nobody reads: EPIPE (SIGPIPE is ignored). */
	ck_assert_int_eq(pipe(p), 0);
	close(p[0]);
	w = cdp_writer_open(p[1], -1);
	ck_assert_ptr_nonnull(w);
	ck_assert_int_eq(cdp_writer_begin(w, uuid_a, "x", 1), 0);
	make_rec(&rec, CDP_T_UNLINK, 0);
	ck_assert_int_eq(cdp_writer_put(w, &rec), 0);
	errno = 0;
	ck_assert_int_eq(cdp_writer_end(w), -1);
	ck_assert_int_eq(errno, EPIPE);
	cdp_writer_close(w);
	close(p[1]);
}
END_TEST

static Suite *
writer_suite(void)
{
	Suite *s = suite_create("writer");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_writer_frame_layout);
	tcase_add_test(tc, test_writer_frame_man_page_example);
	tcase_add_test(tc, test_writer_roundtrip_every_type);
	tcase_add_test(tc, test_writer_roundtrip_return_channel);
	tcase_add_test(tc, test_writer_seq_numbering);
	tcase_add_test(tc, test_writer_begin_resumed_1001);
	tcase_add_test(tc, test_writer_stream_end_without_records);
	tcase_add_test(tc, test_writer_time_stamps);
	tcase_add_test(tc, test_writer_compresses_only_when_smaller);
	tcase_add_test(tc, test_writer_no_compression_levels);
	tcase_add_test(tc, test_writer_splits_large_write);
	tcase_add_test(tc, test_writer_split_boundaries_longest_path);
	tcase_add_test(tc, test_writer_split_compressed);
	tcase_add_test(tc, test_writer_bytes_and_next_seq);
	tcase_add_test(tc, test_writer_buffer_overflow_flushes);
	tcase_add_test(tc, test_writer_put_raw_forwards_identical_bytes);
	tcase_add_test(tc, test_writer_put_raw_then_put_continues_numbering);
	tcase_add_test(tc, test_writer_rejects_what_the_format_cannot_carry);
	tcase_add_test(tc, test_writer_flush_error_reported);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(writer_suite());
	int failed;

	signal(SIGPIPE, SIG_IGN);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
