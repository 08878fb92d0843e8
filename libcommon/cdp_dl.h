/*
 * cdp_dl.h: a shared library loaded on first use instead of linked.
 *
 * For libraries only some runs need (libcurl for s3://, libpcap for pcap
 * files) and which pull many more into every program when linked: each
 * program then starts faster, and maps less code, unless it needs them.
 */
#ifndef CDP_DL_H
#define CDP_DL_H

#include <stddef.h>

/* A function wanted: its name, and where its pointer goes in the table. */
struct cdp_dl_sym {
	const char	*name;
	size_t		 off;
};

/* A symbol NAME into member MEMBER of table type TYPE. */
#define CDP_DL_SYM(type, name, member)	{ name, offsetof(type, member) }

/*
 * dlopen() soname and set each function pointer of table (n syms) from
 * it.  0, or -1 with err saying why ("libpcap.so.0.8: cannot open shared
 * object file: No such file or directory; install libpcap0.8").  The
 * library stays loaded until the process ends.
 */
int	cdp_dl_load(const char *soname, const char *package,
	    const struct cdp_dl_sym *syms, size_t n, void *table, char *err,
	    size_t errlen);

#endif
