// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The engine: handle, backend choice, and what every backend shares: the
 * iterator, filters, name escaping, the [vsyscall] gate line, tear detection,
 * retries, snapshots of one or all processes.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>
#include "internal.h"

#define DEFAULT_RETRIES 8

static const struct tv_backend *get_fallback(struct taskvma *tv);

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

/* Does this kernel print a [vsyscall] gate line?  Our own map tells. */
bool tv_kernel_has_vsyscall(const char *proc_root)
{
	char path[160], buf[4096];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "%s/self/maps", proc_root);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (fgets(buf, sizeof(buf), f))
		if (strstr(buf, " [vsyscall]\n"))
			found = true;
	fclose(f);
	return found;
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
	if (tv->pm_pid)
		close(tv->pm_fd);
	if (tv->be && tv->be->close)
		tv->be->close(tv);
	free(tv);
	tv_arena_handles(-1);
}

/* Out of file descriptors, or nearly: fewer than `need` left under
 * RLIMIT_NOFILE.  A failure deep inside a load (the BPF loader program, a
 * map it could not create) then says EINVAL or "not supported", not EMFILE:
 * this names the real cause.  Writes "N of M in use" into why. */
bool tv_fds_short(int need, char *why, size_t len)
{
	struct rlimit rl;
	struct dirent *de;
	long used = 0;
	DIR *d;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur == RLIM_INFINITY)
		return false;
	d = opendir("/proc/self/fd");
	if (!d) {
		if (errno != EMFILE && errno != ENFILE)
			return false;
		used = (long)rl.rlim_cur;
	} else {
		while ((de = readdir(d)))
			used += de->d_name[0] != '.';
		closedir(d);
		used--;	/* the directory's own descriptor */
	}
	if ((long)rl.rlim_cur - used >= need)
		return false;
	snprintf(why, len, "out of file descriptors (%ld of %llu in use: ulimit -n)", used,
		 (unsigned long long)rl.rlim_cur);
	return true;
}

int tv_read_comm(const struct taskvma *tv, pid_t pid, char comm[16])
{
	char path[160];
	ssize_t n;
	int fd;

	comm[0] = 0;
	snprintf(path, sizeof(path), "%s/%d/comm", tv->proc_root, pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, comm, 15);
	close(fd);
	if (n < 0)
		return -errno;
	if (n > 0 && comm[n - 1] == '\n')
		n--;
	comm[n] = 0;
	return 0;
}

bool tv_pid_gone(struct taskvma *tv, pid_t pid)
{
	char path[160], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%d/stat", tv->proc_root, pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ESRCH;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return true;
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p && (p[2] == 'Z' || p[2] == 'X');
}

/* Which address space a process has now, from /proc/PID/stat: its state
 * (field 3) and fields the kernel prints from the mm (start_code, end_code,
 * start_stack, start_brk, arg_start, env_end: 26-28, 47, 48, 51), all 0
 * once the task has no mm, and new ones (ASLR) after an exec.  A text read
 * of /proc/PID/maps ends early, at a plain end of file, when the mm it
 * opened dies under it (exit or exec): comparing this before and after the
 * read tells a complete read from a cut-short one.  -ESRCH when the
 * process is gone. */
int tv_mm_ident(const struct taskvma *tv, pid_t pid, struct tv_mm_ident *id)
{
	char path[160], buf[1024], *p, *tok, *save = NULL;
	ssize_t n;
	int fd, field = 3;

	memset(id, 0, sizeof(*id));
	snprintf(path, sizeof(path), "%s/%d/stat", tv->proc_root, pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ESRCH ? -ESRCH : -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -ESRCH;
	buf[n] = 0;
	p = strrchr(buf, ')');
	if (!p)
		return -EIO;
	for (tok = strtok_r(p + 1, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save), field++) {
		switch (field) {
		case 3: id->state = tok[0]; break;
		case 22: id->start_ticks = strtoull(tok, NULL, 10); break;
		case 26: id->v[0] = strtoull(tok, NULL, 10); break;
		case 27: id->v[1] = strtoull(tok, NULL, 10); break;
		case 28: id->v[2] = strtoull(tok, NULL, 10); break;
		case 47: id->v[3] = strtoull(tok, NULL, 10); break;
		case 48: id->v[4] = strtoull(tok, NULL, 10); break;
		case 51: id->v[5] = strtoull(tok, NULL, 10); break;
		}
	}
	return 0;
}

bool tv_mm_same(const struct tv_mm_ident *a, const struct tv_mm_ident *b)
{
	bool any = false;

	if (b->state == 'Z' || b->state == 'X' || memcmp(a->v, b->v, sizeof(a->v)))
		return false;
	for (int i = 0; i < 6; i++)
		any |= b->v[i] != 0;
	return any;
}

/* /proc/PID/stat: state (field 3) and flags (field 9) tell a zombie from a
 * kernel thread. */
int tv_explain_nomm(struct taskvma *tv, pid_t pid)
{
	char path[160], buf[1024], *p, state;
	unsigned long flags = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%d/stat", tv->proc_root, pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return tv_error(tv, -ESRCH, "pid %d: no such process", pid);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return tv_error(tv, -ESRCH, "pid %d: no such process", pid);
	buf[n] = 0;
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %c %*d %*d %*d %*d %*d %lu", &state, &flags) != 2)
		return tv_error(tv, -ENOENT, "pid %d: no address space", pid);
	if (flags & 0x00200000 /* PF_KTHREAD */)
		return tv_error(tv, -ENOENT, "pid %d: kernel thread (no address space)", pid);
	if (state == 'Z' || state == 'X')
		return tv_error(tv, -ENOENT, "pid %d: zombie (no address space)", pid);
	return tv_error(tv, -ENOENT, "pid %d: exiting, no address space", pid);
}

/* The name rule (taskvma.h, struct taskvma_query): the fnmatch(3)
 * pattern against the whole name, or the pattern taken literally (so that
 * "[heap]" needs no escaping), and a pattern without '/' against a file's
 * base name too ("libc.so.6", "libc*" match /usr/lib/.../libc.so.6).
 * Returns 0 on a match, as fnmatch. */
static int tv_name_match(const char *pat, const char *name)
{
	const char *base;

	if (!fnmatch(pat, name, 0) || !strcmp(pat, name))
		return 0;
	if (name[0] != '/' || strchr(pat, '/'))
		return 1;
	base = strrchr(name, '/') + 1;
	return fnmatch(pat, base, 0) && strcmp(pat, base);
}

bool tv_match(const struct taskvma_query *q, const struct taskvma_vma *v)
{
	if (v->end <= q->addr_lo)
		return false;
	if (q->addr_hi && v->start >= q->addr_hi)
		return false;
	if ((v->perms & q->perm_set) != q->perm_set || (v->perms & q->perm_clear))
		return false;
	if (q->kinds && !(q->kinds & (1u << v->kind)))
		return false;
	if ((v->flags & TASKVMA_VMA_GATE) && q->no_gate)
		return false;
	if (q->name_glob) {
		char stackbuf[512], *name = stackbuf;
		int r;

		if (v->name_len >= sizeof(stackbuf)) {
			name = malloc(v->name_len + 1);
			if (!name)
				return false;
		}
		memcpy(name, v->name, v->name_len);
		name[v->name_len] = 0;
		r = tv_name_match(q->name_glob, name);
		if (name != stackbuf)
			free(name);
		if (r)
			return false;
	}
	return true;
}

static void copy_query(struct taskvma_query *dst, const struct taskvma_query *q)
{
	memset(dst, 0, sizeof(*dst));
	if (q)
		memcpy(dst, q, q->sz < sizeof(*dst) ? q->sz : sizeof(*dst));
	dst->sz = sizeof(*dst);
}

/* The backend could not see this process, which /proc shows (the BPF task
 * iterator and tasks of another pid namespace): auto reads it another way. */
static bool cannot_see(const struct tv_walk *w, int err)
{
	return err == -ESRCH && w->invisible && !w->last_end;
}

static int walk_init(struct taskvma *tv, struct tv_walk *w, pid_t pid, const struct taskvma_query *q,
		     const struct tv_backend *be, bool bare)
{
	int err;

	memset(w, 0, sizeof(*w));
	w->bare = bare;
	w->tv = tv;
	w->be = be ? be : tv_pick(tv, q);
	w->pid = pid;
	copy_query(&w->q, q);
	if (!TV_OPTS_VALID(q, taskvma_query))
		return tv_error(tv, -EINVAL, "taskvma_query: sz %zu with unknown fields set", q->sz);
	if (pid <= 0)
		return tv_error(tv, -EINVAL, "invalid pid %d", pid);
	if (tv->walk_active)
		return tv_error(tv, -EBUSY, "another walk is active on this handle");
	tv->walk_active = true;
	w->started = true;
	err = w->be->walk_start(w);
	if (err) {
		w->err = err;
		return err;
	}
	return 0;
}

int tv_walk_init(struct taskvma *tv, struct tv_walk *w, pid_t pid, const struct taskvma_query *q,
		 const struct tv_backend *be)
{
	return walk_init(tv, w, pid, q, be, false);
}

int tv_walk_open(struct taskvma *tv, struct tv_walk *w, pid_t pid, const struct taskvma_query *q,
		 const struct tv_backend *be, bool bare)
{
	int err = walk_init(tv, w, pid, q, be, bare);

	if (cannot_see(w, err) && tv->opts.backend == TASKVMA_BACKEND_AUTO &&
	    get_fallback(tv)) {
		tv_walk_fini(w);
		tv->err_msg[0] = 0;
		err = walk_init(tv, w, pid, q, tv->fallback, bare);
	}
	return err;
}

/* Copy the name with '\n' escaped as the kernel's seq_path() does. */
size_t tv_escaped_len(const char *s, size_t len)
{
	size_t n = len;
	const char *p = s, *end = s + len;

	while ((p = memchr(p, '\n', (size_t)(end - p)))) {
		n += 3;
		p++;
	}
	return n;
}

void tv_escape_copy(char *dst, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n') {
			memcpy(dst, "\\012", 4);
			dst += 4;
		} else {
			*dst++ = s[i];
		}
	}
}

static int escape_name(struct tv_walk *w, struct taskvma_vma *v)
{
	size_t n;

	if (!memchr(v->name, '\n', v->name_len))
		return 0;
	n = tv_escaped_len(v->name, v->name_len);
	if (w->esc_cap < n + 1) {
		char *p = realloc(w->esc, n + 1);

		if (!p)
			return -ENOMEM;
		w->esc = p;
		w->esc_cap = n + 1;
	}
	tv_escape_copy(w->esc, v->name, v->name_len);
	w->esc[n] = 0;
	v->name = w->esc;
	v->name_len = (uint32_t)n;
	return 0;
}

int tv_reserve(void **buf, size_t *cap, size_t need, size_t size, size_t first)
{
	size_t c = *cap ? *cap : first;
	void *p;

	if (need <= *cap)
		return 0;
	while (c < need)
		c *= 2;
	p = realloc(*buf, c * size);
	if (!p)
		return -ENOMEM;
	*buf = p;
	*cap = c;
	return 0;
}

void tv_make_gate(struct taskvma_vma *v)
{
	memset(v, 0, sizeof(*v));
	v->start = 0xffffffffff600000ull;
	v->end = 0xffffffffff601000ull;
	v->perms = TASKVMA_PERM_EXEC;
	v->kind = TASKVMA_KIND_SPECIAL;
	v->flags = TASKVMA_VMA_GATE;
	v->name = "[vsyscall]";
	v->name_len = 10;
}

/* What every backend's record goes through: tear check, filters, escaping.
 * 1: keep it, 0: filtered out, -errno. */
int tv_accept(struct tv_walk *w, struct taskvma_vma *v)
{
	int r;

	/* VMAs come in address order; anything else is a torn walk. */
	if (v->start < w->last_end || v->end <= v->start)
		w->torn = true;
	w->last_end = v->end;
	if (!tv_match(&w->q, v))
		return 0;
	if (w->be->raw_names && v->name_len && (r = escape_name(w, v)))
		return r;
	return 1;
}

/* After the last VMA: the [vsyscall] gate line, if this process has one. */
bool tv_gate(struct tv_walk *w, struct taskvma_vma *v)
{
	if (!w->has_gate || w->gate_done || !w->tv->sys_has_vsyscall)
		return false;
	w->gate_done = true;
	tv_make_gate(v);
	return tv_match(&w->q, v);
}

/* 1 with *out, 0 at the end, -errno on failure (sticky). */
int tv_walk_next(struct tv_walk *w, const struct taskvma_vma **out)
{
	struct taskvma_vma *v = &w->cur;
	int r;

	if (w->err)
		return w->err;
	while (!w->ended) {
		r = w->be->walk_next(w, v);
		if (r == 0) {
			w->ended = true;
			break;
		}
		if (r > 0)
			r = tv_accept(w, v);
		if (r < 0) {
			w->err = r;
			return r;
		}
		if (r) {
			*out = v;
			return 1;
		}
	}
	if (tv_gate(w, v)) {
		*out = v;
		return 1;
	}
	return 0;
}

void tv_walk_fini(struct tv_walk *w)
{
	if (w->started) {
		if (w->be->walk_end)
			w->be->walk_end(w);
		w->tv->walk_active = false;
	}
	free(w->esc);
	w->esc = NULL;
	w->started = false;
}

/* ---- iterator ---- */

struct taskvma_iter {
	struct tv_walk w;
};

int taskvma_iter_new(struct taskvma *tv, struct taskvma_iter **itp, pid_t pid, uint64_t addr)
{
	struct taskvma_iter *it;
	struct taskvma_query q = { .sz = sizeof(q), .addr_lo = addr };
	int err;

	*itp = NULL;
	it = calloc(1, sizeof(*it));
	if (!it)
		return -ENOMEM;
	*itp = it;
	err = tv_walk_init(tv, &it->w, pid, &q, NULL);
	if (cannot_see(&it->w, err) && tv->opts.backend == TASKVMA_BACKEND_AUTO &&
	    get_fallback(tv)) {
		tv_walk_fini(&it->w);
		tv->err_msg[0] = 0;
		err = tv_walk_init(tv, &it->w, pid, &q, tv->fallback);
	}
	return err;
}

const struct taskvma_vma *taskvma_iter_next(struct taskvma_iter *it)
{
	const struct taskvma_vma *v;

	if (!it || tv_walk_next(&it->w, &v) <= 0)
		return NULL;
	return v;
}

int taskvma_iter_err(const struct taskvma_iter *it)
{
	if (!it)
		return -EINVAL;
	if (it->w.err)
		return it->w.err;
	return it->w.torn ? -EAGAIN : 0;
}

void taskvma_iter_destroy(struct taskvma_iter *it)
{
	if (!it)
		return;
	tv_walk_fini(&it->w);
	free(it);
}

/* ---- snapshots ---- */

int tv_vec_push(struct tv_vec *vec, const struct taskvma_vma *v)
{
	struct tv_vec_name *s;
	struct taskvma_vma *d;

	if (tv_reserve((void **)&vec->v, &vec->cap, vec->n + 1, sizeof(*vec->v), 256))
		return -ENOMEM;
	d = &vec->v[vec->n];
	*d = *v;
	if (!v->name_len) {
		d->name = NULL;	/* resolved to "" in tv_vec_to_map */
		vec->n++;
		return 0;
	}
	/* Share the text with an earlier record of the same name when the
	 * backend handed it over from the same place. */
	s = &vec->slot[((uintptr_t)v->name >> 3 ^ v->name_len) % TV_VEC_NAME_SLOTS];
	if (s->off1 && s->src == v->name && vec->v[s->off1 - 1].name_len == v->name_len &&
	    !memcmp(vec->names + (uintptr_t)vec->v[s->off1 - 1].name, v->name, v->name_len)) {
		d->name = vec->v[s->off1 - 1].name;
	} else {
		if (tv_reserve((void **)&vec->names, &vec->ncap, vec->nlen + v->name_len + 1, 1, 4096))
			return -ENOMEM;
		memcpy(vec->names + vec->nlen, v->name, v->name_len);
		vec->names[vec->nlen + v->name_len] = 0;
		/* an offset until the arena stops moving (tv_vec_to_map) */
		d->name = (const char *)(uintptr_t)vec->nlen;
		vec->nlen += v->name_len + 1;
		s->src = v->name;
		s->off1 = vec->n + 1;
	}
	vec->n++;
	return 0;
}

void tv_vec_free(struct tv_vec *vec)
{
	free(vec->v);
	free(vec->names);
	memset(vec, 0, sizeof(*vec));
}

/* A map owns the vector's arrays: handing them over costs no copy (the
 * vector starts empty again).  Or, for taskvma_snapshot_all(), the map lives
 * in a chunk of the pass's arena (below).  The wrapper is private to the
 * library. */
struct tv_map_owner {
	struct taskvma_map map;
	struct taskvma_vma *v;
	char *names;
	struct tv_chunk *chunk;	/* arena map: v, names and this wrapper are in it */
	size_t asz;		/* bytes taken from the chunk */
};

/*
 * The arena of taskvma_snapshot_all(): every map of a pass is copied into
 * large chunks (8 MiB, or one map's size).  A pass over 200 processes
 * otherwise allocates ~8 MiB in small blocks that glibc hands back to the
 * kernel when the caller frees them, and the next pass takes 2,000+ page
 * faults again (about 8 ms on this project's VM, a quarter of the walk).
 * Here a chunk is faulted in 1 MiB at a time with MADV_POPULATE_WRITE (one
 * call instead of 256 faults), and a chunk whose last map was freed is kept
 * for the next pass (up to TV_SPARE_CHUNKS, released when the last handle
 * closes) instead of being unmapped.  No transparent huge pages: with the
 * usual defrag=madvise setting a huge-page fault may stall in direct
 * compaction, which showed as passes twice as slow as others here.  A chunk
 * is reference counted (maps may be freed from any thread); a map the
 * callback does not keep is freed at once and its space reused.
 */
struct tv_chunk {
	size_t size;		/* bytes mapped, this header included */
	size_t used;
	size_t populated;	/* bytes prefaulted from the start */
	long refs;		/* maps in it, + 1 while it is the arena's current chunk */
};

#define TV_CHUNK_MIN (8u << 20)
#define TV_ARENA_MAX_MAP (1u << 20)	/* records of 16,384 VMAs */
#define TV_POPULATE_STEP (1u << 20)
#define TV_SPARE_CHUNKS 2
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

static struct tv_chunk *spare_chunks[TV_SPARE_CHUNKS];
static long open_handles;

static struct tv_chunk *chunk_new(size_t need)
{
	size_t size = (need + 64 + 4095) & ~(size_t)4095;
	struct tv_chunk *c;
	void *m;

	if (size < TV_CHUNK_MIN)
		size = TV_CHUNK_MIN;
	for (int i = 0; i < TV_SPARE_CHUNKS; i++) {
		c = __atomic_exchange_n(&spare_chunks[i], NULL, __ATOMIC_ACQ_REL);
		if (c && c->size >= size) {
			c->used = 64;
			c->refs = 1;
			return c;
		}
		if (c)
			munmap(c, c->size);
	}
	m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		 -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	c = m;
	c->size = size;
	c->used = 64;	/* the header, rounded to a cache line */
	c->populated = 4096;
	c->refs = 1;
	return c;
}

static void chunk_unref(struct tv_chunk *c)
{
	if (!c || __atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	if (__atomic_load_n(&open_handles, __ATOMIC_ACQUIRE) > 0 && c->size == TV_CHUNK_MIN) {
		for (int i = 0; i < TV_SPARE_CHUNKS; i++) {
			struct tv_chunk *none = NULL;

			if (__atomic_compare_exchange_n(&spare_chunks[i], &none, c, false,
							__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
				return;
		}
	}
	munmap(c, c->size);
}

/* Called when a handle opens or closes: spare chunks live while handles do. */
void tv_arena_handles(int delta)
{
	if (__atomic_add_fetch(&open_handles, delta, __ATOMIC_ACQ_REL) > 0)
		return;
	for (int i = 0; i < TV_SPARE_CHUNKS; i++) {
		struct tv_chunk *c = __atomic_exchange_n(&spare_chunks[i], NULL, __ATOMIC_ACQ_REL);

		if (c)
			munmap(c, c->size);
	}
}

struct tv_arena {
	struct tv_chunk *cur;
};

/* sz bytes (16-aligned) from the current chunk, or a new one. */
static void *arena_alloc(struct tv_arena *a, size_t sz, struct tv_chunk **chunk)
{
	struct tv_chunk *c;
	void *p;

	sz = (sz + 15) & ~(size_t)15;
	if (!a->cur || a->cur->used + sz > a->cur->size) {
		c = chunk_new(sz);
		if (!c)
			return NULL;
		chunk_unref(a->cur);
		a->cur = c;
	}
	c = a->cur;
	if (c->used + sz > c->populated) {
		size_t end = (c->used + sz + TV_POPULATE_STEP - 1) & ~(size_t)(TV_POPULATE_STEP - 1);

		if (end > c->size)
			end = c->size;
		/* a hint: on failure (before 5.14) pages fault in one by one */
		madvise((char *)c + c->populated, end - c->populated, MADV_POPULATE_WRITE);
		c->populated = end;
	}
	p = (char *)c + c->used;
	c->used += sz;
	__atomic_add_fetch(&c->refs, 1, __ATOMIC_ACQ_REL);
	*chunk = c;
	return p;
}

/* The vector's contents as a map in the arena; the vector keeps its buffers
 * for the next process. */
static int vec_to_arena_map(struct tv_vec *vec, struct tv_arena *a, pid_t pid, const char *comm,
			    struct taskvma_map **out)
{
	size_t hdr = (sizeof(struct tv_map_owner) + 15) & ~(size_t)15;
	size_t vsz = vec->n * sizeof(struct taskvma_vma), asz = hdr + vsz + vec->nlen + 1;
	struct tv_map_owner *o;
	struct tv_chunk *c;
	char *names;

	o = arena_alloc(a, asz, &c);
	if (!o)
		return -ENOMEM;
	memset(o, 0, sizeof(*o));
	o->chunk = c;
	o->asz = (asz + 15) & ~(size_t)15;
	o->map.pid = pid;
	snprintf(o->map.comm, sizeof(o->map.comm), "%s", comm);
	o->map.count = vec->n;
	o->map.vmas = (struct taskvma_vma *)((char *)o + hdr);
	names = (char *)o->map.vmas + vsz;
	if (vec->nlen)
		memcpy(names, vec->names, vec->nlen);
	names[vec->nlen] = 0;
	memcpy(o->map.vmas, vec->v, vsz);
	for (size_t i = 0; i < vec->n; i++)
		o->map.vmas[i].name = o->map.vmas[i].name_len ? names + (uintptr_t)o->map.vmas[i].name : "";
	vec->n = vec->nlen = 0;
	memset(vec->slot, 0, sizeof(vec->slot));
	*out = &o->map;
	return 0;
}

/* Free a map the callback did not keep: the last one taken from the current
 * chunk gives its space back. */
static void arena_map_drop(struct tv_arena *a, struct taskvma_map *map)
{
	struct tv_map_owner *o = (struct tv_map_owner *)map;

	if (o->chunk == a->cur && (char *)o + o->asz == (char *)a->cur + a->cur->used)
		a->cur->used -= o->asz;
	taskvma_map_free(map);
}

int tv_vec_to_map(struct tv_vec *vec, pid_t pid, const char *comm, struct taskvma_map **out)
{
	struct tv_map_owner *o = calloc(1, sizeof(*o));

	if (!o)
		return -ENOMEM;
	if (!vec->names && !(vec->names = malloc(1))) {
		free(o);
		return -ENOMEM;
	}
	o->map.pid = pid;
	snprintf(o->map.comm, sizeof(o->map.comm), "%s", comm);
	o->map.count = vec->n;
	o->map.vmas = vec->v;
	o->v = vec->v;
	o->names = vec->names;
	for (size_t i = 0; i < vec->n; i++)
		o->v[i].name = o->v[i].name_len ? vec->names + (uintptr_t)o->v[i].name : "";
	memset(vec, 0, sizeof(*vec));
	*out = &o->map;
	return 0;
}

void taskvma_map_free(struct taskvma_map *map)
{
	struct tv_map_owner *o = (struct tv_map_owner *)map;

	if (!map)
		return;
	if (o->chunk) {
		chunk_unref(o->chunk);	/* o lives in it: not used after this */
		return;
	}
	free(o->v);
	free(o->names);
	free(o);
}

/* A visitor that collects a map: what snapshots are made of. */
struct collect {
	struct tv_vec vec;
	char comm[16];
	int attempts;
	int err;
	bool done;
};

static int collect_begin(void *ctx, pid_t pid, const char *comm)
{
	struct collect *c = ctx;

	(void)pid;
	c->vec.n = c->vec.nlen = 0;
	memset(c->vec.slot, 0, sizeof(c->vec.slot));
	snprintf(c->comm, sizeof(c->comm), "%s", comm);
	c->attempts++;
	return 0;
}

static int collect_vma(void *ctx, const struct taskvma_vma *v)
{
	return tv_vec_push(&((struct collect *)ctx)->vec, v);
}

static int collect_end(void *ctx, pid_t pid, int err)
{
	struct collect *c = ctx;

	(void)pid;
	if (err == TASKVMA_RETRY)
		return 0;
	c->err = err;
	c->done = true;
	return 0;
}

static const struct taskvma_visitor collect_visitor = {
	.sz = sizeof(struct taskvma_visitor),
	.begin = collect_begin,
	.vma = collect_vma,
	.end = collect_end,
};

static int collect_to_map(struct taskvma *tv, struct collect *c, pid_t pid, struct tv_arena *arena,
			  struct taskvma_map **out)
{
	int err = c->err;

	*out = NULL;
	if (err && err != -EAGAIN)
		return err;
	/* a large map keeps the vector's own buffers: copying it would cost
	 * more than its page faults */
	if (arena && c->vec.n * sizeof(struct taskvma_vma) < TV_ARENA_MAX_MAP ?
		    vec_to_arena_map(&c->vec, arena, pid, c->comm, out) :
		    tv_vec_to_map(&c->vec, pid, c->comm, out))
		return -ENOMEM;
	(*out)->attempts = c->attempts;
	if (err) {
		(*out)->flags |= TASKVMA_MAP_TORN;
		tv_error(tv, err, "pid %d: map changed during each of %d walks; not complete", pid,
			 c->attempts);
	}
	return err;
}

static const struct tv_backend *get_fallback(struct taskvma *tv)
{
	static const struct tv_backend *const order[] = { &tv_backend_procmap, &tv_backend_procfs };
	char msg[sizeof(tv->err_msg)];

	if (tv->fallback)
		return tv->fallback;
	memcpy(msg, tv->err_msg, sizeof(msg));
	for (unsigned i = 0; i < 2 && !tv->fallback; i++)
		if (!order[i]->open(tv))
			tv->fallback = order[i];
	memcpy(tv->err_msg, msg, sizeof(msg));
	return tv->fallback;
}

/* One process, with retries while the map changes under the walk.
 * begin() always comes first, even for a process that is not there. */
/* FNV-1a over what a walk delivered: two walks that agree hash alike. */
static uint64_t hash_bytes(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ c[i]) * 0x100000001b3ull;
	return h;
}

static uint64_t hash_vma(uint64_t h, const struct taskvma_vma *v)
{
	uint64_t f[6] = { v->start, v->end, v->offset, v->inode,
			  (uint64_t)v->dev_major << 32 | v->dev_minor,
			  (uint64_t)v->perms << 32 | v->name_len };

	h = hash_bytes(h, f, sizeof(f));
	return hash_bytes(h, v->name, v->name_len);
}

/*
 * One process, with retries while the map changes under the walk.
 * begin() always comes first, even for a process that is not there.
 *
 * Consistency.  The BPF backend sees the mm's change counter (mm_lock_seq)
 * and knows a clean walk from a torn one.  PROCMAP_QUERY (one ioctl per VMA)
 * and the /proc text (per-VMA locks since 6.17, a page of text per lock
 * before) have no such counter, and a walk that crossed a change (a VMA
 * moved by mremap, split by mprotect) can miss it or show it twice while
 * every address is still in order.  Their walks are accepted only when two
 * consecutive walks agree (same records, hashed): the first walk is only
 * hashed, the next ones are delivered and compared with the one before.
 * The cost is a second read of each map (measured in make bench).  Two
 * agreeing walks are evidence, not proof (docs/design.md).
 */
int taskvma_visit(struct taskvma *tv, pid_t pid, const struct taskvma_query *q,
		  const struct taskvma_visitor *vis, void *ctx)
{
	const struct tv_backend *be = tv_pick(tv, q);
	/* Our own map changes with our own allocations between two walks (the
	 * sanitizers' allocator maps memory for every few allocations: every
	 * pair of walks of ourselves disagreed), and no other process changes
	 * it: one walk of ourselves is taken as it is. */
	bool verify = !be->change_counter && pid != getpid(), have_prev = false;
	uint64_t prev = 0;
	int err = 0, r;

	tv->err_msg[0] = 0;
	if (!vis || !TV_OPTS_VALID(vis, taskvma_visitor))
		return tv_error(tv, -EINVAL, "taskvma_visitor: NULL, or unknown fields set");
	for (int attempt = 1;; attempt++) {
		struct tv_walk w;
		const struct taskvma_vma *v;
		bool last = attempt >= tv->opts.busy_retries;
		/* the first walk of a backend without a change counter: hashed only */
		bool silent = verify && !have_prev;
		uint64_t h = 0xcbf29ce484222325ull;

		err = tv_walk_init(tv, &w, pid, q, be);
		r = !silent && vis->begin ? vis->begin(ctx, pid, w.comm) : 0;
		while (!err && !r && (err = tv_walk_next(&w, &v)) > 0) {
			err = 0;
			if (verify)
				h = hash_vma(h, v);
			r = !silent && vis->vma ? vis->vma(ctx, v) : 0;
		}
		if (!err && w.torn)
			err = -EAGAIN;
		if (!r && cannot_see(&w, err)) {
			tv_walk_fini(&w);
			if (tv->opts.backend == TASKVMA_BACKEND_AUTO && get_fallback(tv)) {
				tv_log(tv, TASKVMA_LOG_INFO,
				       "pid %d: not visible to backend %s; using %s", pid, w.be->name,
				       tv->fallback->name);
				be = tv->fallback;
				verify = true;
				tv->err_msg[0] = 0;
				attempt--;
				if (vis->end && (r = vis->end(ctx, pid, TASKVMA_RETRY)))
					return r;
				continue;
			}
			tv_error(tv, -ESRCH, "pid %d: not visible to backend %s (another pid namespace?)",
				 pid, w.be->name);
			return vis->end ? vis->end(ctx, pid, -ESRCH) : 0;
		}
		tv_walk_fini(&w);
		if (r)
			return r;
		if (verify && !err && (!have_prev || h != prev)) {
			/* not confirmed yet: walk again and compare */
			bool first = !have_prev;

			prev = h;
			have_prev = true;
			if (!first || last)
				tv_log(tv, TASKVMA_LOG_INFO, "pid %d: two walks disagree, retrying (%d)",
				       pid, attempt);
			if (!last) {
				if (!silent && vis->end && (r = vis->end(ctx, pid, TASKVMA_RETRY)))
					return r;
				continue;
			}
			err = -EAGAIN;
		}
		if ((err == -EAGAIN || err == -EBUSY) && !last) {
			tv_log(tv, TASKVMA_LOG_INFO, "pid %d: %s, retrying (%d)", pid,
			       err == -EBUSY ? "address space busy" : "map changed during the walk",
			       attempt);
			if (!silent && vis->end && (r = vis->end(ctx, pid, TASKVMA_RETRY)))
				return r;
			have_prev = false;	/* a torn walk confirms nothing */
			if (err == -EBUSY)
				usleep(1000 * attempt);
			continue;
		}
		if (err == -EAGAIN)
			tv_error(tv, err, "pid %d: map changed during each of %d walks; not complete",
				 pid, attempt);
		else if (err && !tv->err_msg[0])
			tv_error(tv, err, "pid %d: %s", pid, taskvma_strerror(err));
		/* a failure in the hashed-only walk: begin() was not said yet */
		if (silent && vis->begin && (r = vis->begin(ctx, pid, w.comm)))
			return r;
		return vis->end ? vis->end(ctx, pid, err) : 0;
	}
}

int taskvma_snapshot(struct taskvma *tv, pid_t pid, const struct taskvma_query *q,
		     struct taskvma_map **out)
{
	struct collect c = {};
	char msg[sizeof(tv->err_msg)];
	int err;

	err = taskvma_visit(tv, pid, q, &collect_visitor, &c);
	if (!err)
		err = collect_to_map(tv, &c, pid, NULL, out);
	else
		*out = NULL;
	memcpy(msg, tv->err_msg, sizeof(msg));
	tv_vec_free(&c.vec);
	memcpy(tv->err_msg, msg, sizeof(msg));
	return err;
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

/* Every numeric /proc entry, sorted: the processes (thread-group leaders). */
static int list_pids(struct taskvma *tv, pid_t **out, size_t *n)
{
	DIR *d = opendir(tv->proc_root);
	struct dirent *de;
	pid_t *v = NULL;
	size_t cap = 0, cnt = 0;

	if (!d)
		return tv_error(tv, -errno, "%s: %s", tv->proc_root, strerror(errno));
	while ((de = readdir(d))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (!isdigit((unsigned char)de->d_name[0]) || *end || pid <= 0)
			continue;
		if (cnt == cap) {
			pid_t *p = realloc(v, (cap = cap ? cap * 2 : 512) * sizeof(*v));

			if (!p) {
				free(v);
				closedir(d);
				return -ENOMEM;
			}
			v = p;
		}
		v[cnt++] = (pid_t)pid;
	}
	closedir(d);
	qsort(v, cnt, sizeof(*v), cmp_pid);
	*out = v;
	*n = cnt;
	return 0;
}

/* Count a process's outcome in visit_all's stats.  Returns true when the
 * outcome is delivered (vanished processes and kernel threads are not). */
bool tv_count(struct taskvma_all_stats *st, int err)
{
	switch (err) {
	case -ESRCH:
		st->vanished++;
		return false;
	case -ENOENT:
		/* kernel threads (and zombies) have no map: not an error in --all */
		st->kernel_threads++;
		return false;
	case -EACCES:
	case -EPERM:
		st->denied++;
		break;
	case -EAGAIN:
		st->torn++;
		break;
	}
	return true;
}

/* Wraps the caller's visitor: counts, and hides what must not be delivered
 * (begin() of a process that then turns out vanished is held back). */
struct all_ctx {
	const struct taskvma_visitor *vis;
	void *ctx;
	struct taskvma_all_stats *st;
	pid_t pending;		/* begin() seen, not yet forwarded */
	char comm[16];
	bool forwarded;
	uint64_t nvma;
};

static int all_flush_begin(struct all_ctx *a)
{
	if (a->forwarded)
		return 0;
	a->forwarded = true;
	return a->vis->begin ? a->vis->begin(a->ctx, a->pending, a->comm) : 0;
}

static int all_begin(void *ctx, pid_t pid, const char *comm)
{
	struct all_ctx *a = ctx;

	a->pending = pid;
	a->forwarded = false;
	a->nvma = 0;
	snprintf(a->comm, sizeof(a->comm), "%s", comm);
	return 0;
}

static int all_vma(void *ctx, const struct taskvma_vma *v)
{
	struct all_ctx *a = ctx;
	int r = all_flush_begin(a);

	a->nvma++;
	return r ? r : a->vis->vma ? a->vis->vma(a->ctx, v) : 0;
}

static int all_end(void *ctx, pid_t pid, int err)
{
	struct all_ctx *a = ctx;
	int r;

	if (err == TASKVMA_RETRY) {
		if (!a->forwarded)
			return 0;
		a->forwarded = false;
		return a->vis->end ? a->vis->end(a->ctx, pid, err) : 0;
	}
	if (!tv_count(a->st, err)) {
		if (a->vis->sz >= offsetof(struct taskvma_visitor, skip) + sizeof(a->vis->skip) &&
		    a->vis->skip)
			a->vis->skip(a->ctx, pid, err);
		/* vanished: tell the consumer to drop what it got, if anything */
		r = a->forwarded && a->vis->end ? a->vis->end(a->ctx, pid, TASKVMA_RETRY) : 0;
		a->forwarded = false;
		return r;
	}
	if (!err) {
		a->st->processes++;
		a->st->vmas += a->nvma;
	}
	if ((r = all_flush_begin(a)))
		return r;
	a->forwarded = false;
	return a->vis->end ? a->vis->end(a->ctx, pid, err) : 0;
}

bool tv_has_pass(const struct taskvma *tv)
{
	return tv->be->pass_start && !tv->ranged;
}

/* Walk single processes in the middle of a pass: the backend keeps what it
 * has not delivered, the handle is free meanwhile. */
static int visit_held(struct taskvma *tv, pid_t pid, const struct taskvma_query *q,
		      const struct taskvma_visitor *vis, void *ctx)
{
	int r = tv->be->pass_hold(tv);

	if (r)
		return r;
	tv->walk_active = false;
	r = taskvma_visit(tv, pid, q, vis, ctx);
	tv->walk_active = true;
	return r;
}

/* Every process in one kernel pass of the backend.  The engine drives: the
 * backend streams BEGIN / VMA / END items; here each record goes through
 * the pipeline (tear check by address order, filters, escaping), the gate
 * line is added, a changed map is read again on its own at once (so that
 * processes still come in pid order), and the processes /proc listed that
 * the pass did not show (invisible to it, or gone) are visited on their own,
 * in pid order. */
int tv_visit_pass(struct taskvma *tv, const struct taskvma_query *query, const pid_t *pids,
		  size_t npids, const struct taskvma_visitor *vis, void *ctx)
{
	struct taskvma_query qq, *q = &qq;
	struct tv_item it;
	struct tv_walk w = { 0 };
	struct taskvma_vma gate;
	size_t next = 0;
	int err, r = 0, acc, status;

	copy_query(q, query);
	if (tv->walk_active)
		return tv_error(tv, -EBUSY, "another walk is active on this handle");
	tv->walk_active = true;
	err = tv->be->pass_start(tv, q);
	while (!err && !r && (err = tv->be->pass_next(tv, &it)) > 0) {
		err = 0;
		switch (it.type) {
		case TV_ITEM_BEGIN:
			while (!r && next < npids && pids[next] < it.pid)
				r = visit_held(tv, pids[next++], q, vis, ctx);
			while (next < npids && pids[next] <= it.pid)
				next++;
			free(w.esc);
			memset(&w, 0, sizeof(w));
			w.tv = tv;
			w.be = tv->be;
			w.pid = it.pid;
			copy_query(&w.q, q);
			w.has_gate = it.has_gate;
			memcpy(w.comm, it.comm, sizeof(w.comm));
			if (!r && vis->begin)
				r = vis->begin(ctx, w.pid, w.comm);
			break;
		case TV_ITEM_VMA:
			if (w.err)
				break;
			acc = tv_accept(&w, &it.v);
			if (acc < 0)
				w.err = acc;
			else if (acc && vis->vma)
				r = vis->vma(ctx, &it.v);
			break;
		case TV_ITEM_END:
			status = it.status ? it.status : w.err ? w.err : w.torn ? -EAGAIN : 0;
			if (status == -EAGAIN || status == -EBUSY) {
				/* changed under the walk: drop it, read it again */
				if (vis->end)
					r = vis->end(ctx, w.pid, TASKVMA_RETRY);
				if (!r)
					r = visit_held(tv, w.pid, q, vis, ctx);
				break;
			}
			if (!status && tv_gate(&w, &gate) && vis->vma)
				r = vis->vma(ctx, &gate);
			if (!r && vis->end)
				r = vis->end(ctx, w.pid, status);
			break;
		}
	}
	tv->be->pass_end(tv);
	tv->walk_active = false;
	free(w.esc);
	/* listed after the last process the pass showed */
	while (!err && !r && next < npids)
		r = taskvma_visit(tv, pids[next++], q, vis, ctx);
	return err < 0 ? err : r;
}

int taskvma_visit_all(struct taskvma *tv, const struct taskvma_query *q,
		      const struct taskvma_visitor *vis, void *ctx, struct taskvma_all_stats *stats)
{
	struct taskvma_all_stats st = { .sz = sizeof(st) };
	struct all_ctx a = { .vis = vis, .ctx = ctx, .st = &st };
	static const struct taskvma_visitor wrap = {
		.sz = sizeof(struct taskvma_visitor),
		.begin = all_begin,
		.vma = all_vma,
		.end = all_end,
	};
	pid_t *pids = NULL;
	size_t n = 0;

	if (!vis || !TV_OPTS_VALID(vis, taskvma_visitor) || !TV_OPTS_VALID(q, taskvma_query))
		return tv_error(tv, -EINVAL, "taskvma_visitor or taskvma_query: unknown fields set");
	int err = 0;

	/* The processes are those of /proc when the walk starts: a one-pass
	 * backend shows most of them and visits the rest (invisible to it, or
	 * gone) on its own, in pid order; others visit each in turn. */
	err = list_pids(tv, &pids, &n);
	if (!err && tv_has_pass(tv))
		err = tv_visit_pass(tv, q, pids, n, &wrap, &a);
	else
		for (size_t i = 0; !err && i < n; i++)
			err = taskvma_visit(tv, pids[i], q, &wrap, &a);
	free(pids);
	if (stats) {
		size_t sz = stats->sz < sizeof(st) ? stats->sz : sizeof(st);

		memcpy((char *)stats + sizeof(stats->sz), (char *)&st + sizeof(st.sz),
		       sz > sizeof(st.sz) ? sz - sizeof(st.sz) : 0);
	}
	return err;
}

/* snapshot_all = visit_all + collect, one map at a time. */
struct snap_all {
	struct collect c;
	struct tv_arena arena;
	taskvma_map_cb cb;
	void *ctx;
	struct taskvma *tv;
};

static int snap_begin(void *ctx, pid_t pid, const char *comm)
{
	return collect_begin(&((struct snap_all *)ctx)->c, pid, comm);
}

static int snap_vma(void *ctx, const struct taskvma_vma *v)
{
	return collect_vma(&((struct snap_all *)ctx)->c, v);
}

static int snap_end(void *ctx, pid_t pid, int err)
{
	struct snap_all *s = ctx;
	struct taskvma_map *m = NULL;
	int r;

	if (err == TASKVMA_RETRY)
		return 0;
	s->c.err = err;
	err = collect_to_map(s->tv, &s->c, pid, &s->arena, &m);
	r = s->cb(s->ctx, pid, err, m);
	if (r == TASKVMA_KEEP && m)
		r = 0;	/* the caller owns it now */
	else if (m)
		arena_map_drop(&s->arena, m);
	if (r == TASKVMA_KEEP)
		r = 0;
	s->c.attempts = 0;
	return r;
}

int taskvma_snapshot_all(struct taskvma *tv, const struct taskvma_query *q, taskvma_map_cb cb,
			 void *ctx, struct taskvma_all_stats *stats)
{
	static const struct taskvma_visitor vis = {
		.sz = sizeof(struct taskvma_visitor),
		.begin = snap_begin,
		.vma = snap_vma,
		.end = snap_end,
	};
	struct snap_all s = { .cb = cb, .ctx = ctx, .tv = tv };
	int err = taskvma_visit_all(tv, q, &vis, &s, stats);

	tv_vec_free(&s.c.vec);
	chunk_unref(s.arena.cur);	/* unmapped now unless the caller kept maps */
	return err;
}
