/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * libtaskvma feature probes: what this kernel, for this caller, supports.
 *
 * Thread safety (see taskvma.h): taskvma_features_probe() is [MT-safe] (each
 * call probes on its own; libbpf's print callback is process-wide, so a
 * caller's log callback may be called from the probing thread); the result
 * and its accessors are [object]; the *_name() calls are [MT-safe].
 *
 * Every answer comes from a probe that actually ran on this machine: a BPF
 * program handed to the verifier (loaded, never attached, closed at once), a
 * lookup in the kernel's own BTF (/sys/kernel/btf/vmlinux), an ioctl, a file
 * read, capget(2).  Nothing is inferred from the kernel version number.
 *
 * A probe that could not run (no privileges, securityfs not mounted, ...) is
 * reported as TASKVMA_PROBE_NOT_RUN with the reason; probing never fails for
 * lack of privileges.
 *
 *	struct taskvma_features *f;
 *	TASKVMA_OPTS(taskvma_features_opts, o, .flags = TASKVMA_FEATURES_QUICK);
 *	if (taskvma_features_probe(&f, &o) == 0) {
 *		printf("auto: %s (%s)\n", taskvma_backend_name(f->auto_backend),
 *		       f->auto_reason);
 *		taskvma_features_free(f);
 *	}
 *
 * This header is included at the end of taskvma.h; it can also be included
 * on its own.
 */
#ifndef TASKVMA_FEATURES_H
#define TASKVMA_FEATURES_H

#include "taskvma.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Result of one probe. */
enum taskvma_probe_status {
	TASKVMA_PROBE_NOT_RUN = 0,     /* could not be probed here; detail says why */
	TASKVMA_PROBE_SUPPORTED = 1,   /* probe ran: yes / works / allowed / value known */
	TASKVMA_PROBE_UNSUPPORTED = 2, /* probe ran: no; detail has the kernel's reason */
};

/* What a probe is about. */
enum taskvma_probe_category {
	/* Does the verifier accept a program of this type (and attach target)
	 * calling bpf_iter_task_vma_new/_next/_destroy? */
	TASKVMA_PROBE_CAT_PROG_TYPE = 0,
	/* The kfuncs in the kernel's BTF, and which iterator semantics it has. */
	TASKVMA_PROBE_CAT_KFUNC = 1,
	/* What the rest of taskvma needs (walker program, trace tracepoints,
	 * ring buffer, PROCMAP_QUERY, /proc/PID/maps). */
	TASKVMA_PROBE_CAT_DEPENDENCY = 2,
	/* Caller and system settings: capabilities, lockdown, sysctl. */
	TASKVMA_PROBE_CAT_SYSTEM = 3,
	/* The backend `auto` picks (one entry, name "auto_backend"). */
	TASKVMA_PROBE_CAT_BACKEND = 4,
};

/* Which semantics bpf_iter_task_vma_* have on this kernel, from the shape of
 * struct bpf_iter_task_vma_kern_data in the kernel's BTF. */
enum taskvma_iter_semantics {
	TASKVMA_SEM_NONE = 0,             /* the kfuncs are not in the kernel's BTF */
	TASKVMA_SEM_MMAP_LOCK_6_7 = 1,    /* v6.7: _new() holds mmap_read_trylock() for the walk */
	TASKVMA_SEM_PER_VMA_SNAPSHOT = 2, /* 2026 rework: per-VMA lock, _next() returns a copy
					   * (kern_data has `snapshot` and `next_addr`) */
	TASKVMA_SEM_UNKNOWN = 3,          /* kfuncs present, but BTF unreadable or an unknown shape */
};

/* One probe.  All strings are owned by the taskvma_features object. */
struct taskvma_probe {
	/* Stable, unique identifier, e.g. "SYSCALL", "TRACING iter/task",
	 * "bpf_iter_task_vma_new", "procmap_query", "cap_bpf". */
	const char *name;
	enum taskvma_probe_category category;
	enum taskvma_probe_status status;
	/* errno (positive) of the operation that failed, 0 if none. */
	int err;
	/* One line: what was found, or the kernel's / verifier's reason. */
	const char *detail;
	/* A value, for probes that measure one ("integrity", "2",
	 * "per_vma_snapshot", "bpf"); NULL otherwise. */
	const char *value;
	/* PROG_TYPE probes only (NULL / -1 otherwise): */
	const char *prog_type;   /* "SYSCALL", "TRACING", ... (BPF_PROG_TYPE_ without prefix) */
	const char *section;     /* what was loaded, as a libbpf SEC() name: "iter/task",
				  * "xdp", "struct_ops/tcp_congestion_ops.init", ... */
	const char *task_source; /* the task of the accepted program: "bpf_get_current_task_btf"
				  * (or "ctx->task" for iter/task), tried first, else
				  * "bpf_task_from_pid"; NULL if none was accepted */
	int documented;          /* 1: listed by the kfunc's documentation; 0: not listed */
	/* 1: the same program taking its task from bpf_task_from_pid() was
	 * accepted too, 0: refused (the reason is in detail), -1: not tried */
	int task_from_pid;
};

struct taskvma_features {
	/* Every probe that was attempted, in a fixed order. */
	size_t nprobes;
	struct taskvma_probe *probes;

	/* ---- summaries of the probes above ---- */
	int quick;                 /* probed with TASKVMA_FEATURES_QUICK */
	int kfuncs_present;        /* bpf_iter_task_vma_{new,next,destroy} all in vmlinux BTF */
	enum taskvma_iter_semantics semantics;
	/* The BPF backend's program shape (iter/task calling the kfuncs,
	 * bpf_d_path and bpf_probe_read_kernel_str) is accepted. */
	int bpf_walker;
	int procmap_query;         /* ioctl(PROCMAP_QUERY) works on /proc/self/maps */
	int procmap_build_id;      /* ... and returns build IDs */
	int proc_maps_readable;    /* /proc/self/maps can be read */
	int cap_bpf;               /* effective capabilities of the caller */
	int cap_perfmon;
	int cap_sys_admin;
	int cap_net_admin;
	/* "none", "integrity", "confidentiality", or NULL when unknown. */
	const char *lockdown;
	int unprivileged_bpf_disabled; /* kernel.unprivileged_bpf_disabled; -1 unknown */

	/* What TASKVMA_BACKEND_AUTO resolves to for this caller, and why. */
	enum taskvma_backend auto_backend;
	const char *auto_reason;

	uint64_t elapsed_us;       /* time the probing took */
};

/* taskvma_features_opts.flags */
/* Only what backend selection needs, in a few milliseconds: capabilities,
 * the kfuncs and semantics in BTF, the walker program, PROCMAP_QUERY, and
 * /proc/self/maps.  The engine uses this for TASKVMA_BACKEND_AUTO. */
#define TASKVMA_FEATURES_QUICK 0x1u

struct taskvma_features_opts {
	size_t sz;
	uint32_t flags;            /* TASKVMA_FEATURES_* */
	/* Progress and diagnostics: each result at TASKVMA_LOG_INFO, the full
	 * verifier log of each refused program at TASKVMA_LOG_DEBUG. */
	taskvma_log_fn log;
	void *log_ctx;
	int log_level;
	const char *proc_root;     /* where procfs is mounted; NULL = "/proc" */
	const char *btf_path;      /* kernel BTF; NULL = /sys/kernel/btf/vmlinux (then
				    * libbpf's search of the usual places) */
};
#define taskvma_features_opts__last_field btf_path

/* Run the probes.  On success *out holds the results (free them with
 * taskvma_features_free()) and 0 is returned.  Fails only with -EINVAL (bad
 * opts) or -ENOMEM; a probe that cannot run is reported, not an error.
 * opts may be NULL (full probe). */
TASKVMA_API int taskvma_features_probe(struct taskvma_features **out,
				       const struct taskvma_features_opts *opts);
TASKVMA_API void taskvma_features_free(struct taskvma_features *f);

/* The probe called `name`, or NULL. */
TASKVMA_API const struct taskvma_probe *taskvma_features_find(const struct taskvma_features *f,
							      const char *name);

/* "supported", "unsupported", "not_run" */
TASKVMA_API const char *taskvma_probe_status_name(enum taskvma_probe_status s);
/* "prog_type", "kfunc", "dependency", "system", "backend" */
TASKVMA_API const char *taskvma_probe_category_name(enum taskvma_probe_category c);
/* "none", "mmap_lock_6_7", "per_vma_snapshot", "unknown" */
TASKVMA_API const char *taskvma_iter_semantics_name(enum taskvma_iter_semantics s);

#ifdef __cplusplus
}
#endif
#endif /* TASKVMA_FEATURES_H */
