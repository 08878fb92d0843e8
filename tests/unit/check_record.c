/*
 * check_record.c: unit tests for cdp_record (type table and payload codec).
 *
 * Payloads are built here by hand from the layout in cdp-journal(5), so the
 * codec is checked against the format and not only against itself: for
 * every type the encoder must produce exactly these bytes and the decoder
 * must give back every field.
 */
#include <sys/stat.h>

#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdp_format.h"
#include "cdp_record.h"
#include "unit_record.h"

/* A payload under construction. */
struct buf {
	uint8_t	*b;
	size_t	 n;
	size_t	 cap;
};

/* A string on the wire: any bytes, any length (NULs and lies included). */
struct str {
	const char	*p;
	size_t		 n;
};

/* Every payload field of every type, by role; see wire_build(). */
struct wire {
	uint16_t	version, resv;
	uint32_t	features;
	uint8_t		uuid[16];
	uint64_t	u64;
	uint32_t	mode;
	uint32_t	flags;		/* RENAME/MARK/FSYNC flags; SETATTR
					   valid */
	uint32_t	uid, gid;
	int64_t		atime, mtime;
	uint64_t	off, len;
	struct str	path, path2, name;
	const uint8_t	*data;
	size_t		data_len;
};

static const uint16_t all_types[] = {
	CDP_T_STREAM_HDR, CDP_T_STREAM_END, CDP_T_HEARTBEAT, CDP_T_ACK,
	CDP_T_RESUME, CDP_T_MARK, CDP_T_BASELINE_BEGIN, CDP_T_BASELINE_END,
	CDP_T_CREATE, CDP_T_MKDIR, CDP_T_SYMLINK, CDP_T_LINK, CDP_T_RENAME,
	CDP_T_UNLINK, CDP_T_RMDIR, CDP_T_SETATTR, CDP_T_SETXATTR,
	CDP_T_REMOVEXATTR, CDP_T_WRITE, CDP_T_TRUNCATE, CDP_T_FALLOCATE,
	CDP_T_FSYNC,
};
#define NTYPES	(sizeof all_types / sizeof all_types[0])

static void
buf_init(struct buf *b)
{
	b->cap = 4 * CDP_XATTR_VALUE_MAX;
	b->b = malloc(b->cap);
	ck_assert_ptr_nonnull(b->b);
	b->n = 0;
}

static void
buf_free(struct buf *b)
{
	free(b->b);
	b->b = NULL;
}

static void
put_bytes(struct buf *b, const void *p, size_t n)
{
	ck_assert_uint_le(b->n + n, b->cap);
	if (n > 0)
		memcpy(b->b + b->n, p, n);
	b->n += n;
}

static void
put_le(struct buf *b, uint64_t v, int bytes)
{
	int i;

	for (i = 0; i < bytes; i++) {
		uint8_t c = (uint8_t)(v >> (8 * i));

		put_bytes(b, &c, 1);
	}
}

static void
put_str(struct buf *b, struct str s)
{
	put_le(b, s.n, 2);
	put_bytes(b, s.p, s.n);
}

static struct str
S(const char *s)
{
	struct str r = { s, strlen(s) };

	return r;
}

/* The payload of type with the fields of w, laid out as cdp-journal(5). */
static void
wire_build(uint16_t type, const struct wire *w, struct buf *b)
{
	b->n = 0;
	switch (type) {
	case CDP_T_STREAM_HDR:
		put_le(b, w->version, 2);
		put_le(b, w->resv, 2);
		put_le(b, w->features, 4);
		put_bytes(b, w->uuid, 16);
		put_str(b, w->path2);
		break;
	case CDP_T_STREAM_END:
		put_le(b, w->u64, 8);
		break;
	case CDP_T_ACK:
	case CDP_T_RESUME:
		put_bytes(b, w->uuid, 16);
		put_le(b, w->u64, 8);
		break;
	case CDP_T_MARK:
		put_le(b, w->flags, 4);
		put_str(b, w->name);
		break;
	case CDP_T_HEARTBEAT:
	case CDP_T_BASELINE_BEGIN:
	case CDP_T_BASELINE_END:
		break;
	case CDP_T_CREATE:
	case CDP_T_MKDIR:
		put_le(b, w->mode, 4);
		put_str(b, w->path);
		break;
	case CDP_T_SYMLINK:
	case CDP_T_LINK:
		put_str(b, w->path);
		put_str(b, w->path2);
		break;
	case CDP_T_RENAME:
		put_le(b, w->flags, 4);
		put_str(b, w->path);
		put_str(b, w->path2);
		break;
	case CDP_T_UNLINK:
	case CDP_T_RMDIR:
		put_str(b, w->path);
		break;
	case CDP_T_SETATTR:
		put_le(b, w->flags, 4);
		put_le(b, w->mode, 4);
		put_le(b, w->uid, 4);
		put_le(b, w->gid, 4);
		put_le(b, (uint64_t)w->atime, 8);
		put_le(b, (uint64_t)w->mtime, 8);
		put_str(b, w->path);
		break;
	case CDP_T_SETXATTR:
		put_str(b, w->path);
		put_str(b, w->name);
		put_bytes(b, w->data, w->data_len);
		break;
	case CDP_T_REMOVEXATTR:
		put_str(b, w->path);
		put_str(b, w->name);
		break;
	case CDP_T_WRITE:
		put_le(b, w->off, 8);
		put_str(b, w->path);
		put_bytes(b, w->data, w->data_len);
		break;
	case CDP_T_TRUNCATE:
		put_le(b, w->off, 8);
		put_str(b, w->path);
		break;
	case CDP_T_FALLOCATE:
		put_le(b, w->mode, 4);
		put_le(b, w->off, 8);
		put_le(b, w->len, 8);
		put_str(b, w->path);
		break;
	case CDP_T_FSYNC:
		put_le(b, w->flags, 4);
		put_str(b, w->path);
		break;
	default:
		ck_abort_msg("wire_build: type 0x%04x", type);
	}
}

/* Whether the payload of type ends in free-length data. */
static int
has_data(uint16_t type)
{
	return type == CDP_T_WRITE || type == CDP_T_SETXATTR;
}

/* A valid, representative set of fields for type. */
static void
wire_valid(uint16_t type, struct wire *w)
{
	static const uint8_t data[] = "some\0data";
	static const uint8_t uuid[16] = {
		0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0x4d, 0xef,
		0x81, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
	};

	memset(w, 0, sizeof *w);
	w->version = CDP_VERSION;
	memcpy(w->uuid, uuid, 16);
	w->u64 = 42;
	w->path = S("dir/file");
	w->path2 = S("other/name");
	w->name = S("user.comment");
	switch (type) {
	case CDP_T_STREAM_HDR:
		w->path2 = S("host:/srv/data");
		break;
	case CDP_T_MARK:
		w->name = S("before-upgrade");
		break;
	case CDP_T_CREATE:
		w->mode = 0644;
		break;
	case CDP_T_MKDIR:
		w->mode = 0755;
		break;
	case CDP_T_SYMLINK:
		w->path2 = S("../target");
		break;
	case CDP_T_RENAME:
		w->flags = CDP_RENAME_NOREPLACE;
		break;
	case CDP_T_SETATTR:
		w->flags = CDP_ATTR_ALL;
		w->mode = 0600;
		w->uid = 1000;
		w->gid = 100;
		w->atime = 1700000000123456789LL;
		w->mtime = 1700000001987654321LL;
		break;
	case CDP_T_FALLOCATE:
		w->mode = 1;
		w->off = 4096;
		w->len = 8192;
		break;
	case CDP_T_TRUNCATE:
		w->off = 12345;
		break;
	case CDP_T_WRITE:
		w->off = 512;
		break;
	case CDP_T_FSYNC:
		w->flags = CDP_FSYNC_DATASYNC;
		break;
	}
	if (has_data(type)) {
		w->data = data;
		w->data_len = sizeof data;
	}
}

/* The record fields a wire describes. */
static void
wire_to_rec(uint16_t type, const struct wire *w, struct cdp_record *r)
{
	memset(r, 0, sizeof *r);
	r->type = type;
	r->version = w->version;
	r->features = w->features;
	memcpy(r->uuid, w->uuid, 16);
	r->u64 = w->u64;
	r->mode = w->mode;
	r->rflags = w->flags;
	r->uid = w->uid;
	r->gid = w->gid;
	r->atime_ns = w->atime;
	r->mtime_ns = w->mtime;
	r->off = w->off;
	r->len = w->len;
	ck_assert_uint_le(w->path.n, CDP_PATH_MAX);
	ck_assert_uint_le(w->path2.n, CDP_PATH_MAX);
	ck_assert_uint_le(w->name.n, CDP_NAME_MAX);
	memcpy(r->path, w->path.p, w->path.n);
	memcpy(r->path2, w->path2.p, w->path2.n);
	memcpy(r->name, w->name.p, w->name.n);
	r->data = w->data;
	r->data_len = w->data_len;
}

/*
 * Decode len bytes of p as type from an exact-size heap copy, so that a
 * read past the end shows up under AddressSanitizer.
 */
static int
decode_copy(uint16_t type, const uint8_t *p, size_t len,
    struct cdp_record *rec, const char **why)
{
	uint8_t *copy = malloc(len > 0 ? len : 1);
	int rc;

	ck_assert_ptr_nonnull(copy);
	if (len > 0)
		memcpy(copy, p, len);
	memset(rec, 0, sizeof *rec);
	rec->type = type;
	*why = NULL;
	errno = 0;
	rc = cdp_record_decode(rec, copy, len, why);
	free(copy);
	/* rec->data pointed into copy; callers that need it use p. */
	rec->data = NULL;
	return rc;
}

/*
 * The full round trip for one set of fields: the encoder writes exactly
 * the bytes of the format, and the decoder gives every field back.
 */
static void
roundtrip(uint16_t type, const struct wire *w)
{
	struct cdp_record in, out;
	struct buf want;
	uint8_t *head, *payload;
	const char *why = NULL;
	long n;
	size_t plen;

	buf_init(&want);
	wire_build(type, w, &want);
	wire_to_rec(type, w, &in);

	head = malloc(CDP_RECORD_HEAD_MAX);
	ck_assert_ptr_nonnull(head);
	errno = 0;
	n = cdp_record_encode_head(&in, head, CDP_RECORD_HEAD_MAX);
	ck_assert_msg(n >= 0, "encode %s: -1, errno %d",
	    cdp_record_type_name(type), errno);
	ck_assert_uint_eq((size_t)n + w->data_len, want.n);
	ck_assert_mem_eq(head, want.b, (size_t)n);
	if (w->data_len > 0)
		ck_assert_mem_eq(want.b + n, w->data, w->data_len);

	/* Decode the format's bytes (in place, data must point into them). */
	plen = want.n;
	payload = malloc(plen > 0 ? plen : 1);
	ck_assert_ptr_nonnull(payload);
	memcpy(payload, want.b, plen);
	memset(&out, 0, sizeof out);
	out.type = type;
	errno = 0;
	ck_assert_msg(cdp_record_decode(&out, payload, plen, &why) == 0,
	    "decode %s: %s", cdp_record_type_name(type),
	    why ? why : "(no reason)");
	rec_compare(&in, &out);
	if (has_data(type) && w->data_len > 0) {
		ck_assert_msg(out.data >= payload &&
		    out.data + out.data_len <= payload + plen,
		    "%s: data does not point into the payload",
		    cdp_record_type_name(type));
	}

	free(payload);
	free(head);
	buf_free(&want);
}

/* Expect the payload of w (as type) to be refused with EBADMSG. */
static void
expect_reject_buf(uint16_t type, const uint8_t *p, size_t len,
    const char *what)
{
	struct cdp_record rec;
	const char *why;
	int rc;

	rc = decode_copy(type, p, len, &rec, &why);
	ck_assert_msg(rc == -1, "%s %s (%zu bytes): accepted",
	    cdp_record_type_name(type), what, len);
	ck_assert_msg(errno == EBADMSG, "%s %s: errno %d (%s), want EBADMSG",
	    cdp_record_type_name(type), what, errno, strerror(errno));
	ck_assert_msg(why != NULL && why[0] != '\0', "%s %s: no reason",
	    cdp_record_type_name(type), what);
}

static void
expect_reject(uint16_t type, const struct wire *w, const char *what)
{
	struct buf b;

	buf_init(&b);
	wire_build(type, w, &b);
	expect_reject_buf(type, b.b, b.n, what);
	buf_free(&b);
}

static void
expect_accept(uint16_t type, const struct wire *w, const char *what)
{
	struct cdp_record rec;
	struct buf b;
	const char *why;

	buf_init(&b);
	wire_build(type, w, &b);
	ck_assert_msg(decode_copy(type, b.b, b.n, &rec, &why) == 0,
	    "%s %s: refused: %s", cdp_record_type_name(type), what,
	    why ? why : "(no reason)");
	buf_free(&b);
}

/* n bytes of 'a'..'z', optionally cut into components of comp bytes. */
static char *
long_string(size_t n, size_t comp)
{
	char *s = malloc(n + 1);
	size_t i, run;

	ck_assert_ptr_nonnull(s);
	for (i = 0, run = 0; i < n; i++) {
		if (comp > 0 && run == comp && i + 1 < n) {
			s[i] = '/';
			run = 0;
		} else {
			s[i] = 'a' + (char)(i % 26);
			run++;
		}
	}
	s[n] = '\0';
	return s;
}

static int
is_path_type(uint16_t t)
{
	return (t & 0xff00) == 0x0100 || (t & 0xff00) == 0x0200;
}

/* Types whose path may be empty (the root itself). */
static int
empty_path_ok(uint16_t t)
{
	return t == CDP_T_SETATTR || t == CDP_T_SETXATTR ||
	    t == CDP_T_REMOVEXATTR || t == CDP_T_FSYNC;
}

/* ---- the type table ---- */

START_TEST(test_record_type_names)
{
	static const struct {
		uint16_t	 type;
		const char	*name;
	} names[] = {
		{ CDP_T_STREAM_HDR, "STREAM_HDR" },
		{ CDP_T_STREAM_END, "STREAM_END" },
		{ CDP_T_HEARTBEAT, "HEARTBEAT" },
		{ CDP_T_ACK, "ACK" },
		{ CDP_T_RESUME, "RESUME" },
		{ CDP_T_MARK, "MARK" },
		{ CDP_T_BASELINE_BEGIN, "BASELINE_BEGIN" },
		{ CDP_T_BASELINE_END, "BASELINE_END" },
		{ CDP_T_CREATE, "CREATE" },
		{ CDP_T_MKDIR, "MKDIR" },
		{ CDP_T_SYMLINK, "SYMLINK" },
		{ CDP_T_LINK, "LINK" },
		{ CDP_T_RENAME, "RENAME" },
		{ CDP_T_UNLINK, "UNLINK" },
		{ CDP_T_RMDIR, "RMDIR" },
		{ CDP_T_SETATTR, "SETATTR" },
		{ CDP_T_SETXATTR, "SETXATTR" },
		{ CDP_T_REMOVEXATTR, "REMOVEXATTR" },
		{ CDP_T_WRITE, "WRITE" },
		{ CDP_T_TRUNCATE, "TRUNCATE" },
		{ CDP_T_FALLOCATE, "FALLOCATE" },
		{ CDP_T_FSYNC, "FSYNC" },
	};
	size_t i;

	ck_assert_uint_eq(sizeof names / sizeof names[0], NTYPES);
	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		const char *n = cdp_record_type_name(names[i].type);

		ck_assert_ptr_nonnull(n);
		ck_assert_str_eq(n, names[i].name);
		ck_assert_int_eq(cdp_record_type_known(names[i].type), 1);
	}
}
END_TEST

START_TEST(test_record_type_unknown)
{
	static const uint16_t unknown[] = {
		0x0000, 0x0006, 0x000f, 0x0013, 0x0100, 0x010b, 0x0200,
		0x0205, 0x0301, 0x7fff, 0x8001, 0xffff,
	};
	size_t i;

	for (i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
		ck_assert_msg(cdp_record_type_name(unknown[i]) == NULL,
		    "type 0x%04x has a name", unknown[i]);
		ck_assert_int_eq(cdp_record_type_known(unknown[i]), 0);
	}
}
END_TEST

START_TEST(test_record_type_numbered_vs_control)
{
	size_t i;

	for (i = 0; i < NTYPES; i++) {
		uint16_t t = all_types[i];
		int control = t == CDP_T_STREAM_HDR || t == CDP_T_STREAM_END ||
		    t == CDP_T_HEARTBEAT || t == CDP_T_ACK ||
		    t == CDP_T_RESUME;

		ck_assert_msg(cdp_record_type_numbered(t) == !control,
		    "%s: numbered %d", cdp_record_type_name(t),
		    cdp_record_type_numbered(t));
	}
}
END_TEST

START_TEST(test_record_type_changes_tree)
{
	size_t i;

	for (i = 0; i < NTYPES; i++) {
		uint16_t t = all_types[i];

		/* cdp-journal(5): all of 0x01xx and 0x02xx but FSYNC. */
		ck_assert_msg(cdp_record_type_changes_tree(t) ==
		    (is_path_type(t) && t != CDP_T_FSYNC),
		    "%s: changes_tree %d",
		    cdp_record_type_name(t), cdp_record_type_changes_tree(t));
	}
}
END_TEST

/* ---- round trips ---- */

START_TEST(test_record_roundtrip_every_type)
{
	struct wire w;
	size_t i;

	for (i = 0; i < NTYPES; i++) {
		wire_valid(all_types[i], &w);
		roundtrip(all_types[i], &w);
	}
}
END_TEST

START_TEST(test_record_roundtrip_control_boundaries)
{
	struct wire w;
	char *src = long_string(CDP_SOURCE_MAX, 0);

	wire_valid(CDP_T_STREAM_HDR, &w);
	w.path2 = S("");
	roundtrip(CDP_T_STREAM_HDR, &w);
	w.path2 = S(src);
	memset(w.uuid, 0xff, 16);
	roundtrip(CDP_T_STREAM_HDR, &w);
	w.path2 = S("host name/with spaces/\xc3\xa9");
	memset(w.uuid, 0, 16);
	roundtrip(CDP_T_STREAM_HDR, &w);

	wire_valid(CDP_T_STREAM_END, &w);
	w.u64 = 0;
	roundtrip(CDP_T_STREAM_END, &w);
	w.u64 = UINT64_MAX;
	roundtrip(CDP_T_STREAM_END, &w);
	w.u64 = 0x0102030405060708ULL;	/* byte order */
	roundtrip(CDP_T_STREAM_END, &w);

	wire_valid(CDP_T_ACK, &w);
	w.u64 = UINT64_MAX;
	memset(w.uuid, 0xa5, 16);
	roundtrip(CDP_T_ACK, &w);
	w.u64 = 0;
	roundtrip(CDP_T_ACK, &w);

	wire_valid(CDP_T_RESUME, &w);
	w.u64 = 1;
	roundtrip(CDP_T_RESUME, &w);
	w.u64 = UINT64_MAX;
	roundtrip(CDP_T_RESUME, &w);

	free(src);
}
END_TEST

START_TEST(test_record_roundtrip_mark_boundaries)
{
	struct wire w;
	char *n255 = long_string(CDP_MARK_MAX, 0);

	wire_valid(CDP_T_MARK, &w);
	w.name = S("a");
	roundtrip(CDP_T_MARK, &w);
	w.name = S(n255);
	roundtrip(CDP_T_MARK, &w);
	w.name = S("before upgrade \xc3\xa9t\xc3\xa9 2026-11-25");
	roundtrip(CDP_T_MARK, &w);
	free(n255);
}
END_TEST

START_TEST(test_record_roundtrip_namespace_boundaries)
{
	struct wire w;
	char *p4095 = long_string(CDP_PATH_MAX, 200);
	char *c255 = long_string(CDP_NAME_MAX, 0);
	char *t4095 = long_string(CDP_PATH_MAX, 0);

	wire_valid(CDP_T_CREATE, &w);
	w.mode = 0;
	w.path = S("a");
	roundtrip(CDP_T_CREATE, &w);
	w.mode = 07777;
	w.path = S(p4095);
	roundtrip(CDP_T_CREATE, &w);
	w.path = S(c255);
	roundtrip(CDP_T_CREATE, &w);
	w.path = S("dir with space/\xe6\x97\xa5\xe6\x9c\xac");
	roundtrip(CDP_T_CREATE, &w);

	wire_valid(CDP_T_MKDIR, &w);
	w.mode = 01777;
	w.path = S(p4095);
	roundtrip(CDP_T_MKDIR, &w);

	/* A symlink target is link content, not a journal path. */
	wire_valid(CDP_T_SYMLINK, &w);
	w.path2 = S("/absolute/target");
	roundtrip(CDP_T_SYMLINK, &w);
	w.path2 = S("../../up/./and//down/");
	roundtrip(CDP_T_SYMLINK, &w);
	w.path = S(p4095);
	w.path2 = S(t4095);
	roundtrip(CDP_T_SYMLINK, &w);

	wire_valid(CDP_T_LINK, &w);
	w.path = S(p4095);
	w.path2 = S(p4095);
	roundtrip(CDP_T_LINK, &w);

	wire_valid(CDP_T_RENAME, &w);
	w.flags = 0;
	roundtrip(CDP_T_RENAME, &w);
	w.flags = CDP_RENAME_EXCHANGE;
	roundtrip(CDP_T_RENAME, &w);
	w.flags = CDP_RENAME_NOREPLACE;
	w.path = S(p4095);
	w.path2 = S(p4095);
	roundtrip(CDP_T_RENAME, &w);

	wire_valid(CDP_T_UNLINK, &w);
	w.path = S(p4095);
	roundtrip(CDP_T_UNLINK, &w);
	wire_valid(CDP_T_RMDIR, &w);
	w.path = S("a");
	roundtrip(CDP_T_RMDIR, &w);

	free(p4095);
	free(c255);
	free(t4095);
}
END_TEST

START_TEST(test_record_roundtrip_setattr_boundaries)
{
	struct wire w;

	wire_valid(CDP_T_SETATTR, &w);
	roundtrip(CDP_T_SETATTR, &w);
	w.flags = 0;
	w.mode = 0;
	w.uid = 0;
	w.gid = 0;
	w.atime = 0;
	w.mtime = 0;
	w.path = S("");		/* the root itself */
	roundtrip(CDP_T_SETATTR, &w);
	w.flags = CDP_ATTR_ALL;	/* every field at its boundary */
	w.mode = 07777;
	w.uid = UINT32_MAX;
	w.gid = UINT32_MAX - 1;
	w.atime = -1000000000LL;	/* before the epoch */
	w.mtime = INT64_MAX;
	w.path = S("x");
	roundtrip(CDP_T_SETATTR, &w);
	/* A field whose bit is clear is written as 0 (and ignored). */
	w.flags = CDP_ATTR_UID | CDP_ATTR_GID;
	w.mode = 0;
	w.atime = 0;
	w.mtime = 0;
	roundtrip(CDP_T_SETATTR, &w);
	w.flags = CDP_ATTR_ATIME | CDP_ATTR_MTIME;
	w.uid = 0;
	w.gid = 0;
	w.atime = INT64_MIN;
	w.mtime = -1;
	roundtrip(CDP_T_SETATTR, &w);
}
END_TEST

START_TEST(test_record_roundtrip_xattr_boundaries)
{
	struct wire w;
	uint8_t *val = malloc(CDP_XATTR_VALUE_MAX);
	char *n255 = long_string(CDP_XATTR_NAME_MAX, 0);
	size_t i;

	ck_assert_ptr_nonnull(val);
	for (i = 0; i < CDP_XATTR_VALUE_MAX; i++)
		val[i] = (uint8_t)(i * 7);

	wire_valid(CDP_T_SETXATTR, &w);
	w.data = NULL;
	w.data_len = 0;		/* an empty value is a value */
	roundtrip(CDP_T_SETXATTR, &w);
	w.data = val;
	w.data_len = CDP_XATTR_VALUE_MAX;
	w.path = S("");
	w.name = S(n255);
	roundtrip(CDP_T_SETXATTR, &w);

	wire_valid(CDP_T_REMOVEXATTR, &w);
	roundtrip(CDP_T_REMOVEXATTR, &w);
	w.path = S("");
	w.name = S(n255);
	roundtrip(CDP_T_REMOVEXATTR, &w);

	free(val);
	free(n255);
}
END_TEST

START_TEST(test_record_roundtrip_data_boundaries)
{
	struct wire w;
	uint8_t data[300];
	size_t i;

	for (i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)i;

	wire_valid(CDP_T_WRITE, &w);
	w.off = 0;
	w.data = data;
	w.data_len = 1;
	roundtrip(CDP_T_WRITE, &w);
	w.data_len = sizeof data;
	roundtrip(CDP_T_WRITE, &w);
	w.off = (uint64_t)INT64_MAX - 16;	/* ends just below the max */
	w.data_len = 16;
	roundtrip(CDP_T_WRITE, &w);

	wire_valid(CDP_T_TRUNCATE, &w);
	w.off = 0;
	roundtrip(CDP_T_TRUNCATE, &w);
	w.off = (uint64_t)INT64_MAX;
	roundtrip(CDP_T_TRUNCATE, &w);

	wire_valid(CDP_T_FALLOCATE, &w);
	w.mode = 0;
	w.off = 0;
	w.len = 1;
	roundtrip(CDP_T_FALLOCATE, &w);
	w.mode = 0x3;		/* KEEP_SIZE | PUNCH_HOLE */
	w.off = 1ULL << 40;
	w.len = 1ULL << 30;
	roundtrip(CDP_T_FALLOCATE, &w);

	wire_valid(CDP_T_FSYNC, &w);
	w.flags = 0;
	w.path = S("");		/* the whole tree */
	roundtrip(CDP_T_FSYNC, &w);
	w.flags = CDP_FSYNC_DATASYNC;
	w.path = S("a/b");
	roundtrip(CDP_T_FSYNC, &w);
}
END_TEST

/* ---- encode errors ---- */

START_TEST(test_record_encode_buffer_too_small)
{
	struct cdp_record rec;
	struct wire w;
	uint8_t buf[CDP_RECORD_HEAD_MAX];
	long n, m;
	size_t i;

	for (i = 0; i < NTYPES; i++) {
		wire_valid(all_types[i], &w);
		wire_to_rec(all_types[i], &w, &rec);
		n = cdp_record_encode_head(&rec, buf, sizeof buf);
		ck_assert_int_ge(n, 0);
		if (n == 0)
			continue;
		errno = 0;
		m = cdp_record_encode_head(&rec, buf, (size_t)n - 1);
		ck_assert_msg(m == -1 && errno == ENOSPC,
		    "%s: encode into %ld bytes: %ld, errno %d",
		    cdp_record_type_name(all_types[i]), n - 1, m, errno);
		errno = 0;
		m = cdp_record_encode_head(&rec, buf, 0);
		ck_assert_int_eq(m, -1);
		ck_assert_int_eq(errno, ENOSPC);
		m = cdp_record_encode_head(&rec, buf, (size_t)n);
		ck_assert_int_eq(m, n);
	}
}
END_TEST

/* ---- decode rejects ---- */

START_TEST(test_record_decode_rejects_every_truncation)
{
	struct wire w;
	struct buf b;
	struct cdp_record rec;
	const char *why;
	size_t i, cut, head;
	char what[64];

	buf_init(&b);
	for (i = 0; i < NTYPES; i++) {
		uint16_t t = all_types[i];

		wire_valid(t, &w);
		wire_build(t, &w, &b);
		/* With data at the end, only a cut inside the head is short. */
		head = b.n - w.data_len;
		for (cut = 0; cut < head; cut++) {
			snprintf(what, sizeof what, "cut to %zu of %zu", cut,
			    b.n);
			expect_reject_buf(t, b.b, cut, what);
		}
		ck_assert_int_eq(decode_copy(t, b.b, b.n, &rec, &why), 0);
	}
	buf_free(&b);
}
END_TEST

START_TEST(test_record_decode_rejects_trailing_bytes)
{
	struct wire w;
	struct buf b;
	size_t i;

	buf_init(&b);
	for (i = 0; i < NTYPES; i++) {
		uint16_t t = all_types[i];

		if (has_data(t))
			continue;
		wire_valid(t, &w);
		wire_build(t, &w, &b);
		put_le(&b, 0, 1);
		expect_reject_buf(t, b.b, b.n, "with a trailing byte");
		put_le(&b, 0, 7);
		expect_reject_buf(t, b.b, b.n, "with 8 trailing bytes");
	}
	buf_free(&b);
}
END_TEST

START_TEST(test_record_decode_rejects_string_past_end)
{
	struct buf b;

	buf_init(&b);
	/* UNLINK: a str whose length runs past the payload. */
	put_le(&b, 10, 2);
	put_bytes(&b, "abc", 3);
	expect_reject_buf(CDP_T_UNLINK, b.b, b.n, "str len 10, 3 bytes");
	b.n = 0;
	put_le(&b, 0xffff, 2);
	put_bytes(&b, "abc", 3);
	expect_reject_buf(CDP_T_UNLINK, b.b, b.n, "str len 65535");
	/* SYMLINK: the second string runs past. */
	b.n = 0;
	put_str(&b, S("link"));
	put_le(&b, 7, 2);
	put_bytes(&b, "target", 6);
	expect_reject_buf(CDP_T_SYMLINK, b.b, b.n, "target one short");
	/* WRITE: path runs into what would be data; nothing is left. */
	b.n = 0;
	put_le(&b, 0, 8);
	put_le(&b, 100, 2);
	put_bytes(&b, "file", 4);
	expect_reject_buf(CDP_T_WRITE, b.b, b.n, "path len 100, 4 bytes");
	/* MARK: name length past the end. */
	b.n = 0;
	put_le(&b, 0, 4);
	put_le(&b, 5, 2);
	put_bytes(&b, "mark", 4);
	expect_reject_buf(CDP_T_MARK, b.b, b.n, "name one short");
	/* STREAM_HDR: source length past the end. */
	b.n = 0;
	put_le(&b, 1, 2);
	put_le(&b, 0, 2);
	put_le(&b, 0, 4);
	put_bytes(&b, "0123456789abcdef", 16);
	put_le(&b, 4096, 2);
	put_bytes(&b, "src", 3);
	expect_reject_buf(CDP_T_STREAM_HDR, b.b, b.n, "source past end");
	buf_free(&b);
}
END_TEST

/* Each bad path in each path-carrying position is refused. */
START_TEST(test_record_decode_rejects_invalid_paths)
{
	static const struct str bad[] = {
		{ "/a", 2 }, { "a/", 2 }, { "a//b", 4 }, { ".", 1 },
		{ "..", 2 }, { "a/./b", 5 }, { "a/../b", 6 }, { "../a", 4 },
		{ "a\0b", 3 }, { "/", 1 },
	};
	char *c256 = long_string(CDP_NAME_MAX + 1, 0);
	char *p4096 = long_string(CDP_PATH_MAX + 1, 200);
	struct wire w;
	size_t i, j;
	char what[80];

	for (i = 0; i < NTYPES; i++) {
		uint16_t t = all_types[i];

		if (!is_path_type(t))
			continue;
		for (j = 0; j < sizeof bad / sizeof bad[0] + 2; j++) {
			struct str p;

			if (j < sizeof bad / sizeof bad[0])
				p = bad[j];
			else if (j == sizeof bad / sizeof bad[0])
				p = S(c256);
			else
				p = S(p4096);
			snprintf(what, sizeof what, "path \"%.20s\" (%zu)",
			    p.p, p.n);
			wire_valid(t, &w);
			w.path = p;
			expect_reject(t, &w, what);
			/* LINK and RENAME: the second path too. */
			if (t == CDP_T_LINK || t == CDP_T_RENAME) {
				wire_valid(t, &w);
				w.path2 = p;
				snprintf(what, sizeof what,
				    "second path \"%.20s\" (%zu)", p.p, p.n);
				expect_reject(t, &w, what);
			}
		}
	}
	free(c256);
	free(p4096);
}
END_TEST

START_TEST(test_record_decode_empty_path)
{
	struct wire w;
	size_t i;

	for (i = 0; i < NTYPES; i++) {
		uint16_t t = all_types[i];

		if (!is_path_type(t))
			continue;
		wire_valid(t, &w);
		w.path = S("");
		if (empty_path_ok(t))
			expect_accept(t, &w, "empty path");
		else
			expect_reject(t, &w, "empty path");
		if (t == CDP_T_LINK || t == CDP_T_RENAME) {
			wire_valid(t, &w);
			w.path2 = S("");
			expect_reject(t, &w, "empty second path");
		}
	}
	/* CREATE explicitly: the root cannot be created. */
	wire_valid(CDP_T_CREATE, &w);
	w.path = S("");
	expect_reject(CDP_T_CREATE, &w, "empty path");
}
END_TEST

START_TEST(test_record_decode_rejects_bad_setattr)
{
	struct wire w;

	wire_valid(CDP_T_SETATTR, &w);
	w.flags = CDP_ATTR_ALL + 1;	/* 0x20 */
	expect_reject(CDP_T_SETATTR, &w, "valid 0x20");
	w.flags = 0x80000000u;
	expect_reject(CDP_T_SETATTR, &w, "valid 0x80000000");
	w.flags = CDP_ATTR_MODE | 0x100;
	expect_reject(CDP_T_SETATTR, &w, "valid MODE|0x100");

	wire_valid(CDP_T_SETATTR, &w);
	w.flags = CDP_ATTR_MODE;
	w.mode = S_IFREG | 0644;
	expect_reject(CDP_T_SETATTR, &w, "mode with S_IFREG");
	w.mode = S_IFDIR | 0755;
	expect_reject(CDP_T_SETATTR, &w, "mode with S_IFDIR");
	w.mode = 010000;
	expect_reject(CDP_T_SETATTR, &w, "mode 010000");
	w.mode = 07777;
	expect_accept(CDP_T_SETATTR, &w, "mode 07777");
	w.flags = 0;
	w.mode = 0;
	expect_accept(CDP_T_SETATTR, &w, "valid 0");
}
END_TEST

/*
 * cdp-journal(5), SETATTR: "A field whose bit is clear is written as 0 and
 * ignored by readers.  With the mode bit set, mode holds permission bits
 * only".
 */
START_TEST(test_record_decode_setattr_ignores_clear_fields)
{
	struct wire w;

	wire_valid(CDP_T_SETATTR, &w);
	w.flags = CDP_ATTR_UID;
	w.mode = S_IFDIR | 0755;
	expect_accept(CDP_T_SETATTR, &w, "UID only, mode with S_IFDIR");
	w.flags = 0;
	w.mode = 0xffffffffu;
	expect_accept(CDP_T_SETATTR, &w, "valid 0, mode 0xffffffff");
}
END_TEST

START_TEST(test_record_decode_rejects_bad_type_bits)
{
	static const uint32_t bad_create[] = {
		S_IFDIR | 0755, S_IFLNK | 0777, S_IFCHR | 0600,
		S_IFBLK | 0600, S_IFSOCK | 0600, 0200000 | 0644,
		0x80000000u | 0644,
	};
	static const uint32_t bad_mkdir[] = {
		S_IFREG | 0755, S_IFIFO | 0755, S_IFLNK | 0777,
		0200000 | 0755,
	};
	struct wire w;
	size_t i;

	wire_valid(CDP_T_CREATE, &w);
	for (i = 0; i < sizeof bad_create / sizeof bad_create[0]; i++) {
		w.mode = bad_create[i];
		expect_reject(CDP_T_CREATE, &w, "bad type bits");
	}
	w.mode = 0644;
	expect_accept(CDP_T_CREATE, &w, "mode 0644");
	w.mode = S_IFREG | 07777;
	expect_accept(CDP_T_CREATE, &w, "mode S_IFREG|07777");
	w.mode = S_IFIFO | 0600;
	expect_accept(CDP_T_CREATE, &w, "mode S_IFIFO|0600");

	wire_valid(CDP_T_MKDIR, &w);
	for (i = 0; i < sizeof bad_mkdir / sizeof bad_mkdir[0]; i++) {
		w.mode = bad_mkdir[i];
		expect_reject(CDP_T_MKDIR, &w, "bad type bits");
	}
	w.mode = S_IFDIR | 0755;
	expect_accept(CDP_T_MKDIR, &w, "mode S_IFDIR|0755");
}
END_TEST

START_TEST(test_record_decode_rejects_bad_rename_flags)
{
	struct wire w;

	wire_valid(CDP_T_RENAME, &w);
	w.flags = CDP_RENAME_NOREPLACE | CDP_RENAME_EXCHANGE;
	expect_reject(CDP_T_RENAME, &w, "NOREPLACE|EXCHANGE");
	w.flags = 0x4;			/* RENAME_WHITEOUT: not in the format */
	expect_reject(CDP_T_RENAME, &w, "flags 0x4");
	w.flags = 0x80000000u;
	expect_reject(CDP_T_RENAME, &w, "flags 0x80000000");
}
END_TEST

START_TEST(test_record_decode_rejects_bad_mark_name)
{
	static const char *bad[] = {
		"", "new\nline", "tab\there", "\x01", "bell\a", "esc\x1b[0m",
		"del\x7f", "@1700000000", "a@b",
	};
	char *n256 = long_string(CDP_MARK_MAX + 1, 0);
	struct wire w;
	size_t i;

	wire_valid(CDP_T_MARK, &w);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		w.name = S(bad[i]);
		expect_reject(CDP_T_MARK, &w, bad[i]);
	}
	w.name = S(n256);
	expect_reject(CDP_T_MARK, &w, "256-byte name");
	w.name.p = "a\0b";
	w.name.n = 3;
	expect_reject(CDP_T_MARK, &w, "NUL inside");
	free(n256);
}
END_TEST

START_TEST(test_record_decode_rejects_bad_xattr)
{
	struct wire w;
	uint8_t *val = calloc(1, CDP_XATTR_VALUE_MAX + 1);
	char *n256 = long_string(CDP_XATTR_NAME_MAX + 1, 0);

	ck_assert_ptr_nonnull(val);
	wire_valid(CDP_T_SETXATTR, &w);
	w.data = val;
	w.data_len = CDP_XATTR_VALUE_MAX + 1;
	expect_reject(CDP_T_SETXATTR, &w, "value of 65537 bytes");
	w.data_len = CDP_XATTR_VALUE_MAX;
	expect_accept(CDP_T_SETXATTR, &w, "value of 65536 bytes");

	wire_valid(CDP_T_SETXATTR, &w);
	w.name = S(n256);
	expect_reject(CDP_T_SETXATTR, &w, "256-byte name");
	wire_valid(CDP_T_REMOVEXATTR, &w);
	w.name = S(n256);
	expect_reject(CDP_T_REMOVEXATTR, &w, "256-byte name");
	w.name = S("");
	expect_reject(CDP_T_REMOVEXATTR, &w, "empty name");
	wire_valid(CDP_T_SETXATTR, &w);
	w.name = S("");
	expect_reject(CDP_T_SETXATTR, &w, "empty name");
	w.name.p = "user.a\0b";
	w.name.n = 8;
	expect_reject(CDP_T_SETXATTR, &w, "NUL inside name");
	free(val);
	free(n256);
}
END_TEST

START_TEST(test_record_decode_rejects_bad_strings)
{
	struct wire w;
	char *s4096 = long_string(CDP_PATH_MAX + 1, 0);

	/* A NUL would silently cut the string when copied into rec. */
	wire_valid(CDP_T_SYMLINK, &w);
	w.path2.p = "tar\0get";
	w.path2.n = 7;
	expect_reject(CDP_T_SYMLINK, &w, "NUL inside target");
	wire_valid(CDP_T_SYMLINK, &w);
	w.path2 = S(s4096);
	expect_reject(CDP_T_SYMLINK, &w, "4096-byte target");
	w.path2 = S("");
	expect_reject(CDP_T_SYMLINK, &w, "empty target");

	wire_valid(CDP_T_STREAM_HDR, &w);
	w.path2.p = "sou\0rce";
	w.path2.n = 7;
	expect_reject(CDP_T_STREAM_HDR, &w, "NUL inside source");
	wire_valid(CDP_T_STREAM_HDR, &w);
	w.path2 = S(s4096);
	expect_reject(CDP_T_STREAM_HDR, &w, "4096-byte source");
	free(s4096);
}
END_TEST

START_TEST(test_record_decode_rejects_bad_stream_hdr)
{
	struct wire w;

	wire_valid(CDP_T_STREAM_HDR, &w);
	w.version = 2;
	expect_reject(CDP_T_STREAM_HDR, &w, "version 2");
	w.version = 0;
	expect_reject(CDP_T_STREAM_HDR, &w, "version 0");
	wire_valid(CDP_T_STREAM_HDR, &w);
	w.features = 0x1;
	expect_reject(CDP_T_STREAM_HDR, &w, "feature bit 0");
	w.features = 0x80000000u;
	expect_reject(CDP_T_STREAM_HDR, &w, "feature bit 31");
}
END_TEST

/* cdp-journal(5): "reserved is written as 0 and ignored by readers". */
START_TEST(test_record_decode_stream_hdr_reserved_ignored)
{
	struct wire w;

	wire_valid(CDP_T_STREAM_HDR, &w);
	w.resv = 0xffff;
	expect_accept(CDP_T_STREAM_HDR, &w, "reserved 0xffff");
}
END_TEST

START_TEST(test_record_decode_rejects_write_overflow)
{
	struct wire w;
	static const uint8_t data[10];

	wire_valid(CDP_T_WRITE, &w);
	w.data = data;
	w.data_len = sizeof data;
	w.off = UINT64_MAX - 4;		/* offset + len wraps */
	expect_reject(CDP_T_WRITE, &w, "offset UINT64_MAX-4, 10 bytes");
	w.off = UINT64_MAX;
	expect_reject(CDP_T_WRITE, &w, "offset UINT64_MAX");
	w.off = (uint64_t)INT64_MAX;	/* past what off_t can hold */
	expect_reject(CDP_T_WRITE, &w, "offset INT64_MAX, 10 bytes");
	w.off = (uint64_t)INT64_MAX - sizeof data;
	expect_accept(CDP_T_WRITE, &w, "ending at INT64_MAX");
}
END_TEST

START_TEST(test_record_decode_rejects_bad_sizes)
{
	struct wire w;

	wire_valid(CDP_T_TRUNCATE, &w);
	w.off = (uint64_t)INT64_MAX + 1;
	expect_reject(CDP_T_TRUNCATE, &w, "size 2^63");
	w.off = UINT64_MAX;
	expect_reject(CDP_T_TRUNCATE, &w, "size 2^64-1");

	wire_valid(CDP_T_FALLOCATE, &w);
	w.len = 0;
	expect_reject(CDP_T_FALLOCATE, &w, "length 0");
	w.off = (uint64_t)INT64_MAX - 9;
	w.len = 10;
	expect_reject(CDP_T_FALLOCATE, &w, "end 2^63");
	w.off = UINT64_MAX - 4;
	expect_reject(CDP_T_FALLOCATE, &w, "offset + length wraps");
	w.off = (uint64_t)INT64_MAX - 10;
	expect_accept(CDP_T_FALLOCATE, &w, "end 2^63-1");
}
END_TEST

START_TEST(test_record_decode_fallocate_modes)
{
	static const uint32_t good[] = {
		0x00, 0x01, 0x03, 0x08, 0x10, 0x11, 0x20, 0x40, 0x41,
	};
	static const uint32_t bad[] = {
		0x02, 0x04, 0x05, 0x07, 0x09, 0x12, 0x18, 0x21, 0x42, 0x80,
		0x100, 0x80000000u,
	};
	struct wire w;
	size_t i;

	wire_valid(CDP_T_FALLOCATE, &w);
	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		w.mode = good[i];
		expect_accept(CDP_T_FALLOCATE, &w, "valid mode");
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		w.mode = bad[i];
		expect_reject(CDP_T_FALLOCATE, &w, "invalid mode");
	}
}
END_TEST

START_TEST(test_record_decode_flags_fields)
{
	struct wire w;

	wire_valid(CDP_T_FSYNC, &w);
	w.flags = 0x2;
	expect_reject(CDP_T_FSYNC, &w, "flags 0x2");
	w.flags = 0x80000001u;
	expect_reject(CDP_T_FSYNC, &w, "flags 0x80000001");

	/* MARK flags: readers ignore bits they do not know. */
	wire_valid(CDP_T_MARK, &w);
	w.flags = 0x80000001u;
	expect_accept(CDP_T_MARK, &w, "flags 0x80000001");
}
END_TEST

/* cdp-journal(5), RESUME: "next_seq must be >= 1". */
START_TEST(test_record_decode_rejects_resume_seq_0)
{
	struct wire w;

	wire_valid(CDP_T_RESUME, &w);
	w.u64 = 0;
	expect_reject(CDP_T_RESUME, &w, "next_seq 0");
	w.u64 = 1;
	expect_accept(CDP_T_RESUME, &w, "next_seq 1");
	/* ACK durable_seq 0 means "none yet". */
	wire_valid(CDP_T_ACK, &w);
	w.u64 = 0;
	expect_accept(CDP_T_ACK, &w, "durable_seq 0");
}
END_TEST

START_TEST(test_record_decode_empty_write)
{
	struct wire w;

	/* Writers do not emit it, but an empty WRITE is well-formed. */
	wire_valid(CDP_T_WRITE, &w);
	w.data = NULL;
	w.data_len = 0;
	roundtrip(CDP_T_WRITE, &w);
}
END_TEST

/* ---- mark names ---- */

START_TEST(test_record_mark_name_ok)
{
	char *n255 = long_string(CDP_MARK_MAX, 0);
	char *n256 = long_string(CDP_MARK_MAX + 1, 0);

	ck_assert_int_eq(cdp_record_mark_name_ok("a"), 1);
	ck_assert_int_eq(cdp_record_mark_name_ok("before-upgrade"), 1);
	ck_assert_int_eq(cdp_record_mark_name_ok("with space"), 1);
	ck_assert_int_eq(cdp_record_mark_name_ok("v1.2/rc_3"), 1);
	ck_assert_int_eq(cdp_record_mark_name_ok("\xc3\xa9t\xc3\xa9"), 1);
	ck_assert_int_eq(cdp_record_mark_name_ok(n255), 1);

	ck_assert_int_eq(cdp_record_mark_name_ok(""), 0);
	ck_assert_int_eq(cdp_record_mark_name_ok(n256), 0);
	ck_assert_int_eq(cdp_record_mark_name_ok("@1700000000"), 0);
	ck_assert_int_eq(cdp_record_mark_name_ok("a@b"), 0);
	ck_assert_int_eq(cdp_record_mark_name_ok("line\n"), 0);
	ck_assert_int_eq(cdp_record_mark_name_ok("\ttab"), 0);
	ck_assert_int_eq(cdp_record_mark_name_ok("\x01"), 0);
	ck_assert_int_eq(cdp_record_mark_name_ok("\x1f"), 0);
	ck_assert_int_eq(cdp_record_mark_name_ok("del\x7f"), 0);
	free(n255);
	free(n256);
}
END_TEST

static Suite *
record_suite(void)
{
	Suite *s = suite_create("record");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_record_type_names);
	tcase_add_test(tc, test_record_type_unknown);
	tcase_add_test(tc, test_record_type_numbered_vs_control);
	tcase_add_test(tc, test_record_type_changes_tree);
	tcase_add_test(tc, test_record_roundtrip_every_type);
	tcase_add_test(tc, test_record_roundtrip_control_boundaries);
	tcase_add_test(tc, test_record_roundtrip_mark_boundaries);
	tcase_add_test(tc, test_record_roundtrip_namespace_boundaries);
	tcase_add_test(tc, test_record_roundtrip_setattr_boundaries);
	tcase_add_test(tc, test_record_roundtrip_xattr_boundaries);
	tcase_add_test(tc, test_record_roundtrip_data_boundaries);
	tcase_add_test(tc, test_record_encode_buffer_too_small);
	tcase_add_test(tc, test_record_decode_rejects_every_truncation);
	tcase_add_test(tc, test_record_decode_rejects_trailing_bytes);
	tcase_add_test(tc, test_record_decode_rejects_string_past_end);
	tcase_add_test(tc, test_record_decode_rejects_invalid_paths);
	tcase_add_test(tc, test_record_decode_empty_path);
	tcase_add_test(tc, test_record_decode_rejects_bad_setattr);
	tcase_add_test(tc, test_record_decode_setattr_ignores_clear_fields);
	tcase_add_test(tc, test_record_decode_rejects_bad_type_bits);
	tcase_add_test(tc, test_record_decode_rejects_bad_rename_flags);
	tcase_add_test(tc, test_record_decode_rejects_bad_mark_name);
	tcase_add_test(tc, test_record_decode_rejects_bad_xattr);
	tcase_add_test(tc, test_record_decode_rejects_bad_strings);
	tcase_add_test(tc, test_record_decode_rejects_bad_stream_hdr);
	tcase_add_test(tc, test_record_decode_stream_hdr_reserved_ignored);
	tcase_add_test(tc, test_record_decode_rejects_write_overflow);
	tcase_add_test(tc, test_record_decode_rejects_bad_sizes);
	tcase_add_test(tc, test_record_decode_fallocate_modes);
	tcase_add_test(tc, test_record_decode_flags_fields);
	tcase_add_test(tc, test_record_decode_rejects_resume_seq_0);
	tcase_add_test(tc, test_record_decode_empty_write);
	tcase_add_test(tc, test_record_mark_name_ok);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(record_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
