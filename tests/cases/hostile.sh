#!/usr/bin/env bash
# Processes that are awkward to read, each checked against the kernel's own
# /proc on every backend available here:
#  - a process name (comm) with a newline, ESC and a byte that is not UTF-8:
#    headers and scan lines escape it (\ooo, as /proc escapes names), JSON
#    stays strict (U+FFFD) and carries the exact bytes in "comm_hex";
#  - a process with no VMA at all (the kernel's proc-empty-vm case): its map
#    is the [vsyscall] line alone, exit 0, as /proc shows;
#  - a mapped file whose path is longer than PATH_MAX (4096): printed as /proc
#    prints it; scan sees the process;
#  - a process that exits while its 60,000-line map is read: exit 3, or 0
#    with the whole map; never a cut-short map with exit 0.
# Runs on its own too: bash tests/cases/hostile.sh
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
trap_cleanup
[ -x "$TASKVMA" ] || { fail "hostile: $TASKVMA" "not built"; exit 0; }
private_copies mapper hostile

usable_backends

# start_hostile OUTFILE ARGS...: sets HPID; waits for "ready".
start_hostile() {
	local out=$1; shift
	"$FX/hostile" -d "$TMPD" "$@" >"$out" & HPID=$!; KILL+=("$HPID")
	for _ in $(seq 200); do grep -q '^ready$' "$out" && return 0; sleep 0.05; done
	return 1
}

# ---- comm: "\n", ESC "[31m", 0xff ----------------------------------------------
COMM_HEX=0a1b5b33316dff
start_hostile "$TMPD/h1" -c "$COMM_HEX" -x || { fail "hostile: start -c" "$(cat "$TMPD/h1")"; }
H=$HPID
# the escaped form, computed here from the bytes (/proc's octal escapes)
want_comm='\012\033[31m\377'
check_eq "the fixture's comm is the hostile bytes (oracle: /proc/PID/comm)" "$COMM_HEX"0a \
	"$(od -An -tx1 "/proc/$H/comm" | tr -d ' \n')"
for b in $BACKENDS; do
	out=$("$TASKVMA" --backend="$b" maps "$H" $$ 2>"$TMPD/err")
	check_eq "maps --backend=$b, two pids: the header escapes comm" "==> $H ($want_comm) <==" \
		"$(printf '%s\n' "$out" | head -n 1)"
	check_eq "maps --backend=$b, two pids: one header line per process (no forged lines)" 2 \
		"$(printf '%s\n' "$out" | grep -c '^==> ')"
	out=$("$TASKVMA" --backend="$b" scan "$H" 2>"$TMPD/err")
	check_eq "scan --backend=$b: the finding line escapes comm" "$H ($want_comm) anon-exec" \
		"$(printf '%s\n' "$out" | cut -d' ' -f1-3)"
	for cmd in "maps --json $H" "scan --json $H"; do
		j=$TMPD/j.$b.${cmd%% *}
		# shellcheck disable=SC2086
		"$TASKVMA" --backend="$b" $cmd >"$j" 2>"$TMPD/err"
		ocheck "$cmd --backend=$b: strict UTF-8 JSON, comm U+FFFD, comm_hex the exact bytes" \
			hostile-comm-json "$j" "$COMM_HEX"
	done
done
ocheck_run
kill "$H"

# ---- a mapping name that is not UTF-8, in every JSON writer -----------------------
# A memfd named 0xff 'A' '"' '\' 0x01, mapped r-x (a memfd-exec finding).  The
# sizing call of the JSON formatter once looped forever on such a name
# (watch --json, scan --json hung); each command runs under a timeout, and
# its name_hex must be the bytes /proc prints for the mapping.
start_hostile "$TMPD/h4" -m ff41225c01 || fail "hostile: start -m" "$(cat "$TMPD/h4")"
M=$HPID
mf_hex=$(grep -a '/memfd:' "/proc/$M/maps" | sed 's|^[^/]*||' | tr -d '\n' | od -An -tx1 | tr -d ' \n')
check "memfd: /proc names it /memfd:<bytes> (deleted) (oracle sanity)" \
	test "$mf_hex" = "$(printf '/memfd:\377A"\\\001 (deleted)' | od -An -tx1 | tr -d ' \n')"
mf_addr=$(grep -a '/memfd:' "/proc/$M/maps" | cut -d- -f1)
for b in $BACKENDS; do
	for cmd in "scan --json $M" "maps --json $M" "watch --json --duration=1ms $M" "lookup --json $M 0x$mf_addr"; do
		j=$TMPD/m.$b.${cmd%% *}
		# shellcheck disable=SC2086
		timeout -s KILL 20 "$TASKVMA" --backend="$b" $cmd >"$j" 2>"$TMPD/err"
		rc=$?
		out=$(python3 - "$j" "$mf_hex" 2>&1 <<'PYEOF'
import json, sys
text = open(sys.argv[1], 'rb').read().decode('utf-8')   # strict UTF-8
docs = [json.loads(l) for l in text.splitlines() if l.strip()] if '"schema":"taskvma.watch/' in text else [json.loads(text)]
def walk(o):
    if isinstance(o, dict):
        if 'name_hex' in o and o.get('name', '').startswith('/memfd:'):
            yield o
        for v in o.values():
            yield from walk(v)
    elif isinstance(o, list):
        for v in o:
            yield from walk(v)
found = [m for d in docs for m in walk(d)]
assert found, 'no memfd mapping with name_hex'
assert all(m['name_hex'] == sys.argv[2] for m in found), found[0]['name_hex']
assert all(m['name'] == '/memfd:\ufffdA"\\\u0001 (deleted)' for m in found), found[0]['name']
print(len(found))
PYEOF
)
		check_eq "$cmd --backend=$b: ends, exit 0, name U+FFFD-escaped, name_hex the bytes /proc prints" \
			"0:ok" "$rc:$( [[ $out =~ ^[0-9]+$ ]] && echo ok || echo "$out" | tail -n 1)"
	done
done
kill "$M"

# ---- no VMA at all ------------------------------------------------------------
start_hostile "$TMPD/h2" -e || fail "hostile: start -e" "$(cat "$TMPD/h2")"
E=$(sed -n 's/^child //p' "$TMPD/h2")
cat "/proc/$E/maps" >"$TMPD/empty.proc"
check "empty address space: /proc shows at most the [vsyscall] line (oracle sanity)" \
	test "$(grep -vc vsyscall "$TMPD/empty.proc")" -eq 0
for b in $BACKENDS; do
	"$TASKVMA" --backend="$b" maps -q "$E" >"$TMPD/empty.got" 2>"$TMPD/err"
	check_eq "maps --backend=$b of a process with no VMA: exit 0, no error" "0:" "$?:$(cat "$TMPD/err")"
	check_files_eq "maps --backend=$b of a process with no VMA: equals /proc" "$TMPD/empty.proc" "$TMPD/empty.got"
done
kill "$HPID"

# ---- a path longer than PATH_MAX --------------------------------------------------
start_hostile "$TMPD/h3" -l -x || fail "hostile: start -l" "$(cat "$TMPD/h3")"
L=$HPID
cat "/proc/$L/maps" >"$TMPD/long.proc"
check "long path: /proc prints a name longer than 4096 bytes (oracle sanity)" \
	test "$(awk '{ if (length($0) > m) m = length($0) } END { print m }' "$TMPD/long.proc")" -gt 4096
for b in $BACKENDS; do
	"$TASKVMA" --backend="$b" maps -q "$L" >"$TMPD/long.got" 2>"$TMPD/err"
	check_eq "maps --backend=$b, a path longer than PATH_MAX: exit 0" "0:" "$?:$(cat "$TMPD/err")"
	check_files_eq "maps --backend=$b, a path longer than PATH_MAX: equals /proc" "$TMPD/long.proc" "$TMPD/long.got"
	# watch's snapshot ("= LINE") too: the mirror holds names of any length
	timeout -s KILL 20 "$TASKVMA" --backend="$b" watch --duration=1ms "$L" >"$TMPD/watch.got" 2>"$TMPD/err"
	rc=$?
	sed -n 's/^= //p' "$TMPD/watch.got" >"$TMPD/watch.lines"
	check_eq "watch --backend=$b, a path longer than PATH_MAX: exit 0" "0:" "$rc:$(grep -v '^taskvma: watching' "$TMPD/err")"
	check_files_eq "watch --backend=$b, a path longer than PATH_MAX: the snapshot equals /proc" \
		"$TMPD/long.proc" "$TMPD/watch.lines"
	"$TASKVMA" --backend="$b" scan "$L" >"$TMPD/scan.got" 2>"$TMPD/err"
	check_eq "scan --backend=$b of that process: exit 0, 1 process, its finding" \
		"0:taskvma: scanned 1 process: 1 finding:1" \
		"$?:$(cat "$TMPD/err"):$(grep -c "^$L (hostile) anon-exec" "$TMPD/scan.got")"
done
# every BPF engine variant this kernel loads (docs/design.md, "Engine variants")
for v in dpath walk user; do
	TASKVMA_BPF_NAMES=$v "$TASKVMA" --backend=bpf maps $$ >/dev/null 2>&1 || continue
	TASKVMA_BPF_NAMES=$v "$TASKVMA" --backend=bpf maps "$L" >"$TMPD/long.got" 2>"$TMPD/err"
	check_eq "maps --backend=bpf, variant $v, a path longer than PATH_MAX: exit 0" "0:" "$?:$(cat "$TMPD/err")"
	check_files_eq "maps --backend=bpf, variant $v, a path longer than PATH_MAX: equals /proc" "$TMPD/long.proc" "$TMPD/long.got"
done
kill "$L"

# ---- exit during a text read (procfs; auto's fallback on kernels before 6.11) --------
# 60,000 mappings; killed after a random delay while taskvma reads them.
# Oracle: the map as /proc showed it before the kill.  Exit 0 must come with
# the whole map, else exit 3 (or 5: seen without an address space).
if [ "$QUICK" = 1 ]; then rounds=3; else rounds=8; fi
for b in $BACKENDS; do
	bad=0 full=0 gone=0
	for i in $(seq "$rounds"); do
		start_mapper -n 60000 || { fail "hostile: start mapper -n 60000" ""; break; }
		cat "/proc/$MAPPER_PID/maps" >"$TMPD/big.proc"
		"$TASKVMA" --backend="$b" maps "$MAPPER_PID" >"$TMPD/big.got" 2>"$TMPD/err" & R=$!
		sleep "0.0$((RANDOM % 9 + 1))"
		kill -KILL "$MAPPER_PID"; wait "$MAPPER_PID" 2>/dev/null; MAPPER_PID=
		wait "$R"; rc=$?
		if [ "$rc" = 0 ] && cmp -s "$TMPD/big.proc" "$TMPD/big.got"; then full=$((full + 1))
		elif [ "$rc" = 3 ] || [ "$rc" = 5 ]; then [ -s "$TMPD/big.got" ] && bad=$((bad + 1)); gone=$((gone + 1))
		else bad=$((bad + 1)); echo "round $i: exit $rc, $(wc -l <"$TMPD/big.got") of $(wc -l <"$TMPD/big.proc") lines: $(cat "$TMPD/err")"
		fi
	done
	check_eq "maps --backend=$b of a process killed mid-read: never a cut-short map with exit 0 ($full whole, $gone exit 3/5)" 0 "$bad"
done
end_case
