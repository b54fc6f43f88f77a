#!/usr/bin/env bash
# run.sh: serial (watch timings (a snapshot before the process exits) and the machine-wide kernel events it follows)
# `taskvma watch` against the kernel's own /proc/PID/maps: the churner fixture
# maps a page of a file on SIGUSR1 and unmaps it on SIGUSR2; for each backend
# the "+ LINE" and "- LINE" printed must be the line /proc showed while the
# mapping existed, under "@ TIME pid PID (COMM) seq N mmap|munmap: N changes"
# headers, after the snapshot ("= LINE", equal to /proc) (--json: JSON Lines
# with the same records).  Also: the process exiting, --duration (even
# shorter than --interval), SIGTERM, a map that changes all the time (no
# change reported that did not happen), --poll, and bad input.
# (tests/cases/watch_seq.sh checks a whole scripted sequence.)
# Runs on its own too: bash tests/cases/watch.sh
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
BACKENDS="bpf procmap procfs"
trap_cleanup

[ -x "$TASKVMA" ] || { fail "watch: $TASKVMA" "not built"; exit 0; }
[ -x "$BUILD/tests/fixtures/churner" ] || { fail "watch: churner fixture" "not built"; exit 0; }
private_copies churner


# start_churner ARGS...: sets CPID, and CFD: the fixture's acknowledgements.
start_churner() {
	local fifo="$TMPD/churner.fifo" line
	rm -f "$fifo"
	mkfifo "$fifo"
	"$FX/churner" -d "$TMPD" "$@" >"$fifo" &
	CPID=$!
	KILL+=("$CPID")
	exec {CFD}<"$fifo"
	rm -f "$fifo"
	read -r -t 10 -u "$CFD" line
	[ "$line" = ready ] || { echo "churner did not start: $line" >&2; return 1; }
}
stop_churner() {
	kill "$CPID" 2>/dev/null
	wait "$CPID" 2>/dev/null
	exec {CFD}<&-
}
# tell SIG WANT: send SIG to the churner, read its acknowledgement into ACK,
# which must start with WANT.
tell() {
	ACK=
	kill -"$1" "$CPID" && read -r -t 5 -u "$CFD" ACK && [ "${ACK%% *}" = "$2" ]
}
# start_watch OUT ERR ARGS...: taskvma watch in the background (WPID); returns
# once it has its first map ("watching pid" on stderr).
start_watch() {
	local out=$1 err=$2; shift 2
	# emptied here, not only by the child's redirection: the wait below
	# could otherwise read the previous watch's start line before the
	# child truncates the file (then the process was stopped before this
	# watch had read it: "no such process", seen in parallel runs)
	: >"$out"
	: >"$err"
	"$TASKVMA" watch "$@" >"$out" 2>"$err" &
	WPID=$!
	KILL+=("$WPID")
	# generous: a sanitizer build on a loaded machine starts slowly
	wait_until 30 grep -q "^taskvma: watching pid" "$err" || ! running "$WPID"
}
# end_watch SECONDS: wait for watch to end by itself; WRC its exit code (124
# if it had to be killed).
end_watch() {
	if wait_until "$1" not_running "$WPID"; then
		wait "$WPID"; WRC=$?
	else
		kill "$WPID" 2>/dev/null; wait "$WPID" 2>/dev/null; WRC=124
	fi
}

wcheck() { cmd=$1; shift; python3 "$ROOT/tests/oracle.py" "watch-$cmd" "$@"; }

# maps_line ADDR: the /proc line of the churner's mapping starting at ADDR (0x...)
maps_line() { grep "^$(printf '%08x' "$1")-" "/proc/$CPID/maps"; }

start_churner || { fail "watch: start churner" "see stderr"; exit 0; }
COMM=$(cat "/proc/$CPID/comm")

# ---- + LINE, then - LINE, for each backend ---------------------------------------
for b in $BACKENDS; do
	for mode in text json; do
		jopt=(); [ "$mode" = json ] && jopt=(--json)
		nmaps=$(wc -l <"/proc/$CPID/maps")
		t0=$(date +%s.%N)
		start_watch "$TMPD/out" "$TMPD/err" --backend="$b" --interval=0.1 --count=2 "${jopt[@]}" "$CPID"
		check_eq "watch --backend=$b $mode: started, says how many mappings" \
			"taskvma: watching pid $CPID ($COMM): $nmaps mappings" "$(head -n 1 "$TMPD/err")"
		if ! tell USR1 mapped; then
			fail "watch --backend=$b $mode: churner maps a page" "ack [$ACK]"
			continue
		fi
		line=$(maps_line "${ACK#* }")
		check "watch --backend=$b $mode: /proc shows the page" test -n "$line"
		# the change is reported within a few intervals
		if [ "$mode" = text ]; then
			check "watch --backend=$b $mode: + line appears" \
				wait_until 5 grep -qxF -- "+ $line" "$TMPD/out"
		else
			check "watch --backend=$b $mode: added record appears" \
				wait_until 5 grep -q '"event":"added"' "$TMPD/out"
		fi
		check "watch --backend=$b $mode: churner unmaps it" tell USR2 unmapped
		end_watch 5
		t1=$(date +%s.%N)
		check_eq "watch --backend=$b $mode: --count=2 ends it, exit 0" 0 "$WRC"
		check_eq "watch --backend=$b $mode: stderr is the start line only" 1 "$(wc -l <"$TMPD/err")"
		if [ "$mode" = text ]; then
			check "watch --backend=$b text: + then - of the /proc line, under headers" \
				wcheck text "$TMPD/out" "$CPID" "$line" "$t0" "$t1"
		else
			check "watch --backend=$b --json: JSON Lines, added then removed, = /proc" \
				wcheck json "$TMPD/out" "$CPID" "$COMM" "$line"
		fi
	done
done

stop_churner

# ---- how it ends ----------------------------------------------------------------
for b in $BACKENDS; do
	# the process exits: "pid N exited", exit 0, nothing on stdout but the
	# snapshot
	start_churner || { fail "watch: start churner" "see stderr"; continue; }
	cp "/proc/$CPID/maps" "$TMPD/maps0"
	start_watch "$TMPD/out" "$TMPD/err" --backend="$b" --interval=0.1 "$CPID"
	stop_churner
	end_watch 5
	check_eq "watch --backend=$b: the process exiting ends it, exit 0" 0 "$WRC"
	check_eq "watch --backend=$b: says the process exited" "taskvma: pid $CPID exited" \
		"$(tail -n 1 "$TMPD/err")"
	check "watch --backend=$b: nothing changed, only the snapshot (= /proc) printed" \
		wcheck snapshot "$TMPD/out" "$TMPD/maps0"
done
start_churner || { fail "watch: start churner" "see stderr"; exit 0; }
# Not before the duration (measured from before the start), and, with
# --interval=10, well before the next walk would have been due: the duration
# ends the wait.  No tighter bound: how soon it ends is a timing (make bench),
# and this machine may be loaded.
for spec in "0.1 0.6 60000" "10 0.6 9000"; do
	set -- $spec
	s=$(date +%s%N)
	timeout 60 "$TASKVMA" watch --interval="$1" --duration="$2" "$CPID" >"$TMPD/out" 2>"$TMPD/err"
	rc=$?
	ms=$((($(date +%s%N) - s) / 1000000))
	check_eq "watch --interval=$1 --duration=$2: exit 0" 0 "$rc"
	check "watch --interval=$1 --duration=$2: lasts at least $2 s, less than $(($3 / 1000)) s (took $ms ms)" \
		test "$ms" -ge 600 -a "$ms" -lt "$3"
done
# a duration shorter than the snapshot: the snapshot is still printed whole
# (its header's count of mappings, as many '=' lines), then the watch ends
timeout 60 "$TASKVMA" watch --duration=1ms "$CPID" >"$TMPD/out" 2>"$TMPD/err"
rc=$?
hn=$(sed -n 's/^@ .* snapshot: \([0-9]*\) mappings$/\1/p' "$TMPD/out" | head -n 1)
check_eq "watch --duration=1ms: exit 0" 0 "$rc"
check "watch --duration=1ms: the whole snapshot printed ($hn mappings, $(grep -c '^= ' "$TMPD/out") lines)" \
	test -n "$hn" -a "$hn" -ge 10 -a "$hn" = "$(grep -c '^= ' "$TMPD/out")"
start_watch "$TMPD/out" "$TMPD/err" --interval=5 "$CPID"
kill -TERM "$WPID"
end_watch 3
check_eq "watch: SIGTERM ends it at once, exit 0" 0 "$WRC"
stop_churner

# ---- a map that changes all the time --------------------------------------------
# Walks that saw the map change are read again, never compared: every change
# printed happened (the busy thread's page), in an order that makes sense.
# (bpf: such a process may not be readable at all: exit 6 at the start.)
start_churner -b || { fail "watch: start churner -b" "see stderr"; exit 0; }
for b in procmap procfs "procfs --poll"; do
	# 3 s: enough reads that a busy thread is caught in both states
	"$TASKVMA" watch --backend=$b --interval=0.05 --duration=3 "$CPID" >"$TMPD/out" 2>"$TMPD/err"
	check_eq "watch --backend=$b busy map: exit 0" 0 $?
	if n=$(wcheck busy "$TMPD/out" 2>&1); then
		check "watch --backend=$b busy map: only real changes ($n seen)" test "$n" -ge 1
	else
		fail "watch --backend=$b busy map: only real changes" "$n"
	fi
done
stop_churner

# ---- bad input ----------------------------------------------------------------
start_churner || { fail "watch: start churner" "see stderr"; exit 0; }
for a in --interval=0 --interval=-1 --interval=abc --interval=nan --interval=inf --interval=1x --interval=5d --interval=; do
	expect_fail "watch $a -> 2" 2 "^taskvma: bad --interval" timeout 10 "$TASKVMA" watch "$a" "$CPID"
done
for a in --duration=0 --duration=x; do
	expect_fail "watch $a -> 2" 2 "^taskvma: bad --duration" timeout 10 "$TASKVMA" watch "$a" "$CPID"
done
for a in --count=abc --count=0 --count=-1 --count=2x --count=; do
	expect_fail "watch $a -> 2" 2 "^taskvma: bad --count" timeout 10 "$TASKVMA" watch "$a" "$CPID"
done
expect_fail "watch --all and a PID -> 2" 2 "^taskvma: watch needs PIDs, --all, --comm or --cgroup \\(one of them\\)" timeout 10 "$TASKVMA" watch --all "$CPID"
expect_fail "watch no PID -> 2" 2 "^taskvma: watch needs PIDs, --all, --comm or --cgroup \\(one of them\\)" timeout 10 "$TASKVMA" watch --interval=1
expect_fail "watch --comm=16-characters -> 2" 2 "^taskvma: bad --comm" timeout 10 "$TASKVMA" watch --comm=0123456789abcdef
expect_fail "watch --check=0 -> 2" 2 "^taskvma: bad --check" timeout 10 "$TASKVMA" watch --check=0 "$CPID"
expect_fail "watch PID 12x -> 2" 2 "^taskvma: invalid PID '12x'" timeout 10 "$TASKVMA" watch 12x
expect_fail "watch --bogus -> 2" 2 "^taskvma: unknown option" timeout 10 "$TASKVMA" watch --bogus "$CPID"
pid_max=$(cat /proc/sys/kernel/pid_max)
nopid=$((pid_max - 1))
while [ -e "/proc/$nopid" ]; do nopid=$((nopid - 1)); done
for b in $BACKENDS; do
	expect_fail "watch --backend=$b no-such-PID -> 3" 3 "^taskvma: pid $nopid: no such process" \
		timeout 10 "$TASKVMA" watch --backend="$b" "$nopid"
done
stop_churner
check "watch: the churner removed its file" test ! -e "$TMPD/churn.dat"
end_case
