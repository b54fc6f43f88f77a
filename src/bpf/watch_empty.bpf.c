// SPDX-License-Identifier: GPL-2.0
/*
 * The floor for bench/watch_bench.c: empty programs on the tracepoints
 * watch.bpf.c uses, to tell what attaching anything there costs a process
 * from what the watcher's own work costs.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

SEC("tp_btf/mmap_lock_released")
int empty_released(void *ctx) { (void)ctx; return 0; }

SEC("tp_btf/vm_unmapped_area")
int empty_unmapped_area(void *ctx) { (void)ctx; return 0; }

SEC("tp_btf/sched_process_exec")
int empty_exec(void *ctx) { (void)ctx; return 0; }

SEC("tp_btf/sched_process_fork")
int empty_fork(void *ctx) { (void)ctx; return 0; }

SEC("tp_btf/sched_process_exit")
int empty_exit(void *ctx) { (void)ctx; return 0; }

char LICENSE[] SEC("license") = "GPL";
