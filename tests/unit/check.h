/* Minimal assertions for tests/unit: each CHECK prints "PASS name" or
 * "FAIL name: ..." (counted by tests/run.sh).  main() ends with
 * `return check_end();`: tests/run.sh counts a binary that exits non-zero,
 * dies of a signal, or never prints its end marker as failed. */
#ifndef TASKVMA_TEST_CHECK_H
#define TASKVMA_TEST_CHECK_H
#include <stdio.h>
#include <errno.h>
#include <string.h>

static int check_failures;

#define CHECK(name, cond) do {                                                    \
	if (cond) printf("PASS %s\n", name);                                      \
	else { printf("FAIL %s: %s (%s:%d)\n", name, #cond, __FILE__, __LINE__);  \
	       check_failures++; }                                                \
} while (0)

#define CHECK_STR(name, want, got) do {                                           \
	const char *w_ = (want), *g_ = (got);                                     \
	if (w_ && g_ && !strcmp(w_, g_)) printf("PASS %s\n", name);               \
	else { printf("FAIL %s: want [%s] got [%s]\n", name, w_ ? w_ : "(null)",  \
		      g_ ? g_ : "(null)"); check_failures++; }                    \
} while (0)

/* Prints "END <program name>" (the marker tests/run.sh looks for) and
 * returns the number of failures, capped at 125 so that it cannot wrap to 0
 * or look like a signal as an exit status. */
static inline int check_end(void)
{
	printf("END %s\n", program_invocation_short_name);
	if (fflush(stdout) != 0)
		return 1;
	return check_failures > 125 ? 125 : check_failures;
}

#endif
