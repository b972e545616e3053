#!/usr/bin/env bash
# t_socks_ssh: two dynos at once from one local node.  "dyno" is reached the
# usual way (ssh -L to erlfwd-server); "worker" runs NO erlfwd-server and is
# reached through a real OpenSSH SOCKS5 proxy into it (ssh -D, as heroku
# ps:socks offers): ERLFWD_HOSTS='dyno=127.0.0.1:P,worker=socks5://127.0.0.1:S'.
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init
e2e_require_build

e2e_world
e2e_dyno_start worker
e2e_node_start worker job@worker
e2e_socks_up worker
e2e_assert_eq "" "$(ip netns exec "$(e2e_ns worker)" ss -Hltn 'sport = :9369')" \
    "no erlfwd-server listens in the worker dyno"

s=${E2E_SOCKS_PORTS[worker]} p=${E2E_TUNNEL_PORTS[dyno]}
E2E_HOSTS="dyno=127.0.0.1:$p,worker=socks5://127.0.0.1:$s" \
    e2e_erl_eval -sname "t$$" "
	{[{N, rpc:call(N, os, getpid, [])} || N <- [app@dyno, job@worker]],
	 lists:sort(element(1, rpc:multicall([app@dyno, job@worker],
	     inet, gethostname, [])))}"
e2e_assert_eq 0 "$E2E_RC" "the local node exits cleanly"
e2e_assert_eq "{[{app@dyno,\"${E2E_NODE_PID[app@dyno]}\"},{job@worker,\"${E2E_NODE_PID[job@worker]}\"}],[{ok,\"dyno\"},{ok,\"worker\"}]}" \
    "$E2E_RESULT" "one local node reaches both dynos, each through its own route"
e2e_assert_match "$E2E_ERR" "worker:[0-9]+ -> socks5://127.0.0.1:$s dist" \
    "the worker's distribution went through the SOCKS5 proxy"
e2e_assert_match "$E2E_ERR" "worker:[0-9]+ -> socks5://127.0.0.1:$s epmd 4369" \
    "its epmd lookup went to the worker's own epmd port through the proxy"
e2e_pass
