// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Fallback backend: parse the /proc/PID/maps text.  Works for any user who
 * may read the file; names are already in /proc's form.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "internal.h"

#define READ_CHUNK (256 * 1024)

struct procfs_walk {
	int fd;
	char *buf;
	size_t len, pos, cap;
	bool eof;
	size_t count;
	struct tv_mm_ident mm;	/* before the read */
};

int tv_open_maps(struct taskvma *tv, pid_t pid, int *fd)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/%d/maps", tv->proc_root, pid);
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd >= 0)
		return 0;
	switch (errno) {
	case ENOENT:
	case ESRCH:
		return tv_error(tv, -ESRCH, "pid %d: no such process", pid);
	case EACCES:
	case EPERM:
		return tv_error(tv, -EACCES, "pid %d: permission denied", pid);
	default:
		return tv_error(tv, -errno, "%s: %s", path, strerror(errno));
	}
}

static int procfs_open(struct taskvma *tv)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/self/maps", tv->proc_root);
	if (access(path, R_OK))
		return tv_error(tv, -errno, "%s: %s", path, strerror(errno));
	return 0;
}

static int procfs_walk_start(struct tv_walk *w)
{
	struct procfs_walk *p = calloc(1, sizeof(*p));
	int err;

	if (!p)
		return -ENOMEM;
	p->fd = -1;
	w->priv = p;
	/* before the open: the mm the text will come from is this one or a
	 * later one, never an earlier one */
	tv_mm_ident(w->tv, w->pid, &p->mm);
	err = tv_open_maps(w->tv, w->pid, &p->fd);
	if (err)
		return err;
	/* a comm that cannot be read (EMFILE) is an error, not an empty name;
	 * a process gone meanwhile shows in the walk */
	if (!w->bare && (err = tv_read_comm(w->tv, w->pid, w->comm)) && err != -ESRCH &&
	    err != -ENOENT)
		return tv_error(w->tv, err, "pid %d: %s/%d/comm: %s", w->pid, w->tv->proc_root,
				w->pid, strerror(-err));
	return 0;
}

/* Make sure buf holds a whole line from pos; 0 at EOF with nothing left. */
static int fill(struct tv_walk *w, struct procfs_walk *p)
{
	for (;;) {
		char *nl = p->len > p->pos ? memchr(p->buf + p->pos, '\n', p->len - p->pos) : NULL;
		ssize_t n;

		if (nl || (p->eof && p->len > p->pos))
			return 1;
		if (p->eof)
			return 0;
		if (p->pos) {
			memmove(p->buf, p->buf + p->pos, p->len - p->pos);
			p->len -= p->pos;
			p->pos = 0;
		}
		if (p->cap - p->len < READ_CHUNK / 2) {
			size_t cap = p->cap ? p->cap * 2 : READ_CHUNK;
			char *b = realloc(p->buf, cap);

			if (!b)
				return -ENOMEM;
			p->buf = b;
			p->cap = cap;
		}
		n = read(p->fd, p->buf + p->len, p->cap - p->len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ESRCH)
				return tv_error(w->tv, -ESRCH, "pid %d: exited during the walk", w->pid);
			return tv_error(w->tv, -errno, "pid %d: read maps: %s", w->pid, strerror(errno));
		}
		if (n == 0)
			p->eof = true;
		p->len += n;
	}
}

static int procfs_walk_next(struct tv_walk *w, struct taskvma_vma *v)
{
	struct procfs_walk *p = w->priv;
	char *line, *nl;
	size_t len;
	int r;

	r = fill(w, p);
	if (r < 0)
		return r;
	if (r == 0) {
		struct tv_mm_ident now;

		if (p->count) {
			/* the end of the text, or the end of its mm (exit, exec) */
			if (tv_mm_ident(w->tv, w->pid, &now) || !tv_mm_same(&p->mm, &now))
				return tv_error(w->tv, -ESRCH, "pid %d: exited during the walk",
						w->pid);
			return 0;
		}
		/* Nothing at all: an address space without a VMA (the kernel's
		 * proc-empty-vm case, on a kernel without [vsyscall]: /proc
		 * shows nothing either), else a kernel thread, a zombie, gone */
		if (!tv_mm_ident(w->tv, w->pid, &now) && tv_mm_same(&p->mm, &now))
			return 0;
		return tv_explain_nomm(w->tv, w->pid);
	}
	line = p->buf + p->pos;
	nl = memchr(line, '\n', p->len - p->pos);
	len = nl ? (size_t)(nl - line) : p->len - p->pos;
	p->pos += len + (nl ? 1 : 0);
	if (taskvma_parse_maps_line(line, len, v))
		return tv_error(w->tv, -EIO, "pid %d: unexpected maps line: %.60s", w->pid, line);
	p->count++;
	return 1;
}

/* The name /proc/PID/maps prints for the VMA starting at `start`, copied
 * to *name (malloc'd, escaped as /proc does).  For what another backend
 * cannot name: PROCMAP_QUERY fails with ENAMETOOLONG on a path longer than
 * PATH_MAX, which /proc prints in full.  0, -ENOENT when no such VMA is
 * there any more (the map changed), or -errno. */
int tv_procfs_name(struct taskvma *tv, pid_t pid, uint64_t start, char **name, size_t *len)
{
	struct procfs_walk p = { .fd = -1 };
	struct tv_walk w = { .tv = tv, .pid = pid, .priv = &p };
	struct taskvma_vma v;
	int r;

	if ((r = tv_open_maps(tv, pid, &p.fd)))
		return r;
	for (;;) {
		char *line, *nl;
		size_t n;

		if ((r = fill(&w, &p)) <= 0) {
			r = r ? r : -ENOENT;
			break;
		}
		line = p.buf + p.pos;
		nl = memchr(line, '\n', p.len - p.pos);
		n = nl ? (size_t)(nl - line) : p.len - p.pos;
		p.pos += n + (nl ? 1 : 0);
		if (taskvma_parse_maps_line(line, n, &v) || v.start < start)
			continue;
		if (v.start > start) {
			r = -ENOENT;
			break;
		}
		*name = malloc(v.name_len + 1);
		if (!*name) {
			r = -ENOMEM;
			break;
		}
		memcpy(*name, v.name, v.name_len);
		(*name)[v.name_len] = 0;
		*len = v.name_len;
		r = 0;
		break;
	}
	close(p.fd);
	free(p.buf);
	return r;
}

static void procfs_walk_end(struct tv_walk *w)
{
	struct procfs_walk *p = w->priv;

	if (!p)
		return;
	if (p->fd >= 0)
		close(p->fd);
	free(p->buf);
	free(p);
	w->priv = NULL;
}

const struct tv_backend tv_backend_procfs = {
	.name = "procfs",
	.raw_names = false,
	.open = procfs_open,
	.walk_start = procfs_walk_start,
	.walk_next = procfs_walk_next,
	.walk_end = procfs_walk_end,
};
