/*
 * cdp-dump: show the records of journals as text, JSON or pcap.
 *
 * A debugging and inspection tool, so it shows everything it can: unknown
 * record types too, and after a damaged part it reports the problem and
 * goes on with the records after it, so that one run lists every problem.
 * The output formats are described in cdp-dump(1); keep the two in step.
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

#include "cdp_cli.h"
#include "cdp_pcap.h"
#include "cdp_reader.h"
#include "cdp_record.h"
#include "cdp_source.h"
#include "cdp_time.h"
#include "cdp_uuid.h"

#define SYNOPSIS	"[--json] [--data] [--pcap FILE] [--s3-endpoint URL] " \
	"[JOURNAL ...]"

#define PREVIEW_LEN	32	/* bytes of data shown by --data */
#define SEQ_WIDTH	6	/* seq column, right-aligned (a minimum) */
#define TYPE_WIDTH	11	/* longest type name that has fields */

struct opts {
	poptContext	 pc;
	int		 data;		/* --data */
	int		 json;		/* --json */
	char		*pcap;		/* --pcap */
	const char	**inputs;	/* operands, { "-" } if none */

	struct cdp_pcap	*out;		/* the --pcap file while open */
	int		 status;	/* worst CDP_EXIT_* so far */
	int		 stop;		/* output failed: stop reading */
};

/* A text line being printed: fields are padded after the type name. */
struct line {
	FILE		*f;
	int		 pad;		/* spaces before the first field */
	int		 z_done;	/* compression shown (or not needed) */
};

static char stdout_buf[64 * 1024];

static void
parse_args(struct opts *o, int argc, const char **argv)
{
	const struct poptOption table[] = {	/* sorted by long name */
		{ "data", '\0', POPT_ARG_NONE, &o->data, 0,
		    "show the first bytes of written data and xattr values",
		    NULL },
		{ "json", '\0', POPT_ARG_NONE, &o->json, 0,
		    "print one JSON object per record", NULL },
		{ "pcap", '\0', POPT_ARG_STRING, &o->pcap, 0,
		    "write the records to a pcap file instead", "FILE" },
		CDP_CLI_S3_ENDPOINT_OPTION,
		POPT_AUTOHELP
		POPT_TABLEEND
	};

	o->pc = cdp_cli_popt(argc, argv, table, SYNOPSIS);
	while (cdp_cli_popt_next(o->pc, SYNOPSIS) > 0)
		;
	o->inputs = cdp_cli_operands(o->pc);
}

static void __attribute__((noreturn))
conflict(const char *a, const char *b)
{
	cdp_cli_usage(SYNOPSIS, "%s conflicts with %s", a, b);
}

static void
check_args(struct opts *o)
{
	const char **in;

	if (o->pcap != NULL && o->json)
		conflict("--pcap", "--json");
	if (o->pcap != NULL && o->data)
		conflict("--pcap", "--data");
	for (in = o->inputs; *in != NULL; in++)
		if (strcmp(*in, "-") == 0 && isatty(STDIN_FILENO))
			cdp_cli_usage(SYNOPSIS,
			    "-: refusing to read a journal from a terminal");
}

/* Text output. */

static void
sep(struct line *l)
{
	if (l->pad > 0)
		fprintf(l->f, "%*s", l->pad, "");
	l->pad = 0;
	putc(' ', l->f);
}

static void __attribute__((format(printf, 3, 4)))
field(struct line *l, const char *key, const char *fmt, ...)
{
	va_list ap;

	sep(l);
	fprintf(l->f, "%s=", key);
	va_start(ap, fmt);
	vfprintf(l->f, fmt, ap);
	va_end(ap);
}

static void
field_str(struct line *l, const char *key, const char *s)
{
	sep(l);
	fprintf(l->f, "%s=", key);
	cdp_cli_text_str(l->f, s, strlen(s), CDP_CLI_ESC_SPACE);
}

static void
field_time(struct line *l, const char *key, int64_t ns)
{
	char t[CDP_TIME_STRLEN];

	cdp_time_format(ns, t, sizeof(t));
	field(l, key, "%s", t);
}

static void
field_uuid(struct line *l, const uint8_t uuid[16])
{
	char u[CDP_UUID_STRLEN];

	cdp_uuid_format(uuid, u);
	field(l, "uuid", "%s", u);
}

static void
field_data(struct line *l, const struct cdp_record *r)
{
	size_t n = r->data_len < PREVIEW_LEN ? r->data_len : PREVIEW_LEN;

	sep(l);
	fputs("data=\"", l->f);
	cdp_cli_text_str(l->f, (const char *)r->data, n, CDP_CLI_ESC_ASCII);
	fputs(r->data_len > n ? "\"..." : "\"", l->f);
}

/*
 * Start the subject of the line: the path or name that comes last.  A
 * compressed record shows "z=STORED/RAW" just before it (or at the end of
 * a line without a subject).
 */
static void
subject(struct line *l, const struct cdp_record *r)
{
	if (!l->z_done && (r->flags & CDP_F_COMPRESSED))
		field(l, "z", "%" PRIu32 "/%" PRIu32, r->stored_len,
		    r->raw_len);
	l->z_done = 1;
}

/* The last thing on the line: a path, "." for the root (empty path). */
static void
last_path(struct line *l, const struct cdp_record *r, const char *path)
{
	subject(l, r);
	sep(l);
	if (path[0] == '\0')
		putc('.', l->f);
	else
		cdp_cli_text_str(l->f, path, strlen(path), 0);
}

static void
last_two(struct line *l, const struct cdp_record *r, const char *a,
    const char *b)
{
	last_path(l, r, a);
	fputs(" -> ", l->f);
	cdp_cli_text_str(l->f, b, strlen(b), 0);
}

static void
field_flags(struct line *l, uint32_t flags, uint32_t bit, const char *name)
{
	if (flags == 0)
		return;
	if (flags == bit)
		field(l, "flags", "%s", name);
	else
		field(l, "flags", "0x%" PRIx32, flags);
}

static void
print_text(const struct opts *o, const struct cdp_record *r)
{
	struct line l = { stdout, 0, 0 };
	const char *name = cdp_record_type_name(r->type);
	char t[CDP_TIME_STRLEN], hex[8];

	if (r->seq == 0)
		printf("%*s", SEQ_WIDTH, "-");
	else
		printf("%*" PRIu64, SEQ_WIDTH, r->seq);
	cdp_time_format(r->time_ns, t, sizeof(t));
	if (name == NULL) {
		snprintf(hex, sizeof(hex), "0x%04x", r->type);
		name = hex;
	}
	printf(" %s %s", t, name);
	l.pad = TYPE_WIDTH - (int)strlen(name);

	switch (r->type) {
	case CDP_T_STREAM_HDR:
		field(&l, "version", "%u", r->version);
		field_uuid(&l, r->uuid);
		subject(&l, r);
		sep(&l);
		fputs("source=", l.f);
		cdp_cli_text_str(l.f, r->path2, strlen(r->path2), 0);
		break;
	case CDP_T_STREAM_END:
		field(&l, "last_seq", "%" PRIu64, r->u64);
		break;
	case CDP_T_ACK:
		field_uuid(&l, r->uuid);
		field(&l, "durable_seq", "%" PRIu64, r->u64);
		break;
	case CDP_T_RESUME:
		field_uuid(&l, r->uuid);
		field(&l, "next_seq", "%" PRIu64, r->u64);
		break;
	case CDP_T_HEARTBEAT:
	case CDP_T_BASELINE_BEGIN:
	case CDP_T_BASELINE_END:
		break;
	case CDP_T_MARK:
		if (r->rflags != 0)
			field(&l, "flags", "0x%" PRIx32, r->rflags);
		subject(&l, r);
		sep(&l);
		cdp_cli_text_str(l.f, r->name, strlen(r->name), 0);
		break;
	case CDP_T_CREATE:
	case CDP_T_MKDIR:
		field(&l, "mode", "0%03" PRIo32, r->mode);
		last_path(&l, r, r->path);
		break;
	case CDP_T_SYMLINK:
	case CDP_T_LINK:
		last_two(&l, r, r->path, r->path2);
		break;
	case CDP_T_RENAME:
		if (r->rflags == CDP_RENAME_NOREPLACE)
			field_flags(&l, r->rflags, r->rflags, "NOREPLACE");
		else
			field_flags(&l, r->rflags, CDP_RENAME_EXCHANGE,
			    "EXCHANGE");
		last_two(&l, r, r->path, r->path2);
		break;
	case CDP_T_UNLINK:
	case CDP_T_RMDIR:
		last_path(&l, r, r->path);
		break;
	case CDP_T_SETATTR:
		if (r->rflags & CDP_ATTR_MODE)
			field(&l, "mode", "0%03" PRIo32, r->mode);
		if (r->rflags & CDP_ATTR_UID)
			field(&l, "uid", "%" PRIu32, r->uid);
		if (r->rflags & CDP_ATTR_GID)
			field(&l, "gid", "%" PRIu32, r->gid);
		if (r->rflags & CDP_ATTR_ATIME)
			field_time(&l, "atime", r->atime_ns);
		if (r->rflags & CDP_ATTR_MTIME)
			field_time(&l, "mtime", r->mtime_ns);
		last_path(&l, r, r->path);
		break;
	case CDP_T_SETXATTR:
		field(&l, "len", "%zu", r->data_len);
		field_str(&l, "name", r->name);
		if (o->data)
			field_data(&l, r);
		last_path(&l, r, r->path);
		break;
	case CDP_T_REMOVEXATTR:
		field_str(&l, "name", r->name);
		last_path(&l, r, r->path);
		break;
	case CDP_T_WRITE:
		field(&l, "off", "%" PRIu64, r->off);
		field(&l, "len", "%zu", r->data_len);
		if (o->data)
			field_data(&l, r);
		last_path(&l, r, r->path);
		break;
	case CDP_T_TRUNCATE:
		field(&l, "size", "%" PRIu64, r->off);
		last_path(&l, r, r->path);
		break;
	case CDP_T_FALLOCATE:
		field(&l, "mode", "0x%" PRIx32, r->mode);
		field(&l, "off", "%" PRIu64, r->off);
		field(&l, "len", "%" PRIu64, r->len);
		last_path(&l, r, r->path);
		break;
	case CDP_T_FSYNC:
		field_flags(&l, r->rflags, CDP_FSYNC_DATASYNC, "DATASYNC");
		last_path(&l, r, r->path);
		break;
	default:
		/* An unknown type: its flags and size, payload undecoded. */
		field(&l, "flags", "0x%04x", r->flags);
		field(&l, "len", "%" PRIu32, r->stored_len);
		break;
	}
	subject(&l, r);
	putchar('\n');
}

/* JSON output: one object per record, keys in a fixed order. */

static void
jkey(const char *key)
{
	printf(",\"%s\":", key);
}

static void
jstr(const char *key, const char *s)
{
	jkey(key);
	cdp_cli_json_str(stdout, s, strlen(s));
}

static void
jtime(const char *key, int64_t ns)
{
	char t[CDP_TIME_STRLEN];

	cdp_time_format(ns, t, sizeof(t));
	printf(",\"%s\":\"%s\",\"%s_ns\":%" PRId64, key, t, key, ns);
}

static void
juuid(const uint8_t uuid[16])
{
	char u[CDP_UUID_STRLEN];

	cdp_uuid_format(uuid, u);
	printf(",\"uuid\":\"%s\"", u);
}

static void
jdata(const struct opts *o, const struct cdp_record *r)
{
	size_t i, n = r->data_len < PREVIEW_LEN ? r->data_len : PREVIEW_LEN;

	printf(",\"length\":%zu", r->data_len);
	if (!o->data)
		return;
	fputs(",\"data_hex\":\"", stdout);
	for (i = 0; i < n; i++)
		printf("%02x", r->data[i]);
	putchar('"');
}

static void
print_json(const struct opts *o, const struct cdp_record *r)
{
	const char *name = cdp_record_type_name(r->type);
	char hex[8];

	if (name == NULL) {
		snprintf(hex, sizeof(hex), "0x%04x", r->type);
		name = hex;
	}
	printf("{\"seq\":%" PRIu64, r->seq);
	jtime("time", r->time_ns);
	printf(",\"type\":\"%s\",\"type_code\":%u", name, r->type);
	printf(",\"record_offset\":%" PRIu64 ",\"record_len\":%zu",
	    r->offset, r->raw_size);
	printf(",\"compressed\":%s,\"stored_len\":%" PRIu32
	    ",\"raw_len\":%" PRIu32,
	    (r->flags & CDP_F_COMPRESSED) ? "true" : "false",
	    r->stored_len, r->raw_len);

	switch (r->type) {
	case CDP_T_STREAM_HDR:
		printf(",\"version\":%u,\"features\":%" PRIu32, r->version,
		    r->features);
		juuid(r->uuid);
		jstr("source", r->path2);
		break;
	case CDP_T_STREAM_END:
		printf(",\"last_seq\":%" PRIu64, r->u64);
		break;
	case CDP_T_ACK:
		juuid(r->uuid);
		printf(",\"durable_seq\":%" PRIu64, r->u64);
		break;
	case CDP_T_RESUME:
		juuid(r->uuid);
		printf(",\"next_seq\":%" PRIu64, r->u64);
		break;
	case CDP_T_HEARTBEAT:
	case CDP_T_BASELINE_BEGIN:
	case CDP_T_BASELINE_END:
		break;
	case CDP_T_MARK:
		printf(",\"flags\":%" PRIu32, r->rflags);
		jstr("name", r->name);
		break;
	case CDP_T_CREATE:
	case CDP_T_MKDIR:
		printf(",\"mode\":%" PRIu32, r->mode);
		jstr("path", r->path);
		break;
	case CDP_T_SYMLINK:
		jstr("path", r->path);
		jstr("target", r->path2);
		break;
	case CDP_T_LINK:
		jstr("existing", r->path);
		jstr("path", r->path2);
		break;
	case CDP_T_RENAME:
		printf(",\"flags\":%" PRIu32, r->rflags);
		jstr("from", r->path);
		jstr("to", r->path2);
		break;
	case CDP_T_UNLINK:
	case CDP_T_RMDIR:
		jstr("path", r->path);
		break;
	case CDP_T_SETATTR:
		printf(",\"valid\":%" PRIu32, r->rflags);
		if (r->rflags & CDP_ATTR_MODE)
			printf(",\"mode\":%" PRIu32, r->mode);
		if (r->rflags & CDP_ATTR_UID)
			printf(",\"uid\":%" PRIu32, r->uid);
		if (r->rflags & CDP_ATTR_GID)
			printf(",\"gid\":%" PRIu32, r->gid);
		if (r->rflags & CDP_ATTR_ATIME)
			jtime("atime", r->atime_ns);
		if (r->rflags & CDP_ATTR_MTIME)
			jtime("mtime", r->mtime_ns);
		jstr("path", r->path);
		break;
	case CDP_T_SETXATTR:
		jstr("path", r->path);
		jstr("name", r->name);
		jdata(o, r);
		break;
	case CDP_T_REMOVEXATTR:
		jstr("path", r->path);
		jstr("name", r->name);
		break;
	case CDP_T_WRITE:
		printf(",\"offset\":%" PRIu64, r->off);
		jdata(o, r);
		jstr("path", r->path);
		break;
	case CDP_T_TRUNCATE:
		printf(",\"size\":%" PRIu64, r->off);
		jstr("path", r->path);
		break;
	case CDP_T_FALLOCATE:
		printf(",\"mode\":%" PRIu32 ",\"offset\":%" PRIu64
		    ",\"length\":%" PRIu64, r->mode, r->off, r->len);
		jstr("path", r->path);
		break;
	case CDP_T_FSYNC:
		printf(",\"flags\":%" PRIu32, r->rflags);
		jstr("path", r->path);
		break;
	default:
		printf(",\"flags\":%u", r->flags);
		break;
	}
	fputs("}\n", stdout);
}

/* Dump one JOURNAL operand; problems are reported and set o->status. */
static void
dump(struct opts *o, const char *name)
{
	struct cdp_record rec;
	struct cdp_source *src;
	struct cdp_reader *r;
	uint64_t last_err = UINT64_MAX;
	int rc, open = 0, seen = 0;

	if ((src = cdp_source_open(name)) == NULL) {
		warnx("%s: %s", name, cdp_source_strerror(errno));
		o->status = CDP_EXIT_FAIL;
		return;
	}
	if ((r = cdp_reader_open(src, CDP_READER_KEEP_UNKNOWN)) == NULL) {
		warn("%s", name);
		o->status = CDP_EXIT_FAIL;
		cdp_source_close(src);
		return;
	}
	while (!o->stop && (rc = cdp_reader_next(r, &rec)) != 0) {
		if (rc == -1) {
			warnx("%s: %s", name, cdp_reader_error(r));
			o->status = CDP_EXIT_FAIL;
			/* A reader that cannot move past a problem stops. */
			if (cdp_reader_errcode(r) == CDP_RE_IO ||
			    cdp_reader_offset(r) == last_err ||
			    cdp_reader_resync(r) == -1)
				break;
			last_err = cdp_reader_offset(r);
			continue;
		}
		last_err = UINT64_MAX;
		seen = 1;
		if (rec.type == CDP_T_STREAM_HDR)
			open = 1;
		else if (rec.type == CDP_T_STREAM_END)
			open = 0;
		if (o->out != NULL) {
			if (cdp_pcap_put(o->out, &rec) == -1) {
				warn("%s", o->pcap);
				o->status = CDP_EXIT_FAIL;
				o->stop = 1;
			}
		} else if (o->json)
			print_json(o, &rec);
		else
			print_text(o, &rec);
		if (ferror(stdout))
			o->stop = 1;
	}
	if (!o->stop && seen && open && o->out == NULL && !o->json) {
		fputs("# ", stdout);
		cdp_cli_text_str(stdout, name, strlen(name), 0);
		fputs(": no STREAM_END (stream open or cut short)\n", stdout);
	}
	cdp_reader_close(r);
	cdp_source_close(src);
}

static int
run(struct opts *o)
{
	const char **in;

	if (o->pcap != NULL) {
		if (strcmp(o->pcap, "-") == 0 &&
		    cdp_cli_refuse_tty(STDOUT_FILENO, "--pcap") == -1)
			return CDP_EXIT_FAIL;
		if ((o->out = cdp_pcap_create(o->pcap)) == NULL) {
			warn("%s", o->pcap);
			return CDP_EXIT_FAIL;
		}
	}
	for (in = o->inputs; *in != NULL && !o->stop; in++)
		dump(o, *in);
	if (o->out != NULL && cdp_pcap_close(o->out) == -1) {
		warn("%s", o->pcap);
		o->status = CDP_EXIT_FAIL;
	}
	return o->status;
}

static int
report(struct opts *o, int status)
{
	if (fflush(stdout) == EOF || ferror(stdout)) {
		warn("stdout");
		status = CDP_EXIT_FAIL;
	}
	free(o->pcap);
	poptFreeContext(o->pc);
	return status;
}

int
main(int argc, const char **argv)
{
	struct opts o = { .status = CDP_EXIT_OK };

	/* Full buffering for pipes and files; a terminal keeps lines. */
	if (!isatty(STDOUT_FILENO))
		setvbuf(stdout, stdout_buf, _IOFBF, sizeof(stdout_buf));
	parse_args(&o, argc, argv);
	check_args(&o);
	return report(&o, run(&o));
}
