/*
 * cdp_intake.c: read a journal's records, compress them ahead, and say
 * when the input pauses.
 *
 * A record read is held (have_in) until it is handed to the compressor,
 * or, without one, to the caller.  A pause, the end of the input, and a
 * STREAM_HDR (which the caller takes decoded, and after everything before
 * it) first drain the compressor.
 */
#include <sys/poll.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cdp_compress.h"
#include "cdp_follow.h"
#include "cdp_intake.h"
#include "cdp_reader.h"
#include "cdp_source.h"

struct cdp_intake {
	struct cdp_source *src;
	struct cdp_reader *rd;
	struct cdp_compress *z;
	int		 flags;
	int		 poll_fd;	/* what may keep us waiting, or -1 */
	int		 file_fd;	/* a plain journal file, or -1 */
	struct cdp_record *in;		/* read, large */
	struct cdp_record *out;		/* compressed, large */
	int		 have_in;	/* in is not handed on yet */
	int		 pause_in;	/* and the input paused after it */
	int		 draining;	/* what is compressed goes out first */
	int		 end;		/* the reader is done: */
	int		 end_rc;	/* 0 at the end, -1 on a problem */
	char		 err[512];
};

/*
 * A regular file, opened here so that its descriptor is the one read (the
 * file its records are in even if path is renamed meanwhile).  NULL with
 * errno 0 for anything else (a directory, a FIFO, "-", a name that does
 * not open: cdp_source_open() decides and says why).
 */
static struct cdp_source *
open_file(struct cdp_intake *in, const char *path)
{
	struct cdp_source *src;
	struct stat sb;
	int fd, e;

	/*
	 * Anything else is not even opened here: a FIFO would be opened
	 * twice (and should one take the file's place meanwhile, O_NONBLOCK
	 * keeps the open from waiting for a writer; a file ignores it).
	 */
	if (strcmp(path, "-") == 0 || stat(path, &sb) == -1 ||
	    !S_ISREG(sb.st_mode) ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1) {
		errno = 0;
		return NULL;
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		close(fd);
		errno = 0;
		return NULL;
	}
	if ((src = cdp_source_fd(fd, path)) == NULL) {
		e = errno;
		close(fd);
		errno = e != 0 ? e : EIO;
		return NULL;
	}
	in->file_fd = fd;
	return src;
}

struct cdp_intake *
cdp_intake_open(const char *path, int flags, int level, int threads)
{
	struct cdp_intake *in;
	struct stat sb;
	int fd, e;

	if ((in = calloc(1, sizeof(*in))) == NULL)
		return NULL;
	in->flags = flags;
	in->poll_fd = -1;
	in->file_fd = -1;
	if ((in->in = malloc(sizeof(*in->in))) == NULL ||
	    (in->out = malloc(sizeof(*in->out))) == NULL)
		goto fail;
	if (path == NULL) {
		if (fstat(STDIN_FILENO, &sb) == 0 && !S_ISREG(sb.st_mode))
			in->poll_fd = STDIN_FILENO;
		in->src = cdp_source_fd(STDIN_FILENO, "-");
	} else if (flags & CDP_INTAKE_FOLLOW) {
		/* The follower's pipe never ends; it lives as long as we do. */
		if (cdp_follow_open(path, &fd) == NULL)
			goto fail;
		if ((in->src = cdp_source_fd(fd, path)) == NULL)
			close(fd);
		in->poll_fd = fd;
	} else if ((in->src = open_file(in, path)) == NULL && errno == 0)
		in->src = cdp_source_open(path);
	if (in->src == NULL || (in->rd = cdp_reader_open(in->src, 0)) == NULL)
		goto fail;
	if (level > 0 && (in->z = cdp_compress_open(level, threads)) == NULL)
		goto fail;
	return in;
fail:
	e = errno;
	cdp_intake_close(in);
	errno = e;
	return NULL;
}

/* Whether the input has nothing to read right now. */
static int
pauses(const struct cdp_intake *in)
{
	struct pollfd p = { .fd = in->poll_fd, .events = POLLIN };

	if (in->flags & CDP_INTAKE_EACH)
		return 1;
	return in->poll_fd != -1 && poll(&p, 1, 0) != 1;
}

int
cdp_intake_next(struct cdp_intake *in, const struct cdp_record **rec,
    int *pause)
{
	int rc;

	for (;;) {
		if (in->z != NULL) {
			if (in->have_in && in->in->type != CDP_T_STREAM_HDR) {
				if (cdp_compress_put(in->z, in->in) == 0) {
					in->have_in = 0;
					in->draining |= in->pause_in;
				} else if (errno != EAGAIN) {
					snprintf(in->err, sizeof(in->err),
					    "--compress: %s", strerror(errno));
					return -1;
				}
			}
			/* No room for the record read: the oldest go first. */
			if (cdp_compress_get(in->z, in->out,
			    in->draining || in->have_in) == 1) {
				*rec = in->out;
				*pause = in->draining && !in->have_in &&
				    cdp_compress_pending(in->z) == 0;
				if (*pause)
					in->draining = 0;
				return 1;
			}
			if (cdp_compress_pending(in->z) == 0)
				in->draining = 0;
		}
		if (in->have_in) {
			in->have_in = 0;
			*rec = in->in;
			*pause = in->pause_in;
			return 1;
		}
		if (in->end)
			return in->end_rc;
		if ((rc = cdp_reader_next(in->rd, in->in)) != 1) {
			if (rc == -1)
				snprintf(in->err, sizeof(in->err), "%s: %s",
				    cdp_source_name(in->src),
				    cdp_reader_error(in->rd));
			in->end = 1;
			in->end_rc = rc;
			in->draining = 1;
			continue;
		}
		in->have_in = 1;
		in->pause_in = pauses(in);
		if (in->in->type == CDP_T_STREAM_HDR)
			in->draining = 1;
	}
}

int
cdp_intake_file(const struct cdp_intake *in)
{
	if (in->z != NULL || cdp_source_kind(in->src) != CDP_SOURCE_JOURNAL)
		return -1;
	return in->file_fd;
}

const char *
cdp_intake_error(const struct cdp_intake *in)
{
	return in->err;
}

void
cdp_intake_close(struct cdp_intake *in)
{
	if (in == NULL)
		return;
	cdp_compress_close(in->z);
	cdp_reader_close(in->rd);
	cdp_source_close(in->src);
	if (in->file_fd != -1)
		close(in->file_fd);
	free(in->in);
	free(in->out);
	free(in);
}
