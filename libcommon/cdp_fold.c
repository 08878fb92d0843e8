/*
 * cdp_fold.c: fold a store's old segments into a base.
 *
 * The private tree STORE/.fold/tree holds the state after seq tree_seq.
 * It is kept between folds of one process, so that a fold applies only
 * the segments that became old since the last one; a new process (or a
 * failed fold) rebuilds it from the base.  Nothing in .fold is needed to
 * read the store: a crash just leaves it to be removed.
 *
 * Numbering: a base of K records that folds through seq F numbers them
 * F - K + 1 .. F, so that the store reads as one stream with no seq gap
 * or repeat.  K is known only once the tree is written out, so the base
 * is written with placeholder seqs and renumbered in place (the seq and
 * header CRC of each header; the payloads do not change).  When K > F
 * there are not enough seqs below F + 1: the fold waits until more
 * segments are old.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cdp_apply.h"
#include "cdp_baseline.h"
#include "cdp_crc32.h"
#include "cdp_err.h"
#include "cdp_fold.h"
#include "cdp_format.h"
#include "cdp_proto.h"
#include "cdp_reader.h"
#include "cdp_source.h"
#include "cdp_store.h"
#include "cdp_tree.h"
#include "cdp_writer.h"

#define FOLD_DIR	".fold"
#define FOLD_TREE	".fold/tree"
#define FOLD_TMP	".fold/base.tmp"

struct seg_time {
	uint64_t	 first;
	int64_t		 newest;	/* newest time_ns of its records */
};

struct cdp_fold {
	struct cdp_store *st;
	char		*path;
	int		 dirfd;		/* the store's; not owned */
	uint64_t	 base_seq;	/* 0: no base */
	int		 have_tree;	/* .fold/tree holds the state ... */
	uint64_t	 tree_seq;	/* ... after this seq */
	int64_t		 tree_time;	/* newest record time applied to it */
	struct seg_time	*times;		/* segments scanned, not yet folded */
	size_t		 ntimes, timecap;

	/* While writing a base. */
	struct cdp_writer *w;
	struct cdp_record scratch;
	int64_t		 stamp;
	const volatile int *stop;	/* set by another thread: __atomic */

	char		 err[1024];
};

static char open_err[1024];

#define fail(f, ...)	cdp_seterr((f)->err, sizeof((f)->err), __VA_ARGS__)

static void
base_name(uint64_t seq, char buf[CDP_STORE_NAME_MAX + 1])
{
	snprintf(buf, CDP_STORE_NAME_MAX + 1, "%020" PRIu64 ".base.cdpj", seq);
}

/* rm -rf STORE/.fold; missing is fine. */
static int
remove_private(struct cdp_fold *f)
{
	char *p;
	int rc;

	f->have_tree = 0;
	if (faccessat(f->dirfd, FOLD_DIR, F_OK, AT_SYMLINK_NOFOLLOW) == -1)
		return errno == ENOENT ? 0 : -1;
	if (asprintf(&p, "%s/" FOLD_DIR, f->path) == -1)
		return -1;
	rc = cdp_tree_remove(p);
	free(p);
	return rc;
}

/*
 * Find the newest base and finish a fold that was cut off: remove older
 * bases and the segments the newest covers.
 */
static int
finish_old_fold(struct cdp_fold *f)
{
	char name[CDP_STORE_NAME_MAX + 1];
	uint64_t seq, *bases = NULL;
	size_t nb = 0, i;
	struct dirent *de;
	DIR *d;
	int fd;

	if ((fd = dup(f->dirfd)) == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		return fail(f, "%s: %s", f->path, strerror(errno));
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		uint64_t *n;

		if (cdp_store_name_kind(de->d_name, &seq) != CDP_STORE_BASE)
			continue;
		if ((n = realloc(bases, (nb + 1) * sizeof(*n))) == NULL) {
			closedir(d);
			free(bases);
			return fail(f, "%s", strerror(errno));
		}
		bases = n;
		bases[nb++] = seq;
		if (seq > f->base_seq)
			f->base_seq = seq;
	}
	closedir(d);
	for (i = 0; i < nb; i++) {
		if (bases[i] == f->base_seq)
			continue;
		base_name(bases[i], name);
		if (unlinkat(f->dirfd, name, 0) == -1 && errno != ENOENT) {
			free(bases);
			return fail(f, "%s/%s: %s", f->path, name,
			    strerror(errno));
		}
	}
	free(bases);
	if (f->base_seq > 0 &&
	    cdp_store_drop_through(f->st, f->base_seq) == -1)
		return fail(f, "%s", cdp_store_error(f->st));
	if (remove_private(f) == -1)
		return fail(f, "%s/" FOLD_DIR ": %s", f->path, strerror(errno));
	if (fsync(f->dirfd) == -1)
		return fail(f, "%s: %s", f->path, strerror(errno));
	return 0;
}

struct cdp_fold *
cdp_fold_open(struct cdp_store *st, const char *path, const char **why)
{
	struct cdp_fold *f;

	if (why != NULL)
		*why = open_err;
	if ((f = calloc(1, sizeof(*f))) == NULL ||
	    (f->path = strdup(path)) == NULL) {
		snprintf(open_err, sizeof(open_err), "%s", strerror(errno));
		free(f);
		return NULL;
	}
	f->st = st;
	f->dirfd = cdp_store_dirfd(st);
	if (finish_old_fold(f) == -1) {
		int e = errno;

		snprintf(open_err, sizeof(open_err), "%s", f->err);
		cdp_fold_close(f);
		errno = e;
		return NULL;
	}
	return f;
}

/* Records of one file through the validating reader. */
typedef int (*each_fn)(struct cdp_fold *, const struct cdp_record *, void *);

static int
each_record(struct cdp_fold *f, int fd, const char *name, each_fn fn,
    void *arg)
{
	static struct cdp_record rec;	/* large; one fold at a time */
	struct cdp_source *src;
	struct cdp_reader *rd;
	int rc;

	if ((src = cdp_source_fd(fd, name)) == NULL) {
		close(fd);
		return fail(f, "%s/%s: %s", f->path, name, strerror(errno));
	}
	if ((rd = cdp_reader_open(src, 0)) == NULL) {
		cdp_source_close(src);
		close(fd);
		return fail(f, "%s/%s: %s", f->path, name, strerror(errno));
	}
	while ((rc = cdp_reader_next(rd, &rec)) == 1) {
		if (f->stop != NULL &&
		    __atomic_load_n(f->stop, __ATOMIC_ACQUIRE)) {
			errno = ECANCELED;
			rc = fail(f, "cancelled");
			break;
		}
		if ((rc = fn(f, &rec, arg)) == -1)
			break;
	}
	if (rc == -1 && errno == 0)
		errno = EIO;
	if (rc == -1 && f->err[0] == '\0')
		fail(f, "%s/%s: %s", f->path, name, cdp_reader_error(rd));
	cdp_reader_close(rd);
	cdp_source_close(src);
	close(fd);
	return rc == -1 ? -1 : 0;
}

static int
newest_of(struct cdp_fold *f, const struct cdp_record *rec, void *arg)
{
	int64_t *t = arg;

	(void)f;
	if (rec->seq != 0 && rec->time_ns > *t)
		*t = rec->time_ns;
	return 0;
}

/* The newest record time of a segment that is no longer written. */
static int
segment_newest(struct cdp_fold *f, uint64_t first, int64_t *t)
{
	char name[CDP_STORE_NAME_MAX + 1];
	size_t i;
	int fd;

	for (i = 0; i < f->ntimes; i++)
		if (f->times[i].first == first) {
			*t = f->times[i].newest;
			return 0;
		}
	snprintf(name, sizeof(name), "%020" PRIu64 ".cdpj", first);
	if ((fd = cdp_store_open_segment(f->st, first)) == -1)
		return fail(f, "%s/%s: %s", f->path, name, strerror(errno));
	*t = 0;
	f->err[0] = '\0';
	if (each_record(f, fd, name, newest_of, t) == -1)
		return -1;
	if (f->ntimes == f->timecap) {
		size_t cap = f->timecap ? f->timecap * 2 : 16;
		struct seg_time *n = realloc(f->times, cap * sizeof(*n));

		if (n == NULL)
			return fail(f, "%s", strerror(errno));
		f->times = n;
		f->timecap = cap;
	}
	f->times[f->ntimes].first = first;
	f->times[f->ntimes++].newest = *t;
	return 0;
}

/* Forget the scan results of segments that are folded now. */
static void
forget_times(struct cdp_fold *f, uint64_t through)
{
	size_t i, n = 0;

	for (i = 0; i < f->ntimes; i++)
		if (f->times[i].first > through)
			f->times[n++] = f->times[i];
	f->ntimes = n;
}

struct apply_ctx {
	struct cdp_apply *ap;
	const char	*name;
	uint64_t	 last;
	int64_t		 newest;
};

static int
apply_one(struct cdp_fold *f, const struct cdp_record *rec, void *arg)
{
	struct apply_ctx *c = arg;

	if (rec->seq != 0) {
		if (c->last != 0 && rec->seq != c->last + 1) {
			errno = EILSEQ;
			return fail(f, "%s/%s: seq %" PRIu64 " after %" PRIu64,
			    f->path, c->name, rec->seq, c->last);
		}
		c->last = rec->seq;
		if (rec->time_ns > c->newest)
			c->newest = rec->time_ns;
	}
	if (cdp_apply_record(c->ap, rec) == -1)
		return fail(f, "%s/%s: %s", f->path, c->name,
		    cdp_apply_error(c->ap));
	return 0;
}

/* Apply a base or segment file to the private tree. */
static int
apply_file(struct cdp_fold *f, struct cdp_apply *ap, const char *name,
    uint64_t expect_last, int64_t *newest)
{
	struct apply_ctx c = { ap, name, 0, 0 };
	int fd;

	if ((fd = openat(f->dirfd, name, O_RDONLY | O_CLOEXEC |
	    O_NOFOLLOW)) == -1)
		return fail(f, "%s/%s: %s", f->path, name, strerror(errno));
	f->err[0] = '\0';
	if (each_record(f, fd, name, apply_one, &c) == -1)
		return -1;
	if (expect_last != 0 && c.last != expect_last) {
		errno = EILSEQ;
		return fail(f, "%s/%s: ends at seq %" PRIu64 ", not %" PRIu64,
		    f->path, name, c.last, expect_last);
	}
	if (c.newest > *newest)
		*newest = c.newest;
	return 0;
}

/* Bring the private tree to seq through: rebuild it if it is not usable. */
static int
advance_tree(struct cdp_fold *f, const uint64_t *segs, size_t n,
    uint64_t through)
{
	char name[CDP_STORE_NAME_MAX + 1], *tree;
	struct cdp_apply *ap;
	size_t i;
	int rc = 0;

	if (!f->have_tree || f->tree_seq < f->base_seq) {
		if (remove_private(f) == -1 ||
		    (mkdirat(f->dirfd, FOLD_DIR, 0700) == -1 &&
		    errno != EEXIST) ||
		    mkdirat(f->dirfd, FOLD_TREE, 0755) == -1)
			return fail(f, "%s/" FOLD_TREE ": %s", f->path,
			    strerror(errno));
		f->tree_seq = 0;
		f->tree_time = 0;
	}
	if (asprintf(&tree, "%s/" FOLD_TREE, f->path) == -1)
		return fail(f, "%s", strerror(errno));
	ap = cdp_apply_open(tree, CDP_APPLY_NOSTATE);
	free(tree);
	if (ap == NULL)
		return fail(f, "%s/" FOLD_TREE ": %s", f->path,
		    strerror(errno));
	/* Until the end, the tree is somewhere in between. */
	f->have_tree = 0;
	if (f->tree_seq == 0 && f->base_seq > 0) {
		base_name(f->base_seq, name);
		if ((rc = apply_file(f, ap, name, f->base_seq,
		    &f->tree_time)) == 0)
			f->tree_seq = f->base_seq;
	}
	for (i = 0; rc == 0 && i + 1 < n && segs[i + 1] <= through + 1; i++) {
		if (segs[i] <= f->tree_seq)
			continue;
		if (segs[i] != f->tree_seq + 1 && f->tree_seq != 0) {
			errno = EILSEQ;
			rc = fail(f, "%s: segment %020" PRIu64 " where seq %"
			    PRIu64 " is next", f->path, segs[i],
			    f->tree_seq + 1);
			break;
		}
		snprintf(name, sizeof(name), "%020" PRIu64 ".cdpj", segs[i]);
		if ((rc = apply_file(f, ap, name, segs[i + 1] - 1,
		    &f->tree_time)) == 0)
			f->tree_seq = segs[i + 1] - 1;
	}
	if (cdp_apply_close(ap) == -1 && rc == 0)
		rc = fail(f, "%s/" FOLD_TREE ": %s", f->path,
		    strerror(errno));
	if (rc == 0)
		f->have_tree = 1;
	return rc;
}

static int
emit(void *arg, const struct cdp_record *rec)
{
	struct cdp_fold *f = arg;

	if (f->stop != NULL && __atomic_load_n(f->stop, __ATOMIC_ACQUIRE)) {
		errno = ECANCELED;
		return -1;
	}
	memcpy(&f->scratch, rec, sizeof(f->scratch));
	f->scratch.time_ns = f->stamp;
	return cdp_writer_put(f->w, &f->scratch);
}

static int
put_marker(struct cdp_fold *f, uint16_t type)
{
	memset(&f->scratch, 0, sizeof(f->scratch));
	f->scratch.type = type;
	f->scratch.time_ns = f->stamp;
	return cdp_writer_put(f->w, &f->scratch);
}

/* Write the private tree as a baseline to .fold/base.tmp. */
static int
write_baseline(struct cdp_fold *f, int fd)
{
	const uint8_t *hdr;
	struct cdp_baseline *b;
	size_t hlen;
	char *tree;
	int rc;

	if ((hdr = cdp_store_header(f->st, &hlen)) == NULL) {
		errno = EINVAL;
		return fail(f, "%s: no STREAM_HDR", f->path);
	}
	if (asprintf(&tree, "%s/" FOLD_TREE, f->path) == -1)
		return fail(f, "%s", strerror(errno));
	b = cdp_baseline_open(tree);
	free(tree);
	if (b == NULL)
		return fail(f, "%s/" FOLD_TREE ": %s", f->path,
		    strerror(errno));
	if ((f->w = cdp_writer_open(fd, -1)) == NULL) {
		cdp_baseline_close(b);
		return fail(f, "%s", strerror(errno));
	}
	rc = cdp_write_all(fd, hdr, hlen);
	if (rc == 0)
		rc = put_marker(f, CDP_T_BASELINE_BEGIN);
	if (rc == 0 && (rc = cdp_baseline_walk(b, emit, f)) == -1 &&
	    errno != ECANCELED)
		fail(f, "%s/" FOLD_TREE "/%s", f->path, cdp_baseline_error(b));
	if (rc == 0)
		rc = put_marker(f, CDP_T_BASELINE_END);
	if (rc == 0)
		rc = cdp_writer_flush(f->w);
	if (rc == -1 && f->err[0] == '\0')
		fail(f, "%s/" FOLD_TMP ": %s", f->path, strerror(errno));
	cdp_writer_close(f->w);
	f->w = NULL;
	cdp_baseline_close(b);
	return rc;
}

static void
put64le(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void
put32le(uint8_t *p, uint32_t v)
{
	int i;

	for (i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

struct offsets {
	uint64_t	*at;
	size_t		 n, cap;
};

static int
note_offset(struct cdp_fold *f, const struct cdp_record *rec, void *arg)
{
	struct offsets *o = arg;

	if (rec->seq == 0)
		return 0;
	if (o->n == o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 1024;
		uint64_t *n = realloc(o->at, cap * sizeof(*n));

		if (n == NULL)
			return fail(f, "%s", strerror(errno));
		o->at = n;
		o->cap = cap;
	}
	o->at[o->n++] = rec->offset;
	return 0;
}

/*
 * Number the records of .fold/base.tmp so that the last has seq through.
 * Returns 1 when done, 0 when the base needs more seqs than there are.
 */
static int
renumber(struct cdp_fold *f, int fd, uint64_t through)
{
	struct offsets o = { 0 };
	uint8_t h[CDP_HDR_LEN];
	size_t i;
	int rfd, rc = 1;

	if ((rfd = openat(f->dirfd, FOLD_TMP, O_RDONLY | O_CLOEXEC)) == -1)
		return fail(f, "%s/" FOLD_TMP ": %s", f->path, strerror(errno));
	f->err[0] = '\0';
	if (each_record(f, rfd, FOLD_TMP, note_offset, &o) == -1) {
		free(o.at);
		return -1;
	}
	if (o.n > through) {
		snprintf(f->err, sizeof(f->err), "%s: a base of %zu records "
		    "cannot end at seq %" PRIu64 ": waiting for more", f->path,
		    o.n, through);
		free(o.at);
		return 0;
	}
	for (i = 0; i < o.n && rc == 1; i++) {
		if (pread(fd, h, sizeof(h), (off_t)o.at[i]) != sizeof(h)) {
			rc = fail(f, "%s/" FOLD_TMP ": %s", f->path,
			    strerror(errno ? errno : EIO));
			break;
		}
		put64le(h + 16, through - o.n + 1 + i);
		put32le(h + 44, cdp_crc32(0, h, 44));
		if (pwrite(fd, h, sizeof(h), (off_t)o.at[i]) != sizeof(h))
			rc = fail(f, "%s/" FOLD_TMP ": %s", f->path,
			    strerror(errno ? errno : EIO));
	}
	free(o.at);
	return rc;
}

/* Write the base that folds through seq through; 1 done, 0 not yet. */
static int
write_base(struct cdp_fold *f, uint64_t through)
{
	char name[CDP_STORE_NAME_MAX + 1];
	int fd, rc;

	fd = openat(f->dirfd, FOLD_TMP, O_RDWR | O_CREAT | O_TRUNC |
	    O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd == -1)
		return fail(f, "%s/" FOLD_TMP ": %s", f->path, strerror(errno));
	f->err[0] = '\0';
	rc = write_baseline(f, fd);
	if (rc == 0)
		rc = renumber(f, fd, through);
	if (rc == 1 && fsync(fd) == -1)
		rc = fail(f, "%s/" FOLD_TMP ": %s", f->path, strerror(errno));
	close(fd);
	base_name(through, name);
	if (rc == 1 && renameat(f->dirfd, FOLD_TMP, f->dirfd, name) == -1)
		rc = fail(f, "%s/%s: %s", f->path, name, strerror(errno));
	if (rc != 1) {
		unlinkat(f->dirfd, FOLD_TMP, 0);
		return rc;
	}
	if (fsync(f->dirfd) == -1)
		return fail(f, "%s: %s", f->path, strerror(errno));
	return 1;
}

int
cdp_fold_run(struct cdp_fold *f, int64_t cutoff_ns, const volatile int *stop)
{
	char name[CDP_STORE_NAME_MAX + 1];
	uint64_t *segs, through, old = f->base_seq;
	size_t n, j;
	int64_t t;
	int rc;

	f->stop = stop;
	f->err[0] = '\0';
	if (cdp_store_segments(f->st, &segs, &n) == -1)
		return fail(f, "%s", strerror(errno));
	/* The longest run of old segments; never the one being written. */
	for (j = 0; j + 1 < n; j++) {
		if (segs[j] <= f->base_seq)
			continue;
		if (segment_newest(f, segs[j], &t) == -1) {
			free(segs);
			return -1;
		}
		if (t > cutoff_ns)
			break;
	}
	if (j == 0 || segs[j] <= f->base_seq + 1) {
		free(segs);
		return 0;
	}
	through = segs[j] - 1;
	rc = advance_tree(f, segs, n, through);
	free(segs);
	if (rc == -1)
		return -1;
	f->stamp = f->tree_time;
	if ((rc = write_base(f, through)) != 1)
		return rc;
	/* The new base is in place: what it replaces can go. */
	f->base_seq = through;
	forget_times(f, through);
	if (cdp_store_drop_through(f->st, through) == -1)
		return fail(f, "%s", cdp_store_error(f->st));
	if (old > 0) {
		base_name(old, name);
		if (unlinkat(f->dirfd, name, 0) == -1 && errno != ENOENT)
			return fail(f, "%s/%s: %s", f->path, name,
			    strerror(errno));
	}
	if (fsync(f->dirfd) == -1)
		return fail(f, "%s: %s", f->path, strerror(errno));
	return (int)j;
}

uint64_t
cdp_fold_base_seq(const struct cdp_fold *f)
{
	return f->base_seq;
}

const char *
cdp_fold_error(const struct cdp_fold *f)
{
	return f->err;
}

void
cdp_fold_close(struct cdp_fold *f)
{
	if (f == NULL)
		return;
	remove_private(f);
	free(f->times);
	free(f->path);
	free(f);
}
