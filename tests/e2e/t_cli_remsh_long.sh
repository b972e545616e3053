#!/usr/bin/env bash
# t_cli_remsh_long: `erlfwd remsh --erl` into -name nodes, typed into a
# terminal (tmux), the cookie from $ERLFWD_COOKIE.  Dyno web.1 runs
# app@web.1 and is given as the bare name "app": erlfwd learns the host part
# from the node itself and starts a -name node.  Dyno "rel" runs the common
# release naming app@127.0.0.1, reached with no NODE at all; the local node
# then also carries @127.0.0.1 and still works.
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=cli.sh
. "$(dirname "$0")/cli.sh"
e2e_init
cli_require
e2e_require_cmd tmux
E2E_COOKIE="long-secret-$RANDOM$RANDOM"

e2e_dyno_start web web.1
e2e_node_start_long web app@web.1
e2e_server_start web
e2e_tunnel_up web
web_tunnel=127.0.0.1:$E2E_TUNNEL_PORT
e2e_dyno_start rel rel-host
e2e_node_start_long rel app@127.0.0.1
e2e_server_start rel
e2e_tunnel_up rel
rel_tunnel=127.0.0.1:$E2E_TUNNEL_PORT
e2e_local_epmd_start
export ERLFWD_COOKIE=$E2E_COOKIE ERL_EPMD_PORT=$E2E_LOCAL_EPMD

# --- app@web.1, named "app"
e2e_tmux_start web "$CLI_BIN" remsh app --erl --tunnel "$web_tunnel"
e2e_tmux_wait web '^\(app@web\.1\)1> ' 30
# shellcheck disable=SC2016 # a regex with a literal $
e2e_tmux_wait web 'remote shell on app@web\.1 .*\(erl, cookie from \$ERLFWD_COOKIE\)' 1
e2e_tmux_send web 'node().' Enter
e2e_tmux_wait web "^'app@web\\.1'\$"
e2e_tmux_send web '{visible, nodes(), hidden, nodes(hidden)}.' Enter
e2e_tmux_wait web "^\\{visible,\\[\\],hidden,\\['remsh-[0-9]+@127\\.0\\.0\\.1'\\]\\}\$"
e2e_log "ok: app@web.1 sees one hidden node, remsh-PID@127.0.0.1"
e2e_tmux_send web 'os:getpid().' Enter
e2e_tmux_wait web "^\"${E2E_NODE_PID[app@web.1]}\"\$"
cli_assert_no_secret "$E2E_COOKIE" "$(cli_tmux_pid web)" "remsh app (erl)"

# --- app@127.0.0.1, no NODE
e2e_tmux_start rel "$CLI_BIN" remsh --erl --tunnel "$rel_tunnel"
e2e_tmux_wait rel '^\(app@127\.0\.0\.1\)1> ' 30
e2e_tmux_send rel '{node(), os:getpid(), inet:gethostname()}.' Enter
e2e_tmux_wait rel "^\\{'app@127\\.0\\.0\\.1',\"${E2E_NODE_PID[app@127.0.0.1]}\",\\{ok,\"rel-host\"\\}\\}\$"
e2e_log "ok: the shell runs on the rel dyno's app@127.0.0.1"
e2e_tmux_send rel 'nodes(hidden).' Enter
e2e_tmux_wait rel "^\\['remsh-[0-9]+@127\\.0\\.0\\.1'\\]\$"
cli_assert_no_secret "$E2E_COOKIE" "$(cli_tmux_pid rel)" "remsh (erl, app@127.0.0.1)"

# Both shells end with ^G q, and both remote nodes keep running.
for s in web rel; do
	cli_tmux_quit "$s"
	e2e_assert_eq 0 "$(cli_tmux_status "$s")" "remsh into $s exits 0"
done
e2e_assert_true "app@web.1 still runs" e2e_alive "${E2E_NODE_PID[app@web.1]}"
e2e_assert_true "app@127.0.0.1 still runs" e2e_alive "${E2E_NODE_PID[app@127.0.0.1]}"
e2e_pass
