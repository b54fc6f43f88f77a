#!/usr/bin/env bash
# Misleading errors: with a low descriptor limit the error names the real
# cause (EMFILE), never an empty process name.
# Runs on its own too: bash tests/cases/limits_signals.sh
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
trap_cleanup
[ -x "$TASKVMA" ] || { fail "limits_signals: $TASKVMA" "not built"; exit 0; }
private_copies mapper
start_mapper || { fail "limits_signals: start mapper" "no ready"; exit 0; }
M=$MAPPER_PID; KILL+=("$M")

# ulimit -n 4: stdin, stdout, stderr and one more: the maps file opens, the
# comm file cannot.  The process name must not come out empty.
for b in procmap procfs; do
	( ulimit -n 4; exec "$TASKVMA" --backend="$b" maps "$M" "$M" ) >"$TMPD/out" 2>"$TMPD/err"; rc=$?
	if [ "$rc" = 0 ]; then
		check_eq "maps --backend=$b, ulimit -n 4: exit 0 only with the real comm" "==> $M (mapper) <==" "$(head -n 1 "$TMPD/out")"
	else
		check "maps --backend=$b, ulimit -n 4: exit $rc names EMFILE" grep -q 'Too many open files' "$TMPD/err"
		check "maps --backend=$b, ulimit -n 4: no header with an empty name" test "$(grep -c '^==> [0-9]* () <==' "$TMPD/out")" = 0
	fi
done

# trace out of descriptors: the BPF loader then fails with EINVAL, which
# used to read "this kernel cannot run the trace programs ... needs 6.7+".
( ulimit -n 8; exec "$TASKVMA" trace --on exit --pid "$M" --duration 1 ) >"$TMPD/out" 2>"$TMPD/err"; rc=$?
if grep -q 'backend bpf unavailable\|needs root' "$TMPD/err"; then
	echo "SKIP trace, ulimit -n 8: BPF not usable here"
else
	check_eq "trace, ulimit -n 8: exit 1" 1 "$rc"
	check "trace, ulimit -n 8: says out of file descriptors, not an old kernel" \
		grep -q 'out of file descriptors' "$TMPD/err"
fi

end_case
