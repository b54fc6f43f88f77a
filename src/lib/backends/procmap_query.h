/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* PROCMAP_QUERY (Linux 6.11, include/uapi/linux/fs.h).  Debian 12's kernel
 * headers predate it: declare it here when they lack it. */
#ifndef TASKVMA_PROCMAP_QUERY_H
#define TASKVMA_PROCMAP_QUERY_H
#include <linux/fs.h>
#include <linux/types.h>

#ifndef PROCMAP_QUERY
#define PROCFS_IOCTL_MAGIC 'f'
enum procmap_query_flags {
	PROCMAP_QUERY_VMA_READABLE = 0x01,
	PROCMAP_QUERY_VMA_WRITABLE = 0x02,
	PROCMAP_QUERY_VMA_EXECUTABLE = 0x04,
	PROCMAP_QUERY_VMA_SHARED = 0x08,
	PROCMAP_QUERY_COVERING_OR_NEXT_VMA = 0x10,
	PROCMAP_QUERY_FILE_BACKED_VMA = 0x20,
};
struct procmap_query {
	__u64 size;
	__u64 query_flags;
	__u64 query_addr;
	__u64 vma_start;
	__u64 vma_end;
	__u64 vma_flags;
	__u64 vma_page_size;
	__u64 vma_offset;
	__u64 inode;
	__u32 dev_major;
	__u32 dev_minor;
	__u32 vma_name_size;
	__u32 build_id_size;
	__u64 vma_name_addr;
	__u64 build_id_addr;
};
#define PROCMAP_QUERY _IOWR(PROCFS_IOCTL_MAGIC, 17, struct procmap_query)
#endif
_Static_assert(sizeof(struct procmap_query) == 104, "struct procmap_query is 104 bytes (6.11 ABI)");
#endif
