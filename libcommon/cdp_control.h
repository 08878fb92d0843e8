/*
 * cdp_control.h: the control socket of a running cdp-tap.
 *
 * A Unix stream socket; each connection carries one request line and one
 * answer line:
 *
 *	MARK NAME\n		insert a MARK record named NAME
 *	OK SEQ\n		the mark is written to the output with SEQ
 *	ERR REASON\n		it is not
 *
 * cdp-tap (and, later, its FUSE mode) serves it; cdp-mark asks.
 */
#ifndef CDP_CONTROL_H
#define CDP_CONTROL_H

#include <stddef.h>
#include <stdint.h>

#define CDP_CONTROL_LINE_MAX	(16 + 255 + 2)	/* longest line either way */
#define CDP_CONTROL_ENV		"CDP_TAP_CONTROL"

/*
 * The default socket path of process pid: $XDG_RUNTIME_DIR/cdp-tap.PID.sock,
 * or /tmp/cdp-tap.UID.PID.sock.  Returns 0, or -1 with errno ENAMETOOLONG.
 */
int	 cdp_control_default_path(char *buf, size_t size, long pid);

/*
 * Listen on path (a stale socket there is replaced; anything else there is
 * an error, EEXIST).  The socket is non-blocking and close-on-exec.
 * Returns the descriptor or -1 with errno set.
 */
int	 cdp_control_listen(const char *path);

/*
 * Accept one pending connection and read its request (waiting at most a
 * second for it).  Returns the connection with the mark name in name[],
 * -1 with errno EAGAIN when nobody is waiting, or -1 with another errno
 * (EBADMSG: not a valid request; the connection was answered and closed).
 */
int	 cdp_control_accept(int lfd, char name[CDP_CONTROL_LINE_MAX]);

/* Answer a connection ("OK SEQ", or "ERR WHY" when why is set) and close it. */
void	 cdp_control_answer(int cfd, uint64_t seq, const char *why);

/*
 * Client: ask the tap at path to insert mark name and wait for the answer.
 * Returns 0 and the mark's seq, or -1: errno set, and for a refusal by the
 * tap errno EPROTO with the tap's reason in why[].
 */
int	 cdp_control_mark(const char *path, const char *name, uint64_t *seq,
	    char why[CDP_CONTROL_LINE_MAX]);

#endif
