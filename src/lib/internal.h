/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* libtaskvma internals: the backend interface and the handle. */
#ifndef TASKVMA_INTERNAL_H
#define TASKVMA_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include "taskvma.h"
#include "reserve.h"	/* tv_reserve() */

#define TV_HIDDEN __attribute__((visibility("hidden")))

/* libbpf's OPTS_VALID for our options structs: .sz must hold at least the
 * size field, and a caller built against a newer header (sz larger than
 * what this library knows, up to TYPE##__last_field) is accepted only when
 * every byte it added is zero: a field we would silently ignore is -EINVAL. */
static inline bool tv_opts_valid(const void *opts, size_t known)
{
	size_t sz;

	if (!opts)
		return true;
	sz = *(const size_t *)opts;
	if (sz < sizeof(size_t))
		return false;
	for (size_t i = known; i < sz; i++)
		if (((const unsigned char *)opts)[i])
			return false;
	return true;
}
#define TV_OFFSETOFEND(TYPE, FIELD) \
	(__builtin_offsetof(struct TYPE, FIELD) + sizeof(((struct TYPE *)0)->FIELD))
/* The padding after the last field is not checked: a compound literal (as
 * TASKVMA_OPTS() builds) may leave it non-zero, and seen so it refused
 * valid calls at random (EINVAL from a range query).  Fields added later
 * start at the struct's alignment, past that padding. */
#define TV_OPTS_KNOWN(TYPE) \
	((TV_OFFSETOFEND(TYPE, TYPE##__last_field) + _Alignof(struct TYPE) - 1) & \
	 ~(_Alignof(struct TYPE) - 1))
#define TV_OPTS_VALID(OPTS, TYPE) tv_opts_valid((OPTS), TV_OPTS_KNOWN(TYPE))

struct tv_walk;
struct taskvma;

/* What a backend's pass of every process streams (struct tv_backend). */
enum tv_item_type { TV_ITEM_BEGIN = 1, TV_ITEM_VMA, TV_ITEM_END };
struct tv_item {
	enum tv_item_type type;
	pid_t pid;
	int status;		/* END: 0, -EAGAIN, -ESRCH, -errno */
	bool has_gate;		/* BEGIN: the process has the [vsyscall] gate */
	char comm[16];		/* BEGIN */
	struct taskvma_vma v;	/* VMA */
};

/* One process's addresses for a backend's lookup op (struct tv_backend):
 * sorted ascending. */
struct tv_lk_group {
	pid_t pid;
	uint32_t n;
	const uint64_t *addrs;
};

/* A backend produces the VMAs of one process in address order, one at a
 * time, starting at the query's addr_lo.  Filtering, name escaping, the
 * [vsyscall] gate line and tear detection by address order are done once,
 * in maps/walk.c, for all backends. */
struct tv_backend {
	const char *name;
	/* the backend sees the mm's change counter and marks a torn walk
	 * itself (BPF: mm_lock_seq); without it the engine compares walks */
	bool change_counter;
	bool raw_names;	/* names are unescaped kernel strings ('\n' not yet "\012") */
	/* starting a walk costs more than a few PROCMAP_QUERY ioctls (BPF:
	 * one program run, ~55 us against ~25 us): auto answers a few
	 * addresses with the fallback backend when it can seek (lookup.c) */
	bool costly_walk;
	/* Make the backend usable on this handle (load BPF...).  -errno + a
	 * message in tv->err_msg if it cannot work here. */
	int (*open)(struct taskvma *tv);
	void (*close)(struct taskvma *tv);
	int (*walk_start)(struct tv_walk *w);
	/* 1: *v filled; 0: end of the walk; -errno: failure. */
	int (*walk_next)(struct tv_walk *w, struct taskvma_vma *v);
	void (*walk_end)(struct tv_walk *w);
	/* Optional: the next walk_next() returns the VMA containing addr or
	 * the next one above it (addr >= the end of the last one returned).
	 * Address lookups (lookup.c) skip the VMAs between their addresses
	 * with it; without it they are walked and dropped. */
	void (*walk_seek)(struct tv_walk *w, uint64_t addr);
	/* Optional: every process in one kernel pass (NULL: the engine walks
	 * /proc's processes one by one).  The backend only streams, in
	 * increasing pid order, for each process it sees a TV_ITEM_BEGIN, its
	 * VMAs (TV_ITEM_VMA, unfiltered: the engine runs tv_accept()), then a
	 * TV_ITEM_END whose status says how its walk went: 0 complete, -EAGAIN
	 * the map changed meanwhile, -ESRCH gone, or -errno.  Retries, the
	 * processes the pass does not show, filters and the gate line are the
	 * engine's (taskvma_visit_all()).  pass_next: 1 with *it, 0 at the end
	 * of the pass, -errno.  pass_hold: the engine is about to walk single
	 * processes on this handle; keep what the pass has not delivered. */
	int (*pass_start)(struct taskvma *tv, const struct taskvma_query *q);
	int (*pass_next)(struct taskvma *tv, struct tv_item *it);
	int (*pass_hold)(struct taskvma *tv);
	void (*pass_end)(struct taskvma *tv);
	/* Optional: address lookups answered in the kernel, without walking
	 * the maps (BPF: the walker seeks to each needed address; vma_walk.h,
	 * "Address lookups").  Groups sorted by pid, pids unique and > 0, each
	 * at most lookup_cap addresses.  For each group whose lookup completes
	 * cleanly: vis->begin, the VMAs that hold at least one of its
	 * addresses (each once, in address order, the [vsyscall] gate last
	 * when the process has one), vis->end(pid, 0).  A group that did not
	 * complete (an error, its map changed, the pass did not see it, it
	 * exited) gets vis->end(pid, TASKVMA_RETRY) after its begin, or no
	 * call at all: the caller answers it by walking.  Returns 0, a
	 * visitor's non-zero return, or -errno.  lookup_many: how many
	 * processes make one call over all of them cheaper than one call per
	 * process (BPF: one pass over every task against one program run per
	 * pid). */
	int (*lookup)(struct taskvma *tv, const struct tv_lk_group *g, size_t ng,
		      const struct taskvma_visitor *vis, void *ctx);
	size_t lookup_cap;
	size_t lookup_many;
};

extern const struct tv_backend tv_backend_bpf;
/* backend_bpf.c: "engine variant NAME (why not a faster one)", or NULL
 * when the handle has no loaded BPF engine. */
TV_HIDDEN const char *tv_bpf_variant(const struct taskvma *tv);
extern const struct tv_backend tv_backend_procmap;
extern const struct tv_backend tv_backend_procfs;

struct taskvma {
	struct taskvma_opts opts;
	const struct tv_backend *be;
	enum taskvma_backend kind;
	char reason[256];	/* why this backend (auto) */
	char err_msg[256];	/* last failure */
	char proc_root[128];
	bool sys_has_vsyscall;	/* the kernel shows a [vsyscall] gate line */
	bool walk_active;	/* one live walk per handle */
	/* for processes the BPF task iterator cannot see (auto only):
	 * procmap or procfs, chosen on first use */
	const struct tv_backend *fallback;
	/* auto without BPF: the backend for address-ranged queries (procmap),
	 * tv->be (procfs) for whole maps; NULL otherwise */
	const struct tv_backend *ranged;
	void *bpf;		/* backend_bpf state */
	void *lookup;		/* lookup.c: names of the last batch, build ID cache */
	/* procmap: /proc/PID/maps of the last process a lookup (bare walk)
	 * read, kept open for the next lookup of it: one ioctl instead of
	 * open + ioctl + close.  pm_pid 0: none. */
	pid_t pm_pid;
	int pm_fd;
	/* TASKVMA_MAP_* of the process whose end() is being called (or that
	 * taskvma_visit() just returned): taskvma_visit_flags() */
	uint32_t visit_flags;
	/* the last visit's -EAGAIN is a process that could not be frozen
	 * (taskvma_opts.consistent), not a torn map: no map to return */
	bool freeze_failed;
	/* freeze.c: threads seized that never stopped (so could not be
	 * detached): let go on the next freeze or at close */
	pid_t *unreleased;
	size_t n_unreleased, n_unreleased_cap;
};

/* One walk over one process's VMAs (the iterator and snapshots use it). */
struct tv_walk {
	struct taskvma *tv;
	const struct tv_backend *be;	/* tv->be, or tv->fallback */
	pid_t pid;
	struct taskvma_query q;
	char comm[16];
	int err;		/* sticky: -errno */
	bool torn;		/* the map changed during the walk */
	bool invisible;		/* the backend cannot see this process, which
				 * /proc shows (BPF: another pid namespace) */
	bool has_gate;		/* backend says: append the [vsyscall] gate VMA */
	bool gate_done;
	bool ended;
	bool started;
	bool bare;		/* set before walk_start: addresses only, no comm,
				 * no [vsyscall] check (lookups) */
	uint64_t last_end;
	struct taskvma_vma cur;
	char *esc;		/* scratch for escaped names */
	size_t esc_cap;
	void *priv;		/* backend state */
};

/* maps/handle.c */
/* Format and pass a message to `fn` if lvl <= max (shared by the handle's
 * log and the tracer's). */
TV_HIDDEN void tv_logv(taskvma_log_fn fn, void *ctx, int max, enum taskvma_log_level lvl,
		       const char *fmt, va_list ap);
TV_HIDDEN void tv_log(struct taskvma *tv, enum taskvma_log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
TV_HIDDEN int tv_error(struct taskvma *tv, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
TV_HIDDEN const struct tv_backend *tv_pick(const struct taskvma *tv, const struct taskvma_query *q);

/* maps/visit.c */
/* The handle's backend reads every process in one kernel pass: then
 * tv_visit_pass() visits what it shows, and the pids listed that it does
 * not show on their own, in pid order (taskvma_visit_all()'s contract). */
TV_HIDDEN bool tv_has_pass(const struct taskvma *tv);
TV_HIDDEN int tv_visit_pass(struct taskvma *tv, const struct taskvma_query *q, const pid_t *pids,
			    size_t npids, const struct taskvma_visitor *vis, void *ctx);
TV_HIDDEN bool tv_count(struct taskvma_all_stats *st, int err);

/* maps/walk.c */
TV_HIDDEN int tv_walk_init(struct taskvma *tv, struct tv_walk *w, pid_t pid, const struct taskvma_query *q,
			   const struct tv_backend *be);
/* tv_walk_init() for lookups (bare), with the BPF-invisible-pid fallback
 * of auto; be NULL: the handle's choice (tv_pick). */
TV_HIDDEN int tv_walk_open(struct taskvma *tv, struct tv_walk *w, pid_t pid,
			   const struct taskvma_query *q, const struct tv_backend *be, bool bare);
TV_HIDDEN int tv_walk_next(struct tv_walk *w, const struct taskvma_vma **out);
TV_HIDDEN void tv_walk_fini(struct tv_walk *w);
TV_HIDDEN int tv_accept(struct tv_walk *w, struct taskvma_vma *v);
TV_HIDDEN bool tv_gate(struct tv_walk *w, struct taskvma_vma *v);
TV_HIDDEN bool tv_match(const struct taskvma_query *q, const struct taskvma_vma *v);
/* A caller's query (any known size) as this library's full struct. */
TV_HIDDEN void tv_copy_query(struct taskvma_query *dst, const struct taskvma_query *q);
/* The walk failed because its backend cannot see the process, which /proc
 * shows (BPF: another pid namespace): auto reads it with tv_get_fallback(). */
TV_HIDDEN bool tv_cannot_see(const struct tv_walk *w, int err);
/* procmap or procfs, opened on first use (NULL if neither opens). */
TV_HIDDEN const struct tv_backend *tv_get_fallback(struct taskvma *tv);

/* maps/proc.c */
/* Why a process has no address space: -ENOENT with a message, or -ESRCH. */
TV_HIDDEN int tv_explain_nomm(struct taskvma *tv, pid_t pid);
/* The process has exited (gone, or a zombie): a failure in its walk is a
 * vanished process, not an error. */
TV_HIDDEN bool tv_pid_gone(struct taskvma *tv, pid_t pid);
struct tv_mm_ident {
	char state;
	uint64_t v[6];
	uint64_t start_ticks;	/* field 22, starttime: which process has this pid */
	unsigned long flags;	/* field 9, PF_*: PF_EXITING 0x4, PF_KTHREAD 0x00200000 */
};
TV_HIDDEN int tv_mm_ident(const struct taskvma *tv, pid_t pid, struct tv_mm_ident *id);
/* b (taken after a read) is a live process with the address space of a */
TV_HIDDEN bool tv_mm_same(const struct tv_mm_ident *a, const struct tv_mm_ident *b);
TV_HIDDEN bool tv_fds_short(int need, char *why, size_t len);
TV_HIDDEN int tv_read_comm(const struct taskvma *tv, pid_t pid, char comm[16]);

/* maps/snapshot.c: a growable array of VMAs whose names live in one
 * arena (snapshots). */
#define TV_VEC_NAME_SLOTS 64
struct tv_vec {
	struct taskvma_vma *v;
	size_t n, cap;
	char *names;
	size_t nlen, ncap;
	/* Names already stored, by the address the backend gave them: a
	 * process maps each library several times, not always in a row.  A
	 * hit is confirmed by comparing the text, so a reused address is
	 * harmless.  off + 1; 0 = empty. */
	struct tv_vec_name {
		const char *src;
		size_t off1;
	} slot[TV_VEC_NAME_SLOTS];
};
/* maps/walk.c: /proc escapes '\n' in names as "\012": the length after escaping, and
 * the escaped copy (dst has room for tv_escaped_len() bytes). */
TV_HIDDEN size_t tv_escaped_len(const char *s, size_t len);
TV_HIDDEN void tv_escape_copy(char *dst, const char *s, size_t len);
/* maps/format.c: a path the kernel sent as components, leaf first (kfacts.h), as d_path()
 * prints it.  Writes at most cap bytes, returns the full length. */
TV_HIDDEN size_t tv_path_join(const char *comps, size_t len, char *out, size_t cap);
/* maps/format.c: length of the valid UTF-8 sequence at s[0..len), or 0 if it is not one. */
TV_HIDDEN size_t tv_utf8_len(const unsigned char *s, size_t len);
/* maps/snapshot.c: snapshot_all's arena keeps spare chunks while handles are open */
TV_HIDDEN void tv_arena_handles(int delta);
TV_HIDDEN int tv_vec_push(struct tv_vec *vec, const struct taskvma_vma *v);
TV_HIDDEN int tv_vec_to_map(struct tv_vec *vec, pid_t pid, const char *comm, struct taskvma_map **out);
TV_HIDDEN void tv_vec_free(struct tv_vec *vec);

/* maps/proc.c: does the running kernel show a [vsyscall] line (in our own map)? */
TV_HIDDEN bool tv_kernel_has_vsyscall(const char *proc_root);
/* maps/walk.c: the x86 [vsyscall] gate area, which /proc prints after the last VMA. */
TV_HIDDEN void tv_make_gate(struct taskvma_vma *v);

/* freeze.c: every thread of a process in a ptrace stop, so that its map
 * cannot change while a backend without a change counter reads it
 * (taskvma_opts.consistent).  0 frozen, -ESRCH gone, -EAGAIN (with the cause
 * in tv->err_msg) it cannot be frozen, -ENOMEM.  tv_thaw() after the read. */
struct tv_frozen {
	pid_t tid;
	int sig;		/* signal to hand back at detach */
	bool stopped, gone;
};
struct tv_freeze {
	struct tv_frozen *t;
	size_t n, cap;
};
TV_HIDDEN int tv_freeze(struct taskvma *tv, pid_t pid, struct tv_freeze *fz);
TV_HIDDEN void tv_thaw(struct taskvma *tv, struct tv_freeze *fz);
TV_HIDDEN void tv_release_pending(struct taskvma *tv);

/* lookup.c: free the handle's lookup state */
TV_HIDDEN void tv_lookup_close(struct taskvma *tv);

/* A VMA as the BPF programs send it (vma_walk.h, trace.h) into the public
 * record, without its name.  The kernel's dev_t: MINORBITS = 20. */
static inline void tv_vma_from_kernel(struct taskvma_vma *v, uint64_t start, uint64_t end,
				      uint64_t pgoff, uint64_t ino, uint32_t kdev, uint32_t perms,
				      uint32_t kind)
{
	v->start = start;
	v->end = end;
	v->offset = pgoff;
	v->inode = ino;
	v->dev_major = kdev >> 20;
	v->dev_minor = kdev & 0xfffff;
	v->perms = perms;
	v->kind = kind;
	v->flags = 0;
	v->name = "";
	v->name_len = 0;
}

/* format.c / procfs_parse.c */
TV_HIDDEN enum taskvma_kind tv_kind_from_name(const char *name, size_t len, uint64_t inode,
					      uint32_t dev_major, uint32_t dev_minor);

/* procfs helpers (backend_procfs.c) */
/* trace.c: a cgroup v2 directory -> (id, depth below the hierarchy's root).
 * `path` is absolute, or relative to a cgroup2 mount ("system.slice/foo").
 * -errno with a message in msg. */
TV_HIDDEN int tv_resolve_cgroup(const char *path, uint64_t *id, int *level, char *msg, size_t len);
TV_HIDDEN int tv_open_maps(struct taskvma *tv, pid_t pid, int *fd);
TV_HIDDEN int tv_procfs_name(struct taskvma *tv, pid_t pid, uint64_t start, char **name,
			     size_t *len);

#endif
