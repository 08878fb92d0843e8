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
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cdp_format.h"
#include "cdp_source.h"

#define SEGMENT_NAME_LEN	25	/* 20 digits and ".cdpj" */

struct segment {
	char		 name[SEGMENT_NAME_LEN + 1];
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

	/* store: segment files in seq order, the one being read. */
	int		 dirfd;
	struct segment	*segs;
	size_t		 nsegs, cur;
	size_t		 opened;	/* segments opened so far */
	uint64_t	 off;		/* stream offset reached */
};

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

	s->pcap_fp = fopencookie(s, "r", io);
	if (s->pcap_fp == NULL)
		return -1;
	s->pcap = pcap_fopen_offline_with_tstamp_precision(s->pcap_fp,
	    PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (s->pcap == NULL) {
		fclose(s->pcap_fp);
		s->pcap_fp = NULL;
		errno = EINVAL;
		return -1;
	}
	/* pcap_close() closes pcap_fp from now on. */
	if (pcap_datalink(s->pcap) != CDP_PCAP_LINKTYPE) {
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
		int rc = pcap_next_ex(s->pcap, &h, &data);

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
is_segment_name(const char *name)
{
	int i;

	if (strlen(name) != SEGMENT_NAME_LEN ||
	    strcmp(name + 20, ".cdpj") != 0)
		return 0;
	for (i = 0; i < 20; i++)
		if (name[i] < '0' || name[i] > '9')
			return 0;
	return 1;
}

static int
cmp_segment(const void *a, const void *b)
{
	return strcmp(((const struct segment *)a)->name,
	    ((const struct segment *)b)->name);
}

static int
open_store(struct cdp_source *s)
{
	DIR *d;
	struct dirent *de;
	size_t cap = 0;
	int fd;

	if ((fd = dup(s->dirfd)) == -1)
		return -1;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (!is_segment_name(de->d_name))
			continue;
		if (s->nsegs == cap) {
			struct segment *n;

			cap = cap ? cap * 2 : 16;
			n = realloc(s->segs, cap * sizeof(*n));
			if (n == NULL) {
				closedir(d);
				return -1;
			}
			s->segs = n;
		}
		memcpy(s->segs[s->nsegs].name, de->d_name,
		    SEGMENT_NAME_LEN + 1);
		s->segs[s->nsegs++].start = 0;
	}
	if (errno != 0) {
		int e = errno;

		closedir(d);
		errno = e;
		return -1;
	}
	closedir(d);
	/* An empty store still has its state file; /tmp has neither. */
	if (s->nsegs == 0 && faccessat(s->dirfd, "state", F_OK,
	    AT_SYMLINK_NOFOLLOW) == -1) {
		errno = EMEDIUMTYPE;
		return -1;
	}
	if (s->nsegs > 0)
		qsort(s->segs, s->nsegs, sizeof(*s->segs), cmp_segment);
	s->size = 0;
	for (size_t i = 0; i < s->nsegs; i++) {
		struct stat st;

		if (fstatat(s->dirfd, s->segs[i].name, &st,
		    AT_SYMLINK_NOFOLLOW) == 0)
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

struct cdp_source *
cdp_source_open(const char *path)
{
	struct cdp_source *s;
	struct stat st;
	int fd, e;

	if (strcmp(path, "-") == 0)
		return cdp_source_fd(STDIN_FILENO, "-");
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
	if (errnum == EMEDIUMTYPE)
		return "not a journal, a pcap file of one, or a cdp store";
	return strerror(errnum);
}

ssize_t
cdp_source_read(struct cdp_source *s, void *buf, size_t n)
{
	switch (s->kind) {
	case CDP_SOURCE_PCAP:
		return read_pcap(s, buf, n);
	case CDP_SOURCE_STORE:
		return read_store(s, buf, n);
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
		pcap_close(s->pcap);	/* closes pcap_fp too */
	else if (s->pcap_fp != NULL)
		fclose(s->pcap_fp);
	if (s->kind == CDP_SOURCE_STORE) {
		if (s->fd != -1)
			close(s->fd);
	} else if (s->own_fd && s->fd != -1)
		close(s->fd);
	if (s->dirfd != -1)
		close(s->dirfd);
	free(s->segs);
	free(s->name);
	free(s);
}
