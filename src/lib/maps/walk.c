// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * One walk of one process's VMAs, what every backend's record goes through:
 * the tear check by address order, filters, name escaping, the [vsyscall]
 * gate line; the fallback backend for processes the BPF iterator cannot
 * see; the public iterator.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

/* The name rule (taskvma.h, struct taskvma_query): the fnmatch(3)
 * pattern against the whole name, or the pattern taken literally (so that
 * "[heap]" needs no escaping), and a pattern without '/' against a file's
 * base name too ("libc.so.6", "libc*" match /usr/lib/.../libc.so.6).
 * Returns 0 on a match, as fnmatch. */
static int tv_name_match(const char *pat, const char *name)
{
	const char *base;

	if (!fnmatch(pat, name, 0) || !strcmp(pat, name))
		return 0;
	if (name[0] != '/' || strchr(pat, '/'))
		return 1;
	base = strrchr(name, '/') + 1;
	return fnmatch(pat, base, 0) && strcmp(pat, base);
}

bool tv_match(const struct taskvma_query *q, const struct taskvma_vma *v)
{
	if (v->end <= q->addr_lo)
		return false;
	if (q->addr_hi && v->start >= q->addr_hi)
		return false;
	if ((v->perms & q->perm_set) != q->perm_set || (v->perms & q->perm_clear))
		return false;
	if (q->kinds && !(q->kinds & (1u << v->kind)))
		return false;
	if ((v->flags & TASKVMA_VMA_GATE) && q->no_gate)
		return false;
	if (q->name_glob) {
		char stackbuf[512], *name = stackbuf;
		int r;

		if (v->name_len >= sizeof(stackbuf)) {
			name = malloc(v->name_len + 1);
			if (!name)
				return false;
		}
		memcpy(name, v->name, v->name_len);
		name[v->name_len] = 0;
		r = tv_name_match(q->name_glob, name);
		if (name != stackbuf)
			free(name);
		if (r)
			return false;
	}
	return true;
}

void tv_copy_query(struct taskvma_query *dst, const struct taskvma_query *q)
{
	memset(dst, 0, sizeof(*dst));
	if (q)
		memcpy(dst, q, q->sz < sizeof(*dst) ? q->sz : sizeof(*dst));
	dst->sz = sizeof(*dst);
}

/* The backend could not see this process, which /proc shows (the BPF task
 * iterator and tasks of another pid namespace): auto reads it another way. */
bool tv_cannot_see(const struct tv_walk *w, int err)
{
	return err == -ESRCH && w->invisible && !w->last_end;
}

static int walk_init(struct taskvma *tv, struct tv_walk *w, pid_t pid, const struct taskvma_query *q,
		     const struct tv_backend *be, bool bare)
{
	int err;

	memset(w, 0, sizeof(*w));
	w->bare = bare;
	w->tv = tv;
	w->be = be ? be : tv_pick(tv, q);
	w->pid = pid;
	tv_copy_query(&w->q, q);
	if (!TV_OPTS_VALID(q, taskvma_query))
		return tv_error(tv, -EINVAL, "taskvma_query: sz %zu with unknown fields set", q->sz);
	if (pid <= 0)
		return tv_error(tv, -EINVAL, "invalid pid %d", pid);
	if (tv->walk_active)
		return tv_error(tv, -EBUSY, "another walk is active on this handle");
	tv->walk_active = true;
	w->started = true;
	err = w->be->walk_start(w);
	if (err) {
		w->err = err;
		return err;
	}
	return 0;
}

int tv_walk_init(struct taskvma *tv, struct tv_walk *w, pid_t pid, const struct taskvma_query *q,
		 const struct tv_backend *be)
{
	return walk_init(tv, w, pid, q, be, false);
}

int tv_walk_open(struct taskvma *tv, struct tv_walk *w, pid_t pid, const struct taskvma_query *q,
		 const struct tv_backend *be, bool bare)
{
	int err = walk_init(tv, w, pid, q, be, bare);

	if (tv_cannot_see(w, err) && tv->opts.backend == TASKVMA_BACKEND_AUTO &&
	    tv_get_fallback(tv)) {
		tv_walk_fini(w);
		tv->err_msg[0] = 0;
		err = walk_init(tv, w, pid, q, tv->fallback, bare);
	}
	return err;
}

/* Copy the name with '\n' escaped as the kernel's seq_path() does. */
size_t tv_escaped_len(const char *s, size_t len)
{
	size_t n = len;
	const char *p = s, *end = s + len;

	while ((p = memchr(p, '\n', (size_t)(end - p)))) {
		n += 3;
		p++;
	}
	return n;
}

void tv_escape_copy(char *dst, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n') {
			memcpy(dst, "\\012", 4);
			dst += 4;
		} else {
			*dst++ = s[i];
		}
	}
}

static int escape_name(struct tv_walk *w, struct taskvma_vma *v)
{
	size_t n;

	if (!memchr(v->name, '\n', v->name_len))
		return 0;
	n = tv_escaped_len(v->name, v->name_len);
	if (w->esc_cap < n + 1) {
		char *p = realloc(w->esc, n + 1);

		if (!p)
			return -ENOMEM;
		w->esc = p;
		w->esc_cap = n + 1;
	}
	tv_escape_copy(w->esc, v->name, v->name_len);
	w->esc[n] = 0;
	v->name = w->esc;
	v->name_len = (uint32_t)n;
	return 0;
}

void tv_make_gate(struct taskvma_vma *v)
{
	memset(v, 0, sizeof(*v));
	v->start = 0xffffffffff600000ull;
	v->end = 0xffffffffff601000ull;
	v->perms = TASKVMA_PERM_EXEC;
	v->kind = TASKVMA_KIND_SPECIAL;
	v->flags = TASKVMA_VMA_GATE;
	v->name = "[vsyscall]";
	v->name_len = 10;
}

/* What every backend's record goes through: tear check, filters, escaping.
 * 1: keep it, 0: filtered out, -errno. */
int tv_accept(struct tv_walk *w, struct taskvma_vma *v)
{
	int r;

	/* VMAs come in address order; anything else is a torn walk. */
	if (v->start < w->last_end || v->end <= v->start)
		w->torn = true;
	w->last_end = v->end;
	if (!tv_match(&w->q, v))
		return 0;
	if (w->be->raw_names && v->name_len && (r = escape_name(w, v)))
		return r;
	return 1;
}

/* After the last VMA: the [vsyscall] gate line, if this process has one. */
bool tv_gate(struct tv_walk *w, struct taskvma_vma *v)
{
	if (!w->has_gate || w->gate_done || !w->tv->sys_has_vsyscall)
		return false;
	w->gate_done = true;
	tv_make_gate(v);
	return tv_match(&w->q, v);
}

/* 1 with *out, 0 at the end, -errno on failure (sticky). */
int tv_walk_next(struct tv_walk *w, const struct taskvma_vma **out)
{
	struct taskvma_vma *v = &w->cur;
	int r;

	if (w->err)
		return w->err;
	while (!w->ended) {
		r = w->be->walk_next(w, v);
		if (r == 0) {
			w->ended = true;
			break;
		}
		if (r > 0)
			r = tv_accept(w, v);
		if (r < 0) {
			w->err = r;
			return r;
		}
		if (r) {
			*out = v;
			return 1;
		}
	}
	if (tv_gate(w, v)) {
		*out = v;
		return 1;
	}
	return 0;
}

void tv_walk_fini(struct tv_walk *w)
{
	if (w->started) {
		if (w->be->walk_end)
			w->be->walk_end(w);
		w->tv->walk_active = false;
	}
	free(w->esc);
	w->esc = NULL;
	w->started = false;
}

const struct tv_backend *tv_get_fallback(struct taskvma *tv)
{
	static const struct tv_backend *const order[] = { &tv_backend_procmap, &tv_backend_procfs };
	char msg[sizeof(tv->err_msg)];

	if (tv->fallback)
		return tv->fallback;
	memcpy(msg, tv->err_msg, sizeof(msg));
	for (unsigned i = 0; i < 2 && !tv->fallback; i++)
		if (!order[i]->open(tv))
			tv->fallback = order[i];
	memcpy(tv->err_msg, msg, sizeof(msg));
	return tv->fallback;
}
/* ---- iterator ---- */

struct taskvma_iter {
	struct tv_walk w;
};

int taskvma_iter_new(struct taskvma *tv, struct taskvma_iter **itp, pid_t pid, uint64_t addr)
{
	struct taskvma_iter *it;
	struct taskvma_query q = { .sz = sizeof(q), .addr_lo = addr };
	int err;

	*itp = NULL;
	it = calloc(1, sizeof(*it));
	if (!it)
		return -ENOMEM;
	*itp = it;
	err = tv_walk_init(tv, &it->w, pid, &q, NULL);
	if (tv_cannot_see(&it->w, err) && tv->opts.backend == TASKVMA_BACKEND_AUTO &&
	    tv_get_fallback(tv)) {
		tv_walk_fini(&it->w);
		tv->err_msg[0] = 0;
		err = tv_walk_init(tv, &it->w, pid, &q, tv->fallback);
	}
	return err;
}

const struct taskvma_vma *taskvma_iter_next(struct taskvma_iter *it)
{
	const struct taskvma_vma *v;

	if (!it || tv_walk_next(&it->w, &v) <= 0)
		return NULL;
	return v;
}

int taskvma_iter_err(const struct taskvma_iter *it)
{
	if (!it)
		return -EINVAL;
	if (it->w.err)
		return it->w.err;
	return it->w.torn ? -EAGAIN : 0;
}

void taskvma_iter_destroy(struct taskvma_iter *it)
{
	if (!it)
		return;
	tv_walk_fini(&it->w);
	free(it);
}
