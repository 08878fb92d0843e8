/*
 * preload_shim.h: internals shared by the parts of libcdp-preload.so.
 *
 * libcdp-preload.c	constructor, environment, exec and spawn wrappers
 * preload_fd.c		per-process descriptor table and path resolution
 * preload_emit.c	records into the ring (locking, splitting, read-back)
 * preload_io.c		open, write, truncate, sync, mmap, copy hooks
 * preload_ns.c		namespace and attribute hooks
 * preload_stdio.c	stdio hooks
 *
 * Every hook follows the same shape: if the shim is not active (no tap,
 * recursion, or the descriptor or path is not beneath the root) call the
 * real function and return; otherwise take the lock of what changes, make
 * the call, reserve the record while still holding the lock (so the
 * journal order is the order the changes took effect), unlock, and
 * return the real result with errno as the real call left it.
 */
#ifndef PRELOAD_SHIM_H
#define PRELOAD_SHIM_H

#include <sys/types.h>
#include <sys/uio.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cdp_format.h"
#include "cdp_ring.h"

#define HOOK	__attribute__((visibility("default")))
#define SHIM	__attribute__((visibility("hidden")))

/* Resolve the real function once (also before the constructor ran). */
#define REAL(name) (__extension__ ({					\
	if (real_##name == NULL)					\
		real_##name = (__typeof__(real_##name))shim_dlnext(#name); \
	real_##name;							\
}))

/* Descriptor table entry: a descriptor of something beneath the root. */
#define FD_WRITE	0x1	/* opened for writing */
#define FD_APPEND	0x2	/* O_APPEND */
#define FD_REG		0x4	/* regular file */
#define FD_DIR		0x8	/* directory */

struct fdent {
	uint64_t	 dev, ino;
	uint32_t	 flags;
	uint16_t	 plen;
	char		 path[];	/* relative to the root, NUL-terminated */
};

/* What a record carries besides its type (see struct cdp_ring_rec). */
struct emit {
	const char		*path, *path2, *name;
	const struct iovec	*iov;	/* data */
	int			 iovcnt;
	size_t			 data_len;
	uint32_t		 mode, rflags, uid, gid;
	int64_t			 atime_ns, mtime_ns;
	uint64_t		 off, len2;
};

/* libcdp-preload.c */
SHIM void	*shim_dlnext(const char *name);
SHIM int	 shim_enter(void);	/* 1: journal this call; then leave */
SHIM void	 shim_leave(void);
SHIM uint32_t	 shim_tid(void);
SHIM int	 shim_own_fd(int fd);	/* one of the tap's descriptors */
SHIM struct cdp_ring *shim_ring(void);
SHIM void	 shim_warn(const char *fmt, ...)
		    __attribute__((format(printf, 1, 2)));

/* preload_fd.c */
SHIM void	 fd_init(const char *root);
SHIM const struct fdent *fd_get(int fd);
SHIM const struct fdent *fd_track(int fd);	/* (re)reads what fd is */
SHIM void	 fd_forget(int fd);
SHIM void	 fd_dup(int oldfd, int newfd);
SHIM void	 fd_renamed(const char *from, const char *to, int exchange);
SHIM void	 fd_unlinked(const char *path);
SHIM int	 fd_max(void);
/* Path beneath the root of dirfd/path: 1 and rel set, 0 not beneath. */
SHIM int	 fd_resolve(int dirfd, const char *path, int follow,
		    char rel[CDP_PATH_MAX + 1]);
SHIM int	 fd_rel(const char *abs, char rel[CDP_PATH_MAX + 1]);
SHIM uint64_t	 fd_key(const struct fdent *);

/* preload_emit.c: call with the lock held. */
SHIM void	 emit(uint16_t type, const struct emit *);
SHIM void	 emit_write(const char *path, uint64_t off,
		    const struct iovec *iov, int iovcnt, size_t total);
/* WRITE records of fd's bytes [off, off+len), read back from the file. */
SHIM void	 emit_readback(const char *path, int fd, uint64_t off,
		    uint64_t len);
/* A whole file appearing beneath the root: CREATE, WRITE, SETATTR. */
SHIM void	 emit_snapshot(const char *rel, int dirfd, const char *name);
SHIM void	 emit_fsync(const char *path, uint32_t flags);
/* After a CREATE or MKDIR: SETATTR of the owner if not the tap's. */
struct stat;
SHIM void	 emit_owner(const char *path, const struct stat *st);
SHIM void	 lock_fd(const struct fdent *);
SHIM void	 unlock_fd(const struct fdent *);
SHIM void	 lock_ns(void);
SHIM void	 unlock_ns(void);

/* preload_io.c */
SHIM void	 mmap_flush_all(void);

/* preload_stdio.c */
SHIM void	 stdio_flush_all(void);

/* glibc entry points without a prototype in the installed headers. */
int	 __open_2(const char *, int);
int	 __open64_2(const char *, int);
int	 __openat_2(int, const char *, int);
int	 __openat64_2(int, const char *, int);
int	 __fprintf_chk(FILE *, int, const char *, ...);
int	 __printf_chk(int, const char *, ...);
int	 __vfprintf_chk(FILE *, int, const char *, __gnuc_va_list);
int	 __vprintf_chk(int, const char *, __gnuc_va_list);
int	 __dprintf_chk(int, int, const char *, ...);
int	 __vdprintf_chk(int, int, const char *, __gnuc_va_list);
int	 _IO_putc(int, FILE *);

#endif
