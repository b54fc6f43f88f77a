// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "output.h"

static void append(char **buf, size_t *len, const char *s)
{
	size_t n = strlen(s);
	char *p = realloc(*buf, *len + n + 1);

	if (!p)
		return;
	memcpy(p + *len, s, n + 1);
	*buf = p;
	*len += n;
}

void out_begin(struct out *o, FILE *f, bool json, bool headers, const char *backend)
{
	memset(o, 0, sizeof(*o));
	o->f = f;
	o->json = json;
	o->headers = headers;
	o->backend = backend;
	if (json)
		fprintf(f, "{\"backend\":\"%s\",\"mappings\":[", backend);
}

static char *fit(struct out *o, size_t need)
{
	if (need > o->line_cap) {
		char *p = realloc(o->line, need);

		if (!p)
			return NULL;
		o->line = p;
		o->line_cap = need;
	}
	return o->line;
}

void out_map(struct out *o, const struct taskvma_map *m)
{
	for (size_t i = 0; i < m->count; i++) {
		const struct taskvma_vma *v = &m->vmas[i];
		size_t n;

		if (!o->json && i == 0 && o->headers)
			fprintf(o->f, "%s==> %d (%s) <==\n", o->blocks ? "\n" : "", (int)m->pid, m->comm);
		n = o->json ? taskvma_format_json(v, m->pid, m->comm, o->line, o->line_cap)
			    : taskvma_format_maps_line(v, o->line, o->line_cap);
		if (n >= o->line_cap) {
			if (!fit(o, n + 256))
				continue;
			n = o->json ? taskvma_format_json(v, m->pid, m->comm, o->line, o->line_cap)
				    : taskvma_format_maps_line(v, o->line, o->line_cap);
		}
		if (o->json && o->nmaps++)
			fputc(',', o->f);
		fwrite(o->line, 1, n, o->f);
	}
	if (!o->json && !m->count && o->headers)
		fprintf(o->f, "%s==> %d (%s) <==\n", o->blocks ? "\n" : "", (int)m->pid, m->comm);
	if (o->json) {
		char buf[256], comm[128];
		FILE *mf = fmemopen(comm, sizeof(comm), "w");

		if (mf) {
			cli_json_str(mf, m->comm, strlen(m->comm));
			fclose(mf);
		}
		snprintf(buf, sizeof(buf), "%s{\"pid\":%d,\"comm\":%s,\"complete\":true,\"count\":%zu}",
			 o->procs_len ? "," : "", (int)m->pid, mf ? comm : "\"\"", m->count);
		append(&o->procs, &o->procs_len, buf);
	}
	o->blocks++;
}

void out_error(struct out *o, pid_t pid, const char *msg)
{
	cli_err("%s", msg);
	if (o->json) {
		char buf[1200], q[1100];
		FILE *mf = fmemopen(q, sizeof(q), "w");

		if (mf) {
			cli_json_str(mf, msg, strlen(msg));
			fclose(mf);
		}
		snprintf(buf, sizeof(buf), "%s{\"pid\":%d,\"error\":%s}", o->errs_len ? "," : "",
			 (int)pid, mf ? q : "\"\"");
		append(&o->errs, &o->errs_len, buf);
	}
}

void out_end(struct out *o)
{
	if (o->json)
		fprintf(o->f, "],\"processes\":[%s],\"errors\":[%s]}\n", o->procs ? o->procs : "",
			o->errs ? o->errs : "");
	fflush(o->f);
	free(o->procs);
	free(o->errs);
	free(o->line);
}
