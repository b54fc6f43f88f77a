#!/usr/bin/env bash
# Run the whole test suite: unit tests (tests/unit), then every tests/cases/*.sh.
# Usage: tests/run.sh [--build DIR] [--quick] [CASE...]
# Prints one line per assertion and ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
BUILD=build QUICK=0 cases=()
while [ $# -gt 0 ]; do
	case $1 in
	--build) BUILD=$2; shift 2 ;;
	--quick) QUICK=1; shift ;;
	*) cases+=("$1"); shift ;;
	esac
done
export BUILD QUICK TASKVMA="$PWD/$BUILD/taskvma"
export BUILD="$PWD/$BUILD"
[ ${#cases[@]} -gt 0 ] || cases=(tests/unit/*.c tests/cases/*.sh)
log=$(mktemp)
for c in "${cases[@]}"; do
	TMPD=$(mktemp -d); export TMPD
	echo "== $c"
	case $c in
	*.c) bin="$BUILD/tests/unit/$(basename "$c" .c)"
	     if [ -x "$bin" ]; then "$bin" 2>&1; else echo "FAIL $c: not built ($bin)"; fi ;;
	*.sh) bash "$c" 2>&1 ;;
	esac | tee -a "$log"
	rm -rf "$TMPD"
done
passed=$(grep -c '^PASS ' "$log")
failed=$(grep -c '^FAIL ' "$log")
rm -f "$log"
[ "$passed" -gt 0 ] || failed=$((failed + 1))
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
