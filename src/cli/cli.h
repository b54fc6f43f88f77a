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

/* Options every subcommand accepts (parsed with cli_common_opt). */
struct cli_global {
	int verbose;
	enum taskvma_backend backend;
};

#define CLI_COMMON_LONGOPTS                                   \
	{ "verbose", no_argument, NULL, 'v' },                \
	{ "backend", required_argument, NULL, 'B' },          \
	{ "help", no_argument, NULL, 'h' }
#define CLI_COMMON_SHORTOPTS "vh"

/* Handle a common option; returns 1 if handled, 0 if not, -1 on error
 * (message printed, caller exits EXIT_USAGE). */
int cli_common_opt(int c, const char *arg, struct cli_global *g);
/* getopt_long() for subcommand CMD, options in order (stops at the first
 * operand): -v and --backend are handled here; returns the command's next
 * option ('h' for its own usage), -1 at the end, or '?' once the one-line
 * error is printed (unknown option, missing argument, bad backend): the
 * caller exits EXIT_USAGE. */
int cli_getopt(int argc, char **argv, const char *cmd, const char *shortopts,
	       const struct option *longopts, struct cli_global *g);

/* "taskvma: <msg>\n" on stderr, one line. */
void cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Map a library error (-errno) to an exit code. */
int cli_exit_code(int err);
/* Open a library handle per the global options; prints the error itself. */
int cli_open(const struct cli_global *g, struct taskvma **tv);
/* Strict PID parse: decimal, > 0, fits pid_t.  Returns 0 or -EINVAL. */
int cli_parse_pid(const char *s, pid_t *out);
/* Parse all PIDs before anything runs: *pids (free it) or an exit code
 * with the error printed. */
int cli_parse_pids(int n, char **args, pid_t **pids);
/* Strict hex address ("0x" optional).  Returns 0 or -EINVAL. */
int cli_parse_addr(const char *s, uint64_t *out);
/* JSON string output with escaping. */
void cli_json_str(FILE *f, const char *s, size_t len);

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
/* Room for `need` elements of `size` bytes in *buf (capacity *cap). */
int cli_reserve(void **buf, size_t *cap, size_t need, size_t size);
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
