// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* taskvma watch: a process's map, live: what appears and disappears. */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cli.h"

static const char watch_usage[] =
	"Usage: taskvma watch [OPTIONS] PID\n"
	"Read PID's map every interval and print what changed: \"+ LINE\" for a new\n"
	"mapping, \"- LINE\" for one that went away (a changed mapping is both), each\n"
	"group after a line \"@ TIME pid PID: N changes\".  Only complete walks are\n"
	"compared: a walk that saw the map change under it is read again.\n"
	"\n"
	"  -i, --interval=SEC   between reads (default 1, decimals allowed)\n"
	"  -c, --count=N        stop after N reads with changes\n"
	"  -d, --duration=SEC   stop after SEC seconds\n"
	"  -j, --json           one JSON object per change (JSON Lines)\n"
	"      --backend=NAME   auto (default), bpf, procmap, procfs\n"
	"\n"
	"Ends with exit 0 at Ctrl-C, SIGTERM, --count, --duration, or when the process\n"
	"exits (\"pid N exited\" on stderr).\n"
	"\n"
	"EXAMPLES\n"
	"  taskvma watch 1234\n"
	"  taskvma watch --interval=0.1 --json $(pidof myserver)\n";

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

struct watch_ctx {
	bool json;
	pid_t pid;
	const char *comm;
	char *line;
	size_t cap;
};

static void print_change(void *arg, int added, const struct taskvma_vma *v)
{
	struct watch_ctx *c = arg;
	size_t n = c->json ? taskvma_format_json(v, c->pid, c->comm, NULL, 0)
			   : taskvma_format_maps_line(v, NULL, 0);

	if (n + 1 > c->cap) {
		char *p = realloc(c->line, n + 1);

		if (!p)
			return;
		c->line = p;
		c->cap = n + 1;
	}
	if (c->json) {
		taskvma_format_json(v, c->pid, c->comm, c->line, c->cap);
		printf("{\"change\":\"%s\",\"mapping\":%s}\n", added ? "added" : "removed", c->line);
	} else {
		taskvma_format_maps_line(v, c->line, c->cap);
		printf("%c %s", added ? '+' : '-', c->line);
	}
}

static int parse_seconds(const char *s, double *out)
{
	char *end;
	double v = strtod(s, &end);

	/* !(v > 0): NaN too */
	if (end == s || *end || !(v > 0) || v > 86400 * 365)
		return -EINVAL;
	*out = v;
	return 0;
}

static struct timespec to_timespec(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };

	/* rounding may give 1e9 ns, which nanosleep() refuses */
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	} else if (ts.tv_nsec < 0) {
		ts.tv_nsec = 0;
	}
	return ts;
}

static double since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) + (now.tv_nsec - t0->tv_nsec) / 1e9;
}

int cmd_watch(int argc, char **argv, struct cli_global *g)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{ "json", no_argument, NULL, 'j' },
		{ "interval", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'c' },
		{ "duration", required_argument, NULL, 'd' },
		{},
	};
	struct watch_ctx c = {};
	struct taskvma *tv = NULL;
	struct taskvma_map *old = NULL;
	double interval = 1, duration = 0;
	long count = 0, seen = 0;
	struct timespec t0;
	int opt, r, err, ret = EXIT_OK;
	char *end;

	while ((opt = cli_getopt(argc, argv, "watch", "ji:c:d:", longopts, g)) != -1) {
		switch (opt) {
		case 'h': fputs(watch_usage, stdout); return EXIT_OK;
		case 'j': c.json = true; break;
		case 'i':
			if (parse_seconds(optarg, &interval)) {
				cli_err("bad --interval '%s': seconds > 0", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'd':
			if (parse_seconds(optarg, &duration)) {
				cli_err("bad --duration '%s': seconds > 0", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'c':
			count = strtol(optarg, &end, 10);
			if (*end || end == optarg || count <= 0) {
				cli_err("bad --count '%s': a number > 0", optarg);
				return EXIT_USAGE;
			}
			break;
		default:	/* '?': cli_getopt() said why */
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		cli_err("watch needs exactly one PID");
		return EXIT_USAGE;
	}
	if (cli_parse_pid(argv[optind], &c.pid)) {
		cli_err("invalid PID '%s'", argv[optind]);
		return EXIT_USAGE;
	}
	if ((r = cli_open(g, &tv)))
		return r;
	err = taskvma_snapshot(tv, c.pid, NULL, &old);
	if (err) {
		cli_err("%s", taskvma_last_error(tv));
		taskvma_close(tv);
		taskvma_map_free(old);
		return cli_exit_code(err);
	}
	/* handlers first: a signal sent as soon as this line is seen must end
	 * the watch cleanly (exit 0), not kill it */
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	fprintf(stderr, "taskvma: watching pid %d (%s): %zu mappings\n", (int)c.pid, old->comm,
		old->count);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!stop) {
		struct taskvma_map *cur = NULL;
		struct timespec ts;
		double wait = interval;
		size_t n;

		if (duration) {
			/* --duration ends it on time, even within a long interval */
			double left = duration - since(&t0);

			if (left <= 0)
				break;
			if (left < wait)
				wait = left;
		}
		ts = to_timespec(wait);
		nanosleep(&ts, NULL);
		if (stop || (duration && since(&t0) >= duration))
			break;
		err = taskvma_snapshot(tv, c.pid, NULL, &cur);
		if (err == -EAGAIN) {
			/* still changing: compare when a walk is clean */
			taskvma_map_free(cur);
			continue;
		}
		if (err) {
			if (err == -ESRCH || err == -ENOENT)
				fprintf(stderr, "taskvma: pid %d exited\n", (int)c.pid);
			else {
				cli_err("%s", taskvma_last_error(tv));
				ret = cli_exit_code(err);
			}
			break;
		}
		n = taskvma_map_diff(old, cur, NULL, NULL);
		if (n) {
			struct timespec wall;
			char stamp[64];

			clock_gettime(CLOCK_REALTIME, &wall);
			strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", gmtime(&wall.tv_sec));
			if (!c.json)
				printf("@ %s.%03ldZ pid %d: %zu changes\n", stamp, wall.tv_nsec / 1000000,
				       (int)c.pid, n);
			c.comm = cur->comm;	/* as it is now (exec changes it) */
			taskvma_map_diff(old, cur, print_change, &c);
			fflush(stdout);
			seen++;
		}
		taskvma_map_free(old);
		old = cur;
		if (count && seen >= count)
			break;
	}
	taskvma_map_free(old);
	free(c.line);
	taskvma_close(tv);
	return ret;
}
