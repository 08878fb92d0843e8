/*
 * cdp_treehash.h: the contents of a real tree, hashed in the background.
 *
 * cdp-verify --tree must read every file of DIR and every journal byte
 * once.  Read one after the other, that is twice the work of xxhsum(1)
 * over the files; read at the same time, on two cores, it is about the
 * same.  So while cdp-verify reads the journal (checking it and building
 * the model, cdp_model.h), a thread reads DIR and keeps, for each regular
 * file, the XXH3-128 hash of each CDP_TREEHASH_CHUNK bytes.  The model
 * hashes the journal's WRITE data on the same grid as it goes, and the
 * comparison then compares hashes instead of reading either side again.
 *
 * A file is only trusted to be as hashed if its size, modification and
 * change times are the same when it is compared; otherwise the comparison
 * reads it again.  Nothing here reports a problem: a file the scan could
 * not read is simply not in the table, and the comparison, reading it
 * itself, reports what is wrong with it.
 */
#ifndef CDP_TREEHASH_H
#define CDP_TREEHASH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

/* The grid: file bytes [k * CHUNK, (k + 1) * CHUNK) are hashed together. */
#define CDP_TREEHASH_CHUNK	((size_t)64 << 10)

struct cdp_treehash_sum {
	uint64_t	 lo, hi;
};

struct cdp_treehash;

/*
 * Start hashing the regular files below dir (not following symbolic
 * links) in a thread of its own.  NULL with errno set if it cannot start.
 */
struct cdp_treehash *cdp_treehash_start(const char *dir);

/*
 * Wait for the scan, then the sums of the file st describes (st from
 * fstatat(2) of the name, not following links), *n of them, one per
 * chunk; NULL if it was not hashed or has changed since.
 */
const struct cdp_treehash_sum *cdp_treehash_find(struct cdp_treehash *,
	    const struct stat *st, size_t *n);

/*
 * What the scan saw of the tree, for the comparison to use instead of
 * listing each directory and stat(2)ing each name again: a directory's
 * names, sorted bytewise (strcmp), each with its lstat(2) where the scan
 * took one (for a regular file it read, one taken after the read, which
 * cdp_treehash_find() checks against the times taken before it), and for
 * a subdirectory its own listing.  A directory the scan could not list
 * whole has no listing (NULL); neither has one below the depth it goes to.
 */
struct cdp_treehash_dir;

struct cdp_treehash_ent {
	char		*name;
	struct stat	 st;		/* if have_st */
	int		 have_st;
	struct cdp_treehash_dir *sub;	/* a directory's listing */
};

struct cdp_treehash_dir {
	dev_t		 dev;		/* the directory itself */
	ino_t		 ino;
	struct cdp_treehash_ent *v;
	size_t		 n;
};

/* Wait for the scan, then the listing of the top directory, or NULL. */
const struct cdp_treehash_dir *cdp_treehash_top(struct cdp_treehash *);

/* The sum of n bytes at p, as the scan computes it. */
void	 cdp_treehash_sum(const void *p, size_t n, struct cdp_treehash_sum *);

/*
 * Read up to n bytes of fd, fewer only at its end (the comparison reads
 * files this way too).  Returns the count or -1 with errno set.
 */
ssize_t	 cdp_treehash_read(int fd, uint8_t *buf, size_t n);

/* Stop the scan if it still runs, and free everything. */
void	 cdp_treehash_free(struct cdp_treehash *);

#endif
