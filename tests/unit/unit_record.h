/*
 * unit_record.h: the one record comparison the unit suites share
 * (check_record.c, check_writer.c).  Header-only: the suites are built
 * one file each.
 */
#ifndef UNIT_RECORD_H
#define UNIT_RECORD_H

#include <check.h>
#include <string.h>

#include "cdp_record.h"

/* Compare the fields that mean something for want->type. */
static void
rec_compare(const struct cdp_record *want, const struct cdp_record *got)
{
	uint16_t t = want->type;
	const char *tn = cdp_record_type_name(t);

	ck_assert_uint_eq(got->type, t);
	switch (t) {
	case CDP_T_STREAM_HDR:
		ck_assert_uint_eq(got->version, want->version);
		ck_assert_uint_eq(got->features, want->features);
		ck_assert_mem_eq(got->uuid, want->uuid, 16);
		ck_assert_str_eq(got->path2, want->path2);
		break;
	case CDP_T_STREAM_END:
		ck_assert_uint_eq(got->u64, want->u64);
		break;
	case CDP_T_ACK:
	case CDP_T_RESUME:
		ck_assert_mem_eq(got->uuid, want->uuid, 16);
		ck_assert_uint_eq(got->u64, want->u64);
		break;
	case CDP_T_MARK:
		ck_assert_uint_eq(got->rflags, want->rflags);
		ck_assert_str_eq(got->name, want->name);
		break;
	case CDP_T_CREATE:
	case CDP_T_MKDIR:
		ck_assert_uint_eq(got->mode, want->mode);
		ck_assert_str_eq(got->path, want->path);
		break;
	case CDP_T_SYMLINK:
	case CDP_T_LINK:
		ck_assert_str_eq(got->path, want->path);
		ck_assert_str_eq(got->path2, want->path2);
		break;
	case CDP_T_RENAME:
		ck_assert_uint_eq(got->rflags, want->rflags);
		ck_assert_str_eq(got->path, want->path);
		ck_assert_str_eq(got->path2, want->path2);
		break;
	case CDP_T_UNLINK:
	case CDP_T_RMDIR:
		ck_assert_str_eq(got->path, want->path);
		break;
	case CDP_T_SETATTR:
		ck_assert_uint_eq(got->rflags, want->rflags);
		ck_assert_uint_eq(got->mode, want->mode);
		ck_assert_uint_eq(got->uid, want->uid);
		ck_assert_uint_eq(got->gid, want->gid);
		ck_assert_int_eq(got->atime_ns, want->atime_ns);
		ck_assert_int_eq(got->mtime_ns, want->mtime_ns);
		ck_assert_str_eq(got->path, want->path);
		break;
	case CDP_T_SETXATTR:
		ck_assert_str_eq(got->path, want->path);
		ck_assert_str_eq(got->name, want->name);
		ck_assert_uint_eq(got->data_len, want->data_len);
		if (want->data_len > 0)
			ck_assert_mem_eq(got->data, want->data, want->data_len);
		break;
	case CDP_T_REMOVEXATTR:
		ck_assert_str_eq(got->path, want->path);
		ck_assert_str_eq(got->name, want->name);
		break;
	case CDP_T_WRITE:
		ck_assert_uint_eq(got->off, want->off);
		ck_assert_str_eq(got->path, want->path);
		ck_assert_uint_eq(got->data_len, want->data_len);
		if (want->data_len > 0)
			ck_assert_mem_eq(got->data, want->data, want->data_len);
		break;
	case CDP_T_TRUNCATE:
		ck_assert_uint_eq(got->off, want->off);
		ck_assert_str_eq(got->path, want->path);
		break;
	case CDP_T_FALLOCATE:
		ck_assert_uint_eq(got->mode, want->mode);
		ck_assert_uint_eq(got->off, want->off);
		ck_assert_uint_eq(got->len, want->len);
		ck_assert_str_eq(got->path, want->path);
		break;
	case CDP_T_FSYNC:
		ck_assert_uint_eq(got->rflags, want->rflags);
		ck_assert_str_eq(got->path, want->path);
		break;
	case CDP_T_HEARTBEAT:
	case CDP_T_BASELINE_BEGIN:
	case CDP_T_BASELINE_END:
		break;
	default:
		ck_abort_msg("rec_compare: type 0x%04x (%s)", t, tn ? tn : "?");
	}
}

#endif
