/*
 * cdp_s3store.h: the bucket side of a store in an object store.
 *
 * cdp-recv keeps a store under s3://BUCKET/PREFIX as a local staging
 * store (cdp_store.h) whose sealed segments it uploads, one object each,
 * named as in a store directory; the manifest (cdp_manifest.h) says which
 * objects make up the stream.  This module holds the receiver's side of
 * the bucket: the lease that keeps a second receiver off the prefix
 * (cdp_s3lease.h), the manifest, and the upload of one segment followed
 * by the manifest that names it.  The manifest is written only while the
 * lease is surely ours.
 *
 * One thread uses a handle at a time (the lease has its own).
 */
#ifndef CDP_S3STORE_H
#define CDP_S3STORE_H

#include <stddef.h>
#include <stdint.h>

#include "cdp_manifest.h"

struct cdp_s3store;

/*
 * Open the bucket at url (s3://BUCKET/PREFIX; endpoint as in cdp_s3.h):
 * check the bucket, take the lease as holder ("host:/stage/dir"), read the
 * manifest (none yet: an empty one).  NULL with errno set and a message
 * in why: EBUSY when another receiver holds the lease, and the errors of
 * cdp_s3.h (ENOENT: no such bucket, EACCES, EAGAIN, EINVAL).
 */
struct cdp_s3store *cdp_s3store_open(const char *url, const char *endpoint,
	    const char *holder, char *why, size_t whylen);

/*
 * Whether the lease allows writing: cdp_s3lease_check() (0; or -1 with
 * errno EBUSY: lost for good, EAGAIN: wait), waiting up to wait_ms.
 */
int	 cdp_s3store_lease(struct cdp_s3store *, int wait_ms);

/* The manifest as the bucket has it now.  Not to be changed. */
const struct cdp_manifest *cdp_s3store_manifest(const struct cdp_s3store *);

/* Take the stream's uuid (a new store's first stream). */
void	 cdp_s3store_set_uuid(struct cdp_s3store *, const uint8_t uuid[16]);

/*
 * Upload the first size bytes of fd as segment first (records through
 * seq last, the newest of them from seg_time), then the manifest that
 * names it, with time_ns as the newest record time the receiver has.  0,
 * or -1 with errno (EAGAIN: worth trying again later; the manifest is
 * unchanged unless the call returned 0).
 */
int	 cdp_s3store_upload(struct cdp_s3store *, uint64_t first, uint64_t last,
	    int fd, uint64_t size, int64_t seg_time, int64_t time_ns);

/*
 * For cdp_s3fold.h: the client, and replacing the manifest with next (a
 * PUT, only while the lease holds, and only up to CDP_MANIFEST_MAX bytes:
 * EFBIG past it; on success next becomes the handle's, and *next is
 * zeroed).
 */
struct cdp_s3	*cdp_s3store_client(struct cdp_s3store *);
int	 cdp_s3store_replace(struct cdp_s3store *, struct cdp_manifest *next);

/* Seconds left on the lease as last renewed (may be negative). */
int64_t	 cdp_s3store_lease_left(const struct cdp_s3store *);

const char *cdp_s3store_url(const struct cdp_s3store *);
const char *cdp_s3store_error(const struct cdp_s3store *);
const char *cdp_s3store_notice(const struct cdp_s3store *);

/* Release the lease (if still ours; else it runs out) and free. */
void	 cdp_s3store_close(struct cdp_s3store *);

#endif
