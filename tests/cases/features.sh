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
PY=$TMPD/features_check.py

# ---- the checker: prints PASS/FAIL lines ----------------------------------
cat >"$PY" <<'EOF'
import errno, json, sys

def out(ok, name, why=""):
    print(("PASS %s" % name) if ok else ("FAIL %s: %s" % (name, why)))

def load(path):
    with open(path) as f:
        return json.load(f)

# The documented schema (docs/features.md): key -> allowed types.
TOP = {"schema": (str,), "kernel": (str,), "uid": (int,), "quick": (bool,),
       "elapsed_us": (int,), "summary": (dict,), "probes": (list,)}
SUMMARY = {"kfuncs_present": (bool,), "semantics": (str,), "bpf_walker": (bool,),
           "procmap_query": (bool,), "procmap_build_id": (bool,),
           "proc_maps_readable": (bool,), "cap_bpf": (bool,), "cap_perfmon": (bool,),
           "cap_sys_admin": (bool,), "cap_net_admin": (bool,),
           "lockdown": (str, type(None)), "unprivileged_bpf_disabled": (int, type(None)),
           "auto_backend": (str,), "auto_reason": (str,),
           "requested_backend": (str, type(None)), "requested_usable": (bool, type(None))}
PROBE = {"name": (str,), "category": (str,), "status": (str,), "errno": (str, type(None)),
         "value": (str, type(None)), "prog_type": (str, type(None)),
         "section": (str, type(None)), "task_source": (str, type(None)),
         "documented": (bool, type(None)), "task_from_pid": (bool, type(None)),
         "detail": (str,)}
CATS = {"prog_type", "kfunc", "dependency", "system", "backend"}
STATUS = {"supported", "unsupported", "not_run"}
SEMS = {"none", "mmap_lock_6_7", "per_vma_snapshot", "unknown"}
BACKENDS = {"bpf", "procmap", "procfs"}
DOC_TYPES = {"CGROUP_SKB", "CGROUP_SOCK_ADDR", "LSM", "LWT_IN", "LWT_OUT", "LWT_SEG6LOCAL",
             "LWT_XMIT", "NETFILTER", "SCHED_ACT", "SCHED_CLS", "SK_SKB", "SOCKET_FILTER",
             "STRUCT_OPS", "SYSCALL", "TRACING", "XDP"}
EXTRA_TYPES = {"RAW_TRACEPOINT", "TRACEPOINT", "PERF_EVENT"}

def keys_ok(obj, spec):
    bad = [k for k in spec if k not in obj or not isinstance(obj[k], spec[k])
           or (isinstance(obj[k], bool) and bool not in spec[k])]
    extra = [k for k in obj if k not in spec]
    return bad, extra

def schema(tag, d):
    bad, extra = keys_ok(d, TOP)
    out(not bad and not extra, tag + ": top-level keys and types", "bad %s extra %s" % (bad, extra))
    if bad:
        return
    out(d["schema"] == "taskvma.features/1", tag + ": schema taskvma.features/1", d["schema"])
    bad, extra = keys_ok(d["summary"], SUMMARY)
    out(not bad and not extra, tag + ": summary keys and types", "bad %s extra %s" % (bad, extra))
    errs = []
    for p in d["probes"]:
        b, e = keys_ok(p, PROBE)
        if b or e:
            errs.append("%s: bad %s extra %s" % (p.get("name"), b, e))
        elif p["category"] not in CATS or p["status"] not in STATUS or "\n" in p["detail"]:
            errs.append("%s: category/status/detail" % p["name"])
        elif p["errno"] is not None and not p["errno"].startswith("E"):
            errs.append("%s: errno %s" % (p["name"], p["errno"]))
        elif (p["category"] == "prog_type") != (p["prog_type"] is not None):
            errs.append("%s: prog_type field" % p["name"])
        elif p["category"] == "prog_type" and (p["status"] == "supported") != (p["task_source"] is not None):
            errs.append("%s: task_source vs status" % p["name"])
    out(not errs, tag + ": every probe entry as documented", "; ".join(errs[:3]))
    names = [p["name"] for p in d["probes"]]
    out(len(names) == len(set(names)), tag + ": probe names unique")
    s = d["summary"]
    out(s["semantics"] in SEMS and s["auto_backend"] in BACKENDS and s["auto_reason"],
        tag + ": summary enums valid", "%s %s" % (s["semantics"], s["auto_backend"]))
    ab = [p for p in d["probes"] if p["name"] == "auto_backend"]
    out(len(ab) == 1 and ab[0]["value"] == s["auto_backend"], tag + ": auto_backend probe = summary")

def probes(d):
    return {p["name"]: p for p in d["probes"]}

def root_facts(d):
    P, s = probes(d), d["summary"]
    for n in ("SYSCALL", "TRACING iter/task", "TRACING tp_btf/sched_process_exec", "RAW_TRACEPOINT"):
        out(n in P and P[n]["status"] == "supported", "features: %s accepted here" % n,
            P.get(n, {}).get("detail"))
    out(s["semantics"] == "per_vma_snapshot", "features: per-VMA snapshot semantics detected",
        s["semantics"])
    out(s["kfuncs_present"] and all(P[k]["status"] == "supported" for k in
        ("bpf_iter_task_vma_new", "bpf_iter_task_vma_next", "bpf_iter_task_vma_destroy")),
        "features: the three kfuncs in BTF")
    out(s["procmap_query"] and P["procmap_query"]["status"] == "supported",
        "features: PROCMAP_QUERY present")
    out(s["procmap_build_id"], "features: PROCMAP_QUERY returns build IDs",
        P["procmap_build_id"]["detail"])
    out(s["bpf_walker"] and s["auto_backend"] == "bpf", "features: auto picks bpf as root",
        s["auto_reason"])
    for n in ("bpf_task_from_pid", "tp_btf/sched_process_exec", "tp_btf/sched_process_exit",
              "tp_btf/signal_deliver", "tp_btf/sched_process_fork", "tp_btf/mmap_lock_released",
              "tp_btf/vm_unmapped_area", "raw_tp/sys_enter", "ringbuf", "proc_maps_self"):
        out(P.get(n, {}).get("status") == "supported", "features: %s supported" % n,
            P.get(n, {}).get("detail"))
    out(s["cap_bpf"] and s["cap_perfmon"] and s["cap_sys_admin"], "features: root has the caps")
    out(P["lockdown"]["status"] != "unsupported" and (s["lockdown"] in
        (None, "none", "integrity", "confidentiality")), "features: lockdown probed",
        P["lockdown"]["detail"])
    pt = [p for p in d["probes"] if p["category"] == "prog_type"]
    docd = {p["prog_type"] for p in pt if p["documented"]}
    undoc = {p["prog_type"] for p in pt if p["documented"] is False}
    out(docd == DOC_TYPES, "features: the 16 documented program types probed",
        sorted(DOC_TYPES ^ docd))
    out(undoc == EXTRA_TYPES, "features: RAW_TRACEPOINT, TRACEPOINT, PERF_EVENT probed as undocumented",
        sorted(undoc))
    # fentry / LSM: the real errno, whatever it is, with its reason
    for n in ("LSM", "TRACING fentry/bpf_fentry_test1"):
        p = P[n]
        out(p["status"] == "supported" or (p["errno"] and p["detail"]),
            "features: %s answer has errno and reason when refused" % n, p)

# probe name -> (program taking the first task source, program using bpf_task_from_pid)
LIBBPF = {
    "CGROUP_SKB": "cgroup_skb", "CGROUP_SOCK_ADDR": "cgroup_sock_addr", "LSM": "lsm",
    "LWT_IN": "lwt_in", "LWT_OUT": "lwt_out", "LWT_SEG6LOCAL": "lwt_seg6local",
    "LWT_XMIT": "lwt_xmit", "NETFILTER": "netfilter", "SCHED_ACT": "sched_act",
    "SCHED_CLS": "sched_cls", "SK_SKB": "sk_skb", "SOCKET_FILTER": "socket_filter",
    "STRUCT_OPS": "struct_ops", "SYSCALL": "syscall",
    "TRACING tp_btf/sched_process_exec": "tracing_tp_btf",
    "TRACING fentry/bpf_fentry_test1": "tracing_fentry", "XDP": "xdp",
    "RAW_TRACEPOINT": "raw_tracepoint", "TRACEPOINT": "tracepoint", "PERF_EVENT": "perf_event",
}

def compare(d, lines_path):
    L = {}
    with open(lines_path) as f:
        for line in f:
            r = json.loads(line)
            L[r["prog"]] = r
    P = probes(d)
    pt = {n for n, p in P.items() if p["category"] == "prog_type"}
    covered = set(LIBBPF) | {"TRACING iter/task"}
    out(pt == covered, "features: every program-type probe has an independent libbpf check",
        sorted(pt ^ covered))
    for name in sorted(pt & covered):
        p = P[name]
        if name == "TRACING iter/task":
            first, pid, src = L.get("p_tracing_iter_ctx"), L.get("p_tracing_iter_pid"), "ctx->task"
        else:
            base = LIBBPF[name]
            first, pid, src = L.get("p_%s_cur" % base), L.get("p_%s_pid" % base), "bpf_get_current_task_btf"
        if first is None or pid is None:
            out(False, "features: %s vs libbpf" % name, "libbpf program missing")
            continue
        want = "supported" if (first["ok"] or pid["ok"]) else "unsupported"
        why = "features %s (%s); libbpf: first %s %s, from_pid %s %s" % (
            p["status"], p["detail"], first["ok"], first["reason"], pid["ok"], pid["reason"])
        ok = p["status"] == want
        if ok and first["ok"]:
            ok = p["task_source"] == src
        elif ok and pid["ok"]:
            ok = p["task_source"] == "bpf_task_from_pid"
        if ok and p["task_from_pid"] is not None:
            ok = p["task_from_pid"] == pid["ok"]
        if ok and want == "unsupported":
            ok = p["errno"] == errno.errorcode.get(first["errno"], str(first["errno"]))
        out(ok, "features: %s agrees with a libbpf-loaded program" % name, why)

def unpriv(d):
    P, s = probes(d), d["summary"]
    bpfish = [p for p in d["probes"] if p["category"] == "prog_type"] + \
        [P[n] for n in ("bpf_walker", "bpf_task_from_pid", "tp_btf/sched_process_exec",
                        "raw_tp/sys_enter", "ringbuf")]
    bad = [p["name"] for p in bpfish if p["status"] != "not_run" or "lacks" not in p["detail"]]
    out(not bad, "features unprivileged: every BPF probe not_run with the reason", bad[:5])
    out(not (s["cap_bpf"] or s["cap_perfmon"] or s["cap_sys_admin"]),
        "features unprivileged: no capabilities seen")
    out(s["auto_backend"] == "procfs" and "BPF walker unusable" in s["auto_reason"]
        and "PROCMAP_QUERY" in s["auto_reason"],
        "features unprivileged: auto picks procfs for whole maps, procmap for lookups, and says why",
        s["auto_reason"])
    out(s["kfuncs_present"] and s["semantics"] == "per_vma_snapshot",
        "features unprivileged: BTF probes still run (vmlinux BTF is world-readable)")
    out(P["lockdown"]["status"] in ("not_run", "supported") and P["lockdown"]["detail"],
        "features unprivileged: lockdown reported", P["lockdown"])

def quick(d, full):
    P = probes(d)
    out(d["quick"] is True and not any(p["category"] == "prog_type" for p in d["probes"]),
        "features --quick: quick, no program-type probes")
    out({"bpf_walker", "procmap_query", "bpf_iter_task_vma_new", "iter_semantics", "cap_bpf",
         "auto_backend"} <= set(P), "features --quick: has what auto needs")
    out(d["summary"]["auto_backend"] == full["summary"]["auto_backend"],
        "features --quick: same auto backend as the full probe")

def text(path, d):
    with open(path) as f:
        lines = f.read().split("\n")
    hdr = [i for i, l in enumerate(lines) if l.startswith("CATEGORY ")]
    if len(hdr) != 1:
        out(False, "features text: one header line")
        return
    h = lines[hdr[0]]
    # a probe's line, then its DETAIL's continuation lines (indented)
    rows = [l for l in lines[hdr[0] + 1:] if l and not l.startswith(" ")]
    cols = [h.index(c) for c in ("PROBE", "STATUS", "DETAIL")]
    out(len(rows) == len(d["probes"]), "features text: one line per probe",
        "%d lines, %d probes" % (len(rows), len(d["probes"])))
    long = [l for l in lines if len(l) > 80]
    out(not long, "features text (not a terminal): every line fits 80 columns", long[:1])
    bad = [r for r in rows if any(len(r) > c and (r[c - 2:c] != "  " or r[c] == " ") for c in cols)
           or r[cols[1]:].split()[0] not in STATUS]
    out(not bad, "features text: columns aligned", bad[:2])
    names = [r[cols[0]:cols[1]].rstrip() for r in rows]
    out(names == [p["name"] for p in d["probes"]], "features text: same probes as JSON")

cmd = sys.argv[1]
if cmd == "schema":
    schema(sys.argv[3], load(sys.argv[2]))
elif cmd == "root":
    root_facts(load(sys.argv[2]))
elif cmd == "compare":
    compare(load(sys.argv[2]), sys.argv[3])
elif cmd == "unpriv":
    unpriv(load(sys.argv[2]))
elif cmd == "quick":
    quick(load(sys.argv[2]), load(sys.argv[3]))
elif cmd == "text":
    text(sys.argv[2], load(sys.argv[3]))
elif cmd == "requested":
    s = load(sys.argv[2])["summary"]
    out(s["requested_backend"] == sys.argv[3] and s["requested_usable"] is True,
        "features --backend=%s: requested backend reported usable" % sys.argv[3], s)
EOF

# ---- full probe as root -----------------------------------------------------
F=$TMPD/features.json
if "$TASKVMA" features --json >"$F" 2>"$TMPD/f.err"; then
	pass "features --json: exit 0"
else
	fail "features --json: exit 0" "$(head -c 300 "$TMPD/f.err")"
fi
check "features --json: strict JSON (python3 -m json.tool)" python3 -m json.tool "$F"
check_eq "features --json: quiet on stderr without -v" "" "$(cat "$TMPD/f.err")"
python3 "$PY" schema "$F" "features --json"
python3 "$PY" root "$F"

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
	python3 "$PY" compare "$F" "$TMPD/libbpf.jsonl"
fi

# ---- nothing stays loaded -------------------------------------------------------
if command -v bpftool >/dev/null; then
	check_eq "features: no probe program left loaded" 0 \
		"$(bpftool prog show 2>/dev/null | grep -c 'tv_probe')"
fi

# ---- text table -----------------------------------------------------------------
if "$TASKVMA" features >"$TMPD/f.txt" 2>"$TMPD/t.err"; then
	pass "features (text): exit 0"
	python3 "$PY" text "$TMPD/f.txt" "$F"
else
	fail "features (text): exit 0" "$(head -c 300 "$TMPD/t.err")"
fi

# ---- quick ------------------------------------------------------------------------
Q=$TMPD/quick.json
if "$TASKVMA" features --quick --json >"$Q" 2>"$TMPD/q.err"; then
	python3 "$PY" schema "$Q" "features --quick --json"
	python3 "$PY" quick "$Q" "$F"
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
	python3 "$PY" schema "$NB" "features unprivileged"
	python3 "$PY" unpriv "$NB"
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
		python3 "$PY" requested "$TMPD/b.json" "$b"
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
