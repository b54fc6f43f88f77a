// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* taskvma_lookup() / taskvma_normalize() on this process, for every backend
 * that opens: unsorted addresses with duplicates against the kernel's own
 * /proc/self/maps text; and the ELF note parser on files built here byte by
 * byte (ELF32 big-endian, ELF64 with 8-byte aligned notes, a build ID longer
 * than 20 bytes, a truncated note area), mapped and read through
 * /proc/self/map_files (build_id_from = FILE); and a lookup after the
 * looked-up process has exec'd (procmap keeps its descriptor open).
 * Children with a built layout (one-page VMAs: r--, rw- side by side, then a
 * hole) are asked about VMA boundaries, holes, addresses past the last VMA
 * and [vsyscall], many processes in one normalize (BPF: one kernel pass),
 * more addresses than the BPF program's table holds, a zombie, and
 * processes killed while a normalize runs: every backend against the
 * children's /proc/PID/maps, and BPF's records equal procmap's field by
 * field. */
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include "taskvma.h"
#include "check.h"

struct line {
	uint64_t start, end, offset, inode;
};

static size_t read_maps(struct line *l, size_t max)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char buf[8192];
	size_t n = 0;

	while (f && n < max && fgets(buf, sizeof(buf), f)) {
		unsigned long long s, e, o, ino;

		if (sscanf(buf, "%llx-%llx %*s %llx %*s %llu", &s, &e, &o, &ino) == 4)
			l[n++] = (struct line){ s, e, o, ino };
	}
	if (f)
		fclose(f);
	return n;
}

static void put16(uint8_t *p, uint16_t v, int be)
{
	p[be ? 0 : 1] = (uint8_t)(v >> 8);
	p[be ? 1 : 0] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v, int be)
{
	for (int i = 0; i < 4; i++)
		p[be ? 3 - i : i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v, int be)
{
	for (int i = 0; i < 8; i++)
		p[be ? 7 - i : i] = (uint8_t)(v >> (8 * i));
}

/* A minimal ELF file: header, one PT_NOTE program header, a note area with
 * an unrelated note first and then NT_GNU_BUILD_ID of idlen bytes
 * (0x11, 0x22, ...).  truncate: the note area claims more than it holds. */
static size_t make_elf(uint8_t *f, int is64, int be, uint32_t align, uint32_t idlen, int truncate)
{
	size_t eh = is64 ? 64 : 52, ph = is64 ? 56 : 32, off = eh + ph, n = off;
	uint32_t a = align;

	memset(f, 0, 4096);
	memcpy(f, "\177ELF", 4);
	f[4] = is64 ? 2 : 1;
	f[5] = be ? 2 : 1;
	f[6] = 1;
	/* the notes (gABI: descriptor and next note at the next multiple of
	 * the alignment, from the start of the area; off is a multiple of 8
	 * for ELF64 and of 4 for ELF32) */
#define UP(x) (((x) - off + a - 1) / a * a + off)
	put32(f + n, 4, be), put32(f + n + 4, 4, be), put32(f + n + 8, 1, be);	/* "XYZ" type 1 */
	memcpy(f + n + 12, "XYZ", 4);
	n = UP(UP(n + 12 + 4) + 4);
	put32(f + n, 4, be), put32(f + n + 4, idlen, be), put32(f + n + 8, 3, be);
	memcpy(f + n + 12, "GNU", 4);
	for (uint32_t i = 0; i < idlen; i++)
		f[UP(n + 16) + i] = (uint8_t)(0x11 * (i + 1));
	n = UP(UP(n + 16) + idlen);
#undef UP
	/* header fields */
	if (is64) {
		put64(f + 32, eh, be);		/* e_phoff */
		put16(f + 54, (uint16_t)ph, be);	/* e_phentsize */
		put16(f + 56, 1, be);		/* e_phnum */
		put32(f + eh, 4, be);		/* PT_NOTE */
		put64(f + eh + 8, off, be);
		put64(f + eh + 32, truncate ? n - off - 8 : n - off, be);
		put64(f + eh + 48, a, be);
	} else {
		put32(f + 28, (uint32_t)eh, be);
		put16(f + 42, (uint16_t)ph, be);
		put16(f + 44, 1, be);
		put32(f + eh, 4, be);
		put32(f + eh + 4, (uint32_t)off, be);
		put32(f + eh + 16, (uint32_t)(truncate ? n - off - 8 : n - off), be);
		put32(f + eh + 28, a, be);
	}
	return 4096;
}

static void elf_case(struct taskvma *tv, const char *name, int is64, int be, uint32_t align,
		     uint32_t idlen, int truncate, int want_status)
{
	/* each case's file has another size: the deleted file of the last case
	 * frees its inode, the next file may get it at once, and timestamps
	 * are coarse (a jiffy): same inode, size and times would be the cached
	 * file to the library (the change marker cannot tell) */
	static int seq;
	size_t pages = (size_t)++seq;
	TASKVMA_OPTS(taskvma_lookup_opts, lo, .build_ids = 1, .build_id_from = TASKVMA_BUILD_ID_FILE);
	char path[] = "/tmp/tv_test_lookup_XXXXXX", msg[160];
	uint8_t f[4096];
	struct taskvma_addr_info r;
	void *m;
	int fd = mkstemp(path);

	if (fd < 0 || write(fd, f, make_elf(f, is64, be, align, idlen, truncate)) != 4096 ||
	    ftruncate(fd, (off_t)(pages * 4096))) {
		CHECK(name, 0);
		return;
	}
	m = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
	unlink(path);	/* deleted: read through map_files */
	close(fd);
	if (m == MAP_FAILED) {
		CHECK(name, 0);
		return;
	}
	uint64_t a = (uint64_t)(uintptr_t)m + 100;
	int err = taskvma_lookup(tv, getpid(), &a, 1, &r, &lo);

	snprintf(msg, sizeof(msg), "%s: status %s", name, taskvma_build_id_status_name(want_status));
	CHECK(msg, !err && r.status == TASKVMA_ADDR_FILE && r.build_id_status == want_status);
	if (want_status == TASKVMA_BUILD_ID_OK) {
		int same = r.build_id_len == idlen;

		for (uint32_t i = 0; same && i < idlen; i++)
			same = r.build_id[i] == (uint8_t)(0x11 * (i + 1));
		snprintf(msg, sizeof(msg), "%s: the %u bytes of the note", name, idlen);
		CHECK(msg, same);
	}
	munmap(m, 4096);
}

/* The procmap backend keeps the last looked-up process's /proc/PID/maps open
 * (tv->pm_fd): after that process execs, a lookup must read the new map. */
static void exec_case(void)
{
	TASKVMA_OPTS(taskvma_opts, o, .backend = TASKVMA_BACKEND_PROCMAP);
	TASKVMA_OPTS(taskvma_lookup_opts, lo, .build_ids = 0);
	struct taskvma *tv;
	struct taskvma_addr_info r;
	char exe[256] = "", path[64];
	int go[2], ok1, ok2 = 0;
	uint64_t a;
	pid_t c;

	if (taskvma_open(&tv, &o)) {
		printf("# procmap not available: exec case skipped\n");
		return;
	}
	if (pipe(go) || (c = fork()) < 0) {
		CHECK("exec case: fork", 0);
		return;
	}
	if (c == 0) {
		char b;

		close(go[1]);
		if (read(go[0], &b, 1) == 1)
			execl("/bin/sleep", "sleep", "30", (char *)NULL);
		_exit(1);
	}
	close(go[0]);
	a = (uint64_t)(uintptr_t)&exec_case;	/* our text: the child's too, before exec */
	ok1 = taskvma_lookup(tv, c, &a, 1, &r, &lo) == 0 && r.status == TASKVMA_ADDR_FILE;
	CHECK("exec case: a lookup of the child before its exec", ok1);
	if (write(go[1], "x", 1) != 1)
		ok1 = 0;
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)c);
	for (int i = 0; i < 500; i++) {	/* until the exec is done */
		ssize_t n = readlink(path, exe, sizeof(exe) - 1);

		exe[n > 0 ? n : 0] = 0;
		if (strstr(exe, "sleep"))
			break;
		usleep(10000);
	}
	usleep(50000);	/* past the new image's first mappings */
	{
		char mp[64], buf[256];
		unsigned long long s = 0, e = 0;
		FILE *f;

		snprintf(mp, sizeof(mp), "/proc/%d/maps", (int)c);
		f = fopen(mp, "r");
		if (f && fgets(buf, sizeof(buf), f) && sscanf(buf, "%llx-%llx", &s, &e) == 2) {
			a = s;
			ok2 = taskvma_lookup(tv, c, &a, 1, &r, &lo) == 0 &&
			      r.status == TASKVMA_ADDR_FILE && r.vma.start == s && r.vma.end == e &&
			      strstr(r.vma.name, "sleep");
		}
		if (f)
			fclose(f);
	}
	CHECK("exec case: after the child's exec, the same handle reads its new map", ok2);
	kill(c, SIGKILL);
	waitpid(c, NULL, 0);
	close(go[1]);
	taskvma_close(tv);
}

/* ---- children with a known layout ---- */

#define LC_PAGES 96	/* per 3 pages: r-- | rw- | hole */
#define LC_KIDS 12	/* more than BPF's lookup_many (8): one kernel pass */

static size_t read_maps_of(pid_t pid, struct line *l, size_t max)
{
	char path[64], buf[8192];
	FILE *f;
	size_t n = 0;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "r");
	while (f && n < max && fgets(buf, sizeof(buf), f)) {
		unsigned long long s, e, o, ino;

		if (sscanf(buf, "%llx-%llx %*s %llx %*s %llu", &s, &e, &o, &ino) == 4)
			l[n++] = (struct line){ s, e, o, ino };
	}
	if (f)
		fclose(f);
	return n;
}

static pid_t lc_child(void)
{
	pid_t c = fork();

	if (c == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;)
			pause();
	}
	return c;
}

/* The answer agrees with the /proc lines: the line holding addr, or none. */
static bool agrees(const struct taskvma_addr_info *r, uint64_t addr, const struct line *l, size_t nl)
{
	for (size_t j = 0; j < nl; j++)
		if (l[j].start <= addr && addr < l[j].end)
			return r->status != TASKVMA_ADDR_NOT_MAPPED && r->status != TASKVMA_ADDR_GONE &&
			       r->status != TASKVMA_ADDR_ERROR && r->addr == addr &&
			       r->vma.start == l[j].start && r->vma.end == l[j].end &&
			       r->vma.offset == l[j].offset && r->vma.inode == l[j].inode &&
			       (r->status != TASKVMA_ADDR_FILE ||
				r->file_offset == addr - l[j].start + l[j].offset);
	return r->status == TASKVMA_ADDR_NOT_MAPPED && r->addr == addr;
}

static bool same_info(const struct taskvma_addr_info *x, const struct taskvma_addr_info *y)
{
	return x->status == y->status && x->pid == y->pid && x->addr == y->addr &&
	       x->vma.start == y->vma.start && x->vma.end == y->vma.end &&
	       x->vma.offset == y->vma.offset && x->vma.inode == y->vma.inode &&
	       x->vma.dev_major == y->vma.dev_major && x->vma.dev_minor == y->vma.dev_minor &&
	       x->vma.perms == y->vma.perms && x->vma.kind == y->vma.kind &&
	       x->vma.name_len == y->vma.name_len && !strcmp(x->vma.name, y->vma.name) &&
	       x->file_offset == y->file_offset && x->build_id_status == y->build_id_status &&
	       x->build_id_len == y->build_id_len &&
	       !memcmp(x->build_id, y->build_id, x->build_id_len);
}

static size_t lc_addrs(uint64_t reg, size_t pg, uint64_t *a)
{
	size_t n = 0;

	for (size_t k = 0; k < LC_PAGES; k += 3) {
		uint64_t s = reg + k * pg;

		a[n++] = s;			/* a VMA's first byte */
		a[n++] = s + 1;
		a[n++] = s + pg - 1;		/* its last */
		a[n++] = s + pg;		/* the next VMA's first, no hole between */
		a[n++] = s + 2 * pg - 1;
		a[n++] = s + 2 * pg;		/* a hole's first byte */
		a[n++] = s + 2 * pg + pg / 2;	/* inside the hole */
		a[n++] = s + pg / 2;		/* the same VMA again */
	}
	a[n++] = 0;
	a[n++] = 4096;
	a[n++] = reg - 1;
	a[n++] = reg + LC_PAGES * pg;
	a[n++] = 0x7fffffffffffull;		/* past the last VMA (the stack) */
	a[n++] = 0x800000000000ull;
	a[n++] = 0xffffffffff600010ull;		/* [vsyscall], when the kernel has it */
	a[n++] = 0xffffffffff601000ull;
	a[n++] = UINT64_MAX;
	a[n++] = reg + 3 * pg;			/* duplicates */
	a[n++] = reg + 3 * pg;
	return n;
}

static void layout_case(void)
{
	static const enum taskvma_backend bs[] = { TASKVMA_BACKEND_PROCMAP, TASKVMA_BACKEND_PROCFS,
						   TASKVMA_BACKEND_BPF, TASKVMA_BACKEND_AUTO };
	TASKVMA_OPTS(taskvma_lookup_opts, lo, .build_ids = 1);
	size_t pg = (size_t)sysconf(_SC_PAGESIZE), na, nreq = 0, nl[LC_KIDS];
	static struct line l[LC_KIDS][1024];
	static uint64_t a[LC_PAGES * 4 + 32];
	static struct taskvma_addr_req req[LC_KIDS * (LC_PAGES * 4 + 32)];
	static struct taskvma_addr_info res[4][LC_KIDS * (LC_PAGES * 4 + 32)];
	struct taskvma_addr_info *ref = NULL;
	pid_t kid[LC_KIDS];
	struct taskvma *tvs[4] = { 0 };	/* open until the comparison: names live in the handle */
	char name[160];
	uint8_t *reg;
	bool have[4] = { 0 };

	reg = mmap(NULL, LC_PAGES * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (reg == MAP_FAILED) {
		CHECK("layout case: mmap", 0);
		return;
	}
	for (size_t k = 0; k < LC_PAGES; k += 3) {
		mprotect(reg + k * pg, pg, PROT_READ);
		munmap(reg + (k + 2) * pg, pg);
	}
	for (int i = 0; i < LC_KIDS; i++)
		kid[i] = lc_child();
	for (int i = 0; i < LC_KIDS; i++)
		nl[i] = read_maps_of(kid[i], l[i], 1024);
	/* the last child exits and is not reaped: a zombie */
	kill(kid[LC_KIDS - 1], SIGKILL);
	for (int t = 0; t < 500; t++) {
		char path[64], st[512] = "";
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/stat", (int)kid[LC_KIDS - 1]);
		f = fopen(path, "r");
		if (f && fgets(st, sizeof(st), f) && strstr(st, ") Z")) {
			fclose(f);
			break;
		}
		if (f)
			fclose(f);
		usleep(2000);
	}
	na = lc_addrs((uint64_t)(uintptr_t)reg, pg, a);
	/* one stream, processes interleaved */
	for (size_t j = 0; j < na; j++)
		for (int i = 0; i < LC_KIDS; i++)
			req[nreq++] = (struct taskvma_addr_req){ kid[(i + j) % LC_KIDS], a[(j * 7 + i) % na] };

	for (size_t bi = 0; bi < 4; bi++) {
		TASKVMA_OPTS(taskvma_opts, o, .backend = bs[bi]);
		const char *bn = taskvma_backend_name(bs[bi]);
		struct taskvma *tv;
		size_t bad = 0, gone = 0;

		if (taskvma_open(&tv, &o)) {
			printf("# layout case: %s not available here\n", bn);
			continue;
		}
		snprintf(name, sizeof(name), "layout --backend=%s: normalize of %zu addresses of %d processes",
			 bn, nreq, LC_KIDS);
		CHECK(name, taskvma_normalize(tv, req, nreq, res[bi], &lo) == 0);
		for (size_t j = 0; j < nreq; j++) {
			int i = 0;

			while (kid[i] != req[j].pid)
				i++;
			if (i == LC_KIDS - 1)
				gone += res[bi][j].status == TASKVMA_ADDR_GONE;
			else
				bad += !agrees(&res[bi][j], req[j].addr, l[i], nl[i]);
		}
		snprintf(name, sizeof(name), "layout --backend=%s: boundaries, holes, past the end, [vsyscall] = /proc/PID/maps", bn);
		CHECK(name, bad == 0);
		snprintf(name, sizeof(name), "layout --backend=%s: the zombie's addresses say process-gone", bn);
		CHECK(name, gone == na);
		have[bi] = true;

		/* one process at a time: taskvma_lookup */
		bad = 0;
		for (int i = 0; i < LC_KIDS - 1; i++) {
			struct taskvma_addr_info r1[LC_PAGES * 4 + 32];

			if (taskvma_lookup(tv, kid[i], a, na, r1, &lo)) {
				bad++;
				continue;
			}
			for (size_t j = 0; j < na; j++)
				bad += !agrees(&r1[j], a[j], l[i], nl[i]);
		}
		snprintf(name, sizeof(name), "layout --backend=%s: taskvma_lookup per process = /proc/PID/maps", bn);
		CHECK(name, bad == 0);

		/* more addresses than the BPF program's table (32,768) */
		if (bs[bi] != TASKVMA_BACKEND_PROCFS) {
			size_t nb = 40000;
			uint64_t *ba = malloc(nb * sizeof(*ba));
			struct taskvma_addr_info *br = calloc(nb, sizeof(*br));
			uint64_t x = 88172645463325252ull;

			bad = 0;
			for (size_t j = 0; ba && j < nb; j++) {
				x ^= x << 13, x ^= x >> 7, x ^= x << 17;
				ba[j] = (uint64_t)(uintptr_t)reg - pg + x % ((LC_PAGES + 2) * pg);
			}
			if (!ba || !br || taskvma_lookup(tv, kid[0], ba, nb, br, &lo))
				bad++;
			for (size_t j = 0; !bad && j < nb; j++)
				bad += !agrees(&br[j], ba[j], l[0], nl[0]);
			snprintf(name, sizeof(name), "layout --backend=%s: %zu addresses in one taskvma_lookup = /proc/PID/maps", bn, nb);
			CHECK(name, bad == 0);
			free(ba);
			free(br);
		}
		/* again, for the comparison below (the lookups replaced its names) */
		taskvma_normalize(tv, req, nreq, res[bi], &lo);
		tvs[bi] = tv;
	}
	/* BPF's records are procmap's (or procfs's), field by field */
	ref = have[0] ? res[0] : have[1] ? res[1] : NULL;
	for (size_t bi = 2; ref && bi < 4; bi++) {
		size_t bad = 0;

		if (!have[bi])
			continue;
		for (size_t j = 0; j < nreq; j++)
			if (!same_info(&res[bi][j], &ref[j]) && !bad++)
				printf("# first difference: pid %d addr %llx: status %d/%d %llx-%llx/%llx-%llx [%s]/[%s] bid %d/%d\n",
				       (int)req[j].pid, (unsigned long long)req[j].addr, res[bi][j].status,
				       ref[j].status, (unsigned long long)res[bi][j].vma.start,
				       (unsigned long long)res[bi][j].vma.end, (unsigned long long)ref[j].vma.start,
				       (unsigned long long)ref[j].vma.end, res[bi][j].vma.name, ref[j].vma.name,
				       res[bi][j].build_id_status, ref[j].build_id_status);
		snprintf(name, sizeof(name), "layout --backend=%s: every record = %s's, names and build IDs too",
			 taskvma_backend_name(bs[bi]), have[0] ? "procmap" : "procfs");
		CHECK(name, bad == 0);
	}
	for (size_t bi = 0; bi < 4; bi++)
		taskvma_close(tvs[bi]);

	/* processes killed while a normalize runs: each record is right or
	 * says process-gone, and the call succeeds.  "Right" is the child's
	 * own /proc/PID/maps, read before the killer starts (it inherits this
	 * process's map, which is not the layout alone: a BPF map that the
	 * bpf backend mmaps can land in one of reg's holes; seen in CI under
	 * ASan, a 1-page bpf-map mapping at page 92) */
	static struct line l2[LC_KIDS][1024];
	size_t nl2[LC_KIDS];

	for (size_t bi = 0; bi < 4; bi++) {
		TASKVMA_OPTS(taskvma_opts, o, .backend = bs[bi]);
		struct taskvma *tv;
		size_t bad = 0, gone = 0, fails = 0;

		if (bs[bi] == TASKVMA_BACKEND_PROCFS || taskvma_open(&tv, &o))
			continue;
		for (int round = 0; round < 8; round++) {
			pid_t k2[LC_KIDS], killer;
			size_t m = 0;

			for (int i = 0; i < LC_KIDS; i++)
				k2[i] = lc_child();
			for (int i = 0; i < LC_KIDS; i++)
				nl2[i] = read_maps_of(k2[i], l2[i], 1024);
			for (size_t j = 0; j < LC_PAGES * 3; j++)
				req[m++] = (struct taskvma_addr_req){
					k2[j % LC_KIDS], (uint64_t)(uintptr_t)reg + 3 * pg + (j * pg / 3) % ((LC_PAGES - 6) * pg) };
			killer = fork();
			if (killer == 0) {
				for (int i = 0; i < LC_KIDS; i++) {
					usleep(50 + 40 * round);
					kill(k2[i], SIGKILL);
				}
				_exit(0);
			}
			{
				int e = taskvma_normalize(tv, req, m, res[0], &lo);

				if (e && !fails++)
					printf("# normalize failed: %d\n", e);
			}
			for (size_t j = 0; j < m; j++) {
				uint64_t off = req[j].addr - (uint64_t)(uintptr_t)reg;
				size_t page = off / pg;
				const struct taskvma_addr_info *r = &res[0][j];

				if (r->status == TASKVMA_ADDR_GONE) {
					gone++;
					continue;
				}
				if (agrees(r, req[j].addr, l2[j % LC_KIDS], nl2[j % LC_KIDS]))
					continue;
				if (!bad++)
					printf("# first wrong record: addr %llx page %zu status %d err %d vma %llx-%llx\n",
					       (unsigned long long)req[j].addr, page, r->status, r->err,
					       (unsigned long long)r->vma.start, (unsigned long long)r->vma.end);
			}
			waitpid(killer, NULL, 0);
			for (int i = 0; i < LC_KIDS; i++) {
				kill(k2[i], SIGKILL);
				waitpid(k2[i], NULL, 0);
			}
		}
		printf("# exit mid-batch, %s: %zu of %d records process-gone\n", taskvma_backend_name(bs[bi]),
		       gone, 8 * LC_PAGES * 3);
		snprintf(name, sizeof(name), "layout --backend=%s: processes killed during normalize: each record right or process-gone",
			 taskvma_backend_name(bs[bi]));
		CHECK(name, bad == 0 && fails == 0);
		taskvma_close(tv);
	}
	for (int i = 0; i < LC_KIDS; i++) {
		kill(kid[i], SIGKILL);
		waitpid(kid[i], NULL, 0);
	}
	munmap(reg, LC_PAGES * pg);
}

/* A process with 36,000 one-page VMAs asked about each: more VMAs than the
 * BPF program's record batch holds (16,384: the walk resumes in the next
 * batch) and more addresses than its table (32,768: two passes). */
static void partial_case(void)
{
	enum { NV = 36000 };
	static const enum taskvma_backend bs[] = { TASKVMA_BACKEND_BPF, TASKVMA_BACKEND_PROCMAP };
	TASKVMA_OPTS(taskvma_lookup_opts, lo, .build_ids = 0);
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	uint64_t *a = malloc(NV * sizeof(*a));
	struct taskvma_addr_info *r = calloc(NV, sizeof(*r));
	int go[2];
	uint64_t reg = 0;
	pid_t c;

	if (!a || !r || pipe(go) || (c = fork()) < 0) {
		CHECK("partial case: setup", 0);
		return;
	}
	if (c == 0) {
		uint8_t *m = mmap(NULL, (NV + 2) * pg, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (size_t k = 1; m != MAP_FAILED && k <= NV; k += 2)
			mprotect(m + k * pg, pg, PROT_READ);
		if (m != MAP_FAILED) {	/* the ends: no merging with page NV or 1 */
			mprotect(m, pg, PROT_NONE);
			mprotect(m + (NV + 1) * pg, pg, PROT_NONE);
		}
		reg = m == MAP_FAILED ? 0 : (uint64_t)(uintptr_t)m;
		if (write(go[1], &reg, sizeof(reg)) != sizeof(reg))
			_exit(1);
		for (;;)
			pause();
	}
	if (read(go[0], &reg, sizeof(reg)) != sizeof(reg) || !reg) {
		CHECK("partial case: the child's map", 0);
		kill(c, SIGKILL);
		waitpid(c, NULL, 0);
		return;
	}
	/* page k (1..NV) is a VMA of its own: r-- when k is odd, rw- when even */
	for (size_t k = 0; k < NV; k++)
		a[k] = reg + (NV - k) * pg + (k % 3) * 100;	/* descending, off the starts */
	for (size_t bi = 0; bi < 2; bi++) {
		TASKVMA_OPTS(taskvma_opts, o, .backend = bs[bi]);
		struct taskvma *tv;
		size_t bad = 0;
		char name[160];

		if (taskvma_open(&tv, &o))
			continue;
		if (taskvma_lookup(tv, c, a, NV, r, &lo))
			bad++;
		for (size_t k = 0; !bad && k < NV; k++) {
			uint64_t s = reg + (NV - k) * pg;
			uint32_t want = (NV - k) % 2 ? TASKVMA_PERM_READ
						     : TASKVMA_PERM_READ | TASKVMA_PERM_WRITE;

			if (r[k].status != TASKVMA_ADDR_ANON || r[k].vma.start != s ||
			    r[k].vma.end != s + pg || (r[k].vma.perms & 7) != want) {
				printf("# %zu: %llx: status %d %llx-%llx perms %u\n", k, (unsigned long long)a[k],
				       r[k].status, (unsigned long long)r[k].vma.start,
				       (unsigned long long)r[k].vma.end, r[k].vma.perms);
				bad++;
			}
		}
		snprintf(name, sizeof(name), "partial --backend=%s: %d addresses, each in a VMA of its own", taskvma_backend_name(bs[bi]), NV);
		CHECK(name, bad == 0);
		taskvma_close(tv);
	}
	kill(c, SIGKILL);
	waitpid(c, NULL, 0);
	close(go[0]);
	close(go[1]);
	free(a);
	free(r);
}

int main(void)
{
	static const enum taskvma_backend bs[] = { TASKVMA_BACKEND_PROCMAP, TASKVMA_BACKEND_PROCFS,
						   TASKVMA_BACKEND_BPF };
	static struct line l[4096];
	size_t nl = read_maps(l, 4096);
	char name[128];

	CHECK("test_lookup: /proc/self/maps read", nl > 5);
	for (size_t bi = 0; bi < 3; bi++) {
		TASKVMA_OPTS(taskvma_opts, o, .backend = bs[bi]);
		TASKVMA_OPTS(taskvma_lookup_opts, lo, .build_ids = 0);
		struct taskvma *tv;
		const char *bn = taskvma_backend_name(bs[bi]);
		uint64_t a[3 * 4096 + 2];
		struct taskvma_addr_info *r = calloc(3 * 4096 + 2, sizeof(*r));
		size_t n = 0, bad = 0;

		if (taskvma_open(&tv, &o)) {
			printf("# %s: not available here\n", bn);
			free(r);
			continue;
		}
		/* every mapping's middle, twice, and 0: in reverse order */
		for (size_t i = nl; i-- > 0;) {
			if (l[i].start >= 0xffffffffff600000ull)
				continue;	/* [vsyscall]: not a VMA of the iterator */
			a[n++] = (l[i].start + l[i].end) / 2;
			a[n++] = l[i].start;
			a[n++] = (l[i].start + l[i].end) / 2;
		}
		a[n++] = 0;
		snprintf(name, sizeof(name), "taskvma_lookup --backend=%s: %zu unsorted addresses", bn, n);
		CHECK(name, taskvma_lookup(tv, getpid(), a, n, r, &lo) == 0);
		for (size_t i = 0; i < n; i++) {
			const struct line *w = NULL;

			for (size_t j = 0; j < nl && !w; j++)
				if (l[j].start <= a[i] && a[i] < l[j].end)
					w = &l[j];
			if (!w) {
				bad += r[i].status != TASKVMA_ADDR_NOT_MAPPED;
				continue;
			}
			/* (the maps may have changed a little since read: the
			 * heap, this very allocation) */
			if (r[i].addr != a[i] || r[i].vma.start > a[i] || r[i].vma.end <= a[i])
				bad++;
			else if (r[i].status == TASKVMA_ADDR_FILE &&
				 r[i].file_offset != a[i] - r[i].vma.start + r[i].vma.offset)
				bad++;
		}
		snprintf(name, sizeof(name), "taskvma_lookup --backend=%s: each answer holds its address, in input order", bn);
		CHECK(name, bad == 0);

		/* normalize: pid 0 and a pid past pid_max are gone, others answered */
		{
			struct taskvma_addr_req q[3] = { { 0, 0x1000 }, { getpid(), a[0] }, { 1 << 30, 0x1000 } };
			struct taskvma_addr_info nr[3];

			snprintf(name, sizeof(name), "taskvma_normalize --backend=%s: bad pids gone, the rest answered", bn);
			CHECK(name, taskvma_normalize(tv, q, 3, nr, &lo) == 0 &&
				    nr[0].status == TASKVMA_ADDR_GONE && nr[2].status == TASKVMA_ADDR_GONE &&
				    nr[1].status != TASKVMA_ADDR_GONE && nr[1].vma.start <= a[0] &&
				    a[0] < nr[1].vma.end);
		}
		if (bs[bi] == TASKVMA_BACKEND_PROCMAP) {
			TASKVMA_OPTS(taskvma_lookup_opts, bado, .build_id_from = 7);

			CHECK("taskvma_lookup: build_id_from out of range -> -EINVAL",
			      taskvma_lookup(tv, getpid(), a, 1, r, &bado) == -EINVAL);
			elf_case(tv, "ELF32 big-endian, 4-aligned notes", 0, 1, 4, 20, 0, TASKVMA_BUILD_ID_OK);
			elf_case(tv, "ELF64 little-endian, 8-aligned notes", 1, 0, 8, 16, 0, TASKVMA_BUILD_ID_OK);
			elf_case(tv, "ELF64 big-endian, 20-byte build ID", 1, 1, 4, 20, 0, TASKVMA_BUILD_ID_OK);
			elf_case(tv, "ELF64, a 32-byte build ID (longer than any the kernel takes)", 1, 0, 4, 32, 0,
				 TASKVMA_BUILD_ID_UNREADABLE);
			elf_case(tv, "ELF32, the note area cut before the build ID ends", 0, 0, 4, 20, 1,
				 TASKVMA_BUILD_ID_NONE);
		}
		taskvma_close(tv);
		free(r);
	}
	exec_case();
	layout_case();
	partial_case();
	return check_end();
}
