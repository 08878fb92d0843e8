/*
 * cdp_s3.h: a small client for one prefix of an S3-compatible bucket.
 *
 * Just what a cdp store needs: PUT (multipart for large files), GET
 * (whole or a byte range), LIST, HEAD and DELETE of objects named
 * relative to the prefix of an s3://BUCKET/PREFIX location.  Requests go
 * through libcurl, signed with its built-in AWS SigV4
 * (CURLOPT_AWS_SIGV4), path-style (ENDPOINT/BUCKET/KEY).
 *
 * Where and who, as the AWS tools have it: the endpoint from the caller
 * (a --s3-endpoint option) or AWS_ENDPOINT_URL, else AWS's own
 * (https://s3.REGION.amazonaws.com), given as SCHEME://HOST[:PORT];
 * AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN when
 * set); AWS_REGION (then AWS_DEFAULT_REGION, else "us-east-1").  https
 * verifies the certificate (against AWS_CA_BUNDLE when set); plain http
 * is accepted only for a loopback endpoint (127.0.0.0/8, ::1, localhost),
 * and then cdp_s3_notice() says so.  Credentials never appear in any
 * message this module makes.  For the tests, CDP_S3_MAX_KEYS (1 to 1000)
 * makes listings come in pages of that many.
 *
 * A handle is used by one thread at a time; open one per thread.
 *
 * Errors: -1 (or NULL) with errno set and a message in cdp_s3_error():
 *   ENOENT	no such object (404 NoSuchKey) or bucket (NoSuchBucket)
 *   EACCES	403: bad credentials, signature, permissions
 *   EAGAIN	worth retrying: network error, time-out, 5xx, 429, SlowDown
 *		(already retried a few times with back-off inside)
 *   EIO	anything else the server refused (4xx), or a reply that
 *		makes no sense
 *   EINVAL	a bad location or configuration (cdp_s3_open), or an
 *		object name with an empty, "." or ".." component or a
 *		control character
 *   EFBIG	cdp_s3_get: more than max bytes
 * Messages name the object, never the credentials:
 *   "s3://bkt/pfx/00000000000000000001.cdpj: 403 AccessDenied"
 *   "s3://bkt/pfx/manifest: Failed to connect to 127.0.0.1 port 7480
 *   after 0 ms: Couldn't connect to server (4 tries)"
 */
#ifndef CDP_S3_H
#define CDP_S3_H

#include <stddef.h>
#include <stdint.h>

struct cdp_s3;

/* Whether path names an object store location: starts with "s3://". */
int	 cdp_s3_is_url(const char *path);

/*
 * Open s3://BUCKET[/PREFIX] (a trailing '/' is ignored; objects are then
 * named PREFIX/NAME).  endpoint overrides AWS_ENDPOINT_URL when not NULL.
 * Checks the configuration only (no request is made).  On failure returns
 * NULL with errno set and a message (without credentials) in why, e.g.
 * "AWS_ACCESS_KEY_ID is not set" or "http://10.0.0.1: plain http only to
 * a loopback address; use https".
 */
struct cdp_s3 *cdp_s3_open(const char *url, const char *endpoint,
	    char *why, size_t whylen);

/* "s3://BUCKET/PREFIX" as given (normalised), for messages. */
const char *cdp_s3_url(const struct cdp_s3 *);

/*
 * HEAD the bucket: 0 if it exists and the credentials may use it,
 * otherwise -1 (ENOENT: no such bucket, EACCES: refused).
 */
int	 cdp_s3_check_bucket(struct cdp_s3 *);

/* PUT the bucket itself (for tests and set-up); EEXIST if it exists. */
int	 cdp_s3_create_bucket(struct cdp_s3 *);

/* PUT name with the bytes of buf. */
int	 cdp_s3_put(struct cdp_s3 *, const char *name, const void *buf,
	    size_t len);

/*
 * PUT name with the first size bytes of fd (read with pread from offset
 * 0).  Above the multipart threshold (default 16 MiB) uploads in parts of
 * the part size (default 8 MiB) with a multipart upload, aborted on
 * failure; the object appears whole or not at all.
 */
int	 cdp_s3_put_fd(struct cdp_s3 *, const char *name, int fd,
	    uint64_t size);
void	 cdp_s3_set_multipart(struct cdp_s3 *, uint64_t threshold,
	    uint64_t part_size);

/*
 * GET len bytes of name from offset off (len 0: to the end) into a
 * malloc'ed buffer (*buf, *got bytes; free it).  Fewer bytes, or none,
 * where the object ends sooner (an offset at or past its end is no
 * error).  A reply larger than max bytes (0: no limit) fails with EFBIG
 * without keeping it.
 */
int	 cdp_s3_get(struct cdp_s3 *, const char *name, uint64_t off,
	    uint64_t len, uint64_t max, uint8_t **buf, size_t *got);

/* HEAD name: 0 and its size, or -1 (ENOENT when it does not exist). */
int	 cdp_s3_head(struct cdp_s3 *, const char *name, uint64_t *size);

/* DELETE name: no error if it did not exist, ENOENT if the bucket does not. */
int	 cdp_s3_delete(struct cdp_s3 *, const char *name);

/* One object of a listing: its name relative to the prefix, its size. */
struct cdp_s3_object {
	char		*name;
	uint64_t	 size;
};

/*
 * List every object under the prefix (all pages of ListObjectsV2), in
 * name order, names relative to the prefix ("" prefix: the whole bucket).
 * *objs is malloc'ed; free it with cdp_s3_free_list().
 */
int	 cdp_s3_list(struct cdp_s3 *, struct cdp_s3_object **objs,
	    size_t *n);
void	 cdp_s3_free_list(struct cdp_s3_object *objs, size_t n);

/*
 * Retries inside each call for EAGAIN-type failures: tries in all
 * (default 4, back-off 0.2 s doubling).  1: no retry.
 */
void	 cdp_s3_set_tries(struct cdp_s3 *, int tries);

const char *cdp_s3_error(const struct cdp_s3 *);
const char *cdp_s3_notice(const struct cdp_s3 *);	/* "" if none */

void	 cdp_s3_close(struct cdp_s3 *);

#endif
