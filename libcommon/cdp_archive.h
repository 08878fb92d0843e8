/*
 * cdp_archive.h: a directory tree as an archive (libarchive).
 *
 * cdp-replay -a replays into a private directory and writes it out with
 * this: modes, owners, times, symbolic links and hard links as they are on
 * disk, paths relative to the directory, the directory itself left out.
 */
#ifndef CDP_ARCHIVE_H
#define CDP_ARCHIVE_H

#include <stddef.h>

/*
 * Whether format is a name cdp_archive_write() takes: tar (restricted
 * pax, as bsdtar writes), pax, ustar, cpio, zip, 7zip, or any other
 * libarchive writer name.
 */
int	 cdp_archive_format_ok(const char *format);

/*
 * Write the tree below dir to out ("-" is standard output) in format, or,
 * with format NULL, in the format and compression out's suffix names
 * (".tar", ".tar.gz", ".tgz", ".zip", ".7z", ".cpio", ...; standard
 * output defaults to tar).  Returns 0, or -1 with a reason in err.
 */
int	 cdp_archive_write(const char *dir, const char *out,
	    const char *format, char *err, size_t size);

#endif
