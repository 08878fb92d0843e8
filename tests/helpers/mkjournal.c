/*
 * mkjournal: write deterministic journals for the end-to-end tests.
 *
 * usage: mkjournal [-z LEVEL] MODE OUT
 *
 * Every record has a fixed time (T0 + 1 ms per record) and the stream a
 * fixed uuid, so the output is the same byte for byte on every run and a
 * test can compare a dump of it with a checked-in file.  OUT "-" is stdout.
 *
 * Modes:
 *   basic    every record type of format version 1 that a journal may
 *            hold at least once, then STREAM_END
 *   acks     a journal holding ACK and RESUME, which only the return
 *            channel may carry (so it is corrupt)
 *   hostile  names with control characters, a newline, a backslash, an
 *            escape sequence, invalid UTF-8, valid UTF-8 and quotes
 *   unknown  a stream holding an unknown record type (skippable, 0x0300)
 *   open     a stream without STREAM_END (as cut off by a crash)
 *   big      a 20 MiB WRITE of compressible text (the writer splits it)
 *            and a 1 MiB WRITE of pseudo-random bytes
 *   two      two streams back to back, each with a STREAM_END
 *
 * Uses libcommon's writer, so it shares the code under test; the handmade
 * journal (tests/e2e/data/handmade.py) is the independent check.
 */
#include <err.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "cdp_record.h"
#include "cdp_writer.h"
#include "cdp_uuid.h"

#define T0	1795617524123456789LL	/* 2026-11-25T14:38:44.123456789Z */
#define STEP	1000000LL		/* 1 ms between records */

struct mk {
	struct cdp_writer *w;
	int		 fd;
	int64_t		 t;
	struct cdp_record rec;
};

/*
 * Stream uuids: 0cd90000-0000-4000-8000-0000000000NN, NN different for
 * each stream mkjournal writes, so that journals of different modes can
 * be concatenated into one valid byte stream.
 */
static void
uuid_n(uint8_t uuid[16], int n)
{
	static const uint8_t base[16] = {
		0x0c, 0xd9, 0x00, 0x00, 0x00, 0x00, 0x40, 0x00,
		0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00
	};

	memcpy(uuid, base, 16);
	uuid[15] = (uint8_t)n;
}

static void
usage(void)
{
	fprintf(stderr, "usage: mkjournal [-z LEVEL] "
	    "basic|acks|hostile|unknown|open|big|two OUT\n");
	exit(2);
}

/* A fresh record of type with the next time stamp. */
static struct cdp_record *
rec(struct mk *m, uint16_t type)
{
	memset(&m->rec, 0, sizeof(m->rec));
	m->rec.type = type;
	m->rec.time_ns = m->t;
	m->t += STEP;
	return &m->rec;
}

static void
put(struct mk *m)
{
	if (cdp_writer_put(m->w, &m->rec) == -1)
		err(1, "cdp_writer_put type 0x%04x", m->rec.type);
}

static void
setpath(char *dst, const char *src)
{
	snprintf(dst, CDP_PATH_MAX + 1, "%s", src);
}

/* STREAM_HDR with a fixed time (cdp_writer_begin() would stamp now). */
static void
begin(struct mk *m, int n, const char *source)
{
	struct cdp_record *r = rec(m, CDP_T_STREAM_HDR);

	r->version = CDP_VERSION;
	uuid_n(r->uuid, n);
	setpath(r->path2, source);
	put(m);
}

static void
end(struct mk *m)
{
	struct cdp_record *r = rec(m, CDP_T_STREAM_END);

	r->u64 = cdp_writer_next_seq(m->w) - 1;
	put(m);
}

static void
path_op(struct mk *m, uint16_t type, const char *path)
{
	setpath(rec(m, type)->path, path);
	put(m);
}

static void
mode_op(struct mk *m, uint16_t type, uint32_t mode, const char *path)
{
	struct cdp_record *r = rec(m, type);

	r->mode = mode;
	setpath(r->path, path);
	put(m);
}

static void
two_op(struct mk *m, uint16_t type, uint32_t flags, const char *a,
    const char *b)
{
	struct cdp_record *r = rec(m, type);

	r->rflags = flags;
	setpath(r->path, a);
	setpath(r->path2, b);
	put(m);
}

static void
write_op(struct mk *m, uint64_t off, const char *path, const void *data,
    size_t len)
{
	struct cdp_record *r = rec(m, CDP_T_WRITE);

	r->off = off;
	setpath(r->path, path);
	r->data = data;
	r->data_len = len;
	put(m);
}

static void
mark(struct mk *m, const char *name)
{
	struct cdp_record *r = rec(m, CDP_T_MARK);

	snprintf(r->name, sizeof(r->name), "%s", name);
	put(m);
}

static void
basic(struct mk *m)
{
	static const char hello[] = "hello, world\n";
	static const uint8_t bin[40] = {
		0x00, 0x01, 0x02, 'a', 'b', '\\', '"', 0x7f, 0x80, 0xff,
		'x', 'y', 'z', ' ', 0x1b, '[', '2', 'J', 0x0a, 0x09,
	};
	uint8_t text[300];
	struct cdp_record *r;
	size_t i;

	for (i = 0; i < sizeof(text); i++)
		text[i] = (uint8_t)("0123456789abcdef\n"[i % 17]);

	begin(m, 1, "mkjournal:basic");
	rec(m, CDP_T_BASELINE_BEGIN);
	put(m);
	mode_op(m, CDP_T_MKDIR, 0755, "d");
	rec(m, CDP_T_BASELINE_END);
	put(m);
	mode_op(m, CDP_T_CREATE, 0644, "d/f");
	write_op(m, 0, "d/f", hello, sizeof(hello) - 1);
	write_op(m, 13, "d/f", bin, sizeof(bin));
	write_op(m, 53, "d/f", text, sizeof(text));
	write_op(m, 4096, "d/f", "", 0);
	r = rec(m, CDP_T_TRUNCATE);
	r->off = 100;
	setpath(r->path, "d/f");
	put(m);
	r = rec(m, CDP_T_FALLOCATE);
	r->mode = 0x1;
	r->off = 0;
	r->len = 8192;
	setpath(r->path, "d/f");
	put(m);
	r = rec(m, CDP_T_SETATTR);
	r->rflags = CDP_ATTR_MODE | CDP_ATTR_MTIME;
	r->mode = 0600;
	r->mtime_ns = 1795617500000000000LL;
	setpath(r->path, "d/f");
	put(m);
	r = rec(m, CDP_T_SETATTR);
	r->rflags = CDP_ATTR_ALL;
	r->mode = 04755;
	r->uid = 1000;
	r->gid = 100;
	r->atime_ns = -1;
	r->mtime_ns = 0;
	setpath(r->path, "d");
	put(m);
	r = rec(m, CDP_T_SETXATTR);
	setpath(r->path, "d/f");
	snprintf(r->name, sizeof(r->name), "user.comment");
	r->data = (const uint8_t *)"checked";
	r->data_len = 7;
	put(m);
	r = rec(m, CDP_T_REMOVEXATTR);
	setpath(r->path, "d/f");
	snprintf(r->name, sizeof(r->name), "user.comment");
	put(m);
	two_op(m, CDP_T_SYMLINK, 0, "d/s", "f");
	two_op(m, CDP_T_LINK, 0, "d/f", "d/h");
	two_op(m, CDP_T_RENAME, 0, "d/h", "d/g");
	two_op(m, CDP_T_RENAME, CDP_RENAME_NOREPLACE, "d/g", "d/e");
	two_op(m, CDP_T_RENAME, CDP_RENAME_EXCHANGE, "d/e", "d/f");
	mark(m, "before cleanup");
	rec(m, CDP_T_HEARTBEAT);
	put(m);
	r = rec(m, CDP_T_FSYNC);
	r->rflags = CDP_FSYNC_DATASYNC;
	setpath(r->path, "d/f");
	put(m);
	rec(m, CDP_T_FSYNC);
	put(m);
	path_op(m, CDP_T_UNLINK, "d/s");
	path_op(m, CDP_T_UNLINK, "d/e");
	path_op(m, CDP_T_UNLINK, "d/f");
	path_op(m, CDP_T_RMDIR, "d");
	end(m);
}

/* The return channel's types, which a journal must not hold. */
static void
acks(struct mk *m)
{
	struct cdp_record *r;

	begin(m, 2, "mkjournal:acks");
	mode_op(m, CDP_T_CREATE, 0644, "f");
	r = rec(m, CDP_T_RESUME);
	uuid_n(r->uuid, 2);
	r->u64 = 2;
	put(m);
	r = rec(m, CDP_T_ACK);
	uuid_n(r->uuid, 2);
	r->u64 = 1;
	put(m);
	path_op(m, CDP_T_UNLINK, "f");
	end(m);
}

static void
hostile(struct mk *m)
{
	struct cdp_record *r;

	begin(m, 3, "evil\x1b]0;owned\x07 source");
	mode_op(m, CDP_T_CREATE, 0644, "new\nline");
	mode_op(m, CDP_T_CREATE, 0644, "esc\x1b[31mred");
	mode_op(m, CDP_T_CREATE, 0644, "back\\slash \"quoted\"");
	mode_op(m, CDP_T_CREATE, 0644, "latin1-\xe9t\xe9");
	mode_op(m, CDP_T_CREATE, 0644, "utf8-\xc3\xa9t\xc3\xa9-\xe2\x82\xac");
	mode_op(m, CDP_T_CREATE, 0644, "c1-\xc2\x9b" "31m");
	mode_op(m, CDP_T_CREATE, 0644, "tab\there del\x7f");
	two_op(m, CDP_T_RENAME, 0, "a -> b", "c\rd");
	mark(m, "mark \xff\"name\\");
	r = rec(m, CDP_T_SETXATTR);
	setpath(r->path, "new\nline");
	snprintf(r->name, sizeof(r->name), "user.a b\x1b");
	r->data = (const uint8_t *)"v\x1b[2J\"\n";
	r->data_len = 7;
	put(m);
	end(m);
}

/* A record of a type this format version does not define. */
static void
unknown(struct mk *m)
{
	static const uint8_t payload[5] = { 'h', 'e', 'l', 'l', 'o' };
	uint8_t raw[CDP_HDR_LEN + 8];
	struct cdp_record r;

	begin(m, 4, "mkjournal:unknown");
	mode_op(m, CDP_T_CREATE, 0644, "f");
	memset(raw, 0, sizeof(raw));
	cdp_writer_frame(raw, 0x0300, 0, cdp_writer_next_seq(m->w), m->t,
	    sizeof(payload), sizeof(payload), (uint32_t)crc32(0, payload,
	    sizeof(payload)));
	memcpy(raw + CDP_HDR_LEN, payload, sizeof(payload));
	memset(&r, 0, sizeof(r));
	r.seq = cdp_writer_next_seq(m->w);
	r.raw = raw;
	r.raw_size = sizeof(raw);
	m->t += STEP;
	if (cdp_writer_put_raw(m->w, &r) == -1)
		err(1, "cdp_writer_put_raw");
	path_op(m, CDP_T_UNLINK, "f");
	end(m);
}

static void
open_stream(struct mk *m)
{
	begin(m, 5, "mkjournal:open");
	mode_op(m, CDP_T_MKDIR, 0700, "dir");
	mode_op(m, CDP_T_CREATE, 0600, "dir/log");
	write_op(m, 0, "dir/log", "line 1\n", 7);
	rec(m, CDP_T_HEARTBEAT);
	put(m);
}

static void
big(struct mk *m)
{
	const size_t n = 20u * 1024 * 1024, nr = 1024 * 1024;
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	uint8_t *buf;
	size_t i;

	if ((buf = malloc(n)) == NULL)
		err(1, "malloc");
	for (i = 0; i < n; i++)
		buf[i] = (uint8_t)("The quick brown fox jumps over the lazy "
		    "dog.\n"[i % 45]);
	begin(m, 6, "mkjournal:big");
	mode_op(m, CDP_T_CREATE, 0644, "big.txt");
	write_op(m, 0, "big.txt", buf, n);
	/* xorshift64: incompressible, and the same on every run. */
	for (i = 0; i < nr; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		buf[i] = (uint8_t)(x >> 56);
	}
	mode_op(m, CDP_T_CREATE, 0644, "random.bin");
	write_op(m, 0, "random.bin", buf, nr);
	end(m);
	free(buf);
}

static void
two(struct mk *m)
{
	begin(m, 7, "mkjournal:two/1");
	mode_op(m, CDP_T_CREATE, 0644, "one");
	end(m);
	if (cdp_writer_flush(m->w) == -1)
		err(1, "write");
	cdp_writer_close(m->w);
	if ((m->w = cdp_writer_open(m->fd, -1)) == NULL)
		err(1, "cdp_writer_open");
	begin(m, 8, "mkjournal:two/2");
	mode_op(m, CDP_T_CREATE, 0644, "two");
	end(m);
}

int
main(int argc, char **argv)
{
	struct mk m;
	const char *mode, *out;
	int c, level = -1;

	while ((c = getopt(argc, argv, "z:")) != -1) {
		switch (c) {
		case 'z':
			level = atoi(optarg);
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 2)
		usage();
	mode = argv[optind];
	out = argv[optind + 1];

	memset(&m, 0, sizeof(m));
	m.t = T0;
	if (strcmp(out, "-") == 0)
		m.fd = STDOUT_FILENO;
	else if ((m.fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0666)) == -1)
		err(1, "%s", out);
	if ((m.w = cdp_writer_open(m.fd, level)) == NULL)
		err(1, "cdp_writer_open");

	if (strcmp(mode, "basic") == 0)
		basic(&m);
	else if (strcmp(mode, "acks") == 0)
		acks(&m);
	else if (strcmp(mode, "hostile") == 0)
		hostile(&m);
	else if (strcmp(mode, "unknown") == 0)
		unknown(&m);
	else if (strcmp(mode, "open") == 0)
		open_stream(&m);
	else if (strcmp(mode, "big") == 0)
		big(&m);
	else if (strcmp(mode, "two") == 0)
		two(&m);
	else
		usage();

	if (cdp_writer_flush(m.w) == -1)
		err(1, "%s", out);
	cdp_writer_close(m.w);
	if (m.fd != STDOUT_FILENO && close(m.fd) == -1)
		err(1, "%s", out);
	return 0;
}
