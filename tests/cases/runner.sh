#!/usr/bin/env bash
# The test of tests/run.sh itself: it runs the fixtures of tests/runner (cases
# that pass some assertions and then crash, exit early, exit 1, hang, or abort)
# through a nested tests/run.sh, and requires that each one makes the run fail
# with the reason on a FAIL line, the PASS lines before it still counted, and
# a non-zero exit; and that a case that ends well passes.
set -u
. "$(dirname "$0")/../lib.sh"
# Not run in the quick (sanitizer) pass: it tests tests/run.sh (bash) on fixtures that crash on purpose: built
# with the sanitizers they test nothing more (50 s of the pass at load 10).
if [ "$QUICK" = 1 ]; then
	echo "# runner: not run in the quick pass"
	end_case
	exit 0
fi

# runner NAME WANT_RC WANT_LAST WANT_FAIL_REGEX [RUN.SH ARGS...]: run the
# nested runner; its output stays in a file (its PASS and FAIL lines are the
# fixtures', not this case's).
runner() {
	local name=$1 want_rc=$2 want_last=$3 want_fail=$4; shift 4
	local rc last
	"$ROOT/tests/run.sh" --build "$BUILD" "$@" >"$TMPD/out" 2>"$TMPD/err"; rc=$?
	last=$(tail -n 1 "$TMPD/out")
	if [ "$rc" -ne "$want_rc" ]; then
		fail "$name" "exit $rc, want $want_rc; $(tail -n 3 "$TMPD/out" | tr '\n' ' ')"
	elif [ "$last" != "$want_last" ]; then
		fail "$name" "last line [$last], want [$want_last]"
	elif [ -n "$want_fail" ] && ! grep -Eq -- "$want_fail" "$TMPD/out"; then
		fail "$name" "no line matching /$want_fail/ in: $(grep '^FAIL' "$TMPD/out" | tr '\n' ' ')"
	elif [ -s "$TMPD/err" ]; then
		fail "$name" "stderr: $(head -c 200 "$TMPD/err")"
	else
		pass "$name"
	fi
}

cd "$ROOT" || exit 1
runner "runner: a case that passes then dies of SIGSEGV fails the run" 1 "1 passed, 1 failed" \
	"^FAIL tests/runner/crash.sh: killed by signal SIGSEGV .*no end marker" tests/runner/crash.sh
runner "runner: a case that passes then exits 0 before its end marker fails the run" 1 "1 passed, 1 failed" \
	"^FAIL tests/runner/early_exit.sh: no end marker 'END early_exit.sh'" tests/runner/early_exit.sh
runner "runner: a case that passes everything then exits 1 fails the run" 1 "2 passed, 1 failed" \
	"^FAIL tests/runner/exit1.sh: exit status 1\$" tests/runner/exit1.sh
runner "runner: a unit binary that passes then aborts fails the run" 1 "1 passed, 1 failed" \
	"^FAIL tests/runner/abort.c: killed by signal SIGABRT .*no end marker 'END abort'" tests/runner/abort.c
runner "runner: a case still running at --timeout is killed and fails the run" 1 "1 passed, 1 failed" \
	"^FAIL tests/runner/hang.sh: timed out after 2 s" --timeout 2 tests/runner/hang.sh
runner "runner: a case that ends well passes" 0 "2 passed, 0 failed" "" tests/runner/ok.sh
runner "runner: a unit binary not built fails the run" 1 "0 passed, 2 failed" \
	"^FAIL tests/runner/no_such_test.c: not built" tests/runner/no_such_test.c

# All at once, 3 at a time: every case's output whole, in the order given.
runner "runner -j 3: the bad cases among good ones fail the run" 1 "10 passed, 5 failed" "" \
	-j 3 --timeout 4 tests/runner/ok.sh tests/runner/hang.sh tests/runner/crash.sh tests/runner/abort.c \
	tests/runner/ok.sh tests/runner/early_exit.sh tests/runner/exit1.sh
check_eq "runner -j 3: cases printed in the order given" \
	"ok.sh hang.sh crash.sh abort.c ok.sh early_exit.sh exit1.sh" \
	"$(sed -n 's|^== tests/runner/||p' "$TMPD/out" | tr '\n' ' ' | sed 's/ $//')"
check "runner -j 3: each case's lines together, after its == line" awk '
	/^== / { c = $2; sub(".*/", "", c); sub("[.](sh|c)$", "", c); next }
	/^(PASS|FAIL) / && $0 !~ "runner fixture " c ":" && $0 !~ "^FAIL tests/runner/" c "[.]" { print "stray: " $0; bad = 1 }
	END { exit bad }' "$TMPD/out"
# Who ran beside whom: the timed fixtures log their start and end.
export RUNNER_TEST_DIR=$TMPD/rt
mkdir -p "$RUNNER_TEST_DIR"
# concurrency [CASE]: the most cases running at once (while CASE ran, if given)
concurrency() {
	awk -v only="${1:-}" '
		$1 == "start" { open++; if (open > max && (only == "" || inside)) max = open
				if ($2 == only) { inside = 1; if (open > max) max = open } }
		$1 == "end"   { open--; if ($2 == only) inside = 0 }
		END { print max + 0 }' "$RUNNER_TEST_DIR/trace"
}
: >"$RUNNER_TEST_DIR/trace"
runner "runner -j 2: two plain cases" 0 "2 passed, 0 failed" "" -j 2 tests/runner/par_a.sh tests/runner/par_b.sh
check_eq "runner -j 2: two plain cases run at the same time" 2 "$(concurrency)"
: >"$RUNNER_TEST_DIR/trace"
runner "runner -j 2: two exclusive cases of one name" 0 "2 passed, 0 failed" "" -j 2 tests/runner/excl_a.sh tests/runner/excl_b.sh
check_eq "runner -j 2: 'run.sh: exclusive NAME' cases one after the other" 1 "$(concurrency)"
: >"$RUNNER_TEST_DIR/trace"
runner "runner -j 3: a serial case among plain ones" 0 "3 passed, 0 failed" "" -j 3 \
	tests/runner/par_a.sh tests/runner/serial.sh tests/runner/par_b.sh
check_eq "runner -j 3: the plain cases beside each other, the 'run.sh: serial' case alone" "2 1" \
	"$(concurrency) $(concurrency serial)"
check "runner: no core file left" test -z "$(ls "$ROOT" | grep '^core')"
end_case
