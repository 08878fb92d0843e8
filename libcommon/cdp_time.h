/*
 * cdp_time.h: nanosecond timestamps as RFC 3339 text and back.
 */
#ifndef CDP_TIME_H
#define CDP_TIME_H

#include <stddef.h>
#include <stdint.h>

#define CDP_TIME_STRLEN	40	/* "2026-11-25T14:38:44.123456789Z" and room */

/* Now, CLOCK_REALTIME, in ns since the epoch. */
int64_t	 cdp_time_now(void);

/* Format ns as UTC RFC 3339 with nine fraction digits. */
void	 cdp_time_format(int64_t ns, char *buf, size_t size);

/*
 * Parse RFC 3339 ("2026-11-25T14:38:44Z", optional fraction, "Z" or an
 * offset such as "+01:00"; a space may replace the 'T') or "@EPOCH[.frac]".
 * Returns 0 and stores ns, or -1 with errno EINVAL.
 */
int	 cdp_time_parse(const char *s, int64_t *ns);

#endif
