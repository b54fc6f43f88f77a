#!/usr/bin/env bash
# The maps benchmark (`make bench`): every way to read every process's memory
# maps, measured side by side on workloads this script creates and tears down.
#
# Usage: bench/run.sh [--build DIR] [--reps N] [--million] [--smoke] [--out FILE]
#                     [--md FILE] [--no-pmap-x] [--only LIST] [--workload SPEC]...
#   --build DIR   where make put taskvma and bench/ (default build)
#   --reps N      timed repetitions per workload (default 9; --smoke: 2)
#   --million     also a process with 1,000,000 VMAs (raises vm.max_map_count
#                 for the run and restores it on exit, also on Ctrl-C)
#   --smoke       CI size: 5 processes x 50 VMAs, 2 reps, no pmap -x; results
#                 go to DIR/bench/results-smoke.json, not bench/results.json
#   --out FILE    results JSON (default bench/results.json)
#   --md FILE     the tables as markdown (default DIR/bench/results.md)
#   --only LIST   time only these methods (comma-separated keys, see
#                 maps_bench's usage), e.g. for profiling
#   --workload NAME:NPROC:NVMA[:REPS]   instead of the default workloads
#
# Workloads: many = 200 processes x 500 VMAs; huge = 1 process x 65,530 VMAs
# (vm.max_map_count is raised above 65,530 for the run so that the process's
# own mappings fit; without root it gets max_map_count - 128 VMAs instead).
# Exit status: 0 when every method saw the same VMAs (targets are reported as
# PASS/MISS, never fatal), non-zero when the methods disagreed or a step failed.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=build REPS= MILLION=0 SMOKE=0 OUT= MD= PMAPX=1 ONLY=
CUSTOM=()
ARGS="$*"
while [ $# -gt 0 ]; do
	case $1 in
	--build) BUILD=$2; shift 2 ;;
	--reps) REPS=$2; shift 2 ;;
	--million) MILLION=1; shift ;;
	--smoke) SMOKE=1; shift ;;
	--out) OUT=$2; shift 2 ;;
	--md) MD=$2; shift 2 ;;
	--no-pmap-x) PMAPX=0; shift ;;
	--only) ONLY=$2; shift 2 ;;
	--workload) CUSTOM+=("$2"); shift 2 ;;
	-h|--help) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "bench/run.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
	esac
done
BUILD=${BUILD%/}
for f in "$BUILD/taskvma" "$BUILD/bench/maps_bench" "$BUILD/bench/workload"; do
	[ -x "$f" ] || { echo "bench/run.sh: $f missing: run make first (make bench does)" >&2; exit 1; }
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/taskvma-bench.XXXXXX")
MAPCOUNT_FILE=/proc/sys/vm/max_map_count
ORIG_MAPCOUNT=$(cat "$MAPCOUNT_FILE")
SET_MAPCOUNT=
BENCH_PID=

cleanup() {
	local rc=$?
	trap - EXIT INT TERM HUP
	if [ -n "$BENCH_PID" ] && kill -0 "$BENCH_PID" 2>/dev/null; then
		kill -TERM "$BENCH_PID" 2>/dev/null || true
		wait "$BENCH_PID" 2>/dev/null || true
	fi
	# the workload cleans up after itself on SIGTERM; make sure it did
	if [ -f "$TMP/workload.pid" ]; then
		local wp
		wp=$(cat "$TMP/workload.pid")
		if kill -0 "$wp" 2>/dev/null; then
			kill -TERM "$wp" 2>/dev/null || true
			for _ in $(seq 50); do kill -0 "$wp" 2>/dev/null || break; sleep 0.1; done
			kill -KILL "$wp" 2>/dev/null || true
		fi
	fi
	# restore only what we set: someone else may have changed it since
	if [ -n "$SET_MAPCOUNT" ]; then
		local cur
		cur=$(cat "$MAPCOUNT_FILE")
		if [ "$cur" = "$SET_MAPCOUNT" ]; then
			echo "$ORIG_MAPCOUNT" > "$MAPCOUNT_FILE" && echo "bench: vm.max_map_count restored to $ORIG_MAPCOUNT"
		else
			echo "bench: vm.max_map_count is $cur (changed by someone else during the run): left alone"
		fi
	fi
	rm -rf "$TMP"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# room for a process's own mappings above the VMAs the workload adds; never
# lowers it (another user of the machine may need a high value)
raise_mapcount() {
	local want=$1 cur
	cur=$(cat "$MAPCOUNT_FILE")
	if [ "$cur" -ge "$want" ]; then return 0; fi
	if [ -w "$MAPCOUNT_FILE" ] && echo "$want" > "$MAPCOUNT_FILE" 2>/dev/null; then
		echo "bench: vm.max_map_count $cur -> $want for this run"
		SET_MAPCOUNT=$want
		return 0
	fi
	return 1
}

WORKLOADS=()
if [ ${#CUSTOM[@]} -gt 0 ]; then
	: "${REPS:=9}"
	: "${OUT:=$BUILD/bench/results-custom.json}"
	for w in "${CUSTOM[@]}"; do
		n=$(echo "$w" | cut -d: -f3)
		raise_mapcount $(( ${n:-0} + 1024 )) || true
	done
	WORKLOADS=("${CUSTOM[@]}")
elif [ "$SMOKE" = 1 ]; then
	: "${REPS:=2}"
	: "${OUT:=$BUILD/bench/results-smoke.json}"
	PMAPX=0
	WORKLOADS+=("smoke:5:50")
else
	: "${REPS:=9}"
	: "${OUT:=bench/results.json}"
	HUGE=65530
	if ! raise_mapcount $((HUGE + 1024)); then
		HUGE=$((ORIG_MAPCOUNT - 128))
		echo "bench: cannot raise vm.max_map_count: huge gets $HUGE VMAs"
	fi
	WORKLOADS+=("many:200:500" "huge:1:$HUGE")
	if [ "$MILLION" = 1 ]; then
		raise_mapcount $((1000000 + 1024)) || { echo "bench: --million needs root (vm.max_map_count)" >&2; exit 1; }
		# fewer reps: every method walks a million VMAs
		WORKLOADS+=("million:1:1000000:$(( REPS < 5 ? REPS : 5 ))")
	fi
fi
: "${MD:=$BUILD/bench/results.md}"

ARGV=(--taskvma "$BUILD/taskvma" --workload-bin "$BUILD/bench/workload" --tmpdir "$TMP"
      --reps "$REPS" --json "$OUT" --md "$MD" --command "bench/run.sh $ARGS"
      --meta "git=$(git describe --always --dirty 2>/dev/null || echo unknown)"
      --meta "libbpf=$(pkg-config --modversion libbpf 2>/dev/null || echo unknown)"
      --meta "vm.max_map_count=$ORIG_MAPCOUNT")
[ "$PMAPX" = 1 ] || ARGV+=(--no-pmap-x)
[ -z "$ONLY" ] || ARGV+=(--only "$ONLY")
for w in "${WORKLOADS[@]}"; do ARGV+=(--workload "$w"); done

echo "bench: $(uname -r), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
echo "bench: workloads ${WORKLOADS[*]}, $REPS reps, results -> $OUT, $MD"
"$BUILD/bench/maps_bench" "${ARGV[@]}" &
BENCH_PID=$!
set +e
wait "$BENCH_PID"
rc=$?
set -e
BENCH_PID=
exit "$rc"
