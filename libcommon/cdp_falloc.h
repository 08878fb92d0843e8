/*
 * cdp_falloc.h: what fallocate(2) leaves in a file.
 *
 * A journal's FALLOCATE records the content a mode leaves (zeros, bytes
 * moved down or up); the allocation is not part of the state, and is not
 * reproduced: a hostile range must not reserve space the content does not
 * need.
 */
#ifndef CDP_FALLOC_H
#define CDP_FALLOC_H

#include <stdint.h>
#include <sys/types.h>

/*
 * Leave in fd what fallocate(fd, mode, off, end - off) would: Linux
 * FALLOC_FL_* mode values as cdp-journal(5) allows them.  Only bytes
 * within the file are written, so a huge range costs no more than the
 * file's size.  Returns 0 or -1 with errno set (EINVAL for a mode or range
 * the mode does not allow).
 */
int	 cdp_falloc_emulate(int fd, uint32_t mode, off_t off, off_t end);

/*
 * What the apply engine does for a FALLOCATE: fallocate(2) itself for the
 * modes that allocate nothing (PUNCH_HOLE, COLLAPSE_RANGE, INSERT_RANGE),
 * falling back to cdp_falloc_emulate() where the filesystem cannot; the
 * content alone for the others (zeros within the file, a new size), so
 * that no space is reserved beyond the file's data.  Returns as
 * cdp_falloc_emulate().
 */
int	 cdp_falloc_apply(int fd, uint32_t mode, off_t off, off_t end);

#endif
