#!/usr/bin/env bash
# Passes one assertion, then dies of SIGSEGV before the rest.
. "$(dirname "$0")/../lib.sh"
ulimit -c 0
pass "runner fixture crash: before the crash"
kill -SEGV $$
pass "runner fixture crash: after the crash (never printed)"
end_case
