#!/usr/bin/env bash
# run.sh: serial (a benchmark: it loads every CPU with its workload and times
# each method; nothing else should run beside it)
# The maps benchmark at CI size: `bench/run.sh --smoke` (5 processes x 50
# VMAs, 2 reps).  Asserts that it runs and that every method saw the same
# VMAs (the workload's processes, exactly) -- not how fast they were.
# Runs on its own too: bash tests/cases/bench_smoke.sh
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
trap '[ -n "$OWN_TMPD" ] && rm -rf "$TMPD"' EXIT

OUT=$TMPD/bench.out
JSON=$TMPD/results.json
# TMPDIR: the bench's scratch directory (workload files) goes under ours
TMPDIR=$TMPD "$ROOT/bench/run.sh" --smoke --build "$BUILD" --out "$JSON" --md "$TMPD/results.md" >"$OUT" 2>&1
rc=$?
if [ "$rc" -eq 0 ]; then pass bench_smoke_runs; else fail bench_smoke_runs "exit $rc: $(grep -v '^|' "$OUT" | tail -n 4 | tr '\n' ' ')"; fi

# the bench's own verdict: "CHECK smoke same-vmas PASS (...)"
line=$(grep '^CHECK smoke same-vmas ' "$OUT")
case $line in
"CHECK smoke same-vmas PASS"*) pass bench_smoke_same_vmas ;;
*) fail bench_smoke_same_vmas "${line:-no CHECK line}; $(sed -n '/^VMA check/,/^CHECK/p' "$OUT" | tr '\n' ' ' | head -c 600)" ;;
esac

# and from the recorded JSON, independently of that line: every method that
# ran reports the same workload VMA count, which is what the workload made
# (5 children x 50 VMAs + the reservation's 2 guard VMAs each, at least)
if [ -s "$JSON" ]; then
	pass bench_smoke_json
	counts=$(tr -d ' \n' <"$JSON" | grep -o '"[a-z_]*":{"workload_vmas":[0-9]*' | sed 's/.*://' | sort -u)
	methods=$(tr -d ' \n' <"$JSON" | grep -o '"[a-z_]*":{"workload_vmas":[0-9]*' | cut -d'"' -f2 | tr '\n' ' ')
	if [ "$(printf '%s\n' "$counts" | grep -c .)" -ne 1 ]; then
		# the exec-only method counts only executable VMAs: check the others
		counts=$(tr -d ' \n' <"$JSON" | grep -o '"[a-z_]*":{"workload_vmas":[0-9]*' |
			 grep -v taskvma_lib_exec | sed 's/.*://' | sort -u)
	fi
	if [ "$(printf '%s\n' "$counts" | grep -c .)" -eq 1 ] && [ "$counts" -ge $((5 * 52)) ]; then
		pass bench_smoke_counts_equal
	else
		fail bench_smoke_counts_equal "workload VMA counts per method: $(tr -d ' \n' <"$JSON" | grep -o '"[a-z_]*":{"workload_vmas":[0-9]*' | tr '\n' ' ')"
	fi
	for m in taskvma_lib taskvma_lib_exec taskvma_cli raw_read procfs_parse procmap_query floor; do
		case " $methods " in
		*" $m "*) pass "bench_smoke_method_$m" ;;
		*) fail "bench_smoke_method_$m" "not in the results: $methods" ;;
		esac
	done
	if grep -q '"median_ms"' "$JSON" && grep -q '"targets"' "$JSON" && grep -q '"kernel"' "$JSON"; then
		pass bench_smoke_json_fields
	else
		fail bench_smoke_json_fields "median_ms / targets / machine missing"
	fi
else
	fail bench_smoke_json "no $JSON"
fi

# torn down: no workload process left (its -d argument is under $TMPD),
# no scratch directory left
sleep 0.2
left=$(pgrep -f -- "-d $TMPD/" | tr '\n' ' ')
if [ -n "$left" ]; then
	fail bench_smoke_teardown "workload processes left: $left"
elif ls -d "$TMPD"/taskvma-bench.* >/dev/null 2>&1; then
	fail bench_smoke_teardown "scratch directory left: $(ls -d "$TMPD"/taskvma-bench.*)"
else
	pass bench_smoke_teardown
fi
end_case
