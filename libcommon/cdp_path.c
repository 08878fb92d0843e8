/*
 * cdp_path.c: validation of journal paths.
 *
 * Every path that comes out of a journal passes through here before it is
 * used for anything, so the rules of cdp-journal(5) are enforced in one
 * place: relative, no empty, "." or ".." component, bounded lengths.
 */
#include <errno.h>
#include <string.h>

#include "cdp_format.h"
#include "cdp_path.h"

int
cdp_path_check(const char *path, size_t len, const char **why)
{
	size_t i, start;

	if (len == 0) {
		*why = "empty path";
		errno = EINVAL;
		return -1;
	}
	if (len > CDP_PATH_MAX) {
		*why = "path too long";
		errno = ENAMETOOLONG;
		return -1;
	}
	if (memchr(path, '\0', len) != NULL) {
		*why = "path contains a NUL byte";
		errno = EINVAL;
		return -1;
	}
	if (path[0] == '/') {
		*why = "absolute path";
		errno = EINVAL;
		return -1;
	}
	for (start = 0, i = 0; i <= len; i++) {
		size_t n;

		if (i < len && path[i] != '/')
			continue;
		n = i - start;
		if (n == 0) {
			*why = "path has an empty component";
			errno = EINVAL;
			return -1;
		}
		if (n > CDP_NAME_MAX) {
			*why = "path component too long";
			errno = ENAMETOOLONG;
			return -1;
		}
		if (path[start] == '.' && (n == 1 ||
		    (n == 2 && path[start + 1] == '.'))) {
			*why = n == 1 ? "path has a '.' component" :
			    "path has a '..' component";
			errno = EINVAL;
			return -1;
		}
		start = i + 1;
	}
	return 0;
}
