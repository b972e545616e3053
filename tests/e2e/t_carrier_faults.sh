#!/usr/bin/env bash
# t_carrier_faults: what breaks a carrier, and what must not.
#   1. The ssh of a --via carrier (`erlfwd agent --via 'ssh root@dyno
#      erlfwd-server --stdio --resume-window 0'`, a real OpenSSH exec
#      channel, a session that cannot be kept) is killed
#      mid-session, and the dyno stays unreachable for a while (its
#      ProxyCommand fails, as while a dyno restarts): the agent prints
#      exactly one "tunnel lost" line, the local node sees nodedown at once
#      and gets pang while the carrier is down; once the dyno is back, one
#      "tunnel back after N s" line, and the same local node, never
#      restarted, gets pong again.
#   2. Over `ssh -L` (`erlfwd agent --tunnel`): a node of the dyno killed
#      with kill -9 while 16 MiB rpcs stream into it (stopped first, so that
#      the stream has stalled and nothing else crosses the carrier) resets
#      its connection, and the local node sees nodedown within 3 s;
#      and a local node killed with kill -9 while 16 MiB rpcs stream to it
#      resets its own.  Each time only that stream ends (erlfwd-server logs
#      its conn with outcome=reset), while the carrier, the forward in
#      front of it and the other streams live on: an rpc on an existing
#      stream and a new stream on the same carrier work, erlfwd-server logs
#      no carrier end, the agent no loss, ssh still has its one
#      direct-tcpip channel.
#   3. An agent leaves its carrier with GOAWAY and a FIN, never a TCP reset
#      (one reset from a local client ends `heroku ps:forward`): 20 `erlfwd
#      names` straight at erlfwd-server, and every carrier line says the
#      agent said goodbye.
#   4. The forward itself killed (ssh -L) and started again on its port:
#      one "tunnel lost (...), resuming"; erlfwd-server keeps the session,
#      so no nodedown; a ping made while the carrier is down waits for the
#      new one (ERLFWD_TIMEOUT_MS) and gets pong; one "tunnel back after N
#      s, nothing lost" (t_carrier_resume has the rest).
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=cli.sh
. "$(dirname "$0")/cli.sh"
e2e_init
cli_require
e2e_dyno_start dyno
e2e_node_start dyno app@dyno
e2e_local_epmd_start

# ---- 1. the --via carrier's ssh killed (a session that is not kept: the
# dyno's --stdio offers no resume; t_carrier_resume_stdio has the kept one)
e2e_via dyno "$E2E_SERVER_BIN --stdio --resume-window 0"
ERLFWD_TIMEOUT_MS=1500 cli_agent_start via --via "$E2E_VIA"
via_log=$CLI_AGENT_LOG via_agent=$CLI_AGENT_PID
E2E_TUNNEL_PORT=$CLI_AGENT_PORT
e2e_lnode_start me
lpid=${E2E_LNODE_PID[me]}
e2e_lnode_eval me "net_adm:ping(app@dyno)"
e2e_assert_eq pong "$E2E_RESULT" "via: pong over the carrier"
e2e_lnode_wait_event me "nodeup app@dyno" 1

# via_ssh: the pid of the ssh the agent started (its command line names the
# dyno), or nothing.
via_ssh() {
	local p
	while read -r p; do
		[[ $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null) == "ssh "*"root@dyno "* ]] &&
		    { echo "$p"; return 0; }
	done < <(cli_tree "$via_agent")
}
ssh_pid=$(via_ssh)
[[ -n $ssh_pid ]] || e2e_fail "no ssh under the agent" "$(cli_tree "$via_agent")"
touch "$E2E_TMP/proxy-dyno.sh.down"
t0=${EPOCHREALTIME/./}
kill -KILL "$ssh_pid"
e2e_wait_count 10 "$via_log" "erlfwd: tunnel lost" 1
e2e_lnode_wait_event me "nodedown app@dyno" 1 10
ms=$(( (${EPOCHREALTIME/./} - t0) / 1000 ))
e2e_assert_le "$ms" 5000 "via: nodedown within 5 s of the kill (${ms} ms)"
e2e_lnode_eval me "net_adm:ping(app@dyno)"
e2e_assert_eq pang "$E2E_RESULT" "via: pang while the carrier is down"
rm -f "$E2E_TMP/proxy-dyno.sh.down"
e2e_wait_count 40 "$via_log" "erlfwd: tunnel back after" 1
e2e_lnode_eval me "net_adm:ping(app@dyno)"
e2e_assert_eq pong "$E2E_RESULT" "via: pong again once the carrier is back"
e2e_lnode_eval me "{rpc:call(app@dyno, os, getpid, []), os:getpid()}"
e2e_assert_eq "{\"${E2E_NODE_PID[app@dyno]}\",\"$lpid\"}" "$E2E_RESULT" \
    "via: rpc reaches app@dyno from the local node that never restarted"
e2e_log "agent: $(grep -a 'erlfwd: tunnel' "$via_log" | tr '\n' '|')"
e2e_assert_eq 1 "$(e2e_count "$via_log" "erlfwd: tunnel lost")" "via: exactly one 'tunnel lost' line"
e2e_assert_eq 1 "$(e2e_count "$via_log" "erlfwd: tunnel back after")" "via: exactly one 'tunnel back' line"
e2e_assert_true "via: the agent still runs" e2e_alive "$via_agent"

# ---- 2. resets over ssh -L
e2e_node_start dyno victim@dyno
e2e_server_start dyno
E2E_SSH_LOGLEVEL=DEBUG1 e2e_tunnel_up dyno
ssh_log=$E2E_TMP/ssh-dyno.log
ERLFWD_TIMEOUT_MS=15000 cli_agent_start fwd --tunnel "127.0.0.1:$E2E_TUNNEL_PORT"
fwd_log=$CLI_AGENT_LOG fwd_agent=$CLI_AGENT_PID
E2E_TUNNEL_PORT=$CLI_AGENT_PORT
e2e_lnode_start me2
e2e_lnode_eval me2 "{net_adm:ping(app@dyno), net_adm:ping(victim@dyno)}"
e2e_assert_eq "{pong,pong}" "$E2E_RESULT" "fwd: pong from both nodes over one carrier"

# carrier_lives WHAT: the carrier and the forward are intact.
carrier_lives() {
	e2e_lnode_eval me2 "rpc:call(app@dyno, erlang, node, [])"
	e2e_assert_eq app@dyno "$E2E_RESULT" "$1: an rpc on an open stream works"
	e2e_lnode_eval me2 "{ok, Ns} = net_adm:names(\"dyno\"), lists:sort([N || {N, _} <- Ns])"
	e2e_assert_match "$E2E_RESULT" '"app"' "$1: a new stream on the same carrier works"
	e2e_assert_eq 0 "$(e2e_count "$E2E_SERVER_LOG" msg=carrier)" "$1: erlfwd-server logs no carrier end"
	e2e_assert_eq 0 "$(e2e_count "$fwd_log" "tunnel lost")" "$1: the agent lost nothing"
	e2e_assert_eq 1 "$(e2e_count "$ssh_log" ": new direct-tcpip")" "$1: still one forwarded connection"
	e2e_assert_true "$1: the forward runs" e2e_alive "${E2E_TUNNEL_PIDS[dyno]}"
	e2e_assert_true "$1: the agent runs" e2e_alive "$fwd_agent"
}

# rounds FILE: the number a streaming loop last wrote there (0: none yet).
rounds() {
	local n
	n=$(cat "$1" 2>/dev/null)
	echo "${n:-0}"
}
at_least_rounds() {
	(( $(rounds "$1") >= $2 ))
}

# victim_stalled: the victim's socket holds unread bytes, the same number
# twice 100 ms apart.
victim_queue() {
	ip netns exec "$(e2e_ns dyno)" ss -Htn "sport = :$vport" 2>/dev/null |
	    awk '{ n += $2 } END { print n + 0 }'
}
victim_stalled() {
	local a b
	a=$(victim_queue)
	sleep 0.1
	b=$(victim_queue)
	(( a > 0 && a == b ))
}

# A node of the dyno killed while 16 MiB rpcs stream into it.
vport=$(e2e_node_port dyno victim)
e2e_lnode_eval me2 "
	Bin = binary:copy(<<\"0123456789abcdef\">>, 1 bsl 20),
	Loop = fun L(N) ->
		ok = file:write_file(\"$E2E_TMP/up.rounds\", integer_to_list(N)),
		case rpc:call(victim@dyno, erlang, byte_size, [Bin]) of
		16777216 -> L(N + 1);
		Other -> file:write_file(\"$E2E_TMP/up.end\",
		    io_lib:format(\"~p after ~b\", [Other, N]))
		end
	end,
	is_pid(spawn(fun() -> Loop(0) end))"
e2e_wait_until 30 "two 16 MiB rpcs into victim@dyno" at_least_rounds "$E2E_TMP/up.rounds" 2
# Stopped first, the victim stops reading: every buffer on the way fills,
# the stream's window is spent and nothing more crosses the carrier, so the
# RESET that follows the kill has nothing to ride behind.
kill -STOP "${E2E_NODE_PID[victim@dyno]}"
e2e_wait_until 10 "the stream into the stopped victim@dyno to stall" victim_stalled
kill -KILL "${E2E_NODE_PID[victim@dyno]}"
t0=${EPOCHREALTIME/./}
e2e_log "killed victim@dyno (kill -9) after $(rounds "$E2E_TMP/up.rounds") rounds"
e2e_wait_until 15 "the rpc loop to end" test -s "$E2E_TMP/up.end"
e2e_assert_match "$(<"$E2E_TMP/up.end")" '^\{badrpc,nodedown\}' "the streaming rpc ends with nodedown"
e2e_lnode_wait_event me2 "nodedown victim@dyno" 1
ms=$(( (${EPOCHREALTIME/./} - t0) / 1000 ))
e2e_assert_le "$ms" 3000 "the local node sees nodedown within 3 s of the reset (${ms} ms)"
e2e_wait_until 10 "erlfwd-server to log the victim's stream" \
    e2e_file_has "$E2E_SERVER_LOG" "target=127.0.0.1:$vport "
line=$(grep -aF "target=127.0.0.1:$vport " "$E2E_SERVER_LOG" | grep -aF tag=dist)
e2e_log "server: ${line#*msg=conn }"
e2e_assert_match "$line" ' peer=127\.0\.0\.1:[0-9]+#[0-9]+ ' "the victim's stream is a carrier's"
e2e_assert_match "$line" ' outcome=reset' "the victim's stream ended with a reset"
carrier_lives "node reset"

# A local node killed while 16 MiB rpcs stream to it.
e2e_lnode_start bulk
bpid=${E2E_LNODE_PID[bulk]}
e2e_lnode_eval bulk "
	Loop = fun L(N) ->
		ok = file:write_file(\"$E2E_TMP/down.rounds\", integer_to_list(N)),
		16777216 = byte_size(rpc:call(app@dyno, binary, copy,
		    [<<\"0123456789abcdef\">>, 1 bsl 20])),
		L(N + 1)
	end,
	is_pid(spawn(fun() -> Loop(0) end))"
e2e_wait_until 30 "two 16 MiB rpcs to the local node bulk" at_least_rounds "$E2E_TMP/down.rounds" 2
e2e_assert_eq 0 "$(e2e_count "$E2E_SERVER_LOG" 'reason="reset by the client"')" \
    "no stream was reset by the client so far"
kill -KILL "$bpid"
e2e_log "killed the local node bulk (kill -9) after $(rounds "$E2E_TMP/down.rounds") rounds"
e2e_wait_count 10 "$E2E_SERVER_LOG" 'reason="reset by the client"' 1
line=$(grep -a 'reason="reset by the client"' "$E2E_SERVER_LOG" | tail -n 1)
e2e_log "server: ${line#*msg=conn }"
e2e_assert_match "$line" ' tag=dist target=127\.0\.0\.1:[0-9]+ .* outcome=reset' \
    "bulk's dist stream ended with a reset, carried to app@dyno"
carrier_lives "local node killed"
e2e_assert_eq 0 "$(e2e_count "$E2E_TMP/agent-fwd.log" "erlfwd:")" "fwd: the agent printed nothing"

# ---- 3. an agent leaves its carrier with a FIN, never a reset
# Straight at erlfwd-server from inside the dyno: ssh in between would turn
# a reset into a channel close and hide it.  Each `erlfwd names` ends its
# agent when it exits, while the server's last frames may still be on
# their way.
carriers=$(e2e_count "$E2E_SERVER_LOG" msg=carrier)
for (( i = 0; i < 20; i++ )); do
	ip netns exec "$(e2e_ns dyno)" timeout -k 5 30 "$CLI_BIN" names \
	    --tunnel "127.0.0.1:$E2E_SERVER_PORT" >/dev/null 2>&1 ||
	    e2e_fail "erlfwd names in the dyno failed"
done
e2e_wait_count 10 "$E2E_SERVER_LOG" msg=carrier $(( carriers + 20 ))
ends=$(grep -a msg=carrier "$E2E_SERVER_LOG" | tail -n 20 | sed 's/.* reason=//' |
    sort | uniq -c | sed 's/^ *//')
e2e_log "the 20 carriers ended: $(tr '\n' '|' <<<"$ends")"
e2e_assert_eq '20 "the other end said goodbye (the session ended)"' "$ends" \
    "20 agents left their carriers with GOAWAY and a FIN, none with a reset"

# ---- 4. the forward itself dropped, and started again
kill -KILL "${E2E_TUNNEL_PIDS[dyno]}"
e2e_tunnel_down dyno
e2e_wait_count 10 "$fwd_log" "erlfwd: tunnel lost" 1
downs=$(e2e_lnode_events me2 "nodedown app@dyno")
# A connect while the carrier is down waits for it (ERLFWD_TIMEOUT_MS).
e2e_lnode_eval me2 "is_pid(spawn(fun() ->
	{Us, R} = timer:tc(net_adm, ping, [app@dyno]),
	ok = file:write_file(\"$E2E_TMP/waited\", io_lib:format(\"~p ~b\", [R, Us div 1000]))
    end))"
e2e_assert_eq 0 "$(e2e_count "$fwd_log" "erlfwd: tunnel back")" "a ping started while the carrier is down"
E2E_SSH_LOGLEVEL=DEBUG1 e2e_tunnel_up dyno
e2e_wait_count 20 "$fwd_log" "erlfwd: tunnel back after" 1
e2e_wait_until 15 "the ping that waited" test -s "$E2E_TMP/waited"
e2e_log "the waiting ping: $(<"$E2E_TMP/waited") ms"
e2e_assert_match "$(<"$E2E_TMP/waited")" '^pong [0-9]+$' \
    "forward back: the ping made while it was down waited for the new carrier, pong"
e2e_log "agent: $(grep -a 'erlfwd: tunnel' "$fwd_log" | tr '\n' '|')"
e2e_assert_eq 1 "$(e2e_count "$fwd_log" "erlfwd: tunnel lost")" "forward: exactly one 'tunnel lost' line"
e2e_assert_eq 1 "$(e2e_count "$fwd_log" "erlfwd: tunnel back after")" "forward: exactly one 'tunnel back' line"
e2e_assert_eq 1 "$(e2e_count "$fwd_log" ", nothing lost")" "forward: the session resumed, nothing lost"
e2e_assert_eq "$downs" "$(e2e_lnode_events me2 "nodedown app@dyno")" \
    "forward: no nodedown across the drop"
e2e_lnode_eval me2 "rpc:call(app@dyno, erlang, node, [])"
e2e_assert_eq app@dyno "$E2E_RESULT" "forward back: rpc from the same local node"
e2e_pass
