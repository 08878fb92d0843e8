/*
 * cdp_tapout.h: the output side of a tap (cdp-tap, and its FUSE mode):
 * the journal writer, marks requested over the control socket, FSYNC
 * handling and heartbeats.
 *
 * A tap feeds change records in journal order with their ring position
 * (any increasing number that orders them against mark requests).  A mark
 * requested when the producers had reserved up to position P goes into the
 * stream before the first record at or after P; its requester is answered
 * once the mark has been written out.
 */
#ifndef CDP_TAPOUT_H
#define CDP_TAPOUT_H

#include <stdint.h>

#include "cdp_record.h"

struct cdp_tapout;

#define CDP_TAPOUT_SYNC		0x1	/* fdatasync the output at FSYNC */

struct cdp_tapout *cdp_tapout_open(int fd, int level, int flags,
	    const char *source);

/* Emit marks due before position pos, then rec (a change record). */
int	 cdp_tapout_put(struct cdp_tapout *, uint64_t pos,
	    const struct cdp_record *rec);

/* A mark request from connection cfd, due before position pos. */
int	 cdp_tapout_mark(struct cdp_tapout *, int cfd, const char *name,
	    uint64_t pos);

/*
 * Nothing more to read for now; everything before position pos has been
 * put.  Emits due marks, writes out what is buffered, syncs if a FSYNC
 * asked for it, answers the marks written, and sends a HEARTBEAT when
 * nothing was written for heartbeat_ms.
 */
int	 cdp_tapout_idle(struct cdp_tapout *, uint64_t pos, int heartbeat_ms);

/* STREAM_END and flush; pending marks are refused. */
int	 cdp_tapout_end(struct cdp_tapout *);

/* The output failed: refuse pending marks with reason. */
void	 cdp_tapout_abort(struct cdp_tapout *, const char *why);

uint64_t cdp_tapout_records(const struct cdp_tapout *);
uint64_t cdp_tapout_bytes(const struct cdp_tapout *);
void	 cdp_tapout_close(struct cdp_tapout *);

#endif
