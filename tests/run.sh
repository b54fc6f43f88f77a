#!/usr/bin/env bash
# Run the test suite: unit tests (tests/unit/*.c, whose binaries make builds
# into BUILD/tests/unit) and case scripts (tests/cases/*.sh), or the ones named.
# Usage: tests/run.sh [-j N] [--timeout SECONDS] [--build DIR] [--quick] [CASE...]
#        tests/run.sh [-j N] [--timeout SECONDS] --pass DIR[:quick] [--pass ...] [CASE...]
#   --build DIR   the build tree to test (default build); --quick: QUICK=1,
#                 the cases skip their slowest parts (the sanitizer pass)
#   --pass DIR[:quick]  one pass over the cases with that build tree; given
#                 twice (make test: build, then build-san:quick), the passes'
#                 cases share the job slots and one final count
#   -j N          run up to N cases at once (default: the number of CPUs)
#   --timeout S   a case still running after S seconds (default 1800, or
#                 $TEST_TIMEOUT) is killed and counted as failed.  Generous:
#                 maps_backends.sh took 1,339 s alone on this 2-CPU machine at
#                 a load average of 20-30 (other users' builds and tests)
# Cases run in parallel unless they say otherwise in a comment near their top:
#   run.sh: serial            nothing else of this run runs meanwhile
#   run.sh: exclusive NAME    no other case naming NAME runs meanwhile, in
#                             this run or any other on the machine (flock on
#                             /tmp/taskvma-tests.NAME.lock)
#   run.sh: long              (on a line of its own) one of the longest
#                             cases: started before the others of the run,
#                             so that it does not end alone at the end
# Each case's output is printed whole, in the order of the list (long
# cases first, serial cases last), after one "== CASE" line and ending with "# CASE: N s".  The
# last line is "N passed, N failed" (CI reads it): the PASS and FAIL lines of all cases,
# plus one FAIL for every case that exited non-zero, died of a signal, timed
# out, or did not print its end marker ("END <name>": end_case in
# tests/lib.sh, check_end() in tests/unit/check.h).  Exit status 0 only when
# nothing failed and something passed.
set -u
cd "$(dirname "$0")/.."
JOBS=$(nproc 2>/dev/null || echo 2) TIMEOUT=${TEST_TIMEOUT:-1800}
build=build quick=0 passes=() cases=()
usage() {
	echo "usage: tests/run.sh [-j N] [--timeout SECONDS] [--build DIR] [--quick] [--pass DIR[:quick]]... [CASE...]" >&2
	exit 2
}
while [ $# -gt 0 ]; do
	case $1 in
	--build) [ $# -ge 2 ] || usage; build=$2; shift 2 ;;
	--quick) quick=1; shift ;;
	--pass) [ $# -ge 2 ] || usage; passes+=("$2"); shift 2 ;;
	-j) [ $# -ge 2 ] || usage; JOBS=$2; shift 2 ;;
	-j*) JOBS=${1#-j}; shift ;;
	--timeout) [ $# -ge 2 ] || usage; TIMEOUT=$2; shift 2 ;;
	-*) usage ;;
	*) cases+=("$1"); shift ;;
	esac
done
[[ $JOBS =~ ^[1-9][0-9]*$ ]] || usage
[[ $TIMEOUT =~ ^[1-9][0-9]*$ ]] || usage
[ ${#passes[@]} -gt 0 ] || { passes=("$build"); [ "$quick" = 0 ] || passes=("$build:quick"); }
[ ${#cases[@]} -gt 0 ] || cases=(tests/unit/*.c tests/cases/*.sh)

# The jobs: every case of every pass, the long ones first (two slots: a
# long case started last would run alone at the end; 457 s of 1,106 s for
# maps_errors.sh at load 10), the serial ones last (they run when nothing
# else does; listed first, they would hold back the output of all the
# others).  jcase/jbuild/jquick/jtag per job; jrule: "" (parallel),
# "serial" or "exclusive NAME" from the case's text.
jcase=() jbuild=() jquick=() jtag=() jrule=()
for want in long parallel serial; do
	for p in "${passes[@]}"; do
		dir=${p%:quick} q=0
		[ "$dir" = "$p" ] || q=1
		case $dir in /*) ;; *) dir=$PWD/$dir ;; esac
		tag=
		[ ${#passes[@]} -eq 1 ] || tag=" [${p}]"
		for c in "${cases[@]}"; do
			rule=$(head -n 40 "$c" 2>/dev/null | sed -nE 's/^(#|\/\*| \*) run\.sh: (serial|exclusive [A-Za-z0-9_-]+).*/\2/p' | head -n 1)
			long=$(head -n 40 "$c" 2>/dev/null | grep -Ec '^(#|/\*| \*) run\.sh: long\b')
			[ "$rule" != serial ] || long=0
			case $want in
			long) [ "$long" -gt 0 ] || continue ;;
			parallel) [ "$rule" != serial ] && [ "$long" -eq 0 ] || continue ;;
			serial) [ "$rule" = serial ] || continue ;;
			esac
			jcase+=("$c") jbuild+=("$dir") jquick+=("$q") jtag+=("$tag") jrule+=("$rule")
		done
	done
done
n=${#jcase[@]}

# The oracles' python3, resolved once for every case (tests/lib.sh: why).
TV_PYTHON=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null) && export TV_PYTHON

OUT=$(mktemp -d)
declare -A jobpid=()    # job index -> pid of the subshell running it, while it runs
cleanup() {
	local p
	# timeout(1) forwards TERM to the case's process group (a job waiting
	# for its lock: flock dies, and so does the job); then the job itself
	for p in "${jobpid[@]}"; do pkill -TERM -P "$p" 2>/dev/null; kill -TERM "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$OUT"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start I: run job I in the background; its output goes to OUT/I.log, its
# run time to OUT/I.time, its exit status then to OUT/I.rc (written last:
# its existence means done; "skip" for a unit binary not built).
start() {
	local i=$1
	(
		c=${jcase[$i]}
		export BUILD=${jbuild[$i]} QUICK=${jquick[$i]}
		export TASKVMA=$BUILD/taskvma
		# a crashing case must not drop core files into the tree
		ulimit -c 0
		case $c in
		*.c) c=${c#./}; cmd=("$BUILD/${c%.c}") ;;   # tests/unit/X.c -> BUILD/tests/unit/X
		*) cmd=(bash "$c") ;;
		esac
		if [ "${cmd[0]}" != bash ] && [ ! -x "${cmd[0]}" ]; then
			echo "FAIL ${jcase[$i]}${jtag[$i]}: not built (${cmd[0]})" >"$OUT/$i.log"
			echo skip >"$OUT/$i.rc"
			exit
		fi
		case ${jrule[$i]} in
		"exclusive "*)
			# (a lock file another user made: run unlocked rather than not at all)
			if { exec {lock}>>"/tmp/taskvma-tests.${jrule[$i]#exclusive }.lock"; } 2>/dev/null; then
				flock "$lock" || exit 1    # (killed while waiting: the run is over)
			else
				exec {lock}</dev/null
			fi ;;
		*) exec {lock}</dev/null ;;
		esac
		TMPD=$(mktemp -d); export TMPD
		t0=$SECONDS
		# the lock's fd is not the case's; stderr: not the shell's own
		# "Segmentation fault" line
		{ timeout -k 10 "$TIMEOUT" "${cmd[@]}" </dev/null >"$OUT/$i.log" 2>&1 {lock}>&-; } 2>/dev/null
		rc=$?
		t=$((SECONDS - t0))
		[ "$t" -lt "$TIMEOUT" ] || rc=124
		rm -rf "$TMPD"
		echo "$t" >"$OUT/$i.time"
		echo "$rc" >"$OUT/$i.rc.tmp" && mv "$OUT/$i.rc.tmp" "$OUT/$i.rc"
	) &
	jobpid[$i]=$!
}

# report I: print job I's output and the runner's verdict on how it ended.
report() {
	local i=$1 c=${jcase[$1]} rc name why=
	rc=$(cat "$OUT/$i.rc")
	case $c in
	*.c) name=$(basename "$c" .c) ;;
	*) name=$(basename "$c") ;;
	esac
	echo "== $c${jtag[$i]}"
	cat "$OUT/$i.log"
	[ "$rc" != skip ] || return    # not built: said so already
	if [ "$rc" -eq 124 ]; then why="timed out after $TIMEOUT s (killed)"
	elif [ "$rc" -gt 128 ] && [ "$rc" -le 192 ]; then why="killed by signal SIG$(kill -l $((rc - 128)) 2>/dev/null || echo $((rc - 128))) (exit status $rc)"
	elif [ "$rc" -ne 0 ]; then why="exit status $rc"
	fi
	if ! grep -qxF "END $name" "$OUT/$i.log"; then
		why="${why:+$why; }no end marker 'END $name': stopped before its last assertion"
	fi
	[ -z "$why" ] || echo "FAIL $c${jtag[$i]}: $why"
	echo "# $c${jtag[$i]}: $(cat "$OUT/$i.time") s"
}

# The scheduler: start, in list order, every job whose rule allows it now
# (a serial job only when nothing runs, and nothing beside it; an exclusive
# job not beside another of its name); print finished jobs in list order.
log=$OUT/all.log
: >"$log"
state=()    # per job: "" pending, r running, d done
for ((i = 0; i < n; i++)); do state[i]=; done
shown=0
while [ "$shown" -lt "$n" ]; do
	running=0 serial_running=0 held=" "
	for i in "${!jobpid[@]}"; do
		# a job gone without its status (its subshell died): say so, do not wait for it
		if [ "${state[i]}" = r ] && [ ! -e "$OUT/$i.rc" ] && ! kill -0 "${jobpid[$i]}" 2>/dev/null; then
			[ -e "$OUT/$i.rc" ] || { echo "# the runner lost this case's job" >>"$OUT/$i.log"; echo 127 >"$OUT/$i.rc"; echo 0 >"$OUT/$i.time"; }
		fi
		if [ "${state[i]}" = r ] && [ -e "$OUT/$i.rc" ]; then state[i]=d; fi
		[ "${state[i]}" = r ] || continue
		running=$((running + 1))
		case ${jrule[i]} in
		serial) serial_running=1 ;;
		"exclusive "*) held+="${jrule[i]#exclusive } " ;;
		esac
	done
	for ((i = shown; i < n && running < JOBS && !serial_running; i++)); do
		[ -z "${state[i]}" ] || continue
		case ${jrule[i]} in
		serial) [ "$running" -eq 0 ] || continue; serial_running=1 ;;
		"exclusive "*)
			case $held in *" ${jrule[i]#exclusive } "*) continue ;; esac
			held+="${jrule[i]#exclusive } " ;;
		esac
		start "$i"; state[i]=r; running=$((running + 1))
	done
	while [ "$shown" -lt "$n" ] && [ "${state[shown]}" = d ]; do
		wait "${jobpid[$shown]}" 2>/dev/null
		unset "jobpid[$shown]"
		report "$shown" | tee -a "$log"
		shown=$((shown + 1))
	done
	[ "$shown" -lt "$n" ] || break
	# sleep until some job ends (or poll: it may have ended just now)
	[ "$running" -eq 0 ] || wait -n 2>/dev/null || sleep 0.1
done
passed=$(grep -c '^PASS ' "$log")
failed=$(grep -c '^FAIL ' "$log")
[ "$passed" -gt 0 ] || failed=$((failed + 1))
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
