#!/usr/bin/env bash
# `taskvma normalize`: 'PID ADDR' lines of several processes, interleaved and
# shuffled, answered one record per line in input order, against an oracle
# built from each process's /proc/PID/maps (status, range, perms, name, file
# offset) and `readelf -n` of /proc/PID/map_files/RANGE (build ID); the same
# records from every backend; --json lines with the OpenTelemetry Mapping
# names equal to the text records; bad input (empty line, line without
# PID, bad PID, decimal or malformed address, extra fields, a PID that does
# not exist, one that exited, a kernel thread) answered in band, exit 2.
# Runs on its own too: bash tests/cases/normalize.sh
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
cleanup() { stop_mapper; [ -n "${SP:-}" ] && kill "$SP" 2>/dev/null; [ -n "$OWN_TMPD" ] && rm -rf "$TMPD"; }
trap cleanup EXIT
trap 'exit 1' INT TERM
[ -x "$TASKVMA" ] || { fail "normalize: $TASKVMA" "not built"; end_case; exit 0; }

private_copies mapper
mkdir -p "$TMPD/d"
start_mapper -d "$TMPD/d" || { fail "normalize: start mapper" "no ready"; end_case; exit 0; }
M=$MAPPER_PID
sleep 3600 &
SP=$!
sleep 0.1
# a process that has exited, and one that never existed
true & GONE=$!; wait "$GONE"
NOPID=$(($(cat /proc/sys/kernel/pid_max) + 1))
KT=$(pgrep -x kthreadd | head -1)

# Input and expected records.  The oracle reads /proc itself.
python3 - "$M" "$SP" "$GONE" "$NOPID" "${KT:-2}" "$TMPD/in" "$TMPD/want" <<'EOF'
import os, random, subprocess, sys
m, sp, gone, nopid, kt = (int(x) for x in sys.argv[1:6])
rnd = random.Random(13)
bid = {}
def build_id(pid, s, e):
    p = '/proc/%d/map_files/%x-%x' % (pid, s, e)
    if p not in bid:
        out = subprocess.run(['readelf', '-n', p], capture_output=True).stdout.decode()
        ids = [l.split()[2] for l in out.splitlines() if 'Build ID:' in l]
        bid[p] = ids[0] if ids else 'none'
    return bid[p]
recs = []
for pid in (m, sp):
    vmas = []
    for l in open('/proc/%d/maps' % pid, 'rb').read().splitlines():
        f = l.split()
        s, e = (int(x, 16) for x in f[0].split(b'-'))
        name = l[73:] if len(l) > 73 else b''
        vmas.append((s, e, f[1].decode(), int(f[2], 16), int(f[4]), name))
    def answer(a):
        for s, e, perms, off, ino, name in vmas:
            if s <= a < e:
                tail = b'%x-%x %s' % (s, e, perms.encode()) + (b' ' + name if name else b'')
                # shared anonymous memory is a file to the kernel, not to a symbolizer
                if ino and name != b'/dev/zero (deleted)' and not name.startswith(b'/SYSV'):
                    return b'%d 0x%x file %s 0x%x %s' % (pid, a, build_id(pid, s, e).encode(), a - s + off, tail)
                if name.startswith(b'[') and name not in (b'[heap]', b'[stack]') and not name.startswith(b'[anon:'):
                    st = b'special'
                else:
                    st = b'jit' if 'x' in perms else b'anonymous'
                return b'%d 0x%x %s - - %s' % (pid, a, st, tail)
        return b'%d 0x%x not-mapped' % (pid, a)
    addrs = set()
    for s, e, *_ in vmas:
        addrs.update({s, e - 1, (s + e) // 2})
    gaps = [vmas[i][1] for i in range(len(vmas) - 1) if vmas[i][1] < vmas[i + 1][0]]
    addrs.update({0, 0x1000, gaps[0], gaps[-1] + 0x10, 0x800000000000, 0xffffffffffffffff})
    for a in addrs:
        recs.append((b'%d 0x%x' % (pid, a), answer(a)))
recs += [(b'%d 0x1000' % gone, b'%d 0x1000 process-gone' % gone),
         (b'%d 0x1000' % nopid, b'%d 0x1000 process-gone' % nopid),
         (b'%d 0x1000' % kt, b'%d 0x1000 no-address-space' % kt),
         (b'', b'- - malformed:empty-line'),
         (b'0x7f0000001000', b'- 0x7f0000001000 malformed:missing-pid'),
         (b'abc 0x10', b'abc 0x10 malformed:bad-pid'),
         (b'-5 0x10', b'-5 0x10 malformed:bad-pid'),
         (b'%d 4096' % m, b'%d 4096 malformed:bad-address' % m),
         (b'%d 0x' % m, b'%d 0x malformed:bad-address' % m),
         (b'%d 0x10 extra' % m, b'%d 0x10 malformed:extra-fields' % m)]
rnd.shuffle(recs)
with open(sys.argv[6], 'wb') as i, open(sys.argv[7], 'wb') as w:
    for a, b in recs:
        i.write(a + b'\n')
        w.write(b + b'\n')
EOF
check "normalize: oracle made $(wc -l <"$TMPD/in" 2>/dev/null) lines" test -s "$TMPD/in"
for b in procmap procfs bpf; do
	"$TASKVMA" normalize --backend=$b <"$TMPD/in" >"$TMPD/got.$b" 2>"$TMPD/err.$b"; rc=$?
	if [ $b = bpf ] && [ "$rc" -eq 7 ]; then continue; fi	# the BPF backend does not load here (yet)
	check_eq "normalize --backend=$b: exit 2 (malformed lines among them)" 2 "$rc"
	check_files_eq "normalize --backend=$b: one record per line, in order, = /proc + readelf" \
		"$TMPD/want" "$TMPD/got.$b"
	check "normalize --backend=$b: nothing on stderr" test ! -s "$TMPD/err.$b"
done

# Many processes in one batch (the BPF backend answers them in one kernel
# pass over every process): every backend answers the same as procmap.
MANY=()
for i in $(seq 12); do sleep 3600 & MANY+=($!); done
sleep 0.2
for p in "${MANY[@]}" "$M"; do
	awk -v p="$p" '{ split($1, r, "-"); print p " 0x" r[1]; print p " 0x" r[2] }' "/proc/$p/maps"
	echo "$p 0x10"
done | shuf --random-source=<(yes) >"$TMPD/many.in"
"$TASKVMA" normalize --backend=procmap <"$TMPD/many.in" >"$TMPD/many.procmap" 2>&1
for b in procfs bpf auto; do
	"$TASKVMA" normalize --backend=$b <"$TMPD/many.in" >"$TMPD/many.$b" 2>&1; rc=$?
	if [ $b = bpf ] && [ "$rc" -eq 7 ]; then continue; fi	# the BPF backend does not load here
	check_files_eq "normalize --backend=$b: $(wc -l <"$TMPD/many.in") lines of 13 processes = procmap's answers" \
		"$TMPD/many.procmap" "$TMPD/many.$b"
done
# one of them exits: its lines say process-gone, the others are answered
kill "${MANY[0]}"; wait "${MANY[0]}" 2>/dev/null
for b in procmap bpf; do
	"$TASKVMA" normalize --backend=$b <"$TMPD/many.in" >"$TMPD/many2.$b" 2>&1; rc=$?
	if [ $b = bpf ] && [ "$rc" -eq 7 ]; then continue; fi
	check "normalize --backend=$b: an exited process's lines say process-gone, the rest as before" \
		python3 - "$TMPD/many.procmap" "$TMPD/many2.$b" "${MANY[0]}" <<'EOF'
import sys
a = open(sys.argv[1]).read().splitlines()
b = open(sys.argv[2]).read().splitlines()
gone = sys.argv[3]
assert len(a) == len(b)
for x, y in zip(a, b):
    if x.split()[0] == gone:
        assert y == ' '.join(x.split()[:2]) + ' process-gone', (x, y)
    else:
        assert x == y, (x, y)
EOF
done
kill "${MANY[@]}" 2>/dev/null

# JSON lines: the same answers under OpenTelemetry Mapping names.
"$TASKVMA" normalize --json <"$TMPD/in" >"$TMPD/j" 2>"$TMPD/err"
check "normalize --json: each line is the text record's answer (memory_start, memory_limit, file_offset, filename, build ID attribute)" \
	python3 - "$TMPD/j" "$TMPD/got.procmap" <<'EOF'
import json, sys
js = [json.loads(l) for l in open(sys.argv[1], 'rb').read().decode().splitlines()]
ts = open(sys.argv[2], 'rb').read().decode().splitlines()
assert len(js) == len(ts), (len(js), len(ts))
for n, (j, t) in enumerate(zip(js, ts), 1):
    f = t.split(' ')
    assert j['line'] == n, (j, n)
    if f[2].startswith('malformed:'):
        assert j['status'] == 'malformed' and j['reason'] == f[2][10:], (j, t)
        continue
    assert j['pid'] == int(f[0]) and j['address'] == int(f[1], 16) and j['status'] == f[2], (j, t)
    if len(f) == 3:
        assert 'memory_start' not in j, j
        continue
    s, e = (int(x, 16) for x in f[5].split('-'))
    assert (j['memory_start'], j['memory_limit'], j['perms']) == (s, e, f[6]), (j, t)
    assert j['filename'] == ' '.join(f[7:]), (j, t)
    if f[2] == 'file':
        assert j['address_file_offset'] == int(f[4], 16), (j, t)
        assert j['file_offset'] == int(f[4], 16) - (j['address'] - s), (j, t)
        if f[3] in ('none', 'unreadable'):
            assert j['build_id_status'] == f[3] and 'attributes' not in j, (j, t)
        else:
            assert j['attributes'] == {'process.executable.build_id.gnu': f[3]}, (j, t)
EOF

# Exit codes: all normalized -> 0; a record not normalized -> 1.
lib=$(awk '$6 ~ /libc/ && $2 ~ /x/ { split($1, r, "-"); print r[1]; exit }' "/proc/$SP/maps")
echo "$SP 0x$lib" | "$TASKVMA" normalize >/dev/null 2>&1
check_eq "normalize: every line in a file mapping -> exit 0" 0 $?
printf '%s\n' "$SP 0x$lib" "$SP 0x10" | "$TASKVMA" normalize >/dev/null 2>&1
check_eq "normalize: a line not mapped -> exit 1" 1 $?
expect_fail "normalize: an operand -> 2" 2 'standard input' "$TASKVMA" normalize "$SP"
end_case
