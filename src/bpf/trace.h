/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Records shared by the event-time capture program (trace.bpf.c) and user
 * space (src/lib/trace/trace.c).  Fixed-width types only: both sides include this.
 *
 * Protocol, through one BPF ring buffer:
 *   - a capture reserves its struct tr_event FIRST and submits it LAST, after
 *     the walk.  The ring buffer hands records to user space in reservation
 *     order and holds back everything behind a record that is still being
 *     written, so user space always reads a capture's tr_event (with the
 *     final counts) before any of its tr_vma records;
 *   - then come `nsent` struct tr_vma records (each followed by its name
 *     bytes), tagged with the capture's cap_id: captures running on other
 *     CPUs at the same time may interleave with them;
 *   - a VMA record that does not fit in the ring buffer is dropped and
 *     counted in tr_event.nlost: the capture is then incomplete, and says so;
 *   - when even the tr_event does not fit, nothing of the capture is sent
 *     and the global counter lost_events grows.
 */
#ifndef TASKVMA_BPF_TRACE_H
#define TASKVMA_BPF_TRACE_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif
#include "kfacts.h"

/* Events (tr_event.event).  The same values as enum taskvma_trace_event. */
#define TR_EV_SYSCALL	1	/* raw_tp/sys_enter */
#define TR_EV_EXEC	2	/* tp_btf/sched_process_exec */
#define TR_EV_EXIT	3	/* tp_btf/sched_process_exit, last thread */
#define TR_EV_SIGNAL	4	/* tp_btf/signal_deliver */

/* Record types (first __u32 of every record). */
#define TR_REC_EVENT	1
#define TR_REC_VMA	2

/* Syscall numbers the sys_enter filter can tell apart (bitmap in rodata). */
#define TR_NR_SYSCALLS	1024
#define TR_SYS_WORDS	(TR_NR_SYSCALLS / 64)

/* Name capture limits: those of the shared path walk (kfacts.h). */
#define TR_NAME_MAX	TV_NAME_MAX
#define TR_COMP_MAX	TV_COMP_MAX
#define TR_NAME_BUF	(TR_NAME_MAX + TR_COMP_MAX)
#define TR_PATH_DEPTH	TV_PATH_DEPTH

/* tr_event.flags */
#define TR_EVF_FAULT_ADDR 0x1u	/* fault_addr is the siginfo's si_addr */
#define TR_EVF_VSYSCALL	  0x2u	/* the mm has the x86 [vsyscall] gate */
#define TR_EVF_NO_SCRATCH 0x4u	/* internal failure: no per-CPU scratch */

/* One capture: the event and the outcome of the walk. */
struct tr_event {
	__u32 type;		/* TR_REC_EVENT */
	__u32 event;		/* TR_EV_* */
	__u64 cap_id;		/* 1, 2, ...: the order captures started in */
	__u64 ts_ns;		/* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u64 cgroup_id;	/* cgroup v2 id of the task */
	__u64 fault_addr;	/* SIGNAL: si_addr (TR_EVF_FAULT_ADDR) */
	__s64 arg;		/* SYSCALL: number; SIGNAL: signal; EXEC: old pid */
	__s32 tgid;
	__s32 tid;
	__s32 si_code;		/* SIGNAL: siginfo si_code */
	__s32 err;		/* bpf_iter_task_vma_new(): 0 or -errno */
	__u32 nvma;		/* VMAs the walk returned */
	__u32 nsent;		/* VMA records in the ring buffer (nvma - nlost) */
	__u32 nlost;		/* VMA records dropped: ring buffer full */
	__u32 flags;		/* TR_EVF_* */
	__u32 seq_begin;	/* mm->mm_lock_seq before the walk ... */
	__u32 seq_end;		/* ... and after: differ => the map changed meanwhile */
	char comm[16];
};

/* tr_vma.perms: the vm_flags bits /proc shows (same as TASKVMA_PERM_*). */
#define TR_P_READ	0x1u
#define TR_P_WRITE	0x2u
#define TR_P_EXEC	0x4u
#define TR_P_MAYSHARE	0x8u

/* tr_vma.kind: the same values as enum taskvma_kind. */
#define TR_KIND_ANON	0
#define TR_KIND_FILE	1
#define TR_KIND_HEAP	2
#define TR_KIND_STACK	3
#define TR_KIND_SPECIAL	4
#define TR_KIND_ANON_NAMED 5

/* tr_vma.name_fmt: how user space turns name[] into /proc's text. */
#define TR_NAME_NONE	0	/* no name ([heap]/[stack] come from kind) */
#define TR_NAME_PATH	1	/* name[]: NUL-terminated path components, leaf
				 * first; text = "/" + reversed components
				 * joined by "/" ("/" when none) */
#define TR_NAME_SAME	2	/* same name as the previous record (same file) */
#define TR_NAME_TEXT	3	/* name[] is the text itself: [vdso], [anon:x] */
#define TR_NAME_ANON_INODE 4	/* "anon_inode:" + name[] (anon_inodefs_dname) */
#define TR_NAME_SIMPLE	5	/* "/" + name[] + " (deleted)" (simple_dname) */
#define TR_NAME_SOCKET	6	/* "socket:[INO]" (sockfs_dname) */
#define TR_NAME_PIPE	7	/* "pipe:[INO]" (pipefs_dname) */
#define TR_NAME_UNKNOWN	8	/* a d_dname()/vm_ops->name() we cannot run:
				 * name[] holds the dentry's own name, if any */
#define TR_NAME_ANON	9	/* "[anon:" + name[] + "]" (prctl PR_SET_VMA_ANON_NAME) */
#define TR_NAME_ANON_SHMEM 10	/* "[anon_shmem:" + name[] + "]" (named shared anon) */

/* tr_vma.name_flags */
#define TR_NF_DELETED	0x1u	/* append " (deleted)" (d_unlinked) */
#define TR_NF_TRUNC	0x2u	/* path longer than TR_NAME_MAX/TR_PATH_DEPTH */
#define TR_NF_ERR	0x4u	/* a kernel read failed: name is not exact */
#define TR_NF_ESCAPED	0x8u	/* the dentry walk escaped its mount: "/" */

/* One VMA, followed in the ring buffer by name_len bytes of name[]. */
struct tr_vma {
	__u32 type;		/* TR_REC_VMA */
	__u32 idx;		/* 0, 1, ...: position in the capture */
	__u64 cap_id;
	__u64 start;
	__u64 end;
	__u64 pgoff;		/* bytes; 0 when anonymous */
	__u64 ino;
	__u32 dev;		/* kernel dev_t: major = dev >> 20, minor = dev & 0xfffff */
	__u16 name_len;
	__u8 kind;		/* TR_KIND_* */
	__u8 perms;		/* TR_P_* */
	__u8 name_fmt;		/* TR_NAME_* */
	__u8 name_flags;	/* TR_NF_* */
	__u16 ncomp;		/* TR_NAME_PATH: number of components */
	__u32 pad;
	/* followed by name_len bytes of name */
};

#endif
