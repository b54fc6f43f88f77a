// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Kernel facts that differ between kernels: see kernel_facts.h. */
#include <inttypes.h>
#include <stdio.h>
#include <sys/utsname.h>
#include "features_btf.h"
#include "kernel_facts.h"

/* FMODE_BACKING (include/linux/fs.h) is a #define, absent from BTF:
 * bit 25 from 6.6, where backing files appeared; bit 24 from 6.14, when the
 * fanotify pre-content work renumbered the FMODE_* bits. */
uint32_t tv_fmode_backing_of(const char *release)
{
	int maj = 0, min = 0;

	if (!release || sscanf(release, "%d.%d", &maj, &min) != 2)
		return 0;
	if (maj > 6 || (maj == 6 && min >= 14))
		return 1u << 24;
	if (maj == 6 && min >= 6)
		return 1u << 25;
	return 0;
}

uint32_t tv_fmode_backing(void)
{
	struct utsname u;

	return uname(&u) ? 0 : tv_fmode_backing_of(u.release);
}

uint64_t tv_cap_eff(void)
{
	char line[256];
	uint64_t caps = 0;
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %" SCNx64, &caps) == 1)
			break;
	fclose(f);
	return caps;
}

static unsigned int kind_of(const struct btf_type *t)
{
	return BTF_INFO_KIND(t->info);
}

/* The FUNC_PROTO behind FUNC `name`, or behind TYPEDEF `name` (a pointer to
 * a prototype, as btf_trace_* tracepoint typedefs are); NULL if absent. */
static const struct btf_type *proto_of(const struct fbtf *b, const char *name, unsigned int kind)
{
	const struct btf_type *t;
	int id = fbtf_find(b, name, kind);

	if (id < 0 || !(t = fbtf_type(b, (uint32_t)id)))
		return NULL;
	t = fbtf_type(b, t->type);
	if (t && kind_of(t) == BTF_KIND_PTR)
		t = fbtf_type(b, t->type);
	return t && kind_of(t) == BTF_KIND_FUNC_PROTO ? t : NULL;
}

/* The type a parameter's pointer points to (modifiers and typedefs
 * skipped); NULL if the parameter is not a pointer; *is_void for void *. */
static const struct btf_type *pointee(const struct fbtf *b, uint32_t id, int *is_void)
{
	const struct btf_type *t = fbtf_type(b, id);

	*is_void = 0;
	if (!t || kind_of(t) != BTF_KIND_PTR)
		return NULL;
	for (id = t->type; id; id = t->type) {
		t = fbtf_type(b, id);
		if (!t)
			return NULL;
		switch (kind_of(t)) {
		case BTF_KIND_CONST: case BTF_KIND_VOLATILE: case BTF_KIND_TYPEDEF:
		case BTF_KIND_RESTRICT: case BTF_KIND_TYPE_TAG:
			continue;
		default:
			return t;
		}
	}
	*is_void = 1;
	return t;
}

#define WHY(...) do { if (why) snprintf(why, why_len, __VA_ARGS__); } while (0)

/* sched_process_exit got its group_dead argument, and moved before
 * exit_mm(), after 6.12 (6.1 and 6.12: one argument, and the tracepoint
 * fires after exit_mm(): the map is gone; 6.18 on: two).  taskstats_exit()
 * has had (tsk, group_dead) and been called right before exit_mm() in
 * do_exit() on every kernel this project runs on. */
enum tv_exit_hook tv_kfacts_exit_hook(const struct fbtf *b, char *why, size_t why_len)
{
	const struct btf_type *t = proto_of(b, "btf_trace_sched_process_exit", BTF_KIND_TYPEDEF);

	/* the typedef's prototype is (void *data, task, [group_dead]) */
	if (t && BTF_INFO_VLEN(t->info) >= 3) {
		WHY("tp_btf/sched_process_exit(p, group_dead): fires before exit_mm()");
		return TV_EXIT_HOOK_TP;
	}
	if (fbtf_find(b, "taskstats_exit", BTF_KIND_FUNC) >= 0) {
		WHY("fentry/taskstats_exit(tsk, group_dead): sched_process_exit %s",
		    t ? "has no group_dead and fires after exit_mm() here" : "is not in kernel BTF");
		return TV_EXIT_HOOK_TASKSTATS;
	}
	WHY("sched_process_exit %s and taskstats_exit is not in kernel BTF",
	    t ? "has no group_dead (fires after exit_mm())" : "is not in kernel BTF");
	return TV_EXIT_HOOK_NONE;
}

/* 6.18 and 6.19: bpf_task_work_schedule_resume_impl(task, tw, map, callback,
 * void *aux__prog).  7.x: bpf_task_work_schedule_resume(task, tw, map,
 * callback), the program argument filled in by the verifier; the _impl name
 * stays in BTF with a struct bpf_prog_aux * last but has no address, so a
 * program calling it does not load. */
enum tv_task_work tv_kfacts_task_work(const struct fbtf *b, char *why, size_t why_len)
{
	const struct btf_type *t = proto_of(b, "bpf_task_work_schedule_resume", BTF_KIND_FUNC);
	const struct btf_type *p;
	const struct btf_param *par;
	int is_void;

	if (t && BTF_INFO_VLEN(t->info) == 4) {
		WHY("bpf_task_work_schedule_resume(task, tw, map, callback) (7.x)");
		return TV_TASK_WORK_V7;
	}
	if (t) {
		WHY("bpf_task_work_schedule_resume has %u parameters, a prototype this build does not know",
		    BTF_INFO_VLEN(t->info));
		return TV_TASK_WORK_UNKNOWN;
	}
	t = proto_of(b, "bpf_task_work_schedule_resume_impl", BTF_KIND_FUNC);
	if (!t) {
		WHY("no bpf_task_work_schedule_resume(_impl) in kernel BTF (Linux 6.18+)");
		return TV_TASK_WORK_ABSENT;
	}
	par = (const struct btf_param *)(t + 1);
	if (BTF_INFO_VLEN(t->info) == 5 && (p = pointee(b, par[4].type, &is_void)) && is_void) {
		WHY("bpf_task_work_schedule_resume_impl(..., void *aux__prog) (6.18)");
		return TV_TASK_WORK_V618;
	}
	WHY("bpf_task_work_schedule_resume_impl has a prototype this build does not know (%u parameters)",
	    BTF_INFO_VLEN(t->info));
	return TV_TASK_WORK_UNKNOWN;
}
