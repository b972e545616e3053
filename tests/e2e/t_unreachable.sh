#!/usr/bin/env bash
# t_unreachable: the dyno can only be reached through erlfwd and the tunnel.
# With the tunnel down, ping is pang and the library says so in one line
# naming the port; without the library, pang even with the tunnel up; with
# both, pong.
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init
e2e_require_build
e2e_world
e2e_tunnel_down dyno

ping="net_adm:ping('app@dyno')"
E2E_DEBUG=0 e2e_erl_eval -sname "t$$" "$ping"
e2e_assert_eq pang "$E2E_RESULT" "tunnel down: ping is pang"
warn=$(grep -E '^erlfwd(\[[0-9]+\])?:' "$E2E_ERR_FILE")
e2e_assert_eq 1 "$(grep -c . <<<"$warn")" \
    "tunnel down: the library wrote one erlfwd: line (got: $warn)"
e2e_assert_contains "$warn" "$E2E_TUNNEL_PORT" "the line names the tunnel port"

e2e_tunnel_up dyno
E2E_PRELOAD=0 e2e_erl_eval -sname "t$$" "$ping"
e2e_assert_eq pang "$E2E_RESULT" "without LD_PRELOAD: ping is pang"
e2e_assert_not_contains "$E2E_ERR" "erlfwd" "without LD_PRELOAD: no erlfwd line"

E2E_DEBUG=0 e2e_erl_eval -sname "t$$" "$ping"
e2e_assert_eq pong "$E2E_RESULT" "library and tunnel: ping is pong"
e2e_assert_eq "" "$E2E_ERR" "library and tunnel: nothing on stderr"
e2e_pass
