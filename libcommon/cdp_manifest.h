/*
 * cdp_manifest.h: the manifest of a store in an object store bucket.
 *
 * A store under s3://BUCKET/PREFIX is the same files as a store directory
 * (segments, a base), as objects PREFIX/NAME, and one object
 * PREFIX/manifest that says which of them make up the stream.  Readers go
 * by the manifest alone, never by a listing: an object is referenced only
 * once it is whole, and one left half-uploaded by a crash is never seen.
 * The receiver replaces the manifest (one PUT, atomic in S3) after each
 * upload.  The text, line by line, as cdp-journal(5) OBJECT STORE has it:
 *
 *	cdp-manifest 1
 *	stream 1b4e28ba-2fa1-11d2-883f-0016d3cca427
 *	durable_seq 2000
 *	time_ns 1764000000000000000
 *	base 1000 5678                    (at most one: last seq folded, bytes)
 *	segment 1001 2000 16777216 T      (first seq, last seq, bytes, newest
 *	                                   record time_ns; in seq order)
 *	retired 00000000000000000001.cdpj T  (replaced by a base: to be
 *	                                   deleted once time_ns T has passed)
 *	end
 */
#ifndef CDP_MANIFEST_H
#define CDP_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#define CDP_MANIFEST_NAME	"manifest"
#define CDP_MANIFEST_MAX	(64u * 1024 * 1024)	/* bytes, when read */

struct cdp_manifest_seg {
	uint64_t	 first;		/* the seq that names it */
	uint64_t	 last;		/* its last seq (first - 1: none) */
	uint64_t	 size;		/* bytes of the object */
	int64_t		 time_ns;	/* newest record time in it */
};

/* An object a fold replaced, deleted once readers are done with it. */
struct cdp_manifest_retired {
	char		 name[32];
	int64_t		 until_ns;
};

struct cdp_manifest {
	int		 have_uuid;
	uint8_t		 uuid[16];
	uint64_t	 durable_seq;	/* last seq in the bucket, 0: none */
	int64_t		 time_ns;	/* newest record time in the bucket */
	uint64_t	 base_last;	/* a base folds seq 1..base_last; 0: none */
	uint64_t	 base_size;
	struct cdp_manifest_seg *segs;	/* in seq order, contiguous */
	size_t		 nsegs, cap;
	struct cdp_manifest_retired *retired;
	size_t		 nretired;
};

/*
 * Parse len bytes of text into m (zeroed first).  0, or -1 with a reason
 * in why ("line 3: not a number: x") for anything malformed: unknown or
 * repeated keys, numbers out of range, segments out of order or with a
 * gap between them, a missing "end".
 */
int	 cdp_manifest_parse(struct cdp_manifest *m, const char *text,
	    size_t len, char *why, size_t whylen);

/* The text of m: a malloc'ed string, *len bytes without the NUL. */
char	*cdp_manifest_format(const struct cdp_manifest *m, size_t *len);

/*
 * Add a segment (first, last, size) at the end, or replace the entry of
 * the same first seq (a segment uploaded again); durable_seq follows.
 * EINVAL if it would leave a gap or go backwards: first must be the last
 * entry's first or last + 1 (base_last + 1, or anything, for the first).
 */
int	 cdp_manifest_add(struct cdp_manifest *m, uint64_t first,
	    uint64_t last, uint64_t size, int64_t time_ns);

/* Add an object name to be deleted once until_ns has passed. */
int	 cdp_manifest_retire(struct cdp_manifest *m, const char *name,
	    int64_t until_ns);

/* A deep copy of m into *copy (free it with cdp_manifest_free()). */
int	 cdp_manifest_copy(struct cdp_manifest *copy,
	    const struct cdp_manifest *m);

/* The segment named first, or NULL. */
const struct cdp_manifest_seg *cdp_manifest_find(const struct cdp_manifest *m,
	    uint64_t first);

/* Total bytes of the base and segments. */
uint64_t cdp_manifest_bytes(const struct cdp_manifest *m);

void	 cdp_manifest_free(struct cdp_manifest *m);

#endif
