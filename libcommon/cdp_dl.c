/*
 * cdp_dl.c: a shared library loaded on first use (see cdp_dl.h).
 */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "cdp_dl.h"

/* dlsym() gives a void *, kept in a function pointer the POSIX way. */
_Static_assert(sizeof(void *) == sizeof(void (*)(void)),
    "function pointers as wide as data pointers");

int
cdp_dl_load(const char *soname, const char *package,
    const struct cdp_dl_sym *syms, size_t n, void *table, char *err,
    size_t errlen)
{
	const char *e;
	void *h, *p;
	size_t i;

	/* dlerror() says which library and why ("... No such file ..."). */
	if ((h = dlopen(soname, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		e = dlerror();
		snprintf(err, errlen, "%s; install %s",
		    e != NULL ? e : "cannot load", package);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if ((p = dlsym(h, syms[i].name)) == NULL) {
			snprintf(err, errlen, "%s: no %s; install %s", soname,
			    syms[i].name, package);
			return -1;
		}
		memcpy((char *)table + syms[i].off, &p, sizeof(p));
	}
	return 0;
}
