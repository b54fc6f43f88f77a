#!/usr/bin/env bash
# `taskvma normalize`: 'PID ADDR' lines of several processes, interleaved and
# shuffled, answered one record per line in input order, against an oracle
# built from each process's /proc/PID/maps (status, range, perms, name, file
# offset) and `readelf -n` of /proc/PID/map_files/RANGE (build ID); the same
# records from every backend; --json lines with the OpenTelemetry Mapping
# names equal to the text records; bad input (empty line, line without
# PID, bad PID, decimal or malformed address, extra fields, a PID that does
# not exist, one that exited, a kernel thread) answered in band, exit 2.
# Runs on its own too: bash tests/cases/normalize.sh
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
cleanup() { stop_mapper; [ -n "${SP:-}" ] && kill "$SP" 2>/dev/null; [ -n "$OWN_TMPD" ] && rm -rf "$TMPD"; }
trap cleanup EXIT
trap 'exit 1' INT TERM
[ -x "$TASKVMA" ] || { fail "normalize: $TASKVMA" "not built"; end_case; exit 0; }

private_copies mapper
mkdir -p "$TMPD/d"
start_mapper -d "$TMPD/d" || { fail "normalize: start mapper" "no ready"; end_case; exit 0; }
M=$MAPPER_PID
sleep 3600 &
SP=$!
sleep 0.1
# a process that has exited, and one that never existed
true & GONE=$!; wait "$GONE"
NOPID=$(($(cat /proc/sys/kernel/pid_max) + 1))
KT=$(pgrep -x kthreadd | head -1)

# Input and expected records.  The oracle reads /proc itself.
python3 "$ROOT/tests/oracle.py" normalize-records "$M" "$SP" "$GONE" "$NOPID" "${KT:-2}" "$TMPD/in" "$TMPD/want"
check "normalize: oracle made $(wc -l <"$TMPD/in" 2>/dev/null) lines" test -s "$TMPD/in"
for b in procmap procfs bpf; do
	"$TASKVMA" normalize --backend=$b <"$TMPD/in" >"$TMPD/got.$b" 2>"$TMPD/err.$b"; rc=$?
	if [ $b = bpf ] && [ "$rc" -eq 7 ]; then continue; fi	# the BPF backend does not load here (yet)
	check_eq "normalize --backend=$b: exit 2 (malformed lines among them)" 2 "$rc"
	check_files_eq "normalize --backend=$b: one record per line, in order, = /proc + readelf" \
		"$TMPD/want" "$TMPD/got.$b"
	check "normalize --backend=$b: nothing on stderr" test ! -s "$TMPD/err.$b"
done

# Many processes in one batch (the BPF backend answers them in one kernel
# pass over every process): every backend answers the same as procmap.
MANY=()
for i in $(seq 12); do sleep 3600 & MANY+=($!); done
sleep 0.2
for p in "${MANY[@]}" "$M"; do
	awk -v p="$p" '{ split($1, r, "-"); print p " 0x" r[1]; print p " 0x" r[2] }' "/proc/$p/maps"
	echo "$p 0x10"
done | shuf --random-source=<(yes) >"$TMPD/many.in"
"$TASKVMA" normalize --backend=procmap <"$TMPD/many.in" >"$TMPD/many.procmap" 2>&1
for b in procfs bpf auto; do
	"$TASKVMA" normalize --backend=$b <"$TMPD/many.in" >"$TMPD/many.$b" 2>&1; rc=$?
	if [ $b = bpf ] && [ "$rc" -eq 7 ]; then continue; fi	# the BPF backend does not load here
	check_files_eq "normalize --backend=$b: $(wc -l <"$TMPD/many.in") lines of 13 processes = procmap's answers" \
		"$TMPD/many.procmap" "$TMPD/many.$b"
done
# one of them exits: its lines say process-gone, the others are answered
kill "${MANY[0]}"; wait "${MANY[0]}" 2>/dev/null
for b in procmap bpf; do
	"$TASKVMA" normalize --backend=$b <"$TMPD/many.in" >"$TMPD/many2.$b" 2>&1; rc=$?
	if [ $b = bpf ] && [ "$rc" -eq 7 ]; then continue; fi
	check "normalize --backend=$b: an exited process's lines say process-gone, the rest as before" \
		python3 "$ROOT/tests/oracle.py" normalize-gone "$TMPD/many.procmap" "$TMPD/many2.$b" "${MANY[0]}"
done
kill "${MANY[@]}" 2>/dev/null

# JSON lines: the same answers under OpenTelemetry Mapping names.
"$TASKVMA" normalize --json <"$TMPD/in" >"$TMPD/j" 2>"$TMPD/err"
check "normalize --json: each line is the text record's answer (memory_start, memory_limit, file_offset, filename, build ID attribute)" \
	python3 "$ROOT/tests/oracle.py" normalize-json "$TMPD/j" "$TMPD/got.procmap"

# Exit codes: all normalized -> 0; a record not normalized -> 1.
lib=$(awk '$6 ~ /libc/ && $2 ~ /x/ { split($1, r, "-"); print r[1]; exit }' "/proc/$SP/maps")
echo "$SP 0x$lib" | "$TASKVMA" normalize >/dev/null 2>&1
check_eq "normalize: every line in a file mapping -> exit 0" 0 $?
printf '%s\n' "$SP 0x$lib" "$SP 0x10" | "$TASKVMA" normalize >/dev/null 2>&1
check_eq "normalize: a line not mapped -> exit 1" 1 $?
expect_fail "normalize: an operand -> 2" 2 'standard input' "$TASKVMA" normalize "$SP"
end_case
