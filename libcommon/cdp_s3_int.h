/*
 * cdp_s3_int.h: the S3 client's insides, shared by its files.
 *
 * cdp_s3.c makes requests (URL, signing, transfer, retry); cdp_s3_conf.c
 * opens and closes a handle; cdp_s3_obj.c has the requests on buckets and
 * objects and the listing; cdp_s3_multipart.c puts a file, in parts when
 * it is large; cdp_s3_xml.c reads S3's XML replies, error replies too;
 * cdp_s3_curl.c loads libcurl, which they call through cdp_s3_curl only.
 * Nothing outside those files includes this header.
 */
#ifndef CDP_S3_INT_H
#define CDP_S3_INT_H

#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include "cdp_err.h"
#include "cdp_s3.h"

#define S3_XML_MAX	(16 << 20)	/* a listing or other XML reply */
#define S3_KEY_MAX	1024		/* S3's limit on a key, in bytes */
#define S3_CODE_MAX	64		/* an error reply's <Code> */
#define S3_WHAT_MAX	1200		/* cdp_s3_what()'s buffer */

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
struct s3_req {
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

/* A listing as it grows, page by page. */
struct s3_list {
	struct cdp_s3_object *objs;
	size_t		 n, cap;
};

/* cdp_s3_curl.c */

/*
 * The libcurl functions the client uses, with <curl/curl.h>'s own
 * prototypes; set by cdp_s3_curl_load(), to be called only after it
 * succeeded (a handle exists).  Members are named without "curl_":
 * curl.h makes some of those names macros.
 */
struct cdp_s3_curl {
	__typeof__(curl_global_init)	*global_init;
	__typeof__(curl_version_info)	*version_info;
	__typeof__(curl_easy_init)	*easy_init;
	__typeof__(curl_easy_setopt)	*easy_setopt;
	__typeof__(curl_easy_perform)	*easy_perform;
	__typeof__(curl_easy_getinfo)	*easy_getinfo;
	__typeof__(curl_easy_reset)	*easy_reset;
	__typeof__(curl_easy_cleanup)	*easy_cleanup;
	__typeof__(curl_easy_strerror)	*easy_strerror;
	__typeof__(curl_slist_append)	*slist_append;
	__typeof__(curl_slist_free_all)	*slist_free_all;
	__typeof__(curl_free)		*free;
	__typeof__(curl_url)		*url;
	__typeof__(curl_url_set)	*url_set;
	__typeof__(curl_url_get)	*url_get;
	__typeof__(curl_url_cleanup)	*url_cleanup;
};
extern struct cdp_s3_curl cdp_s3_curl;

/*
 * Load libcurl (once per process) and initialise it.  0, or -1 with errno
 * (ENOSYS: libcurl missing or too old) and "URL: why" in why.
 */
int	 cdp_s3_curl_load(const char *url, char *why, size_t whylen);

/* cdp_s3.c */

#define FAIL(s, ...)	cdp_seterr((s)->err, sizeof((s)->err), __VA_ARGS__)
/* A reply that makes no sense. */
#define BAD(s, ...)	(errno = EIO, FAIL(s, __VA_ARGS__))

/* ENOMEM and "WHAT: out of memory"; -1. */
int	 cdp_s3_nomem(struct cdp_s3 *, const char *what);

/*
 * "s3://BUCKET/PREFIX/NAME" (or the location alone for a NULL name) for a
 * message, with the bytes of name outside printable ASCII written \xNN.
 */
const char *cdp_s3_what(const struct cdp_s3 *, const char *name, char *buf,
	    size_t size);

/* A malloc'ed copy of s %-encoded (for a query value), or NULL. */
char	*cdp_s3_pct_dup(const char *s);

/* Whether [p, p + n) holds a control character (below 0x20, or 0x7f). */
int	 cdp_s3_ctl(const char *p, size_t n);

/* Whether a prefix or name has no empty, "." or ".." component, no control. */
int	 cdp_s3_path_ok(const char *path);

/* -1 (EINVAL, and a message) for a name that would not make a sound key. */
int	 cdp_s3_check_name(struct cdp_s3 *, const char *name);

void	 cdp_s3_req_init(struct s3_req *, struct cdp_s3 *, const char *method,
	    const char *name);
void	 cdp_s3_req_reset(struct s3_req *);	/* forget the last reply */
void	 cdp_s3_req_free(struct s3_req *);

/*
 * Make the request, again after a back-off while it fails in a way worth
 * retrying.  0: a 2xx reply (or one of the statuses in ok, a 0-ended
 * list); -1: errno and the message set.
 */
int	 cdp_s3_perform(struct s3_req *, const long *ok);

/* cdp_s3_xml.c */

/* The decoded text of the first <name> in [p, end), malloc'ed, or NULL. */
char	*cdp_s3_xml_text(const char *p, const char *end, const char *name);

/* Keep in r->code the <Code> of an <Error> reply when it looks like one. */
void	 cdp_s3_xml_error_code(struct s3_req *r);

/* Whether an error code says to try again later. */
int	 cdp_s3_xml_retryable(const char *code);

/*
 * Turn an HTTP error reply into errno and a message, and say in
 * r->retryable whether it is worth another try; -1.
 */
int	 cdp_s3_xml_error(struct s3_req *r);

/* Add the objects of one page of a listing, [p, end), to l. */
int	 cdp_s3_xml_list_page(struct cdp_s3 *, const char *p, const char *end,
	    struct s3_list *l);

#endif
