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
 * Zero [off, end), which lies within the file: a hole where the
 * filesystem can punch one (no space used), written zeros otherwise.
 */
static int
zero_range(int fd, off_t off, off_t end)
{
	static const uint8_t zeros[65536];

	if (off >= end || fallocate(fd, FALLOC_FL_PUNCH_HOLE |
	    FALLOC_FL_KEEP_SIZE, off, end - off) == 0)
		return 0;
	while (off < end) {
		size_t n = end - off < (off_t)sizeof(zeros) ?
		    (size_t)(end - off) : sizeof(zeros);
		ssize_t w = pwrite(fd, zeros, n, off);

		if (w == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		off += w;
	}
	return 0;
}

/* Copy [src, src + len) to dst, which may overlap, in chunks. */
static int
move_range(int fd, off_t src, off_t dst, off_t len)
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
