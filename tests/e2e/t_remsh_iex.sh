#!/usr/bin/env bash
# t_remsh_iex: `iex --sname me --cookie C --remsh app@dyno` under liberlfwd,
# typed into a terminal (tmux): the IEx shell runs on app@dyno.
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init
e2e_require_build
e2e_require_cmd tmux iex elixir

# IEx's remote shell runs IEx on the remote node: app@dyno gets Elixir's
# libraries, as a release would have them.
elixir_lib=$(dirname "$(dirname "$(readlink -f "$(command -v elixir)")")")/lib
[[ -d $elixir_lib/iex/ebin ]] || e2e_skip "no IEx under $elixir_lib"

e2e_dyno_start dyno
e2e_node_start dyno app@dyno -pa "$elixir_lib"/*/ebin \
    -eval '{ok, _} = application:ensure_all_started(iex).'
e2e_server_start dyno
e2e_tunnel_up dyno
e2e_local_epmd_start

mapfile -t env < <(e2e_preload_env)
e2e_tmux_start remsh env "${env[@]}" \
    iex --sname me --cookie "$E2E_COOKIE" --remsh app@dyno
e2e_tmux_wait remsh '^iex\(app@dyno\)1> '

e2e_tmux_send remsh 'node()' Enter
e2e_tmux_wait remsh '^:app@dyno$'
e2e_log "ok: node() printed :app@dyno"

pid=${E2E_NODE_PID[app@dyno]}
e2e_tmux_send remsh 'System.pid()' Enter
e2e_tmux_wait remsh "^\"$pid\"\$"
e2e_log "ok: System.pid() printed the dyno node's pid $pid"
e2e_pass
