/*
 * cdp_store.h: a store, where cdp-recv keeps one stream durably.
 *
 * The handle hides where the store lives.  This back-end is a directory
 * laid out as in cdp-journal(5), STORE DIRECTORY: segment files named by
 * the seq of their first numbered record, each starting with the stream's
 * STREAM_HDR, a "state" file replaced atomically, and a "lock" file held
 * with flock(2).  The calls below are all a receiver needs, so that another
 * back-end (an object store) can offer the same ones.
 *
 * Writing is split in two, for group commit: cdp_store_append() hands a
 * record to the store (written, not yet durable); cdp_store_commit() makes
 * everything appended so far durable with one flush, and may be called from
 * another thread while appends go on.  Everything else is called from the
 * appending thread.
 *
 * Errors: -1 (or NULL) with errno set, and for a handle a message in
 * cdp_store_error() such as "00000000000000000001.cdpj: No space left on
 * device".  Things worth telling the user that are not errors (a torn
 * record trimmed on open) are in cdp_store_notice().
 */
#ifndef CDP_STORE_H
#define CDP_STORE_H

#include <stdint.h>

#include "cdp_record.h"

struct cdp_store;

/* Flags for cdp_store_open(). */
#define CDP_STORE_CREATE	0x1	/* create the directory if missing */
#define CDP_STORE_NOSYNC	0x2	/* never fsync: a cache, not a store */

#define CDP_STORE_SEGMENT_SIZE	(64ull * 1024 * 1024)	/* default */

/* Where an appended record went: segment (its first seq) and offset. */
struct cdp_store_pos {
	uint64_t	 segment;
	uint64_t	 offset;
};

/*
 * Open (and with CDP_STORE_CREATE create) the store at path, taking its
 * lock: EWOULDBLOCK if another process holds it.  A torn write at the end
 * of the last segment (a record cut short by the end of the file, or zeros
 * up to it) is cut off (see cdp_store_notice()), and a last segment that
 * held nothing more is removed.  Other damage to the last segment is
 * EBADMSG, and nothing is changed: those records may have been
 * acknowledged.  (With CDP_STORE_NOSYNC, a cache, whatever follows the
 * last sound record is cut off.)  On failure returns NULL with errno set,
 * and *why (if not NULL) points to a static copy of the message.
 */
struct cdp_store *cdp_store_open(const char *path, int flags,
	    const char **why);

/* Start a new segment once the current one holds this many bytes. */
void	 cdp_store_set_segment_size(struct cdp_store *, uint64_t bytes);

/*
 * The stream the store holds: returns 1 and fills uuid, or 0 if the store
 * holds none yet.
 */
int	 cdp_store_uuid(const struct cdp_store *, uint8_t uuid[16]);

/* The framed STREAM_HDR new segments start with; NULL if none yet. */
const uint8_t *cdp_store_header(const struct cdp_store *, size_t *len);

/* The seq the store wants next: last seq stored + 1, 1 if none. */
uint64_t cdp_store_next_seq(const struct cdp_store *);

/* Whether the stream ended (STREAM_END is the last record stored). */
int	 cdp_store_ended(const struct cdp_store *);

/*
 * Start a section: hdr is the STREAM_HDR of the stream being appended.  A
 * store that holds no stream takes it; one that holds another fails with
 * EEXIST.  The header is copied to the start of every new segment.
 */
int	 cdp_store_begin(struct cdp_store *, const struct cdp_record *hdr);

/*
 * Append a record as framed (rec->raw, rec->raw_size).  A numbered record
 * must have seq next_seq (any seq >= 1 while the store holds no record);
 * EINVAL otherwise.  HEARTBEAT records before the first segment or after
 * STREAM_END, and a repeated STREAM_END, are dropped.  On failure (ENOSPC, EIO) nothing of
 * the record stays in the store, and the call may be repeated.  A dropped
 * HEARTBEAT still counts for cdp_store_durable_time().  pos, if
 * not NULL, says where the record went (unchanged when it was dropped).
 */
int	 cdp_store_append(struct cdp_store *, const struct cdp_record *rec,
	    struct cdp_store_pos *pos);

/*
 * What the last cdp_store_append() put in the store: 0 (nothing: the
 * record was dropped, or the call failed), or CDP_STORE_PUT_RECORD, with
 * CDP_STORE_PUT_HDR when the stream's STREAM_HDR went before it (a
 * section resumed after STREAM_END; not the header a new segment starts
 * with).  For a consumer that must see the records just as a reader of
 * the store will, such as cdp-recv --apply.
 */
#define CDP_STORE_PUT_NOTHING	0
#define CDP_STORE_PUT_RECORD	0x1
#define CDP_STORE_PUT_HDR	0x2
int	 cdp_store_last_put(const struct cdp_store *);

/*
 * Make every record appended so far durable (unless CDP_STORE_NOSYNC),
 * and about once a second (or with force) rewrite the state file.  Safe
 * to call from a second thread while cdp_store_append() runs.  Returns 0
 * or -1; after a failed flush the records not known to be durable are
 * cut off again, so that nothing unflushed is ever taken for durable.
 */
int	 cdp_store_commit(struct cdp_store *, int force);

/* Last seq durable (0 if none) and the newest record time durable. */
uint64_t cdp_store_durable_seq(const struct cdp_store *);
int64_t	 cdp_store_durable_time(const struct cdp_store *);

/*
 * Seal the last segment: no more records go into it.  The next record
 * starts a new segment; a HEARTBEAT is only noted.  (One record that
 * would name the new segment like the sealed one, as a STREAM_END can,
 * goes into the sealed segment after all, which then is no longer
 * sealed: a segment that grows after a seal is sealed again later.)
 * Safe to call from another thread than the appending one.  first names
 * the segment meant; -1 (ENOENT) if the last segment is another (or there
 * is none), else 0 with its size in bytes and its last seq (first - 1 if
 * it holds no numbered record).  Sealing a sealed segment again changes
 * nothing.  For a back-end that ships segments elsewhere (s3).
 */
int	 cdp_store_seal(struct cdp_store *, uint64_t first, uint64_t *size,
	    uint64_t *last);

/* Bytes appended to segment first so far (0: no such segment). */
uint64_t cdp_store_segment_bytes(const struct cdp_store *, uint64_t first);

/* Whether the first size bytes of segment first are durable. */
int	 cdp_store_durable_through(const struct cdp_store *, uint64_t first,
	    uint64_t size);

/*
 * Remove whole segments whose records all have seq <= seq, never the last
 * one.  Readers that opened a segment before keep reading it.
 */
int	 cdp_store_drop_through(struct cdp_store *, uint64_t seq);

/*
 * Remove every segment.  With next_seq 0 the state goes too and the store
 * holds no stream again; otherwise the stream stays, and the next
 * numbered record must have seq next_seq (the records before it are
 * known to be elsewhere).
 */
int	 cdp_store_clear(struct cdp_store *, uint64_t next_seq);

/* The segments, by the seq that names them: a malloc'ed array. */
int	 cdp_store_segments(const struct cdp_store *, uint64_t **first,
	    size_t *n);

/* Bytes in the store's segments. */
uint64_t cdp_store_bytes(const struct cdp_store *);

/* Open a segment for reading, by the seq that names it.  -1 and errno. */
int	 cdp_store_open_segment(const struct cdp_store *, uint64_t segment);

const char *cdp_store_error(const struct cdp_store *);
const char *cdp_store_notice(const struct cdp_store *);	/* "" if none */

/* Commit (forced), release the lock and free.  Returns what commit did. */
int	 cdp_store_close(struct cdp_store *);

/*
 * What a file name in a store directory is: CDP_STORE_SEGMENT for a
 * segment ("%020llu.cdpj", *seq its first seq), CDP_STORE_BASE for a base
 * ("%020llu.base.cdpj", *seq the last seq it folds), 0 for anything else.
 */
#define CDP_STORE_SEGMENT	1
#define CDP_STORE_BASE		2
#define CDP_STORE_NAME_MAX	30	/* the longer of the two names */
int	 cdp_store_name_kind(const char *name, uint64_t *seq);

/* The directory of the store, for the fold (cdp_fold.h); not owned. */
int	 cdp_store_dirfd(const struct cdp_store *);

/* Read the state file of the store at path: key "durable_seq" etc. */
int	 cdp_store_read_state(const char *path, uint8_t uuid[16],
	    uint64_t *durable_seq, int64_t *last_time_ns);

#endif
