#!/usr/bin/env bash
# t_epmd_port_arg: a local node whose epmd port comes from `-epmd_port N` on
# its command line rather than ERL_EPMD_PORT.  OTP takes the argument first,
# and so must the library: a connect to the dyno on port N is the EPMD tag,
# so net_adm:names and rpc work through the tunnel.
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init
e2e_require_build
e2e_world
port=$E2E_LOCAL_EPMD

# No ERL_EPMD_PORT in the environment: only the argument says it.
E2E_LOCAL_EPMD='' e2e_erl_eval -sname "t$$" \
    "{net_adm:names(\"dyno\"), rpc:call(app@dyno, erlang, node, []),
      lists:keymember(\"t$$\", 1, element(2, net_adm:names()))}" \
    -epmd_port "$port"
e2e_assert_not_contains "$(cat "$E2E_TMP/erl-$E2E_ERL_SEQ.cmd")" \
    "ERL_EPMD_PORT" "the node's environment has no ERL_EPMD_PORT"
e2e_assert_eq "{{ok,[{\"app\",$(e2e_node_port dyno app)}]},app@dyno,true}" \
    "$E2E_RESULT" "names and rpc work with -epmd_port $port, and the node registered with the local epmd on it"
e2e_assert_match "$E2E_ERR" "epmd port $port," \
    "the library took its epmd port from -epmd_port"
e2e_assert_match "$E2E_ERR" "dyno:$port -> 127\\.0\\.0\\.1:[0-9]+ epmd" \
    "a connect to the dyno on that port is tagged epmd"
# Both: erlexec turns ERL_EPMD_PORT into a leading -epmd_port, so OTP uses
# ERL_EPMD_PORT's port and ignores the -epmd_port typed after it; the
# library must take the same one (it took the last).
other=
e2e_free_port other
e2e_erl_eval -sname "u$$" \
    "{net_adm:names(\"dyno\"), rpc:call(app@dyno, erlang, node, []),
      init:get_argument(epmd_port)}" \
    -epmd_port "$other"
e2e_assert_eq "{{ok,[{\"app\",$(e2e_node_port dyno app)}]},app@dyno,{ok,[[\"$port\"],[\"$other\"]]}}" \
    "$E2E_RESULT" "with ERL_EPMD_PORT=$port and -epmd_port $other, OTP uses $port and so does the library"
e2e_assert_match "$E2E_ERR" "epmd port $port," \
    "the library took the first -epmd_port, ERL_EPMD_PORT's"
e2e_pass
