/* Unit tests of the rules of `taskvma scan` (taskvma_suspicious,
 * taskvma_suspect_name) and of taskvma_map_diff, on /proc/PID/maps lines
 * written here: names the running kernel may not be able to make
 * ([anon_shmem:NAME] needs CONFIG_ANON_VMA_NAME, /anon_hugepage needs huge
 * pages), and real files whose names look like the kernel's own.
 * tests/cases/scan.sh and watch.sh test the same on live processes. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "taskvma.h"
#include "check.h"

#define WX TASKVMA_SUSPECT_WX
#define ANON TASKVMA_SUSPECT_ANON_EXEC
#define DEL TASKVMA_SUSPECT_DELETED_EXEC
#define MEMFD TASKVMA_SUSPECT_MEMFD_EXEC
#define STACK TASKVMA_SUSPECT_STACK_EXEC
#define HEAP TASKVMA_SUSPECT_HEAP_EXEC

/* header of a maps line: perms, device; the name follows after padding */
#define L(perms, dev, ino) "7f0000000000-7f0000001000 " perms " 00000000 " dev " " ino
#define PAD "                    "

static const struct {
	const char *line;
	uint32_t want;
	const char *why;
} cases[] = {
	/* not executable: never */
	{ L("rw-p", "00:00", "0") " ", 0, "rw- anonymous" },
	{ L("r--p", "fe:00", "12") PAD "/tmp/gone (deleted)", 0, "r-- deleted file" },
	{ L("rw-s", "00:01", "7") PAD "/memfd:buf (deleted)", 0, "rw- memfd" },
	{ L("rw-p", "00:00", "0") PAD "[stack]", 0, "rw- stack" },
	/* clean executable mappings */
	{ L("r-xp", "fe:00", "12") PAD "/usr/lib/libc.so.6", 0, "library" },
	{ L("r-xp", "00:00", "0") PAD "[vdso]", 0, "[vdso]" },
	{ L("--xp", "00:00", "0") PAD "[vsyscall]", 0, "[vsyscall]" },
	{ L("r-xp", "00:00", "0") PAD "[uprobes]", 0, "[uprobes]" },
	/* a real file may be named like the kernel's internal ones: without
	 * " (deleted)" it is not one */
	{ L("r-xp", "fe:00", "12") PAD "/SYSVfoo", 0, "real file /SYSVfoo" },
	{ L("r-xp", "fe:00", "12") PAD "/memfd:x", 0, "real file /memfd:x" },
	{ L("r-xp", "fe:00", "12") PAD "/dev/zero (deleted) not", 0, "real file '/dev/zero (deleted) not'" },
	/* wx */
	{ L("rwxp", "fe:00", "12") PAD "/opt/app/lib.so", WX, "rwx file" },
	{ L("rwxp", "00:00", "0") " ", WX | ANON, "rwx anonymous" },
	{ L("rwxs", "00:01", "9") PAD "/memfd:jit (deleted)", WX | MEMFD, "rwx memfd" },
	/* anonymous, in all its names */
	{ L("r-xp", "00:00", "0") " ", ANON, "r-x anonymous" },
	{ L("--xp", "00:00", "0") " ", ANON, "--x anonymous" },
	{ L("r-xp", "00:00", "0") PAD "[anon:jit]", ANON, "[anon:NAME]" },
	{ L("r-xs", "00:01", "1031") PAD "/dev/zero (deleted)", ANON, "shared anonymous" },
	{ L("r-xs", "00:01", "1031") PAD "[anon_shmem:jit]", ANON, "named shared anonymous" },
	{ L("r-xp", "00:0f", "4242") PAD "/anon_hugepage (deleted)", ANON, "hugetlb anonymous" },
	{ L("r-xs", "00:01", "5") PAD "/SYSV00000000 (deleted)", ANON, "SysV shm" },
	/* deleted, memfd */
	{ L("r-xp", "fe:00", "12") PAD "/tmp/payload (deleted)", DEL, "deleted file" },
	{ L("r-xp", "fe:00", "12") PAD "/tmp/new\\012line (deleted)", DEL, "deleted file, escaped name" },
	{ L("r-xp", "00:01", "8") PAD "/memfd:x (deleted)", MEMFD, "memfd" },
	{ L("r-xp", "00:01", "8") PAD "/memfd: (deleted)", MEMFD, "memfd without a name" },
	/* stack, heap */
	{ L("rwxp", "00:00", "0") PAD "[stack]", WX | STACK, "rwx stack" },
	{ L("r-xp", "00:00", "0") PAD "[heap]", HEAP, "r-x heap" },
};

struct rec {
	int added;
	uint64_t start;
};
struct diff_log {
	struct rec r[16];
	int n;
};

static void log_cb(void *ctx, int added, const struct taskvma_vma *v)
{
	struct diff_log *l = ctx;

	if (l->n < 16)
		l->r[l->n++] = (struct rec){ added, v->start };
}

static struct taskvma_vma vma(uint64_t start, uint32_t perms, const char *name)
{
	return (struct taskvma_vma){ .start = start, .end = start + 0x1000, .perms = perms,
				     .name = name, .name_len = (uint32_t)strlen(name),
				     .kind = name[0] ? TASKVMA_KIND_FILE : TASKVMA_KIND_ANON };
}

static void test_diff(void)
{
	struct taskvma_vma a[] = { vma(0x1000, 1, ""), vma(0x3000, 3, "/a"), vma(0x5000, 5, "/b") };
	/* 0x1000 gone, 0x2000 new, 0x3000 same, 0x5000 renamed, 0x6000 new */
	struct taskvma_vma b[] = { vma(0x2000, 1, ""), vma(0x3000, 3, "/a"), vma(0x5000, 5, "/c"),
				   vma(0x6000, 1, "") };
	struct taskvma_map ma = { .count = 3, .vmas = a }, mb = { .count = 4, .vmas = b };
	struct taskvma_map empty = { .count = 0, .vmas = NULL };
	struct diff_log l = { .n = 0 };
	const struct rec want[] = { { 0, 0x1000 }, { 1, 0x2000 }, { 0, 0x5000 }, { 1, 0x5000 },
				    { 1, 0x6000 } };
	char same_name[] = "/a";
	int ok;

	CHECK("diff: count", taskvma_map_diff(&ma, &mb, log_cb, &l) == 5);
	CHECK("diff: 5 callbacks", l.n == 5);
	ok = l.n == 5;
	for (int i = 0; ok && i < 5; i++)
		ok = l.r[i].added == want[i].added && l.r[i].start == want[i].start;
	CHECK("diff: removed/added in address order, removed first at one address", ok);
	CHECK("diff: same map -> 0", taskvma_map_diff(&ma, &ma, NULL, NULL) == 0);
	CHECK("diff: NULL old = all added", taskvma_map_diff(NULL, &mb, NULL, NULL) == 4);
	CHECK("diff: empty new = all removed", taskvma_map_diff(&ma, &empty, NULL, NULL) == 3);
	/* same name text in another buffer: the same mapping */
	a[1].name = same_name;
	CHECK("diff: names compared by content", taskvma_map_diff(&ma, &ma, NULL, NULL) == 0);
	b[1].offset = 0x1000;
	CHECK("diff: another offset is another mapping", taskvma_map_diff(&ma, &mb, NULL, NULL) == 7);
}

int main(void)
{
	char name[160];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct taskvma_vma v;
		int err = taskvma_parse_maps_line(cases[i].line, strlen(cases[i].line), &v);

		snprintf(name, sizeof(name), "suspicious: %s", cases[i].why);
		if (err) {
			printf("FAIL %s: line does not parse: %s\n", name, cases[i].line);
			check_failures++;
			continue;
		}
		if (taskvma_suspicious(&v) == cases[i].want) {
			printf("PASS %s\n", name);
		} else {
			printf("FAIL %s: mask %#x, want %#x (%s)\n", name, taskvma_suspicious(&v),
			       cases[i].want, cases[i].line);
			check_failures++;
		}
	}
	CHECK_STR("suspect_name wx", "wx", taskvma_suspect_name(WX));
	CHECK_STR("suspect_name anon-exec", "anon-exec", taskvma_suspect_name(ANON));
	CHECK_STR("suspect_name deleted-exec", "deleted-exec", taskvma_suspect_name(DEL));
	CHECK_STR("suspect_name memfd-exec", "memfd-exec", taskvma_suspect_name(MEMFD));
	CHECK_STR("suspect_name stack-exec", "stack-exec", taskvma_suspect_name(STACK));
	CHECK_STR("suspect_name heap-exec", "heap-exec", taskvma_suspect_name(HEAP));
	CHECK_STR("suspect_name of two bits", "unknown", taskvma_suspect_name(WX | ANON));
	CHECK("SUSPECT_ALL is every rule",
	      TASKVMA_SUSPECT_ALL == (WX | ANON | DEL | MEMFD | STACK | HEAP));
	test_diff();
	return check_end();
}
