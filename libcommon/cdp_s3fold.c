/*
 * cdp_s3fold.c: --retain for a store in a bucket (cdp_s3fold.h).
 *
 * The working directory is a store directory of its own holding the
 * bucket's base and the segments to fold, plus the segment after them,
 * which cdp_fold never folds (it takes the last segment for the one being
 * written).  It is made afresh by each fold: files it holds already, by
 * name and size, are not fetched again.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cdp_err.h"
#include "cdp_fold.h"
#include "cdp_manifest.h"
#include "cdp_proto.h"		/* cdp_write_all */
#include "cdp_s3.h"
#include "cdp_s3fold.h"
#include "cdp_s3store.h"
#include "cdp_store.h"
#include "cdp_time.h"

#define NAME_LEN	32
#define CHUNK		(8u << 20)	/* bytes per GET */


static void
seg_name(uint64_t first, char name[NAME_LEN])
{
	snprintf(name, NAME_LEN, "%020" PRIu64 ".cdpj", first);
}

static void
base_name(uint64_t last, char name[NAME_LEN])
{
	snprintf(name, NAME_LEN, "%020" PRIu64 ".base.cdpj", last);
}

/* Whether name is one of the n wanted. */
static int
wanted(const char *name, char (*want)[NAME_LEN], size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(name, want[i]) == 0)
			return 1;
	return 0;
}

/* Remove the store files in dir that are not wanted. */
static int
prune(int dirfd, char (*want)[NAME_LEN], size_t n)
{
	struct dirent *de;
	uint64_t seq;
	DIR *d;
	int fd = dup(dirfd), rc = 0;

	if (fd == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL)
		if (cdp_store_name_kind(de->d_name, &seq) != 0 &&
		    !wanted(de->d_name, want, n) &&
		    unlinkat(dirfd, de->d_name, 0) == -1 && errno != ENOENT)
			rc = -1;
	closedir(d);
	return rc;
}

/*
 * Fetch object name into dir unless a file of that size is there, in
 * chunks: a base may be larger than memory.
 */
static int
fetch(struct cdp_s3 *s3, int dirfd, const char *name, uint64_t size,
    char *why, size_t whylen)
{
	struct stat st;
	uint64_t off, len;
	uint8_t *buf;
	size_t got;
	int fd, rc = 0;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISREG(st.st_mode) && (uint64_t)st.st_size == size)
		return 0;
	fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, 0644);
	if (fd == -1)
		return cdp_seterr(why, whylen, "%s: %s", name, strerror(errno));
	for (off = 0; rc == 0 && off < size; off += len) {
		len = size - off < CHUNK ? size - off : CHUNK;
		if (cdp_s3_get(s3, name, off, len, len, &buf, &got) == -1) {
			rc = cdp_seterr(why, whylen, "%s", cdp_s3_error(s3));
			break;
		}
		if (got != len) {
			errno = EIO;
			rc = cdp_seterr(why, whylen, "%s: %" PRIu64 " bytes, the "
			    "manifest says %" PRIu64, name, off + got, size);
		} else if (cdp_write_all(fd, buf, got) == -1)
			rc = cdp_seterr(why, whylen, "%s: %s", name, strerror(errno));
		free(buf);
	}
	if (close(fd) == -1 && rc == 0)
		rc = cdp_seterr(why, whylen, "%s: %s", name, strerror(errno));
	if (rc == -1)
		(void)unlinkat(dirfd, name, 0);
	return rc;
}

/*
 * The working store: the base and segments 0..k of the manifest (k + 1
 * of them: the last is there only so that cdp_fold folds the others).
 */
static int
stock(struct cdp_s3store *b, const struct cdp_manifest *m, size_t k,
    int dirfd, char *why, size_t whylen)
{
	char (*want)[NAME_LEN];
	size_t n = 0, i;
	int rc = 0;

	if ((want = calloc(k + 2, NAME_LEN)) == NULL)
		return cdp_seterr(why, whylen, "%s", strerror(errno));
	if (m->base_last > 0)
		base_name(m->base_last, want[n++]);
	for (i = 0; i <= k; i++)
		seg_name(m->segs[i].first, want[n++]);
	if (prune(dirfd, want, n) == -1)
		rc = cdp_seterr(why, whylen, "%s", strerror(errno));
	for (i = 0; rc == 0 && i < n; i++)
		rc = fetch(cdp_s3store_client(b), dirfd, want[i],
		    i == 0 && m->base_last > 0 ? m->base_size :
		    m->segs[i - (m->base_last > 0)].size, why, whylen);
	free(want);
	return rc;
}

/* The new manifest: the new base, the segments after it, the retired. */
static int
next_manifest(struct cdp_manifest *next, const struct cdp_manifest *m,
    size_t j, uint64_t through, uint64_t base_size, int64_t until)
{
	char name[NAME_LEN];
	size_t i;

	if (cdp_manifest_copy(next, m) == -1)
		return -1;
	if (m->base_last > 0) {
		base_name(m->base_last, name);
		if (cdp_manifest_retire(next, name, until) == -1)
			return -1;
	}
	for (i = 0; i < j; i++) {
		seg_name(m->segs[i].first, name);
		if (cdp_manifest_retire(next, name, until) == -1)
			return -1;
	}
	memmove(next->segs, next->segs + j, (next->nsegs - j) *
	    sizeof(*next->segs));
	next->nsegs -= j;
	next->base_last = through;
	next->base_size = base_size;
	return 0;
}

int
cdp_s3fold_run(struct cdp_s3store *b, const char *work, int64_t cutoff_ns,
    int64_t grace_ns, const volatile int *stop, char *why, size_t whylen)
{
	const struct cdp_manifest *m = cdp_s3store_manifest(b);
	struct cdp_manifest next;
	struct cdp_store *st = NULL;
	struct cdp_fold *f = NULL;
	char name[NAME_LEN];
	const char *ewhy;
	struct stat sb;
	size_t k = 0;
	uint64_t through;
	int dirfd = -1, folded = -1, fd;

	/* The old segments, never the last (the receiver may grow it). */
	while (k + 1 < m->nsegs && m->segs[k].time_ns <= cutoff_ns)
		k++;
	if (k == 0)
		return 0;
	if (mkdir(work, 0700) == -1 && errno != EEXIST)
		return cdp_seterr(why, whylen, "%s: %s", work, strerror(errno));
	if ((dirfd = open(work, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return cdp_seterr(why, whylen, "%s: %s", work, strerror(errno));
	if (stock(b, m, k, dirfd, why, whylen) == -1)
		goto out;
	if ((st = cdp_store_open(work, CDP_STORE_NOSYNC, &ewhy)) == NULL) {
		cdp_seterr(why, whylen, "%s", ewhy);
		goto out;
	}
	if ((f = cdp_fold_open(st, work, &ewhy)) == NULL) {
		cdp_seterr(why, whylen, "%s", ewhy);
		goto out;
	}
	if ((folded = cdp_fold_run(f, cutoff_ns, stop)) <= 0) {
		if (folded == -1)
			cdp_seterr(why, whylen, "%s", cdp_fold_error(f));
		goto out;
	}
	/* Folded through the last seq of the folded segments. */
	through = cdp_fold_base_seq(f);
	base_name(through, name);
	if ((fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &sb) == -1) {
		folded = cdp_seterr(why, whylen, "%s/%s: %s", work, name,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		goto out;
	}
	if (cdp_s3_put_fd(cdp_s3store_client(b), name, fd,
	    (uint64_t)sb.st_size) == -1) {
		folded = cdp_seterr(why, whylen, "%s",
		    cdp_s3_error(cdp_s3store_client(b)));
		close(fd);
		goto out;
	}
	close(fd);
	if (next_manifest(&next, m, (size_t)folded, through,
	    (uint64_t)sb.st_size, cdp_time_now() + grace_ns) == -1) {
		folded = cdp_seterr(why, whylen, "%s", strerror(errno));
		cdp_manifest_free(&next);
		goto out;
	}
	if (cdp_s3store_replace(b, &next) == -1) {
		folded = cdp_seterr(why, whylen, "%s", cdp_s3store_error(b));
		cdp_manifest_free(&next);
	}
out:
	cdp_fold_close(f);
	if (st != NULL)
		cdp_store_close(st);
	close(dirfd);
	return folded;
}

/* Whether the manifest still reads object name (a damaged one might). */
static int
referenced(const struct cdp_manifest *m, const char *name)
{
	char x[NAME_LEN];
	size_t i;

	if (m->base_last > 0) {
		base_name(m->base_last, x);
		if (strcmp(x, name) == 0)
			return 1;
	}
	for (i = 0; i < m->nsegs; i++) {
		seg_name(m->segs[i].first, x);
		if (strcmp(x, name) == 0)
			return 1;
	}
	return 0;
}

int
cdp_s3fold_reap(struct cdp_s3store *b, char *why, size_t whylen)
{
	const struct cdp_manifest *m = cdp_s3store_manifest(b);
	struct cdp_manifest next;
	int64_t now = cdp_time_now();
	size_t i, n = 0;
	int deleted;

	for (i = 0; i < m->nretired; i++)
		if (m->retired[i].until_ns <= now &&
		    !referenced(m, m->retired[i].name))
			n++;
	if (n == 0)
		return 0;
	for (i = 0; i < m->nretired; i++)
		if (m->retired[i].until_ns <= now &&
		    !referenced(m, m->retired[i].name) &&
		    cdp_s3_delete(cdp_s3store_client(b),
		    m->retired[i].name) == -1)
			return cdp_seterr(why, whylen, "%s",
			    cdp_s3_error(cdp_s3store_client(b)));
	if (cdp_manifest_copy(&next, m) == -1)
		return cdp_seterr(why, whylen, "%s", strerror(errno));
	/* Gone now; one still named elsewhere is dropped, not deleted. */
	for (i = n = 0; i < next.nretired; i++)
		if (next.retired[i].until_ns > now)
			next.retired[n++] = next.retired[i];
	deleted = (int)(next.nretired - n);
	next.nretired = n;
	if (cdp_s3store_replace(b, &next) == -1) {
		cdp_manifest_free(&next);
		return cdp_seterr(why, whylen, "%s", cdp_s3store_error(b));
	}
	return deleted;
}
