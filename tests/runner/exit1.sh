#!/usr/bin/env bash
# Passes every assertion and prints its end marker, then exits 1.
. "$(dirname "$0")/../lib.sh"
pass "runner fixture exit1: one"
pass "runner fixture exit1: two"
end_case
exit 1
