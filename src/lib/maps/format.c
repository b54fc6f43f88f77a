// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * /proc/PID/maps text for a struct taskvma_vma, byte for byte as
 * fs/proc/task_mmu.c prints it: show_vma_header_prefix() then, when there is
 * a name, seq_pad() to column 72 plus one space.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "internal.h"

/* The header is padded to 25 + 6 * sizeof(void *) - 1 columns (72 on 64-bit). */
#define MAPS_PAD_COL (25 + 6 * (int)sizeof(void *) - 1)

static const char hexdig[] = "0123456789abcdef";

/* "000102...ff": two digits per table load (the CLI formats every line). */
static const char hex2[513] =
	"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	"202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
	"404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
	"606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
	"808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
	"a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
	"c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
	"e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";

/* Lowercase hex with at least `width` digits, like seq_put_hex_ll(): the
 * length first (from the highest set bit), then digits from the end. */
static size_t put_hex(char *p, uint64_t v, int width)
{
	int n = v ? (64 - __builtin_clzll(v) + 3) / 4 : 1, i;

	if (n < width)
		n = width;
	for (i = n; i >= 2; i -= 2) {
		memcpy(p + i - 2, hex2 + 2 * (v & 0xff), 2);
		v >>= 8;
	}
	if (i)
		p[0] = hexdig[v & 0xf];
	return (size_t)n;
}
static size_t put_dec(char *p, uint64_t v)
{
	char tmp[20];
	int n = 0;

	do {
		tmp[n++] = '0' + v % 10;
		v /= 10;
	} while (v);
	for (int i = 0; i < n; i++)
		p[i] = tmp[n - 1 - i];
	return n;
}

void taskvma_format_perms(uint32_t perms, char buf[5])
{
	buf[0] = perms & TASKVMA_PERM_READ ? 'r' : '-';
	buf[1] = perms & TASKVMA_PERM_WRITE ? 'w' : '-';
	buf[2] = perms & TASKVMA_PERM_EXEC ? 'x' : '-';
	buf[3] = perms & TASKVMA_PERM_SHARED ? 's' : 'p';
	buf[4] = 0;
}

size_t taskvma_format_maps_line(const struct taskvma_vma *v, char *buf, size_t len)
{
	/* longest header: 16+1+16+1+4+1+16+1+8+1+8+1+20+1 = 95 */
	char hdr[128];
	size_t n = 0, need;

	n += put_hex(hdr + n, v->start, 8);
	hdr[n++] = '-';
	n += put_hex(hdr + n, v->end, 8);
	hdr[n++] = ' ';
	taskvma_format_perms(v->perms, hdr + n);
	n += 4;
	hdr[n++] = ' ';
	n += put_hex(hdr + n, v->offset, 8);
	hdr[n++] = ' ';
	n += put_hex(hdr + n, v->dev_major, 2);
	hdr[n++] = ':';
	n += put_hex(hdr + n, v->dev_minor, 2);
	hdr[n++] = ' ';
	n += put_dec(hdr + n, v->inode);
	hdr[n++] = ' ';
	if (v->name_len) {
		while (n < MAPS_PAD_COL)
			hdr[n++] = ' ';
		hdr[n++] = ' ';
	}
	need = n + v->name_len + 1;
	if (need < len) {
		memcpy(buf, hdr, n);
		if (v->name_len)
			memcpy(buf + n, v->name, v->name_len);
		buf[need - 1] = '\n';
		buf[need] = 0;
	}
	return need;
}

const char *taskvma_kind_name(enum taskvma_kind kind)
{
	switch (kind) {
	case TASKVMA_KIND_ANON: return "anon";
	case TASKVMA_KIND_FILE: return "file";
	case TASKVMA_KIND_HEAP: return "heap";
	case TASKVMA_KIND_STACK: return "stack";
	case TASKVMA_KIND_SPECIAL: return "special";
	case TASKVMA_KIND_ANON_NAMED: return "anon_named";
	}
	return "unknown";
}

/* The kernel's naming order (get_vma_name()), seen from the printed text:
 * a file path, else a bracketed name with no device/inode. */
enum taskvma_kind tv_kind_from_name(const char *name, size_t len, uint64_t inode,
				    uint32_t dev_major, uint32_t dev_minor)
{
	bool anon = !inode && !dev_major && !dev_minor;

	if (!len)
		return anon ? TASKVMA_KIND_ANON : TASKVMA_KIND_FILE;
	if (!anon || name[0] != '[' || name[len - 1] != ']')
		return TASKVMA_KIND_FILE;
	if (len == 6 && !memcmp(name, "[heap]", 6))
		return TASKVMA_KIND_HEAP;
	if (len == 7 && !memcmp(name, "[stack]", 7))
		return TASKVMA_KIND_STACK;
	if (len > 7 && !memcmp(name, "[anon:", 6))
		return TASKVMA_KIND_ANON_NAMED;
	return TASKVMA_KIND_SPECIAL;
}

/* Length of the valid UTF-8 sequence at s[0..len), or 0 if it is not one
 * (bad lead or continuation byte, overlong form, surrogate, > U+10FFFF). */
static size_t utf8_len(const unsigned char *s, size_t len)
{
	unsigned char c = s[0];
	size_t n;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

size_t tv_utf8_len(const unsigned char *s, size_t len)
{
	return utf8_len(s, len);
}

/* JSON string: quotes, backslashes and control bytes escaped; bytes that are
 * not UTF-8 (Linux paths are bytes) become U+FFFD, and *lossy is set so the
 * caller can add the exact bytes. */
static size_t json_str(char *out, size_t room, const char *s, size_t len, bool *lossy)
{
	size_t n = 0;

/* c is evaluated once, whether or not it is stored: a sizing call (room 0)
 * must walk the same path (a PUT(*rep++) that skipped its increment when
 * out was full hung `watch --json` on a non-UTF-8 file name) */
#define PUT(c) do { char c_ = (char)(c); if (n < room) out[n] = c_; n++; } while (0)
	PUT('"');
	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)s[i];
		size_t k = utf8_len((const unsigned char *)s + i, len - i);

		if (!k) {
			const char *rep = "\\ufffd";

			for (; *rep; rep++)
				PUT(*rep);
			*lossy = true;
			i++;
			continue;
		}
		if (c == '"' || c == '\\') {
			PUT('\\');
			PUT((char)c);
		} else if (c < 0x20 || c == 0x7f) {
			PUT('\\');
			PUT('u');
			PUT('0');
			PUT('0');
			PUT(hexdig[c >> 4]);
			PUT(hexdig[c & 0xf]);
		} else {
			for (size_t j = 0; j < k; j++)
				PUT(s[i + j]);
		}
		i += k;
	}
	PUT('"');
#undef PUT
	return n;
}

size_t taskvma_escape_comm(const char *s, char *buf, size_t len)
{
	size_t n = 0, slen = strlen(s);

#define PUT(c) do { char c_ = (char)(c); if (n < len) buf[n] = c_; n++; } while (0)
	for (size_t i = 0; i < slen;) {
		const unsigned char *u = (const unsigned char *)s + i;
		size_t k = utf8_len(u, slen - i);

		/* U+0080..U+009F (C2 80..C2 9F) are C1 controls: escaped too */
		if (k == 1 && u[0] >= 0x20 && u[0] != 0x7f && u[0] != '\\') {
			PUT((char)u[0]);
		} else if (k > 1 && !(u[0] == 0xc2 && u[1] < 0xa0)) {
			for (size_t j = 0; j < k; j++)
				PUT((char)u[j]);
		} else {
			if (!k)
				k = 1;
			for (size_t j = 0; j < k; j++) {
				PUT('\\');
				PUT((char)('0' + (u[j] >> 6)));
				PUT((char)('0' + (u[j] >> 3 & 7)));
				PUT((char)('0' + (u[j] & 7)));
			}
		}
		i += k;
	}
#undef PUT
	if (n < len)
		buf[n] = 0;
	else if (len)
		buf[len - 1] = 0;
	return n;
}

/* ,"KEY_hex":"..." : the exact bytes of a string that is not UTF-8 */
static size_t put_hex_field(char *buf, size_t len, size_t n, const char *key, const char *s,
			    size_t slen)
{
	int k = snprintf(n < len ? buf + n : NULL, n < len ? len - n : 0, ",\"%s_hex\":\"", key);

	n += (size_t)k;
	/* byte by byte, like PUT: a short buffer holds a prefix of the whole */
	for (size_t i = 0; i < slen; i++) {
		unsigned char c = (unsigned char)s[i];

		if (n < len)
			buf[n] = hexdig[c >> 4];
		if (n + 1 < len)
			buf[n + 1] = hexdig[c & 0xf];
		n += 2;
	}
	if (n < len)
		buf[n] = '"';
	return n + 1;
}

size_t taskvma_format_json(const struct taskvma_vma *v, pid_t pid, const char *comm, char *buf,
			   size_t len)
{
	char perms[5];
	size_t n = 0;
	bool lossy = false, lossy_comm = false;
	int k;

	/* room left for a piece written at offset n */
#define ROOM (n < len ? len - n : 0)
#define AT (n < len ? buf + n : NULL)
	taskvma_format_perms(v->perms, perms);
	if (pid > 0) {
		k = snprintf(AT, ROOM, "{\"pid\":%d,\"comm\":", (int)pid);
		n += (size_t)k;
		n += json_str(AT, ROOM, comm, strlen(comm), &lossy_comm);
		if (lossy_comm)
			n = put_hex_field(buf, len, n, "comm", comm, strlen(comm));
		k = snprintf(AT, ROOM, ",");
		n += (size_t)k;
	} else {
		k = snprintf(AT, ROOM, "{");
		n += (size_t)k;
	}
	k = snprintf(AT, ROOM,
		     "\"start\":%llu,\"end\":%llu,\"start_hex\":\"0x%llx\",\"end_hex\":\"0x%llx\","
		     "\"perms\":\"%s\",\"offset\":%llu,\"offset_hex\":\"0x%llx\","
		     "\"dev_major\":%u,\"dev_minor\":%u,\"inode\":%llu,\"kind\":\"%s\",\"name\":",
		     (unsigned long long)v->start, (unsigned long long)v->end,
		     (unsigned long long)v->start, (unsigned long long)v->end, perms,
		     (unsigned long long)v->offset, (unsigned long long)v->offset, v->dev_major, v->dev_minor,
		     (unsigned long long)v->inode, taskvma_kind_name((enum taskvma_kind)v->kind));
	n += (size_t)k;
	n += json_str(AT, ROOM, v->name, v->name_len, &lossy);
	if (lossy)	/* the exact bytes of a name that is not UTF-8 */
		n = put_hex_field(buf, len, n, "name", v->name, v->name_len);
	if (n + 1 < len) {
		buf[n] = '}';
		buf[n + 1] = 0;
	} else if (len) {
		buf[len - 1] = 0;
	}
	n += 1;
#undef ROOM
#undef AT
	return n;
}

size_t taskvma_format_json_string(const char *s, size_t slen, char *buf, size_t len, int *lossy)
{
	bool l = false;
	size_t n = json_str(buf, len, s, slen, &l);

	if (n < len)
		buf[n] = 0;
	else if (len)
		buf[len - 1] = 0;
	if (lossy)
		*lossy = l;
	return n + 1;
}

/* A path rebuilt in the kernel (TV_NAME_MAX bytes of components, leaf
 * first, each NUL-terminated: vma_names.bpf.h) as d_path() prints it: "/"
 * and the components root first, joined by "/"; "/" when there are none.
 * Writes at most cap bytes (no NUL) and returns the full length. */
size_t tv_path_join(const char *comps, size_t len, char *out, size_t cap)
{
	size_t end = len, n = 0;

	/* components from the last (the root's child) to the first (the leaf) */
	while (end > 0) {
		size_t start = end - 1, clen;

		/* comps[end - 1] is the NUL of the component that ends here */
		while (start > 0 && comps[start - 1])
			start--;
		clen = strnlen(comps + start, end - start);
		if (n < cap)
			out[n] = '/';
		n++;
		if (n < cap)
			memcpy(out + n, comps + start, n + clen <= cap ? clen : cap - n);
		n += clen;
		end = start;
	}
	if (!n) {
		if (cap)
			out[0] = '/';
		n = 1;
	}
	return n;
}

const char *taskvma_version(void)
{
	return TASKVMA_VERSION_STRING;
}
