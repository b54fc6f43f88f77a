/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Growing arrays, for the library and the CLI alike: a header of its own,
 * inline, since the CLI uses only the public API of the library (it has no
 * internal symbol to link against when built on libtaskvma.so).
 */
#ifndef TASKVMA_RESERVE_H
#define TASKVMA_RESERVE_H

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

/* Make room for `need` elements of `size` bytes in *buf (capacity *cap,
 * doubled from `first`).  0 or -ENOMEM; *buf is kept on failure. */
static inline int tv_reserve(void **buf, size_t *cap, size_t need, size_t size, size_t first)
{
	size_t c = *cap ? *cap : first;
	void *p;

	if (need <= *cap)
		return 0;
	while (c < need)
		c *= 2;
	p = realloc(*buf, c * size);
	if (!p)
		return -ENOMEM;
	*buf = p;
	*cap = c;
	return 0;
}

#endif
