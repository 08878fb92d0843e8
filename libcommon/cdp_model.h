/*
 * cdp_model.h: the tree a journal describes, in memory, checked against
 * a real one.
 *
 * cdp-verify --tree used to replay the journal into a private directory
 * and compare the two trees; that writes a copy of everything and reads
 * it back.  The model is built from one pass over the records instead: a
 * namespace of names, types, permission bits, symbolic link targets and
 * hard links, where each regular file's content is a list of extents
 * pointing at the WRITE data in the journal (cdp_extents.h).  Comparing
 * then reads each real file once and the journal bytes it should hold.
 *
 * The model follows the apply engine (cdp_apply.h, as cdp-verify runs it:
 * no saved state, no parents made) record by record.  Where that engine
 * would fail, or the outcome would depend on the filesystem or on who
 * runs it (set-id bits, chown by a user other than root, fallocate modes
 * that move data, ...), cdp_model_record() gives up with ENOTSUP, and the
 * caller replays into a directory as before, which reports the failure
 * in the engine's words.
 */
#ifndef CDP_MODEL_H
#define CDP_MODEL_H

#include <stddef.h>

#include "cdp_record.h"
#include "cdp_source.h"
#include "cdp_tree.h"
#include "cdp_treehash.h"

struct cdp_model;

/*
 * A new, empty model.  mem_max caps the WRITE data it copies into memory
 * (compressed records, and inputs it cannot read again at an offset:
 * stores, pcap files); past that it gives up with ENOTSUP.  NULL, errno.
 */
struct cdp_model *cdp_model_new(size_t mem_max);

/*
 * The records that follow come from src, opened from path.  A plain
 * journal in a regular file is opened again for reading its WRITE data at
 * compare time; any other source's data is copied.  Returns 0 or -1 with
 * errno set.
 */
int	 cdp_model_input(struct cdp_model *, const struct cdp_source *src,
	    const char *path);

/*
 * Compare with the sums of th (the caller keeps it; it must outlive the
 * model) where they are still good, instead of reading files.  Set before
 * the first record: from then on WRITE data is hashed as it goes by, so
 * that the comparison need not read the journal again either.
 */
void	 cdp_model_use_sums(struct cdp_model *, struct cdp_treehash *th);

/*
 * Apply one record, in stream order, as cdp_apply_record() would to an
 * empty directory.  Returns 1 if the tree changed, 0 if not, -1 with
 * errno ENOTSUP (the model cannot tell; cdp_model_why() says why) or
 * ENOMEM.  After -1 the model is of no further use.
 */
int	 cdp_model_record(struct cdp_model *, const struct cdp_record *rec);

/* Why the model gave up: "seq 12: rename onto a non-empty directory". */
const char *cdp_model_why(const struct cdp_model *);

/*
 * Compare the model (side a) with directory dir (side b) exactly as
 * cdp_tree_compare() compares two trees, calling fn for each difference.
 * Returns 0 if they are the same, 1 if fn was called, -1 with errno set
 * if dir or a journal could not be read (*where then names the path).
 */
int	 cdp_model_compare(struct cdp_model *, const char *dir,
	    cdp_tree_diff_fn *fn, void *ctx, char *where, size_t size);

void	 cdp_model_free(struct cdp_model *);

#endif
