#!/usr/bin/env bash
# run.sh: exclusive trace (its trace_child would be caught by trace.sh's
# --comm trace_child; it counts iter_task_vma_* programs left loaded)
# examples/seed_task_vma: the kfunc documentation's example program (fixed
# for the verifier) captures the VMA ranges of a process at its next system
# call; every range, in order, must be the one /proc/PID/maps shows (as the
# kernel's selftest prog_tests/iters.c checks it against /proc/self/maps).
# The [vsyscall] gate line of /proc is not a VMA and is not captured.
set -u
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/trace_lib.inc"
trap 'stop_child' EXIT
SEED=$BUILD/examples/seed_task_vma/seed_task_vma
private_copies "$SEED"
[ -n "${COPY_seed_task_vma:-}" ] && SEED=$COPY_seed_task_vma

check "example seed: built ($SEED)" test -x "$SEED"
mkdir -p "$TMPD/rich"
start_child -d "$TMPD/rich" -r -n 20
cat "/proc/$CHILD_PID/maps" >"$TMPD/before"
"$SEED" "$CHILD_PID" 10000 >"$TMPD/ranges" 2>"$TMPD/err" &
seed=$!
# The loader prints nothing until it has the map; poke the child until it
# has (each poke is a few system calls that leave the map alone).
for ((i = 0; i < 200; i++)); do
	kill -0 "$seed" 2>/dev/null || break
	child_cmd "sys getppid"
	sleep 0.05
done
wait "$seed"
rc=$?
check_eq "example seed: exit code 0" 0 "$rc"
check_eq "example seed: nothing on stderr" "" "$(cat "$TMPD/err")"
cat "/proc/$CHILD_PID/maps" >"$TMPD/after"
check_files_eq "example seed: the child's map did not change meanwhile" "$TMPD/before" "$TMPD/after"
grep -v ' \[vsyscall\]$' "$TMPD/after" | cut -d' ' -f1 >"$TMPD/want"
check "example seed: captured some ranges" test "$(wc -l <"$TMPD/ranges")" -gt 40
check_files_eq "example seed: every range, in order, == /proc/PID/maps" "$TMPD/want" "$TMPD/ranges"
stop_child

# Nothing of it stays loaded (the kernel frees a detached program after a
# grace period: allow 3 s).
for ((i = 0; i < 150; i++)); do
	left=$(bpftool prog show 2>/dev/null | grep -E 'name iter_task_vma_' | head -n 1)
	[ -z "$left" ] && break
	sleep 0.02
done
check_eq "example seed: program gone after exit" "" "$left"

expect_fail "example seed: usage" 2 '^usage: seed_task_vma' "$SEED"
expect_fail "example seed: a pid with no system call in time" 1 'made no system call within 200 ms' \
	"$SEED" 2147483600 200
end_case
