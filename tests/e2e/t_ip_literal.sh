#!/usr/bin/env bash
# t_ip_literal: the common release naming, app@127.0.0.1, on both sides.  With
# ERLFWD_HOSTS=127.0.0.1 the local node reaches the dyno's app@127.0.0.1, and
# its own registration with the laptop's epmd (also on 127.0.0.1) still works.
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init
e2e_require_build

e2e_dyno_start dyno
e2e_node_start_long dyno app@127.0.0.1
e2e_server_start dyno
e2e_tunnel_up dyno
e2e_local_epmd_start

pid=${E2E_NODE_PID[app@127.0.0.1]}
# epmd -names is run without the library: it asks the laptop's epmd.
E2E_HOSTS=127.0.0.1 e2e_erl_eval -name "t$$@127.0.0.1" "
	N = 'app@127.0.0.1',
	{node(), erlang:is_alive(),
	 rpc:call(N, erlang, node, []),
	 rpc:call(N, os, getpid, []),
	 os:cmd(\"env -u LD_PRELOAD epmd -names\")}"
e2e_assert_eq 0 "$E2E_RC" "the local node exits cleanly"
e2e_assert_match "$E2E_RESULT" \
    "^\\{'t$$@127.0.0.1',true,'app@127.0.0.1',\"$pid\"," \
    "the local node is alive and app@127.0.0.1 answers from the dyno"
e2e_assert_match "$E2E_RESULT" "port $E2E_LOCAL_EPMD with data:.*name t$$ at port" \
    "the local node is registered with the laptop's epmd"
e2e_assert_not_contains "$E2E_RESULT" "name app at" \
    "the laptop's epmd does not list the dyno's node"
e2e_pass
