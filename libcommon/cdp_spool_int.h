/*
 * cdp_spool_int.h: the spool's insides, shared by its two kinds.
 *
 * cdp_spool.c has the index, the public calls and the spool on a store
 * directory; cdp_spool_file.c has the spool on a journal file, which is
 * its own store (sp->file is set, sp->st is NULL).  Each public call that
 * differs hands a file's spool to its cdp_spool_file_*() counterpart.
 * Nothing outside those two files includes this header.
 */
#ifndef CDP_SPOOL_INT_H
#define CDP_SPOOL_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "cdp_spool.h"
#include "cdp_streamrule.h"

struct cdp_spool_file;

struct cdp_spool {
	struct cdp_store *st;		/* a spool directory's store, or */
	struct cdp_spool_file *file;	/* a journal file's own */
	char		*dir;		/* directory or file, for messages */
	uint64_t	 max_bytes;
	pthread_mutex_t	 mu;

	struct cdp_spool_rec *ix;	/* entries [head, head + len) */
	size_t		 head, len, cap;
	uint64_t	 base;		/* position of ix[head] */
	uint64_t	 flushed;	/* position after the last flushed */
	uint64_t	 acked;
	int64_t		 acked_at;

	int		 rfd;		/* segment being read */
	uint64_t	 rseg;
	uint64_t	 held;		/* bytes of the records indexed */
	char		 err[512];
};

/* A spool with nothing behind it yet, named name: NULL and errno. */
struct cdp_spool *cdp_spool_new(const char *name, uint64_t max_bytes);

/* Free what cdp_spool_new() made (NULL is fine); errno is kept. */
void	 cdp_spool_free(struct cdp_spool *);

/* The index; called with mu held. */
int	 cdp_spool_ix_push(struct cdp_spool *, const struct cdp_spool_rec *);
int	 cdp_spool_ix_ended(const struct cdp_spool *);
void	 cdp_spool_ix_skip_to(struct cdp_spool *, uint64_t seq);

/*
 * The spool's side of the stream rule, for both kinds: 1 for a record
 * held already (a repeat, a second STREAM_END), -1 with errno EINVAL for
 * a seq past the next, else 0 and the verdict in *fit, for what holds the
 * records to judge.
 */
int	 cdp_spool_fit(struct cdp_spool *, const struct cdp_streamrule_at *,
	    const struct cdp_record *, enum cdp_streamrule_fit *fit);

/* cdp_spool_file.c: the public calls of the same name, on a file. */
int	 cdp_spool_file_uuid(struct cdp_spool *, uint8_t uuid[16]);
const uint8_t *cdp_spool_file_header(struct cdp_spool *, size_t *len);
uint64_t cdp_spool_file_next_seq(struct cdp_spool *);
int	 cdp_spool_file_ended(struct cdp_spool *);
int	 cdp_spool_file_begin(struct cdp_spool *, const struct cdp_record *);
int	 cdp_spool_file_put(struct cdp_spool *, const struct cdp_record *);
int	 cdp_spool_file_skip_to(struct cdp_spool *, uint64_t seq);
uint64_t cdp_spool_file_bytes(struct cdp_spool *);
void	 cdp_spool_file_close(struct cdp_spool *);

/* The file, to read and send records from. */
int	 cdp_spool_file_fd(struct cdp_spool *);

/* The file came up short while sending: ESTALE, with why; -1. */
int	 cdp_spool_file_changed(struct cdp_spool *);

#endif
