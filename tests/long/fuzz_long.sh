#!/usr/bin/env bash
# The fuzz case (tests/cases/fuzz.sh, 20 s in make test) for FUZZ_SECONDS,
# default 300: make test-long.
FUZZ_SECONDS=${FUZZ_SECONDS:-300}
. "$(dirname "$0")/../cases/fuzz.sh"
