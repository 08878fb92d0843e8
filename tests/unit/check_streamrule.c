/*
 * check_streamrule.c: where a record fits in a stream being held, and
 * the words a store refuses one with.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cdp_streamrule.h"

/* A stream held up to seq 4, not ended, with records. */
static const struct cdp_streamrule_at at4 = { 5, 1, 0, 1 };

static enum cdp_streamrule_fit
fit(const struct cdp_streamrule_at *at, uint16_t type, uint64_t seq,
    uint64_t u64)
{
	struct cdp_record rec;

	memset(&rec, 0, sizeof(rec));
	rec.type = type;
	rec.seq = seq;
	rec.u64 = u64;
	return cdp_streamrule_fit(at, &rec);
}

START_TEST(test_streamrule_seq)
{
	struct cdp_streamrule_at fresh = { 1, 0, 0, 0 };

	ck_assert_int_eq(fit(&at4, CDP_T_WRITE, 5, 0), CDP_FIT_NEXT);
	ck_assert_int_eq(fit(&at4, CDP_T_WRITE, 4, 0), CDP_FIT_REPEAT);
	ck_assert_int_eq(fit(&at4, CDP_T_WRITE, 6, 0), CDP_FIT_GAP);
	/* Nothing binds before the first record. */
	ck_assert_int_eq(fit(&fresh, CDP_T_WRITE, 9, 0), CDP_FIT_NEXT);
	fresh.next_seq = 7;
	ck_assert_int_eq(fit(&fresh, CDP_T_WRITE, 3, 0), CDP_FIT_NEXT);
}
END_TEST

START_TEST(test_streamrule_end)
{
	struct cdp_streamrule_at ended = at4, fresh = { 1, 0, 0, 0 };

	ck_assert_int_eq(fit(&at4, CDP_T_STREAM_END, 0, 4), CDP_FIT_NEXT);
	ck_assert_int_eq(fit(&at4, CDP_T_STREAM_END, 0, 3),
	    CDP_FIT_BAD_END);
	ck_assert_int_eq(fit(&fresh, CDP_T_STREAM_END, 0, 3), CDP_FIT_NEXT);
	ended.ended = 1;
	ck_assert_int_eq(fit(&ended, CDP_T_STREAM_END, 0, 3),
	    CDP_FIT_END_AGAIN);
	ck_assert_int_eq(fit(&ended, CDP_T_WRITE, 5, 0), CDP_FIT_NEXT);
}
END_TEST

START_TEST(test_streamrule_heartbeat)
{
	struct cdp_streamrule_at at = at4;

	ck_assert_int_eq(fit(&at, CDP_T_HEARTBEAT, 0, 0), CDP_FIT_NEXT);
	at.ended = 1;
	ck_assert_int_eq(fit(&at, CDP_T_HEARTBEAT, 0, 0), CDP_FIT_IDLE);
	at.ended = at.started = 0;
	ck_assert_int_eq(fit(&at, CDP_T_HEARTBEAT, 0, 0), CDP_FIT_IDLE);
	/* Other unnumbered records have a place before anything. */
	ck_assert_int_eq(fit(&at, CDP_T_STREAM_END, 0, 4), CDP_FIT_NEXT);
}
END_TEST

START_TEST(test_streamrule_refuse)
{
	struct cdp_record rec;
	char why[64];

	memset(&rec, 0, sizeof(rec));
	rec.type = CDP_T_WRITE;
	rec.seq = 9;
	errno = 0;
	ck_assert_int_eq(cdp_streamrule_refuse(CDP_FIT_GAP, &at4, &rec, why,
	    sizeof(why)), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_str_eq(why, "seq 9 where 5 is next");
	rec.type = CDP_T_STREAM_END;
	rec.seq = 0;
	rec.u64 = 3;
	errno = 0;
	ck_assert_int_eq(cdp_streamrule_refuse(CDP_FIT_BAD_END, &at4, &rec,
	    why, sizeof(why)), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_str_eq(why, "STREAM_END with last_seq 3 after seq 4");
}
END_TEST

static Suite *
streamrule_suite(void)
{
	Suite *s = suite_create("streamrule");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_streamrule_seq);
	tcase_add_test(tc, test_streamrule_end);
	tcase_add_test(tc, test_streamrule_heartbeat);
	tcase_add_test(tc, test_streamrule_refuse);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(streamrule_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
