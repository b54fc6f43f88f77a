// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * bench/lookup_bench: addresses to (mapping, file offset, build ID), the
 * library's batch calls against what tools do today, in the same run
 * (docs/PERFORMANCE.md, "Address lookups").
 *
 *   lookup_bench [-n NVMA] [-a NADDR] [-p NPROC] [-q ADDRS_PER_PROC]
 *                [-m VMAS_PER_PROC] [-r REPS] [-s] [-c] [-P big|many]
 *
 * Workloads (made here, children killed on exit):
 *   big   one process with NVMA (10,000) one-page VMAs separated by holes,
 *         NADDR (10,000) random addresses, 80% in a mapping, 20% in a hole;
 *   many  NPROC (200) processes with VMAS_PER_PROC (500) VMAs each,
 *         ADDRS_PER_PROC (100) random addresses each (80% mapped), all in
 *         one shuffled stream of (pid, address) pairs.
 * Half the VMAs map ELF files from /usr/bin (16 of them, so build IDs are
 * real), a page at a time at varying offsets; the other half are anonymous.
 *
 * Methods, each with and without build IDs:
 *   lib      taskvma_lookup() / taskvma_normalize() on a handle opened once
 *            (build ID cache warm after the first rep; "lib-cold" is the
 *            first batch of a fresh handle);
 *   ioctl    one PROCMAP_QUERY per address (build_id_addr set for build IDs);
 *   parse    read and parse /proc/PID/maps once, binary search each address;
 *            build IDs with libelf through /proc/PID/map_files, once per
 *            distinct file per run.
 * Single address: one taskvma_lookup() of one address against one
 * open+ioctl+close of /proc/PID/maps (and a bare ioctl on an open fd).
 * Every method's answers are compared with the parse method's: a mismatch
 * is "CHECK same-answers FAIL" and exit 1.  -s: small sizes (smoke).
 * -c: CPU time of this process (user + system: the kernel's work in the
 * ioctls, reads and BPF runs is charged to it) instead of wall-clock time,
 * for machines whose other load makes wall-clock figures swing.
 * -P big|many: only the library's batch (big) or normalize (many) on an
 * auto handle, REPS times, no alternatives: a loop to run under perf.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "taskvma.h"
#include "procmap_query.h"

#define NFILES 16

static size_t pg;
static int fds[NFILES], nfiles;
static size_t fpages[NFILES];
static int failed;
static clockid_t clk = CLOCK_MONOTONIC;

static double now(void)
{
	struct timespec t;

	clock_gettime(clk, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static uint64_t rnd_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

/* ELF files of at least 256 KiB from /usr/bin. */
static void open_files(void)
{
	DIR *d = opendir("/usr/bin");
	struct dirent *e;

	while (d && nfiles < NFILES && (e = readdir(d))) {
		char p[512], mag[4];
		struct stat st;
		int fd;

		snprintf(p, sizeof(p), "/usr/bin/%s", e->d_name);
		fd = open(p, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size < 256 * 1024 ||
		    pread(fd, mag, 4, 0) != 4 || memcmp(mag, "\177ELF", 4)) {
			close(fd);
			continue;
		}
		fds[nfiles] = fd;
		fpages[nfiles++] = (size_t)st.st_size / pg;
	}
	if (d)
		closedir(d);
	if (!nfiles) {
		fprintf(stderr, "lookup_bench: no ELF file in /usr/bin\n");
		exit(1);
	}
}

/* A child with nvma one-page VMAs at odd pages of a region whose even pages
 * are holes.  Returns its pid; *base the region. */
static pid_t make_child(long nvma, uint64_t *base)
{
	int p[2];
	pid_t pid;

	if (pipe(p))
		exit(1);
	pid = fork();
	if (pid < 0)
		exit(1);
	if (pid == 0) {
		size_t span = (size_t)(2 * nvma + 1) * pg;
		char *r;
		uint64_t b;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(p[0]);
		r = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (r == MAP_FAILED)
			_exit(1);
		for (long i = 0; i < nvma; i++) {
			char *a = r + (size_t)(2 * i + 1) * pg;
			int f = (int)((i / 2) % nfiles);
			void *m;

			switch (i % 4) {
			case 0:
			case 2:
				m = mmap(a, pg, i % 4 ? PROT_READ : PROT_READ | PROT_WRITE,
					 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
				break;
			default:
				m = mmap(a, pg, i % 4 == 3 ? PROT_READ | PROT_EXEC : PROT_READ,
					 MAP_PRIVATE | MAP_FIXED, fds[f],
					 (off_t)(((size_t)i / 4) % fpages[f] * pg));
			}
			if (m == MAP_FAILED)
				_exit(1);
		}
		for (long i = 0; i <= nvma; i++)
			munmap(r + (size_t)(2 * i) * pg, pg);
		b = (uint64_t)(uintptr_t)r;
		if (write(p[1], &b, sizeof(b)) != sizeof(b))
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	if (read(p[0], base, sizeof(*base)) != sizeof(*base)) {
		fprintf(stderr, "lookup_bench: child %d failed to map (vm.max_map_count?)\n", pid);
		exit(1);
	}
	close(p[0]);
	return pid;
}

static uint64_t pick(uint64_t base, long nvma)
{
	long i = (long)(rnd() % (uint64_t)nvma);
	bool mapped = rnd() % 100 < 80;

	return base + (uint64_t)(2 * i + (mapped ? 1 : 0)) * pg + rnd() % pg;
}

/* ---- answers, to compare methods ---- */

struct ans {
	uint64_t start, end, file_offset;	/* start = end = 0: not mapped */
	int bid_len;				/* -1 none or not asked */
	uint8_t bid[20];
};

/* ---- method: PROCMAP_QUERY per address ---- */

static int ioctl_loop(pid_t pid, const uint64_t *a, size_t n, bool bid, struct ans *out)
{
	char path[64], name[4096];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (size_t i = 0; i < n; i++) {
		struct procmap_query q = { .size = sizeof(q), .query_addr = a[i] };
		uint8_t id[20];

		q.vma_name_addr = (uintptr_t)name;
		q.vma_name_size = sizeof(name);
		if (bid) {
			q.build_id_addr = (uintptr_t)id;
			q.build_id_size = sizeof(id);
		}
		if (ioctl(fd, PROCMAP_QUERY, &q)) {
			if (out)
				memset(&out[i], 0, sizeof(out[i])), out[i].bid_len = -1;
			continue;
		}
		if (out) {
			out[i].start = q.vma_start;
			out[i].end = q.vma_end;
			out[i].file_offset = q.inode ? a[i] - q.vma_start + q.vma_offset : 0;
			out[i].bid_len = bid && q.build_id_size ? (int)q.build_id_size : -1;
			if (out[i].bid_len > 0)
				memcpy(out[i].bid, id, q.build_id_size);
		}
	}
	close(fd);
	return 0;
}

/* ---- method: parse /proc/PID/maps once, binary search ---- */

struct pmap {
	char *buf;
	size_t len, cap;
	struct taskvma_vma *v;
	size_t n, vcap;
};

struct bid_memo {
	uint64_t ino;
	uint32_t maj, min;
	int len;
	uint8_t id[20];
};

static int elf_bid(const char *path, uint8_t *id)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), len = -1;
	Elf *e;
	size_t nph;

	if (fd < 0)
		return -1;
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (e && !elf_getphdrnum(e, &nph)) {
		for (size_t i = 0; i < nph && len < 0; i++) {
			GElf_Phdr ph;
			Elf_Data *d;
			GElf_Nhdr nh;
			size_t off = 0, no, doff;

			if (!gelf_getphdr(e, (int)i, &ph) || ph.p_type != PT_NOTE)
				continue;
			d = elf_getdata_rawchunk(e, (off_t)ph.p_offset, ph.p_filesz, ELF_T_NHDR);
			while (d && (off = gelf_getnote(d, off, &nh, &no, &doff)) > 0) {
				if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
				    !memcmp((char *)d->d_buf + no, "GNU", 4) && nh.n_descsz <= 20) {
					memcpy(id, (char *)d->d_buf + doff, nh.n_descsz);
					len = (int)nh.n_descsz;
					break;
				}
			}
		}
	}
	if (e)
		elf_end(e);
	close(fd);
	return len;
}

static int parse_method(pid_t pid, const uint64_t *a, size_t n, bool bid, struct ans *out,
			struct pmap *pm)
{
	char path[64];
	int fd;
	ssize_t r;
	struct bid_memo memo[64];
	int nmemo = 0;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	pm->len = 0;
	for (;;) {
		if (pm->cap - pm->len < 65536) {
			pm->cap = pm->cap ? pm->cap * 2 : 1 << 20;
			pm->buf = realloc(pm->buf, pm->cap);
		}
		r = read(fd, pm->buf + pm->len, pm->cap - pm->len);
		if (r <= 0)
			break;
		pm->len += (size_t)r;
	}
	close(fd);
	pm->n = 0;
	for (size_t off = 0; off < pm->len;) {
		char *nl = memchr(pm->buf + off, '\n', pm->len - off);
		size_t l = nl ? (size_t)(nl - (pm->buf + off)) : pm->len - off;

		if (pm->n == pm->vcap) {
			pm->vcap = pm->vcap ? pm->vcap * 2 : 1024;
			pm->v = realloc(pm->v, pm->vcap * sizeof(*pm->v));
		}
		if (!taskvma_parse_maps_line(pm->buf + off, l, &pm->v[pm->n]))
			pm->n++;
		off += l + 1;
	}
	for (size_t i = 0; i < n; i++) {
		size_t lo = 0, hi = pm->n;
		const struct taskvma_vma *v = NULL;
		struct ans x = { .bid_len = -1 };

		while (lo < hi) {
			size_t mid = (lo + hi) / 2;

			if (pm->v[mid].end <= a[i])
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < pm->n && pm->v[lo].start <= a[i])
			v = &pm->v[lo];
		if (v) {
			x.start = v->start;
			x.end = v->end;
			x.file_offset = v->inode ? a[i] - v->start + v->offset : 0;
			if (bid && v->inode) {
				int k;

				for (k = 0; k < nmemo; k++)
					if (memo[k].ino == v->inode && memo[k].maj == v->dev_major &&
					    memo[k].min == v->dev_minor)
						break;
				if (k == nmemo) {
					char mf[96];

					snprintf(mf, sizeof(mf), "/proc/%d/map_files/%llx-%llx", pid,
						 (unsigned long long)v->start, (unsigned long long)v->end);
					if (k == 64)
						k = 63;	/* (more than 64 files: the last slot churns) */
					else
						nmemo++;
					memo[k].ino = v->inode;
					memo[k].maj = v->dev_major;
					memo[k].min = v->dev_minor;
					memo[k].len = elf_bid(mf, memo[k].id);
				}
				x.bid_len = memo[k].len;
				if (x.bid_len > 0)
					memcpy(x.bid, memo[k].id, (size_t)x.bid_len);
			}
		}
		if (out)
			out[i] = x;
	}
	return 0;
}

/* ---- the library ---- */

static void lib_to_ans(const struct taskvma_addr_info *r, size_t n, struct ans *out)
{
	for (size_t i = 0; i < n; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		out[i].bid_len = -1;
		if (r[i].status == TASKVMA_ADDR_NOT_MAPPED || r[i].status >= TASKVMA_ADDR_GONE)
			continue;
		out[i].start = r[i].vma.start;
		out[i].end = r[i].vma.end;
		out[i].file_offset = r[i].vma.inode ? r[i].addr - r[i].vma.start + r[i].vma.offset : 0;
		if (r[i].build_id_status == TASKVMA_BUILD_ID_OK) {
			out[i].bid_len = (int)r[i].build_id_len;
			memcpy(out[i].bid, r[i].build_id, r[i].build_id_len);
		}
	}
}

static int compare(const char *what, const struct ans *x, const struct ans *y, size_t n, bool bid)
{
	for (size_t i = 0; i < n; i++) {
		bool same = x[i].start == y[i].start && x[i].end == y[i].end &&
			    x[i].file_offset == y[i].file_offset;

		if (bid && same)
			same = x[i].bid_len == y[i].bid_len &&
			       (x[i].bid_len <= 0 || !memcmp(x[i].bid, y[i].bid, (size_t)x[i].bid_len));
		if (!same) {
			printf("CHECK same-answers FAIL %s: answer %zu differs (%llx-%llx bid %d vs %llx-%llx bid %d)\n",
			       what, i, (unsigned long long)x[i].start, (unsigned long long)x[i].end,
			       x[i].bid_len, (unsigned long long)y[i].start, (unsigned long long)y[i].end,
			       y[i].bid_len);
			failed = 1;
			return -1;
		}
	}
	return 0;
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *t, int n)
{
	qsort(t, (size_t)n, sizeof(*t), cmp_dbl);
	return t[n / 2];
}

static void verdict(const char *what, double alt, double lib, double want)
{
	printf("TARGET %-58s %6.2fx (want >= %.1fx) %s\n", what, alt / lib, want,
	       alt / lib >= want ? "PASS" : "MISS");
}

int main(int argc, char **argv)
{
	long nvma = 10000, naddr = 10000, nproc = 200, qpp = 100, vpp = 500;
	int reps = 7, c;
	const char *profile = NULL;
	static const enum taskvma_backend backends[] = { TASKVMA_BACKEND_AUTO,
							 TASKVMA_BACKEND_PROCMAP,
							 TASKVMA_BACKEND_PROCFS,
							 TASKVMA_BACKEND_BPF };

	while ((c = getopt(argc, argv, "n:a:p:q:m:r:scP:")) != -1) {
		switch (c) {
		case 'n': nvma = atol(optarg); break;
		case 'a': naddr = atol(optarg); break;
		case 'p': nproc = atol(optarg); break;
		case 'q': qpp = atol(optarg); break;
		case 'm': vpp = atol(optarg); break;
		case 'r': reps = atoi(optarg); break;
		case 's': nvma = 500, naddr = 500, nproc = 5, qpp = 20, vpp = 50, reps = 2; break;
		case 'c': clk = CLOCK_PROCESS_CPUTIME_ID; break;
		case 'P': profile = optarg; break;
		default:
			fprintf(stderr, "usage: lookup_bench [-n NVMA] [-a NADDR] [-p NPROC] [-q ADDRS_PER_PROC] [-m VMAS_PER_PROC] [-r REPS] [-s] [-c] [-P big|many]\n");
			return 2;
		}
	}
	pg = (size_t)sysconf(_SC_PAGESIZE);
	elf_version(EV_CURRENT);
	open_files();

	/* the workloads */
	uint64_t bbase, *ba = malloc((size_t)naddr * sizeof(*ba));
	pid_t bpid = make_child(nvma, &bbase);
	pid_t *pids = malloc((size_t)nproc * sizeof(*pids));
	uint64_t *pbase = malloc((size_t)nproc * sizeof(*pbase));
	size_t nreq = (size_t)(nproc * qpp);
	struct taskvma_addr_req *req = malloc(nreq * sizeof(*req));
	struct taskvma_addr_info *res = malloc((nreq > (size_t)naddr ? nreq : (size_t)naddr) * sizeof(*res));
	struct ans *ra = malloc((nreq > (size_t)naddr ? nreq : (size_t)naddr) * sizeof(*ra));
	struct ans *rb = malloc((nreq > (size_t)naddr ? nreq : (size_t)naddr) * sizeof(*rb));
	struct pmap pm = {};
	double *t = malloc((size_t)reps * sizeof(double));

	for (long i = 0; i < naddr; i++)
		ba[i] = pick(bbase, nvma);
	for (long p = 0; p < nproc; p++)
		pids[p] = make_child(vpp, &pbase[p]);
	for (size_t i = 0; i < nreq; i++) {
		long p = (long)(i / (size_t)qpp);

		req[i] = (struct taskvma_addr_req){ pids[p], pick(pbase[p], vpp) };
	}
	for (size_t i = nreq; i > 1; i--) {	/* one stream, processes interleaved */
		size_t j = rnd() % i;
		struct taskvma_addr_req tmp = req[i - 1];

		req[i - 1] = req[j];
		req[j] = tmp;
	}
	/* per-process address lists for the alternatives (their best case:
	 * grouped by process, no regrouping cost counted) */
	uint64_t **pa = calloc((size_t)nproc, sizeof(*pa));
	size_t *pn = calloc((size_t)nproc, sizeof(*pn));
	for (long p = 0; p < nproc; p++)
		pa[p] = malloc((size_t)qpp * sizeof(uint64_t));
	for (size_t i = 0; i < nreq; i++)
		for (long p = 0; p < nproc; p++)
			if (req[i].pid == pids[p]) {
				pa[p][pn[p]++] = req[i].addr;
				break;
			}

	if (profile) {
		TASKVMA_OPTS(taskvma_opts, po);
		TASKVMA_OPTS(taskvma_lookup_opts, plo);
		struct taskvma *tv;
		bool many = !strcmp(profile, "many");

		if (taskvma_open(&tv, &po)) {
			fprintf(stderr, "lookup_bench: taskvma_open failed\n");
			return 1;
		}
		for (int r = 0; r < reps; r++) {
			double t0 = now();

			if (many)
				taskvma_normalize(tv, req, nreq, res, &plo);
			else
				taskvma_lookup(tv, bpid, ba, (size_t)naddr, res, &plo);
			t[r] = now() - t0;
		}
		printf("%s: median %.2f ms of %d\n", many ? "normalize" : "batch", median(t, reps) * 1e3, reps);
		taskvma_close(tv);
		kill(bpid, SIGKILL);
		for (long p = 0; p < nproc; p++)
			kill(pids[p], SIGKILL);
		while (wait(NULL) > 0)
			;
		return 0;
	}
	printf("# lookup_bench: big = 1 process x %ld VMAs, %ld addresses; many = %ld processes x %ld VMAs, %ld addresses each; %d reps, median %s; %d ELF files\n",
	       nvma, naddr, nproc, vpp, qpp, reps, clk == CLOCK_MONOTONIC ? "wall-clock" : "CPU time", nfiles);
	printf("%-9s %-8s %-22s %12s %12s\n", "backend", "workload", "method", "no build ID", "build IDs");

	/* alternatives, once */
	double alt[2][2][2];	/* [workload][method ioctl/parse][bid] */
	for (int bid = 0; bid < 2; bid++) {
		for (int r = 0; r < reps; r++) {
			double t0 = now();

			ioctl_loop(bpid, ba, (size_t)naddr, bid, NULL);
			t[r] = now() - t0;
		}
		alt[0][0][bid] = median(t, reps);
		for (int r = 0; r < reps; r++) {
			double t0 = now();

			parse_method(bpid, ba, (size_t)naddr, bid, NULL, &pm);
			t[r] = now() - t0;
		}
		alt[0][1][bid] = median(t, reps);
		for (int r = 0; r < reps; r++) {
			double t0 = now();

			for (long p = 0; p < nproc; p++)
				ioctl_loop(pids[p], pa[p], pn[p], bid, NULL);
			t[r] = now() - t0;
		}
		alt[1][0][bid] = median(t, reps);
		for (int r = 0; r < reps; r++) {
			double t0 = now();

			for (long p = 0; p < nproc; p++)
				parse_method(pids[p], pa[p], pn[p], bid, NULL, &pm);
			t[r] = now() - t0;
		}
		alt[1][1][bid] = median(t, reps);
	}
	printf("%-9s %-8s %-22s %10.2fms %10.2fms\n", "-", "big", "ioctl per address", alt[0][0][0] * 1e3, alt[0][0][1] * 1e3);
	printf("%-9s %-8s %-22s %10.2fms %10.2fms\n", "-", "big", "parse maps + bsearch", alt[0][1][0] * 1e3, alt[0][1][1] * 1e3);
	printf("%-9s %-8s %-22s %10.2fms %10.2fms\n", "-", "many", "ioctl per address", alt[1][0][0] * 1e3, alt[1][0][1] * 1e3);
	printf("%-9s %-8s %-22s %10.2fms %10.2fms\n", "-", "many", "parse maps + bsearch", alt[1][1][0] * 1e3, alt[1][1][1] * 1e3);

	for (size_t bi = 0; bi < sizeof(backends) / sizeof(backends[0]); bi++) {
		TASKVMA_OPTS(taskvma_opts, oo, .backend = backends[bi]);
		struct taskvma *tv;
		const char *bn = taskvma_backend_name(backends[bi]);
		double lib[2][2], cold[2][2];

		char label[32];

		if (taskvma_open(&tv, &oo)) {
			printf("%-9s (not available here)\n", bn);
			continue;
		}
		if (backends[bi] == TASKVMA_BACKEND_AUTO) {
			snprintf(label, sizeof(label), "auto=%s", taskvma_backend_name(taskvma_backend(tv)));
			bn = label;
		}
		for (int bid = 0; bid < 2; bid++) {
			TASKVMA_OPTS(taskvma_lookup_opts, lo, .build_ids = bid);
			struct taskvma *fresh;

			/* cold: the first batch of a fresh handle (open not timed) */
			if (!taskvma_open(&fresh, &oo)) {
				double t0 = now();

				taskvma_lookup(fresh, bpid, ba, (size_t)naddr, res, &lo);
				cold[0][bid] = now() - t0;
				taskvma_close(fresh);
			}
			if (!taskvma_open(&fresh, &oo)) {
				double t0 = now();

				taskvma_normalize(fresh, req, nreq, res, &lo);
				cold[1][bid] = now() - t0;
				taskvma_close(fresh);
			}
			for (int r = 0; r < reps; r++) {
				double t0 = now();

				taskvma_lookup(tv, bpid, ba, (size_t)naddr, res, &lo);
				t[r] = now() - t0;
			}
			lib[0][bid] = median(t, reps);
			lib_to_ans(res, (size_t)naddr, ra);
			parse_method(bpid, ba, (size_t)naddr, bid, rb, &pm);
			compare("big", ra, rb, (size_t)naddr, bid);
			for (int r = 0; r < reps; r++) {
				double t0 = now();

				taskvma_normalize(tv, req, nreq, res, &lo);
				t[r] = now() - t0;
			}
			lib[1][bid] = median(t, reps);
			lib_to_ans(res, nreq, ra);
			/* the alternative's answers, in the stream's order: one
			 * parse per process */
			for (long p = 0; p < nproc; p++) {
				uint64_t *aa = malloc((size_t)qpp * sizeof(*aa));
				size_t *ii = malloc((size_t)qpp * sizeof(*ii));
				struct ans *tmp = malloc((size_t)qpp * sizeof(*tmp));
				size_t k = 0;

				for (size_t i = 0; i < nreq && k < (size_t)qpp; i++)
					if (req[i].pid == pids[p])
						aa[k] = req[i].addr, ii[k++] = i;
				parse_method(pids[p], aa, k, bid, tmp, &pm);
				for (size_t j = 0; j < k; j++)
					rb[ii[j]] = tmp[j];
				free(aa);
				free(ii);
				free(tmp);
			}
			compare("many", ra, rb, nreq, bid);
		}
		printf("%-9s %-8s %-22s %10.2fms %10.2fms\n", bn, "big", "lib batch (warm)", lib[0][0] * 1e3, lib[0][1] * 1e3);
		printf("%-9s %-8s %-22s %10.2fms %10.2fms\n", bn, "big", "lib batch (cold)", cold[0][0] * 1e3, cold[0][1] * 1e3);
		printf("%-9s %-8s %-22s %10.2fms %10.2fms\n", bn, "many", "lib normalize (warm)", lib[1][0] * 1e3, lib[1][1] * 1e3);
		printf("%-9s %-8s %-22s %10.2fms %10.2fms\n", bn, "many", "lib normalize (cold)", cold[1][0] * 1e3, cold[1][1] * 1e3);
		for (int bid = 0; bid < 2; bid++) {
			char w[128];
			double best = alt[1][0][bid] < alt[1][1][bid] ? alt[1][0][bid] : alt[1][1][bid];

			snprintf(w, sizeof(w), "%s big: ioctl loop / lib batch%s", bn, bid ? " (build IDs)" : "");
			verdict(w, alt[0][0][bid], lib[0][bid], 3);
			snprintf(w, sizeof(w), "%s many: fastest alternative / normalize%s", bn, bid ? " (build IDs)" : "");
			verdict(w, best, lib[1][bid], 3);
		}
		/* one address */
		{
			TASKVMA_OPTS(taskvma_lookup_opts, lo, .build_ids = 0);
			/* procfs reads the text up to the address: ~10 ms each */
			int k = backends[bi] == TASKVMA_BACKEND_PROCFS ? 50 : 2000;
			double t0, tl, to, ti;
			char path[64];
			int fd;

			snprintf(path, sizeof(path), "/proc/%d/maps", bpid);
			for (int r = 0; r < reps; r++) {
				t0 = now();
				for (int i = 0; i < k; i++)
					taskvma_lookup(tv, bpid, &ba[i % naddr], 1, res, &lo);
				t[r] = (now() - t0) / k;
			}
			tl = median(t, reps);
			for (int r = 0; r < reps; r++) {
				t0 = now();
				for (int i = 0; i < k; i++)
					ioctl_loop(bpid, &ba[i % naddr], 1, false, NULL);
				t[r] = (now() - t0) / k;
			}
			to = median(t, reps);
			fd = open(path, O_RDONLY | O_CLOEXEC);
			for (int r = 0; r < reps; r++) {
				char name[4096];

				t0 = now();
				for (int i = 0; i < k; i++) {
					struct procmap_query q = { .size = sizeof(q), .query_addr = ba[i % naddr],
								   .vma_name_addr = (uintptr_t)name,
								   .vma_name_size = sizeof(name) };

					if (ioctl(fd, PROCMAP_QUERY, &q) && errno != ENOENT)
						break;
				}
				t[r] = (now() - t0) / k;
			}
			ti = median(t, reps);
			close(fd);
			printf("%-9s single   lib %.2fus, open+ioctl+close %.2fus, ioctl on an open fd %.2fus\n",
			       bn, tl * 1e6, to * 1e6, ti * 1e6);
			printf("TARGET %-58s %6.2fx (want >= 1.0x) %s\n",
			       bn[0] ? "single address: (open+ioctl+close) / lib" : "", to / tl, to / tl >= 1.0 ? "PASS" : "MISS");
		}
		taskvma_close(tv);
	}
	if (!failed)
		printf("CHECK same-answers PASS (every backend's batch = parse + bsearch + libelf)\n");
	kill(bpid, SIGKILL);
	for (long p = 0; p < nproc; p++)
		kill(pids[p], SIGKILL);
	while (wait(NULL) > 0)
		;
	return failed;
}
