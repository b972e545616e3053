#!/usr/bin/env bash
# t_server_epmd_port: a dyno whose epmd is not on 4369.  erlfwd-server -e 4370
# relays the lookups there and allows the ports that epmd lists: INFO says
# epmd_port=4370 with the node, and an rpc goes through.
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init
e2e_require_build

epmd_port=4370
e2e_dyno_create dyno
e2e_dyno_spawn dyno epmd env ERL_EPMD_PORT="$epmd_port" epmd
e2e_wait_port -n dyno "$epmd_port"
ready=$E2E_TMP/app.ready
e2e_dyno_spawn dyno node env ERL_EPMD_PORT="$epmd_port" \
    erl -sname app@dyno -setcookie "$E2E_COOKIE" -noinput \
    -eval "ok = file:write_file(\"$ready\", os:getpid())."
e2e_wait_until 30 "app@dyno to boot" test -s "$ready"
registered() {
	ip netns exec "$(e2e_ns dyno)" env ERL_EPMD_PORT="$epmd_port" \
	    timeout 10 epmd -names 2>&1 | grep -q "name app at"
}
e2e_wait_until 10 "app@dyno to register with epmd on $epmd_port" registered
e2e_server_start dyno -e "$epmd_port"
e2e_tunnel_up dyno
e2e_local_epmd_start

e2e_raw "$E2E_TUNNEL_PORT" "$(e2e_frame 3 0 0)"
body=$(tail -c +11 "$E2E_RAW_FILE")
e2e_assert_match "$body" "(^|
)epmd_port=$epmd_port(
|$)" "INFO: epmd_port=$epmd_port"
e2e_assert_match "$body" "(^|
)node=app [0-9]+(
|$)" "INFO: lists app"

e2e_erl_eval -sname "t$$" "rpc:call('app@dyno', os, getpid, [])"
e2e_assert_eq "\"$(<"$ready")\"" "$E2E_RESULT" "rpc reaches app@dyno"
e2e_pass
