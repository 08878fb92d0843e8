/*
 * cdp_reader.c: the validating journal reader.
 *
 * Records are read into a large input buffer and, when they fit, decoded
 * in place: no copy between the read(2) and the CRC.  A record larger than
 * the buffer is assembled in a buffer of its own.  Nothing is allocated
 * for a record before its header has passed every check.
 *
 * Problems are classified by what can still be trusted afterwards, which
 * decides what cdp_reader_resync() does: after garbage or a damaged header
 * the length is unknown and the reader scans for the next valid header;
 * after a damaged payload the header still gives the length and the record
 * is skipped; a record that is sound but out of order (a seq gap, a record
 * after STREAM_END) is delivered after all.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libdeflate.h>

#include "cdp_crc32.h"
#include "cdp_reader.h"


#define IBUF_MIN	(64u * 1024)	/* small journals need no more */
#define IBUF_MAX	(4u * 1024 * 1024)	/* large records are read in place */
#define MAX_STREAMS	64	/* streams remembered for resumed sections */
#define READ_AHEAD	(64u * 1024)	/* read past the record needed */

enum resync_how {
	RESYNC_NONE,
	RESYNC_SCAN,		/* look for the next valid header */
	RESYNC_SKIP,		/* skip the record, its length is known */
	RESYNC_DELIVER,		/* the record is sound: hand it out */
	RESYNC_END,		/* nothing more can be read */
	RESYNC_FAIL		/* cannot go on (I/O error) */
};

struct stream_state {
	uint8_t		 uuid[16];
	uint64_t	 last_seq;	/* 0: no numbered record yet */
};

struct cdp_reader {
	struct cdp_source *src;
	int		 flags;

	uint8_t		*ibuf;		/* input bytes [ipos, ilen) unread */
	size_t		 ipos, ilen, icap;
	int		 eof;
	uint64_t	 off;		/* stream offset of ibuf[ipos] */

	uint8_t		*big;		/* a record larger than ibuf */
	size_t		 bigcap;
	uint8_t		*zbuf;		/* inflated payload */
	size_t		 zcap;
	struct libdeflate_decompressor *inflater;

	struct stream_state streams[MAX_STREAMS];
	size_t		 nstreams;
	struct stream_state *cur;	/* NULL before the first STREAM_HDR */
	int		 ended;		/* STREAM_END seen for cur */

	enum cdp_reader_err err;
	uint64_t	 err_off;
	char		 msg[512];
	enum resync_how	 how;
	int		 resyncing;	/* scan before the next read */
	struct cdp_record *held;	/* sound record withheld by an error */
	int		 held_deliver;	/* hand it out, or only count it */
	int		 deliver_held;	/* resync asked for it */
	uint64_t	 skipped_seq;	/* seq of a record skipped as damaged */
	int		 torn_tail;	/* a store ended inside a record */
};

/* Little-endian loads. */
static uint16_t
le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t
le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static uint64_t
le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static int __attribute__((format(printf, 5, 6)))
fail(struct cdp_reader *r, enum cdp_reader_err err, enum resync_how how,
    uint64_t off, const char *fmt, ...)
{
	char where[128];
	va_list ap;
	size_t n;
	int saved = errno;

	r->err = err;
	r->err_off = off;
	r->how = how;
	cdp_source_where(r->src, off, where, sizeof(where));
	n = (size_t)snprintf(r->msg, sizeof(r->msg), "%s: ", where);
	if (n >= sizeof(r->msg))
		n = sizeof(r->msg) - 1;
	va_start(ap, fmt);
	vsnprintf(r->msg + n, sizeof(r->msg) - n, fmt, ap);
	va_end(ap);
	errno = err == CDP_RE_IO ? saved : EBADMSG;
	return -1;
}

struct cdp_reader *
cdp_reader_open(struct cdp_source *src, int flags)
{
	struct cdp_reader *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->src = src;
	r->flags = flags;
	r->icap = IBUF_MIN;
	if ((r->ibuf = malloc(r->icap)) == NULL) {
		free(r);
		return NULL;
	}
	return r;
}

void
cdp_reader_close(struct cdp_reader *r)
{
	if (r == NULL)
		return;
	if (r->inflater != NULL)
		libdeflate_free_decompressor(r->inflater);
	free(r->ibuf);
	free(r->big);
	free(r->zbuf);
	free(r->held);
	free(r);
}

/*
 * Make at least need bytes available at ibuf + ipos (need <= icap).
 * Returns the bytes available, fewer only at the end of input, or -1.
 *
 * Each read asks for what is missing and READ_AHEAD bytes more, not for
 * all the room there is: what is left unread when the buffer has to be
 * moved to its start is then at most that, not most of a large record.
 */
static ssize_t
fill(struct cdp_reader *r, size_t need)
{
	while (r->ilen - r->ipos < need && !r->eof) {
		size_t want = need - (r->ilen - r->ipos) + READ_AHEAD;
		ssize_t n;

		if (r->ipos + need > r->icap || r->ilen == r->icap) {
			memmove(r->ibuf, r->ibuf + r->ipos, r->ilen - r->ipos);
			r->ilen -= r->ipos;
			r->ipos = 0;
		}
		if (want > r->icap - r->ilen)
			want = r->icap - r->ilen;
		n = cdp_source_read(r->src, r->ibuf + r->ilen, want);
		if (n == -1)
			return -1;
		if (n == 0)
			r->eof = 1;
		r->ilen += (size_t)n;
	}
	return (ssize_t)(r->ilen - r->ipos);
}

static void
consume(struct cdp_reader *r, size_t n)
{
	r->ipos += n;
	r->off += n;
}

static int
io_fail(struct cdp_reader *r)
{
	return fail(r, CDP_RE_IO, RESYNC_FAIL, r->off, "read error: %s",
	    cdp_source_strerror(errno));
}

/*
 * The input ends inside a record.  In a store that is the record cdp-recv
 * is writing (or was, when it stopped): the end of an open stream, not
 * corruption (cdp-journal(5), STORE DIRECTORY).  Anywhere else it is.
 */
static int
truncated(struct cdp_reader *r, uint64_t off, size_t have, size_t want)
{
	if (cdp_source_kind(r->src) == CDP_SOURCE_STORE) {
		r->torn_tail = 1;
		consume(r, r->ilen - r->ipos);
		r->eof = 1;
		return 0;
	}
	if (want == CDP_HDR_LEN)
		return fail(r, CDP_RE_TRUNCATED, RESYNC_END, off,
		    "truncated record header (%zu of %d bytes)", have,
		    CDP_HDR_LEN);
	return fail(r, CDP_RE_TRUNCATED, RESYNC_END, off,
	    "truncated record (%zu of %zu bytes)", have, want);
}

/* Check a header that starts at h; fill in what it says.  0 or -1. */
struct hdr {
	uint16_t	 type, flags;
	uint32_t	 hdr_len, payload_len, raw_len, payload_crc;
	uint64_t	 seq;
	int64_t		 time_ns;
	size_t		 total;		/* header, payload and padding */
};

static int
check_header(struct cdp_reader *r, const uint8_t *h, struct hdr *hd)
{
	uint64_t off = r->off;

	if (memcmp(h, CDP_MAGIC, 4) != 0)
		return fail(r, CDP_RE_MAGIC, RESYNC_SCAN, off,
		    "bad magic: not a record header");
	if (le32(h + 44) != cdp_crc32(0, h, 44))
		return fail(r, CDP_RE_HDR_CRC, RESYNC_SCAN, off,
		    "bad header CRC");
	hd->type = le16(h + 4);
	hd->flags = le16(h + 6);
	hd->hdr_len = le32(h + 8);
	hd->payload_len = le32(h + 12);
	hd->seq = le64(h + 16);
	hd->time_ns = (int64_t)le64(h + 24);
	hd->raw_len = le32(h + 32);
	hd->payload_crc = le32(h + 36);
	if (hd->hdr_len < CDP_HDR_LEN || hd->hdr_len > CDP_HDR_LEN_MAX ||
	    hd->hdr_len % CDP_ALIGN != 0)
		return fail(r, CDP_RE_HDR_BAD, RESYNC_SCAN, off,
		    "bad header length %u", hd->hdr_len);
	if (hd->payload_len > CDP_PAYLOAD_MAX)
		return fail(r, CDP_RE_TOO_BIG, RESYNC_SCAN, off,
		    "payload length %u exceeds the limit of %u",
		    hd->payload_len, CDP_PAYLOAD_MAX);
	if (hd->raw_len > CDP_PAYLOAD_MAX)
		return fail(r, CDP_RE_TOO_BIG, RESYNC_SCAN, off,
		    "raw length %u exceeds the limit of %u",
		    hd->raw_len, CDP_PAYLOAD_MAX);
	if (!(hd->flags & CDP_F_COMPRESSED) &&
	    hd->raw_len != hd->payload_len)
		return fail(r, CDP_RE_HDR_BAD, RESYNC_SCAN, off,
		    "raw length %u differs from payload length %u in an "
		    "uncompressed record", hd->raw_len, hd->payload_len);
	if ((hd->flags & CDP_F_COMPRESSED) && hd->payload_len == 0)
		return fail(r, CDP_RE_HDR_BAD, RESYNC_SCAN, off,
		    "compressed record with an empty payload");
	hd->total = ((size_t)hd->hdr_len + hd->payload_len + CDP_ALIGN - 1) &
	    ~(size_t)(CDP_ALIGN - 1);
	return 0;
}

/*
 * After garbage: find the next offset, after the bad one, where a header
 * with a valid CRC starts.  Leaves ipos there (or at the end of input).
 */
static int
scan(struct cdp_reader *r)
{
	consume(r, 1);
	for (;;) {
		ssize_t avail = fill(r, CDP_HDR_LEN);
		uint8_t *p, *end;

		if (avail == -1)
			return io_fail(r);
		if ((size_t)avail < CDP_HDR_LEN) {
			/* Too short to hold a header: the rest is garbage. */
			consume(r, (size_t)avail);
			return 0;
		}
		p = r->ibuf + r->ipos;
		end = r->ibuf + r->ilen - CDP_HDR_LEN + 1;
		while (p < end) {
			p = memmem(p, (size_t)(r->ibuf + r->ilen - p),
			    CDP_MAGIC, 4);
			if (p == NULL || p >= end)
				break;
			if (le32(p + 44) == cdp_crc32(0, p, 44)) {
				consume(r, (size_t)(p - (r->ibuf + r->ipos)));
				return 0;
			}
			p++;
		}
		/* Keep the last bytes: a header may straddle the refill. */
		consume(r, (size_t)(end - (r->ibuf + r->ipos)));
	}
}

/*
 * Inflate exactly raw_len bytes, no more, with nothing left over.  The
 * output buffer is raw_len bytes, so a zlib bomb cannot make it larger.
 */
static int
inflate_payload(struct cdp_reader *r, const uint8_t *p, const struct hdr *hd,
    uint64_t off, const uint8_t **out)
{
	size_t in_used = 0, out_len = 0;
	enum libdeflate_result res;

	if (hd->raw_len > r->zcap) {
		uint8_t *n = realloc(r->zbuf, hd->raw_len);

		if (n == NULL)
			return fail(r, CDP_RE_IO, RESYNC_FAIL, off,
			    "%s", strerror(errno));
		r->zbuf = n;
		r->zcap = hd->raw_len;
	}
	if (r->inflater == NULL &&
	    (r->inflater = libdeflate_alloc_decompressor()) == NULL)
		return fail(r, CDP_RE_IO, RESYNC_FAIL, off, "%s",
		    strerror(ENOMEM));
	res = libdeflate_zlib_decompress_ex(r->inflater, p, hd->payload_len,
	    r->zbuf, hd->raw_len, &in_used, &out_len);
	if (res != LIBDEFLATE_SUCCESS || out_len != hd->raw_len ||
	    in_used != hd->payload_len)
		return fail(r, CDP_RE_INFLATE, RESYNC_SKIP, off,
		    "compressed payload does not inflate to %u bytes",
		    hd->raw_len);
	*out = r->zbuf;
	return 0;
}

static struct stream_state *
find_stream(struct cdp_reader *r, const uint8_t uuid[16])
{
	size_t i;

	for (i = 0; i < r->nstreams; i++)
		if (memcmp(r->streams[i].uuid, uuid, 16) == 0)
			return &r->streams[i];
	return NULL;
}

/* Record rec's effect on the stream state; no checks. */
static void
apply_stream(struct cdp_reader *r, const struct cdp_record *rec)
{
	struct stream_state *s;

	if (rec->type == CDP_T_STREAM_HDR) {
		if ((s = find_stream(r, rec->uuid)) == NULL) {
			if (r->nstreams == MAX_STREAMS) {
				/* Forget the oldest stream. */
				memmove(r->streams, r->streams + 1,
				    (MAX_STREAMS - 1) * sizeof(*s));
				r->nstreams--;
			}
			s = &r->streams[r->nstreams++];
			memcpy(s->uuid, rec->uuid, 16);
			s->last_seq = 0;
		}
		r->cur = s;
		r->ended = 0;
	} else if (rec->type == CDP_T_STREAM_END)
		r->ended = 1;
	else if (r->cur == NULL && !(r->flags & CDP_READER_RETURN)) {
		/*
		 * A record delivered despite a missing (damaged) STREAM_HDR:
		 * go on numbering an anonymous stream, so that one bad byte
		 * in a header is one problem, not one per record after it.
		 */
		static const uint8_t anon[16];

		s = find_stream(r, anon);
		if (s == NULL && r->nstreams < MAX_STREAMS) {
			s = &r->streams[r->nstreams++];
			memset(s, 0, sizeof(*s));
		}
		r->cur = s;
	}
	if (rec->seq != 0 && r->cur != NULL)
		r->cur->last_seq = rec->seq;
}

/*
 * Step 11 of READING in cdp-journal(5): the record's place in the stream,
 * judged from the header alone, so skipped records count too.
 * 0, or -1 with RESYNC_DELIVER: the record itself is sound.
 */
static int
check_place(struct cdp_reader *r, const struct hdr *hd, uint64_t off)
{
	const char *name = cdp_record_type_name(hd->type);
	int control = hd->type == CDP_T_ACK || hd->type == CDP_T_RESUME;
	uint64_t want;

	if (name == NULL)
		name = "unknown";
	if (r->flags & CDP_READER_RETURN) {
		if (!control)
			return fail(r, CDP_RE_ORDER, RESYNC_DELIVER, off,
			    "%s record on the return channel", name);
		return 0;
	}
	if (control)
		return fail(r, CDP_RE_ORDER, RESYNC_DELIVER, off,
		    "%s record in a journal", name);
	if (hd->type == CDP_T_STREAM_HDR)
		return 0;
	if (r->cur == NULL)
		return fail(r, CDP_RE_ORDER, RESYNC_DELIVER, off,
		    "%s record before any STREAM_HDR", name);
	if (r->ended)
		return fail(r, CDP_RE_ORDER, RESYNC_DELIVER, off,
		    "%s record after STREAM_END", name);
	if (hd->seq == 0 || r->cur->last_seq == 0)
		return 0;
	want = r->cur->last_seq + 1;
	if (hd->seq > want)
		return fail(r, CDP_RE_SEQ_GAP, RESYNC_DELIVER, off,
		    "seq gap: expected %llu, got %llu",
		    (unsigned long long)want, (unsigned long long)hd->seq);
	if (hd->seq < want)
		return fail(r, CDP_RE_SEQ_REPEAT, RESYNC_DELIVER, off,
		    "seq repeat: expected %llu, got %llu",
		    (unsigned long long)want, (unsigned long long)hd->seq);
	return 0;
}

/* Step 12's stream rule: STREAM_END names the stream's last seq. */
static int
check_end(struct cdp_reader *r, const struct cdp_record *rec)
{
	/* A section read alone may end a stream whose records it lacks. */
	if (rec->type == CDP_T_STREAM_END && r->cur != NULL &&
	    r->cur->last_seq != 0 && rec->u64 != r->cur->last_seq)
		return fail(r, CDP_RE_ORDER, RESYNC_DELIVER, rec->offset,
		    "STREAM_END says last seq %llu, but it was %llu",
		    (unsigned long long)rec->u64,
		    (unsigned long long)r->cur->last_seq);
	return 0;
}

/* Keep a sound record back while its ordering error is reported. */
static int
hold(struct cdp_reader *r, const struct cdp_record *rec, int deliver)
{
	if (r->held == NULL && (r->held = malloc(sizeof(*r->held))) == NULL)
		return -1;
	*r->held = *rec;
	r->held_deliver = deliver;
	return 0;
}

/* Read one record; all checks.  1, 0 at the end, -1. */
static int
read_record(struct cdp_reader *r, struct cdp_record *rec)
{
	struct hdr hd = { .type = 0 };
	const uint8_t *raw, *payload;
	ssize_t avail;
	uint64_t off;
	const char *why;
	int known, deliver, misplaced, frame_only;
	size_t i;

again:
	off = r->off;
	avail = fill(r, CDP_HDR_LEN);
	if (avail == -1)
		return io_fail(r);
	if (avail == 0)
		return 0;
	if ((size_t)avail < CDP_HDR_LEN)
		return truncated(r, off, (size_t)avail, CDP_HDR_LEN);
	if (check_header(r, r->ibuf + r->ipos, &hd) == -1)
		return -1;

	/* The whole record, in ibuf if it fits, else in its own buffer. */
	/* Records of up to IBUF_MAX/4 bytes are decoded where they were read. */
	if (hd.total > r->icap && r->icap < IBUF_MAX) {
		size_t cap = r->icap;
		uint8_t *n;

		while (cap < hd.total * 4 && cap < IBUF_MAX)
			cap *= 2;
		if ((n = realloc(r->ibuf, cap)) != NULL) {
			r->ibuf = n;
			r->icap = cap;
		}
	}
	if (hd.total <= r->icap) {
		avail = fill(r, hd.total);
		if (avail == -1)
			return io_fail(r);
		if ((size_t)avail < hd.total)
			return truncated(r, off, (size_t)avail, hd.total);
		raw = r->ibuf + r->ipos;
		consume(r, hd.total);
	} else {
		size_t have;

		if (hd.total > r->bigcap) {
			uint8_t *n = realloc(r->big, hd.total);

			if (n == NULL)
				return fail(r, CDP_RE_IO, RESYNC_FAIL, off,
				    "%s", strerror(errno));
			r->big = n;
			r->bigcap = hd.total;
		}
		have = r->ilen - r->ipos;
		memcpy(r->big, r->ibuf + r->ipos, have);
		consume(r, have);
		while (have < hd.total) {
			ssize_t n = cdp_source_read(r->src, r->big + have,
			    hd.total - have);

			if (n == -1)
				return io_fail(r);
			if (n == 0) {
				r->eof = 1;
				return truncated(r, off, have, hd.total);
			}
			have += (size_t)n;
			r->off += (uint64_t)n;
		}
		raw = r->big;
	}

	payload = raw + hd.hdr_len;
	r->skipped_seq = hd.seq;
	for (i = hd.hdr_len + hd.payload_len; i < hd.total; i++)
		if (raw[i] != 0)
			return fail(r, CDP_RE_PADDING, RESYNC_SKIP, off,
			    "non-zero padding");
	if (cdp_crc32(0, payload, hd.payload_len) != hd.payload_crc)
		return fail(r, CDP_RE_PAYLOAD_CRC, RESYNC_SKIP, off,
		    "bad payload CRC");

	rec->type = hd.type;
	rec->flags = hd.flags;
	rec->seq = hd.seq;
	rec->time_ns = hd.time_ns;
	rec->offset = off;
	rec->stored_len = hd.payload_len;
	rec->raw_len = hd.raw_len;
	rec->raw = raw;
	rec->raw_size = hd.total;

	known = cdp_record_type_known(hd.type) &&
	    (hd.flags & ~CDP_F_KNOWN) == 0;
	/* CDP_READER_FRAMES: the payload of a numbered record stays as is. */
	frame_only = (r->flags & CDP_READER_FRAMES) && known &&
	    cdp_record_type_numbered(hd.type);
	if ((hd.flags & CDP_F_COMPRESSED) && !frame_only &&
	    inflate_payload(r, payload, &hd, off, &payload) == -1)
		return -1;
	if (!known && (hd.flags & CDP_F_MUST_UNDERSTAND))
		return fail(r, CDP_RE_MUST_UNDERSTAND, RESYNC_SKIP, off,
		    "unknown record type 0x%04x (flags 0x%04x) marked "
		    "MUST_UNDERSTAND", hd.type, hd.flags);
	if (known && (hd.seq == 0) == (cdp_record_type_numbered(hd.type) != 0)) {
		r->skipped_seq = 0;
		return fail(r, CDP_RE_HDR_BAD, RESYNC_SKIP, off,
		    "%s record with seq %llu", cdp_record_type_name(hd.type),
		    (unsigned long long)hd.seq);
	}

	/* The record is sound from here on; is it in its place? */
	misplaced = check_place(r, &hd, off) == -1;
	deliver = known || (r->flags & CDP_READER_KEEP_UNKNOWN);
	if (frame_only) {
		memset(rec->uuid, 0, sizeof(rec->uuid));
		rec->path[0] = rec->path2[0] = rec->name[0] = '\0';
		rec->data = NULL;
		rec->data_len = 0;
	} else if (known) {
		if (cdp_record_decode(rec, payload, hd.raw_len, &why) == -1) {
			if (misplaced) {
				/* Report the first problem; skip the record. */
				r->how = RESYNC_SKIP;
				return -1;
			}
			return fail(r, CDP_RE_PAYLOAD, RESYNC_SKIP, off,
			    "record %llu (%s): malformed payload: %s",
			    (unsigned long long)hd.seq,
			    cdp_record_type_name(hd.type), why);
		}
	} else {
		memset(rec->uuid, 0, sizeof(rec->uuid));
		rec->path[0] = rec->path2[0] = rec->name[0] = '\0';
		rec->data = payload;
		rec->data_len = hd.raw_len;
	}
	if (misplaced || check_end(r, rec) == -1) {
		if (hold(r, rec, deliver) == -1)
			return fail(r, CDP_RE_IO, RESYNC_FAIL, off, "%s",
			    strerror(errno));
		return -1;
	}
	apply_stream(r, rec);
	if (!deliver)
		goto again;
	return 1;
}

int
cdp_reader_next(struct cdp_reader *r, struct cdp_record *rec)
{
	if (r->deliver_held) {
		r->deliver_held = 0;
		apply_stream(r, r->held);
		if (r->held_deliver) {
			*rec = *r->held;
			return 1;
		}
	}
	if (r->err != CDP_RE_NONE)
		return -1;
	if (r->resyncing) {
		r->resyncing = 0;
		if (scan(r) == -1)
			return -1;
	}
	return read_record(r, rec);
}

int
cdp_reader_resync(struct cdp_reader *r)
{
	switch (r->how) {
	case RESYNC_FAIL:
		return -1;
	case RESYNC_SCAN:
		/* ipos is still at the bad header: scan from its next byte. */
		r->resyncing = 1;
		break;
	case RESYNC_DELIVER:
		r->deliver_held = 1;
		break;
	case RESYNC_SKIP:
		/*
		 * The damaged record was consumed; its header is sound, so
		 * its seq counts and the numbering goes on after it.
		 */
		if (r->skipped_seq != 0 && r->cur != NULL && !r->ended)
			r->cur->last_seq = r->skipped_seq;
		break;
	case RESYNC_END:
		consume(r, r->ilen - r->ipos);
		r->eof = 1;
		break;
	case RESYNC_NONE:
		break;
	}
	r->err = CDP_RE_NONE;
	r->how = RESYNC_NONE;
	r->msg[0] = '\0';
	return 0;
}

const char *
cdp_reader_error(const struct cdp_reader *r)
{
	return r->msg;
}

enum cdp_reader_err
cdp_reader_errcode(const struct cdp_reader *r)
{
	return r->err;
}

uint64_t
cdp_reader_error_offset(const struct cdp_reader *r)
{
	return r->err_off;
}

int
cdp_reader_torn_tail(const struct cdp_reader *r)
{
	return r->torn_tail;
}

uint64_t
cdp_reader_offset(const struct cdp_reader *r)
{
	return r->off;
}

const uint8_t *
cdp_reader_uuid(const struct cdp_reader *r)
{
	return r->cur != NULL ? r->cur->uuid : NULL;
}

uint64_t
cdp_reader_last_seq(const struct cdp_reader *r)
{
	return r->cur != NULL ? r->cur->last_seq : 0;
}
