#!/usr/bin/env bash
# t_cluster_self: a host's own name never leaves it through the overlay
# proxy (hardening III finding 7).  Dyno web-1 of the clustering lab runs as
# on Fir: its host name (dyno-1) is not the name the overlay knows it by
# (web-1), and its overlay proxy cannot reach the dyno itself (as
# Tailscale's userspace netstack: the host's own tailnet address is not an
# address of the host; here a REJECT of the dyno's own overlay address).
# app@web-1 runs there under the preload with the glob route, beside
# erlfwd-server --cluster --self web-1.  A console in the same dyno, under
# the same preload and route (`heroku run:inside web.1 bin/app remote`):
#   - reaches app@web-1 (rpc), and the helper asked the proxy for nothing:
#     web-1 resolved to 127.0.0.1;
#   - the helper answers a LOOKUP of web-1, and of its host name dyno-1
#     (any case), with 127.0.0.1.
# Dyno web-2 is the same but its helper has no --self: what makes web-2
# its own is app@web-2, registered in its epmd (which lists "app" alone;
# the helper asks the node its full name, as a handshake's challenge
# says it):
#   - before app@web-2 runs, web-2 is any peer's name: a sentinel;
#   - then a console named after the host name (console@dyno-2, so that
#     only app@web-2 says web-2) reaches app@web-2, the helper logs what
#     it learnt once and asked the proxy for nothing, and web-2 (any case)
#     resolves to 127.0.0.1; the node logged nothing of the question;
#   - once app@web-2 has left epmd, web-2 is a peer's name again.
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=cluster_lab.sh
. "$(dirname "$0")/cluster_lab.sh"
e2e_init
e2e_require_build
e2e_require_cmd microsocks elixir iptables python3

cl_overlay
cl_dyno 1
ns=$(e2e_ns web-1)
# From here on the dyno's processes see the host name dyno-1.
E2E_DYNO_HOST[web-1]=dyno-1
ip netns exec "$ns" iptables -A OUTPUT -d 10.77.1.2 ! -o lo -j REJECT &&
    ip netns exec "$ns" iptables -A OUTPUT -d 10.77.1.2 -o lo -j REJECT ||
    e2e_fail "cannot keep web-1 from reaching its own overlay address"
e2e_assert_true "the dyno cannot reach its own overlay address" e2e_not \
    e2e_dyno_exec web-1 timeout 5 python3 -c \
    'import socket; socket.create_connection(("10.77.1.2", 4369), timeout=2)'
e2e_dyno_spawn web-1 helper-self "$E2E_SERVER_BIN" --cluster "$CL_ROUTE" \
    --self web-1
log=$E2E_TMP/helper-self.log
e2e_wait_until 10 "the cluster helper with --self" \
    e2e_file_has "$log" "msg=listening"
cl_member 1 "app@web-1"

cl_eval 1 console "rpc:call('app@web-1', erlang, node, [])"
e2e_assert_eq "'app@web-1'" "$E2E_RESULT" \
    "a console on the dyno reaches its node by the overlay name"
e2e_assert_eq 0 "$(e2e_count "$log" "msg=cluster peer=")" \
    "the helper relayed nothing through the proxy for it"
e2e_assert_eq 0 "$(e2e_count "$log" "name=web-1 ")" \
    "web-1 got no sentinel"
cl_eval 1 resolve "inet:getaddr('web-1', inet)"
e2e_assert_eq "{ok,{127,0,0,1}}" "$E2E_RESULT" "web-1 resolves to 127.0.0.1"
for name in web-1 dyno-1 DYNO-1; do
	e2e_assert_eq "sentinel 127.0.0.1" \
	    "$(e2e_dyno_exec web-1 python3 "$E2E_DIR/cluster_peer.py" lookup 9370 "$name")" \
	    "the helper answers a LOOKUP of $name with 127.0.0.1"
done

# ---- web-2: its own name known only from its node in its epmd
cl_dyno 2
E2E_DYNO_HOST[web-2]=dyno-2
ns2=$(e2e_ns web-2)
ip netns exec "$ns2" iptables -A OUTPUT -d 10.77.2.2 ! -o lo -j REJECT &&
    ip netns exec "$ns2" iptables -A OUTPUT -d 10.77.2.2 -o lo -j REJECT ||
    e2e_fail "cannot keep web-2 from reaching its own overlay address"
cl_helper 2
log2=$E2E_TMP/helper-web-2.log
lookup2() {
	e2e_dyno_exec web-2 python3 "$E2E_DIR/cluster_peer.py" lookup 9370 "$1"
}
# stale: the helper's names are older than their 2 s (SELFNAMES_TTL_MS).
stale() { sleep 2.2; }
e2e_assert_match "$(lookup2 web-2)" '^sentinel 127\.(24[0-9]|25[0-5])\.' \
    "before app@web-2 runs, web-2 is a peer's name: a sentinel"
cl_member 2 "app@web-2"
stale
CL_SNAME_HOST=dyno-2 cl_eval 2 console "rpc:call('app@web-2', erlang, node, [])"
e2e_assert_eq "'app@web-2'" "$E2E_RESULT" \
    "console@dyno-2 reaches app@web-2, whose host part only the node itself says"
e2e_assert_eq 1 "$(e2e_count "$log2" "msg=cluster self name=web-2 node=app@web-2 from=epmd")" \
    "the helper logs once what it learnt from the node"
e2e_assert_eq 0 "$(e2e_count "$log2" "msg=cluster peer=")" \
    "the helper relayed nothing through the proxy"
for name in web-2 WEB-2; do
	e2e_assert_eq "sentinel 127.0.0.1" "$(lookup2 "$name")" \
	    "the helper answers a LOOKUP of $name with 127.0.0.1"
done
e2e_assert_eq 0 "$(e2e_count "$E2E_TMP/member-web-2.log" erlfwd_self)" \
    "app@web-2 logged nothing of the helper's question"
e2e_stop "${E2E_NODE_PID[app@web-2]}"
e2e_wait_until 10 "app@web-2 to leave epmd" \
    e2e_not e2e_node_registered web-2 app
stale
e2e_assert_match "$(lookup2 web-2)" '^sentinel 127\.(24[0-9]|25[0-5])\.' \
    "once app@web-2 has left epmd, web-2 is a peer's name again"
e2e_pass
