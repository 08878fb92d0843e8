/*
 * cdp_streamrule.c: where a record may go in a stream being held.
 */
#include <errno.h>
#include <inttypes.h>

#include "cdp_err.h"
#include "cdp_streamrule.h"

enum cdp_streamrule_fit
cdp_streamrule_fit(const struct cdp_streamrule_at *at,
    const struct cdp_record *rec)
{
	if (rec->seq != 0 && at->have_records && rec->seq != at->next_seq)
		return rec->seq < at->next_seq ? CDP_FIT_REPEAT : CDP_FIT_GAP;
	if (rec->type == CDP_T_STREAM_END) {
		if (at->ended)
			return CDP_FIT_END_AGAIN;
		if (at->have_records && rec->u64 != at->next_seq - 1)
			return CDP_FIT_BAD_END;
	}
	if (rec->type == CDP_T_HEARTBEAT && (!at->started || at->ended))
		return CDP_FIT_IDLE;
	return CDP_FIT_NEXT;
}

int
cdp_streamrule_refuse(enum cdp_streamrule_fit fit,
    const struct cdp_streamrule_at *at, const struct cdp_record *rec,
    char *why, size_t whylen)
{
	errno = EINVAL;
	if (fit == CDP_FIT_BAD_END)
		return cdp_seterr(why, whylen, "STREAM_END with last_seq %"
		    PRIu64 " after seq %" PRIu64, rec->u64, at->next_seq - 1);
	return cdp_seterr(why, whylen, "seq %" PRIu64 " where %" PRIu64
	    " is next", rec->seq, at->next_seq);
}
