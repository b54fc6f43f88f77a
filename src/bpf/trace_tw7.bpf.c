// SPDX-License-Identifier: GPL-2.0
/* trace.bpf.c for kernels whose bpf_task_work_schedule_resume_impl() takes
 * a struct bpf_prog_aux * last (Linux 7.x): see TR_TASK_WORK there. */
#define TR_TASK_WORK 2
#include "trace.bpf.c"
