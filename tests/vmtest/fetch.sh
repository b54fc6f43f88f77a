#!/usr/bin/env bash
# Fetch the matrix's kernel images (tests/vmtest/kernels.txt) without
# touching the host's apt: a private apt configuration under
# $BUILD/vmtest/apt, `apt-get download` into a cache outside the clone
# ($VMTEST_CACHE, default /var/cache/taskvma-vmtest) so reruns reuse it,
# `dpkg-deb -x`, and the image copied to $VMTEST_CACHE/NAME/vmlinuz.
# Usage: fetch.sh [--build DIR] [NAME...]   (default: every kernel)
# Prints one line per kernel: "fetch NAME: PACKAGE=VERSION (cached|downloaded)";
# a pinned version gone from the archive is replaced by the newest of the
# same series, with a "NOTE" line saying so.  Exit 1 when a kernel cannot be
# had at all.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=build
while [ $# -gt 0 ]; do
	case $1 in
	--build) BUILD=$2; shift 2 ;;
	*) break ;;
	esac
done
: "${VMTEST_CACHE:=/var/cache/taskvma-vmtest}"
PINS=${VMTEST_PINS:-tests/vmtest/kernels.txt}
APTDIR=$PWD/$BUILD/vmtest/apt
mkdir -p "$APTDIR"/{etc,lists/partial,cache/archives/partial} "$VMTEST_CACHE/debs"

# The suites the pins name, and nothing else.
suites=$(awk '!/^#/ && NF { print $2 }' "$PINS" | sort -u)
: >"$APTDIR/etc/sources.list.new"
for s in $suites; do
	case $s in
	*-security) echo "deb http://deb.debian.org/debian-security $s main" ;;
	*) echo "deb http://deb.debian.org/debian $s main" ;;
	esac >>"$APTDIR/etc/sources.list.new"
done
mv "$APTDIR/etc/sources.list.new" "$APTDIR/etc/sources.list"
APT=(-o "Dir::Etc::sourcelist=$APTDIR/etc/sources.list" -o Dir::Etc::sourceparts=/dev/null
     -o "Dir::State::Lists=$APTDIR/lists" -o "Dir::Cache=$APTDIR/cache"
     -o Dir::State::status=/dev/null -o Debug::NoLocking=1 -o APT::Sandbox::User=root)

# NAME PACKAGE=VERSION -> the .deb in the cache (downloaded if missing).
updated=0
apt_update() {
	[ "$updated" = 1 ] && return 0
	apt-get "${APT[@]}" -qq update >&2 || { echo "fetch: apt-get update failed" >&2; return 1; }
	updated=1
}
# series PACKAGE: an extended regex for the same kernel series, any build
# (linux-binary-7.3.4+deb13-cloud-amd64 -> ^linux-binary-7\.3\.[0-9]+\+deb13-cloud-amd64$,
#  linux-image-6.1.0-57-cloud-amd64 -> ^linux-image-6\.1\.0-[0-9]+-cloud-amd64$).
series() {
	local re
	re=$(sed -e 's/[.+]/\\&/g' <<<"$1")
	case $1 in
	*-[0-9]*.[0-9]*.0-[0-9]*-*) sed -E 's/^(.*\\\.0)-[0-9]+-/^\1-[0-9]+-/; s/$/$/' <<<"$re" ;;
	*) sed -E 's/^(.*-[0-9]+\\\.[0-9]+\\\.)[0-9]+/^\1[0-9]+/; s/$/$/' <<<"$re" ;;
	esac
}
get_deb() {
	local pkg=${1%%=*} ver=${1#*=} f
	f=$(ls "$VMTEST_CACHE/debs/${pkg}_${ver//:/%3a}_"*.deb 2>/dev/null | head -n 1) || true
	if [ -n "$f" ]; then echo "$f"; return 0; fi
	apt_update || return 1
	if ! apt-cache "${APT[@]}" madison "$pkg" 2>/dev/null | awk -F' *\\| *' '{print $2}' | grep -qxF "$ver"; then
		local re newest nver
		re=$(series "$pkg")
		newest=$(apt-cache "${APT[@]}" pkgnames 2>/dev/null | grep -E "$re" | sort -V | tail -n 1)
		[ -n "$newest" ] || { echo "fetch: $pkg=$ver is gone and nothing of its series ($re) is left" >&2; return 1; }
		nver=$(apt-cache "${APT[@]}" madison "$newest" | awk -F' *\\| *' 'NR == 1 {print $2}')
		echo "NOTE: $pkg=$ver is no longer in the archive; using the newest of its series, $newest=$nver (update $PINS)" >&2
		pkg=$newest ver=$nver
		f=$(ls "$VMTEST_CACHE/debs/${pkg}_${ver//:/%3a}_"*.deb 2>/dev/null | head -n 1) || true
		if [ -n "$f" ]; then echo "$f"; return 0; fi
	fi
	(cd "$VMTEST_CACHE/debs" && apt-get "${APT[@]}" -qq download "$pkg=$ver" >&2) ||
		{ echo "fetch: apt-get download $pkg=$ver failed" >&2; return 1; }
	ls "$VMTEST_CACHE/debs/${pkg}_${ver//:/%3a}_"*.deb | head -n 1
}

want=("$@")
rc=0
while read -r name suite pkg _; do
	case $name in ''|'#'*) continue ;; esac
	if [ ${#want[@]} -gt 0 ] && ! printf '%s\n' "${want[@]}" | grep -qxF "$name"; then continue; fi
	dir=$VMTEST_CACHE/$name
	deb=$(get_deb "$pkg") || { rc=1; continue; }
	stamp=$(basename "$deb")
	if [ -r "$dir/vmlinuz" ] && [ "$(cat "$dir/source" 2>/dev/null)" = "$stamp" ]; then
		echo "fetch $name: $stamp (cached)"
		continue
	fi
	rm -rf "$dir.tmp" && mkdir -p "$dir.tmp/x"
	dpkg-deb -x "$deb" "$dir.tmp/x"
	# /boot/vmlinuz-RELEASE, or /usr/lib/modules/RELEASE/vmlinuz (7.x)
	img=$(ls "$dir.tmp/x/boot/vmlinuz-"* "$dir.tmp/x/usr/lib/modules/"*/vmlinuz 2>/dev/null | head -n 1) || true
	[ -n "$img" ] || { echo "fetch: no kernel image in $deb" >&2; rm -rf "$dir.tmp"; rc=1; continue; }
	case $img in
	*/boot/vmlinuz-*) basename "$img" | sed 's/^vmlinuz-//' ;;
	*) basename "$(dirname "$img")" ;;
	esac >"$dir.tmp/release"
	mv "$img" "$dir.tmp/vmlinuz"
	echo "$stamp" >"$dir.tmp/source"
	echo "$suite" >"$dir.tmp/suite"
	rm -rf "$dir.tmp/x" "$dir"
	mv "$dir.tmp" "$dir"
	echo "fetch $name: $stamp (unpacked)"
done <"$PINS"
exit $rc
