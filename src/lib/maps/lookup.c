// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Addresses to (mapping, file offset, build ID): taskvma_lookup() for n
 * addresses of one process, taskvma_normalize() for (pid, address) pairs of
 * many processes.
 *
 * The addresses of a process are sorted, then answered in one sweep of one
 * walk: the walk starts at the lowest address (the kfunc's addr), and on a
 * backend with walk_seek (PROCMAP_QUERY) it jumps from one needed address to
 * the next, so it costs one ioctl per distinct mapping hit (or gap), not one
 * per address and not one per VMA of the process.
 *
 * Build IDs: from the kernel (PROCMAP_QUERY's build_id_addr, 6.11+) or from
 * the file's ELF notes, read through /proc/PID/map_files/START-END (the
 * process's own view of the file: right inside containers and other mount
 * namespaces, and for deleted files), else /proc/PID/root/NAME.  Cached per
 * handle by file identity: (dev, inode) of the mapping, and as change marker
 * the stat of that file (device, inode, size, mtime, ctime), checked once per
 * file per batch.
 */
#include <errno.h>
#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "internal.h"
#include "procmap_query.h"

/* ---- the handle's state ---- */

struct bid_entry {
	uint64_t inode;
	uint32_t dev_major, dev_minor;
	uint32_t gen;		/* batch in which the marker was last checked; 0 = empty */
	bool has_marker;
	dev_t st_dev;
	ino_t st_ino;
	off_t st_size;
	struct timespec mtime, ctime;
	int32_t status, err;
	uint32_t len;
	uint8_t id[TASKVMA_BUILD_ID_MAX];
};

struct lk_state {
	char *names;		/* names of the last batch's mappings */
	size_t nlen, ncap;
	struct bid_entry *bid;	/* open addressing, power of two */
	size_t bid_cap, bid_n;
	uint32_t gen;
	int kernel_bid;		/* 0 unknown, 1 PROCMAP_QUERY gives build IDs, -1 it does not */
	int seek_ok;		/* auto, costly walks: 0 unknown, 1 the fallback seeks, -1 not */
};

void tv_lookup_close(struct taskvma *tv)
{
	struct lk_state *st = tv->lookup;

	if (!st)
		return;
	free(st->names);
	free(st->bid);
	free(st);
	tv->lookup = NULL;
}

static struct lk_state *lk_get(struct taskvma *tv)
{
	if (!tv->lookup)
		tv->lookup = calloc(1, sizeof(struct lk_state));
	return tv->lookup;
}

const char *taskvma_addr_status_name(int s)
{
	static const char *const n[] = { "file", "anonymous", "jit", "special",
					 "not-mapped", "process-gone", "error" };

	return s >= 0 && s < (int)(sizeof(n) / sizeof(n[0])) ? n[s] : "?";
}

const char *taskvma_build_id_status_name(int s)
{
	static const char *const n[] = { "ok", "none", "unreadable", "not-file", "skipped" };

	return s >= 0 && s < (int)(sizeof(n) / sizeof(n[0])) ? n[s] : "?";
}

/* ---- ELF notes ---- */

static uint16_t e16(const void *p, bool swap)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return swap ? __builtin_bswap16(v) : v;
}

static uint32_t e32(const void *p, bool swap)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return swap ? __builtin_bswap32(v) : v;
}

static uint64_t e64(const void *p, bool swap)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return swap ? __builtin_bswap64(v) : v;
}

static int pread_full(int fd, void *buf, size_t len, off_t off)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = pread(fd, (char *)buf + got, len - got, off + (off_t)got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ENODATA;
		got += (size_t)n;
	}
	return 0;
}

/* Scan one note area for NT_GNU_BUILD_ID.  1 found, 0 not there. */
static int scan_notes(const uint8_t *p, size_t len, size_t align, bool swap, uint8_t *id,
		      uint32_t *idlen, int *err)
{
	size_t off = 0;

	/* (gABI: the descriptor and the next note start at the next multiple
	 * of the alignment, counted from the start of the area) */
	while (len - off >= 12) {
		uint32_t namesz = e32(p + off, swap), descsz = e32(p + off + 4, swap);
		uint32_t type = e32(p + off + 8, swap);
		size_t name_off = off + 12;
		size_t desc_off, next;

		if (namesz > len || descsz > len)
			return 0;
		desc_off = (name_off + namesz + align - 1) & ~(align - 1);
		next = (desc_off + descsz + align - 1) & ~(align - 1);
		if (desc_off > len || desc_off + descsz > len)
			return 0;
		if (next > len)
			next = len;	/* the last note's padding may be missing */
		if (type == NT_GNU_BUILD_ID && namesz == 4 && !memcmp(p + name_off, "GNU", 4)) {
			if (descsz == 0 || descsz > TASKVMA_BUILD_ID_MAX) {
				*err = -EOVERFLOW;	/* longer than any the kernel accepts */
				return 1;
			}
			memcpy(id, p + desc_off, descsz);
			*idlen = descsz;
			return 1;
		}
		off = next;
	}
	return 0;
}

/* The GNU build ID from the program headers' PT_NOTE segments of an open
 * ELF file (the kernel reads the same ones).  Returns a build ID status;
 * *err for UNREADABLE. */
static int elf_build_id(int fd, uint8_t *id, uint32_t *idlen, int *err)
{
	unsigned char eh[64];
	bool swap, is64;
	uint64_t phoff;
	uint32_t phentsize, phnum;
	int r;

	*err = 0;
	r = pread(fd, eh, sizeof(eh), 0);
	if (r < 0) {
		*err = -errno;
		return TASKVMA_BUILD_ID_UNREADABLE;
	}
	if (r < 52 || memcmp(eh, ELFMAG, SELFMAG))
		return TASKVMA_BUILD_ID_NONE;	/* not ELF: no build ID */
	is64 = eh[EI_CLASS] == ELFCLASS64;
	if ((!is64 && eh[EI_CLASS] != ELFCLASS32) || (is64 && r < 64))
		return TASKVMA_BUILD_ID_NONE;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	swap = eh[EI_DATA] == ELFDATA2MSB;
#else
	swap = eh[EI_DATA] == ELFDATA2LSB;
#endif
	if (is64) {
		phoff = e64(eh + 32, swap);
		phentsize = e16(eh + 54, swap);
		phnum = e16(eh + 56, swap);
	} else {
		phoff = e32(eh + 28, swap);
		phentsize = e16(eh + 42, swap);
		phnum = e16(eh + 44, swap);
	}
	if (phnum == 0 || phnum >= 0xffff || phentsize < (is64 ? 56u : 32u))
		return TASKVMA_BUILD_ID_NONE;
	{
		size_t phlen = (size_t)phentsize * phnum;
		uint8_t stackbuf[4096], *ph = phlen <= sizeof(stackbuf) ? stackbuf : malloc(phlen);
		int status = TASKVMA_BUILD_ID_NONE;

		if (!ph) {
			*err = -ENOMEM;
			return TASKVMA_BUILD_ID_UNREADABLE;
		}
		if ((r = pread_full(fd, ph, phlen, (off_t)phoff))) {
			if (ph != stackbuf)
				free(ph);
			*err = r;
			return TASKVMA_BUILD_ID_UNREADABLE;
		}
		for (uint32_t i = 0; i < phnum && status == TASKVMA_BUILD_ID_NONE; i++) {
			const uint8_t *h = ph + (size_t)i * phentsize;
			uint64_t off, sz, align;
			uint8_t nbuf[1024], *nb;

			if (e32(h, swap) != PT_NOTE)
				continue;
			if (is64) {
				off = e64(h + 8, swap);
				sz = e64(h + 32, swap);
				align = e64(h + 48, swap);
			} else {
				off = e32(h + 4, swap);
				sz = e32(h + 16, swap);
				align = e32(h + 28, swap);
			}
			if (sz < 12 || sz > (1u << 20))
				continue;
			nb = sz <= sizeof(nbuf) ? nbuf : malloc(sz);
			if (!nb) {
				*err = -ENOMEM;
				status = TASKVMA_BUILD_ID_UNREADABLE;
				break;
			}
			if ((r = pread_full(fd, nb, sz, (off_t)off))) {
				*err = r;
				status = TASKVMA_BUILD_ID_UNREADABLE;
			} else if (scan_notes(nb, sz, align == 8 ? 8 : 4, swap, id, idlen, err)) {
				status = *err ? TASKVMA_BUILD_ID_UNREADABLE : TASKVMA_BUILD_ID_OK;
			}
			if (nb != nbuf)
				free(nb);
		}
		if (ph != stackbuf)
			free(ph);
		return status;
	}
}

/* ---- build ID cache ---- */

static size_t bid_hash(uint64_t ino, uint32_t maj, uint32_t min)
{
	uint64_t h = ino * 0x9e3779b97f4a7c15ull ^ ((uint64_t)maj << 32 | min) * 0xc2b2ae3d27d4eb4full;

	return (size_t)(h ^ h >> 29);
}

static struct bid_entry *bid_slot(struct lk_state *st, const struct taskvma_vma *v)
{
	size_t mask, i;

	if (st->bid_n * 2 >= st->bid_cap) {
		size_t ncap = st->bid_cap ? st->bid_cap * 2 : 256;
		struct bid_entry *nb = calloc(ncap, sizeof(*nb));

		if (!nb)
			return NULL;
		for (size_t j = 0; j < st->bid_cap; j++) {
			struct bid_entry *e = &st->bid[j];

			if (!e->gen)
				continue;
			i = bid_hash(e->inode, e->dev_major, e->dev_minor) & (ncap - 1);
			while (nb[i].gen)
				i = (i + 1) & (ncap - 1);
			nb[i] = *e;
		}
		free(st->bid);
		st->bid = nb;
		st->bid_cap = ncap;
	}
	mask = st->bid_cap - 1;
	i = bid_hash(v->inode, v->dev_major, v->dev_minor) & mask;
	while (st->bid[i].gen && (st->bid[i].inode != v->inode || st->bid[i].dev_major != v->dev_major ||
				  st->bid[i].dev_minor != v->dev_minor))
		i = (i + 1) & mask;
	return &st->bid[i];
}

static bool same_marker(const struct bid_entry *e, const struct stat *sb)
{
	return e->has_marker && e->st_dev == sb->st_dev && e->st_ino == sb->st_ino &&
	       e->st_size == sb->st_size && e->mtime.tv_sec == sb->st_mtim.tv_sec &&
	       e->mtime.tv_nsec == sb->st_mtim.tv_nsec && e->ctime.tv_sec == sb->st_ctim.tv_sec &&
	       e->ctime.tv_nsec == sb->st_ctim.tv_nsec;
}

/* Per process, while its addresses are answered. */
struct lk_proc {
	struct taskvma *tv;
	struct lk_state *st;
	pid_t pid;
	int maps_fd;		/* for PROCMAP_QUERY build IDs, opened on first need */
	int from;
};

/* The file of v, as the process sees it: /proc/PID/map_files/START-END
 * (needs CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE), else /proc/PID/root/NAME
 * for a name that is still a path.  Returns the path's length or 0. */
static int file_path(struct lk_proc *p, const struct taskvma_vma *v, bool map_files, char *buf,
		     size_t len)
{
	static const char deleted[] = " (deleted)";
	int n;

	if (map_files) {
		n = snprintf(buf, len, "%s/%d/map_files/%llx-%llx", p->tv->proc_root, p->pid,
			     (unsigned long long)v->start, (unsigned long long)v->end);
		return n > 0 && (size_t)n < len ? n : 0;
	}
	if (!v->name_len || v->name[0] != '/' || memchr(v->name, '\\', v->name_len) ||
	    (v->name_len >= sizeof(deleted) - 1 &&
	     !memcmp(v->name + v->name_len - (sizeof(deleted) - 1), deleted, sizeof(deleted) - 1)))
		return 0;
	n = snprintf(buf, len, "%s/%d/root%.*s", p->tv->proc_root, p->pid, (int)v->name_len, v->name);
	return n > 0 && (size_t)n < len ? n : 0;
}

/* Ask the kernel: 1 got one, 0 it could not say (no note, unreadable, or no
 * support: the file decides then). */
static int kernel_build_id(struct lk_proc *p, const struct taskvma_vma *v, struct bid_entry *e)
{
	struct procmap_query q;

	if (p->st->kernel_bid < 0)
		return 0;
	if (p->maps_fd < 0) {
		char path[160];

		snprintf(path, sizeof(path), "%s/%d/maps", p->tv->proc_root, p->pid);
		p->maps_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (p->maps_fd < 0)
			return 0;
	}
	memset(&q, 0, sizeof(q));
	q.size = sizeof(q);
	q.query_addr = v->start;
	q.build_id_addr = (uintptr_t)e->id;
	q.build_id_size = TASKVMA_BUILD_ID_MAX;
	if (ioctl(p->maps_fd, PROCMAP_QUERY, &q)) {
		if (errno == ENOTTY || errno == EINVAL)
			p->st->kernel_bid = -1;
		return 0;
	}
	p->st->kernel_bid = 1;
	/* the VMA may have been replaced since the walk: trust only the same file */
	if (q.inode != v->inode || q.dev_major != v->dev_major || q.dev_minor != v->dev_minor ||
	    !q.build_id_size)
		return 0;
	e->len = q.build_id_size;
	return 1;
}

static void bid_resolve(struct lk_proc *p, const struct taskvma_vma *v, struct taskvma_addr_info *out)
{
	struct lk_state *st = p->st;
	struct bid_entry *e;
	struct stat sb;
	char path[4200];
	bool have_sb = false;
	int fd = -1;

	out->build_id_status = TASKVMA_BUILD_ID_NOT_FILE;
	if (v->kind != TASKVMA_KIND_FILE || !v->inode)
		return;
	e = bid_slot(st, v);
	if (!e) {
		out->build_id_status = TASKVMA_BUILD_ID_UNREADABLE;
		out->build_id_err = -ENOMEM;
		return;
	}
	if (e->gen != st->gen) {
		/* the change marker: once per file per batch */
		for (int mf = 1; mf >= 0 && !have_sb; mf--)
			if (file_path(p, v, mf, path, sizeof(path)) && !stat(path, &sb) &&
			    sb.st_ino == v->inode)
				have_sb = true;
		if (!e->gen || !have_sb || !same_marker(e, &sb)) {
			memset(e, 0, sizeof(*e));
			e->inode = v->inode;
			e->dev_major = v->dev_major;
			e->dev_minor = v->dev_minor;
			st->bid_n++;
			if (p->from != TASKVMA_BUILD_ID_FILE && kernel_build_id(p, v, e)) {
				e->status = TASKVMA_BUILD_ID_OK;
			} else if (p->from == TASKVMA_BUILD_ID_KERNEL) {
				e->status = TASKVMA_BUILD_ID_UNREADABLE;
				e->err = st->kernel_bid < 0 ? -EOPNOTSUPP : -ENODATA;
			} else {
				e->status = TASKVMA_BUILD_ID_UNREADABLE;
				e->err = -EACCES;
				for (int mf = 1; mf >= 0 && fd < 0; mf--) {
					struct stat fsb;

					if (!file_path(p, v, mf, path, sizeof(path)))
						continue;
					fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
					if (fd < 0) {
						e->err = errno == ENOENT ? -ENOENT : -errno;
						continue;
					}
					/* the same file, not another one at that path */
					if (fstat(fd, &fsb) || fsb.st_ino != v->inode) {
						close(fd);
						fd = -1;
						e->err = -ESTALE;
						continue;
					}
					if (!have_sb) {
						sb = fsb;
						have_sb = true;
					}
				}
				if (fd >= 0) {
					e->status = elf_build_id(fd, e->id, &e->len, &e->err);
					close(fd);
				}
			}
			if (have_sb) {
				e->has_marker = true;
				e->st_dev = sb.st_dev;
				e->st_ino = sb.st_ino;
				e->st_size = sb.st_size;
				e->mtime = sb.st_mtim;
				e->ctime = sb.st_ctim;
			}
			if (e->status == TASKVMA_BUILD_ID_UNREADABLE && !have_sb)
				e->has_marker = false;	/* try again next batch */
		}
		e->gen = st->gen;
	}
	out->build_id_status = e->status;
	out->build_id_err = e->status == TASKVMA_BUILD_ID_UNREADABLE ? e->err : 0;
	if (e->status == TASKVMA_BUILD_ID_OK) {
		out->build_id_len = e->len;
		memcpy(out->build_id, e->id, e->len);
	}
}

/* ---- the sweep ---- */

struct lk_item {
	uint64_t addr;
	size_t idx;
};

static inline bool item_lt(const struct lk_item *x, const struct lk_item *y)
{
	return x->addr < y->addr || (x->addr == y->addr && x->idx < y->idx);
}

/* Sort by (address, index): a quicksort with the comparison inlined.
 * qsort() through a callback took a quarter of a 20,000-address normalize
 * (5 ms of 21, perf). */
static void sort_items(struct lk_item *a, size_t n)
{
	while (n > 16) {
		struct lk_item pivot, t;
		size_t i = 0, j = n - 1, m = n / 2;

		/* median of three, as the pivot value */
		if (item_lt(&a[m], &a[0]))
			t = a[m], a[m] = a[0], a[0] = t;
		if (item_lt(&a[j], &a[m])) {
			t = a[j], a[j] = a[m], a[m] = t;
			if (item_lt(&a[m], &a[0]))
				t = a[m], a[m] = a[0], a[0] = t;
		}
		pivot = a[m];
		for (;;) {
			while (item_lt(&a[i], &pivot))
				i++;
			while (item_lt(&pivot, &a[j]))
				j--;
			if (i >= j)
				break;
			t = a[i], a[i] = a[j], a[j] = t;
			i++;
			j--;
		}
		/* recurse into the smaller part, loop on the larger */
		if (j + 1 < n - j - 1) {
			sort_items(a, j + 1);
			a += j + 1;
			n -= j + 1;
		} else {
			sort_items(a + j + 1, n - j - 1);
			n = j + 1;
		}
	}
	for (size_t i = 1; i < n; i++) {
		struct lk_item t = a[i];
		size_t j = i;

		for (; j > 0 && item_lt(&t, &a[j - 1]); j--)
			a[j] = a[j - 1];
		a[j] = t;
	}
}

/* Names are stored as offsets while the pool grows, made pointers at the end. */
static int name_add(struct lk_state *st, const struct taskvma_vma *v, size_t *off)
{
	if (tv_reserve((void **)&st->names, &st->ncap, st->nlen + v->name_len + 1, 1, 4096))
		return -ENOMEM;
	memcpy(st->names + st->nlen, v->name, v->name_len);
	st->names[st->nlen + v->name_len] = 0;
	*off = st->nlen;
	st->nlen += v->name_len + 1;
	return 0;
}

/* Shared anonymous memory is a file to the kernel ("/dev/zero (deleted)",
 * System V shm "/SYSV%08x (deleted)"), but there is nothing to symbolize in
 * it: it is anonymous (or JIT) memory.  memfd files stay files: they may
 * hold a real ELF (fileless executables), with a build ID. */
static bool shared_anon(const struct taskvma_vma *v)
{
	static const char dz[] = "/dev/zero (deleted)";

	return (v->name_len == sizeof(dz) - 1 && !memcmp(v->name, dz, sizeof(dz) - 1)) ||
	       (v->name_len > 5 && !memcmp(v->name, "/SYSV", 5));
}

static int classify(const struct taskvma_vma *v)
{
	switch (v->kind) {
	case TASKVMA_KIND_FILE:
		if (!shared_anon(v))
			return TASKVMA_ADDR_FILE;
		return v->perms & TASKVMA_PERM_EXEC ? TASKVMA_ADDR_JIT : TASKVMA_ADDR_ANON;
	case TASKVMA_KIND_SPECIAL:
		return TASKVMA_ADDR_SPECIAL;
	default:
		return v->perms & TASKVMA_PERM_EXEC ? TASKVMA_ADDR_JIT : TASKVMA_ADDR_ANON;
	}
}

static void set_failed(struct taskvma_addr_info *o, int err)
{
	o->status = err == -ESRCH ? TASKVMA_ADDR_GONE : TASKVMA_ADDR_ERROR;
	o->err = err;
}

/* Answer the items from *pi on that lie in v (those below it are not
 * mapped); *pi moves past them.  0 or -ENOMEM. */
static int answer_vma(struct lk_proc *p, const struct lk_item *items, size_t *pi, size_t n,
		      const struct taskvma_vma *v, struct taskvma_addr_info *out, bool build_ids)
{
	struct taskvma_addr_info tmpl;
	size_t i = *pi, nameoff = 0;

	while (i < n && items[i].addr < v->start)
		out[items[i++].idx].status = TASKVMA_ADDR_NOT_MAPPED;
	if (i < n && items[i].addr < v->end) {
		memset(&tmpl, 0, sizeof(tmpl));
		tmpl.vma = *v;
		tmpl.status = classify(v);
		tmpl.build_id_status = TASKVMA_BUILD_ID_SKIPPED;
		if (name_add(p->st, v, &nameoff)) {
			*pi = i;
			return -ENOMEM;
		}
		tmpl.vma.name = (const char *)(uintptr_t)(nameoff + 1);	/* fixed up in end_batch */
		if (build_ids && tmpl.status == TASKVMA_ADDR_FILE)
			bid_resolve(p, v, &tmpl);
		else if (build_ids)
			tmpl.build_id_status = TASKVMA_BUILD_ID_NOT_FILE;
		for (; i < n && items[i].addr < v->end; i++) {
			struct taskvma_addr_info *o = &out[items[i].idx];

			*o = tmpl;
			o->addr = items[i].addr;
			o->pid = p->pid;
			if (tmpl.status == TASKVMA_ADDR_FILE)
				o->file_offset = o->addr - v->start + v->offset;
		}
	}
	*pi = i;
	return 0;
}

/* The process is on its way out (PF_EXITING in /proc/PID/stat's flags,
 * field 9): killed, it loses its address space before it is a zombie, and
 * a lookup then finds no mm (seen killing processes during a normalize). */
static bool exiting(struct taskvma *tv, pid_t pid)
{
	struct tv_mm_ident id;

	return !tv_mm_ident(tv, pid, &id) && (id.flags & 0x4 /* PF_EXITING */);
}

/* The items from i on could not be answered: the process's error. */
static void fail_rest(struct lk_proc *p, const struct lk_item *items, size_t i, size_t n,
		      struct taskvma_addr_info *out, int err)
{
	/* a zombie has exited, and so has a process whose address space is
	 * already released on its way out: their records say process-gone
	 * (taskvma_lookup() still returns -ENOENT, no address space) */
	if (err == -ENOENT && (tv_pid_gone(p->tv, p->pid) || exiting(p->tv, p->pid)))
		err = -ESRCH;
	/* what was answered before a mid-batch exit stays answered */
	for (; i < n; i++)
		set_failed(&out[items[i].idx], err);
}

/* Answer items[0..n) (sorted) of one process.  0, or the process's -errno
 * (then the unanswered items carry it). */
/* Auto with BPF: a few addresses cost less as PROCMAP_QUERY ioctls (one
 * open and an ioctl or two, ~25 us here) than as one BPF program run
 * (~55 us here, docs/PERFORMANCE.md "Address lookups"). */
#define FEW_ADDRS 4

static const struct tv_backend *pick_backend(struct lk_proc *p, size_t n)
{
	struct taskvma *tv = p->tv;

	if (n > FEW_ADDRS || tv->opts.backend != TASKVMA_BACKEND_AUTO || !tv->be->costly_walk)
		return NULL;
	/* the fallback (tv_get_fallback(): PROCMAP_QUERY if it opens, else the
	 * text, which would read the whole map: not for a few addresses) */
	if (!p->st->seek_ok) {
		const struct tv_backend *fb = tv_get_fallback(tv);

		p->st->seek_ok = fb && fb->walk_seek ? 1 : -1;
	}
	return p->st->seek_ok > 0 ? tv->fallback : NULL;
}

static int kernel_lookup(struct lk_proc *proto, const struct lk_item *items, const size_t *gstart,
			 const pid_t *gpid, size_t ng, uint8_t *done, struct taskvma_addr_info *out,
			 bool build_ids);

/* One process's addresses answered in the kernel (the backend's lookup op,
 * BPF), in slices of lookup_cap.  1 answered, 0 not (the caller walks), or
 * -ENOMEM. */
static int kernel_sweep(struct lk_proc *p, const struct lk_item *items, size_t n,
			struct taskvma_addr_info *out, bool build_ids)
{
	size_t cap = p->tv->be->lookup_cap;

	for (size_t off = 0; off < n; off += cap) {
		size_t len = n - off < cap ? n - off : cap, gstart[2] = { 0, len };
		uint8_t done = 0;
		int err = kernel_lookup(p, items + off, gstart, &p->pid, 1, &done, out, build_ids);

		if (err)
			return err;
		if (!done)
			return 0;
	}
	return 1;
}

static int sweep(struct lk_proc *p, struct lk_item *items, size_t n, struct taskvma_addr_info *out,
		 bool build_ids)
{
	struct taskvma *tv = p->tv;
	const struct tv_backend *be = pick_backend(p, n);
	int err = 0;

	/* a backend with a lookup op (BPF: the program seeks to each address)
	 * answers without a walk of the map; what it could not answer cleanly (the map
	 * changed, the process is exiting or not visible) is walked below */
	if (!be && tv->be->lookup && tv->be->lookup_cap) {
		err = kernel_sweep(p, items, n, out, build_ids);
		if (err)
			return err < 0 ? err : 0;
	}

	for (int attempt = 1;; attempt++) {
		struct taskvma_query q = { .sz = sizeof(q) };
		const struct taskvma_vma *v;
		struct tv_walk w;
		size_t i = 0;

		q.addr_lo = items[0].addr;
		q.addr_hi = items[n - 1].addr + 1;	/* 0 after UINT64_MAX: no limit */
		err = tv_walk_open(tv, &w, p->pid, &q, be, true);
		while (!err && i < n && tv_walk_next(&w, &v) > 0) {
			if ((err = answer_vma(p, items, &i, n, v, out, build_ids)))
				break;
			if (i < n && w.be->walk_seek)
				w.be->walk_seek(&w, items[i].addr);
		}
		if (!err && w.err)
			err = w.err;
		if (!err) {
			for (; i < n; i++)
				out[items[i].idx].status = TASKVMA_ADDR_NOT_MAPPED;
			if (w.torn && attempt < tv->opts.busy_retries) {
				tv_walk_fini(&w);
				continue;
			}
		}
		tv_walk_fini(&w);
		if ((err == -EBUSY || err == -EAGAIN) && attempt < tv->opts.busy_retries) {
			usleep(1000 * attempt);
			continue;
		}
		if (err == -ENOMEM)
			return err;
		if (err)
			fail_rest(p, items, i, n, out, err);
		return err;
	}
}

/* ---- normalize in one kernel pass (BPF: every process in one iterator
 * run, instead of one program run per process) ---- */

struct pass {
	struct lk_proc p;
	const struct lk_item *items;	/* grouped by pid, sorted by address */
	const size_t *gstart;		/* group g: items[gstart[g] .. gstart[g + 1]) */
	const pid_t *gpid;
	uint8_t *done;
	size_t ng;
	size_t g;			/* current group, ng = none */
	size_t i;
	struct taskvma_addr_info *out;
	bool build_ids;
	int err;			/* -ENOMEM */
};

static int pass_begin(void *ctx, pid_t pid, const char *comm)
{
	struct pass *ps = ctx;
	size_t lo = 0, hi = ps->ng;

	(void)comm;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (ps->gpid[mid] < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	ps->g = lo < ps->ng && ps->gpid[lo] == pid && !ps->done[lo] ? lo : ps->ng;
	if (ps->g < ps->ng) {
		if (ps->p.maps_fd >= 0)
			close(ps->p.maps_fd);
		ps->p.maps_fd = -1;
		ps->p.pid = pid;
		ps->i = ps->gstart[ps->g];
	}
	return 0;
}

static int pass_vma(void *ctx, const struct taskvma_vma *v)
{
	struct pass *ps = ctx;

	if (ps->g == ps->ng)
		return 0;
	ps->err = answer_vma(&ps->p, ps->items, &ps->i, ps->gstart[ps->g + 1], v, ps->out,
			     ps->build_ids);
	return ps->err;
}

static int pass_end(void *ctx, pid_t pid, int err)
{
	struct pass *ps = ctx;
	size_t end;

	(void)pid;
	if (ps->g == ps->ng || err == TASKVMA_RETRY)
		return 0;	/* (a retry starts again at begin()) */
	end = ps->gstart[ps->g + 1];
	if (!err)
		for (; ps->i < end; ps->i++)
			ps->out[ps->items[ps->i].idx].status = TASKVMA_ADDR_NOT_MAPPED;
	else
		fail_rest(&ps->p, ps->items, ps->i, end, ps->out, err);
	ps->done[ps->g] = 1;
	ps->g = ps->ng;
	return 0;
}

/* Groups [0, ng) of items (gstart[0] = 0) answered in the kernel (the
 * backend's lookup op; with BPF, lookup_many processes or more in one pass):
 * done[g] = 1 for those answered; the others are left to the caller.
 * 0 or -ENOMEM. */
static int kernel_lookup(struct lk_proc *proto, const struct lk_item *items, const size_t *gstart,
			 const pid_t *gpid, size_t ng, uint8_t *done, struct taskvma_addr_info *out,
			 bool build_ids)
{
	static const struct taskvma_visitor vis = {
		.sz = sizeof(vis), .begin = pass_begin, .vma = pass_vma, .end = pass_end,
	};
	struct taskvma *tv = proto->tv;
	size_t n = gstart[ng], cap = tv->be->lookup_cap, k = 0;
	uint64_t *a = malloc((n ? n : 1) * sizeof(*a));
	struct tv_lk_group *g = malloc((ng ? ng : 1) * sizeof(*g));
	struct pass ps = {
		.p = { .tv = tv, .st = proto->st, .maps_fd = -1, .from = proto->from },
		.items = items, .gstart = gstart, .gpid = gpid, .done = done, .ng = ng,
		.g = ng, .out = out, .build_ids = build_ids,
	};
	int err;

	if (!a || !g) {
		free(a);
		free(g);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		a[i] = items[i].addr;
	for (size_t i = 0; i < ng; i++)
		if (gpid[i] > 0 && !done[i] && gstart[i + 1] - gstart[i] <= cap)
			g[k++] = (struct tv_lk_group){ gpid[i], (uint32_t)(gstart[i + 1] - gstart[i]),
						       a + gstart[i] };
	err = tv->be->lookup(tv, g, k, &vis, &ps);
	if (ps.p.maps_fd >= 0)
		close(ps.p.maps_fd);
	if (ps.err)
		err = ps.err;
	if (err && err != -ENOMEM) {
		tv_log(tv, TASKVMA_LOG_INFO, "lookup: the kernel pass failed (%s); walking instead",
		       taskvma_strerror(err));
		tv->err_msg[0] = 0;
		err = 0;
	}
	free(a);
	free(g);
	return err;
}

static struct lk_item *make_items(size_t n)
{
	return n ? malloc(n * sizeof(struct lk_item)) : NULL;
}

static void init_out(struct taskvma_addr_info *out, size_t i, pid_t pid, uint64_t addr)
{
	memset(&out[i], 0, sizeof(out[i]));
	out[i].pid = pid;
	out[i].addr = addr;
	out[i].build_id_status = TASKVMA_BUILD_ID_SKIPPED;
}

static int begin_batch(struct taskvma *tv, const struct taskvma_lookup_opts *opts,
		       struct taskvma_lookup_opts *o, struct lk_state **stp)
{
	struct lk_state *st;

	memset(o, 0, sizeof(*o));
	if (!TV_OPTS_VALID(opts, taskvma_lookup_opts))
		return -EINVAL;
	if (opts)
		memcpy(o, opts, opts->sz < sizeof(*o) ? opts->sz : sizeof(*o));
	if (o->build_id_from < 0 || o->build_id_from > TASKVMA_BUILD_ID_FILE)
		return -EINVAL;
	st = lk_get(tv);
	if (!st)
		return -ENOMEM;
	st->nlen = 0;
	if (++st->gen == 0)
		st->gen = 1;
	*stp = st;
	tv->err_msg[0] = 0;
	return 0;
}

static void end_batch(struct lk_state *st, struct taskvma_addr_info *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int s = out[i].status;

		if (s == TASKVMA_ADDR_NOT_MAPPED || s == TASKVMA_ADDR_GONE || s == TASKVMA_ADDR_ERROR) {
			memset(&out[i].vma, 0, sizeof(out[i].vma));
			out[i].vma.name = "";
		} else if (out[i].vma.flags & TASKVMA_VMA_GATE) {
			out[i].vma.name = "[vsyscall]";
		} else {
			out[i].vma.name = st->names + ((uintptr_t)out[i].vma.name - 1);
		}
	}
}

int taskvma_lookup(struct taskvma *tv, pid_t pid, const uint64_t *addrs, size_t n,
		   struct taskvma_addr_info *out, const struct taskvma_lookup_opts *opts)
{
	struct taskvma_lookup_opts o;
	struct lk_state *st;
	struct lk_item *items;
	struct lk_proc p;
	int err;

	if (!tv || (n && (!addrs || !out)) || pid <= 0)
		return -EINVAL;
	if ((err = begin_batch(tv, opts, &o, &st)))
		return err;
	for (size_t i = 0; i < n; i++)
		init_out(out, i, pid, addrs[i]);
	if (!n)
		return 0;
	items = make_items(n);
	if (!items)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		items[i] = (struct lk_item){ addrs[i], i };
	sort_items(items, n);
	p = (struct lk_proc){ .tv = tv, .st = st, .pid = pid, .maps_fd = -1, .from = o.build_id_from };
	err = sweep(&p, items, n, out, o.build_ids);
	if (p.maps_fd >= 0)
		close(p.maps_fd);
	free(items);
	end_batch(st, out, n);
	return err;
}

/* Group the requests by pid without sorting all of them: a hash of the
 * pids, the distinct pids sorted, the items placed by group (in request
 * order), then each group sorted by address.  gpid ascending; group g is
 * items[gstart[g] .. gstart[g + 1]).  0 or -ENOMEM. */
struct pid_slot {
	pid_t pid;
	uint32_t used;
	size_t cnt;		/* requests; then the group's next free item */
};

static int cmp_pid_slot(const void *a, const void *b)
{
	pid_t x = ((const struct pid_slot *)a)->pid, y = ((const struct pid_slot *)b)->pid;

	return x < y ? -1 : x > y;
}

static int group_reqs(const struct taskvma_addr_req *reqs, size_t n, struct lk_item *items,
		      size_t *gstart, pid_t *gpid, size_t *ngp)
{
	size_t cap = 16, ng = 0, pos = 0;
	struct pid_slot *h, *d;
	uint32_t *sl = malloc(n * sizeof(*sl));

	while (cap < 2 * n)
		cap *= 2;
	h = calloc(cap, sizeof(*h));
	if (!h || !sl) {
		free(h);
		free(sl);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		uint32_t k = ((uint32_t)reqs[i].pid * 0x9e3779b1u) & (uint32_t)(cap - 1);

		while (h[k].used && h[k].pid != reqs[i].pid)
			k = (k + 1) & (uint32_t)(cap - 1);
		if (!h[k].used) {
			h[k].used = 1;
			h[k].pid = reqs[i].pid;
			ng++;
		}
		h[k].cnt++;
		sl[i] = k;
	}
	/* the distinct pids, sorted, into the front of a second table; the
	 * hash's slots then hold where their group's next item goes */
	d = malloc(ng * sizeof(*d));
	if (!d) {
		free(h);
		free(sl);
		return -ENOMEM;
	}
	for (size_t k = 0, j = 0; k < cap; k++)
		if (h[k].used) {
			d[j] = h[k];
			d[j++].used = (uint32_t)k;	/* its slot */
		}
	qsort(d, ng, sizeof(*d), cmp_pid_slot);
	for (size_t g = 0; g < ng; g++) {
		gstart[g] = pos;
		gpid[g] = d[g].pid;
		h[d[g].used].cnt = pos;
		pos += d[g].cnt;
	}
	gstart[ng] = n;
	for (size_t i = 0; i < n; i++)
		items[h[sl[i]].cnt++] = (struct lk_item){ reqs[i].addr, i };
	for (size_t g = 0; g < ng; g++)
		sort_items(items + gstart[g], gstart[g + 1] - gstart[g]);
	*ngp = ng;
	free(d);
	free(h);
	free(sl);
	return 0;
}

int taskvma_normalize(struct taskvma *tv, const struct taskvma_addr_req *reqs, size_t n,
		      struct taskvma_addr_info *out, const struct taskvma_lookup_opts *opts)
{
	struct taskvma_lookup_opts o;
	struct lk_state *st;
	struct lk_item *items;
	int err;

	if (!tv || (n && (!reqs || !out)))
		return -EINVAL;
	if ((err = begin_batch(tv, opts, &o, &st)))
		return err;
	for (size_t i = 0; i < n; i++)
		init_out(out, i, reqs[i].pid, reqs[i].addr);
	if (!n)
		return 0;
	items = make_items(n);
	size_t ng = 0, *gstart = malloc((n + 1) * sizeof(*gstart));
	pid_t *gpid = malloc(n * sizeof(*gpid));
	uint8_t *done = calloc(n, 1);

	if (!items || !gstart || !gpid || !done || group_reqs(reqs, n, items, gstart, gpid, &ng)) {
		err = -ENOMEM;
		goto out;
	}
	if (tv->be->lookup && tv->be->lookup_cap && ng >= tv->be->lookup_many) {
		struct lk_proc proto = { .tv = tv, .st = st, .maps_fd = -1, .from = o.build_id_from };

		err = kernel_lookup(&proto, items, gstart, gpid, ng, done, out, o.build_ids);
	}
	/* processes the pass did not deliver, or no pass: one at a time */
	for (size_t g = 0; g < ng && !err; g++) {
		struct lk_proc p;
		int perr;

		if (done[g])
			continue;
		if (gpid[g] <= 0) {
			for (size_t k = gstart[g]; k < gstart[g + 1]; k++)
				set_failed(&out[items[k].idx], -ESRCH);
			continue;
		}
		p = (struct lk_proc){ .tv = tv, .st = st, .pid = gpid[g], .maps_fd = -1,
				      .from = o.build_id_from };
		perr = sweep(&p, items + gstart[g], gstart[g + 1] - gstart[g], out, o.build_ids);
		if (p.maps_fd >= 0)
			close(p.maps_fd);
		if (perr == -ENOMEM)
			err = perr;
	}
out:
	free(gstart);
	free(gpid);
	free(done);
	free(items);
	if (!err)
		end_batch(st, out, n);
	tv->err_msg[0] = 0;	/* per-record reasons, not one failure */
	return err;
}
