#!/usr/bin/env bash
# The library safe to share: the build tree runs (libtaskvma.so.0 next to
# libtaskvma.so, the SONAME), the shared object exports exactly the names the
# public headers declare (nm against include/*.h), a program linked against
# build/ starts and reports the run-time version, and the 8-thread test
# (tests/unit/test_library.c) is clean under ThreadSanitizer.
# Runs on its own too: bash tests/cases/library.sh
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
cleanup() { [ -n "$OWN_TMPD" ] && rm -rf "$TMPD"; }
trap cleanup EXIT
SO=$BUILD/libtaskvma.so
[ -e "$SO" ] || { fail "library: $SO" "not built"; end_case; exit 0; }

soname=$(readelf -d "$SO" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
check_eq "SONAME" "libtaskvma.so.0" "$soname"
check "build/$soname exists (the loader's name)" test -e "$BUILD/$soname"
want=$(sed -n 's/^#define TASKVMA_VERSION_STRING "\(.*\)"/\1/p' "$ROOT/include/taskvma.h")
check "build/libtaskvma.so.$want is the real file" test -f "$BUILD/libtaskvma.so.$want" -a ! -L "$BUILD/libtaskvma.so.$want"

# exported names = the names include/*.h declare with TASKVMA_API
python3 "$ROOT/tests/oracle.py" library-declared "$ROOT"/include/*.h >"$TMPD/declared"
nm -D --defined-only "$SO" | awk '$2 ~ /^[TDBRVW]$/ { sub(/@.*/, "", $3); print $3 }' | sort -u >"$TMPD/exported"
check_files_eq "exported symbols = the names declared in include/*.h" "$TMPD/declared" "$TMPD/exported"
check "at least 50 public names found (the parse worked)" test "$(wc -l <"$TMPD/declared")" -ge 50
check "an internal name (tv_error) is not exported" test -z "$(nm -D --defined-only "$SO" | grep -w tv_error)"

# a program linked against the build tree starts and calls the library
cat >"$TMPD/v.c" <<'C'
#include <stdio.h>
#include <taskvma.h>
int main(void) { printf("%s\n", taskvma_version()); return 0; }
C
# a sanitizer tree's library needs its runtime first in the program
SANFL=
[ -f "$BUILD/.flags" ] && grep -q -- "-fsanitize=address" "$BUILD/.flags" && SANFL="-fsanitize=address,undefined"
if cc $SANFL -I"$ROOT/include" -o "$TMPD/v" "$TMPD/v.c" -L"$BUILD" -ltaskvma -Wl,-rpath,"$BUILD" 2>"$TMPD/cc.err"; then
	check_eq "a program linked with -L build -ltaskvma runs: taskvma_version()" "$want" "$("$TMPD/v" 2>&1)"
	check_eq "... and it loaded build/$soname" "$BUILD/$soname" \
		"$(ldd "$TMPD/v" | awk '$1 == "libtaskvma.so.0" { print $3 }')"
else
	fail "link a program against build/libtaskvma.so" "$(head -c 300 "$TMPD/cc.err")"
fi

# ThreadSanitizer: the 8-thread test with the library's sources
TSAN_CC=$(command -v clang-19 || command -v clang || true)
if [ "$QUICK" = 1 ]; then
	:	# the sanitizer pass: this builds its own TSan binary, once is enough
elif [ -z "$TSAN_CC" ] || ! echo 'int main(void){return 0;}' |
	"$TSAN_CC" -fsanitize=thread -x c - -o "$TMPD/t0" 2>/dev/null || ! "$TMPD/t0"; then
	echo "# library: no working clang -fsanitize=thread here; TSan run skipped"
else
	# the library's sources and include directories, by subsystem (src/lib/*/)
	LIBDIRS=$(find "$ROOT/src/lib" -type d | sed 's/^/-I/')
	if "$TSAN_CC" -fsanitize=thread -g -O1 -std=gnu11 -D_GNU_SOURCE -I"$ROOT/include" $LIBDIRS \
		-I"$ROOT/src/bpf" -I"$BUILD" $(pkg-config --cflags libbpf) -o "$TMPD/test_library_tsan" \
		"$ROOT/tests/unit/test_library.c" $(find "$ROOT/src/lib" -name '*.c') $(pkg-config --libs libbpf) -lelf -lz \
		-lpthread 2>"$TMPD/tsan.cc"; then
		TSAN_OPTIONS=halt_on_error=0 "$TMPD/test_library_tsan" >"$TMPD/tsan.out" 2>"$TMPD/tsan.err"
		rc=$?
		check_eq "TSan: 8 threads, one handle each: no report" "" \
			"$(grep -m3 'WARNING: ThreadSanitizer' "$TMPD/tsan.err")"
		check_eq "TSan: the test itself passed (exit 0, no FAIL)" "0 0" "$rc $(grep -c '^FAIL' "$TMPD/tsan.out")"
		check "TSan: the test ran to its end" grep -q '^END ' "$TMPD/tsan.out"
	else
		fail "TSan build of tests/unit/test_library.c" "$(head -c 300 "$TMPD/tsan.cc")"
	fi
fi
end_case
