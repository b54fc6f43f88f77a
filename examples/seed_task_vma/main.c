// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Loader for seed_task_vma.bpf.c, the bpf_iter_task_vma_new documentation
 * example: capture the VMA ranges of process PID at its next system call.
 *
 * Usage: seed_task_vma [-v] PID [TIMEOUT_MS]
 *
 * Loads the program with target_pid = PID, attaches it to raw_tp/sys_enter,
 * waits until it has captured the map (vmas_seen != 0) or TIMEOUT_MS
 * (default 5000) elapses, detaches, and prints the captured ranges on stdout
 * as /proc/PID/maps prints them ("%08lx-%08lx"), one per line, in the
 * iterator's (address) order.  The [vsyscall] gate line of /proc is not a
 * VMA, so it is never captured.
 *
 * Exit status: 0 captured, 1 error or timeout, 2 usage.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "seed_task_vma.skel.h"

static int verbose;

static int print_fn(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* Warnings (which include the verifier log when loading fails) are
	 * always shown; libbpf's info/debug chatter only with -v. */
	if (level == LIBBPF_DEBUG && !verbose)
		return 0;
	if (level == LIBBPF_INFO && !verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static int parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	struct seed_task_vma_bpf *skel;
	long pid, timeout_ms = 5000;
	long long deadline;
	unsigned int seen, i;
	int argi = 1, err;

	if (argi < argc && !strcmp(argv[argi], "-v")) {
		verbose = 1;
		argi++;
	}
	if (argc - argi < 1 || argc - argi > 2 ||
	    parse_long(argv[argi], 1, INT_MAX, &pid) ||
	    (argc - argi == 2 && parse_long(argv[argi + 1], 1, INT_MAX, &timeout_ms))) {
		fprintf(stderr, "usage: seed_task_vma [-v] PID [TIMEOUT_MS]\n");
		return 2;
	}
	libbpf_set_print(print_fn);

	skel = seed_task_vma_bpf__open();
	if (!skel) {
		fprintf(stderr, "seed_task_vma: open: %s\n", strerror(errno));
		return 1;
	}
	/* target_pid is an ordinary global (.bss): it can be set between
	 * open and load, or at any time through the mmapped .bss. */
	skel->bss->target_pid = (pid_t)pid;

	err = seed_task_vma_bpf__load(skel);
	if (err) {
		fprintf(stderr, "seed_task_vma: load: %s\n", strerror(-err));
		goto out;
	}
	err = seed_task_vma_bpf__attach(skel);
	if (err) {
		fprintf(stderr, "seed_task_vma: attach: %s\n", strerror(-err));
		goto out;
	}
	if (verbose)
		fprintf(stderr, "seed_task_vma: attached, waiting for a system call of pid %ld\n", pid);

	deadline = now_ms() + timeout_ms;
	while (!(seen = __atomic_load_n(&skel->bss->vmas_seen, __ATOMIC_ACQUIRE))) {
		if (now_ms() >= deadline)
			break;
		usleep(1000);
	}
	/* Detach before reading the array: nothing writes it afterwards. */
	seed_task_vma_bpf__detach(skel);

	if (!seen) {
		fprintf(stderr, "seed_task_vma: pid %ld made no system call within %ld ms\n",
			pid, timeout_ms);
		err = -ETIMEDOUT;
		goto out;
	}
	for (i = 0; i < seen && i < 1000; i++)
		printf("%08llx-%08llx\n", (unsigned long long)skel->bss->vm_ranges[i].vm_start,
		       (unsigned long long)skel->bss->vm_ranges[i].vm_end);
	if (fflush(stdout)) {
		err = -errno;
		goto out;
	}
	err = 0;
out:
	seed_task_vma_bpf__destroy(skel);
	return err ? 1 : 0;
}
