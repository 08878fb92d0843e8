/*
 * cdp_extents.h: a regular file's content, as the writes that made it.
 *
 * cdp-verify --tree checks a file against the journal without writing a
 * copy of it: the content is described by where each byte range last came
 * from (a span of a journal, bytes kept in memory, or zeros), and the
 * checker reads the expected bytes from there.  Writes are logged in the
 * order they happen, and cdp_extents_resolve() works out which one each
 * byte range ends up with.
 */
#ifndef CDP_EXTENTS_H
#define CDP_EXTENTS_H

#include <stddef.h>
#include <stdint.h>

/* Where an extent's bytes are. */
#define CDP_EXTENT_ZERO	(-1)	/* zeros: a hole, a truncated or punched range */
#define CDP_EXTENT_MEM	(-2)	/* mem */
/* Otherwise input >= 0: bytes at offset at of journal input number input. */

struct cdp_extent {
	uint64_t	 off;		/* in the file */
	uint64_t	 len;
	int		 input;		/* CDP_EXTENT_* or a journal input */
	uint64_t	 at;		/* input >= 0: offset in that journal */
	const uint8_t	*mem;		/* CDP_EXTENT_MEM: the bytes (not owned) */
};

struct cdp_extents;

struct cdp_extents *cdp_extents_new(void);	/* NULL, errno ENOMEM */

/* The file's size: the end of the last byte written, or as truncated. */
uint64_t cdp_extents_size(const struct cdp_extents *);

/*
 * Bytes [e->off, e->off + e->len) now come from e (e->len > 0); the size
 * grows to cover them.  Returns 0 or -1 with errno ENOMEM.
 */
int	 cdp_extents_write(struct cdp_extents *, const struct cdp_extent *e);

/* Bytes [off, end) now read as zeros, without changing the size. */
int	 cdp_extents_zero(struct cdp_extents *, uint64_t off, uint64_t end);

/* Set the size as ftruncate(2) does: bytes past it are gone. */
int	 cdp_extents_truncate(struct cdp_extents *, uint64_t size);

/*
 * The content as extents in file order, without overlaps or gaps, from 0
 * to the size (zeros where nothing was written).  *v is malloc()ed, free
 * it.  Returns the count (0 for an empty file) or -1 with errno ENOMEM.
 */
long	 cdp_extents_resolve(const struct cdp_extents *,
	    struct cdp_extent **v);

void	 cdp_extents_free(struct cdp_extents *);

#endif
