// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* taskvma normalize: a profiler's sample stream ("PID ADDR" lines of any
 * number of processes) to (build ID, file offset, file name), one record
 * per input line, in order.  Input is answered in batches: whatever is
 * available on stdin (up to BATCH_MAX lines) is one library call. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "reserve.h"	/* tv_reserve(): growing arrays, as the library does */

#define BATCH_MAX 65536

static const char normalize_usage[] =
	"Usage: taskvma normalize [OPTIONS] < SAMPLES\n"
	"Read 'PID ADDR' lines (any number of processes) on standard input and\n"
	"print one record per line, in input order:\n"
	"\n"
	"  PID ADDR file BUILD_ID OFFSET START-END PERMS FILENAME\n"
	"  PID ADDR anonymous|jit|special - - START-END PERMS [NAME]\n"
	"  PID ADDR not-mapped|process-gone|permission-denied|no-address-space|error\n"
	"  PID_TOKEN ADDR_TOKEN malformed:empty-line|missing-pid|bad-pid|bad-address|extra-fields\n"
	"\n"
	"OFFSET is the offset of the address in the file; BUILD_ID is hex, 'none'\n"
	"(the file has no GNU build ID note) or 'unreadable'.  ADDR is hex with 0x;\n"
	"bare hex only with --hex; decimal is never accepted.\n"
	"\n"
	"  -j, --json           JSON lines with OpenTelemetry Mapping names (docs/json.md)\n"
	"      --hex            bare addresses are hex\n"
	"      --no-build-id    leave build IDs out\n"
	"      --build-id-from=auto|kernel|file\n"
	"      --backend=NAME   auto (default), bpf, procmap, procfs\n"
	"\n"
	"Exit codes: 0 every line was normalized (a file mapping); 1 some line was\n"
	"not (its reason is in its record) or output failed; 2 usage, or some line\n"
	"was malformed (every other line is still answered).\n"
	"\n"
	"EXAMPLE\n"
	"  printf '%s 0x%s\\n' $$ 400000 | taskvma normalize --json\n";

struct line {
	char *text;		/* the input line */
	size_t len;
	const char *bad;	/* malformed:REASON, or NULL */
	size_t slot;		/* index of its request */
	/* the tokens, for echoing */
	size_t pid_off, pid_len, addr_off, addr_len;
};

struct batch {
	struct line *l;
	size_t n, cap;
	struct taskvma_addr_req *req;
	struct taskvma_addr_info *res;
	size_t nreq, reqcap, rescap;
	uint64_t lineno;	/* of the first line */
};

static void tokenize(struct line *ln, bool hex, pid_t *pid, uint64_t *addr)
{
	const char *s = ln->text;
	size_t i = 0, n = ln->len, start[3], len[3];
	int ntok = 0;

	while (i < n) {
		while (i < n && (s[i] == ' ' || s[i] == '\t'))
			i++;
		if (i == n)
			break;
		if (ntok < 3)
			start[ntok] = i;
		while (i < n && s[i] != ' ' && s[i] != '\t')
			i++;
		if (ntok < 3)
			len[ntok] = i - start[ntok];
		ntok++;
	}
	if (ntok == 0) {
		ln->bad = "empty-line";
		return;
	}
	if (ntok == 1) {
		/* one field: the address of a line without its PID, or the reverse */
		ln->addr_off = start[0];
		ln->addr_len = len[0];
		ln->bad = "missing-pid";
		return;
	}
	ln->pid_off = start[0];
	ln->pid_len = len[0];
	ln->addr_off = start[1];
	ln->addr_len = len[1];
	if (ntok > 2) {
		ln->bad = "extra-fields";
		return;
	}
	{
		char pbuf[16];

		if (len[0] >= sizeof(pbuf)) {
			ln->bad = "bad-pid";
			return;
		}
		memcpy(pbuf, s + start[0], len[0]);
		pbuf[len[0]] = 0;
		if (cli_parse_pid(pbuf, pid)) {
			ln->bad = "bad-pid";
			return;
		}
	}
	if (cli_addr_parse(s + start[1], len[1], hex, addr))
		ln->bad = "bad-address";
}

/* The address is in a mapping (a record with the mapping's fields follows). */
static bool in_mapping(const struct taskvma_addr_info *r)
{
	switch (r->status) {
	case TASKVMA_ADDR_FILE:
	case TASKVMA_ADDR_ANON:
	case TASKVMA_ADDR_JIT:
	case TASKVMA_ADDR_SPECIAL:
		return true;
	default:
		return false;
	}
}

static void put_text(FILE *f, const struct line *ln, const struct taskvma_addr_info *r)
{
	char perms[5];

	if (ln->bad) {
		cli_token_put(f, ln->text + ln->pid_off, ln->pid_len);
		fputc(' ', f);
		cli_token_put(f, ln->text + ln->addr_off, ln->addr_len);
		fprintf(f, " malformed:%s\n", ln->bad);
		return;
	}
	fprintf(f, "%d 0x%llx %s", (int)r->pid, (unsigned long long)r->addr, cli_addr_reason(r));
	if (!in_mapping(r)) {
		fputc('\n', f);
		return;
	}
	fputc(' ', f);
	if (r->status == TASKVMA_ADDR_FILE) {
		cli_build_id_put(f, r, false);
		fprintf(f, " 0x%llx ", (unsigned long long)r->file_offset);
	} else {
		fputs("- - ", f);
	}
	taskvma_format_perms(r->vma.perms, perms);
	fprintf(f, "%llx-%llx %s", (unsigned long long)r->vma.start, (unsigned long long)r->vma.end,
		perms);
	if (r->vma.name_len) {
		fputc(' ', f);
		fwrite(r->vma.name, 1, r->vma.name_len, f);
	}
	fputc('\n', f);
}

static void put_json(FILE *f, const struct line *ln, uint64_t lineno,
		     const struct taskvma_addr_info *r)
{
	char perms[5];

	fprintf(f, "{\"schema\":\"taskvma.normalize/1\",\"line\":%llu,", (unsigned long long)lineno);
	if (ln->bad) {
		fputs("\"input\":", f);
		cli_json_text(f, ln->text, ln->len);
		fprintf(f, ",\"status\":\"malformed\",\"reason\":\"%s\"}\n", ln->bad);
		return;
	}
	fprintf(f, "\"pid\":%d,\"address\":%llu,\"address_hex\":\"0x%llx\",\"status\":\"%s\"",
		(int)r->pid, (unsigned long long)r->addr, (unsigned long long)r->addr,
		cli_addr_reason(r));
	if (!in_mapping(r)) {
		if (r->err)
			fprintf(f, ",\"error\":\"%s\"", taskvma_strerror(r->err));
		fputs("}\n", f);
		return;
	}
	taskvma_format_perms(r->vma.perms, perms);
	/* OpenTelemetry profiles Mapping: memory_start, memory_limit,
	 * file_offset (of the mapping's start), filename; the address's own
	 * offset in the file is address_file_offset. */
	fprintf(f, ",\"memory_start\":%llu,\"memory_limit\":%llu,\"file_offset\":%llu,"
		"\"memory_start_hex\":\"0x%llx\",\"memory_limit_hex\":\"0x%llx\",\"filename\":",
		(unsigned long long)r->vma.start, (unsigned long long)r->vma.end,
		(unsigned long long)(r->status == TASKVMA_ADDR_FILE ? r->vma.offset : 0),
		(unsigned long long)r->vma.start, (unsigned long long)r->vma.end);
	cli_json_text(f, r->vma.name, r->vma.name_len);
	fprintf(f, ",\"perms\":\"%s\"", perms);
	if (r->status == TASKVMA_ADDR_FILE) {
		fprintf(f, ",\"address_file_offset\":%llu,\"build_id_status\":\"%s\"",
			(unsigned long long)r->file_offset,
			taskvma_build_id_status_name(r->build_id_status));
		if (r->build_id_status == TASKVMA_BUILD_ID_OK) {
			fputs(",\"attributes\":{\"process.executable.build_id.gnu\":", f);
			cli_build_id_put(f, r, true);
			fputc('}', f);
		}
	}
	fputs("}\n", f);
}

/* Is more input waiting right now?  (a batch ends when the writer pauses) */
static bool input_ready(void)
{
	struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };

	if (stdin->_IO_read_ptr < stdin->_IO_read_end)
		return true;	/* already buffered by stdio */
	return poll(&p, 1, 0) == 1;
}

int cmd_normalize(int argc, char **argv, struct cli_global *g)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		CLI_ADDR_LONGOPTS,
		{},
	};
	TASKVMA_OPTS(taskvma_lookup_opts, lo, .build_ids = 1);
	struct taskvma *tv = NULL;
	struct batch b = { .lineno = 1 };
	char *buf = NULL;
	size_t cap = 0, len;
	bool json = false, hex = false, malformed = false, partial = false, eof = false;
	int opt, r, ret = EXIT_OK;

	while ((opt = cli_getopt(argc, argv, "normalize", "j", longopts, g)) != -1) {
		if (opt == 'h') {
			fputs(normalize_usage, stdout);
			return EXIT_OK;
		}
		if (cli_addr_opt(opt, optarg, &lo, &json, &hex) <= 0)
			return EXIT_USAGE;	/* '?': cli_getopt() said why */
	}
	if (optind < argc) {
		cli_err("normalize reads 'PID ADDR' lines from standard input; unexpected '%s'",
			argv[optind]);
		return EXIT_USAGE;
	}
	if ((r = cli_open(g, &tv)))
		return r;
	while (!eof) {
		/* one batch: what is there now, up to BATCH_MAX lines */
		b.n = b.nreq = 0;
		do {
			struct line *ln;
			pid_t pid = 0;
			uint64_t addr = 0;

			r = cli_getline(stdin, &buf, &cap, &len);
			if (r <= 0) {
				eof = true;
				if (r < 0) {
					cli_err("reading standard input: %s", strerror(-r));
					ret = EXIT_FAIL;
				}
				break;
			}
			if (tv_reserve((void **)&b.l, &b.cap, b.n + 1, sizeof(*b.l), 64) ||
			    tv_reserve((void **)&b.req, &b.reqcap, b.nreq + 1, sizeof(*b.req), 64))
				goto oom;
			ln = &b.l[b.n];
			memset(ln, 0, sizeof(*ln));
			ln->text = strndup(buf, len);
			if (!ln->text)
				goto oom;
			ln->len = len;
			b.n++;
			tokenize(ln, hex, &pid, &addr);
			if (ln->bad) {
				malformed = true;
				continue;
			}
			ln->slot = b.nreq;
			b.req[b.nreq++] = (struct taskvma_addr_req){ .pid = pid, .addr = addr };
		} while (b.n < BATCH_MAX && input_ready());
		if (!b.n)
			break;
		if (tv_reserve((void **)&b.res, &b.rescap, b.nreq ? b.nreq : 1, sizeof(*b.res), 64))
			goto oom;
		r = taskvma_normalize(tv, b.req, b.nreq, b.res, &lo);
		if (r) {
			cli_err("normalize: %s", taskvma_strerror(r));
			ret = EXIT_FAIL;
			goto out;
		}
		for (size_t i = 0; i < b.n; i++) {
			const struct taskvma_addr_info *ri = b.l[i].bad ? NULL : &b.res[b.l[i].slot];

			if (ri && ri->status != TASKVMA_ADDR_FILE)
				partial = true;
			if (json)
				put_json(stdout, &b.l[i], b.lineno + i, ri);
			else
				put_text(stdout, &b.l[i], ri);
			free(b.l[i].text);
			b.l[i].text = NULL;
		}
		b.lineno += b.n;
		if (fflush(stdout))
			break;	/* reported below */
	}
	if (ret == EXIT_OK)
		ret = malformed ? EXIT_USAGE : partial ? EXIT_FAIL : EXIT_OK;
	if ((r = cli_finish_output(stdout)))
		ret = r;
	goto out;
oom:
	cli_err("out of memory");
	ret = EXIT_FAIL;
out:
	for (size_t i = 0; i < b.n; i++)
		free(b.l[i].text);
	free(b.l);
	free(b.req);
	free(b.res);
	free(buf);
	taskvma_close(tv);
	return ret;
}
