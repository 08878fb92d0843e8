/*
 * cdp_treehash.c: hash a tree's regular files in a thread.
 *
 * The thread walks the tree with directory fds (never a joined path, never
 * through a symbolic link), in readdir order since the comparison looks
 * files up by inode anyway, and hashes each regular file once, however
 * many names it has.  Results go into an open-addressing table keyed by
 * (device, inode) that only the thread writes; the reader waits for the
 * thread to end (pthread_join) before it looks, so no locks are needed.
 * On the way it keeps each directory's names and each name's stat, which
 * it needs anyway (or, after reading a file, for one fstat(2) of the open
 * file): the comparison then needs no system call for most names.
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

#define READ_SIZE	((size_t)256 << 10)	/* whole chunks; fresh memory costs */
#define DEPTH_MAX	256	/* deeper directories are left to the comparison */
#define SUMS_MAX	((size_t)4 << 20)	/* 64 MiB of sums: 256 GiB of files */

struct file {
	dev_t		 dev;
	ino_t		 ino;
	off_t		 size;
	struct timespec	 mtim, ctim;
	size_t		 first, n;	/* its sums */
};

/*
 * The files are kept in the order hashed; the table holds their index
 * plus one (0: a free slot).  Small slots keep the memory the thread
 * touches for the first time small, which costs on some machines.
 */
struct cdp_treehash {
	pthread_t	 thread;
	int		 joined;
	atomic_int	 stop;
	int		 top;		/* the tree, for the thread */
	uint8_t		*buf;

	struct file	*files;		/* nfiles used of capfiles */
	size_t		 nfiles, capfiles;
	uint32_t	*slots;		/* table of cap slots */
	size_t		 cap;
	struct cdp_treehash_sum *sums;
	size_t		 nsums, capsums;
	struct cdp_treehash_dir *listing;	/* of the top directory */
};

void
cdp_treehash_sum(const void *p, size_t n, struct cdp_treehash_sum *s)
{
	XXH128_hash_t h = XXH3_128bits(p, n);

	s->lo = h.low64;
	s->hi = h.high64;
}

/* The slot of (dev, ino), or of the free slot where it would go. */
static size_t
slot_of(const struct cdp_treehash *t, dev_t dev, ino_t ino)
{
	uint64_t h = ((uint64_t)ino * 0x9e3779b97f4a7c15ULL) ^ (uint64_t)dev;
	size_t i = (size_t)(h ^ (h >> 29)) & (t->cap - 1);
	const struct file *f;

	while (t->slots[i] != 0 && ((f = &t->files[t->slots[i] - 1])->ino !=
	    ino || f->dev != dev))
		i = (i + 1) & (t->cap - 1);
	return i;
}

/* Room for one more file, in the array and in the table; 0 or -1. */
static int
table_grow(struct cdp_treehash *t)
{
	uint32_t *old = t->slots;
	size_t i, ocap = t->cap;

	if (t->nfiles == t->capfiles) {
		size_t cap = t->capfiles ? t->capfiles * 2 : 256;
		struct file *v;

		if (cap > UINT32_MAX - 1 ||
		    (v = realloc(t->files, cap * sizeof(*v))) == NULL)
			return -1;
		t->files = v;
		t->capfiles = cap;
	}
	if ((t->nfiles + 1) * 2 <= t->cap)
		return 0;
	t->cap = ocap ? ocap * 2 : 1024;
	if ((t->slots = calloc(t->cap, sizeof(*t->slots))) == NULL) {
		t->slots = old;
		t->cap = ocap;
		return -1;
	}
	for (i = 0; i < ocap; i++)
		if (old[i] != 0) {
			const struct file *f = &t->files[old[i] - 1];

			t->slots[slot_of(t, f->dev, f->ino)] = old[i];
		}
	free(old);
	return 0;
}

static int
seen(const struct cdp_treehash *t, const struct stat *st)
{
	return t->cap > 0 && t->slots[slot_of(t, st->st_dev, st->st_ino)] != 0;
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
 * Hash regular file name, and give its entry e the stat the comparison
 * is to use: one taken after the read, which the comparison checks
 * against the times taken before it (cdp_treehash_find()), so that a
 * file changed while it was read is read again.  Where this cannot tell
 * (the file could not be opened or read), e is left without a stat and
 * the comparison takes one itself.
 */
static void
hash_file(struct cdp_treehash *t, int dfd, const char *name,
    struct cdp_treehash_ent *e)
{
	struct stat st;
	struct file *f;
	int fd;

	e->have_st = 0;
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1)
		return;
	if (fstat(fd, &st) == -1) {
		close(fd);
		return;
	}
	if (!S_ISREG(st.st_mode) || seen(t, &st) || st.st_ino == 0) {
		e->st = st;	/* no read: this is the one stat */
		e->have_st = 1;
		close(fd);
		return;
	}
	if (hash_fd(t, fd, &st) == -1) {
		close(fd);
		return;
	}
	e->have_st = fstat(fd, &e->st) == 0;
	close(fd);
	if (table_grow(t) == -1)
		return;
	t->slots[slot_of(t, st.st_dev, st.st_ino)] = (uint32_t)t->nfiles + 1;
	f = &t->files[t->nfiles];
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

static void
listing_free(struct cdp_treehash_dir *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->n; i++) {
		free(l->v[i].name);
		listing_free(l->v[i].sub);
	}
	free(l->v);
	free(l);
}

/* A new entry of l named name, or NULL. */
static struct cdp_treehash_ent *
entry_new(struct cdp_treehash_dir *l, size_t *cap, const char *name)
{
	struct cdp_treehash_ent *e;

	if (l->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;

		if ((e = realloc(l->v, ncap * sizeof(*e))) == NULL)
			return NULL;
		l->v = e;
		*cap = ncap;
	}
	e = &l->v[l->n];
	memset(e, 0, sizeof(*e));
	if ((e->name = strdup(name)) == NULL)
		return NULL;
	l->n++;
	return e;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(((const struct cdp_treehash_ent *)a)->name,
	    ((const struct cdp_treehash_ent *)b)->name);
}

static struct cdp_treehash_dir *walk(struct cdp_treehash *, int, unsigned);

/* Directory entry e (named name, in dfd): its stat, its listing. */
static void
walk_dir(struct cdp_treehash *t, int dfd, const char *name,
    struct cdp_treehash_ent *e, unsigned depth)
{
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);

	e->have_st = 0;
	if (fd == -1)
		return;
	if (fstat(fd, &e->st) == -1) {
		close(fd);
		return;
	}
	e->have_st = 1;
	if (depth < DEPTH_MAX)
		e->sub = walk(t, fd, depth + 1);
	else
		close(fd);
}

/*
 * Walk directory dfd (closed here): its listing, or NULL if it could not
 * be listed whole (or the scan was stopped).
 */
static struct cdp_treehash_dir *
walk(struct cdp_treehash *t, int dfd, unsigned depth)
{
	struct cdp_treehash_dir *l;
	struct dirent *de;
	struct stat st;
	size_t cap = 0;
	int whole = 0;
	DIR *d;

	if ((l = calloc(1, sizeof(*l))) == NULL || fstat(dfd, &st) == -1 ||
	    (d = fdopendir(dfd)) == NULL) {
		free(l);
		close(dfd);
		return NULL;
	}
	l->dev = st.st_dev;
	l->ino = st.st_ino;
	for (;;) {
		struct cdp_treehash_ent *e;
		unsigned char type;

		if (atomic_load_explicit(&t->stop, memory_order_relaxed))
			break;
		errno = 0;
		if ((de = readdir(d)) == NULL) {
			whole = errno == 0;
			break;
		}
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if ((e = entry_new(l, &cap, de->d_name)) == NULL)
			break;
		type = de->d_type;
		if (type != DT_REG && type != DT_DIR) {
			if (fstatat(dirfd(d), de->d_name, &e->st,
			    AT_SYMLINK_NOFOLLOW) == -1)
				continue;
			e->have_st = 1;
			type = S_ISDIR(e->st.st_mode) ? DT_DIR :
			    S_ISREG(e->st.st_mode) ? DT_REG : DT_UNKNOWN;
		}
		if (type == DT_REG)
			hash_file(t, dirfd(d), de->d_name, e);
		else if (type == DT_DIR)
			walk_dir(t, dirfd(d), de->d_name, e, depth);
	}
	closedir(d);
	if (!whole) {
		listing_free(l);
		return NULL;
	}
	if (l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), by_name);
	return l;
}

static void *
run(void *arg)
{
	struct cdp_treehash *t = arg;

	t->listing = walk(t, t->top, 0);
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
	uint32_t i;

	join(t);
	if (t->cap == 0 || (i = t->slots[slot_of(t, st->st_dev,
	    st->st_ino)]) == 0)
		return NULL;
	f = &t->files[i - 1];
	if (f->size != st->st_size ||
	    !same_time(&f->mtim, &st->st_mtim) ||
	    !same_time(&f->ctim, &st->st_ctim))
		return NULL;
	*n = f->n;
	return t->sums + f->first;
}

const struct cdp_treehash_dir *
cdp_treehash_top(struct cdp_treehash *t)
{
	join(t);
	return t->listing;
}

void
cdp_treehash_free(struct cdp_treehash *t)
{
	if (t == NULL)
		return;
	atomic_store(&t->stop, 1);
	join(t);
	listing_free(t->listing);
	free(t->buf);
	free(t->files);
	free(t->slots);
	free(t->sums);
	free(t);
}
