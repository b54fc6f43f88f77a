#!/usr/bin/env bash
# Install what taskvma needs to build and test on Debian 12 (run as root).
# Idempotent: packages already present are not reinstalled.
set -euo pipefail
PKGS=(make gcc pkg-config clang-19 llvm-19 libclang-rt-19-dev libbpf-dev bpftool
      libelf-dev zlib1g-dev procps python3 python3-jsonschema util-linux man-db groff-base
      librsvg2-bin rsyslog
      qemu-system-x86 busybox-static cpio lz4)   # librsvg2-bin: rsvg-convert for pmap_view.sh; rsyslog: watch_shipper.sh; the last four: make vmtest
missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "setup: need root to install: ${missing[*]}" >&2
		exit 1
	fi
	echo "setup: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "setup: build dependencies present"
