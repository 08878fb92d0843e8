/*
 * cdp_cli.h: front-end helpers shared by the cdp programs.
 *
 * Linked only by programs, never by libcommon: this is the one place
 * besides main() files that may print or exit.  Messages go through err(3),
 * so they carry the program's name (program_invocation_short_name) as
 * "cdp-x: what: why"; no helper takes the name as an argument.
 */
#ifndef CDP_CLI_H
#define CDP_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <popt.h>

/* Exit statuses; the EXIT STATUS section of every page lists these. */
enum {
	CDP_EXIT_OK,		/* success */
	CDP_EXIT_FAIL,		/* failure while running */
	CDP_EXIT_USAGE		/* bad option, operand or combination */
};

/*
 * Print "cdp-x: REASON" (when fmt is not NULL) and "usage: cdp-x SYNOPSIS"
 * to stderr, then exit CDP_EXIT_USAGE.
 */
void	 cdp_cli_usage(const char *synopsis, const char *fmt, ...)
	    __attribute__((noreturn, format(printf, 2, 3)));

/*
 * A popt context for table with synopsis as its --help line.  Free it with
 * poptFreeContext() when done with the strings and operands it returned.
 */
poptContext cdp_cli_popt(int argc, const char **argv,
	    const struct poptOption *table, const char *synopsis);

/*
 * poptGetNextOpt() that handles mistakes: returns the next option's val
 * (> 0) or -1 when the options are done.  A bad option prints
 * "cdp-x: --bogus: unknown option" and the usage line, and exits 2.
 */
int	 cdp_cli_popt_next(poptContext, const char *synopsis);

/*
 * --s3-endpoint URL, for a program that reads s3:// operands: an entry for
 * its option table (in sorted place), which cdp_cli_popt_next() handles
 * itself by setting AWS_ENDPOINT_URL, where cdp_s3.h looks.
 */
#define CDP_CLI_S3_ENDPOINT	0x5333
#define CDP_CLI_S3_ENDPOINT_OPTION \
	{ "s3-endpoint", '\0', POPT_ARG_STRING, NULL, CDP_CLI_S3_ENDPOINT, \
	    "the object store of s3:// operands (default " \
	    "$AWS_ENDPOINT_URL)", "URL" }

/*
 * The one operand a program takes, named what in messages ("STORE"): with
 * none or more than one, print why and the usage line and exit 2.
 */
const char *cdp_cli_one_operand(poptContext, const char *synopsis,
	    const char *what);

/* The operands: never NULL; { "-", NULL } when there are none. */
const char **cdp_cli_operands(poptContext);

/*
 * If fd is a terminal, print "cdp-x: refusing to write a journal to a
 * terminal (use OPTION FILE)" and return -1; else return 0.  option is the
 * option that names an output file, such as "-o".
 */
int	 cdp_cli_refuse_tty(int fd, const char *option);

/*
 * Open an output for writing: "-" is standard output (returned as is,
 * after cdp_cli_refuse_tty() when journal is set), anything else is
 * created or truncated, mode 0666 less the umask.  On failure prints
 * "cdp-x: PATH: why" and returns -1.
 */
int	 cdp_cli_open_output(const char *path, int journal, const char *option);

/*
 * Escaping for output, so that a hostile path or name cannot add lines,
 * fields or terminal escape sequences.
 *
 * cdp_cli_json_str() prints s as a JSON string, with its quotes: '"' and
 * '\' are backslashed, control characters (U+0000..U+001F, U+007F..U+009F)
 * become \u00XX, valid UTF-8 is printed as is, and each byte that is not
 * part of valid UTF-8 becomes \u00XX of its value, so that such a name
 * reads back as if it were Latin-1.  The output is always valid JSON.
 *
 * cdp_cli_text_str() prints s for plain text: a backslash is doubled, and
 * control characters, DEL, bytes of invalid UTF-8 and UTF-8 C1 controls
 * become \xNN (each byte); with CDP_CLI_ESC_SPACE a space becomes \x20 too,
 * for a field that is not last on its line, and with CDP_CLI_ESC_ASCII all
 * bytes >= 0x80 become \xNN, and '"' becomes \x22 (for quoted data).
 */
#define CDP_CLI_ESC_SPACE	0x1
#define CDP_CLI_ESC_ASCII	0x2

void	 cdp_cli_json_str(FILE *, const char *s, size_t len);
void	 cdp_cli_text_str(FILE *, const char *s, size_t len, int flags);

/*
 * A progress line on stderr, only when stderr is a terminal: records,
 * bytes, rate and, when the total size is known (>= 0), an ETA.  Redrawn
 * at most four times a second; cdp_cli_progress_end() erases it.
 */
struct cdp_cli_progress {
	int		 on;		/* stderr is a terminal */
	int64_t		 total;		/* bytes expected, -1 if unknown */
	int64_t		 start_ns, last_ns;
};

void	 cdp_cli_progress_start(struct cdp_cli_progress *, int64_t total);
void	 cdp_cli_progress(struct cdp_cli_progress *, uint64_t records,
	    uint64_t bytes);
void	 cdp_cli_progress_end(struct cdp_cli_progress *);

/*
 * Copy standard input into a new file in a private directory under
 * $TMPDIR, for a journal that must be read twice; path receives its name.
 * Returns 0, or -1 after printing why.  cdp_cli_spool_remove() removes
 * both again (nothing if path is empty).
 */
int	 cdp_cli_spool_stdin(char *path, size_t size);
void	 cdp_cli_spool_remove(char *path);

/*
 * Parse a seq ("1" or more, decimal) into *seq, or a mark operand "NAME"
 * or "NAME@N" into name (size bytes) and *nth (0 for plain NAME: the
 * last).  Return 0, or -1 when arg is not one.
 */
int	 cdp_cli_parse_seq(const char *arg, uint64_t *seq);
int	 cdp_cli_parse_mark(const char *arg, char *name, size_t size,
	    uint64_t *nth);

/*
 * Parse a SIZE operand: a decimal number of bytes >= 1 with an optional
 * k, M or G (powers of 1024).  Return 0, or -1 when arg is not one.
 */
int	 cdp_cli_parse_size(const char *arg, uint64_t *size);

/*
 * Parse a DURATION operand: a decimal number >= 1 followed by s, m, h or
 * d (seconds, minutes, hours, days; no unit is seconds) into *ns.
 * Return 0, or -1 when arg is not one.
 */
int	 cdp_cli_parse_duration(const char *arg, int64_t *ns);

#endif
