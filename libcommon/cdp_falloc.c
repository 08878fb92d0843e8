/*
 * cdp_falloc.c: fallocate(2) modes as content.
 *
 * A journal's FALLOCATE records content (zeros, bytes moved), never
 * allocation, and its range is untrusted: a 3-byte file may come with a
 * range of 2^62 bytes.  So the filesystem's fallocate() is used only for
 * the modes that free space or move extents; every other mode is done as
 * content, with work proportional to the file's real data at most.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/stat.h>

#include "cdp_falloc.h"

#ifndef FALLOC_FL_KEEP_SIZE
#define FALLOC_FL_KEEP_SIZE	0x01
#define FALLOC_FL_PUNCH_HOLE	0x02
#define FALLOC_FL_COLLAPSE_RANGE 0x08
#define FALLOC_FL_ZERO_RANGE	0x10
#define FALLOC_FL_INSERT_RANGE	0x20
#define FALLOC_FL_UNSHARE_RANGE	0x40
#endif

/*
 * Where the file has data in [off, end): at *a the next extent at or
 * after off, ending at *b.  1, or 0 when there is none (then *a is end).
 * A file system that cannot tell (lseek(2) fails other than with ENXIO,
 * as some FUSE servers do) has data everywhere.
 */
static int
next_data(int fd, off_t off, off_t end, off_t *a, off_t *b)
{
	off_t d, h;

	*a = *b = end;
	if (off >= end)
		return 0;
	if ((d = lseek(fd, off, SEEK_DATA)) == -1 && errno == ENXIO)
		return 0;
	if (d == -1)
		d = off;
	if (d >= end)
		return 0;
	if ((h = lseek(fd, d, SEEK_HOLE)) == -1 || h <= d || h > end)
		h = end;
	*a = d;
	*b = h;
	return 1;
}

/*
 * Zero [off, end), which lies within the file: a hole where the
 * filesystem can punch one (no space used), else zeros written over the
 * data there, so that a huge sparse range costs no more than its data.
 */
static int
zero_range(int fd, off_t off, off_t end)
{
	static const uint8_t zeros[65536];
	off_t a, b;

	if (off >= end || fallocate(fd, FALLOC_FL_PUNCH_HOLE |
	    FALLOC_FL_KEEP_SIZE, off, end - off) == 0)
		return 0;
	while (next_data(fd, off, end, &a, &b) == 1) {
		while (a < b) {
			size_t n = b - a < (off_t)sizeof(zeros) ?
			    (size_t)(b - a) : sizeof(zeros);
			ssize_t w = pwrite(fd, zeros, n, a);

			if (w == -1) {
				if (errno == EINTR)
					continue;
				return -1;
			}
			a += w;
		}
		off = b;
	}
	return 0;
}

/* Copy [src, src + len) to dst, which may overlap, in chunks. */
static int
copy_range(int fd, off_t src, off_t dst, off_t len)
{
	static uint8_t buf[1 << 20];
	off_t done = 0;

	while (done < len) {
		off_t n = len - done < (off_t)sizeof(buf) ? len - done :
		    (off_t)sizeof(buf);
		/* Moving up, copy from the end so nothing is overwritten. */
		off_t at = dst > src ? len - done - n : done;
		ssize_t got = pread(fd, buf, (size_t)n, src + at);

		if (got != (ssize_t)n) {
			if (got >= 0)
				errno = EIO;
			return -1;
		}
		if (pwrite(fd, buf, (size_t)n, dst + at) != (ssize_t)n)
			return -1;
		done += n;
	}
	return 0;
}

/* The pieces of a range: data extents, and the holes between them. */
struct piece {
	off_t		 off, end;
	int		 data;
};

/*
 * Move [src, src + len) to dst, which may overlap: data is copied, and
 * where the source has a hole the destination gets one (zero_range()).
 * The pieces are listed before anything is written, and taken in the
 * order of the move (from the end when moving up), so that no piece is
 * overwritten before it has moved.  Work and space are those of the
 * data: a huge sparse file moves as fast as a small one.
 */
static int
move_range(int fd, off_t src, off_t dst, off_t len)
{
	struct piece *p = NULL, *np;
	size_t n = 0, cap = 0, i, k;
	off_t at = src, a, b, d = dst - src;
	int rc;

	do {
		rc = next_data(fd, at, src + len, &a, &b);
		if (n + 2 > cap) {
			cap = cap ? cap * 2 : 16;
			if ((np = realloc(p, cap * sizeof(*p))) == NULL) {
				rc = -1;
				break;
			}
			p = np;
		}
		if (a > at)
			p[n++] = (struct piece){ at, a, 0 };
		if (rc == 1)
			p[n++] = (struct piece){ a, b, 1 };
		at = b;
	} while (rc == 1 && at < src + len);
	for (k = 0; rc != -1 && k < n; k++) {
		i = d > 0 ? n - 1 - k : k;
		rc = p[i].data ? copy_range(fd, p[i].off, p[i].off + d,
		    p[i].end - p[i].off) : zero_range(fd, p[i].off + d,
		    p[i].end + d);
	}
	free(p);
	return rc == -1 ? -1 : 0;
}

/*
 * What fallocate(2) would leave, for filesystems that cannot do the mode
 * (or not at this alignment): the content is the state; the allocation
 * is not.  Only bytes inside the file are ever written, so a huge range
 * costs no more than the file's size.
 */
int
cdp_falloc_emulate(int fd, uint32_t mode, off_t off, off_t end)
{
	struct stat st;
	off_t size;

	if (fstat(fd, &st) == -1)
		return -1;
	size = st.st_size;
	switch (mode) {
	case 0:
	case FALLOC_FL_UNSHARE_RANGE:
		return size < end ? ftruncate(fd, end) : 0;
	case FALLOC_FL_KEEP_SIZE:
	case FALLOC_FL_UNSHARE_RANGE | FALLOC_FL_KEEP_SIZE:
		return 0;
	case FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE:
	case FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE:
		return zero_range(fd, off, end < size ? end : size);
	case FALLOC_FL_ZERO_RANGE:
		if (zero_range(fd, off, end < size ? end : size) == -1)
			return -1;
		return size < end ? ftruncate(fd, end) : 0;
	case FALLOC_FL_COLLAPSE_RANGE:
		if (end >= size) {
			errno = EINVAL;
			return -1;
		}
		if (move_range(fd, end, off, size - end) == -1)
			return -1;
		return ftruncate(fd, size - (end - off));
	case FALLOC_FL_INSERT_RANGE:
		if (off >= size || end - off > INT64_MAX - size) {
			errno = off >= size ? EINVAL : EFBIG;
			return -1;
		}
		/* Past the old size the bytes are zero already. */
		if (ftruncate(fd, size + (end - off)) == -1 ||
		    move_range(fd, off, end, size - off) == -1)
			return -1;
		return zero_range(fd, off, end < size ? end : size);
	default:
		errno = EINVAL;
		return -1;
	}
}

int
cdp_falloc_apply(int fd, uint32_t mode, off_t off, off_t end)
{
	switch (mode) {
	case FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE:
	case FALLOC_FL_COLLAPSE_RANGE:
	case FALLOC_FL_INSERT_RANGE:
		/* Space freed or extents moved: nothing allocated. */
		if (fallocate(fd, (int)mode, off, end - off) == 0)
			return 0;
		break;		/* not here, or not at this alignment */
	}
	return cdp_falloc_emulate(fd, mode, off, end);
}
