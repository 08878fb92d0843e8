/*
 * cdp-send: replicate a journal to a store, over ssh or locally, and keep
 * at it through connection loss.
 *
 * Threads:
 *
 *   input   reads the journal and puts each record into the spool (waiting
 *           while the spool is full: back-pressure, never loss), and makes
 *           them sendable a group at a time, or as soon as the input
 *           pauses; a journal file given without --spool is its own
 *           spool: records are indexed where they are, not copied;
 *   main    connects, sends STREAM_HDR, reads RESUME, then sends records
 *           from the spool; when the connection dies it reconnects with
 *           back-off and sends again from the receiver's RESUME;
 *   acks    reads ACK records and drops what they cover from the spool;
 *   status  (a cdp_ticker) writes --status, --prom and the --progress
 *           line every second.
 *
 * The exchange is in cdp-send(1), REPLICATION PROTOCOL.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

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

#include "cdp_cli.h"
#include "cdp_compress.h"
#include "cdp_intake.h"
#include "cdp_proto.h"
#include "cdp_record.h"
#include "cdp_spool.h"
#include "cdp_status.h"
#include "cdp_time.h"
#include "cdp_uuid.h"

#define SYNOPSIS	"[-e CMD] [--recv-path PATH] [--spool DIR] " \
			"[--spool-size SIZE] [--status FILE] [--prom FILE] " \
			"[--progress] [--compress[=N]] [--sync] " \
			"[-i JOURNAL [--follow]] DEST"

#define SPOOL_SIZE	(1024ull * 1024 * 1024)	/* --spool-size default */
#define BACKOFF_MIN_MS	100
#define BACKOFF_MAX_MS	5000
#define FLUSH_BYTES	(512 * 1024)	/* put, then sendable, in groups */
#define COMPRESS_MAX	3		/* --compress: threads besides input */

struct opts {
	poptContext	 pc;
	char		*compress_arg;	/* --compress=N */
	int		 compress;	/* zlib level, 0: off */
	int		 follow;	/* --follow */
	char		*input;		/* -i, --input */
	int		 progress;	/* --progress */
	char		*prom;		/* --prom */
	char		*recv_path;	/* --recv-path */
	char		*rsh;		/* -e, --rsh */
	char		*spool;		/* --spool */
	char		*spool_size_arg; /* --spool-size */
	uint64_t	 spool_size;
	char		*status;	/* --status */
	int		 sync;		/* --sync */
	const char	*dest_arg;	/* operand */
	struct cdp_dest	 dest;
};

struct send {
	struct opts	*o;
	struct cdp_spool *sp;
	char		*tmp_spool;	/* a spool of our own, removed at exit */
	struct cdp_intake *in;		/* the input, NULL if it did not open */

	pthread_mutex_t	 mu;
	pthread_mutex_t	 put_mu;	/* the spool's end, against start_at() */
	pthread_cond_t	 cv;		/* anything below changed */
	int		 have_hdr;
	int		 spooled;	/* have_hdr from the spool, not the input */
	int		 input_hdr;	/* the input's STREAM_HDR was seen */
	struct cdp_record *hdr;		/* the stream's STREAM_HDR */
	uint8_t		*hdr_raw;	/* and as framed */
	int		 in_done;	/* the input ended */
	int		 in_failed;
	uint64_t	 put_bytes;	/* put in the spool, not flushed yet */
	uint64_t	 put_seq;	/* and the last seq among them */
	uint64_t	 acked;
	int		 conn_lost;	/* the ack reader saw the end */
	int		 goodbye;	/* clean end: receiver exited 0 */
	struct cdp_status st;
	uint64_t	 last_bytes;	/* for --progress: at the last tick */
};

static void
parse_args(struct opts *o, int argc, const char **argv)
{
	const struct poptOption table[] = {	/* sorted by long name */
		{ "compress", '\0', POPT_ARG_STRING | POPT_ARGFLAG_OPTIONAL,
		    &o->compress_arg, 'z',
		    "compress records in flight where that makes them smaller",
		    "N" },
		{ "follow", '\0', POPT_ARG_NONE, &o->follow, 0,
		    "keep reading JOURNAL as it grows", NULL },
		{ "input", 'i', POPT_ARG_STRING, &o->input, 0,
		    "read JOURNAL instead of standard input", "JOURNAL" },
		{ "progress", '\0', POPT_ARG_NONE, &o->progress, 0,
		    "show a progress line on standard error", NULL },
		{ "prom", '\0', POPT_ARG_STRING, &o->prom, 0,
		    "write Prometheus metrics to FILE every second", "FILE" },
		{ "recv-path", '\0', POPT_ARG_STRING, &o->recv_path, 0,
		    "run PATH as the receiver", "PATH" },
		{ "rsh", 'e', POPT_ARG_STRING, &o->rsh, 0,
		    "remote shell command (default ssh)", "CMD" },
		{ "spool", '\0', POPT_ARG_STRING, &o->spool, 0,
		    "keep records not yet acknowledged in DIR", "DIR" },
		{ "spool-size", '\0', POPT_ARG_STRING, &o->spool_size_arg, 0,
		    "hold at most SIZE bytes in the spool", "SIZE" },
		{ "status", '\0', POPT_ARG_STRING, &o->status, 0,
		    "write the status as JSON to FILE every second", "FILE" },
		{ "sync", '\0', POPT_ARG_NONE, &o->sync, 0,
		    "take the next record only when the last is durable", NULL },
		POPT_AUTOHELP
		POPT_TABLEEND
	};
	int rc, i, attached = 0;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strncmp(argv[i], "--compress=", 11) == 0)
			attached = 1;
	o->pc = cdp_cli_popt(argc, argv, table, SYNOPSIS);
	o->progress = -1;
	while ((rc = cdp_cli_popt_next(o->pc, SYNOPSIS)) > 0) {
		if (rc != 'z')
			continue;
		o->compress = 1;
		/*
		 * popt takes the next word as the optional level even
		 * without '='; a word that is not a level goes back.
		 */
		if (o->compress_arg != NULL && (strlen(o->compress_arg) != 1 ||
		    o->compress_arg[0] < '1' || o->compress_arg[0] > '9')) {
			const char *back[] = { o->compress_arg, NULL };

			/* popt copies the word it takes back. */
			if (!attached && poptStuffArgs(o->pc, back) == 0) {
				free(o->compress_arg);
				o->compress_arg = NULL;
			}
		}
	}
	o->dest_arg = cdp_cli_one_operand(o->pc, SYNOPSIS, "DEST");
}

static void
check_args(struct opts *o)
{
	const char *why;
	char *end;

	if (o->compress_arg != NULL) {
		long l = strtol(o->compress_arg, &end, 10);

		if (*end != '\0' || end == o->compress_arg || l < 1 || l > 9)
			cdp_cli_usage(SYNOPSIS, "--compress: not a level "
			    "from 1 to 9: %s", o->compress_arg);
		o->compress = (int)l;
	}
	o->spool_size = SPOOL_SIZE;
	if (o->spool_size_arg != NULL &&
	    cdp_cli_parse_size(o->spool_size_arg, &o->spool_size) == -1)
		cdp_cli_usage(SYNOPSIS, "--spool-size: not a size: %s",
		    o->spool_size_arg);
	if (o->follow && o->input == NULL)
		cdp_cli_usage(SYNOPSIS, "--follow needs -i JOURNAL");
	if (o->input == NULL && isatty(STDIN_FILENO))
		cdp_cli_usage(SYNOPSIS,
		    "refusing to read a journal from a terminal (use -i JOURNAL)");
	if (cdp_dest_parse(o->dest_arg, &o->dest, &why) == -1)
		cdp_cli_usage(SYNOPSIS, "%s: %s", o->dest_arg,
		    why != NULL ? why : strerror(errno));
	if (o->dest.kind == CDP_DEST_STDOUT) {
		if (o->spool || o->sync || o->status || o->prom || o->rsh ||
		    o->recv_path)
			cdp_cli_usage(SYNOPSIS, "DEST -: no receiver, so no "
			    "--spool, --sync, --status, --prom, -e or "
			    "--recv-path");
		if (cdp_cli_refuse_tty(STDOUT_FILENO, "a DEST other than -")
		    == -1)
			exit(CDP_EXIT_USAGE);
	}
	if (o->dest.kind != CDP_DEST_REMOTE && o->rsh != NULL)
		cdp_cli_usage(SYNOPSIS, "-e is for a remote DEST (host:STORE)");
	if (o->progress == -1)
		o->progress = isatty(STDERR_FILENO);
}

static struct cdp_intake *
open_input(const struct opts *o)
{
	struct cdp_intake *in;

	in = cdp_intake_open(o->input, (o->follow ? CDP_INTAKE_FOLLOW : 0) |
	    (o->sync ? CDP_INTAKE_EACH : 0), o->compress,
	    cdp_compress_threads(COMPRESS_MAX));
	if (in == NULL)
		warn("%s", o->input ? o->input : "-");
	return in;
}

/* DEST -: the journal as it is (re-compressed if asked), no receiver. */
static int
send_stdout(const struct opts *o)
{
	const struct cdp_record *rec;
	struct cdp_intake *in;
	int rc, pause;

	if ((in = open_input(o)) == NULL)
		exit(CDP_EXIT_FAIL);
	while ((rc = cdp_intake_next(in, &rec, &pause)) == 1)
		if (cdp_write_all(STDOUT_FILENO, rec->raw, rec->raw_size) == -1)
			err(CDP_EXIT_FAIL, "-");
	if (rc == -1)
		errx(CDP_EXIT_FAIL, "%s", cdp_intake_error(in));
	cdp_intake_close(in);
	return CDP_EXIT_OK;
}

/* The input thread. */

/*
 * A STREAM_HDR: the stream's first is held in the spool too; one of
 * another stream is refused.
 */
static int
take_hdr(struct send *s, const struct cdp_record *rec)
{
	char a[CDP_UUID_STRLEN], b[CDP_UUID_STRLEN];
	uint8_t held[16];

	if (s->have_hdr && (!s->spooled || s->input_hdr)) {
		if (memcmp(rec->uuid, s->hdr->uuid, 16) == 0) {
			/* A spool on a file sends it with the next section. */
			pthread_mutex_lock(&s->put_mu);
			(void)cdp_spool_put(s->sp, rec);
			pthread_mutex_unlock(&s->put_mu);
			return 0;
		}
		warnx("%s: offset %" PRIu64 ": a second stream; a store "
		    "holds one stream", s->o->input ? s->o->input : "-",
		    rec->offset);
		return -1;
	}
	if (cdp_spool_begin(s->sp, rec) == -1) {
		if (errno == EEXIST && cdp_spool_uuid(s->sp, held)) {
			cdp_uuid_format(held, a);
			cdp_uuid_format(rec->uuid, b);
			warnx("%s: holds records of stream %s not yet "
			    "acknowledged, and the input is stream %s",
			    s->o->spool, a, b);
		} else
			warnx("spool: %s", cdp_spool_error(s->sp));
		return -1;
	}
	if (s->spooled && memcmp(rec->uuid, s->hdr->uuid, 16) == 0) {
		s->input_hdr = 1;	/* the spool's stream goes on */
		return 0;
	}
	pthread_mutex_lock(&s->mu);
	*s->hdr = *rec;
	s->input_hdr = 1;
	/* Sent as it is, so a store's first segment starts like the input. */
	if ((s->hdr_raw = malloc(rec->raw_size)) == NULL)
		err(CDP_EXIT_FAIL, "malloc");
	memcpy(s->hdr_raw, rec->raw, rec->raw_size);
	s->hdr->raw = s->hdr_raw;
	memcpy(s->st.uuid, rec->uuid, 16);
	s->st.have_uuid = s->have_hdr = 1;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	return 0;
}

/*
 * Make what was put in the spool sendable, and wake the sender: once per
 * group of records, but at once when the input pauses or the input
 * thread is about to wait, so that nothing taken waits for more to come.
 */
static int
flush_put(struct send *s)
{
	int rc;

	pthread_mutex_lock(&s->put_mu);
	rc = cdp_spool_flush(s->sp);
	pthread_mutex_unlock(&s->put_mu);
	if (rc == -1) {
		warnx("%s: %s", s->o->spool ? s->o->spool : "spool",
		    cdp_spool_error(s->sp));
		return -1;
	}
	pthread_mutex_lock(&s->mu);
	if (s->put_seq != 0)
		s->st.seq_read = s->put_seq;
	s->st.bytes_read += s->put_bytes;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	s->put_bytes = s->put_seq = 0;
	return 0;
}

/* Put rec in the spool, waiting for room. */
static int
spool_record(struct send *s, const struct cdp_record *rec)
{
	uint64_t acked;
	int rc;

	/*
	 * Under put_mu, as start_at() looks at the spool: else a record it
	 * skips could slip in after it looked.  Not while waiting for room,
	 * which only acknowledgements make.
	 */
	for (;;) {
		pthread_mutex_lock(&s->mu);
		acked = s->acked;
		pthread_mutex_unlock(&s->mu);
		pthread_mutex_lock(&s->put_mu);
		rc = cdp_spool_put(s->sp, rec);
		pthread_mutex_unlock(&s->put_mu);
		if (rc != -1 || errno != EAGAIN)
			break;
		if (flush_put(s) == -1)
			return -1;
		pthread_mutex_lock(&s->mu);
		s->st.waiting = 1;
		while (s->acked == acked)
			pthread_cond_wait(&s->cv, &s->mu);
		s->st.waiting = 0;
		pthread_mutex_unlock(&s->mu);
	}
	if (rc == -1) {
		warnx("%s: %s", s->o->spool ? s->o->spool : "spool",
		    cdp_spool_error(s->sp));
		return -1;
	}
	if (rc == 1)
		return 0;	/* the spool or the receiver has it */
	if (rec->seq != 0)
		s->put_seq = rec->seq;
	s->put_bytes += rec->raw_size;
	return s->put_bytes >= FLUSH_BYTES ? flush_put(s) : 0;
}

static int
take_record(struct send *s, const struct cdp_record *rec, int pause)
{
	if ((rec->type == CDP_T_STREAM_HDR ? take_hdr(s, rec) :
	    spool_record(s, rec)) == -1 || (pause && flush_put(s) == -1))
		return -1;
	if (!s->o->sync)
		return 0;
	/* --sync: the next record only once this one is durable. */
	pthread_mutex_lock(&s->mu);
	while (s->acked < rec->seq)
		pthread_cond_wait(&s->cv, &s->mu);
	pthread_mutex_unlock(&s->mu);
	return 0;
}

static void *
input_thread(void *arg)
{
	const struct cdp_record *rec;
	struct send *s = arg;
	struct cdp_intake *in = s->in;
	int rc, pause, failed = 1;

	if (in == NULL)
		goto done;
	while ((rc = cdp_intake_next(in, &rec, &pause)) == 1)
		if (take_record(s, rec, pause) == -1)
			goto done;
	if (rc == -1) {
		warnx("%s", cdp_intake_error(in));
		goto done;
	}
	failed = 0;
done:
	/* Whatever was taken goes out, even after a bad record. */
	if (flush_put(s) == -1)
		failed = 1;
	cdp_intake_close(in);
	pthread_mutex_lock(&s->mu);
	s->in_done = 1;
	s->in_failed = failed;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* The acknowledgement thread. */

struct conn {
	struct cdp_conn	*c;
	pthread_t	 tid;
};

static void
observe(void *arg, const struct cdp_spool_rec *e, int64_t now)
{
	struct send *s = arg;
	int64_t d = now - e->time_ns;

	cdp_status_observe(&s->st, d);
	s->st.lag_ms = d / 1000000;
}

static void *
ack_thread(void *arg)
{
	struct send *s = ((void **)arg)[0];
	struct conn *c = ((void **)arg)[1];
	uint64_t seq;

	while (cdp_conn_ack(c->c, &seq) == 1) {
		pthread_mutex_lock(&s->mu);
		if (seq > s->acked) {
			if (cdp_spool_ack(s->sp, seq, observe, s) == -1)
				warnx("spool: %s", cdp_spool_error(s->sp));
			s->acked = s->st.seq_acked = seq;
			pthread_cond_broadcast(&s->cv);
		}
		pthread_mutex_unlock(&s->mu);
	}
	pthread_mutex_lock(&s->mu);
	s->conn_lost = 1;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* Connections. */

/* Connect and read RESUME.  Returns 0 with *next_seq, or -1 (reported). */
static int
connect_recv(struct send *s, struct conn *c, uint64_t *next_seq)
{
	char **argv = cdp_proto_dest_argv(&s->o->dest, s->o->rsh,
	    s->o->recv_path), why[512];

	if (argv == NULL) {
		warn("connect");
		return -1;
	}
	c->c = cdp_conn_open(argv, s->o->dest.kind == CDP_DEST_REMOTE ?
	    argv[0] : "cdp-recv", s->hdr->raw, s->hdr->raw_size, s->hdr->uuid,
	    next_seq, why, sizeof(why));
	cdp_argv_free(argv);
	if (c->c == NULL) {
		warnx("%s", why);
		return -1;
	}
	return 0;
}

static void
set_connected(struct send *s, int up)
{
	pthread_mutex_lock(&s->mu);
	s->st.connected = up;
	s->st.since_ns = cdp_time_now();
	if (up)
		s->st.connects++;
	pthread_mutex_unlock(&s->mu);
}

/*
 * Where to start sending for a receiver that wants next_seq.  Returns 0
 * and *pos, or -1 when the receiver lacks records that it acknowledged.
 */
static int
start_at(struct send *s, uint64_t next_seq, uint64_t *pos)
{
	uint64_t have;
	int rc = 0;

	pthread_mutex_lock(&s->put_mu);
	/* Every record put is in the index that decides where to start. */
	if (cdp_spool_flush(s->sp) == -1) {
		pthread_mutex_unlock(&s->put_mu);
		warnx("%s: %s", s->o->spool ? s->o->spool : "spool",
		    cdp_spool_error(s->sp));
		return -1;
	}
	have = cdp_spool_next_seq(s->sp);
	/*
	 * The receiver is ahead: it has what we have not read yet, so the
	 * spool skips to there (and drops what it holds, all acknowledged).
	 */
	if (next_seq > have && cdp_spool_skip_to(s->sp, next_seq) == -1) {
		pthread_mutex_unlock(&s->put_mu);
		warnx("spool: %s", cdp_spool_error(s->sp));
		return -1;
	}
	pthread_mutex_lock(&s->mu);
	if (next_seq - 1 > s->acked) {
		cdp_spool_ack(s->sp, next_seq - 1, NULL, NULL);
		s->acked = s->st.seq_acked = next_seq - 1;
	}
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	if (next_seq > have)
		*pos = cdp_spool_end(s->sp);
	else if (cdp_spool_find(s->sp, next_seq, pos) == -1) {
		warnx("%s: the receiver wants seq %" PRIu64 ", but seq %"
		    PRIu64 " was acknowledged already: the store lost "
		    "records", s->o->dest_arg, next_seq, cdp_spool_acked(s->sp));
		rc = -1;
	}
	pthread_mutex_unlock(&s->put_mu);
	return rc;
}

/* Called for each group of records as it goes out. */
static void
sent(void *arg, uint64_t seq, uint64_t bytes)
{
	struct send *s = arg;

	pthread_mutex_lock(&s->mu);
	if (seq != 0)
		s->st.seq_sent = seq;
	s->st.bytes_sent += bytes;
	pthread_mutex_unlock(&s->mu);
}

/*
 * Send from pos until the input is done and everything went out, or the
 * connection dies.  Returns 1 if everything was sent, 0 if not.
 */
static int
pump(struct send *s, struct conn *c, uint64_t pos)
{
	int ok = 0;

	for (;;) {
		if (cdp_spool_send(s->sp, cdp_conn_fd(c->c), &pos, sent,
		    s) == -1) {
			/* Sending it again would not help. */
			if (errno == ESTALE)
				errx(CDP_EXIT_FAIL, "%s",
				    cdp_spool_error(s->sp));
			if (errno != EPIPE && errno != ECONNRESET)
				warn("spool");
			break;
		}
		pthread_mutex_lock(&s->mu);
		while (!s->conn_lost && pos >= cdp_spool_end(s->sp) &&
		    !s->in_done)
			pthread_cond_wait(&s->cv, &s->mu);
		if (s->conn_lost || (s->in_done &&
		    pos >= cdp_spool_end(s->sp))) {
			ok = !s->conn_lost;
			pthread_mutex_unlock(&s->mu);
			break;
		}
		pthread_mutex_unlock(&s->mu);
	}
	return ok;
}

/* One connection, from connect to reap.  Returns 1 when all is done. */
static int
session(struct send *s, int *ever)
{
	struct conn c = { 0 };
	void *args[2] = { s, &c };
	uint64_t next, pos;
	int sent, status, e;
	char why[512];

	if (connect_recv(s, &c, &next) == -1)
		return -1;
	if (*ever)
		warnx("%s: connected again, sending from seq %" PRIu64,
		    s->o->dest_arg, next);
	*ever = 1;
	if (start_at(s, next, &pos) == -1)
		exit(CDP_EXIT_FAIL);
	set_connected(s, 1);
	pthread_mutex_lock(&s->mu);
	s->conn_lost = 0;
	pthread_mutex_unlock(&s->mu);
	if ((e = pthread_create(&c.tid, NULL, ack_thread, args)) != 0)
		errx(CDP_EXIT_FAIL, "pthread_create: %s", strerror(e));
	sent = pump(s, &c, pos);
	/* All sent: say goodbye and let the receiver make it durable. */
	shutdown(cdp_conn_fd(c.c), sent ? SHUT_WR : SHUT_RDWR);
	pthread_join(c.tid, NULL);
	status = cdp_conn_close(c.c, sent ? SHUT_WR : SHUT_RDWR, why,
	    sizeof(why));
	if (why[0] != '\0')
		warnx("%s", why);
	set_connected(s, 0);
	if (sent && status == 0 &&
	    s->acked + 1 >= cdp_spool_next_seq(s->sp))
		return 1;
	warnx("%s: connection lost at seq %" PRIu64 " acknowledged",
	    s->o->dest_arg, s->acked);
	return 0;
}

/* The status thread. */

static void
progress_line(const struct cdp_status *st, uint64_t *last_bytes)
{
	double rate = (double)(st->bytes_sent - *last_bytes) / (1024 * 1024);

	*last_bytes = st->bytes_sent;
	fprintf(stderr, "\rcdp-send: %s %.1f MiB/s, acked seq %" PRIu64
	    ", lag %" PRId64 " ms, rpo %" PRId64 " ms%s\033[K",
	    st->connected ? "connected" : "disconnected", rate, st->seq_acked,
	    st->lag_ms > 0 ? st->lag_ms : 0, st->rpo_ms,
	    st->waiting ? ", spool full" : "");
}

static void
write_status(void *arg)
{
	struct send *s = arg;
	struct cdp_status copy;
	struct cdp_spool_rec info;
	uint64_t pos;

	pthread_mutex_lock(&s->mu);
	s->st.spool_bytes = cdp_spool_bytes(s->sp);
	s->st.rpo_ms = 0;
	if (s->st.seq_read > s->acked &&
	    cdp_spool_find(s->sp, s->acked + 1, &pos) == 0 &&
	    cdp_spool_read(s->sp, pos, NULL, NULL, &info) == 1)
		s->st.rpo_ms = (cdp_time_now() - info.time_ns) / 1000000;
	copy = s->st;
	pthread_mutex_unlock(&s->mu);
	if (s->o->status && cdp_status_write_json(s->o->status, &copy) == -1)
		warn("%s", s->o->status);
	if (s->o->prom && cdp_status_write_prom(s->o->prom, &copy) == -1)
		warn("%s", s->o->prom);
	if (s->o->progress)
		progress_line(&copy, &s->last_bytes);
}

/*
 * The spool: --spool DIR; or a journal file itself, whose records need no
 * copy to be sent again (a restarted cdp-send reads it again, just as it
 * would start with an empty temporary spool); or a temporary directory.
 */
static void
open_spool(struct send *s)
{
	const char *dir = s->o->spool, *why;
	int fd;

	if (dir == NULL && s->in != NULL &&
	    (fd = cdp_intake_file(s->in)) != -1)
		s->sp = cdp_spool_open_file(fd, s->o->input,
		    s->o->spool_size, &why);
	else if (dir == NULL)
		s->sp = cdp_spool_open_tmp(s->o->spool_size, &s->tmp_spool,
		    &why);
	else
		s->sp = cdp_spool_open(dir, s->o->spool_size, &why);
	if (s->sp == NULL) {
		if (errno == EWOULDBLOCK)
			errx(CDP_EXIT_FAIL, "%s: in use by another cdp-send",
			    dir);
		errx(CDP_EXIT_FAIL, "%s", why);
	}
}

/*
 * A spool left by an earlier cdp-send holds a stream: deliver what it
 * holds even if the input has nothing more (or nothing at all).
 */
static void
spooled_stream(struct send *s)
{
	const uint8_t *raw;
	size_t len;

	if (!cdp_spool_uuid(s->sp, s->hdr->uuid) ||
	    cdp_spool_next_seq(s->sp) - 1 <= cdp_spool_acked(s->sp) ||
	    (raw = cdp_spool_header(s->sp, &len)) == NULL)
		return;
	if ((s->hdr_raw = malloc(len)) == NULL)
		err(CDP_EXIT_FAIL, "malloc");
	memcpy(s->hdr_raw, raw, len);
	s->hdr->raw = s->hdr_raw;
	s->hdr->raw_size = len;
	memcpy(s->st.uuid, s->hdr->uuid, 16);
	s->st.have_uuid = s->have_hdr = 1;
	s->spooled = 1;
}

static int
replicate(struct opts *o)
{
	struct send s = { 0 };
	struct cdp_ticker *tick;
	pthread_t in_tid;
	int backoff = BACKOFF_MIN_MS, ever = 0, r, e, status;

	s.o = o;
	s.st.lag_ms = -1;
	s.st.since_ns = cdp_time_now();
	pthread_mutex_init(&s.mu, NULL);
	pthread_mutex_init(&s.put_mu, NULL);
	pthread_cond_init(&s.cv, NULL);
	if ((s.hdr = calloc(1, sizeof(*s.hdr))) == NULL)
		err(CDP_EXIT_FAIL, "malloc");
	/* A spool given is checked first; without one, the input decides. */
	if (o->spool == NULL)
		s.in = open_input(o);
	open_spool(&s);
	if (o->spool != NULL)
		s.in = open_input(o);
	s.acked = s.st.seq_acked = cdp_spool_acked(s.sp);
	spooled_stream(&s);

	if ((e = pthread_create(&in_tid, NULL, input_thread, &s)) != 0)
		errx(CDP_EXIT_FAIL, "pthread_create: %s", strerror(e));
	if ((tick = cdp_ticker_start(write_status, &s, 1000)) == NULL)
		err(CDP_EXIT_FAIL, "pthread_create");

	/* Nothing can be sent before the stream's header is known. */
	pthread_mutex_lock(&s.mu);
	while (!s.have_hdr && !s.in_done)
		pthread_cond_wait(&s.cv, &s.mu);
	pthread_mutex_unlock(&s.mu);

	for (r = s.have_hdr ? 0 : 1; r != 1;) {
		uint64_t before = s.acked;
		int64_t began = cdp_time_now();

		r = session(&s, &ever);
		if (r == 1 || (r == -1 && !ever))
			break;
		/*
		 * Start over quickly after a connection that did good or
		 * lasted; one that keeps failing at once backs off.
		 */
		if (r == 0 && (s.acked > before ||
		    cdp_time_now() - began > 2000000000LL))
			backoff = BACKOFF_MIN_MS;
		cdp_sleep_ms(backoff);
		backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS :
		    backoff * 2;
	}
	status = r == 1 ? CDP_EXIT_OK : CDP_EXIT_FAIL;
	if (r == 1)
		pthread_join(in_tid, NULL);
	if (s.in_failed)
		status = CDP_EXIT_FAIL;
	cdp_ticker_stop(tick);
	if (o->progress)
		fputc('\n', stderr);
	/*
	 * After a failure the input thread may still be running (blocked
	 * on its input or on a full spool) and using s, *s.hdr and *o, all
	 * of which returning would free or pop: end the process here.
	 */
	if (r != 1) {
		pthread_detach(in_tid);
		if (s.tmp_spool != NULL)
			cdp_spool_remove_tmp(s.tmp_spool);
		exit(status);
	}
	cdp_spool_close(s.sp);
	if (s.tmp_spool != NULL)
		cdp_spool_remove_tmp(s.tmp_spool);
	free(s.tmp_spool);
	free(s.hdr_raw);
	free(s.hdr);
	return status;
}

/* What popt allocated for the string options (theirs to free: ours). */
static void
free_opts(struct opts *o)
{
	free(o->compress_arg);
	free(o->input);
	free(o->prom);
	free(o->recv_path);
	free(o->rsh);
	free(o->spool);
	free(o->spool_size_arg);
	free(o->status);
	poptFreeContext(o->pc);
}

int
main(int argc, const char **argv)
{
	struct opts o = { 0 };
	int status;

	parse_args(&o, argc, argv);
	check_args(&o);
	signal(SIGPIPE, SIG_IGN);
	if (o.dest.kind == CDP_DEST_STDOUT)
		status = send_stdout(&o);
	else
		status = replicate(&o);
	cdp_dest_free(&o.dest);
	free_opts(&o);
	return status;
}
