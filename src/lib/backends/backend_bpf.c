// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The BPF backend: runs src/bpf/vma_walk.bpf.c, an iter/task program that
 * walks VMAs with bpf_iter_task_vma_new/_next/_destroy, and reads its
 * records from mmapped array maps, one batch per read() of the iterator.
 *
 * A read() that returns -1/EAGAIN means "batch full": we consume it, reset
 * the fill counters, and read() again; the kernel re-runs the program for
 * the same task, which resumes at resume_addr.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "internal.h"
#include "kernel_facts.h"
#include "procmap_query.h"
#include "vma_walk.h"
/* A light skeleton: the program is loaded by a loader program inside the
 * kernel, which resolves kfuncs and CO-RE relocations against the kernel's
 * own BTF.  libbpf's user-space loader would first read and parse all of
 * /sys/kernel/btf/vmlinux (about 20 ms, half of a `taskvma maps PID`). */
#include "vma_walk.lskel.h"

/* Names resolved in user space (VW_F_NAME_USER: backing files, d_dname
 * files, every file in USER mode), once per distinct file during a pass:
 * open addressing, keyed by (mnt, dentry). */
struct backing_cache {
	struct backing_ent {
		struct vw_name_key key;
		uint32_t off, len;	/* in text */
		int err;
	} *tab;
	size_t cap, used;
	char *text;
	size_t text_len, text_cap;
};

/* Names of the current pass by id (the BPF side sends each text once). */
struct name_table {
	uint32_t *off, *len;	/* by id */
	size_t cap;		/* ids */
	char *text;
	size_t text_len, text_cap;
};

struct bpf_state {
	struct vma_walk_lbpf *skel;
	unsigned name_mode;	/* VW_NAMES_* the loaded program uses */
	bool lk_loaded;		/* loaded with the lookup code (lk_enabled) */
	char variant_why[200];	/* which variant, and why not a faster one */
	bool nested;		/* a walk during a pass's hold: keep its name ids */
	struct all_pass *pass;	/* the pass of every process, while one runs */
	struct backing_cache bc;
	struct name_table nt;
	struct vw_rec *recs;
	struct vw_task *tasks;
	char *names;
	struct vw_lk_addrs *lk_addrs;	/* address lookups' inputs (written here) */
	struct vw_lk_procs *lk_procs;
	size_t recs_sz, tasks_sz, names_sz, lk_addrs_sz, lk_procs_sz;
};

/* One pass of the iterator: a link (optionally limited to one tid) and the
 * iterator fd read batch by batch. */
struct bpf_pass {
	int link_fd;
	int iter_fd;
	bool more;		/* the last batch was full: read again */
	uint32_t nrec, ntask;	/* size of the current batch */
	uint32_t nname;		/* bytes of name text in it */
};

struct bpf_walk {
	struct bpf_pass pass;
	uint32_t ri;		/* next record of the batch */
	uint32_t seq0;
	bool have_seq0;
	bool seen_task;
	char namebuf[300];	/* "[anon:NAME]" */
};

static void bc_reset(struct backing_cache *bc)
{
	if (bc->used)
		memset(bc->tab, 0, bc->cap * sizeof(*bc->tab));
	bc->used = 0;
	bc->text_len = 0;
}

static int nt_add(struct name_table *nt, uint32_t id, const char *s, uint32_t len)
{
	if (id >= nt->cap) {
		size_t cap = nt->cap ? nt->cap : 1024;
		uint32_t *o, *l;

		while (cap <= id)
			cap *= 2;
		o = realloc(nt->off, cap * sizeof(*o));
		if (o)
			nt->off = o;
		l = realloc(nt->len, cap * sizeof(*l));
		if (l)
			nt->len = l;
		if (!o || !l)
			return -ENOMEM;
		memset(nt->len + nt->cap, 0xff, (cap - nt->cap) * sizeof(*l));
		nt->cap = cap;
	}
	/* stored as /proc prints it, escaped once per name, not once per VMA */
	size_t elen = tv_escaped_len(s, len);

	if (tv_reserve((void **)&nt->text, &nt->text_cap, nt->text_len + elen, 1, 65536))
		return -ENOMEM;
	tv_escape_copy(nt->text + nt->text_len, s, len);
	nt->off[id] = (uint32_t)nt->text_len;
	nt->len[id] = (uint32_t)elen;
	nt->text_len += elen;
	return 0;
}

static void nt_free(struct name_table *nt)
{
	free(nt->off);
	free(nt->len);
	free(nt->text);
	memset(nt, 0, sizeof(*nt));
}

static void bc_free(struct backing_cache *bc)
{
	free(bc->tab);
	free(bc->text);
	memset(bc, 0, sizeof(*bc));
}

/* Map an mmapable array map of nelem values of vsize bytes (prot: read-only
 * for outputs, read-write for inputs). */
static void *map_mmap_prot(int fd, size_t vsize, size_t nelem, size_t *sz, int prot)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	size_t vsz = (vsize + 7) & ~(size_t)7;
	void *p;

	*sz = (vsz * nelem + pg - 1) & ~(pg - 1);
	p = mmap(NULL, *sz, prot, MAP_SHARED, fd, 0);
	return p == MAP_FAILED ? NULL : p;
}

static void *map_mmap(int fd, size_t vsize, size_t nelem, size_t *sz)
{
	return map_mmap_prot(fd, vsize, nelem, sz, PROT_READ);
}

static void pass_close(struct bpf_pass *ps)
{
	if (ps->iter_fd >= 0)
		close(ps->iter_fd);
	ps->iter_fd = -1;
	if (ps->link_fd >= 0)
		close(ps->link_fd);
	ps->link_fd = -1;
}

static int pass_open(struct taskvma *tv, struct bpf_pass *ps, pid_t tid)
{
	struct bpf_state *st = tv->bpf;
	DECLARE_LIBBPF_OPTS(bpf_link_create_opts, opts);
	union bpf_iter_link_info linfo;
	int err;

	memset(ps, 0, sizeof(*ps));
	ps->iter_fd = -1;
	ps->link_fd = -1;
	memset(&linfo, 0, sizeof(linfo));
	if (tid) {
		linfo.task.tid = tid;
		opts.iter_info = &linfo;
		opts.iter_info_len = sizeof(linfo);
	}
	/* dentries may be freed and reused between passes: new name ids */
	if (!st->nested) {
		bc_reset(&st->bc);
		if (st->nt.cap)
			memset(st->nt.len, 0xff, st->nt.cap * sizeof(*st->nt.len));
		st->nt.text_len = 0;
		st->skel->bss->pass_gen++;
		st->skel->bss->next_name_id = 1;
	}
	st->skel->bss->target_pid = tid;
	st->skel->bss->resume_pid = 0;
	st->skel->bss->resume_addr = 0;
	ps->link_fd = bpf_link_create(st->skel->progs.walk.prog_fd, 0, BPF_TRACE_ITER, &opts);
	if (ps->link_fd < 0) {
		err = -errno;
		if (tid && (err == -ESRCH || err == -ENOENT || err == -EINVAL))
			return tv_error(tv, -ESRCH, "pid %d: no such process", tid);
		return tv_error(tv, err, "attach iter/task: %s", strerror(-err));
	}
	ps->iter_fd = bpf_iter_create(ps->link_fd);
	if (ps->iter_fd < 0) {
		err = -errno;
		pass_close(ps);
		return tv_error(tv, err, "bpf_iter_create: %s", strerror(-err));
	}
	ps->more = true;
	return 0;
}

/* Run the program until the batch is full or the pass ends.  0 or -errno. */
static int pass_read(struct taskvma *tv, struct bpf_pass *ps)
{
	struct bpf_state *st = tv->bpf;
	char dummy[8];
	ssize_t n;

	st->skel->bss->nrec = 0;
	st->skel->bss->ntask = 0;
	st->skel->bss->nname = 0;
	n = read(ps->iter_fd, dummy, sizeof(dummy));
	if (n < 0 && errno != EAGAIN)
		return tv_error(tv, -errno, "read iterator: %s", strerror(errno));
	/* the program writes nothing to the seq_file: any byte is a bug */
	if (n > 0)
		return tv_error(tv, -EIO, "unexpected iterator output");
	ps->more = n < 0;
	tv_log(tv, TASKVMA_LOG_DEBUG, "batch: %u program runs, %u tasks, %u records%s",
	       st->skel->bss->ncalls, st->skel->bss->ntask, st->skel->bss->nrec,
	       ps->more ? ", more" : "");
	st->skel->bss->ncalls = 0;
	ps->nrec = st->skel->bss->nrec;
	ps->ntask = st->skel->bss->ntask;
	ps->nname = st->skel->bss->nname;
	if (ps->nrec > VW_REC_CAP || ps->ntask > VW_TASK_CAP)
		return tv_error(tv, -EIO, "corrupt batch");
	return 0;
}

static size_t bc_hash(const struct vw_name_key *k)
{
	uint64_t h = k->dentry * 0x9e3779b97f4a7c15ull ^ k->mnt;

	return (size_t)(h ^ h >> 29);
}

/* The name of the mapping [start, end) of pid as the kernel's own d_path()
 * of file_user_path() gives it: readlink of /proc/PID/map_files (one system
 * call; needs CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE), else PROCMAP_QUERY
 * (6.11+; the same permission as reading /proc/PID/maps).  Returns the
 * length, or -errno of the last way tried. */
static ssize_t kernel_vma_name(struct taskvma *tv, pid_t pid, uint64_t start, uint64_t end,
			       char *buf, size_t cap)
{
	struct procmap_query q;
	char path[192];
	ssize_t n;
	int fd, err;

	snprintf(path, sizeof(path), "%s/%d/map_files/%llx-%llx", tv->proc_root, pid,
		 (unsigned long long)start, (unsigned long long)end);
	n = readlink(path, buf, cap);
	if (n >= 0)
		return (size_t)n == cap ? -ENAMETOOLONG : n;
	err = -errno;
	if (err != -EPERM && err != -EACCES)
		return err;
	if (tv_open_maps(tv, pid, &fd))
		return err;
	memset(&q, 0, sizeof(q));
	q.size = sizeof(q);
	q.query_addr = start;
	q.vma_name_addr = (uintptr_t)buf;
	q.vma_name_size = (uint32_t)cap;
	n = ioctl(fd, PROCMAP_QUERY, &q) ? -errno : (ssize_t)q.vma_name_size - 1;
	close(fd);
	tv->err_msg[0] = 0;
	if (n >= 0 && (q.vma_start != start || q.vma_end != end))
		n = -EAGAIN;	/* the map changed: the walk is torn anyway */
	if (n == -ENOTTY || n == -EINVAL)
		n = err;	/* no PROCMAP_QUERY here: map_files' answer */
	return n;
}

/* A name user space resolves (struct vw_name_key from the kernel): once per
 * distinct file per pass, escaped as /proc prints it. */
static int user_name(struct taskvma *tv, pid_t pid, const struct vw_rec *r,
		     const struct vw_name_key *key, const char **name, uint32_t *len)
{
	struct backing_cache *bc = &((struct bpf_state *)tv->bpf)->bc;
	struct backing_ent *e;
	char buf[4096], *text = NULL;
	const char *src;
	ssize_t n;
	size_t i, elen;

	if (bc->used * 2 >= bc->cap) {
		size_t cap = bc->cap ? bc->cap * 2 : 256;
		struct backing_ent *tab = calloc(cap, sizeof(*tab));

		if (!tab)
			return -ENOMEM;
		for (i = 0; i < bc->cap; i++) {
			size_t j;

			if (!bc->tab[i].key.dentry)
				continue;
			for (j = bc_hash(&bc->tab[i].key) & (cap - 1); tab[j].key.dentry; j = (j + 1) & (cap - 1))
				;
			tab[j] = bc->tab[i];
		}
		free(bc->tab);
		bc->tab = tab;
		bc->cap = cap;
	}
	for (i = bc_hash(key) & (bc->cap - 1); bc->tab[i].key.dentry; i = (i + 1) & (bc->cap - 1)) {
		e = &bc->tab[i];
		if (e->key.dentry == key->dentry && e->key.mnt == key->mnt)
			goto found;
	}
	n = kernel_vma_name(tv, pid, r->start, r->end, buf, sizeof(buf));
	if (n == -ENAMETOOLONG) {
		/* longer than PATH_MAX: /proc's text has it (already escaped) */
		size_t tl = 0;

		n = tv_procfs_name(tv, pid, r->start, &text, &tl);
		n = n ? n : (ssize_t)tl;
		tv->err_msg[0] = 0;
	}
	if (n == -EAGAIN || n == -ENOENT || n == -ESRCH) {
		free(text);
		return -EIO;	/* changed or gone: the caller re-reads */
	}
	e = &bc->tab[i];
	e->key = *key;
	bc->used++;
	if (n < 0) {
		e->err = (int)n;
		goto found;
	}
	src = text ? text : buf;
	elen = tv_escaped_len(src, (size_t)n);
	if (tv_reserve((void **)&bc->text, &bc->text_cap, bc->text_len + elen, 1, 16384)) {
		free(text);
		return -ENOMEM;
	}
	tv_escape_copy(bc->text + bc->text_len, src, (size_t)n);
	free(text);
	e->off = (uint32_t)bc->text_len;
	e->len = (uint32_t)elen;
	bc->text_len += elen;
found:
	if (e->err)
		return tv_error(tv, e->err, "pid %d: the name of the mapping at %llx could not be "
			       "resolved in user space: %s", pid, (unsigned long long)r->start,
			       strerror(-e->err));
	*name = bc->text + e->off;
	*len = e->len;
	return 0;
}

/* A batch: the mmapped maps as the kernel filled them, or a private copy of
 * what is left of one (when a process must be re-read before the rest). */
struct batch_view {
	const struct vw_rec *recs;
	const struct vw_task *tasks;
	const char *names;
	size_t names_sz;
	uint32_t nrec, ntask;
};

/* Turn a kernel record into the public one.  0 or -EIO (name unreadable). */
static int rec_to_vma(struct taskvma *tv, const struct batch_view *bv, const struct vw_rec *r,
		      struct taskvma_vma *v, char *namebuf, size_t namebuf_sz, pid_t pid)
{
	struct name_table *nt = &((struct bpf_state *)tv->bpf)->nt;
	const char *names = bv->names;
	size_t names_sz = bv->names_sz;

	tv_vma_from_kernel(v, r->start, r->end, r->pgoff, r->ino, r->dev,
			   r->flags & (VW_F_READ | VW_F_WRITE | VW_F_EXEC | VW_F_MAYSHARE), r->kind);
	if (r->flags & VW_F_NAME_ERR)
		return tv_error(tv, -EIO, "pid %d: the name of the mapping at %llx could not be read",
				pid, (unsigned long long)r->start);
	if (r->flags & VW_F_NAME_USER) {
		struct vw_name_key key;

		if ((size_t)r->name_off + sizeof(key) > names_sz || r->name_len != sizeof(key))
			return tv_error(tv, -EIO, "corrupt name offset");
		memcpy(&key, names + r->name_off, sizeof(key));
		return user_name(tv, pid, r, &key, &v->name, &v->name_len);
	}
	if (r->kind == VW_KIND_FILE && r->name_id) {
		if (r->flags & VW_F_NAME_NEW) {
			const char *text = names + r->name_off;
			size_t len = r->name_len;
			char path[VW_NAME_MAX + TV_COMP_MAX + 16];

			if ((size_t)r->name_off + r->name_len > names_sz)
				return tv_error(tv, -EIO, "corrupt name offset");
			if (((struct bpf_state *)tv->bpf)->name_mode == VW_NAMES_WALK) {
				/* components, leaf first: d_path()'s text */
				len = tv_path_join(text, len, path, sizeof(path) - 10);
				if (len > sizeof(path) - 10)
					return tv_error(tv, -EIO, "corrupt name");
				if (r->flags & VW_F_DELETED) {
					memcpy(path + len, " (deleted)", 10);
					len += 10;
				}
				text = path;
			}
			if (nt_add(nt, r->name_id, text, (uint32_t)len))
				return -ENOMEM;
		}
		if (r->name_id >= nt->cap || nt->len[r->name_id] == UINT32_MAX)
			return tv_error(tv, -EIO, "pid %d: unknown name id %u", pid, r->name_id);
		v->name = nt->text + nt->off[r->name_id];
		v->name_len = nt->len[r->name_id];
		return 0;
	}
	switch (r->kind) {
	case VW_KIND_FILE:
	case VW_KIND_SPECIAL:
		if ((size_t)r->name_off + r->name_len > names_sz)
			return tv_error(tv, -EIO, "corrupt name offset");
		v->name = names + r->name_off;
		v->name_len = r->name_len;
		break;
	case VW_KIND_HEAP:
		v->name = "[heap]";
		v->name_len = 6;
		break;
	case VW_KIND_STACK:
		v->name = "[stack]";
		v->name_len = 7;
		break;
	case VW_KIND_ANON_NAMED: {
		int n = snprintf(namebuf, namebuf_sz, "[anon:%.*s]", (int)r->name_len,
				 names + r->name_off);

		v->name = namebuf;
		v->name_len = (uint32_t)n;
		break;
	}
	default:
		break;
	}
	return 0;
}

static void set_filter(struct taskvma *tv, const struct taskvma_query *q, bool no_names)
{
	struct vw_filter *f = &((struct bpf_state *)tv->bpf)->skel->bss->filter;

	f->addr_lo = q->addr_lo;
	f->addr_hi = q->addr_hi;
	/* TASKVMA_PERM_* and VW_F_* share their bits, as do the kinds */
	f->perm_set = q->perm_set;
	f->perm_clear = q->perm_clear;
	f->kinds = q->kinds;
	f->no_names = no_names;
}

/* Learn special_mapping_name()'s address from our own [vdso] VMA. */
static int calibrate(struct taskvma *tv)
{
	struct bpf_state *st = tv->bpf;
	struct taskvma_query q = { .sz = sizeof(q) };
	unsigned long vdso = getauxval(AT_SYSINFO_EHDR);
	struct bpf_pass ps;
	int err;

	if (!vdso)
		return 0;
	q.addr_lo = vdso;
	q.addr_hi = vdso + 1;
	set_filter(tv, &q, true);
	st->skel->bss->calibrate = 1;
	err = pass_open(tv, &ps, getpid());
	if (!err)
		err = pass_read(tv, &ps);
	pass_close(&ps);
	st->skel->bss->calibrate = 0;
	if (err)
		return err;
	if (ps.ntask != 1 || st->tasks[0].err)
		return tv_error(tv, -EIO, "calibration walk failed (%d)",
				ps.ntask ? st->tasks[0].err : -ESRCH);
	tv_log(tv, TASKVMA_LOG_DEBUG, "special_mapping_name at %llx",
	       (unsigned long long)st->skel->bss->special_mapping_name_addr);
	return 0;
}

static void unmap_all(struct bpf_state *st)
{
	if (st->recs)
		munmap(st->recs, st->recs_sz);
	if (st->tasks)
		munmap(st->tasks, st->tasks_sz);
	if (st->names)
		munmap(st->names, st->names_sz);
	if (st->lk_addrs)
		munmap(st->lk_addrs, st->lk_addrs_sz);
	if (st->lk_procs)
		munmap(st->lk_procs, st->lk_procs_sz);
	st->recs = NULL, st->tasks = NULL, st->names = NULL;
	st->lk_addrs = NULL, st->lk_procs = NULL;
}

/* The loaded walker's maps, in our address space; -1 and errno on failure
 * (what was mapped stays for unmap_all()). */
static int map_all(struct bpf_state *st)
{
	st->recs = map_mmap(st->skel->maps.recs.map_fd, sizeof(struct vw_rec), VW_REC_CAP,
			    &st->recs_sz);
	st->tasks = map_mmap(st->skel->maps.tasks.map_fd, sizeof(struct vw_task), VW_TASK_CAP,
			     &st->tasks_sz);
	st->names = map_mmap(st->skel->maps.names.map_fd, VW_NAME_BUF, 1, &st->names_sz);
	st->lk_addrs = map_mmap_prot(st->skel->maps.lk_addrs.map_fd, sizeof(struct vw_lk_addrs), 1,
				     &st->lk_addrs_sz, PROT_READ | PROT_WRITE);
	st->lk_procs = map_mmap_prot(st->skel->maps.lk_procs.map_fd, sizeof(struct vw_lk_procs), 1,
				     &st->lk_procs_sz, PROT_READ | PROT_WRITE);
	return st->recs && st->tasks && st->names && st->lk_addrs && st->lk_procs ? 0 : -1;
}

static void bpf_close(struct taskvma *tv)
{
	struct bpf_state *st = tv->bpf;

	if (!st)
		return;
	unmap_all(st);
	vma_walk_lbpf__destroy(st->skel);
	bc_free(&st->bc);
	nt_free(&st->nt);
	free(st);
	tv->bpf = NULL;
}




static const char *const mode_names[] = {
	[VW_NAMES_DPATH] = "dpath",
	[VW_NAMES_WALK] = "walk",
	[VW_NAMES_USER] = "user",
};

/* Open and load the walker with files named the given way. */
static int load_variant(struct vma_walk_lbpf **out, unsigned mode, bool lk, char *log,
			size_t log_sz)
{
	struct vma_walk_lbpf *skel = vma_walk_lbpf__open();
	int err;

	*out = NULL;
	if (!skel)
		return -errno ?: -ENOMEM;
	skel->rodata->fmode_backing = tv_fmode_backing();
	skel->rodata->name_mode = mode;
	skel->rodata->lk_enabled = lk;
	if (log) {
		skel->ctx.log_level = 1;
		skel->ctx.log_size = (__u32)log_sz;
		skel->ctx.log_buf = (__u64)(uintptr_t)log;
	}
	err = vma_walk_lbpf__load(skel);
	if (err) {
		vma_walk_lbpf__destroy(skel);
		return err;
	}
	*out = skel;
	return 0;
}

/* After a rejected load: load again with the verifier log on, for -v -v.
 * Only on failure, so that a normal open pays nothing for it. */
static void log_verifier(struct taskvma *tv, unsigned mode)
{
	const size_t sz = 4u << 20;
	struct vma_walk_lbpf *skel;
	char *buf;

	if (tv->opts.log_level < TASKVMA_LOG_DEBUG || !tv->opts.log)
		return;
	buf = calloc(1, sz);
	if (!buf)
		return;
	if (!load_variant(&skel, mode, false, buf, sz))
		vma_walk_lbpf__destroy(skel);
	/* whole, not through tv_log(): its lines are short */
	tv_log(tv, TASKVMA_LOG_DEBUG, "verifier log of the VMA walker, variant %s:", mode_names[mode]);
	tv->opts.log(TASKVMA_LOG_DEBUG, buf, tv->opts.log_ctx);
	free(buf);
}

/* The walker's variants, fastest first (VW_NAMES_*): the first that this
 * kernel's verifier accepts is used.  Upstream kernels take DPATH (6.7-6.18:
 * vm_file is a plain pointer; 6.19+: trusted or NULL); hardened builds that
 * trust no pointer walked from the VMA refuse bpf_d_path() and take WALK.
 * TASKVMA_BPF_NAMES=dpath|walk|user forces one (meant for tests: each
 * variant is compared with /proc on whatever kernel the tests run on). */
static int load_walker(struct taskvma *tv, struct bpf_state *st)
{
	const char *force = getenv("TASKVMA_BPF_NAMES");
	unsigned first = VW_NAMES_DPATH, last = VW_NAMES_USER, mode;
	char refused[160] = "";
	size_t rl = 0;
	int err = -EINVAL;

	if (force && *force) {
		for (mode = 0; mode <= VW_NAMES_USER; mode++)
			if (!strcmp(force, mode_names[mode]))
				break;
		if (mode > VW_NAMES_USER)
			return tv_error(tv, -EINVAL, "TASKVMA_BPF_NAMES=%s: not one of dpath, walk, user",
					force);
		first = last = mode;
	}
	for (mode = first; mode <= last; mode++) {
		err = load_variant(&st->skel, mode, false, NULL, 0);
		if (!err)
			break;
		/* the verifier's refusal: try the next variant; anything else
		 * (no permission, a missing kfunc) fails them all alike */
		log_verifier(tv, mode);	/* (E2BIG too: the verifier's complexity limit) */
		if (err != -EACCES && err != -EINVAL)
			break;
		rl += (size_t)snprintf(refused + rl, sizeof(refused) - rl, "%s%s", rl ? ", " : "",
				       mode_names[mode]);
		if (rl >= sizeof(refused))
			rl = sizeof(refused) - 1;
	}
	if (err) {
		if (err == -EPERM)
			return tv_error(tv, err, "BPF not permitted: %s", strerror(-err));
		if (err == -EACCES || err == -EINVAL)
			return tv_error(tv, -EOPNOTSUPP, "the kernel's verifier rejected every variant "
					"of the VMA walker (%s)", refused);
		if (err == -ENOENT || err == -ESRCH)
			return tv_error(tv, -EOPNOTSUPP, "the kernel lacks a kfunc or type the VMA "
					"walker needs (bpf_iter_task_vma_new: Linux 6.7+ with BTF): %s",
					strerror(-err));
		return tv_error(tv, err, "load BPF program: %s", strerror(-err));
	}
	st->name_mode = mode;
	snprintf(st->variant_why, sizeof(st->variant_why), "engine variant %s%s%s%s",
		 mode_names[mode], rl ? " (the verifier refused " : "", refused,
		 rl ? ")" : force && *force ? " (forced by TASKVMA_BPF_NAMES)" : "");
	tv_log(tv, TASKVMA_LOG_INFO, "%s", st->variant_why);
	return 0;
}

static int bpf_open(struct taskvma *tv)
{
	struct bpf_state *st;
	uint64_t caps = tv_cap_eff();
	int err;

	/* iter/task programs and bpf_d_path need CAP_BPF + CAP_PERFMON (or
	 * CAP_SYS_ADMIN): say so without trying, and without libbpf noise */
	if (!(caps >> TV_CAP_SYS_ADMIN & 1) &&
	    !((caps >> TV_CAP_BPF & 1) && (caps >> TV_CAP_PERFMON & 1)))
		return tv_error(tv, -EPERM, "BPF not permitted (needs CAP_BPF and CAP_PERFMON)");
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	tv->bpf = st;
	err = load_walker(tv, st);
	if (err) {
		bpf_close(tv);
		return err;
	}
	if (map_all(st)) {
		err = -errno;
		bpf_close(tv);
		return tv_error(tv, err, "mmap BPF maps: %s", strerror(-err));
	}
	err = calibrate(tv);
	if (err) {
		bpf_close(tv);
		return err;
	}
	return 0;
}

/* "engine variant walk (the verifier refused dpath)", or NULL. */
const char *tv_bpf_variant(const struct taskvma *tv)
{
	const struct bpf_state *st = tv->bpf;

	return st && st->skel ? st->variant_why : NULL;
}

/* ---- one process ---- */

/* Did the map change during this part of a walk that began at seq0?
 * mm_lock_seq moves on with every write-locked change to the VMA tree; as a
 * seqcount (6.13+) it is also odd while a writer holds the lock.  Without
 * it (TV_SEQ_NONE) the kfunc holds the mmap read lock for the whole walk,
 * and the engine still checks that VMAs come in address order. */
static bool seq_torn(const struct vw_task *t, uint32_t seq0)
{
	switch (t->seq_kind) {
	case TV_SEQ_SEQCOUNT:
		return (t->seq_begin & 1) || t->seq_begin != t->seq_end || t->seq_begin != seq0;
	case TV_SEQ_COUNTER:
		return t->seq_begin != t->seq_end || t->seq_begin != seq0;
	default:
		return false;
	}
}

/* Check one batch's task header: errors, comm, tear detection. */
static int take_task(struct tv_walk *w, struct bpf_walk *bw, const struct vw_task *t)
{
	if (t->err) {
		if (t->err == -ENOENT)
			return tv_explain_nomm(w->tv, w->pid);
		if (t->err == -EBUSY)
			return tv_error(w->tv, -EBUSY, "pid %d: address space busy", w->pid);
		return tv_error(w->tv, t->err, "pid %d: bpf_iter_task_vma_new: %s", w->pid,
				strerror(-t->err));
	}
	if (!bw->seen_task) {
		memcpy(w->comm, t->comm, sizeof(w->comm));
		w->comm[15] = 0;
		w->has_gate = t->has_vsyscall;
		bw->seq0 = t->seq_begin;
		bw->have_seq0 = true;
		bw->seen_task = true;
	}
	tv_log(w->tv, TASKVMA_LOG_DEBUG, "pid %d: mm_lock_seq %u..%u (first %u)", w->pid,
	       t->seq_begin, t->seq_end, bw->seq0);
	/* mm_lock_seq is odd while a writer holds the mmap lock and moves on
	 * with every write-locked change: a different or odd value means the
	 * map may have changed under the walk. */
	if (seq_torn(t, bw->seq0))
		w->torn = true;
	return 0;
}

/* Read the next batch of this walk.  0 or -errno. */
static int next_batch(struct tv_walk *w, struct bpf_walk *bw)
{
	struct bpf_state *st = w->tv->bpf;
	int err;

	err = pass_read(w->tv, &bw->pass);
	if (err)
		return err;
	bw->ri = 0;
	if (!bw->pass.ntask) {
		if (!bw->seen_task) {
			char path[160];

			/* /proc shows it, the task iterator does not: a task of
			 * another pid namespace */
			snprintf(path, sizeof(path), "%s/%d", w->tv->proc_root, w->pid);
			w->invisible = access(path, F_OK) == 0;
			return tv_error(w->tv, -ESRCH, "pid %d: no such process", w->pid);
		}
		/* the task was gone when its walk was resumed */
		return tv_error(w->tv, -ESRCH, "pid %d: exited during the walk", w->pid);
	}
	return take_task(w, bw, &st->tasks[0]);
}

/* Attach, and read the first batch: errors and comm are known at once. */
static int bpf_walk_start(struct tv_walk *w)
{
	struct bpf_walk *bw = calloc(1, sizeof(*bw));
	int err;

	if (!bw)
		return -ENOMEM;
	bw->pass.iter_fd = -1;
	w->priv = bw;
	set_filter(w->tv, &w->q, false);
	err = pass_open(w->tv, &bw->pass, w->pid);
	if (err)
		return err;
	return next_batch(w, bw);
}

static int bpf_walk_next(struct tv_walk *w, struct taskvma_vma *v)
{
	struct bpf_walk *bw = w->priv;
	struct bpf_state *st = w->tv->bpf;
	struct batch_view bv = { .names = st->names, .names_sz = st->names_sz };
	int err;

	for (;;) {
		while (bw->ri >= bw->pass.nrec) {
			if (!bw->pass.more)
				return 0;
			if ((err = next_batch(w, bw)))
				return err;
		}
		err = rec_to_vma(w->tv, &bv, &st->recs[bw->ri++], v, bw->namebuf, sizeof(bw->namebuf),
				 w->pid);
		if (err != -EIO)
			return err ?: 1;
		/* A name that could not be read: the process is exiting (it
		 * vanished) or changing its map (exec): skip the record and
		 * have the walk read again, like a torn one. */
		if (tv_pid_gone(w->tv, w->pid))
			return tv_error(w->tv, -ESRCH, "pid %d: exited during the walk", w->pid);
		w->torn = true;
		w->tv->err_msg[0] = 0;
	}
}

static void bpf_walk_end(struct tv_walk *w)
{
	struct bpf_walk *bw = w->priv;

	if (!bw)
		return;
	pass_close(&bw->pass);
	free(bw);
	w->priv = NULL;
}

/* ---- every process in one pass ---- */

/*
 * One iter/task pass over every process, streamed to the engine item by item
 * (struct tv_item: a process's BEGIN, its VMAs, its END with a status).  The
 * engine decides what to do with a changed map or a process the pass did not
 * show: it calls pass_hold() first, which copies what is left of the batch
 * aside (the single walks reuse the buffers and the program's globals), and
 * the pass then resumes where it was.  Memory: the batch buffers, whatever
 * the system size.
 */
struct all_pass {
	struct bpf_pass ps;
	struct batch_view bv;	/* the batch being delivered */
	void *replay;		/* bv's private copy after a hold */
	uint32_t ti;		/* task entry being delivered */
	uint32_t base;		/* its first record */
	uint32_t ri, rend;	/* next record of the entry, its end */
	bool entry_open;	/* records of entry ti are being delivered */
	pid_t cur;		/* process begun and not ended (0: none) */
	uint32_t seq0;		/* its mm_lock_seq when its walk began */
	int status;		/* 0, -EAGAIN (torn) or -errno, so far */
	bool held;		/* globals to restore before the next batch */
	struct vw_filter filter;
	__s32 target_pid, resume_pid;
	__u64 resume_addr;
	char namebuf[300];
};

static int bpf_pass_start(struct taskvma *tv, const struct taskvma_query *q)
{
	struct bpf_state *st = tv->bpf;
	struct all_pass *a = calloc(1, sizeof(*a));
	int err;

	if (!a)
		return -ENOMEM;
	st->pass = a;
	a->ps.iter_fd = a->ps.link_fd = -1;
	set_filter(tv, q, false);
	err = pass_open(tv, &a->ps, 0);
	if (err)
		return err;
	a->bv.recs = st->recs;
	a->bv.tasks = st->tasks;
	a->bv.names = st->names;
	return 0;
}

/* The rest of the batch (tasks from ti, records from ri) into a private
 * copy: the engine walks single processes on this handle meanwhile. */
static int bpf_pass_hold(struct taskvma *tv)
{
	struct bpf_state *st = tv->bpf;
	struct all_pass *a = st->pass;
	struct vma_walk_lbpf__bss *b = st->skel->bss;
	const struct batch_view *bv = &a->bv;
	uint32_t first = a->entry_open ? a->ri : a->base;
	size_t nt = bv->ntask - a->ti, nr = bv->nrec - first;
	char *p;

	if (a->held)
		return 0;
	p = malloc(nt * sizeof(struct vw_task) + nr * sizeof(struct vw_rec) + bv->names_sz + 1);
	if (!p)
		return -ENOMEM;
	memcpy(p, bv->tasks + a->ti, nt * sizeof(struct vw_task));
	memcpy(p + nt * sizeof(struct vw_task), bv->recs + first, nr * sizeof(struct vw_rec));
	memcpy(p + nt * sizeof(struct vw_task) + nr * sizeof(struct vw_rec), bv->names, bv->names_sz);
	a->bv.tasks = (const struct vw_task *)p;
	a->bv.recs = (const struct vw_rec *)(p + nt * sizeof(struct vw_task));
	a->bv.names = p + nt * sizeof(struct vw_task) + nr * sizeof(struct vw_rec);
	a->bv.ntask = (uint32_t)nt;
	a->bv.nrec = (uint32_t)nr;
	if (a->entry_open) {
		a->rend -= a->ri;
		a->ri = 0;
		a->base = a->rend;
	} else {
		a->base = 0;
	}
	a->ti = 0;
	free(a->replay);
	a->replay = p;
	/* what the pass keeps in the program's globals */
	a->filter = b->filter;
	a->target_pid = b->target_pid;
	a->resume_pid = b->resume_pid;
	a->resume_addr = b->resume_addr;
	a->held = true;
	st->nested = true;	/* single walks keep this pass's name ids */
	return 0;
}

static void unhold(struct bpf_state *st, struct all_pass *a)
{
	struct vma_walk_lbpf__bss *b = st->skel->bss;

	if (!a->held)
		return;
	b->filter = a->filter;
	b->target_pid = a->target_pid;
	b->resume_pid = a->resume_pid;
	b->resume_addr = a->resume_addr;
	st->nested = false;
	a->held = false;
}

static int pass_end_item(struct all_pass *a, struct tv_item *it, int status)
{
	it->type = TV_ITEM_END;
	it->pid = a->cur;
	it->status = status;
	a->cur = 0;
	return 1;
}

static int bpf_pass_next(struct taskvma *tv, struct tv_item *it)
{
	struct bpf_state *st = tv->bpf;
	struct all_pass *a = st->pass;
	int err;

	for (;;) {
		if (a->entry_open) {
			const struct vw_task *t;

			while (a->ri < a->rend) {
				err = rec_to_vma(tv, &a->bv, &a->bv.recs[a->ri++], &it->v, a->namebuf,
						 sizeof(a->namebuf), a->cur);
				if (!err) {
					it->type = TV_ITEM_VMA;
					it->pid = a->cur;
					return 1;
				}
				if (err != -EIO)
					return err;
				/* a name that could not be read: the process is
				 * exiting (gone), or changing its map (exec): torn */
				tv->err_msg[0] = 0;
				if (tv_pid_gone(tv, a->cur)) {
					a->status = -ESRCH;
					a->ri = a->rend;
				} else if (!a->status) {
					a->status = -EAGAIN;
				}
			}
			a->entry_open = false;
			t = &a->bv.tasks[a->ti++];
			if (t->status == VW_TS_DONE || (a->status && a->status != -EAGAIN))
				return pass_end_item(a, it, a->status);
			continue;	/* the walk goes on in the next batch */
		}
		if (a->ti < a->bv.ntask) {
			const struct vw_task *t = &a->bv.tasks[a->ti];
			bool begin = false;

			/* a process cut short by the one after it has exited */
			if (a->cur && a->cur != t->tgid)
				return pass_end_item(a, it, -ESRCH);
			if (a->base + t->nrec > a->bv.nrec)
				return tv_error(tv, -EIO, "corrupt batch");
			if (!a->cur) {
				a->cur = t->tgid;
				a->seq0 = t->seq_begin;
				a->status = 0;
				begin = true;
				it->type = TV_ITEM_BEGIN;
				it->pid = t->tgid;
				it->has_gate = t->has_vsyscall;
				memcpy(it->comm, t->comm, sizeof(it->comm));
				it->comm[sizeof(it->comm) - 1] = 0;
			}
			if (t->err && t->err != -EBUSY)
				a->status = t->err;
			else if ((t->err || seq_torn(t, a->seq0)) && !a->status)
				a->status = -EAGAIN;	/* changed, or busy: read it again */
			a->ri = a->base;
			a->rend = a->base + t->nrec;
			a->base = a->rend;
			a->entry_open = true;
			if (begin)
				return 1;
			continue;
		}
		/* the batch is delivered: the next one */
		if (!a->ps.more)
			return a->cur ? pass_end_item(a, it, -ESRCH) : 0;
		unhold(st, a);
		free(a->replay);
		a->replay = NULL;
		err = pass_read(tv, &a->ps);
		if (err)
			return err;
		a->bv.recs = st->recs;
		a->bv.tasks = st->tasks;
		a->bv.names = st->names;
		a->bv.nrec = a->ps.nrec;
		a->bv.ntask = a->ps.ntask;
		/* text the records refer to ends at nname */
		a->bv.names_sz = a->ps.nname < st->names_sz ? a->ps.nname : st->names_sz;
		a->ti = a->base = 0;
	}
}

static void bpf_pass_end(struct taskvma *tv)
{
	struct bpf_state *st = tv->bpf;
	struct all_pass *a = st->pass;

	if (!a)
		return;
	unhold(st, a);
	pass_close(&a->ps);
	free(a->replay);
	free(a);
	st->pass = NULL;
}

/* ---- address lookups (vma_walk.h, "Address lookups") ---- */

/* One pass over the processes of lk_procs (already written): a link on
 * their one tid when there is one process, else over every task (the
 * program answers the listed ones, the others cost a binary search). */
static int lk_pass(struct taskvma *tv, uint32_t np, pid_t tid, const struct taskvma_visitor *vis,
		   void *ctx)
{
	struct bpf_state *st = tv->bpf;
	struct vma_walk_lbpf__bss *b = st->skel->bss;
	struct batch_view bv = { .recs = st->recs, .tasks = st->tasks, .names = st->names };
	struct taskvma_query q = { .sz = sizeof(q) };
	struct taskvma_vma v;
	struct bpf_pass ps;
	char namebuf[300];
	pid_t cur = 0;
	uint64_t last_end = 0;
	uint32_t seq0 = 0;
	bool gate = false;
	int err, status = 0, r = 0;

	set_filter(tv, &q, false);
	b->lk_nprocs = np;
	b->lk_seeks = 0;
	b->lk_steps = 0;
	b->lk_walk = VW_LK_WALK;
	b->lk_mode = 1;
	err = pass_open(tv, &ps, tid);
	if (err) {
		b->lk_mode = 0;
		/* a process that cannot be attached to: not answered here */
		if (err == -ESRCH) {
			tv->err_msg[0] = 0;
			return 0;
		}
		return err;
	}
	while (!r && ps.more) {
		uint32_t base = 0;

		if ((err = pass_read(tv, &ps)))
			break;
		bv.nrec = ps.nrec;
		bv.ntask = ps.ntask;
		bv.names_sz = ps.nname < st->names_sz ? ps.nname : st->names_sz;
		for (uint32_t ti = 0; !r && ti < ps.ntask; ti++) {
			const struct vw_task *t = &st->tasks[ti];

			if (base + t->nrec > ps.nrec) {
				err = tv_error(tv, -EIO, "corrupt batch");
				break;
			}
			/* a process cut short by the next one has exited */
			if (cur && cur != t->tgid) {
				r = vis->end ? vis->end(ctx, cur, TASKVMA_RETRY) : 0;
				cur = 0;
				if (r)
					break;
			}
			if (!cur) {
				char comm[16];

				cur = t->tgid;
				seq0 = t->seq_begin;
				status = 0;
				last_end = 0;
				gate = t->has_vsyscall;
				memcpy(comm, t->comm, sizeof(comm));
				comm[15] = 0;
				if (vis->begin && (r = vis->begin(ctx, cur, comm)))
					break;
			}
			if (t->err)
				status = t->err;
			else if (seq_torn(t, seq0))
				status = -EAGAIN;
			for (uint32_t ri = base; !status && ri < base + t->nrec; ri++) {
				err = rec_to_vma(tv, &bv, &st->recs[ri], &v, namebuf, sizeof(namebuf), cur);
				if (err == -ENOMEM)
					break;
				if (err || v.start < last_end || v.end <= v.start) {
					/* unreadable name (exit, exec) or out of order:
					 * the caller asks again another way */
					tv->err_msg[0] = 0;
					err = 0;
					status = -EAGAIN;
					break;
				}
				last_end = v.end;
				if (vis->vma && (r = vis->vma(ctx, &v)))
					break;
			}
			if (err || r)
				break;
			base += t->nrec;
			if (t->status != VW_TS_DONE)
				continue;	/* the rest comes in the next batch */
			if (!status && gate && tv->sys_has_vsyscall) {
				tv_make_gate(&v);
				if (v.start >= last_end && vis->vma)
					r = vis->vma(ctx, &v);
			}
			if (!r && vis->end)
				r = vis->end(ctx, cur, status ? TASKVMA_RETRY : 0);
			cur = 0;
		}
		if (err)
			break;
	}
	if (!err && !r && cur && vis->end)
		r = vis->end(ctx, cur, TASKVMA_RETRY);	/* gone before its walk ended */
	tv_log(tv, TASKVMA_LOG_DEBUG, "lookup pass: %u processes, %u seeks, %u steps", np,
	       b->lk_seeks, b->lk_steps);
	pass_close(&ps);
	b->lk_mode = 0;
	return err ? err : r;
}

/* The walker with its lookup code, at a handle's first lookup: the same
 * variant loaded again with lk_enabled (a handle that never looks up pays
 * ~1,600 verified instructions at open instead of ~80,000).  What the old
 * program learnt carries over: the calibrated special-mapping address and
 * the pass generation (name ids).  Not during a pass, whose batches live
 * in the old maps.  On failure the old program stays and the caller
 * answers another way. */
static int lk_upgrade(struct taskvma *tv)
{
	struct bpf_state *st = tv->bpf;
	struct vma_walk_lbpf *old = st->skel, *skel;
	int err;

	if (st->lk_loaded)
		return 0;
	if (st->pass || st->nested)
		return -EBUSY;
	err = load_variant(&skel, st->name_mode, true, NULL, 0);
	if (err) {
		tv_log(tv, TASKVMA_LOG_INFO, "lookup code of the VMA walker not loaded (%s): "
		       "lookups walk the maps", strerror(-err));
		return err;
	}
	skel->bss->special_mapping_name_addr = old->bss->special_mapping_name_addr;
	skel->bss->pass_gen = old->bss->pass_gen;
	unmap_all(st);
	st->skel = skel;
	if (map_all(st)) {
		err = -errno;
		unmap_all(st);
		st->skel = old;
		vma_walk_lbpf__destroy(skel);
		if (map_all(st))
			return tv_error(tv, -errno, "mmap BPF maps: %s", strerror(errno));
		return err;
	}
	vma_walk_lbpf__destroy(old);
	st->lk_loaded = true;
	return 0;
}

static int bpf_lookup(struct taskvma *tv, const struct tv_lk_group *g, size_t ng,
		      const struct taskvma_visitor *vis, void *ctx)
{
	struct bpf_state *st = tv->bpf;
	size_t gi = 0;
	int err = 0;

	if (!st || lk_upgrade(tv) || !st->lk_addrs || !st->lk_procs)
		return -EOPNOTSUPP;
	while (!err && gi < ng) {
		uint32_t np = 0, na = 0;

		/* as many groups as the tables hold; one larger than the
		 * address table is left to the caller */
		for (; gi < ng && np < VW_LK_PROC_CAP; gi++) {
			if (g[gi].pid <= 0 || g[gi].n > VW_LK_ADDR_CAP || !g[gi].n)
				continue;
			if (na + g[gi].n > VW_LK_ADDR_CAP)
				break;
			st->lk_procs->p[np] = (struct vw_lk_proc){ .pid = g[gi].pid, .first = na,
								   .n = g[gi].n };
			memcpy(st->lk_addrs->a + na, g[gi].addrs, g[gi].n * sizeof(uint64_t));
			na += g[gi].n;
			np++;
		}
		if (np)
			err = lk_pass(tv, np, np == 1 ? st->lk_procs->p[0].pid : 0, vis, ctx);
	}
	return err;
}

const struct tv_backend tv_backend_bpf = {
	.name = "bpf",
	/* file and backing-file names are escaped once, when they enter the
	 * pass's name tables; special and [anon:] names cannot hold '\n' */
	.raw_names = false,
	.change_counter = true,
	.costly_walk = true,
	.open = bpf_open,
	.close = bpf_close,
	.walk_start = bpf_walk_start,
	.walk_next = bpf_walk_next,
	.walk_end = bpf_walk_end,
	.pass_start = bpf_pass_start,
	.pass_next = bpf_pass_next,
	.pass_hold = bpf_pass_hold,
	.pass_end = bpf_pass_end,
	.lookup = bpf_lookup,
	.lookup_cap = VW_LK_ADDR_CAP,
	/* one pass over every task (~0.2 us each for the ones not listed)
	 * against a link, an iterator and a program run per process (~20 us) */
	.lookup_many = 8,
};
