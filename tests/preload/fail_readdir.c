/* LD_PRELOAD fault injection for the listings taskvma reads: readdir() of a
 * directory opened with a path matching $TV_FAIL_READDIR (fnmatch pattern,
 * e.g. "/proc" or "/proc/[0-9]*" "/task") returns NULL with errno EIO after
 * $TV_FAIL_READDIR_AFTER entries (default 3), as a getdents64() failure
 * would.  Used by tests/cases/maps_errors.sh: a listing that fails must be an
 * error, never a shorter list taken for the whole.  Nothing else changes. */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#define MAXD 64

static struct {
	DIR *d;
	long left;	/* entries before the failure */
} watched[MAXD];

DIR *opendir(const char *name)
{
	static DIR *(*real)(const char *);
	const char *pat = getenv("TV_FAIL_READDIR");
	const char *after = getenv("TV_FAIL_READDIR_AFTER");
	DIR *d;

	if (!real)
		real = (DIR * (*)(const char *)) dlsym(RTLD_NEXT, "opendir");
	d = real(name);
	if (d && pat && !fnmatch(pat, name, 0)) {
		for (int i = 0; i < MAXD; i++) {
			if (!watched[i].d) {
				watched[i].d = d;
				watched[i].left = after ? atol(after) : 3;
				break;
			}
		}
	}
	return d;
}

struct dirent *readdir(DIR *d)
{
	static struct dirent *(*real)(DIR *);

	if (!real)
		real = (struct dirent * (*)(DIR *)) dlsym(RTLD_NEXT, "readdir");
	for (int i = 0; i < MAXD; i++) {
		if (watched[i].d == d) {
			if (watched[i].left-- <= 0) {
				errno = EIO;
				return NULL;
			}
			break;
		}
	}
	return real(d);
}

int closedir(DIR *d)
{
	static int (*real)(DIR *);

	if (!real)
		real = (int (*)(DIR *))dlsym(RTLD_NEXT, "closedir");
	for (int i = 0; i < MAXD; i++)
		if (watched[i].d == d)
			watched[i].d = NULL;
	return real(d);
}
