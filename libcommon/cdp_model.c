/*
 * cdp_model.c: the tree a journal describes, built in memory.
 *
 * Nodes are inodes (a type, permission bits, a link count; a file's
 * extents, a symbolic link's target); names are entries of one hash table
 * keyed by (parent node, name), so a lookup is one hash per component and
 * a rename of a directory moves one entry, whatever lies below it.
 *
 * Each record is checked against the preconditions of the apply engine
 * (cdp_apply.c); every case where the engine would fail, or where the
 * result depends on the filesystem or the user, is refused with ENOTSUP
 * rather than guessed.  The comparison is in cdp_model_cmp.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "cdp_model_int.h"
#include "cdp_path.h"

/* fallocate(2) modes, as cdp-journal(5) allows them. */
#define FL_KEEP_SIZE	0x01
#define FL_PUNCH_HOLE	0x02
#define FL_ZERO_RANGE	0x10
#define FL_UNSHARE	0x40

/* Beyond this a file's size depends on the filesystem: give up. */
#define SIZE_MAX_MODEL	(UINT64_C(1) << 40)

#define MEM_BLOCK	(1u << 20)

/* Journal sums kept at most (32 bytes each): 256 GiB of WRITE data. */
#define JSUMS_MAX	((size_t)4 << 20)

static uint64_t
hash(const struct node *dir, const char *name, size_t len)
{
	uint64_t h = 14695981039346656037ULL ^ (uintptr_t)dir;	/* FNV-1a */

	while (len-- > 0) {
		h ^= (unsigned char)*name++;
		h *= 1099511628211ULL;
	}
	return h;
}

static int __attribute__((format(printf, 2, 3)))
give_up(struct cdp_model *m, const char *fmt, ...)
{
	int n;
	va_list ap;

	n = snprintf(m->why, sizeof(m->why), "seq %" PRIu64 ": ",
	    m->rec != NULL ? m->rec->seq : 0);
	va_start(ap, fmt);
	vsnprintf(m->why + n, sizeof(m->why) - (size_t)n, fmt, ap);
	va_end(ap);
	m->broken = 1;
	errno = ENOTSUP;
	return -1;
}

static int
no_memory(struct cdp_model *m)
{
	snprintf(m->why, sizeof(m->why), "out of memory");
	m->broken = 1;
	errno = ENOMEM;
	return -1;
}

/* Nodes and names. */

static struct node *
node_new(struct cdp_model *m, mode_t type, mode_t perm)
{
	struct node *n = calloc(1, sizeof(*n));

	if (n == NULL)
		return NULL;
	n->type = type;
	n->perm = perm;
	if (type == S_IFREG && (n->x = cdp_extents_new()) == NULL) {
		free(n);
		return NULL;
	}
	m->nnodes++;
	return n;
}

static void
node_free(struct cdp_model *m, struct node *n)
{
	cdp_extents_free(n->x);
	free(n->target);
	free(n->first);
	free(n);
	m->nnodes--;
}

static struct dentry **
slot(const struct cdp_model *m, const struct node *dir, const char *name,
    size_t len)
{
	struct dentry **d = &m->b[hash(dir, name, len) & (m->nb - 1)];

	for (; *d != NULL; d = &(*d)->next)
		if ((*d)->dir == dir && (*d)->len == len &&
		    memcmp((*d)->name, name, len) == 0)
			break;
	return d;
}

static struct dentry *
lookup(const struct cdp_model *m, const struct node *dir, const char *name,
    size_t len)
{
	return *slot(m, dir, name, len);
}

static void
grow(struct cdp_model *m)
{
	struct dentry **nb, *d, *next;
	size_t i, n = m->nb * 2;

	if ((nb = calloc(n, sizeof(*nb))) == NULL)
		return;		/* a fuller table still works */
	for (i = 0; i < m->nb; i++)
		for (d = m->b[i]; d != NULL; d = next) {
			struct dentry **s =
			    &nb[hash(d->dir, d->name, d->len) & (n - 1)];

			next = d->next;
			d->next = *s;
			*s = d;
		}
	free(m->b);
	m->b = nb;
	m->nb = n;
}

/* Put d (already named) into its directory. */
static void
attach(struct cdp_model *m, struct dentry *d)
{
	struct dentry **s = slot(m, d->dir, d->name, d->len);

	d->next = *s;
	*s = d;
	d->dir->nchild++;
	if (S_ISDIR(d->node->type))
		d->node->self = d;
	if (++m->nnames > m->nb * 2)
		grow(m);
}

static void
detach(struct cdp_model *m, struct dentry *d)
{
	struct dentry **s = slot(m, d->dir, d->name, d->len);

	*s = d->next;
	d->dir->nchild--;
	m->nnames--;
}

static struct dentry *
name_new(struct node *dir, const char *name, size_t len, struct node *n)
{
	struct dentry *d = malloc(sizeof(*d) + len + 1);

	if (d == NULL)
		return NULL;
	d->dir = dir;
	d->node = n;
	d->len = len;
	memcpy(d->name, name, len);
	d->name[len] = '\0';
	return d;
}

/* Remove name d: its node goes with its last name. */
static void
unlink_name(struct cdp_model *m, struct dentry *d)
{
	detach(m, d);
	if (--d->node->nlink == 0)
		node_free(m, d->node);
	free(d);
}

/* Give a new node the name (dir, name); 0 or -1 (ENOMEM). */
static int
link_new(struct cdp_model *m, struct node *dir, const char *name,
    size_t len, struct node *n)
{
	struct dentry *d = name_new(dir, name, len, n);

	if (d == NULL)
		return no_memory(m);
	n->nlink++;
	attach(m, d);
	return 0;
}

/*
 * The parent directory of path and its last component, as the engine
 * resolves them: every component before the last must exist and be a
 * directory.  Returns 0, or -1 with errno ENOENT, ENOTDIR or ELOOP.
 */
static int
parent(struct cdp_model *m, const char *path, struct node **dir,
    const char **name, size_t *len)
{
	struct node *d = m->root;
	const char *p = path, *slash;
	struct dentry *e;

	while ((slash = strchr(p, '/')) != NULL) {
		if ((e = lookup(m, d, p, (size_t)(slash - p))) == NULL) {
			errno = ENOENT;
			return -1;
		}
		if (!S_ISDIR(e->node->type)) {
			errno = S_ISLNK(e->node->type) ? ELOOP : ENOTDIR;
			return -1;
		}
		d = e->node;
		p = slash + 1;
	}
	*dir = d;
	*name = p;
	*len = strlen(p);
	return 0;
}

/* parent() for a record that needs the parent: giving up if there is none. */
static int
target(struct cdp_model *m, const char *path, struct node **dir,
    struct dentry **d, const char **name, size_t *len)
{
	if (parent(m, path, dir, name, len) == -1)
		return give_up(m, "%s: no parent directory to apply to",
		    path);
	*d = lookup(m, *dir, *name, *len);
	return 0;
}

/* Make room for a new name, as the engine's clear_name() does. */
static int
clear(struct cdp_model *m, struct dentry *d, const char *path)
{
	if (d == NULL)
		return 0;
	if (S_ISDIR(d->node->type))
		return give_up(m, "%s: a directory is in the way", path);
	unlink_name(m, d);
	return 0;
}

/*
 * Whether the mode a name is given leaves the result certain: set-id and
 * sticky bits depend on the filesystem and on chown; a user other than
 * root may be refused by the permissions.
 */
static int
perm_ok(struct cdp_model *m, mode_t type, mode_t perm, const char *path)
{
	if (perm & 07000)
		return give_up(m, "%s: mode %04o has set-id or sticky bits",
		    path, (unsigned)perm);
	if (!m->is_root && ((S_ISDIR(type) && (perm & 0700) != 0700) ||
	    (S_ISREG(type) && (perm & 0600) != 0600)))
		return give_up(m, "%s: mode %04o may refuse a user other "
		    "than root", path, (unsigned)perm);
	return 0;
}

/* Records. */

static int
do_create(struct cdp_model *m, const struct cdp_record *r, int symlink)
{
	mode_t type = symlink ? S_IFLNK : (r->mode & S_IFMT) == S_IFIFO ?
	    S_IFIFO : S_IFREG;
	mode_t perm = symlink ? 0777 : r->mode & 07777;
	struct node *dir, *n;
	struct dentry *d = NULL;
	const char *name;
	size_t len;

	if (target(m, r->path, &dir, &d, &name, &len) == -1 ||
	    (!symlink && perm_ok(m, type, perm, r->path) == -1))
		return -1;
	if (symlink && r->path2[0] == '\0')
		return give_up(m, "%s: empty symbolic link target", r->path);
	if (clear(m, d, r->path) == -1)
		return -1;
	if ((n = node_new(m, type, perm)) == NULL)
		return no_memory(m);
	if (symlink && (n->target = strdup(r->path2)) == NULL) {
		node_free(m, n);
		return no_memory(m);
	}
	if (link_new(m, dir, name, len, n) == -1) {
		node_free(m, n);
		return -1;
	}
	return 1;
}

static int
do_mkdir(struct cdp_model *m, const struct cdp_record *r)
{
	mode_t perm = r->mode & 07777;
	struct node *dir, *n;
	struct dentry *d = NULL;
	const char *name;
	size_t len;

	if (target(m, r->path, &dir, &d, &name, &len) == -1 ||
	    perm_ok(m, S_IFDIR, perm, r->path) == -1)
		return -1;
	if (d != NULL) {
		if (!S_ISDIR(d->node->type))
			return give_up(m, "%s: exists and is not a directory",
			    r->path);
		d->node->perm = perm;
		return 1;
	}
	if ((n = node_new(m, S_IFDIR, perm)) == NULL)
		return no_memory(m);
	if (link_new(m, dir, name, len, n) == -1) {
		node_free(m, n);
		return -1;
	}
	return 1;
}

static int
do_link(struct cdp_model *m, const struct cdp_record *r)
{
	struct node *edir, *dir;
	struct dentry *e, *d;
	const char *ename, *name;
	size_t elen, len;

	if (target(m, r->path, &edir, &e, &ename, &elen) == -1)
		return -1;
	if (e == NULL || S_ISDIR(e->node->type))
		return give_up(m, "%s: nothing to link to", r->path);
	if (target(m, r->path2, &dir, &d, &name, &len) == -1)
		return -1;
	if (d != NULL && d->node == e->node)
		return 1;	/* already linked */
	if (clear(m, d, r->path2) == -1)
		return -1;
	return link_new(m, dir, name, len, e->node) == -1 ? -1 : 1;
}

/* Whether directory node a is dir or one of its ancestors. */
static int
above(const struct node *a, const struct node *dir)
{
	for (; dir != NULL; dir = dir->self != NULL ? dir->self->dir : NULL)
		if (dir == a)
			return 1;
	return 0;
}

/* Give entry d the name (dir, name), keeping its node. */
static int
rename_to(struct cdp_model *m, struct dentry **dp, struct node *dir,
    const char *name, size_t len)
{
	struct dentry *d = *dp, *n = name_new(dir, name, len, d->node);

	if (n == NULL)
		return no_memory(m);
	detach(m, d);
	free(d);
	attach(m, n);
	*dp = n;
	return 0;
}

static int
do_rename(struct cdp_model *m, const struct cdp_record *r)
{
	struct node *fdir, *tdir, *fn;
	struct dentry *f, *t;
	const char *fname, *tname;
	size_t flen, tlen;
	int exchange = (r->rflags & CDP_RENAME_EXCHANGE) != 0;

	if (r->rflags & ~(uint32_t)(CDP_RENAME_NOREPLACE |
	    CDP_RENAME_EXCHANGE) || r->rflags == (CDP_RENAME_NOREPLACE |
	    CDP_RENAME_EXCHANGE))
		return give_up(m, "%s: rename flags %#x", r->path,
		    (unsigned)r->rflags);
	if (target(m, r->path, &fdir, &f, &fname, &flen) == -1 ||
	    target(m, r->path2, &tdir, &t, &tname, &tlen) == -1)
		return -1;
	if (f == NULL) {
		if (t != NULL && !exchange)
			return 0;	/* done before */
		return give_up(m, "%s: no such file to rename", r->path);
	}
	if (f == t)
		return r->rflags == 0 ? 1 :
		    give_up(m, "%s: renamed onto itself", r->path);
	fn = f->node;
	if (exchange) {
		struct node *tn;

		if (t == NULL)
			return give_up(m, "%s: nothing to exchange with",
			    r->path2);
		tn = t->node;
		if ((S_ISDIR(fn->type) && above(fn, tdir)) ||
		    (S_ISDIR(tn->type) && above(tn, fdir)))
			return give_up(m, "%s: exchange with its own subtree",
			    r->path);
		f->node = tn;
		t->node = fn;
		if (S_ISDIR(tn->type))
			tn->self = f;
		if (S_ISDIR(fn->type))
			fn->self = t;
		return 1;
	}
	if (t != NULL && (r->rflags & CDP_RENAME_NOREPLACE))
		return give_up(m, "%s: exists", r->path2);
	if (t != NULL && t->node == fn)
		return 1;	/* hard links of one file: rename(2) does nothing */
	if (S_ISDIR(fn->type)) {
		if (above(fn, tdir))
			return give_up(m, "%s: into its own subtree", r->path);
		if (t != NULL && (!S_ISDIR(t->node->type) ||
		    t->node->nchild > 0))
			return give_up(m, "%s: not an empty directory",
			    r->path2);
	} else if (t != NULL && S_ISDIR(t->node->type))
		return give_up(m, "%s: is a directory", r->path2);
	if (t != NULL)
		unlink_name(m, t);
	return rename_to(m, &f, tdir, tname, tlen) == -1 ? -1 : 1;
}

static int
do_remove(struct cdp_model *m, const struct cdp_record *r, int rmdir)
{
	struct node *dir;
	struct dentry *d = NULL;
	const char *name;
	size_t len;

	if (parent(m, r->path, &dir, &name, &len) == -1) {
		if (errno == ENOENT)
			return 0;	/* gone already */
		return give_up(m, "%s: a parent is not a directory", r->path);
	}
	if ((d = lookup(m, dir, name, len)) == NULL)
		return 0;
	if (rmdir != (S_ISDIR(d->node->type) != 0))
		return give_up(m, "%s: %s", r->path, rmdir ?
		    "not a directory" : "is a directory");
	if (rmdir && d->node->nchild > 0)
		return give_up(m, "%s: directory not empty", r->path);
	unlink_name(m, d);
	return 1;
}

/* The node at path, which must exist; NULL after giving up. */
static struct node *
existing(struct cdp_model *m, const char *path)
{
	struct node *dir;
	struct dentry *d = NULL;
	const char *name;
	size_t len;

	if (target(m, path, &dir, &d, &name, &len) == -1)
		return NULL;
	if (d == NULL) {
		give_up(m, "%s: no such file", path);
		return NULL;
	}
	return d->node;
}

static int
do_setattr(struct cdp_model *m, const struct cdp_record *r)
{
	struct node *n;

	if ((r->rflags & (CDP_ATTR_UID | CDP_ATTR_GID)) && !m->is_root)
		return give_up(m, "%s: chown by a user other than root",
		    r->path);
	if (r->path[0] == '\0')
		return 1;	/* the top's own attributes are not compared */
	if ((n = existing(m, r->path)) == NULL)
		return -1;
	if ((r->rflags & CDP_ATTR_MODE) && !S_ISLNK(n->type)) {
		if (perm_ok(m, n->type, r->mode & 07777, r->path) == -1)
			return -1;
		n->perm = r->mode & 07777;
	}
	return 1;
}

/*
 * Extended attributes are not compared: only what the engine would
 * refuse matters.
 */
static int
do_xattr(struct cdp_model *m, const struct cdp_record *r)
{
	struct node *n;

	if (strncmp(r->name, "user.", 5) != 0)
		return 0;
	if (strncmp(r->name, "user.cdp.", 9) == 0)
		return give_up(m, "%s: reserved extended attribute", r->path);
	if (r->path[0] == '\0')
		return 1;
	if ((n = existing(m, r->path)) == NULL)
		return -1;
	return S_ISREG(n->type) || S_ISDIR(n->type);
}

/* The regular file path, for WRITE, TRUNCATE, FALLOCATE. */
static struct node *
regular(struct cdp_model *m, const char *path)
{
	struct node *n = existing(m, path);

	if (n != NULL && !S_ISREG(n->type)) {
		give_up(m, "%s: not a regular file", path);
		return NULL;
	}
	return n;
}

/* Keep a copy of data within the memory budget. */
static const uint8_t *
keep(struct cdp_model *m, const uint8_t *data, size_t len)
{
	struct block *b = m->blocks;

	if (m->mem_used + len > m->mem_max) {
		give_up(m, "WRITE data over the memory budget of %zu bytes",
		    m->mem_max);
		return NULL;
	}
	if (b == NULL || b->size - b->used < len) {
		size_t size = len > MEM_BLOCK ? len : MEM_BLOCK;

		if ((b = malloc(sizeof(*b) + size)) == NULL) {
			no_memory(m);
			return NULL;
		}
		b->size = size;
		b->used = 0;
		b->next = m->blocks;
		m->blocks = b;
	}
	memcpy(b->data + b->used, data, len);
	b->used += len;
	m->mem_used += len;
	return b->data + b->used - len;
}

/*
 * Hash the data of WRITE r, kept at offset at of input, on the grid of
 * cdp_treehash.h: each chunk that starts in it, up to the chunk's end or
 * the record's.  Those are the sums a file written in records of whole
 * chunks is compared with; other chunks are read again at compare time.
 * Records come in journal order, so the sums are appended in order of
 * (input, at) and found by bisection: no table to probe while reading.
 * Running out of room only means fewer sums.
 */
static void
hash_write(struct cdp_model *m, const struct cdp_record *r, int input,
    uint64_t at)
{
	const uint64_t chunk = CDP_TREEHASH_CHUNK;
	uint64_t s = (r->off + chunk - 1) / chunk * chunk;
	uint64_t end = r->off + r->data_len;

	for (; s < end; s += chunk) {
		uint64_t e = end - s < chunk ? end : s + chunk;
		struct jsum *j;

		if (m->njsums > 0) {
			j = &m->jsums[m->njsums - 1];
			if (j->input > input || (j->input == input &&
			    j->at >= at + (s - r->off)))
				return;		/* out of order: not kept */
		}
		if (m->njsums == m->capjsums) {
			size_t cap = m->capjsums ? m->capjsums * 2 : 4096;

			if (cap > JSUMS_MAX || (j = realloc(m->jsums,
			    cap * sizeof(*j))) == NULL)
				return;
			m->jsums = j;
			m->capjsums = cap;
		}
		j = &m->jsums[m->njsums++];
		j->at = at + (s - r->off);
		j->input = input;
		j->len = (uint32_t)(e - s);
		cdp_treehash_sum(r->data + (s - r->off), (size_t)(e - s),
		    &j->s);
	}
}

int
cdp_model_jsum(const struct cdp_model *m, int input, uint64_t at,
    size_t len, struct cdp_treehash_sum *s)
{
	size_t lo = 0, hi = m->njsums;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct jsum *j = &m->jsums[mid];

		if (j->input < input || (j->input == input && j->at < at))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == m->njsums || m->jsums[lo].input != input ||
	    m->jsums[lo].at != at || m->jsums[lo].len != len)
		return 0;
	*s = m->jsums[lo].s;
	return 1;
}

static int
do_write(struct cdp_model *m, const struct cdp_record *r)
{
	struct cdp_extent e = { r->off, r->data_len, CDP_EXTENT_MEM, 0, NULL };
	struct node *n;

	if (r->off > SIZE_MAX_MODEL || r->data_len > SIZE_MAX_MODEL - r->off)
		return give_up(m, "%s: write beyond %" PRIu64, r->path,
		    SIZE_MAX_MODEL);
	if ((n = regular(m, r->path)) == NULL)
		return -1;
	if (r->data_len == 0)
		return 1;
	if (m->cur->fd != -1 && !(r->flags & CDP_F_COMPRESSED) &&
	    r->data >= r->raw && r->data + r->data_len <= r->raw +
	    r->raw_size) {
		e.input = (int)(m->cur - m->inputs);
		e.at = r->offset + (uint64_t)(r->data - r->raw);
		if (m->th != NULL)
			hash_write(m, r, e.input, e.at);
	} else if ((e.mem = keep(m, r->data, r->data_len)) == NULL)
		return -1;
	if (cdp_extents_write(n->x, &e) == -1)
		return no_memory(m);
	return 1;
}

static int
do_truncate(struct cdp_model *m, const struct cdp_record *r)
{
	struct node *n;

	if (r->off > SIZE_MAX_MODEL)
		return give_up(m, "%s: size beyond %" PRIu64, r->path,
		    SIZE_MAX_MODEL);
	if ((n = regular(m, r->path)) == NULL)
		return -1;
	if (cdp_extents_truncate(n->x, r->off) == -1)
		return no_memory(m);
	return 1;
}

/* What cdp_falloc_emulate() leaves, for the modes that move no data. */
static int
do_fallocate(struct cdp_model *m, const struct cdp_record *r)
{
	uint64_t end, size;
	struct node *n;
	int rc = 0;

	if (r->len == 0 || r->off > SIZE_MAX_MODEL ||
	    r->len > SIZE_MAX_MODEL - r->off)
		return give_up(m, "%s: range beyond %" PRIu64, r->path,
		    SIZE_MAX_MODEL);
	if ((n = regular(m, r->path)) == NULL)
		return -1;
	end = r->off + r->len;
	size = cdp_extents_size(n->x);
	switch (r->mode) {
	case 0:
	case FL_UNSHARE:
		break;
	case FL_KEEP_SIZE:
	case FL_UNSHARE | FL_KEEP_SIZE:
		return 1;
	case FL_PUNCH_HOLE | FL_KEEP_SIZE:
	case FL_ZERO_RANGE | FL_KEEP_SIZE:
		rc = cdp_extents_zero(n->x, r->off, end < size ? end : size);
		return rc == -1 ? no_memory(m) : 1;
	case FL_ZERO_RANGE:
		rc = cdp_extents_zero(n->x, r->off, end < size ? end : size);
		break;
	default:
		return give_up(m, "%s: fallocate mode %#x", r->path,
		    (unsigned)r->mode);
	}
	if (rc == 0 && size < end)
		rc = cdp_extents_truncate(n->x, end);
	return rc == -1 ? no_memory(m) : 1;
}

static int
apply(struct cdp_model *m, const struct cdp_record *r)
{
	const char *why;
	int root_ok = r->type == CDP_T_SETATTR || r->type == CDP_T_SETXATTR ||
	    r->type == CDP_T_REMOVEXATTR || r->type == CDP_T_FSYNC;

	if ((!(root_ok && r->path[0] == '\0') &&
	    cdp_path_check(r->path, strlen(r->path), &why) == -1) ||
	    ((r->type == CDP_T_LINK || r->type == CDP_T_RENAME) &&
	    cdp_path_check(r->path2, strlen(r->path2), &why) == -1))
		return give_up(m, "bad path");
	switch (r->type) {
	case CDP_T_CREATE:
		return do_create(m, r, 0);
	case CDP_T_SYMLINK:
		return do_create(m, r, 1);
	case CDP_T_MKDIR:
		return do_mkdir(m, r);
	case CDP_T_LINK:
		return do_link(m, r);
	case CDP_T_RENAME:
		return do_rename(m, r);
	case CDP_T_UNLINK:
		return do_remove(m, r, 0);
	case CDP_T_RMDIR:
		return do_remove(m, r, 1);
	case CDP_T_SETATTR:
		return do_setattr(m, r);
	case CDP_T_SETXATTR:
	case CDP_T_REMOVEXATTR:
		return do_xattr(m, r);
	case CDP_T_WRITE:
		return do_write(m, r);
	case CDP_T_TRUNCATE:
		return do_truncate(m, r);
	case CDP_T_FALLOCATE:
		return do_fallocate(m, r);
	default:
		return 0;	/* FSYNC */
	}
}

/* Streams: records at or below the last seq applied are skipped. */
static struct stream *
stream_find(struct cdp_model *m, const uint8_t uuid[16])
{
	size_t i;

	for (i = 0; i < m->nstreams; i++)
		if (memcmp(m->streams[i].uuid, uuid, 16) == 0)
			return &m->streams[i];
	if (m->nstreams == CDP_MODEL_STREAMS) {
		memmove(&m->streams[0], &m->streams[1],
		    (CDP_MODEL_STREAMS - 1) * sizeof(m->streams[0]));
		m->nstreams--;
	}
	memset(&m->streams[m->nstreams], 0, sizeof(m->streams[0]));
	memcpy(m->streams[m->nstreams].uuid, uuid, 16);
	return &m->streams[m->nstreams++];
}

int
cdp_model_record(struct cdp_model *m, const struct cdp_record *r)
{
	int rc = 0;

	if (m->broken) {
		errno = ENOTSUP;
		return -1;
	}
	m->rec = r;
	if (r->type == CDP_T_STREAM_HDR) {
		m->stream = stream_find(m, r->uuid);
		return 0;
	}
	if (r->seq == 0)
		return 0;
	if (m->stream != NULL && m->stream->applied != 0 &&
	    r->seq <= m->stream->applied)
		return 0;
	if (m->cur == NULL)
		return give_up(m, "record before any input");
	if (cdp_record_type_changes_tree(r->type) || r->type == CDP_T_FSYNC)
		rc = apply(m, r);
	if (rc == -1)
		return -1;
	if (m->stream != NULL)
		m->stream->applied = r->seq;
	return rc;
}

const char *
cdp_model_why(const struct cdp_model *m)
{
	return m->why;
}

/* The model. */

struct cdp_model *
cdp_model_new(size_t mem_max)
{
	struct cdp_model *m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	m->mem_max = mem_max;
	m->is_root = geteuid() == 0;
	m->nb = 1024;
	if ((m->b = calloc(m->nb, sizeof(*m->b))) == NULL ||
	    (m->root = node_new(m, S_IFDIR, 0755)) == NULL) {
		free(m->b);
		free(m);
		errno = ENOMEM;
		return NULL;
	}
	m->root->nlink = 1;
	return m;
}

void
cdp_model_use_sums(struct cdp_model *m, struct cdp_treehash *th)
{
	m->th = th;
}

int
cdp_model_input(struct cdp_model *m, const struct cdp_source *src,
    const char *path)
{
	struct input *in;
	struct stat st;

	if (m->ninputs == m->capinputs) {
		size_t cap = m->capinputs ? m->capinputs * 2 : 4;
		struct input *v = realloc(m->inputs, cap * sizeof(*v));

		if (v == NULL)
			return -1;
		m->inputs = v;
		m->capinputs = cap;
	}
	in = &m->inputs[m->ninputs];
	in->fd = -1;
	if ((in->path = strdup(path)) == NULL)
		return -1;
	/*
	 * Only a plain journal's stream offsets are its file offsets.  A
	 * FIFO is opened without waiting for a writer, then let go.
	 */
	if (cdp_source_kind(src) == CDP_SOURCE_JOURNAL &&
	    (in->fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) != -1 &&
	    (fstat(in->fd, &st) == -1 || !S_ISREG(st.st_mode))) {
		close(in->fd);
		in->fd = -1;
	}
	m->cur = &m->inputs[m->ninputs++];
	return 0;
}

void
cdp_model_free(struct cdp_model *m)
{
	struct dentry *d, *next;
	struct block *b, *bnext;
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->nb; i++)
		for (d = m->b[i]; d != NULL; d = next) {
			next = d->next;
			if (--d->node->nlink == 0)
				node_free(m, d->node);
			free(d);
		}
	node_free(m, m->root);
	for (b = m->blocks; b != NULL; b = bnext) {
		bnext = b->next;
		free(b);
	}
	for (i = 0; i < m->ninputs; i++) {
		if (m->inputs[i].fd != -1)
			close(m->inputs[i].fd);
		free(m->inputs[i].path);
	}
	free(m->inputs);
	free(m->jsums);
	free(m->b);
	free(m);
}
