/*
 * cdp_fold.h: fold a store's old segments into a base (cdp-recv --retain).
 *
 * A base is the tree as it stood after some seq F, written as a baseline
 * (BASELINE_BEGIN, the tree's records, BASELINE_END) numbered so that its
 * last record has seq F and the segment after it goes on at F + 1; see
 * cdp-journal(5), STORE DIRECTORY.  Folding replays the base and the old
 * segments into a private tree under STORE/.fold (with the apply engine),
 * writes a baseline of that tree as the new base under a temporary name,
 * flushes it, renames it into place, flushes the directory, and only then
 * removes the old base and segments.  A reader that opened them before
 * keeps reading them; one that lists the store afterwards finds the new
 * base.  A crash at any point leaves a store that reads the same.
 *
 * The fold runs beside the appending thread of the store (it only reads
 * segments that are no longer written), and can take a while; between
 * records it looks at *stop and gives up when it is set.
 */
#ifndef CDP_FOLD_H
#define CDP_FOLD_H

#include <stdint.h>

#include "cdp_store.h"

struct cdp_fold;

/*
 * Fold the store st (opened by the caller at path).  Finishes a fold cut
 * off before: removes what the newest base covers and the leftovers of
 * STORE/.fold.  NULL with errno set and *why (if not NULL) the reason.
 */
struct cdp_fold *cdp_fold_open(struct cdp_store *st, const char *path,
	    const char **why);

/*
 * Fold every segment but the last whose records are all no newer than
 * cutoff_ns (CLOCK_REALTIME, ns), oldest first.  Returns the number of
 * segments folded (0 when none was old enough, or when the base would
 * need more seqs than it replaces: see cdp-journal(5)), or -1 with errno
 * set and the reason in cdp_fold_error() (ECANCELED when *stop was set).
 */
int	 cdp_fold_run(struct cdp_fold *, int64_t cutoff_ns,
	    const volatile int *stop);

/* The last seq the base folds, 0 if there is no base. */
uint64_t cdp_fold_base_seq(const struct cdp_fold *);

const char *cdp_fold_error(const struct cdp_fold *);

/* Remove the private tree and free. */
void	 cdp_fold_close(struct cdp_fold *);

#endif
