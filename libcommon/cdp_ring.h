/*
 * cdp_ring.h: the shared-memory ring between the cdp-tap preload shim
 * (producers: every tapped process and thread) and cdp-tap (the consumer).
 *
 * The region is a memfd that cdp-tap creates and the tapped processes
 * inherit, together with the read end of a pipe whose write end only
 * cdp-tap holds ("alive" pipe: POLLHUP on it means the tap is gone, and
 * POLLERR on the tap's end means every tapped process is gone).  Both are
 * descriptors, never paths, so a process that drops privileges keeps its
 * access.
 *
 * The ring is one byte stream: a producer reserves a record with one
 * compare-and-swap on the head position, fills it in place and publishes it
 * by storing the position into the record (the commit stamp).  The position
 * is the record's place in the journal.  A producer reserves while holding
 * the striped lock of what it changed (cdp_ring_lock), taken before the
 * system call that made the change, so two changes of the same object are
 * in the journal in the order they took effect.  No system call happens on
 * this path unless the ring is full (then the producer sleeps on a futex:
 * back-pressure, never a drop) or a lock is contended.
 *
 * The consumer reads records in position order and releases their space in
 * batches.
 */
#ifndef CDP_RING_H
#define CDP_RING_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct cdp_record;
struct cdp_ring;

#define CDP_RING_SIZE		(32u * 1024 * 1024)	/* data area */
#define CDP_RING_DATA_MAX	(1024u * 1024)		/* file data per record */
#define CDP_RING_LOCK_NS	0	/* the lock key of namespace changes */

/*
 * One record as a producer writes it.  Strings are not NUL-terminated;
 * they follow the struct in the order path, path2, name, then data.
 */
struct cdp_ring_rec {
	uint64_t	 rstamp;	/* position, stored when reserved */
	uint64_t	 cstamp;	/* position, stored when committed */
	uint32_t	 len;		/* bytes of the record, 8-aligned */
	uint32_t	 tid;		/* the producer, to notice a dead one */
	uint16_t	 type;		/* CDP_T_*; 0 is padding */
	uint16_t	 path_len;
	uint16_t	 path2_len;
	uint16_t	 name_len;
	uint32_t	 data_len;
	uint32_t	 mode;		/* CREATE/MKDIR/SETATTR mode, FALLOCATE mode */
	uint32_t	 rflags;	/* RENAME/FSYNC flags, SETATTR valid */
	uint32_t	 uid, gid;
	int64_t		 time_ns;
	int64_t		 atime_ns, mtime_ns;
	uint64_t	 off;		/* WRITE/FALLOCATE offset, TRUNCATE size */
	uint64_t	 len2;		/* FALLOCATE length */
	char		 bytes[];
};

/* Producer side (the preload shim). */

/* Map the region of memfd; alive_fd is the pipe's read end. */
struct cdp_ring *cdp_ring_attach(int memfd, int alive_fd);

/*
 * Reserve a record with room for the given string and data lengths; tid
 * is the calling thread (the caller caches it: no gettid(2) per record).  NULL
 * when the tap is gone or the ring was shut: the caller then goes on
 * without journaling (the program's own work must never stop).
 */
struct cdp_ring_rec *cdp_ring_reserve(struct cdp_ring *, uint32_t tid,
	    size_t strings, size_t data);

/* Publish a reserved record; rec's fields must all be set. */
void	 cdp_ring_commit(struct cdp_ring *, struct cdp_ring_rec *);

/* Ask the consumer to look now instead of at its next poll. */
void	 cdp_ring_kick(struct cdp_ring *);

/*
 * Striped locks shared by all tapped processes, keyed by inode (or
 * CDP_RING_LOCK_NS), held by thread tid.  A lock whose owner died is taken
 * over.
 */
void	 cdp_ring_lock(struct cdp_ring *, uint64_t key, uint32_t tid);
void	 cdp_ring_unlock(struct cdp_ring *, uint64_t key);
uint64_t cdp_ring_inode_key(uint64_t dev, uint64_t ino);

/*
 * The tap's effective uid and gid: what a replay as that user gives new
 * files anyway, so only other owners need a SETATTR.
 */
void	 cdp_ring_owner(const struct cdp_ring *, uint32_t *uid, uint32_t *gid);

/* Whether the tap is gone or has shut the ring. */
int	 cdp_ring_closed(struct cdp_ring *);

/* Consumer side (cdp-tap). */

/* Create a region; its descriptors are inherited by children. */
struct cdp_ring *cdp_ring_create(void);
int	 cdp_ring_memfd(const struct cdp_ring *);
int	 cdp_ring_alive_fd(const struct cdp_ring *);	/* the read end */

/*
 * Close the descriptors only the children need (after the fork), so that
 * the tap can notice when every tapped process is gone.
 */
void	 cdp_ring_parent_close(struct cdp_ring *);

/* 1 if no tapped process holds the region any more. */
int	 cdp_ring_orphaned(struct cdp_ring *);

/*
 * The next record, waiting up to timeout_ms for one.  Returns 1 and sets
 * *rec, 0 when there is none yet, -1 with errno EPIPE when a record can
 * never complete (its producer died before it wrote the record header and
 * no producer is left).  A record whose producer died after reserving it
 * is skipped and counted (cdp_ring_lost()).
 */
int	 cdp_ring_next(struct cdp_ring *, const struct cdp_ring_rec **rec,
	    int timeout_ms);

/*
 * Done with the record cdp_ring_next() returned; its memory may be reused
 * from now on.  Space is handed back every few MiB by itself.
 */
void	 cdp_ring_consume(struct cdp_ring *, const struct cdp_ring_rec *);

/* Hand the space of all consumed records back to the producers now. */
void	 cdp_ring_release(struct cdp_ring *);

/* Position of the next record to be reserved, and to be read. */
uint64_t cdp_ring_head(const struct cdp_ring *);
uint64_t cdp_ring_tail(const struct cdp_ring *);
uint64_t cdp_ring_lost(const struct cdp_ring *);

/* Stop producers from journaling (they go on unjournaled) and wake all. */
void	 cdp_ring_shut(struct cdp_ring *);

/* Unmap (and, for the tap, close what it holds). */
void	 cdp_ring_close(struct cdp_ring *);

/*
 * Fill rec (type, times, paths, data pointing into the ring) from r.
 * Returns 0, or -1 with errno EBADMSG if r's lengths do not fit.
 */
int	 cdp_ring_to_record(const struct cdp_ring_rec *r,
	    struct cdp_record *rec);

#endif
