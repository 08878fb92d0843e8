/*
 * cdp_crc32.c: the CRC-32 of the journal format.
 *
 * CRCs of payloads are most of a reader's CPU time after the read itself
 * (cdp-verify, cdp-recv, cdp-replay all check every one).  libdeflate does
 * the work: carry-less multiplication, 16 bytes per fold, about 12 GB/s
 * with Debian 12's libdeflate 1.14.  Where the CPU has VPCLMULQDQ, buffers
 * of 1 KiB and more are folded 32 bytes at a time with AVX2 here, about
 * 25 GB/s, and libdeflate finishes the last bytes.  The values are the
 * same (tests/unit/check_crc32.c compares them with zlib's); this file can
 * shrink to a call of libdeflate_crc32() once libdeflate folds this wide
 * itself (1.18 does).
 */
#include <libdeflate.h>

#include "cdp_crc32.h"

#if defined(__x86_64__) && defined(__GNUC__) && defined(__has_include)
#if __has_include(<immintrin.h>)
#define CDP_CRC_VPCLMUL
#include <immintrin.h>
#endif
#endif

#define FOLD_MIN	1024	/* below this, libdeflate alone is as fast */

#ifdef CDP_CRC_VPCLMUL
#define CRC_TARGET	__attribute__((target("avx2,pclmul,vpclmulqdq")))

/*
 * Fold each 128-bit lane of x forward by the D bits that k was made for:
 * its low 64 bits are multiplied by x^(D+63) mod P, its high 64 bits by
 * x^(D-1) mod P (P the CRC-32 polynomial 0x104c11db7).  Each constant is
 * the 32-bit remainder bit-reflected into a 64-bit word: the coefficient
 * of x^i is bit 63 - i.
 */
static inline CRC_TARGET __m256i
fold256(__m256i x, __m256i k)
{
	return _mm256_xor_si256(_mm256_clmulepi64_epi128(x, k, 0x00),
	    _mm256_clmulepi64_epi128(x, k, 0x11));
}

/*
 * libdeflate_crc32(crc, p, n) for n >= 128: four 256-bit accumulators
 * folded over 128 bytes at a time, then into one 128-bit remainder whose
 * CRC (from 0) is the CRC of everything folded, then the tail.
 */
static CRC_TARGET uint32_t
crc32_fold(uint32_t crc, const uint8_t *p, size_t n)
{
	const __m256i k1024 = _mm256_set_epi64x(0x7406fa9500000000LL,
	    0x7d657a1000000000LL, 0x7406fa9500000000LL, 0x7d657a1000000000LL);
	const __m256i k256 = _mm256_set_epi64x(0x01b5fd1d00000000LL,
	    (long long)0x9570d49500000000ULL, 0x01b5fd1d00000000LL,
	    (long long)0x9570d49500000000ULL);
	const __m128i k128 = _mm_set_epi64x((long long)0x9ba54c6f00000000ULL,
	    0x65673b4600000000LL);
	__m256i a0, a1, a2, a3;
	__m128i x;
	uint8_t rest[16];

	a0 = _mm256_xor_si256(_mm256_loadu_si256((const void *)p),
	    _mm256_set_epi32(0, 0, 0, 0, 0, 0, 0, (int)~crc));
	a1 = _mm256_loadu_si256((const void *)(p + 32));
	a2 = _mm256_loadu_si256((const void *)(p + 64));
	a3 = _mm256_loadu_si256((const void *)(p + 96));
	for (p += 128, n -= 128; n >= 128; p += 128, n -= 128) {
		a0 = _mm256_xor_si256(fold256(a0, k1024),
		    _mm256_loadu_si256((const void *)p));
		a1 = _mm256_xor_si256(fold256(a1, k1024),
		    _mm256_loadu_si256((const void *)(p + 32)));
		a2 = _mm256_xor_si256(fold256(a2, k1024),
		    _mm256_loadu_si256((const void *)(p + 64)));
		a3 = _mm256_xor_si256(fold256(a3, k1024),
		    _mm256_loadu_si256((const void *)(p + 96)));
	}
	a1 = _mm256_xor_si256(a1, fold256(a0, k256));
	a2 = _mm256_xor_si256(a2, fold256(a1, k256));
	a3 = _mm256_xor_si256(a3, fold256(a2, k256));
	x = _mm256_castsi256_si128(a3);
	x = _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x, k128, 0x00),
	    _mm_clmulepi64_si128(x, k128, 0x11)),
	    _mm256_extracti128_si256(a3, 1));
	_mm_storeu_si128((void *)rest, x);
	return libdeflate_crc32(libdeflate_crc32(~0u, rest, 16), p, n);
}

/* Whether this CPU can run crc32_fold(): -1 not known yet, 0, 1. */
static int
can_fold(void)
{
	static int known = -1;
	int v = __atomic_load_n(&known, __ATOMIC_RELAXED);

	if (v == -1) {
		__builtin_cpu_init();
		v = __builtin_cpu_supports("avx2") &&
		    __builtin_cpu_supports("pclmul") &&
		    __builtin_cpu_supports("vpclmulqdq");
		__atomic_store_n(&known, v, __ATOMIC_RELAXED);
	}
	return v;
}
#endif

uint32_t
cdp_crc32(uint32_t crc, const void *p, size_t n)
{
#ifdef CDP_CRC_VPCLMUL
	if (n >= FOLD_MIN && can_fold())
		return crc32_fold(crc, p, n);
#endif
	return libdeflate_crc32(crc, p, n);
}
