// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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

static void json_quoted(char *dst, size_t len, const char *s)
{
	FILE *mf = fmemopen(dst, len, "w");

	dst[0] = 0;
	if (mf) {
		cli_json_str(mf, s, strlen(s));
		fclose(mf);
	}
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

void out_proc_start(struct out *o, pid_t pid, const char *comm)
{
	o->pid = pid;
	snprintf(o->comm, sizeof(o->comm), "%s", comm);
	out_proc_discard(o);
}

/* The in-memory spool: one 4 MiB mapping, faulted in 512 KiB at a time with
 * MADV_POPULATE_WRITE as the text grows: a process with 65,000 VMAs fills
 * it, and 1,024 separate page faults cost ~4 ms on a VM.  (Not huge pages:
 * a huge-page fault may stall in direct compaction on a busy host.) */
#define SPOOL_STEP (512u << 10)
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

static char *spool_alloc(struct out *o)
{
	char *p = mmap(NULL, SPOOL_MEM, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	o->mem_map = p;
	o->mem_populated = 0;
	return p;
}

static void spool_write(struct out *o, const char *p, size_t n)
{
	/* once a line went to the file, every later one must follow it there,
	 * even a shorter one that would still fit in memory */
	if (!o->file && o->mem_len + n <= SPOOL_MEM) {
		if (!o->mem && !(o->mem = spool_alloc(o))) {
			o->err = -ENOMEM;
			return;
		}
		if (o->mem_len + n > o->mem_populated) {
			size_t end = (o->mem_len + n + SPOOL_STEP - 1) & ~(size_t)(SPOOL_STEP - 1);

			if (end > SPOOL_MEM)
				end = SPOOL_MEM;
			/* a hint: on failure pages fault in one by one */
			madvise(o->mem + o->mem_populated, end - o->mem_populated, MADV_POPULATE_WRITE);
			o->mem_populated = end;
		}
		memcpy(o->mem + o->mem_len, p, n);
		o->mem_len += n;
		return;
	}
	if (!o->file && !(o->file = tmpfile())) {
		o->err = -errno;
		return;
	}
	if (fwrite(p, 1, n, o->file) != n)
		o->err = -EIO;
}

void out_proc_vma(struct out *o, const struct taskvma_vma *v)
{
	size_t n;

	if (o->json && o->count)
		spool_write(o, ",", 1);
	n = o->json ? taskvma_format_json(v, o->pid, o->comm, o->line, sizeof(o->line))
		    : taskvma_format_maps_line(v, o->line, sizeof(o->line));
	if (n < sizeof(o->line)) {
		spool_write(o, o->line, n);
	} else {
		char *big = malloc(n + 1);

		if (!big) {
			o->err = -ENOMEM;
			return;
		}
		if (o->json)
			taskvma_format_json(v, o->pid, o->comm, big, n + 1);
		else
			taskvma_format_maps_line(v, big, n + 1);
		spool_write(o, big, n);
		free(big);
	}
	o->count++;
}

void out_proc_discard(struct out *o)
{
	o->mem_len = 0;
	o->count = 0;
	o->err = 0;
	if (o->file) {
		fclose(o->file);
		o->file = NULL;
	}
}

int out_proc_commit(struct out *o)
{
	char buf[65536];
	size_t n;

	if (o->err) {
		int err = o->err;

		out_proc_discard(o);
		return err;
	}
	if (!o->json && o->headers)
		fprintf(o->f, "%s==> %d (%s) <==\n", o->blocks ? "\n" : "", (int)o->pid, o->comm);
	if (o->json && o->count && o->nmaps)
		fputc(',', o->f);
	fwrite(o->mem, 1, o->mem_len, o->f);
	if (o->file) {
		rewind(o->file);
		while ((n = fread(buf, 1, sizeof(buf), o->file)) > 0)
			fwrite(buf, 1, n, o->f);
	}
	if (o->json) {
		char entry[256], comm[128];

		json_quoted(comm, sizeof(comm), o->comm);
		snprintf(entry, sizeof(entry), "%s{\"pid\":%d,\"comm\":%s,\"complete\":true,\"count\":%llu}",
			 o->procs_len ? "," : "", (int)o->pid, comm, (unsigned long long)o->count);
		append(&o->procs, &o->procs_len, entry);
	}
	o->nmaps += o->count;
	o->blocks++;
	out_proc_discard(o);
	return 0;
}

void out_map(struct out *o, const struct taskvma_map *m)
{
	out_proc_start(o, m->pid, m->comm);
	for (size_t i = 0; i < m->count; i++)
		out_proc_vma(o, &m->vmas[i]);
	out_proc_commit(o);
}

void out_error(struct out *o, pid_t pid, const char *msg)
{
	cli_err("%s", msg);
	if (o->json) {
		char buf[1200], q[1100];

		json_quoted(q, sizeof(q), msg);
		snprintf(buf, sizeof(buf), "%s{\"pid\":%d,\"error\":%s}", o->errs_len ? "," : "",
			 (int)pid, q);
		append(&o->errs, &o->errs_len, buf);
	}
}

void out_end(struct out *o)
{
	if (o->json)
		fprintf(o->f, "],\"processes\":[%s],\"errors\":[%s]}\n", o->procs ? o->procs : "",
			o->errs ? o->errs : "");
	fflush(o->f);
	out_proc_discard(o);
	if (o->mem_map)
		munmap(o->mem_map, SPOOL_MEM);
	o->mem = NULL;
	free(o->procs);
	free(o->errs);
}
