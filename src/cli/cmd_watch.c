// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* taskvma watch: processes' maps, live, from kernel events (docs/watch.md). */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"

static const char watch_usage[] =
	"Usage: taskvma watch [OPTIONS] PID... | --all | --comm=NAME | --cgroup=PATH\n"
	"Print each watched process's map (\"= LINE\"), then one record per change as the\n"
	"kernel reports it: \"+ LINE\" a new mapping, \"- LINE\" one that went away,\n"
	"\"~ OLD\" + \"> NEW\" one that changed (same start; end, permissions or name),\n"
	"each group under \"@ TIME pid PID (COMM) seq N CAUSE: N changes\".  Where the\n"
	"kernel's tracepoints cannot be used, it re-reads every --interval instead\n"
	"(said once on stderr).\n"
	"\n"
	"  -a, --all            every process, those started later too\n"
	"  -p, --pid=PID[,PID]  these processes (as operands)\n"
	"  -c, --comm=NAME      processes named NAME (now, and when they exec or change)\n"
	"  -g, --cgroup=PATH    processes in this cgroup v2 or below it\n"
	"  -u, --uid=USER       processes of this real uid (those running at the start)\n"
	"  -f, --follow         watch the children of watched processes too\n"
	"  -j, --json           JSON Lines, schema taskvma.watch/1 (docs/watch.md)\n"
	"      --no-snapshot    leave out the initial maps\n"
	"      --check=DUR      every DUR compare each mirrored map with a fresh read;\n"
	"                       differences are \"drift\" records\n"
	"      --poll           re-read every --interval instead of kernel events\n"
	"  -i, --interval=DUR   polling interval (default 1s; 500ms, 2s; a bare number\n"
	"                       is seconds)\n"
	"  -n, --count=N        stop after N groups of changes\n"
	"  -d, --duration=DUR   stop DUR after the start, snapshots included (500ms, 2s, 5m)\n"
	"      --backend=NAME   how maps are read: auto (default), bpf, procmap, procfs\n"
	"\n"
	"Ends with exit 0 at Ctrl-C, SIGTERM, --count, --duration, or when every PID\n"
	"given has exited (\"taskvma: pid N exited\" on stderr).\n"
	"\n"
	"EXAMPLES\n"
	"  taskvma watch 1234\n"
	"  taskvma watch --json --all --no-snapshot\n";

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

enum { OPT_NOSNAP = 256, OPT_CHECK, OPT_POLL };

struct wctx {
	bool json, by_pid;
	long count, groups;
	uint64_t drift;
	char host[256];
	char boot_id[40];
	char *line, *line2;
	size_t cap, cap2;
	int werr;	/* a write failed */
};

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The text of v (maps line or JSON object) in *buf. */
static const char *fmt(struct wctx *c, const struct taskvma_vma *v, char **buf, size_t *cap)
{
	size_t n = c->json ? taskvma_format_json(v, 0, NULL, NULL, 0)
			   : taskvma_format_maps_line(v, NULL, 0);

	if (n + 1 > *cap) {
		char *p = realloc(*buf, n + 1);

		if (!p)
			return NULL;
		*buf = p;
		*cap = n + 1;
	}
	if (c->json)
		taskvma_format_json(v, 0, NULL, *buf, *cap);
	else
		taskvma_format_maps_line(v, *buf, *cap);
	return *buf;
}

static void stamp(uint64_t ns, char *out, size_t len)
{
	time_t s = (time_t)(ns / 1000000000ull);
	struct tm tm;
	char d[32];

	gmtime_r(&s, &tm);
	strftime(d, sizeof(d), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, len, "%s.%06lluZ", d, (unsigned long long)(ns % 1000000000ull / 1000));
}

static bool is_change(enum taskvma_watch_kind k)
{
	return k == TASKVMA_WATCH_ADDED || k == TASKVMA_WATCH_REMOVED || k == TASKVMA_WATCH_CHANGED;
}

static void print_json(struct wctx *c, const struct taskvma_watch_event *e)
{
	char ts[48];
	const char *m = e->vma ? fmt(c, e->vma, &c->line, &c->cap) : NULL;
	const char *o = e->old ? fmt(c, e->old, &c->line2, &c->cap2) : NULL;

	if ((e->vma && !m) || (e->old && !o)) {
		c->werr = ENOMEM;
		return;
	}
	stamp(e->ts_ns, ts, sizeof(ts));
	printf("{\"schema\":\"taskvma.watch/1\",\"ts\":\"%s\",\"ts_ns\":%llu,\"hostname\":", ts,
	       (unsigned long long)e->ts_ns);
	cli_json_str(stdout, c->host, strlen(c->host));
	printf(",\"boot_id\":\"%s\",\"pid\":%d,", c->boot_id, (int)e->pid);
	cli_json_comm(stdout, e->comm);
	printf(",\"seq\":%llu,\"event\":\"%s\",\"cause\":\"%s\"", (unsigned long long)e->seq,
	       taskvma_watch_kind_name(e->kind), taskvma_watch_cause_name(e->cause));
	if (e->syscall >= 0)
		printf(",\"syscall\":%d", e->syscall);
	if (e->tid > 0)
		printf(",\"tid\":%d", (int)e->tid);
	if (e->kind == TASKVMA_WATCH_FORK)
		printf(",\"child\":%d", (int)e->child);
	printf(",\"resync\":%s,\"range\":%s,\"remote\":%s",
	       e->flags & TASKVMA_WATCH_F_RESYNC ? "true" : "false",
	       e->flags & TASKVMA_WATCH_F_RANGE ? "true" : "false",
	       e->flags & TASKVMA_WATCH_F_REMOTE ? "true" : "false");
	if (m)
		printf(",\"mapping\":%s", m);
	if (o)
		printf(",\"old\":%s", o);
	fputs("}\n", stdout);
}

static void print_text(struct wctx *c, const struct taskvma_watch_event *e)
{
	char ts[48];
	const char *m, *o;

	if (e->batch_i == 0) {
		stamp(e->ts_ns, ts, sizeof(ts));
		char comm[TASKVMA_COMM_ESC_MAX];

		printf("@ %s pid %d (%s) seq %llu %s%s", ts, (int)e->pid, cli_comm(e->comm, comm),
		       (unsigned long long)e->seq, taskvma_watch_cause_name(e->cause),
		       e->flags & TASKVMA_WATCH_F_RESYNC ? " resync" : "");
		switch (e->kind) {
		case TASKVMA_WATCH_SNAPSHOT: printf(": %u mappings\n", e->batch_n); break;
		case TASKVMA_WATCH_EXEC:
		case TASKVMA_WATCH_EXIT: putchar('\n'); break;
		case TASKVMA_WATCH_FORK: printf(": child %d\n", (int)e->child); break;
		case TASKVMA_WATCH_DRIFT: printf(": %u drift\n", e->batch_n); break;
		default: printf(": %u change%s\n", e->batch_n, e->batch_n == 1 ? "" : "s"); break;
		}
	}
	m = e->vma ? fmt(c, e->vma, &c->line, &c->cap) : NULL;
	o = e->old ? fmt(c, e->old, &c->line2, &c->cap2) : NULL;
	if ((e->vma && !m) || (e->old && !o)) {
		c->werr = ENOMEM;
		return;
	}
	switch (e->kind) {
	case TASKVMA_WATCH_SNAPSHOT: printf("= %s", m); break;
	case TASKVMA_WATCH_ADDED: printf("+ %s", m); break;
	case TASKVMA_WATCH_REMOVED: printf("- %s", m); break;
	case TASKVMA_WATCH_CHANGED:
	case TASKVMA_WATCH_DRIFT:
		if (o && m)
			printf("~ %s> %s", o, m);
		else if (o)
			printf("- %s", o);
		else if (m)
			printf("+ %s", m);
		break;
	default: break;
	}
}

static int on_record(void *ctx, const struct taskvma_watch_event *e)
{
	struct wctx *c = ctx;

	if (c->json)
		print_json(c, e);
	else
		print_text(c, e);
	if (e->kind == TASKVMA_WATCH_DRIFT)
		c->drift++;
	if (e->kind == TASKVMA_WATCH_EXIT && c->by_pid)
		fprintf(stderr, "taskvma: pid %d exited\n", (int)e->pid);
	if (e->batch_i + 1 == e->batch_n) {
		if (fflush(stdout) && !c->werr)
			c->werr = errno ? errno : EIO;
		if (is_change(e->kind))
			c->groups++;
	}
	if (c->werr)
		return -c->werr;
	if (c->count && c->groups >= c->count)
		return 1;	/* stop: --count reached */
	return 0;
}

static void read_identity(struct wctx *c)
{
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");

	if (gethostname(c->host, sizeof(c->host) - 1))
		c->host[0] = 0;
	c->boot_id[0] = 0;
	if (f) {
		if (fgets(c->boot_id, sizeof(c->boot_id), f))
			c->boot_id[strcspn(c->boot_id, "\n")] = 0;
		fclose(f);
	}
}

int cmd_watch(int argc, char **argv, struct cli_global *g)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{ "json", no_argument, NULL, 'j' },
		{ "all", no_argument, NULL, 'a' },
		{ "follow", no_argument, NULL, 'f' },
		CLI_SEL_LONGOPTS,
		{ "no-snapshot", no_argument, NULL, OPT_NOSNAP },
		{ "check", required_argument, NULL, OPT_CHECK },
		{ "poll", no_argument, NULL, OPT_POLL },
		{ "interval", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'n' },
		{ "duration", required_argument, NULL, 'd' },
		{},
	};
	TASKVMA_OPTS(taskvma_watch_opts, wo);
	struct wctx c = {};
	struct taskvma *tv = NULL;
	struct taskvma_watch *w = NULL;
	double duration = 0, check = 0, t0, next_check = 0;
	pid_t *pids = NULL;
	size_t npids = 0;
	int opt, r, err, ret = EXIT_OK;
	char *end;

	wo.poll_interval = 1;
	while ((opt = cli_getopt(argc, argv, "watch", CLI_SEL_SHORTOPTS "jafi:n:d:", longopts, g)) != -1) {
		switch (opt) {
		case 'h': fputs(watch_usage, stdout); return EXIT_OK;
		case 'j': c.json = true; break;
		case 'a': wo.all = 1; break;
		case 'f': wo.follow_forks = 1; break;
		case OPT_NOSNAP: wo.no_snapshot_records = 1; break;
		case OPT_POLL: wo.force_poll = 1; break;
		case OPT_CHECK:
			if (cli_parse_duration(optarg, &check)) {
				cli_err("bad --check '%s': a duration > 0 (500ms, 2s, 1m)", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'i':
			if (cli_parse_duration(optarg, &wo.poll_interval)) {
				cli_err("bad --interval '%s': a duration > 0 (500ms, 2s, 1m)", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'd':
			if (cli_parse_duration(optarg, &duration)) {
				cli_err("bad --duration '%s': a duration > 0 (500ms, 2s, 5m)", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'n':
			c.count = strtol(optarg, &end, 10);
			if (*end || end == optarg || c.count <= 0) {
				cli_err("bad --count '%s': a number > 0", optarg);
				return EXIT_USAGE;
			}
			break;
		default:	/* '?': cli_getopt() said why */
			return EXIT_USAGE;
		}
	}
	if ((r = cli_sel_add_operands(&g->sel, argc - optind, argv + optind)))
		return r;
	if (g->sel.has_uid) {
		/* the library follows --comm and --cgroup as processes come and
		 * go; --uid is resolved here, once (with the other filters) */
		if ((r = cli_sel_resolve(&g->sel, &pids, &npids)))
			return r;
		if (!npids) {
			cli_err("watch: no process matches the selection");
			return EXIT_NOPROC;
		}
	} else {
		wo.comm = g->sel.comm;
		wo.cgroup = g->sel.cgroup_arg;
		pids = g->sel.pids;
		npids = g->sel.npids;
		g->sel.pids = NULL;
		g->sel.npids = 0;
	}
	if ((wo.all != 0) + (wo.comm != NULL) + (wo.cgroup != NULL) + (npids > 0) != 1) {
		cli_err("watch needs PIDs, --all, --comm or --cgroup (one of them)");
		free(pids);
		return EXIT_USAGE;
	}
	c.by_pid = npids > 0;
	read_identity(&c);
	if ((r = cli_open(g, &tv))) {
		free(pids);
		return r;
	}
	/* handlers first: a signal sent as soon as the start line is seen
	 * must end the watch cleanly (exit 0), not kill it */
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	/* --duration counts from here: the snapshots are part of the watch
	 * (those of a 1,000,000-VMA process take about 10 s); they are always
	 * printed whole, and a watch whose snapshots took longer than the
	 * duration ends right after them */
	t0 = mono_now();
	err = taskvma_watch_new(tv, &wo, on_record, &c, &w);
	if (err) {
		cli_err("%s", taskvma_last_error(tv));
		ret = cli_exit_code(err);
		goto out;
	}
	if (taskvma_watch_mode(w) == TASKVMA_WATCH_POLLING)
		fprintf(stderr, "taskvma: polling every %gs (%s)\n", wo.poll_interval,
			taskvma_watch_reason(w));
	else if (g->verbose)
		fprintf(stderr, "taskvma: %s\n", taskvma_watch_reason(w));
	for (size_t i = 0; i < npids; i++) {
		const struct taskvma_vma *v;
		size_t n;

		err = taskvma_watch_add(w, pids[i]);
		if (err < 0) {
			cli_err("%s", taskvma_last_error(tv));
			if (!ret)
				ret = cli_exit_code(err);
			continue;
		}
		if (taskvma_watch_vmas(w, pids[i], &v, &n) == 0)
			fprintf(stderr, "taskvma: watching pid %d (%s): %zu mappings\n", (int)pids[i],
				taskvma_watch_comm(w, pids[i]), n);
	}
	if (npids && !taskvma_watch_count(w))
		goto out;	/* none could be read: the first failure's code */
	if (!npids) {
		err = taskvma_watch_add_matching(w);
		if (err < 0) {
			cli_err("%s", taskvma_last_error(tv));
			ret = cli_exit_code(err);
			goto out;
		}
		fprintf(stderr, "taskvma: watching %zu process%s\n", taskvma_watch_count(w),
			taskvma_watch_count(w) == 1 ? "" : "es");
	}
	if (fflush(stdout))
		c.werr = errno;
	if (check)
		next_check = mono_now() + check;
	while (!stop && !c.werr && !(c.count && c.groups >= c.count)) {
		int timeout = 200;
		double now = mono_now();

		if (duration) {
			double left = duration - (now - t0);

			if (left <= 0) {
				/* what happened before the deadline and is queued */
				r = taskvma_watch_poll(w, 0);
				if (r < 0 && r != -EINTR && !c.werr) {
					cli_err("watch: %s", strerror(-r));
					ret = EXIT_FAIL;
				}
				break;
			}
			if (left * 1000 < timeout)
				timeout = (int)(left * 1000) + 1;
		}
		if (check && next_check - now < timeout / 1000.0)
			timeout = next_check > now ? (int)((next_check - now) * 1000) + 1 : 0;
		r = taskvma_watch_poll(w, timeout);
		if (r < 0 && r != -EINTR && !c.werr) {
			cli_err("watch: %s", strerror(-r));
			ret = EXIT_FAIL;
			break;
		}
		if (npids && !taskvma_watch_count(w))
			break;	/* every PID exited */
		if (check && mono_now() >= next_check) {
			size_t n = taskvma_watch_count(w);
			pid_t *ps = malloc((n + 1) * sizeof(*ps));

			if (ps) {
				n = taskvma_watch_pids(w, ps, n);
				for (size_t i = 0; i < n && !c.werr; i++)
					taskvma_watch_check(w, ps[i]);
				free(ps);
			}
			next_check = mono_now() + check;
		}
	}
	if (c.werr) {
		/* the same line main() prints for the other commands */
		cli_err("writing the output: %s", strerror(c.werr));
		cli_out_handled();
		ret = EXIT_FAIL;
	}
	if (check)
		fprintf(stderr, "taskvma: check: %llu drift records\n",
			(unsigned long long)c.drift);
	if (g->verbose) {
		struct taskvma_watch_stats st;

		taskvma_watch_get_stats(w, &st);
		fprintf(stderr,
			"taskvma: %llu kernel events, %llu lost, %llu range reads, %llu whole reads, "
			"%llu records\n",
			(unsigned long long)st.events, (unsigned long long)st.lost,
			(unsigned long long)st.range_reads, (unsigned long long)st.whole_reads,
			(unsigned long long)st.records);
	}
out:
	taskvma_watch_free(w);
	free(pids);
	free(c.line);
	free(c.line2);
	taskvma_close(tv);
	return ret;
}
