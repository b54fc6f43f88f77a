#!/usr/bin/env bash
# run.sh: serial (two watchers follow a scripted child step by step: timing-sensitive beside other cases)
# `taskvma watch` on a scripted sequence (tests/fixtures/watch_seq.c): mmap,
# mprotect that splits a mapping, mremap that moves one, munmap, brk, exec.
# The fixture copies /proc/self/maps after each step; the oracle is those
# copies: the stream starts with a snapshot equal to the first, then has one
# group per step, in order, with that step's cause, whose records are exactly
# the difference between the step's two /proc copies (same start = changed,
# else removed / added); replaying every record gives the final /proc/PID/maps
# byte for byte.  A text watcher and a --json watcher run side by side: the
# JSON Lines carry the same records, with schema, host identity and a
# per-process seq.  For every backend that works here.
# Runs on its own too: bash tests/cases/watch_seq.sh
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
KILL=()
cleanup() {
	for p in "${KILL[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ -n "$OWN_TMPD" ] && rm -rf "$TMPD"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

[ -x "$BUILD/tests/fixtures/watch_seq" ] || { fail "watch_seq: fixture" "not built"; exit 0; }
private_copies watch_seq

PY=$TMPD/seq_check.py
cat >"$PY" <<'PYEOF'
"""Checks of `taskvma watch` output against the fixture's /proc copies."""
import json, re, sys

HDR = re.compile(r'^@ (\S+) pid (\d+) \((.*)\) seq (\d+) (\S+?)( resync)?(?:: (.*))?$')
STEPS = ['mmap', 'mprotect', 'mremap', 'munmap', 'brk']

def start(l):
    return int(l.split('-', 1)[0], 16)

def groups(path):
    gs = []
    with open(path, 'rb') as f:
        lines = f.read().decode('utf-8', 'surrogateescape').split('\n')[:-1]
    i = 0
    while i < len(lines):
        m = HDR.match(lines[i])
        if not m:
            raise SystemExit('line %r: not a header where one was due' % lines[i])
        g = {'pid': int(m.group(2)), 'seq': int(m.group(4)), 'cause': m.group(5),
             'what': m.group(7), 'recs': []}
        i += 1
        while i < len(lines) and not lines[i].startswith('@ '):
            l = lines[i]
            if l[:2] in ('= ', '+ ', '- '):
                g['recs'].append((l[0], l[2:] + '\n', None))
            elif l.startswith('~ ') and i + 1 < len(lines) and lines[i + 1].startswith('> '):
                g['recs'].append(('~', l[2:] + '\n', lines[i + 1][2:] + '\n'))
                i += 1
            else:
                raise SystemExit('line %r: not a record' % l)
            i += 1
        gs.append(g)
    return gs

def maps(path):
    with open(path, 'rb') as f:
        return f.read().decode('utf-8', 'surrogateescape').splitlines(True)

def expected(old, new):
    """The documented diff: by start address; same start, other line = ~."""
    o = {start(l): l for l in old}
    n = {start(l): l for l in new}
    out = []
    for s in sorted(set(o) | set(n)):
        if s in o and s in n:
            if o[s] != n[s]:
                out.append(('~', o[s], n[s]))
        elif s in o:
            out.append(('-', o[s], None))
        else:
            out.append(('+', n[s], None))
    return out

def apply(state, recs):
    for k, a, b in recs:
        s = start(a)
        if k in '=+':
            if s in state:
                raise SystemExit('added %r: already there' % a)
            state[s] = a
        elif k == '-':
            if state.get(s) != a:
                raise SystemExit('removed %r: not there (%r)' % (a, state.get(s)))
            del state[s]
        else:
            if state.get(s) != a:
                raise SystemExit('changed %r: not there (%r)' % (a, state.get(s)))
            del state[s]
            if start(b) in state:
                raise SystemExit('changed into %r: already there' % b)
            state[start(b)] = b

def text(st):
    return ''.join(st[k] for k in sorted(st))

def cmd_done(a):
    """done OUT FINAL: the replay reached FINAL (exit 1 if not yet)."""
    st = {}
    try:
        for g in groups(a[0]):
            apply(st, g['recs'])
    except SystemExit:
        sys.exit(1)
    sys.exit(0 if text(st) == ''.join(maps(a[1])) else 1)

def cmd_text(a):
    """text OUT DIR FINAL PID"""
    out, d, final, pid = a[0], a[1], a[2], int(a[3])
    gs = groups(out)
    st = {}
    seq = 1
    for g in gs:
        if g['pid'] != pid:
            raise SystemExit('group of pid %d' % g['pid'])
        if g['seq'] != seq:
            raise SystemExit('group seq %d, want %d' % (g['seq'], seq))
        seq += max(len(g['recs']), 1)
    if not gs or gs[0]['cause'] != 'snapshot' or any(k != '=' for k, _, _ in gs[0]['recs']):
        raise SystemExit('the stream does not start with a snapshot')
    apply(st, gs[0]['recs'])
    if text(st) != ''.join(maps(d + '/step0.maps')):
        raise SystemExit('snapshot differs from /proc')
    print('snapshot = /proc: %d mappings' % len(st))
    for k, cause in enumerate(STEPS, 1):
        g = gs[k]
        if g['cause'] != cause:
            raise SystemExit('group %d: cause %s, want %s' % (k, g['cause'], cause))
        want = expected(maps(d + '/step%d.maps' % (k - 1)), maps(d + '/step%d.maps' % k))
        if g['recs'] != want:
            raise SystemExit('step %d (%s): records %r, /proc changed by %r' % (k, cause, g['recs'], want))
        apply(st, g['recs'])
        if text(st) != ''.join(maps(d + '/step%d.maps' % k)):
            raise SystemExit('after step %d the replay differs from /proc' % k)
        print('step %d %s: %d records = the /proc difference' % (k, cause, len(want)))
    g = gs[len(STEPS) + 1]
    if g['cause'] != 'exec' or g['what'] is not None or g['recs']:
        raise SystemExit('after brk: %r, want the exec record' % g)
    for g in gs[len(STEPS) + 2:]:
        apply(st, g['recs'])
    if text(st) != ''.join(maps(final)):
        raise SystemExit('final replay differs from /proc/PID/maps')
    print('final replay = /proc/%d/maps' % pid)

def kernel_line(m):
    h = '%08x-%08x %s %08x %02x:%02x %d ' % (m['start'], m['end'], m['perms'], m['offset'],
                                             m['dev_major'], m['dev_minor'], m['inode'])
    if m['name']:
        h = h.ljust(72) + ' ' + m['name']
    return h + '\n'

def cmd_json(a):
    """json JOUT TOUT PID HOST BOOTID FINAL: up to the exec record, the same
    records as the text stream (after it the loader changes the map faster
    than the two watchers re-read it: each may fold changes differently);
    replaying all of them gives FINAL."""
    jout, tout, pid, host, boot, final = a[0], a[1], int(a[2]), a[3], a[4], a[5]
    def bad_const(c):
        raise ValueError('non-standard constant ' + c)
    with open(jout, 'rb') as f:
        recs = [json.loads(l.decode('utf-8'), parse_constant=bad_const) for l in f.read().split(b'\n')[:-1]]
    kinds = {'=': 'snapshot', '+': 'added', '-': 'removed', '~': 'changed'}
    want = []
    for g in groups(tout):
        if not g['recs']:
            want.append((g['cause'], g['cause'], None, None))
            if g['cause'] == 'exec':
                break
        for k, x, y in g['recs']:
            want.append((kinds[k], g['cause'], y or x, x if k == '~' else None))
    got = []
    for i, r in enumerate(recs, 1):
        for f, v in (('schema', 'taskvma.watch/1'), ('hostname', host), ('boot_id', boot),
                     ('pid', pid), ('seq', i)):
            if r.get(f) != v:
                raise SystemExit('record %d: %s = %r, want %r' % (i, f, r.get(f), v))
        if not re.match(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$', r.get('ts', '')):
            raise SystemExit('record %d: ts %r' % (i, r.get('ts')))
        got.append((r['event'], r['cause'],
                    kernel_line(r['mapping']) if 'mapping' in r else None,
                    kernel_line(r['old']) if r['event'] == 'changed' else None))
    if got[:len(want)] != want or len(got) < len(want):
        for i, (x, y) in enumerate(zip(got, want)):
            if x != y:
                raise SystemExit('record %d: %r, text has %r' % (i + 1, x, y))
        raise SystemExit('%d JSON records, %d text records' % (len(got), len(want)))
    st = {}
    sym = {'snapshot': '=', 'added': '+', 'removed': '-', 'changed': '~'}
    apply(st, [(sym[e], y if e == 'changed' else x, x if e == 'changed' else None)
               for e, c, x, y in got if e in sym])
    if text(st) != ''.join(maps(final)):
        raise SystemExit('JSON replay differs from the final /proc/PID/maps')
    print('%d JSON records = the text records up to exec; replay of all = /proc' % len(want))

def cmd_jdone(a):
    """jdone JOUT FINAL: replaying the JSON records gives FINAL (exit 1 if not yet)."""
    sym = {'snapshot': '=', 'added': '+', 'removed': '-', 'changed': '~'}
    st = {}
    try:
        with open(a[0], 'rb') as f:
            recs = [json.loads(l) for l in f.read().split(b'\n')[:-1]]
        apply(st, [(sym[r['event']], kernel_line(r['old'] if r['event'] == 'changed' else r['mapping']),
                    kernel_line(r['mapping']) if r['event'] == 'changed' else None)
                   for r in recs if r['event'] in sym])
    except (SystemExit, ValueError, KeyError):
        sys.exit(1)
    sys.exit(0 if text(st) == ''.join(maps(a[1])) else 1)

if __name__ == '__main__':
    {'text': cmd_text, 'json': cmd_json, 'done': cmd_done, 'jdone': cmd_jdone}[sys.argv[1]](sys.argv[2:])
PYEOF

wait_until() {
	local t=$(($1 * 20)); shift
	while ! "$@" 2>/dev/null; do
		t=$((t - 1)); [ "$t" -gt 0 ] || return 1
		sleep 0.05
	done
}
HOST=$(hostname)
BOOT=$(cat /proc/sys/kernel/random/boot_id)

run_backend() {
	local b=$1 d="$TMPD/$1" fifo="$TMPD/$1.in" line s
	mkdir -p "$d"
	rm -f "$fifo"; mkfifo "$fifo"
	"$FX/watch_seq" "$d" <"$fifo" >"$d/acks" &
	local fx=$!
	KILL+=("$fx")
	exec {IN}>"$fifo"
	wait_until 10 grep -qx ready "$d/acks" || { fail "watch_seq $b: fixture starts" "$(cat "$d/acks")"; return; }
	"$TASKVMA" watch --backend="$b" "$fx" >"$d/text" 2>"$d/text.err" &
	local wt=$!
	"$TASKVMA" watch --backend="$b" --json "$fx" >"$d/json" 2>"$d/json.err" &
	local wj=$!
	KILL+=("$wt" "$wj")
	if ! wait_until 30 eval "grep -q '^taskvma: watching pid' '$d/text.err' && grep -q '^taskvma: watching pid' '$d/json.err'"; then
		if grep -q "not available\|unavailable" "$d/text.err"; then
			echo "SKIP watch_seq --backend=$b: $(head -n 1 "$d/text.err")"
		else
			fail "watch_seq $b: watchers start" "$(cat "$d/text.err" "$d/json.err" | head -n 3)"
		fi
		kill "$fx" "$wt" "$wj" 2>/dev/null; exec {IN}>&-
		return
	fi
	for s in 1 2 3 4 5 6; do
		echo go >&$IN
		if ! wait_until 10 grep -q "^done $s " "$d/acks"; then
			fail "watch_seq $b: step $s" "$(tail -n 2 "$d/acks")"
			kill "$fx" "$wt" "$wj" 2>/dev/null; exec {IN}>&-
			return
		fi
		# one step at a time: its records are out before the next starts
		[ "$s" -lt 6 ] && { wait_until 10 grep -q " seq [0-9]* $(sed -n "$((s + 1))p" "$d/acks" | cut -d' ' -f3): " "$d/text" || true; }
	done
	cp "/proc/$fx/maps" "$d/final.maps"
	# generous: under the sanitizers, beside other cases, a watcher that
	# re-reads with procfs (two walks per read) was seen 10 s behind
	check "watch_seq $b: the text stream reaches the final /proc/PID/maps" \
		wait_until 45 python3 "$PY" done "$d/text" "$d/final.maps"
	check "watch_seq $b: the JSON stream reaches it too" \
		wait_until 45 python3 "$PY" jdone "$d/json" "$d/final.maps"
	kill -TERM "$wt" "$wj"
	wait "$wt"; local rt=$?
	wait "$wj"; local rj=$?
	check_eq "watch_seq $b: SIGTERM ends both watchers, exit 0" "0 0" "$rt $rj"
	check "watch_seq $b: snapshot, mmap, mprotect (split), mremap (move), munmap, brk, exec: each group = the /proc difference, replay = /proc" \
		python3 "$PY" text "$d/text" "$d" "$d/final.maps" "$fx"
	check "watch_seq $b --json: schema, host, boot id, seq 1,2,..., same records as text" \
		python3 "$PY" json "$d/json" "$d/text" "$fx" "$HOST" "$BOOT" "$d/final.maps"
	check_eq "watch_seq $b: nothing on stderr but the start line" \
		"taskvma: watching pid $fx (watch_seq): $(wc -l <"$d/step0.maps") mappings" "$(cat "$d/text.err")"
	echo end >&$IN
	exec {IN}>&-
	wait "$fx" 2>/dev/null
}

for b in bpf procmap procfs; do
	run_backend "$b"
done
end_case
