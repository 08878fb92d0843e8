/*
 * cdp_s3_xml.c: reading S3's XML replies: the text of an element, its
 * entities decoded; an error reply's <Code>, made into errno and a
 * message; the objects of a listing page.
 *
 * Only the few elements that matter are picked out, by hand: S3's replies
 * are flat enough, and a parser would trust them more than we need to.
 * Nothing in a reply is trusted before it is checked: a server can send
 * anything, and the worst it may get from us is an EIO.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdp_s3_int.h"

#define S3_LIST_MAX	10000000	/* objects in one listing */

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

char *
cdp_s3_xml_text(const char *p, const char *end, const char *name)
{
	const char *a, *b;

	if (xml_find(p, end, name, &a, &b) == -1) {
		errno = EBADMSG;
		return NULL;
	}
	return xml_decode(a, b);
}

void
cdp_s3_xml_error_code(struct s3_req *r)
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

int
cdp_s3_xml_retryable(const char *code)
{
	return strcmp(code, "SlowDown") == 0 ||
	    strcmp(code, "InternalError") == 0 ||
	    strcmp(code, "ServiceUnavailable") == 0 ||
	    strcmp(code, "RequestTimeout") == 0;
}

/* For a message when the reply has no error code. */
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

/* The message names the object, the status and the code, if any. */
int
cdp_s3_xml_error(struct s3_req *r)
{
	struct cdp_s3 *s = r->s;
	char w[S3_WHAT_MAX];
	long st = r->status;

	cdp_s3_xml_error_code(r);
	cdp_s3_what(s, r->name, w, sizeof(w));
	r->retryable = st == 408 || st == 429 || st >= 500 ||
	    cdp_s3_xml_retryable(r->code);
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
int
cdp_s3_xml_list_page(struct cdp_s3 *s, const char *p, const char *end,
    struct s3_list *l)
{
	size_t plen = strlen(s->prefix);
	const char *a, *b, *ce, *bad;
	uint64_t size;
	char *key;

	while ((p = memmem(p, (size_t)(end - p), "<Contents>", 10)) != NULL) {
		if ((ce = memmem(p, (size_t)(end - p), "</Contents>", 11)) ==
		    NULL)
			return BAD(s, "%s: listing: an unfinished <Contents>",
			    s->url);
		if ((key = cdp_s3_xml_text(p, ce, "Key")) == NULL ||
		    xml_find(p, ce, "Size", &a, &b) == -1 ||
		    parse_size(a, b, &size) == -1) {
			bad = key == NULL ? "Key" : "Size";
			free(key);
			return BAD(s, "%s: listing: an entry without a "
			    "sound <%s>", s->url, bad);
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
