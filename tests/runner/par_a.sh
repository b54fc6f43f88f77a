#!/usr/bin/env bash
# No rule: may run beside any other case.
. "$(dirname "$0")/timed.inc"
