/* taskvma_watch under churn: processes that map, unmap, protect, remap, fork
 * short-lived children, exit and get replaced, while the watcher follows them
 * from kernel events.  When the churn stops, every mirrored map must equal
 * /proc/PID/maps byte for byte, taskvma_watch_check() must find no drift,
 * lookups from the mirror must agree with /proc, and the mirror must hold
 * exactly the processes still alive.  A second round uses a ring buffer too
 * small for the stream: records are lost, the processes concerned are
 * re-read in full (resync records), and the mirrors still equal /proc.
 *
 * Size: WATCH_CHURN=PROCSxSECONDS (default 20x10; 8x4 with QUICK=1, the
 * sanitizer pass); the long run of docs/watch.md is WATCH_CHURN=100x30. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <linux/sched.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "taskvma.h"
#include "check.h"

#define MAX_CHILDREN 512
#define SLOTS 24
#define PG 4096ul

static volatile sig_atomic_t frozen;
/* the "burst" round: the children change their maps with little pause (2 ms
 * apart: several records of a process can queue up in a tick), and fork no
 * children */
static int burst;

static void on_usr1(int sig)
{
	(void)sig;
	frozen = 1;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The churn: ~50 map changes per second, until SIGUSR1 freezes it. */
static void churn(unsigned seed)
{
	struct { char *p; size_t len; } s[SLOTS] = {};
	int fd = open("/proc/self/exe", O_RDONLY);

	while (!frozen) {
		int i = (int)(rand_r(&seed) % SLOTS), op = (int)(rand_r(&seed) % 8);
		size_t n = 1 + rand_r(&seed) % 6;

		if (!s[i].p) {
			int prot = (op & 1) ? PROT_READ : PROT_READ | PROT_WRITE;

			if (op == 7 && fd >= 0)
				s[i].p = mmap(NULL, PG, PROT_READ, MAP_PRIVATE, fd, 0), n = 1;
			else
				s[i].p = mmap(NULL, n * PG, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (s[i].p == MAP_FAILED)
				s[i].p = NULL;
			else
				s[i].len = n * PG;
		} else if (op < 3) {
			munmap(s[i].p, s[i].len);
			s[i].p = NULL;
		} else if (op < 5 && s[i].len > PG) {
			mprotect(s[i].p + PG, PG, op == 3 ? PROT_READ : PROT_NONE);
		} else if (op == 5) {
			char *q = mremap(s[i].p, s[i].len, s[i].len + PG, MREMAP_MAYMOVE);

			if (q != MAP_FAILED)
				s[i].p = q, s[i].len += PG;
		} else if (op == 6 && !burst && rand_r(&seed) % 8 == 0) {
			/* a short-lived child with changes of its own */
			pid_t c = fork();

			if (c == 0) {
				for (int k = 0; k < 5; k++)
					munmap(mmap(NULL, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
					       PG);
				_exit(0);
			}
			if (c > 0)
				waitpid(c, NULL, 0);
		} else {
			madvise(s[i].p, s[i].len, MADV_DONTNEED);
		}
		usleep(burst ? 2000 : 5000 + rand_r(&seed) % 30000);
	}
	for (;;)
		pause();
}

static pid_t spawn(unsigned seed)
{
	pid_t p = fork();

	if (p == 0) {
		churn(seed);
		_exit(0);
	}
	return p;
}

/* The mirror of pid as /proc text. */
static char *mirror_text(struct taskvma_watch *w, pid_t pid, size_t *len)
{
	const struct taskvma_vma *v;
	size_t n, cap = 1 << 16, used = 0;
	char *buf = malloc(cap);

	if (!buf || taskvma_watch_vmas(w, pid, &v, &n)) {
		free(buf);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		size_t l = taskvma_format_maps_line(&v[i], NULL, 0);

		if (used + l + 1 > cap) {
			char *b = realloc(buf, cap = (used + l + 1) * 2);

			if (!b) {
				free(buf);
				return NULL;
			}
			buf = b;
		}
		taskvma_format_maps_line(&v[i], buf + used, cap - used);
		used += l;
	}
	*len = used;
	return buf;
}

static char *proc_text(pid_t pid, size_t *len)
{
	char path[64];
	size_t cap = 1 << 16, used = 0;
	char *buf = malloc(cap);
	ssize_t r;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0 || !buf) {
		free(buf);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	while ((r = read(fd, buf + used, cap - used)) > 0) {
		used += (size_t)r;
		if (used == cap) {
			char *b = realloc(buf, cap *= 2);

			if (!b)
				break;
			buf = b;
		}
	}
	close(fd);
	*len = used;
	return buf;
}

static uint64_t records, resyncs;

static int count_cb(void *ctx, const struct taskvma_watch_event *e)
{
	(void)ctx;
	records++;
	if (e->flags & TASKVMA_WATCH_F_RESYNC)
		resyncs++;
	return 0;
}

/* One round; returns the number of failures. */
static void round_(const char *name, enum taskvma_backend be, int nproc, double secs,
		   size_t ringbuf, int sleep_ms)
{
	TASKVMA_OPTS(taskvma_opts, o, .backend = be);
	TASKVMA_OPTS(taskvma_watch_opts, wo, .follow_forks = 1, .ringbuf_bytes = ringbuf,
		     .no_snapshot_records = 1);
	struct taskvma *tv = NULL;
	struct taskvma_watch *w = NULL;
	struct taskvma_watch_stats st;
	pid_t kids[MAX_CHILDREN];
	int nk = 0, bad = 0, drift = 0, lookups_bad = 0, missing = 0, extra = 0, compared = 0;
	unsigned seed = 1;
	double t0, next_swap;
	char msg[256];
	int err;

	records = resyncs = 0;
	err = taskvma_open(&tv, &o);
	if (!err)
		err = taskvma_watch_new(tv, &wo, count_cb, NULL, &w);
	snprintf(msg, sizeof(msg), "%s: watch opened", name);
	CHECK(msg, err == 0);
	if (err) {
		taskvma_close(tv);
		return;
	}
	snprintf(msg, sizeof(msg), "%s: kernel events (%s)", name, taskvma_watch_reason(w));
	CHECK(msg, taskvma_watch_mode(w) == TASKVMA_WATCH_EVENTS);
	for (int i = 0; i < nproc; i++) {
		kids[nk] = spawn(seed++);
		if (kids[nk] > 0 && taskvma_watch_add(w, kids[nk]) == 0) {
			nk++;
		} else if (kids[nk] > 0) {
			/* not watched: it would churn on after the test */
			kill(kids[nk], SIGKILL);
			waitpid(kids[nk], NULL, 0);
		}
	}
	t0 = now();
	next_swap = t0 + 0.5;
	while (now() - t0 < secs) {
		if (sleep_ms)
			usleep((useconds_t)sleep_ms * 1000);	/* let the ring buffer overflow */
		taskvma_watch_poll(w, 10);
		if (now() >= next_swap && nk) {
			/* one exits, a new one starts */
			int i = (int)(seed % (unsigned)nk);

			kill(kids[i], SIGKILL);
			waitpid(kids[i], NULL, 0);
			kids[i] = spawn(seed++);
			if (kids[i] <= 0 || taskvma_watch_add(w, kids[i])) {
				if (kids[i] > 0) {
					kill(kids[i], SIGKILL);
					waitpid(kids[i], NULL, 0);
				}
				kids[i] = kids[--nk];
			}
			next_swap += 0.5;
		}
	}
	for (int i = 0; i < nk; i++)
		kill(kids[i], SIGUSR1);
	/* quiet: no record for 500 ms */
	for (double quiet = now(); now() - quiet < 0.5;)
		if (taskvma_watch_poll(w, 50) > 0)
			quiet = now();
	taskvma_watch_poll(w, 0);
	for (int i = 0; i < nk; i++) {
		size_t ml = 0, pl = 0;
		char *m = mirror_text(w, kids[i], &ml), *p = proc_text(kids[i], &pl);

		if (!m) {
			missing++;
		} else if (!p || ml != pl || memcmp(m, p, ml)) {
			bad++;
			if (bad == 1 && p)
				fprintf(stderr, "pid %d mirror:\n%.*s/proc:\n%.*s", kids[i], (int)ml, m,
					(int)pl, p);
		} else {
			compared++;
			/* lookups from memory: every line's first and last byte */
			for (char *l = p; l < p + pl; l = strchr(l, '\n') + 1) {
				unsigned long long a, b;
				struct taskvma_vma v;

				if (sscanf(l, "%llx-%llx", &a, &b) != 2)
					break;
				if (a >= 0xffffffffff600000ull)
					continue;	/* [vsyscall] */
				if (taskvma_watch_lookup(w, kids[i], a, &v) || v.start != a ||
				    taskvma_watch_lookup(w, kids[i], b - 1, &v) || v.end != b)
					lookups_bad++;
			}
		}
		free(m);
		free(p);
		if (taskvma_watch_check(w, kids[i]) != 0)
			drift++;
	}
	/* the mirror holds the live children only: the grandchildren and the
	 * killed ones are gone (exit records) */
	extra = (int)taskvma_watch_count(w) - (nk - missing);
	taskvma_watch_get_stats(w, &st);
	printf("# %s: %d processes, %.0f s: %llu kernel events (%llu lost, %llu resyncs), "
	       "%llu range reads, %llu whole reads, %llu records\n", name, nk, secs,
	       (unsigned long long)st.events, (unsigned long long)st.lost,
	       (unsigned long long)st.resyncs, (unsigned long long)st.range_reads,
	       (unsigned long long)st.whole_reads, (unsigned long long)records);
	snprintf(msg, sizeof(msg), "%s: every live child is in the mirror (%d missing)", name,
		 missing);
	CHECK(msg, missing == 0);
	snprintf(msg, sizeof(msg), "%s: %d mirrored maps = /proc/PID/maps byte for byte (%d differ)",
		 name, compared, bad);
	CHECK(msg, bad == 0 && compared > 0);
	snprintf(msg, sizeof(msg), "%s: lookups from the mirror = /proc (%d wrong)", name,
		 lookups_bad);
	CHECK(msg, lookups_bad == 0);
	snprintf(msg, sizeof(msg), "%s: taskvma_watch_check finds no drift (%d)", name, drift);
	CHECK(msg, drift == 0);
	snprintf(msg, sizeof(msg), "%s: exited processes left the mirror (%d extra)", name, extra);
	CHECK(msg, extra == 0);
	snprintf(msg, sizeof(msg), "%s: range re-reads were used", name);
	CHECK(msg, st.range_reads > 0);
	if (ringbuf) {
		snprintf(msg, sizeof(msg), "%s: records were lost (%llu) and re-read in full (%llu resync records)",
			 name, (unsigned long long)st.lost, (unsigned long long)resyncs);
		CHECK(msg, st.lost > 0 && st.resyncs > 0);
	}
	for (int i = 0; i < nk; i++) {
		kill(kids[i], SIGKILL);
		waitpid(kids[i], NULL, 0);
	}
	taskvma_watch_free(w);
	taskvma_close(tv);
}

/* A child that maps `extra` more regions than its parent, then waits. */
static void settle(int extra, int ready)
{
	for (int i = 0; i < extra; i++)
		mmap(NULL, PG, i & 1 ? PROT_READ : PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (write(ready, "x", 1) != 1)
		_exit(1);
	for (;;)
		pause();
}

/* fork(), with the pid `want` when want > 0 (clone3 set_tid, 5.5+, root) */
static pid_t child_with_pid(pid_t want, int extra)
{
	struct clone_args ca = { .exit_signal = SIGCHLD };
	int fds[2];
	char c;
	pid_t p;

	if (pipe(fds))
		return -1;
	if (want > 0) {
		ca.set_tid = (uintptr_t)&want;
		ca.set_tid_size = 1;
	}
	p = (pid_t)syscall(SYS_clone3, &ca, sizeof(ca));
	if (p == 0)
		settle(extra, fds[1]);
	close(fds[1]);
	if (p > 0 && read(fds[0], &c, 1) != 1)
		p = -1;
	close(fds[0]);
	return p;
}

static void drain(struct taskvma_watch *w)
{
	for (double quiet = now(); now() - quiet < 0.3;)
		if (taskvma_watch_poll(w, 50) > 0)
			quiet = now();
}

/* taskvma_watch_check() finds a drift that is there: a watcher that polls
 * every 1000 s (so nothing updates its mirror) and a child that maps a page
 * after its snapshot; the check must report it (> 0), after which the
 * mirror equals /proc, and a second check finds nothing.  (The check looks
 * twice, 20 ms apart, before it reports: a change under way is not drift.) */
static void check_finds_drift(void)
{
	TASKVMA_OPTS(taskvma_opts, o, .backend = TASKVMA_BACKEND_AUTO);
	TASKVMA_OPTS(taskvma_watch_opts, wo, .no_snapshot_records = 1, .force_poll = 1,
		     .poll_interval = 1000);
	struct taskvma *tv = NULL;
	struct taskvma_watch *w = NULL;
	int go[2], ack[2], err, n1 = -1, n2 = -1;
	size_t ml = 0, pl = 0;
	char *m = NULL, *p = NULL, c = 0;
	pid_t k;

	if (pipe(go) || pipe(ack))
		return;
	k = fork();
	if (k == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (read(go[0], &c, 1) != 1 ||
		    mmap(NULL, 3 * 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED ||
		    write(ack[1], "m", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	err = taskvma_open(&tv, &o);
	if (!err)
		err = taskvma_watch_new(tv, &wo, count_cb, NULL, &w);
	CHECK("check: a polling watch opened", err == 0);
	if (!err && taskvma_watch_add(w, k) == 0) {
		if (write(go[1], "g", 1) == 1 && read(ack[0], &c, 1) == 1) {
			n1 = taskvma_watch_check(w, k);
			m = mirror_text(w, k, &ml);
			p = proc_text(k, &pl);
			n2 = taskvma_watch_check(w, k);
		}
	}
	CHECK("check: a mapping added behind the mirror's back is drift (> 0 records)", n1 > 0);
	CHECK("check: after it the mirror = /proc/PID/maps byte for byte",
	      m && p && ml == pl && !memcmp(m, p, ml));
	CHECK("check: a second check finds no drift", n2 == 0);
	free(m);
	free(p);
	kill(k, SIGKILL);
	waitpid(k, NULL, 0);
	close(go[0]), close(go[1]), close(ack[0]), close(ack[1]);
	taskvma_watch_free(w);
	taskvma_close(tv);
}

/* A watched process exits, and a new process gets its pid before the
 * watcher has read the exit record (pid_max wrapped: 32768 by default).
 * The mirror must hold the new process, and the old exit record must not
 * remove it.  The pid is taken again on purpose, with clone3's set_tid. */
static void pid_reuse(void)
{
	TASKVMA_OPTS(taskvma_opts, o, .backend = TASKVMA_BACKEND_AUTO);
	TASKVMA_OPTS(taskvma_watch_opts, wo, .no_snapshot_records = 1);
	struct taskvma *tv = NULL;
	struct taskvma_watch *w = NULL;
	size_t ml = 0, pl = 0;
	char *m = NULL, *p = NULL;
	pid_t a, b;
	int err;

	err = taskvma_open(&tv, &o);
	if (!err)
		err = taskvma_watch_new(tv, &wo, count_cb, NULL, &w);
	CHECK("pid reuse: watch opened", err == 0);
	if (err) {
		taskvma_close(tv);
		return;
	}
	a = child_with_pid(0, 0);
	CHECK("pid reuse: first child watched", a > 0 && taskvma_watch_add(w, a) == 0);
	drain(w);
	usleep(20000);	/* the new process starts in another /proc tick (10 ms) */
	kill(a, SIGKILL);
	waitpid(a, NULL, 0);
	/* the exit record is in the ring buffer, unread */
	b = child_with_pid(a, 7);
	if (b < 0 && (errno == EPERM || errno == ENOSYS)) {
		printf("# pid reuse: clone3 with set_tid refused (%s): not run\n", strerror(errno));
		goto out;
	}
	CHECK("pid reuse: second child has the first one's pid", b == a);
	CHECK("pid reuse: second child watched", taskvma_watch_add(w, b) == 0);
	drain(w);
	m = mirror_text(w, b, &ml);
	p = proc_text(b, &pl);
	CHECK("pid reuse: the new process is in the mirror after the old exit record", m != NULL);
	CHECK("pid reuse: its mirror = /proc/PID/maps byte for byte",
	      m && p && ml == pl && !memcmp(m, p, ml));
	CHECK("pid reuse: taskvma_watch_check finds no drift", taskvma_watch_check(w, b) == 0);
	kill(b, SIGKILL);
	waitpid(b, NULL, 0);
	drain(w);
	CHECK("pid reuse: its own exit removes it", taskvma_watch_count(w) == 0);
out:
	free(m);
	free(p);
	taskvma_watch_free(w);
	taskvma_close(tv);
}

int main(void)
{
	const char *e = getenv("WATCH_CHURN"), *q = getenv("QUICK");
	int n = 20;
	double secs = 10;

	if (q && !strcmp(q, "1"))
		n = 8, secs = 4;
	if (e && sscanf(e, "%dx%lf", &n, &secs) != 2) {
		fprintf(stderr, "WATCH_CHURN=PROCSxSECONDS\n");
		return 2;
	}
	if (n > MAX_CHILDREN)
		n = MAX_CHILDREN;
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* the children inherit it: one spawned just before the freeze must not
	 * die of SIGUSR1 before it could install the handler (it did, in a
	 * full parallel run: 1 missing) */
	signal(SIGUSR1, on_usr1);
	check_finds_drift();
	pid_reuse();
	round_("churn", TASKVMA_BACKEND_AUTO, n, secs, 0, 0);
	{
		/* burst: a change record whose change an earlier re-read showed
		 * is not re-read again; and 64 fds (the watcher keeps 16 maps
		 * files open, for more processes than that: the least recently
		 * used are closed and reopened) */
		struct rlimit rl, low;

		getrlimit(RLIMIT_NOFILE, &rl);
		low = rl;
		low.rlim_cur = 64;
		burst = 1;
		if (!setrlimit(RLIMIT_NOFILE, &low)) {
			round_("burst", TASKVMA_BACKEND_AUTO, 24, secs < 4 ? secs : 4, 0, 0);
			setrlimit(RLIMIT_NOFILE, &rl);
		}
		burst = 0;
	}
	/* 4 KiB hold ~40 records; the watcher reads every 300 ms */
	round_("lost records", TASKVMA_BACKEND_PROCMAP, n < 8 ? n : 8, secs < 3 ? secs : 3, 4096,
	       300);
	return check_end();
}
