/*
 * cdp_tree.h: operations on whole directory trees.
 *
 * cdp-verify --tree compares the tree a journal describes (replayed into a
 * private directory) with a real one; cdp-replay -a and cdp-verify remove
 * their private directories again.  Neither follows a symbolic link.
 */
#ifndef CDP_TREE_H
#define CDP_TREE_H

#include <stddef.h>
#include <sys/stat.h>

/* Kinds of difference, in the order they are checked for one path. */
enum cdp_tree_diff {
	CDP_TREE_ONLY_A,	/* the path exists in a only */
	CDP_TREE_ONLY_B,	/* the path exists in b only */
	CDP_TREE_TYPE,		/* a and b: the types ("file", "directory") */
	CDP_TREE_MODE,		/* permission bits, as "0644" */
	CDP_TREE_SIZE,		/* sizes in bytes */
	CDP_TREE_CONTENT,	/* same size, different bytes: a and b NULL */
	CDP_TREE_TARGET,	/* symbolic link targets */
	CDP_TREE_LINK		/* hard links: the first path of each group */
};

/*
 * Called for each difference, in path order; a and b describe the two
 * sides (NULL where the kind says so).  path is relative, "" for the top.
 */
typedef void cdp_tree_diff_fn(void *ctx, const char *path,
    enum cdp_tree_diff kind, const char *a, const char *b);

/*
 * Compare trees a and b: names, types, permission bits (the tops' own are
 * not compared), sizes, contents, symbolic link targets and hard links.
 * Returns 0 if they are the same, 1 if fn was called, -1 with errno set if
 * a tree could not be read (*where then names the path).
 */
int	 cdp_tree_compare(const char *a, const char *b, cdp_tree_diff_fn *fn,
	    void *ctx, char *where, size_t size);

/*
 * Pieces of the comparison, for cdp_model_cmp.c, which walks a model and
 * a real tree the same way.
 *
 * cdp_tree_names_read(): the names in directory fd but "." and "..",
 * sorted bytewise.  Returns 0 or -1 with errno set; free with
 * cdp_tree_names_free().
 */
struct cdp_tree_names {
	char		**v;
	size_t		 n;
};

int	 cdp_tree_names_read(int fd, struct cdp_tree_names *);
void	 cdp_tree_names_free(struct cdp_tree_names *);

/* The word for a file type in differences: "file", "directory", ... */
const char *cdp_tree_type_name(mode_t);

/*
 * The first path seen of st's hard link group (path itself if st has one
 * link), remembered in *links (a tsearch(3) root, NULL at first; free it
 * with cdp_tree_leaders_free()).
 */
const char *cdp_tree_leader(void **links, const struct stat *st,
	    const char *path);
void	 cdp_tree_leaders_free(void *links);

/* Remove dir and everything below it (rm -rf).  Returns 0 or -1, errno. */
int	 cdp_tree_remove(const char *dir);

/*
 * A new private directory under $TMPDIR (or /tmp): mkdtemp(3) of
 * "cdp-PREFIX.XXXXXX", written into buf.  Returns 0 or -1 with errno set.
 */
int	 cdp_tree_tmpdir(const char *prefix, char *buf, size_t size);

/*
 * Append name to the relative path in path[0..plen) (with a '/' unless
 * plen is 0), within CDP_PATH_MAX + 1 bytes.  Returns 0 and the new length
 * in *nlen, or -1 with errno ENAMETOOLONG and path unchanged.
 */
int	 cdp_tree_path_push(char *path, size_t plen, const char *name,
	    size_t *nlen);

#endif
