// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Process selection shared by every command that takes processes:
 * -p/--pid, -c/--comm, -g/--cgroup, -u/--uid (docs/cli.md). */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <mntent.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cli.h"

/* The cgroup v2 mount (/sys/fs/cgroup, or /sys/fs/cgroup/unified on a
 * hybrid v1/v2 system like this test machine): the first in /proc/self/mounts. */
static int cgroup2_mount(char *buf, size_t len)
{
	struct mntent *m;
	FILE *f = setmntent("/proc/self/mounts", "re");
	int err = -ENOENT;

	if (!f)
		return -errno;
	while ((m = getmntent(f))) {
		if (!strcmp(m->mnt_type, "cgroup2") && strlen(m->mnt_dir) < len) {
			snprintf(buf, len, "%s", m->mnt_dir);
			err = 0;
			break;
		}
	}
	endmntent(f);
	return err;
}

static int add_pid(struct cli_sel *s, pid_t pid)
{
	pid_t *p;

	p = realloc(s->pids, (s->npids + 1) * sizeof(*p));
	if (!p)
		return -ENOMEM;
	s->pids = p;
	s->pids[s->npids++] = pid;
	return 0;
}

/* "MNT/a/b" (absolute) or "a/b" (relative to the cgroup2 mount) -> "/a/b",
 * as /proc/PID/cgroup's "0::" line names it ("/" for the root); the
 * directory must exist.  NULL with the error printed. */
static char *cgroup_norm(const char *arg)
{
	char mnt[PATH_MAX], path[PATH_MAX + 8], *out;
	const char *p = arg;
	struct stat st;
	size_t n, ml;

	if (cgroup2_mount(mnt, sizeof(mnt))) {
		cli_err("--cgroup '%s': no cgroup v2 hierarchy is mounted", arg);
		return NULL;
	}
	ml = strlen(mnt);
	if (p[0] == '/') {
		if (strncmp(p, mnt, ml) || (p[ml] && p[ml] != '/')) {
			cli_err("--cgroup '%s': not under the cgroup v2 mount %s", arg, mnt);
			return NULL;
		}
		p += ml;
	}
	while (*p == '/')
		p++;
	if (asprintf(&out, "/%s", p) < 0)
		return NULL;
	n = strlen(out);
	while (n > 1 && out[n - 1] == '/')
		out[--n] = 0;
	snprintf(path, sizeof(path), "%s%s", mnt, out);
	if (stat(path, &st) || !S_ISDIR(st.st_mode)) {
		cli_err("--cgroup '%s': no such cgroup (%s)", arg, path);
		free(out);
		return NULL;
	}
	return out;
}

int cli_sel_opt(int c, const char *arg, struct cli_sel *s)
{
	char *dup, *tok, *save = NULL, *end;
	pid_t pid;

	switch (c) {
	case 'p':
		/* -p 1,2,3 or repeated -p */
		if (!(dup = strdup(arg)))
			return -1;
		for (tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			if (cli_parse_pid(tok, &pid)) {
				cli_err("invalid PID '%s'", tok);
				free(dup);
				return -1;
			}
			if (add_pid(s, pid)) {
				free(dup);
				return -1;
			}
		}
		free(dup);
		if (!s->npids) {
			cli_err("invalid PID '%s'", arg);
			return -1;
		}
		return 1;
	case 'c':
		if (!arg[0] || strlen(arg) > 15) {
			cli_err("bad --comm '%s': 1 to 15 bytes (a comm)", arg);
			return -1;
		}
		s->comm = arg;
		return 1;
	case 'g':
		/* checked when resolved: trace hands the path to the library */
		s->cgroup_arg = arg;
		return 1;
	case 'u': {
		struct passwd *pw;
		unsigned long v;

		errno = 0;
		v = strtoul(arg, &end, 10);
		if (arg[0] >= '0' && arg[0] <= '9' && !*end && !errno && v < (uid_t)-1) {
			s->uid = (uid_t)v;
		} else if ((pw = getpwnam(arg))) {
			s->uid = pw->pw_uid;
		} else {
			cli_err("--uid '%s': not a uid nor a user name", arg);
			return -1;
		}
		s->has_uid = true;
		return 1;
	}
	}
	return 0;
}

bool cli_sel_filtered(const struct cli_sel *s)
{
	return s->comm || s->cgroup_arg || s->has_uid;
}

int cli_sel_add_operands(struct cli_sel *s, int n, char **args)
{
	pid_t pid;

	for (int i = 0; i < n; i++) {
		if (cli_parse_pid(args[i], &pid)) {
			cli_err("invalid PID '%s'", args[i]);
			return EXIT_USAGE;
		}
		if (add_pid(s, pid))
			return EXIT_FAIL;
	}
	return 0;
}

static int read_small(pid_t pid, const char *what, char *buf, size_t len)
{
	char path[64];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, what);
	if (!(f = fopen(path, "re")))
		return -errno;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = 0;
	return 0;
}

/* 1: pid passes every filter; 0: it does not (or it is gone). */
static int sel_match(const struct cli_sel *s, pid_t pid)
{
	char buf[4096], *p;

	if (s->comm) {
		if (read_small(pid, "comm", buf, sizeof(buf)))
			return 0;
		buf[strcspn(buf, "\n")] = 0;
		if (strcmp(buf, s->comm))
			return 0;
	}
	if (s->has_uid) {
		/* the real uid, as bcc's -u (bpf_get_current_uid_gid) */
		if (read_small(pid, "status", buf, sizeof(buf)) || !(p = strstr(buf, "\nUid:")))
			return 0;
		if (strtoul(p + 5, NULL, 10) != s->uid)
			return 0;
	}
	if (s->cgroup) {
		size_t n = strlen(s->cgroup);

		/* cgroup v2: the line "0::/path" */
		if (read_small(pid, "cgroup", buf, sizeof(buf)))
			return 0;
		p = !strncmp(buf, "0::", 3) ? buf : strstr(buf, "\n0::");
		if (!p)
			return 0;
		p += p == buf ? 3 : 4;
		p[strcspn(p, "\n")] = 0;
		if (strcmp(s->cgroup, "/") && (strncmp(p, s->cgroup, n) || (p[n] && p[n] != '/')))
			return 0;
	}
	return 1;
}

int cli_sel_resolve(struct cli_sel *s, pid_t **out, size_t *n)
{
	struct cli_sel r = {};
	struct dirent *de;
	DIR *d;
	pid_t pid;

	*out = NULL;
	*n = 0;
	if (s->cgroup_arg && !s->cgroup && !(s->cgroup = cgroup_norm(s->cgroup_arg)))
		return EXIT_USAGE;
	if (s->npids) {
		for (size_t i = 0; i < s->npids; i++)
			if ((!cli_sel_filtered(s) || sel_match(s, s->pids[i])) && add_pid(&r, s->pids[i]))
				goto oom;
	} else {
		if (!(d = opendir("/proc"))) {
			cli_err("/proc: %s", strerror(errno));
			return EXIT_FAIL;
		}
		/* errno tells the listing's end from its failure (a process
		 * missed would be missing from "every process") */
		while ((errno = 0, de = readdir(d))) {
			if (cli_parse_pid(de->d_name, &pid) || !sel_match(s, pid))
				continue;
			if (add_pid(&r, pid)) {
				closedir(d);
				goto oom;
			}
		}
		if (errno) {
			cli_err("/proc: listing processes: %s", strerror(errno));
			closedir(d);
			free(r.pids);
			return EXIT_FAIL;
		}
		closedir(d);
	}
	*out = r.pids;
	*n = r.npids;
	return 0;
oom:
	free(r.pids);
	cli_err("out of memory");
	return EXIT_FAIL;
}

int cli_sel_one(struct cli_sel *s, const char *cmd, pid_t *pid)
{
	pid_t *p;
	size_t n;
	int r;

	if (!s->npids && !cli_sel_filtered(s)) {
		cli_err("%s needs exactly one PID (or --pid, --comm, --cgroup, --uid)", cmd);
		return EXIT_USAGE;
	}
	if (s->npids > 1) {
		cli_err("%s needs exactly one PID, %zu given", cmd, s->npids);
		return EXIT_USAGE;
	}
	if (s->npids && !cli_sel_filtered(s)) {
		*pid = s->pids[0];
		return 0;
	}
	if ((r = cli_sel_resolve(s, &p, &n)))
		return r;
	if (n != 1) {
		if (n)
			cli_err("%s needs exactly one process: the selection matches %zu (%d, %d, ...); "
				"give --pid", cmd, n, (int)p[0], (int)p[1]);
		else
			cli_err("%s: no process matches the selection", cmd);
		free(p);
		return n ? EXIT_USAGE : EXIT_NOPROC;
	}
	*pid = p[0];
	free(p);
	return 0;
}

void cli_sel_free(struct cli_sel *s)
{
	free(s->pids);
	free(s->cgroup);
	s->pids = NULL;
	s->cgroup = NULL;
	s->npids = 0;
}
