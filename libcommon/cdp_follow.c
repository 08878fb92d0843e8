/*
 * cdp_follow.c: follow a growing file into a pipe.
 *
 * A thread and a pipe rather than a reader that retries at the end of its
 * input: the journal reader treats the end of input as final, and a pipe
 * that simply never ends fits it unchanged.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cdp_follow.h"
#include "cdp_proto.h"

#define POLL_NS		100000000L	/* look for more every 100 ms */
#define CHUNK		(256 * 1024)

struct cdp_follow {
	char		*path;
	int		 fd;		/* the file */
	int		 out;		/* the pipe's write end */
	pthread_t	 tid;
};

/* At the end of the file: has the name moved on, or the file shrunk? */
static void
maybe_reopen(struct cdp_follow *f)
{
	struct stat a, b;
	int fd;

	if (fstat(f->fd, &a) == -1 || stat(f->path, &b) == -1)
		return;
	if (a.st_dev == b.st_dev && a.st_ino == b.st_ino &&
	    lseek(f->fd, 0, SEEK_CUR) <= b.st_size)
		return;
	if ((fd = open(f->path, O_RDONLY | O_CLOEXEC)) == -1)
		return;
	close(f->fd);
	f->fd = fd;
}

static void *
follow(void *arg)
{
	struct cdp_follow *f = arg;
	char *buf = malloc(CHUNK);

	if (buf == NULL)
		return NULL;
	for (;;) {
		ssize_t n = read(f->fd, buf, CHUNK);

		if (n > 0) {
			if (cdp_write_all(f->out, buf, (size_t)n) == -1)
				break;
			continue;
		}
		if (n == -1 && errno != EINTR)
			break;
		if (n == 0) {
			struct timespec ts = { 0, POLL_NS };

			nanosleep(&ts, NULL);
			maybe_reopen(f);
		}
	}
	free(buf);
	close(f->out);
	return NULL;
}

struct cdp_follow *
cdp_follow_open(const char *path, int *fd)
{
	struct cdp_follow *f;
	int p[2], e;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return NULL;
	if ((f->path = strdup(path)) == NULL)
		goto fail;
	if ((f->fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		goto fail;
	if (pipe2(p, O_CLOEXEC) == -1) {
		e = errno;
		close(f->fd);
		errno = e;
		goto fail;
	}
	f->out = p[1];
	if ((e = pthread_create(&f->tid, NULL, follow, f)) != 0) {
		close(p[0]);
		close(p[1]);
		close(f->fd);
		errno = e;
		goto fail;
	}
	pthread_detach(f->tid);
	*fd = p[0];
	return f;
fail:
	e = errno;
	free(f->path);
	free(f);
	errno = e;
	return NULL;
}
