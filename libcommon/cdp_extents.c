/*
 * cdp_extents.c: a file's content as a log of writes, resolved on demand.
 *
 * Recording a write is appending to the log (or growing the last entry
 * when the write continues it, the common case of a file written front
 * to back), so a journal of many small writes costs no more than its
 * records.  Resolving is a sweep over the log sorted by offset with a heap
 * of the writes covering the current offset, the latest on top: O(n log n)
 * however the writes overlap.  When they do not overlap at all (most
 * files), the sorted log is the answer.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cdp_extents.h"

struct cdp_extents {
	struct cdp_extent *log;		/* in the order written */
	size_t		 n, cap;
	uint64_t	 size;
};

struct cdp_extents *
cdp_extents_new(void)
{
	return calloc(1, sizeof(struct cdp_extents));
}

uint64_t
cdp_extents_size(const struct cdp_extents *x)
{
	return x->size;
}

static uint64_t
end_of(const struct cdp_extent *e)
{
	return e->len > UINT64_MAX - e->off ? UINT64_MAX : e->off + e->len;
}

/* Whether e continues last: the next file bytes from the next source bytes. */
static int
continues(const struct cdp_extent *last, const struct cdp_extent *e)
{
	if (last->input != e->input || end_of(last) != e->off)
		return 0;
	switch (e->input) {
	case CDP_EXTENT_ZERO:
		return 1;
	case CDP_EXTENT_MEM:
		return last->mem + last->len == e->mem;
	default:
		return last->at + last->len == e->at;
	}
}

static int
add(struct cdp_extents *x, const struct cdp_extent *e)
{
	if (x->n > 0 && continues(&x->log[x->n - 1], e)) {
		x->log[x->n - 1].len += e->len;
		return 0;
	}
	if (x->n == x->cap) {
		size_t cap = x->cap ? x->cap * 2 : 4;
		struct cdp_extent *v = realloc(x->log, cap * sizeof(*v));

		if (v == NULL)
			return -1;
		x->log = v;
		x->cap = cap;
	}
	x->log[x->n++] = *e;
	return 0;
}

int
cdp_extents_write(struct cdp_extents *x, const struct cdp_extent *e)
{
	if (add(x, e) == -1)
		return -1;
	if (end_of(e) > x->size)
		x->size = end_of(e);
	return 0;
}

int
cdp_extents_zero(struct cdp_extents *x, uint64_t off, uint64_t end)
{
	struct cdp_extent z = { off, end - off, CDP_EXTENT_ZERO, 0, NULL };

	if (off >= end || off >= x->size)
		return 0;
	return add(x, &z);
}

int
cdp_extents_truncate(struct cdp_extents *x, uint64_t size)
{
	/* A later growth must read zeros where the old bytes were. */
	if (size < x->size &&
	    cdp_extents_zero(x, size, UINT64_MAX) == -1)
		return -1;
	x->size = size;
	return 0;
}

/* Output vector. */
struct out {
	struct cdp_extent *v;
	size_t		 n, cap;
};

/* Append [off, end) of e (or zeros if e is NULL), merging where it can. */
static int
emit(struct out *o, const struct cdp_extent *e, uint64_t off, uint64_t end)
{
	struct cdp_extent piece = { off, end - off, CDP_EXTENT_ZERO, 0, NULL };

	if (off >= end)
		return 0;
	if (e != NULL && e->input != CDP_EXTENT_ZERO) {
		piece.input = e->input;
		if (e->input == CDP_EXTENT_MEM)
			piece.mem = e->mem + (off - e->off);
		else
			piece.at = e->at + (off - e->off);
	}
	if (o->n > 0 && continues(&o->v[o->n - 1], &piece)) {
		o->v[o->n - 1].len += piece.len;
		return 0;
	}
	if (o->n == o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 8;
		struct cdp_extent *v = realloc(o->v, cap * sizeof(*v));

		if (v == NULL)
			return -1;
		o->v = v;
		o->cap = cap;
	}
	o->v[o->n++] = piece;
	return 0;
}

/* The log in offset order: indices into it, with the offset beside. */
struct ord {
	uint64_t	 off;
	size_t		 i;
};

static int
by_off(const void *a, const void *b)
{
	const struct ord *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

/* A max-heap of log indices: the latest write on top. */
static void
heap_push(size_t *h, size_t *n, size_t v)
{
	size_t i = (*n)++;

	while (i > 0 && h[(i - 1) / 2] < v) {
		h[i] = h[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h[i] = v;
}

static void
heap_pop(size_t *h, size_t *n)
{
	size_t i = 0, v = h[--(*n)], c;

	while ((c = 2 * i + 1) < *n) {
		if (c + 1 < *n && h[c + 1] > h[c])
			c++;
		if (h[c] <= v)
			break;
		h[i] = h[c];
		i = c;
	}
	h[i] = v;
}

static int
sweep(const struct cdp_extents *x, const struct ord *ord, struct out *o)
{
	size_t *heap, nh = 0, i = 0;
	uint64_t pos = 0, next;
	int rc = 0;

	if ((heap = malloc(x->n * sizeof(*heap))) == NULL)
		return -1;
	while (pos < x->size && rc == 0) {
		while (i < x->n && ord[i].off <= pos)
			heap_push(heap, &nh, ord[i++].i);
		while (nh > 0 && end_of(&x->log[heap[0]]) <= pos)
			heap_pop(heap, &nh);
		next = x->size;
		if (i < x->n && ord[i].off < next)
			next = ord[i].off;
		if (nh > 0 && end_of(&x->log[heap[0]]) < next)
			next = end_of(&x->log[heap[0]]);
		rc = emit(o, nh > 0 ? &x->log[heap[0]] : NULL, pos, next);
		pos = next;
	}
	free(heap);
	return rc;
}

long
cdp_extents_resolve(const struct cdp_extents *x, struct cdp_extent **v)
{
	struct out o = { NULL, 0, 0 };
	struct ord *ord = NULL;
	size_t i;
	uint64_t pos = 0;
	int rc = 0, disjoint = 1;

	*v = NULL;
	if (x->size == 0)
		return 0;
	if (x->n > 0 && (ord = malloc(x->n * sizeof(*ord))) == NULL)
		return -1;
	for (i = 0; i < x->n; i++) {
		ord[i].off = x->log[i].off;
		ord[i].i = i;
		if (i > 0 && x->log[i].off < end_of(&x->log[i - 1]))
			disjoint = 0;
	}
	if (!disjoint) {
		qsort(ord, x->n, sizeof(*ord), by_off);
		rc = sweep(x, ord, &o);
	} else {
		for (i = 0; i < x->n && rc == 0 && pos < x->size; i++) {
			const struct cdp_extent *e = &x->log[i];
			uint64_t end = end_of(e) < x->size ? end_of(e) : x->size;

			if ((rc = emit(&o, NULL, pos, e->off)) == 0)
				rc = emit(&o, e, e->off, end);
			pos = end;
		}
		if (rc == 0)
			rc = emit(&o, NULL, pos, x->size);
	}
	free(ord);
	if (rc == -1) {
		free(o.v);
		errno = ENOMEM;
		return -1;
	}
	*v = o.v;
	return (long)o.n;
}

void
cdp_extents_free(struct cdp_extents *x)
{
	if (x == NULL)
		return;
	free(x->log);
	free(x);
}
