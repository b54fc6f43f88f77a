// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * bench/workload: the processes `make bench` reads the maps of.
 *
 *   workload -n NPROC -m NVMA -d DIR [-f NFILES] [-r RUN]
 *
 * Creates NFILES small files in DIR (which must exist), then forks NPROC
 * children; each child maps NVMA one-page VMAs side by side, none of which
 * can merge with its neighbours:
 *
 *   i % 4 == 0   anonymous      rw-p
 *   i % 4 == 1   file-backed    r--p
 *   i % 4 == 2   anonymous      r--p
 *   i % 4 == 3   file-backed    r-xp
 *
 * File VMAs take their file in turn (RUN consecutive file VMAs per file,
 * default 1: the next file VMA always maps another file, as in a process
 * that maps many libraries), at varying offsets.  The VMAs sit inside a
 * PROT_NONE reservation one page larger on each side, so they cannot merge
 * with whatever the kernel placed around it either: each child has NVMA + 2
 * VMAs more than an idle copy of this program.  Nothing is touched: the
 * workload costs VMAs, not memory.
 *
 * When every child is ready, prints one line "ready PARENT CHILD..." on
 * stdout and waits.  SIGTERM, SIGINT or SIGHUP (and the death of its own
 * parent, through PR_SET_PDEATHSIG) make it kill the children, reap them,
 * remove its files and exit 0.  Children die with the parent (SIGKILL).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define FILE_PAGES 64
#define MAX_FILES 64

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(void)
{
	fprintf(stderr, "usage: workload -n NPROC -m NVMA -d DIR [-f NFILES] [-r RUN]\n");
	exit(2);
}

/* Map the VMAs; returns 0 or an errno. */
static int make_vmas(long nvma, const int *fds, int nfiles, long run, size_t pg)
{
	size_t span = (size_t)(nvma + 2) * pg;
	char *base = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (base == MAP_FAILED)
		return errno;
	for (long i = 0; i < nvma; i++) {
		char *at = base + (size_t)(i + 1) * pg;
		long k = i / 2;	/* index among VMAs of the same kind */
		void *p;

		switch (i % 4) {
		case 0:
			p = mmap(at, pg, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
			break;
		case 2:
			p = mmap(at, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE,
				 -1, 0);
			break;
		default: {
			int f = (int)((k / run) % nfiles);
			off_t off = (off_t)((k / run / nfiles + k % run) % FILE_PAGES) * (off_t)pg;

			p = mmap(at, pg, PROT_READ | (i % 4 == 3 ? PROT_EXEC : 0), MAP_PRIVATE | MAP_FIXED,
				 fds[f], off);
			break;
		}
		}
		if (p == MAP_FAILED)
			return errno;
	}
	return 0;
}

int main(int argc, char **argv)
{
	long nproc = -1, nvma = -1, nfiles = 4, run = 1;
	const char *dir = NULL;
	char paths[MAX_FILES][4096];
	int fds[MAX_FILES], pipefd[2], opt, rc = 0;
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	pid_t *kids;
	struct sigaction sa;
	sigset_t block, old;

	while ((opt = getopt(argc, argv, "n:m:d:f:r:")) != -1) {
		switch (opt) {
		case 'n': nproc = strtol(optarg, NULL, 10); break;
		case 'm': nvma = strtol(optarg, NULL, 10); break;
		case 'd': dir = optarg; break;
		case 'f': nfiles = strtol(optarg, NULL, 10); break;
		case 'r': run = strtol(optarg, NULL, 10); break;
		default: usage();
		}
	}
	if (nproc < 1 || nproc > 100000 || nvma < 0 || nvma > 100000000 || !dir || nfiles < 1 ||
	    nfiles > MAX_FILES || run < 1)
		usage();

	/* handlers first: a signal during setup still tears down cleanly */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &old);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() == 1)
		return 1;

	for (int f = 0; f < nfiles; f++) {
		static char page[65536];

		snprintf(paths[f], sizeof(paths[f]), "%s/bench-file-%d.bin", dir, f);
		fds[f] = open(paths[f], O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fds[f] < 0) {
			fprintf(stderr, "workload: %s: %s\n", paths[f], strerror(errno));
			for (int g = 0; g < f; g++)
				unlink(paths[g]);
			return 1;
		}
		memset(page, 'a' + f, sizeof(page));
		for (size_t done = 0; done < FILE_PAGES * pg; done += sizeof(page)) {
			size_t n = FILE_PAGES * pg - done < sizeof(page) ? FILE_PAGES * pg - done : sizeof(page);

			if (write(fds[f], page, n) != (ssize_t)n) {
				fprintf(stderr, "workload: write %s: %s\n", paths[f], strerror(errno));
				nfiles = f + 1;
				rc = 1;
				goto cleanup_files;
			}
		}
	}
	if (pipe2(pipefd, O_CLOEXEC)) {
		perror("workload: pipe");
		rc = 1;
		goto cleanup_files;
	}
	kids = calloc((size_t)nproc, sizeof(*kids));
	if (!kids) {
		rc = 1;
		goto cleanup_files;
	}

	long started = 0;
	for (; started < nproc && !stop; started++) {
		pid_t pid = fork();

		if (pid < 0) {
			perror("workload: fork");
			rc = 1;
			break;
		}
		if (pid == 0) {
			char ok = 'r';
			int err;

			prctl(PR_SET_PDEATHSIG, SIGKILL);
			signal(SIGTERM, SIG_DFL);
			signal(SIGINT, SIG_DFL);
			signal(SIGHUP, SIG_DFL);
			close(pipefd[0]);
			err = make_vmas(nvma, fds, (int)nfiles, run, pg);
			if (err) {
				fprintf(stderr, "workload: child %d: mmap: %s%s\n", (int)getpid(), strerror(err),
					err == ENOMEM ? " (vm.max_map_count too low?)" : "");
				ok = 'e';
			}
			if (write(pipefd[1], &ok, 1) != 1)
				_exit(1);
			close(pipefd[1]);
			/* wait for SIGKILL; nothing else changes this map */
			sigset_t none;
			sigemptyset(&none);
			for (;;)
				sigsuspend(&none);
		}
		kids[started] = pid;
	}
	close(pipefd[1]);
	for (long ready = 0; !rc && !stop && ready < started;) {
		char c;
		ssize_t n;

		sigprocmask(SIG_SETMASK, &old, NULL);
		n = read(pipefd[0], &c, 1);
		sigprocmask(SIG_BLOCK, &block, NULL);
		if (n == 1 && c == 'r') {
			ready++;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else {
			rc = 1;
		}
	}
	close(pipefd[0]);
	if (!rc && !stop) {
		printf("ready %d", (int)getpid());
		for (long i = 0; i < started; i++)
			printf(" %d", (int)kids[i]);
		printf("\n");
		fflush(stdout);
		while (!stop)
			sigsuspend(&old);
	}
	for (long i = 0; i < started; i++)
		kill(kids[i], SIGKILL);
	for (long i = 0; i < started; i++)
		while (waitpid(kids[i], NULL, 0) < 0 && errno == EINTR)
			;
	free(kids);
cleanup_files:
	for (int f = 0; f < nfiles; f++) {
		close(fds[f]);
		unlink(paths[f]);
	}
	return rc;
}
