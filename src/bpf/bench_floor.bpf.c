// SPDX-License-Identifier: GPL-2.0
/*
 * The benchmark floor (bench/maps_bench.c, method "floor"): the cheapest
 * possible walk of every process's VMAs with the open-coded
 * bpf_iter_task_vma_new/_next/_destroy kfuncs.  Same shape as the real
 * engine (src/bpf/vma_walk.bpf.c): an iter/task program, triggered by read()
 * of an iterator link, one walk per thread-group leader, kernel threads
 * skipped.  It copies nothing: it only counts, per process (so that the
 * benchmark can check it saw the same VMAs as every other method) and in
 * total.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "compat.bpf.h"

#define PF_KTHREAD	0x00200000
#define FLOOR_CAP	(1u << 13)	/* per-process counters kept */

struct floor_proc {
	__s32 tgid;
	__s32 err;		/* bpf_iter_task_vma_new() result */
	__u64 nvma;
};

/* Outputs; user space zeroes the counters before each pass. */
__u64 total_vmas = 0;
__u32 nproc = 0;
__u32 nlost = 0;		/* processes beyond FLOOR_CAP (counted in total only) */

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, FLOOR_CAP);
	__type(key, __u32);
	__type(value, struct floor_proc);
} procs SEC(".maps");

SEC("iter/task")
int floor_walk(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	struct bpf_iter_task_vma it;
	struct floor_proc *p;
	__u64 n = 0;
	__u32 i;
	int err;

	if (!task || task->pid != task->tgid || (task->flags & PF_KTHREAD))
		return 0;
	err = bpf_iter_task_vma_new(&it, task, 0);
	if (!err)
		while (bpf_iter_task_vma_next(&it))
			n++;
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

char _license[] SEC("license") = "GPL";
