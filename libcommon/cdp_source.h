/*
 * cdp_source.h: the bytes of a journal, whatever holds them.
 *
 * A JOURNAL operand is a journal file, a pcap file holding a journal, a
 * store directory written by cdp-recv, a store in a bucket
 * (s3://BUCKET/PREFIX, cdp_s3read.h), or "-" for standard input.  A source
 * hides which: it yields the journal byte stream, and can say where a byte
 * offset of that stream lies ("00000000000000000001.cdpj: offset 96").
 */
#ifndef CDP_SOURCE_H
#define CDP_SOURCE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct cdp_source;

enum cdp_source_kind {
	CDP_SOURCE_JOURNAL,	/* plain journal bytes: file, pipe, stdin */
	CDP_SOURCE_PCAP,	/* pcap file, LINKTYPE_USER0 */
	CDP_SOURCE_STORE,	/* store directory, segments in seq order */
	CDP_SOURCE_BUCKET	/* store in a bucket: s3://BUCKET/PREFIX */
};

/*
 * Open path ("-" is standard input) and detect its kind.  Returns NULL with
 * errno set on failure: ENOENT, EACCES, ..., or EMEDIUMTYPE for something
 * that holds no journal (a pcap file of another link type, a directory
 * with neither segments nor a state file).
 */
struct cdp_source *cdp_source_open(const char *path);

/*
 * Like strerror(3), with EMEDIUMTYPE told in cdp's words; after a failed
 * cdp_source_open() or cdp_source_read() of a bucket in this thread, the
 * object store's own message for that errnum ("manifest: 403
 * AccessDenied").
 */
const char *cdp_source_strerror(int errnum);

/* A source on an already open descriptor; the source does not close it. */
struct cdp_source *cdp_source_fd(int fd, const char *name);

/* Read up to n bytes.  Returns the count, 0 at the end, -1 with errno set. */
ssize_t	 cdp_source_read(struct cdp_source *, void *buf, size_t n);

enum cdp_source_kind cdp_source_kind(const struct cdp_source *);
const char *cdp_source_name(const struct cdp_source *);

/* Total size in bytes when known (regular files, stores), else -1. */
int64_t	 cdp_source_size(const struct cdp_source *);

/*
 * Describe stream offset off as "offset N" or, in a store, "SEGMENT: offset
 * N" with N relative to that segment.  Always NUL-terminates buf.
 */
void	 cdp_source_where(const struct cdp_source *, uint64_t off, char *buf,
	    size_t size);

void	 cdp_source_close(struct cdp_source *);

#endif
