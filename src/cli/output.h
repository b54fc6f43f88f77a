/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Printing maps in /proc text or JSON: shared by maps, lookup and trace.
 *
 * A process's output is spooled until its walk is known to be complete, so
 * nothing partial is ever printed: in memory up to SPOOL_MEM bytes, then in
 * an unlinked temporary file, so memory stays bounded for any map size. */
#ifndef TASKVMA_CLI_OUTPUT_H
#define TASKVMA_CLI_OUTPUT_H
#include <stdbool.h>
#include <stdio.h>
#include "taskvma.h"

#define SPOOL_MEM (4u << 20)

struct out {
	FILE *f;
	bool json;
	bool headers;		/* text: "==> PID (COMM) <==" before each block */
	int blocks;		/* blocks printed so far */
	uint64_t nmaps;		/* JSON: mappings printed so far */
	/* JSON: small per-process summaries and errors, printed at the end */
	char *procs, *errs;
	size_t procs_len, errs_len;
	/* JSON: processes not printed and why (docs/json.md "skipped") */
	char *skips;
	size_t skips_len;
	uint64_t nskip[4];	/* OUT_SKIP_* */
	const char *backend;
	/* what is printed (out_view()): the maps lines, the size view, the
	 * summary table or a picture */
	int view;		/* OUT_VIEW_* */
	int unit;		/* enum taskvma_size_unit of --sizes, --summary */
	bool quiet;		/* -q: no table header, no totals line */
	bool with_pid;		/* text: "PID (COMM) " before every line */
	struct taskvma_svg *svg;	/* OUT_VIEW_SVG: each complete process is added */
	char prefix[TASKVMA_COMM_ESC_MAX + 24];	/* with_pid: "PID (COMM) " */
	struct taskvma_totals totals;	/* of the process being read */
	/* OUT_VIEW_SVG: the process's mappings until it is complete */
	struct taskvma_vma *vmas;
	size_t *name_off;
	size_t nvmas, vcap, ocap;
	char *vnames;
	size_t vnames_len, vnames_cap;
	/* the spool of the process being read */
	pid_t pid;
	char comm[16];
	uint64_t count;		/* mappings read */
	uint64_t spooled;	/* records in the spool */
	char *mem;		/* SPOOL_MEM bytes inside mem_map */
	void *mem_map;
	size_t mem_len;
	size_t mem_populated;	/* bytes prefaulted */
	FILE *file;		/* overflow, NULL until needed */
	char line[8192];
	int err;		/* spool I/O error */
	bool consistent;	/* the process being committed: an atomic snapshot
				 * (JSON "consistent"; set before out_proc_commit) */
};

void out_begin(struct out *o, FILE *f, bool json, bool headers, const char *backend);
enum { OUT_VIEW_MAPS, OUT_VIEW_SIZES, OUT_VIEW_SUMMARY, OUT_VIEW_SVG };
/* After out_begin(): what to print (the summary's header is printed here,
 * unless quiet).  svg: for OUT_VIEW_SVG, the picture each complete process
 * is added to (the caller writes it). */
void out_view(struct out *o, int view, int unit, bool quiet, bool with_pid, struct taskvma_svg *svg);
/* Spool one process: start, add mappings, then commit (print) or discard. */
void out_proc_start(struct out *o, pid_t pid, const char *comm);
void out_proc_vma(struct out *o, const struct taskvma_vma *v);
int out_proc_commit(struct out *o);
void out_proc_discard(struct out *o);
/* A whole map at once (lookup). */
void out_map(struct out *o, const struct taskvma_map *m);
/* An error for one process: stderr line (text) and JSON "errors" entry. */
void out_error(struct out *o, pid_t pid, const char *msg);
void out_end(struct out *o);
/* A process left out of the document: counted and listed under "skipped". */
enum { OUT_SKIP_DENIED, OUT_SKIP_GONE, OUT_SKIP_NOMM, OUT_SKIP_TORN };
void out_skip(struct out *o, pid_t pid, int why);
/* The reason for a library error (-EACCES...), or -1 if it is none of them. */
int out_skip_reason(int err);
/* ,"skipped":{...} */
void out_skipped_json(struct out *o, FILE *f);
#endif
