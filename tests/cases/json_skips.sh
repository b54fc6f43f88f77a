#!/usr/bin/env bash
# run.sh: serial (its oracle lists the processes of the machine: processes that other cases start and end would come and go between the two)
# JSON never hides a skip: `maps --all --json` and `scan --json` list every
# process they did not print, with the reason (denied, gone,
# no_address_space, torn) and counts, and `lookup --json` the process it
# could not read (trace --json's summary record: tests/cases/trace.sh),
# checked against /proc: as nobody,
# each process listed as denied is one nobody cannot open /proc/PID/maps of;
# as root, each one without an address space is a kernel thread or a zombie
# (or gone since).  On every backend available here.
# Runs on its own too: bash tests/cases/json_skips.sh
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
cleanup() { [ -n "$OWN_TMPD" ] && rm -rf "$TMPD"; }
trap cleanup EXIT
trap 'exit 1' INT TERM
[ -x "$TASKVMA" ] || { fail "json_skips: $TASKVMA" "not built"; exit 0; }
private_copies
chmod 755 "$TMPD" "$TMPD/fx" "$TASKVMA"
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)

usable_backends

# check_skips NAME FILE AS: the document's "skipped" is consistent and each
# entry's reason holds in /proc (AS=nobody: denied entries; root: no mm).
check_skips() {
	check "$1" python3 "$ROOT/tests/oracle.py" skips-check "$2" "$3"
}

for b in $BACKENDS; do
	"$TASKVMA" --backend="$b" maps --all --json >"$TMPD/j" 2>/dev/null
	check_skips "maps --all --json --backend=$b (root): skipped lists kernel threads and the vanished" "$TMPD/j" root
	"$TASKVMA" --backend="$b" scan --json >"$TMPD/j" 2>/dev/null
	check_skips "scan --json --backend=$b (root): skipped lists kernel threads and the vanished" "$TMPD/j" root
done
for b in procmap procfs auto; do
	case " $BACKENDS " in *" $b "*) ;; *) continue ;; esac
	"${NOBODY[@]}" "$TASKVMA" --backend="$b" scan --json >"$TMPD/j" 2>/dev/null
	check_skips "scan --json --backend=$b as nobody: every denied process listed, with the count" "$TMPD/j" nobody
	"${NOBODY[@]}" "$TASKVMA" --backend="$b" maps --all --json >"$TMPD/j" 2>/dev/null
	check_skips "maps --all --json --backend=$b as nobody: every denied process listed, with the count" "$TMPD/j" nobody
done
# lookup --json: the one process, when it cannot be read, under "skipped"
# with its reason (the same object); nothing when it was read
# check_lookup NAME FILE PID REASON|-
check_lookup() {
	check "$1" python3 "$ROOT/tests/oracle.py" skips-lookup "$2" "$3" "$4"
}
sleep 0 & GONE=$!; wait "$GONE"
for b in $BACKENDS; do
	"$TASKVMA" --backend="$b" lookup --json "$$" 0x1000 >"$TMPD/j" 2>/dev/null
	check_lookup "lookup --json --backend=$b of a readable process: nothing skipped" "$TMPD/j" "$$" -
	"$TASKVMA" --backend="$b" lookup --json 2 0x1000 >"$TMPD/j" 2>/dev/null
	check_lookup "lookup --json --backend=$b of a kernel thread: skipped, no_address_space" "$TMPD/j" 2 no_address_space
	"$TASKVMA" --backend="$b" lookup --json "$GONE" 0x1000 >"$TMPD/j" 2>/dev/null
	check_lookup "lookup --json --backend=$b of an exited process: skipped, gone" "$TMPD/j" "$GONE" gone
done
for b in procmap procfs auto; do
	case " $BACKENDS " in *" $b "*) ;; *) continue ;; esac
	"${NOBODY[@]}" "$TASKVMA" --backend="$b" lookup --json 1 0x1000 >"$TMPD/j" 2>/dev/null
	check_lookup "lookup --json --backend=$b as nobody of pid 1: skipped, denied" "$TMPD/j" 1 denied
done
end_case
