/*
 * cdp_ring.c: the shared-memory ring of cdp-tap (see cdp_ring.h).
 *
 * Built into libcommon for cdp-tap and, position-independent, into the
 * preload shim, so it uses nothing but libc and raw futexes: the shim may
 * run inside any program, with any uid, in any thread.
 *
 * Why a single ring with a compare-and-swap head and not one ring per
 * thread: the position in one stream *is* the journal order, so the
 * consumer never merges, and a record costs one atomic when uncontended.
 * Producers never wait for the consumer except when the ring is full.  The
 * consumer polls (every few milliseconds) rather than being woken per
 * record; producers wake it only when the ring fills up or on request, so
 * the hot path stays free of system calls.
 */
#include <sys/mman.h>
#include <sys/syscall.h>
#include <linux/futex.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cdp_record.h"
#include "cdp_ring.h"

#define RING_MAGIC	"cdpring1"
#define HDR_AREA	(64u * 1024)	/* the shared header, before the data */
#define STRIPES		256
#define REC_HDR		((uint32_t)sizeof(struct cdp_ring_rec))
#define WAITERS_BIT	0x80000000u
#define WAIT_MS		50		/* producers re-check the tap this often */
#define STUCK_MS	200		/* consumer checks a stalled record */
/*
 * The consumer hands space back after this many bytes even in the middle
 * of a burst, so that a producer waiting on a full ring resumes after a
 * quarter of it is drained, not after the whole ring is: producer and
 * consumer then overlap instead of taking turns (draining the whole ring
 * first halved the speed of 1 MiB writes, or worse).  A quarter, not less,
 * so that a waiting producer is woken a few times per ring, not per record:
 * on a busy machine every wake-up is a context switch.
 */
#define RELEASE_BYTES	(CDP_RING_SIZE / 4)
/* A sleeping consumer is woken once this much is waiting for it. */
#define KICK_BYTES	(CDP_RING_SIZE / 8)

struct shared {
	char			 magic[8];
	uint32_t		 size;
	uint32_t		 pad0;
	_Alignas(64) _Atomic uint64_t head;	/* reserved up to here */
	_Alignas(64) _Atomic uint64_t tail;	/* released up to here */
	_Alignas(64) _Atomic uint32_t closed;
	_Atomic uint32_t	 space_seq;	/* futex: tail moved */
	_Atomic uint32_t	 space_waiters;
	_Alignas(64) _Atomic uint32_t data_seq;	/* futex: records committed */
	_Atomic uint32_t	 sleeping;	/* the consumer waits on data_seq */
	uint32_t		 owner_uid;	/* the tap's: new files of */
	uint32_t		 owner_gid;	/* others get a SETATTR */
	_Alignas(64) _Atomic uint32_t locks[STRIPES][16];	/* one per cache line */
};

struct cdp_ring {
	struct shared	*sh;
	uint8_t		*data;
	size_t		 map_len;
	int		 memfd;
	int		 alive_rd;
	int		 alive_wr;	/* consumer only */
	int		 dead;		/* producer: the tap is gone */
	uint64_t	 rpos;		/* consumer: next record to read */
	uint64_t	 released;	/* consumer: tail as last stored */
	uint64_t	 stuck_pos;
	int64_t		 stuck_since;
	uint64_t	 lost;
};

static long
futex(_Atomic uint32_t *uaddr, int op, uint32_t val, int timeout_ms)
{
	struct timespec ts, *tp = NULL;

	if (timeout_ms >= 0) {
		ts.tv_sec = timeout_ms / 1000;
		ts.tv_nsec = (long)(timeout_ms % 1000) * 1000000;
		tp = &ts;
	}
	return syscall(SYS_futex, uaddr, op, val, tp, NULL, 0);
}

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static size_t
align8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

static struct cdp_ring *
map_region(int memfd)
{
	struct cdp_ring *r;
	void *p;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->map_len = HDR_AREA + CDP_RING_SIZE;
	p = mmap(NULL, r->map_len, PROT_READ | PROT_WRITE, MAP_SHARED, memfd,
	    0);
	if (p == MAP_FAILED) {
		free(r);
		return NULL;
	}
	r->sh = p;
	r->data = (uint8_t *)p + HDR_AREA;
	r->memfd = memfd;
	r->alive_rd = r->alive_wr = -1;
	return r;
}

struct cdp_ring *
cdp_ring_attach(int memfd, int alive_fd)
{
	struct cdp_ring *r;
	off_t size = lseek(memfd, 0, SEEK_END);

	if (size != (off_t)(HDR_AREA + CDP_RING_SIZE)) {
		errno = EINVAL;
		return NULL;
	}
	if ((r = map_region(memfd)) == NULL)
		return NULL;
	if (memcmp(r->sh->magic, RING_MAGIC, 8) != 0 ||
	    r->sh->size != CDP_RING_SIZE) {
		cdp_ring_close(r);
		errno = EINVAL;
		return NULL;
	}
	r->alive_rd = alive_fd;
	return r;
}

/* Producer: is the tap still there?  A poll(2), so only when waiting. */
static int
tap_gone(struct cdp_ring *r)
{
	struct pollfd pfd = { r->alive_rd, POLLIN, 0 };

	if (r->dead || atomic_load(&r->sh->closed))
		return 1;
	if (poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLHUP | POLLERR |
	    POLLNVAL)))
		r->dead = 1;
	return r->dead;
}

void
cdp_ring_owner(const struct cdp_ring *r, uint32_t *uid, uint32_t *gid)
{
	*uid = r->sh->owner_uid;
	*gid = r->sh->owner_gid;
}

int
cdp_ring_closed(struct cdp_ring *r)
{
	return r->dead || atomic_load_explicit(&r->sh->closed,
	    memory_order_relaxed);
}

struct cdp_ring_rec *
cdp_ring_reserve(struct cdp_ring *r, uint32_t tid, size_t strings,
    size_t data)
{
	struct shared *sh = r->sh;
	size_t len = align8(REC_HDR + strings + data);
	uint64_t h, t, skip, pos;
	struct cdp_ring_rec *rec;

	if (len > CDP_RING_SIZE / 4) {
		errno = EMSGSIZE;
		return NULL;
	}
	for (;;) {
		if (cdp_ring_closed(r))
			return NULL;
		h = atomic_load_explicit(&sh->head, memory_order_relaxed);
		t = atomic_load_explicit(&sh->tail, memory_order_acquire);
		skip = 0;
		if (CDP_RING_SIZE - h % CDP_RING_SIZE < len)
			skip = CDP_RING_SIZE - h % CDP_RING_SIZE;
		if (h + skip + len - t > CDP_RING_SIZE) {
			/* Full: sleep until the consumer releases space. */
			uint32_t seq = atomic_load(&sh->space_seq);

			atomic_fetch_add(&sh->space_waiters, 1);
			if (atomic_load(&sh->tail) == t &&
			    futex(&sh->space_seq, FUTEX_WAIT, seq, WAIT_MS) ==
			    -1 && errno == ETIMEDOUT)
				tap_gone(r);
			atomic_fetch_sub(&sh->space_waiters, 1);
			continue;
		}
		if (atomic_compare_exchange_weak(&sh->head, &h, h + skip + len))
			break;
	}
	if (skip >= REC_HDR) {
		/* Padding to the end of the data area, published at once. */
		rec = (struct cdp_ring_rec *)(r->data + h % CDP_RING_SIZE);
		rec->rstamp = h;
		rec->len = (uint32_t)skip;
		rec->type = 0;
		atomic_store_explicit((_Atomic uint64_t *)&rec->cstamp, h,
		    memory_order_release);
	}
	pos = h + skip;
	rec = (struct cdp_ring_rec *)(r->data + pos % CDP_RING_SIZE);
	rec->len = (uint32_t)len;
	rec->tid = tid;
	atomic_store_explicit((_Atomic uint64_t *)&rec->rstamp, pos,
	    memory_order_release);
	return rec;
}

void
cdp_ring_commit(struct cdp_ring *r, struct cdp_ring_rec *rec)
{
	struct shared *sh = r->sh;
	uint64_t used;

	atomic_store_explicit((_Atomic uint64_t *)&rec->cstamp, rec->rstamp,
	    memory_order_release);
	atomic_fetch_add_explicit(&sh->data_seq, 1, memory_order_release);
	/* Wake a sleeping consumer only when space starts to run short. */
	if (atomic_load_explicit(&sh->sleeping, memory_order_relaxed)) {
		used = atomic_load(&sh->head) - atomic_load(&sh->tail);
		if (used > KICK_BYTES)
			cdp_ring_kick(r);
	}
}

void
cdp_ring_kick(struct cdp_ring *r)
{
	struct shared *sh = r->sh;

	atomic_fetch_add(&sh->data_seq, 1);
	if (atomic_exchange(&sh->sleeping, 0))
		futex(&sh->data_seq, FUTEX_WAKE, 1, -1);
}

uint64_t
cdp_ring_inode_key(uint64_t dev, uint64_t ino)
{
	uint64_t k = (dev * 0x9e3779b97f4a7c15ull) ^ (ino * 0xc2b2ae3d27d4eb4full);

	return k | 1;	/* never CDP_RING_LOCK_NS */
}

static _Atomic uint32_t *
stripe(struct cdp_ring *r, uint64_t key)
{
	unsigned i;

	if (key == CDP_RING_LOCK_NS)
		i = 0;
	else
		i = 1 + (unsigned)((key ^ (key >> 29) ^ (key >> 47)) %
		    (STRIPES - 1));
	return &r->sh->locks[i][0];
}

static int
thread_dead(uint32_t tid)
{
	return kill((pid_t)tid, 0) == -1 && errno == ESRCH;
}

void
cdp_ring_lock(struct cdp_ring *r, uint64_t key, uint32_t tid)
{
	_Atomic uint32_t *w = stripe(r, key);
	uint32_t c = 0;
	int saved = errno;

	if (atomic_compare_exchange_strong(w, &c, tid))
		return;
	for (;;) {
		if (c == 0) {
			if (atomic_compare_exchange_strong(w, &c,
			    tid | WAITERS_BIT))
				break;
			continue;
		}
		if (!(c & WAITERS_BIT)) {
			if (!atomic_compare_exchange_strong(w, &c,
			    c | WAITERS_BIT))
				continue;
			c |= WAITERS_BIT;
		}
		if (futex(w, FUTEX_WAIT, c, WAIT_MS) == -1 &&
		    errno == ETIMEDOUT && thread_dead(c & ~WAITERS_BIT)) {
			/* The owner was killed inside its critical section. */
			if (atomic_compare_exchange_strong(w, &c,
			    tid | WAITERS_BIT))
				break;
			continue;
		}
		c = atomic_load(w);
	}
	errno = saved;
}

void
cdp_ring_unlock(struct cdp_ring *r, uint64_t key)
{
	_Atomic uint32_t *w = stripe(r, key);
	int saved = errno;

	if (atomic_exchange(w, 0) & WAITERS_BIT)
		futex(w, FUTEX_WAKE, 1, -1);
	errno = saved;
}

/* Consumer side. */

/* fd moved to a number at or above HIGH_FD if the limit allows. */
#define HIGH_FD	512

static int
high_fd(int fd)
{
	int n = fcntl(fd, F_DUPFD, HIGH_FD);

	if (n == -1)
		return fd;
	close(fd);
	return n;
}

struct cdp_ring *
cdp_ring_create(void)
{
	struct cdp_ring *r;
	int memfd, p[2], e;

	if ((memfd = memfd_create("cdp-tap", 0)) == -1)
		return NULL;
	if (ftruncate(memfd, HDR_AREA + CDP_RING_SIZE) == -1 ||
	    (r = map_region(memfd)) == NULL) {
		e = errno;
		close(memfd);
		errno = e;
		return NULL;
	}
	if (pipe(p) == -1) {
		e = errno;
		cdp_ring_close(r);
		errno = e;
		return NULL;
	}
	/* Only the read end is inherited; the tap alone holds the other. */
	fcntl(p[1], F_SETFD, FD_CLOEXEC);
	fcntl(p[1], F_SETFL, O_NONBLOCK);
	/* The inherited ones go high, out of the way of programs' numbers. */
	r->memfd = high_fd(memfd);
	p[0] = high_fd(p[0]);
	r->alive_rd = p[0];
	r->alive_wr = p[1];
	memcpy(r->sh->magic, RING_MAGIC, 8);
	r->sh->size = CDP_RING_SIZE;
	r->sh->owner_uid = (uint32_t)geteuid();
	r->sh->owner_gid = (uint32_t)getegid();
	return r;
}

int
cdp_ring_memfd(const struct cdp_ring *r)
{
	return r->memfd;
}

int
cdp_ring_alive_fd(const struct cdp_ring *r)
{
	return r->alive_rd;
}

void
cdp_ring_parent_close(struct cdp_ring *r)
{
	if (r->alive_rd != -1)
		close(r->alive_rd);
	r->alive_rd = -1;
}

int
cdp_ring_orphaned(struct cdp_ring *r)
{
	struct pollfd pfd = { r->alive_wr, POLLOUT, 0 };

	return r->alive_wr != -1 && poll(&pfd, 1, 0) == 1 &&
	    (pfd.revents & POLLERR);
}

/*
 * The record at rpos is not committed.  If its producer died after
 * reserving it, skip it; if the producer died before it even wrote the
 * header and nobody is left, the stream cannot go on.
 */
static int
stalled(struct cdp_ring *r, struct cdp_ring_rec *rec, uint64_t pos)
{
	uint64_t rs = atomic_load((_Atomic uint64_t *)&rec->rstamp);
	int64_t now = mono_ms();

	if (r->stuck_pos != pos) {
		r->stuck_pos = pos;
		r->stuck_since = now;
		return 0;
	}
	if (now - r->stuck_since < STUCK_MS)
		return 0;
	r->stuck_since = now;
	if (rs == pos && rec->len >= REC_HDR && rec->len % 8 == 0 &&
	    rec->len <= CDP_RING_SIZE - pos % CDP_RING_SIZE &&
	    rec->tid != 0 && thread_dead(rec->tid)) {
		r->lost++;
		r->rpos = pos + rec->len;
		return 1;
	}
	if (rs != pos && cdp_ring_orphaned(r)) {
		errno = EPIPE;
		return -1;
	}
	return 0;
}

int
cdp_ring_next(struct cdp_ring *r, const struct cdp_ring_rec **out,
    int timeout_ms)
{
	struct shared *sh = r->sh;
	struct cdp_ring_rec *rec;
	uint64_t pos, p;
	uint32_t seq;
	int waited = 0, s;

	for (;;) {
		pos = r->rpos;
		p = pos % CDP_RING_SIZE;
		if (pos != atomic_load(&sh->head) &&
		    CDP_RING_SIZE - p < REC_HDR) {
			r->rpos += CDP_RING_SIZE - p;	/* implicit skip */
			continue;
		}
		rec = (struct cdp_ring_rec *)(r->data + p);
		if (pos != atomic_load(&sh->head)) {
			if (atomic_load_explicit((_Atomic uint64_t *)
			    &rec->cstamp, memory_order_acquire) == pos) {
				if (rec->type == 0) {
					r->rpos += rec->len;
					continue;
				}
				*out = rec;
				return 1;
			}
			if ((s = stalled(r, rec, pos)) == -1)
				return -1;
			if (s == 1)
				continue;
		}
		if (waited || timeout_ms == 0)
			return 0;
		/* Sleep until kicked or the timeout; then look once more. */
		seq = atomic_load(&sh->data_seq);
		atomic_store(&sh->sleeping, 1);
		if (pos == atomic_load(&sh->head) || atomic_load_explicit(
		    (_Atomic uint64_t *)&rec->cstamp, memory_order_acquire) !=
		    pos)
			futex(&sh->data_seq, FUTEX_WAIT, seq, timeout_ms);
		atomic_store(&sh->sleeping, 0);
		waited = 1;
	}
}

void
cdp_ring_consume(struct cdp_ring *r, const struct cdp_ring_rec *rec)
{
	r->rpos += rec->len;
	if (r->rpos - r->released >= RELEASE_BYTES)
		cdp_ring_release(r);
}

void
cdp_ring_release(struct cdp_ring *r)
{
	struct shared *sh = r->sh;

	if (r->released == r->rpos)
		return;
	r->released = r->rpos;
	atomic_store_explicit(&sh->tail, r->rpos, memory_order_release);
	if (atomic_load(&sh->space_waiters) > 0) {
		atomic_fetch_add(&sh->space_seq, 1);
		futex(&sh->space_seq, FUTEX_WAKE, INT32_MAX, -1);
	}
}

uint64_t
cdp_ring_head(const struct cdp_ring *r)
{
	return atomic_load(&r->sh->head);
}

uint64_t
cdp_ring_tail(const struct cdp_ring *r)
{
	return r->rpos;
}

uint64_t
cdp_ring_lost(const struct cdp_ring *r)
{
	return r->lost;
}

void
cdp_ring_shut(struct cdp_ring *r)
{
	struct shared *sh = r->sh;

	atomic_store(&sh->closed, 1);
	atomic_fetch_add(&sh->space_seq, 1);
	futex(&sh->space_seq, FUTEX_WAKE, INT32_MAX, -1);
}

void
cdp_ring_close(struct cdp_ring *r)
{
	if (r == NULL)
		return;
	munmap(r->sh, r->map_len);
	if (r->alive_wr != -1) {
		/* The tap: its descriptors are its own. */
		close(r->alive_wr);
		if (r->alive_rd != -1)
			close(r->alive_rd);
		close(r->memfd);
	}
	free(r);
}

int
cdp_ring_to_record(const struct cdp_ring_rec *r, struct cdp_record *rec)
{
	const char *s = r->bytes;
	size_t total = (size_t)r->path_len + r->path2_len + r->name_len +
	    r->data_len;

	if (total > r->len - REC_HDR || r->path_len > CDP_PATH_MAX ||
	    r->path2_len > CDP_PATH_MAX || r->name_len > CDP_NAME_MAX) {
		errno = EBADMSG;
		return -1;
	}
	rec->type = r->type;
	rec->flags = 0;
	rec->seq = 0;
	rec->time_ns = r->time_ns;
	rec->mode = r->mode;
	rec->rflags = r->rflags;
	rec->uid = r->uid;
	rec->gid = r->gid;
	rec->atime_ns = r->atime_ns;
	rec->mtime_ns = r->mtime_ns;
	rec->off = r->off;
	rec->len = r->len2;
	memcpy(rec->path, s, r->path_len);
	rec->path[r->path_len] = '\0';
	s += r->path_len;
	memcpy(rec->path2, s, r->path2_len);
	rec->path2[r->path2_len] = '\0';
	s += r->path2_len;
	memcpy(rec->name, s, r->name_len);
	rec->name[r->name_len] = '\0';
	s += r->name_len;
	rec->data = (const uint8_t *)s;
	rec->data_len = r->data_len;
	return 0;
}
