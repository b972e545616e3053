#!/usr/bin/env bash
# t_remsh_erl: `erl -sname me -remsh app@dyno` under liberlfwd, typed into a
# terminal (tmux): the shell runs on app@dyno.
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init
e2e_require_build
e2e_require_cmd tmux
e2e_world

mapfile -t env < <(e2e_preload_env)
e2e_tmux_start remsh env "${env[@]}" \
    erl -sname me -setcookie "$E2E_COOKIE" -remsh app@dyno
e2e_tmux_wait remsh '^\(app@dyno\)1> '

e2e_tmux_send remsh 'node().' Enter
e2e_tmux_wait remsh '^app@dyno$'
e2e_log "ok: node(). printed app@dyno"

pid=${E2E_NODE_PID[app@dyno]}
e2e_tmux_send remsh 'os:getpid().' Enter
e2e_tmux_wait remsh "^\"$pid\"\$"
e2e_log "ok: os:getpid(). printed the dyno node's pid $pid"

e2e_tmux_send remsh '{ok, H} = inet:gethostname(), H.' Enter
e2e_tmux_wait remsh '^"dyno"$'
e2e_log "ok: the shell's host name is the dyno's"
e2e_pass
