/*
 * cdp_s3store.c: the bucket side of a store in an object store
 * (cdp_s3store.h): lease, manifest, uploads.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cdp_err.h"
#include "cdp_manifest.h"
#include "cdp_s3.h"
#include "cdp_s3lease.h"
#include "cdp_s3store.h"
#include "cdp_store.h"
#include "cdp_time.h"

#define NS		((int64_t)1000000000)
#define MULTIPART_OVER	(64ull << 20)	/* bytes: one PUT up to this */
#define MULTIPART_PART	(16ull << 20)

struct cdp_s3store {
	struct cdp_s3	*s3;
	struct cdp_s3lease *lease;
	struct cdp_manifest man;
	char		 err[1024];
};

#define fail(b, ...)	cdp_seterr((b)->err, sizeof((b)->err), __VA_ARGS__)

static int
read_manifest(struct cdp_s3store *b)
{
	uint8_t *buf = NULL;
	size_t got;
	char why[512];
	int rc;

	if (cdp_s3_get(b->s3, CDP_MANIFEST_NAME, 0, 0, CDP_MANIFEST_MAX,
	    &buf, &got) == -1) {
		if (errno == ENOENT)
			return 0;	/* a new store */
		return fail(b, "%s", cdp_s3_error(b->s3));
	}
	rc = cdp_manifest_parse(&b->man, (const char *)buf, got, why,
	    sizeof(why));
	free(buf);
	if (rc == -1) {
		errno = EBADMSG;
		return fail(b, "%s/%s: %s", cdp_s3_url(b->s3),
		    CDP_MANIFEST_NAME, why);
	}
	return 0;
}

struct cdp_s3store *
cdp_s3store_open(const char *url, const char *endpoint, const char *holder,
    char *why, size_t whylen)
{
	struct cdp_s3store *b = calloc(1, sizeof(*b));
	int e;

	if (b == NULL) {
		snprintf(why, whylen, "%s", strerror(errno));
		return NULL;
	}
	if ((b->s3 = cdp_s3_open(url, endpoint, why, whylen)) == NULL)
		goto bad_quiet;
	/* Segments of the default size go up in one PUT, bases in parts. */
	cdp_s3_set_multipart(b->s3, MULTIPART_OVER, MULTIPART_PART);
	if (cdp_s3_check_bucket(b->s3) == -1) {
		fail(b, "%s", cdp_s3_error(b->s3));
		goto bad;
	}
	if ((b->lease = cdp_s3lease_take(url, endpoint, holder, b->err,
	    sizeof(b->err))) == NULL || read_manifest(b) == -1)
		goto bad;
	return b;
bad:
	snprintf(why, whylen, "%s", b->err);
bad_quiet:
	e = errno;
	cdp_s3store_close(b);
	errno = e;
	return NULL;
}

const struct cdp_manifest *
cdp_s3store_manifest(const struct cdp_s3store *b)
{
	return &b->man;
}

void
cdp_s3store_set_uuid(struct cdp_s3store *b, const uint8_t uuid[16])
{
	memcpy(b->man.uuid, uuid, 16);
	b->man.have_uuid = 1;
}

struct cdp_s3 *
cdp_s3store_client(struct cdp_s3store *b)
{
	return b->s3;
}

int
cdp_s3store_replace(struct cdp_s3store *b, struct cdp_manifest *next)
{
	char *text;
	size_t len;
	int rc;

	/* Only while the prefix is surely ours: never two writers. */
	if (cdp_s3lease_check(b->lease, 0, b->err, sizeof(b->err)) == -1)
		return -1;
	if ((text = cdp_manifest_format(next, &len)) == NULL)
		return fail(b, "%s", strerror(errno));
	if (len > CDP_MANIFEST_MAX) {
		free(text);
		errno = EFBIG;
		return fail(b, "%s/%s: would be over %u MiB (%zu segments); "
		    "use --retain, or seal larger segments", cdp_s3_url(b->s3),
		    CDP_MANIFEST_NAME, CDP_MANIFEST_MAX >> 20, next->nsegs);
	}
	rc = cdp_s3_put(b->s3, CDP_MANIFEST_NAME, text, len);
	free(text);
	if (rc == -1)
		return fail(b, "%s", cdp_s3_error(b->s3));
	cdp_manifest_free(&b->man);
	b->man = *next;
	memset(next, 0, sizeof(*next));
	return 0;
}

int
cdp_s3store_upload(struct cdp_s3store *b, uint64_t first, uint64_t last,
    int fd, uint64_t size, int64_t seg_time, int64_t time_ns)
{
	char name[CDP_STORE_NAME_MAX + 1];
	struct cdp_manifest next;

	snprintf(name, sizeof(name), "%020" PRIu64 ".cdpj", first);
	/* The new manifest first: a segment that does not fit is a bug. */
	if (cdp_manifest_copy(&next, &b->man) == -1)
		return fail(b, "%s", strerror(errno));
	if (cdp_manifest_add(&next, first, last, size, seg_time) == -1) {
		cdp_manifest_free(&next);
		errno = EINVAL;
		return fail(b, "%s/%s: seq %" PRIu64 "-%" PRIu64 " does not "
		    "follow the bucket's seq %" PRIu64, cdp_s3_url(b->s3),
		    name, first, last, b->man.durable_seq);
	}
	if (time_ns > next.time_ns)
		next.time_ns = time_ns;
	if (cdp_s3_put_fd(b->s3, name, fd, size) == -1) {
		cdp_manifest_free(&next);
		return fail(b, "%s", cdp_s3_error(b->s3));
	}
	if (cdp_s3store_replace(b, &next) == -1) {
		cdp_manifest_free(&next);
		return -1;
	}
	return 0;
}

int
cdp_s3store_lease(struct cdp_s3store *b, int wait_ms)
{
	return cdp_s3lease_check(b->lease, wait_ms, b->err, sizeof(b->err));
}

int64_t
cdp_s3store_lease_left(const struct cdp_s3store *b)
{
	return cdp_s3lease_left(b->lease);
}

const char *
cdp_s3store_url(const struct cdp_s3store *b)
{
	return cdp_s3_url(b->s3);
}

const char *
cdp_s3store_error(const struct cdp_s3store *b)
{
	return b->err;
}

const char *
cdp_s3store_notice(const struct cdp_s3store *b)
{
	return cdp_s3_notice(b->s3);
}

void
cdp_s3store_close(struct cdp_s3store *b)
{
	if (b == NULL)
		return;
	cdp_s3lease_release(b->lease);
	if (b->s3 != NULL)
		cdp_s3_close(b->s3);
	cdp_manifest_free(&b->man);
	free(b);
}
