/*
 * cdp_record.h: one journal record, decoded, and the payload codec.
 *
 * struct cdp_record is a plain value: the reader fills one in, the writer
 * takes one.  Which fields mean something depends on the type; the table in
 * cdp_record.c (and man/cdp-journal.5) says which.  Strings are copied into
 * the record and NUL-terminated; data points into the reader's buffer and is
 * valid until the next call on that reader.
 */
#ifndef CDP_RECORD_H
#define CDP_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "cdp_format.h"

struct cdp_record {
	/* From the header. */
	uint16_t	 type;
	uint16_t	 flags;		/* CDP_F_*; COMPRESSED as stored */
	uint64_t	 seq;		/* 0 for control records */
	int64_t		 time_ns;	/* CLOCK_REALTIME, ns since the epoch */
	uint64_t	 offset;	/* byte offset of the header in the input */
	uint32_t	 stored_len;	/* payload bytes as stored */
	uint32_t	 raw_len;	/* payload bytes before compression */
	const uint8_t	*raw;		/* whole record as stored: header, payload, padding */
	size_t		 raw_size;

	/* Decoded payload. */
	uint16_t	 version;	/* STREAM_HDR */
	uint32_t	 features;	/* STREAM_HDR */
	uint8_t		 uuid[16];	/* STREAM_HDR, ACK, RESUME */
	uint64_t	 u64;		/* STREAM_END last_seq, ACK durable_seq, RESUME next_seq */
	uint32_t	 mode;		/* CREATE, MKDIR, SETATTR; FALLOCATE mode */
	uint32_t	 rflags;	/* RENAME, MARK, FSYNC flags; SETATTR valid */
	uint32_t	 uid, gid;	/* SETATTR */
	int64_t		 atime_ns;	/* SETATTR */
	int64_t		 mtime_ns;	/* SETATTR */
	uint64_t	 off;		/* WRITE, FALLOCATE offset; TRUNCATE size */
	uint64_t	 len;		/* FALLOCATE length */
	char		 path[CDP_PATH_MAX + 1];   /* the path the record is about */
	char		 path2[CDP_PATH_MAX + 1];  /* SYMLINK target, LINK/RENAME destination, STREAM_HDR source */
	char		 name[CDP_NAME_MAX + 1];   /* MARK name, xattr name */
	const uint8_t	*data;		/* WRITE data, SETXATTR value */
	size_t		 data_len;
};

/* What a type is: its name and whether it carries a seq. */
const char	*cdp_record_type_name(uint16_t type);	/* NULL if unknown */
int		 cdp_record_type_known(uint16_t type);
int		 cdp_record_type_numbered(uint16_t type);
int		 cdp_record_type_changes_tree(uint16_t type);

/*
 * Decode a raw (decompressed) payload of rec->type into rec's fields.
 * Returns 0, or -1 with errno EBADMSG and a reason in why[] (a static
 * string such as "path has a '..' component").
 */
int	 cdp_record_decode(struct cdp_record *rec, const uint8_t *payload,
	    size_t len, const char **why);

/*
 * Encode rec's fields (not rec->data) into buf as the payload head; the
 * payload is this head followed by rec->data[0..data_len).  Returns the
 * head length, or -1 with errno EINVAL (a field does not fit the format)
 * or ENOSPC (buf too small; CDP_RECORD_HEAD_MAX always suffices).
 */
#define CDP_RECORD_HEAD_MAX	(64 + 3 * (CDP_PATH_MAX + 2))
long	 cdp_record_encode_head(const struct cdp_record *rec, uint8_t *buf,
	    size_t size);

/* Whether a mark name is acceptable (1) or not (0). */
int	 cdp_record_mark_name_ok(const char *name);

#endif
