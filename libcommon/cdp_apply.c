/*
 * cdp_apply.c: the apply engine.
 *
 * Safety rests on one rule: a journal path reaches the filesystem only as
 * (directory fd, last component), where the directory fd was resolved from
 * the root fd without following any symbolic link and without leaving the
 * root, and every call on the last component refuses to follow a symbolic
 * link too (AT_SYMLINK_NOFOLLOW, O_NOFOLLOW, or a call such as unlinkat()
 * or renameat2() that never follows the last component).  So a symbolic
 * link the journal created, or one that was in the tree before, is never
 * written through, and ".." cannot occur (cdp_path_check()).
 *
 * Speed comes from two small caches: the parent directories resolved last
 * and the files written last stay open, so a run of WRITE records to one
 * file costs one pwrite(2) each.  Any rename or directory removal empties
 * both, since it can change what a cached name refers to.
 *
 * The dry run (CDP_APPLY_DRYRUN) does the same checks against a model: a
 * map of what the journal has done to each name, over the real tree as it
 * is, read but never written.  It lives in cdp_apply_dry.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <linux/openat2.h>

#include "cdp_apply_int.h"
#include "cdp_err.h"
#include "cdp_falloc.h"
#include "cdp_path.h"
#include "cdp_pathmap.h"
#include "cdp_uuid.h"

#define STATE_XATTR	"user.cdp.applied"
#define STATE_MAX	4096	/* bytes of user.cdp.applied */

/* Messages. */

/*
 * Set the error "seq N, offset M: PATH: why" and errno; returns -1.  why is
 * strerror(errnum) when fmt is NULL.
 */
static int __attribute__((format(printf, 4, 5)))
fail(struct cdp_apply *a, int errnum, const char *path, const char *fmt, ...)
{
	const struct cdp_record *r = a->rec;
	char where[256], p[512], why[256];
	va_list ap;

	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(why, sizeof(why), fmt, ap);
		va_end(ap);
	} else
		snprintf(why, sizeof(why), "%s", strerror(errnum));
	if (a->src != NULL)
		cdp_source_where(a->src, r->offset, where, sizeof(where));
	else
		snprintf(where, sizeof(where), "offset %" PRIu64, r->offset);
	if (path == NULL)
		snprintf(a->err, sizeof(a->err), "seq %" PRIu64 ", %s: %s",
		    r->seq, where, why);
	else {
		cdp_err_escape(p, sizeof(p), path[0] == '\0' ? "." : path);
		snprintf(a->err, sizeof(a->err), "seq %" PRIu64 ", %s: %s: %s",
		    r->seq, where, p, why);
	}
	errno = errnum;
	return -1;
}

/* What an errno means for a journal path, in words. */
static int
fail_errno(struct cdp_apply *a, int e, const char *path)
{
	switch (e) {
	case ELOOP:
		return fail(a, e, path, "path goes through a symbolic link");
	case EXDEV:
		return fail(a, e, path,
		    "path leads outside the target directory");
	case ENOTDIR:
		return fail(a, e, path, "a parent is not a directory");
	default:
		return fail(a, e, path, NULL);
	}
}

/* The state: user.cdp.applied on the root, lines "UUID SEQ". */

static struct stream *
stream_find(struct cdp_apply *a, const uint8_t uuid[16], int add)
{
	size_t i;

	for (i = 0; i < a->nstreams; i++)
		if (memcmp(a->streams[i].uuid, uuid, 16) == 0)
			return &a->streams[i];
	if (!add)
		return NULL;
	if (a->nstreams == MAX_STREAMS) {
		/* Forget the oldest: its records are then applied again. */
		memmove(&a->streams[0], &a->streams[1],
		    (MAX_STREAMS - 1) * sizeof(a->streams[0]));
		a->nstreams--;
	}
	memset(&a->streams[a->nstreams], 0, sizeof(a->streams[0]));
	memcpy(a->streams[a->nstreams].uuid, uuid, 16);
	return &a->streams[a->nstreams++];
}

static int
state_load(struct cdp_apply *a)
{
	char buf[STATE_MAX + 1], *line, *save = NULL;
	ssize_t n;

	n = fgetxattr(a->root, STATE_XATTR, buf, STATE_MAX);
	if (n == -1) {
		if (errno == ENODATA)
			return 0;
		if (errno == ENOTSUP) {
			a->no_xattr = 1;
			return 0;
		}
		return -1;
	}
	buf[n] = '\0';
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		uint8_t uuid[16];
		unsigned long long seq;
		char u[CDP_UUID_STRLEN], *end;
		struct stream *s;

		if (strlen(line) < CDP_UUID_STRLEN || line[36] != ' ')
			goto bad;
		memcpy(u, line, 36);
		u[36] = '\0';
		errno = 0;
		seq = strtoull(line + 37, &end, 10);
		if (cdp_uuid_parse(u, uuid) == -1 || *end != '\0' ||
		    errno != 0 || line[37] < '0' || line[37] > '9')
			goto bad;
		s = stream_find(a, uuid, 1);
		s->applied = s->loaded = s->seen = seq;
	}
	return 0;
bad:
	errno = EBADMSG;
	return -1;
}

static int
state_save(struct cdp_apply *a)
{
	char buf[STATE_MAX + 1], u[CDP_UUID_STRLEN];
	size_t i, n = 0;

	if (!a->dirty || a->no_xattr ||
	    (a->flags & (CDP_APPLY_NOSTATE | CDP_APPLY_DRYRUN)))
		return 0;
	/* The most recent streams are last: keep them if space runs out. */
	for (i = a->nstreams; i-- > 0;) {
		char line[80];
		int len;

		cdp_uuid_format(a->streams[i].uuid, u);
		len = snprintf(line, sizeof(line), "%s %" PRIu64 "\n", u,
		    a->streams[i].applied);
		if (n + (size_t)len > STATE_MAX)
			break;
		memmove(buf + len, buf, n);
		memcpy(buf, line, (size_t)len);
		n += (size_t)len;
	}
	if (fsetxattr(a->root, STATE_XATTR, buf, n, 0) == -1) {
		if (errno == ENOTSUP) {
			a->no_xattr = 1;
			return 0;
		}
		snprintf(a->err, sizeof(a->err), "%s: %s", STATE_XATTR,
		    strerror(errno));
		return -1;
	}
	if ((a->flags & CDP_APPLY_FSYNC) && fsync(a->root) == -1) {
		snprintf(a->err, sizeof(a->err), "fsync: %s", strerror(errno));
		return -1;
	}
	a->dirty = 0;
	return 0;
}

/* Caches. */

static void
cache_drop(struct cached *c, size_t n, const char *path)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (c[i].fd != -1 && (path == NULL ||
		    strcmp(c[i].path, path) == 0)) {
			close(c[i].fd);
			c[i].fd = -1;
		}
}

static int
cache_get(const struct cached *c, size_t n, const char *path, size_t len)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (c[i].fd != -1 && c[i].len == len &&
		    memcmp(c[i].path, path, len) == 0)
			return c[i].fd;
	return -1;
}

/* Keep fd for path in c, evicting round robin (never the pinned fd). */
static void
cache_put(struct cached *c, size_t n, size_t *next, int pinned, int fd,
    const char *path, size_t len)
{
	struct cached *e = &c[*next];

	if (e->fd != -1 && e->fd == pinned) {
		*next = (*next + 1) % n;
		e = &c[*next];
	}
	if (e->fd != -1)
		close(e->fd);
	e->fd = fd;
	e->len = len;
	memcpy(e->path, path, len);
	e->path[len] = '\0';
	*next = (*next + 1) % n;
}

static void
caches_drop(struct cdp_apply *a)
{
	cache_drop(a->parent, NPARENT, NULL);
	cache_drop(a->file, NFILE, NULL);
}

/* Resolution. */

/*
 * Open directory path (len bytes, not empty) below the root one component
 * at a time with O_NOFOLLOW, creating missing ones with CDP_APPLY_MKPARENTS.
 * Returns an O_PATH fd or -1 with errno set.
 */
static int
walk(struct cdp_apply *a, const char *path, size_t len)
{
	char comp[CDP_NAME_MAX + 1];
	size_t i = 0, j;
	int fd = a->root, next;
	struct stat st;

	while (i < len) {
		for (j = i; j < len && path[j] != '/'; j++)
			;
		memcpy(comp, path + i, j - i);
		comp[j - i] = '\0';
		next = openat(fd, comp,
		    O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next == -1 && errno == ENOENT &&
		    (a->flags & CDP_APPLY_MKPARENTS)) {
			if (mkdirat(fd, comp, 0755) == -1 && errno != EEXIST)
				goto fail;
			next = openat(fd, comp,
			    O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		}
		if (next == -1) {
			if ((errno == ENOTDIR || errno == ELOOP) &&
			    fstatat(fd, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISLNK(st.st_mode))
				errno = ELOOP;
			goto fail;
		}
		if (fstat(next, &st) == -1) {
			int e = errno;

			close(next);
			errno = e;
			goto fail;
		}
		if (!S_ISDIR(st.st_mode)) {
			close(next);
			errno = S_ISLNK(st.st_mode) ? ELOOP : ENOTDIR;
			goto fail;
		}
		if (fd != a->root)
			close(fd);
		fd = next;
		i = j + 1;
	}
	return fd;
fail:
	if (fd != a->root) {
		int e = errno;

		close(fd);
		errno = e;
	}
	return -1;
}

static int
resolve_dir(struct cdp_apply *a, const char *path, size_t len)
{
	char buf[CDP_PATH_MAX + 1];
	struct open_how how = {
		.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
		    RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
	};
	int fd = -1, tries;

	if (!a->no_openat2) {
		memcpy(buf, path, len);
		buf[len] = '\0';
		for (tries = 0; tries < 8; tries++) {
			fd = (int)syscall(SYS_openat2, a->root, buf, &how,
			    sizeof(how));
			if (fd != -1 || errno != EAGAIN)
				break;
		}
		if (fd == -1 && errno == EXDEV) {
			/* A mount point below the root: allow it, no more. */
			how.resolve &= ~(uint64_t)RESOLVE_NO_XDEV;
			fd = (int)syscall(SYS_openat2, a->root, buf, &how,
			    sizeof(how));
		}
		if (fd == -1 && (errno == ENOSYS || errno == EPERM))
			a->no_openat2 = 1;	/* old kernel or seccomp */
		else if (fd == -1 && !(errno == ENOENT &&
		    (a->flags & CDP_APPLY_MKPARENTS)))
			return -1;
	}
	if (fd == -1)
		fd = walk(a, path, len);
	return fd;
}

/*
 * Find the parent directory of path: *dfd is its fd (owned by the cache,
 * or the root) and *name the last component, pointing into path.
 */
static int
parent_of(struct cdp_apply *a, const char *path, int *dfd, const char **name)
{
	const char *slash = strrchr(path, '/');
	size_t len;
	int fd;

	if (slash == NULL) {
		*dfd = a->root;
		*name = path;
		return 0;
	}
	len = (size_t)(slash - path);
	*name = slash + 1;
	if ((fd = cache_get(a->parent, NPARENT, path, len)) == -1) {
		if ((fd = resolve_dir(a, path, len)) == -1)
			return -1;
		cache_put(a->parent, NPARENT, &a->parent_next, a->pinned, fd,
		    path, len);
	}
	*dfd = fd;
	return 0;
}

/* The parent of path, with the failure reported. */
static int
target(struct cdp_apply *a, const char *path, int *dfd, const char **name)
{
	if (parent_of(a, path, dfd, name) == -1) {
		if (errno == ENOENT)
			return fail(a, ENOENT, path,
			    "parent directory does not exist");
		return fail_errno(a, errno, path);
	}
	return 0;
}

/*
 * An fd open for reading and writing on the regular file path, from the
 * cache or opened now.  Never opens a FIFO, device or symbolic link.
 */
static int
file_fd(struct cdp_apply *a, const char *path)
{
	size_t len = strlen(path);
	const char *name;
	struct stat st;
	int dfd, fd;

	if ((fd = cache_get(a->file, NFILE, path, len)) != -1)
		return fd;
	if (target(a, path, &dfd, &name) == -1)
		return -1;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return fail(a, errno, path, errno == ENOENT ?
		    "no such file" : NULL);
	if (S_ISLNK(st.st_mode))
		return fail(a, ELOOP, path, "is a symbolic link");
	if (!S_ISREG(st.st_mode))
		return fail(a, EINVAL, path, "not a regular file");
	fd = openat(dfd, name, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
	    O_CLOEXEC);
	if (fd == -1)
		return fail_errno(a, errno, path);
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		return fail(a, EINVAL, path, "not a regular file");
	}
	cache_put(a->file, NFILE, &a->file_next, -1, fd, path, len);
	return fd;
}

/* Make room for a new name: remove a non-directory in the way. */
static int
clear_name(struct cdp_apply *a, int dfd, const char *name, const char *path)
{
	struct stat st;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1) {
		if (errno == ENOENT)
			return 0;
		return fail_errno(a, errno, path);
	}
	if (S_ISDIR(st.st_mode))
		return fail(a, EISDIR, path, "exists and is a directory");
	cache_drop(a->file, NFILE, path);
	if (unlinkat(dfd, name, 0) == -1)
		return fail_errno(a, errno, path);
	return 0;
}

/* Records, applied for real. */

static int
do_create(struct cdp_apply *a, const struct cdp_record *r)
{
	mode_t perm = r->mode & 07777;
	const char *name;
	int dfd, fd;

	if (target(a, r->path, &dfd, &name) == -1 ||
	    clear_name(a, dfd, name, r->path) == -1)
		return -1;
	if ((r->mode & S_IFMT) == S_IFIFO) {
		if (mkfifoat(dfd, name, perm) == -1)
			return fail_errno(a, errno, r->path);
		if ((perm & a->umask) != 0 &&
		    fchmodat(dfd, name, perm, AT_SYMLINK_NOFOLLOW) == -1)
			return fail_errno(a, errno, r->path);
		return 1;
	}
	fd = openat(dfd, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, perm);
	if (fd == -1)
		return fail_errno(a, errno, r->path);
	if ((perm & a->umask) != 0 && fchmod(fd, perm) == -1) {
		close(fd);
		return fail_errno(a, errno, r->path);
	}
	cache_put(a->file, NFILE, &a->file_next, -1, fd, r->path,
	    strlen(r->path));
	return 1;
}

static int
do_mkdir(struct cdp_apply *a, const struct cdp_record *r)
{
	mode_t perm = r->mode & 07777;
	const char *name;
	struct stat st;
	int dfd, exists = 0;

	if (target(a, r->path, &dfd, &name) == -1)
		return -1;
	if (mkdirat(dfd, name, perm) == -1) {
		if (errno != EEXIST)
			return fail_errno(a, errno, r->path);
		if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
			return fail_errno(a, errno, r->path);
		if (!S_ISDIR(st.st_mode))
			return fail(a, EEXIST, r->path,
			    "exists and is not a directory");
		exists = 1;
	}
	/* mkdir(2) drops set-id bits and applies the umask. */
	if ((exists || (perm & (a->umask | S_ISUID | S_ISGID))) &&
	    fchmodat(dfd, name, perm, AT_SYMLINK_NOFOLLOW) == -1)
		return fail_errno(a, errno, r->path);
	return 1;
}

static int
do_symlink(struct cdp_apply *a, const struct cdp_record *r)
{
	const char *name;
	int dfd;

	if (target(a, r->path, &dfd, &name) == -1 ||
	    clear_name(a, dfd, name, r->path) == -1)
		return -1;
	if (symlinkat(r->path2, dfd, name) == -1)
		return fail_errno(a, errno, r->path);
	return 1;
}

static int
do_link(struct cdp_apply *a, const struct cdp_record *r)
{
	const char *ename, *name;
	struct stat est, st;
	int edfd, dfd, rc;

	if (target(a, r->path, &edfd, &ename) == -1)
		return -1;
	if (fstatat(edfd, ename, &est, AT_SYMLINK_NOFOLLOW) == -1)
		return fail(a, errno, r->path, errno == ENOENT ?
		    "no such file to link to" : NULL);
	if (S_ISDIR(est.st_mode))
		return fail(a, EPERM, r->path, "hard link to a directory");
	a->pinned = edfd;
	rc = target(a, r->path2, &dfd, &name);
	a->pinned = -1;
	if (rc == -1)
		return -1;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    st.st_dev == est.st_dev && st.st_ino == est.st_ino)
		return 1;	/* already linked */
	if (clear_name(a, dfd, name, r->path2) == -1)
		return -1;
	/* Flags 0: a symbolic link is linked, never followed. */
	if (linkat(edfd, ename, dfd, name, 0) == -1)
		return fail_errno(a, errno, r->path2);
	return 1;
}

static int
do_rename(struct cdp_apply *a, const struct cdp_record *r)
{
	const char *fname, *tname;
	struct stat st;
	int fdfd, tdfd, rc;

	if (target(a, r->path, &fdfd, &fname) == -1)
		return -1;
	a->pinned = fdfd;
	rc = target(a, r->path2, &tdfd, &tname);
	a->pinned = -1;
	if (rc == -1)
		return -1;
	if (fstatat(fdfd, fname, &st, AT_SYMLINK_NOFOLLOW) == -1) {
		if (errno == ENOENT && !(r->rflags & CDP_RENAME_EXCHANGE) &&
		    fstatat(tdfd, tname, &st, AT_SYMLINK_NOFOLLOW) == 0)
			return 0;	/* done before */
		return fail(a, errno, r->path, errno == ENOENT ?
		    "no such file to rename" : NULL);
	}
	if (renameat2(fdfd, fname, tdfd, tname, r->rflags) == -1) {
		rc = errno;
		caches_drop(a);
		return fail_errno(a, rc, r->path);
	}
	caches_drop(a);
	return 1;
}

static int
do_remove(struct cdp_apply *a, const struct cdp_record *r, int dir)
{
	const char *name;
	int dfd;

	if (parent_of(a, r->path, &dfd, &name) == -1) {
		if (errno == ENOENT)
			return 0;	/* gone already */
		return fail_errno(a, errno, r->path);
	}
	cache_drop(a->file, NFILE, r->path);
	if (unlinkat(dfd, name, dir ? AT_REMOVEDIR : 0) == -1) {
		if (errno == ENOENT)
			return 0;
		if (errno == EISDIR)
			return fail(a, EISDIR, r->path, "is a directory");
		if (errno == ENOTEMPTY)
			return fail(a, ENOTEMPTY, r->path,
			    "directory not empty");
		if (errno == ENOTDIR)
			return fail(a, ENOTDIR, r->path, "not a directory");
		return fail_errno(a, errno, r->path);
	}
	if (dir)
		caches_drop(a);
	return 1;
}

static int
do_setattr(struct cdp_apply *a, const struct cdp_record *r)
{
	struct timespec ts[2] = { { 0, UTIME_OMIT }, { 0, UTIME_OMIT } };
	const char *name = "";
	struct stat st;
	int dfd = a->root, fl = AT_SYMLINK_NOFOLLOW, is_link = 0;

	if (r->path[0] != '\0') {
		if (target(a, r->path, &dfd, &name) == -1)
			return -1;
		if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
			return fail(a, errno, r->path, NULL);
		is_link = S_ISLNK(st.st_mode);
	} else
		fl |= AT_EMPTY_PATH;
	if ((r->rflags & (CDP_ATTR_UID | CDP_ATTR_GID)) &&
	    fchownat(dfd, name,
	    (r->rflags & CDP_ATTR_UID) ? r->uid : (uid_t)-1,
	    (r->rflags & CDP_ATTR_GID) ? r->gid : (gid_t)-1, fl) == -1)
		return fail(a, errno, r->path, "chown: %s", strerror(errno));
	/* After chown, which clears set-id bits: the mode is kept as is. */
	if (r->rflags & CDP_ATTR_MODE) {
		int rc = r->path[0] == '\0' ? fchmod(a->root, r->mode & 07777) :
		    fchmodat(dfd, name, r->mode & 07777, AT_SYMLINK_NOFOLLOW);

		/* A symbolic link has no mode of its own on Linux. */
		if (rc == -1 && !(errno == EOPNOTSUPP && is_link))
			return fail(a, errno, r->path, "chmod: %s",
			    strerror(errno));
	}
	if (r->rflags & (CDP_ATTR_ATIME | CDP_ATTR_MTIME)) {
		if (r->rflags & CDP_ATTR_ATIME) {
			ts[0].tv_sec = r->atime_ns / 1000000000;
			ts[0].tv_nsec = r->atime_ns % 1000000000;
			if (ts[0].tv_nsec < 0) {
				ts[0].tv_sec--;
				ts[0].tv_nsec += 1000000000;
			}
		}
		if (r->rflags & CDP_ATTR_MTIME) {
			ts[1].tv_sec = r->mtime_ns / 1000000000;
			ts[1].tv_nsec = r->mtime_ns % 1000000000;
			if (ts[1].tv_nsec < 0) {
				ts[1].tv_sec--;
				ts[1].tv_nsec += 1000000000;
			}
		}
		if ((r->path[0] == '\0' ? futimens(a->root, ts) :
		    utimensat(dfd, name, ts, AT_SYMLINK_NOFOLLOW)) == -1)
			return fail(a, errno, r->path, "set times: %s",
			    strerror(errno));
	}
	return 1;
}

/*
 * Extended attributes: only the user namespace is applied (see
 * cdp-replay(1)); the state attribute of the root is off limits.
 */
static int
xattr_allowed(struct cdp_apply *a, const struct cdp_record *r)
{
	if (strncmp(r->name, "user.", 5) != 0) {
		a->n_xattr++;
		return 0;
	}
	if (strncmp(r->name, "user.cdp.", 9) == 0)
		return fail(a, EPERM, r->path,
		    "extended attribute %s is reserved", "user.cdp.*");
	return 1;
}

static int
do_xattr(struct cdp_apply *a, const struct cdp_record *r)
{
	const char *name;
	struct stat st;
	int dfd, fd, rc;

	if ((rc = xattr_allowed(a, r)) != 1)
		return rc;
	if (r->path[0] == '\0')
		fd = a->root;
	else {
		if (target(a, r->path, &dfd, &name) == -1)
			return -1;
		if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
			return fail(a, errno, r->path, NULL);
		/* Linux keeps user.* only on files and directories. */
		if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
			a->n_xattr++;
			return 0;
		}
		fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
		    O_NOCTTY | O_CLOEXEC);
		if (fd == -1)
			return fail_errno(a, errno, r->path);
	}
	if (r->type == CDP_T_SETXATTR)
		rc = fsetxattr(fd, r->name, r->data, r->data_len, 0);
	else if ((rc = fremovexattr(fd, r->name)) == -1 && errno == ENODATA)
		rc = 0;
	if (rc == -1) {
		int e = errno;

		if (fd != a->root)
			close(fd);
		return fail(a, e, r->path, "%s: %s", r->name, strerror(e));
	}
	if (fd != a->root)
		close(fd);
	return 1;
}

static int
do_write(struct cdp_apply *a, const struct cdp_record *r)
{
	const uint8_t *p = r->data;
	size_t left = r->data_len;
	off_t off = (off_t)r->off;
	int fd;

	if (r->off > (uint64_t)INT64_MAX - r->data_len)
		return fail(a, EFBIG, r->path, "write beyond 2^63-1");
	if ((fd = file_fd(a, r->path)) == -1)
		return -1;
	while (left > 0) {
		ssize_t n = pwrite(fd, p, left, off);

		if (n == -1) {
			if (errno == EINTR)
				continue;
			return fail(a, errno, r->path, "write at %" PRIu64
			    ": %s", r->off, strerror(errno));
		}
		p += n;
		left -= (size_t)n;
		off += n;
	}
	a->wrote = 1;
	return 1;
}

static int
do_truncate(struct cdp_apply *a, const struct cdp_record *r)
{
	int fd;

	if (r->off > (uint64_t)INT64_MAX)
		return fail(a, EFBIG, r->path, "size beyond 2^63-1");
	if ((fd = file_fd(a, r->path)) == -1)
		return -1;
	if (ftruncate(fd, (off_t)r->off) == -1)
		return fail(a, errno, r->path, "truncate to %" PRIu64 ": %s",
		    r->off, strerror(errno));
	a->wrote = 1;
	return 1;
}

static int
do_fallocate(struct cdp_apply *a, const struct cdp_record *r)
{
	int fd;

	if (r->off > (uint64_t)INT64_MAX || r->len == 0 ||
	    r->len > (uint64_t)INT64_MAX - r->off)
		return fail(a, EFBIG, r->path, "range beyond 2^63-1");
	if ((fd = file_fd(a, r->path)) == -1)
		return -1;
	if (cdp_falloc_apply(fd, r->mode, (off_t)r->off,
	    (off_t)(r->off + r->len)) == -1)
		return fail(a, errno, r->path, "fallocate: %s",
		    strerror(errno));
	a->wrote = 1;
	return 1;
}

static int
do_fsync(struct cdp_apply *a, const struct cdp_record *r)
{
	int fd;

	if (!(a->flags & CDP_APPLY_FSYNC))
		return 0;
	if (r->path[0] == '\0') {
		if (syncfs(a->root) == -1)
			return fail(a, errno, r->path, "syncfs: %s",
			    strerror(errno));
		return 0;
	}
	if ((fd = file_fd(a, r->path)) == -1)
		return -1;
	if (((r->rflags & CDP_FSYNC_DATASYNC) ? fdatasync(fd) :
	    fsync(fd)) == -1)
		return fail(a, errno, r->path, "fsync: %s", strerror(errno));
	return 0;
}

static int
apply_real(struct cdp_apply *a, const struct cdp_record *r)
{
	switch (r->type) {
	case CDP_T_CREATE:
		return do_create(a, r);
	case CDP_T_MKDIR:
		return do_mkdir(a, r);
	case CDP_T_SYMLINK:
		return do_symlink(a, r);
	case CDP_T_LINK:
		return do_link(a, r);
	case CDP_T_RENAME:
		return do_rename(a, r);
	case CDP_T_UNLINK:
		return do_remove(a, r, 0);
	case CDP_T_RMDIR:
		return do_remove(a, r, 1);
	case CDP_T_SETATTR:
		return do_setattr(a, r);
	case CDP_T_SETXATTR:
	case CDP_T_REMOVEXATTR:
		return do_xattr(a, r);
	case CDP_T_WRITE:
		return do_write(a, r);
	case CDP_T_TRUNCATE:
		return do_truncate(a, r);
	case CDP_T_FALLOCATE:
		return do_fallocate(a, r);
	case CDP_T_FSYNC:
		return do_fsync(a, r);
	default:
		return 0;
	}
}

/* For the dry run (cdp_apply_dry.c). */

int
cdp_apply_fail(struct cdp_apply *a, int errnum, const char *path,
    const char *why)
{
	return why == NULL ? fail(a, errnum, path, NULL) :
	    fail(a, errnum, path, "%s", why);
}

int
cdp_apply_fail_errno(struct cdp_apply *a, int e, const char *path)
{
	return fail_errno(a, e, path);
}

int
cdp_apply_xattr_allowed(struct cdp_apply *a, const struct cdp_record *r)
{
	return xattr_allowed(a, r);
}

/* The engine. */

struct cdp_apply *
cdp_apply_open(const char *dir, int flags)
{
	struct cdp_apply *a;
	size_t i;
	int e;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	a->flags = flags;
	a->root = -1;
	a->pinned = -1;
	for (i = 0; i < NPARENT; i++)
		a->parent[i].fd = -1;
	for (i = 0; i < NFILE; i++)
		a->file[i].fd = -1;
	a->umask = umask(0);
	umask(a->umask);
	if ((a->root = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		goto fail;
	/* One applier at a time: two would interleave their records. */
	if (!(flags & CDP_APPLY_DRYRUN) &&
	    flock(a->root, LOCK_EX | LOCK_NB) == -1)
		goto fail;
	if (flags & CDP_APPLY_FRESH) {
		int fd = dup(a->root);
		DIR *d = fd == -1 ? NULL : fdopendir(fd);
		struct dirent *de;

		if (d == NULL) {
			if (fd != -1)
				close(fd);
			goto fail;
		}
		while ((de = readdir(d)) != NULL)
			if (strcmp(de->d_name, ".") != 0 &&
			    strcmp(de->d_name, "..") != 0)
				break;
		closedir(d);
		if (de != NULL) {
			errno = ENOTEMPTY;
			goto fail;
		}
	}
	if ((flags & CDP_APPLY_DRYRUN) &&
	    (a->model = cdp_pathmap_new()) == NULL)
		goto fail;
	if (!(flags & CDP_APPLY_NOSTATE) && state_load(a) == -1)
		goto fail;
	return a;
fail:
	e = errno;
	if (a->root != -1)
		close(a->root);
	cdp_pathmap_free(a->model);
	free(a);
	errno = e;
	return NULL;
}

void
cdp_apply_set_source(struct cdp_apply *a, const struct cdp_source *src)
{
	a->src = src;
}

/* Whether a record's path fields are acceptable for its type. */
static int
check_paths(struct cdp_apply *a, const struct cdp_record *r)
{
	const char *why;
	int root_ok = r->type == CDP_T_SETATTR || r->type == CDP_T_SETXATTR ||
	    r->type == CDP_T_REMOVEXATTR || r->type == CDP_T_FSYNC;

	if (!(root_ok && r->path[0] == '\0') &&
	    cdp_path_check(r->path, strlen(r->path), &why) == -1)
		return fail(a, errno, r->path, "%s", why);
	if ((r->type == CDP_T_LINK || r->type == CDP_T_RENAME) &&
	    cdp_path_check(r->path2, strlen(r->path2), &why) == -1)
		return fail(a, errno, r->path2, "%s", why);
	return 0;
}

/*
 * Whether r is to be applied: 1 yes, 0 no (a STREAM_HDR, which selects
 * the stream, a control record, a seq applied already), -1 not in order
 * (records are missing before it, in the saved state or between two
 * journals).
 */
static int
admit(struct cdp_apply *a, const struct cdp_record *r)
{
	struct stream *s;
	uint64_t prev;

	a->rec = r;
	if (r->type == CDP_T_STREAM_HDR) {
		a->cur = stream_find(a, r->uuid, 1);
		return 0;
	}
	if (r->seq == 0)
		return 0;	/* control records change nothing */
	if ((s = a->cur) == NULL)
		return 1;
	if (s->applied != 0 && r->seq <= s->applied) {
		a->n_already++;
		return 0;
	}
	/* After a failed record the next one is no gap: one report. */
	prev = s->seen;
	if (r->seq > s->seen)
		s->seen = r->seq;
	if (prev == 0 || r->seq <= prev + 1)
		return 1;
	if (prev == s->loaded)
		return fail(a, ERANGE, NULL, "records %" PRIu64 " to %" PRIu64
		    " are missing: the target has the stream up to seq %"
		    PRIu64, prev + 1, r->seq - 1, prev);
	return fail(a, ERANGE, NULL, "records %" PRIu64 " to %" PRIu64
	    " are missing", prev + 1, r->seq - 1);
}

/* r's seq is done with: applied, or skipped on purpose. */
static void
seq_done(struct cdp_apply *a, const struct cdp_record *r)
{
	if (a->cur != NULL) {
		a->cur->applied = r->seq;
		a->dirty = 1;
	}
}

int
cdp_apply_skip(struct cdp_apply *a, const struct cdp_record *r)
{
	int rc;

	if ((rc = admit(a, r)) == 1)
		seq_done(a, r);
	return rc == -1 ? -1 : 0;
}

int
cdp_apply_record(struct cdp_apply *a, const struct cdp_record *r)
{
	int rc;

	if ((rc = admit(a, r)) != 1)
		return rc;
	if (cdp_record_type_changes_tree(r->type) || r->type == CDP_T_FSYNC) {
		if ((rc = check_paths(a, r)) != -1)
			rc = (a->flags & CDP_APPLY_DRYRUN) ?
			    cdp_apply_dry_record(a, r) :
			    apply_real(a, r);
		if (rc == -1)
			return -1;
	} else
		rc = 0;
	seq_done(a, r);
	if (rc > 0)
		a->n_applied++;
	return rc;
}

const char *
cdp_apply_error(const struct cdp_apply *a)
{
	return a->err;
}

uint64_t
cdp_apply_count_applied(const struct cdp_apply *a)
{
	return a->n_applied;
}

uint64_t
cdp_apply_count_already(const struct cdp_apply *a)
{
	return a->n_already;
}

uint64_t
cdp_apply_count_xattr_skipped(const struct cdp_apply *a)
{
	return a->n_xattr;
}

uint64_t
cdp_apply_applied_seq(const struct cdp_apply *a, const uint8_t uuid[16])
{
	size_t i;

	for (i = 0; i < a->nstreams; i++)
		if (memcmp(a->streams[i].uuid, uuid, 16) == 0)
			return a->streams[i].applied;
	return 0;
}

int
cdp_apply_sync(struct cdp_apply *a)
{
	size_t i;

	if ((a->flags & CDP_APPLY_FSYNC) && a->wrote) {
		for (i = 0; i < NFILE; i++)
			if (a->file[i].fd != -1 && fsync(a->file[i].fd) == -1) {
				snprintf(a->err, sizeof(a->err),
				    "%s: fsync: %s", a->file[i].path,
				    strerror(errno));
				return -1;
			}
		if (syncfs(a->root) == -1) {
			snprintf(a->err, sizeof(a->err), "syncfs: %s",
			    strerror(errno));
			return -1;
		}
		a->wrote = 0;
	}
	return state_save(a);
}

int
cdp_apply_close(struct cdp_apply *a)
{
	int rc, e;

	if (a == NULL)
		return 0;
	rc = cdp_apply_sync(a);
	e = errno;
	caches_drop(a);
	close(a->root);
	cdp_pathmap_free(a->model);
	free(a);
	errno = e;
	return rc;
}
