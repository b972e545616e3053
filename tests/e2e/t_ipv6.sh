#!/usr/bin/env bash
# t_ipv6: a local node with -proto_dist inet6_tcp (IPv6 distribution)
# reaches app@dyno, which stays on IPv4: the server relays to 127.0.0.1.
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init
e2e_require_build
e2e_world

pid=${E2E_NODE_PID[app@dyno]}
e2e_erl_eval -sname "t$$" "
	N = 'app@dyno',
	{net_kernel:get_net_ticktime() > 0,
	 init:get_argument(proto_dist),
	 rpc:call(N, erlang, node, []),
	 rpc:call(N, os, getpid, [])}" -proto_dist inet6_tcp
e2e_assert_eq 0 "$E2E_RC" "the local node exits cleanly"
e2e_assert_eq "{true,{ok,[[\"inet6_tcp\"]]},app@dyno,\"$pid\"}" "$E2E_RESULT" \
    "an inet6_tcp node calls app@dyno"

# The local node registered with the laptop's epmd over IPv6 and the lookup
# of dyno went to the tunnel: both happened, or the rpc above could not have.
e2e_assert_contains "$(e2e_server_conn_lines)" "tag=epmd" \
    "the epmd lookup went through erlfwd-server"
e2e_pass
