/*
 * preload_stdio.c: stdio streams on files beneath the root.
 *
 * glibc flushes a FILE's buffer with its internal write, which no
 * LD_PRELOAD hook sees.  So every stdio call that may flush (the output
 * functions, fflush, fclose, fseek and the others that flush first, exit)
 * is wrapped: under the file's lock, the kernel's file offset is taken
 * before and after the call, and whatever the call moved it across is
 * read back from the file and journaled.  A stream in append mode is
 * measured by its size instead.  Data still in the buffer is not in the
 * file yet, so it is not journaled yet: it is when a later call (at the
 * latest exit) flushes it.  This costs two lseek(2) per stdio call on such
 * a stream; streams on other files cost a table lookup.
 *
 * fopen and friends open inside libc too, so they are wrapped to journal
 * what the open itself does (CREATE, TRUNCATE) and to learn the
 * descriptor.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "preload_shim.h"

/* Optimizing builds define some of these as macros; the hooks are functions. */
#undef fwrite_unlocked
#undef fputc_unlocked
#undef putc_unlocked
#undef putchar_unlocked
#undef putc
#undef fputs_unlocked

struct span {
	const struct fdent *e;
	int		 fd;
	off_t		 off0;
	off_t		 size0;
};

/* Begin a stdio call on fp: 1 if it is measured (lock held). */
static int
span_begin(struct span *s, FILE *fp)
{
	struct stat st;
	int saved = errno;

	if (fp == NULL || (s->fd = fileno_unlocked(fp)) < 0 ||
	    (s->e = fd_get(s->fd)) == NULL ||
	    (s->e->flags & (FD_WRITE | FD_REG)) != (FD_WRITE | FD_REG) ||
	    !shim_enter()) {
		errno = saved;
		return 0;
	}
	lock_fd(s->e);
	s->off0 = lseek(s->fd, 0, SEEK_CUR);
	s->size0 = fstat(s->fd, &st) == 0 ? st.st_size : -1;
	errno = saved;
	return 1;
}

static void
span_end(struct span *s)
{
	struct stat st;
	off_t off1, size1;
	int saved = errno;

	off1 = lseek(s->fd, 0, SEEK_CUR);
	size1 = fstat(s->fd, &st) == 0 ? st.st_size : -1;
	if (off1 == -1 || s->off0 == -1 || size1 == -1)
		;
	else if (s->e->flags & FD_APPEND) {
		if (size1 > s->size0)
			emit_readback(s->e->path, s->fd, (uint64_t)s->size0,
			    (uint64_t)(size1 - s->size0));
	} else if (off1 > s->off0)
		emit_readback(s->e->path, s->fd, (uint64_t)s->off0,
		    (uint64_t)(off1 - s->off0));
	else if (off1 < s->off0) {
		/* A read-write stream moved back first: say it all. */
		emit_readback(s->e->path, s->fd, 0, (uint64_t)size1);
	}
	unlock_fd(s->e);
	shim_leave();
	errno = saved;
}

/*
 * WRAP(fp, type, CALL): run CALL (a stdio call on fp) measured.
 */
#define WRAP(fp, type, CALL) do {					\
	struct span s_;							\
	type r_;							\
									\
	if (!span_begin(&s_, (fp)))					\
		return CALL;						\
	r_ = CALL;							\
	span_end(&s_);							\
	return r_;							\
} while (0)

static size_t (*real_fwrite)(const void *, size_t, size_t, FILE *);
static size_t (*real_fwrite_unlocked)(const void *, size_t, size_t, FILE *);
static int (*real_fputs)(const char *, FILE *);
static int (*real_fputs_unlocked)(const char *, FILE *);
static int (*real_fputc)(int, FILE *);
static int (*real_fputc_unlocked)(int, FILE *);
static int (*real_putc)(int, FILE *);
static int (*real_putc_unlocked)(int, FILE *);
static int (*real__IO_putc)(int, FILE *);
static int (*real_puts)(const char *);
static int (*real_putchar)(int);
static int (*real_putchar_unlocked)(int);
static int (*real_vfprintf)(FILE *, const char *, va_list);
static int (*real___vfprintf_chk)(FILE *, int, const char *, va_list);
static int (*real_vdprintf)(int, const char *, va_list);
static int (*real___vdprintf_chk)(int, int, const char *, va_list);
static int (*real___overflow)(FILE *, int);
static int (*real_fflush)(FILE *);
static int (*real_fflush_unlocked)(FILE *);
static int (*real_fclose)(FILE *);
static int (*real_fseek)(FILE *, long, int);
static int (*real_fseeko64)(FILE *, off_t, int);
static int (*real_fsetpos64)(FILE *, const fpos64_t *);
static void (*real_rewind)(FILE *);
static FILE *(*real_fopen64)(const char *, const char *);
static FILE *(*real_freopen64)(const char *, const char *, FILE *);

HOOK size_t
fwrite(const void *p, size_t size, size_t n, FILE *fp)
{
	REAL(fwrite);
	WRAP(fp, size_t, real_fwrite(p, size, n, fp));
}

HOOK size_t
fwrite_unlocked(const void *p, size_t size, size_t n, FILE *fp)
{
	REAL(fwrite_unlocked);
	WRAP(fp, size_t, real_fwrite_unlocked(p, size, n, fp));
}

HOOK int
fputs(const char *str, FILE *fp)
{
	REAL(fputs);
	WRAP(fp, int, real_fputs(str, fp));
}

HOOK int
fputs_unlocked(const char *str, FILE *fp)
{
	REAL(fputs_unlocked);
	WRAP(fp, int, real_fputs_unlocked(str, fp));
}

HOOK int
fputc(int c, FILE *fp)
{
	REAL(fputc);
	WRAP(fp, int, real_fputc(c, fp));
}

HOOK int
fputc_unlocked(int c, FILE *fp)
{
	REAL(fputc_unlocked);
	WRAP(fp, int, real_fputc_unlocked(c, fp));
}

HOOK int
putc(int c, FILE *fp)
{
	REAL(putc);
	WRAP(fp, int, real_putc(c, fp));
}

HOOK int
putc_unlocked(int c, FILE *fp)
{
	REAL(putc_unlocked);
	WRAP(fp, int, real_putc_unlocked(c, fp));
}

HOOK int
_IO_putc(int c, FILE *fp)
{
	REAL(_IO_putc);
	WRAP(fp, int, real__IO_putc(c, fp));
}

HOOK int
puts(const char *str)
{
	REAL(puts);
	WRAP(stdout, int, real_puts(str));
}

HOOK int
putchar(int c)
{
	REAL(putchar);
	WRAP(stdout, int, real_putchar(c));
}

HOOK int
putchar_unlocked(int c)
{
	REAL(putchar_unlocked);
	WRAP(stdout, int, real_putchar_unlocked(c));
}

/* The buffer-full path of the putc_unlocked macros. */
HOOK int
__overflow(FILE *fp, int c)
{
	REAL(__overflow);
	WRAP(fp, int, real___overflow(fp, c));
}

HOOK int
vfprintf(FILE *fp, const char *fmt, va_list ap)
{
	REAL(vfprintf);
	WRAP(fp, int, real_vfprintf(fp, fmt, ap));
}

HOOK int
__vfprintf_chk(FILE *fp, int flag, const char *fmt, va_list ap)
{
	REAL(__vfprintf_chk);
	WRAP(fp, int, real___vfprintf_chk(fp, flag, fmt, ap));
}

HOOK int
vprintf(const char *fmt, va_list ap)
{
	return vfprintf(stdout, fmt, ap);
}

HOOK int
__vprintf_chk(int flag, const char *fmt, va_list ap)
{
	return __vfprintf_chk(stdout, flag, fmt, ap);
}

HOOK int
fprintf(FILE *fp, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vfprintf(fp, fmt, ap);
	va_end(ap);
	return r;
}

HOOK int
__fprintf_chk(FILE *fp, int flag, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = __vfprintf_chk(fp, flag, fmt, ap);
	va_end(ap);
	return r;
}

HOOK int
printf(const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vfprintf(stdout, fmt, ap);
	va_end(ap);
	return r;
}

HOOK int
__printf_chk(int flag, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = __vfprintf_chk(stdout, flag, fmt, ap);
	va_end(ap);
	return r;
}

/* dprintf writes through a temporary stream of its own. */
static int
dspan_begin(struct span *s, int fd)
{
	struct stat st;

	if ((s->e = fd_get(fd)) == NULL || (s->e->flags & (FD_WRITE |
	    FD_REG)) != (FD_WRITE | FD_REG) || !shim_enter())
		return 0;
	s->fd = fd;
	lock_fd(s->e);
	s->off0 = lseek(fd, 0, SEEK_CUR);
	s->size0 = fstat(fd, &st) == 0 ? st.st_size : -1;
	return 1;
}

HOOK int
vdprintf(int fd, const char *fmt, va_list ap)
{
	struct span s;
	int r;

	REAL(vdprintf);
	if (!dspan_begin(&s, fd))
		return real_vdprintf(fd, fmt, ap);
	r = real_vdprintf(fd, fmt, ap);
	span_end(&s);
	return r;
}

HOOK int
__vdprintf_chk(int fd, int flag, const char *fmt, va_list ap)
{
	struct span s;
	int r;

	REAL(__vdprintf_chk);
	if (!dspan_begin(&s, fd))
		return real___vdprintf_chk(fd, flag, fmt, ap);
	r = real___vdprintf_chk(fd, flag, fmt, ap);
	span_end(&s);
	return r;
}

HOOK int
dprintf(int fd, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vdprintf(fd, fmt, ap);
	va_end(ap);
	return r;
}

HOOK int
__dprintf_chk(int fd, int flag, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = __vdprintf_chk(fd, flag, fmt, ap);
	va_end(ap);
	return r;
}

/* Flushing, seeking, closing. */

/*
 * Flush every stream (fflush(NULL), exit).  Nothing tells which FILE holds
 * which descriptor, so each descriptor on a file beneath the root is
 * measured, all streams are flushed at once, and each is compared.
 */
#define FLUSH_FDS	256

void
stdio_flush_all(void)
{
	struct span spans[FLUSH_FDS];
	int fd, m = fd_max(), n = 0, i;

	REAL(fflush);
	for (fd = 0; fd <= m && n < FLUSH_FDS; fd++)
		if (dspan_begin(&spans[n], fd)) {
			unlock_fd(spans[n].e);
			shim_leave();
			n++;
		}
	real_fflush(NULL);
	for (i = 0; i < n; i++) {
		if (!shim_enter())
			break;
		lock_fd(spans[i].e);
		span_end(&spans[i]);
	}
}

HOOK int
fflush(FILE *fp)
{
	REAL(fflush);
	if (fp == NULL) {
		if (shim_ring() != NULL && !cdp_ring_closed(shim_ring())) {
			stdio_flush_all();
			return 0;
		}
		return real_fflush(fp);
	}
	WRAP(fp, int, real_fflush(fp));
}

HOOK int
fflush_unlocked(FILE *fp)
{
	REAL(fflush_unlocked);
	WRAP(fp, int, real_fflush_unlocked(fp));
}

HOOK int
fseek(FILE *fp, long off, int whence)
{
	REAL(fseek);
	fflush(fp);
	return real_fseek(fp, off, whence);
}

HOOK int
fseeko(FILE *fp, off_t off, int whence)
{
	REAL(fseeko64);
	fflush(fp);
	return real_fseeko64(fp, off, whence);
}

HOOK int
fseeko64(FILE *fp, off_t off, int whence)
{
	return fseeko(fp, off, whence);
}

HOOK int
fsetpos(FILE *fp, const fpos_t *pos)
{
	REAL(fsetpos64);
	fflush(fp);
	return real_fsetpos64(fp, (const fpos64_t *)pos);
}

HOOK int
fsetpos64(FILE *fp, const fpos64_t *pos)
{
	REAL(fsetpos64);
	fflush(fp);
	return real_fsetpos64(fp, pos);
}

HOOK void
rewind(FILE *fp)
{
	REAL(rewind);
	fflush(fp);
	real_rewind(fp);
}

HOOK int
fclose(FILE *fp)
{
	int fd;

	REAL(fclose);
	if (fp == NULL)
		return real_fclose(fp);
	fd = fileno_unlocked(fp);
	if (fd >= 0 && fd_get(fd) != NULL) {
		fflush(fp);
		fd_forget(fd);
	}
	return real_fclose(fp);
}

/* What fopen's mode string means for open(2). */
static int
mode_flags(const char *mode)
{
	int f = 0;

	switch (mode[0]) {
	case 'w':
		f = O_CREAT | O_TRUNC;
		break;
	case 'a':
		f = O_CREAT | O_APPEND;
		break;
	}
	if (strchr(mode, 'x'))
		f |= O_EXCL;
	return f;
}

/*
 * open_begin/open_end: journal CREATE or TRUNCATE for an open that libc
 * makes itself, as open_common() in preload_io.c does.
 */
struct fopen_ctx {
	int		 active;
	int		 existed;
	int		 flags;
	uint64_t	 ikey;
};

static void
open_begin(struct fopen_ctx *c, const char *path, const char *mode)
{
	struct stat st;

	c->flags = mode_flags(mode);
	c->ikey = 0;
	c->active = shim_enter();
	if (!c->active)
		return;
	if (!(c->flags & (O_CREAT | O_TRUNC))) {
		c->existed = 1;
		return;
	}
	lock_ns();
	c->existed = stat(path, &st) == 0;
	if (c->existed && (c->flags & O_TRUNC) && S_ISREG(st.st_mode)) {
		c->ikey = cdp_ring_inode_key(st.st_dev, st.st_ino);
		cdp_ring_lock(shim_ring(), c->ikey, shim_tid());
	}
}

static void
open_end(struct fopen_ctx *c, FILE *fp)
{
	const struct fdent *e;
	struct emit em = { 0 };
	struct stat st;
	int saved = errno;

	if (!c->active)
		return;
	if (fp != NULL && (e = fd_track(fileno_unlocked(fp))) != NULL &&
	    (e->flags & FD_REG)) {
		em.path = e->path;
		if (!c->existed && fstat(fileno_unlocked(fp), &st) == 0) {
			em.mode = st.st_mode & 07777;
			emit(CDP_T_CREATE, &em);
			emit_owner(e->path, &st);
		} else if (c->existed && (c->flags & O_TRUNC))
			emit(CDP_T_TRUNCATE, &em);
	}
	if (c->ikey != 0)
		cdp_ring_unlock(shim_ring(), c->ikey);
	if (c->flags & (O_CREAT | O_TRUNC))
		unlock_ns();
	shim_leave();
	errno = saved;
}

HOOK FILE *
fopen64(const char *path, const char *mode)
{
	struct fopen_ctx c;
	FILE *fp;

	REAL(fopen64);
	open_begin(&c, path, mode);
	fp = real_fopen64(path, mode);
	open_end(&c, fp);
	return fp;
}

HOOK FILE *
fopen(const char *path, const char *mode)
{
	return fopen64(path, mode);
}

HOOK FILE *
freopen64(const char *path, const char *mode, FILE *fp)
{
	struct fopen_ctx c;
	FILE *r;
	int fd;

	REAL(freopen64);
	if (fp != NULL && (fd = fileno_unlocked(fp)) >= 0 &&
	    fd_get(fd) != NULL) {
		fflush(fp);
		fd_forget(fd);
	}
	if (path == NULL)
		return real_freopen64(path, mode, fp);
	open_begin(&c, path, mode);
	r = real_freopen64(path, mode, fp);
	open_end(&c, r);
	return r;
}

HOOK FILE *
freopen(const char *path, const char *mode, FILE *fp)
{
	return freopen64(path, mode, fp);
}
