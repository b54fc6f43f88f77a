// SPDX-License-Identifier: GPL-2.0
/* trace.bpf.c without the BPF task work, for kernels without
 * bpf_task_work_schedule_resume_impl() (before 6.18) or with a prototype
 * this build does not know: handled signals are then not captured (fatal
 * ones are); see TR_TASK_WORK there. */
#define TR_TASK_WORK 0
#include "trace.bpf.c"
