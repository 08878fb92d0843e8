/*
 * bench_codec: time the journal writer and reader (bench/10_codec.sh).
 *
 * usage: bench_codec encode OUT MIB   write MIB WRITE records of 1 MiB each
 *                                     to OUT ("/dev/null" or a tmpfs file)
 *        bench_codec decode FILE      read FILE with cdp_reader to its end
 *        bench_codec crc32 FILE       load FILE into memory, then time
 *                                     zlib's crc32() over it alone
 *
 * Each prints one line, "bytes=N seconds=S" (decode adds "records=N"), for
 * the script to turn into GB/s.  Only the work itself is timed: not
 * starting up, and for crc32 not loading the file.
 */
#include <err.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "cdp_reader.h"
#include "cdp_record.h"
#include "cdp_source.h"
#include "cdp_writer.h"

#define CHUNK	(1024 * 1024)		/* data bytes per WRITE record */

static const uint8_t uuid[16] = {
	0x0c, 0xd9, 0xbe, 0x4c, 0x00, 0x00, 0x40, 0x00,
	0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: bench_codec encode OUT MIB | decode FILE | "
	    "crc32 FILE\n");
	exit(2);
}

static int
encode(const char *out, long mib)
{
	struct cdp_writer *w;
	struct cdp_record *rec;
	uint8_t *buf;
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	double t0, t1;
	size_t i;
	long k;
	int fd;

	if ((fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644)) == -1)
		err(1, "%s", out);
	if ((buf = malloc(CHUNK)) == NULL || (rec = calloc(1, sizeof(*rec))) == NULL)
		err(1, "malloc");
	for (i = 0; i < CHUNK; i++) {		/* xorshift: incompressible */
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		buf[i] = (uint8_t)x;
	}
	if ((w = cdp_writer_open(fd, -1)) == NULL)
		err(1, "cdp_writer_open");

	t0 = now();
	if (cdp_writer_begin(w, uuid, "bench", 1) == -1)
		err(1, "%s: begin", out);
	rec->type = CDP_T_WRITE;
	strcpy(rec->path, "bench/data");
	rec->data = buf;
	rec->data_len = CHUNK;
	for (k = 0; k < mib; k++) {
		rec->off = (uint64_t)k * CHUNK;
		if (cdp_writer_put(w, rec) == -1)
			err(1, "%s: write record %ld", out, k + 1);
	}
	if (cdp_writer_end(w) == -1)
		err(1, "%s", out);
	t1 = now();

	printf("bytes=%llu seconds=%.6f\n",
	    (unsigned long long)cdp_writer_bytes(w), t1 - t0);
	cdp_writer_close(w);
	if (close(fd) == -1)
		err(1, "%s", out);
	free(rec);
	free(buf);
	return 0;
}

static int
decode(const char *path)
{
	struct cdp_source *src;
	struct cdp_reader *r;
	struct cdp_record *rec;
	uint64_t records = 0, data = 0;
	double t0, t1;
	int n;

	if ((rec = calloc(1, sizeof(*rec))) == NULL)
		err(1, "malloc");
	t0 = now();
	if ((src = cdp_source_open(path)) == NULL)
		err(1, "%s", path);
	if ((r = cdp_reader_open(src, 0)) == NULL)
		err(1, "%s: cdp_reader_open", path);
	while ((n = cdp_reader_next(r, rec)) == 1) {
		records++;
		data += rec->data_len;
	}
	if (n == -1)
		errx(1, "%s: %s", path, cdp_reader_error(r));
	t1 = now();

	printf("bytes=%llu seconds=%.6f records=%llu data=%llu\n",
	    (unsigned long long)cdp_reader_offset(r), t1 - t0,
	    (unsigned long long)records, (unsigned long long)data);
	cdp_reader_close(r);
	cdp_source_close(src);
	free(rec);
	return 0;
}

static int
crc(const char *path)
{
	uint8_t *buf;
	off_t size;
	size_t got = 0, off, n;
	uLong c;
	double t0, t1;
	int fd;

	if ((fd = open(path, O_RDONLY)) == -1)
		err(1, "%s", path);
	if ((size = lseek(fd, 0, SEEK_END)) == -1 || lseek(fd, 0, SEEK_SET) == -1)
		err(1, "%s", path);
	if ((buf = malloc(size > 0 ? (size_t)size : 1)) == NULL)
		err(1, "malloc");
	while (got < (size_t)size) {
		ssize_t r = read(fd, buf + got, (size_t)size - got);

		if (r == -1)
			err(1, "%s", path);
		if (r == 0)
			errx(1, "%s: file shrank", path);
		got += (size_t)r;
	}
	close(fd);

	/* zlib's crc32() takes a uInt length: feed it 1 GiB at a time. */
	t0 = now();
	c = crc32(0L, Z_NULL, 0);
	for (off = 0; off < got; off += n) {
		n = got - off < (1u << 30) ? got - off : (1u << 30);
		c = crc32(c, buf + off, (uInt)n);
	}
	t1 = now();

	printf("bytes=%zu seconds=%.6f crc=%08lx\n", got, t1 - t0, c);
	free(buf);
	return 0;
}

int
main(int argc, char **argv)
{
	char *end;
	long mib;

	if (argc == 4 && strcmp(argv[1], "encode") == 0) {
		mib = strtol(argv[3], &end, 10);
		if (*end != '\0' || mib < 1)
			usage();
		return encode(argv[2], mib);
	}
	if (argc == 3 && strcmp(argv[1], "decode") == 0)
		return decode(argv[2]);
	if (argc == 3 && strcmp(argv[1], "crc32") == 0)
		return crc(argv[2]);
	usage();
}
