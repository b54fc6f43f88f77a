// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * taskvma_snapshot_all() with TASKVMA_KEEP: the callback keeps every map
 * (no copy); after the pass, the maps of children this test built (each with
 * its own mappings, idle) must still equal their /proc/PID/maps byte for
 * byte, on every backend.  Under ASan this also checks that a kept map
 * outlives the pass and everything the library freed meanwhile.
 * Atomic snapshots: every BPF map carries TASKVMA_MAP_ATOMIC, no plain
 * procmap/procfs map does (stats.not_atomic counts them), and with
 * taskvma_opts.consistent each child's map is atomic, equals /proc, and the
 * child is left running, untraced; our own process cannot be frozen.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <taskvma.h>
#include "check.h"

/* the last child has > 16,384 VMAs: its map keeps its own buffers instead
 * of going into the pass's arena (both paths are checked) */
#define NCHILD 4

struct kept {
	struct taskvma_map *maps[65536];
	size_t n;
	long errors;
};

static int keep(void *ctx, pid_t pid, int err, const struct taskvma_map *m)
{
	struct kept *k = ctx;

	(void)pid;
	if (!m) {
		if (err != -EACCES && err != -EPERM)
			k->errors++;
		return 0;
	}
	if (k->n == sizeof(k->maps) / sizeof(k->maps[0]))
		return -E2BIG;
	k->maps[k->n++] = (struct taskvma_map *)m;
	return TASKVMA_KEEP;
}

/* The map as /proc prints it. */
static char *format(const struct taskvma_map *m)
{
	size_t cap = 1 << 16, len = 0;
	char *out = malloc(cap);

	for (size_t i = 0; out && i < m->count; i++) {
		char line[8192];
		size_t n = taskvma_format_maps_line(&m->vmas[i], line, sizeof(line));

		if (len + n + 1 > cap && !(out = realloc(out, cap = 2 * (len + n + 1))))
			return NULL;
		memcpy(out + len, line, n);
		len += n;
	}
	if (out)
		out[len] = 0;
	return out;
}

static char *slurp(const char *path)
{
	size_t cap = 1 << 16, len = 0;
	char *out = malloc(cap);
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || !out) {
		free(out);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	while (out && (n = read(fd, out + len, cap - len - 1)) > 0) {
		len += (size_t)n;
		if (cap - len < 4096)
			out = realloc(out, cap *= 2);
	}
	close(fd);
	if (out)
		out[len] = 0;
	return out;
}

/* A child with mappings of its own (k decides how many), then idle. */
static pid_t spawn(int k)
{
	int p[2];
	char c;
	pid_t pid;

	if (pipe(p))
		return -1;
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		int n = k == NCHILD - 1 ? 12000 : 10 * (k + 1);

		for (int i = 0; i < n; i++) {
			char *a = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

			if (a != MAP_FAILED)
				mprotect(a + 4096, 4096, i % 2 ? PROT_READ : PROT_NONE);
		}
		if (write(p[1], "r", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(p[1]);
	if (pid < 0 || read(p[0], &c, 1) != 1)
		pid = -1;
	close(p[0]);
	return pid;
}

/* not stopped, not traced */
static bool runs_untraced(pid_t pid)
{
	char path[64], *st;
	bool ok;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	st = slurp(path);
	ok = st && strstr(st, "\nTracerPid:\t0\n") && !strstr(st, "State:\tT") &&
	     !strstr(st, "State:\tt");
	free(st);
	return ok;
}

static void consistent_reads(enum taskvma_backend b, const char *bn, const pid_t *kids)
{
	TASKVMA_OPTS(taskvma_opts, o, .backend = b, .consistent = 1);
	struct taskvma *tv;
	struct taskvma_map *m = NULL;
	char name[200];
	int err = taskvma_open(&tv, &o);

	if (err)
		return;
	for (int i = 0; i < NCHILD - 1; i++) {
		char path[64], *want, *got = NULL;

		snprintf(path, sizeof(path), "/proc/%d/maps", (int)kids[i]);
		err = taskvma_snapshot(tv, kids[i], NULL, &m);
		want = slurp(path);
		if (!err)
			got = format(m);
		snprintf(name, sizeof(name),
			 "consistent snapshot --backend=%s of child %d: atomic, equals /proc (%d %s)", bn,
			 i, err, taskvma_last_error(tv));
		CHECK(name, !err && (m->flags & TASKVMA_MAP_ATOMIC) && want && got && !strcmp(want, got));
		snprintf(name, sizeof(name), "consistent snapshot --backend=%s: child %d runs on, untraced",
			 bn, i);
		CHECK(name, runs_untraced(kids[i]));
		taskvma_map_free(m);
		m = NULL;
		free(want);
		free(got);
	}
	if (b != TASKVMA_BACKEND_BPF) {
		err = taskvma_snapshot(tv, getpid(), NULL, &m);
		snprintf(name, sizeof(name),
			 "consistent snapshot --backend=%s of ourselves: -EAGAIN, no map, says why (%d: %s)",
			 bn, err, taskvma_last_error(tv));
		CHECK(name, err == -EAGAIN && !m && strstr(taskvma_last_error(tv), "this process"));
		taskvma_map_free(m);
	}
	taskvma_close(tv);
}

int main(void)
{
	static const enum taskvma_backend backends[] = {
		TASKVMA_BACKEND_BPF, TASKVMA_BACKEND_PROCMAP, TASKVMA_BACKEND_PROCFS,
	};
	static struct kept k;
	pid_t kids[NCHILD];
	char name[160];

	for (int i = 0; i < NCHILD; i++)
		kids[i] = spawn(i);
	for (size_t b = 0; b < 3; b++) {
		TASKVMA_OPTS(taskvma_opts, o, .backend = backends[b]);
		struct taskvma *tv;
		const char *bn = b == 0 ? "bpf" : b == 1 ? "procmap" : "procfs";
		int err = taskvma_open(&tv, &o);

		snprintf(name, sizeof(name), "snapshot_all --backend=%s: opens", bn);
		CHECK(name, err == 0);
		if (err)
			continue;
		memset(&k, 0, sizeof(k));
		struct taskvma_all_stats st = { .sz = sizeof(st) };

		err = taskvma_snapshot_all(tv, NULL, keep, &k, &st);
		snprintf(name, sizeof(name), "snapshot_all --backend=%s + TASKVMA_KEEP: returns 0 (%d)", bn, err);
		CHECK(name, err == 0);
		{
			size_t atomic = 0, torn = 0;

			/* a torn map (every walk saw a change: a busy process) is not atomic */
			for (size_t j = 0; j < k.n; j++) {
				atomic += !!(k.maps[j]->flags & TASKVMA_MAP_ATOMIC);
				torn += !!(k.maps[j]->flags & TASKVMA_MAP_TORN);
			}
			snprintf(name, sizeof(name),
				 "snapshot_all --backend=%s: %s maps atomic (%zu of %zu), stats.not_atomic %llu",
				 bn, b ? "no" : "all", atomic, k.n, (unsigned long long)st.not_atomic);
			CHECK(name, b ? atomic == 0 && st.not_atomic == st.processes
				      : atomic == k.n - torn && st.not_atomic == 0);
		}
		snprintf(name, sizeof(name), "snapshot_all --backend=%s: more than %d maps kept (%zu)", bn, NCHILD, k.n);
		CHECK(name, k.n > NCHILD);
		taskvma_close(tv);	/* kept maps must outlive the handle too */
		for (int i = 0; i < NCHILD; i++) {
			const struct taskvma_map *m = NULL;
			char path[64], *want, *got;

			for (size_t j = 0; j < k.n; j++)
				if (k.maps[j]->pid == kids[i])
					m = k.maps[j];
			snprintf(path, sizeof(path), "/proc/%d/maps", (int)kids[i]);
			want = slurp(path);
			got = m ? format(m) : NULL;
			snprintf(name, sizeof(name),
				 "snapshot_all --backend=%s: kept map of child %d equals /proc after the pass",
				 bn, i);
			CHECK(name, want && got && !strcmp(want, got));
			if (i == NCHILD - 1) {
				snprintf(name, sizeof(name),
					 "snapshot_all --backend=%s: the big child has > 16,384 VMAs (%zu)",
					 bn, m ? m->count : 0);
				CHECK(name, m && m->count > 16384);
			}
			free(want);
			free(got);
		}
		for (size_t j = 0; j < k.n; j++)
			taskvma_map_free(k.maps[j]);
		consistent_reads(backends[b], bn, kids);
	}
	for (int i = 0; i < NCHILD; i++) {
		if (kids[i] > 0) {
			kill(kids[i], SIGKILL);
			waitpid(kids[i], NULL, 0);
		}
	}
	return check_end();
}
