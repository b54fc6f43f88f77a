#!/usr/bin/env bash
# `taskvma lookup PID ADDR...`: for each address, in input order, the
# address, its offset in the file and /proc/PID/maps's line of the mapping
# that holds it, for every backend, against a scan of /proc's own text:
# first byte, last byte and middle of many mappings of the fixture, and
# unmapped addresses (0, a gap between mappings, the hole above user space)
# answered "not mapped" in band; from arguments (0x) and stdin (--hex);
# malformed and decimal-looking input refused in band (exit 2).
# Runs on its own too: bash tests/cases/lookup.sh
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
cleanup() { stop_mapper; [ -n "$OWN_TMPD" ] && rm -rf "$TMPD"; }
trap cleanup EXIT
trap 'exit 1' INT TERM
[ -x "$TASKVMA" ] || { fail "lookup: $TASKVMA" "not built"; exit 0; }

private_copies mapper

mkdir -p "$TMPD/d"
start_mapper -d "$TMPD/d" || { fail "lookup: start mapper" "no ready"; exit 0; }
M=$MAPPER_PID
REF=$TMPD/ref
cat "/proc/$M/maps" >"$REF"

# Addresses to look up, and the /proc line that holds each (python scan of
# the kernel's text): "ADDR LINENO" per line; LINENO 0 = not mapped.
python3 "$ROOT/tests/oracle.py" lookup-addrs "$REF" >"$TMPD/addrs"
check "lookup: oracle found mapped and unmapped addresses" \
	test "$(awk '$2 > 0' "$TMPD/addrs" | wc -l)" -gt 100 -a "$(awk '$2 == 0' "$TMPD/addrs" | wc -l)" -ge 5

# Expected output of one batch of every picked address (mapped and not),
# in a shuffled order: "0xADDR OFFSET LINE" (build ID column left out,
# checked in build_id.sh) or "0xADDR not mapped"; OFFSET = addr - start +
# offset for file mappings (inode != 0, not shared anonymous memory), else "-".
python3 "$ROOT/tests/oracle.py" lookup-batch "$REF" "$TMPD/addrs" "$TMPD/batch" "$TMPD/batch.want"
sed 's/^/0x/' "$TMPD/batch" >"$TMPD/batch0x"
nobid() { sed -E 's/^(\S+ \S+) \S+ /\1 /' "$@"; }
for b in bpf procmap procfs auto; do
	mapfile -t args <"$TMPD/batch0x"
	"$TASKVMA" lookup --backend="$b" "$M" "${args[@]}" >"$TMPD/got.$b" 2>"$TMPD/err"; rc=$?
	check_eq "lookup --backend=$b PID (${#args[@]} addresses, 0x, shuffled): exit 1 (some unmapped)" 1 "$rc"
	nobid "$TMPD/got.$b" >"$TMPD/got"
	check_files_eq "lookup --backend=$b: address, file offset, /proc's line or 'not mapped', in input order" \
		"$TMPD/batch.want" "$TMPD/got"
	"$TASKVMA" lookup --backend="$b" --hex "$M" <"$TMPD/batch" >"$TMPD/got.stdin" 2>"$TMPD/err"; rc=$?
	check_eq "lookup --backend=$b --hex PID < bare hex lines: exit 1" 1 "$rc"
	check_files_eq "lookup --backend=$b --hex from stdin: same records as from arguments" \
		"$TMPD/got.$b" "$TMPD/got.stdin"
done
# Every backend answers the same, build IDs included.
for b in procfs bpf; do
	[ -s "$TMPD/got.$b" ] || continue
	check_files_eq "lookup: --backend=$b and procmap answer the same (build IDs too)" \
		"$TMPD/got.procmap" "$TMPD/got.$b"
done

# The odd names: the lines of the fixture's special mappings, byte for byte.
for name in "/memfd:tvtest (deleted)" "/dev/zero (deleted)" "$TMPD/d/new\\012line.dat" \
	"$TMPD/d/trailing space.dat " "$TMPD/d/deleted.dat (deleted)" "[heap]" "[stack]" "[vsyscall]"; do
	# (ENVIRON, not awk -v: -v would turn the \012 into a newline)
	line=$(grep -nF -- " $name" "$REF" | N=" $name" awk '{ n = ENVIRON["N"]; l = substr($0, index($0, ":") + 1); if (substr(l, length(l) - length(n) + 1) == n) { print substr($0, 1, index($0, ":") - 1); exit } }')
	if [ -z "$line" ]; then fail "lookup: fixture has [$name]" "not in /proc"; continue; fi
	start=$(sed -n "${line}p" "$REF" | cut -d- -f1)
	sed -n "${line}p" "$REF" >"$TMPD/want"
	"$TASKVMA" lookup "$M" "0x$start" >"$TMPD/got" 2>"$TMPD/err"
	cut -d' ' -f4- "$TMPD/got" >"$TMPD/got.line"
	check_files_eq "lookup: line of [$name] byte for byte" "$TMPD/want" "$TMPD/got.line"
done

# Unmapped addresses: exit 1, "0xADDR not mapped" in band, nothing on stderr.
for b in procmap procfs; do
	while read -r a ln; do
		[ "$ln" -eq 0 ] || continue
		out=$("$TASKVMA" lookup --backend="$b" "$M" "0x$a" 2>"$TMPD/err"); rc=$?
		check "lookup --backend=$b 0x$a (unmapped): exit 1, 'not mapped' on stdout, no stderr" \
			test "$rc" -eq 1 -a "$out" = "0x$(printf %x "0x$a") not mapped" -a ! -s "$TMPD/err"
	done <"$TMPD/addrs"
done

# Addresses are 0x hex; bare hex only with --hex; decimal never (refused in
# band, the others still answered, exit 2).
a1=$(awk '$2 > 0 { print $1; exit }' "$TMPD/addrs")
l1=$(awk '$2 > 0 { print $2; exit }' "$TMPD/addrs")
"$TASKVMA" lookup "$M" 4096 "0x$a1" "$a1" 0 "" 0xg1 0x12345678901234567 >"$TMPD/got" 2>"$TMPD/err"; rc=$?
check_eq "lookup PID 4096 0xMAPPED bare 0 '' 0xg1 0x(17 digits): exit 2" 2 "$rc"
printf '%s\n' "4096 malformed:bad-address" "0x$(printf %x "0x$a1") X $(sed -n "${l1}p" "$REF")" \
	"$a1 malformed:bad-address" "0 malformed:bad-address" "- malformed:empty-line" \
	"0xg1 malformed:bad-address" "0x12345678901234567 malformed:bad-address" >"$TMPD/want"
sed -E '2s/^(\S+) \S+ \S+ /\1 X /' "$TMPD/got" >"$TMPD/got2"
check_files_eq "lookup: malformed addresses answered in band, in order, the mapped one answered" \
	"$TMPD/want" "$TMPD/got2"
check "lookup: malformed addresses: nothing on stderr" test ! -s "$TMPD/err"

# JSON: an address field, the file offset, the mapping (/proc's line).
heap=$(grep -n ' \[heap\]$' "$REF" | cut -d: -f1)
hs=$(sed -n "${heap}p" "$REF" | cut -d- -f1)
"$TASKVMA" lookup --json "$M" "0x$hs" 0x10 bad >"$TMPD/j" 2>"$TMPD/err"
check "lookup --json: address fields, [heap] equal to /proc's line, not mapped, malformed" \
	python3 "$ROOT/tests/oracle.py" lookup-json "$TMPD/j" "$(sed -n "${heap}p" "$REF")" "$hs"
expect_fail "lookup: process that does not exist -> 3" 3 'no such process' \
	"$TASKVMA" lookup "$(($(cat /proc/sys/kernel/pid_max) + 1))" 0x1000
end_case
