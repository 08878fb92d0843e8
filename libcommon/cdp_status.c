/*
 * cdp_status.c: status files, JSON and Prometheus text, replaced atomically.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cdp_status.h"
#include "cdp_time.h"
#include "cdp_uuid.h"

const double cdp_status_bucket_le[CDP_STATUS_BUCKETS] = {
	0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 60
};

void
cdp_status_observe(struct cdp_status *st, int64_t ns)
{
	double s = ns > 0 ? (double)ns / 1e9 : 0;
	int i;

	for (i = 0; i < CDP_STATUS_BUCKETS; i++)
		if (s <= cdp_status_bucket_le[i])
			st->lat_bucket[i]++;
	st->lat_count++;
	st->lat_sum += s;
}

FILE *
cdp_status_open_tmp(const char *path, char **tmp)
{
	FILE *f;

	if (asprintf(tmp, "%s.tmp", path) == -1)
		return NULL;
	if ((f = fopen(*tmp, "we")) == NULL) {
		free(*tmp);
		*tmp = NULL;
	}
	return f;
}

int
cdp_status_close_rename(FILE *f, char *tmp, const char *path)
{
	int rc = 0, e;

	if (ferror(f))
		rc = -1;
	if (fclose(f) == EOF)
		rc = -1;
	if (rc == 0 && rename(tmp, path) == -1)
		rc = -1;
	e = errno;
	if (rc == -1)
		unlink(tmp);
	free(tmp);
	errno = e;
	return rc;
}

int
cdp_status_write_json(const char *path, const struct cdp_status *st)
{
	char u[CDP_UUID_STRLEN], since[CDP_TIME_STRLEN], now[CDP_TIME_STRLEN];
	char *tmp;
	FILE *f;

	if ((f = cdp_status_open_tmp(path, &tmp)) == NULL)
		return -1;
	if (st->have_uuid)
		cdp_uuid_format(st->uuid, u);
	cdp_time_format(st->since_ns, since, sizeof(since));
	cdp_time_format(cdp_time_now(), now, sizeof(now));
	fprintf(f, "{\"time\":\"%s\",\"uuid\":", now);
	if (st->have_uuid)
		fprintf(f, "\"%s\"", u);
	else
		fputs("null", f);
	fprintf(f, ",\"seq_read\":%" PRIu64 ",\"seq_sent\":%" PRIu64
	    ",\"seq_acked\":%" PRIu64 ",\"bytes_read\":%" PRIu64
	    ",\"bytes_sent\":%" PRIu64 ",\"spool_bytes\":%" PRIu64,
	    st->seq_read, st->seq_sent, st->seq_acked, st->bytes_read,
	    st->bytes_sent, st->spool_bytes);
	if (st->lag_ms >= 0)
		fprintf(f, ",\"lag_ms\":%" PRId64, st->lag_ms);
	else
		fputs(",\"lag_ms\":null", f);
	fprintf(f, ",\"rpo_ms\":%" PRId64 ",\"connected\":%s,\"since\":\"%s\""
	    ",\"connects\":%" PRIu64 ",\"waiting\":%s}\n", st->rpo_ms,
	    st->connected ? "true" : "false", since, st->connects,
	    st->waiting ? "true" : "false");
	return cdp_status_close_rename(f, tmp, path);
}

int
cdp_status_write_prom(const char *path, const struct cdp_status *st)
{
	char u[CDP_UUID_STRLEN] = "";
	char *tmp;
	FILE *f;
	int i;

	if ((f = cdp_status_open_tmp(path, &tmp)) == NULL)
		return -1;
	if (st->have_uuid)
		cdp_uuid_format(st->uuid, u);
#define GAUGE(name, help, fmt, v) \
	fprintf(f, "# HELP cdp_send_" name " " help "\n# TYPE cdp_send_" name \
	    " gauge\ncdp_send_" name "{stream=\"%s\"} " fmt "\n", u, v)
	GAUGE("seq_read", "Last seq taken from the input.", "%" PRIu64,
	    st->seq_read);
	GAUGE("seq_sent", "Last seq sent to the receiver.", "%" PRIu64,
	    st->seq_sent);
	GAUGE("seq_acked", "Last seq durable at the receiver.", "%" PRIu64,
	    st->seq_acked);
	GAUGE("bytes_read", "Journal bytes taken from the input.", "%" PRIu64,
	    st->bytes_read);
	GAUGE("bytes_sent", "Bytes sent to the receiver.", "%" PRIu64,
	    st->bytes_sent);
	GAUGE("spool_bytes", "Bytes held in the spool.", "%" PRIu64,
	    st->spool_bytes);
	GAUGE("lag_seconds", "Source time to durable of the last record "
	    "acknowledged.", "%.3f", st->lag_ms >= 0 ? st->lag_ms / 1e3 : 0);
	GAUGE("rpo_seconds", "Age of the oldest record not yet durable at the "
	    "receiver.", "%.3f", st->rpo_ms / 1e3);
	GAUGE("connected", "1 while connected to the receiver.", "%d",
	    st->connected);
	GAUGE("connected_since_seconds", "When connected last changed, since "
	    "the epoch.", "%.3f", st->since_ns / 1e9);
	GAUGE("connects", "Connections made to the receiver.", "%" PRIu64,
	    st->connects);
	GAUGE("waiting", "1 while the spool is full and the input waits.",
	    "%d", st->waiting);
#undef GAUGE
	fputs("# HELP cdp_send_durable_latency_seconds Source time to durable "
	    "at the receiver, per record.\n"
	    "# TYPE cdp_send_durable_latency_seconds histogram\n", f);
	for (i = 0; i < CDP_STATUS_BUCKETS; i++)
		fprintf(f, "cdp_send_durable_latency_seconds_bucket{stream=\"%s\","
		    "le=\"%g\"} %" PRIu64 "\n", u, cdp_status_bucket_le[i],
		    st->lat_bucket[i]);
	fprintf(f, "cdp_send_durable_latency_seconds_bucket{stream=\"%s\","
	    "le=\"+Inf\"} %" PRIu64 "\n", u, st->lat_count);
	fprintf(f, "cdp_send_durable_latency_seconds_sum{stream=\"%s\"} %.6f\n",
	    u, st->lat_sum);
	fprintf(f, "cdp_send_durable_latency_seconds_count{stream=\"%s\"} %"
	    PRIu64 "\n", u, st->lat_count);
	return cdp_status_close_rename(f, tmp, path);
}

struct cdp_ticker {
	void		(*fn)(void *);
	void		*arg;
	int		 ms;
	int		 stop;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	pthread_t	 tid;
};

static void *
ticker(void *arg)
{
	struct cdp_ticker *t = arg;
	struct timespec until;

	for (;;) {
		t->fn(t->arg);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += t->ms / 1000;
		until.tv_nsec += (long)(t->ms % 1000) * 1000000;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		pthread_mutex_lock(&t->mu);
		while (!t->stop &&
		    pthread_cond_timedwait(&t->cv, &t->mu, &until) == 0)
			;
		if (t->stop) {
			pthread_mutex_unlock(&t->mu);
			t->fn(t->arg);	/* the final word */
			return NULL;
		}
		pthread_mutex_unlock(&t->mu);
	}
}

struct cdp_ticker *
cdp_ticker_start(void (*fn)(void *), void *arg, int ms)
{
	struct cdp_ticker *t = calloc(1, sizeof(*t));
	int e;

	if (t == NULL)
		return NULL;
	t->fn = fn;
	t->arg = arg;
	t->ms = ms > 0 ? ms : 1;
	pthread_mutex_init(&t->mu, NULL);
	pthread_cond_init(&t->cv, NULL);
	if ((e = pthread_create(&t->tid, NULL, ticker, t)) != 0) {
		pthread_mutex_destroy(&t->mu);
		pthread_cond_destroy(&t->cv);
		free(t);
		errno = e;
		return NULL;
	}
	return t;
}

void
cdp_ticker_stop(struct cdp_ticker *t)
{
	if (t == NULL)
		return;
	pthread_mutex_lock(&t->mu);
	t->stop = 1;
	pthread_cond_signal(&t->cv);
	pthread_mutex_unlock(&t->mu);
	pthread_join(t->tid, NULL);
	pthread_mutex_destroy(&t->mu);
	pthread_cond_destroy(&t->cv);
	free(t);
}
