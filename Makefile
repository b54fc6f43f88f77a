# taskvma: `make` builds build/taskvma, build/libtaskvma.{a,so}, examples.
# Variables worth overriding:
#   VMLINUX_BTF=/path/to/btf   BTF to generate vmlinux.h from (default: running kernel)
#   VMLINUX_H=/path/vmlinux.h  use this vmlinux.h instead of generating one
#   BPF_CLANG=clang-19  CC=gcc  PREFIX=/usr/local  DESTDIR=
#   SAN=1                      build a separate tree (build-san/) with ASan+UBSan
PREFIX    ?= /usr/local
LIBDIR    ?= $(PREFIX)/lib
INCDIR    ?= $(PREFIX)/include
BINDIR    ?= $(PREFIX)/bin
MANDIR    ?= $(PREFIX)/share/man
DOCDIR    ?= $(PREFIX)/share/doc/taskvma
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
BPF_CLANG ?= $(shell command -v clang-19 || command -v clang)
BPFTOOL   ?= $(shell command -v bpftool || echo /usr/sbin/bpftool)
LLVM_STRIP ?= $(shell command -v llvm-strip-19 || command -v llvm-strip || echo true)
CC        ?= gcc
VERSION   := $(shell sed -n 's/^\#define TASKVMA_VERSION_STRING "\(.*\)"/\1/p' include/taskvma.h)
ARCH      := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux

ifeq ($(SAN),1)
O         ?= build-san
SANFLAGS  := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
O         ?= build
SANFLAGS  :=
endif

LIBBPF_CFLAGS := $(shell pkg-config --cflags libbpf)
LIBBPF_LIBS   := $(shell pkg-config --libs libbpf)

LIB_DIRS  := $(sort $(dir $(wildcard src/lib/*/)))
LIB_INC   := -Isrc/lib $(patsubst %/,-I%,$(LIB_DIRS))
WARN      := -Wall -Wextra -Werror
CFLAGS    ?= -O2 -g
ALL_CFLAGS := $(CFLAGS) $(WARN) $(SANFLAGS) -std=gnu11 -D_GNU_SOURCE -fPIC \
	-fvisibility=hidden -Iinclude $(LIB_INC) -Isrc/bpf -I$(O) $(LIBBPF_CFLAGS)
LDLIBS    := $(LIBBPF_LIBS) -lelf -lz
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) $(WARN) \
	-Wno-unused-function -I$(O) -Isrc/bpf

BPF_SRCS  := $(wildcard src/bpf/*.bpf.c bench/*.bpf.c)
BPF_OBJS  := $(patsubst %.bpf.c,$(O)/bpf/%.bpf.o,$(notdir $(BPF_SRCS)))
SKELS     := $(patsubst %.bpf.c,$(O)/%.skel.h,$(notdir $(filter-out src/bpf/vma_walk.bpf.c,$(BPF_SRCS))))
# the engine is loaded through a light skeleton (see src/lib/backends/backend_bpf.c)
LSKELS    := $(O)/vma_walk.lskel.h
# src/lib/ by subsystem: maps/ (handle, walk, visit, snapshots, output),
# backends/, trace/, watch/, features/, kernel/ (kernel facts)
LIB_SRCS  := $(wildcard src/lib/*.c src/lib/*/*.c)
LIB_OBJS  := $(patsubst src/lib/%.c,$(O)/lib/%.o,$(LIB_SRCS))
CLI_SRCS  := $(wildcard src/cli/*.c)
CLI_OBJS  := $(patsubst src/cli/%.c,$(O)/cli/%.o,$(CLI_SRCS))
EX_SRCS   := $(wildcard examples/*/*.bpf.c)
EX_BINS   := $(patsubst examples/%.bpf.c,$(O)/examples/%,$(EX_SRCS)) \
	$(patsubst examples/%.c,$(O)/examples/%,$(wildcard examples/*.c))
TEST_C    := $(wildcard tests/unit/*.c tests/fixtures/*.c tests/runner/*.c)
TEST_BINS := $(patsubst tests/%.c,$(O)/tests/%,$(TEST_C)) \
	$(patsubst tests/preload/%.c,$(O)/tests/preload/%.so,$(wildcard tests/preload/*.c))
BENCH_C   := $(filter-out %.bpf.c,$(wildcard bench/*.c))
BENCH_BINS := $(patsubst bench/%.c,$(O)/bench/%,$(BENCH_C))

# skeletons and BPF objects are intermediate files make would otherwise delete
.SECONDARY: $(BPF_OBJS) $(SKELS) $(LSKELS) $(O)/vmlinux.h

.PHONY: all lib cli examples tests bench-bins test test-long test-san fuzz bench bench-trace bench-watch bench-lookup bench-consistent install uninstall clean setup vmtest
all: cli lib examples tests

lib: $(O)/libtaskvma.a $(O)/libtaskvma.so.$(VERSION) $(O)/libtaskvma.so.0 $(O)/libtaskvma.so $(O)/taskvma.pc
cli: $(O)/taskvma
examples: $(EX_BINS)
tests: $(TEST_BINS) $(BENCH_BINS)

# vmlinux.h: generated from the running kernel's BTF unless VMLINUX_H is given.
ifdef VMLINUX_H
$(O)/vmlinux.h: $(VMLINUX_H) | $(O)
	cp $< $@
else
$(O)/vmlinux.h: | $(O)
	@test -r $(VMLINUX_BTF) || { echo "error: $(VMLINUX_BTF) not readable; pass VMLINUX_H=... or VMLINUX_BTF=..." >&2; exit 1; }
	$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@.tmp && mv $@.tmp $@
endif

$(O) $(O)/bpf $(O)/lib $(O)/cli $(O)/examples $(O)/tests/unit $(O)/tests/fixtures $(O)/tests/runner $(O)/tests/preload $(O)/bench:
	mkdir -p $@

$(O)/bpf/%.bpf.o: src/bpf/%.bpf.c $(O)/vmlinux.h $(wildcard src/bpf/*.h) | $(O)/bpf
	$(BPF_CLANG) $(BPF_CFLAGS) -c $< -o $@
# the benchmark's own program (bench/bench_floor.bpf.c)
$(O)/bpf/%.bpf.o: bench/%.bpf.c $(O)/vmlinux.h $(wildcard src/bpf/*.h) | $(O)/bpf
	$(BPF_CLANG) $(BPF_CFLAGS) -c $< -o $@
# trace.bpf.c built once per bpf_task_work prototype (see TR_TASK_WORK there)
$(O)/bpf/trace_tw7.bpf.o $(O)/bpf/trace_notw.bpf.o: src/bpf/trace.bpf.c

# DWARF is stripped (BTF stays): the skeleton embeds the object in the binary.
$(O)/%.skel.h: $(O)/bpf/%.bpf.o
	$(LLVM_STRIP) -g -o $<.stripped $<
	$(BPFTOOL) gen skeleton $<.stripped name $(subst -,_,$*)_bpf > $@.tmp && mv $@.tmp $@

$(O)/%.lskel.h: $(O)/bpf/%.bpf.o
	$(LLVM_STRIP) -g -o $<.lstripped $<
	$(BPFTOOL) gen skeleton -L $<.lstripped name $(subst -,_,$*)_lbpf > $@.tmp && mv $@.tmp $@

# Rebuild everything when the flags change (e.g. a tree once built without
# SAN=1): the stamp is rewritten only when they differ.
FLAGS_STAMP := $(O)/.flags
$(FLAGS_STAMP): FORCE | $(O)
	@echo '$(CC) $(ALL_CFLAGS) $(BPF_CFLAGS)' | cmp -s - $@ || echo '$(CC) $(ALL_CFLAGS) $(BPF_CFLAGS)' > $@
.PHONY: FORCE
FORCE:

# Exact dependencies from the compiler (-MMD): an object is rebuilt when a
# header or skeleton it includes changes, and only then.  Skeletons are
# order-only: they must exist before the first compile.
$(O)/lib/%.o: src/lib/%.c $(FLAGS_STAMP) | $(SKELS) $(LSKELS) $(O)/lib
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(O)/cli/%.o: src/cli/%.c $(FLAGS_STAMP) | $(O)/cli
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

-include $(LIB_OBJS:.o=.d) $(CLI_OBJS:.o=.d)

$(O)/libtaskvma.a: $(LIB_OBJS)
	rm -f $@ && ar rcs $@ $^

# The real file is libtaskvma.so.VERSION, with the links the loader
# (SONAME libtaskvma.so.0) and the linker (-ltaskvma) look for, so that a
# program linked against the build tree runs from it (LD_LIBRARY_PATH=build).
$(O)/libtaskvma.so.$(VERSION): $(LIB_OBJS) src/lib/libtaskvma.map
	$(CC) $(SANFLAGS) -shared -Wl,-soname,libtaskvma.so.0 \
	    -Wl,--version-script=src/lib/libtaskvma.map -o $@ $(LIB_OBJS) $(LDLIBS)

$(O)/libtaskvma.so.0 $(O)/libtaskvma.so: $(O)/libtaskvma.so.$(VERSION)
	ln -sf libtaskvma.so.$(VERSION) $(O)/libtaskvma.so.0
	ln -sf libtaskvma.so.0 $(O)/libtaskvma.so

$(O)/taskvma: $(CLI_OBJS) $(O)/libtaskvma.a
	$(CC) $(SANFLAGS) -o $@ $(CLI_OBJS) $(O)/libtaskvma.a $(LDLIBS)

$(O)/taskvma.pc: taskvma.pc.in | $(O)
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCDIR@|$(INCDIR)|' \
	    -e 's|@VERSION@|$(VERSION)|' $< > $@

# examples/NAME/NAME.bpf.c + examples/NAME/main.c -> build/examples/NAME/NAME
$(O)/examples/%: examples/%.bpf.c $(O)/vmlinux.h $(wildcard examples/*/*.c examples/*/*.h) | $(O)/examples
	@mkdir -p $(dir $@)
	$(BPF_CLANG) $(BPF_CFLAGS) -I$(dir $<) -c $< -o $@.bpf.o
	$(LLVM_STRIP) -g $@.bpf.o
	$(BPFTOOL) gen skeleton $@.bpf.o name $(notdir $*)_bpf > $@.skel.h
	$(CC) $(ALL_CFLAGS) -I$(dir $@) -o $@ $(dir $<)main.c $(LDLIBS)

# examples/NAME.c: programs using the installed-style API (#include <taskvma.h>)
$(O)/examples/%: examples/%.c $(O)/libtaskvma.a $(FLAGS_STAMP) | $(O)/examples
	$(CC) $(ALL_CFLAGS) -o $@ $< $(O)/libtaskvma.a $(LDLIBS)

$(O)/tests/%: tests/%.c $(wildcard tests/fixtures/*.h tests/unit/*.h) $(O)/libtaskvma.a $(FLAGS_STAMP) | $(O)/tests/unit $(O)/tests/fixtures $(O)/tests/runner
	$(CC) $(ALL_CFLAGS) -o $@ $< $(O)/libtaskvma.a $(LDLIBS) -lpthread

# tests/preload/NAME.c: LD_PRELOAD fault injection (no sanitizer: it is
# loaded before the sanitizer's runtime; cases set verify_asan_link_order=0)
$(O)/tests/preload/%.so: tests/preload/%.c | $(O)/tests/preload
	$(CC) $(CFLAGS) $(WARN) -std=gnu11 -fPIC -shared -o $@ $< -ldl

$(O)/bench/%: bench/%.c $(O)/libtaskvma.a $(SKELS) $(FLAGS_STAMP) | $(O)/bench
	$(CC) $(ALL_CFLAGS) -o $@ $< $(O)/libtaskvma.a $(LDLIBS) -lpthread

# The whole test suite: unit tests and every case on the normal build and
# (--quick) under ASan+UBSan, in one parallel run (tests/run.sh -j, default:
# the number of CPUs; TEST_JOBS=N to override) with one final count.
TEST_JOBS ?= $(shell nproc)
# The whole suite (the README's command, what CI runs): both trees, then the
# kernel matrix, which runs even when the cases failed (make -k would not
# say which part failed; this says both and fails if either did).
test: all
	$(MAKE) SAN=1 all
	@rc=0; tests/run.sh -j $(TEST_JOBS) --pass $(O) --pass build-san:quick || rc=1; \
	$(MAKE) --no-print-directory vmtest || rc=1; exit $$rc

# The long cases (tests/long: 1,000,000 VMAs, 5 minutes of fuzzing).
test-long: all
	tests/run.sh -j $(TEST_JOBS) --timeout 3600 --build $(O) tests/long/*.sh

# The kernel matrix (docs/kernels.md): Debian's kernels booted under QEMU, one
# at a time, each running tests/vmtest/smoke.sh, then the same on this kernel.
# Downloads are cached in $(VMTEST_CACHE) (default /var/cache/taskvma-vmtest).
vmtest: all
	tests/vmtest/run.sh --build $(O)

# libFuzzer target for the /proc/PID/maps parser (clang needed).
fuzz: | $(O)
	$(BPF_CLANG) -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude $(LIB_INC) \
	    -o $(O)/fuzz_parse tests/fuzz/fuzz_parse.c src/lib/maps/format.c src/lib/backends/procfs_parse.c

bench: all
	bench/run.sh --build $(O)
	$(O)/bench/trace_overhead
	$(O)/bench/lookup_bench
	$(O)/bench/watch_bench
	$(O)/bench/consistent_bench

# just the cost of consistent reads (docs/PERFORMANCE.md, "Consistent reads")
bench-consistent: all
	$(O)/bench/consistent_bench

# just the address lookup benchmark (docs/PERFORMANCE.md, "Address lookups")
bench-lookup: all
	$(O)/bench/lookup_bench

# just the watch benchmark (docs/PERFORMANCE.md, "watch")
bench-watch: all
	$(O)/bench/watch_bench

# just the trace overhead benchmark (docs/PERFORMANCE.md, "trace overhead")
bench-trace: all
	$(O)/bench/trace_overhead

setup:
	scripts/setup.sh

# only what is installed is built (not the tests, examples, benchmarks)
install: cli lib
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCDIR) \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man3 $(DESTDIR)$(DOCDIR) $(DESTDIR)$(BASHCOMPDIR)
	install -m 0755 $(O)/taskvma $(DESTDIR)$(BINDIR)/taskvma
	install -m 0644 $(O)/libtaskvma.a $(DESTDIR)$(LIBDIR)/libtaskvma.a
	install -m 0755 $(O)/libtaskvma.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libtaskvma.so.$(VERSION)
	ln -sf libtaskvma.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libtaskvma.so.0
	ln -sf libtaskvma.so.0 $(DESTDIR)$(LIBDIR)/libtaskvma.so
	install -m 0644 include/taskvma*.h $(DESTDIR)$(INCDIR)/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCDIR@|$(INCDIR)|' \
	    -e 's|@VERSION@|$(VERSION)|' taskvma.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/taskvma.pc
	install -m 0644 man/taskvma.1 $(DESTDIR)$(MANDIR)/man1/taskvma.1
	install -m 0644 man/libtaskvma.3 $(DESTDIR)$(MANDIR)/man3/libtaskvma.3
	install -m 0644 completion/taskvma.bash $(DESTDIR)$(BASHCOMPDIR)/taskvma
	install -m 0644 README.md docs/*.md $(DESTDIR)$(DOCDIR)/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/taskvma $(DESTDIR)$(LIBDIR)/libtaskvma.* \
	      $(DESTDIR)$(INCDIR)/taskvma*.h $(DESTDIR)$(LIBDIR)/pkgconfig/taskvma.pc \
	      $(DESTDIR)$(MANDIR)/man1/taskvma.1 $(DESTDIR)$(MANDIR)/man3/libtaskvma.3 \
	      $(DESTDIR)$(BASHCOMPDIR)/taskvma
	rm -rf $(DESTDIR)$(DOCDIR)

clean:
	rm -rf build build-san
