#!/usr/bin/env bash
# run.sh: long (one of the two longest cases: started first)
# `taskvma maps` on bad input: each error is one "taskvma: ..." line on
# stderr, nothing on stdout, and the exit code of src/cli/cli.h.  Also: an
# unprivileged user (nobody) is denied other users' processes, can read its
# own with the default backend (auto falls back from BPF), and gets exit 7
# for --backend=bpf; --all while processes come and go.
# Runs on its own too: bash tests/cases/maps_errors.sh
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
PUB=
AT_EXIT+=('[ -n "$PUB" ] && rm -rf "$PUB"')
trap_cleanup
[ -x "$TASKVMA" ] || { fail "maps_errors: $TASKVMA" "not built"; exit 0; }

private_copies mapper

BACKENDS="bpf procmap procfs auto"
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)

state_of() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1; }
is_zombie() { [ "$(state_of "$1")" = Z ]; }
uid_of_is() { [ "$(stat -c %u "/proc/$1" 2>/dev/null)" = "$2" ]; }

# ---- PIDs that are not processes ------------------------------------------------
# A pid nobody has: below pid_max, no /proc entry (checked again right after).
pid_max=$(cat /proc/sys/kernel/pid_max)
nopid=$((pid_max - 1))
while [ -e "/proc/$nopid" ]; do nopid=$((nopid - 1)); done
for b in $BACKENDS; do
	expect_fail "maps --backend=$b: pid that does not exist -> 3" 3 'no such process' \
		"$TASKVMA" maps --backend="$b" "$nopid"
done
# A pid that existed a moment ago: reaped.
/bin/true & gone=$!; wait "$gone"
[ -e "/proc/$gone" ] || expect_fail "maps: pid of a process that exited and was reaped -> 3" 3 \
	'no such process' "$TASKVMA" maps "$gone"
check "no-such-pid really was unused" test ! -e "/proc/$nopid"

for arg in abc 12x -5 0 "" " 12" "+12" 0x10 1.5 99999999999999999999 -- ; do
	expect_fail "maps: PID '$arg' is a usage error -> 2" 2 '^taskvma: ' "$TASKVMA" maps "$arg"
done
expect_fail "maps: no PID and no --all -> 2" 2 '^taskvma: ' "$TASKVMA" maps
expect_fail "maps: unknown option -> 2" 2 '^taskvma: .*(option|frobnicate)' "$TASKVMA" maps --frobnicate $$
expect_fail "maps: unknown backend -> 2" 2 '^taskvma: .*foo' "$TASKVMA" maps --backend=foo $$
expect_fail "maps: empty backend -> 2" 2 '^taskvma: ' "$TASKVMA" maps --backend= $$
expect_fail "maps: --file with --anon -> 2" 2 '^taskvma: ' "$TASKVMA" maps --file --anon $$
for p in rwx rwxpx 'r-x' 'rwxq' 'xwrp' 'RW-P'; do
	expect_fail "maps: --perms='$p' -> 2" 2 '^taskvma: .*perms' "$TASKVMA" maps --perms="$p" $$
done
for r in zz-10 10 10- -10 '1000-zz' '0x-1000'; do
	expect_fail "maps: --range='$r' -> 2" 2 '^taskvma: .*range' "$TASKVMA" maps --range="$r" $$
done
expect_fail "maps: unknown command -> 2" 2 '^taskvma: ' "$TASKVMA" mapz $$
# malformed addresses are answered in band (docs/cli.md): exit 2, no stderr
out=$("$TASKVMA" lookup $$ zz 0x1000g 2>"$TMPD/err"); rc=$?
check "lookup: non-hex address, address with junk -> 2, in band, nothing on stderr" \
	test "$rc" -eq 2 -a "$out" = "$(printf 'zz malformed:bad-address\n0x1000g malformed:bad-address')" -a ! -s "$TMPD/err"
expect_fail "lookup: no PID -> 2" 2 '^taskvma: ' "$TASKVMA" lookup
expect_fail "lookup: bad PID -> 2" 2 '^taskvma: ' "$TASKVMA" lookup abc 0x1000

# ---- no address space: kernel thread, zombie ------------------------------------------
kt=2
check "pid 2 is a kernel thread (kthreadd)" grep -qx kthreadd /proc/2/comm
for b in $BACKENDS; do
	expect_fail "maps --backend=$b: kernel thread (kthreadd) -> 5" 5 'kernel thread' \
		"$TASKVMA" maps --backend="$b" "$kt"
done
# Another kernel thread: any child of kthreadd.
kt2=$(ps -o pid= --ppid 2 | head -n 1 | tr -d ' ')
expect_fail "maps: kernel thread $kt2 ($(cat /proc/"$kt2"/comm 2>/dev/null)) -> 5" 5 'kernel thread' \
	"$TASKVMA" maps "$kt2"

# A zombie: a child that exits while its parent sleeps without reaping it.
python3 "$ROOT/tests/oracle.py" zombie 600 >"$TMPD/zombie" &
KILL+=($!)
wait_until 10 test -s "$TMPD/zombie"
zp=$(cat "$TMPD/zombie")
if wait_until 10 is_zombie "$zp"; then
	for b in $BACKENDS; do
		expect_fail "maps --backend=$b: zombie -> 5" 5 'zombie|no address space' \
			"$TASKVMA" maps --backend="$b" "$zp"
	done
	expect_fail "lookup: zombie -> 5" 5 'zombie|no address space' "$TASKVMA" lookup "$zp" 0x1000
else
	fail "zombie fixture" "pid $zp never became a zombie"
fi

# ---- one bad PID among good ones: the good block printed, the error on stderr --------
"$TASKVMA" maps $$ "$nopid" >"$TMPD/got" 2>"$TMPD/err"; rc=$?
{ printf '==> %s (%s) <==\n' $$ "$(cat /proc/$$/comm)"; cat /proc/$$/maps; } >"$TMPD/want"
check_eq "maps GOOD BAD: exit 3 (the bad pid's code)" 3 "$rc"
check "maps GOOD BAD: one stderr line for the bad pid" \
	test "$(wc -l <"$TMPD/err")" -eq 1 -a -n "$(grep "$nopid.*no such process" "$TMPD/err")"
check_files_eq "maps GOOD BAD: the good pid's block, nothing for the bad one" "$TMPD/want" "$TMPD/got"

# ---- an unprivileged user ----------------------------------------------------------------
# The CLI in a directory nobody can reach ($TMPD is private).
PUB=$(mktemp -d /tmp/tvpub.XXXXXX)
chmod 755 "$PUB"
cp "$TASKVMA" "$PUB/taskvma"
chmod 755 "$PUB/taskvma"
sleep 600 & rootp=$!
KILL+=($rootp)
"${NOBODY[@]}" sleep 600 & nobp=$!
KILL+=($nobp)
wait_until 5 uid_of_is "$nobp" 65534
check "nobody's sleep runs as uid 65534" uid_of_is "$nobp" 65534
for b in auto procmap procfs; do
	expect_fail "nobody, --backend=$b: root's process -> 4 permission denied" 4 'permission denied' \
		"${NOBODY[@]}" "$PUB/taskvma" maps --backend="$b" "$rootp"
done
expect_fail "nobody, --backend=bpf: -> 7 with the reason" 7 '(not available|unavailable|unsupported|not supported).*[a-zA-Z]{4}' \
	"${NOBODY[@]}" "$PUB/taskvma" maps --backend=bpf "$nobp"
expect_fail "nobody, lookup --backend=bpf: -> 7" 7 '(not available|unavailable|unsupported|not supported)' \
	"${NOBODY[@]}" "$PUB/taskvma" lookup --backend=bpf "$nobp" 0x1000
# CAP_BPF + CAP_PERFMON without CAP_SYS_ADMIN is what the engine documents
# as enough (the light skeleton's loader program, bpf_d_path, and the
# pointer subtraction of the name cache all need no more): the BPF backend
# reads even root's process, like bpftool; CAP_BPF alone is refused with 7.
BPFCAPS=("${NOBODY[@]}" --inh-caps=+bpf,+perfmon --ambient-caps=+bpf,+perfmon)
"${BPFCAPS[@]}" "$PUB/taskvma" maps --backend=bpf "$rootp" >"$TMPD/caps.out" 2>"$TMPD/caps.err"
check_eq "nobody + CAP_BPF + CAP_PERFMON, --backend=bpf: root's process, exit 0" 0 "$?$(head -c 200 "$TMPD/caps.err")"
cat "/proc/$rootp/maps" >"$TMPD/caps.want"	# (cmp trusts st_size, 0 in /proc)
check_files_eq "nobody + CAP_BPF + CAP_PERFMON, --backend=bpf: root's process equals /proc" \
	"$TMPD/caps.want" "$TMPD/caps.out"
expect_fail "nobody + CAP_BPF only, --backend=bpf: -> 7 naming CAP_PERFMON" 7 'CAP_PERFMON' \
	"${NOBODY[@]}" --inh-caps=+bpf --ambient-caps=+bpf "$PUB/taskvma" maps --backend=bpf "$rootp"
for b in auto procmap procfs; do
	"${NOBODY[@]}" "$PUB/taskvma" maps ${b:+--backend=$b} "$nobp" >"$TMPD/got" 2>"$TMPD/err"; rc=$?
	cat "/proc/$nobp/maps" >"$TMPD/want"
	if [ "$rc" -eq 0 ]; then
		check_files_eq "nobody, --backend=$b: own process equals /proc" "$TMPD/want" "$TMPD/got"
	else
		fail "nobody, --backend=$b: own process" "exit $rc: $(head -c 300 "$TMPD/err")"
	fi
done
"${NOBODY[@]}" "$PUB/taskvma" maps --json "$nobp" >"$TMPD/j" 2>/dev/null
check "nobody, auto: --json names a fallback backend" python3 "$ROOT/tests/oracle.py" json-fallback "$TMPD/j"
"${NOBODY[@]}" "$PUB/taskvma" maps --all >"$TMPD/all" 2>"$TMPD/err"; rc=$?
check "nobody, --all: exits 0 or 4 (others' processes denied), never crashes" test "$rc" -eq 0 -o "$rc" -eq 4
check "nobody, --all: its own process is there" grep -q "^==> $nobp (sleep) <==" "$TMPD/all"
check "nobody, --all: no root process's block" bash -c "! grep -q '^==> $rootp ' '$TMPD/all'"

# ---- --all while processes come and go -------------------------------------------------------
# tests/oracle.py all-ok-each OUT...: for each `maps --all` output, whether
# it is well-formed blocks, each pid once, and whether in pid order, all
# runs from one python start ("FILE<tab>WELL<tab>ORDER", each "ok" or why)
allok_each() { python3 "$ROOT/tests/oracle.py" all-ok-each "$@"; }
# exit 0, or 6 when some other process's map kept changing (said on stderr)
rc_ok() { [ "$1" -eq 0 ] || { [ "$1" -eq 6 ] && grep -qi chang "$2"; }; }
(
	end=$((SECONDS + 30))
	while [ $SECONDS -lt $end ]; do
		/bin/true; sh -c 'sleep 0.01 & exit 0'; /bin/true
	done
) & churn=$!
KILL+=($churn)
ok=0 bad= ordered=0 order_msg=
for i in 1 2 3 4 5 6; do
	"$TASKVMA" maps --all >"$TMPD/all.$i" 2>"$TMPD/allerr.$i"; echo $? >"$TMPD/allrc.$i"
done
kill "$churn" 2>/dev/null
allok_each "$TMPD"/all.[1-6] >"$TMPD/allv"
for i in 1 2 3 4 5 6; do
	rc=$(cat "$TMPD/allrc.$i")
	IFS=$'\t' read -r _ well order < <(grep -F "$TMPD/all.$i"$'\t' "$TMPD/allv")
	if rc_ok "$rc" "$TMPD/allerr.$i" && [ "$well" = ok ]; then
		ok=$((ok + 1))
	else
		bad="run $i: exit $rc $(head -c 200 "$TMPD/allerr.$i") ${well:-no verdict}"
	fi
	if [ "$order" = ok ]; then
		ordered=$((ordered + 1))
	else
		order_msg="run $i: ${order:-no verdict}"
	fi
done
check_eq "maps --all x6 while processes spawn and exit: exit 0, well-formed blocks" 6 "$ok${bad:+ ($bad)}"
check_eq "maps --all x6 while processes spawn and exit: blocks in pid order" 6 "$ordered${order_msg:+ ($order_msg)}"
for b in bpf procmap procfs; do
	(for j in $(seq 300); do /bin/true; sh -c 'exit 0'; done) & spawner=$!
	"$TASKVMA" maps --all --backend="$b" >"$TMPD/allb.$b" 2>"$TMPD/allberr.$b"; echo $? >"$TMPD/allbrc.$b"
	wait "$spawner"
done
allok_each "$TMPD"/allb.{bpf,procmap,procfs} >"$TMPD/allbv"
for b in bpf procmap procfs; do
	rc=$(cat "$TMPD/allbrc.$b")
	IFS=$'\t' read -r _ well order < <(grep -F "$TMPD/allb.$b"$'\t' "$TMPD/allbv")
	if rc_ok "$rc" "$TMPD/allberr.$b"; then
		check_eq "maps --all --backend=$b while processes spawn: well-formed" ok "${well:-no verdict}"
		check_eq "maps --all --backend=$b while processes spawn: pid order" ok "${order:-no verdict}"
	else
		fail "maps --all --backend=$b while processes spawn" "exit $rc: $(head -c 300 "$TMPD/allberr.$b")"
	fi
done

# Three processes of ~2,000 VMAs whose maps change every millisecond
# (mapper -c): walks of them are often torn and retried.  Whatever happens
# to them (printed after a clean retry, or reported as incomplete with exit
# 6), --all must stay well formed and in pid order (taskvma_snapshot_all:
# "in pid order").  Twelve runs per backend, since a retry is a matter of
# timing (here about half of the runs retry one of them); four in the quick
# (sanitizer) pass, whose point is the memory errors of those retries, not
# their odds (each --all is several times slower there).
if [ "$QUICK" = 1 ]; then NCH=4; else NCH=12; fi
churners=()
for k in 1 2 3; do
	start_mapper -n 2000 -c 1000 || fail "churning mapper" "did not start"
	churners+=("$MAPPER_PID")
	KILL+=("$MAPPER_PID")
done
churner=${churners[0]}
for b in bpf procmap procfs; do
	for i in $(seq "$NCH"); do
		"$TASKVMA" maps --all --backend="$b" >"$TMPD/ch.$b.$i" 2>"$TMPD/cherr.$b.$i"
		echo $? >"$TMPD/chrc.$b.$i"
	done
done
# the verdicts of all those runs from one python start
allok_each "$TMPD"/ch.*.* >"$TMPD/chv"
for b in bpf procmap procfs; do
	nrun=0 nok=0 nprinted=0 why=
	for i in $(seq "$NCH"); do
		rc=$(cat "$TMPD/chrc.$b.$i")
		nrun=$((nrun + 1))
		grep -q "^==> $churner " "$TMPD/ch.$b.$i" && nprinted=$((nprinted + 1))
		IFS=$'\t' read -r _ _ order < <(grep -F "$TMPD/ch.$b.$i"$'\t' "$TMPD/chv")
		if ! rc_ok "$rc" "$TMPD/cherr.$b.$i"; then
			why="run $i: exit $rc $(head -c 200 "$TMPD/cherr.$b.$i")"
		elif [ "$order" != ok ]; then
			why="run $i: ${order:-no verdict} (churners ${churners[*]})"
		else
			nok=$((nok + 1))
		fi
	done
	check_eq "maps --all --backend=$b x$NCH with a map-churning process: well formed, pid order (churner printed $nprinted times)" \
		"$nrun" "$nok${why:+ ($why)}"
done
kill "${churners[@]}" 2>/dev/null
# ---- a listing that fails is an error, not a shorter list ------------------
# tests/preload/fail_readdir.so makes readdir() fail with EIO after 3
# entries of the directories named by TV_FAIL_READDIR, as a getdents64()
# failure would: /proc (every process, a selection) and /proc/PID/task (the
# threads maps --consistent stops).  Each must exit 1 with the cause on one
# stderr line and print nothing: a map or scan of "every process" that missed
# some would be wrong without saying so.
SO=$BUILD/tests/preload/fail_readdir.so
if [ ! -f "$SO" ]; then
	fail "fault injection: $SO" "not built"
else
	# (the sanitizer tree: the shim is loaded before ASan's runtime)
	export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
	for b in bpf procmap procfs; do
		expect_fail "maps --all --backend=$b, /proc listing fails: exit 1, no output" 1 \
			'^taskvma: /proc: listing processes: Input/output error$' \
			env TV_FAIL_READDIR=/proc LD_PRELOAD="$SO" "$TASKVMA" --backend="$b" maps --all
		expect_fail "maps --comm --backend=$b, /proc listing fails: exit 1, no output" 1 \
			'^taskvma: /proc: listing processes: Input/output error$' \
			env TV_FAIL_READDIR=/proc LD_PRELOAD="$SO" "$TASKVMA" --backend="$b" maps --comm=sleep
	done
	expect_fail "scan --backend=procfs, /proc listing fails: exit 1, no summary line" 1 \
		'^taskvma: /proc: listing processes: Input/output error$' \
		env TV_FAIL_READDIR=/proc LD_PRELOAD="$SO" "$TASKVMA" --backend=procfs scan
	env TV_FAIL_READDIR=/proc LD_PRELOAD="$SO" "$TASKVMA" --backend=procfs scan --json \
		>"$TMPD/scanfail.json" 2>/dev/null
	rc=$?
	check_eq "scan --json, /proc listing fails: exit 1, the failure under errors as pid 0" \
		"1:[{'pid': 0, 'error': '/proc: listing processes: Input/output error'}]" \
		"$rc:$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["errors"])' "$TMPD/scanfail.json" 2>&1)"
	start_mapper || fail "fault injection: mapper" "did not start"
	KILL+=("$MAPPER_PID")
	for b in procmap procfs; do
		expect_fail "maps --consistent --backend=$b, /proc/PID/task listing fails: exit 1, no output" 1 \
			"^taskvma: pid $MAPPER_PID: /proc/$MAPPER_PID/task: Input/output error\$" \
			env TV_FAIL_READDIR='/proc/[0-9]*/task' TV_FAIL_READDIR_AFTER=1 LD_PRELOAD="$SO" \
			"$TASKVMA" --backend="$b" maps --consistent "$MAPPER_PID"
	done
	# the oracle for the shim: the same commands without it succeed
	# (exit 6 too: a process that changed while read, on a busy machine)
	env TV_FAIL_READDIR=/nonexistent LD_PRELOAD="$SO" "$TASKVMA" --backend=procfs maps --all \
		>"$TMPD/all.out" 2>/dev/null
	rc=$?
	n=$(grep -c '^==> ' "$TMPD/all.out")
	if { [ "$rc" = 0 ] || [ "$rc" = 6 ]; } && [ "$n" -gt 1 ]; then
		pass "fault injection: the shim loaded but matching nothing, maps --all: exit $rc, $n processes"
	else
		fail "fault injection: the shim loaded but matching nothing, maps --all" "exit $rc, $n processes"
	fi
	check "fault injection: the same maps --consistent without the shim: exit 0" \
		"$TASKVMA" --backend=procfs maps --consistent -q "$MAPPER_PID"
fi

end_case
