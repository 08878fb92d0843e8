/*
 * tapwriter: programs that write files the hard ways, for the cdp-tap
 * tests (tests/e2e/2?_tap_*.sh).  Each mode is a small program:
 *
 *	tapwriter threads FILE N ITER	N threads pwrite overlapping blocks
 *	tapwriter fork FILE N ITER	the same with N processes
 *	tapwriter append FILE N ITER	N processes append lines (O_APPEND)
 *	tapwriter mmap FILE SIZE	write through MAP_SHARED, msync, munmap
 *	tapwriter stdio FILE		fopen/fprintf/fseek/putc/fclose, "a" mode
 *	tapwriter nobody CMD		fork, setuid(65534), exec sh -c CMD
 *	tapwriter misc DIR		writev, pwritev2, fallocate, copy_file_range,
 *					sendfile, O_TMPFILE+linkat, xattrs, mkfifo,
 *					dup2, close_range, utimensat
 *
 * The same region is hammered on purpose: the journal must put the writes
 * in the order the kernel applied them, or the replayed file differs.
 */
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <sys/xattr.h>

#include <err.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BLOCK	4096
#define SPAN	(8 * BLOCK)	/* writers overlap within this */

static const char *file;
static int iters;

/* Writer w: blocks at offsets that overlap the other writers'. */
static void
hammer(int w)
{
	char buf[BLOCK];
	int fd, i;

	if ((fd = open(file, O_WRONLY)) == -1)
		err(1, "%s", file);
	for (i = 0; i < iters; i++) {
		size_t len = BLOCK / 2 + (size_t)((i * 131 + w * 17) % (BLOCK / 2));
		off_t off = (off_t)((i * 977 + w * 1523) % (SPAN - BLOCK));

		memset(buf, 'A' + (w * 7 + i) % 26, len);
		if (pwrite(fd, buf, len, off) != (ssize_t)len)
			err(1, "pwrite");
	}
	close(fd);
}

static void *
thread_main(void *arg)
{
	hammer((int)(intptr_t)arg);
	return NULL;
}

static void
make_file(void)
{
	int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd == -1 || close(fd) == -1)
		err(1, "%s", file);
}

static void
mode_threads(int n)
{
	pthread_t t[64];
	int i;

	make_file();
	for (i = 0; i < n && i < 64; i++)
		pthread_create(&t[i], NULL, thread_main, (void *)(intptr_t)i);
	for (i = 0; i < n && i < 64; i++)
		pthread_join(t[i], NULL);
}

static void
wait_all(void)
{
	int st;

	while (wait(&st) > 0)
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			errx(1, "a child failed");
}

static void
mode_fork(int n)
{
	int i;

	make_file();
	for (i = 0; i < n; i++)
		if (fork() == 0) {
			hammer(i);
			_exit(0);
		}
	wait_all();
}

static void
mode_append(int n)
{
	char line[128];
	int i, j, fd;

	for (i = 0; i < n; i++)
		if (fork() == 0) {
			fd = open(file, O_WRONLY | O_APPEND | O_CREAT, 0644);
			if (fd == -1)
				err(1, "%s", file);
			for (j = 0; j < iters; j++) {
				int len = snprintf(line, sizeof(line),
				    "writer %d line %d %.*s\n", i, j, j % 40,
				    "........................................");

				if (write(fd, line, (size_t)len) != len)
					err(1, "write");
			}
			_exit(0);
		}
	wait_all();
}

static void
mode_mmap(size_t size)
{
	char *p;
	int fd;
	size_t i;

	if ((fd = open(file, O_RDWR | O_CREAT | O_TRUNC, 0644)) == -1 ||
	    ftruncate(fd, (off_t)size) == -1)
		err(1, "%s", file);
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		err(1, "mmap");
	close(fd);	/* the mapping outlives the descriptor */
	for (i = 0; i < size; i += 1000)
		p[i] = (char)('a' + i % 26);
	if (msync(p, size, MS_SYNC) == -1)
		err(1, "msync");
	for (i = 7; i < size; i += 3000)
		p[i] = 'Z';
	munmap(p, size);
}

static void
mode_stdio(void)
{
	FILE *f;
	int i;

	if ((f = fopen(file, "w")) == NULL)
		err(1, "%s", file);
	for (i = 0; i < 2000; i++)
		fprintf(f, "line %d\n", i);
	fseek(f, 5, SEEK_SET);
	fputs("REWRITTEN", f);
	fseek(f, 0, SEEK_END);
	for (i = 0; i < 100; i++)
		putc('x', f);
	fwrite("end\n", 1, 4, f);
	fclose(f);
	if ((f = fopen(file, "a")) == NULL)
		err(1, "%s", file);
	fputs("appended\n", f);
	fclose(f);
	/* Left to exit(3) to flush. */
	if ((f = fopen("stdio-exit.txt", "w")) == NULL)
		err(1, "stdio-exit.txt");
	fprintf(f, "flushed at exit\n");
}

static void
mode_nobody(const char *cmd)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		if (setgid(65534) == -1 || setuid(65534) == -1)
			err(1, "setuid");
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		err(127, "sh");
	}
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 0)
		errx(1, "the child failed");
}

static void
mode_misc(const char *dir)
{
	static char one[] = "one ", two[] = "two ", three[] = "three\n";
	struct iovec iov[3] = { { one, 4 }, { two, 4 }, { three, 6 } };
	struct timespec ts[2] = { { 1000000000, 0 }, { 1200000000, 5 } };
	char path[4096];
	int fd, in, t, d;
	off_t off = 0;

	if (chdir(dir) == -1)
		err(1, "%s", dir);
	if ((fd = open("v", O_RDWR | O_CREAT | O_TRUNC, 0640)) == -1)
		err(1, "v");
	writev(fd, iov, 3);
	pwritev2(fd, iov, 2, 100, 0);
	pwritev2(fd, iov + 2, 1, -1, 0);
	fallocate(fd, 0, 0, 8192);
	posix_fallocate(fd, 8192, 100);
	ftruncate(fd, 300);
	fsync(fd);
	fdatasync(fd);
	/* dup2 then write through the copy, close the original. */
	d = dup2(fd, 40);
	close(fd);
	write(d, "via dup2\n", 9);
	fd = fcntl(d, F_DUPFD_CLOEXEC, 50);
	close_range(40, 40, 0);
	write(fd, "via F_DUPFD\n", 12);
	close(fd);
	/* Copies: the bytes that landed are journaled. */
	if ((in = open("v", O_RDONLY)) == -1 ||
	    (fd = open("copy", O_WRONLY | O_CREAT | O_TRUNC, 0644)) == -1)
		err(1, "copy");
	copy_file_range(in, NULL, fd, NULL, 200, 0);
	off = 0;
	sendfile(fd, in, &off, 50);
	close(fd);
	close(in);
	/* An anonymous file given a name. */
	if ((t = open(".", O_TMPFILE | O_WRONLY, 0600)) != -1) {
		write(t, "was anonymous\n", 14);
		snprintf(path, sizeof(path), "/proc/self/fd/%d", t);
		linkat(AT_FDCWD, path, AT_FDCWD, "named", AT_SYMLINK_FOLLOW);
		close(t);
	}
	setxattr("v", "user.cdp", "value", 5, 0);
	setxattr("v", "user.gone", "x", 1, 0);
	removexattr("v", "user.gone");
	mkfifo("fifo", 0620);
	utimensat(AT_FDCWD, "copy", ts, 0);
	link("copy", "copy-link");
	unlink("copy-link");
	link("copy", "copy-link2");
	rename("copy-link2", "copy-link3");
	renameat2(AT_FDCWD, "v", AT_FDCWD, "copy", RENAME_EXCHANGE);
}

int
main(int argc, char **argv)
{
	if (argc < 3)
		errx(2, "usage: tapwriter MODE ARG...");
	file = argv[2];
	iters = argc > 4 ? atoi(argv[4]) : 0;
	if (strcmp(argv[1], "threads") == 0 && argc == 5)
		mode_threads(atoi(argv[3]));
	else if (strcmp(argv[1], "fork") == 0 && argc == 5)
		mode_fork(atoi(argv[3]));
	else if (strcmp(argv[1], "append") == 0 && argc == 5)
		mode_append(atoi(argv[3]));
	else if (strcmp(argv[1], "mmap") == 0 && argc == 4)
		mode_mmap((size_t)atol(argv[3]));
	else if (strcmp(argv[1], "stdio") == 0 && argc == 3)
		mode_stdio();
	else if (strcmp(argv[1], "nobody") == 0 && argc == 3)
		mode_nobody(argv[2]);
	else if (strcmp(argv[1], "misc") == 0 && argc == 3)
		mode_misc(argv[2]);
	else
		errx(2, "usage: tapwriter MODE ARG...");
	return 0;
}
