// SPDX-License-Identifier: GPL-2.0
/*
 * The example program of the bpf_iter_task_vma_new kfunc documentation page
 * (docs.ebpf.io, itself taken from the kernel's BPF selftests), made to load
 * and run on this project's kernel.
 *
 * What it does: the first time the task whose pid is target_pid enters a
 * system call, it walks that task's memory map with the open-coded VMA
 * iterator and records the [vm_start, vm_end) range of up to 1,000 VMAs in a
 * global array; vmas_seen says how many.  The map is read at that instant, in
 * the kernel, which no read of /proc/PID/maps can do.
 *
 * Differences from the documentation's text, all marked "CHANGED" below:
 *  - the headers: the docs include the selftests' private headers
 *    (bpf_experimental.h, bpf_misc.h); this project's compat.bpf.h provides
 *    what libbpf 1.1 lacks (bpf_for_each, barrier_var, the kfunc externs);
 *  - (void)ctx, for -Wextra -Werror;
 *  - barrier_var(seen) before the array access (see the comment there):
 *    without it the program is rejected by the verifier.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "compat.bpf.h"		/* CHANGED: bpf_for_each, barrier_var, kfuncs */

/* Set by the loader before the program is loaded (.bss). */
pid_t target_pid = 0;
/* Written once by the program: how many ranges vm_ranges holds.  Non-zero
 * also means "done": later system calls of the target are ignored. */
unsigned int vmas_seen = 0;

/* The captured ranges, in address order (the iterator's order). */
struct {
	__u64 vm_start;
	__u64 vm_end;
} vm_ranges[1000];

/* raw_tp/sys_enter: runs on entry to every system call of every task, so
 * the first thing it does is reject the tasks it does not want. */
SEC("raw_tp/sys_enter")
int iter_task_vma_for_each(const void *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct vm_area_struct *vma;
	unsigned int seen = 0;

	(void)ctx;	/* CHANGED: the project builds with -Wextra -Werror */

	/* task->pid is the thread id: like the docs, only the thread whose id
	 * is target_pid (a process's main thread has tid == pid) counts. */
	if (task->pid != target_pid)
		return 0;

	/* Only the first system call is captured. */
	if (vmas_seen)
		return 0;

	/* bpf_iter_task_vma_new(&it, task, 0) / _next() / _destroy(): the walk
	 * starts at the VMA containing address 0 or the next one above, i.e.
	 * the whole map.  bpf_for_each drops new()'s error: a task without
	 * an address space simply yields no VMA here. */
	bpf_for_each(task_vma, vma, task, 0) {
		if (seen >= 1000)
			break;

		/*
		 * CHANGED: barrier_var(seen).  Without it clang (14 and 19)
		 * keeps a pointer to vm_ranges[seen] that it advances by 16
		 * bytes per iteration, and does the `seen >= 1000` check on a
		 * separate counter register.  The verifier sees a pointer into
		 * the .bss map value whose offset it cannot bound (the loop
		 * runs an unknown number of times) and rejects the store with
		 * "invalid access to map value".  The empty asm makes the
		 * compiler forget what it knows about `seen`, so it must
		 * compute &vm_ranges[seen] from `seen` itself, right after the
		 * check: the verifier then knows seen < 1000 and the offset
		 * seen * 16 < 16000 fits the array.
		 */
		barrier_var(seen);
		vm_ranges[seen].vm_start = vma->vm_start;
		vm_ranges[seen].vm_end = vma->vm_end;
		seen++;
	}

	vmas_seen = seen;
	return 0;
}

char _license[] SEC("license") = "GPL";
