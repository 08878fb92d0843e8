/*
 * tap_fuse.c: cdp-tap --fuse, a passthrough file system that journals.
 *
 * A libfuse low-level file system in the manner of libfuse's
 * example/passthrough_hp.cc (our own C): each inode the kernel knows holds
 * an O_PATH descriptor of the object in SOURCE, and every request is done
 * on SOURCE with the *at() calls from those descriptors.  No writeback
 * cache: each write reaches us, in order, and is on SOURCE and in the
 * journal before the application's write returns.
 *
 * Order.  A change and its journal record happen under the same locks, so
 * the journal order is the order the changes took effect:
 *  - name space changes (create, mkdir, symlink, link, mknod, rename,
 *    unlink, rmdir) hold the name space lock exclusively;
 *  - changes to one object (write, truncate, fallocate, attributes,
 *    xattrs, copy_file_range) hold it shared and the object's own mutex,
 *    so no rename can move the name between the change and its record.
 * Journal paths come from the kernel (/proc/self/fd/N of the descriptor),
 * cached per inode until the next name space change.  A change to an
 * object no longer in the tree (unlinked, still open) is not journaled:
 * replay has nothing to apply it to.
 *
 * Files are created as root (the daemon) and then given to the user who
 * asked (the request's uid, and gid unless the directory is setgid); the
 * kernel has already checked permissions (default_permissions).
 */
#define FUSE_USE_VERSION 312

#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fuse_lowlevel.h>
#include <linux/fuse.h>

#include "cdp_cli.h"
#include "cdp_control.h"
#include "cdp_record.h"
#include "tap_fuse.h"

#define MAX_WRITE	(1024 * 1024)
#define NBUCKETS	65536
#define TIMEOUT		1.0	/* seconds the kernel may cache names, attrs */
#define POLL_MS		10	/* output flushed, marks served this often */
#define DELETED		" (deleted)"

/* Linux 6.6's; older <linux/fuse.h> lack it. */
#ifndef FUSE_DIRECT_IO_ALLOW_MMAP
#define FUSE_DIRECT_IO_ALLOW_MMAP	(1ULL << 36)
#endif

/* fi->fh: the descriptor on SOURCE, and whether it is in append mode. */
#define FH(fd, app)	((uint64_t)(unsigned)(fd) | ((uint64_t)(app) << 32))
#define FH_FD(fi)	((int)((fi)->fh & 0xffffffffu))
#define FH_APPEND(fi)	((int)((fi)->fh >> 32))

struct oldfd {
	int		 fd;
	struct oldfd	*next;
};

struct inode {
	int		 fd;		/* O_PATH, on SOURCE */
	dev_t		 dev;
	ino_t		 ino;
	uint64_t	 nlookup;	/* the kernel's references */
	uint64_t	 generation;
	pthread_mutex_t	 m;		/* a change and its record */
	char		*path;		/* cached journal path */
	uint64_t	 path_gen;	/* valid while fs->gen is this */
	struct oldfd	*old;		/* replaced descriptors, closed at forget */
	struct inode	*next;		/* hash chain */
};

struct dirh {
	DIR		*dp;
	off_t		 off;
	struct dirent	*ent;
};

struct tfs {
	struct tap_fuse_args *a;
	size_t		 srclen;
	dev_t		 dev;
	struct inode	 root;
	pthread_mutex_t	 itab_m;	/* the inode table */
	struct inode	**bucket;
	pthread_rwlock_t ns;		/* the name space (see the top) */
	uint64_t	 gen;		/* bumped by each name space change */
	uint64_t	 next_generation;

	pthread_mutex_t	 out_m;		/* the journal output */
	uint64_t	 pos;		/* records put, orders marks */
	int		 failed;	/* the output failed: stop journaling */
	int		 fail_errno;
	int		 told;		/* the failure was reported */
	uint64_t	 unjournaled;	/* changes the format cannot carry */
	uint64_t	 init_unique;	/* the INIT request (see io_read) */
	uint32_t	 init_flags;	/* what the kernel offered in it */
	uint32_t	 init_flags2;	/* the same, bits 32..63 */
	int		 init_seen;
	int		 direct_io;	/* files bypass the mount's page cache */
	int		 stop;		/* the service thread ends (__atomic) */
};

/* The output side. */

static void
rec_init(struct cdp_record *r, uint16_t type)
{
	r->type = type;
	r->flags = 0;
	r->seq = 0;
	r->time_ns = 0;
	r->mode = r->rflags = r->uid = r->gid = 0;
	r->atime_ns = r->mtime_ns = 0;
	r->off = r->len = 0;
	r->path[0] = r->path2[0] = r->name[0] = '\0';
	r->data = NULL;
	r->data_len = 0;
}

/* Caller holds out_m. */
static void
put_locked(struct tfs *fs, const struct cdp_record *r)
{
	if (fs->failed)
		return;
	if (cdp_tapout_put(fs->a->tap, fs->pos, r) == -1) {
		if (errno == EINVAL) {
			fs->unjournaled++;
			return;
		}
		fs->failed = 1;
		fs->fail_errno = errno;
		cdp_tapout_abort(fs->a->tap, "the journal output failed");
		return;
	}
	fs->pos++;
}

static void
journal(struct tfs *fs, const struct cdp_record *r)
{
	pthread_mutex_lock(&fs->out_m);
	put_locked(fs, r);
	pthread_mutex_unlock(&fs->out_m);
}

/*
 * An FSYNC record, written out (and synced, for a file) before the
 * application's fsync returns.
 */
static void
journal_sync(struct tfs *fs, const struct cdp_record *r)
{
	pthread_mutex_lock(&fs->out_m);
	put_locked(fs, r);
	if (!fs->failed && cdp_tapout_idle(fs->a->tap, fs->pos, 0) == -1) {
		fs->failed = 1;
		fs->fail_errno = errno;
		cdp_tapout_abort(fs->a->tap, "the journal output failed");
	}
	pthread_mutex_unlock(&fs->out_m);
}

/* Owner records for an object a user other than us made. */
static void
journal_owner(struct tfs *fs, const char *path, const struct stat *st)
{
	struct cdp_record r;

	if (st->st_uid == geteuid() && st->st_gid == getegid())
		return;
	rec_init(&r, CDP_T_SETATTR);
	r.rflags = CDP_ATTR_UID | CDP_ATTR_GID;
	r.uid = st->st_uid;
	r.gid = st->st_gid;
	snprintf(r.path, sizeof(r.path), "%s", path);
	journal(fs, &r);
}

/* Paths. */

/* Whether link (ending in " (deleted)") is the real name of fd's object. */
static int
is_name(const char *link, struct stat *st, int fd)
{
	struct stat ls;

	if (fstat(fd, st) == -1) {
		st->st_nlink = 0;
		return 0;
	}
	return lstat(link, &ls) == 0 && ls.st_ino == st->st_ino &&
	    ls.st_dev == st->st_dev;
}

/* find_inode's search, one per thread (nftw takes no argument). */
static __thread const struct stat *want_st;
static __thread char *found;
static __thread size_t found_size;

static int
match_inode(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)flag;
	(void)ftw;
	if (st->st_ino != want_st->st_ino || st->st_dev != want_st->st_dev)
		return 0;
	snprintf(found, found_size, "%s", path);
	return 1;
}

/*
 * The name fd was known by is gone but the object has another (a hard
 * link): find one by walking SOURCE.  Slow, and rare: the result is
 * cached with the inode's path.
 */
static int
find_inode(struct tfs *fs, const struct stat *st, char *buf, size_t size)
{
	want_st = st;
	found = buf;
	found_size = size;
	return nftw(fs->a->source, match_inode, 16, FTW_PHYS | FTW_MOUNT)
	    == 1 ? 0 : -1;
}

/*
 * The journal path of what fd refers to, into buf (CDP_PATH_MAX + 1):
 * 0, or -1 when it is no longer in the tree (or out of it).
 */
static int
fd_path(struct tfs *fs, int fd, char *buf)
{
	char proc[64], link[PATH_MAX + 32];
	const char *rel;
	struct stat st;
	ssize_t n;
	size_t dl = sizeof(DELETED) - 1;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if ((n = readlink(proc, link, sizeof(link) - 1)) <= 0)
		return -1;
	link[n] = '\0';
	if ((size_t)n > dl && strcmp(link + n - dl, DELETED) == 0 &&
	    !is_name(link, &st, fd)) {
		if (st.st_nlink == 0 || find_inode(fs, &st, link,
		    sizeof(link)) == -1)
			return -1;
	}
	if (fs->srclen == 1)
		rel = link + 1;
	else if (strncmp(link, fs->a->source, fs->srclen) != 0)
		return -1;
	else if (link[fs->srclen] == '\0')
		rel = "";
	else if (link[fs->srclen] == '/')
		rel = link + fs->srclen + 1;
	else
		return -1;
	if (strlen(rel) > CDP_PATH_MAX)
		return -1;
	strcpy(buf, rel);
	return 0;
}

static struct inode *
get_inode(struct tfs *fs, fuse_ino_t ino)
{
	return ino == FUSE_ROOT_ID ? &fs->root : (struct inode *)ino;
}

/* The path of an inode for a change; caller holds ns shared and i->m. */
static int
inode_path(struct tfs *fs, struct inode *i, int fd, char *buf)
{
	uint64_t gen = __atomic_load_n(&fs->gen, __ATOMIC_ACQUIRE);

	if (i->path != NULL && i->path_gen == gen) {
		strcpy(buf, i->path);
		return 0;
	}
	if (fd_path(fs, fd, buf) == -1)
		return -1;
	free(i->path);
	i->path = strdup(buf);
	i->path_gen = gen;
	return 0;
}

/* parent's path + "/" + name into buf; caller holds ns. */
static int
child_path(struct tfs *fs, fuse_ino_t parent, const char *name, char *buf)
{
	char dir[CDP_PATH_MAX + 1];

	if (fd_path(fs, get_inode(fs, parent)->fd, dir) == -1)
		return -1;
	if ((size_t)snprintf(buf, CDP_PATH_MAX + 1, "%s%s%s", dir,
	    dir[0] != '\0' ? "/" : "", name) > CDP_PATH_MAX)
		return -1;
	return 0;
}

static void
ns_changed(struct tfs *fs)
{
	__atomic_add_fetch(&fs->gen, 1, __ATOMIC_RELEASE);
}

/* The inode table. */

static size_t
hash(dev_t dev, ino_t ino)
{
	return (size_t)((ino * 0x9e3779b97f4a7c15ull) ^ dev) % NBUCKETS;
}

static int
is_deleted(int fd)
{
	char proc[64], link[PATH_MAX + 32];
	size_t dl = sizeof(DELETED) - 1;
	ssize_t n;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if ((n = readlink(proc, link, sizeof(link) - 1)) <= 0)
		return 1;
	link[n] = '\0';
	return (size_t)n > dl && strcmp(link + n - dl, DELETED) == 0;
}

/*
 * Look name up in parent and fill e, taking a reference on the inode.
 * Returns 0 or an errno.
 */
static int
do_lookup(struct tfs *fs, fuse_ino_t parent, const char *name,
    struct fuse_entry_param *e)
{
	struct inode *i;
	struct oldfd *o;
	struct stat ost;
	size_t h;
	int fd;

	memset(e, 0, sizeof(*e));
	e->attr_timeout = e->entry_timeout = TIMEOUT;
	fd = openat(get_inode(fs, parent)->fd, name,
	    O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return errno;
	if (fstatat(fd, "", &e->attr, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW)) {
		int err = errno;

		close(fd);
		return err;
	}
	if (e->attr.st_dev != fs->dev) {
		/* A file system mounted below SOURCE is not ours to journal. */
		close(fd);
		return EXDEV;
	}
	h = hash(e->attr.st_dev, e->attr.st_ino);
	pthread_mutex_lock(&fs->itab_m);
	for (i = fs->bucket[h]; i != NULL; i = i->next)
		if (i->ino == e->attr.st_ino && i->dev == e->attr.st_dev)
			break;
	if (i != NULL) {
		i->nlookup++;
		if (!is_deleted(i->fd) || (o = malloc(sizeof(*o))) == NULL)
			close(fd);
		else {
			/*
			 * The name we knew it by is gone: another hard link,
			 * or (nlink 0) a new file that got the inode number
			 * of a removed one still open.  Descriptors may be in
			 * use by other threads: keep the old one until forget.
			 */
			if (fstat(i->fd, &ost) == 0 && ost.st_nlink == 0)
				i->generation = ++fs->next_generation;
			o->fd = i->fd;
			o->next = i->old;
			i->old = o;
			__atomic_store_n(&i->fd, fd, __ATOMIC_RELEASE);
		}
	} else if ((i = calloc(1, sizeof(*i))) == NULL) {
		pthread_mutex_unlock(&fs->itab_m);
		close(fd);
		return ENOMEM;
	} else {
		i->fd = fd;
		i->dev = e->attr.st_dev;
		i->ino = e->attr.st_ino;
		i->nlookup = 1;
		i->generation = fs->next_generation;
		pthread_mutex_init(&i->m, NULL);
		i->next = fs->bucket[h];
		fs->bucket[h] = i;
	}
	e->ino = (fuse_ino_t)i;
	e->generation = i->generation;
	pthread_mutex_unlock(&fs->itab_m);
	return 0;
}

static void
inode_free(struct inode *i)
{
	struct oldfd *o;

	while ((o = i->old) != NULL) {
		i->old = o->next;
		close(o->fd);
		free(o);
	}
	close(i->fd);
	free(i->path);
	pthread_mutex_destroy(&i->m);
	free(i);
}

static void
forget_one(struct tfs *fs, fuse_ino_t ino, uint64_t n)
{
	struct inode *i = get_inode(fs, ino), **pp;

	if (i == &fs->root)
		return;
	pthread_mutex_lock(&fs->itab_m);
	i->nlookup -= n < i->nlookup ? n : i->nlookup;
	if (i->nlookup == 0) {
		for (pp = &fs->bucket[hash(i->dev, i->ino)]; *pp != NULL;
		    pp = &(*pp)->next)
			if (*pp == i) {
				*pp = i->next;
				break;
			}
		inode_free(i);
	}
	pthread_mutex_unlock(&fs->itab_m);
}

/* Requests. */

/*
 * An open file: its descriptor on SOURCE, and direct I/O when the kernel
 * allows shared mmap with it (see io_writev) and the file is open for
 * writing.  Writes skip the copy into the mount's page cache; a file only
 * read keeps that cache, which serves repeated reads without a round trip
 * to us (the kernel keeps the two kinds of open coherent).
 */
static void
set_fh(const struct tfs *fs, struct fuse_file_info *fi, int fd)
{
	fi->fh = FH(fd, (fi->flags & O_APPEND) != 0);
	fi->direct_io = fs->direct_io && (fi->flags & O_ACCMODE) != O_RDONLY;
}

#define FS(req)	((struct tfs *)fuse_req_userdata(req))

static void
tf_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
	if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
		conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
	conn->max_write = MAX_WRITE;
	conn->max_readahead = MAX_WRITE;
}

static void
tf_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e;
	int err;

	if ((err = do_lookup(FS(req), parent, name, &e)) != 0)
		fuse_reply_err(req, err);
	else
		fuse_reply_entry(req, &e);
}

static void
tf_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	forget_one(FS(req), ino, nlookup);
	fuse_reply_none(req);
}

static void
tf_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *f)
{
	size_t k;

	for (k = 0; k < count; k++)
		forget_one(FS(req), f[k].ino, f[k].nlookup);
	fuse_reply_none(req);
}

static void
tf_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct stat st;

	(void)fi;
	if (fstatat(get_inode(FS(req), ino)->fd, "", &st,
	    AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) == -1)
		fuse_reply_err(req, errno);
	else
		fuse_reply_attr(req, &st, TIMEOUT);
}

static int
proc_name(char *buf, size_t size, int fd)
{
	return snprintf(buf, size, "/proc/self/fd/%d", fd);
}

/*
 * The request being served (a write, a truncate, an open with O_TRUNC)
 * asks us to clear setuid/setgid: its caller may not keep them (see
 * io_read).  Set by the thread that read the request, which serves it.
 */
static __thread int kill_suidgid;

/*
 * Clear setuid, and setgid on a group-executable file, as the kernel does
 * for a writer without CAP_FSETID; journal the mode.  Caller holds ns
 * shared, i->m and out_m.
 */
static void
kill_sxid(struct tfs *fs, int fd, const char *path)
{
	struct cdp_record r;
	struct stat st;
	char proc[64];
	mode_t m;

	if (fstat(fd, &st) == -1 || !(st.st_mode & (S_ISUID | S_ISGID)))
		return;
	m = st.st_mode & 07777 & ~S_ISUID;
	if (m & S_IXGRP)
		m &= ~S_ISGID;
	proc_name(proc, sizeof(proc), fd);	/* fd may be O_PATH */
	if (m == (st.st_mode & 07777) || chmod(proc, m) == -1)
		return;
	rec_init(&r, CDP_T_SETATTR);
	r.rflags = CDP_ATTR_MODE;
	r.mode = m;
	strcpy(r.path, path);
	put_locked(fs, &r);
}

static void
tf_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int valid,
    struct fuse_file_info *fi)
{
	struct tfs *fs = FS(req);
	struct inode *i = get_inode(fs, ino);
	struct cdp_record r;
	struct timespec tv[2];
	struct stat st;
	char proc[64];
	int fd = fi != NULL ? FH_FD(fi) : i->fd, res = 0, jr;

	proc_name(proc, sizeof(proc), fd);
	pthread_rwlock_rdlock(&fs->ns);
	pthread_mutex_lock(&i->m);
	jr = inode_path(fs, i, fd, r.path);
	if (valid & FUSE_SET_ATTR_MODE)
		res = fi != NULL ? fchmod(fd, attr->st_mode) :
		    fchmodat(AT_FDCWD, proc, attr->st_mode, 0);
	if (res == 0 && (valid & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)))
		res = fchownat(i->fd, "",
		    (valid & FUSE_SET_ATTR_UID) ? attr->st_uid : (uid_t)-1,
		    (valid & FUSE_SET_ATTR_GID) ? attr->st_gid : (gid_t)-1,
		    AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW);
	if (res == 0 && (valid & FUSE_SET_ATTR_SIZE)) {
		res = fi != NULL ? ftruncate(fd, attr->st_size) :
		    truncate(proc, attr->st_size);
		if (res == 0 && jr == 0) {
			rec_init(&r, CDP_T_TRUNCATE);
			inode_path(fs, i, fd, r.path);
			r.off = (uint64_t)attr->st_size;
			journal(fs, &r);
		}
	}
	if (res == 0 && jr == 0 && kill_suidgid) {
		pthread_mutex_lock(&fs->out_m);
		kill_sxid(fs, fd, r.path);
		pthread_mutex_unlock(&fs->out_m);
	}
	if (res == 0 && (valid & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME))) {
		tv[0].tv_sec = tv[1].tv_sec = 0;
		tv[0].tv_nsec = tv[1].tv_nsec = UTIME_OMIT;
		if (valid & FUSE_SET_ATTR_ATIME_NOW)
			tv[0].tv_nsec = UTIME_NOW;
		else if (valid & FUSE_SET_ATTR_ATIME)
			tv[0] = attr->st_atim;
		if (valid & FUSE_SET_ATTR_MTIME_NOW)
			tv[1].tv_nsec = UTIME_NOW;
		else if (valid & FUSE_SET_ATTR_MTIME)
			tv[1] = attr->st_mtim;
		res = fi != NULL ? futimens(fd, tv) :
		    utimensat(AT_FDCWD, proc, tv, 0);
	}
	/* The values the object has now (mode after the kernel's suid
	 * clearing, the time UTIME_NOW gave). */
	if (fstatat(i->fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) == 0
	    && jr == 0 && (valid & (FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID |
	    FUSE_SET_ATTR_GID | FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME))) {
		rec_init(&r, CDP_T_SETATTR);
		inode_path(fs, i, fd, r.path);
		if (valid & FUSE_SET_ATTR_MODE)
			r.rflags |= CDP_ATTR_MODE;
		if (valid & FUSE_SET_ATTR_UID)
			r.rflags |= CDP_ATTR_UID;
		if (valid & FUSE_SET_ATTR_GID)
			r.rflags |= CDP_ATTR_GID;
		if (valid & FUSE_SET_ATTR_ATIME)
			r.rflags |= CDP_ATTR_ATIME;
		if (valid & FUSE_SET_ATTR_MTIME)
			r.rflags |= CDP_ATTR_MTIME;
		r.mode = st.st_mode & 07777;
		r.uid = st.st_uid;
		r.gid = st.st_gid;
		r.atime_ns = (int64_t)st.st_atim.tv_sec * 1000000000 +
		    st.st_atim.tv_nsec;
		r.mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 +
		    st.st_mtim.tv_nsec;
		/* A failed step leaves the ones before it done: journal
		 * what the object has. */
		journal(fs, &r);
	}
	if (res == -1)
		res = errno;
	pthread_mutex_unlock(&i->m);
	pthread_rwlock_unlock(&fs->ns);
	if (res != 0)
		fuse_reply_err(req, res);
	else
		fuse_reply_attr(req, &st, TIMEOUT);
}

static void
tf_readlink(fuse_req_t req, fuse_ino_t ino)
{
	char buf[PATH_MAX + 1];
	ssize_t n;

	n = readlinkat(get_inode(FS(req), ino)->fd, "", buf, sizeof(buf) - 1);
	if (n == -1)
		fuse_reply_err(req, errno);
	else {
		buf[n] = '\0';
		fuse_reply_readlink(req, buf);
	}
}

/*
 * After a new object appeared in parent as name: give it to the user who
 * asked, journal rec (path filled in here) and its owner, answer the
 * entry.  Caller holds ns exclusively.
 */
static void
created(fuse_req_t req, fuse_ino_t parent, const char *name,
    struct cdp_record *r, struct fuse_file_info *fi)
{
	struct tfs *fs = FS(req);
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct fuse_entry_param e;
	struct stat dst;
	int err, dfd = get_inode(fs, parent)->fd;
	gid_t gid = ctx->gid;

	if (fstatat(dfd, "", &dst, AT_EMPTY_PATH) == 0 &&
	    (dst.st_mode & S_ISGID))
		gid = (gid_t)-1;
	if ((ctx->uid != geteuid() || gid != (gid_t)-1) &&
	    fchownat(dfd, name, ctx->uid, gid, AT_SYMLINK_NOFOLLOW) == -1) {
		err = errno;
		goto fail;
	}
	if ((err = do_lookup(fs, parent, name, &e)) != 0)
		goto fail;
	if (child_path(fs, parent, name, r->path) == 0) {
		if (r->type == CDP_T_CREATE || r->type == CDP_T_MKDIR)
			r->mode = (r->type == CDP_T_CREATE ?
			    (e.attr.st_mode & S_IFMT) : 0) |
			    (e.attr.st_mode & 07777);
		journal(fs, r);
		journal_owner(fs, r->path, &e.attr);
	}
	ns_changed(fs);
	pthread_rwlock_unlock(&fs->ns);
	if (fi != NULL)
		fuse_reply_create(req, &e, fi);
	else
		fuse_reply_entry(req, &e);
	return;
fail:
	/* It exists, but we cannot hand it over: take it back. */
	unlinkat(dfd, name, r->type == CDP_T_MKDIR ? AT_REMOVEDIR : 0);
	pthread_rwlock_unlock(&fs->ns);
	if (fi != NULL)
		close(FH_FD(fi));
	fuse_reply_err(req, err);
}

static void
tf_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
    dev_t rdev)
{
	struct tfs *fs = FS(req);
	struct cdp_record r;
	int dfd = get_inode(fs, parent)->fd;

	rec_init(&r, CDP_T_CREATE);
	pthread_rwlock_wrlock(&fs->ns);
	if (mknodat(dfd, name, mode, rdev) == -1) {
		pthread_rwlock_unlock(&fs->ns);
		fuse_reply_err(req, errno);
		return;
	}
	if (!S_ISREG(mode) && !S_ISFIFO(mode))
		r.type = 0;	/* devices and sockets: no record (v1) */
	if (r.type == 0) {
		struct fuse_entry_param e;
		int err = do_lookup(fs, parent, name, &e);

		ns_changed(fs);
		pthread_rwlock_unlock(&fs->ns);
		if (err != 0)
			fuse_reply_err(req, err);
		else
			fuse_reply_entry(req, &e);
		return;
	}
	created(req, parent, name, &r, NULL);
}

static void
tf_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	struct tfs *fs = FS(req);
	struct cdp_record r;

	rec_init(&r, CDP_T_MKDIR);
	pthread_rwlock_wrlock(&fs->ns);
	if (mkdirat(get_inode(fs, parent)->fd, name, mode) == -1) {
		pthread_rwlock_unlock(&fs->ns);
		fuse_reply_err(req, errno);
		return;
	}
	created(req, parent, name, &r, NULL);
}

static void
tf_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
    const char *name)
{
	struct tfs *fs = FS(req);
	struct cdp_record r;

	rec_init(&r, CDP_T_SYMLINK);
	if (strlen(link) > CDP_PATH_MAX) {
		fuse_reply_err(req, ENAMETOOLONG);
		return;
	}
	strcpy(r.path2, link);
	pthread_rwlock_wrlock(&fs->ns);
	if (symlinkat(link, get_inode(fs, parent)->fd, name) == -1) {
		pthread_rwlock_unlock(&fs->ns);
		fuse_reply_err(req, errno);
		return;
	}
	created(req, parent, name, &r, NULL);
}

static void
tf_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
    const char *newname)
{
	struct tfs *fs = FS(req);
	struct inode *i = get_inode(fs, ino);
	struct fuse_entry_param e;
	struct cdp_record r;
	int err, jr;

	rec_init(&r, CDP_T_LINK);
	pthread_rwlock_wrlock(&fs->ns);
	jr = fd_path(fs, i->fd, r.path);
	if (linkat(i->fd, "", get_inode(fs, newparent)->fd, newname,
	    AT_EMPTY_PATH) == -1) {
		err = errno;
		pthread_rwlock_unlock(&fs->ns);
		fuse_reply_err(req, err);
		return;
	}
	/* LINK: existing in path, the new name in path2. */
	if (jr == 0 && child_path(fs, newparent, newname, r.path2) == 0)
		journal(fs, &r);
	err = do_lookup(fs, newparent, newname, &e);
	ns_changed(fs);
	pthread_rwlock_unlock(&fs->ns);
	if (err != 0)
		fuse_reply_err(req, err);
	else
		fuse_reply_entry(req, &e);
}

static void
remove_name(fuse_req_t req, fuse_ino_t parent, const char *name, int dir)
{
	struct tfs *fs = FS(req);
	struct cdp_record r;
	int jr, err = 0;

	rec_init(&r, dir ? CDP_T_RMDIR : CDP_T_UNLINK);
	pthread_rwlock_wrlock(&fs->ns);
	jr = child_path(fs, parent, name, r.path);
	if (unlinkat(get_inode(fs, parent)->fd, name,
	    dir ? AT_REMOVEDIR : 0) == -1)
		err = errno;
	else {
		if (jr == 0)
			journal(fs, &r);
		ns_changed(fs);
	}
	pthread_rwlock_unlock(&fs->ns);
	fuse_reply_err(req, err);
}

static void
tf_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	remove_name(req, parent, name, 0);
}

static void
tf_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	remove_name(req, parent, name, 1);
}

static void
tf_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
    fuse_ino_t newparent, const char *newname, unsigned int flags)
{
	struct tfs *fs = FS(req);
	struct cdp_record r;
	int jr, err = 0;

	rec_init(&r, CDP_T_RENAME);
	r.rflags = flags;
	pthread_rwlock_wrlock(&fs->ns);
	jr = child_path(fs, parent, name, r.path) |
	    child_path(fs, newparent, newname, r.path2);
	if (renameat2(get_inode(fs, parent)->fd, name,
	    get_inode(fs, newparent)->fd, newname, flags) == -1)
		err = errno;
	else {
		if (jr == 0)
			journal(fs, &r);
		ns_changed(fs);
	}
	pthread_rwlock_unlock(&fs->ns);
	fuse_reply_err(req, err);
}

/* Open flags for SOURCE: the kernel resolved the name already. */
static int
open_flags(int flags)
{
	return (flags & ~(O_NOFOLLOW | O_CREAT | O_EXCL)) | O_CLOEXEC;
}

static void
tf_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct tfs *fs = FS(req);
	struct inode *i = get_inode(fs, ino);
	struct cdp_record r;
	char proc[64];
	int fd, trunc = (fi->flags & O_TRUNC) && (fi->flags & O_ACCMODE);

	proc_name(proc, sizeof(proc), i->fd);
	if (trunc) {
		pthread_rwlock_rdlock(&fs->ns);
		pthread_mutex_lock(&i->m);
	}
	fd = open(proc, open_flags(fi->flags));
	if (fd != -1 && trunc) {
		rec_init(&r, CDP_T_TRUNCATE);
		if (inode_path(fs, i, fd, r.path) == 0) {
			pthread_mutex_lock(&fs->out_m);
			put_locked(fs, &r);
			if (kill_suidgid)
				kill_sxid(fs, fd, r.path);
			pthread_mutex_unlock(&fs->out_m);
		}
	}
	if (trunc) {
		pthread_mutex_unlock(&i->m);
		pthread_rwlock_unlock(&fs->ns);
	}
	if (fd == -1) {
		fuse_reply_err(req, errno);
		return;
	}
	set_fh(fs, fi, fd);
	if (fuse_reply_open(req, fi) == -ENOENT)
		close(fd);
}

static void
tf_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
    struct fuse_file_info *fi)
{
	struct tfs *fs = FS(req);
	struct cdp_record r;
	int fd, dfd = get_inode(fs, parent)->fd;

	rec_init(&r, CDP_T_CREATE);
	pthread_rwlock_wrlock(&fs->ns);
	fd = openat(dfd, name, open_flags(fi->flags) | O_CREAT | O_EXCL |
	    O_NOFOLLOW, mode);
	if (fd == -1 && errno == EEXIST && !(fi->flags & O_EXCL)) {
		/* It appeared meanwhile (not through us): open it. */
		struct fuse_entry_param e;
		int err;

		fd = openat(dfd, name, open_flags(fi->flags) | O_NOFOLLOW);
		if (fd != -1 && (fi->flags & O_TRUNC) &&
		    child_path(fs, parent, name, r.path) == 0) {
			r.type = CDP_T_TRUNCATE;
			journal(fs, &r);
		}
		err = fd == -1 ? errno : do_lookup(fs, parent, name, &e);
		pthread_rwlock_unlock(&fs->ns);
		if (err != 0) {
			if (fd != -1)
				close(fd);
			fuse_reply_err(req, err);
			return;
		}
		set_fh(fs, fi, fd);
		fuse_reply_create(req, &e, fi);
		return;
	}
	if (fd == -1) {
		pthread_rwlock_unlock(&fs->ns);
		fuse_reply_err(req, errno);
		return;
	}
	set_fh(fs, fi, fd);
	created(req, parent, name, &r, fi);
}

static void
tf_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
    struct fuse_file_info *fi)
{
	struct fuse_bufvec buf = FUSE_BUFVEC_INIT(size);

	(void)ino;
	buf.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	buf.buf[0].fd = FH_FD(fi);
	buf.buf[0].pos = off;
	fuse_reply_data(req, &buf, FUSE_BUF_SPLICE_MOVE);
}

static void
tf_write(fuse_req_t req, fuse_ino_t ino, const char *data, size_t size,
    off_t off, struct fuse_file_info *fi)
{
	struct tfs *fs = FS(req);
	struct inode *i = get_inode(fs, ino);
	struct cdp_record r;
	struct stat st;
	ssize_t n;
	int fd = FH_FD(fi);

	pthread_rwlock_rdlock(&fs->ns);
	pthread_mutex_lock(&i->m);
	n = pwrite(fd, data, size, off);
	if (n == -1) {
		pthread_mutex_unlock(&i->m);
		pthread_rwlock_unlock(&fs->ns);
		fuse_reply_err(req, errno);
		return;
	}
	rec_init(&r, CDP_T_WRITE);
	r.off = (uint64_t)off;
	/* In append mode the data landed at the end. */
	if (FH_APPEND(fi) && n > 0 && fstat(fd, &st) == 0)
		r.off = (uint64_t)st.st_size - (uint64_t)n;
	r.data = (const uint8_t *)data;
	r.data_len = (size_t)n;
	if (n == 0 || inode_path(fs, i, fd, r.path) == -1) {
		pthread_mutex_unlock(&i->m);
		pthread_rwlock_unlock(&fs->ns);
		fuse_reply_write(req, (size_t)n);
		return;
	}
	/*
	 * Answer, then append the record (for a large write, the copy into
	 * the journal): the application's next write reaches SOURCE while
	 * this record is written out.  The journal lock, taken before the
	 * answer, keeps every change that follows the answer after this
	 * record, and an fsync waits for it; data stays ours until we return.
	 */
	pthread_mutex_lock(&fs->out_m);
	if (kill_suidgid)
		kill_sxid(fs, fd, r.path);	/* before the answer */
	fuse_reply_write(req, (size_t)n);
	put_locked(fs, &r);
	pthread_mutex_unlock(&fs->out_m);
	pthread_mutex_unlock(&i->m);
	pthread_rwlock_unlock(&fs->ns);
}

static void
tf_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	int fd;

	(void)ino;
	/* Closing a duplicate drops the POSIX locks, as close(2) would. */
	fd = dup(FH_FD(fi));
	fuse_reply_err(req, fd == -1 ? errno : close(fd) == -1 ? errno : 0);
}

static void
tf_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	close(FH_FD(fi));
	fuse_reply_err(req, 0);
}

/* fsync(2) on SOURCE, then an FSYNC record that is out before we answer. */
static void
sync_common(fuse_req_t req, fuse_ino_t ino, int datasync, int fd)
{
	struct tfs *fs = FS(req);
	struct cdp_record r;
	int res;

	res = datasync ? fdatasync(fd) : fsync(fd);
	if (res == -1) {
		fuse_reply_err(req, errno);
		return;
	}
	rec_init(&r, CDP_T_FSYNC);
	r.rflags = datasync ? 1 : 0;
	pthread_rwlock_rdlock(&fs->ns);
	res = fd_path(fs, get_inode(fs, ino)->fd, r.path);
	pthread_rwlock_unlock(&fs->ns);
	if (res == 0)
		journal_sync(fs, &r);
	fuse_reply_err(req, 0);
}

static void
tf_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
    struct fuse_file_info *fi)
{
	sync_common(req, ino, datasync, FH_FD(fi));
}

static void
tf_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct dirh *d;
	int fd, err;

	if ((d = calloc(1, sizeof(*d))) == NULL) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	fd = openat(get_inode(FS(req), ino)->fd, ".",
	    O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1 || (d->dp = fdopendir(fd)) == NULL) {
		err = errno;
		if (fd != -1)
			close(fd);
		free(d);
		fuse_reply_err(req, err);
		return;
	}
	fi->fh = (uint64_t)(uintptr_t)d;
	fuse_reply_open(req, fi);
}

static void
tf_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
    struct fuse_file_info *fi)
{
	struct dirh *d = (struct dirh *)(uintptr_t)fi->fh;
	struct stat st;
	char *buf, *p;
	size_t rem = size, n;

	(void)ino;
	if ((buf = malloc(size)) == NULL) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if (off != d->off) {
		seekdir(d->dp, off);
		d->ent = NULL;
		d->off = off;
	}
	for (p = buf;;) {
		if (d->ent == NULL) {
			errno = 0;
			if ((d->ent = readdir(d->dp)) == NULL)
				break;
		}
		memset(&st, 0, sizeof(st));
		st.st_ino = d->ent->d_ino;
		st.st_mode = (mode_t)d->ent->d_type << 12;
		n = fuse_add_direntry(req, p, rem, d->ent->d_name, &st,
		    d->ent->d_off);
		if (n > rem)
			break;
		p += n;
		rem -= n;
		d->off = d->ent->d_off;
		d->ent = NULL;
	}
	fuse_reply_buf(req, buf, size - rem);
	free(buf);
}

static void
tf_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct dirh *d = (struct dirh *)(uintptr_t)fi->fh;

	(void)ino;
	closedir(d->dp);
	free(d);
	fuse_reply_err(req, 0);
}

static void
tf_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync,
    struct fuse_file_info *fi)
{
	struct dirh *d = (struct dirh *)(uintptr_t)fi->fh;

	sync_common(req, ino, datasync, dirfd(d->dp));
}

static void
tf_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs sv;

	if (fstatvfs(get_inode(FS(req), ino)->fd, &sv) == -1)
		fuse_reply_err(req, errno);
	else
		fuse_reply_statfs(req, &sv);
}

static void
xattr_change(fuse_req_t req, fuse_ino_t ino, const char *name,
    const char *value, size_t size, int flags, int remove)
{
	struct tfs *fs = FS(req);
	struct inode *i = get_inode(fs, ino);
	struct cdp_record r;
	struct stat st;
	char proc[64];
	int res, jr;

	proc_name(proc, sizeof(proc), i->fd);
	rec_init(&r, remove ? CDP_T_REMOVEXATTR : CDP_T_SETXATTR);
	pthread_rwlock_rdlock(&fs->ns);
	pthread_mutex_lock(&i->m);
	jr = inode_path(fs, i, i->fd, r.path);
	res = remove ? removexattr(proc, name) :
	    setxattr(proc, name, value, size, flags);
	if (res == -1)
		res = errno;
	else if (jr == 0) {
		snprintf(r.name, sizeof(r.name), "%s", name);
		r.data = (const uint8_t *)value;
		r.data_len = remove ? 0 : size;
		journal(fs, &r);
		/* An access ACL sets the mode bits too (cp -a does it so). */
		if (strcmp(name, "system.posix_acl_access") == 0 &&
		    fstatat(i->fd, "", &st, AT_EMPTY_PATH |
		    AT_SYMLINK_NOFOLLOW) == 0) {
			rec_init(&r, CDP_T_SETATTR);
			inode_path(fs, i, i->fd, r.path);
			r.rflags = CDP_ATTR_MODE;
			r.mode = st.st_mode & 07777;
			journal(fs, &r);
		}
	}
	pthread_mutex_unlock(&i->m);
	pthread_rwlock_unlock(&fs->ns);
	fuse_reply_err(req, res);
}

static void
tf_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
    const char *value, size_t size, int flags)
{
	xattr_change(req, ino, name, value, size, flags, 0);
}

static void
tf_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	xattr_change(req, ino, name, NULL, 0, 0, 1);
}

/* getxattr and listxattr: size 0 asks for the size. */
static void
xattr_reply(fuse_req_t req, ssize_t n, char *buf, size_t size)
{
	if (n == -1)
		fuse_reply_err(req, errno);
	else if (size == 0)
		fuse_reply_xattr(req, (size_t)n);
	else
		fuse_reply_buf(req, buf, (size_t)n);
	free(buf);
}

static void
tf_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	char proc[64], *buf = NULL;

	proc_name(proc, sizeof(proc), get_inode(FS(req), ino)->fd);
	if (size > 0 && (buf = malloc(size)) == NULL) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	xattr_reply(req, getxattr(proc, name, buf, size), buf, size);
}

static void
tf_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	char proc[64], *buf = NULL;

	proc_name(proc, sizeof(proc), get_inode(FS(req), ino)->fd);
	if (size > 0 && (buf = malloc(size)) == NULL) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	xattr_reply(req, listxattr(proc, buf, size), buf, size);
}

static void
tf_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t off,
    off_t len, struct fuse_file_info *fi)
{
	struct tfs *fs = FS(req);
	struct inode *i = get_inode(fs, ino);
	struct cdp_record r;
	int fd = FH_FD(fi), err = 0;

	pthread_rwlock_rdlock(&fs->ns);
	pthread_mutex_lock(&i->m);
	if (fallocate(fd, mode, off, len) == -1)
		err = errno;
	else {
		rec_init(&r, CDP_T_FALLOCATE);
		r.mode = (uint32_t)mode;
		r.off = (uint64_t)off;
		r.len = (uint64_t)len;
		if (inode_path(fs, i, fd, r.path) == 0)
			journal(fs, &r);
	}
	pthread_mutex_unlock(&i->m);
	pthread_rwlock_unlock(&fs->ns);
	fuse_reply_err(req, err);
}

/* Journal what landed in fd at [off, off + len): read it back. */
static void
journal_landed(struct tfs *fs, struct inode *i, int fd, off_t off,
    size_t len)
{
	struct cdp_record r;
	char proc[64], *buf;
	ssize_t n;
	int rfd;

	/* fd may be write-only: read through a descriptor of our own. */
	proc_name(proc, sizeof(proc), fd);
	if ((rfd = open(proc, O_RDONLY | O_CLOEXEC)) == -1)
		return;
	if ((buf = malloc(MAX_WRITE)) == NULL) {
		close(rfd);
		return;
	}
	while (len > 0) {
		n = pread(rfd, buf, len < MAX_WRITE ? len : MAX_WRITE, off);
		if (n <= 0)
			break;
		rec_init(&r, CDP_T_WRITE);
		if (inode_path(fs, i, fd, r.path) == -1)
			break;
		r.off = (uint64_t)off;
		r.data = (const uint8_t *)buf;
		r.data_len = (size_t)n;
		journal(fs, &r);
		off += n;
		len -= (size_t)n;
	}
	free(buf);
	close(rfd);
}

static void
tf_copy_file_range(fuse_req_t req, fuse_ino_t ino_in, off_t off_in,
    struct fuse_file_info *fi_in, fuse_ino_t ino_out, off_t off_out,
    struct fuse_file_info *fi_out, size_t len, int flags)
{
	struct tfs *fs = FS(req);
	struct inode *o = get_inode(fs, ino_out);
	off_t start = off_out;
	ssize_t n;

	(void)ino_in;
	pthread_rwlock_rdlock(&fs->ns);
	pthread_mutex_lock(&o->m);
	n = copy_file_range(FH_FD(fi_in), &off_in, FH_FD(fi_out), &off_out,
	    len, (unsigned)flags);
	if (n > 0)
		journal_landed(fs, o, FH_FD(fi_out), start, (size_t)n);
	pthread_mutex_unlock(&o->m);
	pthread_rwlock_unlock(&fs->ns);
	if (n == -1)
		fuse_reply_err(req, errno);
	else
		fuse_reply_write(req, (size_t)n);
}

static void
tf_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence,
    struct fuse_file_info *fi)
{
	off_t res;

	(void)ino;
	if ((res = lseek(FH_FD(fi), off, whence)) == -1)
		fuse_reply_err(req, errno);
	else
		fuse_reply_lseek(req, res);
}

static const struct fuse_lowlevel_ops tf_ops = {
	.init = tf_init,
	.lookup = tf_lookup,
	.forget = tf_forget,
	.forget_multi = tf_forget_multi,
	.getattr = tf_getattr,
	.setattr = tf_setattr,
	.readlink = tf_readlink,
	.mknod = tf_mknod,
	.mkdir = tf_mkdir,
	.unlink = tf_unlink,
	.rmdir = tf_rmdir,
	.symlink = tf_symlink,
	.rename = tf_rename,
	.link = tf_link,
	.open = tf_open,
	.read = tf_read,
	.write = tf_write,
	.flush = tf_flush,
	.release = tf_release,
	.fsync = tf_fsync,
	.opendir = tf_opendir,
	.readdir = tf_readdir,
	.releasedir = tf_releasedir,
	.fsyncdir = tf_fsyncdir,
	.statfs = tf_statfs,
	.setxattr = tf_setxattr,
	.getxattr = tf_getxattr,
	.listxattr = tf_listxattr,
	.removexattr = tf_removexattr,
	.create = tf_create,
	.fallocate = tf_fallocate,
	.copy_file_range = tf_copy_file_range,
	.lseek = tf_lseek,
};

/*
 * The session's I/O on /dev/fuse: plain read, writev and splice, and two
 * additions to the INIT reply that libfuse 3.14 cannot ask for.
 *
 * FUSE_DIRECT_IO_ALLOW_MMAP (Linux 6.6): files may then be opened in
 * direct I/O mode and still be mapped shared (SQLite's WAL index is).  A
 * write then goes from the application's buffer straight to us, instead
 * of being copied into the mount's page cache first, and the mount keeps
 * no second copy of what SOURCE's page cache holds: a 1 MiB write costs
 * half as much before its journaling.  Without it (older kernels) files
 * stay cached, as direct I/O would refuse shared mappings.
 *
 * FUSE_HANDLE_KILLPRIV_V2.  With it the kernel marks a file found with no
 * setuid bit and no capability (S_NOSEC) and stops asking us for
 * security.capability before each write: half the round trips of a small
 * write.  What v2 leaves to us, clearing setuid/setgid and the capability
 * on write, truncate and open with O_TRUNC, we do when the request asks
 * (kill_sxid); on chown SOURCE's kernel does it for us.
 */
static ssize_t
io_read(int fd, void *buf, size_t len, void *userdata)
{
	struct tfs *fs = userdata;
	const struct fuse_in_header *h = buf;
	const struct fuse_init_in *in = (const void *)(h + 1);
	ssize_t n;

	n = read(fd, buf, len);
	kill_suidgid = 0;
	if (n < (ssize_t)sizeof(*h))
		return n;
	if (h->opcode == FUSE_WRITE && (size_t)n >= sizeof(*h) +
	    sizeof(struct fuse_write_in))
		kill_suidgid = ((const struct fuse_write_in *)(h + 1))->
		    write_flags & FUSE_WRITE_KILL_SUIDGID;
	else if (h->opcode == FUSE_SETATTR && (size_t)n >= sizeof(*h) +
	    sizeof(struct fuse_setattr_in))
		kill_suidgid = ((const struct fuse_setattr_in *)(h + 1))->
		    valid & FATTR_KILL_SUIDGID;
	else if (h->opcode == FUSE_OPEN && (size_t)n >= sizeof(*h) +
	    sizeof(struct fuse_open_in))
		kill_suidgid = ((const struct fuse_open_in *)(h + 1))->
		    open_flags & FUSE_OPEN_KILL_SUIDGID;
	if (!fs->init_seen && n >= (ssize_t)(sizeof(*h) + 16) &&
	    h->opcode == FUSE_INIT) {
		fs->init_unique = h->unique;
		fs->init_flags = in->flags;
		if ((in->flags & FUSE_INIT_EXT) &&
		    n >= (ssize_t)(sizeof(*h) + 20))
			fs->init_flags2 = in->flags2;
		fs->init_seen = 1;
	}
	return n;
}

static ssize_t
io_writev(int fd, struct iovec *iov, int count, void *userdata)
{
	struct tfs *fs = userdata;
	const struct fuse_out_header *h = iov[0].iov_base;
	struct fuse_init_out *out;

	/* The INIT reply is answered before any other request is read. */
	if (fs->init_seen == 1 && count >= 2 &&
	    iov[0].iov_len >= sizeof(*h) && h->unique == fs->init_unique) {
		fs->init_seen = 2;
		out = iov[1].iov_base;
		if (h->error == 0 && iov[1].iov_len >= 16 &&
		    (fs->init_flags & FUSE_HANDLE_KILLPRIV_V2))
			out->flags |= FUSE_HANDLE_KILLPRIV_V2;
		if (h->error == 0 && iov[1].iov_len >= 36 &&
		    (fs->init_flags2 & (FUSE_DIRECT_IO_ALLOW_MMAP >> 32))) {
			out->flags |= FUSE_INIT_EXT;
			out->flags2 |= FUSE_DIRECT_IO_ALLOW_MMAP >> 32;
			fs->direct_io = 1;
		}
		if (fs->a->verbose)
			warnx("%s: files open for writing %s", fs->a->mountpoint,
			    fs->direct_io ? "bypass the mount's page cache "
			    "(direct I/O)" : "go through the mount's page cache "
			    "(no FUSE_DIRECT_IO_ALLOW_MMAP: Linux before 6.6)");
	}
	return writev(fd, iov, count);
}

static ssize_t
io_splice(int fdin, off_t *offin, int fdout, off_t *offout, size_t len,
    unsigned int flags, void *userdata)
{
	(void)userdata;
	return splice(fdin, offin, fdout, offout, len, flags);
}

static const struct fuse_custom_io tf_io = {
	.writev = io_writev,
	.read = io_read,
	.splice_receive = io_splice,
	.splice_send = io_splice,
};

/* The service thread: marks, heartbeats, writing out what is buffered. */

static void
report_failure(struct tfs *fs)
{
	if (fs->failed && !fs->told) {
		errno = fs->fail_errno;
		warn("%s: write (the mount goes on, not journaled)",
		    fs->a->output);
		fs->told = 1;
	}
}

static void *
service(void *arg)
{
	struct tfs *fs = arg;
	char name[CDP_CONTROL_LINE_MAX];
	struct pollfd pfd = { .fd = fs->a->lfd, .events = POLLIN };
	int cfd;

	while (!__atomic_load_n(&fs->stop, __ATOMIC_ACQUIRE)) {
		poll(&pfd, 1, POLL_MS);
		pthread_mutex_lock(&fs->out_m);
		while ((cfd = cdp_control_accept(fs->a->lfd, name)) != -1 ||
		    errno == EBADMSG) {
			if (cfd == -1)
				continue;
			if (fs->failed)
				cdp_control_answer(cfd, 0,
				    "the journal output failed");
			else
				cdp_tapout_mark(fs->a->tap, cfd, name,
				    fs->pos);
		}
		if (!fs->failed && cdp_tapout_idle(fs->a->tap, fs->pos,
		    fs->a->heartbeat) == -1) {
			fs->failed = 1;
			fs->fail_errno = errno;
			cdp_tapout_abort(fs->a->tap,
			    "the journal output failed");
		}
		report_failure(fs);
		pthread_mutex_unlock(&fs->out_m);
	}
	return NULL;
}

/* Checks. */

static int
inside(const char *a, const char *b)	/* a is b or below it */
{
	size_t n = strlen(b);

	if (n == 1)
		return 1;
	return strncmp(a, b, n) == 0 && (a[n] == '\0' || a[n] == '/');
}

void
tap_fuse_check(struct tap_fuse_args *a, const char *source,
    const char *mountpoint, const char *synopsis)
{
	struct stat st, up;
	struct statvfs sv;
	char parent[PATH_MAX + 4];
	int fd;

	if (stat(source, &st) == -1 || realpath(source, a->source) == NULL)
		cdp_cli_usage(synopsis, "%s: %s", source, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		cdp_cli_usage(synopsis, "%s: %s", source, strerror(ENOTDIR));
	/* statfs reaches a FUSE daemon even when attributes are cached. */
	if (statvfs(mountpoint, &sv) == -1 || stat(mountpoint, &st) == -1) {
		if (errno == ENOTCONN)
			errx(CDP_EXIT_FAIL, "%s: a stale FUSE mount (its tap "
			    "was killed); clear it with: fusermount3 -uz %s",
			    mountpoint, mountpoint);
		cdp_cli_usage(synopsis, "%s: %s", mountpoint,
		    strerror(errno));
	}
	if (!S_ISDIR(st.st_mode))
		cdp_cli_usage(synopsis, "%s: %s", mountpoint,
		    strerror(ENOTDIR));
	if (realpath(mountpoint, a->mountpoint) == NULL)
		cdp_cli_usage(synopsis, "%s: %s", mountpoint,
		    strerror(errno));
	if (inside(a->mountpoint, a->source) ||
	    inside(a->source, a->mountpoint))
		cdp_cli_usage(synopsis, "%s: %s: one holds the other", source,
		    mountpoint);
	snprintf(parent, sizeof(parent), "%s/..", a->mountpoint);
	if (strcmp(a->mountpoint, "/") == 0 || (stat(parent, &up) == 0 &&
	    (up.st_dev != st.st_dev || up.st_ino == st.st_ino)))
		errx(CDP_EXIT_FAIL, "%s: busy: something is mounted there "
		    "already", mountpoint);
	if ((fd = open("/dev/fuse", O_RDWR | O_CLOEXEC)) == -1)
		err(CDP_EXIT_FAIL, "/dev/fuse");
	close(fd);
}

/* Running. */

static struct fuse_session *
mount_fs(struct tfs *fs)
{
	struct tap_fuse_args *a = fs->a;
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct fuse_session *se;
	char opts[PATH_MAX + 512];
	int fsname = strpbrk(a->source, ",\\") == NULL;

	snprintf(opts, sizeof(opts), "allow_other,default_permissions,"
	    "subtype=cdp-tap%s%s%s%s", fsname ? ",fsname=" : "",
	    fsname ? a->source : "", a->mount_opts ? "," : "",
	    a->mount_opts ? a->mount_opts : "");
	if (fuse_opt_add_arg(&args, "cdp-tap") == -1 ||
	    fuse_opt_add_arg(&args, "-o") == -1 ||
	    fuse_opt_add_arg(&args, opts) == -1) {
		fuse_opt_free_args(&args);
		return NULL;
	}
	se = fuse_session_new(&args, &tf_ops, sizeof(tf_ops), fs);
	fuse_opt_free_args(&args);
	if (se == NULL) {
		warnx("--mount-opts: %s: not accepted", a->mount_opts ?
		    a->mount_opts : "");
		return NULL;
	}
	if (fuse_session_mount(se, a->mountpoint) == -1) {
		warnx("%s: cannot mount", a->mountpoint);
		fuse_session_destroy(se);
		return NULL;
	}
	if (fuse_session_custom_io(se, &tf_io, fuse_session_fd(se)) != 0) {
		warnx("%s: cannot set up the session", a->mountpoint);
		fuse_session_unmount(se);
		fuse_session_destroy(se);
		return NULL;
	}
	return se;
}

static int
fs_init(struct tfs *fs, struct tap_fuse_args *a)
{
	struct stat st;
	pthread_rwlockattr_t ra;

	memset(fs, 0, sizeof(*fs));
	fs->a = a;
	fs->srclen = strlen(a->source);
	if ((fs->root.fd = open(a->source, O_PATH | O_CLOEXEC)) == -1 ||
	    fstat(fs->root.fd, &st) == -1) {
		warn("%s", a->source);
		return -1;
	}
	fs->dev = st.st_dev;
	fs->root.dev = st.st_dev;
	fs->root.ino = st.st_ino;
	fs->root.nlookup = 2;
	pthread_mutex_init(&fs->root.m, NULL);
	pthread_mutex_init(&fs->itab_m, NULL);
	pthread_mutex_init(&fs->out_m, NULL);
	/* Writers first: a stream of writes must not starve a rename. */
	pthread_rwlockattr_init(&ra);
	pthread_rwlockattr_setkind_np(&ra,
	    PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&fs->ns, &ra);
	pthread_rwlockattr_destroy(&ra);
	if ((fs->bucket = calloc(NBUCKETS, sizeof(*fs->bucket))) == NULL) {
		warn("malloc");
		return -1;
	}
	return 0;
}

static void
fs_free(struct tfs *fs)
{
	struct inode *i;
	size_t h;

	for (h = 0; fs->bucket != NULL && h < NBUCKETS; h++)
		while ((i = fs->bucket[h]) != NULL) {
			fs->bucket[h] = i->next;
			inode_free(i);
		}
	free(fs->bucket);
	if (fs->root.fd != -1)
		close(fs->root.fd);
	free(fs->root.path);
}

int
tap_fuse_run(struct tap_fuse_args *a)
{
	struct fuse_loop_config *cfg;
	struct fuse_session *se;
	struct tfs fs;
	sigset_t all, old;
	pthread_t th;
	int rc = CDP_EXIT_OK, brc;

	/* Objects are created with the mode the kernel passes (umasked). */
	umask(0);
	if (fs_init(&fs, a) == -1) {
		fs_free(&fs);
		return CDP_EXIT_FAIL;
	}
	if ((se = mount_fs(&fs)) == NULL) {
		fs_free(&fs);
		return CDP_EXIT_FAIL;
	}
	if (fuse_set_signal_handlers(se) == -1) {
		rc = CDP_EXIT_FAIL;
		goto out;
	}
	/* The baseline is in the stream before the first request is served. */
	if (a->baseline != NULL && (brc = a->baseline(a->baseline_arg)) < 0) {
		if (brc == -2)
			warn("%s: write", a->output);
		rc = CDP_EXIT_FAIL;
		goto out_signals;
	}
	if (a->verbose)
		warnx("%s mounted at %s", a->source, a->mountpoint);
	/* Signals go to the loop (this thread), not to the service thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	if ((errno = pthread_create(&th, NULL, service, &fs)) != 0) {
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		warn("pthread_create");
		rc = CDP_EXIT_FAIL;
		goto out_signals;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if ((cfg = fuse_loop_cfg_create()) == NULL) {
		warn("malloc");
		rc = CDP_EXIT_FAIL;
	} else {
		fuse_loop_cfg_set_clone_fd(cfg, 0);
		fuse_loop_cfg_set_max_threads(cfg, 16);
		/* Keep workers: each holds a 1 MiB request buffer. */
		fuse_loop_cfg_set_idle_threads(cfg, 16);
		if (fuse_session_loop_mt(se, cfg) < 0)
			rc = CDP_EXIT_FAIL;
		fuse_loop_cfg_destroy(cfg);
	}
	__atomic_store_n(&fs.stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
out_signals:
	fuse_remove_signal_handlers(se);
out:
	fuse_session_unmount(se);
	fuse_session_destroy(se);
	if (!fs.failed && cdp_tapout_end(a->tap) == -1) {
		fs.failed = 1;
		fs.fail_errno = errno;
	}
	report_failure(&fs);
	if (fs.failed)
		rc = CDP_EXIT_FAIL;
	if (fs.unjournaled > 0)
		warnx("%llu changes could not be journaled (a path or value "
		    "too long for the format)",
		    (unsigned long long)fs.unjournaled);
	if (a->verbose)
		warnx("%llu records, %llu bytes",
		    (unsigned long long)cdp_tapout_records(a->tap),
		    (unsigned long long)cdp_tapout_bytes(a->tap));
	fs_free(&fs);
	return rc;
}
