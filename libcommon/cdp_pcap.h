/*
 * cdp_pcap.h: a journal carried in a pcap file.
 *
 * Each record becomes one packet of LINKTYPE_USER0 with the record's
 * time_ns as its (nanosecond) timestamp; a record larger than
 * CDP_PCAP_SNAPLEN continues in the following packets.  The journal byte
 * stream is the concatenation of the packet data, which is how
 * cdp_source reads such a file back.
 */
#ifndef CDP_PCAP_H
#define CDP_PCAP_H

#include "cdp_record.h"

struct cdp_pcap;

/* Create path (truncating it).  NULL with errno set on failure. */
struct cdp_pcap *cdp_pcap_create(const char *path);

/* Append one record as read by cdp_reader (rec->raw, rec->raw_size). */
int	 cdp_pcap_put(struct cdp_pcap *, const struct cdp_record *rec);

/* Flush and close.  Returns 0 or -1 with errno set. */
int	 cdp_pcap_close(struct cdp_pcap *);

#endif
