// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* taskvma features: what this kernel supports for this caller, each answer
 * from a probe that ran (taskvma_features_probe()), and the backend auto
 * picks.  JSON schema: docs/features.md. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "cli.h"
#include "taskvma_features.h"

static const char features_usage[] =
	"Usage: taskvma features [OPTIONS]\n"
	"Probe what this kernel supports, for this caller, and say which backend\n"
	"`--backend=auto` picks and why.  Every line is a probe that ran here: a BPF\n"
	"program handed to the verifier (loaded, never attached, closed at once), a\n"
	"lookup in the kernel's BTF, an ioctl, a file read, capget(2).  Nothing is\n"
	"guessed from the kernel version.\n"
	"\n"
	"Probes:\n"
	"  system      caller's CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN, CAP_NET_ADMIN;\n"
	"              lockdown mode; kernel.unprivileged_bpf_disabled\n"
	"  kfunc       bpf_iter_task_vma_new/_next/_destroy in the kernel's BTF, and their\n"
	"              semantics (v6.7 mmap lock, or the per-VMA snapshot rework)\n"
	"  prog_type   for each program type the kfunc's documentation lists, plus\n"
	"              RAW_TRACEPOINT, TRACEPOINT, PERF_EVENT: does the verifier accept\n"
	"              a program of that type calling the three kfuncs (else its reason)\n"
	"  dependency  what taskvma needs: the BPF walker program, bpf_task_from_pid,\n"
	"              trace's tracepoints, ring buffer, PROCMAP_QUERY (+ build IDs),\n"
	"              /proc/PID/maps\n"
	"  backend     what auto picks, and why\n"
	"Status: supported, unsupported (the kernel's reason follows), or not_run (could\n"
	"not be probed as this caller; the reason follows).\n"
	"\n"
	"  -j, --json           one JSON document (schema in docs/features.md)\n"
	"      --quick          only what auto needs (a few ms): caps, kfuncs, the BPF\n"
	"                       walker program, PROCMAP_QUERY, /proc/self/maps\n"
	"      --backend=NAME   also say whether this backend is usable here\n"
	"  -v, --verbose        each probe as it runs, libbpf's warnings; -vv: the\n"
	"                       verifier's log of every refused program, libbpf debug\n"
	"  -h, --help           this help\n"
	"\n"
	"Exit codes: 0 probed (whatever the answers), 1 failure, 2 usage, 7 the backend\n"
	"asked with --backend is not usable here (the report is printed all the same).\n"
	"\n"
	"EXAMPLES\n"
	"  taskvma features                      # the table\n"
	"  taskvma features --json | python3 -m json.tool\n"
	"  taskvma features --quick --backend=bpf\n"
	"  setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \\\n"
	"      taskvma features                  # what an unprivileged user gets\n";

static int feat_verbose;

/* libbpf's own messages: hidden unless -v (warnings, info) / -vv (debug). */
static int feat_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (feat_verbose < 1 || (level == LIBBPF_DEBUG && feat_verbose < 2))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static void feat_log(enum taskvma_log_level level, const char *msg, void *ctx)
{
	(void)ctx;
	(void)level;
	fflush(stdout);
	fprintf(stderr, "taskvma: %s\n", msg);
}

static void json_str_or_null(FILE *f, const char *s)
{
	if (s)
		cli_json_str(f, s, strlen(s));
	else
		fputs("null", f);
}

static const char *bool_str(int v)
{
	return v ? "true" : "false";
}

/* Is backend b usable here, per the probes? */
static int backend_usable(const struct taskvma_features *f, enum taskvma_backend b)
{
	switch (b) {
	case TASKVMA_BACKEND_BPF: return f->bpf_walker;
	case TASKVMA_BACKEND_PROCMAP: return f->procmap_query;
	case TASKVMA_BACKEND_PROCFS: return f->proc_maps_readable;
	default: return 1;
	}
}

static const char *backend_probe(enum taskvma_backend b)
{
	switch (b) {
	case TASKVMA_BACKEND_BPF: return "bpf_walker";
	case TASKVMA_BACKEND_PROCMAP: return "procmap_query";
	case TASKVMA_BACKEND_PROCFS: return "proc_maps_self";
	default: return "auto_backend";
	}
}

static void print_json(FILE *out, const struct taskvma_features *f, const struct utsname *u,
		       const struct cli_global *g)
{
	fputs("{\n  \"schema\": \"taskvma.features/1\",\n  \"kernel\": ", out);
	cli_json_str(out, u->release, strlen(u->release));
	fprintf(out, ",\n  \"uid\": %u,\n  \"quick\": %s,\n  \"elapsed_us\": %llu,\n",
		(unsigned)geteuid(), bool_str(f->quick), (unsigned long long)f->elapsed_us);
	fputs("  \"summary\": {\n", out);
	fprintf(out, "    \"kfuncs_present\": %s,\n", bool_str(f->kfuncs_present));
	fprintf(out, "    \"semantics\": \"%s\",\n", taskvma_iter_semantics_name(f->semantics));
	fprintf(out, "    \"bpf_walker\": %s,\n", bool_str(f->bpf_walker));
	fprintf(out, "    \"procmap_query\": %s,\n", bool_str(f->procmap_query));
	fprintf(out, "    \"procmap_build_id\": %s,\n", bool_str(f->procmap_build_id));
	fprintf(out, "    \"proc_maps_readable\": %s,\n", bool_str(f->proc_maps_readable));
	fprintf(out, "    \"cap_bpf\": %s,\n", bool_str(f->cap_bpf));
	fprintf(out, "    \"cap_perfmon\": %s,\n", bool_str(f->cap_perfmon));
	fprintf(out, "    \"cap_sys_admin\": %s,\n", bool_str(f->cap_sys_admin));
	fprintf(out, "    \"cap_net_admin\": %s,\n", bool_str(f->cap_net_admin));
	fputs("    \"lockdown\": ", out);
	json_str_or_null(out, f->lockdown);
	fputs(",\n    \"unprivileged_bpf_disabled\": ", out);
	if (f->unprivileged_bpf_disabled >= 0)
		fprintf(out, "%d", f->unprivileged_bpf_disabled);
	else
		fputs("null", out);
	fprintf(out, ",\n    \"auto_backend\": \"%s\",\n    \"auto_reason\": ",
		taskvma_backend_name(f->auto_backend));
	json_str_or_null(out, f->auto_reason ? f->auto_reason : "");
	fputs(",\n    \"requested_backend\": ", out);
	if (g->backend != TASKVMA_BACKEND_AUTO)
		fprintf(out, "\"%s\",\n    \"requested_usable\": %s\n",
			taskvma_backend_name(g->backend), bool_str(backend_usable(f, g->backend)));
	else
		fputs("null,\n    \"requested_usable\": null\n", out);
	fputs("  },\n  \"probes\": [", out);
	for (size_t i = 0; i < f->nprobes; i++) {
		const struct taskvma_probe *p = &f->probes[i];
		/* 524: the kernel-internal ENOTSUPP that bpf() can return */
		const char *en = !p->err ? NULL : p->err == 524 ? "ENOTSUPP" : strerrorname_np(p->err);

		fputs(i ? ",\n    {" : "\n    {", out);
		fputs("\"name\": ", out);
		json_str_or_null(out, p->name);
		fprintf(out, ", \"category\": \"%s\", \"status\": \"%s\", \"errno\": ",
			taskvma_probe_category_name(p->category), taskvma_probe_status_name(p->status));
		if (p->err && en)
			json_str_or_null(out, en);
		else if (p->err)
			fprintf(out, "\"E%d\"", p->err);
		else
			fputs("null", out);
		fputs(", \"value\": ", out);
		json_str_or_null(out, p->value);
		fputs(", \"prog_type\": ", out);
		json_str_or_null(out, p->prog_type);
		fputs(", \"section\": ", out);
		json_str_or_null(out, p->section);
		fputs(", \"task_source\": ", out);
		json_str_or_null(out, p->task_source);
		fputs(", \"documented\": ", out);
		fputs(p->documented < 0 ? "null" : bool_str(p->documented), out);
		fputs(", \"task_from_pid\": ", out);
		fputs(p->task_from_pid < 0 ? "null" : bool_str(p->task_from_pid), out);
		fputs(", \"detail\": ", out);
		json_str_or_null(out, p->detail ? p->detail : "");
		fputc('}', out);
	}
	fputs("\n  ]\n}\n", out);
}

/* Columns to fit: the terminal's, or 80 when stdout is not a terminal. */
static int out_width(FILE *out)
{
	struct winsize ws;

	if (isatty(fileno(out)) && !ioctl(fileno(out), TIOCGWINSZ, &ws) && ws.ws_col >= 40)
		return ws.ws_col;
	return 80;
}

/* text from column `col` on, words wrapped at `width`, continuation lines
 * indented to `indent` (a word longer than a line gets a line of its own) */
static void put_wrapped(FILE *out, const char *text, int col, int indent, int width)
{
	const char *p = text;
	bool first = true;

	while (*p == ' ')
		p++;
	while (*p) {
		size_t w = strcspn(p, " ");

		if (!first && col + 1 + (int)w > width) {
			fprintf(out, "\n%*s", indent, "");
			col = indent;
		} else if (!first) {
			fputc(' ', out);
			col++;
		}
		fwrite(p, 1, w, out);
		col += (int)w;
		first = false;
		p += w;
		while (*p == ' ')
			p++;
	}
	fputc('\n', out);
}

static void print_text(FILE *out, const struct taskvma_features *f, const struct utsname *u,
		       const struct cli_global *g)
{
	int width = out_width(out), indent;
	char *detail = NULL;
	size_t dlen = 0;
	FILE *d;
	int wc = (int)strlen("CATEGORY"), wn = (int)strlen("PROBE"), ws = (int)strlen("STATUS");

	for (size_t i = 0; i < f->nprobes; i++) {
		const struct taskvma_probe *p = &f->probes[i];
		int n = (int)strlen(taskvma_probe_category_name(p->category));

		if (n > wc)
			wc = n;
		n = (int)strlen(p->name);
		if (n > wn)
			wn = n;
		n = (int)strlen(taskvma_probe_status_name(p->status));
		if (n > ws)
			ws = n;
	}
	fprintf(out, "taskvma features: kernel %s, uid %u, %s probe in %.1f ms\n\n", u->release,
		(unsigned)geteuid(), f->quick ? "quick" : "full", (double)f->elapsed_us / 1000.0);
	fprintf(out, "%-*s  %-*s  %-*s  %s\n", wc, "CATEGORY", wn, "PROBE", ws, "STATUS", "DETAIL");
	/* DETAIL wraps under itself; when the columns before it leave less
	 * than 30 columns, it goes on the lines below, indented by 4 */
	indent = wc + wn + ws + 6;
	if (width - indent < 30)
		indent = 4;
	for (size_t i = 0; i < f->nprobes; i++) {
		const struct taskvma_probe *p = &f->probes[i];
		int col;

		if (indent == 4)	/* DETAIL below: no padding at the end of the line */
			col = fprintf(out, "%-*s  %-*s  %s", wc, taskvma_probe_category_name(p->category),
				      wn, p->name, taskvma_probe_status_name(p->status));
		else
			col = fprintf(out, "%-*s  %-*s  %-*s  ", wc,
				      taskvma_probe_category_name(p->category), wn, p->name, ws,
				      taskvma_probe_status_name(p->status));
		d = open_memstream(&detail, &dlen);
		if (!d)
			continue;
		if (p->value)
			fprintf(d, "%s: ", p->value);
		fputs(p->detail ? p->detail : "", d);
		if (p->category == TASKVMA_PROBE_CAT_PROG_TYPE && p->documented == 0)
			fputs(" [type not listed by the kfunc documentation]", d);
		fclose(d);
		if (col > indent && indent == 4 && detail[0]) {
			fprintf(out, "\n%*s", indent, "");
			col = indent;
		}
		put_wrapped(out, detail, col, indent, width);
		free(detail);
		detail = NULL;
	}
	if (g->backend != TASKVMA_BACKEND_AUTO) {
		const struct taskvma_probe *p = taskvma_features_find(f, backend_probe(g->backend));

		d = open_memstream(&detail, &dlen);
		if (!d)
			return;
		fprintf(d, "requested backend %s: %s (%s)", taskvma_backend_name(g->backend),
			backend_usable(f, g->backend) ? "usable" : "not usable here",
			p && p->detail ? p->detail : "not probed");
		fclose(d);
		fputc('\n', out);
		put_wrapped(out, detail, 0, 4, width);
		free(detail);
	}
}

int cmd_features(int argc, char **argv, struct cli_global *g)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{ "json", no_argument, NULL, 'j' },
		{ "quick", no_argument, NULL, 'Q' },
		{},
	};
	struct taskvma_features *f = NULL;
	bool json = false, quick = false, usable;
	struct utsname u;
	int opt, r;

	while ((opt = cli_getopt(argc, argv, "features", "j", longopts, g)) != -1) {
		switch (opt) {
		case 'h': fputs(features_usage, stdout); return EXIT_OK;
		case 'j': json = true; break;
		case 'Q': quick = true; break;
		default:	/* '?': cli_getopt() said why */
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		cli_err("features takes no arguments ('%s')", argv[optind]);
		return EXIT_USAGE;
	}

	feat_verbose = g->verbose;
	libbpf_set_print(feat_libbpf_print);
	TASKVMA_OPTS(taskvma_features_opts, o, .flags = quick ? TASKVMA_FEATURES_QUICK : 0,
		     .log = g->verbose ? feat_log : NULL,
		     .log_level = g->verbose > 1 ? TASKVMA_LOG_DEBUG : TASKVMA_LOG_INFO);
	r = taskvma_features_probe(&f, &o);
	if (r) {
		cli_err("probing failed: %s", strerror(-r));
		return EXIT_FAIL;
	}
	if (uname(&u))
		snprintf(u.release, sizeof(u.release), "unknown");
	if (json)
		print_json(stdout, f, &u, g);
	else
		print_text(stdout, f, &u, g);
	/* --backend=X that the probes found unusable: say so in the exit code
	 * too, as every other command would (7) */
	usable = g->backend == TASKVMA_BACKEND_AUTO || backend_usable(f, g->backend);
	taskvma_features_free(f);
	if (fflush(stdout) || ferror(stdout)) {
		cli_err("writing output: %s", strerror(errno));
		cli_out_handled();
		return EXIT_FAIL;
	}
	return usable ? EXIT_OK : EXIT_UNSUPPORTED;
}
