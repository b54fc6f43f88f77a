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
	err=$(cat "$TMPD/stderr")
	if [ "$rc" -ne "$code" ]; then fail "$name" "exit $rc, want $code; stderr: $err"; return; fi
	if [ -n "$out" ]; then fail "$name" "unexpected stdout: $(printf '%s' "$out" | head -c 200)"; return; fi
	if [ "$(printf '%s\n' "$err" | wc -l)" -ne 1 ]; then fail "$name" "stderr is not one line: $err"; return; fi
	if ! printf '%s' "$err" | grep -Eq -- "$re"; then fail "$name" "stderr [$err] does not match /$re/"; return; fi
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
