#!/usr/bin/env bash
# t_carrier_resume: a session survives its carrier's drop with no nodedown
# and no byte lost.  The carriers go through a real OpenSSH exec channel
# into the lab dyno, `--via 'ssh root@dyno socat - TCP:127.0.0.1:9369'`, to
# the dyno's long-lived erlfwd-server (which keeps a lost carrier's session
# for --resume-window, 60 s by default).  Two sessions ride on it:
#   - `erlfwd run --via ... -- erl`: a hidden node that monitors app@dyno
#     (monitor_node, monitor_nodes), fetches 32 MiB binaries from it one
#     after the other (each checked against its MD5), and makes a small
#     rpc every 100 ms; app@dyno counts its own nodedowns;
#   - `erlfwd remsh --via ...`: IEx on app@dyno in a tmux pane.
# Every ssh of this scenario is killed with SIGKILL, and the dyno refuses
# new ssh connections for 10 s; then again, for 40 s (under the nodes' 60 s
# net_ticktime).  Each time both agents print "tunnel lost (...),
# resuming" then "tunnel back after N s, nothing lost"; the server logs the
# carriers lost and resumed.  At the end: no nodedown on either side, every
# 32 MiB binary arrived intact, no small rpc failed and they went on after
# each drop, and the IEx pane answers with no ^G.  Last, the server is
# restarted while the carrier is down: one line says the session was gone
# and how many connections ended, and the shell comes back by itself.
set -u -o pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=cli.sh
. "$(dirname "$0")/cli.sh"
# shellcheck source=resume.sh
. "$(dirname "$0")/resume.sh"
e2e_init
cli_require
e2e_require_cmd tmux iex elixir socat
E2E_COOKIE="resume-secret-$RANDOM$RANDOM"

e2e_dyno_start dyno
e2e_iex_node_start dyno app@dyno
e2e_server_start dyno
e2e_local_epmd_start
pid=${E2E_NODE_PID[app@dyno]}
umask 077
printf '%s\n' "$E2E_COOKIE" >"$E2E_TMP/cookie"
e2e_via dyno "socat - TCP:127.0.0.1:$E2E_SERVER_PORT"
via=$E2E_VIA
down="$E2E_TMP/proxy-dyno.sh.down"

resume_watcher_start "$via" 32

e2e_tmux_start remsh env ERL_EPMD_PORT="$E2E_LOCAL_EPMD" \
    "$CLI_BIN" remsh --via "$via" --cookie-file "$E2E_TMP/cookie"
e2e_tmux_wait remsh '^iex\(app@dyno\)1> ' 30
e2e_tmux_send remsh 'System.pid()' Enter
e2e_tmux_wait remsh "^\"$pid\"\$"

# drop N SECS: kill every carrier's ssh, refuse new ones for SECS, check
# that both sessions resume and nothing was lost.
drop() {
	local n=$1 secs=$2 pids
	pids=$(resume_ssh_pids)
	[[ -n $pids ]] || e2e_fail "drop $n: no ssh to kill"
	# shellcheck disable=SC2086 # one pid a word
	resume_kill "$n" $pids
	resume_back "$n" "$secs"
	e2e_tmux_send remsh "Enum.sum([$n, 40])" Enter
	e2e_tmux_wait remsh "^$(( n + 40 ))\$" 10
	e2e_log "ok: drop $n: the IEx pane answers on app@dyno, no ^G typed"
}

drop 1 10
drop 2 40
e2e_tmux_screen remsh >/dev/null
e2e_assert_eq 0 "$(e2e_count "$E2E_TMP/remsh.pane" "Shell process terminated")" \
    "the IEx shell never died"
# The rpcs go on after the second drop (one 32 MiB binary ahead of a
# small rpc on the node's one connection holds it a while).
sleep 3
resume_watcher_report
line=$RESUME_LINE
e2e_assert_match "$line" ' nodedown=0 ' "no nodedown on the local node"
e2e_assert_match "$line" ' remote_nodedown=0 ' "no nodedown on app@dyno"
e2e_assert_match "$line" ' big_bad=0 ' "every 32 MiB binary arrived with its MD5"
e2e_assert_match "$line" ' big_ok=([2-9]|[1-9][0-9]+) ' "32 MiB binaries went on across the drops"
e2e_assert_match "$line" ' small_bad=0 ' "no small rpc failed"
e2e_assert_match "$line" ' small_since_mark=([3-9]|[1-9][0-9]+)$' \
    "small rpcs went on after the last drop"
e2e_assert_eq 4 "$(e2e_count "$E2E_SERVER_LOG" "msg=carrier resumed ")" \
    "the server resumed each of the two sessions twice"
e2e_assert_eq 0 "$(e2e_count "$E2E_SERVER_LOG" "not resumed in time")" \
    "no session expired"

# 3. A server that no longer has the session (restarted while the carrier
# was down): one line says the session was gone and how many connections
# ended with it, and the remote shell comes back by itself on a new one.
pids=$(resume_ssh_pids)
: >"$down"
# shellcheck disable=SC2086 # one pid a word
kill -KILL $pids
e2e_wait_until 20 "the remsh's agent to say the tunnel is lost" \
    resume_pane_at_least '^erlfwd: tunnel lost \(.*\), resuming$' 3
e2e_stop "$E2E_SERVER_PID"
e2e_wait_port_closed -n dyno "$E2E_SERVER_PORT"
e2e_server_start dyno
rm -f "$down"
e2e_wait_until 20 "the remsh's agent to say the session was gone" \
    resume_pane_at_least '^erlfwd: tunnel back after [0-9]+ s; the session was gone: [1-9][0-9]* connections ended$' 1
e2e_tmux_wait remsh '^erlfwd: app@dyno is back: a new remote shell' 30
e2e_tmux_send remsh 'Enum.sum([3, 40])' Enter
e2e_tmux_wait remsh '^43$' 10
e2e_log "ok: a restarted server: the session was gone, said once; a new shell answers"
cli_tmux_quit remsh
e2e_assert_true "app@dyno still runs" e2e_alive "$pid"
e2e_pass
