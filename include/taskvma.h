/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * libtaskvma: read the memory maps (VMAs) of Linux processes.
 *
 * The engine is the kernel's open-coded BPF iterator bpf_iter_task_vma_new()
 * / _next() / _destroy() (Linux 6.7+).  When BPF cannot be used (no
 * privileges, old kernel), the same records come from the PROCMAP_QUERY ioctl
 * (Linux 6.11+) or from parsing /proc/PID/maps.  Every backend yields the same
 * struct taskvma_vma, and taskvma_format_maps_line() prints it exactly as
 * /proc/PID/maps would.
 *
 * Errors are negative errno values; taskvma_strerror() describes them, and
 * taskvma_last_error() gives the detailed message of the last failure of a
 * handle (e.g. "pid 123: no such process").
 *
 * Options structs follow libbpf's OPTS convention: the caller sets .sz =
 * sizeof(struct), so fields can be appended without breaking the ABI.  Use
 * TASKVMA_OPTS(type, name, ...) to declare one.  As libbpf's OPTS_VALID: a
 * struct larger than this library knows (a caller built against a newer
 * header) is accepted only when the bytes past the last known field
 * (TYPE__last_field) are zero; otherwise the call returns -EINVAL.
 *
 * Thread safety (every call below says which of these it is):
 *   [MT-safe]   may be called from any thread at any time: no shared state,
 *               or only constant data.
 *   [handle]    uses one handle (struct taskvma, and the iterators, maps,
 *               watches made from it): one thread at a time per handle.  Use
 *               one handle per thread (each with its own last-error message),
 *               or serialise the calls on a shared handle yourself (a second
 *               walk started on a handle during a walk gets -EBUSY, but that
 *               check is not a lock).  Different handles in different threads
 *               need no locking: what the library shares between handles
 *               (spare arena memory) is atomic; tests/unit/test_library.c runs
 *               8 threads under ThreadSanitizer.
 *   [object]    touches only the object passed (a map, a vma): as [handle],
 *               per object; read-only calls on one object may run at once.
 */
#ifndef TASKVMA_H
#define TASKVMA_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TASKVMA_VERSION_MAJOR 0
#define TASKVMA_VERSION_MINOR 1
#define TASKVMA_VERSION_PATCH 0
/* The Makefile reads the version from this line (one place). */
#define TASKVMA_VERSION_STRING "0.1.0"

#define TASKVMA_API __attribute__((visibility("default")))

/* Declare and zero an options struct with its size set. */
#define TASKVMA_OPTS(TYPE, NAME, ...)                                                              \
	struct TYPE NAME = ({                                                                      \
		struct TYPE ___o;                                                                  \
		__builtin_memset(&___o, 0, sizeof(___o));                                          \
		___o = (struct TYPE){ .sz = sizeof(struct TYPE), __VA_ARGS__ };                    \
		___o;                                                                              \
	})

/* ---- records ---------------------------------------------------------- */

/* Permission bits of a VMA, as /proc prints them ("rwxs"/"rwxp"). */
#define TASKVMA_PERM_READ   0x1u
#define TASKVMA_PERM_WRITE  0x2u
#define TASKVMA_PERM_EXEC   0x4u
#define TASKVMA_PERM_SHARED 0x8u /* VM_MAYSHARE: 's' instead of 'p' */

/* What a VMA is, as the kernel names it. */
enum taskvma_kind {
	TASKVMA_KIND_ANON = 0,    /* anonymous, no name */
	TASKVMA_KIND_FILE = 1,    /* file-backed: name is the path */
	TASKVMA_KIND_HEAP = 2,    /* [heap] */
	TASKVMA_KIND_STACK = 3,   /* [stack] */
	TASKVMA_KIND_SPECIAL = 4, /* [vdso], [vvar], [vvar_vclock], [uprobes], [vsyscall], ... */
	TASKVMA_KIND_ANON_NAMED = 5, /* [anon:NAME] */
};

/* struct taskvma_vma.flags */
#define TASKVMA_VMA_GATE 0x1u /* the [vsyscall] gate area, not a real VMA */

/* One mapping.  `name` is exactly the text /proc/PID/maps prints after the
 * padding (newlines in paths escaped as "\012", " (deleted)" appended, ...),
 * NUL-terminated, "" when there is none.  It stays valid until the next call
 * on the iterator, or until the map that holds it is freed. */
struct taskvma_vma {
	uint64_t start;
	uint64_t end;
	uint64_t offset; /* file offset in bytes; 0 when anonymous */
	uint64_t inode;
	uint32_t dev_major;
	uint32_t dev_minor;
	uint32_t perms;  /* TASKVMA_PERM_* */
	uint32_t kind;   /* enum taskvma_kind */
	uint32_t flags;  /* TASKVMA_VMA_* */
	uint32_t name_len;
	const char *name;
};

/* ---- handle and backends ---------------------------------------------- */

enum taskvma_backend {
	TASKVMA_BACKEND_AUTO = 0,    /* BPF if it works here, else PROCMAP_QUERY, else procfs */
	TASKVMA_BACKEND_BPF = 1,     /* bpf_iter_task_vma kfuncs */
	TASKVMA_BACKEND_PROCMAP = 2, /* ioctl(PROCMAP_QUERY) on /proc/PID/maps */
	TASKVMA_BACKEND_PROCFS = 3,  /* parse /proc/PID/maps text */
};

/* Log levels of the handle's log callback. */
enum taskvma_log_level {
	TASKVMA_LOG_WARN = 0,
	TASKVMA_LOG_INFO = 1,  /* e.g. why auto chose a backend */
	TASKVMA_LOG_DEBUG = 2, /* libbpf's own messages */
};

typedef void (*taskvma_log_fn)(enum taskvma_log_level level, const char *msg, void *ctx);

struct taskvma_opts {
	size_t sz;
	enum taskvma_backend backend;
	taskvma_log_fn log;  /* NULL: silent */
	void *log_ctx;
	int log_level;       /* highest level passed to log */
	int busy_retries;    /* retries of a walk that met -EBUSY or a changing map; 0 = default (8) */
	const char *proc_root; /* where procfs is mounted; NULL = "/proc" */
	/* 1: deliver a map only as an atomic snapshot (TASKVMA_MAP_ATOMIC).
	 * BPF: as always (the walk is retried while the mm's change counter
	 * moves).  procmap, procfs: the process is frozen for the read: every
	 * thread is attached with ptrace (PTRACE_SEIZE, PTRACE_INTERRUPT) and
	 * waited for in its stop, then let go (PTRACE_DETACH, a pending signal
	 * handed back).  The process is stopped for the read (about 0.1-3 ms
	 * for 1,000 VMAs: docs/PERFORMANCE.md), blocking system calls restart
	 * (a few, as after SIGSTOP/SIGCONT, return EINTR: signal(7)), and the
	 * calling thread receives SIGCHLD for each stop.  A process that cannot
	 * be frozen (already traced, ptrace not permitted, the caller itself,
	 * a thread that does not stop within 1 s) fails with -EAGAIN and the
	 * cause in taskvma_last_error().  0: fallback walks are read while the
	 * process runs, and delivered without TASKVMA_MAP_ATOMIC. */
	int consistent;
};
#define taskvma_opts__last_field consistent

struct taskvma;

/* Open a handle.  With backend AUTO it never fails for lack of BPF: it falls
 * back and says why at TASKVMA_LOG_INFO.  Returns 0 or -errno. */
/* [MT-safe] (each call makes a new handle) */
TASKVMA_API int taskvma_open(struct taskvma **tv, const struct taskvma_opts *opts);
/* [handle] */
TASKVMA_API void taskvma_close(struct taskvma *tv);

/* The backend the handle actually uses (never AUTO), and why auto chose it. */
/* [handle] */
TASKVMA_API enum taskvma_backend taskvma_backend(const struct taskvma *tv);
/* [MT-safe] */
TASKVMA_API const char *taskvma_backend_name(enum taskvma_backend b);
/* [MT-safe] */
TASKVMA_API int taskvma_backend_parse(const char *s, enum taskvma_backend *out);
/* [handle]; a plain description, no command-line hints */
TASKVMA_API const char *taskvma_backend_reason(const struct taskvma *tv);

/* Detailed message of the handle's last failure ("" if none). */
/* [handle]: the message of this handle's last failure */
TASKVMA_API const char *taskvma_last_error(const struct taskvma *tv);
/* Short description of an error code returned by this library. */
/* [MT-safe] */
TASKVMA_API const char *taskvma_strerror(int err);
/* The library's version at run time, "MAJOR.MINOR.PATCH" (compare with
 * TASKVMA_VERSION_STRING, the header's).  Thread-safe: a constant. */
TASKVMA_API const char *taskvma_version(void);

/* ---- queries ---------------------------------------------------------- */

/* Which mappings to return.  Address and permission filters run in the
 * kernel on the BPF backend, before anything is copied. */
struct taskvma_query {
	size_t sz;
	uint64_t addr_lo;     /* first VMA: the one containing addr_lo, or the next one */
	uint64_t addr_hi;     /* stop before VMAs starting at or above; 0 = no limit */
	uint32_t perm_set;    /* TASKVMA_PERM_* that must be set */
	uint32_t perm_clear;  /* TASKVMA_PERM_* that must be clear */
	uint32_t kinds;       /* bitmask of 1u << enum taskvma_kind; 0 = all */
	const char *name_glob; /* NULL = all; else a mapping matches when the
				* fnmatch(3) pattern matches its whole name, or
				* the pattern equals the name literally ("[heap]"
				* without escaping), or, for a file and a pattern
				* without '/', the file's base name ("libc.so.6") */
	int no_gate;          /* 1: leave out the [vsyscall] gate line */
};
#define taskvma_query__last_field no_gate

/* ---- the iterator: mirrors bpf_iter_task_vma_new/_next/_destroy -------- */

struct taskvma_iter;

/* Start iterating the VMAs of process `pid` at the VMA containing `addr` or
 * the next one above it.  Returns 0 or -errno: -ESRCH no such process,
 * -ENOENT no address space (kernel thread, zombie), -EACCES/-EPERM not
 * allowed, -EBUSY lock contended after retries.  As with the kfunc, call
 * taskvma_iter_destroy() even when this fails (it accepts *it == NULL). */
/* [handle] */
TASKVMA_API int taskvma_iter_new(struct taskvma *tv, struct taskvma_iter **it, pid_t pid,
				 uint64_t addr);
/* The next VMA, or NULL at the end or on error (see taskvma_iter_err()). */
/* [handle] */
TASKVMA_API const struct taskvma_vma *taskvma_iter_next(struct taskvma_iter *it);
/* 0 if the walk so far is complete and clean; -errno otherwise.  -EAGAIN: the
 * map changed during the walk (it may be torn), -ESRCH: the process exited.
 * The iterator never freezes a process (taskvma_opts.consistent): on procmap
 * and procfs, 0 means in address order, not an atomic snapshot (use
 * taskvma_snapshot() or taskvma_visit() for that). */
/* [handle] */
TASKVMA_API int taskvma_iter_err(const struct taskvma_iter *it);
/* [handle] */
TASKVMA_API void taskvma_iter_destroy(struct taskvma_iter *it);

/* ---- snapshots -------------------------------------------------------- */

/* struct taskvma_map.flags */
#define TASKVMA_MAP_TORN 0x1u /* the map changed during every attempt: may be torn */
/* An atomic snapshot: the map as it was at one instant.  Set by the BPF
 * backend (no change of the mm's sequence count during the walk) and by
 * procmap/procfs with taskvma_opts.consistent (the process frozen).
 * Without it, a map from procmap or procfs is complete and in address
 * order, but a VMA that moved or split during the read (mremap, mprotect)
 * may be missing or listed twice: these backends cannot see a change. */
#define TASKVMA_MAP_ATOMIC 0x2u

/* The map of one process.  `vmas` are ordered by address. */
struct taskvma_map {
	pid_t pid;
	char comm[16];
	uint32_t flags;  /* TASKVMA_MAP_* */
	int attempts;    /* walks it took to get a clean one */
	size_t count;
	struct taskvma_vma *vmas;
};

/* Snapshot one process (q may be NULL).  A map is only returned complete:
 * when every attempt saw the map change, the last one is returned with
 * TASKVMA_MAP_TORN set, and the call returns -EAGAIN.  Other errors return no
 * map; so does -EAGAIN for a process that could not be frozen
 * (taskvma_opts.consistent; taskvma_last_error() says why).  A map from
 * procmap or procfs is atomic (TASKVMA_MAP_ATOMIC) only with that option. */
/* [handle] */
TASKVMA_API int taskvma_snapshot(struct taskvma *tv, pid_t pid, const struct taskvma_query *q,
				 struct taskvma_map **map);
/* [object] */
TASKVMA_API void taskvma_map_free(struct taskvma_map *map);

/* Called once per process by taskvma_snapshot_all(), in pid order, except
 * for processes that the one-pass kernel walk did not show (started after it
 * went by, or invisible to it): those come after the others.  `err` is
 * 0 with a map, or -errno with map == NULL for processes that could not be
 * read (they are reported, not skipped, except those that vanished, which
 * are counted in stats).  The map is freed after the callback returns,
 * unless the callback returns TASKVMA_KEEP: the map is then the caller's, to
 * free with taskvma_map_free() (cast away the const); nothing is copied.
 * Maps of one pass share large blocks (8 MiB): a
 * block is released when the last map kept in it is freed.
 * Any other non-zero return stops the walk; that value is returned. */
typedef int (*taskvma_map_cb)(void *ctx, pid_t pid, int err, const struct taskvma_map *map);
#define TASKVMA_KEEP 0x4b454550 /* "KEEP" */

struct taskvma_all_stats {
	size_t sz;
	uint64_t processes;  /* maps delivered */
	uint64_t vmas;
	uint64_t vanished;   /* processes that exited before or during their walk */
	uint64_t kernel_threads;
	uint64_t denied;     /* permission denied */
	uint64_t torn;       /* delivered with TASKVMA_MAP_TORN */
	uint64_t not_atomic; /* maps delivered complete without TASKVMA_MAP_ATOMIC */
};

/* Snapshot every process (threads are walked once, through their leader;
 * kernel threads are skipped and counted).  stats may be NULL. */
/* [handle] */
TASKVMA_API int taskvma_snapshot_all(struct taskvma *tv, const struct taskvma_query *q,
				     taskvma_map_cb cb, void *ctx, struct taskvma_all_stats *stats);

/* ---- streaming: memory bounded by the consumer, not by the map ---------- */

/* Returned by a visitor's end() hint: see struct taskvma_visitor. */
#define TASKVMA_RETRY 1

/* Callbacks for taskvma_visit() / taskvma_visit_all().  For each process:
 * begin(), vma() for each mapping in address order, then end(err):
 *   err == 0              the walk was complete and clean: use what vma() got;
 *   err == TASKVMA_RETRY  the map changed under the walk: discard what vma()
 *                         got since begin(); begin() will come again (later,
 *                         in visit_all) for another attempt;
 *   err == -EAGAIN        it changed during every attempt: incomplete;
 *   err < 0               the process could not be read (-ESRCH, -EACCES...).
 * A callback returning non-zero stops the visit; that value is returned.
 * In visit_all, processes that vanished and kernel threads are only counted
 * in the stats, never delivered. */
struct taskvma_visitor {
	size_t sz;
	int (*begin)(void *ctx, pid_t pid, const char *comm);
	int (*vma)(void *ctx, const struct taskvma_vma *v);
	int (*end)(void *ctx, pid_t pid, int err);
	/* visit_all only, optional: a process counted in the stats but not
	 * delivered, and why: -ESRCH it vanished, -ENOENT no address space
	 * (kernel thread, zombie).  So a consumer can say what it did not see. */
	void (*skip)(void *ctx, pid_t pid, int err);
};
#define taskvma_visitor__last_field skip

/* [handle] */
TASKVMA_API int taskvma_visit(struct taskvma *tv, pid_t pid, const struct taskvma_query *q,
			      const struct taskvma_visitor *vis, void *ctx);
/* Inside an end() callback with err == 0, and after taskvma_visit()
 * returns: the TASKVMA_MAP_* flags of the process just delivered
 * (TASKVMA_MAP_ATOMIC when its walk was an atomic snapshot); 0 otherwise. */
/* [handle] */
TASKVMA_API uint32_t taskvma_visit_flags(const struct taskvma *tv);
/* [handle] */
TASKVMA_API int taskvma_visit_all(struct taskvma *tv, const struct taskvma_query *q,
				  const struct taskvma_visitor *vis, void *ctx,
				  struct taskvma_all_stats *stats);

/* ---- addresses: mapping, file offset and build ID ---------------------- */

/* What an address is (struct taskvma_addr_info.status). */
enum taskvma_addr_status {
	TASKVMA_ADDR_FILE = 0,       /* in a file mapping: file_offset (and build ID) valid */
	TASKVMA_ADDR_ANON = 1,       /* anonymous, [heap], [stack], [anon:NAME], not executable */
	TASKVMA_ADDR_JIT = 2,        /* anonymous and executable (JIT code, trampolines) */
	TASKVMA_ADDR_SPECIAL = 3,    /* [vdso], [vvar], [vsyscall], ...: no file */
	TASKVMA_ADDR_NOT_MAPPED = 4, /* in no mapping */
	TASKVMA_ADDR_GONE = 5,       /* the process does not exist, or exited before its turn */
	TASKVMA_ADDR_ERROR = 6,      /* the process could not be read: err says why
				      * (-EACCES, -ENOENT no address space, ...) */
};

/* struct taskvma_addr_info.build_id_status */
enum taskvma_build_id_status {
	TASKVMA_BUILD_ID_OK = 0,      /* build_id[0 .. build_id_len) */
	TASKVMA_BUILD_ID_NONE = 1,    /* the file has no GNU build ID note (or is not ELF) */
	TASKVMA_BUILD_ID_UNREADABLE = 2, /* neither the kernel nor the file could tell: build_id_err */
	TASKVMA_BUILD_ID_NOT_FILE = 3, /* not a file mapping */
	TASKVMA_BUILD_ID_SKIPPED = 4, /* not asked for (taskvma_lookup_opts.build_ids = 0) */
};
#define TASKVMA_BUILD_ID_MAX 20

/* One answered address.  `vma` is valid for FILE, ANON, JIT and SPECIAL; its
 * name stays valid until the next taskvma_lookup()/taskvma_normalize() on the
 * handle, or taskvma_close(). */
struct taskvma_addr_info {
	uint64_t addr;
	pid_t pid;
	int32_t status;          /* enum taskvma_addr_status */
	int32_t err;             /* -errno for GONE and ERROR, else 0 */
	int32_t build_id_status; /* enum taskvma_build_id_status */
	int32_t build_id_err;    /* -errno for BUILD_ID_UNREADABLE */
	uint32_t build_id_len;
	uint8_t build_id[TASKVMA_BUILD_ID_MAX];
	uint64_t file_offset;    /* addr - vma.start + vma.offset (FILE only) */
	struct taskvma_vma vma;
};

/* Where build IDs come from (taskvma_lookup_opts.build_id_from). */
enum taskvma_build_id_from {
	TASKVMA_BUILD_ID_AUTO = 0,   /* the kernel (PROCMAP_QUERY, 6.11+), else the file */
	TASKVMA_BUILD_ID_KERNEL = 1, /* the kernel only */
	TASKVMA_BUILD_ID_FILE = 2,   /* the ELF notes of the file, read through
				      * /proc/PID/map_files (or /proc/PID/root + name) */
};

struct taskvma_lookup_opts {
	size_t sz;
	int build_ids;          /* 1: fill build IDs (cached per file for the handle's life) */
	int build_id_from;      /* enum taskvma_build_id_from */
};
#define taskvma_lookup_opts__last_field build_id_from

/* Answer n addresses of process pid (any order, duplicates allowed) into
 * out[0..n), in input order.  On the procmap backend this takes one
 * PROCMAP_QUERY ioctl per distinct mapping hit or gap (addresses are sorted
 * first); on the others one walk over [min, max] of the addresses.
 * Returns 0 when the process was read (each address then has its own
 * status), or -errno when it could not be (-ESRCH, -EACCES, -ENOENT: every
 * out[i] then has status GONE or ERROR); -EINVAL for bad arguments. */
/* [handle] */
TASKVMA_API int taskvma_lookup(struct taskvma *tv, pid_t pid, const uint64_t *addrs, size_t n,
			       struct taskvma_addr_info *out, const struct taskvma_lookup_opts *opts);

/* One sample of a profile: an address in a process. */
struct taskvma_addr_req {
	pid_t pid;
	uint64_t addr;
};
/* Answer n (pid, address) pairs of any number of processes into out[0..n),
 * in input order (a process's failure is that process's records' status).
 * Returns 0, or -errno for failures of the call itself (-ENOMEM, -EINVAL). */
/* [handle] */
TASKVMA_API int taskvma_normalize(struct taskvma *tv, const struct taskvma_addr_req *reqs,
				  size_t n, struct taskvma_addr_info *out,
				  const struct taskvma_lookup_opts *opts);
/* Short names: "file", "anonymous", "jit", "special", "not-mapped",
 * "process-gone", "error"; and "ok", "none", "unreadable", "not-file",
 * "skipped". */
/* [MT-safe] */
TASKVMA_API const char *taskvma_addr_status_name(int status);
/* [MT-safe] */
TASKVMA_API const char *taskvma_build_id_status_name(int status);

/* ---- scan: mappings worth a second look -------------------------------- */

/* Reasons a mapping is suspicious (taskvma_suspicious() returns a mask). */
#define TASKVMA_SUSPECT_WX          0x01u /* writable and executable at once */
#define TASKVMA_SUSPECT_ANON_EXEC   0x02u /* executable anonymous memory (JIT, injected code) */
#define TASKVMA_SUSPECT_DELETED_EXEC 0x04u /* executable mapping of a deleted file */
#define TASKVMA_SUSPECT_MEMFD_EXEC  0x08u /* executable memfd (fileless code) */
#define TASKVMA_SUSPECT_STACK_EXEC  0x10u /* executable [stack] */
#define TASKVMA_SUSPECT_HEAP_EXEC   0x20u /* executable [heap] */
#define TASKVMA_SUSPECT_ALL         0x3fu

/* [object] */
TASKVMA_API uint32_t taskvma_suspicious(const struct taskvma_vma *v);
/* Short name of one TASKVMA_SUSPECT_* bit ("wx", "anon-exec", ...). */
/* [MT-safe] */
TASKVMA_API const char *taskvma_suspect_name(uint32_t bit);

/* ---- diff: what changed between two maps of one process ------------------ */

/* Calls cb for each mapping only in `old` (added = 0) or only in `new`
 * (added = 1), in address order; a mapping is the same when every field and
 * the name are.  Returns the number of differences. */
typedef void (*taskvma_diff_cb)(void *ctx, int added, const struct taskvma_vma *v);
/* [object] (both maps read only) */
TASKVMA_API size_t taskvma_map_diff(const struct taskvma_map *old, const struct taskvma_map *new_,
				    taskvma_diff_cb cb, void *ctx);

/* ---- formatting ------------------------------------------------------- */

/* Write one /proc/PID/maps line for v (with "\n") into buf.  Returns the
 * length it needs (like snprintf); buf is NUL-terminated when it fits. */
/* [object] */
TASKVMA_API size_t taskvma_format_maps_line(const struct taskvma_vma *v, char *buf, size_t len);
/* One mapping as a JSON object (no newline), the schema of docs/json.md:
 * {"pid":N,"comm":"..","start":N,"end":N,"perms":"r-xp","offset":N,
 *  "dev_major":N,"dev_minor":N,"inode":N,"kind":"file","name":".."}.
 * pid <= 0 leaves out pid and comm; a comm that is not UTF-8 adds
 * "comm_hex" (as "name_hex" for names).  Returns the length needed (snprintf
 * style); buf is NUL-terminated when it fits. */
/* [object] */
TASKVMA_API size_t taskvma_format_json(const struct taskvma_vma *v, pid_t pid, const char *comm,
				       char *buf, size_t len);
/* s[0..slen) as a JSON string with its quotes, escaped as in
 * taskvma_format_json() (bytes that are not UTF-8 become U+FFFD and *lossy
 * is set; lossy may be NULL).  Returns the length needed with the NUL. */
/* [MT-safe] */
TASKVMA_API size_t taskvma_format_json_string(const char *s, size_t slen, char *buf, size_t len,
					      int *lossy);
/* Text that comes from a process (its comm), for text output: control
 * bytes, DEL, backslash, C1 controls and bytes that are not UTF-8 written
 * as \ooo octal, as /proc writes a newline in a name ("\012"), so that it
 * can neither forge lines nor reach a terminal as escape codes.  Returns
 * the length needed (snprintf style); buf is NUL-terminated when it fits.
 * A comm (15 bytes) needs at most TASKVMA_COMM_ESC_MAX bytes. */
#define TASKVMA_COMM_ESC_MAX 64
TASKVMA_API size_t taskvma_escape_comm(const char *s, char *buf, size_t len);
/* "rw-p" etc.  buf must hold 5 bytes. */
/* [MT-safe] */
TASKVMA_API void taskvma_format_perms(uint32_t perms, char buf[5]);
/* [MT-safe] */
TASKVMA_API const char *taskvma_kind_name(enum taskvma_kind kind);

/* ---- pmap's view: sizes, totals, kinds; pictures --------------------- */

/* Room for the kinds in the per-kind arrays below (enum taskvma_kind has 6). */
#define TASKVMA_KIND_SLOTS 8

/* The totals of some mappings, as pmap(1) counts them (procps: a mapping
 * whose perms end in 's' is shared, else it is private, writeable when it
 * has 'w').  Sizes are in bytes, end - start. */
struct taskvma_totals {
	size_t sz;
	uint64_t mappings;          /* how many were added */
	uint64_t mapped;            /* pmap's "total", pmap -d's "mapped": every mapping */
	uint64_t writeable_private; /* pmap -d's "writeable/private": rw?p */
	uint64_t readonly_private;  /* r??p, ---p (guard pages), --xp ([vsyscall]) */
	uint64_t shared;            /* pmap -d's "shared": ???s */
	uint64_t exec;              /* executable: ??x? */
	uint64_t kind_count[TASKVMA_KIND_SLOTS]; /* mappings by enum taskvma_kind */
	uint64_t kind_bytes[TASKVMA_KIND_SLOTS]; /* their bytes */
};
#define taskvma_totals__last_field kind_bytes

/* Add one mapping to t.  Start from TASKVMA_OPTS(taskvma_totals, t) (zeros,
 * sz set).  Returns 0, or -EINVAL when t->sz is smaller than this library's
 * struct (a caller built against an older header). */
/* [object] */
TASKVMA_API int taskvma_totals_add(struct taskvma_totals *t, const struct taskvma_vma *v);

/* How sizes are written (taskvma_format_size() and the calls below). */
enum taskvma_size_unit {
	TASKVMA_SIZE_HUMAN = 0, /* 1024-based, "4K", "1.5M", "132M", "2G": exact multiples
				 * without a decimal, one decimal below 10, else rounded */
	TASKVMA_SIZE_BYTES = 1, /* exact, in bytes, decimal */
	TASKVMA_SIZE_KIB = 2,   /* KiB rounded down, with "K", as pmap prints them */
};
/* Returns the length needed (snprintf style); buf NUL-terminated when it fits.
 * At most 24 bytes with the NUL. */
/* [MT-safe] */
TASKVMA_API size_t taskvma_format_size(uint64_t bytes, int unit, char *buf, size_t len);

/* One line of the size view (`taskvma maps --sizes`), "\n" included:
 * "START-END SIZE PERMS NAME", START and END as 16 hex digits (as pmap
 * prints addresses), SIZE right-aligned in 8 columns (wider when needed),
 * PERMS as /proc prints them, NAME exactly as /proc prints it.  snprintf
 * style return. */
/* [object] */
TASKVMA_API size_t taskvma_format_size_line(const struct taskvma_vma *v, int unit, char *buf,
					    size_t len);
/* The totals line, "\n" included, with pmap -d's words:
 * "total: N mappings    mapped: S    writeable/private: S    shared: S". */
/* [object] */
TASKVMA_API size_t taskvma_format_totals(const struct taskvma_totals *t, int unit, char *buf,
					 size_t len);
/* The summary table (`taskvma maps --summary`): its header line, and one
 * line per process: PID, the mapping count, the count of each kind, the
 * sizes (mapped, writeable/private, shared, executable), and the comm last
 * (escaped as taskvma_escape_comm() does; last, so a space in it does not
 * shift the columns).  "\n" included; snprintf style. */
/* [MT-safe] */
TASKVMA_API size_t taskvma_format_summary_header(char *buf, size_t len);
/* [object] */
TASKVMA_API size_t taskvma_format_summary(const struct taskvma_totals *t, pid_t pid,
					  const char *comm, int unit, char *buf, size_t len);
/* The totals as one JSON object (docs/json.md "totals"), sizes in bytes:
 * {"mappings":N,"mapped":N,"writeable_private":N,"readonly_private":N,
 *  "shared":N,"exec":N,"kinds":{"anon":{"count":N,"bytes":N},...}}. */
/* [object] */
TASKVMA_API size_t taskvma_format_totals_json(const struct taskvma_totals *t, char *buf,
					      size_t len);

/* An SVG picture of address spaces (`taskvma maps --svg`).  One process:
 * the address space drawn upwards as people sketch it, regions to scale
 * within a segment, large gaps compressed and marked, names where they
 * fit; several processes (overview): one row each.  Every mapping is one
 * <rect class="vma"> with data-pid, data-start, data-end (0x hex),
 * data-perms, data-kind and a <title> holding its /proc line. */
struct taskvma_svg;
struct taskvma_svg_opts {
	size_t sz;
	int overview;   /* 1: one row per process (also chosen with 2+ processes) */
	int width;      /* picture width in px; 0 = default (1000 overview, 760 one) */
};
#define taskvma_svg_opts__last_field width

/* [MT-safe] (each call makes a new object) */
TASKVMA_API int taskvma_svg_new(struct taskvma_svg **svg, const struct taskvma_svg_opts *opts);
/* Add one process's mappings (address order; copied: vmas may be freed
 * after).  Returns 0 or -errno (-ENOMEM, -EINVAL). */
/* [object] */
TASKVMA_API int taskvma_svg_add(struct taskvma_svg *svg, pid_t pid, const char *comm,
				const struct taskvma_vma *vmas, size_t n);
/* Write the whole document to f.  Returns 0, or -errno of the first failed
 * write (the document is then incomplete). */
/* [object] */
TASKVMA_API int taskvma_svg_write(struct taskvma_svg *svg, FILE *f);
/* [object] */
TASKVMA_API void taskvma_svg_free(struct taskvma_svg *svg);

/* Parse one /proc/PID/maps line (without or with its "\n") into v; v->name
 * points into `line` (not NUL-terminated in general: use name_len).  Returns
 * 0, or -EINVAL if the line is not in the kernel's format. */
/* [MT-safe] (writes *v only) */
TASKVMA_API int taskvma_parse_maps_line(const char *line, size_t len, struct taskvma_vma *v);

#ifdef __cplusplus
}
#endif
/* What this kernel supports (taskvma_features_probe()), tracing, watching. */
#include "taskvma_features.h"
#include "taskvma_trace.h"
#include "taskvma_watch.h"

#endif /* TASKVMA_H */
