/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * libtaskvma tracing: capture a process's whole memory map at the moment an
 * event fires (a system call, an exec, the exit, a fatal signal), in the
 * kernel, with the same records and names as taskvma_snapshot().
 *
 * Thread safety (see taskvma.h): taskvma_trace_open() is [MT-safe]; every
 * call on one struct taskvma_trace is [handle]: one thread at a time per
 * trace (the callback runs in the thread that polls); the name and number
 * conversions are [MT-safe].
 *
 * The map is walked by a BPF program attached to the event's tracepoint,
 * with the bpf_iter_task_vma kfuncs, while the task is stopped at that
 * point; records reach user space through a BPF ring buffer.  Needs root
 * (CAP_BPF + CAP_PERFMON) and Linux 6.7+; there is no fallback backend.
 *
 *	TASKVMA_OPTS(taskvma_trace_opts, o, .events = TASKVMA_TRACE_ON(TASKVMA_TRACE_EXIT),
 *		     .comm = "myjob", .cb = on_event, .cb_ctx = &state);
 *	err = taskvma_trace_open(&tr, &o);
 *	while (!stop && !taskvma_trace_done(tr))
 *		taskvma_trace_poll(tr, 100);
 *	taskvma_trace_stop(tr);		// detach, deliver what is in flight
 *	taskvma_trace_stats(tr, &st);
 *	taskvma_trace_close(tr);
 *
 * Included by taskvma.h; can also be included on its own.
 */
#ifndef TASKVMA_TRACE_API_H
#define TASKVMA_TRACE_API_H

#include "taskvma.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What triggers a capture. */
enum taskvma_trace_event {
	TASKVMA_TRACE_SYSCALL = 1, /* entry to a system call (raw_tp/sys_enter) */
	TASKVMA_TRACE_EXEC = 2,    /* after a successful exec: the new image's map */
	TASKVMA_TRACE_EXIT = 3,    /* the process exits (its last thread), before its
				    * address space is torn down */
	TASKVMA_TRACE_SIGNAL = 4,  /* a signal is delivered: by default only those
				    * that will kill the process (SIGSEGV...) */
};
#define TASKVMA_TRACE_ON(ev) (1u << (ev))

/* struct taskvma_trace_info.flags */
#define TASKVMA_TRACE_INCOMPLETE 0x1u /* VMA records were lost (ring buffer full):
				       * the map is partial; never shown as complete */
#define TASKVMA_TRACE_FAULT_ADDR 0x2u /* fault_addr holds the siginfo's si_addr */
#define TASKVMA_TRACE_TORN       0x4u /* another thread changed the map during
				       * the walk: it may mix before and after */
#define TASKVMA_TRACE_NAME_ERR   0x8u /* some names could not be rebuilt exactly
				       * (too deep, unknown d_dname(), read fault) */

/* One capture. */
struct taskvma_trace_info {
	uint64_t seq;          /* 1, 2, ...: the order captures started in */
	uint64_t time_ns;      /* when, CLOCK_MONOTONIC */
	uint64_t realtime_ns;  /* the same instant on CLOCK_REALTIME (converted) */
	pid_t pid;             /* process (tgid) */
	pid_t tid;             /* thread that hit the event */
	char comm[16];         /* the thread's comm at that point */
	enum taskvma_trace_event event;
	int syscall_nr;        /* SYSCALL: the system call number, else -1 */
	int signo;             /* SIGNAL: the signal, else 0 */
	int si_code;           /* SIGNAL: siginfo si_code */
	uint64_t fault_addr;   /* SIGNAL with TASKVMA_TRACE_FAULT_ADDR: si_addr */
	pid_t old_pid;         /* EXEC: the tid that called exec (see sched_process_exec) */
	uint64_t cgroup_id;    /* cgroup v2 id of the task */
	uint32_t flags;        /* TASKVMA_TRACE_* */
	int err;               /* 0, or why there is no map: -ENOENT no address
				* space, -EBUSY iterator busy, ... */
	uint32_t vmas_walked;  /* VMAs the kernel walked */
	uint32_t vmas_lost;    /* of those, how many did not reach us */
};

/* Called once per capture, in the order the captures started (per CPU) and
 * completed.  vmas[0..count) are in address order, with the [vsyscall] gate
 * line last when the process has one (unless no_gate); valid only during
 * the call.  Return non-zero to make taskvma_trace_poll() return that value. */
typedef int (*taskvma_trace_cb)(void *ctx, const struct taskvma_trace_info *info,
				const struct taskvma_vma *vmas, size_t count);

struct taskvma_trace_opts {
	size_t sz;
	uint32_t events;          /* TASKVMA_TRACE_ON(...) bits; at least one */
	const int *syscalls;      /* SYSCALL: trigger on these numbers only ... */
	size_t nr_syscalls;       /* ... (0 = any system call) */
	int signo;                /* SIGNAL: this signal, whatever its handler
				   * (0 = any signal whose default action kills,
				   * delivered with that default action) */
	pid_t pid;                /* only this process (its threads too); 0 = all */
	const char *comm;         /* only tasks with this comm (<= 15 bytes) */
	const char *cgroup;       /* only tasks in this cgroup v2 or below it: a
				   * directory path, absolute or relative to the
				   * cgroup2 mount */
	int every;                /* capture each time; default: once per process
				   * and event */
	uint64_t max_events;      /* capture at most this many, then done; 0 = no limit */
	size_t ringbuf_size;      /* bytes, power of 2 >= 4096; 0 = 4 MiB */
	uint32_t max_processes;   /* once-per-process table; 0 = 65536 */
	int no_gate;              /* leave out the [vsyscall] gate line */
	taskvma_trace_cb cb;
	void *cb_ctx;
	taskvma_log_fn log;       /* NULL: silent */
	void *log_ctx;
	int log_level;
};
#define taskvma_trace_opts__last_field log_level

struct taskvma_trace_stats {
	size_t sz;
	uint64_t captured;     /* captures delivered (complete or not) */
	uint64_t incomplete;   /* ... delivered with TASKVMA_TRACE_INCOMPLETE */
	uint64_t failed;       /* ... delivered with err != 0 (no map) */
	uint64_t lost;         /* captures lost whole: the ring buffer was full */
	uint64_t skipped;      /* events seen but not captured: the once-per-process
				* or pending-signal table was full, or (a handled
				* signal) the kernel lacks BPF task work (< 6.18) */
	uint64_t processes;    /* distinct processes among the captures */
	uint64_t vmas;         /* VMAs delivered */
};

struct taskvma_trace;

/* Load and attach.  Returns 0 or -errno: -EINVAL bad options (conflicting
 * selections, unknown event...), -ESRCH opts.pid does not exist, -ENOENT
 * cgroup not found, -EPERM/-EACCES not allowed, -EOPNOTSUPP the kernel
 * lacks what is needed.  On failure *tr is NULL and, when tr_err_msg is not
 * NULL, a message is copied there (at most 256 bytes with the NUL). */
TASKVMA_API int taskvma_trace_open(struct taskvma_trace **tr, const struct taskvma_trace_opts *opts,
				   char *err_msg);
/* Wait up to timeout_ms (-1: forever) for captures and deliver them through
 * opts.cb.  Returns the number delivered, the callback's non-zero return
 * value, or -errno (-EINTR when a signal arrived). */
TASKVMA_API int taskvma_trace_poll(struct taskvma_trace *tr, int timeout_ms);
/* A file descriptor that becomes readable when taskvma_trace_poll() has
 * something to do (for the caller's own poll/epoll loop). */
TASKVMA_API int taskvma_trace_fd(const struct taskvma_trace *tr);
/* 1 when nothing more can come: max_events captures delivered, or the
 * selected pid has exited and everything it sent was delivered. */
TASKVMA_API int taskvma_trace_done(const struct taskvma_trace *tr);
/* Detach every program, then deliver the captures still in the ring
 * buffer.  Idempotent.  Returns the number delivered or -errno. */
TASKVMA_API int taskvma_trace_stop(struct taskvma_trace *tr);
TASKVMA_API void taskvma_trace_stats(const struct taskvma_trace *tr, struct taskvma_trace_stats *st);
/* Detach (if still attached) and free. */
TASKVMA_API void taskvma_trace_close(struct taskvma_trace *tr);

/* "syscall", "exec", "exit", "signal"; NULL if unknown. */
TASKVMA_API const char *taskvma_trace_event_name(enum taskvma_trace_event ev);
/* x86-64 system call names (from the kernel's unistd_64.h). */
TASKVMA_API int taskvma_syscall_nr(const char *name); /* -1 if unknown */
TASKVMA_API const char *taskvma_syscall_name(int nr);  /* NULL if unknown */
/* "SEGV", "SIGSEGV", "segv", "11", "RTMIN+2" -> signal number; -1 if not one. */
TASKVMA_API int taskvma_signal_parse(const char *s);
/* "SIGSEGV"...; NULL if unknown.  Real-time signals: "SIGRTMIN+N". */
TASKVMA_API const char *taskvma_signal_name(int sig, char buf[16]);

#ifdef __cplusplus
}
#endif
#endif /* TASKVMA_TRACE_API_H */
