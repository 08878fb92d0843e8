/*
 * cdp_control.c: the control socket protocol of cdp-tap (cdp_control.h).
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cdp_control.h"
#include "cdp_record.h"

int
cdp_control_default_path(char *buf, size_t size, long pid)
{
	const char *dir = getenv("XDG_RUNTIME_DIR");
	int n;

	if (dir != NULL && *dir == '/')
		n = snprintf(buf, size, "%s/cdp-tap.%ld.sock", dir, pid);
	else
		n = snprintf(buf, size, "/tmp/cdp-tap.%ld.%ld.sock",
		    (long)getuid(), pid);
	if (n < 0 || (size_t)n >= size ||
	    (size_t)n >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

static int
addr(struct sockaddr_un *sa, const char *path)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sa->sun_path, path);
	return 0;
}

int
cdp_control_listen(const char *path)
{
	struct sockaddr_un sa;
	struct stat st;
	int fd, e;

	if (addr(&sa, path) == -1)
		return -1;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			errno = EEXIST;
			return -1;
		}
		unlink(path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    listen(fd, 16) == -1) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* One line (without the newline) from fd; -1 on error or no newline. */
static int
read_line(int fd, char *buf, size_t size)
{
	size_t n = 0;
	ssize_t r = 0;

	while (n < size - 1) {
		r = read(fd, buf + n, size - 1 - n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
		if (memchr(buf, '\n', n) != NULL)
			break;
	}
	buf[n] = '\0';
	if (n == 0 || buf[n - 1] != '\n') {
		errno = n == 0 && r == -1 ? errno : EBADMSG;
		return -1;
	}
	buf[n - 1] = '\0';
	return 0;
}

static void
write_line(int fd, const char *s)
{
	size_t n = strlen(s);
	ssize_t r = 0;

	while (n > 0) {
		r = send(fd, s, n, MSG_NOSIGNAL);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return;
		s += r;
		n -= (size_t)r;
	}
}

int
cdp_control_accept(int lfd, char name[CDP_CONTROL_LINE_MAX])
{
	struct timeval tv = { 1, 0 };
	char line[CDP_CONTROL_LINE_MAX + 1];
	int cfd;

	cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (cfd == -1)
		return -1;
	setsockopt(cfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(cfd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (read_line(cfd, line, sizeof(line)) == -1 ||
	    strncmp(line, "MARK ", 5) != 0 ||
	    !cdp_record_mark_name_ok(line + 5)) {
		cdp_control_answer(cfd, 0, "bad request");
		errno = EBADMSG;
		return -1;
	}
	strcpy(name, line + 5);
	return cfd;
}

void
cdp_control_answer(int cfd, uint64_t seq, const char *why)
{
	char line[CDP_CONTROL_LINE_MAX + 32];

	if (why != NULL)
		snprintf(line, sizeof(line), "ERR %s\n", why);
	else
		snprintf(line, sizeof(line), "OK %" PRIu64 "\n", seq);
	write_line(cfd, line);
	close(cfd);
}

int
cdp_control_mark(const char *path, const char *name, uint64_t *seq,
    char why[CDP_CONTROL_LINE_MAX])
{
	struct sockaddr_un sa;
	char line[CDP_CONTROL_LINE_MAX + 1];
	int fd, e;

	why[0] = '\0';
	if (!cdp_record_mark_name_ok(name)) {
		errno = EINVAL;
		return -1;
	}
	if (addr(&sa, path) == -1)
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1)
		goto fail;
	snprintf(line, sizeof(line), "MARK %s\n", name);
	write_line(fd, line);
	if (read_line(fd, line, sizeof(line)) == -1) {
		if (errno == EBADMSG)
			errno = ECONNRESET;
		goto fail;
	}
	close(fd);
	if (strncmp(line, "OK ", 3) == 0) {
		*seq = strtoull(line + 3, NULL, 10);
		return 0;
	}
	snprintf(why, CDP_CONTROL_LINE_MAX, "%s",
	    strncmp(line, "ERR ", 4) == 0 ? line + 4 : "bad answer");
	errno = EPROTO;
	return -1;
fail:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}
