#!/usr/bin/env bash
# Run the test suite: unit tests (tests/unit/*.c, whose binaries make builds
# into BUILD/tests/unit) and case scripts (tests/cases/*.sh), or the ones named.
# Usage: tests/run.sh [--build DIR] [--quick] [-j N] [--timeout SECONDS] [CASE...]
#   -j N        run up to N cases at once (default 1)
#   --timeout S a case still running after S seconds (default 600, or
#               $TEST_TIMEOUT) is killed and counted as failed
# Each case's output is printed whole, in the order of the list, after one
# "== CASE" line.  The last line is "N passed, N failed" (CI reads it): the
# PASS and FAIL lines of all cases, plus one FAIL for every case that exited
# non-zero, died of a signal, timed out, or did not print its end marker
# ("END <name>": end_case in tests/lib.sh, check_end() in tests/unit/check.h).
# Exit status 0 only when nothing failed and something passed.
set -u
cd "$(dirname "$0")/.."
BUILD=build QUICK=0 JOBS=1 TIMEOUT=${TEST_TIMEOUT:-600} cases=()
usage() { echo "usage: tests/run.sh [--build DIR] [--quick] [-j N] [--timeout SECONDS] [CASE...]" >&2; exit 2; }
while [ $# -gt 0 ]; do
	case $1 in
	--build) [ $# -ge 2 ] || usage; BUILD=$2; shift 2 ;;
	--quick) QUICK=1; shift ;;
	-j) [ $# -ge 2 ] || usage; JOBS=$2; shift 2 ;;
	-j*) JOBS=${1#-j}; shift ;;
	--timeout) [ $# -ge 2 ] || usage; TIMEOUT=$2; shift 2 ;;
	-*) usage ;;
	*) cases+=("$1"); shift ;;
	esac
done
[[ $JOBS =~ ^[1-9][0-9]*$ ]] || usage
[[ $TIMEOUT =~ ^[1-9][0-9]*$ ]] || usage
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
export BUILD QUICK TASKVMA="$BUILD/taskvma"
[ ${#cases[@]} -gt 0 ] || cases=(tests/unit/*.c tests/cases/*.sh)
n=${#cases[@]}

OUT=$(mktemp -d)
declare -A jobpid=()    # case index -> pid of the subshell running it
cleanup() {
	local p
	# timeout(1) forwards TERM to the case's process group
	for p in "${jobpid[@]}"; do pkill -TERM -P "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$OUT"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start I: run case I in the background; its output goes to OUT/I.log, its
# exit status then to OUT/I.rc (written last: its existence means done).
start() {
	local i=$1 c=${cases[$1]}
	(
		# a crashing case must not drop core files into the tree
		ulimit -c 0
		TMPD=$(mktemp -d); export TMPD
		case $c in
		*.c) c=${c#./}; cmd=("$BUILD/${c%.c}") ;;   # tests/unit/X.c -> BUILD/tests/unit/X
		*) cmd=(bash "$c") ;;
		esac
		t0=$SECONDS
		if [ "${cmd[0]}" != bash ] && [ ! -x "${cmd[0]}" ]; then
			echo "FAIL $c: not built (${cmd[0]})" >"$OUT/$i.log"; rc=skip
		else
			# (stderr: not the shell's own "Segmentation fault" line)
			{ timeout -k 10 "$TIMEOUT" "${cmd[@]}" </dev/null >"$OUT/$i.log" 2>&1; } 2>/dev/null; rc=$?
		fi
		[ "$rc" = skip ] || [ $((SECONDS - t0)) -lt "$TIMEOUT" ] || rc=124
		rm -rf "$TMPD"
		echo "$rc" >"$OUT/$i.rc.tmp" && mv "$OUT/$i.rc.tmp" "$OUT/$i.rc"
	) &
	jobpid[$i]=$!
}

# report I: print case I's output and the runner's verdict on how it ended.
report() {
	local i=$1 c=${cases[$1]} rc name why=
	rc=$(cat "$OUT/$i.rc")
	case $c in
	*.c) name=$(basename "$c" .c) ;;
	*) name=$(basename "$c") ;;
	esac
	echo "== $c"
	cat "$OUT/$i.log"
	[ "$rc" != skip ] || return    # not built: said so already
	if [ "$rc" -eq 124 ]; then why="timed out after $TIMEOUT s (killed)"
	elif [ "$rc" -gt 128 ] && [ "$rc" -le 192 ]; then why="killed by signal SIG$(kill -l $((rc - 128)) 2>/dev/null || echo $((rc - 128))) (exit status $rc)"
	elif [ "$rc" -ne 0 ]; then why="exit status $rc"
	fi
	if ! grep -qxF "END $name" "$OUT/$i.log"; then
		why="${why:+$why; }no end marker 'END $name': stopped before its last assertion"
	fi
	[ -z "$why" ] || echo "FAIL $c: $why"
}

log=$OUT/all.log
: >"$log"
next=0 shown=0
while [ "$shown" -lt "$n" ]; do
	running=0
	for i in "${!jobpid[@]}"; do [ -e "$OUT/$i.rc" ] || running=$((running + 1)); done
	while [ "$next" -lt "$n" ] && [ "$running" -lt "$JOBS" ]; do
		start "$next"; next=$((next + 1)); running=$((running + 1))
	done
	while [ "$shown" -lt "$n" ] && [ -e "$OUT/$shown.rc" ]; do
		wait "${jobpid[$shown]}" 2>/dev/null
		unset "jobpid[$shown]"
		report "$shown" | tee -a "$log"
		shown=$((shown + 1))
	done
	[ "$shown" -lt "$n" ] || break
	# sleep until some job ends (a short poll in case it ended just now)
	wait -n 2>/dev/null || sleep 0.2
done
passed=$(grep -c '^PASS ' "$log")
failed=$(grep -c '^FAIL ' "$log")
[ "$passed" -gt 0 ] || failed=$((failed + 1))
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
