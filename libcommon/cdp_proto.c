/*
 * cdp_proto.c: DEST operands and the remote shell.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cdp_format.h"
#include "cdp_proto.h"
#include "cdp_reader.h"
#include "cdp_source.h"

#define CHILD_GRACE_MS	5000	/* before SIGTERM to a child that lingers */

struct cdp_conn {
	int		 fd;
	pid_t		 pid;
	char		*who;
	uint8_t		 uuid[16];
	struct cdp_source *src;
	struct cdp_reader *rd;
	struct cdp_record *rec;
};

int
cdp_dest_parse(const char *dest, struct cdp_dest *d, const char **why)
{
	const char *colon = strchr(dest, ':'), *slash = strchr(dest, '/');

	memset(d, 0, sizeof(*d));
	*why = NULL;
	if (strcmp(dest, "-") == 0) {
		d->kind = CDP_DEST_STDOUT;
		return 0;
	}
	if (dest[0] == '\0') {
		*why = "empty destination";
		errno = EINVAL;
		return -1;
	}
	/* s3://BUCKET/PREFIX is a local STORE (in a bucket), not a host. */
	if (colon != NULL && (slash == NULL || colon < slash) &&
	    strncmp(dest, "s3://", 5) != 0) {
		if (colon == dest || (colon[-1] == '@' && colon - 1 == dest)) {
			*why = "no host before ':'";
			errno = EINVAL;
			return -1;
		}
		if (colon[1] == '\0') {
			*why = "no store after ':'";
			errno = EINVAL;
			return -1;
		}
		d->kind = CDP_DEST_REMOTE;
		d->host = strndup(dest, (size_t)(colon - dest));
		d->store = strdup(colon + 1);
	} else {
		d->kind = CDP_DEST_LOCAL;
		d->store = strdup(dest);
	}
	if (d->store == NULL || (d->kind == CDP_DEST_REMOTE && d->host == NULL)) {
		cdp_dest_free(d);
		return -1;
	}
	return 0;
}

void
cdp_dest_free(struct cdp_dest *d)
{
	free(d->host);
	free(d->store);
	d->host = d->store = NULL;
}

char *
cdp_proto_shell_quote(const char *s)
{
	size_t n = 3, i;
	char *q, *p;

	for (i = 0; s[i] != '\0'; i++)
		n += s[i] == '\'' ? 4 : 1;
	if ((q = p = malloc(n)) == NULL)
		return NULL;
	*p++ = '\'';
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] == '\'') {
			memcpy(p, "'\\''", 4);
			p += 4;
		} else
			*p++ = s[i];
	}
	*p++ = '\'';
	*p = '\0';
	return q;
}

void
cdp_argv_free(char **argv)
{
	size_t i;

	if (argv == NULL)
		return;
	for (i = 0; argv[i] != NULL; i++)
		free(argv[i]);
	free(argv);
}

/* argv of the words of cmd (split on blanks), then n more, NULL-ended. */
static char **
split_words(const char *cmd, size_t more, size_t *n)
{
	char **argv, *copy, *w, *save = NULL;

	*n = 0;
	if ((argv = calloc(strlen(cmd) / 2 + 2 + more, sizeof(*argv))) == NULL)
		return NULL;
	if ((copy = strdup(cmd)) == NULL) {
		free(argv);
		return NULL;
	}
	for (w = strtok_r(copy, " \t", &save); w != NULL;
	    w = strtok_r(NULL, " \t", &save))
		if ((argv[(*n)++] = strdup(w)) == NULL) {
			free(copy);
			cdp_argv_free(argv);
			return NULL;
		}
	free(copy);
	if (*n == 0) {
		free(argv);
		errno = EINVAL;
		return NULL;
	}
	return argv;
}

char **
cdp_proto_remote_argv(const char *rsh, const char *host,
    const char *recv_path, const char *store)
{
	char **argv;
	size_t n;

	if ((argv = split_words(rsh, 3, &n)) == NULL)
		return NULL;
	if ((argv[n++] = strdup(host)) == NULL ||
	    (argv[n++] = strdup(recv_path)) == NULL ||
	    (argv[n++] = cdp_proto_shell_quote(store)) == NULL) {
		cdp_argv_free(argv);
		return NULL;
	}
	return argv;
}

char **
cdp_proto_local_argv(const char *recv, const char *store)
{
	char **argv;
	size_t n;

	if ((argv = split_words(recv, 1, &n)) == NULL)
		return NULL;
	if ((argv[n] = strdup(store)) == NULL) {
		cdp_argv_free(argv);
		return NULL;
	}
	return argv;
}

int
cdp_proto_spawn(char *const argv[], pid_t *pid)
{
	int sv[2], ep[2], e = 0;
	ssize_t r;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		return -1;
	if (pipe2(ep, O_CLOEXEC) == -1) {
		e = errno;
		goto fail;
	}
	if ((*pid = fork()) == -1) {
		e = errno;
		close(ep[0]);
		close(ep[1]);
		goto fail;
	}
	if (*pid == 0) {
		/* The child: the socket on 0 and 1, then the program. */
		if (dup2(sv[1], STDIN_FILENO) == -1 ||
		    dup2(sv[1], STDOUT_FILENO) == -1)
			e = errno;
		else {
			execvp(argv[0], argv);
			e = errno;
		}
		(void)!write(ep[1], &e, sizeof(e));
		_exit(127);
	}
	close(ep[1]);
	close(sv[1]);
	/* A failed exec writes its errno; a successful one closes the pipe. */
	do
		r = read(ep[0], &e, sizeof(e));
	while (r == -1 && errno == EINTR);
	close(ep[0]);
	if (r == sizeof(e)) {
		waitpid(*pid, NULL, 0);
		close(sv[0]);
		errno = e;
		return -1;
	}
	return sv[0];
fail:
	close(sv[0]);
	close(sv[1]);
	errno = e;
	return -1;
}

int
cdp_write_all(int fd, const void *buf, size_t n)
{
	const uint8_t *p = buf;

	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

void
cdp_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

struct cdp_conn *
cdp_conn_open(char *const argv[], const char *who, const uint8_t *hdr,
    size_t hdr_len, const uint8_t uuid[16], uint64_t *next_seq, char *why,
    size_t whylen)
{
	struct cdp_conn *c = calloc(1, sizeof(*c));
	int rc;

	if (c == NULL || (c->who = strdup(who)) == NULL ||
	    (c->rec = malloc(sizeof(*c->rec))) == NULL) {
		snprintf(why, whylen, "%s", strerror(errno));
		goto fail;
	}
	memcpy(c->uuid, uuid, 16);
	if ((c->fd = cdp_proto_spawn(argv, &c->pid)) == -1) {
		snprintf(why, whylen, "%s: %s", argv[0], strerror(errno));
		goto fail;
	}
	rc = cdp_write_all(c->fd, hdr, hdr_len) == 0;
	/* Making the source reads ahead: the connection may fail here. */
	if (rc && (c->src = cdp_source_fd(c->fd, who)) == NULL)
		rc = 0;
	if (rc && (c->rd = cdp_reader_open(c->src, CDP_READER_RETURN)) == NULL)
		rc = 0;
	if (rc)
		rc = cdp_reader_next(c->rd, c->rec);
	if (rc == 1 && (c->rec->type != CDP_T_RESUME ||
	    memcmp(c->rec->uuid, uuid, 16) != 0 || c->rec->u64 == 0)) {
		cdp_conn_close(c, SHUT_RDWR, why, whylen);
		snprintf(why, whylen, "%s: not a RESUME for this stream", who);
		return NULL;
	}
	if (rc != 1) {
		if (cdp_conn_close(c, SHUT_RDWR, why, whylen) == 0)
			snprintf(why, whylen, "%s: the receiver ended without "
			    "RESUME", who);
		return NULL;
	}
	*next_seq = c->rec->u64;
	return c;
fail:
	if (c != NULL) {
		free(c->rec);
		free(c->who);
	}
	free(c);
	return NULL;
}

int
cdp_conn_fd(const struct cdp_conn *c)
{
	return c->fd;
}

int
cdp_conn_ack(struct cdp_conn *c, uint64_t *seq)
{
	int rc = cdp_reader_next(c->rd, c->rec);

	if (rc != 1)
		return rc;
	if (c->rec->type != CDP_T_ACK || memcmp(c->rec->uuid, c->uuid, 16)) {
		errno = EBADMSG;
		return -1;
	}
	*seq = c->rec->u64;
	return 1;
}

int
cdp_conn_close(struct cdp_conn *c, int how, char *why, size_t whylen)
{
	int status, i;
	pid_t r;

	why[0] = '\0';
	shutdown(c->fd, how);
	if (how == SHUT_WR) {
		/* A clean end: the receiver answers until it is done. */
		uint64_t seq;

		while (cdp_conn_ack(c, &seq) == 1)
			;
	}
	cdp_reader_close(c->rd);
	cdp_source_close(c->src);
	close(c->fd);
	for (i = 0; (r = waitpid(c->pid, &status, WNOHANG)) == 0; i++) {
		if (i == CHILD_GRACE_MS / 10)
			kill(c->pid, SIGTERM);
		if (i == 2 * CHILD_GRACE_MS / 10)
			kill(c->pid, SIGKILL);
		cdp_sleep_ms(10);
	}
	if (r == -1)
		status = -1;
	else if (WIFEXITED(status)) {
		status = WEXITSTATUS(status);
		if (status != 0)
			snprintf(why, whylen, "%s: exited with status %d",
			    c->who, status);
	} else {
		snprintf(why, whylen, "%s: killed by signal %d", c->who,
		    WTERMSIG(status));
		status = 128 + WTERMSIG(status);
	}
	free(c->rec);
	free(c->who);
	free(c);
	return status;
}

/* The receiver next to our own executable, else the one in PATH. */
static char *
local_recv(void)
{
	char self[PATH_MAX], *p;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n > 0) {
		self[n] = '\0';
		if (asprintf(&p, "%s/cdp-recv", dirname(self)) != -1) {
			if (access(p, X_OK) == 0)
				return p;
			free(p);
		}
	}
	return strdup("cdp-recv");
}

char **
cdp_proto_dest_argv(const struct cdp_dest *dest, const char *rsh,
    const char *recv_path)
{
	char **argv, *recv;

	if (dest->kind == CDP_DEST_REMOTE)
		return cdp_proto_remote_argv(rsh ? rsh : "ssh", dest->host,
		    recv_path ? recv_path : "cdp-recv", dest->store);
	/* Locally the same words, without a shell: no quoting. */
	if ((recv = recv_path ? strdup(recv_path) : local_recv()) == NULL)
		return NULL;
	argv = cdp_proto_local_argv(recv, dest->store);
	free(recv);
	return argv;
}
