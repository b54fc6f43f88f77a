#!/usr/bin/env bash
# `make vmtest`: the kernel matrix.  Boots each kernel of kernels.txt under
# QEMU (software emulation, TCG: these machines have no KVM), one guest at a
# time, with an initramfs of busybox, the built binaries and their shared
# libraries; the guest runs smoke.sh and powers off.  The same smoke.sh then
# runs on the host's own kernel.
# Usage: tests/vmtest/run.sh [--build DIR] [--no-host] [--doc FILE] [NAME...]
#   --doc FILE   also write the matrix table into FILE (docs/kernels.md),
#                between its "<!-- vmtest table -->" marker lines
# Environment: VMTEST_CACHE (downloads, default /var/cache/taskvma-vmtest),
#   VMTEST_TIMEOUT (seconds per guest, default 600), VMTEST_MEM (default 1G).
# Prints PASS/FAIL lines ("PASS KERNEL/check") and "N passed, N failed";
# exit 0 when nothing failed.
set -u
cd "$(dirname "$0")/../.."
BUILD=build HOST=1 DOC= want=()
while [ $# -gt 0 ]; do
	case $1 in
	--build) BUILD=$2; shift 2 ;;
	--no-host) HOST=0; shift ;;
	--doc) DOC=$2; shift 2 ;;
	*) want+=("$1"); shift ;;
	esac
done
: "${VMTEST_TIMEOUT:=600}" "${VMTEST_MEM:=1G}"
export VMTEST_CACHE=${VMTEST_CACHE:-/var/cache/taskvma-vmtest}
OUT=$BUILD/vmtest
mkdir -p "$OUT"
LOG=$OUT/results.txt
: >"$LOG"
t_all=$(date +%s)

for b in qemu-system-x86_64 busybox cpio gzip; do
	command -v "$b" >/dev/null || { echo "FAIL vmtest/setup: $b missing (scripts/setup.sh installs it)"; echo "0 passed, 1 failed"; exit 1; }
done
FX=$BUILD/tests/fixtures
SEED=$BUILD/examples/seed_task_vma/seed_task_vma
for f in "$BUILD/taskvma" "$FX/mapper" "$FX/trace_child" "$FX/jsoncheck" "$FX/hostile" "$FX/watch_seq" "$SEED"; do
	[ -x "$f" ] || { echo "FAIL vmtest/setup: $f not built (make)"; echo "0 passed, 1 failed"; exit 1; }
done

# ---- kernels ------------------------------------------------------------------------
t0=$(date +%s)
tests/vmtest/fetch.sh --build "$BUILD" "${want[@]}" 2>&1 | tee "$OUT/fetch.txt" | sed 's/^/# /'
fetch_rc=${PIPESTATUS[0]}
t_fetch=$(($(date +%s) - t0))

# ---- the initramfs: busybox, the binaries, their libraries (ldd), /init ---------------
t0=$(date +%s)
R=$OUT/root
rm -rf "$R" && mkdir -p "$R"/{bin,vm/fx,proc,sys,dev,tmp}
cp "$(command -v busybox)" "$R/bin/busybox"
cp tests/vmtest/init "$R/init"
cp tests/vmtest/smoke.sh "$R/vm/smoke.sh"
cp "$BUILD/taskvma" "$R/vm/"
cp "$SEED" "$R/vm/"
cp "$FX/mapper" "$FX/trace_child" "$FX/jsoncheck" "$FX/hostile" "$FX/watch_seq" "$R/vm/fx/"
for f in "$R"/vm/taskvma "$R"/vm/seed_task_vma "$R"/vm/fx/*; do
	ldd "$f" | awk '/=> \// { print $3 } /^\t\/[^ ]*ld-linux/ { print $1 }'
done | sort -u | while read -r lib; do
	mkdir -p "$R$(dirname "$lib")"
	cp -L "$lib" "$R$lib"
done
(cd "$R" && find . | cpio -o -H newc --quiet | gzip -1) >"$OUT/initrd.gz"
t_initrd=$(($(date +%s) - t0))
echo "# initramfs: $(du -k "$OUT/initrd.gz" | cut -f1) KiB in ${t_initrd}s, kernels fetched in ${t_fetch}s"

# ---- one guest at a time ----------------------------------------------------------------
# -accel tcg,thread=single: both vCPUs on one host thread.  With the default
# multi-threaded TCG some boots died early with "Oops: int3" (live code
# patching racing under TCG: 1 of 14 boots idle, 2 of 2 for 6.18 on a loaded
# machine; 0 of 3 with thread=single).
boot() {	# NAME -> $OUT/NAME.log; returns qemu's exit code (124: timeout)
	local name=$1 dir=$VMTEST_CACHE/$1
	timeout -k 10 "$VMTEST_TIMEOUT" qemu-system-x86_64 -machine q35 -accel tcg,thread=single \
		-cpu max -m "$VMTEST_MEM" -smp 2 -nographic -no-reboot -nic none \
		-kernel "$dir/vmlinuz" -initrd "$OUT/initrd.gz" \
		-append "console=ttyS0 panic=-1 quiet vmtest.k=$name" </dev/null >"$OUT/$name.log" 2>&1
}
declare -A TIME
while read -r name _; do
	case $name in ''|'#'*) continue ;; esac
	if [ ${#want[@]} -gt 0 ] && ! printf '%s\n' "${want[@]}" | grep -qxF "$name"; then continue; fi
	if [ ! -r "$VMTEST_CACHE/$name/vmlinuz" ]; then
		echo "FAIL $name/boot: no kernel image (fetch failed: see $OUT/fetch.txt)" | tee -a "$LOG"
		continue
	fi
	for try in 1 2; do
		t0=$(date +%s)
		boot "$name"
		rc=$?
		TIME[$name]=$(($(date +%s) - t0))
		# the console's escape sequences (terminal resets) off, CRs off
		sed -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' -e 's/\x1b[A-Za-z]//g' -e 's/\r$//' \
			"$OUT/$name.log" >"$OUT/$name.clean"
		# a guest that died before the suite began (an early Oops under
		# TCG) is booted once more, and that is said
		grep -q '^VMTEST-BEGIN ' "$OUT/$name.clean" && break
		cp "$OUT/$name.clean" "$OUT/$name.try$try.log"
		[ $try = 1 ] && echo "# $name: the guest died before the suite started (qemu exit $rc); booting it again: $(grep -m1 -E 'Oops|panic|BUG' "$OUT/$name.clean")"
	done
	grep -E '^(PASS|FAIL|INFO) ' "$OUT/$name.clean" | tee -a "$LOG" | grep -v '^INFO '
	if grep -q '^VMTEST-END ' "$OUT/$name.clean"; then
		echo "PASS $name/boot: suite ran, powered off (${TIME[$name]}s, qemu exit $rc)" | tee -a "$LOG"
	elif [ $rc = 124 ]; then
		echo "FAIL $name/boot: timed out after ${VMTEST_TIMEOUT}s: $(tail -n 3 "$OUT/$name.clean" | tr '\n' ' ')" | tee -a "$LOG"
	else
		echo "FAIL $name/boot: no end marker (qemu exit $rc): $(grep -m1 -E 'Oops|panic|BUG' "$OUT/$name.clean" || tail -n 3 "$OUT/$name.clean" | tr '\n' ' ')" | tee -a "$LOG"
	fi
	echo "INFO $name/release: $(cat "$VMTEST_CACHE/$name/release")" >>"$LOG"
	echo "INFO $name/time: ${TIME[$name]}" >>"$LOG"
done <tests/vmtest/kernels.txt

# ---- the host's own kernel ---------------------------------------------------------------
if [ $HOST = 1 ]; then
	t0=$(date +%s)
	K=host TV=$PWD/$BUILD/taskvma FXD=$PWD/$FX SEED=$PWD/$SEED WORK=$PWD/$OUT/host-smoke \
		timeout -k 10 "$VMTEST_TIMEOUT" sh tests/vmtest/smoke.sh 2>&1 | tee "$OUT/host.log" |
		grep -E '^(PASS|FAIL|INFO) ' | tee -a "$LOG" | grep -v '^INFO '
	echo "INFO host/release: $(uname -r)" >>"$LOG"
	echo "INFO host/time: $(($(date +%s) - t0))" >>"$LOG"
fi
[ "$fetch_rc" = 0 ] || echo "FAIL vmtest/fetch: some kernel could not be had (see above)" | tee -a "$LOG"

# ---- the table -------------------------------------------------------------------------------
t_total=$(($(date +%s) - t_all))
get() { sed -n "s|^INFO $1/$2: ||p" "$LOG" | head -n 1; }
{
	echo "| kernel | release | kfuncs | kfunc semantics | engine variant | variants exact | auto | backends exact vs /proc | watch | checks | time |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|"
	for name in $(grep -oE '^(PASS|FAIL|INFO) [^/ ]+/' "$LOG" | cut -d' ' -f2 | tr -d / | awk '!s[$0]++'); do
		[ "$name" = vmtest ] && continue
		np=$(grep -c "^PASS $name/" "$LOG"); nf=$(grep -c "^FAIL $name/" "$LOG")
		vok=$(sed -n "s|^INFO $name/variant_ok: ||p" "$LOG" | paste -sd, -)
		echo "| $name | $(get "$name" release) | $(get "$name" kfunc) | $(get "$name" semantics) | $(get "$name" variant) | ${vok:--} | $(get "$name" auto) | $(get "$name" backends) | $(get "$name" watch) | $np pass, $nf fail | $(get "$name" time) s |"
	done
} >"$OUT/table.md"
passed=$(grep -c '^PASS ' "$LOG"); failed=$(grep -c '^FAIL ' "$LOG")
{
	echo
	echo "Run of $(date -u +%Y-%m-%d): \`make vmtest\` took ${t_total} s in all (kernels fetched in ${t_fetch} s, initramfs ${t_initrd} s); $passed checks passed, $failed failed."
} >>"$OUT/table.md"
cat "$OUT/table.md"
if [ -n "$DOC" ]; then
	awk -v t="$OUT/table.md" '
		/<!-- vmtest table -->/ { print; while ((getline l < t) > 0) print l; skip = 1; next }
		/<!-- end vmtest table -->/ { skip = 0 }
		!skip' "$DOC" >"$DOC.tmp" && mv "$DOC.tmp" "$DOC"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
