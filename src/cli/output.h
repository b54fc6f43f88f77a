/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Printing maps in /proc text or JSON: shared by maps, lookup and trace. */
#ifndef TASKVMA_CLI_OUTPUT_H
#define TASKVMA_CLI_OUTPUT_H
#include <stdbool.h>
#include <stdio.h>
#include "taskvma.h"

struct out {
	FILE *f;
	bool json;
	bool headers;		/* text: "==> PID (COMM) <==" before each block */
	int blocks;		/* blocks printed so far */
	int nmaps;		/* JSON: mappings printed so far */
	/* JSON: small per-process summaries and errors, printed at the end */
	char *procs, *errs;
	size_t procs_len, errs_len;
	char *line;
	size_t line_cap;
	const char *backend;
};

void out_begin(struct out *o, FILE *f, bool json, bool headers, const char *backend);
/* A whole map (printed only complete: callers pass only complete maps). */
void out_map(struct out *o, const struct taskvma_map *m);
/* An error for one process: stderr line (text) and JSON "errors" entry. */
void out_error(struct out *o, pid_t pid, const char *msg);
void out_end(struct out *o);
#endif
