#!/usr/bin/env bash
# t_carrier_idle: an inactivity killer in the path (socat -T between the
# ssh forward and erlfwd-server, as HTTP routers, SSM and ssh gateways cut
# idle connections) does not take a carrier down: the agent's PINGs keep
# it busy.  An agent (`erlfwd agent --tunnel`, ERLFWD_PING_MS=1000) left
# idle with no node connected for three times the killer's limit answers
# the first connect at once (pong within 1 s), prints no reconnect line,
# and is still the one connection socat accepted.  A second agent on the
# same path with the default 15 s ping shows that the killer is real: it
# loses its carrier in the meantime.  Then the reverse: erlfwd-server
# frozen (SIGSTOP) behind the pinging agent, which declares the carrier
# dead after 3 unanswered pings (one "tunnel lost (...), resuming") and
# resumes the session once the server runs again: the local node connected
# through it sees no nodedown.
#
# The issue's version is `socat -T 30` and 90 s idle with the default 15 s
# ping; here everything is scaled down by ten for make check's time:
# socat -T 3, 9 s idle, a ping every 1 s (the same ratios: a ping well
# inside the killer's limit, the idle time three of its limits).
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=cli.sh
. "$(dirname "$0")/cli.sh"
e2e_init
cli_require
killer=9370 limit=3 idle=9
e2e_dyno_start dyno
e2e_node_start dyno app@dyno
e2e_server_start dyno
e2e_dyno_spawn dyno killer socat -d -d -T "$limit" \
    "TCP-LISTEN:$killer,bind=127.0.0.1,reuseaddr,fork" \
    "TCP:127.0.0.1:$E2E_SERVER_PORT"
e2e_wait_port -n dyno "$killer"
e2e_tunnel_up dyno "$killer"
e2e_local_epmd_start
fwd=127.0.0.1:$E2E_TUNNEL_PORT
killer_log=$E2E_TMP/killer.log

ERLFWD_PING_MS=1000 cli_agent_start pinging --tunnel "$fwd"
ping_log=$CLI_AGENT_LOG ping_port=$CLI_AGENT_PORT ping_agent=$CLI_AGENT_PID
# socat's first child carries the pinging agent's carrier; the local port
# it connects from is the carrier's peer in erlfwd-server's log.
e2e_wait_count 10 "$killer_log" "successfully connected from" 1
child=$(sed -n 's/.*forked off child process \([0-9]*\).*/\1/p' "$killer_log" | head -n 1)
peer=$(sed -n 's/.*successfully connected from local address AF=2 \(127\.0\.0\.1:[0-9]*\).*/\1/p' \
    "$killer_log" | head -n 1)
[[ -n $child && -n $peer ]] || e2e_fail "socat's log names no child" "$(cat "$killer_log")"
e2e_log "socat child $child carries the pinging agent's carrier, peer $peer"
cli_agent_start control --tunnel "$fwd"
control_log=$CLI_AGENT_LOG

# The idle time is what is tested here, not a wait for something.
e2e_log "both agents idle for ${idle} s (socat -T $limit in the path)"
sleep "$idle"

e2e_assert_le 1 "$(e2e_count "$control_log" "erlfwd: tunnel lost")" \
    "the killer is real: the agent with the default 15 s ping lost its carrier"
e2e_assert_true "socat's first child (the pinging carrier) is still open" e2e_alive "$child"
E2E_TUNNEL_PORT=$ping_port
e2e_erl_eval -sname "t$$" "{Us, Res} = timer:tc(net_adm, ping, [app@dyno]), {Res, Us div 1000}"
e2e_assert_match "$E2E_RESULT" '^\{pong,[0-9]+\}$' "after ${idle} s idle: the first connect gets pong"
ms=$(sed -E 's/^\{pong,([0-9]+)\}$/\1/' <<<"$E2E_RESULT")
e2e_assert_le "$ms" 1000 "after ${idle} s idle: pong at once (${ms} ms)"
e2e_assert_eq "" "$(grep -a 'erlfwd:' "$ping_log")" \
    "the pinging agent printed no loss and no reconnect"
e2e_assert_true "the pinging agent still runs" e2e_alive "$ping_agent"
# first_carrier_has TAG: erlfwd-server logged a TAG stream of that carrier.
first_carrier_has() {
	grep -aF "peer=$peer#" "$E2E_SERVER_LOG" | grep -qF " tag=$1 "
}
e2e_wait_until 10 "erlfwd-server to log the ping's streams" first_carrier_has dist
e2e_log "ok: the ping (epmd and dist) went over the first carrier, open since the start"
e2e_assert_true "the epmd lookup too" first_carrier_has epmd
e2e_assert_eq 0 "$(grep -aF 'msg=carrier' "$E2E_SERVER_LOG" | grep -cF "peer=$peer ")" \
    "erlfwd-server never ended that carrier"
e2e_log "socat accepted $(e2e_count "$killer_log" "accepting connection from") connections in all (the control agent's reconnects)"

# A carrier that stops answering: erlfwd-server frozen (SIGSTOP), its
# sockets open.  The pinging agent declares the carrier dead after 3
# unanswered pings and tries new carriers; once the server runs again, the
# session resumes, and the local node connected through it never saw a
# nodedown (its net_ticktime is 60 s).
e2e_lnode_start me
e2e_lnode_eval me "net_adm:ping(app@dyno)"
e2e_assert_eq pong "$E2E_RESULT" "frozen server: pong before"
kill -STOP "$E2E_SERVER_PID"
t0=${EPOCHREALTIME/./}
e2e_wait_count 15 "$ping_log" "erlfwd: tunnel lost" 1
ms=$(( (${EPOCHREALTIME/./} - t0) / 1000 ))
e2e_log "agent: $(grep -a 'erlfwd: tunnel lost' "$ping_log")"
e2e_assert_contains "$(grep -a 'erlfwd: tunnel lost' "$ping_log")" "no answer to 3 pings" \
    "frozen server: the agent says 3 pings went unanswered"
e2e_assert_contains "$(grep -a 'erlfwd: tunnel lost' "$ping_log")" ", resuming" \
    "frozen server: the agent keeps the session to resume it"
e2e_assert_le "$ms" 10000 "frozen server: lost ${ms} ms after the freeze (pings every 1 s, 3 missed)"
kill -CONT "$E2E_SERVER_PID"
e2e_wait_count 30 "$ping_log" "erlfwd: tunnel back after" 1
e2e_lnode_eval me "net_adm:ping(app@dyno)"
e2e_assert_eq pong "$E2E_RESULT" "frozen server: pong again from the same local node"
e2e_assert_eq 1 "$(e2e_count "$ping_log" "erlfwd: tunnel lost")" "frozen server: one 'tunnel lost' line"
e2e_assert_eq 1 "$(e2e_count "$ping_log" "erlfwd: tunnel back")" "frozen server: one 'tunnel back' line"
e2e_assert_eq 1 "$(e2e_count "$ping_log" ", nothing lost")" "frozen server: the session resumed, nothing lost"
e2e_assert_eq 0 "$(e2e_lnode_events me "nodedown app@dyno")" \
    "frozen server: the local node saw no nodedown"
e2e_pass
