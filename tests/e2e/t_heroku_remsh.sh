#!/usr/bin/env bash
# t_heroku_remsh: scripts/heroku-remsh on a Cedar app, end to end, with the
# stand-in Heroku CLI (heroku-standin) on PATH.  The dyno runs the classic
# buildpack's slug: bin/compile builds it, .profile.d starts erlfwd-server
# at boot (DYNO=web.1), beside a node with IEx.  heroku-remsh myapp finds
# the generation (apps:info --json) and the dyno (ps --json) itself, takes
# the cookie from config:get RELEASE_COOKIE (on no command line), starts
# `heroku ps:socks` and reaches IEx on the node through ONE SOCKS5 CONNECT:
# the whole session is exactly one SSH connection into the dyno (counted by
# the dyno's sshd).  After the shell ends (^G q, Ctrl-C, the terminal
# closed) no heroku, ssh or socat process is left: the CLI swallows the
# first SIGTERM and gets a second.  While the CLI establishes credentials
# heroku-remsh shows progress; a CLI that dies is started again with a
# progress line, and the session resumes through it (the same shell);
# port 1080 taken is said at once; taken by a local user
# while the CLI restarts, the agent's carriers never reach it (heroku-remsh
# checks whose the listener is before each: ss, lsof or /proc) and the
# session ends with one line; --forward (ps:forward)
# and --names work too; erlfwd doctor through a ps:forward the dyno refuses
# says the forward has probably just exited, while ps:socks survives that
# refusal.
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=cli.sh
. "$(dirname "$0")/cli.sh"
# shellcheck source=heroku.sh
. "$(dirname "$0")/heroku.sh"
e2e_init
cli_require
e2e_require_cmd tmux ssh iex elixir make cc setsid setpriv python3
E2E_COOKIE="cedar-secret-$RANDOM$RANDOM"
host=d1e8a7b2
node=app@$host

# The slug, built by the classic buildpack.
slug=$E2E_TMP/slug
mkdir -p "$slug" "$E2E_TMP/cache" "$E2E_TMP/env"
"$E2E_ROOT/scripts/heroku-buildpack/bin/compile" "$slug" "$E2E_TMP/cache" \
    "$E2E_TMP/env" >"$E2E_TMP/compile.log" 2>&1 ||
    e2e_fail "bin/compile failed" "$(tail -n 5 "$E2E_TMP/compile.log")"

# The dyno boots: the node, then the profile starts erlfwd-server.
e2e_dyno_create cedar "$host"
e2e_epmd_start cedar
heroku_iex_node cedar "$node"
# shellcheck disable=SC2016 # expanded by the dyno's bash
e2e_dyno_spawn cedar boot env HOME="$slug" DYNO=web.1 bash -c '
	cd "$HOME" || exit 1
	for f in .profile.d/*.sh; do . "$f"; done
	exec sleep 600'
e2e_wait_port -n cedar 9369

heroku_init
heroku_app myapp cedar
heroku_config myapp RELEASE_COOKIE "$E2E_COOKIE"
heroku_dyno myapp web.1 cedar
e2e_local_epmd_start
prompt=$(heroku_prompt "$node")

# What one SSH connection into the dyno costs here (the handshake every
# connection through ps:forward/ps:socks pays): logged, the median of 5.
mapfile -t ssh_args <"$E2E_TMP/heroku/apps/myapp/dynos/web.1/ssh"
ms=()
for i in 1 2 3 4 5; do
	t0=${EPOCHREALTIME/./}
	ssh -o LogLevel=ERROR "${ssh_args[@]}" true </dev/null ||
	    e2e_fail "ssh into the dyno failed"
	ms+=($(( (${EPOCHREALTIME/./} - t0) / 1000 )))
done
e2e_log "one SSH connection into the dyno (ssh ... true): $(printf '%s\n' "${ms[@]}" |
    sort -n | sed -n 3p) ms, the median of ${ms[*]} ms"
: >"$E2E_TMP/sshd-cedar.count"

# session NAME [ARGS...]: heroku-remsh ARGS (default: myapp) in tmux.
session() {
	local s=$1
	shift
	(( $# )) || set -- myapp
	e2e_tmux_start "$s" env PATH="$HEROKU_BIN:$PATH" ERLFWD="$CLI_BIN" \
	    ERL_EPMD_PORT="$E2E_LOCAL_EPMD" \
	    HEROKU_STANDIN_CREDENTIALS_S="$HEROKU_STANDIN_CREDENTIALS_S" \
	    "$E2E_ROOT/scripts/heroku-remsh" "$@"
}
calls() { cat "$E2E_TMP/heroku/calls" 2>/dev/null; }
socks_starts() { calls | grep -c '^ps:socks '; }
socks_more_than() { (( $(socks_starts) > $1 )); }

# 1. A whole session, left with ^G q; the CLI takes 6 s to establish its
# credentials (12-51 s for real): heroku-remsh shows its progress.
HEROKU_STANDIN_CREDENTIALS_S=6 session one
e2e_tmux_wait one '^heroku-remsh: waiting for heroku ps:socks: [0-9]+ s \(Establishing credentials' 15
e2e_tmux_wait one "$prompt" 60
e2e_tmux_send one 'System.pid()' Enter
e2e_tmux_wait one "^\"${E2E_NODE_PID[$node]}\"\$" 10
e2e_tmux_send one 'Node.list(:hidden) |> length()' Enter
e2e_tmux_wait one '^1$' 10
e2e_log "ok: IEx on $node through heroku ps:socks"
cli_mode_check "heroku-remsh (Cedar)"
c=$(calls)
e2e_assert_contains "$c" "apps:info -a myapp --json" "the generation from apps:info --json"
e2e_assert_contains "$c" "ps -a myapp --json" "the dyno from ps --json"
e2e_assert_contains "$c" "config:get RELEASE_COOKIE -a myapp" "the cookie from config:get"
e2e_assert_contains "$c" "ps:socks --dyno web.1 -a myapp" "ps:socks on web.1, the first web dyno"
e2e_assert_not_contains "$c" "ps:forward" "no ps:forward"
cli_assert_no_secret "$E2E_COOKIE" "$(cli_tmux_pid one)" "heroku-remsh (Cedar)"
e2e_assert_eq 1 "$(heroku_ssh_count cedar)" "the session so far: one SSH connection into the dyno"
cli_tmux_quit one
e2e_assert_eq 0 "$(cli_tmux_status one)" "heroku-remsh exits 0 after ^G q"
e2e_assert_eq 1 "$(heroku_ssh_count cedar)" "the whole session: exactly one SSH connection into the dyno"
heroku_none_left "after ^G q"
e2e_assert_true "the node still runs" e2e_alive "${E2E_NODE_PID[$node]}"

# 2. Ctrl-C: the BREAK menu, then (a)bort.
session two
e2e_tmux_wait two "$prompt" 60
e2e_tmux_send two C-c
e2e_tmux_wait two 'BREAK: \(a\)bort' 10
e2e_tmux_send two a Enter
e2e_wait_until 15 "heroku-remsh to exit after Ctrl-C" cli_tmux_dead two
heroku_none_left "after Ctrl-C"
e2e_assert_eq 2 "$(heroku_ssh_count cedar)" "the second session: one more SSH connection"

# 3. The terminal closed under the shell (SIGHUP).
session three
e2e_tmux_wait three "$prompt" 60
tmux -L "$E2E_TMUX_SOCK" kill-session -t three
heroku_none_left "after the terminal was closed"
e2e_assert_eq 3 "$(heroku_ssh_count cedar)" "the third session: one more SSH connection"

# 4. The CLI dies mid-session: started again, with a progress line.
session four
e2e_tmux_wait four "$prompt" 60
n=$(socks_starts)
pid=$(<"$E2E_TMP/heroku/socks.pid")
e2e_assert_true "ps:socks runs (pid $pid)" e2e_alive "$pid"
kill -KILL "$pid"
e2e_tmux_wait four '^heroku-remsh: heroku ps:socks exited \(137\) after [0-9]+ s; starting it again' 15
e2e_wait_until 15 "ps:socks to be started again" socks_more_than "$n"
e2e_log "ok: the CLI was started again after it died"
n=$(heroku_ssh_count cedar)
# erlfwd-server on the dyno kept the session: the same shell goes on.
e2e_tmux_wait four 'erlfwd: tunnel back after [0-9]+ s, nothing lost' 30
e2e_assert_eq $(( n + 1 )) "$(heroku_ssh_count cedar)" \
    "the carrier came back through the new CLI: one more SSH connection"
e2e_tmux_send four 'Enum.sum([40, 2])' Enter
e2e_tmux_wait four '^42$' 10
e2e_assert_eq 0 "$(e2e_tmux_screen four | grep -c 'is back: a new remote shell')" \
    "the session resumed: the same remote shell, not a new one"
e2e_log "ok: the same shell answers in the same pane"
e2e_assert_eq "" "$(e2e_tmux_screen four | grep -E '^[[:space:]]+(erlfwd|heroku-remsh): ')" \
    "no status line is indented (a staircase)"
cli_tmux_quit four
heroku_none_left "after the restarted CLI's session"
e2e_assert_not_contains "$(cat "$E2E_TMP/heroku/cookie-seen" 2>/dev/null)" "ps:socks" \
    "ps:socks (every start of it) was handed no ERLFWD_COOKIE"

# 4b. The CLI dies and a local user (nobody) takes its port before the CLI
# is back (hardening III finding 4): the agent, reconnecting, must not hand
# the session to that impostor, and heroku-remsh ends the session once the
# CLI cannot listen again, with one line.  The impostor answers SOCKS5 as
# the CLI would and logs every connection it gets, with its first bytes.
session hijack
e2e_tmux_wait hijack "$prompt" 60
# Another uid where the system's python3 lets it run (a python3 of root's
# own, pyenv's, may not), else ours: what is checked is whose process
# listens, not whose uid.
impostor_as=(python3)
[[ -x /usr/bin/python3 ]] &&
    impostor_as=(setpriv --reuid nobody --regid nogroup --clear-groups /usr/bin/python3)
# shellcheck disable=SC2016 # a Python program
e2e_spawn impostor "${impostor_as[@]}" -c '
import socket, sys, time
port = int(sys.argv[1])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
while True:
    try:
        s.bind(("127.0.0.1", port))
        break
    except OSError:
        time.sleep(0.005)
s.listen(16)
print("bound", flush=True)
while True:
    c, _ = s.accept()
    c.settimeout(3)
    got = b""
    try:
        got = c.recv(3)
        c.sendall(b"\x05\x00")
        got += c.recv(64)
        c.sendall(b"\x05\x00\x00\x01\x7f\x00\x00\x01\x00\x00")
        got += c.recv(256)
    except OSError:
        pass
    print("connection " + got.hex(), flush=True)
    c.close()
' "$HEROKU_STANDIN_SOCKS_PORT"
impostor=$E2E_LAST_PID
n=$(socks_starts)
kill -KILL "$(<"$E2E_TMP/heroku/socks.pid")"
e2e_wait_count 10 "$E2E_TMP/impostor.log" bound 1
e2e_log "the impostor (${impostor_as[*]}) holds 127.0.0.1:$HEROKU_STANDIN_SOCKS_PORT now"
e2e_wait_until 15 "ps:socks to be started again" socks_more_than "$n"
e2e_wait_until 30 "heroku-remsh to end the session" cli_tmux_dead hijack
screen=$(e2e_tmux_screen hijack)
e2e_log "heroku-remsh's last lines: $(grep -E '^(heroku-remsh|erlfwd): ' <<<"$screen" | tail -n 3)"
e2e_assert_eq 3 "$(cli_tmux_status hijack)" "the port taken during a restart: exit 3"
e2e_assert_match "$screen" "heroku-remsh: heroku ps:socks cannot listen again: 127\\.0\\.0\\.1:$HEROKU_STANDIN_SOCKS_PORT is taken" \
    "the port taken during a restart: one line says why the session ends"
e2e_assert_eq 0 "$(e2e_count "$E2E_TMP/impostor.log" connection)" \
    "the impostor on the port got no connection: $(grep connection "$E2E_TMP/impostor.log" | head -n 1)"
heroku_none_left "after the port was taken during a restart"

# 4c. Each way heroku-remsh has of telling who listens (ss, lsof, /proc),
# tried on the connection it makes for each carrier (erlfwd's --via
# command, `heroku-remsh __carrier`): the impostor's port is refused with
# one line and no connection; a CLI's port carries INFO to erlfwd-server.
# With none of them (none), it cannot tell, and connects.
conn_work=$E2E_TMP/conn-work
mkdir -p "$conn_work"
e2e_spawn holder sleep 600
echo "$E2E_LAST_PID" >"$conn_work/cli.pid"
# carrier METHOD [INPUT]: the connection, with INPUT (printf escapes) on its
# stdin; CONN_OUT and CONN_RC.
carrier() {
	# shellcheck disable=SC2059 # INPUT is a printf format
	CONN_OUT=$(printf "${2:-}" | ERLFWD_HEROKU_OWNER=$1 timeout 20 \
	    "$E2E_ROOT/scripts/heroku-remsh" __carrier socks \
	    "$HEROKU_STANDIN_SOCKS_PORT" 9369 "$conn_work" 2>&1 | tr -d '\000')
	CONN_RC=$?
	rm -f "$conn_work/said"
}
methods=(ss proc)
command -v lsof >/dev/null && methods+=(lsof)
for m in "${methods[@]}"; do
	carrier "$m"
	e2e_log "$m, the impostor's port: rc $CONN_RC: $CONN_OUT"
	e2e_assert_eq 1 "$CONN_RC" "$m: the impostor's port is refused"
	e2e_assert_contains "$CONN_OUT" "127.0.0.1:$HEROKU_STANDIN_SOCKS_PORT is held by " \
	    "$m: one line says it is held by another"
done
e2e_assert_eq 0 "$(e2e_count "$E2E_TMP/impostor.log" connection)" \
    "the impostor got no connection from any of them"
carrier none
e2e_assert_eq 1 "$(e2e_count "$E2E_TMP/impostor.log" connection)" \
    "none: who listens cannot be told, and the impostor gets the connection"
e2e_stop "$impostor"
e2e_wait_port_closed "$HEROKU_STANDIN_SOCKS_PORT"
e2e_spawn conn-cli "$HEROKU_BIN/heroku" ps:socks --dyno web.1 -a myapp
echo "$E2E_LAST_PID" >"$conn_work/cli.pid"
e2e_wait_until 15 "ps:socks to start" e2e_file_has "$E2E_TMP/conn-cli.log" \
    "SOCKSv5 proxy server started"
for m in "${methods[@]}"; do
	carrier "$m" "$(e2e_frame 3 0 0)"
	e2e_assert_eq 0 "$CONN_RC" "$m: the CLI's port is taken"
	e2e_assert_contains "$CONN_OUT" "version=" "$m: INFO answered through it"
done
kill -KILL "$(<"$E2E_TMP/heroku/socks.pid")"
e2e_wait_port_closed "$HEROKU_STANDIN_SOCKS_PORT"

# 5. Port 1080 (here the stand-in's) taken: said at once, nothing started.
e2e_spawn squatter socat "TCP-LISTEN:$HEROKU_STANDIN_SOCKS_PORT,bind=127.0.0.1,reuseaddr,fork" SYSTEM:true
e2e_wait_port "$HEROKU_STANDIN_SOCKS_PORT"
n=$(socks_starts)
t0=${EPOCHREALTIME/./}
out=$(PATH="$HEROKU_BIN:$PATH" ERLFWD="$CLI_BIN" timeout 20 \
    "$E2E_ROOT/scripts/heroku-remsh" myapp 2>&1 </dev/null)
rc=$?
ms=$(( (${EPOCHREALTIME/./} - t0) / 1000 ))
e2e_log "heroku-remsh with the port taken: rc $rc in $ms ms: $out"
e2e_assert_eq 3 "$rc" "port taken: exit 3"
e2e_assert_contains "$out" "127.0.0.1:$HEROKU_STANDIN_SOCKS_PORT is taken" "port taken: said so"
e2e_assert_le "$ms" 3000 "port taken: said at once"
e2e_assert_eq "$n" "$(socks_starts)" "port taken: no ps:socks started"
e2e_stop "$E2E_LAST_PID"
e2e_wait_port_closed "$HEROKU_STANDIN_SOCKS_PORT"

# 6. --names, through the same one connection, by erlfwd.bash's alias.
# shellcheck disable=SC2016 # expanded by the inner bash
out=$(PATH="$HEROKU_BIN:$PATH" ERLFWD="$CLI_BIN" timeout 60 bash -c \
    '. "$1" && remsh-heroku --names myapp' _ "$E2E_ROOT/scripts/erlfwd.bash" \
    2>"$E2E_TMP/names.err" </dev/null)
e2e_assert_eq 0 "$?" "remsh-heroku --names (erlfwd.bash's alias): exit 0"
e2e_assert_contains "$out" "name app at port $(e2e_node_port cedar app)" "--names lists the node"
heroku_none_left "after --names"

# 7. --forward: ps:forward, then the same session.
lport=
e2e_free_port lport
n=$(heroku_ssh_count cedar)
e2e_tmux_start five env PATH="$HEROKU_BIN:$PATH" ERLFWD="$CLI_BIN" \
    ERL_EPMD_PORT="$E2E_LOCAL_EPMD" ERLFWD_LOCAL_PORT="$lport" \
    "$E2E_ROOT/scripts/heroku-remsh" --forward myapp web.1
e2e_tmux_wait five "$prompt" 60
e2e_assert_contains "$(calls)" "ps:forward $lport:9369 --dyno web.1 -a myapp" \
    "--forward: ps:forward maps the local port to the dyno's 9369"
cli_tmux_quit five
e2e_assert_eq $(( n + 1 )) "$(heroku_ssh_count cedar)" \
    "--forward: one carrier, so one SSH connection for the session too"
heroku_none_left "after the --forward session"
e2e_assert_true "the node still runs" e2e_alive "${E2E_NODE_PID[$node]}"

# 8. erlfwd doctor through a ps:forward the dyno refuses (no erlfwd-server
# there): the forward takes the connection, closes it and exits; doctor
# says that, with the carrier's first try and without (ERLFWD_CARRIER=off).
for p in $(ip netns pids "$(e2e_ns cedar)"); do
	[[ $(cat "/proc/$p/comm" 2>/dev/null) == erlfwd-server ]] && kill "$p"
done
e2e_wait_port_closed -n cedar 9369
for mode in on off; do
	fport=
	e2e_free_port fport
	e2e_spawn "forward-$mode" "$HEROKU_BIN/heroku" ps:forward "$fport:9369" --dyno web.1 -a myapp
	fpid=$E2E_LAST_PID
	e2e_wait_until 15 "ps:forward on $fport" e2e_file_has "$E2E_TMP/forward-$mode.log" "Use CTRL+C"
	# Off: the server step's connection is the one refused (4).  On: the
	# carrier's try was, and the forward may be gone (3) or going (4).
	if [[ $mode == off ]]; then
		ERLFWD_CARRIER=off cli_run doctor --tunnel "127.0.0.1:$fport"
		e2e_assert_eq 4 "$CLI_RC" "doctor through a dying ps:forward (carrier off): exit 4"
	else
		cli_run doctor --tunnel "127.0.0.1:$fport"
		e2e_assert_match "$CLI_RC" '^[34]$' "doctor through a dying ps:forward (carrier on): exit 3 or 4"
	fi
	e2e_assert_contains "$CLI_OUT" "so it has probably just exited" \
	    "doctor (carrier $mode): ps:forward has probably just exited"
	e2e_wait_until 5 "the stand-in ps:forward to exit" e2e_not e2e_alive "$fpid"
	e2e_log "ok: the stand-in ps:forward exited after the refused connection, as the CLI does"
done

# 9. ps:socks survives the same refusal: it answers "05 02" and EOF, which
# erlfwd reads as the proxy's refusal, and goes on running.
e2e_spawn socks-refused "$HEROKU_BIN/heroku" ps:socks --dyno web.1 -a myapp
spid=$E2E_LAST_PID
e2e_wait_until 15 "ps:socks to start" e2e_file_has "$E2E_TMP/socks-refused.log" "SOCKSv5 proxy server started"
cli_run doctor --tunnel "socks5://127.0.0.1:$HEROKU_STANDIN_SOCKS_PORT?server=9369"
e2e_assert_ne 0 "$CLI_RC" "doctor through ps:socks with no erlfwd-server on the dyno: fails"
e2e_assert_contains "$CLI_OUT$CLI_ERR" "not allowed by ruleset" \
    "the stand-in's refusal (05 02, EOF) is read as the proxy's refusal"
e2e_assert_true "ps:socks still runs after the refused CONNECT" e2e_alive "$spid"
e2e_pass
