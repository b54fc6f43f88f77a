#!/usr/bin/env bash
# `taskvma watch --json` through a log shipper from Debian's packages: the
# rsyslog configurations in examples/rsyslog/ (the ones docs/watch.md shows),
# an agent (imfile -> omfwd TCP) and a receiver (imtcp -> mmjsonparse ->
# omfile per hostname and boot id), each its own rsyslogd on loopback.  The
# oracle is the file taskvma wrote: the receiver's file must hold the same
# bytes, line for line; it is named by the hostname and boot id the kernel
# and gethostname(2) give.  The watched process maps a file whose path is
# 3,800 bytes long with a quote, a backslash, an e-acute, a control byte and
# a byte that is not UTF-8, so that lines are longer than rsyslog's default
# message size (8 KB) and hold every kind of escape.  A line that is not
# taskvma JSON goes to the reject file instead (the routing really parses).
# Runs on its own too: bash tests/cases/watch_shipper.sh
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
trap_cleanup

[ -x "$TASKVMA" ] || { fail "watch_shipper: $TASKVMA" "not built"; end_case; exit 0; }
[ -x "$BUILD/tests/fixtures/churner" ] || { fail "watch_shipper: churner fixture" "not built"; end_case; exit 0; }
RSYSLOGD=$(command -v rsyslogd || echo /usr/sbin/rsyslogd)
[ -x "$RSYSLOGD" ] || { fail "watch_shipper: rsyslogd" "not installed (package rsyslog, scripts/setup.sh)"; end_case; exit 0; }
for m in imfile imtcp mmjsonparse omfwd; do
	# omfwd is built in; the others are modules of the rsyslog package
	[ "$m" = omfwd ] || ls /usr/lib/*/rsyslog/"$m".so >/dev/null 2>&1 ||
		{ fail "watch_shipper: rsyslog module $m" "missing"; end_case; exit 0; }
done
private_copies churner


S=$TMPD/ship
mkdir -p "$S/agent/log" "$S/agent/spool" "$S/central/log" "$S/central/spool"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# The examples, with this run's directories and port.
sed -e "s|/var/log/taskvma|$S/agent/log|g" -e "s|/var/spool/rsyslog|$S/agent/spool|g" \
    -e "s|logs.example.net|127.0.0.1|" -e "s|10514|$PORT|" \
    "$ROOT/examples/rsyslog/taskvma-agent.conf" >"$S/agent.conf"
sed -e "s|/var/log/taskvma|$S/central/log|g" -e "s|/var/spool/rsyslog|$S/central/spool|g" \
    -e "s|10514|$PORT|" \
    "$ROOT/examples/rsyslog/taskvma-central.conf" >"$S/central.conf"
for c in agent central; do
	if out=$("$RSYSLOGD" -N1 -f "$S/$c.conf" 2>&1) && ! grep -qiE 'error|warning' <<<"$out"; then
		pass "watch_shipper: examples/rsyslog/taskvma-$c.conf passes rsyslogd -N1 without a warning"
	else
		fail "watch_shipper: examples/rsyslog/taskvma-$c.conf passes rsyslogd -N1" "$(tr '\n' ' ' <<<"$out" | cut -c1-300)"
	fi
done

# The watched process: churner maps DIR/churn.dat on SIGUSR1, unmaps it on SIGUSR2.
D=$S/d
for i in $(seq 1 15); do D=$D/$(printf 'c%.0s' $(seq 1 250)); done
D=$D/$(printf 'q"\\ \303\251 \001\377')
mkdir -p "$D" || { fail "watch_shipper: long directory" "mkdir failed"; end_case; exit 0; }
fifo=$S/acks.fifo
mkfifo "$fifo"
"$FX/churner" -d "$D" >"$fifo" &
CPID=$!
KILL+=("$CPID")
exec {CFD}<"$fifo"
read -r -t 10 -u "$CFD" line
[ "$line" = ready ] || { fail "watch_shipper: churner starts" "$line"; end_case; exit 0; }

"$RSYSLOGD" -n -f "$S/central.conf" -i "$S/central.pid" >"$S/central.out" 2>&1 &
RC=$!; KILL+=("$RC")
W=$S/agent/log/watch.jsonl
: >"$W"
"$RSYSLOGD" -n -f "$S/agent.conf" -i "$S/agent.pid" >"$S/agent.out" 2>&1 &
RA=$!; KILL+=("$RA")

"$TASKVMA" watch --json "$CPID" >>"$W" 2>"$S/watch.err" &
WP=$!; KILL+=("$WP")
wait_until 10 grep -q '"event":"snapshot"' "$W" || { fail "watch_shipper: watch starts" "$(cat "$S/watch.err")"; end_case; exit 0; }
sleep 0.3    # the snapshot is written whole before the first change
# Each step waits for its record: a change undone before watch re-reads
# the range is folded (docs/watch.md, Limits), and this case is about the
# shipper, not that race.
ok=1
seen() { [ "$(grep -c 'churn\.dat' "$W")" -ge "$1" ]; }
for i in 1 2 3; do
	kill -USR1 "$CPID"; read -r -t 10 -u "$CFD" line; [[ $line == mapped* ]] || ok=0
	wait_until 10 seen $((2 * i - 1)) || ok=0
	kill -USR2 "$CPID"; read -r -t 10 -u "$CFD" line; [[ $line == unmapped* ]] || ok=0
	wait_until 10 seen $((2 * i)) || ok=0
done
[ "$ok" = 1 ] && pass "watch_shipper: the churner mapped and unmapped its file three times" ||
	fail "watch_shipper: churner acknowledgements" "$line"
kill "$CPID"
wait_until 20 not_running "$WP" || fail "watch_shipper: watch ends when its process exits" "still running"
wait "$WP"; rc=$?
[ "$rc" = 0 ] && pass "watch_shipper: watch exit 0 when its process exits" ||
	fail "watch_shipper: watch exit status" "$rc: $(tr '\n' ' ' <<<"$(cat "$S/watch.err")")"

# What taskvma wrote: the changes are there, lines longer than 8 KB, every escape.
chk=$(python3 - "$W" "$CPID" 2>&1 <<'EOF'
import json, sys
path, pid = sys.argv[1], int(sys.argv[2])
raw = open(path, 'rb').read()
lines = raw.split(b'\n')
assert lines[-1] == b'', 'the file ends with a newline'
lines = lines[:-1]
recs = [json.loads(l) for l in lines]
assert all(r['pid'] == pid for r in recs), 'other pids'
assert [r['seq'] for r in recs] == list(range(1, len(recs) + 1)), 'seq 1..N'
ev = [(r['event'], r.get('mapping', {}).get('name', '')) for r in recs]
ch = [e for e, n in ev if n.endswith('/churn.dat')]
assert ch == ['added', 'removed'] * 3, 'changes %r' % ch
assert recs[-1]['event'] == 'exit', 'last is %s' % recs[-1]['event']
long_ = [l for l in lines if len(l) > 8192]
assert len(long_) == 6, '%d lines over 8 KB' % len(long_)
m = [r['mapping'] for r in recs if r.get('mapping', {}).get('name', '').endswith('/churn.dat')][0]
name = bytes.fromhex(m['name_hex'])
assert name.endswith(b'q"\\ \xc3\xa9 \x01\xff/churn.dat') and len(name) > 3790, 'name_hex'
assert '\ufffd' in m['name'] and '\u0001' in m['name'] and '\u00e9' in m['name'], 'escapes'
print('%d lines, longest %d bytes' % (len(lines), max(len(l) for l in lines)))
EOF
) && pass "watch_shipper: taskvma's file: $chk, 3 adds and 3 removes of the file, exit last" ||
	fail "watch_shipper: taskvma's file" "$chk"

echo 'not a taskvma line' >>"$W"
HOST=$(hostname)
BOOT=$(cat /proc/sys/kernel/random/boot_id)
OUT=$S/central/log/$HOST/$BOOT.jsonl
want=$(($(wc -l <"$W") - 1))
arrived() { [ -f "$OUT" ] && [ "$(wc -l <"$OUT")" -ge "$want" ] && [ -s "$S/central/log/rejected.log" ]; }
if wait_until 30 arrived; then
	pass "watch_shipper: $want lines arrived at the receiver, in the file of host $HOST, boot $BOOT"
else
	fail "watch_shipper: lines arrive at the receiver" "$(ls -R "$S/central/log" | head -5 | tr '\n' ' ') agent: $(head -c 300 "$S/agent.out") central: $(head -c 300 "$S/central.out")"
fi
if head -n "$want" "$W" | cmp -s - "$OUT"; then
	pass "watch_shipper: the receiver's file is taskvma's output byte for byte"
else
	fail "watch_shipper: the receiver's file is taskvma's output" "$(head -n "$want" "$W" | cmp - "$OUT" 2>&1 | head -1)"
fi
[ "$(cat "$S/central/log/rejected.log" 2>/dev/null)" = 'not a taskvma line' ] &&
	pass "watch_shipper: a line that is not taskvma JSON went to rejected.log, alone" ||
	fail "watch_shipper: rejected.log" "$(head -c 200 "$S/central/log/rejected.log" 2>&1)"
for c in agent central; do
	if grep -qiE 'error|truncat|warning' "$S/$c.out"; then
		fail "watch_shipper: rsyslogd ($c) says nothing wrong" "$(grep -iE 'error|truncat|warning' "$S/$c.out" | head -2 | tr '\n' ' ')"
	else
		pass "watch_shipper: rsyslogd ($c) says nothing wrong"
	fi
done
kill "$RA" "$RC" 2>/dev/null
end_case
