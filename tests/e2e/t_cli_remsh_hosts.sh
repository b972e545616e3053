#!/usr/bin/env bash
# t_cli_remsh_hosts: `erlfwd remsh --host` adds other remote hosts, each on
# its own route, to the shell's local node.  The shell is on app@dyno (ssh -L
# to erlfwd-server); --host 'worker=socks5://...' gives the local node a
# SOCKS5 route (ssh -D, no server) to the worker dyno, and the local node,
# asked from the remote shell, reaches job@worker through it.
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=cli.sh
. "$(dirname "$0")/cli.sh"
e2e_init
cli_require
e2e_require_cmd tmux
E2E_COOKIE="hosts-secret-$RANDOM$RANDOM"

e2e_world
tunnel=127.0.0.1:$E2E_TUNNEL_PORT
e2e_dyno_start worker
e2e_node_start worker job@worker
e2e_socks_up worker
socks=socks5://127.0.0.1:${E2E_SOCKS_PORTS[worker]}
export ERLFWD_COOKIE=$E2E_COOKIE ERL_EPMD_PORT=$E2E_LOCAL_EPMD

e2e_tmux_start sh "$CLI_BIN" remsh app --erl --tunnel "$tunnel" \
    --host "worker=$socks"
e2e_tmux_wait sh '^\(app@dyno\)1> ' 30
# The shell evaluates on app@dyno; its one hidden peer is our local node.
e2e_tmux_send sh '[L] = nodes(hidden), rpc:call(L, net_adm, ping, [job@worker]).' Enter
e2e_tmux_wait sh '^pong$' 20
e2e_tmux_send sh '[L2] = nodes(hidden), rpc:call(L2, rpc, call, [job@worker, os, getpid, []]).' Enter
e2e_tmux_wait sh "^\"${E2E_NODE_PID[job@worker]}\"\$" 20
e2e_log "ok: the local node reached job@worker through the SOCKS5 route"
e2e_tmux_send sh 'nodes().' Enter
e2e_tmux_wait sh '^\[\]$' 10
e2e_log "ok: app@dyno did not mesh with job@worker"
cli_tmux_quit sh
e2e_assert_eq 0 "$(cli_tmux_status sh)" "remsh exits 0"

cli_run remsh app --tunnel "$tunnel" --host 'bad host'
e2e_assert_eq 2 "$CLI_RC" "a bad --host is a usage error"
cli_assert_one_line "remsh --host 'bad host'"
e2e_assert_contains "$CLI_ERR" "--host" "the error names the option"
e2e_pass
