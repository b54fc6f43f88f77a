// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* taskvma maps: /proc/PID/maps, from the kernel's VMA iterator. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "output.h"

static const char maps_usage[] =
	"Usage: taskvma maps [OPTIONS] PID...\n"
	"       taskvma maps [OPTIONS] --all\n"
	"Print memory maps exactly as /proc/PID/maps does (byte for byte), or as JSON.\n"
	"A map is printed only when it was read completely; otherwise an error says why.\n"
	"\n"
	"Which processes: PIDs, --all, or (on their own or with PIDs):\n"
	"  -a, --all            every process (kernel threads and vanished processes skipped)\n"
	"  -p, --pid=PID[,PID]  these processes (as operands)\n"
	"  -c, --comm=COMM      processes whose comm is COMM\n"
	"  -g, --cgroup=PATH    processes in this cgroup v2 or below\n"
	"  -u, --uid=USER       processes of this real uid (number or name)\n"
	"Which mappings:\n"
	"  -P, --perms=PAT      permissions like /proc's field, '?' = any: ??x? rw-p r?-?\n"
	"      --file           only file-backed mappings\n"
	"      --anon           only mappings without a file\n"
	"  -r, --range=LO-HI    only mappings that overlap [LO, HI) (hex addresses)\n"
	"  -N, --name=GLOB      only mappings whose name matches GLOB (fnmatch)\n"
	"Output (the /proc text unless one of these):\n"
	"  -s, --sizes          pmap's view: START-END SIZE PERMS NAME, and a totals line per\n"
	"                       process (mapped, writeable/private, shared, as pmap -d)\n"
	"      --bytes          sizes exact, in bytes (default: human, 4K 1.5M 2G); implies\n"
	"                       --sizes unless --summary\n"
	"      --summary        one line per process: mappings by kind, size, writeable,\n"
	"                       shared and executable sizes\n"
	"      --svg            an SVG picture of the address space (several processes or\n"
	"                       --all: one row each)\n"
	"  -H, --with-pid       \"PID (COMM) \" before every line instead of headers (for grep)\n"
	"  -j, --json           one JSON document (docs/json.md)\n"
	"  -q, --quiet          no \"==> PID (COMM) <==\" headers, no totals, no table header\n"
	"                       (as pmap -q), no note that a map is not an atomic snapshot\n"
	"      --backend=NAME   auto (default), bpf, procmap, procfs\n"
	"      --consistent     only atomic snapshots: procmap/procfs stop the process's\n"
	"                       threads (ptrace) while reading, bpf when the map changed\n"
	"                       during every walk; exit 6 if it cannot be stopped\n"
	"  -v, --verbose        backend choice, retries, skipped processes\n"
	"\n"
	"Several PIDs or --all: each block starts with a line \"==> PID (COMM) <==\".\n"
	"\n"
	"EXAMPLES\n"
	"  taskvma maps $$\n"
	"  taskvma maps --json 1 $$\n"
	"  taskvma maps --all --perms=??x? --file\n"
	"  taskvma maps --range=7f0000000000-7fffffffffff --name='*libc*' 1234\n"
	"  taskvma maps --sizes $$\n"
	"  taskvma maps --summary --all\n"
	"  taskvma maps --all -H --name=libc.so.6 | grep bash\n"
	"  taskvma maps --svg $$ > map.svg\n";

struct maps_ctx {
	struct out out;
	struct taskvma *tv;
	int verbose;
	int worst;		/* exit code */
	bool all;
	bool consistent;	/* --consistent */
	uint64_t skipped_denied;
	bool filtered;		/* a mapping filter: processes without a match are left out */
	uint64_t no_match;	/* ... counted for -v */
	uint64_t not_atomic;	/* printed without an atomic snapshot */
	pid_t not_atomic_pid;	/* the first of them */
};

/* ??x? -> perm_set / perm_clear */
static int parse_perms(const char *s, uint32_t *set, uint32_t *clear)
{
	static const char on[] = "rwxs", off[] = "---p";
	static const uint32_t bit[] = { TASKVMA_PERM_READ, TASKVMA_PERM_WRITE, TASKVMA_PERM_EXEC,
					TASKVMA_PERM_SHARED };

	if (strlen(s) != 4)
		return -EINVAL;
	*set = *clear = 0;
	for (int i = 0; i < 4; i++) {
		if (s[i] == '?')
			continue;
		if (s[i] == on[i])
			*set |= bit[i];
		else if (s[i] == off[i])
			*clear |= bit[i];
		else
			return -EINVAL;
	}
	return 0;
}

static int parse_range(const char *s, uint64_t *lo, uint64_t *hi)
{
	char buf[64];
	const char *dash = strchr(s, '-');

	if (!dash || (size_t)(dash - s) >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, dash - s);
	buf[dash - s] = 0;
	if (cli_parse_addr(buf, lo) || cli_parse_addr(dash + 1, hi) || *lo >= *hi)
		return -EINVAL;
	return 0;
}

/* The visitor: spool each process, print it only once its walk is known
 * to be complete. */
static int v_begin(void *arg, pid_t pid, const char *comm)
{
	out_proc_start(&((struct maps_ctx *)arg)->out, pid, comm);
	return 0;
}

static int v_vma(void *arg, const struct taskvma_vma *v)
{
	out_proc_vma(&((struct maps_ctx *)arg)->out, v);
	return 0;
}

static int v_end(void *arg, pid_t pid, int err)
{
	struct maps_ctx *c = arg;
	char msg[300];

	if (err == TASKVMA_RETRY) {
		out_proc_discard(&c->out);
		return 0;
	}
	/* --all (or a selection) with --perms/--name/...: only the processes
	 * that have a matching mapping are printed, not a header for each */
	if (!err && c->all && c->filtered && !c->out.count) {
		out_proc_discard(&c->out);
		c->no_match++;
		return 0;
	}
	c->out.consistent = !err && (taskvma_visit_flags(c->tv) & TASKVMA_MAP_ATOMIC);
	if (!err && (err = out_proc_commit(&c->out))) {
		if (cli_out_failed())
			return 1;	/* stdout is gone: stop; main() says why */
		snprintf(msg, sizeof(msg), "pid %d: output spool: %s", (int)pid, strerror(-err));
		out_error(&c->out, pid, msg);
		c->worst = c->worst ? c->worst : EXIT_FAIL;
		return 0;
	}
	out_proc_discard(&c->out);
	if (!err) {
		if (!c->out.consistent && !c->not_atomic++)
			c->not_atomic_pid = pid;
		return 0;
	}
	if (c->all && (err == -EACCES || err == -EPERM)) {
		c->skipped_denied++;
		out_skip(&c->out, pid, OUT_SKIP_DENIED);
		return 0;
	}
	/* a selected process that exited or is a kernel thread: skipped as in
	 * --all (visit_all never delivers these), and said in the JSON */
	if (c->all && (err == -ESRCH || err == -ENOENT)) {
		out_skip(&c->out, pid, out_skip_reason(err));
		return 0;
	}
	if (err == -EAGAIN)	/* also under "errors", with its message */
		out_skip(&c->out, pid, OUT_SKIP_TORN);
	/* --consistent that could not freeze: the library names the cause */
	if (err == -EAGAIN && c->consistent && taskvma_last_error(c->tv)[0])
		snprintf(msg, sizeof(msg), "%s", taskvma_last_error(c->tv));
	else if (c->all || !taskvma_last_error(c->tv)[0])
		snprintf(msg, sizeof(msg), "pid %d: %s", (int)pid,
			 err == -EAGAIN ? "map changed during every walk; not printed (incomplete)"
					: taskvma_strerror(err));
	else
		snprintf(msg, sizeof(msg), "%s", taskvma_last_error(c->tv));
	out_error(&c->out, pid, msg);
	if (c->worst == EXIT_OK)
		c->worst = cli_exit_code(err);
	return 0;
}

/* visit_all: vanished processes and those without an address space */
static void v_skip(void *arg, pid_t pid, int err)
{
	out_skip(&((struct maps_ctx *)arg)->out, pid, out_skip_reason(err));
}

static const struct taskvma_visitor maps_visitor = {
	.sz = sizeof(struct taskvma_visitor),
	.begin = v_begin,
	.vma = v_vma,
	.end = v_end,
	.skip = v_skip,
};

static void note_not_atomic(const struct maps_ctx *c, bool one)
{
	enum taskvma_backend b = taskvma_backend(c->tv);
	char how[64];

	/* auto with BPF: the processes BPF cannot see were read by a fallback */
	if (b == TASKVMA_BACKEND_BPF)
		snprintf(how, sizeof(how), "a fallback backend");
	else
		snprintf(how, sizeof(how), "%s", taskvma_backend_name(b));
	fflush(stdout);
	if (one && c->not_atomic == 1)
		fprintf(stderr,
			"taskvma: note: pid %d read with %s: not an atomic snapshot "
			"(--consistent freezes the process while reading)\n",
			(int)c->not_atomic_pid, how);
	else
		fprintf(stderr,
			"taskvma: note: %llu process%s read with %s: not atomic snapshots "
			"(--consistent freezes each process while reading)\n",
			(unsigned long long)c->not_atomic, c->not_atomic == 1 ? "" : "es", how);
}

int cmd_maps(int argc, char **argv, struct cli_global *g)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		CLI_SEL_LONGOPTS,
		{ "all", no_argument, NULL, 'a' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "json", no_argument, NULL, 'j' },
		{ "perms", required_argument, NULL, 'P' },
		{ "file", no_argument, NULL, 'F' },
		{ "anon", no_argument, NULL, 'A' },
		{ "range", required_argument, NULL, 'r' },
		{ "name", required_argument, NULL, 'N' },
		{ "sizes", no_argument, NULL, 's' },
		{ "bytes", no_argument, NULL, 'Y' },
		{ "summary", no_argument, NULL, 'S' },
		{ "svg", no_argument, NULL, 'G' },
		{ "with-pid", no_argument, NULL, 'H' },
		{ "consistent", no_argument, NULL, 'C' },
		{},
	};
	struct taskvma_query q = { .sz = sizeof(q) };
	struct maps_ctx c = {};
	bool all = false, json = false, file = false, anon = false, quiet = false;
	bool sizes = false, bytes = false, summary = false, svg_out = false, with_pid = false;
	struct taskvma_svg *svg = NULL;
	int view;
	pid_t *pids = NULL;
	size_t npids = 0;
	bool sel, consistent = false;
	int opt, r, ret = EXIT_OK;

	while ((opt = cli_getopt(argc, argv, "maps", CLI_SEL_SHORTOPTS "aqjP:r:N:sH", longopts, g)) != -1) {
		switch (opt) {
		case 'h': fputs(maps_usage, stdout); return EXIT_OK;
		case 'a': all = true; break;
		case 'q': quiet = true; break;
		case 'j': json = true; break;
		case 'F': file = true; break;
		case 'A': anon = true; break;
		case 'P':
			if (parse_perms(optarg, &q.perm_set, &q.perm_clear)) {
				cli_err("bad --perms '%s': 4 characters like ??x? or rw-p", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'r':
			if (parse_range(optarg, &q.addr_lo, &q.addr_hi)) {
				cli_err("bad --range '%s': want LO-HI in hex, LO < HI", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'N': q.name_glob = optarg; break;
		case 's': sizes = true; break;
		case 'Y': bytes = true; break;
		case 'S': summary = true; break;
		case 'G': svg_out = true; break;
		case 'H': with_pid = true; break;
		case 'C': consistent = true; break;
		default:	/* '?': cli_getopt() said why */
			return EXIT_USAGE;
		}
	}
	if (file && anon) {
		cli_err("--file and --anon exclude each other");
		return EXIT_USAGE;
	}
	/* one view at a time; --bytes is the unit of the size view or the summary */
	if (bytes && !summary)
		sizes = true;
	if (sizes + summary + svg_out > 1) {
		cli_err("%s", svg_out ? "--svg excludes --sizes, --bytes and --summary"
				      : "--sizes and --summary exclude each other");
		return EXIT_USAGE;
	}
	if (svg_out && json) {
		cli_err("--svg and --json exclude each other");
		return EXIT_USAGE;
	}
	if (with_pid && (json || svg_out)) {
		cli_err("--with-pid is for text lines, not %s", json ? "--json" : "--svg");
		return EXIT_USAGE;
	}
	view = sizes ? OUT_VIEW_SIZES : summary ? OUT_VIEW_SUMMARY : svg_out ? OUT_VIEW_SVG : OUT_VIEW_MAPS;
	if (file)
		q.kinds = 1u << TASKVMA_KIND_FILE;
	if (anon)
		q.kinds = ~(1u << TASKVMA_KIND_FILE) & 0x3f;
	/* all PIDs are checked before anything is printed */
	if ((r = cli_sel_add_operands(&g->sel, argc - optind, argv + optind)))
		return r;
	if (all && g->sel.npids) {
		cli_err("--all takes no PID");
		return EXIT_USAGE;
	}
	/* --comm, --cgroup, --uid: the processes that match, read like --all */
	sel = cli_sel_filtered(&g->sel);
	if (!all && !sel && !g->sel.npids) {
		cli_err("maps needs a PID, a selection or --all (see taskvma help maps)");
		return EXIT_USAGE;
	}
	if (sel) {
		if ((r = cli_sel_resolve(&g->sel, &pids, &npids)))
			return r;
		all = false;
	} else if (!all) {
		pids = g->sel.pids;
		npids = g->sel.npids;
		g->sel.pids = NULL;
	}
	if ((r = cli_open_consistent(g, consistent, &c.tv))) {
		free(pids);
		return r;
	}
	c.verbose = g->verbose;
	c.consistent = consistent;
	c.filtered = q.perm_set || q.perm_clear || q.kinds || q.addr_lo || q.addr_hi || q.name_glob;
	if (svg_out) {
		TASKVMA_OPTS(taskvma_svg_opts, so, .overview = all || sel || npids > 1);

		if ((r = taskvma_svg_new(&svg, &so))) {
			cli_err("the picture: %s", strerror(-r));
			taskvma_close(c.tv);
			free(pids);
			return EXIT_FAIL;
		}
	}
	out_begin(&c.out, stdout, json, !quiet && !with_pid && (all || sel || npids > 1),
		  taskvma_backend_name(taskvma_backend(c.tv)));
	out_view(&c.out, view, bytes ? TASKVMA_SIZE_BYTES : TASKVMA_SIZE_HUMAN, quiet, with_pid, svg);
	if (all) {
		struct taskvma_all_stats st = { .sz = sizeof(st) };
		int err;

		c.all = true;
		err = taskvma_visit_all(c.tv, &q, &maps_visitor, &c, &st);

		if (err && !cli_out_failed()) {
			cli_err("%s", taskvma_last_error(c.tv)[0] ? taskvma_last_error(c.tv)
								  : taskvma_strerror(err));
			c.worst = cli_exit_code(err);
		}
		if (c.skipped_denied)
			cli_err("skipped %llu process%s: permission denied",
				(unsigned long long)c.skipped_denied, c.skipped_denied == 1 ? "" : "es");
		if (g->verbose && c.filtered)
			fprintf(stderr, "taskvma: %llu process%s without a matching mapping (not printed)\n",
				(unsigned long long)c.no_match, c.no_match == 1 ? "" : "es");
		if (g->verbose)
			fprintf(stderr,
				"taskvma: %llu process%s, %llu mapping%s; skipped %llu kernel threads/zombies, "
				"%llu vanished; %llu changed during every walk\n",
				(unsigned long long)st.processes, st.processes == 1 ? "" : "es",
				(unsigned long long)st.vmas, st.vmas == 1 ? "" : "s",
				(unsigned long long)st.kernel_threads, (unsigned long long)st.vanished,
				(unsigned long long)st.torn);
	} else {
		/* a selection is read like --all: vanished and unreadable processes skipped */
		c.all = sel;
		for (size_t i = 0; i < npids && !cli_out_failed(); i++)
			taskvma_visit(c.tv, pids[i], &q, &maps_visitor, &c);
		if (c.skipped_denied)
			cli_err("skipped %llu process%s: permission denied",
				(unsigned long long)c.skipped_denied, c.skipped_denied == 1 ? "" : "es");
	}
	out_end(&c.out);
	/* text: say once that what was printed is not an atomic snapshot (the
	 * JSON says it per process: "consistent") */
	if (!json && !quiet && c.not_atomic && !cli_out_failed())
		note_not_atomic(&c, npids == 1 && !all && !sel);
	ret = c.worst;
	/* the picture: once every process is in it (nothing when the one PID
	 * asked for could not be read, as for the text) */
	if (svg && !cli_out_failed() && (c.out.blocks || all)) {
		r = taskvma_svg_write(svg, stdout);
		if (r && !cli_out_failed()) {
			cli_err("writing the picture: %s", strerror(-r));
			ret = ret ? ret : EXIT_FAIL;
		}
	}
	taskvma_svg_free(svg);
	taskvma_close(c.tv);
	free(pids);
	return ret;
}
