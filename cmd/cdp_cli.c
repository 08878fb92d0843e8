/*
 * cdp_cli.c: front-end helpers shared by the cdp programs.
 */
#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <popt.h>

#include "cdp_cli.h"
#include "cdp_record.h"

void
cdp_cli_usage(const char *synopsis, const char *fmt, ...)
{
	va_list ap;

	if (fmt != NULL) {
		va_start(ap, fmt);
		vwarnx(fmt, ap);
		va_end(ap);
	}
	fprintf(stderr, "usage: %s %s\n", program_invocation_short_name,
	    synopsis);
	exit(CDP_EXIT_USAGE);
}

poptContext
cdp_cli_popt(int argc, const char **argv, const struct poptOption *table,
    const char *synopsis)
{
	poptContext pc;

	if ((pc = poptGetContext(NULL, argc, argv, table, 0)) == NULL)
		errx(CDP_EXIT_FAIL, "cannot parse options");
	poptSetOtherOptionHelp(pc, synopsis);
	return pc;
}

int
cdp_cli_popt_next(poptContext pc, const char *synopsis)
{
	const char *arg;
	int rc;

	while ((rc = poptGetNextOpt(pc)) == CDP_CLI_S3_ENDPOINT) {
		/* cdp_s3.h reads it from the environment, as AWS tools do. */
		if ((arg = poptGetOptArg(pc)) != NULL &&
		    setenv("AWS_ENDPOINT_URL", arg, 1) == -1)
			err(CDP_EXIT_FAIL, "setenv");
	}
	if (rc < -1)
		cdp_cli_usage(synopsis, "%s: %s",
		    poptBadOption(pc, POPT_BADOPTION_NOALIAS), poptStrerror(rc));
	return rc;
}

const char *
cdp_cli_one_operand(poptContext pc, const char *synopsis, const char *what)
{
	const char **args = poptGetArgs(pc);

	if (args == NULL || args[0] == NULL)
		cdp_cli_usage(synopsis, "no %s given", what);
	if (args[1] != NULL)
		cdp_cli_usage(synopsis, "%s: one %s only", args[1], what);
	return args[0];
}

const char **
cdp_cli_operands(poptContext pc)
{
	static const char *stdin_only[] = { "-", NULL };
	const char **args;

	args = poptGetArgs(pc);
	return args != NULL ? args : stdin_only;
}

int
cdp_cli_refuse_tty(int fd, const char *option)
{
	if (!isatty(fd))
		return 0;
	warnx("refusing to write a journal to a terminal (use %s FILE)",
	    option);
	return -1;
}

int
cdp_cli_open_output(const char *path, int journal, const char *option)
{
	int fd;

	if (strcmp(path, "-") == 0) {
		if (journal && cdp_cli_refuse_tty(STDOUT_FILENO, option) == -1)
			return -1;
		return STDOUT_FILENO;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (fd == -1)
		warn("%s", path);
	return fd;
}

/*
 * Length of the valid UTF-8 sequence at s (of at most n bytes): 1 to 4,
 * or 0 if s does not start one.  Overlong forms, surrogates and code
 * points past U+10FFFF are not valid (RFC 3629).
 */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		if (s[0] == 0xe0)
			lo = 0xa0;
		else if (s[0] == 0xed)
			hi = 0x9f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		if (s[0] == 0xf0)
			lo = 0x90;
		else if (s[0] == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

/* U+0080..U+009F, which some terminals obey as 8-bit controls. */
static int
is_c1(const unsigned char *s, size_t len)
{
	return len == 2 && s[0] == 0xc2 && s[1] <= 0x9f;
}

void
cdp_cli_json_str(FILE *f, const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i, n;

	putc('"', f);
	for (i = 0; i < len; i += n) {
		n = utf8_len(s + i, len - i);
		if (n == 0) {
			fprintf(f, "\\u%04x", s[i]);
			n = 1;
		} else if (is_c1(s + i, n)) {
			fprintf(f, "\\u%04x", s[i + 1]);
		} else if (n > 1) {
			fwrite(s + i, 1, n, f);
		} else if (s[i] == '"' || s[i] == '\\') {
			putc('\\', f);
			putc(s[i], f);
		} else if (s[i] < 0x20 || s[i] == 0x7f) {
			fprintf(f, "\\u%04x", s[i]);
		} else
			putc(s[i], f);
	}
	putc('"', f);
}

void
cdp_cli_text_str(FILE *f, const char *str, size_t len, int flags)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i, j, n;

	for (i = 0; i < len; i += n) {
		n = (flags & CDP_CLI_ESC_ASCII) ? (s[i] < 0x80) :
		    utf8_len(s + i, len - i);
		if (n == 0 || is_c1(s + i, n)) {
			if (n == 0)
				n = 1;
			for (j = 0; j < n; j++)
				fprintf(f, "\\x%02x", s[i + j]);
		} else if (n > 1) {
			fwrite(s + i, 1, n, f);
		} else if (s[i] == '\\') {
			fputs("\\\\", f);
		} else if (s[i] < 0x20 || s[i] == 0x7f ||
		    (s[i] == ' ' && (flags & CDP_CLI_ESC_SPACE)) ||
		    (s[i] == '"' && (flags & CDP_CLI_ESC_ASCII))) {
			fprintf(f, "\\x%02x", s[i]);
		} else
			putc(s[i], f);
	}
}

static int64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void
cdp_cli_progress_start(struct cdp_cli_progress *p, int64_t total)
{
	p->on = isatty(STDERR_FILENO);
	p->total = total;
	p->start_ns = p->last_ns = mono_ns();
}

void
cdp_cli_progress(struct cdp_cli_progress *p, uint64_t records,
    uint64_t bytes)
{
	double secs, rate;
	int64_t now;

	if (!p->on || (records & 255) != 0)
		return;
	now = mono_ns();
	if (now - p->last_ns < 250000000)
		return;
	p->last_ns = now;
	secs = (double)(now - p->start_ns) / 1e9;
	rate = secs > 0 ? (double)bytes / secs : 0;
	fprintf(stderr, "\r%s: %" PRIu64 " records, %.1f MiB, %.1f MiB/s",
	    program_invocation_short_name, records, (double)bytes / 1048576,
	    rate / 1048576);
	if (p->total > 0 && rate > 0 && (uint64_t)p->total > bytes)
		fprintf(stderr, ", ETA %.0f s",
		    (double)((uint64_t)p->total - bytes) / rate);
	fputs("\033[K", stderr);
}

void
cdp_cli_progress_end(struct cdp_cli_progress *p)
{
	if (p->on && p->last_ns != p->start_ns)
		fputs("\r\033[K", stderr);
}

int
cdp_cli_spool_stdin(char *path, size_t size)
{
	const char *tmp = getenv("TMPDIR");
	char buf[65536];
	ssize_t n;
	int fd, len;

	if (tmp == NULL || tmp[0] == '\0')
		tmp = "/tmp";
	len = snprintf(path, size, "%s/cdp-stdin.XXXXXX", tmp);
	if (len < 0 || (size_t)len + 8 > size || mkdtemp(path) == NULL) {
		warn("%s", tmp);
		path[0] = '\0';
		return -1;
	}
	strcat(path, "/stdin");
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) == -1) {
		warn("%s", path);
		return -1;
	}
	while ((n = read(STDIN_FILENO, buf, sizeof(buf))) != 0) {
		if (n == -1 || write(fd, buf, (size_t)n) != n) {
			warn("%s", n == -1 ? "-" : path);
			close(fd);
			return -1;
		}
	}
	if (close(fd) == -1) {
		warn("%s", path);
		return -1;
	}
	return 0;
}

void
cdp_cli_spool_remove(char *path)
{
	char *slash;

	if (path[0] == '\0')
		return;
	unlink(path);
	if ((slash = strrchr(path, '/')) != NULL) {
		*slash = '\0';
		rmdir(path);
	}
	path[0] = '\0';
}

int
cdp_cli_parse_seq(const char *arg, uint64_t *seq)
{
	char *end;

	if (arg[0] < '0' || arg[0] > '9')
		return -1;
	errno = 0;
	*seq = strtoull(arg, &end, 10);
	return errno != 0 || *end != '\0' || *seq == 0 ? -1 : 0;
}

int
cdp_cli_parse_mark(const char *arg, char *name, size_t size, uint64_t *nth)
{
	const char *at = strchr(arg, '@');
	size_t len = at != NULL ? (size_t)(at - arg) : strlen(arg);

	*nth = 0;
	if (len == 0 || len >= size ||
	    (at != NULL && cdp_cli_parse_seq(at + 1, nth) == -1))
		return -1;
	memcpy(name, arg, len);
	name[len] = '\0';
	return cdp_record_mark_name_ok(name) ? 0 : -1;
}

int
cdp_cli_parse_size(const char *arg, uint64_t *size)
{
	unsigned long long n;
	int shift = 0;
	char *end;

	errno = 0;
	n = strtoull(arg, &end, 10);
	if (errno != 0 || end == arg || arg[0] == '-')
		return -1;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	}
	if (*end != '\0' || n == 0 || n > (UINT64_MAX >> shift))
		return -1;
	*size = (uint64_t)n << shift;
	return 0;
}

int
cdp_cli_parse_duration(const char *arg, int64_t *ns)
{
	unsigned long long n;
	int64_t unit = 1;
	char *end;

	errno = 0;
	n = strtoull(arg, &end, 10);
	if (errno != 0 || end == arg || arg[0] == '-' || arg[0] == '+')
		return -1;
	switch (*end) {
	case 's': end++; break;
	case 'm': unit = 60; end++; break;
	case 'h': unit = 3600; end++; break;
	case 'd': unit = 86400; end++; break;
	}
	if (*end != '\0' || n == 0 ||
	    n > (unsigned long long)(INT64_MAX / 1000000000 / unit))
		return -1;
	*ns = (int64_t)n * unit * 1000000000;
	return 0;
}
