// SPDX-License-Identifier: GPL-2.0
/* trace.bpf.c for kernels with bpf_task_work_schedule_resume(task, tw, map,
 * callback) (Linux 7.x), not 6.18's _impl: see TR_TASK_WORK there. */
#define TR_TASK_WORK 2
#include "trace.bpf.c"
