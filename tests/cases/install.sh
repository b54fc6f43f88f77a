# make install honours PREFIX and DESTDIR; the installed header, libraries
# and pkg-config file build a program that reads the same map as /proc.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
# Not run in the quick (sanitizer) pass: install rules and linking against the installed library: the
# library's code that the installed program runs is the other cases' under
# the sanitizers.
if [ "$QUICK" = 1 ]; then
	echo "# install: not run in the quick pass"
	end_case
	exit 0
fi
cd "$HERE/../.."
O=$(basename "$BUILD")
MK=(make -s O="$O")
[ "$O" = build-san ] && MK+=(SAN=1)	# same flags as the tree being tested

P=$TMPD/prefix
"${MK[@]}" install PREFIX="$P" >"$TMPD/install.log" 2>&1
check "make install PREFIX=...: exits 0" test $? -eq 0 -o 1 -eq 0
for f in bin/taskvma lib/libtaskvma.a lib/libtaskvma.so lib/libtaskvma.so.0 include/taskvma.h \
	 include/taskvma_features.h include/taskvma_trace.h lib/pkgconfig/taskvma.pc; do
	check "make install PREFIX=...: $f" test -e "$P/$f"
done
check_eq "taskvma.pc: prefix is PREFIX" "prefix=$P" "$(grep '^prefix=' "$P/lib/pkgconfig/taskvma.pc")"

"${MK[@]}" install DESTDIR="$TMPD/dest" PREFIX=/usr >"$TMPD/install2.log" 2>&1
check "make install DESTDIR=... PREFIX=/usr: library under DESTDIR" test -e "$TMPD/dest/usr/lib/libtaskvma.so.0"
check_eq "make install DESTDIR=...: pc file keeps PREFIX, not DESTDIR" "prefix=/usr" \
	"$(grep '^prefix=' "$TMPD/dest/usr/lib/pkgconfig/taskvma.pc" 2>/dev/null)"

export PKG_CONFIG_PATH=$P/lib/pkgconfig
# a library built with ASan/UBSan (make SAN=1) needs its runtime in the program
SAN=
nm "$P/lib/libtaskvma.a" 2>/dev/null | grep -q __asan_ && SAN="-fsanitize=address,undefined"
flags=$(pkg-config --cflags --libs --static taskvma)
check "pkg-config --cflags --libs --static taskvma names the library" \
	test -n "$(printf '%s' "$flags" | grep -- '-ltaskvma')"
# static: the archive itself, with the private libraries pkg-config lists
cc $SAN -Wall -Wextra -Werror -o "$TMPD/list_static" examples/list_vmas.c $(pkg-config --cflags taskvma) \
	"$P/lib/libtaskvma.a" $(pkg-config --libs --static taskvma | sed 's/-ltaskvma//') 2>"$TMPD/cc.log"
check "examples/list_vmas.c builds against the installed static library" test -x "$TMPD/list_static"
cc $SAN -Wall -Wextra -Werror -o "$TMPD/list_shared" examples/list_vmas.c \
	$(pkg-config --cflags taskvma) -L"$P/lib" -ltaskvma 2>"$TMPD/cc2.log"
check "examples/list_vmas.c builds against the installed shared library" test -x "$TMPD/list_shared"

start_mapper
for bin in list_static list_shared; do
	LD_LIBRARY_PATH=$P/lib "$TMPD/$bin" "$MAPPER_PID" >"$TMPD/$bin.out" 2>"$TMPD/$bin.err"
	grep -v '^# backend: ' "$TMPD/$bin.out" >"$TMPD/$bin.maps"
	cat "/proc/$MAPPER_PID/maps" >"$TMPD/ref"
	check_files_eq "installed library ($bin): iterator output equals /proc/PID/maps" "$TMPD/ref" "$TMPD/$bin.maps"
	check_eq "installed library ($bin): auto picked bpf as root" "# backend: bpf" "$(grep '^# backend: ' "$TMPD/$bin.out")"
done
# the iterator's start address, as the kfunc's addr argument
mid=$(sed -n '10p' "/proc/$MAPPER_PID/maps" | cut -d- -f1)
"$TMPD/list_static" "$MAPPER_PID" "$mid" | grep -v '^# backend' >"$TMPD/from_mid"
tail -n +10 "/proc/$MAPPER_PID/maps" >"$TMPD/ref_mid"
check_files_eq "iterator from an address starts at the VMA containing it" "$TMPD/ref_mid" "$TMPD/from_mid"
stop_mapper
end_case
