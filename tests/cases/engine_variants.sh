#!/usr/bin/env bash
# The BPF engine's variants (docs/design.md, "Engine variants"): each one is
# forced with TASKVMA_BPF_NAMES and compared byte for byte with the kernel's
# own /proc/PID/maps, on whatever kernel this runs on, not only the variant
# this kernel picks.  Where a variant is refused, the verifier must have
# refused it for the reason the engine expects (bpf_d_path() on a vm_file it
# does not trust), and auto must have taken the next one.
# Runs on its own too: bash tests/cases/engine_variants.sh
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
private_copies mapper
PIDS_TO_KILL=()
cleanup() {
	for p in "${PIDS_TO_KILL[@]}" ${MAPPER_PID:-}; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	umount "$TMPD/ns" 2>/dev/null
	[ -n "$OWN_TMPD" ] && rm -rf "$TMPD"
}
trap cleanup EXIT

# Is there a BPF engine at all on this kernel?  (No kfuncs: nothing to test
# here; features.sh and maps_backends.sh check the fallbacks.)
"$TASKVMA" -v --backend=bpf maps $$ >/dev/null 2>"$TMPD/auto.err"; rc=$?
if grep -q "lacks a kfunc\|not permitted" "$TMPD/auto.err"; then
	echo "SKIP engine variants: $(tail -n 1 "$TMPD/auto.err")"
	end_case
	exit 0
fi
check_eq "auto engine loads (exit 0)" 0 "$rc"
AUTO=$(sed -n 's/.*engine variant \([a-z]*\).*/\1/p' "$TMPD/auto.err" | head -n 1)
case $AUTO in
dpath|walk|user) pass "-v names the engine variant auto loaded: $AUTO" ;;
*) fail "-v names the engine variant" "stderr: $(head -c 300 "$TMPD/auto.err")" ;;
esac

# cmp_proc NAME PID ARGS...: taskvma maps ARGS PID equals /proc/PID/maps
cmp_proc() {
	local name=$1 pid=$2 rc; shift 2
	cat "/proc/$pid/maps" >"$TMPD/ref"
	"$TASKVMA" maps "$@" "$pid" >"$TMPD/out" 2>"$TMPD/err"; rc=$?
	cat "/proc/$pid/maps" >"$TMPD/ref2"
	if [ "$rc" -ne 0 ]; then fail "$name" "exit $rc: $(head -c 300 "$TMPD/err")"; return; fi
	if ! cmp -s "$TMPD/ref" "$TMPD/ref2"; then fail "$name" "the fixture's map changed between reads"; return; fi
	check_files_eq "$name" "$TMPD/ref" "$TMPD/out"
}

# A file mapped in another mount namespace, on a tmpfs only that namespace
# sees: the path is the one that namespace shows.
mkdir -p "$TMPD/ns"
fifo=$TMPD/ns.fifo
mkfifo "$fifo"
unshare -m --propagation private sh -c 'mount -t tmpfs tvns "$1" && exec "$2" -d "$1"' \
	sh "$TMPD/ns" "$FX/mapper" >"$fifo" &
NSPID=$!
PIDS_TO_KILL+=("$NSPID")
read -r line <"$fifo"
[ "$line" = ready ] || fail "mapper in a private mount namespace" "did not start: $line"

mkdir -p "$TMPD/m1"
start_mapper -d "$TMPD/m1" -t -n 7 || fail "start mapper" "no ready"
M=$MAPPER_PID
PIDS_TO_KILL+=("$M")
MAPPER_PID=
mkdir -p "$TMPD/m2"
start_mapper -d "$TMPD/m2" -u -n 12000 || fail "start mapper -u -n 12000" "no ready"
BIG=$MAPPER_PID
PIDS_TO_KILL+=("$BIG")
MAPPER_PID=

for v in dpath walk user; do
	TASKVMA_BPF_NAMES=$v "$TASKVMA" -v --backend=bpf maps $$ >/dev/null 2>"$TMPD/v.err"; rc=$?
	if [ "$rc" -ne 0 ]; then
		# Only dpath may be refused, and only by the verifier, at
		# bpf_d_path(), with vm_file untrusted on this build.
		if [ "$v" = dpath ] && [ "$rc" -eq 7 ] && grep -q "verifier rejected" "$TMPD/v.err"; then
			TASKVMA_BPF_NAMES=dpath "$TASKVMA" -v -v --backend=bpf maps $$ >/dev/null 2>"$TMPD/vlog"
			if grep -B3 "type=untrusted_ptr_" "$TMPD/vlog" | grep -q "call bpf_d_path"; then
				pass "dpath refused here by the verifier at bpf_d_path (untrusted vm_file)"
			else
				fail "dpath refused for the expected reason" "$(grep -v '^libbpf' "$TMPD/vlog" | tail -n 3 | tr '\n' ' ')"
			fi
			[ "$AUTO" != dpath ] && pass "auto did not pick the refused dpath" || fail "auto picked dpath" "it is refused"
			continue
		fi
		fail "variant $v loads" "exit $rc: $(tail -n 1 "$TMPD/v.err")"
		continue
	fi
	grep -q "engine variant $v" "$TMPD/v.err" && pass "variant $v: -v says it loaded" \
		|| fail "variant $v: -v says it loaded" "$(head -c 200 "$TMPD/v.err")"
	export TASKVMA_BPF_NAMES=$v
	cmp_proc "variant $v: mapper (offsets, deleted, memfd, /dev/zero, spaces, newline, thread) equals /proc" "$M" --backend=bpf
	cmp_proc "variant $v: 12,000 VMAs and a non-UTF-8 file name equal /proc" "$BIG" --backend=bpf
	cmp_proc "variant $v: a file in another mount namespace equals /proc" "$NSPID" --backend=bpf
	cmp_proc "variant $v: our own shell equals /proc" $$ --backend=bpf
	# --all: one kernel pass; the stopped fixture's block equals /proc
	"$TASKVMA" maps --all --backend=bpf >"$TMPD/all" 2>"$TMPD/err"; rc=$?
	awk -v p="$M" '/^==> /{on = ($2 == p); next} on && NF' "$TMPD/all" >"$TMPD/blk"
	cat "/proc/$M/maps" >"$TMPD/ref"	# (cmp -s takes /proc's size 0 for a difference)
	check_files_eq "variant $v: maps --all, the fixture's block equals /proc (exit $rc)" "$TMPD/ref" "$TMPD/blk"
	unset TASKVMA_BPF_NAMES
done

expect_fail "TASKVMA_BPF_NAMES=bogus is refused (usage)" 2 "TASKVMA_BPF_NAMES=bogus" \
	env TASKVMA_BPF_NAMES=bogus "$TASKVMA" --backend=bpf maps $$
end_case
