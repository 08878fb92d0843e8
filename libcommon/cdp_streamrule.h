/*
 * cdp_streamrule.h: where a record may go in a stream being held.
 *
 * A store (cdp_store_append()) and a spool on a journal file (which takes
 * what a store would take) hold a stream by the same rules: a numbered
 * record follows the last one; a second STREAM_END says nothing new; a
 * STREAM_END names the last seq; a HEARTBEAT before anything is held, or
 * after the end, has no place.  The rules are judged here, from what the
 * holder says of where it stands, so that the two cannot drift apart.
 * What to do with a verdict is the caller's: a store refuses a repeat, a
 * spool takes it as held already (its input is read again from the
 * start).
 */
#ifndef CDP_STREAMRULE_H
#define CDP_STREAMRULE_H

#include <stddef.h>
#include <stdint.h>

#include "cdp_record.h"

/* Where the stream held stands. */
struct cdp_streamrule_at {
	uint64_t	 next_seq;	/* the seq the next record must have */
	int		 have_records;	/* next_seq binds (records came) */
	int		 ended;		/* the last record held: STREAM_END */
	int		 started;	/* anything held: a HEARTBEAT fits */
};

enum cdp_streamrule_fit {
	CDP_FIT_NEXT,		/* it goes next */
	CDP_FIT_REPEAT,		/* a seq below next_seq */
	CDP_FIT_GAP,		/* a seq past next_seq: records missing */
	CDP_FIT_END_AGAIN,	/* a second STREAM_END */
	CDP_FIT_BAD_END,	/* STREAM_END naming another last seq */
	CDP_FIT_IDLE		/* a HEARTBEAT with no place: only its time */
};

/*
 * Where rec fits.  A numbered record is judged by its seq whatever its
 * type.  A STREAM_HDR is the holder's own business (it starts a section),
 * and fits as NEXT.
 */
enum cdp_streamrule_fit cdp_streamrule_fit(const struct cdp_streamrule_at *,
	    const struct cdp_record *rec);

/*
 * Why rec, which fits as REPEAT, GAP or BAD_END, is refused, in a store's
 * words ("seq 9 where 7 is next"), into why.  Returns -1, errno EINVAL.
 */
int	 cdp_streamrule_refuse(enum cdp_streamrule_fit,
	    const struct cdp_streamrule_at *, const struct cdp_record *rec,
	    char *why, size_t whylen);

#endif
