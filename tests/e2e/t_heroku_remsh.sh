#!/usr/bin/env bash
# t_heroku_remsh: scripts/heroku-remsh APP DYNO with a stand-in `heroku` on
# PATH whose ps:forward opens the same real OpenSSH forward into the dyno's
# namespace (and fails the first time), and whose config:get RELEASE_COOKIE
# prints the app's cookie.  heroku-remsh starts the forward again when it
# dies, waits for it, opens the remote shell with the app's cookie on no
# command line, and stops the forward when the shell ends: after ^G q, and
# after Ctrl-C (erl's BREAK menu, then abort).
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=cli.sh
. "$(dirname "$0")/cli.sh"
e2e_init
cli_require
e2e_require_cmd tmux ssh
E2E_COOKIE="heroku-secret-$RANDOM$RANDOM"

e2e_dyno_start dyno
e2e_node_start dyno app@dyno
e2e_server_start dyno
# Bring a tunnel up and down once: the harness's ssh keys and sshd_config.
e2e_tunnel_up dyno
e2e_tunnel_down dyno
e2e_local_epmd_start
lport=
e2e_free_port lport

# The stand-in Heroku CLI.
mkdir -p "$E2E_TMP/bin"
sed -e "s|@TMP@|$E2E_TMP|g" -e "s|@NS@|$(e2e_ns dyno)|g" \
    -e "s|@COOKIE@|$E2E_COOKIE|g" >"$E2E_TMP/bin/heroku" <<'STANDIN'
#!/usr/bin/env bash
# A stand-in for the Heroku CLI, for tests.
echo "$*" >>"@TMP@/heroku.calls"
case $1 in
ps:forward)
	spec=$2
	lport=${spec%%:*}
	rport=${spec#*:}
	echo $$ >>"@TMP@/forward.pids"
	# The first forward fails, as a dyno that is not up yet would.
	if [[ $(wc -l <"@TMP@/forward.pids") == 1 ]]; then
		echo "Error: dyno is not running yet" >&2
		exit 1
	fi
	exec ssh -F /dev/null -n -N -L "127.0.0.1:$lport:127.0.0.1:$rport" \
	    -o "ProxyCommand=ip netns exec @NS@ /usr/sbin/sshd -i -e -f @TMP@/sshd_config" \
	    -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
	    -o BatchMode=yes -o ExitOnForwardFailure=yes -o LogLevel=ERROR \
	    -o IdentitiesOnly=yes -i "@TMP@/client_key" root@dyno ;;
config:get)
	[[ $2 == RELEASE_COOKIE ]] && echo "@COOKIE@" ;;
*)
	echo "heroku stand-in: $1 is not faked" >&2
	exit 1 ;;
esac
STANDIN
chmod 755 "$E2E_TMP/bin/heroku"

forward_pids() {
	cat "$E2E_TMP/forward.pids" 2>/dev/null
}
forward_count() {
	forward_pids | grep -c .
}
forwards_at_least() {
	(( $(forward_count) >= $1 ))
}
forwards_gone() {
	local p
	for p in $(forward_pids); do
		e2e_alive "$p" && return 1
	done
	return 0
}

# session NAME: heroku-remsh myapp web.1 -- --erl, in tmux.
session() {
	e2e_tmux_start "$1" env PATH="$E2E_TMP/bin:$PATH" ERLFWD="$CLI_BIN" \
	    ERL_EPMD_PORT="$E2E_LOCAL_EPMD" ERLFWD_LOCAL_PORT="$lport" \
	    "$E2E_ROOT/scripts/heroku-remsh" myapp web.1 -- --erl
	e2e_tmux_wait "$1" '^\(app@dyno\)1> ' 30
}

session one
e2e_assert_eq 2 "$(forward_count)" "the failed forward was started again"
calls=$(<"$E2E_TMP/heroku.calls")
e2e_assert_contains "$calls" "ps:forward $lport:9369 -a myapp --dyno web.1" \
    "ps:forward maps the local port to the dyno's 9369, on web.1"
e2e_assert_contains "$calls" "config:get RELEASE_COOKIE -a myapp" \
    "the cookie comes from the app's config"
# shellcheck disable=SC2016 # a regex with a literal $
e2e_tmux_wait one 'cookie from \$ERLFWD_COOKIE' 1
e2e_tmux_send one 'os:getpid().' Enter
e2e_tmux_wait one "^\"${E2E_NODE_PID[app@dyno]}\"\$"
e2e_log "ok: the shell runs on app@dyno"
cli_assert_no_secret "$E2E_COOKIE" "$(cli_tmux_pid one)" "heroku-remsh"

# The forward dies: it comes back on the same port.
kill "$(forward_pids | tail -n 1)"
e2e_wait_until 15 "a third forward" forwards_at_least 3
e2e_wait_port "$lport" 15
e2e_log "ok: the forward was started again and listens on $lport"

cli_tmux_quit one
e2e_assert_eq 0 "$(cli_tmux_status one)" "heroku-remsh exits 0 after ^G q"
e2e_wait_until 5 "the forwards to stop" forwards_gone
e2e_wait_port_closed "$lport" 5
e2e_log "ok: after the shell, no forward runs and $lport is closed"

# Ctrl-C: erl's BREAK menu, then (a)bort; the forward goes too.
n=$(forward_count)
session two
e2e_assert_eq $(( n + 1 )) "$(forward_count)" "the second session started one forward"
e2e_tmux_send two C-c
e2e_tmux_wait two 'BREAK: \(a\)bort' 5
e2e_tmux_send two a Enter
e2e_wait_until 10 "heroku-remsh to exit after Ctrl-C" cli_tmux_dead two
e2e_log "heroku-remsh exited with $(cli_tmux_status two) after Ctrl-C, a"
e2e_wait_until 5 "the forwards to stop" forwards_gone
e2e_wait_port_closed "$lport" 5
e2e_log "ok: after Ctrl-C, no forward runs and $lport is closed"
e2e_assert_true "the remote node still runs" e2e_alive "${E2E_NODE_PID[app@dyno]}"
e2e_pass
