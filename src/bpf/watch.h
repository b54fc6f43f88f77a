/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Records shared by the map-change watcher (watch.bpf.c) and user space
 * (src/lib/watch/watch.c).  Fixed-width types only: both sides include this.
 *
 * One record per kernel event, through one BPF ring buffer, in the order the
 * events reserved their slot.  A change record says "the VMA tree of process
 * tgid changed"; user space re-reads the ranges it names (or the whole map)
 * and diffs.  The system call's arguments travel raw: user space decodes them
 * with its own <sys/syscall.h> numbers, so this program knows no syscall
 * numbers (only the three that downgrade the lock, given in rodata).
 */
#ifndef TASKVMA_BPF_WATCH_H
#define TASKVMA_BPF_WATCH_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* wt_event.type */
#define WT_EV_CHANGE	1	/* mmap_lock released after a write */
#define WT_EV_EXEC	2	/* sched_process_exec */
#define WT_EV_FORK	3	/* sched_process_fork of a new process (not a thread) */
#define WT_EV_EXIT	4	/* sched_process_exit of the last thread */

/* wt_event.flags */
#define WT_F_REMOTE	0x1u	/* the lock holder was not a thread of tgid (tgid from mm->owner) */
#define WT_F_UAREA	0x2u	/* ua_lo/ua_hi: what get_unmapped_area() chose while locked */
#define WT_F_DOWNGRADE	0x4u	/* released as a read lock after mmap_write_downgrade() */
#define WT_F_NO_REGS	0x8u	/* no syscall registers: nr and args unknown */
#define WT_F_STACK	0x10u	/* the main stack grew: ua_lo/ua_hi (see stack_floor) */

struct wt_event {
	__u32 type;		/* WT_EV_* */
	__u32 flags;		/* WT_F_* */
	__u64 ts_ns;		/* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__s32 tgid;		/* the process whose map it is */
	__s32 tid;		/* the thread that held the lock / exec'd / forked */
	__s32 nr;		/* system call in progress (-1: none known) */
	__s32 other;		/* FORK: child tgid; EXEC: pid before exec */
	__u64 args[5];		/* the system call's first five arguments */
	__u64 ua_lo, ua_hi;	/* WT_F_UAREA: [lo, hi) */
	__u64 brk_start, brk;	/* mm->start_brk, mm->brk at release */
	__u64 lost;		/* the global lost counter when this was written */
	__u64 start_ns;		/* the process's start (group leader's start_boottime,
				 * the clock of /proc/PID/stat's starttime); 0:
				 * unknown.  FORK: the child's.  Tells a pid's
				 * incarnations apart once pids wrap. */
	char comm[16];
};

#endif
