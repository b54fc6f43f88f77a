/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Records shared by the BPF VMA walker (vma_walk.bpf.c) and user space
 * (src/lib/backends/backend_bpf.c).  Fixed-width types only: both sides include this.
 */
#ifndef TASKVMA_VMA_WALK_H
#define TASKVMA_VMA_WALK_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif
#include "kfacts.h"

/* Capacities of the mmapped output buffers.  Powers of two: the BPF side
 * masks indexes with (CAP - 1) so the verifier can bound them. */
#define VW_REC_CAP	(1u << 14)	/* VMA records per batch */
#define VW_TASK_CAP	(1u << 10)	/* task headers per batch */
#define VW_NAME_CAP	(1u << 20)	/* bytes of name text per batch */
#define VW_NAME_MAX	TV_NAME_MAX	/* longest name one record may hold (PATH_MAX) */
/* the name buffer: VW_NAME_CAP, plus room for the longest name and, for the
 * in-kernel path walk, one more component read past TV_NAME_MAX */
#define VW_NAME_BUF	(VW_NAME_CAP + VW_NAME_MAX + TV_COMP_MAX)

/* How the walker names files (rodata name_mode), fastest first.  The engine
 * loads the first one the kernel's verifier accepts (backend_bpf.c):
 *  DPATH: bpf_d_path(&vma->vm_file->f_path), where the verifier trusts
 *         vm_file (upstream 6.4+: a plain pointer, 6.19+: trusted_or_null);
 *  WALK:  the path rebuilt in the kernel from dentries and mounts with
 *         fault-safe reads (vma_names.bpf.h), which every verifier accepts;
 *         files that name themselves (d_dname) go to user space as in USER;
 *  USER:  the kernel sends only the file's identity; user space resolves
 *         each distinct file once (/proc/PID/map_files, PROCMAP_QUERY). */
#define VW_NAMES_DPATH	0
#define VW_NAMES_WALK	1
#define VW_NAMES_USER	2

/* vw_rec.kind: how the kernel would name the VMA (see get_vma_name()). */
enum vw_kind {
	VW_KIND_ANON = 0,	/* no name */
	VW_KIND_FILE = 1,	/* name = d_path() of vm_file */
	VW_KIND_HEAP = 2,	/* [heap] */
	VW_KIND_STACK = 3,	/* [stack] */
	VW_KIND_SPECIAL = 4,	/* name from vm_ops->name(): [vdso], [vvar], ... */
	VW_KIND_ANON_NAMED = 5,	/* [anon:NAME] (prctl PR_SET_VMA_ANON_NAME) */
};

/* vw_rec.flags: the vm_flags bits /proc shows, plus name status. */
#define VW_F_READ	0x1u
#define VW_F_WRITE	0x2u
#define VW_F_EXEC	0x4u
#define VW_F_MAYSHARE	0x8u
#define VW_F_NAME_ERR	0x10u	/* the name could not be read (d_path failed) */
#define VW_F_NAME_NEW	0x40u	/* name_off/name_len hold the text of name_id */
#define VW_F_NAME_USER	0x20u	/* the name is resolved in user space: the name field
				 * holds a struct vw_name_key, not text (backing
				 * files of overlayfs & co., d_dname files in WALK
				 * mode, every file in USER mode) */
#define VW_F_DELETED	0x80u	/* WALK mode: append " (deleted)" */

/* One VMA.  name_off/name_len point into the batch's name buffer (in WALK
 * mode a file's text is its path components, leaf first, NUL-terminated); several
 * records may share one name (the same struct file mapped several times). */
struct vw_rec {
	__u64 start;
	__u64 end;
	__u64 pgoff;		/* bytes (vm_pgoff << PAGE_SHIFT); 0 when anonymous */
	__u64 ino;
	__u32 dev;		/* kernel dev_t: major = dev >> 20, minor = dev & 0xfffff */
	__u32 name_off;
	__u16 name_len;
	__u8 kind;		/* enum vw_kind */
	__u8 flags;		/* VW_F_* */
	__u32 name_id;		/* file names: id of the name in this pass (0 = none);
				 * the text comes once, with the first record that
				 * has the id (VW_F_NAME_NEW), later ones only refer */
};

/* Identity of a file whose name user space resolves (VW_F_NAME_USER): user
 * space turns it into a name once per distinct key and pass.  For a backing
 * file, the user-visible path (d_path of it is not allowed from BPF: the
 * pointer is not a trusted one). */
struct vw_name_key {
	__u64 mnt;
	__u64 dentry;
};

/* The per-pass name cache: a direct-mapped array (slot = hash of mnt and
 * dentry), not a hash map: a lookup is a few inlined instructions, and an
 * array costs nothing to create, where an LRU hash preallocates every entry
 * at load.  A collision only evicts: the evicted file is resolved again (new
 * id, same text).  Entries of older passes (gen) are ignored.  ino and dev
 * ride along: they belong to the dentry, so a hit needs no inode loads. */
struct vw_name_slot {
	__u64 mnt;
	__u64 dentry;
	__u64 ino;
	__u32 dev;
	__u32 gen;
	__u32 id;
	__u32 pad;
};
#define VW_NAME_SLOTS_SHIFT 14
#define VW_NAME_SLOTS (1u << VW_NAME_SLOTS_SHIFT)

/* vw_task.status */
#define VW_TS_DONE	0	/* walk finished */
#define VW_TS_PARTIAL	1	/* batch full: the walk resumes at resume_addr */

/* One process (thread-group leader) visited in this batch.  A process whose
 * walk spans batches appears once per batch, with first_addr telling where
 * that part of the walk began. */
struct vw_task {
	__s32 tgid;
	__s32 err;		/* bpf_iter_task_vma_new() result, 0 or -errno */
	__u32 status;		/* VW_TS_* */
	__u32 nrec;		/* records this task contributed to this batch */
	__u64 first_addr;	/* address this part of the walk started at */
	__u64 resume_addr;	/* where the next part starts (VW_TS_PARTIAL) */
	__u32 seq_begin;	/* mm->mm_lock_seq before the walk */
	__u32 seq_end;		/* ... and after: differs => the map changed */
	__u32 has_vsyscall;	/* mm has the x86 vsyscall gate VMA */
	__u32 seq_kind;		/* TV_SEQ_*: how to read seq_begin/seq_end */
	char comm[16];
};

/* Filters applied in the kernel, before anything is copied out. */
struct vw_filter {
	__u64 addr_lo;		/* walk starts here (the kfunc's addr) */
	__u64 addr_hi;		/* stop at the first VMA starting at or above this; 0 = no limit */
	__u32 perm_set;		/* VW_F_* bits that must be set */
	__u32 perm_clear;	/* VW_F_* bits that must be clear */
	__u32 kinds;		/* bitmask of (1 << enum vw_kind) to keep; 0 = all */
	__u32 no_names;		/* 1: do not resolve names (counting / address-only queries) */
};

/* Address lookups (global lk_mode = 1): user space passes the needed
 * addresses of each process, sorted, and the walker answers them without
 * walking the whole map: for each address not yet covered it starts the
 * VMA iterator at that address (bpf_iter_task_vma_new(.., addr): the VMA
 * holding it or the next one above), records only the VMAs that hold one
 * of the addresses (each once), then seeks to the next address not
 * covered (or steps with _next() over up to VW_LK_WALK VMAs first).  Processes are
 * listed by pid, sorted (a binary search per task the iterator shows);
 * each has a run [first, first + n) of lk_addrs.  Both tables are mmapped
 * by user space and written before the pass. */
#define VW_LK_ADDR_CAP	(1u << 15)	/* addresses per pass (256 KiB) */
#define VW_LK_PROC_CAP	(1u << 10)	/* processes per pass */
/* VMAs holding none of the addresses that the walker steps over with
 * _next() before it seeks again (global lk_walk, set from this).  0: a new
 * seek for each needed VMA.  On this project's 6.18 machine a _next() costs
 * as much as a seek (~0.45 us: both descend the maple tree and take the
 * VMA's lock), so stepping only adds work: normalize of 200 processes x
 * 100 addresses in maps of 500 VMAs took 21.5 ms with 0, 36 ms with 8,
 * 57 ms walking the whole range (CPU time, median of 15). */
#define VW_LK_WALK	0

struct vw_lk_proc {
	__s32 pid;		/* the task's pid (a thread's tid works too) */
	__u32 first;		/* its first address in lk_addrs */
	__u32 n;		/* how many (sorted ascending) */
	__u32 pad;
};

struct vw_lk_addrs {
	__u64 a[VW_LK_ADDR_CAP];
};

struct vw_lk_procs {
	struct vw_lk_proc p[VW_LK_PROC_CAP];
};

/* The walker's per-task state (BPF side only; here so the skeleton can
 * describe the global that holds it). */
struct vw_walk_ctx {
	__u64 brk;
	__u64 start_brk;
	__u64 start_stack;
	__u64 last_file;	/* libc & co. are mapped several times in a row */
	__u64 last_ino;		/* ... so its name id, ino and dev are kept */
	__u32 last_dev;
	__u32 last_id;
};

#endif
