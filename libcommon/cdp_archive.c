/*
 * cdp_archive.c: write a directory tree as an archive with libarchive.
 *
 * archive_read_disk walks the tree without following symbolic links and
 * fills in each entry's metadata; the link resolver pairs hard links the
 * way the chosen format wants them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "cdp_archive.h"

/* cdp's names for formats, and libarchive's. */
static const struct {
	const char	*name;
	const char	*libarchive;
} formats[] = {
	{ "7zip", "7zip" },
	{ "cpio", "cpio" },
	{ "pax", "pax" },
	{ "tar", "paxr" },
	{ "ustar", "ustar" },
	{ "zip", "zip" },
};

static const char *
lookup(const char *format)
{
	size_t i;

	for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (strcmp(formats[i].name, format) == 0)
			return formats[i].libarchive;
	return format;
}

int
cdp_archive_format_ok(const char *format)
{
	struct archive *a = archive_write_new();
	int ok;

	if (a == NULL)
		return 0;
	ok = archive_write_set_format_by_name(a, lookup(format)) == ARCHIVE_OK;
	archive_write_free(a);
	return ok;
}

static int
copy_data(struct archive *disk, struct archive *w, char *err, size_t size)
{
	static char buf[1 << 16];
	la_ssize_t n;

	/* Holes read as zeros: not every format can keep them. */
	while ((n = archive_read_data(disk, buf, sizeof(buf))) > 0)
		if (archive_write_data(w, buf, (size_t)n) != n) {
			snprintf(err, size, "%s", archive_error_string(w));
			return -1;
		}
	if (n < 0) {
		snprintf(err, size, "%s", archive_error_string(disk));
		return -1;
	}
	return 0;
}

static int
put(struct archive *disk, struct archive *w, struct archive_entry *e,
    char *err, size_t size)
{
	if (archive_write_header(w, e) < ARCHIVE_OK) {
		snprintf(err, size, "%s: %s", archive_entry_pathname(e),
		    archive_error_string(w));
		return -1;
	}
	if (archive_entry_size(e) > 0 && disk != NULL &&
	    copy_data(disk, w, err, size) == -1)
		return -1;
	return 0;
}

int
cdp_archive_write(const char *dir, const char *out, const char *format,
    char *err, size_t size)
{
	struct archive *disk, *w;
	struct archive_entry *e, *sparse;
	struct archive_entry_linkresolver *lr;
	size_t dlen = strlen(dir);
	int rc = -1, r;

	disk = archive_read_disk_new();
	w = archive_write_new();
	lr = archive_entry_linkresolver_new();
	if (disk == NULL || w == NULL || lr == NULL) {
		snprintf(err, size, "%s", strerror(ENOMEM));
		goto out;
	}
	if (format == NULL && strcmp(out, "-") != 0) {
		if (archive_write_set_format_filter_by_ext(w, out) !=
		    ARCHIVE_OK) {
			snprintf(err, size, "%s: cannot tell the archive "
			    "format from the name (use --format)", out);
			goto out;
		}
	} else if (archive_write_set_format_by_name(w,
	    lookup(format != NULL ? format : "tar")) != ARCHIVE_OK) {
		snprintf(err, size, "%s", archive_error_string(w));
		goto out;
	}
	archive_entry_linkresolver_set_strategy(lr, archive_format(w));
	archive_read_disk_set_symlink_physical(disk);
	archive_read_disk_set_standard_lookup(disk);
	archive_read_disk_set_behavior(disk,
	    ARCHIVE_READDISK_NO_TRAVERSE_MOUNTS);
	if ((strcmp(out, "-") == 0 ? archive_write_open_fd(w, STDOUT_FILENO) :
	    archive_write_open_filename(w, out)) != ARCHIVE_OK) {
		snprintf(err, size, "%s: %s", out, archive_error_string(w));
		goto out;
	}
	if (archive_read_disk_open(disk, dir) != ARCHIVE_OK) {
		snprintf(err, size, "%s", archive_error_string(disk));
		goto out;
	}
	for (;;) {
		const char *p;

		e = archive_entry_new();
		r = archive_read_next_header2(disk, e);
		if (r == ARCHIVE_EOF) {
			archive_entry_free(e);
			break;
		}
		if (r < ARCHIVE_WARN) {
			snprintf(err, size, "%s", archive_error_string(disk));
			archive_entry_free(e);
			goto out;
		}
		archive_read_disk_descend(disk);
		p = archive_entry_pathname(e);
		if (strncmp(p, dir, dlen) != 0 || p[dlen] != '/') {
			archive_entry_free(e);	/* the top itself */
			continue;
		}
		archive_entry_copy_pathname(e, p + dlen + 1);
		/* The resolver may hold an entry back, or hand one out. */
		archive_entry_linkify(lr, &e, &sparse);
		if (e != NULL && put(disk, w, e, err, size) == -1) {
			archive_entry_free(e);
			goto out;
		}
		archive_entry_free(e);
		if (sparse != NULL) {
			r = put(NULL, w, sparse, err, size);
			archive_entry_free(sparse);
			if (r == -1)
				goto out;
		}
	}
	/* Entries the resolver kept back to the end (cpio's last link). */
	for (;;) {
		e = NULL;
		archive_entry_linkify(lr, &e, &sparse);
		if (e == NULL)
			break;
		r = put(NULL, w, e, err, size);
		archive_entry_free(e);
		if (r == -1)
			goto out;
	}
	if (archive_write_close(w) != ARCHIVE_OK) {
		snprintf(err, size, "%s: %s", out, archive_error_string(w));
		goto out;
	}
	rc = 0;
out:
	if (lr != NULL)
		archive_entry_linkresolver_free(lr);
	if (disk != NULL)
		archive_read_free(disk);
	if (w != NULL)
		archive_write_free(w);
	return rc;
}
