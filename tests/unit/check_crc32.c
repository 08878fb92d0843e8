/*
 * check_crc32.c: cdp_crc32() gives zlib's crc32() for every length,
 * alignment and starting value, on the wide path (1 KiB and more, where
 * the CPU can) and the short one.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <zlib.h>

#include "cdp_crc32.h"

#define BUF_LEN	(1024 * 1024 + 4096)

static uint8_t *
random_buf(size_t n, uint64_t seed)
{
	uint8_t *b = malloc(n);
	size_t i;

	ck_assert_ptr_nonnull(b);
	for (i = 0; i < n; i++) {
		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		b[i] = (uint8_t)seed;
	}
	return b;
}

static uint32_t
zcrc(uint32_t crc, const uint8_t *p, size_t n)
{
	return (uint32_t)crc32(crc, p, (uInt)n);
}

START_TEST(test_crc32_check_value)
{
	ck_assert_uint_eq(cdp_crc32(0, "123456789", 9), 0xcbf43926u);
	ck_assert_uint_eq(cdp_crc32(0, "", 0), 0);
}
END_TEST

/* Every length up to 4 KiB and past it, at each of 16 alignments. */
START_TEST(test_crc32_lengths_alignments)
{
	uint8_t *b = random_buf(BUF_LEN, 1);
	size_t n, a;

	for (n = 0; n <= 4200; n++) {
		a = n % 16;
		ck_assert_msg(cdp_crc32(0, b + a, n) == zcrc(0, b + a, n),
		    "length %zu at offset %zu", n, a);
	}
	free(b);
}
END_TEST

/* Large and odd lengths, continued from another CRC and split in two. */
START_TEST(test_crc32_large_and_chained)
{
	uint8_t *b = random_buf(BUF_LEN, 2);
	uint64_t r = 88172645463325252ull;
	size_t n, a, k;
	int i;

	for (i = 0; i < 400; i++) {
		r ^= r << 13;
		r ^= r >> 7;
		r ^= r << 17;
		a = r % 64;
		n = (size_t)(r >> 8) % (1024 * 1024);
		k = n == 0 ? 0 : (size_t)(r >> 40) % n;
		ck_assert_msg(cdp_crc32(0, b + a, n) == zcrc(0, b + a, n),
		    "length %zu at offset %zu", n, a);
		ck_assert_msg(cdp_crc32(cdp_crc32(0, b + a, k), b + a + k,
		    n - k) == zcrc(0, b + a, n),
		    "length %zu split at %zu", n, k);
		ck_assert_msg(cdp_crc32(0xdeadbeefu, b + a, n) ==
		    zcrc(0xdeadbeefu, b + a, n), "length %zu from 0xdeadbeef",
		    n);
	}
	free(b);
}
END_TEST

/* One flipped bit anywhere in a large buffer changes the CRC. */
START_TEST(test_crc32_flip)
{
	uint8_t *b = random_buf(65536, 3);
	uint32_t good = cdp_crc32(0, b, 65536);
	size_t at;

	for (at = 0; at < 65536; at += 509) {
		b[at] ^= 0x10;
		ck_assert_uint_ne(cdp_crc32(0, b, 65536), good);
		ck_assert_uint_eq(cdp_crc32(0, b, 65536), zcrc(0, b, 65536));
		b[at] ^= 0x10;
	}
	free(b);
}
END_TEST

static Suite *
crc32_suite(void)
{
	Suite *s = suite_create("crc32");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_crc32_check_value);
	tcase_add_test(tc, test_crc32_lengths_alignments);
	tcase_add_test(tc, test_crc32_large_and_chained);
	tcase_add_test(tc, test_crc32_flip);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(crc32_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
