#!/usr/bin/env bash
# t_rpc: a local node under liberlfwd calls functions on app@dyno through the
# one forwarded port: the answers are computed in the dyno (its node name, its
# OS pid, its host name, a sum) and come back through the tunnel.
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init
e2e_require_build
e2e_world

pid=${E2E_NODE_PID[app@dyno]}
e2e_erl_eval -sname "t$$" "
	N = 'app@dyno',
	{rpc:call(N, erlang, node, []),
	 rpc:call(N, os, getpid, []),
	 rpc:call(N, inet, gethostname, []),
	 rpc:call(N, lists, sum, [lists:seq(1, 100)])}"
e2e_assert_eq 0 "$E2E_RC" "the local node exits cleanly"
e2e_assert_eq "{app@dyno,\"$pid\",{ok,\"dyno\"},5050}" "$E2E_RESULT" \
    "node(), os:getpid(), the host name and a sum come from app@dyno"

# ERLFWD_DEBUG=1 (set by e2e_erl_eval): the library explained its decisions.
e2e_assert_le 1 "$(grep -cE '^erlfwd(\[[0-9]+\])?: .*dyno' "$E2E_ERR_FILE")" \
    "ERLFWD_DEBUG=1: decision lines about dyno on stderr"

# The server saw one epmd lookup and one distribution connection, both
# relayed; each logs its line when it ends (the local node has halted).
e2e_wait_until 10 "the server's lines for the epmd and dist connections" \
    e2e_file_has "$E2E_SERVER_LOG" "tag=dist"
lines=$(e2e_server_conn_lines)
port=$(e2e_node_port dyno app)
e2e_assert_match "$lines" "tag=epmd" "the server logged the epmd lookup"
e2e_assert_match "$(grep -F tag=dist <<<"$lines")" \
    "target=([^ ]*[^0-9])?$port( |$)" \
    "the server relayed the dist connection to app's port $port"
e2e_pass
