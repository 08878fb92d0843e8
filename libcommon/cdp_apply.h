/*
 * cdp_apply.h: apply journal records to a directory tree, safely.
 *
 * The engine is what turns records into files: cdp-replay uses it, and so
 * does cdp-recv --apply.  Every journal path is resolved beneath the target
 * directory without following any symbolic link (openat2(2) with
 * RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS, or a walk
 * with O_NOFOLLOW where the kernel has no openat2), and every change is
 * made with *at() calls on (parent directory fd, last component) that do
 * not follow a symbolic link either.  A hostile journal can thus change
 * nothing outside the target directory.
 *
 * The rules an applier follows when a record's precondition does not hold
 * (CREATE of a path that exists, UNLINK of one that does not, ...) are
 * those of cdp-replay(1), APPLYING RECORDS.  In short: a record that can be
 * made true without destroying a directory is made true; anything else is
 * an error.
 *
 * Unless CDP_APPLY_NOSTATE, the engine remembers in the extended attribute
 * "user.cdp.applied" of the target directory, per stream uuid, the last seq
 * applied; records at or below it are skipped, so that applying a prefix
 * again is harmless and a replica can be kept current.  The attribute is
 * written by cdp_apply_sync() and cdp_apply_close().
 */
#ifndef CDP_APPLY_H
#define CDP_APPLY_H

#include <stdint.h>

#include "cdp_record.h"
#include "cdp_source.h"

struct cdp_apply;

/* Flags for cdp_apply_open(). */
#define CDP_APPLY_DRYRUN	0x01	/* check every record, change nothing */
#define CDP_APPLY_NOSTATE	0x02	/* neither read nor write user.cdp.applied */
#define CDP_APPLY_FSYNC		0x04	/* honour FSYNC records; sync flushes */
#define CDP_APPLY_MKPARENTS	0x08	/* create missing parents (mode 0755) */
#define CDP_APPLY_FRESH		0x10	/* fail with ENOTEMPTY unless dir is empty */

/*
 * Open the directory dir as the root of the tree records are applied to,
 * and, unless CDP_APPLY_DRYRUN, take an exclusive flock(2) on it for as
 * long as it is open, so that two appliers never interleave.  Returns NULL
 * with errno set (ENOTDIR, ENOENT, EWOULDBLOCK when another applier holds
 * dir, ENOTEMPTY with CDP_APPLY_FRESH, or what reading user.cdp.applied
 * failed with: EBADMSG when it is malformed).
 */
struct cdp_apply *cdp_apply_open(const char *dir, int flags);

/*
 * Name offsets in error messages as src does ("SEGMENT: offset N" in a
 * store) instead of "offset N".  src may be NULL; it is not owned.
 */
void	 cdp_apply_set_source(struct cdp_apply *, const struct cdp_source *src);

/*
 * Apply one record, as delivered by cdp_reader_next().  Records must come
 * in stream order, without a gap: once a stream has a seq applied (saved
 * in the state, or from an earlier journal of this run), a record beyond
 * the next seq fails with ERANGE ("records X to Y are missing").  Returns
 * 1 if the tree was changed (or, dry run, would be), 0 if the record was
 * skipped (a control record, a MARK, FSYNC, a seq already applied, an
 * xattr outside the user namespace), or -1 with errno set and a reason in
 * cdp_apply_error().  After -1 the engine is still usable: the record was
 * not applied, or only partly (a WRITE cut short by ENOSPC), and the next
 * seq may follow it.
 */
int	 cdp_apply_record(struct cdp_apply *, const struct cdp_record *rec);

/*
 * Leave a record out on purpose (cdp-replay --path: a name not selected):
 * its seq counts as done, so the next one is no gap.  A STREAM_HDR is
 * taken as by cdp_apply_record().  Returns 0, or -1 as cdp_apply_record()
 * when records are missing before it.
 */
int	 cdp_apply_skip(struct cdp_apply *, const struct cdp_record *rec);

/*
 * The last error: "seq 12, offset 4096: a/b: path goes through a symbolic
 * link".  Empty before the first error.
 */
const char *cdp_apply_error(const struct cdp_apply *);

/* Counters: records applied, skipped as already applied, xattrs skipped. */
uint64_t cdp_apply_count_applied(const struct cdp_apply *);
uint64_t cdp_apply_count_already(const struct cdp_apply *);
uint64_t cdp_apply_count_xattr_skipped(const struct cdp_apply *);

/*
 * Write user.cdp.applied (the last seq applied of each stream), and with
 * CDP_APPLY_FSYNC flush the files written and the tree.  Returns 0 or -1
 * with errno set and a reason in cdp_apply_error().  A filesystem without
 * user extended attributes is not an error: the state is then not kept.
 */
int	 cdp_apply_sync(struct cdp_apply *);

/* Last seq applied of stream uuid according to the state; 0 if none. */
uint64_t cdp_apply_applied_seq(const struct cdp_apply *, const uint8_t uuid[16]);

/* cdp_apply_sync(), then free everything.  Returns what the sync did. */
int	 cdp_apply_close(struct cdp_apply *);

#endif
