// SPDX-License-Identifier: GPL-2.0
/*
 * taskvma trace: capture a process's whole memory map at the instant an
 * event fires, in the kernel, and stream it to user space through a BPF ring
 * buffer (record layout and protocol: trace.h).
 *
 * Hooks (user space loads only those it needs):
 *   raw_tp/sys_enter             on entry to a (named) system call
 *   tp_btf/sched_process_exec    right after a successful exec: the new image
 *   tp_btf/sched_process_exit    the last thread of a process exits; from
 *                                6.18 (not 6.12) the tracepoint has group_dead
 *                                and runs before exit_mm(), so the map is still
 *                                there; older kernels: fentry/taskstats_exit,
 *                                see on_exit_ts.  Also forgets the process in
 *                                the once-per-process table.
 *   tp_btf/signal_deliver        a signal is delivered (fatal ones by default).
 *                                The kfunc refuses to walk there (get_signal()
 *                                holds siglock with IRQs off: -EBUSY), so this
 *                                hook only notes the signal (sigpend, by tid)
 *                                and the walk runs as soon as that thread has
 *                                left the signal code:
 *                                - a signal that kills: in sched_process_exit
 *                                  for that thread (do_exit() reaches it
 *                                  before exit_mm(); the core dump, if any,
 *                                  comes before and leaves the map alone);
 *                                - any other (a handler runs): in a BPF task
 *                                  work (bpf_task_work_schedule_resume, Linux
 *                                  6.18) that runs before the thread returns to
 *                                  user space, i.e. right after the kernel set
 *                                  up the handler's frame.
 * In each, `current` is the task whose map is wanted.
 *
 * Names: bpf_d_path() is not allowed in these program types, so the path of
 * a mapped file is rebuilt here the way the kernel's d_path() does it: walk
 * dentry->d_parent up to the root of the mount, then cross to the parent
 * mount at mnt_mountpoint, until the root of the mount tree.  Components go
 * out leaf first; user space joins them.  Files whose dentry has a d_dname()
 * (anon inodes, sockets, simple_dname pseudo files) are named as that
 * function would, when we know its address (kallsyms, given in rodata).
 *
 * Only vm_mm and vm_file of the VMA the iterator returns are trusted
 * pointers (the iterator hands out a per-VMA snapshot): everything else is
 * read with bpf_probe_read_kernel (BPF_CORE_READ), best effort.
 *
 * Verifier notes: state that changes from one loop iteration to the next
 * (name offset, dentry/mount cursor, counters) lives in a per-CPU scratch map
 * value, not in registers.  Values loaded from memory are unknown to the
 * verifier, so the open-coded loops converge after one pass instead of being
 * explored once per possible value.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "compat.bpf.h"
#include "trace.h"
#include "vma_names.bpf.h"

#define SI_KERNEL	0x80
#define E2BIG		7
#define ENOMEM		12

#define SIGILL	4
#define SIGKILL	9
#define SIGTRAP	5
#define SIGBUS	7
#define SIGFPE	8
#define SIGSEGV	11

/* ---- configuration: rodata, set by user space before load ------------- */

const volatile __s32 sel_tgid = 0;	/* only this process; 0 = any */
const volatile __s32 self_tgid = 0;	/* the tracer: never captured */
const volatile __u32 sel_comm_on = 0;	/* only tasks whose comm is sel_comm */
const volatile char sel_comm[16] = {};
const volatile __u64 sel_cgid = 0;	/* only this cgroup v2 and below ... */
const volatile __s32 sel_cglevel = 0;	/* ... which is at this depth */
const volatile __u32 every = 0;		/* 0: once per process and event */
const volatile __u64 max_caps = 0;	/* stop capturing after this many; 0 = no limit */
const volatile __u32 sys_any = 0;	/* sys_enter: every system call */
const volatile __u64 sys_bits[TR_SYS_WORDS] = {}; /* ... else these numbers */
const volatile __u32 sig_on = 0;	/* signal events wanted */
const volatile __s32 sig_want = 0;	/* signal_deliver: this signal; 0 = fatal ones */
const volatile __u32 exit_capture = 0;	/* sched_process_exit: capture (else cleanup only) */
/* Kernel function addresses (/proc/kallsyms), 0 when unknown. */
const volatile __u64 k_special_mapping_name = 0;
const volatile __u64 k_anon_inodefs_dname = 0;
const volatile __u64 k_simple_dname = 0;
const volatile __u64 k_sockfs_dname = 0;
const volatile __u64 k_pipefs_dname = 0;
/* FMODE_BACKING of this kernel (a #define, not in BTF): set by user space
 * from tv_fmode_backing() (src/lib/kernel/kernel_facts.c); 0: no backing files */
const volatile __u32 fmode_backing = 0;

/* ---- counters: read by user space -------------------------------------- */

__u64 next_cap = 0;		/* captures started (cap_id of the last one) */
__u64 n_armed = 0;		/* events that passed every filter (for max_caps) */
__u64 n_lost_events = 0;	/* captures dropped whole: no room for their tr_event */
__u64 n_table_full = 0;		/* processes not captured: once-per-process table full */
__u64 n_sigpend = 0;		/* entries in sigpend: the exit hook looks there only if > 0 */
__u64 n_sigpend_full = 0;	/* signals not captured: sigpend full */
__u64 n_sig_nowork = 0;		/* handled signals not captured: no task work here */

/* ---- maps --------------------------------------------------------------- */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);	/* resized by user space before load */
} events SEC(".maps");

/* Once per process and event: key (tgid << 8 | event).  Entries go when the
 * process exits (sched_process_exit).  Resized by user space. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, __u8);
} done SEC(".maps");

/* Signals delivered and not captured yet, by thread id (see the header). */
struct tr_sig {
	__u64 ts_ns;		/* when it was delivered */
	__u64 addr;		/* si_addr (TR_EVF_FAULT_ADDR) */
	__s32 sig;
	__s32 code;		/* si_code */
	__u32 flags;		/* TR_EVF_* */
	__u32 fatal;		/* walked at exit (1) or in the task work (0) */
};

struct tr_sigpend {
	struct tr_sig sig;
	struct bpf_task_work tw;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct tr_sigpend);
} sigpend SEC(".maps");

extern void bpf_preempt_disable(void) __ksym;
extern void bpf_preempt_enable(void) __ksym;

/* Linux 6.18: run a BPF callback in the task's context before it returns
 * to user space.  Without it, only signals that kill are captured.
 * 6.18 and 6.19 export bpf_task_work_schedule_resume_impl(..., void
 * *aux__prog); 7.x exports bpf_task_work_schedule_resume(task, tw, map,
 * callback) whose program argument the verifier fills in (its _impl is
 * left in BTF with a struct bpf_prog_aux * last, but has no address:
 * "ldimm64 failed to find the address").  libbpf refuses the whole object
 * when a kfunc's declaration does not match the kernel's, weak or not, and
 * 6.12's verifier refuses an unresolved weak call even on a path that cannot
 * run.  So this file is built three times (TR_TASK_WORK: 1 the 6.18 kfunc,
 * trace.bpf.c; 2 the 7.x one, trace_tw7.bpf.c; 0 none, trace_notw.bpf.c, for
 * kernels without either or with a prototype not known yet), and user space
 * loads the build kernel BTF matches (kernel_facts.c): in 1 and 2 the kfunc is
 * known to be there. */
#ifndef TR_TASK_WORK
#define TR_TASK_WORK 1
#endif
#if TR_TASK_WORK == 1
extern int bpf_task_work_schedule_resume_impl(struct task_struct *task, struct bpf_task_work *tw,
					      void *map__map, bpf_task_work_callback_t callback,
					      void *aux__prog) __ksym;
#define task_work_exists() 1
#define task_work_schedule(task, tw, map, cb) \
	bpf_task_work_schedule_resume_impl(task, tw, map, cb, NULL)
#elif TR_TASK_WORK == 2
extern int bpf_task_work_schedule_resume(struct task_struct *task, struct bpf_task_work *tw,
					 void *map__map, bpf_task_work_callback_t callback) __ksym;
#define task_work_exists() 1
#define task_work_schedule(task, tw, map, cb) bpf_task_work_schedule_resume(task, tw, map, cb)
#else
#define task_work_exists() 0
#define task_work_schedule(task, tw, map, cb) (-1)
#endif

/* Per-CPU work area: one VMA record and its name are built here, then copied
 * into the ring buffer with bpf_ringbuf_output().  capture() runs with
 * preemption disabled and none of the hooks fires from interrupts: one entry
 * per CPU cannot be used by two captures at once. */
struct tr_scratch {
	struct tr_vma rec;
	char name[TR_NAME_BUF];	/* right after rec: rec + name go out as one */
	/* walk state, in memory on purpose (see the verifier note above) */
	struct tv_path_cursor pc;	/* the path walk */
	__u64 last_file;	/* struct file * of the previous VMA */
	__u64 brk, start_brk, start_stack;
	__u32 nvma, nsent, nlost;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tr_scratch);
} scratch SEC(".maps");

/* ---- selection ---------------------------------------------------------- */

/* Filters after the cheap tgid check.  Return 1 to capture. */
static __always_inline int selected(__u32 tgid)
{
	struct task_struct *task;

	if (tgid == (__u32)self_tgid)
		return 0;
	task = bpf_get_current_task_btf();
	if (task->flags & PF_KTHREAD)
		return 0;
	if (sel_comm_on) {
		char comm[16];

		bpf_get_current_comm(comm, sizeof(comm));
		for (int i = 0; i < 16; i++) {
			if (comm[i] != sel_comm[i])
				return 0;
			if (!comm[i])
				break;
		}
	}
	if (sel_cgid && bpf_get_current_ancestor_cgroup_id(sel_cglevel) != sel_cgid)
		return 0;
	return 1;
}

/* Once per process and event, unless `every`: the first caller wins (an
 * atomic insert), so two threads hitting the event together capture once. */
static __always_inline int claim(__u32 tgid, __u32 event)
{
	__u64 key = (__u64)tgid << 8 | event;
	__u8 one = 1;
	long err;

	if (every)
		return 1;
	err = bpf_map_update_elem(&done, &key, &one, BPF_NOEXIST);
	if (err == -E2BIG)
		__sync_fetch_and_add(&n_table_full, 1);
	return err == 0;
}

/* --count: the first max_caps events that pass the filters are captured. */
static __always_inline int arm(void)
{
	if (!max_caps)
		return 1;
	return __sync_fetch_and_add(&n_armed, 1) < max_caps;
}

/* ---- names -------------------------------------------------------------- */

/* The prctl(PR_SET_VMA_ANON_NAME) name of a VMA into name[0..], or 0. */
static __always_inline __u32 vma_anon_name(struct tr_scratch *s, struct vm_area_struct *vma)
{
	const char *an = tv_vma_anon_name(vma);
	long n;

	if (!an)
		return 0;
	n = bpf_probe_read_kernel_str(s->name, TR_COMP_MAX, an);
	return n > 1 ? n - 1 : 0;
}

/* The dentry's own name (for d_dname() formats) into name[0..]. */
static __always_inline __u32 dentry_name(struct tr_scratch *s, struct dentry *d)
{
	long n = bpf_probe_read_kernel_str(s->name, TR_COMP_MAX, BPF_CORE_READ(d, d_name.name));

	if (n <= 0) {
		s->rec.name_flags |= TR_NF_ERR;
		return 0;
	}
	return n - 1;
}

/* Name of a file-backed VMA, as seq_path(file_user_path(file)) would print
 * it (before '\n' escaping, done in user space).  Returns bytes in name[]. */
static __always_inline __u32 file_name(struct tr_scratch *s, struct vm_area_struct *vma,
				       struct file *file)
{
	struct tr_vma *r = &s->rec;
	__u32 n;
	struct dentry *dentry, *parent;
	struct vfsmount *vfsmnt;
	struct inode *inode;
	__u64 dname;
	__u32 fmode;
	void *pathp;

	/* file_user_path() / file_user_inode(): a backing file (overlayfs)
	 * is shown by the path the user opened, kept in struct backing_file */
	fmode = BPF_CORE_READ(file, f_mode);
	if (fmode & fmode_backing) {
		pathp = (void *)file + bpf_core_field_offset(struct backing_file, user_path);
		dentry = BPF_CORE_READ((struct path *)pathp, dentry);
		vfsmnt = BPF_CORE_READ((struct path *)pathp, mnt);
		inode = BPF_CORE_READ(dentry, d_inode);
	} else {
		dentry = BPF_CORE_READ(file, f_path.dentry);
		vfsmnt = BPF_CORE_READ(file, f_path.mnt);
		inode = BPF_CORE_READ(file, f_inode);
	}
	r->ino = BPF_CORE_READ(inode, i_ino);
	r->dev = BPF_CORE_READ(inode, i_sb, s_dev);

	/* shared anonymous memory named with prctl: [anon_shmem:NAME] */
	n = vma_anon_name(s, vma);
	if (n) {
		r->name_fmt = TR_NAME_ANON_SHMEM;
		s->last_file = 0;
		return n;
	}

	/* libraries are mapped several times in a row from one struct file */
	if ((__u64)file == s->last_file) {
		r->name_fmt = TR_NAME_SAME;
		return 0;
	}
	s->last_file = (__u64)file;

	if (!dentry || !vfsmnt) {
		r->name_fmt = TR_NAME_UNKNOWN;
		r->name_flags |= TR_NF_ERR;
		return 0;
	}
	parent = BPF_CORE_READ(dentry, d_parent);

	/* d_path(): a dentry with d_op->d_dname names itself, unless it is the
	 * root of its mount */
	dname = tv_dentry_dname(dentry, parent, vfsmnt);
	if (dname) {
		if (dname == k_anon_inodefs_dname)
			r->name_fmt = TR_NAME_ANON_INODE;
		else if (dname == k_simple_dname)
			r->name_fmt = TR_NAME_SIMPLE;
		else if (dname == k_sockfs_dname)
			return r->name_fmt = TR_NAME_SOCKET, 0;
		else if (dname == k_pipefs_dname)
			return r->name_fmt = TR_NAME_PIPE, 0;
		else
			r->name_fmt = TR_NAME_UNKNOWN;
		return dentry_name(s, dentry);
	}

	if (tv_dentry_unlinked(dentry, parent))
		r->name_flags |= TR_NF_DELETED;

	r->name_fmt = TR_NAME_PATH;
	tv_path_walk(&s->pc, s->name, dentry, vfsmnt);
	switch (s->pc.state) {
	case TV_PW_DONE:
		break;
	case TV_PW_ESCAPED:
		r->name_flags |= TR_NF_ESCAPED;
		break;
	case TV_PW_ERR:
		r->name_flags |= TR_NF_ERR;
		break;
	default:		/* TV_PW_TRUNC: too long or too deep */
		r->name_flags |= TR_NF_TRUNC;
		break;
	}
	r->ncomp = s->pc.ncomp;
	return s->pc.off;
}

/* Name of a VMA without a file: vm_ops->name(), [heap], [stack],
 * [anon:NAME], as get_vma_name() decides. */
static __always_inline __u32 anon_name(struct tr_scratch *s, struct vm_area_struct *vma)
{
	struct tr_vma *r = &s->rec;
	const struct vm_operations_struct *ops = vma->vm_ops;
	__u64 fn = 0;
	long n;

	if (ops)
		fn = (__u64)BPF_CORE_READ(ops, name);
	if (fn) {
		r->kind = TR_KIND_SPECIAL;
		if (k_special_mapping_name && fn == k_special_mapping_name) {
			const struct vm_special_mapping *sm = BPF_CORE_READ(vma, vm_private_data);

			n = bpf_probe_read_kernel_str(s->name, TR_COMP_MAX, BPF_CORE_READ(sm, name));
			if (n > 0) {
				r->name_fmt = TR_NAME_TEXT;
				return n - 1;
			}
		}
		r->name_fmt = TR_NAME_UNKNOWN;
		r->name_flags |= TR_NF_ERR;
		return 0;
	}
	if (r->start < s->brk && r->end > s->start_brk) {
		r->kind = TR_KIND_HEAP;
	} else if (r->start <= s->start_stack && r->end >= s->start_stack) {
		r->kind = TR_KIND_STACK;
	} else {
		__u32 n = vma_anon_name(s, vma);

		if (n) {
			r->kind = TR_KIND_ANON_NAMED;
			r->name_fmt = TR_NAME_ANON;
			return n;
		}
	}
	return 0;
}

/* Build one VMA record in scratch and copy it into the ring buffer. */
static __always_inline void emit_vma(struct tr_scratch *s, struct vm_area_struct *vma, __u64 cap_id)
{
	struct tr_vma *r = &s->rec;
	struct file *file = vma->vm_file;
	__u64 flags = vma->vm_flags;
	__u32 len, perms = 0;

	r->type = TR_REC_VMA;
	r->idx = s->nvma;
	r->cap_id = cap_id;
	r->start = vma->vm_start;
	r->end = vma->vm_end;
	perms = tv_perm_bits(flags);
	r->perms = perms;
	r->pgoff = 0;
	r->ino = 0;
	r->dev = 0;
	r->name_fmt = TR_NAME_NONE;
	r->name_flags = 0;
	r->ncomp = 0;
	r->pad = 0;
	r->kind = TR_KIND_ANON;
	s->nvma++;

	if (file) {
		r->kind = TR_KIND_FILE;
		r->pgoff = (__u64)vma->vm_pgoff << PAGE_SHIFT;
		len = file_name(s, vma, file);
	} else {
		len = anon_name(s, vma);
	}
	barrier_var(len);
	if (len > TR_NAME_BUF)
		len = TR_NAME_BUF;
	r->name_len = len;
	if (bpf_ringbuf_output(&events, r, sizeof(*r) + len, 0))
		s->nlost++;
	else
		s->nsent++;
}

/* ---- the capture -------------------------------------------------------- */

/* Walk current's whole map into the ring buffer. */
static __always_inline int capture_body(__u32 event, __s64 arg, const struct tr_sig *sig)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct bpf_iter_task_vma it;
	struct vm_area_struct *vma;
	struct tr_scratch *s;
	struct tr_event *ev;
	struct mm_struct *mm;
	__u32 zero = 0;
	int err;

	/* Reserved first, submitted last: user space reads it, with the
	 * final counts, before the VMA records (see trace.h). */
	ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev) {
		__sync_fetch_and_add(&n_lost_events, 1);
		return 0;
	}
	ev->type = TR_REC_EVENT;
	ev->event = event;
	ev->cap_id = __sync_fetch_and_add(&next_cap, 1) + 1;
	ev->ts_ns = bpf_ktime_get_ns();
	ev->cgroup_id = bpf_get_current_cgroup_id();
	ev->fault_addr = 0;
	ev->arg = arg;
	ev->tgid = task->tgid;
	ev->tid = task->pid;
	ev->si_code = 0;
	ev->flags = 0;
	if (sig) {
		/* the event is the delivery: its time, not the walk's */
		ev->ts_ns = sig->ts_ns;
		ev->fault_addr = sig->addr;
		ev->si_code = sig->code;
		ev->flags = sig->flags;
	}
	ev->nvma = ev->nsent = ev->nlost = 0;
	ev->seq_begin = ev->seq_end = 0;
	bpf_get_current_comm(ev->comm, sizeof(ev->comm));

	s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s) {
		ev->err = -ENOMEM;
		ev->flags |= TR_EVF_NO_SCRATCH;
		bpf_ringbuf_submit(ev, BPF_RB_FORCE_WAKEUP);
		return 0;
	}
	s->nvma = s->nsent = s->nlost = 0;
	s->last_file = 0;

	/* new() is called by hand, not through bpf_for_each, to keep its
	 * error: -ENOENT (no mm), -EBUSY (IRQs off / lock contended). */
	err = bpf_iter_task_vma_new(&it, task, 0);
	ev->err = err;
	if (!err) {
		mm = task->mm;
		s->brk = BPF_CORE_READ(mm, brk);
		s->start_brk = BPF_CORE_READ(mm, start_brk);
		s->start_stack = BPF_CORE_READ(mm, start_stack);
		if ((BPF_CORE_READ(mm, context.flags) >> MM_CONTEXT_HAS_VSYSCALL_BIT) & 1)
			ev->flags |= TR_EVF_VSYSCALL;
		ev->seq_begin = tv_mm_seq(mm);
		while ((vma = bpf_iter_task_vma_next(&it)))
			emit_vma(s, vma, ev->cap_id);
		ev->seq_end = tv_mm_seq(mm);
	}
	bpf_iter_task_vma_destroy(&it);

	ev->nvma = s->nvma;
	ev->nsent = s->nsent;
	ev->nlost = s->nlost;
	bpf_ringbuf_submit(ev, BPF_RB_FORCE_WAKEUP);
	return 0;
}

/* A global (non-static) function: the verifier checks it once per program,
 * not per call site.  Preemption is off for the whole capture, whatever the
 * caller's context (the task work runs preemptible; some kernels run syscall
 * tracepoint programs preemptible too): the per-CPU scratch is this
 * capture's alone. */
__noinline int capture(__u32 event, __s64 arg, const struct tr_sig *sig)
{
	int ret;

	bpf_preempt_disable();
	ret = capture_body(event, arg, sig);
	bpf_preempt_enable();
	return ret;
}

/* ---- hooks -------------------------------------------------------------- */

/* A fatal signal noted for this thread, which is now exiting: walk. */
static __always_inline void signal_walk(__u32 tid)
{
	struct tr_sigpend *v;

	v = bpf_map_lookup_elem(&sigpend, &tid);
	if (!v)
		return;
	/* (a handled signal's entry whose task work has not run yet is
	 * walked here too: the thread dies first) */
	capture(TR_EV_SIGNAL, v->sig.sig, &v->sig);
	if (!bpf_map_delete_elem(&sigpend, &tid))
		__sync_fetch_and_add(&n_sigpend, -1);
}

/* Task work for a handled signal: runs in the thread, IRQs on, before it
 * returns to user space (into its handler). */
static int signal_work(struct bpf_map *map, void *key, void *value)
{
	struct tr_sigpend *v = value;
	__u32 tid = *(__u32 *)key;

	(void)map;
	capture(TR_EV_SIGNAL, v->sig.sig, &v->sig);
	if (!bpf_map_delete_elem(&sigpend, &tid))
		__sync_fetch_and_add(&n_sigpend, -1);
	return 0;
}

/* The hot one: every system call of every task comes through here.  With
 * --pid, a task of another process leaves after one helper call and one
 * compare (sel_tgid and the other rodata are load-time constants: the
 * verifier drops the dead branches).  Only loaded for --on syscall. */
SEC("raw_tp/sys_enter")
int on_sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	long nr;

	if (sel_tgid && tgid != (__u32)sel_tgid)
		return 0;
	nr = ctx->args[1];
	if (!sys_any) {
		if ((unsigned long)nr >= TR_NR_SYSCALLS)
			return 0;
		if (!(sys_bits[nr / 64] & (1ull << (nr % 64))))
			return 0;
	}
	if (!selected(tgid) || !claim(tgid, TR_EV_SYSCALL) || !arm())
		return 0;
	capture(TR_EV_SYSCALL, nr, NULL);
	return 0;
}

/* BPF_PROG names every tracepoint argument; not all are used. */
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wunused-parameter"

SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	if (sel_tgid && tgid != (__u32)sel_tgid)
		return 0;
	if (!selected(tgid) || !claim(tgid, TR_EV_EXEC) || !arm())
		return 0;
	capture(TR_EV_EXEC, old_pid, NULL);
	return 0;
}

/* The last thread of a process exits (group_dead): capture, forget it. */
static __always_inline int exit_hook(int group_dead)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	__u64 key;

	/* a thread killed by a signal: the map as the signal left it */
	if (sig_on && n_sigpend)
		signal_walk((__u32)id);
	/* Only the last thread: the process is gone after it. */
	if (!group_dead)
		return 0;
	if (exit_capture && (!sel_tgid || tgid == (__u32)sel_tgid) && selected(tgid) && arm())
		capture(TR_EV_EXIT, 0, NULL);
	if (!every && !sel_tgid) {
		/* a later process may get this pid: forget this one */
		key = (__u64)tgid << 8 | TR_EV_SYSCALL;
		bpf_map_delete_elem(&done, &key);
		key = (__u64)tgid << 8 | TR_EV_EXEC;
		bpf_map_delete_elem(&done, &key);
		key = (__u64)tgid << 8 | TR_EV_SIGNAL;
		bpf_map_delete_elem(&done, &key);
	}
	return 0;
}

/* One of these two is loaded (user space asks kernel_facts.c which): the
 * tracepoint where it has group_dead (and then fires before exit_mm()); on
 * older kernels (6.1, 6.12) it has one argument and fires after exit_mm(),
 * when the map is gone, so the hook is taskstats_exit(), which do_exit()
 * calls with group_dead right before exit_mm(). */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct *p, bool group_dead)
{
	return exit_hook(group_dead);
}

SEC("fentry/taskstats_exit")
int BPF_PROG(on_exit_ts, struct task_struct *tsk, int group_dead)
{
	return exit_hook(group_dead);
}

/* Signals whose default action ends the process (not ignore, stop, continue):
 * everything but SIGCHLD 17, SIGCONT 18, SIGSTOP 19, SIGTSTP 20, SIGTTIN 21,
 * SIGTTOU 22, SIGURG 23, SIGWINCH 28. */
/* A tracepoint argument as a plain number.  The verifier takes tp_btf
 * pointer arguments for non-NULL and would drop a NULL test on them; but
 * signal_deliver gets NULL info (SEND_SIG_NOINFO) for group exits. */
static __always_inline __u64 arg_value(unsigned long long *ctx, int i)
{
	__u64 v = 0;

	bpf_probe_read_kernel(&v, sizeof(v), &ctx[i]);
	return v;
}

static __always_inline int fatal_by_default(int sig)
{
	if (sig <= 0 || sig > 64)
		return 0;
	if (sig >= 32)
		return 1;
	return !((1u << sig) & (0x7fu << 17 | 1u << 28));
}

SEC("tp_btf/signal_deliver")
int BPF_PROG(on_signal, int sig, struct kernel_siginfo *info, struct k_sigaction *ka)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = (__u32)id;
	struct tr_sigpend v = {}, *p;
	__u64 handler;
	long err;

	if (sel_tgid && tgid != (__u32)sel_tgid)
		return 0;
	/* A signal whose default action kills is turned into a group exit
	 * when it is sent (complete_signal()): what get_signal() then
	 * delivers is SIGKILL without siginfo.  The signal that was sent is
	 * the group's exit code. */
	if (sig == SIGKILL && !arg_value(ctx, 1)) {
		struct task_struct *task = bpf_get_current_task_btf();
		int code = BPF_CORE_READ(task, signal, group_exit_code) & 0x7f;

		if (code > 0 && code <= 64)
			sig = code;
	}
	/* fatal: SIGKILL, or the default action and that action kills */
	handler = (__u64)BPF_CORE_READ(ka, sa.sa_handler);
	v.sig.fatal = sig == SIGKILL || (!handler && fatal_by_default(sig));
	if (sig_want) {
		if (sig != sig_want)
			return 0;
	} else if (!v.sig.fatal) {
		return 0;
	}
	if (!v.sig.fatal && !task_work_exists()) {
		__sync_fetch_and_add(&n_sig_nowork, 1);
		return 0;
	}
	if (!selected(tgid) || !claim(tgid, TR_EV_SIGNAL) || !arm())
		return 0;
	v.sig.ts_ns = bpf_ktime_get_ns();
	v.sig.sig = sig;
	if (arg_value(ctx, 1)) {
		v.sig.code = BPF_CORE_READ(info, si_code);
		/* the faulting address: synchronous faults raised by the
		 * kernel (si_code > 0), except SI_KERNEL (no address) */
		if ((sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE ||
		     sig == SIGTRAP) && v.sig.code > 0 && v.sig.code != SI_KERNEL) {
			v.sig.addr = (__u64)BPF_CORE_READ(info, _sifields._sigfault._addr);
			v.sig.flags |= TR_EVF_FAULT_ADDR;
		}
	}
	/* the first signal not yet captured wins */
	err = bpf_map_update_elem(&sigpend, &tid, &v, BPF_NOEXIST);
	if (err) {
		if (err == -E2BIG)
			__sync_fetch_and_add(&n_sigpend_full, 1);
		return 0;
	}
	__sync_fetch_and_add(&n_sigpend, 1);
	if (v.sig.fatal)
		return 0;	/* walked by on_exit */
	p = bpf_map_lookup_elem(&sigpend, &tid);
	if (p && task_work_schedule(bpf_get_current_task_btf(), &p->tw, &sigpend, signal_work)) {
		/* no task work: forget it (a thread that dies meanwhile
		 * would still be walked by on_exit) */
		if (!bpf_map_delete_elem(&sigpend, &tid))
			__sync_fetch_and_add(&n_sigpend, -1);
		__sync_fetch_and_add(&n_sig_nowork, 1);
	}
	return 0;
}

#pragma clang diagnostic pop

char _license[] SEC("license") = "GPL";
