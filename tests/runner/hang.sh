#!/usr/bin/env bash
# Passes one assertion, then never finishes (the runner's --timeout kills it).
. "$(dirname "$0")/../lib.sh"
pass "runner fixture hang: before the hang"
sleep 120
end_case
