/*
 * cdp_s3.c: the S3 client's requests: each one built, signed, sent and
 * retried, and its reply kept (see cdp_s3.h, and cdp_s3_int.h for the
 * other files).
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
 *  - Replies are read into a bounded buffer, and nothing in one is trusted
 *    before it is checked: a server can send anything, and the worst it
 *    may get from us is an EIO.
 *  - Credentials stay in the handle and in libcurl; messages are made from
 *    the s3:// location, the HTTP status, the server's error code and
 *    libcurl's error text, none of which hold them.
 */
#include <sys/types.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "cdp_s3_int.h"

#define S3_BACKOFF_NS	200000000LL	/* first retry after 0.2 s, doubling */
#define S3_BACKOFF_MAX_NS 5000000000LL
#define S3_CONNECT_S	10
#define S3_STALL_S	30		/* nothing moved this long: failed */
#define S3_ERRBODY_MAX	(64 * 1024)	/* an error reply is kept up to this */
#define S3_PREALLOC_MAX	(1ULL << 30)	/* trust Content-Length up to this */

int
cdp_s3_nomem(struct cdp_s3 *s, const char *what)
{
	errno = ENOMEM;
	return FAIL(s, "%s: out of memory", what);
}

/* Names may come from a listing, that is from the server. */
const char *
cdp_s3_what(const struct cdp_s3 *s, const char *name, char *buf, size_t size)
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

char *
cdp_s3_pct_dup(const char *s)
{
	char *d = malloc(strlen(s) * 3 + 1);

	if (d != NULL)
		pct_encode(d, s, 0);
	return d;
}

int
cdp_s3_ctl(const char *p, size_t n)
{
	for (; n > 0; p++, n--)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return 1;
	return 0;
}

/*
 * Libcurl and servers may normalise empty, "." and ".." components away:
 * the key would not be the one named.
 */
int
cdp_s3_path_ok(const char *path)
{
	const char *p = path;

	if (*path == '\0' || cdp_s3_ctl(path, strlen(path)))
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

int
cdp_s3_check_name(struct cdp_s3 *s, const char *name)
{
	char w[S3_WHAT_MAX];

	if (name == NULL || !cdp_s3_path_ok(name) ||
	    strlen(s->prefix) + strlen(name) > S3_KEY_MAX) {
		errno = EINVAL;
		return FAIL(s, "%s: not a sound object name",
		    cdp_s3_what(s, name ? name : "", w, sizeof(w)));
	}
	return 0;
}

/* --- transfers --- */

static size_t
read_cb(char *dst, size_t size, size_t nmemb, void *arg)
{
	struct s3_req *r = arg;
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
	struct s3_req *r = arg;

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
	size_t n = strlen(name), i;

	if (len <= n || strncasecmp(line, name, n) != 0 || line[n] != ':')
		return;
	i = n + 1;
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	while (len > i && (line[len - 1] == '\r' || line[len - 1] == '\n' ||
	    line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	out[0] = '\0';
	if (len - i >= outlen || cdp_s3_ctl(line + i, len - i))
		return;
	memcpy(out, line + i, len - i);
	out[len - i] = '\0';
}

static size_t
header_cb(char *line, size_t size, size_t nmemb, void *arg)
{
	struct s3_req *r = arg;
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
reserve(struct s3_req *r, size_t need)
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
	struct s3_req *r = arg;
	size_t len = size * nmemb, keep = len;
	long status = 0;
	curl_off_t cl = -1;

	cdp_s3_curl.easy_getinfo(r->s->curl, CURLINFO_RESPONSE_CODE, &status);
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
		if (r->blen == 0 && cdp_s3_curl.easy_getinfo(r->s->curl,
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
req_url(const struct s3_req *r)
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

void
cdp_s3_req_reset(struct s3_req *r)
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
perform_once(struct s3_req *r)
{
	struct cdp_s3 *s = r->s;
	CURL *c = s->curl;
	CURLcode rc;
	char *url, w[S3_WHAT_MAX];

	cdp_s3_req_reset(r);
	r->retryable = 0;
	if ((url = req_url(r)) == NULL)
		return cdp_s3_nomem(s, cdp_s3_what(s, r->name, w, sizeof(w)));
	cdp_s3_curl.easy_reset(c);
	s->curl_err[0] = '\0';
	cdp_s3_curl.easy_setopt(c, CURLOPT_URL, url);
	cdp_s3_curl.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	cdp_s3_curl.easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
	cdp_s3_curl.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	cdp_s3_curl.easy_setopt(c, CURLOPT_ERRORBUFFER, s->curl_err);
	cdp_s3_curl.easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)S3_CONNECT_S);
	cdp_s3_curl.easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	cdp_s3_curl.easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (long)S3_STALL_S);
	cdp_s3_curl.easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	cdp_s3_curl.easy_setopt(c, CURLOPT_USERAGENT, "cdp");
	cdp_s3_curl.easy_setopt(c, CURLOPT_USERNAME, s->key_id);
	cdp_s3_curl.easy_setopt(c, CURLOPT_PASSWORD, s->secret);
	cdp_s3_curl.easy_setopt(c, CURLOPT_AWS_SIGV4, s->sigv4);
	cdp_s3_curl.easy_setopt(c, CURLOPT_HTTPHEADER, s->hdrs);
	if (s->ca_file != NULL)
		cdp_s3_curl.easy_setopt(c, CURLOPT_CAINFO, s->ca_file);
	cdp_s3_curl.easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
	cdp_s3_curl.easy_setopt(c, CURLOPT_HEADERDATA, r);
	cdp_s3_curl.easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
	cdp_s3_curl.easy_setopt(c, CURLOPT_WRITEDATA, r);
	if (r->range != NULL)
		cdp_s3_curl.easy_setopt(c, CURLOPT_RANGE, r->range);
	if (strcmp(r->method, "HEAD") == 0)
		cdp_s3_curl.easy_setopt(c, CURLOPT_NOBODY, 1L);
	else if (strcmp(r->method, "GET") != 0 && !r->upload)
		cdp_s3_curl.easy_setopt(c, CURLOPT_CUSTOMREQUEST, r->method);
	if (r->upload) {
		/*
		 * PUT and POST both go as an upload from read_cb, so that a
		 * POST has a Content-Length and no form Content-Type.
		 */
		cdp_s3_curl.easy_setopt(c, CURLOPT_UPLOAD, 1L);
		cdp_s3_curl.easy_setopt(c, CURLOPT_INFILESIZE_LARGE,
		    (curl_off_t)r->ulen);
		cdp_s3_curl.easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
		cdp_s3_curl.easy_setopt(c, CURLOPT_READDATA, r);
		cdp_s3_curl.easy_setopt(c, CURLOPT_SEEKFUNCTION, seek_cb);
		cdp_s3_curl.easy_setopt(c, CURLOPT_SEEKDATA, r);
		if (strcmp(r->method, "PUT") != 0)
			cdp_s3_curl.easy_setopt(c, CURLOPT_CUSTOMREQUEST,
			    r->method);
	}
	rc = cdp_s3_curl.easy_perform(c);
	free(url);
	r->tries++;
	if (rc == CURLE_OK) {
		cdp_s3_curl.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
		return 0;
	}
	cdp_s3_what(s, r->name, w, sizeof(w));
	if (r->toobig) {
		errno = EFBIG;
		return FAIL(s, "%s: larger than %" PRIu64 " bytes", w, r->max);
	}
	if (r->nomem)
		return cdp_s3_nomem(s, w);
	if (r->rd_errno != 0) {
		errno = r->rd_errno;
		return FAIL(s, "%s: reading what to send: %s", w,
		    r->rd_errno == EIO ? "file shorter than expected" :
		    strerror(r->rd_errno));
	}
	r->retryable = curl_retryable(rc);
	errno = r->retryable ? EAGAIN : EIO;
	return FAIL(s, "%s: %s", w,
	    s->curl_err[0] ? s->curl_err : cdp_s3_curl.easy_strerror(rc));
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

/* A status in ok is a reply the caller looks at itself (a 404 to DELETE). */
int
cdp_s3_perform(struct s3_req *r, const long *ok)
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
					cdp_s3_xml_error_code(r);
					return 0;
				}
			rc = cdp_s3_xml_error(r);
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

void
cdp_s3_req_init(struct s3_req *r, struct cdp_s3 *s, const char *method,
    const char *name)
{
	memset(r, 0, sizeof(*r));
	r->s = s;
	r->method = method;
	r->name = name;
	r->ufd = -1;
}

void
cdp_s3_req_free(struct s3_req *r)
{
	free(r->body);
	r->body = NULL;
}

