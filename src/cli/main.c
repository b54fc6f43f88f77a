// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* taskvma: command dispatch and the helpers every subcommand shares. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "cli.h"

static const char usage[] =
	"Usage: taskvma [OPTIONS] COMMAND [ARGS]\n"
	"Read process memory maps (VMAs) from the kernel with the bpf_iter_task_vma kfuncs.\n"
	"\n"
	"Commands:\n"
	"  maps PID... | --all     print maps exactly as /proc/PID/maps (or --json)\n"
	"  lookup PID ADDR...      each address: its mapping, file offset, build ID\n"
	"  normalize               'PID ADDR' lines to build ID + file offset\n"
	"  scan [PID...]           suspicious executable memory in every process\n"
	"  watch PID               print mappings as they appear and go away\n"
	"  trace --on EVENT ...    capture a process's map when an event fires\n"
	"  features                what this kernel supports, and the backend auto picks\n"
	"  help [COMMAND]          this help, or a command's\n"
	"\n"
	"Options (every command, before or after its name; options and operands in\n"
	"any order, \"--\" ends the options, \"--opt=VALUE\" or \"--opt VALUE\"):\n"
	"      --backend=auto|bpf|procmap|procfs   where VMAs come from (default auto:\n"
	"                          BPF, else PROCMAP_QUERY, else /proc/PID/maps text)\n"
	"  -v, --verbose           say what happens (-vv: libbpf's messages too)\n"
	"  -h, --help              help for a command: taskvma help COMMAND\n"
	"  -V, --version           the version of taskvma and of its library\n"
	"Selecting processes (maps, lookup, scan, watch, trace):\n"
	"  -p, --pid=PID[,PID]     these processes    -c, --comm=COMM  with this comm\n"
	"  -g, --cgroup=PATH       in this cgroup v2  -u, --uid=USER   with this real uid\n"
	"\n"
	"Exit codes: 0 ok, 1 failure, 2 usage, 3 no such process, 4 permission denied,\n"
	"  5 kernel thread or zombie, 6 map changed during every walk (incomplete),\n"
	"  7 backend or feature unavailable.\n"
	"\n"
	"EXAMPLES\n"
	"  taskvma maps $$                   # same bytes as cat /proc/$$/maps\n"
	"  taskvma maps --all --json         # every process, one JSON document\n"
	"  taskvma maps --perms=??x? --all   # executable mappings of every process\n"
	"  taskvma maps -c sshd -P ??x?      # executable mappings of sshd\n"
	"  taskvma lookup 1234 0x7f3a5c000000\n"
	"  taskvma scan --rules=wx,memfd-exec\n"
	"  taskvma watch --interval=200ms 1234\n"
	"  taskvma trace --on exit --comm myjob\n"
	"  taskvma features --json\n"
	"\n"
	"Manual: man taskvma; the grammar in full: docs/cli.md.\n";

static int verbosity;

/*
 * Standard output goes through a stream of our own (fopencookie) whose
 * write function keeps the errno of the first failed write(2): with plain
 * stdio a failure inside a buffer flush (ENOSPC on /dev/full, EBADF when
 * stdout was closed, EPIPE with SIGPIPE ignored) leaves only ferror() set,
 * the real cause is lost, and four commands used to exit 0 after it.  Every
 * command's writes are checked once, here, at the end (cli_stdout_end), and
 * long loops stop early on cli_out_failed().
 */
static int out_errno;		/* first failed write on stdout, 0 if none */
static bool out_reported;	/* the command said it itself */
static bool stdout_closed;	/* fd 1 was closed at start: every write fails */

static ssize_t out_write(void *cookie, const char *buf, size_t len)
{
	size_t done = 0;

	(void)cookie;
	if (out_errno) {
		errno = out_errno;
		return -1;
	}
	if (stdout_closed) {
		errno = out_errno = EBADF;
		return -1;
	}
	while (done < len) {
		ssize_t n = write(STDOUT_FILENO, buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			out_errno = n < 0 ? errno : EIO;
			errno = out_errno;
			return done ? (ssize_t)done : -1;
		}
		done += (size_t)n;
	}
	return (ssize_t)done;
}

static int out_close(void *cookie)
{
	(void)cookie;
	/* close() itself can report a failed write-back (NFS, full disk) */
	if (!stdout_closed && close(STDOUT_FILENO) && errno != EINTR && !out_errno)
		out_errno = errno;
	return out_errno ? -1 : 0;
}

/* Closed 0, 1 or 2 at start: put /dev/null there, so that no file we open
 * takes their place (a spool file on fd 1 would receive our output, a maps
 * file on fd 2 our errors); writes to a closed stdout still fail (EBADF). */
static void std_fds(void)
{
	for (int fd = 0; fd < 3; fd++) {
		int n;

		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		if (fd == STDOUT_FILENO)
			stdout_closed = true;
		n = open("/dev/null", fd ? O_WRONLY : O_RDONLY);
		if (n >= 0 && n != fd) {
			dup2(n, fd);
			close(n);
		}
	}
}

static void stdout_init(void)
{
	static const cookie_io_functions_t io = { .write = out_write, .close = out_close };
	FILE *f;

	std_fds();
	f = fopencookie(NULL, "w", io);
	if (!f)
		return;	/* plain stdout: errors still end in ferror() */
	/* as stdio does for stdout: line buffered on a terminal */
	setvbuf(f, NULL, isatty(STDOUT_FILENO) ? _IOLBF : _IOFBF, 1 << 16);
	stdout = f;
}

int cli_out_failed(void)
{
	if (!out_errno && ferror(stdout))
		out_errno = errno ? errno : EIO;
	return out_errno;
}

void cli_out_handled(void)
{
	out_reported = true;
}

/* After the command: flush and close stdout; a failure is exit 1 with the
 * real errno, whatever the command returned. */
static int stdout_end(int rc)
{
	if (fflush(stdout) && !out_errno)
		out_errno = errno ? errno : EIO;
	if (fclose(stdout) && !out_errno)
		out_errno = errno ? errno : EIO;
	stdout = NULL;
	if (!out_errno)
		return rc;
	if (!out_reported)
		fprintf(stderr, "taskvma: writing the output: %s\n", strerror(out_errno));
	return out_reported ? rc : EXIT_FAIL;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* libbpf's own output only with -vv: failures are reported by us */
	if (verbosity < 2 || (level == LIBBPF_DEBUG && verbosity < 3))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

void cli_err(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* one line, whatever the message holds */
	for (char *p = buf; *p; p++)
		if (*p == '\n')
			*p = ' ';
	if (stdout)
		fflush(stdout);
	fprintf(stderr, "taskvma: %s\n", buf);
}

int cli_exit_code(int err)
{
	switch (err) {
	case 0: return EXIT_OK;
	case -ESRCH: return EXIT_NOPROC;
	case -EACCES:
	case -EPERM: return EXIT_DENIED;
	case -ENOENT: return EXIT_NOMM;
	case -EAGAIN: return EXIT_INCOMPLETE;
	case -EOPNOTSUPP: return EXIT_UNSUPPORTED;
	case -EINVAL: return EXIT_USAGE;
	}
	return EXIT_FAIL;
}

static int print_version(void)
{
	printf("taskvma %s (libtaskvma %s)\n", TASKVMA_VERSION_STRING, taskvma_version());
	return EXIT_OK;
}

int cli_common_opt(int c, const char *arg, struct cli_global *g)
{
	switch (c) {
	case 'v':
		g->verbose++;
		verbosity = g->verbose;
		return 1;
	case 'B':
		if (taskvma_backend_parse(arg, &g->backend)) {
			static const char *const names[] = { "auto", "bpf", "procmap", "procfs" };
			const char *dym = cli_did_you_mean(arg, names, 4);

			cli_err("unknown backend '%s'%s%s%s (auto, bpf, procmap, procfs)", arg,
				dym ? "; did you mean " : "", dym ? dym : "", dym ? "?" : "");
			return -1;
		}
		return 1;
	case 'V':
		fflush(stdout);
		exit(print_version() || fflush(stdout) || ferror(stdout) ? EXIT_FAIL : EXIT_OK);
	}
	return cli_sel_opt(c, arg, &g->sel);
}

/* Levenshtein distance, capped: names are short. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[64], prev, tmp;

	if (la > 63 || lb > 63)
		return 64;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			tmp = row[j];
			row[j] = a[i - 1] == b[j - 1] ? prev : 1 + (prev < row[j - 1] ? (prev < row[j] ? prev : row[j])
										: (row[j - 1] < row[j] ? row[j - 1] : row[j]));
			prev = tmp;
		}
	}
	return row[lb];
}

const char *cli_did_you_mean(const char *s, const char *const *names, size_t n)
{
	const char *best = NULL;
	size_t bestd = 3, len = strlen(s);

	for (size_t i = 0; i < n; i++) {
		size_t d = edit_distance(s, names[i]);

		/* a prefix of a name ("--sum" for --summary) is likely that name */
		if (len >= 2 && !strncmp(s, names[i], len))
			d = 1;
		if (d < bestd && d < strlen(names[i])) {
			bestd = d;
			best = names[i];
		}
	}
	return best;
}

/* "unknown option" with a suggestion among the command's long options. */
static void unknown_option(const char *arg, const char *cmd, const struct option *longopts)
{
	const char *names[64];
	char name[64];
	size_t n = 0;
	const char *dym = NULL;

	if (arg[0] == '-' && arg[1] == '-') {
		snprintf(name, sizeof(name), "%s", arg + 2);
		name[strcspn(name, "=")] = 0;
		for (const struct option *o = longopts; o && o->name && n < 64; o++)
			names[n++] = o->name;
		dym = cli_did_you_mean(name, names, n);
	}
	cli_err("unknown option '%s'%s%s%s (see taskvma help%s%s)", arg, dym ? "; did you mean --" : "",
		dym ? dym : "", dym ? "?" : "", *cmd ? " " : "", cmd);
}

int cli_getopt(int argc, char **argv, const char *cmd, const char *shortopts,
	       const struct option *longopts, struct cli_global *g)
{
	char opts[80];
	int opt, r, idx;

	/* ':' first: a missing value is ':' (not '?'); no '+': GNU order,
	 * options anywhere until "--" */
	snprintf(opts, sizeof(opts), ":" CLI_COMMON_SHORTOPTS "%s", shortopts);
	opterr = 0;
	idx = -1;
	while ((opt = getopt_long(argc, argv, opts, longopts, &idx)) != -1) {
		const char *prev = argv[optind - 1];

		if (opt == ':' || opt == '?') {
			bool is_long = prev[0] == '-' && prev[1] == '-';

			if (opt == ':' && is_long)
				cli_err("option '%.*s' needs a value (see taskvma help %s)",
					(int)strcspn(prev, "="), prev, cmd);
			else if (opt == ':')
				cli_err("option '-%c' needs a value (see taskvma help %s)", optopt, cmd);
			else if (is_long && optopt && strchr(prev, '='))
				cli_err("option '%.*s' takes no value (see taskvma help %s)",
					(int)strcspn(prev, "="), prev, cmd);
			else if (is_long)
				unknown_option(prev, cmd, longopts);
			else
				cli_err("unknown option '-%c' (see taskvma help %s)", optopt, cmd);
			return '?';
		}
		if ((r = cli_common_opt(opt, optarg, g)) > 0)
			continue;
		if (r < 0)
			return '?';
		return opt;
	}
	return -1;
}

int cli_parse_duration(const char *s, double *seconds)
{
	static const struct { const char *unit; double mult; } units[] = {
		{ "", 1 }, { "s", 1 }, { "ms", 1e-3 }, { "us", 1e-6 }, { "m", 60 }, { "min", 60 },
		{ "h", 3600 },
	};
	char *end;
	double v;

	if (!((*s >= '0' && *s <= '9') || *s == '.'))
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].unit))
			continue;
		v *= units[i].mult;
		/* !(v > 0): NaN too */
		if (!(v > 0) || v > 86400.0 * 366)
			return -EINVAL;
		*seconds = v;
		return 0;
	}
	return -EINVAL;
}

static void log_cb(enum taskvma_log_level level, const char *msg, void *ctx)
{
	(void)ctx;
	if (level == TASKVMA_LOG_WARN)
		cli_err("%s", msg);
	else
		fprintf(stderr, "taskvma: %s\n", msg);
}

int cli_open(const struct cli_global *g, struct taskvma **tv)
{
	return cli_open_consistent(g, false, tv);
}

int cli_open_consistent(const struct cli_global *g, bool consistent, struct taskvma **tv)
{
	TASKVMA_OPTS(taskvma_opts, opts, .backend = g->backend, .log = log_cb, .consistent = consistent,
		     .log_level = g->verbose ? (g->verbose > 1 ? TASKVMA_LOG_DEBUG : TASKVMA_LOG_INFO)
					     : -1);
	int err;

	/* the library reports an explicit backend's failure through log_cb at
	 * WARN level: make sure that one line is printed */
	if (opts.log_level < TASKVMA_LOG_WARN)
		opts.log_level = TASKVMA_LOG_WARN;
	err = taskvma_open(tv, &opts);
	if (err) {
		if (g->backend == TASKVMA_BACKEND_AUTO)
			cli_err("no backend works here: %s", taskvma_strerror(err));
		/* else: log_cb printed "backend X: reason" */
		return err == -EINVAL ? EXIT_USAGE : EXIT_UNSUPPORTED;
	}
	return 0;
}

int cli_parse_pid(const char *s, pid_t *out)
{
	long v = 0;

	if (!*s || strlen(s) > 10)
		return -EINVAL;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		v = v * 10 + (*p - '0');
	}
	if (v <= 0 || v > 0x7fffffff)
		return -EINVAL;
	*out = (pid_t)v;
	return 0;
}

int cli_parse_addr(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	int n = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	for (; *s; s++, n++) {
		int d;

		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			return -EINVAL;
		if (n >= 16)
			return -EINVAL;
		v = v << 4 | (uint64_t)d;
	}
	if (!n)
		return -EINVAL;
	*out = v;
	return 0;
}

void cli_json_str(FILE *f, const char *s, size_t len)
{
	cli_json_text(f, s, len);
}

void cli_json_comm(FILE *f, const char *comm)
{
	char buf[8 * 16 + 8];
	int lossy = 0;
	size_t n = taskvma_format_json_string(comm, strnlen(comm, 16), buf, sizeof(buf), &lossy);

	fputs("\"comm\":", f);
	fwrite(buf, 1, n <= sizeof(buf) ? n - 1 : sizeof(buf) - 1, f);
	if (lossy) {
		fputs(",\"comm_hex\":\"", f);
		for (const unsigned char *p = (const unsigned char *)comm; *p; p++)
			fprintf(f, "%02x", *p);
		fputc('"', f);
	}
}

const char *cli_comm(const char *comm, char buf[TASKVMA_COMM_ESC_MAX])
{
	taskvma_escape_comm(comm, buf, TASKVMA_COMM_ESC_MAX);
	return buf;
}

static const struct {
	const char *name;
	int (*fn)(int, char **, struct cli_global *);
} cmds[] = {
	{ "maps", cmd_maps },
	{ "lookup", cmd_lookup },
	{ "normalize", cmd_normalize },
	{ "scan", cmd_scan },
	{ "watch", cmd_watch },
	{ "trace", cmd_trace },
	{ "features", cmd_features },
};
#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

static int unknown_command(const char *name)
{
	const char *names[NCMDS + 1];
	const char *dym;

	for (size_t k = 0; k < NCMDS; k++)
		names[k] = cmds[k].name;
	names[NCMDS] = "help";
	dym = cli_did_you_mean(name, names, NCMDS + 1);
	cli_err("unknown command '%s'%s%s%s (see taskvma help)", name, dym ? "; did you mean " : "",
		dym ? dym : "", dym ? "?" : "");
	return EXIT_USAGE;
}

static int run(int argc, char **argv, struct cli_global *g)
{
	for (size_t k = 0; k < NCMDS; k++) {
		if (strcmp(argv[0], cmds[k].name))
			continue;
		optind = 0;	/* a fresh getopt scan of the command's arguments */
		return cmds[k].fn(argc, argv, g);
	}
	return unknown_command(argv[0]);
}

/* taskvma help [COMMAND] */
static int cmd_help(int argc, char **argv, struct cli_global *g)
{
	char *args[] = { argv[1], (char *)"--help", NULL };

	if (argc > 2) {
		cli_err("help takes at most one command");
		return EXIT_USAGE;
	}
	if (argc < 2 || !strcmp(argv[1], "help")) {
		fputs(usage, stdout);
		return EXIT_OK;
	}
	return run(2, args, g);
}

volatile sig_atomic_t cli_early_sig;

static void early_signal(int sig)
{
	cli_early_sig = sig;
}

/* trace ends cleanly (exit 0) on SIGINT/SIGTERM, however early it comes:
 * until its own handlers are in place, this one notes the signal, and it
 * stops at once.  (Not yet watch: a watch stopped during its start can
 * hang in its ring buffer's epoll_wait, seen here; left to its owner.) */
static void early_handlers(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (argv[i][0] == '-')
			continue;
		if (!strcmp(argv[i], "trace")) {
			signal(SIGINT, early_signal);
			signal(SIGTERM, early_signal);
		}
		return;
	}
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{},
	};
	struct cli_global g = { .backend = TASKVMA_BACKEND_AUTO };
	int opt, r;

	early_handlers(argc, argv);
	stdout_init();
	libbpf_set_print(libbpf_print);
	/* global options before the command ('+': stop at the command's name) */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+:" CLI_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
		const char *prev = argv[optind - 1];

		if (opt == 'h') {
			fputs(usage, stdout);
			return stdout_end(EXIT_OK);
		}
		if (opt == ':') {
			cli_err("option '%.*s' needs a value (see taskvma --help)", (int)strcspn(prev, "="),
				prev);
			return EXIT_USAGE;
		}
		if (opt == '?') {
			if (prev[0] == '-' && prev[1] == '-')
				unknown_option(prev, "", longopts);
			else
				cli_err("unknown option '-%c' (see taskvma help)", optopt);
			return EXIT_USAGE;
		}
		if ((r = cli_common_opt(opt, optarg, &g)) < 0)
			return EXIT_USAGE;
	}
	if (optind >= argc) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[optind], "help"))
		return stdout_end(cmd_help(argc - optind, argv + optind, &g));
	r = run(argc - optind, argv + optind, &g);
	cli_sel_free(&g.sel);
	return stdout_end(r);
}
