// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* taskvma lookup: for each address of one process, its mapping, the offset
 * in the file and the file's build ID, in input order (one batch). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "reserve.h"	/* tv_reserve(): growing arrays, as the library does */
#include "output.h"

static const char lookup_usage[] =
	"Usage: taskvma lookup [OPTIONS] PID [ADDR...|-]\n"
	"       taskvma lookup [OPTIONS] -p PID [ADDR...|-]\n"
	"For each address, in input order: the address, the offset of the address\n"
	"in the mapped file, the file's GNU build ID, and the /proc/PID/maps line\n"
	"of the mapping; or 'not mapped'.  Without ADDR (or with -), addresses are\n"
	"read from standard input, one per line.  All are answered in one batch.\n"
	"\n"
	"Addresses are hex with 0x (0x7f3a5c001234).  Bare hex digits only with\n"
	"--hex; decimal is never accepted (a bare '4096' is refused, not guessed).\n"
	"\n"
	"Text: ADDR OFFSET BUILD_ID MAPS_LINE   (OFFSET '-' when not a file;\n"
	"      BUILD_ID hex, 'none' when the file has no note, 'unreadable', '-')\n"
	"      ADDR not mapped\n"
	"      INPUT malformed:bad-address\n"
	"\n"
	"  -j, --json           one JSON document (docs/json.md)\n"
	"  -p, --pid=PID        the process (then every operand is an address); or the\n"
	"                       one selected by -c, --comm, -g, --cgroup, -u, --uid\n"
	"      --hex            bare addresses are hex (as /proc and perf print them)\n"
	"      --no-build-id    leave build IDs out (no file is read)\n"
	"      --build-id-from=auto|kernel|file   default auto: PROCMAP_QUERY, else the file\n"
	"      --backend=NAME   auto (default), bpf, procmap, procfs\n"
	"\n"
	"Exit codes: 0 every address is mapped; 1 some address is not mapped;\n"
	"2 usage, or some address is malformed (the others are still answered);\n"
	"3, 4, 5 the process: no such process, permission denied, no address space.\n"
	"\n"
	"EXAMPLES\n"
	"  taskvma lookup $$ 0x400000\n"
	"  perf script -F ip | taskvma lookup --hex 1234\n"
	"  taskvma lookup --json 1234 0x7ffd1c000000 0x7f3a5c001234\n";

struct input {
	char *text;
	size_t len;
	const char *bad;	/* reason, or NULL */
	size_t slot;		/* index into the batch */
};

static void put_text(FILE *f, const struct input *in, const struct taskvma_addr_info *r)
{
	char line[8300];
	size_t n;

	if (in->bad) {
		cli_token_put(f, in->text, in->len);
		fprintf(f, " malformed:%s\n", in->bad);
		return;
	}
	fprintf(f, "0x%llx ", (unsigned long long)r->addr);
	if (r->status == TASKVMA_ADDR_NOT_MAPPED) {
		fputs("not mapped\n", f);
		return;
	}
	if (r->status == TASKVMA_ADDR_FILE)
		fprintf(f, "0x%llx ", (unsigned long long)r->file_offset);
	else
		fputs("- ", f);
	cli_build_id_put(f, r, false);
	fputc(' ', f);
	n = taskvma_format_maps_line(&r->vma, line, sizeof(line));
	if (n < sizeof(line)) {
		fputs(line, f);
	} else {
		char *big = malloc(n + 1);

		if (big) {
			taskvma_format_maps_line(&r->vma, big, n + 1);
			fputs(big, f);
			free(big);
		}
	}
}

static void put_json(FILE *f, const struct input *in, const struct taskvma_addr_info *r)
{
	char stackbuf[8300], *buf = stackbuf;
	size_t n;

	fputs("{\"input\":", f);
	cli_json_text(f, in->text, in->len);
	if (in->bad) {
		fprintf(f, ",\"mapped\":false,\"status\":\"malformed\",\"reason\":\"%s\"}", in->bad);
		return;
	}
	fprintf(f, ",\"address\":%llu,\"address_hex\":\"0x%llx\",\"mapped\":%s,\"status\":\"%s\"",
		(unsigned long long)r->addr, (unsigned long long)r->addr,
		r->status == TASKVMA_ADDR_NOT_MAPPED ? "false" : "true",
		taskvma_addr_status_name(r->status));
	if (r->status == TASKVMA_ADDR_NOT_MAPPED) {
		fputc('}', f);
		return;
	}
	if (r->status == TASKVMA_ADDR_FILE)
		fprintf(f, ",\"file_offset\":%llu,\"file_offset_hex\":\"0x%llx\"",
			(unsigned long long)r->file_offset, (unsigned long long)r->file_offset);
	else
		fputs(",\"file_offset\":null,\"file_offset_hex\":null", f);
	fputs(",\"build_id\":", f);
	cli_build_id_put(f, r, true);
	fprintf(f, ",\"build_id_status\":\"%s\",\"mapping\":",
		taskvma_build_id_status_name(r->build_id_status));
	n = taskvma_format_json(&r->vma, 0, "", buf, sizeof(stackbuf));
	if (n > sizeof(stackbuf) && (buf = malloc(n)))
		taskvma_format_json(&r->vma, 0, "", buf, n);
	fputs(buf ? buf : "null", f);
	if (buf != stackbuf)
		free(buf);
	fputc('}', f);
}

/* Addresses from standard input, one per line. */
static int read_stdin(struct input **ins, size_t *nin)
{
	char *line = NULL;
	size_t cap = 0, len, ncap = 0;
	int r;

	while ((r = cli_getline(stdin, &line, &cap, &len)) > 0) {
		if (tv_reserve((void **)ins, &ncap, *nin + 1, sizeof(**ins), 64))
			break;
		(*ins)[*nin].text = strndup(line, len);
		if (!(*ins)[*nin].text)
			break;
		(*ins)[(*nin)++].len = len;
	}
	free(line);
	if (r > 0) {
		cli_err("out of memory");
		return -ENOMEM;
	}
	if (r < 0) {
		cli_err("reading standard input: %s", strerror(EIO));
		return r;
	}
	return 0;
}

int cmd_lookup(int argc, char **argv, struct cli_global *g)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		CLI_SEL_LONGOPTS,
		CLI_ADDR_LONGOPTS,
		{},
	};
	TASKVMA_OPTS(taskvma_lookup_opts, lo, .build_ids = 1);
	struct taskvma *tv = NULL;
	struct out skips = { .json = true };	/* "skipped": only its list is used */
	struct taskvma_addr_info *res = NULL;
	struct input *ins = NULL;
	uint64_t *addrs = NULL;
	size_t nin = 0, nok = 0, ncap = 0;
	bool json = false, hex = false, malformed = false, unmapped = false;
	int opt, r, err, ret = EXIT_OK;
	pid_t pid;

	while ((opt = cli_getopt(argc, argv, "lookup", CLI_SEL_SHORTOPTS "j", longopts, g)) != -1) {
		if (opt == 'h') {
			fputs(lookup_usage, stdout);
			return EXIT_OK;
		}
		if (cli_addr_opt(opt, optarg, &lo, &json, &hex) <= 0)
			return EXIT_USAGE;	/* '?': cli_getopt() said why */
	}
	/* the first operand is the PID unless a selection option named it */
	if (!g->sel.npids && !cli_sel_filtered(&g->sel)) {
		if (argc - optind < 1) {
			cli_err("lookup needs a PID (and addresses, or them on standard input)");
			return EXIT_USAGE;
		}
		if ((r = cli_sel_add_operands(&g->sel, 1, argv + optind++)))
			return r;
	}
	if ((r = cli_sel_one(&g->sel, "lookup", &pid)))
		return r;
	if (argc - optind == 0 || (argc - optind == 1 && !strcmp(argv[optind], "-"))) {
		if (read_stdin(&ins, &nin)) {
			ret = EXIT_FAIL;
			goto out;
		}
	} else {
		ncap = (size_t)(argc - optind);
		ins = calloc(ncap, sizeof(*ins));
		if (!ins) {
			cli_err("out of memory");
			return EXIT_FAIL;
		}
		for (int i = optind; i < argc; i++, nin++) {
			ins[nin].text = strdup(argv[i]);
			ins[nin].len = strlen(argv[i]);
			if (!ins[nin].text) {
				cli_err("out of memory");
				ret = EXIT_FAIL;
				goto out;
			}
		}
	}
	addrs = calloc(nin ? nin : 1, sizeof(*addrs));
	res = calloc(nin ? nin : 1, sizeof(*res));
	if (!addrs || !res) {
		cli_err("out of memory");
		ret = EXIT_FAIL;
		goto out;
	}
	for (size_t i = 0; i < nin; i++) {
		char *s = ins[i].text;
		size_t len = ins[i].len;

		/* surrounding blanks are not part of the address */
		while (len && (*s == ' ' || *s == '\t'))
			s++, len--;
		while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
			len--;
		ins[i].bad = len ? cli_addr_parse(s, len, hex, &addrs[nok]) : "empty-line";
		if (ins[i].bad)
			malformed = true;
		else
			ins[i].slot = nok++;
	}
	if ((r = cli_open(g, &tv))) {
		ret = r;
		goto out;
	}
	err = taskvma_lookup(tv, pid, addrs, nok, res, &lo);
	if (err) {
		const char *msg = taskvma_last_error(tv);
		char buf[300];

		if (!msg[0]) {
			snprintf(buf, sizeof(buf), "pid %d: %s", (int)pid, taskvma_strerror(err));
			msg = buf;
		}
		cli_err("%s", msg);
		if (json) {
			printf("{\"schema\":\"taskvma.lookup/1\",\"backend\":\"%s\",\"pid\":%d,\"results\":[],\"errors\":[{\"pid\":%d,\"error\":",
			       taskvma_backend_name(taskvma_backend(tv)), (int)pid, (int)pid);
			cli_json_text(stdout, msg, strlen(msg));
			fputs("}]", stdout);
			/* the process not read, and why: maps' "skipped" object */
			out_skip(&skips, pid, out_skip_reason(err));
			out_skipped_json(&skips, stdout);
			fputs("}\n", stdout);
		}
		ret = cli_exit_code(err);
		if (ret == EXIT_OK || ret == EXIT_USAGE)
			ret = EXIT_FAIL;
		goto out;
	}
	if (json)
		printf("{\"schema\":\"taskvma.lookup/1\",\"backend\":\"%s\",\"pid\":%d,\"results\":[",
		       taskvma_backend_name(taskvma_backend(tv)), (int)pid);
	for (size_t i = 0; i < nin; i++) {
		const struct taskvma_addr_info *ri = ins[i].bad ? NULL : &res[ins[i].slot];

		if (ri && ri->status == TASKVMA_ADDR_NOT_MAPPED)
			unmapped = true;
		if (json) {
			if (i)
				fputc(',', stdout);
			fputs("\n  ", stdout);
			put_json(stdout, &ins[i], ri);
		} else {
			put_text(stdout, &ins[i], ri);
		}
	}
	if (json) {
		fputs("\n],\"errors\":[]", stdout);
		out_skipped_json(&skips, stdout);
		fputs("}\n", stdout);
	}
	ret = malformed ? EXIT_USAGE : unmapped ? EXIT_FAIL : EXIT_OK;
	if ((r = cli_finish_output(stdout)))
		ret = r;
out:
	free(skips.skips);
	taskvma_close(tv);
	for (size_t i = 0; i < nin; i++)
		free(ins[i].text);
	free(ins);
	free(addrs);
	free(res);
	return ret;
}
