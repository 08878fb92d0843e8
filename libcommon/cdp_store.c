/*
 * cdp_store.c: the directory back-end of a store.
 *
 * Invariants that make a crash at any instant harmless:
 *
 *  - Records only ever go at the end of the last segment; nothing is
 *    rewritten in place, so a reader holding a segment open always reads
 *    what was there.
 *  - When a new segment is started, the previous one is flushed first, so
 *    only the last segment can hold unflushed bytes, and on open only the
 *    last segment needs checking: whatever follows its last sound record is
 *    a torn write and is cut off.
 *  - A record is reported durable only after the flush of its segment (and
 *    of the directory, for a new segment) returned; when a flush fails, the
 *    segment is cut back to what the last good flush covered, because after
 *    a failed fsync(2) the page cache can no longer be trusted to say what
 *    reached the disk.
 *
 * The state file is a summary for readers (and cdp-verify --max-lag); the
 * segments are the truth, so the state is rewritten about once a second and
 * not at every commit.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cdp_err.h"
#include "cdp_reader.h"
#include "cdp_source.h"
#include "cdp_store.h"
#include "cdp_streamrule.h"
#include "cdp_time.h"
#include "cdp_uuid.h"

#define SEG_NAME_LEN	25		/* 20 digits and ".cdpj" */
#define STATE_EVERY_NS	1000000000LL	/* state rewritten at most this often */
#define WBUF_SIZE	(256 * 1024)	/* records gathered per write(2) */

struct seg {
	uint64_t	 first;		/* the seq that names it */
	uint64_t	 size;
};

struct cdp_store {
	char		*path;
	int		 flags;
	int		 dirfd;
	int		 lockfd;
	uint64_t	 segment_size;

	pthread_mutex_t	 mu;		/* everything below; taken after wmu */
	pthread_mutex_t	 commit_mu;	/* one commit at a time */

	int		 have_uuid;
	uint8_t		 uuid[16];
	uint8_t		*hdr;		/* STREAM_HDR for new segments */
	size_t		 hdr_len;

	struct seg	*segs;		/* in seq order; the last is written */
	size_t		 nsegs, segcap;
	int		 fd;		/* last segment, -1 if none */
	/*
	 * The last segment as the appending thread sees it; segs[] may be
	 * shifted by cdp_store_drop_through() in another thread meanwhile.
	 */
	uint64_t	 cur_first, cur_size;
	/*
	 * Appended bytes are gathered here and written with one write(2)
	 * when it is full, before a flush and before a new segment: one
	 * system call per group of records, not per record.  written is
	 * what the last segment holds in the file; cur_size adds wbuf.
	 */
	pthread_mutex_t	 wmu;		/* wbuf, wlen, written */
	uint8_t		*wbuf;
	size_t		 wlen;
	uint64_t	 written;
	int		*retired;	/* earlier segments' fds, flushed */
	size_t		 nretired, retcap;
	int		 dir_dirty;	/* a segment was created or removed */

	uint64_t	 next_seq;
	int		 have_records;	/* a numbered record is stored */
	int		 ended;
	int64_t		 written_time;
	int		 last_put;	/* CDP_STORE_PUT_*: the last append */
	/*
	 * cdp_store_seal(): the last segment takes no more records.  Held
	 * by cdp_store_append() throughout, so that a seal from another
	 * thread falls between two records, never inside one.
	 */
	pthread_mutex_t	 seal_mu;
	int		 sealed;
	int		 hdr_put;	/* a header put, its record not yet */

	uint64_t	 synced_first;	/* the last flush covered this segment */
	uint64_t	 synced_size;	/* up to this size */
	uint64_t	 durable_seq;
	int64_t		 durable_time;
	int		 broken;	/* a flush failed: no more writes */

	int64_t		 state_at;	/* when the state was last written */
	uint64_t	 state_seq;
	int64_t		 state_time;

	char		 err[512];
	char		 notice[512];
};

static char open_err[512];

#define FAIL(s, ...)	cdp_seterr((s)->err, sizeof((s)->err), __VA_ARGS__)

static void
seg_name(uint64_t first, char buf[SEG_NAME_LEN + 1])
{
	snprintf(buf, SEG_NAME_LEN + 1, "%020" PRIu64 ".cdpj", first);
}

static int
parse_seg_name(const char *name, uint64_t *first)
{
	char *end;
	int i;

	if (strlen(name) != SEG_NAME_LEN || strcmp(name + 20, ".cdpj") != 0)
		return -1;
	for (i = 0; i < 20; i++)
		if (name[i] < '0' || name[i] > '9')
			return -1;
	errno = 0;
	*first = strtoull(name, &end, 10);
	return errno == 0 && end == name + 20 ? 0 : -1;
}

int
cdp_store_name_kind(const char *name, uint64_t *seq)
{
	size_t n = strlen(name);
	char *end;
	int i;

	if (n == SEG_NAME_LEN && strcmp(name + 20, ".cdpj") == 0) {
		if (parse_seg_name(name, seq) == -1)
			return 0;
		return CDP_STORE_SEGMENT;
	}
	if (n != CDP_STORE_NAME_MAX || strcmp(name + 20, ".base.cdpj") != 0)
		return 0;
	for (i = 0; i < 20; i++)
		if (name[i] < '0' || name[i] > '9')
			return 0;
	errno = 0;
	*seq = strtoull(name, &end, 10);
	return errno == 0 && end == name + 20 && *seq > 0 ? CDP_STORE_BASE : 0;
}

int
cdp_store_dirfd(const struct cdp_store *s)
{
	return s->dirfd;
}

static int
write_all(int fd, const void *buf, size_t n)
{
	const uint8_t *p = buf;

	while (n > 0) {
		ssize_t r = write(fd, p, n);

		if (r == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static int
flush_fd(const struct cdp_store *s, int fd)
{
	if (s->flags & CDP_STORE_NOSYNC)
		return 0;
	return fdatasync(fd);
}

static int
segs_push(struct cdp_store *s, uint64_t first, uint64_t size)
{
	if (s->nsegs == s->segcap) {
		size_t cap = s->segcap ? s->segcap * 2 : 16;
		struct seg *n = realloc(s->segs, cap * sizeof(*n));

		if (n == NULL)
			return -1;
		s->segs = n;
		s->segcap = cap;
	}
	s->segs[s->nsegs].first = first;
	s->segs[s->nsegs++].size = size;
	return 0;
}

static int
cmp_seg(const void *a, const void *b)
{
	uint64_t x = ((const struct seg *)a)->first;
	uint64_t y = ((const struct seg *)b)->first;

	return x < y ? -1 : x > y;
}

static int
list_segments(struct cdp_store *s)
{
	DIR *d;
	struct dirent *de;
	int fd, e;

	if ((fd = dup(s->dirfd)) == -1)
		return -1;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	rewinddir(d);
	while ((errno = 0, de = readdir(d)) != NULL) {
		struct stat st;
		uint64_t first;

		if (parse_seg_name(de->d_name, &first) == -1)
			continue;
		if (fstatat(s->dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (segs_push(s, first, (uint64_t)st.st_size) == -1)
			break;
	}
	e = errno;
	closedir(d);
	if (e != 0) {
		errno = e;
		return -1;
	}
	if (s->nsegs > 0)
		qsort(s->segs, s->nsegs, sizeof(*s->segs), cmp_seg);
	return 0;
}

/* "key value" lines; unknown keys are ignored. */
static int
parse_state(FILE *f, uint8_t uuid[16], int *have_uuid, uint64_t *seq,
    int64_t *t)
{
	char line[256], *v;

	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if ((v = strchr(line, ' ')) == NULL)
			continue;
		*v++ = '\0';
		if (strcmp(line, "uuid") == 0) {
			if (cdp_uuid_parse(v, uuid) == -1)
				return -1;
			*have_uuid = 1;
		} else if (strcmp(line, "durable_seq") == 0)
			*seq = strtoull(v, NULL, 10);
		else if (strcmp(line, "last_time_ns") == 0)
			*t = strtoll(v, NULL, 10);
	}
	return ferror(f) ? -1 : 0;
}

int
cdp_store_read_state(const char *path, uint8_t uuid[16],
    uint64_t *durable_seq, int64_t *last_time_ns)
{
	char *name;
	FILE *f;
	int have = 0, rc;

	*durable_seq = 0;
	*last_time_ns = 0;
	if (asprintf(&name, "%s/state", path) == -1)
		return -1;
	f = fopen(name, "re");
	free(name);
	if (f == NULL)
		return -1;
	rc = parse_state(f, uuid, &have, durable_seq, last_time_ns);
	fclose(f);
	if (rc == 0 && !have) {
		errno = EBADMSG;
		rc = -1;
	}
	return rc;
}

/*
 * Write the state file: temporary name, flush, rename, flush the dir.
 * first_seq and ended are the caller's snapshot, taken under mu: segs[]
 * and ended change in the appending thread (segs_push() may move segs)
 * and in cdp_store_drop_through() while the committer is here.
 */
static int
write_state(struct cdp_store *s, uint64_t seq, int64_t t, uint64_t first_seq,
    int ended)
{
	char u[CDP_UUID_STRLEN], buf[512];
	int fd, n;

	if (!s->have_uuid)
		return 0;
	cdp_uuid_format(s->uuid, u);
	n = snprintf(buf, sizeof(buf),
	    "uuid %s\ndurable_seq %" PRIu64 "\nlast_time_ns %" PRId64
	    "\nfirst_seq %" PRIu64 "\nended %d\n", u, seq, t,
	    first_seq != 0 ? first_seq : seq + 1, ended);
	fd = openat(s->dirfd, ".state.tmp", O_WRONLY | O_CREAT | O_TRUNC |
	    O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd == -1)
		return FAIL(s, "%s/.state.tmp: %s", s->path, strerror(errno));
	if (write_all(fd, buf, (size_t)n) == -1 || flush_fd(s, fd) == -1) {
		FAIL(s, "%s/.state.tmp: %s", s->path, strerror(errno));
		close(fd);
		unlinkat(s->dirfd, ".state.tmp", 0);
		return -1;
	}
	close(fd);
	if (renameat(s->dirfd, ".state.tmp", s->dirfd, "state") == -1)
		return FAIL(s, "%s/state: %s", s->path, strerror(errno));
	if (flush_fd(s, s->dirfd) == -1)
		return FAIL(s, "%s: %s", s->path, strerror(errno));
	s->state_seq = seq;
	s->state_time = t;
	return 0;
}

/* Whether the bytes of fd from off to end are all zero. */
static int
zero_tail(int fd, uint64_t off, uint64_t end)
{
	uint8_t buf[4096];
	ssize_t n;
	size_t i;

	while (off < end) {
		n = pread(fd, buf, end - off < sizeof(buf) ? (size_t)(end - off) :
		    sizeof(buf), (off_t)off);
		if (n <= 0)
			return 0;
		for (i = 0; i < (size_t)n; i++)
			if (buf[i] != 0)
				return 0;
		off += (uint64_t)n;
	}
	return 1;
}

/*
 * Read the last segment through the validating reader and cut off a torn
 * write at its end: a record cut short by the end of the file, or (a file
 * system that grew the file before the data reached the disk) zeros up to
 * the end.  Anything else is damage to records that may have been
 * acknowledged: the store is refused, not repaired, unless it is a cache
 * (CDP_STORE_NOSYNC), which any crash may leave in any state.  Returns 1
 * if the segment holds a STREAM_HDR (and is kept), 0 if it held nothing
 * but a torn write (and was removed), -1 on error.
 */
static int
recover_last(struct cdp_store *s)
{
	struct seg *sg = &s->segs[s->nsegs - 1];
	char name[SEG_NAME_LEN + 1], why[256] = "";
	struct cdp_source *src;
	struct cdp_reader *r;
	struct cdp_record *rec;
	uint64_t good = 0;
	int fd, rc, hdr_seen = 0, torn;

	seg_name(sg->first, name);
	fd = openat(s->dirfd, name, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1)
		return FAIL(s, "%s/%s: %s", s->path, name, strerror(errno));
	if ((rec = malloc(sizeof(*rec))) == NULL ||
	    (src = cdp_source_fd(fd, name)) == NULL) {
		free(rec);
		close(fd);
		return FAIL(s, "%s/%s: %s", s->path, name, strerror(errno));
	}
	if ((r = cdp_reader_open(src, 0)) == NULL) {
		cdp_source_close(src);
		free(rec);
		close(fd);
		return FAIL(s, "%s/%s: %s", s->path, name, strerror(errno));
	}
	while ((rc = cdp_reader_next(r, rec)) == 1) {
		if (rec->type == CDP_T_STREAM_HDR) {
			if (s->have_uuid && memcmp(rec->uuid, s->uuid, 16) != 0) {
				snprintf(why, sizeof(why), "offset %" PRIu64
				    ": a STREAM_HDR of another stream", good);
				break;
			}
			if (!hdr_seen && s->hdr == NULL &&
			    (s->hdr = malloc(rec->raw_size)) != NULL) {
				memcpy(s->hdr, rec->raw, rec->raw_size);
				s->hdr_len = rec->raw_size;
			}
			memcpy(s->uuid, rec->uuid, 16);
			s->have_uuid = hdr_seen = 1;
			s->ended = 0;
		} else if (rec->type == CDP_T_STREAM_END)
			s->ended = 1;
		if (rec->seq != 0) {
			s->next_seq = rec->seq + 1;
			s->have_records = 1;
		}
		if (rec->time_ns > s->written_time)
			s->written_time = rec->time_ns;
		good = cdp_reader_offset(r);
	}
	if (rc == 0)
		good = cdp_reader_offset(r);	/* skipped unknown records too */
	if (rc == -1)
		snprintf(why, sizeof(why), "%s", cdp_reader_error(r));
	torn = rc == 0 || (rc == -1 &&
	    cdp_reader_errcode(r) == CDP_RE_TRUNCATED);
	if (rc == -1 && !torn && zero_tail(fd, good, sg->size)) {
		snprintf(why, sizeof(why), "offset %" PRIu64 ": zeros up to "
		    "the end", good);
		torn = 1;
	}
	cdp_reader_close(r);
	cdp_source_close(src);
	free(rec);
	if (!torn && !(s->flags & CDP_STORE_NOSYNC)) {
		close(fd);
		errno = EBADMSG;
		return FAIL(s, "%s/%s: %s: damaged, not a torn write, so "
		    "nothing was cut off; the store needs attention (to go "
		    "on without the records of this segment, move it out of "
		    "%s by hand)", s->path, name, why, s->path);
	}
	if (good < sg->size)
		snprintf(s->notice, sizeof(s->notice),
		    "%s/%s: cut off %" PRIu64 " bytes after offset %" PRIu64
		    " (%s)", s->path, name, sg->size - good, good, why);
	if (!hdr_seen) {
		/* Nothing but a torn STREAM_HDR (or an empty file). */
		close(fd);
		if (unlinkat(s->dirfd, name, 0) == -1)
			return FAIL(s, "%s/%s: %s", s->path, name,
			    strerror(errno));
		s->nsegs--;
		s->dir_dirty = 1;
		return 0;
	}
	if (good < sg->size && ftruncate(fd, (off_t)good) == -1) {
		FAIL(s, "%s/%s: %s", s->path, name, strerror(errno));
		close(fd);
		return -1;
	}
	if (!s->have_records)
		s->next_seq = sg->first;
	sg->size = good;
	if (lseek(fd, (off_t)good, SEEK_SET) == -1 || flush_fd(s, fd) == -1) {
		FAIL(s, "%s/%s: %s", s->path, name, strerror(errno));
		close(fd);
		return -1;
	}
	s->fd = fd;
	s->cur_first = sg->first;
	s->cur_size = s->written = good;
	return 1;
}

static int
recover(struct cdp_store *s)
{
	int rc = 0;

	while (s->nsegs > 0 && (rc = recover_last(s)) == 0)
		;
	if (rc == -1)
		return -1;
	if (s->dir_dirty && flush_fd(s, s->dirfd) == -1)
		return FAIL(s, "%s: %s", s->path, strerror(errno));
	s->dir_dirty = 0;
	if (s->fd != -1) {
		s->synced_first = s->segs[s->nsegs - 1].first;
		s->synced_size = s->segs[s->nsegs - 1].size;
	}
	s->durable_seq = s->next_seq - 1;
	if (s->written_time > s->durable_time)
		s->durable_time = s->written_time;
	return 0;
}

static int
take_lock(struct cdp_store *s)
{
	s->lockfd = openat(s->dirfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW, 0644);
	if (s->lockfd == -1)
		return FAIL(s, "%s/lock: %s", s->path, strerror(errno));
	if (flock(s->lockfd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK)
			return FAIL(s, "%s: in use by another process "
			    "(%s/lock is locked)", s->path, s->path);
		return FAIL(s, "%s/lock: %s", s->path, strerror(errno));
	}
	return 0;
}

static void
store_free(struct cdp_store *s)
{
	size_t i;

	for (i = 0; i < s->nretired; i++)
		close(s->retired[i]);
	if (s->fd != -1)
		close(s->fd);
	if (s->lockfd != -1)
		close(s->lockfd);
	if (s->dirfd != -1)
		close(s->dirfd);
	pthread_mutex_destroy(&s->mu);
	pthread_mutex_destroy(&s->commit_mu);
	pthread_mutex_destroy(&s->seal_mu);
	pthread_mutex_destroy(&s->wmu);
	free(s->wbuf);
	free(s->retired);
	free(s->segs);
	free(s->hdr);
	free(s->path);
	free(s);
}

struct cdp_store *
cdp_store_open(const char *path, int flags, const char **why)
{
	struct cdp_store *s;
	uint64_t seq = 0;
	int64_t t = 0;
	FILE *f;
	int fd, e;

	if (why != NULL)
		*why = open_err;
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->path = strdup(path)) == NULL) {
		free(s);
		cdp_seterr(open_err, sizeof(open_err), "%s", strerror(errno));
		return NULL;
	}
	s->flags = flags;
	s->dirfd = s->lockfd = s->fd = -1;
	s->segment_size = CDP_STORE_SEGMENT_SIZE;
	s->next_seq = 1;
	pthread_mutex_init(&s->mu, NULL);
	pthread_mutex_init(&s->commit_mu, NULL);
	pthread_mutex_init(&s->seal_mu, NULL);
	pthread_mutex_init(&s->wmu, NULL);
	if ((s->wbuf = malloc(WBUF_SIZE)) == NULL) {
		FAIL(s, "%s", strerror(errno));
		goto fail;
	}

	if ((flags & CDP_STORE_CREATE) && mkdir(path, 0755) == -1 &&
	    errno != EEXIST) {
		FAIL(s, "%s: %s", path, strerror(errno));
		goto fail;
	}
	s->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dirfd == -1) {
		FAIL(s, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (take_lock(s) == -1)
		goto fail;
	fd = openat(s->dirfd, "state", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd != -1 && (f = fdopen(fd, "r")) != NULL) {
		e = parse_state(f, s->uuid, &s->have_uuid, &seq, &t);
		fclose(f);
		if (e == -1) {
			errno = EBADMSG;
			FAIL(s, "%s/state: malformed", path);
			goto fail;
		}
		s->state_seq = seq;
		s->state_time = s->durable_time = t;
	} else if (fd != -1)
		close(fd);
	if (list_segments(s) == -1) {
		FAIL(s, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (recover(s) == -1)
		goto fail;
	if (s->durable_seq < seq) {
		size_t n = strlen(s->notice);

		snprintf(s->notice + n, sizeof(s->notice) - n, "%s%s: the "
		    "state says seq %" PRIu64 " was durable, but the segments "
		    "end at %" PRIu64, n > 0 ? "; " : "", path, seq,
		    s->durable_seq);
	}
	return s;

fail:
	e = errno;
	memcpy(open_err, s->err, sizeof(open_err));
	store_free(s);
	errno = e;
	return NULL;
}

void
cdp_store_set_segment_size(struct cdp_store *s, uint64_t bytes)
{
	s->segment_size = bytes > 0 ? bytes : 1;
}

int
cdp_store_uuid(const struct cdp_store *s, uint8_t uuid[16])
{
	if (!s->have_uuid)
		return 0;
	memcpy(uuid, s->uuid, 16);
	return 1;
}

const uint8_t *
cdp_store_header(const struct cdp_store *s, size_t *len)
{
	*len = s->hdr_len;
	return s->hdr;
}

uint64_t
cdp_store_next_seq(const struct cdp_store *s)
{
	return s->next_seq;
}

int
cdp_store_ended(const struct cdp_store *s)
{
	return s->ended;
}

int
cdp_store_begin(struct cdp_store *s, const struct cdp_record *hdr)
{
	char a[CDP_UUID_STRLEN], b[CDP_UUID_STRLEN];
	uint8_t *copy;

	if (hdr->type != CDP_T_STREAM_HDR) {
		errno = EINVAL;
		return FAIL(s, "not a STREAM_HDR");
	}
	if (s->have_uuid && memcmp(hdr->uuid, s->uuid, 16) != 0) {
		cdp_uuid_format(s->uuid, a);
		cdp_uuid_format(hdr->uuid, b);
		errno = EEXIST;
		return FAIL(s, "%s: holds stream %s, not %s", s->path, a, b);
	}
	if ((copy = malloc(hdr->raw_size)) == NULL)
		return FAIL(s, "%s", strerror(errno));
	memcpy(copy, hdr->raw, hdr->raw_size);
	pthread_mutex_lock(&s->mu);
	free(s->hdr);
	s->hdr = copy;
	s->hdr_len = hdr->raw_size;
	memcpy(s->uuid, hdr->uuid, 16);
	s->have_uuid = 1;
	pthread_mutex_unlock(&s->mu);
	return 0;
}

static int drain(struct cdp_store *);

/* Start segment first: flush the current one, create the new one. */
static int
new_segment(struct cdp_store *s, uint64_t first)
{
	char name[SEG_NAME_LEN + 1];
	int fd;

	seg_name(first, name);
	pthread_mutex_lock(&s->wmu);
	if (drain(s) == -1) {
		pthread_mutex_unlock(&s->wmu);
		return FAIL(s, "%s/%020" PRIu64 ".cdpj: %s", s->path,
		    s->cur_first, strerror(errno));
	}
	pthread_mutex_unlock(&s->wmu);
	if (s->fd != -1 && flush_fd(s, s->fd) == -1)
		return FAIL(s, "%s/%020" PRIu64 ".cdpj: %s", s->path,
		    s->cur_first, strerror(errno));
	fd = openat(s->dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, 0644);
	if (fd == -1)
		return FAIL(s, "%s/%s: %s", s->path, name, strerror(errno));
	if (write_all(fd, s->hdr, s->hdr_len) == -1) {
		FAIL(s, "%s/%s: %s", s->path, name, strerror(errno));
		close(fd);
		unlinkat(s->dirfd, name, 0);
		return -1;
	}
	/* Lock order: wmu, then mu (as cdp_store_commit() takes them). */
	pthread_mutex_lock(&s->wmu);
	pthread_mutex_lock(&s->mu);
	if (segs_push(s, first, s->hdr_len) == -1) {
		pthread_mutex_unlock(&s->mu);
		pthread_mutex_unlock(&s->wmu);
		close(fd);
		unlinkat(s->dirfd, name, 0);
		return FAIL(s, "%s", strerror(errno));
	}
	if (s->fd != -1) {
		if (s->nretired == s->retcap) {
			size_t cap = s->retcap ? s->retcap * 2 : 8;
			int *n = realloc(s->retired, cap * sizeof(*n));

			if (n == NULL)
				close(s->fd);	/* flushed already */
			else {
				s->retired = n;
				s->retcap = cap;
			}
		}
		if (s->nretired < s->retcap)
			s->retired[s->nretired++] = s->fd;
	}
	s->fd = fd;
	s->written = s->hdr_len;
	s->cur_first = first;
	s->cur_size = s->hdr_len;
	s->dir_dirty = 1;
	s->ended = 0;		/* the header starts a new section */
	s->sealed = 0;
	pthread_mutex_unlock(&s->mu);
	pthread_mutex_unlock(&s->wmu);
	return 0;
}

/*
 * Write out wbuf (called with wmu held).  On failure the file is cut back
 * to what it held and wbuf is kept, to be written again.
 */
static int
drain(struct cdp_store *s)
{
	if (s->wlen == 0 || s->fd == -1)
		return 0;
	if (write_all(s->fd, s->wbuf, s->wlen) == -1) {
		int e = errno;

		if (ftruncate(s->fd, (off_t)s->written) == 0)
			lseek(s->fd, (off_t)s->written, SEEK_SET);
		errno = e;
		return -1;
	}
	s->written += s->wlen;
	s->wlen = 0;
	return 0;
}

/* Put bytes at the end of the last segment, or nothing at all. */
static int
put_bytes(struct cdp_store *s, const void *buf, size_t n)
{
	int rc = 0;

	pthread_mutex_lock(&s->wmu);
	if (s->wbuf != NULL && s->wlen + n > WBUF_SIZE)
		rc = drain(s);
	if (rc == 0 && s->wbuf != NULL && n <= WBUF_SIZE) {
		memcpy(s->wbuf + s->wlen, buf, n);
		s->wlen += n;
	} else if (rc == 0) {
		if ((rc = write_all(s->fd, buf, n)) == -1) {
			int e = errno;

			if (ftruncate(s->fd, (off_t)s->written) == 0)
				lseek(s->fd, (off_t)s->written, SEEK_SET);
			errno = e;
		} else
			s->written += n;
	}
	pthread_mutex_unlock(&s->wmu);
	if (rc == -1)
		return FAIL(s, "%s/%020" PRIu64 ".cdpj: %s", s->path,
		    s->cur_first, strerror(errno));
	pthread_mutex_lock(&s->mu);
	s->cur_size += n;
	s->segs[s->nsegs - 1].size = s->cur_size;
	pthread_mutex_unlock(&s->mu);
	return 0;
}

static int append_locked(struct cdp_store *, const struct cdp_record *,
	    struct cdp_store_pos *);

int
cdp_store_append(struct cdp_store *s, const struct cdp_record *rec,
    struct cdp_store_pos *pos)
{
	int rc;

	pthread_mutex_lock(&s->seal_mu);
	rc = append_locked(s, rec, pos);
	pthread_mutex_unlock(&s->seal_mu);
	return rc;
}

/*
 * A sealed last segment takes no more records: the next one starts a new
 * segment.  One named like the sealed segment (it holds no numbered record
 * yet, only a STREAM_END, say) would replace it: that one grows in place
 * instead, and is sealed (and uploaded) again later.  A HEARTBEAT is only
 * noted.  Returns 1 when rec was a HEARTBEAT taken care of, 0 to go on.
 */
static int
leave_sealed(struct cdp_store *s, const struct cdp_record *rec)
{
	uint64_t name = rec->seq != 0 ? rec->seq : s->next_seq;

	if (rec->seq == 0 && rec->type == CDP_T_HEARTBEAT) {
		pthread_mutex_lock(&s->mu);
		if (rec->time_ns > s->written_time)
			s->written_time = rec->time_ns;
		pthread_mutex_unlock(&s->mu);
		return 1;
	}
	if (name != s->cur_first && new_segment(s, name) == -1)
		return -1;
	s->sealed = 0;
	return 0;
}

static int
append_locked(struct cdp_store *s, const struct cdp_record *rec,
    struct cdp_store_pos *pos)
{
	struct cdp_streamrule_at here = { s->next_seq, s->have_records,
	    s->ended, s->fd != -1 };
	enum cdp_streamrule_fit fit;
	int numbered = rec->seq != 0, rc;
	uint64_t at;

	s->last_put = CDP_STORE_PUT_NOTHING;
	if (s->broken) {
		errno = EIO;
		return -1;
	}
	if (s->hdr == NULL) {
		errno = EINVAL;
		return FAIL(s, "no STREAM_HDR to start a segment with");
	}
	if (rec->type == CDP_T_STREAM_HDR)
		return 0;
	fit = cdp_streamrule_fit(&here, rec);
	if (fit == CDP_FIT_END_AGAIN)
		return 0;
	if (fit != CDP_FIT_NEXT && fit != CDP_FIT_IDLE)
		return cdp_streamrule_refuse(fit, &here, rec, s->err,
		    sizeof(s->err));
	if (s->sealed && s->fd != -1 && (rc = leave_sealed(s, rec)) != 0)
		return rc == 1 ? 0 : -1;
	if (fit == CDP_FIT_IDLE) {
		/* No segment to hang it on yet: keep only what it says. */
		if (s->fd == -1) {
			pthread_mutex_lock(&s->mu);
			if (rec->time_ns > s->written_time)
				s->written_time = rec->time_ns;
			pthread_mutex_unlock(&s->mu);
		}
		return 0;	/* after STREAM_END: nothing */
	}
	if (s->fd == -1 || (numbered &&
	    s->cur_size >= s->segment_size) || (numbered &&
	    !s->have_records && rec->seq != s->cur_first)) {
		/*
		 * The last case: the segment holds only unnumbered records
		 * (a STREAM_END) and is named for a seq this stream does not
		 * start with; a segment is named by its first numbered
		 * record, so that one starts a segment of its own.
		 */
		if (new_segment(s, numbered ? rec->seq : s->next_seq) == -1)
			return -1;
	} else if (s->ended) {
		/* A resumed section after STREAM_END starts with a header. */
		if (put_bytes(s, s->hdr, s->hdr_len) == -1)
			return -1;
		pthread_mutex_lock(&s->mu);
		s->ended = 0;
		pthread_mutex_unlock(&s->mu);
		/* Reported with the record, even if that is put on a retry. */
		s->hdr_put = 1;
	}
	at = s->cur_size;
	if (put_bytes(s, rec->raw, rec->raw_size) == -1)
		return -1;
	if (pos != NULL) {
		pos->segment = s->cur_first;
		pos->offset = at;
	}
	pthread_mutex_lock(&s->mu);
	if (numbered) {
		s->next_seq = rec->seq + 1;
		s->have_records = 1;
	}
	if (rec->type == CDP_T_STREAM_END)
		s->ended = 1;
	if (rec->time_ns > s->written_time)
		s->written_time = rec->time_ns;
	pthread_mutex_unlock(&s->mu);
	s->last_put = CDP_STORE_PUT_RECORD |
	    (s->hdr_put ? CDP_STORE_PUT_HDR : 0);
	s->hdr_put = 0;
	return 0;
}

int
cdp_store_last_put(const struct cdp_store *s)
{
	return s->last_put;
}

int
cdp_store_commit(struct cdp_store *s, int force)
{
	uint64_t seq, first = 0, size = 0, first_seq;
	int64_t t, now;
	int fd, dir, ended, rc = 0;
	size_t i;

	/* Lock order: commit_mu, then wmu, then mu. */
	pthread_mutex_lock(&s->commit_mu);
	/* What was gathered goes to the file first; a full disk waits. */
	pthread_mutex_lock(&s->wmu);
	if (!s->broken && drain(s) == -1) {
		FAIL(s, "%s/%020" PRIu64 ".cdpj: %s", s->path, s->cur_first,
		    strerror(errno));
		pthread_mutex_unlock(&s->wmu);
		pthread_mutex_unlock(&s->commit_mu);
		return -1;
	}
	pthread_mutex_lock(&s->mu);
	for (i = 0; i < s->nretired; i++)
		close(s->retired[i]);	/* flushed when they were retired */
	s->nretired = 0;
	fd = s->fd;
	if (fd != -1) {
		first = s->cur_first;
		size = s->written;
	}
	seq = s->next_seq - 1;
	t = s->written_time;
	dir = s->dir_dirty;
	s->dir_dirty = 0;
	/* For write_state(), consistent with seq. */
	first_seq = s->nsegs > 0 ? s->segs[0].first : 0;
	ended = s->ended;
	pthread_mutex_unlock(&s->mu);
	pthread_mutex_unlock(&s->wmu);

	if (s->broken) {
		errno = EIO;
		rc = -1;
	} else if ((fd != -1 && (first != s->synced_first ||
	    size != s->synced_size) && flush_fd(s, fd) == -1) ||
	    (dir && flush_fd(s, s->dirfd) == -1)) {
		FAIL(s, "%s/%020" PRIu64 ".cdpj: %s", s->path, first,
		    strerror(errno));
		/* Cut back to what the last good flush covered. */
		s->broken = 1;
		if (first == s->synced_first)
			(void)ftruncate(fd, (off_t)s->synced_size);
		rc = -1;
	} else {
		pthread_mutex_lock(&s->mu);
		s->synced_first = first;
		s->synced_size = size;
		s->durable_seq = seq;
		if (t > s->durable_time)
			s->durable_time = t;
		pthread_mutex_unlock(&s->mu);
	}
	now = cdp_time_now();
	if (rc == 0 && (force || now - s->state_at >= STATE_EVERY_NS) &&
	    (s->durable_seq != s->state_seq ||
	    s->durable_time != s->state_time || force)) {
		s->state_at = now;
		rc = write_state(s, s->durable_seq, s->durable_time,
		    first_seq, ended);
	}
	pthread_mutex_unlock(&s->commit_mu);
	return rc;
}

uint64_t
cdp_store_durable_seq(const struct cdp_store *s)
{
	uint64_t v;

	pthread_mutex_lock((pthread_mutex_t *)&s->mu);
	v = s->durable_seq;
	pthread_mutex_unlock((pthread_mutex_t *)&s->mu);
	return v;
}

int64_t
cdp_store_durable_time(const struct cdp_store *s)
{
	int64_t v;

	pthread_mutex_lock((pthread_mutex_t *)&s->mu);
	v = s->durable_time;
	pthread_mutex_unlock((pthread_mutex_t *)&s->mu);
	return v;
}

int
cdp_store_seal(struct cdp_store *s, uint64_t first, uint64_t *size,
    uint64_t *last)
{
	pthread_mutex_lock(&s->seal_mu);
	if (s->fd == -1 || s->cur_first != first) {
		pthread_mutex_unlock(&s->seal_mu);
		errno = ENOENT;
		return -1;
	}
	s->sealed = 1;
	pthread_mutex_lock(&s->mu);
	*size = s->cur_size;
	*last = s->next_seq - 1;
	pthread_mutex_unlock(&s->mu);
	pthread_mutex_unlock(&s->seal_mu);
	return 0;
}

uint64_t
cdp_store_segment_bytes(const struct cdp_store *s, uint64_t first)
{
	uint64_t n = 0;
	size_t i;

	pthread_mutex_lock((pthread_mutex_t *)&s->mu);
	for (i = 0; i < s->nsegs; i++)
		if (s->segs[i].first == first)
			n = s->segs[i].size;
	pthread_mutex_unlock((pthread_mutex_t *)&s->mu);
	return n;
}

int
cdp_store_durable_through(const struct cdp_store *s, uint64_t first,
    uint64_t size)
{
	int rc;

	pthread_mutex_lock((pthread_mutex_t *)&s->mu);
	rc = s->synced_first > first || (s->synced_first == first &&
	    s->synced_size >= size);
	pthread_mutex_unlock((pthread_mutex_t *)&s->mu);
	return rc;
}

int
cdp_store_drop_through(struct cdp_store *s, uint64_t seq)
{
	char name[SEG_NAME_LEN + 1];
	size_t n = 0, i;
	int rc = 0;

	pthread_mutex_lock(&s->mu);
	while (n + 1 < s->nsegs && s->segs[n + 1].first <= seq + 1) {
		seg_name(s->segs[n].first, name);
		if (unlinkat(s->dirfd, name, 0) == -1 && errno != ENOENT) {
			FAIL(s, "%s/%s: %s", s->path, name, strerror(errno));
			rc = -1;
			break;
		}
		n++;
	}
	if (n > 0) {
		for (i = n; i < s->nsegs; i++)
			s->segs[i - n] = s->segs[i];
		s->nsegs -= n;
		s->dir_dirty = 1;
	}
	pthread_mutex_unlock(&s->mu);
	return rc;
}

int
cdp_store_clear(struct cdp_store *s, uint64_t next_seq)
{
	char name[SEG_NAME_LEN + 1];
	size_t i;

	/* Lock order: wmu, then mu (as cdp_store_commit() takes them). */
	pthread_mutex_lock(&s->wmu);
	pthread_mutex_lock(&s->mu);
	for (i = 0; i < s->nretired; i++)
		close(s->retired[i]);
	s->nretired = 0;
	if (s->fd != -1)
		close(s->fd);
	s->fd = -1;
	s->wlen = 0;
	s->written = 0;
	pthread_mutex_unlock(&s->wmu);
	for (i = 0; i < s->nsegs; i++) {
		seg_name(s->segs[i].first, name);
		if (unlinkat(s->dirfd, name, 0) == -1 && errno != ENOENT) {
			pthread_mutex_unlock(&s->mu);
			return FAIL(s, "%s/%s: %s", s->path, name,
			    strerror(errno));
		}
	}
	if (next_seq == 0 && unlinkat(s->dirfd, "state", 0) == -1 &&
	    errno != ENOENT) {
		pthread_mutex_unlock(&s->mu);
		return FAIL(s, "%s/state: %s", s->path, strerror(errno));
	}
	s->nsegs = 0;
	s->ended = s->hdr_put = 0;
	s->synced_first = s->synced_size = 0;
	s->cur_first = s->cur_size = 0;
	if (next_seq == 0) {
		s->have_uuid = s->have_records = 0;
		free(s->hdr);
		s->hdr = NULL;
		s->next_seq = 1;
		s->durable_seq = s->state_seq = 0;
		s->written_time = s->durable_time = 0;
	} else {
		s->next_seq = next_seq;
		s->have_records = next_seq > 1;
		s->durable_seq = next_seq - 1;
	}
	pthread_mutex_unlock(&s->mu);
	return flush_fd(s, s->dirfd);
}

int
cdp_store_segments(const struct cdp_store *s, uint64_t **first, size_t *n)
{
	size_t i;

	pthread_mutex_lock((pthread_mutex_t *)&s->mu);
	*n = s->nsegs;
	*first = malloc((s->nsegs + 1) * sizeof(**first));
	if (*first != NULL)
		for (i = 0; i < s->nsegs; i++)
			(*first)[i] = s->segs[i].first;
	pthread_mutex_unlock((pthread_mutex_t *)&s->mu);
	return *first == NULL ? -1 : 0;
}

uint64_t
cdp_store_bytes(const struct cdp_store *s)
{
	uint64_t n = 0;
	size_t i;

	pthread_mutex_lock((pthread_mutex_t *)&s->mu);
	for (i = 0; i < s->nsegs; i++)
		n += s->segs[i].size;
	pthread_mutex_unlock((pthread_mutex_t *)&s->mu);
	return n;
}

int
cdp_store_open_segment(const struct cdp_store *s, uint64_t segment)
{
	char name[SEG_NAME_LEN + 1];

	seg_name(segment, name);
	return openat(s->dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
}

const char *
cdp_store_error(const struct cdp_store *s)
{
	return s->err;
}

const char *
cdp_store_notice(const struct cdp_store *s)
{
	return s->notice;
}

int
cdp_store_close(struct cdp_store *s)
{
	int rc = 0;

	if (s == NULL)
		return 0;
	if (!s->broken && s->have_uuid)
		rc = cdp_store_commit(s, 1);
	store_free(s);
	return rc;
}
