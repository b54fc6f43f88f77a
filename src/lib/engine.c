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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "internal.h"

#define DEFAULT_RETRIES 8

void tv_log(struct taskvma *tv, enum taskvma_log_level lvl, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	if (!tv->opts.log || (int)lvl > tv->opts.log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	tv->opts.log(lvl, buf, tv->opts.log_ctx);
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

/* Does this kernel print a [vsyscall] gate line?  Our own map tells. */
static bool detect_vsyscall(struct taskvma *tv)
{
	char path[160], buf[4096];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "%s/self/maps", tv->proc_root);
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
	if (opts && opts->sz < offsetof(struct taskvma_opts, backend) + sizeof(opts->backend))
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
	tv->sys_has_vsyscall = detect_vsyscall(tv);

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
		/* BPF first, then PROCMAP_QUERY, then text. */
		static const enum taskvma_backend order[] = {
			TASKVMA_BACKEND_BPF, TASKVMA_BACKEND_PROCMAP, TASKVMA_BACKEND_PROCFS,
		};
		char why[256] = "";

		for (unsigned i = 0; i < 3; i++) {
			tv->kind = order[i];
			tv->be = backend_ops(tv->kind);
			tv->err_msg[0] = 0;
			err = tv->be->open(tv);
			if (!err)
				break;
			tv_log(tv, TASKVMA_LOG_INFO, "backend %s unavailable: %s", tv->be->name,
			       tv->err_msg);
			if (!why[0])
				snprintf(why, sizeof(why), "%s unavailable: %.200s", tv->be->name, tv->err_msg);
		}
		if (err) {
			free(tv);
			return err;
		}
		if (why[0])
			snprintf(tv->reason, sizeof(tv->reason), "auto: %.240s", why);
		else
			snprintf(tv->reason, sizeof(tv->reason), "auto: BPF iterator loaded");
		tv_log(tv, TASKVMA_LOG_INFO, "using backend %s (%s)", tv->be->name, tv->reason);
	}
	tv->err_msg[0] = 0;
	*out = tv;
	return 0;
}

void taskvma_close(struct taskvma *tv)
{
	if (!tv)
		return;
	if (tv->be && tv->be->close)
		tv->be->close(tv);
	free(tv);
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
		r = fnmatch(q->name_glob, name, 0);
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

int tv_walk_init(struct taskvma *tv, struct tv_walk *w, pid_t pid, const struct taskvma_query *q)
{
	int err;

	memset(w, 0, sizeof(*w));
	w->tv = tv;
	w->pid = pid;
	copy_query(&w->q, q);
	if (pid <= 0)
		return tv_error(tv, -EINVAL, "invalid pid %d", pid);
	if (tv->walk_active)
		return tv_error(tv, -EBUSY, "another walk is active on this handle");
	tv->walk_active = true;
	w->started = true;
	err = tv->be->walk_start(w);
	if (err) {
		w->err = err;
		return err;
	}
	return 0;
}

/* Copy the name with '\n' escaped as the kernel's seq_path() does. */
static int escape_name(struct tv_walk *w, struct taskvma_vma *v)
{
	size_t extra = 0, n = 0;

	for (uint32_t i = 0; i < v->name_len; i++)
		if (v->name[i] == '\n')
			extra += 3;
	if (!extra)
		return 0;
	if (w->esc_cap < v->name_len + extra + 1) {
		char *p = realloc(w->esc, v->name_len + extra + 1);

		if (!p)
			return -ENOMEM;
		w->esc = p;
		w->esc_cap = v->name_len + extra + 1;
	}
	for (uint32_t i = 0; i < v->name_len; i++) {
		if (v->name[i] == '\n') {
			memcpy(w->esc + n, "\\012", 4);
			n += 4;
		} else {
			w->esc[n++] = v->name[i];
		}
	}
	w->esc[n] = 0;
	v->name = w->esc;
	v->name_len = (uint32_t)n;
	return 0;
}

static void make_gate(struct taskvma_vma *v)
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
	if (w->tv->be->raw_names && v->name_len && (r = escape_name(w, v)))
		return r;
	return 1;
}

/* After the last VMA: the [vsyscall] gate line, if this process has one. */
bool tv_gate(struct tv_walk *w, struct taskvma_vma *v)
{
	if (!w->has_gate || w->gate_done || !w->tv->sys_has_vsyscall)
		return false;
	w->gate_done = true;
	make_gate(v);
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
		r = w->tv->be->walk_next(w, v);
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
		if (w->tv->be->walk_end)
			w->tv->be->walk_end(w);
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
	err = tv_walk_init(tv, &it->w, pid, &q);
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
	if (vec->n == vec->cap) {
		size_t cap = vec->cap ? vec->cap * 2 : 256;
		struct taskvma_vma *p = realloc(vec->v, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		vec->v = p;
		vec->cap = cap;
	}
	/* Records of one file usually follow each other: share its name. */
	struct taskvma_vma *d = &vec->v[vec->n];
	*d = *v;
	if (vec->n && v->name_len && vec->v[vec->n - 1].name_len == v->name_len &&
	    !memcmp(vec->names + (uintptr_t)vec->v[vec->n - 1].name, v->name, v->name_len)) {
		d->name = vec->v[vec->n - 1].name;
	} else {
		if (vec->nlen + v->name_len + 1 > vec->ncap) {
			size_t cap = vec->ncap ? vec->ncap * 2 : 4096;
			char *p;

			while (cap < vec->nlen + v->name_len + 1)
				cap *= 2;
			p = realloc(vec->names, cap);
			if (!p)
				return -ENOMEM;
			vec->names = p;
			vec->ncap = cap;
		}
		memcpy(vec->names + vec->nlen, v->name, v->name_len);
		vec->names[vec->nlen + v->name_len] = 0;
		/* an offset until the arena stops moving (tv_vec_to_map) */
		d->name = (const char *)(uintptr_t)vec->nlen;
		vec->nlen += v->name_len + 1;
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

/* One allocation holds the map, its records and their names. */
int tv_vec_to_map(struct tv_vec *vec, pid_t pid, const char *comm, struct taskvma_map **out)
{
	size_t hdr = (sizeof(struct taskvma_map) + 15) & ~(size_t)15;
	size_t recs = vec->n * sizeof(struct taskvma_vma);
	struct taskvma_map *m = malloc(hdr + recs + vec->nlen + 1);
	char *names;

	if (!m)
		return -ENOMEM;
	memset(m, 0, sizeof(*m));
	m->pid = pid;
	snprintf(m->comm, sizeof(m->comm), "%s", comm);
	m->count = vec->n;
	m->vmas = (struct taskvma_vma *)((char *)m + hdr);
	names = (char *)m->vmas + recs;
	if (vec->n)
		memcpy(m->vmas, vec->v, recs);
	if (vec->nlen)
		memcpy(names, vec->names, vec->nlen);
	names[vec->nlen] = 0;
	for (size_t i = 0; i < vec->n; i++)
		m->vmas[i].name = names + (uintptr_t)m->vmas[i].name;
	*out = m;
	return 0;
}

void taskvma_map_free(struct taskvma_map *map)
{
	free(map);
}

/* One attempt: walk and collect.  Returns 0, -EAGAIN (torn) or -errno. */
static int snapshot_once(struct taskvma *tv, pid_t pid, const struct taskvma_query *q,
			 struct tv_vec *vec, char comm[16])
{
	struct tv_walk w;
	const struct taskvma_vma *v;
	int err, r;

	vec->n = 0;
	vec->nlen = 0;
	err = tv_walk_init(tv, &w, pid, q);
	while (!err && (r = tv_walk_next(&w, &v)) > 0)
		err = tv_vec_push(vec, v);
	if (!err)
		err = w.err;
	if (!err && w.torn)
		err = -EAGAIN;
	memcpy(comm, w.comm, 16);
	tv_walk_fini(&w);
	return err;
}

int taskvma_snapshot(struct taskvma *tv, pid_t pid, const struct taskvma_query *q,
		     struct taskvma_map **out)
{
	struct tv_vec vec = {};
	char comm[16] = "";
	int err = 0, attempt;

	*out = NULL;
	tv->err_msg[0] = 0;
	for (attempt = 1; attempt <= tv->opts.busy_retries; attempt++) {
		err = snapshot_once(tv, pid, q, &vec, comm);
		if (err != -EAGAIN && err != -EBUSY)
			break;
		tv_log(tv, TASKVMA_LOG_INFO, "pid %d: %s, retrying (%d)", pid,
		       err == -EBUSY ? "busy" : "map changed during the walk", attempt);
		if (err == -EBUSY)
			usleep(1000 * attempt);
	}
	if (attempt > tv->opts.busy_retries)
		attempt = tv->opts.busy_retries;
	if (err == -EAGAIN || !err) {
		int e2 = tv_vec_to_map(&vec, pid, comm, out);

		if (e2) {
			err = e2;
		} else {
			(*out)->attempts = attempt;
			if (err) {
				(*out)->flags |= TASKVMA_MAP_TORN;
				tv_error(tv, err, "pid %d: map changed during each of %d walks; not complete",
					 pid, attempt);
			}
		}
	} else if (!tv->err_msg[0]) {
		tv_error(tv, err, "pid %d: %s", pid, taskvma_strerror(err));
	}
	tv_vec_free(&vec);
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

/* Deliver one process (or its error) to the callback and count it. */
int tv_deliver(struct taskvma_all_stats *st, taskvma_map_cb cb, void *ctx, pid_t pid, int err,
	       const struct taskvma_map *map)
{
	if (err == -ESRCH) {
		st->vanished++;
		return 0;
	}
	if (err == -ENOENT) {
		/* kernel threads (and zombies) have no map: not an error in --all */
		st->kernel_threads++;
		return 0;
	}
	if (err == -EACCES || err == -EPERM)
		st->denied++;
	if (map) {
		st->processes++;
		st->vmas += map->count;
		if (map->flags & TASKVMA_MAP_TORN)
			st->torn++;
	}
	return cb(ctx, pid, map ? (map->flags & TASKVMA_MAP_TORN ? -EAGAIN : 0) : err, map);
}

int taskvma_snapshot_all(struct taskvma *tv, const struct taskvma_query *q, taskvma_map_cb cb,
			 void *ctx, struct taskvma_all_stats *stats)
{
	struct taskvma_all_stats st = { .sz = sizeof(st) };
	pid_t *pids = NULL;
	size_t n = 0;
	int err = 0;

	if (tv->be->all) {
		err = tv->be->all(tv, q, cb, ctx, &st);
	} else {
		err = list_pids(tv, &pids, &n);
		for (size_t i = 0; !err && i < n; i++) {
			struct taskvma_map *m = NULL;
			int e = taskvma_snapshot(tv, pids[i], q, &m);

			err = tv_deliver(&st, cb, ctx, pids[i], m ? 0 : e, m);
			taskvma_map_free(m);
		}
		free(pids);
	}
	if (stats) {
		size_t sz = stats->sz < sizeof(st) ? stats->sz : sizeof(st);

		memcpy((char *)stats + sizeof(stats->sz), (char *)&st + sizeof(st.sz),
		       sz > sizeof(st.sz) ? sz - sizeof(st.sz) : 0);
	}
	return err;
}
