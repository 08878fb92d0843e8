/*
 * check_ring: the shared-memory ring of cdp-tap (libcommon/cdp_ring.c).
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cdp_record.h"
#include "cdp_ring.h"

static struct cdp_ring *
producer_of(struct cdp_ring *c)
{
	struct cdp_ring *p = cdp_ring_attach(cdp_ring_memfd(c),
	    cdp_ring_alive_fd(c));

	ck_assert_ptr_nonnull(p);
	return p;
}

static void
put(struct cdp_ring *p, uint64_t n, size_t data)
{
	struct cdp_ring_rec *r = cdp_ring_reserve(p, 1, 4, data);

	ck_assert_ptr_nonnull(r);
	r->type = CDP_T_WRITE;
	r->path_len = 4;
	r->path2_len = r->name_len = 0;
	r->data_len = (uint32_t)data;
	r->off = n;
	memcpy(r->bytes, "file", 4);
	memset(r->bytes + 4, (int)(n & 0xff), data);
	cdp_ring_commit(p, r);
}

START_TEST(test_ring_order_and_wrap)
{
	struct cdp_ring *c = cdp_ring_create(), *p;
	const struct cdp_ring_rec *r;
	struct cdp_record *rec = malloc(sizeof(*rec));
	uint64_t i, n = 0;

	ck_assert_ptr_nonnull(c);
	p = producer_of(c);
	/* More than the ring holds, drained as it goes: it wraps. */
	for (i = 0; i < 200; i++) {
		put(p, i, 300000 + i);
		while (cdp_ring_next(c, &r, 0) == 1) {
			ck_assert_int_eq(cdp_ring_to_record(r, rec), 0);
			ck_assert_uint_eq(rec->off, n);
			ck_assert_str_eq(rec->path, "file");
			ck_assert_uint_eq(rec->data_len, 300000 + n);
			ck_assert_uint_eq(rec->data[rec->data_len - 1], n & 0xff);
			cdp_ring_consume(c, r);
			n++;
		}
		cdp_ring_release(c);
	}
	ck_assert_uint_eq(n, 200);
	ck_assert_uint_eq(cdp_ring_head(c), cdp_ring_tail(c));
	cdp_ring_close(p);
	cdp_ring_close(c);
	free(rec);
}
END_TEST

START_TEST(test_ring_shut_stops_producers)
{
	struct cdp_ring *c = cdp_ring_create(), *p = producer_of(c);

	ck_assert_int_eq(cdp_ring_closed(p), 0);
	cdp_ring_shut(c);
	ck_assert_int_ne(cdp_ring_closed(p), 0);
	ck_assert_ptr_null(cdp_ring_reserve(p, 1, 0, 10));
	cdp_ring_close(p);
	cdp_ring_close(c);
}
END_TEST

START_TEST(test_ring_too_big_is_refused)
{
	struct cdp_ring *c = cdp_ring_create(), *p = producer_of(c);

	errno = 0;
	ck_assert_ptr_null(cdp_ring_reserve(p, 1, 0, CDP_RING_SIZE / 2));
	ck_assert_int_eq(errno, EMSGSIZE);
	cdp_ring_close(p);
	cdp_ring_close(c);
}
END_TEST

/* A full ring makes the producer wait until the consumer releases. */
static void *
fill(void *arg)
{
	uint64_t i;

	for (i = 0; i < 100; i++)
		put(arg, i, CDP_RING_DATA_MAX);
	return NULL;
}

START_TEST(test_ring_backpressure)
{
	struct cdp_ring *c = cdp_ring_create(), *p = producer_of(c);
	const struct cdp_ring_rec *r;
	pthread_t t;
	uint64_t n = 0;

	pthread_create(&t, NULL, fill, p);
	usleep(100000);
	/* Stuck at about a ring's worth, not done. */
	ck_assert_uint_lt(cdp_ring_head(c), 40ull * CDP_RING_DATA_MAX);
	while (n < 100) {
		if (cdp_ring_next(c, &r, 10) != 1)
			continue;
		ck_assert_uint_eq(r->off, n);
		cdp_ring_consume(c, r);
		cdp_ring_release(c);
		n++;
	}
	pthread_join(t, NULL);
	cdp_ring_close(p);
	cdp_ring_close(c);
}
END_TEST

/*
 * Consuming alone hands space back every few MiB: a producer blocked on a
 * full ring resumes while the consumer is still in the middle of a burst,
 * without an explicit cdp_ring_release() (the consumer must never have to
 * drain the whole ring before a producer may go on).
 */
START_TEST(test_ring_consume_releases)
{
	struct cdp_ring *c = cdp_ring_create(), *p = producer_of(c);
	const struct cdp_ring_rec *r;
	pthread_t t;
	uint64_t n = 0, misses = 0;

	pthread_create(&t, NULL, fill, p);
	while (n < 100 && misses < 300) {
		if (cdp_ring_next(c, &r, 10) != 1) {
			misses++;
			continue;
		}
		ck_assert_uint_eq(r->off, n);
		ck_assert_uint_eq(r->data_len, CDP_RING_DATA_MAX);
		cdp_ring_consume(c, r);
		n++;
		/* Never more than a ring behind what was handed back. */
		ck_assert_uint_le(cdp_ring_head(c) - cdp_ring_tail(c),
		    CDP_RING_SIZE);
	}
	ck_assert_uint_eq(n, 100);
	pthread_join(t, NULL);
	cdp_ring_release(c);
	cdp_ring_close(p);
	cdp_ring_close(c);
}
END_TEST

START_TEST(test_ring_lock_excludes)
{
	struct cdp_ring *c = cdp_ring_create(), *p = producer_of(c);
	uint64_t k = cdp_ring_inode_key(1, 2);

	ck_assert_uint_ne(k, CDP_RING_LOCK_NS);
	cdp_ring_lock(p, k, (uint32_t)getpid());
	cdp_ring_unlock(p, k);
	cdp_ring_lock(p, CDP_RING_LOCK_NS, (uint32_t)getpid());
	cdp_ring_unlock(p, CDP_RING_LOCK_NS);
	cdp_ring_close(p);
	cdp_ring_close(c);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("ring");
	TCase *tc = tcase_create("ring");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_ring_order_and_wrap);
	tcase_add_test(tc, test_ring_shut_stops_producers);
	tcase_add_test(tc, test_ring_too_big_is_refused);
	tcase_add_test(tc, test_ring_backpressure);
	tcase_add_test(tc, test_ring_consume_releases);
	tcase_add_test(tc, test_ring_lock_excludes);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
