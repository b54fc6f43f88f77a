// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The rules of `taskvma scan`, and map diffs for `taskvma watch`.  Both work
 * on the records every backend produces, so they mean the same everywhere.
 */
#include <string.h>
#include "internal.h"

static bool ends_with(const struct taskvma_vma *v, const char *suffix)
{
	size_t n = strlen(suffix);

	return v->name_len >= n && !memcmp(v->name + v->name_len - n, suffix, n);
}

static bool starts_with(const struct taskvma_vma *v, const char *prefix)
{
	size_t n = strlen(prefix);

	return v->name_len >= n && !memcmp(v->name, prefix, n);
}

static bool is(const struct taskvma_vma *v, const char *name)
{
	return v->name_len == strlen(name) && !memcmp(v->name, name, v->name_len);
}

uint32_t taskvma_suspicious(const struct taskvma_vma *v)
{
	uint32_t r = 0;

	if (!(v->perms & TASKVMA_PERM_EXEC))
		return 0;
	if (v->perms & TASKVMA_PERM_WRITE)
		r |= TASKVMA_SUSPECT_WX;
	switch (v->kind) {
	case TASKVMA_KIND_ANON:
	case TASKVMA_KIND_ANON_NAMED:
		r |= TASKVMA_SUSPECT_ANON_EXEC;
		break;
	case TASKVMA_KIND_STACK:
		r |= TASKVMA_SUSPECT_STACK_EXEC;
		break;
	case TASKVMA_KIND_HEAP:
		r |= TASKVMA_SUSPECT_HEAP_EXEC;
		break;
	case TASKVMA_KIND_FILE:
		/* Anonymous memory behind an internal file: shared anonymous
		 * memory ("/dev/zero (deleted)", "[anon_shmem:NAME]" when
		 * named), hugetlb anonymous memory ("/anon_hugepage (deleted)")
		 * and SysV shm ("/SYSV%08x (deleted)").  "/memfd:NAME (deleted)"
		 * is a memfd, not a deleted file.  The kernel always appends
		 * " (deleted)" to those: a real file "/SYSVx" or "/memfd:x" is
		 * not mistaken for one. */
		if (is(v, "/dev/zero (deleted)") || is(v, "/anon_hugepage (deleted)") ||
		    starts_with(v, "[anon_shmem:") ||
		    (starts_with(v, "/SYSV") && ends_with(v, " (deleted)")))
			r |= TASKVMA_SUSPECT_ANON_EXEC;
		else if (starts_with(v, "/memfd:") && ends_with(v, " (deleted)"))
			r |= TASKVMA_SUSPECT_MEMFD_EXEC;
		else if (ends_with(v, " (deleted)"))
			r |= TASKVMA_SUSPECT_DELETED_EXEC;
		break;
	default:
		break;
	}
	return r;
}

const char *taskvma_suspect_name(uint32_t bit)
{
	switch (bit) {
	case TASKVMA_SUSPECT_WX: return "wx";
	case TASKVMA_SUSPECT_ANON_EXEC: return "anon-exec";
	case TASKVMA_SUSPECT_DELETED_EXEC: return "deleted-exec";
	case TASKVMA_SUSPECT_MEMFD_EXEC: return "memfd-exec";
	case TASKVMA_SUSPECT_STACK_EXEC: return "stack-exec";
	case TASKVMA_SUSPECT_HEAP_EXEC: return "heap-exec";
	}
	return "unknown";
}

static bool same_vma(const struct taskvma_vma *a, const struct taskvma_vma *b)
{
	return a->start == b->start && a->end == b->end && a->offset == b->offset &&
	       a->inode == b->inode && a->dev_major == b->dev_major &&
	       a->dev_minor == b->dev_minor && a->perms == b->perms && a->kind == b->kind &&
	       a->name_len == b->name_len && !memcmp(a->name, b->name, a->name_len);
}

size_t taskvma_map_diff(const struct taskvma_map *old, const struct taskvma_map *new_,
			taskvma_diff_cb cb, void *ctx)
{
	size_t i = 0, j = 0, n = 0;
	size_t no = old ? old->count : 0, nn = new_ ? new_->count : 0;

	/* both sorted by start: a merge */
	while (i < no || j < nn) {
		const struct taskvma_vma *a = i < no ? &old->vmas[i] : NULL;
		const struct taskvma_vma *b = j < nn ? &new_->vmas[j] : NULL;

		if (a && b && same_vma(a, b)) {
			i++, j++;
			continue;
		}
		if (a && (!b || a->start <= b->start)) {
			if (cb)
				cb(ctx, 0, a);
			i++;
		} else {
			if (cb)
				cb(ctx, 1, b);
			j++;
		}
		n++;
	}
	return n;
}
