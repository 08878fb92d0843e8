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
 * A spool on a journal file has no store: the file is its own, and its
 * calls are in cdp_spool_file.c.  The index and what follows from it
 * (acknowledging, finding, reading, sending) are shared.
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
#include "cdp_spool_int.h"
#include "cdp_store.h"
#include "cdp_time.h"

#define SEGMENT_MAX	(64ull * 1024 * 1024)
#define SEGMENT_MIN	(64ull * 1024)
#define ACKED_EVERY_NS	1000000000LL

struct cdp_spool *
cdp_spool_new(const char *name, uint64_t max_bytes)
{
	struct cdp_spool *sp;

	if ((sp = calloc(1, sizeof(*sp))) == NULL)
		return NULL;
	if ((sp->dir = strdup(name)) == NULL) {
		free(sp);
		return NULL;
	}
	pthread_mutex_init(&sp->mu, NULL);
	sp->rfd = -1;
	sp->max_bytes = max_bytes;
	return sp;
}

void
cdp_spool_free(struct cdp_spool *sp)
{
	int e = errno;

	if (sp == NULL)
		return;
	pthread_mutex_destroy(&sp->mu);
	free(sp->ix);
	free(sp->dir);
	free(sp);
	errno = e;
}

int
cdp_spool_ix_push(struct cdp_spool *sp, const struct cdp_spool_rec *e)
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

/* Whether the last record held is a STREAM_END. */
int
cdp_spool_ix_ended(const struct cdp_spool *sp)
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

/* The receiver has every record before seq: forget them all. */
void
cdp_spool_ix_skip_to(struct cdp_spool *sp, uint64_t seq)
{
	ix_clear(sp);
	if (seq - 1 > sp->acked)
		sp->acked = seq - 1;
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
		if (cdp_spool_ix_ended(sp)) {
			e.size += (uint32_t)(e.offset - hdr_off);
			e.offset = hdr_off;
		}
		if (cdp_spool_ix_push(sp, &e) == -1) {
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
	int e;

	*why = err;
	if ((sp = cdp_spool_new(dir, max_bytes)) == NULL) {
		snprintf(err, sizeof(err), "%s", strerror(errno));
		return NULL;
	}
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
	e = errno;
	free(segs);
	if (sp->st != NULL)
		cdp_store_close(sp->st);
	cdp_spool_free(sp);
	errno = e;
	return NULL;
}

int
cdp_spool_uuid(struct cdp_spool *sp, uint8_t uuid[16])
{
	if (sp->file != NULL)
		return cdp_spool_file_uuid(sp, uuid);
	return cdp_store_uuid(sp->st, uuid);
}

const uint8_t *
cdp_spool_header(struct cdp_spool *sp, size_t *len)
{
	if (sp->file != NULL)
		return cdp_spool_file_header(sp, len);
	return cdp_store_header(sp->st, len);
}

uint64_t
cdp_spool_next_seq(struct cdp_spool *sp)
{
	if (sp->file != NULL)
		return cdp_spool_file_next_seq(sp);
	return cdp_store_next_seq(sp->st);
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
	if (sp->file != NULL)
		return cdp_spool_file_ended(sp);
	return cdp_store_ended(sp->st);
}

int
cdp_spool_begin(struct cdp_spool *sp, const struct cdp_record *hdr)
{
	uint8_t uuid[16];

	if (sp->file != NULL)
		return cdp_spool_file_begin(sp, hdr);
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

int
cdp_spool_fit(struct cdp_spool *sp, const struct cdp_streamrule_at *at,
    const struct cdp_record *rec, enum cdp_streamrule_fit *fit)
{
	switch ((*fit = cdp_streamrule_fit(at, rec))) {
	case CDP_FIT_REPEAT:
	case CDP_FIT_END_AGAIN:
		return 1;
	case CDP_FIT_GAP:
		snprintf(sp->err, sizeof(sp->err), "seq %" PRIu64 " follows "
		    "seq %" PRIu64 " in the spool", rec->seq, at->next_seq - 1);
		errno = EINVAL;
		return -1;
	default:
		return 0;
	}
}

int
cdp_spool_put(struct cdp_spool *sp, const struct cdp_record *rec)
{
	struct cdp_store_pos pos = { UINT64_MAX, 0 };
	struct cdp_streamrule_at at = { 0 };
	enum cdp_streamrule_fit fit;
	struct cdp_spool_rec e;
	size_t hdr_len;
	int rc, ended;

	if (sp->file != NULL)
		return cdp_spool_file_put(sp, rec);
	if (rec->type == CDP_T_STREAM_HDR)
		return 0;
	/* The spool's side of the rule; the store judges the rest. */
	at.next_seq = cdp_store_next_seq(sp->st);
	at.have_records = at.next_seq > 1;
	at.ended = cdp_store_ended(sp->st);
	if ((rc = cdp_spool_fit(sp, &at, rec, &fit)) != 0)
		return rc;
	pthread_mutex_lock(&sp->mu);
	rc = sp->len > 0 &&
	    cdp_store_bytes(sp->st) + rec->raw_size > sp->max_bytes;
	ended = cdp_spool_ix_ended(sp);
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
	rc = cdp_spool_ix_push(sp, &e);
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
	if (sp->file != NULL)
		return cdp_spool_file_skip_to(sp, seq);
	pthread_mutex_lock(&sp->mu);
	cdp_spool_ix_skip_to(sp, seq);
	pthread_mutex_unlock(&sp->mu);
	return cdp_store_clear(sp->st, seq);
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
	if (sp->file != NULL)
		return cdp_spool_file_fd(sp);
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
	if (sp->file != NULL)
		return cdp_spool_file_bytes(sp);
	return cdp_store_bytes(sp->st);
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
	if (sp->file != NULL)
		cdp_spool_file_close(sp);
	else {
		write_acked(sp);
		cdp_store_close(sp->st);
	}
	if (sp->rfd != -1)
		close(sp->rfd);
	cdp_spool_free(sp);
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
	if (sp->file != NULL)
		return cdp_spool_file_changed(sp);
	errno = EIO;
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
