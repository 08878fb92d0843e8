/*
 * cdp_reader.h: streaming, validating journal reader.
 *
 * The reader validates every header (magic, header CRC, lengths against
 * the caps) before it allocates, checks the payload CRC before it trusts a
 * payload, inflates compressed payloads to exactly raw_len bytes, decodes
 * the payload, and enforces the stream rules of cdp-journal(5): a stream
 * starts with STREAM_HDR, numbered records follow each other with no gap or
 * repeat per stream, nothing follows STREAM_END but a new STREAM_HDR.
 *
 * On a problem cdp_reader_next() returns -1 and cdp_reader_error() says what
 * and where ("offset 4096: bad header CRC").  The error is sticky until the
 * caller asks for cdp_reader_resync(): then the reader skips what it can
 * no longer trust and goes on (scanning for the next valid header after
 * garbage, accepting a seq gap as the new numbering, and so on).
 */
#ifndef CDP_READER_H
#define CDP_READER_H

#include <stdint.h>

#include "cdp_record.h"
#include "cdp_source.h"

struct cdp_reader;

/* What went wrong, for callers that act on the class of a problem. */
enum cdp_reader_err {
	CDP_RE_NONE = 0,
	CDP_RE_IO,		/* the source failed: errno */
	CDP_RE_TRUNCATED,	/* the input ends inside a record */
	CDP_RE_MAGIC,		/* bytes where a header should be are not one */
	CDP_RE_HDR_CRC,		/* header CRC mismatch */
	CDP_RE_HDR_BAD,		/* header fields out of range */
	CDP_RE_TOO_BIG,		/* a length over CDP_PAYLOAD_MAX */
	CDP_RE_PAYLOAD_CRC,	/* payload CRC mismatch */
	CDP_RE_INFLATE,		/* compressed payload does not inflate to raw_len */
	CDP_RE_PAYLOAD,		/* payload malformed for its type */
	CDP_RE_PADDING,		/* non-zero padding */
	CDP_RE_MUST_UNDERSTAND,	/* unknown type with MUST_UNDERSTAND */
	CDP_RE_SEQ_GAP,		/* seq jumped forward */
	CDP_RE_SEQ_REPEAT,	/* seq repeated or went back */
	CDP_RE_ORDER		/* record outside a stream, bad STREAM_END, ... */
};

/* Flags for cdp_reader_open(). */
#define CDP_READER_KEEP_UNKNOWN	0x1	/* return skippable unknown records too */
#define CDP_READER_RETURN	0x2	/* a return channel: only ACK and RESUME */
/*
 * Frames only: every check of framing, both CRCs, numbering and stream
 * rules, but the payload of a numbered record (WRITE, MARK, ...) is
 * neither inflated nor decoded: such a record comes back with its header
 * fields and raw bytes, and no path, data or other payload field.  For a
 * receiver that stores records as they are (cdp-recv); a compressed
 * payload that does not inflate is then found by its readers.
 */
#define CDP_READER_FRAMES	0x4

/* The reader does not own src; close it after the reader. */
struct cdp_reader *cdp_reader_open(struct cdp_source *src, int flags);

/*
 * Read the next record into rec.  Returns 1 with rec filled in, 0 at a
 * clean end of input, -1 on a problem (see cdp_reader_error()).  Unknown
 * record types without MUST_UNDERSTAND are skipped silently unless
 * CDP_READER_KEEP_UNKNOWN.
 */
int	 cdp_reader_next(struct cdp_reader *, struct cdp_record *rec);

/*
 * After -1, arrange for the next cdp_reader_next() to continue past the
 * problem.  Returns 0, or -1 if the problem cannot be passed (I/O error).
 */
int	 cdp_reader_resync(struct cdp_reader *);

const char *cdp_reader_error(const struct cdp_reader *);
enum cdp_reader_err cdp_reader_errcode(const struct cdp_reader *);
uint64_t cdp_reader_error_offset(const struct cdp_reader *);

/*
 * After the end (0): whether the input was a store whose last segment ends
 * inside a record, the one being written; that record was not returned.
 */
int	 cdp_reader_torn_tail(const struct cdp_reader *);

/* Bytes consumed so far (the stream offset of the next record). */
uint64_t cdp_reader_offset(const struct cdp_reader *);

/* The current stream: uuid of the last STREAM_HDR, last seq seen. */
const uint8_t *cdp_reader_uuid(const struct cdp_reader *);
uint64_t cdp_reader_last_seq(const struct cdp_reader *);

void	 cdp_reader_close(struct cdp_reader *);

#endif
