/*
 * cdp_record.c: record types and the payload codec.
 *
 * Each type's payload is described once, as a layout string in the table
 * below; one interpreter decodes and one encodes by it, so the two cannot
 * disagree about field order.  The checks a layout cannot express (mode
 * bits, flag values, offset overflow) live in check_fields(), which both
 * directions run.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "cdp_path.h"
#include "cdp_record.h"

/*
 * Layout letters, in payload order:
 *   V u16 version   Z u16 zero   F u32 features   U uuid[16]   Q u64 u64
 *   M u32 mode      R u32 rflags I u32 uid        G u32 gid
 *   A i64 atime_ns  T i64 mtime_ns                O u64 off    L u64 len
 *   P str path      p str path, may be empty (the root)
 *   2 str path2 (a second path)   Y str path2 (symlink target)
 *   S str path2 (stream source)   N str name (mark)   X str name (xattr)
 *   D data: the rest of the payload
 */
struct type_info {
	uint16_t	 type;
	const char	*name;
	const char	*layout;
	unsigned	 numbered : 1;
	unsigned	 changes_tree : 1;
};

static const struct type_info types[] = {
	{ CDP_T_STREAM_HDR,	"STREAM_HDR",	  "VZFUS",   0, 0 },
	{ CDP_T_STREAM_END,	"STREAM_END",	  "Q",	     0, 0 },
	{ CDP_T_HEARTBEAT,	"HEARTBEAT",	  "",	     0, 0 },
	{ CDP_T_ACK,		"ACK",		  "UQ",	     0, 0 },
	{ CDP_T_RESUME,		"RESUME",	  "UQ",	     0, 0 },
	{ CDP_T_MARK,		"MARK",		  "RN",	     1, 0 },
	{ CDP_T_BASELINE_BEGIN,	"BASELINE_BEGIN", "",	     1, 0 },
	{ CDP_T_BASELINE_END,	"BASELINE_END",	  "",	     1, 0 },
	{ CDP_T_CREATE,		"CREATE",	  "MP",	     1, 1 },
	{ CDP_T_MKDIR,		"MKDIR",	  "MP",	     1, 1 },
	{ CDP_T_SYMLINK,	"SYMLINK",	  "PY",	     1, 1 },
	{ CDP_T_LINK,		"LINK",		  "P2",	     1, 1 },
	{ CDP_T_RENAME,		"RENAME",	  "RP2",     1, 1 },
	{ CDP_T_UNLINK,		"UNLINK",	  "P",	     1, 1 },
	{ CDP_T_RMDIR,		"RMDIR",	  "P",	     1, 1 },
	{ CDP_T_SETATTR,	"SETATTR",	  "RMIGATp", 1, 1 },
	{ CDP_T_SETXATTR,	"SETXATTR",	  "pXD",     1, 1 },
	{ CDP_T_REMOVEXATTR,	"REMOVEXATTR",	  "pX",	     1, 1 },
	{ CDP_T_WRITE,		"WRITE",	  "OPD",     1, 1 },
	{ CDP_T_TRUNCATE,	"TRUNCATE",	  "OP",	     1, 1 },
	{ CDP_T_FALLOCATE,	"FALLOCATE",	  "MOLP",    1, 1 },
	{ CDP_T_FSYNC,		"FSYNC",	  "Rp",	     1, 0 },
};

static const struct type_info *
lookup(uint16_t type)
{
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (types[i].type == type)
			return &types[i];
	return NULL;
}

const char *
cdp_record_type_name(uint16_t type)
{
	const struct type_info *t = lookup(type);

	return t != NULL ? t->name : NULL;
}

int
cdp_record_type_known(uint16_t type)
{
	return lookup(type) != NULL;
}

int
cdp_record_type_numbered(uint16_t type)
{
	const struct type_info *t = lookup(type);

	return t != NULL && t->numbered;
}

int
cdp_record_type_changes_tree(uint16_t type)
{
	const struct type_info *t = lookup(type);

	return t != NULL && t->changes_tree;
}

int
cdp_record_mark_name_ok(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n > CDP_MARK_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c < 0x20 || c == 0x7f || c == '@')
			return 0;
	}
	return 1;
}

/* Where a layout letter's string goes, and what it may hold. */
static char *
str_field(struct cdp_record *rec, char letter, size_t *max)
{
	switch (letter) {
	case 'P': case 'p':
		*max = CDP_PATH_MAX;
		return rec->path;
	case '2': case 'Y': case 'S':
		*max = CDP_PATH_MAX;
		return rec->path2;
	case 'N': case 'X':
		*max = CDP_NAME_MAX;
		return rec->name;
	}
	return NULL;
}

static int
check_str(char letter, const char *s, size_t len, const char **why)
{
	switch (letter) {
	case 'p':
		if (len == 0)
			return 0;
		/* FALLTHROUGH */
	case 'P': case '2':
		return cdp_path_check(s, len, why);
	case 'Y':
		if (len == 0) {
			*why = "empty symlink target";
			return -1;
		}
		break;
	case 'N':
		if (len == 0 || len > CDP_MARK_MAX) {
			*why = "bad mark name length";
			return -1;
		}
		break;
	case 'X':
		if (len == 0 || len > CDP_XATTR_NAME_MAX) {
			*why = "bad xattr name length";
			return -1;
		}
		break;
	}
	if (memchr(s, '\0', len) != NULL) {
		*why = "string contains a NUL byte";
		return -1;
	}
	return 0;
}

/* The rules a layout string cannot say. */
static int
check_fields(const struct cdp_record *rec, const char **why)
{
	uint32_t ftype;

	switch (rec->type) {
	case CDP_T_STREAM_HDR:
		if (rec->version != CDP_VERSION) {
			*why = "unsupported stream version";
			return -1;
		}
		if (rec->features & ~CDP_FEATURES_KNOWN) {
			*why = "unknown stream feature bits";
			return -1;
		}
		break;
	case CDP_T_RESUME:
		if (rec->u64 == 0) {
			*why = "RESUME next_seq 0";
			return -1;
		}
		break;
	case CDP_T_MARK:
		if (!cdp_record_mark_name_ok(rec->name)) {
			*why = "bad mark name";
			return -1;
		}
		break;
	case CDP_T_CREATE:
		ftype = rec->mode & S_IFMT;
		if ((rec->mode & ~(uint32_t)(S_IFMT | 07777)) != 0 ||
		    (ftype != 0 && ftype != S_IFREG && ftype != S_IFIFO)) {
			*why = "bad mode for CREATE";
			return -1;
		}
		break;
	case CDP_T_MKDIR:
		ftype = rec->mode & S_IFMT;
		if ((rec->mode & ~(uint32_t)(S_IFMT | 07777)) != 0 ||
		    (ftype != 0 && ftype != S_IFDIR)) {
			*why = "bad mode for MKDIR";
			return -1;
		}
		break;
	case CDP_T_RENAME:
		if (rec->rflags != 0 && rec->rflags != CDP_RENAME_NOREPLACE &&
		    rec->rflags != CDP_RENAME_EXCHANGE) {
			*why = "bad RENAME flags";
			return -1;
		}
		break;
	case CDP_T_SETATTR:
		if (rec->rflags & ~(uint32_t)CDP_ATTR_ALL) {
			*why = "unknown SETATTR valid bits";
			return -1;
		}
		if ((rec->rflags & CDP_ATTR_MODE) &&
		    (rec->mode & ~(uint32_t)07777)) {
			*why = "bad mode for SETATTR";
			return -1;
		}
		break;
	case CDP_T_SETXATTR:
		if (rec->data_len > CDP_XATTR_VALUE_MAX) {
			*why = "xattr value too long";
			return -1;
		}
		break;
	case CDP_T_WRITE:
		if (rec->off > (uint64_t)INT64_MAX - rec->data_len) {
			*why = "write beyond the largest file offset";
			return -1;
		}
		break;
	case CDP_T_TRUNCATE:
		if (rec->off > (uint64_t)INT64_MAX) {
			*why = "size beyond the largest file offset";
			return -1;
		}
		break;
	case CDP_T_FSYNC:
		if (rec->rflags & ~(uint32_t)CDP_FSYNC_DATASYNC) {
			*why = "unknown FSYNC flags";
			return -1;
		}
		break;
	case CDP_T_FALLOCATE:
		switch (rec->mode) {
		case 0x00: case 0x01: case 0x03: case 0x08: case 0x10:
		case 0x11: case 0x20: case 0x40: case 0x41:
			break;
		default:
			*why = "bad FALLOCATE mode";
			return -1;
		}
		if (rec->len == 0) {
			*why = "empty FALLOCATE range";
			return -1;
		}
		if (rec->off > (uint64_t)INT64_MAX ||
		    rec->len > (uint64_t)INT64_MAX - rec->off) {
			*why = "range beyond the largest file offset";
			return -1;
		}
		break;
	}
	return 0;
}

static uint64_t
get_le(const uint8_t *p, int n)
{
	uint64_t v = 0;

	while (n-- > 0)
		v = v << 8 | p[n];
	return v;
}

static void
put_le(uint8_t *p, uint64_t v, int n)
{
	int i;

	for (i = 0; i < n; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

/* Width in bytes of a fixed layout letter; 0 for strings and data. */
static int
width(char letter)
{
	switch (letter) {
	case 'V': case 'Z':
		return 2;
	case 'F': case 'M': case 'R': case 'I': case 'G':
		return 4;
	case 'Q': case 'A': case 'T': case 'O': case 'L':
		return 8;
	case 'U':
		return 16;
	}
	return 0;
}

/* SETATTR fields whose valid bit is clear are written as 0. */
static int
setattr_unset(const struct cdp_record *rec, char letter)
{
	uint32_t bit;

	if (rec->type != CDP_T_SETATTR)
		return 0;
	switch (letter) {
	case 'M': bit = CDP_ATTR_MODE; break;
	case 'I': bit = CDP_ATTR_UID; break;
	case 'G': bit = CDP_ATTR_GID; break;
	case 'A': bit = CDP_ATTR_ATIME; break;
	case 'T': bit = CDP_ATTR_MTIME; break;
	default: return 0;
	}
	return (rec->rflags & bit) == 0;
}

/* The integer field a layout letter names, as it is written. */
static uint64_t
get_int(const struct cdp_record *rec, char letter)
{
	if (setattr_unset(rec, letter))
		return 0;
	switch (letter) {
	case 'V': return rec->version;
	case 'F': return rec->features;
	case 'Q': return rec->u64;
	case 'M': return rec->mode;
	case 'R': return rec->rflags;
	case 'I': return rec->uid;
	case 'G': return rec->gid;
	case 'A': return (uint64_t)rec->atime_ns;
	case 'T': return (uint64_t)rec->mtime_ns;
	case 'O': return rec->off;
	case 'L': return rec->len;
	}
	return 0;
}

static void
set_int(struct cdp_record *rec, char letter, uint64_t v)
{
	switch (letter) {
	case 'V': rec->version = (uint16_t)v; break;
	case 'F': rec->features = (uint32_t)v; break;
	case 'Q': rec->u64 = v; break;
	case 'M': rec->mode = (uint32_t)v; break;
	case 'R': rec->rflags = (uint32_t)v; break;
	case 'I': rec->uid = (uint32_t)v; break;
	case 'G': rec->gid = (uint32_t)v; break;
	case 'A': rec->atime_ns = (int64_t)v; break;
	case 'T': rec->mtime_ns = (int64_t)v; break;
	case 'O': rec->off = v; break;
	case 'L': rec->len = v; break;
	}
}

static void
clear_fields(struct cdp_record *rec)
{
	rec->version = 0;
	rec->features = 0;
	memset(rec->uuid, 0, sizeof(rec->uuid));
	rec->u64 = rec->off = rec->len = 0;
	rec->mode = rec->rflags = rec->uid = rec->gid = 0;
	rec->atime_ns = rec->mtime_ns = 0;
	rec->path[0] = rec->path2[0] = rec->name[0] = '\0';
	rec->data = NULL;
	rec->data_len = 0;
}

int
cdp_record_decode(struct cdp_record *rec, const uint8_t *p, size_t len,
    const char **why)
{
	const struct type_info *t = lookup(rec->type);
	const char *l;

	clear_fields(rec);
	if (t == NULL) {
		*why = "unknown record type";
		errno = EBADMSG;
		return -1;
	}
	for (l = t->layout; *l != '\0'; l++) {
		int w = width(*l);
		size_t n, max = 0;
		char *dst;

		if (*l == 'D') {
			rec->data = p;
			rec->data_len = len;
			p += len;
			len = 0;
			continue;
		}
		if (*l == 'U') {
			if (len < 16)
				goto short_payload;
			memcpy(rec->uuid, p, 16);
			p += 16;
			len -= 16;
			continue;
		}
		if (w != 0) {
			if (len < (size_t)w)
				goto short_payload;
			/* 'Z' is reserved: written as 0, ignored on reading. */
			if (*l != 'Z')
				set_int(rec, *l, get_le(p, w));
			p += w;
			len -= w;
			continue;
		}
		/* A string: u16 length, then the bytes. */
		if (len < 2)
			goto short_payload;
		n = get_le(p, 2);
		p += 2;
		len -= 2;
		if (n > len)
			goto short_payload;
		dst = str_field(rec, *l, &max);
		if (n > max) {
			*why = "string too long";
			errno = EBADMSG;
			return -1;
		}
		if (check_str(*l, (const char *)p, n, why) == -1) {
			errno = EBADMSG;
			return -1;
		}
		memcpy(dst, p, n);
		dst[n] = '\0';
		p += n;
		len -= n;
	}
	if (len != 0) {
		*why = "trailing bytes after the last field";
		errno = EBADMSG;
		return -1;
	}
	if (check_fields(rec, why) == -1) {
		errno = EBADMSG;
		return -1;
	}
	return 0;

short_payload:
	*why = "payload too short";
	errno = EBADMSG;
	return -1;
}

long
cdp_record_encode_head(const struct cdp_record *rec, uint8_t *buf,
    size_t size)
{
	const struct type_info *t = lookup(rec->type);
	const char *l, *why;
	size_t used = 0;

	if (t == NULL || check_fields(rec, &why) == -1) {
		errno = EINVAL;
		return -1;
	}
	for (l = t->layout; *l != '\0'; l++) {
		int w = width(*l);
		size_t n, max = 0;
		const char *s;

		if (*l == 'D')
			break;
		if (*l == 'U') {
			if (size - used < 16)
				goto nospace;
			memcpy(buf + used, rec->uuid, 16);
			used += 16;
			continue;
		}
		if (w != 0) {
			if (size - used < (size_t)w)
				goto nospace;
			put_le(buf + used, *l == 'Z' ? 0 : get_int(rec, *l), w);
			used += w;
			continue;
		}
		s = str_field((struct cdp_record *)(uintptr_t)rec, *l, &max);
		n = strnlen(s, max + 1);
		if (n > max || check_str(*l, s, n, &why) == -1) {
			errno = EINVAL;
			return -1;
		}
		if (size - used < 2 + n)
			goto nospace;
		put_le(buf + used, n, 2);
		memcpy(buf + used + 2, s, n);
		used += 2 + n;
	}
	return (long)used;

nospace:
	errno = ENOSPC;
	return -1;
}
