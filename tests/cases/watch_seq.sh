#!/usr/bin/env bash
# run.sh: serial (two watchers follow a scripted child step by step: timing-sensitive beside other cases)
# `taskvma watch` on a scripted sequence (tests/fixtures/watch_seq.c): mmap,
# mprotect that splits a mapping, mremap that moves one, munmap, brk, the
# stack growing (a page fault), exec.
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
trap_cleanup

[ -x "$BUILD/tests/fixtures/watch_seq" ] || { fail "watch_seq: fixture" "not built"; exit 0; }
private_copies watch_seq

PY=$ROOT/tests/oracle.py

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
	for s in 1 2 3 4 5 6 7; do
		echo go >&$IN
		if ! wait_until 10 grep -q "^done $s " "$d/acks"; then
			fail "watch_seq $b: step $s" "$(tail -n 2 "$d/acks")"
			kill "$fx" "$wt" "$wj" 2>/dev/null; exec {IN}>&-
			return
		fi
		# one step at a time: its records are out before the next starts
		[ "$s" -lt 7 ] && { wait_until 10 grep -q " seq [0-9]* $(sed -n "$((s + 1))p" "$d/acks" | cut -d' ' -f3): " "$d/text" || true; }
	done
	cp "/proc/$fx/maps" "$d/final.maps"
	# generous: under the sanitizers, beside other cases, a watcher that
	# re-reads with procfs (two walks per read) was seen 10 s behind
	check "watch_seq $b: the text stream reaches the final /proc/PID/maps" \
		wait_until 45 python3 "$PY" watch-seq-done "$d/text" "$d/final.maps"
	check "watch_seq $b: the JSON stream reaches it too" \
		wait_until 45 python3 "$PY" watch-seq-jdone "$d/json" "$d/final.maps"
	kill -TERM "$wt" "$wj"
	wait "$wt"; local rt=$?
	wait "$wj"; local rj=$?
	check_eq "watch_seq $b: SIGTERM ends both watchers, exit 0" "0 0" "$rt $rj"
	check "watch_seq $b: snapshot, mmap, mprotect (split), mremap (move), munmap, brk, stack, exec: each group = the /proc difference, replay = /proc" \
		python3 "$PY" watch-seq-text "$d/text" "$d" "$d/final.maps" "$fx"
	check "watch_seq $b --json: schema, host, boot id, seq 1,2,..., same records as text up to the stack step" \
		python3 "$PY" watch-seq-json "$d/json" "$d/text" "$fx" "$HOST" "$BOOT" "$d/final.maps"
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
