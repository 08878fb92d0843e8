/*
 * cdp_s3.c: a small S3 client for one prefix of a bucket (see cdp_s3.h).
 *
 * Why it is built the way it is:
 *
 *  - libcurl signs every request (CURLOPT_AWS_SIGV4).  It signs the URL's
 *    path and query exactly as given, so both are built here already in
 *    canonical form: the key %-encoded except for '/', the query's keys in
 *    order and its values %-encoded with upper-case hex ("uploads=", not
 *    "uploads").  It also signs every header we add, and takes the payload
 *    hash from our x-amz-content-sha256 header; without that header curl
 *    (7.88) signs the hash of an empty body and the server answers 403.
 *    UNSIGNED-PAYLOAD: bodies are streamed from files, never hashed whole.
 *  - One easy handle per cdp_s3, reset before each request:
 *    curl_easy_reset() keeps the handle's connections, so one keep-alive
 *    connection serves request after request.
 *  - Replies are read into a bounded buffer and the few elements that
 *    matter are picked out by hand.  Nothing in a reply is trusted before
 *    it is checked: a server can send anything, and the worst it may get
 *    from us is an EIO.
 *  - Credentials stay in the handle and in libcurl; messages are made from
 *    the s3:// location, the HTTP status, the server's error code and
 *    libcurl's error text, none of which hold them.
 */
#include <sys/types.h>

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "cdp_s3.h"

#define S3_THRESHOLD	(16ULL << 20)	/* put_fd: multipart above this */
#define S3_PART		(8ULL << 20)	/* and parts of this size */
#define S3_MAX_PARTS	10000		/* S3's limit on parts in an upload */
#define S3_TRIES	4
#define S3_BACKOFF_NS	200000000LL	/* first retry after 0.2 s, doubling */
#define S3_BACKOFF_MAX_NS 5000000000LL
#define S3_CONNECT_S	10
#define S3_STALL_S	30		/* nothing moved this long: failed */
#define S3_ERRBODY_MAX	(64 * 1024)	/* an error reply is kept up to this */
#define S3_XML_MAX	(16 << 20)	/* a listing or other XML reply */
#define S3_PREALLOC_MAX	(1ULL << 30)	/* trust Content-Length up to this */
#define S3_KEY_MAX	1024		/* S3's limit on a key, in bytes */
#define S3_LIST_MAX	10000000	/* objects in one listing */
#define S3_CODE_MAX	64

struct cdp_s3 {
	CURL		*curl;
	char		*endpoint;	/* scheme://host[:port], no '/' after */
	char		*bucket;
	char		*prefix;	/* "" or "PREFIX/" */
	char		*url;		/* s3://BUCKET[/PREFIX], for messages */
	char		*key_id;
	char		*secret;
	char		*sigv4;		/* "aws:amz:REGION:s3" */
	char		*ca_file;	/* AWS_CA_BUNDLE, or NULL */
	struct curl_slist *hdrs;	/* added to (and signed in) requests */
	uint64_t	 mp_threshold;
	uint64_t	 mp_part;
	int		 tries;
	int		 max_keys;	/* per listing page; 0: the server's */
	char		 curl_err[CURL_ERROR_SIZE];
	char		 err[512];
	char		 notice[256];
};

/* One request and what came back. */
struct req {
	struct cdp_s3	*s;
	const char	*method;	/* GET HEAD PUT POST DELETE */
	const char	*name;		/* object, relative; NULL: the bucket */
	const char	*query;		/* canonical query string, or NULL */
	const char	*range;		/* "FIRST-[LAST]", or NULL */

	int		 upload;	/* send a body (PUT, POST) */
	const uint8_t	*ubuf;		/* from memory, or else */
	int		 ufd;		/* from ufd at uoff */
	uint64_t	 uoff, ulen, upos;
	int		 rd_errno;	/* reading the body failed */

	uint64_t	 max;		/* a 2xx body above this: EFBIG */
	long		 status;
	uint8_t		*body;		/* NUL-terminated, blen bytes */
	size_t		 blen, bcap;
	int		 toobig;
	int		 nomem;
	char		 etag[256];
	char		 crange[128];
	char		 code[S3_CODE_MAX + 1];	/* <Code> of an error reply */
	int		 tries;		/* made */
	int		 retryable;	/* the last failure was worth a retry */
};

static pthread_once_t	global_once = PTHREAD_ONCE_INIT;
static CURLcode		global_rc = CURLE_FAILED_INIT;

static void
global_init(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* Format a message into buf, keeping errno; returns -1 for the caller. */
static int __attribute__((format(printf, 3, 4)))
seterr(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int e = errno;

	va_start(ap, fmt);
	vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	errno = e;
	return -1;
}

#define FAIL(s, ...)	seterr((s)->err, sizeof((s)->err), __VA_ARGS__)
/* A reply that makes no sense. */
#define BAD(s, ...)	(errno = EIO, FAIL(s, __VA_ARGS__))

/*
 * "s3://BUCKET/PREFIX/NAME" (or the location alone for NULL) for a
 * message, with bytes outside printable ASCII written \xNN: names may come
 * from a listing, that is from the server.
 */
static const char *
what(const struct cdp_s3 *s, const char *name, char *buf, size_t size)
{
	size_t n;

	n = (size_t)snprintf(buf, size, "%s", s->url);
	if (name == NULL || n >= size)
		return buf;
	if (n + 1 < size)
		buf[n++] = '/';
	for (; *name != '\0' && n + 5 < size; name++) {
		unsigned char c = (unsigned char)*name;

		if (c >= 0x20 && c < 0x7f && c != '\\')
			buf[n++] = (char)c;
		else
			n += (size_t)snprintf(buf + n, size - n, "\\x%02x", c);
	}
	buf[n] = '\0';
	return buf;
}

static int
unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	    c == '~';
}

/*
 * Append s %-encoded to buf (which has room: 3 bytes per byte of s, and
 * a NUL): the unreserved characters as they are, '/' too when keep_slash
 * (a key in a path), everything else %XX with upper-case hex, as SigV4's
 * canonical form has it.
 */
static char *
pct_encode(char *buf, const char *s, int keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (unreserved(c) || (keep_slash && c == '/')) {
			*buf++ = (char)c;
		} else {
			*buf++ = '%';
			*buf++ = hex[c >> 4];
			*buf++ = hex[c & 15];
		}
	}
	*buf = '\0';
	return buf;
}

/* A malloc'ed copy of s %-encoded (for a query value), or NULL. */
static char *
pct_dup(const char *s)
{
	char *d = malloc(strlen(s) * 3 + 1);

	if (d != NULL)
		pct_encode(d, s, 0);
	return d;
}

/*
 * Whether path (a prefix or a name) is made of sound components: not
 * empty, no empty, "." or ".." component (libcurl and servers may
 * normalise those away), no control characters.
 */
static int
path_ok(const char *path)
{
	const char *p = path, *c;

	if (*path == '\0')
		return 0;
	for (c = path; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return 0;
	for (;;) {
		size_t n = strcspn(p, "/");

		if (n == 0 || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		if (p[n] == '\0')
			return 1;
		p += n + 1;
	}
}

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

	if ((u = curl_url()) == NULL) {
		errno = ENOMEM;
		return seterr(why, whylen, "out of memory");
	}
	if (curl_url_set(u, CURLUPART_URL, ep, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		errno = EINVAL;
		seterr(why, whylen, "S3 endpoint: not a URL "
		    "(http://HOST[:PORT] or https://HOST[:PORT])");
		goto out;
	}
	if (curl_url_get(u, CURLUPART_PORT, &port, CURLU_NO_DEFAULT_PORT) !=
	    CURLUE_OK)
		port = NULL;
	n = strlen(scheme) + strlen(host) + (port ? strlen(port) : 0) + 5;
	if ((s->endpoint = malloc(n)) == NULL) {
		seterr(why, whylen, "out of memory");
		goto out;
	}
	snprintf(s->endpoint, n, "%s://%s%s%s", scheme, host,
	    port ? ":" : "", port ? port : "");
	if (curl_url_get(u, CURLUPART_USER, &part, 0) == CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PASSWORD, &part, 0) == CURLUE_OK) {
		errno = EINVAL;
		seterr(why, whylen, "%s: S3 endpoint: no user name or "
		    "password in the URL (use AWS_ACCESS_KEY_ID and "
		    "AWS_SECRET_ACCESS_KEY)", s->endpoint);
		goto out;
	}
	if (curl_url_get(u, CURLUPART_QUERY, &part, 0) == CURLUE_OK ||
	    curl_url_get(u, CURLUPART_FRAGMENT, &part, 0) == CURLUE_OK ||
	    (curl_url_get(u, CURLUPART_PATH, &path, 0) == CURLUE_OK &&
	    strcmp(path, "/") != 0 && strcmp(path, "") != 0)) {
		errno = EINVAL;
		seterr(why, whylen, "%s: S3 endpoint: only "
		    "SCHEME://HOST[:PORT], without a path or query",
		    s->endpoint);
		goto out;
	}
	if (strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0) {
		errno = EINVAL;
		seterr(why, whylen, "%s: S3 endpoint: not http or https",
		    s->endpoint);
		goto out;
	}
	if (strcmp(scheme, "http") == 0) {
		if (!loopback(host)) {
			errno = EINVAL;
			seterr(why, whylen, "%s: plain http only to a loopback "
			    "address; use https", s->endpoint);
			goto out;
		}
		snprintf(s->notice, sizeof(s->notice), "%s: plain http, "
		    "without TLS (allowed to a loopback address)",
		    s->endpoint);
	}
	rc = 0;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_free(part);
	curl_url_cleanup(u);
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
		return seterr(why, whylen, "out of memory");
	if (!bucket_ok(s->bucket)) {
		errno = EINVAL;
		return seterr(why, whylen, "%s: not a bucket name "
		    "(3 to 63 of a-z, 0-9, '.' and '-')", url);
	}
	if ((pfx = strdup(slash ? slash + 1 : "")) == NULL)
		return seterr(why, whylen, "out of memory");
	n = strlen(pfx);
	while (n > 0 && pfx[n - 1] == '/')
		pfx[--n] = '\0';
	if (n > 0 && (!path_ok(pfx) || n >= S3_KEY_MAX)) {
		free(pfx);
		errno = EINVAL;
		return seterr(why, whylen, "%s: not a sound prefix (an empty, "
		    "'.' or '..' component, or a control character)", url);
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
	return seterr(why, whylen, "out of memory");
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
	const char *id, *secret, *token, *region, *v, *c;
	char *hdr = NULL, *ep = NULL;
	struct curl_slist *l;

	if (!cdp_s3_is_url(url)) {
		errno = EINVAL;
		seterr(why, whylen, "%s: not an s3:// location",
		    url ? url : "(null)");
		return NULL;
	}
	pthread_once(&global_once, global_init);
	if (global_rc != CURLE_OK) {
		errno = ENOMEM;
		seterr(why, whylen, "libcurl: %s",
		    curl_easy_strerror(global_rc));
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		seterr(why, whylen, "out of memory");
		return NULL;
	}
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
		seterr(why, whylen, "AWS_REGION: not a region name");
		goto fail;
	}
	if (endpoint == NULL)
		endpoint = env("AWS_ENDPOINT_URL");
	if (endpoint == NULL) {
		/* As the AWS tools do: the region's endpoint. */
		if (asprintf(&ep, "https://s3.%s.amazonaws.com", region) ==
		    -1) {
			ep = NULL;
			seterr(why, whylen, "out of memory");
			goto fail;
		}
		endpoint = ep;
	}
	if (set_endpoint(s, endpoint, why, whylen) == -1)
		goto fail;

	if ((id = env("AWS_ACCESS_KEY_ID")) == NULL) {
		errno = EINVAL;
		seterr(why, whylen, "AWS_ACCESS_KEY_ID is not set");
		goto fail;
	}
	if ((secret = env("AWS_SECRET_ACCESS_KEY")) == NULL) {
		errno = EINVAL;
		seterr(why, whylen, "AWS_SECRET_ACCESS_KEY is not set");
		goto fail;
	}
	if ((s->key_id = strdup(id)) == NULL ||
	    (s->secret = strdup(secret)) == NULL ||
	    asprintf(&s->sigv4, "aws:amz:%s:s3", region) == -1) {
		s->sigv4 = NULL;
		seterr(why, whylen, "out of memory");
		goto fail;
	}
	if ((v = env("AWS_CA_BUNDLE")) != NULL &&
	    (s->ca_file = strdup(v)) == NULL) {
		seterr(why, whylen, "out of memory");
		goto fail;
	}
	/* For the tests: small listing pages, to exercise paging. */
	if ((v = env("CDP_S3_MAX_KEYS")) != NULL) {
		s->max_keys = atoi(v);
		if (s->max_keys < 1 || s->max_keys > 1000)
			s->max_keys = 0;
	}

	if ((l = curl_slist_append(NULL,
	    "x-amz-content-sha256: UNSIGNED-PAYLOAD")) == NULL) {
		seterr(why, whylen, "out of memory");
		goto fail;
	}
	s->hdrs = l;
	if ((token = env("AWS_SESSION_TOKEN")) != NULL) {
		/* It goes into a header: nothing that could end one. */
		for (c = token; *c != '\0'; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				break;
		if (*c != '\0') {
			errno = EINVAL;
			seterr(why, whylen, "AWS_SESSION_TOKEN: not a token "
			    "(a control character)");
			goto fail;
		}
		if (asprintf(&hdr, "x-amz-security-token: %s", token) == -1 ||
		    (l = curl_slist_append(s->hdrs, hdr)) == NULL) {
			seterr(why, whylen, "out of memory");
			goto fail;
		}
		explicit_bzero(hdr, strlen(hdr));
		free(hdr);
		hdr = NULL;
		s->hdrs = l;
	}
	if ((s->curl = curl_easy_init()) == NULL) {
		errno = ENOMEM;
		seterr(why, whylen, "libcurl: cannot make a handle");
		goto fail;
	}
	free(ep);
	return s;
fail:
	free(ep);
	free(hdr);
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

static void
free_secret(char *p)
{
	if (p != NULL) {
		explicit_bzero(p, strlen(p));
		free(p);
	}
}

void
cdp_s3_close(struct cdp_s3 *s)
{
	struct curl_slist *l;

	if (s == NULL)
		return;
	if (s->curl != NULL)
		curl_easy_cleanup(s->curl);
	for (l = s->hdrs; l != NULL; l = l->next)
		explicit_bzero(l->data, strlen(l->data));
	curl_slist_free_all(s->hdrs);
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

/* --- replies --- */

/*
 * Decode the XML text [p, end) into a malloc'ed string: the five named
 * entities and character references.  NULL (errno EBADMSG) for anything
 * else, for markup, and for a character that would be a NUL.
 */
static char *
xml_decode(const char *p, const char *end)
{
	static const struct {
		const char	*name;
		char		 c;
	} ents[] = {
		{ "amp;", '&' }, { "lt;", '<' }, { "gt;", '>' },
		{ "quot;", '"' }, { "apos;", '\'' }
	};
	char *out, *o;
	size_t i;

	if ((out = malloc((size_t)(end - p) + 1)) == NULL)
		return NULL;
	for (o = out; p < end; ) {
		if (*p == '\0' || *p == '<')
			goto bad;
		if (*p != '&') {
			*o++ = *p++;
			continue;
		}
		p++;
		for (i = 0; i < sizeof(ents) / sizeof(ents[0]); i++) {
			size_t n = strlen(ents[i].name);

			if ((size_t)(end - p) >= n &&
			    memcmp(p, ents[i].name, n) == 0) {
				*o++ = ents[i].c;
				p += n;
				break;
			}
		}
		if (i < sizeof(ents) / sizeof(ents[0]))
			continue;
		if (p < end && *p == '#') {
			uint32_t cp = 0;
			int hex = 0, digits = 0;

			p++;
			if (p < end && *p == 'x') {
				hex = 1;
				p++;
			}
			for (; p < end && *p != ';'; p++, digits++) {
				int d;

				if (*p >= '0' && *p <= '9')
					d = *p - '0';
				else if (hex && *p >= 'a' && *p <= 'f')
					d = *p - 'a' + 10;
				else if (hex && *p >= 'A' && *p <= 'F')
					d = *p - 'A' + 10;
				else
					goto bad;
				cp = cp * (hex ? 16 : 10) + (uint32_t)d;
				if (digits > 8 || cp > 0x10ffff)
					goto bad;
			}
			if (p == end || digits == 0 || cp == 0 ||
			    (cp >= 0xd800 && cp <= 0xdfff))
				goto bad;
			p++;
			if (cp < 0x80) {
				*o++ = (char)cp;
			} else if (cp < 0x800) {
				*o++ = (char)(0xc0 | (cp >> 6));
				*o++ = (char)(0x80 | (cp & 0x3f));
			} else if (cp < 0x10000) {
				*o++ = (char)(0xe0 | (cp >> 12));
				*o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
				*o++ = (char)(0x80 | (cp & 0x3f));
			} else {
				*o++ = (char)(0xf0 | (cp >> 18));
				*o++ = (char)(0x80 | ((cp >> 12) & 0x3f));
				*o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
				*o++ = (char)(0x80 | (cp & 0x3f));
			}
			continue;
		}
		goto bad;
	}
	*o = '\0';
	return out;
bad:
	free(out);
	errno = EBADMSG;
	return NULL;
}

/*
 * The text of the first <name>...</name> in [p, end): 0 and [*tp, *tend),
 * or -1 when there is none or it holds markup.  S3's elements carry no
 * attributes, so "<name>" is matched exactly.
 */
static int
xml_find(const char *p, const char *end, const char *name, const char **tp,
    const char **tend)
{
	char open[64], close[66];
	const char *a, *b, *lt;
	size_t on, cn;

	on = (size_t)snprintf(open, sizeof(open), "<%s>", name);
	cn = (size_t)snprintf(close, sizeof(close), "</%s>", name);
	if (p >= end || (a = memmem(p, (size_t)(end - p), open, on)) == NULL)
		return -1;
	a += on;
	if ((b = memmem(a, (size_t)(end - a), close, cn)) == NULL)
		return -1;
	lt = memchr(a, '<', (size_t)(b - a));
	if (lt != NULL)
		return -1;
	*tp = a;
	*tend = b;
	return 0;
}

/* The decoded text of <name> in [p, end), malloc'ed, or NULL. */
static char *
xml_text(const char *p, const char *end, const char *name)
{
	const char *a, *b;

	if (xml_find(p, end, name, &a, &b) == -1) {
		errno = EBADMSG;
		return NULL;
	}
	return xml_decode(a, b);
}

/* Keep the <Code> of an <Error> reply when it looks like one. */
static void
error_code(struct req *r)
{
	const char *p, *end, *a, *b, *c;
	size_t n;

	r->code[0] = '\0';
	if (r->body == NULL)
		return;
	p = (const char *)r->body;
	end = p + r->blen;
	if ((p = memmem(p, r->blen, "<Error>", 7)) == NULL ||
	    xml_find(p, end, "Code", &a, &b) == -1)
		return;
	n = (size_t)(b - a);
	if (n == 0 || n > S3_CODE_MAX)
		return;
	for (c = a; c < b; c++)
		if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
		    (*c >= '0' && *c <= '9') || *c == '.'))
			return;
	memcpy(r->code, a, n);
	r->code[n] = '\0';
}

static const char *
reason(long status)
{
	switch (status) {
	case 301: return "Moved Permanently";
	case 307: return "Temporary Redirect";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 412: return "Precondition Failed";
	case 416: return "Range Not Satisfiable";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "HTTP error";
	}
}

/* A word of advice for the error codes a user can do something about. */
static const char *
hint(const char *code)
{
	if (strcmp(code, "SignatureDoesNotMatch") == 0)
		return " (check AWS_SECRET_ACCESS_KEY)";
	if (strcmp(code, "InvalidAccessKeyId") == 0)
		return " (check AWS_ACCESS_KEY_ID)";
	if (strcmp(code, "RequestTimeTooSkewed") == 0)
		return " (check the clock)";
	if (strcmp(code, "PermanentRedirect") == 0 ||
	    strcmp(code, "AuthorizationHeaderMalformed") == 0)
		return " (check AWS_REGION)";
	return "";
}

static int
code_retryable(const char *code)
{
	return strcmp(code, "SlowDown") == 0 ||
	    strcmp(code, "InternalError") == 0 ||
	    strcmp(code, "ServiceUnavailable") == 0 ||
	    strcmp(code, "RequestTimeout") == 0;
}

/* --- transfers --- */

static size_t
read_cb(char *dst, size_t size, size_t nmemb, void *arg)
{
	struct req *r = arg;
	size_t want = size * nmemb;
	uint64_t left = r->ulen - r->upos;
	ssize_t got;

	if (want > left)
		want = (size_t)left;
	if (want == 0)
		return 0;
	if (r->ubuf != NULL) {
		memcpy(dst, r->ubuf + r->upos, want);
	} else {
		do
			got = pread(r->ufd, dst, want,
			    (off_t)(r->uoff + r->upos));
		while (got == -1 && errno == EINTR);
		if (got <= 0) {
			/* The file is shorter than it was said to be. */
			r->rd_errno = got == 0 ? EIO : errno;
			return CURL_READFUNC_ABORT;
		}
		want = (size_t)got;
	}
	r->upos += want;
	return want;
}

/* libcurl rewinds the body to send it again (after a 100 or a redirect). */
static int
seek_cb(void *arg, curl_off_t off, int origin)
{
	struct req *r = arg;

	if (origin != SEEK_SET || off < 0 || (uint64_t)off > r->ulen)
		return CURL_SEEKFUNC_CANTSEEK;
	r->upos = (uint64_t)off;
	return CURL_SEEKFUNC_OK;
}

/* Copy the value of header name from line when it is that header. */
static void
hdr_value(const char *line, size_t len, const char *name, char *out,
    size_t outlen)
{
	size_t n = strlen(name), i, j;

	if (len <= n || strncasecmp(line, name, n) != 0 || line[n] != ':')
		return;
	i = n + 1;
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	while (len > i && (line[len - 1] == '\r' || line[len - 1] == '\n' ||
	    line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	out[0] = '\0';
	if (len - i >= outlen)
		return;
	for (j = i; j < len; j++)
		if ((unsigned char)line[j] < 0x20 || line[j] == 0x7f)
			return;
	memcpy(out, line + i, len - i);
	out[len - i] = '\0';
}

static size_t
header_cb(char *line, size_t size, size_t nmemb, void *arg)
{
	struct req *r = arg;
	size_t len = size * nmemb;

	if (len >= 5 && memcmp(line, "HTTP/", 5) == 0) {
		/* A new reply (after a 100 Continue): forget the last one. */
		r->etag[0] = r->crange[0] = '\0';
		return len;
	}
	hdr_value(line, len, "etag", r->etag, sizeof(r->etag));
	hdr_value(line, len, "content-range", r->crange, sizeof(r->crange));
	return len;
}

static int
reserve(struct req *r, size_t need)
{
	size_t cap;
	uint8_t *p;

	if (need <= r->bcap)
		return 0;
	cap = r->bcap ? r->bcap : 16384;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	if ((p = realloc(r->body, cap)) == NULL) {
		r->nomem = 1;
		return -1;
	}
	r->body = p;
	r->bcap = cap;
	return 0;
}

static size_t
write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct req *r = arg;
	size_t len = size * nmemb, keep = len;
	long status = 0;
	curl_off_t cl = -1;

	curl_easy_getinfo(r->s->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status < 200 || status > 299) {
		/* An error reply's start says what it is; drop the rest. */
		if (r->blen >= S3_ERRBODY_MAX)
			return len;
		if (keep > S3_ERRBODY_MAX - r->blen)
			keep = S3_ERRBODY_MAX - r->blen;
	} else {
		if (r->max != 0 && (r->blen + len < r->blen ||
		    r->blen + len > r->max)) {
			r->toobig = 1;
			return 0;
		}
		if (r->blen == 0 && curl_easy_getinfo(r->s->curl,
		    CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) == CURLE_OK &&
		    cl > 0) {
			if (r->max != 0 && (uint64_t)cl > r->max) {
				r->toobig = 1;
				return 0;
			}
			if ((uint64_t)cl < S3_PREALLOC_MAX &&
			    reserve(r, (size_t)cl + 1) == -1)
				return 0;
		}
	}
	if (r->blen + keep + 1 < r->blen ||
	    reserve(r, r->blen + keep + 1) == -1)
		return 0;
	memcpy(r->body + r->blen, data, keep);
	r->blen += keep;
	r->body[r->blen] = '\0';
	return len;
}

/* The URL of a request: ENDPOINT/BUCKET[/KEY][?QUERY]. */
static char *
req_url(const struct req *r)
{
	const struct cdp_s3 *s = r->s;
	size_t n;
	char *u, *p;

	n = strlen(s->endpoint) + strlen(s->bucket) + 3;
	if (r->name != NULL)
		n += 3 * (strlen(s->prefix) + strlen(r->name));
	if (r->query != NULL)
		n += strlen(r->query) + 1;
	if ((u = malloc(n)) == NULL)
		return NULL;
	p = u + sprintf(u, "%s/%s", s->endpoint, s->bucket);
	if (r->name != NULL) {
		*p++ = '/';
		p = pct_encode(p, s->prefix, 1);
		p = pct_encode(p, r->name, 1);
	}
	if (r->query != NULL)
		sprintf(p, "?%s", r->query);
	return u;
}

static void
req_reset(struct req *r)
{
	r->upos = 0;
	r->rd_errno = 0;
	r->status = 0;
	r->blen = 0;
	if (r->body != NULL)
		r->body[0] = '\0';
	r->toobig = r->nomem = 0;
	r->etag[0] = r->crange[0] = r->code[0] = '\0';
}

/*
 * Whether a transfer that libcurl gave up on may go better the next time:
 * yes for the network and the server, no for what is wrong on our side.
 */
static int
curl_retryable(CURLcode rc)
{
	switch (rc) {
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_NOT_BUILT_IN:
	case CURLE_OUT_OF_MEMORY:
	case CURLE_BAD_FUNCTION_ARGUMENT:
	case CURLE_ABORTED_BY_CALLBACK:
	case CURLE_READ_ERROR:
	case CURLE_WRITE_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_UNKNOWN_OPTION:
	case CURLE_LOGIN_DENIED:
	case CURLE_AUTH_ERROR:
	case CURLE_FILESIZE_EXCEEDED:
		return 0;
	default:
		return 1;
	}
}

/*
 * Make the request once.  0: a reply came (r->status); -1: none, with
 * errno and the message set, r->retryable saying whether to try again.
 */
static int
perform_once(struct req *r)
{
	struct cdp_s3 *s = r->s;
	CURL *c = s->curl;
	CURLcode rc;
	char *url, w[1200];

	req_reset(r);
	r->retryable = 0;
	if ((url = req_url(r)) == NULL) {
		errno = ENOMEM;
		return FAIL(s, "%s: out of memory", what(s, r->name, w,
		    sizeof(w)));
	}
	curl_easy_reset(c);
	s->curl_err[0] = '\0';
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, s->curl_err);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)S3_CONNECT_S);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (long)S3_STALL_S);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "cdp");
	curl_easy_setopt(c, CURLOPT_USERNAME, s->key_id);
	curl_easy_setopt(c, CURLOPT_PASSWORD, s->secret);
	curl_easy_setopt(c, CURLOPT_AWS_SIGV4, s->sigv4);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, s->hdrs);
	if (s->ca_file != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, s->ca_file);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	if (r->range != NULL)
		curl_easy_setopt(c, CURLOPT_RANGE, r->range);
	if (strcmp(r->method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	else if (strcmp(r->method, "GET") != 0 && !r->upload)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, r->method);
	if (r->upload) {
		/*
		 * PUT and POST both go as an upload from read_cb, so that a
		 * POST has a Content-Length and no form Content-Type.
		 */
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE,
		    (curl_off_t)r->ulen);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
		curl_easy_setopt(c, CURLOPT_READDATA, r);
		curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, seek_cb);
		curl_easy_setopt(c, CURLOPT_SEEKDATA, r);
		if (strcmp(r->method, "PUT") != 0)
			curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, r->method);
	}
	rc = curl_easy_perform(c);
	free(url);
	r->tries++;
	if (rc == CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
		return 0;
	}
	what(s, r->name, w, sizeof(w));
	if (r->toobig) {
		errno = EFBIG;
		return FAIL(s, "%s: larger than %" PRIu64 " bytes", w, r->max);
	}
	if (r->nomem) {
		errno = ENOMEM;
		return FAIL(s, "%s: out of memory", w);
	}
	if (r->rd_errno != 0) {
		errno = r->rd_errno;
		return FAIL(s, "%s: reading what to send: %s", w,
		    r->rd_errno == EIO ? "file shorter than expected" :
		    strerror(r->rd_errno));
	}
	r->retryable = curl_retryable(rc);
	errno = r->retryable ? EAGAIN : EIO;
	return FAIL(s, "%s: %s", w,
	    s->curl_err[0] ? s->curl_err : curl_easy_strerror(rc));
}

/*
 * Turn an HTTP error reply into errno and a message, and say whether it is
 * worth another try; -1.
 */
static int
http_error(struct req *r)
{
	struct cdp_s3 *s = r->s;
	char w[1200];
	long st = r->status;

	error_code(r);
	what(s, r->name, w, sizeof(w));
	r->retryable = st == 408 || st == 429 || st >= 500 ||
	    code_retryable(r->code);
	if (r->retryable)
		errno = EAGAIN;
	else if (st == 401 || st == 403)
		errno = EACCES;
	else if (st == 404)
		errno = ENOENT;
	else
		errno = EIO;
	if (r->code[0] != '\0')
		return FAIL(s, "%s: %ld %s%s", w, st, r->code, hint(r->code));
	return FAIL(s, "%s: %ld %s", w, st, reason(st));
}

static void
backoff(int try)
{
	int64_t ns = S3_BACKOFF_NS;
	struct timespec ts;

	while (--try > 0 && ns < S3_BACKOFF_MAX_NS)
		ns *= 2;
	if (ns > S3_BACKOFF_MAX_NS)
		ns = S3_BACKOFF_MAX_NS;
	ts.tv_sec = (time_t)(ns / 1000000000);
	ts.tv_nsec = (long)(ns % 1000000000);
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/*
 * Make the request, again after a back-off while it fails in a way worth
 * retrying.  0: a 2xx reply (or one of the statuses in ok, a 0-ended
 * list); -1: errno and the message set.
 */
static int
perform(struct req *r, const long *ok)
{
	struct cdp_s3 *s = r->s;
	int try, rc, e;

	r->tries = 0;
	for (try = 1; ; try++) {
		rc = perform_once(r);
		if (rc == 0) {
			const long *o;

			if (r->status >= 200 && r->status <= 299)
				return 0;
			for (o = ok; o != NULL && *o != 0; o++)
				if (*o == r->status) {
					error_code(r);
					return 0;
				}
			rc = http_error(r);
		}
		if (!r->retryable || try >= s->tries)
			break;
		backoff(try);
	}
	if (r->retryable && try > 1) {
		size_t n = strlen(s->err);

		e = errno;
		snprintf(s->err + n, sizeof(s->err) - n, " (%d tries)", try);
		errno = e;
	}
	return -1;
}

static void
req_init(struct req *r, struct cdp_s3 *s, const char *method,
    const char *name)
{
	memset(r, 0, sizeof(*r));
	r->s = s;
	r->method = method;
	r->name = name;
	r->ufd = -1;
}

static void
req_free(struct req *r)
{
	free(r->body);
	r->body = NULL;
}

/* Refuse a name that would not make a sound key. */
static int
check_name(struct cdp_s3 *s, const char *name)
{
	char w[1200];

	if (name == NULL || !path_ok(name) ||
	    strlen(s->prefix) + strlen(name) > S3_KEY_MAX) {
		errno = EINVAL;
		return FAIL(s, "%s: not a sound object name",
		    what(s, name ? name : "", w, sizeof(w)));
	}
	return 0;
}

/* --- buckets --- */

int
cdp_s3_check_bucket(struct cdp_s3 *s)
{
	struct req r;
	int rc;

	req_init(&r, s, "HEAD", NULL);
	rc = perform(&r, NULL);
	if (rc == -1 && r.status == 404)
		FAIL(s, "%s: 404 NoSuchBucket", s->url);
	req_free(&r);
	return rc;
}

int
cdp_s3_create_bucket(struct cdp_s3 *s)
{
	static const long ok[] = { 404, 0 };
	struct req r;
	int rc;

	/* Some servers answer 200 to a PUT of a bucket one already owns. */
	req_init(&r, s, "HEAD", NULL);
	rc = perform(&r, ok);
	req_free(&r);
	if (rc == -1)
		return -1;
	if (r.status != 404) {
		errno = EEXIST;
		return FAIL(s, "%s: the bucket exists", s->url);
	}
	req_init(&r, s, "PUT", NULL);
	r.upload = 1;
	rc = perform(&r, NULL);
	if (rc == -1 && r.status == 409) {
		errno = EEXIST;
		FAIL(s, "%s: the bucket exists (%s)", s->url,
		    r.code[0] ? r.code : "409 Conflict");
	}
	req_free(&r);
	return rc;
}

/* --- objects --- */

int
cdp_s3_put(struct cdp_s3 *s, const char *name, const void *buf, size_t len)
{
	struct req r;
	int rc;

	if (check_name(s, name) == -1)
		return -1;
	req_init(&r, s, "PUT", name);
	r.upload = 1;
	r.ubuf = buf != NULL ? buf : (const uint8_t *)"";
	r.ulen = len;
	rc = perform(&r, NULL);
	req_free(&r);
	return rc;
}

/* PUT bytes [off, off + len) of fd as name, with query (a part) or not. */
static int
put_range(struct cdp_s3 *s, const char *name, const char *query, int fd,
    uint64_t off, uint64_t len, char *etag, size_t etaglen)
{
	struct req r;
	char w[1200];
	int rc;

	req_init(&r, s, "PUT", name);
	r.query = query;
	r.upload = 1;
	r.ufd = fd;
	r.uoff = off;
	r.ulen = len;
	rc = perform(&r, NULL);
	if (rc == 0 && etag != NULL) {
		/* It goes into the XML that completes the upload. */
		if (r.etag[0] == '\0' || strlen(r.etag) >= etaglen ||
		    strpbrk(r.etag, "<>&") != NULL) {
			errno = EIO;
			rc = FAIL(s, "%s: a part's reply without a usable ETag",
			    what(s, name, w, sizeof(w)));
		} else {
			memcpy(etag, r.etag, strlen(r.etag) + 1);
		}
	}
	req_free(&r);
	return rc;
}

/* Abort a multipart upload, keeping the error that made us do it. */
static void
mp_abort(struct cdp_s3 *s, const char *name, const char *qid)
{
	struct req r;
	char err[sizeof(s->err)], *q;
	int e = errno;

	memcpy(err, s->err, sizeof(err));
	if (asprintf(&q, "uploadId=%s", qid) != -1) {
		req_init(&r, s, "DELETE", name);
		r.query = q;
		(void)perform(&r, NULL);
		req_free(&r);
		free(q);
	}
	memcpy(s->err, err, sizeof(err));
	errno = e;
}

static int
put_multipart(struct cdp_s3 *s, const char *name, int fd, uint64_t size)
{
	struct req r;
	char w[1200], *id = NULL, *qid = NULL, *q = NULL, *xml = NULL;
	char (*etags)[256] = NULL;
	uint64_t part = s->mp_part, nparts, i, off;
	size_t xlen, xcap;
	int rc = -1;

	what(s, name, w, sizeof(w));
	if (size / part >= S3_MAX_PARTS) {
		/* Larger parts, in whole MiB, to stay within the limit. */
		part = (size + S3_MAX_PARTS - 1) / S3_MAX_PARTS;
		part = (part + (1 << 20) - 1) & ~(uint64_t)((1 << 20) - 1);
	}
	nparts = (size + part - 1) / part;

	req_init(&r, s, "POST", name);
	r.query = "uploads=";
	r.upload = 1;
	r.max = S3_XML_MAX;
	if (perform(&r, NULL) == -1) {
		req_free(&r);
		return -1;
	}
	id = r.body ? xml_text((char *)r.body, (char *)r.body + r.blen,
	    "UploadId") : NULL;
	req_free(&r);
	if (id == NULL || *id == '\0' || strlen(id) > 1024) {
		free(id);
		errno = EIO;
		return FAIL(s, "%s: starting a multipart upload: a reply "
		    "without an UploadId", w);
	}
	if ((qid = pct_dup(id)) == NULL ||
	    (etags = calloc(nparts, sizeof(*etags))) == NULL) {
		errno = ENOMEM;
		FAIL(s, "%s: out of memory", w);
		goto abort;
	}
	for (i = 0, off = 0; i < nparts; i++, off += part) {
		uint64_t len = size - off < part ? size - off : part;

		free(q);
		if (asprintf(&q, "partNumber=%" PRIu64 "&uploadId=%s", i + 1,
		    qid) == -1) {
			q = NULL;
			errno = ENOMEM;
			FAIL(s, "%s: out of memory", w);
			goto abort;
		}
		if (put_range(s, name, q, fd, off, len, etags[i],
		    sizeof(etags[i])) == -1)
			goto abort;
	}

	/* <CompleteMultipartUpload> with each part's number and ETag. */
	xcap = 128 + nparts * (80 + sizeof(etags[0]));
	if ((xml = malloc(xcap)) == NULL) {
		errno = ENOMEM;
		FAIL(s, "%s: out of memory", w);
		goto abort;
	}
	xlen = (size_t)snprintf(xml, xcap, "<CompleteMultipartUpload>");
	for (i = 0; i < nparts; i++)
		xlen += (size_t)snprintf(xml + xlen, xcap - xlen,
		    "<Part><PartNumber>%" PRIu64 "</PartNumber>"
		    "<ETag>%s</ETag></Part>", i + 1, etags[i]);
	xlen += (size_t)snprintf(xml + xlen, xcap - xlen,
	    "</CompleteMultipartUpload>");
	free(q);
	if (asprintf(&q, "uploadId=%s", qid) == -1) {
		q = NULL;
		errno = ENOMEM;
		FAIL(s, "%s: out of memory", w);
		goto abort;
	}
	req_init(&r, s, "POST", name);
	r.query = q;
	r.upload = 1;
	r.ubuf = (const uint8_t *)xml;
	r.ulen = xlen;
	r.max = S3_XML_MAX;
	rc = perform(&r, NULL);
	if (rc == 0 && (r.body == NULL ||
	    memmem(r.body, r.blen, "<Error>", 7) != NULL ||
	    memmem(r.body, r.blen, "CompleteMultipartUploadResult", 29) ==
	    NULL)) {
		/* A 200 that says it failed, or says nothing we know. */
		error_code(&r);
		errno = code_retryable(r.code) ? EAGAIN : EIO;
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
	req_free(&r);
	if (rc == 0)
		goto out;
abort:
	if (qid != NULL)
		mp_abort(s, name, qid);
	rc = -1;
out:
	free(xml);
	free(q);
	free(qid);
	free(id);
	free(etags);
	return rc;
}

int
cdp_s3_put_fd(struct cdp_s3 *s, const char *name, int fd, uint64_t size)
{
	if (check_name(s, name) == -1)
		return -1;
	if (size > s->mp_threshold)
		return put_multipart(s, name, fd, size);
	return put_range(s, name, NULL, fd, 0, size, NULL, 0);
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
	struct req r;
	char w[1200], range[48];
	uint64_t first, last;
	int rc;

	*buf = NULL;
	*got = 0;
	if (check_name(s, name) == -1)
		return -1;
	what(s, name, w, sizeof(w));
	if (len > 0 && off + len < off) {
		errno = EINVAL;
		return FAIL(s, "%s: range past 2^64", w);
	}
	req_init(&r, s, "GET", name);
	if (len > 0) {
		snprintf(range, sizeof(range), "%" PRIu64 "-%" PRIu64, off,
		    off + len - 1);
		r.range = range;
	} else if (off > 0) {
		snprintf(range, sizeof(range), "%" PRIu64 "-", off);
		r.range = range;
	}
	r.max = max;
	if ((rc = perform(&r, r.range ? ok : NULL)) == -1)
		goto out;
	if (r.status == 416) {
		/* The object ends at or before off: nothing there. */
		req_reset(&r);
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
		errno = ENOMEM;
		rc = FAIL(s, "%s: out of memory", w);
		goto out;
	}
	*buf = r.body;
	*got = r.blen;
	r.body = NULL;
out:
	req_free(&r);
	return rc;
}

int
cdp_s3_head(struct cdp_s3 *s, const char *name, uint64_t *size)
{
	struct req r;
	curl_off_t cl = -1;
	char w[1200];
	int rc;

	if (check_name(s, name) == -1)
		return -1;
	req_init(&r, s, "HEAD", name);
	rc = perform(&r, NULL);
	if (rc == 0 && (curl_easy_getinfo(s->curl,
	    CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) != CURLE_OK || cl < 0)) {
		errno = EIO;
		rc = FAIL(s, "%s: a reply without a Content-Length",
		    what(s, name, w, sizeof(w)));
	}
	if (rc == 0)
		*size = (uint64_t)cl;
	req_free(&r);
	return rc;
}

int
cdp_s3_delete(struct cdp_s3 *s, const char *name)
{
	static const long ok[] = { 404, 0 };
	struct req r;
	char w[1200];
	int rc;

	if (check_name(s, name) == -1)
		return -1;
	req_init(&r, s, "DELETE", name);
	rc = perform(&r, ok);
	if (rc == 0 && r.status == 404 && strcmp(r.code, "NoSuchKey") != 0) {
		/* Gone is fine; a missing bucket is not. */
		errno = ENOENT;
		rc = FAIL(s, "%s: 404 %s", what(s, name, w, sizeof(w)),
		    r.code[0] ? r.code : "Not Found");
	}
	req_free(&r);
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

struct list {
	struct cdp_s3_object *objs;
	size_t		 n, cap;
};

/* "123" as a size; -1 if it is not digits or overflows. */
static int
parse_size(const char *p, const char *end, uint64_t *v)
{
	*v = 0;
	if (p == end)
		return -1;
	for (; p < end; p++) {
		if (*p < '0' || *p > '9' ||
		    *v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return -1;
		*v = *v * 10 + (uint64_t)(*p - '0');
	}
	return 0;
}

/*
 * Add the <Contents> of one page to l.  Every key must be under the
 * prefix and come after the one before, as S3 lists them (in byte
 * order): a server that repeats itself cannot make us loop.
 */
static int
list_page(struct cdp_s3 *s, const char *p, const char *end, struct list *l)
{
	size_t plen = strlen(s->prefix);
	const char *a, *b, *ce;
	uint64_t size;
	char *key;

	while ((p = memmem(p, (size_t)(end - p), "<Contents>", 10)) != NULL) {
		if ((ce = memmem(p, (size_t)(end - p), "</Contents>", 11)) ==
		    NULL)
			return BAD(s, "%s: listing: an unfinished <Contents>",
			    s->url);
		if ((key = xml_text(p, ce, "Key")) == NULL)
			return BAD(s, "%s: listing: an entry without a "
			    "sound <Key>", s->url);
		if (xml_find(p, ce, "Size", &a, &b) == -1 ||
		    parse_size(a, b, &size) == -1) {
			free(key);
			return BAD(s, "%s: listing: an entry without a "
			    "sound <Size>", s->url);
		}
		if (strncmp(key, s->prefix, plen) != 0 ||
		    key[plen] == '\0' ||
		    (l->n > 0 && strcmp(key + plen,
		    l->objs[l->n - 1].name) <= 0)) {
			free(key);
			return BAD(s, "%s: listing: a key out of order or "
			    "not under the prefix", s->url);
		}
		if (l->n == l->cap) {
			size_t cap = l->cap ? l->cap * 2 : 256;
			struct cdp_s3_object *o;

			if (l->n >= S3_LIST_MAX ||
			    (o = realloc(l->objs, cap * sizeof(*o))) == NULL) {
				free(key);
				errno = l->n < S3_LIST_MAX ? ENOMEM : EIO;
				return FAIL(s, "%s: listing: %s", s->url,
				    l->n >= S3_LIST_MAX ? "too many objects" :
				    "out of memory");
			}
			l->objs = o;
			l->cap = cap;
		}
		memmove(key, key + plen, strlen(key + plen) + 1);
		l->objs[l->n].name = key;
		l->objs[l->n].size = size;
		l->n++;
		p = ce + 11;
	}
	return 0;
}

int
cdp_s3_list(struct cdp_s3 *s, struct cdp_s3_object **objs, size_t *n)
{
	struct list l = { NULL, 0, 0 };
	struct req r;
	char *token = NULL, *qtoken = NULL, *qprefix = NULL, *q = NULL;
	char *more = NULL, mk[32] = "";
	const char *p, *end;
	size_t had;
	int rc = -1, empty = 0;

	*objs = NULL;
	*n = 0;
	if ((qprefix = pct_dup(s->prefix)) == NULL) {
		errno = ENOMEM;
		return FAIL(s, "%s: out of memory", s->url);
	}
	if (s->max_keys > 0)
		snprintf(mk, sizeof(mk), "&max-keys=%d", s->max_keys);
	for (;;) {
		/* The query's keys in order, as the signature wants them. */
		free(q);
		if (asprintf(&q, "%s%s%slist-type=2%s&prefix=%s",
		    qtoken ? "continuation-token=" : "", qtoken ? qtoken : "",
		    qtoken ? "&" : "", mk, qprefix) == -1) {
			q = NULL;
			errno = ENOMEM;
			FAIL(s, "%s: out of memory", s->url);
			goto out;
		}
		req_init(&r, s, "GET", NULL);
		r.query = q;
		r.max = S3_XML_MAX;
		if (perform(&r, NULL) == -1) {
			if (r.status == 404 && r.code[0] == '\0')
				FAIL(s, "%s: 404 NoSuchBucket", s->url);
			req_free(&r);
			goto out;
		}
		if (r.body == NULL ||
		    memmem(r.body, r.blen, "<ListBucketResult", 17) == NULL) {
			BAD(s, "%s: listing: a reply not understood", s->url);
			req_free(&r);
			goto out;
		}
		p = (const char *)r.body;
		end = p + r.blen;
		had = l.n;
		if (list_page(s, p, end, &l) == -1) {
			req_free(&r);
			goto out;
		}
		free(more);
		more = xml_text(p, end, "IsTruncated");
		if (more == NULL || strcmp(more, "true") != 0) {
			req_free(&r);
			break;
		}
		/* Keys only go up, so only empty pages could go on forever. */
		if (l.n == had && ++empty > 16) {
			BAD(s, "%s: listing: page after page of nothing",
			    s->url);
			req_free(&r);
			goto out;
		}
		free(token);
		token = xml_text(p, end, "NextContinuationToken");
		req_free(&r);
		if (token == NULL || *token == '\0' || strlen(token) > 4096) {
			BAD(s, "%s: listing: more to come but no sound "
			    "<NextContinuationToken>", s->url);
			goto out;
		}
		free(qtoken);
		if ((qtoken = pct_dup(token)) == NULL) {
			errno = ENOMEM;
			FAIL(s, "%s: out of memory", s->url);
			goto out;
		}
	}
	*objs = l.objs;
	*n = l.n;
	l.objs = NULL;
	l.n = 0;
	rc = 0;
out:
	cdp_s3_free_list(l.objs, l.n);
	free(more);
	free(token);
	free(qtoken);
	free(qprefix);
	free(q);
	return rc;
}
