/*
 * cdp_s3_obj.c: the S3 client's requests on the bucket and its objects:
 * HEAD, PUT (from memory), GET, DELETE and the listing, page by page
 * (see cdp_s3.h; cdp_s3_multipart.c puts from a file).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "cdp_s3_int.h"

/* --- buckets --- */

int
cdp_s3_check_bucket(struct cdp_s3 *s)
{
	struct s3_req r;
	int rc;

	cdp_s3_req_init(&r, s, "HEAD", NULL);
	rc = cdp_s3_perform(&r, NULL);
	if (rc == -1 && r.status == 404)
		FAIL(s, "%s: 404 NoSuchBucket", s->url);
	cdp_s3_req_free(&r);
	return rc;
}

int
cdp_s3_create_bucket(struct cdp_s3 *s)
{
	static const long ok[] = { 404, 0 };
	struct s3_req r;
	int rc;

	/* Some servers answer 200 to a PUT of a bucket one already owns. */
	cdp_s3_req_init(&r, s, "HEAD", NULL);
	rc = cdp_s3_perform(&r, ok);
	cdp_s3_req_free(&r);
	if (rc == -1)
		return -1;
	if (r.status != 404) {
		errno = EEXIST;
		return FAIL(s, "%s: the bucket exists", s->url);
	}
	cdp_s3_req_init(&r, s, "PUT", NULL);
	r.upload = 1;
	rc = cdp_s3_perform(&r, NULL);
	if (rc == -1 && r.status == 409) {
		errno = EEXIST;
		FAIL(s, "%s: the bucket exists (%s)", s->url,
		    r.code[0] ? r.code : "409 Conflict");
	}
	cdp_s3_req_free(&r);
	return rc;
}

/* --- objects --- */

int
cdp_s3_put(struct cdp_s3 *s, const char *name, const void *buf, size_t len)
{
	struct s3_req r;
	int rc;

	if (cdp_s3_check_name(s, name) == -1)
		return -1;
	cdp_s3_req_init(&r, s, "PUT", name);
	r.upload = 1;
	r.ubuf = buf != NULL ? buf : (const uint8_t *)"";
	r.ulen = len;
	rc = cdp_s3_perform(&r, NULL);
	cdp_s3_req_free(&r);
	return rc;
}

/* "bytes FIRST-LAST/TOTAL": FIRST and LAST, 0; -1 if not that. */
static int
parse_crange(const char *v, uint64_t *first, uint64_t *last)
{
	char *end;

	if (strncmp(v, "bytes ", 6) != 0 || v[6] < '0' || v[6] > '9')
		return -1;
	errno = 0;
	*first = strtoull(v + 6, &end, 10);
	if (errno != 0 || *end != '-' || end[1] < '0' || end[1] > '9')
		return -1;
	*last = strtoull(end + 1, &end, 10);
	if (errno != 0 || *end != '/' || *last < *first)
		return -1;
	return 0;
}

int
cdp_s3_get(struct cdp_s3 *s, const char *name, uint64_t off, uint64_t len,
    uint64_t max, uint8_t **buf, size_t *got)
{
	static const long ok[] = { 416, 0 };
	struct s3_req r;
	char w[S3_WHAT_MAX], range[48];
	uint64_t first, last;
	int rc;

	*buf = NULL;
	*got = 0;
	if (cdp_s3_check_name(s, name) == -1)
		return -1;
	cdp_s3_what(s, name, w, sizeof(w));
	if (len > 0 && off + len < off) {
		errno = EINVAL;
		return FAIL(s, "%s: range past 2^64", w);
	}
	cdp_s3_req_init(&r, s, "GET", name);
	if (len > 0) {
		snprintf(range, sizeof(range), "%" PRIu64 "-%" PRIu64, off,
		    off + len - 1);
		r.range = range;
	} else if (off > 0) {
		snprintf(range, sizeof(range), "%" PRIu64 "-", off);
		r.range = range;
	}
	r.max = max;
	if ((rc = cdp_s3_perform(&r, r.range ? ok : NULL)) == -1)
		goto out;
	if (r.status == 416) {
		/* The object ends at or before off: nothing there. */
		cdp_s3_req_reset(&r);
	} else if (r.status == 206) {
		if (r.range == NULL || parse_crange(r.crange, &first,
		    &last) == -1 || first != off ||
		    last - first + 1 != r.blen ||
		    (len > 0 && r.blen > len)) {
			errno = EIO;
			rc = FAIL(s, "%s: a partial reply that does not match "
			    "the range asked for", w);
			goto out;
		}
	} else if (r.status != 200) {
		errno = EIO;
		rc = FAIL(s, "%s: %ld: an unexpected reply", w, r.status);
		goto out;
	} else if (r.range != NULL) {
		/* The server ignored the range and sent the whole object. */
		if (off >= r.blen) {
			r.blen = 0;
		} else {
			r.blen -= (size_t)off;
			memmove(r.body, r.body + off, r.blen);
			if (len > 0 && r.blen > len)
				r.blen = (size_t)len;
		}
	}
	if (r.body == NULL && (r.body = malloc(1)) == NULL) {
		rc = cdp_s3_nomem(s, w);
		goto out;
	}
	*buf = r.body;
	*got = r.blen;
	r.body = NULL;
out:
	cdp_s3_req_free(&r);
	return rc;
}

int
cdp_s3_head(struct cdp_s3 *s, const char *name, uint64_t *size)
{
	struct s3_req r;
	curl_off_t cl = -1;
	char w[S3_WHAT_MAX];
	int rc;

	if (cdp_s3_check_name(s, name) == -1)
		return -1;
	cdp_s3_req_init(&r, s, "HEAD", name);
	rc = cdp_s3_perform(&r, NULL);
	if (rc == 0 && (cdp_s3_curl.easy_getinfo(s->curl,
	    CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) != CURLE_OK || cl < 0)) {
		errno = EIO;
		rc = FAIL(s, "%s: a reply without a Content-Length",
		    cdp_s3_what(s, name, w, sizeof(w)));
	}
	if (rc == 0)
		*size = (uint64_t)cl;
	cdp_s3_req_free(&r);
	return rc;
}

int
cdp_s3_delete(struct cdp_s3 *s, const char *name)
{
	static const long ok[] = { 404, 0 };
	struct s3_req r;
	char w[S3_WHAT_MAX];
	int rc;

	if (cdp_s3_check_name(s, name) == -1)
		return -1;
	cdp_s3_req_init(&r, s, "DELETE", name);
	rc = cdp_s3_perform(&r, ok);
	if (rc == 0 && r.status == 404 && strcmp(r.code, "NoSuchKey") != 0) {
		/* Gone is fine; a missing bucket is not. */
		errno = ENOENT;
		rc = FAIL(s, "%s: 404 %s", cdp_s3_what(s, name, w, sizeof(w)),
		    r.code[0] ? r.code : "Not Found");
	}
	cdp_s3_req_free(&r);
	return rc;
}

/* --- listing --- */

void
cdp_s3_free_list(struct cdp_s3_object *objs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(objs[i].name);
	free(objs);
}
/*
 * GET the page of the listing that query q asks for and add its objects
 * to l: 1 with *token (malloc'ed) when more is to come, 0 at the end, -1
 * on failure.  *empty counts the pages that brought nothing.
 */
static int
get_page(struct cdp_s3 *s, const char *q, struct s3_list *l, int *empty,
    char **token)
{
	struct s3_req r;
	const char *p, *end;
	char *more = NULL;
	size_t had = l->n;
	int rc = -1;

	*token = NULL;
	cdp_s3_req_init(&r, s, "GET", NULL);
	r.query = q;
	r.max = S3_XML_MAX;
	if (cdp_s3_perform(&r, NULL) == -1) {
		if (r.status == 404 && r.code[0] == '\0')
			FAIL(s, "%s: 404 NoSuchBucket", s->url);
		goto out;
	}
	if (r.body == NULL ||
	    memmem(r.body, r.blen, "<ListBucketResult", 17) == NULL) {
		BAD(s, "%s: listing: a reply not understood", s->url);
		goto out;
	}
	p = (const char *)r.body;
	end = p + r.blen;
	if (cdp_s3_xml_list_page(s, p, end, l) == -1)
		goto out;
	more = cdp_s3_xml_text(p, end, "IsTruncated");
	if (more == NULL || strcmp(more, "true") != 0) {
		rc = 0;
		goto out;
	}
	/* Keys only go up, so only empty pages could go on forever. */
	if (l->n == had && ++*empty > 16) {
		BAD(s, "%s: listing: page after page of nothing", s->url);
		goto out;
	}
	*token = cdp_s3_xml_text(p, end, "NextContinuationToken");
	if (*token == NULL || **token == '\0' || strlen(*token) > 4096) {
		BAD(s, "%s: listing: more to come but no sound "
		    "<NextContinuationToken>", s->url);
		free(*token);
		*token = NULL;
		goto out;
	}
	rc = 1;
out:
	free(more);
	cdp_s3_req_free(&r);
	return rc;
}

int
cdp_s3_list(struct cdp_s3 *s, struct cdp_s3_object **objs, size_t *n)
{
	struct s3_list l = { NULL, 0, 0 };
	char *token = NULL, *qtoken = NULL, *qprefix = NULL, *q = NULL;
	char mk[32] = "";
	int rc = -1, empty = 0;

	*objs = NULL;
	*n = 0;
	if ((qprefix = cdp_s3_pct_dup(s->prefix)) == NULL)
		return cdp_s3_nomem(s, s->url);
	if (s->max_keys > 0)
		snprintf(mk, sizeof(mk), "&max-keys=%d", s->max_keys);
	for (;;) {
		/* The query's keys in order, as the signature wants them. */
		free(q);
		if (asprintf(&q, "%s%s%slist-type=2%s&prefix=%s",
		    qtoken ? "continuation-token=" : "", qtoken ? qtoken : "",
		    qtoken ? "&" : "", mk, qprefix) == -1) {
			q = NULL;
			rc = cdp_s3_nomem(s, s->url);
			break;
		}
		free(token);
		if ((rc = get_page(s, q, &l, &empty, &token)) <= 0)
			break;
		free(qtoken);
		if ((qtoken = cdp_s3_pct_dup(token)) == NULL) {
			rc = cdp_s3_nomem(s, s->url);
			break;
		}
	}
	if (rc == 0) {
		*objs = l.objs;
		*n = l.n;
		l.objs = NULL;
		l.n = 0;
	}
	cdp_s3_free_list(l.objs, l.n);
	free(token);
	free(qtoken);
	free(qprefix);
	free(q);
	return rc;
}
