// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * What `taskvma trace --on syscall --pid P` costs every other process: the
 * time of one system call while the tracer's raw_tp/sys_enter program is
 * attached for an unrelated pid, minus the time without it.
 *
 * Usage: trace_overhead [--iters N] [--reps R] [--via skel|lib|cli] [--cli PATH] [--json]
 *   --iters N   system calls per timed run (default 5,000,000)
 *   --reps R    rounds (default 7); each configuration's median counts
 *   --via HOW   how the trace program is attached for the "trace" runs:
 *                 skel (default): trace.bpf.c's on_sys_enter, loaded once with
 *                   the configuration the library gives it for
 *                   `--on syscall --pid P`; each run only creates and destroys
 *                   its link, so runs can alternate quickly;
 *                 lib: taskvma_trace_open() per run (loads everything);
 *                 cli: runs `PATH trace --on syscall --pid P` per run
 *   --cli PATH  the taskvma binary for --via cli (default build/taskvma)
 *   --json      one JSON object on stdout instead of text
 *
 * Configurations, timed in every round in rotating order, on one pinned CPU:
 *   none   nothing attached
 *   empty  a two-instruction raw_tp/sys_enter program ("r0 = 0; exit"): the
 *          price of having any BPF program on sys_enter (the tracepoint's
 *          slow syscall entry, the BPF dispatch), which no program can avoid
 *   trace  taskvma's program for --pid P (P: a sleeping child, unrelated)
 * The loop is syscall(SYS_getppid).  Needs root (BPF).
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/filter.h>
#include "taskvma.h"
#include "taskvma_trace.h"
#include "trace.skel.h"

enum { C_NONE, C_EMPTY, C_TRACE, NCONF };
static const char *const conf_name[NCONF] = { "none", "empty", "trace" };

static const char *via = "skel", *cli_path = "build/taskvma";
static pid_t target;
static int empty_fd = -1;
static struct trace_bpf *skel;

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static double loop_ns(long iters)
{
	double t0 = now_ns();

	for (long i = 0; i < iters; i++)
		syscall(SYS_getppid);
	return (now_ns() - t0) / iters;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(const double *v, int n)
{
	double *c = malloc(n * sizeof(*c)), m;

	if (!c)
		return 0;
	memcpy(c, v, n * sizeof(*c));
	qsort(c, n, sizeof(*c), cmp_d);
	m = n % 2 ? c[n / 2] : (c[n / 2 - 1] + c[n / 2]) / 2;
	free(c);
	return m;
}

/* ---- the ways to attach -------------------------------------------------- */

static int load_empty(void)
{
	struct bpf_insn prog[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	empty_fd = bpf_prog_load(BPF_PROG_TYPE_RAW_TRACEPOINT, "tvbench_empty", "GPL", prog, 2, NULL);
	return empty_fd < 0 ? -errno : 0;
}

/* The same rodata taskvma_trace_open() sets for --on syscall --pid P. */
static int load_skel(void)
{
	struct bpf_program *p;
	int err;

	skel = trace_bpf__open();
	if (!skel)
		return -errno;
	skel->rodata->sel_tgid = target;
	skel->rodata->self_tgid = getpid();
	skel->rodata->sys_any = 1;
	bpf_object__for_each_program(p, skel->obj)
		bpf_program__set_autoload(p, p == skel->progs.on_sys_enter);
	err = trace_bpf__load(skel);
	return err;
}

struct att {
	int fd;
	struct bpf_link *link;
	struct taskvma_trace *tr;
	pid_t cli;
};

static int cli_start(struct att *a)
{
	char pidbuf[16], buf[512];
	size_t got = 0;
	int pfd[2];

	if (pipe(pfd))
		return -errno;
	snprintf(pidbuf, sizeof(pidbuf), "%d", (int)target);
	a->cli = fork();
	if (a->cli < 0)
		return -errno;
	if (!a->cli) {
		dup2(pfd[1], 2);
		close(pfd[0]);
		close(pfd[1]);
		if (!freopen("/dev/null", "w", stdout))
			_exit(126);
		execl(cli_path, cli_path, "trace", "--on", "syscall", "--pid", pidbuf, (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	/* attached once it says "tracing" on stderr */
	while (got < sizeof(buf) - 1) {
		ssize_t n = read(pfd[0], buf + got, sizeof(buf) - 1 - got);

		if (n <= 0)
			break;
		got += n;
		buf[got] = 0;
		if (strstr(buf, "tracing "))
			break;
	}
	buf[got] = 0;
	close(pfd[0]);
	if (!strstr(buf, "tracing ")) {
		fprintf(stderr, "trace_overhead: %s did not start: %s\n", cli_path, buf);
		return -EIO;
	}
	return 0;
}

static int attach(int conf, struct att *a)
{
	memset(a, 0, sizeof(*a));
	a->fd = -1;
	if (conf == C_NONE)
		return 0;
	if (conf == C_EMPTY) {
		a->fd = bpf_raw_tracepoint_open("sys_enter", empty_fd);
		return a->fd < 0 ? -errno : 0;
	}
	if (!strcmp(via, "skel")) {
		a->link = bpf_program__attach(skel->progs.on_sys_enter);
		return a->link ? 0 : -errno;
	}
	if (!strcmp(via, "lib")) {
		TASKVMA_OPTS(taskvma_trace_opts, o, .events = TASKVMA_TRACE_ON(TASKVMA_TRACE_SYSCALL),
			     .pid = target);
		char msg[256];
		int err = taskvma_trace_open(&a->tr, &o, msg);

		if (err)
			fprintf(stderr, "trace_overhead: %s\n", msg);
		return err;
	}
	return cli_start(a);
}

static void detach(struct att *a)
{
	if (a->fd >= 0)
		close(a->fd);
	bpf_link__destroy(a->link);
	if (a->tr) {
		taskvma_trace_stop(a->tr);
		taskvma_trace_close(a->tr);
	}
	if (a->cli > 0) {
		kill(a->cli, SIGTERM);
		waitpid(a->cli, NULL, 0);
	}
}

int main(int argc, char **argv)
{
	long iters = 5000000;
	int reps = 7, json = 0, err = 0;
	double *t[NCONF], med[NCONF], dmed[NCONF], mn[NCONF], te;
	cpu_set_t set;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--iters") && i + 1 < argc)
			iters = atol(argv[++i]);
		else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
			reps = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--via") && i + 1 < argc)
			via = argv[++i];
		else if (!strcmp(argv[i], "--cli") && i + 1 < argc)
			cli_path = argv[++i];
		else if (!strcmp(argv[i], "--json"))
			json = 1;
		else
			goto usage;
	}
	if (iters < 1000 || reps < 1 ||
	    (strcmp(via, "skel") && strcmp(via, "lib") && strcmp(via, "cli")))
		goto usage;
	for (int k = 0; k < NCONF; k++) {
		t[k] = calloc(reps, sizeof(double));
		if (!t[k])
			return 1;
	}
	/* one CPU for the loop: no migration in the middle of a run */
	CPU_ZERO(&set);
	CPU_SET(sched_getcpu() >= 0 ? sched_getcpu() : 0, &set);
	sched_setaffinity(0, sizeof(set), &set);

	target = fork();
	if (target < 0)
		return 1;
	if (!target) {
		for (;;)
			pause();
	}
	err = load_empty();
	if (!err && !strcmp(via, "skel"))
		err = load_skel();
	if (err) {
		fprintf(stderr, "trace_overhead: loading: %s\n", strerror(-err));
		goto out;
	}
	loop_ns(iters / 10);	/* warm up */
	for (int r = 0; r < reps && !err; r++) {
		for (int j = 0; j < NCONF && !err; j++) {
			int k = (r + j) % NCONF;	/* rotate the order */
			struct att a;

			err = attach(k, &a);
			if (err) {
				fprintf(stderr, "trace_overhead: attaching %s: %s\n", conf_name[k],
					strerror(-err));
				break;
			}
			loop_ns(iters / 100);
			t[k][r] = loop_ns(iters);
			detach(&a);
		}
	}
	if (err)
		goto out;
	for (int k = 0; k < NCONF; k++) {
		double *d = calloc(reps, sizeof(double));

		med[k] = median(t[k], reps);
		mn[k] = t[k][0];
		for (int r = 1; r < reps; r++)
			if (t[k][r] < mn[k])
				mn[k] = t[k][r];
		/* median of the per-round differences: robust to drift */
		for (int r = 0; d && r < reps; r++)
			d[r] = t[k][r] - t[C_NONE][r];
		dmed[k] = d ? median(d, reps) : 0;
		free(d);
	}
	{
		/* trace vs empty, paired by round */
		double *d = calloc(reps, sizeof(double));

		for (int r = 0; d && r < reps; r++)
			d[r] = t[C_TRACE][r] - t[C_EMPTY][r];
		te = d ? median(d, reps) : 0;
		free(d);
	}
	if (json) {
		printf("{\"bench\":\"trace_overhead\",\"syscall\":\"getppid\",\"iters\":%ld,\"reps\":%d,"
		       "\"via\":\"%s\",\"none_ns\":%.2f,\"empty_ns\":%.2f,\"trace_ns\":%.2f,"
		       "\"added_empty_ns\":%.2f,\"added_trace_ns\":%.2f,\"trace_minus_empty_ns\":%.2f,"
		       "\"min_none_ns\":%.2f,\"min_empty_ns\":%.2f,\"min_trace_ns\":%.2f,"
		       "\"paired_trace_minus_empty_ns\":%.2f}\n",
		       iters, reps, via, med[C_NONE], med[C_EMPTY], med[C_TRACE], dmed[C_EMPTY],
		       dmed[C_TRACE], dmed[C_TRACE] - dmed[C_EMPTY], mn[C_NONE], mn[C_EMPTY], mn[C_TRACE],
		       te);
	} else {
		printf("getppid: %ld calls x %d rounds, medians; trace attached via %s\n", iters, reps,
		       via);
		printf("  nothing attached                    %8.2f ns/syscall\n", med[C_NONE]);
		printf("  empty raw_tp/sys_enter program      %8.2f ns/syscall  added %+.2f ns\n",
		       med[C_EMPTY], dmed[C_EMPTY]);
		printf("  taskvma trace --on syscall --pid P  %8.2f ns/syscall  added %+.2f ns"
		       " (%+.2f ns over the empty program, paired by round)\n",
		       med[C_TRACE], dmed[C_TRACE], te);
		printf("  fastest runs: none %.2f, empty %.2f (%+.2f), trace %.2f (%+.2f; %+.2f over empty)\n",
		       mn[C_NONE], mn[C_EMPTY], mn[C_EMPTY] - mn[C_NONE], mn[C_TRACE],
		       mn[C_TRACE] - mn[C_NONE], mn[C_TRACE] - mn[C_EMPTY]);
		printf("  (\"added\" = median of the per-round differences from \"nothing attached\")\n");
	}
out:
	kill(target, SIGKILL);
	waitpid(target, NULL, 0);
	if (empty_fd >= 0)
		close(empty_fd);
	trace_bpf__destroy(skel);
	for (int k = 0; k < NCONF; k++)
		free(t[k]);
	return err ? 1 : 0;

usage:
	fprintf(stderr, "usage: trace_overhead [--iters N] [--reps R] [--via skel|lib|cli] "
			"[--cli PATH] [--json]\n");
	return 2;
}
