/*
 * cdp_pathmap.h: a map from journal paths to a small value.
 *
 * The apply engine's dry run keeps in one what the journal has done to
 * each name so far, so that it can check a record against the tree as it
 * would be without writing anything.  Besides get and set it can move
 * every entry below a directory, as a rename does.
 */
#ifndef CDP_PATHMAP_H
#define CDP_PATHMAP_H

#include <stddef.h>

struct cdp_pathmap;

struct cdp_pathmap *cdp_pathmap_new(void);	/* NULL, errno ENOMEM */

/* The value of path, or -1 if path has no entry. */
int	 cdp_pathmap_get(const struct cdp_pathmap *, const char *path,
	    size_t len);

/* Set the value (>= 0) of path.  Returns 0 or -1 with errno ENOMEM. */
int	 cdp_pathmap_set(struct cdp_pathmap *, const char *path, size_t len,
	    int value);

/*
 * Give every entry below from ("from/...") the name below to instead
 * ("to/..."), replacing what was there; with exchange, the two subtrees
 * swap.  Returns 0 or -1 with errno ENOMEM.
 */
int	 cdp_pathmap_move(struct cdp_pathmap *, const char *from,
	    const char *to, int exchange);

void	 cdp_pathmap_free(struct cdp_pathmap *);

#endif
