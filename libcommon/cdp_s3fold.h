/*
 * cdp_s3fold.h: --retain for a store in a bucket.
 *
 * The fold of a store directory (cdp_fold.h) done on a local copy: the
 * bucket's base and its old segments are fetched into a working store
 * directory, folded there into a new base, which goes up; then a new
 * manifest names the new base and the segments after it, and lists the
 * objects it replaced as retired.  Those are deleted only once a grace
 * time has passed, so that a restore that read the older manifest can
 * still read them: no race between a fold and a restore, as long as the
 * restore takes less than the grace time (one that takes longer fails
 * with a message, and is run again).
 */
#ifndef CDP_S3FOLD_H
#define CDP_S3FOLD_H

#include <stdint.h>

#include "cdp_s3store.h"

#define CDP_S3FOLD_GRACE_S	3600	/* retired objects live this long */

/*
 * Fold the bucket's segments whose records are all no newer than
 * cutoff_ns (never the last one) into its base, working in the directory
 * work (made if missing; its own store, not the stage).  Objects replaced
 * are retired for grace_ns.  Returns the number of segments folded (0:
 * none old enough), or -1 with a message in why (ECANCELED when *stop
 * was set meanwhile).
 */
int	 cdp_s3fold_run(struct cdp_s3store *, const char *work,
	    int64_t cutoff_ns, int64_t grace_ns, const volatile int *stop,
	    char *why, size_t whylen);

/*
 * Delete the retired objects whose time has passed, and name them no
 * more in the manifest.  The number deleted, or -1 with a message.
 */
int	 cdp_s3fold_reap(struct cdp_s3store *, char *why, size_t whylen);

#endif
