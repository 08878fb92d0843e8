/*
 * preload_io.c: hooks for opening, writing, truncating, syncing, mapping
 * and copying into files beneath the root, and for the descriptor table
 * (dup, fcntl, close).
 *
 * Offsets come from the kernel: a write at the current offset or in
 * O_APPEND mode asks lseek(2) where it ended, under the file's lock, so
 * what the journal says is where the bytes really landed, also when
 * several processes append to one file.
 */
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "preload_shim.h"

static int (*real_openat)(int, const char *, int, ...);
static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_pwrite64)(int, const void *, size_t, off_t);
static ssize_t (*real_writev)(int, const struct iovec *, int);
static ssize_t (*real_pwritev64)(int, const struct iovec *, int, off_t);
static ssize_t (*real_pwritev64v2)(int, const struct iovec *, int, off_t,
    int);
static int (*real_ftruncate64)(int, off_t);
static int (*real_truncate64)(const char *, off_t);
static int (*real_fallocate64)(int, int, off_t, off_t);
static int (*real_posix_fallocate64)(int, off_t, off_t);
static ssize_t (*real_copy_file_range)(int, off_t *, int, off_t *, size_t,
    unsigned);
static ssize_t (*real_sendfile64)(int, int, off_t *, size_t);
static ssize_t (*real_splice)(int, off_t *, int, off_t *, size_t, unsigned);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_syncfs)(int);
static void (*real_sync)(void);
static int (*real_msync)(void *, size_t, int);
static void *(*real_mmap64)(void *, size_t, int, int, int, off_t);
static int (*real_munmap)(void *, size_t);
static int (*real_dup)(int);
static int (*real_dup2)(int, int);
static int (*real_dup3)(int, int, int);
static int (*real_fcntl64)(int, int, ...);
static int (*real_close)(int);
static int (*real_close_range)(unsigned, unsigned, int);
static void (*real_closefrom)(int);
static int (*real_mkostemps64)(char *, int, int);

/* Opening. */

static int
open_common(int dirfd, const char *path, int flags, mode_t mode)
{
	const struct fdent *e;
	struct stat st;
	struct emit em = { 0 };
	uint64_t ikey = 0;
	int fd, saved, existed;

	REAL(openat);
	if (!shim_enter())
		return real_openat(dirfd, path, flags, mode);
	if (!(flags & (O_CREAT | O_TRUNC)) ||
	    (flags & O_TMPFILE) == O_TMPFILE) {
		fd = real_openat(dirfd, path, flags, mode);
		saved = errno;
		if (fd >= 0)
			fd_track(fd);
		shim_leave();
		errno = saved;
		return fd;
	}
	lock_ns();
	existed = fstatat(dirfd, path, &st, (flags & O_NOFOLLOW) ?
	    AT_SYMLINK_NOFOLLOW : 0) == 0;
	if (existed && (flags & O_TRUNC) && S_ISREG(st.st_mode)) {
		ikey = cdp_ring_inode_key(st.st_dev, st.st_ino);
		cdp_ring_lock(shim_ring(), ikey, shim_tid());
	}
	fd = real_openat(dirfd, path, flags, mode);
	saved = errno;
	if (fd >= 0 && (e = fd_track(fd)) != NULL && (e->flags & FD_REG)) {
		em.path = e->path;
		if (!existed && fstat(fd, &st) == 0) {
			em.mode = st.st_mode & 07777;
			emit(CDP_T_CREATE, &em);
			emit_owner(e->path, &st);
		} else if (existed && (flags & O_TRUNC))
			emit(CDP_T_TRUNCATE, &em);
	}
	if (ikey != 0)
		cdp_ring_unlock(shim_ring(), ikey);
	unlock_ns();
	shim_leave();
	errno = saved;
	return fd;
}

static mode_t
mode_arg(int flags, va_list ap)
{
	if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE)
		return (mode_t)va_arg(ap, int);
	return 0;
}

#define OPEN_HOOK(name)							\
HOOK int								\
name(const char *path, int flags, ...)					\
{									\
	va_list ap;							\
	mode_t mode;							\
									\
	va_start(ap, flags);						\
	mode = mode_arg(flags, ap);					\
	va_end(ap);							\
	return open_common(AT_FDCWD, path, flags, mode);		\
}
#define OPENAT_HOOK(name)						\
HOOK int								\
name(int dirfd, const char *path, int flags, ...)			\
{									\
	va_list ap;							\
	mode_t mode;							\
									\
	va_start(ap, flags);						\
	mode = mode_arg(flags, ap);					\
	va_end(ap);							\
	return open_common(dirfd, path, flags, mode);			\
}

OPEN_HOOK(open)
OPEN_HOOK(open64)
OPENAT_HOOK(openat)
OPENAT_HOOK(openat64)

HOOK int
__open_2(const char *path, int flags)
{
	return open_common(AT_FDCWD, path, flags, 0);
}

HOOK int
__open64_2(const char *path, int flags)
{
	return open_common(AT_FDCWD, path, flags, 0);
}

HOOK int
__openat_2(int dirfd, const char *path, int flags)
{
	return open_common(dirfd, path, flags, 0);
}

HOOK int
__openat64_2(int dirfd, const char *path, int flags)
{
	return open_common(dirfd, path, flags, 0);
}

HOOK int
creat(const char *path, mode_t mode)
{
	return open_common(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}

HOOK int
creat64(const char *path, mode_t mode)
{
	return open_common(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}

/* mkstemp(3) and friends open inside libc, past the hooks above. */
static int
mktemp_common(char *tmpl, int suffixlen, int flags)
{
	const struct fdent *e;
	struct stat st;
	struct emit em = { 0 };
	int fd, saved;

	REAL(mkostemps64);
	if (!shim_enter())
		return real_mkostemps64(tmpl, suffixlen, flags);
	lock_ns();
	fd = real_mkostemps64(tmpl, suffixlen, flags);
	saved = errno;
	if (fd >= 0 && (e = fd_track(fd)) != NULL && fstat(fd, &st) == 0) {
		em.path = e->path;
		em.mode = st.st_mode & 07777;
		emit(CDP_T_CREATE, &em);
		emit_owner(e->path, &st);
	}
	unlock_ns();
	shim_leave();
	errno = saved;
	return fd;
}

HOOK int mkstemp(char *t) { return mktemp_common(t, 0, 0); }
HOOK int mkstemp64(char *t) { return mktemp_common(t, 0, 0); }
HOOK int mkostemp(char *t, int f) { return mktemp_common(t, 0, f); }
HOOK int mkostemp64(char *t, int f) { return mktemp_common(t, 0, f); }
HOOK int mkstemps(char *t, int s) { return mktemp_common(t, s, 0); }
HOOK int mkstemps64(char *t, int s) { return mktemp_common(t, s, 0); }
HOOK int mkostemps(char *t, int s, int f) { return mktemp_common(t, s, f); }
HOOK int mkostemps64(char *t, int s, int f) { return mktemp_common(t, s, f); }

/* Writing. */

enum wkind { W_WRITE, W_PWRITE, W_WRITEV, W_PWRITEV, W_PWRITEV2 };

static ssize_t
w_call(enum wkind k, int fd, const struct iovec *iov, int cnt, off_t off,
    int flags)
{
	switch (k) {
	case W_WRITE:
		return REAL(write)(fd, iov[0].iov_base, iov[0].iov_len);
	case W_PWRITE:
		return REAL(pwrite64)(fd, iov[0].iov_base, iov[0].iov_len, off);
	case W_WRITEV:
		return REAL(writev)(fd, iov, cnt);
	case W_PWRITEV:
		return REAL(pwritev64)(fd, iov, cnt, off);
	default:
		return REAL(pwritev64v2)(fd, iov, cnt, off, flags);
	}
}

/* Where the last r bytes written on fd landed; -1 if unknown. */
static off_t
landed(int fd, const struct fdent *e, int positional, off_t off, ssize_t r,
    int append)
{
	struct stat st;
	off_t cur;

	if (append && positional) {
		/* pwrite on O_APPEND appends and leaves the offset alone. */
		if (fstat(fd, &st) == -1)
			return -1;
		return st.st_size - r;
	}
	if (positional)
		return off;
	(void)e;
	cur = lseek(fd, 0, SEEK_CUR);
	return cur == -1 ? -1 : cur - r;
}

static ssize_t
write_common(enum wkind k, int fd, const struct iovec *iov, int cnt,
    off_t off, int flags)
{
	const struct fdent *e = fd_get(fd);
	int positional, append, saved;
	ssize_t r;
	off_t at;

	if (e == NULL || (e->flags & (FD_WRITE | FD_REG)) !=
	    (FD_WRITE | FD_REG) || !shim_enter())
		return w_call(k, fd, iov, cnt, off, flags);
	positional = k == W_PWRITE || ((k == W_PWRITEV || k == W_PWRITEV2) &&
	    off != -1);
	append = (e->flags & FD_APPEND) ||
	    (k == W_PWRITEV2 && (flags & RWF_APPEND));
	lock_fd(e);
	r = w_call(k, fd, iov, cnt, off, flags);
	saved = errno;
	if (r > 0 && (at = landed(fd, e, positional, off, r, append)) >= 0)
		emit_write(e->path, (uint64_t)at, iov, cnt, (size_t)r);
	unlock_fd(e);
	shim_leave();
	errno = saved;
	return r;
}

HOOK ssize_t
write(int fd, const void *buf, size_t n)
{
	struct iovec iov = { (void *)(uintptr_t)buf, n };

	return write_common(W_WRITE, fd, &iov, 1, -1, 0);
}

HOOK ssize_t
pwrite(int fd, const void *buf, size_t n, off_t off)
{
	struct iovec iov = { (void *)(uintptr_t)buf, n };

	return write_common(W_PWRITE, fd, &iov, 1, off, 0);
}

HOOK ssize_t
pwrite64(int fd, const void *buf, size_t n, off_t off)
{
	struct iovec iov = { (void *)(uintptr_t)buf, n };

	return write_common(W_PWRITE, fd, &iov, 1, off, 0);
}

HOOK ssize_t
writev(int fd, const struct iovec *iov, int cnt)
{
	return write_common(W_WRITEV, fd, iov, cnt, -1, 0);
}

HOOK ssize_t
pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
	return write_common(W_PWRITEV, fd, iov, cnt, off, 0);
}

HOOK ssize_t
pwritev64(int fd, const struct iovec *iov, int cnt, off_t off)
{
	return write_common(W_PWRITEV, fd, iov, cnt, off, 0);
}

HOOK ssize_t
pwritev2(int fd, const struct iovec *iov, int cnt, off_t off, int flags)
{
	return write_common(W_PWRITEV2, fd, iov, cnt, off, flags);
}

HOOK ssize_t
pwritev64v2(int fd, const struct iovec *iov, int cnt, off_t off, int flags)
{
	return write_common(W_PWRITEV2, fd, iov, cnt, off, flags);
}

/* Copies into a file: journal the bytes that landed, read back. */
enum ckind { C_COPY, C_SENDFILE, C_SPLICE };

static ssize_t
copy_common(enum ckind k, int in, off_t *in_off, int out, off_t *out_off,
    size_t len, unsigned flags)
{
	const struct fdent *e = fd_get(out);
	off_t o0 = out_off != NULL ? *out_off : 0, at;
	ssize_t r;
	int saved;

	if (k == C_COPY)
		REAL(copy_file_range);
	else if (k == C_SENDFILE)
		REAL(sendfile64);
	else
		REAL(splice);
	if (e == NULL || (e->flags & (FD_WRITE | FD_REG)) !=
	    (FD_WRITE | FD_REG) || !shim_enter()) {
		if (k == C_COPY)
			return real_copy_file_range(in, in_off, out, out_off,
			    len, flags);
		if (k == C_SENDFILE)
			return real_sendfile64(out, in, in_off, len);
		return real_splice(in, in_off, out, out_off, len, flags);
	}
	lock_fd(e);
	if (k == C_COPY)
		r = real_copy_file_range(in, in_off, out, out_off, len, flags);
	else if (k == C_SENDFILE)
		r = real_sendfile64(out, in, in_off, len);
	else
		r = real_splice(in, in_off, out, out_off, len, flags);
	saved = errno;
	if (r > 0 && (at = landed(out, e, out_off != NULL, o0, r,
	    (e->flags & FD_APPEND) != 0)) >= 0)
		emit_readback(e->path, out, (uint64_t)at, (uint64_t)r);
	unlock_fd(e);
	shim_leave();
	errno = saved;
	return r;
}

HOOK ssize_t
copy_file_range(int in, off_t *in_off, int out, off_t *out_off, size_t len,
    unsigned flags)
{
	return copy_common(C_COPY, in, in_off, out, out_off, len, flags);
}

HOOK ssize_t
sendfile(int out, int in, off_t *off, size_t count)
{
	return copy_common(C_SENDFILE, in, off, out, NULL, count, 0);
}

HOOK ssize_t
sendfile64(int out, int in, off_t *off, size_t count)
{
	return copy_common(C_SENDFILE, in, off, out, NULL, count, 0);
}

HOOK ssize_t
splice(int in, off_t *in_off, int out, off_t *out_off, size_t len,
    unsigned flags)
{
	return copy_common(C_SPLICE, in, in_off, out, out_off, len, flags);
}

/* Sizes and space. */

static int
ftrunc_common(int fd, off_t len)
{
	const struct fdent *e = fd_get(fd);
	struct emit em = { 0 };
	int r, saved;

	REAL(ftruncate64);
	if (e == NULL || !(e->flags & FD_REG) || !shim_enter())
		return real_ftruncate64(fd, len);
	lock_fd(e);
	r = real_ftruncate64(fd, len);
	saved = errno;
	if (r == 0) {
		em.path = e->path;
		em.off = (uint64_t)len;
		emit(CDP_T_TRUNCATE, &em);
	}
	unlock_fd(e);
	shim_leave();
	errno = saved;
	return r;
}

HOOK int ftruncate(int fd, off_t len) { return ftrunc_common(fd, len); }
HOOK int ftruncate64(int fd, off_t len) { return ftrunc_common(fd, len); }

static int
trunc_common(const char *path, off_t len)
{
	char rel[CDP_PATH_MAX + 1];
	struct emit em = { .path = rel, .off = (uint64_t)len };
	struct stat st;
	uint64_t key;
	int r, saved;

	REAL(truncate64);
	if (!shim_enter())
		return real_truncate64(path, len);
	if (!fd_resolve(AT_FDCWD, path, 1, rel) || stat(path, &st) == -1) {
		shim_leave();
		return real_truncate64(path, len);
	}
	key = cdp_ring_inode_key(st.st_dev, st.st_ino);
	cdp_ring_lock(shim_ring(), key, shim_tid());
	r = real_truncate64(path, len);
	saved = errno;
	if (r == 0)
		emit(CDP_T_TRUNCATE, &em);
	cdp_ring_unlock(shim_ring(), key);
	shim_leave();
	errno = saved;
	return r;
}

HOOK int truncate(const char *p, off_t len) { return trunc_common(p, len); }
HOOK int truncate64(const char *p, off_t len) { return trunc_common(p, len); }

/* posix is set for posix_fallocate(3), which returns the error. */
static int
falloc_common(int fd, int mode, off_t off, off_t len, int posix)
{
	const struct fdent *e = fd_get(fd);
	struct emit em = { 0 };
	int r, saved;

	if (posix)
		REAL(posix_fallocate64);
	else
		REAL(fallocate64);
	if (e == NULL || !(e->flags & FD_REG) || !shim_enter())
		return posix ? real_posix_fallocate64(fd, off, len) :
		    real_fallocate64(fd, mode, off, len);
	lock_fd(e);
	r = posix ? real_posix_fallocate64(fd, off, len) :
	    real_fallocate64(fd, mode, off, len);
	saved = errno;
	if (r == 0) {
		em.path = e->path;
		em.mode = (uint32_t)mode;
		em.off = (uint64_t)off;
		em.len2 = (uint64_t)len;
		emit(CDP_T_FALLOCATE, &em);
	}
	unlock_fd(e);
	shim_leave();
	errno = saved;
	return r;
}

HOOK int
fallocate(int fd, int mode, off_t off, off_t len)
{
	return falloc_common(fd, mode, off, len, 0);
}

HOOK int
fallocate64(int fd, int mode, off_t off, off_t len)
{
	return falloc_common(fd, mode, off, len, 0);
}

HOOK int
posix_fallocate(int fd, off_t off, off_t len)
{
	return falloc_common(fd, 0, off, len, 1);
}

HOOK int
posix_fallocate64(int fd, off_t off, off_t len)
{
	return falloc_common(fd, 0, off, len, 1);
}

/* Syncing: each one is an FSYNC record, in order with the writes. */

static int
fsync_common(int fd, uint32_t flags)
{
	const struct fdent *e = fd_get(fd);
	int r, saved;

	if (flags)
		REAL(fdatasync);
	else
		REAL(fsync);
	if (e == NULL || !shim_enter())
		return flags ? real_fdatasync(fd) : real_fsync(fd);
	r = flags ? real_fdatasync(fd) : real_fsync(fd);
	saved = errno;
	if (r == 0) {
		lock_fd(e);
		emit_fsync(e->path, flags);
		unlock_fd(e);
	}
	shim_leave();
	errno = saved;
	return r;
}

HOOK int fsync(int fd) { return fsync_common(fd, 0); }
HOOK int fdatasync(int fd) { return fsync_common(fd, CDP_FSYNC_DATASYNC); }

static void
sync_all(void)
{
	lock_ns();
	emit_fsync("", 0);
	unlock_ns();
}

HOOK int
syncfs(int fd)
{
	int r, saved;

	REAL(syncfs);
	if (!shim_enter())
		return real_syncfs(fd);
	r = real_syncfs(fd);
	saved = errno;
	if (r == 0)
		sync_all();
	shim_leave();
	errno = saved;
	return r;
}

HOOK void
sync(void)
{
	REAL(sync);
	real_sync();
	if (shim_enter()) {
		sync_all();
		shim_leave();
	}
}

/*
 * Shared writable mappings.  Stores through a mapping are invisible, so
 * the whole mapped range is journaled (read back from the file) at msync,
 * munmap, exec and exit.  The descriptor is duplicated, because the
 * program may close its own right after mmap.
 */
#define MAPS	256

struct map {
	void		*addr;
	size_t		 len;
	off_t		 off;
	int		 fd;		/* our duplicate, or -1: slot free */
	struct fdent	*e;
};

static struct map	maps[MAPS];
static atomic_flag	maps_lock = ATOMIC_FLAG_INIT;

static void
maps_acquire(void)
{
	while (atomic_flag_test_and_set(&maps_lock))
		;
}

static void
maps_drop(void)
{
	atomic_flag_clear(&maps_lock);
}

static void
map_flush(struct map *m)
{
	struct stat st;
	uint64_t end;

	lock_fd(m->e);
	if (fstat(m->fd, &st) == 0 && st.st_size > m->off) {
		end = (uint64_t)m->off + m->len;
		if (end > (uint64_t)st.st_size)
			end = (uint64_t)st.st_size;
		emit_readback(m->e->path, m->fd, (uint64_t)m->off,
		    end - (uint64_t)m->off);
	}
	unlock_fd(m->e);
}

static void
map_free(struct map *m)
{
	REAL(close)(m->fd);
	free(m->e);
	m->fd = -1;
	m->e = NULL;
	m->addr = NULL;
}

/* Flush (and with drop, forget) the mappings overlapping [a, a+len). */
static void
maps_range(void *a, size_t len, int drop, int sync)
{
	char *lo = a, *hi = (char *)a + len;
	int i;

	maps_acquire();
	for (i = 0; i < MAPS; i++) {
		struct map *m = &maps[i];

		if (m->e == NULL || (char *)m->addr >= hi ||
		    (char *)m->addr + m->len <= lo)
			continue;
		map_flush(m);
		if (sync) {
			lock_fd(m->e);
			emit_fsync(m->e->path, 0);
			unlock_fd(m->e);
		}
		if (drop && (char *)m->addr >= lo &&
		    (char *)m->addr + m->len <= hi)
			map_free(m);
	}
	maps_drop();
}

void
mmap_flush_all(void)
{
	if (!shim_enter())
		return;
	maps_range(NULL, SIZE_MAX, 0, 0);
	shim_leave();
}

static void *
mmap_common(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	const struct fdent *e;
	void *p;
	int i, saved, dfd;
	size_t size;

	REAL(mmap64);
	p = real_mmap64(addr, len, prot, flags, fd, off);
	if (p == MAP_FAILED || (flags & MAP_TYPE) != MAP_SHARED || fd < 0 ||
	    (e = fd_get(fd)) == NULL || (e->flags & (FD_WRITE | FD_REG)) !=
	    (FD_WRITE | FD_REG) || !shim_enter())
		return p;
	saved = errno;
	dfd = REAL(fcntl64)(fd, F_DUPFD_CLOEXEC, 0);
	size = sizeof(*e) + e->plen + 1;
	maps_acquire();
	for (i = 0; i < MAPS && maps[i].e != NULL; i++)
		;
	if (i == MAPS || dfd == -1) {
		shim_warn("%s: too many shared mappings: changes through "
		    "this one are not journaled", e->path);
		if (dfd != -1)
			REAL(close)(dfd);
	} else if ((maps[i].e = malloc(size)) != NULL) {
		memcpy(maps[i].e, e, size);
		maps[i].addr = p;
		maps[i].len = len;
		maps[i].off = off;
		maps[i].fd = dfd;
	}
	maps_drop();
	shim_leave();
	errno = saved;
	return p;
}

HOOK void *
mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return mmap_common(addr, len, prot, flags, fd, off);
}

HOOK void *
mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return mmap_common(addr, len, prot, flags, fd, off);
}

HOOK int
munmap(void *addr, size_t len)
{
	REAL(munmap);
	if (shim_enter()) {
		maps_range(addr, len, 1, 0);
		shim_leave();
	}
	return real_munmap(addr, len);
}

HOOK int
msync(void *addr, size_t len, int flags)
{
	int r, saved;

	REAL(msync);
	r = real_msync(addr, len, flags);
	saved = errno;
	if (r == 0 && shim_enter()) {
		maps_range(addr, len, 0, 1);
		shim_leave();
	}
	errno = saved;
	return r;
}

/* The descriptor table. */

HOOK int
dup(int fd)
{
	int r = REAL(dup)(fd), saved = errno;

	if (r >= 0)
		fd_dup(fd, r);
	errno = saved;
	return r;
}

HOOK int
dup2(int fd, int fd2)
{
	int r = REAL(dup2)(fd, fd2), saved = errno;

	if (r >= 0 && fd != fd2)
		fd_dup(fd, r);
	errno = saved;
	return r;
}

HOOK int
dup3(int fd, int fd2, int flags)
{
	int r = REAL(dup3)(fd, fd2, flags), saved = errno;

	if (r >= 0)
		fd_dup(fd, r);
	errno = saved;
	return r;
}

static int
fcntl_common(int fd, int cmd, va_list ap)
{
	void *arg = va_arg(ap, void *);
	int r, saved;

	r = REAL(fcntl64)(fd, cmd, arg);
	saved = errno;
	if (r >= 0 && (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC))
		fd_dup(fd, r);
	errno = saved;
	return r;
}

HOOK int
fcntl(int fd, int cmd, ...)
{
	va_list ap;
	int r;

	va_start(ap, cmd);
	r = fcntl_common(fd, cmd, ap);
	va_end(ap);
	return r;
}

HOOK int
fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	int r;

	va_start(ap, cmd);
	r = fcntl_common(fd, cmd, ap);
	va_end(ap);
	return r;
}

/*
 * The tap's own descriptors survive a program closing everything it does
 * not know (daemons do): their children must still reach the tap.
 */
HOOK int
close(int fd)
{
	if (shim_own_fd(fd))
		return 0;
	fd_forget(fd);
	return REAL(close)(fd);
}

HOOK int
close_range(unsigned first, unsigned last, int flags)
{
	unsigned fd, lo = first, hi = (unsigned)fd_max();
	int r = 0;

	REAL(close_range);
	/* Only descriptors up to the highest one known need a look. */
	if (hi < 65535)
		hi = 65535;
	for (fd = first; fd <= last && fd <= hi; fd++) {
		if (!(flags & CLOSE_RANGE_CLOEXEC) && fd_get((int)fd) != NULL)
			fd_forget((int)fd);
		if (shim_own_fd((int)fd)) {
			if (fd > lo && real_close_range(lo, fd - 1, flags) == -1)
				r = -1;
			lo = fd + 1;
		}
	}
	if (lo <= last && real_close_range(lo, last, flags) == -1)
		r = -1;
	return r;
}

HOOK void
closefrom(int lowfd)
{
	REAL(closefrom);
	if (lowfd < 0)
		lowfd = 0;
	close_range((unsigned)lowfd, ~0u, 0);
}
