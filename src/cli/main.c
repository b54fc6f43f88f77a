// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* taskvma: command dispatch and the helpers every subcommand shares. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
	"\n"
	"Options (every command):\n"
	"  --backend=auto|bpf|procmap|procfs   where VMAs come from (default auto:\n"
	"                          BPF, else PROCMAP_QUERY, else /proc/PID/maps text)\n"
	"  -v, --verbose           say what happens (-vv: libbpf's messages too)\n"
	"  -h, --help              help for a command: taskvma COMMAND --help\n"
	"\n"
	"Exit codes: 0 ok, 1 failure, 2 usage, 3 no such process, 4 permission denied,\n"
	"  5 kernel thread or zombie, 6 map changed during every walk (incomplete),\n"
	"  7 backend or feature unavailable.\n"
	"\n"
	"EXAMPLES\n"
	"  taskvma maps $$                   # same bytes as cat /proc/$$/maps\n"
	"  taskvma maps --all --json         # every process, one JSON document\n"
	"  taskvma maps --perms=??x? --all   # executable mappings of every process\n"
	"  taskvma lookup 1234 0x7f3a5c000000\n"
	"  taskvma scan --rules=wx,memfd-exec\n"
	"  taskvma watch --interval=0.2 1234\n"
	"  taskvma trace --on exit --comm myjob\n"
	"  taskvma features --json\n";


static int verbosity;

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

int cli_common_opt(int c, const char *arg, struct cli_global *g)
{
	switch (c) {
	case 'v':
		g->verbose++;
		verbosity = g->verbose;
		return 1;
	case 'B':
		if (taskvma_backend_parse(arg, &g->backend)) {
			cli_err("unknown backend '%s' (auto, bpf, procmap, procfs)", arg);
			return -1;
		}
		return 1;
	}
	return 0;
}

int cli_getopt(int argc, char **argv, const char *cmd, const char *shortopts,
	       const struct option *longopts, struct cli_global *g)
{
	char opts[64];
	int opt, r;

	snprintf(opts, sizeof(opts), "+" CLI_COMMON_SHORTOPTS "%s", shortopts);
	opterr = 0;
	while ((opt = getopt_long(argc, argv, opts, longopts, NULL)) != -1) {
		if ((r = cli_common_opt(opt, optarg, g)) > 0)
			continue;
		if (r < 0)
			return '?';
		if (opt == '?')
			cli_err("unknown option '%s' (see taskvma %s --help)", argv[optind - 1], cmd);
		return opt;
	}
	return -1;
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
	TASKVMA_OPTS(taskvma_opts, opts, .backend = g->backend, .log = log_cb,
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

int cli_parse_pids(int n, char **args, pid_t **pids)
{
	*pids = calloc(n + 1, sizeof(**pids));
	if (!*pids)
		return EXIT_FAIL;
	for (int i = 0; i < n; i++) {
		if (cli_parse_pid(args[i], &(*pids)[i])) {
			cli_err("invalid PID '%s'", args[i]);
			free(*pids);
			*pids = NULL;
			return EXIT_USAGE;
		}
	}
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
	fputc('"', f);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

int main(int argc, char **argv)
{
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
	struct cli_global g = { .backend = TASKVMA_BACKEND_AUTO };
	int i;

	libbpf_set_print(libbpf_print);
	/* global options before the command */
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(usage, stdout);
			return EXIT_OK;
		} else if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose")) {
			cli_common_opt('v', NULL, &g);
		} else if (!strcmp(argv[i], "-vv")) {
			cli_common_opt('v', NULL, &g);
			cli_common_opt('v', NULL, &g);
		} else if (!strncmp(argv[i], "--backend=", 10)) {
			if (cli_common_opt('B', argv[i] + 10, &g) < 0)
				return EXIT_USAGE;
		} else {
			cli_err("unknown option '%s' (see taskvma --help)", argv[i]);
			return EXIT_USAGE;
		}
	}
	if (i >= argc) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	for (unsigned k = 0; k < sizeof(cmds) / sizeof(cmds[0]); k++)
		if (!strcmp(argv[i], cmds[k].name))
			return cmds[k].fn(argc - i, argv + i, &g);
	cli_err("unknown command '%s' (see taskvma --help)", argv[i]);
	return EXIT_USAGE;
}
