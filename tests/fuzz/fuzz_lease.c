/*
 * fuzz_lease.c: feed arbitrary bytes to the reader of the S3 lease.
 *
 * The lease object (cdp_s3lease.h) is text anyone with write access to
 * the bucket can put there.  Its reader is static in cdp_s3lease.c, so
 * this file includes cdp_s3lease.c itself, with the three cdp_s3 calls
 * read_lease() makes renamed to fakes that hand it the input as the
 * object: the code under test is the real one, from the GET on.  The
 * first byte picks the receiver's own holder name, so that both "ours"
 * and "another's" are reached.
 *
 * Built by scripts/fuzz.sh as a libFuzzer target, and linked with replay.c
 * as a plain program.
 */
#define cdp_s3_get	fuzz_s3_get
#define cdp_s3_url	fuzz_s3_url
#define cdp_s3_error	fuzz_s3_error
#include "cdp_s3lease.c"
#undef cdp_s3_get
#undef cdp_s3_url
#undef cdp_s3_error

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile size_t sink;
static const uint8_t *obj;
static size_t obj_len;

/* GET PREFIX/lease: the input, as cdp_s3_get() would give it. */
int
fuzz_s3_get(struct cdp_s3 *s3, const char *name, uint64_t off, uint64_t len,
    uint64_t max, uint8_t **buf, size_t *got)
{
	(void)s3;
	(void)off;
	(void)len;
	if (strcmp(name, CDP_S3_LEASE_NAME) != 0)
		abort();
	if (obj == NULL) {
		errno = ENOENT;
		return -1;
	}
	if (max != 0 && obj_len > max) {
		errno = EFBIG;
		return -1;
	}
	/* malloc(0) may be NULL: cdp_s3_get() gives a buffer even then. */
	if ((*buf = malloc(obj_len + 1)) == NULL)
		return -1;
	memcpy(*buf, obj, obj_len);
	*got = obj_len;
	return 0;
}

const char *
fuzz_s3_url(const struct cdp_s3 *s3)
{
	(void)s3;
	return "s3://b/p";
}

const char *
fuzz_s3_error(const struct cdp_s3 *s3)
{
	(void)s3;
	return "s3://b/p/lease: 413 EntityTooLarge";
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *holders[] = { "me", "host:/var/spool/cdp", "",
	    "holder me" };
	char why[1024];
	const char *p;
	int mine = -1, rc;

	if (size < 1)
		return 0;
	obj = (data[0] & 4) ? NULL : data + 1;
	obj_len = size - 1;
	memset(why, 'x', sizeof(why));
	why[sizeof(why) - 1] = '\0';
	rc = read_lease(NULL, holders[data[0] & 3], &mine, why, sizeof(why));
	if (rc == 0 && mine != 0 && mine != 1)
		abort();
	if (rc == -1 && (obj == NULL || obj_len <= LEASE_MAX))
		abort();	/* only a GET that fails may fail */
	if ((rc == -1 || mine == 0) && why[0] == 'x')
		abort();	/* refused without saying why */
	/* What the bucket says reaches a terminal: no control characters. */
	for (p = why; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			abort();
	sink += strlen(why);
	return 0;
}
