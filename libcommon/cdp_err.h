/*
 * cdp_err.h: the message of a failure, kept for the caller to print.
 *
 * libcommon never prints: a module formats why it failed into a buffer of
 * its own (its handle's "err", a caller's "why") and returns -1 with
 * errno set.  This is the one function that does that formatting, so that
 * formatting never loses errno.
 */
#ifndef CDP_ERR_H
#define CDP_ERR_H

#include <stddef.h>

/* Format into buf (always NUL-terminated), keep errno; returns -1. */
int	 cdp_seterr(char *buf, size_t size, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/*
 * s as it may go into a message, into buf (always NUL-terminated, cut
 * short if it must be): control characters (below 0x20, and 0x7f) and
 * backslashes written \xNN, so that what a journal or a bucket says
 * cannot drive the terminal it is printed on.  Returns buf.
 */
const char *cdp_err_escape(char *buf, size_t size, const char *s);

#endif
