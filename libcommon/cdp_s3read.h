/*
 * cdp_s3read.h: the journal bytes of a store in a bucket, for reading.
 *
 * The objects the manifest names (a base, then the segments in seq
 * order: cdp_manifest.h), fetched one at a time and handed out as one
 * byte stream, as cdp_source does for a store directory.  Only what the
 * manifest names is read, and only as many bytes of each object as it
 * says: an object still being uploaded, or left half-written by a crash,
 * is never seen.  Records a receiver acknowledged but has not uploaded yet
 * are in its staging directory, not here.
 */
#ifndef CDP_S3READ_H
#define CDP_S3READ_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct cdp_s3read;

/*
 * Open url (s3://BUCKET/PREFIX) and read its manifest.  NULL with errno
 * set and a message in why: ENOENT (no such bucket, or no store under
 * that prefix), EACCES, EAGAIN, EBADMSG (a damaged manifest), EINVAL.
 */
struct cdp_s3read *cdp_s3read_open(const char *url, char *why,
	    size_t whylen);

/* Read up to n bytes: the count, 0 at the end, -1 with errno set. */
ssize_t	 cdp_s3read_read(struct cdp_s3read *, void *buf, size_t n);

/* Total bytes the manifest names. */
uint64_t cdp_s3read_size(const struct cdp_s3read *);

/* "NAME: offset N" for stream offset off, as cdp_source_where(). */
void	 cdp_s3read_where(const struct cdp_s3read *, uint64_t off, char *buf,
	    size_t size);

/* The message for the last failed read ("" if none). */
const char *cdp_s3read_error(const struct cdp_s3read *);

void	 cdp_s3read_close(struct cdp_s3read *);

#endif
