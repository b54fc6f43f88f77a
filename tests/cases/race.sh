#!/usr/bin/env bash
# run.sh: serial (its racer must get a CPU as often as the reader; other cases beside it change how often reads tear)
# Torn maps never pass as complete, in the manner of the kernel's
# proc-maps-race selftest: a child flips its map between two known states
# without pause (move: one page moved back and forth by mremap to a hole two
# VMAs higher; split: mprotect splits and merges a VMA; shrink: mremap
# shrinks and expands one), and every snapshot a backend reports complete
# (exit 0) must be one of the two states, byte for byte (the child wrote
# both from its own /proc/self/maps).  Exit 6 (changed during every walk)
# is allowed.  On every backend available here.  A backend without a
# change counter (procmap, procfs) can still pass a torn snapshot as complete
# under this racer: reported as KNOWN-DEFECT lines, not as passing.
# Runs on its own too: bash tests/cases/race.sh
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
RACER=
cleanup() {
	[ -n "$RACER" ] && kill "$RACER" 2>/dev/null
	wait 2>/dev/null
	[ -n "$OWN_TMPD" ] && rm -rf "$TMPD"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
[ -x "$TASKVMA" ] || { fail "race: $TASKVMA" "not built"; exit 0; }
private_copies racer

usable_backends
if [ "$QUICK" = 1 ]; then N=15; else N=50; fi

for mode in move split shrink; do
	"$FX/racer" -m "$mode" -o "$TMPD/state" >"$TMPD/racer.out" & RACER=$!
	for _ in $(seq 200); do grep -q ready "$TMPD/racer.out" && break; sleep 0.05; done
	check "racer -m $mode: two different states written (oracle sanity)" \
		test -s "$TMPD/state.0" -a -s "$TMPD/state.1" -a "$(cmp -s "$TMPD/state.0" "$TMPD/state.1"; echo $?)" = 1
	for b in $BACKENDS; do
		ok=0 torn=0 incomplete=0 other=0 why=
		for _ in $(seq "$N"); do
			"$TASKVMA" --backend="$b" maps "$RACER" >"$TMPD/got" 2>"$TMPD/err"; rc=$?
			if [ "$rc" = 0 ]; then
				if cmp -s "$TMPD/got" "$TMPD/state.0" || cmp -s "$TMPD/got" "$TMPD/state.1"; then
					ok=$((ok + 1))
				else
					torn=$((torn + 1))
					why=$(diff "$TMPD/state.0" "$TMPD/got" | head -n 4 | tr '\n' ' ')
				fi
			elif [ "$rc" = 6 ]; then incomplete=$((incomplete + 1))
			else other=$((other + 1)); why="exit $rc: $(cat "$TMPD/err")"
			fi
		done
		real=$b
		[ "$b" = auto ] && real=$("$TASKVMA" -v maps $$ 2>&1 >/dev/null | sed -n 's/.*using backend \([a-z]*\).*/\1/p' | head -n 1)
		if [ "$real" = bpf ] || [ "$torn" = 0 ]; then
			check_eq "maps --backend=$b of a racer ($mode): every complete snapshot is a real state ($ok real, $incomplete exit 6) $why" \
				"0 0" "$torn $other"
		else
			# A backend without a change counter cannot tell every
			# tear: two walks that agree are evidence, not proof, and
			# this racer flips between two states so fast that two
			# walks often tear the same way (docs/design.md).  Known,
			# said on every run, not counted as passing: issue 10.
			echo "KNOWN-DEFECT maps --backend=$b of a racer ($mode): $torn of $N snapshots reported complete were torn ($ok real, $incomplete exit 6) $why"
			check_eq "maps --backend=$b of a racer ($mode): no failure other than a torn snapshot" "0" "$other"
		fi
	done
	kill "$RACER"; wait "$RACER" 2>/dev/null; RACER=
done
end_case
