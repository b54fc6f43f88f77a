// SPDX-License-Identifier: GPL-2.0
/*
 * taskvma watch: one ring-buffer record per change of a watched process's
 * VMA tree, per exec, per fork of a new process and per process exit
 * (record layout: watch.h).  User space re-reads what changed.
 *
 * Every change to a VMA tree is made with the mmap lock held for writing,
 * and the mmap_lock tracepoints fire around it:
 *   tp_btf/mmap_lock_released (mm, write), on 6.1-6.12 (mm, memcg_path,
 *       write): see wt_released_memcg.  write == true: the tree may have
 *       changed.  munmap(), brk() and mremap() may downgrade the lock to a
 *       read lock once the VMAs are detached (mmap_write_downgrade()); they
 *       then release it as a read lock: a read release inside one of those
 *       three system calls (numbers in rodata) on the caller's own mm counts
 *       as a change too.
 *   tp_btf/vm_unmapped_area (addr, info)    where get_unmapped_area() put a
 *       new mapping (mmap() without MAP_FIXED, a moving mremap()): the range
 *       is kept per thread until the lock is released, so user space can
 *       re-read only that range.
 *   tp_btf/sched_process_exec, _fork, _exit.
 * The system call in progress and its arguments are read from the task's
 * saved user registers (bpf_task_pt_regs): that is the cause, and the range.
 *
 * Which processes: all (watch_all), those in the `watched` hash (by tgid;
 * children of watched processes are added at fork when follow_fork is set),
 * and those whose comm or cgroup matches (sel_comm, sel_cgid).  The watcher
 * itself is never watched: its own mmap()s would feed back.
 *
 * A record that does not fit in the ring buffer is counted (n_lost) and its
 * process noted in `lost`: user space re-reads those in full.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "compat.bpf.h"
#include "watch.h"

#define MAX_ERRNO	4095

/* ---- configuration: rodata, set by user space before load ------------- */

const volatile __s32 self_tgid = 0;	/* the watcher: never watched */
const volatile __u32 watch_all = 0;	/* every process */
const volatile __u32 follow_fork = 0;	/* children of watched processes are watched */
const volatile __u32 sel_comm_on = 0;	/* processes whose comm is sel_comm */
const volatile char sel_comm[16] = {};
const volatile __u64 sel_cgid = 0;	/* processes in this cgroup v2 or below ... */
const volatile __s32 sel_cglevel = 0;	/* ... which is at this depth */
/* The system calls that may release a write-locked mmap lock as a read lock
 * (mmap_write_downgrade()); -1 = none. */
const volatile __s32 nr_munmap = -1;
const volatile __s32 nr_brk = -1;
const volatile __s32 nr_mremap = -1;

/* ---- counters: read by user space -------------------------------------- */

__u64 n_lost = 0;		/* records that did not fit in the ring buffer */
__u64 n_events = 0;		/* records written */
__u64 n_unowned = 0;		/* changes to an mm of no known process (no mm->owner) */

/* ---- set by user space -------------------------------------------------- */

/* 1 while user space drains the ring in ticks (watch.c, drain()): it reads
 * again within a few ms without being woken, so a record does not wake it
 * (BPF_RB_NO_WAKEUP).  0: the default, wake the reader if the ring was
 * empty.  User space clears it, then looks at the ring once more before it
 * sleeps in epoll_wait: see submit() for why that closes the race. */
__u32 draining = 0;

/* ---- maps --------------------------------------------------------------- */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);	/* resized by user space before load */
} events SEC(".maps");

/* tgid -> 1: the processes watched by pid (and their children). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);	/* resized by user space */
	__type(key, __s32);
	__type(value, __u8);
} watched SEC(".maps");

/* tgid -> 1: processes that lost a record; user space deletes the entry and
 * re-reads the process in full. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __s32);
	__type(value, __u8);
} lost SEC(".maps");

/* tgid -> the start of its [stack] VMA as the mirror has it (user space
 * keeps it current).  The main stack grows in a page fault below that start
 * (also one taken by the kernel copying to user memory in a system call),
 * and since Linux 6.5 that fault takes the mmap lock for writing only to
 * downgrade it (lock_mm_and_find_vma(): mmap_write_downgrade()), so no write
 * release marks it; before 6.5 it grew under the read lock.  Either way the
 * fault ends with a read release while the user stack pointer is below the
 * old start (a red zone of 128 bytes below it on x86-64): that release is
 * the event.  Watch saw none of these before (--check: drift of [stack]
 * under a compiler run, 2026-12-02). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);	/* processes; past that, a stack's growth
					 * shows at the process's next re-read */
	__type(key, __s32);
	__type(value, __u64);
} stack_floor SEC(".maps");

/* tid -> where get_unmapped_area() put something while that thread held the
 * lock (union of all such ranges since the lock was taken). */
struct uarea {
	__u64 lo, hi;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __s32);
	__type(value, struct uarea);
} uareas SEC(".maps");

static __always_inline bool comm_is(const char *c)
{
	for (int i = 0; i < 16; i++) {
		if (c[i] != sel_comm[i])
			return false;
		if (!c[i])
			break;
	}
	return true;
}

/* Is process tgid watched?  local: the current task belongs to it (its comm
 * and cgroup can be checked). */
static __always_inline bool wanted(__s32 tgid, bool local)
{
	if (tgid <= 0 || tgid == self_tgid)
		return false;
	if (watch_all)
		return true;
	if (bpf_map_lookup_elem(&watched, &tgid))
		return true;
	if (!local)
		return false;
	if (sel_comm_on) {
		char c[16];

		bpf_get_current_comm(c, sizeof(c));
		if (comm_is(c))
			return true;
	}
	if (sel_cgid && bpf_get_current_ancestor_cgroup_id(sel_cglevel) == sel_cgid)
		return true;
	return false;
}

/* When process t started, in the clock /proc/PID/stat's starttime counts
 * (boot time, ns): a pid's identity once pids wrap (pid_max can be 32768).
 * task_struct.start_boottime since 5.5 (real_start_time before). */
static __always_inline __u64 start_of(struct task_struct *t)
{
	if (bpf_core_field_exists(t->start_boottime))
		return BPF_CORE_READ(t, group_leader, start_boottime);
	return 0;
}

static __always_inline struct wt_event *reserve(__s32 tgid)
{
	struct wt_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		__u8 one = 1;

		__sync_fetch_and_add(&n_lost, 1);
		bpf_map_update_elem(&lost, &tgid, &one, BPF_ANY);
		return NULL;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->ts_ns = bpf_ktime_get_ns();
	e->tgid = tgid;
	e->tid = (__s32)bpf_get_current_pid_tgid();
	e->nr = -1;
	e->lost = n_lost;
	e->start_ns = start_of(bpf_get_current_task_btf());
	return e;
}

static __always_inline void submit(struct wt_event *e)
{
	__u64 flags = 0;

	__sync_fetch_and_add(&n_events, 1);
#if defined(__TARGET_ARCH_x86)
	/* The add above is a locked instruction (a full barrier on x86): the
	 * reservation (producer position) is visible before `draining` is
	 * read.  So a record that saw draining == 1 was reserved before user
	 * space cleared it, and user space, which reads the producer position
	 * after clearing it (and a fence), sees the record and reads it
	 * without a wakeup.  Other architectures: no such barrier from a
	 * non-fetching atomic, so always the default wakeup. */
	if (*(volatile __u32 *)&draining)
		flags = BPF_RB_NO_WAKEUP;
#endif
	bpf_ringbuf_submit(e, flags);
}

/* The system call the current task is in, from its saved user registers. */
static __always_inline long current_syscall(struct task_struct *t)
{
#if defined(__TARGET_ARCH_x86)
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(t);

	/* orig_ax is the number in a system call, the error code in a page
	 * fault; ax is -ENOSYS from syscall entry until the return value is
	 * stored, which comes after every lock of the call is released */
	if (!regs || (long)BPF_CORE_READ(regs, ax) != -ENOSYS)
		return -1;
	return (long)BPF_CORE_READ(regs, orig_ax);
#else
	return -1;
#endif
}

/* The current task's user stack pointer is below (or within the red zone
 * of) its process's mirrored [stack] start: *lo, where the stack may now
 * begin.  Only the main thread: the main stack is its stack; another
 * thread's stack is a plain mapping that does not grow, and may lie within
 * the window below the main stack (each of its read releases would be an
 * event). */
static __always_inline bool stack_grew(struct task_struct *t, __s32 tgid, __u64 *lo, __u64 *floor)
{
#if defined(__TARGET_ARCH_x86)
	struct pt_regs *regs;
	__u64 *f, sp;

	if ((__s32)bpf_get_current_pid_tgid() != tgid)
		return false;
	f = bpf_map_lookup_elem(&stack_floor, &tgid);
	if (!f || !*f)
		return false;
	regs = (struct pt_regs *)bpf_task_pt_regs(t);
	if (!regs)
		return false;
	sp = BPF_CORE_READ(regs, sp);
	/* 256: the red zone (128) with room; 1 GiB: sp is on this stack */
	if (sp - 256 >= *f || sp + (1ull << 30) < *f)
		return false;
	*lo = (sp - 256) & ~4095ull;
	*floor = *f;
	return true;
#else
	return false;
#endif
}

static __always_inline void fill_args(struct wt_event *e, struct task_struct *t)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(t);

	if (!regs) {
		e->flags |= WT_F_NO_REGS;
		return;
	}
	e->args[0] = PT_REGS_PARM1_CORE_SYSCALL(regs);
	e->args[1] = PT_REGS_PARM2_CORE_SYSCALL(regs);
	e->args[2] = PT_REGS_PARM3_CORE_SYSCALL(regs);
	e->args[3] = PT_REGS_PARM4_CORE_SYSCALL(regs);
	e->args[4] = PT_REGS_PARM5_CORE_SYSCALL(regs);
}

/* BPF_PROG names every tracepoint argument; not all are used. */
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wunused-parameter"

/* Program names: wt_*, so that bpftool prog show tells them from the
 * trace programs (on_exec, on_exit...; tests/cases/trace_teardown.sh counts
 * those by name and saw a watcher's as left over). */
static __always_inline int released(struct mm_struct *mm, bool write)
{
	struct task_struct *t = bpf_get_current_task_btf();
	bool local = BPF_CORE_READ(t, mm) == mm;
	__u32 flags = 0, tflags = BPF_CORE_READ(t, flags);
	__s32 tgid, tid = (__s32)bpf_get_current_pid_tgid();
	long nr = -1;
	struct uarea *ua;
	struct wt_event *e;
	__u64 stack_lo = 0, stack_hi = 0;

	/* exit_mmap() of a dying process: its exit record says it all */
	if (local && (tflags & PF_EXITING))
		return 0;
	if (!write) {
		/* a read release: a change only after a downgrade, which only
		 * these system calls do, on their own mm, or after the stack
		 * grew (stack_floor) */
		if (!local)
			return 0;
		nr = current_syscall(t);
		if (stack_grew(t, (__s32)(bpf_get_current_pid_tgid() >> 32), &stack_lo, &stack_hi))
			flags |= WT_F_STACK;
		else if (nr < 0 || (nr != nr_munmap && nr != nr_brk && nr != nr_mremap))
			return 0;
		else
			flags |= WT_F_DOWNGRADE;
	}
	if (local) {
		tgid = (__s32)(bpf_get_current_pid_tgid() >> 32);
	} else {
		/* khugepaged, process_madvise(), exec setting up the new mm ... */
		if (!bpf_core_field_exists(mm->owner)) {
			__sync_fetch_and_add(&n_unowned, 1);
			return 0;
		}
		tgid = BPF_CORE_READ(mm, owner, tgid);
		if (tgid <= 0) {
			__sync_fetch_and_add(&n_unowned, 1);
			return 0;
		}
		flags |= WT_F_REMOTE;
	}
	if (!wanted(tgid, local))
		return 0;
	e = reserve(tgid);
	ua = bpf_map_lookup_elem(&uareas, &tid);
	if (!e) {
		if (ua)
			bpf_map_delete_elem(&uareas, &tid);
		return 0;
	}
	e->type = WT_EV_CHANGE;
	if (!(tflags & PF_KTHREAD)) {
		/* remote too: a fork or an exec building the new mm says so */
		e->nr = nr >= 0 ? nr : current_syscall(t);
		fill_args(e, t);
	} else {
		flags |= WT_F_NO_REGS;
	}
	if (flags & WT_F_STACK) {
		/* the stack's new start lies in [lo, old start] */
		e->ua_lo = stack_lo;
		e->ua_hi = stack_hi + 4096;
	} else if (ua) {
		e->ua_lo = ua->lo;
		e->ua_hi = ua->hi;
		flags |= WT_F_UAREA;
	}
	if (ua)
		bpf_map_delete_elem(&uareas, &tid);
	e->brk_start = BPF_CORE_READ(mm, start_brk);
	e->brk = BPF_CORE_READ(mm, brk);
	e->flags = flags;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	submit(e);
	return 0;
}

/* The tracepoint's arguments changed: Linux 6.1-6.12 pass (mm, const char
 * *memcg_path, bool write), later kernels (mm, bool write) (the memcg path
 * became an id, kept in the event record only).  One program each; user
 * space loads the one the kernel's BTF prototype matches (watch.c,
 * released_prototype()).  Reading the old prototype's second argument as
 * `write` took the path pointer for it: every release, read ones too, was a
 * change (6.12 guest: 25 whole re-reads for a 6-step sequence). */
SEC("tp_btf/mmap_lock_released")
int BPF_PROG(wt_released, struct mm_struct *mm, bool write)
{
	return released(mm, write);
}

SEC("tp_btf/mmap_lock_released")
int BPF_PROG(wt_released_memcg, struct mm_struct *mm, const char *memcg_path, bool write)
{
	return released(mm, write);
}

SEC("tp_btf/vm_unmapped_area")
int BPF_PROG(wt_unmapped_area, unsigned long addr, struct vm_unmapped_area_info *info)
{
	__s32 tgid = (__s32)(bpf_get_current_pid_tgid() >> 32);
	__s32 tid = (__s32)bpf_get_current_pid_tgid();
	__u64 len;
	struct uarea *ua, nu;

	if (addr >= (unsigned long)-MAX_ERRNO || !wanted(tgid, true))
		return 0;
	len = BPF_CORE_READ(info, length);
	ua = bpf_map_lookup_elem(&uareas, &tid);
	if (ua) {
		if (addr < ua->lo)
			ua->lo = addr;
		if (addr + len > ua->hi)
			ua->hi = addr + len;
		return 0;
	}
	nu.lo = addr;
	nu.hi = addr + len;
	bpf_map_update_elem(&uareas, &tid, &nu, BPF_ANY);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(wt_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__s32 tgid = (__s32)(bpf_get_current_pid_tgid() >> 32);
	struct wt_event *e;

	if (!wanted(tgid, true))
		return 0;
	e = reserve(tgid);
	if (!e)
		return 0;
	e->type = WT_EV_EXEC;
	e->other = old_pid;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	submit(e);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(wt_fork, struct task_struct *parent, struct task_struct *child)
{
	__s32 ptgid = BPF_CORE_READ(parent, tgid);
	__s32 ctgid = BPF_CORE_READ(child, tgid);
	struct wt_event *e;

	if (ctgid == ptgid || !wanted(ptgid, true))	/* a thread, or not watched */
		return 0;
	if (follow_fork && !watch_all) {
		__u8 one = 1;

		bpf_map_update_elem(&watched, &ctgid, &one, BPF_ANY);
	}
	e = reserve(ptgid);
	if (!e)
		return 0;
	e->type = WT_EV_FORK;
	e->other = ctgid;
	e->start_ns = start_of(child);
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	submit(e);
	return 0;
}

/* Only the task argument: sched_process_exit has (p) up to 6.12 and
 * (p, group_dead) from 6.16 on (a program reading the second argument does not
 * load on 6.12).  The last thread is found the same way on both: do_exit()
 * decrements signal->live before the tracepoint on every version. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(wt_exit, struct task_struct *p)
{
	__s32 tgid = (__s32)(bpf_get_current_pid_tgid() >> 32);
	struct wt_event *e;

	if (BPF_CORE_READ(p, signal, live.counter) != 0 || !wanted(tgid, true))
		return 0;
	bpf_map_delete_elem(&watched, &tgid);
	e = reserve(tgid);
	if (!e)
		return 0;
	e->type = WT_EV_EXIT;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	submit(e);
	return 0;
}

#pragma clang diagnostic pop

char LICENSE[] SEC("license") = "GPL";
