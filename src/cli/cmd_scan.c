// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* taskvma scan: mappings worth a second look, across every process. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "output.h"

static const char scan_usage[] =
	"Usage: taskvma scan [OPTIONS] [PID...]\n"
	"Report suspicious executable memory in every process (or the PIDs given).\n"
	"Only executable mappings are read: the filter runs in the kernel.\n"
	"\n"
	"Rules (all by default):\n"
	"  wx            writable and executable at once\n"
	"  anon-exec     executable anonymous memory (JIT code, injected code)\n"
	"  deleted-exec  executable mapping of a deleted file\n"
	"  memfd-exec    executable memfd (code that never touched a disk)\n"
	"  stack-exec    executable [stack]\n"
	"  heap-exec     executable [heap]\n"
	"\n"
	"  -R, --rules=LIST     comma-separated rules to apply\n"
	"  -p, --pid=PID[,PID]  these processes (as operands)\n"
	"  -c, --comm=COMM      processes whose comm is COMM\n"
	"  -g, --cgroup=PATH    processes in this cgroup v2 or below\n"
	"  -u, --uid=USER       processes of this real uid (number or name)\n"
	"  -j, --json           one JSON document\n"
	"      --backend=NAME   auto (default), bpf, procmap, procfs\n"
	"\n"
	"Output: one line per finding, \"PID (COMM) RULES MAPS-LINE\", and a summary on\n"
	"stderr.  Exit 0 when the scan completed (findings or not), else as\n"
	"taskvma --help says.\n"
	"\n"
	"EXAMPLES\n"
	"  taskvma scan\n"
	"  taskvma scan --rules=wx,memfd-exec --json\n"
	"  taskvma scan 1234\n";

struct finding {
	uint32_t rules;
	char *line;	/* maps line without "\n" */
	char *json;
};

struct scan_ctx {
	struct taskvma *tv;
	uint32_t rules;
	bool json, all, sel;
	pid_t pid;
	char comm[16];
	struct finding *f;
	size_t n, cap;
	uint64_t findings, procs, denied;
	uint64_t nvmas;		/* mappings read from the current process */
	FILE *procs_f;		/* JSON: "processes" entries */
	char *procs_buf;
	size_t procs_len;
	int worst;
	struct out errs;	/* for errors only */
};

static void drop(struct scan_ctx *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->f[i].line);
		free(c->f[i].json);
	}
	c->n = 0;
}

static int s_begin(void *arg, pid_t pid, const char *comm)
{
	struct scan_ctx *c = arg;

	drop(c);
	c->nvmas = 0;
	c->pid = pid;
	snprintf(c->comm, sizeof(c->comm), "%s", comm);
	return 0;
}

static int s_vma(void *arg, const struct taskvma_vma *v)
{
	struct scan_ctx *c = arg;
	uint32_t r = taskvma_suspicious(v) & c->rules;
	size_t n;

	c->nvmas++;
	if (!r)
		return 0;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		struct finding *p = realloc(c->f, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		c->f = p;
		c->cap = cap;
	}
	n = taskvma_format_maps_line(v, NULL, 0);
	c->f[c->n].line = malloc(n + 1);
	n = taskvma_format_json(v, -1, "", NULL, 0);
	c->f[c->n].json = malloc(n + 1);
	if (!c->f[c->n].line || !c->f[c->n].json)
		return -ENOMEM;
	n = taskvma_format_maps_line(v, c->f[c->n].line, taskvma_format_maps_line(v, NULL, 0) + 1);
	c->f[c->n].line[n - 1] = 0;	/* no "\n" */
	taskvma_format_json(v, -1, "", c->f[c->n].json, taskvma_format_json(v, -1, "", NULL, 0) + 1);
	c->f[c->n].rules = r;
	c->n++;
	return 0;
}

static void print_rules(FILE *f, uint32_t r, bool json)
{
	bool first = true;

	for (uint32_t bit = 1; bit <= TASKVMA_SUSPECT_ALL; bit <<= 1) {
		if (!(r & bit))
			continue;
		fprintf(f, json ? "%s\"%s\"" : "%s%s", first ? "" : ",", taskvma_suspect_name(bit));
		first = false;
	}
}

static int s_end(void *arg, pid_t pid, int err)
{
	struct scan_ctx *c = arg;
	char msg[300];

	if (err == TASKVMA_RETRY) {
		drop(c);
		return 0;
	}
	if (!err) {
		/* the same "processes" entries as maps --json, plus findings */
		if (c->procs_f) {
			fprintf(c->procs_f, "%s{\"pid\":%d,", c->procs ? "," : "", (int)pid);
			cli_json_comm(c->procs_f, c->comm);
			fprintf(c->procs_f, ",\"complete\":true,\"count\":%llu,\"findings\":%zu}",
				(unsigned long long)c->nvmas, c->n);
		}
		c->procs++;
		for (size_t i = 0; i < c->n; i++) {
			if (c->json) {
				fprintf(stdout, "%s{\"pid\":%d,", c->findings ? "," : "", (int)pid);
				cli_json_comm(stdout, c->comm);
				fputs(",\"rules\":[", stdout);
				print_rules(stdout, c->f[i].rules, true);
				fprintf(stdout, "],\"mapping\":%s}", c->f[i].json);
			} else {
				char comm[TASKVMA_COMM_ESC_MAX];

				fprintf(stdout, "%d (%s) ", (int)pid, cli_comm(c->comm, comm));
				print_rules(stdout, c->f[i].rules, false);
				fprintf(stdout, " %s\n", c->f[i].line);
			}
			c->findings++;
		}
		drop(c);
		return cli_out_failed() ? 1 : 0;	/* stdout is gone: stop */
	}
	drop(c);
	if ((c->all || c->sel) && (err == -EACCES || err == -EPERM)) {
		c->denied++;
		out_skip(&c->errs, pid, OUT_SKIP_DENIED);
		return 0;
	}
	if (c->sel && (err == -ESRCH || err == -ENOENT)) {
		out_skip(&c->errs, pid, out_skip_reason(err));
		return 0;
	}
	if (err == -EAGAIN)	/* also under "errors", with its message */
		out_skip(&c->errs, pid, OUT_SKIP_TORN);
	snprintf(msg, sizeof(msg), "%s", taskvma_last_error(c->tv)[0] && !c->all
		 ? taskvma_last_error(c->tv) : "");
	if (!msg[0])
		snprintf(msg, sizeof(msg), "pid %d: %s", (int)pid, taskvma_strerror(err));
	out_error(&c->errs, pid, msg);
	if (c->worst == EXIT_OK)
		c->worst = cli_exit_code(err);
	return 0;
}

/* visit_all: vanished processes and those without an address space */
static void s_skip(void *arg, pid_t pid, int err)
{
	out_skip(&((struct scan_ctx *)arg)->errs, pid, out_skip_reason(err));
}

static int parse_rules(const char *s, uint32_t *out)
{
	char *dup = strdup(s), *tok, *save = NULL;
	int err = 0;

	if (!dup)
		return -ENOMEM;
	*out = 0;
	for (tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		uint32_t bit;

		for (bit = 1; bit <= TASKVMA_SUSPECT_ALL; bit <<= 1)
			if (!strcmp(tok, taskvma_suspect_name(bit)))
				break;
		if (bit > TASKVMA_SUSPECT_ALL) {
			err = -EINVAL;
			break;
		}
		*out |= bit;
	}
	free(dup);
	return err ? err : (*out ? 0 : -EINVAL);
}

int cmd_scan(int argc, char **argv, struct cli_global *g)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		CLI_SEL_LONGOPTS,
		{ "json", no_argument, NULL, 'j' },
		{ "rules", required_argument, NULL, 'R' },
		{},
	};
	static const struct taskvma_visitor vis = {
		.sz = sizeof(struct taskvma_visitor),
		.begin = s_begin,
		.vma = s_vma,
		.end = s_end,
		.skip = s_skip,
	};
	/* only executable mappings are suspicious: filter in the kernel */
	struct taskvma_query q = { .sz = sizeof(q), .perm_set = TASKVMA_PERM_EXEC, .no_gate = 1 };
	struct scan_ctx c = { .rules = TASKVMA_SUSPECT_ALL };
	pid_t *pids = NULL;
	size_t npids = 0;
	bool sel;
	int opt, r, err = 0;

	while ((opt = cli_getopt(argc, argv, "scan", CLI_SEL_SHORTOPTS "jR:", longopts, g)) != -1) {
		switch (opt) {
		case 'h': fputs(scan_usage, stdout); return EXIT_OK;
		case 'j': c.json = true; break;
		case 'R':
			if (parse_rules(optarg, &c.rules)) {
				cli_err("bad --rules '%s' (see taskvma scan --help)", optarg);
				return EXIT_USAGE;
			}
			break;
		default:	/* '?': cli_getopt() said why */
			return EXIT_USAGE;
		}
	}
	if ((r = cli_sel_add_operands(&g->sel, argc - optind, argv + optind)))
		return r;
	/* --comm, --cgroup, --uid: the processes that match, skipped like in a
	 * whole-machine scan when they vanish or may not be read */
	sel = cli_sel_filtered(&g->sel);
	if (sel && (r = cli_sel_resolve(&g->sel, &pids, &npids)))
		return r;
	if (!sel) {
		pids = g->sel.pids;
		npids = g->sel.npids;
		g->sel.pids = NULL;
	}
	if ((r = cli_open(g, &c.tv))) {
		free(pids);
		return r;
	}
	c.all = !sel && npids == 0;
	c.sel = sel;
	/* errors go to stderr, and with --json also to "errors", as for maps */
	memset(&c.errs, 0, sizeof(c.errs));
	c.errs.json = c.json;
	if (c.json)
		printf("{\"schema\":\"taskvma.scan/1\",\"backend\":\"%s\",\"findings\":[",
		       taskvma_backend_name(taskvma_backend(c.tv)));
	if (c.json && !(c.procs_f = open_memstream(&c.procs_buf, &c.procs_len))) {
		cli_err("out of memory");
		taskvma_close(c.tv);
		free(pids);
		return EXIT_FAIL;
	}
	if (c.all) {
		struct taskvma_all_stats st = { .sz = sizeof(st) };

		err = taskvma_visit_all(c.tv, &q, &vis, &c, &st);
	} else {
		for (size_t i = 0; i < npids && !cli_out_failed(); i++)
			taskvma_visit(c.tv, pids[i], &q, &vis, &c);
	}
	/* the pass itself failed (the process listing, the kernel walk): in
	 * "errors" as pid 0, so that the document does not read as a clean
	 * scan of what it did see; on stderr once */
	if (err && !cli_out_failed()) {
		out_error(&c.errs, 0, taskvma_last_error(c.tv)[0] ? taskvma_last_error(c.tv)
								 : taskvma_strerror(err));
		c.worst = cli_exit_code(err);
	}
	if (c.json) {
		fclose(c.procs_f);
		c.procs_f = NULL;
		printf("],\"processes\":[%s],\"count\":%llu,\"errors\":[%s]", c.procs_buf ? c.procs_buf : "",
		       (unsigned long long)c.findings, c.errs.errs ? c.errs.errs : "");
		free(c.procs_buf);
		out_skipped_json(&c.errs, stdout);
		fputs("}\n", stdout);
	}
	fflush(stdout);
	/* a summary of findings that did not reach the output would mislead:
	 * main() reports the failed write instead; nor after a failed pass */
	if (!cli_out_failed() && !err)
		fprintf(stderr, "taskvma: scanned %llu process%s: %llu finding%s%s\n",
			(unsigned long long)c.procs, c.procs == 1 ? "" : "es",
			(unsigned long long)c.findings, c.findings == 1 ? "" : "s",
			c.denied ? "; some processes skipped: permission denied" : "");
	drop(&c);
	free(c.f);
	free(c.errs.errs);
	free(c.errs.skips);
	taskvma_close(c.tv);
	free(pids);
	return c.worst;
}
