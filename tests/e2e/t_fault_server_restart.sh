#!/usr/bin/env bash
# t_fault_server_restart: erlfwd-server restarts during a remote session (a
# redeploy of the dyno's sidecar).  On SIGTERM it ends the open session
# cleanly (one outcome=shutdown line, no error) and exits 0; the local node
# sees nodedown and keeps running; while the server is down a ping fails
# fast; once the server is back (the ssh forward never went away) the same
# local node reconnects: pong, and rpc works.
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init
e2e_require_build

e2e_dyno_start dyno
e2e_node_start dyno app@dyno
e2e_server_start_watched dyno
e2e_tunnel_up dyno
e2e_local_epmd_start
ssh_pid=${E2E_TUNNEL_PIDS[dyno]}
app_pid=${E2E_NODE_PID[app@dyno]}

e2e_lnode_start me
lpid=${E2E_LNODE_PID[me]}
e2e_lnode_eval me "rpc:call(app@dyno, os, getpid, [])"
e2e_assert_eq "\"$app_pid\"" "$E2E_RESULT" "before the restart: rpc works"
e2e_lnode_wait_event me "nodeup app@dyno" 1
e2e_assert_eq 0 "$(e2e_count "$E2E_SERVER_LOG" tag=dist)" \
    "the session is open: no dist line logged yet"

kill -TERM "$E2E_SERVER_PID"
e2e_server_wait_exit 5
e2e_assert_eq exit=0 "$E2E_SERVER_STATUS" "SIGTERM: the server exits 0"
log=$(<"$E2E_SERVER_LOG")
e2e_assert_match "$(grep -aF msg=stopping <<<"$log")" \
    "msg=stopping signal=TERM conns=1( |$)" \
    "the server stops with the one open session"
line=$(grep -aF tag=dist "$E2E_SERVER_LOG")
e2e_log "logged: ${line#*msg=conn }"
e2e_assert_match "$line" "outcome=shutdown" \
    "the open session ends as outcome=shutdown"
e2e_assert_not_contains "$log" "level=error" "no error logged"
e2e_lnode_wait_event me "nodedown app@dyno" 1
e2e_assert_true "the ssh forward is still up" e2e_alive "$ssh_pid"

e2e_lnode_eval me "{T, R} = timer:tc(net_adm, ping, [app@dyno]), {R, T div 1000}"
e2e_assert_match "$E2E_RESULT" '^\{pang,[0-9]+\}$' "server down: pang"
ms=$(sed -E 's/^\{pang,([0-9]+)\}$/\1/' <<<"$E2E_RESULT")
e2e_assert_le "$ms" 7000 "server down: pang without a long hang (${ms} ms)"

e2e_server_start_watched dyno
e2e_lnode_eval me "net_adm:ping(app@dyno)"
e2e_assert_eq pong "$E2E_RESULT" "server back: the same local node gets pong"
e2e_lnode_wait_event me "nodeup app@dyno" 2
e2e_lnode_eval me "{rpc:call(app@dyno, os, getpid, []), os:getpid()}"
e2e_assert_eq "{\"$app_pid\",\"$lpid\"}" "$E2E_RESULT" \
    "rpc works again, from the node that never restarted"
e2e_assert_true "the same ssh forward carried it" e2e_alive "$ssh_pid"

# And the restarted server, too, ends its session on SIGTERM and exits 0.
kill -TERM "$E2E_SERVER_PID"
e2e_server_wait_exit 5
e2e_assert_eq exit=0 "$E2E_SERVER_STATUS" "the second server exits 0 too"
e2e_assert_eq 2 "$(e2e_count "$E2E_SERVER_LOG" outcome=shutdown)" \
    "two sessions, two outcome=shutdown lines"
e2e_lnode_wait_event me "nodedown app@dyno" 2
e2e_pass
