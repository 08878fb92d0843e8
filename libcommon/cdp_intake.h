/*
 * cdp_intake.h: cdp-send's input: the records of a journal, compressed
 * if asked, and when to pass them on.
 *
 * The input is standard input, a JOURNAL as cdp_source_open() takes it,
 * or a growing file followed like tail -F (cdp_follow.h).  Records come
 * out in order.  With compression they are compressed ahead, on other
 * threads (cdp_compress.h), and come out once compressed.
 *
 * With each record comes whether the input pauses: it has nothing more
 * to read right now (a pipe that is empty; never a file), or the caller
 * asked for a pause after every record.  Every record read so far has
 * then come out, and the caller should pass on what it holds rather than
 * wait for more.
 */
#ifndef CDP_INTAKE_H
#define CDP_INTAKE_H

#include "cdp_record.h"

struct cdp_intake;

/* Flags for cdp_intake_open(). */
#define CDP_INTAKE_FOLLOW	0x1	/* keep reading path as it grows */
#define CDP_INTAKE_EACH		0x2	/* pause after every record */

/*
 * Read path (NULL: standard input), compressing at zlib level (0: not)
 * on threads threads besides the caller's.  NULL and errno.
 */
struct cdp_intake *cdp_intake_open(const char *path, int flags, int level,
	    int threads);

/*
 * The next record: 1 with *rec (valid until the next call; a compressed
 * record has only the fields that cdp_compress_get() sets) and *pause,
 * 0 at the end of the input, -1 on a problem with it (after every sound
 * record before it came out; see cdp_intake_error()).
 */
int	 cdp_intake_next(struct cdp_intake *, const struct cdp_record **rec,
	    int *pause);

/*
 * The descriptor of the journal being read when it is a plain journal
 * file (not standard input, a pipe, a pcap file or a store, nor followed)
 * read without compression: the records' offsets are then offsets in it,
 * and their bytes can be read there again.  -1 otherwise.  The intake
 * keeps it open until cdp_intake_close().
 */
int	 cdp_intake_file(const struct cdp_intake *);

/* What went wrong: "load.cdpj: offset 96: bad header CRC". */
const char *cdp_intake_error(const struct cdp_intake *);

void	 cdp_intake_close(struct cdp_intake *);

#endif
