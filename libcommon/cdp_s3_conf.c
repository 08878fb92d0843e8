/*
 * cdp_s3_conf.c: opening an S3 handle: the s3:// location, the endpoint,
 * the region and the credentials checked and kept, before any request
 * (see cdp_s3.h); and closing it, credentials wiped.
 *
 * Messages repeat only what was checked and found sound, never a
 * credential: a URL that carries a password is refused without being
 * printed.
 */
#include <sys/types.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "cdp_s3_int.h"

#define S3_THRESHOLD	(16ULL << 20)	/* put_fd: multipart above this */
#define S3_PART		(8ULL << 20)	/* and parts of this size */
#define S3_TRIES	4

/*
 * Bucket names as S3 has them (3 to 63 of a-z 0-9 . -), with upper case
 * and '_' let through for older buckets some servers still have.
 */
static int
bucket_ok(const char *b)
{
	size_t n = strlen(b), i;

	if (n < 3 || n > 63)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)b[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_'))
			return 0;
	}
	return 1;
}

int
cdp_s3_is_url(const char *path)
{
	return path != NULL && strncmp(path, "s3://", 5) == 0;
}

/* Whether host (as libcurl's URL parser gives it) is a loopback address. */
static int
loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;
	char buf[INET6_ADDRSTRLEN + 2];
	size_t n = strlen(host);

	if (strcasecmp(host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (n > 2 && n < sizeof(buf) && host[0] == '[' && host[n - 1] == ']') {
		memcpy(buf, host + 1, n - 2);
		buf[n - 2] = '\0';
		if (inet_pton(AF_INET6, buf, &a6) == 1)
			return IN6_IS_ADDR_LOOPBACK(&a6) ||
			    (IN6_IS_ADDR_V4MAPPED(&a6) &&
			    a6.s6_addr[12] == 127);
	}
	return 0;
}

/*
 * Check the endpoint and keep "scheme://host[:port]" of it.  Messages
 * repeat only what was parsed out of it, so that a URL carrying a user
 * name and password is refused without being printed.
 */
static int
set_endpoint(struct cdp_s3 *s, const char *ep, char *why, size_t whylen)
{
	CURLU *u;
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
	char *part = NULL;
	size_t n;
	int rc = -1;

	if ((u = cdp_s3_curl.url()) == NULL) {
		errno = ENOMEM;
		return cdp_seterr(why, whylen, "out of memory");
	}
	if (cdp_s3_curl.url_set(u, CURLUPART_URL, ep, 0) != CURLUE_OK ||
	    cdp_s3_curl.url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    cdp_s3_curl.url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		errno = EINVAL;
		cdp_seterr(why, whylen, "S3 endpoint: not a URL "
		    "(http://HOST[:PORT] or https://HOST[:PORT])");
		goto out;
	}
	if (cdp_s3_curl.url_get(u, CURLUPART_PORT, &port,
	    CURLU_NO_DEFAULT_PORT) != CURLUE_OK)
		port = NULL;
	n = strlen(scheme) + strlen(host) + (port ? strlen(port) : 0) + 5;
	if ((s->endpoint = malloc(n)) == NULL) {
		cdp_seterr(why, whylen, "out of memory");
		goto out;
	}
	snprintf(s->endpoint, n, "%s://%s%s%s", scheme, host,
	    port ? ":" : "", port ? port : "");
	if (cdp_s3_curl.url_get(u, CURLUPART_USER, &part, 0) == CURLUE_OK ||
	    cdp_s3_curl.url_get(u, CURLUPART_PASSWORD, &part, 0) == CURLUE_OK) {
		errno = EINVAL;
		cdp_seterr(why, whylen, "%s: S3 endpoint: no user name or "
		    "password in the URL (use AWS_ACCESS_KEY_ID and "
		    "AWS_SECRET_ACCESS_KEY)", s->endpoint);
		goto out;
	}
	if (cdp_s3_curl.url_get(u, CURLUPART_QUERY, &part, 0) == CURLUE_OK ||
	    cdp_s3_curl.url_get(u, CURLUPART_FRAGMENT, &part, 0) == CURLUE_OK ||
	    (cdp_s3_curl.url_get(u, CURLUPART_PATH, &path, 0) == CURLUE_OK &&
	    strcmp(path, "/") != 0 && strcmp(path, "") != 0)) {
		errno = EINVAL;
		cdp_seterr(why, whylen, "%s: S3 endpoint: only "
		    "SCHEME://HOST[:PORT], without a path or query",
		    s->endpoint);
		goto out;
	}
	if (strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0) {
		errno = EINVAL;
		cdp_seterr(why, whylen, "%s: S3 endpoint: not http or https",
		    s->endpoint);
		goto out;
	}
	if (strcmp(scheme, "http") == 0) {
		if (!loopback(host)) {
			errno = EINVAL;
			cdp_seterr(why, whylen, "%s: plain http only to a "
			    "loopback address; use https", s->endpoint);
			goto out;
		}
		snprintf(s->notice, sizeof(s->notice), "%s: plain http, "
		    "without TLS (allowed to a loopback address)",
		    s->endpoint);
	}
	rc = 0;
out:
	cdp_s3_curl.free(scheme);
	cdp_s3_curl.free(host);
	cdp_s3_curl.free(port);
	cdp_s3_curl.free(path);
	cdp_s3_curl.free(part);
	cdp_s3_curl.url_cleanup(u);
	return rc;
}

/* Split s3://BUCKET[/PREFIX][/] into the handle. */
static int
set_location(struct cdp_s3 *s, const char *url, char *why, size_t whylen)
{
	const char *b = url + 5, *slash;
	char *pfx;
	size_t n;

	slash = strchr(b, '/');
	n = slash ? (size_t)(slash - b) : strlen(b);
	if ((s->bucket = strndup(b, n)) == NULL)
		return cdp_seterr(why, whylen, "out of memory");
	if (!bucket_ok(s->bucket)) {
		errno = EINVAL;
		return cdp_seterr(why, whylen, "%s: not a bucket name "
		    "(3 to 63 of a-z, 0-9, '.' and '-')", url);
	}
	if ((pfx = strdup(slash ? slash + 1 : "")) == NULL)
		return cdp_seterr(why, whylen, "out of memory");
	n = strlen(pfx);
	while (n > 0 && pfx[n - 1] == '/')
		pfx[--n] = '\0';
	if (n > 0 && (!cdp_s3_path_ok(pfx) || n >= S3_KEY_MAX)) {
		free(pfx);
		errno = EINVAL;
		return cdp_seterr(why, whylen, "%s: not a sound prefix "
		    "(an empty, '.' or '..' component, or a control "
		    "character)", url);
	}
	if (asprintf(&s->url, "s3://%s%s%s", s->bucket, n ? "/" : "",
	    pfx) == -1) {
		s->url = NULL;
		goto nomem;
	}
	if (asprintf(&s->prefix, "%s%s", pfx, n ? "/" : "") == -1) {
		s->prefix = NULL;
		goto nomem;
	}
	free(pfx);
	return 0;
nomem:
	free(pfx);
	errno = ENOMEM;
	return cdp_seterr(why, whylen, "out of memory");
}

static void
free_secret(char *p)
{
	if (p != NULL) {
		explicit_bzero(p, strlen(p));
		free(p);
	}
}

static const char *
env(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? v : NULL;
}

struct cdp_s3 *
cdp_s3_open(const char *url, const char *endpoint, char *why, size_t whylen)
{
	struct cdp_s3 *s;
	const char *id, *secret, *token, *region, *v;
	char *hdr = NULL, *ep = NULL;
	struct curl_slist *l;

	if (!cdp_s3_is_url(url)) {
		errno = EINVAL;
		cdp_seterr(why, whylen, "%s: not an s3:// location",
		    url ? url : "(null)");
		return NULL;
	}
	/* Loaded only now: programs that never see s3:// start faster. */
	if (cdp_s3_curl_load(url, why, whylen) == -1)
		return NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		goto nomem;
	s->mp_threshold = S3_THRESHOLD;
	s->mp_part = S3_PART;
	s->tries = S3_TRIES;
	if (set_location(s, url, why, whylen) == -1)
		goto fail;

	if ((region = env("AWS_REGION")) == NULL &&
	    (region = env("AWS_DEFAULT_REGION")) == NULL)
		region = "us-east-1";
	if (strlen(region) > 63 ||
	    region[strspn(region, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")] != '\0') {
		errno = EINVAL;
		cdp_seterr(why, whylen, "AWS_REGION: not a region name");
		goto fail;
	}
	if (endpoint == NULL)
		endpoint = env("AWS_ENDPOINT_URL");
	if (endpoint == NULL) {
		/* As the AWS tools do: the region's endpoint. */
		if (asprintf(&ep, "https://s3.%s.amazonaws.com", region) ==
		    -1) {
			ep = NULL;
			goto nomem;
		}
		endpoint = ep;
	}
	if (set_endpoint(s, endpoint, why, whylen) == -1)
		goto fail;

	if ((id = env("AWS_ACCESS_KEY_ID")) == NULL) {
		errno = EINVAL;
		cdp_seterr(why, whylen, "AWS_ACCESS_KEY_ID is not set");
		goto fail;
	}
	if ((secret = env("AWS_SECRET_ACCESS_KEY")) == NULL) {
		errno = EINVAL;
		cdp_seterr(why, whylen, "AWS_SECRET_ACCESS_KEY is not set");
		goto fail;
	}
	if ((s->key_id = strdup(id)) == NULL ||
	    (s->secret = strdup(secret)) == NULL ||
	    asprintf(&s->sigv4, "aws:amz:%s:s3", region) == -1) {
		s->sigv4 = NULL;
		goto nomem;
	}
	if ((v = env("AWS_CA_BUNDLE")) != NULL &&
	    (s->ca_file = strdup(v)) == NULL)
		goto nomem;
	/* For the tests: small listing pages, to exercise paging. */
	if ((v = env("CDP_S3_MAX_KEYS")) != NULL) {
		s->max_keys = atoi(v);
		if (s->max_keys < 1 || s->max_keys > 1000)
			s->max_keys = 0;
	}

	if ((l = cdp_s3_curl.slist_append(NULL,
	    "x-amz-content-sha256: UNSIGNED-PAYLOAD")) == NULL)
		goto nomem;
	s->hdrs = l;
	if ((token = env("AWS_SESSION_TOKEN")) != NULL) {
		/* It goes into a header: nothing that could end one. */
		if (cdp_s3_ctl(token, strlen(token))) {
			errno = EINVAL;
			cdp_seterr(why, whylen, "AWS_SESSION_TOKEN: not a "
			    "token (a control character)");
			goto fail;
		}
		if (asprintf(&hdr, "x-amz-security-token: %s", token) == -1) {
			hdr = NULL;
			goto nomem;
		}
		if ((l = cdp_s3_curl.slist_append(s->hdrs, hdr)) == NULL)
			goto nomem;
		free_secret(hdr);
		hdr = NULL;
		s->hdrs = l;
	}
	if ((s->curl = cdp_s3_curl.easy_init()) == NULL) {
		errno = ENOMEM;
		cdp_seterr(why, whylen, "libcurl: cannot make a handle");
		goto fail;
	}
	free(ep);
	return s;
nomem:
	errno = ENOMEM;
	cdp_seterr(why, whylen, "out of memory");
fail:
	free(ep);
	free_secret(hdr);
	cdp_s3_close(s);
	return NULL;
}

const char *
cdp_s3_url(const struct cdp_s3 *s)
{
	return s->url;
}

const char *
cdp_s3_error(const struct cdp_s3 *s)
{
	return s->err;
}

const char *
cdp_s3_notice(const struct cdp_s3 *s)
{
	return s->notice;
}

void
cdp_s3_set_tries(struct cdp_s3 *s, int tries)
{
	s->tries = tries < 1 ? 1 : tries;
}

void
cdp_s3_set_multipart(struct cdp_s3 *s, uint64_t threshold,
    uint64_t part_size)
{
	if (threshold > 0)
		s->mp_threshold = threshold;
	if (part_size > 0)
		s->mp_part = part_size;
}

void
cdp_s3_close(struct cdp_s3 *s)
{
	struct curl_slist *l;

	if (s == NULL)
		return;
	if (s->curl != NULL)
		cdp_s3_curl.easy_cleanup(s->curl);
	for (l = s->hdrs; l != NULL; l = l->next)
		explicit_bzero(l->data, strlen(l->data));
	cdp_s3_curl.slist_free_all(s->hdrs);
	free(s->endpoint);
	free(s->bucket);
	free(s->prefix);
	free(s->url);
	free_secret(s->key_id);
	free_secret(s->secret);
	free(s->sigv4);
	free(s->ca_file);
	free(s);
}
