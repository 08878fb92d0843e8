/*
 * cdp_baseline.h: a tree as journal records, so that a stream alone can
 * rebuild it (cdp-tap --baseline).
 *
 * Directories come before what they hold (MKDIR, and a SETATTR of mode,
 * owner and mtime after their contents); regular files are CREATE, WRITE
 * in parts of at most CDP_BASELINE_CHUNK bytes and SETATTR; the second and
 * later names of a hard-linked file are LINK; symlinks are SYMLINK; FIFOs
 * are CREATE with S_IFIFO.  Devices and sockets have no record in format
 * version 1 and are left out.  Symlinks are never followed and the walk
 * never leaves the root's file system.
 */
#ifndef CDP_BASELINE_H
#define CDP_BASELINE_H

#include "cdp_record.h"

#define CDP_BASELINE_CHUNK	(1024 * 1024)

struct cdp_baseline;

/* emit returns 0, or -1 (errno set) to stop the walk. */
typedef int (*cdp_baseline_emit)(void *arg, const struct cdp_record *rec);

struct cdp_baseline *cdp_baseline_open(const char *root);	/* NULL, errno */

/*
 * Walk the tree, calling emit for each record.  Returns 0, or -1 with
 * errno set and the reason in cdp_baseline_error() (an object that could
 * not be read: "a/b: Permission denied").
 */
int	 cdp_baseline_walk(struct cdp_baseline *, cdp_baseline_emit emit,
	    void *arg);
const char *cdp_baseline_error(const struct cdp_baseline *);
void	 cdp_baseline_close(struct cdp_baseline *);

#endif
