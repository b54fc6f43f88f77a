#!/usr/bin/env bash
# `taskvma maps` against the kernel's own /proc/PID/maps, for every backend:
# the mapper fixture (known odd mappings), multi-threaded, several PIDs,
# --all, filters, JSON records (identical across backends and equal to
# /proc), 12,000 VMAs, a process at vm.max_map_count (65,530), and an
# overlayfs file whose maps line is longer than the padding column.
# (1,000,000 VMAs: tests/long/million_vmas.sh, make test-long.)
# Runs on its own too: bash tests/cases/maps_backends.sh
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
BACKENDS="bpf procmap procfs auto"
MAPPER=$BUILD/tests/fixtures/mapper
PIDS_TO_KILL=()

cleanup() {
	for p in "${PIDS_TO_KILL[@]}" ${MAPPER_PID:-}; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	restore_max_map
	[ -n "$OWN_TMPD" ] && rm -rf "$TMPD"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

[ -x "$TASKVMA" ] || { fail "maps_backends: $TASKVMA" "not built"; exit 0; }
[ -x "$MAPPER" ] || { fail "maps_backends: $MAPPER" "not built"; exit 0; }

private_copies mapper

# ---- helpers ---------------------------------------------------------------
PY=$TMPD/maps_helper.py
cat >"$PY" <<'EOF'
"""Oracles computed from /proc/PID/maps text (bytes throughout)."""
import fnmatch, json, re, sys

LINE = re.compile(rb'^([0-9a-f]{8,16})-([0-9a-f]{8,16}) ([-r][-w][-x][ps]) ([0-9a-f]{8,16}) '
                  rb'([0-9a-f]{2,}):([0-9a-f]{2,}) (\d+) *(.*)$')

def lines(path):
    with open(path, 'rb') as f:
        return f.read().splitlines(keepends=True)

def fields(line):
    m = LINE.match(line.rstrip(b'\n'))
    if not m:
        raise SystemExit('not a maps line: %r' % line)
    s, e, perms, off, ma, mi, ino, name = m.groups()
    return dict(start=int(s, 16), end=int(e, 16), perms=perms.decode(), offset=int(off, 16),
                dev_major=int(ma, 16), dev_minor=int(mi, 16), inode=int(ino), name=name)

def kernel_line(r):
    """The kernel's layout (fs/proc/task_mmu.c): header ending in a space,
    padded to 72 when there is a name, then one more space and the name."""
    h = b'%08x-%08x %s %08x %02x:%02x %d ' % (r['start'], r['end'], r['perms'].encode(),
                                              r['offset'], r['dev_major'], r['dev_minor'], r['inode'])
    if r['name']:
        h = h.ljust(72) + b' ' + r['name']
    return h + b'\n'

def is_file(f):
    return f['name'].startswith(b'/')

def cmd_filter(args):
    """filter PROCFILE [perms=P] [file] [anon] [range=LO-HI] [name=GLOB]"""
    src, opts = args[0], args[1:]
    out = sys.stdout.buffer
    for l in lines(src):
        f = fields(l)
        ok = True
        for o in opts:
            if o.startswith('perms='):
                pat = o[6:]
                ok &= all(p == '?' or p == c for p, c in zip(pat, f['perms']))
            elif o == 'file':
                ok &= is_file(f)
            elif o == 'anon':
                ok &= not is_file(f)
            elif o.startswith('range='):
                lo, hi = (int(x, 16) for x in o[6:].split('-'))
                ok &= f['end'] > lo and f['start'] < hi
            elif o.startswith('name='):
                ok &= fnmatch.fnmatchcase(f['name'].decode('latin-1'), o[5:])
            else:
                raise SystemExit('bad filter ' + o)
        if ok:
            out.write(l)

def load_json(path):
    with open(path, 'rb') as f:
        raw = f.read()
    def bad_const(c):
        raise ValueError('non-standard constant ' + c)
    text = raw.decode('utf-8')  # strict: JSON text is UTF-8
    return json.loads(text, parse_constant=bad_const)

def cmd_json_proc(args):
    """json-proc JSON PROCFILE PID COMM BACKEND: the document's records are
    /proc's lines, its processes entry is complete, no errors."""
    doc = load_json(args[0])
    proc = lines(args[1])
    pid, comm, backend = int(args[2]), args[3], args[4]
    errs = []
    if set(doc) < {'backend', 'mappings', 'processes', 'errors'}:
        errs.append('keys %s' % sorted(doc))
    if backend != 'auto' and doc.get('backend') != backend:
        errs.append('backend %r' % doc.get('backend'))
    if doc.get('backend') not in ('bpf', 'procmap', 'procfs'):
        errs.append('backend %r not a real backend' % doc.get('backend'))
    maps = doc.get('mappings', [])
    if len(maps) != len(proc):
        errs.append('%d mappings, /proc has %d lines' % (len(maps), len(proc)))
    kinds = {'file', 'anon', 'heap', 'stack', 'special', 'anon_named'}
    for m, l in zip(maps, proc):
        for k in ('pid', 'start', 'end', 'offset', 'dev_major', 'dev_minor', 'inode'):
            if type(m.get(k)) is not int:
                errs.append('%s is not a JSON integer in %r' % (k, m))
                break
        else:
            if m['pid'] != pid or m.get('comm') != comm:
                errs.append('pid/comm %r/%r' % (m['pid'], m.get('comm')))
            r = dict(m, name=m.get('name', '').encode('utf-8', 'surrogateescape'))
            if kernel_line(r) != l:
                errs.append('record %r\n    formats as %r\n    /proc has  %r' % (m, kernel_line(r), l))
            f = fields(l)
            want_kind = ('file' if is_file(f) else 'anon' if not f['name'] else
                         {b'[heap]': 'heap', b'[stack]': 'stack'}.get(f['name'], 'special'))
            if m.get('kind') not in kinds or m.get('kind') != want_kind:
                errs.append('kind %r, want %r for %r' % (m.get('kind'), want_kind, l))
        if len(errs) > 5:
            break
    ps = doc.get('processes', [])
    if ps != [{'pid': pid, 'comm': comm, 'complete': True, 'count': len(proc)}]:
        errs.append('processes %r' % ps)
    if doc.get('errors') != []:
        errs.append('errors %r' % doc.get('errors'))
    if errs:
        print('; '.join(errs[:6]))
        sys.exit(1)

def cmd_json_same(args):
    """json-same J1 J2...: identical "mappings" arrays."""
    docs = [load_json(a) for a in args]
    for a, d in zip(args[1:], docs[1:]):
        if d['mappings'] != docs[0]['mappings']:
            for i, (x, y) in enumerate(zip(docs[0]['mappings'], d['mappings'])):
                if x != y:
                    print('%s differs from %s at record %d: %r vs %r' % (a, args[0], i, y, x))
                    sys.exit(1)
            print('%s: %d records, %s: %d' % (args[0], len(docs[0]['mappings']), a, len(d['mappings'])))
            sys.exit(1)

HDR = re.compile(rb'^==> (\d+) \((.*)\) <==\n$')

def blocks(path):
    """Split multi-process output into [(pid, comm, [lines])]; checks the
    layout: header, lines, one blank line before each further header."""
    ls = lines(path)
    out, i = [], 0
    while i < len(ls):
        m = HDR.match(ls[i])
        if not m:
            raise SystemExit('line %d: expected a "==> PID (COMM) <==" header, got %r' % (i + 1, ls[i]))
        i += 1
        body = []
        while i < len(ls) and ls[i] != b'\n':
            if HDR.match(ls[i]):
                raise SystemExit('line %d: header without the blank line before it' % (i + 1))
            fields(ls[i])
            body.append(ls[i])
            i += 1
        if i < len(ls):  # the blank line: must be followed by a header
            i += 1
            if i == len(ls):
                raise SystemExit('blank line at the end of the output')
        out.append((int(m.group(1)), m.group(2), body))
    return out

def cmd_blocks(args):
    """blocks OUT [PID OUTFILE]...: well-formed, each pid once (order: maps_errors.sh);
    writes each requested pid's block to OUTFILE."""
    bs = blocks(args[0])
    pids = [b[0] for b in bs]
    if len(set(pids)) != len(pids):
        raise SystemExit('a pid appears twice')
    want = dict(zip(args[1::2], args[2::2]))
    for pid, comm, body in bs:
        if str(pid) in want:
            with open(want.pop(str(pid)), 'wb') as f:
                f.write(b''.join(body))
    if want:
        raise SystemExit('no block for pid(s) %s' % ' '.join(want))
    print(len(bs))

def cmd_check_fixture(args):
    """check-fixture PROCFILE DIR: the mapper made what it says."""
    proc, d = lines(args[0]), args[1].encode()
    fs = [fields(l) for l in proc]
    names = [f['name'] for f in fs]
    want = {
        'file mapped at offset 0x2000': any(f['name'] == d + b'/offset.dat' and f['offset'] == 0x2000
                                            and f['perms'] == 'r--p' for f in fs),
        'r-xp file mapping': any(f['name'] == d + b'/offset.dat' and f['perms'] == 'r-xp' for f in fs),
        'deleted file': d + b'/deleted.dat (deleted)' in names,
        'memfd': b'/memfd:tvtest (deleted)' in names,
        'shared anonymous': any(f['name'] == b'/dev/zero (deleted)' and f['perms'] == 'rw-s' for f in fs),
        'newline as \\012': d + b'/new\\012line.dat' in names,
        'spaces': d + b'/with space  s.dat' in names,
        'trailing space': d + b'/trailing space.dat ' in names,
        'guard page ---p between rw-p': any(fs[i]['perms'] == '---p' and not fs[i]['name'] and
                                            fs[i - 1]['perms'] == 'rw-p' and fs[i + 1]['perms'] == 'rw-p' and
                                            fs[i - 1]['end'] == fs[i]['start'] and fs[i]['end'] == fs[i + 1]['start']
                                            for i in range(1, len(fs) - 1)),
        '[heap] >= 1 MiB': any(f['name'] == b'[heap]' and f['end'] - f['start'] >= 1 << 20 for f in fs),
        '[stack]': b'[stack]' in names,
        '[vdso]': b'[vdso]' in names,
        '[vsyscall] last': names[-1] == b'[vsyscall]',
        'every line in kernel layout': all(kernel_line(f) == l for f, l in zip(fs, proc)),
    }
    bad = [k for k, v in want.items() if not v]
    if bad:
        print('missing: ' + ', '.join(bad))
        sys.exit(1)

def cmd_find(args):
    """find PROCFILE NAME [K]: start and end of the K-th line whose name is NAME."""
    k = int(args[2]) if len(args) > 2 else 0
    hits = [fields(l) for l in lines(args[0]) if fields(l)['name'] == args[1].encode()]
    print('%x %x' % (hits[k]['start'], hits[k]['end']))

def cmd_count(args):
    print(len(lines(args[0])))

globals()['cmd_' + sys.argv[1].replace('-', '_')](sys.argv[2:])
EOF
py() { python3 "$PY" "$@"; }

# ---- the fixture: known mappings, every backend ----------------------------
D=$TMPD/mapdir
mkdir -p "$D"
start_mapper -d "$D" || { fail "maps_backends: start mapper" "no ready"; exit 0; }
M=$MAPPER_PID
PIDS_TO_KILL+=("$M")
cat "/proc/$M/maps" >"$TMPD/fixture.ref"
check "fixture: /proc shows the mapper's known mappings" py check-fixture "$TMPD/fixture.ref" "$D"

for b in $BACKENDS; do
	run_cmp "maps --backend=$b: mapper equals /proc byte for byte" "$M" --backend="$b"
done
run_cmp "maps (default backend): mapper equals /proc" "$M"
run_cmp "maps: own shell equals /proc" $$

# JSON: the same records from every backend, and they are /proc's lines.
for b in $BACKENDS; do
	if "$TASKVMA" maps --json --backend="$b" "$M" >"$TMPD/j.$b" 2>"$TMPD/err"; then
		check "maps --json --backend=$b: strict JSON whose records are /proc's lines" \
			py json-proc "$TMPD/j.$b" "$TMPD/fixture.ref" "$M" mapper "$b"
	else
		fail "maps --json --backend=$b" "exit $?: $(head -c 300 "$TMPD/err")"
	fi
done
check "maps --json: identical mappings arrays from bpf, procmap, procfs" \
	py json-same "$TMPD/j.bpf" "$TMPD/j.procmap" "$TMPD/j.procfs"

# ---- filters: same selection as filtering /proc's lines ----------------------
memfd=$(py find "$TMPD/fixture.ref" "/memfd:tvtest (deleted)")
read -r mf_start mf_end <<<"$memfd"
# LO inside the memfd mapping; HI = the start of a mapping further up: that
# one is excluded, [LO, HI) overlaps are kept.
vdso=$(py find "$TMPD/fixture.ref" "[vdso]")
read -r vdso_start vdso_end <<<"$vdso"
lo=$(printf '%x' $((0x$mf_start + 0x800)))
hi=$vdso_start
# Each entry: filters separated by ';' (oracle names; the CLI gets --NAME).
filters=(
	"perms=??x?"
	"perms=rw-p"
	"perms=---p"
	"perms=???s"
	"perms=r?-?"
	"file"
	"anon"
	"range=$lo-$hi"
	"range=0-ffffffffffffffff"
	"range=$vdso_start-$(printf '%x' $((0x$vdso_start + 1)))"
	"name=*.dat*"
	"name=/memfd:*"
	"name=[[]*"
	"name=*space  s.dat"
	"name=*space.dat "
	"perms=r--p;file;name=$D/*"
	"anon;perms=rw-?"
)
for b in bpf procmap procfs; do
	for f in "${filters[@]}"; do
		IFS=';' read -r -a want_args <<<"$f"
		args=()
		for o in "${want_args[@]}"; do args+=("--$o"); done
		py filter "$TMPD/fixture.ref" "${want_args[@]}" >"$TMPD/want" 2>"$TMPD/pyerr"
		if [ ! -s "$TMPD/want" ]; then fail "filter $f: oracle selected nothing" "$(cat "$TMPD/pyerr")"; continue; fi
		"$TASKVMA" maps --backend="$b" "${args[@]}" "$M" >"$TMPD/got" 2>"$TMPD/err"
		rc=$?
		if [ "$rc" -ne 0 ]; then fail "maps --backend=$b ${args[*]}" "exit $rc: $(head -c 300 "$TMPD/err")"; continue; fi
		check_files_eq "maps --backend=$b ${args[*]}: the /proc lines that match ($(wc -l <"$TMPD/want"))" "$TMPD/want" "$TMPD/got"
	done
done

# ---- several PIDs: a block per PID, in the order given ------------------------
MAPPER_PID=
start_mapper -d "$D" -n 7 -t || fail "start second mapper" ""
M2=$MAPPER_PID; MAPPER_PID=
PIDS_TO_KILL+=("$M2")
check "fixture: second mapper is multi-threaded" test "$(ls /proc/"$M2"/task | wc -l)" -eq 2
for b in bpf procmap procfs; do
	run_cmp "maps --backend=$b: multi-threaded process equals /proc" "$M2" --backend="$b"
done
for b in bpf procmap procfs; do
	a=$M c=$M2
	# the order on the command line is the order of the blocks
	for order in "$a $c" "$c $a"; do
		set -- $order
		{
			printf '==> %s (%s) <==\n' "$1" "$(cat /proc/"$1"/comm)"; cat "/proc/$1/maps"; echo
			printf '==> %s (%s) <==\n' "$2" "$(cat /proc/"$2"/comm)"; cat "/proc/$2/maps"
		} >"$TMPD/want"
		"$TASKVMA" maps --backend="$b" "$1" "$2" >"$TMPD/got" 2>"$TMPD/err"
		rc=$?
		if [ "$rc" -ne 0 ]; then fail "maps --backend=$b $1 $2" "exit $rc: $(head -c 300 "$TMPD/err")"; continue; fi
		check_files_eq "maps --backend=$b PID1 PID2: headed blocks equal /proc, blank line between" "$TMPD/want" "$TMPD/got"
	done
done
"$TASKVMA" maps --json "$M" "$M2" >"$TMPD/j2" 2>"$TMPD/err"
check "maps --json PID1 PID2: both processes listed, all records" python3 - "$TMPD/j2" "$M" "$M2" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1], encoding='utf-8'))
a, b = int(sys.argv[2]), int(sys.argv[3])
n = {p: len(open('/proc/%d/maps' % p, 'rb').read().splitlines()) for p in (a, b)}
got = {p['pid']: p['count'] for p in d['processes']}
assert got == n, (got, n)
assert sum(1 for m in d['mappings'] if m['pid'] == a) == n[a]
assert sum(1 for m in d['mappings'] if m['pid'] == b) == n[b]
assert d['errors'] == []
EOF

# ---- --all --------------------------------------------------------------------
for b in bpf procmap procfs auto; do
	"$TASKVMA" maps --all --backend="$b" >"$TMPD/all" 2>"$TMPD/err"
	rc=$?
	[ "$rc" -eq 0 ] || echo "#   stderr: $(head -c 400 "$TMPD/err" | tr '\n' ' ')"
	cat "/proc/$M/maps" >"$TMPD/m.ref"
	cat "/proc/$M2/maps" >"$TMPD/m2.ref"
	# 0, or 6 when some other process's map kept changing (a benchmark
	# may be building one right now): then stderr must say so, for other
	# processes only.
	if [ "$rc" -eq 0 ] || { [ "$rc" -eq 6 ] && grep -qi 'chang' "$TMPD/err" &&
		! grep -Eq "pid ($M|$M2)[^0-9]" "$TMPD/err"; }; then
		pass "maps --all --backend=$b: exit $rc"
	else
		fail "maps --all --backend=$b: exit 0" "exit $rc: $(head -c 300 "$TMPD/err")"
	fi
	if n=$(py blocks "$TMPD/all" "$M" "$TMPD/m.got" "$M2" "$TMPD/m2.got" 2>&1); then
		pass "maps --all --backend=$b: $n well-formed blocks, each pid once"
		check_files_eq "maps --all --backend=$b: mapper block equals /proc" "$TMPD/m.ref" "$TMPD/m.got"
		check_files_eq "maps --all --backend=$b: threaded mapper block equals /proc" "$TMPD/m2.ref" "$TMPD/m2.got"
		check "maps --all --backend=$b: has a block for this shell" grep -q "^==> $$ (" "$TMPD/all"
		check "maps --all --backend=$b: no kernel thread (kthreadd)" bash -c "! grep -q '^==> 2 (' '$TMPD/all'"
	else
		fail "maps --all --backend=$b: well-formed" "$n"
	fi
done
"$TASKVMA" maps --all --perms=??x? --file >"$TMPD/allx" 2>/dev/null
py blocks "$TMPD/allx" "$M" "$TMPD/mx.got" >/dev/null 2>&1
py filter "$TMPD/m.ref" "perms=??x?" file >"$TMPD/mx.want"
check_files_eq "maps --all --perms=??x? --file: mapper block is its filtered /proc" "$TMPD/mx.want" "$TMPD/mx.got"
"$TASKVMA" maps --all --json >"$TMPD/allj" 2>/dev/null
check "maps --all --json: strict JSON, mapper complete with /proc's count" python3 - "$TMPD/allj" "$M" <<'EOF'
import json, sys
d = json.loads(open(sys.argv[1], 'rb').read().decode('utf-8'))
m = int(sys.argv[2])
n = len(open('/proc/%d/maps' % m, 'rb').read().splitlines())
p = [x for x in d['processes'] if x['pid'] == m]
assert p == [{'pid': m, 'comm': 'mapper', 'complete': True, 'count': n}], p
assert sum(1 for x in d['mappings'] if x['pid'] == m) == n
assert all(x['pid'] != 2 for x in d['processes'])
EOF
kill "$M" "$M2" 2>/dev/null; wait "$M" "$M2" 2>/dev/null
PIDS_TO_KILL=()

# ---- a file name that is not UTF-8 ------------------------------------------------
# Text output is /proc's bytes; --json must still be one strict JSON
# document (RFC 8259: UTF-8), however the name is represented.
mkdir -p "$TMPD/u"
if start_mapper -d "$TMPD/u" -u; then
	cat "/proc/$MAPPER_PID/maps" >"$TMPD/u.ref"
	check "fixture: /proc shows the raw 0xff byte of the name" env LC_ALL=C grep -qa "bad$(printf '\377')name.dat" "$TMPD/u.ref"
	for b in bpf procmap procfs; do
		run_cmp "maps --backend=$b: non-UTF-8 name, byte for byte" "$MAPPER_PID" --backend="$b"
		"$TASKVMA" maps --json --backend="$b" "$MAPPER_PID" >"$TMPD/u.json" 2>/dev/null
		check "maps --json --backend=$b: non-UTF-8 name, still strict JSON (UTF-8)" python3 -c '
import json, sys
d = json.loads(open(sys.argv[1], "rb").read().decode("utf-8"))
n = len(open(sys.argv[2], "rb").read().splitlines())
assert len(d["mappings"]) == n, (len(d["mappings"]), n)' "$TMPD/u.json" "$TMPD/u.ref"
	done
	stop_mapper
else
	fail "mapper -u" "did not start"
fi

# ---- many VMAs ----------------------------------------------------------------------
# big_case LABEL N: a mapper with N extra VMAs, every backend against /proc.
big_case() {
	local label=$1 n=$2 cnt
	if ! start_mapper -n "$n"; then fail "$label: mapper -n $n" "did not start"; return 1; fi
	cnt=$(($(wc -l <"/proc/$MAPPER_PID/maps") - 1))
	check "$label: the process has $cnt VMAs (>= $n)" test "$cnt" -ge "$n"
	for b in bpf procmap procfs; do
		local t0=$SECONDS
		run_cmp "$label --backend=$b: equals /proc" "$MAPPER_PID" --backend="$b"
		echo "#   $label --backend=$b: $((SECONDS - t0)) s"
	done
	BIG_COUNT=$cnt
}
big_case "12,000 VMAs" 12000
for b in bpf procmap procfs; do
	"$TASKVMA" maps --json --backend="$b" "$MAPPER_PID" >"$TMPD/bj.$b" 2>/dev/null
done
check "12,000 VMAs: identical JSON records from bpf, procmap, procfs" \
	py json-same "$TMPD/bj.bpf" "$TMPD/bj.procmap" "$TMPD/bj.procfs"
stop_mapper

# Near vm.max_map_count's default (65,530): the fixture's own VMAs, then
# enough extra to come within a few of it.
LIMIT=65530
start_mapper || fail "plain mapper" ""
base=$(($(wc -l <"/proc/$MAPPER_PID/maps") - 1))
stop_mapper
raise_max_map $LIMIT
big_case "near max_map_count ($LIMIT)" $((LIMIT - base - 12))
check "near max_map_count: process has >= 65,000 VMAs ($BIG_COUNT)" test "$BIG_COUNT" -ge 65000
stop_mapper
restore_max_map

# Map text past the CLI's 4 MiB in-memory spool, with lines of very
# different lengths (files under a ~3,000-byte directory path, and anonymous
# VMAs, in turn): a line that no longer fits in memory goes to the spool's
# temporary file, and a shorter line after it must follow it there, not slip
# into memory ahead of it.  bench/workload builds the process; its size is
# chosen so that the naive spool would reorder (checked below on /proc's text).
D=$TMPD/wl
for _ in $(seq 12); do D=$D/$(printf 'd%.0s' $(seq 240)); done
mkdir -p "$D"
WL= WLC=
for m in 2800 2801 2802 2803 2805 2808 2813; do
	"$BUILD/bench/workload" -n 1 -m "$m" -d "$D" >"$TMPD/wl.out" 2>&1 &
	WL=$!
	for _ in $(seq 100); do grep -q '^ready' "$TMPD/wl.out" && break; sleep 0.1; done
	WLC=$(awk '/^ready/ {print $3}' "$TMPD/wl.out")
	[ -n "$WLC" ] || break
	cat "/proc/$WLC/maps" >"$TMPD/wl.ref"
	# would "in memory while it fits, else to the file" put a later line first?
	python3 - "$TMPD/wl.ref" $((4 << 20)) <<'PY' && break
import sys
used, cap, spilled = 0, int(sys.argv[2]), False
for line in open(sys.argv[1], "rb"):
    if used + len(line) <= cap:
        if spilled:
            sys.exit(0)
        used += len(line)
    else:
        spilled = True
sys.exit(1)
PY
	kill "$WL" 2>/dev/null; wait "$WL" 2>/dev/null; WLC=
done
if [ -n "$WLC" ]; then
	check "spool: the process's map text is over 4 MiB ($(wc -c <"$TMPD/wl.ref") bytes)" \
		test "$(wc -c <"$TMPD/wl.ref")" -gt $((4 << 20))
	for b in bpf procmap procfs; do
		"$TASKVMA" maps --backend="$b" "$WLC" >"$TMPD/wl.got" 2>"$TMPD/wl.err"
		check_files_eq "spool: over 4 MiB, lines of mixed length, --backend=$b equals /proc, in order" \
			"$TMPD/wl.ref" "$TMPD/wl.got"
	done
	kill "$WL" 2>/dev/null; wait "$WL" 2>/dev/null
else
	fail "spool: a bench/workload process whose text crosses 4 MiB mid-line" "$(head -c 300 "$TMPD/wl.out")"
fi

# ---- a maps line longer than the padding column: overlayfs ----------------------
# An overlayfs with xino gives 19-digit inode numbers; a tmpfs upper layer
# mounted after enough other anonymous-device filesystems gives a 3-digit
# minor; the mapper maps the file at offset 0x7ffffffffff00000.  The header
# is then past byte 72.  Done in a private mount namespace.
if command -v unshare >/dev/null && grep -qw overlay /proc/filesystems; then
	cat >"$TMPD/ovl.sh" <<'EOF'
set -u
. "$LIBSH"
R=$TMPD/ovl
mkdir -p "$R/lower" "$R/merged" "$R/fill"
printf 'data\n' >"$R/lower/f"
# Fill the low anonymous-device minors until a new tmpfs gets one >= 0x100.
for i in $(seq 1 1200); do
	mkdir -p "$R/fill/$i"
	mount -t tmpfs -o size=4k tmpfs "$R/fill/$i" || break
	min=$(( $(stat -c '%d' "$R/fill/$i") & 0xff | ($(stat -c '%d' "$R/fill/$i") >> 12 & 0xfff00) ))
	[ "$min" -ge 256 ] && break
done
mkdir -p "$R/t" && mount -t tmpfs tmpfs "$R/t" && mkdir -p "$R/t/upper" "$R/t/work" &&
	mount -t overlay overlay -o "lowerdir=$R/lower,upperdir=$R/t/upper,workdir=$R/t/work,xino=on" "$R/merged" ||
	{ fail "overlay: mount" "failed"; exit 0; }
start_mapper -b "$R/merged/f" || { fail "overlay: mapper -b" "did not start"; exit 0; }
cat "/proc/$MAPPER_PID/maps" >"$TMPD/ovl.ref"
line=$(grep -F " $R/merged/f" "$TMPD/ovl.ref")
hdr=${line%% $R/merged/f}
check "overlay: /proc line has offset 7ffffffffff00000 and a header past column 72 (${#hdr})" \
	test "${#hdr}" -gt 72 -a -n "$(printf '%s' "$line" | grep ' 7ffffffffff00000 ')"
for b in bpf procmap procfs; do
	"$TASKVMA" maps --backend=$b "$MAPPER_PID" >"$TMPD/ovl.out" 2>"$TMPD/err"
	check_files_eq "overlay, long line --backend=$b: equals /proc (dev/inode of the overlay file)" "$TMPD/ovl.ref" "$TMPD/ovl.out"
done
stop_mapper
EOF
	LIBSH=$HERE/../lib.sh TMPD=$TMPD BUILD=$BUILD FX=$FX TASKVMA=$TASKVMA \
		unshare -m --propagation private bash "$TMPD/ovl.sh"
else
	fail "overlay long-line case" "unshare or overlayfs missing"
fi
end_case
