// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * What the engine reads from /proc about a process (not its map): its name,
 * whether it is gone, which address space it has, why it has none; and
 * about the system: the [vsyscall] line, file descriptors left.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include "internal.h"

/* Does this kernel print a [vsyscall] gate line?  Our own map tells. */
bool tv_kernel_has_vsyscall(const char *proc_root)
{
	char path[160], buf[4096];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "%s/self/maps", proc_root);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (fgets(buf, sizeof(buf), f))
		if (strstr(buf, " [vsyscall]\n"))
			found = true;
	fclose(f);
	return found;
}

/* Out of file descriptors, or nearly: fewer than `need` left under
 * RLIMIT_NOFILE.  A failure deep inside a load (the BPF loader program, a
 * map it could not create) then says EINVAL or "not supported", not EMFILE:
 * this names the real cause.  Writes "N of M in use" into why. */
bool tv_fds_short(int need, char *why, size_t len)
{
	struct rlimit rl;
	struct dirent *de;
	long used = 0;
	DIR *d;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur == RLIM_INFINITY)
		return false;
	d = opendir("/proc/self/fd");
	if (!d) {
		if (errno != EMFILE && errno != ENFILE)
			return false;
		used = (long)rl.rlim_cur;
	} else {
		while ((de = readdir(d)))
			used += de->d_name[0] != '.';
		closedir(d);
		used--;	/* the directory's own descriptor */
	}
	if ((long)rl.rlim_cur - used >= need)
		return false;
	snprintf(why, len, "out of file descriptors (%ld of %llu in use: ulimit -n)", used,
		 (unsigned long long)rl.rlim_cur);
	return true;
}

int tv_read_comm(const struct taskvma *tv, pid_t pid, char comm[16])
{
	char path[160];
	ssize_t n;
	int fd;

	comm[0] = 0;
	snprintf(path, sizeof(path), "%s/%d/comm", tv->proc_root, pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, comm, 15);
	close(fd);
	if (n < 0)
		return -errno;
	if (n > 0 && comm[n - 1] == '\n')
		n--;
	comm[n] = 0;
	return 0;
}

bool tv_pid_gone(struct taskvma *tv, pid_t pid)
{
	char path[160], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%d/stat", tv->proc_root, pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ESRCH;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return true;
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p && (p[2] == 'Z' || p[2] == 'X');
}

/* Which address space a process has now, from /proc/PID/stat: its state
 * (field 3) and fields the kernel prints from the mm (start_code, end_code,
 * start_stack, start_brk, arg_start, env_end: 26-28, 47, 48, 51), all 0
 * once the task has no mm, and new ones (ASLR) after an exec.  A text read
 * of /proc/PID/maps ends early, at a plain end of file, when the mm it
 * opened dies under it (exit or exec): comparing this before and after the
 * read tells a complete read from a cut-short one.  -ESRCH when the
 * process is gone. */
int tv_mm_ident(const struct taskvma *tv, pid_t pid, struct tv_mm_ident *id)
{
	char path[160], buf[1024], *p, *tok, *save = NULL;
	ssize_t n;
	int fd, field = 3;

	memset(id, 0, sizeof(*id));
	snprintf(path, sizeof(path), "%s/%d/stat", tv->proc_root, pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ESRCH ? -ESRCH : -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -ESRCH;
	buf[n] = 0;
	p = strrchr(buf, ')');
	if (!p)
		return -EIO;
	for (tok = strtok_r(p + 1, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save), field++) {
		switch (field) {
		case 3: id->state = tok[0]; break;
		case 9: id->flags = strtoul(tok, NULL, 10); break;
		case 22: id->start_ticks = strtoull(tok, NULL, 10); break;
		case 26: id->v[0] = strtoull(tok, NULL, 10); break;
		case 27: id->v[1] = strtoull(tok, NULL, 10); break;
		case 28: id->v[2] = strtoull(tok, NULL, 10); break;
		case 47: id->v[3] = strtoull(tok, NULL, 10); break;
		case 48: id->v[4] = strtoull(tok, NULL, 10); break;
		case 51: id->v[5] = strtoull(tok, NULL, 10); break;
		}
	}
	return 0;
}

bool tv_mm_same(const struct tv_mm_ident *a, const struct tv_mm_ident *b)
{
	bool any = false;

	if (b->state == 'Z' || b->state == 'X' || memcmp(a->v, b->v, sizeof(a->v)))
		return false;
	for (int i = 0; i < 6; i++)
		any |= b->v[i] != 0;
	return any;
}

/* /proc/PID/stat: state (field 3) and flags (field 9) tell a zombie from a
 * kernel thread. */
int tv_explain_nomm(struct taskvma *tv, pid_t pid)
{
	struct tv_mm_ident id;
	int err = tv_mm_ident(tv, pid, &id);

	if (err == -ESRCH)
		return tv_error(tv, -ESRCH, "pid %d: no such process", pid);
	if (err)
		return tv_error(tv, -ENOENT, "pid %d: no address space", pid);
	if (id.flags & 0x00200000 /* PF_KTHREAD */)
		return tv_error(tv, -ENOENT, "pid %d: kernel thread (no address space)", pid);
	if (id.state == 'Z' || id.state == 'X')
		return tv_error(tv, -ENOENT, "pid %d: zombie (no address space)", pid);
	return tv_error(tv, -ENOENT, "pid %d: exiting, no address space", pid);
}
