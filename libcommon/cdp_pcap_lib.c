/*
 * cdp_pcap_lib.c: libpcap loaded on first use (see cdp_pcap_lib.h).
 */
#include <errno.h>
#include <pthread.h>
#include <stddef.h>

#include "cdp_dl.h"
#include "cdp_pcap_lib.h"

#define PCAP_SONAME	"libpcap.so.0.8"
#define PCAP_PACKAGE	"libpcap0.8"

struct cdp_pcap_lib	 cdp_pcap_lib;

static pthread_once_t	 load_once = PTHREAD_ONCE_INIT;
static int		 loaded;
static char		 load_err[256];

#define SYM(f, m)	CDP_DL_SYM(struct cdp_pcap_lib, "pcap_" #f, m)

static const struct cdp_dl_sym syms[] = {
	SYM(open_dead_with_tstamp_precision, open_dead),
	SYM(fopen_offline_with_tstamp_precision, fopen_offline),
	SYM(datalink, datalink),
	SYM(next_ex, next_ex),
	SYM(close, close),
	SYM(dump_fopen, dump_fopen),
	SYM(dump, dump),
	SYM(dump_file, dump_file),
	SYM(dump_flush, dump_flush),
	SYM(dump_close, dump_close),
};

static void
load(void)
{
	loaded = cdp_dl_load(PCAP_SONAME, PCAP_PACKAGE, syms,
	    sizeof(syms) / sizeof(syms[0]), &cdp_pcap_lib, load_err,
	    sizeof(load_err)) == 0;
}

int
cdp_pcap_lib_load(void)
{
	pthread_once(&load_once, load);
	if (loaded)
		return 0;
	errno = ELIBACC;
	return -1;
}

const char *
cdp_pcap_lib_error(void)
{
	return load_err;
}
