/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Kernel facts that BPF programs report to user space and both sides must
 * read the same way.  Fixed-width, no kernel types: included by vma_walk.h,
 * trace.h and by user space.
 */
#ifndef TASKVMA_KFACTS_H
#define TASKVMA_KFACTS_H

/* What mm->mm_lock_seq is on the running kernel (vma_names.bpf.h finds out
 * with CO-RE, user space interprets the values it was sent):
 *  - SEQCOUNT (Linux 6.13+, "mm: convert mm_lock_seq to a proper seqcount"):
 *    odd while a writer holds the mmap lock, bumped at its start and end;
 *  - COUNTER (6.4-6.12, CONFIG_PER_VMA_LOCK): an int bumped when the mmap
 *    write lock is released; its parity means nothing;
 *  - NONE (no CONFIG_PER_VMA_LOCK): no counter.  The kfunc then holds the
 *    mmap read lock for the whole walk: a walk cannot tear. */
#define TV_SEQ_NONE	0
#define TV_SEQ_COUNTER	1
#define TV_SEQ_SEQCOUNT	2

/* Permission bits /proc shows, from vm_flags (the same values as
 * TASKVMA_PERM_*, VW_F_* and TR_P_*). */
#define TV_P_READ	0x1u
#define TV_P_WRITE	0x2u
#define TV_P_EXEC	0x4u
#define TV_P_MAYSHARE	0x8u

/* Rebuilding a path in the kernel (vma_names.bpf.h, tv_path_walk()): at most
 * TV_PATH_DEPTH dentries and mount crossings and TV_NAME_MAX bytes (PATH_MAX);
 * one component is at most TV_COMP_MAX bytes with its NUL (NAME_MAX + 1).
 * The output is the components leaf first, each NUL-terminated; user space
 * joins them root first (tv_path_join()). */
#define TV_NAME_MAX	4096u
#define TV_COMP_MAX	256u
#define TV_PATH_DEPTH	1024

/* The path walk's cursor (it lives in map memory: vma_names.bpf.h says why;
 * here because a skeleton describes the globals that hold it). */
struct tv_path_cursor {
	__u64 dentry;		/* struct dentry * */
	__u64 mnt;		/* struct mount * */
	__u32 off;		/* bytes written */
	__u32 ncomp;		/* components written */
	__u32 state;		/* TV_PW_* */
	__u32 pad;
};

#define TV_PW_RUNNING	0
#define TV_PW_DONE	1	/* reached the root of the mount tree */
#define TV_PW_ESCAPED	2	/* a dentry root that is not its mount's root: d_path() prints "/" */
#define TV_PW_TRUNC	3	/* longer than TV_NAME_MAX bytes or TV_PATH_DEPTH steps */
#define TV_PW_ERR	4	/* a kernel read failed */

#endif
