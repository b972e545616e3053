#!/usr/bin/env bash
# t_server_adversary: what a local process on the remote host can do with
# epmd, which registers any name with any port for anyone on the host, and
# what erlfwd-server lets through of it.  Every refusal is one line, then a
# FIN, never a reset (kubectl port-forward 1.23+ ends the whole forward on
# one reset).
#   - another user's service (socat run as nobody) registered with epmd: a
#     DIST stream that starts a real handshake is refused, outcome=denied
#     reason=other-uid;
#   - a port that only a forged NAMES line lists ("x at port P\nname y"
#     registered as one name), P a real node's that is not registered (so
#     it answers like a node): epmd knows no node "x", reason=name-mismatch;
#   - a DIST stream whose first bytes are not a handshake's name message
#     (HTTP to the node's own port) is refused before the server connects
#     anywhere, reason=not-dist;
#   - the server's own port registered with epmd: reason=own-port;
#   - a service of the server's own uid registered under a node name (it
#     greets first, as SMTP or Redis do) gets a real name message and not a
#     byte more, and the client gets none of its bytes: reason=not-beam;
#   - names with a space or a terminal control: ignored (logged once), and
#     INFO still answers for the real node, counting them as skipped;
#   - through all of it, rpc to the real node works;
#   - relays that hold sockets for nothing end: a half-closed one after
#     --linger, one silent both ways after --idle-timeout; the same as a
#     carrier's streams, whose sockets the carrier holds, not a relay.
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=cli.sh
. "$(dirname "$0")/cli.sh"
e2e_init
cli_require
e2e_require_cmd setpriv stat
e2e_world
app_port=$(e2e_node_port dyno app)
pg=5432 ghost=41999

# register NAME PORT: hold an epmd registration (ALIVE2_REQ) of NAME (printf
# escapes allowed) on PORT in the dyno, as any local process can: the
# connection that registered stays open in a sleeping bash.
register() {
	local n len hdr reg=$E2E_TMP/alive2.$RANDOM$RANDOM
	# shellcheck disable=SC2059 # NAME may hold escapes
	printf "$1" >"$reg.name"
	n=$(stat -c %s "$reg.name")
	len=$(( 13 + n ))
	hdr=$(printf '\\x%02x\\x%02x\\x78\\x%02x\\x%02x\\x4d\\x00\\x00\\x06\\x00\\x05\\x%02x\\x%02x' \
	    $(( len >> 8 )) $(( len & 255 )) $(( $2 >> 8 )) $(( $2 & 255 )) \
	    $(( n >> 8 )) $(( n & 255 )))
	# shellcheck disable=SC2059 # a printf format built on purpose
	{ printf "$hdr"; cat "$reg.name"; printf '\x00\x00'; } >"$reg"
	# shellcheck disable=SC2016 # expanded by bash -c
	e2e_dyno_spawn dyno "reg-${reg##*.}" bash -c \
	    'exec 3<>/dev/tcp/127.0.0.1/4369 && cat "$0" >&3 && exec sleep 600' "$reg"
}

# name_msg NAME: the start of a distribution handshake for NAME (send_name,
# version 6), as printf escapes.
name_msg() {
	local n=${#1} len=$(( 15 + ${#1} ))
	printf '\\x%02x\\x%02xN\\x00\\x00\\x00\\x01\\x03\\xdf\\x7f\\xbd\\x00\\x00\\x00\\x00\\x%02x\\x%02x%s' \
	    $(( len >> 8 )) $(( len & 255 )) $(( n >> 8 )) $(( n & 255 )) "$1"
}

# talk FORMAT: inside the dyno, one connection to the server: send FORMAT's
# bytes (printf escapes), keep our side open, read until the server ends
# it.  TALK_OUT is what came back; TALK_END "fin", or what reading said (a
# reset: "Connection reset by peer").
talk() {
	local out=$E2E_TMP/talk.$RANDOM$RANDOM
	# shellcheck disable=SC2016 # expanded by bash -c
	ip netns exec "$(e2e_ns dyno)" timeout 10 bash -c '
		exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 9
		printf "$0" >&3 2>/dev/null
		exec cat <&3' "$1" "$E2E_SERVER_PORT" >"$out" 2>"$out.err"
	TALK_END="rc $?: $(tr '\n' ' ' <"$out.err")"
	[[ $TALK_END == "rc 0: " ]] && TALK_END=fin
	TALK_OUT=$(<"$out")
}

# dist_refused WHAT PORT FIRST REASON: a DIST(PORT) stream inside the dyno
# that sends FIRST (printf escapes) is refused with REASON: one line, then a
# FIN, and its log line.
dist_refused() {
	local what=$1 port=$2 first=$3 reason=$4 before
	before=$(e2e_count "$E2E_SERVER_LOG" "reason=$reason")
	talk "$(e2e_frame 2 "$port" 0)$first"
	e2e_assert_eq "erlfwd-server: denied: $reason" "$TALK_OUT" \
	    "$what: the client is told 'denied: $reason'"
	e2e_assert_eq fin "$TALK_END" \
	    "$what: the connection ends with a FIN, not a reset"
	e2e_wait_count 5 "$E2E_SERVER_LOG" "reason=$reason" $(( before + 1 ))
	e2e_assert_match "$(grep -a "reason=$reason" "$E2E_SERVER_LOG" | tail -n 1)" \
	    "target=127\\.0\\.0\\.1:$port .*outcome=denied reason=$reason" \
	    "$what: logged outcome=denied reason=$reason"
}

# Another user's service, registered with epmd under a node-like name.
e2e_dyno_spawn dyno pg setpriv --reuid=65534 --regid=65534 --clear-groups \
    socat "TCP-LISTEN:$pg,bind=127.0.0.1,reuseaddr,fork" SYSTEM:'echo PG-DATA'
e2e_wait_port -n dyno "$pg"
register pgnode "$pg"
# A forged line: one registered name that reads as two NAMES lines, the
# first pointing at a node that is not registered (its epmd module skips
# that, as erlfwd_epmd does with no epmd to reach), which answers a
# handshake as any node does.
ebin=$(ls -d "$E2E_BUILD"/erlang/otp*/ 2>/dev/null | head -n 1)
[[ -f $ebin/erlfwd_epmd.beam ]] || e2e_skip "no $E2E_BUILD/erlang/otp*: make with erlc"
e2e_dyno_spawn dyno hidden env ERL_EPMD_PORT=1 erl -sname hidden \
    -setcookie "$E2E_COOKIE" -start_epmd false -epmd_module erlfwd_epmd \
    -pa "$ebin" -noinput
# Its port: the dyno's one BEAM listener that is not app's.
hidden_port() {
	ip netns exec "$(e2e_ns dyno)" ss -Hltnp 2>/dev/null |
	    awk -v app=":$app_port" '/"beam.smp"/ && $4 !~ app"$" {
		sub(/.*:/, "", $4); print $4; exit }'
}
hidden_up() { [[ -n $(hidden_port) ]]; }
e2e_wait_until 20 "the unregistered node to listen" hidden_up
hidden=$(hidden_port)
e2e_log "an unregistered node on port $hidden"
register "x at port $hidden\\nname y" "$ghost"
# Names no node has: a space, a terminal control.
register 'a b' 41998
register 'esc\x1b[2J' 41997
# The server's own port.
register loop "$E2E_SERVER_PORT"
# A service of the server's own uid that speaks first, registered as a node.
svc=7201
e2e_dyno_spawn dyno svc socat "TCP-LISTEN:$svc,bind=127.0.0.1,reuseaddr,fork" \
    SYSTEM:"echo +OK svc ready; exec cat >>$E2E_TMP/svc.got"
e2e_wait_port -n dyno "$svc"
register svcnode "$svc"
epmd_lists_all() {
	(( $(e2e_epmd_names dyno | grep -c "^name ") >= 8 ))
}
e2e_wait_until 10 "epmd to list every registration" epmd_lists_all
e2e_log "epmd in the dyno: $(e2e_epmd_names dyno | tr '\n\033' '|E')"

dist_refused "another uid's service" "$pg" "$(name_msg remsh-1@laptop)" other-uid
dist_refused "a node only a forged line lists" "$hidden" \
    "$(name_msg remsh-1@laptop)" name-mismatch
dist_refused "HTTP to the node's own port" "$app_port" 'GET / HTTP/1.1\r\n\r\n' not-dist
dist_refused "epmd's KILL as DIST" "$app_port" '\x00\x01k' not-dist
dist_refused "the server's own port" "$E2E_SERVER_PORT" "$(name_msg remsh-1@laptop)" own-port
dist_refused "a service of our uid, greeting first" "$svc" \
    "$(name_msg remsh-1@laptop)SET pwned 1\\r\\n" not-beam
e2e_wait_until 5 "the service to read the name message" test -s "$E2E_TMP/svc.got"
sleep 0.3	# anything more would be there by now
e2e_assert_not_contains "$(tr -d '\0' <"$E2E_TMP/svc.got")" pwned \
    "the service got the name message and not a byte more"
e2e_assert_contains "$(tr -d '\0' <"$E2E_TMP/svc.got")" remsh-1@laptop \
    "... the name message itself"

# Not erlfwd at all (an HTTP health check on the forwarded port), with more
# bytes behind the bad magic than the server reads: the line, then a FIN
# (closing with unread bytes would have been a reset).
talk "GET / HTTP/1.1\\r\\nHost: x\\r\\nUser-Agent: $(printf '%04000d' 0)\\r\\n\\r\\n"
e2e_assert_eq "erlfwd-server: rejected: not an erlfwd preamble (bad magic)" \
    "$TALK_OUT" "an HTTP request is told it is no erlfwd preamble"
e2e_assert_eq fin "$TALK_END" "... and ends with a FIN, not a reset"

# INFO and names: the real nodes, the odd names skipped and counted.
cli_run names --tunnel "127.0.0.1:$E2E_TUNNEL_PORT"
e2e_assert_eq 0 "$CLI_RC" "names answers despite the odd names"
e2e_assert_contains "$CLI_OUT" "name app at port $app_port" "names lists the real node"
e2e_assert_contains "$CLI_OUT" "(2 more names registered with epmd there are no node name" \
    "names counts the two odd names"
e2e_assert_not_contains "$CLI_OUT" "name a b" "the name with a space is not listed"
e2e_assert_not_contains "$CLI_OUT" "esc" "the name with a control is not listed"
e2e_assert_eq 1 "$(e2e_count "$E2E_SERVER_LOG" "msg=odd-epmd-names count=2 ")" \
    "the odd names are logged once"

e2e_erl_eval -sname "t$$" "rpc:call(app@dyno, erlang, node, [])"
e2e_assert_eq app@dyno "$E2E_RESULT" "rpc still reaches app@dyno"

# Relays that hold sockets for nothing.  A sink that closes at once leaves
# the relay half-closed; one that says nothing leaves it idle.
e2e_stop "$E2E_SERVER_PID"
e2e_wait_port_closed -n dyno "$E2E_SERVER_PORT"
e2e_dyno_spawn dyno sink-close socat "TCP-LISTEN:7101,bind=127.0.0.1,reuseaddr,fork" \
    SYSTEM:'exit 0'
e2e_dyno_spawn dyno sink-silent socat "TCP-LISTEN:7102,bind=127.0.0.1,reuseaddr,fork" \
    SYSTEM:'exec sleep 30'
e2e_wait_port -n dyno 7101
e2e_wait_port -n dyno 7102
e2e_server_start dyno --allow-port 7101 --allow-port 7102 --linger 1000 \
    --idle-timeout 3000
for port in 7101 7102; do
	# shellcheck disable=SC2016 # expanded by bash -c
	e2e_dyno_spawn dyno "client-$port" bash -c \
	    'printf "$0" | cat - <(exec sleep 30) | exec socat -t 30 - TCP:127.0.0.1:$1' \
	    "$(e2e_frame 2 "$port" 0)" "$E2E_SERVER_PORT"
done
e2e_wait_count 8 "$E2E_SERVER_LOG" "target=127.0.0.1:7101 " 1
line=$(grep -a "target=127.0.0.1:7101 " "$E2E_SERVER_LOG")
e2e_log "logged: ${line#*msg=conn }"
e2e_assert_match "$line" "outcome=timeout reason=half-closed" \
    "a half-closed relay is closed after --linger"
dur=$(sed -n 's/.* dur_ms=\([0-9]*\) .*/\1/p' <<<"$line")
e2e_assert_le 1000 "$dur" "... not before 1000 ms ($dur ms)"
e2e_assert_le "$dur" 2500 "... nor long after ($dur ms)"
e2e_wait_count 10 "$E2E_SERVER_LOG" "target=127.0.0.1:7102 " 1
line=$(grep -a "target=127.0.0.1:7102 " "$E2E_SERVER_LOG")
e2e_log "logged: ${line#*msg=conn }"
e2e_assert_match "$line" "outcome=timeout reason=idle" \
    "a relay silent both ways is closed after --idle-timeout"
dur=$(sed -n 's/.* dur_ms=\([0-9]*\) .*/\1/p' <<<"$line")
e2e_assert_le 3000 "$dur" "... not before 3000 ms ($dur ms)"
e2e_assert_le "$dur" 4500 "... nor long after ($dur ms)"

# The same two as a carrier's streams: past its setup, a stream's upstream
# socket is the carrier's (no relay of the server's), and the same limits
# end it, with the same line.
cli_agent_start quiet --tunnel "127.0.0.1:$E2E_TUNNEL_PORT"
for port in 7101 7102; do
	# shellcheck disable=SC2016 # expanded by bash -c
	e2e_spawn "stream-$port" bash -c \
	    'printf "$0" | cat - <(exec sleep 30) | exec socat -t 30 - TCP:127.0.0.1:$1' \
	    "$(e2e_frame 2 "$port" 0)" "$CLI_AGENT_PORT"
done
for want in "7101 half-closed 1000 2500" "7102 idle 3000 4500"; do
	read -r port reason lo hi <<<"$want"
	# The relay's line above, then the stream's (peer=ADDR#ID).
	e2e_wait_count 10 "$E2E_SERVER_LOG" "target=127.0.0.1:$port " 2
	line=$(grep -a "target=127.0.0.1:$port " "$E2E_SERVER_LOG" | tail -n 1)
	e2e_log "logged: ${line#*msg=conn }"
	e2e_assert_match "$line" "peer=[^ ]+#[0-9]+ .*outcome=timeout reason=$reason" \
	    "a carrier's stream to $port ends as a relay would ($reason)"
	dur=$(sed -n 's/.* dur_ms=\([0-9]*\) .*/\1/p' <<<"$line")
	e2e_assert_le "$lo" "$dur" "... not before $lo ms ($dur ms)"
	e2e_assert_le "$dur" "$hi" "... nor long after ($dur ms)"
done
e2e_assert_eq 0 "$(e2e_count "$E2E_SERVER_LOG" "msg=carrier ")" \
    "the carrier outlives its streams' limits"
e2e_pass
