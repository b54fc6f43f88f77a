#!/usr/bin/env bash
# run.sh: long (one of the two longest cases: started first)
# `taskvma maps` against the kernel's own /proc/PID/maps, for every backend:
# the mapper fixture (known odd mappings), multi-threaded, several PIDs,
# --all, filters, JSON records (identical across backends and equal to
# /proc), 12,000 VMAs, a process at vm.max_map_count (65,530), and an
# overlayfs file whose maps line is longer than the padding column.
# (1,000,000 VMAs: tests/long/million_vmas.sh, make test-long.)
# Runs on its own too: bash tests/cases/maps_backends.sh
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
BACKENDS="bpf procmap procfs auto"
MAPPER=$BUILD/tests/fixtures/mapper
PIDS_TO_KILL=()

cleanup() {
	for p in "${PIDS_TO_KILL[@]}" ${MAPPER_PID:-}; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	restore_max_map
	[ -n "$OWN_TMPD" ] && rm -rf "$TMPD"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

[ -x "$TASKVMA" ] || { fail "maps_backends: $TASKVMA" "not built"; exit 0; }
[ -x "$MAPPER" ] || { fail "maps_backends: $MAPPER" "not built"; exit 0; }

private_copies mapper

# ---- helpers ---------------------------------------------------------------
PY=$ROOT/tests/oracle.py
py() { python3 "$PY" "$@"; }

# ---- the fixture: known mappings, every backend ----------------------------
D=$TMPD/mapdir
mkdir -p "$D"
start_mapper -d "$D" || { fail "maps_backends: start mapper" "no ready"; exit 0; }
M=$MAPPER_PID
PIDS_TO_KILL+=("$M")
cat "/proc/$M/maps" >"$TMPD/fixture.ref"
ocheck "fixture: /proc shows the mapper's known mappings" check-fixture "$TMPD/fixture.ref" "$D"

for b in $BACKENDS; do
	run_cmp "maps --backend=$b: mapper equals /proc byte for byte" "$M" --backend="$b"
done
run_cmp "maps (default backend): mapper equals /proc" "$M"
run_cmp "maps: own shell equals /proc" $$

# JSON: the same records from every backend, and they are /proc's lines.
for b in $BACKENDS; do
	if "$TASKVMA" maps --json --backend="$b" "$M" >"$TMPD/j.$b" 2>"$TMPD/err"; then
		ocheck "maps --json --backend=$b: strict JSON whose records are /proc's lines" \
			json-proc "$TMPD/j.$b" "$TMPD/fixture.ref" "$M" mapper "$b"
	else
		fail "maps --json --backend=$b" "exit $?: $(head -c 300 "$TMPD/err")"
	fi
done
ocheck "maps --json: identical mappings arrays from bpf, procmap, procfs" \
	json-same "$TMPD/j.bpf" "$TMPD/j.procmap" "$TMPD/j.procfs"
ocheck_run

# ---- filters: same selection as filtering /proc's lines ----------------------
memfd=$(py find "$TMPD/fixture.ref" "/memfd:tvtest (deleted)")
read -r mf_start mf_end <<<"$memfd"
# LO inside the memfd mapping; HI = the start of a mapping further up: that
# one is excluded, [LO, HI) overlaps are kept.
vdso=$(py find "$TMPD/fixture.ref" "[vdso]")
read -r vdso_start vdso_end <<<"$vdso"
lo=$(printf '%x' $((0x$mf_start + 0x800)))
hi=$vdso_start
# Each entry: filters separated by ';' (oracle names; the CLI gets --NAME).
filters=(
	"perms=??x?"
	"perms=rw-p"
	"perms=---p"
	"perms=???s"
	"perms=r?-?"
	"file"
	"anon"
	"range=$lo-$hi"
	"range=0-ffffffffffffffff"
	"range=$vdso_start-$(printf '%x' $((0x$vdso_start + 1)))"
	"name=*.dat*"
	"name=/memfd:*"
	"name=[[]*"
	"name=*space  s.dat"
	"name=*space.dat "
	"perms=r--p;file;name=$D/*"
	"anon;perms=rw-?"
)
# the oracle's answer for each filter, once (it does not depend on the
# backend), all from one python start
py filter-each "$TMPD/fixture.ref" "$TMPD/want" "${filters[@]}" 2>"$TMPD/pyerr"
for k in "${!filters[@]}"; do
	wantn[k]=$(wc -l <"$TMPD/want.$k" 2>/dev/null || echo 0)
done
for b in bpf procmap procfs; do
	for k in "${!filters[@]}"; do
		f=${filters[k]}
		IFS=';' read -r -a want_args <<<"$f"
		args=()
		for o in "${want_args[@]}"; do args+=("--$o"); done
		if [ ! -s "$TMPD/want.$k" ]; then fail "filter $f: oracle selected nothing" "$(cat "$TMPD/pyerr")"; continue; fi
		"$TASKVMA" maps --backend="$b" "${args[@]}" "$M" >"$TMPD/got" 2>"$TMPD/err"
		rc=$?
		if [ "$rc" -ne 0 ]; then fail "maps --backend=$b ${args[*]}" "exit $rc: $(head -c 300 "$TMPD/err")"; continue; fi
		check_files_eq "maps --backend=$b ${args[*]}: the /proc lines that match (${wantn[k]})" "$TMPD/want.$k" "$TMPD/got"
	done
done

# ---- several PIDs: a block per PID, in the order given ------------------------
MAPPER_PID=
start_mapper -d "$D" -n 7 -t || fail "start second mapper" ""
M2=$MAPPER_PID; MAPPER_PID=
PIDS_TO_KILL+=("$M2")
check "fixture: second mapper is multi-threaded" test "$(ls /proc/"$M2"/task | wc -l)" -eq 2
for b in bpf procmap procfs; do
	run_cmp "maps --backend=$b: multi-threaded process equals /proc" "$M2" --backend="$b"
done
for b in bpf procmap procfs; do
	a=$M c=$M2
	# the order on the command line is the order of the blocks
	for order in "$a $c" "$c $a"; do
		set -- $order
		{
			printf '==> %s (%s) <==\n' "$1" "$(cat /proc/"$1"/comm)"; cat "/proc/$1/maps"; echo
			printf '==> %s (%s) <==\n' "$2" "$(cat /proc/"$2"/comm)"; cat "/proc/$2/maps"
		} >"$TMPD/want"
		"$TASKVMA" maps --backend="$b" "$1" "$2" >"$TMPD/got" 2>"$TMPD/err"
		rc=$?
		if [ "$rc" -ne 0 ]; then fail "maps --backend=$b $1 $2" "exit $rc: $(head -c 300 "$TMPD/err")"; continue; fi
		check_files_eq "maps --backend=$b PID1 PID2: headed blocks equal /proc, blank line between" "$TMPD/want" "$TMPD/got"
	done
done
"$TASKVMA" maps --json "$M" "$M2" >"$TMPD/j2" 2>"$TMPD/err"
check "maps --json PID1 PID2: both processes listed, all records" \
	python3 "$ROOT/tests/oracle.py" maps-two-pids "$TMPD/j2" "$M" "$M2"

# ---- --all --------------------------------------------------------------------
for b in bpf procmap procfs auto; do
	"$TASKVMA" maps --all --backend="$b" >"$TMPD/all" 2>"$TMPD/err"
	rc=$?
	[ "$rc" -eq 0 ] || echo "#   stderr: $(head -c 400 "$TMPD/err" | tr '\n' ' ')"
	cat "/proc/$M/maps" >"$TMPD/m.ref"
	cat "/proc/$M2/maps" >"$TMPD/m2.ref"
	# 0, or 6 when some other process's map kept changing (a benchmark
	# may be building one right now): then stderr must say so, for other
	# processes only.
	if [ "$rc" -eq 0 ] || { [ "$rc" -eq 6 ] && grep -qi 'chang' "$TMPD/err" &&
		! grep -Eq "pid ($M|$M2)[^0-9]" "$TMPD/err"; }; then
		pass "maps --all --backend=$b: exit $rc"
	else
		fail "maps --all --backend=$b: exit 0" "exit $rc: $(head -c 300 "$TMPD/err")"
	fi
	if n=$(py blocks "$TMPD/all" "$M" "$TMPD/m.got" "$M2" "$TMPD/m2.got" 2>&1); then
		pass "maps --all --backend=$b: $n well-formed blocks, each pid once"
		check_files_eq "maps --all --backend=$b: mapper block equals /proc" "$TMPD/m.ref" "$TMPD/m.got"
		check_files_eq "maps --all --backend=$b: threaded mapper block equals /proc" "$TMPD/m2.ref" "$TMPD/m2.got"
		check "maps --all --backend=$b: has a block for this shell" grep -q "^==> $$ (" "$TMPD/all"
		check "maps --all --backend=$b: no kernel thread (kthreadd)" bash -c "! grep -q '^==> 2 (' '$TMPD/all'"
	else
		fail "maps --all --backend=$b: well-formed" "$n"
	fi
done
"$TASKVMA" maps --all --perms=??x? --file >"$TMPD/allx" 2>/dev/null
py blocks "$TMPD/allx" "$M" "$TMPD/mx.got" >/dev/null 2>&1
py filter "$TMPD/m.ref" "perms=??x?" file >"$TMPD/mx.want"
check_files_eq "maps --all --perms=??x? --file: mapper block is its filtered /proc" "$TMPD/mx.want" "$TMPD/mx.got"
"$TASKVMA" maps --all --json >"$TMPD/allj" 2>/dev/null
check "maps --all --json: strict JSON, mapper complete with /proc's count" \
	python3 "$ROOT/tests/oracle.py" maps-all-json "$TMPD/allj" "$M"
kill "$M" "$M2" 2>/dev/null; wait "$M" "$M2" 2>/dev/null
PIDS_TO_KILL=()

# ---- a file name that is not UTF-8 ------------------------------------------------
# Text output is /proc's bytes; --json must still be one strict JSON
# document (RFC 8259: UTF-8), however the name is represented.
mkdir -p "$TMPD/u"
if start_mapper -d "$TMPD/u" -u; then
	cat "/proc/$MAPPER_PID/maps" >"$TMPD/u.ref"
	check "fixture: /proc shows the raw 0xff byte of the name" env LC_ALL=C grep -qa "bad$(printf '\377')name.dat" "$TMPD/u.ref"
	for b in bpf procmap procfs; do
		run_cmp "maps --backend=$b: non-UTF-8 name, byte for byte" "$MAPPER_PID" --backend="$b"
		"$TASKVMA" maps --json --backend="$b" "$MAPPER_PID" >"$TMPD/u.json" 2>/dev/null
		check "maps --json --backend=$b: non-UTF-8 name, still strict JSON (UTF-8)" \
			python3 "$ROOT/tests/oracle.py" json-count "$TMPD/u.json" "$TMPD/u.ref"
	done
	stop_mapper
else
	fail "mapper -u" "did not start"
fi

# ---- many VMAs ----------------------------------------------------------------------
# big_case LABEL N: a mapper with N extra VMAs, every backend against /proc.
big_case() {
	local label=$1 n=$2 cnt
	if ! start_mapper -n "$n"; then fail "$label: mapper -n $n" "did not start"; return 1; fi
	cnt=$(($(wc -l <"/proc/$MAPPER_PID/maps") - 1))
	check "$label: the process has $cnt VMAs (>= $n)" test "$cnt" -ge "$n"
	for b in bpf procmap procfs; do
		local t0=$SECONDS
		run_cmp "$label --backend=$b: equals /proc" "$MAPPER_PID" --backend="$b"
		echo "#   $label --backend=$b: $((SECONDS - t0)) s"
	done
	BIG_COUNT=$cnt
}
big_case "12,000 VMAs" 12000
for b in bpf procmap procfs; do
	"$TASKVMA" maps --json --backend="$b" "$MAPPER_PID" >"$TMPD/bj.$b" 2>/dev/null
done
check "12,000 VMAs: identical JSON records from bpf, procmap, procfs" \
	py json-same "$TMPD/bj.bpf" "$TMPD/bj.procmap" "$TMPD/bj.procfs"
stop_mapper

# Near vm.max_map_count's default (65,530): the fixture's own VMAs, then
# enough extra to come within a few of it.
LIMIT=65530
start_mapper || fail "plain mapper" ""
base=$(($(wc -l <"/proc/$MAPPER_PID/maps") - 1))
stop_mapper
raise_max_map $LIMIT
big_case "near max_map_count ($LIMIT)" $((LIMIT - base - 12))
check "near max_map_count: process has >= 65,000 VMAs ($BIG_COUNT)" test "$BIG_COUNT" -ge 65000
stop_mapper
restore_max_map

# Map text past the CLI's 4 MiB in-memory spool, with lines of very
# different lengths (files under a ~3,000-byte directory path, and anonymous
# VMAs, in turn): a line that no longer fits in memory goes to the spool's
# temporary file, and a shorter line after it must follow it there, not slip
# into memory ahead of it.  bench/workload builds the process; its size is
# chosen so that the naive spool would reorder (checked below on /proc's text).
D=$TMPD/wl
for _ in $(seq 12); do D=$D/$(printf 'd%.0s' $(seq 240)); done
mkdir -p "$D"
WL= WLC=
for m in 2800 2801 2802 2803 2805 2808 2813; do
	"$BUILD/bench/workload" -n 1 -m "$m" -d "$D" >"$TMPD/wl.out" 2>&1 &
	WL=$!
	for _ in $(seq 100); do grep -q '^ready' "$TMPD/wl.out" && break; sleep 0.1; done
	WLC=$(awk '/^ready/ {print $3}' "$TMPD/wl.out")
	[ -n "$WLC" ] || break
	cat "/proc/$WLC/maps" >"$TMPD/wl.ref"
	# would "in memory while it fits, else to the file" put a later line first?
	python3 "$ROOT/tests/oracle.py" spool-reorders "$TMPD/wl.ref" $((4 << 20)) && break
	kill "$WL" 2>/dev/null; wait "$WL" 2>/dev/null; WLC=
done
if [ -n "$WLC" ]; then
	check "spool: the process's map text is over 4 MiB ($(wc -c <"$TMPD/wl.ref") bytes)" \
		test "$(wc -c <"$TMPD/wl.ref")" -gt $((4 << 20))
	for b in bpf procmap procfs; do
		"$TASKVMA" maps --backend="$b" "$WLC" >"$TMPD/wl.got" 2>"$TMPD/wl.err"
		check_files_eq "spool: over 4 MiB, lines of mixed length, --backend=$b equals /proc, in order" \
			"$TMPD/wl.ref" "$TMPD/wl.got"
	done
	kill "$WL" 2>/dev/null; wait "$WL" 2>/dev/null
else
	fail "spool: a bench/workload process whose text crosses 4 MiB mid-line" "$(head -c 300 "$TMPD/wl.out")"
fi

# ---- a maps line longer than the padding column: overlayfs ----------------------
# An overlayfs with xino gives 19-digit inode numbers; a tmpfs upper layer
# mounted after enough other anonymous-device filesystems gives a 3-digit
# minor; the mapper maps the file at offset 0x7ffffffffff00000.  The header
# is then past byte 72.  Done in a private mount namespace.
if command -v unshare >/dev/null && grep -qw overlay /proc/filesystems; then
	cat >"$TMPD/ovl.sh" <<'EOF'
set -u
. "$LIBSH"
R=$TMPD/ovl
mkdir -p "$R/lower" "$R/merged" "$R/fill"
printf 'data\n' >"$R/lower/f"
# Fill the low anonymous-device minors until a new tmpfs gets one >= 0x100.
for i in $(seq 1 1200); do
	mkdir -p "$R/fill/$i"
	mount -t tmpfs -o size=4k tmpfs "$R/fill/$i" || break
	min=$(( $(stat -c '%d' "$R/fill/$i") & 0xff | ($(stat -c '%d' "$R/fill/$i") >> 12 & 0xfff00) ))
	[ "$min" -ge 256 ] && break
done
mkdir -p "$R/t" && mount -t tmpfs tmpfs "$R/t" && mkdir -p "$R/t/upper" "$R/t/work" &&
	mount -t overlay overlay -o "lowerdir=$R/lower,upperdir=$R/t/upper,workdir=$R/t/work,xino=on" "$R/merged" ||
	{ fail "overlay: mount" "failed"; exit 0; }
start_mapper -b "$R/merged/f" || { fail "overlay: mapper -b" "did not start"; exit 0; }
cat "/proc/$MAPPER_PID/maps" >"$TMPD/ovl.ref"
line=$(grep -F " $R/merged/f" "$TMPD/ovl.ref")
hdr=${line%% $R/merged/f}
check "overlay: /proc line has offset 7ffffffffff00000 and a header past column 72 (${#hdr})" \
	test "${#hdr}" -gt 72 -a -n "$(printf '%s' "$line" | grep ' 7ffffffffff00000 ')"
for b in bpf procmap procfs; do
	"$TASKVMA" maps --backend=$b "$MAPPER_PID" >"$TMPD/ovl.out" 2>"$TMPD/err"
	check_files_eq "overlay, long line --backend=$b: equals /proc (dev/inode of the overlay file)" "$TMPD/ovl.ref" "$TMPD/ovl.out"
done
stop_mapper
EOF
	LIBSH=$HERE/../lib.sh TMPD=$TMPD BUILD=$BUILD FX=$FX TASKVMA=$TASKVMA \
		unshare -m --propagation private bash "$TMPD/ovl.sh"
else
	fail "overlay long-line case" "unshare or overlayfs missing"
fi
end_case
