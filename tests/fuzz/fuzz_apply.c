/*
 * fuzz_apply.c: apply a hostile journal, and check that nothing outside
 * the target directory changed.
 *
 * The input is a script, not journal bytes: random bytes would almost
 * never make a record past the CRCs, and the reader has a harness of its
 * own (fuzz_reader.c).  Each record the script describes is encoded and
 * decoded again with cdp_record.c, so that only records the reader could
 * deliver reach the engine, and paths are mostly drawn from a small table
 * so that records meet each other: a symbolic link made by one is walked
 * through by the next.
 *
 * Layout: one byte of setup (bit 0 dry run, bit 1 CDP_APPLY_MKPARENTS,
 * bit 2 start from a tree that already holds symbolic links leading out,
 * bit 3 keep the state), then records until the input ends: an op byte
 * (low 4 bits the type, high 4 bits how its seq follows the last one)
 * and the fields of that type.
 *
 * The tree: ROOT/t is the target; ROOT/outside (a file) and ROOT/outdir
 * (a directory with a file in it) are the world outside, and the symbolic
 * links of the journal (and of the initial tree) point at them by
 * relative, absolute and /proc/self/root paths.  After each input:
 * ROOT holds exactly t, outside and outdir, none of them changed (ctime
 * included, so a chmod, chown, link or xattr shows), no descriptor is
 * left open, and a dry run left t as it found it.  Then t is removed.
 * File sizes are limited (RLIMIT_FSIZE) so that no input fills the disk.
 * With CDP_FUZZ_VERBOSE set in the environment, each record and what
 * became of it is written to standard error.
 *
 * Built by scripts/fuzz.sh as a libFuzzer target, and linked with replay.c
 * as a plain program.
 */
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cdp_apply.h"
#include "cdp_record.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FSIZE_MAX	(64 << 20)	/* bytes a file may grow to */

/* Setup bits. */
#define S_DRYRUN	0x01
#define S_MKPARENTS	0x02
#define S_PREPOP	0x04
#define S_STATE		0x08

static int verbose;			/* CDP_FUZZ_VERBOSE is set */
static char root[4096];			/* ROOT, made once */
static char tdir[4096 + 2];		/* ROOT/t */

/* Journal paths, relative to the target ('@' is ROOT in link targets). */
static const char *paths[] = {
	"a", "b", "d", "d/a", "d/b", "d/d", "d/d/a", "d/f", "s", "s/a",
	"abs", "abs/a", "dl", "dl/f", "dl/g", "pr", "pr/a", "f", "e/f/g",
	"d/s", "d/s/a", "d/d/s", "", "x", "e", "e/f", "x/f", "x/f/g",
};
static const char *targets[] = {
	"../outside", "../outdir", "@/outside", "@/outdir", "@", "..",
	"../..", "/proc/self/root@/outside", "/proc/self/root@/outdir",
	"/proc/self/cwd", "d", "a", "s", "/", "d/../../outside",
	"../../outside", "../../../outdir", ".", "../../outdir",
};
static const char *xnames[] = {
	"user.a", "user.b", "user.cdp.applied", "trusted.a", "security.a",
	"system.posix_acl_access", "user.",
};
static const uint16_t types[16] = {
	CDP_T_CREATE, CDP_T_MKDIR, CDP_T_SYMLINK, CDP_T_LINK, CDP_T_RENAME,
	CDP_T_UNLINK, CDP_T_RMDIR, CDP_T_SETATTR, CDP_T_SETXATTR,
	CDP_T_REMOVEXATTR, CDP_T_WRITE, CDP_T_TRUNCATE, CDP_T_FALLOCATE,
	CDP_T_FSYNC, CDP_T_MARK, CDP_T_STREAM_HDR,
};
static const uint32_t fmodes[] = {
	0x00, 0x01, 0x03, 0x08, 0x10, 0x11, 0x20, 0x40, 0x41,
};

struct cursor {
	const uint8_t	*p;
	size_t		 n;
};

static unsigned
get8(struct cursor *c)
{
	if (c->n == 0)
		return 0;
	c->n--;
	return *c->p++;
}

static uint64_t
getn(struct cursor *c, int n)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < n; i++)
		v |= (uint64_t)get8(c) << (8 * i);
	return v;
}

static void
die(const char *what)
{
	fprintf(stderr, "fuzz_apply: %s: %s\n", what, strerror(errno));
	abort();
}

static void
bug(const char *what)
{
	fprintf(stderr, "fuzz_apply: %s\n", what);
	abort();
}

/* A table entry, '@' made ROOT, or raw bytes from the input. */
static void
pick(struct cursor *c, char *dst, size_t size, const char **tab, size_t n)
{
	unsigned b = get8(c);
	const char *s, *at;
	size_t len, i;

	if (b < 0xf0) {
		s = tab[b % n];
		if ((at = strchr(s, '@')) != NULL)
			snprintf(dst, size, "%.*s%s%s", (int)(at - s), s, root,
			    at + 1);
		else
			snprintf(dst, size, "%s", s);
		return;
	}
	len = get8(c) % 64;
	for (i = 0; i < len && i + 1 < size; i++)
		dst[i] = (char)get8(c);
	dst[i] = '\0';
}

#define PATH(c, d)	pick(c, d, sizeof(d), paths, \
			    sizeof(paths) / sizeof(paths[0]))

/* A file offset: mostly small, sometimes anything. */
static uint64_t
offset(struct cursor *c)
{
	unsigned b = get8(c);

	return b == 0xff ? getn(c, 8) : (uint64_t)b * 4099;
}

/* Fill rec (type set) from the script; data points into the input. */
static void
fill(struct cursor *c, struct cdp_record *rec)
{
	unsigned v, n;

	switch (rec->type) {
	case CDP_T_STREAM_HDR:
		rec->version = CDP_VERSION;
		memset(rec->uuid, (int)get8(c), sizeof(rec->uuid));
		snprintf(rec->path2, sizeof(rec->path2), "fuzz");
		break;
	case CDP_T_MARK:
		snprintf(rec->name, sizeof(rec->name), "m");
		break;
	case CDP_T_CREATE:
		v = (unsigned)getn(c, 2);
		rec->mode = (v & 07777) | ((v >> 12) % 3 == 2 ? S_IFIFO :
		    (v >> 12) % 3 == 1 ? S_IFREG : 0);
		PATH(c, rec->path);
		break;
	case CDP_T_MKDIR:
		v = (unsigned)getn(c, 2);
		rec->mode = (v & 07777) | ((v & 0x8000) ? S_IFDIR : 0);
		PATH(c, rec->path);
		break;
	case CDP_T_SYMLINK:
		PATH(c, rec->path);
		pick(c, rec->path2, sizeof(rec->path2), targets,
		    sizeof(targets) / sizeof(targets[0]));
		break;
	case CDP_T_RENAME:
		v = get8(c) % 3;
		rec->rflags = v == 2 ? CDP_RENAME_EXCHANGE :
		    v == 1 ? CDP_RENAME_NOREPLACE : 0;
		/* FALLTHROUGH */
	case CDP_T_LINK:
		PATH(c, rec->path);
		PATH(c, rec->path2);
		break;
	case CDP_T_UNLINK:
	case CDP_T_RMDIR:
		PATH(c, rec->path);
		break;
	case CDP_T_SETATTR:
		rec->rflags = get8(c) & CDP_ATTR_ALL;
		rec->mode = (unsigned)getn(c, 2) & 07777;
		rec->uid = get8(c);
		rec->gid = get8(c);
		if (rec->rflags & CDP_ATTR_ATIME)
			rec->atime_ns = (int64_t)getn(c, 8);
		if (rec->rflags & CDP_ATTR_MTIME)
			rec->mtime_ns = (int64_t)getn(c, 8);
		PATH(c, rec->path);
		break;
	case CDP_T_SETXATTR:
	case CDP_T_REMOVEXATTR:
		PATH(c, rec->path);
		pick(c, rec->name, sizeof(rec->name), xnames,
		    sizeof(xnames) / sizeof(xnames[0]));
		if (rec->type == CDP_T_REMOVEXATTR)
			break;
		/* FALLTHROUGH */
	case CDP_T_WRITE:
		if (rec->type == CDP_T_WRITE) {
			rec->off = offset(c);
			PATH(c, rec->path);
		}
		n = get8(c);
		rec->data = c->p;
		rec->data_len = n < c->n ? n : c->n;
		c->p += rec->data_len;
		c->n -= rec->data_len;
		break;
	case CDP_T_TRUNCATE:
		rec->off = offset(c);
		PATH(c, rec->path);
		break;
	case CDP_T_FALLOCATE:
		rec->mode = fmodes[get8(c) % (sizeof(fmodes) /
		    sizeof(fmodes[0]))];
		rec->off = offset(c);
		rec->len = offset(c) + 1;
		PATH(c, rec->path);
		break;
	case CDP_T_FSYNC:
		rec->rflags = get8(c) & CDP_FSYNC_DATASYNC;
		PATH(c, rec->path);
		break;
	}
}

/*
 * The record as the reader would hand it out: encoded, then decoded into
 * out.  0, or -1 when the reader would have refused it.
 */
static int
as_read(const struct cdp_record *in, struct cdp_record *out)
{
	static uint8_t payload[CDP_RECORD_HEAD_MAX + 256];
	const char *why;
	long head;

	head = cdp_record_encode_head(in, payload, CDP_RECORD_HEAD_MAX);
	if (head < 0)
		return -1;
	if (in->data_len > 0)
		memcpy(payload + head, in->data, in->data_len);
	memset(out, 0, sizeof(*out));
	out->type = in->type;
	if (cdp_record_decode(out, payload, (size_t)head + in->data_len,
	    &why) == -1)
		return -1;
	out->seq = in->seq;
	out->time_ns = in->time_ns;
	out->offset = in->offset;
	return 0;
}

/* What is outside: ROOT's entries and the stat of each. */
struct outside {
	struct stat	 root, file, dir, dirfile;
};

static void
look(struct outside *o)
{
	char p[sizeof(root) + 32];

	if (lstat(root, &o->root) == -1)
		die(root);
	snprintf(p, sizeof(p), "%s/outside", root);
	if (lstat(p, &o->file) == -1)
		bug("ROOT/outside is gone");
	snprintf(p, sizeof(p), "%s/outdir", root);
	if (lstat(p, &o->dir) == -1)
		bug("ROOT/outdir is gone");
	snprintf(p, sizeof(p), "%s/outdir/f", root);
	if (lstat(p, &o->dirfile) == -1)
		bug("ROOT/outdir/f is gone");
}

static int
same_stat(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_mode == b->st_mode &&
	    a->st_uid == b->st_uid && a->st_gid == b->st_gid &&
	    a->st_nlink == b->st_nlink && a->st_size == b->st_size &&
	    a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	    a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	    a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	    a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

static struct outside before;

static void
check_outside(void)
{
	struct outside now;
	struct dirent *de;
	DIR *d;
	int n = 0;

	look(&now);
	/* ROOT's times change as t comes and goes: not those. */
	if (now.root.st_mode != before.root.st_mode ||
	    now.root.st_uid != before.root.st_uid ||
	    now.root.st_gid != before.root.st_gid)
		bug("ROOT itself was changed");
	if (!same_stat(&now.file, &before.file))
		bug("ROOT/outside was changed");
	if (!same_stat(&now.dir, &before.dir))
		bug("ROOT/outdir was changed");
	if (!same_stat(&now.dirfile, &before.dirfile))
		bug("ROOT/outdir/f was changed");
	if ((d = opendir(root)) == NULL)
		die(root);
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (strcmp(de->d_name, "t") != 0 &&
		    strcmp(de->d_name, "outside") != 0 &&
		    strcmp(de->d_name, "outdir") != 0) {
			fprintf(stderr, "fuzz_apply: ROOT/%s appeared\n",
			    de->d_name);
			abort();
		}
		n++;
	}
	closedir(d);
	if (n != 3)
		bug("ROOT/t is gone");
}

/* A digest of the tree under t, for the dry run. */
static uint64_t tree_sum;

static uint64_t
mix(uint64_t h, uint64_t v)
{
	return (h ^ v) * 0x100000001b3ULL;
}

static int
sum_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	const char *s;

	(void)flag;
	(void)f;
	for (s = path + strlen(tdir); *s != '\0'; s++)
		tree_sum = mix(tree_sum, (unsigned char)*s);
	tree_sum = mix(tree_sum, st->st_ino);
	tree_sum = mix(tree_sum, st->st_mode);
	tree_sum = mix(tree_sum, st->st_uid);
	tree_sum = mix(tree_sum, st->st_size);
	tree_sum = mix(tree_sum, st->st_nlink);
	tree_sum = mix(tree_sum, (uint64_t)st->st_mtim.tv_nsec);
	tree_sum = mix(tree_sum, (uint64_t)st->st_ctim.tv_nsec);
	return 0;
}

static uint64_t
tree_digest(void)
{
	tree_sum = 0xcbf29ce484222325ULL;
	if (nftw(tdir, sum_one, 16, FTW_PHYS | FTW_MOUNT) == -1)
		die(tdir);
	return tree_sum;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)f;
	if ((flag == FTW_DP ? rmdir(path) : unlink(path)) == -1)
		die(path);
	return 0;
}

static void
rm_tree(const char *dir)
{
	if (nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) == -1 &&
	    errno != ENOENT)
		die(dir);
}

static void
cleanup(void)
{
	if (root[0] != '\0')
		rm_tree(root);
}

static void
put_file(const char *dir, const char *name, const char *text)
{
	char p[sizeof(tdir) + 64];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	if ((f = fopen(p, "w")) == NULL || fputs(text, f) == EOF ||
	    fclose(f) == EOF)
		die(p);
}

static void
put_link(const char *dir, const char *name, const char *to)
{
	char p[sizeof(tdir) + 64], t[sizeof(root) + 64];
	const char *at = strchr(to, '@');

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	if (at != NULL)
		snprintf(t, sizeof(t), "%.*s%s%s", (int)(at - to), to, root,
		    at + 1);
	else
		snprintf(t, sizeof(t), "%s", to);
	if (symlink(t, p) == -1)
		die(p);
}

static void
setup_once(void)
{
	const char *tmp = getenv("TMPDIR");
	struct rlimit rl = { FSIZE_MAX, FSIZE_MAX };
	char p[sizeof(root) + 32];

	if (root[0] != '\0')
		return;
	verbose = getenv("CDP_FUZZ_VERBOSE") != NULL;
	snprintf(root, sizeof(root), "%s/cdp-fuzz-apply.XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if (mkdtemp(root) == NULL)
		die(root);
	atexit(cleanup);
	snprintf(tdir, sizeof(tdir), "%s/t", root);
	put_file(root, "outside", "the world outside\n");
	snprintf(p, sizeof(p), "%s/outdir", root);
	if (mkdir(p, 0755) == -1)
		die(p);
	put_file(p, "f", "also outside\n");
	look(&before);
	umask(022);
	/* A write past the limit fails with EFBIG instead of a signal. */
	signal(SIGXFSZ, SIG_IGN);
	if (setrlimit(RLIMIT_FSIZE, &rl) == -1)
		die("setrlimit");
}

/* The lowest free descriptor, to see none was left open. */
static int
lowest_fd(void)
{
	int fd = open("/", O_PATH | O_CLOEXEC);

	if (fd == -1)
		die("/");
	close(fd);
	return fd;
}

static void
prepopulate(void)
{
	char p[sizeof(tdir) + 8];

	snprintf(p, sizeof(p), "%s/d", tdir);
	if (mkdir(p, 0755) == -1)
		die(p);
	put_file(p, "f", "inside\n");
	put_link(tdir, "s", "../outside");
	put_link(tdir, "abs", "@/outside");
	put_link(tdir, "dl", "../outdir");
	put_link(tdir, "pr", "/proc/self/root@/outdir");
	put_link(p, "s", "../../outdir");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cdp_record in, rec;
	struct cursor c = { data, size };
	struct cdp_apply *a;
	unsigned setup, op;
	uint64_t seq = 0, digest = 0;
	int flags, fd0, n = 0, rc;

	setup_once();
	fd0 = lowest_fd();
	setup = get8(&c);
	if (mkdir(tdir, 0755) == -1)
		die(tdir);
	if (setup & S_PREPOP)
		prepopulate();
	flags = (setup & S_STATE) ? 0 : CDP_APPLY_NOSTATE;
	if (setup & S_DRYRUN) {
		flags |= CDP_APPLY_DRYRUN;
		digest = tree_digest();
	}
	if (setup & S_MKPARENTS)
		flags |= CDP_APPLY_MKPARENTS;
	if ((a = cdp_apply_open(tdir, flags)) == NULL)
		die("cdp_apply_open");

	while (c.n > 0 && n++ < 256) {
		op = get8(&c);
		memset(&in, 0, sizeof(in));
		in.type = types[op & 15];
		/* The seq: next, a gap, a step back, or left out (skip). */
		switch (op >> 4) {
		case 0xf:
			seq += get8(&c);
			break;
		case 0xe:
			seq -= seq < (op & 7) ? seq : (op & 7);
			break;
		default:
			seq++;
		}
		fill(&c, &in);
		in.seq = cdp_record_type_numbered(in.type) ? seq : 0;
		in.time_ns = 1764081524000000000LL + n;
		in.offset = (uint64_t)n * 64;
		if (as_read(&in, &rec) == -1)
			continue;
		if ((op >> 4) == 0xd)
			rc = cdp_apply_skip(a, &rec);
		else if ((rc = cdp_apply_record(a, &rec)) == -1 &&
		    cdp_apply_error(a)[0] == '\0')
			bug("a record failed without a message");
		if (verbose)
			fprintf(stderr, "%s %s %s -> %d %s\n",
			    cdp_record_type_name(rec.type), rec.path, rec.path2,
			    rc, rc == -1 ? cdp_apply_error(a) : "");
	}
	(void)cdp_apply_close(a);

	if (lowest_fd() != fd0)
		bug("a descriptor was left open");
	check_outside();
	if ((setup & S_DRYRUN) && tree_digest() != digest)
		bug("the dry run changed the target");
	rm_tree(tdir);
	return 0;
}
