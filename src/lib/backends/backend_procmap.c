// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Fallback backend: the PROCMAP_QUERY ioctl (Linux 6.11+) on /proc/PID/maps,
 * one ioctl per VMA (COVERING_OR_NEXT from the previous end).  No text to
 * parse; the permission check is the one at open().
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "internal.h"
#include "procmap_query.h"

struct procmap_walk {
	int fd;
	uint64_t next_addr;
	size_t count;
	bool done;
	bool cached;		/* fd is the handle's kept descriptor (tv->pm_fd) */
	char *name;
	uint32_t name_cap;
	char *long_name;	/* a name longer than PATH_MAX, from the text */
	size_t long_len;
};

/* The /proc text's name of the VMA at `start`; it is in /proc's form
 * already ("\012" for a newline), which the engine's escaping leaves as is.
 * Not there any more: the map changed under the walk. */
static int long_name(struct tv_walk *w, struct procmap_walk *p, uint64_t start)
{
	int r = tv_procfs_name(w->tv, w->pid, start, &p->long_name, &p->long_len);

	if (r == -ENOENT) {
		w->torn = true;
		p->long_name = strdup("");
		p->long_len = 0;
		return p->long_name ? 0 : -ENOMEM;
	}
	return r;
}

static int procmap_open(struct taskvma *tv)
{
	struct procmap_query q;
	int fd, err;

	err = tv_open_maps(tv, getpid(), &fd);
	if (err)
		return err;
	memset(&q, 0, sizeof(q));
	q.size = sizeof(q);
	q.query_flags = PROCMAP_QUERY_COVERING_OR_NEXT_VMA;
	q.query_addr = 0;
	err = ioctl(fd, PROCMAP_QUERY, &q) ? -errno : 0;
	close(fd);
	if (err == -ENOTTY || err == -EINVAL)
		return tv_error(tv, -EOPNOTSUPP, "PROCMAP_QUERY not supported by this kernel (needs 6.11)");
	if (err)
		return tv_error(tv, err, "PROCMAP_QUERY: %s", strerror(-err));
	return 0;
}

/* The vsyscall gate is shown for 64-bit processes only: check the ELF class
 * of the executable (unreadable: assume 64-bit, like the kernel's default). */
static bool is_64bit(struct taskvma *tv, pid_t pid)
{
	char path[160];
	unsigned char ident[5];
	int fd;
	bool r = true;

	snprintf(path, sizeof(path), "%s/%d/exe", tv->proc_root, pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return true;
	if (read(fd, ident, sizeof(ident)) == (ssize_t)sizeof(ident) && !memcmp(ident, "\177ELF", 4))
		r = ident[4] == 2;
	close(fd);
	return r;
}

static int procmap_walk_start(struct tv_walk *w)
{
	struct procmap_walk *p = calloc(1, sizeof(*p));
	int err;

	if (!p)
		return -ENOMEM;
	p->fd = -1;
	w->priv = p;
	p->name_cap = 4096;
	p->name = malloc(p->name_cap);
	if (!p->name)
		return -ENOMEM;
	if (w->bare && w->tv->pm_pid == w->pid) {
		/* the descriptor the last lookup of this pid kept open */
		p->fd = w->tv->pm_fd;
		w->tv->pm_pid = 0;
		p->cached = true;
	} else if ((err = tv_open_maps(w->tv, w->pid, &p->fd))) {
		return err;
	}
	p->next_addr = w->q.addr_lo;
	if (w->bare && !(w->q.addr_hi == 0 || w->q.addr_hi > 0xffffffffff600000ull))
		return 0;	/* a lookup below the gate: no /proc reads */
	/* a comm that cannot be read (EMFILE) is an error, not an empty name;
	 * a process gone meanwhile shows in the walk */
	if (!w->bare && (err = tv_read_comm(w->tv, w->pid, w->comm)) && err != -ESRCH &&
	    err != -ENOENT)
		return tv_error(w->tv, err, "pid %d: %s/%d/comm: %s", w->pid, w->tv->proc_root,
				w->pid, strerror(-err));
	w->has_gate = is_64bit(w->tv, w->pid);
	return 0;
}

static int procmap_walk_next(struct tv_walk *w, struct taskvma_vma *v)
{
	struct procmap_walk *p = w->priv;
	struct procmap_query q;
	int r;

	free(p->long_name);
	p->long_name = NULL;
	if (p->done)
		return 0;
	if (w->q.addr_hi && p->next_addr >= w->q.addr_hi)
		return 0;
	for (;;) {
		memset(&q, 0, sizeof(q));
		q.size = sizeof(q);
		q.query_flags = PROCMAP_QUERY_COVERING_OR_NEXT_VMA;
		q.query_addr = p->next_addr;
		q.vma_name_addr = (uintptr_t)p->name;
		q.vma_name_size = p->name_cap;
		if (!ioctl(p->fd, PROCMAP_QUERY, &q))
			break;
		if (errno == ENAMETOOLONG && q.vma_name_size) {
			/* The kernel resolves the name into at most PATH_MAX
			 * bytes: a longer path (any user can make one) cannot
			 * come through the ioctl.  Take the VMA without its name,
			 * and the name from the /proc text, which prints it. */
			memset(&q, 0, sizeof(q));
			q.size = sizeof(q);
			q.query_flags = PROCMAP_QUERY_COVERING_OR_NEXT_VMA;
			q.query_addr = p->next_addr;
			if (ioctl(p->fd, PROCMAP_QUERY, &q))
				continue;	/* changed meanwhile: ask again */
			if ((r = long_name(w, p, q.vma_start)))
				return r;
			q.vma_name_size = (uint32_t)p->long_len + 1;
			break;
		}
		if (errno == ENOENT) {
			/* No VMA at or above next_addr.  The ioctl took a live
			 * mm for this (no mm, or one being torn down, is ESRCH):
			 * even with no VMA at all (everything unmapped, as in the
			 * kernel's proc-empty-vm selftest) the process has an
			 * address space, and /proc shows its [vsyscall] line. */
			p->done = true;
			return 0;
		}
		if (errno == ESRCH && p->cached && !p->count) {
			/* A kept descriptor reads the mm of its open(): after an
			 * exec, or once the pid is another process's, that mm is
			 * gone (ESRCH).  Open the process's maps anew. */
			close(p->fd);
			p->fd = -1;
			p->cached = false;
			if ((r = tv_open_maps(w->tv, w->pid, &p->fd)))
				return r;
			continue;
		}
		if (errno == ESRCH)
			return p->count ? tv_error(w->tv, -ESRCH, "pid %d: exited during the walk", w->pid)
					: tv_explain_nomm(w->tv, w->pid);
		return tv_error(w->tv, -errno, "pid %d: PROCMAP_QUERY: %s", w->pid, strerror(errno));
	}
	v->start = q.vma_start;
	v->end = q.vma_end;
	v->perms = (q.vma_flags & PROCMAP_QUERY_VMA_READABLE ? TASKVMA_PERM_READ : 0) |
		   (q.vma_flags & PROCMAP_QUERY_VMA_WRITABLE ? TASKVMA_PERM_WRITE : 0) |
		   (q.vma_flags & PROCMAP_QUERY_VMA_EXECUTABLE ? TASKVMA_PERM_EXEC : 0) |
		   (q.vma_flags & PROCMAP_QUERY_VMA_SHARED ? TASKVMA_PERM_SHARED : 0);
	v->offset = q.vma_offset;
	v->inode = q.inode;
	v->dev_major = q.dev_major;
	v->dev_minor = q.dev_minor;
	v->name = p->long_name ? p->long_name : p->name;
	v->name_len = q.vma_name_size ? q.vma_name_size - 1 : 0;
	v->kind = tv_kind_from_name(v->name, v->name_len, v->inode, v->dev_major, v->dev_minor);
	v->flags = 0;
	p->next_addr = q.vma_end;
	p->count++;
	return 1;
}

static void procmap_walk_seek(struct tv_walk *w, uint64_t addr)
{
	struct procmap_walk *p = w->priv;

	if (addr > p->next_addr)
		p->next_addr = addr;
}

static void procmap_walk_end(struct tv_walk *w)
{
	struct procmap_walk *p = w->priv;

	if (!p)
		return;
	if (p->fd >= 0 && w->bare && !w->err) {
		/* keep it for the next lookup of this process */
		if (w->tv->pm_pid)
			close(w->tv->pm_fd);
		w->tv->pm_pid = w->pid;
		w->tv->pm_fd = p->fd;
	} else if (p->fd >= 0) {
		close(p->fd);
	}
	free(p->name);
	free(p->long_name);
	free(p);
	w->priv = NULL;
}

const struct tv_backend tv_backend_procmap = {
	.name = "procmap",
	.raw_names = true,
	.open = procmap_open,
	.walk_start = procmap_walk_start,
	.walk_next = procmap_walk_next,
	.walk_end = procmap_walk_end,
	.walk_seek = procmap_walk_seek,
};
