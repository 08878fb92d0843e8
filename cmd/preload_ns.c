/*
 * preload_ns.c: hooks for changes of the namespace (rename, unlink, mkdir,
 * link, symlink, mknod) and of attributes (mode, owner, times, xattrs).
 *
 * All of them run under the namespace lock, so that two processes that
 * rename, create and remove the same names are journaled in the order the
 * kernel applied their calls.  Attribute records carry the values the
 * object has afterwards (read with stat), not the arguments: umask, a
 * UTIME_NOW or the setuid bits chown clears come out as they really are.
 */
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/xattr.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <utime.h>

#include "preload_shim.h"

static int (*real_renameat2)(int, const char *, int, const char *,
    unsigned);
static int (*real_unlinkat)(int, const char *, int);
static int (*real_mkdirat)(int, const char *, mode_t);
static int (*real_linkat)(int, const char *, int, const char *, int);
static int (*real_symlinkat)(const char *, int, const char *);
static int (*real_mknodat)(int, const char *, mode_t, dev_t);
static int (*real_mkfifoat)(int, const char *, mode_t);
static int (*real_fchmodat)(int, const char *, mode_t, int);
static int (*real_fchmod)(int, mode_t);
static int (*real_fchownat)(int, const char *, uid_t, gid_t, int);
static int (*real_fchown)(int, uid_t, gid_t);
static int (*real_utimensat)(int, const char *, const struct timespec *,
    int);
static int (*real_futimens)(int, const struct timespec *);
static int (*real_utimes)(const char *, const struct timeval *);
static int (*real_lutimes)(const char *, const struct timeval *);
static int (*real_futimes)(int, const struct timeval *);
static int (*real_futimesat)(int, const char *, const struct timeval *);
static int (*real_utime)(const char *, const struct utimbuf *);
static int (*real_setxattr)(const char *, const char *, const void *,
    size_t, int);
static int (*real_lsetxattr)(const char *, const char *, const void *,
    size_t, int);
static int (*real_fsetxattr)(int, const char *, const void *, size_t, int);
static int (*real_removexattr)(const char *, const char *);
static int (*real_lremovexattr)(const char *, const char *);
static int (*real_fremovexattr)(int, const char *);

/* The object a call is about: a path, or a descriptor. */
struct target {
	char	 rel[CDP_PATH_MAX + 1];
	int	 dirfd;
	const char *path;	/* NULL: fd */
	int	 fd;
	int	 follow;
};

/* Enter the shim for t; 1: journal (namespace lock held), 0: do not. */
static int
begin(struct target *t)
{
	const struct fdent *e;

	if (!shim_enter())
		return 0;
	if (t->path == NULL) {
		if ((e = fd_get(t->fd)) == NULL) {
			shim_leave();
			return 0;
		}
		memcpy(t->rel, e->path, e->plen + 1u);
	} else if (!fd_resolve(t->dirfd, t->path, t->follow, t->rel)) {
		shim_leave();
		return 0;
	}
	lock_ns();
	return 1;
}

static void
end(void)
{
	unlock_ns();
	shim_leave();
}

static int
stat_target(const struct target *t, struct stat *st)
{
	if (t->path == NULL)
		return fstat(t->fd, st);
	return fstatat(t->dirfd, t->path, st, t->follow ? 0 :
	    AT_SYMLINK_NOFOLLOW);
}

static int64_t
ns(struct timespec ts)
{
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* SETATTR with the valid bits, values as the object has them now. */
static void
setattr(const struct target *t, uint32_t valid)
{
	struct emit e = { .path = t->rel, .rflags = valid };
	struct stat st;

	if (stat_target(t, &st) == -1 || S_ISLNK(st.st_mode))
		return;
	e.mode = st.st_mode & 07777;
	e.uid = st.st_uid;
	e.gid = st.st_gid;
	e.atime_ns = ns(st.st_atim);
	e.mtime_ns = ns(st.st_mtim);
	emit(CDP_T_SETATTR, &e);
}

/* Renaming. */

HOOK int
renameat2(int od, const char *op, int nd, const char *np, unsigned flags)
{
	char from[CDP_PATH_MAX + 1], to[CDP_PATH_MAX + 1];
	struct emit e = { .path = from, .path2 = to, .rflags = flags };
	struct stat st;
	int fin, tin, r, saved, existed;

	REAL(renameat2);
	if (!shim_enter())
		return real_renameat2(od, op, nd, np, flags);
	fin = fd_resolve(od, op, 0, from);
	tin = fd_resolve(nd, np, 0, to);
	if (!fin && !tin) {
		shim_leave();
		return real_renameat2(od, op, nd, np, flags);
	}
	lock_ns();
	existed = fstatat(nd, np, &st, AT_SYMLINK_NOFOLLOW) == 0;
	r = real_renameat2(od, op, nd, np, flags);
	saved = errno;
	if (r == 0 && fin && tin) {
		emit(CDP_T_RENAME, &e);
		fd_renamed(from, to, (flags & RENAME_EXCHANGE) != 0);
	} else if (r == 0 && fin) {
		/* Moved out: gone from the tree. */
		e.path2 = NULL;
		emit(fstatat(nd, np, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISDIR(st.st_mode) ? CDP_T_RMDIR : CDP_T_UNLINK, &e);
		fd_unlinked(from);
		if (flags & RENAME_EXCHANGE)
			emit_snapshot(from, od, op);
	} else if (r == 0) {
		/* Moved in: it appears as if created here. */
		e.path = to;
		e.path2 = NULL;
		if (existed && !(flags & RENAME_EXCHANGE))
			emit(S_ISDIR(st.st_mode) ? CDP_T_RMDIR : CDP_T_UNLINK,
			    &e);
		else if (flags & RENAME_EXCHANGE)
			emit(S_ISDIR(st.st_mode) ? CDP_T_RMDIR : CDP_T_UNLINK,
			    &e);
		emit_snapshot(to, nd, np);
		fd_unlinked(to);
	}
	end();
	errno = saved;
	return r;
}

HOOK int
renameat(int od, const char *op, int nd, const char *np)
{
	return renameat2(od, op, nd, np, 0);
}

HOOK int
rename(const char *op, const char *np)
{
	return renameat2(AT_FDCWD, op, AT_FDCWD, np, 0);
}

/* Removing. */

HOOK int
unlinkat(int dirfd, const char *path, int flags)
{
	struct target t = { .dirfd = dirfd, .path = path };
	struct emit e = { .path = t.rel };
	int r, saved;

	REAL(unlinkat);
	if (!begin(&t))
		return real_unlinkat(dirfd, path, flags);
	r = real_unlinkat(dirfd, path, flags);
	saved = errno;
	if (r == 0) {
		emit((flags & AT_REMOVEDIR) ? CDP_T_RMDIR : CDP_T_UNLINK, &e);
		fd_unlinked(t.rel);
	}
	end();
	errno = saved;
	return r;
}

HOOK int
unlink(const char *path)
{
	return unlinkat(AT_FDCWD, path, 0);
}

HOOK int
rmdir(const char *path)
{
	return unlinkat(AT_FDCWD, path, AT_REMOVEDIR);
}

HOOK int
remove(const char *path)
{
	struct stat st;

	if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return unlinkat(AT_FDCWD, path, AT_REMOVEDIR);
	return unlinkat(AT_FDCWD, path, 0);
}

/* Creating. */

HOOK int
mkdirat(int dirfd, const char *path, mode_t mode)
{
	struct target t = { .dirfd = dirfd, .path = path };
	struct emit e = { .path = t.rel };
	struct stat st;
	int r, saved;

	REAL(mkdirat);
	if (!begin(&t))
		return real_mkdirat(dirfd, path, mode);
	r = real_mkdirat(dirfd, path, mode);
	saved = errno;
	if (r == 0 && stat_target(&t, &st) == 0) {
		e.mode = st.st_mode & 07777;
		emit(CDP_T_MKDIR, &e);
		emit_owner(t.rel, &st);
	}
	end();
	errno = saved;
	return r;
}

HOOK int
mkdir(const char *path, mode_t mode)
{
	return mkdirat(AT_FDCWD, path, mode);
}

HOOK int
symlinkat(const char *target, int dirfd, const char *path)
{
	struct target t = { .dirfd = dirfd, .path = path };
	struct emit e = { .path = t.rel, .path2 = target };
	int r, saved;

	REAL(symlinkat);
	if (!begin(&t))
		return real_symlinkat(target, dirfd, path);
	r = real_symlinkat(target, dirfd, path);
	saved = errno;
	if (r == 0 && strlen(target) <= CDP_PATH_MAX)
		emit(CDP_T_SYMLINK, &e);
	end();
	errno = saved;
	return r;
}

HOOK int
symlink(const char *target, const char *path)
{
	return symlinkat(target, AT_FDCWD, path);
}

HOOK int
linkat(int od, const char *op, int nd, const char *np, int flags)
{
	char from[CDP_PATH_MAX + 1], to[CDP_PATH_MAX + 1];
	struct emit e = { .path = from, .path2 = to };
	int fin, tin, r, saved;

	REAL(linkat);
	if (!shim_enter())
		return real_linkat(od, op, nd, np, flags);
	fin = !(flags & AT_EMPTY_PATH) && fd_resolve(od, op,
	    (flags & AT_SYMLINK_FOLLOW) != 0, from);
	tin = fd_resolve(nd, np, 0, to);
	if (!tin) {
		shim_leave();
		return real_linkat(od, op, nd, np, flags);
	}
	lock_ns();
	r = real_linkat(od, op, nd, np, flags);
	saved = errno;
	if (r == 0 && fin)
		emit(CDP_T_LINK, &e);
	else if (r == 0)
		emit_snapshot(to, nd, np);	/* from outside, or O_TMPFILE */
	end();
	errno = saved;
	return r;
}

HOOK int
link(const char *op, const char *np)
{
	return linkat(AT_FDCWD, op, AT_FDCWD, np, 0);
}

/* FIFOs and regular files are CREATE records; devices cannot be. */
static void
node_created(const struct target *t)
{
	struct emit e = { .path = t->rel };
	struct stat st;

	if (stat_target(t, &st) == -1 ||
	    (!S_ISFIFO(st.st_mode) && !S_ISREG(st.st_mode)))
		return;
	e.mode = (st.st_mode & S_IFMT) | (st.st_mode & 07777);
	emit(CDP_T_CREATE, &e);
	emit_owner(t->rel, &st);
}

HOOK int
mknodat(int dirfd, const char *path, mode_t mode, dev_t dev)
{
	struct target t = { .dirfd = dirfd, .path = path };
	int r, saved;

	REAL(mknodat);
	if (!begin(&t))
		return real_mknodat(dirfd, path, mode, dev);
	r = real_mknodat(dirfd, path, mode, dev);
	saved = errno;
	if (r == 0)
		node_created(&t);
	end();
	errno = saved;
	return r;
}

HOOK int
mknod(const char *path, mode_t mode, dev_t dev)
{
	return mknodat(AT_FDCWD, path, mode, dev);
}

HOOK int
mkfifoat(int dirfd, const char *path, mode_t mode)
{
	struct target t = { .dirfd = dirfd, .path = path };
	int r, saved;

	REAL(mkfifoat);
	if (!begin(&t))
		return real_mkfifoat(dirfd, path, mode);
	r = real_mkfifoat(dirfd, path, mode);
	saved = errno;
	if (r == 0)
		node_created(&t);
	end();
	errno = saved;
	return r;
}

HOOK int
mkfifo(const char *path, mode_t mode)
{
	return mkfifoat(AT_FDCWD, path, mode);
}

/*
 * Attributes.  ATTR() runs the real call as CALL for target t and journals
 * SETATTR with VALID when it succeeded.
 */
#define ATTR(t, valid, CALL) do {					\
	int r_, saved_;							\
									\
	if (!begin(&(t)))						\
		return CALL;						\
	r_ = CALL;							\
	saved_ = errno;							\
	if (r_ == 0)							\
		setattr(&(t), (valid));					\
	end();								\
	errno = saved_;							\
	return r_;							\
} while (0)

HOOK int
fchmodat(int dirfd, const char *path, mode_t mode, int flags)
{
	struct target t = { .dirfd = dirfd, .path = path,
	    .follow = !(flags & AT_SYMLINK_NOFOLLOW) };

	REAL(fchmodat);
	ATTR(t, CDP_ATTR_MODE, real_fchmodat(dirfd, path, mode, flags));
}

HOOK int
chmod(const char *path, mode_t mode)
{
	return fchmodat(AT_FDCWD, path, mode, 0);
}

HOOK int
lchmod(const char *path, mode_t mode)
{
	return fchmodat(AT_FDCWD, path, mode, AT_SYMLINK_NOFOLLOW);
}

HOOK int
fchmod(int fd, mode_t mode)
{
	struct target t = { .fd = fd };

	REAL(fchmod);
	ATTR(t, CDP_ATTR_MODE, real_fchmod(fd, mode));
}

static uint32_t
owner_bits(uid_t uid, gid_t gid)
{
	/* chown may clear setuid and setgid bits: the mode goes too. */
	return CDP_ATTR_MODE | (uid != (uid_t)-1 ? CDP_ATTR_UID : 0) |
	    (gid != (gid_t)-1 ? CDP_ATTR_GID : 0);
}

HOOK int
fchownat(int dirfd, const char *path, uid_t uid, gid_t gid, int flags)
{
	struct target t = { .dirfd = dirfd, .path = path,
	    .follow = !(flags & AT_SYMLINK_NOFOLLOW) };

	REAL(fchownat);
	if (flags & AT_EMPTY_PATH) {
		t.path = NULL;
		t.fd = dirfd;
	}
	ATTR(t, owner_bits(uid, gid), real_fchownat(dirfd, path, uid, gid,
	    flags));
}

HOOK int
chown(const char *path, uid_t uid, gid_t gid)
{
	return fchownat(AT_FDCWD, path, uid, gid, 0);
}

HOOK int
lchown(const char *path, uid_t uid, gid_t gid)
{
	return fchownat(AT_FDCWD, path, uid, gid, AT_SYMLINK_NOFOLLOW);
}

HOOK int
fchown(int fd, uid_t uid, gid_t gid)
{
	struct target t = { .fd = fd };

	REAL(fchown);
	ATTR(t, owner_bits(uid, gid), real_fchown(fd, uid, gid));
}

static uint32_t
time_bits(const struct timespec *ts)
{
	uint32_t v = 0;

	if (ts == NULL || ts[0].tv_nsec != UTIME_OMIT)
		v |= CDP_ATTR_ATIME;
	if (ts == NULL || ts[1].tv_nsec != UTIME_OMIT)
		v |= CDP_ATTR_MTIME;
	return v;
}

HOOK int
utimensat(int dirfd, const char *path, const struct timespec ts[2],
    int flags)
{
	struct target t = { .dirfd = dirfd, .path = path,
	    .follow = !(flags & AT_SYMLINK_NOFOLLOW) };

	REAL(utimensat);
	/* Linux accepts a NULL path (futimens on dirfd); glibc says nonnull. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnonnull-compare"
	if (path == NULL) {
		t.path = NULL;
		t.fd = dirfd;
	}
#pragma GCC diagnostic pop
	ATTR(t, time_bits(ts), real_utimensat(dirfd, path, ts, flags));
}

HOOK int
futimens(int fd, const struct timespec ts[2])
{
	struct target t = { .fd = fd };

	REAL(futimens);
	ATTR(t, time_bits(ts), real_futimens(fd, ts));
}

#define BOTH_TIMES	(CDP_ATTR_ATIME | CDP_ATTR_MTIME)

HOOK int
utimes(const char *path, const struct timeval tv[2])
{
	struct target t = { .dirfd = AT_FDCWD, .path = path, .follow = 1 };

	REAL(utimes);
	ATTR(t, BOTH_TIMES, real_utimes(path, tv));
}

HOOK int
lutimes(const char *path, const struct timeval tv[2])
{
	struct target t = { .dirfd = AT_FDCWD, .path = path };

	REAL(lutimes);
	ATTR(t, BOTH_TIMES, real_lutimes(path, tv));
}

HOOK int
futimes(int fd, const struct timeval tv[2])
{
	struct target t = { .fd = fd };

	REAL(futimes);
	ATTR(t, BOTH_TIMES, real_futimes(fd, tv));
}

HOOK int
futimesat(int dirfd, const char *path, const struct timeval tv[2])
{
	struct target t = { .dirfd = dirfd, .path = path, .follow = 1 };

	REAL(futimesat);
	ATTR(t, BOTH_TIMES, real_futimesat(dirfd, path, tv));
}

HOOK int
utime(const char *path, const struct utimbuf *buf)
{
	struct target t = { .dirfd = AT_FDCWD, .path = path, .follow = 1 };

	REAL(utime);
	ATTR(t, BOTH_TIMES, real_utime(path, buf));
}

/* Extended attributes. */

/* An access ACL also sets the mode (cp -a does it this way). */
static void
acl_mode(const struct target *t, const char *name)
{
	if (strcmp(name, "system.posix_acl_access") == 0)
		setattr(t, CDP_ATTR_MODE);
}

static void
xattr_set(const struct target *t, const char *name, const void *value,
    size_t size)
{
	struct iovec iov = { (void *)(uintptr_t)value, size };
	struct emit e = { .path = t->rel, .name = name, .iov = &iov,
	    .iovcnt = 1, .data_len = size };

	if (strlen(name) <= CDP_XATTR_NAME_MAX && size <= CDP_XATTR_VALUE_MAX)
		emit(CDP_T_SETXATTR, &e);
	acl_mode(t, name);
}

#define XSET(t, CALL) do {						\
	int r_, saved_;							\
									\
	if (!begin(&(t)))						\
		return CALL;						\
	r_ = CALL;							\
	saved_ = errno;							\
	if (r_ == 0)							\
		xattr_set(&(t), name, value, size);			\
	end();								\
	errno = saved_;							\
	return r_;							\
} while (0)

HOOK int
setxattr(const char *path, const char *name, const void *value, size_t size,
    int flags)
{
	struct target t = { .dirfd = AT_FDCWD, .path = path, .follow = 1 };

	REAL(setxattr);
	XSET(t, real_setxattr(path, name, value, size, flags));
}

HOOK int
lsetxattr(const char *path, const char *name, const void *value,
    size_t size, int flags)
{
	struct target t = { .dirfd = AT_FDCWD, .path = path };

	REAL(lsetxattr);
	XSET(t, real_lsetxattr(path, name, value, size, flags));
}

HOOK int
fsetxattr(int fd, const char *name, const void *value, size_t size,
    int flags)
{
	struct target t = { .fd = fd };

	REAL(fsetxattr);
	XSET(t, real_fsetxattr(fd, name, value, size, flags));
}

#define XREM(t, CALL) do {						\
	struct emit e_ = { .path = (t).rel, .name = name };		\
	int r_, saved_;							\
									\
	if (!begin(&(t)))						\
		return CALL;						\
	r_ = CALL;							\
	saved_ = errno;							\
	if (r_ == 0 && strlen(name) <= CDP_XATTR_NAME_MAX)		\
		emit(CDP_T_REMOVEXATTR, &e_);				\
	if (r_ == 0)							\
		acl_mode(&(t), name);					\
	end();								\
	errno = saved_;							\
	return r_;							\
} while (0)

HOOK int
removexattr(const char *path, const char *name)
{
	struct target t = { .dirfd = AT_FDCWD, .path = path, .follow = 1 };

	REAL(removexattr);
	XREM(t, real_removexattr(path, name));
}

HOOK int
lremovexattr(const char *path, const char *name)
{
	struct target t = { .dirfd = AT_FDCWD, .path = path };

	REAL(lremovexattr);
	XREM(t, real_lremovexattr(path, name));
}

HOOK int
fremovexattr(int fd, const char *name)
{
	struct target t = { .fd = fd };

	REAL(fremovexattr);
	XREM(t, real_fremovexattr(fd, name));
}
