#!/usr/bin/env bash
# run.sh: exclusive trace (it counts the trace programs loaded on the machine,
# by name; trace.sh and example_seed.sh load them and start trace_child)
# taskvma trace: Ctrl-C (SIGINT), SIGTERM and --duration end the trace,
# print the summary, and leave nothing attached: the trace programs it
# loaded and their links are gone afterwards (bpftool prog/link show).
set -u
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/trace_lib.inc"
private_copies
trap 'stop_child' EXIT

if ! command -v bpftool >/dev/null; then
	PATH=$PATH:/usr/sbin:/sbin
fi

# ids of the programs that appeared since `before`, and links that use them
new_progs() { comm -13 <(printf '%s\n' $1 | sort) <(our_progs | sort) | sort -n; }
links_of() {
	local id out=""
	for id in $1; do
		out+=$(bpftool link show 2>/dev/null | grep -E "prog $id( |\$)")
	done
	printf '%s' "$out"
}

# mode NAME SIGNAL|duration ARGS...: start, check attached, stop, check gone
run_mode() {
	local name=$1 how=$2; shift 2
	local before ids t0 t1
	before=$(our_progs)
	t0=$(date +%s%N)
	start_trace "$name" "$@" || { fail "trace teardown $name: started" "$(cat "$TMPD/$name.err")"; return; }
	ids=$(new_progs "$before")
	check "trace teardown $name: programs attached while tracing" test -n "$ids"
	check "trace teardown $name: links while tracing" test -n "$(links_of "$ids")"
	case $how in
	INT | TERM) kill -"$how" "$TRACE_PID" ;;
	esac
	wait_gone "$TRACE_PID" 15
	t1=$(date +%s%N)
	check_eq "trace teardown $name: exit code 0" 0 "$WAIT_RC"
	case $how in
	INT) check "trace teardown $name: summary says interrupted" grep -q '^taskvma: 0 captures .*(interrupted)$' "$TMPD/$name.err" ;;
	TERM) check "trace teardown $name: summary says terminated" grep -q '^taskvma: 0 captures .*(terminated)$' "$TMPD/$name.err" ;;
	duration)
		check "trace teardown $name: summary" grep -q '^taskvma: 0 captures (0 incomplete, 0 without a map), 0 lost, 0 processes seen$' "$TMPD/$name.err"
		# not before its --duration (measured from before the start).  That it
		# stops at all: wait_gone's 15 s; how soon after is a timing (make bench)
		check "trace teardown $name: did not stop before its --duration 4" test $(((t1 - t0) / 1000000)) -ge 4000
		;;
	esac
	# links go at once; the kernel frees a detached program after an RCU
	# grace period (about 0.1 s here): allow it 3 s
	check_eq "trace teardown $name: no link left" "" "$(links_of "$ids")"
	local left i
	for ((i = 0; i < 150; i++)); do
		left=""
		for id in $ids; do
			bpftool prog show id "$id" >/dev/null 2>&1 && left+=" $id"
		done
		[ -z "$left" ] && break
		sleep 0.02
	done
	check_eq "trace teardown $name: no program left" "" "$left"
	check_eq "trace teardown $name: nothing on stdout" "" "$(cat "$TMPD/$name.out")"
}

start_child
# every hook at once, on a child that does nothing meanwhile
run_mode sigint INT --on syscall=getppid --on exec --on exit --on signal=USR1 --pid "$CHILD_PID"
run_mode sigterm TERM --on syscall --on exec --on exit --on signal --pid "$CHILD_PID"
# every process (the once-per-process table and its exit cleanup hook)
run_mode all TERM --on exec --comm no-such-comm-xx
# (4 s: the programs and links are listed while it runs; bpftool took over
# a second for that on this machine under load)
run_mode duration duration --on exit --on signal --pid "$CHILD_PID" --duration 4
stop_child
end_case
