/*
 * cdp_spool_file.c: a spool on a journal file (cdp_spool_open_file()).
 *
 * The file holds the records already, so it is its own store: the index
 * points into it, records go out from there, and the little a store would
 * say (the stream, the next seq, whether it ended) is kept here.  What is
 * put is judged by the stream rule a store applies (cdp_streamrule.h), so
 * that the receiver is sent what a spool directory would have sent.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cdp_spool_int.h"

/* All under the spool's mu. */
struct cdp_spool_file {
	int		 fd;
	int		 have_uuid;
	uint8_t		 uuid[16];
	uint8_t		*hdr;		/* the stream's STREAM_HDR, framed */
	size_t		 hdr_len;
	uint64_t	 next;		/* the seq the next record must have */
	uint64_t	 hdr_off;	/* where the last STREAM_HDR read is */
	int		 any;		/* put anything since open or skip */
};

struct cdp_spool *
cdp_spool_open_file(int fd, const char *name, uint64_t max_bytes,
    const char **why)
{
	static char err[512];
	struct cdp_spool *sp;
	struct cdp_spool_file *f = NULL;

	*why = err;
	if ((sp = cdp_spool_new(name, max_bytes)) == NULL ||
	    (f = calloc(1, sizeof(*f))) == NULL ||
	    (f->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) == -1) {
		snprintf(err, sizeof(err), "%s: %s", name, strerror(errno));
		free(f);
		cdp_spool_free(sp);
		return NULL;
	}
	f->next = 1;
	sp->file = f;
	return sp;
}

int
cdp_spool_file_uuid(struct cdp_spool *sp, uint8_t uuid[16])
{
	int rc;

	pthread_mutex_lock(&sp->mu);
	if ((rc = sp->file->have_uuid))
		memcpy(uuid, sp->file->uuid, 16);
	pthread_mutex_unlock(&sp->mu);
	return rc;
}

const uint8_t *
cdp_spool_file_header(struct cdp_spool *sp, size_t *len)
{
	const uint8_t *h;

	pthread_mutex_lock(&sp->mu);
	h = sp->file->hdr;
	*len = sp->file->hdr_len;
	pthread_mutex_unlock(&sp->mu);
	return h;
}

uint64_t
cdp_spool_file_next_seq(struct cdp_spool *sp)
{
	uint64_t v;

	pthread_mutex_lock(&sp->mu);
	v = sp->file->next;
	pthread_mutex_unlock(&sp->mu);
	return v;
}

int
cdp_spool_file_ended(struct cdp_spool *sp)
{
	int v;

	pthread_mutex_lock(&sp->mu);
	v = cdp_spool_ix_ended(sp);
	pthread_mutex_unlock(&sp->mu);
	return v;
}

uint64_t
cdp_spool_file_bytes(struct cdp_spool *sp)
{
	uint64_t v;

	pthread_mutex_lock(&sp->mu);
	v = sp->held;
	pthread_mutex_unlock(&sp->mu);
	return v;
}

/* The stream's header, and where it is. */
int
cdp_spool_file_begin(struct cdp_spool *sp, const struct cdp_record *hdr)
{
	struct cdp_spool_file *f = sp->file;
	uint8_t *copy;

	if (f->have_uuid && memcmp(f->uuid, hdr->uuid, 16) != 0) {
		snprintf(sp->err, sizeof(sp->err), "%s: a second stream",
		    sp->dir);
		errno = EINVAL;
		return -1;
	}
	if ((copy = malloc(hdr->raw_size)) == NULL)
		return -1;
	memcpy(copy, hdr->raw, hdr->raw_size);
	pthread_mutex_lock(&sp->mu);
	free(f->hdr);
	f->hdr = copy;
	f->hdr_len = hdr->raw_size;
	memcpy(f->uuid, hdr->uuid, 16);
	f->have_uuid = 1;
	f->hdr_off = hdr->offset;
	pthread_mutex_unlock(&sp->mu);
	return 0;
}

/*
 * Index the record where it is, taking what a store would take
 * (cdp_store_append()), and drop the same.  Called with mu held.
 */
static int
put_locked(struct cdp_spool *sp, const struct cdp_record *rec)
{
	struct cdp_spool_file *f = sp->file;
	struct cdp_streamrule_at at = { f->next, f->next > 1,
	    cdp_spool_ix_ended(sp), f->any };
	enum cdp_streamrule_fit fit;
	struct cdp_spool_rec e;
	int rc;

	if (rec->type == CDP_T_STREAM_HDR) {
		f->hdr_off = rec->offset;
		return 0;
	}
	if ((rc = cdp_spool_fit(sp, &at, rec, &fit)) != 0)
		return rc;
	if (fit == CDP_FIT_BAD_END)
		return cdp_streamrule_refuse(fit, &at, rec, sp->err,
		    sizeof(sp->err));
	if (sp->len > 0 && sp->held + rec->raw_size > sp->max_bytes) {
		errno = EAGAIN;
		return -1;
	}
	if (fit == CDP_FIT_IDLE)
		return 0;	/* a store keeps none of it either */
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
	if (at.ended && f->hdr_off < e.offset) {
		e.size += (uint32_t)(e.offset - f->hdr_off);
		e.offset = f->hdr_off;
	}
	if (cdp_spool_ix_push(sp, &e) == -1)
		return -1;
	if (rec->seq != 0)
		f->next = rec->seq + 1;
	f->any = 1;
	return 0;
}

int
cdp_spool_file_put(struct cdp_spool *sp, const struct cdp_record *rec)
{
	int rc;

	pthread_mutex_lock(&sp->mu);
	rc = put_locked(sp, rec);
	pthread_mutex_unlock(&sp->mu);
	return rc;
}

int
cdp_spool_file_skip_to(struct cdp_spool *sp, uint64_t seq)
{
	pthread_mutex_lock(&sp->mu);
	cdp_spool_ix_skip_to(sp, seq);
	sp->file->next = seq;
	sp->file->any = 0;
	pthread_mutex_unlock(&sp->mu);
	return 0;
}

int
cdp_spool_file_fd(struct cdp_spool *sp)
{
	return sp->file->fd;
}

/* What is held is no longer there. */
int
cdp_spool_file_changed(struct cdp_spool *sp)
{
	snprintf(sp->err, sizeof(sp->err), "%s: shorter than when it was "
	    "read: changed while being sent", sp->dir);
	errno = ESTALE;
	return -1;
}

void
cdp_spool_file_close(struct cdp_spool *sp)
{
	close(sp->file->fd);
	free(sp->file->hdr);
	free(sp->file);
	sp->file = NULL;
}
