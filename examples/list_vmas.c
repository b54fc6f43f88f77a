// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libtaskvma in a few lines: iterate a process's VMAs the way the kernel's
 * bpf_iter_task_vma_new/_next/_destroy kfuncs do, and print each as
 * /proc/PID/maps would.
 *
 *   cc list_vmas.c $(pkg-config --cflags --libs --static taskvma) -o list_vmas
 *   ./list_vmas PID [START_ADDR_HEX]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <taskvma.h>

int main(int argc, char **argv)
{
	struct taskvma *tv = NULL;
	struct taskvma_iter *it = NULL;
	const struct taskvma_vma *v;
	unsigned long long addr = argc > 2 ? strtoull(argv[2], NULL, 16) : 0;
	char line[8192];
	int err;

	if (argc < 2) {
		fprintf(stderr, "usage: %s PID [START_ADDR_HEX]\n", argv[0]);
		return 2;
	}
	err = taskvma_open(&tv, NULL);	/* auto: BPF, else PROCMAP_QUERY, else /proc text */
	if (err) {
		fprintf(stderr, "taskvma_open: %s\n", taskvma_strerror(err));
		return 1;
	}
	/* like bpf_iter_task_vma_new(&it, task, addr) */
	err = taskvma_iter_new(tv, &it, atoi(argv[1]), addr);
	while (!err && (v = taskvma_iter_next(it))) {
		taskvma_format_maps_line(v, line, sizeof(line));
		fputs(line, stdout);
	}
	if (!err)
		err = taskvma_iter_err(it);	/* -EAGAIN: the map changed during the walk */
	if (err)
		fprintf(stderr, "%s\n", taskvma_last_error(tv)[0] ? taskvma_last_error(tv)
								 : taskvma_strerror(err));
	taskvma_iter_destroy(it);	/* always, as with the kfunc */
	printf("# backend: %s\n", taskvma_backend_name(taskvma_backend(tv)));
	taskvma_close(tv);
	return err ? 1 : 0;
}
