// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* taskvma_lookup() / taskvma_normalize() on this process, for every backend
 * that opens: unsorted addresses with duplicates against the kernel's own
 * /proc/self/maps text; and the ELF note parser on files built here byte by
 * byte (ELF32 big-endian, ELF64 with 8-byte aligned notes, a build ID longer
 * than 20 bytes, a truncated note area), mapped and read through
 * /proc/self/map_files (build_id_from = FILE); and a lookup after the
 * looked-up process has exec'd (procmap keeps its descriptor open). */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <signal.h>
#include <sys/mman.h>
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
	return check_end();
}
