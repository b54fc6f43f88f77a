// SPDX-License-Identifier: GPL-2.0
/*
 * Independent check of `taskvma features`: for each program type it probes,
 * the same question asked through clang + libbpf instead of hand-assembled
 * instructions.  Each program calls bpf_iter_task_vma_new/_next/_destroy on
 * a task from bpf_get_current_task_btf() (p_*_cur), or from
 * bpf_task_from_pid() (p_*_pid), or from the iterator's ctx (iter/task).
 *
 * Compiled by tests/cases/features.sh (clang -target bpf -I build -I
 * src/bpf) and loaded one program at a time by `test_features --load`.
 * libbpf 1.1 does not know SEC("netfilter"): the loader sets the program
 * type of p_netfilter_* itself.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "compat.bpf.h"

extern struct task_struct *bpf_task_from_pid(s32 pid) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;

static __always_inline void walk(struct task_struct *task)
{
	struct bpf_iter_task_vma it;

	bpf_iter_task_vma_new(&it, task, 0);
	bpf_iter_task_vma_next(&it);
	bpf_iter_task_vma_destroy(&it);
}

static __always_inline int from_current(int ret)
{
	walk(bpf_get_current_task_btf());
	return ret;
}

static __always_inline int from_pid(int ret)
{
	struct task_struct *t = bpf_task_from_pid(1);

	if (!t)
		return ret;
	walk(t);
	bpf_task_release(t);
	return ret;
}

/* One program per task source, for section SEC returning RET. */
#define PAIR(SEC_NAME, NAME, RET)                                    \
	SEC(SEC_NAME) int p_##NAME##_cur(void *ctx) { return from_current(RET); } \
	SEC(SEC_NAME) int p_##NAME##_pid(void *ctx) { return from_pid(RET); }

PAIR("cgroup_skb/ingress", cgroup_skb, 1)
PAIR("cgroup/connect4", cgroup_sock_addr, 1)
PAIR("lsm/file_open", lsm, 0)
PAIR("lwt_in", lwt_in, 0)
PAIR("lwt_out", lwt_out, 0)
PAIR("lwt_seg6local", lwt_seg6local, 0)
PAIR("lwt_xmit", lwt_xmit, 0)
PAIR("netfilter", netfilter, 1)
PAIR("action", sched_act, 0)
PAIR("tc", sched_cls, 0)
PAIR("sk_skb", sk_skb, 0)
PAIR("socket", socket_filter, 0)
PAIR("syscall", syscall, 0)
PAIR("tp_btf/sched_process_exec", tracing_tp_btf, 0)
PAIR("fentry/bpf_fentry_test1", tracing_fentry, 0)
PAIR("xdp", xdp, 0)
PAIR("raw_tp/sys_enter", raw_tracepoint, 0)
PAIR("tp/sched/sched_process_exec", tracepoint, 0)
PAIR("perf_event", perf_event, 0)

SEC("iter/task")
int p_tracing_iter_ctx(struct bpf_iter__task *ctx)
{
	struct task_struct *t = ctx->task;

	if (t)
		walk(t);
	return 0;
}

SEC("iter/task")
int p_tracing_iter_pid(struct bpf_iter__task *ctx)
{
	return from_pid(0);
}

/* struct_ops programs get their target from the map that uses them (the
 * map is created at load, registered only at attach, which never happens). */
SEC("struct_ops/init")
void p_struct_ops_cur(struct sock *sk)
{
	from_current(0);
}

SEC("struct_ops/init")
void p_struct_ops_pid(struct sock *sk)
{
	from_pid(0);
}

SEC(".struct_ops")
struct tcp_congestion_ops tv_ca_cur = {
	.init = (void *)p_struct_ops_cur,
	.name = "tv_probe_cur",
};

SEC(".struct_ops")
struct tcp_congestion_ops tv_ca_pid = {
	.init = (void *)p_struct_ops_pid,
	.name = "tv_probe_pid",
};

char _license[] SEC("license") = "GPL";
