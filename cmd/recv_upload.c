/*
 * recv_upload.c: cdp-recv's uploader for a STORE in a bucket
 * (recv_upload.h).
 *
 * Order of things, so that a crash at any instant loses nothing and
 * references nothing half-written: a segment is sealed, made durable in
 * the stage (the committer does that), uploaded, then named in a new
 * manifest, and only then removed from the stage.  After a crash the
 * stage still holds whatever the manifest does not name, and it is
 * uploaded again under the same name.
 */
#include <sys/resource.h>
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cdp_cli.h"
#include "cdp_manifest.h"
#include "cdp_reader.h"
#include "cdp_s3fold.h"
#include "cdp_source.h"
#include "cdp_proto.h"		/* cdp_sleep_ms */
#include "cdp_s3store.h"
#include "cdp_status.h"
#include "cdp_store.h"
#include "cdp_time.h"
#include "cdp_uuid.h"
#include "recv_upload.h"

#define PASS_MS		200		/* look at the stage this often */
#define LEASE_WAIT_MS	5000		/* for the lease to be read back */
#define RETRY_MIN_MS	1000		/* after a failed upload, wait */
#define RETRY_MAX_MS	30000		/* doubling up to this */
#define STATUS_MS	1000		/* --status this often */
#define FOLD_MIN_MS	1000		/* --retain: fold at most this often */
#define FOLD_MAX_MS	60000		/* and at least this often */
#define FOLD_DIR	".bucket-fold"	/* in the stage: the fold's work */
#define GRACE_ENV	"CDP_S3_RETIRE_SECONDS"	/* tests: grace time */
#define MS		((int64_t)1000000)

struct recv_upload {
	struct recv_upload_opts o;
	struct cdp_store *st;
	struct cdp_s3store *b;

	pthread_t	 tid;
	int		 running;
	void		(*wake)(void *);
	void		*arg;

	pthread_mutex_t	 mu;		/* what follows, up to the thread's */
	pthread_cond_t	 cv;
	int		 stop;		/* finish: upload everything, stop */
	int64_t		 deadline;	/* finish: give up then (ns) */
	uint64_t	 up_seq;
	uint64_t	 backlog_bytes, backlog_segs;
	char		 error[1024];	/* the last upload failure, or "" */

	/* The thread's own. */
	uint64_t	 dirty_first;	/* last segment, with bytes not up */
	int64_t		 dirty_since;
	int64_t		 retry_at;
	int		 retry_ms;
	struct cdp_ticker *ticker;	/* --status, on a thread of its own */
	int64_t		 fold_at;
	int64_t		 grace_ns;
	char		*fold_dir;
	char		 fold_said[1024];
	int		 fold_stop;	/* never set: a fold runs to its end */
	int		 finishing;	/* run inline by recv_upload_finish() */
};

struct recv_upload *
recv_upload_open(const struct recv_upload_opts *o, struct cdp_store *st)
{
	struct recv_upload *u = calloc(1, sizeof(*u));
	char host[HOST_NAME_MAX + 1], stage[PATH_MAX], why[1024];
	char *holder;

	if (u == NULL)
		err(CDP_EXIT_FAIL, "malloc");
	u->o = *o;
	u->st = st;
	pthread_mutex_init(&u->mu, NULL);
	pthread_cond_init(&u->cv, NULL);
	if (gethostname(host, sizeof(host)) == -1)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	if (realpath(o->stage, stage) == NULL)
		err(CDP_EXIT_FAIL, "--stage: %s", o->stage);
	if (asprintf(&holder, "%s:%s", host, stage) == -1)
		err(CDP_EXIT_FAIL, "malloc");
	u->b = cdp_s3store_open(o->url, o->endpoint, holder, why, sizeof(why));
	free(holder);
	if (u->b == NULL)
		errx(errno == EINVAL ? CDP_EXIT_USAGE : CDP_EXIT_FAIL, "%s",
		    why);
	if (cdp_s3store_notice(u->b)[0] != '\0')
		warnx("%s", cdp_s3store_notice(u->b));
	u->up_seq = cdp_s3store_manifest(u->b)->durable_seq;
	u->grace_ns = CDP_S3FOLD_GRACE_S * (int64_t)1000000000;
	if (getenv(GRACE_ENV) != NULL)
		u->grace_ns = strtoll(getenv(GRACE_ENV), NULL, 10) *
		    (int64_t)1000000000;
	if (asprintf(&u->fold_dir, "%s/" FOLD_DIR, stage) == -1)
		err(CDP_EXIT_FAIL, "malloc");
	return u;
}

void
recv_upload_adopt(struct recv_upload *u, const uint8_t uuid[16])
{
	const struct cdp_manifest *m = cdp_s3store_manifest(u->b);
	const struct cdp_manifest_seg *ms;
	char a[CDP_UUID_STRLEN], b[CDP_UUID_STRLEN];
	uint64_t *first, last = cdp_store_next_seq(u->st) - 1;
	uint64_t a_size, a_last;
	size_t n;

	if (m->have_uuid && memcmp(m->uuid, uuid, 16) != 0) {
		cdp_uuid_format(m->uuid, a);
		cdp_uuid_format(uuid, b);
		errx(CDP_EXIT_FAIL, "%s: holds stream %s, not %s", u->o.url,
		    a, b);
	}
	cdp_s3store_set_uuid(u->b, uuid);
	if (m->durable_seq == 0)
		return;
	if (last < m->durable_seq) {
		/*
		 * The stage is behind the bucket (it was lost, or is an old
		 * copy): go on from the end of the bucket.
		 */
		if (cdp_store_clear(u->st, m->durable_seq + 1) == -1)
			errx(CDP_EXIT_FAIL, "%s", cdp_store_error(u->st));
		return;
	}
	if (cdp_store_segments(u->st, &first, &n) == -1)
		err(CDP_EXIT_FAIL, "malloc");
	if (n > 0 && first[0] > m->durable_seq + 1)
		errx(CDP_EXIT_FAIL, "%s: the bucket ends at seq %" PRIu64
		    ", %s starts at seq %" PRIu64 ": seq %" PRIu64 "-%" PRIu64
		    " are in neither", u->o.url, m->durable_seq, u->o.stage,
		    first[0], m->durable_seq + 1, first[0] - 1);
	/*
	 * A last segment the bucket has whole was sealed before it went up:
	 * new records start a new segment, rather than grow this one and
	 * send it all again.
	 */
	if (n > 0 && (ms = cdp_manifest_find(m, first[n - 1])) != NULL &&
	    ms->size == cdp_store_segment_bytes(u->st, first[n - 1]))
		(void)cdp_store_seal(u->st, first[n - 1], &a_size, &a_last);
	free(first);
}

uint64_t
recv_upload_seq(struct recv_upload *u)
{
	uint64_t v;

	pthread_mutex_lock(&u->mu);
	v = u->up_seq;
	pthread_mutex_unlock(&u->mu);
	return v;
}

/* Say an upload problem once, until it changes or goes away. */
static void
trouble(struct recv_upload *u, const char *msg)
{
	int same;

	pthread_mutex_lock(&u->mu);
	same = strcmp(u->error, msg) == 0;
	snprintf(u->error, sizeof(u->error), "%s", msg);
	pthread_mutex_unlock(&u->mu);
	if (!same)
		warnx("%s; the stage keeps the records, trying again", msg);
}

static void
untrouble(struct recv_upload *u)
{
	int was;

	pthread_mutex_lock(&u->mu);
	was = u->error[0] != '\0';
	u->error[0] = '\0';
	pthread_mutex_unlock(&u->mu);
	if (was)
		warnx("%s: uploading again", u->o.url);
}

/*
 * Read the first size bytes of a segment through the validating reader:
 * what goes up is checked once more, and the manifest learns the newest
 * record time in it (for --retain).  0, or -1 with a message.
 */
static int
scan_segment(int fd, const char *name, uint64_t size, int64_t *newest,
    char *msg, size_t msglen)
{
	struct cdp_record *rec = malloc(sizeof(*rec));
	struct cdp_source *src = NULL;
	struct cdp_reader *rd = NULL;
	int rc = -1;

	*newest = 0;
	if (rec == NULL || (src = cdp_source_fd(fd, name)) == NULL ||
	    (rd = cdp_reader_open(src, 0)) == NULL)
		snprintf(msg, msglen, "%s: %s", name, strerror(errno));
	else {
		while (cdp_reader_offset(rd) < size &&
		    (rc = cdp_reader_next(rd, rec)) == 1)
			if (rec->time_ns > *newest)
				*newest = rec->time_ns;
		if (rc == -1)
			snprintf(msg, msglen, "%s: %s; not uploaded", name,
			    cdp_reader_error(rd));
		else
			rc = 0;
	}
	cdp_reader_close(rd);
	cdp_source_close(src);
	free(rec);
	return rc;
}

static int
upload(struct recv_upload *u, uint64_t first, uint64_t last, uint64_t size)
{
	char name[PATH_MAX + 32], msg[PATH_MAX + 1024];
	int64_t newest;
	int fd, rc;

	snprintf(name, sizeof(name), "%s/%020" PRIu64 ".cdpj", u->o.stage,
	    first);
	if ((fd = cdp_store_open_segment(u->st, first)) == -1) {
		snprintf(msg, sizeof(msg), "%s: %s", name, strerror(errno));
		trouble(u, msg);
		return -1;
	}
	if (scan_segment(fd, name, size, &newest, msg, sizeof(msg)) == -1) {
		close(fd);
		trouble(u, msg);
		return -1;
	}
	rc = cdp_s3store_upload(u->b, first, last, fd, size, newest,
	    cdp_store_durable_time(u->st));
	close(fd);
	if (rc == -1) {
		trouble(u, cdp_s3store_error(u->b));
		return -1;
	}
	untrouble(u);
	pthread_mutex_lock(&u->mu);
	u->up_seq = cdp_s3store_manifest(u->b)->durable_seq;
	pthread_mutex_unlock(&u->mu);
	if (u->wake != NULL)
		u->wake(u->arg);
	return 0;
}

/*
 * Whether the last segment is due for sealing: it has held bytes the
 * bucket lacks for --seal-after, or we are finishing.
 */
static int
seal_due(struct recv_upload *u, uint64_t first, int finishing)
{
	int64_t now = cdp_time_now();

	if (finishing)
		return 1;
	if (u->dirty_first != first) {
		u->dirty_first = first;
		u->dirty_since = now;
	}
	return now - u->dirty_since >= u->o.seal_ns;
}

/*
 * One look at the stage: upload every sealed segment the bucket lacks
 * (sealing the last one when due), and drop what the bucket has.
 * Returns 0 when the stage holds nothing the bucket lacks, 1 when
 * something waits (for the committer or for its age), -1 after an upload
 * failed.
 */
static int
pass(struct recv_upload *u, int finishing)
{
	const struct cdp_manifest *m = cdp_s3store_manifest(u->b);
	const struct cdp_manifest_seg *ms;
	uint64_t *firsts, size, last, up_before, backlog = 0, nback = 0;
	size_t n, i, hdr_len;
	int rc = 0;

	(void)cdp_store_header(u->st, &hdr_len);
	if (cdp_store_segments(u->st, &firsts, &n) == -1)
		err(CDP_EXIT_FAIL, "malloc");
	for (i = 0; i < n && rc != -1; i++) {
		int is_last = i + 1 == n;

		size = cdp_store_segment_bytes(u->st, firsts[i]);
		ms = cdp_manifest_find(m, firsts[i]);
		if (ms != NULL && ms->size == size) {
			if (!is_last)
				(void)cdp_store_drop_through(u->st, ms->last);
			continue;
		}
		if (is_last && size <= hdr_len)
			continue;	/* nothing in it yet */
		backlog += size - (ms != NULL ? ms->size : 0);
		nback++;
		if (rc == 1)
			continue;	/* waiting: count the rest only */
		last = is_last ? 0 : firsts[i + 1] - 1;
		if (is_last) {
			/* Sealed again, the same, until it is up. */
			if (!seal_due(u, firsts[i], finishing) ||
			    cdp_store_seal(u->st, firsts[i], &size,
			    &last) == -1) {
				rc = 1;
				continue;
			}
		}
		if (!cdp_store_durable_through(u->st, firsts[i], size)) {
			rc = 1;		/* the committer is on it */
			continue;
		}
		/* upload() replaces the manifest ms points into. */
		up_before = ms != NULL ? ms->size : 0;
		if (upload(u, firsts[i], last, size) == -1) {
			rc = -1;
			break;
		}
		backlog -= size - up_before;
		nback--;
		if (!is_last)
			(void)cdp_store_drop_through(u->st, last);
		m = cdp_s3store_manifest(u->b);
	}
	free(firsts);
	pthread_mutex_lock(&u->mu);
	u->backlog_bytes = backlog;
	u->backlog_segs = nback;
	pthread_mutex_unlock(&u->mu);
	return rc;
}

/* --status, every second from the ticker: also while an upload hangs. */
static void
write_status(void *arg)
{
	struct recv_upload *u = arg;
	FILE *f;
	char *tmp;

	if (u->o.status == NULL)
		return;
	if ((f = cdp_status_open_tmp(u->o.status, &tmp)) == NULL) {
		warn("--status: %s", u->o.status);
		return;
	}
	pthread_mutex_lock(&u->mu);
	fprintf(f, "{\"store\":");
	cdp_cli_json_str(f, u->o.url, strlen(u->o.url));
	fprintf(f, ",\"stage\":");
	cdp_cli_json_str(f, u->o.stage, strlen(u->o.stage));
	fprintf(f, ",\"durable_seq\":%" PRIu64 ",\"uploaded_seq\":%" PRIu64
	    ",\"upload_backlog_bytes\":%" PRIu64
	    ",\"upload_backlog_segments\":%" PRIu64
	    ",\"lease_seconds_left\":%" PRId64 ",\"upload_error\":",
	    cdp_store_durable_seq(u->st), u->up_seq, u->backlog_bytes,
	    u->backlog_segs, cdp_s3store_lease_left(u->b));
	if (u->error[0] != '\0')
		cdp_cli_json_str(f, u->error, strlen(u->error));
	else
		fprintf(f, "null");
	pthread_mutex_unlock(&u->mu);
	fprintf(f, "}\n");
	if (cdp_status_close_rename(f, tmp, u->o.status) == -1)
		warn("--status: %s", u->o.status);
}

/*
 * --retain: fold what is older than the window now and then, and delete
 * what earlier folds retired once their grace time is over.  A message
 * is repeated only when it changes.
 */
static void
fold(struct recv_upload *u, int64_t now, int force)
{
	char why[1024] = "";
	int64_t every = u->o.retain_ns / 4 / MS;

	if (u->o.retain_ns == 0 || (now < u->fold_at && !force))
		return;
	every = every < FOLD_MIN_MS ? FOLD_MIN_MS :
	    every > FOLD_MAX_MS ? FOLD_MAX_MS : every;
	u->fold_at = now + every * MS;
	if (cdp_s3fold_run(u->b, u->fold_dir, now - u->o.retain_ns,
	    u->grace_ns, &u->fold_stop, why, sizeof(why)) != -1 &&
	    cdp_s3fold_reap(u->b, why, sizeof(why)) != -1)
		why[0] = '\0';
	if (why[0] != '\0' && strcmp(why, u->fold_said) != 0)
		warnx("--retain: %s", why);
	snprintf(u->fold_said, sizeof(u->fold_said), "%s", why);
}

static void *
uploader(void *arg)
{
	struct recv_upload *u = arg;

	/* Receiving and acknowledging come first (the RPO). */
	if (!u->finishing)
		(void)setpriority(PRIO_PROCESS, (id_t)gettid(), 10);
	/* The lease is read back about 0.3 s after it was taken. */
	(void)cdp_s3store_lease(u->b, LEASE_WAIT_MS);
	for (;;) {
		int64_t now = cdp_time_now();
		int stop, rc = 1;

		pthread_mutex_lock(&u->mu);
		stop = u->stop;
		pthread_mutex_unlock(&u->mu);
		/* Nothing goes to the bucket unless the prefix is ours. */
		if (cdp_s3store_lease(u->b, 0) == -1) {
			if (errno == EBUSY)
				errx(CDP_EXIT_FAIL, "%s; stopping",
				    cdp_s3store_error(u->b));
			trouble(u, cdp_s3store_error(u->b));
		} else if (now >= u->retry_at) {
			rc = pass(u, stop);
			if (rc == -1) {
				u->retry_ms = u->retry_ms == 0 ? RETRY_MIN_MS :
				    u->retry_ms * 2;
				if (u->retry_ms > RETRY_MAX_MS)
					u->retry_ms = RETRY_MAX_MS;
				u->retry_at = now + u->retry_ms * MS;
			} else
				u->retry_ms = 0;
		}
		if (!stop && rc != -1)
			fold(u, now, 0);
		if (stop && rc == 0)
			fold(u, now, 1);	/* all is up: fold before exit */
		if (stop && (rc == 0 || now >= u->deadline))
			break;
		pthread_mutex_lock(&u->mu);
		if (!u->stop) {
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += PASS_MS * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			(void)pthread_cond_timedwait(&u->cv, &u->mu, &ts);
		}
		pthread_mutex_unlock(&u->mu);
		if (stop)
			cdp_sleep_ms(PASS_MS);
	}
	return NULL;
}

static void
start_status(struct recv_upload *u)
{
	if (u->o.status != NULL && u->ticker == NULL &&
	    (u->ticker = cdp_ticker_start(write_status, u, STATUS_MS)) == NULL)
		err(CDP_EXIT_FAIL, "--status");
}

void
recv_upload_start(struct recv_upload *u, void (*wake)(void *), void *arg)
{
	int e;

	u->wake = wake;
	u->arg = arg;
	start_status(u);
	if ((e = pthread_create(&u->tid, NULL, uploader, u)) != 0)
		errx(CDP_EXIT_FAIL, "pthread_create: %s", strerror(e));
	u->running = 1;
}

int
recv_upload_finish(struct recv_upload *u, int timeout_ms)
{
	int rc = 0;

	pthread_mutex_lock(&u->mu);
	u->stop = 1;
	u->deadline = cdp_time_now() + timeout_ms * MS;
	pthread_cond_broadcast(&u->cv);
	pthread_mutex_unlock(&u->mu);
	if (!u->running) {
		u->running = u->finishing = 1;
		start_status(u);
		(void)uploader(u);
	} else
		pthread_join(u->tid, NULL);
	if (u->ticker != NULL)
		cdp_ticker_stop(u->ticker);
	if (u->backlog_segs > 0) {
		warnx("%s: %" PRIu64 " bytes in %" PRIu64 " segments not "
		    "uploaded; they stay in %s and go up when cdp-recv runs "
		    "again", u->o.url, u->backlog_bytes, u->backlog_segs,
		    u->o.stage);
		rc = -1;
	}
	cdp_s3store_close(u->b);
	free(u->fold_dir);
	pthread_cond_destroy(&u->cv);
	pthread_mutex_destroy(&u->mu);
	free(u);
	return rc;
}
