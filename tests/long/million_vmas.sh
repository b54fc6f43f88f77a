#!/usr/bin/env bash
# run.sh: serial (it raises vm.max_map_count machine-wide and holds a process
# of 1,000,000 VMAs, about 200 MB of kernel memory, for minutes)
# `taskvma maps` of a process with 1,000,000 VMAs equals /proc/PID/maps, for
# each backend (vm.max_map_count raised, then restored).  make test-long.
set -u
. "$(dirname "$0")/../lib.sh"
cleanup() { stop_mapper; restore_max_map; [ -n "$OWN_TMPD" ] && rm -rf "$TMPD"; }
trap cleanup EXIT
trap 'exit 1' INT TERM
private_copies mapper

N=1000000
before=$(cat /proc/sys/vm/max_map_count)
raise_max_map 1100000
if start_mapper -n "$N"; then
	cnt=$(($(wc -l <"/proc/$MAPPER_PID/maps") - 1))
	check "1,000,000 VMAs: the process has $cnt VMAs (>= $N)" test "$cnt" -ge "$N"
	for b in bpf procmap procfs; do
		t0=$SECONDS
		run_cmp "1,000,000 VMAs --backend=$b: equals /proc" "$MAPPER_PID" --backend="$b"
		echo "#   1,000,000 VMAs --backend=$b: $((SECONDS - t0)) s"
	done
	stop_mapper
else
	fail "1,000,000 VMAs: mapper -n $N" "did not start"
fi
if [ -n "$OLD_MAX_MAP" ]; then
	restore_max_map
	check_eq "vm.max_map_count restored" "$before" "$(cat /proc/sys/vm/max_map_count)"
fi
end_case
