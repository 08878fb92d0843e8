/*
 * cdp-replay: rebuild a tree, or part of it, at any point of a journal.
 *
 * Records go through the apply engine (libcommon/cdp_apply.c), which
 * alone touches the target tree.  This file decides which records reach
 * it: up to a seq, a time or a mark, only the names --path selects.  An
 * archive is a replay into a private directory written out with
 * libarchive.  The rules for what each record does to a tree that does
 * not match its precondition are in cdp-replay(1), APPLYING RECORDS.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <popt.h>

#include "cdp_apply.h"
#include "cdp_archive.h"
#include "cdp_cli.h"
#include "cdp_reader.h"
#include "cdp_record.h"
#include "cdp_source.h"
#include "cdp_time.h"
#include "cdp_tree.h"

#define SYNOPSIS	"[-C DIR | -a ARCHIVE [--format FMT]] [--check] " \
	"[--fresh] [--json] [--list-marks] [--path PATTERN ...] " \
	"[--s3-endpoint URL] " \
	"[--until-mark NAME | --until-seq N | --until-time T] [JOURNAL ...]"

struct opts {
	poptContext	 pc;
	char		*archive;	/* -a, --archive */
	int		 check;		/* --check */
	char		*dir;		/* -C, --directory */
	char		*format;	/* --format */
	int		 fresh;		/* --fresh */
	int		 json;		/* --json */
	int		 list_marks;	/* --list-marks */
	const char	**paths;	/* --path, NULL-terminated */
	size_t		 npaths;
	char		*until_mark;	/* --until-mark */
	char		*until_seq;	/* --until-seq */
	char		*until_time;	/* --until-time */
	const char	**inputs;	/* operands, { "-" } if none */

	uint64_t	 stop_seq;	/* --until-seq N, 0: none */
	int64_t		 stop_time;	/* --until-time T */
	char		 mark_name[CDP_MARK_MAX + 1];
	uint64_t	 mark_nth;	/* NAME@N: N, 0: the last */
	uint64_t	 mark_count;	/* marks of that name seen */
	uint64_t	 stop_ordinal;	/* apply up to this record, 0: all */
	char		 spool[4096];	/* standard input copied here */

	struct cdp_apply *ap;
	uint64_t	 ordinal;	/* records read so far */
	uint64_t	 last_seq;	/* last numbered record applied */
	uint8_t		 uuid[16];	/* the stream being applied */
	uint64_t	 stream_seq;	/* its last record applied, 0: none */
	int		 stopped;	/* the stop point was reached */
	uint64_t	 replaced;	/* --path: names replaced from out */
	int		 status;
	struct cdp_cli_progress progress;
};

static void
parse_args(struct opts *o, int argc, const char **argv)
{
	const char *arg;
	struct poptOption table[] = {	/* sorted by long name */
		{ "archive", 'a', POPT_ARG_STRING, &o->archive, 0,
		    "write the tree as an archive instead (- for stdout)",
		    "ARCHIVE" },
		{ "check", '\0', POPT_ARG_NONE, &o->check, 0,
		    "check every record and report all problems; "
		    "write nothing", NULL },
		{ "directory", 'C', POPT_ARG_STRING, &o->dir, 0,
		    "apply to DIR (default: the current directory)", "DIR" },
		{ "format", '\0', POPT_ARG_STRING, &o->format, 0,
		    "archive format: tar, pax, ustar, cpio, zip, 7zip", "FMT" },
		{ "fresh", '\0', POPT_ARG_NONE, &o->fresh, 0,
		    "refuse a non-empty DIR", NULL },
		{ "json", '\0', POPT_ARG_NONE, &o->json, 0,
		    "print --list-marks as JSON", NULL },
		{ "list-marks", '\0', POPT_ARG_NONE, &o->list_marks, 0,
		    "print every mark: seq, time, name", NULL },
		{ "path", '\0', POPT_ARG_STRING, NULL, 'p',
		    "restore only names matching PATTERN (repeatable)",
		    "PATTERN" },
		CDP_CLI_S3_ENDPOINT_OPTION,
		{ "until-mark", '\0', POPT_ARG_STRING, &o->until_mark, 0,
		    "stop after mark NAME (NAME@N: the N-th)", "NAME" },
		{ "until-seq", '\0', POPT_ARG_STRING, &o->until_seq, 0,
		    "stop after record seq N", "N" },
		{ "until-time", '\0', POPT_ARG_STRING, &o->until_time, 0,
		    "stop at the last record at or before T", "T" },
		POPT_AUTOHELP
		POPT_TABLEEND
	};
	int c;

	o->pc = cdp_cli_popt(argc, argv, table, SYNOPSIS);
	while ((c = cdp_cli_popt_next(o->pc, SYNOPSIS)) > 0) {
		if (c != 'p' || (arg = poptGetOptArg(o->pc)) == NULL)
			continue;
		o->paths = realloc(o->paths, (o->npaths + 2) *
		    sizeof(*o->paths));
		if (o->paths == NULL)
			err(CDP_EXIT_FAIL, "--path");
		o->paths[o->npaths++] = arg;
		o->paths[o->npaths] = NULL;
	}
	o->inputs = cdp_cli_operands(o->pc);
}

static void
conflict(const char *a, const char *b)
{
	cdp_cli_usage(SYNOPSIS, "%s conflicts with %s", a, b);
}

static void
check_args(struct opts *o)
{
	const char *stops[3] = { NULL, NULL, NULL }, **in;
	size_t nstops = 0, i;

	if (o->dir != NULL && o->archive != NULL)
		conflict("-C", "-a");
	if (o->format != NULL && o->archive == NULL)
		cdp_cli_usage(SYNOPSIS, "--format needs -a");
	if (o->format != NULL && !cdp_archive_format_ok(o->format))
		cdp_cli_usage(SYNOPSIS, "--format: unknown format: %s",
		    o->format);
	if (o->until_mark != NULL)
		stops[nstops++] = "--until-mark";
	if (o->until_seq != NULL)
		stops[nstops++] = "--until-seq";
	if (o->until_time != NULL)
		stops[nstops++] = "--until-time";
	if (nstops > 1)
		conflict(stops[0], stops[1]);
	if (o->json && !o->list_marks)
		cdp_cli_usage(SYNOPSIS, "--json needs --list-marks");
	if (o->list_marks && (o->dir != NULL || o->archive != NULL ||
	    o->check || o->fresh || nstops > 0 || o->npaths > 0))
		cdp_cli_usage(SYNOPSIS,
		    "--list-marks takes no other option but --json");
	if (o->check && o->archive != NULL)
		conflict("--check", "-a");
	if (o->fresh && o->archive != NULL)
		conflict("--fresh", "-a");
	if (o->until_seq != NULL &&
	    cdp_cli_parse_seq(o->until_seq, &o->stop_seq) == -1)
		cdp_cli_usage(SYNOPSIS,
		    "--until-seq: not a seq (1 or more): %s", o->until_seq);
	if (o->until_time != NULL &&
	    cdp_time_parse(o->until_time, &o->stop_time) == -1)
		cdp_cli_usage(SYNOPSIS, "--until-time: not a time "
		    "(RFC 3339 or @EPOCH): %s", o->until_time);
	if (o->until_mark != NULL && cdp_cli_parse_mark(o->until_mark,
	    o->mark_name, sizeof(o->mark_name), &o->mark_nth) == -1)
		cdp_cli_usage(SYNOPSIS, "--until-mark: not NAME or NAME@N "
		    "(N from 1): %s", o->until_mark);
	for (i = 0; i < o->npaths; i++)
		if (o->paths[i][0] == '\0' || o->paths[i][0] == '/')
			cdp_cli_usage(SYNOPSIS, "--path: patterns match "
			    "relative paths: %s", o->paths[i]);
	for (in = o->inputs; *in != NULL; in++)
		if (strcmp(*in, "-") == 0 && isatty(STDIN_FILENO))
			cdp_cli_usage(SYNOPSIS,
			    "-: refusing to read a journal from a terminal");
	if (o->archive != NULL && strcmp(o->archive, "-") == 0 &&
	    isatty(STDOUT_FILENO))
		cdp_cli_usage(SYNOPSIS,
		    "refusing to write an archive to a terminal");
}

/* Reading: one function walks all inputs for each pass. */

typedef int record_fn(struct opts *, const char *name,
    const struct cdp_source *, const struct cdp_record *);

/*
 * Read every input in order, calling fn for each record.  With resync,
 * problems are reported and reading goes on (--check); without, the first
 * problem ends the run.  fn returns 0 to go on, 1 to stop, -1 on failure
 * (already reported).  Returns a CDP_EXIT_* status.
 */
static int
read_all(struct opts *o, record_fn *fn, int resync, int quiet)
{
	const char **in;
	struct cdp_record *rec;
	int status = CDP_EXIT_OK;

	if ((rec = malloc(sizeof(*rec))) == NULL)
		err(CDP_EXIT_FAIL, "malloc");
	for (in = o->inputs; *in != NULL; in++) {
		const char *name = strcmp(*in, "-") == 0 && o->spool[0] ?
		    o->spool : *in;
		struct cdp_source *src;
		struct cdp_reader *r;
		uint64_t last_err = UINT64_MAX;
		int rc = 0, done = 0;

		if ((src = cdp_source_open(name)) == NULL ||
		    (r = cdp_reader_open(src, 0)) == NULL) {
			warnx("%s: %s", *in, cdp_source_strerror(errno));
			cdp_source_close(src);
			status = CDP_EXIT_FAIL;
			break;
		}
		if (o->ap != NULL)
			cdp_apply_set_source(o->ap, src);
		cdp_cli_progress_start(&o->progress, cdp_source_size(src));
		while (!done && (rc = cdp_reader_next(r, rec)) != 0) {
			if (rc == -1) {
				if (!quiet)
					warnx("%s: %s (records up to seq %"
					    PRIu64 " %s)", *in,
					    cdp_reader_error(r), o->last_seq,
					    o->check ? "checked" : "applied");
				status = CDP_EXIT_FAIL;
				if (!resync ||
				    cdp_reader_errcode(r) == CDP_RE_IO ||
				    cdp_reader_offset(r) == last_err ||
				    cdp_reader_resync(r) == -1)
					break;
				last_err = cdp_reader_offset(r);
				continue;
			}
			o->ordinal++;
			cdp_cli_progress(&o->progress, o->ordinal,
			    cdp_reader_offset(r));
			switch (fn(o, *in, src, rec)) {
			case -1:
				status = CDP_EXIT_FAIL;
				done = !resync;
				break;
			case 1:
				done = 1;
				break;
			}
		}
		cdp_cli_progress_end(&o->progress);
		if (o->ap != NULL)
			cdp_apply_set_source(o->ap, NULL);
		cdp_reader_close(r);
		cdp_source_close(src);
		if (done || (status != CDP_EXIT_OK && !resync))
			break;
	}
	free(rec);
	return status;
}

/* --list-marks */

static int
list_mark(struct opts *o, const char *name, const struct cdp_source *src,
    const struct cdp_record *r)
{
	char t[CDP_TIME_STRLEN];

	(void)o;
	(void)name;
	(void)src;
	if (r->type != CDP_T_MARK)
		return 0;
	cdp_time_format(r->time_ns, t, sizeof(t));
	if (o->json) {
		printf("{\"seq\":%" PRIu64 ",\"time\":\"%s\",\"time_ns\":%"
		    PRId64 ",\"name\":", r->seq, t, r->time_ns);
		cdp_cli_json_str(stdout, r->name, strlen(r->name));
		puts("}");
	} else {
		printf("%" PRIu64 " %s ", r->seq, t);
		cdp_cli_text_str(stdout, r->name, strlen(r->name), 0);
		putchar('\n');
	}
	return 0;
}

/* --until-mark: a first pass finds the record the mark is. */

static int
find_mark(struct opts *o, const char *name, const struct cdp_source *src,
    const struct cdp_record *r)
{
	(void)name;
	(void)src;
	if (r->type != CDP_T_MARK || strcmp(r->name, o->mark_name) != 0)
		return 0;
	o->stop_ordinal = o->ordinal;
	o->mark_count++;
	return o->mark_nth != 0 && o->mark_count == o->mark_nth;
}

/* --path */

static int
selected(const struct opts *o, const char *path)
{
	size_t i;

	if (o->npaths == 0)
		return 1;
	for (i = 0; i < o->npaths; i++)
		if (fnmatch(o->paths[i], path, FNM_LEADING_DIR) == 0)
			return 1;
	return 0;
}

/*
 * Apply rec as --path has it: a record about selected names only (the
 * others are skipped, so that their seqs are no gap); a rename between a
 * selected and an unselected name removes the selected one, since its
 * content then comes from, or goes to, outside.  That is one UNLINK, with
 * the record's seq: the unselected name is never touched.
 */
static int
apply_selected(struct opts *o, const struct cdp_record *rec)
{
	struct cdp_record u;
	int from, to;

	if (o->npaths == 0)
		return cdp_apply_record(o->ap, rec);
	switch (rec->type) {
	case CDP_T_LINK:
		if (!selected(o, rec->path2))
			return cdp_apply_skip(o->ap, rec);
		if (selected(o, rec->path))
			return cdp_apply_record(o->ap, rec);
		o->replaced++;
		u = *rec;
		u.type = CDP_T_UNLINK;
		memcpy(u.path, rec->path2, sizeof(u.path));
		return cdp_apply_record(o->ap, &u);
	case CDP_T_RENAME:
		from = selected(o, rec->path);
		to = selected(o, rec->path2);
		if (from && to)
			return cdp_apply_record(o->ap, rec);
		if (!from && !to)
			return cdp_apply_skip(o->ap, rec);
		/* An exchange brings outside content to the selected side. */
		if (to || (rec->rflags & CDP_RENAME_EXCHANGE))
			o->replaced++;
		u = *rec;
		u.type = CDP_T_UNLINK;
		memcpy(u.path, from ? rec->path : rec->path2, sizeof(u.path));
		return cdp_apply_record(o->ap, &u);
	default:
		if (cdp_record_type_changes_tree(rec->type) &&
		    !selected(o, rec->path))
			return cdp_apply_skip(o->ap, rec);
		return cdp_apply_record(o->ap, rec);
	}
}

static int
apply_one(struct opts *o, const char *name, const struct cdp_source *src,
    const struct cdp_record *r)
{
	(void)src;
	if (o->stop_seq != 0 && r->seq > o->stop_seq)
		return 1;
	if (o->until_time != NULL && r->seq != 0 &&
	    r->time_ns > o->stop_time) {
		o->stopped = 1;
		return 1;
	}
	if (apply_selected(o, r) == -1) {
		warnx("%s: %s", name, cdp_apply_error(o->ap));
		return -1;
	}
	if (r->type == CDP_T_STREAM_HDR) {
		memcpy(o->uuid, r->uuid, sizeof(o->uuid));
		o->stream_seq = 0;
	}
	if (r->seq != 0)
		o->last_seq = o->stream_seq = r->seq;
	if ((o->stop_ordinal != 0 && o->ordinal == o->stop_ordinal) ||
	    (o->stop_seq != 0 && r->seq == o->stop_seq)) {
		o->stopped = 1;
		return 1;
	}
	return 0;
}

static int
replay(struct opts *o, const char *dir)
{
	int flags = 0, status;

	if (o->check)
		flags |= CDP_APPLY_DRYRUN;
	if (o->fresh)
		flags |= CDP_APPLY_FRESH;
	if (o->archive != NULL)
		flags |= CDP_APPLY_NOSTATE;
	if (o->npaths > 0)
		flags |= CDP_APPLY_NOSTATE | CDP_APPLY_MKPARENTS;
	if ((o->ap = cdp_apply_open(dir, flags)) == NULL) {
		if (errno == ENOTEMPTY)
			warnx("%s: not empty (--fresh)", dir);
		else if (errno == EWOULDBLOCK)
			warnx("%s: another cdp-replay or cdp-recv --apply is "
			    "using it", dir);
		else if (errno == EBADMSG)
			warnx("%s: user.cdp.applied: malformed", dir);
		else
			warn("%s", dir);
		return CDP_EXIT_FAIL;
	}
	o->ordinal = 0;
	o->last_seq = 0;
	status = read_all(o, apply_one, o->check, 0);
	if (status == CDP_EXIT_OK && o->stop_seq != 0 && !o->stopped) {
		warnx("--until-seq %" PRIu64 ": not in the journal (it ends "
		    "at seq %" PRIu64 ")", o->stop_seq, o->last_seq);
		status = CDP_EXIT_FAIL;
	}
	/* Records past the stop point cannot be taken back. */
	if (o->stopped &&
	    cdp_apply_applied_seq(o->ap, o->uuid) > o->stream_seq) {
		warnx("%s: already holds seq %" PRIu64 ", past the stop point "
		    "%" PRIu64 "; replay into an empty directory", dir,
		    cdp_apply_applied_seq(o->ap, o->uuid), o->stream_seq);
		status = CDP_EXIT_FAIL;
	}
	if (cdp_apply_sync(o->ap) == -1) {
		warnx("%s: %s", dir, cdp_apply_error(o->ap));
		status = CDP_EXIT_FAIL;
	}
	if (cdp_apply_count_xattr_skipped(o->ap) > 0)
		warnx("%" PRIu64 " extended attribute record(s) outside the "
		    "user namespace, or on a symbolic link, not applied",
		    cdp_apply_count_xattr_skipped(o->ap));
	cdp_apply_close(o->ap);
	if (o->replaced > 0)
		warnx("--path: %" PRIu64 " selected name(s) came from or went "
		    "to names not selected and were removed (select those "
		    "names too)", o->replaced);
	o->ap = NULL;
	return status;
}

static int
to_archive(struct opts *o)
{
	char tmp[4096], why[1024];
	int status;

	if (cdp_tree_tmpdir("replay", tmp, sizeof(tmp)) == -1) {
		warn("temporary directory");
		return CDP_EXIT_FAIL;
	}
	status = replay(o, tmp);
	if (status == CDP_EXIT_OK &&
	    cdp_archive_write(tmp, o->archive, o->format, why,
	    sizeof(why)) == -1) {
		warnx("%s: %s", o->archive, why);
		if (strcmp(o->archive, "-") != 0)
			unlink(o->archive);
		status = CDP_EXIT_FAIL;
	}
	if (cdp_tree_remove(tmp) == -1)
		warn("%s", tmp);
	return status;
}

static int
run(struct opts *o)
{
	const char **in;
	int status;

	if (o->list_marks)
		return read_all(o, list_mark, 1, 0);
	if (o->until_mark != NULL) {
		for (in = o->inputs; *in != NULL; in++)
			if (strcmp(*in, "-") == 0 && o->spool[0] == '\0' &&
			    cdp_cli_spool_stdin(o->spool,
			    sizeof(o->spool)) == -1)
				return CDP_EXIT_FAIL;
		/* Problems are reported by the pass that applies. */
		status = read_all(o, find_mark, 0, 1);
		if (o->stop_ordinal == 0 ||
		    (o->mark_nth != 0 && o->mark_count < o->mark_nth)) {
			if (status != CDP_EXIT_OK) {
				o->ordinal = 0;
				read_all(o, find_mark, 0, 0);
				warnx("--until-mark %s: not found before that "
				    "problem", o->until_mark);
			} else if (o->mark_nth != 0 && o->mark_count > 0)
				warnx("--until-mark %s: only %" PRIu64
				    " mark(s) of that name", o->until_mark,
				    o->mark_count);
			else
				warnx("--until-mark %s: no such mark",
				    o->until_mark);
			return CDP_EXIT_FAIL;
		}
	}
	if (o->archive != NULL)
		return to_archive(o);
	return replay(o, o->dir != NULL ? o->dir : ".");
}

static int
report(struct opts *o, int status)
{
	if (fflush(stdout) == EOF || ferror(stdout)) {
		warn("stdout");
		status = CDP_EXIT_FAIL;
	}
	cdp_cli_spool_remove(o->spool);
	free(o->archive);
	free(o->dir);
	free(o->format);
	free(o->until_mark);
	free(o->until_seq);
	free(o->until_time);
	for (size_t i = 0; i < o->npaths; i++)
		free((char *)o->paths[i]);
	free(o->paths);
	poptFreeContext(o->pc);
	return status;
}

int
main(int argc, const char **argv)
{
	struct opts o = { .status = CDP_EXIT_OK };

	parse_args(&o, argc, argv);
	check_args(&o);
	return report(&o, run(&o));
}
