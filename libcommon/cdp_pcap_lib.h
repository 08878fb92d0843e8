/*
 * cdp_pcap_lib.h: libpcap, loaded the first time a pcap file is read or
 * written, not linked (see cdp_dl.h): linked, it brings libdbus,
 * libsystemd, libgcrypt and six more into every cdp program, and most
 * runs never see a pcap file.  Only cdp_pcap.c and cdp_source.c include
 * this header.
 */
#ifndef CDP_PCAP_LIB_H
#define CDP_PCAP_LIB_H

#include <pcap/pcap.h>

/*
 * The libpcap functions used, with <pcap/pcap.h>'s own prototypes; set
 * by cdp_pcap_lib_load(), to be called only after it succeeded.
 */
struct cdp_pcap_lib {
	__typeof__(pcap_open_dead_with_tstamp_precision) *open_dead;
	__typeof__(pcap_fopen_offline_with_tstamp_precision) *fopen_offline;
	__typeof__(pcap_datalink)	*datalink;
	__typeof__(pcap_next_ex)	*next_ex;
	__typeof__(pcap_close)		*close;
	__typeof__(pcap_dump_fopen)	*dump_fopen;
	__typeof__(pcap_dump)		*dump;
	__typeof__(pcap_dump_file)	*dump_file;
	__typeof__(pcap_dump_flush)	*dump_flush;
	__typeof__(pcap_dump_close)	*dump_close;
};

extern struct cdp_pcap_lib cdp_pcap_lib;

/*
 * Load libpcap, once per process: 0, or -1 with errno ELIBACC, and
 * cdp_pcap_lib_error() says why.
 */
int		 cdp_pcap_lib_load(void);
const char	*cdp_pcap_lib_error(void);

#endif
