#!/usr/bin/env bash
# demo.sh: erlfwd's main job, end to end, with real parts (run by `make demo`).
#
# A "dyno" is a network namespace with only a loopback: an epmd, a real OTP
# node app@dyno and erlfwd-server run inside it.  The only way in is one real
# OpenSSH port forward (ssh -L, to an sshd started inside the namespace), as
# heroku ps:forward gives you.  A local node under liberlfwd.so then asks the
# dyno's node for its name and for values computed there.
set -u -o pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../tests/e2e/lib.sh
. "$here/../tests/e2e/lib.sh"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

E2E_DEBUG=0
e2e_init
say "Starting a dyno: a network namespace with epmd, node app@dyno and erlfwd-server"
e2e_world
say "The dyno's epmd, seen from inside the dyno"
e2e_epmd_names dyno
say "One forwarded port: ssh -L $E2E_TUNNEL_PORT:127.0.0.1:9369 into the dyno"

say "Without erlfwd, the dyno is out of reach"
E2E_PRELOAD=0 e2e_erl_eval -sname "demo0" 'net_adm:ping(app@dyno)'
echo "net_adm:ping(app@dyno) -> $E2E_RESULT"

say "With erlfwd: LD_PRELOAD=build/liberlfwd.so ERLFWD_HOSTS=dyno ERLFWD_TUNNEL=127.0.0.1:$E2E_TUNNEL_PORT erl ..."
expr='{net_adm:names("dyno"),
       rpc:call(app@dyno, erlang, node, []),
       rpc:call(app@dyno, inet, gethostname, []),
       rpc:call(app@dyno, os, getpid, []),
       rpc:call(app@dyno, lists, sum, [lists:seq(1, 1000)])}'
e2e_erl_eval -sname "demo1" "$expr"
if [[ $E2E_RC -ne 0 || $E2E_RESULT != *app@dyno* ]]; then
	echo "demo: the remote call failed (rc $E2E_RC):" >&2
	printf '%s\n' "$E2E_ERR" >&2
	exit 1
fi
echo "{net_adm:names(\"dyno\"), node(), hostname, os pid, sum(1..1000)} computed on app@dyno:"
echo "  $E2E_RESULT"
echo "(the node's real OS pid inside the dyno is ${E2E_NODE_PID[app@dyno]})"

say "erlfwd-server's log: one line per connection"
e2e_server_conn_lines

say "An interactive remote shell: erl -remsh app@dyno, typed into through tmux"
mapfile -t env < <(e2e_preload_env)
e2e_tmux_start remsh env "${env[@]}" erl -sname demo2 -setcookie "$E2E_COOKIE" -hidden -remsh app@dyno
e2e_tmux_wait remsh '\(app@dyno\)[0-9]+>' 30
e2e_tmux_send remsh '{node(), inet:gethostname()}.' Enter
e2e_tmux_wait remsh '\{app@dyno,\{ok,"dyno"\}\}' 15
e2e_tmux_screen remsh | grep -v '^$' | tail -n 6
echo
echo "demo: done: a node in the dyno answered through one forwarded port."
