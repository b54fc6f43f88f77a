# bash completion for taskvma(1): commands, options (per command), PIDs,
# backends, rules, trace events.  Installed as
# share/bash-completion/completions/taskvma; self-contained (needs no
# bash-completion helpers), so it also works when sourced by hand.

_taskvma_pids() {
	local d
	for d in /proc/[0-9]*; do printf '%s\n' "${d#/proc/}"; done
}

_taskvma() {
	local cur prev cmd i w
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	local global="--backend --verbose --help --version -v -h -V"
	local sel="--pid --comm --cgroup --uid -p -c -g -u"
	local cmds="maps lookup normalize scan watch trace features help"

	# the command: the first word that is not an option or an option's value
	cmd=
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		case $w in
		--backend) ((i++)) ;;
		-*) ;;
		*) cmd=$w; break ;;
		esac
	done

	# values of options
	case $prev in
	--backend) COMPREPLY=($(compgen -W "auto bpf procmap procfs" -- "$cur")); return ;;
	-p|--pid) COMPREPLY=($(compgen -W "$(_taskvma_pids)" -- "$cur")); return ;;
	-c|--comm) COMPREPLY=($(compgen -W "$(cat /proc/[0-9]*/comm 2>/dev/null | sort -u)" -- "$cur")); return ;;
	-u|--uid) COMPREPLY=($(compgen -u -- "$cur")); return ;;
	-g|--cgroup) COMPREPLY=($(compgen -d -- "$cur")); return ;;
	-R|--rules) COMPREPLY=($(compgen -W "wx anon-exec deleted-exec memfd-exec stack-exec heap-exec" -- "$cur")); return ;;
	-o|--on) COMPREPLY=($(compgen -W "syscall exec exit signal syscall= signal=" -- "$cur")); return ;;
	--build-id-from) COMPREPLY=($(compgen -W "auto kernel file" -- "$cur")); return ;;
	-P|--perms|-r|--range|-N|--name|-i|--interval|-d|--duration|-n|--count|-b|--buffer-size|--check) return ;;
	esac
	if [[ $cur == --backend=* ]]; then
		COMPREPLY=($(compgen -P --backend= -W "auto bpf procmap procfs" -- "${cur#--backend=}"))
		return
	fi

	if [[ -z $cmd ]]; then
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "$global" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$cmds" -- "$cur"))
		fi
		return
	fi
	local opts=
	case $cmd in
	maps) opts="--all --quiet -q --json --perms --file --anon --range --name --sizes --bytes --summary --svg --with-pid --consistent $sel -a -j -P -r -N -s -H" ;;
	lookup) opts="--json --hex --no-build-id --build-id-from $sel -j" ;;
	normalize) opts="--json --hex --no-build-id --build-id-from -j" ;;
	scan) opts="--rules --json $sel -R -j" ;;
	watch) opts="--all --follow --json --no-snapshot --check --poll --interval --count --duration $sel -a -f -j -i -n -d" ;;
	trace) opts="--on --every --count --duration --json --no-gate --buffer-size --pid --comm --cgroup -o -e -n -d -j -b -p -c -g" ;;
	features) opts="--json --quick -j" ;;
	help) COMPREPLY=($(compgen -W "$cmds" -- "$cur")); return ;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$opts $global" -- "$cur"))
	else
		case $cmd in
		maps|lookup|scan|watch) COMPREPLY=($(compgen -W "$(_taskvma_pids)" -- "$cur")) ;;
		esac
	fi
}
complete -F _taskvma taskvma
