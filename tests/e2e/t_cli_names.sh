#!/usr/bin/env bash
# t_cli_names: `erlfwd names` through the real OpenSSH forward prints the
# dyno's host name, its server's version, and its epmd's nodes and ports as
# `epmd -names` inside the dyno lists them; -q only the names.  With the
# dyno's epmd gone: exit 1; with the forward gone: exit 3, one line naming
# the port.
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=cli.sh
. "$(dirname "$0")/cli.sh"
e2e_init
cli_require
e2e_world
e2e_node_start dyno worker@dyno
tunnel=127.0.0.1:$E2E_TUNNEL_PORT

cli_run names --tunnel "$tunnel"
e2e_assert_eq 0 "$CLI_RC" "names exits 0"
version=$("$E2E_SERVER_BIN" --version)
e2e_assert_eq "host dyno, $version, through a carrier over $tunnel" \
    "$(head -n 1 <<<"$CLI_OUT")" "the first line names the host and the server's version"
e2e_assert_eq "epmd: up and running on port 4369 with data:" \
    "$(sed -n 2p <<<"$CLI_OUT")" "the second line is epmd's, with its port"
expected=$(e2e_epmd_names dyno | grep '^name ' | LC_ALL=C sort)
e2e_assert_eq "$expected" "$(tail -n +3 <<<"$CLI_OUT" | LC_ALL=C sort)" \
    "the node lines are the dyno's own epmd -names"
e2e_assert_match "$expected" "name app at port [0-9]+" "app is listed"
e2e_assert_match "$expected" "name worker at port [0-9]+" "worker is listed"
e2e_assert_eq "" "$CLI_ERR" "nothing on stderr"

# The default tunnel comes from ERLFWD_TUNNEL.
ERLFWD_TUNNEL=$tunnel cli_run names -q
e2e_assert_eq 0 "$CLI_RC" "names -q with ERLFWD_TUNNEL exits 0"
e2e_assert_eq "$(printf 'app\nworker')" "$(LC_ALL=C sort <<<"$CLI_OUT")" \
    "names -q prints the node names only"

# scripts/erlfwd.bash: tab completion of subcommands, options and NODE (from
# `erlfwd names -q` through the --tunnel on the command line), in bash and,
# when installed, in zsh (through bashcompinit, which calls the function
# with sh emulation, 0-based arrays, and lets compadd keep the words that
# fit).
complete_in() {
	local sh=$1
	shift
	case $sh in
	bash)
		PATH=$E2E_BUILD:$PATH bash -c '
			. "$1"; shift
			COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 ))
			_erlfwd; printf "%s\n" "${COMPREPLY[@]}"' \
		    _ "$E2E_ROOT/scripts/erlfwd.bash" "$@" 2>&1 ;;
	zsh)
		PATH=$E2E_BUILD:$PATH HOME=$E2E_TMP zsh -f -c '
			source "$1"; shift
			t() { emulate -L sh; COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 ))
			      _erlfwd
			      # zsh, not compgen, keeps the words that fit (compadd).
			      for w in "${COMPREPLY[@]}"; do
			          case $w in "${COMP_WORDS[COMP_CWORD]}"*) echo "$w" ;; esac
			      done; }
			whence -w remsh-heroku >/dev/null || echo "no remsh-heroku"
			t "$@"' _ "$E2E_ROOT/scripts/erlfwd.bash" "$@" 2>&1 ;;
	esac
}
shells=(bash)
command -v zsh >/dev/null && shells+=(zsh)
for sh in "${shells[@]}"; do
	e2e_assert_eq "$(printf 'remsh\nrun')" \
	    "$(complete_in "$sh" erlfwd r | LC_ALL=C sort)" "$sh: erlfwd r<TAB>: the subcommands"
	e2e_assert_eq "$(printf 'app\nworker')" \
	    "$(complete_in "$sh" erlfwd remsh --tunnel "$tunnel" '' | LC_ALL=C sort)" \
	    "$sh: erlfwd remsh --tunnel T <TAB>: the dyno's nodes"
	e2e_assert_eq "worker" "$(complete_in "$sh" erlfwd doctor --tunnel "$tunnel" w)" \
	    "$sh: erlfwd doctor --tunnel T w<TAB>: worker"
	e2e_assert_eq "--cookie-file" "$(complete_in "$sh" erlfwd remsh --c)" \
	    "$sh: erlfwd remsh --c<TAB>: --cookie-file"
	e2e_assert_eq "erlfwd-server" \
	    "$(complete_in "$sh" erlfwd run -- erlfwd-se | sort -u)" \
	    "$sh: erlfwd run -- <TAB>: commands"
done

# The dyno's epmd gone: the server says so.
e2e_stop "$E2E_EPMD_PID"
e2e_wait_port_closed -n dyno 4369
cli_run names --tunnel "$tunnel"
e2e_assert_eq 1 "$CLI_RC" "epmd down: names exits 1"
e2e_assert_eq "host dyno, $version, through a carrier over $tunnel" "$CLI_OUT" \
    "epmd down: still the host and version"
cli_assert_one_line "epmd down"
e2e_assert_contains "$CLI_ERR" "no epmd on dyno port 4369" "epmd down: the line says so"

# The forward gone.
e2e_tunnel_down dyno
cli_run names --tunnel "$tunnel"
e2e_assert_eq 3 "$CLI_RC" "forward down: names exits 3"
cli_assert_one_line "forward down"
e2e_assert_contains "$CLI_ERR" "nothing is listening on $tunnel" \
    "forward down: the line names the tunnel"
e2e_assert_contains "$CLI_ERR" "heroku ps:forward $E2E_TUNNEL_PORT" \
    "forward down: the line says how to start it"
e2e_assert_le "$CLI_MS" 5000 "forward down: the answer is quick"
e2e_pass
