/*
 * cdp_tapout.c: a tap's output: writer, marks, sync, heartbeats.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cdp_control.h"
#include "cdp_tapout.h"
#include "cdp_uuid.h"
#include "cdp_writer.h"

#define MARKS_MAX	64

struct mark {
	int		 cfd;
	uint64_t	 pos;
	uint64_t	 seq;		/* 0 until emitted */
	char		 name[CDP_MARK_MAX + 1];
};

struct cdp_tapout {
	struct cdp_writer *w;
	int		 fd;
	int		 flags;
	int		 need_sync;
	int		 dirty;		/* records not yet flushed */
	int64_t		 last_ms;	/* when something was last written */
	uint64_t	 records;
	struct mark	 marks[MARKS_MAX];
	int		 nmarks;
	struct cdp_record rec;
};

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct cdp_tapout *
cdp_tapout_open(int fd, int level, int flags, const char *source)
{
	struct cdp_tapout *t;
	uint8_t uuid[16];

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->fd = fd;
	t->flags = flags;
	if (cdp_uuid_generate(uuid) == -1 ||
	    (t->w = cdp_writer_open(fd, level)) == NULL ||
	    cdp_writer_begin(t->w, uuid, source, 1) == -1 ||
	    cdp_writer_flush(t->w) == -1) {
		int e = errno;

		cdp_tapout_close(t);
		errno = e;
		return NULL;
	}
	t->last_ms = mono_ms();
	return t;
}

void
cdp_tapout_close(struct cdp_tapout *t)
{
	if (t == NULL)
		return;
	cdp_tapout_abort(t, "the tap stopped");
	cdp_writer_close(t->w);
	free(t);
}

static int
emit_marks(struct cdp_tapout *t, uint64_t pos)
{
	struct cdp_record *r = &t->rec;
	int i;

	for (i = 0; i < t->nmarks; i++) {
		struct mark *m = &t->marks[i];

		if (m->seq != 0 || m->pos > pos)
			continue;
		memset(r, 0, sizeof(*r));
		r->type = CDP_T_MARK;
		memcpy(r->name, m->name, sizeof(m->name));
		m->seq = cdp_writer_next_seq(t->w);
		if (cdp_writer_put(t->w, r) == -1)
			return -1;
		t->records++;
		t->dirty = 1;
	}
	return 0;
}

int
cdp_tapout_put(struct cdp_tapout *t, uint64_t pos,
    const struct cdp_record *rec)
{
	if (t->nmarks > 0 && emit_marks(t, pos) == -1)
		return -1;
	if (cdp_writer_put(t->w, rec) == -1)
		return -1;
	t->records++;
	t->dirty = 1;
	if (rec->type == CDP_T_FSYNC && (t->flags & CDP_TAPOUT_SYNC))
		t->need_sync = 1;
	return 0;
}

int
cdp_tapout_mark(struct cdp_tapout *t, int cfd, const char *name,
    uint64_t pos)
{
	struct mark *m;

	if (t->nmarks == MARKS_MAX) {
		cdp_control_answer(cfd, 0, "too many marks pending");
		errno = EBUSY;
		return -1;
	}
	m = &t->marks[t->nmarks++];
	m->cfd = cfd;
	m->pos = pos;
	m->seq = 0;
	strncpy(m->name, name, CDP_MARK_MAX);
	m->name[CDP_MARK_MAX] = '\0';
	return 0;
}

/* Answer the marks that are out, keep the others. */
static void
answer_written(struct cdp_tapout *t)
{
	int i, j = 0;

	for (i = 0; i < t->nmarks; i++) {
		if (t->marks[i].seq != 0)
			cdp_control_answer(t->marks[i].cfd, t->marks[i].seq,
			    NULL);
		else
			t->marks[j++] = t->marks[i];
	}
	t->nmarks = j;
}

int
cdp_tapout_idle(struct cdp_tapout *t, uint64_t pos, int heartbeat_ms)
{
	int64_t now = mono_ms();

	if (t->nmarks > 0 && emit_marks(t, pos) == -1)
		return -1;
	if (!t->dirty && heartbeat_ms > 0 && now - t->last_ms >= heartbeat_ms) {
		memset(&t->rec, 0, sizeof(t->rec));
		t->rec.type = CDP_T_HEARTBEAT;
		if (cdp_writer_put(t->w, &t->rec) == -1)
			return -1;
		t->dirty = 1;
	}
	if (!t->dirty)
		return 0;
	if (cdp_writer_flush(t->w) == -1)
		return -1;
	if (t->need_sync && fdatasync(t->fd) == -1 && errno != EINVAL)
		return -1;
	t->need_sync = 0;
	t->dirty = 0;
	t->last_ms = now;
	answer_written(t);
	return 0;
}

int
cdp_tapout_end(struct cdp_tapout *t)
{
	if (t->nmarks > 0 && emit_marks(t, UINT64_MAX) == -1)
		return -1;
	if (cdp_writer_end(t->w) == -1)
		return -1;
	if ((t->flags & CDP_TAPOUT_SYNC) && fdatasync(t->fd) == -1 &&
	    errno != EINVAL)
		return -1;
	answer_written(t);
	return 0;
}

void
cdp_tapout_abort(struct cdp_tapout *t, const char *why)
{
	int i;

	for (i = 0; i < t->nmarks; i++)
		cdp_control_answer(t->marks[i].cfd, 0, why);
	t->nmarks = 0;
}

uint64_t
cdp_tapout_records(const struct cdp_tapout *t)
{
	return t->records;
}

uint64_t
cdp_tapout_bytes(const struct cdp_tapout *t)
{
	return cdp_writer_bytes(t->w);
}
