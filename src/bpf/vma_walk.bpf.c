// SPDX-License-Identifier: GPL-2.0
/*
 * taskvma's VMA engine: an iter/task program that walks each selected
 * process's VMAs with the open-coded bpf_iter_task_vma_{new,next,destroy}
 * kfuncs and writes fixed-width records into mmapped array maps.
 *
 * Why iter/task and not a syscall program: bpf_d_path() (exact /proc names,
 * " (deleted)", memfd:) is only allowed in iterator programs.
 *
 * Why array maps and not seq_file output: a seq_file iterator fails with
 * E2BIG when one object (one process) prints more than 32 KiB.  Here the
 * program returns 1 when a batch is full; read() then stops with EAGAIN, user
 * space drains the batch and reads again, and the kernel re-runs the program
 * for the same task, which resumes from resume_addr.  Any process size works
 * with bounded memory.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "compat.bpf.h"
#include "vma_walk.h"
#include "vma_names.bpf.h"


/* Address of the kernel's special_mapping_name(): VMAs whose vm_ops->name is
 * this function are [vdso], [vvar], [uprobes]... and their name is
 * vm_special_mapping->name.  Learnt at open by a calibration walk over our
 * own [vdso] (cheaper than scanning /proc/kallsyms): 0 = not known yet. */
__u64 special_mapping_name_addr = 0;
__u32 calibrate = 0;

/* FMODE_BACKING of this kernel (a #define, so not in BTF): set by user space
 * before load (tv_fmode_backing()); 0 = do not look for backing files. */
const volatile __u32 fmode_backing = 0;

/* VW_NAMES_*: how files are named.  A load-time constant: the verifier drops
 * the paths of the other modes, so bpf_d_path() is only checked (and only
 * refused, on verifiers that do not trust vm_file) in DPATH mode. */
const volatile __u32 name_mode = VW_NAMES_DPATH;

/* Inputs, written by user space before each pass. */
struct vw_filter filter = {};
__s32 target_pid = 0;		/* 0: every process; else the one tid the link selects */

/* Resume cursor: set when a batch fills up in the middle of a walk. */
__s32 resume_pid = 0;
__u64 resume_addr = 0;

/* Name ids: a new pass bumps pass_gen and resets next_name_id to 1. */
__u32 pass_gen = 0;
__u32 next_name_id = 0;	/* user space sets 1 at each pass */

/* Fill levels of the current batch; user space resets them after draining. */
__u32 nrec = 0;
__u32 ntask = 0;
__u32 nname = 0;
__u32 nskipped_threads = 0;
__u32 ncalls = 0;		/* program runs, for -v -v */

/* Address lookups (vma_walk.h, "Address lookups").  lk_enabled, a load-time
 * constant: the lookup code makes the verifier process ~80,000 instructions
 * instead of ~1,600 (~45 ms of CPU at every open, measured on this
 * machine's 6.18): the walker is loaded without it, and loaded again with it
 * at a handle's first address lookup (backend_bpf.c, lk_upgrade()). */
const volatile __u32 lk_enabled = 0;
__u32 lk_mode = 0;		/* 1: answer lk_addrs instead of walking maps */
__u32 lk_nprocs = 0;		/* entries of lk_procs */
__u32 resume_idx = 0;		/* lookups: the address index resume_pid resumes at */
__u32 lk_seeks = 0;		/* iterator starts, for -v -v */
__u32 lk_steps = 0;		/* _next() calls, for -v -v */
__u32 lk_walk = 0;		/* VMAs stepped over before a new seek (user space: VW_LK_WALK) */

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, VW_REC_CAP);
	__type(key, __u32);
	__type(value, struct vw_rec);
} recs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, VW_TASK_CAP);
	__type(key, __u32);
	__type(value, struct vw_task);
} tasks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vw_lk_addrs);
} lk_addrs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vw_lk_procs);
} lk_procs SEC(".maps");

/* d_path() once per distinct file per pass, not once per VMA: the same
 * library is mapped by every process.  See struct vw_name_slot. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VW_NAME_SLOTS);
	__type(key, __u32);
	__type(value, struct vw_name_slot);
} name_slots SEC(".maps");

struct vw_names {
	char buf[VW_NAME_BUF];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vw_names);
} names SEC(".maps");

/* Per-task context for emit_vma(), set by walk() before the loop.  A plain
 * global: a static struct would be split by the compiler into pieces whose
 * BTF the kernel rejects. */
struct vw_walk_ctx wc = {};

/* WALK mode: the path walk's cursor (in memory on purpose: vma_names.bpf.h) */
struct tv_path_cursor pwc = {};

/* Copy a string into the name buffer.  Returns its length or -1. */
static __always_inline long put_str(struct vw_names *nb, __u32 off, const void *src, __u32 max)
{
	long n;

	barrier_var(off);
	off &= VW_NAME_CAP - 1;
	n = bpf_probe_read_kernel_str(nb->buf + off, max, src);

	if (n <= 0)
		return -1;
	nname = off + n;
	return n - 1;
}

/* Put a struct vw_name_key at off: user space names this file. */
static __always_inline void put_key(struct vw_names *nb, __u32 off, __u64 mnt, __u64 dentry,
				    __u32 *noff, __u32 *nlen)
{
	struct vw_name_key *key;

	/* two 8-byte stores: a byte-wise copy would shift the pointer values,
	 * which the verifier refuses (they may be untrusted pointers) */
	barrier_var(off);
	off &= VW_NAME_CAP - 1;
	key = (struct vw_name_key *)(nb->buf + off);
	key->mnt = mnt;
	key->dentry = dentry;
	*noff = off;
	*nlen = sizeof(*key);
	nname = off + sizeof(*key);
}

/* WALK mode: the path of an (untrusted) file, rebuilt in the kernel, into
 * the name buffer at off.  Returns its length in bytes (leaf-first
 * components; 0 = "/"), or -1 when user space must name it (a d_dname
 * file, a path too long or unreadable).  *rflags gets VW_F_DELETED. */
static __always_inline long walk_name(struct vw_names *nb, __u32 off, struct file *uf,
				      __u32 *rflags)
{
	struct dentry *dentry = uf->f_path.dentry, *parent;
	struct vfsmount *vfsmnt = uf->f_path.mnt;

	if (!dentry || !vfsmnt)
		return -1;
	parent = BPF_CORE_READ(dentry, d_parent);
	if (tv_dentry_dname(dentry, parent, vfsmnt))
		return -1;
	barrier_var(off);
	off &= VW_NAME_CAP - 1;
	tv_path_walk(&pwc, nb->buf + off, dentry, vfsmnt);
	if (pwc.state != TV_PW_DONE && pwc.state != TV_PW_ESCAPED)
		return -1;
	if (tv_dentry_unlinked(dentry, parent))
		*rflags |= VW_F_DELETED;
	return pwc.off;
}

/*
 * Record one VMA.  A global (non-inlined) function: the verifier checks it
 * once instead of once per path through walk()'s loop, which keeps load time
 * short.  Returns 0 (recorded or filtered out) or 1 (batch full).
 */
__noinline int emit_vma(struct vm_area_struct *vma __arg_trusted)
{
	struct vw_names *nb;
	struct vw_rec *r;
	struct file *file;
	__u64 vstart, vend, fn = 0;
	__u32 zero = 0, ri, kind, rflags = 0, noff = 0, nlen = 0, flags, off;
	long n;

	if (!vma)
		return 0;
	vstart = vma->vm_start;
	vend = vma->vm_end;
	flags = vma->vm_flags;
	rflags = tv_perm_bits(flags);
	if ((rflags & filter.perm_set) != filter.perm_set || (rflags & filter.perm_clear))
		return 0;

	/* the kernel's naming order: file, vm_ops->name(), heap, stack, anon name */
	if (name_mode == VW_NAMES_DPATH)
		file = vma->vm_file;	/* trusted: bpf_d_path() needs that */
	else	/* no trust needed: skip the verifier's allow-list search */
		file = untrusted(struct vm_area_struct, vma)->vm_file;
	if (file) {
		kind = VW_KIND_FILE;
	} else {
		struct vm_area_struct *uvma = untrusted(struct vm_area_struct, vma);

		kind = VW_KIND_ANON;
		if (uvma->vm_ops)
			fn = (__u64)uvma->vm_ops->name;	/* a fault-safe load */
		if (fn) {
			kind = VW_KIND_SPECIAL;
			if (calibrate) {
				special_mapping_name_addr = fn;
				calibrate = 0;
			}
		} else if (vstart < wc.brk && vend > wc.start_brk) {
			kind = VW_KIND_HEAP;
		} else if (vstart <= wc.start_stack && vend >= wc.start_stack) {
			kind = VW_KIND_STACK;
		} else if (tv_vma_anon_name(vma)) {
			kind = VW_KIND_ANON_NAMED;
		}
	}
	if (filter.kinds && !(filter.kinds & (1u << kind)))
		return 0;

	ri = nrec;
	off = nname;
	barrier_var(off);
	if (ri >= VW_REC_CAP || off >= VW_NAME_CAP)
		return 1;
	r = bpf_map_lookup_elem(&recs, &ri);
	nb = bpf_map_lookup_elem(&names, &zero);
	if (!r || !nb)
		return 0;

	r->start = vstart;
	r->end = vend;
	r->kind = kind;
	r->name_id = 0;
	r->pgoff = 0;
	r->ino = 0;
	r->dev = 0;

	if (file && fmode_backing && (file->f_mode & fmode_backing) &&
	    bpf_core_type_exists(struct backing_file___tv)) {
		struct backing_file___tv *bf = (void *)file;

		r->pgoff = (__u64)vma->vm_pgoff << PAGE_SHIFT;
		r->ino = BPF_CORE_READ(bf, user_path.dentry, d_inode, i_ino);
		r->dev = BPF_CORE_READ(bf, user_path.dentry, d_inode, i_sb, s_dev);
		rflags |= VW_F_NAME_USER;
		put_key(nb, off, (__u64)BPF_CORE_READ(bf, user_path.mnt),
			(__u64)BPF_CORE_READ(bf, user_path.dentry), &noff, &nlen);
	} else if (file) {
		r->pgoff = (__u64)vma->vm_pgoff << PAGE_SHIFT;
		if ((__u64)file == wc.last_file) {
			r->name_id = wc.last_id;
			r->ino = wc.last_ino;
			r->dev = wc.last_dev;
		} else {
			struct file *uf = untrusted(struct file, file);
			__u64 mnt = (__u64)uf->f_path.mnt, dentry = (__u64)uf->f_path.dentry;
			/* pointer - pointer is the one pointer arithmetic the verifier
			 * allows (to CAP_PERFMON): a scalar to hash */
			__u32 slot = ((dentry - mnt) * 0x9e3779b97f4a7c15ull) >> (64 - VW_NAME_SLOTS_SHIFT);
			struct vw_name_slot *ns = bpf_map_lookup_elem(&name_slots, &slot);

			if (!ns)
				return 0;
			if (!filter.no_names && ns->gen == pass_gen && ns->dentry == dentry &&
			    ns->mnt == mnt) {
				r->name_id = ns->id;
				r->ino = ns->ino;
				r->dev = ns->dev;
			} else {
				struct inode *inode = uf->f_inode;

				r->ino = inode->i_ino;
				r->dev = inode->i_sb->s_dev;
				if (!filter.no_names) {
					barrier_var(off);
					off &= VW_NAME_CAP - 1;
					n = -1;
					if (name_mode == VW_NAMES_DPATH) {
						n = bpf_d_path((struct path *)&file->f_path, nb->buf + off,
							       VW_NAME_MAX);
						/* without the NUL; a failure (a name longer than
						 * the buffer) is named in user space */
						n = n > 0 ? n - 1 : -1;
					} else if (name_mode == VW_NAMES_WALK) {
						n = walk_name(nb, off, uf, &rflags);
					}
					if (n >= 0) {
						noff = off;
						nlen = n;
						nname = off + n + 1;
						rflags |= VW_F_NAME_NEW;
						r->name_id = next_name_id++;
						ns->mnt = mnt;
						ns->dentry = dentry;
						ns->ino = r->ino;
						ns->dev = r->dev;
						ns->id = r->name_id;
						ns->gen = pass_gen;
					} else if (n == -1) {
						rflags |= VW_F_NAME_USER;
						put_key(nb, off, mnt, dentry, &noff, &nlen);
					} else {
						rflags |= VW_F_NAME_ERR;
					}
				}
			}
			if (!(rflags & (VW_F_NAME_ERR | VW_F_NAME_USER))) {
				wc.last_file = (__u64)file;
				wc.last_id = r->name_id;
				wc.last_ino = r->ino;
				wc.last_dev = r->dev;
			}
		}
	} else if (kind == VW_KIND_SPECIAL && !filter.no_names) {
		n = -1;
		if (special_mapping_name_addr && fn == special_mapping_name_addr)
			n = put_str(nb, off, BPF_CORE_READ((struct vm_special_mapping *)vma->vm_private_data, name), 64);
		if (n >= 0) {
			noff = off;
			nlen = n;
		} else {
			/* a vm_ops->name() we cannot call from BPF */
			rflags |= VW_F_NAME_ERR;
		}
	} else if (kind == VW_KIND_ANON_NAMED && !filter.no_names) {
		n = put_str(nb, off, tv_vma_anon_name(vma), 256);
		if (n >= 0) {
			noff = off;
			nlen = n;
		} else {
			rflags |= VW_F_NAME_ERR;
		}
	}
	r->name_off = noff;
	r->name_len = nlen;
	r->flags = rflags;
	nrec = ri + 1;
	return 0;
}

/* ---- address lookups ---- */

/* The bounds of the binary searches below live in memory, not registers,
 * on purpose: an index used to address memory is tracked exactly by the
 * verifier, which then follows every path of the search (2^17), where
 * reloaded bounds are unknown values and the paths merge at each step. */
__u32 lk_lo = 0, lk_hi = 0;

/* The first index in [lo, hi) whose address is >= bound, hi if none.  The
 * next needed address is most often the one at lo (dense addresses), so
 * that is tried before the binary search.  Global: verified once. */
__noinline __u32 lk_lower(__u32 lo, __u32 hi, __u64 bound)
{
	struct vw_lk_addrs *la;
	__u32 zero = 0, mid;
	int k;

	la = bpf_map_lookup_elem(&lk_addrs, &zero);
	if (!la || hi > VW_LK_ADDR_CAP || lo >= hi)
		return hi;
	if (la->a[lo & (VW_LK_ADDR_CAP - 1)] >= bound)
		return lo;
	lk_lo = lo + 1;
	lk_hi = hi;
	for (k = 0; k < 17; k++) {	/* log2(VW_LK_ADDR_CAP) + 2 */
		lo = lk_lo;
		hi = lk_hi;
		if (lo >= hi)
			break;
		mid = lo + (hi - lo) / 2;
		if (la->a[mid & (VW_LK_ADDR_CAP - 1)] < bound)
			lk_lo = mid + 1;
		else
			lk_hi = mid;
	}
	return lk_lo;
}

/* The index of pid in lk_procs (sorted by pid), or -1. */
__noinline int lk_find(int pid)
{
	struct vw_lk_procs *lp;
	__u32 zero = 0, lo, hi, mid;
	int k;

	lp = bpf_map_lookup_elem(&lk_procs, &zero);
	if (!lp || lk_nprocs > VW_LK_PROC_CAP)
		return -1;
	lk_lo = 0;
	lk_hi = lk_nprocs;
	for (k = 0; k < 12; k++) {	/* log2(VW_LK_PROC_CAP) + 2 */
		lo = lk_lo;
		hi = lk_hi;
		if (lo >= hi)
			break;
		mid = lo + (hi - lo) / 2;
		if (lp->p[mid & (VW_LK_PROC_CAP - 1)].pid < pid)
			lk_lo = mid + 1;
		else
			lk_hi = mid;
	}
	lo = lk_lo;
	if (lo >= lk_nprocs || lo >= VW_LK_PROC_CAP)
		return -1;
	barrier_var(lo);	/* keep the mask the verifier needs */
	lo &= VW_LK_PROC_CAP - 1;
	return lp->p[lo].pid == pid ? (int)lo : -1;
}

/* One listed process: its needed VMAs, each once, in address order.  The
 * header (struct vw_task) is as in a walk, except: tgid is the listed pid,
 * first_addr the first address looked up, and seq_end differs from
 * seq_begin when the map (or the mm: exec) changed between two seeks. */
/* The next record of the tasks array, for tgid's walk from first_addr.
 * 1: the array is full (the caller saves where to resume: the next pass
 * starts there); -1: no walk (a kernel thread is reported with -ENOENT, not
 * walked: user space counts what it was shown); 0: *out is ready. */
static __always_inline int task_slot(struct task_struct *task, __s32 tgid, __u64 first_addr,
				     struct vw_task **out)
{
	__u32 ti = ntask;
	struct vw_task *t;

	*out = NULL;
	if (ti >= VW_TASK_CAP)
		return 1;
	t = bpf_map_lookup_elem(&tasks, &ti);
	if (!t)
		return -1;
	ntask = ti + 1;
	t->tgid = tgid;
	t->err = 0;
	t->status = VW_TS_DONE;
	t->nrec = 0;
	t->first_addr = first_addr;
	t->resume_addr = 0;
	t->has_vsyscall = 0;
	t->seq_begin = t->seq_end = 0;
	t->seq_kind = TV_SEQ_NONE;
	bpf_probe_read_kernel_str(t->comm, sizeof(t->comm), task->comm);
	if (task->flags & PF_KTHREAD) {
		t->err = -2; /* -ENOENT */
		return -1;
	}
	*out = t;
	return 0;
}

/* What a walk notes of the mm before its first VMA: the heap and stack
 * bounds that name [heap] and [stack], [vsyscall], the tree's sequence. */
static __always_inline void mm_begin(struct vw_task *t, struct mm_struct *mm)
{
	wc.brk = mm->brk;
	wc.start_brk = mm->start_brk;
	wc.start_stack = mm->start_stack;
	wc.last_file = 0;
	t->has_vsyscall = (BPF_CORE_READ(mm, context.flags) >> MM_CONTEXT_HAS_VSYSCALL_BIT) & 1;
	t->seq_kind = tv_mm_seq_kind();
	t->seq_begin = tv_mm_seq(mm);
}

static __always_inline int lk_task(struct task_struct *task, int pid)
{
	struct bpf_iter_task_vma it;
	struct bpf_iter_num rounds;
	struct vm_area_struct *vma = NULL;
	struct vw_lk_procs *lp;
	struct vw_lk_addrs *la;
	struct vw_task *t;
	struct mm_struct *mm = NULL, *m2;
	__u32 zero = 0, n0, i, j, end, steps, s;
	int k, err, ret = 0, torn = 0, first = 1, slot;

	k = lk_find(pid);
	if (k < 0)
		return 0;
	lp = bpf_map_lookup_elem(&lk_procs, &zero);
	la = bpf_map_lookup_elem(&lk_addrs, &zero);
	if (!lp || !la)
		return 0;
	barrier_var(k);	/* clang knows lk_find()'s range and drops the mask */
	k &= VW_LK_PROC_CAP - 1;
	i = lp->p[k & (VW_LK_PROC_CAP - 1)].first;
	end = i + lp->p[k & (VW_LK_PROC_CAP - 1)].n;
	if (end > VW_LK_ADDR_CAP || i > end)
		return 0;
	if (resume_pid == pid)
		i = resume_idx;

	slot = task_slot(task, pid, la->a[i & (VW_LK_ADDR_CAP - 1)], &t);
	if (slot > 0) {
		resume_pid = pid;
		resume_idx = i;
		return 1;
	}
	if (slot < 0 || !t)
		return 0;
	n0 = nrec;

	/* one round per seek; rounds <= addresses */
	bpf_iter_num_new(&rounds, 0, VW_LK_ADDR_CAP + 1);
	while (i < end && bpf_iter_num_next(&rounds)) {
		err = bpf_iter_task_vma_new(&it, task, la->a[i & (VW_LK_ADDR_CAP - 1)]);
		if (err) {
			bpf_iter_task_vma_destroy(&it);
			t->err = err;
			break;
		}
		lk_seeks++;
		m2 = untrusted(struct task_struct, task)->mm;
		if (first) {
			mm = m2;
			mm_begin(t, mm);
			first = 0;
		} else if (m2 != mm || tv_mm_seq(mm) != t->seq_begin) {
			torn = 1;
		}
		steps = 0;
		while ((vma = bpf_iter_task_vma_next(&it))) {
			lk_steps++;
			j = lk_lower(i, end, vma->vm_start);	/* below it: not mapped */
			if (j < end && la->a[j & (VW_LK_ADDR_CAP - 1)] < vma->vm_end) {
				if (emit_vma(vma)) {
					/* batch full: user space drains it, reads again */
					t->status = VW_TS_PARTIAL;
					t->resume_addr = vma->vm_start;
					resume_pid = pid;
					resume_idx = j;
					ret = 1;
					break;
				}
				i = lk_lower(j, end, vma->vm_end);
				steps = 0;
			} else {
				i = j;
				steps++;
			}
			if (i >= end || steps >= lk_walk)
				break;
		}
		if (!vma)
			i = end;	/* no VMA above: the rest is not mapped */
		s = tv_mm_seq(mm);
		if (s != t->seq_begin)
			torn = 1;
		bpf_iter_task_vma_destroy(&it);
		if (ret)
			break;
	}
	bpf_iter_num_destroy(&rounds);
	t->seq_end = torn ? t->seq_begin + 2 : t->seq_begin;
	t->nrec = nrec - n0;
	if (!ret && resume_pid == pid)
		resume_pid = 0;
	return ret;
}

SEC("iter/task")
int walk(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	struct bpf_iter_task_vma it;
	struct vm_area_struct *vma;
	struct vw_task *t;
	struct mm_struct *mm;
	__u32 n0;
	__u64 addr;
	int err, ret = 0, pid, slot;

	if (!task)
		return 0;
	ncalls++;
	pid = task->pid;
	if (lk_enabled && lk_mode)
		return lk_task(task, pid);
	if (!target_pid) {
		/* One walk per process: threads share the leader's mm. */
		if (pid != task->tgid) {
			nskipped_threads++;
			return 0;
		}
	}

	addr = filter.addr_lo;
	if (resume_pid == pid)
		addr = resume_addr;

	slot = task_slot(task, task->tgid, addr, &t);
	if (slot > 0) {
		resume_pid = pid;
		resume_addr = addr;
		return 1;
	}
	if (slot < 0 || !t)
		return 0;

	/* new() is called directly, not through bpf_for_each, to keep its
	 * error: -ENOENT (no mm), -EBUSY, -EOPNOTSUPP must reach the user. */
	err = bpf_iter_task_vma_new(&it, task, addr);
	if (err) {
		t->err = err;
		goto out;
	}

	mm = untrusted(struct task_struct, task)->mm;
	mm_begin(t, mm);
	n0 = nrec;

	while ((vma = bpf_iter_task_vma_next(&it))) {
		if (filter.addr_hi && vma->vm_start >= filter.addr_hi)
			break;
		/* a permission filter rejects most VMAs: do it before the call */
		if (filter.perm_set | filter.perm_clear) {
			__u32 p = tv_perm_bits(vma->vm_flags);

			if ((p & filter.perm_set) != filter.perm_set || (p & filter.perm_clear))
				continue;
		}
		if (emit_vma(vma)) {
			/* batch full: user space drains it and reads again */
			t->status = VW_TS_PARTIAL;
			t->resume_addr = vma->vm_start;
			resume_pid = pid;
			resume_addr = vma->vm_start;
			ret = 1;
			break;
		}
	}
	t->nrec = nrec - n0;
	t->seq_end = tv_mm_seq(mm);
out:
	bpf_iter_task_vma_destroy(&it);
	if (!ret && resume_pid == pid)
		resume_pid = 0;
	return ret;
}

char _license[] SEC("license") = "GPL";
