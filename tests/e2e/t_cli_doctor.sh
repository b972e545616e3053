#!/usr/bin/env bash
# t_cli_doctor: `erlfwd doctor` through the real OpenSSH forward walks the
# path and stops at the first broken step, each with its line, its one-line
# fix and its exit status, every run bounded by ERLFWD_TIMEOUT_MS per step:
# the whole path (0, ending with the shell step: the node's OTP and
# Elixir), a wrong cookie (1), no cookie (skipped, 0), a node that does not
# answer on its port (1), the node stopped (1, the others listed),
# epmd stopped (1), a non-erlfwd service behind the tunnel port, silent or
# answering (4), another protocol version (4), the server stopped behind the
# forward (4), the forward stopped (3).
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=cli.sh
. "$(dirname "$0")/cli.sh"
e2e_init
cli_require
E2E_COOKIE="doctor-secret-$RANDOM$RANDOM"
e2e_world
e2e_node_start dyno worker@dyno
tunnel=127.0.0.1:$E2E_TUNNEL_PORT
app_port=$(e2e_node_port dyno app)
worker_port=$(e2e_node_port dyno worker)
export ERLFWD_TIMEOUT_MS=2000 ERLFWD_TUNNEL=$tunnel
unset ERLFWD_COOKIE RELEASE_COOKIE
export HOME=$E2E_TMP/home	# no ~/.erlang.cookie unless we put one
mkdir -p "$HOME"

# doctor EXPECTED_RC STEP WHAT ARGS...: run doctor, check its status, its
# time, and that its last verdict is about STEP.
doctor() {
	local rc=$1 step=$2 what=$3
	shift 3
	cli_run doctor "$@"
	e2e_assert_eq "$rc" "$CLI_RC" "$what: exit status $rc"
	e2e_assert_le "$CLI_MS" 8000 "$what: done within the steps' bounds"
	e2e_assert_eq "" "$CLI_ERR" "$what: nothing on stderr"
	verdict=$(grep -E '^(ok|FAIL|skip) ' <<<"$CLI_OUT" | tail -n 1)
	e2e_assert_match "$verdict" "^(ok|FAIL|skip) +$step " "$what: the last step is $step"
}
# broken: the last two lines are FAIL and its fix.
broken() {
	e2e_assert_match "$(tail -n 2 <<<"$CLI_OUT" | head -n 1)" "^FAIL +$1 +$2" \
	    "the FAIL line says: $2"
	e2e_assert_match "$(tail -n 1 <<<"$CLI_OUT")" "^     fix: .*$3" \
	    "the fix line says: $3"
}

# The whole path, the cookie from the environment.
ERLFWD_COOKIE=$E2E_COOKIE doctor 0 shell "the path works" app
for step in library tunnel server epmd node port cookie shell; do
	e2e_assert_match "$CLI_OUT" "(^|
)ok +$step " "step $step is ok"
done
e2e_assert_contains "$CLI_OUT" "app@dyno answers on port $app_port through the tunnel" \
    "the port step names the node's full name and port"
e2e_assert_contains "$CLI_OUT" "app@dyno accepts the cookie from \$ERLFWD_COOKIE" \
    "the cookie step names where the cookie came from"
e2e_assert_eq "the path works" "$(tail -n 1 <<<"$CLI_OUT")" "the last line says the path works"
e2e_assert_not_contains "$CLI_OUT" "$E2E_COOKIE" "the cookie is not printed"

# A library the dynamic loader cannot preload into erl (here not an ELF
# file at all, as a glibc library is to a musl erl): by default the
# library-free mode, and the mode step says why; insisted on
# (ERLFWD_PRELOAD=on), a broken library step with the loader's words.
printf 'not an ELF object\n' >"$E2E_TMP/liberlfwd.so"
ERLFWD_LIB=$E2E_TMP/liberlfwd.so ERLFWD_COOKIE=$E2E_COOKIE doctor 0 shell \
    "a library erl cannot load" app
e2e_assert_match "$(grep -E '^(ok|FAIL|skip) +mode ' <<<"$CLI_OUT")" \
    "^ok +mode +library-free \\(the erl on \\\$PATH does not load liberlfwd.so" \
    "the mode step says the library-free mode, and why"
ERLFWD_PRELOAD=on ERLFWD_LIB=$E2E_TMP/liberlfwd.so ERLFWD_COOKIE=$E2E_COOKIE \
    doctor 5 library "the library insisted on" app
broken library ".*/erl does not load .*liberlfwd.so: .*cannot be preloaded" \
    "use --no-preload"
ERLFWD_COOKIE=$E2E_COOKIE doctor 0 shell "the library-free mode" app \
    --no-preload
e2e_assert_match "$(grep -E '^(ok|FAIL|skip) +mode ' <<<"$CLI_OUT")" \
    "^ok +mode +library-free \\(asked with --no-preload\\): -epmd_module erlfwd_epmd from /" \
    "the mode step says which mode and why"

# A wrong cookie, from a file.
printf 'not-the-cookie\n' >"$E2E_TMP/wrong"
doctor 1 cookie "wrong cookie" app@dyno --cookie-file "$E2E_TMP/wrong"
broken cookie "app@dyno rejected the cookie from --cookie-file $E2E_TMP/wrong" \
    "RELEASE_COOKIE"
e2e_assert_not_contains "$CLI_OUT" "not-the-cookie" "the wrong cookie is not printed"
e2e_assert_true "the node logged the rejected attempt" \
    e2e_file_has "$E2E_TMP/node-app@dyno.log" "Invalid challenge reply"

# No cookie anywhere: the cookie step is skipped, the rest works.
doctor 0 cookie "no cookie" app
e2e_assert_match "$CLI_OUT" "(^|
)skip +cookie +no cookie found" "no cookie: the cookie step is skipped"

# ~/.erlang.cookie is the last source.
printf '%s' "$E2E_COOKIE" >"$HOME/.erlang.cookie"
chmod 400 "$HOME/.erlang.cookie"
doctor 0 shell "the cookie in HOME" app
e2e_assert_contains "$CLI_OUT" "accepts the cookie from $HOME/.erlang.cookie" \
    "the cookie from ~/.erlang.cookie is used"

# Two nodes and no NODE: the walk stops before the ports, and says so.
doctor 0 port "two nodes, none named"
e2e_assert_match "$CLI_OUT" "(^|
)ok +node +2 registered: " "two nodes: both are listed"
e2e_assert_eq "the path works as far as it was checked" "$(tail -n 1 <<<"$CLI_OUT")" \
    "two nodes: the last line says the check was partial"

# The node is registered but does not answer on its port (stopped).
app_pid=${E2E_NODE_PID[app@dyno]}
kill -STOP "$app_pid"
doctor 1 port "a node that does not answer" app
broken port "app on port $app_port did not answer the handshake in 2000 ms" \
    "check the node"
kill -CONT "$app_pid"

# The node gone: not registered, the others are listed.
e2e_stop "$app_pid"
e2e_wait_until 10 "app to leave epmd" e2e_not e2e_node_registered dyno app
doctor 1 node "node stopped" app
broken node "app is not registered on dyno; registered: worker \\(port $worker_port\\)" \
    "start it"

# A bare NODE-less doctor with the one node left checks it.
doctor 0 shell "the only node, by default"
e2e_assert_contains "$CLI_OUT" "worker@dyno accepts the cookie" "the only node is worker"

# epmd gone.
e2e_stop "$E2E_EPMD_PID"
e2e_wait_port_closed -n dyno 4369
doctor 1 epmd "epmd stopped" worker
broken epmd "no epmd on dyno port 4369" "start the node"

# Something that is not erlfwd-server on the tunnel port: the laptop's epmd
# (it takes our preamble for a request length and hangs up) ...
doctor 4 server "the laptop's epmd behind the port" --tunnel "127.0.0.1:$E2E_LOCAL_EPMD"
broken server "127.0.0.1:$E2E_LOCAL_EPMD accepts connections but closes them without a word" \
    "start erlfwd-server on the remote host"
e2e_assert_match "$CLI_OUT" "(^|
)ok +tunnel " "the laptop's epmd: the tunnel step is ok"

# ... a service that listens and never says a word ...
mute_port=
e2e_free_port mute_port
e2e_spawn mute socat "TCP-LISTEN:$mute_port,bind=127.0.0.1,reuseaddr,fork" \
    "SYSTEM:cat >/dev/null"
e2e_wait_port "$mute_port"
doctor 4 server "a silent service" --tunnel "127.0.0.1:$mute_port"
broken server "127.0.0.1:$mute_port accepts connections but sent no erlfwd reply in 20[0-9][0-9] ms" \
    "forward the port erlfwd-server listens on"

# ... an HTTP-speaking service ...
# responder NAME PRINTF_FORMAT: a script that reads the 10-byte preamble and
# answers with the bytes of the format.
responder() {
	printf '#!/bin/sh\nhead -c 10 >/dev/null\nprintf %q\n' "$2" >"$E2E_TMP/$1.sh"
	chmod 755 "$E2E_TMP/$1.sh"
}
http_port=
e2e_free_port http_port
responder http 'HTTP/1.1 400 Bad Request\r\n\r\n'
e2e_spawn http socat "TCP-LISTEN:$http_port,bind=127.0.0.1,reuseaddr,fork" \
    "EXEC:$E2E_TMP/http.sh"
e2e_wait_port "$http_port"
doctor 4 server "an HTTP service" --tunnel "127.0.0.1:$http_port"
broken server "127.0.0.1:$http_port is not erlfwd-server \\(it answered 'HTTP/1.1 400 Bad Request'\\)" \
    "forward the port erlfwd-server listens on"

# ... and an erlfwd-server of another protocol version.
v2_port=
e2e_free_port v2_port
responder v3 'EFWD\003\003\000\000\000\000'
e2e_spawn v3 socat "TCP-LISTEN:$v2_port,bind=127.0.0.1,reuseaddr,fork" \
    "EXEC:$E2E_TMP/v3.sh"
e2e_wait_port "$v2_port"
doctor 4 server "protocol version 3" --tunnel "127.0.0.1:$v2_port"
broken server "the erlfwd-server on 127.0.0.1:$v2_port speaks protocol version 3, this erlfwd speaks 1" \
    "install the same erlfwd release"

# The server gone: the forward accepts and closes.
e2e_stop "$E2E_SERVER_PID"
e2e_wait_port_closed -n dyno 9369
doctor 4 server "server stopped"
broken server "$tunnel accepts connections but closes them without a word" \
    "start erlfwd-server on the remote host"

# The forward gone.
e2e_tunnel_down dyno
doctor 3 tunnel "forward stopped"
broken tunnel "nothing is listening on $tunnel" \
    "start \`heroku ps:forward $E2E_TUNNEL_PORT -a APP\`"
e2e_pass
