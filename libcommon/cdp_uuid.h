/*
 * cdp_uuid.h: stream identifiers (random, RFC 4122 version 4).
 */
#ifndef CDP_UUID_H
#define CDP_UUID_H

#include <stddef.h>
#include <stdint.h>

#define CDP_UUID_STRLEN	37	/* 36 characters and the NUL */

/* Fill uuid with a new random version 4 uuid.  Returns 0 or -1, errno. */
int	 cdp_uuid_generate(uint8_t uuid[16]);

/* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", lower case. */
void	 cdp_uuid_format(const uint8_t uuid[16], char buf[CDP_UUID_STRLEN]);

/* Parse the form above.  Returns 0 or -1 with errno EINVAL. */
int	 cdp_uuid_parse(const char *s, uint8_t uuid[16]);

#endif
