/*
 * cdp_s3lease.c: the lease on a prefix of a bucket (cdp_s3lease.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cdp_err.h"
#include "cdp_s3.h"
#include "cdp_s3lease.h"
#include "cdp_time.h"

#define LEASE_MAX	4096		/* bytes of a lease object we read */
#define CHECK_MS	300		/* read back this long after the write */
#define RETRY_MS	1000		/* after a failed read or write */
#define NS		((int64_t)1000000000)
#define MS		((int64_t)1000000)

struct cdp_s3lease {
	struct cdp_s3	*s3;		/* the thread's, once it runs */
	char		*holder;

	pthread_t	 tid;
	int		 running;
	pthread_mutex_t	 mu;		/* what follows */
	pthread_cond_t	 cv;
	int		 stop;
	int		 confirmed;	/* read back as ours */
	int		 lost;		/* another holder has it */
	int64_t		 written_at;	/* when our last write was done */
	int64_t		 until;		/* it runs out then, at the latest */
	char		 msg[1024];	/* why not usable, or "" */
};

static void __attribute__((format(printf, 2, 3)))
note(struct cdp_s3lease *l, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&l->mu);
	va_start(ap, fmt);
	vsnprintf(l->msg, sizeof(l->msg), fmt, ap);
	va_end(ap);
	pthread_cond_broadcast(&l->cv);
	pthread_mutex_unlock(&l->mu);
}

/* The lease object says: holder, pid, until (ns).  0, or -1 if garbled. */
static int
parse_lease(char *text, char **holder, long *pid, int64_t *until)
{
	char *line, *save = NULL;
	int seen = 0;

	if (strncmp(text, "cdp-lease 1\n", 12) != 0)
		return -1;
	for (line = strtok_r(text + 12, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "holder ", 7) == 0) {
			*holder = line + 7;
			seen |= 1;
		} else if (sscanf(line, "pid %ld", pid) == 1)
			seen |= 2;
		else if (sscanf(line, "until_ns %" SCNd64, until) == 1)
			seen |= 4;
	}
	return seen == 7 ? 0 : -1;
}

/*
 * Read the lease: 0 with *mine set (1: ours, nobody's, or run out; 0:
 * another's, with why), or -1 (why) when it could not be read.
 */
static int
read_lease(struct cdp_s3 *s3, const char *me, int *mine, char *why,
    size_t whylen)
{
	uint8_t *buf = NULL;
	size_t got;
	char *text, *holder = NULL;
	long pid = 0;
	int64_t until = 0, now = cdp_time_now();

	*mine = 1;
	if (cdp_s3_get(s3, CDP_S3_LEASE_NAME, 0, 0, LEASE_MAX, &buf,
	    &got) == -1) {
		if (errno == ENOENT)
			return 0;
		snprintf(why, whylen, "%s", cdp_s3_error(s3));
		return -1;
	}
	if ((text = malloc(got + 1)) == NULL) {
		free(buf);
		snprintf(why, whylen, "%s", strerror(errno));
		return -1;
	}
	memcpy(text, buf, got);
	text[got] = '\0';
	free(buf);
	if (memchr(text, '\0', got) != NULL ||
	    parse_lease(text, &holder, &pid, &until) == -1) {
		/* Not ours to judge: treat it as held, and say so. */
		*mine = 0;
		snprintf(why, whylen, "%s/%s: not a lease cdp-recv "
		    "understands; remove it if no receiver uses this prefix",
		    cdp_s3_url(s3), CDP_S3_LEASE_NAME);
	} else if (strcmp(holder, me) != 0 && until > now) {
		/* Whoever can write to the bucket chose those bytes. */
		char who[512];

		*mine = 0;
		snprintf(why, whylen, "%s: in use by another receiver (%s, "
		    "pid %ld) for %" PRId64 " s more, unless it renews its "
		    "lease", cdp_s3_url(s3), cdp_err_escape(who, sizeof(who),
		    holder), pid, (until - now) / NS + 1);
	}
	free(text);
	return 0;
}

/*
 * Write our lease, good for CDP_S3_LEASE_SECONDS from before the write.
 * 0 and *until, or -1 (why).
 */
static int
write_lease(struct cdp_s3 *s3, const char *me, int64_t *until, char *why,
    size_t whylen)
{
	char text[2048], esc[512];
	int64_t t = cdp_time_now() + CDP_S3_LEASE_SECONDS * NS;
	int n;

	/* The lease is lines: a newline in it would not read back. */
	if (strchr(me, '\n') != NULL) {
		errno = EINVAL;
		snprintf(why, whylen, "%s: holder %s: a newline in the name",
		    cdp_s3_url(s3), cdp_err_escape(esc, sizeof(esc), me));
		return -1;
	}
	n = snprintf(text, sizeof(text), "cdp-lease 1\nholder %s\npid %ld\n"
	    "until_ns %" PRId64 "\n", me, (long)getpid(), t);
	if (n < 0 || (size_t)n >= sizeof(text)) {
		errno = ENAMETOOLONG;
		snprintf(why, whylen, "%s: holder name too long",
		    cdp_s3_url(s3));
		return -1;
	}
	if (cdp_s3_put(s3, CDP_S3_LEASE_NAME, text, (size_t)n) == -1) {
		snprintf(why, whylen, "%s", cdp_s3_error(s3));
		return -1;
	}
	*until = t;
	return 0;
}

/* Wait until time t (ns) or stop; returns stop. */
static int
wait_until(struct cdp_s3lease *l, int64_t t)
{
	struct timespec ts;
	int stop;

	ts.tv_sec = (time_t)(t / NS);
	ts.tv_nsec = (long)(t % NS);
	pthread_mutex_lock(&l->mu);
	while (!l->stop && cdp_time_now() < t &&
	    pthread_cond_timedwait(&l->cv, &l->mu, &ts) == 0)
		;
	stop = l->stop;
	pthread_mutex_unlock(&l->mu);
	return stop;
}

/* One round: read back (the first time) or renew.  Returns when next. */
static int64_t
round_trip(struct cdp_s3lease *l)
{
	char why[1024];
	int64_t until;
	int mine;

	if (read_lease(l->s3, l->holder, &mine, why, sizeof(why)) == -1) {
		note(l, "%s", why);
		return cdp_time_now() + RETRY_MS * MS;
	}
	if (!mine) {
		pthread_mutex_lock(&l->mu);
		l->lost = 1;
		pthread_mutex_unlock(&l->mu);
		note(l, "%s", why);
		return 0;
	}
	pthread_mutex_lock(&l->mu);
	mine = l->confirmed;
	l->confirmed = 1;
	pthread_mutex_unlock(&l->mu);
	if (mine && write_lease(l->s3, l->holder, &until, why,
	    sizeof(why)) == -1) {
		note(l, "%s", why);
		return cdp_time_now() + RETRY_MS * MS;
	}
	pthread_mutex_lock(&l->mu);
	if (mine) {
		l->until = until;
		l->written_at = cdp_time_now();
	}
	pthread_mutex_unlock(&l->mu);
	note(l, "%s", "");
	return l->written_at + CDP_S3_LEASE_RENEW * NS;
}

static void *
keeper(void *arg)
{
	struct cdp_s3lease *l = arg;
	int64_t next = l->written_at + CHECK_MS * MS;
	int mine, lost;
	char why[1024];

	while (next != 0 && !wait_until(l, next))
		next = round_trip(l);
	pthread_mutex_lock(&l->mu);
	lost = l->lost;
	pthread_mutex_unlock(&l->mu);
	/* If this fails, the lease runs out by itself. */
	if (!lost && read_lease(l->s3, l->holder, &mine, why,
	    sizeof(why)) == 0 && mine)
		(void)cdp_s3_delete(l->s3, CDP_S3_LEASE_NAME);
	return NULL;
}

struct cdp_s3lease *
cdp_s3lease_take(const char *url, const char *endpoint, const char *holder,
    char *why, size_t whylen)
{
	struct cdp_s3lease *l = calloc(1, sizeof(*l));
	int mine, e;

	if (l == NULL || (l->holder = strdup(holder)) == NULL) {
		snprintf(why, whylen, "%s", strerror(errno));
		free(l);
		return NULL;
	}
	pthread_mutex_init(&l->mu, NULL);
	pthread_cond_init(&l->cv, NULL);
	if ((l->s3 = cdp_s3_open(url, endpoint, why, whylen)) == NULL)
		goto bad;
	if (read_lease(l->s3, holder, &mine, why, whylen) == -1)
		goto bad;
	if (!mine) {
		errno = EBUSY;
		goto bad;
	}
	if (write_lease(l->s3, holder, &l->until, why, whylen) == -1)
		goto bad;
	l->written_at = cdp_time_now();
	if ((e = pthread_create(&l->tid, NULL, keeper, l)) != 0) {
		errno = e;
		snprintf(why, whylen, "pthread_create: %s", strerror(e));
		goto bad;
	}
	l->running = 1;
	return l;
bad:
	e = errno;
	cdp_s3lease_release(l);
	errno = e;
	return NULL;
}

int
cdp_s3lease_check(struct cdp_s3lease *l, int wait_ms, char *why,
    size_t whylen)
{
	int64_t deadline = cdp_time_now() + wait_ms * MS;
	struct timespec ts;
	int rc;

	ts.tv_sec = (time_t)(deadline / NS);
	ts.tv_nsec = (long)(deadline % NS);
	pthread_mutex_lock(&l->mu);
	for (;;) {
		if (l->lost) {
			errno = EBUSY;
			rc = -1;
		} else if (l->confirmed && l->until - cdp_time_now() >=
		    CDP_S3_LEASE_MARGIN * NS)
			rc = 0;
		else {
			errno = EAGAIN;
			rc = -1;
		}
		if (rc == 0 || errno == EBUSY || cdp_time_now() >= deadline ||
		    pthread_cond_timedwait(&l->cv, &l->mu, &ts) != 0)
			break;
	}
	if (rc == -1 && l->msg[0] != '\0')
		snprintf(why, whylen, "%s", l->msg);
	else if (rc == -1 && !l->confirmed)
		snprintf(why, whylen, "%s: the lease is not read back yet",
		    cdp_s3_url(l->s3));
	else if (rc == -1)
		snprintf(why, whylen, "%s: the lease was not renewed lately",
		    cdp_s3_url(l->s3));
	pthread_mutex_unlock(&l->mu);
	if (rc == -1 && l->lost)
		errno = EBUSY;
	else if (rc == -1)
		errno = EAGAIN;
	return rc;
}

int64_t
cdp_s3lease_left(struct cdp_s3lease *l)
{
	int64_t v;

	pthread_mutex_lock(&l->mu);
	v = (l->until - cdp_time_now()) / NS;
	pthread_mutex_unlock(&l->mu);
	return v;
}

void
cdp_s3lease_release(struct cdp_s3lease *l)
{
	if (l == NULL)
		return;
	if (l->running) {
		pthread_mutex_lock(&l->mu);
		l->stop = 1;
		pthread_cond_broadcast(&l->cv);
		pthread_mutex_unlock(&l->mu);
		pthread_join(l->tid, NULL);
	}
	if (l->s3 != NULL)
		cdp_s3_close(l->s3);
	pthread_cond_destroy(&l->cv);
	pthread_mutex_destroy(&l->mu);
	free(l->holder);
	free(l);
}
