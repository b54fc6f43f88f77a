// SPDX-License-Identifier: GPL-2.0
/*
 * The benchmark floor (bench/maps_bench.c, method "floor"): the cheapest
 * possible walk of every process's VMAs with the open-coded
 * bpf_iter_task_vma_new/_next/_destroy kfuncs.  Same shape as the real
 * engine (src/bpf/vma_walk.bpf.c): an iter/task program, triggered by read()
 * of an iterator link, one walk per thread-group leader, kernel threads
 * skipped.  With mode 0 it copies nothing: it only counts, per process (so
 * that the benchmark can check it saw the same VMAs as every other method)
 * and in total.
 *
 * Other modes add, one at a time, the work the real engine does per VMA, to
 * tell where its time goes (maps_bench --only floor_rec,floor_dpath,...):
 *   FLOOR_REC    read the fields of a record and store one (no names), with
 *                direct loads through BTF pointers (no bpf_probe_read_kernel)
 *   FLOOR_DPATH  + bpf_d_path() for every file-backed VMA
 *   FLOOR_DCACHE + bpf_d_path() once per distinct file (dentry) per pass
 * and floor_seq, the seq_file iter/task_vma walk, for comparison.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "compat.bpf.h"
#include "vma_names.bpf.h"	/* tv_perm_bits(): the engine's own record work */

#define FLOOR_CAP	(1u << 13)	/* per-process counters kept */
#define REC_CAP		(1u << 14)	/* records: a ring, overwritten */
#define NAME_CAP	(1u << 16)	/* name bytes: a ring, overwritten */
#define NAME_MAX_	4096u

#define FLOOR_REC	0x1u
#define FLOOR_DPATH	0x2u
#define FLOOR_DCACHE	0x4u

struct floor_proc {
	__s32 tgid;
	__s32 err;		/* bpf_iter_task_vma_new() result */
	__u64 nvma;
};

struct floor_rec {
	__u64 start, end, pgoff, ino;
	__u32 dev, flags;
	__u32 name_off, name_len;
};

/* Inputs. */
__u32 mode = 0;
/* 0 where this kernel's verifier refuses bpf_d_path() on vm_file (hardened
 * builds: docs/design.md, "Engine variants"): the FLOOR_DPATH and
 * FLOOR_DCACHE modes then do not exist, and the rest of the program loads */
const volatile __u32 with_dpath = 1;
__u64 pass = 0;			/* keys the name cache: a new pass misses */

/* Outputs; user space zeroes the counters before each pass. */
__u64 total_vmas = 0;
__u64 nrec = 0;
__u64 nname = 0;
__u64 ndpath = 0;
__u32 nproc = 0;
__u32 nlost = 0;		/* processes beyond FLOOR_CAP (counted in total only) */

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, FLOOR_CAP);
	__type(key, __u32);
	__type(value, struct floor_proc);
} procs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, REC_CAP);
	__type(key, __u32);
	__type(value, struct floor_rec);
} recs SEC(".maps");

struct floor_names {
	char buf[NAME_CAP + NAME_MAX_];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct floor_names);
} names SEC(".maps");

struct name_key {
	__u64 dentry;
	__u64 pass;
};

struct name_val {
	__u32 off, len;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1 << 16);
	__type(key, struct name_key);
	__type(value, struct name_val);
} name_cache SEC(".maps");

/* One VMA's record (modes other than 0). */
__noinline int floor_emit(struct vm_area_struct *vma __arg_trusted)
{
	struct floor_names *nb;
	struct floor_rec *r;
	struct inode *inode;
	struct file *file;
	__u32 zero = 0, ri, off;
	long n;

	if (!vma)
		return 0;
	ri = (__u32)nrec & (REC_CAP - 1);
	r = bpf_map_lookup_elem(&recs, &ri);
	nb = bpf_map_lookup_elem(&names, &zero);
	if (!r || !nb)
		return 0;
	nrec++;
	r->start = vma->vm_start;
	r->end = vma->vm_end;
	r->flags = tv_perm_bits(vma->vm_flags);	/* as vma_walk.bpf.c stores them */
	r->pgoff = 0;
	r->ino = 0;
	r->dev = 0;
	r->name_off = 0;
	r->name_len = 0;
	file = vma->vm_file;
	if (!file)
		return 0;
	r->pgoff = (__u64)vma->vm_pgoff << PAGE_SHIFT;
	/* direct (BTF pointer) loads: inline instructions, where
	 * BPF_CORE_READ() would call bpf_probe_read_kernel() per step */
	inode = file->f_inode;
	r->ino = inode->i_ino;
	r->dev = inode->i_sb->s_dev;
	if (mode & FLOOR_DCACHE) {
		struct name_key k = { .dentry = (__u64)file->f_path.dentry, .pass = pass };
		struct name_val *v = bpf_map_lookup_elem(&name_cache, &k);

		if (v) {
			r->name_off = v->off;
			r->name_len = v->len;
			return 0;
		}
	} else if (!(mode & FLOOR_DPATH)) {
		return 0;
	}
	if (!with_dpath)
		return 0;
	off = (__u32)nname;
	barrier_var(off);
	off &= NAME_CAP - 1;
	n = bpf_d_path((struct path *)&file->f_path, nb->buf + off, NAME_MAX_);
	ndpath++;
	if (n > 0) {
		r->name_off = off;
		r->name_len = n - 1;
		nname += n;
		if (mode & FLOOR_DCACHE) {
			struct name_key k = { .dentry = (__u64)file->f_path.dentry, .pass = pass };
			struct name_val v = { .off = off, .len = n - 1 };

			bpf_map_update_elem(&name_cache, &k, &v, BPF_ANY);
		}
	}
	return 0;
}

SEC("iter/task")
int floor_walk(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	struct bpf_iter_task_vma it;
	struct vm_area_struct *vma;
	struct floor_proc *p;
	__u64 n = 0;
	__u32 i;
	int err;

	if (!task || task->pid != task->tgid || (task->flags & PF_KTHREAD))
		return 0;
	err = bpf_iter_task_vma_new(&it, task, 0);
	if (!err) {
		if (mode) {
			while ((vma = bpf_iter_task_vma_next(&it))) {
				floor_emit(vma);
				n++;
			}
		} else {
			while (bpf_iter_task_vma_next(&it))
				n++;
		}
	}
	bpf_iter_task_vma_destroy(&it);

	total_vmas += n;
	i = nproc;
	if (i >= FLOOR_CAP) {
		nlost++;
		return 0;
	}
	p = bpf_map_lookup_elem(&procs, &i);
	if (!p)
		return 0;
	p->tgid = task->tgid;
	p->err = err;
	p->nvma = n;
	nproc = i + 1;
	return 0;
}

/* For comparison only (maps_bench --only floor_task_vma): the seq_file
 * iterator over VMAs, which holds the mmap lock across a whole batch instead
 * of taking each VMA's lock, one program run per VMA, counting. */
__u64 seq_vmas = 0;

SEC("iter/task_vma")
int floor_seq(struct bpf_iter__task_vma *ctx)
{
	if (ctx->vma)
		seq_vmas++;
	return 0;
}

char _license[] SEC("license") = "GPL";
