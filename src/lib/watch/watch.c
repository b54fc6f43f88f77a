// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * taskvma watch: kernel events (watch.bpf.c) -> re-read what changed ->
 * diff against the mirror -> one record per change.
 *
 * The mirror holds, per watched process, its mappings in address order, each
 * name in its own allocation.  An event names the system call in progress
 * and its raw arguments; decode_ranges() turns them into the address ranges
 * that may have changed, or "the whole map" when it cannot tell.  A range
 * re-read asks the backend for the VMAs overlapping [lo, hi) (the query's
 * addr_lo/addr_hi), widens the range until no mirror entry straddles its
 * edges (a split or a merge reaches beyond the system call's range), and
 * replaces that part of the mirror.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "internal.h"
#include "watch.h"
#include "watch.skel.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MREMAP_FIXED
#define MREMAP_FIXED 2
#endif

#define NBUCKETS 1024
/* A change whose kernel event came this long before a re-read started that
 * covered its range is in that re-read already (seen_by()); the margin is
 * for the tracepoint, which fires just before the lock's release, and for
 * a lock holder preempted in between on a loaded machine: 20 ms (200 us
 * lost a change once in a CI run of watch_seq.sh under load; a queue of
 * records from a process that never pauses is still skipped, being older) */
#define COVER_MARGIN_NS 20000000
#define MAX_RANGES 4
#define PAGE_UP(x) (((x) + 4095) & ~4095ull)

struct mproc {
	struct mproc *next;	/* hash chain */
	pid_t pid;
	char comm[16];
	uint64_t seq;
	uint64_t nevents;	/* kernel records seen for it (taskvma_watch_check) */
	uint64_t start_ticks;	/* /proc/PID/stat starttime when added (0: unknown) */
	/* its /proc/PID/maps, kept open between range re-reads (-1: none);
	 * the fds are in an LRU list capped at fd_cap */
	int mfd;
	struct mproc *lru_prev, *lru_next;
	/* the last re-read: [cov_lo, cov_hi) of the mirror (or all of it)
	 * shows the kernel's map as of cov_ns (CLOCK_MONOTONIC) or later;
	 * cov_ns 0: none */
	uint64_t cov_ns, cov_lo, cov_hi;
	bool cov_whole;
	struct taskvma_vma *v;	/* the mirror, by address; names owned */
	size_t n, cap;
	uint64_t floor;		/* its [stack] start as given to the kernel (stack_floor); 0: none */
};

struct taskvma_watch {
	struct taskvma *tv;
	struct taskvma *rtv;	/* range re-reads: a PROCMAP_QUERY handle, or tv */
	struct taskvma_watch_opts o;
	taskvma_watch_cb cb;
	void *ctx;
	enum taskvma_watch_mode mode;
	char reason[256];
	struct watch_bpf *skel;
	struct ring_buffer *rb;
	uint64_t lost_seen;
	int64_t rt_offset;	/* CLOCK_REALTIME - CLOCK_MONOTONIC, ns */
	struct timespec next_poll;
	struct mproc *bucket[NBUCKETS];
	size_t nproc;
	struct taskvma_watch_stats st;
	int stop;		/* a callback's non-zero return */
	int err;		/* a failure inside the ring buffer callback */
	int64_t budget_end;	/* CLOCK_MONOTONIC ns: return from this poll */
	int delivered;		/* records in this call */
	uint64_t cgid;
	uint64_t ns_per_tick;	/* /proc/PID/stat starttime unit (1e9 / USER_HZ) */
	int64_t boot_off_ns;	/* this time namespace's boottime offset */
	int64_t mono_off_ns;	/* and its monotonic one (records: the kernel's) */
	int cglevel;
	/* the ring buffer's consumer and producer positions (a read-only
	 * mapping of its first two pages): is a record reserved but unread? */
	const volatile unsigned long *rb_cons, *rb_prod;
	void *rb_pos_map;
	size_t rb_pos_len;
	int64_t tick_ns;	/* drain(): 0 = woken for every record */
	struct mproc *lru_head, *lru_tail;	/* kept maps fds, most recent first */
	int nfds, fd_cap;
};

/* ---- small helpers -------------------------------------------------------- */

static int64_t now_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* CLOCK_MONOTONIC as the kernel counts it (bpf_ktime_get_ns(), the records'
 * ts_ns): without this time namespace's offset */
static uint64_t kernel_now(const struct taskvma_watch *w)
{
	return (uint64_t)(now_ns(CLOCK_MONOTONIC) - w->mono_off_ns);
}

static void wlog(struct taskvma_watch *w, enum taskvma_log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void wlog(struct taskvma_watch *w, enum taskvma_log_level lvl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tv_logv(w->tv->opts.log, w->tv->opts.log_ctx, w->tv->opts.log_level, lvl, fmt, ap);
	va_end(ap);
}

const char *taskvma_watch_kind_name(enum taskvma_watch_kind k)
{
	switch (k) {
	case TASKVMA_WATCH_SNAPSHOT: return "snapshot";
	case TASKVMA_WATCH_ADDED: return "added";
	case TASKVMA_WATCH_REMOVED: return "removed";
	case TASKVMA_WATCH_CHANGED: return "changed";
	case TASKVMA_WATCH_EXEC: return "exec";
	case TASKVMA_WATCH_FORK: return "fork";
	case TASKVMA_WATCH_EXIT: return "exit";
	case TASKVMA_WATCH_DRIFT: return "drift";
	}
	return "unknown";
}

const char *taskvma_watch_cause_name(enum taskvma_watch_cause c)
{
	switch (c) {
	case TASKVMA_CAUSE_UNKNOWN: return "unknown";
	case TASKVMA_CAUSE_SNAPSHOT: return "snapshot";
	case TASKVMA_CAUSE_MMAP: return "mmap";
	case TASKVMA_CAUSE_MUNMAP: return "munmap";
	case TASKVMA_CAUSE_MPROTECT: return "mprotect";
	case TASKVMA_CAUSE_MREMAP: return "mremap";
	case TASKVMA_CAUSE_BRK: return "brk";
	case TASKVMA_CAUSE_MADVISE: return "madvise";
	case TASKVMA_CAUSE_EXEC: return "exec";
	case TASKVMA_CAUSE_FORK: return "fork";
	case TASKVMA_CAUSE_EXIT: return "exit";
	case TASKVMA_CAUSE_SYSCALL: return "syscall";
	case TASKVMA_CAUSE_OTHER: return "other";
	case TASKVMA_CAUSE_LOST: return "lost";
	case TASKVMA_CAUSE_POLL: return "poll";
	case TASKVMA_CAUSE_CHECK: return "check";
	case TASKVMA_CAUSE_STACK: return "stack";
	}
	return "unknown";
}

enum taskvma_watch_mode taskvma_watch_mode(const struct taskvma_watch *w)
{
	return w->mode;
}

const char *taskvma_watch_reason(const struct taskvma_watch *w)
{
	return w->reason;
}

int taskvma_watch_fd(const struct taskvma_watch *w)
{
	return w->rb ? ring_buffer__epoll_fd(w->rb) : -1;
}

void taskvma_watch_get_stats(const struct taskvma_watch *w, struct taskvma_watch_stats *st)
{
	*st = w->st;
	if (w->skel && w->skel->bss)
		st->lost = w->skel->bss->n_lost;
}

/* ---- the mirror -------------------------------------------------------------- */

static struct mproc **slot(struct taskvma_watch *w, pid_t pid)
{
	struct mproc **pp = &w->bucket[(unsigned)pid % NBUCKETS];

	while (*pp && (*pp)->pid != pid)
		pp = &(*pp)->next;
	return pp;
}

static struct mproc *find(const struct taskvma_watch *w, pid_t pid)
{
	struct mproc *p = w->bucket[(unsigned)pid % NBUCKETS];

	while (p && p->pid != pid)
		p = p->next;
	return p;
}

static void free_names(struct taskvma_vma *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free((char *)v[i].name);
}

/* ---- kept /proc/PID/maps descriptors ---------------------------------------- */

/* A range re-read is an open of /proc/PID/maps (path walk, pid revalidation:
 * 15% of the watcher's CPU), one or two PROCMAP_QUERY ioctls and a close;
 * with the file kept open, the ioctls only.  The file reads the mm it was
 * opened on: the fd is closed at exec (after a vfork the old mm is the
 * parent's, alive) and at exit; an mm that is gone (ESRCH) makes the walk
 * reopen by pid (backend_procmap.c).  The walk takes the fd through the
 * handle's one-slot cache (tv->pm_pid, pm_fd). */
static void lru_unlink(struct taskvma_watch *w, struct mproc *p)
{
	if (p->lru_prev)
		p->lru_prev->lru_next = p->lru_next;
	else
		w->lru_head = p->lru_next;
	if (p->lru_next)
		p->lru_next->lru_prev = p->lru_prev;
	else
		w->lru_tail = p->lru_prev;
	p->lru_prev = p->lru_next = NULL;
}

static void fd_close(struct taskvma_watch *w, struct mproc *p)
{
	if (w->rtv->pm_pid == p->pid) {
		close(w->rtv->pm_fd);
		w->rtv->pm_pid = 0;
	}
	if (p->mfd < 0)
		return;
	close(p->mfd);
	p->mfd = -1;
	lru_unlink(w, p);
	w->nfds--;
}

/* Before a range read of p: its kept fd into the handle's slot. */
static void fd_lend(struct taskvma_watch *w, struct mproc *p)
{
	if (p->mfd < 0)
		return;
	if (w->rtv->pm_pid)
		close(w->rtv->pm_fd);
	w->rtv->pm_pid = p->pid;
	w->rtv->pm_fd = p->mfd;
	p->mfd = -1;
	lru_unlink(w, p);
	w->nfds--;
}

/* After it: the fd the walk left in the slot (the one lent, or a new one)
 * back to p, the least recently used one closed past the cap. */
static void fd_keep(struct taskvma_watch *w, struct mproc *p)
{
	if (w->rtv->pm_pid != p->pid || w->fd_cap <= 0)
		return;
	p->mfd = w->rtv->pm_fd;
	w->rtv->pm_pid = 0;
	p->lru_prev = NULL;
	p->lru_next = w->lru_head;
	if (w->lru_head)
		w->lru_head->lru_prev = p;
	else
		w->lru_tail = p;
	w->lru_head = p;
	if (++w->nfds > w->fd_cap)
		fd_close(w, w->lru_tail);
}

static void drop(struct taskvma_watch *w, pid_t pid)
{
	struct mproc **pp = slot(w, pid), *p = *pp;

	if (!p)
		return;
	*pp = p->next;
	if (p->floor && w->skel)
		bpf_map__delete_elem(w->skel->maps.stack_floor, &pid, sizeof(pid), 0);
	fd_close(w, p);
	free_names(p->v, p->n);
	free(p->v);
	free(p);
	w->nproc--;
	if (w->skel)
		bpf_map__delete_elem(w->skel->maps.watched, &pid, sizeof(pid), 0);
}

/* A copy of v whose name is its own allocation. */
static int own(struct taskvma_vma *dst, const struct taskvma_vma *v)
{
	char *s = malloc(v->name_len + 1);

	if (!s)
		return -ENOMEM;
	memcpy(s, v->name, v->name_len);
	s[v->name_len] = 0;
	*dst = *v;
	dst->name = s;
	return 0;
}

static bool same_vma(const struct taskvma_vma *a, const struct taskvma_vma *b)
{
	return a->start == b->start && a->end == b->end && a->offset == b->offset &&
	       a->inode == b->inode && a->dev_major == b->dev_major &&
	       a->dev_minor == b->dev_minor && a->perms == b->perms && a->kind == b->kind &&
	       a->name_len == b->name_len && !memcmp(a->name, b->name, a->name_len);
}

/* ---- records ------------------------------------------------------------------ */

struct batch {
	enum taskvma_watch_cause cause;
	uint32_t flags;
	pid_t tid;
	int syscall;
	uint64_t mono_ns;
};

static void deliver(struct taskvma_watch *w, struct mproc *p, const struct batch *b,
		    enum taskvma_watch_kind kind, const struct taskvma_vma *vma,
		    const struct taskvma_vma *old, uint32_t n, uint32_t i)
{
	struct taskvma_watch_event ev = {
		.kind = kind, .cause = b->cause, .flags = b->flags, .pid = p->pid,
		.tid = b->tid, .syscall = b->syscall, .seq = ++p->seq,
		.mono_ns = b->mono_ns, .ts_ns = (uint64_t)((int64_t)b->mono_ns + w->rt_offset),
		.batch_n = n, .batch_i = i, .comm = p->comm, .vma = vma, .old = old,
	};
	int r;

	w->st.records++;
	w->delivered++;
	if (w->stop || !w->cb)
		return;
	r = w->cb(w->ctx, &ev);
	if (r)
		w->stop = r;
}

/* The changes from old[] to new[] (both by address), as records: same start
 * and different -> CHANGED; only in old -> REMOVED; only in new -> ADDED.
 * emit false: only counts.  as: AS_SNAPSHOT turns ADDED into SNAPSHOT,
 * AS_DRIFT every record into DRIFT. */
enum { AS_CHANGES, AS_SNAPSHOT, AS_DRIFT };

static uint32_t diff(struct taskvma_watch *w, struct mproc *p, const struct batch *b,
		     const struct taskvma_vma *old, size_t no, const struct taskvma_vma *nw,
		     size_t nn, bool emit, uint32_t total, int as)
{
	size_t i = 0, j = 0;
	uint32_t k = 0;

	while (i < no || j < nn) {
		const struct taskvma_vma *a = i < no ? &old[i] : NULL;
		const struct taskvma_vma *c = j < nn ? &nw[j] : NULL;
		enum taskvma_watch_kind kind;
		const struct taskvma_vma *ov = NULL, *nv = NULL;

		if (a && c && a->start == c->start) {
			i++, j++;
			if (same_vma(a, c))
				continue;
			kind = TASKVMA_WATCH_CHANGED, ov = a, nv = c;
		} else if (a && (!c || a->start < c->start)) {
			i++;
			kind = TASKVMA_WATCH_REMOVED, ov = a, nv = a;
		} else {
			j++;
			kind = TASKVMA_WATCH_ADDED, nv = c;
		}
		if (emit) {
			if (as == AS_DRIFT)
				deliver(w, p, b, TASKVMA_WATCH_DRIFT,
					kind == TASKVMA_WATCH_REMOVED ? NULL : nv, ov, total, k);
			else if (as == AS_SNAPSHOT && kind == TASKVMA_WATCH_ADDED)
				deliver(w, p, b, TASKVMA_WATCH_SNAPSHOT, nv, NULL, total, k);
			else
				deliver(w, p, b, kind, nv, kind == TASKVMA_WATCH_CHANGED ? ov : NULL,
					total, k);
		}
		k++;
	}
	return k;
}

/* Tell the kernel program where p's [stack] starts now (stack_floor in
 * watch.bpf.c): a read release with the stack pointer below it is the stack
 * growing.  The stack is the last mapping but [vsyscall] on x86-64: looked
 * for from the end. */
static void sync_floor(struct taskvma_watch *w, struct mproc *p)
{
	uint64_t floor = 0;

	if (!w->skel)
		return;
	for (size_t i = p->n; i-- > 0;) {
		if (p->v[i].kind == TASKVMA_KIND_STACK) {
			floor = p->v[i].start;
			break;
		}
	}
	if (floor == p->floor)
		return;
	if (!floor) {
		bpf_map__delete_elem(w->skel->maps.stack_floor, &p->pid, sizeof(p->pid), 0);
	} else if (bpf_map__update_elem(w->skel->maps.stack_floor, &p->pid, sizeof(p->pid), &floor,
					sizeof(floor), BPF_ANY)) {
		wlog(w, TASKVMA_LOG_DEBUG, "watch: pid %d: stack_floor full: its stack's growth "
		     "shows at its next re-read", p->pid);
		floor = 0;
	}
	p->floor = floor;
}

/* Replace mirror entries [i0, i1) by nw[0..nn), delivering the differences. */
static int replace(struct taskvma_watch *w, struct mproc *p, const struct batch *b, size_t i0,
		   size_t i1, const struct taskvma_map *m, int as)
{
	size_t nn = m ? m->count : 0, no = i1 - i0, newn = p->n - no + nn;
	const struct taskvma_vma *nw = m ? m->vmas : NULL;
	struct taskvma_vma *copy = NULL;
	uint32_t total;
	size_t k;

	total = diff(w, p, b, p->v + i0, no, nw, nn, false, 0, as);
	if (!total)
		return 0;
	if (nn && !(copy = calloc(nn, sizeof(*copy))))
		return -ENOMEM;
	for (k = 0; k < nn; k++) {
		if (own(&copy[k], &nw[k])) {
			free_names(copy, k);
			free(copy);
			return -ENOMEM;
		}
	}
	if (newn > p->cap) {
		size_t cap = newn + newn / 2 + 16;
		struct taskvma_vma *v = realloc(p->v, cap * sizeof(*v));

		if (!v) {
			free_names(copy, nn);
			free(copy);
			return -ENOMEM;
		}
		p->v = v;
		p->cap = cap;
	}
	/* records first, while the old entries still exist */
	diff(w, p, b, p->v + i0, no, copy, nn, true, total, as);
	free_names(p->v + i0, no);
	memmove(p->v + i0 + nn, p->v + i1, (p->n - i1) * sizeof(*p->v));
	if (nn)
		memcpy(p->v + i0, copy, nn * sizeof(*copy));
	p->n = newn;
	free(copy);
	sync_floor(w, p);
	return 0;
}

/* First mirror index whose end > addr. */
static size_t first_after(const struct mproc *p, uint64_t addr)
{
	size_t lo = 0, hi = p->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (p->v[mid].end > addr)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

static void note_err(struct taskvma_watch *w, struct mproc *p, int err)
{
	if (err == -EAGAIN)
		w->st.torn++;
	else
		w->st.unreadable++;
	wlog(w, TASKVMA_LOG_INFO, "watch: pid %d: re-read failed: %s", p->pid,
	     taskvma_last_error(w->tv));
}

static void set_comm(struct mproc *p, const char *comm)
{
	if (comm && comm[0])
		snprintf(p->comm, sizeof(p->comm), "%s", comm);
}

/* Re-read the whole map of p.  -ESRCH/-ENOENT: gone. */
static int reread_whole(struct taskvma_watch *w, struct mproc *p, const struct batch *b)
{
	struct taskvma_map *m = NULL;
	uint64_t t = kernel_now(w);
	int err = taskvma_snapshot(w->tv, p->pid, NULL, &m);

	w->st.whole_reads++;
	p->cov_ns = 0;
	if (err) {
		taskvma_map_free(m);
		note_err(w, p, err);
		return err;
	}
	set_comm(p, m->comm);
	err = replace(w, p, b, 0, p->n, m, AS_CHANGES);
	if (!err) {
		p->cov_ns = t;
		p->cov_whole = true;
	}
	taskvma_map_free(m);
	return err;
}

/* The kernel's VMAs of pid overlapping [lo, hi), as a map whose names are
 * its own (free with free_range()).  A bare walk (no comm, no [vsyscall]
 * check: two /proc opens fewer), retried while torn. */
static void free_range(struct taskvma_map *m)
{
	free_names(m->vmas, m->count);
	free(m->vmas);
	m->vmas = NULL;
	m->count = 0;
}

static int read_range(struct taskvma_watch *w, struct mproc *p, uint64_t lo, uint64_t hi,
		      struct taskvma_map *m)
{
	int tries = w->rtv->opts.busy_retries > 0 ? w->rtv->opts.busy_retries : 8;
	pid_t pid = p->pid;

	memset(m, 0, sizeof(*m));
	m->pid = pid;
	for (int attempt = 1;; attempt++) {
		struct taskvma_query q;
		const struct taskvma_vma *v;
		struct tv_walk wk;
		size_t cap = 0;
		bool torn;
		int err, r = 0;

		/* memset, not TASKVMA_OPTS: a compound literal may leave the
		 * padding after no_gate non-zero, which OPTS_VALID refuses */
		memset(&q, 0, sizeof(q));
		q.sz = sizeof(q);
		q.addr_lo = lo;
		q.addr_hi = hi;
		q.no_gate = 1;
		fd_lend(w, p);
		err = tv_walk_open(w->rtv, &wk, pid, &q, NULL, true);
		while (!err && (r = tv_walk_next(&wk, &v)) > 0) {
			if (m->count == cap) {
				struct taskvma_vma *nv = realloc(m->vmas, (cap = cap * 2 + 8) * sizeof(*nv));

				if (!nv) {
					err = -ENOMEM;
					break;
				}
				m->vmas = nv;
			}
			if ((err = own(&m->vmas[m->count], v)))
				break;
			m->count++;
		}
		if (!err && r < 0)
			err = r;
		torn = wk.torn;
		tv_walk_fini(&wk);
		fd_keep(w, p);
		if (!err && !torn)
			return 0;
		free_range(m);
		if (!err)
			err = -EAGAIN;
		if ((err != -EAGAIN && err != -EBUSY) || attempt >= tries) {
			if (w->rtv != w->tv)
				snprintf(w->tv->err_msg, sizeof(w->tv->err_msg), "%s",
					 taskvma_last_error(w->rtv));
			return err;
		}
	}
}

/* Re-read [lo, hi) of p (see the top of the file). */
static int reread_range(struct taskvma_watch *w, struct mproc *p, const struct batch *b,
			uint64_t lo, uint64_t hi)
{
	for (int round = 0; round < 4; round++) {
		struct taskvma_map rm, *m;
		size_t i0, i1;
		uint64_t nlo = lo, nhi = hi, t;
		int err;

		/* widen to the mirror entries that overlap */
		i0 = first_after(p, lo);
		if (i0 < p->n && p->v[i0].start < nlo)
			nlo = p->v[i0].start;
		i1 = first_after(p, hi ? hi - 1 : 0);
		if (i1 < p->n && p->v[i1].start < hi && p->v[i1].end > nhi)
			nhi = p->v[i1].end;
		if (nlo != lo || nhi != hi) {
			lo = nlo, hi = nhi;
			continue;
		}
		t = kernel_now(w);
		err = read_range(w, p, lo, hi, &rm);
		w->st.range_reads++;
		if (err) {
			note_err(w, p, err);
			return err;
		}
		m = &rm;
		/* and to the kernel's entries that reach beyond it */
		if (m->count && m->vmas[0].start < nlo)
			nlo = m->vmas[0].start;
		if (m->count && m->vmas[m->count - 1].end > nhi)
			nhi = m->vmas[m->count - 1].end;
		i0 = first_after(p, nlo);
		for (i1 = i0; i1 < p->n && p->v[i1].start < nhi; i1++)
			;
		if ((i0 < p->n && p->v[i0].start < nlo) || (i1 > i0 && p->v[i1 - 1].end > nhi)) {
			/* a mirror entry straddles the new edges: once more, wider */
			free_range(m);
			lo = i0 < p->n && p->v[i0].start < nlo ? p->v[i0].start : nlo;
			hi = i1 > i0 && p->v[i1 - 1].end > nhi ? p->v[i1 - 1].end : nhi;
			continue;
		}
		err = replace(w, p, b, i0, i1, m, AS_CHANGES);
		free_range(m);
		if (!err) {
			p->cov_ns = t;
			p->cov_lo = nlo;
			p->cov_hi = nhi;
			p->cov_whole = false;
		}
		return err;
	}
	return reread_whole(w, p, b);
}

/* ---- adding processes -------------------------------------------------------- */

static struct mproc *new_proc(struct taskvma_watch *w, pid_t pid)
{
	struct mproc *p = calloc(1, sizeof(*p)), **pp = slot(w, pid);

	if (!p)
		return NULL;
	p->pid = pid;
	p->mfd = -1;
	*pp = p;
	w->nproc++;
	return p;
}

/* A kernel start time (boottime ns) in /proc/PID/stat's starttime units,
 * as this time namespace sees it (the kernel's nsec_to_clock_t of
 * timens_add_boottime_ns()). */
static uint64_t start_ticks(const struct taskvma_watch *w, uint64_t start_ns)
{
	if (!start_ns || !w->ns_per_tick)
		return 0;
	return (uint64_t)((int64_t)start_ns + w->boot_off_ns) / w->ns_per_tick;
}

static uint64_t pid_start_ticks(const struct taskvma_watch *w, pid_t pid)
{
	struct tv_mm_ident id;

	return tv_mm_ident(w->tv, pid, &id) ? 0 : id.start_ticks;
}

static void gone(struct taskvma_watch *w, pid_t pid, const struct batch *b, uint64_t start_ns);

/* Snapshot pid into a new mirror entry; SNAPSHOT records unless told not to. */
static int add_with(struct taskvma_watch *w, pid_t pid, const struct taskvma_map *given,
		    uint64_t mono)
{
	struct batch b = { .cause = TASKVMA_CAUSE_SNAPSHOT, .syscall = -1,
			   .mono_ns = mono ? mono : (uint64_t)now_ns(CLOCK_MONOTONIC) };
	struct taskvma_map *m = NULL;
	struct mproc *p = find(w, pid);
	uint64_t st = pid_start_ticks(w, pid);
	int err;

	if (p) {
		struct batch x = b;

		/* the same process, or its pid taken again by a new one after
		 * pid_max wrapped (32768 by default: seen within a 10 s test on
		 * a busy machine) before the old one's exit record was read */
		if (!p->start_ticks || !st || p->start_ticks == st)
			return 0;
		x.cause = TASKVMA_CAUSE_EXIT;
		wlog(w, TASKVMA_LOG_DEBUG, "watch: pid %d is a new process: the old one exited", pid);
		gone(w, pid, &x, 0);
	}
	if (w->skel) {
		uint8_t one = 1;

		/* first, so that no change between the snapshot and now is missed */
		if (!w->o.all)
			bpf_map__update_elem(w->skel->maps.watched, &pid, sizeof(pid), &one,
					     sizeof(one), BPF_ANY);
	}
	if (!given) {
		err = taskvma_snapshot(w->tv, pid, NULL, &m);
		if (err) {
			taskvma_map_free(m);
			if (w->skel && !w->o.all)
				bpf_map__delete_elem(w->skel->maps.watched, &pid, sizeof(pid), 0);
			return err;
		}
		given = m;
	}
	p = new_proc(w, pid);
	if (!p) {
		taskvma_map_free(m);
		return -ENOMEM;
	}
	p->start_ticks = st;
	set_comm(p, given->comm);
	if (w->o.no_snapshot_records) {
		taskvma_watch_cb cb = w->cb;
		uint64_t records = w->st.records;
		int delivered = w->delivered;

		w->cb = NULL;
		err = replace(w, p, &b, 0, 0, given, AS_SNAPSHOT);
		w->cb = cb;
		p->seq = 0;
		w->st.records = records;
		w->delivered = delivered;
	} else {
		err = replace(w, p, &b, 0, 0, given, AS_SNAPSHOT);
	}
	taskvma_map_free(m);
	return err;
}

int taskvma_watch_add(struct taskvma_watch *w, pid_t pid)
{
	int err;

	w->stop = 0;
	err = add_with(w, pid, NULL, 0);
	return err ? err : w->stop;
}

struct add_all_ctx {
	struct taskvma_watch *w;
	int err;
};

static bool matches(struct taskvma_watch *w, pid_t pid, const char *comm)
{
	if (pid == getpid())
		return false;
	if (w->o.all)
		return true;
	if (w->o.comm && comm && !strncmp(w->o.comm, comm, 15))
		return true;
	if (w->o.cgroup) {
		/* the process's cgroup v2 path and each of its ancestors,
		 * resolved to ids like the kernel filter compares them */
		char path[64], line[4096], msg[256];
		FILE *f;
		bool r = false;

		snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
		f = fopen(path, "re");
		if (!f)
			return false;
		while (!r && fgets(line, sizeof(line), f)) {
			char *cg = line + 3, *slash;

			if (strncmp(line, "0::/", 4))
				continue;
			cg[strcspn(cg, "\n")] = 0;
			for (;;) {
				uint64_t id;
				int level;

				if (!tv_resolve_cgroup(cg[1] ? cg : "/", &id, &level, msg,
						       sizeof(msg)) &&
				    id == w->cgid) {
					r = true;
					break;
				}
				slash = strrchr(cg, '/');
				if (!slash || slash == cg)
					break;
				*slash = 0;
			}
		}
		fclose(f);
		return r;
	}
	return false;
}

static int add_all_cb(void *ctx, pid_t pid, int err, const struct taskvma_map *map)
{
	struct add_all_ctx *c = ctx;
	struct taskvma_watch *w = c->w;

	if (err || !map) {
		w->st.unreadable++;
		return 0;
	}
	if (!matches(w, pid, map->comm) || find(w, pid))
		return 0;
	err = add_with(w, pid, map, 0);
	if (err && err != -ENOMEM)
		return 0;
	if (err)
		c->err = err;
	return err ? err : w->stop;
}

int taskvma_watch_add_matching(struct taskvma_watch *w)
{
	struct add_all_ctx c = { .w = w };
	int err;

	w->stop = 0;
	if (!w->o.all && !w->o.comm && !w->o.cgroup)
		return 0;
	err = taskvma_snapshot_all(w->tv, NULL, add_all_cb, &c, NULL);
	if (c.err)
		return c.err;
	return err;
}

int taskvma_watch_remove(struct taskvma_watch *w, pid_t pid)
{
	if (!find(w, pid))
		return -ESRCH;
	drop(w, pid);
	return 0;
}

size_t taskvma_watch_count(const struct taskvma_watch *w)
{
	return w->nproc;
}

size_t taskvma_watch_pids(const struct taskvma_watch *w, pid_t *pids, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < NBUCKETS; i++)
		for (struct mproc *p = w->bucket[i]; p; p = p->next) {
			if (n < max)
				pids[n] = p->pid;
			n++;
		}
	return n;
}

int taskvma_watch_lookup(const struct taskvma_watch *w, pid_t pid, uint64_t addr,
			 struct taskvma_vma *out)
{
	const struct mproc *p = find(w, pid);
	size_t i;

	if (!p)
		return -ESRCH;
	i = first_after(p, addr);
	if (i >= p->n || p->v[i].start > addr)
		return -ENOENT;
	*out = p->v[i];
	return 0;
}

int taskvma_watch_vmas(const struct taskvma_watch *w, pid_t pid, const struct taskvma_vma **vmas,
		       size_t *n)
{
	const struct mproc *p = find(w, pid);

	if (!p)
		return -ESRCH;
	*vmas = p->v;
	*n = p->n;
	return 0;
}

const char *taskvma_watch_comm(const struct taskvma_watch *w, pid_t pid)
{
	const struct mproc *p = find(w, pid);

	return p ? p->comm : "";
}

/* ---- kernel events ------------------------------------------------------------ */

struct ranges {
	int n;		/* -1: the whole map */
	uint64_t lo[MAX_RANGES], hi[MAX_RANGES];
};

static void add_range(struct ranges *r, uint64_t lo, uint64_t len)
{
	uint64_t hi = PAGE_UP(lo + len);

	lo &= ~4095ull;
	if (r->n < 0)
		return;
	if (len == 0 || hi <= lo || r->n == MAX_RANGES) {
		r->n = -1;
		return;
	}
	r->lo[r->n] = lo;
	r->hi[r->n] = hi;
	r->n++;
}

/* What a change record says changed, and why. */
static enum taskvma_watch_cause decode(const struct wt_event *e, struct ranges *r)
{
	const __u64 *a = e->args;

	r->n = 0;
	if (e->flags & WT_F_STACK) {
		/* a fault in the process (in any system call too, copying to
		 * the stack): from the stack pointer to the old start */
		add_range(r, e->ua_lo, e->ua_hi - e->ua_lo);
		return TASKVMA_CAUSE_STACK;
	}
	switch (e->nr) {
	case SYS_execve:
	case SYS_execveat:
		/* the new mm being built: the exec record re-reads it all */
	case SYS_clone:
#ifdef SYS_clone3
	case SYS_clone3:
#endif
	case SYS_fork:
	case SYS_vfork:
		/* fork locks the parent's mm to copy it, and builds the
		 * child's: the parent's does not change, the child's is read
		 * whole when its fork record comes */
		return TASKVMA_CAUSE_UNKNOWN;
	}
	if (e->flags & (WT_F_NO_REGS | WT_F_REMOTE) || e->nr < 0) {
		r->n = -1;
		return TASKVMA_CAUSE_OTHER;
	}
	switch (e->nr) {
	case SYS_mmap:
		if (a[3] & (MAP_FIXED | MAP_FIXED_NOREPLACE)) {
			add_range(r, a[0], a[1]);
		} else if (e->flags & WT_F_UAREA) {
			/* a hint that was free is used without asking
			 * vm_unmapped_area(): cover it too */
			if (a[0])
				add_range(r, a[0], a[1]);
			add_range(r, e->ua_lo, e->ua_hi - e->ua_lo);
		} else {
			r->n = -1;
		}
		return TASKVMA_CAUSE_MMAP;
	case SYS_munmap:
		add_range(r, a[0], a[1]);
		return TASKVMA_CAUSE_MUNMAP;
	case SYS_mprotect:
#ifdef SYS_pkey_mprotect
	case SYS_pkey_mprotect:
#endif
		add_range(r, a[0], a[1]);
		return TASKVMA_CAUSE_MPROTECT;
	case SYS_madvise:
		add_range(r, a[0], a[1]);
		return TASKVMA_CAUSE_MADVISE;
	case SYS_mremap:
		add_range(r, a[0], a[1] > a[2] ? a[1] : a[2]);
		if (a[3] & MREMAP_FIXED)
			add_range(r, a[4], a[2]);
		else if (e->flags & WT_F_UAREA)
			add_range(r, e->ua_lo, e->ua_hi - e->ua_lo);
		return TASKVMA_CAUSE_MREMAP;
	case SYS_brk:
		/* the heap from its start; a shrink is found through the
		 * mirror's old heap entry, which overlaps */
		if (e->brk_start && e->brk >= e->brk_start)
			add_range(r, e->brk_start,
				  e->brk > e->brk_start ? e->brk - e->brk_start : 4096);
		else
			r->n = -1;
		return TASKVMA_CAUSE_BRK;
	default:
		r->n = -1;
		return TASKVMA_CAUSE_SYSCALL;
	}
}

/* Records queue up while the watcher works (a process that maps and unmaps
 * without pause: 50,000 records/s, tests/fixtures/churner -b): the re-read
 * for the first record of a batch finds the state after all of them, and the
 * re-reads for the next ones, of the same range, found nothing new: the
 * change happened before the mirror's last re-read of a range covering
 * its own (see cov_ns), which showed it already.  Skipped: no record is lost
 * (a change after that re-read has a record of its own, yet to come), and
 * one that re-read would have found is credited to its own event. */
static bool seen_by(const struct mproc *p, const struct wt_event *e, bool whole, uint64_t lo,
		    uint64_t hi)
{
	if (!p->cov_ns || e->ts_ns + COVER_MARGIN_NS >= p->cov_ns)
		return false;
	if (p->cov_whole)
		return true;
	return !whole && lo >= p->cov_lo && hi <= p->cov_hi;
}

static int handle_change(struct taskvma_watch *w, struct mproc *p, const struct wt_event *e)
{
	struct ranges r;
	struct batch b = { .tid = e->tid, .syscall = e->nr, .mono_ns = e->ts_ns };
	uint64_t lo, hi;

	b.cause = decode(e, &r);
	if (b.cause == TASKVMA_CAUSE_UNKNOWN)
		return 0;
	if (e->flags & WT_F_REMOTE)
		b.flags |= TASKVMA_WATCH_F_REMOTE;
	if (r.n < 0 || w->o.range_reads < 0 || w->mode != TASKVMA_WATCH_EVENTS) {
		if (seen_by(p, e, true, 0, 0))
			return 0;
		return reread_whole(w, p, &b);
	}
	b.flags |= TASKVMA_WATCH_F_RANGE;
	/* one read of the span of all ranges (mremap's old and new place):
	 * one group of records per event, and what lies between is a few
	 * VMAs at most */
	lo = r.lo[0], hi = r.hi[0];
	for (int i = 1; i < r.n; i++) {
		if (r.lo[i] < lo)
			lo = r.lo[i];
		if (r.hi[i] > hi)
			hi = r.hi[i];
	}
	if (seen_by(p, e, false, lo, hi))
		return 0;
	return reread_range(w, p, &b, lo, hi);
}

/* Process pid exited.  start_ns: the exiting process's start (kernel
 * record), 0 when not known: an exit of an earlier process with this pid
 * (the pid wrapped and the mirror holds the new one already) is not ours. */
static void gone(struct taskvma_watch *w, pid_t pid, const struct batch *b, uint64_t start_ns)
{
	struct mproc *p = find(w, pid);
	uint64_t st = start_ticks(w, start_ns);

	if (!p)
		return;
	if (st && p->start_ticks && st != p->start_ticks) {
		wlog(w, TASKVMA_LOG_DEBUG, "watch: exit of an earlier process with pid %d: not the one mirrored",
		     pid);
		return;
	}
	deliver(w, p, b, TASKVMA_WATCH_EXIT, NULL, NULL, 1, 0);
	drop(w, pid);
}

static int on_record(void *ctx, void *data, size_t len)
{
	struct taskvma_watch *w = ctx;
	const struct wt_event *e = data;
	struct batch b;
	struct mproc *p;
	int err = 0;

	if (len < sizeof(*e))
		return 0;
	w->st.events++;
	wlog(w, TASKVMA_LOG_DEBUG, "watch: event %u tgid %d tid %d nr %d flags %#x args %#llx %#llx %#llx %#llx ua %#llx-%#llx",
	     e->type, e->tgid, e->tid, e->nr, e->flags, (unsigned long long)e->args[0],
	     (unsigned long long)e->args[1], (unsigned long long)e->args[2],
	     (unsigned long long)e->args[3], (unsigned long long)e->ua_lo,
	     (unsigned long long)e->ua_hi);
	p = find(w, e->tgid);
	if (p)
		p->nevents++;
	memset(&b, 0, sizeof(b));
	b.tid = e->tid;
	b.syscall = -1;
	b.mono_ns = e->ts_ns;
	switch (e->type) {
	case WT_EV_CHANGE:
		if (!p) {
			/* a process the kernel filter matched (all, comm, cgroup) */
			if (e->tgid == getpid())
				break;
			err = add_with(w, e->tgid, NULL, e->ts_ns);
			break;
		}
		err = handle_change(w, p, e);
		break;
	case WT_EV_EXEC:
		if (!p) {
			err = add_with(w, e->tgid, NULL, e->ts_ns);
			break;
		}
		set_comm(p, e->comm);
		fd_close(w, p);	/* bound to the mm before the exec */
		b.cause = TASKVMA_CAUSE_EXEC;
		deliver(w, p, &b, TASKVMA_WATCH_EXEC, NULL, NULL, 1, 0);
		err = reread_whole(w, p, &b);
		break;
	case WT_EV_FORK:
		if (p) {
			p->seq++;
			w->st.records++;
			w->delivered++;
			if (!w->stop && w->cb) {
				struct taskvma_watch_event ev = {
					.kind = TASKVMA_WATCH_FORK, .cause = TASKVMA_CAUSE_FORK,
					.pid = p->pid, .tid = e->tid, .child = e->other,
					.syscall = -1, .seq = p->seq, .mono_ns = e->ts_ns,
					.ts_ns = (uint64_t)((int64_t)e->ts_ns + w->rt_offset),
					.batch_n = 1, .comm = p->comm,
				};
				int r = w->cb(w->ctx, &ev);

				if (r)
					w->stop = r;
			}
		}
		if (w->o.all || w->o.follow_forks || w->o.comm || w->o.cgroup)
			err = add_with(w, e->other, NULL, e->ts_ns);
		break;
	case WT_EV_EXIT:
		b.cause = TASKVMA_CAUSE_EXIT;
		gone(w, e->tgid, &b, e->start_ns);
		break;
	}
	if (err == -ESRCH || err == -ENOENT) {
		/* it exited meanwhile: its exit record comes (or came) */
		if (p && e->type != WT_EV_EXIT && !find(w, e->tgid))
			err = 0;
		err = 0;
	}
	if (err == -EAGAIN) {
		/* the map kept changing: the changes' own events re-read it */
		err = 0;
	}
	if (err == -EACCES || err == -EPERM)
		err = 0;
	if (err) {
		w->err = err;
		return -ECANCELED;
	}
	if (w->stop)
		return -ECANCELED;	/* only a negative value stops libbpf */
	/* a map that changes without pause must not keep us here for ever:
	 * give the caller back control every 20 ms (the rest stays queued) */
	if ((w->st.events & 63) == 0 && now_ns(CLOCK_MONOTONIC) > w->budget_end)
		return -ETIME;
	return 0;
}

/* Processes the kernel could not report to us: re-read in full. */
static int resync_lost(struct taskvma_watch *w)
{
	uint64_t lost = w->skel->bss->n_lost;
	int fd = bpf_map__fd(w->skel->maps.lost);
	pid_t key, next;
	int err = 0;

	if (lost == w->lost_seen)
		return 0;
	w->lost_seen = lost;
	wlog(w, TASKVMA_LOG_WARN, "watch: %llu kernel records lost so far: re-reading",
	     (unsigned long long)lost);
	while (!bpf_map_get_next_key(fd, NULL, &next)) {
		struct batch b = { .cause = TASKVMA_CAUSE_LOST, .flags = TASKVMA_WATCH_F_RESYNC,
				   .syscall = -1, .mono_ns = (uint64_t)now_ns(CLOCK_MONOTONIC) };
		struct mproc *p;

		key = next;
		bpf_map_delete_elem(fd, &key);
		p = find(w, key);
		w->st.resyncs++;
		if (!p) {
			if (w->o.all || w->o.comm || w->o.cgroup)
				add_with(w, key, NULL, 0);
			continue;
		}
		err = reread_whole(w, p, &b);
		if (err == -ESRCH || err == -ENOENT) {
			b.cause = TASKVMA_CAUSE_EXIT;
			gone(w, key, &b, 0);
			err = 0;
		}
		if (w->stop)
			return w->stop;
		err = 0;
	}
	return err;
}

/* ---- polling ------------------------------------------------------------------- */

static void ts_add(struct timespec *t, double s)
{
	long ns = (long)(s * 1e9);

	t->tv_sec += ns / 1000000000L;
	t->tv_nsec += ns % 1000000000L;
	if (t->tv_nsec >= 1000000000L) {
		t->tv_sec++;
		t->tv_nsec -= 1000000000L;
	}
}

static int poll_all(struct taskvma_watch *w)
{
	pid_t *pids;
	size_t n = w->nproc;
	struct batch b = { .cause = TASKVMA_CAUSE_POLL, .syscall = -1,
			   .mono_ns = (uint64_t)now_ns(CLOCK_MONOTONIC) };

	if (w->o.all || w->o.comm || w->o.cgroup) {
		int err = taskvma_watch_add_matching(w);

		if (err < 0 && err != -EAGAIN)
			return err;
	}
	n = w->nproc;
	if (!n)
		return 0;
	pids = malloc(n * sizeof(*pids));
	if (!pids)
		return -ENOMEM;
	taskvma_watch_pids(w, pids, n);
	for (size_t i = 0; i < n && !w->stop; i++) {
		struct mproc *p = find(w, pids[i]);
		int err;

		if (!p)
			continue;
		err = reread_whole(w, p, &b);
		if (err == -ESRCH || err == -ENOENT) {
			struct batch x = b;

			x.cause = TASKVMA_CAUSE_EXIT;
			gone(w, pids[i], &x, 0);
		}
	}
	free(pids);
	return 0;
}

/* Records read now: their number, or < 0 (a callback's stop, the budget). */
static int consume(struct taskvma_watch *w)
{
	uint64_t e0 = w->st.events;
	int r = ring_buffer__consume(w->rb);

	return r < 0 ? r : (int)(w->st.events - e0);
}

static void set_draining(struct taskvma_watch *w, uint32_t on)
{
	__atomic_store_n(&w->skel->bss->draining, on, __ATOMIC_SEQ_CST);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* A record reserved (maybe not yet committed) that we have not read. */
static bool pending(const struct taskvma_watch *w)
{
	return __atomic_load_n(w->rb_prod, __ATOMIC_ACQUIRE) !=
	       __atomic_load_n(w->rb_cons, __ATOMIC_ACQUIRE);
}

/* Records are coming: read them in ticks until a tick finds none, instead of
 * being woken for each (a wakeup was 40% of the watcher's CPU at 1,000
 * records/s: a context switch and epoll_wait per record).  Meanwhile the
 * programs do not wake us (watch.bpf.c, `draining`).  The first record of a
 * burst still wakes us at once; the others wait at most a tick.  Until
 * t_end (the caller's timeout) or the budget; `draining` is 0 again on
 * return, so a caller polling taskvma_watch_fd() is woken as before. */
static int drain(struct taskvma_watch *w, int64_t t_end)
{
	int r = 0;

	set_draining(w, 1);
	for (;;) {
		int64_t now = now_ns(CLOCK_MONOTONIC), d = w->tick_ns;
		struct timespec ts;

		if (now + d > t_end)
			d = t_end - now;
		if (now + d > w->budget_end)
			d = w->budget_end - now;
		if (d <= 0)
			break;
		ts.tv_sec = d / 1000000000;
		ts.tv_nsec = d % 1000000000;
		if (nanosleep(&ts, NULL)) {
			r = -errno;
			break;
		}
		r = consume(w);
		if (r < 0 || w->stop || w->err)
			break;
		if (r > 0)
			continue;
		/* an empty tick: back to being woken.  A record whose program
		 * read draining == 1 is reserved already: pending() sees it */
		set_draining(w, 0);
		r = consume(w);
		if (r < 0 || w->stop || w->err || (!r && !pending(w)))
			return r;
		set_draining(w, 1);
	}
	set_draining(w, 0);
	return r;
}

int taskvma_watch_poll(struct taskvma_watch *w, int timeout_ms)
{
	int err;

	w->stop = 0;
	w->delivered = 0;
	if (w->mode == TASKVMA_WATCH_EVENTS) {
		int64_t t0 = now_ns(CLOCK_MONOTONIC);

		w->err = 0;
		w->budget_end = t0 + 20000000;
		/* what is already there first: the kernel wakes the reader only
		 * when it had read everything, so records left behind by a
		 * poll that ran out of time would otherwise wait for ever */
		err = consume(w);
		if (err == 0 && !w->stop && !w->err)
			err = ring_buffer__poll(w->rb, timeout_ms);
		if (err > 0 && w->tick_ns && timeout_ms != 0 && !w->stop && !w->err)
			err = drain(w, timeout_ms < 0 ? INT64_MAX : t0 + (int64_t)timeout_ms * 1000000);
		if (w->err)
			return w->err;
		if (err < 0 && err != -EINTR && err != -ETIME && err != -ECANCELED)
			return err;
		if (!w->stop)
			resync_lost(w);
	} else {
		struct timespec now;
		int64_t wait_ms;

		clock_gettime(CLOCK_MONOTONIC, &now);
		wait_ms = (w->next_poll.tv_sec - now.tv_sec) * 1000 +
			  (w->next_poll.tv_nsec - now.tv_nsec) / 1000000;
		if (wait_ms > 0) {
			if (timeout_ms >= 0 && wait_ms > timeout_ms) {
				if (timeout_ms)
					poll(NULL, 0, timeout_ms);
				return 0;
			}
			poll(NULL, 0, (int)wait_ms);
		}
		clock_gettime(CLOCK_MONOTONIC, &w->next_poll);
		ts_add(&w->next_poll, w->o.poll_interval);
		err = poll_all(w);
		if (err < 0)
			return err;
	}
	return w->stop ? w->stop : w->delivered;
}

int taskvma_watch_check(struct taskvma_watch *w, pid_t pid)
{
	struct batch b = { .cause = TASKVMA_CAUSE_CHECK, .syscall = -1 };
	bool looked_again = false;

	for (int attempt = 0; attempt < 4; attempt++) {
		struct taskvma_map *m = NULL;
		struct mproc *p;
		uint64_t before;
		uint32_t n;
		int err;

		if (w->rb) {
			w->budget_end = now_ns(CLOCK_MONOTONIC) + 20000000;
			ring_buffer__consume(w->rb);
			resync_lost(w);
		}
		p = find(w, pid);
		if (!p)
			return -ESRCH;
		before = p->nevents;
		err = taskvma_snapshot(w->tv, pid, NULL, &m);
		if (err) {
			taskvma_map_free(m);
			return err;
		}
		if (w->rb) {
			/* an event for it since: the mirror may be ahead or behind
			 * the snapshot; compare again */
			w->budget_end = now_ns(CLOCK_MONOTONIC) + 20000000;
			ring_buffer__consume(w->rb);
			p = find(w, pid);
			if (!p) {
				taskvma_map_free(m);
				return -ESRCH;
			}
			if (p->nevents != before) {
				taskvma_map_free(m);
				continue;
			}
		}
		b.mono_ns = (uint64_t)now_ns(CLOCK_MONOTONIC);
		n = diff(w, p, &b, p->v, p->n, m->vmas, m->count, false, 0, AS_DRIFT);
		if (n && !looked_again) {
			/* a difference, and no event yet: a change may be under
			 * way whose lock is still held (an exec building its new
			 * map between two locked steps: `watch --all --check=1s`
			 * during a compile reported a forked bash's whole map as
			 * drift once).  Look again after 20 ms: by then its event
			 * is in (retry) or the mirror is right. */
			struct timespec ts = { 0, 20000000 };

			taskvma_map_free(m);
			looked_again = true;
			nanosleep(&ts, NULL);
			continue;
		}
		if (n)
			err = replace(w, p, &b, 0, p->n, m, AS_DRIFT);
		taskvma_map_free(m);
		return err ? err : (int)n;
	}
	return -EAGAIN;
}

/* ---- setup -------------------------------------------------------------------- */

static bool has_tracepoint(const struct btf *btf, const char *tp)
{
	char name[96];

	snprintf(name, sizeof(name), "btf_trace_%s", tp);
	return btf && btf__find_by_name_kind(btf, name, BTF_KIND_TYPEDEF) >= 0;
}

/* mmap_lock_released's prototype: (void *, mm, write) since the memcg path
 * left it (after 6.12), (void *, mm, memcg_path, write) on 6.1-6.12.
 * 1: the older one; 0: the newer; -1: neither (not used). */
static int released_has_memcg_path(const struct btf *btf)
{
	int id = btf__find_by_name_kind(btf, "btf_trace_mmap_lock_released", BTF_KIND_TYPEDEF);
	const struct btf_type *t = id < 0 ? NULL : btf__type_by_id(btf, (uint32_t)id);

	if (t)
		t = btf__type_by_id(btf, t->type);
	if (t && btf_is_ptr(t))
		t = btf__type_by_id(btf, t->type);
	if (!t || !btf_is_func_proto(t))
		return -1;
	return btf_vlen(t) == 4 ? 1 : btf_vlen(t) == 3 ? 0 : -1;
}

static int silent_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level, (void)fmt, (void)ap;
	return 0;
}

/* Load and attach; on any failure, the reason in w->reason and -errno. */
static int start_events(struct taskvma_watch *w)
{
	static const struct {
		const char *tp;
		bool required;
	} tps[] = {
		{ "mmap_lock_released", true },
		{ "vm_unmapped_area", false },
		{ "sched_process_exec", true },
		{ "sched_process_fork", true },
		{ "sched_process_exit", true },
	};
	struct btf *btf = btf__load_vmlinux_btf();
	struct watch_bpf *skel;
	struct bpf_program *progs[5];
	libbpf_print_fn_t old;
	char missing[128] = "";
	int err, memcg_path;

	if (!btf) {
		snprintf(w->reason, sizeof(w->reason), "kernel BTF unreadable: %s",
			 strerror(errno));
		return -EOPNOTSUPP;
	}
	for (size_t i = 0; i < 5; i++) {
		if (has_tracepoint(btf, tps[i].tp))
			continue;
		if (tps[i].required) {
			snprintf(w->reason, sizeof(w->reason),
				 "tracepoint %s not in this kernel", tps[i].tp);
			btf__free(btf);
			return -EOPNOTSUPP;
		}
		snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing), " %s",
			 tps[i].tp);
	}
	memcg_path = released_has_memcg_path(btf);
	if (memcg_path < 0) {
		snprintf(w->reason, sizeof(w->reason),
			 "tracepoint mmap_lock_released: a prototype this program does not know");
		btf__free(btf);
		return -EOPNOTSUPP;
	}
	/* the open, rodata, load, attach steps, as in libbpf-bootstrap */
	old = libbpf_set_print(silent_print);
	skel = watch_bpf__open();
	if (!skel) {
		err = -errno;
		snprintf(w->reason, sizeof(w->reason), "BPF open failed: %s", strerror(-err));
		goto out;
	}
	progs[0] = memcg_path ? skel->progs.wt_released_memcg : skel->progs.wt_released;
	bpf_program__set_autoload(memcg_path ? skel->progs.wt_released : skel->progs.wt_released_memcg,
				  false);
	progs[1] = skel->progs.wt_unmapped_area;
	progs[2] = skel->progs.wt_exec;
	progs[3] = skel->progs.wt_fork;
	progs[4] = skel->progs.wt_exit;
	for (size_t i = 0; i < 5; i++)
		if (!has_tracepoint(btf, tps[i].tp))
			bpf_program__set_autoload(progs[i], false);
	skel->rodata->self_tgid = getpid();
	skel->rodata->watch_all = !!w->o.all;
	skel->rodata->follow_fork = !!w->o.follow_forks || w->o.comm || w->o.cgroup;
	if (w->o.comm) {
		skel->rodata->sel_comm_on = 1;
		strncpy((char *)skel->rodata->sel_comm, w->o.comm, 15);
	}
	skel->rodata->sel_cgid = w->cgid;
	skel->rodata->sel_cglevel = w->cglevel;
	skel->rodata->nr_munmap = SYS_munmap;
	skel->rodata->nr_brk = SYS_brk;
	skel->rodata->nr_mremap = SYS_mremap;
	bpf_map__set_max_entries(skel->maps.events,
				 (uint32_t)(w->o.ringbuf_bytes ? w->o.ringbuf_bytes : 4u << 20));
	err = watch_bpf__load(skel);
	if (err) {
		snprintf(w->reason, sizeof(w->reason), "BPF load failed: %s", strerror(-err));
		goto out;
	}
	err = watch_bpf__attach(skel);
	if (err) {
		snprintf(w->reason, sizeof(w->reason), "BPF attach failed: %s", strerror(-err));
		goto out;
	}
	w->rb = ring_buffer__new(bpf_map__fd(skel->maps.events), on_record, w, NULL);
	if (!w->rb) {
		err = -errno;
		snprintf(w->reason, sizeof(w->reason), "ring buffer: %s", strerror(-err));
		goto out;
	}
	w->skel = skel;
	if (w->o.batch_ms >= 0) {
		long pg = sysconf(_SC_PAGESIZE);
		void *m = mmap(NULL, 2 * (size_t)pg, PROT_READ, MAP_SHARED,
			       bpf_map__fd(skel->maps.events), 0);

		if (m != MAP_FAILED) {
			w->rb_pos_map = m;
			w->rb_pos_len = 2 * (size_t)pg;
			w->rb_cons = m;
			w->rb_prod = (const volatile unsigned long *)((char *)m + pg);
			w->tick_ns = (int64_t)(w->o.batch_ms ? w->o.batch_ms : 4) * 1000000;
		}
	}
	snprintf(w->reason, sizeof(w->reason), "kernel events (mmap_lock_released%s)%s%s",
		 missing[0] ? "" : ", vm_unmapped_area",
		 missing[0] ? "; missing:" : "", missing);
	skel = NULL;
out:
	libbpf_set_print(old);
	if (skel)
		watch_bpf__destroy(skel);
	btf__free(btf);
	return err;
}

/* What turns a kernel start time into /proc/PID/stat's starttime: USER_HZ
 * and, inside a time namespace, its boottime offset (/proc/self/timens_offsets,
 * 5.6+; absent: no offset). */
static void boot_clock(struct taskvma_watch *w)
{
	long hz = sysconf(_SC_CLK_TCK);
	char path[160], line[128];
	FILE *f;

	w->ns_per_tick = hz > 0 ? 1000000000ull / (uint64_t)hz : 0;
	snprintf(path, sizeof(path), "%s/self/timens_offsets", w->tv->proc_root);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		long long sec, nsec;

		if (sscanf(line, "boottime %lld %lld", &sec, &nsec) == 2)
			w->boot_off_ns = sec * 1000000000ll + nsec;
		if (sscanf(line, "monotonic %lld %lld", &sec, &nsec) == 2)
			w->mono_off_ns = sec * 1000000000ll + nsec;
	}
	fclose(f);
}

int taskvma_watch_new(struct taskvma *tv, const struct taskvma_watch_opts *opts,
		      taskvma_watch_cb cb, void *ctx, struct taskvma_watch **out)
{
	struct taskvma_watch *w;
	int err;

	*out = NULL;
	if (!TV_OPTS_VALID(opts, taskvma_watch_opts))
		return tv_error(tv, -EINVAL, "taskvma_watch_opts: bad sz, or unknown fields set");
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	if (opts)
		memcpy(&w->o, opts,
		       opts->sz < sizeof(w->o) ? opts->sz : sizeof(w->o));
	w->o.sz = sizeof(w->o);
	if (!(w->o.poll_interval > 0))
		w->o.poll_interval = 1;
	w->tv = tv;
	w->rtv = tv;
	if (taskvma_backend(tv) != TASKVMA_BACKEND_PROCMAP &&
	    (tv->opts.backend == TASKVMA_BACKEND_AUTO || tv->opts.backend == TASKVMA_BACKEND_BPF)) {
		/* a few VMAs at an address: PROCMAP_QUERY on the open maps file
		 * is cheaper than loading a walk into the kernel */
		struct taskvma_opts ro;

		memset(&ro, 0, sizeof(ro));
		ro.sz = sizeof(ro);
		ro.backend = TASKVMA_BACKEND_PROCMAP;
		ro.proc_root = tv->opts.proc_root;
		ro.busy_retries = tv->opts.busy_retries;
		if (taskvma_open(&w->rtv, &ro))
			w->rtv = tv;
	}
	{
		struct rlimit rl;

		/* kept maps fds: a quarter of the soft limit, at most 1,024 (256
		 * under the usual 1,024: 200 processes in bench/watch_bench.c) */
		if (!getrlimit(RLIMIT_NOFILE, &rl))
			w->fd_cap = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur / 4 > 1024
					    ? 1024 : (int)(rl.rlim_cur / 4);
	}
	w->cb = cb;
	w->ctx = ctx;
	w->rt_offset = now_ns(CLOCK_REALTIME) - now_ns(CLOCK_MONOTONIC);
	boot_clock(w);
	if (w->o.cgroup) {
		char msg[256];

		err = tv_resolve_cgroup(w->o.cgroup, &w->cgid, &w->cglevel, msg, sizeof(msg));
		if (err) {
			if (w->rtv != tv)
				taskvma_close(w->rtv);
			free(w);
			return tv_error(tv, err, "%s", msg);
		}
	}
	if (w->o.force_poll) {
		snprintf(w->reason, sizeof(w->reason), "polling asked for");
		err = -EOPNOTSUPP;
	} else {
		err = start_events(w);
	}
	if (err) {
		w->mode = TASKVMA_WATCH_POLLING;
		wlog(w, TASKVMA_LOG_INFO, "watch: polling every %gs: %s", w->o.poll_interval,
		     w->reason);
		clock_gettime(CLOCK_MONOTONIC, &w->next_poll);
		ts_add(&w->next_poll, w->o.poll_interval);
	} else {
		w->mode = TASKVMA_WATCH_EVENTS;
		wlog(w, TASKVMA_LOG_INFO, "watch: %s", w->reason);
	}
	*out = w;
	return 0;
}

void taskvma_watch_free(struct taskvma_watch *w)
{
	if (!w)
		return;
	ring_buffer__free(w->rb);
	if (w->rb_pos_map)
		munmap(w->rb_pos_map, w->rb_pos_len);
	while (w->lru_head)
		fd_close(w, w->lru_head);
	if (w->rtv != w->tv)
		taskvma_close(w->rtv);
	if (w->skel)
		watch_bpf__destroy(w->skel);
	w->skel = NULL;
	for (size_t i = 0; i < NBUCKETS; i++) {
		struct mproc *p = w->bucket[i];

		while (p) {
			struct mproc *n = p->next;

			free_names(p->v, p->n);
			free(p->v);
			free(p);
			p = n;
		}
	}
	free(w);
}
