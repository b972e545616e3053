#!/usr/bin/env bash
# t_socks_microsocks: the SOCKS5 route against a second, independent SOCKS5
# server (Debian's microsocks) running inside the dyno and reached through a
# plain ssh -L to its port; with RFC 1929 username/password, right and wrong.
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init
e2e_require_build
e2e_require_cmd microsocks

e2e_dyno_start dyno
e2e_node_start dyno app@dyno
e2e_dyno_spawn dyno microsocks microsocks -i 127.0.0.1 -p 1080 -u erl -P 's3cr,t@'
e2e_wait_port -n dyno 1080
e2e_tunnel_up dyno 1080
e2e_local_epmd_start
port=$E2E_TUNNEL_PORT
e2e_free_port E2E_TUNNEL_PORT	# the default route leads nowhere

# The password's ',' and '@' are %-escaped, as ERLFWD_HOSTS is comma-separated.
E2E_HOSTS="dyno=socks5://erl:s3cr%2Ct%40@127.0.0.1:$port" \
    e2e_erl_eval -sname "t$$" 'rpc:call(app@dyno, os, getpid, [])'
e2e_assert_eq "\"${E2E_NODE_PID[app@dyno]}\"" "$E2E_RESULT" \
    "rpc through microsocks with username and password"
e2e_assert_not_contains "$E2E_ERR" "s3cr" "the password is never printed"

E2E_HOSTS="dyno=socks5://erl:wrong@127.0.0.1:$port" \
    e2e_erl_eval -sname "u$$" '{net_adm:ping(app@dyno),
	gen_tcp:connect("dyno", 4369, [], 5000)}'
e2e_assert_eq "{pang,{error,eacces}}" "$E2E_RESULT" \
    "a refused password fails the connect with EACCES"
e2e_assert_match "$E2E_ERR" "authentication refused" \
    "ERLFWD_DEBUG says why"
e2e_pass
