#!/usr/bin/env bash
# libFuzzer run of the /proc/PID/maps line parser (tests/fuzz/fuzz_parse.c):
# build it with `make fuzz`, seed it with every distinct line of the live
# /proc/*/maps plus a few hand-made edge lines, run it for FUZZ_SECONDS (20),
# and require a clean exit (no crash, no sanitizer report, no broken
# invariant).  Not run in the quick (sanitizer) pass.
set -u
. "$(dirname "$0")/../lib.sh"

if [ "$QUICK" = 1 ]; then
	echo "# fuzz: not run in the quick pass"
	end_case
	exit 0
fi

if make -C "$ROOT" --no-print-directory fuzz O="$BUILD" >"$TMPD/make.log" 2>&1 && [ -x "$BUILD/fuzz_parse" ]; then
	pass "fuzz: make fuzz builds $BUILD/fuzz_parse"
else
	fail "fuzz: make fuzz builds $BUILD/fuzz_parse" "$(tail -n 5 "$TMPD/make.log" | tr '\n' ' ')"
	exit 0
fi

corpus=$TMPD/corpus
mkdir -p "$corpus"
python3 "$ROOT/tests/oracle.py" fuzz-corpus "$corpus"
nseeds=$(ls "$corpus" | wc -l)
check "fuzz: seed corpus from /proc/*/maps ($nseeds lines)" test "$nseeds" -gt 50

export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=abort_on_error=0:detect_leaks=1
"$BUILD/fuzz_parse" -max_total_time="${FUZZ_SECONDS:-20}" -max_len=4096 -timeout=10 \
	-artifact_prefix="$TMPD/" -print_final_stats=1 "$corpus" >"$TMPD/fuzz.log" 2>&1
rc=$?
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$TMPD/fuzz.log")
if [ "$rc" -eq 0 ]; then
	pass "fuzz: ${FUZZ_SECONDS:-20} s of fuzzing, exit 0 (${runs:-?} runs)"
else
	fail "fuzz: ${FUZZ_SECONDS:-20} s of fuzzing, exit 0" \
	     "exit $rc; $(grep -m 3 -E 'ERROR|invariant|runtime error|SUMMARY' "$TMPD/fuzz.log" | tr '\n' ' ') artifacts: $(ls "$TMPD" | grep -E '^(crash|leak|timeout|oom)-' | head -3 | tr '\n' ' ')"
	for a in "$TMPD"/crash-* "$TMPD"/leak-*; do
		[ -f "$a" ] && { echo "# reproducer $(basename "$a"):"; od -c "$a" | head -n 8 | sed 's/^/#   /'; }
	done
fi
check "fuzz: it executed inputs" test "${runs:-0}" -gt 1000
end_case
