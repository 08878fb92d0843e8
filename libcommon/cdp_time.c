/*
 * cdp_time.c: nanosecond timestamps as RFC 3339 text and back.
 *
 * Journals carry time as int64 ns since the epoch, which covers the years
 * 1677 to 2262.  Text is always written as UTC with nine fraction digits so
 * that it sorts as it reads; parsing accepts what people and other tools
 * write (RFC 3339 with any offset, or "@EPOCH[.frac]" as date(1) does) and
 * refuses anything else, including values int64 ns cannot hold.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cdp_time.h"

#define NS_PER_SEC	1000000000LL

int64_t
cdp_time_now(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) == -1)
		return 0;
	return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

void
cdp_time_format(int64_t ns, char *buf, size_t size)
{
	struct tm tm;
	time_t sec;
	int64_t frac;

	if (size == 0)
		return;
	/* Floor division: -1 ns is 1969-12-31T23:59:59.999999999Z. */
	sec = (time_t)(ns / NS_PER_SEC);
	frac = ns % NS_PER_SEC;
	if (frac < 0) {
		frac += NS_PER_SEC;
		sec--;
	}
	if (gmtime_r(&sec, &tm) == NULL) {
		snprintf(buf, size, "@%lld", (long long)sec);
		return;
	}
	snprintf(buf, size, "%04lld-%02d-%02dT%02d:%02d:%02d.%09lldZ",
	    (long long)tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
	    tm.tm_hour, tm.tm_min, tm.tm_sec, (long long)frac);
}

/* Read exactly n decimal digits at *sp into *v; advance *sp. */
static int
digits(const char **sp, int n, int *v)
{
	const char *s = *sp;
	int i, x = 0;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		x = x * 10 + (s[i] - '0');
	}
	*sp = s + n;
	*v = x;
	return 0;
}

/*
 * Read ".d[d...]" (1 to 9 digits) if present, as ns.  Returns 0 if there
 * is no fraction or a good one, -1 on a bad one.
 */
static int
fraction(const char **sp, int64_t *ns)
{
	const char *s = *sp;
	int64_t f = 0;
	int n = 0;

	*ns = 0;
	if (*s != '.')
		return 0;
	s++;
	while (*s >= '0' && *s <= '9') {
		if (++n > 9)
			return -1;
		f = f * 10 + (*s++ - '0');
	}
	if (n == 0)
		return -1;
	while (n++ < 9)
		f *= 10;
	*sp = s;
	*ns = f;
	return 0;
}

static int
leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
mdays(int y, int m)
{
	static const int d[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};

	return m == 2 && leap(y) ? 29 : d[m - 1];
}

/* sec * 1e9 + frac (|frac| < 1e9), or -1 on overflow. */
static int
combine(int64_t sec, int64_t frac, int64_t *ns)
{
	int64_t v;

	/* Near INT64_MIN, sec * 1e9 alone may not fit when the sum does. */
	if (sec < 0 && frac > 0) {
		sec++;
		frac -= NS_PER_SEC;
	}
	if (__builtin_mul_overflow(sec, NS_PER_SEC, &v) ||
	    __builtin_add_overflow(v, frac, &v))
		return -1;
	*ns = v;
	return 0;
}

/* "@EPOCH[.frac]", EPOCH optionally negative. */
static int
parse_epoch(const char *s, int64_t *ns)
{
	int64_t sec = 0, frac;
	int neg = 0, n = 0;

	if (*s == '-') {
		neg = 1;
		s++;
	}
	while (*s >= '0' && *s <= '9') {
		if (__builtin_mul_overflow(sec, 10, &sec) ||
		    __builtin_add_overflow(sec, *s - '0', &sec))
			return -1;
		s++;
		n++;
	}
	if (n == 0 || fraction(&s, &frac) == -1 || *s != '\0')
		return -1;
	if (neg) {
		sec = -sec;
		frac = -frac;
	}
	return combine(sec, frac, ns);
}

/* YYYY-MM-DD[Tt ]hh:mm:ss[.frac](Z|z|+hh:mm|-hh:mm) */
static int
parse_rfc3339(const char *s, int64_t *ns)
{
	struct tm tm;
	int64_t frac, sec;
	time_t t;
	int y, mo, d, h, mi, se, oh = 0, om = 0, sign = 0;

	if (digits(&s, 4, &y) == -1 || *s++ != '-' ||
	    digits(&s, 2, &mo) == -1 || *s++ != '-' ||
	    digits(&s, 2, &d) == -1)
		return -1;
	if (*s != 'T' && *s != 't' && *s != ' ')
		return -1;
	s++;
	if (digits(&s, 2, &h) == -1 || *s++ != ':' ||
	    digits(&s, 2, &mi) == -1 || *s++ != ':' ||
	    digits(&s, 2, &se) == -1 || fraction(&s, &frac) == -1)
		return -1;
	if (*s == 'Z' || *s == 'z')
		s++;
	else if (*s == '+' || *s == '-') {
		sign = *s++ == '+' ? 1 : -1;
		if (digits(&s, 2, &oh) == -1 || *s++ != ':' ||
		    digits(&s, 2, &om) == -1)
			return -1;
	} else
		return -1;
	if (*s != '\0')
		return -1;
	/* RFC 3339 allows second 60 (a leap second); timegm folds it. */
	if (mo < 1 || mo > 12 || d < 1 || d > mdays(y, mo) || h > 23 ||
	    mi > 59 || se > 60 || oh > 23 || om > 59)
		return -1;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	/* Years 0000..9999 always fit a 64-bit time_t, so -1 is a real time. */
	t = timegm(&tm);
	sec = (int64_t)t - sign * (oh * 3600 + om * 60);
	return combine(sec, frac, ns);
}

int
cdp_time_parse(const char *s, int64_t *ns)
{
	int64_t v;
	int rc;

	if (s == NULL) {
		errno = EINVAL;
		return -1;
	}
	rc = s[0] == '@' ? parse_epoch(s + 1, &v) : parse_rfc3339(s, &v);
	if (rc == -1) {
		errno = EINVAL;
		return -1;
	}
	*ns = v;
	return 0;
}
