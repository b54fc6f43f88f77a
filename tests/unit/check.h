/* Minimal assertions for tests/unit: each CHECK prints "PASS name" or
 * "FAIL name: ..." (counted by tests/run.sh).  main() returns failures. */
#ifndef TASKVMA_TEST_CHECK_H
#define TASKVMA_TEST_CHECK_H
#include <stdio.h>
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

#endif
