#!/usr/bin/env bash
# t_carrier_badinput: a carrier client that breaks the rules
# (carrier_peer.py, straight to erlfwd-server's port in the dyno) gets a
# GOAWAY that says why, erlfwd-server logs the carrier's end with the same
# reason, and everyone else is served throughout: a local node over
# another carrier (erlfwd agent through ssh -L) and one over version 1
# connections (the same forward) make an rpc and a new epmd lookup every
# 20 ms during all of it and after, without one failure.
#   - garbage after the CARRIER frame: GOAWAY protocol, "bad frame";
#   - DATA for a stream never opened: GOAWAY protocol, "never opened";
#   - a window overflow: DATA past the 256 KiB window toward a port whose
#     listener never reads (--allow-port): GOAWAY limit, "past its window";
#   - an OPEN storm over --max-conns: the streams past a quarter of it
#     refused alone (RESET refused), the carrier open, one log line
#     counting them; two storms at once leave room for the rest (one
#     carrier holds a quarter of --max-conns, all carriers three
#     quarters): nobody else is refused.
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=cli.sh
. "$(dirname "$0")/cli.sh"
e2e_init
cli_require
e2e_require_cmd python3
peer=$E2E_DIR/carrier_peer.py sinkport=7100 maxconns=24
e2e_dyno_start dyno
e2e_node_start dyno app@dyno
e2e_dyno_spawn dyno sink python3 "$peer" sink "$sinkport"
e2e_wait_port -n dyno "$sinkport"
e2e_server_start dyno --allow-port "$sinkport" --max-conns "$maxconns"
e2e_tunnel_up dyno
e2e_local_epmd_start
fwd_port=$E2E_TUNNEL_PORT
cli_agent_start car --tunnel "127.0.0.1:$fwd_port"

# Everyone else: one local node over a carrier, one over version 1.
E2E_TUNNEL_PORT=$CLI_AGENT_PORT
e2e_lnode_start car
E2E_TUNNEL_PORT=$fwd_port
e2e_lnode_start v1
loop="
	[Name | _] = string:split(atom_to_list(node()), \"@\"),
	F = \"$E2E_TMP/loop.\" ++ Name,
	Round = fun() ->
		case {rpc:call(app@dyno, erlang, node, []), net_adm:names(\"dyno\")} of
		{app@dyno, {ok, [_ | _]}} -> ok;
		Other -> Other
		end
	end,
	Loop = fun L(Ok, Bad, Last) ->
		{Ok1, Bad1, Last1} = case Round() of
			ok -> {Ok + 1, Bad, Last};
			Why -> {Ok, Bad + 1, Why}
		end,
		% Written aside and renamed: a reader never sees half a file.
		ok = file:write_file(F ++ \".tmp\", io_lib:format(
		    \"ok=~b bad=~b last=~0p~n\", [Ok1, Bad1, Last1])),
		ok = file:rename(F ++ \".tmp\", F),
		receive stop -> ok after 20 -> L(Ok1, Bad1, Last1) end
	end,
	register(e2e_loop, spawn(fun() -> Loop(0, 0, none) end))"
for n in car v1; do
	e2e_lnode_eval "$n" "net_adm:ping(app@dyno)"
	e2e_assert_eq pong "$E2E_RESULT" "$n: pong"
	e2e_lnode_eval "$n" "$loop"
done
# loop_ok NODE: how many rounds NODE's loop has passed so far.
loop_ok() {
	local n
	n=$(sed -n 's/^ok=\([0-9]*\) .*/\1/p' "$E2E_TMP/loop.$1" 2>/dev/null)
	echo "${n:-0}"
}
loop_ok_above() {
	(( $(loop_ok "$1") > $2 ))
}

# bad CASE [ARG]: play CASE against the server; CASE_OUT is the client's
# line, CASE_LOG the server's carrier line for it.
bad() {
	local n
	n=$(e2e_count "$E2E_SERVER_LOG" msg=carrier)
	CASE_OUT=$(ip netns exec "$(e2e_ns dyno)" timeout -k 5 30 python3 "$peer" \
	    client "$E2E_SERVER_PORT" "$@" 2>&1)
	e2e_log "$*: client: $CASE_OUT"
	e2e_assert_match "$CASE_OUT" '^hello=ok ' "$1: the server took the CARRIER frame"
	e2e_assert_match "$CASE_OUT" ' end=eof$' "$1: the server closed the carrier with a FIN"
	e2e_wait_count 10 "$E2E_SERVER_LOG" msg=carrier $(( n + 1 ))
	CASE_LOG=$(grep -a msg=carrier "$E2E_SERVER_LOG" | tail -n 1)
	e2e_log "$1: server: ${CASE_LOG#*msg=carrier }"
	e2e_assert_match "$CASE_LOG" ' outcome=error ' "$1: the server logs the carrier's end as an error"
	for n in car v1; do
		before=$(loop_ok "$n")
		e2e_wait_until 10 "$n's loop to go on after $1" loop_ok_above "$n" "$before"
	done
	e2e_log "ok: $1: both other clients went on being served"
}

bad garbage
e2e_assert_match "$CASE_OUT" 'goaway=1 reason="bad frame: not a carrier frame \(bad version\)"' \
    "garbage: GOAWAY protocol, bad frame"
e2e_assert_contains "$CASE_LOG" 'reason="bad frame: not a carrier frame (bad version)"' \
    "garbage: the same reason in the log"

bad unknown
e2e_assert_match "$CASE_OUT" 'goaway=1 reason="data for stream 7, which was never opened"' \
    "unknown stream: GOAWAY protocol, never opened"
e2e_assert_contains "$CASE_LOG" 'reason="data for stream 7, which was never opened"' \
    "unknown stream: the same reason in the log"

bad overflow "$sinkport"
e2e_assert_match "$CASE_OUT" 'goaway=2 reason="stream 1 sent past its window \([0-9]+ > [0-9]+\)"' \
    "window overflow: GOAWAY limit, past its window"
e2e_assert_contains "$CASE_LOG" 'reason="stream 1 sent past its window' \
    "window overflow: the same reason in the log"
sent=$(sed -n 's/.* sent=\([0-9]*\) .*/\1/p' <<<"$CASE_OUT")
e2e_assert_le $(( 256 << 10 )) "$sent" "window overflow: the client sent more than a window ($sent bytes)"

# The storm: not a carrier-ending input any more.  The client leaves
# after 3 s; the server logs the carrier's end then, as closed.
n=$(e2e_count "$E2E_SERVER_LOG" msg=carrier)
CASE_OUT=$(ip netns exec "$(e2e_ns dyno)" timeout -k 5 30 python3 "$peer" \
    client "$E2E_SERVER_PORT" storm $(( maxconns * 2 )) 2>&1)
e2e_log "storm: client: $CASE_OUT"
excess=$(( maxconns * 2 - maxconns / 4 ))
e2e_assert_match "$CASE_OUT" "^hello=ok goaway=none .* refused=$excess " \
    "OPEN storm: the streams past a quarter of --max-conns refused alone, no GOAWAY"
e2e_wait_count 10 "$E2E_SERVER_LOG" msg=carrier $(( n + 1 ))
CASE_LOG=$(grep -a msg=carrier "$E2E_SERVER_LOG" | tail -n 1)
e2e_log "storm: server: ${CASE_LOG#*msg=carrier }"
e2e_assert_contains "$CASE_LOG" " refused=$excess " \
    "OPEN storm: one log line counts them"
e2e_assert_contains "$CASE_LOG" " outcome=closed " \
    "OPEN storm: the carrier lived on until its client left"
e2e_assert_eq 0 "$(e2e_count "$E2E_SERVER_LOG" "reason=max-conns")" \
    "OPEN storm: nobody was refused for --max-conns"

# Two storms at once, each held 3 s: one carrier's streams take at most a
# quarter of --max-conns and all carriers' three quarters, so the
# bystanders, over a carrier and over version 1, go on being served while
# they last (before, two such carriers took every slot).
for i in 1 2; do
	ip netns exec "$(e2e_ns dyno)" timeout -k 5 30 python3 "$peer" client \
	    "$E2E_SERVER_PORT" storm "$maxconns" >"$E2E_TMP/storm$i.out" 2>&1 &
done
sleep 1
for n in car v1; do
	before=$(loop_ok "$n")
	e2e_wait_until 2 "$n's loop to be served during two storms" loop_ok_above "$n" "$before"
done
wait
e2e_log "two storms: $(cat "$E2E_TMP/storm1.out") / $(cat "$E2E_TMP/storm2.out")"
for c in 1 2; do
	e2e_assert_match "$(cat "$E2E_TMP/storm$c.out")" "^hello=ok goaway=none .* refused=$(( maxconns - maxconns / 4 )) " \
	    "two storms: storm $c had a quarter of --max-conns, the rest refused"
done

for n in car v1; do
	e2e_lnode_eval "$n" "e2e_loop ! stop, ok"
	e2e_log "$n's loop: $(cat "$E2E_TMP/loop.$n")"
	e2e_assert_match "$(cat "$E2E_TMP/loop.$n")" '^ok=[0-9]+ bad=0 ' \
	    "$n: every round during and after the bad carriers passed"
	e2e_lnode_eval "$n" "rpc:call(app@dyno, erlang, node, [])"
	e2e_assert_eq app@dyno "$E2E_RESULT" "$n: rpc works after them"
done
e2e_assert_eq "" "$(grep -a 'erlfwd:' "$CLI_AGENT_LOG")" "the other carrier's agent lost nothing"
e2e_pass
