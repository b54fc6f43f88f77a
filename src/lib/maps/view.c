// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * pmap's view of a map: sizes, totals and kinds (taskvma maps --sizes,
 * --summary).  The totals count as procps's pmap does (pmap.c one_proc()):
 * a mapping whose perms end in 's' is shared, every other one private,
 * writeable when it has 'w'; "mapped" is the sum of the three, every
 * mapping including the [vsyscall] gate, sizes end - start.  The CLI only
 * prints what these return.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "internal.h"

int taskvma_totals_add(struct taskvma_totals *t, const struct taskvma_vma *v)
{
	uint64_t size;

	if (!t || !v || t->sz < sizeof(struct taskvma_totals) || v->end < v->start)
		return -EINVAL;
	size = v->end - v->start;
	t->mappings++;
	t->mapped += size;
	if (v->perms & TASKVMA_PERM_SHARED)
		t->shared += size;
	else if (v->perms & TASKVMA_PERM_WRITE)
		t->writeable_private += size;
	else
		t->readonly_private += size;
	if (v->perms & TASKVMA_PERM_EXEC)
		t->exec += size;
	if (v->kind < TASKVMA_KIND_SLOTS) {
		t->kind_count[v->kind]++;
		t->kind_bytes[v->kind] += size;
	}
	return 0;
}

/* snprintf that counts past the end of buf (n may exceed len) */
#define ROOM(n) ((n) < len ? len - (n) : 0)
#define AT(n) ((n) < len ? buf + (n) : NULL)

size_t taskvma_format_size(uint64_t bytes, int unit, char *buf, size_t len)
{
	static const char sfx[] = "KMGTPE";
	char tmp[32];
	int k;

	if (unit == TASKVMA_SIZE_BYTES) {
		k = snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)bytes);
	} else if (unit == TASKVMA_SIZE_KIB) {
		k = snprintf(tmp, sizeof(tmp), "%lluK", (unsigned long long)(bytes >> 10));
	} else if (bytes < 1024) {
		/* "0" (nothing shared), else bytes: no mapping is that small */
		k = snprintf(tmp, sizeof(tmp), bytes ? "%lluB" : "%llu", (unsigned long long)bytes);
	} else {
		/* the largest unit that leaves at least 1; integer arithmetic
		 * in 128 bits, so 2^64 - 1 rounds as exactly as 4096 */
		int u = 0;
		unsigned __int128 div = 1024, tenths;

		while (u < 5 && bytes / div >= 1024) {
			div <<= 10;
			u++;
		}
		tenths = ((unsigned __int128)bytes * 10 + div / 2) / div;
		if (tenths >= 10235 && u < 5) {	/* 1023.5K rounds to 1024K: "1.0M" */
			div <<= 10;
			u++;
			tenths = ((unsigned __int128)bytes * 10 + div / 2) / div;
		}
		if (bytes % div == 0)
			k = snprintf(tmp, sizeof(tmp), "%llu%c", (unsigned long long)(bytes / div), sfx[u]);
		else if (tenths < 100)
			k = snprintf(tmp, sizeof(tmp), "%u.%u%c", (unsigned)(tenths / 10),
				     (unsigned)(tenths % 10), sfx[u]);
		else
			k = snprintf(tmp, sizeof(tmp), "%llu%c",
				     (unsigned long long)((tenths + 5) / 10), sfx[u]);
	}
	if (len) {
		size_t c = (size_t)k < len ? (size_t)k : len - 1;

		memcpy(buf, tmp, c);
		buf[c] = 0;
	}
	return (size_t)k;
}

size_t taskvma_format_size_line(const struct taskvma_vma *v, int unit, char *buf, size_t len)
{
	char size[32], perms[5];
	size_t n;
	int k;

	taskvma_format_size(v->end - v->start, unit, size, sizeof(size));
	taskvma_format_perms(v->perms, perms);
	k = snprintf(buf, len, "%016llx-%016llx %8s %s%s", (unsigned long long)v->start,
		     (unsigned long long)v->end, size, perms, v->name_len ? " " : "");
	n = (size_t)k;
	if (n + v->name_len + 1 < len) {
		memcpy(buf + n, v->name, v->name_len);
		buf[n + v->name_len] = '\n';
		buf[n + v->name_len + 1] = 0;
	} else if (len) {
		buf[len - 1] = 0;
	}
	return n + v->name_len + 1;
}

size_t taskvma_format_totals(const struct taskvma_totals *t, int unit, char *buf, size_t len)
{
	char a[32], b[32], c[32];
	int k;

	taskvma_format_size(t->mapped, unit, a, sizeof(a));
	taskvma_format_size(t->writeable_private, unit, b, sizeof(b));
	taskvma_format_size(t->shared, unit, c, sizeof(c));
	k = snprintf(buf, len, "total: %llu mapping%s    mapped: %s    writeable/private: %s    shared: %s\n",
		     (unsigned long long)t->mappings, t->mappings == 1 ? "" : "s", a, b, c);
	return (size_t)k;
}

/* The kinds in the summary's column order (file first: what people look for) */
static const enum taskvma_kind summary_kinds[] = {
	TASKVMA_KIND_FILE, TASKVMA_KIND_ANON, TASKVMA_KIND_HEAP, TASKVMA_KIND_STACK,
	TASKVMA_KIND_SPECIAL, TASKVMA_KIND_ANON_NAMED,
};
#define NSUMMARY_KINDS (sizeof(summary_kinds) / sizeof(summary_kinds[0]))

size_t taskvma_format_summary_header(char *buf, size_t len)
{
	int k = snprintf(buf, len, "%7s %6s %6s %6s %5s %5s %7s %10s %9s %9s %9s %9s %s\n", "PID",
			 "MAPS", "FILE", "ANON", "HEAP", "STACK", "SPECIAL", "ANON_NAMED", "SIZE",
			 "WRITEABLE", "SHARED", "EXEC", "COMM");

	return (size_t)k;
}

size_t taskvma_format_summary(const struct taskvma_totals *t, pid_t pid, const char *comm,
			      int unit, char *buf, size_t len)
{
	static const int width[NSUMMARY_KINDS] = { 6, 6, 5, 5, 7, 10 };
	char sz[4][32], esc[TASKVMA_COMM_ESC_MAX];
	size_t n = 0;
	int k;

	k = snprintf(AT(n), ROOM(n), "%7d %6llu", (int)pid, (unsigned long long)t->mappings);
	n += (size_t)k;
	for (size_t i = 0; i < NSUMMARY_KINDS; i++) {
		k = snprintf(AT(n), ROOM(n), " %*llu", width[i],
			     (unsigned long long)t->kind_count[summary_kinds[i]]);
		n += (size_t)k;
	}
	taskvma_format_size(t->mapped, unit, sz[0], sizeof(sz[0]));
	taskvma_format_size(t->writeable_private, unit, sz[1], sizeof(sz[1]));
	taskvma_format_size(t->shared, unit, sz[2], sizeof(sz[2]));
	taskvma_format_size(t->exec, unit, sz[3], sizeof(sz[3]));
	taskvma_escape_comm(comm ? comm : "", esc, sizeof(esc));
	k = snprintf(AT(n), ROOM(n), " %9s %9s %9s %9s %s\n", sz[0], sz[1], sz[2], sz[3], esc);
	n += (size_t)k;
	if (n >= len && len)
		buf[len - 1] = 0;
	return n;
}

size_t taskvma_format_totals_json(const struct taskvma_totals *t, char *buf, size_t len)
{
	size_t n = 0;
	int k;

	k = snprintf(AT(n), ROOM(n),
		     "{\"mappings\":%llu,\"mapped\":%llu,\"writeable_private\":%llu,"
		     "\"readonly_private\":%llu,\"shared\":%llu,\"exec\":%llu,\"kinds\":{",
		     (unsigned long long)t->mappings, (unsigned long long)t->mapped,
		     (unsigned long long)t->writeable_private, (unsigned long long)t->readonly_private,
		     (unsigned long long)t->shared, (unsigned long long)t->exec);
	n += (size_t)k;
	for (size_t i = 0; i < NSUMMARY_KINDS; i++) {
		enum taskvma_kind kd = summary_kinds[i];

		k = snprintf(AT(n), ROOM(n), "%s\"%s\":{\"count\":%llu,\"bytes\":%llu}", i ? "," : "",
			     taskvma_kind_name(kd), (unsigned long long)t->kind_count[kd],
			     (unsigned long long)t->kind_bytes[kd]);
		n += (size_t)k;
	}
	k = snprintf(AT(n), ROOM(n), "}}");
	n += (size_t)k;
	if (n >= len && len)
		buf[len - 1] = 0;
	return n;
}
