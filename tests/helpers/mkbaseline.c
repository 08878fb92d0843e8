/*
 * mkbaseline: write a journal that rebuilds a directory tree.
 *
 * usage: mkbaseline DIR OUT
 *
 * A stand-in for cdp-tap --baseline in benchmarks and tests: MKDIR,
 * CREATE, WRITE (1 MiB records), SYMLINK and LINK for each entry below
 * DIR, in the order nftw(3) walks them, then a SETATTR of mode and mtime
 * for each file and directory (directories last-first, so that adding
 * entries does not change their times again).  OUT "-" is stdout.
 */
#include <err.h>
#include <fcntl.h>
#include <ftw.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "cdp_record.h"
#include "cdp_writer.h"

#define CHUNK	(1 << 20)

static struct cdp_writer *w;
static size_t	 toplen;
static struct cdp_record r;
static uint8_t	*buf;
static char	**dirs;		/* directories, for their times at the end */
static size_t	 ndirs;
static void	*inodes;	/* files with several links: first path */

struct ino {
	dev_t	 dev;
	ino_t	 ino;
	char	 path[CDP_PATH_MAX + 1];
};

static int
ino_cmp(const void *a, const void *b)
{
	const struct ino *x = a, *y = b;

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

static void
put(uint16_t type, const char *path)
{
	r.type = type;
	snprintf(r.path, sizeof(r.path), "%s", path);
	if (cdp_writer_put(w, &r) == -1)
		err(1, "cdp_writer_put");
	memset(&r, 0, sizeof(r));
}

static void
setattr(const char *rel, const struct stat *st)
{
	r.rflags = CDP_ATTR_MODE | CDP_ATTR_MTIME;
	r.mode = st->st_mode & 07777;
	r.mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 +
	    st->st_mtim.tv_nsec;
	put(CDP_T_SETATTR, rel);
}

static int
visit(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	const char *rel = path + toplen;
	struct ino key, *k, **found;
	ssize_t n;
	off_t off = 0;
	int fd;

	(void)f;
	if (*rel == '/')
		rel++;
	if (*rel == '\0')
		return 0;
	if (flag == FTW_D) {
		r.mode = st->st_mode & 07777;
		put(CDP_T_MKDIR, rel);
		dirs = realloc(dirs, (ndirs + 1) * sizeof(*dirs));
		dirs[ndirs] = strdup(rel);
		if (dirs == NULL || dirs[ndirs] == NULL)
			err(1, "malloc");
		ndirs++;
		return 0;
	}
	if (flag == FTW_SL) {
		n = readlink(path, r.path2, sizeof(r.path2) - 1);
		if (n == -1)
			err(1, "%s", path);
		r.path2[n] = '\0';
		put(CDP_T_SYMLINK, rel);
		return 0;
	}
	if (!S_ISREG(st->st_mode))
		return 0;
	if (st->st_nlink > 1) {
		key.dev = st->st_dev;
		key.ino = st->st_ino;
		if ((found = tfind(&key, &inodes, ino_cmp)) != NULL) {
			snprintf(r.path2, sizeof(r.path2), "%s", rel);
			r.type = CDP_T_LINK;
			snprintf(r.path, sizeof(r.path), "%s", (*found)->path);
			if (cdp_writer_put(w, &r) == -1)
				err(1, "cdp_writer_put");
			memset(&r, 0, sizeof(r));
			return 0;
		}
		if ((k = malloc(sizeof(*k))) == NULL)
			err(1, "malloc");
		*k = key;
		snprintf(k->path, sizeof(k->path), "%s", rel);
		tsearch(k, &inodes, ino_cmp);
	}
	r.mode = st->st_mode & 07777;
	put(CDP_T_CREATE, rel);
	if ((fd = open(path, O_RDONLY)) == -1)
		err(1, "%s", path);
	while ((n = read(fd, buf, CHUNK)) > 0) {
		r.off = (uint64_t)off;
		r.data = buf;
		r.data_len = (size_t)n;
		put(CDP_T_WRITE, rel);
		off += n;
	}
	if (n == -1)
		err(1, "%s", path);
	close(fd);
	setattr(rel, st);
	return 0;
}

int
main(int argc, char **argv)
{
	static const uint8_t uuid[16] = { 0x0c, 0xd9, 0xba, 0x5e };
	struct stat st;
	char p[8192];
	int fd;

	if (argc != 3) {
		fprintf(stderr, "usage: mkbaseline DIR OUT\n");
		return 2;
	}
	toplen = strlen(argv[1]);
	fd = strcmp(argv[2], "-") == 0 ? STDOUT_FILENO :
	    open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd == -1 || (w = cdp_writer_open(fd, -1)) == NULL ||
	    (buf = malloc(CHUNK)) == NULL)
		err(1, "%s", argv[2]);
	if (cdp_writer_begin(w, uuid, "mkbaseline", 1) == -1)
		err(1, "cdp_writer_begin");
	put(CDP_T_BASELINE_BEGIN, "");
	if (nftw(argv[1], visit, 64, FTW_PHYS) == -1)
		err(1, "%s", argv[1]);
	while (ndirs-- > 0) {
		snprintf(p, sizeof(p), "%s/%s", argv[1], dirs[ndirs]);
		if (lstat(p, &st) == -1)
			err(1, "%s", p);
		setattr(dirs[ndirs], &st);
		free(dirs[ndirs]);
	}
	put(CDP_T_BASELINE_END, "");
	if (cdp_writer_end(w) == -1)
		err(1, "%s", argv[2]);
	cdp_writer_close(w);
	return 0;
}
