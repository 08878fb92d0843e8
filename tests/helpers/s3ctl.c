/*
 * s3ctl: drive libcommon's S3 client (cdp_s3) from the end-to-end tests.
 *
 * usage: s3ctl [-v] [-t TRIES] mb s3://BUCKET
 *        s3ctl [-v] [-t TRIES] ls s3://BUCKET[/PREFIX]
 *        s3ctl [-v] [-t TRIES] put s3://BUCKET[/PREFIX] NAME FILE
 *        s3ctl [-v] [-t TRIES] get s3://BUCKET[/PREFIX] NAME [OFF LEN]
 *        s3ctl [-v] [-t TRIES] rm s3://BUCKET[/PREFIX] NAME
 *        s3ctl [-v] [-t TRIES] head s3://BUCKET[/PREFIX] NAME
 *
 * ls prints "NAME<TAB>SIZE" per object, head the size, get the bytes (from
 * OFF, LEN of them; LEN 0: to the end) on stdout.  put sends FILE with
 * cdp_s3_put_fd(), so a large file goes as a multipart upload.  The
 * endpoint and credentials come from the environment as for the cdp
 * programs (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, ...).  -t sets the tries
 * per request (cdp_s3_set_tries); -v prints the client's notice.
 *
 * Errors: "s3ctl: message" on stderr, exit 1; a usage error exits 2.
 */
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cdp_s3.h"

static void
usage(void)
{
	fprintf(stderr,
	    "usage: s3ctl [-v] [-t TRIES] mb|ls s3://BUCKET[/PREFIX]\n"
	    "       s3ctl [-v] [-t TRIES] put s3://BUCKET[/PREFIX] NAME FILE\n"
	    "       s3ctl [-v] [-t TRIES] get s3://BUCKET[/PREFIX] NAME "
	    "[OFF LEN]\n"
	    "       s3ctl [-v] [-t TRIES] rm|head s3://BUCKET[/PREFIX] NAME\n");
	exit(2);
}

static uint64_t
number(const char *s)
{
	char *end;
	uint64_t v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || *s == '-')
		errx(2, "%s: not a number", s);
	return v;
}

static int
write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct cdp_s3 *s;
	struct cdp_s3_object *objs;
	const char *cmd;
	char why[512];
	uint8_t *buf;
	uint64_t size;
	size_t i, n, got;
	struct stat st;
	int c, fd, rc = 0, tries = 0, verbose = 0, nargs;

	while ((c = getopt(argc, argv, "t:v")) != -1) {
		switch (c) {
		case 't':
			tries = (int)number(optarg);
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 2)
		usage();
	cmd = argv[0];
	nargs = argc - 2;
	if (((strcmp(cmd, "mb") == 0 || strcmp(cmd, "ls") == 0) &&
	    nargs != 0) ||
	    ((strcmp(cmd, "rm") == 0 || strcmp(cmd, "head") == 0) &&
	    nargs != 1) ||
	    (strcmp(cmd, "put") == 0 && nargs != 2) ||
	    (strcmp(cmd, "get") == 0 && nargs != 1 && nargs != 3))
		usage();
	if (strcmp(cmd, "mb") != 0 && strcmp(cmd, "ls") != 0 &&
	    strcmp(cmd, "rm") != 0 && strcmp(cmd, "head") != 0 &&
	    strcmp(cmd, "put") != 0 && strcmp(cmd, "get") != 0)
		usage();

	if ((s = cdp_s3_open(argv[1], NULL, why, sizeof(why))) == NULL)
		errx(1, "%s", why);
	if (verbose && *cdp_s3_notice(s) != '\0')
		warnx("%s", cdp_s3_notice(s));
	if (tries > 0)
		cdp_s3_set_tries(s, tries);

	if (strcmp(cmd, "mb") == 0) {
		rc = cdp_s3_create_bucket(s);
	} else if (strcmp(cmd, "ls") == 0) {
		if ((rc = cdp_s3_list(s, &objs, &n)) == 0) {
			for (i = 0; i < n; i++)
				printf("%s\t%" PRIu64 "\n", objs[i].name,
				    objs[i].size);
			cdp_s3_free_list(objs, n);
		}
	} else if (strcmp(cmd, "put") == 0) {
		if ((fd = open(argv[3], O_RDONLY)) == -1 ||
		    fstat(fd, &st) == -1)
			err(1, "%s", argv[3]);
		rc = cdp_s3_put_fd(s, argv[2], fd, (uint64_t)st.st_size);
		close(fd);
	} else if (strcmp(cmd, "get") == 0) {
		rc = cdp_s3_get(s, argv[2], nargs == 3 ? number(argv[3]) : 0,
		    nargs == 3 ? number(argv[4]) : 0, 0, &buf, &got);
		if (rc == 0) {
			if (write_all(1, buf, got) == -1)
				err(1, "stdout");
			free(buf);
		}
	} else if (strcmp(cmd, "rm") == 0) {
		rc = cdp_s3_delete(s, argv[2]);
	} else {
		if ((rc = cdp_s3_head(s, argv[2], &size)) == 0)
			printf("%" PRIu64 "\n", size);
	}
	if (rc == -1)
		warnx("%s", cdp_s3_error(s));
	cdp_s3_close(s);
	if (fflush(stdout) == EOF)
		err(1, "stdout");
	return rc == -1 ? 1 : 0;
}
