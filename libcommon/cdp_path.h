/*
 * cdp_path.h: journal paths.
 *
 * A journal path is relative to the protected root, '/'-separated, at most
 * CDP_PATH_MAX bytes, with no NUL byte, no empty, "." or ".." component,
 * no component longer than CDP_NAME_MAX, and no leading or trailing '/'.
 * The empty path names the root itself and is only allowed where the
 * format says so.
 */
#ifndef CDP_PATH_H
#define CDP_PATH_H

#include <stddef.h>

/*
 * Check a path of len bytes.  Returns 0 if it is a valid non-empty journal
 * path, or -1 with *why set to a short reason and errno ENAMETOOLONG (the
 * path or one component too long) or EINVAL (anything else).
 */
int	cdp_path_check(const char *path, size_t len, const char **why);

#endif
