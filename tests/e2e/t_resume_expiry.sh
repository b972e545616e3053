#!/usr/bin/env bash
# t_resume_expiry: a session that erlfwd-server kept for its lost carrier
# runs out of --resume-window while the server runs on (t_carrier_resume
# has the drops that resume, and a restarted server).  The dyno's
# erlfwd-server keeps a lost carrier's session for 3 s; `erlfwd agent
# --via 'ssh root@dyno socat - TCP:127.0.0.1:9369'` carries a local node
# connected to app@dyno and worker@dyno (two distribution streams).  The
# carrier's ssh is killed with SIGKILL and the dyno refuses new ssh
# connections for 6 s.  Then:
#   - the server logs "carrier lost" (streams=2), and 3 s later, while the
#     dyno is still unreachable, ends the session: its carrier line says
#     outcome=error reason="not resumed in time", each stream's conn line
#     outcome=timeout, its session not resumed in time; it lets go of the
#     nodes' sockets, and
#     app@dyno sees the local node go down then;
#   - the agent prints one "tunnel lost (...), resuming" and, once a
#     carrier is back, one "tunnel back after N s; the session was gone: 2
#     connections ended", and runs on;
#   - the local node's monitor_node sees nodedown of both nodes (when the
#     agent learns the session is gone: it held the connections till then),
#     and a fresh rpc from the same local node works through the new
#     session;
#   - the server still serves, with as many descriptors as before the drop
#     once the same connections are open again;
#   - the agent ends on SIGTERM with status 0, after a GOAWAY through the
#     --via command: the server ends the new session at once ("the other
#     end said goodbye"), it does not take it for another lost carrier.
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=cli.sh
. "$(dirname "$0")/cli.sh"
e2e_init
cli_require
window_ms=3000	# the server's --resume-window
refuse_s=6	# how long the dyno refuses new carriers: past the window

e2e_dyno_start dyno
e2e_node_start dyno app@dyno
e2e_node_start dyno worker@dyno
e2e_server_start dyno --resume-window "$window_ms"
server=$E2E_SERVER_PID
e2e_local_epmd_start
e2e_via dyno "socat - TCP:127.0.0.1:$E2E_SERVER_PORT"
down="$E2E_TMP/proxy-dyno.sh.down"

# The agent as a child of this shell, for its exit status.
alog=$E2E_TMP/agent.log
"$CLI_BIN" agent --via "$E2E_VIA" >"$E2E_TMP/agent.out" 2>"$alog" </dev/null &
agent=$!
e2e_defer pid "$agent"
tunnel_up() {
	grep -q '^ERLFWD_TUNNEL=127\.0\.0\.1:[0-9]*$' "$E2E_TMP/agent.out" &&
	    return 0
	e2e_alive "$agent" || e2e_fail "the agent exited" "$(cat "$alog")"
	return 1
}
e2e_wait_until 30 "the agent's ERLFWD_TUNNEL= line" tunnel_up
E2E_TUNNEL_PORT=$(sed -n 's/^ERLFWD_TUNNEL=127\.0\.0\.1:\([0-9]*\)$/\1/p' \
    "$E2E_TMP/agent.out")
e2e_log "laptop: erlfwd agent pid $agent on 127.0.0.1:$E2E_TUNNEL_PORT"

e2e_lnode_start me
lpid=$(<"$E2E_TMP/lnode-me/ready")
e2e_lnode_eval me "{net_adm:ping(app@dyno), net_adm:ping(worker@dyno)}"
e2e_assert_eq "{pong,pong}" "$E2E_RESULT" "the local node reaches both nodes over the carrier"

# monitor_both FILE: the local node's monitor_node on both: one
# "nodedown NODE MS" line each in FILE.
monitor_both() {
	e2e_lnode_eval me "F = \"$1\", Parent = self(),
	    spawn(fun() ->
	        true = erlang:monitor_node(app@dyno, true),
	        true = erlang:monitor_node(worker@dyno, true),
	        Parent ! monitoring,
	        (fun L() -> receive {nodedown, N} ->
	            ok = file:write_file(F, io_lib:format(\"nodedown ~s ~b~n\",
	                [N, erlang:system_time(millisecond)]), [append]),
	            L() end end)()
	    end),
	    receive monitoring -> ok after 5000 -> timeout end"
	e2e_assert_eq ok "$E2E_RESULT" "monitor_node on app@dyno and worker@dyno"
}
monitor_both "$E2E_TMP/lnode-me/monitor"
# app@dyno counts the local node's nodedowns (hidden: node_type all) and
# keeps the time of the first.
e2e_lnode_eval me "Me = node(),
    W = fun Loop(N, At) -> receive
        {nodedown, Me, _} -> Loop(N + 1, case At of 0 ->
            erlang:system_time(millisecond); _ -> At end);
        {get, P} -> P ! {downs, N, At}, Loop(N, At);
        _ -> Loop(N, At) end end,
    P = rpc:call(app@dyno, erlang, spawn, [fun() ->
        ok = net_kernel:monitor_nodes(true, [{node_type, all}]),
        W(0, 0) end]),
    true = rpc:call(app@dyno, erlang, register, [expiry_watch, P]),
    {expiry_watch, app@dyno} ! {get, self()},
    receive {downs, _, _} = D -> D after 5000 -> timeout end"
e2e_assert_eq "{downs,0,0}" "$E2E_RESULT" "app@dyno watches the local node"

# What the server holds with the carrier and the two nodes' streams open.
fds0=$(e2e_proc_fds "$server") rss0=$(e2e_proc_rss_kb "$server")
e2e_log "server before the drop: $fds0 descriptors, VmRSS $rss0 kB"

# The ssh the agent started (its command line names the dyno).
via_ssh() {
	local p
	while read -r p; do
		[[ $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null) == "ssh "*"root@dyno "* ]] &&
		    { echo "$p"; return 0; }
	done < <(cli_tree "$agent")
}
ssh_pid=$(via_ssh)
[[ -n $ssh_pid ]] || e2e_fail "no ssh under the agent" "$(cli_tree "$agent")"

# fds_below PID N, fds_eq PID N: PID has fewer than N, exactly N,
# descriptors open.
fds_below() {
	(( $(e2e_proc_fds "$1") < $2 ))
}
fds_eq() {
	(( $(e2e_proc_fds "$1") == $2 ))
}

# ts_ms LINE: the ts= of a server log line, in ms since the epoch.
ts_ms() {
	local ts
	[[ $1 =~ ^ts=([^ ]+) ]] || e2e_fail "no ts= in '$1'"
	ts=${BASH_REMATCH[1]}
	date -u -d "$ts" +%s%3N
}

# ---- the drop: past the window
: >"$down"
t_kill=$(( ${EPOCHREALTIME/./} / 1000 ))
kill -KILL "$ssh_pid"
e2e_log "killed the carrier's ssh $ssh_pid; the dyno refuses ssh for $refuse_s s"
e2e_wait_count 10 "$alog" "erlfwd: tunnel lost (" 1
e2e_wait_count 10 "$E2E_SERVER_LOG" "msg=carrier lost " 1
fds_kept=$(e2e_proc_fds "$server")
e2e_wait_count 10 "$E2E_SERVER_LOG" "not resumed in time" 1
t_end=$(( ${EPOCHREALTIME/./} / 1000 ))
e2e_assert_le "$(( t_end - t_kill ))" "$(( refuse_s * 1000 - 500 ))" \
    "the session ended while the dyno still refused carriers ($(( t_end - t_kill )) ms after the kill)"
# The nodes' sockets go with the session: the server's conn lines of its
# streams come with its carrier line, the sockets close with them.
e2e_wait_until 5 "the server to let go of the session's sockets" \
    fds_below "$server" "$(( fds_kept - 1 ))"
fds_gone=$(e2e_proc_fds "$server")
e2e_log "server descriptors: $fds0 before, $fds_kept with the session kept, $fds_gone once it ended"
sleep "$(( refuse_s - (t_end - t_kill) / 1000 > 0 ? refuse_s - (t_end - t_kill) / 1000 : 0 ))"
rm -f "$down"
t_back=$(( ${EPOCHREALTIME/./} / 1000 ))
e2e_log "the dyno takes ssh again, $(( t_back - t_kill )) ms after the kill"

# ---- the server's lines
lost=$(grep -a 'msg=carrier lost ' "$E2E_SERVER_LOG")
ended=$(grep -a 'msg=carrier .*reason="not resumed in time"' "$E2E_SERVER_LOG")
e2e_log "server: $lost"
e2e_log "server: $ended"
e2e_assert_match "$lost" "^ts=[^ ]+ level=warn msg=carrier lost peer=[^ ]+ session=[0-9a-f]{8} streams=2 kept_ms=$window_ms reason=" \
    "the server's line: carrier lost, 2 streams kept for $window_ms ms"
e2e_assert_match "$ended" '^ts=[^ ]+ level=warn msg=carrier peer=[^ ]+ streams=[0-9]+ .* resumed=0 dur_ms=[0-9]+ outcome=error reason="not resumed in time"$' \
    "the server's line: the carrier's session ended, not resumed in time"
e2e_assert_eq 1 "$(e2e_count "$E2E_SERVER_LOG" 'reason="not resumed in time"')" \
    "one session ended, once"
lost_line=$(grep -an 'msg=carrier lost ' "$E2E_SERVER_LOG" | cut -d: -f1)
ended_line=$(grep -an 'reason="not resumed in time"' "$E2E_SERVER_LOG" | cut -d: -f1)
e2e_assert_le "$(( lost_line + 1 ))" "$ended_line" "'carrier lost' comes before the session's end"
waited=$(( $(ts_ms "$ended") - $(ts_ms "$lost") ))
e2e_assert_le "$window_ms" "$waited" "the session was kept for the window ($waited ms)"
e2e_assert_le "$waited" "$(( window_ms + 1000 ))" "and not much longer ($waited ms)"
e2e_assert_eq 2 "$(grep -a 'msg=conn ' "$E2E_SERVER_LOG" |
    grep -c ' tag=dist .* outcome=timeout reason="its session was not resumed in time"')" \
    "a conn line for each of the session's two distribution streams, saying why"
e2e_assert_eq 0 "$(e2e_count "$E2E_SERVER_LOG" "msg=carrier resumed ")" \
    "the server resumed nothing"
e2e_assert_true "the server still runs" e2e_alive "$server"

# ---- the agent's lines
e2e_wait_count 20 "$alog" "erlfwd: tunnel back after" 1
e2e_log "agent: $(grep -a '^erlfwd: ' "$alog" | tr '\n' '|')"
back=$(grep -a '^erlfwd: tunnel back after' "$alog")
e2e_assert_match "$back" '^erlfwd: tunnel back after [0-9]+ s; the session was gone: 2 connections ended$' \
    "the agent: the session was gone, its 2 connections ended"
[[ $back =~ after\ ([0-9]+)\ s ]]
e2e_assert_le "$(( refuse_s - 1 ))" "${BASH_REMATCH[1]}" "the agent counts the time the dyno refused it"
e2e_assert_match "$(grep -a '^erlfwd: tunnel lost' "$alog")" '^erlfwd: tunnel lost \(.+\), resuming$' \
    "the agent: one 'tunnel lost (...), resuming'"
# (The --via command's own words come as "erlfwd: via: ...": the shell
# that ran ssh may say "Killed"; the tries that failed say nothing.)
e2e_assert_eq 2 "$(grep -ac '^erlfwd: tunnel ' "$alog")" "the agent said two tunnel lines, no more"
e2e_assert_eq 0 "$(e2e_count "$alog" "is down")" "the refused tries were kept quiet"
e2e_assert_true "the agent runs on" e2e_alive "$agent"

# ---- the nodes
e2e_wait_count 10 "$E2E_TMP/lnode-me/monitor" "nodedown " 2
e2e_log "local node: $(tr '\n' '|' <"$E2E_TMP/lnode-me/monitor")"
for n in app@dyno worker@dyno; do
	at=$(awk -v n="$n" '$1 == "nodedown" && $2 == n {print $3}' \
	    "$E2E_TMP/lnode-me/monitor")
	e2e_assert_match "$at" '^[0-9]+$' "monitor_node: nodedown $n"
	e2e_assert_le "$t_back" "$at" "nodedown $n once a carrier was back (the agent held the connection till then)"
	e2e_assert_eq 1 "$(e2e_lnode_events me "nodedown $n")" \
	    "monitor_nodes: one nodedown $n on the local node"
done
e2e_lnode_eval me "{rpc:call(app@dyno, os, getpid, []),
    rpc:call(worker@dyno, erlang, node, []), os:getpid()}"
e2e_assert_eq "{\"${E2E_NODE_PID[app@dyno]}\",worker@dyno,\"$lpid\"}" "$E2E_RESULT" \
    "a fresh rpc from the same local node reaches both nodes through the new session"
e2e_lnode_eval me "{expiry_watch, app@dyno} ! {get, self()},
    receive {downs, N, At} -> {N, At} after 5000 -> timeout end"
[[ $E2E_RESULT =~ ^\{([0-9]+),([0-9]+)\}$ ]] ||
    e2e_fail "app@dyno's watcher answered $E2E_RESULT"
e2e_assert_eq 1 "${BASH_REMATCH[1]}" "app@dyno saw the local node go down once"
at=${BASH_REMATCH[2]}
e2e_assert_le "$(( t_kill + window_ms ))" "$at" "app@dyno's nodedown came past the window"
e2e_assert_le "$at" "$t_back" "before a carrier was back: the server ended the session"

# ---- the server serves on, and holds what it held
e2e_wait_until 5 "the server's descriptors back to $fds0" \
    fds_eq "$server" "$fds0"
e2e_log "server after: $(e2e_proc_fds "$server") descriptors, VmRSS $(e2e_proc_rss_kb "$server") kB (before: $fds0, $rss0 kB)"
e2e_assert_true "the server still runs" e2e_alive "$server"

# ---- the agent's own bound: the dyno refuses carriers past the window the
# server said (window=3000 in its hello) and the agent's 5 s more: the
# agent ends the session's connections by itself while no carrier can be
# made, and the local node sees nodedown then, not when one is back.
monitor_both "$E2E_TMP/lnode-me/monitor2"
ssh_pid=$(via_ssh)
[[ -n $ssh_pid ]] || e2e_fail "no ssh under the agent" "$(cli_tree "$agent")"
: >"$down"
t_kill=$(( ${EPOCHREALTIME/./} / 1000 ))
kill -KILL "$ssh_pid"
e2e_log "killed the carrier's ssh $ssh_pid; the dyno refuses ssh until the agent gives up"
e2e_wait_count 10 "$alog" "erlfwd: tunnel lost (" 2
e2e_wait_count 15 "$alog" "erlfwd: tunnel down for " 1
t_gone=$(( ${EPOCHREALTIME/./} / 1000 ))
e2e_log "agent: $(grep -a '^erlfwd: tunnel down for ' "$alog")"
e2e_assert_match "$(grep -a '^erlfwd: tunnel down for ' "$alog")" \
    '^erlfwd: tunnel down for [0-9]+ s: the session is gone, 2 connections ended' \
    "the agent gave the session up itself: its 2 connections ended"
e2e_assert_le "$(( window_ms + 5000 - 500 ))" "$(( t_gone - t_kill ))" \
    "not before the window it was told and 5 s ($(( t_gone - t_kill )) ms)"
e2e_assert_le "$(( t_gone - t_kill ))" "$(( window_ms + 5000 + 2000 ))" \
    "and not long after: not the 65 s of a server that says no window"
e2e_wait_count 5 "$E2E_TMP/lnode-me/monitor2" "nodedown " 2
e2e_log "local node: $(tr '\n' '|' <"$E2E_TMP/lnode-me/monitor2")"
t_back=$(( ${EPOCHREALTIME/./} / 1000 ))
rm -f "$down"
for n in app@dyno worker@dyno; do
	at=$(awk -v n="$n" '$1 == "nodedown" && $2 == n {print $3}' \
	    "$E2E_TMP/lnode-me/monitor2")
	e2e_assert_match "$at" '^[0-9]+$' "monitor_node: nodedown $n"
	e2e_assert_le "$at" "$t_back" "nodedown $n while no carrier could be made"
done
e2e_wait_count 20 "$alog" "erlfwd: tunnel back after" 2
e2e_assert_match "$(grep -a '^erlfwd: tunnel back after' "$alog" | tail -n 1)" \
    '^erlfwd: tunnel back after [0-9]+ s$' "then a new session, with nothing to resume"
e2e_lnode_eval me "{rpc:call(app@dyno, os, getpid, []),
    rpc:call(worker@dyno, erlang, node, []), os:getpid()}"
e2e_assert_eq "{\"${E2E_NODE_PID[app@dyno]}\",worker@dyno,\"$lpid\"}" "$E2E_RESULT" \
    "rpcs from the same local node reach both nodes through it"

# ---- the agent ends: it says goodbye through the --via command, and the
# server ends the session at once instead of keeping it for the window
t0=${EPOCHREALTIME/./}
kill -TERM "$agent"
wait "$agent"
e2e_assert_eq 0 "$?" "the agent ends on SIGTERM with status 0"
e2e_log "the agent ended $(( (${EPOCHREALTIME/./} - t0) / 1000 )) ms after SIGTERM"
e2e_wait_count 5 "$E2E_SERVER_LOG" 'outcome=closed reason="the other end said goodbye (the session ended)"' 1
e2e_log "server: $(grep -a 'msg=carrier .*outcome=closed' "$E2E_SERVER_LOG")"
e2e_assert_eq 2 "$(e2e_count "$E2E_SERVER_LOG" "msg=carrier lost ")" \
    "the agent's end is no lost carrier to the server (the two drops are)"
e2e_assert_eq 2 "$(grep -a 'msg=conn ' "$E2E_SERVER_LOG" |
    grep -c ' tag=dist .*reason="the carrier ended"')" \
    "the new session's two distribution streams ended with it"
e2e_pass
