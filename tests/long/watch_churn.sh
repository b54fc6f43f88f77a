#!/usr/bin/env bash
# The churn of tests/unit/test_watch.c (20 processes x 10 s in make test) at
# 100 processes x 30 s (WATCH_CHURN=PROCSxSECONDS to change it): every
# mirrored map = /proc/PID/maps byte for byte after the churn, no drift,
# lookups from memory = /proc; then the lost-records round.  make test-long.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
bin=$BUILD/tests/unit/test_watch
if [ -x "$bin" ]; then
	WATCH_CHURN=${WATCH_CHURN:-100x30} "$bin" 2>&1 | grep -v '^END '
else
	fail "watch_churn: test_watch" "not built ($bin)"
fi
end_case
