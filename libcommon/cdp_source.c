/*
 * cdp_source.c: the journal byte stream of a file, a pipe, a pcap file or
 * a store directory.
 *
 * The kind is decided by what is there, not by a name: a directory is a
 * store, a file starting with a pcap magic is a pcap file, anything else is
 * read as journal bytes (and the reader judges them).  For pipes the first
 * bytes are read ahead and handed out again, so detection works on stdin.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cdp_format.h"
#include "cdp_pcap_lib.h"
#include "cdp_s3.h"
#include "cdp_s3read.h"
#include "cdp_source.h"
#include "cdp_store.h"

/* A segment or base of a store. */
struct segment {
	char		 name[CDP_STORE_NAME_MAX + 1];
	uint64_t	 seq;		/* its first seq; a base's last */
	int		 fd;		/* opened ahead; -1 when not (any more) */
	uint64_t	 start;		/* stream offset of its first byte */
};

struct cdp_source {
	enum cdp_source_kind kind;
	char		*name;
	int		 fd;
	int		 own_fd;
	int64_t		 size;

	/* Bytes read ahead while detecting the kind, handed out first. */
	uint8_t		 ahead[4];
	size_t		 ahead_len, ahead_pos;

	/* pcap: the current packet's data not yet handed out. */
	pcap_t		*pcap;
	FILE		*pcap_fp;
	const uint8_t	*pkt;
	size_t		 pkt_len;

	/* store: its base, then its segments in seq order; the one read. */
	int		 dirfd;
	struct segment	*segs;
	size_t		 nsegs, cur;
	size_t		 opened;	/* segments opened so far */
	uint64_t	 off;		/* stream offset reached */

	struct cdp_s3read *bucket;
};

/*
 * The object store's message for the last failed open or read of a
 * bucket in this thread, and its errno, for cdp_source_strerror().
 */
static __thread char bucket_msg[512];
static __thread int bucket_errno;

static void
bucket_failed(const char *url, const char *msg, int e)
{
	size_t n = strlen(url);

	/* Callers put the operand first: "s3://b/p: manifest: 403 ...". */
	while (n > 0 && url[n - 1] == '/')
		n--;
	if (strncmp(msg, url, n) == 0 && (msg[n] == '/' || msg[n] == ':'))
		msg += n + (msg[n] == '/' ? 1 : 2);
	snprintf(bucket_msg, sizeof(bucket_msg), "%s", msg);
	bucket_errno = e;
}

static int
is_pcap_magic(const uint8_t m[4])
{
	static const uint8_t magics[][4] = {
		{ 0xd4, 0xc3, 0xb2, 0xa1 }, { 0xa1, 0xb2, 0xc3, 0xd4 },
		{ 0x4d, 0x3c, 0xb2, 0xa1 }, { 0xa1, 0xb2, 0x3c, 0x4d },
		{ 0x0a, 0x0d, 0x0d, 0x0a },	/* pcapng */
	};
	size_t i;

	for (i = 0; i < sizeof(magics) / sizeof(magics[0]); i++)
		if (memcmp(m, magics[i], 4) == 0)
			return 1;
	return 0;
}

static ssize_t
read_fd(struct cdp_source *s, void *buf, size_t n)
{
	ssize_t r;

	if (s->ahead_pos < s->ahead_len) {
		size_t k = s->ahead_len - s->ahead_pos;

		if (k > n)
			k = n;
		memcpy(buf, s->ahead + s->ahead_pos, k);
		s->ahead_pos += k;
		return (ssize_t)k;
	}
	do
		r = read(s->fd, buf, n);
	while (r == -1 && errno == EINTR);
	return r;
}

/* fopencookie read function: libpcap reads through the same look-ahead. */
static ssize_t
cookie_read(void *cookie, char *buf, size_t n)
{
	return read_fd(cookie, buf, n);
}

static int
open_pcap(struct cdp_source *s)
{
	cookie_io_functions_t io = { .read = cookie_read };
	char errbuf[PCAP_ERRBUF_SIZE];

	if (cdp_pcap_lib_load() == -1)
		return -1;
	s->pcap_fp = fopencookie(s, "r", io);
	if (s->pcap_fp == NULL)
		return -1;
	s->pcap = cdp_pcap_lib.fopen_offline(s->pcap_fp,
	    PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (s->pcap == NULL) {
		fclose(s->pcap_fp);
		s->pcap_fp = NULL;
		errno = EINVAL;
		return -1;
	}
	/* pcap_close() closes pcap_fp from now on. */
	if (cdp_pcap_lib.datalink(s->pcap) != CDP_PCAP_LINKTYPE) {
		errno = EMEDIUMTYPE;
		return -1;
	}
	return 0;
}

static ssize_t
read_pcap(struct cdp_source *s, void *buf, size_t n)
{
	while (s->pkt_len == 0) {
		struct pcap_pkthdr *h;
		const u_char *data;
		int rc = cdp_pcap_lib.next_ex(s->pcap, &h, &data);

		if (rc == PCAP_ERROR_BREAK)
			return 0;
		if (rc != 1) {
			errno = EIO;
			return -1;
		}
		s->pkt = data;
		s->pkt_len = h->caplen;
	}
	if (n > s->pkt_len)
		n = s->pkt_len;
	memcpy(buf, s->pkt, n);
	s->pkt += n;
	s->pkt_len -= n;
	return (ssize_t)n;
}

static int
cmp_segment(const void *a, const void *b)
{
	uint64_t x = ((const struct segment *)a)->seq;
	uint64_t y = ((const struct segment *)b)->seq;

	return x < y ? -1 : x > y;
}

static void
close_segments(struct cdp_source *s)
{
	size_t i;

	for (i = 0; i < s->nsegs; i++)
		if (s->segs[i].fd != -1)
			close(s->segs[i].fd);
	free(s->segs);
	s->segs = NULL;
	s->nsegs = 0;
}

static int
push_segment(struct cdp_source *s, size_t *cap, const char *name,
    uint64_t seq)
{
	if (s->nsegs == *cap) {
		struct segment *n;

		*cap = *cap ? *cap * 2 : 16;
		if ((n = realloc(s->segs, *cap * sizeof(*n))) == NULL)
			return -1;
		s->segs = n;
	}
	memset(&s->segs[s->nsegs], 0, sizeof(s->segs[0]));
	memcpy(s->segs[s->nsegs].name, name, strlen(name) + 1);
	s->segs[s->nsegs].seq = seq;
	s->segs[s->nsegs++].fd = -1;
	return 0;
}

/*
 * List the store: its newest base (into *base, 0 if none) and the
 * segments in seq order.  Segments the base covers (left by a fold that
 * was cut off before it removed them) are left out, and the base goes
 * first.  Returns 0, or -1 with errno set.
 */
static int
list_store(struct cdp_source *s, uint64_t *base, int *any)
{
	char base_name[CDP_STORE_NAME_MAX + 1] = "";
	DIR *d;
	struct dirent *de;
	size_t cap = 0, i, skip;
	uint64_t seq;
	int fd, kind;

	*base = 0;
	*any = 0;
	if ((fd = dup(s->dirfd)) == -1)
		return -1;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	rewinddir(d);
	while ((errno = 0, de = readdir(d)) != NULL) {
		kind = cdp_store_name_kind(de->d_name, &seq);
		if (kind == CDP_STORE_BASE && seq > *base) {
			*base = seq;
			memcpy(base_name, de->d_name, CDP_STORE_NAME_MAX + 1);
		} else if (kind == CDP_STORE_SEGMENT &&
		    push_segment(s, &cap, de->d_name, seq) == -1) {
			closedir(d);
			return -1;
		}
	}
	if (errno != 0) {
		int e = errno;

		closedir(d);
		errno = e;
		return -1;
	}
	closedir(d);
	*any = s->nsegs > 0 || *base > 0;
	if (s->nsegs > 0)
		qsort(s->segs, s->nsegs, sizeof(*s->segs), cmp_segment);
	for (skip = 0; skip + 1 < s->nsegs && s->segs[skip + 1].seq <= *base + 1;)
		skip++;
	if (*base > 0) {
		/* Room for the base in front. */
		if (skip == 0) {
			if (push_segment(s, &cap, "", 0) == -1)
				return -1;
			memmove(s->segs + 1, s->segs,
			    (s->nsegs - 1) * sizeof(*s->segs));
		} else
			skip--;
		s->segs[skip].seq = *base;
		s->segs[skip].fd = -1;
		memcpy(s->segs[skip].name, base_name, sizeof(base_name));
	}
	for (i = skip; i < s->nsegs; i++)
		s->segs[i - skip] = s->segs[i];
	s->nsegs -= skip;
	return 0;
}

/*
 * Open every file of the listing now, so that a fold (cdp-recv --retain)
 * that removes them afterwards cannot take them away: an open file stays
 * readable after unlink(2).  Past the descriptor limit the rest are
 * opened as they are reached.
 */
static int
open_segments(struct cdp_source *s)
{
	size_t i;

	for (i = 0; i < s->nsegs; i++) {
		s->segs[i].fd = openat(s->dirfd, s->segs[i].name,
		    O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (s->segs[i].fd == -1) {
			if (errno == EMFILE || errno == ENFILE)
				return 0;
			return -1;
		}
	}
	return 0;
}

/*
 * A fold renames its new base into place before it removes what the base
 * replaces.  A listing taken while a fold runs may thus name a file that
 * is gone when it is opened (ENOENT), or miss the new base and some of
 * the segments it replaced; a later listing then shows a newer base.  In
 * both cases, list again.
 */
#define RELIST_TRIES	100

static int
open_store(struct cdp_source *s)
{
	uint64_t base, again;
	int tries, any, any2;
	size_t i;

	for (tries = 0;; tries++) {
		close_segments(s);
		if (list_store(s, &base, &any) == -1)
			return -1;
		if (open_segments(s) == -1) {
			if (errno == ENOENT && tries < RELIST_TRIES)
				continue;
			return -1;
		}
		if (base == 0 && s->nsegs == 0)
			break;
		/* A second listing for its newest base only. */
		{
			struct segment *keep = s->segs;
			size_t nkeep = s->nsegs;

			s->segs = NULL;
			s->nsegs = 0;
			i = list_store(s, &again, &any2);
			free(s->segs);
			s->segs = keep;
			s->nsegs = nkeep;
			if (i == (size_t)-1)
				return -1;
		}
		if (again == base || tries >= RELIST_TRIES)
			break;
	}
	/* An empty store still has its state file; /tmp has neither. */
	if (!any && faccessat(s->dirfd, "state", F_OK,
	    AT_SYMLINK_NOFOLLOW) == -1) {
		errno = EMEDIUMTYPE;
		return -1;
	}
	s->size = 0;
	for (i = 0; i < s->nsegs; i++) {
		struct stat st;

		if ((s->segs[i].fd != -1 ? fstat(s->segs[i].fd, &st) :
		    fstatat(s->dirfd, s->segs[i].name, &st,
		    AT_SYMLINK_NOFOLLOW)) == 0)
			s->size += st.st_size;
	}
	s->cur = 0;
	s->fd = -1;
	return 0;
}

static ssize_t
read_store(struct cdp_source *s, void *buf, size_t n)
{
	for (;;) {
		ssize_t r;

		if (s->fd == -1) {
			if (s->cur >= s->nsegs)
				return 0;
			s->fd = s->segs[s->cur].fd;
			s->segs[s->cur].fd = -1;
			if (s->fd == -1)
				s->fd = openat(s->dirfd, s->segs[s->cur].name,
				    O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
			if (s->fd == -1)
				return -1;
			s->segs[s->cur].start = s->off;
			s->opened = s->cur + 1;
		}
		do
			r = read(s->fd, buf, n);
		while (r == -1 && errno == EINTR);
		if (r != 0) {
			if (r > 0)
				s->off += (uint64_t)r;
			return r;
		}
		close(s->fd);
		s->fd = -1;
		s->cur++;
	}
}

static struct cdp_source *
source_new(const char *name)
{
	struct cdp_source *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	if ((s->name = strdup(name)) == NULL) {
		free(s);
		return NULL;
	}
	s->fd = -1;
	s->dirfd = -1;
	s->size = -1;
	return s;
}

/* Read up to 4 bytes ahead and decide between journal and pcap. */
static int
detect(struct cdp_source *s)
{
	while (s->ahead_len < sizeof(s->ahead)) {
		ssize_t r = read(s->fd, s->ahead + s->ahead_len,
		    sizeof(s->ahead) - s->ahead_len);

		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return -1;
		if (r == 0)
			break;
		s->ahead_len += (size_t)r;
	}
	if (s->ahead_len == sizeof(s->ahead) && is_pcap_magic(s->ahead)) {
		s->kind = CDP_SOURCE_PCAP;
		return open_pcap(s);
	}
	s->kind = CDP_SOURCE_JOURNAL;
	return 0;
}

struct cdp_source *
cdp_source_fd(int fd, const char *name)
{
	struct cdp_source *s = source_new(name);
	struct stat st;

	if (s == NULL)
		return NULL;
	s->fd = fd;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		s->size = st.st_size;
	if (detect(s) == -1) {
		int e = errno;

		s->fd = -1;
		cdp_source_close(s);
		errno = e;
		return NULL;
	}
	return s;
}

static struct cdp_source *
open_bucket(const char *url)
{
	struct cdp_source *s = source_new(url);
	char why[512];
	int e;

	if (s == NULL)
		return NULL;
	s->kind = CDP_SOURCE_BUCKET;
	if ((s->bucket = cdp_s3read_open(url, why, sizeof(why))) == NULL) {
		e = errno;
		bucket_failed(url, why, e);
		cdp_source_close(s);
		errno = e;
		return NULL;
	}
	s->size = (int64_t)cdp_s3read_size(s->bucket);
	return s;
}

struct cdp_source *
cdp_source_open(const char *path)
{
	struct cdp_source *s;
	struct stat st;
	int fd, e;

	bucket_errno = 0;
	if (strcmp(path, "-") == 0)
		return cdp_source_fd(STDIN_FILENO, "-");
	if (cdp_s3_is_url(path))
		return open_bucket(path);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return NULL;
	if (fstat(fd, &st) == -1)
		goto fail_fd;
	if (S_ISDIR(st.st_mode)) {
		if ((s = source_new(path)) == NULL)
			goto fail_fd;
		s->kind = CDP_SOURCE_STORE;
		s->dirfd = fd;
		if (open_store(s) == -1)
			goto fail;
		return s;
	}
	if ((s = cdp_source_fd(fd, path)) == NULL)
		goto fail_fd;
	s->own_fd = 1;
	return s;

fail:
	e = errno;
	cdp_source_close(s);
	errno = e;
	return NULL;
fail_fd:
	e = errno;
	close(fd);
	errno = e;
	return NULL;
}

const char *
cdp_source_strerror(int errnum)
{
	if (bucket_errno != 0 && errnum == bucket_errno)
		return bucket_msg;
	if (errnum == EMEDIUMTYPE)
		return "not a journal, a pcap file of one, or a cdp store";
	if (errnum == ELIBACC && cdp_pcap_lib_error()[0] != '\0')
		return cdp_pcap_lib_error();
	return strerror(errnum);
}

static ssize_t
read_bucket(struct cdp_source *s, void *buf, size_t n)
{
	ssize_t r = cdp_s3read_read(s->bucket, buf, n);

	if (r == -1) {
		int e = errno;

		bucket_failed(s->name, cdp_s3read_error(s->bucket), e);
		errno = e;
	}
	return r;
}

ssize_t
cdp_source_read(struct cdp_source *s, void *buf, size_t n)
{
	switch (s->kind) {
	case CDP_SOURCE_PCAP:
		return read_pcap(s, buf, n);
	case CDP_SOURCE_STORE:
		return read_store(s, buf, n);
	case CDP_SOURCE_BUCKET:
		return read_bucket(s, buf, n);
	default:
		return read_fd(s, buf, n);
	}
}

enum cdp_source_kind
cdp_source_kind(const struct cdp_source *s)
{
	return s->kind;
}

const char *
cdp_source_name(const struct cdp_source *s)
{
	return s->name;
}

int64_t
cdp_source_size(const struct cdp_source *s)
{
	return s->size;
}

void
cdp_source_where(const struct cdp_source *s, uint64_t off, char *buf,
    size_t size)
{
	size_t i;

	if (s->kind == CDP_SOURCE_BUCKET) {
		cdp_s3read_where(s->bucket, off, buf, size);
		return;
	}
	if (s->kind == CDP_SOURCE_STORE) {
		/* The last segment opened whose start is at or before off. */
		for (i = s->opened; i-- > 0;) {
			if (s->segs[i].start <= off) {
				snprintf(buf, size, "%s: offset %llu",
				    s->segs[i].name, (unsigned long long)
				    (off - s->segs[i].start));
				return;
			}
		}
	}
	snprintf(buf, size, "offset %llu", (unsigned long long)off);
}

void
cdp_source_close(struct cdp_source *s)
{
	if (s == NULL)
		return;
	if (s->pcap != NULL)
		cdp_pcap_lib.close(s->pcap);	/* closes pcap_fp too */
	else if (s->pcap_fp != NULL)
		fclose(s->pcap_fp);
	if (s->kind == CDP_SOURCE_STORE) {
		if (s->fd != -1)
			close(s->fd);
	} else if (s->own_fd && s->fd != -1)
		close(s->fd);
	if (s->dirfd != -1)
		close(s->dirfd);
	close_segments(s);
	cdp_s3read_close(s->bucket);
	free(s->name);
	free(s);
}
