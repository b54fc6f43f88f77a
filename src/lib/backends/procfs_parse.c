// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Parser for one /proc/PID/maps line.  Strict about the fields the kernel
 * prints (lowercase hex, r/w/x/- and s/p, decimal inode), lenient about the
 * padding before the name.  Kept free of other library code so the fuzz
 * target (tests/fuzz/fuzz_parse.c) can link it with format.c alone.
 */
#include <errno.h>
#include <string.h>
#include "internal.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Parse [1, maxdig] lowercase hex digits. */
static int get_hex(const char **pp, const char *end, int maxdig, uint64_t *out)
{
	const char *p = *pp;
	uint64_t v = 0;
	int n = 0, d;

	while (p < end && (d = hexval(*p)) >= 0) {
		if (++n > maxdig)
			return -EINVAL;
		v = v << 4 | (uint64_t)d;
		p++;
	}
	if (!n)
		return -EINVAL;
	*pp = p;
	*out = v;
	return 0;
}

static int get_dec(const char **pp, const char *end, uint64_t *out)
{
	const char *p = *pp;
	uint64_t v = 0;
	int n = 0;

	while (p < end && *p >= '0' && *p <= '9') {
		uint64_t d = (uint64_t)(*p - '0');

		if (v > (UINT64_MAX - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
		p++;
		n++;
	}
	if (!n)
		return -EINVAL;
	*pp = p;
	*out = v;
	return 0;
}

static int expect(const char **pp, const char *end, char c)
{
	if (*pp >= end || **pp != c)
		return -EINVAL;
	(*pp)++;
	return 0;
}

int taskvma_parse_maps_line(const char *line, size_t len, struct taskvma_vma *v)
{
	const char *p = line, *end = line + len;
	uint64_t start, vend, off, maj, min, ino;

	if (len && line[len - 1] == '\n')
		end--;
	if (get_hex(&p, end, 16, &start) || expect(&p, end, '-') ||
	    get_hex(&p, end, 16, &vend) || expect(&p, end, ' '))
		return -EINVAL;
	if (end - p < 5)
		return -EINVAL;
	if ((p[0] != 'r' && p[0] != '-') || (p[1] != 'w' && p[1] != '-') ||
	    (p[2] != 'x' && p[2] != '-') || (p[3] != 's' && p[3] != 'p'))
		return -EINVAL;
	v->perms = (p[0] == 'r' ? TASKVMA_PERM_READ : 0) | (p[1] == 'w' ? TASKVMA_PERM_WRITE : 0) |
		   (p[2] == 'x' ? TASKVMA_PERM_EXEC : 0) | (p[3] == 's' ? TASKVMA_PERM_SHARED : 0);
	p += 4;
	if (expect(&p, end, ' ') || get_hex(&p, end, 16, &off) || expect(&p, end, ' ') ||
	    get_hex(&p, end, 8, &maj) || expect(&p, end, ':') || get_hex(&p, end, 8, &min) ||
	    expect(&p, end, ' ') || get_dec(&p, end, &ino))
		return -EINVAL;
	/* "inode " then, with a name, padding and the name; without, the end. */
	if (p < end && expect(&p, end, ' '))
		return -EINVAL;
	while (p < end && *p == ' ')
		p++;
	if (memchr(p, '\n', end - p) || memchr(p, '\0', end - p))
		return -EINVAL;

	v->start = start;
	v->end = vend;
	v->offset = off;
	v->dev_major = (uint32_t)maj;
	v->dev_minor = (uint32_t)min;
	v->inode = ino;
	v->name = p;
	v->name_len = (uint32_t)(end - p);
	v->kind = tv_kind_from_name(p, v->name_len, ino, v->dev_major, v->dev_minor);
	v->flags = 0;
	if (v->kind == TASKVMA_KIND_SPECIAL && v->name_len == 10 && !memcmp(p, "[vsyscall]", 10))
		v->flags |= TASKVMA_VMA_GATE;
	return 0;
}
