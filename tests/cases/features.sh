#!/usr/bin/env bash
# run.sh: exclusive bpf-probes (it counts the tv_probe programs left loaded;
# tests/unit/test_features.c loads them too)
# `taskvma features`: the probe results on this machine, checked
#  - against what is known here (kernel-facts.md): SYSCALL, TRACING (iter,
#    tp_btf), RAW_TRACEPOINT accepted; per-VMA snapshot semantics;
#    PROCMAP_QUERY present; auto picks bpf as root;
#  - program type by program type, against programs compiled from C
#    (tests/bpf/features_probes.bpf.c, clang -target bpf) and loaded one by
#    one through libbpf (test_features --load), not through taskvma;
#  - as an unprivileged user (setpriv to nobody, no capabilities): exit 0,
#    every BPF probe not_run with the reason, auto falls back to procfs (lookups: procmap);
#  - JSON strict and as documented in docs/features.md; text table aligned;
#    quiet without -v; usage errors.
# Runs on its own too: bash tests/cases/features.sh
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
cleanup() { [ -n "$OWN_TMPD" ] && rm -rf "$TMPD"; }
trap cleanup EXIT

[ -x "$TASKVMA" ] || { fail "features: $TASKVMA" "not built"; exit 0; }
LOADER=$BUILD/tests/unit/test_features
BPF_CLANG=$(command -v clang-19 || command -v clang)
# the checks (tests/oracle.py features-*) print PASS/FAIL lines themselves
PY=$ROOT/tests/oracle.py

# ---- full probe as root -----------------------------------------------------
F=$TMPD/features.json
if "$TASKVMA" features --json >"$F" 2>"$TMPD/f.err"; then
	pass "features --json: exit 0"
else
	fail "features --json: exit 0" "$(head -c 300 "$TMPD/f.err")"
fi
check "features --json: strict JSON (python3 -m json.tool)" python3 -m json.tool "$F"
check_eq "features --json: quiet on stderr without -v" "" "$(cat "$TMPD/f.err")"
python3 "$PY" features-schema "$F" "features --json"
python3 "$PY" features-root "$F"

# ---- each program type, independently through libbpf -------------------------
OBJ=$TMPD/features_probes.bpf.o
if [ -z "$BPF_CLANG" ] || [ ! -r "$BUILD/vmlinux.h" ]; then
	fail "features: independent check" "no clang or $BUILD/vmlinux.h"
elif ! "$BPF_CLANG" -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wall -Wno-unused-function \
	-Wno-unused-parameter -I"$BUILD" -I"$ROOT/src/bpf" \
	-c "$ROOT/tests/bpf/features_probes.bpf.c" -o "$OBJ" 2>"$TMPD/clang.err"; then
	fail "features: compile tests/bpf/features_probes.bpf.c" "$(head -c 300 "$TMPD/clang.err")"
elif [ ! -x "$LOADER" ]; then
	fail "features: independent check" "$LOADER not built"
elif ! "$LOADER" --load "$OBJ" >"$TMPD/libbpf.jsonl" 2>"$TMPD/loader.err"; then
	fail "features: libbpf loader ran" "$(head -c 300 "$TMPD/loader.err")"
else
	pass "features: test programs compiled and loaded one by one through libbpf"
	python3 "$PY" features-compare "$F" "$TMPD/libbpf.jsonl"
fi

# ---- nothing stays loaded -------------------------------------------------------
if command -v bpftool >/dev/null; then
	check_eq "features: no probe program left loaded" 0 \
		"$(bpftool prog show 2>/dev/null | grep -c 'tv_probe')"
fi

# ---- text table -----------------------------------------------------------------
if "$TASKVMA" features >"$TMPD/f.txt" 2>"$TMPD/t.err"; then
	pass "features (text): exit 0"
	python3 "$PY" features-text "$TMPD/f.txt" "$F"
else
	fail "features (text): exit 0" "$(head -c 300 "$TMPD/t.err")"
fi

# ---- quick ------------------------------------------------------------------------
Q=$TMPD/quick.json
if "$TASKVMA" features --quick --json >"$Q" 2>"$TMPD/q.err"; then
	python3 "$PY" features-schema "$Q" "features --quick --json"
	python3 "$PY" features-quick "$Q" "$F"
else
	fail "features --quick --json: exit 0" "$(head -c 300 "$TMPD/q.err")"
fi

# ---- unprivileged --------------------------------------------------------------------
NB=$TMPD/nobody.json
if ! command -v setpriv >/dev/null; then
	fail "features unprivileged" "setpriv missing"
elif setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	"$TASKVMA" features --json >"$NB" 2>"$TMPD/nb.err"; then
	pass "features unprivileged: exit 0, no crash"
	check "features unprivileged: strict JSON" python3 -m json.tool "$NB"
	python3 "$PY" features-schema "$NB" "features unprivileged"
	python3 "$PY" features-unpriv "$NB"
	check_eq "features unprivileged: quiet on stderr" "" "$(cat "$TMPD/nb.err")"
	# the backend the report finds unusable: exit 7, as every command would
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		"$TASKVMA" features --quick --backend=bpf >"$TMPD/nb.bpf" 2>&1
	rc=$?
	if grep -q '^requested backend bpf: not usable here' "$TMPD/nb.bpf"; then
		check_eq "features --backend=bpf unprivileged: reported unusable -> exit 7" 7 "$rc"
	else
		check_eq "features --backend=bpf unprivileged: reported usable -> exit 0" 0 "$rc"
	fi
	"$TASKVMA" features --quick --backend=procfs >"$TMPD/ok.txt" 2>&1
	check_eq "features --backend=procfs (usable): exit 0" "0 1" \
		"$? $(grep -c '^requested backend procfs: usable' "$TMPD/ok.txt")"
	if setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		"$TASKVMA" features >"$TMPD/nb.txt" 2>&1 && grep -q '^CATEGORY ' "$TMPD/nb.txt"; then
		pass "features unprivileged: text table"
	else
		fail "features unprivileged: text table" "$(head -c 300 "$TMPD/nb.txt")"
	fi
else
	fail "features unprivileged: exit 0, no crash" "rc $? $(head -c 300 "$TMPD/nb.err")"
fi

# ---- verbosity, requested backend, usage -------------------------------------------------
if "$TASKVMA" features -v --json >"$TMPD/v.json" 2>"$TMPD/v.err"; then
	check "features -v: stdout still strict JSON" python3 -m json.tool "$TMPD/v.json"
	if grep -q '^taskvma: probe SYSCALL: supported' "$TMPD/v.err"; then
		pass "features -v: each probe reported on stderr"
	else
		fail "features -v: each probe reported on stderr" "$(head -c 200 "$TMPD/v.err")"
	fi
else
	fail "features -v: exit 0" "$(head -c 300 "$TMPD/v.err")"
fi
if "$TASKVMA" features -vv --quick >/dev/null 2>"$TMPD/vv.err" &&
	"$TASKVMA" -v -v features >/dev/null 2>"$TMPD/vv2.err" &&
	grep -q 'verifier log of' "$TMPD/vv2.err"; then
	pass "features -vv: verifier logs of refused programs on stderr"
else
	fail "features -vv: verifier logs of refused programs on stderr" "$(head -c 200 "$TMPD/vv2.err")"
fi
for b in bpf procmap procfs; do
	if "$TASKVMA" features --quick --json --backend="$b" >"$TMPD/b.json" 2>/dev/null; then
		python3 "$PY" features-requested "$TMPD/b.json" "$b"
	else
		fail "features --backend=$b: exit 0"
	fi
done
if "$TASKVMA" features --help >"$TMPD/help" 2>&1 && grep -q '^EXAMPLES' "$TMPD/help"; then
	pass "features --help: exit 0 with EXAMPLES"
else
	fail "features --help: exit 0 with EXAMPLES" "$(head -c 200 "$TMPD/help")"
fi
expect_fail "features: extra argument is a usage error" 2 'takes no arguments' \
	"$TASKVMA" features extra
expect_fail "features: unknown option is a usage error" 2 "unknown option '--bogus'" \
	"$TASKVMA" features --bogus
expect_fail "features: unknown backend is a usage error" 2 "unknown backend" \
	"$TASKVMA" features --backend=nope
end_case
