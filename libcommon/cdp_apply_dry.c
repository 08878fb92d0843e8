/*
 * cdp_apply_dry.c: the apply engine's dry run (CDP_APPLY_DRYRUN).
 *
 * The same checks as the real run, against a model: a map of what the
 * journal has done to each name, over the real tree as it is, read but
 * never written.  Each name's value is its type; FRESH marks a directory
 * the journal made, below which nothing real lies.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "cdp_apply_int.h"
#include "cdp_format.h"

/* Types in the dry run's model; FRESH: nothing real lies below. */
enum { T_ABSENT = '-', T_DIR = 'd', T_FILE = 'f', T_LINK = 'l',
    T_FIFO = 'p', T_OTHER = 'o', T_UNKNOWN = 'u' };
#define FRESH	0x100

static int
type_of_mode(mode_t m)
{
	if (S_ISDIR(m))
		return T_DIR;
	if (S_ISREG(m))
		return T_FILE;
	if (S_ISLNK(m))
		return T_LINK;
	if (S_ISFIFO(m))
		return T_FIFO;
	return T_OTHER;
}

/*
 * The type path would have now.  Every parent must be a directory (or
 * unknown, after a rename of a real directory); otherwise fail as the
 * real run would.  With CDP_APPLY_MKPARENTS missing parents are made.
 */
static int
sim_type(struct cdp_apply *a, const char *path, int *type)
{
	char buf[CDP_PATH_MAX + 1];
	size_t len = strlen(path), i;
	int real = 1, t = T_DIR, v;
	struct stat st;

	memcpy(buf, path, len + 1);
	for (i = 0; i <= len; i++) {
		if (i < len && buf[i] != '/')
			continue;
		if (t == T_UNKNOWN)
			break;
		if ((v = cdp_pathmap_get(a->model, buf, i)) >= 0) {
			t = v & 0xff;
			real = t == T_DIR && !(v & FRESH);
		} else if (real) {
			buf[i] = '\0';
			if (fstatat(a->root, buf, &st,
			    AT_SYMLINK_NOFOLLOW) == 0)
				t = type_of_mode(st.st_mode);
			else
				t = T_ABSENT;
			buf[i] = i < len ? '/' : '\0';
		} else
			t = T_ABSENT;
		if (i == len)
			break;
		/* A parent. */
		if (t == T_DIR || t == T_UNKNOWN)
			continue;
		if (t == T_LINK)
			return cdp_apply_fail_errno(a, ELOOP, path);
		if (t != T_ABSENT)
			return cdp_apply_fail_errno(a, ENOTDIR, path);
		if (!(a->flags & CDP_APPLY_MKPARENTS))
			return cdp_apply_fail(a, ENOENT, path,
			    "parent directory does not exist");
		if (cdp_pathmap_set(a->model, buf, i, T_DIR | FRESH) == -1)
			return cdp_apply_fail(a, errno, path, NULL);
		t = T_DIR;
		real = 0;
	}
	*type = t;
	return 0;
}

static int
sim_set(struct cdp_apply *a, const char *path, int v)
{
	if (cdp_pathmap_set(a->model, path, strlen(path), v) == -1)
		return cdp_apply_fail(a, errno, path, NULL);
	return 1;
}

int
cdp_apply_dry_record(struct cdp_apply *a, const struct cdp_record *r)
{
	int t, t2;

	if ((r->type == CDP_T_SETXATTR || r->type == CDP_T_REMOVEXATTR) &&
	    (t = cdp_apply_xattr_allowed(a, r)) != 1)
		return t;
	if (r->path[0] == '\0')
		return r->type == CDP_T_FSYNC ? 0 : 1;	/* the root */
	if (sim_type(a, r->path, &t) == -1) {
		/* As the real run: no parent, nothing to remove. */
		if (errno == ENOENT && (r->type == CDP_T_UNLINK ||
		    r->type == CDP_T_RMDIR))
			return 0;
		return -1;
	}
	switch (r->type) {
	case CDP_T_CREATE:
	case CDP_T_SYMLINK:
		if (t == T_DIR)
			return cdp_apply_fail(a, EISDIR, r->path,
			    "exists and is a directory");
		return sim_set(a, r->path, r->type == CDP_T_SYMLINK ? T_LINK :
		    (r->mode & S_IFMT) == S_IFIFO ? T_FIFO : T_FILE);
	case CDP_T_MKDIR:
		if (t == T_DIR || t == T_UNKNOWN)
			return 1;
		if (t != T_ABSENT)
			return cdp_apply_fail(a, EEXIST, r->path,
			    "exists and is not a directory");
		return sim_set(a, r->path, T_DIR | FRESH);
	case CDP_T_LINK:
		if (t == T_ABSENT)
			return cdp_apply_fail(a, ENOENT, r->path,
			    "no such file to link to");
		if (t == T_DIR)
			return cdp_apply_fail(a, EPERM, r->path,
			    "hard link to a directory");
		if (sim_type(a, r->path2, &t2) == -1)
			return -1;
		if (t2 == T_DIR)
			return cdp_apply_fail(a, EISDIR, r->path2,
			    "exists and is a directory");
		return sim_set(a, r->path2, t);
	case CDP_T_RENAME:
		if (sim_type(a, r->path2, &t2) == -1)
			return -1;
		if (t == T_ABSENT) {
			if (t2 != T_ABSENT &&
			    !(r->rflags & CDP_RENAME_EXCHANGE))
				return 0;
			return cdp_apply_fail(a, ENOENT, r->path,
			    "no such file to rename");
		}
		if ((r->rflags & CDP_RENAME_EXCHANGE) && t2 == T_ABSENT)
			return cdp_apply_fail(a, ENOENT, r->path2, NULL);
		if ((r->rflags & CDP_RENAME_NOREPLACE) && t2 != T_ABSENT)
			return cdp_apply_fail(a, EEXIST, r->path2, NULL);
		if (t2 == T_DIR && t != T_DIR && t != T_UNKNOWN)
			return cdp_apply_fail(a, EISDIR, r->path2, NULL);
		if (cdp_pathmap_move(a->model, r->path, r->path2,
		    r->rflags & CDP_RENAME_EXCHANGE) == -1)
			return cdp_apply_fail(a, errno, r->path, NULL);
		/* A real directory's children are not modelled. */
		if (sim_set(a, r->path2, t == T_DIR ? T_UNKNOWN : t) == -1)
			return -1;
		return sim_set(a, r->path, (r->rflags & CDP_RENAME_EXCHANGE) ?
		    (t2 == T_DIR ? T_UNKNOWN : t2) : T_ABSENT | FRESH);
	case CDP_T_UNLINK:
		if (t == T_DIR)
			return cdp_apply_fail(a, EISDIR, r->path,
			    "is a directory");
		return t == T_ABSENT ? 0 : sim_set(a, r->path, T_ABSENT);
	case CDP_T_RMDIR:
		if (t == T_ABSENT)
			return 0;
		if (t != T_DIR && t != T_UNKNOWN)
			return cdp_apply_fail(a, ENOTDIR, r->path, NULL);
		return sim_set(a, r->path, T_ABSENT | FRESH);
	case CDP_T_SETATTR:
	case CDP_T_SETXATTR:
	case CDP_T_REMOVEXATTR:
		if (t == T_ABSENT)
			return cdp_apply_fail(a, ENOENT, r->path, NULL);
		return 1;
	case CDP_T_WRITE:
	case CDP_T_TRUNCATE:
	case CDP_T_FALLOCATE:
		if (t == T_ABSENT)
			return cdp_apply_fail(a, ENOENT, r->path,
			    "no such file");
		if (t == T_LINK)
			return cdp_apply_fail(a, ELOOP, r->path,
			    "is a symbolic link");
		if (t != T_FILE && t != T_UNKNOWN)
			return cdp_apply_fail(a, EINVAL, r->path,
			    "not a regular file");
		return 1;
	default:
		return 0;
	}
}
