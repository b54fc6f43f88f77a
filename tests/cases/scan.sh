#!/usr/bin/env bash
# `taskvma scan` against an independent oracle: the documented rules, written
# again in Python, applied to the kernel's own /proc/PID/maps of the suspect
# fixture (one mapping per rule, and clean controls).  For each backend: one
# PID, every process (the fixture's findings there, once, and the summary
# line's counts), --json (strict JSON), --rules; each finding is the mapping
# the fixture made for that rule.  Then bad input and exit codes.
# Runs on its own too: bash tests/cases/scan.sh
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
BACKENDS="bpf procmap procfs auto"
PUB=
AT_EXIT+=('[ -n "$PUB" ] && rm -rf "$PUB"')
trap_cleanup

[ -x "$TASKVMA" ] || { fail "scan: $TASKVMA" "not built"; exit 0; }
[ -x "$BUILD/tests/fixtures/suspect" ] || { fail "scan: suspect fixture" "not built"; exit 0; }
private_copies suspect

# start_suspect ARGS...: sets SPID; the fixture's "map" lines go to $TMPD/made.
# RUN_AS: a command prefix to start it with (setpriv ...).
RUN_AS=()
SUSPECT=$FX/suspect
start_suspect() {
	local fifo="$TMPD/suspect.fifo" line
	rm -f "$fifo" "$TMPD/made"
	mkfifo "$fifo"
	"${RUN_AS[@]}" "$SUSPECT" "$@" >"$fifo" &
	SPID=$!
	KILL+=("$SPID")
	exec {sfd}<"$fifo"
	rm -f "$fifo"
	while read -r -t 10 -u "$sfd" line; do
		[ "$line" = ready ] && break
		echo "$line" >>"$TMPD/made"
	done
	exec {sfd}<&-
	[ "$line" = ready ] || { echo "suspect did not start: $line" >&2; return 1; }
}

oracle() { python3 "$ROOT/tests/oracle.py" "$@"; }

# scan_all OUT ERR COMMAND...: a scan of every process, RC its exit code.
# Other processes on the machine may start (exec: "map changed during every
# walk", exit 6) or exit (BPF: "a mapping's name could not be read", exit 1)
# under the scan; such errors are theirs, not the fixture's: up to 3 attempts
# to get a clean one (exit 0, the summary alone on stderr).
scan_all() {
	local out=$1 err=$2; shift 2
	for _ in 1 2 3; do
		"$@" >"$out" 2>"$err"
		RC=$?
		[ "$RC" -eq 0 ] && [ "$(wc -l <"$err")" -eq 1 ] && return
		sed 's/^/  (retried) /' "$err" >&2
	done
}

SUMMARY_RE='^taskvma: scanned ([0-9]+) process(es)?: ([0-9]+) findings?(; some processes skipped: permission denied)?$'
# summary_ok NAME STDERR STDOUT_LINES: the last stderr line is the summary and
# its finding count is the number of findings printed; sets SCANNED.
summary_ok() {
	local last
	last=$(tail -n 1 "$2")
	SCANNED=
	if [[ $last =~ $SUMMARY_RE ]]; then
		SCANNED=${BASH_REMATCH[1]}
		check_eq "$1" "$3" "${BASH_REMATCH[3]}"
	else
		fail "$1" "no summary line: $(tr '\n' ' ' <"$2")"
	fi
}

start_suspect -d "$TMPD" -t || { fail "scan: start suspect" "see stderr"; exit 0; }
COMM=$(cat "/proc/$SPID/comm")
STID=$(ls "/proc/$SPID/task" | grep -vx "$SPID")
PM=$TMPD/proc.maps
cat "/proc/$SPID/maps" >"$PM"
oracle scan-expect "$PM" "$SPID" "$COMM" >"$TMPD/want"
# the oracle must have something to compare: one finding per rule the
# fixture could make here (stack, heap are not always possible)
for r in wx anon-exec deleted-exec memfd-exec; do
	check "scan: oracle sees $r in the fixture" grep -q "^$SPID ($COMM) [a-z,-]*$r" "$TMPD/want"
done
check "scan: the fixture's mappings are what /proc shows" \
	oracle scan-made "$TMPD/made" "$PM" "$TMPD/want" "$SPID"
for rules in wx anon-exec,heap-exec; do
	oracle scan-expect "$PM" "$SPID" "$COMM" "$rules" >"$TMPD/want.$rules"
	check "scan: oracle has findings for --rules=$rules" test -s "$TMPD/want.$rules"
done

# The oracle's verdicts on each backend's output are queued (ocheck, files
# of their own per backend) and given by one python start after the loop.
for b in $BACKENDS; do
	O=$TMPD/$b
	# one PID
	"$TASKVMA" scan --backend="$b" "$SPID" >"$O.pid" 2>"$TMPD/err"
	check_eq "scan --backend=$b PID: exit 0" 0 $?
	check_files_eq "scan --backend=$b PID: findings = oracle on /proc/PID/maps" "$TMPD/want" "$O.pid"
	ocheck "scan --backend=$b PID: each finding is the mapping made for its rules" \
		scan-made "$TMPD/made" "$PM" "$O.pid" "$SPID"
	check_eq "scan --backend=$b PID: stderr is the summary only" \
		"taskvma: scanned 1 process: $(wc -l <"$TMPD/want") findings" "$(cat "$TMPD/err")"

	# every process: the fixture's findings are there, once (it has two threads)
	oracle scan-procs "$O.before"
	scan_all "$O.all" "$TMPD/err" "$TASKVMA" scan --backend="$b"
	check_eq "scan --backend=$b (all): exit 0" 0 "$RC"
	oracle scan-procs "$O.after"
	grep "^$SPID " "$O.all" >"$TMPD/mine"
	check_files_eq "scan --backend=$b (all): fixture's findings = oracle" "$TMPD/want" "$TMPD/mine"
	ocheck "scan --backend=$b (all): each finding is the mapping made for its rules" \
		scan-made "$TMPD/made" "$PM" "$O.all" "$SPID"
	summary_ok "scan --backend=$b (all): summary counts the findings printed" "$TMPD/err" \
		"$(wc -l <"$O.all")"
	[ -n "$SCANNED" ] && ocheck "scan --backend=$b (all): number of processes scanned plausible" \
		scan-between "$O.before" "$O.after" "$SCANNED"
	check "scan --backend=$b (all): the fixture's second thread is not a process" \
		test -n "$STID" -a -z "$(grep "^$STID " "$O.all")"
	check_eq "scan --backend=$b (all): stderr is the summary only" 1 "$(wc -l <"$TMPD/err")"

	# JSON, one PID and all
	"$TASKVMA" scan --backend="$b" --json "$SPID" >"$O.pid.json" 2>"$TMPD/err"
	check_eq "scan --backend=$b --json PID: exit 0" 0 $?
	ocheck "scan --backend=$b --json PID: strict JSON, findings = oracle" \
		scan-json "$O.pid.json" "$PM" "$SPID" "$COMM" "$b" 1
	scan_all "$O.all.json" "$TMPD/err" "$TASKVMA" scan --backend="$b" --json
	check_eq "scan --backend=$b --json (all): exit 0" 0 "$RC"
	# the summary's finding count is the document's
	SCANNED=
	if [[ $(tail -n 1 "$TMPD/err") =~ $SUMMARY_RE ]]; then
		SCANNED=${BASH_REMATCH[1]}
		ocheck "scan --backend=$b --json (all): summary line" json-eq "$O.all.json" count "${BASH_REMATCH[3]}"
	else
		fail "scan --backend=$b --json (all): summary line" "no summary line: $(tr '\n' ' ' <"$TMPD/err")"
	fi
	ocheck "scan --backend=$b --json (all): strict JSON, fixture's findings = oracle" \
		scan-json "$O.all.json" "$PM" "$SPID" "$COMM" "$b" "${SCANNED:-0}"

	# --rules restricts (a mapping with two rules shows only the asked one)
	for rules in wx anon-exec,heap-exec; do
		"$TASKVMA" scan --backend="$b" --rules="$rules" "$SPID" >"$TMPD/out" 2>"$TMPD/err"
		check_eq "scan --backend=$b --rules=$rules: exit 0" 0 $?
		check_files_eq "scan --backend=$b --rules=$rules: findings = oracle" "$TMPD/want.$rules" "$TMPD/out"
		"$TASKVMA" scan --backend="$b" -j -R "$rules" "$SPID" >"$O.$rules.json" 2>"$TMPD/err"
		ocheck "scan --backend=$b -j -R $rules: JSON findings = oracle" \
			scan-json "$O.$rules.json" "$PM" "$SPID" "$COMM" "$b" 1 "$rules"
	done
done
ocheck_run
cat "/proc/$SPID/maps" >"$TMPD/proc.maps2"
check_files_eq "scan: the fixture did not change during the test" "$PM" "$TMPD/proc.maps2"

# ---- bad input ---------------------------------------------------------------
expect_fail "scan --rules=bogus -> 2" 2 "^taskvma: bad --rules 'bogus'" "$TASKVMA" scan --rules=bogus "$SPID"
expect_fail "scan --rules=wx,bogus -> 2" 2 "^taskvma: bad --rules" "$TASKVMA" scan --rules=wx,bogus "$SPID"
expect_fail "scan --rules= (empty) -> 2" 2 "^taskvma: bad --rules" "$TASKVMA" scan --rules= "$SPID"
expect_fail "scan --bogus -> 2" 2 "^taskvma: unknown option" "$TASKVMA" scan --bogus
expect_fail "scan --backend=bogus -> 2" 2 "^taskvma: " "$TASKVMA" scan --backend=bogus "$SPID"
# ("--" is the end of the options since the one grammar: not a PID)
for p in 12x 0 " 1" 99999999999; do
	expect_fail "scan PID '$p' -> 2" 2 "^taskvma: invalid PID" "$TASKVMA" scan "$SPID" "$p"
done

pid_max=$(cat /proc/sys/kernel/pid_max)
nopid=$((pid_max - 1))
while [ -e "/proc/$nopid" ]; do nopid=$((nopid - 1)); done
for b in $BACKENDS; do
	"$TASKVMA" scan --backend="$b" "$nopid" >"$TMPD/out" 2>"$TMPD/err"
	check_eq "scan --backend=$b no-such-PID: exit 3" 3 $?
	check_eq "scan --backend=$b no-such-PID: stdout empty" "" "$(cat "$TMPD/out")"
	check_eq "scan --backend=$b no-such-PID: stderr" \
		"taskvma: pid $nopid: no such process|taskvma: scanned 0 processes: 0 findings" \
		"$(paste -sd'|' "$TMPD/err")"
	# with a good PID too: its findings, then the first failure's code
	"$TASKVMA" scan --backend="$b" "$SPID" "$nopid" >"$TMPD/out" 2>"$TMPD/err"
	check_eq "scan --backend=$b PID no-such-PID: exit 3" 3 $?
	check_files_eq "scan --backend=$b PID no-such-PID: the PID's findings" "$TMPD/want" "$TMPD/out"
	"$TASKVMA" scan --backend="$b" --json "$nopid" >"$TMPD/$b.nopid.json" 2>"$TMPD/err"
	check_eq "scan --backend=$b --json no-such-PID: exit 3" 3 $?
	ocheck "scan --backend=$b --json no-such-PID: still strict JSON" scan-no-findings "$TMPD/$b.nopid.json"
	ocheck "scan --backend=$b --json no-such-PID: reported in errors[] with its pid and message" \
		scan-one-error "$TMPD/$b.nopid.json" "$nopid" "no such process"
done
ocheck_run

# a zombie has no address space: 5 for its PID, skipped in a scan of all
python3 "$ROOT/tests/oracle.py" zombie 30 >"$TMPD/zombie" &
ZP=$!
KILL+=("$ZP")
for _ in $(seq 100); do
	z=$(cat "$TMPD/zombie" 2>/dev/null)
	[ -n "$z" ] && [ "$(sed 's/.*) //' "/proc/$z/stat" 2>/dev/null | cut -d' ' -f1)" = Z ] && break
	sleep 0.05
done
for b in $BACKENDS; do
	"$TASKVMA" scan --backend="$b" "$z" >"$TMPD/out" 2>"$TMPD/err"
	check_eq "scan --backend=$b zombie: exit 5" 5 $?
	check "scan --backend=$b zombie: says so" grep -q "^taskvma: pid $z: zombie" "$TMPD/err"
	scan_all "$TMPD/out" "$TMPD/err" "$TASKVMA" scan --backend="$b"
	check_eq "scan --backend=$b (all) with a zombie around: exit 0" 0 "$RC"
done
kill "$ZP" 2>/dev/null

# a kernel thread has no address space either: 5
kt=
for f in /proc/[0-9]*/stat; do
	# field 9, flags: PF_KTHREAD 0x00200000
	fl=$(sed 's/.*) //' "$f" 2>/dev/null | cut -d' ' -f7)
	[ -n "$fl" ] && [ $((fl & 0x200000)) -ne 0 ] && { kt=${f#/proc/}; kt=${kt%/stat}; break; }
done
if [ -n "$kt" ]; then
	for b in $BACKENDS; do
		"$TASKVMA" scan --backend="$b" "$kt" >"$TMPD/out" 2>"$TMPD/err"
		check_eq "scan --backend=$b kernel thread: exit 5" 5 $?
		check "scan --backend=$b kernel thread: says so" grep -q "^taskvma: pid $kt: kernel thread" "$TMPD/err"
	done
else
	fail "scan: find a kernel thread" "none in /proc"
fi

# ---- an unprivileged user ----------------------------------------------------------
# Other users' processes: 4 for a PID, skipped with a note in a scan of all.
# Its own: auto falls back from BPF and finds what the oracle finds.
PUB=$(mktemp -d /tmp/tvscan.XXXXXX)
chmod 755 "$PUB"
cp "$TASKVMA" "$FX/suspect" "$PUB/"
mkdir "$PUB/d" && chown 65534:65534 "$PUB/d"
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)
"${NOBODY[@]}" "$PUB/taskvma" scan "$SPID" >"$TMPD/out" 2>"$TMPD/err"
check_eq "scan as nobody, root's PID: exit 4" 4 $?
check "scan as nobody, root's PID: permission denied" grep -q "^taskvma: pid $SPID: permission denied" "$TMPD/err"
scan_all "$TMPD/out" "$TMPD/err" "${NOBODY[@]}" "$PUB/taskvma" scan
check_eq "scan as nobody (all): exit 0" 0 "$RC"
check "scan as nobody (all): says some were skipped" \
	grep -qEx "taskvma: scanned [0-9]+ process(es)?: [0-9]+ findings?; some processes skipped: permission denied" "$TMPD/err"
"${NOBODY[@]}" "$PUB/taskvma" scan --backend=bpf "$SPID" >"$TMPD/out" 2>"$TMPD/err"
check_eq "scan as nobody --backend=bpf: exit 7" 7 $?
ROOT_SPID=$SPID
RUN_AS=("${NOBODY[@]}") SUSPECT=$PUB/suspect
if start_suspect -d "$PUB/d"; then
	cat "/proc/$SPID/maps" >"$TMPD/nobody.maps"
	oracle scan-expect "$TMPD/nobody.maps" "$SPID" "$(cat "/proc/$SPID/comm")" >"$TMPD/want.nobody"
	"${NOBODY[@]}" "$PUB/taskvma" scan "$SPID" >"$TMPD/out" 2>"$TMPD/err"
	check_eq "scan as nobody, own PID: exit 0" 0 $?
	check_files_eq "scan as nobody, own PID: findings = oracle" "$TMPD/want.nobody" "$TMPD/out"
	check "scan as nobody, own PID: each finding is the mapping made for its rules" \
		oracle scan-made "$TMPD/made" "$TMPD/nobody.maps" "$TMPD/out" "$SPID"
	kill "$SPID"
else
	fail "scan: start suspect as nobody" "see stderr"
fi
RUN_AS=()

kill "$ROOT_SPID" 2>/dev/null
wait 2>/dev/null
check "scan: the fixture removed its files" test -z "$(ls "$TMPD" "$PUB/d" | grep '\.bin$')"
end_case
