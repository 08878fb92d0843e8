/*
 * cdp-recv: receive a journal stream into a store, durably, and say so.
 *
 * Three threads share the work, so that no one waits for another's I/O:
 *
 *   main       reads records from standard input and appends them to the
 *              store (written, not yet durable);
 *   committer  makes whatever was appended durable with one flush (group
 *              commit: the records that arrive during a flush go into the
 *              next one) and answers with an ACK on standard output;
 *   applier    (--apply) applies records to the replica once durable,
 *              and records in the replica what it applied whenever it has
 *              caught up, at least once a second, and right after any
 *              record that must not be applied twice;
 *   folder     (--retain) now and then folds the segments older than the
 *              window into the base, at a lower priority.
 *
 * The exchange with cdp-send is in cdp-send(1), REPLICATION PROTOCOL.
 */
#include <sys/resource.h>
#include <sys/stat.h>

#include <linux/falloc.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <popt.h>

#include "cdp_apply.h"
#include "cdp_cli.h"
#include "cdp_fold.h"
#include "cdp_proto.h"
#include "cdp_reader.h"
#include "cdp_record.h"
#include "cdp_s3.h"
#include "cdp_source.h"
#include "cdp_store.h"
#include "cdp_time.h"
#include "cdp_uuid.h"
#include "cdp_writer.h"
#include "recv_upload.h"

#define SYNOPSIS	"[--apply DIR] [--retain DURATION] [--segment-size SIZE] " \
			"[--stage DIR] [--seal-after SIZE|SECONDS] " \
			"[--ack-after-upload] [--s3-endpoint URL] " \
			"[--status FILE] STORE"

#define IDLE_COMMIT_MS	1000	/* commit (and update the state) when idle */
#define NOSPACE_WAIT_MS	200	/* retry a write that found the disk full */
#define APPLY_PIPE_SIZE	(1024 * 1024)
#define INPUT_PIPE_SIZE	(1024 * 1024)	/* standard input, when a pipe */
#define FOLD_EVERY_MIN_MS 250	/* look for old segments at most this often */
#define FOLD_EVERY_MAX_MS 60000	/* and at least this often */
#define APPLY_SYNC_MS	1000	/* --apply: record the state this often */
#define S3_SEGMENT_SIZE	(16ull * 1024 * 1024)	/* --seal-after SIZE */
#define S3_SEAL_S	10	/* --seal-after SECONDS */
#define S3_SEAL_ACK_S	1	/* --seal-after SECONDS, --ack-after-upload */
#define S3_FINISH_MS	30000	/* at exit, keep trying uploads this long */
#define S3_STAGE_ROOT	"/var/tmp/cdp-stage"	/* --stage default: below */

struct opts {
	poptContext	 pc;
	char		*apply;		/* --apply */
	char		*retain;	/* --retain */
	int64_t		 retain_ns;
	char		*segsize;	/* --segment-size */
	const char	*store;		/* operand */
	uint64_t	 segment_size;

	/* A STORE in a bucket (s3://). */
	int		 s3;
	char		*stage;		/* --stage */
	int64_t		 seal_ns;	/* --seal-after SECONDS */
	int		 ack_after_upload;
	char		*endpoint;	/* --s3-endpoint */
	char		*status;	/* --status */
};

struct recv {
	struct cdp_store *st;
	const char	*store;		/* its path, for messages */
	uint8_t		 uuid[16];
	struct cdp_writer *ack;		/* standard output: RESUME, ACK */
	int		 ack_dead;	/* the sender went away */

	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;		/* pending, durable or done changed */
	int		 pending;	/* appended since the last commit */
	int		 done;		/* no more input */
	int		 failed;	/* a commit failed */
	uint64_t	 durable;

	/* --apply */
	struct cdp_apply *ap;
	int		 apipe[2];
	const char	*apply_dir;
	int		 apply_failed;
	uint64_t	 forwarded;	/* records written to the pipe (mu) */
	int		 apply_dirty;	/* applied since the last sync */
	int64_t		 synced_at;

	/* The base; --retain: the folder. */
	struct cdp_fold	*fold;
	int64_t		 retain_ns;
	volatile int	 fold_stop;	/* __atomic: read unlocked */
	pthread_t	 ftid;

	/* s3:// STORE: the uploader; acknowledge only what is uploaded. */
	struct recv_upload *up;
	int		 ack_after_upload;
};

static struct cdp_record rec;		/* large: not on the stack */

static void
parse_args(struct opts *o, int argc, const char **argv)
{
	char *seal = NULL;
	const struct poptOption table[] = {	/* sorted by long name */
		{ "ack-after-upload", '\0', POPT_ARG_NONE,
		    &o->ack_after_upload, 0, "s3://: acknowledge records "
		    "only once the bucket has them", NULL },
		{ "apply", '\0', POPT_ARG_STRING, &o->apply, 0,
		    "keep DIR a live replica of the store", "DIR" },
		{ "retain", '\0', POPT_ARG_STRING, &o->retain, 0,
		    "keep every point in time of the last DURATION, fold "
		    "older segments into a base", "DURATION" },
		{ "s3-endpoint", '\0', POPT_ARG_STRING, &o->endpoint, 0,
		    "s3://: the object store's URL (default "
		    "$AWS_ENDPOINT_URL)", "URL" },
		{ "seal-after", '\0', POPT_ARG_STRING, &seal, 'S',
		    "s3://: upload a segment once it holds SIZE bytes or is "
		    "SECONDS old", "SIZE|SECONDS" },
		{ "segment-size", '\0', POPT_ARG_STRING, &o->segsize, 0,
		    "start a new segment after SIZE bytes", "SIZE" },
		{ "stage", '\0', POPT_ARG_STRING, &o->stage, 0,
		    "s3://: the local staging store", "DIR" },
		{ "status", '\0', POPT_ARG_STRING, &o->status, 0,
		    "s3://: write the upload status as JSON to FILE every "
		    "second", "FILE" },
		POPT_AUTOHELP
		POPT_TABLEEND
	};
	int c;

	o->pc = cdp_cli_popt(argc, argv, table, SYNOPSIS);
	while ((c = cdp_cli_popt_next(o->pc, SYNOPSIS)) > 0) {
		/* SECONDS (90, 90s, 5m) or SIZE (16M, 1G): both may be given. */
		if (c == 'S' && cdp_cli_parse_duration(seal, &o->seal_ns) == -1 &&
		    cdp_cli_parse_size(seal, &o->segment_size) == -1)
			cdp_cli_usage(SYNOPSIS, "--seal-after: not a size "
			    "(16M) or a number of seconds (10s): %s", seal);
		free(seal);
		seal = NULL;
	}
	o->store = cdp_cli_one_operand(o->pc, SYNOPSIS, "STORE");
}

/* Make dir if missing; exit unless it is ours alone. */
static void
stage_dir_ok(const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		err(CDP_EXIT_FAIL, "%s", dir);
	if (lstat(dir, &st) == -1)
		err(CDP_EXIT_FAIL, "%s", dir);
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 022) != 0)
		errx(CDP_EXIT_FAIL, "%s: not a directory of this user's that "
		    "only it may write to; give --stage", dir);
}

/* --stage by default: S3_STAGE_ROOT/BUCKET/PREFIX, made if missing. */
static char *
default_stage(const char *url)
{
	const char *p = url + strlen("s3://"), *q;
	char *path, *slash;

	/* Every component a plain name: nothing climbs out of the root. */
	for (q = p; *q != '\0'; q = slash + 1) {
		size_t n = strcspn(q, "/");

		if ((n == 1 && q[0] == '.') || (n == 2 && q[0] == '.' &&
		    q[1] == '.'))
			cdp_cli_usage(SYNOPSIS, "%s: \".\" and \"..\" are "
			    "not names for a bucket or prefix", url);
		if ((slash = strchr(q, '/')) == NULL)
			break;
	}
	if (asprintf(&path, "%s/%s", S3_STAGE_ROOT, p) == -1)
		err(CDP_EXIT_FAIL, "malloc");
	/*
	 * /var/tmp is everyone's: below it, every directory must be ours,
	 * a real directory, and writable by nobody else.
	 */
	for (slash = strchr(path + strlen(S3_STAGE_ROOT) - 1, '/');
	    slash != NULL; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		stage_dir_ok(path);
		*slash = '/';
	}
	stage_dir_ok(path);
	return path;
}

static void
check_args(struct opts *o)
{
	o->s3 = cdp_s3_is_url(o->store);
	if (!o->s3 && (o->stage || o->seal_ns || o->ack_after_upload ||
	    o->endpoint || o->status || o->segment_size))
		cdp_cli_usage(SYNOPSIS, "--stage, --seal-after, "
		    "--ack-after-upload, --s3-endpoint and --status are for "
		    "an s3:// STORE");
	if (o->s3 && o->segsize != NULL)
		cdp_cli_usage(SYNOPSIS, "--segment-size: for an s3:// STORE, "
		    "use --seal-after SIZE");
	if (o->s3 && o->seal_ns == 0)
		o->seal_ns = (o->ack_after_upload ? S3_SEAL_ACK_S : S3_SEAL_S) *
		    (int64_t)1000000000;
	if (o->s3 && o->segment_size == 0)
		o->segment_size = S3_SEGMENT_SIZE;
	if (o->s3 && o->stage == NULL)
		o->stage = default_stage(o->store);
	/* Also for the readers of the bucket (--apply catching up). */
	if (o->endpoint != NULL && setenv("AWS_ENDPOINT_URL", o->endpoint,
	    1) == -1)
		err(CDP_EXIT_FAIL, "setenv");
	if (o->segment_size == 0)
		o->segment_size = CDP_STORE_SEGMENT_SIZE;
	if (o->segsize != NULL && cdp_cli_parse_size(o->segsize, &o->segment_size) == -1)
		cdp_cli_usage(SYNOPSIS, "--segment-size: not a size: %s",
		    o->segsize);
	if (o->retain != NULL &&
	    cdp_cli_parse_duration(o->retain, &o->retain_ns) == -1)
		cdp_cli_usage(SYNOPSIS, "--retain: not a duration (such as "
		    "7d, 12h, 30m or 90s): %s", o->retain);
	if (isatty(STDIN_FILENO))
		cdp_cli_usage(SYNOPSIS,
		    "refusing to read a journal from a terminal");
}

/* Send a return-channel record; a sender that went away is not an error. */
static void
send_control(struct recv *r, uint16_t type, uint64_t v)
{
	static struct cdp_record c;

	if (r->ack_dead)
		return;
	memset(&c, 0, sizeof(c));
	c.type = type;
	memcpy(c.uuid, r->uuid, 16);
	c.u64 = v;
	if (cdp_writer_put(r->ack, &c) == -1 || cdp_writer_flush(r->ack) == -1)
		r->ack_dead = 1;
}

/* The uploader put more in the bucket: the committer may acknowledge it. */
static void
uploaded(void *arg)
{
	struct recv *r = arg;

	pthread_mutex_lock(&r->mu);
	r->pending = 1;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

/* The committer: flush what was appended, then acknowledge it. */
static void *
committer(void *arg)
{
	struct recv *r = arg;
	uint64_t acked = cdp_store_durable_seq(r->st), d;
	int nospace = 0, rc;

	if (r->ack_after_upload && recv_upload_seq(r->up) < acked)
		acked = recv_upload_seq(r->up);

	for (;;) {
		struct timespec until;
		int done;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += IDLE_COMMIT_MS / 1000;
		pthread_mutex_lock(&r->mu);
		while (!r->pending && !r->done &&
		    pthread_cond_timedwait(&r->cv, &r->mu, &until) == 0)
			;
		r->pending = 0;
		done = r->done;
		pthread_mutex_unlock(&r->mu);

		rc = cdp_store_commit(r->st, done);
		if (rc == -1 && (errno == ENOSPC || errno == EDQUOT)) {
			/* Records gathered, not written yet: wait for space. */
			if (!nospace)
				warnx("%s; waiting for space",
				    cdp_store_error(r->st));
			nospace = 1;
			cdp_sleep_ms(NOSPACE_WAIT_MS);
			pthread_mutex_lock(&r->mu);
			r->pending = 1;
			pthread_mutex_unlock(&r->mu);
			continue;
		}
		if (rc == -1) {
			warnx("%s", cdp_store_error(r->st));
			pthread_mutex_lock(&r->mu);
			r->failed = 1;
			pthread_cond_broadcast(&r->cv);
			pthread_mutex_unlock(&r->mu);
			return NULL;
		}
		if (nospace)
			warnx("%s: space again, going on", r->store);
		nospace = 0;
		d = cdp_store_durable_seq(r->st);
		pthread_mutex_lock(&r->mu);
		r->durable = d;
		pthread_cond_broadcast(&r->cv);
		pthread_mutex_unlock(&r->mu);
		if (r->ack_after_upload && recv_upload_seq(r->up) < d)
			d = recv_upload_seq(r->up);
		if (d > acked) {
			send_control(r, CDP_T_ACK, d);
			acked = d;
		}
		if (done)
			return NULL;
	}
}

/*
 * Whether applying x a second time changes the tree again: an exchange, or
 * a range inserted into or collapsed out of a file.  The replica records
 * right after such a record that it was applied.
 */
static int
not_idempotent(const struct cdp_record *x)
{
	return (x->type == CDP_T_RENAME && (x->rflags & CDP_RENAME_EXCHANGE)) ||
	    (x->type == CDP_T_FALLOCATE && (x->mode &
	    (FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_INSERT_RANGE)));
}

/*
 * Record in the replica the last seq applied (its data flushed first), so
 * that a restart goes on from there.  0, or -1 after saying why.
 */
static int
apply_sync(struct recv *r)
{
	if (cdp_apply_sync(r->ap) == -1) {
		warnx("--apply: %s: %s", r->apply_dir, cdp_apply_error(r->ap));
		return -1;
	}
	r->apply_dirty = 0;
	r->synced_at = cdp_time_now();
	return 0;
}

/* Apply one record.  0, or -1 after saying why. */
static int
apply_one(struct recv *r, const struct cdp_record *x)
{
	int rc;

	if ((rc = cdp_apply_record(r->ap, x)) == -1) {
		warnx("--apply: %s: %s", r->apply_dir, cdp_apply_error(r->ap));
		return -1;
	}
	if (rc == 1)
		r->apply_dirty = 1;
	if (rc == 1 && not_idempotent(x))
		return apply_sync(r);
	if (r->apply_dirty &&
	    cdp_time_now() - r->synced_at >= APPLY_SYNC_MS * 1000000LL)
		return apply_sync(r);
	return 0;
}

/*
 * The applier: reads the records main passes through a pipe, waits until
 * each is durable, and applies it.  A replica never runs ahead of the
 * store, so after a crash it never holds what the store lost.  Before it
 * waits (for input, or for a record to become durable) it records what it
 * applied, so that a restart neither redoes much nor, above all, redoes a
 * record that is not idempotent.
 */
static void *
applier(void *arg)
{
	static struct cdp_record a;
	struct recv *r = arg;
	struct cdp_source *src;
	struct cdp_reader *rd;
	uint64_t consumed = 0;
	int rc, idle;

	if ((src = cdp_source_fd(r->apipe[0], "apply")) == NULL ||
	    (rd = cdp_reader_open(src, 0)) == NULL)
		err(CDP_EXIT_FAIL, "--apply");
	for (;;) {
		pthread_mutex_lock(&r->mu);
		idle = consumed == r->forwarded;
		pthread_mutex_unlock(&r->mu);
		if (idle && r->apply_dirty && !r->apply_failed &&
		    apply_sync(r) == -1)
			r->apply_failed = 1;
		if ((rc = cdp_reader_next(rd, &a)) != 1)
			break;
		consumed++;
		pthread_mutex_lock(&r->mu);
		idle = a.seq > r->durable && !r->failed;
		pthread_mutex_unlock(&r->mu);
		if (idle && r->apply_dirty && !r->apply_failed &&
		    apply_sync(r) == -1)
			r->apply_failed = 1;
		pthread_mutex_lock(&r->mu);
		while (a.seq > r->durable && !r->failed)
			pthread_cond_wait(&r->cv, &r->mu);
		pthread_mutex_unlock(&r->mu);
		if (r->failed || r->apply_failed)
			continue;
		if (apply_one(r, &a) == -1)
			r->apply_failed = 1;
	}
	if (rc == -1) {
		warnx("--apply: %s", cdp_reader_error(rd));
		r->apply_failed = 1;
	}
	cdp_reader_close(rd);
	cdp_source_close(src);
	/* Nobody reads the pipe any more: let main's writes fail. */
	close(r->apipe[0]);
	r->apipe[0] = -1;
	return NULL;
}

/* Bring the replica up to the store before new records arrive. */
static void
apply_catch_up(struct recv *r, const struct opts *o)
{
	static struct cdp_record c;	/* not rec: that holds the header */
	struct cdp_source *src;
	struct cdp_reader *rd;
	const char *from[2] = { o->store, NULL };
	int rc, i;

	uint64_t applied = cdp_apply_applied_seq(r->ap, r->uuid);

	if (cdp_store_next_seq(r->st) == 1 ||
	    applied >= cdp_store_next_seq(r->st) - 1)
		return;
	/* The records between the replica and the base are folded away. */
	if (r->fold != NULL && applied > 0 &&
	    applied < cdp_fold_base_seq(r->fold))
		errx(CDP_EXIT_FAIL, "--apply: %s: the replica is at seq %"
		    PRIu64 ", but the store was folded through seq %" PRIu64
		    " (--retain); remove %s to rebuild it from the store",
		    o->apply, applied, cdp_fold_base_seq(r->fold), o->apply);
	/* s3://: what went up is in the bucket, the rest in the stage. */
	if (r->up != NULL && applied >= recv_upload_seq(r->up))
		from[0] = o->stage;
	else if (r->up != NULL)
		from[1] = o->stage;
	for (i = 0; i < 2 && from[i] != NULL; i++) {
		if ((src = cdp_source_open(from[i])) == NULL)
			errx(CDP_EXIT_FAIL, "%s: %s", from[i],
			    cdp_source_strerror(errno));
		if ((rd = cdp_reader_open(src, 0)) == NULL)
			err(CDP_EXIT_FAIL, "%s", from[i]);
		cdp_apply_set_source(r->ap, src);
		while ((rc = cdp_reader_next(rd, &c)) == 1)
			if (apply_one(r, &c) == -1)
				exit(CDP_EXIT_FAIL);
		if (rc == -1)
			errx(CDP_EXIT_FAIL, "%s: %s", from[i],
			    cdp_reader_error(rd));
		cdp_apply_set_source(r->ap, NULL);
		cdp_reader_close(rd);
		cdp_source_close(src);
	}
	if (apply_sync(r) == -1)
		exit(CDP_EXIT_FAIL);
}

static void
start_apply(struct recv *r, const struct opts *o, const struct cdp_record *hdr,
    pthread_t *tid)
{
	int e;

	r->apply_dir = o->apply;
	/*
	 * No CDP_APPLY_MKPARENTS: the replica is what cdp-replay builds from
	 * the store.  CDP_APPLY_FSYNC: a replica's state never claims a
	 * record whose changes a power cut could still take away.
	 */
	if ((r->ap = cdp_apply_open(o->apply, CDP_APPLY_FSYNC)) == NULL) {
		if (errno == EWOULDBLOCK)
			errx(CDP_EXIT_FAIL, "--apply: %s: in use by another "
			    "process (another cdp-recv --apply or a "
			    "cdp-replay into it)", o->apply);
		err(CDP_EXIT_FAIL, "--apply: %s", o->apply);
	}
	r->synced_at = cdp_time_now();
	apply_catch_up(r, o);
	if (pipe2(r->apipe, O_CLOEXEC) == -1)
		err(CDP_EXIT_FAIL, "pipe");
	(void)fcntl(r->apipe[1], F_SETPIPE_SZ, APPLY_PIPE_SIZE);
	if (cdp_write_all(r->apipe[1], hdr->raw, hdr->raw_size) == -1)
		err(CDP_EXIT_FAIL, "--apply");
	r->forwarded = 1;
	if ((e = pthread_create(tid, NULL, applier, r)) != 0)
		errx(CDP_EXIT_FAIL, "pthread_create: %s", strerror(e));
}

/*
 * The folder: every so often, fold the segments whose records are all
 * older than the window.  A message is repeated only when it changes.
 */
static void *
folder(void *arg)
{
	struct recv *r = arg;
	char said[1024] = "";
	int64_t every = r->retain_ns / 4 / 1000000;
	int rc;

	if (every < FOLD_EVERY_MIN_MS)
		every = FOLD_EVERY_MIN_MS;
	if (every > FOLD_EVERY_MAX_MS)
		every = FOLD_EVERY_MAX_MS;
	/* Receiving and acknowledging come first. */
	(void)setpriority(PRIO_PROCESS, (id_t)gettid(), 10);
	while (!__atomic_load_n(&r->fold_stop, __ATOMIC_ACQUIRE)) {
		struct timespec until;

		rc = cdp_fold_run(r->fold, cdp_time_now() - r->retain_ns,
		    &r->fold_stop);
		if (rc == -1 && errno == ECANCELED)
			break;
		if (rc == -1 || cdp_fold_error(r->fold)[0] != '\0') {
			if (strcmp(said, cdp_fold_error(r->fold)) != 0)
				warnx("--retain: %s", cdp_fold_error(r->fold));
			snprintf(said, sizeof(said), "%s",
			    cdp_fold_error(r->fold));
		} else
			said[0] = '\0';
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += every / 1000;
		until.tv_nsec += (every % 1000) * 1000000;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		pthread_mutex_lock(&r->mu);
		while (!__atomic_load_n(&r->fold_stop, __ATOMIC_ACQUIRE) &&
		    pthread_cond_timedwait(&r->cv, &r->mu, &until) == 0)
			;
		pthread_mutex_unlock(&r->mu);
	}
	return NULL;
}

/* Append one record, waiting while the disk is full. */
static void
append(struct recv *r, const struct opts *o, const struct cdp_record *x)
{
	const uint8_t *hdr;
	size_t hdr_len;
	int warned = 0, put;

	while (cdp_store_append(r->st, x, NULL) == -1) {
		if (errno != ENOSPC && errno != EDQUOT)
			errx(CDP_EXIT_FAIL, "%s", cdp_store_error(r->st));
		if (!warned)
			warnx("%s; waiting for space", cdp_store_error(r->st));
		warned = 1;
		cdp_sleep_ms(NOSPACE_WAIT_MS);
		if (r->failed)
			exit(CDP_EXIT_FAIL);
	}
	if (warned)
		warnx("%s: space again, going on", o->store);
	/* Even a dropped HEARTBEAT tells the time (last_time_ns). */
	pthread_mutex_lock(&r->mu);
	r->pending = 1;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	/*
	 * The replica gets what the store holds, no more, no less: a
	 * resumed section's header but no dropped record.  A failed replica
	 * stops; the store goes on.
	 */
	put = cdp_store_last_put(r->st);
	if (r->ap == NULL || r->apply_failed || put == CDP_STORE_PUT_NOTHING)
		return;
	hdr = cdp_store_header(r->st, &hdr_len);
	if (((put & CDP_STORE_PUT_HDR) && cdp_write_all(r->apipe[1],
	    hdr, hdr_len) == -1) ||
	    cdp_write_all(r->apipe[1], x->raw, x->raw_size) == -1) {
		r->apply_failed = 1;
		return;
	}
	pthread_mutex_lock(&r->mu);
	r->forwarded += (put & CDP_STORE_PUT_HDR) ? 2 : 1;
	pthread_mutex_unlock(&r->mu);
}

/* Receive until the end of input.  Returns the exit status. */
static int
receive(struct recv *r, const struct opts *o, struct cdp_reader *rd)
{
	int rc, any = cdp_store_next_seq(r->st) > 1;

	while ((rc = cdp_reader_next(rd, &rec)) == 1) {
		if (rec.type == CDP_T_STREAM_HDR) {
			if (memcmp(rec.uuid, r->uuid, 16) != 0) {
				warnx("-: a second stream in one connection");
				return CDP_EXIT_FAIL;
			}
			continue;
		}
		if (rec.seq != 0 && any && rec.seq < cdp_store_next_seq(r->st))
			continue;	/* a repeat: stored already */
		if (rec.seq != 0 && any && rec.seq > cdp_store_next_seq(r->st)) {
			warnx("-: seq %" PRIu64 " where %" PRIu64 " is next",
			    rec.seq, cdp_store_next_seq(r->st));
			return CDP_EXIT_FAIL;
		}
		if (rec.seq != 0)
			any = 1;
		append(r, o, &rec);
	}
	if (rc == -1) {
		warnx("-: %s", cdp_reader_error(rd));
		return CDP_EXIT_FAIL;
	}
	return CDP_EXIT_OK;
}

/* An s3:// STORE: the bucket, with the stage already open. */
static struct recv_upload *
open_bucket(const struct opts *o, struct cdp_store *stage)
{
	struct recv_upload_opts uo = {
		.url = o->store,
		.endpoint = o->endpoint,
		.stage = o->stage,
		.seal_ns = o->seal_ns,
		.status = o->status,
		.retain_ns = o->retain_ns,
	};

	return recv_upload_open(&uo, stage);
}

/* What popt allocated for the string options (theirs to free: ours). */
static void
free_opts(struct opts *o)
{
	free(o->apply);
	free(o->retain);
	free(o->segsize);
	free(o->stage);
	free(o->endpoint);
	free(o->status);
	poptFreeContext(o->pc);
}

int
main(int argc, const char **argv)
{
	struct opts o = { 0 };
	struct recv r = { 0 };
	struct cdp_source *src;
	struct cdp_reader *rd;
	pthread_t ctid, atid;
	const char *why;
	uint64_t resume;
	int rc, status, e;

	parse_args(&o, argc, argv);
	check_args(&o);
	signal(SIGPIPE, SIG_IGN);
	pthread_mutex_init(&r.mu, NULL);
	pthread_cond_init(&r.cv, NULL);

	if ((r.st = cdp_store_open(o.s3 ? o.stage : o.store, CDP_STORE_CREATE,
	    &why)) == NULL)
		errx(CDP_EXIT_FAIL, "%s", why);
	if (cdp_store_notice(r.st)[0] != '\0')
		warnx("%s", cdp_store_notice(r.st));
	cdp_store_set_segment_size(r.st, o.segment_size);
	if (o.s3)
		r.up = open_bucket(&o, r.st);
	/* Finishes a fold that was cut off, with or without --retain. */
	else if ((r.fold = cdp_fold_open(r.st, o.store, &why)) == NULL)
		errx(CDP_EXIT_FAIL, "%s", why);
	r.retain_ns = o.retain_ns;
	r.durable = cdp_store_durable_seq(r.st);
	r.store = o.store;
	r.ack_after_upload = o.ack_after_upload;

	/*
	 * Under ssh, standard input is a pipe from sshd: a larger one takes
	 * larger writes, for fewer reads and wake-ups on both sides.  (On
	 * anything else, such as a local cdp-send's socket, this fails, and
	 * that is fine.)
	 */
	(void)fcntl(STDIN_FILENO, F_SETPIPE_SZ, INPUT_PIPE_SIZE);
	/*
	 * Records are stored as they came: check every frame and CRC, but
	 * leave the payloads of data records alone (inflating each one only
	 * to check it took most of the CPU with --compress).
	 */
	if ((src = cdp_source_fd(STDIN_FILENO, "-")) == NULL ||
	    (rd = cdp_reader_open(src, CDP_READER_FRAMES)) == NULL)
		err(CDP_EXIT_FAIL, "-");
	if ((rc = cdp_reader_next(rd, &rec)) == 0) {
		/* No stream: an s3:// STORE uploads what its stage holds. */
		if (r.up != NULL && cdp_store_uuid(r.st, r.uuid))
			recv_upload_adopt(r.up, r.uuid);
		status = r.up != NULL && recv_upload_finish(r.up,
		    S3_FINISH_MS) == -1 ? CDP_EXIT_FAIL : CDP_EXIT_OK;
		cdp_fold_close(r.fold);
		if (cdp_store_close(r.st) == -1)
			status = CDP_EXIT_FAIL;
		cdp_reader_close(rd);
		cdp_source_close(src);
		free_opts(&o);
		return status;
	}
	if (rc == -1)
		errx(CDP_EXIT_FAIL, "-: %s", cdp_reader_error(rd));
	if (cdp_store_begin(r.st, &rec) == -1)
		errx(CDP_EXIT_FAIL, "%s", cdp_store_error(r.st));
	memcpy(r.uuid, rec.uuid, 16);
	if (r.up != NULL) {
		recv_upload_adopt(r.up, r.uuid);
		r.durable = cdp_store_durable_seq(r.st);
	}
	if (o.apply != NULL)
		start_apply(&r, &o, &rec, &atid);

	if ((r.ack = cdp_writer_open(STDOUT_FILENO, -1)) == NULL)
		err(CDP_EXIT_FAIL, "-");
	resume = cdp_store_next_seq(r.st);
	/* Records not in the bucket yet are not acknowledged: send again. */
	if (r.ack_after_upload && recv_upload_seq(r.up) + 1 < resume)
		resume = recv_upload_seq(r.up) + 1;
	send_control(&r, CDP_T_RESUME, resume);
	if (r.up != NULL)
		recv_upload_start(r.up, uploaded, &r);
	if ((e = pthread_create(&ctid, NULL, committer, &r)) != 0 ||
	    (r.fold != NULL && o.retain != NULL &&
	    (e = pthread_create(&r.ftid, NULL, folder, &r)) != 0))
		errx(CDP_EXIT_FAIL, "pthread_create: %s", strerror(e));

	status = receive(&r, &o, rd);

	pthread_mutex_lock(&r.mu);
	r.done = 1;
	__atomic_store_n(&r.fold_stop, 1, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&r.cv);
	pthread_mutex_unlock(&r.mu);
	pthread_join(ctid, NULL);
	if (r.fold != NULL && o.retain != NULL)
		pthread_join(r.ftid, NULL);
	if (r.failed)
		status = CDP_EXIT_FAIL;
	if (r.up != NULL && recv_upload_finish(r.up, r.failed ? 0 :
	    S3_FINISH_MS) == -1)
		status = CDP_EXIT_FAIL;
	if (r.ap != NULL) {
		close(r.apipe[1]);
		pthread_join(atid, NULL);
		if (cdp_apply_close(r.ap) == -1 && !r.apply_failed) {
			warnx("--apply: %s", o.apply);
			r.apply_failed = 1;
		}
		if (r.apply_failed)
			status = CDP_EXIT_FAIL;
	}
	cdp_reader_close(rd);
	cdp_source_close(src);
	cdp_writer_close(r.ack);
	cdp_fold_close(r.fold);
	if (cdp_store_close(r.st) == -1)
		status = CDP_EXIT_FAIL;
	free_opts(&o);
	return status;
}
