#!/usr/bin/env bash
# t_carrier_via: the whole session over one carrier through a real OpenSSH
# exec channel, `ssh root@dyno erlfwd-server --stdio` as `--via` (what
# `heroku run:inside DYNO "erlfwd-server --stdio"` is: ssh with the
# command's stdin and stdout as a byte pipe, no terminal, and no port
# forwarded at all):
#   - `names` lists the dyno's epmd, `doctor` passes its carrier step and the
#     whole path with the cookie, `run -- erl` makes an rpc to app@dyno, and
#     `remsh` opens IEx on app@dyno, typed into through tmux;
#   - when each command ends, its ssh and the dyno's erlfwd-server --stdio
#     end too, and so does the keeper that held its session;
#   - a command that prints a banner before the server's first frame (`echo
#     Welcome; exec erlfwd-server --stdio`): one line quoting it, exit 4, no
#     hang; doctor's carrier step fails quoting it, with its fix;
#   - a command that fails (the server is not where the command says):
#     exit 3, its stderr on ours prefixed `erlfwd: via: `; doctor's carrier
#     step fails with its status and says to run it by hand.
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=cli.sh
. "$(dirname "$0")/cli.sh"
e2e_init
cli_require
e2e_require_cmd tmux iex elixir
E2E_COOKIE="via-secret-$RANDOM$RANDOM"

# IEx's remote shell runs IEx on the remote node: give it Elixir's libraries,
# as a release has them.
elixir_lib=$(dirname "$(dirname "$(readlink -f "$(command -v elixir)")")")/lib
[[ -d $elixir_lib/iex/ebin ]] || e2e_skip "no IEx under $elixir_lib"
e2e_dyno_start dyno
e2e_node_start dyno app@dyno -pa "$elixir_lib"/*/ebin \
    -eval '{ok, _} = application:ensure_all_started(iex).'
e2e_local_epmd_start
pid=${E2E_NODE_PID[app@dyno]}
umask 077
printf '%s\n' "$E2E_COOKIE" >"$E2E_TMP/cookie"
e2e_via dyno
via=$E2E_VIA

# servers_in_dyno [KEEPER]: how many erlfwd-server --stdio processes run
# in the dyno (with KEEPER, keepers: the same file, named erlfwd-server).
servers_in_dyno() {
	local p n=0 want="$E2E_SERVER_BIN --stdio"
	[[ -n ${1:-} ]] && want="erlfwd-server --keeper-fd "
	for p in $(ip netns pids "$(e2e_ns dyno)" 2>/dev/null); do
		[[ $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null) == \
		    "$want"* ]] && n=$(( n + 1 ))
	done
	echo "$n"
}
# A session over: its --stdio processes and their keeper are gone.
no_server_left() {
	(( $(servers_in_dyno) == 0 && $(servers_in_dyno keeper) == 0 ))
}
# ssh_left: ssh clients of this scenario still running (through --via).
ssh_left() {
	local p
	for p in $(pgrep -x ssh); do
		tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q "$E2E_TMP" &&
		    return 0
	done
	return 1
}
gone_after() {
	e2e_wait_until 10 "the --via ssh and erlfwd-server --stdio to end after $1" \
	    e2e_not ssh_left
	e2e_wait_until 10 "erlfwd-server --stdio and its keeper to end after $1" \
	    no_server_left
	e2e_log "ok: after $1, no ssh, no erlfwd-server --stdio and no keeper are left"
}

# names: the dyno's own epmd, through the carrier.
version=$("$E2E_SERVER_BIN" --version)
cli_run names --via "$via"
e2e_assert_eq 0 "$CLI_RC" "names --via exits 0"
e2e_assert_eq "host dyno, $version, through a carrier over --via" \
    "$(head -n 1 <<<"$CLI_OUT")" "names: the host from INFO, over --via"
e2e_assert_eq "$(e2e_epmd_names dyno | grep '^name ' | LC_ALL=C sort)" \
    "$(tail -n +3 <<<"$CLI_OUT" | LC_ALL=C sort)" \
    "names: the node lines are the dyno's own epmd -names"
e2e_assert_eq "" "$CLI_ERR" "names: nothing on stderr"
# The --via command is someone else's program (ssh, heroku, kubectl): it
# gets no cookie from erlfwd's environment.
ERLFWD_COOKIE=via-secret-$RANDOM cli_run names --via "env >'$E2E_TMP/via.env'; exec $via"
e2e_assert_eq 0 "$CLI_RC" "names --via with ERLFWD_COOKIE set: exit 0"
e2e_assert_true "the --via command ran" test -s "$E2E_TMP/via.env"
e2e_assert_eq "" "$(grep '^ERLFWD_COOKIE=' "$E2E_TMP/via.env")" \
    "the --via command's environment has no ERLFWD_COOKIE"
# erlfwd-server --stdio shares stdin and stdout with whoever started it (a
# shell, sshd's session): it leaves them blocking, as it found them.
# Through its keeper (the default), and serving the carrier itself (no
# resume, no keeper).
flags=$( (sleep 0.3) | { "$E2E_SERVER_BIN" --stdio 2>/dev/null >/dev/null
	python3 -c 'import fcntl, os; print(fcntl.fcntl(0, fcntl.F_GETFL) & os.O_NONBLOCK)'; })
e2e_assert_eq 0 "$flags" "--stdio leaves its stdin without O_NONBLOCK"
flags=$( (sleep 0.3) | { "$E2E_SERVER_BIN" --stdio --resume-window 0 \
	2>/dev/null >/dev/null
	python3 -c 'import fcntl, os; print(fcntl.fcntl(0, fcntl.F_GETFL) & os.O_NONBLOCK)'; })
e2e_assert_eq 0 "$flags" \
    "--stdio --resume-window 0 leaves its stdin without O_NONBLOCK"

# The session's end races the INFO stream's last bytes in the server: a
# few more tries, each silent (erlfwd-server warned "outcome=shutdown").
for i in 1 2 3 4 5 6; do
	cli_run names --via "$via"
	e2e_assert_eq "0:" "$CLI_RC:$CLI_ERR" "names --via, try $i: exit 0, nothing on stderr"
done
gone_after names

# doctor: the carrier step, then the whole path with the cookie.
ERL_EPMD_PORT=$E2E_LOCAL_EPMD cli_run doctor --via "$via" --cookie-file "$E2E_TMP/cookie"
e2e_assert_eq 0 "$CLI_RC" "doctor --via exits 0"
e2e_assert_match "$(head -n 1 <<<"$CLI_OUT")" '^ok +carrier +a carrier over --via is up$' \
    "doctor: the first step is the carrier, ok"
for step in tunnel server epmd node port cookie; do
	e2e_assert_match "$CLI_OUT" "(^|
)ok +$step " "doctor: step $step is ok"
done
e2e_assert_eq "the path works" "$(tail -n 1 <<<"$CLI_OUT")" "doctor: the path works"
gone_after doctor

# run -- erl: an rpc to app@dyno, from a node that knows only the agent.
ERL_EPMD_PORT=$E2E_LOCAL_EPMD cli_run run --via "$via" -- erl -sname "t$$" -setcookie "$E2E_COOKIE" \
    -hidden -noinput -eval '
	io:format("~s~n", [io_lib:print({rpc:call(app@dyno, os, getpid, []),
	    rpc:call(app@dyno, erlang, node, []), os:getenv("ERLFWD_TUNNEL")},
	    1, 100000, -1)]),
	halt().'
e2e_assert_eq 0 "$CLI_RC" "run --via -- erl exits 0"
# The preload finds the agent in ERLFWD_TUNNEL; library-free, its epmd
# module has it in its flags, and the node has no such variable.
agent_var='"127\.0\.0\.1:[0-9]+"'
[[ ${E2E_MODE:-} == libfree ]] && agent_var=false
e2e_assert_match "$CLI_OUT" "^\\{\"$pid\",app@dyno,$agent_var\\}\$" \
    "run: rpc reaches app@dyno (its pid, its node()) through the agent"
gone_after run

# remsh: IEx on app@dyno, typed into.
e2e_tmux_start remsh env ERL_EPMD_PORT="$E2E_LOCAL_EPMD" \
    "$CLI_BIN" remsh --via "$via" --cookie-file "$E2E_TMP/cookie"
e2e_tmux_wait remsh '^iex\(app@dyno\)1> ' 30
e2e_tmux_wait remsh "^erlfwd: remote shell on app@dyno through a carrier over --via \\(iex$CLI_MODE_NOTE, cookie from --cookie-file " 1
cli_mode_check "remsh --via"
e2e_tmux_send remsh 'System.pid()' Enter
e2e_tmux_wait remsh "^\"$pid\"\$"
e2e_log "ok: remsh: System.pid() is the dyno node's pid $pid"
e2e_tmux_send remsh 'IO.puts("sum=#{Enum.sum(1..1000)} on #{node()}")' Enter
e2e_tmux_wait remsh '^sum=500500 on app@dyno$'
e2e_log "ok: remsh: an expression evaluated on app@dyno"
e2e_assert_eq "1 1" "$(servers_in_dyno) $(servers_in_dyno keeper)" \
    "remsh: one erlfwd-server --stdio and one keeper in the dyno for the session"
cli_tmux_quit remsh
e2e_assert_eq 0 "$(cli_tmux_status remsh)" "remsh --via exits 0 with the shell"
gone_after remsh
e2e_assert_true "the remote node still runs" e2e_alive "$pid"

# A banner before the server's first frame: quoted, exit 4, quickly.
e2e_via dyno "echo Welcome to the dyno; exec $E2E_SERVER_BIN --stdio"
cli_run names --via "$E2E_VIA"
e2e_assert_eq 4 "$CLI_RC" "banner: exit 4"
cli_assert_one_line "banner"
e2e_assert_contains "$CLI_ERR" "Welcome to the dyno" "banner: the line quotes what the command printed"
e2e_assert_eq "" "$CLI_OUT" "banner: nothing on stdout"
e2e_assert_le "$CLI_MS" 10000 "banner: no hang (${CLI_MS} ms)"
gone_after "the banner"
ERL_EPMD_PORT=$E2E_LOCAL_EPMD cli_run doctor --via "$E2E_VIA"
e2e_assert_eq 4 "$CLI_RC" "banner: doctor exits 4"
e2e_assert_match "$(tail -n 2 <<<"$CLI_OUT" | head -n 1)" '^FAIL +carrier .*"Welcome to the dyno"' \
    "banner: doctor's carrier step fails, quoting it"
e2e_assert_match "$(tail -n 1 <<<"$CLI_OUT")" '^ +fix: .*(banner|motd)' \
    "banner: doctor's fix names the banner"
gone_after "doctor with the banner"

# A command that fails: its stderr, prefixed, and exit 3.
e2e_via dyno "/nonexistent/erlfwd-server --stdio"
cli_run names --via "$E2E_VIA"
e2e_assert_eq 3 "$CLI_RC" "failing command: exit 3"
e2e_assert_match "$CLI_ERR" '(^|
)erlfwd: via: [^
]*/nonexistent/erlfwd-server: No such file or directory' \
    "failing command: its stderr, prefixed 'erlfwd: via: '"
e2e_assert_match "$(tail -n 1 <<<"$CLI_ERR")" '^erlfwd: [^
]*status 127' "failing command: the last line gives its exit status"
e2e_assert_le "$CLI_MS" 10000 "failing command: no hang (${CLI_MS} ms)"
ERL_EPMD_PORT=$E2E_LOCAL_EPMD cli_run doctor --via "$E2E_VIA"
e2e_assert_eq 3 "$CLI_RC" "failing command: doctor exits 3"
e2e_assert_match "$(tail -n 2 <<<"$CLI_OUT" | head -n 1)" '^FAIL +carrier .*status 127' \
    "failing command: doctor's carrier step fails with its status"
e2e_assert_match "$(tail -n 1 <<<"$CLI_OUT")" '^ +fix: run the --via command by hand' \
    "failing command: doctor's fix says to run it by hand"
e2e_pass
