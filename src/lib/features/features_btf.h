/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A small read-only index over the kernel's raw BTF, for the feature probes.
 *
 * Why not libbpf's btf__load_vmlinux_btf(): it reads and validates the
 * whole 5 MB blob, about 20 ms here, and `taskvma features --quick` should
 * cost a few ms.  (`auto` runs no probe: each backend's open is its own,
 * maps/handle.c.)  This reader mmaps the file (Linux 6.16+;
 * read() otherwise), makes one pass over the type section to record where
 * each type starts (~1 ms), and answers lookups by a linear scan, or many at
 * once with fbtf_find_many(); fbtf_build_hash() indexes every name (~4 ms)
 * for callers that look up many names one by one.  libbpf is still used to *find* the BTF when
 * /sys/kernel/btf/vmlinux is missing (btf__load_vmlinux_btf searches /boot
 * etc.), and its raw data is indexed the same way.
 */
#ifndef TASKVMA_FEATURES_BTF_H
#define TASKVMA_FEATURES_BTF_H

#include <stddef.h>
#include <stdint.h>
#include <linux/btf.h>

struct fbtf {
	uint8_t *data;          /* whole raw BTF (owned: mmapped or malloced) */
	size_t size;
	size_t mapped;          /* > 0: data is an mmap of this length */
	const uint8_t *types;   /* type section */
	const char *strs;       /* string section */
	uint32_t str_len;
	uint32_t *off;          /* off[id] = offset of type id in types; id 0 = void */
	uint32_t n;             /* number of ids (including void) */
	uint32_t *bucket;       /* name hash -> first id (0 = empty) */
	uint32_t *chain;        /* id -> next id with the same hash */
	uint32_t nbucket;       /* power of two */
	char source[256];       /* where it was read from */
};

/* Read and index the BTF at `path` (NULL: /sys/kernel/btf/vmlinux, then
 * libbpf's search).  Returns 0 or -errno; on error `why` says why. */
int fbtf_open(struct fbtf *b, const char *path, char *why, size_t why_len);
void fbtf_close(struct fbtf *b);

const struct btf_type *fbtf_type(const struct fbtf *b, uint32_t id);
const char *fbtf_str(const struct fbtf *b, uint32_t off);
/* Hash every name, so that fbtf_find() is O(1).  0 or -ENOMEM. */
int fbtf_build_hash(struct fbtf *b);
/* Id of the first type called `name` with this BTF_KIND_*, or -ENOENT. */
int fbtf_find(const struct fbtf *b, const char *name, unsigned int kind);

struct fbtf_query {
	const char *name;
	unsigned int kind;
	int id;                 /* out: type id or -ENOENT */
};
/* Resolve n queries in one pass over the types. */
void fbtf_find_many(const struct fbtf *b, struct fbtf_query *q, size_t n);
/* Byte offset of member `name` in struct/union `id`, looking into anonymous
 * struct/union members too; -ENOENT if absent, -EINVAL for bitfields. */
int fbtf_member_offset(const struct fbtf *b, uint32_t id, const char *name);
/* Index of the direct member `name` of struct `id`, or -ENOENT. */
int fbtf_member_index(const struct fbtf *b, uint32_t id, const char *name);
/* Value of enumerator `name` of enum `enum_name`; 0 or -ENOENT. */
int fbtf_enum_value(const struct fbtf *b, const char *enum_name, const char *name, int64_t *val);
/* Does a DECL_TAG called `tag` point at type `id`? */
int fbtf_has_decl_tag(const struct fbtf *b, uint32_t id, const char *tag);

#endif
