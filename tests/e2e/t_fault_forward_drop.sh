#!/usr/bin/env bash
# t_fault_forward_drop: the port forward dies during a remote session (ssh
# gets SIGKILL, as when a laptop's `heroku ps:forward` or `kubectl
# port-forward` is killed).  The local node sees nodedown at once (not after
# the net tick time) and keeps running; while the forward is down, a ping
# fails fast (pang); once the forward is back on the same port, the same
# local node, never restarted, reconnects: pong, and rpc works again.
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init
e2e_require_build
e2e_world

e2e_lnode_start me
lpid=${E2E_LNODE_PID[me]}
e2e_lnode_eval me "net_adm:ping(app@dyno)"
e2e_assert_eq pong "$E2E_RESULT" "before the drop: pong"
e2e_lnode_wait_event me "nodeup app@dyno" 1
port=$E2E_TUNNEL_PORT

# SIGKILL: the forward dies without a word, as when its terminal is closed.
t0=${EPOCHREALTIME/./}
kill -KILL "${E2E_TUNNEL_PIDS[dyno]}"
e2e_tunnel_down dyno
e2e_lnode_wait_event me "nodedown app@dyno" 1 15
ms=$(( (${EPOCHREALTIME/./} - t0) / 1000 ))
# net_ticktime is 60 s: a nodedown this soon comes from the closed socket.
e2e_assert_le "$ms" 10000 "nodedown within 10 s of the drop (${ms} ms)"
# The dyno's end of the dropped session is not left behind: sshd goes, and
# erlfwd-server ends the relay to app@dyno.
e2e_wait_count 10 "$E2E_SERVER_LOG" "tag=dist" 1
line=$(grep -aF tag=dist "$E2E_SERVER_LOG")
e2e_log "logged: ${line#*msg=conn }"
e2e_assert_match "$line" 'outcome=(closed|reset)' \
    "the server ended the dropped session's relay"

e2e_lnode_eval me "{node(), nodes(hidden), os:getpid()}"
e2e_assert_match "$E2E_RESULT" "^\{me@[^,]+,\[\],\"$lpid\"\}$" \
    "the local node keeps running, connected to nothing"
e2e_lnode_eval me "{T, R} = timer:tc(net_adm, ping, [app@dyno]), {R, T div 1000}"
e2e_assert_match "$E2E_RESULT" '^\{pang,[0-9]+\}$' "forward down: pang"
ms=$(sed -E 's/^\{pang,([0-9]+)\}$/\1/' <<<"$E2E_RESULT")
e2e_assert_le "$ms" 7000 "forward down: pang without a long hang (${ms} ms)"

e2e_tunnel_up dyno
e2e_assert_eq "$port" "$E2E_TUNNEL_PORT" "the forward is back on the same port"
e2e_lnode_eval me "net_adm:ping(app@dyno)"
e2e_assert_eq pong "$E2E_RESULT" "forward back: the same local node gets pong"
e2e_lnode_wait_event me "nodeup app@dyno" 2
e2e_lnode_eval me "{rpc:call(app@dyno, os, getpid, []), os:getpid()}"
e2e_assert_eq "{\"${E2E_NODE_PID[app@dyno]}\",\"$lpid\"}" "$E2E_RESULT" \
    "rpc reaches app@dyno again, from the node that never restarted"
e2e_assert_true "the local node's process is the one started first" \
    e2e_alive "$lpid"
e2e_pass
