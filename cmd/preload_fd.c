/*
 * preload_fd.c: what each descriptor of this process is, and where paths
 * lead.
 *
 * A descriptor is resolved once, when it is opened (or inherited), with
 * readlink(2) of /proc/self/fd/N: the kernel's own canonical path, so
 * symlinks, "..", bind mounts of the root and the current directory all
 * come out right.  A write then costs one array lookup.  Entries are never
 * changed in place: a new one replaces the old, and the old one is freed
 * only much later (a graveyard of GRAVES entries), so that a thread still
 * reading it while another closes the descriptor does not read freed
 * memory.
 *
 * Paths that are not descriptors (unlink, rename, mkdir...) are resolved
 * through their parent directory, opened with O_PATH, so the last
 * component itself is never followed unless the call follows it.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cdp_path.h"
#include "preload_shim.h"

#define TABLE_FDS	(1 << 20)
#define GRAVES		1024

static _Atomic(struct fdent *) *table;
static char		 root[PATH_MAX];
static size_t		 root_len;
static _Atomic int	 max_fd = -1;
static struct fdent	*graves[GRAVES];
static _Atomic unsigned	 grave_next;

/* Present only when the program was built with LeakSanitizer. */
extern void __lsan_register_root_region(const void *, size_t)
    __attribute__((weak));

static int (*real_openat)(int, const char *, int, ...);
static int (*real_close)(int);

static void
bury(struct fdent *e)
{
	unsigned i;

	if (e == NULL)
		return;
	i = atomic_fetch_add(&grave_next, 1) % GRAVES;
	free(__atomic_exchange_n(&graves[i], e, __ATOMIC_ACQ_REL));
}

static void
put(int fd, struct fdent *e)
{
	int m;

	if (fd < 0 || fd >= TABLE_FDS || table == NULL) {
		free(e);
		return;
	}
	bury(atomic_exchange(&table[fd], e));
	m = atomic_load(&max_fd);
	while (e != NULL && fd > m && !atomic_compare_exchange_weak(&max_fd,
	    &m, fd))
		;
}

int
fd_max(void)
{
	return atomic_load(&max_fd);
}

const struct fdent *
fd_get(int fd)
{
	if (fd < 0 || fd >= TABLE_FDS || table == NULL)
		return NULL;
	return atomic_load_explicit(&table[fd], memory_order_acquire);
}

void
fd_forget(int fd)
{
	if (fd >= 0 && fd < TABLE_FDS && table != NULL)
		bury(atomic_exchange(&table[fd], NULL));
}

uint64_t
fd_key(const struct fdent *e)
{
	return cdp_ring_inode_key(e->dev, e->ino);
}

/* abs beneath the root: 1 with rel (valid journal path), else 0. */
int
fd_rel(const char *abs, char rel[CDP_PATH_MAX + 1])
{
	const char *why;
	size_t n;

	if (strncmp(abs, root, root_len) != 0)
		return 0;
	if (root_len == 1)		/* the root is "/" */
		abs += 1;
	else if (abs[root_len] == '/')
		abs += root_len + 1;
	else
		return 0;
	n = strlen(abs);
	if (n == 0 || n > CDP_PATH_MAX || cdp_path_check(abs, n, &why) == -1)
		return 0;
	memcpy(rel, abs, n + 1);
	return 1;
}

static int
fd_abs(int fd, char *buf, size_t size)
{
	char proc[64];
	ssize_t n;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, buf, size - 1);
	if (n <= 0 || (size_t)n >= size - 1 || buf[0] != '/')
		return -1;
	buf[n] = '\0';
	/* An unlinked file: nothing to journal under its old name. */
	if (n > 10 && strcmp(buf + n - 10, " (deleted)") == 0)
		return -1;
	return 0;
}

const struct fdent *
fd_track(int fd)
{
	char abs[PATH_MAX], rel[CDP_PATH_MAX + 1];
	struct fdent *e;
	struct stat st;
	int fl, saved = errno;
	size_t n;

	if (fd < 0 || fd >= TABLE_FDS || table == NULL || shim_own_fd(fd))
		goto none;
	if (fd_abs(fd, abs, sizeof(abs)) == -1 || !fd_rel(abs, rel) ||
	    fstat(fd, &st) == -1 || (fl = fcntl(fd, F_GETFL)) == -1)
		goto none;
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
		goto none;
	n = strlen(rel);
	if ((e = malloc(sizeof(*e) + n + 1)) == NULL)
		goto none;
	e->dev = st.st_dev;
	e->ino = st.st_ino;
	e->flags = (S_ISREG(st.st_mode) ? FD_REG : FD_DIR) |
	    ((fl & O_ACCMODE) != O_RDONLY ? FD_WRITE : 0) |
	    ((fl & O_APPEND) ? FD_APPEND : 0);
	e->plen = (uint16_t)n;
	memcpy(e->path, rel, n + 1);
	put(fd, e);
	errno = saved;
	return e;
none:
	fd_forget(fd);
	errno = saved;
	return NULL;
}

void
fd_dup(int oldfd, int newfd)
{
	const struct fdent *o = fd_get(oldfd);
	struct fdent *e;
	size_t size;

	if (o == NULL) {
		fd_forget(newfd);
		return;
	}
	size = sizeof(*o) + o->plen + 1;
	if ((e = malloc(size)) == NULL) {
		fd_forget(newfd);
		return;
	}
	memcpy(e, o, size);
	put(newfd, e);
}

/* Replace entry fd with the same one under a new path. */
static void
repath(int fd, const struct fdent *o, const char *p1, size_t n1,
    const char *p2)
{
	size_t n2 = strlen(p2), n = n1 + n2;
	struct fdent *e;

	if (n > CDP_PATH_MAX || (e = malloc(sizeof(*e) + n + 1)) == NULL) {
		fd_forget(fd);
		return;
	}
	*e = *o;
	memcpy(e->path, p1, n1);
	memcpy(e->path + n1, p2, n2 + 1);
	e->plen = (uint16_t)n;
	put(fd, e);
}

/* A path prefix: from itself, or anything beneath it. */
static size_t
under(const char *path, const char *from)
{
	size_t n = strlen(from);

	if (strncmp(path, from, n) == 0 && (path[n] == '\0' || path[n] == '/'))
		return n;
	return 0;
}

void
fd_renamed(const char *from, const char *to, int exchange)
{
	int fd, m = fd_max();
	const struct fdent *e;
	size_t n;

	for (fd = 0; fd <= m; fd++) {
		if ((e = fd_get(fd)) == NULL)
			continue;
		if ((n = under(e->path, from)) != 0)
			repath(fd, e, to, strlen(to), e->path + n);
		else if (exchange && (n = under(e->path, to)) != 0)
			repath(fd, e, from, strlen(from), e->path + n);
	}
}

void
fd_unlinked(const char *path)
{
	int fd, m = fd_max();
	const struct fdent *e;

	for (fd = 0; fd <= m; fd++)
		if ((e = fd_get(fd)) != NULL && under(e->path, path))
			fd_forget(fd);
}

int
fd_resolve(int dirfd, const char *path, int follow,
    char rel[CDP_PATH_MAX + 1])
{
	char abs[PATH_MAX], dir[PATH_MAX];
	const char *last;
	size_t n, dn, ln;
	int pfd, saved = errno, r = 0;

	if (path == NULL || table == NULL)
		return 0;
	REAL(openat);
	REAL(close);
	n = strlen(path);
	while (n > 1 && path[n - 1] == '/')
		n--;
	if (n == 0 || n >= sizeof(dir))
		return 0;
	memcpy(dir, path, n);
	dir[n] = '\0';
	last = strrchr(dir, '/');
	if (follow || strcmp(last ? last + 1 : dir, ".") == 0 ||
	    strcmp(last ? last + 1 : dir, "..") == 0) {
		/* The object itself, symlinks followed. */
		pfd = real_openat(dirfd, dir, O_PATH | O_CLOEXEC);
		if (pfd == -1)
			goto out;
		if (fd_abs(pfd, abs, sizeof(abs)) == 0)
			r = fd_rel(abs, rel);
		real_close(pfd);
		goto out;
	}
	if (last == NULL)
		pfd = real_openat(dirfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	else if (last == dir)
		pfd = real_openat(dirfd, "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	else {
		dir[last - dir] = '\0';
		pfd = real_openat(dirfd, dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	}
	last = last ? last + 1 : dir;
	if (pfd == -1)
		goto out;
	ln = strlen(last);
	if (fd_abs(pfd, abs, sizeof(abs)) == 0 &&
	    (dn = strlen(abs)) + ln + 2 <= sizeof(abs)) {
		if (dn > 1)
			abs[dn++] = '/';
		memmove(abs + dn, last, ln + 1);
		r = fd_rel(abs, rel);
	}
	real_close(pfd);
out:
	errno = saved;
	return r;
}

/*
 * Set up the table and learn the descriptors inherited from the parent
 * (a shell's "> file" redirection is opened before the program starts).
 */
void
fd_init(const char *r)
{
	DIR *d;
	struct dirent *de;
	void *p;

	if (realpath(r, root) == NULL)
		return;
	root_len = strlen(root);
	p = mmap(NULL, TABLE_FDS * sizeof(*table), PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return;
	table = p;
	/*
	 * LeakSanitizer does not look into anonymous mappings, so in a
	 * sanitized program the entries would look leaked; show it the table.
	 */
	if (__lsan_register_root_region != NULL)
		__lsan_register_root_region(p, TABLE_FDS * sizeof(*table));
	if ((d = opendir("/proc/self/fd")) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		int fd = atoi(de->d_name);

		if (de->d_name[0] != '.' && fd != dirfd(d))
			fd_track(fd);
	}
	closedir(d);
}
