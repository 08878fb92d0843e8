/*
 * cdp_pathmap.c: a chained hash table of paths.
 *
 * A move of a name with entries below it (a rename of a directory) walks
 * the whole table, which keeps lookups, the common case, a single hash and
 * compare.  To make the other moves (a rename of a file: most of them)
 * cheap, a second table counts for each directory the entries below it;
 * a move where both names count none walks nothing.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cdp_pathmap.h"

struct entry {
	struct entry	*next;
	int		 value;
	size_t		 len;
	char		 key[];
};

struct cdp_pathmap {
	struct entry	**b;
	size_t		 nb;		/* buckets, a power of two */
	size_t		 n;		/* entries */
	struct cdp_pathmap *below;	/* directory: entries below it */
};

static uint64_t
hash(const char *s, size_t len)
{
	uint64_t h = 14695981039346656037ULL;	/* FNV-1a */

	while (len-- > 0) {
		h ^= (unsigned char)*s++;
		h *= 1099511628211ULL;
	}
	return h;
}

static struct cdp_pathmap *
table_new(void)
{
	struct cdp_pathmap *m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	m->nb = 256;
	if ((m->b = calloc(m->nb, sizeof(*m->b))) == NULL) {
		free(m);
		return NULL;
	}
	return m;
}

struct cdp_pathmap *
cdp_pathmap_new(void)
{
	struct cdp_pathmap *m;

	if ((m = table_new()) == NULL)
		return NULL;
	if ((m->below = table_new()) == NULL) {
		cdp_pathmap_free(m);
		return NULL;
	}
	return m;
}

static struct entry **
slot(const struct cdp_pathmap *m, const char *path, size_t len)
{
	struct entry **e = &m->b[hash(path, len) & (m->nb - 1)];

	for (; *e != NULL; e = &(*e)->next)
		if ((*e)->len == len && memcmp((*e)->key, path, len) == 0)
			break;
	return e;
}

int
cdp_pathmap_get(const struct cdp_pathmap *m, const char *path, size_t len)
{
	struct entry *e = *slot(m, path, len);

	return e == NULL ? -1 : e->value;
}

static void
grow(struct cdp_pathmap *m)
{
	struct entry **nb, *e, *next;
	size_t i, n = m->nb * 2;

	if ((nb = calloc(n, sizeof(*nb))) == NULL)
		return;		/* a fuller table still works */
	for (i = 0; i < m->nb; i++)
		for (e = m->b[i]; e != NULL; e = next) {
			struct entry **s = &nb[hash(e->key, e->len) & (n - 1)];

			next = e->next;
			e->next = *s;
			*s = e;
		}
	free(m->b);
	m->b = nb;
	m->nb = n;
}

/*
 * Add delta to the count of entries below each directory of path.  A
 * count is never too low: on failure some may be too high, which costs
 * a walk, no more.
 */
static int
count_below(struct cdp_pathmap *m, const char *path, size_t len, int delta)
{
	size_t i;
	int v;

	if (m->below == NULL)
		return 0;
	for (i = 0; i < len; i++) {
		if (path[i] != '/')
			continue;
		v = cdp_pathmap_get(m->below, path, i);
		if (cdp_pathmap_set(m->below, path, i,
		    (v < 0 ? 0 : v) + delta) == -1)
			return -1;
	}
	return 0;
}

int
cdp_pathmap_set(struct cdp_pathmap *m, const char *path, size_t len,
    int value)
{
	struct entry **s = slot(m, path, len), *e;

	if (*s != NULL) {
		(*s)->value = value;
		return 0;
	}
	/* Counted first, so that a failure leaves no count too low. */
	if (count_below(m, path, len, 1) == -1)
		return -1;
	if ((e = malloc(sizeof(*e) + len + 1)) == NULL)
		return -1;
	e->next = NULL;
	e->value = value;
	e->len = len;
	memcpy(e->key, path, len);
	e->key[len] = '\0';
	*s = e;
	if (++m->n > m->nb * 2)
		grow(m);
	return 0;
}

static int
below(const struct entry *e, const char *dir, size_t dlen)
{
	return e->len > dlen && e->key[dlen] == '/' &&
	    memcmp(e->key, dir, dlen) == 0;
}

int
cdp_pathmap_move(struct cdp_pathmap *m, const char *from, const char *to,
    int exchange)
{
	struct entry *moved = NULL, *e, **p, *next;
	size_t i, flen = strlen(from), tlen = strlen(to);

	if (cdp_pathmap_get(m->below, from, flen) <= 0 &&
	    cdp_pathmap_get(m->below, to, tlen) <= 0)
		return 0;	/* nothing below either */
	/* Unlink the entries below either name. */
	for (i = 0; i < m->nb; i++)
		for (p = &m->b[i]; (e = *p) != NULL;) {
			int bf = below(e, from, flen), bt = below(e, to, tlen);

			if (!bf && !bt) {
				p = &e->next;
				continue;
			}
			*p = e->next;
			m->n--;
			/* Cannot fail: every count is there already. */
			(void)count_below(m, e->key, e->len, -1);
			if (bt && !exchange) {
				free(e);
				continue;
			}
			/* Remember which side it came from in value's sign. */
			e->next = moved;
			e->value = bf ? e->value : -1 - e->value;
			moved = e;
		}
	for (e = moved; e != NULL; e = next) {
		const char *dst = e->value >= 0 ? to : from;
		size_t skip = e->value >= 0 ? flen : tlen;
		size_t dlen = strlen(dst), n = dlen + e->len - skip;
		int v = e->value >= 0 ? e->value : -1 - e->value;
		char *key;

		next = e->next;
		if ((key = malloc(n + 1)) == NULL) {
			free(e);
			continue;
		}
		memcpy(key, dst, dlen);
		memcpy(key + dlen, e->key + skip, e->len - skip);
		if (cdp_pathmap_set(m, key, n, v) == -1) {
			free(key);
			free(e);
			for (e = next; e != NULL; e = next) {
				next = e->next;
				free(e);
			}
			errno = ENOMEM;
			return -1;
		}
		free(key);
		free(e);
	}
	return 0;
}

void
cdp_pathmap_free(struct cdp_pathmap *m)
{
	struct entry *e, *next;
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->nb; i++)
		for (e = m->b[i]; e != NULL; e = next) {
			next = e->next;
			free(e);
		}
	free(m->b);
	cdp_pathmap_free(m->below);
	free(m);
}
