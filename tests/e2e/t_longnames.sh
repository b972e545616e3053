#!/usr/bin/env bash
# t_longnames: long names.  The dyno's host name is web.1 and its node
# app@web.1; the laptop runs -name t@laptop.local with ERLFWD_HOSTS='web.*'
# (a glob), and reaches it.
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init
e2e_require_build

e2e_dyno_start web web.1
e2e_node_start_long web app@web.1
e2e_server_start web
e2e_tunnel_up web
e2e_local_epmd_start

pid=${E2E_NODE_PID[app@web.1]}
E2E_HOSTS='web.*' e2e_erl_eval -name "t$$@laptop.local" "
	N = 'app@web.1',
	{node(),
	 rpc:call(N, erlang, node, []),
	 rpc:call(N, os, getpid, []),
	 net_adm:names(\"web.1\")}"
e2e_assert_eq 0 "$E2E_RC" "the local node exits cleanly"
e2e_assert_eq "{'t$$@laptop.local','app@web.1',\"$pid\",{ok,[{\"app\",$(e2e_node_port web app)}]}}" \
    "$E2E_RESULT" "app@web.1 answers through the glob web.*"

# A name the glob does not cover stays local, and is not found.
E2E_HOSTS='web.*' e2e_erl_eval -name "t$$@laptop.local" \
    "net_adm:ping('app@db.1')"
e2e_assert_eq pang "$E2E_RESULT" "app@db.1 is not routed by web.*"
e2e_pass
