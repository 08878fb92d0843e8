/*
 * cdp_treehash.c: hash a tree's regular files in a thread.
 *
 * The thread walks the tree with directory fds (never a joined path, never
 * through a symbolic link), in readdir order since the comparison looks
 * files up by inode anyway, and hashes each regular file once, however
 * many names it has.  Results go into an open-addressing table keyed by
 * (device, inode) that only the thread writes; the reader waits for the
 * thread to end (pthread_join) before it looks, so no locks are needed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * XXH3 is most of the CPU time of --tree (every byte of the tree and of
 * the journal's WRITE data).  Built for plain x86-64 it uses SSE2; where
 * libxxhash has its x86 dispatcher it picks AVX2 or AVX-512 at run time,
 * about 2.5 times as fast.  Same function, same values.
 */
#if defined(__x86_64__) && defined(__has_include)
#if __has_include(<xxh_x86dispatch.h>)
#define CDP_XXH_DISPATCH
#endif
#endif
#ifdef CDP_XXH_DISPATCH
#include <xxh_x86dispatch.h>
#else
#define XXH_INLINE_ALL
#include <xxhash.h>
#endif

#include "cdp_treehash.h"

#define READ_SIZE	((size_t)1 << 20)	/* a whole number of chunks */
#define DEPTH_MAX	256	/* deeper directories are left to the comparison */
#define SUMS_MAX	((size_t)4 << 20)	/* 64 MiB of sums: 256 GiB of files */

struct file {
	dev_t		 dev;
	ino_t		 ino;		/* 0: a free slot */
	off_t		 size;
	struct timespec	 mtim, ctim;
	size_t		 first, n;	/* its sums */
};

struct cdp_treehash {
	pthread_t	 thread;
	int		 joined;
	atomic_int	 stop;
	int		 top;		/* the tree, for the thread */
	uint8_t		*buf;

	struct file	*files;		/* table, nfiles used of cap */
	size_t		 nfiles, cap;
	struct cdp_treehash_sum *sums;
	size_t		 nsums, capsums;
};

void
cdp_treehash_sum(const void *p, size_t n, struct cdp_treehash_sum *s)
{
	XXH128_hash_t h = XXH3_128bits(p, n);

	s->lo = h.low64;
	s->hi = h.high64;
}

static size_t
slot_of(const struct cdp_treehash *t, dev_t dev, ino_t ino)
{
	uint64_t h = ((uint64_t)ino * 0x9e3779b97f4a7c15ULL) ^ (uint64_t)dev;
	size_t i = (size_t)(h ^ (h >> 29)) & (t->cap - 1);

	while (t->files[i].ino != 0 &&
	    (t->files[i].ino != ino || t->files[i].dev != dev))
		i = (i + 1) & (t->cap - 1);
	return i;
}

static int
table_grow(struct cdp_treehash *t)
{
	struct file *old = t->files;
	size_t i, ocap = t->cap;

	t->cap = ocap ? ocap * 2 : 1024;
	if ((t->files = calloc(t->cap, sizeof(*t->files))) == NULL) {
		t->files = old;
		t->cap = ocap;
		return -1;
	}
	for (i = 0; i < ocap; i++)
		if (old[i].ino != 0)
			t->files[slot_of(t, old[i].dev, old[i].ino)] = old[i];
	free(old);
	return 0;
}

static int
seen(const struct cdp_treehash *t, const struct stat *st)
{
	return t->cap > 0 &&
	    t->files[slot_of(t, st->st_dev, st->st_ino)].ino != 0;
}

static int
same_time(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

ssize_t
cdp_treehash_read(int fd, uint8_t *buf, size_t n)
{
	size_t done = 0;

	while (done < n) {
		ssize_t got = read(fd, buf + done, n - done);

		if (got == -1 && errno == EINTR)
			continue;
		if (got == -1)
			return -1;
		if (got == 0)
			break;
		done += (size_t)got;
	}
	return (ssize_t)done;
}

/* Hash open regular file fd (st: its fstat) into new sums; 0 or -1. */
static int
hash_fd(struct cdp_treehash *t, int fd, const struct stat *st)
{
	uint64_t size = (uint64_t)st->st_size, pos = 0;
	size_t n = (size_t)((size + CDP_TREEHASH_CHUNK - 1) /
	    CDP_TREEHASH_CHUNK), k = t->nsums;

	if (size / CDP_TREEHASH_CHUNK > SUMS_MAX ||
	    t->nsums + n > SUMS_MAX)
		return -1;
	if (t->nsums + n > t->capsums) {
		size_t cap = t->capsums ? t->capsums : 4096;
		struct cdp_treehash_sum *v;

		while (cap < t->nsums + n)
			cap *= 2;
		if ((v = realloc(t->sums, cap * sizeof(*v))) == NULL)
			return -1;
		t->sums = v;
		t->capsums = cap;
	}
	if (size > READ_SIZE)
		posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	while (pos < size) {
		size_t want = size - pos < READ_SIZE ? (size_t)(size - pos) :
		    READ_SIZE, off;
		ssize_t got = cdp_treehash_read(fd, t->buf, want);

		if (got != (ssize_t)want)
			return -1;	/* shrank, or unreadable */
		for (off = 0; off < want; off += CDP_TREEHASH_CHUNK)
			cdp_treehash_sum(t->buf + off, want - off <
			    CDP_TREEHASH_CHUNK ? want - off :
			    CDP_TREEHASH_CHUNK, &t->sums[k++]);
		pos += want;
	}
	return 0;
}

/*
 * No second fstat(2) after the read to see whether the file changed
 * meanwhile: the comparison's own fstatat(2) comes later, sees at least
 * as much (a change time cannot be set back), and checks it against the
 * times taken here, before the read.
 */
static void
hash_file(struct cdp_treehash *t, int dfd, const char *name)
{
	struct stat st;
	struct file *f;
	int fd;

	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1)
		return;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) || seen(t, &st) ||
	    st.st_ino == 0 || hash_fd(t, fd, &st) == -1) {
		close(fd);
		return;
	}
	close(fd);
	if ((t->nfiles + 1) * 2 > t->cap && table_grow(t) == -1)
		return;
	f = &t->files[slot_of(t, st.st_dev, st.st_ino)];
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	f->size = st.st_size;
	f->mtim = st.st_mtim;
	f->ctim = st.st_ctim;
	f->n = (size_t)((st.st_size + CDP_TREEHASH_CHUNK - 1) /
	    CDP_TREEHASH_CHUNK);
	f->first = t->nsums;
	t->nsums += f->n;
	t->nfiles++;
}

/* Walk directory dfd (closed here). */
static void
walk(struct cdp_treehash *t, int dfd, unsigned depth)
{
	struct dirent *de;
	struct stat st;
	DIR *d;

	if ((d = fdopendir(dfd)) == NULL) {
		close(dfd);
		return;
	}
	while (!atomic_load_explicit(&t->stop, memory_order_relaxed) &&
	    (de = readdir(d)) != NULL) {
		unsigned char type = de->d_type;
		int fd;

		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (type == DT_UNKNOWN) {
			if (fstatat(dirfd(d), de->d_name, &st,
			    AT_SYMLINK_NOFOLLOW) == -1)
				continue;
			type = S_ISDIR(st.st_mode) ? DT_DIR :
			    S_ISREG(st.st_mode) ? DT_REG : DT_UNKNOWN;
		}
		if (type == DT_REG)
			hash_file(t, dirfd(d), de->d_name);
		else if (type == DT_DIR && depth < DEPTH_MAX &&
		    (fd = openat(dirfd(d), de->d_name, O_RDONLY |
		    O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) != -1)
			walk(t, fd, depth + 1);
	}
	closedir(d);
}

static void *
run(void *arg)
{
	struct cdp_treehash *t = arg;

	walk(t, t->top, 0);
	t->top = -1;
	return NULL;
}

struct cdp_treehash *
cdp_treehash_start(const char *dir)
{
	struct cdp_treehash *t;
	int e;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	atomic_init(&t->stop, 0);
	/* Page aligned: the kernel copies to it much faster. */
	if ((t->buf = aligned_alloc(4096, READ_SIZE)) == NULL)
		goto fail;
	if ((t->top = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		goto fail;
	if ((e = pthread_create(&t->thread, NULL, run, t)) != 0) {
		close(t->top);
		errno = e;
		goto fail;
	}
	return t;
fail:
	e = errno;
	free(t->buf);
	free(t);
	errno = e;
	return NULL;
}

static void
join(struct cdp_treehash *t)
{
	if (!t->joined) {
		pthread_join(t->thread, NULL);
		t->joined = 1;
	}
}

const struct cdp_treehash_sum *
cdp_treehash_find(struct cdp_treehash *t, const struct stat *st, size_t *n)
{
	const struct file *f;

	join(t);
	if (t->cap == 0)
		return NULL;
	f = &t->files[slot_of(t, st->st_dev, st->st_ino)];
	if (f->ino == 0 || f->size != st->st_size ||
	    !same_time(&f->mtim, &st->st_mtim) ||
	    !same_time(&f->ctim, &st->st_ctim))
		return NULL;
	*n = f->n;
	return t->sums + f->first;
}

void
cdp_treehash_free(struct cdp_treehash *t)
{
	if (t == NULL)
		return;
	atomic_store(&t->stop, 1);
	join(t);
	free(t->buf);
	free(t->files);
	free(t->sums);
	free(t);
}
