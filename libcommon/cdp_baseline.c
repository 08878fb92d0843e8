/*
 * cdp_baseline.c: walk a tree into journal records (cdp_baseline.h).
 *
 * Every object is opened relative to its parent's descriptor with
 * O_NOFOLLOW, so a symlink swapped in during the walk is read as a
 * symlink, never followed out of the root.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cdp_baseline.h"
#include "cdp_path.h"

struct inode {
	dev_t		 dev;
	ino_t		 ino;
	char		*path;
};

struct cdp_baseline {
	int		 rootfd;
	dev_t		 dev;
	cdp_baseline_emit emit;
	void		*arg;
	struct cdp_record rec;
	char		 path[CDP_PATH_MAX + 1];
	uint8_t		*buf;
	struct inode	*links;		/* files with more than one name */
	size_t		 nlinks, caplinks;
	char		 err[CDP_PATH_MAX + 128];
};

struct cdp_baseline *
cdp_baseline_open(const char *root)
{
	struct cdp_baseline *b;
	struct stat st;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	b->rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (b->rootfd == -1 || fstat(b->rootfd, &st) == -1 ||
	    (b->buf = malloc(CDP_BASELINE_CHUNK)) == NULL) {
		int e = errno;

		cdp_baseline_close(b);
		errno = e;
		return NULL;
	}
	b->dev = st.st_dev;
	return b;
}

void
cdp_baseline_close(struct cdp_baseline *b)
{
	size_t i;

	if (b == NULL)
		return;
	if (b->rootfd != -1)
		close(b->rootfd);
	for (i = 0; i < b->nlinks; i++)
		free(b->links[i].path);
	free(b->links);
	free(b->buf);
	free(b);
}

const char *
cdp_baseline_error(const struct cdp_baseline *b)
{
	return b->err;
}

static int
fail(struct cdp_baseline *b, const char *path)
{
	int e = errno;

	snprintf(b->err, sizeof(b->err), "%s: %s", path[0] ? path : ".",
	    strerror(e));
	errno = e;
	return -1;
}

/* A record of type about the current path; other fields zero. */
static struct cdp_record *
rec(struct cdp_baseline *b, uint16_t type)
{
	struct cdp_record *r = &b->rec;

	r->type = type;
	r->time_ns = 0;
	r->mode = r->rflags = r->uid = r->gid = 0;
	r->atime_ns = r->mtime_ns = 0;
	r->off = r->len = 0;
	r->path2[0] = r->name[0] = '\0';
	r->data = NULL;
	r->data_len = 0;
	memcpy(r->path, b->path, strlen(b->path) + 1);
	return r;
}

static int
setattr(struct cdp_baseline *b, const struct stat *st)
{
	struct cdp_record *r = rec(b, CDP_T_SETATTR);

	r->rflags = CDP_ATTR_MODE | CDP_ATTR_UID | CDP_ATTR_GID |
	    CDP_ATTR_MTIME;
	r->mode = st->st_mode & 07777;
	r->uid = st->st_uid;
	r->gid = st->st_gid;
	r->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 +
	    st->st_mtim.tv_nsec;
	return b->emit(b->arg, r);
}

/* 1 if st is a further name of a file already emitted (LINK sent). */
static int
hardlink(struct cdp_baseline *b, const struct stat *st)
{
	struct cdp_record *r;
	struct inode *n;
	size_t i;

	if (st->st_nlink < 2)
		return 0;
	for (i = 0; i < b->nlinks; i++)
		if (b->links[i].ino == st->st_ino &&
		    b->links[i].dev == st->st_dev) {
			r = rec(b, CDP_T_LINK);
			memcpy(r->path, b->links[i].path,
			    strlen(b->links[i].path) + 1);
			memcpy(r->path2, b->path, strlen(b->path) + 1);
			return b->emit(b->arg, r) == -1 ? -1 : 1;
		}
	if (b->nlinks == b->caplinks) {
		size_t cap = b->caplinks ? 2 * b->caplinks : 64;

		if ((n = realloc(b->links, cap * sizeof(*n))) == NULL)
			return -1;
		b->links = n;
		b->caplinks = cap;
	}
	if ((b->links[b->nlinks].path = strdup(b->path)) == NULL)
		return -1;
	b->links[b->nlinks].dev = st->st_dev;
	b->links[b->nlinks].ino = st->st_ino;
	b->nlinks++;
	return 0;
}

static int
file(struct cdp_baseline *b, int dfd, const char *name, const struct stat *st)
{
	struct cdp_record *r;
	uint64_t off = 0;
	ssize_t n;
	int fd, h;

	if ((h = hardlink(b, st)) != 0)
		return h == 1 ? 0 : fail(b, b->path);
	if ((fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return fail(b, b->path);
	r = rec(b, CDP_T_CREATE);
	r->mode = st->st_mode & 07777;
	if (b->emit(b->arg, r) == -1)
		goto bad;
	for (;;) {
		n = read(fd, b->buf, CDP_BASELINE_CHUNK);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			fail(b, b->path);
			goto bad;
		}
		if (n == 0)
			break;
		r = rec(b, CDP_T_WRITE);
		r->off = off;
		r->data = b->buf;
		r->data_len = (size_t)n;
		if (b->emit(b->arg, r) == -1)
			goto bad;
		off += (uint64_t)n;
	}
	close(fd);
	return setattr(b, st);
bad:
	close(fd);
	return -1;
}

static int
walk(struct cdp_baseline *b, int dfd);

/* One entry of directory dfd; b->path is its journal path. */
static int
entry(struct cdp_baseline *b, int dfd, const char *name)
{
	struct cdp_record *r;
	struct stat st;
	ssize_t n;
	int fd;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return errno == ENOENT ? 0 : fail(b, b->path);
	if (S_ISREG(st.st_mode))
		return file(b, dfd, name, &st);
	if (S_ISLNK(st.st_mode)) {
		r = rec(b, CDP_T_SYMLINK);
		n = readlinkat(dfd, name, r->path2, CDP_PATH_MAX);
		if (n <= 0)
			return fail(b, b->path);
		r->path2[n] = '\0';
		return b->emit(b->arg, r);
	}
	if (S_ISFIFO(st.st_mode)) {
		r = rec(b, CDP_T_CREATE);
		r->mode = S_IFIFO | (st.st_mode & 07777);
		if (b->emit(b->arg, r) == -1)
			return -1;
		return setattr(b, &st);
	}
	if (!S_ISDIR(st.st_mode) || st.st_dev != b->dev)
		return 0;
	r = rec(b, CDP_T_MKDIR);
	r->mode = st.st_mode & 07777;
	if (b->emit(b->arg, r) == -1)
		return -1;
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return fail(b, b->path);
	if (walk(b, fd) == -1)
		return -1;
	return setattr(b, &st);
}

/* The entries of dfd (closed here), in name order for a stable stream. */
static int
walk(struct cdp_baseline *b, int dfd)
{
	struct dirent **list = NULL;
	size_t len = strlen(b->path), n, i;
	DIR *d;
	struct dirent *de;
	int rc = 0;
	const char *why;

	if ((d = fdopendir(dfd)) == NULL) {
		close(dfd);
		return fail(b, b->path);
	}
	n = 0;
	{
		size_t cap = 0;

		while ((de = readdir(d)) != NULL) {
			struct dirent **nl;

			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			if (n == cap) {
				cap = cap ? 2 * cap : 32;
				if ((nl = realloc(list, cap * sizeof(*nl))) ==
				    NULL) {
					rc = -1;
					break;
				}
				list = nl;
			}
			if ((list[n] = malloc(sizeof(*de))) == NULL) {
				rc = -1;
				break;
			}
			memcpy(list[n++], de, sizeof(*de));
		}
	}
	for (i = 0; rc == 0 && i < n; i++) {
		size_t m = strlen(list[i]->d_name);

		if (len + 1 + m > CDP_PATH_MAX) {
			errno = ENAMETOOLONG;
			rc = fail(b, b->path);
			break;
		}
		if (len > 0)
			b->path[len] = '/';
		memcpy(b->path + len + (len > 0), list[i]->d_name, m + 1);
		if (cdp_path_check(b->path, strlen(b->path), &why) == 0)
			rc = entry(b, dirfd(d), list[i]->d_name);
		b->path[len] = '\0';
	}
	for (i = 0; i < n; i++)
		free(list[i]);
	free(list);
	closedir(d);
	return rc;
}

int
cdp_baseline_walk(struct cdp_baseline *b, cdp_baseline_emit emit, void *arg)
{
	int fd;

	b->emit = emit;
	b->arg = arg;
	b->path[0] = '\0';
	b->err[0] = '\0';
	if ((fd = dup(b->rootfd)) == -1)
		return fail(b, "");
	if (lseek(fd, 0, SEEK_SET) == -1) {
		close(fd);
		return fail(b, "");
	}
	return walk(b, fd);
}
