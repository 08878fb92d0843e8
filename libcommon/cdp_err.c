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

const char *
cdp_err_escape(char *buf, size_t size, const char *s)
{
	size_t n = 0;

	if (size == 0)
		return buf;
	for (; *s != '\0' && n + 5 < size; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f || c == '\\')
			n += (size_t)snprintf(buf + n, size - n, "\\x%02x", c);
		else
			buf[n++] = (char)c;
	}
	buf[n] = '\0';
	return buf;
}
