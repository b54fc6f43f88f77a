// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* taskvma lookup: which mapping holds an address. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "output.h"

static const char lookup_usage[] =
	"Usage: taskvma lookup [OPTIONS] PID ADDR...\n"
	"Print the /proc/PID/maps line of the mapping that contains each address\n"
	"(hex, 0x optional).  One kernel walk per address, starting at it.\n"
	"\n"
	"  -j, --json           JSON (docs/json.md)\n"
	"      --backend=NAME   auto (default), bpf, procmap, procfs\n"
	"\n"
	"Exit codes: as taskvma --help; 1 when an address is not mapped.\n"
	"\n"
	"EXAMPLES\n"
	"  taskvma lookup $$ 0x400000\n"
	"  taskvma lookup --json 1234 7ffd1c000000 7f3a5c001234\n";

int cmd_lookup(int argc, char **argv, struct cli_global *g)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{ "json", no_argument, NULL, 'j' },
		{},
	};
	struct taskvma *tv = NULL;
	struct out o;
	bool json = false;
	uint64_t *addrs;
	int opt, r, naddr, ret = EXIT_OK;
	pid_t pid;

	while ((opt = cli_getopt(argc, argv, "lookup", "j", longopts, g)) != -1) {
		switch (opt) {
		case 'h': fputs(lookup_usage, stdout); return EXIT_OK;
		case 'j': json = true; break;
		default:	/* '?': cli_getopt() said why */
			return EXIT_USAGE;
		}
	}
	if (argc - optind < 2) {
		cli_err("lookup needs a PID and at least one address");
		return EXIT_USAGE;
	}
	if (cli_parse_pid(argv[optind], &pid)) {
		cli_err("invalid PID '%s'", argv[optind]);
		return EXIT_USAGE;
	}
	naddr = argc - optind - 1;
	addrs = calloc(naddr, sizeof(*addrs));
	if (!addrs)
		return EXIT_FAIL;
	for (int i = 0; i < naddr; i++) {
		if (cli_parse_addr(argv[optind + 1 + i], &addrs[i])) {
			cli_err("invalid address '%s': want hex", argv[optind + 1 + i]);
			free(addrs);
			return EXIT_USAGE;
		}
	}
	if ((r = cli_open(g, &tv))) {
		free(addrs);
		return r;
	}
	out_begin(&o, stdout, json, false, taskvma_backend_name(taskvma_backend(tv)));
	for (int i = 0; i < naddr; i++) {
		/* the kfunc's own addressing: start at the VMA containing addr */
		struct taskvma_query q = { .sz = sizeof(q), .addr_lo = addrs[i], .addr_hi = addrs[i] + 1 };
		struct taskvma_map *m = NULL;
		int err = taskvma_snapshot(tv, pid, &q, &m);
		char msg[300];

		if (err) {
			out_error(&o, pid, taskvma_last_error(tv));
			if (ret == EXIT_OK)
				ret = cli_exit_code(err);
			if (err != -EAGAIN)
				break;	/* the process itself is the problem */
		} else if (!m->count) {
			snprintf(msg, sizeof(msg), "pid %d: address 0x%llx is not mapped", (int)pid,
				 (unsigned long long)addrs[i]);
			out_error(&o, pid, msg);
			if (ret == EXIT_OK)
				ret = EXIT_FAIL;
		} else {
			out_map(&o, m);
		}
		taskvma_map_free(m);
	}
	out_end(&o);
	taskvma_close(tv);
	free(addrs);
	return ret;
}
