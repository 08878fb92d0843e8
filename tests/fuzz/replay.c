/*
 * replay.c: the plain driver of a fuzz harness (scripts/fuzz.sh replay).
 *
 * Linked with one fuzz_*.c instead of libFuzzer, it hands each file named
 * on the command line (or each file in each directory, in name order) to
 * LLVMFuzzerTestOneInput() once, and prints "ok FILE" after each, so that
 * a corpus can be checked by any compiler, sanitizers or not.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
replay_file(const char *path)
{
	FILE *f;
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0, n;

	if ((f = fopen(path, "rb")) == NULL) {
		perror(path);
		return -1;
	}
	for (;;) {
		if (len == cap) {
			uint8_t *nb;

			cap = cap ? cap * 2 : 65536;
			if ((nb = realloc(buf, cap)) == NULL)
				abort();
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, f);
		if (n == 0)
			break;
		len += n;
	}
	if (ferror(f)) {
		perror(path);
		fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	printf("ok %s (%zu bytes)\n", path, len);
	fflush(stdout);
	return 0;
}

static int
replay_dir(const char *dir)
{
	struct dirent **names;
	int k, count, rc = 0;

	if ((count = scandir(dir, &names, NULL, alphasort)) == -1) {
		perror(dir);
		return -1;
	}
	for (k = 0; k < count; k++) {
		char path[4096];

		if (names[k]->d_name[0] != '.') {
			snprintf(path, sizeof(path), "%s/%s", dir,
			    names[k]->d_name);
			if (replay_file(path) == -1)
				rc = -1;
		}
		free(names[k]);
	}
	free(names);
	return rc;
}

int
main(int argc, char **argv)
{
	struct stat st;
	int i, rc = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR ...\n", argv[0]);
		return 2;
	}
	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) == -1) {
			perror(argv[i]);
			rc = 1;
		} else if (S_ISDIR(st.st_mode) ? replay_dir(argv[i]) == -1 :
		    replay_file(argv[i]) == -1)
			rc = 1;
	}
	return rc;
}
