/*
 * cdp_s3_multipart.c: PUT of an object from a file (cdp_s3_put_fd()):
 * in one request, or above the threshold in parts of a multipart upload
 * that is completed, or aborted on failure, so that the object appears
 * whole or not at all.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdp_s3_int.h"

#define S3_MAX_PARTS	10000		/* S3's limit on parts in an upload */

/* PUT bytes [off, off + len) of fd as name, with query (a part) or not. */
static int
put_range(struct cdp_s3 *s, const char *name, const char *query, int fd,
    uint64_t off, uint64_t len, char *etag, size_t etaglen)
{
	struct s3_req r;
	char w[S3_WHAT_MAX];
	int rc;

	cdp_s3_req_init(&r, s, "PUT", name);
	r.query = query;
	r.upload = 1;
	r.ufd = fd;
	r.uoff = off;
	r.ulen = len;
	rc = cdp_s3_perform(&r, NULL);
	if (rc == 0 && etag != NULL) {
		/* It goes into the XML that completes the upload. */
		if (r.etag[0] == '\0' || strlen(r.etag) >= etaglen ||
		    strpbrk(r.etag, "<>&") != NULL) {
			errno = EIO;
			rc = FAIL(s, "%s: a part's reply without a usable ETag",
			    cdp_s3_what(s, name, w, sizeof(w)));
		} else {
			memcpy(etag, r.etag, strlen(r.etag) + 1);
		}
	}
	cdp_s3_req_free(&r);
	return rc;
}

/*
 * Abort a multipart upload (qup: "uploadId=ID"), keeping the error that
 * made us do it.
 */
static void
mp_abort(struct cdp_s3 *s, const char *name, const char *qup)
{
	struct s3_req r;
	char err[sizeof(s->err)];
	int e = errno;

	memcpy(err, s->err, sizeof(err));
	cdp_s3_req_init(&r, s, "DELETE", name);
	r.query = qup;
	(void)cdp_s3_perform(&r, NULL);
	cdp_s3_req_free(&r);
	memcpy(s->err, err, sizeof(err));
	errno = e;
}

static int
put_multipart(struct cdp_s3 *s, const char *name, int fd, uint64_t size)
{
	struct s3_req r;
	char w[S3_WHAT_MAX], *id = NULL, *qid = NULL, *qup = NULL, *q = NULL;
	char *xml = NULL;
	char (*etags)[256] = NULL;
	uint64_t part = s->mp_part, nparts, i, off;
	size_t xlen, xcap;
	int rc = -1;

	cdp_s3_what(s, name, w, sizeof(w));
	if (size / part >= S3_MAX_PARTS) {
		/* Larger parts, in whole MiB, to stay within the limit. */
		part = (size + S3_MAX_PARTS - 1) / S3_MAX_PARTS;
		part = (part + (1 << 20) - 1) & ~(uint64_t)((1 << 20) - 1);
	}
	nparts = (size + part - 1) / part;

	cdp_s3_req_init(&r, s, "POST", name);
	r.query = "uploads=";
	r.upload = 1;
	r.max = S3_XML_MAX;
	if (cdp_s3_perform(&r, NULL) == -1) {
		cdp_s3_req_free(&r);
		return -1;
	}
	id = r.body ? cdp_s3_xml_text((char *)r.body, (char *)r.body + r.blen,
	    "UploadId") : NULL;
	cdp_s3_req_free(&r);
	if (id == NULL || *id == '\0' || strlen(id) > 1024) {
		free(id);
		errno = EIO;
		return FAIL(s, "%s: starting a multipart upload: a reply "
		    "without an UploadId", w);
	}
	/* The query of every later request: "uploadId=ID", ID %-encoded. */
	if ((qid = cdp_s3_pct_dup(id)) == NULL ||
	    asprintf(&qup, "uploadId=%s", qid) == -1) {
		qup = NULL;
		cdp_s3_nomem(s, w);
		goto abort;
	}
	if ((etags = calloc(nparts, sizeof(*etags))) == NULL) {
		cdp_s3_nomem(s, w);
		goto abort;
	}
	for (i = 0, off = 0; i < nparts; i++, off += part) {
		uint64_t len = size - off < part ? size - off : part;

		free(q);
		if (asprintf(&q, "partNumber=%" PRIu64 "&%s", i + 1,
		    qup) == -1) {
			q = NULL;
			cdp_s3_nomem(s, w);
			goto abort;
		}
		if (put_range(s, name, q, fd, off, len, etags[i],
		    sizeof(etags[i])) == -1)
			goto abort;
	}

	/* <CompleteMultipartUpload> with each part's number and ETag. */
	xcap = 128 + nparts * (80 + sizeof(etags[0]));
	if ((xml = malloc(xcap)) == NULL) {
		cdp_s3_nomem(s, w);
		goto abort;
	}
	xlen = (size_t)snprintf(xml, xcap, "<CompleteMultipartUpload>");
	for (i = 0; i < nparts; i++)
		xlen += (size_t)snprintf(xml + xlen, xcap - xlen,
		    "<Part><PartNumber>%" PRIu64 "</PartNumber>"
		    "<ETag>%s</ETag></Part>", i + 1, etags[i]);
	xlen += (size_t)snprintf(xml + xlen, xcap - xlen,
	    "</CompleteMultipartUpload>");
	cdp_s3_req_init(&r, s, "POST", name);
	r.query = qup;
	r.upload = 1;
	r.ubuf = (const uint8_t *)xml;
	r.ulen = xlen;
	r.max = S3_XML_MAX;
	rc = cdp_s3_perform(&r, NULL);
	if (rc == 0 && (r.body == NULL ||
	    memmem(r.body, r.blen, "<Error>", 7) != NULL ||
	    memmem(r.body, r.blen, "CompleteMultipartUploadResult", 29) ==
	    NULL)) {
		/* A 200 that says it failed, or says nothing we know. */
		cdp_s3_xml_error_code(&r);
		errno = cdp_s3_xml_retryable(r.code) ? EAGAIN : EIO;
		rc = FAIL(s, "%s: completing a multipart upload: %s", w,
		    r.code[0] ? r.code : "a reply not understood");
	} else if (rc == -1 && r.tries > 1 && r.status == 404) {
		uint64_t got;

		/*
		 * An earlier try completed it and its reply was lost: the
		 * upload is gone, the object is there.
		 */
		if (cdp_s3_head(s, name, &got) == 0 && got == size) {
			rc = 0;
		} else {
			errno = EIO;
			FAIL(s, "%s: completing a multipart upload: "
			    "the upload is gone", w);
		}
	}
	cdp_s3_req_free(&r);
	if (rc == 0)
		goto out;
abort:
	if (qup != NULL)
		mp_abort(s, name, qup);
	rc = -1;
out:
	free(xml);
	free(q);
	free(qup);
	free(qid);
	free(id);
	free(etags);
	return rc;
}

int
cdp_s3_put_fd(struct cdp_s3 *s, const char *name, int fd, uint64_t size)
{
	if (cdp_s3_check_name(s, name) == -1)
		return -1;
	if (size > s->mp_threshold)
		return put_multipart(s, name, fd, size);
	return put_range(s, name, NULL, fd, 0, size, NULL, 0);
}
