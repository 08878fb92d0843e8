/*
 * recv_upload.h: cdp-recv's uploader, for a STORE in a bucket.
 *
 * cdp-recv receives into a local staging store (--stage DIR) as into any
 * store, and acknowledges what is durable there.  The uploader seals the
 * staging store's segments (by size: the store's segment size; by age:
 * --seal-after SECONDS), uploads each sealed segment as one object with
 * the manifest that names it, and then removes it from the stage.  Its
 * thread also renews the lease on the prefix, writes --status, and with
 * --retain folds the bucket's old segments (cdp_s3fold.h) between
 * uploads.
 */
#ifndef RECV_UPLOAD_H
#define RECV_UPLOAD_H

#include <stdint.h>

#include "cdp_store.h"

struct recv_upload_opts {
	const char	*url;		/* s3://BUCKET/PREFIX */
	const char	*endpoint;	/* --s3-endpoint, or NULL */
	const char	*stage;		/* the staging directory */
	int64_t		 seal_ns;	/* seal a segment this old */
	const char	*status;	/* --status FILE, or NULL */
	int64_t		 retain_ns;	/* --retain, 0: none */
};

struct recv_upload;

/*
 * Open the bucket (taking the lease) for a stage already open.  Exits
 * with a message on failure: 1 for what the bucket said, 2 for a bad
 * location or configuration.
 */
struct recv_upload *recv_upload_open(const struct recv_upload_opts *,
	    struct cdp_store *stage);

/*
 * Bring the stage and the bucket together once the stream's uuid is
 * known (after cdp_store_begin()): segments the bucket has already are
 * dropped from the stage, a stage behind the bucket goes on from the
 * bucket's end.  Exits with a message if the two hold different streams
 * or records are missing between them.
 */
void	 recv_upload_adopt(struct recv_upload *, const uint8_t uuid[16]);

/* The last seq the bucket holds. */
uint64_t recv_upload_seq(struct recv_upload *);

/*
 * Start the uploader thread; wake(arg) is called whenever
 * recv_upload_seq() grows.
 */
void	 recv_upload_start(struct recv_upload *, void (*wake)(void *),
	    void *arg);

/*
 * Stop: seal the last segment, upload whatever is left (trying for up to
 * timeout_ms), release the lease, free.  Returns 0 when the bucket holds
 * everything the stage held, -1 after saying what stays in the stage.
 */
int	 recv_upload_finish(struct recv_upload *, int timeout_ms);

#endif
