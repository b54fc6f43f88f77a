#!/usr/bin/env bash
# Build IDs of `taskvma lookup` against `readelf -n` of the same file, from
# the kernel (PROCMAP_QUERY) and from the file (ELF notes through
# /proc/PID/map_files): ELF files with a build ID, one built without
# (--build-id=none: "none"), a text file ("none"), a deleted file, and a
# file in another mount namespace (a private tmpfs only that process sees);
# the per-handle cache sees a file rewritten in place between two batches;
# anonymous executable memory is "jit".
# Runs on its own too: bash tests/cases/build_id.sh
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	[ -n "$NSDIR" ] && umount "$NSDIR" 2>/dev/null
	[ -n "$OWN_TMPD" ] && rm -rf "$TMPD"
}
NSDIR=
trap cleanup EXIT
trap 'exit 1' INT TERM
[ -x "$TASKVMA" ] || { fail "build_id: $TASKVMA" "not built"; end_case; exit 0; }

D=$TMPD/bid
mkdir -p "$D/ns"
# The fixture: maps each file named on its command line (whole file, read
# only), unlinks those prefixed with '-', says "ready", waits.
MAPFILES=(python3 "$ROOT/tests/oracle.py" map-files)
start_fx() {	# start_fx CMD...: sets FXPID once the fixture says ready
	local fifo=$D/fifo.$RANDOM line
	mkfifo "$fifo"
	"$@" >"$fifo" &
	FXPID=$!
	PIDS+=("$FXPID")
	read -r line <"$fifo"
	rm -f "$fifo"
	[ "$line" = ready ]
}

cp /usr/bin/true "$D/withid"
cp /usr/bin/env "$D/deleted"
cp /usr/bin/env "$D/rewritten"
printf 'not an ELF file\n%.0s' $(seq 300) >"$D/text"
printf 'int main(void) { return 0; }\n' >"$D/noid.c"
if ! cc -Wl,--build-id=none -o "$D/noid" "$D/noid.c" 2>"$D/cc.err"; then
	fail "build_id: compile a binary without build ID" "$(head -c 200 "$D/cc.err")"
fi
want_withid=$(readelf -n "$D/withid" | awk '/Build ID:/ { print $3 }')
want_deleted=$(readelf -n "$D/deleted" | awk '/Build ID:/ { print $3 }')
check "build_id: readelf finds the oracle's build IDs" test -n "$want_withid" -a -n "$want_deleted"
check "build_id: readelf finds no build ID in the --build-id=none binary" \
	test -z "$(readelf -n "$D/noid" 2>/dev/null | grep 'Build ID')"

start_fx "${MAPFILES[@]}" "$D/withid" "-$D/deleted" "$D/text" "$D/noid" "$D/rewritten" ||
	{ fail "build_id: start fixture" "not ready"; end_case; exit 0; }
P=$FXPID
start_of() {	# start_of PID NAME: start address of the first mapping with that name
	awk -v n="$2" 'substr($0, 74) == n { split($1, r, "-"); print r[1]; exit }' "/proc/$1/maps"
}
for from in auto kernel file; do
	for f in withid "deleted (deleted)" text noid; do
		a=$(start_of "$P" "$D/$f")
		if [ -z "$a" ]; then fail "build_id: fixture maps $f" "not in /proc/$P/maps"; continue; fi
		case $f in
		withid) want=$want_withid ;;
		deleted*) want=$want_deleted ;;
		*) want=none ;;
		esac
		# the kernel alone cannot tell "no note" from "could not read"
		[ "$from" = kernel ] && [ "$want" = none ] && want=unreadable
		got=$("$TASKVMA" lookup --build-id-from=$from "$P" "0x$a" | cut -d' ' -f3)
		check_eq "build_id --build-id-from=$from: $f = readelf -n ($want)" "$want" "$got"
	done
done
# Every backend, the same answer (build IDs come from the same place).
for b in procmap procfs bpf; do
	a=$(start_of "$P" "$D/withid")
	got=$("$TASKVMA" lookup --backend=$b "$P" "0x$a" 2>/dev/null | cut -d' ' -f3)
	[ "$b" = bpf ] && [ -z "$got" ] && continue	# the BPF backend does not load here (yet)
	check_eq "build_id --backend=$b: withid = readelf -n" "$want_withid" "$got"
done
# Not a file: '-'.
h=$(awk '/\[stack\]$/ { split($1, r, "-"); print r[1] }' "/proc/$P/maps")
check_eq "build_id: [stack] has none ('-')" "-" "$("$TASKVMA" lookup "$P" "0x$h" | cut -d' ' -f3)"

# Anonymous executable memory: normalize says jit.
j=$(awk '$2 == "rwxp" && NF == 5 { split($1, r, "-"); print r[1]; exit }' "/proc/$P/maps")
got=$(echo "$P 0x$j" | "$TASKVMA" normalize | cut -d' ' -f3)
check "build_id: anonymous rwx memory -> normalize says jit" test -n "$j" -a "$got" = jit
j=$(awk '$2 == "rwxs" && / \/dev\/zero \(deleted\)$/ { split($1, r, "-"); print r[1]; exit }' "/proc/$P/maps")
got=$(echo "$P 0x$j" | "$TASKVMA" normalize | cut -d' ' -f3)
check "build_id: shared anonymous rwx memory (/dev/zero (deleted)) -> normalize says jit" test -n "$j" -a "$got" = jit

# A file rewritten in place (same inode, new mtime) between two batches of
# one handle (normalize: a pause in its input ends a batch): the second
# record has the new build ID, not the cached one.
a=$(start_of "$P" "$D/rewritten")
want1=$(readelf -n "$D/rewritten" | awk '/Build ID:/ { print $3 }')
want2=$(readelf -n /usr/bin/true | awk '/Build ID:/ { print $3 }')
{ echo "$P 0x$a"; sleep 0.5; cat /usr/bin/true >"$D/rewritten"; echo "$P 0x$a"; } |
	"$TASKVMA" normalize >"$TMPD/rw" 2>&1
check_eq "build_id: cached build ID before the rewrite = readelf" "$want1" "$(sed -n 1p "$TMPD/rw" | cut -d' ' -f4)"
check_eq "build_id: after a rewrite in place, the new build ID (cache checks mtime/ctime)" \
	"$want2" "$(sed -n 2p "$TMPD/rw" | cut -d' ' -f4)"

# Another mount namespace: a private tmpfs over $D/ns that only the fixture
# sees; its file is not on the host's path at all.
NSDIR=$D/ns
if unshare -m --propagation private true 2>/dev/null; then
	start_fx unshare -m --propagation private sh -c \
		'mount -t tmpfs tvtest "$1" && cp /usr/bin/env "$1/nsfile" && exec python3 "$2" map-files "$1/nsfile"' \
		sh "$D/ns" "$ROOT/tests/oracle.py" || fail "build_id: start fixture in a mount namespace" "not ready"
	Q=$FXPID
	a=$(start_of "$Q" "$D/ns/nsfile")
	check "build_id: the namespace's file is not visible on the host" test ! -e "$D/ns/nsfile"
	want=$(nsenter -t "$Q" -m readelf -n "$D/ns/nsfile" | awk '/Build ID:/ { print $3 }')
	for from in kernel file; do
		got=$("$TASKVMA" lookup --build-id-from=$from "$Q" "0x$a" | cut -d' ' -f3)
		check "build_id --build-id-from=$from: file in another mount namespace = readelf -n inside it" \
			test -n "$want" -a "$want" = "$got"
	done
else
	fail "build_id: unshare -m" "cannot create a mount namespace here"
fi
end_case
