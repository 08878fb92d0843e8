/*
 * fuzz_reader.c: feed arbitrary bytes to the journal reader.
 *
 * The bytes go into a memfd, which cdp_source_fd() reads like any journal
 * file (so pcap detection is fuzzed too).  The reader is driven the way
 * cdp-dump drives it: on a problem, resynchronise and go on, until the end
 * of the input or a problem that cannot be passed.  Every field of every
 * record is touched, so that AddressSanitizer sees any bad pointer or
 * length the reader hands out.
 *
 * Built two ways by scripts/fuzz.sh: with clang -fsanitize=fuzzer as a
 * libFuzzer target, and linked with replay.c as a plain program that runs
 * each file (or each file in each directory) named on its command line.
 */
#include <sys/mman.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cdp_reader.h"
#include "cdp_record.h"
#include "cdp_source.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* More records or resyncs than any input this small can hold. */
#define MAX_STEPS	100000
/* The same error at the same offset this often: the reader is stuck. */
#define MAX_STUCK	3

static volatile uint64_t sink;

static int
write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void
touch(const struct cdp_record *rec)
{
	uint64_t h = rec->type ^ rec->seq ^ rec->off ^ rec->len;
	size_t i;

	h += strlen(rec->path) + strlen(rec->path2) + strlen(rec->name);
	for (i = 0; i < rec->raw_size; i++)
		h += rec->raw[i];
	for (i = 0; i < rec->data_len; i++)
		h += rec->data[i];
	if (cdp_record_type_name(rec->type) != NULL)
		h += strlen(cdp_record_type_name(rec->type));
	sink += h;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cdp_source *src;
	struct cdp_reader *r;
	struct cdp_record *rec;
	uint64_t last_off = UINT64_MAX;
	enum cdp_reader_err last_err = CDP_RE_NONE;
	int fd, n, stuck = 0, steps;

	fd = memfd_create("fuzz", MFD_CLOEXEC);
	if (fd == -1) {
		perror("memfd_create");
		abort();
	}
	if (write_all(fd, data, size) == -1 || lseek(fd, 0, SEEK_SET) != 0) {
		perror("memfd");
		abort();
	}
	/* struct cdp_record holds three path buffers: keep it off the stack. */
	if ((rec = calloc(1, sizeof(*rec))) == NULL)
		abort();

	if ((src = cdp_source_fd(fd, "fuzz")) == NULL)
		goto out;		/* e.g. a pcap file of another link type */
	if ((r = cdp_reader_open(src, CDP_READER_KEEP_UNKNOWN)) == NULL) {
		cdp_source_close(src);
		goto out;
	}
	for (steps = 0; steps < MAX_STEPS; steps++) {
		n = cdp_reader_next(r, rec);
		if (n == 0)
			break;
		if (n == 1) {
			touch(rec);
			stuck = 0;
			continue;
		}
		sink += strlen(cdp_reader_error(r));
		if (cdp_reader_error_offset(r) == last_off &&
		    cdp_reader_errcode(r) == last_err) {
			if (++stuck >= MAX_STUCK) {
				fprintf(stderr, "fuzz_reader: reader stuck at "
				    "offset %llu: %s\n",
				    (unsigned long long)last_off,
				    cdp_reader_error(r));
				abort();
			}
		} else
			stuck = 0;
		last_off = cdp_reader_error_offset(r);
		last_err = cdp_reader_errcode(r);
		if (cdp_reader_resync(r) == -1)
			break;
	}
	sink += cdp_reader_offset(r) + cdp_reader_last_seq(r);
	cdp_reader_close(r);
	cdp_source_close(src);
out:
	free(rec);
	close(fd);
	return 0;
}
