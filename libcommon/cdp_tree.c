/*
 * cdp_tree.c: compare and remove directory trees.
 *
 * The comparison walks both trees at once, directory by directory, with
 * names sorted bytewise, so differences come out in a stable order.  File
 * contents are compared chunk by chunk with memcmp(3): reading both files
 * once is the least work there is when both are at hand (a hash would read
 * the same bytes and then compute on them).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "cdp_format.h"
#include "cdp_tree.h"

#define CHUNK	(1u << 20)

struct ino_key {
	dev_t		 dev;
	ino_t		 ino;
	char		*first;		/* first path seen with this inode */
};

struct cmp {
	cdp_tree_diff_fn *fn;
	void		*ctx;
	int		 differ;
	char		*where;
	size_t		 wsize;
	void		*links[2];	/* tsearch roots of struct ino_key */
	uint8_t		*buf[2];
};

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void
cdp_tree_names_free(struct cdp_tree_names *n)
{
	size_t i;

	for (i = 0; i < n->n; i++)
		free(n->v[i]);
	free(n->v);
}

int
cdp_tree_path_push(char *path, size_t plen, const char *name, size_t *nlen)
{
	size_t len = strlen(name);

	if (plen + 1 + len > CDP_PATH_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (plen != 0)
		path[plen++] = '/';
	memcpy(path + plen, name, len + 1);
	*nlen = plen + len;
	return 0;
}

int
cdp_tree_names_read(int fd, struct cdp_tree_names *n)
{
	struct dirent *de;
	size_t cap = 0;
	DIR *d;
	int dfd;

	n->v = NULL;
	n->n = 0;
	if ((dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	if ((d = fdopendir(dfd)) == NULL) {
		close(dfd);
		return -1;
	}
	errno = 0;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (n->n == cap) {
			char **v = realloc(n->v, (cap = cap ? cap * 2 : 64) *
			    sizeof(*v));

			if (v == NULL)
				goto fail;
			n->v = v;
		}
		if ((n->v[n->n] = strdup(de->d_name)) == NULL)
			goto fail;
		n->n++;
	}
	if (errno != 0)
		goto fail;
	closedir(d);
	if (n->n > 1)
		qsort(n->v, n->n, sizeof(*n->v), by_name);
	return 0;
fail:
	closedir(d);
	cdp_tree_names_free(n);
	return -1;
}

static int
ino_cmp(const void *a, const void *b)
{
	const struct ino_key *x = a, *y = b;

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	return 0;
}

static void
ino_free(void *p)
{
	struct ino_key *k = p;

	free(k->first);
	free(k);
}

const char *
cdp_tree_leader(void **links, const struct stat *st, const char *path)
{
	struct ino_key key = { st->st_dev, st->st_ino, NULL }, *k, **found;

	if (st->st_nlink < 2)
		return path;
	if ((found = tfind(&key, links, ino_cmp)) != NULL)
		return (*found)->first;
	if ((k = malloc(sizeof(*k))) == NULL ||
	    (k->first = strdup(path)) == NULL) {
		free(k);
		return path;
	}
	k->dev = st->st_dev;
	k->ino = st->st_ino;
	if (tsearch(k, links, ino_cmp) == NULL) {
		ino_free(k);
		return path;
	}
	return k->first;
}

void
cdp_tree_leaders_free(void *links)
{
	tdestroy(links, ino_free);
}

/* The first path of path's hard link group in tree side. */
static const char *
leader(struct cmp *c, int side, const struct stat *st, const char *path)
{
	return cdp_tree_leader(&c->links[side], st, path);
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

const char *
cdp_tree_type_name(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFREG: return "file";
	case S_IFDIR: return "directory";
	case S_IFLNK: return "symbolic link";
	case S_IFIFO: return "fifo";
	case S_IFSOCK: return "socket";
	case S_IFCHR: return "character device";
	case S_IFBLK: return "block device";
	default: return "unknown";
	}
}

/* Whether regular files fa and fb (of equal size) hold the same bytes. */
static int
same_content(struct cmp *c, int fa, int fb)
{
	for (;;) {
		ssize_t na = read(fa, c->buf[0], CHUNK), nb;
		size_t got = 0;

		if (na == -1)
			return -1;
		while (got < (size_t)na) {
			nb = read(fb, c->buf[1] + got, (size_t)na - got);
			if (nb == -1)
				return -1;
			if (nb == 0)
				return 0;
			got += (size_t)nb;
		}
		if (memcmp(c->buf[0], c->buf[1], (size_t)na) != 0)
			return 0;
		if (na == 0)
			return read(fb, c->buf[1], 1) == 0;
	}
}

static int compare_dir(struct cmp *, int, int, char *, size_t);

static int
compare_entry(struct cmp *c, int da, int db, const char *name, char *path,
    size_t plen)
{
	struct stat sa, sb;
	char ma[8], mb[8], ta[CDP_PATH_MAX + 1], tb[CDP_PATH_MAX + 1];
	int fa = -1, fb = -1, rc = 0;

	if (fstatat(da, name, &sa, AT_SYMLINK_NOFOLLOW) == -1 ||
	    fstatat(db, name, &sb, AT_SYMLINK_NOFOLLOW) == -1)
		return trouble(c, path);
	if ((sa.st_mode & S_IFMT) != (sb.st_mode & S_IFMT)) {
		diff(c, path, CDP_TREE_TYPE, cdp_tree_type_name(sa.st_mode),
		    cdp_tree_type_name(sb.st_mode));
		return 0;
	}
	if (!S_ISLNK(sa.st_mode) &&
	    (sa.st_mode & 07777) != (sb.st_mode & 07777)) {
		snprintf(ma, sizeof(ma), "%04o",
		    (unsigned)(sa.st_mode & 07777));
		snprintf(mb, sizeof(mb), "%04o",
		    (unsigned)(sb.st_mode & 07777));
		diff(c, path, CDP_TREE_MODE, ma, mb);
	}
	if (S_ISLNK(sa.st_mode)) {
		ssize_t na = readlinkat(da, name, ta, sizeof(ta) - 1);
		ssize_t nb = readlinkat(db, name, tb, sizeof(tb) - 1);

		if (na == -1 || nb == -1)
			return trouble(c, path);
		ta[na] = tb[nb] = '\0';
		if (strcmp(ta, tb) != 0)
			diff(c, path, CDP_TREE_TARGET, ta, tb);
		return 0;
	}
	if (S_ISDIR(sa.st_mode)) {
		fa = openat(da, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		fb = openat(db, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		if (fa == -1 || fb == -1)
			rc = trouble(c, path);
		else
			rc = compare_dir(c, fa, fb, path, plen);
		goto out;
	}
	if (!S_ISREG(sa.st_mode))
		return 0;
	if (strcmp(leader(c, 0, &sa, path), leader(c, 1, &sb, path)) != 0)
		diff(c, path, CDP_TREE_LINK, leader(c, 0, &sa, path),
		    leader(c, 1, &sb, path));
	if (sa.st_size != sb.st_size) {
		snprintf(ta, sizeof(ta), "%jd", (intmax_t)sa.st_size);
		snprintf(tb, sizeof(tb), "%jd", (intmax_t)sb.st_size);
		diff(c, path, CDP_TREE_SIZE, ta, tb);
		return 0;
	}
	fa = openat(da, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	fb = openat(db, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fa == -1 || fb == -1) {
		rc = trouble(c, path);
		goto out;
	}
	posix_fadvise(fa, 0, 0, POSIX_FADV_SEQUENTIAL);
	posix_fadvise(fb, 0, 0, POSIX_FADV_SEQUENTIAL);
	switch (same_content(c, fa, fb)) {
	case -1:
		rc = trouble(c, path);
		break;
	case 0:
		diff(c, path, CDP_TREE_CONTENT, NULL, NULL);
		break;
	}
out:
	if (fa != -1)
		close(fa);
	if (fb != -1)
		close(fb);
	return rc;
}

/* Compare directories fa and fb, at path (plen bytes, in a buffer of
 * CDP_PATH_MAX + 1 + NAME_MAX + 2 bytes). */
static int
compare_dir(struct cmp *c, int fa, int fb, char *path, size_t plen)
{
	struct cdp_tree_names na, nb;
	size_t i = 0, j = 0;
	int rc = 0;

	if (cdp_tree_names_read(fa, &na) == -1)
		return trouble(c, path);
	if (cdp_tree_names_read(fb, &nb) == -1) {
		cdp_tree_names_free(&na);
		return trouble(c, path);
	}
	while (rc == 0 && (i < na.n || j < nb.n)) {
		int order = i == na.n ? 1 : j == nb.n ? -1 :
		    strcmp(na.v[i], nb.v[j]);
		const char *name = order <= 0 ? na.v[i] : nb.v[j];
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
			rc = compare_entry(c, fa, fb, name, path, nlen);
		if (rc == 0)
			path[plen] = '\0';
		if (order <= 0)
			i++;
		if (order >= 0)
			j++;
	}
	cdp_tree_names_free(&na);
	cdp_tree_names_free(&nb);
	return rc;
}

int
cdp_tree_compare(const char *a, const char *b, cdp_tree_diff_fn *fn,
    void *ctx, char *where, size_t size)
{
	struct cmp c = { fn, ctx, 0, where, size, { NULL, NULL },
	    { NULL, NULL } };
	char path[CDP_PATH_MAX + 1];
	int fa, fb = -1, rc = -1, e;

	path[0] = '\0';
	if ((fa = open(a, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		snprintf(where, size, "%s", a);
		return -1;
	}
	if ((fb = open(b, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		snprintf(where, size, "%s", b);
		goto out;
	}
	if ((c.buf[0] = malloc(CHUNK)) == NULL ||
	    (c.buf[1] = malloc(CHUNK)) == NULL) {
		snprintf(where, size, "%s", a);
		goto out;
	}
	if ((rc = compare_dir(&c, fa, fb, path, 0)) == 0)
		rc = c.differ;
out:
	e = errno;
	cdp_tree_leaders_free(c.links[0]);
	cdp_tree_leaders_free(c.links[1]);
	free(c.buf[0]);
	free(c.buf[1]);
	close(fa);
	if (fb != -1)
		close(fb);
	errno = e;
	return rc;
}

static int
remove_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)f;
	if (flag == FTW_DP)
		return rmdir(path);
	return unlink(path);
}

int
cdp_tree_remove(const char *dir)
{
	struct stat st;

	/* A directory a replay left without write or search permission. */
	if (lstat(dir, &st) == 0 && S_ISDIR(st.st_mode))
		chmod(dir, 0700);
	return nftw(dir, remove_one, 64, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

int
cdp_tree_tmpdir(const char *prefix, char *buf, size_t size)
{
	const char *tmp = getenv("TMPDIR");
	int n;

	if (tmp == NULL || tmp[0] == '\0')
		tmp = "/tmp";
	n = snprintf(buf, size, "%s/cdp-%s.XXXXXX", tmp, prefix);
	if (n < 0 || (size_t)n >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return mkdtemp(buf) == NULL ? -1 : 0;
}
