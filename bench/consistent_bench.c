// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * bench/consistent_bench: the cost of a consistent read on the fallback
 * backends (taskvma_opts.consistent, `maps --consistent`: the process
 * frozen with ptrace for the read) against a plain read, in the same run
 * (docs/PERFORMANCE.md, "Consistent reads").
 *
 *   consistent_bench [-r REPS] [-t THREADS] [-s] [-c]
 *
 * Workloads (made here, children killed on exit): one process with ~1,000
 * and one with ~10,000 VMAs (one-page anonymous VMAs of alternating
 * permissions), each with THREADS (4) threads besides its main one, all
 * asleep.  For procmap and procfs, taskvma_snapshot() of the process on a
 * plain handle and on a consistent one, alternated, REPS times (21; -s
 * smoke: 3); the median of each and their ratio.  The frozen time (how
 * long the process is stopped) is at most the consistent read's time.
 * Every consistent snapshot must equal the plain one (the process is idle)
 * and carry TASKVMA_MAP_ATOMIC, and the process must run on afterwards,
 * untraced: else "CHECK ... FAIL" and exit 1.  -c: CPU time of this
 * process instead of wall-clock time.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "taskvma.h"

static int failed;
static bool cpu_time;

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(cpu_time ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void *sleeper(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

/* A child with about nvma VMAs and nthreads extra threads; it writes one
 * byte to the pipe when ready. */
static pid_t spawn(int nvma, int nthreads)
{
	int p[2];
	pid_t pid;
	char c;

	if (pipe(p))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		long pg = sysconf(_SC_PAGESIZE);
		char *base;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(p[0]);
		base = mmap(NULL, (size_t)nvma * pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (base == MAP_FAILED)
			_exit(1);
		for (int i = 1; i < nvma; i += 2)
			if (mprotect(base + (size_t)i * pg, pg, PROT_READ | PROT_WRITE))
				_exit(1);
		for (int i = 0; i < nthreads; i++) {
			pthread_t t;

			if (pthread_create(&t, NULL, sleeper, NULL))
				_exit(1);
		}
		if (write(p[1], "r", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	if (read(p[0], &c, 1) != 1) {
		close(p[0]);
		return -1;
	}
	close(p[0]);
	return pid;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_d);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static bool same_map(const struct taskvma_map *a, const struct taskvma_map *b)
{
	if (a->count != b->count)
		return false;
	for (size_t i = 0; i < a->count; i++)
		if (a->vmas[i].start != b->vmas[i].start || a->vmas[i].end != b->vmas[i].end ||
		    a->vmas[i].perms != b->vmas[i].perms || strcmp(a->vmas[i].name, b->vmas[i].name))
			return false;
	return true;
}

/* running (not stopped), untraced */
static bool runs_untraced(pid_t pid)
{
	char path[64], line[256];
	bool ok = true;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "State:", 6)) {
			char st = line[6 + strspn(line + 6, " \t")];

			if (st == 'T' || st == 't')
				ok = false;
		}
		if (!strncmp(line, "TracerPid:", 10) && atoi(line + 10) != 0)
			ok = false;
	}
	fclose(f);
	return ok;
}

static int run(const char *wl, pid_t pid, enum taskvma_backend b, int reps)
{
	TASKVMA_OPTS(taskvma_opts, po, .backend = b);
	TASKVMA_OPTS(taskvma_opts, co, .backend = b, .consistent = 1);
	struct taskvma *plain = NULL, *cons = NULL;
	double *tp = calloc(reps, sizeof(double)), *tc = calloc(reps, sizeof(double));
	size_t count = 0;
	int err = 0;

	if (!tp || !tc || taskvma_open(&plain, &po) || taskvma_open(&cons, &co)) {
		printf("%-5s %-8s unavailable\n", wl, taskvma_backend_name(b));
		goto out;
	}
	for (int i = 0; i < reps && !err; i++) {
		struct taskvma_map *mp = NULL, *mc = NULL;
		double t0 = now_ms();

		err = taskvma_snapshot(plain, pid, NULL, &mp);
		tp[i] = now_ms() - t0;
		if (!err) {
			t0 = now_ms();
			err = taskvma_snapshot(cons, pid, NULL, &mc);
			tc[i] = now_ms() - t0;
			if (err)
				fprintf(stderr, "consistent_bench: %s\n", taskvma_last_error(cons));
		} else {
			fprintf(stderr, "consistent_bench: %s\n", taskvma_last_error(plain));
		}
		if (!err && (!same_map(mp, mc) || !(mc->flags & TASKVMA_MAP_ATOMIC) ||
			     (mp->flags & TASKVMA_MAP_ATOMIC)))
			err = -EINVAL;
		if (mp)
			count = mp->count;
		taskvma_map_free(mp);
		taskvma_map_free(mc);
	}
	if (!err && !runs_untraced(pid))
		err = -ECHILD;
	printf("CHECK %s %s same-map-atomic-runs-on %s\n", wl, taskvma_backend_name(b),
	       err ? "FAIL" : "PASS");
	if (err) {
		failed = 1;
		goto out;
	}
	{
		double mp = median(tp, reps), mc = median(tc, reps);

		printf("| %-5s | %-7s | %6zu | %9.3f | %9.3f | %5.2fx | %+8.3f |\n", wl,
		       taskvma_backend_name(b), count, mp, mc, mc / mp, mc - mp);
	}
out:
	taskvma_close(plain);
	taskvma_close(cons);
	free(tp);
	free(tc);
	return err;
}

int main(int argc, char **argv)
{
	int reps = 21, nthreads = 4, opt;
	bool smoke = false;
	static const struct { const char *name; int nvma; } wls[] = { { "1k", 1000 }, { "10k", 10000 } };
	static const enum taskvma_backend bs[] = { TASKVMA_BACKEND_PROCMAP, TASKVMA_BACKEND_PROCFS };

	while ((opt = getopt(argc, argv, "r:t:sc")) != -1) {
		switch (opt) {
		case 'r': reps = atoi(optarg); break;
		case 't': nthreads = atoi(optarg); break;
		case 's': smoke = true; break;
		case 'c': cpu_time = true; break;
		default:
			fprintf(stderr, "usage: consistent_bench [-r REPS] [-t THREADS] [-s] [-c]\n");
			return 2;
		}
	}
	if (smoke)
		reps = 3;
	if (reps < 1 || nthreads < 0)
		return 2;
	printf("consistent reads (taskvma_opts.consistent: the process frozen with ptrace) vs plain;\n"
	       "median of %d, %s time, ms; the process has %d threads\n\n", reps,
	       cpu_time ? "CPU" : "wall-clock", nthreads + 1);
	printf("| VMAs  | backend | count  | plain ms  | consist ms | ratio | +ms      |\n");
	printf("|-------|---------|--------|-----------|-----------|-------|----------|\n");
	for (size_t w = 0; w < sizeof(wls) / sizeof(wls[0]); w++) {
		pid_t pid = spawn(wls[w].nvma, nthreads);

		if (pid < 0) {
			fprintf(stderr, "consistent_bench: cannot start the %s workload\n", wls[w].name);
			return 1;
		}
		for (size_t i = 0; i < sizeof(bs) / sizeof(bs[0]); i++)
			run(wls[w].name, pid, bs[i], reps);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	return failed;
}
