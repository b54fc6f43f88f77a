/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Shared pieces of the taskvma CLI: one file per subcommand (cmd_*.c), all
 * thin over libtaskvma. */
#ifndef TASKVMA_CLI_H
#define TASKVMA_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include "taskvma.h"

/* Exit codes, documented in docs/cli.md and `taskvma --help`. */
enum cli_exit {
	EXIT_OK = 0,
	EXIT_FAIL = 1,        /* runtime failure not covered below */
	EXIT_USAGE = 2,       /* bad option, argument, PID syntax, address */
	EXIT_NOPROC = 3,      /* no such process, or it exited during the walk */
	EXIT_DENIED = 4,      /* permission denied */
	EXIT_NOMM = 5,        /* kernel thread or zombie: no address space */
	EXIT_INCOMPLETE = 6,  /* the map kept changing: could not be read completely */
	EXIT_UNSUPPORTED = 7, /* requested backend / feature unavailable here */
};

/* Process selection, the same on every command that takes processes
 * (docs/cli.md "Selecting processes"): -p/--pid (repeatable, or a comma
 * list; operands that are PIDs add to it), -c/--comm, -g/--cgroup,
 * -u/--uid.  The filters (comm, cgroup, uid) AND together and apply to the
 * PIDs given, or to every process when none is given. */
struct cli_sel {
	pid_t *pids;
	size_t npids;
	const char *comm;
	const char *cgroup_arg;	/* as given */
	char *cgroup;		/* normalised when resolved: "/a/b" as in /proc/PID/cgroup */
	uid_t uid;
	bool has_uid;
};

/* Options every subcommand accepts (parsed by cli_getopt). */
struct cli_global {
	int verbose;
	enum taskvma_backend backend;
	struct cli_sel sel;
};

/* The common options: in every command's longopts (CLI_COMMON_SHORTOPTS is
 * added to its short options by cli_getopt). */
#define CLI_COMMON_LONGOPTS                                   \
	{ "verbose", no_argument, NULL, 'v' },                \
	{ "backend", required_argument, NULL, 'B' },          \
	{ "help", no_argument, NULL, 'h' },                   \
	{ "version", no_argument, NULL, 'V' }
#define CLI_COMMON_SHORTOPTS "vhV"
/* The selection options, in the commands that take processes. */
#define CLI_SEL_LONGOPTS                                      \
	{ "pid", required_argument, NULL, 'p' },              \
	{ "comm", required_argument, NULL, 'c' },             \
	{ "cgroup", required_argument, NULL, 'g' },           \
	{ "uid", required_argument, NULL, 'u' }
#define CLI_SEL_SHORTOPTS "p:c:g:u:"
/* The options of the address commands, lookup and normalize. */
enum { CLI_OPT_HEX = 0x100, CLI_OPT_NO_BID, CLI_OPT_BID_FROM };
#define CLI_ADDR_LONGOPTS                                           \
	{ "json", no_argument, NULL, 'j' },                         \
	{ "hex", no_argument, NULL, CLI_OPT_HEX },                  \
	{ "no-build-id", no_argument, NULL, CLI_OPT_NO_BID },       \
	{ "build-id-from", required_argument, NULL, CLI_OPT_BID_FROM }

/* Handle a common or selection option; returns 1 if handled, 0 if not, -1
 * on error (message printed, caller exits EXIT_USAGE). */
int cli_common_opt(int c, const char *arg, struct cli_global *g);
/* getopt_long() for subcommand CMD (argv[0] is the command's name), in GNU
 * order: options anywhere, "--" ends them, "--opt=value" and "--opt value"
 * alike.  -v, --backend, --version and the selection options are handled
 * here; returns the command's next option ('h' for its own usage), -1 at
 * the end (operands from optind on), or '?' once the one-line error is
 * printed (unknown option with a "did you mean", missing value, bad
 * backend): the caller exits EXIT_USAGE. */
int cli_getopt(int argc, char **argv, const char *cmd, const char *shortopts,
	       const struct option *longopts, struct cli_global *g);

/* A duration: a number with a unit, ms, s, m or h ("500ms", "2s", "1.5m");
 * a bare number is seconds.  > 0 and at most a year.  Returns 0 or -EINVAL. */
int cli_parse_duration(const char *s, double *seconds);
/* The closest of names[] (n of them) to s, when close enough to be a
 * likely typo (edit distance <= 2, or a prefix), else NULL. */
const char *cli_did_you_mean(const char *s, const char *const *names, size_t n);

/* Selection (select.c).  True when a filter (comm, cgroup, uid) is set. */
bool cli_sel_filtered(const struct cli_sel *s);
/* -p, -c, -g, -u: 1 handled, 0 not a selection option, -1 error printed. */
int cli_sel_opt(int c, const char *arg, struct cli_sel *s);
/* Operands as PIDs: added to s->pids (error printed, EXIT_USAGE). */
int cli_sel_add_operands(struct cli_sel *s, int n, char **args);
/* The processes selected: the PIDs given that pass the filters, or every
 * process that does (from /proc) when none was given.  *out (free it),
 * *n; returns 0 or an exit code with the error printed. */
int cli_sel_resolve(struct cli_sel *s, pid_t **out, size_t *n);
/* For commands that take one process: the single PID selected (error
 * printed when none or several match). */
int cli_sel_one(struct cli_sel *s, const char *cmd, pid_t *pid);
void cli_sel_free(struct cli_sel *s);

/* "taskvma: <msg>\n" on stderr, one line. */
void cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Map a library error (-errno) to an exit code. */
int cli_exit_code(int err);
/* Open a library handle per the global options; prints the error itself. */
int cli_open(const struct cli_global *g, struct taskvma **tv);
/* The same with taskvma_opts.consistent (maps --consistent). */
int cli_open_consistent(const struct cli_global *g, bool consistent, struct taskvma **tv);
/* Strict PID parse: decimal, > 0, fits pid_t.  Returns 0 or -EINVAL. */
int cli_parse_pid(const char *s, pid_t *out);
/* Strict hex address ("0x" optional).  Returns 0 or -EINVAL. */
int cli_parse_addr(const char *s, uint64_t *out);
/* Standard output failed (the first failed write's errno), or 0: long
 * loops stop on it; main() reports it once at the end (exit 1) unless the
 * command called cli_out_handled(). */
int cli_out_failed(void);
/* SIGINT/SIGTERM that came before trace installed its handlers */
#include <signal.h>
extern volatile sig_atomic_t cli_early_sig;
void cli_out_handled(void);
/* JSON string output with escaping (not UTF-8: U+FFFD). */
void cli_json_str(FILE *f, const char *s, size_t len);
/* "comm":"...", and "comm_hex":"..." when it is not UTF-8. */
void cli_json_comm(FILE *f, const char *comm);
/* A comm for text output, escaped (taskvma_escape_comm); returns buf. */
const char *cli_comm(const char *comm, char buf[TASKVMA_COMM_ESC_MAX]);

/* addrs.c: lookup and normalize (docs/cli.md, "Addresses").
 * An address: "0x" hex; bare hex only with bare_hex (--hex); never decimal.
 * NULL, or the reason word ("bad-address"). */
const char *cli_addr_parse(const char *s, size_t len, bool bare_hex, uint64_t *out);
/* An input token echoed: non-printables as '?', at most 64 bytes, "-" if empty. */
void cli_token_put(FILE *f, const char *s, size_t len);
/* A JSON string (invalid UTF-8 as U+FFFD). */
void cli_json_text(FILE *f, const char *s, size_t len);
/* The build ID column: hex, "none", "unreadable" or "-" (JSON: "hex" or null). */
void cli_build_id_put(FILE *f, const struct taskvma_addr_info *r, bool json);
/* The status word of an address, with ERROR split by cause. */
const char *cli_addr_reason(const struct taskvma_addr_info *r);
/* One input line without "\n"/"\r\n": 1, 0 at EOF, -errno. */
int cli_getline(FILE *in, char **buf, size_t *cap, size_t *len);
int cli_build_id_from(const char *s, int *from);
/* Handle one of CLI_ADDR_LONGOPTS: 1 if handled, 0 if not, -1 on a bad
 * value (said; the caller exits EXIT_USAGE). */
int cli_addr_opt(int c, const char *arg, struct taskvma_lookup_opts *lo, bool *json, bool *hex);
/* Flush stdout: EXIT_OK, or EXIT_FAIL with the error printed. */
int cli_finish_output(FILE *f);

int cmd_maps(int argc, char **argv, struct cli_global *g);
int cmd_lookup(int argc, char **argv, struct cli_global *g);
int cmd_normalize(int argc, char **argv, struct cli_global *g);
int cmd_features(int argc, char **argv, struct cli_global *g);
int cmd_trace(int argc, char **argv, struct cli_global *g);
int cmd_scan(int argc, char **argv, struct cli_global *g);
int cmd_watch(int argc, char **argv, struct cli_global *g);

#endif
