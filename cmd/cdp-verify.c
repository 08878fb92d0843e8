/*
 * cdp-verify: prove that journals are intact, restorable and current.
 *
 * Like cmp(1): 0 all good, 1 something bad was found, 2 something could not
 * be checked; trouble outranks bad.  The integrity check is a read with
 * the validating reader, resynchronising after each problem so that one run
 * lists them all.  --tree builds the journal's state in memory during that
 * same read (struct build) while a thread hashes DIR's files
 * (cdp_treehash.h), then compares DIR with the model (cdp_model.h); where
 * the stop was not known in time, it reads the journal again to build the
 * model, and where the model cannot tell, it replays the journal into a
 * private directory and compares that with DIR (cdp_tree_compare()).
 * --max-lag compares the newest record's time with the clock.
 */
#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <popt.h>

#include "cdp_apply.h"
#include "cdp_cli.h"
#include "cdp_model.h"
#include "cdp_reader.h"
#include "cdp_record.h"
#include "cdp_source.h"
#include "cdp_time.h"
#include "cdp_tree.h"
#include "cdp_treehash.h"
#include "cdp_uuid.h"

#define SYNOPSIS	"[-q] [--json] [--max-lag SECONDS] [--s3-endpoint URL] " \
	"[--tree DIR [--at MARK | --at-seq N]] [JOURNAL ...]"

#define MAX_UUIDS	256

/* WRITE data --tree may hold in memory (see cdp_model_new()). */
#define MODEL_MEM_MAX	((size_t)256 << 20)

/* The statuses of cmp(1). */
enum { V_GOOD, V_BAD, V_TROUBLE };

struct opts {
	poptContext	 pc;
	char		*at;		/* --at */
	char		*at_seq;	/* --at-seq */
	int		 json;		/* --json */
	long long	 max_lag;	/* --max-lag, -1: none */
	int		 quiet;		/* -q, --quiet */
	char		*tree;		/* --tree */
	const char	**inputs;	/* operands, { "-" } if none */

	uint64_t	 stop_seq;	/* --at-seq N */
	char		 mark[CDP_MARK_MAX + 1];
	uint64_t	 mark_nth;	/* MARK@N: N, 0: the last */
	char		 spool[4096];	/* standard input, for --tree */
	int		 status;	/* worst V_* */
	int		 first_json;

	struct cdp_treehash *th;	/* --tree: DIR hashed meanwhile */
	struct build	*b;		/* --tree: the model, built in pass */
};

/*
 * --tree builds the model while the integrity check reads the journal,
 * so that the journal is read once.  That needs the stop before the
 * records come: the end, --at-seq N, --at NAME@N are known; for --at NAME
 * (the last mark of that name) the first one is taken, and the stop moves
 * on to each later one as long as nothing changed the tree in between.
 * Otherwise the journal is read again as before (verify_tree()).
 */
enum build_state {
	B_FEEDING,	/* records go into the model */
	B_STOPPED,	/* reached the stop */
	B_JOURNAL_BAD,	/* a problem came before the stop: no comparison */
	B_GAVE_UP,	/* the model cannot tell: replay a copy instead */
	B_STALE		/* --at NAME: a later NAME, after a change */
};

struct build {
	struct cdp_model *model;
	enum build_state state;
	int		 changed;	/* --at NAME: since the stop taken */
	uint64_t	 last;		/* the last seq applied */
};

/* What one pass over one input found. */
struct summary {
	uint8_t		 uuids[MAX_UUIDS][16];
	size_t		 nuuids;
	uint64_t	 records, numbered, marks, bytes, problems;
	uint64_t	 seq_min, seq_max;
	int64_t		 time_min, time_max;
	int		 open;		/* the last stream has no STREAM_END */
	uint64_t	 mark_ordinal;	/* --at: the record that is the mark */
	uint64_t	 mark_count;
};

static void
parse_args(struct opts *o, int argc, const char **argv)
{
	const struct poptOption table[] = {	/* sorted by long name */
		{ "at", '\0', POPT_ARG_STRING, &o->at, 0,
		    "compare the tree as of MARK (MARK@N: the N-th)", "MARK" },
		{ "at-seq", '\0', POPT_ARG_STRING, &o->at_seq, 0,
		    "compare the tree as of record seq N", "N" },
		{ "json", '\0', POPT_ARG_NONE, &o->json, 0,
		    "print the report as JSON", NULL },
		{ "max-lag", '\0', POPT_ARG_LONGLONG, &o->max_lag, 0,
		    "fail if the newest record is older", "SECONDS" },
		{ "quiet", 'q', POPT_ARG_NONE, &o->quiet, 0,
		    "print nothing; exit status only", NULL },
		CDP_CLI_S3_ENDPOINT_OPTION,
		{ "tree", '\0', POPT_ARG_STRING, &o->tree, 0,
		    "compare DIR with the journal", "DIR" },
		POPT_AUTOHELP
		POPT_TABLEEND
	};

	o->pc = cdp_cli_popt(argc, argv, table, SYNOPSIS);
	while (cdp_cli_popt_next(o->pc, SYNOPSIS) > 0)
		;
	o->inputs = cdp_cli_operands(o->pc);
}

static void
check_args(struct opts *o)
{
	const char **in;

	if ((o->at != NULL || o->at_seq != NULL) && o->tree == NULL)
		cdp_cli_usage(SYNOPSIS, "%s needs --tree",
		    o->at != NULL ? "--at" : "--at-seq");
	if (o->at != NULL && o->at_seq != NULL)
		cdp_cli_usage(SYNOPSIS, "--at conflicts with --at-seq");
	if (o->max_lag < -1)
		cdp_cli_usage(SYNOPSIS, "--max-lag: not a number of seconds");
	if (o->at_seq != NULL &&
	    cdp_cli_parse_seq(o->at_seq, &o->stop_seq) == -1)
		cdp_cli_usage(SYNOPSIS, "--at-seq: not a seq (1 or more): %s",
		    o->at_seq);
	if (o->at != NULL && cdp_cli_parse_mark(o->at, o->mark,
	    sizeof(o->mark), &o->mark_nth) == -1)
		cdp_cli_usage(SYNOPSIS, "--at: not MARK or MARK@N (N from 1): "
		    "%s", o->at);
	for (in = o->inputs; *in != NULL; in++)
		if (strcmp(*in, "-") == 0 && isatty(STDIN_FILENO))
			cdp_cli_usage(SYNOPSIS,
			    "-: refusing to read a journal from a terminal");
}

static void __attribute__((format(printf, 3, 4)))
say(struct opts *o, int status, const char *fmt, ...)
{
	va_list ap;

	if (status > o->status)
		o->status = status;
	if (o->quiet || o->json)
		return;
	va_start(ap, fmt);
	vwarnx(fmt, ap);
	va_end(ap);
}

/* Integrity. */

static void
count(struct summary *s, const struct cdp_record *r, uint64_t ordinal,
    const struct opts *o)
{
	size_t i;

	s->records++;
	if (r->time_ns < s->time_min || s->records == 1)
		s->time_min = r->time_ns;
	if (r->time_ns > s->time_max || s->records == 1)
		s->time_max = r->time_ns;
	switch (r->type) {
	case CDP_T_STREAM_HDR:
		s->open = 1;
		for (i = 0; i < s->nuuids; i++)
			if (memcmp(s->uuids[i], r->uuid, 16) == 0)
				return;
		if (s->nuuids < MAX_UUIDS)
			memcpy(s->uuids[s->nuuids++], r->uuid, 16);
		return;
	case CDP_T_STREAM_END:
		s->open = 0;
		return;
	case CDP_T_MARK:
		s->marks++;
		if (o->tree != NULL && o->at != NULL &&
		    strcmp(r->name, o->mark) == 0 &&
		    (o->mark_nth == 0 || s->mark_count < o->mark_nth)) {
			s->mark_count++;
			s->mark_ordinal = ordinal;
		}
		break;
	}
	if (r->seq != 0) {
		s->numbered++;
		if (r->seq < s->seq_min || s->seq_min == 0)
			s->seq_min = r->seq;
		if (r->seq > s->seq_max)
			s->seq_max = r->seq;
	}
}

static void
json_problem(struct opts *o, const char *msg, uint64_t off)
{
	printf("%s{\"offset\":%" PRIu64 ",\"message\":",
	    o->first_json ? "" : ",", off);
	cdp_cli_json_str(stdout, msg, strlen(msg));
	putchar('}');
	o->first_json = 0;
}

/*
 * Give record rec (the ordinal-th, just counted into s) to the model being
 * built, as expected() would have: stopping after the stop, at the first
 * problem, or when the model gives up.
 */
static void
feed(struct opts *o, struct build *b, const struct cdp_record *rec,
    const struct summary *s, uint64_t marks_before)
{
	int at_mark = s->mark_count > marks_before &&
	    (o->mark_nth == 0 || s->mark_count == o->mark_nth);

	if (b->state == B_STOPPED && o->at != NULL && o->mark_nth == 0) {
		/* A later NAME moves the stop if nothing changed since. */
		if (at_mark && b->changed)
			b->state = B_STALE;
		else if (rec->seq != 0 &&
		    cdp_record_type_changes_tree(rec->type))
			b->changed = 1;
		return;
	}
	if (b->state != B_FEEDING)
		return;
	if (o->stop_seq != 0 && rec->seq > o->stop_seq) {
		b->state = B_STOPPED;
		return;
	}
	if (cdp_model_record(b->model, rec) == -1) {
		b->state = B_GAVE_UP;
		return;
	}
	if (rec->seq != 0)
		b->last = rec->seq;
	if ((o->at != NULL && at_mark) ||
	    (o->stop_seq != 0 && rec->seq == o->stop_seq))
		b->state = B_STOPPED;
}

/*
 * Read one input to its end, listing every problem.  Returns V_TROUBLE if
 * it could not be read at all.
 */
static int
integrity(struct opts *o, const char *name, const char *path,
    struct summary *s)
{
	struct cdp_cli_progress pg;
	struct cdp_record *rec;
	struct cdp_source *src;
	struct cdp_reader *r;
	uint64_t last_err = UINT64_MAX;
	int rc, status = V_GOOD;

	if ((src = cdp_source_open(path)) == NULL) {
		say(o, V_TROUBLE, "%s: %s", name, cdp_source_strerror(errno));
		return V_TROUBLE;
	}
	if ((r = cdp_reader_open(src, 0)) == NULL ||
	    (rec = malloc(sizeof(*rec))) == NULL) {
		say(o, V_TROUBLE, "%s: %s", name, strerror(errno));
		cdp_reader_close(r);
		cdp_source_close(src);
		return V_TROUBLE;
	}
	if (o->json) {
		printf("{\"journal\":");
		cdp_cli_json_str(stdout, name, strlen(name));
		printf(",\"problems\":[");
		o->first_json = 1;
	}
	cdp_cli_progress_start(&pg, o->quiet ? -1 : cdp_source_size(src));
	pg.on = pg.on && !o->quiet;
	if (o->b != NULL && o->b->state == B_FEEDING &&
	    cdp_model_input(o->b->model, src, path) == -1) {
		say(o, V_TROUBLE, "%s: %s", name, strerror(errno));
		status = V_TROUBLE;
	}
	while (status != V_TROUBLE && (rc = cdp_reader_next(r, rec)) != 0) {
		if (rc == 1) {
			uint64_t marks = s->mark_count;

			count(s, rec, s->records + 1, o);
			if (o->b != NULL)
				feed(o, o->b, rec, s, marks);
			cdp_cli_progress(&pg, s->records, cdp_reader_offset(r));
			continue;
		}
		if (o->b != NULL && o->b->state == B_FEEDING)
			o->b->state = B_JOURNAL_BAD;
		else if (o->b != NULL)
			o->b->changed = 1;	/* unknown: a later NAME is stale */
		s->problems++;
		if (o->json)
			json_problem(o, cdp_reader_error(r),
			    cdp_reader_error_offset(r));
		if (cdp_reader_errcode(r) == CDP_RE_IO) {
			say(o, V_TROUBLE, "%s: %s", name, cdp_reader_error(r));
			status = V_TROUBLE;
			break;
		}
		say(o, V_BAD, "%s: %s", name, cdp_reader_error(r));
		status = V_BAD;
		if (cdp_reader_offset(r) == last_err ||
		    cdp_reader_resync(r) == -1)
			break;
		last_err = cdp_reader_offset(r);
	}
	cdp_cli_progress_end(&pg);
	s->bytes = cdp_reader_offset(r);
	free(rec);
	cdp_reader_close(r);
	cdp_source_close(src);
	return status;
}

static void
print_summary(struct opts *o, const char *name, const struct summary *s)
{
	char t0[CDP_TIME_STRLEN] = "-", t1[CDP_TIME_STRLEN] = "-";

	if (s->records > 0) {
		cdp_time_format(s->time_min, t0, sizeof(t0));
		cdp_time_format(s->time_max, t1, sizeof(t1));
	}
	if (o->json) {
		printf("],\"ok\":%s,\"streams\":%zu,\"open\":%s,"
		    "\"records\":%" PRIu64 ",\"first_seq\":%" PRIu64
		    ",\"last_seq\":%" PRIu64 ",\"first_time\":\"%s\","
		    "\"last_time\":\"%s\",\"marks\":%" PRIu64
		    ",\"bytes\":%" PRIu64, s->problems == 0 ? "true" : "false",
		    s->nuuids, s->open ? "true" : "false", s->records,
		    s->seq_min, s->seq_max, t0, t1, s->marks, s->bytes);
		return;		/* closed by the caller */
	}
	if (o->quiet)
		return;
	cdp_cli_text_str(stdout, name, strlen(name), 0);
	printf(": %s: streams %zu%s, records %" PRIu64 ", seq %" PRIu64
	    "-%" PRIu64 ", time %s to %s, marks %" PRIu64 ", bytes %" PRIu64
	    "\n", s->problems == 0 ? "intact" : "DAMAGED", s->nuuids,
	    s->open ? " (open)" : "", s->records, s->seq_min, s->seq_max,
	    t0, t1, s->marks, s->bytes);
}

/* --max-lag */

static void
check_lag(struct opts *o, const char *name, const struct summary *s)
{
	int64_t now = cdp_time_now(), lag_ns;
	char t[CDP_TIME_STRLEN];

	if (o->max_lag < 0)
		return;
	if (s->records == 0) {
		if (o->json)
			printf(",\"lag_ok\":false");
		say(o, V_BAD, "%s: no records: lag unknown", name);
		return;
	}
	lag_ns = now - s->time_max;
	if (o->json)
		printf(",\"lag_seconds\":%.3f,\"lag_ok\":%s",
		    (double)lag_ns / 1e9,
		    lag_ns <= o->max_lag * 1000000000LL ? "true" : "false");
	if (lag_ns > o->max_lag * 1000000000LL) {
		cdp_time_format(s->time_max, t, sizeof(t));
		say(o, V_BAD, "%s: newest record %s is %.0f s old, over "
		    "--max-lag %lld", name, t, (double)lag_ns / 1e9,
		    o->max_lag);
	}
}

/* --tree */

struct diffs {
	struct opts	*o;
	const char	*tree;
	uint64_t	 n;
};

static void
print_diff(void *ctx, const char *path, enum cdp_tree_diff kind,
    const char *a, const char *b)
{
	static const char *what[] = { NULL, NULL, "type", "mode", "size",
	    NULL, "symlink target", "hard link" };
	struct diffs *d = ctx;

	d->n++;
	if (d->o->quiet)
		return;
	if (d->o->json) {
		printf("%s{\"path\":", d->n == 1 ? "" : ",");
		cdp_cli_json_str(stdout, path, strlen(path));
		printf(",\"kind\":\"%s\"", kind == CDP_TREE_ONLY_A ?
		    "only_journal" : kind == CDP_TREE_ONLY_B ? "only_tree" :
		    kind == CDP_TREE_CONTENT ? "content" : what[kind]);
		if (a != NULL) {
			printf(",\"journal\":");
			cdp_cli_json_str(stdout, a, strlen(a));
			printf(",\"tree\":");
			cdp_cli_json_str(stdout, b, strlen(b));
		}
		putchar('}');
		return;
	}
	cdp_cli_text_str(stdout, path, strlen(path), 0);
	switch (kind) {
	case CDP_TREE_ONLY_A:
		puts(": only in the journal");
		break;
	case CDP_TREE_ONLY_B:
		puts(": only in the tree");
		break;
	case CDP_TREE_CONTENT:
		puts(": contents differ");
		break;
	default:
		printf(": %s: ", what[kind]);
		cdp_cli_text_str(stdout, a, strlen(a), 0);
		fputs(" in the journal, ", stdout);
		cdp_cli_text_str(stdout, b, strlen(b), 0);
		puts(" in the tree");
	}
}

/*
 * Where --tree sends the records up to the stop: into the model, or
 * through the apply engine into a private copy.
 */
struct sink {
	struct cdp_model *model;
	struct cdp_apply *ap;
};

#define V_GAVE_UP	(-1)	/* the model cannot tell: replay a copy */

/* Feed the inputs to sink up to the stop; V_* or V_GAVE_UP. */
static int
expected(struct opts *o, struct sink *k, uint64_t stop_ordinal)
{
	struct cdp_record *rec;
	const char **in;
	uint64_t ordinal = 0, last = 0;
	int status = V_GOOD, done = 0, rc;

	if ((rec = malloc(sizeof(*rec))) == NULL) {
		say(o, V_TROUBLE, "malloc: %s", strerror(errno));
		return V_TROUBLE;
	}
	for (in = o->inputs; *in != NULL && !done; in++) {
		const char *path = strcmp(*in, "-") == 0 ? o->spool : *in;
		struct cdp_source *src = cdp_source_open(path);
		struct cdp_reader *r = src ? cdp_reader_open(src, 0) : NULL;

		if (r == NULL || (k->model != NULL &&
		    cdp_model_input(k->model, src, path) == -1)) {
			say(o, V_TROUBLE, "%s: %s", *in, cdp_source_strerror(errno));
			cdp_reader_close(r);
			cdp_source_close(src);
			status = V_TROUBLE;
			break;
		}
		if (k->ap != NULL)
			cdp_apply_set_source(k->ap, src);
		while (!done && (rc = cdp_reader_next(r, rec)) != 0) {
			if (rc == -1) {
				/* Already reported by the integrity pass. */
				status = V_BAD;
				done = 1;
				break;
			}
			ordinal++;
			if (o->stop_seq != 0 && rec->seq > o->stop_seq) {
				done = 1;
				break;
			}
			if (k->model != NULL &&
			    cdp_model_record(k->model, rec) == -1) {
				status = V_GAVE_UP;
				done = 1;
				break;
			}
			if (k->ap != NULL &&
			    cdp_apply_record(k->ap, rec) == -1) {
				say(o, V_BAD, "%s: %s", *in,
				    cdp_apply_error(k->ap));
				status = V_BAD;
				done = 1;
				break;
			}
			if (rec->seq != 0)
				last = rec->seq;
			if ((stop_ordinal != 0 && ordinal == stop_ordinal) ||
			    (o->stop_seq != 0 && rec->seq == o->stop_seq))
				done = 1;
		}
		if (k->ap != NULL)
			cdp_apply_set_source(k->ap, NULL);
		cdp_reader_close(r);
		cdp_source_close(src);
	}
	if (status == V_GOOD && o->stop_seq != 0 && last != o->stop_seq) {
		say(o, V_BAD, "--at-seq %" PRIu64 ": not in the journal "
		    "(it ends at seq %" PRIu64 ")", o->stop_seq, last);
		status = V_BAD;
	}
	free(rec);
	return status;
}

/* Compare DIR with the model (tmp NULL) or the copy in tmp. */
static void
compare(struct opts *o, struct cdp_model *m, const char *tmp)
{
	struct diffs d = { o, o->tree, 0 };
	char where[4200];
	int rc, e;

	if (o->json) {
		printf("{\"tree\":");
		cdp_cli_json_str(stdout, o->tree, strlen(o->tree));
		printf(",\"differences\":[");
	}
	if (m != NULL)
		rc = cdp_model_compare(m, o->tree, print_diff, &d, where,
		    sizeof(where));
	else
		rc = cdp_tree_compare(tmp, o->tree, print_diff, &d, where,
		    sizeof(where));
	e = errno;
	if (o->json)
		printf("],\"same\":%s}\n", rc == 0 ? "true" : "false");
	if (rc == -1)
		say(o, V_TROUBLE, "%s: %s", tmp != NULL && strncmp(where, tmp,
		    strlen(tmp)) == 0 ? "temporary copy" : where, strerror(e));
	else if (rc == 1)
		say(o, V_BAD, "%s: %" PRIu64 " difference(s) from the journal",
		    o->tree, d.n);
}

/*
 * The journal's state in memory, compared with DIR; V_GAVE_UP if the
 * model cannot tell (see cdp_model.h), having printed nothing.
 */
static int
verify_model(struct opts *o, uint64_t stop_ordinal)
{
	struct sink k = { NULL, NULL };
	int status;

	if ((k.model = cdp_model_new(MODEL_MEM_MAX)) == NULL)
		return V_GAVE_UP;
	cdp_model_use_sums(k.model, o->th);
	status = expected(o, &k, stop_ordinal);
	if (status == V_GOOD)
		compare(o, k.model, NULL);
	cdp_model_free(k.model);
	return status;
}

/* The journal replayed into a private copy, compared with DIR. */
static void
verify_copy(struct opts *o, uint64_t stop_ordinal)
{
	struct sink k = { NULL, NULL };
	char tmp[4096];

	if (cdp_tree_tmpdir("verify", tmp, sizeof(tmp)) == -1) {
		say(o, V_TROUBLE, "temporary directory: %s", strerror(errno));
		return;
	}
	if ((k.ap = cdp_apply_open(tmp, CDP_APPLY_NOSTATE)) == NULL)
		say(o, V_TROUBLE, "%s: %s", tmp, strerror(errno));
	else if (expected(o, &k, stop_ordinal) == V_GOOD)
		compare(o, NULL, tmp);
	cdp_apply_close(k.ap);
	if (cdp_tree_remove(tmp) == -1)
		say(o, V_TROUBLE, "%s: %s", tmp, strerror(errno));
}

/* After the integrity pass: compare with what it built, or read again. */
static void
verify_tree(struct opts *o, struct build *b, uint64_t stop_ordinal)
{
	switch (b->model == NULL ? B_STALE : b->state) {
	case B_FEEDING:
	case B_STOPPED:
		if (o->stop_seq != 0 && b->last != o->stop_seq)
			say(o, V_BAD, "--at-seq %" PRIu64 ": not in the "
			    "journal (it ends at seq %" PRIu64 ")",
			    o->stop_seq, b->last);
		else
			compare(o, b->model, NULL);
		break;
	case B_JOURNAL_BAD:
		break;		/* reported by the integrity pass */
	case B_GAVE_UP:
		verify_copy(o, stop_ordinal);
		break;
	case B_STALE:
		cdp_model_free(b->model);
		b->model = NULL;
		if (verify_model(o, stop_ordinal) == V_GAVE_UP)
			verify_copy(o, stop_ordinal);
		break;
	}
}

static int
run(struct opts *o)
{
	struct build b = { NULL, B_FEEDING, 0, 0 };
	const char **in;
	uint64_t base = 0, stop_ordinal = 0, marks = 0;

	if (o->tree != NULL) {
		/* NULL: compare() reads the files itself (and says why). */
		o->th = cdp_treehash_start(o->tree);
		if ((b.model = cdp_model_new(MODEL_MEM_MAX)) != NULL) {
			cdp_model_use_sums(b.model, o->th);
			o->b = &b;
		}
	}
	for (in = o->inputs; *in != NULL; in++) {
		struct summary *s = calloc(1, sizeof(*s));
		const char *path = *in;

		if (s == NULL)
			err(V_TROUBLE, "malloc");
		if (strcmp(*in, "-") == 0 && o->tree != NULL) {
			if (o->spool[0] == '\0' && cdp_cli_spool_stdin(o->spool,
			    sizeof(o->spool)) == -1) {
				free(s);
				return V_TROUBLE;
			}
			path = o->spool;
		}
		s->mark_count = marks;
		if (integrity(o, *in, path, s) != V_TROUBLE) {
			print_summary(o, *in, s);
			check_lag(o, *in, s);
			if (o->json)
				puts("}");
		} else if (o->json)
			puts("]}");
		if (s->mark_count > marks)
			stop_ordinal = base + s->mark_ordinal;
		marks = s->mark_count;
		base += s->records;
		free(s);
	}
	if (o->tree != NULL) {
		if (o->at != NULL && (stop_ordinal == 0 ||
		    (o->mark_nth != 0 && marks < o->mark_nth)))
			say(o, V_BAD, "--at %s: no such mark", o->at);
		else if (o->status != V_TROUBLE)
			verify_tree(o, &b, stop_ordinal);
	}
	o->b = NULL;
	cdp_model_free(b.model);
	cdp_treehash_free(o->th);
	o->th = NULL;
	return o->status;
}

static int
report(struct opts *o, int status)
{
	if (fflush(stdout) == EOF || ferror(stdout)) {
		if (!o->quiet)
			warn("stdout");
		status = V_TROUBLE;
	}
	cdp_cli_spool_remove(o->spool);
	free(o->at);
	free(o->at_seq);
	free(o->tree);
	poptFreeContext(o->pc);
	return status;
}

int
main(int argc, const char **argv)
{
	struct opts o = { .max_lag = -1 };

	parse_args(&o, argc, argv);
	check_args(&o);
	return report(&o, run(&o));
}
