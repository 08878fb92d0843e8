/*
 * cdp_writer.c: the buffered journal writer.
 *
 * Small records are gathered in a buffer and written with one write(2);
 * a record with a large data part goes out with writev(2) straight from
 * the caller's memory, so bulk data is never copied.  Compression is per
 * record and kept only when it makes the payload smaller, so incompressible
 * data costs one failed deflate and nothing on the reading side.
 */
#include <sys/uio.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <libdeflate.h>

#include "cdp_crc32.h"
#include "cdp_writer.h"

/* Below this many payload bytes compression is not worth a try. */
#define COMPRESS_MIN	128
/* Data parts at least this long bypass the buffer. */
#define DIRECT_MIN	(64 * 1024)

struct cdp_writer {
	int		 fd;
	int		 level;		/* zlib level, 0: no compression */
	uint8_t		*buf;
	size_t		 len;
	uint64_t	 next_seq;
	uint64_t	 bytes;
	struct libdeflate_compressor *deflater;
	uint8_t		*zbuf;		/* compressed payload */
	uint8_t		*flat;		/* head and data together, to compress */
	size_t		 zcap;
	uint8_t		 head[CDP_RECORD_HEAD_MAX];
};

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static void
put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

void
cdp_writer_frame(uint8_t hdr[CDP_HDR_LEN], uint16_t type, uint16_t flags,
    uint64_t seq, int64_t time_ns, uint32_t stored_len, uint32_t raw_len,
    uint32_t payload_crc)
{
	memcpy(hdr, CDP_MAGIC, 4);
	put16(hdr + 4, type);
	put16(hdr + 6, flags);
	put32(hdr + 8, CDP_HDR_LEN);
	put32(hdr + 12, stored_len);
	put64(hdr + 16, seq);
	put64(hdr + 24, (uint64_t)time_ns);
	put32(hdr + 32, raw_len);
	put32(hdr + 36, payload_crc);
	put32(hdr + 40, 0);
	put32(hdr + 44, cdp_crc32(0, hdr, 44));
}

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

struct cdp_writer *
cdp_writer_open(int fd, int level)
{
	struct cdp_writer *w = calloc(1, sizeof(*w));

	if (w == NULL)
		return NULL;
	if ((w->buf = malloc(CDP_WRITER_BUFSIZE)) == NULL) {
		free(w);
		return NULL;
	}
	w->fd = fd;
	w->level = level > 0 ? (level > 9 ? 9 : level) : 0;
	w->next_seq = 1;
	return w;
}

void
cdp_writer_close(struct cdp_writer *w)
{
	if (w == NULL)
		return;
	if (w->deflater != NULL)
		libdeflate_free_compressor(w->deflater);
	free(w->zbuf);
	free(w->flat);
	free(w->buf);
	free(w);
}

/* writev(2) until everything is out; iov is consumed. */
static int
writev_all(int fd, struct iovec *iov, int n)
{
	while (n > 0) {
		ssize_t r = writev(fd, iov, n);

		if (r == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		while (n > 0 && (size_t)r >= iov->iov_len) {
			r -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + r;
			iov->iov_len -= (size_t)r;
		}
	}
	return 0;
}

int
cdp_writer_flush(struct cdp_writer *w)
{
	struct iovec iov = { w->buf, w->len };

	if (w->len == 0)
		return 0;
	if (writev_all(w->fd, &iov, 1) == -1) {
		/* Keep what was not written, so a retry loses nothing. */
		size_t done = w->len - iov.iov_len;

		memmove(w->buf, w->buf + done, iov.iov_len);
		w->len = iov.iov_len;
		return -1;
	}
	w->len = 0;
	return 0;
}

/*
 * Compress head + data into zbuf as a zlib stream.  Returns its length, or
 * 0 if it would not be smaller than the raw payload (then it is not used).
 */
static size_t
compress_payload(struct cdp_writer *w, size_t head_len, const uint8_t *data,
    size_t data_len)
{
	size_t raw = head_len + data_len;

	if (w->deflater == NULL &&
	    (w->deflater = libdeflate_alloc_compressor(w->level)) == NULL)
		return 0;
	if (w->zcap < raw) {
		uint8_t *z = realloc(w->zbuf, raw), *f;

		if (z == NULL)
			return 0;
		w->zbuf = z;
		if ((f = realloc(w->flat, raw)) == NULL)
			return 0;
		w->flat = f;
		w->zcap = raw;
	}
	memcpy(w->flat, w->head, head_len);
	if (data_len > 0)
		memcpy(w->flat + head_len, data, data_len);
	return libdeflate_zlib_compress(w->deflater, w->flat, raw, w->zbuf,
	    raw - 1);
}

/* Frame and write one record whose payload is head + data. */
static int
emit(struct cdp_writer *w, uint16_t type, uint16_t flags, uint64_t seq,
    int64_t time_ns, size_t head_len, const uint8_t *data, size_t data_len)
{
	static const uint8_t zeros[CDP_ALIGN];
	uint8_t hdr[CDP_HDR_LEN];
	size_t raw_len = head_len + data_len, stored, total, pad;
	const uint8_t *p1 = w->head, *p2 = data;
	size_t l1 = head_len, l2 = data_len;
	uint32_t crc;

	if (raw_len > CDP_PAYLOAD_MAX) {
		errno = EINVAL;
		return -1;
	}
	stored = 0;
	if (w->level > 0 && raw_len >= COMPRESS_MIN)
		stored = compress_payload(w, head_len, data, data_len);
	if (stored > 0) {
		flags |= CDP_F_COMPRESSED;
		p1 = w->zbuf;
		l1 = stored;
		p2 = NULL;
		l2 = 0;
		crc = cdp_crc32(0, w->zbuf, stored);
	} else {
		stored = raw_len;
		crc = cdp_crc32(0, w->head, head_len);
		if (data_len > 0)
			crc = cdp_crc32(crc, data, data_len);
	}
	cdp_writer_frame(hdr, type, flags, seq, time_ns, (uint32_t)stored,
	    (uint32_t)raw_len, crc);
	total = (CDP_HDR_LEN + stored + CDP_ALIGN - 1) & ~(size_t)(CDP_ALIGN - 1);
	pad = total - CDP_HDR_LEN - stored;

	if (l2 >= DIRECT_MIN) {
		struct iovec iov[4] = {
			{ hdr, CDP_HDR_LEN },
			{ (void *)(uintptr_t)p1, l1 },
			{ (void *)(uintptr_t)p2, l2 },
			{ (void *)(uintptr_t)zeros, pad },
		};

		if (cdp_writer_flush(w) == -1 || writev_all(w->fd, iov, 4) == -1)
			return -1;
	} else {
		if (total > CDP_WRITER_BUFSIZE - w->len &&
		    cdp_writer_flush(w) == -1)
			return -1;
		if (total > CDP_WRITER_BUFSIZE) {
			struct iovec iov[3] = {
				{ hdr, CDP_HDR_LEN },
				{ (void *)(uintptr_t)p1, l1 },
				{ (void *)(uintptr_t)zeros, pad },
			};

			if (writev_all(w->fd, iov, 3) == -1)
				return -1;
		} else {
			uint8_t *b = w->buf + w->len;

			memcpy(b, hdr, CDP_HDR_LEN);
			memcpy(b + CDP_HDR_LEN, p1, l1);
			if (l2 > 0)
				memcpy(b + CDP_HDR_LEN + l1, p2, l2);
			memset(b + CDP_HDR_LEN + stored, 0, pad);
			w->len += total;
		}
	}
	w->bytes += total;
	return 0;
}

static int
put_one(struct cdp_writer *w, const struct cdp_record *rec)
{
	long head_len;
	uint16_t flags = 0;
	uint64_t seq = 0;

	head_len = cdp_record_encode_head(rec, w->head, sizeof(w->head));
	if (head_len == -1)
		return -1;
	if (rec->type == CDP_T_STREAM_HDR || rec->type == CDP_T_ACK ||
	    rec->type == CDP_T_RESUME || cdp_record_type_changes_tree(rec->type))
		flags |= CDP_F_MUST_UNDERSTAND;
	if (cdp_record_type_numbered(rec->type))
		seq = w->next_seq;
	if (emit(w, rec->type, flags, seq, rec->time_ns ? rec->time_ns :
	    now_ns(), (size_t)head_len, rec->data, rec->data_len) == -1)
		return -1;
	if (seq != 0)
		w->next_seq++;
	return 0;
}

int
cdp_writer_put(struct cdp_writer *w, const struct cdp_record *rec)
{
	struct cdp_record part;
	size_t done;

	if (rec->type != CDP_T_WRITE || rec->data_len <= CDP_WRITE_DATA_MAX)
		return put_one(w, rec);
	/* Split: every part is a WRITE of its own, at its own offset. */
	if (rec->off > (uint64_t)INT64_MAX - rec->data_len) {
		errno = EINVAL;
		return -1;
	}
	part = *rec;
	for (done = 0; done < rec->data_len; done += part.data_len) {
		part.off = rec->off + done;
		part.data = rec->data + done;
		part.data_len = rec->data_len - done;
		if (part.data_len > CDP_WRITE_DATA_MAX)
			part.data_len = CDP_WRITE_DATA_MAX;
		if (put_one(w, &part) == -1)
			return -1;
	}
	return 0;
}

int
cdp_writer_put_raw(struct cdp_writer *w, const struct cdp_record *rec)
{
	if (rec->raw_size > CDP_WRITER_BUFSIZE - w->len &&
	    cdp_writer_flush(w) == -1)
		return -1;
	if (rec->raw_size > CDP_WRITER_BUFSIZE) {
		struct iovec iov = { (void *)(uintptr_t)rec->raw, rec->raw_size };

		if (writev_all(w->fd, &iov, 1) == -1)
			return -1;
	} else {
		memcpy(w->buf + w->len, rec->raw, rec->raw_size);
		w->len += rec->raw_size;
	}
	w->bytes += rec->raw_size;
	if (rec->seq != 0)
		w->next_seq = rec->seq + 1;
	return 0;
}

int
cdp_writer_begin(struct cdp_writer *w, const uint8_t uuid[16],
    const char *source, uint64_t next_seq)
{
	struct cdp_record rec;

	if (next_seq == 0 || strlen(source) > CDP_SOURCE_MAX) {
		errno = EINVAL;
		return -1;
	}
	memset(&rec, 0, sizeof(rec));
	rec.type = CDP_T_STREAM_HDR;
	rec.version = CDP_VERSION;
	memcpy(rec.uuid, uuid, 16);
	memcpy(rec.path2, source, strlen(source) + 1);
	w->next_seq = next_seq;
	return put_one(w, &rec);
}

int
cdp_writer_end(struct cdp_writer *w)
{
	struct cdp_record rec;

	memset(&rec, 0, sizeof(rec));
	rec.type = CDP_T_STREAM_END;
	rec.u64 = w->next_seq - 1;
	if (put_one(w, &rec) == -1)
		return -1;
	return cdp_writer_flush(w);
}

uint64_t
cdp_writer_next_seq(const struct cdp_writer *w)
{
	return w->next_seq;
}

uint64_t
cdp_writer_bytes(const struct cdp_writer *w)
{
	return w->bytes;
}
