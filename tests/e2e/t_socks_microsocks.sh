#!/usr/bin/env bash
# t_socks_microsocks: the SOCKS5 route against a second, independent SOCKS5
# server (Debian's microsocks) running inside the dyno and reached through a
# plain ssh -L to its port; with RFC 1929 username/password, right and wrong,
# and with the password outside the route (socks5://USER@HOST:PORT):
# ERLFWD_SOCKS_PASSWORD for the library, ERLFWD_SOCKS_PASSWORD_FILE for the
# erlfwd command, so that it sits on no command line.
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

# The password from the environment: no escaping, on no command line.
ERLFWD_SOCKS_PASSWORD='s3cr,t@' E2E_HOSTS="dyno=socks5://erl@127.0.0.1:$port" \
    e2e_erl_eval -sname "v$$" 'rpc:call(app@dyno, os, getpid, [])'
e2e_assert_eq "\"${E2E_NODE_PID[app@dyno]}\"" "$E2E_RESULT" \
    "rpc through microsocks with the password in ERLFWD_SOCKS_PASSWORD"
E2E_HOSTS="dyno=socks5://erl@127.0.0.1:$port" \
    e2e_erl_eval -sname "w$$" 'net_adm:ping(app@dyno)'
e2e_assert_eq pang "$E2E_RESULT" "USER@ without ERLFWD_SOCKS_PASSWORD: no route"
e2e_assert_contains "$E2E_ERR" "ERLFWD_SOCKS_PASSWORD" "... and the library says which variable is missing"
# The erlfwd command, from a file.
printf 's3cr,t@\n' >"$E2E_TMP/socks.pw"
chmod 600 "$E2E_TMP/socks.pw"
ERLFWD_SOCKS_PASSWORD_FILE=$E2E_TMP/socks.pw timeout 30 "$E2E_BUILD/erlfwd" names \
    --tunnel "socks5://erl@127.0.0.1:$port" >"$E2E_TMP/names.out" 2>&1
e2e_assert_eq 0 "$?" "erlfwd names with ERLFWD_SOCKS_PASSWORD_FILE exits 0"
e2e_assert_contains "$(<"$E2E_TMP/names.out")" "name app at port" \
    "erlfwd names lists app through microsocks"
e2e_assert_not_contains "$(<"$E2E_TMP/names.out")" "s3cr" "the password is never printed"

E2E_HOSTS="dyno=socks5://erl:wrong@127.0.0.1:$port" \
    e2e_erl_eval -sname "u$$" '{net_adm:ping(app@dyno),
	gen_tcp:connect("dyno", 4369, [], 5000)}'
e2e_assert_eq "{pang,{error,eacces}}" "$E2E_RESULT" \
    "a refused password fails the connect with EACCES"
e2e_assert_match "$E2E_ERR" "authentication refused" \
    "ERLFWD_DEBUG says why"
e2e_pass
