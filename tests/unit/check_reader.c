/*
 * check_reader.c: unit tests for cdp_reader (validating journal reader).
 *
 * Journals are framed here by hand with cdp_writer_frame() and the payload
 * encoder, so that every kind of damage can be placed exactly; the reader
 * reads them through cdp_source_fd() on a memfd (or a pipe).  Every
 * corruption test checks the error class, the byte offset of the bad record,
 * that the message names that offset, and that the records before it came
 * back intact.
 */
#include <sys/mman.h>
#include <sys/types.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "cdp_format.h"
#include "cdp_reader.h"
#include "cdp_record.h"
#include "cdp_source.h"
#include "cdp_writer.h"

#define TIME0	1764081524000000000LL	/* 2025-11-25T14:38:44Z */
#define T_UNKNOWN	0x0999		/* a type no v1 reader knows */

static const uint8_t uuid_a[16] = {
	0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0x46, 0xa7,
	0x88, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf,
};
static const uint8_t uuid_b[16] = {
	0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0x46, 0xb7,
	0x98, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf,
};

/* ---- building journals by hand ---- */

struct jbuf {
	uint8_t	*b;
	size_t	 n;
	size_t	 cap;
};

static void
jb_init(struct jbuf *j)
{
	memset(j, 0, sizeof *j);
}

static void
jb_free(struct jbuf *j)
{
	free(j->b);
	memset(j, 0, sizeof *j);
}

static void
jb_put(struct jbuf *j, const void *p, size_t n)
{
	if (j->n + n > j->cap) {
		size_t cap = j->cap ? j->cap : 4096;

		while (cap < j->n + n)
			cap *= 2;
		j->b = realloc(j->b, cap);
		ck_assert_ptr_nonnull(j->b);
		j->cap = cap;
	}
	if (n > 0)
		memcpy(j->b + j->n, p, n);
	j->n += n;
}

static void
set_le(uint8_t *p, uint64_t v, int bytes)
{
	int i;

	for (i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
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

/* Recompute the header CRC of the record header at hdr. */
static void
fix_hdr_crc(uint8_t *hdr)
{
	set_le(hdr + 44, crc32(0, hdr, 44), 4);
}

/* Recompute the payload CRC (and header CRC) of a 48-byte-header record. */
static void
fix_payload_crc(uint8_t *hdr)
{
	uint32_t plen = (uint32_t)get_le(hdr + 12, 4);

	set_le(hdr + 36, crc32(0, hdr + CDP_HDR_LEN, plen), 4);
	fix_hdr_crc(hdr);
}

/*
 * Append a record: a header framed by cdp_writer_frame() with the given
 * lengths, the stored payload, zero padding.  Returns its offset.
 */
static uint64_t
jb_frame_raw(struct jbuf *j, uint16_t type, uint16_t flags, uint64_t seq,
    const void *stored, uint32_t stored_len, uint32_t raw_len)
{
	static const uint8_t zero[CDP_ALIGN];
	uint8_t hdr[CDP_HDR_LEN];
	uint64_t off = j->n;

	cdp_writer_frame(hdr, type, flags, seq, TIME0 + (int64_t)seq,
	    stored_len, raw_len,
	    (uint32_t)crc32(0, stored, stored_len));
	jb_put(j, hdr, sizeof hdr);
	jb_put(j, stored, stored_len);
	jb_put(j, zero, (CDP_ALIGN - stored_len % CDP_ALIGN) % CDP_ALIGN);
	return off;
}

static uint64_t
jb_frame(struct jbuf *j, uint16_t type, uint16_t flags, uint64_t seq,
    const void *payload, uint32_t len)
{
	return jb_frame_raw(j, type, flags, seq, payload, len, len);
}

/* Append rec (its payload fields) as a record with flags and seq. */
static uint64_t
jb_rec(struct jbuf *j, const struct cdp_record *rec, uint16_t flags,
    uint64_t seq)
{
	uint8_t *p = malloc(CDP_RECORD_HEAD_MAX + rec->data_len);
	long n;
	uint64_t off;

	ck_assert_ptr_nonnull(p);
	n = cdp_record_encode_head(rec, p, CDP_RECORD_HEAD_MAX);
	ck_assert_int_ge(n, 0);
	if (rec->data_len > 0)
		memcpy(p + n, rec->data, rec->data_len);
	off = jb_frame(j, rec->type, flags, seq, p,
	    (uint32_t)((size_t)n + rec->data_len));
	free(p);
	return off;
}

static uint64_t
jb_hdr(struct jbuf *j, const uint8_t uuid[16])
{
	struct cdp_record r;

	memset(&r, 0, sizeof r);
	r.type = CDP_T_STREAM_HDR;
	r.version = CDP_VERSION;
	memcpy(r.uuid, uuid, 16);
	strcpy(r.path2, "host:/src");
	return jb_rec(j, &r, CDP_F_MUST_UNDERSTAND, 0);
}

static uint64_t
jb_end(struct jbuf *j, uint64_t last_seq)
{
	struct cdp_record r;

	memset(&r, 0, sizeof r);
	r.type = CDP_T_STREAM_END;
	r.u64 = last_seq;
	return jb_rec(j, &r, 0, 0);
}

/* A simple numbered record: UNLINK "f<seq>". */
static uint64_t
jb_unlink(struct jbuf *j, uint64_t seq)
{
	struct cdp_record r;

	memset(&r, 0, sizeof r);
	r.type = CDP_T_UNLINK;
	snprintf(r.path, sizeof r.path, "f%llu", (unsigned long long)seq);
	return jb_rec(j, &r, 0, seq);
}

static uint64_t
jb_write(struct jbuf *j, uint64_t seq, const void *data, size_t len)
{
	struct cdp_record r;

	memset(&r, 0, sizeof r);
	r.type = CDP_T_WRITE;
	strcpy(r.path, "data/file");
	r.off = 4096;
	r.data = data;
	r.data_len = len;
	return jb_rec(j, &r, 0, seq);
}

/* STREAM_HDR (uuid_a) at off[0], then UNLINK 1..n at off[1..n]. */
static void
jb_std(struct jbuf *j, uint64_t *off, int n)
{
	int i;

	off[0] = jb_hdr(j, uuid_a);
	for (i = 1; i <= n; i++)
		off[i] = jb_unlink(j, (uint64_t)i);
}

/* ---- reading ---- */

struct rd {
	int			 fd;
	struct cdp_source	*src;
	struct cdp_reader	*r;
	const struct jbuf	*j;	/* what was fed, to check rec->raw */
	struct cdp_record	 rec;
};

static int
mem_fd(const void *b, size_t n)
{
	int fd = memfd_create("journal", MFD_CLOEXEC);
	const uint8_t *p = b;
	size_t done = 0;

	ck_assert_int_ge(fd, 0);
	while (done < n) {
		ssize_t w = write(fd, p + done, n - done);

		ck_assert_int_gt(w, 0);
		done += (size_t)w;
	}
	ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

/* Read the first len bytes of j. */
static void
rd_open_len(struct rd *d, const struct jbuf *j, size_t len, int flags)
{
	memset(d, 0, sizeof *d);
	d->j = j;
	d->fd = mem_fd(j->b, len);
	d->src = cdp_source_fd(d->fd, "journal");
	ck_assert_ptr_nonnull(d->src);
	d->r = cdp_reader_open(d->src, flags);
	ck_assert_ptr_nonnull(d->r);
}

static void
rd_open(struct rd *d, const struct jbuf *j, int flags)
{
	rd_open_len(d, j, j->n, flags);
}

static void
rd_close(struct rd *d)
{
	cdp_reader_close(d->r);
	cdp_source_close(d->src);
	close(d->fd);
}

static const char *
errname(enum cdp_reader_err e)
{
	static const char *names[] = {
		"NONE", "IO", "TRUNCATED", "MAGIC", "HDR_CRC", "HDR_BAD",
		"TOO_BIG", "PAYLOAD_CRC", "INFLATE", "PAYLOAD", "PADDING",
		"MUST_UNDERSTAND", "SEQ_GAP", "SEQ_REPEAT", "ORDER",
	};

	if ((unsigned)e < sizeof names / sizeof names[0])
		return names[e];
	return "?";
}

/* The next record must be type/seq, stored at off, bytes as fed. */
static void
expect_rec(struct rd *d, uint16_t type, uint64_t seq, uint64_t off)
{
	int rc = cdp_reader_next(d->r, &d->rec);

	ck_assert_msg(rc == 1, "want type 0x%04x seq %llu at %llu, got %d: "
	    "%s (%s)", type, (unsigned long long)seq,
	    (unsigned long long)off, rc,
	    rc < 0 ? cdp_reader_error(d->r) : "end",
	    rc < 0 ? errname(cdp_reader_errcode(d->r)) : "");
	ck_assert_msg(d->rec.type == type && d->rec.seq == seq,
	    "want type 0x%04x seq %llu, got 0x%04x seq %llu", type,
	    (unsigned long long)seq, d->rec.type,
	    (unsigned long long)d->rec.seq);
	ck_assert_uint_eq(d->rec.offset, off);
	ck_assert_uint_le(off + d->rec.raw_size, d->j->n);
	ck_assert_ptr_nonnull(d->rec.raw);
	ck_assert_mem_eq(d->rec.raw, d->j->b + off, d->rec.raw_size);
	ck_assert_int_eq(d->rec.time_ns, TIME0 + (int64_t)seq);
	if (type == CDP_T_UNLINK) {
		char want[32];

		snprintf(want, sizeof want, "f%llu", (unsigned long long)seq);
		ck_assert_str_eq(d->rec.path, want);
	}
}

static void
expect_eof(struct rd *d)
{
	int rc = cdp_reader_next(d->r, &d->rec);

	ck_assert_msg(rc == 0, "want end, got %d (type 0x%04x seq %llu) %s",
	    rc, d->rec.type, (unsigned long long)d->rec.seq,
	    rc < 0 ? cdp_reader_error(d->r) : "");
}

/* The next call must fail with code at off, naming "offset off". */
static void
expect_err(struct rd *d, enum cdp_reader_err code, uint64_t off)
{
	int rc = cdp_reader_next(d->r, &d->rec);
	const char *msg, *p;
	char want[48];
	int found = 0;

	ck_assert_msg(rc == -1, "want %s at %llu, got %d (type 0x%04x seq "
	    "%llu at %llu)", errname(code), (unsigned long long)off, rc,
	    d->rec.type, (unsigned long long)d->rec.seq,
	    (unsigned long long)d->rec.offset);
	msg = cdp_reader_error(d->r);
	ck_assert_ptr_nonnull(msg);
	ck_assert_msg(cdp_reader_errcode(d->r) == code,
	    "want %s, got %s: %s", errname(code),
	    errname(cdp_reader_errcode(d->r)), msg);
	ck_assert_msg(cdp_reader_error_offset(d->r) == off,
	    "%s: want offset %llu, got %llu: %s", errname(code),
	    (unsigned long long)off,
	    (unsigned long long)cdp_reader_error_offset(d->r), msg);
	snprintf(want, sizeof want, "offset %llu", (unsigned long long)off);
	for (p = msg; (p = strstr(p, want)) != NULL; p++) {
		char next = p[strlen(want)];

		if (next < '0' || next > '9') {
			found = 1;
			break;
		}
	}
	ck_assert_msg(found, "message \"%s\" does not say \"%s\"", msg, want);
}

/*
 * After a resync, the next record.  Whether a seq gap is reported for
 * numbered records the resync skipped is left to
 * test_reader_resync_reports_lost_records; here a reported gap is passed with
 * another resync, and only the records that come back are checked.
 */
static void
expect_rec_after_resync(struct rd *d, uint16_t type, uint64_t seq,
    uint64_t off)
{
	int rc, tries;

	for (tries = 0; tries < 3; tries++) {
		rc = cdp_reader_next(d->r, &d->rec);
		if (rc != -1 || cdp_reader_errcode(d->r) != CDP_RE_SEQ_GAP)
			break;
		ck_assert_int_eq(cdp_reader_resync(d->r), 0);
	}
	ck_assert_msg(rc == 1, "after resync: got %d: %s (%s)", rc,
	    rc < 0 ? cdp_reader_error(d->r) : "end",
	    rc < 0 ? errname(cdp_reader_errcode(d->r)) : "");
	ck_assert_uint_eq(d->rec.type, type);
	ck_assert_uint_eq(d->rec.seq, seq);
	ck_assert_uint_eq(d->rec.offset, off);
	ck_assert_mem_eq(d->rec.raw, d->j->b + off, d->rec.raw_size);
}

/* Read a whole journal that has one problem, expecting the first n+1 ok. */
static void
expect_std_then_err(const struct jbuf *j, const uint64_t *off, int n,
    enum cdp_reader_err code, uint64_t at)
{
	struct rd d;
	int i;

	rd_open(&d, j, 0);
	if (n >= 0)		/* n < 0: the problem is the first record */
		expect_rec(&d, CDP_T_STREAM_HDR, 0, off[0]);
	for (i = 1; i <= n; i++)
		expect_rec(&d, CDP_T_UNLINK, (uint64_t)i, off[i]);
	expect_err(&d, code, at);
	/* Sticky: the same again without a resync. */
	expect_err(&d, code, at);
	rd_close(&d);
}

/* Deterministic bytes that never contain "CDPJ". */
static void
fill_random(uint8_t *p, size_t n, uint32_t seed)
{
	size_t i;

	for (i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (uint8_t)(seed >> 16);
		if (p[i] == 'C')
			p[i] = 'c';
	}
}

/* ---- good streams ---- */

START_TEST(test_reader_empty_input)
{
	struct jbuf j;
	struct rd d;

	jb_init(&j);
	rd_open(&d, &j, 0);
	expect_eof(&d);
	expect_eof(&d);
	ck_assert_uint_eq(cdp_reader_offset(d.r), 0);
	rd_close(&d);
	jb_free(&j);
}
END_TEST

START_TEST(test_reader_clean_eof_with_stream_end)
{
	struct jbuf j;
	struct rd d;
	uint64_t off[4], end;

	jb_init(&j);
	jb_std(&j, off, 3);
	end = jb_end(&j, 3);
	rd_open(&d, &j, 0);
	expect_rec(&d, CDP_T_STREAM_HDR, 0, off[0]);
	ck_assert_uint_eq(d.rec.version, CDP_VERSION);
	ck_assert_mem_eq(d.rec.uuid, uuid_a, 16);
	ck_assert_str_eq(d.rec.path2, "host:/src");
	ck_assert_uint_eq(cdp_reader_offset(d.r), off[1]);
	ck_assert_mem_eq(cdp_reader_uuid(d.r), uuid_a, 16);
	expect_rec(&d, CDP_T_UNLINK, 1, off[1]);
	ck_assert_uint_eq(cdp_reader_offset(d.r), off[2]);
	ck_assert_uint_eq(cdp_reader_last_seq(d.r), 1);
	expect_rec(&d, CDP_T_UNLINK, 2, off[2]);
	expect_rec(&d, CDP_T_UNLINK, 3, off[3]);
	ck_assert_uint_eq(cdp_reader_last_seq(d.r), 3);
	expect_rec(&d, CDP_T_STREAM_END, 0, end);
	ck_assert_uint_eq(d.rec.u64, 3);
	ck_assert_uint_eq(cdp_reader_offset(d.r), j.n);
	expect_eof(&d);
	expect_eof(&d);
	rd_close(&d);
	jb_free(&j);
}
END_TEST

START_TEST(test_reader_clean_eof_without_stream_end)
{
	struct jbuf j;
	struct rd d;
	uint64_t off[3];

	jb_init(&j);
	jb_std(&j, off, 2);
	rd_open(&d, &j, 0);
	expect_rec(&d, CDP_T_STREAM_HDR, 0, off[0]);
	expect_rec(&d, CDP_T_UNLINK, 1, off[1]);
	expect_rec(&d, CDP_T_UNLINK, 2, off[2]);
	expect_eof(&d);
	rd_close(&d);
	jb_free(&j);
}
END_TEST

START_TEST(test_reader_control_records_unnumbered)
{
	struct jbuf j;
	struct rd d;
	struct cdp_record r;
	uint64_t off[3], hb, hb2;

	jb_init(&j);
	jb_std(&j, off, 1);
	memset(&r, 0, sizeof r);
	r.type = CDP_T_HEARTBEAT;
	hb = jb_rec(&j, &r, 0, 0);
	hb2 = jb_rec(&j, &r, 0, 0);
	off[2] = jb_unlink(&j, 2);
	rd_open(&d, &j, 0);
	expect_rec(&d, CDP_T_STREAM_HDR, 0, off[0]);
	expect_rec(&d, CDP_T_UNLINK, 1, off[1]);
	expect_rec(&d, CDP_T_HEARTBEAT, 0, hb);
	expect_rec(&d, CDP_T_HEARTBEAT, 0, hb2);
	expect_rec(&d, CDP_T_UNLINK, 2, off[2]);
	expect_eof(&d);
	rd_close(&d);
	jb_free(&j);
}
END_TEST

START_TEST(test_reader_stream_starting_at_1001)
{
	struct jbuf j;
	struct rd d;
	uint64_t h, a, b;

	jb_init(&j);
	h = jb_hdr(&j, uuid_a);
	a = jb_unlink(&j, 1001);
	b = jb_unlink(&j, 1002);
	rd_open(&d, &j, 0);
	expect_rec(&d, CDP_T_STREAM_HDR, 0, h);
	expect_rec(&d, CDP_T_UNLINK, 1001, a);
	expect_rec(&d, CDP_T_UNLINK, 1002, b);
	ck_assert_uint_eq(cdp_reader_last_seq(d.r), 1002);
	expect_eof(&d);
	rd_close(&d);
	jb_free(&j);
}
END_TEST

START_TEST(test_reader_resumed_section)
{
	struct jbuf j;
	struct rd d;
	uint64_t off[3], h2, o3, o4, end;

	jb_init(&j);
	jb_std(&j, off, 2);
	h2 = jb_hdr(&j, uuid_a);	/* the same stream, resumed */
	o3 = jb_unlink(&j, 3);
	o4 = jb_unlink(&j, 4);
	end = jb_end(&j, 4);
	rd_open(&d, &j, 0);
	expect_rec(&d, CDP_T_STREAM_HDR, 0, off[0]);
	expect_rec(&d, CDP_T_UNLINK, 1, off[1]);
	expect_rec(&d, CDP_T_UNLINK, 2, off[2]);
	expect_rec(&d, CDP_T_STREAM_HDR, 0, h2);
	expect_rec(&d, CDP_T_UNLINK, 3, o3);
	expect_rec(&d, CDP_T_UNLINK, 4, o4);
	expect_rec(&d, CDP_T_STREAM_END, 0, end);
	expect_eof(&d);
	rd_close(&d);
	jb_free(&j);
}
END_TEST

START_TEST(test_reader_resumed_section_wrong_continuation)
{
	struct jbuf j;
	struct rd d;
	uint64_t off[3], h2, o5;

	/* Resumed at 5 where 3 was next: a gap. */
	jb_init(&j);
	jb_std(&j, off, 2);
	h2 = jb_hdr(&j, uuid_a);
	o5 = jb_unlink(&j, 5);
	rd_open(&d, &j, 0);
	expect_rec(&d, CDP_T_STREAM_HDR, 0, off[0]);
	expect_rec(&d, CDP_T_UNLINK, 1, off[1]);
	expect_rec(&d, CDP_T_UNLINK, 2, off[2]);
	expect_rec(&d, CDP_T_STREAM_HDR, 0, h2);
	expect_err(&d, CDP_RE_SEQ_GAP, o5);
	rd_close(&d);
	jb_free(&j);

	/* Resumed at 2 where 3 was next: a repeat. */
	jb_init(&j);
	jb_std(&j, off, 2);
	h2 = jb_hdr(&j, uuid_a);
	o5 = jb_unlink(&j, 2);
	rd_open(&d, &j, 0);
	expect_rec(&d, CDP_T_STREAM_HDR, 0, off[0]);
	expect_rec(&d, CDP_T_UNLINK, 1, off[1]);
	expect_rec(&d, CDP_T_UNLINK, 2, off[2]);
	expect_rec(&d, CDP_T_STREAM_HDR, 0, h2);
	expect_err(&d, CDP_RE_SEQ_REPEAT, o5);
	rd_close(&d);
	jb_free(&j);
}
END_TEST

START_TEST(test_reader_two_streams_concatenated)
{
	struct jbuf j;
	struct rd d;
	uint64_t off[3], e1, h2, b1, b2, e2;

	jb_init(&j);
	jb_std(&j, off, 2);
	e1 = jb_end(&j, 2);
	h2 = jb_hdr(&j, uuid_b);
	b1 = jb_unlink(&j, 1);
	b2 = jb_unlink(&j, 2);
	e2 = jb_end(&j, 2);
	rd_open(&d, &j, 0);
	expect_rec(&d, CDP_T_STREAM_HDR, 0, off[0]);
	expect_rec(&d, CDP_T_UNLINK, 1, off[1]);
	expect_rec(&d, CDP_T_UNLINK, 2, off[2]);
	expect_rec(&d, CDP_T_STREAM_END, 0, e1);
	ck_assert_mem_eq(cdp_reader_uuid(d.r), uuid_a, 16);
	expect_rec(&d, CDP_T_STREAM_HDR, 0, h2);
	ck_assert_mem_eq(d.rec.uuid, uuid_b, 16);
	ck_assert_mem_eq(cdp_reader_uuid(d.r), uuid_b, 16);
	expect_rec(&d, CDP_T_UNLINK, 1, b1);
	expect_rec(&d, CDP_T_UNLINK, 2, b2);
	ck_assert_uint_eq(cdp_reader_last_seq(d.r), 2);
	expect_rec(&d, CDP_T_STREAM_END, 0, e2);
	expect_eof(&d);
	rd_close(&d);
	jb_free(&j);
}
END_TEST

START_TEST(test_reader_longer_header_skipped)
{
	static const uint8_t ext[CDP_HDR_LEN_MAX - CDP_HDR_LEN];
	struct jbuf j, k;
	struct rd d;
	uint64_t off[4];
	size_t extra;

	/* hdr_len 56 and CDP_HDR_LEN_MAX: the bytes past 48 are skipped. */
	for (extra = 8; extra <= sizeof ext; extra += sizeof ext - 8) {
		jb_init(&j);
		jb_std(&j, off, 3);
		jb_init(&k);
		jb_put(&k, j.b, off[2] + CDP_HDR_LEN);
		set_le(k.b + off[2] + 8, CDP_HDR_LEN + extra, 4);
		fix_hdr_crc(k.b + off[2]);
		jb_put(&k, ext, extra);
		jb_put(&k, j.b + off[2] + CDP_HDR_LEN,
		    off[3] - off[2] - CDP_HDR_LEN);
		jb_put(&k, j.b + off[3], j.n - off[3]);

		rd_open(&d, &k, 0);
		expect_rec(&d, CDP_T_STREAM_HDR, 0, off[0]);
		expect_rec(&d, CDP_T_UNLINK, 1, off[1]);
		expect_rec(&d, CDP_T_UNLINK, 2, off[2]);
		ck_assert_uint_eq(d.rec.raw_size, off[3] - off[2] + extra);
		expect_rec(&d, CDP_T_UNLINK, 3, off[3] + extra);
		expect_eof(&d);
		rd_close(&d);
		jb_free(&k);
		jb_free(&j);
	}
}
END_TEST

START_TEST(test_reader_compressed_record)
{
	struct jbuf j;
	struct rd d;
	struct cdp_record r;
	uint8_t *raw, *z;
	uLongf zlen;
	uint64_t h, o1;
	long n;
	size_t rawlen;

	memset(&r, 0, sizeof r);
	r.type = CDP_T_WRITE;
	strcpy(r.path, "data/file");
	r.off = 8192;
	raw = malloc(CDP_RECORD_HEAD_MAX + 65536);
	ck_assert_ptr_nonnull(raw);
	n = cdp_record_encode_head(&r, raw, CDP_RECORD_HEAD_MAX);
	ck_assert_int_gt(n, 0);
	memset(raw + n, 'x', 65536);
	rawlen = (size_t)n + 65536;
	zlen = compressBound(rawlen);
	z = malloc(zlen);
	ck_assert_ptr_nonnull(z);
	ck_assert_int_eq(compress2(z, &zlen, raw, rawlen, 6), Z_OK);

	jb_init(&j);
	h = jb_hdr(&j, uuid_a);
	o1 = jb_frame_raw(&j, CDP_T_WRITE, CDP_F_COMPRESSED, 1, z,
	    (uint32_t)zlen, (uint32_t)rawlen);
	rd_open(&d, &j, 0);
	expect_rec(&d, CDP_T_STREAM_HDR, 0, h);
	expect_rec(&d, CDP_T_WRITE, 1, o1);
	ck_assert_uint_eq(d.rec.flags, CDP_F_COMPRESSED);
	ck_assert_uint_eq(d.rec.stored_len, zlen);
	ck_assert_uint_eq(d.rec.raw_len, rawlen);
	ck_assert_uint_eq(d.rec.off, 8192);
	ck_assert_str_eq(d.rec.path, "data/file");
	ck_assert_uint_eq(d.rec.data_len, 65536);
	ck_assert_mem_eq(d.rec.data, raw + n, 65536);
	expect_eof(&d);
	rd_close(&d);
	jb_free(&j);
	free(z);
	free(raw);
}
END_TEST

START_TEST(test_reader_payload_max_accepted)
{
	struct jbuf j;
	struct rd d;
	struct cdp_record r;
	uint8_t *data;
	uint64_t h, o1, i;

	/* The longest path and the most data: exactly CDP_PAYLOAD_MAX. */
	memset(&r, 0, sizeof r);
	r.type = CDP_T_WRITE;
	for (i = 0; i < CDP_PATH_MAX; i++)
		r.path[i] = (i % 200 == 199) ? '/' : 'p';
	data = malloc(CDP_WRITE_DATA_MAX);
	ck_assert_ptr_nonnull(data);
	fill_random(data, CDP_WRITE_DATA_MAX, 7);
	r.data = data;
	r.data_len = CDP_WRITE_DATA_MAX;
	jb_init(&j);
	h = jb_hdr(&j, uuid_a);
	o1 = jb_rec(&j, &r, 0, 1);
	ck_assert_uint_eq(get_le(j.b + o1 + 12, 4), CDP_PAYLOAD_MAX);
	rd_open(&d, &j, 0);
	expect_rec(&d, CDP_T_STREAM_HDR, 0, h);
	expect_rec(&d, CDP_T_WRITE, 1, o1);
	ck_assert_uint_eq(d.rec.stored_len, CDP_PAYLOAD_MAX);
	ck_assert_uint_eq(d.rec.data_len, CDP_WRITE_DATA_MAX);
	ck_assert_int_eq(memcmp(d.rec.data, data, CDP_WRITE_DATA_MAX), 0);
	expect_eof(&d);
	rd_close(&d);
	jb_free(&j);
	free(data);
}
END_TEST

/* ---- unknown types ---- */

START_TEST(test_reader_unknown_type_skipped)
{
	static const uint8_t payload[13] = "future stuff";
	struct jbuf j;
	struct rd d;
	uint64_t off[3], u3, o4, uc;

	jb_init(&j);
	jb_std(&j, off, 2);
	u3 = jb_frame(&j, T_UNKNOWN, 0, 3, payload, sizeof payload);
	uc = jb_frame(&j, 0x0006, 0, 0, payload, sizeof payload);
	o4 = jb_unlink(&j, 4);

	rd_open(&d, &j, 0);
	expect_rec(&d, CDP_T_STREAM_HDR, 0, off[0]);
	expect_rec(&d, CDP_T_UNLINK, 1, off[1]);
	expect_rec(&d, CDP_T_UNLINK, 2, off[2]);
	expect_rec(&d, CDP_T_UNLINK, 4, o4);	/* 3 counted, not a gap */
	expect_eof(&d);
	rd_close(&d);

	rd_open(&d, &j, CDP_READER_KEEP_UNKNOWN);
	expect_rec(&d, CDP_T_STREAM_HDR, 0, off[0]);
	expect_rec(&d, CDP_T_UNLINK, 1, off[1]);
	expect_rec(&d, CDP_T_UNLINK, 2, off[2]);
	expect_rec(&d, T_UNKNOWN, 3, u3);
	ck_assert_uint_eq(d.rec.stored_len, sizeof payload);
	ck_assert_uint_eq(d.rec.raw_size, CDP_HDR_LEN + 16);
	expect_rec(&d, 0x0006, 0, uc);
	expect_rec(&d, CDP_T_UNLINK, 4, o4);
	expect_eof(&d);
	rd_close(&d);
	jb_free(&j);
}
END_TEST

START_TEST(test_reader_unknown_type_seq_checked)
{
	struct jbuf j;
	uint64_t off[3], u;

	/* The reader checks numbering across types it does not know. */
	jb_init(&j);
	jb_std(&j, off, 2);
	u = jb_frame(&j, T_UNKNOWN, 0, 4, "x", 1);
	jb_unlink(&j, 5);
	expect_std_then_err(&j, off, 2, CDP_RE_SEQ_GAP, u);
	jb_free(&j);

	jb_init(&j);
	jb_std(&j, off, 2);
	u = jb_frame(&j, T_UNKNOWN, 0, 2, "x", 1);
	expect_std_then_err(&j, off, 2, CDP_RE_SEQ_REPEAT, u);
	jb_free(&j);
}
END_TEST

START_TEST(test_reader_unknown_type_must_understand)
{
	struct jbuf j;
	uint64_t off[3], u;
	struct rd d;

	jb_init(&j);
	jb_std(&j, off, 2);
	u = jb_frame(&j, T_UNKNOWN, CDP_F_MUST_UNDERSTAND, 3, "abc", 3);
	jb_unlink(&j, 4);
	expect_std_then_err(&j, off, 2, CDP_RE_MUST_UNDERSTAND, u);

	/* KEEP_UNKNOWN does not make it understood. */
	rd_open(&d, &j, CDP_READER_KEEP_UNKNOWN);
	expect_rec(&d, CDP_T_STREAM_HDR, 0, off[0]);
	expect_rec(&d, CDP_T_UNLINK, 1, off[1]);
	expect_rec(&d, CDP_T_UNLINK, 2, off[2]);
	expect_err(&d, CDP_RE_MUST_UNDERSTAND, u);
	rd_close(&d);
	jb_free(&j);
}
END_TEST

START_TEST(test_reader_unknown_flag_bit)
{
	struct jbuf j;
	struct rd d;
	uint64_t off[3], u, o4;

	/* A known type with a flag bit v1 does not know is not understood. */
	jb_init(&j);
	jb_std(&j, off, 2);
	u = jb_unlink(&j, 3);
	set_le(j.b + u + 6, 0x0004, 2);
	fix_hdr_crc(j.b + u);
	o4 = jb_unlink(&j, 4);

	rd_open(&d, &j, 0);
	expect_rec(&d, CDP_T_STREAM_HDR, 0, off[0]);
	expect_rec(&d, CDP_T_UNLINK, 1, off[1]);
	expect_rec(&d, CDP_T_UNLINK, 2, off[2]);
	expect_rec(&d, CDP_T_UNLINK, 4, o4);
	expect_eof(&d);
	rd_close(&d);

	rd_open(&d, &j, CDP_READER_KEEP_UNKNOWN);
	expect_rec(&d, CDP_T_STREAM_HDR, 0, off[0]);
	expect_rec(&d, CDP_T_UNLINK, 1, off[1]);
	expect_rec(&d, CDP_T_UNLINK, 2, off[2]);
	d.rec.flags = 0;
	ck_assert_int_eq(cdp_reader_next(d.r, &d.rec), 1);
	ck_assert_uint_eq(d.rec.type, CDP_T_UNLINK);
	ck_assert_uint_eq(d.rec.seq, 3);
	ck_assert_uint_eq(d.rec.flags, 0x0004);
	ck_assert_uint_eq(d.rec.offset, u);
	expect_rec(&d, CDP_T_UNLINK, 4, o4);
	expect_eof(&d);
	rd_close(&d);

	/* The same with MUST_UNDERSTAND: an error. */
	set_le(j.b + u + 6, 0x0004 | CDP_F_MUST_UNDERSTAND, 2);
	fix_hdr_crc(j.b + u);
	expect_std_then_err(&j, off, 2, CDP_RE_MUST_UNDERSTAND, u);
	jb_free(&j);
}
END_TEST

/* ---- corruption ---- */

START_TEST(test_reader_bad_magic)
{
	struct jbuf j;
	uint64_t off[5];

	jb_init(&j);
	jb_std(&j, off, 4);
	j.b[off[3] + 3] = 'X';		/* "CDPX" */
	fix_hdr_crc(j.b + off[3]);
	expect_std_then_err(&j, off, 2, CDP_RE_MAGIC, off[3]);
	jb_free(&j);

	/* At the very start. */
	jb_init(&j);
	jb_std(&j, off, 1);
	j.b[0] = 'c';		/* "cDPJ" */
	fix_hdr_crc(j.b);
	expect_std_then_err(&j, off, -1, CDP_RE_MAGIC, 0);
	jb_free(&j);
}
END_TEST

START_TEST(test_reader_bad_header_crc)
{
	struct jbuf j;
	uint64_t off[5];

	jb_init(&j);
	jb_std(&j, off, 4);
	j.b[off[3] + 44] ^= 0x01;	/* the CRC itself */
	expect_std_then_err(&j, off, 2, CDP_RE_HDR_CRC, off[3]);
	jb_free(&j);

	jb_init(&j);
	jb_std(&j, off, 4);
	j.b[off[3] + 16] ^= 0x80;	/* a seq bit, CRC not updated */
	expect_std_then_err(&j, off, 2, CDP_RE_HDR_CRC, off[3]);
	jb_free(&j);
}
END_TEST

START_TEST(test_reader_hdr_len_out_of_range)
{
	static const uint32_t bad[] = {
		0, 40, 47, 50, 52, CDP_HDR_LEN_MAX + 8, 0xfffffff8u,
	};
	struct jbuf j;
	uint64_t off[5];
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		jb_init(&j);
		jb_std(&j, off, 4);
		set_le(j.b + off[3] + 8, bad[i], 4);
		fix_hdr_crc(j.b + off[3]);
		expect_std_then_err(&j, off, 2, CDP_RE_HDR_BAD, off[3]);
		jb_free(&j);
	}
}
END_TEST

START_TEST(test_reader_raw_len_mismatch_uncompressed)
{
	struct jbuf j;
	uint64_t off[5];
	uint32_t plen;

	jb_init(&j);
	jb_std(&j, off, 4);
	plen = (uint32_t)get_le(j.b + off[3] + 12, 4);
	set_le(j.b + off[3] + 32, plen + 1, 4);
	fix_hdr_crc(j.b + off[3]);
	expect_std_then_err(&j, off, 2, CDP_RE_HDR_BAD, off[3]);
	jb_free(&j);

	jb_init(&j);
	jb_std(&j, off, 4);
	set_le(j.b + off[3] + 32, plen - 1, 4);
	fix_hdr_crc(j.b + off[3]);
	expect_std_then_err(&j, off, 2, CDP_RE_HDR_BAD, off[3]);
	jb_free(&j);
}
END_TEST

START_TEST(test_reader_oversize_payload_len)
{
	static const uint8_t tail[64];
	uint8_t hdr[CDP_HDR_LEN];
	struct jbuf j;
	uint64_t off[3], at;

	/* A valid header CRC over an absurd length: refused unread. */
	jb_init(&j);
	jb_std(&j, off, 2);
	at = j.n;
	cdp_writer_frame(hdr, CDP_T_WRITE, 0, 3, TIME0 + 3, 0xfffffff0u,
	    0xfffffff0u, 0);
	ck_assert_uint_eq(get_le(hdr + 12, 4), 0xfffffff0u);
	ck_assert_uint_eq(get_le(hdr + 44, 4), crc32(0, hdr, 44));
	jb_put(&j, hdr, sizeof hdr);
	jb_put(&j, tail, sizeof tail);
	expect_std_then_err(&j, off, 2, CDP_RE_TOO_BIG, at);
	jb_free(&j);

	/* One byte over the cap. */
	jb_init(&j);
	jb_std(&j, off, 2);
	at = j.n;
	cdp_writer_frame(hdr, CDP_T_WRITE, 0, 3, TIME0 + 3,
	    CDP_PAYLOAD_MAX + 1, CDP_PAYLOAD_MAX + 1, 0);
	jb_put(&j, hdr, sizeof hdr);
	jb_put(&j, tail, sizeof tail);
	expect_std_then_err(&j, off, 2, CDP_RE_TOO_BIG, at);
	jb_free(&j);

	/* A small stored payload that claims to inflate past the cap. */
	jb_init(&j);
	jb_std(&j, off, 2);
	at = j.n;
	cdp_writer_frame(hdr, CDP_T_WRITE, CDP_F_COMPRESSED, 3, TIME0 + 3,
	    sizeof tail, 0xfffffff0u, (uint32_t)crc32(0, tail, sizeof tail));
	jb_put(&j, hdr, sizeof hdr);
	jb_put(&j, tail, sizeof tail);
	expect_std_then_err(&j, off, 2, CDP_RE_TOO_BIG, at);
	jb_free(&j);

	/* At the cap but cut short: truncated, not too big. */
	jb_init(&j);
	jb_std(&j, off, 2);
	at = j.n;
	cdp_writer_frame(hdr, CDP_T_WRITE, 0, 3, TIME0 + 3, CDP_PAYLOAD_MAX,
	    CDP_PAYLOAD_MAX, 0);
	jb_put(&j, hdr, sizeof hdr);
	jb_put(&j, tail, sizeof tail);
	expect_std_then_err(&j, off, 2, CDP_RE_TRUNCATED, at);
	jb_free(&j);
}
END_TEST

START_TEST(test_reader_bad_payload_crc)
{
	struct jbuf j;
	uint64_t off[5];

	jb_init(&j);
	jb_std(&j, off, 4);
	j.b[off[3] + CDP_HDR_LEN + 2] ^= 0x20;	/* "f3" -> "F3" */
	expect_std_then_err(&j, off, 2, CDP_RE_PAYLOAD_CRC, off[3]);
	jb_free(&j);
}
END_TEST

/*
 * Payload CRCs of every length around where the reader changes method
 * (1024 bytes, then 128 at a time) and of large payloads: each record
 * intact reads back, and one flipped bit anywhere in its payload (first,
 * middle, last byte) is a bad payload CRC.  The CRCs here come from zlib.
 */
START_TEST(test_reader_payload_crc_lengths)
{
	static const size_t big[] = { 4096, 65536 + 7, 300000, 1048576 + 129 };
	uint8_t *data = malloc(big[3]);
	size_t len, i, at;
	uint64_t off[2], w;
	int flip;

	ck_assert_ptr_nonnull(data);
	fill_random(data, big[3], 7);
	for (i = 0; i < 500 + 4; i++) {
		len = i < 500 ? 900 + i : big[i - 500];
		for (flip = -1; flip < 3; flip++) {
			struct jbuf j;
			struct rd d;

			jb_init(&j);
			jb_std(&j, off, 1);
			w = jb_write(&j, 2, data, len);
			/* The payload: the WRITE's head, then the data. */
			at = (size_t)get_le(j.b + w + 12, 4);
			at = flip == 0 ? 0 : flip == 1 ? at / 2 : at - 1;
			if (flip >= 0)
				j.b[w + CDP_HDR_LEN + at] ^=
				    (uint8_t)(1u << (len % 8));
			rd_open(&d, &j, 0);
			expect_rec(&d, CDP_T_STREAM_HDR, 0, off[0]);
			expect_rec(&d, CDP_T_UNLINK, 1, off[1]);
			if (flip >= 0) {
				expect_err(&d, CDP_RE_PAYLOAD_CRC, w);
			} else {
				expect_rec(&d, CDP_T_WRITE, 2, w);
				ck_assert_uint_eq(d.rec.data_len, len);
				ck_assert_mem_eq(d.rec.data, data, len);
				expect_eof(&d);
			}
			rd_close(&d);
			jb_free(&j);
		}
	}
	free(data);
}
END_TEST

START_TEST(test_reader_truncated_anywhere_in_record)
{
	struct jbuf j;
	uint8_t data[18];	/* payload 37 bytes: 3 of padding */
	uint64_t off[3], w, end;
	size_t cut;
	struct rd d;

	/* A record with a payload that needs padding: header, payload, pad. */
	memset(data, 'd', sizeof data);
	jb_init(&j);
	jb_std(&j, off, 2);
	w = jb_write(&j, 3, data, sizeof data);
	end = j.n;
	ck_assert_uint_ne(get_le(j.b + w + 12, 4) % CDP_ALIGN, 0);

	for (cut = w + 1; cut < end; cut++) {
		rd_open_len(&d, &j, cut, 0);
		expect_rec(&d, CDP_T_STREAM_HDR, 0, off[0]);
		expect_rec(&d, CDP_T_UNLINK, 1, off[1]);
		expect_rec(&d, CDP_T_UNLINK, 2, off[2]);
		expect_err(&d, CDP_RE_TRUNCATED, w);
		expect_err(&d, CDP_RE_TRUNCATED, w);
		rd_close(&d);
	}
	/* After a truncation, a resync goes to the end of the input. */
	rd_open_len(&d, &j, end - 1, 0);
	expect_rec(&d, CDP_T_STREAM_HDR, 0, off[0]);
	expect_rec(&d, CDP_T_UNLINK, 1, off[1]);
	expect_rec(&d, CDP_T_UNLINK, 2, off[2]);
	expect_err(&d, CDP_RE_TRUNCATED, w);
	ck_assert_int_eq(cdp_reader_resync(d.r), 0);
	expect_eof(&d);
	rd_close(&d);

	/* Cut exactly after the padding: a clean end. */
	rd_open_len(&d, &j, end, 0);
	expect_rec(&d, CDP_T_STREAM_HDR, 0, off[0]);
	expect_rec(&d, CDP_T_UNLINK, 1, off[1]);
	expect_rec(&d, CDP_T_UNLINK, 2, off[2]);
	expect_rec(&d, CDP_T_WRITE, 3, w);
	expect_eof(&d);
	rd_close(&d);
	jb_free(&j);
}
END_TEST

START_TEST(test_reader_nonzero_padding)
{
	struct jbuf j;
	uint8_t data[18];	/* payload 37 bytes: 3 of padding */
	uint64_t off[3], w, plen, pad, last;

	memset(data, 'd', sizeof data);
	for (last = 0; last <= 1; last++) {
		jb_init(&j);
		jb_std(&j, off, 2);
		w = jb_write(&j, 3, data, sizeof data);
		jb_unlink(&j, 4);
		plen = get_le(j.b + w + 12, 4);
		pad = (CDP_ALIGN - plen % CDP_ALIGN) % CDP_ALIGN;
		ck_assert_uint_gt(pad, 1);
		/* The first, then the last padding byte. */
		ck_assert_uint_eq(j.b[w + CDP_HDR_LEN + plen +
		    (last ? pad - 1 : 0)], 0);
		j.b[w + CDP_HDR_LEN + plen + (last ? pad - 1 : 0)] = 0x01;
		expect_std_then_err(&j, off, 2, CDP_RE_PADDING, w);
		jb_free(&j);
	}
}
END_TEST

START_TEST(test_reader_inflate_bomb)
{
	struct jbuf j;
	uint8_t *big, *z;
	uLongf zlen;
	uint64_t off[3], at;
	const size_t bomb = 1024 * 1024;

	/* raw_len says 100, the stream inflates to 1 MiB. */
	big = calloc(1, bomb);
	ck_assert_ptr_nonnull(big);
	zlen = compressBound(bomb);
	z = malloc(zlen);
	ck_assert_ptr_nonnull(z);
	ck_assert_int_eq(compress2(z, &zlen, big, bomb, 9), Z_OK);
	jb_init(&j);
	jb_std(&j, off, 2);
	at = jb_frame_raw(&j, CDP_T_WRITE, CDP_F_COMPRESSED, 3, z,
	    (uint32_t)zlen, 100);
	jb_unlink(&j, 4);
	expect_std_then_err(&j, off, 2, CDP_RE_INFLATE, at);
	jb_free(&j);
	free(z);
	free(big);
}
END_TEST

/*
 * CDP_READER_FRAMES: a numbered record comes back with its header fields
 * and raw bytes only, its payload neither inflated nor decoded (so one
 * that would not inflate passes); control records are decoded; the CRCs
 * and numbering are checked as always.
 */
START_TEST(test_reader_frames_only)
{
	struct jbuf j;
	struct rd d;
	uint8_t junk[40];
	uint64_t off[3], at, u4, end;

	fill_random(junk, sizeof junk, 7);
	jb_init(&j);
	jb_std(&j, off, 2);
	at = jb_frame_raw(&j, CDP_T_WRITE, CDP_F_COMPRESSED, 3, junk,
	    sizeof junk, 600);
	u4 = jb_unlink(&j, 4);
	end = jb_end(&j, 4);

	rd_open(&d, &j, CDP_READER_FRAMES);
	ck_assert_int_eq(cdp_reader_next(d.r, &d.rec), 1);
	ck_assert_uint_eq(d.rec.type, CDP_T_STREAM_HDR);
	ck_assert_mem_eq(d.rec.uuid, uuid_a, 16);
	ck_assert_int_eq(cdp_reader_next(d.r, &d.rec), 1);
	ck_assert_uint_eq(d.rec.seq, 1);
	ck_assert_uint_eq(d.rec.offset, off[1]);
	ck_assert_str_eq(d.rec.path, "");
	ck_assert_int_eq(cdp_reader_next(d.r, &d.rec), 1);
	ck_assert_uint_eq(d.rec.seq, 2);
	ck_assert_int_eq(cdp_reader_next(d.r, &d.rec), 1);
	ck_assert_uint_eq(d.rec.type, CDP_T_WRITE);
	ck_assert_uint_eq(d.rec.seq, 3);
	ck_assert_uint_eq(d.rec.offset, at);
	ck_assert_ptr_null(d.rec.data);
	ck_assert_mem_eq(d.rec.raw, j.b + at, d.rec.raw_size);
	ck_assert_int_eq(cdp_reader_next(d.r, &d.rec), 1);
	ck_assert_uint_eq(d.rec.seq, 4);
	ck_assert_uint_eq(d.rec.offset, u4);
	ck_assert_int_eq(cdp_reader_next(d.r, &d.rec), 1);
	ck_assert_uint_eq(d.rec.type, CDP_T_STREAM_END);
	ck_assert_uint_eq(d.rec.offset, end);
	ck_assert_uint_eq(d.rec.u64, 4);
	expect_eof(&d);
	rd_close(&d);

	/* Without the flag the same record is refused. */
	rd_open(&d, &j, 0);
	expect_rec(&d, CDP_T_STREAM_HDR, 0, off[0]);
	expect_rec(&d, CDP_T_UNLINK, 1, off[1]);
	expect_rec(&d, CDP_T_UNLINK, 2, off[2]);
	expect_err(&d, CDP_RE_INFLATE, at);
	rd_close(&d);

	/* A payload byte changed: its CRC still catches it. */
	j.b[at + CDP_HDR_LEN + 3] ^= 0x10;
	rd_open(&d, &j, CDP_READER_FRAMES);
	ck_assert_int_eq(cdp_reader_next(d.r, &d.rec), 1);
	ck_assert_int_eq(cdp_reader_next(d.r, &d.rec), 1);
	ck_assert_int_eq(cdp_reader_next(d.r, &d.rec), 1);
	expect_err(&d, CDP_RE_PAYLOAD_CRC, at);
	rd_close(&d);
	jb_free(&j);
}
END_TEST

START_TEST(test_reader_inflate_short_or_garbage)
{
	struct jbuf j;
	struct cdp_record r;
	uint8_t raw[600], z[1024], junk[40];
	uLongf zlen = sizeof z;
	uint64_t off[3], at;
	long n;

	memset(&r, 0, sizeof r);
	r.type = CDP_T_WRITE;
	strcpy(r.path, "f");
	n = cdp_record_encode_head(&r, raw, sizeof raw);
	ck_assert_int_gt(n, 0);
	memset(raw + n, 'y', sizeof raw - (size_t)n);
	ck_assert_int_eq(compress2(z, &zlen, raw, sizeof raw, 6), Z_OK);

	/* Inflates to 600 where raw_len says 1000. */
	jb_init(&j);
	jb_std(&j, off, 2);
	at = jb_frame_raw(&j, CDP_T_WRITE, CDP_F_COMPRESSED, 3, z,
	    (uint32_t)zlen, 1000);
	expect_std_then_err(&j, off, 2, CDP_RE_INFLATE, at);
	jb_free(&j);

	/* Inflates to 600 where raw_len says 599. */
	jb_init(&j);
	jb_std(&j, off, 2);
	at = jb_frame_raw(&j, CDP_T_WRITE, CDP_F_COMPRESSED, 3, z,
	    (uint32_t)zlen, sizeof raw - 1);
	expect_std_then_err(&j, off, 2, CDP_RE_INFLATE, at);
	jb_free(&j);

	/* Not zlib at all (valid CRC over it). */
	fill_random(junk, sizeof junk, 99);
	jb_init(&j);
	jb_std(&j, off, 2);
	at = jb_frame_raw(&j, CDP_T_WRITE, CDP_F_COMPRESSED, 3, junk,
	    sizeof junk, 600);
	expect_std_then_err(&j, off, 2, CDP_RE_INFLATE, at);
	jb_free(&j);

	/* A complete zlib stream followed by more bytes. */
	{
		uint8_t zt[sizeof z + 4];

		memcpy(zt, z, zlen);
		memcpy(zt + zlen, "MORE", 4);
		jb_init(&j);
		jb_std(&j, off, 2);
		at = jb_frame_raw(&j, CDP_T_WRITE, CDP_F_COMPRESSED, 3, zt,
		    (uint32_t)zlen + 4, sizeof raw);
		expect_std_then_err(&j, off, 2, CDP_RE_INFLATE, at);
		jb_free(&j);
	}

	/* A zlib stream cut short. */
	jb_init(&j);
	jb_std(&j, off, 2);
	at = jb_frame_raw(&j, CDP_T_WRITE, CDP_F_COMPRESSED, 3, z,
	    (uint32_t)zlen - 6, sizeof raw);
	expect_std_then_err(&j, off, 2, CDP_RE_INFLATE, at);
	jb_free(&j);
}
END_TEST

START_TEST(test_reader_payload_malformed)
{
	struct jbuf j;
	uint64_t off[3], at;
	uint8_t p[16];

	/* UNLINK "a/../b": framing and CRCs fine, payload not. */
	set_le(p, 6, 2);
	memcpy(p + 2, "a/../b", 6);
	jb_init(&j);
	jb_std(&j, off, 2);
	at = jb_frame(&j, CDP_T_UNLINK, 0, 3, p, 8);
	jb_unlink(&j, 4);
	expect_std_then_err(&j, off, 2, CDP_RE_PAYLOAD, at);
	jb_free(&j);

	/* UNLINK "ab" and a trailing byte. */
	set_le(p, 2, 2);
	memcpy(p + 2, "abc", 3);
	jb_init(&j);
	jb_std(&j, off, 2);
	at = jb_frame(&j, CDP_T_UNLINK, 0, 3, p, 5);
	expect_std_then_err(&j, off, 2, CDP_RE_PAYLOAD, at);
	jb_free(&j);

	/* STREAM_HDR version 2. */
	jb_init(&j);
	jb_std(&j, off, 2);
	at = jb_hdr(&j, uuid_a);
	set_le(j.b + at + CDP_HDR_LEN, 2, 2);
	fix_payload_crc(j.b + at);
	expect_std_then_err(&j, off, 2, CDP_RE_PAYLOAD, at);
	jb_free(&j);
}
END_TEST

START_TEST(test_reader_seq_gap)
{
	struct jbuf j;
	struct rd d;
	uint64_t off[3], o4, o5;

	jb_init(&j);
	jb_std(&j, off, 2);
	o4 = jb_unlink(&j, 4);
	o5 = jb_unlink(&j, 5);
	expect_std_then_err(&j, off, 2, CDP_RE_SEQ_GAP, o4);

	/* Resync accepts the gap as the new numbering. */
	rd_open(&d, &j, 0);
	expect_rec(&d, CDP_T_STREAM_HDR, 0, off[0]);
	expect_rec(&d, CDP_T_UNLINK, 1, off[1]);
	expect_rec(&d, CDP_T_UNLINK, 2, off[2]);
	expect_err(&d, CDP_RE_SEQ_GAP, o4);
	ck_assert_int_eq(cdp_reader_resync(d.r), 0);
	expect_rec(&d, CDP_T_UNLINK, 4, o4);
	expect_rec(&d, CDP_T_UNLINK, 5, o5);
	expect_eof(&d);
	rd_close(&d);
	jb_free(&j);
}
END_TEST

START_TEST(test_reader_seq_repeat)
{
	struct jbuf j;
	uint64_t off[4], at;

	jb_init(&j);
	jb_std(&j, off, 2);
	at = jb_unlink(&j, 2);
	expect_std_then_err(&j, off, 2, CDP_RE_SEQ_REPEAT, at);
	jb_free(&j);

	jb_init(&j);
	jb_std(&j, off, 3);
	at = jb_unlink(&j, 1);
	expect_std_then_err(&j, off, 3, CDP_RE_SEQ_REPEAT, at);
	jb_free(&j);
}
END_TEST

START_TEST(test_reader_seq_field_against_type)
{
	struct jbuf j;
	struct cdp_record r;
	uint64_t off[3], at;

	/* A numbered type with seq 0, and a control type with a seq. */
	jb_init(&j);
	jb_std(&j, off, 2);
	at = jb_unlink(&j, 0);
	expect_std_then_err(&j, off, 2, CDP_RE_HDR_BAD, at);
	jb_free(&j);

	memset(&r, 0, sizeof r);
	r.type = CDP_T_HEARTBEAT;
	jb_init(&j);
	jb_std(&j, off, 2);
	at = jb_rec(&j, &r, 0, 3);
	expect_std_then_err(&j, off, 2, CDP_RE_HDR_BAD, at);
	jb_free(&j);
}
END_TEST

START_TEST(test_reader_numbered_before_stream_hdr)
{
	struct jbuf j;
	uint64_t off[1] = { 0 };

	struct cdp_record r;

	jb_init(&j);
	jb_unlink(&j, 1);
	jb_hdr(&j, uuid_a);
	expect_std_then_err(&j, off, -1, CDP_RE_ORDER, 0);
	jb_free(&j);

	/* Any first record but a STREAM_HDR, control records too. */
	memset(&r, 0, sizeof r);
	r.type = CDP_T_HEARTBEAT;
	jb_init(&j);
	jb_rec(&j, &r, 0, 0);
	jb_hdr(&j, uuid_a);
	expect_std_then_err(&j, off, -1, CDP_RE_ORDER, 0);
	jb_free(&j);
}
END_TEST

START_TEST(test_reader_stream_end_wrong_last_seq)
{
	struct jbuf j;
	uint64_t off[3], at;

	jb_init(&j);
	jb_std(&j, off, 2);
	at = jb_end(&j, 3);
	expect_std_then_err(&j, off, 2, CDP_RE_ORDER, at);
	jb_free(&j);

	jb_init(&j);
	jb_std(&j, off, 2);
	at = jb_end(&j, 1);
	expect_std_then_err(&j, off, 2, CDP_RE_ORDER, at);
	jb_free(&j);
}
END_TEST

START_TEST(test_reader_record_after_stream_end)
{
	struct jbuf j;
	struct rd d;
	struct cdp_record r;
	uint64_t off[3], end, at;

	jb_init(&j);
	jb_std(&j, off, 2);
	end = jb_end(&j, 2);
	at = jb_unlink(&j, 3);
	rd_open(&d, &j, 0);
	expect_rec(&d, CDP_T_STREAM_HDR, 0, off[0]);
	expect_rec(&d, CDP_T_UNLINK, 1, off[1]);
	expect_rec(&d, CDP_T_UNLINK, 2, off[2]);
	expect_rec(&d, CDP_T_STREAM_END, 0, end);
	expect_err(&d, CDP_RE_ORDER, at);
	expect_err(&d, CDP_RE_ORDER, at);
	rd_close(&d);
	jb_free(&j);

	/* A control record after the end is out of order too. */
	memset(&r, 0, sizeof r);
	r.type = CDP_T_HEARTBEAT;
	jb_init(&j);
	jb_std(&j, off, 2);
	end = jb_end(&j, 2);
	at = jb_rec(&j, &r, 0, 0);
	rd_open(&d, &j, 0);
	expect_rec(&d, CDP_T_STREAM_HDR, 0, off[0]);
	expect_rec(&d, CDP_T_UNLINK, 1, off[1]);
	expect_rec(&d, CDP_T_UNLINK, 2, off[2]);
	expect_rec(&d, CDP_T_STREAM_END, 0, end);
	expect_err(&d, CDP_RE_ORDER, at);
	rd_close(&d);
	jb_free(&j);
}
END_TEST

START_TEST(test_reader_stream_end_unchecked_without_numbered)
{
	struct jbuf j;
	struct rd d;
	uint64_t h, e;

	/* No numbered record seen: any last_seq is accepted. */
	jb_init(&j);
	h = jb_hdr(&j, uuid_a);
	e = jb_end(&j, 7);
	rd_open(&d, &j, 0);
	expect_rec(&d, CDP_T_STREAM_HDR, 0, h);
	expect_rec(&d, CDP_T_STREAM_END, 0, e);
	ck_assert_uint_eq(d.rec.u64, 7);
	expect_eof(&d);
	rd_close(&d);
	jb_free(&j);
}
END_TEST

START_TEST(test_reader_ack_resume_not_in_journal)
{
	struct jbuf j;
	struct cdp_record r;
	uint64_t off[3], at;

	memset(&r, 0, sizeof r);
	memcpy(r.uuid, uuid_a, 16);
	r.u64 = 1;
	r.type = CDP_T_ACK;
	jb_init(&j);
	jb_std(&j, off, 2);
	at = jb_rec(&j, &r, CDP_F_MUST_UNDERSTAND, 0);
	expect_std_then_err(&j, off, 2, CDP_RE_ORDER, at);
	jb_free(&j);

	r.type = CDP_T_RESUME;
	jb_init(&j);
	jb_std(&j, off, 2);
	at = jb_rec(&j, &r, CDP_F_MUST_UNDERSTAND, 0);
	expect_std_then_err(&j, off, 2, CDP_RE_ORDER, at);
	jb_free(&j);
}
END_TEST

START_TEST(test_reader_return_channel)
{
	struct jbuf j;
	struct rd d;
	struct cdp_record r;
	uint64_t a, b, c, at;

	/* ACK and RESUME only, no STREAM_HDR, no stream rules. */
	memset(&r, 0, sizeof r);
	memcpy(r.uuid, uuid_b, 16);
	jb_init(&j);
	r.type = CDP_T_RESUME;
	r.u64 = 1;
	a = jb_rec(&j, &r, CDP_F_MUST_UNDERSTAND, 0);
	r.type = CDP_T_ACK;
	r.u64 = 10;
	b = jb_rec(&j, &r, CDP_F_MUST_UNDERSTAND, 0);
	r.u64 = 5;
	c = jb_rec(&j, &r, CDP_F_MUST_UNDERSTAND, 0);
	rd_open(&d, &j, CDP_READER_RETURN);
	expect_rec(&d, CDP_T_RESUME, 0, a);
	ck_assert_uint_eq(d.rec.u64, 1);
	ck_assert_mem_eq(d.rec.uuid, uuid_b, 16);
	expect_rec(&d, CDP_T_ACK, 0, b);
	ck_assert_uint_eq(d.rec.u64, 10);
	expect_rec(&d, CDP_T_ACK, 0, c);
	ck_assert_uint_eq(d.rec.u64, 5);
	expect_eof(&d);
	rd_close(&d);

	/* Anything else on the return channel is out of place. */
	at = jb_hdr(&j, uuid_b);
	rd_open(&d, &j, CDP_READER_RETURN);
	expect_rec(&d, CDP_T_RESUME, 0, a);
	expect_rec(&d, CDP_T_ACK, 0, b);
	expect_rec(&d, CDP_T_ACK, 0, c);
	expect_err(&d, CDP_RE_ORDER, at);
	rd_close(&d);
	jb_free(&j);
}
END_TEST

START_TEST(test_reader_header_reserved_and_time_ignored)
{
	struct jbuf j;
	struct rd d;
	uint64_t off[4];

	/* reserved: ignored (but under hdr_crc); time may go backwards. */
	jb_init(&j);
	jb_std(&j, off, 3);
	set_le(j.b + off[2] + 40, 0xdeadbeef, 4);
	fix_hdr_crc(j.b + off[2]);
	set_le(j.b + off[3] + 24, (uint64_t)(TIME0 - 1000000000LL), 8);
	fix_hdr_crc(j.b + off[3]);
	rd_open(&d, &j, 0);
	expect_rec(&d, CDP_T_STREAM_HDR, 0, off[0]);
	expect_rec(&d, CDP_T_UNLINK, 1, off[1]);
	expect_rec(&d, CDP_T_UNLINK, 2, off[2]);
	ck_assert_int_eq(cdp_reader_next(d.r, &d.rec), 1);
	ck_assert_uint_eq(d.rec.seq, 3);
	ck_assert_int_eq(d.rec.time_ns, TIME0 - 1000000000LL);
	expect_eof(&d);
	rd_close(&d);
	jb_free(&j);
}
END_TEST

START_TEST(test_reader_checks_in_spec_order)
{
	struct jbuf j;
	uint64_t off[5];
	uint64_t plen, pad;

	/* Bad magic and bad header CRC: garbage first (step 2). */
	jb_init(&j);
	jb_std(&j, off, 4);
	j.b[off[3]] = 'X';
	expect_std_then_err(&j, off, 2, CDP_RE_MAGIC, off[3]);
	jb_free(&j);

	/* Bad hdr_len and too big: hdr_len first (step 4). */
	jb_init(&j);
	jb_std(&j, off, 4);
	set_le(j.b + off[3] + 8, 40, 4);
	set_le(j.b + off[3] + 12, 0xfffffff0u, 4);
	fix_hdr_crc(j.b + off[3]);
	expect_std_then_err(&j, off, 2, CDP_RE_HDR_BAD, off[3]);
	jb_free(&j);

	/* Non-zero padding and bad payload CRC: padding first (step 7). */
	jb_init(&j);
	jb_std(&j, off, 4);
	plen = get_le(j.b + off[3] + 12, 4);
	pad = (CDP_ALIGN - plen % CDP_ALIGN) % CDP_ALIGN;
	ck_assert_uint_gt(pad, 0);
	j.b[off[3] + CDP_HDR_LEN + plen] = 0xff;
	j.b[off[3] + CDP_HDR_LEN] ^= 0xff;
	expect_std_then_err(&j, off, 2, CDP_RE_PADDING, off[3]);
	jb_free(&j);

	/* Bad payload CRC in an unknown MUST_UNDERSTAND record (step 8). */
	jb_init(&j);
	jb_std(&j, off, 2);
	off[3] = jb_frame(&j, T_UNKNOWN, CDP_F_MUST_UNDERSTAND, 3, "abcd", 4);
	j.b[off[3] + CDP_HDR_LEN] ^= 0x01;
	expect_std_then_err(&j, off, 2, CDP_RE_PAYLOAD_CRC, off[3]);
	jb_free(&j);
}
END_TEST

/* ---- resync ---- */

static void
garbage_case(const uint8_t *junk, size_t junklen)
{
	struct jbuf j;
	struct rd d;
	uint64_t off[3], g, o3, o4, end;

	jb_init(&j);
	jb_std(&j, off, 2);
	g = j.n;
	jb_put(&j, junk, junklen);
	o3 = jb_unlink(&j, 3);
	o4 = jb_unlink(&j, 4);
	end = jb_end(&j, 4);
	rd_open(&d, &j, 0);
	expect_rec(&d, CDP_T_STREAM_HDR, 0, off[0]);
	expect_rec(&d, CDP_T_UNLINK, 1, off[1]);
	expect_rec(&d, CDP_T_UNLINK, 2, off[2]);
	expect_err(&d, CDP_RE_MAGIC, g);
	expect_err(&d, CDP_RE_MAGIC, g);	/* sticky */
	ck_assert_int_eq(cdp_reader_resync(d.r), 0);
	expect_rec_after_resync(&d, CDP_T_UNLINK, 3, o3);
	expect_rec(&d, CDP_T_UNLINK, 4, o4);
	expect_rec(&d, CDP_T_STREAM_END, 0, end);
	expect_eof(&d);
	rd_close(&d);
	jb_free(&j);
}

START_TEST(test_reader_garbage_then_resync)
{
	uint8_t junk[300];
	size_t len;

	/* Random bytes of several lengths, aligned and not. */
	for (len = 1; len <= sizeof junk; len += 37) {
		fill_random(junk, len, (uint32_t)len);
		junk[0] = 'x';		/* not 'C': the magic is wrong */
		garbage_case(junk, len);
	}
	fill_random(junk, 64, 5);
	junk[0] = 'x';
	garbage_case(junk, 64);
}
END_TEST

START_TEST(test_reader_garbage_with_false_magic_then_resync)
{
	uint8_t junk[200];
	uint8_t hdr[CDP_HDR_LEN];

	/* Garbage holding "CDPJ" and then a header with a bad CRC. */
	fill_random(junk, sizeof junk, 17);
	junk[0] = 'z';
	memcpy(junk + 8, "CDPJ", 4);
	memcpy(junk + 50, "CDPJ", 4);
	cdp_writer_frame(hdr, CDP_T_UNLINK, 0, 3, TIME0, 8, 8, 0);
	hdr[44] ^= 0xff;
	memcpy(junk + 96, hdr, sizeof hdr);
	garbage_case(junk, sizeof junk);
}
END_TEST

START_TEST(test_reader_resync_after_bad_header_crc)
{
	struct jbuf j;
	struct rd d;
	uint64_t off[5];

	jb_init(&j);
	jb_std(&j, off, 4);
	j.b[off[2] + 20] ^= 0x01;
	rd_open(&d, &j, 0);
	expect_rec(&d, CDP_T_STREAM_HDR, 0, off[0]);
	expect_rec(&d, CDP_T_UNLINK, 1, off[1]);
	expect_err(&d, CDP_RE_HDR_CRC, off[2]);
	ck_assert_int_eq(cdp_reader_resync(d.r), 0);
	expect_rec_after_resync(&d, CDP_T_UNLINK, 3, off[3]);
	expect_rec(&d, CDP_T_UNLINK, 4, off[4]);
	expect_eof(&d);
	rd_close(&d);
	jb_free(&j);
}
END_TEST

START_TEST(test_reader_resync_after_bad_payload_crc)
{
	struct jbuf j;
	struct rd d;
	uint64_t off[6];

	jb_init(&j);
	jb_std(&j, off, 5);
	j.b[off[3] + CDP_HDR_LEN + 2] ^= 0x20;
	rd_open(&d, &j, 0);
	expect_rec(&d, CDP_T_STREAM_HDR, 0, off[0]);
	expect_rec(&d, CDP_T_UNLINK, 1, off[1]);
	expect_rec(&d, CDP_T_UNLINK, 2, off[2]);
	expect_err(&d, CDP_RE_PAYLOAD_CRC, off[3]);
	ck_assert_int_eq(cdp_reader_resync(d.r), 0);
	expect_rec_after_resync(&d, CDP_T_UNLINK, 4, off[4]);
	expect_rec(&d, CDP_T_UNLINK, 5, off[5]);
	expect_eof(&d);
	rd_close(&d);
	jb_free(&j);
}
END_TEST

/*
 * cdp-journal(5), Resynchronisation: "After a resynchronisation, numbering
 * is re-based: the next numbered record is accepted with any seq >= 1".
 */
START_TEST(test_reader_resync_reports_lost_records)
{
	struct jbuf j;
	struct rd d;
	uint64_t off[6];

	/*
	 * A scan past a bad header loses record 2: numbering goes on, so
	 * the loss is reported as a gap (2 expected, 3 found), then 3 comes.
	 */
	jb_init(&j);
	jb_std(&j, off, 4);
	j.b[off[2] + 20] ^= 0x01;
	rd_open(&d, &j, 0);
	expect_rec(&d, CDP_T_STREAM_HDR, 0, off[0]);
	expect_rec(&d, CDP_T_UNLINK, 1, off[1]);
	expect_err(&d, CDP_RE_HDR_CRC, off[2]);
	ck_assert_int_eq(cdp_reader_resync(d.r), 0);
	expect_err(&d, CDP_RE_SEQ_GAP, off[3]);
	ck_assert_ptr_nonnull(strstr(cdp_reader_error(d.r),
	    "expected 2, got 3"));
	ck_assert_int_eq(cdp_reader_resync(d.r), 0);
	expect_rec(&d, CDP_T_UNLINK, 3, off[3]);
	expect_rec(&d, CDP_T_UNLINK, 4, off[4]);
	expect_eof(&d);
	rd_close(&d);
	jb_free(&j);

	/* Garbage hiding records 3 and 4 entirely: a gap 3..4, then 5. */
	jb_init(&j);
	jb_std(&j, off, 5);
	memset(j.b + off[3], 'x', off[5] - off[3]);
	rd_open(&d, &j, 0);
	expect_rec(&d, CDP_T_STREAM_HDR, 0, off[0]);
	expect_rec(&d, CDP_T_UNLINK, 1, off[1]);
	expect_rec(&d, CDP_T_UNLINK, 2, off[2]);
	expect_err(&d, CDP_RE_MAGIC, off[3]);
	ck_assert_int_eq(cdp_reader_resync(d.r), 0);
	expect_err(&d, CDP_RE_SEQ_GAP, off[5]);
	ck_assert_ptr_nonnull(strstr(cdp_reader_error(d.r),
	    "expected 3, got 5"));
	ck_assert_int_eq(cdp_reader_resync(d.r), 0);
	expect_rec(&d, CDP_T_UNLINK, 5, off[5]);
	expect_eof(&d);
	rd_close(&d);
	jb_free(&j);
}
END_TEST

START_TEST(test_reader_io_error)
{
	int p[2];
	struct cdp_source *src;
	struct cdp_reader *r;
	struct cdp_record rec;

	/* Reading the write end of a pipe fails with EBADF. */
	ck_assert_int_eq(pipe(p), 0);
	src = cdp_source_fd(p[1], "pipe");
	if (src == NULL) {
		/* The source may already have tried to read. */
		ck_assert_int_eq(errno, EBADF);
	} else {
		r = cdp_reader_open(src, 0);
		ck_assert_ptr_nonnull(r);
		errno = 0;
		ck_assert_int_eq(cdp_reader_next(r, &rec), -1);
		ck_assert_int_eq(cdp_reader_errcode(r), CDP_RE_IO);
		ck_assert_int_eq(errno, EBADF);
		ck_assert_ptr_nonnull(cdp_reader_error(r));
		ck_assert_int_eq(cdp_reader_resync(r), -1);
		cdp_reader_close(r);
		cdp_source_close(src);
	}
	close(p[0]);
	close(p[1]);
}
END_TEST

/* ---- short reads ---- */

struct dribble {
	int		 fd;
	const uint8_t	*b;
	size_t		 n;
};

static void *
dribble_main(void *arg)
{
	struct dribble *dr = arg;
	size_t i;

	for (i = 0; i < dr->n; i++) {
		if (write(dr->fd, dr->b + i, 1) != 1)
			break;
		if (i % 64 == 0)
			sched_yield();
	}
	close(dr->fd);
	return NULL;
}

START_TEST(test_reader_one_byte_at_a_time)
{
	struct jbuf j;
	struct rd d;
	struct dribble dr;
	pthread_t th;
	uint8_t data[1000], *z;
	uLongf zlen;
	uint64_t off[4], w, c, end;
	int p[2];
	struct cdp_record r;
	long n;

	/* Plain records, a padded WRITE, a compressed one, STREAM_END. */
	memset(data, 'q', sizeof data);
	jb_init(&j);
	jb_std(&j, off, 3);
	w = jb_write(&j, 4, data, 13);
	memset(&r, 0, sizeof r);
	r.type = CDP_T_WRITE;
	strcpy(r.path, "data/file");
	r.off = 4096;
	z = malloc(CDP_RECORD_HEAD_MAX + sizeof data);
	ck_assert_ptr_nonnull(z);
	{
		uint8_t raw[CDP_RECORD_HEAD_MAX + sizeof data];

		n = cdp_record_encode_head(&r, raw, CDP_RECORD_HEAD_MAX);
		ck_assert_int_gt(n, 0);
		memcpy(raw + n, data, sizeof data);
		zlen = CDP_RECORD_HEAD_MAX + sizeof data;
		ck_assert_int_eq(compress2(z, &zlen, raw,
		    (uLong)n + sizeof data, 9), Z_OK);
		c = jb_frame_raw(&j, CDP_T_WRITE, CDP_F_COMPRESSED, 5, z,
		    (uint32_t)zlen, (uint32_t)((size_t)n + sizeof data));
	}
	end = jb_end(&j, 5);

	ck_assert_int_eq(pipe(p), 0);
	dr.fd = p[1];
	dr.b = j.b;
	dr.n = j.n;
	ck_assert_int_eq(pthread_create(&th, NULL, dribble_main, &dr), 0);

	memset(&d, 0, sizeof d);
	d.j = &j;
	d.fd = p[0];
	d.src = cdp_source_fd(p[0], "pipe");
	ck_assert_ptr_nonnull(d.src);
	d.r = cdp_reader_open(d.src, 0);
	ck_assert_ptr_nonnull(d.r);
	expect_rec(&d, CDP_T_STREAM_HDR, 0, off[0]);
	expect_rec(&d, CDP_T_UNLINK, 1, off[1]);
	expect_rec(&d, CDP_T_UNLINK, 2, off[2]);
	expect_rec(&d, CDP_T_UNLINK, 3, off[3]);
	expect_rec(&d, CDP_T_WRITE, 4, w);
	ck_assert_uint_eq(d.rec.data_len, 13);
	ck_assert_mem_eq(d.rec.data, data, 13);
	expect_rec(&d, CDP_T_WRITE, 5, c);
	ck_assert_uint_eq(d.rec.data_len, sizeof data);
	ck_assert_mem_eq(d.rec.data, data, sizeof data);
	expect_rec(&d, CDP_T_STREAM_END, 0, end);
	expect_eof(&d);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	rd_close(&d);
	free(z);
	jb_free(&j);
}
END_TEST

static Suite *
reader_suite(void)
{
	Suite *s = suite_create("reader");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_reader_empty_input);
	tcase_add_test(tc, test_reader_clean_eof_with_stream_end);
	tcase_add_test(tc, test_reader_clean_eof_without_stream_end);
	tcase_add_test(tc, test_reader_control_records_unnumbered);
	tcase_add_test(tc, test_reader_stream_starting_at_1001);
	tcase_add_test(tc, test_reader_resumed_section);
	tcase_add_test(tc, test_reader_resumed_section_wrong_continuation);
	tcase_add_test(tc, test_reader_two_streams_concatenated);
	tcase_add_test(tc, test_reader_longer_header_skipped);
	tcase_add_test(tc, test_reader_compressed_record);
	tcase_add_test(tc, test_reader_frames_only);
	tcase_add_test(tc, test_reader_payload_max_accepted);
	tcase_add_test(tc, test_reader_unknown_type_skipped);
	tcase_add_test(tc, test_reader_unknown_type_seq_checked);
	tcase_add_test(tc, test_reader_unknown_type_must_understand);
	tcase_add_test(tc, test_reader_unknown_flag_bit);
	tcase_add_test(tc, test_reader_bad_magic);
	tcase_add_test(tc, test_reader_bad_header_crc);
	tcase_add_test(tc, test_reader_hdr_len_out_of_range);
	tcase_add_test(tc, test_reader_raw_len_mismatch_uncompressed);
	tcase_add_test(tc, test_reader_oversize_payload_len);
	tcase_add_test(tc, test_reader_bad_payload_crc);
	tcase_add_test(tc, test_reader_payload_crc_lengths);
	tcase_add_test(tc, test_reader_truncated_anywhere_in_record);
	tcase_add_test(tc, test_reader_nonzero_padding);
	tcase_add_test(tc, test_reader_inflate_bomb);
	tcase_add_test(tc, test_reader_inflate_short_or_garbage);
	tcase_add_test(tc, test_reader_payload_malformed);
	tcase_add_test(tc, test_reader_seq_gap);
	tcase_add_test(tc, test_reader_seq_repeat);
	tcase_add_test(tc, test_reader_seq_field_against_type);
	tcase_add_test(tc, test_reader_numbered_before_stream_hdr);
	tcase_add_test(tc, test_reader_stream_end_wrong_last_seq);
	tcase_add_test(tc, test_reader_record_after_stream_end);
	tcase_add_test(tc, test_reader_stream_end_unchecked_without_numbered);
	tcase_add_test(tc, test_reader_ack_resume_not_in_journal);
	tcase_add_test(tc, test_reader_return_channel);
	tcase_add_test(tc, test_reader_header_reserved_and_time_ignored);
	tcase_add_test(tc, test_reader_checks_in_spec_order);
	tcase_add_test(tc, test_reader_garbage_then_resync);
	tcase_add_test(tc, test_reader_garbage_with_false_magic_then_resync);
	tcase_add_test(tc, test_reader_resync_after_bad_header_crc);
	tcase_add_test(tc, test_reader_resync_after_bad_payload_crc);
	tcase_add_test(tc, test_reader_resync_reports_lost_records);
	tcase_add_test(tc, test_reader_io_error);
	tcase_add_test(tc, test_reader_one_byte_at_a_time);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(reader_suite());
	int failed;

	signal(SIGPIPE, SIG_IGN);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
