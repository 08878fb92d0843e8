/*
 * cdp_model_cmp.c: compare the model with a real directory.
 *
 * The walk is cdp_tree_compare()'s, with the model as side a: the same
 * order (names sorted bytewise, depth first), the same checks in the same
 * order, the same hard link leaders, so that the differences reported are
 * those a replayed copy would have given.  A file's expected bytes are
 * read from the journal (or memory, or are zeros) extent by extent into
 * one buffer and compared with the file's, a chunk at a time.
 *
 * With the scan of cdp_treehash.h, a directory's names and their stats
 * are the scan's, where it has them: one system call per name less, and
 * a stat that is known to come after the file was hashed.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "cdp_format.h"
#include "cdp_model_int.h"

#define CHUNK	(1u << 20)

struct cmp {
	struct cdp_model *m;
	cdp_tree_diff_fn *fn;
	void		*ctx;
	int		 differ;
	char		*where;
	size_t		 wsize;
	struct dentry	**all;		/* every name, by directory and name */
	size_t		 nall;
	void		*links;		/* tsearch root of struct ino_key, side b */
	uint8_t		*buf[2];
};

static int
by_dir_name(const void *a, const void *b)
{
	const struct dentry *x = *(struct dentry *const *)a;
	const struct dentry *y = *(struct dentry *const *)b;

	if (x->dir != y->dir)
		return (uintptr_t)x->dir < (uintptr_t)y->dir ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* The names in model directory dir: *first and the count. */
static size_t
children(const struct cmp *c, const struct node *dir, size_t *first)
{
	size_t lo = 0, hi = c->nall, n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if ((uintptr_t)c->all[mid]->dir < (uintptr_t)dir)
			lo = mid + 1;
		else
			hi = mid;
	}
	*first = lo;
	for (n = 0; lo + n < c->nall && c->all[lo + n]->dir == dir; n++)
		;
	return n;
}

/* The first path of path's hard link group in the model. */
static const char *
leader_a(struct node *n, const char *path)
{
	if (n->nlink < 2)
		return path;
	if (n->first == NULL)
		n->first = strdup(path);
	return n->first != NULL ? n->first : path;
}

static void
diff(struct cmp *c, const char *path, enum cdp_tree_diff kind,
    const char *a, const char *b)
{
	c->differ = 1;
	c->fn(c->ctx, path, kind, a, b);
}

static int
trouble(struct cmp *c, const char *path)
{
	snprintf(c->where, c->wsize, "%s", path[0] == '\0' ? "." : path);
	return -1;
}

/* Read exactly n bytes at off, or fail (EIO if the journal is short). */
static int
pread_full(int fd, uint8_t *buf, size_t n, uint64_t off)
{
	while (n > 0) {
		ssize_t got = pread(fd, buf, n, (off_t)off);

		if (got == -1 && errno == EINTR)
			continue;
		if (got <= 0) {
			if (got == 0)
				errno = EIO;
			return -1;
		}
		buf += got;
		n -= (size_t)got;
		off += (uint64_t)got;
	}
	return 0;
}

/*
 * The expected bytes [pos, pos + n) into buf, from extents v (*k: the
 * first that may still matter).  Returns 0, or -1 with c->where naming
 * the journal that could not be read.
 */
static int
expect(struct cmp *c, const struct cdp_extent *v, size_t nv, size_t *k,
    uint64_t pos, size_t n, uint8_t *buf)
{
	uint64_t end = pos + n;

	while (*k < nv && pos < end) {
		const struct cdp_extent *e = &v[*k];
		uint64_t eend = e->off + e->len, stop = eend < end ? eend : end;
		size_t len = (size_t)(stop - pos);
		uint8_t *dst = buf + (n - (size_t)(end - pos));

		if (e->input == CDP_EXTENT_ZERO)
			memset(dst, 0, len);
		else if (e->input == CDP_EXTENT_MEM)
			memcpy(dst, e->mem + (pos - e->off), len);
		else if (pread_full(c->m->inputs[e->input].fd, dst, len,
		    e->at + (pos - e->off)) == -1) {
			snprintf(c->where, c->wsize, "%s",
			    c->m->inputs[e->input].path);
			return -1;
		}
		pos = stop;
		if (stop == eend)
			(*k)++;
	}
	return 0;
}

/*
 * Whether regular file fb holds the content of model file n (of equal
 * size at stat time): 1 same, 0 differ, -1 trouble (where set for a
 * journal; the caller names the file otherwise).
 */
static int
same_content(struct cmp *c, const struct node *n, int fb, int *journal)
{
	struct cdp_extent *v;
	uint64_t size = cdp_extents_size(n->x), pos = 0;
	size_t k = 0;
	long nv;
	int rc = 1;

	if ((nv = cdp_extents_resolve(n->x, &v)) == -1)
		return -1;
	while (pos < size && rc == 1) {
		size_t len = size - pos < CHUNK ? (size_t)(size - pos) : CHUNK;
		ssize_t got = cdp_treehash_read(fb, c->buf[1], len);

		if (got == -1)
			rc = -1;
		else if ((size_t)got < len)
			rc = 0;
		else if (expect(c, v, (size_t)nv, &k, pos, len,
		    c->buf[0]) == -1) {
			*journal = 1;
			rc = -1;
		} else if (memcmp(c->buf[0], c->buf[1], len) != 0)
			rc = 0;
		pos += len;
	}
	free(v);
	if (rc == 1) {
		ssize_t got = read(fb, c->buf[1], 1);

		rc = got == -1 ? -1 : got == 0;
	}
	return rc;
}

/*
 * The sum of the expected bytes [pos, pos + len), one chunk of the grid
 * of cdp_treehash.h: the sum taken when the journal was read if one
 * extent holds them all, else the bytes read again and hashed.  *k is
 * the first extent that may still matter.  Returns 0 or -1 as expect().
 */
static int
chunk_sum(struct cmp *c, const struct cdp_extent *v, size_t nv, size_t *k,
    uint64_t pos, size_t len, struct cdp_treehash_sum *s)
{
	const struct cdp_extent *e;
	size_t first;

	while (*k < nv && v[*k].off + v[*k].len <= pos)
		(*k)++;
	e = &v[*k];
	if (*k < nv && e->off <= pos && e->off + e->len >= pos + len) {
		if (e->input == CDP_EXTENT_MEM) {
			cdp_treehash_sum(e->mem + (pos - e->off), len, s);
			return 0;
		}
		if (e->input >= 0 && cdp_model_jsum(c->m, e->input,
		    e->at + (pos - e->off), len, s))
			return 0;
	}
	first = *k;
	if (expect(c, v, nv, &first, pos, len, c->buf[0]) == -1)
		return -1;
	cdp_treehash_sum(c->buf[0], len, s);
	return 0;
}

/*
 * Whether model file n has the content whose chunk sums the scan found
 * (the sizes are equal): 1 same, 0 differ, -1 a journal could not be
 * read (where set).
 */
static int
same_sums(struct cmp *c, const struct node *n,
    const struct cdp_treehash_sum *sums)
{
	struct cdp_treehash_sum s;
	struct cdp_extent *v;
	uint64_t size = cdp_extents_size(n->x), pos;
	size_t k = 0, i = 0;
	long nv;
	int rc = 1;

	if ((nv = cdp_extents_resolve(n->x, &v)) == -1)
		return -1;
	for (pos = 0; pos < size && rc == 1; pos += CDP_TREEHASH_CHUNK) {
		size_t len = size - pos < CDP_TREEHASH_CHUNK ?
		    (size_t)(size - pos) : CDP_TREEHASH_CHUNK;

		if (chunk_sum(c, v, (size_t)nv, &k, pos, len, &s) == -1)
			rc = -1;
		else if (s.lo != sums[i].lo || s.hi != sums[i].hi)
			rc = 0;
		i++;
	}
	free(v);
	return rc;
}

static int compare_dir(struct cmp *, struct node *, int, char *, size_t,
	    const struct cdp_treehash_dir *);

/*
 * The scan's listing l of a directory, if fb is that directory still
 * (not one put in its place since), else NULL.
 */
static const struct cdp_treehash_dir *
listing(const struct cdp_treehash_dir *l, int fb)
{
	struct stat st;

	if (l == NULL || fstat(fb, &st) == -1 || st.st_dev != l->dev ||
	    st.st_ino != l->ino)
		return NULL;
	return l;
}

/* Compare a with name in db; se: what the scan saw of it, or NULL. */
static int
compare_entry(struct cmp *c, struct node *a, int db, const char *name,
    char *path, size_t plen, const struct cdp_treehash_ent *se)
{
	const struct cdp_treehash_sum *sums;
	struct stat sb;
	size_t nsums;
	char ma[8], mb[8], za[24], zb[24], ta[CDP_PATH_MAX + 1];
	int fb = -1, rc = 0, journal = 0;

	if (se != NULL && se->have_st)
		sb = se->st;
	else if (fstatat(db, name, &sb, AT_SYMLINK_NOFOLLOW) == -1)
		return trouble(c, path);
	if (a->type != (sb.st_mode & S_IFMT)) {
		diff(c, path, CDP_TREE_TYPE, cdp_tree_type_name(a->type),
		    cdp_tree_type_name(sb.st_mode));
		return 0;
	}
	if (!S_ISLNK(a->type) && a->perm != (sb.st_mode & 07777)) {
		snprintf(ma, sizeof(ma), "%04o", (unsigned)a->perm);
		snprintf(mb, sizeof(mb), "%04o",
		    (unsigned)(sb.st_mode & 07777));
		diff(c, path, CDP_TREE_MODE, ma, mb);
	}
	if (S_ISLNK(a->type)) {
		ssize_t nb = readlinkat(db, name, ta, sizeof(ta) - 1);

		if (nb == -1)
			return trouble(c, path);
		ta[nb] = '\0';
		if (strcmp(a->target, ta) != 0)
			diff(c, path, CDP_TREE_TARGET, a->target, ta);
		return 0;
	}
	if (S_ISDIR(a->type)) {
		fb = openat(db, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		if (fb == -1)
			return trouble(c, path);
		rc = compare_dir(c, a, fb, path, plen,
		    listing(se != NULL ? se->sub : NULL, fb));
		close(fb);
		return rc;
	}
	if (!S_ISREG(a->type))
		return 0;
	if (strcmp(leader_a(a, path), cdp_tree_leader(&c->links, &sb, path)) != 0)
		diff(c, path, CDP_TREE_LINK, leader_a(a, path),
		    cdp_tree_leader(&c->links, &sb, path));
	if (cdp_extents_size(a->x) != (uint64_t)sb.st_size) {
		snprintf(za, sizeof(za), "%" PRIu64, cdp_extents_size(a->x));
		snprintf(zb, sizeof(zb), "%jd", (intmax_t)sb.st_size);
		diff(c, path, CDP_TREE_SIZE, za, zb);
		return 0;
	}
	if (c->m->th != NULL &&
	    (sums = cdp_treehash_find(c->m->th, &sb, &nsums)) != NULL) {
		switch (same_sums(c, a, sums)) {
		case -1:
			return -1;
		case 0:
			diff(c, path, CDP_TREE_CONTENT, NULL, NULL);
			break;
		}
		return 0;
	}
	fb = openat(db, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fb == -1)
		return trouble(c, path);
	posix_fadvise(fb, 0, 0, POSIX_FADV_SEQUENTIAL);
	switch (same_content(c, a, fb, &journal)) {
	case -1:
		rc = journal ? -1 : trouble(c, path);
		break;
	case 0:
		diff(c, path, CDP_TREE_CONTENT, NULL, NULL);
		break;
	}
	close(fb);
	return rc;
}

/* Compare model directory a with fb, at path (plen bytes, in a buffer of
 * CDP_PATH_MAX + 1 bytes); sd: the scan's listing of fb, or NULL. */
static int
compare_dir(struct cmp *c, struct node *a, int fb, char *path, size_t plen,
    const struct cdp_treehash_dir *sd)
{
	struct cdp_tree_names nb = { NULL, 0 };
	size_t i = 0, j = 0, first, na = children(c, a, &first);
	size_t n = sd != NULL ? sd->n : 0;
	struct dentry **da = c->all + first;
	int rc = 0;

	if (sd == NULL) {
		if (cdp_tree_names_read(fb, &nb) == -1)
			return trouble(c, path);
		n = nb.n;
	}
	while (rc == 0 && (i < na || j < n)) {
		const char *bname = j == n ? NULL : sd != NULL ?
		    sd->v[j].name : nb.v[j];
		int order = i == na ? 1 : j == n ? -1 :
		    strcmp(da[i]->name, bname);
		const char *name = order <= 0 ? da[i]->name : bname;
		size_t nlen;

		if (cdp_tree_path_push(path, plen, name, &nlen) == -1) {
			rc = trouble(c, path);
			break;
		}
		if (order < 0)
			diff(c, path, CDP_TREE_ONLY_A, NULL, NULL);
		else if (order > 0)
			diff(c, path, CDP_TREE_ONLY_B, NULL, NULL);
		else
			rc = compare_entry(c, da[i]->node, fb, name, path,
			    nlen, sd != NULL ? &sd->v[j] : NULL);
		if (rc == 0)
			path[plen] = '\0';
		if (order <= 0)
			i++;
		if (order >= 0)
			j++;
	}
	cdp_tree_names_free(&nb);
	return rc;
}

int
cdp_model_compare(struct cdp_model *m, const char *dir, cdp_tree_diff_fn *fn,
    void *ctx, char *where, size_t size)
{
	struct cmp c = { m, fn, ctx, 0, where, size, NULL, 0, NULL,
	    { NULL, NULL } };
	char path[CDP_PATH_MAX + 1];
	struct dentry *d;
	size_t i;
	int fb, rc = -1, e;

	path[0] = '\0';
	if ((fb = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		snprintf(where, size, "%s", dir);
		return -1;
	}
	if ((c.all = malloc((m->nnames + 1) * sizeof(*c.all))) == NULL ||
	    (c.buf[0] = malloc(CHUNK)) == NULL ||
	    (c.buf[1] = malloc(CHUNK)) == NULL) {
		snprintf(where, size, "%s", dir);
		goto out;
	}
	for (i = 0; i < m->nb; i++)
		for (d = m->b[i]; d != NULL; d = d->next)
			c.all[c.nall++] = d;
	qsort(c.all, c.nall, sizeof(*c.all), by_dir_name);
	for (i = 0; i < c.nall; i++) {
		free(c.all[i]->node->first);
		c.all[i]->node->first = NULL;
	}
	if ((rc = compare_dir(&c, m->root, fb, path, 0, m->th == NULL ? NULL :
	    listing(cdp_treehash_top(m->th), fb))) == 0)
		rc = c.differ;
out:
	e = errno;
	cdp_tree_leaders_free(c.links);
	free(c.all);
	free(c.buf[0]);
	free(c.buf[1]);
	close(fb);
	errno = e;
	return rc;
}
