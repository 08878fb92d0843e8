/*
 * cdp_spool.c: cdp-send's spool: a store without fsync, and an index.
 *
 * The index lives in memory (one small entry per record) and is rebuilt
 * from the segments when cdp-send starts again on the same spool.  The
 * last acknowledged seq is kept in ".acked" so that a restarted cdp-send
 * knows whether what the spool holds still matters; it is only a hint
 * (the receiver's RESUME decides what is sent), so it is written about
 * once a second and at close, never flushed.
 *
 * Records go out straight from the segment files, with sendfile(2): the
 * spool is written once and read by the kernel, not copied through here.
 *
 * A spool on a journal file has no store: the index points into the file,
 * records go out from there, and the little a store would say (the
 * stream, the next seq, whether it ended) is kept here.
 */
#include <sys/sendfile.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cdp_proto.h"
#include "cdp_reader.h"
#include "cdp_source.h"
#include "cdp_spool.h"
#include "cdp_store.h"
#include "cdp_time.h"

#define SEGMENT_MAX	(64ull * 1024 * 1024)
#define SEGMENT_MIN	(64ull * 1024)
#define ACKED_EVERY_NS	1000000000LL

struct cdp_spool {
	struct cdp_store *st;
	char		*dir;
	uint64_t	 max_bytes;
	pthread_mutex_t	 mu;

	struct cdp_spool_rec *ix;	/* entries [head, head + len) */
	size_t		 head, len, cap;
	uint64_t	 base;		/* position of ix[head] */
	uint64_t	 flushed;	/* position after the last flushed */
	uint64_t	 acked;
	int64_t		 acked_at;

	int		 rfd;		/* segment being read */
	uint64_t	 rseg;
	uint64_t	 held;		/* bytes of the records indexed */
	char		 err[512];

	/* A spool on a journal file (st is NULL); under mu. */
	int		 ffd;		/* the file, -1 for a store */
	int		 fhave_uuid;
	uint8_t		 fuuid[16];
	uint8_t		*fhdr;		/* the stream's STREAM_HDR, framed */
	size_t		 fhdr_len;
	uint64_t	 fnext;		/* the seq the next record must have */
	uint64_t	 fhdr_off;	/* where the last STREAM_HDR read is */
	int		 fany;		/* put anything since open or skip */
};

static int
ix_push(struct cdp_spool *sp, const struct cdp_spool_rec *e)
{
	if (sp->head + sp->len == sp->cap) {
		if (sp->head > sp->cap / 2) {
			memmove(sp->ix, sp->ix + sp->head,
			    sp->len * sizeof(*sp->ix));
			sp->head = 0;
		} else {
			size_t cap = sp->cap ? sp->cap * 2 : 1024;
			struct cdp_spool_rec *n;

			if ((n = realloc(sp->ix, cap * sizeof(*n))) == NULL)
				return -1;
			sp->ix = n;
			sp->cap = cap;
		}
	}
	sp->ix[sp->head + sp->len++] = *e;
	sp->held += e->size;
	return 0;
}

/* Whether the last record held is a STREAM_END (called with mu held). */
static int
ix_ended(const struct cdp_spool *sp)
{
	return sp->len > 0 &&
	    sp->ix[sp->head + sp->len - 1].type == CDP_T_STREAM_END;
}

static void
ix_pop(struct cdp_spool *sp)
{
	sp->held -= sp->ix[sp->head].size;
	sp->head++;
	sp->len--;
	sp->base++;
	if (sp->flushed < sp->base)
		sp->flushed = sp->base;
}

/* Forget every record (called with mu held). */
static void
ix_clear(struct cdp_spool *sp)
{
	sp->base += sp->len;
	sp->head = sp->len = 0;
	sp->flushed = sp->base;
	sp->held = 0;
}

/* Index the records of one segment. */
static int
index_segment(struct cdp_spool *sp, uint64_t segment)
{
	struct cdp_source *src = NULL;
	struct cdp_reader *r = NULL;
	struct cdp_record *rec;
	struct cdp_spool_rec e;
	uint64_t hdr_off = 0;
	int fd, rc = -1;

	if ((rec = malloc(sizeof(*rec))) == NULL)
		return -1;
	if ((fd = cdp_store_open_segment(sp->st, segment)) == -1 ||
	    (src = cdp_source_fd(fd, "spool")) == NULL ||
	    (r = cdp_reader_open(src, 0)) == NULL)
		goto done;
	while ((rc = cdp_reader_next(r, rec)) == 1) {
		if (rec->type == CDP_T_STREAM_HDR) {
			hdr_off = rec->offset;
			continue;
		}
		e.seq = rec->seq;
		e.time_ns = rec->time_ns;
		e.type = rec->type;
		e.size = (uint32_t)rec->raw_size;
		e.segment = segment;
		e.offset = rec->offset;
		/* A section after STREAM_END is sent with its header. */
		if (ix_ended(sp)) {
			e.size += (uint32_t)(e.offset - hdr_off);
			e.offset = hdr_off;
		}
		if (ix_push(sp, &e) == -1) {
			rc = -1;
			break;
		}
	}
	if (rc == -1 && errno == EBADMSG)
		snprintf(sp->err, sizeof(sp->err), "%s: %s", sp->dir,
		    cdp_reader_error(r));
done:
	cdp_reader_close(r);
	cdp_source_close(src);
	if (fd != -1)
		close(fd);
	free(rec);
	return rc;
}

static void
read_acked(struct cdp_spool *sp)
{
	char *name, buf[32];
	ssize_t n;
	int fd;

	if (asprintf(&name, "%s/.acked", sp->dir) == -1)
		return;
	fd = open(name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	free(name);
	if (fd == -1)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n > 0) {
		buf[n] = '\0';
		sp->acked = strtoull(buf, NULL, 10);
	}
}

static void
write_acked(struct cdp_spool *sp)
{
	char *tmp, *name, buf[32];
	int fd, n;

	if (sp->st == NULL)
		return;		/* a later cdp-send reads the file again */
	if (asprintf(&tmp, "%s/.acked.tmp", sp->dir) == -1)
		return;
	if (asprintf(&name, "%s/.acked", sp->dir) == -1) {
		free(tmp);
		return;
	}
	n = snprintf(buf, sizeof(buf), "%" PRIu64 "\n", sp->acked);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	    0644);
	if (fd != -1) {
		if (write(fd, buf, (size_t)n) == n)
			(void)rename(tmp, name);
		close(fd);
	}
	free(tmp);
	free(name);
}

struct cdp_spool *
cdp_spool_open(const char *dir, uint64_t max_bytes, const char **why)
{
	static char err[512];
	struct cdp_spool *sp;
	uint64_t *segs = NULL, seg;
	size_t n = 0, i;

	*why = err;
	if ((sp = calloc(1, sizeof(*sp))) == NULL ||
	    (sp->dir = strdup(dir)) == NULL) {
		free(sp);
		snprintf(err, sizeof(err), "%s", strerror(errno));
		return NULL;
	}
	pthread_mutex_init(&sp->mu, NULL);
	sp->rfd = -1;
	sp->ffd = -1;
	sp->max_bytes = max_bytes;
	sp->st = cdp_store_open(dir, CDP_STORE_CREATE | CDP_STORE_NOSYNC, why);
	if (sp->st == NULL)
		goto fail;
	seg = max_bytes / 8;
	seg = seg > SEGMENT_MAX ? SEGMENT_MAX : seg < SEGMENT_MIN ?
	    SEGMENT_MIN : seg;
	cdp_store_set_segment_size(sp->st, seg);
	read_acked(sp);
	if (cdp_store_segments(sp->st, &segs, &n) == -1)
		goto fail_errno;
	for (i = 0; i < n; i++)
		if (index_segment(sp, segs[i]) == -1) {
			if (sp->err[0] == '\0')
				goto fail_errno;
			snprintf(err, sizeof(err), "%s", sp->err);
			goto fail;
		}
	free(segs);
	segs = NULL;
	sp->flushed = sp->base + sp->len;
	/* What was acknowledged before is not needed again. */
	cdp_spool_ack(sp, sp->acked, NULL, NULL);
	return sp;

fail_errno:
	snprintf(err, sizeof(err), "%s: %s", dir, strerror(errno));
fail:
	free(segs);
	{
		int e = errno;

		if (sp->st != NULL)
			cdp_store_close(sp->st);
		free(sp->ix);
		free(sp->dir);
		free(sp);
		errno = e;
	}
	return NULL;
}

struct cdp_spool *
cdp_spool_open_file(int fd, const char *name, uint64_t max_bytes,
    const char **why)
{
	static char err[512];
	struct cdp_spool *sp;

	*why = err;
	if ((sp = calloc(1, sizeof(*sp))) == NULL ||
	    (sp->dir = strdup(name)) == NULL ||
	    (sp->ffd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) == -1) {
		snprintf(err, sizeof(err), "%s: %s", name, strerror(errno));
		if (sp != NULL)
			free(sp->dir);
		free(sp);
		return NULL;
	}
	pthread_mutex_init(&sp->mu, NULL);
	sp->rfd = -1;
	sp->max_bytes = max_bytes;
	sp->fnext = 1;
	return sp;
}

int
cdp_spool_uuid(struct cdp_spool *sp, uint8_t uuid[16])
{
	int rc;

	if (sp->st != NULL)
		return cdp_store_uuid(sp->st, uuid);
	pthread_mutex_lock(&sp->mu);
	if ((rc = sp->fhave_uuid))
		memcpy(uuid, sp->fuuid, 16);
	pthread_mutex_unlock(&sp->mu);
	return rc;
}

const uint8_t *
cdp_spool_header(struct cdp_spool *sp, size_t *len)
{
	const uint8_t *h;

	if (sp->st != NULL)
		return cdp_store_header(sp->st, len);
	pthread_mutex_lock(&sp->mu);
	h = sp->fhdr;
	*len = sp->fhdr_len;
	pthread_mutex_unlock(&sp->mu);
	return h;
}

uint64_t
cdp_spool_next_seq(struct cdp_spool *sp)
{
	uint64_t v;

	if (sp->st != NULL)
		return cdp_store_next_seq(sp->st);
	pthread_mutex_lock(&sp->mu);
	v = sp->fnext;
	pthread_mutex_unlock(&sp->mu);
	return v;
}

uint64_t
cdp_spool_acked(struct cdp_spool *sp)
{
	uint64_t v;

	pthread_mutex_lock(&sp->mu);
	v = sp->acked;
	pthread_mutex_unlock(&sp->mu);
	return v;
}

int
cdp_spool_ended(struct cdp_spool *sp)
{
	int v;

	if (sp->st != NULL)
		return cdp_store_ended(sp->st);
	pthread_mutex_lock(&sp->mu);
	v = ix_ended(sp);
	pthread_mutex_unlock(&sp->mu);
	return v;
}

/* cdp_spool_begin() on a file: the stream's header, and where it is. */
static int
file_begin(struct cdp_spool *sp, const struct cdp_record *hdr)
{
	uint8_t *copy;

	if (sp->fhave_uuid && memcmp(sp->fuuid, hdr->uuid, 16) != 0) {
		snprintf(sp->err, sizeof(sp->err), "%s: a second stream",
		    sp->dir);
		errno = EINVAL;
		return -1;
	}
	if ((copy = malloc(hdr->raw_size)) == NULL)
		return -1;
	memcpy(copy, hdr->raw, hdr->raw_size);
	pthread_mutex_lock(&sp->mu);
	free(sp->fhdr);
	sp->fhdr = copy;
	sp->fhdr_len = hdr->raw_size;
	memcpy(sp->fuuid, hdr->uuid, 16);
	sp->fhave_uuid = 1;
	sp->fhdr_off = hdr->offset;
	pthread_mutex_unlock(&sp->mu);
	return 0;
}

int
cdp_spool_begin(struct cdp_spool *sp, const struct cdp_record *hdr)
{
	uint8_t uuid[16];

	if (sp->st == NULL)
		return file_begin(sp, hdr);
	if (cdp_store_uuid(sp->st, uuid) && memcmp(uuid, hdr->uuid, 16) != 0) {
		if (cdp_store_next_seq(sp->st) - 1 > cdp_spool_acked(sp)) {
			errno = EEXIST;
			snprintf(sp->err, sizeof(sp->err), "%s", "");
			return -1;
		}
		if (cdp_store_clear(sp->st, 0) == -1)
			return -1;
		pthread_mutex_lock(&sp->mu);
		ix_clear(sp);
		sp->acked = 0;
		pthread_mutex_unlock(&sp->mu);
	}
	return cdp_store_begin(sp->st, hdr);
}

/*
 * cdp_spool_put() on a file: index the record where it is, taking what a
 * store would take (cdp_store_append()), and drop the same.  Called with
 * mu held.
 */
static int
file_put(struct cdp_spool *sp, const struct cdp_record *rec)
{
	struct cdp_spool_rec e;

	if (rec->type == CDP_T_STREAM_HDR) {
		sp->fhdr_off = rec->offset;
		return 0;
	}
	if ((rec->type == CDP_T_STREAM_END && ix_ended(sp)) ||
	    (rec->seq != 0 && rec->seq < sp->fnext))
		return 1;
	if (rec->seq != 0 && sp->fnext > 1 && rec->seq > sp->fnext) {
		snprintf(sp->err, sizeof(sp->err), "seq %" PRIu64 " follows "
		    "seq %" PRIu64 " in the spool", rec->seq, sp->fnext - 1);
		errno = EINVAL;
		return -1;
	}
	if (rec->type == CDP_T_STREAM_END && sp->fnext > 1 &&
	    rec->u64 != sp->fnext - 1) {
		snprintf(sp->err, sizeof(sp->err), "STREAM_END with last_seq "
		    "%" PRIu64 " after seq %" PRIu64, rec->u64, sp->fnext - 1);
		errno = EINVAL;
		return -1;
	}
	if (sp->len > 0 && sp->held + rec->raw_size > sp->max_bytes) {
		errno = EAGAIN;
		return -1;
	}
	/* A store keeps no HEARTBEAT before anything else, or after the end. */
	if (rec->type == CDP_T_HEARTBEAT && (!sp->fany || ix_ended(sp)))
		return 0;
	e.seq = rec->seq;
	e.time_ns = rec->time_ns;
	e.type = rec->type;
	e.size = (uint32_t)rec->raw_size;
	e.segment = 0;
	e.offset = rec->offset;
	/*
	 * After a STREAM_END, the section's header (the reader had one
	 * come first) goes out with the record, as from a store.
	 */
	if (ix_ended(sp) && sp->fhdr_off < e.offset) {
		e.size += (uint32_t)(e.offset - sp->fhdr_off);
		e.offset = sp->fhdr_off;
	}
	if (ix_push(sp, &e) == -1)
		return -1;
	if (rec->seq != 0)
		sp->fnext = rec->seq + 1;
	sp->fany = 1;
	return 0;
}

int
cdp_spool_put(struct cdp_spool *sp, const struct cdp_record *rec)
{
	struct cdp_store_pos pos = { UINT64_MAX, 0 };
	uint64_t next;
	struct cdp_spool_rec e;
	size_t hdr_len;
	int rc, ended;

	if (sp->st == NULL) {
		pthread_mutex_lock(&sp->mu);
		rc = file_put(sp, rec);
		pthread_mutex_unlock(&sp->mu);
		return rc;
	}
	next = cdp_store_next_seq(sp->st);
	if (rec->type == CDP_T_STREAM_HDR)
		return 0;
	if ((rec->type == CDP_T_STREAM_END && cdp_store_ended(sp->st)) ||
	    (rec->seq != 0 && rec->seq < next))
		return 1;
	if (rec->seq != 0 && next > 1 && rec->seq > next) {
		snprintf(sp->err, sizeof(sp->err), "seq %" PRIu64 " follows "
		    "seq %" PRIu64 " in the spool", rec->seq, next - 1);
		errno = EINVAL;
		return -1;
	}
	pthread_mutex_lock(&sp->mu);
	rc = sp->len > 0 &&
	    cdp_store_bytes(sp->st) + rec->raw_size > sp->max_bytes;
	ended = ix_ended(sp);
	pthread_mutex_unlock(&sp->mu);
	if (rc) {
		errno = EAGAIN;
		return -1;
	}
	if (cdp_store_append(sp->st, rec, &pos) == -1)
		return -1;
	if (pos.segment == UINT64_MAX)
		return 0;	/* dropped: nothing to send */
	e.seq = rec->seq;
	e.time_ns = rec->time_ns;
	e.type = rec->type;
	e.size = (uint32_t)rec->raw_size;
	e.segment = pos.segment;
	e.offset = pos.offset;
	/*
	 * After a STREAM_END the store put the stream's header right before
	 * the record (or started a segment with it): the two go out as one,
	 * so that the receiver sees the section start.
	 */
	if (ended && cdp_store_header(sp->st, &hdr_len) != NULL &&
	    e.offset >= hdr_len) {
		e.offset -= hdr_len;
		e.size += (uint32_t)hdr_len;
	}
	pthread_mutex_lock(&sp->mu);
	rc = ix_push(sp, &e);
	pthread_mutex_unlock(&sp->mu);
	return rc;
}

int
cdp_spool_flush(struct cdp_spool *sp)
{
	uint64_t end;

	pthread_mutex_lock(&sp->mu);
	end = sp->base + sp->len;
	pthread_mutex_unlock(&sp->mu);
	/*
	 * Everything put before end is in the store; a commit writes out
	 * what the store gathered (a spool's store never flushes to disk).
	 * A file holds it all already.
	 */
	if (sp->st != NULL && cdp_store_commit(sp->st, 0) == -1) {
		snprintf(sp->err, sizeof(sp->err), "%s",
		    cdp_store_error(sp->st));
		return -1;
	}
	pthread_mutex_lock(&sp->mu);
	if (end > sp->flushed)
		sp->flushed = end;
	pthread_mutex_unlock(&sp->mu);
	return 0;
}

int
cdp_spool_skip_to(struct cdp_spool *sp, uint64_t seq)
{
	pthread_mutex_lock(&sp->mu);
	ix_clear(sp);
	if (seq - 1 > sp->acked)
		sp->acked = seq - 1;
	sp->fnext = seq;
	sp->fany = 0;
	pthread_mutex_unlock(&sp->mu);
	return sp->st != NULL ? cdp_store_clear(sp->st, seq) : 0;
}

int
cdp_spool_ack(struct cdp_spool *sp, uint64_t seq,
    void (*each)(void *, const struct cdp_spool_rec *, int64_t),
    void *arg)
{
	int64_t now = cdp_time_now();
	struct cdp_spool_rec *e;

	pthread_mutex_lock(&sp->mu);
	if (seq > sp->acked)
		sp->acked = seq;
	/*
	 * Keep STREAM_END: it is acknowledged only by a clean goodbye, or by
	 * the acknowledgement of a record after it.
	 */
	while (sp->len > 0 && (e = &sp->ix[sp->head])->seq <= seq &&
	    (e->type != CDP_T_STREAM_END || (sp->len > 1 &&
	    e[1].seq != 0 && e[1].seq <= seq))) {
		if (e->seq != 0 && each != NULL)
			each(arg, e, now);
		ix_pop(sp);
	}
	if (now - sp->acked_at >= ACKED_EVERY_NS) {
		sp->acked_at = now;
		write_acked(sp);
	}
	pthread_mutex_unlock(&sp->mu);
	if (sp->st != NULL && cdp_store_drop_through(sp->st, seq) == -1) {
		snprintf(sp->err, sizeof(sp->err), "%s",
		    cdp_store_error(sp->st));
		return -1;
	}
	return 0;
}

int
cdp_spool_find(struct cdp_spool *sp, uint64_t next_seq, uint64_t *pos)
{
	size_t i, at = 0;
	int rc = 0;

	pthread_mutex_lock(&sp->mu);
	if (next_seq <= sp->acked && next_seq != 1) {
		errno = ERANGE;
		rc = -1;
	}
	for (i = 0; i < sp->len; i++) {
		uint64_t s = sp->ix[sp->head + i].seq;

		if (s != 0 && s < next_seq)
			at = i + 1;
		if (s >= next_seq)
			break;
	}
	while (at < sp->len && sp->ix[sp->head + at].type == CDP_T_HEARTBEAT)
		at++;
	*pos = sp->base + at;
	pthread_mutex_unlock(&sp->mu);
	return rc;
}

uint64_t
cdp_spool_end(struct cdp_spool *sp)
{
	uint64_t v;

	pthread_mutex_lock(&sp->mu);
	v = sp->flushed;
	pthread_mutex_unlock(&sp->mu);
	return v;
}

/* The segment file of the record being read, kept open. */
static int
segment_fd(struct cdp_spool *sp, uint64_t segment)
{
	if (sp->st == NULL)
		return sp->ffd;
	if (sp->rfd != -1 && sp->rseg == segment)
		return sp->rfd;
	if (sp->rfd != -1)
		close(sp->rfd);
	sp->rfd = cdp_store_open_segment(sp->st, segment);
	sp->rseg = segment;
	return sp->rfd;
}

int
cdp_spool_read(struct cdp_spool *sp, uint64_t pos, uint8_t **buf,
    size_t *cap, struct cdp_spool_rec *info)
{
	size_t done = 0;
	int fd;

	pthread_mutex_lock(&sp->mu);
	if (pos < sp->base) {
		pthread_mutex_unlock(&sp->mu);
		errno = ERANGE;
		return -1;
	}
	if (pos >= sp->base + sp->len) {
		pthread_mutex_unlock(&sp->mu);
		return 0;
	}
	*info = sp->ix[sp->head + (pos - sp->base)];
	pthread_mutex_unlock(&sp->mu);
	if (buf == NULL)
		return 1;
	if (pos >= cdp_spool_end(sp) && cdp_spool_flush(sp) == -1)
		return -1;

	if (info->size > *cap) {
		uint8_t *n = realloc(*buf, info->size);

		if (n == NULL)
			return -1;
		*buf = n;
		*cap = info->size;
	}
	if ((fd = segment_fd(sp, info->segment)) == -1)
		return -1;
	while (done < info->size) {
		ssize_t r = pread(fd, *buf + done, info->size - done,
		    (off_t)(info->offset + done));

		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = EIO;
			return -1;
		}
		done += (size_t)r;
	}
	return 1;
}

uint64_t
cdp_spool_bytes(struct cdp_spool *sp)
{
	uint64_t v;

	if (sp->st != NULL)
		return cdp_store_bytes(sp->st);
	pthread_mutex_lock(&sp->mu);
	v = sp->held;
	pthread_mutex_unlock(&sp->mu);
	return v;
}

const char *
cdp_spool_error(struct cdp_spool *sp)
{
	if (sp->err[0] != '\0' || sp->st == NULL)
		return sp->err;
	return cdp_store_error(sp->st);
}

void
cdp_spool_close(struct cdp_spool *sp)
{
	if (sp == NULL)
		return;
	write_acked(sp);
	if (sp->rfd != -1)
		close(sp->rfd);
	if (sp->ffd != -1)
		close(sp->ffd);
	if (sp->st != NULL)
		cdp_store_close(sp->st);
	pthread_mutex_destroy(&sp->mu);
	free(sp->fhdr);
	free(sp->ix);
	free(sp->dir);
	free(sp);
}

struct cdp_spool *
cdp_spool_open_tmp(uint64_t max_bytes, char **dir, const char **why)
{
	static char msg[512];
	const char *tmp = getenv("TMPDIR");
	struct cdp_spool *sp;

	*dir = NULL;
	if (asprintf(dir, "%s/cdp-send.XXXXXX", tmp && *tmp ? tmp : "/tmp")
	    == -1 || mkdtemp(*dir) == NULL) {
		snprintf(msg, sizeof(msg), "%s: %s", *dir ? *dir : "spool",
		    strerror(errno));
		if (why != NULL)
			*why = msg;
		free(*dir);
		*dir = NULL;
		return NULL;
	}
	if ((sp = cdp_spool_open(*dir, max_bytes, why)) == NULL) {
		int e = errno;

		cdp_spool_remove_tmp(*dir);
		free(*dir);
		*dir = NULL;
		errno = e;
	}
	return sp;
}

void
cdp_spool_remove_tmp(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
	rmdir(dir);
}

/* Copy len bytes at off of file in to out.  0, or -1 and errno. */
static int
send_range(int out, int in, uint64_t off, uint64_t len)
{
	off_t o = (off_t)off;

	while (len > 0) {
		ssize_t n = sendfile(out, in, &o, (size_t)len);

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = ENODATA;	/* the file is short */
			return -1;
		}
		len -= (uint64_t)n;
	}
	return 0;
}

/*
 * After a failed send_range(): a file that came up short is EIO for a
 * segment, and ESTALE for a journal file, which changed since it was
 * read (what is held is no longer there).  -1.
 */
static int
short_file(struct cdp_spool *sp)
{
	if (errno != ENODATA)
		return -1;
	errno = EIO;
	if (sp->st == NULL) {
		snprintf(sp->err, sizeof(sp->err), "%s: shorter than when "
		    "it was read: changed while being sent", sp->dir);
		errno = ESTALE;
	}
	return -1;
}

int
cdp_spool_send(struct cdp_spool *sp, int fd, uint64_t *pos,
    void (*sent)(void *, uint64_t, uint64_t), void *arg)
{
	struct cdp_spool_rec *e;
	uint64_t seq, seg, off, len;
	size_t i, n;
	int in;

	for (;;) {
		pthread_mutex_lock(&sp->mu);
		if (*pos < sp->base) {
			/* The spool skipped ahead to what the receiver has. */
			pthread_mutex_unlock(&sp->mu);
			if (cdp_spool_find(sp, 1, pos) == -1)
				return -1;
			continue;
		}
		if (*pos >= sp->flushed) {
			pthread_mutex_unlock(&sp->mu);
			return 0;
		}
		/* The records that follow each other in one segment. */
		i = sp->head + (size_t)(*pos - sp->base);
		e = &sp->ix[i];
		seq = e->seq;
		seg = e->segment;
		off = e->offset;
		len = e->size;
		for (n = 1; *pos + n < sp->flushed && len < CDP_SPOOL_SEND_MAX;
		    n++) {
			e = &sp->ix[i + n];
			if (e->segment != seg || e->offset != off + len)
				break;
			if (e->seq != 0)
				seq = e->seq;
			len += e->size;
		}
		pthread_mutex_unlock(&sp->mu);
		if (sent != NULL)
			sent(arg, seq, len);
		if ((in = segment_fd(sp, seg)) == -1)
			return -1;
		if (send_range(fd, in, off, len) == -1)
			return short_file(sp);
		*pos += n;
	}
}
