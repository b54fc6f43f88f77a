#!/usr/bin/env bash
# run.sh: exclusive taskvma-runner-selftest
. "$(dirname "$0")/timed.inc"
