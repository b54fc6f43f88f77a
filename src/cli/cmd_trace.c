// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* taskvma trace: capture a process's map, in the kernel, when an event fires.
 * Thin over taskvma_trace_* (src/lib/trace/trace.c). */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"
#include "taskvma_trace.h"

static const char trace_usage[] =
	"Usage: taskvma trace --on EVENT [--on EVENT...] [--pid PID | --comm NAME | --cgroup PATH]\n"
	"                     [OPTIONS]\n"
	"Capture a process's whole memory map at the moment an event fires, in the kernel,\n"
	"while the process is stopped at that point: the map /proc cannot show.  Each\n"
	"capture is a header line starting with '#' followed by the map, byte for byte as\n"
	"/proc/PID/maps prints it (or one JSON object per line with --json).\n"
	"\n"
	"Events (--on, may be repeated):\n"
	"  syscall[=NAME,...]   entry to any system call, or to the named ones (x86-64\n"
	"                       names such as getppid, openat, or numbers)\n"
	"  exec                 right after a successful exec: the new program's map\n"
	"  exit                 the process exits (its last thread), before its memory goes\n"
	"  signal[=SIG]         a signal that kills the process is delivered (SIGSEGV,\n"
	"                       SIGABRT, ... with the default action), or signal SIG\n"
	"                       whatever its handler; faults show the address (si_addr)\n"
	"\n"
	"Which processes (one of, default every process):\n"
	"  -o, --on=EVENT       the event (may be repeated)\n"
	"  -p, --pid=PID        this process (a thread id selects its process)\n"
	"  -c, --comm=NAME      tasks whose comm is NAME (at most 15 bytes)\n"
	"  -g, --cgroup=PATH    tasks in this cgroup v2 or below (path absolute or relative\n"
	"                       to the cgroup2 mount)\n"
	"\n"
	"Options:\n"
	"  -e, --every          capture every time (default: once per process and event)\n"
	"  -n, --count=N        stop after N captures (N >= 1)\n"
	"  -d, --duration=DUR   stop after DUR (500ms, 2s, 5m, 1h; a bare number is seconds)\n"
	"  -j, --json           one JSON object per capture, one per line (docs/trace.md)\n"
	"      --no-gate        leave out the [vsyscall] line\n"
	"  -b, --buffer-size=N  ring buffer bytes, power of 2, K/M suffix (default 4M)\n"
	"  -v, --verbose        say what happens (-vv: libbpf's messages too)\n"
	"\n"
	"Tracing stops at Ctrl-C, SIGTERM, --count, --duration, or when the --pid process\n"
	"is gone.  Everything is detached on exit; a summary goes to stderr.  Captures that\n"
	"lost records (ring buffer full) are marked INCOMPLETE, never shown as complete.\n"
	"Needs root (CAP_BPF, CAP_PERFMON) and Linux 6.7+.\n"
	"\n"
	"Exit codes: 0 ok, 1 failure, 2 usage, 3 no such process, 4 permission denied,\n"
	"  6 a capture was incomplete or lost, 7 the kernel cannot do it.\n"
	"\n"
	"EXAMPLES\n"
	"  taskvma trace --on syscall=mmap --pid 1234 --count 1\n"
	"  taskvma trace --on exec --comm myjob --json\n"
	"  taskvma trace --on exit --cgroup system.slice/foo.service --every\n"
	"  taskvma trace --on signal=SEGV --duration 1h       # the map at each crash\n"
	"  taskvma trace --on signal --on exit --pid 1234\n";

static volatile sig_atomic_t stop_sig;

static void on_stop(int sig)
{
	stop_sig = sig;
}

struct trace_ctx {
	int json;
	char *line;
	size_t line_cap;
	int out_err;		/* stdout failed (closed pipe...) */
	int oom;		/* no memory for a capture's lines: stopped before it */
};

static int parse_size(const char *s, size_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (*s < '0' || *s > '9')
		return -EINVAL;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	if (*end == 'K' || *end == 'k')
		v <<= 10, end++;
	else if (*end == 'M' || *end == 'm')
		v <<= 20, end++;
	else if (*end == 'G' || *end == 'g')
		v <<= 30, end++;
	if (*end || !v || (v & (v - 1)) || v < 4096 || v > (1ull << 30))
		return -EINVAL;
	*out = (size_t)v;
	return 0;
}

static int parse_count(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (*s < '0' || *s > '9')
		return -EINVAL;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return -EINVAL;
	*out = v;
	return 0;
}

static void fmt_time(uint64_t rt_ns, char *buf, size_t len)
{
	time_t t = (time_t)(rt_ns / 1000000000ull);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (unsigned)(rt_ns % 1000000000ull / 1000));
}

static char *fit(struct trace_ctx *c, size_t need)
{
	if (need > c->line_cap) {
		char *p = realloc(c->line, need);

		if (!p)
			return NULL;
		c->line = p;
		c->line_cap = need;
	}
	return c->line;
}

static void print_text(struct trace_ctx *c, const struct taskvma_trace_info *in,
		       const struct taskvma_vma *v, size_t n)
{
	char tbuf[80], sbuf[16];
	const char *sname;

	fmt_time(in->realtime_ns, tbuf, sizeof(tbuf));
	printf("# seq=%llu time=%s pid=%d tid=%d comm=", (unsigned long long)in->seq, tbuf,
	       (int)in->pid, (int)in->tid);
	cli_json_str(stdout, in->comm, strlen(in->comm));
	printf(" event=%s", taskvma_trace_event_name(in->event));
	switch (in->event) {
	case TASKVMA_TRACE_SYSCALL:
		sname = taskvma_syscall_name(in->syscall_nr);
		printf(" syscall=%s(%d)", sname ? sname : "?", in->syscall_nr);
		break;
	case TASKVMA_TRACE_EXEC:
		if (in->old_pid != in->pid)
			printf(" old_tid=%d", (int)in->old_pid);
		break;
	case TASKVMA_TRACE_SIGNAL:
		sname = taskvma_signal_name(in->signo, sbuf);
		printf(" signal=%s(%d) si_code=%d", sname ? sname : "?", in->signo, in->si_code);
		if (in->flags & TASKVMA_TRACE_FAULT_ADDR)
			printf(" addr=0x%llx", (unsigned long long)in->fault_addr);
		break;
	default:
		break;
	}
	printf(" vmas=%u", in->vmas_walked);
	if (in->err)
		printf(" error=\"%s\"", taskvma_strerror(in->err));
	if (in->flags & TASKVMA_TRACE_INCOMPLETE)
		printf(" INCOMPLETE lost=%u", in->vmas_lost);
	if (in->flags & TASKVMA_TRACE_TORN)
		printf(" torn");
	if (in->flags & TASKVMA_TRACE_NAME_ERR)
		printf(" names=inexact");
	putchar('\n');
	for (size_t i = 0; i < n; i++) {
		size_t len = taskvma_format_maps_line(&v[i], c->line, c->line_cap);

		fwrite(c->line, 1, len, stdout);	/* fits: on_capture() made room */
	}
}

static void print_json(struct trace_ctx *c, const struct taskvma_trace_info *in,
		       const struct taskvma_vma *v, size_t n)
{
	char tbuf[80], sbuf[16];
	const char *sname;

	fmt_time(in->realtime_ns, tbuf, sizeof(tbuf));
	printf("{\"schema\":\"taskvma.trace/1\",\"seq\":%llu,\"time\":\"%s\",\"time_ns\":%llu,\"pid\":%d,\"tid\":%d,",
	       (unsigned long long)in->seq, tbuf, (unsigned long long)in->time_ns, (int)in->pid,
	       (int)in->tid);
	cli_json_comm(stdout, in->comm);
	printf(",\"cgroup_id\":%llu,\"event\":\"%s\"", (unsigned long long)in->cgroup_id,
	       taskvma_trace_event_name(in->event));
	switch (in->event) {
	case TASKVMA_TRACE_SYSCALL:
		sname = taskvma_syscall_name(in->syscall_nr);
		printf(",\"syscall_nr\":%d,\"syscall\":", in->syscall_nr);
		if (sname)
			printf("\"%s\"", sname);
		else
			printf("null");
		break;
	case TASKVMA_TRACE_EXEC:
		printf(",\"old_tid\":%d", (int)in->old_pid);
		break;
	case TASKVMA_TRACE_SIGNAL:
		sname = taskvma_signal_name(in->signo, sbuf);
		printf(",\"signo\":%d,\"signal\":", in->signo);
		if (sname)
			printf("\"%s\"", sname);
		else
			printf("null");
		printf(",\"si_code\":%d,\"fault_addr\":", in->si_code);
		if (in->flags & TASKVMA_TRACE_FAULT_ADDR)
			printf("%llu,\"fault_addr_hex\":\"0x%llx\"", (unsigned long long)in->fault_addr,
			       (unsigned long long)in->fault_addr);
		else
			printf("null,\"fault_addr_hex\":null");
		break;
	default:
		break;
	}
	printf(",\"complete\":%s,\"torn\":%s,\"names_exact\":%s,\"vmas_walked\":%u,"
	       "\"vmas_lost\":%u,\"error\":",
	       (in->flags & TASKVMA_TRACE_INCOMPLETE) || in->err ? "false" : "true",
	       in->flags & TASKVMA_TRACE_TORN ? "true" : "false",
	       in->flags & TASKVMA_TRACE_NAME_ERR ? "false" : "true", in->vmas_walked,
	       in->vmas_lost);
	if (in->err)
		printf("\"%s\"", taskvma_strerror(in->err));
	else
		printf("null");
	printf(",\"mappings\":[");
	for (size_t i = 0; i < n; i++) {
		size_t len = taskvma_format_json(&v[i], 0, NULL, c->line, c->line_cap);

		if (i)
			putchar(',');
		fwrite(c->line, 1, len, stdout);
	}
	printf("]}\n");
}

static int on_capture(void *arg, const struct taskvma_trace_info *in, const struct taskvma_vma *v,
		      size_t n)
{
	struct trace_ctx *c = arg;
	size_t need = 0;

	/* room for the longest line first: a capture is printed whole or not
	 * at all (a mapping skipped for want of memory would be a map printed
	 * as complete that is not) */
	for (size_t i = 0; i < n; i++) {
		size_t len = c->json ? taskvma_format_json(&v[i], 0, NULL, NULL, 0)
				     : taskvma_format_maps_line(&v[i], NULL, 0);

		if (len > need)
			need = len;
	}
	if (!fit(c, need + 1)) {
		c->oom = 1;
		return 1;
	}
	if (c->json)
		print_json(c, in, v, n);
	else
		print_text(c, in, v, n);
	/* captures are rare and wanted now: do not sit in a pipe's buffer */
	if (fflush(stdout) || ferror(stdout)) {
		c->out_err = errno ? errno : EIO;
		return 1;
	}
	return 0;
}

static int verbosity;

static void log_cb(enum taskvma_log_level level, const char *msg, void *ctx)
{
	(void)ctx;
	if (level == TASKVMA_LOG_WARN || verbosity)
		fprintf(stderr, "taskvma: %s\n", msg);
}

/* --on VALUE */
static int parse_on(const char *s, struct taskvma_trace_opts *o, int **sys, size_t *nsys)
{
	const char *eq = strchr(s, '=');
	size_t klen = eq ? (size_t)(eq - s) : strlen(s);

	if (klen == 7 && !strncmp(s, "syscall", 7)) {
		char *list, *tok, *save = NULL;

		o->events |= TASKVMA_TRACE_ON(TASKVMA_TRACE_SYSCALL);
		if (!eq) {
			/* any system call wins over a list */
			*nsys = 0;
			o->nr_syscalls = (size_t)-1;
			return 0;
		}
		if (o->nr_syscalls == (size_t)-1)
			return 0;
		if (!eq[1]) {
			cli_err("--on syscall=: no system call named");
			return -1;
		}
		list = strdup(eq + 1);
		if (!list)
			return -1;
		for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			int nr = taskvma_syscall_nr(tok);
			char *end;
			long v;

			if (nr < 0 && *tok >= '0' && *tok <= '9') {
				errno = 0;
				v = strtol(tok, &end, 10);
				if (!errno && !*end && v >= 0 && v < 1024)
					nr = (int)v;
			}
			if (nr < 0) {
				cli_err("unknown system call '%s'", tok);
				free(list);
				return -1;
			}
			int *p = realloc(*sys, (*nsys + 1) * sizeof(**sys));

			if (!p) {
				free(list);
				return -1;
			}
			*sys = p;
			(*sys)[(*nsys)++] = nr;
		}
		free(list);
		o->nr_syscalls = *nsys;
		return 0;
	}
	if (klen == 6 && !strncmp(s, "signal", 6)) {
		int sig = 0;

		if (eq) {
			sig = taskvma_signal_parse(eq + 1);
			if (sig <= 0) {
				cli_err("unknown signal '%s'", eq + 1);
				return -1;
			}
		}
		if ((o->events & TASKVMA_TRACE_ON(TASKVMA_TRACE_SIGNAL)) && o->signo != sig) {
			cli_err("--on signal given twice with different signals");
			return -1;
		}
		o->events |= TASKVMA_TRACE_ON(TASKVMA_TRACE_SIGNAL);
		o->signo = sig;
		return 0;
	}
	if (!eq && !strcmp(s, "exec")) {
		o->events |= TASKVMA_TRACE_ON(TASKVMA_TRACE_EXEC);
		return 0;
	}
	if (!eq && !strcmp(s, "exit")) {
		o->events |= TASKVMA_TRACE_ON(TASKVMA_TRACE_EXIT);
		return 0;
	}
	cli_err("unknown event '%s' (syscall[=NAME], exec, exit, signal[=SIG])", s);
	return -1;
}

static void describe(const struct taskvma_trace_opts *o, char *buf, size_t len)
{
	static const char *const names[] = { NULL, "syscall", "exec", "exit", "signal" };
	size_t n = 0;

	buf[0] = 0;
	for (int e = 1; e <= 4; e++)
		if (o->events & TASKVMA_TRACE_ON(e))
			n += snprintf(buf + n, n < len ? len - n : 0, "%s%s", n ? "," : "", names[e]);
	if (n >= len)
		return;
	if (o->pid)
		snprintf(buf + n, len - n, " for pid %d", (int)o->pid);
	else if (o->comm)
		snprintf(buf + n, len - n, " for comm %s", o->comm);
	else if (o->cgroup)
		snprintf(buf + n, len - n, " in cgroup %s", o->cgroup);
	else
		snprintf(buf + n, len - n, " for every process");
}

int cmd_trace(int argc, char **argv, struct cli_global *g)
{
	static const struct option longopts[] = {
		{ "on", required_argument, NULL, 'o' },
		CLI_SEL_LONGOPTS,
		{ "every", no_argument, NULL, 'e' },
		{ "count", required_argument, NULL, 'n' },
		{ "duration", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "no-gate", no_argument, NULL, 'G' },
		{ "buffer-size", required_argument, NULL, 'b' },
		CLI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	TASKVMA_OPTS(taskvma_trace_opts, o, .log = log_cb, .log_level = TASKVMA_LOG_WARN);
	struct trace_ctx c = { 0 };
	struct taskvma_trace *tr = NULL;
	struct taskvma_trace_stats st = { .sz = sizeof(st) };
	struct sigaction sa, old_int, old_term, old_pipe;
	char errbuf[256], what[256];
	int *sys = NULL, opt, rc = EXIT_OK, err, nsel = 0, r;
	size_t nsys = 0;
	double duration = 0;
	struct timespec t0, now;

	while ((opt = cli_getopt(argc, argv, "trace", CLI_SEL_SHORTOPTS "o:en:d:jb:", longopts, g)) !=
	       -1) {
		switch (opt) {
		case 'o':
			if (parse_on(optarg, &o, &sys, &nsys))
				goto usage;
			break;
		case 'e':
			o.every = 1;
			break;
		case 'n':
			if (parse_count(optarg, &o.max_events) || !o.max_events) {
				cli_err("--count '%s': a number of captures, at least 1", optarg);
				goto usage;
			}
			break;
		case 'd':
			if (cli_parse_duration(optarg, &duration)) {
				cli_err("--duration '%s': a duration more than 0 (500ms, 2s, 5m)", optarg);
				goto usage;
			}
			break;
		case 'j':
			c.json = 1;
			break;
		case 'G':
			o.no_gate = 1;
			break;
		case 'b':
			if (parse_size(optarg, &o.ringbuf_size)) {
				cli_err("--buffer-size '%s': a power of 2 from 4K to 1G", optarg);
				goto usage;
			}
			break;
		case 'h':
			fputs(trace_usage, stdout);
			free(sys);
			return EXIT_OK;
		default:	/* '?': cli_getopt() said why */
			goto usage;
		}
	}
	/* the selection, in the kernel: one of pid, comm, cgroup */
	nsel = (int)g->sel.npids + !!g->sel.comm + !!g->sel.cgroup_arg;
	if (g->sel.has_uid) {
		cli_err("trace selects by --pid, --comm or --cgroup, not --uid");
		goto usage;
	}
	if (g->sel.npids)
		o.pid = g->sel.pids[0];
	o.comm = g->sel.comm;
	o.cgroup = g->sel.cgroup_arg;
	verbosity = g->verbose;
	if (optind < argc) {
		cli_err("unexpected argument '%s' (see taskvma trace --help)", argv[optind]);
		goto usage;
	}
	if (!o.events) {
		cli_err("no event: say --on syscall|exec|exit|signal (see taskvma trace --help)");
		goto usage;
	}
	if (nsel > 1) {
		cli_err("--pid, --comm and --cgroup cannot be combined (or given twice)");
		goto usage;
	}
	if (g->backend != TASKVMA_BACKEND_AUTO && g->backend != TASKVMA_BACKEND_BPF) {
		cli_err("trace works with the bpf backend only (--backend=%s)",
			taskvma_backend_name(g->backend));
		free(sys);
		return EXIT_UNSUPPORTED;
	}
	if (o.nr_syscalls == (size_t)-1)
		o.nr_syscalls = 0;
	o.syscalls = sys;
	o.cb = on_capture;
	o.cb_ctx = &c;
	o.log_level = g->verbose ? (g->verbose > 1 ? TASKVMA_LOG_DEBUG : TASKVMA_LOG_INFO)
				 : TASKVMA_LOG_WARN;
	if (!fit(&c, 512)) {
		cli_err("out of memory");
		free(sys);
		return EXIT_FAIL;
	}

	/* Stop on Ctrl-C / SIGTERM: the handler only sets a flag; the wait in
	 * taskvma_trace_poll() returns EINTR (no SA_RESTART).  Installed before
	 * loading, so that a signal during the setup is not lost (nor kills us
	 * half attached): the loop below then does not start. */
	stop_sig = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, &old_pipe);
	if (cli_early_sig)	/* came before these handlers: it counts too */
		stop_sig = cli_early_sig;

	err = taskvma_trace_open(&tr, &o, errbuf);
	if (err) {
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGTERM, &old_term, NULL);
		sigaction(SIGPIPE, &old_pipe, NULL);
		free(sys);
		free(c.line);
		if (stop_sig) {
			fprintf(stderr, "taskvma: interrupted while starting; nothing traced\n");
			return EXIT_OK;
		}
		cli_err("%s", errbuf[0] ? errbuf : taskvma_strerror(err));
		/* a cgroup that does not exist is a bad argument, not "no mm" */
		if (err == -ENOENT && o.cgroup)
			return EXIT_USAGE;
		return cli_exit_code(err);
	}

	describe(&o, what, sizeof(what));
	if (!stop_sig)
		fprintf(stderr, "taskvma: tracing %s; Ctrl-C to stop\n", what);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!stop_sig && !c.out_err) {
		int timeout = 1000;

		if (duration > 0) {
			double left;

			clock_gettime(CLOCK_MONOTONIC, &now);
			left = duration - ((double)(now.tv_sec - t0.tv_sec) +
					   (double)(now.tv_nsec - t0.tv_nsec) / 1e9);
			if (left <= 0)
				break;
			if (left * 1000 < timeout)
				timeout = (int)(left * 1000) + 1;
		}
		r = taskvma_trace_poll(tr, timeout);
		if (r < 0 && r != -EINTR) {
			cli_err("trace: %s", taskvma_strerror(r));
			rc = EXIT_FAIL;
			break;
		}
		if (taskvma_trace_done(tr))
			break;
	}
	/* detach first, then deliver what is still in flight */
	taskvma_trace_stop(tr);
	taskvma_trace_stats(tr, &st);
	taskvma_trace_close(tr);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGPIPE, &old_pipe, NULL);

	fprintf(stderr,
		"taskvma: %llu capture%s (%llu incomplete, %llu without a map), %llu lost, "
		"%llu process%s seen%s\n",
		(unsigned long long)st.captured, st.captured == 1 ? "" : "s",
		(unsigned long long)st.incomplete, (unsigned long long)st.failed,
		(unsigned long long)st.lost, (unsigned long long)st.processes,
		st.processes == 1 ? "" : "es",
		stop_sig == SIGINT ? " (interrupted)" : stop_sig == SIGTERM ? " (terminated)" : "");
	if (st.skipped)
		fprintf(stderr, "taskvma: %llu events seen but not captured (kernel table full, "
			"or no BPF task work for a handled signal)\n", (unsigned long long)st.skipped);
	/* JSON never hides a skip: the same counts as the last record, with
	 * what the stream does not show (lost captures, events not captured) */
	if (c.json && !c.out_err && !c.oom) {
		printf("{\"schema\":\"taskvma.trace/1\",\"event\":\"summary\",\"captures\":%llu,"
		       "\"incomplete\":%llu,\"without_map\":%llu,\"processes\":%llu,"
		       "\"skipped\":{\"lost\":%llu,\"not_captured\":%llu},\"stopped_by\":\"%s\"}\n",
		       (unsigned long long)st.captured, (unsigned long long)st.incomplete,
		       (unsigned long long)st.failed, (unsigned long long)st.processes,
		       (unsigned long long)st.lost, (unsigned long long)st.skipped,
		       stop_sig == SIGINT ? "SIGINT" : stop_sig == SIGTERM ? "SIGTERM" : "end");
		if (fflush(stdout) || ferror(stdout))
			c.out_err = errno ? errno : EIO;
	}
	if (c.out_err)
		cli_out_handled();	/* said below, or EPIPE: the reader left */
	if (c.oom) {
		cli_err("trace: out of memory for a capture's lines: stopped before printing it");
		rc = EXIT_FAIL;
	}
	if (c.out_err && c.out_err != EPIPE) {
		cli_err("writing the output: %s", strerror(c.out_err));
		rc = EXIT_FAIL;
	}
	if (rc == EXIT_OK && (st.incomplete || st.lost))
		rc = EXIT_INCOMPLETE;
	free(sys);
	free(c.line);
	return rc;

usage:
	free(sys);
	return EXIT_USAGE;
}
