// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Freezing a process for a consistent read on a backend without a change
 * counter (taskvma_opts.consistent; docs/design.md "Complete, or reported as
 * not complete").
 *
 * PROCMAP_QUERY (one ioctl per VMA) and the /proc text (a page per read(),
 * each under its own lock hold) can cross a change of the map: a VMA moved
 * by mremap is then missing or listed twice, in address order, and nothing
 * the reader sees tells it (tests/cases/race.sh: 6-32 of 50 procmap reads
 * torn).  Only the process's own threads change its map (mmap, munmap,
 * mremap, mprotect, brk, stack growth all run in the thread that asks), so
 * with every thread in a ptrace stop the map cannot change while it is
 * read: every thread listed in /proc/PID/task is seized (PTRACE_SEIZE with
 * PTRACE_O_TRACECLONE, so a thread it creates meanwhile is attached too),
 * interrupted (PTRACE_INTERRUPT) and waited for (waitpid __WALL, by tid:
 * never a caller's child), until the list holds no thread we have not
 * stopped.  PTRACE_DETACH lets them go, with the signal a thread was
 * stopped for handed back.  Not stopped: another process sharing the
 * address space (clone(CLONE_VM) without CLONE_THREAD; a vfork parent is
 * blocked anyway), and changes made from outside (a userfaultfd held by
 * another process registering a range): docs/design.md.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "internal.h"

#ifndef PTRACE_SEIZE
#define PTRACE_SEIZE 0x4206
#endif
#ifndef PTRACE_INTERRUPT
#define PTRACE_INTERRUPT 0x4207
#endif
#ifndef PTRACE_EVENT_STOP
#define PTRACE_EVENT_STOP 128
#endif

/* A thread that does not stop within this time (uninterruptible sleep, a
 * vfork parent waiting for its child) makes the freeze fail. */
#define FREEZE_TIMEOUT_MS 1000

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static struct tv_frozen *find(struct tv_freeze *fz, pid_t tid)
{
	for (size_t i = 0; i < fz->n; i++)
		if (fz->t[i].tid == tid)
			return &fz->t[i];
	return NULL;
}

static int add(struct tv_freeze *fz, pid_t tid)
{
	if (find(fz, tid))
		return 0;
	if (tv_reserve((void **)&fz->t, &fz->cap, fz->n + 1, sizeof(*fz->t), 16))
		return -ENOMEM;
	fz->t[fz->n++] = (struct tv_frozen){ .tid = tid };
	return 0;
}

/* Who traces thread tid (its TracerPid), 0 if nobody, -1 unknown. */
static long tracer_of(const struct taskvma *tv, pid_t pid, pid_t tid)
{
	char path[192], line[256];
	long who = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%d/task/%d/status", tv->proc_root, (int)pid, (int)tid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "TracerPid: %ld", &who) == 1)
			break;
	fclose(f);
	return who;
}

/* A kernel thread (ptrace refuses those) or a zombie: no map to freeze. */
static bool no_mm(const struct taskvma *tv, pid_t pid)
{
	struct tv_mm_ident id;

	if (tv_mm_ident(tv, pid, &id))
		return false;
	return (id.flags & 0x00200000 /* PF_KTHREAD */) || id.state == 'Z' || id.state == 'X';
}

/* Seize every thread of /proc/PID/task not yet ours.  Returns the number
 * newly seized, or -errno with a message. */
static int seize_listed(struct taskvma *tv, pid_t pid, struct tv_freeze *fz)
{
	char path[160];
	struct dirent *de;
	pid_t self = (pid_t)syscall(SYS_gettid);
	int added = 0, err = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%d/task", tv->proc_root, (int)pid);
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? -ESRCH : tv_error(tv, -errno, "pid %d: %s: %s", (int)pid,
							       path, strerror(errno));
	/* errno tells readdir()'s end from its failure: a thread missed here
	 * would run on during a read said to be consistent */
	while (!err && (errno = 0, de = readdir(d))) {
		char *end;
		long tid = strtol(de->d_name, &end, 10);
		long who;
		int e;

		if (de->d_name[0] < '0' || de->d_name[0] > '9' || *end || find(fz, (pid_t)tid))
			continue;
		if (!ptrace(PTRACE_SEIZE, (pid_t)tid, NULL, (void *)(long)PTRACE_O_TRACECLONE)) {
			if ((err = add(fz, (pid_t)tid)))
				break;
			added++;
			/* ESRCH: it is exiting; its wait says so */
			ptrace(PTRACE_INTERRUPT, (pid_t)tid, NULL, NULL);
			continue;
		}
		e = errno;
		if (e == ESRCH)
			continue;	/* exited since the listing */
		who = tracer_of(tv, pid, (pid_t)tid);
		if (e == EPERM && who == self) {
			/* attached by PTRACE_O_TRACECLONE: its creator's
			 * clone event has not been waited for yet */
			if (!(err = add(fz, (pid_t)tid)))
				added++;
			continue;
		}
		if (e == EPERM && who <= 0 && no_mm(tv, pid)) {
			/* a kernel thread or zombie: what a walk would say */
			err = tv_explain_nomm(tv, pid);
			break;
		}
		if (who > 0)
			err = tv_error(tv, -EAGAIN,
				       "pid %d: cannot freeze it for a consistent read: thread %ld is "
				       "already traced by pid %ld (a debugger or strace?)",
				       (int)pid, tid, who);
		else if (e == EPERM)
			err = tv_error(tv, -EAGAIN,
				       "pid %d: cannot freeze it for a consistent read: ptrace of thread %ld "
				       "not permitted (CAP_SYS_PTRACE, kernel.yama.ptrace_scope)",
				       (int)pid, tid);
		else
			err = tv_error(tv, -EAGAIN,
				       "pid %d: cannot freeze it for a consistent read: ptrace of thread %ld: %s",
				       (int)pid, tid, strerror(e));
	}
	if (!err && !de && errno)
		err = tv_error(tv, -errno, "pid %d: %s: %s", (int)pid, path, strerror(errno));
	closedir(d);
	return err ? err : added;
}

/* Wait until every seized thread is in a ptrace stop (or gone). */
static int wait_stops(struct taskvma *tv, pid_t pid, struct tv_freeze *fz, uint64_t deadline)
{
	for (unsigned spin = 0;; spin++) {
		bool pending = false;

		for (size_t i = 0; i < fz->n; i++) {
			struct tv_frozen *t = &fz->t[i];
			int st;
			pid_t r;

			if (t->stopped || t->gone)
				continue;
			r = waitpid(t->tid, &st, __WALL | WNOHANG);
			if (r < 0 && errno == EINTR) {
				pending = true;
				continue;
			}
			if (r == 0) {
				pending = true;
				continue;
			}
			if (r < 0 || WIFEXITED(st) || WIFSIGNALED(st)) {
				t->gone = true;	/* exited (ECHILD: reaped) */
				continue;
			}
			if (!WIFSTOPPED(st))
				continue;
			t->stopped = true;
			if (st >> 16 == PTRACE_EVENT_CLONE) {
				unsigned long nt = 0;

				/* the new thread is attached already; wait for it too */
				if (!ptrace(PTRACE_GETEVENTMSG, t->tid, NULL, &nt) && nt &&
				    add(fz, (pid_t)nt))
					return -ENOMEM;
				pending = true;
			} else if (st >> 16 == 0) {
				/* a signal-delivery stop: the signal goes back at detach */
				t->sig = WSTOPSIG(st);
			}
			/* PTRACE_EVENT_STOP: our interrupt, or a group stop */
		}
		if (!pending)
			return 0;
		if (now_ns() > deadline) {
			for (size_t i = 0; i < fz->n; i++)
				if (!fz->t[i].stopped && !fz->t[i].gone)
					return tv_error(tv, -EAGAIN,
							"pid %d: cannot freeze it for a consistent read: "
							"thread %d did not stop within %d ms (uninterruptible "
							"sleep, or a vfork parent?)",
							(int)pid, (int)fz->t[i].tid, FREEZE_TIMEOUT_MS);
			return 0;
		}
		/* most threads stop within microseconds: yield a few times, then
		 * sleep (a yield on a loaded machine may give the CPU away for a
		 * whole time slice; a short sleep wakes on time) */
		if (spin < 8) {
			sched_yield();
		} else {
			struct timespec ts = { 0, (spin < 100 ? 20 : 200) * 1000 };

			nanosleep(&ts, NULL);
		}
	}
}

/* Detach what can be: a thread seized but not stopped yet cannot be
 * detached (ptrace needs it stopped); it is kept on the handle and let go
 * on a later call, or when the caller exits (the kernel detaches then). */
static void release(struct taskvma *tv, struct tv_freeze *fz)
{
	for (size_t i = 0; i < fz->n; i++) {
		struct tv_frozen *t = &fz->t[i];

		if (t->gone)
			continue;
		if (!ptrace(PTRACE_DETACH, t->tid, NULL, (void *)(long)t->sig) || errno != ESRCH ||
		    t->stopped)
			continue;
		/* running with our interrupt pending: try again later */
		if (!tv_reserve((void **)&tv->unreleased, &tv->n_unreleased_cap, tv->n_unreleased + 1,
				sizeof(pid_t), 4))
			tv->unreleased[tv->n_unreleased++] = t->tid;
	}
	free(fz->t);
	memset(fz, 0, sizeof(*fz));
}

void tv_release_pending(struct taskvma *tv)
{
	size_t keep = 0;

	for (size_t i = 0; i < tv->n_unreleased; i++) {
		pid_t tid = tv->unreleased[i];
		int st;
		pid_t r = waitpid(tid, &st, __WALL | WNOHANG);

		if (r == 0) {
			tv->unreleased[keep++] = tid;	/* still not stopped */
			continue;
		}
		if (r == tid && WIFSTOPPED(st))
			ptrace(PTRACE_DETACH, tid, NULL,
			       (void *)(long)(st >> 16 == 0 ? WSTOPSIG(st) : 0));
	}
	tv->n_unreleased = keep;
	if (!keep) {
		free(tv->unreleased);
		tv->unreleased = NULL;
		tv->n_unreleased_cap = 0;
	}
}

int tv_freeze(struct taskvma *tv, pid_t pid, struct tv_freeze *fz)
{
	uint64_t deadline = now_ns() + FREEZE_TIMEOUT_MS * 1000000ull;
	int r;

	memset(fz, 0, sizeof(*fz));
	if (tv->n_unreleased)
		tv_release_pending(tv);
	if (pid == getpid())
		return tv_error(tv, -EAGAIN,
				"pid %d: cannot freeze it for a consistent read: it is this process",
				(int)pid);
	/* until a listing shows no thread we have not stopped */
	do {
		r = seize_listed(tv, pid, fz);
		if (r >= 0) {
			int w = wait_stops(tv, pid, fz, deadline);

			if (w < 0)
				r = w;
		}
		if (r >= 0 && now_ns() > deadline && r > 0)
			r = tv_error(tv, -EAGAIN,
				     "pid %d: cannot freeze it for a consistent read: it keeps making threads",
				     (int)pid);
	} while (r > 0);
	if (r < 0) {
		release(tv, fz);
		return r;
	}
	/* every thread gone: the process exited */
	for (size_t i = 0; i < fz->n; i++)
		if (!fz->t[i].gone)
			return 0;
	release(tv, fz);
	return -ESRCH;
}

void tv_thaw(struct taskvma *tv, struct tv_freeze *fz)
{
	release(tv, fz);
}
