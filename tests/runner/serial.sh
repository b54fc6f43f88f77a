#!/usr/bin/env bash
# run.sh: serial
. "$(dirname "$0")/timed.inc"
