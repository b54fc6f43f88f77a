#!/usr/bin/env bash
# One command-line grammar (docs/cli.md): options anywhere (GNU order), "--"
# ends them, "--opt=value" and "--opt value" alike at every level, the same
# short letters in every command (-p PID, -c COMM, -j, -v), --pid/--comm/
# --cgroup/--uid selection, durations with units, --version, `help`, "did
# you mean".  Each failure quoted in issue 12 is run here and must work.
# Oracles: the kernel's /proc/PID/maps of a fixture (procfs and procmap
# backends), pgrep, the fixture's cgroup.procs, the header's version.
# Runs on its own too: bash tests/cases/cli_grammar.sh
# (maps with procfs and 2>&1: --consistent, so that the stderr note "not an
# atomic snapshot" of a plain procfs read is not part of the output compared)
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
CG=
UPID=
cleanup() {
	stop_mapper
	[ -n "$UPID" ] && kill "$UPID" 2>/dev/null && wait "$UPID" 2>/dev/null
	[ -n "$CG" ] && rmdir "$CG" 2>/dev/null
	[ -n "$OWN_TMPD" ] && rm -rf "$TMPD"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
[ -x "$TASKVMA" ] || { fail "grammar: $TASKVMA" "not built"; exit 0; }
T=$TASKVMA

private_copies mapper
# a comm no other test's process has: the fixture under a name of its own
NAME=gram$$
NAME=${NAME:0:15}
cp "$FX/mapper" "$FX/$NAME"
mkdir -p "$TMPD/d"
fifo=$TMPD/ready.fifo
mkfifo "$fifo"
"$FX/$NAME" -d "$TMPD/d" >"$fifo" &
MAPPER_PID=$!
read -r line <"$fifo"
[ "$line" = ready ] || { fail "grammar: fixture" "no ready"; exit 0; }
M=$MAPPER_PID
cat "/proc/$M/maps" >"$TMPD/ref"

# ---- the quoted failures ----------------------------------------------------
# `taskvma maps 1234 --json` -> was "invalid PID '--json'"
"$T" --backend=procfs maps "$M" --json >"$TMPD/j" 2>"$TMPD/e"
check_eq "maps PID --json: exit 0 (option after the operand)" 0 $?
check_eq "maps PID --json: as many mappings as /proc" "$(wc -l <"$TMPD/ref")" \
	"$(python3 "$ROOT/tests/oracle.py" json-count "$TMPD/j")"
# `taskvma --backend procfs maps $$` -> was "unknown option '--backend'"
for b in procfs procmap; do
	"$T" --backend "$b" maps "$M" >"$TMPD/o" 2>"$TMPD/e"
	check_eq "--backend $b (separate value) maps PID: exit 0" 0 $?
	check_files_eq "--backend $b maps PID = /proc/PID/maps" "$TMPD/ref" "$TMPD/o"
	"$T" maps "$M" --backend "$b" >"$TMPD/o" 2>"$TMPD/e"
	check_files_eq "maps PID --backend $b (after the operand) = /proc" "$TMPD/ref" "$TMPD/o"
done
# `maps --perms` with no value -> was "unknown option"
expect_fail "maps --perms without a value: says so" 2 "option '--perms' needs a value" "$T" maps "$M" --perms
expect_fail "maps -P without a value: says so" 2 "option '-P' needs a value" "$T" maps "$M" -P
# `taskvma maps -p PID` (libbpf-tools habit) -> was perms '1234'
"$T" --backend=procfs maps -p "$M" >"$TMPD/o" 2>"$TMPD/e"
check_files_eq "maps -p PID = /proc/PID/maps" "$TMPD/ref" "$TMPD/o"
"$T" --backend=procfs maps --pid="$M" >"$TMPD/o" 2>"$TMPD/e"
check_files_eq "maps --pid=PID = /proc/PID/maps" "$TMPD/ref" "$TMPD/o"
# the same letters: -P perms, -N name, -r range
grep ' r-xp ' "$TMPD/ref" >"$TMPD/want"
"$T" --backend=procfs maps --consistent -P r-xp "$M" >"$TMPD/o" 2>&1
check_files_eq "maps -P r-xp = /proc's r-xp lines" "$TMPD/want" "$TMPD/o"
"$T" --backend=procfs maps --consistent "$M" --perms r-xp >"$TMPD/o" 2>&1
check_files_eq "maps --perms r-xp (separate value) = /proc's r-xp lines" "$TMPD/want" "$TMPD/o"
# `taskvma --version` -> was exit 2
want=$(sed -n 's/^#define TASKVMA_VERSION_STRING "\(.*\)"/\1/p' "$ROOT/include/taskvma.h")
check_eq "--version: the header's version, exit 0" "taskvma $want (libtaskvma $want) rc=0" \
	"$("$T" --version 2>&1) rc=$?"
check_eq "maps --version: the same" "taskvma $want (libtaskvma $want)" "$("$T" maps --version 2>&1)"
# `taskvma help [COMMAND]`
for c in maps lookup scan watch trace features; do
	check_eq "help $c = $c --help" "$("$T" "$c" --help)" "$("$T" help "$c")"
done
check_eq "help = --help" "$("$T" --help)" "$("$T" help)"
expect_fail "help bogus: unknown command" 2 "unknown command 'bogus'" "$T" help bogus
# did you mean
expect_fail "taskvma map: did you mean maps" 2 "unknown command 'map'; did you mean maps\?" "$T" map "$M"
expect_fail "taskvma feature: did you mean features" 2 "did you mean features\?" "$T" feature
expect_fail "maps --jsno: did you mean --json" 2 "unknown option '--jsno'; did you mean --json\?" "$T" maps --jsno "$M"
expect_fail "watch --intervall: did you mean --interval" 2 "did you mean --interval\?" "$T" watch --intervall=1 "$M"
expect_fail "--bakend=procfs: did you mean --backend" 2 "did you mean --backend\?" "$T" --bakend=procfs maps "$M"
expect_fail "--backend=procf: did you mean procfs" 2 "unknown backend 'procf'; did you mean procfs\?" "$T" --backend=procf maps "$M"
expect_fail "--json=1: takes no value" 2 "option '--json' takes no value" "$T" maps --json=1 "$M"
expect_fail "unknown short option" 2 "unknown option '-Z'" "$T" maps -Z "$M"
# "--" ends the options: "-5" after it is an operand (an invalid PID)
expect_fail "maps -- -5: an operand, not an option" 2 "invalid PID '-5'" "$T" maps -- -5
"$T" --backend=procfs maps --consistent -- "$M" >"$TMPD/o" 2>&1
check_files_eq "maps -- PID = /proc" "$TMPD/ref" "$TMPD/o"

# ---- --name: the base name of a file matches, "[heap]" needs no escaping ------
grep '/offset\.dat$' "$TMPD/ref" >"$TMPD/want"
"$T" --backend=procfs maps --consistent -N offset.dat "$M" >"$TMPD/o" 2>&1
check_files_eq "maps --name=offset.dat: the base name matches (was: nothing)" "$TMPD/want" "$TMPD/o"
"$T" --backend=procfs maps --consistent --name 'offset.*' "$M" >"$TMPD/o" 2>&1
check_files_eq "maps --name='offset.*': a pattern on the base name" "$TMPD/want" "$TMPD/o"
grep ' \[heap\]$' "$TMPD/ref" >"$TMPD/want"
"$T" --backend=procfs maps --consistent --name='[heap]' "$M" >"$TMPD/o" 2>&1
check_files_eq "maps --name='[heap]' without escaping = /proc's [heap] line" "$TMPD/want" "$TMPD/o"
check "the fixture has a [heap] line (the check above can fail)" test -s "$TMPD/want"
"$T" --backend=procfs maps --consistent --name='*/d/*' "$M" >"$TMPD/o" 2>&1
check_eq "maps --name with '/': the whole path only" "$(grep -c '/d/' "$TMPD/ref")" "$(wc -l <"$TMPD/o")"

"$T" --backend=procfs maps --consistent -q "$M" -p "$M" >"$TMPD/o" 2>&1
check_files_eq "maps -q PID PID: no headers, /proc's lines twice" <(cat "$TMPD/ref" "$TMPD/ref") "$TMPD/o"

# ---- --all with a mapping filter: only the processes that have a match ----------
"$T" --backend=procfs maps --all -N "$TMPD/d/offset.dat" -v >"$TMPD/o" 2>"$TMPD/e"
{ echo "==> $M ($NAME) <=="; grep "$TMPD/d/offset\.dat\$" "$TMPD/ref"; } >"$TMPD/want"
check_files_eq "maps --all --name=PATH: one block, the fixture's (was: a header per process)" "$TMPD/want" "$TMPD/o"
check "maps --all --name -v: counts the processes without a match" \
	grep -Eq '^taskvma: [0-9]+ process(es)? without a matching mapping' "$TMPD/e"

# ---- durations with units: `watch -d 1s` was refused -------------------------
for d in 1s 300ms 0.3 0.005m; do
	timeout 20 "$T" --backend=procfs watch -d "$d" -i 100ms "$M" >"$TMPD/o" 2>"$TMPD/e"
	check_eq "watch -d $d -i 100ms: ends by itself, exit 0" 0 $?
done
timeout 20 "$T" --backend=procfs watch --duration 200ms --interval 50ms --count 1 "$M" >"$TMPD/o" 2>"$TMPD/e"
check_eq "watch --duration 200ms --interval 50ms --count 1 (separate values): exit 0" 0 $?
for d in 0 -1s 2x 1d ms nan; do
	expect_fail "watch -d '$d': a bad duration" 2 "bad --duration '$d'" timeout 10 "$T" watch -d "$d" "$M"
done

# ---- selection: --pid/--comm/--cgroup/--uid on every command that takes processes
"$T" --backend=procfs maps --comm "$NAME" >"$TMPD/o" 2>"$TMPD/e"
{ echo "==> $M ($NAME) <=="; cat "$TMPD/ref"; } >"$TMPD/want"
check_files_eq "maps --comm NAME: the fixture only, with its header" "$TMPD/want" "$TMPD/o"
"$T" --backend=procfs maps -c "$NAME" -j >"$TMPD/o" 2>"$TMPD/e"
check_eq "maps -c NAME -j: the fixture's pid" "$M" \
	"$(python3 "$ROOT/tests/oracle.py" json-pids "$TMPD/o")"
check_eq "maps --comm NAME with another PID: filters apply to the PIDs given" "" \
	"$("$T" --backend=procfs maps --comm "$NAME" $$ 2>&1)"
"$T" --backend=procfs scan -c "$NAME" >"$TMPD/o" 2>"$TMPD/e"
check_eq "scan -c NAME: one process scanned" "taskvma: scanned 1 process: 0 findings" "$(cat "$TMPD/e")"
A=0x$(head -n1 "$TMPD/ref" | cut -d- -f1)
"$T" --backend=procfs lookup -c "$NAME" "$A" >"$TMPD/o" 2>&1
check_eq "lookup -c NAME ADDR: the first mapping" "$(head -n1 "$TMPD/ref")" "$(cut -d' ' -f4- "$TMPD/o")"
"$T" --backend=procfs lookup --no-build-id --pid "$M" "$A" >"$TMPD/o" 2>&1
check_eq "lookup --pid PID ADDR: the first mapping" "$(head -n1 "$TMPD/ref")" "$(cut -d' ' -f4- "$TMPD/o")"
"$T" --backend=procfs lookup "$M" "$A" --no-build-id >"$TMPD/o" 2>&1
check_eq "lookup PID ADDR --no-build-id (option last): the first mapping" "$(head -n1 "$TMPD/ref")" "$(cut -d' ' -f4- "$TMPD/o")"
timeout 20 "$T" --backend=procfs watch -c "$NAME" -d 100ms >"$TMPD/o" 2>"$TMPD/e"
check_eq "watch -c NAME: watches the fixture (one process, singular)" "taskvma: watching 1 process" \
	"$(grep -m1 '^taskvma: watching' "$TMPD/e")"
timeout 20 "$T" --backend=procfs watch -p "$M" -d 100ms >"$TMPD/o" 2>"$TMPD/e"
check_eq "watch -p PID: watches the fixture" "taskvma: watching pid $M ($NAME): $(wc -l <"$TMPD/ref") mappings" \
	"$(grep -m1 '^taskvma: watching' "$TMPD/e")"
expect_fail "lookup -p twice: needs one process" 2 "lookup needs exactly one PID, 2 given" \
	"$T" lookup -p "$M" -p "$M" "$A"
expect_fail "maps --comm of 16 bytes: too long" 2 "bad --comm '0123456789abcdef'" "$T" maps --comm 0123456789abcdef
# --uid: a fixture under a uid nothing else runs as (pgrep -U as the oracle)
U=$((61000 + $$ % 3000))
if [ "$(id -u)" = 0 ] && [ -z "$(pgrep -U "$U")" ]; then
	mkdir -p "$TMPD/ud" && chmod 777 "$TMPD/ud" "$TMPD"
	setpriv --reuid="$U" --regid="$U" --clear-groups sleep 300 &
	UPID=$!
	for _ in $(seq 50); do [ "$(cat /proc/$UPID/comm 2>/dev/null)" = sleep ] && break; sleep 0.1; done
	got=$("$T" --backend=procfs maps --uid "$U" -j 2>/dev/null |
		python3 "$ROOT/tests/oracle.py" json-pids -)
	check_eq "maps --uid U: the processes pgrep -U U lists" "$(pgrep -U "$U" | sort -n | tr '\n' ' ' | sed 's/ $//')" "$got"
	"$T" --backend=procfs maps -u "$U" >"$TMPD/o" 2>"$TMPD/e"
	check_files_eq "maps -u U: /proc/PID/maps of the sleep" <(echo "==> $UPID (sleep) <=="; cat /proc/$UPID/maps) "$TMPD/o"
	kill "$UPID"; wait "$UPID" 2>/dev/null; UPID=
fi
expect_fail "--uid of an unknown user" 2 "--uid 'no-such-user-x'" "$T" maps --uid no-such-user-x
# --cgroup: the fixture moved into a cgroup of its own (cgroup.procs as oracle)
CG2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
if [ -n "$CG2" ] && mkdir "$CG2/taskvma-grammar-$$" 2>/dev/null; then
	CG=$CG2/taskvma-grammar-$$
	if echo "$M" >"$CG/cgroup.procs" 2>/dev/null; then
		"$T" --backend=procfs maps --cgroup "taskvma-grammar-$$" >"$TMPD/o" 2>"$TMPD/e"
		check_files_eq "maps --cgroup REL: the processes in cgroup.procs" "$TMPD/want" "$TMPD/o"
		"$T" --backend=procfs maps -g "$CG" -N '*.dat' >"$TMPD/o" 2>"$TMPD/e"
		check_eq "maps -g ABS -N '*.dat': the fixture's .dat lines" \
			"$(grep -c '\.dat$' "$TMPD/ref")" "$(grep -vc '^==>' "$TMPD/o")"
		echo "$M" >"$CG2/cgroup.procs"
	fi
fi
expect_fail "--cgroup that does not exist" 2 "cgroup 'no/such/cg.$$'" "$T" maps --cgroup "no/such/cg.$$"
# trace takes the same letters (its own selection is in the kernel)
expect_fail "trace --uid: not a kernel filter of trace" 2 "not --uid" "$T" trace --on exit --uid 0
expect_fail "trace -d 2x: a bad duration" 2 "--duration '2x'" "$T" trace --on exit -d 2x
end_case
