#!/usr/bin/env bash
# Passes one assertion, then exits 0 without reaching its end marker.
. "$(dirname "$0")/../lib.sh"
pass "runner fixture early_exit: before the exit"
exit 0
pass "runner fixture early_exit: after the exit (never printed)"
end_case
