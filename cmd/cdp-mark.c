/*
 * cdp-mark: put a named mark into the journal of a running cdp-tap.
 *
 * Returns when the mark has been written to the tap's output, so that a
 * backup script can take an application-consistent point:
 * "flush tables; cdp-mark nightly; unlock tables".
 */
#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <popt.h>

#include "cdp_cli.h"
#include "cdp_control.h"
#include "cdp_record.h"

#define SYNOPSIS	"[--control SOCK] NAME"

struct opts {
	poptContext	 pc;
	char		*control;	/* --control */
	const char	*name;		/* operand */
};

static void
parse_args(struct opts *o, int argc, const char **argv)
{
	const struct poptOption table[] = {	/* sorted by long name */
		{ "control", '\0', POPT_ARG_STRING, &o->control, 0,
		    "the tap's control socket", "SOCK" },
		POPT_AUTOHELP
		POPT_TABLEEND
	};
	const char **args;

	o->pc = cdp_cli_popt(argc, argv, table, SYNOPSIS);
	while (cdp_cli_popt_next(o->pc, SYNOPSIS) > 0)
		;
	args = poptGetArgs(o->pc);
	if (args == NULL || args[0] == NULL)
		cdp_cli_usage(SYNOPSIS, "missing NAME");
	if (args[1] != NULL)
		cdp_cli_usage(SYNOPSIS, "%s: one NAME only", args[1]);
	o->name = args[0];
}

static void
check_args(struct opts *o)
{
	if (!cdp_record_mark_name_ok(o->name))
		cdp_cli_usage(SYNOPSIS, "%s: not a mark name (1 to %d bytes, "
		    "no control characters, no '@')", o->name, CDP_MARK_MAX);
	if (o->control == NULL) {
		const char *env = getenv(CDP_CONTROL_ENV);

		if (env == NULL || *env == '\0')
			cdp_cli_usage(SYNOPSIS, "no --control SOCK, and "
			    CDP_CONTROL_ENV " is not set");
		if ((o->control = strdup(env)) == NULL)
			err(CDP_EXIT_FAIL, "strdup");
	}
}

static int
run(struct opts *o)
{
	char why[CDP_CONTROL_LINE_MAX];
	uint64_t seq;

	if (cdp_control_mark(o->control, o->name, &seq, why) == -1) {
		if (errno == EPROTO)
			warnx("%s: %s", o->control, why);
		else
			warn("%s", o->control);
		return CDP_EXIT_FAIL;
	}
	(void)seq;
	return CDP_EXIT_OK;
}

static int
report(struct opts *o, int rc)
{
	free(o->control);
	poptFreeContext(o->pc);
	return rc;
}

int
main(int argc, const char **argv)
{
	struct opts o = { 0 };

	parse_args(&o, argc, argv);
	check_args(&o);
	return report(&o, run(&o));
}
