/*
 * cdp_compress.h: compress records in flight, on every CPU, in order.
 *
 * cdp-send --compress deflates each record on its own (cdp-journal(5),
 * COMPRESSION), which costs far more than anything else it does; this
 * spreads that work over worker threads.  Records put are copied into
 * batches; the workers, and the caller whenever it would otherwise wait,
 * compress whole batches; the caller takes the records back in the order
 * it put them, each compressed where that made it strictly smaller and
 * as it was otherwise.
 *
 * Only the caller's thread calls these functions.
 */
#ifndef CDP_COMPRESS_H
#define CDP_COMPRESS_H

#include "cdp_record.h"

struct cdp_compress;

/*
 * Compress at zlib level (1 to 9) with threads worker threads besides the
 * caller (0: all the work is done in cdp_compress_get()).  NULL and errno.
 */
struct cdp_compress *cdp_compress_open(int level, int threads);

/* A worker for each CPU but the caller's, at most max. */
int	 cdp_compress_threads(int max);

/*
 * Put a framed record (as read: raw, raw_size, type, flags, seq, time_ns,
 * u64, stored_len; it is copied).  -1 with errno EAGAIN when there is no
 * room: take records back with cdp_compress_get() first.
 */
int	 cdp_compress_put(struct cdp_compress *, const struct cdp_record *rec);

/*
 * Take the next record back into out, of which only type, flags, seq,
 * time_ns, u64, stored_len, raw_len, raw and raw_size are set (raw points
 * into the handle, valid until the next call).  With wait 0, only a record
 * ready now; with wait 1, every record put comes back, compressing and
 * waiting as needed.  Returns 1, or 0 when there is none (ready).
 */
int	 cdp_compress_get(struct cdp_compress *, struct cdp_record *out,
	    int wait);

/* Records put and not taken back yet. */
int	 cdp_compress_pending(const struct cdp_compress *);

void	 cdp_compress_close(struct cdp_compress *);

#endif
