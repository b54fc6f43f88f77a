/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What libbpf 1.1 (Debian 12) lacks for open-coded iterators.  Each piece is
 * behind #ifndef so a newer libbpf's own definition wins.
 */
#ifndef TASKVMA_COMPAT_BPF_H
#define TASKVMA_COMPAT_BPF_H

/* Kernel #defines that BTF (and so vmlinux.h) does not carry, used by
 * taskvma's programs. */
#define PF_KTHREAD	0x00200000
#define PF_EXITING	0x00000004
#define ENOSYS		38
#define VM_READ		0x1
#define VM_WRITE	0x2
#define VM_EXEC		0x4
#define VM_MAYSHARE	0x80
#define PAGE_SHIFT	12
#define MM_CONTEXT_HAS_VSYSCALL_BIT 1	/* bit of mm->context.flags (x86) */

#ifndef barrier_var
/* Hide a variable's value from the compiler, so that a bounds check the
 * verifier needs is not optimised into a form it cannot follow. */
#define barrier_var(var) asm volatile("" : "+r"(var))
#endif

/* A global function's argument the verifier may trust (Linux 6.8+ with a
 * libbpf that defines it; the tag alone otherwise). */
#ifndef __arg_trusted
#define __arg_trusted __attribute__((btf_decl_tag("arg:trusted")))
#endif

#ifndef bpf_ksym_exists
#define bpf_ksym_exists(sym) (!!&(sym))
#endif

/* Declared by vmlinux.h only on kernels whose BTF has it; the layout
 * is opaque (the kernel checks the size). */
struct bpf_iter_task_vma;

extern int bpf_iter_task_vma_new(struct bpf_iter_task_vma *it,
				 struct task_struct *task, __u64 addr) __ksym __weak;
extern struct vm_area_struct *bpf_iter_task_vma_next(struct bpf_iter_task_vma *it) __ksym __weak;
extern void bpf_iter_task_vma_destroy(struct bpf_iter_task_vma *it) __ksym __weak;

/* The number iterator (Linux 6.4+): an open-coded bounded loop. */
extern int bpf_iter_num_new(struct bpf_iter_num *it, int start, int end) __ksym;
extern int *bpf_iter_num_next(struct bpf_iter_num *it) __ksym;
extern void bpf_iter_num_destroy(struct bpf_iter_num *it) __ksym;

/* Linux 6.2+.  Casting a trusted pointer to an untrusted alias costs nothing
 * at run time (the verifier turns the call into a register move), and loads
 * of pointer fields through the alias skip the verifier's search of all of
 * vmlinux BTF for "<struct>__safe_trusted" & co.: about 0.7 ms of load time
 * per such load on a 6.18 kernel. */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;
#define untrusted(type, p) ((type *)bpf_rdonly_cast((p), bpf_core_type_id_kernel(type)))

#ifndef bpf_for_each
/* libbpf 1.2's bpf_for_each, for code that does not need new()'s result. */
#define bpf_for_each(type, cur, args...) for (							\
	struct bpf_iter_##type ___it __attribute__((aligned(8),				\
						     cleanup(bpf_iter_##type##_destroy))),	\
	*___p __attribute__((unused)) = (						\
		bpf_iter_##type##_new(&___it, ##args),					\
		(void)bpf_iter_##type##_destroy, (void *)0);				\
	(((cur) = bpf_iter_##type##_next(&___it)));					\
)
#endif

#endif
