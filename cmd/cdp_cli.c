/*
 * cdp_cli.c: front-end helpers shared by the cdp programs.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <popt.h>

#include "cdp_cli.h"

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
	int rc;

	rc = poptGetNextOpt(pc);
	if (rc < -1)
		cdp_cli_usage(synopsis, "%s: %s",
		    poptBadOption(pc, POPT_BADOPTION_NOALIAS), poptStrerror(rc));
	return rc;
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
