#!/usr/bin/env bash
# Every output error is an error: maps, lookup, scan and watch writing to
# /dev/full (ENOSPC), to a closed stdout (EBADF) and to a pipe nobody reads
# with SIGPIPE ignored (EPIPE) exit 1 with one stderr line naming the real
# errno; a spool file that cannot be written (a 1 MiB tmpfs as $TMPDIR) is
# reported with ENOSPC, the process is listed under "errors" and never as
# complete, and the JSON document stays valid.  A filter that leaves a
# process empty prints nothing and exits 0 (UBSan once aborted there).
# On every backend available here.  Runs on its own too:
# bash tests/cases/output_errors.sh
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
KILL=()
MNT=
cleanup() {
	for p in "${KILL[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ -n "$MNT" ] && { umount "$MNT" 2>/dev/null; rmdir "$MNT"; }
	[ -n "$OWN_TMPD" ] && rm -rf "$TMPD"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
[ -x "$TASKVMA" ] || { fail "output_errors: $TASKVMA" "not built"; exit 0; }
private_copies mapper hostile churner

# The backends that work here (exit 7: not available on this kernel or for
# this user; said, not hidden), and auto.
usable_backends

start_mapper || { fail "output_errors: start mapper" "no ready"; exit 0; }
M=$MAPPER_PID; KILL+=("$M")
addr=$(head -n 1 "/proc/$M/maps" | cut -d- -f1)
"$FX/hostile" -x >"$TMPD/hostile.out" & H=$!; KILL+=("$H")
for _ in $(seq 100); do grep -q ready "$TMPD/hostile.out" && break; sleep 0.05; done

# expect_out_err NAME ERRNO_TEXT COMMAND...: with stdout already redirected
# by the caller: exit 1, stderr's last line "taskvma: writing the output:
# ERRNO_TEXT" and no other complaint.
expect_out_err() {
	local name=$1 re=$2 rc=$3 err
	err=$(cat "$TMPD/err")
	if [ "$rc" -ne 1 ]; then fail "$name" "exit $rc, want 1; stderr: $err"; return; fi
	if ! tail -n 1 "$TMPD/err" | grep -Eq "^taskvma: writing the output: $re\$"; then
		fail "$name" "stderr [$err]"; return
	fi
	# one report of it (watch also says what it watches, on stderr)
	if [ "$(grep -c 'writing the output\|write error\|finding' "$TMPD/err")" -ne 1 ]; then
		fail "$name" "not exactly one error line: $err"; return
	fi
	pass "$name"
}

# run_epipe COMMAND...: stdout is a pipe whose reader is gone, SIGPIPE
# ignored (inherited), as in a shell that ignores it: the subshell opens a
# FIFO for reading and writing, then for writing as stdout, then closes the
# only reader.
mkfifo "$TMPD/fifo"
run_epipe() {
	( trap '' PIPE; exec 3<>"$TMPD/fifo"; exec 1>"$TMPD/fifo"; exec 3<&-; exec "$@" ) 2>"$TMPD/err"
}

for b in $BACKENDS; do
	cmds=("maps $M" "maps --json $M" "maps --sizes $M" "maps --summary $M" "maps --svg $M"
	      "lookup $M $addr" "scan --json $M" "scan $H")
	for c in "${cmds[@]}"; do
		# shellcheck disable=SC2086
		"$TASKVMA" --backend="$b" $c >/dev/full 2>"$TMPD/err"
		expect_out_err "$c --backend=$b >/dev/full: exit 1, ENOSPC" 'No space left on device' $?
		# shellcheck disable=SC2086
		"$TASKVMA" --backend="$b" $c >&- 2>"$TMPD/err"
		expect_out_err "$c --backend=$b with stdout closed: exit 1, EBADF" 'Bad file descriptor' $?
		# shellcheck disable=SC2086
		run_epipe "$TASKVMA" --backend="$b" $c
		expect_out_err "$c --backend=$b into a broken pipe, SIGPIPE ignored: exit 1, EPIPE" \
			'Broken pipe' $?
	done
done

# watch: the first change it prints fails; it stops at once (not at
# --duration).  The churner maps a page on SIGUSR1 and unmaps it on SIGUSR2.
"$FX/churner" >"$TMPD/churn.out" & C=$!; KILL+=("$C")
for _ in $(seq 100); do grep -q ready "$TMPD/churn.out" && break; sleep 0.05; done
# toggle: flip the churner's page every 0.2 s, in the background
( while kill -USR1 "$C" 2>/dev/null; do sleep 0.2; kill -USR2 "$C" 2>/dev/null; sleep 0.2; done ) &
TOGGLE=$!; KILL+=("$TOGGLE")
for b in $BACKENDS; do
	start=$SECONDS
	"$TASKVMA" --backend="$b" watch --interval=0.05 --duration=20 "$C" >/dev/full 2>"$TMPD/err"
	expect_out_err "watch --backend=$b >/dev/full: exit 1, ENOSPC" 'No space left on device' $?
	check "watch --backend=$b >/dev/full: stops at the failed write, not at --duration" \
		test $((SECONDS - start)) -lt 15
	run_epipe "$TASKVMA" --backend="$b" watch --interval=0.05 --duration=20 "$C"
	expect_out_err "watch --backend=$b into a broken pipe: exit 1, EPIPE" 'Broken pipe' $?
done

kill "$TOGGLE" "$C" 2>/dev/null

# A filter that leaves a process empty: nothing printed, exit 0 (UBSan:
# fwrite of a NULL spool with length 0).
for b in $BACKENDS; do
	out=$("$TASKVMA" --backend="$b" maps -q --name='zzz-no-such-name*' "$M" 2>"$TMPD/err"); rc=$?
	check_eq "maps --name matching nothing --backend=$b: exit 0, no output, no error" "0::" \
		"$rc:$out:$(cat "$TMPD/err")"
	out=$("$TASKVMA" --backend="$b" maps --name='zzz-no-such-name*' "$M" $$ 2>"$TMPD/err"); rc=$?
	check_eq "maps --name matching nothing, two pids --backend=$b: headers only, exit 0" \
		"0:==> $M (mapper) <====> $$ ($(cat /proc/$$/comm)) <==" "$rc:$(printf '%s' "$out" | tr -d '\n')"
done

# ---- the spool: a process whose JSON is larger than the 4 MiB in memory, a
# 1 MiB tmpfs as $TMPDIR: ENOSPC, said, and never "complete" ----------------------
MNT=$(mktemp -d)
if mount -t tmpfs -o size=1m tvspool "$MNT" 2>"$TMPD/err"; then
	"$FX/mapper" -n 45000 >"$TMPD/big.out" & BIG=$!; KILL+=("$BIG")
	for _ in $(seq 200); do grep -q ready "$TMPD/big.out" && break; sleep 0.05; done
	for b in $BACKENDS; do
		TMPDIR=$MNT "$TASKVMA" --backend="$b" maps --json "$BIG" $$ >"$TMPD/j" 2>"$TMPD/err"; rc=$?
		check_eq "maps --json, spool in a full \$TMPDIR --backend=$b: exit 1" 1 "$rc"
		check "maps --json, full spool --backend=$b: one stderr line with ENOSPC" \
			grep -Eq "^taskvma: pid $BIG: output spool: No space left on device\$" "$TMPD/err"
		check "maps --json, full spool --backend=$b: valid JSON, the pid under errors and not under processes, the other pid complete" \
			python3 "$ROOT/tests/oracle.py" output-spool-full "$TMPD/j" "$BIG" $$
		# with room (the default $TMPDIR), the same process is complete
		"$TASKVMA" --backend="$b" maps -q "$BIG" >"$TMPD/t" 2>"$TMPD/err"
		check_eq "maps of the same process, spool with room --backend=$b: exit 0" "0:" "$?:$(cat "$TMPD/err")"
		cat "/proc/$BIG/maps" >"$TMPD/p"
		check_files_eq "maps of the same process, spool with room --backend=$b: equals /proc" \
			"$TMPD/p" "$TMPD/t"
	done
	umount "$MNT"
else
	fail "output_errors: mount a tmpfs for the spool" "$(cat "$TMPD/err")"
fi
rmdir "$MNT"; MNT=
end_case
