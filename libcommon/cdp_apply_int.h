/*
 * cdp_apply_int.h: the apply engine's insides, shared by its two halves.
 *
 * cdp_apply.c applies records for real; cdp_apply_dry.c checks them
 * against a model without writing (CDP_APPLY_DRYRUN).  Nothing outside
 * those two files includes this header.
 */
#ifndef CDP_APPLY_INT_H
#define CDP_APPLY_INT_H

#include <stdint.h>
#include <sys/types.h>

#include "cdp_apply.h"
#include "cdp_pathmap.h"

#define MAX_STREAMS	64
#define NPARENT		8	/* parent directories kept open */
#define NFILE		4	/* files kept open */

struct stream {
	uint8_t		 uuid[16];
	uint64_t	 applied;	/* last seq applied */
	uint64_t	 loaded;	/* applied, says the saved state */
	uint64_t	 seen;		/* last seq applied or tried */
};

struct cached {
	int		 fd;		/* -1: empty */
	size_t		 len;
	char		 path[CDP_PATH_MAX + 1];
};

struct cdp_apply {
	int		 root;		/* the target directory, O_RDONLY */
	int		 flags;		/* CDP_APPLY_* */
	int		 no_openat2;	/* the kernel has none: walk */
	int		 no_xattr;	/* the filesystem keeps no state */
	mode_t		 umask;
	const struct cdp_source *src;

	struct stream	 streams[MAX_STREAMS];
	size_t		 nstreams;
	struct stream	*cur;
	int		 dirty;		/* state to be saved */

	struct cached	 parent[NPARENT];
	size_t		 parent_next;
	int		 pinned;	/* parent fd in use: not evicted */
	struct cached	 file[NFILE];
	size_t		 file_next;
	int		 wrote;		/* data written since the last sync */

	struct cdp_pathmap *model;	/* dry run */

	uint64_t	 n_applied, n_already, n_xattr;
	const struct cdp_record *rec;	/* being applied, for messages */
	char		 err[1200];
};

/* Messages. */

/*
 * Set the error "seq N, offset M: PATH: why" and errno; returns -1.  why is
 * strerror(errnum) when NULL.
 */
int	 cdp_apply_fail(struct cdp_apply *, int errnum, const char *path,
	    const char *why);

/* What an errno means for a journal path, in words; returns -1. */
int	 cdp_apply_fail_errno(struct cdp_apply *, int e, const char *path);

/*
 * Whether an xattr record is applied: 1 yes, 0 skipped (not user.*), -1
 * reserved (user.cdp.*).
 */
int	 cdp_apply_xattr_allowed(struct cdp_apply *, const struct cdp_record *);

/* The dry run of one tree-changing record: as cdp_apply_record(). */
int	 cdp_apply_dry_record(struct cdp_apply *, const struct cdp_record *);

#endif
