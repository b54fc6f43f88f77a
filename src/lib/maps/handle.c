// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The handle: open (auto's choice of backend) and close, errors, logs,
 * backend names.  The walks are in walk.c, visits in visit.c, snapshots in
 * snapshot.c, the /proc readers in proc.c.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "internal.h"

#define DEFAULT_RETRIES 8

void tv_logv(taskvma_log_fn fn, void *ctx, int max, enum taskvma_log_level lvl, const char *fmt,
	     va_list ap)
{
	char buf[512];

	if (!fn || (int)lvl > max)
		return;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	fn(lvl, buf, ctx);
}

void tv_log(struct taskvma *tv, enum taskvma_log_level lvl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tv_logv(tv->opts.log, tv->opts.log_ctx, tv->opts.log_level, lvl, fmt, ap);
	va_end(ap);
}

int tv_error(struct taskvma *tv, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tv->err_msg, sizeof(tv->err_msg), fmt, ap);
	va_end(ap);
	return err;
}

const char *taskvma_last_error(const struct taskvma *tv)
{
	return tv ? tv->err_msg : "";
}

const char *taskvma_strerror(int err)
{
	switch (err) {
	case 0: return "success";
	case -ESRCH: return "no such process";
	case -ENOENT: return "no address space (kernel thread or zombie)";
	case -EACCES:
	case -EPERM: return "permission denied";
	case -EBUSY: return "address space busy";
	case -EAGAIN: return "map changed during the walk (incomplete)";
	case -EOPNOTSUPP: return "not supported by this kernel";
	case -ENOMEM: return "out of memory";
	case -EINVAL: return "invalid argument";
	case -EIO: return "a mapping's name could not be read";
	}
	return strerror(err < 0 ? -err : err);
}

static const char *const backend_names[] = {
	[TASKVMA_BACKEND_AUTO] = "auto",
	[TASKVMA_BACKEND_BPF] = "bpf",
	[TASKVMA_BACKEND_PROCMAP] = "procmap",
	[TASKVMA_BACKEND_PROCFS] = "procfs",
};

const char *taskvma_backend_name(enum taskvma_backend b)
{
	if ((unsigned)b < sizeof(backend_names) / sizeof(backend_names[0]))
		return backend_names[b];
	return "unknown";
}

int taskvma_backend_parse(const char *s, enum taskvma_backend *out)
{
	for (unsigned i = 0; i < sizeof(backend_names) / sizeof(backend_names[0]); i++) {
		if (!strcmp(s, backend_names[i])) {
			*out = (enum taskvma_backend)i;
			return 0;
		}
	}
	return -EINVAL;
}

enum taskvma_backend taskvma_backend(const struct taskvma *tv)
{
	return tv->kind;
}

const char *taskvma_backend_reason(const struct taskvma *tv)
{
	return tv->reason;
}

static const struct tv_backend *backend_ops(enum taskvma_backend b)
{
	switch (b) {
	case TASKVMA_BACKEND_BPF: return &tv_backend_bpf;
	case TASKVMA_BACKEND_PROCMAP: return &tv_backend_procmap;
	case TASKVMA_BACKEND_PROCFS: return &tv_backend_procfs;
	default: return NULL;
	}
}

/* The backend for a walk: auto without BPF reads whole maps as text and
 * serves queries that start at an address or stop before one (lookups)
 * with PROCMAP_QUERY, each the faster there. */
const struct tv_backend *tv_pick(const struct taskvma *tv, const struct taskvma_query *q)
{
	if (tv->ranged && q && (q->addr_lo || q->addr_hi))
		return tv->ranged;
	return tv->be;
}

int taskvma_open(struct taskvma **out, const struct taskvma_opts *opts)
{
	struct taskvma *tv;
	int err = 0;

	*out = NULL;
	if (opts && (opts->sz < offsetof(struct taskvma_opts, backend) + sizeof(opts->backend) ||
		     !TV_OPTS_VALID(opts, taskvma_opts)))
		return -EINVAL;
	tv = calloc(1, sizeof(*tv));
	if (!tv)
		return -ENOMEM;
	if (opts)
		memcpy(&tv->opts, opts, opts->sz < sizeof(tv->opts) ? opts->sz : sizeof(tv->opts));
	tv->opts.sz = sizeof(tv->opts);
	if (tv->opts.busy_retries <= 0)
		tv->opts.busy_retries = DEFAULT_RETRIES;
	snprintf(tv->proc_root, sizeof(tv->proc_root), "%s",
		 tv->opts.proc_root ? tv->opts.proc_root : "/proc");
	tv->sys_has_vsyscall = tv_kernel_has_vsyscall(tv->proc_root);

	if (tv->opts.backend != TASKVMA_BACKEND_AUTO) {
		tv->kind = tv->opts.backend;
		tv->be = backend_ops(tv->kind);
		if (!tv->be) {
			free(tv);
			return -EINVAL;
		}
		err = tv->be->open(tv);
		if (err) {
			/* keep tv->err_msg for the caller: hand back the handle
			 * only to report, then free it */
			char msg[256];

			snprintf(msg, sizeof(msg), "backend %s unavailable: %.200s", tv->be->name,
				 tv->err_msg);
			free(tv);
			errno = -err;
			/* no handle: the message goes through the log */
			if (opts && opts->log)
				opts->log(TASKVMA_LOG_WARN, msg, opts->log_ctx);
			return err;
		}
		snprintf(tv->reason, sizeof(tv->reason), "requested");
	} else {
		/* BPF, then PROCMAP_QUERY, then text: the first that opens.  No
		 * feature probe first: each backend's open is its own probe (the
		 * BPF one checks capabilities before loading anything), and a
		 * probe could not promise that the real walker loads anyway. */
		static const enum taskvma_backend order[] = {
			TASKVMA_BACKEND_BPF, TASKVMA_BACKEND_PROCMAP, TASKVMA_BACKEND_PROCFS,
		};
		unsigned first = 0;
		char why[256] = "";

		for (unsigned i = first; i < 3; i++) {
			tv->kind = order[i];
			tv->be = backend_ops(tv->kind);
			tv->err_msg[0] = 0;
			err = tv->be->open(tv);
			if (!err)
				break;
			tv_log(tv, TASKVMA_LOG_INFO, "backend %s unavailable: %s", tv->be->name,
			       tv->err_msg);
			snprintf(why, sizeof(why), "%s unavailable: %.200s", tv->be->name, tv->err_msg);
		}
		if (err) {
			free(tv);
			return err;
		}
		if (tv->be == &tv_backend_procmap && !tv_backend_procfs.open(tv)) {
			/* Without BPF, whole maps come from the text and lookups
			 * from PROCMAP_QUERY: on this project's machines (20,000
			 * VMAs) a whole map took 2.1x less time as text (217 vs
			 * 466 ms), `maps --all` 2.0x, and one lookup 2.5x less
			 * with the ioctl (84 vs 210 ms): docs/PERFORMANCE.md */
			tv->ranged = tv->be;
			tv->be = &tv_backend_procfs;
			tv->kind = TASKVMA_BACKEND_PROCFS;
			snprintf(why + strlen(why), sizeof(why) - strlen(why),
				 "; whole maps from procfs, address lookups from procmap");
		}
		snprintf(tv->reason, sizeof(tv->reason), "auto: %.240s", why[0] ? why : "first usable backend");
		tv_log(tv, TASKVMA_LOG_INFO, "using backend %s (%s)", tv->be->name, tv->reason);
	}
	if (tv_bpf_variant(tv)) {
		size_t l = strlen(tv->reason);

		snprintf(tv->reason + l, sizeof(tv->reason) - l, "; %s", tv_bpf_variant(tv));
	}
	tv->err_msg[0] = 0;
	tv_arena_handles(1);
	*out = tv;
	return 0;
}

void taskvma_close(struct taskvma *tv)
{
	if (!tv)
		return;
	tv_lookup_close(tv);
	tv_release_pending(tv);
	if (tv->pm_pid)
		close(tv->pm_fd);
	if (tv->be && tv->be->close)
		tv->be->close(tv);
	free(tv);
	tv_arena_handles(-1);
}
