#!/usr/bin/env bash
# Man pages, bash completion and `make install`: taskvma(1) and libtaskvma(3)
# render with `man --warnings` and no warning; taskvma(1) names every
# command and every long option `taskvma help COMMAND` lists (the CLI's own
# help as the oracle), and every exit code; the completion gives the
# expected words for a few prefixes; `make install` installs both pages, the
# completion and the docs, and builds nothing it does not install.
# Runs on its own too: bash tests/cases/manpages.sh
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
# Not run in the quick (sanitizer) pass: pages, completion and install rules: no C code path the sanitizers
# would see differently (the help text is printed under them by cli_grammar.sh).
if [ "$QUICK" = 1 ]; then
	echo "# manpages: not run in the quick pass"
	end_case
	exit 0
fi
cleanup() { [ -n "$OWN_TMPD" ] && rm -rf "$TMPD"; }
trap cleanup EXIT
cd "$ROOT"

for page in man/taskvma.1 man/libtaskvma.3; do
	MANWIDTH=80 man --warnings -l "$page" >"$TMPD/page" 2>"$TMPD/warn"
	check_eq "man --warnings -l $page: exit 0, no warning" "0 " "$? $(head -c 300 "$TMPD/warn")"
	check "$page renders to text" test "$(wc -l <"$TMPD/page")" -gt 50
done
MANWIDTH=80 man -l man/taskvma.1 2>/dev/null | col -b >"$TMPD/taskvma.txt"
for c in maps lookup normalize scan watch trace features help; do
	check "taskvma(1) has the command $c" grep -q "^   $c" "$TMPD/taskvma.txt"
	# every long option of the command's own help is in the page
	"$TASKVMA" help "$c" 2>/dev/null | grep -E '^ +(-[a-zA-Z], )?--[a-z]' |
		grep -oE -- '--[a-z][a-z-]+' | sort -u >"$TMPD/opts"
	missing=$(while read -r o; do grep -qF -- "$o" "$TMPD/taskvma.txt" || printf '%s ' "$o"; done <"$TMPD/opts")
	check_eq "taskvma(1) documents every option of 'taskvma help $c'" "" "$missing"
done
for code in 0 1 2 3 4 5 6 7; do
	check "taskvma(1) explains exit status $code" grep -qE "^       $code +[A-Z]" "$TMPD/taskvma.txt"
done

# completion: COMP_WORDS as bash fills it
comp() { bash -c 'source completion/taskvma.bash; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _taskvma; printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' _ "$@"; }
check_eq "completion: taskvma ma<TAB>" "maps " "$(comp taskvma ma)"
check_eq "completion: taskvma <TAB> (every command)" "features help lookup maps normalize scan trace watch " "$(comp taskvma '')"
check_eq "completion: taskvma maps --js<TAB>" "--json " "$(comp taskvma maps --js)"
check_eq "completion: taskvma --backend pr<TAB>" "procfs procmap " "$(comp taskvma --backend pr)"
check_eq "completion: taskvma maps --backend=b<TAB>" "--backend=bpf " "$(comp taskvma maps --backend=b)"
check_eq "completion: taskvma scan --rules m<TAB>" "memfd-exec " "$(comp taskvma scan --rules m)"
check_eq "completion: taskvma watch --int<TAB>" "--interval " "$(comp taskvma watch --int)"
check_eq "completion: taskvma maps -p \$\$ (a PID)" "$$ " "$(comp taskvma maps -p "$$" | tr ' ' '\n' | grep -x "$$" | tr '\n' ' ')"
check_eq "completion: taskvma help fe<TAB>" "features " "$(comp taskvma help fe)"

# make install: man pages, completion, docs; and nothing it does not install
O=$(basename "$BUILD")
MK=(make -s O="$O")
[ "$O" = build-san ] && MK+=(SAN=1)
P=$TMPD/prefix
if "${MK[@]}" install PREFIX="$P" >"$TMPD/install.log" 2>&1; then
	for f in share/man/man1/taskvma.1 share/man/man3/libtaskvma.3 \
		 share/bash-completion/completions/taskvma share/doc/taskvma/README.md \
		 share/doc/taskvma/cli.md share/doc/taskvma/json.md; do
		check "make install: $f" test -s "$P/$f"
	done
	check "man finds the installed taskvma(1)" man --warnings -M "$P/share/man" -w taskvma
else
	fail "make install PREFIX=..." "$(tail -n 3 "$TMPD/install.log")"
fi
# a fresh output directory: what would `make install` build?
make -n O="$TMPD/fresh" install PREFIX="$P" >"$TMPD/plan" 2>&1
check "make -n install (fresh tree) plans the CLI and the library" grep -q "libtaskvma.so" "$TMPD/plan"
check_eq "make install builds no test, example or benchmark" "" \
	"$(grep -E -- '-o [^ ]*/(tests|examples|bench)/' "$TMPD/plan" | head -n 2)"
end_case
