/*
 * mkhostile: write a journal, sound or not, from a line-by-line script.
 *
 * usage: mkhostile OUT < SCRIPT
 *
 * The hostile-journal suite (tests/e2e/data/hostile/) and the point in time
 * tests describe their journals in this language, so each case reads as
 * what it does.  Payloads are encoded here, not by libcommon's codec, so a
 * script can say what the writer would refuse ("..", a NUL, 5000 bytes);
 * only the framing (cdp_writer_frame()) is shared.
 *
 * A line is a record or a modifier of the next record; words are split on
 * blanks, "\xNN" in a word is that byte, "\s" a space, and a word that is
 * exactly "" is the empty string.  '#' starts a comment line.
 *
 *   hdr [N]                  STREAM_HDR, uuid ending in N (default 1)
 *   end | heartbeat | begin-baseline | end-baseline
 *   mark NAME
 *   create MODE PATH         mkdir MODE PATH       (MODE octal)
 *   symlink PATH TARGET      link EXISTING PATH
 *   rename FLAGS FROM TO     unlink PATH           rmdir PATH
 *   setattr VALID MODE UID GID ATIME MTIME PATH   (VALID, MODE octal)
 *   setxattr PATH NAME VALUE removexattr PATH NAME
 *   write OFF PATH DATA      (DATA "@N:C": N bytes of character C)
 *   truncate SIZE PATH       fallocate MODE OFF LEN PATH
 *   fsync FLAGS PATH         type T [FLAGS] [HEX]  (any type, raw payload)
 * Modifiers of the next record:
 *   seq N                    use seq N (numbering goes on from it)
 *   badcrc                   corrupt its payload CRC
 *   compress                 deflate its payload
 *   rawlen N | plen N        put N in the header's raw_len / payload_len
 * Damage after the last record:
 *   garbage N                N bytes of a fixed pseudo-random pattern
 *   cut N                    drop the last N bytes
 * Time: records are 1 s apart from 2026-11-25T14:38:44Z; "clock" makes
 * the next one now (by the real clock) minus an optional N seconds.
 */
#include <err.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "cdp_format.h"
#include "cdp_writer.h"

#define T0	1795617524000000000LL	/* 2026-11-25T14:38:44Z */
#define STEP	1000000000LL		/* 1 s between records */
#define MAXP	(CDP_PAYLOAD_MAX + 1024)

static uint8_t	*out;
static size_t	 olen, ocap;
static uint8_t	*pay;
static size_t	 plen;
static uint64_t	 next_seq = 1;
static int64_t	 now = T0;

/* Modifiers. */
static int	 m_badcrc, m_compress;
static int64_t	 m_seq = -1, m_rawlen = -1, m_plen = -1;

static void
emit(const void *p, size_t n)
{
	if (olen + n > ocap) {
		ocap = (olen + n) * 2;
		if ((out = realloc(out, ocap)) == NULL)
			err(1, "realloc");
	}
	memcpy(out + olen, p, n);
	olen += n;
}

static void
p_le(uint64_t v, int n)
{
	while (n-- > 0) {
		pay[plen++] = (uint8_t)v;
		v >>= 8;
	}
}

static void
p_bytes(const char *s, size_t n)
{
	memcpy(pay + plen, s, n);
	plen += n;
}

static void
p_str(const char *s, size_t n)
{
	p_le(n, 2);
	p_bytes(s, n);
}

/* Decode a word in place; returns its length. */
static size_t
word(char *w)
{
	char *r = w, *d = w;

	if (strcmp(w, "\"\"") == 0)
		return (w[0] = '\0', 0);
	while (*r != '\0') {
		if (r[0] == '\\' && r[1] == 'x' && r[2] && r[3]) {
			char h[3] = { r[2], r[3], 0 };

			*d++ = (char)strtoul(h, NULL, 16);
			r += 4;
		} else if (r[0] == '\\' && r[1] == 's') {
			*d++ = ' ';
			r += 2;
		} else
			*d++ = *r++;
	}
	return (size_t)(d - w);
}

static void
record(uint16_t type, uint16_t flags, int numbered)
{
	uint8_t hdr[CDP_HDR_LEN], zero[8] = { 0 };
	uint8_t *stored = pay;
	uLongf zlen = compressBound(plen);
	uint8_t *z = NULL;
	uint32_t slen = (uint32_t)plen, crc;
	uint64_t seq = 0;

	if (numbered) {
		seq = m_seq >= 0 ? (uint64_t)m_seq : next_seq;
		next_seq = seq + 1;
	}
	if (m_compress) {
		if ((z = malloc(zlen)) == NULL ||
		    compress2(z, &zlen, pay, plen, 9) != Z_OK)
			errx(1, "compress");
		stored = z;
		slen = (uint32_t)zlen;
		flags |= CDP_F_COMPRESSED;
	}
	crc = (uint32_t)crc32(0, stored, slen);
	if (m_badcrc)
		crc ^= 0x5a5a5a5a;
	cdp_writer_frame(hdr, type, flags, seq, now,
	    m_plen >= 0 ? (uint32_t)m_plen : slen,
	    m_rawlen >= 0 ? (uint32_t)m_rawlen : (uint32_t)plen, crc);
	now += STEP;
	emit(hdr, sizeof(hdr));
	emit(stored, slen);
	emit(zero, (8 - slen % 8) % 8);
	free(z);
	plen = 0;
	m_badcrc = m_compress = 0;
	m_seq = m_rawlen = m_plen = -1;
}

static uint64_t
num(const char *s, int base)
{
	return strtoull(s, NULL, base);
}

static void
line(char **w, int n)
{
	const char *c = w[0];
	size_t l1, l2;

#define NEED(k) do { if (n < (k) + 1) errx(1, "%s: needs %d words", c, k); } while (0)
	if (strcmp(c, "hdr") == 0) {
		uint8_t u[16] = { 0x0c, 0xd9, 0, 0, 0, 0, 0x40, 0, 0x80 };

		u[15] = (uint8_t)(n > 1 ? num(w[1], 10) : 1);
		p_le(1, 2);
		p_le(0, 2);
		p_le(0, 4);
		p_bytes((const char *)u, 16);
		p_str("mkhostile", 9);
		record(CDP_T_STREAM_HDR, CDP_F_MUST_UNDERSTAND, 0);
	} else if (strcmp(c, "end") == 0) {
		p_le(next_seq - 1, 8);
		record(CDP_T_STREAM_END, 0, 0);
	} else if (strcmp(c, "heartbeat") == 0) {
		record(CDP_T_HEARTBEAT, 0, 0);
	} else if (strcmp(c, "begin-baseline") == 0) {
		record(CDP_T_BASELINE_BEGIN, 0, 1);
	} else if (strcmp(c, "end-baseline") == 0) {
		record(CDP_T_BASELINE_END, 0, 1);
	} else if (strcmp(c, "mark") == 0) {
		NEED(1);
		p_le(0, 4);
		l1 = word(w[1]);
		p_str(w[1], l1);
		record(CDP_T_MARK, 0, 1);
	} else if (strcmp(c, "create") == 0 || strcmp(c, "mkdir") == 0) {
		NEED(2);
		p_le(num(w[1], 8), 4);
		l1 = word(w[2]);
		p_str(w[2], l1);
		record(c[0] == 'c' ? CDP_T_CREATE : CDP_T_MKDIR,
		    CDP_F_MUST_UNDERSTAND, 1);
	} else if (strcmp(c, "symlink") == 0 || strcmp(c, "link") == 0) {
		NEED(2);
		l1 = word(w[1]);
		l2 = word(w[2]);
		p_str(w[1], l1);
		p_str(w[2], l2);
		record(c[0] == 's' ? CDP_T_SYMLINK : CDP_T_LINK,
		    CDP_F_MUST_UNDERSTAND, 1);
	} else if (strcmp(c, "rename") == 0) {
		NEED(3);
		p_le(num(w[1], 0), 4);
		l1 = word(w[2]);
		l2 = word(w[3]);
		p_str(w[2], l1);
		p_str(w[3], l2);
		record(CDP_T_RENAME, CDP_F_MUST_UNDERSTAND, 1);
	} else if (strcmp(c, "unlink") == 0 || strcmp(c, "rmdir") == 0) {
		NEED(1);
		l1 = word(w[1]);
		p_str(w[1], l1);
		record(c[0] == 'u' ? CDP_T_UNLINK : CDP_T_RMDIR,
		    CDP_F_MUST_UNDERSTAND, 1);
	} else if (strcmp(c, "setattr") == 0) {
		NEED(7);
		p_le(num(w[1], 8), 4);
		p_le(num(w[2], 8), 4);
		p_le(num(w[3], 10), 4);
		p_le(num(w[4], 10), 4);
		p_le((uint64_t)strtoll(w[5], NULL, 10), 8);
		p_le((uint64_t)strtoll(w[6], NULL, 10), 8);
		l1 = word(w[7]);
		p_str(w[7], l1);
		record(CDP_T_SETATTR, CDP_F_MUST_UNDERSTAND, 1);
	} else if (strcmp(c, "setxattr") == 0 ||
	    strcmp(c, "removexattr") == 0) {
		NEED(2);
		l1 = word(w[1]);
		p_str(w[1], l1);
		l2 = word(w[2]);
		p_str(w[2], l2);
		if (c[0] == 's') {
			NEED(3);
			l1 = word(w[3]);
			p_bytes(w[3], l1);
		}
		record(c[0] == 's' ? CDP_T_SETXATTR : CDP_T_REMOVEXATTR,
		    CDP_F_MUST_UNDERSTAND, 1);
	} else if (strcmp(c, "write") == 0) {
		NEED(3);
		p_le(num(w[1], 10), 8);
		l1 = word(w[2]);
		p_str(w[2], l1);
		if (w[3][0] == '@') {
			size_t k = num(w[3] + 1, 10);
			char ch = strchr(w[3], ':') ? strchr(w[3], ':')[1] : 'x';

			memset(pay + plen, ch, k);
			plen += k;
		} else {
			l2 = word(w[3]);
			p_bytes(w[3], l2);
		}
		record(CDP_T_WRITE, CDP_F_MUST_UNDERSTAND, 1);
	} else if (strcmp(c, "truncate") == 0) {
		NEED(2);
		p_le(num(w[1], 10), 8);
		l1 = word(w[2]);
		p_str(w[2], l1);
		record(CDP_T_TRUNCATE, CDP_F_MUST_UNDERSTAND, 1);
	} else if (strcmp(c, "fallocate") == 0) {
		NEED(4);
		p_le(num(w[1], 0), 4);
		p_le(num(w[2], 10), 8);
		p_le(num(w[3], 10), 8);
		l1 = word(w[4]);
		p_str(w[4], l1);
		record(CDP_T_FALLOCATE, CDP_F_MUST_UNDERSTAND, 1);
	} else if (strcmp(c, "fsync") == 0) {
		NEED(2);
		p_le(num(w[1], 0), 4);
		l1 = word(w[2]);
		p_str(w[2], l1);
		record(CDP_T_FSYNC, 0, 1);
	} else if (strcmp(c, "type") == 0) {
		NEED(1);
		if (n > 3)
			for (const char *h = w[3]; h[0] && h[1]; h += 2) {
				char x[3] = { h[0], h[1], 0 };

				pay[plen++] = (uint8_t)strtoul(x, NULL, 16);
			}
		record((uint16_t)num(w[1], 0),
		    (uint16_t)(n > 2 ? num(w[2], 0) : 0), 1);
	} else if (strcmp(c, "seq") == 0) {
		NEED(1);
		m_seq = (int64_t)num(w[1], 10);
	} else if (strcmp(c, "clock") == 0) {
		now = ((int64_t)time(NULL) - (n > 1 ? (int64_t)num(w[1], 10) :
		    0)) * 1000000000LL;
	} else if (strcmp(c, "badcrc") == 0) {
		m_badcrc = 1;
	} else if (strcmp(c, "compress") == 0) {
		m_compress = 1;
	} else if (strcmp(c, "rawlen") == 0) {
		NEED(1);
		m_rawlen = (int64_t)num(w[1], 0);
	} else if (strcmp(c, "plen") == 0) {
		NEED(1);
		m_plen = (int64_t)num(w[1], 0);
	} else if (strcmp(c, "garbage") == 0) {
		uint32_t x = 2463534242u;
		size_t k;

		NEED(1);
		for (k = num(w[1], 10); k > 0; k--) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			emit(&x, 1);
		}
	} else if (strcmp(c, "cut") == 0) {
		NEED(1);
		olen -= num(w[1], 10) < olen ? num(w[1], 10) : olen;
	} else
		errx(1, "%s: unknown line", c);
#undef NEED
}

int
main(int argc, char **argv)
{
	static char buf[65536];
	char *w[16];
	int fd, n;

	if (argc != 2) {
		fprintf(stderr, "usage: mkhostile OUT < SCRIPT\n");
		return 2;
	}
	if ((pay = malloc(MAXP)) == NULL)
		err(1, "malloc");
	while (fgets(buf, sizeof(buf), stdin) != NULL) {
		char *save = NULL, *t;

		if (buf[0] == '#')
			continue;
		n = 0;
		for (t = strtok_r(buf, " \t\n", &save); t != NULL && n < 16;
		    t = strtok_r(NULL, " \t\n", &save))
			w[n++] = t;
		if (n > 0)
			line(w, n);
	}
	fd = strcmp(argv[1], "-") == 0 ? STDOUT_FILENO :
	    open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd == -1 || write(fd, out, olen) != (ssize_t)olen)
		err(1, "%s", argv[1]);
	return 0;
}
