#!/usr/bin/env bash
# `taskvma lookup PID ADDR...`: the /proc/PID/maps line of the mapping that
# contains each address, for every backend, against a scan of /proc's own
# text; first byte, last byte and middle of many mappings of the fixture,
# hex with and without 0x; unmapped addresses (0, a gap between mappings,
# the hole above user space) exit 1 with one "not mapped" line.
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
python3 - "$REF" >"$TMPD/addrs" <<'EOF'
import sys
ls = open(sys.argv[1], 'rb').read().splitlines()
vmas = []
for l in ls:
    s, e = l.split(b' ', 1)[0].split(b'-')
    name = l[73:] if len(l) > 73 else b''
    vmas.append((int(s, 16), int(e, 16), name))
def owner(a):
    for i, (s, e, _) in enumerate(vmas):
        if s <= a < e:
            return i + 1
    return 0
picks = set()
for i, (s, e, name) in enumerate(vmas):
    picks.update({s, e - 1, (s + e) // 2 & ~7})
out = []
for a in sorted(picks):
    out.append((a, owner(a)))
# unmapped: 0, page 1, a gap between two mappings, just below the first,
# the hole above user space, the last byte of the address space.
gaps = [vmas[i][1] for i in range(len(vmas) - 1) if vmas[i][1] < vmas[i + 1][0]]
for a in [0, 0x1000, vmas[0][0] - 1, gaps[0], gaps[len(gaps) // 2] + 0x10, 0x800000000000,
          0xffffffffffffffff]:
    out.append((a, owner(a)))
for a, o in out:
    print('%x %d' % (a, o))
EOF
check "lookup: oracle found mapped and unmapped addresses" \
	test "$(awk '$2 > 0' "$TMPD/addrs" | wc -l)" -gt 100 -a "$(awk '$2 == 0' "$TMPD/addrs" | wc -l)" -ge 5

# One batch per backend: every mapped address, one call each (with 0x for
# odd line numbers, without for even ones); all must match.
for b in bpf procmap procfs auto; do
	nok=0 nbad=0 first=
	while read -r a ln; do
		[ "$ln" -gt 0 ] || continue
		if [ $((ln % 2)) -eq 1 ]; then arg=0x$a; else arg=$a; fi
		want=$(sed -n "${ln}p" "$REF")
		got=$("$TASKVMA" lookup --backend="$b" "$M" "$arg" 2>&1); rc=$?
		if [ "$rc" -eq 0 ] && [ "$got" = "$want" ]; then
			nok=$((nok + 1))
		else
			nbad=$((nbad + 1))
			[ -n "$first" ] || first="lookup $arg: exit $rc, got [$got] want [$want]"
		fi
	done <"$TMPD/addrs"
	if [ "$nbad" -eq 0 ]; then pass "lookup --backend=$b: $nok addresses (first, last, middle byte of each mapping) give /proc's line"
	else fail "lookup --backend=$b: $nbad of $((nok + nbad)) addresses wrong" "$first"; fi
done

# Several addresses in one call: one line each, in order (bytes exact:
# compare files, the odd names included).
mapfile -t many < <(awk '$2 > 0 { print $1 }' "$TMPD/addrs" | shuf -n 40 --random-source=<(yes))
: >"$TMPD/want"
for a in "${many[@]}"; do
	ln=$(awk -v a="$a" '$1 == a { print $2 }' "$TMPD/addrs")
	sed -n "${ln}p" "$REF" >>"$TMPD/want"
done
for b in bpf procmap procfs; do
	"$TASKVMA" lookup --backend="$b" "$M" "${many[@]}" >"$TMPD/got" 2>"$TMPD/err"; rc=$?
	check_eq "lookup --backend=$b PID A1..A40: exit 0" 0 "$rc"
	check_files_eq "lookup --backend=$b PID A1..A40: the lines, in argument order" "$TMPD/want" "$TMPD/got"
done

# The odd names: the lines of the fixture's special mappings, byte for byte.
for name in "/memfd:tvtest (deleted)" "/dev/zero (deleted)" "$TMPD/d/new\\012line.dat" \
	"$TMPD/d/trailing space.dat " "$TMPD/d/deleted.dat (deleted)" "[heap]" "[stack]" "[vsyscall]"; do
	# (ENVIRON, not awk -v: -v would turn the \012 into a newline)
	line=$(grep -nF -- " $name" "$REF" | N=" $name" awk '{ n = ENVIRON["N"]; l = substr($0, index($0, ":") + 1); if (substr(l, length(l) - length(n) + 1) == n) { print substr($0, 1, index($0, ":") - 1); exit } }')
	if [ -z "$line" ]; then fail "lookup: fixture has [$name]" "not in /proc"; continue; fi
	start=$(sed -n "${line}p" "$REF" | cut -d- -f1)
	sed -n "${line}p" "$REF" >"$TMPD/want"
	"$TASKVMA" lookup "$M" "$start" >"$TMPD/got" 2>"$TMPD/err"
	check_files_eq "lookup: line of [$name] byte for byte" "$TMPD/want" "$TMPD/got"
done

# Unmapped addresses: exit 1, one line saying so, nothing on stdout.
for b in bpf procmap procfs auto; do
	while read -r a ln; do
		[ "$ln" -eq 0 ] || continue
		expect_fail "lookup --backend=$b 0x$a (unmapped): exit 1 'not mapped'" 1 'not mapped' \
			"$TASKVMA" lookup --backend="$b" "$M" "0x$a"
	done <"$TMPD/addrs"
done
expect_fail "lookup 0 without 0x: exit 1 'not mapped'" 1 'not mapped' "$TASKVMA" lookup "$M" 0

# Mapped then unmapped in one call: the mapped line printed, exit 1.
a1=$(awk '$2 > 0 { print $1; exit }' "$TMPD/addrs")
l1=$(awk '$2 > 0 { print $2; exit }' "$TMPD/addrs")
sed -n "${l1}p" "$REF" >"$TMPD/want"
"$TASKVMA" lookup "$M" "$a1" 0 >"$TMPD/got" 2>"$TMPD/err"; rc=$?
check_eq "lookup PID MAPPED UNMAPPED: exit 1" 1 "$rc"
check_files_eq "lookup PID MAPPED UNMAPPED: the mapped line on stdout" "$TMPD/want" "$TMPD/got"
check "lookup PID MAPPED UNMAPPED: one 'not mapped' line on stderr" \
	test "$(wc -l <"$TMPD/err")" -eq 1 -a -n "$(grep 'not mapped' "$TMPD/err")"

# JSON: the record is /proc's line.
heap=$(grep -n ' \[heap\]$' "$REF" | cut -d: -f1)
hs=$(sed -n "${heap}p" "$REF" | cut -d- -f1)
"$TASKVMA" lookup --json "$M" "0x$hs" >"$TMPD/j" 2>"$TMPD/err"
check "lookup --json: one record equal to /proc's [heap] line" python3 - "$TMPD/j" "$(sed -n "${heap}p" "$REF")" "$M" <<'EOF'
import json, sys
d = json.loads(open(sys.argv[1], 'rb').read().decode('utf-8'))
line, pid = sys.argv[2], int(sys.argv[3])
(m,) = d['mappings']
h = '%08x-%08x %s %08x %02x:%02x %d ' % (m['start'], m['end'], m['perms'], m['offset'],
                                        m['dev_major'], m['dev_minor'], m['inode'])
if m['name']:
    h = h.ljust(72) + ' ' + m['name']
assert h == line, (h, line)
assert m['pid'] == pid and m['kind'] == 'heap', m
assert d['errors'] == []
EOF
expect_fail "lookup: process that does not exist -> 3" 3 'no such process' \
	"$TASKVMA" lookup "$(($(cat /proc/sys/kernel/pid_max) + 1))" 1000
end_case
