/*
 * fuzz_xml.c: feed arbitrary bytes to the readers of S3's XML replies.
 *
 * A reply is whatever the server (or anyone between) sends.  The first
 * byte picks the bucket prefix and the HTTP status; the rest is the body,
 * which goes through what the client does with a reply: the elements it
 * reads (cdp_s3_xml_text()), an error reply's code and message
 * (cdp_s3_xml_error()), and a listing page (cdp_s3_xml_list_page()).
 * What a listing gives back must be what cdp_s3_obj.c relies on: names
 * under the prefix, without it, not empty, in strictly increasing order.
 *
 * Built by scripts/fuzz.sh as a libFuzzer target, and linked with replay.c
 * as a plain program.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdp_s3_int.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile size_t sink;

static void
bug(const char *what)
{
	fprintf(stderr, "fuzz_xml: %s\n", what);
	abort();
}

static void
text(const char *p, const char *end, const char *name)
{
	char *t;

	errno = 0;
	if ((t = cdp_s3_xml_text(p, end, name)) == NULL) {
		if (errno != EBADMSG && errno != ENOMEM)
			bug("cdp_s3_xml_text() failed without EBADMSG");
		return;
	}
	sink += strlen(t);
	free(t);
}

static void
listing(struct cdp_s3 *s, const char *p, const char *end)
{
	struct s3_list l = { NULL, 0, 0 };
	size_t i;

	errno = 0;
	s->err[0] = '\0';
	if (cdp_s3_xml_list_page(s, p, end, &l) == -1 &&
	    (s->err[0] == '\0' || errno == 0))
		bug("a listing refused without a message or errno");
	for (i = 0; i < l.n; i++) {
		if (l.objs[i].name[0] == '\0')
			bug("an empty name in a listing");
		if (i > 0 && strcmp(l.objs[i - 1].name, l.objs[i].name) >= 0)
			bug("a listing out of order");
		sink += strlen(l.objs[i].name) + l.objs[i].size;
	}
	for (i = 0; i < l.n; i++)
		free(l.objs[i].name);
	free(l.objs);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *prefixes[] = { "", "p/", "a/b/", "&/" };
	static const long statuses[] = { 200, 301, 400, 403, 404, 409, 500,
	    503 };
	static const char *names[] = { "UploadId", "IsTruncated",
	    "NextContinuationToken", "Key", "Code", "ETag" };
	struct cdp_s3 s;
	struct s3_req r;
	const char *p, *end;
	uint8_t *body;
	size_t i;

	if (size < 1)
		return 0;
	memset(&s, 0, sizeof(s));
	s.bucket = "b";
	s.prefix = (char *)prefixes[data[0] & 3];
	s.url = "s3://b/p";
	s.endpoint = "http://127.0.0.1:9";

	/* As cdp_s3.c keeps a reply: blen bytes and a NUL after them. */
	if ((body = malloc(size)) == NULL)
		abort();
	memcpy(body, data + 1, size - 1);
	body[size - 1] = '\0';
	p = (const char *)body;
	end = p + size - 1;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		text(p, end, names[i]);

	memset(&r, 0, sizeof(r));
	r.s = &s;
	r.method = "GET";
	r.name = (data[0] & 0x80) ? "manifest" : NULL;
	r.status = statuses[(data[0] >> 2) & 7];
	r.body = body;
	r.blen = size - 1;
	if (cdp_s3_xml_error(&r) != -1)
		bug("cdp_s3_xml_error() did not fail");
	if (strlen(r.code) > S3_CODE_MAX)
		bug("an error code longer than S3_CODE_MAX");
	sink += strlen(s.err);

	listing(&s, p, end);
	free(body);
	return 0;
}
