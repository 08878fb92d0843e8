/*
 * cdp_model_int.h: the model's insides, shared by its two halves.
 *
 * cdp_model.c builds the model from records; cdp_model_cmp.c compares it
 * with a directory.  Nothing else includes this header.
 */
#ifndef CDP_MODEL_INT_H
#define CDP_MODEL_INT_H

#include <stdint.h>
#include <sys/types.h>

#include "cdp_extents.h"
#include "cdp_model.h"
#include "cdp_treehash.h"

#define CDP_MODEL_STREAMS 64	/* remembered, as the apply engine does */

struct dentry;

/* An inode. */
struct node {
	mode_t		 type;		/* S_IFREG, S_IFDIR, S_IFLNK, S_IFIFO */
	mode_t		 perm;		/* & 07777 */
	unsigned	 nlink;		/* names */
	size_t		 nchild;	/* directory: names in it */
	struct dentry	*self;		/* directory: its name; NULL: the top */
	struct cdp_extents *x;		/* regular file: its content */
	char		*target;	/* symbolic link */
	char		*first;		/* compare: first path seen, if linked */
};

/* A name: an entry of the hash table. */
struct dentry {
	struct dentry	*next;		/* in the hash chain */
	struct node	*dir;		/* the directory it is in */
	struct node	*node;
	size_t		 len;
	char		 name[];
};

/* A journal input: where its WRITE data can be read again. */
struct input {
	char		*path;
	int		 fd;		/* -1: data was copied instead */
};

struct stream {
	uint8_t		 uuid[16];
	uint64_t	 applied;	/* last seq applied */
};

/*
 * The sum of journal bytes [at, at + len) of an input: WRITE data hashed
 * on the grid of cdp_treehash.h as it went by.
 */
struct jsum {
	uint64_t	 at;
	uint32_t	 len;
	int		 input;
	struct cdp_treehash_sum s;
};

/* Memory for copied WRITE data. */
struct block {
	struct block	*next;
	size_t		 size, used;
	uint8_t		 data[];
};

struct cdp_model {
	struct node	*root;
	struct dentry	**b;		/* hash table of names */
	size_t		 nb, nnames, nnodes;

	struct input	*inputs, *cur;
	size_t		 ninputs, capinputs;
	struct stream	 streams[CDP_MODEL_STREAMS];
	size_t		 nstreams;
	struct stream	*stream;	/* the current one */

	struct block	*blocks;
	size_t		 mem_used, mem_max;

	struct cdp_treehash *th;	/* the tree's sums, not owned */
	struct jsum	*jsums;		/* by (input, at), as they came */
	size_t		 njsums, capjsums;

	int		 is_root;	/* euid 0: chown and modes never refused */
	int		 broken;	/* gave up */
	const struct cdp_record *rec;	/* being applied, for cdp_model_why() */
	char		 why[512];
};

/*
 * The sum of journal bytes [at, at + len) of input, if they were hashed
 * on the way in (cdp_model_use_sums()): 1 with *s set, else 0.
 */
int	 cdp_model_jsum(const struct cdp_model *, int input, uint64_t at,
	    size_t len, struct cdp_treehash_sum *s);

#endif
