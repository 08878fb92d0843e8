/*
 * cdp_writer.h: buffered journal writer.
 *
 * The writer numbers records, stamps their time, frames them (header, CRCs,
 * padding) and buffers them; with a compression level it deflates each
 * payload and keeps the result only when it is smaller.  Large WRITE data is
 * written from the caller's buffer without a copy.
 */
#ifndef CDP_WRITER_H
#define CDP_WRITER_H

#include <stdint.h>

#include "cdp_record.h"

struct cdp_writer;

#define CDP_WRITER_BUFSIZE	(1024 * 1024)

/*
 * Write to fd (not closed by the writer).  level is -1 for no compression
 * or a zlib level 0..9 (0 is treated as no compression).
 */
struct cdp_writer *cdp_writer_open(int fd, int level);

/*
 * Start a stream (or a resumed section of one): write STREAM_HDR with uuid
 * and source, and number the next record next_seq (1 for a new stream).
 */
int	 cdp_writer_begin(struct cdp_writer *, const uint8_t uuid[16],
	    const char *source, uint64_t next_seq);

/*
 * Append rec.  Numbered types get the next seq (rec->seq is ignored) and
 * control types seq 0; rec->time_ns of 0 means "now".  WRITE data longer
 * than CDP_WRITE_DATA_MAX is split into several records.  Returns 0 or -1
 * with errno set (EINVAL for a record the format cannot carry).
 */
int	 cdp_writer_put(struct cdp_writer *, const struct cdp_record *rec);

/*
 * Append an already framed record as is (rec->raw, rec->raw_size), e.g. to
 * forward a stream.  The writer's numbering follows rec->seq.
 */
int	 cdp_writer_put_raw(struct cdp_writer *, const struct cdp_record *rec);

/* Write out everything buffered.  Returns 0 or -1 with errno set. */
int	 cdp_writer_flush(struct cdp_writer *);

/* Write STREAM_END (last_seq = the last seq written) and flush. */
int	 cdp_writer_end(struct cdp_writer *);

/* The seq the next numbered record will get. */
uint64_t cdp_writer_next_seq(const struct cdp_writer *);

/* Bytes handed to the writer so far (written or buffered). */
uint64_t cdp_writer_bytes(const struct cdp_writer *);

/* Frees the writer without flushing; call flush or end first. */
void	 cdp_writer_close(struct cdp_writer *);

/*
 * Fill in the CDP_HDR_LEN-byte header of one record (hdr_len 48, CRC
 * computed).  Used by the writer and by tests that build damaged journals.
 */
void	 cdp_writer_frame(uint8_t hdr[CDP_HDR_LEN], uint16_t type,
	    uint16_t flags, uint64_t seq, int64_t time_ns, uint32_t stored_len,
	    uint32_t raw_len, uint32_t payload_crc);

#endif
