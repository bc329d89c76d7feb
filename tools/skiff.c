/* skiff.c — the `skiff` command: run an unmodified program on skiff.
 *
 *   skiff run [--config FILE] [--] PROGRAM [ARGS...]
 *
 * Flow: read the config (FILE, else $SKIFF_CONFIG) and the SKIFF_* variables on
 * top, check it is usable (an interface with a driver and an address) — a bad
 * config is one line on stderr and exit 2, never a silent run on the kernel —
 * then exec PROGRAM with SKIFF_CONFIG set to the file's absolute path and
 * libskiff_preload.so first in LD_PRELOAD. The library is $SKIFF_PRELOAD, else
 * found beside this executable (the build tree's socketapi/, or an installed
 * lib directory).
 * Exit: PROGRAM's (exec), 2 for usage/config errors, 127 when it cannot be run.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "socketapi/config.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: skiff run [--config FILE] [--] PROGRAM [ARGS...]\n"
		   "  runs PROGRAM with its AF_INET/AF_INET6 sockets (TCP, UDP, raw, ping) and its AF_PACKET\n"
		   "  sockets on skiff wherever their traffic crosses a configured interface (FILE, else\n"
		   "  $SKIFF_CONFIG; SKIFF_* variables override it). SKIFF_BOOT_EARLY=1 brings the stack up\n"
		   "  before main (programs that drop capabilities first, such as ping)\n");
}

static int find_preload(char *out, size_t len)
{
	static const char *const rel[] = {
		"../socketapi/libskiff_preload.so",             /* build tree: tools/skiff */
		"../lib/x86_64-linux-gnu/libskiff_preload.so", /* installed */
		"../lib64/libskiff_preload.so",
		"../lib/libskiff_preload.so",
	};
	const char *env = getenv("SKIFF_PRELOAD");
	char self[PATH_MAX];
	ssize_t n;
	char *slash;

	if (env && *env) {
		if (access(env, R_OK) != 0)
			return -errno;
		snprintf(out, len, "%s", env);
		return 0;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		return -errno;
	self[n] = 0;
	slash = strrchr(self, '/');
	if (!slash)
		return -ENOENT;
	slash[1] = 0;
	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		char cand[PATH_MAX + 64];
		snprintf(cand, sizeof(cand), "%s%s", self, rel[i]);
		if (access(cand, R_OK) == 0 && realpath(cand, out) && strlen(out) < len)
			return 0;
	}
	return -ENOENT;
}

static int cmd_run(int argc, char **argv)
{
	static struct skiff_config cfg;
	char err[SKIFF_CFG_ERR], preload[PATH_MAX], abs[PATH_MAX];
	const char *conf = getenv("SKIFF_CONFIG");
	const char *old;
	char *ld;
	int i = 0, rc;

	while (i < argc && argv[i][0] == '-') {
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		}
		if (!strcmp(argv[i], "--config") && i + 1 < argc) {
			conf = argv[i + 1];
			i += 2;
		} else if (!strncmp(argv[i], "--config=", 9)) {
			conf = argv[i] + 9;
			i++;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "skiff run: unknown option '%s'\n", argv[i]);
			return 2;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	skiff_config_defaults(&cfg);
	if (conf && *conf) {
		if (skiff_config_load(&cfg, conf, err, sizeof(err)) < 0) {
			fprintf(stderr, "skiff: %s\n", err);
			return 2;
		}
		if (!realpath(conf, abs)) {
			fprintf(stderr, "skiff: %s: %s\n", conf, strerror(errno));
			return 2;
		}
		setenv("SKIFF_CONFIG", abs, 1);
	}
	if (skiff_config_env(&cfg, err, sizeof(err)) < 0 || skiff_config_check(&cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "skiff: %s\n", err);
		return 2;
	}
	rc = find_preload(preload, sizeof(preload));
	if (rc < 0) {
		fprintf(stderr, "skiff: libskiff_preload.so not found beside %s (set SKIFF_PRELOAD): %s\n", "skiff",
			strerror(-rc));
		return 2;
	}
	old = getenv("LD_PRELOAD");
	ld = malloc(strlen(preload) + (old ? strlen(old) : 0) + 2);
	if (!ld)
		return 2;
	if (old && *old)
		sprintf(ld, "%s:%s", preload, old);
	else
		strcpy(ld, preload);
	setenv("LD_PRELOAD", ld, 1);
	free(ld);
	execvp(argv[i], argv + i);
	fprintf(stderr, "skiff: %s: %s\n", argv[i], strerror(errno));
	return 127;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "run"))
		return cmd_run(argc - 2, argv + 2);
	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	usage(stderr);
	return 2;
}
