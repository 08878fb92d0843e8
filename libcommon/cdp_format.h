/*
 * cdp_format.h: constants of journal stream format version 1.
 *
 * The normative description is man/cdp-journal.5; this header only names
 * the numbers it fixes.  Keep the two in step.
 */
#ifndef CDP_FORMAT_H
#define CDP_FORMAT_H

#define CDP_MAGIC		"CDPJ"
#define CDP_VERSION		1

#define CDP_HDR_LEN		48	/* header length written by v1 */
#define CDP_HDR_LEN_MAX		1024	/* longest header a reader accepts */
#define CDP_ALIGN		8	/* records are padded to this */

/*
 * Caps a reader enforces before it allocates anything.  A writer splits
 * data so that no payload, stored or raw, is larger than CDP_PAYLOAD_MAX.
 */
#define CDP_PAYLOAD_MAX		(16u * 1024 * 1024)
#define CDP_WRITE_DATA_MAX	(CDP_PAYLOAD_MAX - 8 - 2 - CDP_PATH_MAX)
#define CDP_PATH_MAX		4095	/* bytes in a path */
#define CDP_NAME_MAX		255	/* bytes in a path component */
#define CDP_MARK_MAX		255	/* bytes in a mark name */
#define CDP_XATTR_NAME_MAX	255
#define CDP_XATTR_VALUE_MAX	65536
#define CDP_SOURCE_MAX		4095	/* bytes in STREAM_HDR source */

/* Header flags. */
#define CDP_F_MUST_UNDERSTAND	0x0001
#define CDP_F_COMPRESSED	0x0002
#define CDP_F_KNOWN		(CDP_F_MUST_UNDERSTAND | CDP_F_COMPRESSED)

/* Record types. */
#define CDP_T_STREAM_HDR	0x0001
#define CDP_T_STREAM_END	0x0002
#define CDP_T_HEARTBEAT		0x0003
#define CDP_T_ACK		0x0004
#define CDP_T_RESUME		0x0005
#define CDP_T_MARK		0x0010
#define CDP_T_BASELINE_BEGIN	0x0011
#define CDP_T_BASELINE_END	0x0012
#define CDP_T_CREATE		0x0101
#define CDP_T_MKDIR		0x0102
#define CDP_T_SYMLINK		0x0103
#define CDP_T_LINK		0x0104
#define CDP_T_RENAME		0x0105
#define CDP_T_UNLINK		0x0106
#define CDP_T_RMDIR		0x0107
#define CDP_T_SETATTR		0x0108
#define CDP_T_SETXATTR		0x0109
#define CDP_T_REMOVEXATTR	0x010A
#define CDP_T_WRITE		0x0201
#define CDP_T_TRUNCATE		0x0202
#define CDP_T_FALLOCATE		0x0203
#define CDP_T_FSYNC		0x0204

/* SETATTR valid bits. */
#define CDP_ATTR_MODE		0x01
#define CDP_ATTR_UID		0x02
#define CDP_ATTR_GID		0x04
#define CDP_ATTR_ATIME		0x08
#define CDP_ATTR_MTIME		0x10
#define CDP_ATTR_ALL		0x1f

/* RENAME flags: the Linux renameat2(2) values. */
#define CDP_RENAME_NOREPLACE	0x1
#define CDP_RENAME_EXCHANGE	0x2

/* FSYNC flags. */
#define CDP_FSYNC_DATASYNC	0x1

/* STREAM_HDR features: none defined in v1; a reader refuses unknown bits. */
#define CDP_FEATURES_KNOWN	0x0

/* pcap encapsulation: LINKTYPE_USER0, nanosecond timestamps. */
#define CDP_PCAP_LINKTYPE	147
#define CDP_PCAP_SNAPLEN	262144	/* a record larger than this spans packets */

#endif
