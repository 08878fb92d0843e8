/*
 * cdp_s3lease.h: the lease that keeps a second receiver off a prefix.
 *
 * The object PREFIX/lease names who holds the prefix (host name and
 * staging directory) and until when.  Object stores offer no lock, so it
 * is a lease with a time-out (CDP_S3_LEASE_SECONDS): taken by reading it
 * (refused if another holder's has not run out) and writing ours, read
 * back a moment later (of two receivers starting together, the one whose
 * write came last keeps it), renewed every CDP_S3_LEASE_RENEW seconds on
 * a thread and a connection of its own, so that no upload, however slow,
 * holds the renewal up, and removed at the end.  The same holder may
 * take its own lease back at once after a crash.  Clocks of the
 * receivers are trusted to agree within seconds.
 */
#ifndef CDP_S3LEASE_H
#define CDP_S3LEASE_H

#include <stddef.h>
#include <stdint.h>

#define CDP_S3_LEASE_NAME	"lease"
#define CDP_S3_LEASE_SECONDS	30	/* a lease not renewed runs out */
#define CDP_S3_LEASE_RENEW	10	/* renewed this often */
#define CDP_S3_LEASE_MARGIN	10	/* no writes with less than this left */

struct cdp_s3lease;

/*
 * Take the lease on url's prefix for holder, and keep it renewed.  NULL
 * with errno set and a message in why: EBUSY when another holder has it,
 * or what cdp_s3.h says.
 */
struct cdp_s3lease *cdp_s3lease_take(const char *url, const char *endpoint,
	    const char *holder, char *why, size_t whylen);

/*
 * Whether writes to the prefix may go on: 0 when the lease was read back
 * as ours and has at least CDP_S3_LEASE_MARGIN seconds left; otherwise
 * -1 with a message in why and errno EBUSY (another receiver has it: stop
 * writing for good) or EAGAIN (not read back yet, or not renewed lately
 * because the object store cannot be reached: wait).  Waits up to
 * wait_ms for the answer to become 0 or EBUSY.
 */
int	 cdp_s3lease_check(struct cdp_s3lease *, int wait_ms, char *why,
	    size_t whylen);

/* Seconds left on the lease as last renewed (may be negative). */
int64_t	 cdp_s3lease_left(struct cdp_s3lease *);

/* Stop renewing, remove the lease if it is still ours, free. */
void	 cdp_s3lease_release(struct cdp_s3lease *);

#endif
