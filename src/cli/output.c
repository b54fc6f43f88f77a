// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "cli.h"
#include "output.h"
#include "reserve.h"	/* tv_reserve(): growing arrays, as the library does */

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
		fprintf(f, "{\"schema\":\"taskvma.maps/1\",\"backend\":\"%s\",\"mappings\":[", backend);
}

void out_view(struct out *o, int view, int unit, bool quiet, bool with_pid, struct taskvma_svg *svg)
{
	char hdr[256];

	o->view = view;
	o->unit = unit;
	o->quiet = quiet;
	o->with_pid = with_pid && !o->json;
	o->svg = svg;
	if (view == OUT_VIEW_SUMMARY && !o->json && !quiet) {
		taskvma_format_summary_header(hdr, sizeof(hdr));
		fputs(hdr, o->f);
	}
}

void out_proc_start(struct out *o, pid_t pid, const char *comm)
{
	o->pid = pid;
	snprintf(o->comm, sizeof(o->comm), "%s", comm);
	out_proc_discard(o);
	if (o->with_pid) {
		char c[TASKVMA_COMM_ESC_MAX];

		snprintf(o->prefix, sizeof(o->prefix), "%d (%s) ", (int)pid, cli_comm(comm, c));
	}
}

/* --svg: keep the mapping (its name in vnames) until the process is complete */
static void keep_vma(struct out *o, const struct taskvma_vma *v)
{
	if (tv_reserve((void **)&o->vmas, &o->vcap, o->nvmas + 1, sizeof(*o->vmas), 256) ||
	    tv_reserve((void **)&o->name_off, &o->ocap, o->nvmas + 1, sizeof(*o->name_off), 256) ||
	    tv_reserve((void **)&o->vnames, &o->vnames_cap, o->vnames_len + v->name_len + 1, 1, 4096)) {
		o->err = -ENOMEM;
		return;
	}
	memcpy(o->vnames + o->vnames_len, v->name, v->name_len);
	o->vnames[o->vnames_len + v->name_len] = 0;
	o->vmas[o->nvmas] = *v;
	o->name_off[o->nvmas++] = o->vnames_len;
	o->vnames_len += v->name_len + 1;
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

/* The overflow file: unlinked, in $TMPDIR (else /tmp), as mkstemp(3)
 * users expect; O_TMPFILE first (never visible by name), else a name
 * removed at once. */
static FILE *spool_file(void)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];
	FILE *f;
	int fd;

	if (!dir || !*dir)
		dir = "/tmp";
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
		if (snprintf(path, sizeof(path), "%s/taskvma-spool.XXXXXX", dir) >= (int)sizeof(path)) {
			errno = ENAMETOOLONG;
			return NULL;
		}
		fd = mkostemp(path, O_CLOEXEC);
		if (fd >= 0)
			unlink(path);
	}
	if (fd < 0)
		return NULL;
	f = fdopen(fd, "w+");
	if (!f) {
		int e = errno;

		close(fd);
		errno = e;
	}
	return f;
}

/* A failed write keeps its errno (ENOSPC is not EIO); the first one sticks. */
static void spool_fail(struct out *o, int err)
{
	if (!o->err)
		o->err = -(err ? err : EIO);
}

static void spool_write(struct out *o, const char *p, size_t n)
{
	if (o->err)
		return;
	/* once a line went to the file, every later one must follow it there,
	 * even a shorter one that would still fit in memory */
	if (!o->file && o->mem_len + n <= SPOOL_MEM) {
		if (!o->mem && !(o->mem = spool_alloc(o))) {
			spool_fail(o, ENOMEM);
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
	if (!o->file && !(o->file = spool_file())) {
		spool_fail(o, errno);
		return;
	}
	errno = 0;
	if (fwrite(p, 1, n, o->file) != n)
		spool_fail(o, errno);
}

/* One record of the spool: a maps line, a size line, or a JSON object
 * (with "size" in the size view) */
static size_t format_record(struct out *o, const struct taskvma_vma *v, char *buf, size_t len)
{
	size_t n;

	if (!o->json)
		return o->view == OUT_VIEW_SIZES ? taskvma_format_size_line(v, o->unit, buf, len)
						 : taskvma_format_maps_line(v, buf, len);
	n = taskvma_format_json(v, o->pid, o->comm, buf, len);
	if (o->view == OUT_VIEW_SIZES) {
		/* the object's closing brace becomes ,"size":N} */
		char tail[40];
		int k = snprintf(tail, sizeof(tail), ",\"size\":%llu}",
				 (unsigned long long)(v->end - v->start));

		if (n + (size_t)k - 1 < len)
			memcpy(buf + n - 1, tail, (size_t)k + 1);
		n += (size_t)k - 1;
	}
	return n;
}

void out_proc_vma(struct out *o, const struct taskvma_vma *v)
{
	size_t n;

	if (o->err)
		return;	/* the spool already failed: this process is not printed */
	o->count++;
	if (o->view != OUT_VIEW_MAPS)
		taskvma_totals_add(&o->totals, v);
	if (o->view == OUT_VIEW_SUMMARY)
		return;	/* the totals are all it prints */
	if (o->view == OUT_VIEW_SVG) {
		keep_vma(o, v);
		return;
	}
	if (o->json && o->spooled)
		spool_write(o, ",", 1);
	if (o->with_pid)
		spool_write(o, o->prefix, strlen(o->prefix));
	n = format_record(o, v, o->line, sizeof(o->line));
	if (n < sizeof(o->line)) {
		spool_write(o, o->line, n);
	} else {
		char *big = malloc(n + 1);

		if (!big) {
			o->err = -ENOMEM;
			return;
		}
		format_record(o, v, big, n + 1);
		spool_write(o, big, n);
		free(big);
	}
	o->spooled++;
}

void out_proc_discard(struct out *o)
{
	o->mem_len = 0;
	o->count = 0;
	o->spooled = 0;
	o->err = 0;
	memset(&o->totals, 0, sizeof(o->totals));
	o->totals.sz = sizeof(o->totals);
	o->nvmas = 0;
	o->vnames_len = 0;
	if (o->file) {
		fclose(o->file);
		o->file = NULL;
	}
}

/* What was spooled, to the output.  The spool file is flushed before a
 * byte goes out: a write that failed in its buffer (ENOSPC) is seen now,
 * and the process is reported instead of half printed. */
int out_proc_commit(struct out *o)
{
	char buf[65536];
	size_t n;
	int err;

	if (o->file && !o->err && (fflush(o->file) || fseek(o->file, 0, SEEK_SET)))
		spool_fail(o, errno);
	if (o->err) {
		err = o->err;
		out_proc_discard(o);
		return err;
	}
	if (o->view == OUT_VIEW_SVG) {
		/* the picture is written at the end: here it takes the map */
		for (size_t i = 0; i < o->nvmas; i++)
			o->vmas[i].name = o->vnames + o->name_off[i];
		err = taskvma_svg_add(o->svg, o->pid, o->comm, o->vmas, o->nvmas);
		if (err) {
			out_proc_discard(o);
			return err;
		}
		o->blocks++;
		out_proc_discard(o);
		return 0;
	}
	if (!o->json && o->headers && o->view != OUT_VIEW_SUMMARY) {
		char comm[TASKVMA_COMM_ESC_MAX];

		fprintf(o->f, "%s==> %d (%s) <==\n", o->blocks ? "\n" : "", (int)o->pid,
			cli_comm(o->comm, comm));
	}
	if (o->json && o->spooled && o->nmaps)
		fputc(',', o->f);
	/* nothing spooled (a filter left the process empty): no buffer either */
	if (o->mem_len)
		fwrite(o->mem, 1, o->mem_len, o->f);
	if (o->file) {
		while ((n = fread(buf, 1, sizeof(buf), o->file)) > 0)
			fwrite(buf, 1, n, o->f);
		if (ferror(o->file)) {
			/* part of it is out already: the output as a whole failed */
			err = errno ? errno : EIO;
			out_proc_discard(o);
			return -err;
		}
	}
	if (!o->json && o->view == OUT_VIEW_SIZES && !o->quiet) {
		taskvma_format_totals(&o->totals, o->unit, o->line, sizeof(o->line));
		fprintf(o->f, "%s%s", o->with_pid ? o->prefix : "", o->line);
	}
	if (!o->json && o->view == OUT_VIEW_SUMMARY) {
		taskvma_format_summary(&o->totals, o->pid, o->comm, o->unit, o->line, sizeof(o->line));
		fputs(o->line, o->f);
	}
	if ((err = cli_out_failed())) {
		out_proc_discard(o);
		return -err;
	}
	if (o->json) {
		char entry[1200], comm[200], totals[900] = "";
		FILE *mf = fmemopen(comm, sizeof(comm), "w");

		comm[0] = 0;
		if (mf) {
			cli_json_comm(mf, o->comm);
			fclose(mf);
		}
		if (o->view != OUT_VIEW_MAPS) {
			memcpy(totals, ",\"totals\":", 10);
			taskvma_format_totals_json(&o->totals, totals + 10, sizeof(totals) - 10);
		}
		snprintf(entry, sizeof(entry),
			 "%s{\"pid\":%d,%s,\"complete\":true,\"consistent\":%s,\"count\":%llu%s}",
			 o->procs_len ? "," : "", (int)o->pid, comm, o->consistent ? "true" : "false",
			 (unsigned long long)o->count, totals);
		append(&o->procs, &o->procs_len, entry);
	}
	o->nmaps += o->spooled;
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

static const char *const skip_names[] = { "denied", "gone", "no_address_space", "torn" };

int out_skip_reason(int err)
{
	switch (err) {
	case -EACCES:
	case -EPERM: return OUT_SKIP_DENIED;
	case -ESRCH: return OUT_SKIP_GONE;
	case -ENOENT: return OUT_SKIP_NOMM;
	case -EAGAIN: return OUT_SKIP_TORN;
	}
	return -1;
}

void out_skip(struct out *o, pid_t pid, int why)
{
	char buf[96];

	if (why < 0 || why > OUT_SKIP_TORN)
		return;
	o->nskip[why]++;
	if (!o->json)
		return;
	snprintf(buf, sizeof(buf), "%s{\"pid\":%d,\"reason\":\"%s\"}", o->skips_len ? "," : "",
		 (int)pid, skip_names[why]);
	append(&o->skips, &o->skips_len, buf);
}

void out_skipped_json(struct out *o, FILE *f)
{
	fputs(",\"skipped\":{", f);
	for (int i = 0; i <= OUT_SKIP_TORN; i++)
		fprintf(f, "\"%s\":%llu,", skip_names[i], (unsigned long long)o->nskip[i]);
	fprintf(f, "\"processes\":[%s]}", o->skips ? o->skips : "");
}

void out_end(struct out *o)
{
	if (o->json) {
		fprintf(o->f, "],\"processes\":[%s],\"errors\":[%s]", o->procs ? o->procs : "",
			o->errs ? o->errs : "");
		out_skipped_json(o, o->f);
		fputs("}\n", o->f);
	}
	fflush(o->f);
	out_proc_discard(o);
	if (o->mem_map)
		munmap(o->mem_map, SPOOL_MEM);
	o->mem = NULL;
	free(o->procs);
	free(o->errs);
	free(o->skips);
	free(o->vmas);
	free(o->name_off);
	free(o->vnames);
}
