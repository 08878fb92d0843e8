/*
 * cdp_err.c: the message of a failure (cdp_err.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "cdp_err.h"

int
cdp_seterr(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int e = errno;

	va_start(ap, fmt);
	vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	errno = e;
	return -1;
}
