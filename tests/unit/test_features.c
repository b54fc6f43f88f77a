// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Unit tests of taskvma_features_probe() (no arguments), and, with
 * `--load OBJ`, an independent loader for tests/cases/features.sh: every
 * program of the BPF object is loaded on its own through libbpf (open, only
 * that program autoloaded, load, close) and one JSON line per program says
 * whether the kernel accepted it.
 *
 * run.sh: exclusive bpf-probes (tests/cases/features.sh counts the tv_probe
 * programs left loaded while these load them)
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "taskvma.h"
#include "taskvma_features.h"
#include "check.h"

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

static void json_line_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

/* Last line of the verifier log that is not bookkeeping. */
static void last_line(const char *log, char *out, size_t len)
{
	const char *s = log, *best = NULL;
	size_t bl = 0;

	out[0] = '\0';
	while (s && *s) {
		const char *e = strchr(s, '\n');
		size_t n = e ? (size_t)(e - s) : strlen(s);

		if (n && strncmp(s, "processed ", 10) && strncmp(s, "verification time", 17) &&
		    strncmp(s, "stack depth", 11))
			best = s, bl = n;
		s = e ? e + 1 : NULL;
	}
	if (best) {
		if (bl >= len)
			bl = len - 1;
		memcpy(out, best, bl);
		out[bl] = '\0';
	}
}

static int load_each(const char *path)
{
	static char log[64 * 1024];
	struct bpf_object *obj;
	struct bpf_program *p;
	char **names = NULL;
	size_t n = 0;

	libbpf_set_print(quiet);
	obj = bpf_object__open_file(path, NULL);
	if (!obj) {
		fprintf(stderr, "open %s: %s\n", path, strerror(errno));
		return 1;
	}
	bpf_object__for_each_program(p, obj) {
		char **nn = realloc(names, (n + 1) * sizeof(*names));

		if (!nn)
			return 1;
		names = nn;
		names[n++] = strdup(bpf_program__name(p));
	}
	bpf_object__close(obj);

	for (size_t i = 0; i < n; i++) {
		char reason[512];
		int err;

		obj = bpf_object__open_file(path, NULL);
		if (!obj)
			return 1;
		bpf_object__for_each_program(p, obj) {
			int mine = !strcmp(bpf_program__name(p), names[i]);

			bpf_program__set_autoload(p, mine);
			if (!mine)
				continue;
			if (!strncmp(names[i], "p_netfilter", 11) &&
			    bpf_program__type(p) == BPF_PROG_TYPE_UNSPEC) {
				bpf_program__set_type(p, (enum bpf_prog_type)32 /* NETFILTER */);
				bpf_program__set_expected_attach_type(p,
					(enum bpf_attach_type)45 /* BPF_NETFILTER */);
			}
			log[0] = '\0';
			bpf_program__set_log_buf(p, log, sizeof(log));
			bpf_program__set_log_level(p, 1);
		}
		err = bpf_object__load(obj);
		last_line(log, reason, sizeof(reason));
		printf("{\"prog\": ");
		json_line_str(names[i]);
		printf(", \"ok\": %s, \"errno\": %d, \"reason\": ", err ? "false" : "true",
		       err < 0 ? -err : err);
		json_line_str(err && !reason[0] ? strerror(err < 0 ? -err : err) : reason);
		printf("}\n");
		bpf_object__close(obj);
		free(names[i]);
	}
	free(names);
	return 0;
}

static int valid_probe(const struct taskvma_probe *p)
{
	if (!p->name || !p->detail || strchr(p->detail, '\n'))
		return 0;
	if (p->status != TASKVMA_PROBE_SUPPORTED && p->status != TASKVMA_PROBE_UNSUPPORTED &&
	    p->status != TASKVMA_PROBE_NOT_RUN)
		return 0;
	if (p->category == TASKVMA_PROBE_CAT_PROG_TYPE)
		return p->prog_type && p->section && (p->documented == 0 || p->documented == 1) &&
		       (p->status == TASKVMA_PROBE_SUPPORTED) == (p->task_source != NULL);
	return p->prog_type == NULL && p->documented == -1;
}

static int count_fds(void)
{
	char path[64];
	int n = 0;

	for (int fd = 0; fd < 1024; fd++) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		n += access(path, F_OK) == 0;
	}
	return n;
}

static void unit_tests(void)
{
	struct taskvma_features *f = NULL, *q = NULL, *x = NULL;
	size_t nprog = 0, ndoc = 0, bad = 0, dups = 0;
	int r;

	int fds;

	libbpf_set_print(quiet);
	fds = count_fds();
	r = taskvma_features_probe(&f, NULL);
	CHECK("features: full probe returns 0", r == 0 && f);
	CHECK("features: no fd (program, map, BTF) left open", count_fds() == fds);
	if (!f)
		return;
	CHECK("features: full probe is not quick", f->quick == 0);
	for (size_t i = 0; i < f->nprobes; i++) {
		const struct taskvma_probe *p = &f->probes[i];

		if (!valid_probe(p)) {
			printf("# bad probe entry %s\n", p->name ? p->name : "(null)");
			bad++;
		}
		for (size_t j = 0; j < i; j++)
			if (!strcmp(f->probes[j].name, p->name))
				dups++;
		if (p->category == TASKVMA_PROBE_CAT_PROG_TYPE) {
			nprog++;
			if (p->documented)
				ndoc++;
		}
	}
	CHECK("features: every probe entry well-formed", bad == 0);
	CHECK("features: probe names unique", dups == 0);
	/* 16 documented types, TRACING probed with 3 targets; 3 undocumented. */
	CHECK("features: 21 program-type probes", nprog == 21);
	CHECK("features: 18 of them on documented types", ndoc == 18);
	CHECK("features: find() finds a probe", taskvma_features_find(f, "SYSCALL") != NULL);
	CHECK("features: find() of unknown is NULL", !taskvma_features_find(f, "nope"));
	CHECK("features: find(NULL) is NULL", !taskvma_features_find(NULL, "SYSCALL"));
	CHECK("features: auto backend is concrete", f->auto_backend != TASKVMA_BACKEND_AUTO &&
		  f->auto_reason && f->auto_reason[0]);
	CHECK("features: auto_backend probe agrees",
	      taskvma_features_find(f, "auto_backend") &&
	      !strcmp(taskvma_features_find(f, "auto_backend")->value,
		      taskvma_backend_name(f->auto_backend)));

	TASKVMA_OPTS(taskvma_features_opts, qo, .flags = TASKVMA_FEATURES_QUICK);
	r = taskvma_features_probe(&q, &qo);
	CHECK("features: quick probe returns 0", r == 0 && q);
	if (q) {
		int progs = 0;

		for (size_t i = 0; i < q->nprobes; i++)
			progs += q->probes[i].category == TASKVMA_PROBE_CAT_PROG_TYPE;
		CHECK("features: quick flag set", q->quick == 1);
		CHECK("features: quick runs no program-type probes", progs == 0);
		CHECK("features: quick has the walker probe", taskvma_features_find(q, "bpf_walker"));
		CHECK("features: quick has PROCMAP_QUERY", taskvma_features_find(q, "procmap_query"));
		CHECK("features: quick and full pick the same backend",
		      q->auto_backend == f->auto_backend);
		CHECK("features: quick and full agree on semantics", q->semantics == f->semantics);
		CHECK("features: quick has fewer probes", q->nprobes < f->nprobes);
	}
	taskvma_features_free(q);

	/* No kernel BTF: nothing BPF can be probed, the answer is a fallback. */
	TASKVMA_OPTS(taskvma_features_opts, nb, .btf_path = "/nonexistent/btf");
	r = taskvma_features_probe(&x, &nb);
	CHECK("features: missing BTF still returns 0", r == 0 && x);
	if (x) {
		const struct taskvma_probe *p = taskvma_features_find(x, "bpf_iter_task_vma_new");
		const struct taskvma_probe *s = taskvma_features_find(x, "SYSCALL");

		CHECK("features: missing BTF: kfunc probe not run",
		      p && p->status == TASKVMA_PROBE_NOT_RUN && strstr(p->detail, "/nonexistent/btf"));
		CHECK("features: missing BTF: prog types not run",
		      s && s->status == TASKVMA_PROBE_NOT_RUN);
		CHECK("features: missing BTF: semantics unknown", x->semantics == TASKVMA_SEM_UNKNOWN);
		CHECK("features: missing BTF: auto is not bpf", x->auto_backend != TASKVMA_BACKEND_BPF);
	}
	taskvma_features_free(x);
	x = NULL;

	/* A file that is not BTF. */
	TASKVMA_OPTS(taskvma_features_opts, nbt, .btf_path = "/etc/passwd",
		     .flags = TASKVMA_FEATURES_QUICK);
	r = taskvma_features_probe(&x, &nbt);
	CHECK("features: non-BTF file returns 0", r == 0 && x);
	if (x)
		CHECK("features: non-BTF file: kfunc probe not run",
		      taskvma_features_find(x, "bpf_iter_task_vma_new")->status ==
			      TASKVMA_PROBE_NOT_RUN);
	taskvma_features_free(x);
	x = NULL;

	/* A procfs that is not there. */
	TASKVMA_OPTS(taskvma_features_opts, np, .proc_root = "/nonexistent",
		     .flags = TASKVMA_FEATURES_QUICK);
	r = taskvma_features_probe(&x, &np);
	CHECK("features: missing procfs returns 0", r == 0 && x);
	if (x) {
		CHECK("features: missing procfs: PROCMAP_QUERY not run",
		      taskvma_features_find(x, "procmap_query")->status == TASKVMA_PROBE_NOT_RUN);
		CHECK("features: missing procfs: maps unreadable", x->proc_maps_readable == 0);
	}
	taskvma_features_free(x);
	x = NULL;

	/* OPTS convention: unknown trailing bytes must be zero. */
	{
		struct {
			struct taskvma_features_opts o;
			char tail[16];
		} big;

		memset(&big, 0, sizeof(big));
		big.o.sz = sizeof(big);
		big.o.flags = TASKVMA_FEATURES_QUICK;
		r = taskvma_features_probe(&x, &big.o);
		CHECK("features: larger opts with zero tail accepted", r == 0);
		taskvma_features_free(x);
		x = NULL;
		big.tail[3] = 1;
		r = taskvma_features_probe(&x, &big.o);
		CHECK("features: larger opts with non-zero tail is -EINVAL", r == -EINVAL && !x);
		big.o.sz = 1;
		r = taskvma_features_probe(&x, &big.o);
		CHECK("features: opts.sz too small is -EINVAL", r == -EINVAL);
		CHECK("features: NULL out is -EINVAL", taskvma_features_probe(NULL, NULL) == -EINVAL);
	}

	CHECK_STR("features: status name", "not_run",
		  taskvma_probe_status_name(TASKVMA_PROBE_NOT_RUN));
	CHECK_STR("features: category name", "prog_type",
		  taskvma_probe_category_name(TASKVMA_PROBE_CAT_PROG_TYPE));
	CHECK_STR("features: semantics name", "per_vma_snapshot",
		  taskvma_iter_semantics_name(TASKVMA_SEM_PER_VMA_SNAPSHOT));
	taskvma_features_free(NULL);
	CHECK("features: free(NULL) is a no-op", 1);
	taskvma_features_free(f);
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--load"))
		return load_each(argv[2]);
	if (argc != 1) {
		fprintf(stderr, "usage: %s [--load BPF_OBJECT]\n", argv[0]);
		return 2;
	}
	unit_tests();
	return check_end();
}
