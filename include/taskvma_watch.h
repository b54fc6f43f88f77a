/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * libtaskvma watch: a live changelog of processes' memory maps, driven by
 * kernel events, and a mirror of each watched map kept current from it.
 *
 * Thread safety (see taskvma.h): a watch belongs to its handle: every
 * taskvma_watch_* call is [handle] (one thread at a time for the handle and
 * its watch; the callback runs in the thread that polls); the *_name()
 * calls are [MT-safe].
 *
 * A BPF program (src/bpf/watch.bpf.c) is told by the kernel each time a
 * watched process's VMA tree changed (the mmap lock released after a write:
 * mmap, munmap, mprotect, mremap, brk, madvise, ...), exec'd, forked or
 * exited.  The library then re-reads the range that changed (or the whole
 * map) through the handle's backend, diffs it against its mirror, and calls
 * back once per added, removed or changed mapping.  Where the tracepoints or
 * BPF are not available, it polls instead (taskvma_watch_mode() says which,
 * and why).
 *
 *	struct taskvma_watch *w;
 *	TASKVMA_OPTS(taskvma_watch_opts, o);
 *	taskvma_watch_new(tv, &o, on_record, ctx, &w);
 *	taskvma_watch_add(w, pid);          // snapshot records, then ...
 *	while (!stop)
 *		taskvma_watch_poll(w, 100); // ... one record per change
 *	taskvma_watch_free(w);
 *
 * Not thread-safe: one thread calls everything on a watch.
 */
#ifndef TASKVMA_WATCH_H
#define TASKVMA_WATCH_H

#include "taskvma.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What a record is. */
enum taskvma_watch_kind {
	TASKVMA_WATCH_SNAPSHOT = 0, /* a mapping as the process entered the watch */
	TASKVMA_WATCH_ADDED = 1,    /* vma: a mapping that appeared */
	TASKVMA_WATCH_REMOVED = 2,  /* vma: a mapping that went away */
	TASKVMA_WATCH_CHANGED = 3,  /* old -> vma: same start, other end, perms or name */
	TASKVMA_WATCH_EXEC = 4,     /* the process exec'd (its changes follow) */
	TASKVMA_WATCH_FORK = 5,     /* the process forked `child` */
	TASKVMA_WATCH_EXIT = 6,     /* the process exited; its mirror is gone */
	TASKVMA_WATCH_DRIFT = 7,    /* taskvma_watch_check(): the mirror differed */
};

/* Why (where known): the system call, or the event. */
enum taskvma_watch_cause {
	TASKVMA_CAUSE_UNKNOWN = 0,
	TASKVMA_CAUSE_SNAPSHOT = 1, /* the first read of the process */
	TASKVMA_CAUSE_MMAP = 2,
	TASKVMA_CAUSE_MUNMAP = 3,
	TASKVMA_CAUSE_MPROTECT = 4, /* mprotect, pkey_mprotect */
	TASKVMA_CAUSE_MREMAP = 5,
	TASKVMA_CAUSE_BRK = 6,
	TASKVMA_CAUSE_MADVISE = 7,
	TASKVMA_CAUSE_EXEC = 8,
	TASKVMA_CAUSE_FORK = 9,
	TASKVMA_CAUSE_EXIT = 10,
	TASKVMA_CAUSE_SYSCALL = 11, /* another system call: event.syscall */
	TASKVMA_CAUSE_OTHER = 12,   /* no system call of the process: another process,
				     * a kernel thread */
	TASKVMA_CAUSE_LOST = 13,    /* events were lost: re-read in full (flags RESYNC) */
	TASKVMA_CAUSE_POLL = 14,    /* polling mode: found by re-reading */
	TASKVMA_CAUSE_CHECK = 15,   /* taskvma_watch_check() */
	TASKVMA_CAUSE_STACK = 16,   /* the main stack grew (a page fault below it) */
};

/* taskvma_watch_event.flags */
#define TASKVMA_WATCH_F_RESYNC 0x1u /* events were lost: this comes from a full re-read */
#define TASKVMA_WATCH_F_RANGE  0x2u /* only the changed range was re-read */
#define TASKVMA_WATCH_F_REMOTE 0x4u /* made by another process or a kernel thread */

/* One record.  Pointers are valid during the callback only. */
struct taskvma_watch_event {
	enum taskvma_watch_kind kind;
	enum taskvma_watch_cause cause;
	uint32_t flags;            /* TASKVMA_WATCH_F_* */
	pid_t pid;
	pid_t tid;                 /* the thread behind the event; 0 unknown */
	pid_t child;               /* FORK */
	int syscall;               /* system call number in progress; -1 unknown */
	uint64_t seq;              /* per process: 1, 2, ... over all its records */
	uint64_t ts_ns;            /* CLOCK_REALTIME of the kernel event (polling: of the read) */
	uint64_t mono_ns;          /* the same, CLOCK_MONOTONIC */
	uint32_t batch_n;          /* records produced by this event ... */
	uint32_t batch_i;          /* ... and this one's index among them (0 first) */
	const char *comm;
	const struct taskvma_vma *vma; /* SNAPSHOT, ADDED, REMOVED, CHANGED (the new one) */
	const struct taskvma_vma *old; /* CHANGED: before; DRIFT: the mirror's (NULL: none) */
};

/* Return 0 to go on; anything else stops taskvma_watch_poll()/_add(), which
 * return it. */
typedef int (*taskvma_watch_cb)(void *ctx, const struct taskvma_watch_event *ev);

enum taskvma_watch_mode {
	TASKVMA_WATCH_EVENTS = 1, /* kernel events (BPF) */
	TASKVMA_WATCH_POLLING = 2, /* re-reading every poll_interval */
};

struct taskvma_watch_opts {
	size_t sz;
	int all;                  /* every process (started later too) */
	int follow_forks;         /* children of watched processes are watched */
	const char *comm;         /* processes with this comm (when they change, exec, fork) */
	const char *cgroup;       /* processes in this cgroup v2 (path) or below */
	int force_poll;           /* do not use kernel events */
	double poll_interval;     /* seconds, polling mode; 0 = 1 */
	size_t ringbuf_bytes;     /* 0 = 4 MiB */
	int no_snapshot_records;  /* taskvma_watch_add(): no SNAPSHOT records */
	int range_reads;          /* 0 = default (on); -1: always re-read whole maps */
	/* events mode: once records flow, taskvma_watch_poll() reads them every
	 * batch_ms instead of being woken for each (until one such tick finds
	 * none; not with timeout 0): the first record of a burst comes at once,
	 * the next ones at most batch_ms later.  0 = default (4 ms); -1: woken
	 * for every record (lowest latency, most CPU) */
	int batch_ms;
};
#define taskvma_watch_opts__last_field batch_ms

struct taskvma_watch;

/* Start watching (nothing yet, unless all/comm/cgroup): load and attach the
 * BPF program, or fall back to polling (TASKVMA_LOG_INFO on the handle's log
 * says why).  The handle's backend reads the maps.  0 or -errno. */
TASKVMA_API int taskvma_watch_new(struct taskvma *tv, const struct taskvma_watch_opts *opts,
				  taskvma_watch_cb cb, void *ctx, struct taskvma_watch **out);
TASKVMA_API void taskvma_watch_free(struct taskvma_watch *w);
TASKVMA_API enum taskvma_watch_mode taskvma_watch_mode(const struct taskvma_watch *w);
/* Why polling (or "kernel events: ..." with what is attached). */
TASKVMA_API const char *taskvma_watch_reason(const struct taskvma_watch *w);

/* Watch process pid: snapshot it (SNAPSHOT records) and follow it.  -ESRCH,
 * -EACCES ... as taskvma_snapshot(). */
TASKVMA_API int taskvma_watch_add(struct taskvma_watch *w, pid_t pid);
/* Snapshot every process (with opts.all; with comm/cgroup, those that match
 * now).  Processes that cannot be read are skipped and counted. */
TASKVMA_API int taskvma_watch_add_matching(struct taskvma_watch *w);
/* Stop watching pid (its mirror goes). */
TASKVMA_API int taskvma_watch_remove(struct taskvma_watch *w, pid_t pid);

/* Wait up to timeout_ms (-1: forever) for events, and handle all that came:
 * returns the number of records delivered, or -errno, or a callback's
 * non-zero value.  Polling mode: re-reads when the interval is due. */
TASKVMA_API int taskvma_watch_poll(struct taskvma_watch *w, int timeout_ms);
/* An fd for poll/epoll that is readable when taskvma_watch_poll() has work
 * (events mode); -1 when polling. */
TASKVMA_API int taskvma_watch_fd(const struct taskvma_watch *w);

/* Processes in the mirror. */
TASKVMA_API size_t taskvma_watch_count(const struct taskvma_watch *w);
TASKVMA_API size_t taskvma_watch_pids(const struct taskvma_watch *w, pid_t *pids, size_t max);

/* From the mirror, no system call: the mapping of pid containing addr.
 * 0 (*out filled, its name valid until the next poll), -ENOENT not mapped,
 * -ESRCH pid not watched. */
TASKVMA_API int taskvma_watch_lookup(const struct taskvma_watch *w, pid_t pid, uint64_t addr,
				     struct taskvma_vma *out);
/* The mirror's whole map of pid (in address order), valid until the next
 * call on the watch. */
TASKVMA_API int taskvma_watch_vmas(const struct taskvma_watch *w, pid_t pid,
				   const struct taskvma_vma **vmas, size_t *n);

/* The mirror's comm of pid ("" if not watched). */
TASKVMA_API const char *taskvma_watch_comm(const struct taskvma_watch *w, pid_t pid);

/* Compare pid's mirror with a fresh snapshot (after handling pending
 * events).  Each difference is a DRIFT record (old: the mirror's entry, vma:
 * the kernel's, either may be NULL), and the mirror is corrected.  Returns
 * the number of differences, 0 when equal, -EAGAIN when the map kept
 * changing (not compared), -errno. */
TASKVMA_API int taskvma_watch_check(struct taskvma_watch *w, pid_t pid);

struct taskvma_watch_stats {
	uint64_t events;       /* kernel records handled */
	uint64_t lost;         /* kernel records lost (ring buffer full) */
	uint64_t resyncs;      /* full re-reads after lost records */
	uint64_t range_reads;  /* re-reads of a range */
	uint64_t whole_reads;  /* re-reads of a whole map */
	uint64_t records;      /* records delivered */
	uint64_t torn;         /* re-reads that kept seeing the map change (retried later) */
	uint64_t unreadable;   /* processes that could not be read */
};
TASKVMA_API void taskvma_watch_get_stats(const struct taskvma_watch *w,
					 struct taskvma_watch_stats *st);

TASKVMA_API const char *taskvma_watch_kind_name(enum taskvma_watch_kind k);
TASKVMA_API const char *taskvma_watch_cause_name(enum taskvma_watch_cause c);

#ifdef __cplusplus
}
#endif
#endif /* TASKVMA_WATCH_H */
