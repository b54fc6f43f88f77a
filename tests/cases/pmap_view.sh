#!/usr/bin/env bash
# pmap's view in `taskvma maps`, on every backend, against the kernel's own
# /proc/PID/maps text and procps's pmap: --sizes (human and --bytes: each
# line's size is end - start), the totals line (= pmap -d's mapped,
# writeable/private and shared; each size = pmap -q's), -q dropping the
# totals and the summary's header, --summary (mappings by kind, sizes),
# --with-pid (every line is /proc's with "PID (COMM) " before it), the JSON
# of all this (size and totals against /proc, valid against the schema),
# --all with filters, and --svg: well-formed XML in which every /proc line
# of the fixture is the title of one mapping element, rendered to a PNG by
# rsvg-convert (a valid PNG, larger than a thumbnail, more than one colour).
# Runs on its own too: bash tests/cases/pmap_view.sh
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
cleanup() { stop_mapper; [ -n "$OWN_TMPD" ] && rm -rf "$TMPD"; }
trap cleanup EXIT
trap 'exit 1' INT TERM
PY=$ROOT/tests/oracle.py
py() { python3 "$PY" "$@"; }
SCHEMA=$ROOT/schemas/taskvma.schema.json
BACKENDS="bpf procmap procfs"

[ -x "$TASKVMA" ] || { fail "pmap_view: $TASKVMA" "not built"; end_case; exit 0; }
private_copies mapper
T=$TASKVMA
mkdir -p "$TMPD/d"
start_mapper -d "$TMPD/d" || { fail "pmap_view: mapper" "no ready"; end_case; exit 0; }
M=$MAPPER_PID
REF=$TMPD/ref
cat "/proc/$M/maps" >"$REF"
check "fixture: /proc shows the mapper's known mappings (shared, guard, heap, stack, exec)" \
	py check-fixture "$REF" "$TMPD/d"

# pyc NAME ARGS...: an oracle check that also shows what it counted
pyc() {
	local name=$1 out; shift
	if out=$(py "$@" 2>&1); then pass "$name ($out)"; else fail "$name" "$(printf '%s' "$out" | tail -n 2 | tr '\n' ' ')"; fi
}
# run NAME OUTFILE ARGS...: taskvma ARGS exits 0 with nothing on stderr
# (but procmap's and procfs's note that a map is not an atomic snapshot:
# docs/cli.md "Consistent snapshots")
run() {
	local name=$1 out=$2 rc; shift 2
	"$T" "$@" >"$out" 2>"$TMPD/err"; rc=$?
	sed -i '/^taskvma: note: .* not an\{0,1\} atomic snapshots\{0,1\} (--consistent freezes /d' "$TMPD/err"
	if [ "$rc" -ne 0 ] || [ -s "$TMPD/err" ]; then
		fail "$name" "exit $rc: $(head -c 300 "$TMPD/err")"; return 1
	fi
}
validate() { py schema-valid "$SCHEMA" "$1" doc "$REF" >/dev/null; }	# one document
have_schema=0
python3 -c 'import jsonschema' 2>/dev/null && have_schema=1
[ "$have_schema" = 1 ] || fail "pmap_view: python3 jsonschema" "not installed (scripts/setup.sh)"
have_rsvg=0
command -v rsvg-convert >/dev/null && have_rsvg=1
[ "$have_rsvg" = 1 ] || fail "pmap_view: rsvg-convert" "not installed (librsvg2-bin, scripts/setup.sh)"
have_pmap=0
command -v pmap >/dev/null && have_pmap=1
[ "$have_pmap" = 1 ] || fail "pmap_view: pmap" "not installed (procps, scripts/setup.sh)"

# procps's own view of the fixture (it reads /proc/PID/maps itself)
if [ "$have_pmap" = 1 ]; then
	pmap -d "$M" >"$TMPD/pmap.d" 2>&1
	pmap -q "$M" >"$TMPD/pmap.q" 2>&1
fi

for b in $BACKENDS; do
	B=(--backend="$b")
	if run "maps --sizes --bytes --backend=$b" "$TMPD/sb.$b" "${B[@]}" maps --sizes --bytes "$M"; then
		pyc "maps --sizes --bytes --backend=$b: a line per /proc line, size = end - start, totals = /proc's" \
			sizes "$TMPD/sb.$b" "$REF" bytes
		[ "$have_pmap" = 1 ] && pyc "maps --sizes --bytes --backend=$b: totals = pmap -d's line, each size = pmap -q's" \
			pmap "$TMPD/pmap.d" "$TMPD/pmap.q" "$TMPD/sb.$b"
	fi
	run "maps --bytes --backend=$b (implies --sizes)" "$TMPD/b.$b" "${B[@]}" maps --bytes "$M" &&
		check_files_eq "maps --bytes --backend=$b: the same as --sizes --bytes" "$TMPD/sb.$b" "$TMPD/b.$b"
	run "maps -s --backend=$b" "$TMPD/s.$b" "${B[@]}" maps -s "$M" &&
		pyc "maps -s --backend=$b: human sizes within rounding of end - start, totals too" \
			sizes "$TMPD/s.$b" "$REF" human
	run "maps -s -q --backend=$b" "$TMPD/sq.$b" "${B[@]}" maps -s -q "$M" &&
		pyc "maps -s -q --backend=$b: the size lines, no totals line" sizes "$TMPD/sq.$b" "$REF" human quiet

	# --summary: counts by kind and sizes from /proc's lines
	if run "maps --summary --backend=$b" "$TMPD/sum.$b" "${B[@]}" maps --summary "$M"; then
		pyc "maps --summary --backend=$b: counts by kind, sizes (human) = /proc's" \
			summary "$TMPD/sum.$b" "$M" mapper "$REF" human
		check_eq "maps --summary --backend=$b: a header line, then one row" "PID 2" \
			"$(awk 'NR == 1 { print $1 }' "$TMPD/sum.$b") $(wc -l <"$TMPD/sum.$b")"
	fi
	run "maps --summary --bytes -q --backend=$b" "$TMPD/sumq.$b" "${B[@]}" maps --summary --bytes -q "$M" &&
		pyc "maps --summary --bytes -q --backend=$b: one row, no header, exact sizes" \
			summary "$TMPD/sumq.$b" "$M" mapper "$REF" bytes &&
		check_eq "maps --summary -q --backend=$b: one line" 1 "$(wc -l <"$TMPD/sumq.$b")"

	# --with-pid: /proc's lines, each after "PID (COMM) "
	run "maps -H --backend=$b" "$TMPD/h.$b" "${B[@]}" maps -H "$M" &&
		check_files_eq "maps -H --backend=$b: every line is \"$M (mapper) \" + /proc's line" \
			<(sed "s/^/$M (mapper) /" "$REF") "$TMPD/h.$b"
	run "maps -H -s --bytes --backend=$b" "$TMPD/hs.$b" "${B[@]}" maps -H -s --bytes "$M" &&
		check_files_eq "maps -H -s --backend=$b: the size view with the prefix on every line, totals too" \
			<(sed "s/^/$M (mapper) /" "$TMPD/sb.$b") "$TMPD/hs.$b"

	# JSON
	if run "maps --sizes --json --backend=$b" "$TMPD/js.$b" "${B[@]}" maps --sizes --json "$M"; then
		pyc "maps --sizes --json --backend=$b: size = end - start, totals = /proc's" \
			json-sizes "$TMPD/js.$b" "$M" "$REF"
		[ "$have_schema" = 1 ] && check "maps --sizes --json --backend=$b: valid against the schema" validate "$TMPD/js.$b"
	fi
	if run "maps --summary --json --backend=$b" "$TMPD/jsum.$b" "${B[@]}" maps --summary --json "$M"; then
		pyc "maps --summary --json --backend=$b: totals = /proc's" json-sizes "$TMPD/jsum.$b" "$M" "$REF"
		check "maps --summary --json --backend=$b: no mappings listed" py json-eq "$TMPD/jsum.$b" mappings '[]'
		[ "$have_schema" = 1 ] && check "maps --summary --json --backend=$b: valid against the schema" validate "$TMPD/jsum.$b"
	fi

	# the picture
	if run "maps --svg --backend=$b" "$TMPD/one.$b.svg" "${B[@]}" maps --svg "$M"; then
		pyc "maps --svg --backend=$b: well-formed, every /proc line is one mapping's title" \
			svg "$TMPD/one.$b.svg" "$M" "$REF"
		if [ "$have_rsvg" = 1 ]; then
			if rsvg-convert -o "$TMPD/one.$b.png" "$TMPD/one.$b.svg" 2>"$TMPD/rsvg.err"; then
				pyc "maps --svg --backend=$b: rsvg-convert renders it: valid PNG, >= 700x400, colours" \
					png "$TMPD/one.$b.png" 700 400
			else
				fail "maps --svg --backend=$b: rsvg-convert" "$(head -c 300 "$TMPD/rsvg.err")"
			fi
		fi
	fi
done

# ---- --all, with filters ---------------------------------------------------
# run_all NAME OUTFILE ARGS...: as run, but other processes of this busy
# machine may be unreadable (one "skipped" line) or keep changing (exit 6,
# not printed): what matters is the fixture's part
run_all() {
	local name=$1 out=$2 rc; shift 2
	"$T" "$@" >"$out" 2>"$TMPD/err"; rc=$?
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 6 ]; then
		fail "$name" "exit $rc: $(head -c 300 "$TMPD/err")"; return 1
	fi
	if grep -v -e 'skipped [0-9]* process' -e 'map changed during every walk' \
		-e '^taskvma: note: .* not atomic snapshots (--consistent freezes ' "$TMPD/err" | grep -q .; then
		fail "$name" "stderr: $(head -c 300 "$TMPD/err")"; return 1
	fi
}
b=procfs
# the fixture's shared mappings: its block is exactly those, with their totals
run_all "maps --all --sizes --bytes --perms=rw-s" "$TMPD/all.s" maps --backend=$b --all --sizes --bytes --perms=rw-s &&
	pyc "maps --all --sizes --perms=rw-s: blocks with totals; the fixture's = its rw-s lines" \
		sizes-block "$TMPD/all.s" "$M" "$REF" perms=rw-s
run_all "maps --all --summary --file" "$TMPD/all.sum" maps --backend=$b --all --summary --file &&
	pyc "maps --all --summary --file: a row per process; the fixture's counts its file mappings" \
		summary "$TMPD/all.sum" "$M" mapper "$REF" human file
run_all "maps --all -H --anon" "$TMPD/all.h" maps --backend=bpf --all -H --anon &&
	check_files_eq "maps --all -H --anon (bpf): the fixture's lines = its non-file /proc lines, prefixed" \
		<(py filter "$REF" anon | sed "s/^/$M (mapper) /") <(grep -a "^$M (mapper) " "$TMPD/all.h")
check_eq "maps --all -H: no header, every line starts with a pid and a comm" "" \
	"$(grep -avE '^[0-9]+ \(.*\) [0-9a-f]{8,16}-' "$TMPD/all.h" | head -n 2)"
run_all "maps --all -q --sizes" "$TMPD/all.q" maps --backend=$b --all -q --sizes --perms=??x? &&
	check_eq "maps --all -q --sizes: no headers, no totals lines, no blank lines" "" \
		"$(grep -aE '^(==>|total:|$)' "$TMPD/all.q" | head -n 2)"
if run_all "maps --all --svg" "$TMPD/all.svg" maps --backend=bpf --all --svg; then
	pyc "maps --all --svg: well-formed overview; every /proc line of the fixture is a mapping" \
		svg "$TMPD/all.svg" "$M" "$REF"
	[ "$have_rsvg" = 1 ] && rsvg-convert -o "$TMPD/all.png" "$TMPD/all.svg" 2>"$TMPD/rsvg.err" &&
		pyc "maps --all --svg: renders to a valid PNG with colours" png "$TMPD/all.png" 900 200
fi
run "maps --svg --perms=r-xp (a filter)" "$TMPD/x.svg" maps --backend=procmap --svg --perms=r-xp -p "$M" &&
	pyc "maps --svg --perms=r-xp: exactly the fixture's r-xp lines" svg "$TMPD/x.svg" "$M" \
		<(py filter "$REF" perms=r-xp)
run "maps --svg PID PID" "$TMPD/two.svg" maps --svg "$M" $$ && {
	cat "/proc/$$/maps" >"$TMPD/ref.sh"
	pyc "maps --svg with two PIDs: rows; both processes' mappings all there" \
		svg "$TMPD/two.svg" "$M" "$REF" $$ "$TMPD/ref.sh"
}

# ---- usage and errors ------------------------------------------------------
expect_fail "maps --svg --json: usage" 2 'exclude' "$T" maps --svg --json "$M"
expect_fail "maps --sizes --summary: usage" 2 'exclude' "$T" maps --sizes --summary "$M"
expect_fail "maps --svg --bytes: usage" 2 'exclude' "$T" maps --svg --bytes "$M"
expect_fail "maps -H --json: usage" 2 'with-pid' "$T" maps -H --json "$M"
expect_fail "maps --sizes of a PID that does not exist: exit 3, nothing printed" 3 'no such process' \
	"$T" maps --sizes 999999999
expect_fail "maps --svg of a PID that does not exist: exit 3, no picture" 3 'no such process' \
	"$T" maps --svg 999999999
"$T" maps --sum "$M" >"$TMPD/pre" 2>&1
check_eq "maps --sum: a prefix of --summary" "$(cat "$TMPD/sum.procfs")" "$(cat "$TMPD/pre")"
cat "/proc/$M/maps" >"$TMPD/ref.end"
check_files_eq "the fixture's map did not change during the case" "$REF" "$TMPD/ref.end"
end_case
