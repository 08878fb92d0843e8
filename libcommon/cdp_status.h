/*
 * cdp_status.h: cdp-send's replication status, for people and monitors.
 *
 * The program keeps a struct cdp_status current and writes it out about
 * once a second as JSON (--status) and in the Prometheus textfile format
 * (--prom).  Both files are replaced atomically (written under a temporary
 * name, then renamed), so a reader never sees half a file.
 */
#ifndef CDP_STATUS_H
#define CDP_STATUS_H

#include <stdint.h>
#include <stdio.h>

/* Upper bounds, in seconds, of the durable-latency histogram buckets. */
#define CDP_STATUS_BUCKETS	14
extern const double cdp_status_bucket_le[CDP_STATUS_BUCKETS];

struct cdp_status {
	int		 have_uuid;
	uint8_t		 uuid[16];
	uint64_t	 seq_read;	/* last seq taken from the input */
	uint64_t	 seq_sent;	/* last seq written to the receiver */
	uint64_t	 seq_acked;	/* last seq durable at the receiver */
	uint64_t	 bytes_read;	/* journal bytes taken from the input */
	uint64_t	 bytes_sent;	/* bytes written to the receiver */
	uint64_t	 spool_bytes;
	int64_t		 lag_ms;	/* source time to durable, last ack; -1 */
	int64_t		 rpo_ms;	/* age of the oldest unacknowledged record */
	int		 connected;
	int64_t		 since_ns;	/* when connected last changed */
	uint64_t	 connects;	/* connections made */
	int		 waiting;	/* the spool is full: input held back */

	/* Histogram of source time to durable, per record. */
	uint64_t	 lat_bucket[CDP_STATUS_BUCKETS];	/* cumulative */
	uint64_t	 lat_count;
	double		 lat_sum;	/* seconds */
};

/* Count one record that took ns from its source time to durable. */
void	 cdp_status_observe(struct cdp_status *, int64_t ns);

/* Write path atomically.  Return 0 or -1 with errno. */
/*
 * Replace a status file whole: write to path's temporary sibling
 * ("PATH.tmp"), then rename it over path, so that a reader sees the old
 * file or the new one, never half of one.  close_rename frees tmp.
 */
FILE	*cdp_status_open_tmp(const char *path, char **tmp);
int	 cdp_status_close_rename(FILE *f, char *tmp, const char *path);

int	 cdp_status_write_json(const char *path, const struct cdp_status *);
int	 cdp_status_write_prom(const char *path, const struct cdp_status *);

/*
 * A thread that calls fn(arg) every ms milliseconds, and once more when
 * stopped (so that the last word is written).  NULL with errno set.
 */
struct cdp_ticker;
struct cdp_ticker *cdp_ticker_start(void (*fn)(void *), void *arg, int ms);
void	 cdp_ticker_stop(struct cdp_ticker *);

#endif
