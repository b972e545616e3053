#!/usr/bin/env bash
# t_cli_remsh: `erlfwd remsh` with no NODE, typed into a terminal (tmux),
# opens IEx (installed, so the default) on the dyno's only node, an -sname
# node, through the real OpenSSH forward.  The local node is hidden and
# alone; the cookie, from --cookie-file, is on no command line of this
# machine while the shell runs; leaving the shell removes the private HOME
# and leaves the remote node running.  With two nodes and no NODE, it asks
# which on a terminal, and says to name one otherwise.
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=cli.sh
. "$(dirname "$0")/cli.sh"
e2e_init
cli_require
e2e_require_cmd tmux iex elixir
E2E_COOKIE="remsh-secret-$RANDOM$RANDOM"

# IEx's remote shell runs IEx on the remote node: give it Elixir's libraries,
# as a release has them.
e2e_dyno_start dyno
e2e_iex_node_start dyno app@dyno
e2e_server_start dyno
e2e_tunnel_up dyno
e2e_local_epmd_start
tunnel=127.0.0.1:$E2E_TUNNEL_PORT
pid=${E2E_NODE_PID[app@dyno]}

umask 077
printf '%s\n' "$E2E_COOKIE" >"$E2E_TMP/cookie"
e2e_tmux_start remsh env ERL_EPMD_PORT="$E2E_LOCAL_EPMD" \
    "$CLI_BIN" remsh --tunnel "$tunnel" --cookie-file "$E2E_TMP/cookie"
e2e_tmux_wait remsh '^iex\(app@dyno\)1> ' 30
e2e_tmux_wait remsh "^erlfwd: remote shell on app@dyno through a carrier over $tunnel \\(iex$CLI_MODE_NOTE, cookie from --cookie-file $E2E_TMP/cookie\\)\$" 1
cli_mode_check "remsh (iex)"

e2e_tmux_send remsh 'node()' Enter
e2e_tmux_wait remsh '^:app@dyno$'
e2e_log "ok: node() is :app@dyno"
e2e_tmux_send remsh 'System.pid()' Enter
e2e_tmux_wait remsh "^\"$pid\"\$"
e2e_log "ok: System.pid() is the dyno node's pid $pid"

# The remote node sees us as a hidden node only, named remsh-PID@...
e2e_tmux_send remsh 'IO.puts("visible=#{inspect(Node.list())} hidden=#{inspect(Node.list(:hidden))}")' Enter
e2e_tmux_wait remsh '^visible=\[\] hidden=\[:"remsh-[0-9]+@[^"]+"\]$'
e2e_log "ok: the local node is hidden, and the only one"

root=$(cli_tmux_pid remsh)
cli_assert_no_secret "$E2E_COOKIE" "$root" "remsh (iex)"
home=$(cli_home_of "$root")
e2e_assert_match "$home" '^/tmp/erlfwd-home\.' "the shell runs with a private HOME"
e2e_assert_eq "$(stat -c %a "$home")" 700 "the private HOME is 0700"
e2e_wait_until 10 "the cookie file to go once erl has read it" \
    e2e_not test -e "$home/.erlang.cookie"

# Leave the shell the way a person does: ^G, q.
cli_tmux_quit remsh
e2e_assert_eq 0 "$(cli_tmux_status remsh)" "erlfwd remsh exits 0 with the shell"
e2e_assert_true "the private HOME is gone" e2e_not test -e "$home"
e2e_assert_true "the remote node still runs" e2e_alive "$pid"

# Two nodes and no NODE: without a terminal, the list and exit status 2; on a
# terminal, the list and a question.
e2e_iex_node_start dyno worker@dyno
ERL_EPMD_PORT=$E2E_LOCAL_EPMD cli_run remsh --tunnel "$tunnel" \
    --cookie-file "$E2E_TMP/cookie"
e2e_assert_eq 2 "$CLI_RC" "two nodes, no NODE, no terminal: exit 2"
cli_assert_one_line "two nodes, no NODE, no terminal"
e2e_assert_match "$CLI_ERR" "dyno has several nodes, name one: .*app \\(port" \
    "the line lists the nodes"
e2e_tmux_start pick env ERL_EPMD_PORT="$E2E_LOCAL_EPMD" \
    "$CLI_BIN" remsh --tunnel "$tunnel" --cookie-file "$E2E_TMP/cookie"
e2e_tmux_wait pick '^Which one\? \[1-2\]' 10
e2e_tmux_wait pick '^  [12]\) worker \(port [0-9]+\)$' 1
line=$(e2e_tmux_screen pick | grep -E '^  [12]\) worker ')
e2e_tmux_send pick "${line:2:1}" Enter
e2e_tmux_wait pick '^iex\(worker@dyno\)1> ' 30
e2e_log "ok: answering the question opens the shell on worker@dyno"
cli_tmux_quit pick
e2e_pass
