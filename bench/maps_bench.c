// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * bench/maps_bench: every way to read the memory maps of every process,
 * measured side by side in one run (bench/run.sh drives it; see
 * docs/PERFORMANCE.md, "maps benchmark").
 *
 *   maps_bench --taskvma PATH --workload-bin PATH --tmpdir DIR
 *              --workload NAME:NPROC:NVMA[:REPS] ... [--reps N] [--json FILE]
 *              [--md FILE] [--no-pmap-x] [--only KEY,...] [--meta KEY=VALUE ...]
 *
 * For each workload: start bench/workload (NPROC processes of NVMA VMAs
 * each), check that every method sees the same VMAs (an untimed pass; the
 * workload's processes must match exactly), then time every method REPS
 * times, round-robin (each repetition runs every method once, starting one
 * method later than the previous repetition), and report median, min/max,
 * IQR, CPU time split, peak RSS of child processes, ratios and targets.
 *
 * The methods (numbers as in the issue and the docs):
 *   (1)  taskvma_lib       library, BPF backend, taskvma_snapshot_all(), maps copied
 *                          and kept in memory until the pass ends (handle opened once)
 *   (1f) taskvma_lib_exec  the same with an exec-only filter (perm_set = x)
 *   (2)  taskvma_cli       `taskvma maps --all > /dev/null`, the whole process
 *   (3)  raw_read          read every /proc/PID/maps into a buffer, no parsing
 *   (4)  procfs_parse      library, procfs backend (read + parse), handle opened once
 *   (5)  procmap_query     library, PROCMAP_QUERY backend, handle opened once
 *   (6)  pmap, (6x) pmap_x `pmap PID...` / `pmap -x PID...` > /dev/null, all PIDs at once
 *   (7)  floor             BPF iter/task program that walks every VMA with the
 *                          open-coded iterator and only counts (bench_floor.bpf.c)
 *   aux  bpf_open          taskvma_open(BPF) + taskvma_close(), in process
 *   aux  cli_one           `taskvma maps PID` of one small process: CLI start-up cost
 *   7r, 7d, 7c             the floor plus, in turn, what the engine does per VMA:
 *                          store a record; + bpf_d_path() per file VMA; or + d_path
 *                          once per distinct file (where the engine's time goes)
 *   7s   floor_task_vma    the seq_file iter/task_vma iterator, counting: for comparison
 *
 * Exit status: 0 when every method saw the same VMAs (targets are measured,
 * not asserted: a MISS is printed, not fatal), 1 when they did not or a
 * method failed, 2 on usage errors.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "taskvma.h"
#include "bench_floor.skel.h"

extern char **environ;

#define GATE_ADDR 0xffffffffff600000ull
#define MAX_WORKLOADS 8
#define MAX_META 16

/* ---- methods ---------------------------------------------------------- */

enum method_id {
	M_LIB,
	M_LIB_EXEC,
	M_CLI,
	M_RAW,
	M_PROCFS,
	M_PROCMAP,
	M_PMAP,
	M_PMAP_X,
	M_FLOOR,
	M_OPEN,
	M_CLI_ONE,
	M_FLOOR_REC,
	M_FLOOR_DPATH,
	M_FLOOR_DCACHE,
	M_FLOOR_SEQ,
	M_COUNT
};

static const struct method_info {
	const char *key;
	const char *num;
	const char *label;
	bool aux;	/* not a way to read every map: no VMA check */
} methods[M_COUNT] = {
	[M_LIB] = { "taskvma_lib", "1", "taskvma library, bpf backend, all maps into memory", false },
	[M_LIB_EXEC] = { "taskvma_lib_exec", "1f", "(1) with an exec-only filter (--perms=??x?)", false },
	[M_CLI] = { "taskvma_cli", "2", "taskvma maps --all > /dev/null (whole process)", false },
	[M_RAW] = { "raw_read", "3", "raw read of every /proc/PID/maps, no parsing", false },
	[M_PROCFS] = { "procfs_parse", "4", "library, procfs backend (read + parse)", false },
	[M_PROCMAP] = { "procmap_query", "5", "library, procmap backend (PROCMAP_QUERY)", false },
	[M_PMAP] = { "pmap", "6", "pmap PID... > /dev/null", false },
	[M_PMAP_X] = { "pmap_x", "6x", "pmap -x PID... > /dev/null", false },
	[M_FLOOR] = { "floor", "7", "floor: BPF open-coded walk, count only", false },
	[M_OPEN] = { "bpf_open", "aux", "taskvma_open(bpf) + close, in process", true },
	[M_CLI_ONE] = { "cli_one", "aux", "taskvma maps PID (one small process)", true },
	[M_FLOOR_REC] = { "floor_rec", "7r", "(7) + store a record per VMA (no names)", true },
	[M_FLOOR_DPATH] = { "floor_dpath", "7d", "(7r) + bpf_d_path() per file VMA", true },
	[M_FLOOR_DCACHE] = { "floor_dcache", "7c", "(7r) + bpf_d_path() once per file per pass", true },
	[M_FLOOR_SEQ] = { "floor_task_vma", "7s", "seq_file iter/task_vma walk, count only", true },
};

struct sample {
	double wall_ms, user_ms, sys_ms;
	long maxrss_kib;	/* child processes only; -1 otherwise */
	long vmas;		/* VMAs the method reported in this rep; -1 unknown */
	int status;		/* child exit status / library error */
};

struct stats {
	double median, min, max, q1, q3;
};

/* ---- per-process VMA counts (the "same VMAs" check) --------------------- */

struct pidcount {
	pid_t pid;
	long n;
};

struct counts {
	struct pidcount *v;
	size_t n, cap;
	bool valid;
};

static void counts_add(struct counts *c, pid_t pid, long n)
{
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 512;
		c->v = realloc(c->v, c->cap * sizeof(*c->v));
		if (!c->v) {
			perror("realloc");
			exit(1);
		}
	}
	c->v[c->n].pid = pid;
	c->v[c->n++].n = n;
	c->valid = true;
}

static int cmp_pidcount(const void *a, const void *b)
{
	const struct pidcount *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

static void counts_sort(struct counts *c)
{
	if (c->n)
		qsort(c->v, c->n, sizeof(*c->v), cmp_pidcount);
}

/* -1 when the pid is not there */
static long counts_get(const struct counts *c, pid_t pid)
{
	struct pidcount key = { .pid = pid }, *p;

	if (!c->n)
		return -1;
	p = bsearch(&key, c->v, c->n, sizeof(*c->v), cmp_pidcount);
	return p ? p->n : -1;
}

static long counts_total(const struct counts *c)
{
	long t = 0;

	for (size_t i = 0; i < c->n; i++)
		t += c->v[i].n;
	return t;
}

static void counts_free(struct counts *c)
{
	free(c->v);
	memset(c, 0, sizeof(*c));
}

/* ---- global state ----------------------------------------------------- */

struct workload {
	char name[32];
	long nproc, nvma;
	int reps;
	pid_t parent;		/* the workload's parent process */
	pid_t *pids;		/* parent + children */
	size_t npids;
	/* results */
	struct sample *samples[M_COUNT];
	int nsamples[M_COUNT];
	struct counts counts[M_COUNT];
	struct counts exec_ref;	/* exec-only VMAs per process, from (4)'s records */
	long machine_vmas;	/* reference (1) total, gate lines excluded */
	long machine_procs;
	char load_before[64], load_after[64];	/* /proc/loadavg around the timed reps */
	int nonzero[M_COUNT];	/* reps in which the method failed / exited non-zero */
	bool check_ok;
	char check_msg[M_COUNT][160];
	bool check_method_ok[M_COUNT];
};

static struct {
	const char *taskvma;
	const char *workload_bin;
	const char *tmpdir;
	const char *json_path;
	const char *md_path;
	const char *command;
	const char *meta[MAX_META];
	int nmeta;
	int reps;
	bool pmap_x;
	bool have_pmap;
	unsigned only;		/* --only: bitmask of methods to time; 0 = all */
	struct workload wl[MAX_WORKLOADS];
	int nwl;
	struct taskvma *tv_bpf, *tv_procfs, *tv_procmap;
	struct bench_floor_bpf *floor;
	int floor_dpath;	/* the floor program has its bpf_d_path() modes */
	struct { int32_t tgid, err; uint64_t nvma; } *floor_procs; /* mmapped, as in bench_floor.bpf.c */
	size_t floor_procs_sz;
	char *raw_buf;
	size_t raw_cap;
	pid_t self;
	FILE *md;
} g = { .reps = 7, .pmap_x = true };

static volatile pid_t workload_pid;

/* libbpf's messages only with MAPS_BENCH_VERBOSE=1: failures are reported
 * by the library's own errors */
static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (!getenv("MAPS_BENCH_VERBOSE") || level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static void on_signal(int sig)
{
	if (workload_pid > 0)
		kill(workload_pid, SIGTERM);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* a crash says where (the library under test changes under this bench) */
static void on_crash(int sig)
{
	void *bt[64];
	int n = backtrace(bt, 64);

	dprintf(2, "maps_bench: fatal signal %d; backtrace:\n", sig);
	backtrace_symbols_fd(bt, n, 2);
	if (workload_pid > 0)
		kill(workload_pid, SIGTERM);
	signal(sig, SIG_DFL);
	raise(sig);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double tv_ms(struct timeval t)
{
	return t.tv_sec * 1e3 + t.tv_usec / 1e3;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "maps_bench: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	if (workload_pid > 0) {
		kill(workload_pid, SIGTERM);
		waitpid(workload_pid, NULL, 0);
	}
	exit(1);
}

/* Every numeric entry of /proc (the processes), unsorted. */
static pid_t *list_pids(size_t *n)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	pid_t *v = NULL;
	size_t cap = 0;

	*n = 0;
	if (!d)
		die("/proc: %s", strerror(errno));
	while ((de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 1024;
			v = realloc(v, cap * sizeof(*v));
			if (!v)
				die("out of memory");
		}
		v[(*n)++] = (pid_t)atoi(de->d_name);
	}
	closedir(d);
	return v;
}

/* ---- (1), (4), (5): the library, maps kept in memory ------------------ */

/* The maps, kept as the library hands them over (TASKVMA_KEEP: no copy). */
struct keep_ctx {
	struct taskvma_map **maps;
	size_t n, cap;
	long errors;
	long vmas;
};

static int keep_cb(void *arg, pid_t pid, int err, const struct taskvma_map *m)
{
	struct keep_ctx *k = arg;

	(void)pid;
	if (!m) {
		if (err != -EACCES && err != -EPERM)
			k->errors++;
		return 0;
	}
	if (k->n == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 1024;
		struct taskvma_map **p = realloc(k->maps, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		k->maps = p;
		k->cap = cap;
	}
	k->maps[k->n++] = (struct taskvma_map *)m;
	k->vmas += (long)m->count;
	return TASKVMA_KEEP;
}

static void keep_free(struct keep_ctx *k)
{
	for (size_t i = 0; i < k->n; i++)
		taskvma_map_free(k->maps[i]);
	free(k->maps);
	memset(k, 0, sizeof(*k));
}

/* Per-process counts of what was kept (the gate line left out). */
static void keep_counts(const struct keep_ctx *k, struct counts *all, struct counts *exec)
{
	for (size_t i = 0; i < k->n; i++) {
		const struct taskvma_map *m = k->maps[i];
		long n = 0, x = 0;

		for (size_t j = 0; j < m->count; j++) {
			if (m->vmas[j].flags & TASKVMA_VMA_GATE)
				continue;
			n++;
			if (m->vmas[j].perms & TASKVMA_PERM_EXEC)
				x++;
		}
		counts_add(all, m->pid, n);
		if (exec)
			counts_add(exec, m->pid, x);
	}
}

static int run_lib(struct taskvma *tv, bool exec_only, struct sample *s, struct counts *c,
		   struct counts *exec)
{
	struct taskvma_query q = { .sz = sizeof(q) };
	struct taskvma_all_stats st = { .sz = sizeof(st) };
	struct keep_ctx k = {};
	struct rusage r0, r1;
	double t0;
	int err;

	if (exec_only)
		q.perm_set = TASKVMA_PERM_EXEC;
	getrusage(RUSAGE_SELF, &r0);
	t0 = now_ms();
	err = taskvma_snapshot_all(tv, &q, keep_cb, &k, &st);
	s->wall_ms = now_ms() - t0;
	getrusage(RUSAGE_SELF, &r1);
	s->user_ms = tv_ms(r1.ru_utime) - tv_ms(r0.ru_utime);
	s->sys_ms = tv_ms(r1.ru_stime) - tv_ms(r0.ru_stime);
	s->maxrss_kib = -1;
	s->vmas = k.vmas;
	s->status = err;
	if (err)
		fprintf(stderr, "maps_bench: taskvma_snapshot_all (%s): %s\n",
			taskvma_backend_name(taskvma_backend(tv)), taskvma_last_error(tv));
	if (c)
		keep_counts(&k, c, exec);
	keep_free(&k);
	return err;
}

/* ---- (3) raw read ------------------------------------------------------ */

struct raw_seg {
	pid_t pid;
	size_t off, len;
};

static int run_raw(struct sample *s, struct counts *c)
{
	struct raw_seg *segs = NULL;
	size_t npids, len = 0, nsegs = 0;
	struct rusage r0, r1;
	pid_t *pids;
	double t0;

	if (c)
		segs = calloc(1, sizeof(*segs));
	getrusage(RUSAGE_SELF, &r0);
	t0 = now_ms();
	pids = list_pids(&npids);
	if (c)
		segs = realloc(segs, (npids + 1) * sizeof(*segs));
	for (size_t i = 0; i < npids; i++) {
		char path[64];
		size_t start = len;
		int fd;

		snprintf(path, sizeof(path), "/proc/%d/maps", (int)pids[i]);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		for (;;) {
			ssize_t n;

			if (g.raw_cap - len < 65536) {
				size_t cap = g.raw_cap ? g.raw_cap * 2 : (size_t)16 << 20;
				char *p = realloc(g.raw_buf, cap);

				if (!p)
					die("out of memory");
				g.raw_buf = p;
				g.raw_cap = cap;
			}
			n = read(fd, g.raw_buf + len, g.raw_cap - len);
			if (n <= 0)
				break;
			len += (size_t)n;
		}
		close(fd);
		if (c) {
			segs[nsegs].pid = pids[i];
			segs[nsegs].off = start;
			segs[nsegs++].len = len - start;
		}
	}
	s->wall_ms = now_ms() - t0;
	getrusage(RUSAGE_SELF, &r1);
	s->user_ms = tv_ms(r1.ru_utime) - tv_ms(r0.ru_utime);
	s->sys_ms = tv_ms(r1.ru_stime) - tv_ms(r0.ru_stime);
	s->maxrss_kib = -1;
	s->vmas = -1;
	s->status = 0;
	free(pids);
	if (c) {
		for (size_t i = 0; i < nsegs; i++) {
			const char *p = g.raw_buf + segs[i].off, *end = p + segs[i].len;
			long n = 0;

			while (p < end) {
				const char *nl = memchr(p, '\n', (size_t)(end - p));

				if (strncmp(p, "ffffffffff600000-", 17))
					n++;
				p = nl ? nl + 1 : end;
			}
			if (segs[i].len)
				counts_add(c, segs[i].pid, n);
		}
		free(segs);
	}
	return 0;
}

/* ---- (7) the floor ------------------------------------------------------ */

static int run_floor(struct sample *s, struct counts *c, unsigned mode)
{
	struct rusage r0, r1;
	struct bpf_link *link;
	char buf[8];
	double t0;
	int fd, err = 0;
	ssize_t n;

	g.floor->bss->total_vmas = 0;
	g.floor->bss->nproc = 0;
	g.floor->bss->nlost = 0;
	g.floor->bss->nrec = 0;
	g.floor->bss->nname = 0;
	g.floor->bss->ndpath = 0;
	g.floor->bss->mode = mode;
	g.floor->bss->pass++;
	getrusage(RUSAGE_SELF, &r0);
	t0 = now_ms();
	g.floor->bss->seq_vmas = 0;
	link = bpf_program__attach_iter(mode == 0x100 ? g.floor->progs.floor_seq : g.floor->progs.floor_walk,
					NULL);
	if (!link)
		die("floor: attach iter: %s", strerror(errno));
	fd = bpf_iter_create(bpf_link__fd(link));
	if (fd < 0)
		die("floor: bpf_iter_create: %s", strerror(errno));
	/* EAGAIN: the kernel stops a read() after 1,000,000 objects that
	 * printed nothing (MAX_ITER_OBJECTS; VMAs for iter/task_vma): go on */
	while ((n = read(fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EAGAIN))
		;
	if (n < 0)
		err = -errno;
	close(fd);
	bpf_link__destroy(link);
	s->wall_ms = now_ms() - t0;
	getrusage(RUSAGE_SELF, &r1);
	s->user_ms = tv_ms(r1.ru_utime) - tv_ms(r0.ru_utime);
	s->sys_ms = tv_ms(r1.ru_stime) - tv_ms(r0.ru_stime);
	s->maxrss_kib = -1;
	s->vmas = (long)(mode == 0x100 ? g.floor->bss->seq_vmas : g.floor->bss->total_vmas);
	s->status = err;
	if (err)
		fprintf(stderr, "maps_bench: floor: read: %s\n", strerror(-err));
	if (c) {
		if (g.floor->bss->nlost)
			fprintf(stderr, "maps_bench: floor: %u processes beyond the counter array\n",
				g.floor->bss->nlost);
		for (uint32_t i = 0; i < g.floor->bss->nproc; i++)
			if (!g.floor_procs[i].err)
				counts_add(c, g.floor_procs[i].tgid, (long)g.floor_procs[i].nvma);
	}
	return err;
}

/* ---- child processes: (2), (6), aux ----------------------------------- */

/* Run argv with stdout to out_path (or /dev/null) and stderr to err_path
 * (or /dev/null); time it from spawn to reap. */
static void spawn_local(char *const argv[], const char *out_path, const char *err_path, struct sample *s)
{
	posix_spawn_file_actions_t fa;
	struct rusage ru;
	pid_t pid;
	double t0;
	int st = 0, err;

	memset(s, 0, sizeof(*s));
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, out_path ? out_path : "/dev/null",
					 O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_addopen(&fa, 2, err_path ? err_path : "/dev/null",
					 O_WRONLY | O_CREAT | O_TRUNC, 0600);
	t0 = now_ms();
	err = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (err) {
		s->status = 127;
		return;
	}
	while (wait4(pid, &st, 0, &ru) < 0) {
		if (errno != EINTR) {
			s->status = 126;
			return;
		}
	}
	s->wall_ms = now_ms() - t0;
	s->user_ms = tv_ms(ru.ru_utime);
	s->sys_ms = tv_ms(ru.ru_stime);
	s->maxrss_kib = ru.ru_maxrss;
	s->vmas = -1;
	s->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/*
 * Child processes are started by a small spawner process forked before this
 * one grows.  Why: a child's ru_maxrss includes the RSS of the address
 * space it had before exec(), which for posix_spawn()/fork() from this
 * process is this process's own peak (hundreds of MiB with a million VMAs
 * kept in memory).  From the spawner, that floor is the spawner's few MiB.
 * Requests: u32 length + "out\0err\0argv0\0argv1\0...", an empty string for
 * "/dev/null"; answers: one struct sample.
 */
static struct {
	pid_t pid;
	int req, resp;
} spawner = { .pid = -1, .req = -1, .resp = -1 };

static int read_full(int fd, void *buf, size_t len)
{
	for (size_t done = 0; done < len;) {
		ssize_t n = read(fd, (char *)buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

static int write_full(int fd, const void *buf, size_t len)
{
	for (size_t done = 0; done < len;) {
		ssize_t n = write(fd, (const char *)buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

static void __attribute__((noreturn)) spawner_loop(int req, int resp)
{
	for (;;) {
		uint32_t len;
		char *buf, *p, *out, *err, **argv;
		size_t argc = 0;
		struct sample s;

		if (read_full(req, &len, sizeof(len)))
			_exit(0);
		buf = malloc((size_t)len + 1);
		argv = calloc((size_t)len + 1, sizeof(*argv));
		if (!buf || !argv || read_full(req, buf, len))
			_exit(1);
		buf[len] = 0;
		out = buf;
		err = out + strlen(out) + 1;
		for (p = err + strlen(err) + 1; p < buf + len; p += strlen(p) + 1)
			argv[argc++] = p;
		argv[argc] = NULL;
		spawn_local(argv, *out ? out : NULL, *err ? err : NULL, &s);
		free(buf);
		free(argv);
		if (write_full(resp, &s, sizeof(s)))
			_exit(1);
	}
}

static void spawner_start(void)
{
	int rq[2], rs[2];

	if (pipe2(rq, O_CLOEXEC) || pipe2(rs, O_CLOEXEC))
		die("pipe: %s", strerror(errno));
	spawner.pid = fork();
	if (spawner.pid < 0)
		die("fork: %s", strerror(errno));
	if (spawner.pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		close(rq[1]);
		close(rs[0]);
		spawner_loop(rq[0], rs[1]);
	}
	close(rq[0]);
	close(rs[1]);
	spawner.req = rq[1];
	spawner.resp = rs[0];
}

static void spawner_stop(void)
{
	if (spawner.pid <= 0)
		return;
	close(spawner.req);
	close(spawner.resp);
	while (waitpid(spawner.pid, NULL, 0) < 0 && errno == EINTR)
		;
	spawner.pid = -1;
}

static int run_child(char *const argv[], const char *out_path, const char *err_path, struct sample *s)
{
	size_t len = strlen(out_path ? out_path : "") + strlen(err_path ? err_path : "") + 2, off = 0;
	uint32_t len32;
	char *buf;

	for (char *const *a = argv; *a; a++)
		len += strlen(*a) + 1;
	buf = malloc(len);
	if (!buf)
		die("out of memory");
#define PUT(STR)                                                                                   \
	do {                                                                                       \
		const char *__s = (STR) ? (STR) : "";                                              \
		memcpy(buf + off, __s, strlen(__s) + 1);                                           \
		off += strlen(__s) + 1;                                                            \
	} while (0)
	PUT(out_path);
	PUT(err_path);
	for (char *const *a = argv; *a; a++)
		PUT(*a);
#undef PUT
	len32 = (uint32_t)off;
	if (write_full(spawner.req, &len32, sizeof(len32)) || write_full(spawner.req, buf, off) ||
	    read_full(spawner.resp, s, sizeof(*s)))
		die("the spawner process is gone");
	free(buf);
	if (s->status == 127)
		die("cannot start %s", argv[0]);
	return s->status;
}

/* `taskvma maps --all` output: "==> PID (COMM) <==" blocks of maps lines. */
static void parse_cli(const char *path, struct counts *c)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	pid_t pid = 0;
	long cnt = 0;

	if (!f)
		die("%s: %s", path, strerror(errno));
	while ((n = getline(&line, &cap, f)) > 0) {
		if (!strncmp(line, "==> ", 4)) {
			if (pid)
				counts_add(c, pid, cnt);
			pid = (pid_t)atoi(line + 4);
			cnt = 0;
		} else if (line[0] != '\n' && strncmp(line, "ffffffffff600000-", 17)) {
			cnt++;
		}
	}
	if (pid)
		counts_add(c, pid, cnt);
	free(line);
	fclose(f);
}

/* pmap output: "PID:   CMD" headers, then lines starting with 16 hex
 * digits, one per mapping ([vsyscall] = ffffffffff600000 left out). */
static void parse_pmap(const char *path, struct counts *c)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	pid_t pid = 0;
	long cnt = 0;

	if (!f)
		die("%s: %s", path, strerror(errno));
	while ((n = getline(&line, &cap, f)) > 0) {
		char *end;
		long v = strtol(line, &end, 10);
		int hex = 0;

		if (isdigit((unsigned char)line[0]) && *end == ':' && v > 0) {
			if (pid)
				counts_add(c, pid, cnt);
			pid = (pid_t)v;
			cnt = 0;
			continue;
		}
		while (hex < 16 && isxdigit((unsigned char)line[hex]))
			hex++;
		if (hex == 16 && line[16] == ' ' && strncmp(line, "ffffffffff600000", 16))
			cnt++;
	}
	if (pid)
		counts_add(c, pid, cnt);
	free(line);
	fclose(f);
}

/* procps-ng's pmap (4.0.2 here) refuses more than 255 PIDs in one run
 * ("pmap: library failed pids statistics", nothing printed): every PID is
 * passed in as few runs as possible, as `xargs -n 255 pmap` would. */
#define PMAP_MAX_PIDS 255

/* The argument vectors, NULL-terminated, of the pmap runs over every PID. */
static char ***pmap_argvs(bool x)
{
	size_t n, nruns, a = 0;
	pid_t *pids = list_pids(&n);
	char ***runs;

	nruns = (n + PMAP_MAX_PIDS - 1) / PMAP_MAX_PIDS;
	runs = calloc(nruns + 1, sizeof(*runs));
	if (!runs)
		die("out of memory");
	for (size_t r = 0; r < nruns; r++) {
		size_t k = 0;

		runs[r] = calloc(PMAP_MAX_PIDS + 3, sizeof(char *));
		if (!runs[r])
			die("out of memory");
		runs[r][k++] = strdup("/usr/bin/pmap");
		if (x)
			runs[r][k++] = strdup("-x");
		for (size_t i = 0; a < n && i < PMAP_MAX_PIDS; a++) {
			char buf[16];

			if (pids[a] == g.self)	/* ourselves: changing under pmap */
				continue;
			snprintf(buf, sizeof(buf), "%d", (int)pids[a]);
			runs[r][k++] = strdup(buf);
			i++;
		}
	}
	free(pids);
	return runs;
}

static void free_argvs(char ***runs)
{
	for (char ***r = runs; *r; r++) {
		for (char **p = *r; *p; p++)
			free(*p);
		free(*r);
	}
	free(runs);
}

/* Every pmap run, one after the other, as one sample; output appended. */
static void run_pmap(bool x, const char *out, const char *err, struct sample *s)
{
	char ***runs = pmap_argvs(x);
	char tmp[4300];

	memset(s, 0, sizeof(*s));
	s->vmas = -1;
	for (char ***r = runs; *r; r++) {
		struct sample one;

		snprintf(tmp, sizeof(tmp), "%s.part", out ? out : "");
		run_child(*r, out ? tmp : NULL, err, &one);
		s->wall_ms += one.wall_ms;
		s->user_ms += one.user_ms;
		s->sys_ms += one.sys_ms;
		if (one.maxrss_kib > s->maxrss_kib)
			s->maxrss_kib = one.maxrss_kib;
		/* pmap exits non-zero when a PID has vanished or is a kernel
		 * thread: not a failure of the method */
		s->status = 0;
		if (out) {
			FILE *in = fopen(tmp, "r"), *o = fopen(out, r == runs ? "w" : "a");
			char buf[65536];
			size_t k;

			if (!in || !o)
				die("%s: %s", out, strerror(errno));
			while ((k = fread(buf, 1, sizeof(buf), in)) > 0)
				fwrite(buf, 1, k, o);
			fclose(in);
			fclose(o);
			unlink(tmp);
		}
	}
	free_argvs(runs);
}

/* ---- one method, one rep ---------------------------------------------- */

static void run_method(struct workload *w, enum method_id m, struct sample *s, bool verify)
{
	struct counts *c = verify ? &w->counts[m] : NULL;
	char out[4200], err[4200];

	snprintf(out, sizeof(out), "%s/%s.%s.out", g.tmpdir, w->name, methods[m].key);
	snprintf(err, sizeof(err), "%s/%s.%s.err", g.tmpdir, w->name, methods[m].key);
	memset(s, 0, sizeof(*s));
	switch (m) {
	case M_LIB:
		run_lib(g.tv_bpf, false, s, c, NULL);
		break;
	case M_LIB_EXEC:
		/* what it keeps are exec VMAs only: checked against (4)'s exec VMAs */
		run_lib(g.tv_bpf, true, s, c, NULL);
		break;
	case M_PROCFS:
		run_lib(g.tv_procfs, false, s, c, verify ? &w->exec_ref : NULL);
		break;
	case M_PROCMAP:
		run_lib(g.tv_procmap, false, s, c, NULL);
		break;
	case M_RAW:
		run_raw(s, c);
		break;
	case M_FLOOR:
		run_floor(s, c, 0);
		break;
	case M_FLOOR_REC:
		run_floor(s, NULL, 1);
		break;
	case M_FLOOR_DPATH:
	case M_FLOOR_DCACHE:
		if (!g.floor_dpath)
			die("%s: this kernel's verifier refuses bpf_d_path() on vm_file", methods[m].key);
		run_floor(s, NULL, m == M_FLOOR_DPATH ? 1 | 2 : 1 | 4);
		break;
	case M_FLOOR_SEQ:
		run_floor(s, NULL, 0x100);
		break;
	case M_CLI: {
		char *argv[] = { (char *)g.taskvma, "maps", "--all", NULL };

		run_child(argv, verify ? out : NULL, err, s);
		if (verify) {
			parse_cli(out, c);
			unlink(out);
		}
		break;
	}
	case M_PMAP:
	case M_PMAP_X:
		run_pmap(m == M_PMAP_X, verify ? out : NULL, err, s);
		if (verify) {
			parse_pmap(out, c);
			unlink(out);
		}
		break;
	case M_OPEN: {
		TASKVMA_OPTS(taskvma_opts, o, .backend = TASKVMA_BACKEND_BPF);
		struct taskvma *tv = NULL;
		struct rusage r0, r1;
		double t0;

		getrusage(RUSAGE_SELF, &r0);
		t0 = now_ms();
		s->status = taskvma_open(&tv, &o);
		taskvma_close(tv);
		s->wall_ms = now_ms() - t0;
		getrusage(RUSAGE_SELF, &r1);
		s->user_ms = tv_ms(r1.ru_utime) - tv_ms(r0.ru_utime);
		s->sys_ms = tv_ms(r1.ru_stime) - tv_ms(r0.ru_stime);
		s->maxrss_kib = -1;
		s->vmas = -1;
		break;
	}
	case M_CLI_ONE: {
		char pid[16];
		char *argv[] = { (char *)g.taskvma, "maps", pid, NULL };

		snprintf(pid, sizeof(pid), "%d", (int)w->parent);
		run_child(argv, NULL, err, s);
		break;
	}
	default:
		break;
	}
	if (s->status && !verify && !w->nonzero[m] && m != M_PMAP && m != M_PMAP_X) {
		/* say it once per workload and method, with the first line of
		 * what it printed on stderr (child processes) */
		char line[300] = "";
		FILE *f = fopen(err, "r");

		if (f) {
			if (!fgets(line, sizeof(line), f))
				line[0] = 0;
			line[strcspn(line, "\n")] = 0;
			fclose(f);
		}
		fprintf(stderr, "maps_bench: %s: %s exited/failed with status %d%s%s\n", w->name,
			methods[m].key, s->status, line[0] ? ": " : "", line);
	}
}

static bool method_enabled(enum method_id m)
{
	if ((m == M_PMAP || m == M_PMAP_X) && !g.have_pmap)
		return false;
	if (m == M_PMAP_X && !g.pmap_x)
		return false;
	if ((m == M_FLOOR_DPATH || m == M_FLOOR_DCACHE) && !g.floor_dpath)
		return false;
	return !g.only || (g.only & (1u << m));
}

/* ---- statistics -------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double quantile(const double *v, int n, double q)
{
	double pos = q * (n - 1);
	int i = (int)pos;

	if (i + 1 >= n)
		return v[n - 1];
	return v[i] + (pos - i) * (v[i + 1] - v[i]);
}

static struct stats stats_of(const struct sample *s, int n, double (*get)(const struct sample *))
{
	struct stats st = {};
	double *v;

	if (n <= 0)
		return st;
	v = calloc((size_t)n, sizeof(*v));
	if (!v)
		die("out of memory");
	for (int i = 0; i < n; i++)
		v[i] = get(&s[i]);
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	st.min = v[0];
	st.max = v[n - 1];
	st.median = quantile(v, n, 0.5);
	st.q1 = quantile(v, n, 0.25);
	st.q3 = quantile(v, n, 0.75);
	free(v);
	return st;
}

static double get_wall(const struct sample *s) { return s->wall_ms; }
static double get_user(const struct sample *s) { return s->user_ms; }
static double get_sys(const struct sample *s) { return s->sys_ms; }
static double get_cpu(const struct sample *s) { return s->user_ms + s->sys_ms; }
static double get_rss(const struct sample *s) { return (double)s->maxrss_kib; }

static double median_ms(const struct workload *w, enum method_id m)
{
	if (!w->nsamples[m])
		return NAN;
	return stats_of(w->samples[m], w->nsamples[m], get_wall).median;
}

/* CPU time (user + sys): what a method costs whatever else runs */
static double median_cpu_ms(const struct workload *w, enum method_id m)
{
	if (!w->nsamples[m])
		return NAN;
	return stats_of(w->samples[m], w->nsamples[m], get_cpu).median;
}

/* ---- workload ---------------------------------------------------------- */

static void start_workload(struct workload *w)
{
	char dir[4200], nproc[32], nvma[32], pidfile[4200];
	char *argv[] = { (char *)g.workload_bin, "-n", nproc, "-m", nvma, "-d", dir, NULL };
	posix_spawn_file_actions_t fa;
	int pfd[2], err;
	FILE *f;
	char *line = NULL;
	size_t cap = 0;
	double t0 = now_ms();

	snprintf(dir, sizeof(dir), "%s/%s", g.tmpdir, w->name);
	if (mkdir(dir, 0700) && errno != EEXIST)
		die("mkdir %s: %s", dir, strerror(errno));
	snprintf(nproc, sizeof(nproc), "%ld", w->nproc);
	snprintf(nvma, sizeof(nvma), "%ld", w->nvma);
	if (pipe2(pfd, O_CLOEXEC))
		die("pipe: %s", strerror(errno));
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
	err = posix_spawn(&w->parent, g.workload_bin, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[1]);
	if (err)
		die("spawn %s: %s", g.workload_bin, strerror(err));
	workload_pid = w->parent;
	snprintf(pidfile, sizeof(pidfile), "%s/workload.pid", g.tmpdir);
	f = fopen(pidfile, "w");
	if (f) {
		fprintf(f, "%d\n", (int)w->parent);
		fclose(f);
	}
	f = fdopen(pfd[0], "r");
	if (!f || getline(&line, &cap, f) <= 0 || strncmp(line, "ready ", 6))
		die("workload %s did not start (see its message above)", w->name);
	fclose(f);
	w->pids = calloc((size_t)w->nproc + 1, sizeof(*w->pids));
	if (!w->pids)
		die("out of memory");
	for (char *p = line + 6, *end; *p && *p != '\n'; p = end) {
		long v = strtol(p, &end, 10);

		if (end == p)
			break;
		if (w->npids <= (size_t)w->nproc)
			w->pids[w->npids++] = (pid_t)v;
	}
	free(line);
	if (w->npids != (size_t)w->nproc + 1)
		die("workload %s: expected %ld pids, got %zu", w->name, w->nproc + 1, w->npids);
	printf("workload %s: %ld processes x %ld VMAs ready in %.1f s (parent pid %d)\n", w->name,
	       w->nproc, w->nvma, (now_ms() - t0) / 1e3, (int)w->parent);
	fflush(stdout);
}

static void stop_workload(struct workload *w)
{
	char pidfile[4200], dir[4200];
	double t0 = now_ms();

	if (w->parent <= 0)
		return;
	kill(w->parent, SIGTERM);
	while (waitpid(w->parent, NULL, 0) < 0 && errno == EINTR)
		;
	workload_pid = 0;
	w->parent = 0;
	snprintf(pidfile, sizeof(pidfile), "%s/workload.pid", g.tmpdir);
	unlink(pidfile);
	snprintf(dir, sizeof(dir), "%s/%s", g.tmpdir, w->name);
	rmdir(dir);
	printf("workload %s: torn down in %.1f s\n", w->name, (now_ms() - t0) / 1e3);
}

/* ---- the "same VMAs" check -------------------------------------------- */

static bool is_workload_pid(const struct workload *w, pid_t pid)
{
	for (size_t i = 0; i < w->npids; i++)
		if (w->pids[i] == pid)
			return true;
	return false;
}

static long workload_total(const struct workload *w, const struct counts *c)
{
	long t = 0;

	for (size_t i = 0; i < w->npids; i++) {
		long n = counts_get(c, w->pids[i]);

		if (n > 0)
			t += n;
	}
	return t;
}

static void check_vmas(struct workload *w)
{
	const struct counts *ref = &w->counts[M_LIB];
	bool ok = true;
	int nm = 0;

	/* the workload really has its VMAs */
	for (size_t i = 1; i < w->npids; i++) {
		long n = counts_get(ref, w->pids[i]);

		if (n < w->nvma) {
			printf("CHECK %s workload-size FAIL: pid %d has %ld VMAs, want >= %ld\n", w->name,
			       (int)w->pids[i], n, w->nvma);
			ok = false;
			break;
		}
	}
	w->machine_vmas = counts_total(ref);
	w->machine_procs = (long)ref->n;
	printf("\nVMA check (%s): the workload's %zu processes must match exactly; others are reported\n",
	       w->name, w->npids);
	printf("  %-18s %12s %12s %10s  %s\n", "method", "workload", "machine", "others|d|", "result");
	for (int m = 0; m < M_COUNT; m++) {
		const struct counts *c = &w->counts[m];
		const struct counts *want = m == M_LIB_EXEC ? &w->exec_ref : ref;
		long mismatch = 0, others = 0;
		pid_t bad = 0;
		long badn = 0, badw = 0;

		if (methods[m].aux || !method_enabled((enum method_id)m))
			continue;
		for (size_t i = 0; i < w->npids; i++) {
			long a = counts_get(c, w->pids[i]), b = counts_get(want, w->pids[i]);

			if (a != b) {
				if (!mismatch) {
					bad = w->pids[i];
					badn = a;
					badw = b;
				}
				mismatch++;
			}
		}
		/* processes other than ours: may change between passes */
		for (size_t i = 0; i < c->n; i++) {
			long b;

			if (is_workload_pid(w, c->v[i].pid) || c->v[i].pid == g.self)
				continue;
			b = counts_get(want, c->v[i].pid);
			others += labs(c->v[i].n - (b < 0 ? 0 : b));
		}
		for (size_t i = 0; i < want->n; i++)
			if (!is_workload_pid(w, want->v[i].pid) && want->v[i].pid != g.self &&
			    counts_get(c, want->v[i].pid) < 0)
				others += want->v[i].n;
		w->check_method_ok[m] = !mismatch;
		if (mismatch) {
			ok = false;
			snprintf(w->check_msg[m], sizeof(w->check_msg[m]),
				 "%ld workload processes differ, e.g. pid %d: %ld VMAs, reference %ld",
				 mismatch, (int)bad, badn, badw);
		} else {
			snprintf(w->check_msg[m], sizeof(w->check_msg[m]), "same");
		}
		printf("  %-18s %12ld %12ld %10ld  %s\n", methods[m].key, workload_total(w, c),
		       counts_total(c), others, w->check_msg[m]);
	}
	w->check_ok = ok;
	if (w->machine_vmas - workload_total(w, ref) > workload_total(w, ref))
		printf("WARNING %s: the workload does not dominate: %ld VMAs in other processes, %ld in the workload\n",
		       w->name, w->machine_vmas - workload_total(w, ref), workload_total(w, ref));
	for (int m = 0; m < M_COUNT; m++)
		nm += !methods[m].aux && method_enabled((enum method_id)m);
	printf("CHECK %s same-vmas %s (%d methods, %zu workload processes, %ld workload VMAs, %ld machine VMAs)\n\n",
	       w->name, ok ? "PASS" : "FAIL", nm, w->npids, workload_total(w, ref), w->machine_vmas);
	fflush(stdout);
}

/* ---- targets ----------------------------------------------------------- */

struct target {
	const char *name;
	const char *desc;
	double measured, limit;
	bool at_most;	/* pass when measured <= limit (else >=) */
	bool valid;
	double cpu;	/* the same ratio on CPU time (information) */
};

static int targets_of(const struct workload *w, struct target *t)
{
	int n = 0;

#define RATIO(NAME, DESC, NUM, DEN, LIMIT, ATMOST)                                                 \
	do {                                                                                       \
		t[n] = (struct target){ NAME, DESC, median_ms(w, NUM) / median_ms(w, DEN), LIMIT,  \
					ATMOST, method_enabled(NUM) && method_enabled(DEN),        \
					median_cpu_ms(w, NUM) / median_cpu_ms(w, DEN) };           \
		n++;                                                                               \
	} while (0)
	RATIO("lib_vs_procfs", "(1) >= 2.5x faster than (4) procfs parse", M_PROCFS, M_LIB, 2.5, false);
	RATIO("lib_vs_procmap", "(1) >= 6x faster than (5) PROCMAP_QUERY", M_PROCMAP, M_LIB, 6, false);
	RATIO("lib_vs_pmap", "(1) >= 10x faster than (6) pmap", M_PMAP, M_LIB, 10, false);
	RATIO("cli_vs_raw", "(2) CLI >= 1.5x faster than (3) raw /proc read", M_RAW, M_CLI, 1.5, false);
	RATIO("lib_vs_floor", "(1) within 1.3x of the floor (7)", M_LIB, M_FLOOR, 1.3, true);
	RATIO("filter_vs_floor", "(1f) exec-only filter no dearer than the walk (7), 10% slack",
	      M_LIB_EXEC, M_FLOOR, 1.1, true);
#undef RATIO
	if (w->nvma >= 1000000) {
		struct stats rss = stats_of(w->samples[M_CLI], w->nsamples[M_CLI], get_rss);

		t[n++] = (struct target){ "cli_peak_rss", "(2) CLI peak RSS <= 64 MiB (MiB, max over reps)",
					  rss.max / 1024.0, 64, true, w->nsamples[M_CLI] > 0, NAN };
	}
	return n;
}

static bool target_pass(const struct target *t)
{
	return t->at_most ? t->measured <= t->limit : t->measured >= t->limit;
}

/* ---- reporting --------------------------------------------------------- */

static void out_both(FILE *md, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out_both(FILE *md, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	if (md) {
		va_start(ap, fmt);
		vfprintf(md, fmt, ap);
		va_end(ap);
	}
}

static void report(const struct workload *w)
{
	double lib = median_ms(w, M_LIB);
	struct target t[16];
	char cpubuf[64];
	int nt;

	out_both(g.md, "\n#### %s: %ld processes x %ld VMAs (machine: %ld processes, %ld VMAs), %d reps\n\n",
		 w->name, w->nproc, w->nvma, w->machine_procs, w->machine_vmas, w->reps);
	out_both(g.md, "| # | method | median ms | min-max ms | IQR ms | ns/VMA | CPU ms | user ms | sys ms | x (1) | x (1) CPU | peak RSS MiB |\n");
	out_both(g.md, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
	for (int m = 0; m < M_COUNT; m++) {
		struct stats wall, user, sys, rss, cpu;
		char rssbuf[32] = "-", nsbuf[32] = "-";

		if (!w->nsamples[m])
			continue;
		cpu = stats_of(w->samples[m], w->nsamples[m], get_cpu);
		wall = stats_of(w->samples[m], w->nsamples[m], get_wall);
		user = stats_of(w->samples[m], w->nsamples[m], get_user);
		sys = stats_of(w->samples[m], w->nsamples[m], get_sys);
		rss = stats_of(w->samples[m], w->nsamples[m], get_rss);
		if (rss.max > 0)
			snprintf(rssbuf, sizeof(rssbuf), "%.1f", rss.max / 1024.0);
		if ((!methods[m].aux || m >= M_FLOOR_REC) && w->machine_vmas > 0)
			snprintf(nsbuf, sizeof(nsbuf), "%.0f", wall.median * 1e6 / (double)w->machine_vmas);
		out_both(g.md, "| %s | %s | %.2f | %.2f-%.2f | %.2f | %s | %.1f | %.1f | %.1f | %.2f | %.2f | %s |\n",
			 methods[m].num, methods[m].label, wall.median, wall.min, wall.max, wall.q3 - wall.q1,
			 nsbuf, cpu.median, user.median, sys.median, wall.median / lib,
			 cpu.median / median_cpu_ms(w, M_LIB), rssbuf);
	}
	out_both(g.md, "\nLoad average before / after the timed reps: %s / %s.\n", w->load_before, w->load_after);
	for (int m = 0; m < M_COUNT; m++)
		if (w->nonzero[m] && m != M_PMAP && m != M_PMAP_X)
			out_both(g.md, "Note: %s failed or exited non-zero in %d of %d reps.\n", methods[m].key,
				 w->nonzero[m], w->nsamples[m]);
	out_both(g.md, "ns/VMA: median / all VMAs on the machine (gate lines not counted); x (1): median / median of (1).\n"
		 "CPU = user + sys (medians of each rep's sum): of the child (2, 6, aux cli_one), else of this\n"
		 "process during the pass; x (1) CPU: the same ratio on CPU time.\n\n");
	if (w->nsamples[M_CLI] && w->nsamples[M_CLI_ONE] && w->nsamples[M_RAW]) {
		double rest = median_ms(w, M_CLI) - median_ms(w, M_CLI_ONE);

		out_both(g.md, "- info %s: (2) without its start-up (minus aux cli_one, %.1f ms) = %.1f ms: "
			 "%.2fx faster than (3)\n", w->name, median_ms(w, M_CLI_ONE), rest,
			 median_ms(w, M_RAW) / rest);
	}
	if (w->nsamples[M_OPEN])
		out_both(g.md, "- info %s: taskvma_open(bpf) (BPF load + set-up) %.1f ms median\n", w->name,
			 median_ms(w, M_OPEN));
	nt = targets_of(w, t);
	for (int i = 0; i < nt; i++) {
		if (!t[i].valid)
			out_both(g.md, "- TARGET %s %s: not measured (method disabled)\n", w->name, t[i].desc);
		else
			out_both(g.md, "- TARGET %s %s: %.2f%s -> **%s**%s\n", w->name, t[i].desc, t[i].measured,
				 strstr(t[i].name, "rss") ? " MiB" : "x", target_pass(&t[i]) ? "PASS" : "MISS",
				 isnan(t[i].cpu) ? "" : (snprintf(cpubuf, sizeof(cpubuf), " (on CPU time: %.2fx, %s)",
								   t[i].cpu, (t[i].at_most ? t[i].cpu <= t[i].limit
										: t[i].cpu >= t[i].limit) ? "pass" : "miss"),
							  cpubuf));
	}
	fflush(stdout);
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void json_num(FILE *f, double v)
{
	if (isnan(v) || isinf(v))
		fputs("null", f);
	else
		fprintf(f, "%.4f", v);
}

static void read_first_line(const char *cmd_or_path, bool is_cmd, const char *prefix, char *out, size_t len)
{
	FILE *f = is_cmd ? popen(cmd_or_path, "r") : fopen(cmd_or_path, "r");
	char buf[512];

	snprintf(out, len, "unknown");
	if (!f)
		return;
	while (fgets(buf, sizeof(buf), f)) {
		if (!prefix || !strncmp(buf, prefix, strlen(prefix))) {
			char *p = prefix ? strchr(buf, ':') : buf;

			p = p ? (prefix ? p + 1 : p) : buf;
			while (*p == ' ' || *p == '\t')
				p++;
			p[strcspn(p, "\n")] = 0;
			snprintf(out, len, "%.200s", p);
			break;
		}
	}
	if (is_cmd)
		pclose(f);
	else
		fclose(f);
}

static void write_json(void)
{
	FILE *f = fopen(g.json_path, "w");
	struct utsname u;
	char cpu[256], pmapv[256], date[64], mem[64];
	time_t now = time(NULL);

	if (!f)
		die("%s: %s", g.json_path, strerror(errno));
	uname(&u);
	read_first_line("/proc/cpuinfo", false, "model name", cpu, sizeof(cpu));
	read_first_line("/proc/meminfo", false, "MemTotal", mem, sizeof(mem));
	if (g.have_pmap)
		read_first_line("/usr/bin/pmap -V 2>&1", true, NULL, pmapv, sizeof(pmapv));
	else
		snprintf(pmapv, sizeof(pmapv), "not installed");
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));

	fprintf(f, "{\n  \"bench\": \"maps\",\n  \"schema\": 1,\n  \"date\": ");
	json_str(f, date);
	fprintf(f, ",\n  \"command\": ");
	json_str(f, g.command ? g.command : "bench/run.sh");
	fprintf(f, ",\n  \"machine\": {\"kernel\": ");
	json_str(f, u.release);
	fprintf(f, ", \"arch\": ");
	json_str(f, u.machine);
	fprintf(f, ", \"cpu\": ");
	json_str(f, cpu);
	fprintf(f, ", \"cores\": %ld, \"memory\": ", sysconf(_SC_NPROCESSORS_ONLN));
	json_str(f, mem);
	fprintf(f, ", \"pmap\": ");
	json_str(f, pmapv);
	fprintf(f, "},\n  \"meta\": {");
	for (int i = 0; i < g.nmeta; i++) {
		char key[128];
		const char *eq = strchr(g.meta[i], '=');

		snprintf(key, sizeof(key), "%.*s", eq ? (int)(eq - g.meta[i]) : 0, g.meta[i]);
		fprintf(f, "%s", i ? ", " : "");
		json_str(f, key);
		fprintf(f, ": ");
		json_str(f, eq ? eq + 1 : "");
	}
	fprintf(f, "},\n  \"workloads\": [");
	for (int wi = 0; wi < g.nwl; wi++) {
		const struct workload *w = &g.wl[wi];
		struct target t[16];
		int nt = targets_of(w, t);
		bool first = true;

		fprintf(f, "%s\n    {\"name\": ", wi ? "," : "");
		json_str(f, w->name);
		fprintf(f, ", \"processes\": %ld, \"vmas_per_process\": %ld, \"reps\": %d,\n", w->nproc,
			w->nvma, w->reps);
		fprintf(f, "     \"machine_processes\": %ld, \"machine_vmas\": %ld, \"workload_vmas\": %ld,\n",
			w->machine_procs, w->machine_vmas, workload_total(w, &w->counts[M_LIB]));
		fprintf(f, "     \"loadavg_before\": ");
		json_str(f, w->load_before);
		fprintf(f, ", \"loadavg_after\": ");
		json_str(f, w->load_after);
		fprintf(f, ",\n     \"vma_check\": {\"ok\": %s, \"methods\": {", w->check_ok ? "true" : "false");
		for (int m = 0; m < M_COUNT; m++) {
			if (methods[m].aux || !method_enabled((enum method_id)m))
				continue;
			fprintf(f, "%s\n       ", first ? "" : ",");
			first = false;
			json_str(f, methods[m].key);
			fprintf(f, ": {\"workload_vmas\": %ld, \"machine_vmas\": %ld, \"result\": ",
				workload_total(w, &w->counts[m]), counts_total(&w->counts[m]));
			json_str(f, w->check_msg[m]);
			fprintf(f, "}");
		}
		fprintf(f, "}},\n     \"methods\": {");
		first = true;
		for (int m = 0; m < M_COUNT; m++) {
			struct stats wall, user, sys, rss;

			if (!w->nsamples[m])
				continue;
			wall = stats_of(w->samples[m], w->nsamples[m], get_wall);
			user = stats_of(w->samples[m], w->nsamples[m], get_user);
			sys = stats_of(w->samples[m], w->nsamples[m], get_sys);
			rss = stats_of(w->samples[m], w->nsamples[m], get_rss);
			fprintf(f, "%s\n       ", first ? "" : ",");
			first = false;
			json_str(f, methods[m].key);
			fprintf(f, ": {\"num\": ");
			json_str(f, methods[m].num);
			fprintf(f, ", \"label\": ");
			json_str(f, methods[m].label);
			fprintf(f, ", \"median_ms\": ");
			json_num(f, wall.median);
			fprintf(f, ", \"min_ms\": ");
			json_num(f, wall.min);
			fprintf(f, ", \"max_ms\": ");
			json_num(f, wall.max);
			fprintf(f, ", \"q1_ms\": ");
			json_num(f, wall.q1);
			fprintf(f, ", \"q3_ms\": ");
			json_num(f, wall.q3);
			fprintf(f, ", \"ratio_vs_lib\": ");
			json_num(f, wall.median / median_ms(w, M_LIB));
			fprintf(f, ", \"ns_per_vma\": ");
			json_num(f, (methods[m].aux && m < M_FLOOR_REC) || !w->machine_vmas ? NAN
								       : wall.median * 1e6 / (double)w->machine_vmas);
			fprintf(f, ", \"cpu_ms\": ");
			json_num(f, stats_of(w->samples[m], w->nsamples[m], get_cpu).median);
			fprintf(f, ", \"ratio_vs_lib_cpu\": ");
			json_num(f, stats_of(w->samples[m], w->nsamples[m], get_cpu).median / median_cpu_ms(w, M_LIB));
			fprintf(f, ", \"user_ms\": ");
			json_num(f, user.median);
			fprintf(f, ", \"sys_ms\": ");
			json_num(f, sys.median);
			fprintf(f, ", \"peak_rss_kib\": ");
			json_num(f, rss.max > 0 ? rss.max : NAN);
			fprintf(f, ", \"vmas\": %ld, \"failed_reps\": %d", w->samples[m][0].vmas,
				m == M_PMAP || m == M_PMAP_X ? 0 : w->nonzero[m]);
			fprintf(f, ", \"samples_ms\": [");
			for (int i = 0; i < w->nsamples[m]; i++) {
				fprintf(f, "%s", i ? ", " : "");
				json_num(f, w->samples[m][i].wall_ms);
			}
			fprintf(f, "]}");
		}
		fprintf(f, "},\n     \"targets\": [");
		for (int i = 0; i < nt; i++) {
			fprintf(f, "%s\n       {\"name\": ", i ? "," : "");
			json_str(f, t[i].name);
			fprintf(f, ", \"desc\": ");
			json_str(f, t[i].desc);
			fprintf(f, ", \"measured\": ");
			json_num(f, t[i].valid ? t[i].measured : NAN);
			fprintf(f, ", \"limit\": ");
			json_num(f, t[i].limit);
			fprintf(f, ", \"measured_cpu\": ");
			json_num(f, t[i].valid ? t[i].cpu : NAN);
			fprintf(f, ", \"result\": \"%s\"}",
				!t[i].valid ? "not measured" : target_pass(&t[i]) ? "PASS" : "MISS");
		}
		fprintf(f, "]}");
	}
	fprintf(f, "\n  ]\n}\n");
	if (fclose(f))
		die("%s: %s", g.json_path, strerror(errno));
}

/* ---- main -------------------------------------------------------------- */

static void usage(void)
{
	fprintf(stderr,
		"usage: maps_bench --taskvma PATH --workload-bin PATH --tmpdir DIR\n"
		"                  --workload NAME:NPROC:NVMA[:REPS]... [--reps N] [--json FILE]\n"
		"                  [--md FILE] [--no-pmap-x] [--only KEY,KEY...] [--command STR]\n"
		"                  [--meta KEY=VALUE]...\n"
		"methods (--only): taskvma_lib taskvma_lib_exec taskvma_cli raw_read procfs_parse\n"
		"                  procmap_query pmap pmap_x floor bpf_open cli_one floor_rec\n"
		"                  floor_dpath floor_dcache floor_task_vma\n");
	exit(2);
}

static void open_handles(void)
{
	TASKVMA_OPTS(taskvma_opts, ob, .backend = TASKVMA_BACKEND_BPF);
	TASKVMA_OPTS(taskvma_opts, of, .backend = TASKVMA_BACKEND_PROCFS);
	TASKVMA_OPTS(taskvma_opts, op, .backend = TASKVMA_BACKEND_PROCMAP);
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	struct bpf_map *pm;
	void *p;
	int err;

	if ((err = taskvma_open(&g.tv_bpf, &ob)))
		die("taskvma_open(bpf): %s", taskvma_strerror(err));
	if ((err = taskvma_open(&g.tv_procfs, &of)))
		die("taskvma_open(procfs): %s", taskvma_strerror(err));
	if ((err = taskvma_open(&g.tv_procmap, &op)))
		die("taskvma_open(procmap): %s", taskvma_strerror(err));
	/* with bpf_d_path() if this kernel's verifier allows it on vm_file */
	for (int dpath = 1; dpath >= 0 && !g.floor; dpath--) {
		g.floor = bench_floor_bpf__open();
		if (!g.floor)
			die("open bench_floor.bpf.o: %s", strerror(errno));
		g.floor->rodata->with_dpath = (uint32_t)dpath;
		err = bench_floor_bpf__load(g.floor);
		if (err) {
			bench_floor_bpf__destroy(g.floor);
			g.floor = NULL;
			if (!dpath)
				die("load bench_floor.bpf.o: %s", strerror(-err));
			fprintf(stderr, "maps_bench: floor_dpath and floor_dcache skipped: this "
				"kernel's verifier refuses bpf_d_path() on vm_file\n");
		}
		g.floor_dpath = dpath;
	}
	pm = g.floor->maps.procs;
	g.floor_procs_sz = (bpf_map__value_size(pm) * bpf_map__max_entries(pm) + pg - 1) & ~(pg - 1);
	p = mmap(NULL, g.floor_procs_sz, PROT_READ, MAP_SHARED, bpf_map__fd(pm), 0);
	if (p == MAP_FAILED)
		die("mmap floor counters: %s", strerror(errno));
	g.floor_procs = p;
}

static void close_handles(void)
{
	taskvma_close(g.tv_bpf);
	taskvma_close(g.tv_procfs);
	taskvma_close(g.tv_procmap);
	munmap(g.floor_procs, g.floor_procs_sz);
	bench_floor_bpf__destroy(g.floor);
	free(g.raw_buf);
}

static void read_loadavg(char *buf, size_t len)
{
	FILE *f = fopen("/proc/loadavg", "r");

	snprintf(buf, len, "?");
	if (f) {
		if (fgets(buf, (int)len, f))
			buf[strcspn(buf, "\n")] = 0;
		fclose(f);
	}
}

static void run_workload(struct workload *w)
{
	int nm = 0;
	enum method_id order[M_COUNT];

	for (int m = 0; m < M_COUNT; m++)
		if (method_enabled((enum method_id)m))
			order[nm++] = (enum method_id)m;
	start_workload(w);

	/* untimed: every method once, keeping what it saw; (1) and (4) are
	 * the references of the check, also with --only */
	for (int m = 0; m < M_COUNT; m++) {
		struct sample s;

		if (!method_enabled((enum method_id)m) && m != M_LIB && m != M_PROCFS)
			continue;
		if (methods[m].aux)
			continue;
		run_method(w, (enum method_id)m, &s, true);
		counts_sort(&w->counts[m]);
	}
	counts_sort(&w->exec_ref);
	check_vmas(w);

	for (int i = 0; i < nm; i++) {
		w->samples[order[i]] = calloc((size_t)w->reps, sizeof(struct sample));
		if (!w->samples[order[i]])
			die("out of memory");
	}
	read_loadavg(w->load_before, sizeof(w->load_before));
	for (int r = 0; r < w->reps; r++) {
		double t0 = now_ms();

		for (int i = 0; i < nm; i++) {
			enum method_id m = order[(i + r) % nm];

			run_method(w, m, &w->samples[m][w->nsamples[m]], false);
			w->nonzero[m] += w->samples[m][w->nsamples[m]++].status != 0;
		}
		printf("  %s rep %d/%d: %.1f s", w->name, r + 1, w->reps, (now_ms() - t0) / 1e3);
		if (w->nsamples[M_LIB] > r)
			printf(" (lib %.1f ms)", w->samples[M_LIB][r].wall_ms);
		if (w->nsamples[M_FLOOR] > r)
			printf(" (floor %.1f ms)", w->samples[M_FLOOR][r].wall_ms);
		printf("\n");
		fflush(stdout);
	}
	read_loadavg(w->load_after, sizeof(w->load_after));
	stop_workload(w);
	report(w);
}

int main(int argc, char **argv)
{
	bool ok = true;

	setvbuf(stdout, NULL, _IOLBF, 0);
	libbpf_set_print(libbpf_quiet);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

#define ARG(NAME) (!strcmp(a, NAME) && v && (i++, true))
		if (ARG("--taskvma")) {
			g.taskvma = v;
		} else if (ARG("--workload-bin")) {
			g.workload_bin = v;
		} else if (ARG("--tmpdir")) {
			g.tmpdir = v;
		} else if (ARG("--json")) {
			g.json_path = v;
		} else if (ARG("--md")) {
			g.md_path = v;
		} else if (ARG("--command")) {
			g.command = v;
		} else if (ARG("--reps")) {
			g.reps = atoi(v);
		} else if (ARG("--meta")) {
			if (g.nmeta < MAX_META)
				g.meta[g.nmeta++] = v;
		} else if (ARG("--workload")) {
			struct workload *w = &g.wl[g.nwl];
			char name[32];
			int reps = 0;

			if (g.nwl >= MAX_WORKLOADS ||
			    sscanf(v, "%31[^:]:%ld:%ld:%d", name, &w->nproc, &w->nvma, &reps) < 3 ||
			    w->nproc < 1 || w->nvma < 0)
				usage();
			snprintf(w->name, sizeof(w->name), "%s", name);
			w->reps = reps;
			g.nwl++;
		} else if (ARG("--only")) {
			char *list = strdup(v), *save = NULL;

			for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
				int m;

				for (m = 0; m < M_COUNT && strcmp(methods[m].key, t); m++)
					;
				if (m == M_COUNT) {
					fprintf(stderr, "maps_bench: unknown method '%s'\n", t);
					usage();
				}
				g.only |= 1u << m;
			}
			free(list);
		} else if (!strcmp(a, "--no-pmap-x")) {
			g.pmap_x = false;
		} else {
			usage();
		}
#undef ARG
	}
	if (!g.taskvma || !g.workload_bin || !g.tmpdir || !g.nwl || g.reps < 1)
		usage();
	for (int i = 0; i < g.nwl; i++)
		if (g.wl[i].reps <= 0)
			g.wl[i].reps = g.reps;
	g.self = getpid();
	g.have_pmap = !access("/usr/bin/pmap", X_OK);
	if (!g.have_pmap)
		printf("note: /usr/bin/pmap not found: methods (6) skipped\n");
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	signal(SIGSEGV, on_crash);
	signal(SIGBUS, on_crash);
	signal(SIGABRT, on_crash);
	if (g.md_path && !(g.md = fopen(g.md_path, "w")))
		die("%s: %s", g.md_path, strerror(errno));
	spawner_start();	/* while this process is small */

	open_handles();
	for (int i = 0; i < g.nwl; i++) {
		run_workload(&g.wl[i]);
		ok &= g.wl[i].check_ok;
	}
	if (g.json_path) {
		write_json();
		printf("\nresults: %s\n", g.json_path);
	}
	if (g.md)
		fclose(g.md);
	close_handles();
	spawner_stop();
	for (int i = 0; i < g.nwl; i++) {
		for (int m = 0; m < M_COUNT; m++) {
			free(g.wl[i].samples[m]);
			counts_free(&g.wl[i].counts[m]);
		}
		counts_free(&g.wl[i].exec_ref);
		free(g.wl[i].pids);
	}
	return ok ? 0 : 1;
}
