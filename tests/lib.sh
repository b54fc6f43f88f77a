# Shared helpers for tests/cases/*.sh (sourced).  Every assertion prints one
# line "PASS name" or "FAIL name: why"; tests/run.sh counts them.
# Environment from run.sh: BUILD (build dir), TASKVMA (the CLI), QUICK=1 for
# the sanitizer pass (skip the slowest cases), TMPD (scratch dir, removed after).

# Defaults for a case run on its own (bash tests/cases/NAME.sh): the build
# tree next to the tests, and a scratch directory of its own (OWN_TMPD=1:
# the case removes it on exit).
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
: "${BUILD:=$ROOT/build}" "${QUICK:=0}"
: "${TASKVMA:=$BUILD/taskvma}"
OWN_TMPD=
if [ -z "${TMPD:-}" ]; then TMPD=$(mktemp -d); OWN_TMPD=1; fi

# python3 (the oracles) as the interpreter itself, not through a version
# manager's shim: on this machine `python3` is pyenv's, a chain of bash
# scripts before every start (3.3-3.7 s a call at load 10, against 0.5-0.65 s
# for the interpreter it runs), and a suite run starts python hundreds of
# times.  run.sh resolves it once (TV_PYTHON); a case run on its own here.
if [ -z "${TV_PYTHON:-}" ]; then
	TV_PYTHON=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null)
fi
if [ -n "$TV_PYTHON" ] && [ -x "$TV_PYTHON" ]; then
	mkdir -p "$TMPD/.python" && ln -sf "$TV_PYTHON" "$TMPD/.python/python3" &&
		PATH=$TMPD/.python:$PATH
fi

# A case's exit: cleanup_case kills and reaps the processes in KILL, runs the
# commands in AT_EXIT (strings, eval'd: removing a directory, unmounting),
# and removes TMPD when the case made its own.  Cases with nothing else to
# undo call `trap_cleanup` once instead of writing their own trap.
KILL=()
AT_EXIT=()
cleanup_case() {
	local p c
	for p in "${KILL[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	for c in "${AT_EXIT[@]}"; do eval "$c"; done
	[ -n "$OWN_TMPD" ] && rm -rf "$TMPD"
}
trap_cleanup() {
	trap cleanup_case EXIT
	trap 'exit 1' INT TERM
}

# wait_until SECONDS COMMAND...: run the command every 20 ms until it
# succeeds (0) or SECONDS pass (1).
wait_until() {
	local t=$(($1 * 50)); shift
	while ! "$@" 2>/dev/null; do
		t=$((t - 1)); [ "$t" -gt 0 ] || return 1
		sleep 0.02
	done
}
# running PID: alive and not a zombie (kill -0 succeeds on a zombie).
running() { kill -0 "$1" 2>/dev/null && [ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)" != Z ]; }
not_running() { ! running "$1"; }

pass() { echo "PASS $1"; }
# end_case: the last line of every case script.  tests/run.sh counts a case
# that does not print "END <its file name>" as failed: it stopped early (an
# exit, a crash, set -e) and its remaining assertions never ran.
end_case() { echo "END ${0##*/}"; }
fail() { echo "FAIL $1: ${2:-}"; }

# check NAME COMMAND...: passes when the command exits 0.
check() {
	local name=$1; shift
	local out
	if out=$("$@" 2>&1); then pass "$name"; else fail "$name" "$(printf '%s' "$out" | tail -n 3 | tr '\n' ' ')"; fi
}

# ocheck NAME COMMAND ARGS...: a tests/oracle.py check, queued (arguments
# without tabs or newlines; the files it reads must stay as they are) and
# run with the others by ocheck_run from one python start, which prints
# their PASS/FAIL lines.  A case with many oracle checks saves a python
# start each (0.5 s at load 10 here).
ocheck() { local IFS=$'\t'; printf '%s\n' "$*" >>"$TMPD/ochecks"; }
ocheck_run() {
	local n got out
	[ -s "$TMPD/ochecks" ] || return 0
	n=$(wc -l <"$TMPD/ochecks")
	out=$(python3 "$ROOT/tests/oracle.py" checks "$TMPD/ochecks" 2>&1)
	printf '%s\n' "$out"
	got=$(printf '%s\n' "$out" | grep -Ec '^(PASS|FAIL) ')
	[ "$got" -eq "$n" ] || fail "oracle checks ($n queued)" "$got answered: $(printf '%s' "$out" | tail -n 3 | tr '\n' ' ')"
	rm -f "$TMPD/ochecks"
}

# check_eq NAME EXPECTED ACTUAL
check_eq() {
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "expected [$2] got [$3]"; fi
}

# check_files_eq NAME FILE_EXPECTED FILE_ACTUAL: byte-for-byte.
check_files_eq() {
	if cmp -s "$2" "$3"; then pass "$1"; else fail "$1" "$(diff "$2" "$3" | head -n 6 | tr '\n' ' ')"; fi
}

# expect_fail NAME CODE REGEX COMMAND...: the command must exit with CODE,
# print exactly one line on stderr matching REGEX, and nothing on stdout.
expect_fail() {
	local name=$1 code=$2 re=$3; shift 3
	local out err rc
	out=$("$@" 2>"$TMPD/stderr"); rc=$?
	# (shell built-ins from here on: this runs hundreds of times a suite)
	err=$(<"$TMPD/stderr")
	if [ "$rc" -ne "$code" ]; then fail "$name" "exit $rc, want $code; stderr: $err"; return; fi
	if [ -n "$out" ]; then fail "$name" "unexpected stdout: ${out:0:200}"; return; fi
	if [ -z "$err" ] || [[ $err == *$'\n'* ]]; then fail "$name" "stderr is not one line: $err"; return; fi
	if ! [[ $err =~ $re ]]; then fail "$name" "stderr [$err] does not match /$re/"; return; fi
	pass "$name"
}

# private_copies FIXTURE...: copy the CLI and these fixtures into $TMPD/fx,
# so that a rebuild running at the same time (make, make SAN=1) cannot swap
# binaries under a running test.  Sets FX (the copies' tests/fixtures) and
# TASKVMA; start_mapper then runs the copied mapper.
private_copies() {
	FX=$TMPD/fx/tests/fixtures
	mkdir -p "$FX"
	cp "$TASKVMA" "$TMPD/fx/taskvma" && TASKVMA=$TMPD/fx/taskvma
	for f in "$@"; do cp "$BUILD/tests/fixtures/$f" "$FX/$f"; done
}

# usable_backends: BACKENDS = the backends that open here (bpf, procmap,
# procfs; a SKIP line for each that exits 7, unavailable), then auto.
usable_backends() {
	local b
	BACKENDS=
	for b in bpf procmap procfs; do
		"$TASKVMA" --backend="$b" maps $$ >/dev/null 2>&1
		if [ $? -eq 7 ]; then echo "SKIP backend $b: not available here"; else BACKENDS="$BACKENDS $b"; fi
	done
	BACKENDS="$BACKENDS auto"
}

# A fixture process with known mappings, stopped so /proc can be read.
# start_mapper ARGS... sets MAPPER_PID; the fixture prints "ready" when set up.
start_mapper() {
	local fifo="$TMPD/mapper.$RANDOM"
	mkfifo "$fifo"
	"${FX:-$BUILD/tests/fixtures}/mapper" "$@" >"$fifo" &
	MAPPER_PID=$!
	local line
	read -r line <"$fifo"
	rm -f "$fifo"
	[ "$line" = "ready" ] || { echo "mapper did not start: $line" >&2; return 1; }
}
stop_mapper() { [ -n "${MAPPER_PID:-}" ] && kill "$MAPPER_PID" 2>/dev/null; wait "$MAPPER_PID" 2>/dev/null; MAPPER_PID=; }

# run_cmp NAME PID ARGS...: `taskvma maps ARGS` equals /proc/PID/maps read
# before and after it (the fixture is idle, so both reads must agree).
run_cmp() {
	local name=$1 pid=$2; shift 2
	local out=$TMPD/out ref=$TMPD/ref ref2=$TMPD/ref2 rc
	cat "/proc/$pid/maps" >"$ref"
	timeout 600 "$TASKVMA" maps "$@" "$pid" >"$out" 2>"$TMPD/err"; rc=$?
	cat "/proc/$pid/maps" >"$ref2"
	if [ "$rc" -ne 0 ]; then fail "$name" "exit $rc: $(head -c 300 "$TMPD/err")"; return; fi
	if ! cmp -s "$ref" "$ref2"; then fail "$name" "the fixture's map changed between two reads"; return; fi
	# procmap and procfs say on stderr that their read is not an atomic
	# snapshot (docs/cli.md "Consistent snapshots"): that line only
	case " $* " in
	*" --backend=bpf "*) ;;
	*) sed -i "/^taskvma: note: pid $pid read with [a-z ]*: not an atomic snapshot (--consistent freezes the process while reading)\$/d" "$TMPD/err" ;;
	esac
	if [ -s "$TMPD/err" ]; then fail "$name" "stderr: $(head -c 300 "$TMPD/err")"; return; fi
	check_files_eq "$name" "$ref" "$out"
}

# vm.max_map_count is machine-wide and other tests/benchmarks may need it:
# raise_max_map N only ever raises it; restore_max_map puts the old value
# back only if it is still ours.
OLD_MAX_MAP= SET_MAX_MAP=
raise_max_map() {
	local cur
	cur=$(cat /proc/sys/vm/max_map_count)
	if [ "$cur" -lt "$1" ]; then
		OLD_MAX_MAP=$cur SET_MAX_MAP=$1
		sysctl -q -w vm.max_map_count="$1"
	fi
}
restore_max_map() {
	if [ -n "$OLD_MAX_MAP" ] && [ "$(cat /proc/sys/vm/max_map_count)" = "$SET_MAX_MAP" ]; then
		sysctl -q -w vm.max_map_count="$OLD_MAX_MAP"
	fi
	OLD_MAX_MAP=
}
