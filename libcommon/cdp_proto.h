/*
 * cdp_proto.h: the cdp-send/cdp-recv exchange and its transport.
 *
 * The exchange (cdp-send(1), REPLICATION PROTOCOL, is normative):
 *
 *   sender -> receiver   STREAM_HDR, then records from RESUME's next_seq
 *                        on, then (optionally) a shutdown of the direction
 *   receiver -> sender   RESUME once, then ACK whenever more is durable
 *
 * The transport is one bidirectional byte stream: a socketpair to a child
 * process, which is ssh (DEST host:STORE, the remote shell built like
 * rsync's) or cdp-recv itself (a local STORE).
 */
#ifndef CDP_PROTO_H
#define CDP_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cdp_record.h"

enum cdp_dest_kind {
	CDP_DEST_STDOUT,	/* "-": the raw journal, no acknowledgements */
	CDP_DEST_LOCAL,		/* a local store directory */
	CDP_DEST_REMOTE		/* [user@]host:STORE */
};

struct cdp_dest {
	enum cdp_dest_kind kind;
	char		*host;		/* REMOTE: "[user@]host" */
	char		*store;		/* LOCAL, REMOTE: the store path */
};

/*
 * Split DEST.  Like rsync, a ':' before the first '/' makes it remote.
 * Returns 0, or -1 with errno EINVAL and *why set (an empty host or store).
 */
int	 cdp_dest_parse(const char *dest, struct cdp_dest *d, const char **why);
void	 cdp_dest_free(struct cdp_dest *d);

/*
 * The argv of the remote shell: rsh split on blanks (no shell involved),
 * then host, then the remote command: recv_path as given (it may hold
 * options, such as "sudo cdp-recv") and the store single-quoted, since
 * ssh joins the words and the remote shell splits them again.  NULL
 * terminated; free with cdp_argv_free().  NULL and errno on failure.
 */
char	**cdp_proto_remote_argv(const char *rsh, const char *host,
	    const char *recv_path, const char *store);
void	 cdp_argv_free(char **argv);

/* The same for a local receiver: recv split on blanks, then store as is. */
char	**cdp_proto_local_argv(const char *recv, const char *store);

/*
 * The command that runs the receiver for dest (REMOTE or LOCAL): rsh
 * (default "ssh") host recv_path STORE, or locally recv_path (default:
 * the cdp-recv next to the running executable, else the one in PATH)
 * STORE.  NULL with errno set.
 */
char	**cdp_proto_dest_argv(const struct cdp_dest *dest, const char *rsh,
	    const char *recv_path);

/* s single-quoted for a POSIX shell, malloc'ed. */
char	*cdp_proto_shell_quote(const char *s);

/*
 * Run argv[0] (searched in PATH) with a socketpair on its standard input
 * and output; its standard error is ours.  Returns our end of the
 * socketpair and the child's pid, or -1 with errno (that of execvp(3) when
 * the program could not be started).
 */
int	 cdp_proto_spawn(char *const argv[], pid_t *pid);

/*
 * A connection to a receiver: the child spawned, STREAM_HDR sent, RESUME
 * read.  who names the child in messages ("ssh", "cdp-recv").  On failure
 * returns NULL, the child reaped, and why says what happened ("ssh:
 * exited with status 255", "cdp-recv: not a RESUME for this stream").
 */
struct cdp_conn;

struct cdp_conn *cdp_conn_open(char *const argv[], const char *who,
	    const uint8_t *hdr, size_t hdr_len, const uint8_t uuid[16],
	    uint64_t *next_seq, char *why, size_t whylen);

/* The socket to write records to. */
int	 cdp_conn_fd(const struct cdp_conn *);

/*
 * Read the next ACK: 1 with *seq, 0 at the end of the connection, -1 on
 * anything that is not an ACK of this stream (or a read error).
 */
int	 cdp_conn_ack(struct cdp_conn *, uint64_t *seq);

/*
 * Close our end (after shutdown(2) with how, SHUT_WR for a clean end) and
 * wait for the child, which gets a few seconds before SIGTERM and then
 * SIGKILL.  Returns its exit status, 128 + the signal that killed it, or
 * -1; why says how it ended unless it exited 0.
 */
int	 cdp_conn_close(struct cdp_conn *, int how, char *why, size_t whylen);

/* write(2) until done (EINTR retried).  0, or -1 and errno. */
int	 cdp_write_all(int fd, const void *buf, size_t n);

/* Sleep ms milliseconds, whatever signals arrive. */
void	 cdp_sleep_ms(int ms);

#endif
