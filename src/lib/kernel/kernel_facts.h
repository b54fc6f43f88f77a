/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Kernel facts that differ between kernel versions and builds, each decided
 * here and nowhere else: the BPF walker, the tracer and `features` ask these
 * functions instead of knowing versions themselves.  Facts that BTF carries
 * are read from BTF; FMODE_BACKING is a #define (not in BTF), so it comes
 * from the kernel version.  Checked on Debian's 6.1, 6.12, 6.18, 6.19 and 7.3
 * kernels by `make vmtest` (docs/kernels.md).
 */
#ifndef TASKVMA_KERNEL_FACTS_H
#define TASKVMA_KERNEL_FACTS_H

#include <stddef.h>
#include <stdint.h>

struct fbtf;

/* The effective capability set of this process (/proc/self/status CapEff;
 * no libcap needed), and the bits taskvma cares about. */
#define TV_CAP_SYS_ADMIN 21
#define TV_CAP_PERFMON 38
#define TV_CAP_BPF 39
uint64_t tv_cap_eff(void);

/* FMODE_BACKING of the running kernel (0: none); tv_fmode_backing_of()
 * for a given `uname -r` release string. */
uint32_t tv_fmode_backing(void);
uint32_t tv_fmode_backing_of(const char *release);

/* Where the tracer sees a process exit while its map is still there. */
enum tv_exit_hook {
	TV_EXIT_HOOK_NONE = 0,	/* neither below: no exit captures */
	TV_EXIT_HOOK_TP,	/* tp_btf/sched_process_exit(p, group_dead), before exit_mm() */
	TV_EXIT_HOOK_TASKSTATS,	/* fentry/taskstats_exit(tsk, group_dead), before exit_mm() */
};
/* `why` (may be NULL) gets one line saying what was found. */
enum tv_exit_hook tv_kfacts_exit_hook(const struct fbtf *b, char *why, size_t why_len);

/* The BPF task work the tracer uses for signals that a handler catches:
 * which kfunc this kernel has, with which prototype. */
enum tv_task_work {
	TV_TASK_WORK_ABSENT = 0,	/* not in this kernel (before 6.18) */
	TV_TASK_WORK_V618,		/* _impl(task, tw, map, cb, void *aux__prog): 6.18, 6.19 */
	TV_TASK_WORK_V7,		/* bpf_task_work_schedule_resume(task, tw, map, cb): 7.x */
	TV_TASK_WORK_UNKNOWN,		/* another prototype: not used */
};
enum tv_task_work tv_kfacts_task_work(const struct fbtf *b, char *why, size_t why_len);

#endif
