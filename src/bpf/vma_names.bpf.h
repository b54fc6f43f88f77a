/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What the VMA walker (vma_walk.bpf.c) and the event-time capture
 * (trace.bpf.c) share about reading a VMA the way fs/proc/task_mmu.c prints
 * it: permission bits, the prctl anon name, backing files, mm_lock_seq, and
 * the rebuild of a file's path from its dentries and mounts.  Each kernel
 * difference is one CO-RE check here, with the kernel change it follows.
 *
 * Include after vmlinux.h, bpf_helpers.h, bpf_core_read.h and compat.bpf.h.
 */
#ifndef TASKVMA_VMA_NAMES_BPF_H
#define TASKVMA_VMA_NAMES_BPF_H

#include "kfacts.h"

/* The permission bits /proc shows (TV_P_*), from vm_flags. */
static __always_inline __u32 tv_perm_bits(__u64 vm_flags)
{
	return (vm_flags & VM_READ ? TV_P_READ : 0) | (vm_flags & VM_WRITE ? TV_P_WRITE : 0) |
	       (vm_flags & VM_EXEC ? TV_P_EXEC : 0) | (vm_flags & VM_MAYSHARE ? TV_P_MAYSHARE : 0);
}

/* ---- [anon:NAME]: vma->anon_name exists with CONFIG_ANON_VMA_NAME (5.17) */

struct anon_vma_name___tv {
	char name[64];
} __attribute__((preserve_access_index));

struct vm_area_struct___tv {
	struct anon_vma_name___tv *anon_name;
} __attribute__((preserve_access_index));

/* The kernel address of the VMA's prctl(PR_SET_VMA_ANON_NAME) name, or 0. */
static __always_inline const char *tv_vma_anon_name(struct vm_area_struct *vma)
{
	struct anon_vma_name___tv *an;

	if (!bpf_core_field_exists(((struct vm_area_struct___tv *)vma)->anon_name))
		return 0;
	an = BPF_CORE_READ((struct vm_area_struct___tv *)vma, anon_name);
	if (!an)
		return 0;
	return (const char *)an + bpf_core_field_offset(an->name);
}

/* ---- backing files (overlayfs & co., Linux 6.6 "fs: use backing_file
 * container for internal files with fake f_path"): /proc shows the path the
 * user opened, kept in struct backing_file.  FMODE_BACKING is a #define,
 * not in BTF: user space learns its value (tv_fmode_backing()). */

struct backing_file___tv {
	struct file file;
	union {
		struct path user_path;
	};
} __attribute__((preserve_access_index));

/* ---- mm->mm_lock_seq (see TV_SEQ_* in kfacts.h) */

struct mm_struct___seqcount {	/* 6.13+: seqcount_t mm_lock_seq */
	struct {
		unsigned int sequence;
	} mm_lock_seq;
} __attribute__((preserve_access_index));

struct mm_struct___counter {	/* 6.4-6.12 with CONFIG_PER_VMA_LOCK: int mm_lock_seq */
	int mm_lock_seq;
} __attribute__((preserve_access_index));

static __always_inline __u32 tv_mm_seq_kind(void)
{
	if (bpf_core_field_exists(((struct mm_struct___seqcount *)0)->mm_lock_seq.sequence))
		return TV_SEQ_SEQCOUNT;
	if (bpf_core_field_exists(struct mm_struct___counter, mm_lock_seq))
		return TV_SEQ_COUNTER;
	return TV_SEQ_NONE;
}

static __always_inline __u32 tv_mm_seq(struct mm_struct *mm)
{
	if (bpf_core_field_exists(((struct mm_struct___seqcount *)0)->mm_lock_seq.sequence))
		return BPF_CORE_READ((struct mm_struct___seqcount *)mm, mm_lock_seq.sequence);
	if (bpf_core_field_exists(struct mm_struct___counter, mm_lock_seq))
		return (__u32)BPF_CORE_READ((struct mm_struct___counter *)mm, mm_lock_seq);
	return 0;
}

/* ---- a file's path, rebuilt as d_path() does (fs/d_path.c, prepend_path):
 * walk dentry->d_parent up to the root of the mount, then cross to the
 * parent mount at its mountpoint, until the root of the mount tree.
 * Everything is read with bpf_probe_read_kernel (BPF_CORE_READ): it loads on
 * every verifier, including builds that trust no pointer walked from a VMA.
 *
 * The cursor lives in memory (a map value or a global), not in registers:
 * values loaded from memory are unknown to the verifier, so the loop below
 * converges after one pass instead of being explored once per value. */

/* One step: add one component or cross one mount.  buf has room for
 * TV_NAME_MAX + TV_COMP_MAX bytes.  Returns 1 when the walk is over. */
static __always_inline int tv_path_step(struct tv_path_cursor *c, char *buf)
{
	struct dentry *d = (struct dentry *)c->dentry;
	struct mount *m = (struct mount *)c->mnt;
	struct dentry *parent;
	__u32 off;
	long n;

	if (d == BPF_CORE_READ(m, mnt.mnt_root)) {
		struct mount *pm = BPF_CORE_READ(m, mnt_parent);

		if (!pm || pm == m) {
			/* root of the mount tree, or a detached / internal
			 * mount such as shmem's: the path is complete */
			c->state = TV_PW_DONE;
			return 1;
		}
		c->dentry = (__u64)BPF_CORE_READ(m, mnt_mountpoint);
		c->mnt = (__u64)pm;
		return 0;
	}
	parent = BPF_CORE_READ(d, d_parent);
	if (!parent || parent == d) {
		c->state = TV_PW_ESCAPED;
		return 1;
	}
	off = c->off;
	barrier_var(off);
	if (off >= TV_NAME_MAX) {
		c->state = TV_PW_TRUNC;
		return 1;
	}
	n = bpf_probe_read_kernel_str(buf + off, TV_COMP_MAX, BPF_CORE_READ(d, d_name.name));
	if (n <= 0) {
		c->state = TV_PW_ERR;
		return 1;
	}
	c->off = off + n;
	c->ncomp++;
	c->dentry = (__u64)parent;
	return 0;
}

/* Rebuild the path of (dentry, vfsmnt) into buf.  c->state says how it
 * ended; on TV_PW_ESCAPED off and ncomp are 0 (d_path() throws away what it
 * had and prints "/"). */
static __always_inline void tv_path_walk(struct tv_path_cursor *c, char *buf,
					 struct dentry *dentry, struct vfsmount *vfsmnt)
{
	struct bpf_iter_num nit;

	c->dentry = (__u64)dentry;
	c->mnt = (__u64)((void *)vfsmnt - bpf_core_field_offset(struct mount, mnt));
	c->off = 0;
	c->ncomp = 0;
	c->state = TV_PW_TRUNC;	/* unless the loop ends it: the depth limit */
	bpf_iter_num_new(&nit, 0, TV_PATH_DEPTH);
	while (bpf_iter_num_next(&nit)) {
		if (tv_path_step(c, buf))
			break;
	}
	bpf_iter_num_destroy(&nit);
	if (c->state == TV_PW_ESCAPED) {
		c->off = 0;
		c->ncomp = 0;
	}
}

/* d_unlinked(): unhashed and not a root, so d_path() appends " (deleted)". */
static __always_inline int tv_dentry_unlinked(struct dentry *dentry, struct dentry *parent)
{
	return !BPF_CORE_READ(dentry, d_hash.pprev) && parent != dentry;
}

/* d_path() lets a dentry with d_op->d_dname name itself (anon inodes,
 * sockets, pipes, pseudo files), unless it is the root of its mount.
 * Returns that function's address, or 0 when the path walk applies. */
static __always_inline __u64 tv_dentry_dname(struct dentry *dentry, struct dentry *parent,
					     struct vfsmount *vfsmnt)
{
	__u64 fn = 0;

	if (BPF_CORE_READ(dentry, d_op))
		fn = (__u64)BPF_CORE_READ(dentry, d_op, d_dname);
	if (fn && parent == dentry && dentry == BPF_CORE_READ(vfsmnt, mnt_root))
		return 0;
	return fn;
}

#endif
