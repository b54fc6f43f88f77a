#!/usr/bin/env bash
# run.sh: exclusive trace (with trace_teardown.sh and example_seed.sh: it traces
# every process named trace_child; trace_teardown.sh counts the trace programs
# loaded, by name)
# taskvma trace: each trigger against a trace_child the test scripts; the
# captured map is compared byte for byte with /proc/PID/maps read while the
# child is stopped in the same state.  Selections (--pid, --comm, --cgroup),
# --every, --json, an incomplete capture, names across overlay/bind mounts.
set -u
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/trace_lib.inc"
private_copies
trap 'stop_child' EXIT
# Under ASan (make SAN=1) the fixture must crash as itself on SIGSEGV.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}handle_segv=0"
CHILD_REAL=$(readlink -f "$CHILD_BIN")

# ---- syscall=NAME, --pid: every line of the rich map, byte for byte ---------
mkdir -p "$TMPD/rich"
start_child -d "$TMPD/rich" -r
start_trace sys --on syscall=getppid --pid "$CHILD_PID" --count 1
child_cmd "sys getppid"
wait_for "$CHILD_OUT" '^done' 10
cat "/proc/$CHILD_PID/maps" >"$TMPD/sys.proc"
wait_gone "$TRACE_PID" 10
check_eq "trace syscall: exit code 0 after --count 1" 0 "$WAIT_RC"
maps_of "$TMPD/sys.out" >"$TMPD/sys.cap"
check_files_eq "trace syscall: capture == /proc/PID/maps (rich names)" "$TMPD/sys.proc" "$TMPD/sys.cap"
hdr=$(head -n 1 "$TMPD/sys.out")
check "trace syscall: header names pid, comm, event, syscall" \
	grep -Eq "^# seq=1 time=[0-9T:.-]+Z pid=$CHILD_PID tid=$CHILD_PID comm=\"trace_child\" event=syscall syscall=getppid\(110\) vmas=[0-9]+$" <<<"$hdr"
for n in '/memfd:tvtrace (deleted)' '/dev/zero (deleted)' 'deleted.dat (deleted)' 'new\012line.dat' \
	'trailing space.dat $' '/dev/shm/trace_child' '/d39/deep.dat' '[heap]' '[stack]' '[vdso]' '[vsyscall]'; do
	check "trace syscall: capture has ${n% \$}" grep -Fq -- "${n%\$}" "$TMPD/sys.cap"
done
check "trace syscall: summary on stderr" grep -Eq '^taskvma: 1 capture \(0 incomplete, 0 without a map\), 0 lost, 1 process seen' "$TMPD/sys.err"
check "trace syscall: --count 1 stopped it (nothing but the capture on stdout)" \
	test "$(grep -c '^#' "$TMPD/sys.out")" -eq 1

# ---- the same, JSON -----------------------------------------------------------
start_trace json --on syscall=getuid --pid "$CHILD_PID" --count 1 --json
child_cmd "sys getuid"
wait_for "$CHILD_OUT" '^done' 10
wait_gone "$TRACE_PID" 10
check "trace --json: one object, complete, every mapping as /proc prints it" \
	python3 "$ROOT/tests/oracle.py" trace-json "$TMPD/json.out" "$TMPD/sys.proc" "$CHILD_PID"

# ---- --every: each call captured ----------------------------------------------
start_trace every --on syscall=getpid --pid "$CHILD_PID" --every --count 3
for i in 1 2 3; do
	: >"$CHILD_OUT"
	child_cmd "sys getpid"
	wait_for "$CHILD_OUT" '^done' 10
done
wait_gone "$TRACE_PID" 10
check_eq "trace --every --count 3: three captures" "1 2 3" \
	"$(sed -nE 's/^# seq=([0-9]+) .*/\1/p' "$TMPD/every.out" | tr '\n' ' ' | sed 's/ $//')"
stop_child

# ---- --on syscall (any), --comm ----------------------------------------------
start_child
start_trace any --on syscall --comm trace_child --count 1
child_cmd "sys sched_yield"
wait_for "$CHILD_OUT" '^done' 10
cat "/proc/$CHILD_PID/maps" >"$TMPD/any.proc"
wait_gone "$TRACE_PID" 10
maps_of "$TMPD/any.out" >"$TMPD/any.cap"
check_files_eq "trace --on syscall --comm: capture == /proc/PID/maps" "$TMPD/any.proc" "$TMPD/any.cap"
check "trace --on syscall --comm: captured the child" grep -q "^# seq=1 .* pid=$CHILD_PID .*event=syscall syscall=sched_yield(24)" "$TMPD/any.out"

# ---- exec: the new image, before the dynamic loader ran ------------------------
start_trace exec --on exec --pid "$CHILD_PID" --count 1
child_cmd "exec /bin/sleep 30"
wait_gone "$TRACE_PID" 10
check_eq "trace exec: exit code 0" 0 "$WAIT_RC"
maps_of "$TMPD/exec.out" >"$TMPD/exec.cap"
sleep_real=$(readlink -f /bin/sleep)
check "trace exec: header says exec, comm sleep" grep -q "^# seq=1 .* pid=$CHILD_PID .*comm=\"sleep\" event=exec " "$TMPD/exec.out"
check "trace exec: first mapping is the new binary" grep -q " $sleep_real\$" <(head -n 1 "$TMPD/exec.cap")
check "trace exec: the dynamic loader and [stack] are there" \
	bash -c "grep -q '/ld-linux' '$TMPD/exec.cap' && grep -q '\[stack\]' '$TMPD/exec.cap'"
check "trace exec: libc not mapped yet (the instant of exec)" bash -c "! grep -q 'libc.so' '$TMPD/exec.cap'"
check "trace exec: no trace of the old image" bash -c "! grep -q trace_child '$TMPD/exec.cap'"
stop_child

# ---- exit: the map as the process leaves, == /proc just before ------------------
start_child -d "$TMPD/rich" -r
cat "/proc/$CHILD_PID/maps" >"$TMPD/exit.proc"
start_trace exit --on exit --pid "$CHILD_PID"
child_cmd "exit 3"
wait_gone "$TRACE_PID" 10
check_eq "trace exit --pid: ends by itself when the process is gone, exit 0" 0 "$WAIT_RC"
maps_of "$TMPD/exit.out" >"$TMPD/exit.cap"
check_files_eq "trace exit: capture == /proc/PID/maps before the exit" "$TMPD/exit.proc" "$TMPD/exit.cap"
check "trace exit: header" grep -q "^# seq=1 .* pid=$CHILD_PID .*event=exit vmas=" "$TMPD/exit.out"

CHILD_PID=
stop_child

# ---- exit of a process that lived 1 ms -------------------------------------------
# (--every: under ASan, LeakSanitizer's helper task, named like the fixture,
# exits too; the capture we want is the one with the fixture's pid)
start_trace exit1 --on exit --comm trace_child --every
"$CHILD_BIN" exit-after 1 &
short=$!
wait "$short"
wait_for "$TMPD/exit1.out" "^# seq=[0-9]+ .* pid=$short " 10
kill -INT "$TRACE_PID"
wait_gone "$TRACE_PID" 10
check_eq "trace exit (1 ms process): exit code 0 after SIGINT" 0 "$WAIT_RC"
awk -v p="pid=$short" '/^# / { on = index($0, " " p " ") > 0; next } on' "$TMPD/exit1.out" >"$TMPD/exit1.cap"
check "trace exit (1 ms process): its pid" grep -q "^# seq=[0-9]* .* pid=$short .*event=exit" "$TMPD/exit1.out"
check "trace exit (1 ms process): its binary" grep -q " $CHILD_REAL\$" "$TMPD/exit1.cap"
check "trace exit (1 ms process): [stack], libc" \
	bash -c "grep -q ' \[stack\]\$' '$TMPD/exit1.cap' && grep -q 'libc.so.6\$' '$TMPD/exit1.cap'"

# ---- signal: SIGSEGV at a known address; map == /proc before the fault ----------
start_child -d "$TMPD/rich" -r
cat "/proc/$CHILD_PID/maps" >"$TMPD/sig.proc"
start_trace sig --on signal --pid "$CHILD_PID"
child_cmd "segv dead000"
wait_gone "$TRACE_PID" 10
check_eq "trace signal: exit code 0" 0 "$WAIT_RC"
check "trace signal: SIGSEGV with si_addr 0xdead000" \
	grep -Eq "^# seq=1 .* pid=$CHILD_PID .*event=signal signal=SIGSEGV\(11\) si_code=1 addr=0xdead000 vmas=" "$TMPD/sig.out"
maps_of "$TMPD/sig.out" >"$TMPD/sig.cap"
check_files_eq "trace signal: capture == /proc/PID/maps before the fault" "$TMPD/sig.proc" "$TMPD/sig.cap"

CHILD_PID=
stop_child

# signal=SEGV, JSON
start_child
start_trace sigj --on signal=SEGV --pid "$CHILD_PID" --json
child_cmd "segv 1000"
wait_gone "$TRACE_PID" 10
check "trace signal=SEGV --json: fault_addr 4096, signal SIGSEGV" \
	grep -q '"event":"signal","signo":11,"signal":"SIGSEGV","si_code":1,"fault_addr":4096,"fault_addr_hex":"0x1000","complete":true' "$TMPD/sigj.out"

CHILD_PID=
stop_child

# A fatal signal with the default action only: SIGSEGV caught would not be.
start_child
start_trace sigk --on signal --pid "$CHILD_PID"
kill -TERM "$CHILD_PID"
wait_gone "$TRACE_PID" 10
check "trace signal: SIGTERM (default action) captured" \
	grep -q "^# seq=1 .* pid=$CHILD_PID .*event=signal signal=SIGTERM(15) si_code=0 vmas=" "$TMPD/sigk.out"
maps_of "$TMPD/sigk.out" >"$TMPD/sigk.cap"
check "trace signal: SIGTERM capture has the binary and [stack]" \
	bash -c "grep -q ' $CHILD_REAL\$' '$TMPD/sigk.cap' && grep -q ' \[stack\]\$' '$TMPD/sigk.cap'"
CHILD_PID=
stop_child

# A handled signal: walked in a task work before the handler runs.
start_child -d "$TMPD/rich" -r
child_cmd "handle 10"
wait_for "$CHILD_OUT" '^done' 10
cat "/proc/$CHILD_PID/maps" >"$TMPD/sigu.proc"
start_trace sigu --on signal=USR1 --pid "$CHILD_PID" --count 1
kill -USR1 "$CHILD_PID"
wait_for "$CHILD_OUT" '^caught' 10
wait_gone "$TRACE_PID" 10
check "trace signal=USR1 (handled): captured" \
	grep -q "^# seq=1 .* pid=$CHILD_PID .*event=signal signal=SIGUSR1(10) si_code=0 vmas=" "$TMPD/sigu.out"
maps_of "$TMPD/sigu.out" >"$TMPD/sigu.cap"
check_files_eq "trace signal=USR1 (handled): capture == /proc/PID/maps" "$TMPD/sigu.proc" "$TMPD/sigu.cap"
check "trace signal=USR1 (handled): the process lives on" kill -0 "$CHILD_PID"
# a SIGSEGV that a handler catches (think JVM): the address and the map
start_trace sigh --on signal=SEGV --pid "$CHILD_PID" --count 1
: >"$CHILD_OUT"
child_cmd "segvh dead000"
wait_for "$CHILD_OUT" '^caught' 10
wait_gone "$TRACE_PID" 10
check "trace signal=SEGV (handled): address 0xdead000" \
	grep -q "^# seq=1 .* pid=$CHILD_PID .*event=signal signal=SIGSEGV(11) si_code=1 addr=0xdead000 vmas=" "$TMPD/sigh.out"
maps_of "$TMPD/sigh.out" >"$TMPD/sigh.cap"
check_files_eq "trace signal=SEGV (handled): capture == /proc/PID/maps" "$TMPD/sigu.proc" "$TMPD/sigh.cap"
# by default only signals that kill: the handled ones are not captured
start_trace sign --on signal --pid "$CHILD_PID" --duration 1
kill -USR1 "$CHILD_PID"
wait_gone "$TRACE_PID" 10
check_eq "trace --on signal: a handled signal is not a fatal one" "" "$(cat "$TMPD/sign.out")"
stop_child

# ---- --cgroup: only tasks in it ------------------------------------------------------
cg2=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
if [ -n "$cg2" ] && mkdir "$cg2/taskvma-trace.$$" 2>/dev/null; then
	cg="$cg2/taskvma-trace.$$"
	start_child
	outside=$CHILD_PID outside_fd=$CHILD_FD outside_out=$CHILD_OUT
	CHILD_PID= CHILD_FD=
	start_child
	echo "$CHILD_PID" >"$cg/cgroup.procs"
	start_trace cg --on syscall=getpid --cgroup "taskvma-trace.$$" --count 1
	printf 'sys getpid\n' >&"$outside_fd"
	wait_for "$outside_out" '^done' 10
	sleep 0.2
	check_eq "trace --cgroup: a process outside is not captured" "" "$(cat "$TMPD/cg.out")"
	child_cmd "sys getpid"
	wait_for "$CHILD_OUT" '^done' 10
	cat "/proc/$CHILD_PID/maps" >"$TMPD/cg.proc"
	wait_gone "$TRACE_PID" 10
	check "trace --cgroup: the process inside is" grep -q "^# seq=1 .* pid=$CHILD_PID .*syscall=getpid" "$TMPD/cg.out"
	maps_of "$TMPD/cg.out" >"$TMPD/cg.cap"
	check_files_eq "trace --cgroup: capture == /proc/PID/maps" "$TMPD/cg.proc" "$TMPD/cg.cap"
	stop_child
	kill -KILL "$outside" 2>/dev/null
	wait "$outside" 2>/dev/null
	exec {outside_fd}>&-
	rmdir "$cg" 2>/dev/null || { sleep 0.5; rmdir "$cg" 2>/dev/null; }
else
	echo "# trace --cgroup: no writable cgroup v2 hierarchy, not tested"
fi

# ---- names across overlayfs (backing files) and bind mounts --------------------------
m=$TMPD/mnt
mkdir -p "$m/lower" "$m/upper" "$m/work" "$m/merged" "$m/src/sub" "$m/bind"
head -c 8192 /dev/zero >"$m/lower/ovl.dat"
head -c 8192 /dev/zero >"$m/src/sub/bound.dat"
if mount -t overlay overlay -o "lowerdir=$m/lower,upperdir=$m/upper,workdir=$m/work" "$m/merged" 2>/dev/null &&
	mount --bind "$m/src/sub" "$m/bind" 2>/dev/null; then
	start_child -f "$m/merged/ovl.dat" -f "$m/bind/bound.dat"
	start_trace mnt --on syscall=getppid --pid "$CHILD_PID" --count 1
	child_cmd "sys getppid"
	wait_for "$CHILD_OUT" '^done' 10
	cat "/proc/$CHILD_PID/maps" >"$TMPD/mnt.proc"
	wait_gone "$TRACE_PID" 10
	maps_of "$TMPD/mnt.out" >"$TMPD/mnt.cap"
	check_files_eq "trace: overlayfs and bind-mount names == /proc" "$TMPD/mnt.proc" "$TMPD/mnt.cap"
	check "trace: overlay file shown by its overlay path" grep -q " $m/merged/ovl.dat\$" "$TMPD/mnt.cap"
	check "trace: bind-mounted file shown by the bind path" grep -q " $m/bind/bound.dat\$" "$TMPD/mnt.cap"
	stop_child
else
	echo "# trace: overlay/bind mounts not available, not tested"
fi
umount "$m/merged" 2>/dev/null
umount "$m/bind" 2>/dev/null

# ---- a ring buffer too small: the capture is marked incomplete, exit 6 ----------------
start_child -d "$TMPD/rich" -r -n 300
start_trace small --on syscall=getppid --pid "$CHILD_PID" --count 1 --buffer-size 4K
child_cmd "sys getppid"
wait_gone "$TRACE_PID" 10
check_eq "trace 4K ring buffer: exit code 6 (incomplete)" 6 "$WAIT_RC"
check "trace 4K ring buffer: header says INCOMPLETE and how many were lost" \
	grep -Eq "^# seq=1 .* vmas=([0-9]+) INCOMPLETE lost=[1-9][0-9]*" "$TMPD/small.out"
walked=$(sed -nE 's/^# .* vmas=([0-9]+) INCOMPLETE lost=([0-9]+).*/\1 \2/p' "$TMPD/small.out")
check_eq "trace 4K ring buffer: lines printed == walked - lost" \
	"$(( ${walked% *} - ${walked#* } + 1 ))" "$(maps_of "$TMPD/small.out" | wc -l)"
check "trace 4K ring buffer: summary counts it" grep -q '(1 incomplete' "$TMPD/small.err"
stop_child

# every event of a busy process into a full ring buffer: captures that do not
# fit are lost (counted), partial ones are INCOMPLETE, none passes as complete
start_child -n 300
start_trace full --on syscall --pid "$CHILD_PID" --every --buffer-size 4K
child_cmd "sys getppid"
wait_for "$CHILD_OUT" '^done' 10
sleep 0.3
kill -INT "$TRACE_PID"
wait_gone "$TRACE_PID" 10
check_eq "trace --every 4K: exit code 6" 6 "$WAIT_RC"
check "trace --every 4K: summary counts incomplete and lost captures" \
	grep -Eq '^taskvma: [0-9]+ captures? \([1-9][0-9]* incomplete, 0 without a map\), [0-9]+ lost, 1 process seen' "$TMPD/full.err"
# each capture: lines == vmas - lost + 1 ([vsyscall]); lost > 0 <=> INCOMPLETE
check "trace --every 4K: every capture prints walked - lost lines, and says so" awk '
	function flush() { if (hdr && n != want) bad = 1 }
	/^# / {
		flush(); hdr = 1; n = 0; lost = 0
		match($0, / vmas=[0-9]+/); vmas = substr($0, RSTART + 6, RLENGTH - 6)
		if (match($0, / INCOMPLETE lost=[0-9]+/)) lost = substr($0, RSTART + 17, RLENGTH - 17)
		else if ($0 ~ /INCOMPLETE|lost=/) bad = 1
		want = vmas - lost + 1
		next
	}
	{ n++ }
	END { flush(); exit bad }' "$TMPD/full.out"
stop_child
rm -rf "$TMPD/rich"
end_case
