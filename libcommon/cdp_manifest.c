/*
 * cdp_manifest.c: the manifest of a store in a bucket (cdp_manifest.h).
 *
 * The text is small and line-based so that a person can read it with
 * `s3cmd get` and so that parsing it needs no library.  It comes from the
 * network: every number is checked, every line must be known.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdp_manifest.h"
#include "cdp_store.h"
#include "cdp_uuid.h"

#define MAGIC	"cdp-manifest 1"
#define SEQ_MAX	((uint64_t)INT64_MAX)	/* so that seq + 1 never wraps */

static int __attribute__((format(printf, 3, 4)))
why_fail(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	errno = EINVAL;
	return -1;
}

/* A decimal number that fills the whole word; 0 or -1. */
static int
parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	return 0;
}

static int
push(struct cdp_manifest *m, uint64_t first, uint64_t last, uint64_t size,
    int64_t time_ns)
{
	if (m->nsegs == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 64;
		struct cdp_manifest_seg *n = realloc(m->segs,
		    cap * sizeof(*n));

		if (n == NULL)
			return -1;
		m->segs = n;
		m->cap = cap;
	}
	m->segs[m->nsegs].first = first;
	m->segs[m->nsegs].last = last;
	m->segs[m->nsegs].size = size;
	m->segs[m->nsegs].time_ns = time_ns;
	m->nsegs++;
	return 0;
}

/* A name of a segment or a base, nothing else (cdp_store.h). */
static int
object_name_ok(const char *name)
{
	uint64_t seq;

	return strlen(name) < sizeof(((struct cdp_manifest_retired *)0)->name)
	    && cdp_store_name_kind(name, &seq) != 0;
}

int
cdp_manifest_retire(struct cdp_manifest *m, const char *name,
    int64_t until_ns)
{
	struct cdp_manifest_retired *n;

	if (!object_name_ok(name)) {
		errno = EINVAL;
		return -1;
	}
	n = realloc(m->retired, (m->nretired + 1) * sizeof(*n));
	if (n == NULL)
		return -1;
	m->retired = n;
	snprintf(n[m->nretired].name, sizeof(n[0].name), "%s", name);
	n[m->nretired].until_ns = until_ns;
	m->nretired++;
	return 0;
}

/* Whether a segment (first, last) may follow what m holds. */
static int
fits(const struct cdp_manifest *m, uint64_t first, uint64_t last)
{
	if (first == 0 || last + 1 < first)
		return 0;
	/*
	 * After a segment without numbered records (last is first - 1), the
	 * next would have its name: one object, two entries, read twice.
	 * Such a segment grows and is replaced instead (cdp_manifest_add()).
	 */
	if (m->nsegs > 0)
		return first == m->segs[m->nsegs - 1].last + 1 &&
		    first != m->segs[m->nsegs - 1].first;
	return m->base_last == 0 || first == m->base_last + 1;
}

/* Split line into at most 5 words; returns the count. */
static int
words(char *line, char *w[5])
{
	int n = 0;
	char *p;

	for (p = strtok(line, " "); p != NULL; p = strtok(NULL, " ")) {
		if (n == 5)
			return 6;
		w[n++] = p;
	}
	return n;
}

static int
parse_line(struct cdp_manifest *m, char *line, unsigned *seen, char *why,
    size_t whylen, int lineno)
{
	char *w[5];
	uint64_t a, b, c, t;
	int n = words(line, w);

	if (n >= 1 && strcmp(w[0], "segment") == 0) {
		if (n != 5 || parse_u64(w[1], &a) == -1 || a > SEQ_MAX ||
		    parse_u64(w[2], &b) == -1 || b > SEQ_MAX ||
		    parse_u64(w[3], &c) == -1 ||
		    parse_u64(w[4], &t) == -1 || t > INT64_MAX)
			return why_fail(why, whylen, "line %d: want \"segment "
			    "FIRST LAST BYTES TIME_NS\"", lineno);
		if (!fits(m, a, b))
			return why_fail(why, whylen, "line %d: segment %"
			    PRIu64 "-%" PRIu64 " does not follow what goes "
			    "before it", lineno, a, b);
		if (push(m, a, b, c, (int64_t)t) == -1)
			return why_fail(why, whylen, "%s", strerror(errno));
		return 0;
	}
	if (n >= 1 && strcmp(w[0], "retired") == 0) {
		if (n != 3 || !object_name_ok(w[1]) ||
		    parse_u64(w[2], &t) == -1 || t > INT64_MAX)
			return why_fail(why, whylen, "line %d: want \"retired "
			    "NAME TIME_NS\"", lineno);
		if (cdp_manifest_retire(m, w[1], (int64_t)t) == -1)
			return why_fail(why, whylen, "%s", strerror(errno));
		return 0;
	}
	if (n == 2 && strcmp(w[0], "stream") == 0 && !(*seen & 1)) {
		*seen |= 1;
		m->have_uuid = 1;
		if (cdp_uuid_parse(w[1], m->uuid) == -1)
			return why_fail(why, whylen, "line %d: not a stream "
			    "uuid", lineno);
		return 0;
	}
	if (n == 2 && strcmp(w[0], "durable_seq") == 0 && !(*seen & 2)) {
		*seen |= 2;
		if (parse_u64(w[1], &m->durable_seq) == -1 ||
		    m->durable_seq > SEQ_MAX)
			return why_fail(why, whylen, "line %d: not a number",
			    lineno);
		return 0;
	}
	if (n == 2 && strcmp(w[0], "time_ns") == 0 && !(*seen & 4)) {
		*seen |= 4;
		if (parse_u64(w[1], &a) == -1 || a > INT64_MAX)
			return why_fail(why, whylen, "line %d: not a time",
			    lineno);
		m->time_ns = (int64_t)a;
		return 0;
	}
	if (n == 3 && strcmp(w[0], "base") == 0 && !(*seen & 8) &&
	    m->nsegs == 0) {
		*seen |= 8;
		if (parse_u64(w[1], &m->base_last) == -1 ||
		    m->base_last > SEQ_MAX ||
		    parse_u64(w[2], &m->base_size) == -1 || m->base_last == 0)
			return why_fail(why, whylen, "line %d: want \"base "
			    "LAST BYTES\"", lineno);
		return 0;
	}
	return why_fail(why, whylen, "line %d: not understood", lineno);
}

int
cdp_manifest_parse(struct cdp_manifest *m, const char *text, size_t len,
    char *why, size_t whylen)
{
	char *copy, *line, *next;
	unsigned seen = 0;
	int lineno = 1, ended = 0, rc = 0;
	uint64_t top;

	memset(m, 0, sizeof(*m));
	if (memchr(text, '\0', len) != NULL)
		return why_fail(why, whylen, "not a manifest (a NUL byte)");
	if ((copy = malloc(len + 1)) == NULL)
		return why_fail(why, whylen, "%s", strerror(errno));
	memcpy(copy, text, len);
	copy[len] = '\0';
	if (len == 0 || copy[len - 1] != '\n') {
		free(copy);
		return why_fail(why, whylen, "cut short (no \"end\" line)");
	}
	line = copy;
	next = strchr(line, '\n');
	*next = '\0';
	if (strcmp(line, MAGIC) != 0) {
		free(copy);
		return why_fail(why, whylen, "not a manifest (first line is "
		    "not \"%s\")", MAGIC);
	}
	for (line = next + 1; *line != '\0' && rc == 0; line = next + 1) {
		lineno++;
		next = strchr(line, '\n');
		*next = '\0';
		if (ended)
			rc = why_fail(why, whylen, "line %d: after \"end\"",
			    lineno);
		else if (strcmp(line, "end") == 0)
			ended = 1;
		else
			rc = parse_line(m, line, &seen, why, whylen, lineno);
	}
	free(copy);
	if (rc == 0 && !ended)
		rc = why_fail(why, whylen, "cut short (no \"end\" line)");
	if (rc == 0 && (seen & 1) == 0 && (m->nsegs > 0 || m->base_last > 0))
		rc = why_fail(why, whylen, "segments without a stream line");
	top = m->nsegs > 0 ? m->segs[m->nsegs - 1].last : m->base_last;
	if (rc == 0 && m->durable_seq != top)
		rc = why_fail(why, whylen, "durable_seq %" PRIu64 " but the "
		    "objects end at seq %" PRIu64, m->durable_seq, top);
	if (rc == -1)
		cdp_manifest_free(m);
	return rc;
}

char *
cdp_manifest_format(const struct cdp_manifest *m, size_t *len)
{
	char u[CDP_UUID_STRLEN];
	char *buf = NULL;
	size_t size = 0, i;
	FILE *f = open_memstream(&buf, &size);

	if (f == NULL)
		return NULL;
	fprintf(f, "%s\n", MAGIC);
	if (m->have_uuid) {
		cdp_uuid_format(m->uuid, u);
		fprintf(f, "stream %s\n", u);
	}
	fprintf(f, "durable_seq %" PRIu64 "\n", m->durable_seq);
	fprintf(f, "time_ns %" PRId64 "\n", m->time_ns);
	if (m->base_last > 0)
		fprintf(f, "base %" PRIu64 " %" PRIu64 "\n", m->base_last,
		    m->base_size);
	for (i = 0; i < m->nsegs; i++)
		fprintf(f, "segment %" PRIu64 " %" PRIu64 " %" PRIu64 " %"
		    PRId64 "\n", m->segs[i].first, m->segs[i].last,
		    m->segs[i].size, m->segs[i].time_ns);
	for (i = 0; i < m->nretired; i++)
		fprintf(f, "retired %s %" PRId64 "\n", m->retired[i].name,
		    m->retired[i].until_ns);
	fprintf(f, "end\n");
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	*len = size;
	return buf;
}

int
cdp_manifest_add(struct cdp_manifest *m, uint64_t first, uint64_t last,
    uint64_t size, int64_t time_ns)
{
	struct cdp_manifest_seg *t;

	/* No segment without the stream it belongs to; no seq that wraps. */
	if (!m->have_uuid || first > SEQ_MAX || last > SEQ_MAX) {
		errno = EINVAL;
		return -1;
	}
	if (m->nsegs > 0 && m->segs[m->nsegs - 1].first == first) {
		t = &m->segs[m->nsegs - 1];
		if (last + 1 < first || last < t->last) {
			errno = EINVAL;
			return -1;
		}
		t->last = last;
		t->size = size;
		t->time_ns = time_ns;
	} else if (!fits(m, first, last)) {
		errno = EINVAL;
		return -1;
	} else if (push(m, first, last, size, time_ns) == -1)
		return -1;
	m->durable_seq = last;
	return 0;
}

const struct cdp_manifest_seg *
cdp_manifest_find(const struct cdp_manifest *m, uint64_t first)
{
	size_t i;

	for (i = 0; i < m->nsegs; i++)
		if (m->segs[i].first == first)
			return &m->segs[i];
	return NULL;
}

uint64_t
cdp_manifest_bytes(const struct cdp_manifest *m)
{
	uint64_t n = m->base_size;
	size_t i;

	for (i = 0; i < m->nsegs; i++)
		n += m->segs[i].size;
	return n;
}

int
cdp_manifest_copy(struct cdp_manifest *copy, const struct cdp_manifest *m)
{
	*copy = *m;
	copy->segs = NULL;
	copy->retired = NULL;
	copy->nsegs = copy->cap = copy->nretired = 0;
	if (m->nsegs > 0) {
		if ((copy->segs = malloc(m->nsegs * sizeof(*m->segs))) == NULL)
			return -1;
		memcpy(copy->segs, m->segs, m->nsegs * sizeof(*m->segs));
		copy->nsegs = copy->cap = m->nsegs;
	}
	if (m->nretired > 0) {
		copy->retired = malloc(m->nretired * sizeof(*m->retired));
		if (copy->retired == NULL) {
			cdp_manifest_free(copy);
			return -1;
		}
		memcpy(copy->retired, m->retired,
		    m->nretired * sizeof(*m->retired));
		copy->nretired = m->nretired;
	}
	return 0;
}

void
cdp_manifest_free(struct cdp_manifest *m)
{
	free(m->segs);
	free(m->retired);
	m->segs = NULL;
	m->retired = NULL;
	m->nsegs = m->cap = m->nretired = 0;
}
