#!/usr/bin/env bash
# t_routes: two dynos behind two tunnels, one route per pattern:
# ERLFWD_HOSTS='web.1=127.0.0.1:P1,web.2=127.0.0.1:P2'.  One local node talks
# to both, and each name reaches its own dyno.
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init
e2e_require_build

for n in 1 2; do
	e2e_dyno_start "web$n" "web.$n"
	e2e_node_start_long "web$n" "app@web.$n"
	e2e_server_start "web$n"
	e2e_tunnel_up "web$n"
done
e2e_local_epmd_start

p1=${E2E_TUNNEL_PORTS[web1]} p2=${E2E_TUNNEL_PORTS[web2]}
# The default route leads nowhere: only the per-pattern routes can work.
e2e_free_port E2E_TUNNEL_PORT
E2E_HOSTS="web.1=127.0.0.1:$p1,web.2=127.0.0.1:$p2" \
    e2e_erl_eval -name "t$$@laptop.local" "
	[{N, rpc:call(N, os, getpid, []), string:trim(rpc:call(N, os, cmd, [\"hostname\"]))}
	 || N <- ['app@web.1', 'app@web.2']]"
e2e_assert_eq "[{'app@web.1',\"${E2E_NODE_PID[app@web.1]}\",\"web.1\"},{'app@web.2',\"${E2E_NODE_PID[app@web.2]}\",\"web.2\"}]" \
    "$E2E_RESULT" "each name reaches its own dyno through its own tunnel"
e2e_pass
