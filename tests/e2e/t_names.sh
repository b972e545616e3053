#!/usr/bin/env bash
# t_names: net_adm:names("dyno") on the laptop lists the dyno's nodes with
# their real ports, as `epmd -names` inside the dyno does, although the
# laptop's ERL_EPMD_PORT is not the dyno's 4369.
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init
e2e_require_build
e2e_world
e2e_node_start dyno worker@dyno

e2e_assert_ne 4369 "$E2E_LOCAL_EPMD" "the laptop's epmd port differs from the dyno's"

# What the dyno's epmd itself says, as the Erlang term net_adm:names returns
# (sorted: epmd lists the newest first).
expected=$(e2e_epmd_names dyno |
    awk '$1 == "name" && $4 == "port" { printf "{\"%s\",%s}\n", $2, $5 }' |
    LC_ALL=C sort | paste -sd, -)
expected="{ok,[$expected]}"
e2e_assert_match "$expected" '"app".*"worker"|"worker".*"app"' \
    "the dyno's epmd has both nodes"

e2e_erl_eval -sname "t$$" '
	case net_adm:names("dyno") of
		{ok, L} -> {ok, lists:sort(L)};
		Error -> Error
	end'
e2e_assert_eq "$expected" "$E2E_RESULT" \
    "net_adm:names(\"dyno\") is the dyno's epmd -names"

e2e_erl_eval -sname "t$$" "[net_adm:ping(N) || N <- ['app@dyno', 'worker@dyno']]"
e2e_assert_eq "[pong,pong]" "$E2E_RESULT" "both listed nodes answer a ping"
e2e_pass
