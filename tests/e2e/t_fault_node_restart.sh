#!/usr/bin/env bash
# t_fault_node_restart: the remote node restarts during a remote session (a
# deploy, a crash and a supervisor's restart).  It comes back on a new port,
# which only the dyno's epmd knows; the same local node, never restarted,
# sees nodedown, then reconnects through the same forward: pong, and rpc
# reaches the new incarnation.
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init
e2e_require_build
e2e_world

e2e_lnode_start me
lpid=${E2E_LNODE_PID[me]}
old_pid=${E2E_NODE_PID[app@dyno]}
old_port=$(e2e_node_port dyno app)
e2e_lnode_eval me "rpc:call(app@dyno, os, getpid, [])"
e2e_assert_eq "\"$old_pid\"" "$E2E_RESULT" "before the restart: rpc works"
e2e_lnode_wait_event me "nodeup app@dyno" 1

e2e_node_stop dyno app@dyno
e2e_lnode_wait_event me "nodedown app@dyno" 1
e2e_lnode_eval me "net_adm:ping(app@dyno)"
e2e_assert_eq pang "$E2E_RESULT" "node down: pang"

e2e_node_start dyno app@dyno
new_pid=${E2E_NODE_PID[app@dyno]}
new_port=$(e2e_node_port dyno app)
e2e_assert_ne "$old_pid" "$new_pid" "app@dyno is a new OS process"
# A listen port is the kernel's choice: a new one almost always, but not
# by contract, so this is reported rather than asserted.
e2e_log "app@dyno: port $old_port before the restart, $new_port after"

e2e_lnode_eval me "net_adm:ping(app@dyno)"
e2e_assert_eq pong "$E2E_RESULT" "after the restart: the same local node gets pong"
e2e_lnode_wait_event me "nodeup app@dyno" 2
e2e_lnode_eval me "{rpc:call(app@dyno, os, getpid, []),
	rpc:call(app@dyno, lists, sum, [[1, 2, 3]]), os:getpid()}"
e2e_assert_eq "{\"$new_pid\",6,\"$lpid\"}" "$E2E_RESULT" \
    "rpc reaches the new app@dyno, from the node that never restarted"

# The server relayed the old session to the old port and the new one to
# the new port: each logs its line when it ends.
e2e_lnode_eval me "erlang:disconnect_node(app@dyno)"
e2e_assert_eq true "$E2E_RESULT" "the local node disconnects"
e2e_wait_count 10 "$E2E_SERVER_LOG" "tag=dist" 2
lines=$(grep -aF tag=dist "$E2E_SERVER_LOG")
e2e_assert_match "$(head -n 1 <<<"$lines")" \
    "target=127\.0\.0\.1:$old_port .*outcome=closed" \
    "the first session went to the old port and ended cleanly"
e2e_assert_match "$(tail -n 1 <<<"$lines")" \
    "target=127\.0\.0\.1:$new_port .*outcome=closed" \
    "the second session went to the new port"
e2e_pass
