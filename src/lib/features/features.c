// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Feature probes (taskvma_features_probe): what this kernel supports, for
 * this caller, found by trying it.
 *
 * How the BPF probes are built: as raw instructions, assembled here, and
 * loaded with libbpf's low-level bpf_prog_load().  Kfunc calls are
 * BPF_PSEUDO_KFUNC_CALL instructions whose imm is the kfunc's BTF id in
 * vmlinux, and attach targets (iter/task, tp_btf/..., lsm/..., struct_ops)
 * are BTF ids too; all come from the kernel's own BTF (features_btf.c).
 * Why not one .bpf.c per program type: a compiled object needs libbpf to know
 * the program type's section name (libbpf 1.1 does not know NETFILTER), runs
 * CO-RE over the whole object for every load, and costs a skeleton per type;
 * the raw programs are a dozen instructions each, the same for every type
 * except where the task pointer comes from, so what the verifier judges is
 * exactly the kfunc calls and nothing else.  The tests load programs compiled
 * from C through libbpf and compare (tests/cases/features.sh).
 *
 * Every program is loaded and its fd closed at once: nothing is attached,
 * nothing outlives the call.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <bpf/bpf.h>
#include "taskvma.h"
#include "taskvma_features.h"
#include "features_btf.h"
#include "internal.h"
#include "kernel_facts.h"
#include "procmap_query.h"

/* Program and attach types newer than Debian 12's <linux/bpf.h> (6.1). */
#define TV_PROG_TYPE_NETFILTER 32
#define TV_ATTACH_NETFILTER 45

#define LOG_SIZE (64 * 1024)
#define NO_ID (-1)

/* ---- results -------------------------------------------------------- */

struct fctx {
	struct taskvma_features *f;
	size_t cap;
	int nomem;
	uint32_t flags;
	taskvma_log_fn log;
	void *log_ctx;
	int log_level;
	const char *proc_root;
	const char *btf_path;

	struct fbtf btf;
	struct fbtf_query quick[8]; /* quick_names, resolved */
	int btf_ok;
	char btf_why[256];
	int id_new, id_next, id_destroy; /* kfunc BTF ids or NO_ID */
	int id_from_pid, id_release;
	char *logbuf;
	int had_log;        /* the last refused load produced a verifier log */
};

static void flog(struct fctx *c, enum taskvma_log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void flog(struct fctx *c, enum taskvma_log_level lvl, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!c->log || (int)lvl > c->log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->log(lvl, msg, c->log_ctx);
}

static char *xstrdup(struct fctx *c, const char *s)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		c->nomem = 1;
	return d;
}

/* Append a probe; returns it (valid until the next add), or NULL on ENOMEM. */
static struct taskvma_probe *add(struct fctx *c, const char *name, enum taskvma_probe_category cat,
				 enum taskvma_probe_status st, int err, const char *value,
				 const char *fmt, ...) __attribute__((format(printf, 7, 8)));
static struct taskvma_probe *add(struct fctx *c, const char *name, enum taskvma_probe_category cat,
				 enum taskvma_probe_status st, int err, const char *value,
				 const char *fmt, ...)
{
	struct taskvma_features *f = c->f;
	struct taskvma_probe *p;
	char detail[1024];
	va_list ap;

	if (f->nprobes == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 32;
		struct taskvma_probe *np = realloc(f->probes, ncap * sizeof(*np));

		if (!np) {
			c->nomem = 1;
			return NULL;
		}
		f->probes = np;
		c->cap = ncap;
	}
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	/* One line, always. */
	for (char *q = detail; *q; q++)
		if (*q == '\n' || *q == '\r' || *q == '\t')
			*q = ' ';
	p = &f->probes[f->nprobes++];
	memset(p, 0, sizeof(*p));
	p->name = xstrdup(c, name);
	p->category = cat;
	p->status = st;
	p->err = err;
	p->detail = xstrdup(c, detail);
	p->value = xstrdup(c, value);
	p->documented = -1;
	p->task_from_pid = -1;
	flog(c, TASKVMA_LOG_INFO, "probe %s: %s: %s", name, taskvma_probe_status_name(st), detail);
	return p;
}

/* "EPERM", ...; NULL when unknown.  524 is the kernel-internal ENOTSUPP
 * that bpf() can leak to user space. */
static const char *errno_name(int e)
{
	if (e == 524)
		return "ENOTSUPP";
	return strerrorname_np(e);
}

/* ---- raw BPF programs ------------------------------------------------- */

#define INSN(c_, d_, s_, o_, i_) \
	((struct bpf_insn){ .code = (c_), .dst_reg = (d_), .src_reg = (s_), .off = (o_), .imm = (i_) })
#define MOV64_IMM(d, i)  INSN(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
#define MOV64_REG(d, s)  INSN(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define ADD64_IMM(d, i)  INSN(BPF_ALU64 | BPF_ADD | BPF_K, d, 0, 0, i)
#define LDX_DW(d, s, o)  INSN(BPF_LDX | BPF_MEM | BPF_DW, d, s, o, 0)
#define ST_DW(d, o, i)   INSN(BPF_ST | BPF_MEM | BPF_DW, d, 0, o, i)
#define CALL_HELPER(id)  INSN(BPF_JMP | BPF_CALL, 0, 0, 0, id)
#define CALL_KFUNC(id)   INSN(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_KFUNC_CALL, 0, id)
#define EXIT_INSN()      INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

struct prog {
	struct bpf_insn insn[64];
	int n;
	int fix[8]; /* jumps to the label */
	int nfix;
};

static void emit(struct prog *p, struct bpf_insn i)
{
	if (p->n < (int)(sizeof(p->insn) / sizeof(p->insn[0])))
		p->insn[p->n++] = i;
}

/* "if rX == 0 goto <label>"; resolved by label(). */
static void jeq0_to_label(struct prog *p, int reg)
{
	if (p->nfix < 8)
		p->fix[p->nfix++] = p->n;
	emit(p, INSN(BPF_JMP | BPF_JEQ | BPF_K, reg, 0, 0, 0));
}

static void label(struct prog *p)
{
	for (int i = 0; i < p->nfix; i++)
		p->insn[p->fix[i]].off = (short)(p->n - p->fix[i] - 1);
	p->nfix = 0;
}

enum task_src { TS_NONE, TS_CURRENT, TS_FROM_PID, TS_CTX };

static const char *task_src_name(enum task_src s)
{
	switch (s) {
	case TS_CURRENT: return "bpf_get_current_task_btf";
	case TS_FROM_PID: return "bpf_task_from_pid";
	case TS_CTX: return "ctx->task";
	default: return NULL;
	}
}

struct load {
	int type;              /* BPF_PROG_TYPE_* */
	int eat;               /* expected attach type */
	uint32_t attach_btf_id;
	uint32_t flags;        /* BPF_F_* */
	int ret;               /* r0 at exit */
	enum task_src src;
	int ctx_task_off;      /* TS_CTX: offset of the task pointer in ctx */
	int iter;              /* call bpf_iter_task_vma_new/_next/_destroy */
	int read_str;          /* ... and bpf_probe_read_kernel_str() on the VMA */
	int ringbuf_fd;        /* >= 0: bpf_ringbuf_output() into this map */
	int helper;            /* > 0: call this helper (lockdown probes), see below */
};

/* Build the program described by l. */
static void build(struct fctx *c, const struct load *l, struct prog *p)
{
	memset(p, 0, sizeof(*p));
	switch (l->src) {
	case TS_CURRENT:
		emit(p, CALL_HELPER(BPF_FUNC_get_current_task_btf));
		emit(p, MOV64_REG(BPF_REG_6, BPF_REG_0));
		break;
	case TS_FROM_PID:
		emit(p, MOV64_IMM(BPF_REG_1, 1));
		emit(p, CALL_KFUNC(c->id_from_pid));
		jeq0_to_label(p, BPF_REG_0);
		emit(p, MOV64_REG(BPF_REG_6, BPF_REG_0));
		break;
	case TS_CTX:
		emit(p, LDX_DW(BPF_REG_6, BPF_REG_1, l->ctx_task_off));
		jeq0_to_label(p, BPF_REG_6);
		break;
	case TS_NONE:
		break;
	}
	if (l->iter) {
		/* struct bpf_iter_task_vma (8 bytes) at fp-8; scratch at fp-72. */
		emit(p, MOV64_REG(BPF_REG_1, BPF_REG_10));
		emit(p, ADD64_IMM(BPF_REG_1, -8));
		emit(p, MOV64_REG(BPF_REG_2, BPF_REG_6));
		emit(p, MOV64_IMM(BPF_REG_3, 0));
		emit(p, CALL_KFUNC(c->id_new));
		emit(p, MOV64_REG(BPF_REG_1, BPF_REG_10));
		emit(p, ADD64_IMM(BPF_REG_1, -8));
		emit(p, CALL_KFUNC(c->id_next));
		if (l->read_str) {
			int skip = p->n;

			emit(p, INSN(BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_0, 0, 0, 0));
			emit(p, MOV64_REG(BPF_REG_7, BPF_REG_0));
			emit(p, MOV64_REG(BPF_REG_1, BPF_REG_10));
			emit(p, ADD64_IMM(BPF_REG_1, -72));
			emit(p, MOV64_IMM(BPF_REG_2, 64));
			emit(p, MOV64_REG(BPF_REG_3, BPF_REG_7));
			emit(p, CALL_HELPER(BPF_FUNC_probe_read_kernel_str));
			p->insn[skip].off = (short)(p->n - skip - 1);
		}
		emit(p, MOV64_REG(BPF_REG_1, BPF_REG_10));
		emit(p, ADD64_IMM(BPF_REG_1, -8));
		emit(p, CALL_KFUNC(c->id_destroy));
	}
	if (l->src == TS_FROM_PID) {
		emit(p, MOV64_REG(BPF_REG_1, BPF_REG_6));
		emit(p, CALL_KFUNC(c->id_release));
	}
	if (l->ringbuf_fd >= 0) {
		emit(p, ST_DW(BPF_REG_10, -16, 0));
		emit(p, INSN(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_1, BPF_PSEUDO_MAP_FD, 0, l->ringbuf_fd));
		emit(p, INSN(0, 0, 0, 0, 0));
		emit(p, MOV64_REG(BPF_REG_2, BPF_REG_10));
		emit(p, ADD64_IMM(BPF_REG_2, -16));
		emit(p, MOV64_IMM(BPF_REG_3, 8));
		emit(p, MOV64_IMM(BPF_REG_4, 0));
		emit(p, CALL_HELPER(BPF_FUNC_ringbuf_output));
	}
	if (l->helper == BPF_FUNC_probe_write_user) {
		/* bpf_probe_write_user(NULL, fp-16, 8): never runs, only loaded. */
		emit(p, ST_DW(BPF_REG_10, -16, 0));
		emit(p, MOV64_IMM(BPF_REG_1, 0));
		emit(p, MOV64_REG(BPF_REG_2, BPF_REG_10));
		emit(p, ADD64_IMM(BPF_REG_2, -16));
		emit(p, MOV64_IMM(BPF_REG_3, 8));
		emit(p, CALL_HELPER(BPF_FUNC_probe_write_user));
	} else if (l->helper == BPF_FUNC_probe_read_kernel) {
		emit(p, MOV64_REG(BPF_REG_1, BPF_REG_10));
		emit(p, ADD64_IMM(BPF_REG_1, -16));
		emit(p, MOV64_IMM(BPF_REG_2, 8));
		emit(p, MOV64_IMM(BPF_REG_3, 0));
		emit(p, CALL_HELPER(BPF_FUNC_probe_read_kernel));
	}
	label(p);
	emit(p, MOV64_IMM(BPF_REG_0, l->ret));
	emit(p, EXIT_INSN());
}

/* The verifier's reason, in one line: the last line of the log that is not
 * bookkeeping ("processed N insns", "verification time", ...). */
static void log_reason(const char *log, char *out, size_t len)
{
	const char *best = NULL, *s = log;
	size_t best_len = 0;

	out[0] = '\0';
	while (s && *s) {
		const char *e = strchr(s, '\n');
		size_t n = e ? (size_t)(e - s) : strlen(s);

		if (n && strncmp(s, "processed ", 10) && strncmp(s, "verification time", 17) &&
		    strncmp(s, "stack depth", 11) && strncmp(s, "-- END PROG LOAD LOG --", 23) &&
		    strncmp(s, "mark_precise", 12)) {
			best = s;
			best_len = n;
		}
		s = e ? e + 1 : NULL;
	}
	if (best) {
		if (best_len >= len)
			best_len = len - 1;
		memcpy(out, best, best_len);
		out[best_len] = '\0';
	}
}

/* Load the program; 0 if accepted (and closed), else -errno with the reason
 * (verifier's line, or the errno's name) in why. */
static int try_load(struct fctx *c, const char *what, const struct load *l, char *why,
		    size_t why_len)
{
	LIBBPF_OPTS(bpf_prog_load_opts, o);
	struct prog p;
	int fd, err;

	build(c, l, &p);
	c->logbuf[0] = '\0';
	o.expected_attach_type = (enum bpf_attach_type)l->eat;
	o.attach_btf_id = l->attach_btf_id;
	o.prog_flags = l->flags;
	o.log_buf = c->logbuf;
	o.log_size = LOG_SIZE;
	o.log_level = 1;
	o.attempts = 1;
	fd = bpf_prog_load((enum bpf_prog_type)l->type, "tv_probe", "GPL", p.insn, (size_t)p.n, &o);
	if (fd >= 0) {
		close(fd);
		why[0] = '\0';
		return 0;
	}
	err = errno ? -errno : -EINVAL;
	log_reason(c->logbuf, why, why_len);
	if (c->logbuf[0])
		flog(c, TASKVMA_LOG_DEBUG, "verifier log of %s:\n%s", what, c->logbuf);
	if (!why[0]) {
		const char *en = errno_name(-err);

		snprintf(why, why_len, "%s (%s), refused before verification (empty verifier log)",
			 en ? en : "error", strerror(-err));
	}
	c->had_log = c->logbuf[0] != '\0';
	return err;
}

/* Capabilities bpf() wants besides CAP_BPF (kernel/bpf/syscall.c:
 * is_perfmon_prog_type(), is_net_admin_prog_type()).  CAP_SYS_ADMIN stands
 * in for each of them. */
#define NEED_PERFMON   0x1
#define NEED_NET_ADMIN 0x2

/* A refused bpf() call: "not run" when the caller lacks a capability the
 * kernel checks before it even looks at the request (then EPERM says
 * nothing about the kernel), else "unsupported".  Writes the detail. */
static enum taskvma_probe_status refused(struct fctx *c, const char *op, int err, int needs,
					 const char *why, char *out, size_t len)
{
	const struct taskvma_features *f = c->f;
	char lack[96] = "";
	int sa = f->cap_sys_admin;

	if (!f->cap_bpf && !sa)
		strcat(lack, ", CAP_BPF");
	if ((needs & NEED_PERFMON) && !f->cap_perfmon && !sa)
		strcat(lack, ", CAP_PERFMON");
	if ((needs & NEED_NET_ADMIN) && !f->cap_net_admin && !sa)
		strcat(lack, ", CAP_NET_ADMIN");
	if ((err == -EPERM || err == -EACCES) && lack[0]) {
		const char *en = errno_name(-err);

		snprintf(out, len, "cannot probe as this caller: %s returned %s; the caller lacks "
			 "%s and CAP_SYS_ADMIN (kernel.unprivileged_bpf_disabled=%d)", op,
			 en ? en : "an error", lack + 2, f->unprivileged_bpf_disabled);
		return TASKVMA_PROBE_NOT_RUN;
	}
	snprintf(out, len, "%s", why);
	return TASKVMA_PROBE_UNSUPPORTED;
}

/* ---- system ------------------------------------------------------------ */

static void probe_caps(struct fctx *c)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	static const struct { const char *name; int cap; } caps[] = {
		{ "cap_bpf", 39 /* CAP_BPF */ },
		{ "cap_perfmon", 38 /* CAP_PERFMON */ },
		{ "cap_sys_admin", 21 /* CAP_SYS_ADMIN */ },
		{ "cap_net_admin", 12 /* CAP_NET_ADMIN */ },
	};
	int *dst[] = { &c->f->cap_bpf, &c->f->cap_perfmon, &c->f->cap_sys_admin,
		       &c->f->cap_net_admin };
	int r, e;

	memset(data, 0, sizeof(data));
	r = (int)syscall(SYS_capget, &hdr, data);
	e = errno;
	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		int cap = caps[i].cap, has;

		if (r) {
			add(c, caps[i].name, TASKVMA_PROBE_CAT_SYSTEM, TASKVMA_PROBE_NOT_RUN, e,
			    NULL, "capget: %s", strerror(e));
			continue;
		}
		has = !!(data[cap / 32].effective & (1u << (cap % 32)));
		*dst[i] = has;
		add(c, caps[i].name, TASKVMA_PROBE_CAT_SYSTEM,
		    has ? TASKVMA_PROBE_SUPPORTED : TASKVMA_PROBE_UNSUPPORTED, 0, NULL,
		    "capget(2): %s in the effective set", has ? "present" : "absent");
	}
}

static int read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	close(fd);
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

static void probe_sysctl(struct fctx *c)
{
	char path[512], buf[64];
	int r;

	snprintf(path, sizeof(path), "%s/sys/kernel/unprivileged_bpf_disabled", c->proc_root);
	r = read_small(path, buf, sizeof(buf));
	c->f->unprivileged_bpf_disabled = -1;
	if (r) {
		add(c, "unprivileged_bpf_disabled", TASKVMA_PROBE_CAT_SYSTEM, TASKVMA_PROBE_NOT_RUN,
		    -r, NULL, "%s: %s", path, strerror(-r));
		return;
	}
	c->f->unprivileged_bpf_disabled = atoi(buf);
	add(c, "unprivileged_bpf_disabled", TASKVMA_PROBE_CAT_SYSTEM, TASKVMA_PROBE_SUPPORTED, 0,
	    buf, "%s = %s (%s)", path, buf,
	    !strcmp(buf, "0") ? "unprivileged bpf() allowed" :
	    !strcmp(buf, "1") ? "unprivileged bpf() disabled until reboot" :
	    "unprivileged bpf() disabled, admin can re-enable");
}

/* Lockdown: /sys/kernel/security/lockdown when securityfs is mounted;
 * otherwise tried: lockdown "integrity" removes bpf_probe_write_user() from
 * tracing programs, "confidentiality" also bpf_probe_read_kernel(). */
static void probe_lockdown(struct fctx *c, int full)
{
	static const char *const path = "/sys/kernel/security/lockdown";
	static char mode[32];
	char buf[128], w1[256], w2[256];
	int r, e1, e2;

	r = read_small(path, buf, sizeof(buf));
	if (!r) {
		const char *a = strchr(buf, '['), *b = a ? strchr(a, ']') : NULL;

		if (a && b && (size_t)(b - a - 1) < sizeof(mode)) {
			memcpy(mode, a + 1, (size_t)(b - a - 1));
			mode[b - a - 1] = '\0';
			c->f->lockdown = mode;
			add(c, "lockdown", TASKVMA_PROBE_CAT_SYSTEM, TASKVMA_PROBE_SUPPORTED, 0, mode,
			    "%s: %s", path, buf);
			return;
		}
		add(c, "lockdown", TASKVMA_PROBE_CAT_SYSTEM, TASKVMA_PROBE_NOT_RUN, 0, NULL,
		    "%s: unexpected contents \"%s\"", path, buf);
		return;
	}
	if (!full || r != -ENOENT) {
		add(c, "lockdown", TASKVMA_PROBE_CAT_SYSTEM, TASKVMA_PROBE_NOT_RUN, -r, NULL,
		    "%s: %s", path, strerror(-r));
		return;
	}
	if (!c->f->cap_sys_admin) {
		add(c, "lockdown", TASKVMA_PROBE_CAT_SYSTEM, TASKVMA_PROBE_NOT_RUN, ENOENT, NULL,
		    "%s missing (securityfs not mounted), and trying the helpers that lockdown "
		    "removes needs CAP_SYS_ADMIN", path);
		return;
	}
	struct load l = { .type = BPF_PROG_TYPE_RAW_TRACEPOINT, .ringbuf_fd = -1 };

	l.helper = BPF_FUNC_probe_write_user;
	e1 = try_load(c, "lockdown probe_write_user", &l, w1, sizeof(w1));
	l.helper = BPF_FUNC_probe_read_kernel;
	e2 = try_load(c, "lockdown probe_read_kernel", &l, w2, sizeof(w2));
	if (e1 && e2)
		snprintf(mode, sizeof(mode), "confidentiality");
	else if (e1)
		snprintf(mode, sizeof(mode), "integrity");
	else if (!e2)
		snprintf(mode, sizeof(mode), "none");
	else
		mode[0] = '\0';
	if (!mode[0]) {
		add(c, "lockdown", TASKVMA_PROBE_CAT_SYSTEM, TASKVMA_PROBE_NOT_RUN, 0, NULL,
		    "%s missing; bpf_probe_write_user accepted but bpf_probe_read_kernel refused "
		    "(%s): no lockdown level fits", path, w2);
		return;
	}
	c->f->lockdown = mode;
	add(c, "lockdown", TASKVMA_PROBE_CAT_SYSTEM, TASKVMA_PROBE_SUPPORTED, 0, mode,
	    "%s missing (securityfs not mounted); tried: bpf_probe_write_user %s%s%s, "
	    "bpf_probe_read_kernel %s%s%s", path, e1 ? "refused (" : "accepted", e1 ? w1 : "",
	    e1 ? ")" : "", e2 ? "refused (" : "accepted", e2 ? w2 : "", e2 ? ")" : "");
}

/* ---- kfuncs in BTF ------------------------------------------------------ */

/* Names the quick probe needs, resolved in one pass over the BTF. */
static const struct fbtf_query quick_names[] = {
	{ "bpf_iter_task_vma_new", BTF_KIND_FUNC, 0 },
	{ "bpf_iter_task_vma_next", BTF_KIND_FUNC, 0 },
	{ "bpf_iter_task_vma_destroy", BTF_KIND_FUNC, 0 },
	{ "bpf_iter_task_vma_kern_data", BTF_KIND_STRUCT, 0 },
	{ "bpf_iter_task", BTF_KIND_FUNC, 0 },
	{ "bpf_iter__task", BTF_KIND_STRUCT, 0 },
	{ "vm_area_struct", BTF_KIND_STRUCT, 0 },
	{ "file", BTF_KIND_STRUCT, 0 },
};
#define NQUICK (sizeof(quick_names) / sizeof(quick_names[0]))

static int open_btf(struct fctx *c, int full)
{
	int err = fbtf_open(&c->btf, c->btf_path, c->btf_why, sizeof(c->btf_why));

	c->btf_ok = !err;
	if (err)
		return err;
	/* The full probe looks up dozens of names: index them all. */
	if (full && fbtf_build_hash(&c->btf))
		c->nomem = 1;
	memcpy(c->quick, quick_names, sizeof(quick_names));
	fbtf_find_many(&c->btf, c->quick, NQUICK);
	return 0;
}

/* Type id of name/kind in the kernel's BTF, or -ENOENT. */
static int tid(struct fctx *c, const char *name, unsigned int kind)
{
	if (!c->btf_ok)
		return NO_ID;
	for (size_t i = 0; i < NQUICK; i++)
		if (c->quick[i].kind == kind && !strcmp(c->quick[i].name, name))
			return c->quick[i].id;
	return fbtf_find(&c->btf, name, kind);
}

static int func_id(struct fctx *c, const char *name)
{
	return tid(c, name, BTF_KIND_FUNC);
}

static void probe_kfuncs(struct fctx *c)
{
	static const char *const names[] = { "bpf_iter_task_vma_new", "bpf_iter_task_vma_next",
					     "bpf_iter_task_vma_destroy" };
	int *ids[] = { &c->id_new, &c->id_next, &c->id_destroy };
	struct taskvma_features *f = c->f;
	int present = 0;

	for (int i = 0; i < 3; i++) {
		int id;

		*ids[i] = NO_ID;
		if (!c->btf_ok) {
			add(c, names[i], TASKVMA_PROBE_CAT_KFUNC, TASKVMA_PROBE_NOT_RUN, 0, NULL,
			    "kernel BTF unreadable: %s", c->btf_why);
			continue;
		}
		id = func_id(c, names[i]);
		if (id < 0) {
			add(c, names[i], TASKVMA_PROBE_CAT_KFUNC, TASKVMA_PROBE_UNSUPPORTED, ENOENT,
			    NULL, "no FUNC %s in %s", names[i], c->btf.source);
			continue;
		}
		*ids[i] = id;
		present++;
		add(c, names[i], TASKVMA_PROBE_CAT_KFUNC, TASKVMA_PROBE_SUPPORTED, 0, NULL,
		    "FUNC [%d] in %s%s", id, c->btf.source,
		    fbtf_has_decl_tag(&c->btf, (uint32_t)id, "bpf_kfunc") ?
			    ", tagged bpf_kfunc" : "");
	}
	f->kfuncs_present = present == 3;

	/* Semantics from the shape of the iterator's kernel-side state. */
	if (!c->btf_ok) {
		f->semantics = TASKVMA_SEM_UNKNOWN;
		add(c, "iter_semantics", TASKVMA_PROBE_CAT_KFUNC, TASKVMA_PROBE_NOT_RUN, 0, NULL,
		    "kernel BTF unreadable: %s", c->btf_why);
		return;
	}
	if (!f->kfuncs_present) {
		f->semantics = TASKVMA_SEM_NONE;
		add(c, "iter_semantics", TASKVMA_PROBE_CAT_KFUNC, TASKVMA_PROBE_UNSUPPORTED, 0,
		    taskvma_iter_semantics_name(f->semantics),
		    "bpf_iter_task_vma kfuncs not in kernel BTF");
		return;
	}
	int kd = tid(c, "bpf_iter_task_vma_kern_data", BTF_KIND_STRUCT);

	if (kd < 0) {
		f->semantics = TASKVMA_SEM_UNKNOWN;
		add(c, "iter_semantics", TASKVMA_PROBE_CAT_KFUNC, TASKVMA_PROBE_UNSUPPORTED, 0,
		    taskvma_iter_semantics_name(f->semantics),
		    "no struct bpf_iter_task_vma_kern_data in kernel BTF");
		return;
	}
	int has_snap = fbtf_member_index(&c->btf, (uint32_t)kd, "snapshot") >= 0;
	int has_next = fbtf_member_index(&c->btf, (uint32_t)kd, "next_addr") >= 0;
	/* v6.7 (mainline through 6.19, checked in the BTF of Debian's
	 * 6.18.15 and 6.19.14): { task, mm, work, vmi }: _new() takes the
	 * mmap read lock and the vma_iterator walks under it until _destroy() */
	int has_locked = fbtf_member_index(&c->btf, (uint32_t)kd, "vmi") >= 0 &&
			 fbtf_member_index(&c->btf, (uint32_t)kd, "work") >= 0;

	if (has_snap && has_next) {
		f->semantics = TASKVMA_SEM_PER_VMA_SNAPSHOT;
		add(c, "iter_semantics", TASKVMA_PROBE_CAT_KFUNC, TASKVMA_PROBE_SUPPORTED, 0,
		    taskvma_iter_semantics_name(f->semantics),
		    "struct bpf_iter_task_vma_kern_data has snapshot and next_addr: per-VMA lock, "
		    "_next() returns a copy, walks are not atomic");
	} else if (has_locked) {
		f->semantics = TASKVMA_SEM_MMAP_LOCK_6_7;
		add(c, "iter_semantics", TASKVMA_PROBE_CAT_KFUNC, TASKVMA_PROBE_SUPPORTED, 0,
		    taskvma_iter_semantics_name(f->semantics),
		    "struct bpf_iter_task_vma_kern_data has work and vmi, no snapshot: mmap read "
		    "lock held for the whole walk (v6.7)");
	} else {
		f->semantics = TASKVMA_SEM_UNKNOWN;
		add(c, "iter_semantics", TASKVMA_PROBE_CAT_KFUNC, TASKVMA_PROBE_UNSUPPORTED, 0,
		    taskvma_iter_semantics_name(f->semantics),
		    "struct bpf_iter_task_vma_kern_data has neither snapshot/next_addr nor "
		    "work/vmi: unknown shape");
	}
}

/* ---- program types ------------------------------------------------------ */

enum attach_kind { AK_NONE, AK_FUNC, AK_TYPEDEF, AK_STRUCT_OPS };

struct ptype {
	const char *name;      /* probe name */
	const char *ptype;     /* BPF_PROG_TYPE_ suffix */
	int type;
	int eat;
	const char *attach;    /* shown to the user */
	enum attach_kind ak;
	const char *target;    /* BTF name of the attach target */
	const char *member;    /* AK_STRUCT_OPS: member */
	uint32_t flags;
	int ret;
	int documented;
	enum task_src src;     /* first task source tried */
	int needs;             /* NEED_* */
};

/* The documentation's sixteen types (documented = 1), then three it does
 * not list.  TRACING is probed with three attach targets. */
static const struct ptype ptypes[] = {
	{ .name = "CGROUP_SKB", .ptype = "CGROUP_SKB", .type = BPF_PROG_TYPE_CGROUP_SKB,
	  .eat = BPF_CGROUP_INET_INGRESS, .attach = "cgroup_skb/ingress", .ret = 1,
	  .documented = 1, .src = TS_CURRENT },
	{ .name = "CGROUP_SOCK_ADDR", .ptype = "CGROUP_SOCK_ADDR",
	  .type = BPF_PROG_TYPE_CGROUP_SOCK_ADDR, .eat = BPF_CGROUP_INET4_CONNECT,
	  .attach = "cgroup/connect4", .ret = 1, .documented = 1, .src = TS_CURRENT,
	  .needs = NEED_NET_ADMIN },
	{ .name = "LSM", .ptype = "LSM", .type = BPF_PROG_TYPE_LSM, .eat = BPF_LSM_MAC,
	  .attach = "lsm/file_open", .ak = AK_FUNC, .target = "bpf_lsm_file_open",
	  .documented = 1, .src = TS_CURRENT, .needs = NEED_PERFMON },
	{ .name = "LWT_IN", .ptype = "LWT_IN", .type = BPF_PROG_TYPE_LWT_IN,
	  .attach = "lwt_in", .documented = 1, .src = TS_CURRENT, .needs = NEED_NET_ADMIN },
	{ .name = "LWT_OUT", .ptype = "LWT_OUT", .type = BPF_PROG_TYPE_LWT_OUT,
	  .attach = "lwt_out", .documented = 1, .src = TS_CURRENT, .needs = NEED_NET_ADMIN },
	{ .name = "LWT_SEG6LOCAL", .ptype = "LWT_SEG6LOCAL",
	  .type = BPF_PROG_TYPE_LWT_SEG6LOCAL, .attach = "lwt_seg6local", .documented = 1,
	  .src = TS_CURRENT, .needs = NEED_NET_ADMIN },
	{ .name = "LWT_XMIT", .ptype = "LWT_XMIT", .type = BPF_PROG_TYPE_LWT_XMIT,
	  .attach = "lwt_xmit", .documented = 1, .src = TS_CURRENT, .needs = NEED_NET_ADMIN },
	{ .name = "NETFILTER", .ptype = "NETFILTER", .type = TV_PROG_TYPE_NETFILTER,
	  .eat = TV_ATTACH_NETFILTER, .attach = "netfilter", .ret = 1, .documented = 1,
	  .src = TS_CURRENT, .needs = NEED_NET_ADMIN },
	{ .name = "SCHED_ACT", .ptype = "SCHED_ACT", .type = BPF_PROG_TYPE_SCHED_ACT,
	  .attach = "action", .documented = 1, .src = TS_CURRENT, .needs = NEED_NET_ADMIN },
	{ .name = "SCHED_CLS", .ptype = "SCHED_CLS", .type = BPF_PROG_TYPE_SCHED_CLS,
	  .attach = "tc", .documented = 1, .src = TS_CURRENT, .needs = NEED_NET_ADMIN },
	{ .name = "SK_SKB", .ptype = "SK_SKB", .type = BPF_PROG_TYPE_SK_SKB,
	  .attach = "sk_skb", .documented = 1, .src = TS_CURRENT, .needs = NEED_NET_ADMIN },
	{ .name = "SOCKET_FILTER", .ptype = "SOCKET_FILTER",
	  .type = BPF_PROG_TYPE_SOCKET_FILTER, .attach = "socket", .documented = 1,
	  .src = TS_CURRENT },
	{ .name = "STRUCT_OPS", .ptype = "STRUCT_OPS", .type = BPF_PROG_TYPE_STRUCT_OPS,
	  .attach = "struct_ops/tcp_congestion_ops.init", .ak = AK_STRUCT_OPS,
	  .target = "tcp_congestion_ops", .member = "init", .documented = 1, .src = TS_CURRENT,
	  .needs = NEED_PERFMON },
	{ .name = "SYSCALL", .ptype = "SYSCALL", .type = BPF_PROG_TYPE_SYSCALL,
	  .attach = "syscall", .flags = BPF_F_SLEEPABLE, .documented = 1, .src = TS_CURRENT },
	{ .name = "TRACING iter/task", .ptype = "TRACING", .type = BPF_PROG_TYPE_TRACING,
	  .eat = BPF_TRACE_ITER, .attach = "iter/task", .ak = AK_FUNC,
	  .target = "bpf_iter_task", .documented = 1, .src = TS_CTX, .needs = NEED_PERFMON },
	{ .name = "TRACING tp_btf/sched_process_exec", .ptype = "TRACING",
	  .type = BPF_PROG_TYPE_TRACING, .eat = BPF_TRACE_RAW_TP,
	  .attach = "tp_btf/sched_process_exec", .ak = AK_TYPEDEF,
	  .target = "btf_trace_sched_process_exec", .documented = 1, .src = TS_CURRENT,
	  .needs = NEED_PERFMON },
	{ .name = "TRACING fentry/bpf_fentry_test1", .ptype = "TRACING",
	  .type = BPF_PROG_TYPE_TRACING, .eat = BPF_TRACE_FENTRY,
	  .attach = "fentry/bpf_fentry_test1", .ak = AK_FUNC, .target = "bpf_fentry_test1",
	  .documented = 1, .src = TS_CURRENT, .needs = NEED_PERFMON },
	{ .name = "XDP", .ptype = "XDP", .type = BPF_PROG_TYPE_XDP, .attach = "xdp",
	  .documented = 1, .src = TS_CURRENT, .needs = NEED_NET_ADMIN },
	{ .name = "RAW_TRACEPOINT", .ptype = "RAW_TRACEPOINT",
	  .type = BPF_PROG_TYPE_RAW_TRACEPOINT, .attach = "raw_tp/sys_enter", .documented = 0,
	  .src = TS_CURRENT, .needs = NEED_PERFMON },
	{ .name = "TRACEPOINT", .ptype = "TRACEPOINT", .type = BPF_PROG_TYPE_TRACEPOINT,
	  .attach = "tracepoint/sched/sched_process_exec", .documented = 0, .src = TS_CURRENT,
	  .needs = NEED_PERFMON },
	{ .name = "PERF_EVENT", .ptype = "PERF_EVENT", .type = BPF_PROG_TYPE_PERF_EVENT,
	  .attach = "perf_event", .documented = 0, .src = TS_CURRENT, .needs = NEED_PERFMON },
};

/* Resolve the attach target of pt into l; 0, or -ENOENT with why. */
static int resolve_attach(struct fctx *c, const struct ptype *pt, struct load *l, char *why,
			  size_t len)
{
	int id, idx;

	switch (pt->ak) {
	case AK_NONE:
		return 0;
	case AK_FUNC:
	case AK_TYPEDEF:
		id = tid(c, pt->target, pt->ak == AK_FUNC ? BTF_KIND_FUNC : BTF_KIND_TYPEDEF);
		if (id < 0) {
			snprintf(why, len, "attach target %s %s not in kernel BTF",
				 pt->ak == AK_FUNC ? "FUNC" : "TYPEDEF", pt->target);
			return -ENOENT;
		}
		l->attach_btf_id = (uint32_t)id;
		return 0;
	case AK_STRUCT_OPS:
		id = tid(c, pt->target, BTF_KIND_STRUCT);
		idx = id < 0 ? -1 : fbtf_member_index(&c->btf, (uint32_t)id, pt->member);
		if (idx < 0) {
			snprintf(why, len, "struct %s member %s not in kernel BTF", pt->target,
				 pt->member);
			return -ENOENT;
		}
		l->attach_btf_id = (uint32_t)id;
		l->eat = idx;
		return 0;
	}
	return 0;
}

static void probe_prog_type(struct fctx *c, const struct ptype *pt)
{
	struct load l = { .type = pt->type, .eat = pt->eat, .flags = pt->flags, .ret = pt->ret,
			  .iter = 1, .ringbuf_fd = -1 };
	enum taskvma_probe_status st = TASKVMA_PROBE_UNSUPPORTED;
	char why1[400] = "", why2[400] = "", detail[1024];
	const char *src = NULL, *src1 = task_src_name(pt->src);
	struct taskvma_probe *p;
	int err = 0, e1, e2 = 1, from_pid_ok = -1;

	if (!c->btf_ok) {
		st = TASKVMA_PROBE_NOT_RUN;
		snprintf(detail, sizeof(detail), "kernel BTF unreadable: %s", c->btf_why);
		goto out;
	}
	if (!c->f->kfuncs_present) {
		snprintf(detail, sizeof(detail), "bpf_iter_task_vma kfuncs not in kernel BTF");
		err = ENOENT;
		goto out;
	}
	if (resolve_attach(c, pt, &l, detail, sizeof(detail))) {
		err = ENOENT;
		goto out;
	}
	if (pt->src == TS_CTX) {
		/* iter/task: ctx is struct bpf_iter__task { meta; task; }. */
		int ctx_id = tid(c, "bpf_iter__task", BTF_KIND_STRUCT);
		int off = ctx_id < 0 ? -1 : fbtf_member_offset(&c->btf, (uint32_t)ctx_id, "task");

		if (off < 0) {
			snprintf(detail, sizeof(detail), "struct bpf_iter__task.task not in kernel BTF");
			err = ENOENT;
			goto out;
		}
		l.ctx_task_off = off;
	}
	l.src = pt->src;
	e1 = try_load(c, pt->name, &l, why1, sizeof(why1));
	if (e1) {
		err = -e1;
		st = refused(c, "bpf(BPF_PROG_LOAD)", e1, pt->needs, why1, detail, sizeof(detail));
		if (st == TASKVMA_PROBE_NOT_RUN)
			goto out;
	}
	/* The other way to get a trusted task: bpf_task_from_pid().  Not when
	 * the load was refused before the verifier looked at the code (EPERM
	 * here for fentry and LSM): the program's content does not matter. */
	if ((!e1 || c->had_log) && c->id_from_pid >= 0 && c->id_release >= 0) {
		l.src = TS_FROM_PID;
		e2 = try_load(c, pt->name, &l, why2, sizeof(why2));
		from_pid_ok = !e2;
	}
	if (!e1 && !e2) {
		st = TASKVMA_PROBE_SUPPORTED;
		src = src1;
		snprintf(detail, sizeof(detail),
			 "verifier accepted the kfunc calls (task from %s; also from "
			 "bpf_task_from_pid)", src1);
	} else if (!e1) {
		st = TASKVMA_PROBE_SUPPORTED;
		src = src1;
		if (from_pid_ok < 0)
			snprintf(detail, sizeof(detail),
				 "verifier accepted the kfunc calls (task from %s)", src1);
		else
			snprintf(detail, sizeof(detail),
				 "verifier accepted the kfunc calls (task from %s; "
				 "bpf_task_from_pid refused: %s)", src1, why2);
	} else if (!e2) {
		st = TASKVMA_PROBE_SUPPORTED;
		err = 0;
		src = task_src_name(TS_FROM_PID);
		snprintf(detail, sizeof(detail),
			 "verifier accepted the kfunc calls (task from bpf_task_from_pid; %s "
			 "refused: %s)", src1, why1);
	} else if (from_pid_ok == 0) {
		snprintf(detail, sizeof(detail), "%s; with bpf_task_from_pid: %s", why1, why2);
	} else if (!c->had_log) {
		/* Refused before verification: is it the program type itself?
		 * Load the same type and target with no kfunc call at all. */
		struct load base = l;
		char whyb[400];
		int eb;

		base.src = TS_NONE;
		base.iter = 0;
		eb = try_load(c, pt->name, &base, whyb, sizeof(whyb));
		snprintf(detail, sizeof(detail), "%s; %s", why1,
			 !eb ? "a program of this type without the kfunc calls is accepted" :
			 eb == e1 ? "a program of this type without the kfunc calls is refused the "
				    "same way: the kfuncs are not the cause" :
				    "a program of this type without the kfunc calls is refused too");
	}
out:
	p = add(c, pt->name, TASKVMA_PROBE_CAT_PROG_TYPE, st, err, NULL, "%s", detail);
	if (p) {
		p->prog_type = xstrdup(c, pt->ptype);
		p->section = xstrdup(c, pt->attach);
		p->task_source = xstrdup(c, src);
		p->documented = pt->documented;
		p->task_from_pid = from_pid_ok;
	}
}

/* ---- dependencies of taskvma ------------------------------------------- */

/* The BPF backend itself: the engine's real walker, loaded the way
 * taskvma_open() loads it (the fastest variant the verifier accepts), so
 * that this answer is what the backend does, not a look-alike program.
 * Also reports which variant loaded and why faster ones did not
 * ("bpf_engine_variant"). */
struct walker_log {
	char msg[400];
};

static void walker_log_fn(enum taskvma_log_level lvl, const char *msg, void *ctx)
{
	struct walker_log *wl = ctx;

	if (lvl == TASKVMA_LOG_WARN)
		snprintf(wl->msg, sizeof(wl->msg), "%s", msg);
}

static void probe_walker(struct fctx *c)
{
	struct walker_log wl = { "" };
	struct taskvma *tv;
	const char *variant, *sp;
	char name[16] = "";
	int err;

	if (!c->btf_ok) {
		add(c, "bpf_walker", TASKVMA_PROBE_CAT_DEPENDENCY, TASKVMA_PROBE_NOT_RUN, 0, NULL,
		    "kernel BTF unreadable: %s", c->btf_why);
		return;
	}
	if (!c->f->kfuncs_present) {
		add(c, "bpf_walker", TASKVMA_PROBE_CAT_DEPENDENCY, TASKVMA_PROBE_UNSUPPORTED, ENOENT,
		    NULL, "bpf_iter_task_vma kfuncs not in kernel BTF");
		return;
	}
	TASKVMA_OPTS(taskvma_opts, o, .backend = TASKVMA_BACKEND_BPF, .log = walker_log_fn,
		     .log_ctx = &wl, .log_level = TASKVMA_LOG_WARN);
	err = taskvma_open(&tv, &o);
	if (err) {
		const char *m = strncmp(wl.msg, "backend bpf unavailable: ", 25) ? wl.msg : wl.msg + 25;

		if (err == -EPERM || err == -EACCES)
			add(c, "bpf_walker", TASKVMA_PROBE_CAT_DEPENDENCY, TASKVMA_PROBE_NOT_RUN, -err,
			    NULL, "the caller lacks the privileges to load the VMA walker: %s",
			    m[0] ? m : strerror(-err));
		else
			add(c, "bpf_walker", TASKVMA_PROBE_CAT_DEPENDENCY, TASKVMA_PROBE_UNSUPPORTED,
			    -err, NULL, "the VMA walker does not load: %s", m[0] ? m : strerror(-err));
		return;
	}
	c->f->bpf_walker = 1;
	variant = tv_bpf_variant(tv);
	if (variant && !strncmp(variant, "engine variant ", 15)) {
		snprintf(name, sizeof(name), "%s", variant + 15);
		sp = strchr(name, ' ');
		if (sp)
			name[sp - name] = 0;
	}
	add(c, "bpf_walker", TASKVMA_PROBE_CAT_DEPENDENCY, TASKVMA_PROBE_SUPPORTED, 0, NULL,
	    "the VMA walker (iter/task calling bpf_iter_task_vma_*) loads: %s",
	    variant ? variant : "?");
	add(c, "bpf_engine_variant", TASKVMA_PROBE_CAT_BACKEND, TASKVMA_PROBE_SUPPORTED, 0, name,
	    "%s (variants, fastest first: dpath = bpf_d_path on vm_file, walk = path rebuilt in "
	    "the kernel, user = names resolved in user space)", variant ? variant : "?");
	taskvma_close(tv);
}

/* Add a dependency probe for a plain program load. */
static void dep_load(struct fctx *c, const char *name, struct load *l, int needs,
		     const char *ok_text)
{
	char why[400], detail[800];
	int err = try_load(c, name, l, why, sizeof(why));
	enum taskvma_probe_status st;

	if (!err) {
		add(c, name, TASKVMA_PROBE_CAT_DEPENDENCY, TASKVMA_PROBE_SUPPORTED, 0, NULL, "%s",
		    ok_text);
		return;
	}
	st = refused(c, "bpf(BPF_PROG_LOAD)", err, needs, why, detail, sizeof(detail));
	add(c, name, TASKVMA_PROBE_CAT_DEPENDENCY, st, -err, NULL, "%s%s",
	    st == TASKVMA_PROBE_NOT_RUN ? "" : "refused: ", detail);
}

static void probe_task_from_pid(struct fctx *c)
{
	struct load l = { .type = BPF_PROG_TYPE_SYSCALL, .flags = BPF_F_SLEEPABLE,
			  .src = TS_FROM_PID, .ringbuf_fd = -1 };

	if (!c->btf_ok) {
		add(c, "bpf_task_from_pid", TASKVMA_PROBE_CAT_DEPENDENCY, TASKVMA_PROBE_NOT_RUN, 0,
		    NULL, "kernel BTF unreadable: %s", c->btf_why);
		return;
	}
	if (c->id_from_pid < 0 || c->id_release < 0) {
		add(c, "bpf_task_from_pid", TASKVMA_PROBE_CAT_DEPENDENCY, TASKVMA_PROBE_UNSUPPORTED,
		    ENOENT, NULL, "%s not in kernel BTF",
		    c->id_from_pid < 0 ? "bpf_task_from_pid" : "bpf_task_release");
		return;
	}
	dep_load(c, "bpf_task_from_pid", &l, 0,
		 "FUNC in kernel BTF; syscall program calling bpf_task_from_pid/bpf_task_release "
		 "accepted");
}

static void probe_tracepoints(struct fctx *c)
{
	/* trace: exec, exit, signal_deliver; watch: exec, exit, fork,
	 * mmap_lock_released, vm_unmapped_area (src/lib/watch.c) */
	static const char *const tps[] = { "sched_process_exec", "sched_process_exit",
					   "signal_deliver", "sched_process_fork",
					   "mmap_lock_released", "vm_unmapped_area" };
	char name[96], tdname[96], ok[200];

	for (size_t i = 0; i < sizeof(tps) / sizeof(tps[0]); i++) {
		struct load l = { .type = BPF_PROG_TYPE_TRACING, .eat = BPF_TRACE_RAW_TP,
				  .ringbuf_fd = -1 };
		int id;

		snprintf(name, sizeof(name), "tp_btf/%s", tps[i]);
		snprintf(tdname, sizeof(tdname), "btf_trace_%s", tps[i]);
		if (!c->btf_ok) {
			add(c, name, TASKVMA_PROBE_CAT_DEPENDENCY, TASKVMA_PROBE_NOT_RUN, 0, NULL,
			    "kernel BTF unreadable: %s", c->btf_why);
			continue;
		}
		id = tid(c, tdname, BTF_KIND_TYPEDEF);
		if (id < 0) {
			add(c, name, TASKVMA_PROBE_CAT_DEPENDENCY, TASKVMA_PROBE_UNSUPPORTED, ENOENT,
			    NULL, "no tracepoint: TYPEDEF %s not in kernel BTF", tdname);
			continue;
		}
		l.attach_btf_id = (uint32_t)id;
		snprintf(ok, sizeof(ok), "tp_btf program for %s accepted (not attached)", tps[i]);
		dep_load(c, name, &l, NEED_PERFMON, ok);
	}

	/* What `trace` uses where kernels differ (kernel_facts.c decides, for the
	 * tracer and here alike): the exit hook and the task work. */
	if (c->btf_ok) {
		char why[160];
		enum tv_exit_hook eh = tv_kfacts_exit_hook(&c->btf, why, sizeof(why));
		enum tv_task_work tw;

		if (eh == TV_EXIT_HOOK_TASKSTATS) {
			struct load l = { .type = BPF_PROG_TYPE_TRACING, .eat = BPF_TRACE_FENTRY,
					  .ringbuf_fd = -1 };

			l.attach_btf_id = (uint32_t)fbtf_find(&c->btf, "taskstats_exit", BTF_KIND_FUNC);
			snprintf(ok, sizeof(ok), "%s; fentry program accepted (not attached)", why);
			dep_load(c, "trace_exit_hook", &l, NEED_PERFMON, ok);
		} else {
			add(c, "trace_exit_hook", TASKVMA_PROBE_CAT_DEPENDENCY,
			    eh == TV_EXIT_HOOK_TP ? TASKVMA_PROBE_SUPPORTED : TASKVMA_PROBE_UNSUPPORTED,
			    eh == TV_EXIT_HOOK_TP ? 0 : ENOENT, NULL, "%s", why);
		}
		tw = tv_kfacts_task_work(&c->btf, why, sizeof(why));
		if (tw == TV_TASK_WORK_V618 || tw == TV_TASK_WORK_V7)
			add(c, "trace_task_work", TASKVMA_PROBE_CAT_DEPENDENCY, TASKVMA_PROBE_SUPPORTED, 0,
			    NULL, "%s: signals a handler catches are captured", why);
		else
			add(c, "trace_task_work", TASKVMA_PROBE_CAT_DEPENDENCY, TASKVMA_PROBE_UNSUPPORTED,
			    ENOENT, NULL, "%s: only signals that kill are captured", why);
	}

	/* raw_tp programs name their tracepoint only at attach time: the load
	 * says the type works, BTF says the tracepoint exists. */
	struct load l = { .type = BPF_PROG_TYPE_RAW_TRACEPOINT, .ringbuf_fd = -1 };

	if (c->btf_ok && tid(c, "btf_trace_sys_enter", BTF_KIND_TYPEDEF) < 0) {
		add(c, "raw_tp/sys_enter", TASKVMA_PROBE_CAT_DEPENDENCY, TASKVMA_PROBE_UNSUPPORTED,
		    ENOENT, NULL, "no tracepoint: TYPEDEF btf_trace_sys_enter not in kernel BTF");
		return;
	}
	dep_load(c, "raw_tp/sys_enter", &l, NEED_PERFMON,
		 c->btf_ok ? "raw_tracepoint program accepted; sys_enter in kernel BTF (not attached)"
			   : "raw_tracepoint program accepted (kernel BTF unreadable: sys_enter "
			     "not checked)");
}

static void probe_ringbuf(struct fctx *c)
{
	struct load l = { .type = BPF_PROG_TYPE_RAW_TRACEPOINT };
	int fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "tv_probe_rb", 0, 0, 4096, NULL);

	if (fd < 0) {
		int err = -errno;
		const char *en = errno_name(-err);
		enum taskvma_probe_status st;
		char why[200], detail[600];

		snprintf(why, sizeof(why), "bpf(BPF_MAP_CREATE, RINGBUF): %s (%s)",
			 en ? en : "error", strerror(-err));
		st = refused(c, "bpf(BPF_MAP_CREATE)", err, 0, why, detail, sizeof(detail));
		add(c, "ringbuf", TASKVMA_PROBE_CAT_DEPENDENCY, st, -err, NULL, "%s", detail);
		return;
	}
	l.ringbuf_fd = fd;
	dep_load(c, "ringbuf", &l, NEED_PERFMON,
		 "BPF_MAP_TYPE_RINGBUF created; raw_tp program calling bpf_ringbuf_output accepted");
	close(fd);
}

/* One PROCMAP_QUERY for the VMA covering addr; with a build ID buffer when
 * bid != NULL.  0 or -errno. */
static int procmap_query(int fd, uintptr_t addr, struct procmap_query *q, char *name,
			 size_t name_len, unsigned char *bid, size_t bid_len)
{
	memset(q, 0, sizeof(*q));
	q->size = sizeof(*q);
	q->query_addr = addr;
	q->vma_name_addr = (uintptr_t)name;
	q->vma_name_size = (uint32_t)name_len;
	if (bid) {
		q->build_id_addr = (uintptr_t)bid;
		q->build_id_size = (uint32_t)bid_len;
	}
	name[0] = '\0';
	return ioctl(fd, PROCMAP_QUERY, q) < 0 ? -errno : 0;
}

/* PROCMAP_QUERY on /proc/self/maps for the VMA holding this code, without
 * then (full probe) with a build ID buffer.  The build ID is asked of this
 * library's own file, then of libc's, as a file may lack one. */
static void probe_procmap(struct fctx *c, int full)
{
	struct procmap_query q;
	char path[512], name[512], what[1100] = "";
	unsigned char bid[64];
	const uintptr_t addrs[2] = { (uintptr_t)&taskvma_features_probe, (uintptr_t)&ioctl };
	int fd, r;

	snprintf(path, sizeof(path), "%s/self/maps", c->proc_root);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		add(c, "procmap_query", TASKVMA_PROBE_CAT_DEPENDENCY, TASKVMA_PROBE_NOT_RUN, e, NULL,
		    "open %s: %s", path, strerror(e));
		if (full)
			add(c, "procmap_build_id", TASKVMA_PROBE_CAT_DEPENDENCY, TASKVMA_PROBE_NOT_RUN,
			    e, NULL, "open %s: %s", path, strerror(e));
		return;
	}
	r = procmap_query(fd, addrs[0], &q, name, sizeof(name), NULL, 0);
	if (r) {
		add(c, "procmap_query", TASKVMA_PROBE_CAT_DEPENDENCY, TASKVMA_PROBE_UNSUPPORTED, -r,
		    NULL, "ioctl(%s, PROCMAP_QUERY): %s%s", path, strerror(-r),
		    r == -ENOTTY ? " (kernel without PROCMAP_QUERY, added in 6.11)" : "");
		if (full)
			add(c, "procmap_build_id", TASKVMA_PROBE_CAT_DEPENDENCY,
			    TASKVMA_PROBE_UNSUPPORTED, -r, NULL, "PROCMAP_QUERY unavailable: %s",
			    strerror(-r));
		close(fd);
		return;
	}
	c->f->procmap_query = 1;
	add(c, "procmap_query", TASKVMA_PROBE_CAT_DEPENDENCY, TASKVMA_PROBE_SUPPORTED, 0, NULL,
	    "ioctl(%s, PROCMAP_QUERY) found %llx-%llx %s", path, (unsigned long long)q.vma_start,
	    (unsigned long long)q.vma_end, name[0] ? name : "(anonymous)");
	for (int i = 0; full && i < 2; i++) {
		r = procmap_query(fd, addrs[i], &q, name, sizeof(name), bid, sizeof(bid));
		if (r) {
			add(c, "procmap_build_id", TASKVMA_PROBE_CAT_DEPENDENCY,
			    TASKVMA_PROBE_UNSUPPORTED, -r, NULL,
			    "ioctl(%s, PROCMAP_QUERY) with a build ID buffer: %s", path,
			    strerror(-r));
			break;
		}
		if (q.build_id_size > 0) {
			char hex[2 * sizeof(bid) + 1];

			for (uint32_t k = 0; k < q.build_id_size && k < sizeof(bid); k++)
				snprintf(hex + 2 * k, 3, "%02x", bid[k]);
			c->f->procmap_build_id = 1;
			add(c, "procmap_build_id", TASKVMA_PROBE_CAT_DEPENDENCY,
			    TASKVMA_PROBE_SUPPORTED, 0, NULL, "build ID %s (%u bytes) of %s", hex,
			    q.build_id_size, name[0] ? name : "(anonymous)");
			break;
		}
		snprintf(what + strlen(what), sizeof(what) - strlen(what), "%s%.500s",
			 i ? ", " : "", name[0] ? name : "(anonymous)");
		if (i == 1)
			add(c, "procmap_build_id", TASKVMA_PROBE_CAT_DEPENDENCY,
			    TASKVMA_PROBE_UNSUPPORTED, 0, NULL,
			    "PROCMAP_QUERY returned no build ID for %s", what);
	}
	close(fd);
}

static void probe_proc_maps(struct fctx *c, const char *name, const char *pid, int summary)
{
	char path[512], buf[256];
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s/maps", c->proc_root, pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		add(c, name, TASKVMA_PROBE_CAT_DEPENDENCY, TASKVMA_PROBE_UNSUPPORTED, e, NULL,
		    "open %s: %s", path, strerror(e));
		return;
	}
	n = read(fd, buf, sizeof(buf));
	if (n < 0) {
		int e = errno;

		close(fd);
		add(c, name, TASKVMA_PROBE_CAT_DEPENDENCY, TASKVMA_PROBE_UNSUPPORTED, e, NULL,
		    "read %s: %s", path, strerror(e));
		return;
	}
	close(fd);
	if (summary)
		c->f->proc_maps_readable = 1;
	add(c, name, TASKVMA_PROBE_CAT_DEPENDENCY, TASKVMA_PROBE_SUPPORTED, 0, NULL,
	    "%s readable", path);
}

/* ---- backend choice -------------------------------------------------- */

static const char *detail_of(const struct taskvma_features *f, const char *name)
{
	const struct taskvma_probe *p = taskvma_features_find(f, name);

	return p && p->detail ? p->detail : "not probed";
}

static void choose_backend(struct fctx *c)
{
	struct taskvma_features *f = c->f;
	char reason[1200];

	if (f->bpf_walker) {
		f->auto_backend = TASKVMA_BACKEND_BPF;
		snprintf(reason, sizeof(reason),
			 "the BPF walker program (iter/task, bpf_iter_task_vma_*) loads; "
			 "iterator semantics %s", taskvma_iter_semantics_name(f->semantics));
	} else if (f->procmap_query) {
		/* as taskvma_open() does: text for whole maps, the ioctl for
		 * lookups (maps/handle.c, tv_pick()) */
		f->auto_backend = TASKVMA_BACKEND_PROCFS;
		snprintf(reason, sizeof(reason),
			 "BPF walker unusable (%s); whole maps from the /proc/PID/maps text, "
			 "address lookups from PROCMAP_QUERY (works on /proc/self/maps)",
			 detail_of(f, "bpf_walker"));
	} else {
		f->auto_backend = TASKVMA_BACKEND_PROCFS;
		snprintf(reason, sizeof(reason),
			 "BPF walker unusable (%s); PROCMAP_QUERY unusable (%s); /proc/PID/maps text",
			 detail_of(f, "bpf_walker"), detail_of(f, "procmap_query"));
	}
	f->auto_reason = xstrdup(c, reason);
	add(c, "auto_backend", TASKVMA_PROBE_CAT_BACKEND, TASKVMA_PROBE_SUPPORTED, 0,
	    taskvma_backend_name(f->auto_backend), "%s", reason);
}

/* ---- entry points ------------------------------------------------------ */

#define OPT(o, field, dflt)                                                                  \
	((o) && (o)->sz >= offsetof(struct taskvma_features_opts, field) + sizeof((o)->field) \
		 ? (o)->field : (dflt))

static int opts_valid(const struct taskvma_features_opts *o)
{
	if (!o)
		return 1;
	if (o->sz < sizeof(size_t))
		return 0;
	/* A newer caller's fields we do not know must be zero. */
	return TV_OPTS_VALID(o, taskvma_features_opts);
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int taskvma_features_probe(struct taskvma_features **out, const struct taskvma_features_opts *opts)
{
	struct fctx c;
	uint64_t t0 = now_us();
	int full;

	if (!out || !opts_valid(opts))
		return -EINVAL;
	*out = NULL;
	memset(&c, 0, sizeof(c));
	c.flags = OPT(opts, flags, 0u);
	c.log = OPT(opts, log, NULL);
	c.log_ctx = OPT(opts, log_ctx, NULL);
	c.log_level = OPT(opts, log_level, 0);
	c.proc_root = OPT(opts, proc_root, NULL);
	c.btf_path = OPT(opts, btf_path, NULL);
	if (!c.proc_root)
		c.proc_root = "/proc";
	full = !(c.flags & TASKVMA_FEATURES_QUICK);
	c.f = calloc(1, sizeof(*c.f));
	c.logbuf = malloc(LOG_SIZE);
	if (!c.f || !c.logbuf) {
		free(c.f);
		free(c.logbuf);
		return -ENOMEM;
	}
	c.f->quick = !full;
	c.f->unprivileged_bpf_disabled = -1;

	probe_caps(&c);
	if (full) {
		probe_sysctl(&c);
		probe_lockdown(&c, 1);
	}
	open_btf(&c, full);
	probe_kfuncs(&c);
	c.id_from_pid = c.id_release = NO_ID;
	if (full) {
		c.id_from_pid = func_id(&c, "bpf_task_from_pid");
		c.id_release = func_id(&c, "bpf_task_release");
	}
	if (full)
		for (size_t i = 0; i < sizeof(ptypes) / sizeof(ptypes[0]); i++)
			probe_prog_type(&c, &ptypes[i]);
	probe_walker(&c);
	if (full) {
		probe_task_from_pid(&c);
		probe_tracepoints(&c);
		probe_ringbuf(&c);
	}
	probe_procmap(&c, full);
	probe_proc_maps(&c, "proc_maps_self", "self", 1);
	if (full)
		probe_proc_maps(&c, "proc_maps_pid1", "1", 0);
	choose_backend(&c);

	fbtf_close(&c.btf);
	free(c.logbuf);
	/* lockdown points at a static buffer: give the object its own copy. */
	if (c.f->lockdown)
		c.f->lockdown = xstrdup(&c, c.f->lockdown);
	c.f->elapsed_us = now_us() - t0;
	if (c.nomem) {
		taskvma_features_free(c.f);
		return -ENOMEM;
	}
	*out = c.f;
	return 0;
}

void taskvma_features_free(struct taskvma_features *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->nprobes; i++) {
		struct taskvma_probe *p = &f->probes[i];

		free((char *)p->name);
		free((char *)p->detail);
		free((char *)p->value);
		free((char *)p->prog_type);
		free((char *)p->section);
		free((char *)p->task_source);
	}
	free(f->probes);
	free((char *)f->lockdown);
	free((char *)f->auto_reason);
	free(f);
}

const struct taskvma_probe *taskvma_features_find(const struct taskvma_features *f,
						  const char *name)
{
	if (!f || !name)
		return NULL;
	for (size_t i = 0; i < f->nprobes; i++)
		if (f->probes[i].name && !strcmp(f->probes[i].name, name))
			return &f->probes[i];
	return NULL;
}

const char *taskvma_probe_status_name(enum taskvma_probe_status s)
{
	switch (s) {
	case TASKVMA_PROBE_SUPPORTED: return "supported";
	case TASKVMA_PROBE_UNSUPPORTED: return "unsupported";
	case TASKVMA_PROBE_NOT_RUN: return "not_run";
	}
	return "unknown";
}

const char *taskvma_probe_category_name(enum taskvma_probe_category cat)
{
	switch (cat) {
	case TASKVMA_PROBE_CAT_PROG_TYPE: return "prog_type";
	case TASKVMA_PROBE_CAT_KFUNC: return "kfunc";
	case TASKVMA_PROBE_CAT_DEPENDENCY: return "dependency";
	case TASKVMA_PROBE_CAT_SYSTEM: return "system";
	case TASKVMA_PROBE_CAT_BACKEND: return "backend";
	}
	return "unknown";
}

const char *taskvma_iter_semantics_name(enum taskvma_iter_semantics s)
{
	switch (s) {
	case TASKVMA_SEM_NONE: return "none";
	case TASKVMA_SEM_MMAP_LOCK_6_7: return "mmap_lock_6_7";
	case TASKVMA_SEM_PER_VMA_SNAPSHOT: return "per_vma_snapshot";
	case TASKVMA_SEM_UNKNOWN: return "unknown";
	}
	return "unknown";
}
