/*
 * cdp_compress.c: compress records on worker threads, in order.
 *
 * A ring of batches, each in one of these states:
 *
 *   FREE      empty
 *   FILLING   the caller copies records into it (one batch at most)
 *   QUEUED    full, or flushed: for the first thread free to take it
 *   BUSY      being compressed
 *   DONE      the caller takes its records back
 *
 * The caller fills the batches in ring order and takes them back in the
 * same order; between the two, any thread compresses any queued batch.
 * Only the caller moves a batch out of FREE, FILLING and DONE; a thread
 * that takes a QUEUED batch owns it until DONE.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libdeflate.h>

#include "cdp_compress.h"
#include "cdp_crc32.h"
#include "cdp_format.h"
#include "cdp_writer.h"

#define BATCH_BYTES	(256 * 1024)	/* queued once it holds this much */
#define BATCH_RECORDS	128		/* or this many records */
#define COMPRESS_MIN	128		/* shorter payloads stay as they are */

enum state { FREE, FILLING, QUEUED, BUSY, DONE };

struct item {
	uint16_t	 type, flags;
	uint64_t	 seq;
	int64_t		 time_ns;
	uint64_t	 u64;
	uint32_t	 stored_len, raw_len;
	size_t		 in_off, in_len;
	size_t		 out_off, out_len;	/* out_len 0: as it was */
};

struct batch {
	enum state	 state;
	struct item	 items[BATCH_RECORDS];
	size_t		 n, taken;
	uint8_t		*in, *out;
	size_t		 in_len, in_cap, out_cap;
};

struct cdp_compress {
	int		 level;
	struct libdeflate_compressor *mine;	/* the caller's */
	pthread_mutex_t	 mu;
	pthread_cond_t	 work;		/* a batch was queued, or stop */
	pthread_cond_t	 done;		/* a batch is done */
	int		 stop;
	struct batch	*b;
	size_t		 nb, fill, take;
	int		 pending;
	pthread_t	*tids;
	int		 nthreads;
};

static uint32_t
le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

/*
 * Re-frame one record with its payload deflated, into buf (room for the
 * record as it was).  Returns the framed length, or 0 when the record is
 * best sent as it is: no smaller, or compressed already.
 */
static size_t
compress_one(struct libdeflate_compressor *c, const uint8_t *raw,
    const struct item *it, uint8_t *buf)
{
	uint32_t hdr_len, plen = it->stored_len;
	size_t zlen, total;

	if ((it->flags & CDP_F_COMPRESSED) || plen < COMPRESS_MIN ||
	    it->in_len < CDP_HDR_LEN)
		return 0;
	hdr_len = le32(raw + 8);
	if (hdr_len < CDP_HDR_LEN || hdr_len + (size_t)plen > it->in_len)
		return 0;
	/* Only a result smaller than the payload is of use. */
	zlen = libdeflate_zlib_compress(c, raw + hdr_len, plen,
	    buf + CDP_HDR_LEN, plen - 1);
	if (zlen == 0)
		return 0;
	total = (CDP_HDR_LEN + zlen + CDP_ALIGN - 1) & ~(size_t)(CDP_ALIGN - 1);
	if (total >= it->in_len)
		return 0;
	cdp_writer_frame(buf, it->type, it->flags | CDP_F_COMPRESSED, it->seq,
	    it->time_ns, (uint32_t)zlen, plen,
	    cdp_crc32(0, buf + CDP_HDR_LEN, zlen));
	memset(buf + CDP_HDR_LEN + zlen, 0, total - CDP_HDR_LEN - zlen);
	return total;
}

/* Compress queued batch b with c; called and returns with mu held. */
static void
run(struct cdp_compress *z, struct batch *b, struct libdeflate_compressor *c)
{
	size_t i, off = 0;

	b->state = BUSY;
	pthread_mutex_unlock(&z->mu);
	for (i = 0; i < b->n; i++) {
		struct item *it = &b->items[i];

		it->out_off = off;
		it->out_len = b->out == NULL ? 0 :
		    compress_one(c, b->in + it->in_off, it, b->out + off);
		off += it->out_len;
	}
	pthread_mutex_lock(&z->mu);
	b->state = DONE;
	pthread_cond_broadcast(&z->done);
}

/* The oldest queued batch, or NULL (called with mu held). */
static struct batch *
queued(struct cdp_compress *z)
{
	size_t i, k;

	for (i = 0; i < z->nb; i++) {
		k = (z->take + i) % z->nb;
		if (z->b[k].state == QUEUED)
			return &z->b[k];
	}
	return NULL;
}

static void *
worker(void *arg)
{
	struct cdp_compress *z = arg;
	struct libdeflate_compressor *c;
	struct batch *b = NULL;

	/* Without a compressor of its own, it leaves the work to the rest. */
	if ((c = libdeflate_alloc_compressor(z->level)) == NULL)
		return NULL;
	pthread_mutex_lock(&z->mu);
	for (;;) {
		while (!z->stop && (b = queued(z)) == NULL)
			pthread_cond_wait(&z->work, &z->mu);
		if (z->stop)
			break;
		run(z, b, c);
	}
	pthread_mutex_unlock(&z->mu);
	libdeflate_free_compressor(c);
	return NULL;
}

int
cdp_compress_threads(int max)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN) - 1;

	return n < 0 ? 0 : n > max ? max : (int)n;
}

struct cdp_compress *
cdp_compress_open(int level, int threads)
{
	struct cdp_compress *z;
	int e;

	if ((z = calloc(1, sizeof(*z))) == NULL)
		return NULL;
	pthread_mutex_init(&z->mu, NULL);
	pthread_cond_init(&z->work, NULL);
	pthread_cond_init(&z->done, NULL);
	z->level = level;
	/* Enough batches for every thread, and one more to fill meanwhile. */
	z->nb = 2 * ((size_t)threads + 1) + 1;
	if ((z->b = calloc(z->nb, sizeof(*z->b))) == NULL ||
	    (z->tids = calloc((size_t)threads + 1, sizeof(*z->tids))) == NULL ||
	    (z->mine = libdeflate_alloc_compressor(level)) == NULL) {
		cdp_compress_close(z);
		errno = ENOMEM;
		return NULL;
	}
	for (; z->nthreads < threads; z->nthreads++)
		if ((e = pthread_create(&z->tids[z->nthreads], NULL, worker,
		    z)) != 0) {
			cdp_compress_close(z);
			errno = e;
			return NULL;
		}
	return z;
}

/* Hand the batch being filled over to the threads. */
static void
queue(struct cdp_compress *z)
{
	struct batch *b = &z->b[z->fill];
	size_t need = b->in_len;

	/* The compressed records are no longer than the records were. */
	if (b->out_cap < need) {
		free(b->out);
		if ((b->out = malloc(need)) == NULL)
			b->out_cap = 0;	/* then sent as they are */
		else
			b->out_cap = need;
	}
	pthread_mutex_lock(&z->mu);
	b->state = QUEUED;
	pthread_cond_signal(&z->work);
	pthread_mutex_unlock(&z->mu);
	z->fill = (z->fill + 1) % z->nb;
}

int
cdp_compress_put(struct cdp_compress *z, const struct cdp_record *rec)
{
	struct batch *b = &z->b[z->fill];
	struct item *it;
	enum state st;

	pthread_mutex_lock(&z->mu);
	st = b->state;
	pthread_mutex_unlock(&z->mu);
	if (st != FREE && st != FILLING) {
		errno = EAGAIN;
		return -1;
	}
	if (st == FREE) {
		/* Let go of what a very large record needed. */
		if (b->in_cap > 4 * BATCH_BYTES) {
			free(b->in);
			free(b->out);
			b->in = b->out = NULL;
			b->in_cap = b->out_cap = 0;
		}
		b->n = b->taken = b->in_len = 0;
	}
	if (b->in_cap < b->in_len + rec->raw_size) {
		size_t cap = b->in_len + rec->raw_size;
		uint8_t *n;

		if (cap < BATCH_BYTES + BATCH_BYTES / 4)
			cap = BATCH_BYTES + BATCH_BYTES / 4;
		if ((n = realloc(b->in, cap)) == NULL)
			return -1;
		b->in = n;
		b->in_cap = cap;
	}
	if (st == FREE) {
		pthread_mutex_lock(&z->mu);
		b->state = FILLING;
		pthread_mutex_unlock(&z->mu);
	}
	it = &b->items[b->n++];
	it->type = rec->type;
	it->flags = rec->flags;
	it->seq = rec->seq;
	it->time_ns = rec->time_ns;
	it->u64 = rec->u64;
	it->stored_len = rec->stored_len;
	it->raw_len = rec->raw_len;
	it->in_off = b->in_len;
	it->in_len = rec->raw_size;
	memcpy(b->in + b->in_len, rec->raw, rec->raw_size);
	b->in_len += rec->raw_size;
	z->pending++;
	if (b->n == BATCH_RECORDS || b->in_len >= BATCH_BYTES)
		queue(z);
	return 0;
}

int
cdp_compress_get(struct cdp_compress *z, struct cdp_record *out, int wait)
{
	struct batch *b, *q;
	struct item *it;

	for (;;) {
		b = &z->b[z->take];
		pthread_mutex_lock(&z->mu);
		if (b->state == DONE)
			break;
		if (b->state == FREE || !wait) {
			pthread_mutex_unlock(&z->mu);
			return 0;
		}
		if (b->state == FILLING) {
			/* The oldest records wait for no more. */
			pthread_mutex_unlock(&z->mu);
			queue(z);
			continue;
		}
		/* Rather than wait, compress what is queued, if anything. */
		if ((q = queued(z)) != NULL)
			run(z, q, z->mine);
		else
			pthread_cond_wait(&z->done, &z->mu);
		pthread_mutex_unlock(&z->mu);
	}
	it = &b->items[b->taken++];
	if (b->taken == b->n) {
		b->state = FREE;	/* buffers valid until reused */
		z->take = (z->take + 1) % z->nb;
	}
	pthread_mutex_unlock(&z->mu);
	z->pending--;
	out->type = it->type;
	out->flags = it->flags;
	out->seq = it->seq;
	out->time_ns = it->time_ns;
	out->u64 = it->u64;
	out->stored_len = it->stored_len;
	out->raw_len = it->raw_len;
	if (it->out_len > 0) {
		out->flags |= CDP_F_COMPRESSED;
		out->stored_len = le32(b->out + it->out_off + 12);
		out->raw = b->out + it->out_off;
		out->raw_size = it->out_len;
	} else {
		out->raw = b->in + it->in_off;
		out->raw_size = it->in_len;
	}
	return 1;
}

int
cdp_compress_pending(const struct cdp_compress *z)
{
	return z->pending;
}

void
cdp_compress_close(struct cdp_compress *z)
{
	size_t i;
	int t;

	if (z == NULL)
		return;
	if (z->nthreads > 0) {
		pthread_mutex_lock(&z->mu);
		z->stop = 1;
		pthread_cond_broadcast(&z->work);
		pthread_mutex_unlock(&z->mu);
		for (t = 0; t < z->nthreads; t++)
			pthread_join(z->tids[t], NULL);
	}
	if (z->b != NULL)
		for (i = 0; i < z->nb; i++) {
			free(z->b[i].in);
			free(z->b[i].out);
		}
	if (z->mine != NULL)
		libdeflate_free_compressor(z->mine);
	pthread_cond_destroy(&z->done);
	pthread_cond_destroy(&z->work);
	pthread_mutex_destroy(&z->mu);
	free(z->b);
	free(z->tids);
	free(z);
}
