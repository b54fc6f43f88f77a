// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Visits: one process with retries while its map changes (frozen for a
 * consistent read on backends without a change counter), every process
 * of /proc in pid order, and the one-pass drive of backends that read all
 * processes at once.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "internal.h"

/*
 * One process, with retries while the map changes under the walk.
 * begin() always comes first, even for a process that is not there.
 *
 * Consistency.  The BPF backend sees the mm's change counter (mm_lock_seq)
 * and knows a clean walk from a torn one: its clean walks are atomic
 * snapshots.  PROCMAP_QUERY (one ioctl per VMA) and the /proc text (a page
 * per read, each under its own lock hold) have no such counter, and a walk
 * that crossed a change (a VMA moved by mremap, split by mprotect) can miss
 * it or show it twice while every address is still in order: nothing read
 * from user space tells (two walks that agree do not: an ABA move tears two
 * walks alike, 15 of 50 in tests/cases/race.sh).  So their walks are
 * delivered as they are, without TASKVMA_MAP_ATOMIC, unless the caller asked
 * for consistency (taskvma_opts.consistent): then the process is frozen for
 * the walk (freeze.c).  With BPF and consistency, a map that changed during
 * every walk is read once more with the process frozen.
 */
int taskvma_visit(struct taskvma *tv, pid_t pid, const struct taskvma_query *q,
		  const struct taskvma_visitor *vis, void *ctx)
{
	const struct tv_backend *be = tv_pick(tv, q);
	bool force_freeze = false;
	int err = 0, r;

	tv->err_msg[0] = 0;
	tv->visit_flags = 0;
	tv->freeze_failed = false;
	if (!vis || !TV_OPTS_VALID(vis, taskvma_visitor))
		return tv_error(tv, -EINVAL, "taskvma_visitor: NULL, or unknown fields set");
	for (int attempt = 1;; attempt++) {
		struct tv_walk w;
		struct tv_freeze fz = { 0 };
		const struct taskvma_vma *v;
		bool last = attempt >= tv->opts.busy_retries;
		bool freeze = tv->opts.consistent && (!be->change_counter || force_freeze);

		if (freeze && (err = tv_freeze(tv, pid, &fz))) {
			/* gone: as a walk would have found it; else the cause is
			 * in err_msg (exit 6 in the CLI) */
			char comm[16] = "";

			tv_read_comm(tv, pid, comm);
			if ((r = vis->begin ? vis->begin(ctx, pid, comm) : 0))
				return r;
			if (err == -ESRCH)
				tv_error(tv, err, "pid %d: %s", pid, taskvma_strerror(err));
			tv->freeze_failed = err == -EAGAIN;
			return vis->end ? vis->end(ctx, pid, err) : 0;
		}
		err = tv_walk_init(tv, &w, pid, q, be);
		r = vis->begin ? vis->begin(ctx, pid, w.comm) : 0;
		while (!err && !r && (err = tv_walk_next(&w, &v)) > 0) {
			err = 0;
			r = vis->vma ? vis->vma(ctx, v) : 0;
		}
		if (!err && w.torn)
			err = -EAGAIN;
		if (!r && tv_cannot_see(&w, err)) {
			tv_walk_fini(&w);
			if (freeze)
				tv_thaw(tv, &fz);
			if (tv->opts.backend == TASKVMA_BACKEND_AUTO && tv_get_fallback(tv)) {
				tv_log(tv, TASKVMA_LOG_INFO,
				       "pid %d: not visible to backend %s; using %s", pid, w.be->name,
				       tv->fallback->name);
				be = tv->fallback;
				tv->err_msg[0] = 0;
				attempt--;
				if (vis->end && (r = vis->end(ctx, pid, TASKVMA_RETRY)))
					return r;
				continue;
			}
			tv_error(tv, -ESRCH, "pid %d: not visible to backend %s (another pid namespace?)",
				 pid, w.be->name);
			return vis->end ? vis->end(ctx, pid, -ESRCH) : 0;
		}
		tv_walk_fini(&w);
		if (freeze)
			tv_thaw(tv, &fz);
		if (r)
			return r;
		if ((err == -EAGAIN || err == -EBUSY) &&
		    (!last || (err == -EAGAIN && tv->opts.consistent && !freeze))) {
			if (last) {
				/* consistency asked, every walk torn: once more, frozen */
				tv_log(tv, TASKVMA_LOG_INFO,
				       "pid %d: map changed during each of %d walks; reading it frozen",
				       pid, attempt);
				force_freeze = true;
			} else {
				tv_log(tv, TASKVMA_LOG_INFO, "pid %d: %s, retrying (%d)", pid,
				       err == -EBUSY ? "address space busy" : "map changed during the walk",
				       attempt);
			}
			if (vis->end && (r = vis->end(ctx, pid, TASKVMA_RETRY)))
				return r;
			if (err == -EBUSY)
				usleep(1000 * attempt);
			continue;
		}
		if (err == -EAGAIN)
			tv_error(tv, err, "pid %d: map changed during each of %d walks; not complete",
				 pid, attempt);
		else if (err && !tv->err_msg[0])
			tv_error(tv, err, "pid %d: %s", pid, taskvma_strerror(err));
		if (!err && (be->change_counter || freeze))
			tv->visit_flags = TASKVMA_MAP_ATOMIC;
		return vis->end ? vis->end(ctx, pid, err) : 0;
	}
}

uint32_t taskvma_visit_flags(const struct taskvma *tv)
{
	return tv ? tv->visit_flags : 0;
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

/* Every numeric /proc entry, sorted: the processes (thread-group leaders). */
static int list_pids(struct taskvma *tv, pid_t **out, size_t *n)
{
	DIR *d = opendir(tv->proc_root);
	struct dirent *de;
	pid_t *v = NULL;
	size_t cap = 0, cnt = 0;

	if (!d)
		return tv_error(tv, -errno, "%s: %s", tv->proc_root, strerror(errno));
	/* errno tells the end of the listing from a failure: a process missed
	 * here would be missing from a pass that says it saw every one */
	while ((errno = 0, de = readdir(d))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (!isdigit((unsigned char)de->d_name[0]) || *end || pid <= 0)
			continue;
		if (cnt == cap) {
			pid_t *p = realloc(v, (cap = cap ? cap * 2 : 512) * sizeof(*v));

			if (!p) {
				free(v);
				closedir(d);
				return -ENOMEM;
			}
			v = p;
		}
		v[cnt++] = (pid_t)pid;
	}
	if (errno) {
		int e = errno;

		free(v);
		closedir(d);
		return tv_error(tv, -e, "%s: listing processes: %s", tv->proc_root, strerror(e));
	}
	closedir(d);
	if (cnt)
		qsort(v, cnt, sizeof(*v), cmp_pid);
	*out = v;
	*n = cnt;
	return 0;
}

/* Count a process's outcome in visit_all's stats.  Returns true when the
 * outcome is delivered (vanished processes and kernel threads are not). */
bool tv_count(struct taskvma_all_stats *st, int err)
{
	switch (err) {
	case -ESRCH:
		st->vanished++;
		return false;
	case -ENOENT:
		/* kernel threads (and zombies) have no map: not an error in --all */
		st->kernel_threads++;
		return false;
	case -EACCES:
	case -EPERM:
		st->denied++;
		break;
	case -EAGAIN:
		st->torn++;
		break;
	}
	return true;
}

/* Wraps the caller's visitor: counts, and hides what must not be delivered
 * (begin() of a process that then turns out vanished is held back). */
struct all_ctx {
	struct taskvma *tv;
	const struct taskvma_visitor *vis;
	void *ctx;
	struct taskvma_all_stats *st;
	pid_t pending;		/* begin() seen, not yet forwarded */
	char comm[16];
	bool forwarded;
	uint64_t nvma;
};

static int all_flush_begin(struct all_ctx *a)
{
	if (a->forwarded)
		return 0;
	a->forwarded = true;
	return a->vis->begin ? a->vis->begin(a->ctx, a->pending, a->comm) : 0;
}

static int all_begin(void *ctx, pid_t pid, const char *comm)
{
	struct all_ctx *a = ctx;

	a->pending = pid;
	a->forwarded = false;
	a->nvma = 0;
	snprintf(a->comm, sizeof(a->comm), "%s", comm);
	return 0;
}

static int all_vma(void *ctx, const struct taskvma_vma *v)
{
	struct all_ctx *a = ctx;
	int r = all_flush_begin(a);

	a->nvma++;
	return r ? r : a->vis->vma ? a->vis->vma(a->ctx, v) : 0;
}

static int all_end(void *ctx, pid_t pid, int err)
{
	struct all_ctx *a = ctx;
	int r;

	if (err == TASKVMA_RETRY) {
		if (!a->forwarded)
			return 0;
		a->forwarded = false;
		return a->vis->end ? a->vis->end(a->ctx, pid, err) : 0;
	}
	if (!tv_count(a->st, err)) {
		if (a->vis->sz >= offsetof(struct taskvma_visitor, skip) + sizeof(a->vis->skip) &&
		    a->vis->skip)
			a->vis->skip(a->ctx, pid, err);
		/* vanished: tell the consumer to drop what it got, if anything */
		r = a->forwarded && a->vis->end ? a->vis->end(a->ctx, pid, TASKVMA_RETRY) : 0;
		a->forwarded = false;
		return r;
	}
	if (!err) {
		a->st->processes++;
		a->st->vmas += a->nvma;
		if (!(taskvma_visit_flags(a->tv) & TASKVMA_MAP_ATOMIC))
			a->st->not_atomic++;
	}
	if ((r = all_flush_begin(a)))
		return r;
	a->forwarded = false;
	return a->vis->end ? a->vis->end(a->ctx, pid, err) : 0;
}

bool tv_has_pass(const struct taskvma *tv)
{
	return tv->be->pass_start && !tv->ranged;
}

/* Walk single processes in the middle of a pass: the backend keeps what it
 * has not delivered, the handle is free meanwhile. */
static int visit_held(struct taskvma *tv, pid_t pid, const struct taskvma_query *q,
		      const struct taskvma_visitor *vis, void *ctx)
{
	int r = tv->be->pass_hold(tv);

	if (r)
		return r;
	tv->walk_active = false;
	r = taskvma_visit(tv, pid, q, vis, ctx);
	tv->walk_active = true;
	return r;
}

/* Every process in one kernel pass of the backend.  The engine drives: the
 * backend streams BEGIN / VMA / END items; here each record goes through
 * the pipeline (tear check by address order, filters, escaping), the gate
 * line is added, a changed map is read again on its own at once (so that
 * processes still come in pid order), and the processes /proc listed that
 * the pass did not show (invisible to it, or gone) are visited on their own,
 * in pid order. */
int tv_visit_pass(struct taskvma *tv, const struct taskvma_query *query, const pid_t *pids,
		  size_t npids, const struct taskvma_visitor *vis, void *ctx)
{
	struct taskvma_query qq, *q = &qq;
	struct tv_item it;
	struct tv_walk w = { 0 };
	struct taskvma_vma gate;
	size_t next = 0;
	int err, r = 0, acc, status;

	tv_copy_query(q, query);
	if (tv->walk_active)
		return tv_error(tv, -EBUSY, "another walk is active on this handle");
	tv->walk_active = true;
	err = tv->be->pass_start(tv, q);
	while (!err && !r && (err = tv->be->pass_next(tv, &it)) > 0) {
		err = 0;
		switch (it.type) {
		case TV_ITEM_BEGIN:
			while (!r && next < npids && pids[next] < it.pid)
				r = visit_held(tv, pids[next++], q, vis, ctx);
			while (next < npids && pids[next] <= it.pid)
				next++;
			free(w.esc);
			memset(&w, 0, sizeof(w));
			w.tv = tv;
			w.be = tv->be;
			w.pid = it.pid;
			tv_copy_query(&w.q, q);
			w.has_gate = it.has_gate;
			memcpy(w.comm, it.comm, sizeof(w.comm));
			if (!r && vis->begin)
				r = vis->begin(ctx, w.pid, w.comm);
			break;
		case TV_ITEM_VMA:
			if (w.err)
				break;
			acc = tv_accept(&w, &it.v);
			if (acc < 0)
				w.err = acc;
			else if (acc && vis->vma)
				r = vis->vma(ctx, &it.v);
			break;
		case TV_ITEM_END:
			status = it.status ? it.status : w.err ? w.err : w.torn ? -EAGAIN : 0;
			if (status == -EAGAIN || status == -EBUSY) {
				/* changed under the walk: drop it, read it again */
				if (vis->end)
					r = vis->end(ctx, w.pid, TASKVMA_RETRY);
				if (!r)
					r = visit_held(tv, w.pid, q, vis, ctx);
				break;
			}
			if (!status && tv_gate(&w, &gate) && vis->vma)
				r = vis->vma(ctx, &gate);
			/* a pass backend has the change counter: a clean walk is atomic */
			tv->visit_flags = !status && tv->be->change_counter ? TASKVMA_MAP_ATOMIC : 0;
			if (!r && vis->end)
				r = vis->end(ctx, w.pid, status);
			break;
		}
	}
	tv->be->pass_end(tv);
	tv->walk_active = false;
	free(w.esc);
	/* listed after the last process the pass showed */
	while (!err && !r && next < npids)
		r = taskvma_visit(tv, pids[next++], q, vis, ctx);
	return err < 0 ? err : r;
}

int taskvma_visit_all(struct taskvma *tv, const struct taskvma_query *q,
		      const struct taskvma_visitor *vis, void *ctx, struct taskvma_all_stats *stats)
{
	struct taskvma_all_stats st = { .sz = sizeof(st) };
	struct all_ctx a = { .tv = tv, .vis = vis, .ctx = ctx, .st = &st };
	static const struct taskvma_visitor wrap = {
		.sz = sizeof(struct taskvma_visitor),
		.begin = all_begin,
		.vma = all_vma,
		.end = all_end,
	};
	pid_t *pids = NULL;
	size_t n = 0;

	if (!vis || !TV_OPTS_VALID(vis, taskvma_visitor) || !TV_OPTS_VALID(q, taskvma_query))
		return tv_error(tv, -EINVAL, "taskvma_visitor or taskvma_query: unknown fields set");
	int err = 0;

	/* The processes are those of /proc when the walk starts: a one-pass
	 * backend shows most of them and visits the rest (invisible to it, or
	 * gone) on its own, in pid order; others visit each in turn. */
	err = list_pids(tv, &pids, &n);
	if (!err && tv_has_pass(tv))
		err = tv_visit_pass(tv, q, pids, n, &wrap, &a);
	else
		for (size_t i = 0; !err && i < n; i++)
			err = taskvma_visit(tv, pids[i], q, &wrap, &a);
	free(pids);
	if (stats) {
		size_t sz = stats->sz < sizeof(st) ? stats->sz : sizeof(st);

		memcpy((char *)stats + sizeof(stats->sz), (char *)&st + sizeof(st.sz),
		       sz > sizeof(st.sz) ? sz - sizeof(st.sz) : 0);
	}
	return err;
}
