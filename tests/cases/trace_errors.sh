#!/usr/bin/env bash
# run.sh: exclusive trace (with trace.sh, trace_teardown.sh: it starts `taskvma
# trace`, whose programs trace_teardown.sh counts)
# taskvma trace: bad input gives one line on stderr, nothing on stdout, and
# the documented exit code (src/cli/cli.h: 2 usage, 3 no such process, 7
# unsupported); --help works.
set -u
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/trace_lib.inc"
private_copies

T=$TASKVMA
expect_fail "trace: no --on" 2 'no event' $T trace --pid $$
expect_fail "trace: unknown event" 2 "unknown event 'bogus'" $T trace --on bogus
expect_fail "trace: exec=X is not an event" 2 "unknown event 'exec=1'" $T trace --on exec=1
expect_fail "trace: unknown signal name" 2 "unknown signal 'FOO'" $T trace --on signal=FOO
expect_fail "trace: signal number out of range" 2 "unknown signal '99'" $T trace --on signal=99
expect_fail "trace: empty signal" 2 "unknown signal ''" $T trace --on signal=
expect_fail "trace: unknown system call" 2 "unknown system call 'nosuchcall'" $T trace --on syscall=getpid,nosuchcall
expect_fail "trace: system call number out of range" 2 "unknown system call '5000'" $T trace --on syscall=5000
expect_fail "trace: two different signals" 2 'different signals' $T trace --on signal=SEGV --on signal=BUS
expect_fail "trace: --pid with --comm" 2 'cannot be combined' $T trace --on exit --pid 1 --comm init
expect_fail "trace: --comm with --cgroup" 2 'cannot be combined' $T trace --on exit --comm x --cgroup /
expect_fail "trace: --pid twice" 2 'cannot be combined' $T trace --on exit --pid 1 --pid 2
expect_fail "trace: --count 0" 2 "--count '0'" $T trace --on exit --count 0
expect_fail "trace: --count abc" 2 "--count 'abc'" $T trace --on exit --count abc
expect_fail "trace: --duration 0" 2 "--duration '0'" $T trace --on exit --duration 0
expect_fail "trace: --duration -1" 2 "--duration '-1'" $T trace --on exit --duration -1
expect_fail "trace: --duration nan" 2 "--duration 'nan'" $T trace --on exit --duration nan
expect_fail "trace: bad pid" 2 "invalid PID 'abc'" $T trace --on exit --pid abc
expect_fail "trace: pid 0" 2 "invalid PID '0'" $T trace --on exit --pid 0
expect_fail "trace: comm too long" 2 'comm' $T trace --on exit --comm 0123456789abcdef
expect_fail "trace: buffer size not a power of 2" 2 'buffer-size' $T trace --on exit --buffer-size 5000
expect_fail "trace: stray argument" 2 "unexpected argument 'extra'" $T trace --on exit extra
expect_fail "trace: unknown option" 2 'unknown option' $T trace --on exit --frobnicate
expect_fail "trace: missing option argument" 2 "option" $T trace --on
expect_fail "trace: a pid that does not exist" 3 'pid 2147483600: no such process' \
	$T trace --on exit --pid 2147483600
expect_fail "trace: a cgroup that does not exist" 2 "cgroup 'no/such/cgroup.$$'" \
	$T trace --on exit --cgroup "no/such/cgroup.$$"
expect_fail "trace: another backend" 7 'bpf backend only' $T --backend=procfs trace --on exit

out=$($T trace --help 2>"$TMPD/err"); rc=$?
check_eq "trace --help: exit 0" 0 "$rc"
check "trace --help: usage and EXAMPLES on stdout" grep -q '^EXAMPLES' <<<"$out"
check_eq "trace --help: nothing on stderr" "" "$(cat "$TMPD/err")"
end_case
