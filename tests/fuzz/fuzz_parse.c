/* libFuzzer target for taskvma_parse_maps_line() (built by `make fuzz`, run by
 * tests/cases/fuzz.sh).  Besides memory errors (ASan/UBSan), it checks what
 * the parser promises when it accepts a line:
 *  - it returned 0 or -EINVAL, nothing else;
 *  - name/name_len lie inside the input, perms only uses the 4 PERM bits,
 *    kind is one of enum taskvma_kind;
 *  - format(parse(x)) is one line ending in "\n" whose length is what the
 *    formatter announced, and it parses back to the same record (with and
 *    without its "\n"), and formatting that again gives the same text;
 *  - its JSON object has the length the sizing call announced, and a buffer
 *    one byte short holds the same text less its last byte (a sizing call
 *    once looped forever on a name that is not UTF-8). */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "taskvma.h"

#define FUZZ_FAIL(...)                                                                             \
	do {                                                                                       \
		fprintf(stderr, "fuzz_parse invariant: " __VA_ARGS__);                             \
		fputc('\n', stderr);                                                               \
		abort();                                                                           \
	} while (0)

static void same(const struct taskvma_vma *a, const struct taskvma_vma *b, const char *what)
{
	if (a->start != b->start || a->end != b->end || a->offset != b->offset ||
	    a->inode != b->inode || a->dev_major != b->dev_major || a->dev_minor != b->dev_minor ||
	    a->perms != b->perms || a->kind != b->kind || a->name_len != b->name_len ||
	    (a->name_len && memcmp(a->name, b->name, a->name_len)))
		FUZZ_FAIL("%s: records differ: %" PRIx64 "-%" PRIx64 " off %" PRIx64 " ino %" PRIu64
			  " dev %x:%x perms %x kind %u name [%.*s] vs %" PRIx64 "-%" PRIx64
			  " off %" PRIx64 " ino %" PRIu64 " dev %x:%x perms %x kind %u name [%.*s]",
			  what, a->start, a->end, a->offset, a->inode, a->dev_major, a->dev_minor,
			  a->perms, a->kind, (int)a->name_len, a->name, b->start, b->end, b->offset,
			  b->inode, b->dev_major, b->dev_minor, b->perms, b->kind, (int)b->name_len,
			  b->name);
}

static char *format(const struct taskvma_vma *v, size_t *len)
{
	size_t need = taskvma_format_maps_line(v, NULL, 0), got;
	char *buf = malloc(need + 1);

	if (!buf)
		abort();
	got = taskvma_format_maps_line(v, buf, need + 1);
	if (got != need)
		FUZZ_FAIL("format returned %zu then %zu", need, got);
	if (strlen(buf) != need)
		FUZZ_FAIL("format: strlen %zu, announced %zu", strlen(buf), need);
	if (need == 0 || buf[need - 1] != '\n' || memchr(buf, '\n', need - 1))
		FUZZ_FAIL("format: not exactly one line: [%s]", buf);
	*len = need;
	return buf;
}

static void json(const struct taskvma_vma *v)
{
	size_t need = taskvma_format_json(v, 1, "fuzz", NULL, 0), got;
	char *buf = malloc(need + 1), *shortb = malloc(need);

	if (!buf || !shortb)
		abort();
	got = taskvma_format_json(v, 1, "fuzz", buf, need + 1);
	if (got != need || strlen(buf) != need || buf[0] != '{' || buf[need - 1] != '}')
		FUZZ_FAIL("json: announced %zu, returned %zu, strlen %zu", need, got, strlen(buf));
	if (taskvma_format_json(v, 1, "fuzz", shortb, need) != need || strlen(shortb) != need - 1 ||
	    memcmp(shortb, buf, need - 1))
		FUZZ_FAIL("json: a buffer one short is not the prefix: [%s]", shortb);
	free(shortb);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Parse from an exact-size copy: no NUL after the input. */
	char *line = malloc(size ? size : 1);
	struct taskvma_vma v, w, u;
	char *text, *text2, *copy;
	size_t tl, tl2;
	int r;

	if (!line)
		abort();
	memcpy(line, data, size);
	r = taskvma_parse_maps_line(line, size, &v);
	if (r != 0) {
		if (r != -EINVAL)
			FUZZ_FAIL("parse returned %d (want 0 or -EINVAL)", r);
		free(line);
		return 0;
	}
	if (v.name_len > size || (v.name_len && (v.name < line || v.name + v.name_len > line + size)))
		FUZZ_FAIL("name outside the input (len %u of %zu)", v.name_len, size);
	if (v.perms & ~(uint32_t)(TASKVMA_PERM_READ | TASKVMA_PERM_WRITE | TASKVMA_PERM_EXEC |
				  TASKVMA_PERM_SHARED))
		FUZZ_FAIL("perms %#x has unknown bits", v.perms);
	if (v.kind > TASKVMA_KIND_ANON_NAMED)
		FUZZ_FAIL("kind %u out of range", v.kind);

	json(&v);
	/* format(parse(x)) parses back to the same record. */
	text = format(&v, &tl);
	copy = malloc(tl);
	if (!copy)
		abort();
	memcpy(copy, text, tl);
	if (taskvma_parse_maps_line(copy, tl, &w))
		FUZZ_FAIL("format(parse(x)) does not parse: [%s]", text);
	same(&v, &w, "parse(format(parse(x)))");
	/* ... also without its newline. */
	if (taskvma_parse_maps_line(copy, tl - 1, &u))
		FUZZ_FAIL("format(parse(x)) without newline does not parse: [%s]", text);
	same(&v, &u, "parse(format(parse(x)) minus newline)");
	/* format is a fixed point from there on. */
	text2 = format(&w, &tl2);
	if (tl2 != tl || memcmp(text, text2, tl))
		FUZZ_FAIL("format not stable: [%s] vs [%s]", text, text2);

	free(text2);
	free(copy);
	free(text);
	free(line);
	return 0;
}
