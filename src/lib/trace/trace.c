// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * taskvma_trace_*: capture a process's map when an event fires.  Runs
 * src/bpf/trace.bpf.c and reassembles its ring buffer records (protocol in
 * src/bpf/trace.h) into struct taskvma_vma arrays with /proc's exact names.
 *
 * Memory, bounded:
 *   kernel: the ring buffer (opts.ringbuf_size, 4 MiB by default), one
 *     per-CPU scratch record (~4.5 KiB per CPU), the once-per-process hash
 *     (opts.max_processes entries of 8+1 bytes, 65536 by default);
 *   here: the captures being reassembled (at most one per CPU at a time, each
 *     at most what the ring buffer holds), and the set of distinct pids seen
 *     (4 bytes per process, for the summary).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "internal.h"
#include "taskvma_trace.h"
#include "trace.h"
#include "features_btf.h"
#include "kernel_facts.h"
#include "trace.skel.h"
#include "trace_tw7.skel.h"
#include "trace_notw.skel.h"
#include "trace_syscalls.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

#define TR_DEFAULT_RINGBUF (4u << 20)
#define TR_DEFAULT_PROCS 65536u
#define TR_ERR_MAX 256

/* A capture being reassembled: its tr_event came, its VMAs are coming. */
struct pend {
	struct pend *next;
	struct tr_event ev;
	struct taskvma_vma *v;
	size_t *name_off;	/* name of v[i]: names + name_off[i] */
	size_t n, cap;
	char *names;
	size_t nlen, ncap;
	size_t prev_off, prev_len; /* last file name, for TR_NAME_SAME */
	bool name_err;
};

struct taskvma_trace {
	struct taskvma_trace_opts o;
	struct trace_bpf *skel;
	struct ring_buffer *rb;
	int epfd;
	int pidfd;
	bool attached;
	bool target_gone;
	bool has_vsyscall;	/* this kernel prints a [vsyscall] line */
	int64_t rt_offset;	/* CLOCK_REALTIME - CLOCK_MONOTONIC, ns */
	struct pend *pend;
	int cb_ret;		/* callback's non-zero return, pending */
	int delivered;		/* by the current poll */
	struct taskvma_trace_stats st;
	uint64_t stray;		/* VMA records of no known capture (bug) */
	pid_t *pids;		/* open-addressing set of distinct pids */
	size_t pids_cap, pids_n;
	char err[TR_ERR_MAX];
};

/* ---- logging and errors -------------------------------------------------- */

static void tlog(struct taskvma_trace *tr, enum taskvma_log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void tlog(struct taskvma_trace *tr, enum taskvma_log_level lvl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tv_logv(tr->o.log, tr->o.log_ctx, tr->o.log_level, lvl, fmt, ap);
	va_end(ap);
}

static int terr(struct taskvma_trace *tr, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int terr(struct taskvma_trace *tr, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tr->err, sizeof(tr->err), fmt, ap);
	va_end(ap);
	return err;
}

/* ---- tables ---------------------------------------------------------------- */

const char *taskvma_trace_event_name(enum taskvma_trace_event ev)
{
	switch (ev) {
	case TASKVMA_TRACE_SYSCALL: return "syscall";
	case TASKVMA_TRACE_EXEC: return "exec";
	case TASKVMA_TRACE_EXIT: return "exit";
	case TASKVMA_TRACE_SIGNAL: return "signal";
	}
	return NULL;
}

int taskvma_syscall_nr(const char *name)
{
	for (size_t i = 0; i < sizeof(tv_syscalls) / sizeof(tv_syscalls[0]); i++)
		if (!strcmp(tv_syscalls[i].name, name))
			return tv_syscalls[i].nr;
	return -1;
}

const char *taskvma_syscall_name(int nr)
{
	for (size_t i = 0; i < sizeof(tv_syscalls) / sizeof(tv_syscalls[0]); i++)
		if (tv_syscalls[i].nr == nr)
			return tv_syscalls[i].name;
	return NULL;
}

static const char *const sig_names[32] = {
	[1] = "HUP", [2] = "INT", [3] = "QUIT", [4] = "ILL", [5] = "TRAP", [6] = "ABRT",
	[7] = "BUS", [8] = "FPE", [9] = "KILL", [10] = "USR1", [11] = "SEGV", [12] = "USR2",
	[13] = "PIPE", [14] = "ALRM", [15] = "TERM", [16] = "STKFLT", [17] = "CHLD",
	[18] = "CONT", [19] = "STOP", [20] = "TSTP", [21] = "TTIN", [22] = "TTOU",
	[23] = "URG", [24] = "XCPU", [25] = "XFSZ", [26] = "VTALRM", [27] = "PROF",
	[28] = "WINCH", [29] = "IO", [30] = "PWR", [31] = "SYS",
};

static int parse_uint(const char *s, int max)
{
	long v = 0;

	if (!*s || strlen(s) > 3)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v <= max ? (int)v : -1;
}

int taskvma_signal_parse(const char *s)
{
	char up[16];
	size_t n = strlen(s), i;
	int v;

	if (!n || n >= sizeof(up))
		return -1;
	if ((v = parse_uint(s, 64)) >= 0)
		return v >= 1 ? v : -1;
	for (i = 0; i <= n; i++)
		up[i] = (s[i] >= 'a' && s[i] <= 'z') ? s[i] - 32 : s[i];
	s = up;
	if (!strncmp(s, "SIG", 3))
		s += 3;
	for (i = 1; i < 32; i++)
		if (!strcmp(s, sig_names[i]))
			return (int)i;
	if (!strcmp(s, "IOT"))
		return 6;
	if (!strcmp(s, "POLL"))
		return 29;
	if (!strncmp(s, "RTMIN", 5)) {
		int min = SIGRTMIN, max = SIGRTMAX;

		if (!s[5])
			return min;
		if (s[5] == '+' && (v = parse_uint(s + 6, 64)) >= 0 && min + v <= max)
			return min + v;
		return -1;
	}
	if (!strncmp(s, "RTMAX", 5)) {
		int min = SIGRTMIN, max = SIGRTMAX;

		if (!s[5])
			return max;
		if (s[5] == '-' && (v = parse_uint(s + 6, 64)) >= 0 && max - v >= min)
			return max - v;
	}
	return -1;
}

const char *taskvma_signal_name(int sig, char buf[16])
{
	if (sig > 0 && sig < 32) {
		snprintf(buf, 16, "SIG%s", sig_names[sig]);
		return buf;
	}
	if (sig >= SIGRTMIN && sig <= SIGRTMAX) {
		if (sig == SIGRTMIN)
			snprintf(buf, 16, "SIGRTMIN");
		else
			snprintf(buf, 16, "SIGRTMIN+%d", sig - SIGRTMIN);
		return buf;
	}
	return NULL;
}

/* ---- setup helpers ------------------------------------------------------------- */

/* The process a pid belongs to (a thread id gives its process). */
static int resolve_pid(struct taskvma_trace *tr, pid_t pid, pid_t *tgid)
{
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return terr(tr, errno == ENOENT ? -ESRCH : -errno, "pid %d: %s", (int)pid,
			    errno == ENOENT ? "no such process" : strerror(errno));
	*tgid = 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "Tgid:", 5)) {
			*tgid = (pid_t)strtol(line + 5, NULL, 10);
			break;
		}
	fclose(f);
	if (*tgid <= 0)
		return terr(tr, -ESRCH, "pid %d: no such process", (int)pid);
	return 0;
}

static int path_depth(const char *p)
{
	int n = 0;

	while (*p) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		if (!strcmp(p, ".") || !strncmp(p, "./", 2)) {
			p++;
			continue;
		}
		n++;
		while (*p && *p != '/')
			p++;
	}
	return n;
}

/* mountinfo field unescaping (\040 etc.) in place */
static void unoctal(char *s)
{
	char *d = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*d++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
			s += 3;
		} else {
			*d++ = *s;
		}
	}
	*d = 0;
}

#define terr(tr, err, ...) (snprintf(msg, len, __VA_ARGS__), (err))
int tv_resolve_cgroup(const char *path, uint64_t *id, int *level, char *msg, size_t len)
{
	char line[4096], best_mnt[PATH_MAX] = "", best_root[PATH_MAX] = "", cand[PATH_MAX + 8];
	char real[PATH_MAX];
	struct statfs sfs;
	struct stat stb;
	size_t best_len = 0;
	bool any = false;
	FILE *f;

	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return terr(tr, -errno, "cannot read /proc/self/mountinfo: %s", strerror(errno));
	/* candidate mounts: 'ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS... - cgroup2 ...' */
	real[0] = 0;
	if (path[0] == '/' && !realpath(path, real))
		real[0] = 0;
	while (fgets(line, sizeof(line), f)) {
		char root[PATH_MAX], mnt[PATH_MAX], *dash = strstr(line, " - ");
		size_t ml;

		if (!dash || strncmp(dash + 3, "cgroup2 ", 8))
			continue;
		if (sscanf(line, "%*s %*s %*s %4095s %4095s", root, mnt) != 2)
			continue;
		unoctal(root);
		unoctal(mnt);
		any = true;
		ml = strlen(mnt);
		if (real[0]) {
			/* absolute: the longest cgroup2 mount that contains it */
			if (strncmp(real, mnt, ml) || (real[ml] != '/' && real[ml] && ml > 1))
				continue;
			if (ml < best_len)
				continue;
		} else if (best_mnt[0]) {
			continue;
		} else {
			snprintf(cand, sizeof(cand), "%s/%s", mnt, path);
			if (stat(cand, &stb) || !S_ISDIR(stb.st_mode))
				continue;
		}
		best_len = ml;
		snprintf(best_mnt, sizeof(best_mnt), "%s", mnt);
		snprintf(best_root, sizeof(best_root), "%s", root);
	}
	fclose(f);
	if (!any)
		return terr(tr, -EOPNOTSUPP, "cgroup '%s': no cgroup v2 hierarchy is mounted", path);
	if (!best_mnt[0])
		return terr(tr, -ENOENT, "cgroup '%s': not found in the cgroup v2 hierarchy", path);
	if (real[0])
		snprintf(cand, sizeof(cand), "%s", real);
	else
		snprintf(cand, sizeof(cand), "%s/%s", best_mnt, path);
	if (stat(cand, &stb) || !S_ISDIR(stb.st_mode) || statfs(cand, &sfs) ||
	    sfs.f_type != CGROUP2_SUPER_MAGIC)
		return terr(tr, -ENOENT, "cgroup '%s': not a cgroup v2 directory", path);
	*id = stb.st_ino;
	*level = path_depth(best_root) + path_depth(cand + strlen(best_mnt));
	return 0;
}
#undef terr

/* Addresses of the kernel functions the BPF side compares against. */
static void read_kallsyms(struct taskvma_trace *tr, struct trace_bpf *skel)
{
	static const char *const want[] = { "special_mapping_name", "anon_inodefs_dname",
					    "simple_dname", "sockfs_dname", "pipefs_dname" };
	volatile __u64 *dst[] = { &skel->rodata->k_special_mapping_name,
				  &skel->rodata->k_anon_inodefs_dname, &skel->rodata->k_simple_dname,
				  &skel->rodata->k_sockfs_dname, &skel->rodata->k_pipefs_dname };
	char line[512], name[256];
	unsigned long long addr;
	int found = 0;
	char type;
	FILE *f = fopen("/proc/kallsyms", "re");

	if (!f) {
		tlog(tr, TASKVMA_LOG_WARN, "cannot read /proc/kallsyms: special names unavailable");
		return;
	}
	while (found < 5 && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx %c %255s", &addr, &type, name) != 3 || strchr(line, '['))
			continue;
		for (int i = 0; i < 5; i++)
			if (!*dst[i] && !strcmp(name, want[i])) {
				*dst[i] = addr;
				found++;
			}
	}
	fclose(f);
	if (!skel->rodata->k_special_mapping_name)
		tlog(tr, TASKVMA_LOG_WARN,
		     "special_mapping_name not in /proc/kallsyms (kptr_restrict?): "
		     "[vdso] and the like will be unnamed");
	tlog(tr, TASKVMA_LOG_DEBUG, "kallsyms: %d of 5 symbols found", found);
}

static int64_t now_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- reassembly ------------------------------------------------------------------ */

static bool pid_set_add(struct taskvma_trace *tr, pid_t pid)
{
	size_t i;

	if (pid <= 0)
		return false;
	if (tr->pids_n * 2 >= tr->pids_cap) {
		size_t ncap = tr->pids_cap ? tr->pids_cap * 2 : 256;
		pid_t *np = calloc(ncap, sizeof(*np));

		if (!np)
			return false;
		for (size_t k = 0; k < tr->pids_cap; k++) {
			pid_t p = tr->pids[k];

			if (!p)
				continue;
			for (i = (size_t)p * 2654435761u % ncap; np[i]; i = (i + 1) % ncap)
				;
			np[i] = p;
		}
		free(tr->pids);
		tr->pids = np;
		tr->pids_cap = ncap;
	}
	for (i = (size_t)pid * 2654435761u % tr->pids_cap; tr->pids[i]; i = (i + 1) % tr->pids_cap)
		if (tr->pids[i] == pid)
			return false;
	tr->pids[i] = pid;
	tr->pids_n++;
	return true;
}

static void pend_free(struct pend *p)
{
	if (!p)
		return;
	free(p->v);
	free(p->name_off);
	free(p->names);
	free(p);
}

/* Append bytes to the capture's name arena. */
static int names_put(struct pend *p, const char *s, size_t n)
{
	if (tv_reserve((void **)&p->names, &p->ncap, p->nlen + n + 1, 1, 4096))
		return -ENOMEM;
	memcpy(p->names + p->nlen, s, n);
	p->nlen += n;
	return 0;
}

/* Append with '\n' escaped as "\012", as seq_path() does for file names. */
static int names_put_esc(struct pend *p, const char *s, size_t n)
{
	size_t e = tv_escaped_len(s, n);

	if (tv_reserve((void **)&p->names, &p->ncap, p->nlen + e + 1, 1, 4096))
		return -ENOMEM;
	tv_escape_copy(p->names + p->nlen, s, n);
	p->nlen += e;
	return 0;
}

/* /proc's text for one record, appended to the arena; returns its length in
 * *len and where it starts in *off. */
static int build_name(struct pend *p, const struct tr_vma *r, const char *raw, size_t *off,
		      size_t *len)
{
	char num[48];
	int err = 0;

	*off = p->nlen;
	switch (r->name_fmt) {
	case TR_NAME_NONE:
		if (r->kind == TR_KIND_HEAP)
			err = names_put(p, "[heap]", 6);
		else if (r->kind == TR_KIND_STACK)
			err = names_put(p, "[stack]", 7);
		break;
	case TR_NAME_SAME:
		*off = p->prev_off;
		*len = p->prev_len;
		return 0;
	case TR_NAME_TEXT:
		err = names_put(p, raw, strnlen(raw, r->name_len));
		break;
	case TR_NAME_PATH: {
		char path[TR_NAME_BUF + 2 * TR_PATH_DEPTH];
		size_t n = tv_path_join(raw, r->name_len, path, sizeof(path));

		err = names_put_esc(p, path, n < sizeof(path) ? n : sizeof(path));
		if (!err && (r->name_flags & TR_NF_DELETED))
			err = names_put(p, " (deleted)", 10);
		break;
	}
	case TR_NAME_ANON_INODE:
		err = names_put(p, "anon_inode:", 11);
		if (!err)
			err = names_put_esc(p, raw, strnlen(raw, r->name_len));
		break;
	case TR_NAME_SIMPLE:
		err = names_put(p, "/", 1);
		if (!err)
			err = names_put_esc(p, raw, strnlen(raw, r->name_len));
		if (!err)
			err = names_put(p, " (deleted)", 10);
		break;
	case TR_NAME_ANON:
	case TR_NAME_ANON_SHMEM:
		err = names_put(p, r->name_fmt == TR_NAME_ANON ? "[anon:" : "[anon_shmem:",
				r->name_fmt == TR_NAME_ANON ? 6 : 12);
		if (!err)
			err = names_put(p, raw, strnlen(raw, r->name_len));
		if (!err)
			err = names_put(p, "]", 1);
		break;
	case TR_NAME_SOCKET:
	case TR_NAME_PIPE:
		snprintf(num, sizeof(num), "%s:[%" PRIu64 "]",
			 r->name_fmt == TR_NAME_SOCKET ? "socket" : "pipe", (uint64_t)r->ino);
		err = names_put(p, num, strlen(num));
		break;
	default:		/* TR_NAME_UNKNOWN: the dentry's own name, if any */
		err = names_put_esc(p, raw, strnlen(raw, r->name_len));
		p->name_err = true;
		break;
	}
	if (r->name_flags & (TR_NF_TRUNC | TR_NF_ERR))
		p->name_err = true;
	*len = p->nlen - *off;
	if (!err)
		err = names_put(p, "", 1);	/* the NUL: C string users */
	if (r->kind == TR_KIND_FILE) {
		p->prev_off = *off;
		p->prev_len = *len;
	}
	return err;
}

static int add_vma(struct pend *p, const struct tr_vma *r, const char *raw)
{
	struct taskvma_vma *v;
	size_t off = 0, len = 0;
	int err;

	if (p->n == p->cap) {
		size_t ncap = p->cap ? p->cap * 2 : 64;
		struct taskvma_vma *nv = realloc(p->v, ncap * sizeof(*nv));
		size_t *no;

		if (!nv)
			return -ENOMEM;
		p->v = nv;
		no = realloc(p->name_off, ncap * sizeof(*no));
		if (!no)
			return -ENOMEM;
		p->name_off = no;
		p->cap = ncap;
	}
	err = build_name(p, r, raw, &off, &len);
	if (err)
		return err;
	v = &p->v[p->n];
	tv_vma_from_kernel(v, r->start, r->end, r->pgoff, r->ino, r->dev, r->perms, r->kind);
	v->name_len = (uint32_t)len;
	p->name_off[p->n] = off;
	p->n++;
	return 0;
}

/* All of a capture is here: hand it to the callback. */
static int finish(struct taskvma_trace *tr, struct pend *p)
{
	const struct tr_event *e = &p->ev;
	struct taskvma_trace_info info;
	size_t count = p->n;
	int ret = 0;

	memset(&info, 0, sizeof(info));
	info.seq = e->cap_id;
	info.time_ns = e->ts_ns;
	info.realtime_ns = (uint64_t)((int64_t)e->ts_ns + tr->rt_offset);
	info.pid = e->tgid;
	info.tid = e->tid;
	memcpy(info.comm, e->comm, sizeof(info.comm));
	info.comm[sizeof(info.comm) - 1] = 0;
	info.event = (enum taskvma_trace_event)e->event;
	info.syscall_nr = e->event == TR_EV_SYSCALL ? (int)e->arg : -1;
	info.signo = e->event == TR_EV_SIGNAL ? (int)e->arg : 0;
	info.si_code = e->si_code;
	info.old_pid = e->event == TR_EV_EXEC ? (pid_t)e->arg : 0;
	info.cgroup_id = e->cgroup_id;
	info.err = e->err;
	info.vmas_walked = e->nvma;
	info.vmas_lost = e->nlost;
	if (e->nlost || p->n != e->nsent)
		info.flags |= TASKVMA_TRACE_INCOMPLETE;
	if (e->flags & TR_EVF_FAULT_ADDR) {
		info.flags |= TASKVMA_TRACE_FAULT_ADDR;
		info.fault_addr = e->fault_addr;
	}
	if (!e->err && e->seq_begin != e->seq_end)
		info.flags |= TASKVMA_TRACE_TORN;
	if (p->name_err)
		info.flags |= TASKVMA_TRACE_NAME_ERR;

	/* the [vsyscall] gate: not a VMA, /proc prints it last */
	if (!e->err && (e->flags & TR_EVF_VSYSCALL) && tr->has_vsyscall && !tr->o.no_gate) {
		if (p->n == p->cap) {
			struct taskvma_vma *nv = realloc(p->v, (p->cap + 1) * sizeof(*nv));

			if (nv) {
				p->v = nv;
				p->cap++;
			}
		}
		if (p->n < p->cap) {
			tv_make_gate(&p->v[p->n]);
			count++;
		}
	}
	/* each name is NUL-terminated in the arena (build_name) */
	for (size_t i = 0; i < p->n; i++)
		p->v[i].name = p->names ? p->names + p->name_off[i] : "";

	tr->st.captured++;
	if (info.flags & TASKVMA_TRACE_INCOMPLETE)
		tr->st.incomplete++;
	if (info.err)
		tr->st.failed++;
	if (pid_set_add(tr, info.pid))
		tr->st.processes++;
	tr->st.vmas += p->n;
	tr->delivered++;
	if (tr->o.cb)
		ret = tr->o.cb(tr->o.cb_ctx, &info, p->v, count);
	return ret;
}

static void pend_unlink(struct taskvma_trace *tr, struct pend *p)
{
	for (struct pend **pp = &tr->pend; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			return;
		}
}

/* Errors from here stop ring_buffer__consume(); the callback's own
 * non-zero return is kept in cb_ret and reported by poll. */
#define TR_STOP_CB (-ECANCELED)

static int on_record(void *ctx, void *data, size_t size)
{
	struct taskvma_trace *tr = ctx;
	struct pend *p;
	uint32_t type;
	int ret;

	if (size < sizeof(uint32_t))
		return 0;
	memcpy(&type, data, sizeof(type));
	if (type == TR_REC_EVENT) {
		if (size < sizeof(struct tr_event))
			return 0;
		p = calloc(1, sizeof(*p));
		if (!p)
			return -ENOMEM;
		memcpy(&p->ev, data, sizeof(p->ev));
		if (p->ev.nsent) {
			p->next = tr->pend;
			tr->pend = p;
			return 0;
		}
	} else if (type == TR_REC_VMA) {
		const struct tr_vma *r = data;
		char raw[TR_NAME_BUF + 1];

		if (size < sizeof(*r) || size < sizeof(*r) + r->name_len || r->name_len > TR_NAME_BUF)
			return 0;
		for (p = tr->pend; p && p->ev.cap_id != r->cap_id; p = p->next)
			;
		if (!p) {
			tr->stray++;
			return 0;
		}
		memcpy(raw, (const char *)data + sizeof(*r), r->name_len);
		raw[r->name_len] = 0;
		if (add_vma(p, r, raw)) {
			/* out of memory: drop the record, the capture is then
			 * incomplete (p->n < nsent) */
			p->ev.nlost++;
			p->ev.nsent--;
		}
		if (p->n < p->ev.nsent)
			return 0;
		pend_unlink(tr, p);
	} else {
		return 0;
	}
	ret = finish(tr, p);
	pend_free(p);
	if (ret) {
		tr->cb_ret = ret;
		return TR_STOP_CB;
	}
	return 0;
}

/* ---- public API ---------------------------------------------------------------- */

static int check_opts(struct taskvma_trace *tr)
{
	struct taskvma_trace_opts *o = &tr->o;
	uint32_t known = TASKVMA_TRACE_ON(TASKVMA_TRACE_SYSCALL) | TASKVMA_TRACE_ON(TASKVMA_TRACE_EXEC) |
			 TASKVMA_TRACE_ON(TASKVMA_TRACE_EXIT) | TASKVMA_TRACE_ON(TASKVMA_TRACE_SIGNAL);
	int nsel = (o->pid != 0) + (o->comm != NULL) + (o->cgroup != NULL);

	if (!o->events || (o->events & ~known))
		return terr(tr, -EINVAL, "no event, or an unknown one, to trace");
	if (o->pid < 0)
		return terr(tr, -EINVAL, "invalid pid %d", (int)o->pid);
	if (nsel > 1)
		return terr(tr, -EINVAL, "choose one of pid, comm and cgroup");
	if (o->comm && (!o->comm[0] || strlen(o->comm) > 15))
		return terr(tr, -EINVAL, "comm '%s': must be 1 to 15 bytes", o->comm);
	if (o->nr_syscalls && !(o->events & TASKVMA_TRACE_ON(TASKVMA_TRACE_SYSCALL)))
		return terr(tr, -EINVAL, "system call numbers given without the syscall event");
	for (size_t i = 0; i < o->nr_syscalls; i++)
		if (!o->syscalls || o->syscalls[i] < 0 || o->syscalls[i] >= TR_NR_SYSCALLS)
			return terr(tr, -EINVAL, "system call number out of range (0..%d)",
				    TR_NR_SYSCALLS - 1);
	if (o->signo && !(o->events & TASKVMA_TRACE_ON(TASKVMA_TRACE_SIGNAL)))
		return terr(tr, -EINVAL, "a signal given without the signal event");
	if (o->signo < 0 || o->signo > 64)
		return terr(tr, -EINVAL, "invalid signal %d", o->signo);
	if (!o->ringbuf_size)
		o->ringbuf_size = TR_DEFAULT_RINGBUF;
	if (o->ringbuf_size < 4096 || (o->ringbuf_size & (o->ringbuf_size - 1)) ||
	    o->ringbuf_size > (1ull << 30))
		return terr(tr, -EINVAL, "ring buffer size must be a power of 2 from 4 KiB to 1 GiB");
	if (!o->max_processes)
		o->max_processes = TR_DEFAULT_PROCS;
	return 0;
}

/* trace_bpf__open() for the build of trace.bpf.c that matches this kernel's
 * bpf_task_work_schedule_resume_impl() (see TR_TASK_WORK there): the 6.18
 * one, the 7.x one, or none (kernels without it, or with a prototype not
 * known here).  Not the weak extern left unresolved: 6.12's verifier
 * refuses the call left in the program even where it cannot run ("R0
 * pointer arithmetic with <<= operator prohibited" after "call #0").  The three
 * builds come from one source and differ only in that extern's declaration,
 * so they share one skeleton layout: the same struct trace_bpf opens any of
 * their ELF images. */
static struct trace_bpf *open_skel(enum tv_task_work tw)
{
	struct trace_bpf *obj = calloc(1, sizeof(*obj));
	int err;

	if (!obj) {
		errno = ENOMEM;
		return NULL;
	}
	err = trace_bpf__create_skeleton(obj);
	if (!err) {
		if (tw == TV_TASK_WORK_V7)
			obj->skeleton->data = (void *)trace_tw7_bpf__elf_bytes(&obj->skeleton->data_sz);
		else if (tw != TV_TASK_WORK_V618)
			obj->skeleton->data = (void *)trace_notw_bpf__elf_bytes(&obj->skeleton->data_sz);
		err = bpf_object__open_skeleton(obj->skeleton, NULL);
	}
	if (err) {
		trace_bpf__destroy(obj);
		errno = -err;
		return NULL;
	}
	return obj;
}

/* Can this process load tracing programs at all (CAP_BPF and CAP_PERFMON,
 * or CAP_SYS_ADMIN)?  Decides whether a refused load is a permission
 * problem or the kernel's verdict. */
static bool may_trace(void)
{
	uint64_t c = tv_cap_eff();

	return (c >> TV_CAP_SYS_ADMIN & 1) || ((c >> TV_CAP_BPF & 1) && (c >> TV_CAP_PERFMON & 1));
}

static int setup(struct taskvma_trace *tr)
{
	struct taskvma_trace_opts *o = &tr->o;
	struct trace_bpf *skel;
	uint64_t cgid = 0;
	int cglevel = 0, err;
	pid_t tgid = 0;
	bool want_sys = o->events & TASKVMA_TRACE_ON(TASKVMA_TRACE_SYSCALL);
	bool want_exec = o->events & TASKVMA_TRACE_ON(TASKVMA_TRACE_EXEC);
	bool want_exit = o->events & TASKVMA_TRACE_ON(TASKVMA_TRACE_EXIT);
	bool want_sig = o->events & TASKVMA_TRACE_ON(TASKVMA_TRACE_SIGNAL);
	enum tv_task_work tw;
	enum tv_exit_hook eh;
	char why_tw[160], why_exit[160];
	bool need_exit;

	if (o->pid && (err = resolve_pid(tr, o->pid, &tgid)))
		return err;
	if (o->cgroup && (err = tv_resolve_cgroup(o->cgroup, &cgid, &cglevel, tr->err, sizeof(tr->err))))
		return err;

	/* What differs between kernels, from kernel BTF (kernel_facts.c): the exit
	 * hook, the task work's prototype, whether the kfuncs exist at all. */
	{
		struct fbtf btf;
		char why[160];
		bool kfuncs;

		if (fbtf_open(&btf, NULL, why, sizeof(why)))
			return terr(tr, -EOPNOTSUPP, "trace needs kernel BTF, which is unreadable: %s", why);
		kfuncs = fbtf_find(&btf, "bpf_iter_task_vma_new", BTF_KIND_FUNC) >= 0;
		tw = tv_kfacts_task_work(&btf, why_tw, sizeof(why_tw));
		eh = tv_kfacts_exit_hook(&btf, why_exit, sizeof(why_exit));
		fbtf_close(&btf);
		if (!kfuncs)
			return terr(tr, -EOPNOTSUPP, "this kernel has no bpf_iter_task_vma kfuncs "
				    "(Linux 6.7+), which trace needs");
	}
	if (eh == TV_EXIT_HOOK_NONE && (want_exit || want_sig))
		return terr(tr, -EOPNOTSUPP, "--on %s needs an exit hook, and this kernel has none: %s",
			    want_exit ? "exit" : "signal", why_exit);
	tlog(tr, TASKVMA_LOG_DEBUG, "exit hook: %s", why_exit);
	tlog(tr, TASKVMA_LOG_DEBUG, "task work: %s", why_tw);
	if (want_sig && o->signo && tw != TV_TASK_WORK_V618 && tw != TV_TASK_WORK_V7)
		tlog(tr, TASKVMA_LOG_WARN, "signals that a handler catches are not captured on this "
		     "kernel (%s); fatal ones are", why_tw);

	skel = open_skel(tw);
	if (!skel)
		return terr(tr, -errno, "cannot open the BPF object: %s", strerror(errno));
	tr->skel = skel;
	skel->rodata->sel_tgid = tgid;
	skel->rodata->self_tgid = getpid();
	if (o->comm) {
		skel->rodata->sel_comm_on = 1;
		memcpy((char *)skel->rodata->sel_comm, o->comm, strlen(o->comm));
	}
	skel->rodata->sel_cgid = cgid;
	skel->rodata->sel_cglevel = cglevel;
	skel->rodata->every = !!o->every;
	skel->rodata->max_caps = o->max_events;
	skel->rodata->sys_any = !o->nr_syscalls;
	for (size_t i = 0; i < o->nr_syscalls; i++)
		skel->rodata->sys_bits[o->syscalls[i] / 64] |= 1ull << (o->syscalls[i] % 64);
	skel->rodata->sig_on = want_sig;
	skel->rodata->sig_want = o->signo;
	skel->rodata->exit_capture = want_exit;
	read_kallsyms(tr, skel);

	/* Signals are noted at delivery and walked when the thread exits
	 * (fatal ones) or in a task work before it returns to user space
	 * (handled ones) -- see trace.bpf.c.  No system call hook for them. */
	bpf_program__set_autoload(skel->progs.on_sys_enter, want_sys);
	bpf_program__set_autoload(skel->progs.on_exec, want_exec);
	bpf_program__set_autoload(skel->progs.on_signal, want_sig);
	/* the exit hook also forgets processes in the once-per-process table,
	 * which only matters when several processes can be captured */
	need_exit = want_exit || want_sig || (!o->every && !tgid);
	if (need_exit && eh == TV_EXIT_HOOK_NONE)
		tlog(tr, TASKVMA_LOG_WARN, "no exit hook on this kernel (%s): a process that "
		     "exits is not forgotten, a later one with its pid is not captured", why_exit);
	bpf_program__set_autoload(skel->progs.on_exit, need_exit && eh == TV_EXIT_HOOK_TP);
	bpf_program__set_autoload(skel->progs.on_exit_ts, need_exit && eh == TV_EXIT_HOOK_TASKSTATS);
	skel->rodata->fmode_backing = tv_fmode_backing();
	bpf_map__set_max_entries(skel->maps.events, (uint32_t)o->ringbuf_size);
	bpf_map__set_max_entries(skel->maps.done, o->max_processes);

	err = trace_bpf__load(skel);
	if (err) {
		char why[128];

		/* EPERM/EACCES is a permission problem only without the
		 * capabilities: with them it is the kernel's verdict (the
		 * verifier says EACCES; a hardened kernel may refuse a program
		 * type with EPERM), as is EINVAL (a kfunc or BTF mismatch) */
		if ((err == -EPERM || err == -EACCES) && !may_trace())
			return terr(tr, err, "loading the BPF programs: %s (needs root: CAP_BPF, CAP_PERFMON)",
				    strerror(-err));
		/* the loader creates a dozen maps and programs: out of
		 * descriptors, it fails with EINVAL, not EMFILE */
		if (err == -EMFILE || tv_fds_short(32, why, sizeof(why)))
			return terr(tr, -EMFILE, "loading the BPF programs: %s",
				    err == -EMFILE && !tv_fds_short(32, why, sizeof(why)) ? strerror(EMFILE) : why);
		if (err == -ENOMEM || err == -E2BIG)
			return terr(tr, err, "loading the BPF programs: %s", strerror(-err));
		return terr(tr, -EOPNOTSUPP, "this kernel refused the trace programs (%s; exit hook: %s; "
			    "run with -v -v for the verifier's and libbpf's messages)", strerror(-err),
			    eh == TV_EXIT_HOOK_TP ? "sched_process_exit" : "fentry/taskstats_exit");
	}
	err = trace_bpf__attach(skel);
	if (err)
		return terr(tr, err, "attaching the BPF programs: %s", strerror(-err));
	tr->attached = true;

	tr->rb = ring_buffer__new(bpf_map__fd(skel->maps.events), on_record, tr, NULL);
	if (!tr->rb)
		return terr(tr, -errno, "ring buffer: %s", strerror(errno));
	tr->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (tr->epfd < 0)
		return terr(tr, -errno, "epoll: %s", strerror(errno));
	{
		struct epoll_event ee = { .events = EPOLLIN, .data.u32 = 0 };

		if (epoll_ctl(tr->epfd, EPOLL_CTL_ADD, ring_buffer__epoll_fd(tr->rb), &ee))
			return terr(tr, -errno, "epoll: %s", strerror(errno));
	}
	if (tgid) {
		/* know when the selected process is gone: nothing more can come */
		tr->pidfd = (int)syscall(SYS_pidfd_open, tgid, 0);
		if (tr->pidfd >= 0) {
			struct epoll_event ee = { .events = EPOLLIN, .data.u32 = 1 };

			if (epoll_ctl(tr->epfd, EPOLL_CTL_ADD, tr->pidfd, &ee))
				return terr(tr, -errno, "epoll: %s", strerror(errno));
		} else if (errno == ESRCH) {
			return terr(tr, -ESRCH, "pid %d: no such process", (int)o->pid);
		}
	}
	tlog(tr, TASKVMA_LOG_INFO, "tracing: programs attached, ring buffer %zu KiB",
	     o->ringbuf_size >> 10);
	return 0;
}

int taskvma_trace_open(struct taskvma_trace **out, const struct taskvma_trace_opts *opts,
		       char *err_msg)
{
	struct taskvma_trace *tr;
	int err;

	if (out)
		*out = NULL;
	if (err_msg)
		err_msg[0] = 0;
	if (!out || !opts || opts->sz < offsetof(struct taskvma_trace_opts, events) + sizeof(opts->events) ||
	    !TV_OPTS_VALID(opts, taskvma_trace_opts)) {
		if (err_msg)
			snprintf(err_msg, TR_ERR_MAX, "invalid options");
		return -EINVAL;
	}
	tr = calloc(1, sizeof(*tr));
	if (!tr)
		return -ENOMEM;
	memcpy(&tr->o, opts, opts->sz < sizeof(tr->o) ? opts->sz : sizeof(tr->o));
	tr->o.sz = sizeof(tr->o);
	tr->epfd = -1;
	tr->pidfd = -1;
	tr->has_vsyscall = tv_kernel_has_vsyscall("/proc");
	tr->rt_offset = now_ns(CLOCK_REALTIME) - now_ns(CLOCK_MONOTONIC);

	err = check_opts(tr);
	if (!err)
		err = setup(tr);
	if (err) {
		if (err_msg)
			snprintf(err_msg, TR_ERR_MAX, "%s", tr->err[0] ? tr->err : taskvma_strerror(err));
		taskvma_trace_close(tr);
		return err;
	}
	*out = tr;
	return 0;
}

int taskvma_trace_fd(const struct taskvma_trace *tr)
{
	return tr ? tr->epfd : -EINVAL;
}

static int consume(struct taskvma_trace *tr)
{
	int n;

	tr->delivered = 0;
	tr->cb_ret = 0;
	n = ring_buffer__consume(tr->rb);
	if (tr->cb_ret)
		return tr->cb_ret;
	if (n < 0 && n != TR_STOP_CB)
		return n;
	return tr->delivered;
}

int taskvma_trace_poll(struct taskvma_trace *tr, int timeout_ms)
{
	struct epoll_event ev[2];
	int n;

	if (!tr || !tr->rb)
		return -EINVAL;
	n = epoll_wait(tr->epfd, ev, 2, timeout_ms);
	if (n < 0)
		return -errno;
	for (int i = 0; i < n; i++)
		if (ev[i].data.u32 == 1) {
			/* the process exited: its last records are already in
			 * the ring buffer (exit runs before the pidfd wakes) */
			tr->target_gone = true;
			epoll_ctl(tr->epfd, EPOLL_CTL_DEL, tr->pidfd, NULL);
		}
	return consume(tr);
}

static uint64_t bss_read(volatile __u64 *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

int taskvma_trace_done(const struct taskvma_trace *tr)
{
	uint64_t lost;

	if (!tr || !tr->skel)
		return 1;
	lost = bss_read(&tr->skel->bss->n_lost_events);
	if (tr->o.max_events && tr->st.captured + lost >= tr->o.max_events)
		return 1;
	if (tr->target_gone && !tr->pend && tr->st.captured >= bss_read(&tr->skel->bss->next_cap))
		return 1;
	return 0;
}

int taskvma_trace_stop(struct taskvma_trace *tr)
{
	int total = 0, n;

	if (!tr || !tr->skel)
		return -EINVAL;
	if (tr->attached) {
		trace_bpf__detach(tr->skel);
		tr->attached = false;
	}
	if (!tr->rb)
		return 0;
	/* Captures that were running when we detached finish on their own
	 * and submit their record: wait for every started capture (bounded). */
	for (int tries = 0; tries < 200; tries++) {
		n = consume(tr);
		if (n > 0)
			total += n;
		if (tr->st.captured >= bss_read(&tr->skel->bss->next_cap) && !tr->pend)
			break;
		usleep(5000);
	}
	return total;
}

void taskvma_trace_stats(const struct taskvma_trace *tr, struct taskvma_trace_stats *st)
{
	struct taskvma_trace_stats s;
	size_t sz;

	if (!st)
		return;
	memset(&s, 0, sizeof(s));
	if (tr) {
		s = tr->st;
		if (tr->skel && tr->skel->bss) {
			s.lost = bss_read(&tr->skel->bss->n_lost_events);
			s.skipped = bss_read(&tr->skel->bss->n_table_full) +
				    bss_read(&tr->skel->bss->n_sigpend_full) +
				    bss_read(&tr->skel->bss->n_sig_nowork);
		}
	}
	sz = st->sz && st->sz < sizeof(s) ? st->sz : sizeof(s);
	s.sz = sz;
	memcpy(st, &s, sz);
}

void taskvma_trace_close(struct taskvma_trace *tr)
{
	if (!tr)
		return;
	if (tr->skel && tr->attached)
		trace_bpf__detach(tr->skel);
	ring_buffer__free(tr->rb);
	if (tr->epfd >= 0)
		close(tr->epfd);
	if (tr->pidfd >= 0)
		close(tr->pidfd);
	trace_bpf__destroy(tr->skel);
	while (tr->pend) {
		struct pend *p = tr->pend;

		tr->pend = p->next;
		pend_free(p);
	}
	free(tr->pids);
	free(tr);
}
