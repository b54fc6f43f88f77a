/* Unit tests of the /proc/PID/maps line formatter and parser:
 * taskvma_format_maps_line, taskvma_format_perms, taskvma_parse_maps_line,
 * taskvma_kind_name.
 *
 * Oracles, independent of the code under test:
 *  - the kernel's own text: every line of /proc/self/maps (with mappings this
 *    test makes: paths with spaces and a newline, deleted files, memfd, shared
 *    anonymous memory), of /proc/1/maps and of every other readable
 *    /proc/PID/maps must survive format(parse(line)) == line, and the parsed
 *    fields must equal what sscanf(3) reads from the line;
 *  - ref_format() below, written from fs/proc/task_mmu.c
 *    (show_vma_header_prefix + seq_setwidth(72) + seq_pad(' ')), itself checked
 *    against every live line.
 * Set TV_SEED=N to change the seed of the generated records (printed). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "taskvma.h"
#include "check.h"

#define P_R TASKVMA_PERM_READ
#define P_W TASKVMA_PERM_WRITE
#define P_X TASKVMA_PERM_EXEC
#define P_S TASKVMA_PERM_SHARED

/* ---- the reference: what the kernel prints ------------------------------ */

/* fs/proc/task_mmu.c: show_vma_header_prefix() prints
 * "%08lx-%08lx %c%c%c%c %08llx %02x:%02x %lu " (the header ends with a space)
 * after seq_setwidth(m, 25 + 6 * sizeof(void *) - 1) = 72; when there is a
 * name, seq_pad(m, ' ') pads with spaces up to byte 72 and then adds one more
 * space, so the name starts at byte 73, or right after header + " " when the
 * header is 72 bytes or longer.  No name: the line ends "<inode> \n". */
static size_t ref_format(const struct taskvma_vma *v, char *out)
{
	int n = sprintf(out, "%08" PRIx64 "-%08" PRIx64 " %c%c%c%c %08" PRIx64 " %02x:%02x %" PRIu64 " ",
			v->start, v->end, v->perms & P_R ? 'r' : '-', v->perms & P_W ? 'w' : '-',
			v->perms & P_X ? 'x' : '-', v->perms & P_S ? 's' : 'p', v->offset,
			v->dev_major, v->dev_minor, v->inode);

	if (v->name_len) {
		while (n < 72)
			out[n++] = ' ';
		out[n++] = ' ';
		memcpy(out + n, v->name, v->name_len);
		n += v->name_len;
	}
	out[n++] = '\n';
	out[n] = '\0';
	return n;
}

/* The kind a name implies (header: enum taskvma_kind), -1 if the spec does
 * not say. */
static int ref_kind(const char *name, size_t len)
{
	static const char *const special[] = { "[vdso]", "[vvar]", "[vvar_vclock]", "[vsyscall]",
					       "[uprobes]" };

	if (len == 0)
		return TASKVMA_KIND_ANON;
	if (name[0] == '/')
		return TASKVMA_KIND_FILE;
	if (len == 6 && !memcmp(name, "[heap]", 6))
		return TASKVMA_KIND_HEAP;
	if (len == 7 && !memcmp(name, "[stack]", 7))
		return TASKVMA_KIND_STACK;
	for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++)
		if (len == strlen(special[i]) && !memcmp(name, special[i], len))
			return TASKVMA_KIND_SPECIAL;
	if (len > 7 && !memcmp(name, "[anon:", 6) && name[len - 1] == ']')
		return TASKVMA_KIND_ANON_NAMED;
	return -1;
}

/* ---- helpers ----------------------------------------------------------- */

/* Parse a copy of s[0..len) in a buffer of exactly len bytes (no NUL after
 * it), so an over-read shows under ASan.  The copy is returned in *keep
 * (v->name points into it); free it. */
static int parse_exact(const char *s, size_t len, struct taskvma_vma *v, char **keep)
{
	char *b = malloc(len ? len : 1);
	int r;

	if (!b)
		abort();
	memcpy(b, s, len);
	memset(v, 0xa5, sizeof(*v));
	r = taskvma_parse_maps_line(b, len, v);
	if (keep)
		*keep = b;
	else
		free(b);
	return r;
}

static int parse_str(const char *s, struct taskvma_vma *v, char **keep)
{
	return parse_exact(s, strlen(s), v, keep);
}

/* Format into a malloc'd string (checks the return value == strlen). */
static char *format_alloc(const struct taskvma_vma *v, size_t *len_out)
{
	size_t need = taskvma_format_maps_line(v, NULL, 0);
	char *b = malloc(need + 1);
	size_t got;

	if (!b)
		abort();
	got = taskvma_format_maps_line(v, b, need + 1);
	if (got != need || strlen(b) != need) {
		printf("  format: size %zu, then %zu, strlen %zu\n", need, got, strlen(b));
		b[0] = '\0';
		need = 0;
	}
	if (len_out)
		*len_out = need;
	return b;
}

/* Compare what parse guarantees; *why gets the first difference. */
static int same_vma(const struct taskvma_vma *a, const struct taskvma_vma *b, char *why,
		    size_t whylen)
{
#define F(f)                                                                                       \
	if (a->f != b->f) {                                                                        \
		snprintf(why, whylen, #f ": %#" PRIx64 " vs %#" PRIx64, (uint64_t)a->f,           \
			 (uint64_t)b->f);                                                          \
		return 0;                                                                          \
	}
	F(start) F(end) F(offset) F(inode) F(dev_major) F(dev_minor) F(perms) F(kind) F(name_len)
#undef F
	if (a->name_len && memcmp(a->name, b->name, a->name_len)) {
		snprintf(why, whylen, "name: [%.*s] vs [%.*s]", (int)a->name_len, a->name,
			 (int)b->name_len, b->name);
		return 0;
	}
	return 1;
}

static struct taskvma_vma mk(uint64_t start, uint64_t end, uint32_t perms, uint64_t off,
			     uint32_t maj, uint32_t min, uint64_t ino, const char *name)
{
	struct taskvma_vma v;
	int k = ref_kind(name, strlen(name));

	memset(&v, 0, sizeof(v));
	v.start = start;
	v.end = end;
	v.perms = perms;
	v.offset = off;
	v.dev_major = maj;
	v.dev_minor = min;
	v.inode = ino;
	v.name = name;
	v.name_len = strlen(name);
	v.kind = k < 0 ? TASKVMA_KIND_FILE : (uint32_t)k;
	return v;
}

static const char *sp(int n)
{
	static char buf[8][128];
	static int i;
	char *b = buf[i++ % 8];

	memset(b, ' ', n);
	b[n] = '\0';
	return b;
}

/* Expected line built by hand: header, spaces, name, "\n". */
static char *cat3(const char *a, const char *b, const char *c)
{
	static char buf[4][512];
	static int i;
	char *r = buf[i++ % 4];

	snprintf(r, sizeof(buf[0]), "%s%s%s\n", a, b, c);
	return r;
}

/* ---- perms and kind names ---------------------------------------------- */

static void test_perms(void)
{
	int bad = 0;
	char got[5], want[5], name[64];

	for (uint32_t p = 0; p < 16; p++) {
		want[0] = p & P_R ? 'r' : '-';
		want[1] = p & P_W ? 'w' : '-';
		want[2] = p & P_X ? 'x' : '-';
		want[3] = p & P_S ? 's' : 'p';
		want[4] = '\0';
		memset(got, 'Z', sizeof(got));
		taskvma_format_perms(p, got);
		if (memcmp(got, want, 5)) {
			snprintf(name, sizeof(name), "format_perms(%#x)", p);
			CHECK_STR(name, want, got[4] ? "(not NUL-terminated)" : got);
			bad++;
		}
	}
	CHECK("format_perms: all 16 combinations", bad == 0);
	taskvma_format_perms(P_R | P_W, got);
	CHECK_STR("format_perms: rw-p", "rw-p", got);
	taskvma_format_perms(P_R | P_X | P_S, got);
	CHECK_STR("format_perms: r-xs", "r-xs", got);
	taskvma_format_perms(0, got);
	CHECK_STR("format_perms: ---p", "---p", got);
}

static void test_kind_names(void)
{
	CHECK_STR("kind_name: anon", "anon", taskvma_kind_name(TASKVMA_KIND_ANON));
	CHECK_STR("kind_name: file", "file", taskvma_kind_name(TASKVMA_KIND_FILE));
	CHECK_STR("kind_name: heap", "heap", taskvma_kind_name(TASKVMA_KIND_HEAP));
	CHECK_STR("kind_name: stack", "stack", taskvma_kind_name(TASKVMA_KIND_STACK));
	CHECK_STR("kind_name: special", "special", taskvma_kind_name(TASKVMA_KIND_SPECIAL));
	CHECK_STR("kind_name: anon_named", "anon_named", taskvma_kind_name(TASKVMA_KIND_ANON_NAMED));
}

/* ---- formatting: hand-computed lines ----------------------------------- */

static void check_format(const char *name, const struct taskvma_vma *v, const char *want)
{
	size_t len;
	char *got = format_alloc(v, &len);

	CHECK_STR(name, want, got);
	free(got);
}

static void test_format_fixed(void)
{
	struct taskvma_vma v;
	char *got;

	/* "00400000-00452000 r-xp 00000000 08:02 173521 " is 45 bytes: 27
	 * bytes of padding to 72, one more space: the name at 73. */
	v = mk(0x400000, 0x452000, P_R | P_X, 0, 8, 2, 173521, "/usr/bin/dbus-daemon");
	check_format("format: file line, name at column 73", &v,
		     cat3("00400000-00452000 r-xp 00000000 08:02 173521", sp(29),
			  "/usr/bin/dbus-daemon"));
	got = format_alloc(&v, NULL);
	CHECK("format: name starts at byte 73", !strncmp(got + 73, "/usr/bin/dbus-daemon", 20) &&
						    got[72] == ' ' && got[71] == ' ');
	free(got);

	v = mk(0x7f7b032e2000, 0x7f7b03304000, P_R | P_W, 0, 0, 0, 0, "");
	check_format("format: no name ends with inode, space, newline", &v,
		     "7f7b032e2000-7f7b03304000 rw-p 00000000 00:00 0 \n");

	v = mk(0, 0x1000, 0, 0, 0, 0, 0, "");
	check_format("format: zero-padded to 8 hex digits", &v,
		     "00000000-00001000 ---p 00000000 00:00 0 \n");

	v = mk(0xABCDEF000, 0xABCDEF123, P_R | P_W | P_X | P_S, 0xDEADBEEF, 0xab, 0xcd, 42,
	       "/x");
	check_format("format: lowercase hex, rwxs", &v,
		     cat3("abcdef000-abcdef123 rwxs deadbeef ab:cd 42", sp(31), "/x"));

	v = mk(0x1000, 0x2000, P_R, 0x1000, 0x103, 0x12d, 7, "/dev/sdz");
	check_format("format: dev as %02x:%02x with 3-digit fields", &v,
		     cat3("00001000-00002000 r--p 00001000 103:12d 7", sp(32), "/dev/sdz"));

	v = mk(0x1000, 0x2000, P_R, 0, 0, 5, UINT64_MAX, "/i");
	check_format("format: inode is unsigned decimal (2^64-1)", &v,
		     cat3("00001000-00002000 r--p 00000000 00:05 18446744073709551615", sp(15), "/i"));

	v = mk(0xffffffffff600000, 0xffffffffff601000, P_X, 0, 0, 0, 0, "[vsyscall]");
	check_format("format: [vsyscall] line, name at column 73", &v,
		     cat3("ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0", sp(18),
			  "[vsyscall]"));

	/* Long headers, as the kernel printed them on this machine (an
	 * overlayfs file with xino inode numbers, mapped at offset
	 * 0x7ffffffffff00000).  Header + its space = 72 bytes: seq_pad adds
	 * no padding, then its one space: name at 73 after two spaces. */
	v = mk(0x7ffa67b3a000, 0x7ffa67b3b000, P_R, 0x7ffffffffff00000, 0, 0x29,
	       9223372036865728771ull, "/tmp/ovl/merged/f");
	check_format("format: 72-byte header: two spaces, name at 73", &v,
		     cat3("7ffa67b3a000-7ffa67b3b000 r--p 7ffffffffff00000 00:29 9223372036865728771",
			  sp(2), "/tmp/ovl/merged/f"));
	/* ... and with an anonymous-dev minor of 0x12d: 75 bytes, name at 76. */
	v = mk(0x7fdccd68e000, 0x7fdccd68f000, P_R, 0x7ffffffffff00000, 0, 0x12d,
	       9223372036865728771ull, "/tmp/ovl/merged/f");
	check_format("format: 75-byte header: header, one more space, name at 76", &v,
		     cat3("7fdccd68e000-7fdccd68f000 r--p 7ffffffffff00000 00:12d 9223372036865728771",
			  sp(2), "/tmp/ovl/merged/f"));
	v = mk(0xffffffffff600000, 0xffffffffff601000, P_R | P_W | P_X | P_S, UINT64_MAX, 0xfff,
	       0xfffff, UINT64_MAX, "[vsyscall]");
	check_format("format: header past column 72: header, one space, name", &v,
		     cat3("ffffffffff600000-ffffffffff601000 rwxs ffffffffffffffff fff:fffff 18446744073709551615",
			  sp(2), "[vsyscall]"));
	v.name = "";
	v.name_len = 0;
	check_format("format: long header without a name", &v,
		     "ffffffffff600000-ffffffffff601000 rwxs ffffffffffffffff fff:fffff 18446744073709551615 \n");

	/* name_len is the length: a name need not be NUL-terminated. */
	v = mk(0x1000, 0x2000, P_R, 0, 8, 1, 12, "/a/b");
	v.name = "/a/bXYZ";
	v.name_len = 4;
	check_format("format: uses name_len, not strlen", &v,
		     cat3("00001000-00002000 r--p 00000000 08:01 12", sp(33), "/a/b"));

	v = mk(0x1000, 0x2000, P_R, 0, 8, 1, 12, "/tmp/new\\012line (deleted)");
	check_format("format: escaped newline copied as is", &v,
		     cat3("00001000-00002000 r--p 00000000 08:01 12", sp(33),
			  "/tmp/new\\012line (deleted)"));
}

static void test_format_size(void)
{
	struct taskvma_vma v = mk(0x400000, 0x452000, P_R | P_X, 0, 8, 2, 173521,
				  "/usr/bin/dbus-daemon");
	char want[256], buf[256];
	size_t wl = ref_format(&v, want), need, r;
	int ok = 1;

	need = taskvma_format_maps_line(&v, NULL, 0);
	CHECK("format size: NULL/0 returns the length needed", need == wl);

	memset(buf, 'Q', sizeof(buf));
	r = taskvma_format_maps_line(&v, buf, wl + 1);
	CHECK("format size: exact fit (len+1) is NUL-terminated",
	      r == wl && buf[wl] == '\0' && !memcmp(buf, want, wl) && buf[wl + 1] == 'Q');

	/* Too small: returns the length needed, writes nothing past len. */
	for (size_t len = 1; len <= wl; len++) {
		memset(buf, 'Q', sizeof(buf));
		r = taskvma_format_maps_line(&v, buf, len);
		if (r != wl)
			ok = 0;
		for (size_t i = len; i < sizeof(buf); i++)
			if (buf[i] != 'Q')
				ok = 0;
	}
	CHECK("format size: short buffers: returns needed length, no overflow", ok);

	/* A no-name line and a long-header line: the returned size too. */
	v = mk(0, 0x1000, 0, 0, 0, 0, 0, "");
	CHECK("format size: no-name line", taskvma_format_maps_line(&v, NULL, 0) ==
						 strlen("00000000-00001000 ---p 00000000 00:00 0 \n"));
}

/* taskvma_format_json() and _json_string() size like snprintf: a NULL/0
 * call returns the length, and any shorter buffer holds that many bytes'
 * prefix, NUL-terminated, whatever the name holds (the sizing call once
 * looped forever on a byte that is not UTF-8). */
static void json_sizes(const char *what, const struct taskvma_vma *v, pid_t pid, const char *comm)
{
	char name[160];
	size_t need = taskvma_format_json(v, pid, comm, NULL, 0), r;
	char *full = malloc(need + 1), *buf = malloc(need + 2);
	int ok = 1;

	if (!full || !buf)
		abort();
	r = taskvma_format_json(v, pid, comm, full, need + 1);
	snprintf(name, sizeof(name), "json size %s: NULL/0 and a fitting buffer agree", what);
	CHECK(name, r == need && strlen(full) == need && full[0] == '{' && full[need - 1] == '}');
	for (size_t len = 1; len <= need; len++) {
		memset(buf, 'Q', need + 2);
		r = taskvma_format_json(v, pid, comm, buf, len);
		if (r != need || buf[len - 1] || memcmp(buf, full, len - 1) || buf[len] != 'Q')
			ok = 0;
	}
	snprintf(name, sizeof(name), "json size %s: every short buffer holds a prefix", what);
	CHECK(name, ok);

	/* this one counts the NUL in what it returns (include/taskvma.h) */
	size_t slen = v->name_len, sneed = taskvma_format_json_string(v->name, slen, NULL, 0, NULL);
	char *sfull = malloc(sneed), *sbuf = malloc(sneed + 1);
	int lossy = -1;

	if (!sfull || !sbuf)
		abort();
	ok = taskvma_format_json_string(v->name, slen, sfull, sneed, &lossy) == sneed &&
	     strlen(sfull) + 1 == sneed && strstr(full, sfull) && lossy == !!strstr(full, "\"name_hex\":");
	for (size_t len = 1; len < sneed; len++) {
		memset(sbuf, 'Q', sneed + 1);
		r = taskvma_format_json_string(v->name, slen, sbuf, len, NULL);
		if (r != sneed || sbuf[len - 1] || memcmp(sbuf, sfull, len - 1) || sbuf[len] != 'Q')
			ok = 0;
	}
	snprintf(name, sizeof(name), "json size %s: the name string alone too", what);
	CHECK(name, ok);
	free(sbuf);
	free(sfull);
	free(buf);
	free(full);
}

static void test_json_sizes(void)
{
	struct taskvma_vma v = mk(0x400000, 0x452000, P_R | P_X, 0, 8, 2, 173521, "/usr/bin/dbus-daemon");

	json_sizes("plain", &v, 0, NULL);
	json_sizes("with pid and comm", &v, 42, "dbus-daemon");
	v = mk(0x1000, 0x2000, P_R | P_S, 0x2000, 8, 2, 7, "/tmp/d \"q\" \\ \xc3\xa9 \xff\x01/churn.dat");
	json_sizes("quotes, control and non-UTF-8 bytes", &v, 0, NULL);
	json_sizes("non-UTF-8 name and comm", &v, 7, "a\xff\xc3");
	v = mk(0x1000, 0x2000, P_R, 0, 8, 2, 7, "\xed\xa0\x80\xf4\x90\x80\x80\xc0\xaf\xe2\x82");
	json_sizes("surrogate, > U+10FFFF, overlong, cut sequence", &v, 0, NULL);
	CHECK("json: a byte that is not UTF-8 is U+FFFD, its bytes in name_hex",
	      ({ char b[512]; taskvma_format_json(&v, 0, NULL, b, sizeof(b));
		 strstr(b, "\"name\":\"\\ufffd") && strstr(b, "\"name_hex\":\"eda080f4908080c0afe282\""); }));
}

/* ---- parsing ---------------------------------------------------------- */

static void test_parse_fixed(void)
{
	struct taskvma_vma v;
	char *keep;
	const char *line;
	int r;

	line = "00400000-00452000 r-xp 00000000 08:02 173521                             /usr/bin/dbus-daemon\n";
	r = parse_str(line, &v, &keep);
	CHECK("parse: file line returns 0", r == 0);
	CHECK("parse: file line fields",
	      r == 0 && v.start == 0x400000 && v.end == 0x452000 && v.perms == (P_R | P_X) &&
		      v.offset == 0 && v.dev_major == 8 && v.dev_minor == 2 && v.inode == 173521 &&
		      v.kind == TASKVMA_KIND_FILE);
	CHECK("parse: file line name (points into the line)",
	      r == 0 && v.name_len == 20 && !memcmp(v.name, "/usr/bin/dbus-daemon", 20) &&
		      v.name >= keep && v.name + v.name_len <= keep + strlen(line));
	free(keep);

	/* Without the trailing newline. */
	r = parse_exact(line, strlen(line) - 1, &v, &keep);
	CHECK("parse: line without its newline",
	      r == 0 && v.name_len == 20 && !memcmp(v.name, "/usr/bin/dbus-daemon", 20) &&
		      v.inode == 173521);
	free(keep);

	line = "7f7b032e2000-7f7b03304000 rw-p 00000000 00:00 0 \n";
	r = parse_str(line, &v, &keep);
	CHECK("parse: anonymous line",
	      r == 0 && v.start == 0x7f7b032e2000 && v.end == 0x7f7b03304000 &&
		      v.perms == (P_R | P_W) && v.inode == 0 && v.name_len == 0 &&
		      v.kind == TASKVMA_KIND_ANON);
	free(keep);
	r = parse_exact(line, strlen(line) - 1, &v, &keep);
	CHECK("parse: anonymous line without newline", r == 0 && v.name_len == 0 &&
							       v.kind == TASKVMA_KIND_ANON);
	free(keep);

	line = "7f6bc8ea4000-7f6bc8ea7000 rw-s 00000000 00:01 29                         /dev/zero (deleted)\n";
	r = parse_str(line, &v, &keep);
	CHECK("parse: shared anonymous (/dev/zero (deleted)): rw-s, file kind",
	      r == 0 && v.perms == (P_R | P_W | P_S) && v.dev_minor == 1 && v.inode == 29 &&
		      v.kind == TASKVMA_KIND_FILE && v.name_len == 19 &&
		      !memcmp(v.name, "/dev/zero (deleted)", 19));
	free(keep);

	line = "7f6bc8cb9000-7f6bc8cba000 r--p 00000000 fe:00 10952991                   /tmp/d/new\\012line.dat\n";
	r = parse_str(line, &v, &keep);
	CHECK("parse: \\012 stays 4 characters in the name",
	      r == 0 && v.name_len == strlen("/tmp/d/new\\012line.dat") &&
		      !memcmp(v.name, "/tmp/d/new\\012line.dat", v.name_len) && v.dev_major == 0xfe);
	free(keep);

	line = "7f6bc8ea2000-7f6bc8ea3000 r--p 00000000 fe:00 10952990                   /tmp/d/trailing space.dat \n";
	r = parse_str(line, &v, &keep);
	CHECK("parse: trailing space of a name is kept",
	      r == 0 && v.name_len == strlen("/tmp/d/trailing space.dat ") &&
		      !memcmp(v.name, "/tmp/d/trailing space.dat ", v.name_len));
	free(keep);

	line = "7fdccd68e000-7fdccd68f000 r--p 7ffffffffff00000 00:12d 9223372036865728771  /tmp/ovl/merged/f\n";
	r = parse_str(line, &v, &keep);
	CHECK("parse: long header (16-digit offset, 19-digit inode, minor 0x12d)",
	      r == 0 && v.offset == 0x7ffffffffff00000 && v.dev_minor == 0x12d &&
		      v.inode == 9223372036865728771ull && v.name_len == 17 &&
		      !memcmp(v.name, "/tmp/ovl/merged/f", 17));
	free(keep);

	line = "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n";
	r = parse_str(line, &v, &keep);
	CHECK("parse: [vsyscall]", r == 0 && v.start == 0xffffffffff600000 &&
					   v.end == 0xffffffffff601000 && v.perms == P_X &&
					   v.kind == TASKVMA_KIND_SPECIAL && v.name_len == 10);
	free(keep);
}

static void test_parse_kinds(void)
{
	static const struct {
		const char *name;
		uint32_t kind;
		const char *label;
	} cases[] = {
		{ "", TASKVMA_KIND_ANON, "parse kind: no name -> anon" },
		{ "[heap]", TASKVMA_KIND_HEAP, "parse kind: [heap] -> heap" },
		{ "[stack]", TASKVMA_KIND_STACK, "parse kind: [stack] -> stack" },
		{ "[vdso]", TASKVMA_KIND_SPECIAL, "parse kind: [vdso] -> special" },
		{ "[vvar]", TASKVMA_KIND_SPECIAL, "parse kind: [vvar] -> special" },
		{ "[vvar_vclock]", TASKVMA_KIND_SPECIAL, "parse kind: [vvar_vclock] -> special" },
		{ "[vsyscall]", TASKVMA_KIND_SPECIAL, "parse kind: [vsyscall] -> special" },
		{ "[uprobes]", TASKVMA_KIND_SPECIAL, "parse kind: [uprobes] -> special" },
		{ "[anon:x]", TASKVMA_KIND_ANON_NAMED, "parse kind: [anon:x] -> anon_named" },
		{ "[anon:my buffer 1]", TASKVMA_KIND_ANON_NAMED, "parse kind: [anon:with spaces] -> anon_named" },
		{ "/usr/lib/libc.so.6", TASKVMA_KIND_FILE, "parse kind: path -> file" },
		{ "/memfd:tvtest (deleted)", TASKVMA_KIND_FILE, "parse kind: memfd -> file" },
		{ "/dev/zero (deleted)", TASKVMA_KIND_FILE, "parse kind: /dev/zero (deleted) -> file" },
		{ "/tmp/[heap]", TASKVMA_KIND_FILE, "parse kind: path containing [heap] -> file" },
	};
	char line[256];
	struct taskvma_vma v, w;
	char *keep;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int is_file = cases[i].kind == TASKVMA_KIND_FILE;

		w = mk(0x7f0000000000, 0x7f0000021000, P_R | P_W, 0, is_file ? 8 : 0, is_file ? 1 : 0,
		       is_file ? 99 : 0, cases[i].name);
		ref_format(&w, line);
		int r = parse_str(line, &v, &keep);

		CHECK(cases[i].label, r == 0 && v.kind == cases[i].kind &&
					      v.name_len == strlen(cases[i].name) &&
					      !memcmp(v.name, cases[i].name, v.name_len));
		free(keep);
	}
}

static void test_parse_rejects(void)
{
	static const struct {
		const char *line;
		const char *label;
	} bad[] = {
		{ "", "empty" },
		{ "\n", "just a newline" },
		{ "garbage\n", "garbage" },
		{ "hello world this is not a maps line at all\n", "words" },
		{ "00400000-00452000\n", "range only" },
		{ "00400000-00452000 r-xp\n", "no offset" },
		{ "00400000-00452000 r-xp 00000000\n", "no dev" },
		{ "00400000-00452000 r-xp 00000000 08:02\n", "no inode" },
		{ "00400000 r-xp 00000000 08:02 173521 \n", "no end address" },
		{ "-00452000 r-xp 00000000 08:02 173521 \n", "no start address" },
		{ "00400000- r-xp 00000000 08:02 173521 \n", "empty end address" },
		{ "00400000_00452000 r-xp 00000000 08:02 173521 \n", "no dash" },
		{ "0040z000-00452000 r-xp 00000000 08:02 173521 \n", "non-hex start" },
		{ "00400000-0045200g r-xp 00000000 08:02 173521 \n", "non-hex end" },
		{ "00400000-00452000 r-xp 0000000g 08:02 173521 \n", "non-hex offset" },
		{ "00400000-00452000 r-xp 00000000 0g:02 173521 \n", "non-hex major" },
		{ "00400000-00452000 r-xp 00000000 08:0g 173521 \n", "non-hex minor" },
		{ "00400000-00452000 r-xp 00000000 0802 173521 \n", "dev without colon" },
		{ "00400000-00452000 r-xp 00000000 08: 173521 \n", "dev without minor" },
		{ "00400000-00452000 r-xp 00000000 08:02 17352a \n", "non-decimal inode" },
		{ "00400000-00452000 r-xp 00000000 08:02 x \n", "inode not a number" },
		{ "00400000-00452000 r-xp 00000000 08:02 173521/usr/bin/x\n", "no space after inode" },
		{ "00400000-00452000 r-x 00000000 08:02 173521 \n", "perms 3 chars" },
		{ "00400000-00452000 r-xpp 00000000 08:02 173521 \n", "perms 5 chars" },
		{ "00400000-00452000 r-xq 00000000 08:02 173521 \n", "perms 4th not p/s" },
		{ "00400000-00452000 xwrp 00000000 08:02 173521 \n", "perms out of order" },
		{ "00400000-00452000 RWXP 00000000 08:02 173521 \n", "perms upper case" },
		{ "00400000-00452000 r?xp 00000000 08:02 173521 \n", "perms with ?" },
		{ "00400000-00452000 r-xp00000000 08:02 173521 \n", "no space after perms" },
		{ "00400000-00452000  r-xp 00000000 08:02 173521 \n", "two spaces before perms" },
		{ "10000000000000000-10000000000001000 r-xp 00000000 08:02 173521 \n",
		  "start does not fit 64 bits" },
		{ "00400000-00452000 r-xp 00000000 08:02 18446744073709551616 \n",
		  "inode does not fit 64 bits" },
		{ "00400000-00452000 r-xp 10000000000000000 08:02 173521 \n",
		  "offset does not fit 64 bits" },
		{ "0x400000-0x452000 r-xp 00000000 08:02 173521 \n", "0x prefixes" },
		{ "+0400000-00452000 r-xp 00000000 08:02 173521 \n", "signed start" },
		{ "00400000-00452000 r-xp 00000000 08:02 -173521 \n", "negative inode" },
		{ " 00400000-00452000 r-xp 00000000 08:02 173521 \n", "leading space" },
		{ "00400000-00452000 r-xp 00000000 08:02 173521 \n00400000-00452000 r-xp 00000000 08:02 173521 \n",
		  "two lines" },
	};
	char label[128];
	struct taskvma_vma v;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = parse_str(bad[i].line, &v, NULL);

		snprintf(label, sizeof(label), "parse rejects: %s", bad[i].label);
		if (r == -EINVAL)
			CHECK(label, 1);
		else {
			printf("FAIL %s: returned %d for [%s]\n", label, r, bad[i].line);
			check_failures++;
		}
	}
	/* Truncations of a good line: every prefix shorter than the inode
	 * is malformed. */
	{
		const char *good = "7f7b032e2000-7f7b03304000 rw-p 00000000 00:00 0 \n";
		size_t cut = strlen("7f7b032e2000-7f7b03304000 rw-p 00000000 00:00");
		int ok = 1;

		for (size_t l = 0; l <= cut; l++)
			if (parse_exact(good, l, &v, NULL) != -EINVAL) {
				printf("  prefix of %zu bytes accepted\n", l);
				ok = 0;
			}
		CHECK("parse rejects: every prefix that ends before the inode", ok);
	}
}

/* ---- generated records: format matches the reference, parse(format(x)) == x */

static uint64_t rng_state;
static uint64_t rnd(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1Dull;
}

/* A value with a random number of significant bits (0..64). */
static uint64_t rnd_bits(void)
{
	unsigned bits = rnd() % 65;

	return bits == 0 ? 0 : bits == 64 ? rnd() : rnd() & ((1ull << bits) - 1);
}

static void rnd_name(char *name, size_t cap)
{
	static const char *const fixed[] = {
		"", "", "", "[heap]", "[stack]", "[vdso]", "[vvar]", "[vvar_vclock]", "[vsyscall]",
		"[uprobes]", "/dev/zero (deleted)", "/memfd:tvtest (deleted)",
		"/usr/lib/x86_64-linux-gnu/libc.so.6", "/tmp/a file with spaces", "/tmp/new\\012line",
		"/tmp/trailing ", "/tmp/x (deleted)",
	};
	unsigned pick = rnd() % 24;
	size_t n;

	if (pick < sizeof(fixed) / sizeof(fixed[0])) {
		snprintf(name, cap, "%s", fixed[pick]);
		return;
	}
	if (pick < 20) { /* [anon:NAME] */
		static const char cs[] = "abcdefghijklmnopqrstuvwxyz0123456789 _.-:";
		size_t l = 1 + rnd() % 40;

		n = (size_t)snprintf(name, cap, "[anon:");
		for (size_t i = 0; i < l; i++)
			name[n++] = cs[rnd() % (sizeof(cs) - 1)];
		name[n++] = ']';
		name[n] = '\0';
		return;
	}
	/* A path of arbitrary bytes but NUL and newline (the kernel escapes
	 * those as \012), sometimes " (deleted)". */
	n = 0;
	name[n++] = '/';
	for (size_t l = rnd() % 200; l > 0 && n < cap - 16; l--) {
		char ch = (char)(1 + rnd() % 255);

		name[n++] = ch == '\n' ? ' ' : ch;
	}
	name[n] = '\0';
	if (rnd() % 4 == 0)
		strcat(name, " (deleted)");
}

static void test_generated(void)
{
	const char *env = getenv("TV_SEED");
	uint64_t seed = env ? strtoull(env, NULL, 0) : 0x7a5c5eedull;
	int n = 200000, fmt_bad = 0, rt_bad = 0, col_bad = 0, col_checked = 0;
	char name[512], want[1024], why[600];

	rng_state = seed ? seed : 1;
	printf("  generated records: seed %#" PRIx64 " (TV_SEED), %d records\n", seed, n);
	for (int i = 0; i < n; i++) {
		struct taskvma_vma v, p;
		size_t wl, gl;
		char *got, *keep;
		int k;

		rnd_name(name, 256);
		memset(&v, 0, sizeof(v));
		v.start = rnd_bits();
		v.end = v.start + (rnd_bits() & 0xffffffffffull);
		if (v.end < v.start)
			v.end = UINT64_MAX;
		v.perms = rnd() % 16;
		v.name = name;
		v.name_len = strlen(name);
		k = ref_kind(name, v.name_len);
		v.kind = k < 0 ? TASKVMA_KIND_FILE : (uint32_t)k;
		if (v.kind == TASKVMA_KIND_FILE) {
			v.offset = rnd_bits();
			v.dev_major = rnd() % 0x1000;  /* MAJOR(): 12 bits */
			v.dev_minor = rnd() % 0x100000; /* MINOR(): 20 bits */
			v.inode = rnd_bits();
		}

		wl = ref_format(&v, want);
		got = format_alloc(&v, &gl);
		if (gl != wl || strcmp(got, want)) {
			if (fmt_bad++ < 5)
				printf("  format differs:\n   want [%s]\n   got  [%s]\n", want, got);
		}
		if (v.name_len && wl - 1 - v.name_len == 73) {
			/* Short header: the name must start at byte 73. */
			col_checked++;
			if (strlen(got) < 73 + v.name_len || memcmp(got + 73, v.name, v.name_len) ||
			    got[72] != ' ')
				col_bad++;
		}
		if (parse_exact(got, gl, &p, &keep) != 0) {
			if (rt_bad++ < 5)
				printf("  parse(format(x)) failed on [%s]\n", got);
		} else if (!same_vma(&v, &p, why, sizeof(why))) {
			if (rt_bad++ < 5)
				printf("  parse(format(x)) != x: %s\n   line [%s]\n", why, got);
		}
		free(keep);
		free(got);
	}
	CHECK("generated: format equals the kernel layout (reference formatter)", fmt_bad == 0);
	CHECK("generated: name at byte 73 whenever the header is short", col_checked > 0 && col_bad == 0);
	CHECK("generated: parse(format(x)) == x", rt_bad == 0);
	if (fmt_bad || rt_bad)
		printf("  (%d format, %d round-trip mismatches of %d)\n", fmt_bad, rt_bad, n);
}

/* ---- live /proc: the kernel is the oracle ------------------------------- */

static char *read_all(const char *path, size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	char *b = malloc(cap);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t r;

	if (fd < 0 || !b) {
		free(b);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	for (;;) {
		if (n == cap) {
			cap *= 2;
			b = realloc(b, cap);
			if (!b)
				abort();
		}
		r = read(fd, b + n, cap - n);
		if (r < 0) {
			free(b);
			close(fd);
			return NULL;
		}
		if (r == 0)
			break;
		n += r;
	}
	close(fd);
	*len = n;
	return b;
}

/* Fields of one kernel line, read with sscanf: a second opinion. */
static int sscanf_line(const char *line, struct taskvma_vma *v, const char **name, size_t *nlen)
{
	char perms[8];
	int pos = 0;
	unsigned maj, min;

	if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %4s %" SCNx64 " %x:%x %" SCNu64 " %n", &v->start,
		   &v->end, perms, &v->offset, &maj, &min, &v->inode, &pos) < 7 || !pos)
		return -1;
	v->dev_major = maj;
	v->dev_minor = min;
	v->perms = (perms[0] == 'r' ? P_R : 0) | (perms[1] == 'w' ? P_W : 0) |
		   (perms[2] == 'x' ? P_X : 0) | (perms[3] == 's' ? P_S : 0);
	*name = line + pos;
	*nlen = strcspn(line + pos, "\n");
	return 0;
}

struct live_stats {
	int lines, bad_parse, bad_format, bad_ref, bad_fields, bad_kind;
	int seen_newline, seen_space, seen_deleted, seen_memfd, seen_devzero, seen_heap, seen_stack,
	    seen_vdso, seen_vsyscall, seen_guard;
};

static void live_file(const char *path, struct live_stats *st, int verbose)
{
	size_t len, off = 0;
	char *text = read_all(path, &len);

	if (!text)
		return;
	while (off < len) {
		char *nl = memchr(text + off, '\n', len - off);
		size_t ll = nl ? (size_t)(nl - (text + off)) + 1 : len - off;
		char *line = strndup(text + off, ll);
		struct taskvma_vma v, s;
		const char *sname;
		size_t snlen, gl;
		char *keep, *got, ref[8192], why[600];
		int k;

		off += ll;
		st->lines++;
		if (strstr(line, "\\012"))
			st->seen_newline++;
		if (strstr(line, "with space  s.dat"))
			st->seen_space++;
		if (strstr(line, "tvdel.dat (deleted)"))
			st->seen_deleted++;
		if (strstr(line, "/memfd:tvfmt (deleted)"))
			st->seen_memfd++;
		if (strstr(line, "/dev/zero (deleted)"))
			st->seen_devzero++;
		if (strstr(line, " [heap]\n"))
			st->seen_heap++;
		if (strstr(line, " [stack]\n"))
			st->seen_stack++;
		if (strstr(line, " [vdso]\n"))
			st->seen_vdso++;
		if (strstr(line, " [vsyscall]\n"))
			st->seen_vsyscall++;
		if (strstr(line, " ---p "))
			st->seen_guard++;

		if (parse_exact(line, ll, &v, &keep) != 0) {
			if (st->bad_parse++ < 3 || verbose)
				printf("  %s: parse failed: [%s]\n", path, line);
			free(keep);
			free(line);
			continue;
		}
		got = format_alloc(&v, &gl);
		if (gl != ll || memcmp(got, line, ll)) {
			if (st->bad_format++ < 3 || verbose)
				printf("  %s: format(parse(line)) differs:\n   kernel [%s]\n   got    [%s]\n",
				       path, line, got);
		}
		if (v.name_len < 4096) {
			ref_format(&v, ref);
			if (strcmp(ref, line) && st->bad_ref++ < 3)
				printf("  %s: reference formatter disagrees with kernel: [%s] vs [%s]\n",
				       path, ref, line);
		}
		memset(&s, 0, sizeof(s));
		if (sscanf_line(line, &s, &sname, &snlen) == 0) {
			s.name = sname;
			s.name_len = snlen;
			s.kind = v.kind;
			if (!same_vma(&s, &v, why, sizeof(why)) && st->bad_fields++ < 3)
				printf("  %s: parsed fields differ from sscanf: %s\n   line [%s]\n", path,
				       why, line);
		} else if (st->bad_fields++ < 3) {
			printf("  %s: sscanf could not read [%s]\n", path, line);
		}
		k = ref_kind(v.name, v.name_len);
		if (k >= 0 && (uint32_t)k != v.kind && st->bad_kind++ < 3)
			printf("  %s: kind %u, want %d for [%s]\n", path, v.kind, k, line);
		free(got);
		free(keep);
		free(line);
	}
	free(text);
}

static void report_live(const char *what, const struct live_stats *st)
{
	char name[160];

	snprintf(name, sizeof(name), "%s: every line parses (%d lines)", what, st->lines);
	CHECK(name, st->lines > 0 && st->bad_parse == 0);
	snprintf(name, sizeof(name), "%s: format(parse(line)) == line", what);
	CHECK(name, st->lines > 0 && st->bad_format == 0);
	snprintf(name, sizeof(name), "%s: parsed fields equal sscanf's", what);
	CHECK(name, st->lines > 0 && st->bad_fields == 0);
	snprintf(name, sizeof(name), "%s: kind derived from the name", what);
	CHECK(name, st->lines > 0 && st->bad_kind == 0);
	snprintf(name, sizeof(name), "%s: reference formatter agrees with the kernel", what);
	CHECK(name, st->lines > 0 && st->bad_ref == 0);
}

/* Mappings in this process that exercise the odd names. */
static char tmpdir[] = "/tmp/tvfmt.XXXXXX";
static char paths[3][256];

static void *map_file(const char *path, int unlink_it)
{
	long ps = sysconf(_SC_PAGESIZE);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	void *p;

	if (fd < 0 || ftruncate(fd, ps)) {
		perror(path);
		return NULL;
	}
	p = mmap(NULL, ps, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (unlink_it)
		unlink(path);
	return p == MAP_FAILED ? NULL : p;
}

static int make_self_mappings(void)
{
	long ps = sysconf(_SC_PAGESIZE);
	int fd, ok = 1;
	char *p;

	if (!mkdtemp(tmpdir))
		return 0;
	snprintf(paths[0], sizeof(paths[0]), "%s/with space  s.dat", tmpdir);
	snprintf(paths[1], sizeof(paths[1]), "%s/new\nline.dat", tmpdir);
	snprintf(paths[2], sizeof(paths[2]), "%s/tvdel.dat", tmpdir);
	ok &= map_file(paths[0], 0) != NULL;
	ok &= map_file(paths[1], 0) != NULL;
	ok &= map_file(paths[2], 1) != NULL;
	fd = memfd_create("tvfmt", 0);
	if (fd < 0 || ftruncate(fd, ps))
		return 0;
	ok &= mmap(NULL, ps, PROT_READ, MAP_SHARED, fd, 0) != MAP_FAILED;
	close(fd);
	ok &= mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0) != MAP_FAILED;
	p = mmap(NULL, 3 * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ok &= p != MAP_FAILED && mprotect(p + ps, ps, PROT_NONE) == 0;
	return ok;
}

static void cleanup_self_mappings(void)
{
	unlink(paths[0]);
	unlink(paths[1]);
	rmdir(tmpdir);
}

static void test_live(void)
{
	struct live_stats self = { 0 }, init = { 0 }, all = { 0 };
	DIR *d;
	struct dirent *de;
	char path[300];
	int procs = 0;

	CHECK("live: set up odd mappings in this process", make_self_mappings());
	live_file("/proc/self/maps", &self, 0);
	report_live("/proc/self/maps", &self);
	CHECK("/proc/self/maps: has the odd names (\\012, spaces, deleted, memfd, /dev/zero, guard)",
	      self.seen_newline && self.seen_space && self.seen_deleted && self.seen_memfd &&
		      self.seen_devzero && self.seen_guard);
	/* (no [heap] required: under ASan malloc does not use brk) */
	CHECK("/proc/self/maps: has [stack], [vdso], [vsyscall]",
	      self.seen_stack == 1 && self.seen_vdso == 1 && self.seen_vsyscall == 1);

	/* Another process: the parent (a shell: other libraries, other
	 * layout).  /proc/1/maps is read below with all the others when it is
	 * readable (on the project machines pid 1 denies even root). */
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)getppid());
	live_file(path, &init, 0);
	report_live("/proc/PPID/maps", &init);

	d = opendir("/proc");
	while (d && (de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/maps", de->d_name);
		live_file(path, &all, 0);
		procs++;
	}
	if (d)
		closedir(d);
	printf("  %d processes, %d lines\n", procs, all.lines);
	report_live("/proc/*/maps", &all);
	CHECK("/proc/*/maps: saw [heap] lines", all.seen_heap > 0);
	cleanup_self_mappings();
}


/* ---- pmap's view: sizes and totals --------------------------------------
 * Oracles: the value a human size stands for (parsed back here) is within
 * the rounding of its last digit of the bytes, in the largest unit that
 * leaves at least 1; exact bytes are printf's %llu; the totals are the sums
 * computed here from the permission letters, as procps's pmap does. */
static void test_view_sizes(void)
{
	static const char units[] = "KMGTPE";
	int bad_round = 0, bad_unit = 0, bad_exact = 0, bad_bytes = 0, bad_trunc = 0, n = 20000;

	rng_state = 0x51e5ull;
	for (int i = 0; i < n; i++) {
		uint64_t v = i < 64 ? (i == 0 ? 0 : 1ull << (i - 1))
			     : i < 128 ? (1ull << (10 + (i % 6) * 10)) - 1 - (uint64_t)(i % 3) /* just below a unit */
			     : rnd_bits();
		char h[32], b[32], want[32], small[4];
		size_t len = taskvma_format_size(v, TASKVMA_SIZE_HUMAN, h, sizeof(h));
		unsigned long long ip = 0, dp = 0;
		char u = 0;
		int dec = 0;
		uint64_t unit = 1;
		long double got, err;

		snprintf(want, sizeof(want), "%llu", (unsigned long long)v);
		taskvma_format_size(v, TASKVMA_SIZE_BYTES, b, sizeof(b));
		bad_bytes += strcmp(b, want) != 0;
		/* snprintf semantics: the full length back, a NUL inside the buffer */
		bad_trunc += taskvma_format_size(v, TASKVMA_SIZE_HUMAN, small, sizeof(small)) != len ||
			     strlen(small) != (len < 3 ? len : 3) || len != strlen(h);
		if (v == 0) {
			bad_exact += strcmp(h, "0") != 0;
			continue;
		}
		if (v < 1024) {
			bad_unit += h[strlen(h) - 1] != 'B';
			continue;
		}
		if (sscanf(h, "%llu.%llu%c", &ip, &dp, &u) == 3)
			dec = 1;
		else if (sscanf(h, "%llu%c", &ip, &u) != 2) {
			bad_unit++;
			continue;
		}
		if (!strchr(units, u)) {
			bad_unit++;
			continue;
		}
		for (const char *k = units; *k && *k != u + 0; k++)
			unit *= 1024;
		unit *= 1024;
		/* (1023.5K and above is "1.0M": the unit may be one up then) */
		if ((v < unit && !(dec && ip == 1 && dp == 0 && v >= unit / 1024 * 10235 / 10)) ||
		    (u != 'E' && v / 1024 >= unit) || (ip >= 1024 && u != 'E'))
			bad_unit++;
		got = dec ? ((long double)ip + (long double)dp / 10) * unit : (long double)ip * unit;
		err = got > (long double)v ? got - (long double)v : (long double)v - got;
		/* half a tenth with a decimal; 0.55 of the unit without (rounded twice) */
		if (err > (dec ? (long double)unit / 20 : (long double)unit * 0.55L) + 1)
			bad_round++;
		/* an exact multiple is written without a decimal, a decimal only below 10 */
		if ((v % unit == 0 && (dec || ip != v / unit)) || (dec && ip >= 10))
			bad_exact++;
	}
	printf("  human sizes: %d values checked\n", n);
	CHECK("format_size: human value within the rounding of its last digit", bad_round == 0);
	CHECK("format_size: the largest unit that leaves at least 1", bad_unit == 0);
	CHECK("format_size: exact multiples without a decimal, decimals only below 10", bad_exact == 0);
	CHECK("format_size: TASKVMA_SIZE_BYTES is the exact number", bad_bytes == 0);
	CHECK("format_size: snprintf semantics when the buffer is short", bad_trunc == 0);
}

static void test_view_totals(void)
{
	TASKVMA_OPTS(taskvma_totals, t);
	struct taskvma_totals small = { .sz = sizeof(size_t) };
	uint64_t mapped = 0, wp = 0, rp = 0, sh = 0, ex = 0, kc[6] = { 0 }, kb[6] = { 0 };
	int bad = 0, n = 5000;

	rng_state = 0x7074ull;
	for (int i = 0; i < n; i++) {
		struct taskvma_vma v = { .start = (rnd() & 0xffffffff) << 12 };
		char perms[5];

		v.end = v.start + ((rnd() % 4096) + 1) * 4096;
		v.perms = (uint32_t)(rnd() & 0xf);
		v.kind = (uint32_t)(rnd() % 6);
		taskvma_format_perms(v.perms, perms);
		bad += taskvma_totals_add(&t, &v) != 0;
		mapped += v.end - v.start;
		if (perms[3] == 's')
			sh += v.end - v.start;
		else if (perms[1] == 'w')
			wp += v.end - v.start;
		else
			rp += v.end - v.start;
		if (perms[2] == 'x')
			ex += v.end - v.start;
		kc[v.kind]++;
		kb[v.kind] += v.end - v.start;
	}
	for (int k = 0; k < 6; k++)
		bad += t.kind_count[k] != kc[k] || t.kind_bytes[k] != kb[k];
	CHECK("totals_add: mapped, writeable/private, readonly/private, shared, exec as pmap counts",
	      t.mappings == (uint64_t)n && t.mapped == mapped && t.writeable_private == wp &&
		      t.readonly_private == rp && t.shared == sh && t.exec == ex &&
		      mapped == wp + rp + sh);
	CHECK("totals_add: count and bytes of every kind", bad == 0);
	CHECK("totals_add: a struct smaller than the library's is -EINVAL",
	      taskvma_totals_add(&small, &(struct taskvma_vma){ .start = 0, .end = 4096 }) == -EINVAL);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	test_perms();
	test_kind_names();
	test_format_fixed();
	test_format_size();
	test_json_sizes();
	test_parse_fixed();
	test_parse_kinds();
	test_parse_rejects();
	test_generated();
	test_view_sizes();
	test_view_totals();
	test_live();
	return check_end();
}
