/*
 * cdp_uuid.c: stream identifiers (random, RFC 4122 version 4).
 */
#include <sys/random.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>

#include "cdp_uuid.h"

int
cdp_uuid_generate(uint8_t uuid[16])
{
	size_t got = 0;
	ssize_t n;

	/* getrandom(2) returns at most 256 bytes unless interrupted. */
	while (got < 16) {
		n = getrandom(uuid + got, 16 - got, 0);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		got += (size_t)n;
	}
	uuid[6] = (uuid[6] & 0x0f) | 0x40;	/* version 4 */
	uuid[8] = (uuid[8] & 0x3f) | 0x80;	/* variant 10x: RFC 4122 */
	return 0;
}

void
cdp_uuid_format(const uint8_t uuid[16], char buf[CDP_UUID_STRLEN])
{
	snprintf(buf, CDP_UUID_STRLEN,
	    "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x",
	    uuid[0], uuid[1], uuid[2], uuid[3], uuid[4], uuid[5], uuid[6],
	    uuid[7], uuid[8], uuid[9], uuid[10], uuid[11], uuid[12], uuid[13],
	    uuid[14], uuid[15]);
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Upper-case hex digits are accepted too, as RFC 4122 asks of readers. */
int
cdp_uuid_parse(const char *s, uint8_t uuid[16])
{
	uint8_t u[16];
	int i, hi, lo, n = 0;

	if (s == NULL)
		goto bad;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				goto bad;
			continue;
		}
		if ((hi = hexval(s[i])) == -1 || (lo = hexval(s[i + 1])) == -1)
			goto bad;
		u[n++] = (uint8_t)(hi << 4 | lo);
		i++;
	}
	if (s[36] != '\0')
		goto bad;
	for (i = 0; i < 16; i++)
		uuid[i] = u[i];
	return 0;
bad:
	errno = EINVAL;
	return -1;
}
