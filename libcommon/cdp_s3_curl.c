/*
 * cdp_s3_curl.c: libcurl, loaded the first time an s3:// location is
 * opened, not linked.
 *
 * Why: every cdp program links libcommon, and a linked libcurl pulls some
 * thirty more libraries (TLS, Kerberos, LDAP, SSH, IDN...) into each one:
 * the dynamic loader then makes "cdp-verify --help" take 10 ms instead of
 * 2, at every start of programs run from cron, from scripts, once per
 * file.  Only the s3:// code needs libcurl, so it is dlopen()ed there,
 * once, and its functions are called through cdp_s3_curl.  Their types
 * are taken from <curl/curl.h> (__typeof__), so the calls are checked
 * against curl's own prototypes; only the option/argument checks that
 * curl.h's curl_easy_setopt() macro adds under gcc are lost.  Without
 * libcurl installed, opening an s3:// location fails with a message
 * (ENOSYS); nothing else changes.
 *
 * libcurl stays loaded until the process ends, as it stayed linked.
 */
#include <sys/types.h>

#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "cdp_dl.h"
#include "cdp_s3_int.h"

#define CURL_SONAME	"libcurl.so.4"
#define CURL_PACKAGE	"libcurl4"

/*
 * The oldest libcurl that does what cdp_s3.c asks of it: 7.85.0 for
 * CURLOPT_PROTOCOLS_STR (and CURLOPT_AWS_SIGV4 is 7.75.0).  An older one
 * would ignore those options, and requests would go unsigned.
 */
#define CURL_MIN_VERSION 0x075500

struct cdp_s3_curl	 cdp_s3_curl;

static pthread_once_t	 load_once = PTHREAD_ONCE_INIT;
static int		 loaded;
static char		 load_err[256];	/* why not */
static int		 load_errno;

#define SYM(f)	CDP_DL_SYM(struct cdp_s3_curl, "curl_" #f, f)

static const struct cdp_dl_sym syms[] = {
	SYM(global_init),
	SYM(version_info),
	SYM(easy_init),
	SYM(easy_setopt),
	SYM(easy_perform),
	SYM(easy_getinfo),
	SYM(easy_reset),
	SYM(easy_cleanup),
	SYM(easy_strerror),
	SYM(slist_append),
	SYM(slist_free_all),
	SYM(free),
	SYM(url),
	SYM(url_set),
	SYM(url_get),
	SYM(url_cleanup),
};

static void
load(void)
{
	const curl_version_info_data *v;
	CURLcode rc;

	if (cdp_dl_load(CURL_SONAME, CURL_PACKAGE, syms,
	    sizeof(syms) / sizeof(syms[0]), &cdp_s3_curl, load_err,
	    sizeof(load_err)) == -1) {
		load_errno = ENOSYS;
		return;
	}
	v = cdp_s3_curl.version_info(CURLVERSION_NOW);
	if (v == NULL || v->version_num < CURL_MIN_VERSION) {
		load_errno = ENOSYS;
		snprintf(load_err, sizeof(load_err), "%s: libcurl %s is too "
		    "old (7.85.0 or later needed)", CURL_SONAME,
		    v != NULL && v->version != NULL ? v->version : "?");
		return;
	}
	if ((rc = cdp_s3_curl.global_init(CURL_GLOBAL_DEFAULT)) != CURLE_OK) {
		load_errno = rc == CURLE_OUT_OF_MEMORY ? ENOMEM : EIO;
		snprintf(load_err, sizeof(load_err), "libcurl: %s",
		    cdp_s3_curl.easy_strerror(rc));
		return;
	}
	loaded = 1;
}

int
cdp_s3_curl_load(const char *url, char *why, size_t whylen)
{
	pthread_once(&load_once, load);
	if (loaded)
		return 0;
	errno = load_errno;
	return cdp_seterr(why, whylen, "%s: %s", url, load_err);
}
