/* replay.c — runs LLVMFuzzerTestOneInput over saved inputs without libFuzzer, so
 * the seed corpus and the regression vectors run as an ordinary test (under
 * ASan/UBSan when the build has them) with any compiler.
 *
 * Flow: for each argument — a file: run it; a directory: run every regular file
 * in it (sorted by name, not recursive; hidden files and README* skipped). A
 * failing invariant or a sanitizer report aborts the process; otherwise prints
 * how many inputs ran and exits 0. No inputs at all is an error (a wrong path).
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPLAY_MAX_INPUT (1u << 20) /* libFuzzer's own default cap is far lower */
#define REPLAY_MAX_FILES 100000

static uint8_t buf[REPLAY_MAX_INPUT];

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	n = fread(buf, 1, sizeof(buf), f);
	if (ferror(f)) {
		fprintf(stderr, "replay: %s: read error\n", path);
		fclose(f);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, n);
	return 0;
}

static int skip_name(const char *name)
{
	return name[0] == '.' || strncmp(name, "README", 6) == 0;
}

/* Runs every regular file of dir; returns how many ran, or -1. */
static int run_dir(const char *dir)
{
	struct dirent **ents = NULL;
	int n = scandir(dir, &ents, NULL, alphasort), ran = 0, rc = 0;

	if (n < 0) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	for (int i = 0; i < n && i < REPLAY_MAX_FILES; i++) {
		char path[4096];
		struct stat sb;
		if (!skip_name(ents[i]->d_name) &&
		    snprintf(path, sizeof(path), "%s/%s", dir, ents[i]->d_name) < (int)sizeof(path) &&
		    stat(path, &sb) == 0 && S_ISREG(sb.st_mode)) {
			if (run_file(path) == 0)
				ran++;
			else
				rc = -1;
		}
	}
	for (int i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	return rc < 0 ? -1 : ran;
}

int main(int argc, char **argv)
{
	int total = 0, failed = 0;

	for (int i = 1; i < argc; i++) {
		struct stat sb;
		int ran;
		if (stat(argv[i], &sb) != 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
			failed = 1;
			continue;
		}
		ran = S_ISDIR(sb.st_mode) ? run_dir(argv[i]) : (run_file(argv[i]) == 0 ? 1 : -1);
		if (ran < 0)
			failed = 1;
		else
			total += ran;
	}
	printf("replay: %d input(s) ran\n", total);
	if (total == 0) {
		fprintf(stderr, "usage: %s FILE|DIR... (no inputs found)\n", argv[0]);
		return 1;
	}
	return failed;
}
