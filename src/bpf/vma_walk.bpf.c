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

#define PF_KTHREAD	0x00200000
#define VM_READ		0x1
#define VM_WRITE	0x2
#define VM_EXEC		0x4
#define VM_MAYSHARE	0x80
#define PAGE_SHIFT	12
#define MM_CONTEXT_HAS_VSYSCALL_BIT 1

/* Address of the kernel's special_mapping_name(): VMAs whose vm_ops->name is
 * this function are [vdso], [vvar], [uprobes]... and their name is
 * vm_special_mapping->name.  Learnt at open by a calibration walk over our
 * own [vdso] (cheaper than scanning /proc/kallsyms): 0 = not known yet. */
__u64 special_mapping_name_addr = 0;
__u32 calibrate = 0;

/* Inputs, written by user space before each pass. */
struct vw_filter filter = {};
__s32 target_pid = 0;		/* 0: every process; else the one tid the link selects */

/* Resume cursor: set when a batch fills up in the middle of a walk. */
__s32 resume_pid = 0;
__u64 resume_addr = 0;

/* Fill levels of the current batch; user space resets them after draining. */
__u32 nrec = 0;
__u32 ntask = 0;
__u32 nname = 0;
__u32 nskipped_threads = 0;

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

struct vw_names {
	char buf[VW_NAME_CAP + VW_NAME_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vw_names);
} names SEC(".maps");

/* Kernels built with CONFIG_ANON_VMA_NAME have vma->anon_name; CO-RE tells. */
struct anon_vma_name___tv {
	char name[64];
} __attribute__((preserve_access_index));

struct vm_area_struct___tv {
	struct anon_vma_name___tv *anon_name;
} __attribute__((preserve_access_index));

static __always_inline __u32 name_room(void)
{
	__u32 off = nname;

	barrier_var(off);
	return off;
}

SEC("iter/task")
int walk(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	struct bpf_iter_task_vma it;
	struct vm_area_struct *vma;
	struct vw_task *t;
	struct vw_names *nb;
	struct mm_struct *mm;
	struct file *last_file = NULL;
	__u32 last_off = 0, last_len = 0, zero = 0, ti, flags;
	__u64 addr, brk, start_brk, start_stack;
	int err, ret = 0, pid;

	if (!task)
		return 0;
	pid = task->pid;
	if (!target_pid) {
		/* One walk per process: threads share the leader's mm. */
		if (pid != task->tgid) {
			nskipped_threads++;
			return 0;
		}
		if (task->flags & PF_KTHREAD)
			return 0;
	}

	addr = filter.addr_lo;
	if (resume_pid == pid)
		addr = resume_addr;

	ti = ntask;
	if (ti >= VW_TASK_CAP) {
		resume_pid = pid;
		resume_addr = addr;
		return 1;
	}
	t = bpf_map_lookup_elem(&tasks, &ti);
	nb = bpf_map_lookup_elem(&names, &zero);
	if (!t || !nb)
		return 0;
	ntask = ti + 1;
	t->tgid = task->tgid;
	t->err = 0;
	t->status = VW_TS_DONE;
	t->nrec = 0;
	t->first_addr = addr;
	t->resume_addr = 0;
	t->has_vsyscall = 0;
	t->seq_begin = t->seq_end = 0;
	bpf_probe_read_kernel_str(t->comm, sizeof(t->comm), task->comm);

	/* new() is called directly, not through bpf_for_each, to keep its
	 * error: -ENOENT (no mm), -EBUSY, -EOPNOTSUPP must reach the user. */
	err = bpf_iter_task_vma_new(&it, task, addr);
	if (err) {
		t->err = err;
		goto out;
	}

	mm = task->mm;
	brk = BPF_CORE_READ(mm, brk);
	start_brk = BPF_CORE_READ(mm, start_brk);
	start_stack = BPF_CORE_READ(mm, start_stack);
	t->has_vsyscall = (BPF_CORE_READ(mm, context.flags) >> MM_CONTEXT_HAS_VSYSCALL_BIT) & 1;
	t->seq_begin = BPF_CORE_READ(mm, mm_lock_seq.sequence);

	while ((vma = bpf_iter_task_vma_next(&it))) {
		struct vw_rec *r;
		struct file *file;
		__u64 vstart = vma->vm_start, vend = vma->vm_end;
		__u32 ri, kind, rflags = 0, noff = 0, nlen = 0;

		if (filter.addr_hi && vstart >= filter.addr_hi)
			break;

		flags = vma->vm_flags;
		if (flags & VM_READ)
			rflags |= VW_F_READ;
		if (flags & VM_WRITE)
			rflags |= VW_F_WRITE;
		if (flags & VM_EXEC)
			rflags |= VW_F_EXEC;
		if (flags & VM_MAYSHARE)
			rflags |= VW_F_MAYSHARE;
		if ((rflags & filter.perm_set) != filter.perm_set || (rflags & filter.perm_clear))
			continue;

		file = vma->vm_file;
		if (file) {
			kind = VW_KIND_FILE;
		} else {
			kind = VW_KIND_ANON;
			if (vma->vm_ops) {
				__u64 fn = (__u64)BPF_CORE_READ(vma->vm_ops, name);

				if (fn)
					kind = VW_KIND_SPECIAL;
				if (calibrate && fn) {
					special_mapping_name_addr = fn;
					calibrate = 0;
				}
			}
			if (kind == VW_KIND_ANON) {
				if (vstart < brk && vend > start_brk)
					kind = VW_KIND_HEAP;
				else if (vstart <= start_stack && vend >= start_stack)
					kind = VW_KIND_STACK;
				else if (bpf_core_field_exists(((struct vm_area_struct___tv *)vma)->anon_name) &&
					 BPF_CORE_READ((struct vm_area_struct___tv *)vma, anon_name))
					kind = VW_KIND_ANON_NAMED;
			}
		}
		if (filter.kinds && !(filter.kinds & (1u << kind)))
			continue;

		ri = nrec;
		if (ri >= VW_REC_CAP || name_room() >= VW_NAME_CAP) {
			t->status = VW_TS_PARTIAL;
			t->resume_addr = vstart;
			resume_pid = pid;
			resume_addr = vstart;
			ret = 1;
			break;
		}
		r = bpf_map_lookup_elem(&recs, &ri);
		if (!r)
			break;

		r->start = vstart;
		r->end = vend;
		r->kind = kind;
		r->task_idx = ti;
		r->pgoff = 0;
		r->ino = 0;
		r->dev = 0;

		if (file) {
			struct inode *inode = file->f_inode;

			r->pgoff = (__u64)vma->vm_pgoff << PAGE_SHIFT;
			r->ino = BPF_CORE_READ(inode, i_ino);
			r->dev = BPF_CORE_READ(inode, i_sb, s_dev);
			if (filter.no_names) {
				/* nothing */
			} else if (file == last_file) {
				/* libc & co. map one file several times in a row */
				noff = last_off;
				nlen = last_len;
			} else {
				__u32 off = name_room();
				long n;

				off &= VW_NAME_CAP - 1;
				n = bpf_d_path((struct path *)&file->f_path, nb->buf + off, VW_NAME_MAX);
				if (n > 0) {
					noff = off;
					nlen = n - 1;	/* without the NUL */
					nname = off + n;
					last_file = file;
					last_off = noff;
					last_len = nlen;
				} else {
					rflags |= VW_F_NAME_ERR;
				}
			}
		} else if (kind == VW_KIND_SPECIAL && !filter.no_names) {
			__u64 fn = (__u64)BPF_CORE_READ(vma->vm_ops, name);
			__u32 off = name_room() & (VW_NAME_CAP - 1);
			long n = -1;

			if (special_mapping_name_addr && fn == special_mapping_name_addr) {
				const char *s = BPF_CORE_READ((struct vm_special_mapping *)vma->vm_private_data, name);

				n = bpf_probe_read_kernel_str(nb->buf + off, 64, s);
			}
			if (n > 0) {
				noff = off;
				nlen = n - 1;
				nname = off + n;
			} else {
				/* a vm_ops->name() we cannot call from BPF */
				rflags |= VW_F_NAME_ERR;
			}
		} else if (kind == VW_KIND_ANON_NAMED && !filter.no_names) {
			__u32 off = name_room() & (VW_NAME_CAP - 1);
			struct anon_vma_name___tv *an = BPF_CORE_READ((struct vm_area_struct___tv *)vma, anon_name);
			long n = bpf_probe_read_kernel_str(nb->buf + off, 256,
							   (void *)an + bpf_core_field_offset(an->name));

			if (n > 0) {
				noff = off;
				nlen = n - 1;
				nname = off + n;
			} else {
				rflags |= VW_F_NAME_ERR;
			}
		}
		r->name_off = noff;
		r->name_len = nlen;
		r->flags = rflags;
		nrec = ri + 1;
		t->nrec++;
	}
	t->seq_end = BPF_CORE_READ(mm, mm_lock_seq.sequence);
out:
	bpf_iter_task_vma_destroy(&it);
	if (!ret && resume_pid == pid)
		resume_pid = 0;
	return ret;
}

char _license[] SEC("license") = "GPL";
