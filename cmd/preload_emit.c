/*
 * preload_emit.c: records into the ring.
 *
 * Callers hold the lock of what they changed; a change that needs several
 * records (a write split in CDP_RING_DATA_MAX parts, a file snapshot)
 * reserves and commits them one after another under that lock, so that the
 * consumer can drain each part while the next is written and a record is
 * never bigger than a quarter of the ring.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "preload_shim.h"

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static size_t
slen(const char *s)
{
	return s != NULL ? strlen(s) : 0;
}

/* Reserve and fill in everything but the data; NULL: tap gone. */
static struct cdp_ring_rec *
start(uint16_t type, const struct emit *e, size_t data_len, char **data)
{
	size_t pl = slen(e->path), p2l = slen(e->path2), nl = slen(e->name);
	struct cdp_ring_rec *r;
	char *s;

	r = cdp_ring_reserve(shim_ring(), shim_tid(), pl + p2l + nl, data_len);
	if (r == NULL)
		return NULL;
	r->type = type;
	r->path_len = (uint16_t)pl;
	r->path2_len = (uint16_t)p2l;
	r->name_len = (uint16_t)nl;
	r->data_len = (uint32_t)data_len;
	r->mode = e->mode;
	r->rflags = e->rflags;
	r->uid = e->uid;
	r->gid = e->gid;
	r->time_ns = now_ns();
	r->atime_ns = e->atime_ns;
	r->mtime_ns = e->mtime_ns;
	r->off = e->off;
	r->len2 = e->len2;
	s = r->bytes;
	memcpy(s, e->path, pl);
	s += pl;
	if (p2l)
		memcpy(s, e->path2, p2l);
	s += p2l;
	if (nl)
		memcpy(s, e->name, nl);
	*data = s + nl;
	return r;
}

void
emit(uint16_t type, const struct emit *e)
{
	struct cdp_ring_rec *r;
	char *d;
	int i;

	if ((r = start(type, e, e->data_len, &d)) == NULL)
		return;
	for (i = 0; i < e->iovcnt; i++) {
		memcpy(d, e->iov[i].iov_base, e->iov[i].iov_len);
		d += e->iov[i].iov_len;
	}
	cdp_ring_commit(shim_ring(), r);
}

void
emit_write(const char *path, uint64_t off, const struct iovec *iov,
    int iovcnt, size_t total)
{
	struct emit e = { .path = path };
	struct cdp_ring_rec *r;
	size_t done = 0, skip = 0, n, k;
	char *d;
	int i = 0;

	(void)iovcnt;	/* total never exceeds what iov holds */
	while (done < total) {
		n = total - done;
		if (n > CDP_RING_DATA_MAX)
			n = CDP_RING_DATA_MAX;
		e.off = off + done;
		if ((r = start(CDP_T_WRITE, &e, n, &d)) == NULL)
			return;
		for (k = 0; k < n; ) {
			size_t c = iov[i].iov_len - skip;

			if (c > n - k)
				c = n - k;
			memcpy(d + k, (const char *)iov[i].iov_base + skip, c);
			k += c;
			skip += c;
			if (skip == iov[i].iov_len) {
				i++;
				skip = 0;
			}
		}
		cdp_ring_commit(shim_ring(), r);
		done += n;
	}
}

/*
 * A descriptor to read fd's file with: fd itself, or (write-only) the
 * file opened again through /proc; -1 if neither works.
 */
static int
readable(int fd)
{
	char proc[64];
	int fl = fcntl(fd, F_GETFL);

	if (fl != -1 && (fl & O_ACCMODE) != O_WRONLY)
		return fd;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	return open(proc, O_RDONLY | O_CLOEXEC);
}

void
emit_readback(const char *path, int fd, uint64_t off, uint64_t len)
{
	struct emit e = { .path = path };
	struct cdp_ring_rec *r;
	uint64_t done = 0;
	ssize_t got;
	size_t n;
	char *d;
	int rfd;

	if (len == 0 || (rfd = readable(fd)) == -1)
		return;
	while (done < len) {
		n = len - done > CDP_RING_DATA_MAX ? CDP_RING_DATA_MAX :
		    (size_t)(len - done);
		e.off = off + done;
		if ((r = start(CDP_T_WRITE, &e, n, &d)) == NULL)
			break;
		got = pread(rfd, d, n, (off_t)(off + done));
		if (got < (ssize_t)n) {
			/*
			 * The file shrank meanwhile: say what it holds (an
			 * empty WRITE, a no-op, if nothing).
			 */
			r->data_len = got > 0 ? (uint32_t)got : 0;
			cdp_ring_commit(shim_ring(), r);
			break;
		}
		cdp_ring_commit(shim_ring(), r);
		done += n;
	}
	if (rfd != fd)
		close(rfd);
}

void
emit_fsync(const char *path, uint32_t flags)
{
	struct emit e = { .path = path, .rflags = flags };

	emit(CDP_T_FSYNC, &e);
	cdp_ring_kick(shim_ring());
}

/*
 * name (in dirfd) just appeared at rel from outside the root (moved in,
 * or linked from an O_TMPFILE): journal it as if it had been created here.
 * Directories are not walked; CAVEATS in cdp-tap(1) says so.
 */
void
emit_snapshot(const char *rel, int dirfd, const char *name)
{
	struct emit e = { .path = rel };
	struct stat st;
	char target[CDP_PATH_MAX + 1];
	ssize_t n;
	int fd;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return;
	if (S_ISLNK(st.st_mode)) {
		n = readlinkat(dirfd, name, target, sizeof(target) - 1);
		if (n <= 0)
			return;
		target[n] = '\0';
		e.path2 = target;
		emit(CDP_T_SYMLINK, &e);
		return;
	}
	if (S_ISDIR(st.st_mode)) {
		e.mode = st.st_mode & 07777;
		emit(CDP_T_MKDIR, &e);
		return;
	}
	if (!S_ISREG(st.st_mode))
		return;
	e.mode = st.st_mode & 07777;
	emit(CDP_T_CREATE, &e);
	if ((fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) != -1) {
		emit_readback(rel, fd, 0, (uint64_t)st.st_size);
		close(fd);
	}
	e.rflags = CDP_ATTR_MODE | CDP_ATTR_MTIME;
	e.mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 +
	    st.st_mtim.tv_nsec;
	emit(CDP_T_SETATTR, &e);
}

void
emit_owner(const char *path, const struct stat *st)
{
	struct emit e = { .path = path };
	uint32_t uid, gid;

	cdp_ring_owner(shim_ring(), &uid, &gid);
	if (st->st_uid == uid && st->st_gid == gid)
		return;
	e.rflags = CDP_ATTR_UID | CDP_ATTR_GID | CDP_ATTR_MODE;
	e.mode = st->st_mode & 07777;
	e.uid = st->st_uid;
	e.gid = st->st_gid;
	emit(CDP_T_SETATTR, &e);
}

void
lock_fd(const struct fdent *e)
{
	cdp_ring_lock(shim_ring(), fd_key(e), shim_tid());
}

void
unlock_fd(const struct fdent *e)
{
	cdp_ring_unlock(shim_ring(), fd_key(e));
}

void
lock_ns(void)
{
	cdp_ring_lock(shim_ring(), CDP_RING_LOCK_NS, shim_tid());
}

void
unlock_ns(void)
{
	cdp_ring_unlock(shim_ring(), CDP_RING_LOCK_NS);
}
