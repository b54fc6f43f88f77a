// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The library as a shared component: options structs validated like
 * libbpf's OPTS_VALID (a newer caller's unknown non-zero fields -> -EINVAL,
 * zero ones accepted), the run-time version, messages without CLI hints,
 * and 8 threads each with its own handle reading the same process at once
 * (the contract in taskvma.h: one handle per thread; no shared mutable state
 * otherwise), compared with the kernel's /proc/PID/maps text.
 * tests/cases/library.sh builds this file once more with -fsanitize=thread. */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "taskvma.h"
#include "taskvma_features.h"
#include "taskvma_trace.h"
#include "taskvma_watch.h"
#include "check.h"

#define NTHREADS 8
#define ROUNDS 40

/* a caller built against a newer header: one more field at the end */
#define NEWER(TYPE) struct { struct TYPE o; uint64_t extra; }

static pid_t child;
static char *ref;		/* /proc/child/maps */
static size_t ref_len;

/* each TYPE__last_field names the struct's last field (what OPTS_VALID
 * relies on): its end, rounded up to the alignment, is the struct's size */
#define LAST_OK(T) \
	(((__builtin_offsetof(struct T, T##__last_field) + sizeof(((struct T *)0)->T##__last_field) + \
	   _Alignof(struct T) - 1) & ~(_Alignof(struct T) - 1)) == sizeof(struct T))

static int no_begin(void *c, pid_t p, const char *comm) { (void)c; (void)p; (void)comm; return 0; }

static void opts_valid(void)
{
	struct taskvma *tv = NULL;
	NEWER(taskvma_opts) no = { .o = { .sz = sizeof(no), .backend = TASKVMA_BACKEND_PROCFS } };
	NEWER(taskvma_query) nq = { .o = { .sz = sizeof(nq) } };
	NEWER(taskvma_visitor) nv = { .o = { .sz = sizeof(nv), .begin = no_begin } };
	NEWER(taskvma_lookup_opts) nl = { .o = { .sz = sizeof(nl) } };
	NEWER(taskvma_trace_opts) nt = { .o = { .sz = sizeof(nt), .events = 1 } };
	NEWER(taskvma_watch_opts) nw = { .o = { .sz = sizeof(nw) } };
	NEWER(taskvma_features_opts) nf = { .o = { .sz = sizeof(nf) } };
	struct taskvma_features *f = NULL;
	struct taskvma_map *m = NULL;
	struct taskvma_watch *w = NULL;
	struct taskvma_trace *tr = NULL;
	struct taskvma_addr_info ai;
	uint64_t addr = 0x1000;
	char msg[256];

	CHECK("__last_field is the last field of every options struct",
	      LAST_OK(taskvma_opts) && LAST_OK(taskvma_query) && LAST_OK(taskvma_visitor) &&
	      LAST_OK(taskvma_lookup_opts) && LAST_OK(taskvma_trace_opts) &&
	      LAST_OK(taskvma_watch_opts) && LAST_OK(taskvma_features_opts));
	CHECK("open: larger opts, tail zero -> accepted",
	      taskvma_open(&tv, (const struct taskvma_opts *)&no) == 0 && tv);
	no.extra = 1;
	{
		struct taskvma *tv2 = NULL;

		CHECK("open: larger opts, tail non-zero -> -EINVAL",
		      taskvma_open(&tv2, (const struct taskvma_opts *)&no) == -EINVAL && !tv2);
	}
	if (!tv)
		return;
	CHECK("snapshot: larger query, tail zero -> accepted",
	      taskvma_snapshot(tv, child, (const struct taskvma_query *)&nq, &m) == 0);
	taskvma_map_free(m);
	m = NULL;
	nq.extra = 1;
	CHECK("snapshot: larger query, tail non-zero -> -EINVAL",
	      taskvma_snapshot(tv, child, (const struct taskvma_query *)&nq, &m) == -EINVAL);
	taskvma_map_free(m);
	m = NULL;
	{
		/* the padding after the last field is not a field: what a
		 * compound literal (TASKVMA_OPTS) leaves there is accepted */
		struct taskvma_query pq;
		size_t end = offsetof(struct taskvma_query, no_gate) + sizeof(pq.no_gate);

		memset(&pq, 0, sizeof(pq));
		pq.sz = sizeof(pq);
		memset((char *)&pq + end, 0xa5, sizeof(pq) - end);
		CHECK("snapshot: non-zero padding after the last field -> accepted",
		      taskvma_snapshot(tv, child, &pq, &m) == 0);
		taskvma_map_free(m);
	}
	CHECK("visit: larger visitor, tail zero -> accepted",
	      taskvma_visit(tv, child, NULL, (const struct taskvma_visitor *)&nv, NULL) == 0);
	nv.extra = 1;
	CHECK("visit: larger visitor, tail non-zero -> -EINVAL",
	      taskvma_visit(tv, child, NULL, (const struct taskvma_visitor *)&nv, NULL) == -EINVAL);
	CHECK("visit_all: larger visitor, tail non-zero -> -EINVAL",
	      taskvma_visit_all(tv, NULL, (const struct taskvma_visitor *)&nv, NULL, NULL) == -EINVAL);
	CHECK("lookup: larger opts, tail zero -> accepted",
	      taskvma_lookup(tv, child, &addr, 1, &ai, (const struct taskvma_lookup_opts *)&nl) == 0);
	nl.extra = 1;
	CHECK("lookup: larger opts, tail non-zero -> -EINVAL",
	      taskvma_lookup(tv, child, &addr, 1, &ai, (const struct taskvma_lookup_opts *)&nl) == -EINVAL);
	nw.extra = 1;
	CHECK("watch_new: larger opts, tail non-zero -> -EINVAL",
	      taskvma_watch_new(tv, (const struct taskvma_watch_opts *)&nw, NULL, NULL, &w) == -EINVAL);
	nt.extra = 1;
	CHECK("trace_open: larger opts, tail non-zero -> -EINVAL",
	      taskvma_trace_open(&tr, (const struct taskvma_trace_opts *)&nt, msg) == -EINVAL);
	nf.extra = 1;
	CHECK("features_probe: larger opts, tail non-zero -> -EINVAL",
	      taskvma_features_probe(&f, (const struct taskvma_features_opts *)&nf) == -EINVAL);
	CHECK("backend_reason: no command-line hint",
	      !strstr(taskvma_backend_reason(tv), "-v") && !strstr(taskvma_backend_reason(tv), "--"));
	taskvma_close(tv);
}

struct worker {
	enum taskvma_backend backend;
	int rounds_ok, err_ok;
	char why[200];
};

static void *work(void *arg)
{
	struct worker *wk = arg;
	TASKVMA_OPTS(taskvma_opts, o, .backend = wk->backend);
	struct taskvma *tv = NULL;
	char *buf = malloc(ref_len + 8192);
	int err;

	if (!buf || (err = taskvma_open(&tv, &o))) {
		snprintf(wk->why, sizeof(wk->why), "open: %d", buf ? err : -ENOMEM);
		free(buf);
		return NULL;
	}
	for (int r = 0; r < ROUNDS; r++) {
		struct taskvma_map *m = NULL;
		size_t n = 0;

		err = taskvma_snapshot(tv, child, NULL, &m);
		if (err) {
			snprintf(wk->why, sizeof(wk->why), "snapshot: %s", taskvma_last_error(tv));
			break;
		}
		for (size_t i = 0; i < m->count && n < ref_len + 4096; i++)
			n += taskvma_format_maps_line(&m->vmas[i], buf + n, ref_len + 8192 - n);
		taskvma_map_free(m);
		if (n != ref_len || memcmp(buf, ref, n)) {
			snprintf(wk->why, sizeof(wk->why), "round %d: text differs from /proc", r);
			break;
		}
		wk->rounds_ok++;
		/* an error on this handle: its own message, whatever the others do */
		if (taskvma_snapshot(tv, 0x7ffffff0, NULL, &m) == -ESRCH &&
		    strstr(taskvma_last_error(tv), "2147483632"))
			wk->err_ok++;
		taskvma_map_free(m);
	}
	taskvma_close(tv);
	free(buf);
	return NULL;
}

static void threads(void)
{
	static const enum taskvma_backend backends[] = { TASKVMA_BACKEND_PROCFS,
							 TASKVMA_BACKEND_PROCMAP, TASKVMA_BACKEND_AUTO };
	pthread_t t[NTHREADS];
	struct worker wk[NTHREADS];
	char name[128];

	for (int i = 0; i < NTHREADS; i++) {
		memset(&wk[i], 0, sizeof(wk[i]));
		wk[i].backend = backends[i % 3];
		pthread_create(&t[i], NULL, work, &wk[i]);
	}
	for (int i = 0; i < NTHREADS; i++) {
		pthread_join(t[i], NULL);
		snprintf(name, sizeof(name), "thread %d (%s): %d snapshots = /proc text%s%s", i,
			 taskvma_backend_name(wk[i].backend), ROUNDS, wk[i].why[0] ? "; " : "", wk[i].why);
		CHECK(name, wk[i].rounds_ok == ROUNDS);
		snprintf(name, sizeof(name), "thread %d: its own error message each time", i);
		CHECK(name, wk[i].err_ok == ROUNDS);
	}
}

int main(void)
{
	char path[64];
	FILE *f;
	int st;

	CHECK_STR("taskvma_version() = the header's", TASKVMA_VERSION_STRING, taskvma_version());
	child = fork();
	if (child == 0) {
		pause();
		_exit(0);
	}
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)child);
	/* the child's map is settled once it sleeps in pause() */
	for (int i = 0; i < 200; i++) {
		char stat[512] = "";

		snprintf(stat, sizeof(stat), "/proc/%d/stat", (int)child);
		f = fopen(stat, "r");
		if (f && fgets(stat, sizeof(stat), f) && strstr(stat, ") S ")) {
			fclose(f);
			break;
		}
		if (f)
			fclose(f);
		usleep(10000);
	}
	f = fopen(path, "r");
	ref = malloc(1 << 20);
	if (!f || !ref)
		return 1;
	ref_len = fread(ref, 1, 1 << 20, f);
	fclose(f);
	opts_valid();
	threads();
	kill(child, SIGKILL);
	waitpid(child, &st, 0);
	free(ref);
	return check_end();
}
