// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Minimal raw BTF index for the feature probes: see features_btf.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "features_btf.h"

#define VMLINUX_BTF "/sys/kernel/btf/vmlinux"

static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	while (*s)
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return h;
}

/* Bytes that follow struct btf_type for this type, or -1 for an unknown kind. */
static long type_extra(const struct btf_type *t)
{
	uint32_t vlen = BTF_INFO_VLEN(t->info);

	switch (BTF_INFO_KIND(t->info)) {
	case BTF_KIND_INT:
		return 4;
	case BTF_KIND_PTR: case BTF_KIND_FWD: case BTF_KIND_TYPEDEF:
	case BTF_KIND_VOLATILE: case BTF_KIND_CONST: case BTF_KIND_RESTRICT:
	case BTF_KIND_FUNC: case BTF_KIND_FLOAT: case BTF_KIND_TYPE_TAG:
		return 0;
	case BTF_KIND_ARRAY:
		return sizeof(struct btf_array);
	case BTF_KIND_STRUCT: case BTF_KIND_UNION:
		return (long)vlen * sizeof(struct btf_member);
	case BTF_KIND_ENUM:
		return (long)vlen * sizeof(struct btf_enum);
	case BTF_KIND_FUNC_PROTO:
		return (long)vlen * sizeof(struct btf_param);
	case BTF_KIND_VAR:
		return sizeof(struct btf_var);
	case BTF_KIND_DATASEC:
		return (long)vlen * sizeof(struct btf_var_secinfo);
	case BTF_KIND_DECL_TAG:
		return sizeof(struct btf_decl_tag);
	case BTF_KIND_ENUM64:
		return (long)vlen * sizeof(struct btf_enum64);
	default:
		return -1;
	}
}

/* Map or read the whole file.  sysfs hands out vmlinux BTF one page per
 * read(), ~15 ms for 5 MB; since Linux 6.16 it can be mmapped (~0.1 ms). */
static int read_file(const char *path, uint8_t **data, size_t *size, size_t *mapped)
{
	struct stat st;
	size_t cap, len = 0;
	uint8_t *buf;
	int fd, err;

	memset(&st, 0, sizeof(st));
	*mapped = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) == 0 && st.st_size > 0) {
		void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);

		if (m != MAP_FAILED) {
			close(fd);
			*data = m;
			*size = (size_t)st.st_size;
			*mapped = (size_t)st.st_size;
			return 0;
		}
	}
	cap = st.st_size > 0 ? (size_t)st.st_size + 1 : 1u << 20;
	buf = malloc(cap);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		ssize_t r;

		if (len == cap) {
			uint8_t *nb = realloc(buf, cap * 2);

			if (!nb) {
				err = -ENOMEM;
				goto fail;
			}
			buf = nb;
			cap *= 2;
		}
		r = read(fd, buf + len, cap - len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			goto fail;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	*data = buf;
	*size = len;
	return 0;
fail:
	free(buf);
	close(fd);
	return err;
}

static int fbtf_index(struct fbtf *b, char *why, size_t why_len)
{
	const struct btf_header *h = (const void *)b->data;
	uint32_t cap = 1u << 16, pos = 0, n = 1;

	if (b->size < sizeof(*h) || h->magic != BTF_MAGIC || h->hdr_len > b->size ||
	    (uint64_t)h->hdr_len + h->type_off + h->type_len > b->size ||
	    (uint64_t)h->hdr_len + h->str_off + h->str_len > b->size || h->str_len == 0) {
		snprintf(why, why_len, "%s: not a BTF blob this reader understands", b->source);
		return -EINVAL;
	}
	b->types = b->data + h->hdr_len + h->type_off;
	b->strs = (const char *)b->data + h->hdr_len + h->str_off;
	b->str_len = h->str_len;
	if (b->strs[b->str_len - 1] != '\0') {
		snprintf(why, why_len, "%s: string section not terminated", b->source);
		return -EINVAL;
	}
	b->off = malloc(cap * sizeof(*b->off));
	if (!b->off)
		return -ENOMEM;
	b->off[0] = 0;
	while (pos + sizeof(struct btf_type) <= h->type_len) {
		const struct btf_type *t = (const void *)(b->types + pos);
		long extra = type_extra(t);

		if (extra < 0 || pos + sizeof(*t) + (uint64_t)extra > h->type_len) {
			snprintf(why, why_len, "%s: type %u: unknown kind %u or truncated",
				 b->source, n, BTF_INFO_KIND(t->info));
			return -EINVAL;
		}
		if (n == cap) {
			uint32_t *no = realloc(b->off, (size_t)cap * 2 * sizeof(*no));

			if (!no)
				return -ENOMEM;
			b->off = no;
			cap *= 2;
		}
		b->off[n++] = pos;
		pos += sizeof(*t) + (uint32_t)extra;
	}
	b->n = n;

	return 0;
}

int fbtf_build_hash(struct fbtf *b)
{
	uint32_t n = b->n;

	if (b->bucket)
		return 0;
	b->nbucket = 1;
	while (b->nbucket < n)
		b->nbucket <<= 1;
	b->bucket = calloc(b->nbucket, sizeof(*b->bucket));
	b->chain = calloc(n, sizeof(*b->chain));
	if (!b->bucket || !b->chain) {
		free(b->bucket);
		free(b->chain);
		b->bucket = b->chain = NULL;
		return -ENOMEM;
	}
	/* Insert in reverse so chains list ids in ascending order. */
	for (uint32_t id = n - 1; id >= 1; id--) {
		const struct btf_type *t = fbtf_type(b, id);
		const char *name = fbtf_str(b, t->name_off);
		uint32_t hb;

		if (!name[0])
			continue;
		hb = name_hash(name) & (b->nbucket - 1);
		b->chain[id] = b->bucket[hb];
		b->bucket[hb] = id;
	}
	return 0;
}

void fbtf_find_many(const struct fbtf *b, struct fbtf_query *q, size_t n)
{
	size_t left = n;

	for (size_t i = 0; i < n; i++)
		q[i].id = -ENOENT;
	if (b->bucket) {
		for (size_t i = 0; i < n; i++)
			q[i].id = fbtf_find(b, q[i].name, q[i].kind);
		return;
	}
	/* One pass; the kind is checked first (type headers are read anyway),
	 * then the first byte, before any strcmp. */
	for (uint32_t id = 1; id < b->n && left; id++) {
		const struct btf_type *t = fbtf_type(b, id);
		unsigned int kind = BTF_INFO_KIND(t->info);
		const char *name = NULL;

		for (size_t i = 0; i < n; i++) {
			if (q[i].id >= 0 || q[i].kind != kind)
				continue;
			if (!name)
				name = fbtf_str(b, t->name_off);
			if (name[0] == q[i].name[0] && !strcmp(name, q[i].name)) {
				q[i].id = (int)id;
				left--;
			}
		}
	}
}

int fbtf_open(struct fbtf *b, const char *path, char *why, size_t why_len)
{
	int err;

	memset(b, 0, sizeof(*b));
	snprintf(b->source, sizeof(b->source), "%s", path ? path : VMLINUX_BTF);
	err = read_file(b->source, &b->data, &b->size, &b->mapped);
	if (err == -ENOENT && !path) {
		/* No sysfs BTF: let libbpf look in its usual places. */
		struct btf *lb = btf__load_vmlinux_btf();
		const void *raw;
		uint32_t sz;

		if (!lb) {
			err = -errno ? -errno : -ENOENT;
			snprintf(why, why_len, "no kernel BTF: %s missing and libbpf found none",
				 VMLINUX_BTF);
			return err;
		}
		raw = btf__raw_data(lb, &sz);
		b->data = raw ? malloc(sz) : NULL;
		if (!b->data) {
			btf__free(lb);
			return -ENOMEM;
		}
		memcpy(b->data, raw, sz);
		b->size = sz;
		btf__free(lb);
		snprintf(b->source, sizeof(b->source), "vmlinux BTF found by libbpf");
	} else if (err) {
		snprintf(why, why_len, "%s: %s", b->source, strerror(-err));
		return err;
	}
	err = fbtf_index(b, why, why_len);
	if (err) {
		if (err == -ENOMEM)
			snprintf(why, why_len, "out of memory");
		fbtf_close(b);
	}
	return err;
}

void fbtf_close(struct fbtf *b)
{
	if (b->mapped)
		munmap(b->data, b->mapped);
	else
		free(b->data);
	free(b->off);
	free(b->bucket);
	free(b->chain);
	memset(b, 0, sizeof(*b));
}

const struct btf_type *fbtf_type(const struct fbtf *b, uint32_t id)
{
	if (id == 0 || id >= b->n)
		return NULL;
	return (const void *)(b->types + b->off[id]);
}

const char *fbtf_str(const struct fbtf *b, uint32_t off)
{
	return off < b->str_len ? b->strs + off : "";
}

int fbtf_find(const struct fbtf *b, const char *name, unsigned int kind)
{
	if (!b->bucket) {
		struct fbtf_query q = { .name = name, .kind = kind };

		fbtf_find_many(b, &q, 1);
		return q.id;
	}
	for (uint32_t id = b->bucket[name_hash(name) & (b->nbucket - 1)]; id; id = b->chain[id]) {
		const struct btf_type *t = fbtf_type(b, id);

		if (BTF_INFO_KIND(t->info) == kind && !strcmp(fbtf_str(b, t->name_off), name))
			return (int)id;
	}
	return -ENOENT;
}

/* Skip typedefs and modifiers. */
static const struct btf_type *resolve(const struct fbtf *b, uint32_t id)
{
	for (int i = 0; i < 32; i++) {
		const struct btf_type *t = fbtf_type(b, id);

		if (!t)
			return NULL;
		switch (BTF_INFO_KIND(t->info)) {
		case BTF_KIND_TYPEDEF: case BTF_KIND_VOLATILE: case BTF_KIND_CONST:
		case BTF_KIND_RESTRICT: case BTF_KIND_TYPE_TAG:
			id = t->type;
			continue;
		default:
			return t;
		}
	}
	return NULL;
}

static int member_offset(const struct fbtf *b, const struct btf_type *t, const char *name,
			 int depth)
{
	const struct btf_member *m = (const void *)(t + 1);
	unsigned int kind = BTF_INFO_KIND(t->info);

	if ((kind != BTF_KIND_STRUCT && kind != BTF_KIND_UNION) || depth > 8)
		return -ENOENT;
	for (uint32_t i = 0; i < BTF_INFO_VLEN(t->info); i++) {
		uint32_t bits = BTF_INFO_KFLAG(t->info) ? BTF_MEMBER_BIT_OFFSET(m[i].offset)
							: m[i].offset;
		const char *mn = fbtf_str(b, m[i].name_off);

		if (mn[0]) {
			if (strcmp(mn, name))
				continue;
			if (bits % 8 || (BTF_INFO_KFLAG(t->info) && BTF_MEMBER_BITFIELD_SIZE(m[i].offset)))
				return -EINVAL;
			return (int)(bits / 8);
		} else {
			const struct btf_type *inner = resolve(b, m[i].type);
			int r = inner ? member_offset(b, inner, name, depth + 1) : -ENOENT;

			if (r >= 0)
				return r + (int)(bits / 8);
		}
	}
	return -ENOENT;
}

int fbtf_member_offset(const struct fbtf *b, uint32_t id, const char *name)
{
	const struct btf_type *t = resolve(b, id);

	return t ? member_offset(b, t, name, 0) : -ENOENT;
}

int fbtf_member_index(const struct fbtf *b, uint32_t id, const char *name)
{
	const struct btf_type *t = resolve(b, id);
	const struct btf_member *m;

	if (!t || (BTF_INFO_KIND(t->info) != BTF_KIND_STRUCT))
		return -ENOENT;
	m = (const void *)(t + 1);
	for (uint32_t i = 0; i < BTF_INFO_VLEN(t->info); i++)
		if (!strcmp(fbtf_str(b, m[i].name_off), name))
			return (int)i;
	return -ENOENT;
}

int fbtf_enum_value(const struct fbtf *b, const char *enum_name, const char *name, int64_t *val)
{
	int id = fbtf_find(b, enum_name, BTF_KIND_ENUM);
	const struct btf_type *t;

	if (id < 0) {
		id = fbtf_find(b, enum_name, BTF_KIND_ENUM64);
		if (id < 0)
			return -ENOENT;
		t = fbtf_type(b, (uint32_t)id);
		const struct btf_enum64 *e = (const void *)(t + 1);

		for (uint32_t i = 0; i < BTF_INFO_VLEN(t->info); i++)
			if (!strcmp(fbtf_str(b, e[i].name_off), name)) {
				*val = (int64_t)(((uint64_t)e[i].val_hi32 << 32) | e[i].val_lo32);
				return 0;
			}
		return -ENOENT;
	}
	t = fbtf_type(b, (uint32_t)id);
	const struct btf_enum *e = (const void *)(t + 1);

	for (uint32_t i = 0; i < BTF_INFO_VLEN(t->info); i++)
		if (!strcmp(fbtf_str(b, e[i].name_off), name)) {
			*val = e[i].val;
			return 0;
		}
	return -ENOENT;
}

int fbtf_has_decl_tag(const struct fbtf *b, uint32_t id, const char *tag)
{
	/* Decl tags are named by their value: look the tag's name up. */
	if (!b->bucket) {
		for (uint32_t i = 1; i < b->n; i++) {
			const struct btf_type *t = fbtf_type(b, i);

			if (BTF_INFO_KIND(t->info) == BTF_KIND_DECL_TAG && t->type == id &&
			    !strcmp(fbtf_str(b, t->name_off), tag))
				return 1;
		}
		return 0;
	}
	for (uint32_t i = b->bucket[name_hash(tag) & (b->nbucket - 1)]; i; i = b->chain[i]) {
		const struct btf_type *t = fbtf_type(b, i);

		if (BTF_INFO_KIND(t->info) == BTF_KIND_DECL_TAG && t->type == id &&
		    !strcmp(fbtf_str(b, t->name_off), tag))
			return 1;
	}
	return 0;
}
