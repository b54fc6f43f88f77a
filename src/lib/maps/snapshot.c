// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Snapshots of one or all processes: the growable VMA vector (tv_vec), the
 * arena that taskvma_snapshot_all()'s maps live in, the collecting visitor.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "internal.h"

/* ---- snapshots ---- */

int tv_vec_push(struct tv_vec *vec, const struct taskvma_vma *v)
{
	struct tv_vec_name *s;
	struct taskvma_vma *d;

	if (tv_reserve((void **)&vec->v, &vec->cap, vec->n + 1, sizeof(*vec->v), 256))
		return -ENOMEM;
	d = &vec->v[vec->n];
	*d = *v;
	if (!v->name_len) {
		d->name = NULL;	/* resolved to "" in tv_vec_to_map */
		vec->n++;
		return 0;
	}
	/* Share the text with an earlier record of the same name when the
	 * backend handed it over from the same place. */
	s = &vec->slot[((uintptr_t)v->name >> 3 ^ v->name_len) % TV_VEC_NAME_SLOTS];
	if (s->off1 && s->src == v->name && vec->v[s->off1 - 1].name_len == v->name_len &&
	    !memcmp(vec->names + (uintptr_t)vec->v[s->off1 - 1].name, v->name, v->name_len)) {
		d->name = vec->v[s->off1 - 1].name;
	} else {
		if (tv_reserve((void **)&vec->names, &vec->ncap, vec->nlen + v->name_len + 1, 1, 4096))
			return -ENOMEM;
		memcpy(vec->names + vec->nlen, v->name, v->name_len);
		vec->names[vec->nlen + v->name_len] = 0;
		/* an offset until the arena stops moving (tv_vec_to_map) */
		d->name = (const char *)(uintptr_t)vec->nlen;
		vec->nlen += v->name_len + 1;
		s->src = v->name;
		s->off1 = vec->n + 1;
	}
	vec->n++;
	return 0;
}

void tv_vec_free(struct tv_vec *vec)
{
	free(vec->v);
	free(vec->names);
	memset(vec, 0, sizeof(*vec));
}

/* A map owns the vector's arrays: handing them over costs no copy (the
 * vector starts empty again).  Or, for taskvma_snapshot_all(), the map lives
 * in a chunk of the pass's arena (below).  The wrapper is private to the
 * library. */
struct tv_map_owner {
	struct taskvma_map map;
	struct taskvma_vma *v;
	char *names;
	struct tv_chunk *chunk;	/* arena map: v, names and this wrapper are in it */
	size_t asz;		/* bytes taken from the chunk */
};

/*
 * The arena of taskvma_snapshot_all(): every map of a pass is copied into
 * large chunks (8 MiB, or one map's size).  A pass over 200 processes
 * otherwise allocates ~8 MiB in small blocks that glibc hands back to the
 * kernel when the caller frees them, and the next pass takes 2,000+ page
 * faults again (about 8 ms on this project's VM, a quarter of the walk).
 * Here a chunk is faulted in 1 MiB at a time with MADV_POPULATE_WRITE (one
 * call instead of 256 faults), and a chunk whose last map was freed is kept
 * for the next pass (up to TV_SPARE_CHUNKS, released when the last handle
 * closes) instead of being unmapped.  No transparent huge pages: with the
 * usual defrag=madvise setting a huge-page fault may stall in direct
 * compaction, which showed as passes twice as slow as others here.  A chunk
 * is reference counted (maps may be freed from any thread); a map the
 * callback does not keep is freed at once and its space reused.
 */
struct tv_chunk {
	size_t size;		/* bytes mapped, this header included */
	size_t used;
	size_t populated;	/* bytes prefaulted from the start */
	long refs;		/* maps in it, + 1 while it is the arena's current chunk */
};

#define TV_CHUNK_MIN (8u << 20)
#define TV_ARENA_MAX_MAP (1u << 20)	/* records of 16,384 VMAs */
#define TV_POPULATE_STEP (1u << 20)
#define TV_SPARE_CHUNKS 2
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

static struct tv_chunk *spare_chunks[TV_SPARE_CHUNKS];
static long open_handles;

static struct tv_chunk *chunk_new(size_t need)
{
	size_t size = (need + 64 + 4095) & ~(size_t)4095;
	struct tv_chunk *c;
	void *m;

	if (size < TV_CHUNK_MIN)
		size = TV_CHUNK_MIN;
	for (int i = 0; i < TV_SPARE_CHUNKS; i++) {
		c = __atomic_exchange_n(&spare_chunks[i], NULL, __ATOMIC_ACQ_REL);
		if (c && c->size >= size) {
			c->used = 64;
			c->refs = 1;
			return c;
		}
		if (c)
			munmap(c, c->size);
	}
	m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		 -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	c = m;
	c->size = size;
	c->used = 64;	/* the header, rounded to a cache line */
	c->populated = 4096;
	c->refs = 1;
	return c;
}

static void chunk_unref(struct tv_chunk *c)
{
	if (!c || __atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	if (__atomic_load_n(&open_handles, __ATOMIC_ACQUIRE) > 0 && c->size == TV_CHUNK_MIN) {
		for (int i = 0; i < TV_SPARE_CHUNKS; i++) {
			struct tv_chunk *none = NULL;

			if (__atomic_compare_exchange_n(&spare_chunks[i], &none, c, false,
							__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
				return;
		}
	}
	munmap(c, c->size);
}

/* Called when a handle opens or closes: spare chunks live while handles do. */
void tv_arena_handles(int delta)
{
	if (__atomic_add_fetch(&open_handles, delta, __ATOMIC_ACQ_REL) > 0)
		return;
	for (int i = 0; i < TV_SPARE_CHUNKS; i++) {
		struct tv_chunk *c = __atomic_exchange_n(&spare_chunks[i], NULL, __ATOMIC_ACQ_REL);

		if (c)
			munmap(c, c->size);
	}
}

struct tv_arena {
	struct tv_chunk *cur;
};

/* sz bytes (16-aligned) from the current chunk, or a new one. */
static void *arena_alloc(struct tv_arena *a, size_t sz, struct tv_chunk **chunk)
{
	struct tv_chunk *c;
	void *p;

	sz = (sz + 15) & ~(size_t)15;
	if (!a->cur || a->cur->used + sz > a->cur->size) {
		c = chunk_new(sz);
		if (!c)
			return NULL;
		chunk_unref(a->cur);
		a->cur = c;
	}
	c = a->cur;
	if (c->used + sz > c->populated) {
		size_t end = (c->used + sz + TV_POPULATE_STEP - 1) & ~(size_t)(TV_POPULATE_STEP - 1);

		if (end > c->size)
			end = c->size;
		/* a hint: on failure (before 5.14) pages fault in one by one */
		madvise((char *)c + c->populated, end - c->populated, MADV_POPULATE_WRITE);
		c->populated = end;
	}
	p = (char *)c + c->used;
	c->used += sz;
	__atomic_add_fetch(&c->refs, 1, __ATOMIC_ACQ_REL);
	*chunk = c;
	return p;
}

/* The vector's contents as a map in the arena; the vector keeps its buffers
 * for the next process. */
static int vec_to_arena_map(struct tv_vec *vec, struct tv_arena *a, pid_t pid, const char *comm,
			    struct taskvma_map **out)
{
	size_t hdr = (sizeof(struct tv_map_owner) + 15) & ~(size_t)15;
	size_t vsz = vec->n * sizeof(struct taskvma_vma), asz = hdr + vsz + vec->nlen + 1;
	struct tv_map_owner *o;
	struct tv_chunk *c;
	char *names;

	o = arena_alloc(a, asz, &c);
	if (!o)
		return -ENOMEM;
	memset(o, 0, sizeof(*o));
	o->chunk = c;
	o->asz = (asz + 15) & ~(size_t)15;
	o->map.pid = pid;
	snprintf(o->map.comm, sizeof(o->map.comm), "%s", comm);
	o->map.count = vec->n;
	o->map.vmas = (struct taskvma_vma *)((char *)o + hdr);
	names = (char *)o->map.vmas + vsz;
	if (vec->nlen)
		memcpy(names, vec->names, vec->nlen);
	names[vec->nlen] = 0;
	memcpy(o->map.vmas, vec->v, vsz);
	for (size_t i = 0; i < vec->n; i++)
		o->map.vmas[i].name = o->map.vmas[i].name_len ? names + (uintptr_t)o->map.vmas[i].name : "";
	vec->n = vec->nlen = 0;
	memset(vec->slot, 0, sizeof(vec->slot));
	*out = &o->map;
	return 0;
}

/* Free a map the callback did not keep: the last one taken from the current
 * chunk gives its space back. */
static void arena_map_drop(struct tv_arena *a, struct taskvma_map *map)
{
	struct tv_map_owner *o = (struct tv_map_owner *)map;

	if (o->chunk == a->cur && (char *)o + o->asz == (char *)a->cur + a->cur->used)
		a->cur->used -= o->asz;
	taskvma_map_free(map);
}

int tv_vec_to_map(struct tv_vec *vec, pid_t pid, const char *comm, struct taskvma_map **out)
{
	struct tv_map_owner *o = calloc(1, sizeof(*o));

	if (!o)
		return -ENOMEM;
	if (!vec->names && !(vec->names = malloc(1))) {
		free(o);
		return -ENOMEM;
	}
	o->map.pid = pid;
	snprintf(o->map.comm, sizeof(o->map.comm), "%s", comm);
	o->map.count = vec->n;
	o->map.vmas = vec->v;
	o->v = vec->v;
	o->names = vec->names;
	for (size_t i = 0; i < vec->n; i++)
		o->v[i].name = o->v[i].name_len ? vec->names + (uintptr_t)o->v[i].name : "";
	memset(vec, 0, sizeof(*vec));
	*out = &o->map;
	return 0;
}

void taskvma_map_free(struct taskvma_map *map)
{
	struct tv_map_owner *o = (struct tv_map_owner *)map;

	if (!map)
		return;
	if (o->chunk) {
		chunk_unref(o->chunk);	/* o lives in it: not used after this */
		return;
	}
	free(o->v);
	free(o->names);
	free(o);
}

/* A visitor that collects a map: what snapshots are made of. */
struct collect {
	struct taskvma *tv;
	struct tv_vec vec;
	char comm[16];
	int attempts;
	int err;
	uint32_t flags;		/* TASKVMA_MAP_ATOMIC of the walk delivered */
	bool done;
};

static int collect_begin(void *ctx, pid_t pid, const char *comm)
{
	struct collect *c = ctx;

	(void)pid;
	c->vec.n = c->vec.nlen = 0;
	memset(c->vec.slot, 0, sizeof(c->vec.slot));
	snprintf(c->comm, sizeof(c->comm), "%s", comm);
	c->attempts++;
	return 0;
}

static int collect_vma(void *ctx, const struct taskvma_vma *v)
{
	return tv_vec_push(&((struct collect *)ctx)->vec, v);
}

static int collect_end(void *ctx, pid_t pid, int err)
{
	struct collect *c = ctx;

	(void)pid;
	if (err == TASKVMA_RETRY)
		return 0;
	c->err = err;
	c->flags = err ? 0 : taskvma_visit_flags(c->tv);
	c->done = true;
	return 0;
}

static const struct taskvma_visitor collect_visitor = {
	.sz = sizeof(struct taskvma_visitor),
	.begin = collect_begin,
	.vma = collect_vma,
	.end = collect_end,
};

static int collect_to_map(struct taskvma *tv, struct collect *c, pid_t pid, struct tv_arena *arena,
			  struct taskvma_map **out)
{
	int err = c->err;

	*out = NULL;
	/* a process that could not be frozen: nothing was read */
	if (err && (err != -EAGAIN || tv->freeze_failed))
		return err;
	/* a large map keeps the vector's own buffers: copying it would cost
	 * more than its page faults */
	if (arena && c->vec.n * sizeof(struct taskvma_vma) < TV_ARENA_MAX_MAP ?
		    vec_to_arena_map(&c->vec, arena, pid, c->comm, out) :
		    tv_vec_to_map(&c->vec, pid, c->comm, out))
		return -ENOMEM;
	(*out)->attempts = c->attempts;
	(*out)->flags |= c->flags;
	if (err) {
		(*out)->flags |= TASKVMA_MAP_TORN;
		tv_error(tv, err, "pid %d: map changed during each of %d walks; not complete", pid,
			 c->attempts);
	}
	return err;
}
int taskvma_snapshot(struct taskvma *tv, pid_t pid, const struct taskvma_query *q,
		     struct taskvma_map **out)
{
	struct collect c = { .tv = tv };
	char msg[sizeof(tv->err_msg)];
	int err;

	err = taskvma_visit(tv, pid, q, &collect_visitor, &c);
	if (!err)
		err = collect_to_map(tv, &c, pid, NULL, out);
	else
		*out = NULL;
	memcpy(msg, tv->err_msg, sizeof(msg));
	tv_vec_free(&c.vec);
	memcpy(tv->err_msg, msg, sizeof(msg));
	return err;
}
/* snapshot_all = visit_all + collect, one map at a time. */
struct snap_all {
	struct collect c;
	struct tv_arena arena;
	taskvma_map_cb cb;
	void *ctx;
	struct taskvma *tv;
};

static int snap_begin(void *ctx, pid_t pid, const char *comm)
{
	return collect_begin(&((struct snap_all *)ctx)->c, pid, comm);
}

static int snap_vma(void *ctx, const struct taskvma_vma *v)
{
	return collect_vma(&((struct snap_all *)ctx)->c, v);
}

static int snap_end(void *ctx, pid_t pid, int err)
{
	struct snap_all *s = ctx;
	struct taskvma_map *m = NULL;
	int r;

	if (err == TASKVMA_RETRY)
		return 0;
	s->c.err = err;
	s->c.flags = err ? 0 : taskvma_visit_flags(s->tv);
	err = collect_to_map(s->tv, &s->c, pid, &s->arena, &m);
	r = s->cb(s->ctx, pid, err, m);
	if (r == TASKVMA_KEEP && m)
		r = 0;	/* the caller owns it now */
	else if (m)
		arena_map_drop(&s->arena, m);
	if (r == TASKVMA_KEEP)
		r = 0;
	s->c.attempts = 0;
	return r;
}

int taskvma_snapshot_all(struct taskvma *tv, const struct taskvma_query *q, taskvma_map_cb cb,
			 void *ctx, struct taskvma_all_stats *stats)
{
	static const struct taskvma_visitor vis = {
		.sz = sizeof(struct taskvma_visitor),
		.begin = snap_begin,
		.vma = snap_vma,
		.end = snap_end,
	};
	struct snap_all s = { .c = { .tv = tv }, .cb = cb, .ctx = ctx, .tv = tv };
	int err = taskvma_visit_all(tv, q, &vis, &s, stats);

	tv_vec_free(&s.c.vec);
	chunk_unref(s.arena.cur);	/* unmapped now unless the caller kept maps */
	return err;
}
