/*
 * mkload: write a journal of many WRITE records, for replication tests and
 * benchmarks, and optionally the tree it describes.
 *
 * usage: mkload [-n RECORDS] [-s BYTES] [-f FILES] [-r MB/S] [-w SECONDS]
 *               [-t] [-o] [-C DIR] OUT
 *
 *   -n RECORDS   WRITE records (default 1000)
 *   -s BYTES     data bytes per WRITE (default 4096)
 *   -f FILES     spread over this many files (default 8)
 *   -r MB/S      pace the records to this rate, stamped with the real time
 *                they are written (for measuring lag); default: as fast as
 *                possible, and times are real too
 *   -w SECONDS   after the first records (header, CREATEs), flushed, wait
 *                this long before the WRITEs: a consumer that connects on
 *                the first record is ready when the paced part starts
 *   -t           compressible text data instead of pseudo-random bytes
 *   -o           leave the stream open (no STREAM_END)
 *   -C DIR       also write the files themselves below DIR, so that a
 *                replica can be compared with DIR
 *   OUT          file, or - for standard output (flushed after each record
 *                when -r is given)
 *
 * The data is a function of (file, offset), so two runs with the same
 * options describe the same tree.
 */
#include <err.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cdp_record.h"
#include "cdp_time.h"
#include "cdp_uuid.h"
#include "cdp_writer.h"

static void
fill(uint8_t *buf, size_t n, uint32_t file, uint64_t off, int text)
{
	uint64_t x = (off + 1) * 0x9e3779b97f4a7c15ull ^ file;
	size_t i;

	for (i = 0; i < n; i++) {
		if (text) {
			static const char words[] =
			    "the quick brown fox jumps over the lazy dog\n";

			buf[i] = (uint8_t)words[(off + i + file) %
			    (sizeof(words) - 1)];
			continue;
		}
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		buf[i] = (uint8_t)x;
	}
}

int
main(int argc, char **argv)
{
	long n = 1000, size = 4096, files = 8;
	double rate = 0, wait = 0;
	int text = 0, open_end = 0, ch, fd, tfd = -1, treefd = -1;
	const char *tree = NULL;
	struct cdp_record *rec;
	struct cdp_writer *w;
	uint8_t uuid[16], *buf;
	uint64_t *offs;
	int64_t start;
	long i;

	while ((ch = getopt(argc, argv, "C:f:n:or:s:tw:")) != -1) {
		switch (ch) {
		case 'C': tree = optarg; break;
		case 'f': files = atol(optarg); break;
		case 'n': n = atol(optarg); break;
		case 'o': open_end = 1; break;
		case 'r': rate = atof(optarg); break;
		case 's': size = atol(optarg); break;
		case 't': text = 1; break;
		case 'w': wait = atof(optarg); break;
		default:
			fprintf(stderr, "usage: mkload [-n RECORDS] [-s BYTES] "
			    "[-f FILES] [-r MB/S] [-w SECONDS] [-t] [-o] "
			    "[-C DIR] OUT\n");
			return 2;
		}
	}
	if (optind + 1 != argc || files < 1 || size < 1 || n < 0)
		errx(2, "bad arguments");
	fd = strcmp(argv[optind], "-") == 0 ? STDOUT_FILENO :
	    open(argv[optind], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd == -1)
		err(1, "%s", argv[optind]);
	if (tree != NULL && (treefd = open(tree, O_RDONLY | O_DIRECTORY)) == -1)
		err(1, "%s", tree);
	if ((rec = calloc(1, sizeof(*rec))) == NULL ||
	    (buf = malloc((size_t)size)) == NULL ||
	    (offs = calloc((size_t)files, sizeof(*offs))) == NULL)
		err(1, "malloc");
	if (cdp_uuid_generate(uuid) == -1 ||
	    (w = cdp_writer_open(fd, -1)) == NULL ||
	    cdp_writer_begin(w, uuid, "mkload", 1) == -1)
		err(1, "writer");
	for (i = 0; i < files; i++) {
		memset(rec, 0, sizeof(*rec));
		rec->type = CDP_T_CREATE;
		rec->mode = 0644;
		snprintf(rec->path, sizeof(rec->path), "f%03ld", i);
		if (cdp_writer_put(w, rec) == -1)
			err(1, "write");
		if (treefd != -1 && (tfd = openat(treefd, rec->path,
		    O_WRONLY | O_CREAT | O_TRUNC, 0644)) != -1)
			close(tfd);
	}
	if (wait > 0) {
		if (cdp_writer_flush(w) == -1)
			err(1, "write");
		usleep((useconds_t)(wait * 1e6));
	}
	start = cdp_time_now();
	for (i = 0; i < n; i++) {
		uint32_t f = (uint32_t)(i % files);

		memset(rec, 0, sizeof(*rec));
		rec->type = CDP_T_WRITE;
		snprintf(rec->path, sizeof(rec->path), "f%03u", f);
		rec->off = offs[f];
		fill(buf, (size_t)size, f, offs[f], text);
		rec->data = buf;
		rec->data_len = (size_t)size;
		if (rate > 0) {
			int64_t due = start + (int64_t)((double)i * size /
			    (rate * 1e6) * 1e9), now = cdp_time_now();

			if (due > now) {
				struct timespec ts = { (due - now) / 1000000000,
				    (due - now) % 1000000000 };

				nanosleep(&ts, NULL);
			}
		}
		if (cdp_writer_put(w, rec) == -1)
			err(1, "write");
		if (rate > 0 && cdp_writer_flush(w) == -1)
			err(1, "write");
		if (treefd != -1) {
			if ((tfd = openat(treefd, rec->path, O_WRONLY)) == -1 ||
			    pwrite(tfd, buf, (size_t)size, (off_t)offs[f]) !=
			    size)
				err(1, "%s/%s", tree, rec->path);
			close(tfd);
		}
		offs[f] += (uint64_t)size;
	}
	if ((open_end ? cdp_writer_flush(w) : cdp_writer_end(w)) == -1)
		err(1, "write");
	cdp_writer_close(w);
	free(offs);
	free(buf);
	free(rec);
	return 0;
}
