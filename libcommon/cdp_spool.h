/*
 * cdp_spool.h: cdp-send's spool, the records not yet acknowledged.
 *
 * A spool is a store directory (cdp_store.h, opened without fsync: it must
 * survive cdp-send, not the machine) plus an index in memory of every
 * record it holds, so that sending can start again from any seq after a
 * reconnection.  Records are dropped a whole segment at a time once the
 * receiver has acknowledged them.  The spool is bounded: cdp_spool_put()
 * fails with EAGAIN when it is full, and the caller waits for
 * acknowledgements (back-pressure, never loss).
 *
 * Records are numbered by their position in the spool (an index that only
 * grows), so a reader's position stays valid while older records go.
 * What cdp_spool_put() adds may sit in a buffer of the store (written with
 * one write(2) per group of records, not one per record); it is for
 * readers, and sent, from cdp_spool_flush() on.  All calls are safe from
 * several threads, with one reader (cdp_spool_read(), cdp_spool_send())
 * at a time.
 *
 * A spool may also be opened on a journal file that is being read
 * (cdp_spool_open_file()): the file holds the records already, so nothing
 * is copied.  The index then points into the file, and records go out
 * from it; everything else (what is held, acknowledged, where to start
 * again) works the same, for as long as the spool is open.  Nothing is
 * kept for a later cdp-send: that one reads the file again.
 */
#ifndef CDP_SPOOL_H
#define CDP_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "cdp_record.h"

struct cdp_spool;

/* What the index knows about one record. */
struct cdp_spool_rec {
	uint64_t	 seq;		/* 0 for control records */
	int64_t		 time_ns;
	uint16_t	 type;
	uint32_t	 size;		/* framed bytes */
	uint64_t	 segment;	/* where it is */
	uint64_t	 offset;
};

/*
 * Open (create) the spool directory dir, holding at most max_bytes.
 * Records already in it (cdp-send was restarted) are indexed again.
 * NULL with errno and *why on failure (EWOULDBLOCK: another cdp-send).
 */
struct cdp_spool *cdp_spool_open(const char *dir, uint64_t max_bytes,
	    const char **why);

/*
 * A spool of its own in a new directory under $TMPDIR (or /tmp), for a
 * sender given no --spool: *dir is set to it (malloc'ed), to be removed
 * with cdp_spool_remove_tmp() after cdp_spool_close().
 */
struct cdp_spool *cdp_spool_open_tmp(uint64_t max_bytes, char **dir,
	    const char **why);
void	 cdp_spool_remove_tmp(const char *dir);

/*
 * A spool on the journal file open on fd (name for messages), which the
 * caller reads and puts every record of, as read (with its offset in the
 * file), STREAM_HDRs included.  The spool keeps its own descriptor.  At
 * most max_bytes of the file are held (not acknowledged) at a time.
 */
struct cdp_spool *cdp_spool_open_file(int fd, const char *name,
	    uint64_t max_bytes, const char **why);

/* The stream held: 1 and uuid, or 0. */
int	 cdp_spool_uuid(struct cdp_spool *, uint8_t uuid[16]);

/* The framed STREAM_HDR of the stream held; NULL if none. */
const uint8_t *cdp_spool_header(struct cdp_spool *, size_t *len);

/* The seq the next numbered record must have (last seq held + 1). */
uint64_t cdp_spool_next_seq(struct cdp_spool *);

/* The last seq acknowledged, as far as the spool knows. */
uint64_t cdp_spool_acked(struct cdp_spool *);

/* Whether STREAM_END is held (the stream is complete in the spool). */
int	 cdp_spool_ended(struct cdp_spool *);

/*
 * Hold stream hdr.  A spool holding another stream whose records are all
 * acknowledged is emptied first; one with records not acknowledged fails
 * with EEXIST.
 */
int	 cdp_spool_begin(struct cdp_spool *, const struct cdp_record *hdr);

/*
 * Add a framed record (raw, raw_size, seq, time_ns, type; u64 for a
 * STREAM_END; offset for a spool on a file).  Returns 0, or 1 when it is
 * not added because the spool holds it or held it (a seq below
 * cdp_spool_next_seq(), a second STREAM_END), or -1 with errno: EAGAIN
 * when the spool is full, EINVAL for a seq past the next one.
 */
int	 cdp_spool_put(struct cdp_spool *, const struct cdp_record *rec);

/*
 * Write out what cdp_spool_put() added, and make it readable and sendable
 * (cdp_spool_end() moves on).  Call from the thread that calls
 * cdp_spool_put(), or with puts held off.  0, or -1 and errno.
 */
int	 cdp_spool_flush(struct cdp_spool *);

/*
 * The receiver has every record before seq, more than the spool: drop
 * everything, and take seq as the next record.  Call from the thread that
 * calls cdp_spool_put(), or with puts held off.
 */
int	 cdp_spool_skip_to(struct cdp_spool *, uint64_t seq);

/*
 * The receiver has everything up to seq: drop what is no longer needed.
 * each, if not NULL, is called with every numbered record newly
 * acknowledged and the time of the acknowledgement (to measure how long
 * each took).
 */
int	 cdp_spool_ack(struct cdp_spool *, uint64_t seq,
	    void (*each)(void *, const struct cdp_spool_rec *, int64_t),
	    void *arg);

/*
 * Position of the record to send first to a receiver that wants next_seq:
 * after the last record below next_seq, skipping heartbeats.  ERANGE if
 * records the receiver lacks were dropped already.
 */
int	 cdp_spool_find(struct cdp_spool *, uint64_t next_seq, uint64_t *pos);

/* Position after the last record flushed. */
uint64_t cdp_spool_end(struct cdp_spool *);

/*
 * Read the record at pos into *buf (grown as needed, *cap its size) and
 * describe it in *info (only describe it when buf is NULL).  A record not
 * flushed yet is flushed first (see cdp_spool_flush()).  Returns 1, 0 if
 * pos is the end, -1 and errno.
 */
int	 cdp_spool_read(struct cdp_spool *, uint64_t pos, uint8_t **buf,
	    size_t *cap, struct cdp_spool_rec *info);

/*
 * Write the records from position *pos to cdp_spool_end() to fd, straight
 * from the segment files (sendfile(2)), records that follow each other in
 * a segment with one call of up to CDP_SPOOL_SEND_MAX bytes; *pos
 * follows.  sent (if not NULL) is called before each such call with the
 * last seq it carries (0 if none) and its length.  Returns 0 when caught
 * up, or -1 with errno set (a write to fd or a read of the spool failed;
 * ESTALE: the journal file of a spool on one is shorter than when it was
 * read, see cdp_spool_error()).
 */
#define CDP_SPOOL_SEND_MAX	(1024 * 1024)
int	 cdp_spool_send(struct cdp_spool *, int fd, uint64_t *pos,
	    void (*sent)(void *, uint64_t seq, uint64_t bytes), void *arg);

uint64_t cdp_spool_bytes(struct cdp_spool *);
const char *cdp_spool_error(struct cdp_spool *);

/* Keep the acknowledged seq on disk, release the lock, free. */
void	 cdp_spool_close(struct cdp_spool *);

#endif
