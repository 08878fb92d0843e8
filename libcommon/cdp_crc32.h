/*
 * cdp_crc32.h: the CRC-32 of the journal format (the zlib/gzip CRC).
 */
#ifndef CDP_CRC32_H
#define CDP_CRC32_H

#include <stddef.h>
#include <stdint.h>

/*
 * The CRC-32 of n bytes at p, continuing crc (0 to start), with the same
 * value as zlib's crc32() and libdeflate_crc32().
 */
uint32_t	cdp_crc32(uint32_t crc, const void *p, size_t n);

#endif
