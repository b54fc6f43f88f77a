/* A unit binary that passes one check and then aborts (as an ASan or UBSan
 * report would) before check_end(). */
#include <stdlib.h>
#include <sys/resource.h>
#include "../unit/check.h"

int main(void)
{
	struct rlimit no_core = { 0, 0 };

	setrlimit(RLIMIT_CORE, &no_core);
	CHECK("runner fixture abort: before the abort", 1);
	fflush(stdout);
	abort();
	return check_end();
}
