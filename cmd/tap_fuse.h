/*
 * tap_fuse.h: cdp-tap --fuse, the FUSE back end of cdp-tap.
 *
 * SOURCE is shown at MOUNTPOINT; every change made through the mount is
 * made to SOURCE and journaled through the tap's output (cdp_tapout.h),
 * in the order the changes took effect.  Part of the cdp-tap program, not
 * of libcommon: it prints its messages (and so does libfuse).
 */
#ifndef TAP_FUSE_H
#define TAP_FUSE_H

#include <limits.h>

#include "cdp_tapout.h"

struct tap_fuse_args {
	char		 source[PATH_MAX];	/* SOURCE, canonical */
	char		 mountpoint[PATH_MAX];	/* MOUNTPOINT, canonical */
	const char	*mount_opts;	/* --mount-opts, or NULL */
	struct cdp_tapout *tap;
	int		 lfd;		/* control socket (cdp-mark) */
	int		 heartbeat;	/* --heartbeat MS */
	int		 verbose;	/* -v */
	const char	*output;	/* the journal's name in messages */
	int		(*baseline)(void *);	/* --baseline: emit the tree */
	void		*baseline_arg;
};

/*
 * Check the operands before anything is written: SOURCE and MOUNTPOINT are
 * directories, neither holds the other, MOUNTPOINT is not a mount already
 * (a stale one left by a killed tap is named, with how to clear it), and
 * /dev/fuse can be opened.  Fills in a->source and a->mountpoint; prints
 * the reason and exits 2 (operands) or 1 (the system) on a problem.
 */
void	 tap_fuse_check(struct tap_fuse_args *a, const char *source,
	    const char *mountpoint, const char *synopsis);

/*
 * Mount, emit the baseline, serve until unmounted or SIGINT/SIGTERM/SIGHUP,
 * unmount and end the stream.  Returns the exit status.
 */
int	 tap_fuse_run(struct tap_fuse_args *a);

#endif
