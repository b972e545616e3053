# shellcheck shell=bash
# shellcheck disable=SC2207 # COMPREPLY=($(compgen ...)): zsh has no mapfile
#
# erlfwd.bash: shell functions, aliases and tab completion for erlfwd, for
# bash and zsh.  Source it from ~/.bashrc or ~/.zshrc:
#
#     . /path/to/erlfwd/scripts/erlfwd.bash
#
#   remsh-heroku [--names|--doctor] [--forward] APP [DYNO] [-- ERLFWD_ARGS]
#                                            a shell on a Heroku app's node,
#                                            Fir or Cedar (scripts/heroku-remsh)
#   erlfwd-iex [NODE] ...                    erlfwd remsh --iex
#   erlfwd-erl [NODE] ...                    erlfwd remsh --erl
#
# `erlfwd <TAB>` completes the subcommands and their options, and NODE for
# remsh and doctor from the remote host's nodes (`erlfwd names -q`, bounded
# to one second); `erlfwd run -- <TAB>` completes commands.

# The directory of this file, to find heroku-remsh beside it.
if [ -n "${BASH_VERSION:-}" ]; then
	_erlfwd_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
elif [ -n "${ZSH_VERSION:-}" ]; then
	eval '_erlfwd_dir=${${(%):-%x}:A:h}'
fi

remsh-heroku() {
	if [ -x "${_erlfwd_dir:-}/heroku-remsh" ]; then
		"$_erlfwd_dir/heroku-remsh" "$@"
	else
		heroku-remsh "$@"
	fi
}

alias erlfwd-iex='erlfwd remsh --iex'
alias erlfwd-erl='erlfwd remsh --erl'

# _erlfwd_nodes: the remote host's node names, asked through the tunnel the
# command line (COMP_WORDS) names with --tunnel or -t, else the default one.
_erlfwd_nodes() {
	local tunnel="" i
	for (( i = 1; i + 1 < ${#COMP_WORDS[@]}; i++ )); do
		case ${COMP_WORDS[i]} in
		--tunnel | -t)
			tunnel=${COMP_WORDS[i + 1]} ;;
		esac
	done
	ERLFWD_TIMEOUT_MS=1000 command erlfwd names -q \
	    ${tunnel:+--tunnel "$tunnel"} 2>/dev/null
}

# _erlfwd: the completion function for erlfwd (bash, and zsh through
# bashcompinit).
_erlfwd() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev="" sub="" i dashdash=0
	(( COMP_CWORD > 0 )) && prev=${COMP_WORDS[COMP_CWORD - 1]}
	COMPREPLY=()
	if (( COMP_CWORD == 1 )); then
		COMPREPLY=($(compgen -W "run names remsh doctor help --help --version" -- "$cur"))
		return 0
	fi
	sub=${COMP_WORDS[1]}
	for (( i = 2; i < COMP_CWORD; i++ )); do
		[[ ${COMP_WORDS[i]} == -- ]] && dashdash=$i
	done
	case $prev in
	--tunnel | -t | --host | -H)
		return 0 ;;
	--cookie-file | -c)
		COMPREPLY=($(compgen -f -- "$cur"))
		return 0 ;;
	esac
	case $sub in
	help)
		(( COMP_CWORD == 2 )) &&
		    COMPREPLY=($(compgen -W "run names remsh doctor" -- "$cur")) ;;
	run)
		if (( dashdash == COMP_CWORD - 1 && dashdash > 0 )); then
			COMPREPLY=($(compgen -c -- "$cur"))
		elif (( dashdash > 0 )); then
			COMPREPLY=($(compgen -f -- "$cur"))
		else
			COMPREPLY=($(compgen -W "--tunnel --via --host --no-preload --help --" -- "$cur"))
		fi ;;
	names)
		COMPREPLY=($(compgen -W "--tunnel --via --quiet --no-preload --help" -- "$cur")) ;;
	remsh | doctor)
		(( dashdash > 0 )) && return 0
		if [[ $cur == -* ]]; then
			if [[ $sub == remsh ]]; then
				COMPREPLY=($(compgen -W "--tunnel --via --cookie-file --host --iex --erl --allow-stop --no-preload --help --" -- "$cur"))
			else
				COMPREPLY=($(compgen -W "--tunnel --via --cookie-file --no-preload --help" -- "$cur"))
			fi
		else
			COMPREPLY=($(compgen -W "$(_erlfwd_nodes)" -- "$cur"))
		fi ;;
	esac
	return 0
}

# _erlfwd_heroku: remsh-heroku and heroku-remsh: its options before APP,
# then APP and DYNO (the user's); after "--", erlfwd remsh's options.
_erlfwd_heroku() {
	local cur=${COMP_WORDS[COMP_CWORD]} i words=0
	COMPREPLY=()
	for (( i = 1; i < COMP_CWORD; i++ )); do
		if [[ ${COMP_WORDS[i]} == -- ]]; then
			COMPREPLY=($(compgen -W "--cookie-file --iex --erl --allow-stop --no-preload" -- "$cur"))
			return 0
		fi
		[[ ${COMP_WORDS[i]} == -* ]] || words=$(( words + 1 ))
	done
	if (( words == 0 )) && [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "--names --doctor --forward --help" -- "$cur"))
	elif (( words > 0 )); then
		COMPREPLY=($(compgen -W "--" -- "$cur"))
	fi
	return 0
}

if [ -n "${ZSH_VERSION:-}" ]; then
	autoload -U +X compinit && { (( ${+_comps} )) || compinit -u; }
	autoload -U +X bashcompinit && bashcompinit
fi
if command -v complete >/dev/null 2>&1; then
	complete -F _erlfwd erlfwd
	complete -F _erlfwd_heroku remsh-heroku heroku-remsh
fi
