#!/usr/bin/env bash
# Ends well: two assertions and the end marker.
. "$(dirname "$0")/../lib.sh"
pass "runner fixture ok: one"
pass "runner fixture ok: two"
end_case
