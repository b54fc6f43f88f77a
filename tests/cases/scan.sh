#!/usr/bin/env bash
# `taskvma scan` against an independent oracle: the documented rules, written
# again in Python, applied to the kernel's own /proc/PID/maps of the suspect
# fixture (one mapping per rule, and clean controls).  For each backend: one
# PID, every process (the fixture's findings there, once, and the summary
# line's counts), --json (strict JSON), --rules; each finding is the mapping
# the fixture made for that rule.  Then bad input and exit codes.
# Runs on its own too: bash tests/cases/scan.sh
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
BACKENDS="bpf procmap procfs auto"
KILL=()
PUB=
cleanup() {
	for p in "${KILL[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ -n "$PUB" ] && rm -rf "$PUB"
	[ -n "$OWN_TMPD" ] && rm -rf "$TMPD"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

[ -x "$TASKVMA" ] || { fail "scan: $TASKVMA" "not built"; exit 0; }
[ -x "$BUILD/tests/fixtures/suspect" ] || { fail "scan: suspect fixture" "not built"; exit 0; }
private_copies suspect

# start_suspect ARGS...: sets SPID; the fixture's "map" lines go to $TMPD/made.
# RUN_AS: a command prefix to start it with (setpriv ...).
RUN_AS=()
SUSPECT=$FX/suspect
start_suspect() {
	local fifo="$TMPD/suspect.fifo" line
	rm -f "$fifo" "$TMPD/made"
	mkfifo "$fifo"
	"${RUN_AS[@]}" "$SUSPECT" "$@" >"$fifo" &
	SPID=$!
	KILL+=("$SPID")
	exec {sfd}<"$fifo"
	rm -f "$fifo"
	while read -r -t 10 -u "$sfd" line; do
		[ "$line" = ready ] && break
		echo "$line" >>"$TMPD/made"
	done
	exec {sfd}<&-
	[ "$line" = ready ] || { echo "suspect did not start: $line" >&2; return 1; }
}

PY=$TMPD/scan_oracle.py
cat >"$PY" <<'EOF'
"""The rules of `taskvma scan` (docs/scan-watch.md), computed again from
/proc/PID/maps text, and checks of taskvma's output against them."""
import json, re, sys

RULES = ['wx', 'anon-exec', 'deleted-exec', 'memfd-exec', 'stack-exec', 'heap-exec']
LINE = re.compile(rb'^([0-9a-f]+)-([0-9a-f]+) ([-r][-w][-x][ps]) ([0-9a-f]+) '
                  rb'([0-9a-f]+):([0-9a-f]+) (\d+) *(.*)$')
DEL = b' (deleted)'

def maps(path):
    out = []
    with open(path, 'rb') as f:
        for l in f.read().splitlines():
            m = LINE.match(l)
            if not m:
                raise SystemExit('not a maps line: %r' % l)
            out.append(dict(line=l, start=int(m.group(1), 16), end=int(m.group(2), 16),
                            perms=m.group(3).decode(), name=m.group(8)))
    return out

def rules_of(v):
    """Only executable mappings; [vsyscall] (the gate area) is not a VMA."""
    p, n = v['perms'], v['name']
    if p[2] != 'x' or n == b'[vsyscall]':
        return []
    r = set()
    if p[1] == 'w':
        r.add('wx')
    if (n == b'' or n.startswith(b'[anon:') or n.startswith(b'[anon_shmem:')
            or n in (b'/dev/zero (deleted)', b'/anon_hugepage (deleted)')
            or (n.startswith(b'/SYSV') and n.endswith(DEL))):
        r.add('anon-exec')
    elif n.startswith(b'/memfd:') and n.endswith(DEL):
        r.add('memfd-exec')
    elif n.endswith(DEL):
        r.add('deleted-exec')
    elif n == b'[stack]':
        r.add('stack-exec')
    elif n == b'[heap]':
        r.add('heap-exec')
    return [x for x in RULES if x in r]

def expected(procmaps, only):
    """[(rules, vma)] the scan must report, in address order."""
    out = []
    for v in maps(procmaps):
        r = [x for x in rules_of(v) if not only or x in only]
        if r:
            out.append((r, v))
    return out

def cmd_expect(a):
    """expect PROCMAPS PID COMM [RULES]: the text output for this process."""
    only = a[3].split(',') if len(a) > 3 else None
    o = sys.stdout.buffer
    for r, v in expected(a[0], only):
        o.write(b'%s (%s) %s %s\n' % (a[1].encode(), a[2].encode(), ','.join(r).encode(), v['line']))

def made(path):
    """The fixture's own list: [(addr, rules, label)]."""
    out = []
    with open(path) as f:
        for l in f:
            _, addr, rules, label = l.split()
            out.append((int(addr, 16), [] if rules == '-' else rules.split(','), label))
    return out

FIND = re.compile(rb'^(\d+) \((.*)\) ([a-z,-]+) (.*)$')

def cmd_made(a):
    """made MADE PROCMAPS OUTPUT PID: each finding of PID in OUTPUT holds
    exactly one mapping the fixture made, and has the rules the fixture made
    it for; each rule mapping is found; no control is."""
    fx = made(a[0])
    vmas = maps(a[1])
    errs, found = [], set()
    with open(a[2], 'rb') as f:
        for l in f.read().splitlines():
            m = FIND.match(l)
            if not m:
                errs.append('not a finding line: %r' % l)
                continue
            if m.group(1) != a[3].encode():
                continue
            v = LINE.match(m.group(4))
            if not v:
                errs.append('finding without a maps line: %r' % l)
                continue
            s, e = int(v.group(1), 16), int(v.group(2), 16)
            mine = [x for x in fx if s <= x[0] < e]
            if len(mine) != 1:
                errs.append('finding %r holds %d fixture mappings' % (l, len(mine)))
                continue
            rules = m.group(3).decode().split(',')
            if rules != mine[0][1]:
                errs.append('%s: found as %s, made as %s' % (mine[0][2], rules, mine[0][1] or '-'))
            found.add(mine[0][2])
    for addr, rules, label in fx:
        if rules and label not in found:
            errs.append('%s (%s at %#x) not found' % (label, ','.join(rules), addr))
    # the fixture's list must itself agree with the kernel's view
    for addr, rules, label in fx:
        v = [x for x in vmas if x['start'] <= addr < x['end']]
        if len(v) != 1 or rules_of(v[0]) != rules:
            errs.append('fixture %s at %#x: /proc says %r' % (label, addr, v and v[0]['line']))
    if errs:
        print('; '.join(errs[:6]))
        sys.exit(1)

def load_json(path):
    with open(path, 'rb') as f:
        raw = f.read()
    def bad_const(c):
        raise ValueError('non-standard constant ' + c)
    return json.loads(raw.decode('utf-8'), parse_constant=bad_const)

def kernel_line(m):
    h = b'%08x-%08x %s %08x %02x:%02x %d ' % (m['start'], m['end'], m['perms'].encode(),
                                              m['offset'], m['dev_major'], m['dev_minor'],
                                              m['inode'])
    name = m['name'].encode('utf-8', 'surrogateescape')
    if name:
        h = h.ljust(72) + b' ' + name
    return h

def cmd_json(a):
    """json DOC PROCMAPS PID COMM BACKEND PROCS [RULES]: strict JSON; the
    findings of PID are the oracle's; processes/count are consistent.
    PROCS: the number of processes the summary line gave."""
    doc = load_json(a[0])
    pid, comm, backend, procs = int(a[2]), a[3], a[4], int(a[5])
    only = a[6].split(',') if len(a) > 6 else None
    errs = []
    if not {'schema', 'backend', 'findings', 'processes', 'count', 'errors'} <= set(doc) <= \
            {'schema', 'backend', 'findings', 'processes', 'count', 'errors', 'skipped'} or \
            doc.get('schema') != 'taskvma.scan/1':
        errs.append('keys %s' % sorted(doc))
    if not isinstance(doc.get('errors'), list) or any(
            set(e) != {'pid', 'error'} for e in doc.get('errors', [])):
        errs.append('errors %r' % doc.get('errors'))
    if doc.get('backend') not in ('bpf', 'procmap', 'procfs') or \
            (backend != 'auto' and doc.get('backend') != backend):
        errs.append('backend %r' % doc.get('backend'))
    fs = doc.get('findings', [])
    if doc.get('count') != len(fs):
        errs.append('count %r, %d findings' % (doc.get('count'), len(fs)))
    ps = doc.get('processes')
    if not isinstance(ps, list) or len(ps) != procs or any(
            set(p) != {'pid', 'comm', 'complete', 'count', 'findings'} for p in ps) or \
            sum(p['findings'] for p in ps) != len(fs):
        errs.append('processes %r, summary says %d' % (ps, procs))
    got = []
    for f in fs:
        if set(f) != {'pid', 'comm', 'rules', 'mapping'} or type(f['pid']) is not int:
            errs.append('finding %r' % f)
            continue
        if not f['rules'] or [r for r in RULES if r in f['rules']] != f['rules']:
            errs.append('rules %r: not known rules in order' % f['rules'])
        if only and not set(f['rules']) <= set(only):
            errs.append('rules %r outside --rules=%s' % (f['rules'], a[6]))
        if f['pid'] == pid:
            if f['comm'] != comm:
                errs.append('comm %r' % f['comm'])
            got.append((f['rules'], kernel_line(f['mapping'])))
    want = [(r, v['line']) for r, v in expected(a[1], only)]
    if got != want:
        errs.append('findings of pid %d:\n  got  %r\n  want %r' % (pid, got, want))
    if errs:
        print('; '.join(errs[:6]))
        sys.exit(1)

def cmd_procs(a):
    """procs OUT: the processes that have an address space we can read
    (pid and start time), one per line."""
    import os
    with open(a[0], 'w') as o:
        for p in os.listdir('/proc'):
            if not p.isdigit():
                continue
            try:
                with open('/proc/%s/maps' % p, 'rb') as f:
                    if not f.read(1):
                        continue
                with open('/proc/%s/stat' % p, 'rb') as f:
                    st = f.read().rsplit(b')', 1)[1].split()[19]
            except OSError:
                continue
            o.write('%s %s\n' % (p, st.decode()))

def cmd_between(a):
    """between BEFORE AFTER N: the processes alive in both lists are a lower
    bound of N; all processes seen, plus those started and gone during the
    scan (SLACK), an upper bound."""
    b = set(open(a[0]).read().split('\n')) - {''}
    c = set(open(a[1]).read().split('\n')) - {''}
    n, slack = int(a[2]), 64
    if not len(b & c) <= n <= len(b | c) + slack:
        print('%d processes scanned; %d were alive before and after, %d seen in all'
              % (n, len(b & c), len(b | c)))
        sys.exit(1)

if __name__ == '__main__':
    {'expect': cmd_expect, 'made': cmd_made, 'json': cmd_json, 'procs': cmd_procs,
     'between': cmd_between}[sys.argv[1]](sys.argv[2:])
EOF
oracle() { python3 "$PY" "$@"; }

# scan_all OUT ERR COMMAND...: a scan of every process, RC its exit code.
# Other processes on the machine may start (exec: "map changed during every
# walk", exit 6) or exit (BPF: "a mapping's name could not be read", exit 1)
# under the scan; such errors are theirs, not the fixture's: up to 3 attempts
# to get a clean one (exit 0, the summary alone on stderr).
scan_all() {
	local out=$1 err=$2; shift 2
	for _ in 1 2 3; do
		"$@" >"$out" 2>"$err"
		RC=$?
		[ "$RC" -eq 0 ] && [ "$(wc -l <"$err")" -eq 1 ] && return
		sed 's/^/  (retried) /' "$err" >&2
	done
}

SUMMARY_RE='^taskvma: scanned ([0-9]+) process(es)?: ([0-9]+) findings?(; some processes skipped: permission denied)?$'
# summary_ok NAME STDERR STDOUT_LINES: the last stderr line is the summary and
# its finding count is the number of findings printed; sets SCANNED.
summary_ok() {
	local last
	last=$(tail -n 1 "$2")
	SCANNED=
	if [[ $last =~ $SUMMARY_RE ]]; then
		SCANNED=${BASH_REMATCH[1]}
		check_eq "$1" "$3" "${BASH_REMATCH[3]}"
	else
		fail "$1" "no summary line: $(tr '\n' ' ' <"$2")"
	fi
}

start_suspect -d "$TMPD" -t || { fail "scan: start suspect" "see stderr"; exit 0; }
COMM=$(cat "/proc/$SPID/comm")
STID=$(ls "/proc/$SPID/task" | grep -vx "$SPID")
PM=$TMPD/proc.maps
cat "/proc/$SPID/maps" >"$PM"
oracle expect "$PM" "$SPID" "$COMM" >"$TMPD/want"
# the oracle must have something to compare: one finding per rule the
# fixture could make here (stack, heap are not always possible)
for r in wx anon-exec deleted-exec memfd-exec; do
	check "scan: oracle sees $r in the fixture" grep -q "^$SPID ($COMM) [a-z,-]*$r" "$TMPD/want"
done
check "scan: the fixture's mappings are what /proc shows" \
	oracle made "$TMPD/made" "$PM" "$TMPD/want" "$SPID"
for rules in wx anon-exec,heap-exec; do
	oracle expect "$PM" "$SPID" "$COMM" "$rules" >"$TMPD/want.$rules"
	check "scan: oracle has findings for --rules=$rules" test -s "$TMPD/want.$rules"
done

for b in $BACKENDS; do
	# one PID
	"$TASKVMA" scan --backend="$b" "$SPID" >"$TMPD/out" 2>"$TMPD/err"
	check_eq "scan --backend=$b PID: exit 0" 0 $?
	check_files_eq "scan --backend=$b PID: findings = oracle on /proc/PID/maps" "$TMPD/want" "$TMPD/out"
	check "scan --backend=$b PID: each finding is the mapping made for its rules" \
		oracle made "$TMPD/made" "$PM" "$TMPD/out" "$SPID"
	check_eq "scan --backend=$b PID: stderr is the summary only" \
		"taskvma: scanned 1 process: $(wc -l <"$TMPD/want") findings" "$(cat "$TMPD/err")"

	# every process: the fixture's findings are there, once (it has two threads)
	oracle procs "$TMPD/before"
	scan_all "$TMPD/out" "$TMPD/err" "$TASKVMA" scan --backend="$b"
	check_eq "scan --backend=$b (all): exit 0" 0 "$RC"
	oracle procs "$TMPD/after"
	grep "^$SPID " "$TMPD/out" >"$TMPD/mine"
	check_files_eq "scan --backend=$b (all): fixture's findings = oracle" "$TMPD/want" "$TMPD/mine"
	check "scan --backend=$b (all): each finding is the mapping made for its rules" \
		oracle made "$TMPD/made" "$PM" "$TMPD/out" "$SPID"
	summary_ok "scan --backend=$b (all): summary counts the findings printed" "$TMPD/err" \
		"$(wc -l <"$TMPD/out")"
	[ -n "$SCANNED" ] && check "scan --backend=$b (all): number of processes scanned plausible" \
		oracle between "$TMPD/before" "$TMPD/after" "$SCANNED"
	check "scan --backend=$b (all): the fixture's second thread is not a process" \
		test -n "$STID" -a -z "$(grep "^$STID " "$TMPD/out")"
	check_eq "scan --backend=$b (all): stderr is the summary only" 1 "$(wc -l <"$TMPD/err")"

	# JSON, one PID and all
	"$TASKVMA" scan --backend="$b" --json "$SPID" >"$TMPD/out.json" 2>"$TMPD/err"
	check_eq "scan --backend=$b --json PID: exit 0" 0 $?
	check "scan --backend=$b --json PID: strict JSON, findings = oracle" \
		oracle json "$TMPD/out.json" "$PM" "$SPID" "$COMM" "$b" 1
	scan_all "$TMPD/out.json" "$TMPD/err" "$TASKVMA" scan --backend="$b" --json
	check_eq "scan --backend=$b --json (all): exit 0" 0 "$RC"
	summary_ok "scan --backend=$b --json (all): summary line" "$TMPD/err" \
		"$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["count"])' "$TMPD/out.json" 2>&1)"
	check "scan --backend=$b --json (all): strict JSON, fixture's findings = oracle" \
		oracle json "$TMPD/out.json" "$PM" "$SPID" "$COMM" "$b" "${SCANNED:-0}"

	# --rules restricts (a mapping with two rules shows only the asked one)
	for rules in wx anon-exec,heap-exec; do
		"$TASKVMA" scan --backend="$b" --rules="$rules" "$SPID" >"$TMPD/out" 2>"$TMPD/err"
		check_eq "scan --backend=$b --rules=$rules: exit 0" 0 $?
		check_files_eq "scan --backend=$b --rules=$rules: findings = oracle" "$TMPD/want.$rules" "$TMPD/out"
		"$TASKVMA" scan --backend="$b" -j -R "$rules" "$SPID" >"$TMPD/out.json" 2>"$TMPD/err"
		check "scan --backend=$b -j -R $rules: JSON findings = oracle" \
			oracle json "$TMPD/out.json" "$PM" "$SPID" "$COMM" "$b" 1 "$rules"
	done
done
cat "/proc/$SPID/maps" >"$TMPD/proc.maps2"
check_files_eq "scan: the fixture did not change during the test" "$PM" "$TMPD/proc.maps2"

# ---- bad input ---------------------------------------------------------------
expect_fail "scan --rules=bogus -> 2" 2 "^taskvma: bad --rules 'bogus'" "$TASKVMA" scan --rules=bogus "$SPID"
expect_fail "scan --rules=wx,bogus -> 2" 2 "^taskvma: bad --rules" "$TASKVMA" scan --rules=wx,bogus "$SPID"
expect_fail "scan --rules= (empty) -> 2" 2 "^taskvma: bad --rules" "$TASKVMA" scan --rules= "$SPID"
expect_fail "scan --bogus -> 2" 2 "^taskvma: unknown option" "$TASKVMA" scan --bogus
expect_fail "scan --backend=bogus -> 2" 2 "^taskvma: " "$TASKVMA" scan --backend=bogus "$SPID"
# ("--" is the end of the options since the one grammar: not a PID)
for p in 12x 0 " 1" 99999999999; do
	expect_fail "scan PID '$p' -> 2" 2 "^taskvma: invalid PID" "$TASKVMA" scan "$SPID" "$p"
done

pid_max=$(cat /proc/sys/kernel/pid_max)
nopid=$((pid_max - 1))
while [ -e "/proc/$nopid" ]; do nopid=$((nopid - 1)); done
for b in $BACKENDS; do
	"$TASKVMA" scan --backend="$b" "$nopid" >"$TMPD/out" 2>"$TMPD/err"
	check_eq "scan --backend=$b no-such-PID: exit 3" 3 $?
	check_eq "scan --backend=$b no-such-PID: stdout empty" "" "$(cat "$TMPD/out")"
	check_eq "scan --backend=$b no-such-PID: stderr" \
		"taskvma: pid $nopid: no such process|taskvma: scanned 0 processes: 0 findings" \
		"$(paste -sd'|' "$TMPD/err")"
	# with a good PID too: its findings, then the first failure's code
	"$TASKVMA" scan --backend="$b" "$SPID" "$nopid" >"$TMPD/out" 2>"$TMPD/err"
	check_eq "scan --backend=$b PID no-such-PID: exit 3" 3 $?
	check_files_eq "scan --backend=$b PID no-such-PID: the PID's findings" "$TMPD/want" "$TMPD/out"
	"$TASKVMA" scan --backend="$b" --json "$nopid" >"$TMPD/out.json" 2>"$TMPD/err"
	check_eq "scan --backend=$b --json no-such-PID: exit 3" 3 $?
	check "scan --backend=$b --json no-such-PID: still strict JSON" \
		python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["findings"]==[] and d["count"]==0, d' "$TMPD/out.json"
	check "scan --backend=$b --json no-such-PID: reported in errors[] with its pid and message" \
		python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); e=d["errors"]; assert len(e)==1 and e[0]["pid"]==int(sys.argv[2]) and "no such process" in e[0]["error"], e' "$TMPD/out.json" "$nopid"
done

# a zombie has no address space: 5 for its PID, skipped in a scan of all
python3 -c '
import os, sys, time
pid = os.fork()
if pid == 0:
    os._exit(0)
print(pid, flush=True)
time.sleep(30)' >"$TMPD/zombie" &
ZP=$!
KILL+=("$ZP")
for _ in $(seq 100); do
	z=$(cat "$TMPD/zombie" 2>/dev/null)
	[ -n "$z" ] && [ "$(sed 's/.*) //' "/proc/$z/stat" 2>/dev/null | cut -d' ' -f1)" = Z ] && break
	sleep 0.05
done
for b in $BACKENDS; do
	"$TASKVMA" scan --backend="$b" "$z" >"$TMPD/out" 2>"$TMPD/err"
	check_eq "scan --backend=$b zombie: exit 5" 5 $?
	check "scan --backend=$b zombie: says so" grep -q "^taskvma: pid $z: zombie" "$TMPD/err"
	scan_all "$TMPD/out" "$TMPD/err" "$TASKVMA" scan --backend="$b"
	check_eq "scan --backend=$b (all) with a zombie around: exit 0" 0 "$RC"
done
kill "$ZP" 2>/dev/null

# a kernel thread has no address space either: 5
kt=
for f in /proc/[0-9]*/stat; do
	# field 9, flags: PF_KTHREAD 0x00200000
	fl=$(sed 's/.*) //' "$f" 2>/dev/null | cut -d' ' -f7)
	[ -n "$fl" ] && [ $((fl & 0x200000)) -ne 0 ] && { kt=${f#/proc/}; kt=${kt%/stat}; break; }
done
if [ -n "$kt" ]; then
	for b in $BACKENDS; do
		"$TASKVMA" scan --backend="$b" "$kt" >"$TMPD/out" 2>"$TMPD/err"
		check_eq "scan --backend=$b kernel thread: exit 5" 5 $?
		check "scan --backend=$b kernel thread: says so" grep -q "^taskvma: pid $kt: kernel thread" "$TMPD/err"
	done
else
	fail "scan: find a kernel thread" "none in /proc"
fi

# ---- an unprivileged user ----------------------------------------------------------
# Other users' processes: 4 for a PID, skipped with a note in a scan of all.
# Its own: auto falls back from BPF and finds what the oracle finds.
PUB=$(mktemp -d /tmp/tvscan.XXXXXX)
chmod 755 "$PUB"
cp "$TASKVMA" "$FX/suspect" "$PUB/"
mkdir "$PUB/d" && chown 65534:65534 "$PUB/d"
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)
"${NOBODY[@]}" "$PUB/taskvma" scan "$SPID" >"$TMPD/out" 2>"$TMPD/err"
check_eq "scan as nobody, root's PID: exit 4" 4 $?
check "scan as nobody, root's PID: permission denied" grep -q "^taskvma: pid $SPID: permission denied" "$TMPD/err"
scan_all "$TMPD/out" "$TMPD/err" "${NOBODY[@]}" "$PUB/taskvma" scan
check_eq "scan as nobody (all): exit 0" 0 "$RC"
check "scan as nobody (all): says some were skipped" \
	grep -qEx "taskvma: scanned [0-9]+ process(es)?: [0-9]+ findings?; some processes skipped: permission denied" "$TMPD/err"
"${NOBODY[@]}" "$PUB/taskvma" scan --backend=bpf "$SPID" >"$TMPD/out" 2>"$TMPD/err"
check_eq "scan as nobody --backend=bpf: exit 7" 7 $?
ROOT_SPID=$SPID
RUN_AS=("${NOBODY[@]}") SUSPECT=$PUB/suspect
if start_suspect -d "$PUB/d"; then
	cat "/proc/$SPID/maps" >"$TMPD/nobody.maps"
	oracle expect "$TMPD/nobody.maps" "$SPID" "$(cat "/proc/$SPID/comm")" >"$TMPD/want.nobody"
	"${NOBODY[@]}" "$PUB/taskvma" scan "$SPID" >"$TMPD/out" 2>"$TMPD/err"
	check_eq "scan as nobody, own PID: exit 0" 0 $?
	check_files_eq "scan as nobody, own PID: findings = oracle" "$TMPD/want.nobody" "$TMPD/out"
	check "scan as nobody, own PID: each finding is the mapping made for its rules" \
		oracle made "$TMPD/made" "$TMPD/nobody.maps" "$TMPD/out" "$SPID"
	kill "$SPID"
else
	fail "scan: start suspect as nobody" "see stderr"
fi
RUN_AS=()

kill "$ROOT_SPID" 2>/dev/null
wait 2>/dev/null
check "scan: the fixture removed its files" test -z "$(ls "$TMPD" "$PUB/d" | grep '\.bin$')"
end_case
