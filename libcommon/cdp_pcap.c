/*
 * cdp_pcap.c: write a journal as a pcap file.
 *
 * The point is to let packet tools (tshark, Wireshark with a dissector,
 * editcap, mergecap) look at a journal: one record is one packet of
 * LINKTYPE_USER0 stamped with the record's time.  A record larger than the
 * snap length is cut into consecutive packets with the same timestamp, so
 * the concatenated packet data is always the journal byte stream, which
 * is what cdp_source reads back.
 *
 * "-" writes to standard output (as pcap_dump_open(3) does) through a
 * duplicate descriptor, so closing the dump does not close fd 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cdp_pcap.h"
#include "cdp_pcap_lib.h"

struct cdp_pcap {
	pcap_t		*p;
	pcap_dumper_t	*d;
};

static FILE *
open_file(const char *path)
{
	FILE *f;
	int fd, e;

	if (strcmp(path, "-") == 0)
		fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 0);
	else
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		    0666);
	if (fd == -1)
		return NULL;
	if ((f = fdopen(fd, "wb")) == NULL) {
		e = errno;
		close(fd);
		errno = e;
	}
	return f;
}

struct cdp_pcap *
cdp_pcap_create(const char *path)
{
	struct cdp_pcap *pc;
	FILE *f;
	int e;

	if (path == NULL) {
		errno = EINVAL;
		return NULL;
	}
	if (cdp_pcap_lib_load() == -1 ||
	    (pc = calloc(1, sizeof(*pc))) == NULL)
		return NULL;
	pc->p = cdp_pcap_lib.open_dead(CDP_PCAP_LINKTYPE,
	    CDP_PCAP_SNAPLEN, PCAP_TSTAMP_PRECISION_NANO);
	if (pc->p == NULL) {
		free(pc);
		errno = ENOMEM;
		return NULL;
	}
	/* Open the file ourselves so that errno says why it failed. */
	if ((f = open_file(path)) == NULL) {
		e = errno;
		cdp_pcap_lib.close(pc->p);
		free(pc);
		errno = e;
		return NULL;
	}
	if ((pc->d = cdp_pcap_lib.dump_fopen(pc->p, f)) == NULL) {
		fclose(f);
		cdp_pcap_lib.close(pc->p);
		free(pc);
		errno = EIO;
		return NULL;
	}
	return pc;
}

int
cdp_pcap_put(struct cdp_pcap *pc, const struct cdp_record *rec)
{
	struct pcap_pkthdr h;
	const uint8_t *p;
	size_t left, n;
	int64_t sec, ns;

	if (pc == NULL || rec == NULL || rec->raw == NULL ||
	    rec->raw_size == 0) {
		errno = EINVAL;
		return -1;
	}
	/*
	 * With nanosecond precision libpcap takes tv_usec as nanoseconds.  The
	 * file keeps 32 unsigned bits of seconds; a time outside them (before
	 * 1970, after 2106) is written as 0, as cdp-journal(5) says: readers
	 * take times from the record headers, never from the packets.
	 */
	sec = rec->time_ns / 1000000000;
	ns = rec->time_ns % 1000000000;
	if (rec->time_ns < 0 || sec > (int64_t)UINT32_MAX)
		sec = ns = 0;
	memset(&h, 0, sizeof(h));
	h.ts.tv_sec = (time_t)sec;
	h.ts.tv_usec = (suseconds_t)ns;
	errno = 0;
	for (p = rec->raw, left = rec->raw_size; left > 0; p += n, left -= n) {
		n = left < CDP_PCAP_SNAPLEN ? left : CDP_PCAP_SNAPLEN;
		h.caplen = h.len = (bpf_u_int32)n;
		cdp_pcap_lib.dump((u_char *)pc->d, &h, p);
	}
	if (ferror(cdp_pcap_lib.dump_file(pc->d))) {
		if (errno == 0)
			errno = EIO;
		return -1;
	}
	return 0;
}

int
cdp_pcap_close(struct cdp_pcap *pc)
{
	FILE *f;
	int rc = 0, e = 0;

	if (pc == NULL)
		return 0;
	f = cdp_pcap_lib.dump_file(pc->d);
	if (cdp_pcap_lib.dump_flush(pc->d) == -1 || ferror(f)) {
		e = errno != 0 ? errno : EIO;
		rc = -1;
	}
	/*
	 * pcap_dump_close() fclose()s without telling the result.  After the
	 * flush above nothing is left to write, so only close(2) itself could
	 * fail there (on NFS, say); a full disk shows up in the flush.
	 */
	cdp_pcap_lib.dump_close(pc->d);
	cdp_pcap_lib.close(pc->p);
	free(pc);
	if (rc == -1)
		errno = e;
	return rc;
}
