/*
 * cdp_follow.h: read a growing file, tail -F style.
 *
 * cdp_follow_open() starts a thread that copies the file into a pipe and,
 * at the end of the file, waits for more instead of ending; when the name
 * comes to point at another file (log rotation) or the file shrinks, it
 * goes on from the start of what the name points at now.  The caller
 * reads the pipe like any journal input; the pipe never ends.
 */
#ifndef CDP_FOLLOW_H
#define CDP_FOLLOW_H

struct cdp_follow;

/* Returns the handle and the pipe's read end in *fd; NULL and errno. */
struct cdp_follow *cdp_follow_open(const char *path, int *fd);

#endif
