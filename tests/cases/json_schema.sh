#!/usr/bin/env bash
# JSON for machines: every command's --json output (maps, scan, lookup,
# normalize, watch, trace, features) validates against the JSON Schema kept
# in the repository (schemas/taskvma.schema.json, with python3-jsonschema),
# carries "schema", gives every *_hex string equal to the number beside it,
# and its addresses agree with the kernel's /proc/PID/maps text; "processes"
# has one type (an array of the same entries) in maps and scan; streamed
# records carry a timestamp.
# Runs on its own too: bash tests/cases/json_schema.sh
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
SP=
cleanup() { stop_mapper; [ -n "$SP" ] && kill "$SP" 2>/dev/null; [ -n "$OWN_TMPD" ] && rm -rf "$TMPD"; }
trap cleanup EXIT
trap 'exit 1' INT TERM
T=$TASKVMA
SCHEMA=$ROOT/schemas/taskvma.schema.json
python3 -c 'import jsonschema' 2>/dev/null || { fail "json: python3 jsonschema" "not installed (scripts/setup.sh)"; end_case; exit 0; }
private_copies mapper
mkdir -p "$TMPD/d"
start_mapper -d "$TMPD/d" || { fail "json: mapper" "no ready"; end_case; exit 0; }
M=$MAPPER_PID
cat "/proc/$M/maps" >"$TMPD/ref"
A=0x$(sed -n 3p "$TMPD/ref" | cut -d- -f1)

# validate FILE KIND NAME: each document (KIND=doc) or line (KIND=lines)
validate() {
	python3 "$ROOT/tests/oracle.py" schema-valid "$SCHEMA" "$1" "$2" "$TMPD/ref"
}
check_json() {	# NAME KIND FILE
	local out
	if out=$(validate "$3" "$2" 2>&1); then pass "$1: valid against the schema, *_hex = numbers ($out)"
	else fail "$1" "$(printf '%s' "$out" | tail -n 2 | tr '\n' ' ')"; fi
}

for b in procfs procmap; do
	"$T" --backend=$b maps --json "$M" >"$TMPD/maps.$b" 2>/dev/null
	check_json "maps --json --backend=$b" doc "$TMPD/maps.$b"
	check_eq "maps --json --backend=$b: start_hex = /proc's starts" \
		"$(cut -d- -f1 "$TMPD/ref" | sed 's/^0*//' | tr '\n' ' ')" \
		"$(python3 "$ROOT/tests/oracle.py" json-start-hex "$TMPD/maps.$b")"
done
check "maps --json: the [vsyscall] start as a hex string is exact" \
	python3 "$ROOT/tests/oracle.py" schema-vsyscall-hex "$TMPD/maps.procfs"
"$T" --backend=procfs scan --json -p "$M" >"$TMPD/scan" 2>/dev/null
check_json "scan --json" doc "$TMPD/scan"
check_eq "processes: an array in maps and in scan, same entry keys" "list list True" \
	"$(python3 "$ROOT/tests/oracle.py" json-process-keys "$TMPD/maps.procfs" "$TMPD/scan")"
"$T" --backend=procfs lookup --json "$M" "$A" >"$TMPD/lookup" 2>/dev/null
check_json "lookup --json" doc "$TMPD/lookup"
printf '%s %s\n' "$M" "$A" | "$T" --backend=procfs normalize --json >"$TMPD/norm" 2>/dev/null
check_json "normalize --json (JSON lines)" lines "$TMPD/norm"
"$T" features --quick --json >"$TMPD/feat" 2>/dev/null
check_json "features --json" doc "$TMPD/feat"
timeout 20 "$T" --backend=procfs watch --json -d 300ms "$M" >"$TMPD/watch" 2>/dev/null
check_json "watch --json (JSON lines, each with ts)" lines "$TMPD/watch"
# trace: needs root and BPF; the capture of a sleep's exit
if [ "$(id -u)" = 0 ]; then
	sleep 60 & SP=$!
	"$T" trace --json --on exit -p "$SP" -n 1 >"$TMPD/trace" 2>"$TMPD/trace.err" &
	TP=$!
	for _ in $(seq 100); do grep -q '^taskvma: tracing' "$TMPD/trace.err" && break; sleep 0.1; done
	kill "$SP"; wait "$SP" 2>/dev/null; SP=
	timeout 20 tail --pid="$TP" -f /dev/null
	wait "$TP"
	if [ -s "$TMPD/trace" ]; then
		check_json "trace --json (JSON lines, each with time)" lines "$TMPD/trace"
	else
		echo "# json: trace not available here: $(head -c 200 "$TMPD/trace.err")"
	fi
fi
end_case
