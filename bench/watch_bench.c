/* Benchmark of `taskvma watch` (docs/PERFORMANCE.md, "watch"):
 *
 *  1. latency: a child maps or unmaps a page, notes the time its system call
 *     returned, and waits; the watcher (this process, the library) notes when
 *     the record for it arrives.  Median and p99 of the difference.
 *  2. cost to a process: ns per mmap+munmap pair of one page in a tight loop,
 *     with no watcher, with empty programs on the same tracepoints
 *     (watch_empty.bpf.c), with a watcher that does not watch this process,
 *     and with a watcher (another process, consuming) that watches it.
 *  3. watcher CPU: NPROC processes changing their maps RATE times a second in
 *     all, for SECS seconds: the CPU the watcher uses (user + system of its
 *     process, getrusage) and the BPF programs' run time in the changing
 *     processes (bpf_stats), against polling every process's /proc/PID/maps
 *     at 1 Hz and 10 Hz (library snapshots with the procfs backend and a diff,
 *     as the polling watch did; and a bare read() of the text).
 *
 * Usage: watch_bench [-n NPROC] [-r CHANGES_PER_S] [-s SECS] [-l SAMPLES]
 *                    [-p PAIRS] [-b BACKEND] [-o latency,cost,cpu]
 *                    [-B BATCH_MS] [-P RT_PRIO]
 *   -B: the watch's batch_ms (0 default, -1 woken for every record)
 *   -P: the latency part's watcher runs SCHED_FIFO at this priority (how
 *       much of the tail is waiting for a CPU)
 * Prints one line per figure and a verdict per target:
 *   p99 latency < 10 ms; watcher CPU >= 10x below 10 Hz polling; an unwatched
 *   process pays no more than an empty program (within 10%, run-to-run noise).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "taskvma.h"
#include "watch_empty.skel.h"

#define PG 4096ul

static int batch_ms;	/* -B */
static int rt_prio;	/* -P */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_self(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* voluntary context switches of this process: how often the watcher slept */
static long vcsw_self(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_nvcsw;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* ---- 1. latency ------------------------------------------------------------ */

/* The child announces operation i (inflight = i) before its system call, and
 * notes when the call returned in t_ret[i]; the watcher's callback notes when
 * the record came in t_cb[i] (i read from inflight: the child waits for the
 * ack of i, up to 1 s, before operation i + 1).  Paired after the run: a
 * record that reaches the callback before the child noted its return (the
 * kernel event is just before the return) counts as 0. */
#define LAT_OPS 16384

struct lat_shm {
	volatile int inflight;	/* the child's operation in progress */
	volatile int acked;	/* the watcher saw operation `acked` */
	volatile int stop;
	volatile double t_ret[LAT_OPS];	/* when the child's call i returned */
};

struct lat_ctx {
	struct lat_shm *shm;
	pid_t child;
	double *t_cb;	/* [i]: the record of operation i in the callback */
	double *t_k;	/* [i]: the record's kernel event (mono_ns) */
	int n, max;
};

static int lat_cb(void *ctx, const struct taskvma_watch_event *e)
{
	struct lat_ctx *c = ctx;
	double t = now();
	int i;

	if (e->pid != c->child || (e->kind != TASKVMA_WATCH_ADDED && e->kind != TASKVMA_WATCH_REMOVED &&
				   e->kind != TASKVMA_WATCH_CHANGED))
		return 0;
	i = c->shm->inflight;
	if (e->batch_i != 0 || i <= 0 || i >= LAT_OPS || c->t_cb[i] > 0)
		return 0;
	c->t_cb[i] = t;
	c->t_k[i] = (double)e->mono_ns / 1e9;
	c->shm->acked = i;
	c->n++;
	return 0;
}

static void pct(const char *what, double *v, int n)
{
	qsort(v, (size_t)n, sizeof(double), cmp_d);
	printf("%s median %.3f p99 %.3f max %.3f ms", what, v[n / 2], v[(int)(n * 0.99)], v[n - 1]);
}

static void latency(struct taskvma *tv, int nsamples)
{
	size_t shm_len = (sizeof(struct lat_shm) + PG - 1) & ~(PG - 1);
	struct lat_shm *shm = mmap(NULL, shm_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	TASKVMA_OPTS(taskvma_watch_opts, wo, .no_snapshot_records = 1, .batch_ms = batch_ms);
	struct lat_ctx c = { .shm = shm, .max = nsamples < LAT_OPS - 1 ? nsamples : LAT_OPS - 1 };
	struct sched_param sp = { .sched_priority = rt_prio };
	struct taskvma_watch *w = NULL;
	double *lat = NULL, *k_ret = NULL, *k_cb = NULL;
	int n = 0, early = 0;
	pid_t p;

	c.t_cb = calloc(LAT_OPS, sizeof(double));
	c.t_k = calloc(LAT_OPS, sizeof(double));
	p = fork();
	if (p == 0) {
		char *a = NULL;

		/* alternately map and unmap a page; wait for the watcher (or
		 * 1 s), then a pause of 1-5 ms */
		for (int i = 1; !shm->stop && i < LAT_OPS; i++) {
			double t;

			shm->inflight = i;
			if (a) {
				munmap(a, PG);
				a = NULL;
			} else {
				a = mmap(NULL, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			}
			t = now();
			shm->t_ret[i] = t;
			while (shm->acked != i && now() - t < 1 && !shm->stop)
				usleep(100);
			usleep(1000 + (unsigned)(i * 7919) % 4000);
		}
		_exit(0);
	}
	c.child = p;
	if (rt_prio && sched_setscheduler(0, SCHED_FIFO, &sp))
		printf("latency: SCHED_FIFO %d: %s\n", rt_prio, strerror(errno));
	if (taskvma_watch_new(tv, &wo, lat_cb, &c, &w) || taskvma_watch_add(w, p)) {
		printf("latency: cannot watch: %s\n", taskvma_last_error(tv));
		goto out;
	}
	if (taskvma_watch_mode(w) != TASKVMA_WATCH_EVENTS)
		printf("latency: polling (%s)\n", taskvma_watch_reason(w));
	for (double t0 = now(); c.n < c.max && now() - t0 < 60;)
		taskvma_watch_poll(w, 100);
	shm->stop = 1;
	waitpid(p, NULL, 0);
	lat = calloc(LAT_OPS, sizeof(double));
	k_ret = calloc(LAT_OPS, sizeof(double));
	k_cb = calloc(LAT_OPS, sizeof(double));
	for (int i = 1; i < LAT_OPS; i++) {
		if (!(c.t_cb[i] > 0) || !(shm->t_ret[i] > 0))
			continue;
		lat[n] = c.t_cb[i] > shm->t_ret[i] ? (c.t_cb[i] - shm->t_ret[i]) * 1e3 : 0;
		early += c.t_cb[i] <= shm->t_ret[i];
		k_ret[n] = (shm->t_ret[i] - c.t_k[i]) * 1e3;
		k_cb[n] = (c.t_cb[i] - c.t_k[i]) * 1e3;
		n++;
	}
	if (n) {
		double p99;

		printf("latency syscall return -> record: %d samples (%d before the return was noted: 0), ",
		       n, early);
		pct("", lat, n);
		p99 = lat[(int)(n * 0.99)];
		printf("\n  split at the kernel event (the lock release):");
		pct(" event -> child's return noted", k_ret, n);
		printf(";");
		pct(" event -> callback", k_cb, n);
		printf("%s\n", rt_prio ? " (watcher SCHED_FIFO)" : "");
		printf("TARGET p99 latency < 10 ms: %s\n", p99 < 10 ? "PASS" : "MISS");
	}
out:
	if (rt_prio) {
		sp.sched_priority = 0;
		sched_setscheduler(0, SCHED_OTHER, &sp);
	}
	shm->stop = 1;
	waitpid(p, NULL, 0);
	taskvma_watch_free(w);
	free(c.t_cb);
	free(c.t_k);
	free(lat);
	free(k_ret);
	free(k_cb);
	munmap(shm, shm_len);
}

/* ---- 2. cost per mmap+munmap ------------------------------------------------ */

/* ns per pair, the best of 5 runs of `pairs` (a shared 2-core VM: the best
 * is the least disturbed) */
static double pair_ns(long pairs)
{
	double best = 1e30;

	for (int r = 0; r < 5; r++) {
		double t0 = now();

		for (long i = 0; i < pairs; i++) {
			void *a = mmap(NULL, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

			munmap(a, PG);
		}
		t0 = (now() - t0) * 1e9 / (double)pairs;
		if (t0 < best)
			best = t0;
	}
	return best;
}

/* A watcher in another process (it consumes, as a real one would): watches
 * `target` (0: a sleeping process of its own, so this one is unwatched). */
static pid_t start_watcher(enum taskvma_backend be, pid_t target, int ready_fd)
{
	pid_t p = fork();

	if (p == 0) {
		TASKVMA_OPTS(taskvma_opts, o, .backend = be);
		TASKVMA_OPTS(taskvma_watch_opts, wo, .no_snapshot_records = 1, .batch_ms = batch_ms);
		struct taskvma *tv = NULL;
		struct taskvma_watch *w = NULL;
		pid_t sleeper = 0;

		if (!target) {
			sleeper = fork();
			if (sleeper == 0) {
				prctl(PR_SET_PDEATHSIG, SIGKILL);
				pause();
				_exit(0);
			}
			target = sleeper;
		}
		if (taskvma_open(&tv, &o) || taskvma_watch_new(tv, &wo, NULL, NULL, &w) ||
		    taskvma_watch_add(w, target))
			_exit(1);
		if (write(ready_fd, "r", 1) != 1)
			_exit(1);
		for (;;)
			taskvma_watch_poll(w, 100);
	}
	return p;
}

static void stop_child(pid_t p)
{
	kill(p, SIGKILL);
	waitpid(p, NULL, 0);
}

static double with_watcher(enum taskvma_backend be, bool watched, long pairs)
{
	int fds[2];
	char c;
	pid_t w;
	double r;

	if (pipe(fds))
		return -1;
	w = start_watcher(be, watched ? getpid() : 0, fds[1]);
	if (read(fds[0], &c, 1) != 1) {
		close(fds[0]), close(fds[1]);
		stop_child(w);
		return -1;
	}
	r = pair_ns(pairs);
	/* the sleeper, the watcher's child, dies with it (PR_SET_PDEATHSIG) */
	stop_child(w);
	close(fds[0]), close(fds[1]);
	return r;
}

static void cost(enum taskvma_backend be, long pairs)
{
	struct watch_empty_bpf *skel;
	double none, empty = -1, unwatched, watched;

	none = pair_ns(pairs);
	skel = watch_empty_bpf__open_and_load();
	if (skel && !watch_empty_bpf__attach(skel)) {
		empty = pair_ns(pairs);
	}
	watch_empty_bpf__destroy(skel);
	unwatched = with_watcher(be, false, pairs);
	watched = with_watcher(be, true, pairs);
	printf("mmap+munmap pair: no watcher %.0f ns; empty programs %.0f ns (+%.0f); "
	       "watcher, process unwatched %.0f ns (+%.0f); watched %.0f ns (+%.0f)\n",
	       none, empty, empty - none, unwatched, unwatched - none, watched, watched - none);
	if (empty > 0)
		printf("TARGET unwatched process pays no more than an empty program (10%% noise): %s "
		       "(%.0f vs %.0f ns)\n", unwatched <= empty * 1.10 ? "PASS" : "MISS", unwatched, empty);
}

/* ---- 3. watcher CPU against polling ---------------------------------------- */

static pid_t *spawn_changers(int n, double rate_each)
{
	pid_t *p = calloc((size_t)n, sizeof(pid_t));
	useconds_t period = (useconds_t)(1e6 / rate_each);

	for (int i = 0; i < n; i++) {
		p[i] = fork();
		if (p[i] == 0) {
			void *a = NULL;

			usleep((useconds_t)(i * 7919u) % period);	/* spread them */
			for (;;) {
				if (a) {
					munmap(a, PG);
					a = NULL;
				} else {
					a = mmap(NULL, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
				}
				usleep(period);
			}
		}
	}
	return p;
}

static uint64_t bpf_run_ns(void)
{
	uint32_t id = 0;
	uint64_t total = 0;

	/* every program named on_* of the watcher's object */
	while (!bpf_prog_get_next_id(id, &id)) {
		struct bpf_prog_info info = {};
		uint32_t len = sizeof(info);
		int fd = bpf_prog_get_fd_by_id(id);

		if (fd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) &&
		    (!strcmp(info.name, "wt_released") || !strcmp(info.name, "wt_unmapped_are") ||
		     !strcmp(info.name, "wt_exec") || !strcmp(info.name, "wt_fork") ||
		     !strcmp(info.name, "wt_exit")))
			total += info.run_time_ns;
		close(fd);
	}
	return total;
}

static void watcher_cpu(enum taskvma_backend be, int n, double rate, double secs)
{
	TASKVMA_OPTS(taskvma_opts, o, .backend = be);
	TASKVMA_OPTS(taskvma_opts, of, .backend = TASKVMA_BACKEND_PROCFS);
	TASKVMA_OPTS(taskvma_watch_opts, wo, .no_snapshot_records = 1, .batch_ms = batch_ms);
	struct taskvma *tv = NULL, *tvf = NULL;
	struct taskvma_watch *w = NULL;
	struct taskvma_watch_stats st;
	pid_t *kids = spawn_changers(n, rate / n);
	double c0, t0, ev_cpu, poll_cpu, read_cpu, ev_elapsed;
	uint64_t b0, bpf_ns;
	long cs0, cs;
	struct taskvma_map **old = calloc((size_t)n, sizeof(*old));
	int fd_stats = open("/proc/sys/kernel/bpf_stats_enabled", O_RDWR);
	char prev = '0';
	int passes = 0;
	static char buf[1 << 16];

	if (fd_stats >= 0) {
		if (read(fd_stats, &prev, 1) != 1 || pwrite(fd_stats, "1", 1, 0) != 1)
			prev = 0;
	}
	usleep(300000);
	if (taskvma_open(&tv, &o) || taskvma_watch_new(tv, &wo, NULL, NULL, &w)) {
		printf("watcher CPU: cannot watch\n");
		goto out;
	}
	for (int i = 0; i < n; i++)
		taskvma_watch_add(w, kids[i]);
	b0 = bpf_run_ns();
	cs0 = vcsw_self();
	c0 = cpu_self();
	t0 = now();
	while (now() - t0 < secs)
		taskvma_watch_poll(w, 100);
	ev_elapsed = now() - t0;
	ev_cpu = cpu_self() - c0;
	cs = vcsw_self() - cs0;
	bpf_ns = bpf_run_ns() - b0;
	taskvma_watch_get_stats(w, &st);
	printf("watcher of %d processes, %.0f changes/s for %.0f s (%s re-reads): %llu events, "
	       "%llu records, %llu lost; watcher CPU %.2f%% of a core, %.0f sleeps/s; BPF programs %.3f%% "
	       "of a core (in the changing processes)\n",
	       n, rate, ev_elapsed, taskvma_backend_name(taskvma_backend(tv)),
	       (unsigned long long)st.events, (unsigned long long)st.records,
	       (unsigned long long)st.lost, ev_cpu / ev_elapsed * 100, cs / ev_elapsed,
	       (double)bpf_ns / 1e9 / ev_elapsed * 100);
	taskvma_watch_free(w);
	w = NULL;

	/* polling: a pass over every process = snapshot (procfs text, parsed)
	 * + diff against the previous pass; measured for a few seconds and
	 * scaled to 1 and 10 passes a second */
	if (taskvma_open(&tvf, &of))
		goto out;
	c0 = cpu_self();
	t0 = now();
	while (now() - t0 < 3 || passes < 3) {
		for (int i = 0; i < n; i++) {
			struct taskvma_map *m = NULL;

			if (!taskvma_snapshot(tvf, kids[i], NULL, &m))
				taskvma_map_diff(old[i], m, NULL, NULL);
			taskvma_map_free(old[i]);
			old[i] = m;
		}
		passes++;
	}
	poll_cpu = (cpu_self() - c0) / passes;
	c0 = cpu_self();
	for (int r = 0; r < passes; r++)
		for (int i = 0; i < n; i++) {
			char path[64];
			int fd;

			snprintf(path, sizeof(path), "/proc/%d/maps", kids[i]);
			fd = open(path, O_RDONLY);
			if (fd >= 0) {
				while (read(fd, buf, sizeof(buf)) > 0)
					;
				close(fd);
			}
		}
	read_cpu = (cpu_self() - c0) / passes;
	printf("polling %d processes: one pass %.2f ms CPU (snapshot + diff; bare read() %.2f ms): "
	       "1 Hz %.2f%%, 10 Hz %.2f%% of a core (bare read: %.2f%%, %.2f%%)\n",
	       n, poll_cpu * 1e3, read_cpu * 1e3, poll_cpu * 100, poll_cpu * 1000, read_cpu * 100,
	       read_cpu * 1000);
	printf("watcher vs 10 Hz polling: %.1fx less CPU (vs bare reads %.1fx)\n",
	       poll_cpu * 10 / (ev_cpu / ev_elapsed), read_cpu * 10 / (ev_cpu / ev_elapsed));
	printf("TARGET watcher CPU >= 10x below 10 Hz polling: %s\n",
	       poll_cpu * 10 / (ev_cpu / ev_elapsed) >= 10 ? "PASS" : "MISS");
out:
	if (fd_stats >= 0) {
		if (prev)
			(void)!pwrite(fd_stats, &prev, 1, 0);
		close(fd_stats);
	}
	for (int i = 0; i < n; i++) {
		kill(kids[i], SIGKILL);
		waitpid(kids[i], NULL, 0);
		taskvma_map_free(old[i]);
	}
	free(old);
	free(kids);
	taskvma_watch_free(w);
	taskvma_close(tv);
	taskvma_close(tvf);
}

int main(int argc, char **argv)
{
	int n = 200, samples = 2000, opt;
	const char *only = "latency,cost,cpu";
	double rate = 1000, secs = 10;
	long pairs = 20000;
	enum taskvma_backend be = TASKVMA_BACKEND_AUTO;
	struct taskvma *tv = NULL;

	while ((opt = getopt(argc, argv, "n:r:s:l:p:b:o:B:P:")) != -1) {
		switch (opt) {
		case 'o': only = optarg; break;
		case 'B': batch_ms = atoi(optarg); break;
		case 'P': rt_prio = atoi(optarg); break;
		case 'n': n = atoi(optarg); break;
		case 'r': rate = atof(optarg); break;
		case 's': secs = atof(optarg); break;
		case 'l': samples = atoi(optarg); break;
		case 'p': pairs = atol(optarg); break;
		case 'b':
			if (taskvma_backend_parse(optarg, &be)) {
				fprintf(stderr, "watch_bench: unknown backend %s\n", optarg);
				return 2;
			}
			break;
		default:
			fprintf(stderr, "usage: watch_bench [-n NPROC] [-r RATE] [-s SECS] [-l SAMPLES] "
					"[-p PAIRS] [-b BACKEND] [-o PARTS] [-B BATCH_MS] [-P RT_PRIO]\n");
			return 2;
		}
	}
	if (n <= 0 || rate <= 0 || secs <= 0 || samples <= 0 || pairs <= 0)
		return 2;
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGCHLD, SIG_DFL);
	{
		TASKVMA_OPTS(taskvma_opts, o, .backend = be);

		if (taskvma_open(&tv, &o)) {
			fprintf(stderr, "watch_bench: %s\n", taskvma_last_error(tv));
			return 1;
		}
	}
	printf("== taskvma watch benchmark (re-reads: %s)\n", taskvma_backend_name(taskvma_backend(tv)));
	if (strstr(only, "latency"))
		latency(tv, samples);
	if (strstr(only, "cost"))
		cost(be, pairs);
	if (strstr(only, "cpu"))
		watcher_cpu(be, n, rate, secs);
	taskvma_close(tv);
	return 0;
}
