/*
 * fuzz_manifest.c: feed arbitrary bytes to the bucket manifest parser.
 *
 * The manifest comes from the network (cdp_manifest.h).  Besides not
 * crashing, the parser must give back what the writer meant: whatever it
 * accepts, cdp_manifest_format() writes out again as text that parses to
 * the same manifest, and the other functions a reader calls on it (copy,
 * find, bytes, add) keep to what cdp_manifest.h promises.  A refused text
 * leaves a reason and nothing allocated.
 *
 * Built by scripts/fuzz.sh as a libFuzzer target, and linked with replay.c
 * as a plain program.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdp_manifest.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
bug(const char *what, const char *text, size_t len)
{
	fprintf(stderr, "fuzz_manifest: %s\n--- input ---\n%.*s\n", what,
	    (int)len, text);
	abort();
}

/* Whether a and b hold the same manifest. */
static int
same(const struct cdp_manifest *a, const struct cdp_manifest *b)
{
	size_t i;

	if (a->have_uuid != b->have_uuid ||
	    (a->have_uuid && memcmp(a->uuid, b->uuid, 16) != 0) ||
	    a->durable_seq != b->durable_seq || a->time_ns != b->time_ns ||
	    a->base_last != b->base_last || a->base_size != b->base_size ||
	    a->nsegs != b->nsegs || a->nretired != b->nretired)
		return 0;
	for (i = 0; i < a->nsegs; i++)
		if (a->segs[i].first != b->segs[i].first ||
		    a->segs[i].last != b->segs[i].last ||
		    a->segs[i].size != b->segs[i].size ||
		    a->segs[i].time_ns != b->segs[i].time_ns)
			return 0;
	for (i = 0; i < a->nretired; i++)
		if (strcmp(a->retired[i].name, b->retired[i].name) != 0 ||
		    a->retired[i].until_ns != b->retired[i].until_ns)
			return 0;
	return 1;
}

/* What a parsed manifest must be, whatever the text was. */
static void
check_parsed(const struct cdp_manifest *m, const char *text, size_t len)
{
	uint64_t top = m->base_last;
	size_t i;

	for (i = 0; i < m->nsegs; i++) {
		const struct cdp_manifest_seg *s = &m->segs[i];

		/* The first segment may start anywhere without a base. */
		if (((i > 0 || m->base_last > 0) && s->first != top + 1) ||
		    s->first == 0 || s->last + 1 < s->first ||
		    s->last > (uint64_t)INT64_MAX || s->time_ns < 0)
			bug("segments with a gap, an overlap or out of range",
			    text, len);
		if (cdp_manifest_find(m, s->first) != s)
			bug("cdp_manifest_find() misses a segment", text, len);
		top = s->last;
	}
	if (m->durable_seq != top)
		bug("durable_seq is not where the objects end", text, len);
	if ((m->nsegs > 0 || m->base_last > 0) && !m->have_uuid)
		bug("objects without a stream", text, len);
	if (m->time_ns < 0)
		bug("a negative time_ns", text, len);
	for (i = 0; i < m->nretired; i++)
		if (strnlen(m->retired[i].name, sizeof(m->retired[i].name)) ==
		    sizeof(m->retired[i].name) || m->retired[i].until_ns < 0)
			bug("a retired name not ended or a negative time",
			    text, len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct cdp_manifest m, again, copy;
	char why[256], *out;
	size_t outlen;
	uint64_t next;

	memset(why, 'x', sizeof(why));
	if (cdp_manifest_parse(&m, text, size, why, sizeof(why)) == -1) {
		if (memchr(why, '\0', sizeof(why)) == NULL || why[0] == '\0')
			bug("refused without a reason", text, size);
		if (m.segs != NULL || m.retired != NULL)
			bug("refused but left memory behind", text, size);
		return 0;
	}
	check_parsed(&m, text, size);
	(void)cdp_manifest_bytes(&m);

	/* What the writer writes back must read back the same. */
	if ((out = cdp_manifest_format(&m, &outlen)) == NULL)
		abort();
	if (cdp_manifest_parse(&again, out, outlen, why, sizeof(why)) == -1) {
		fprintf(stderr, "fuzz_manifest: formatted text refused: %s\n"
		    "--- formatted ---\n%.*s", why, (int)outlen, out);
		bug("round trip", text, size);
	}
	if (!same(&m, &again))
		bug("the formatted text parses to another manifest", text,
		    size);
	free(out);
	cdp_manifest_free(&again);

	if (cdp_manifest_copy(&copy, &m) == -1)
		abort();
	if (!same(&m, &copy))
		bug("cdp_manifest_copy() differs", text, size);
	/* A reader's next upload: the segment after the last seq. */
	next = m.durable_seq + 1;
	if (m.have_uuid && next <= (uint64_t)INT64_MAX) {
		if (cdp_manifest_add(&copy, next, next, 1, 0) == -1)
			bug("cannot add the next segment", text, size);
		check_parsed(&copy, text, size);
	}
	if (cdp_manifest_retire(&copy, "00000000000000000001.cdpj", 1) == -1)
		abort();
	cdp_manifest_free(&copy);
	cdp_manifest_free(&m);
	return 0;
}
