// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* What lookup and normalize share: reading addresses, printing an answered
 * address (docs/cli.md, "Addresses"). */
#include <errno.h>
#include <string.h>
#include "cli.h"

/* "0x" + 1-16 hex digits; bare hex digits only when the input is declared
 * hex (--hex).  "4096" is decimal to some and hex to others: without --hex
 * it is refused, never guessed. */
const char *cli_addr_parse(const char *s, size_t len, bool bare_hex, uint64_t *out)
{
	uint64_t v = 0;
	size_t i = 0;

	if (len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		i = 2;
	else if (!bare_hex)
		return "bad-address";	/* want 0x... (or --hex) */
	if (i == len || len - i > 16)
		return "bad-address";
	for (; i < len; i++) {
		int d;

		if (s[i] >= '0' && s[i] <= '9')
			d = s[i] - '0';
		else if (s[i] >= 'a' && s[i] <= 'f')
			d = s[i] - 'a' + 10;
		else if (s[i] >= 'A' && s[i] <= 'F')
			d = s[i] - 'A' + 10;
		else
			return "bad-address";
		v = v << 4 | (uint64_t)d;
	}
	*out = v;
	return NULL;
}

/* An input token as it may be echoed: printable, no spaces, bounded. */
void cli_token_put(FILE *f, const char *s, size_t len)
{
	if (!len) {
		fputc('-', f);
		return;
	}
	if (len > 64)
		len = 64;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		fputc(c > 0x20 && c < 0x7f ? c : '?', f);
	}
}

void cli_json_text(FILE *f, const char *s, size_t len)
{
	char stackbuf[1024], *buf = stackbuf;
	size_t need = taskvma_format_json_string(s, len, stackbuf, sizeof(stackbuf), NULL);

	if (need > sizeof(stackbuf)) {
		buf = malloc(need);
		if (!buf) {
			fputs("\"\"", f);
			return;
		}
		taskvma_format_json_string(s, len, buf, need, NULL);
	}
	fputs(buf, f);
	if (buf != stackbuf)
		free(buf);
}

void cli_build_id_put(FILE *f, const struct taskvma_addr_info *r, bool json)
{
	if (r->build_id_status == TASKVMA_BUILD_ID_OK) {
		if (json)
			fputc('"', f);
		for (uint32_t i = 0; i < r->build_id_len; i++)
			fprintf(f, "%02x", r->build_id[i]);
		if (json)
			fputc('"', f);
	} else if (json) {
		fputs("null", f);
	} else if (r->build_id_status == TASKVMA_BUILD_ID_NONE ||
		   r->build_id_status == TASKVMA_BUILD_ID_UNREADABLE) {
		fputs(taskvma_build_id_status_name(r->build_id_status), f);
	} else {
		fputc('-', f);
	}
}

/* Why a process's records were not answered, in one word. */
const char *cli_addr_reason(const struct taskvma_addr_info *r)
{
	if (r->status != TASKVMA_ADDR_ERROR)
		return taskvma_addr_status_name(r->status);
	switch (r->err) {
	case -EACCES:
	case -EPERM: return "permission-denied";
	case -ENOENT: return "no-address-space";
	case -EAGAIN: return "map-changing";
	default: return "error";
	}
}

/* One line of input without its line end; 0 at EOF, -ENOMEM. */
int cli_getline(FILE *in, char **buf, size_t *cap, size_t *len)
{
	ssize_t n = getline(buf, cap, in);

	if (n < 0)
		return ferror(in) ? -EIO : 0;
	if (n && (*buf)[n - 1] == '\n')
		n--;
	if (n && (*buf)[n - 1] == '\r')
		n--;
	(*buf)[n] = 0;
	*len = (size_t)n;
	return 1;
}

int cli_build_id_from(const char *s, int *from)
{
	if (!strcmp(s, "auto"))
		*from = TASKVMA_BUILD_ID_AUTO;
	else if (!strcmp(s, "kernel"))
		*from = TASKVMA_BUILD_ID_KERNEL;
	else if (!strcmp(s, "file"))
		*from = TASKVMA_BUILD_ID_FILE;
	else
		return -EINVAL;
	return 0;
}

int cli_finish_output(FILE *f)
{
	if (fflush(f) || ferror(f)) {
		int err = cli_out_failed();

		/* the same line main() prints for the other commands */
		cli_err("writing the output: %s", strerror(err ? err : errno ? errno : EIO));
		cli_out_handled();
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

int cli_addr_opt(int c, const char *arg, struct taskvma_lookup_opts *lo, bool *json, bool *hex)
{
	switch (c) {
	case 'j': *json = true; return 1;
	case CLI_OPT_HEX: *hex = true; return 1;
	case CLI_OPT_NO_BID: lo->build_ids = 0; return 1;
	case CLI_OPT_BID_FROM:
		if (cli_build_id_from(arg, &lo->build_id_from)) {
			cli_err("--build-id-from: want auto, kernel or file, not '%s'", arg);
			return -1;
		}
		return 1;
	}
	return 0;
}
