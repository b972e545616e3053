#!/usr/bin/env bash
# t_bind_client: ERLFWD_BIND=loopback (the default) keeps listeners on the
# loopback without breaking client sockets that bind the wildcard before they
# connect, as OTP's socket backend does (gen_tcp_socket binds 0.0.0.0:0 first;
# on OTP 27 and later every client socket).
#
# Two namespaces joined by a veth pair with private addresses that exist only
# inside them: the laptop (10.99.0.1) and a peer (10.99.0.2) running a TCP
# service that answers with the address it saw.  Under the preload, on the
# laptop:
#   - socat binds 0.0.0.0 before connecting to the peer: it must get through
#     (before the listen-time rule, its bind became 127.0.0.1 and the connect
#     failed with EINVAL);
#   - a node with the default backend, one with -kernel inet_backend socket
#     and, on OTP 27 and later, one whose distribution runs on it too
#     (-proto_dist inet_epmd -inet_epmd socket) each gen_tcp:connect to the
#     peer and read its answer, and rpc a node on the peer through an
#     erlfwd-server listening on the peer's address (a route that leaves the
#     laptop: the redirected connect must not be bound to loopback either);
#   - every listener of the nodes and of the epmd they started, and a socat
#     TCP-LISTEN on the wildcard, is on the loopback (ss).
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init
e2e_require_build

PEER_ADDR=10.99.0.2
LAPTOP_ADDR=10.99.0.1
PEER_PORT=7000
LISTEN_PORT=7001

# listeners DYNO: "PROGRAM ADDRESS:PORT" for each listening TCP socket of
# beam.smp, epmd and socat in that namespace, sorted.
listeners() {
	ip netns exec "$(e2e_ns "$1")" ss -Hltnp |
	    awk '{ if (match($0, /\("[^"]+"/)) print substr($0, RSTART + 2, RLENGTH - 3), $4 }' |
	    grep -E '^(beam\.smp|epmd|socat) ' | sort
}

# not_loopback LINES: the lines whose address is not 127.0.0.1 or [::1].
not_loopback() {
	grep -vE ' (127\.0\.0\.1|\[::1\]):[0-9]+$' <<<"$1"
}

E2E_TUNNEL_PORT=	# nothing is routed here: only binds and connects
e2e_dyno_create laptop laptop
E2E_DYNO_LOCAL[laptop]=1	# its nodes are local ones, under the preload
e2e_dyno_create peer peer
# Created inside the namespaces: the host's own namespace never sees them.
ip link add veth0 netns "$(e2e_ns laptop)" type veth \
    peer name veth0 netns "$(e2e_ns peer)" ||
    e2e_fail "cannot create the veth pair"
ip -n "$(e2e_ns laptop)" addr add "$LAPTOP_ADDR/24" dev veth0
ip -n "$(e2e_ns peer)" addr add "$PEER_ADDR/24" dev veth0
ip -n "$(e2e_ns laptop)" link set veth0 up
ip -n "$(e2e_ns peer)" link set veth0 up

# shellcheck disable=SC2016 # SOCAT_PEERADDR is the answering shell's
e2e_dyno_spawn peer peer-service socat \
    "TCP-LISTEN:$PEER_PORT,bind=$PEER_ADDR,reuseaddr,fork" \
    'SYSTEM:echo pong from $SOCAT_PEERADDR'
e2e_wait_port -n peer "$PEER_PORT"
# A node on the peer, behind an erlfwd-server on the peer's own address: a
# route that leaves the laptop.
e2e_epmd_start peer
e2e_node_start peer app@peer
e2e_server_start peer -l "$PEER_ADDR:$E2E_SERVER_PORT"

mapfile -t env < <(E2E_HOSTS=peer e2e_preload_env)
env+=("ERLFWD_TUNNEL=$PEER_ADDR:$E2E_SERVER_PORT")

got=$(e2e_dyno_exec laptop env "${env[@]}" timeout 10 socat -T5 - \
    "TCP:$PEER_ADDR:$PEER_PORT,bind=0.0.0.0" </dev/null 2>"$E2E_TMP/socat.err")
e2e_assert_eq "pong from $LAPTOP_ADDR" "$got" \
    "a C client bound to 0.0.0.0 reaches the peer from $LAPTOP_ADDR"
e2e_assert_contains "$(cat "$E2E_TMP/socat.err")" "0.0.0.0:0 deferred" \
    "the preload saw the bind and left the socket unbound"

# OTP 27 and later can run the distribution itself on the socket backend.
otp=$(e2e_dyno_exec laptop erl -noshell -eval \
    'io:put_chars(erlang:system_info(otp_release)), halt().')
variants=(inet socket)
(( otp >= 27 )) && variants+=(socketdist)
e2e_log "laptop OTP $otp: ${variants[*]}"
nodes=0
for v in "${variants[@]}"; do
	case $v in
	inet) args=(-kernel inet_backend inet) ;;
	socket) args=(-kernel inet_backend socket) ;;
	socketdist) args=(-kernel inet_backend socket -proto_dist inet_epmd
	    -inet_epmd socket) ;;
	esac
	e2e_dyno_spawn laptop "node-$v" env "${env[@]}" \
	    erl -sname "n$v" -setcookie "$E2E_COOKIE" -noinput "${args[@]}" \
	    -eval "
	    R = case gen_tcp:connect({10,99,0,2}, $PEER_PORT,
	            [binary, {active, false}], 5000) of
	            {ok, S} -> gen_tcp:recv(S, 0, 5000);
	            E -> E
	        end,
	    io:format(\"CONNECT=~p~n\", [R]),
	    io:format(\"RPC=~p~n\", [rpc:call(app@peer, erlang, node, [], 10000)])."
	nodes=$(( nodes + 1 ))
	e2e_wait_until 30 "the $v node's rpc to finish" \
	    e2e_file_has "$E2E_TMP/node-$v.log" "RPC="
	got=$(grep -o 'CONNECT=.*' "$E2E_TMP/node-$v.log")
	e2e_assert_eq "CONNECT={ok,<<\"pong from $LAPTOP_ADDR\\n\">>}" "$got" \
	    "$v: gen_tcp:connect to $PEER_ADDR works"
	e2e_assert_eq "RPC=app@peer" "$(grep -o 'RPC=.*' "$E2E_TMP/node-$v.log")" \
	    "$v: rpc to app@peer through the erlfwd-server at $PEER_ADDR works"
	e2e_wait_until 20 "n$v to register with the laptop's epmd" \
	    e2e_node_registered laptop "n$v"
done

e2e_dyno_spawn laptop listener env "${env[@]}" socat \
    "TCP-LISTEN:$LISTEN_PORT,reuseaddr" STDOUT
e2e_wait_port -n laptop "$LISTEN_PORT"

socks=$(listeners laptop)
e2e_log "laptop listens on:"
sed 's/^/    /' <<<"$socks" >&2
e2e_assert_match "$socks" "(^|
)epmd (127\.0\.0\.1|\[::1\]):4369" "the epmd the nodes started is there"
e2e_assert_eq "$nodes" "$(grep -c '^beam\.smp ' <<<"$socks")" \
    "every node's distribution listener is there"
e2e_assert_match "$socks" "(^|
)socat 127\.0\.0\.1:$LISTEN_PORT" "socat's wildcard listener is on 127.0.0.1"
e2e_assert_eq "" "$(not_loopback "$socks")" \
    "no listener of the nodes, epmd or socat off the loopback"
e2e_pass
