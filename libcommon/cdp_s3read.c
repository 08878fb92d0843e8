/*
 * cdp_s3read.c: the journal bytes of a store in a bucket (cdp_s3read.h).
 *
 * Each object is fetched in chunks of CHUNK bytes with ranged GETs, up to
 * exactly the bytes the manifest gives it (a segment uploaded again after
 * it grew keeps its old bytes as a prefix, so that is what this manifest
 * meant), while the next chunk is fetched ahead on a second thread: the
 * reader decodes one chunk while the network brings the next, and memory
 * stays at two chunks whatever the size of the objects.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdp_manifest.h"
#include "cdp_s3.h"
#include "cdp_s3read.h"

#define CHUNK		(8u << 20)	/* bytes per GET */

struct object {
	char		 name[32];
	uint64_t	 size;
	uint64_t	 start;		/* stream offset of its first byte */
};

/* One fetch: the object and range it is for, what came back. */
struct fetch {
	size_t		 idx;
	uint64_t	 off, len;
	int		 rc, err;
	uint8_t		*buf;
	size_t		 got;
	char		 msg[512];
};

struct cdp_s3read {
	struct cdp_s3	*s3;		/* used by the fetching thread */
	char		*url;
	struct object	*objs;
	size_t		 nobjs;
	uint64_t	 size;

	/* The chunk being handed out. */
	uint8_t		*buf;
	size_t		 len, pos;
	size_t		 reached;	/* objects started, for where() */

	/* The fetch ahead (one at a time). */
	pthread_t	 tid;
	int		 running;
	struct fetch	 ahead;

	char		 err[512];
};

static void *
fetch_main(void *arg)
{
	struct cdp_s3read *r = arg;
	struct fetch *f = &r->ahead;
	const struct object *o = &r->objs[f->idx];

	f->buf = NULL;
	f->got = 0;
	f->msg[0] = '\0';
	f->rc = cdp_s3_get(r->s3, o->name, f->off, f->len, f->len, &f->buf,
	    &f->got);
	f->err = errno;
	if (f->rc == -1 && f->err == ENOENT)
		snprintf(f->msg, sizeof(f->msg), "%s/%s: not in the bucket "
		    "(removed by cdp-recv --retain while this read ran, or "
		    "lost)", r->url, o->name);
	else if (f->rc == -1)
		snprintf(f->msg, sizeof(f->msg), "%s", cdp_s3_error(r->s3));
	else if (f->got != f->len) {
		/* Short: the object ends before the manifest says. */
		snprintf(f->msg, sizeof(f->msg), "%s/%s: %" PRIu64 " bytes, "
		    "the manifest says %" PRIu64, r->url, o->name,
		    f->off + f->got, o->size);
		f->rc = -1;
		f->err = EIO;
	}
	return NULL;
}

/* Fetch the chunk of object idx from off (objects of 0 bytes skipped). */
static int
start_fetch(struct cdp_s3read *r, size_t idx, uint64_t off)
{
	int e;

	while (idx < r->nobjs && off >= r->objs[idx].size) {
		idx++;
		off = 0;
	}
	if (idx >= r->nobjs)
		return 0;
	r->ahead.idx = idx;
	r->ahead.off = off;
	r->ahead.len = r->objs[idx].size - off;
	if (r->ahead.len > CHUNK)
		r->ahead.len = CHUNK;
	if ((e = pthread_create(&r->tid, NULL, fetch_main, r)) != 0) {
		errno = e;
		return -1;
	}
	r->running = 1;
	return 0;
}

static void
join_fetch(struct cdp_s3read *r)
{
	if (r->running) {
		pthread_join(r->tid, NULL);
		r->running = 0;
	}
}

static int
add_object(struct cdp_s3read *r, size_t *cap, int base, uint64_t seq,
    uint64_t size)
{
	if (r->nobjs == *cap) {
		size_t c = *cap ? *cap * 2 : 64;
		struct object *n = realloc(r->objs, c * sizeof(*n));

		if (n == NULL)
			return -1;
		r->objs = n;
		*cap = c;
	}
	snprintf(r->objs[r->nobjs].name, sizeof(r->objs[0].name),
	    "%020" PRIu64 "%s", seq, base ? ".base.cdpj" : ".cdpj");
	r->objs[r->nobjs].size = size;
	r->objs[r->nobjs].start = r->size;
	r->size += size;
	r->nobjs++;
	return 0;
}

static int
load_manifest(struct cdp_s3read *r, char *why, size_t whylen)
{
	struct cdp_manifest m;
	uint8_t *buf = NULL;
	size_t got, cap = 0, i;
	char msg[512];
	int rc;

	if (cdp_s3_get(r->s3, CDP_MANIFEST_NAME, 0, 0, CDP_MANIFEST_MAX, &buf,
	    &got) == -1) {
		int e = errno;

		if (e == ENOENT && cdp_s3_check_bucket(r->s3) == 0)
			snprintf(why, whylen, "%s: no cdp store here (no "
			    "manifest object)", r->url);
		else
			snprintf(why, whylen, "%s", cdp_s3_error(r->s3));
		errno = e;
		return -1;
	}
	rc = cdp_manifest_parse(&m, (const char *)buf, got, msg, sizeof(msg));
	free(buf);
	if (rc == -1) {
		snprintf(why, whylen, "%s/%s: %s", r->url, CDP_MANIFEST_NAME,
		    msg);
		errno = EBADMSG;
		return -1;
	}
	rc = 0;
	if (m.base_last > 0)
		rc = add_object(r, &cap, 1, m.base_last, m.base_size);
	for (i = 0; rc == 0 && i < m.nsegs; i++)
		rc = add_object(r, &cap, 0, m.segs[i].first,
		    m.segs[i].size);
	cdp_manifest_free(&m);
	if (rc == -1)
		snprintf(why, whylen, "%s", strerror(errno));
	return rc;
}

struct cdp_s3read *
cdp_s3read_open(const char *url, char *why, size_t whylen)
{
	struct cdp_s3read *r = calloc(1, sizeof(*r));
	int e;

	if (r == NULL || (r->url = strdup(url)) == NULL) {
		snprintf(why, whylen, "%s", strerror(errno));
		free(r);
		return NULL;
	}
	if ((r->s3 = cdp_s3_open(url, NULL, why, whylen)) == NULL)
		goto bad;
	free(r->url);
	if ((r->url = strdup(cdp_s3_url(r->s3))) == NULL) {
		snprintf(why, whylen, "%s", strerror(errno));
		goto bad;
	}
	if (load_manifest(r, why, whylen) == -1)
		goto bad;
	if (start_fetch(r, 0, 0) == -1) {
		snprintf(why, whylen, "pthread_create: %s", strerror(errno));
		goto bad;
	}
	return r;
bad:
	e = errno;
	cdp_s3read_close(r);
	errno = e;
	return NULL;
}

/* Take the fetched chunk and start fetching the next.  0, 1 at the end. */
static int
next_chunk(struct cdp_s3read *r)
{
	free(r->buf);
	r->buf = NULL;
	r->len = r->pos = 0;
	if (!r->running)
		return 1;
	join_fetch(r);
	if (r->ahead.rc == -1) {
		snprintf(r->err, sizeof(r->err), "%s", r->ahead.msg);
		errno = r->ahead.err;
		return -1;
	}
	r->buf = r->ahead.buf;
	r->len = r->ahead.got;
	r->ahead.buf = NULL;
	r->reached = r->ahead.idx + 1;
	if (start_fetch(r, r->ahead.idx, r->ahead.off + r->ahead.len) == -1) {
		snprintf(r->err, sizeof(r->err), "pthread_create: %s",
		    strerror(errno));
		return -1;
	}
	return 0;
}

ssize_t
cdp_s3read_read(struct cdp_s3read *r, void *buf, size_t n)
{
	size_t k;
	int rc;

	while (r->pos == r->len) {
		if ((rc = next_chunk(r)) == 1)
			return 0;
		if (rc == -1)
			return -1;
	}
	k = r->len - r->pos;
	if (k > n)
		k = n;
	memcpy(buf, r->buf + r->pos, k);
	r->pos += k;
	return (ssize_t)k;
}

uint64_t
cdp_s3read_size(const struct cdp_s3read *r)
{
	return r->size;
}

void
cdp_s3read_where(const struct cdp_s3read *r, uint64_t off, char *buf,
    size_t size)
{
	size_t i;

	for (i = r->reached; i-- > 0;)
		if (r->objs[i].start <= off) {
			snprintf(buf, size, "%s: offset %" PRIu64,
			    r->objs[i].name, off - r->objs[i].start);
			return;
		}
	snprintf(buf, size, "offset %" PRIu64, off);
}

const char *
cdp_s3read_error(const struct cdp_s3read *r)
{
	return r->err;
}

void
cdp_s3read_close(struct cdp_s3read *r)
{
	if (r == NULL)
		return;
	join_fetch(r);
	free(r->ahead.buf);
	free(r->buf);
	if (r->s3 != NULL)
		cdp_s3_close(r->s3);
	free(r->objs);
	free(r->url);
	free(r);
}
