/*
 * cdp-tap: run a command and journal every change it and its descendants
 * make beneath a directory.
 *
 * The command runs with libcdp-preload.so in LD_PRELOAD.  The shim in each
 * tapped process puts records into a shared-memory ring (cdp_ring.h); this
 * process drains the ring in order and writes the journal (cdp_tapout.h),
 * serves marks on the control socket (cdp_control.h), and ends the stream
 * when the command and every process that inherited the ring are gone.
 * How and why is in cdp-tap(1), DESCRIPTION and CAVEATS.
 *
 * With --fuse, SOURCE is mounted at MOUNTPOINT instead and the changes
 * made through the mount are journaled (tap_fuse.c, FUSE MODE in the page).
 */
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <elf.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <popt.h>

#include "cdp_baseline.h"
#include "cdp_cli.h"
#include "cdp_control.h"
#include "cdp_record.h"
#include "cdp_ring.h"
#include "cdp_tapout.h"
#include "tap_fuse.h"

#define SYNOPSIS_PRELOAD "[-v] [-o FILE] [-C DIR] [--baseline] [--heartbeat MS] " \
			"[--compress[=N]] [--control SOCK] -- COMMAND [ARG ...]"
#define SYNOPSIS_FUSE	"--fuse [-v] [-o FILE] [--baseline] [--heartbeat MS] " \
			"[--compress[=N]] [--control SOCK] [--mount-opts OPTS] " \
			"SOURCE MOUNTPOINT"
#define SYNOPSIS	SYNOPSIS_PRELOAD "\n       cdp-tap " SYNOPSIS_FUSE
#define PRELOAD_NAME	"libcdp-preload.so"
#define OUTPUT_PIPE_SIZE (1024 * 1024)	/* standard output, when a pipe */
#define POLL_MS		10	/* how often the ring is looked at when idle */
#define FLOW_POLL_MS	1	/* the same while changes flow */
#define FLOW_MS		100	/* they flow: one came this recently */
#define RELEASE_EVERY	64	/* records between releases of ring space */
#define OPT_COMPRESS	1

struct opts {
	poptContext	 pc;
	int		 baseline;	/* --baseline */
	char		*dir;		/* -C */
	int		 level;		/* --compress[=N]; -1 none */
	int		 compress_arg;	/* the value popt stores */
	char		*control;	/* --control */
	int		 fuse;		/* --fuse */
	int		 heartbeat;	/* --heartbeat */
	char		*mount_opts;	/* --mount-opts */
	char		*output;	/* -o */
	int		 verbose;	/* -v */
	const char	**command;	/* operands (SOURCE MOUNTPOINT with --fuse) */
	struct tap_fuse_args fa;	/* --fuse */

	char		 root[PATH_MAX];	/* DIR, canonical */
	char		 preload[PATH_MAX];
	char		 control_buf[PATH_MAX];
	int		 out;
	int		 lfd;		/* control socket */
	struct cdp_ring	*ring;
	struct cdp_tapout *tap;
	pid_t		 child;
	int		 child_status;	/* exit status to return */
	int		 child_done;
	int		 failed;	/* the output failed: stop journaling */
};

static volatile sig_atomic_t got_signal;

static void
parse_args(struct opts *o, int argc, const char **argv)
{
	const struct poptOption table[] = {	/* sorted by long name */
		{ "baseline", '\0', POPT_ARG_NONE, &o->baseline, 0,
		    "first journal the tree as it is", NULL },
		{ "compress", '\0', POPT_ARG_INT | POPT_ARGFLAG_OPTIONAL,
		    &o->compress_arg, OPT_COMPRESS,
		    "deflate records (level N, default 6)", "N" },
		{ "control", '\0', POPT_ARG_STRING, &o->control, 0,
		    "serve marks on socket SOCK", "SOCK" },
		{ "directory", 'C', POPT_ARG_STRING, &o->dir, 0,
		    "journal changes beneath DIR (and run COMMAND there)",
		    "DIR" },
		{ "fuse", '\0', POPT_ARG_NONE, &o->fuse, 0,
		    "mount SOURCE at MOUNTPOINT and journal changes made "
		    "through it", NULL },
		{ "heartbeat", '\0', POPT_ARG_INT, &o->heartbeat, 0,
		    "send a heartbeat after MS idle milliseconds", "MS" },
		{ "mount-opts", '\0', POPT_ARG_STRING, &o->mount_opts, 0,
		    "add OPTS to the FUSE mount options", "OPTS" },
		{ "output", 'o', POPT_ARG_STRING, &o->output, 0,
		    "write the journal to FILE", "FILE" },
		{ "verbose", 'v', POPT_ARG_NONE, &o->verbose, 0,
		    "say what is happening on standard error", NULL },
		POPT_AUTOHELP
		POPT_TABLEEND
	};
	int rc;

	o->pc = cdp_cli_popt(argc, argv, table, SYNOPSIS);
	while ((rc = cdp_cli_popt_next(o->pc, SYNOPSIS)) > 0)
		if (rc == OPT_COMPRESS)
			o->level = o->compress_arg > 0 ? o->compress_arg : 6;
	o->command = poptGetArgs(o->pc);
}

/* Which file execvp would run: PATH search as the shell does. */
static int
find_command(const char *cmd, char *buf, size_t size)
{
	const char *p = getenv("PATH"), *e;

	if (strchr(cmd, '/') != NULL) {
		snprintf(buf, size, "%s", cmd);
		return access(buf, X_OK);
	}
	for (p = p ? p : "/usr/bin:/bin"; *p != '\0'; p = *e ? e + 1 : e) {
		e = strchrnul(p, ':');
		if ((size_t)snprintf(buf, size, "%.*s/%s", (int)(e - p), p,
		    cmd) < size && access(buf, X_OK) == 0)
			return 0;
	}
	return -1;
}

/*
 * Why path cannot be tapped (NULL: it can): the loader ignores LD_PRELOAD
 * for static programs and for programs that change credentials.
 */
static const char *
untappable(const char *path)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	struct stat st;
	int fd, i, interp = 0;
	char line[PATH_MAX], *nl;
	ssize_t n;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 || fstat(fd, &st))
		return NULL;
	if (((st.st_mode & S_ISUID) && st.st_uid != geteuid()) ||
	    ((st.st_mode & S_ISGID) && st.st_gid != getegid())) {
		close(fd);
		return "a setuid or setgid program, which the loader does not "
		    "let cdp-tap see into";
	}
	n = pread(fd, line, sizeof(line) - 1, 0);
	if (n > 2 && line[0] == '#' && line[1] == '!') {
		/* A script: what matters is its interpreter. */
		close(fd);
		line[n] = '\0';
		if ((nl = strpbrk(line + 2, " \t\n")) != NULL)
			*nl = '\0';
		return strcmp(line + 2, path) == 0 ? NULL :
		    untappable(line + 2 + strspn(line + 2, " \t"));
	}
	if (n < (ssize_t)sizeof(eh) || memcmp(line, ELFMAG, SELFMAG) != 0) {
		close(fd);
		return NULL;
	}
	memcpy(&eh, line, sizeof(eh));
	for (i = 0; eh.e_ident[EI_CLASS] == ELFCLASS64 && i < eh.e_phnum &&
	    i < 64; i++)
		if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff +
		    (uint64_t)i * eh.e_phentsize)) == (ssize_t)sizeof(ph) &&
		    ph.p_type == PT_INTERP)
			interp = 1;
	close(fd);
	if (eh.e_ident[EI_CLASS] == ELFCLASS64 && !interp)
		return "statically linked, so cdp-tap cannot see its changes";
	return NULL;
}

/* The shim: $CDP_TAP_PRELOAD, beside this program, or under LIBDIR. */
static int
find_preload(struct opts *o)
{
	const char *env = getenv("CDP_TAP_PRELOAD");
	char exe[PATH_MAX], try[PATH_MAX + 64], *slash;
	ssize_t n;

	if (env != NULL && realpath(env, o->preload) != NULL)
		return 0;
	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) <= 0)
		return -1;
	exe[n] = '\0';
	if ((slash = strrchr(exe, '/')) != NULL)
		*slash = '\0';
	snprintf(try, sizeof(try), "%s/%s", exe, PRELOAD_NAME);
	if (realpath(try, o->preload) != NULL)
		return 0;
	snprintf(try, sizeof(try), "%s/../lib/cdp/%s", exe, PRELOAD_NAME);
	return realpath(try, o->preload) != NULL ? 0 : -1;
}

/* --fuse: SOURCE MOUNTPOINT, and no -C. */
static void
check_fuse(struct opts *o)
{
	if (o->dir != NULL)
		cdp_cli_usage(SYNOPSIS, "-C: not with --fuse (SOURCE is the "
		    "tree)");
	if (o->command == NULL || o->command[0] == NULL)
		cdp_cli_usage(SYNOPSIS, "--fuse: missing SOURCE");
	if (o->command[1] == NULL)
		cdp_cli_usage(SYNOPSIS, "--fuse: missing MOUNTPOINT");
	if (o->command[2] != NULL)
		cdp_cli_usage(SYNOPSIS, "%s: --fuse takes SOURCE and "
		    "MOUNTPOINT only", o->command[2]);
	tap_fuse_check(&o->fa, o->command[0], o->command[1], SYNOPSIS);
	snprintf(o->root, sizeof(o->root), "%s", o->fa.source);
}

static void
check_args(struct opts *o)
{
	char path[PATH_MAX];
	const char *why;
	struct stat st;

	if (o->heartbeat < 0)
		cdp_cli_usage(SYNOPSIS, "--heartbeat: must be 0 or more");
	if (o->level > 9)
		cdp_cli_usage(SYNOPSIS, "--compress: level must be 0 to 9");
	if (o->fuse) {
		check_fuse(o);
		return;
	}
	if (o->mount_opts != NULL)
		cdp_cli_usage(SYNOPSIS, "--mount-opts: only with --fuse");
	if (o->dir == NULL && (o->dir = strdup(".")) == NULL)
		err(CDP_EXIT_FAIL, "strdup");
	if (o->command == NULL || o->command[0] == NULL)
		cdp_cli_usage(SYNOPSIS, "missing COMMAND");
	if (stat(o->dir, &st) == -1 || realpath(o->dir, o->root) == NULL)
		cdp_cli_usage(SYNOPSIS, "%s: %s", o->dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		cdp_cli_usage(SYNOPSIS, "%s: %s", o->dir, strerror(ENOTDIR));
	if (find_command(o->command[0], path, sizeof(path)) == 0 &&
	    (why = untappable(path)) != NULL)
		cdp_cli_usage(SYNOPSIS, "%s: %s", o->command[0], why);
	if (find_preload(o) == -1)
		errx(CDP_EXIT_FAIL, "%s: not found beside cdp-tap nor in "
		    "../lib/cdp (set CDP_TAP_PRELOAD)", PRELOAD_NAME);
}

static void
on_signal(int sig)
{
	got_signal = sig;
}

/* The emit callback of the baseline walk. */
static int
put_baseline(void *arg, const struct cdp_record *rec)
{
	return cdp_tapout_put(arg, 0, rec);
}

static int
baseline(void *arg)
{
	struct opts *o = arg;
	struct cdp_record rec;
	struct cdp_baseline *b;
	int rc;

	memset(&rec, 0, sizeof(rec));
	if ((b = cdp_baseline_open(o->root)) == NULL) {
		warn("%s", o->root);
		return -1;
	}
	rec.type = CDP_T_BASELINE_BEGIN;
	rc = cdp_tapout_put(o->tap, 0, &rec);
	if (rc == 0 && (rc = cdp_baseline_walk(b, put_baseline, o->tap)) == -1
	    && cdp_baseline_error(b)[0] != '\0') {
		warnx("--baseline: %s", cdp_baseline_error(b));
		cdp_baseline_close(b);
		return -1;
	}
	cdp_baseline_close(b);
	rec.type = CDP_T_BASELINE_END;
	if (rc == -1 || cdp_tapout_put(o->tap, 0, &rec) == -1 ||
	    cdp_tapout_idle(o->tap, 0, 0) == -1)
		return -2;
	return 0;
}

static void
set_env(const char *name, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
set_env(const char *name, const char *fmt, ...)
{
	char buf[2 * PATH_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (setenv(name, buf, 1) == -1)
		err(CDP_EXIT_FAIL, "setenv");
}

static int
start_command(struct opts *o)
{
	const char *pre = getenv("LD_PRELOAD");

	set_env("CDP_TAP_FD", "%d,%d", cdp_ring_memfd(o->ring),
	    cdp_ring_alive_fd(o->ring));
	set_env("CDP_TAP_ROOT", "%s", o->root);
	set_env("CDP_TAP_PRELOAD", "%s", o->preload);
	set_env(CDP_CONTROL_ENV, "%s", o->control);
	if (pre != NULL && *pre != '\0')
		set_env("LD_PRELOAD", "%s:%s", o->preload, pre);
	else
		set_env("LD_PRELOAD", "%s", o->preload);
	fflush(stderr);
	if ((o->child = fork()) == -1) {
		warn("fork");
		return -1;
	}
	if (o->child == 0) {
		signal(SIGPIPE, SIG_DFL);
		if (chdir(o->root) == -1)
			err(126, "%s", o->root);
		execvp(o->command[0], (char *const *)o->command);
		warn("%s", o->command[0]);
		_exit(errno == ENOENT ? 127 : 126);
	}
	cdp_ring_parent_close(o->ring);
	unsetenv("LD_PRELOAD");
	return 0;
}

static void
reap(struct opts *o)
{
	int st;

	if (o->child_done || waitpid(o->child, &st, WNOHANG) != o->child)
		return;
	o->child_done = 1;
	if (WIFEXITED(st))
		o->child_status = WEXITSTATUS(st);
	else
		o->child_status = 128 + WTERMSIG(st);
}

/* The output failed: say so once, let the command go on untapped. */
static void
output_failed(struct opts *o)
{
	if (o->failed)
		return;
	warn("%s: write", o->output ? o->output : "standard output");
	o->failed = 1;
	cdp_ring_shut(o->ring);
	cdp_tapout_abort(o->tap, "the journal output failed");
}

static void
serve_control(struct opts *o)
{
	char name[CDP_CONTROL_LINE_MAX];
	int cfd;

	while ((cfd = cdp_control_accept(o->lfd, name)) != -1 ||
	    errno == EBADMSG) {
		if (cfd == -1)
			continue;
		if (o->failed)
			cdp_control_answer(cfd, 0, "the journal output failed");
		else
			cdp_tapout_mark(o->tap, cfd, name,
			    cdp_ring_head(o->ring));
	}
}

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Drain the ring into the journal until everybody is gone.
 *
 * Producers do not wake the drain for each record (that would cost a
 * system call per write); it looks at the ring every POLL_MS when idle,
 * which is also the most a record waits before it goes out.  While
 * changes flow it looks every FLOW_POLL_MS instead, for the RPO: at
 * most a thousand wake-ups a second, and only while there is work.
 */
static int
drain(struct opts *o)
{
	const struct cdp_ring_rec *r;
	struct cdp_record *rec;
	unsigned since = 0;
	int n, rc = 0, got = 0;
	int64_t flowed = 0;

	if ((rec = malloc(sizeof(*rec))) == NULL)
		err(CDP_EXIT_FAIL, "malloc");
	for (;;) {
		if (got_signal && !o->child_done) {
			kill(o->child, got_signal);
			got_signal = 0;
		}
		n = cdp_ring_next(o->ring, &r, since ? 0 :
		    mono_ms() - flowed < FLOW_MS ? FLOW_POLL_MS : POLL_MS);
		if (n == 1) {
			got = 1;
			if (!o->failed && cdp_ring_to_record(r, rec) == 0 &&
			    cdp_tapout_put(o->tap, cdp_ring_tail(o->ring), rec)
			    == -1)
				output_failed(o);
			cdp_ring_consume(o->ring, r);
			if (++since >= RELEASE_EVERY) {
				cdp_ring_release(o->ring);
				since = 0;
			}
			continue;
		}
		cdp_ring_release(o->ring);
		since = 0;
		if (got) {
			/* Once per batch: a clock read per record costs. */
			flowed = mono_ms();
			got = 0;
		}
		if (n == -1) {
			warnx("a tapped process died while recording a change; "
			    "the journal is incomplete");
			rc = -1;
			break;
		}
		if (!o->failed && cdp_tapout_idle(o->tap,
		    cdp_ring_tail(o->ring), o->heartbeat) == -1)
			output_failed(o);
		serve_control(o);
		reap(o);
		if (o->child_done && cdp_ring_orphaned(o->ring) &&
		    cdp_ring_head(o->ring) == cdp_ring_tail(o->ring))
			break;
	}
	free(rec);
	if (cdp_ring_lost(o->ring) > 0) {
		warnx("%llu changes were lost: their processes were killed "
		    "while recording them",
		    (unsigned long long)cdp_ring_lost(o->ring));
		rc = -1;
	}
	return rc;
}

static int
run_fuse(struct opts *o)
{
	o->fa.mount_opts = o->mount_opts;
	o->fa.tap = o->tap;
	o->fa.lfd = o->lfd;
	o->fa.heartbeat = o->heartbeat;
	o->fa.verbose = o->verbose;
	o->fa.output = o->output ? o->output : "standard output";
	if (o->baseline) {
		o->fa.baseline = baseline;
		o->fa.baseline_arg = o;
	}
	return tap_fuse_run(&o->fa);
}

static int
run(struct opts *o)
{
	char host[256] = "localhost", source[PATH_MAX + 300];
	struct sigaction sa;
	int rc = CDP_EXIT_OK, sync;

	if (o->output != NULL)
		o->out = cdp_cli_open_output(o->output, 1, "-o");
	else
		o->out = cdp_cli_open_output("-", 1, "-o");
	if (o->out == -1)
		return CDP_EXIT_FAIL;
	/*
	 * A pipe of 1 MiB rather than 64 KiB: a large write's record crosses
	 * it in one go instead of waking the consumer sixteen times.
	 */
	(void)fcntl(o->out, F_SETPIPE_SZ, OUTPUT_PIPE_SIZE);
	signal(SIGPIPE, SIG_IGN);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	if (!o->fuse) {
		/* With --fuse, libfuse's handlers end the loop. */
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGHUP, &sa, NULL);
	}
	gethostname(host, sizeof(host) - 1);
	snprintf(source, sizeof(source), "%s:%s", host, o->root);
	sync = o->output != NULL ? CDP_TAPOUT_SYNC : 0;
	if ((o->tap = cdp_tapout_open(o->out, o->level, sync, source)) ==
	    NULL) {
		warn("%s", o->output ? o->output : "standard output");
		return CDP_EXIT_FAIL;
	}
	if (o->control == NULL) {
		if (cdp_control_default_path(o->control_buf,
		    sizeof(o->control_buf), (long)getpid()) == -1)
			err(CDP_EXIT_FAIL, "control socket");
		o->control = o->control_buf;
	}
	if ((o->lfd = cdp_control_listen(o->control)) == -1) {
		warn("%s", o->control);
		return CDP_EXIT_FAIL;
	}
	if (o->verbose)
		warnx("control socket: %s", o->control);
	if (o->fuse)
		rc = run_fuse(o);
	else if ((o->ring = cdp_ring_create()) == NULL) {
		warn("shared memory");
		rc = CDP_EXIT_FAIL;
	}
	else if (o->baseline && (rc = baseline(o)) < 0) {
		if (rc == -2)
			warn("%s: write", o->output ? o->output :
			    "standard output");
		rc = CDP_EXIT_FAIL;
	} else if (start_command(o) == -1)
		rc = CDP_EXIT_FAIL;
	else {
		if (drain(o) == -1)
			rc = CDP_EXIT_FAIL;
		if (!o->failed && cdp_tapout_end(o->tap) == -1)
			output_failed(o);
		if (o->failed)
			rc = CDP_EXIT_FAIL;
		while (!o->child_done) {
			/* The output failed: wait for the command anyway. */
			usleep(POLL_MS * 1000);
			reap(o);
		}
		if (rc == CDP_EXIT_OK)
			rc = o->child_status;
		if (o->verbose)
			warnx("%llu records, %llu bytes",
			    (unsigned long long)cdp_tapout_records(o->tap),
			    (unsigned long long)cdp_tapout_bytes(o->tap));
	}
	unlink(o->control);
	close(o->lfd);
	return rc;
}

static int
report(struct opts *o, int rc)
{
	cdp_tapout_close(o->tap);
	cdp_ring_close(o->ring);
	if (o->out > STDOUT_FILENO)
		close(o->out);
	free(o->dir);
	free(o->output);
	free(o->mount_opts);
	if (o->control != o->control_buf)
		free(o->control);
	poptFreeContext(o->pc);
	return rc;
}

int
main(int argc, const char **argv)
{
	struct opts o = { .level = -1, .heartbeat = 1000, .out = -1,
	    .lfd = -1 };

	parse_args(&o, argc, argv);
	check_args(&o);
	return report(&o, run(&o));
}
